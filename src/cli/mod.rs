//! The commands of the binary, one module each, and what they share:
//! exit statuses, durations, the runtime, a round under Ctrl-C, reports.

mod common;
mod demo;
mod run;
mod score;
mod shutdown;
mod status;
mod systemd;
mod tables;
mod validate;

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use clap::{Parser, Subcommand};
use gittensor_validator::dendrite::Dendrite;
use gittensor_validator::github::{Cancel, Client};
use gittensor_validator::inputs::{self, InputError};
use gittensor_validator::metagraph::Metagraph;
use gittensor_validator::pipeline::{
    query_pats, run_round, run_round_recording, MinerInput, Recorder, RoundOptions,
};
use gittensor_validator::scoring::{parse_time, RoundContext, RoundReport};
use std::sync::Arc;
use time::OffsetDateTime;

pub(crate) use common::Common;
pub(crate) use shutdown::Shutdown;

#[derive(Parser)]
#[command(
    name = "gittensor-validator",
    version,
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
    Validate(validate::ValidateArgs),
    /// Connect, read our trust and the subnet's validators, print, exit.
    Status(status::StatusArgs),
}

/// What ends the program, and with which status.
pub(crate) enum Failure {
    /// Bad usage or a bad input file: status 2.
    Input(String),
    /// Anything else: status 1.
    Other(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (Failure::Input(m) | Failure::Other(m)) = self;
        f.write_str(m)
    }
}

impl From<InputError> for Failure {
    fn from(e: InputError) -> Self {
        Failure::Input(e.to_string())
    }
}

/// Unsets the environment variables our options read (`WALLET_NAME`,
/// `SUBTENSOR_CHAIN_ENDPOINT`, ...) that are set but empty: upstream's
/// `.env.example` leaves them so, and an empty value means "not set", not
/// "the empty name". Call before parsing, while the process has one thread.
pub(crate) fn ignore_empty_env() {
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
    for name in names {
        if std::env::var_os(&name).is_some_and(|v| v.to_string_lossy().trim().is_empty()) {
            log::debug!(
                "{} is set but empty: taken as not set",
                name.to_string_lossy()
            );
            std::env::remove_var(&name);
        }
    }
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

/// A wait as a person reads it (`1h55m`, `7m`, `40s`), and the UTC clock
/// time it ends at (`16:35 UTC`).
pub(crate) fn when(wait: Duration) -> (String, String) {
    let secs = wait.as_secs_f64().ceil() as u64;
    let span = match secs {
        0..=89 => format!("{secs}s"),
        90..=3599 => format!("{}m", (secs + 30) / 60),
        _ => format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60),
    };
    let at = OffsetDateTime::now_utc() + wait;
    (span, format!("{:02}:{:02} UTC", at.hour(), at.minute()))
}

/// The longest a round may take before `/healthz` calls the loop stuck:
/// the PAT phase (one dendrite timeout, all axons at once), then each wave
/// of miners within its deadline (or the round's own deadline), and a
/// minute for the rest.
pub(crate) fn round_budget(
    options: &RoundOptions,
    miners: usize,
    dendrite_timeout: Option<Duration>,
) -> Duration {
    let waves =
        u32::try_from(miners.div_ceil(options.concurrency.max(1)).max(1)).unwrap_or(u32::MAX);
    let github = options.miner_timeout.saturating_mul(waves);
    let github = options.round_timeout.map_or(github, |r| github.min(r));
    github + dendrite_timeout.unwrap_or_default() + Duration::from_secs(60)
}

/// Writes `value` as pretty JSON to `path`, atomically; the error names the
/// path.
pub(crate) fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), Failure> {
    let json = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::Other(format!("{}: {e}", path.display())))?;
    inputs::write_atomic(path, json.as_bytes())
        .map_err(|e| Failure::Other(format!("{}: {e}", path.display())))
}

pub(crate) fn parse_now(now: Option<&str>) -> Result<Option<OffsetDateTime>, Failure> {
    now.map(|s| {
        parse_time(s).ok_or_else(|| Failure::Input(format!("--now: {s:?} is not an RFC 3339 time")))
    })
    .transpose()
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Other(format!("cannot start the runtime: {e}")))
}

/// What a round starts from: the miners with their PATs, or the axons to
/// ask for them first.
pub(crate) enum RoundMiners {
    /// Listed in a miners file.
    Listed(Vec<MinerInput>),
    /// Every uid of the metagraph, asked over the dendrite.
    Axons(Dendrite, Metagraph),
}

