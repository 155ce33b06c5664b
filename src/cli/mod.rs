//! The command line: the commands' flags, one module each, checked and
//! turned into what `validator` runs; durations, addresses and times as
//! flags spell them. Nothing else: the loops and the round live in
//! `validator`.

mod common;
mod database;
mod demo;
mod run;
mod score;
mod status;
mod upstream;
mod validate;

use std::time::Duration;

use clap::{Parser, Subcommand};
use gittensor_validator::scoring::parse_time;
use time::OffsetDateTime;

pub(crate) use common::Common;
pub(crate) use gittensor_validator::validator::Failure;

/// `--version`: the release and the commit it was built from.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("GITTENSOR_BUILD_COMMIT"),
    ")"
);

#[derive(Parser)]
#[command(
    name = "gittensor-validator",
    version = VERSION,
    about = "Scores gittensor miners' pull requests (release 2.0.7 rules)"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Score one round from a miners file and write the round report.
    Score(score::ScoreArgs),
    /// Score rounds on an interval, keeping moving-average scores and weights.
    Run(run::RunArgs),
    /// Score the bundled sample round against a local GitHub-shaped server.
    Demo(demo::DemoArgs),
    /// The validator on the chain: metagraph, rounds, moving average, set_weights.
    // A flag given twice takes its last value, as 2.0.7's argparse does.
    #[command(args_override_self = true)]
    Validate(validate::ValidateArgs),
    /// Connect, read our trust and the subnet's validators, print, exit.
    Status(status::StatusArgs),
}

impl Cli {
    /// The log level the command line asks for (`validate`'s
    /// `--logging.*`), if any.
    pub(crate) fn log_level(&self) -> Option<log::LevelFilter> {
        match &self.command {
            Command::Validate(args) => args.upstream.log_level(),
            _ => None,
        }
    }
}

/// Unsets the environment variables our options read (`WALLET_NAME`,
/// `SUBTENSOR_CHAIN_ENDPOINT`, ...) that are set but empty: upstream's
/// `.env.example` leaves them so, and an empty value means "not set", not
/// "the empty name". Call before parsing, while the process has one thread.
/// Gives the names unset, for the log once it is up.
pub(crate) fn ignore_empty_env() -> Vec<String> {
    use clap::CommandFactory;
    let command = Cli::command();
    let mut names: Vec<std::ffi::OsString> = Vec::new();
    for sub in command.get_subcommands() {
        names.extend(
            sub.get_arguments()
                .filter_map(|a| a.get_env().map(ToOwned::to_owned)),
        );
    }
    names.push("BT_LOGGING_LOGGING_DIR".into());
    names.sort();
    names.dedup();
    let mut emptied = Vec::new();
    for name in names {
        if std::env::var_os(&name).is_some_and(|v| v.to_string_lossy().trim().is_empty()) {
            std::env::remove_var(&name);
            emptied.push(name.to_string_lossy().into_owned());
        }
    }
    emptied
}

/// Runs the parsed command line.
pub(crate) fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Score(args) => score::score(args),
        Command::Run(args) => run::run_loop(args),
        Command::Demo(args) => demo::demo(args),
        Command::Validate(args) => validate::validate(args),
        Command::Status(args) => status::status(args),
    }
}

pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("bad duration {s:?} (e.g. 500ms, 30s, 5m, 2h)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" | "" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("bad duration unit {unit:?} (ms, s, m, h)")),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| format!("bad duration {s:?}: {e}"))
}

/// `HOST:PORT` as an address to bind: `127.0.0.1:8080`, `[::1]:8080`, or a
/// name such as `localhost:8080`, resolved once (IPv4 first).
pub(crate) fn parse_addr(s: &str) -> Result<std::net::SocketAddr, String> {
    use std::net::ToSocketAddrs;
    if let Ok(addr) = s.parse() {
        return Ok(addr);
    }
    let addrs: Vec<std::net::SocketAddr> = s
        .to_socket_addrs()
        .map_err(|e| format!("{s:?} is not HOST:PORT ({e}); e.g. 127.0.0.1:8080"))?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| format!("{s:?} resolves to no address"))
}

pub(crate) fn parse_now(now: Option<&str>) -> Result<Option<OffsetDateTime>, Failure> {
    now.map(|s| {
        parse_time(s).ok_or_else(|| Failure::Input(format!("--now: {s:?} is not an RFC 3339 time")))
    })
    .transpose()
}
