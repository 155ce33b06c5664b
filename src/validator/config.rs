//! What the loop needs to know, built by the binary's `cli` from the flags:
//! plain data, no clap type, no behaviour.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use crate::dendrite::Dendrite;
use crate::github::Client;
use crate::pipeline::RoundOptions;
use crate::scoring::state::Cadence;
use crate::scoring::step::WeightsBy;
use crate::scoring::trust::WatchLimits;
use crate::store::files::FileStore;
use crate::store::results_db::ResultsDb;
use crate::wallet::Hotkey;

use super::tables::Tables;

/// The loop's settings: `run` and `validate` are the same loop with
/// different ones (INTERFACE.md says where they differ, and why).
pub struct LoopConfig {
    /// The scalars the loop reads as it goes.
    pub settings: Settings,
    /// The validator's hotkey: it must be among the neurons (`validate`);
    /// `None` for `run`, which has no uid of its own.
    pub hotkey: Option<Hotkey>,
    /// Where the neurons come from.
    pub neurons: NeuronsFrom,
    /// What becomes of the weights.
    pub weights: WeightsBy,
    /// `state.json`, `report.json`, `weights.json`, `pr-files.json`.
    pub state_dir: PathBuf,
    /// Where a Python validator's `state.npz` is looked for (`validate`):
    /// `state_dir`, or the Python validator's folder for a dry run's own
    /// `state_dir`. `None`: never (`run`).
    pub python_dir: Option<PathBuf>,
    /// Where `/healthz`, `/readyz` and `/metrics` are served.
    pub health_addr: Option<SocketAddr>,
    /// Rounds, resyncs and weights, in steps and blocks.
    pub cadence: Cadence,
    /// What every round takes: tables, GitHub, deadlines, the results
    /// database.
    pub round: RoundInputs,
}

/// Where the loop's neurons come from, as the flags chose.
pub enum NeuronsFrom {
    /// Subtensor at this endpoint, watched for consensus with these limits.
    Chain {
        /// A `ws://` or `wss://` URL.
        endpoint: String,
        /// When the consensus watch warns.
        watch: WatchLimits,
        /// How every uid's axon is asked for its PAT.
        dendrite: Dendrite,
    },
    /// A metagraph file (INTERFACE.md), read again at every step's end:
    /// every uid's axon is asked for its PAT with the dendrite.
    MetagraphFile(PathBuf, Dendrite),
    /// A miners file (uid, hotkey, PAT), read again at every step's end.
    MinersFile(PathBuf),
}

/// The scalars of the loop.
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
    /// Where [`Settings::step_interval`] counts from.
    pub pace: Pace,
    /// One axon query's deadline.
    pub dendrite_timeout: Duration,
    /// The weights version key sent.
    pub version_key: u64,
    /// Moving-average weight of a round's rewards.
    pub alpha: f64,
}

/// Where a step's wait counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// From the end of the step's round, as 2.0.7's loop sleeps
    /// (`validate --step-interval`).
    AfterTheRound,
    /// From the start of the step: rounds start at a fixed interval
    /// whatever they take (`run --interval`).
    FromTheStepStart,
}

/// What every round takes, read and checked before anything runs.
pub struct RoundInputs {
    /// The weight tables: read at start, and again at every round.
    pub tables: Tables,
    /// Where GitHub is, for messages: the API URL, or the replay's file.
    pub url: String,
    /// The GitHub client every round shares (its connections and `/user`
    /// answers are kept between rounds).
    pub client: Client,
    /// The rounds' "now" (`--now`); the clock at each round when `None`.
    pub now: Option<OffsetDateTime>,
    /// Concurrency and deadlines of a round.
    pub options: RoundOptions,
    /// `--discard-threshold`.
    pub discard_threshold: f64,
    /// The merged PRs' file lists kept across rounds (`pr-files.json` in
    /// the state folder), handed to every round.
    pub files: Option<Arc<FileStore>>,
    /// The results database, when `--database.store_validation_results`.
    pub results: Option<ResultsDb>,
}
