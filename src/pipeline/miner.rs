//! One miner's evaluation, as blocking code: every GitHub call of one PAT,
//! in order, on the calling thread. The sync facade calls it directly; the
//! async round runs it through the bridge.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use super::Recorder;
use crate::cancel::Cancel;
use crate::github::{Client, Error as GithubError};
use crate::scoring::miner::{check_user, precheck};
use crate::scoring::{page_nodes, MinerEvaluation, PrCollector, RoundContext};
use crate::token::Pat;

/// A miner's answer to the validator's query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinerInput {
    /// The miner's uid.
    pub uid: u16,
    /// The hotkey; `None` when the miner did not respond.
    pub hotkey: Option<String>,
    /// The PAT it sent.
    pub pat: Pat,
}

/// Time spent per phase, summed over miners (nanoseconds), and how many
/// miners went to GitHub at all.
#[derive(Debug, Default)]
pub struct PhaseTimes {
    /// Miners whose PAT was sent to GitHub.
    pub github_miners: AtomicUsize,
    /// `/user` and validation.
    pub identity: AtomicU64,
    /// GraphQL paging.
    pub pull_requests: AtomicU64,
    /// `/files` and file scoring.
    pub files: AtomicU64,
}

impl PhaseTimes {
    fn add(slot: &AtomicU64, since: Instant) {
        let nanos = u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX);
        slot.fetch_add(nanos, Ordering::Relaxed);
    }
}

/// Evaluates one miner (SCORING.md §3 to §8): validation, pull requests,
/// files and multipliers. Never fails: a GitHub failure becomes a
/// `failed_reason` or an empty list, as the reference validator does.
/// With a `recorder`, every answer GitHub gave is kept for a replay.
pub fn evaluate_miner(
    client: &Client,
    miner: &MinerInput,
    ctx: &RoundContext,
    cancel: &Cancel,
    times: &PhaseTimes,
    recorder: Option<&Recorder>,
) -> MinerEvaluation {
    let uid = miner.uid;
    let placeholder = recorder.and_then(|r| r.miner(miner));
    let hotkey = miner.hotkey.clone().unwrap_or_default();
    if let Err(reason) = precheck(uid, miner.hotkey.is_some(), miner.pat != Pat::Missing) {
        return MinerEvaluation::failed(uid, hotkey, reason);
    }
    let started = Instant::now();
    // The first failure on the validator's side, if any: the evaluation
    // goes on as 2.0.7's does, and the round's verdict counts it.
    let mut fault: Option<String> = None;
    let mut note = |what: &str, e: &GithubError| {
        if e.is_ours() && fault.is_none() {
            fault = Some(format!("{what}: {e}"));
        }
    };
    if miner.pat.token().is_some() {
        times.github_miners.fetch_add(1, Ordering::Relaxed);
    }
    let user = match miner.pat.token() {
        Some(token) => match client.user(token, cancel) {
            Ok(user) => {
                if let (Some(r), Some(p)) = (recorder, &placeholder) {
                    r.user(p, &user);
                }
                Some(user)
            }
            Err(GithubError::Cancelled) => return cancelled(uid, hotkey),
            Err(e) => {
                log::info!("uid {uid}: GET /user failed: {e}");
                note("GET /user", &e);
                None
            }
        },
        None => {
            log::info!("uid {uid}: PAT is not a valid token, not sent");
            None
        }
    };
    PhaseTimes::add(&times.identity, started);
    let github_id = match check_user(uid, user.as_ref(), ctx.now) {
        Ok(id) => id,
        Err(reason) => {
            let mut e = MinerEvaluation::failed(uid, hotkey, reason);
            e.validator_fault = fault;
            return e;
        }
    };
    // check_user only succeeds with a user, which needs a token.
    let Some(token) = miner.pat.token() else {
        return MinerEvaluation::failed(uid, hotkey, "internal: no token");
    };
    let mut eval = MinerEvaluation::new(uid, hotkey);
    eval.github_id = github_id;

    let started = Instant::now();
    let mut collector = PrCollector::new(&ctx.repos, ctx.now);
    // The recording keeps each page's nodes as GitHub sent them; scoring
    // never sees it.
    let mut raw_nodes = Vec::new();
    let mut keep = |answer: &serde_json::Value| {
        if recorder.is_some() {
            raw_nodes.extend(page_nodes(answer).iter().cloned());
        }
    };
    let collected = client.collect_pull_requests_seen(
        token,
        &eval.github_id,
        &mut collector,
        cancel,
        &mut keep,
    );
    match collected {
        Ok(stop) => log::debug!("uid {uid}: pull requests done: {stop:?}"),
        Err(GithubError::Cancelled) => return cancelled(uid, eval.hotkey),
        Err(e) => {
            log::warn!("uid {uid}: pull request page failed, keeping earlier pages: {e}");
            note("GraphQL pull requests", &e);
        }
    }
    let collected = collector.finish();
    if let Some(r) = recorder {
        r.pull_requests(&eval.github_id, raw_nodes);
    }
    eval.set_pull_requests(collected);
    PhaseTimes::add(&times.pull_requests, started);

    let started = Instant::now();
    for i in 0..eval.pull_requests.len() {
        let pr = &eval.pull_requests[i];
        let (repository, number) = (&pr.repository_full_name, pr.number);
        let files =
            match client.merged_pull_request_files(token, repository, number, pr.merged_at, cancel)
            {
                Ok(files) => {
                    if let Some(r) = recorder {
                        r.files(&pr.repository_full_name, pr.number, &files);
                    }
                    files
                }
                Err(GithubError::Cancelled) => return cancelled(uid, eval.hotkey),
                Err(e) => {
                    log::info!(
                        "uid {uid}: files of {}#{} failed: {e}",
                        pr.repository_full_name,
                        pr.number
                    );
                    note("pull request files", &e);
                    Vec::new()
                }
            };
        eval.score_pull_request(i, &files, ctx);
        // Moved, not copied: the async round drops them at once unless the
        // results database wants them (`RoundOptions::keep_files`).
        eval.pull_requests[i].files = files;
    }
    PhaseTimes::add(&times.files, started);
    eval.validator_fault = fault;
    log::debug!(
        "uid {uid}: {} pull requests scored",
        eval.pull_requests.len()
    );
    eval
}

fn cancelled(uid: u16, hotkey: String) -> MinerEvaluation {
    MinerEvaluation::failed_by_validator(
        uid,
        hotkey,
        format!("Evaluation of miner {uid} was cancelled"),
    )
}
