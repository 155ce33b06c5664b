//! A miner's evaluation and the round over all of them (SCORING.md §9).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use time::OffsetDateTime;

use super::files::FileChange;
use super::pr::{PrCounts, PullRequest};
use super::pulls::CollectedPrs;
use super::tables::{LanguageWeights, MasterRepositories};
use super::{
    LINES_CONTRIBUTED_MAX_RECYCLE, LINES_CONTRIBUTED_RECYCLE_DECAY_RATE, RECYCLE_UID,
    UNIQUE_PRS_MAX_RECYCLE, UNIQUE_PRS_RECYCLE_DECAY_RATE, UNIQUE_PR_BOOST,
};

/// The `github_id` of a miner with no verified account.
pub const NO_GITHUB_ID: &str = "0";

/// The start of the `failed_reason` of a miner emptied for sharing its
/// GitHub account (§9.1). 2.0.7 leaves that reason empty; the report names
/// it, and the results database stores it empty as 2.0.7 does.
pub const DUPLICATE_ACCOUNT: &str = "Duplicate Github account shared by uids";

/// Everything scoring needs besides GitHub's answers, passed explicitly.
#[derive(Debug, Clone)]
pub struct RoundContext {
    /// Master repositories.
    pub repos: MasterRepositories,
    /// Language weights.
    pub languages: LanguageWeights,
    /// The round's one "now".
    pub now: OffsetDateTime,
}

/// One miner's evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct MinerEvaluation {
    /// The miner's uid.
    pub uid: u16,
    /// The miner's hotkey ("" when it did not respond).
    pub hotkey: String,
    /// GitHub account id, or NO_GITHUB_ID.
    pub github_id: String,
    /// Why the miner was not scored, if it was not.
    pub failed_reason: Option<String>,
    /// Sum of earned scores.
    pub total_score: f64,
    /// Sum of base scores.
    pub base_total_score: f64,
    /// Sum of scored lines.
    pub total_lines_changed: i64,
    /// Open PRs in active repositories.
    pub total_open_prs: u32,
    /// Closed unmerged PRs counted for the merge success ratio.
    pub total_closed_prs: u32,
    /// Merged PRs counted for the merge success ratio.
    pub total_merged_prs: u32,
    /// Lower-cased repositories the miner contributed files to.
    pub unique_repos_contributed_to: BTreeSet<String>,
    /// Accepted pull requests.
    pub pull_requests: Vec<PullRequest>,
    /// Why this evaluation is incomplete through no fault of the miner's
    /// (GitHub or the network unreachable, slow or failing; the miner's
    /// deadline): what it earned says nothing about the miner. Set by the
    /// pipeline; the rules never read it (SCORING.md §11.9.7).
    pub validator_fault: Option<String>,
}

impl MinerEvaluation {
    /// An evaluation with nothing in it yet.
    pub fn new(uid: u16, hotkey: impl Into<String>) -> Self {
        MinerEvaluation {
            uid,
            hotkey: hotkey.into(),
            github_id: NO_GITHUB_ID.to_string(),
            failed_reason: None,
            total_score: 0.0,
            base_total_score: 0.0,
            total_lines_changed: 0,
            total_open_prs: 0,
            total_closed_prs: 0,
            total_merged_prs: 0,
            unique_repos_contributed_to: BTreeSet::new(),
            pull_requests: Vec::new(),
            validator_fault: None,
        }
    }

    /// A miner that could not be evaluated through the validator's fault.
    pub fn failed_by_validator(
        uid: u16,
        hotkey: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        let reason = reason.into();
        let mut e = MinerEvaluation::failed(uid, hotkey, reason.clone());
        e.validator_fault = Some(reason);
        e
    }

    /// An evaluation that ended with `reason`.
    pub fn failed(uid: u16, hotkey: impl Into<String>, reason: impl Into<String>) -> Self {
        let mut e = MinerEvaluation::new(uid, hotkey);
        e.failed_reason = Some(reason.into());
        e
    }

    /// Takes in the collected pull requests and counts (§4).
    pub fn set_pull_requests(&mut self, collected: CollectedPrs) {
        self.total_open_prs = collected.open_pr_count;
        self.total_closed_prs = collected.closed_pr_count;
        self.total_merged_prs = collected.merged_pr_count;
        self.pull_requests = collected.pull_requests;
    }

    /// The counts the multipliers read.
    pub fn counts(&self) -> PrCounts {
        PrCounts {
            open: self.total_open_prs,
            closed: self.total_closed_prs,
            merged: self.total_merged_prs,
        }
    }

    /// Scores pull request `index` with its files (§6 to §8).
    pub fn score_pull_request(&mut self, index: usize, files: &[FileChange], ctx: &RoundContext) {
        let counts = self.counts();
        let Some(pr) = self.pull_requests.get_mut(index) else {
            return;
        };
        if pr.score(files, &ctx.languages, &ctx.repos, counts, ctx.now) {
            self.unique_repos_contributed_to.insert(pr.repo_key());
        }
    }

    /// `unique_repos_count`.
    pub fn unique_repos_count(&self) -> usize {
        self.unique_repos_contributed_to.len()
    }
}

/// The round's outcome: final reward per uid.
pub type Rewards = BTreeMap<u16, f64>;

/// Runs §9 over every miner's evaluation, in place, and returns the rewards
/// of every uid (uid 0 always among them: it receives the recycled share).
pub fn finish_round(evaluations: &mut [MinerEvaluation]) -> Rewards {
    remove_duplicate_accounts(evaluations);
    apply_uniqueness_and_totals(evaluations);
    let mut rewards: Vec<(u16, f64)> = normalize(evaluations);
    apply_dynamic_emissions(evaluations, &mut rewards);
    let mut out: Rewards = rewards.into_iter().collect();
    out.entry(RECYCLE_UID).or_insert(0.0);
    out
}

