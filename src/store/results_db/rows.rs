//! A round as the rows of the results database: pure (no I/O, no clock),
//! so the mapping is tested without a server.
//!
//! 2.0.7 stores, for every miner of its round (`DatabaseStorage.
//! store_evaluation`, twice a round with the same values): its `miners` row,
//! its pull requests, the closed issues they reference, their file changes,
//! and its `miner_evaluations` row. The values here are that evaluation as
//! its round leaves it; where our evaluation says more than 2.0.7's (a
//! duplicate account's reason, the recycle uid's hotkey), the row says
//! what 2.0.7's would.

use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use crate::scoring::files::extension;
use crate::scoring::round::DUPLICATE_ACCOUNT;
use crate::scoring::{MinerEvaluation, PullRequest, RoundReport, RECYCLE_UID};

/// `miners`: one miner's identity.
#[derive(Debug, Clone, PartialEq)]
pub struct MinerRow<'a> {
    /// uid.
    pub uid: i64,
    /// Hotkey ("" for the recycle uid and a miner that did not respond).
    pub hotkey: &'a str,
    /// GitHub id, or "0".
    pub github_id: &'a str,
}

/// `pull_requests`: one pull request and its multipliers.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)] // each field is the column of the same name
pub struct PullRequestRow<'a> {
    pub number: i64,
    pub repository_full_name: &'a str,
    pub uid: i64,
    pub hotkey: &'a str,
    pub github_id: &'a str,
    pub title: &'a str,
    pub author_login: &'a str,
    pub merged_at: PrimitiveDateTime,
    pub pr_created_at: PrimitiveDateTime,
    pub repo_weight_multiplier: f64,
    pub base_score: f64,
    pub issue_multiplier: f64,
    pub open_pr_spam_multiplier: f64,
    pub repository_uniqueness_multiplier: f64,
    pub time_decay_multiplier: f64,
    pub gittensor_tag_multiplier: f64,
    pub merge_success_multiplier: f64,
    pub earned_score: f64,
    pub additions: i64,
    pub deletions: i64,
    pub commits: i64,
    pub total_lines_scored: i64,
    pub gittensor_tagged: bool,
    pub merged_by_login: Option<&'a str>,
    pub description: Option<&'a str>,
    pub last_edited_at: Option<PrimitiveDateTime>,
}

/// `issues`: a closed issue a pull request references.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)] // each field is the column of the same name
pub struct IssueRow<'a> {
    pub number: i64,
    pub pr_number: i64,
    pub repository_full_name: &'a str,
    pub title: &'a str,
    pub created_at: Option<PrimitiveDateTime>,
    pub closed_at: Option<PrimitiveDateTime>,
}

/// `file_changes`: one file of a pull request.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)] // each field is the column of the same name
pub struct FileChangeRow<'a> {
    pub pr_number: i64,
    pub repository_full_name: &'a str,
    pub filename: &'a str,
    pub changes: i64,
    pub additions: i64,
    pub deletions: i64,
    pub status: &'a str,
    pub patch: Option<&'a str>,
    pub file_extension: String,
}

/// `miner_evaluations`: one miner's totals.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)] // each field is the column of the same name
pub struct EvaluationRow<'a> {
    pub uid: i64,
    pub hotkey: &'a str,
    pub github_id: &'a str,
    pub failed_reason: Option<&'a str>,
    pub base_total_score: f64,
    pub total_score: f64,
    pub total_lines_changed: i64,
    pub total_open_prs: i64,
    pub total_closed_prs: i64,
    pub total_merged_prs: i64,
    pub total_prs: i64,
    pub unique_repos_count: i64,
}

/// Everything 2.0.7 stores for one miner, in the order it stores it.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)] // each field is the column of the same name
pub struct MinerRows<'a> {
    pub miner: MinerRow<'a>,
    pub pull_requests: Vec<PullRequestRow<'a>>,
    pub issues: Vec<IssueRow<'a>>,
    pub file_changes: Vec<FileChangeRow<'a>>,
    pub evaluation: EvaluationRow<'a>,
}

/// `gv_round_history`: one uid in one round (ours; 2.0.7 keeps only the
/// latest evaluation per miner).
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRow {
    /// The round's `now`, UTC.
    pub round_now: PrimitiveDateTime,
    /// The uid.
    pub uid: i64,
    /// Its hotkey in the round ("" when it did not respond).
    pub hotkey: String,
    /// Its GitHub id, or "0".
    pub github_id: String,
    /// The round's reward for the uid (after normalisation and emissions).
    pub reward: f64,
    /// The miner's `total_score`.
    pub score: f64,
    /// Why the miner was not scored, as the report says it.
    pub failed_reason: Option<String>,
    /// Whether the round was discarded (SCORING.md §11.9.7).
    pub discarded: bool,
    /// Why.
    pub discarded_reason: Option<String>,
}

/// A round's rows.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundRows<'a> {
    /// The round's `now`, UTC.
    pub now: PrimitiveDateTime,
    /// 2.0.7's rows, miner by miner in uid order (as 2.0.7 iterates its
    /// sorted uids). Empty for a discarded round: its evaluations failed on
    /// our side and say nothing about the miners, so the latest-evaluation
    /// tables keep the last round that did.
    pub miners: Vec<MinerRows<'a>>,
    /// Our history: every uid of the round, discarded or not.
    pub history: Vec<HistoryRow>,
}

/// A time as 2.0.7's rows hold it: UTC, without a zone (its columns are
/// `TIMESTAMP`; psycopg2 sends aware datetimes that the server turns into
/// UTC under a UTC `TimeZone`).
pub fn utc(t: OffsetDateTime) -> PrimitiveDateTime {
    let t = t.to_offset(UtcOffset::UTC);
    PrimitiveDateTime::new(t.date(), t.time())
}

