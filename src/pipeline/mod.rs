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
//! give the same report on the same data, and take the same
//! [`RoundExtras`]: a recorder, and the file store the round asks before
//! asking GitHub for a merged pull request's files.

mod heartbeat;
mod miner;
mod pats;
mod record;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::bridge;
use crate::metagraph::MinerInput;
pub use heartbeat::{Heartbeat, Lag};
pub use miner::{evaluate_miner, PhaseTimes};
pub use pats::{query_pats, query_pats_blocking, PatQuery, EVERY_UID_AT_ONCE};
pub use record::Recorder;

use crate::cancel::Cancel;
use crate::github::{Client, RequestStats};
use crate::scoring::{finish_round, MinerEvaluation, RoundContext, RoundReport};
use crate::store::files::FileStore;

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

/// What a round may carry besides its miners; none of it changes a score.
/// Both default to none.
#[derive(Debug, Clone, Default)]
pub struct RoundExtras {
    /// Keeps every answer GitHub gave, for a replay ([`Recorder::finish`]).
    pub recorder: Option<Arc<Recorder>>,
    /// Merged pull requests' files kept across rounds: asked before GitHub,
    /// given every complete list GitHub sent, saved after the round (a
    /// failed save is a WARN, and the next round asks GitHub again).
    pub files: Option<Arc<FileStore>>,
}

/// Saves the round's file store, if any; a failure is a WARN (the store
/// keeps it for `/readyz`: [`FileStore::save_error`]).
fn save_files(store: &FileStore, now: time::OffsetDateTime) {
    if let Err(e) = store.save(now) {
        log::warn!("file store: cannot save ({e}); the next round asks again");
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
    stats.files_from_store = times.files_from_store.load(Ordering::Relaxed);
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

/// The round as blocking code: one miner after another on this thread,
/// the same per-miner code and report as [`run_round`], without a runtime.
///
/// ```
/// # use std::{path::Path, time::Duration};
/// use gittensor_validator::cancel::Cancel;
/// use gittensor_validator::github::{Client, ClientConfig};
/// use gittensor_validator::pipeline::{run_round_blocking, RoundExtras};
/// use gittensor_validator::scoring::{LanguageWeights, MasterRepositories, RoundContext};
/// # use gittensor_validator::{inputs::parse_miners, replay::Snapshot, testkit::fakehub::FakeHub};
/// # let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample");
/// # let read = |f: &str| std::fs::read_to_string(sample.join(f)).unwrap();
/// # let snapshot: Snapshot = serde_json::from_str(&read("snapshot.json")).unwrap();
/// // The bundled sample: a local server answering as GitHub did, its miners
/// // and weight tables.
/// let hub = FakeHub::start(snapshot, Duration::ZERO, None)?;
/// let client = Client::new(ClientConfig::builder().base_url(hub.url()).build());
/// let miners = parse_miners(&read("miners.json"), Path::new("miners.json"))?;
/// let ctx = RoundContext {
///     repos: MasterRepositories::parse(&read("repositories.json"), "sample")?,
///     languages: LanguageWeights::parse(&read("languages.json"), "sample")?,
///     now: time::macros::datetime!(2025-12-20 12:00 UTC),
/// };
///
/// let report = run_round_blocking(&client, &miners, &ctx, &Cancel::new(), &RoundExtras::default());
/// // uid 1 (alice): her share of the round, the same bits as `run_round`'s.
/// assert_eq!(report.rewards[&1], 0.03505072074156853);
/// assert!((report.rewards.values().sum::<f64>() - 1.0).abs() < 1e-12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn run_round_blocking(
    client: &Client,
    miners: &[MinerInput],
    ctx: &RoundContext,
    cancel: &Cancel,
    extras: &RoundExtras,
) -> RoundReport {
    let started = Instant::now();
    let before = client.stats();
    let times = PhaseTimes::default();
    let evaluations = miners
        .iter()
        .map(|m| evaluate_miner(client, m, ctx, &cancel.child(), &times, extras))
        .collect();
    if let Some(store) = &extras.files {
        save_files(store, ctx.now);
    }
    let mut report = finish(evaluations, ctx, client.stats().since(&before), &times);
    report.stats.wall_ms = elapsed_ms(started);
    report
}

/// One miner's pull requests, scored, as a blocking call: the facade for a
/// script that looks at a single miner (the round's §9 steps not applied).
///
/// ```
/// # use std::{path::Path, time::Duration};
/// use gittensor_validator::github::{Client, ClientConfig};
/// use gittensor_validator::metagraph::MinerInput;
/// use gittensor_validator::pipeline::score_pull_requests;
/// use gittensor_validator::scoring::{LanguageWeights, MasterRepositories, RoundContext};
/// use gittensor_validator::token::{Pat, Token};
/// # use gittensor_validator::{replay::Snapshot, testkit::fakehub::FakeHub};
/// # let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample");
/// # let read = |f: &str| std::fs::read_to_string(sample.join(f)).unwrap();
/// # let snapshot: Snapshot = serde_json::from_str(&read("snapshot.json")).unwrap();
/// let hub = FakeHub::start(snapshot, Duration::ZERO, None)?;
/// let client = Client::new(ClientConfig::builder().base_url(hub.url()).build());
/// let ctx = RoundContext {
///     repos: MasterRepositories::parse(&read("repositories.json"), "sample")?,
///     languages: LanguageWeights::parse(&read("languages.json"), "sample")?,
///     now: time::macros::datetime!(2025-12-20 12:00 UTC),
/// };
/// let alice = MinerInput {
///     uid: 1,
///     hotkey: Some("5DemoHotkeyAlice".into()),
///     pat: Pat::Valid(Token::new("demo-token-alice").ok_or("token")?),
/// };
///
/// let evaluation = score_pull_requests(&client, &alice, &ctx);
/// assert_eq!(evaluation.github_id, "1001");
/// // Two of her four pull requests count, each scored before §9's steps.
/// assert_eq!(evaluation.pull_requests.len(), 2);
/// assert_eq!(evaluation.pull_requests[0].base_score, 20.9);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn score_pull_requests(
    client: &Client,
    miner: &MinerInput,
    ctx: &RoundContext,
) -> MinerEvaluation {
    let (times, extras) = (PhaseTimes::default(), RoundExtras::default());
    evaluate_miner(client, miner, ctx, &Cancel::new(), &times, &extras)
}

