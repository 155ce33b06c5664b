//! One miner's evaluation, as blocking code: every GitHub call of one PAT,
//! in order, on the calling thread. The sync facade calls it directly; the
//! async round runs it through the bridge.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use super::{Recorder, RoundExtras};
use crate::cancel::Cancel;
use crate::github::{Client, Error as GithubError};
use crate::metagraph::MinerInput;
use crate::scoring::miner::{check_user, precheck};
use crate::scoring::{
    page_nodes, FileChange, GithubUser, MinerEvaluation, PrCollector, PullRequest, RoundContext,
    Stop,
};
use crate::store::files::FileStore;
use crate::token::{Pat, Token};

/// Time spent per phase, summed over miners (nanoseconds), how many
/// miners went to GitHub at all, and how many file lists came from the
/// file store instead.
#[derive(Debug, Default)]
pub struct PhaseTimes {
    /// Miners whose PAT was sent to GitHub.
    pub github_miners: AtomicUsize,
    /// Merged pull requests' file lists taken from the file store (not
    /// requests: not in the request counts).
    pub files_from_store: AtomicU64,
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

/// The one seam between a miner's evaluation and GitHub: every answer
/// passes here, where the round's file store is asked before GitHub and
/// given what GitHub sent, and the recorder keeps what the miner was told.
struct Seam<'a> {
    client: &'a Client,
    token: &'a Token,
    cancel: &'a Cancel,
    times: &'a PhaseTimes,
    files: Option<&'a FileStore>,
    /// The recorder and the miner's placeholder PAT.
    recorder: Option<(&'a Recorder, Option<String>)>,
}

impl Seam<'_> {
    fn user(&self) -> Result<GithubUser, GithubError> {
        let user = self.client.user(self.token, self.cancel)?;
        if let Some((r, Some(placeholder))) = &self.recorder {
            r.user(placeholder, &user);
        }
        Ok(user)
    }

    fn pull_requests(
        &self,
        github_id: &str,
        collector: &mut PrCollector<'_>,
    ) -> Result<Stop, GithubError> {
        // The recording keeps each page's nodes as GitHub sent them;
        // scoring never sees it.
        let mut raw_nodes = Vec::new();
        let mut keep = |answer: &serde_json::Value| {
            if self.recorder.is_some() {
                raw_nodes.extend(page_nodes(answer).iter().cloned());
            }
        };
        let collected = self.client.collect_pull_requests(
            self.token,
            github_id,
            collector,
            self.cancel,
            &mut keep,
        );
        if let Some((r, _)) = &self.recorder {
            if !matches!(collected, Err(GithubError::Cancelled)) {
                r.pull_requests(github_id, raw_nodes);
            }
        }
        collected
    }

    /// A merged pull request's files: from the store when it holds them,
    /// else from GitHub, whose complete answer (a 200 for every page asked)
    /// the store then keeps.
    fn files(&self, pr: &PullRequest) -> Result<Vec<FileChange>, GithubError> {
        let (repository, number) = (&pr.repository_full_name, pr.number);
        let all = self.client.config().all_file_pages();
        let kept = self
            .files
            .and_then(|s| s.get(repository, number, pr.merged_at, all));
        let files = match kept {
            Some(files) => {
                self.times.files_from_store.fetch_add(1, Ordering::Relaxed);
                files
            }
            None => {
                let list =
                    self.client
                        .pull_request_files(self.token, repository, number, self.cancel)?;
                if let Some(store) = self.files.filter(|_| list.complete) {
                    store.put(repository, number, pr.merged_at, all, &list.files);
                }
                list.files
            }
        };
        if let Some((r, _)) = &self.recorder {
            r.files(repository, number, &files);
        }
        Ok(files)
    }
}

/// Evaluates one miner (SCORING.md §3 to §8): validation, pull requests,
/// files and multipliers. Never fails: a GitHub failure becomes a
/// `failed_reason` or an empty list, as the reference validator does.
/// Every GitHub call goes through one seam, which applies `extras` (the
/// recorder, the file store).
pub fn evaluate_miner(
    client: &Client,
    miner: &MinerInput,
    ctx: &RoundContext,
    cancel: &Cancel,
    times: &PhaseTimes,
    extras: &RoundExtras,
) -> MinerEvaluation {
    let uid = miner.uid;
    let recorder = extras.recorder.as_deref();
    // Every miner is in the recording's miners file, the failed ones too.
    let recorder = recorder.map(|r| (r, r.miner(miner)));
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
    let seam = miner.pat.token().map(|token| Seam {
        client,
        token,
        cancel,
        times,
        files: extras.files.as_deref(),
        recorder,
    });
    let user = match &seam {
        Some(seam) => {
            times.github_miners.fetch_add(1, Ordering::Relaxed);
            match seam.user() {
                Ok(user) => Some(user),
                Err(GithubError::Cancelled) => return cancelled(uid, hotkey),
                Err(e) => {
                    log::info!("uid {uid}: GET /user failed: {e}");
                    note("GET /user", &e);
                    None
                }
            }
        }
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
    let Some(seam) = seam else {
        return MinerEvaluation::failed(uid, hotkey, "internal: no token");
    };
    let mut eval = MinerEvaluation::new(uid, hotkey);
    eval.github_id = github_id;

    let started = Instant::now();
    let mut collector = PrCollector::new(&ctx.repos, ctx.now);
    match seam.pull_requests(&eval.github_id, &mut collector) {
        Ok(stop) => log::debug!("uid {uid}: pull requests done: {stop:?}"),
        Err(GithubError::Cancelled) => return cancelled(uid, eval.hotkey),
        Err(e) => {
            log::warn!("uid {uid}: pull request page failed, keeping earlier pages: {e}");
            note("GraphQL pull requests", &e);
        }
    }
    eval.set_pull_requests(collector.finish());
    PhaseTimes::add(&times.pull_requests, started);

    let started = Instant::now();
    for i in 0..eval.pull_requests.len() {
        let pr = &eval.pull_requests[i];
        let files = match seam.files(pr) {
            Ok(files) => files,
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
