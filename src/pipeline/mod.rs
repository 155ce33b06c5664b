//! The scoring round: the pure layer and the blocking client joined, twice.
//!
//! - [`run_round`] is async (tokio): every miner's GitHub calls run through
//!   [`bridge::blocking`], miners concurrently up to a bound, one PAT's
//!   requests serially, each miner under a deadline; a heartbeat task
//!   measures how late the event loop runs.
//! - [`run_round_blocking`] is the same round as plain blocking code, one
//!   miner after another, for scripts and tests without a runtime.
//!
//! Both call [`evaluate_miner`] per miner and [`finish`] at the end, so they
//! give the same report on the same data.

mod heartbeat;
mod miner;
mod pats;
mod record;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::bridge;
pub use heartbeat::{Heartbeat, Lag};
pub use miner::{evaluate_miner, MinerInput, PhaseTimes};
pub use pats::{query_pats, query_pats_blocking, PatQuery, EVERY_UID_AT_ONCE};
pub use record::Recorder;

use crate::cancel::Cancel;
use crate::github::{Client, RequestStats};
use crate::scoring::{finish_round, MinerEvaluation, RoundContext, RoundReport};

/// Miners evaluated at once unless told otherwise: every uid of a full
/// subnet (256). GitHub's concurrency and rate limits are per user, each
/// miner's PAT belongs to a different user, and one PAT's requests stay
/// serial, so a lower bound only splits the round into waves: a 64-miner
/// round at 32 took 2.9x its longest chain, at 256 1.5x (issue 9).
pub const DEFAULT_CONCURRENCY: usize = 256;

/// Settings of an async round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoundOptions {
    /// Miners evaluated at once. Defaults to [`DEFAULT_CONCURRENCY`].
    pub concurrency: usize,
    /// Deadline of one miner; past it the miner fails with a reason.
    pub miner_timeout: Duration,
    /// Interval of the heartbeat that measures event-loop lag.
    pub heartbeat: Duration,
    /// Deadline of the whole round; past it every miner still running is
    /// cancelled and the round finishes with what it has.
    pub round_timeout: Option<Duration>,
    /// Keep every pull request's files (patches included) in its
    /// evaluation until the round ends, for the results database.
    /// Defaults to false: each PR's files are dropped once scored.
    pub keep_files: bool,
}

impl Default for RoundOptions {
    fn default() -> Self {
        RoundOptions {
            concurrency: DEFAULT_CONCURRENCY,
            miner_timeout: Duration::from_secs(300),
            heartbeat: Duration::from_millis(5),
            round_timeout: None,
            keep_files: false,
        }
    }
}

