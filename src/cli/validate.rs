//! `validate`: the flags of the drop-in validator, checked and turned into
//! the loop's settings (`validator::ValidateConfig`); the loop itself is
//! `validator::validate` (its start) and `validator::steps`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use gittensor_validator::scoring::state::Cadence;
use gittensor_validator::scoring::DEFAULT_EMA_ALPHA;

use super::common::{
    check_alpha, expand_home, prepare_github, ChainArgs, Common, DendriteArgs, WalletArgs,
    WatchArgs,
};
use super::{parse_addr, parse_duration};
use crate::validator::{self, Failure, NeuronsFrom, Settings, ValidateConfig};

/// gittensor's `__spec_version__` (1.0.0 -> 1000), the weights version key
/// 2.0.7 sends (SCORING.md §11.4.6).
const VERSION_KEY: u64 = 1000;

#[derive(Args)]
pub(crate) struct ValidateArgs {
    /// The subnet.
    #[arg(long, env = "NETUID", default_value_t = 74)]
    pub(crate) netuid: u16,
    #[command(flatten)]
    pub(crate) wallet: WalletArgs,
    #[command(flatten)]
    pub(crate) chain: ChainArgs,
    /// The subnet's neurons from this file instead of the chain (offline runs
    /// and tests): every step computes and logs the weights, nothing is submitted.
    #[arg(long, conflicts_with_all = ["endpoint"])]
    pub(crate) metagraph: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) common: Common,
    /// Directory of state.json, report.json and weights.json. Defaults to the
    /// Python validator's: ~/.bittensor/miners/NAME/HOTKEY/netuidN/validator.
    #[arg(long)]
    pub(crate) state: Option<PathBuf>,
    /// Stop after this many scoring rounds, once the weights that follow the
    /// last one were submitted, refused, or found impossible.
    #[arg(long)]
    pub(crate) rounds: Option<u64>,
    /// Compute and log the weights (uid, u16); submit nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Serve GET /healthz, /readyz and /metrics here, e.g. 127.0.0.1:8080
    /// or localhost:8080.
    #[arg(long, value_parser = parse_addr)]
    pub(crate) health_addr: Option<SocketAddr>,
    #[command(flatten)]
    pub(crate) dendrite: DendriteArgs,
    /// Time between two steps (metagraph sync, weights check).
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub(crate) step_interval: Duration,
    /// Time between scoring rounds (a round at every Nth step).
    #[arg(long, default_value = "2h", value_parser = parse_duration)]
    pub(crate) scoring_interval: Duration,
    /// Blocks between two weight settings of this validator.
    #[arg(long, default_value_t = 100)]
    pub(crate) epoch_length: u64,
    /// The weights version key sent with set_weights.
    #[arg(long, default_value_t = VERSION_KEY)]
    pub(crate) version_key: u64,
    /// Moving-average weight of a new round's rewards.
    #[arg(long, default_value_t = DEFAULT_EMA_ALPHA)]
    pub(crate) alpha: f64,
    #[command(flatten)]
    pub(crate) watch: WatchArgs,
}

/// Checks the flags, loads what they name (tables, hotkey), and runs the
/// loop.
pub(crate) fn validate(args: ValidateArgs) -> Result<(), Failure> {
    check_alpha(args.alpha)?;
    let watch = args.watch.limits()?;
    if args.step_interval.is_zero() {
        return Err(Failure::Input("--step-interval must be above 0".into()));
    }
    let github = prepare_github(&args.common)?;
    let hotkey = args.wallet.load()?;
    let state_dir = args
        .state
        .clone()
        .unwrap_or_else(|| default_state_dir(&args));
    let neurons = match args.metagraph {
        Some(path) => NeuronsFrom::File(path),
        None => NeuronsFrom::Chain {
            endpoint: args.chain.endpoint()?,
            watch,
        },
    };
    let steps_per_round = (args.scoring_interval.as_secs_f64() / args.step_interval.as_secs_f64())
        .round()
        .max(1.0) as u64;
    validator::validate(ValidateConfig {
        settings: Settings {
            netuid: args.netuid,
            rounds: args.rounds,
            dry_run: args.dry_run,
            step_interval: args.step_interval,
            dendrite_timeout: args.dendrite.dendrite_timeout,
            version_key: args.version_key,
            alpha: args.alpha,
        },
        hotkey,
        neurons,
        state_dir,
        health_addr: args.health_addr,
        cadence: Cadence {
            steps_per_round,
            epoch_length: args.epoch_length,
        },
        github,
    })
}

/// The Python validator's state folder (gittensor/utils/config.py).
fn default_state_dir(args: &ValidateArgs) -> PathBuf {
    let root = std::env::var("BT_LOGGING_LOGGING_DIR")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "~/.bittensor/miners".into());
    expand_home(&root)
        .join(&args.wallet.name)
        .join(&args.wallet.hotkey)
        .join(format!("netuid{}", args.netuid))
        .join("validator")
}
