//! Serde types of the round report (`shared/spec/INTERFACE.md`).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::format_time;
use super::pr::PullRequest;
use super::round::{MinerEvaluation, Rewards};

/// The round report. uids are object keys as decimal strings. Two reports
/// are equal when their files would be: `evaluations_in_full` is not
/// compared.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoundReport {
    /// The round's "now", RFC 3339.
    pub now: String,
    /// Final reward of every uid of the miners file (and uid 0).
    pub rewards: BTreeMap<u16, f64>,
    /// Every miner's evaluation.
    pub evaluations: BTreeMap<u16, EvaluationReport>,
    /// How the round went; filled by the shell that ran it.
    pub stats: RoundStats,
    /// Why each uid's axon gave no PAT, when the PATs came from the axons
    /// (the miner's `failed_reason` is then 2.0.7's "No Github PAT provided").
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pat_query_errors: BTreeMap<u16, String>,
    /// Why the round was discarded (SCORING.md §11.9.7): its rewards were
    /// not folded into the scores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discarded: Option<String>,
    /// The evaluations in full (titles, descriptions, files), as the round
    /// left them, for the results database. Not part of the report file;
    /// shared, so a copy of the report costs no copy of them.
    #[serde(skip)]
    pub evaluations_in_full: Arc<Vec<MinerEvaluation>>,
}

impl PartialEq for RoundReport {
    fn eq(&self, other: &Self) -> bool {
        self.now == other.now
            && self.rewards == other.rewards
            && self.evaluations == other.evaluations
            && self.stats == other.stats
            && self.pat_query_errors == other.pat_query_errors
            && self.discarded == other.discarded
    }
}

impl RoundReport {
    /// The report of a finished round, with empty stats.
    pub fn new(
        now: time::OffsetDateTime,
        rewards: &Rewards,
        evaluations: &[MinerEvaluation],
    ) -> Self {
        RoundReport {
            now: format_time(now),
            rewards: rewards.clone(),
            evaluations: evaluations
                .iter()
                .map(|e| (e.uid, EvaluationReport::from(e)))
                .collect(),
            stats: RoundStats::default(),
            pat_query_errors: BTreeMap::new(),
            discarded: None,
            evaluations_in_full: Arc::default(),
        }
    }
}

/// One miner in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationReport {
    /// uid.
    pub uid: u16,
    /// Hotkey.
    pub hotkey: String,
    /// GitHub id or "0".
    pub github_id: String,
    /// Why the miner was not scored.
    pub failed_reason: Option<String>,
    /// Sum of earned scores.
    pub total_score: f64,
    /// Sum of base scores.
    pub base_total_score: f64,
    /// Sum of scored lines.
    pub total_lines_changed: i64,
    /// Open PRs in active repositories.
    pub total_open_prs: u32,
    /// Closed PRs counted.
    pub total_closed_prs: u32,
    /// Merged PRs counted.
    pub total_merged_prs: u32,
    /// Repositories contributed to.
    pub unique_repos_count: usize,
    /// Accepted pull requests.
    pub pull_requests: Vec<PullRequestReport>,
    /// Why the evaluation is incomplete through no fault of the miner's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator_fault: Option<String>,
}

impl From<&MinerEvaluation> for EvaluationReport {
    fn from(e: &MinerEvaluation) -> Self {
        EvaluationReport {
            uid: e.uid,
            hotkey: e.hotkey.clone(),
            github_id: e.github_id.clone(),
            failed_reason: e.failed_reason.clone(),
            total_score: e.total_score,
            base_total_score: e.base_total_score,
            total_lines_changed: e.total_lines_changed,
            total_open_prs: e.total_open_prs,
            total_closed_prs: e.total_closed_prs,
            total_merged_prs: e.total_merged_prs,
            unique_repos_count: e.unique_repos_count(),
            pull_requests: e
                .pull_requests
                .iter()
                .map(PullRequestReport::from)
                .collect(),
            validator_fault: e.validator_fault.clone(),
        }
    }
}

