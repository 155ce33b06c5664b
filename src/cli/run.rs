//! `run`: the flags of rounds on an interval, checked and turned into the
//! loop's settings (`validator::RunConfig`); the loop is `validator::rounds`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use gittensor_validator::scoring::DEFAULT_EMA_ALPHA;

use super::common::{check_alpha, prepare, SourceArgs};
use super::{parse_addr, parse_duration, Common};
use gittensor_validator::validator::{self, Failure, RunConfig};

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
    validator::run_rounds(RunConfig {
        state_dir: args.state,
        interval: args.interval,
        rounds: args.rounds,
        alpha: args.alpha,
        health_addr: args.health_addr,
        dendrite_timeout: args.source.dendrite.dendrite_timeout,
        source: p.source,
        github: p.github,
    })
}
