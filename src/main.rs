//! `gittensor-validator`: parse, run, map the outcome to an exit status
//! (0 done, 2 bad usage or input, 1 anything else).

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use gittensor_validator::fakehub::{FakeHub, Snapshot};
use gittensor_validator::github::{Cancel, Client, ClientConfig};
use gittensor_validator::inputs::{self, InputError};
use gittensor_validator::pipeline::{
    bridge, run_round, run_round_recording, MinerInput, Recorder, RoundOptions, DEFAULT_CONCURRENCY,
};
use gittensor_validator::scoring::{
    parse_time, LanguageWeights, MasterRepositories, RoundContext, RoundReport, ScoreState,
    DEFAULT_EMA_ALPHA,
};
use time::OffsetDateTime;

#[derive(Parser)]
#[command(
    name = "gittensor-validator",
    version,
    about = "Scores gittensor miners' pull requests (release 2.0.7 rules)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Score one round from a miners file and write the round report.
    Score(ScoreArgs),
    /// Score rounds on an interval, keeping moving-average scores and weights.
    Run(RunArgs),
    /// Score the bundled sample round against a local GitHub-shaped server.
    Demo(DemoArgs),
}

#[derive(Args)]
struct Common {
    /// Miner responses (JSON list of {uid, hotkey, github_access_token}).
    #[arg(long)]
    miners: PathBuf,
    /// Master repositories, gittensor JSON format.
    #[arg(long)]
    repositories: PathBuf,
    /// Language weights, gittensor JSON format.
    #[arg(long)]
    languages: PathBuf,
    /// REST and GraphQL base URL.
    #[arg(long, default_value = "https://api.github.com")]
    github_api_url: String,
    /// Serve GitHub's answers from this snapshot file instead (offline replay).
    #[arg(long, conflicts_with = "github_api_url")]
    replay: Option<PathBuf>,
    /// The round's "now" (RFC 3339); defaults to the clock, read once per round.
    #[arg(long)]
    now: Option<String>,
    /// Miners evaluated at once. The default takes a whole subnet (256
    /// uids) at once: GitHub limits each user, each PAT is a different
    /// user, and one PAT's requests stay serial. Lower it to cap memory or
    /// the number of connections (each miner in flight holds a thread).
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY)]
    concurrency: usize,
    /// Deadline per miner, e.g. 90s, 5m.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    miner_timeout: Duration,
    /// Deadline of a whole round, e.g. 90m; past it the miners still
    /// running fail with a reason and the round finishes.
    #[arg(long, value_parser = parse_duration)]
    round_timeout: Option<Duration>,
    /// Read every page of a PR's files (release 2.0.7 reads only the first 30).
    #[arg(long)]
    all_file_pages: bool,
}

#[derive(Args)]
struct ScoreArgs {
    #[command(flatten)]
    common: Common,
    /// Where to write the round report ("-" for stdout).
    #[arg(long, default_value = "-")]
    report: String,
    /// Record GitHub's answers into this directory, with placeholder PATs,
    /// so the round can be re-scored offline with --replay.
    #[arg(long, conflicts_with = "replay")]
    record: Option<PathBuf>,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    common: Common,
    /// Directory of state.json and weights.json.
    #[arg(long)]
    state: PathBuf,
    /// Time between round starts, e.g. 2h.
    #[arg(long, default_value = "2h", value_parser = parse_duration)]
    interval: Duration,
    /// Stop after this many rounds.
    #[arg(long)]
    rounds: Option<u64>,
    /// Moving-average weight of the new round's rewards.
    #[arg(long, default_value_t = DEFAULT_EMA_ALPHA)]
    alpha: f64,
    /// Serve GET /healthz here, e.g. 127.0.0.1:8080.
    #[arg(long)]
    health_addr: Option<SocketAddr>,
}

#[derive(Args)]
struct DemoArgs {
    /// Write the round report here ("-" for stdout).
    #[arg(long)]
    report: Option<String>,
    /// The round's "now"; defaults to the sample's own.
    #[arg(long)]
    now: Option<String>,
    /// Delay of each answer of the local server, e.g. 50ms.
    #[arg(long, default_value = "0ms", value_parser = parse_duration)]
    latency: Duration,
}

/// What ends the program, and with which status.
enum Failure {
    /// Bad usage or a bad input file: status 2.
    Input(String),
    /// Anything else: status 1.
    Other(String),
}

impl From<InputError> for Failure {
    fn from(e: InputError) -> Self {
        Failure::Input(e.to_string())
    }
}

