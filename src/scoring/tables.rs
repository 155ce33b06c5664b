//! The two weight tables of SCORING.md §1, parsed from their gittensor JSON
//! text. Reading the files is the caller's job; this only parses.
//!
//! Parsing is strict (SCORING.md §11.9.6): 2.0.7 answers a table it cannot
//! use with `{}` or skips the entries it cannot read, which silently hands
//! every miner's reward to uid 0. Here a table that is not a 2.0.7 table (not
//! an object, empty, or an entry 2.0.7 would skip or misread) is an error
//! naming the entries, so the caller can refuse it and keep the last good one.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;
use time::OffsetDateTime;

use super::{parse_time, Error, DEFAULT_PROGRAMMING_LANGUAGE_WEIGHT};

/// Entries named in an error before "and N more".
const NAMED_ENTRIES: usize = 5;

/// One entry of `master_repositories.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct MasterRepository {
    /// The repository's weight (`repo_weight_multiplier` before rounding).
    pub weight: f64,
    /// When set, the repository is inactive and merges from then on are skipped.
    pub inactive_at: Option<OffsetDateTime>,
    /// Globs of base/head branches accepted besides the default branch.
    pub additional_acceptable_branches: Vec<String>,
}

/// The master repositories, keyed by lower-cased `owner/name`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MasterRepositories {
    repos: HashMap<String, MasterRepository>,
}

/// How a table changed from one reading to the next: the entries added,
/// removed, and changed (a new weight, or another field of the entry).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableDiff {
    /// Keys only in the new table.
    pub added: BTreeSet<String>,
    /// Keys only in the old table.
    pub removed: BTreeSet<String>,
    /// Keys in both whose entry differs.
    pub changed: BTreeSet<String>,
}

impl TableDiff {
    /// Whether the two tables hold the same entries.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    fn of<V: PartialEq>(old: &HashMap<String, V>, new: &HashMap<String, V>) -> TableDiff {
        let mut diff = TableDiff::default();
        for (key, value) in new {
            match old.get(key) {
                None => {
                    diff.added.insert(key.clone());
                }
                Some(before) if before != value => {
                    diff.changed.insert(key.clone());
                }
                Some(_) => {}
            }
        }
        diff.removed = old
            .keys()
            .filter(|k| !new.contains_key(*k))
            .cloned()
            .collect();
        diff
    }
}

impl std::fmt::Display for TableDiff {
    /// `2 added, 1 removed, 17 re-weighted`, naming up to a few of each.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let part = |n: &BTreeSet<String>, what: &str| {
            let names: Vec<String> = n.iter().take(3).map(|k| format!("{k:?}")).collect();
            let more = if n.len() > 3 { ", ..." } else { "" };
            if n.is_empty() {
                format!("0 {what}")
            } else {
                format!("{} {what} ({}{more})", n.len(), names.join(", "))
            }
        };
        write!(
            f,
            "{}, {}, {}",
            part(&self.added, "added"),
            part(&self.removed, "removed"),
            part(&self.changed, "re-weighted")
        )
    }
}

/// Parses `text` as a JSON object with at least one entry.
fn object(text: &str, what: &str) -> Result<serde_json::Map<String, Value>, Error> {
    let value: Value = serde_json::from_str(text).map_err(|e| Error::Json {
        what: what.to_string(),
        message: e.to_string(),
    })?;
    let Value::Object(map) = value else {
        return Err(Error::NotAnObject {
            what: what.to_string(),
        });
    };
    if map.is_empty() {
        return Err(Error::Empty {
            what: what.to_string(),
        });
    }
    Ok(map)
}

