//! `run`: the flags of rounds on an interval, checked and turned into the
//! loop's settings: the validator's one loop (`validator::run_loop`) with
//! its neurons from a file, a round at every step, no chain, and the
//! normalized scores written as the weights with every round.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use gittensor_validator::scoring::DEFAULT_EMA_ALPHA;

use super::common::{check_alpha, prepare, SourceArgs};
use super::{parse_addr, parse_duration, Common};
use gittensor_validator::scoring::state::Cadence;
use gittensor_validator::scoring::step::WeightsBy;
use gittensor_validator::validator::{self, Failure, LoopConfig, Pace, Settings};

#[derive(Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    pub(crate) source: SourceArgs,
    #[command(flatten)]
    pub(crate) common: Common,
    /// Directory of state.json and weights.json.
    #[arg(long)]
    pub(crate) state: PathBuf,
    /// Time between round starts, e.g. 2h.
    #[arg(long, default_value = "2h", value_parser = parse_duration)]
    pub(crate) interval: Duration,
    /// Stop after this many rounds.
    #[arg(long)]
    pub(crate) rounds: Option<u64>,
    /// Moving-average weight of the new round's rewards.
    #[arg(long, default_value_t = DEFAULT_EMA_ALPHA)]
    pub(crate) alpha: f64,
    /// Serve GET /healthz, /readyz and /metrics here, e.g. 127.0.0.1:8080
    /// or localhost:8080.
    #[arg(long, value_parser = parse_addr)]
    pub(crate) health_addr: Option<SocketAddr>,
}
pub(crate) fn run_loop(args: RunArgs) -> Result<(), Failure> {
    check_alpha(args.alpha)?;
    let p = prepare(&args.common, &args.source)?;
    // Served until the loop ends.
    let _replay = p.replay;
    validator::run_loop(LoopConfig {
        settings: Settings {
            // No subnet: the neurons are a file's.
            netuid: 0,
            rounds: args.rounds,
            dry_run: false,
            step_interval: args.interval,
            pace: Pace::FromTheStepStart,
            dendrite_timeout: args.source.dendrite.dendrite_timeout,
            version_key: 0,
            alpha: args.alpha,
        },
        hotkey: None,
        neurons: p.miners.from,
        weights: WeightsBy::WithTheRound,
        state_dir: args.state,
        python_dir: None,
        health_addr: args.health_addr,
        cadence: Cadence {
            steps_per_round: 1,
            epoch_length: 0,
        },
        round: p.round,
    })
}