/// Finishes a round (SCORING.md §9) and builds its report with `stats`
/// filled from the request counts and phase times.
pub fn finish(
    mut evaluations: Vec<MinerEvaluation>,
    ctx: &RoundContext,
    requests: RequestStats,
    times: &PhaseTimes,
) -> RoundReport {
    let started = Instant::now();
    let rewards = finish_round(&mut evaluations);
    let mut report = RoundReport::new(ctx.now, &rewards, &evaluations);
    report.evaluations_in_full = Arc::new(evaluations);
    let evaluations = &report.evaluations_in_full;
    let ms = |nanos: &std::sync::atomic::AtomicU64| nanos.load(Ordering::Relaxed) / 1_000_000;
    let stats = &mut report.stats;
    stats.github_requests = requests.total();
    stats.github_retries = requests.retries;
    stats.github_rate_limit_waits = requests.rate_limit_waits;
    stats.github_not_modified = requests.not_modified;
    stats.files_from_store = requests.files_from_store;
    stats.requests_by_endpoint = [
        ("user", requests.user),
        ("graphql", requests.graphql),
        ("files", requests.files),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    stats.phase_ms = [
        ("identity", ms(&times.identity)),
        ("pull_requests", ms(&times.pull_requests)),
        ("files", ms(&times.files)),
        (
            "scoring",
            u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    stats.miners = evaluations.len();
    stats.github_miners = times.github_miners.load(Ordering::Relaxed);
    stats.validator_faults = evaluations
        .iter()
        .filter(|e| e.validator_fault.is_some())
        .count();
    report
}

/// The round as blocking code: one miner after another on this thread.
/// With a `recorder`, GitHub's answers are kept for a replay.
pub fn run_round_blocking(
    client: &Client,
    miners: &[MinerInput],
    ctx: &RoundContext,
    cancel: &Cancel,
    recorder: Option<&Recorder>,
) -> RoundReport {
    let started = Instant::now();
    let before = client.stats();
    let times = PhaseTimes::default();
    let evaluations = miners
        .iter()
        .map(|m| evaluate_miner(client, m, ctx, &cancel.child(), &times, recorder))
        .collect();
    client.save_file_store(ctx.now);
    let mut report = finish(evaluations, ctx, client.stats().since(&before), &times);
    report.stats.wall_ms = elapsed_ms(started);
    report
}

/// One miner's pull requests, scored, as a blocking call: the facade for a
/// script that looks at a single miner (the round's §9 steps not applied).
pub fn score_pull_requests(
    client: &Client,
    miner: &MinerInput,
    ctx: &RoundContext,
) -> MinerEvaluation {
    evaluate_miner(
        client,
        miner,
        ctx,
        &Cancel::new(),
        &PhaseTimes::default(),
        None,
    )
}

/// The round on tokio. Cancelling `cancel` (e.g. on Ctrl-C) makes every
/// miner still running fail with a reason at once; their blocking threads
/// end at their next check, within one request timeout.
pub async fn run_round(
    client: Client,
    miners: Vec<MinerInput>,
    ctx: Arc<RoundContext>,
    options: RoundOptions,
    cancel: Cancel,
) -> RoundReport {
    round(client, miners, ctx, options, cancel, None).await
}

/// [`run_round`], keeping every answer GitHub gave in `recorder`.
pub async fn run_round_recording(
    client: Client,
    miners: Vec<MinerInput>,
    ctx: Arc<RoundContext>,
    options: RoundOptions,
    cancel: Cancel,
    recorder: Arc<Recorder>,
) -> RoundReport {
    round(client, miners, ctx, options, cancel, Some(recorder)).await
}

/// What every miner task of a round shares.
struct Shared {
    client: Client,
    ctx: Arc<RoundContext>,
    times: PhaseTimes,
    limit: Arc<tokio::sync::Semaphore>,
    recorder: Option<Arc<Recorder>>,
    options: RoundOptions,
    timed_out: AtomicUsize,
}

async fn round(
    client: Client,
    miners: Vec<MinerInput>,
    ctx: Arc<RoundContext>,
    options: RoundOptions,
    cancel: Cancel,
    recorder: Option<Arc<Recorder>>,
) -> RoundReport {
    let started = Instant::now();
    let before = client.stats();
    let heartbeat = Heartbeat::start(options.heartbeat);
    let progress = Arc::new(Progress::new(miners.len()));
    let shared = Arc::new(Shared {
        client,
        ctx,
        times: PhaseTimes::default(),
        limit: Arc::new(tokio::sync::Semaphore::new(options.concurrency.max(1))),
        recorder,
        options,
        timed_out: AtomicUsize::new(0),
    });
    // The round's own flag: the caller's cancel, or the round's deadline.
    let cancel = cancel.child();
    let deadline = options.round_timeout.map(|d| {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(d).await;
            log::warn!("round deadline of {d:?} passed: cancelling the miners still running");
            cancel.cancel();
        })
    });
    // The round's cancel, seen from async code: miners stop waiting for
    // their blocking task at once (the task itself ends at its next check).
    let (cancelled_tx, cancelled_rx) = tokio::sync::watch::channel(false);
    cancel.on_cancel(move || {
        let _ = cancelled_tx.send(true);
    });
    // One lock per PAT: two uids with the same token are served one after
    // the other, as GitHub asks of one user's requests.
    let mut pat_locks: HashMap<[u8; 32], Arc<tokio::sync::Mutex<()>>> = HashMap::new();
    let mut tasks = Vec::with_capacity(miners.len());
    for miner in miners {
        let pat_lock = miner
            .pat
            .token()
            .map(|t| pat_locks.entry(t.fingerprint()).or_default().clone());
        let (shared, progress) = (shared.clone(), progress.clone());
        let miner_cancel = cancel.child();
        let mut round_cancelled = cancelled_rx.clone();
        tasks.push(tokio::spawn(async move {
            let uid = miner.uid;
            let hotkey = miner.hotkey.clone().unwrap_or_default();
            let evaluate = evaluate_with_deadline(shared, miner, pat_lock, miner_cancel);
            let eval = tokio::select! {
                e = evaluate => e,
                _ = round_cancelled.wait_for(|c| *c) => {
                    Err(format!("Evaluation of miner {uid} was cancelled"))
                }
            };
            progress.done_one();
            // A miner past its deadline, or cut off by the round's, failed
            // through no fault of its own.
            eval.unwrap_or_else(|reason| MinerEvaluation::failed_by_validator(uid, hotkey, reason))
        }));
    }
    let mut evaluations = Vec::with_capacity(tasks.len());
    for task in tasks {
        match task.await {
            Ok(e) => evaluations.push(e),
            // The task only awaits the bridge and builds values; a panic here
            // is a bug, and the round must still finish.
            Err(e) => log::error!("miner task failed: {e}"),
        }
    }
    if let Some(timer) = deadline {
        timer.abort();
    }
    let (client, now) = (shared.client.clone(), shared.ctx.now);
    if client.file_store().is_some() {
        if let Err(e) = bridge::blocking(move || client.save_file_store(now)).await {
            log::warn!("file store: cannot save ({e})");
        }
    }
    let requests = shared.client.stats().since(&before);
    let mut report = finish(evaluations, &shared.ctx, requests, &shared.times);
    report.stats.wall_ms = elapsed_ms(started);
    let lag = heartbeat.stop().await;
    report.stats.max_event_loop_lag_ms = lag.max_ms;
    report.stats.p99_event_loop_lag_ms = lag.p99_ms;
    report.stats.miners_timed_out = shared.timed_out.load(Ordering::Relaxed);
    report
}

async fn evaluate_with_deadline(
    shared: Arc<Shared>,
    miner: MinerInput,
    pat_lock: Option<Arc<tokio::sync::Mutex<()>>>,
    cancel: Cancel,
) -> Result<MinerEvaluation, String> {
    let uid = miner.uid;
    let deadline = shared.options.miner_timeout;
    let work = async {
        // The semaphore is never closed, so acquire cannot fail.
        let permit = shared
            .limit
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| "internal: semaphore closed".to_string())?;
        let guard = match pat_lock {
            Some(lock) => Some(lock.lock_owned().await),
            None => None,
        };
        let (cancel, shared) = (cancel.clone(), shared.clone());
        // The permit and the PAT guard move into the blocking task: they are
        // held until it really ends, even after the deadline stops the wait.
        bridge::blocking(move || {
            let _held = (permit, guard);
            let s = &*shared;
            let mut eval = evaluate_miner(
                &s.client,
                &miner,
                &s.ctx,
                &cancel,
                &s.times,
                s.recorder.as_deref(),
            );
            if !s.options.keep_files {
                // Patches are most of a round's memory: freed here, on
                // this thread, not held until the round ends.
                for pr in &mut eval.pull_requests {
                    pr.files = Vec::new();
                }
            }
            eval
        })
        .await
        .map_err(|e| format!("Evaluation of miner {uid} failed: {e}"))
    };
    match tokio::time::timeout(deadline, work).await {
        Ok(result) => result,
        Err(_) => {
            cancel.cancel();
            shared.timed_out.fetch_add(1, Ordering::Relaxed);
            log::warn!("uid {uid}: timed out after {deadline:?}");
            Err(format!(
                "Evaluation of miner {uid} timed out after {}s",
                deadline.as_secs_f64()
            ))
        }
    }
}

fn elapsed_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Miners done out of the total, in the log every tenth. Through the log
/// only: a counter of its own on a terminal ran into the log's lines.
struct Progress {
    total: usize,
    done: AtomicUsize,
}

impl Progress {
    fn new(total: usize) -> Progress {
        Progress {
            total,
            done: AtomicUsize::new(0),
        }
    }

    fn done_one(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let step = (self.total / 10).max(1);
        if done.is_multiple_of(step) || done == self.total {
            log::info!("{done}/{} miners evaluated", self.total);
        }
    }
}