/// The error for the entries that failed, with `hint` when they look like
/// a later release's table.
fn refuse(what: &str, bad: Vec<(String, String)>, later_format: bool) -> Error {
    let total = bad.len();
    let mut named: Vec<String> = bad
        .into_iter()
        .take(NAMED_ENTRIES)
        .map(|(key, why)| format!("{key:?}: {why}"))
        .collect();
    if total > NAMED_ENTRIES {
        named.push(format!("and {} more", total - NAMED_ENTRIES));
    }
    Error::Entries {
        what: what.to_string(),
        count: total,
        entries: named.join("; "),
        later_format,
    }
}

/// A JSON number as 2.0.7 reads it; anything else (a string, a bool, an
/// object) is what 2.0.7 would skip or misread (`float(True)` is 1.0).
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

impl MasterRepositories {
    /// Parses the gittensor 2.0.7 format. `what` names the source in errors.
    ///
    /// Keys are lower-cased (a later duplicate wins, as 2.0.7's dict
    /// comprehension). Every entry must be an object with a numeric
    /// `weight`, an `inactiveAt` that is null or a timestamp, and
    /// `additional_acceptable_branches` that is null or a list of strings;
    /// other keys are ignored, as 2.0.7 ignores them. A table that breaks
    /// this, or is empty, is an error naming the entries.
    pub fn parse(text: &str, what: &str) -> Result<Self, Error> {
        let map = object(text, what)?;
        let mut repos = HashMap::with_capacity(map.len());
        let mut bad = Vec::new();
        let mut later_format = false;
        for (name, entry) in map {
            match parse_repo_entry(&entry) {
                Ok(repo) => {
                    repos.insert(name.to_lowercase(), repo);
                }
                Err(why) => {
                    // Later releases describe a repository without a weight.
                    later_format |= entry.is_object() && entry.get("weight").is_none();
                    bad.push((name, why));
                }
            }
        }
        if !bad.is_empty() {
            return Err(refuse(what, bad, later_format));
        }
        Ok(MasterRepositories { repos })
    }

    /// The entry for a lower-cased `owner/name`.
    pub fn get(&self, key: &str) -> Option<&MasterRepository> {
        self.repos.get(key)
    }

    /// Whether the lower-cased `owner/name` is a master repository with no `inactiveAt`.
    pub fn is_active(&self, key: &str) -> bool {
        self.repos.get(key).is_some_and(|r| r.inactive_at.is_none())
    }

    /// Number of repositories.
    pub fn len(&self) -> usize {
        self.repos.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.repos.is_empty()
    }

    /// How `newer` differs from this table.
    pub fn diff(&self, newer: &MasterRepositories) -> TableDiff {
        TableDiff::of(&self.repos, &newer.repos)
    }
}

fn parse_repo_entry(entry: &Value) -> Result<MasterRepository, String> {
    let Value::Object(obj) = entry else {
        return Err(format!("{} where an object is expected", kind(entry)));
    };
    let weight = match obj.get("weight") {
        None => return Err("no weight".into()),
        Some(w) => number(w).ok_or_else(|| format!("weight is {}, not a number", kind(w)))?,
    };
    let inactive_at = match obj.get("inactiveAt") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => {
            Some(parse_time(s).ok_or_else(|| format!("inactiveAt {s:?} is not a timestamp"))?)
        }
        Some(v) => return Err(format!("inactiveAt is {}, not a timestamp", kind(v))),
    };
    let additional_acceptable_branches = match obj.get("additional_acceptable_branches") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or("additional_acceptable_branches holds a value that is not a string")?,
        Some(v) => {
            return Err(format!(
                "additional_acceptable_branches is {}, not a list",
                kind(v)
            ))
        }
    };
    Ok(MasterRepository {
        weight,
        inactive_at,
        additional_acceptable_branches,
    })
}

/// Language weights by file extension (`programming_languages.json`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LanguageWeights {
    weights: HashMap<String, f64>,
}

