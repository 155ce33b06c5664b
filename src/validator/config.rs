//! What the loops need to know, built by `cli` from the flags: no clap
//! types here.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::bridge;
use crate::github::Client;
use crate::health::{Board, Concern};
use crate::inputs;
use crate::pipeline::{Heartbeat, RoundOptions};
use crate::scoring::state::Cadence;
use crate::scoring::trust::WatchLimits;
use crate::scoring::verdict::{verdict, Verdict};
use crate::scoring::{RoundContext, RoundReport};
use crate::store::files::FileStore;
use crate::store::results_db::ResultsDb;
use crate::testkit::fakehub::FakeHub;
use crate::wallet::Hotkey;
use time::OffsetDateTime;

use super::round::RoundMiners;
use super::tables::Tables;
use super::Shutdown;

/// `validate`'s settings.
pub struct ValidateConfig {
    /// The scalars the step loop reads as it goes.
    pub settings: Settings,
    /// The validator's hotkey.
    pub hotkey: Hotkey,
    /// Where the neurons come from.
    pub neurons: NeuronsFrom,
    /// `state.json`, `report.json`, `weights.json`.
    pub state_dir: PathBuf,
    /// Where a Python validator's `state.npz` is looked for: `state_dir`,
    /// or the Python validator's folder for a dry run's own `state_dir`.
    pub python_dir: PathBuf,
    /// Where `/healthz`, `/readyz` and `/metrics` are served.
    pub health_addr: Option<SocketAddr>,
    /// Rounds, resyncs and weights, in steps and blocks.
    pub cadence: Cadence,
    /// The GitHub side of the rounds.
    pub github: Github,
}

/// Where `validate`'s neurons come from, as the flags chose.
pub enum NeuronsFrom {
    /// Subtensor at this endpoint, watched for consensus with these limits.
    Chain {
        endpoint: String,
        watch: WatchLimits,
    },
    /// `--metagraph FILE`: no chain, nothing submitted.
    File(PathBuf),
}

/// The scalars of `validate`'s step loop.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// The subnet.
    pub netuid: u16,
    /// Stop after this many rounds (and the weights after the last).
    pub rounds: Option<u64>,
    /// Compute and log the weights, submit nothing.
    pub dry_run: bool,
    /// Time between two steps.
    pub step_interval: Duration,
    /// One axon query's deadline.
    pub dendrite_timeout: Duration,
    /// The weights version key sent.
    pub version_key: u64,
    /// Moving-average weight of a round's rewards.
    pub alpha: f64,
}

/// `run`'s settings.
pub struct RunConfig {
    /// `state.json`, `weights.json`, `report.json`.
    pub state_dir: PathBuf,
    /// Time between round starts.
    pub interval: Duration,
    /// Stop after this many rounds.
    pub rounds: Option<u64>,
    /// Moving-average weight of a round's rewards.
    pub alpha: f64,
    /// Where `/healthz`, `/readyz` and `/metrics` are served.
    pub health_addr: Option<SocketAddr>,
    /// One axon query's deadline, when the PATs come from axons.
    pub dendrite_timeout: Duration,
    /// Where the miners come from.
    pub source: Source,
    /// The GitHub side of the rounds.
    pub github: Github,
}

/// Where the miners come from: a file, and what a round starts from as it
/// was last read from it.
pub struct Source {
    /// The miners file or the metagraph file.
    pub path: PathBuf,
    /// The miners it held, or its neurons and the dendrite to ask them.
    pub miners: RoundMiners,
}

impl Source {
    /// The miners of the next round: the file read again (operators update
    /// it), or the last good one when it went bad, which is logged.
    pub async fn reload(&mut self) {
        let p = self.path.clone();
        match &mut self.miners {
            RoundMiners::Listed(miners) => {
                match bridge::blocking(move || inputs::load_miners(&p)).await {
                    Ok(Ok(fresh)) => *miners = fresh,
                    Ok(Err(e)) => log::error!("{e}; keeping the miners of the last round"),
                    Err(e) => log::error!(
                        "reading the miners file: {e}; keeping the miners of the last round"
                    ),
                }
            }
            RoundMiners::Axons(_, metagraph) => {
                match bridge::blocking(move || inputs::load_metagraph(&p)).await {
                    Ok(Ok(fresh)) => *metagraph = fresh,
                    Ok(Err(e)) => log::error!("{e}; keeping the metagraph of the last round"),
                    Err(e) => log::error!(
                        "reading the metagraph file: {e}; keeping the metagraph of the last round"
                    ),
                }
            }
        }
    }
}

