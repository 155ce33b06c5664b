//! A scored pull request and its multipliers (SCORING.md §8).

use time::{Duration, OffsetDateTime};

use super::files::{score_file, FileChange};
use super::miner::floor_days;
use super::py::round2;
use super::tables::{LanguageWeights, MasterRepositories};
use super::{
    DEFAULT_REPO_WEIGHT, EXCESSIVE_PR_MIN_MULTIPLIER, EXCESSIVE_PR_PENALTY_SLOPE,
    EXCESSIVE_PR_PENALTY_THRESHOLD, GITTENSOR_REPOSITORY, GITTENSOR_TAGLINE_BOOST,
    ISSUE_FALLBACK_BONUS, MAX_ISSUES_SCORED_IN_SINGLE_PR, MAX_ISSUE_AGE_FOR_MAX_SCORE,
    MAX_ISSUE_CLOSE_WINDOW_DAYS, MERGE_SUCCESS_RATIO_APPLICATION_DATE,
    MERGE_SUCCESS_RATIO_ATTEMPTS_THRESHOLD, TIME_DECAY_GRACE_PERIOD_HOURS,
    TIME_DECAY_MIN_MULTIPLIER, TIME_DECAY_SIGMOID_MIDPOINT, TIME_DECAY_SIGMOID_STEEPNESS_SCALAR,
};

/// An issue a pull request closed (kept when closed, SCORING.md §5).
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    /// Issue number.
    pub number: u64,
    /// Issue title.
    pub title: String,
    /// Issue state.
    pub state: Option<String>,
    /// Creation time.
    pub created_at: Option<OffsetDateTime>,
    /// Close time.
    pub closed_at: Option<OffsetDateTime>,
    /// Issue author.
    pub author_login: Option<String>,
}

/// A miner's PR counts, which some multipliers read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PrCounts {
    /// `total_open_prs`.
    pub open: u32,
    /// `total_closed_prs`.
    pub closed: u32,
    /// `total_merged_prs`.
    pub merged: u32,
}

/// An accepted merged pull request and its score.
#[derive(Debug, Clone, PartialEq)]
pub struct PullRequest {
    /// `owner/name` as GitHub spells it.
    pub repository_full_name: String,
    /// PR number.
    pub number: u64,
    /// PR title.
    pub title: String,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Merge time.
    pub merged_at: OffsetDateTime,
    /// Last edit of the description.
    pub last_edited_at: Option<OffsetDateTime>,
    /// PR author.
    pub author_login: Option<String>,
    /// Closed issues it references.
    pub issues: Vec<Issue>,
    /// Whether the description ends with the tagline (§5).
    pub gittensor_tagged: bool,
    /// Files read from GitHub; 0 when none (then nothing below is computed).
    pub file_count: usize,
    /// Sum of scored lines.
    pub total_lines_scored: i64,
    /// Sum of file scores, rounded.
    pub base_score: f64,
    /// Master weight of the repository, rounded.
    pub repo_weight_multiplier: f64,
    /// Issue bonus, rounded.
    pub issue_multiplier: f64,
    /// Open-PR spam penalty, rounded.
    pub open_pr_spam_multiplier: f64,
    /// Uniqueness boost (not rounded).
    pub repository_uniqueness_multiplier: f64,
    /// Time decay, rounded.
    pub time_decay_multiplier: f64,
    /// Tagline boost, rounded.
    pub gittensor_tag_multiplier: f64,
    /// Merge success ratio, rounded.
    pub merge_success_multiplier: f64,
    /// Product of the base score and every multiplier.
    pub earned_score: f64,
    /// Lines added (GitHub's count; stored, not scored).
    pub additions: i64,
    /// Lines deleted (stored, not scored).
    pub deletions: i64,
    /// Commits (stored, not scored).
    pub commits: i64,
    /// Who merged it (stored, not scored).
    pub merged_by_login: Option<String>,
    /// The description as plain text (stored; the tagline is read from it).
    pub description: Option<String>,
    /// The files as GitHub listed them, kept only when the round keeps
    /// them for the results database (`RoundOptions::keep_files`).
    pub files: Vec<FileChange>,
}