impl LanguageWeights {
    /// Parses the gittensor 2.0.7 format. `what` names the source in errors.
    ///
    /// Every value must be a JSON number; a table with any other value
    /// (an object, as later releases write, a string, a bool), or with no
    /// entry, is an error naming the entries.
    pub fn parse(text: &str, what: &str) -> Result<Self, Error> {
        let map = object(text, what)?;
        let mut weights = HashMap::with_capacity(map.len());
        let mut bad = Vec::new();
        let mut later_format = false;
        for (ext, v) in map {
            match number(&v) {
                Some(w) => {
                    weights.insert(ext, w);
                }
                None => {
                    later_format |= v.is_object();
                    bad.push((ext, format!("{}, not a number", kind(&v))));
                }
            }
        }
        if !bad.is_empty() {
            return Err(refuse(what, bad, later_format));
        }
        Ok(LanguageWeights { weights })
    }

    /// Builds the table from entries, for tests and tools.
    pub fn from_entries<I, S>(entries: I) -> Self
    where
        I: IntoIterator<Item = (S, f64)>,
        S: Into<String>,
    {
        LanguageWeights {
            weights: entries.into_iter().map(|(k, v)| (k.into(), v)).collect(),
        }
    }

    /// The weight of an extension, or DEFAULT_PROGRAMMING_LANGUAGE_WEIGHT.
    pub fn weight(&self, extension: &str) -> f64 {
        self.weights
            .get(extension)
            .copied()
            .unwrap_or(DEFAULT_PROGRAMMING_LANGUAGE_WEIGHT)
    }

    /// Number of extensions.
    pub fn len(&self) -> usize {
        self.weights.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.weights.is_empty()
    }

    /// How `newer` differs from this table.
    pub fn diff(&self, newer: &LanguageWeights) -> TableDiff {
        TableDiff::of(&self.weights, &newer.weights)
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_repositories_keys_are_lower_cased_and_later_duplicate_wins() {
        let t = MasterRepositories::parse(
            r#"{"Owner/Repo": {"weight": 1.0}, "owner/repo": {"weight": 2.5}}"#,
            "m.json",
        )
        .unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!(t.get("owner/repo").unwrap().weight, 2.5);
    }

    #[test]
    fn master_repository_is_active_without_inactive_at() {
        let t = MasterRepositories::parse(
            r#"{"a/b": {"weight": 1, "inactiveAt": null},
                "c/d": {"weight": 1, "inactiveAt": "2025-11-01T00:00:00Z"},
                "e/f": {"weight": 1, "additional_acceptable_branches": ["dev", "release/*"]}}"#,
            "m.json",
        )
        .unwrap();
        assert!(t.is_active("a/b"));
        assert!(!t.is_active("c/d"));
        assert!(t.is_active("e/f"));
        assert!(!t.is_active("x/y"));
        assert_eq!(
            t.get("e/f").unwrap().additional_acceptable_branches,
            vec!["dev", "release/*"]
        );
    }

    /// One check per table rule: the text, and the error `parse` must give
    /// (`None`: accepted).
    fn check<T>(parse: fn(&str, &str) -> Result<T, Error>, text: &str, expected: Option<&str>) {
        let got = parse(text, "t.json").err().map(|e| e.to_string());
        match (expected, got) {
            (None, None) => {}
            (Some(want), Some(got)) => assert!(got.contains(want), "{got:?} lacks {want:?}"),
            (want, got) => panic!("{text}: expected {want:?}, got {got:?}"),
        }
    }

    fn check_repos(text: &str, expected: Option<&str>) {
        check(MasterRepositories::parse, text, expected);
    }

    fn check_languages(text: &str, expected: Option<&str>) {
        check(LanguageWeights::parse, text, expected);
    }