fn main() -> ExitCode {
    gittensor_validator::logging::init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(m)) => {
            eprintln!("error: {m}");
            ExitCode::from(2)
        }
        Err(Failure::Other(m)) => {
            eprintln!("error: {m}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Score(args) => score(args),
        Command::Run(args) => run_loop(args),
        Command::Demo(args) => demo(args),
    }
}

fn parse_duration(s: &str) -> Result<Duration, String> {
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

fn parse_now(now: Option<&str>) -> Result<Option<OffsetDateTime>, Failure> {
    now.map(|s| {
        parse_time(s).ok_or_else(|| Failure::Input(format!("--now: {s:?} is not an RFC 3339 time")))
    })
    .transpose()
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Other(format!("cannot start the runtime: {e}")))
}

/// Inputs of a round, read and checked before anything runs.
struct Prepared {
    miners: Vec<MinerInput>,
    repos: MasterRepositories,
    languages: LanguageWeights,
    client: Client,
    now: Option<OffsetDateTime>,
    options: RoundOptions,
    _replay: Option<FakeHub>,
}

fn prepare(c: &Common) -> Result<Prepared, Failure> {
    let now = parse_now(c.now.as_deref())?;
    let miners = inputs::load_miners(&c.miners)?;
    let repos = inputs::load_repositories(&c.repositories)?;
    let languages = inputs::load_languages(&c.languages)?;
    if c.concurrency == 0 {
        return Err(Failure::Input("--concurrency must be at least 1".into()));
    }
    let (base_url, replay) = match &c.replay {
        Some(path) => {
            let hub = start_hub(inputs::load_snapshot(path)?, Duration::ZERO)?;
            (hub.url(), Some(hub))
        }
        None => {
            let url = &c.github_api_url;
            let host = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"))
                .map(|rest| rest.split('/').next().unwrap_or(""));
            if host.is_none_or(str::is_empty) {
                return Err(Failure::Input(format!(
                    "--github-api-url: {url:?} is not an http(s) URL"
                )));
            }
            (url.clone(), None)
        }
    };
    let client = Client::new(
        ClientConfig::builder()
            .base_url(base_url)
            .all_file_pages(c.all_file_pages)
            .max_idle_connections(c.concurrency)
            .build(),
    );
    let options = RoundOptions {
        concurrency: c.concurrency,
        miner_timeout: c.miner_timeout,
        round_timeout: c.round_timeout,
        ..RoundOptions::default()
    };
    Ok(Prepared {
        miners,
        repos,
        languages,
        client,
        now,
        options,
        _replay: replay,
    })
}

fn start_hub(snapshot: Snapshot, latency: Duration) -> Result<FakeHub, Failure> {
    FakeHub::start(snapshot, latency, None)
        .map_err(|e| Failure::Other(format!("cannot start the local GitHub server: {e}")))
}

fn score(args: ScoreArgs) -> Result<(), Failure> {
    let p = prepare(&args.common)?;
    let ctx = Arc::new(RoundContext {
        repos: p.repos,
        languages: p.languages,
        now: p.now.unwrap_or_else(OffsetDateTime::now_utc),
    });
    let rt = runtime()?;
    let recorder = args.record.as_ref().map(|_| Arc::new(Recorder::new()));
    let Round {
        report,
        interrupted,
    } = rt.block_on(round_with_ctrl_c(
        p.client,
        p.miners,
        ctx.clone(),
        p.options,
        recorder.clone(),
    ));
    print_table(&report);
    if let (Some(dir), Some(recorder)) = (&args.record, &recorder) {
        save_recording(dir, recorder, &args.common, &report.now)?;
    }
    // Written even when interrupted, to show what was done; the exit status
    // says it is not a finished round.
    let written = write_report(&report, &args.report);
    // A miner past its deadline may still sit in a request (until the
    // request timeout); the report is out, so do not wait for it.
    rt.shutdown_timeout(Duration::from_millis(200));
    written?;
    if interrupted {
        return Err(Failure::Other(INTERRUPTED.into()));
    }
    Ok(())
}

async fn round_with_ctrl_c(
    client: Client,
    miners: Vec<MinerInput>,
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
    let report = match recorder {
        Some(r) => run_round_recording(client, miners, ctx, options, cancel.clone(), r).await,
        None => run_round(client, miners, ctx, options, cancel.clone()).await,
    };
    watcher.abort();
    Round {
        report,
        interrupted: cancel.is_cancelled(),
    }
}

/// A round's report, and whether Ctrl-C cut it short (then its rewards say
/// nothing about the miners: every one still running failed).
struct Round {
    report: RoundReport,
    interrupted: bool,
}

const INTERRUPTED: &str = "interrupted: the round was cancelled before it finished";