/// The rows of a finished, judged round.
pub fn round_rows(report: &RoundReport) -> RoundRows<'_> {
    let now =
        time::OffsetDateTime::parse(&report.now, &time::format_description::well_known::Rfc3339)
            .map(utc)
            .unwrap_or(PrimitiveDateTime::MIN);
    let mut evaluations: Vec<&MinerEvaluation> = report.evaluations_in_full.iter().collect();
    evaluations.sort_by_key(|e| e.uid);
    let miners = if report.discarded.is_some() {
        Vec::new()
    } else {
        evaluations.iter().map(|e| miner_rows(e)).collect()
    };
    let history = report
        .rewards
        .iter()
        .map(|(&uid, &reward)| {
            let e = report.evaluations.get(&uid);
            HistoryRow {
                round_now: now,
                uid: i64::from(uid),
                hotkey: e.map(|e| e.hotkey.clone()).unwrap_or_default(),
                github_id: e.map_or_else(|| "0".to_string(), |e| e.github_id.clone()),
                reward,
                score: e.map_or(0.0, |e| e.total_score),
                failed_reason: e.and_then(|e| e.failed_reason.clone()),
                discarded: report.discarded.is_some(),
                discarded_reason: report.discarded.clone(),
            }
        })
        .collect();
    RoundRows {
        now,
        miners,
        history,
    }
}

/// One miner's rows, as 2.0.7's `store_evaluation` writes them.
pub fn miner_rows(e: &MinerEvaluation) -> MinerRows<'_> {
    // 2.0.7 builds the recycle uid's evaluation with hotkey "".
    let hotkey = if e.uid == RECYCLE_UID {
        ""
    } else {
        e.hotkey.as_str()
    };
    // 2.0.7 empties a duplicate account's evaluation without a reason.
    let failed_reason = e
        .failed_reason
        .as_deref()
        .filter(|r| !r.starts_with(DUPLICATE_ACCOUNT));
    let uid = i64::from(e.uid);
    let pull_requests = e
        .pull_requests
        .iter()
        .map(|pr| pull_request_row(pr, uid, hotkey, &e.github_id))
        .collect();
    let issues = e
        .pull_requests
        .iter()
        .flat_map(|pr| {
            pr.issues.iter().map(|i| IssueRow {
                number: to_i64(i.number),
                pr_number: to_i64(pr.number),
                repository_full_name: &pr.repository_full_name,
                title: &i.title,
                created_at: i.created_at.map(utc),
                closed_at: i.closed_at.map(utc),
            })
        })
        .collect();
    let file_changes = e
        .pull_requests
        .iter()
        .flat_map(|pr| {
            pr.files.iter().map(|f| FileChangeRow {
                pr_number: to_i64(pr.number),
                repository_full_name: &pr.repository_full_name,
                filename: &f.filename,
                changes: f.changes,
                additions: f.additions,
                deletions: f.deletions,
                status: &f.status,
                patch: f.patch.as_deref(),
                file_extension: extension(&f.filename),
            })
        })
        .collect();
    MinerRows {
        miner: MinerRow {
            uid,
            hotkey,
            github_id: &e.github_id,
        },
        pull_requests,
        issues,
        file_changes,
        evaluation: EvaluationRow {
            uid,
            hotkey,
            github_id: &e.github_id,
            failed_reason,
            base_total_score: e.base_total_score,
            total_score: e.total_score,
            total_lines_changed: e.total_lines_changed,
            total_open_prs: i64::from(e.total_open_prs),
            total_closed_prs: i64::from(e.total_closed_prs),
            total_merged_prs: i64::from(e.total_merged_prs),
            total_prs: to_i64(e.pull_requests.len()),
            unique_repos_count: to_i64(e.unique_repos_count()),
        },
    }
}

fn pull_request_row<'a>(
    pr: &'a PullRequest,
    uid: i64,
    hotkey: &'a str,
    github_id: &'a str,
) -> PullRequestRow<'a> {
    PullRequestRow {
        number: to_i64(pr.number),
        repository_full_name: &pr.repository_full_name,
        uid,
        hotkey,
        github_id,
        title: &pr.title,
        author_login: pr.author_login.as_deref().unwrap_or_default(),
        merged_at: utc(pr.merged_at),
        pr_created_at: utc(pr.created_at),
        repo_weight_multiplier: pr.repo_weight_multiplier,
        base_score: pr.base_score,
        issue_multiplier: pr.issue_multiplier,
        open_pr_spam_multiplier: pr.open_pr_spam_multiplier,
        repository_uniqueness_multiplier: pr.repository_uniqueness_multiplier,
        time_decay_multiplier: pr.time_decay_multiplier,
        gittensor_tag_multiplier: pr.gittensor_tag_multiplier,
        merge_success_multiplier: pr.merge_success_multiplier,
        earned_score: pr.earned_score,
        additions: pr.additions,
        deletions: pr.deletions,
        commits: pr.commits,
        total_lines_scored: pr.total_lines_scored,
        gittensor_tagged: pr.gittensor_tagged,
        merged_by_login: pr.merged_by_login.as_deref(),
        description: pr.description.as_deref(),
        last_edited_at: pr.last_edited_at.map(utc),
    }
}

/// A count or number as the database's integer: past `i64` it saturates
/// (and the server refuses it as 2.0.7's would be refused: out of range for
/// an `INTEGER` column).
fn to_i64<T: TryInto<i64>>(n: T) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}