    #[test]
    fn s11_9_6_a_table_2_0_7_would_skip_or_misread_is_refused_naming_the_entries() {
        check_repos(r#"{"g/h": {"weight": 0.5, "extra": [1]}}"#, None);
        check_repos(
            r#"{"a/b": {"weight": "heavy"}}"#,
            Some(r#""a/b": weight is a string"#),
        );
        check_repos(r#"{"a/b": {"weight": true}}"#, Some("weight is a bool"));
        check_repos(
            r#"{"c/d": 3}"#,
            Some(r#""c/d": a number where an object is expected"#),
        );
        check_repos(
            r#"{"e/f": {"weight": 1, "inactiveAt": "soon"}}"#,
            Some("not a timestamp"),
        );
        check_repos(
            r#"{"e/f": {"weight": 1, "additional_acceptable_branches": ["dev", 3]}}"#,
            Some("not a string"),
        );
        check_repos(
            r#"{"e/f": {"weight": 1, "additional_acceptable_branches": "dev"}}"#,
            Some("not a list"),
        );
        check_repos(
            r#"{"a/b": {"weight": 1}, "x/y": {"emission_share": 0.3}}"#,
            Some("1 entry is not in gittensor 2.0.7's format (this looks like a table of a later gittensor release"),
        );
        check_repos("{}", Some("t.json: no entries"));
        check_repos("[]", Some("t.json: not a json object"));
        check_languages(r#"{"rs": 2.0, "md": 0.1}"#, None);
        check_languages(
            r#"{"rs": {"weight": 2.0}}"#,
            Some(r#"later gittensor release"#),
        );
        check_languages(r#"{"rs": "2.0"}"#, Some(r#""rs": a string, not a number"#));
        check_languages(r#"{"rs": true}"#, Some("a bool, not a number"));
        check_languages("{}", Some("t.json: no entries"));
    }

    #[test]
    fn s11_9_6_a_refusal_names_the_first_entries_and_counts_the_rest() {
        let text = (0..8)
            .map(|i| format!(r#""r/{i}": {{"tier": 1}}"#))
            .collect::<Vec<_>>()
            .join(",");
        let e = MasterRepositories::parse(&format!("{{{text}}}"), "m.json").unwrap_err();
        let e = e.to_string();
        assert!(e.starts_with("m.json: 8 entries are not in"), "{e}");
        assert!(
            e.contains(r#""r/0": no weight"#) && e.ends_with("and 3 more"),
            "{e}"
        );
    }

    #[test]
    fn s11_9_6_a_changed_table_says_what_was_added_removed_and_re_weighted() {
        let old = MasterRepositories::parse(
            r#"{"a/b": {"weight": 1}, "c/d": {"weight": 2}, "e/f": {"weight": 3}}"#,
            "m",
        )
        .unwrap();
        let new = MasterRepositories::parse(
            r#"{"A/B": {"weight": 1}, "c/d": {"weight": 2.5}, "g/h": {"weight": 3}}"#,
            "m",
        )
        .unwrap();
        let d = old.diff(&new);
        assert_eq!(
            d.to_string(),
            r#"1 added ("g/h"), 1 removed ("e/f"), 1 re-weighted ("c/d")"#
        );
        assert!(old.diff(&old).is_empty());
        let l = LanguageWeights::from_entries([("rs", 1.0)]);
        let d = l.diff(&LanguageWeights::from_entries([("rs", 1.5), ("go", 1.0)]));
        assert_eq!(
            d.to_string(),
            r#"1 added ("go"), 0 removed, 1 re-weighted ("rs")"#
        );
    }

    #[test]
    fn malformed_tables_name_the_source() {
        let e = MasterRepositories::parse("{", "repos.json").unwrap_err();
        assert!(e.to_string().starts_with("repos.json: bad json"), "{e}");
        let e = LanguageWeights::parse("[1]", "langs.json").unwrap_err();
        assert_eq!(e.to_string(), "langs.json: not a json object");
    }

    #[test]
    fn language_weights_default_to_0_12() {
        let t = LanguageWeights::parse(r#"{"rs": 2.0, "md": 0.1}"#, "l.json").unwrap();
        assert_eq!(t.weight("rs"), 2.0);
        assert_eq!(t.weight("md"), 0.1);
        assert_eq!(t.weight("zig"), 0.12);
    }
}
