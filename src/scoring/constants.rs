//! Every constant of SCORING.md §2, named as there, in one place.

use time::macros::datetime;
use time::OffsetDateTime;

/// The uid that receives what the round does not pay out.
pub const RECYCLE_UID: u16 = 0;
/// Minimum age of a miner's GitHub account, in whole days.
pub const MIN_GITHUB_ACCOUNT_AGE: i64 = 180;
/// How far back a merge still counts.
pub const MERGED_PR_LOOKBACK_DAYS: i64 = 30;
/// Merges and closes after this instant count toward the merge success ratio.
pub const MERGE_SUCCESS_RATIO_APPLICATION_DATE: OffsetDateTime = datetime!(2025-12-04 18:00:00 UTC);
/// Below this many attempts the merge success multiplier is 1.0.
pub const MERGE_SUCCESS_RATIO_ATTEMPTS_THRESHOLD: u32 = 5;
/// Weight of a file whose extension is not in the language table.
pub const DEFAULT_PROGRAMMING_LANGUAGE_WEIGHT: f64 = 0.12;
/// Factor applied to a test file's score.
pub const TEST_FILE_CONTRIBUTION_WEIGHT: f64 = 0.05;
/// Extensions whose scored lines are capped.
pub const MITIGATED_EXTENSIONS: [&str; 3] = ["md", "txt", "json"];
/// The cap on lines scored for a mitigated extension.
pub const MAX_LINES_SCORED_FOR_MITIGATED_EXT: i64 = 300;
/// Issues counted toward one PR's issue multiplier.
pub const MAX_ISSUES_SCORED_IN_SINGLE_PR: usize = 2;
/// An issue must close within this many days of the merge.
pub const MAX_ISSUE_CLOSE_WINDOW_DAYS: i64 = 1;
/// Issue age (days) at which the issue bonus is full.
pub const MAX_ISSUE_AGE_FOR_MAX_SCORE: i64 = 45;
/// Boost for contributing where few other miners do.
pub const UNIQUE_PR_BOOST: f64 = 0.4;
/// Hours after the merge before time decay starts.
pub const TIME_DECAY_GRACE_PERIOD_HOURS: i64 = 4;
/// Days after the merge where the decay sigmoid is at one half.
pub const TIME_DECAY_SIGMOID_MIDPOINT: f64 = 4.0;
/// Steepness of the decay sigmoid.
pub const TIME_DECAY_SIGMOID_STEEPNESS_SCALAR: f64 = 0.9;
/// Floor of the time decay multiplier.
pub const TIME_DECAY_MIN_MULTIPLIER: f64 = 0.01;
/// Open PRs allowed before the spam penalty.
pub const EXCESSIVE_PR_PENALTY_THRESHOLD: u32 = 10;
/// Penalty per open PR over the threshold.
pub const EXCESSIVE_PR_PENALTY_SLOPE: f64 = 0.5;
/// Floor of the spam multiplier.
pub const EXCESSIVE_PR_MIN_MULTIPLIER: f64 = 0.0;
/// Largest Levenshtein distance of a typo token pair.
pub const TYPO_MAX_DIST: usize = 2;
/// Smallest indel similarity ratio of a typo token pair.
pub const TYPO_MIN_SIM: f64 = 0.75;
/// PRs to this repository get no tagline boost.
pub const GITTENSOR_REPOSITORY: &str = "entrius/gittensor";
/// The tagline a miner may end a PR description with.
pub const PR_TAGLINE: &str = "Contribution by Gittensor, learn more at https://gittensor.io/";
/// Multiplier for a tagged PR.
pub const GITTENSOR_TAGLINE_BOOST: f64 = 2.0;
/// Dynamic emissions: most that line count can hold back.
pub const LINES_CONTRIBUTED_MAX_RECYCLE: f64 = 0.9;
/// Dynamic emissions: how fast lines unlock emissions.
pub const LINES_CONTRIBUTED_RECYCLE_DECAY_RATE: f64 = 0.00001;
/// Dynamic emissions: most that repository count can hold back.
pub const UNIQUE_PRS_MAX_RECYCLE: f64 = 0.9;
/// Dynamic emissions: how fast unique repositories unlock emissions.
pub const UNIQUE_PRS_RECYCLE_DECAY_RATE: f64 = 0.02;
/// Languages where `#` starts a preprocessor line, not a comment.
pub const PREPROCESSOR_LANGUAGES: [&str; 12] = [
    "c", "h", "cpp", "cxx", "cc", "hpp", "hxx", "hh", "h++", "cs", "rs", "swift",
];

// Not named in SCORING.md's table, but fixed by its text or by upstream.

/// An issue's bonus when its dates cannot give one (no `createdAt`, or a
/// close before the creation): upstream's fallback.
pub const ISSUE_FALLBACK_BONUS: f64 = 0.1;
/// Most pull requests one GraphQL page asks for (SCORING.md §4).
pub const PR_PAGE_LIMIT: usize = 100;
/// Most merged pull requests accepted per miner (SCORING.md §4).
pub const MAX_ACCEPTED_PRS: usize = 1000;
/// Characters of the PR body searched for the tagline (SCORING.md §5).
pub const TAGLINE_WINDOW_CHARS: usize = 100;
/// Repository weight when a repository has none (SCORING.md §8).
pub const DEFAULT_REPO_WEIGHT: f64 = 0.01;
/// Default `alpha` of the moving average of scores (SCORING.md §10).
pub const DEFAULT_EMA_ALPHA: f64 = 0.70;
