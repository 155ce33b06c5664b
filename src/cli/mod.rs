//! The commands of the binary, one module each, and what they share:
//! exit statuses, durations, the runtime, a round under Ctrl-C, reports.

mod common;
mod demo;
mod run;
mod score;
mod status;
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
/// short by Ctrl-C: every miner still running then fails with a reason.
pub(crate) async fn round_with_ctrl_c(
    client: Client,
    miners: RoundMiners,
    ctx: Arc<RoundContext>,
    options: RoundOptions,
    recorder: Option<Arc<Recorder>>,
) -> Round {
    let cancel = Cancel::new();
    let watcher = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                log::warn!("interrupted: cancelling the round");
                cancel.cancel();
            }
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

/// A round's report, and whether Ctrl-C cut it short (then its rewards say
/// nothing about the miners: every one still running failed).
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

/// Prints the round's table on stderr (blocking: from sync code only).
pub(crate) fn print_table(report: &RoundReport) {
    let _ = std::io::stderr().lock().write_all(table(report).as_bytes());
}

/// Prints the round's table on stderr from async code: a full stderr pipe
/// must block a pool thread, not the event loop.
pub(crate) async fn print_table_async(report: &RoundReport) {
    let text = table(report);
    let _ = gittensor_validator::pipeline::bridge::blocking(move || {
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    })
    .await;
}

/// The operator's board, served on `addr` (`/healthz`, `/metrics`) when
/// one is given. A port that cannot be bound is bad usage.
pub(crate) async fn serve_board(
    addr: Option<std::net::SocketAddr>,
) -> Result<Arc<gittensor_validator::health::Board>, Failure> {
    let board = Arc::new(gittensor_validator::health::Board::new());
    if let Some(addr) = addr {
        let bound = gittensor_validator::health::serve(addr, board.clone())
            .await
            .map_err(|e| Failure::Input(format!("--health-addr {addr}: {e}")))?;
        log::info!("serving /healthz and /metrics on {bound}");
    }
    Ok(board)
}