impl PullRequest {
    /// A PR with every multiplier at its default (1.0, base 0).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        repository_full_name: String,
        number: u64,
        title: String,
        created_at: OffsetDateTime,
        merged_at: OffsetDateTime,
        last_edited_at: Option<OffsetDateTime>,
        author_login: Option<String>,
        issues: Vec<Issue>,
        gittensor_tagged: bool,
    ) -> Self {
        PullRequest {
            repository_full_name,
            number,
            title,
            created_at,
            merged_at,
            last_edited_at,
            author_login,
            issues,
            gittensor_tagged,
            file_count: 0,
            total_lines_scored: 0,
            base_score: 0.0,
            repo_weight_multiplier: 1.0,
            issue_multiplier: 1.0,
            open_pr_spam_multiplier: 1.0,
            repository_uniqueness_multiplier: 1.0,
            time_decay_multiplier: 1.0,
            gittensor_tag_multiplier: 1.0,
            merge_success_multiplier: 1.0,
            earned_score: 0.0,
            additions: 0,
            deletions: 0,
            commits: 0,
            merged_by_login: None,
            description: None,
            files: Vec::new(),
        }
    }

    /// Lower-cased `owner/name`.
    pub fn repo_key(&self) -> String {
        self.repository_full_name.to_lowercase()
    }

    /// Scores the files and sets every multiplier but uniqueness (§7, §8).
    /// Returns whether the PR had files, i.e. counts as a contribution to its
    /// repository; with none, everything stays at its default.
    pub fn score(
        &mut self,
        files: &[FileChange],
        languages: &LanguageWeights,
        repos: &MasterRepositories,
        counts: PrCounts,
        now: OffsetDateTime,
    ) -> bool {
        self.file_count = files.len();
        if files.is_empty() {
            return false;
        }
        let (mut lines, mut score) = (0i64, 0.0f64);
        for file in files {
            let s = score_file(file, languages);
            lines += s.lines_scored;
            score += s.score;
        }
        self.total_lines_scored = lines;
        self.base_score = round2(score);
        let weight = repos
            .get(&self.repo_key())
            .map_or(DEFAULT_REPO_WEIGHT, |r| r.weight);
        self.repo_weight_multiplier = round2(weight);
        self.issue_multiplier = round2(self.issue_multiplier_raw());
        self.open_pr_spam_multiplier = round2(open_pr_spam_multiplier(counts.open));
        self.time_decay_multiplier = round2(time_decay_multiplier(self.merged_at, now));
        self.gittensor_tag_multiplier = round2(self.tag_multiplier());
        self.merge_success_multiplier = round2(merge_success_multiplier(self.merged_at, counts));
        true
    }

    /// Whether a closing issue counts toward the issue bonus.
    fn issue_is_valid(&self, issue: &Issue) -> bool {
        if issue.state.as_deref().is_some_and(|s| s != "CLOSED") {
            return false;
        }
        let Some(author) = issue.author_login.as_deref() else {
            return false;
        };
        if Some(author) == self.author_login.as_deref() {
            return false;
        }
        // Upstream only compares what it has: a missing date passes.
        if issue.created_at.is_some_and(|c| c > self.created_at) {
            return false;
        }
        issue.closed_at.is_none_or(|closed| {
            (closed - self.merged_at).abs() <= Duration::days(MAX_ISSUE_CLOSE_WINDOW_DAYS)
        })
    }

    fn issue_multiplier_raw(&self) -> f64 {
        if self.issues.is_empty() {
            return 1.0;
        }
        if self.last_edited_at.is_some_and(|t| t > self.merged_at) {
            return 1.0;
        }
        let max_age = MAX_ISSUE_AGE_FOR_MAX_SCORE as f64;
        let bonus: f64 = self
            .issues
            .iter()
            .filter(|i| self.issue_is_valid(i))
            .take(MAX_ISSUES_SCORED_IN_SINGLE_PR)
            .map(|i| {
                // Upstream's fallbacks: no dates, or a close before the
                // creation (a square root of a negative raises there), score 0.1.
                let (Some(c), Some(d)) = (i.created_at, i.closed_at) else {
                    return ISSUE_FALLBACK_BONUS;
                };
                let days = floor_days(d - c);
                if days < 0 {
                    return ISSUE_FALLBACK_BONUS;
                }
                let days = days.min(MAX_ISSUE_AGE_FOR_MAX_SCORE) as f64;
                0.9 * (0.1 + days.sqrt() / max_age.sqrt()).min(1.0)
            })
            .sum();
        1.0 + bonus
    }

    fn tag_multiplier(&self) -> f64 {
        if self.gittensor_tagged && self.repo_key() != GITTENSOR_REPOSITORY {
            GITTENSOR_TAGLINE_BOOST
        } else {
            1.0
        }
    }
}

/// Open-PR spam multiplier (§8).
pub fn open_pr_spam_multiplier(total_open_prs: u32) -> f64 {
    if total_open_prs <= EXCESSIVE_PR_PENALTY_THRESHOLD {
        return 1.0;
    }
    let excess = f64::from(total_open_prs - EXCESSIVE_PR_PENALTY_THRESHOLD);
    EXCESSIVE_PR_MIN_MULTIPLIER.max(1.0 - excess * EXCESSIVE_PR_PENALTY_SLOPE)
}

/// Time decay multiplier (§8).
pub fn time_decay_multiplier(merged_at: OffsetDateTime, now: OffsetDateTime) -> f64 {
    let since = now - merged_at;
    if since < Duration::hours(TIME_DECAY_GRACE_PERIOD_HOURS) {
        return 1.0;
    }
    // Hours, then days, as upstream divides: the same float in the last bit.
    let days = since.as_seconds_f64() / 3600.0 / 24.0;
    let sigmoid = 1.0
        / (1.0
            + (TIME_DECAY_SIGMOID_STEEPNESS_SCALAR * (days - TIME_DECAY_SIGMOID_MIDPOINT)).exp());
    sigmoid.max(TIME_DECAY_MIN_MULTIPLIER)
}

/// Merge success multiplier (§8).
pub fn merge_success_multiplier(merged_at: OffsetDateTime, counts: PrCounts) -> f64 {
    if merged_at <= MERGE_SUCCESS_RATIO_APPLICATION_DATE {
        return 1.0;
    }
    let attempts = counts.merged + counts.closed;
    if attempts < MERGE_SUCCESS_RATIO_ATTEMPTS_THRESHOLD {
        return 1.0;
    }
    f64::from(counts.merged) / f64::from(attempts)
}