/// §9.1: every miner sharing a github id with another is emptied.
fn remove_duplicate_accounts(evaluations: &mut [MinerEvaluation]) {
    let mut uids_by_id: HashMap<String, Vec<u16>> = HashMap::new();
    for e in evaluations.iter() {
        if e.github_id != NO_GITHUB_ID {
            uids_by_id
                .entry(e.github_id.clone())
                .or_default()
                .push(e.uid);
        }
    }
    for e in evaluations.iter_mut() {
        if let Some(uids) = uids_by_id.get(&e.github_id).filter(|u| u.len() >= 2) {
            log::info!(
                "uid {}: github account shared by uids {uids:?}, emptied",
                e.uid
            );
            let reason = format!("{DUPLICATE_ACCOUNT} {uids:?}");
            *e = MinerEvaluation::failed(e.uid, std::mem::take(&mut e.hotkey), reason);
        }
    }
}

/// §9.2: uniqueness multiplier, earned scores and miner totals.
fn apply_uniqueness_and_totals(evaluations: &mut [MinerEvaluation]) {
    let mut repo_count: HashMap<&str, u32> = HashMap::new();
    let mut contributors = 0u32;
    for e in evaluations.iter() {
        if !e.unique_repos_contributed_to.is_empty() {
            contributors += 1;
        }
        for r in &e.unique_repos_contributed_to {
            *repo_count.entry(r.as_str()).or_default() += 1;
        }
    }
    if contributors == 0 {
        return;
    }
    let repo_count: HashMap<String, u32> = repo_count
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let c = f64::from(contributors);
    for e in evaluations.iter_mut() {
        for pr in e.pull_requests.iter_mut() {
            let count = f64::from(repo_count.get(&pr.repo_key()).copied().unwrap_or(0));
            // Upstream's grouping: the share first, then the boost. `1 +
            // 0.4 * (C - n + 1) / C` differs in the last bit (C=3, n=1).
            let uniqueness = (c - count + 1.0) / c;
            pr.repository_uniqueness_multiplier = 1.0 + uniqueness * UNIQUE_PR_BOOST;
            // `base * prod(multipliers)` as upstream writes it: the
            // multipliers are multiplied together first, which rounds
            // differently from a left-to-right product with the base.
            let multipliers = [
                pr.repo_weight_multiplier,
                pr.issue_multiplier,
                pr.open_pr_spam_multiplier,
                pr.repository_uniqueness_multiplier,
                pr.time_decay_multiplier,
                pr.gittensor_tag_multiplier,
                pr.merge_success_multiplier,
            ];
            pr.earned_score = pr.base_score * multipliers.iter().fold(1.0, |acc, m| acc * m);
            e.base_total_score += pr.base_score;
            e.total_score += pr.earned_score;
            e.total_lines_changed += pr.total_lines_scored;
        }
    }
}

/// §9.3: `total_score / sum`, or the raw totals when the sum is not positive.
fn normalize(evaluations: &[MinerEvaluation]) -> Vec<(u16, f64)> {
    let sum: f64 = evaluations.iter().map(|e| e.total_score).sum();
    evaluations
        .iter()
        .map(|e| {
            let r = if sum > 0.0 {
                e.total_score / sum
            } else {
                e.total_score
            };
            (e.uid, r)
        })
        .collect()
}

/// `min(1, (1 - m) + m * (1 - exp(-k * v)))`.
pub fn unlock(value: f64, max_recycle: f64, decay_rate: f64) -> f64 {
    ((1.0 - max_recycle) + max_recycle * (1.0 - (-decay_rate * value).exp())).min(1.0)
}

/// The share of emissions a round pays out (§9.4).
pub fn emission_scalar(lines: i64, repos: usize) -> f64 {
    let by_lines = unlock(
        lines as f64,
        LINES_CONTRIBUTED_MAX_RECYCLE,
        LINES_CONTRIBUTED_RECYCLE_DECAY_RATE,
    );
    let by_repos = unlock(
        repos as f64,
        UNIQUE_PRS_MAX_RECYCLE,
        UNIQUE_PRS_RECYCLE_DECAY_RATE,
    );
    (by_lines + by_repos) / 2.0
}

/// §9.4: scales every reward and gives the rest to the recycle uid.
fn apply_dynamic_emissions(evaluations: &[MinerEvaluation], rewards: &mut Vec<(u16, f64)>) {
    let lines: i64 = evaluations
        .iter()
        .filter(|e| e.total_score > 0.0)
        .map(|e| e.total_lines_changed)
        .sum();
    let repos: BTreeSet<&str> = evaluations
        .iter()
        .flat_map(|e| e.unique_repos_contributed_to.iter().map(String::as_str))
        .collect();
    let scalar = emission_scalar(lines, repos.len());
    let sum_before: f64 = rewards.iter().map(|(_, r)| r).sum();
    for (_, r) in rewards.iter_mut() {
        *r *= scalar;
    }
    let floor = if sum_before <= 0.0 { 1.0 } else { 0.0 };
    let recycled = (sum_before * (1.0 - scalar)).max(floor);
    match rewards.iter_mut().find(|(uid, _)| *uid == RECYCLE_UID) {
        Some((_, r)) => *r += recycled,
        None => rewards.push((RECYCLE_UID, recycled)),
    }
}
