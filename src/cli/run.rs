//! `run`: rounds on an interval, the moving average and the weights kept
//! in a state directory.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use gittensor_validator::inputs;
use gittensor_validator::pipeline::bridge;
use gittensor_validator::pipeline::MinerInput;
use gittensor_validator::scoring::state::ValidatorState;
use gittensor_validator::scoring::{RoundContext, RoundReport, DEFAULT_EMA_ALPHA};
use time::OffsetDateTime;

use super::common::{prepare, Source, SourceArgs};
use super::{
    parse_duration, print_table_async, round_with_ctrl_c, runtime, serve_board, Common, Failure,
    Round, INTERRUPTED,
};

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
    /// Serve GET /healthz and GET /metrics here, e.g. 127.0.0.1:8080.
    #[arg(long)]
    pub(crate) health_addr: Option<SocketAddr>,
}
pub(crate) fn run_loop(args: RunArgs) -> Result<(), Failure> {
    if !(0.0..=1.0).contains(&args.alpha) {
        return Err(Failure::Input(format!(
            "--alpha {} is not between 0 and 1",
            args.alpha
        )));
    }
    let p = prepare(&args.common, &args.source)?;
    std::fs::create_dir_all(&args.state)
        .map_err(|e| Failure::Input(format!("{}: {e}", args.state.display())))?;
    inputs::remove_stale_temps(&args.state, &["state.json", "weights.json", "report.json"]);
    gittensor_validator::filestore::keep_in_state_dir(&p.github.client, &args.state);
    let mut state = inputs::load_state(&args.state.join("state.json"))?;
    let rt = runtime()?;
    let result = rt.block_on(async move {
        let board = serve_board(args.health_addr).await?;
        let ctx_tables = Arc::new((p.github.repos, p.github.languages));
        let mut done = 0u64;
        let mut source = p.source;
        loop {
            let started = tokio::time::Instant::now();
            // The source file is read again each round: operators update it.
            // A file that went bad keeps the last good list: an unattended
            // validator must not stop over it (it did check at start).
            if done > 0 {
                source.reload().await;
            }
            let now = p.github.now.unwrap_or_else(OffsetDateTime::now_utc);
            let ctx = Arc::new(RoundContext {
                repos: ctx_tables.0.clone(),
                languages: ctx_tables.1.clone(),
                now,
            });
            // The metagraph, or the miners file standing for it, resyncs the
            // scores by hotkey (§11.3) before the round is folded in.
            let (hotkeys, count) = match &source {
                Source::Listed(_, miners) => (round_hotkeys(miners, state.as_ref()), miners.len()),
                Source::Axons(_, metagraph, _) => (metagraph.hotkeys(), metagraph.n()),
            };
            let mut next = match state.clone() {
                None => ValidatorState::new(hotkeys),
                Some(mut s) => {
                    let changed = s.hotkeys != hotkeys;
                    let resync = s.resync(&hotkeys, changed);
                    for uid in &resync.reset {
                        log::info!("uid {uid}: hotkey changed, score reset");
                    }
                    s
                }
            };
            log::info!("round {} starting: {count} miners", next.rounds + 1);
            let Round {
                report,
                interrupted,
            } = round_with_ctrl_c(
                p.github.client.clone(),
                source.round_miners(),
                ctx,
                p.github.options,
                None,
            )
            .await;
            if interrupted {
                // Its rewards would pull every score toward uid 0.
                log::warn!("{INTERRUPTED}; it is discarded and the saved state is unchanged");
                return Ok(());
            }
            // Every reward's uid is a miners-file uid, below n.
            next.fold_round(&report.rewards, args.alpha)
                .map_err(|e| Failure::Other(format!("moving average: {e}")))?;
            let weights = next.normalized();
            let (dir, snapshot, rep) = (args.state.clone(), next.clone(), report.clone());
            bridge::blocking(move || save_round(&dir, &snapshot, &weights, &rep))
                .await
                .map_err(|e| Failure::Other(e.to_string()))??;
            state = Some(next);
            board.round(&report);
            print_table_async(&report).await;
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

pub(crate) fn save_round(
    dir: &Path,
    state: &ValidatorState,
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

/// The hotkey of each uid `0..=max uid` of the miners file. A miner that
/// did not respond this round keeps the hotkey it had: not answering is not
/// a new registration. A uid never seen has none ("").
fn round_hotkeys(miners: &[MinerInput], state: Option<&ValidatorState>) -> Vec<String> {
    let n = miners
        .iter()
        .map(|m| usize::from(m.uid) + 1)
        .max()
        .unwrap_or(0);
    let mut hotkeys: Vec<String> = (0..n)
        .map(|i| {
            state
                .and_then(|s| s.hotkeys.get(i).cloned())
                .unwrap_or_default()
        })
        .collect();
    for m in miners {
        if let Some(h) = &m.hotkey {
            hotkeys[usize::from(m.uid)] = h.clone();
        }
    }
    hotkeys
}