fn write_report(report: &RoundReport, target: &str) -> Result<(), Failure> {
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

fn print_table(report: &RoundReport) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "{:>5} {:>4} {:>12} {:>10}  note",
        "uid", "PRs", "score", "reward"
    );
    for (uid, reward) in &report.rewards {
        let e = report.evaluations.get(uid);
        let prs = e.map_or(0, |e| e.pull_requests.len());
        let score = e.map_or(0.0, |e| e.total_score);
        let note = e.and_then(|e| e.failed_reason.clone()).unwrap_or_default();
        let _ = writeln!(
            err,
            "{uid:>5} {prs:>4} {score:>12.4} {reward:>10.6}  {note}"
        );
    }
    let s = &report.stats;
    let _ = writeln!(
        err,
        "{} miners in {} ms, {} GitHub requests ({} retries), max event-loop lag {:.2} ms",
        s.miners, s.wall_ms, s.github_requests, s.github_retries, s.max_event_loop_lag_ms
    );
}

fn run_loop(args: RunArgs) -> Result<(), Failure> {
    if !(0.0..=1.0).contains(&args.alpha) {
        return Err(Failure::Input(format!(
            "--alpha {} is not between 0 and 1",
            args.alpha
        )));
    }
    let p = prepare(&args.common)?;
    std::fs::create_dir_all(&args.state)
        .map_err(|e| Failure::Input(format!("{}: {e}", args.state.display())))?;
    inputs::remove_stale_temps(&args.state, &["state.json", "weights.json", "report.json"]);
    let state_path = args.state.join("state.json");
    let mut state = match std::fs::read_to_string(&state_path) {
        Ok(text) => serde_json::from_str::<ScoreState>(&text)
            .map_err(|e| Failure::Input(format!("{}: bad state: {e}", state_path.display())))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => ScoreState::default(),
        Err(e) => return Err(Failure::Input(format!("{}: {e}", state_path.display()))),
    };
    let rt = runtime()?;
    let result = rt.block_on(async move {
        if let Some(addr) = args.health_addr {
            let bound = gittensor_validator::health::serve(addr)
                .await
                .map_err(|e| Failure::Input(format!("--health-addr {addr}: {e}")))?;
            log::info!("serving /healthz on {bound}");
        }
        let ctx_tables = Arc::new((p.repos, p.languages));
        let mut done = 0u64;
        let mut miners = p.miners;
        loop {
            let started = tokio::time::Instant::now();
            // The miners file is read again each round: operators update it.
            // A file that went bad keeps the last good list: an unattended
            // validator must not stop over it (it did check at start).
            if done > 0 {
                let miners_path = args.common.miners.clone();
                match bridge::blocking(move || inputs::load_miners(&miners_path)).await {
                    Ok(Ok(fresh)) => miners = fresh,
                    Ok(Err(e)) => log::error!("{e}; keeping the miners of the last round"),
                    Err(e) => log::error!(
                        "reading the miners file: {e}; keeping the miners of the last round"
                    ),
                }
            }
            let now = p.now.unwrap_or_else(OffsetDateTime::now_utc);
            let ctx = Arc::new(RoundContext {
                repos: ctx_tables.0.clone(),
                languages: ctx_tables.1.clone(),
                now,
            });
            let hotkeys: BTreeMap<u16, String> = miners
                .iter()
                .filter_map(|m| m.hotkey.clone().map(|h| (m.uid, h)))
                .collect();
            log::info!(
                "round {} starting: {} miners",
                state.round + 1,
                miners.len()
            );
            let Round {
                report,
                interrupted,
            } = round_with_ctrl_c(p.client.clone(), miners.clone(), ctx, p.options, None).await;
            if interrupted {
                // Its rewards would pull every score toward uid 0.
                log::warn!("{INTERRUPTED}; it is discarded and the saved state is unchanged");
                return Ok(());
            }
            state.update(&report.rewards, &hotkeys, args.alpha);
            let weights = state.weights();
            let (dir, snapshot, rep) = (args.state.clone(), state.clone(), report.clone());
            bridge::blocking(move || save_round(&dir, &snapshot, &weights, &rep))
                .await
                .map_err(|e| Failure::Other(e.to_string()))??;
            print_table(&report);
            done += 1;
            if args.rounds.is_some_and(|n| done >= n) {
                return Ok(());
            }
            tokio::select! {
                _ = tokio::time::sleep_until(started + args.interval) => {}
                _ = tokio::signal::ctrl_c() => {
                    log::info!("interrupted between rounds: state is saved");
                    return Ok(());
                }
            }
        }
    });
    // An interrupted round may leave requests in flight (until their
    // timeout); the state is saved, so do not wait for them.
    rt.shutdown_timeout(Duration::from_millis(200));
    result
}