/// What every miner task of a round shares.
struct Shared {
    client: Client,
    ctx: Arc<RoundContext>,
    times: PhaseTimes,
    limit: Arc<tokio::sync::Semaphore>,
    extras: RoundExtras,
    options: RoundOptions,
    timed_out: AtomicUsize,
}

/// The round on tokio. Cancelling `cancel` (e.g. on Ctrl-C) makes every
/// miner still running fail with a reason at once; their blocking threads
/// end at their next check, within one request timeout. With a recorder
/// or a file store in `extras`, see [`RoundExtras`]; the store is saved
/// through the bridge, off the event loop.
pub async fn run_round(
    client: Client,
    miners: Vec<MinerInput>,
    ctx: Arc<RoundContext>,
    options: RoundOptions,
    cancel: Cancel,
    extras: RoundExtras,
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
        extras,
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
        let (miner_cancel, round_cancel) = (cancel.child(), cancel.clone());
        tasks.push(tokio::spawn(async move {
            let uid = miner.uid;
            let hotkey = miner.hotkey.clone().unwrap_or_default();
            let evaluate = evaluate_with_deadline(shared, miner, pat_lock, miner_cancel);
            // On the round's cancel the miner stops waiting for its
            // blocking task at once (the task ends at its next check).
            let eval = tokio::select! {
                e = evaluate => e,
                _ = round_cancel.cancelled() => {
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
    if let Some(store) = shared.extras.files.clone() {
        let now = shared.ctx.now;
        if let Err(e) = bridge::blocking(move || save_files(&store, now)).await {
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
            let mut eval = evaluate_miner(&s.client, &miner, &s.ctx, &cancel, &s.times, &s.extras);
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
