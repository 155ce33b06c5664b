//! `validate`: the flags of the drop-in validator, checked and turned into
//! the loop's settings (`validator::LoopConfig`); the loop itself is
//! `validator::run_loop`.

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
use super::upstream::UpstreamArgs;
use super::{parse_addr, parse_duration};
use gittensor_validator::dendrite::{Dendrite, DendriteConfig};
use gittensor_validator::scoring::step::WeightsBy;
use gittensor_validator::validator::{self, Failure, LoopConfig, NeuronsFrom, Pace, Settings};

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
    /// Directory of state.json, report.json, weights.json and pr-files.json.
    /// Defaults to the Python validator's,
    /// ~/.bittensor/miners/NAME/HOTKEY/netuidN/validator (see
    /// --logging.logging_dir, --neuron.name), where its state.npz is
    /// imported from; a --dry-run's defaults to that folder's name followed
    /// by -dry-run, so that a shadow run leaves the Python validator's
    /// folder alone.
    #[arg(long)]
    pub(crate) state: Option<PathBuf>,
    /// Stop after this many scoring rounds, once the weights that follow the
    /// last one were submitted, refused, or found impossible.
    #[arg(long)]
    pub(crate) rounds: Option<u64>,
    /// Compute and log the weights (uid, u16); submit nothing.
    #[arg(long, visible_alias = "neuron.disable_set_weights")]
    pub(crate) dry_run: bool,
    /// Serve GET /healthz, /readyz and /metrics here, e.g. 127.0.0.1:8098
    /// or localhost:8098. Defaults to none.
    #[arg(long, env = "HEALTH_ADDR", value_parser = parse_addr)]
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
    #[arg(long, visible_alias = "neuron.epoch_length", default_value_t = 100)]
    pub(crate) epoch_length: u64,
    /// The weights version key sent with set_weights.
    #[arg(long, default_value_t = VERSION_KEY)]
    pub(crate) version_key: u64,
    /// Moving-average weight of a new round's rewards.
    #[arg(long, visible_alias = "neuron.moving_average_alpha", default_value_t = DEFAULT_EMA_ALPHA)]
    pub(crate) alpha: f64,
    #[command(flatten)]
    pub(crate) watch: WatchArgs,
    #[command(flatten)]
    pub(crate) upstream: UpstreamArgs,
}

/// Checks the flags, loads what they name (tables, hotkey), and runs the
/// loop.
pub(crate) fn validate(args: ValidateArgs) -> Result<(), Failure> {
    say_log_level(args.upstream.log_level());
    args.upstream.given.check()?;
    check_alpha(args.alpha)?;
    let watch = args.watch.limits()?;
    if args.step_interval.is_zero() {
        return Err(Failure::Input("--step-interval must be above 0".into()));
    }
    // The local GitHub of `--replay` is served until the loop ends.
    let (round, _replay) = prepare_github(&args.common)?;
    let hotkey = args.wallet.load()?;
    let (state_dir, python_dir) = state_dirs(&args);
    let dendrite = Dendrite::new(
        hotkey.clone(),
        DendriteConfig::builder()
            .timeout(args.dendrite.dendrite_timeout)
            .build(),
    );
    let (neurons, weights) = match args.metagraph {
        Some(path) => (
            NeuronsFrom::MetagraphFile(path, dendrite),
            WeightsBy::EveryStep,
        ),
        None => {
            let endpoint = args.chain.endpoint()?;
            let chain = NeuronsFrom::Chain {
                endpoint,
                watch,
                dendrite,
            };
            (chain, WeightsBy::Chain)
        }
    };
    let steps_per_round = (args.scoring_interval.as_secs_f64() / args.step_interval.as_secs_f64())
        .round()
        .max(1.0) as u64;
    validator::run_loop(LoopConfig {
        settings: Settings {
            netuid: args.netuid,
            rounds: args.rounds,
            dry_run: args.dry_run,
            step_interval: args.step_interval,
            pace: Pace::AfterTheRound,
            dendrite_timeout: args.dendrite.dendrite_timeout,
            version_key: args.version_key,
            alpha: args.alpha,
        },
        hotkey: Some(hotkey),
        neurons,
        weights,
        state_dir,
        python_dir: Some(python_dir),
        health_addr: args.health_addr,
        cadence: Cadence {
            steps_per_round,
            epoch_length: args.epoch_length,
        },
        round,
    })
}

/// The state folder, and the folder where a Python validator's
/// `state.npz` is looked for: `--state` for both when given; else the
/// Python validator's folder (gittensor/utils/config.py's `full_path`) for
/// both, except in a dry run, which keeps its own folder beside it (a
/// shadow run must not leave a `state.json` where the switch later imports
/// the Python validator's `state.npz` from) and imports from the Python
/// validator's.
fn state_dirs(args: &ValidateArgs) -> (PathBuf, PathBuf) {
    if let Some(dir) = &args.state {
        return (dir.clone(), dir.clone());
    }
    let root = args
        .upstream
        .logging_dir
        .clone()
        .unwrap_or_else(|| "~/.bittensor/miners".into());
    let netuid = expand_home(&root)
        .join(&args.wallet.name)
        .join(&args.wallet.hotkey)
        .join(format!("netuid{}", args.netuid));
    let python = netuid.join(&args.upstream.neuron_name);
    if !args.dry_run {
        return (python.clone(), python);
    }
    let own = netuid.join(format!("{}-dry-run", args.upstream.neuron_name));
    log::info!(
        "dry run: its state is kept in {} (it imports {}/state.npz when that is newer, as at its first start), \
         not in the Python validator's folder, so that the switch later imports the Python \
         validator's state.npz as it is then; --state chooses another",
        own.display(),
        python.display()
    );
    (own, python)
}

/// Says which log level is in force and where it comes from: `RUST_LOG`
/// wins over the `--logging.*` flags (upstream's pm2 script always passes
/// one, `--logging.info` by default).
fn say_log_level(flag: Option<log::LevelFilter>) {
    let level = log::max_level().to_string().to_lowercase();
    let spelled = |f: log::LevelFilter| match f {
        log::LevelFilter::Warn => "warning".to_string(),
        f => f.to_string().to_lowercase(),
    };
    match (
        std::env::var("RUST_LOG").ok().filter(|v| !v.is_empty()),
        flag,
    ) {
        (Some(env), Some(f)) => log::info!(
            "log level {level}: RUST_LOG={env}, which wins over --logging.{}",
            spelled(f)
        ),
        (Some(env), None) => log::info!("log level {level}: RUST_LOG={env}"),
        (None, Some(f)) => log::info!("log level {level}: --logging.{}", spelled(f)),
        (None, None) => {
            log::info!("log level {level}: the default (RUST_LOG or --logging.* change it)")
        }
    }
}