/// The GitHub side of rounds, read and checked before anything runs.
pub struct Github {
    /// The weight tables: read at start, and again at every round of a loop.
    pub tables: Tables,
    /// Where GitHub is (for messages): the API URL, or the replay's file.
    pub url: String,
    pub client: Client,
    /// Merged pull requests' files kept across rounds (the state folder's
    /// `pr-files.json`); the round asks it before GitHub.
    pub files: Option<Arc<FileStore>>,
    pub now: Option<OffsetDateTime>,
    pub options: RoundOptions,
    /// `--discard-threshold`.
    pub discard_threshold: f64,
    /// The results database, when `--database.store_validation_results`.
    pub results: Option<ResultsDb>,
    pub _replay: Option<FakeHub>,
}

impl Github {
    /// The context of a loop's next round: the weight tables read again
    /// (a refusal on the board until the file is mended) and the round's
    /// "now".
    pub async fn next_round(&mut self, board: &Board) -> Arc<RoundContext> {
        self.tables.refresh().await;
        let problems = self.tables.problems();
        board.tables_refused(problems.len());
        board.concern(
            Concern::Tables,
            (!problems.is_empty()).then(|| problems.join("; ")),
        );
        let (repos, languages) = self.tables.current();
        Arc::new(RoundContext {
            repos,
            languages,
            now: self.now.unwrap_or_else(OffsetDateTime::now_utc),
        })
    }
}

/// How long a loop's end waits for the results database's unwritten
/// rounds: at the end of `--rounds` or `score`, and after a signal.
const FLUSH_AT_END: Duration = Duration::from_secs(60);
const FLUSH_ON_SIGNAL: Duration = Duration::from_secs(5);

impl Github {
    /// Starts the results database's writer, when it is on: it connects
    /// and creates the tables now, so a server down at start is said now.
    pub fn start_results(&self, board: &Arc<Board>) {
        if let Some(db) = &self.results {
            db.start(board);
        }
    }

    /// Hands a judged round (folded or discarded) to the results
    /// database, when it is on, and returns at once: the rows are written
    /// in the background, and nothing the round decides waits for them.
    pub fn store_round(&self, report: &RoundReport, board: &Arc<Board>) {
        if let Some(db) = &self.results {
            db.submit(report, board);
        }
    }

    /// At a loop's end: waits a while for the rounds not written yet (a
    /// signal, before or meanwhile, shortens the wait), and says what is
    /// lost.
    pub async fn finish_results(&self, shutdown: &Shutdown) {
        let Some(db) = &self.results else {
            return;
        };
        if db.pending() == 0 {
            return;
        }
        let within = if shutdown.requested().is_some() {
            FLUSH_ON_SIGNAL
        } else {
            FLUSH_AT_END
        };
        log::info!(
            "results database: waiting up to {}s for {} unwritten rounds",
            within.as_secs(),
            db.pending()
        );
        let (pending, started) = (db.pending(), std::time::Instant::now());
        // The event loop is measured while the rows are written: the writes
        // run on the bridge, so it should not notice them.
        let heartbeat = Heartbeat::start(Duration::from_millis(5));
        let mut signal = shutdown.clone();
        let left = tokio::select! {
            left = db.flush(within) => left,
            name = signal.wait(), if within > FLUSH_ON_SIGNAL => {
                log::info!("{name}: waiting at most {}s more for the results database", FLUSH_ON_SIGNAL.as_secs());
                db.flush(FLUSH_ON_SIGNAL).await
            }
        };
        let lag = heartbeat.stop().await;
        log::info!(
            "results database: {} of {pending} rounds written in {} ms; event-loop lag meanwhile max {:.2} ms, p99 {:.2} ms",
            pending - left.min(pending),
            started.elapsed().as_millis(),
            lag.max_ms,
            lag.p99_ms
        );
        if left > 0 {
            log::warn!(
                "results database {}: {left} rounds were not written and are lost (the scores and weights are not affected)",
                db.target()
            );
        }
    }
}

impl Github {
    /// Judges a finished round (SCORING.md §11.9.7), and says so: a round
    /// that failed on the validator's side is marked `discarded` in its
    /// report and `Err` gives why; below the threshold, the miners that
    /// failed on our side (they score 0, as in 2.0.7) are counted in one
    /// WARN and the round may be folded in.
    pub fn judge(&self, report: &mut RoundReport) -> Result<(), String> {
        match verdict(report, self.discard_threshold, &self.url) {
            Verdict::Discard(why) => {
                log::warn!(
                    "round discarded: {why}; its rewards are not folded in: the scores and the weights stay as they were"
                );
                report.discarded = Some(why.clone());
                Err(why)
            }
            Verdict::Fold { faults, asked } => {
                if faults > 0 {
                    log::warn!(
                        "{faults} of {asked} miners failed on the validator's side (GitHub at {}); \
                         below the discard threshold, so they score 0 as in 2.0.7",
                        self.url
                    );
                }
                Ok(())
            }
        }
    }
}