fn save_round(
    dir: &Path,
    state: &ScoreState,
    weights: &BTreeMap<u16, f64>,
    report: &RoundReport,
) -> Result<(), Failure> {
    let write = |name: &str, json: Result<String, serde_json::Error>| {
        let path = dir.join(name);
        let json = json.map_err(|e| Failure::Other(format!("{}: {e}", path.display())))?;
        inputs::write_atomic(&path, json.as_bytes())
            .map_err(|e| Failure::Other(format!("{}: {e}", path.display())))
    };
    write("report.json", serde_json::to_string_pretty(report))?;
    write("weights.json", serde_json::to_string_pretty(weights))?;
    // Last: state.json names the round counter, so it is the commit point.
    write("state.json", serde_json::to_string_pretty(state))
}

/// Writes a recorded round to `dir`: the snapshot, the miners file with
/// placeholder PATs, and copies of the weight tables; logs the command that
/// replays it.
fn save_recording(dir: &Path, recorder: &Recorder, c: &Common, now: &str) -> Result<(), Failure> {
    let fail =
        |path: &Path, e: &dyn std::fmt::Display| Failure::Other(format!("{}: {e}", path.display()));
    std::fs::create_dir_all(dir).map_err(|e| fail(dir, &e))?;
    let (snapshot, miners) = recorder.finish();
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        inputs::write_atomic(&path, text.as_bytes()).map_err(|e| fail(&path, &e))
    };
    let snapshot = serde_json::to_string_pretty(&snapshot).map_err(|e| fail(dir, &e))?;
    let miners = serde_json::to_string_pretty(&miners).map_err(|e| fail(dir, &e))?;
    write("snapshot.json", snapshot)?;
    write("miners.json", miners)?;
    for (name, from) in [
        ("repositories.json", &c.repositories),
        ("languages.json", &c.languages),
    ] {
        let text = std::fs::read_to_string(from).map_err(|e| fail(from, &e))?;
        write(name, text)?;
    }
    log::info!(
        "recorded into {d}; replay with: gittensor-validator score --replay {d}/snapshot.json \
         --miners {d}/miners.json --repositories {d}/repositories.json \
         --languages {d}/languages.json --now {now}",
        d = dir.display()
    );
    Ok(())
}

const SAMPLE_SNAPSHOT: &str = include_str!("../sample/snapshot.json");
const SAMPLE_MINERS: &str = include_str!("../sample/miners.json");
const SAMPLE_REPOSITORIES: &str = include_str!("../sample/repositories.json");
const SAMPLE_LANGUAGES: &str = include_str!("../sample/languages.json");
/// The instant the sample round was made for.
const SAMPLE_NOW: &str = "2025-12-20T12:00:00Z";

fn demo(args: DemoArgs) -> Result<(), Failure> {
    let bundled = |name: &str, e: String| Failure::Other(format!("bundled sample/{name}: {e}"));
    let snapshot: Snapshot = serde_json::from_str(SAMPLE_SNAPSHOT)
        .map_err(|e| bundled("snapshot.json", e.to_string()))?;
    let miners = inputs::parse_miners(SAMPLE_MINERS, Path::new("sample/miners.json"))?;
    let repos = MasterRepositories::parse(SAMPLE_REPOSITORIES, "sample/repositories.json")
        .map_err(|e| bundled("repositories.json", e.to_string()))?;
    let languages = LanguageWeights::parse(SAMPLE_LANGUAGES, "sample/languages.json")
        .map_err(|e| bundled("languages.json", e.to_string()))?;
    let now = parse_now(Some(args.now.as_deref().unwrap_or(SAMPLE_NOW)))?
        .unwrap_or_else(OffsetDateTime::now_utc);
    let hub = start_hub(snapshot, args.latency)?;
    log::info!("demo: sample GitHub served on {}", hub.url());
    let client = Client::new(ClientConfig::builder().base_url(hub.url()).build());
    let ctx = Arc::new(RoundContext {
        repos,
        languages,
        now,
    });
    let rt = runtime()?;
    let Round {
        report,
        interrupted,
    } = rt.block_on(round_with_ctrl_c(
        client,
        miners,
        ctx,
        RoundOptions::default(),
        None,
    ));
    rt.shutdown_timeout(Duration::from_millis(200));
    print_table(&report);
    if let Some(target) = args.report {
        write_report(&report, &target)?;
    }
    if interrupted {
        return Err(Failure::Other(INTERRUPTED.into()));
    }
    Ok(())
}