/// One round (the PAT phase first when the miners come from axons), cut
/// short by SIGTERM or SIGINT: every miner still running then fails with a
/// reason, and the round is marked interrupted.
pub(crate) async fn round_until_stopped(
    client: Client,
    miners: RoundMiners,
    ctx: Arc<RoundContext>,
    options: RoundOptions,
    recorder: Option<Arc<Recorder>>,
    shutdown: &Shutdown,
) -> Round {
    let cancel = Cancel::new();
    let watcher = {
        let (cancel, mut shutdown) = (cancel.clone(), shutdown.clone());
        tokio::spawn(async move {
            shutdown.wait().await;
            log::warn!("cancelling the round in flight");
            cancel.cancel();
        })
    };
    let (miners, query) = match miners {
        RoundMiners::Listed(miners) => (miners, None),
        RoundMiners::Axons(dendrite, metagraph) => {
            log::info!("asking {} axons for their PATs", metagraph.n());
            let q = query_pats(dendrite, &metagraph, 0, cancel.clone()).await;
            log::info!(
                "PATs: {} of {} uids answered in {} ms ({} queried, {} timed out)",
                q.stats.answered,
                metagraph.n(),
                q.stats.wall_ms,
                q.stats.queried,
                q.stats.timed_out
            );
            (q.miners, Some((q.errors, q.stats)))
        }
    };
    let mut report = match recorder {
        Some(r) => run_round_recording(client, miners, ctx, options, cancel.clone(), r).await,
        None => run_round(client, miners, ctx, options, cancel.clone()).await,
    };
    if let Some((errors, stats)) = query {
        report.pat_query_errors = errors;
        report.stats.pat_query = Some(stats);
    }
    watcher.abort();
    Round {
        report,
        interrupted: cancel.is_cancelled(),
    }
}

/// A round's report, and whether a signal cut it short (then its rewards
/// say nothing about the miners: every one still running failed).
pub(crate) struct Round {
    report: RoundReport,
    interrupted: bool,
}

pub(crate) const INTERRUPTED: &str = "interrupted: the round was cancelled before it finished";

pub(crate) fn write_report(report: &RoundReport, target: &str) -> Result<(), Failure> {
    // Serializing plain data with string keys cannot fail.
    let json = serde_json::to_string_pretty(report).map_err(|e| Failure::Other(e.to_string()))?;
    if target == "-" {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{json}").map_err(|e| Failure::Other(format!("stdout: {e}")))
    } else {
        inputs::write_atomic(Path::new(target), json.as_bytes())
            .map_err(|e| Failure::Other(format!("{target}: {e}")))
    }
}

/// The round's table for a person: a line per uid, then the totals.
pub(crate) fn table(report: &RoundReport) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "{:>5} {:>4} {:>12} {:>10}  note",
        "uid", "PRs", "score", "reward"
    );
    for (uid, reward) in &report.rewards {
        let e = report.evaluations.get(uid);
        let prs = e.map_or(0, |e| e.pull_requests.len());
        let score = e.map_or(0.0, |e| e.total_score);
        let note = e.and_then(|e| e.failed_reason.clone()).unwrap_or_default();
        let _ = writeln!(
            out,
            "{uid:>5} {prs:>4} {score:>12.4} {reward:>10.6}  {note}"
        );
    }
    let s = &report.stats;
    let _ = writeln!(
        out,
        "{} miners in {} ms, {} GitHub requests ({} retries), max event-loop lag {:.2} ms",
        s.miners, s.wall_ms, s.github_requests, s.github_retries, s.max_event_loop_lag_ms
    );
    out
}

/// Prints the round's table on stderr through the logger's sink: after the
/// lines logged before it, and never waiting on stderr.
pub(crate) fn print_table(report: &RoundReport) {
    gittensor_validator::logging::print(&table(report));
}

/// [`print_table`], for the async loops (`run`, `validate`): it no longer
/// waits on stderr, so it needs no pool thread.
pub(crate) async fn print_table_async(report: &RoundReport) {
    print_table(report);
}

/// The operator's board, served on `addr` (`/healthz`, `/readyz`, `/metrics`) when
/// one is given. A port that cannot be bound is bad usage.
pub(crate) async fn serve_board(
    addr: Option<std::net::SocketAddr>,
) -> Result<Arc<gittensor_validator::health::Board>, Failure> {
    let board = Arc::new(gittensor_validator::health::Board::new());
    if let Some(addr) = addr {
        let bound = gittensor_validator::health::serve(addr, board.clone())
            .await
            .map_err(|e| Failure::Input(format!("--health-addr {addr}: {e}")))?;
        log::info!("serving /healthz, /readyz and /metrics on {bound}");
    }
    Ok(board)
}