/// One pull request in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullRequestReport {
    /// `owner/name`.
    pub repository_full_name: String,
    /// PR number.
    pub number: u64,
    /// Merge time, RFC 3339.
    pub merged_at: String,
    /// Files GitHub listed.
    pub file_count: usize,
    /// Sum of file scores, rounded.
    pub base_score: f64,
    /// Final score of the PR.
    pub earned_score: f64,
    /// Repository weight.
    pub repo_weight_multiplier: f64,
    /// Issue bonus.
    pub issue_multiplier: f64,
    /// Spam penalty.
    pub open_pr_spam_multiplier: f64,
    /// Uniqueness boost.
    pub repository_uniqueness_multiplier: f64,
    /// Time decay.
    pub time_decay_multiplier: f64,
    /// Tagline boost.
    pub gittensor_tag_multiplier: f64,
    /// Merge success ratio.
    pub merge_success_multiplier: f64,
    /// Lines scored.
    pub total_lines_scored: i64,
}

impl From<&PullRequest> for PullRequestReport {
    fn from(p: &PullRequest) -> Self {
        PullRequestReport {
            repository_full_name: p.repository_full_name.clone(),
            number: p.number,
            merged_at: format_time(p.merged_at),
            file_count: p.file_count,
            base_score: p.base_score,
            earned_score: p.earned_score,
            repo_weight_multiplier: p.repo_weight_multiplier,
            issue_multiplier: p.issue_multiplier,
            open_pr_spam_multiplier: p.open_pr_spam_multiplier,
            repository_uniqueness_multiplier: p.repository_uniqueness_multiplier,
            time_decay_multiplier: p.time_decay_multiplier,
            gittensor_tag_multiplier: p.gittensor_tag_multiplier,
            merge_success_multiplier: p.merge_success_multiplier,
            total_lines_scored: p.total_lines_scored,
        }
    }
}

/// How a round went. Times in milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RoundStats {
    /// Wall time of the whole round.
    pub wall_ms: u64,
    /// GitHub requests sent, retries included.
    pub github_requests: u64,
    /// Of those, retries.
    #[serde(default)]
    pub github_retries: u64,
    /// Of the retries, those after a wait for a rate limit.
    #[serde(default)]
    pub github_rate_limit_waits: u64,
    /// Requests per endpoint (`user`, `graphql`, `files`).
    #[serde(default)]
    pub requests_by_endpoint: BTreeMap<String, u64>,
    /// `/user` requests GitHub answered 304 Not Modified (no rate limit spent).
    #[serde(default)]
    pub github_not_modified: u64,
    /// Pull requests' file lists taken from the file store, not asked.
    #[serde(default)]
    pub files_from_store: u64,
    /// Largest lag a heartbeat task saw on the event loop (0 without one).
    pub max_event_loop_lag_ms: f64,
    /// 99th percentile of that lag.
    #[serde(default)]
    pub p99_event_loop_lag_ms: f64,
    /// Time spent per phase, summed over miners (`identity`, `pull_requests`, `files`, `scoring`).
    #[serde(default)]
    pub phase_ms: BTreeMap<String, u64>,
    /// Miners evaluated.
    #[serde(default)]
    pub miners: usize,
    /// Miners that hit their deadline.
    #[serde(default)]
    pub miners_timed_out: usize,
    /// Miners whose PAT was sent to GitHub.
    #[serde(default)]
    pub github_miners: usize,
    /// Miners whose evaluation is incomplete through the validator's fault
    /// (`validator_fault` set).
    #[serde(default)]
    pub validator_faults: usize,
    /// The PAT phase, when the PATs came from the miners' axons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pat_query: Option<PatQueryStats>,
}

/// The PAT phase of a round: every uid's axon asked for its PAT.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PatQueryStats {
    /// uids whose axon was asked (unserved axons are not).
    pub queried: usize,
    /// Of those, the ones that answered a PAT.
    pub answered: usize,
    /// uids with no PAT, for any reason (unserved axons included).
    pub failed: usize,
    /// Of the failures, queries that hit the dendrite timeout.
    pub timed_out: usize,
    /// Wall time of the phase.
    pub wall_ms: u64,
    /// The queries' own times added up: what asking one uid after another,
    /// as 2.0.7 does, would take.
    #[serde(default)]
    pub sequential_ms: u64,
    /// Largest lag a heartbeat task saw on the event loop meanwhile.
    pub max_event_loop_lag_ms: f64,
}
