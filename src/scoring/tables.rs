//! The two weight tables of SCORING.md §1, parsed from their gittensor JSON
//! text. Reading the files is the caller's job; this only parses.

use std::collections::HashMap;

use serde_json::Value;
use time::OffsetDateTime;

use super::{parse_time, Error, DEFAULT_PROGRAMMING_LANGUAGE_WEIGHT};

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

impl MasterRepositories {
    /// Parses the gittensor JSON format. `what` names the source in errors.
    ///
    /// Keys are lower-cased (a later duplicate wins). An entry without a
    /// numeric `weight`, or with an `inactiveAt` that is not a timestamp, is
    /// dropped with a warning: a bad row must not stop a round.
    pub fn parse(text: &str, what: &str) -> Result<Self, Error> {
        let value: Value = serde_json::from_str(text).map_err(|e| Error::Json {
            what: what.to_string(),
            message: e.to_string(),
        })?;
        let Value::Object(map) = value else {
            return Err(Error::NotAnObject {
                what: what.to_string(),
            });
        };
        let mut repos = HashMap::with_capacity(map.len());
        for (name, entry) in map {
            match parse_repo_entry(&entry) {
                Ok(repo) => {
                    repos.insert(name.to_lowercase(), repo);
                }
                Err(why) => log::warn!("{what}: dropping repository {name:?}: {why}"),
            }
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
}

fn parse_repo_entry(entry: &Value) -> Result<MasterRepository, String> {
    let Value::Object(obj) = entry else {
        return Err("entry is not an object".into());
    };
    let weight = obj
        .get("weight")
        .and_then(Value::as_f64)
        .ok_or("no numeric weight")?;
    let inactive_at = match obj.get("inactiveAt") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => {
            Some(parse_time(s).ok_or_else(|| format!("bad inactiveAt {s:?}"))?)
        }
        Some(_) => return Err("inactiveAt is not a string".into()),
    };
    let additional_acceptable_branches = match obj.get("additional_acceptable_branches") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        Some(_) => return Err("additional_acceptable_branches is not a list".into()),
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
    /// Parses the gittensor JSON format. `what` names the source in errors.
    ///
    /// Entries whose value is not a number are dropped with a warning.
    pub fn parse(text: &str, what: &str) -> Result<Self, Error> {
        let value: Value = serde_json::from_str(text).map_err(|e| Error::Json {
            what: what.to_string(),
            message: e.to_string(),
        })?;
        let Value::Object(map) = value else {
            return Err(Error::NotAnObject {
                what: what.to_string(),
            });
        };
        let mut weights = HashMap::with_capacity(map.len());
        for (ext, v) in map {
            match v.as_f64() {
                Some(w) => {
                    weights.insert(ext, w);
                }
                None => log::warn!("{what}: dropping extension {ext:?}: weight is not a number"),
            }
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

    #[test]
    fn bad_master_repository_entries_are_dropped() {
        let t = MasterRepositories::parse(
            r#"{"a/b": {"weight": "heavy"}, "c/d": 3, "e/f": {"weight": 1, "inactiveAt": "soon"},
                "g/h": {"weight": 0.5}}"#,
            "m.json",
        )
        .unwrap();
        assert_eq!(t.len(), 1);
        assert!(t.get("g/h").is_some());
    }

    #[test]
    fn malformed_tables_name_the_source() {
        let e = MasterRepositories::parse("{", "repos.json").unwrap_err();
        assert!(e.to_string().starts_with("repos.json: bad json"), "{e}");
        let e = LanguageWeights::parse("[1]", "langs.json").unwrap_err();
        assert_eq!(e.to_string(), "langs.json: not a json object");
    }

    #[test]
    fn language_weights_drop_non_numbers_and_default_to_0_12() {
        let t = LanguageWeights::parse(r#"{"rs": 2.0, "py": "x", "md": 0.1}"#, "l.json").unwrap();
        assert_eq!(t.weight("rs"), 2.0);
        assert_eq!(t.weight("md"), 0.1);
        assert_eq!(t.weight("py"), 0.12);
        assert_eq!(t.weight("zig"), 0.12);
    }
}
