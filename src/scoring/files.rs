//! Files of a pull request: extension, test files (SCORING.md §6) and the
//! score of one file, with the non-scoreable line walk (§7).

use rapidfuzz::distance::{indel, levenshtein};
use serde::Deserialize;
use serde_json::Value;

use super::py::{is_space, strip};
use super::tables::LanguageWeights;
use super::{
    MAX_LINES_SCORED_FOR_MITIGATED_EXT, MITIGATED_EXTENSIONS, PREPROCESSOR_LANGUAGES,
    TEST_FILE_CONTRIBUTION_WEIGHT, TYPO_MAX_DIST, TYPO_MIN_SIM,
};

/// One entry of `GET /repos/{owner}/{name}/pulls/{n}/files`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct FileChange {
    /// Path of the file in the repository.
    pub filename: String,
    /// Lines added plus deleted.
    pub changes: i64,
    /// The unified diff; absent for binary files and very large diffs.
    #[serde(default)]
    pub patch: Option<String>,
    /// Lines added. Not scored: kept for the results database (and 0 in a
    /// file store written before it was kept).
    #[serde(default)]
    pub additions: i64,
    /// Lines deleted. Not scored, as `additions`.
    #[serde(default)]
    pub deletions: i64,
    /// `added`, `modified`, `removed`, ... Not scored, as `additions`.
    #[serde(default)]
    pub status: String,
}

/// The keys upstream reads from every entry; one missing fails the list.
const REQUIRED_FILE_KEYS: [&str; 5] = ["filename", "changes", "additions", "deletions", "status"];

/// Parses a `/files` answer. As in release 2.0.7, the list is all or
/// nothing: an answer that is not a list, or any entry without
/// `filename`, `changes`, `additions`, `deletions` and `status`, is an error
/// (and the caller scores the PR with no files).
pub fn parse_files(answer: &Value) -> Result<Vec<FileChange>, String> {
    let Value::Array(items) = answer else {
        return Err("files answer is not a list".into());
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            if let Some(key) = REQUIRED_FILE_KEYS.iter().find(|k| item.get(**k).is_none()) {
                return Err(format!("file entry {i} has no {key}"));
            }
            FileChange::deserialize(item).map_err(|e| format!("file entry {i}: {e}"))
        })
        .collect()
}

/// The text after the last `.` of the whole path, lower-cased; "" without one.
pub fn extension(path: &str) -> String {
    path.rfind('.')
        .map(|i| path[i + 1..].to_lowercase())
        .unwrap_or_default()
}

/// Whether a path is a test file (§6).
pub fn is_test_file(path: &str) -> bool {
    let lower = path.to_lowercase();
    for dir in ["test/", "tests/", "__test__/", "__tests__/"] {
        if lower.starts_with(dir) || lower.contains(&format!("/{dir}")) {
            return true;
        }
    }
    let base = lower.rsplit('/').next().unwrap_or(&lower);
    if base.starts_with("test_") || base.starts_with("spec_") {
        return true;
    }
    // The remaining patterns all end in `\.[^.]+$`: split off that extension.
    let Some(dot) = base.rfind('.') else {
        return false;
    };
    if dot + 1 == base.len() {
        return false;
    }
    let stem = &base[..dot];
    stem.ends_with("_test")
        || stem.ends_with("_tests")
        || stem.ends_with(".test")
        || stem.ends_with(".tests")
        || stem.ends_with(".spec")
        || stem == "test"
        || stem == "tests"
}

/// The outcome of scoring one file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FileScore {
    /// Lines that count (`scored` in §7).
    pub lines_scored: i64,
    /// `lang_weight * test factor * scored`.
    pub score: f64,
}

/// Scores one file (§7).
pub fn score_file(file: &FileChange, languages: &LanguageWeights) -> FileScore {
    let ext = extension(&file.filename);
    let lang_weight = languages.weight(&ext);
    let mut to_score = file.changes;
    if MITIGATED_EXTENSIONS.contains(&ext.as_str()) {
        to_score = to_score.min(MAX_LINES_SCORED_FOR_MITIGATED_EXT);
    }
    let non = non_scoreable(file.patch.as_deref(), to_score, &ext);
    let scored = (to_score - non).max(0);
    let test_factor = if is_test_file(&file.filename) {
        TEST_FILE_CONTRIBUTION_WEIGHT
    } else {
        1.0
    };
    FileScore {
        lines_scored: scored,
        score: lang_weight * test_factor * scored as f64,
    }
}

/// `+x` or `-x` or a lone `+`/`-`, but not `++x` / `--x` (nor `+++`, `---`).
fn is_single_diff_line(line: &str) -> bool {
    let mut chars = line.chars();
    match chars.next() {
        Some(first @ ('+' | '-')) => chars.next() != Some(first),
        _ => false,
    }
}

const COMMENT_MARKERS: [&str; 10] = [
    "//", "/*", "*", "*/", "--", "<!--", "%", ";", "\"\"\"", "'''",
];

/// Whether a diff line's content is a comment line for this extension.
pub fn is_comment(content: &str, extension: &str) -> bool {
    let rest = content.trim_start_matches(is_space);
    if rest.starts_with('#') && !PREPROCESSOR_LANGUAGES.contains(&extension) {
        return true;
    }
    COMMENT_MARKERS.iter().any(|m| rest.starts_with(m))
}

/// Lines of a patch that do not count (§7), walking until `max_scoreable`
/// scoreable lines were seen.
pub fn non_scoreable(patch: Option<&str>, max_scoreable: i64, extension: &str) -> i64 {
    let Some(patch) = patch.filter(|p| !p.is_empty()) else {
        return 0;
    };
    let lines: Vec<&str> = patch.split('\n').collect();
    let (mut non, mut scoreable) = (0i64, 0i64);
    let mut skip_next = false;
    for (i, line) in lines.iter().enumerate() {
        if skip_next {
            skip_next = false;
            continue;
        }
        if !is_single_diff_line(line) {
            continue;
        }
        // The first char is an ASCII `+` or `-`, so byte 1 is a boundary.
        let content = &line[1..];
        if strip(content).is_empty() || is_comment(content, extension) {
            non += 1;
            continue;
        }
        if line.starts_with('-') {
            if let Some(next) = lines.get(i + 1) {
                if next.starts_with('+')
                    && is_single_diff_line(next)
                    && is_typo(content, &next[1..])
                {
                    non += 2;
                    skip_next = true;
                    continue;
                }
            }
        }
        scoreable += 1;
        if scoreable >= max_scoreable {
            break;
        }
    }
    non
}

fn tokens(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '\'' | '-')))
        .filter(|t| !t.is_empty())
}

/// Whether `new` is `old` with typos fixed (§7).
pub fn is_typo(old: &str, new: &str) -> bool {
    let a: Vec<&str> = tokens(old).collect();
    let b: Vec<&str> = tokens(new).collect();
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(&b).all(|(x, y)| {
        levenshtein::distance(x.chars(), y.chars()) <= TYPO_MAX_DIST
            || indel_ratio(x, y) >= TYPO_MIN_SIM
    })
}

/// `Levenshtein.ratio`: `1 - indel / (len a + len b)`, 1.0 for two empty strings.
pub fn indel_ratio(a: &str, b: &str) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    indel::normalized_similarity(a.chars(), b.chars())
}
