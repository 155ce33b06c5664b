//! `run`: rounds on an interval, the moving average and the weights kept
//! in a state directory.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use gittensor_validator::health::{Board, Concern, Due};
use gittensor_validator::inputs;
use gittensor_validator::pipeline::bridge;
use gittensor_validator::pipeline::MinerInput;
use gittensor_validator::scoring::state::ValidatorState;
use gittensor_validator::scoring::{RoundReport, DEFAULT_EMA_ALPHA};

use super::common::{check_alpha, prepare, Github, Source, SourceArgs};
use super::{
    parse_addr, parse_duration, print_table_async, round_budget, round_until_stopped, runtime,
    serve_board, systemd, when, write_json, Common, Failure, Round, Shutdown, INTERRUPTED,
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
    /// Serve GET /healthz, /readyz and /metrics here, e.g. 127.0.0.1:8080
    /// or localhost:8080.
    #[arg(long, value_parser = parse_addr)]
    pub(crate) health_addr: Option<SocketAddr>,
}
pub(crate) fn run_loop(args: RunArgs) -> Result<(), Failure> {
    check_alpha(args.alpha)?;
    let p = prepare(&args.common, &args.source)?;
    std::fs::create_dir_all(&args.state)
        .map_err(|e| Failure::Input(format!("{}: {e}", args.state.display())))?;
    inputs::remove_stale_temps(&args.state, &["state.json", "weights.json", "report.json"]);
    gittensor_validator::filestore::keep_in_state_dir(&p.github.client, &args.state);
    let state = inputs::load_state(&args.state.join("state.json"))?;
    let rt = runtime()?;
    let result = rt.block_on(async move {
        let shutdown = Shutdown::install()?;
        let board = serve_board(args.health_addr).await?;
        systemd::ready(&board);
        let mut rounds = Rounds {
            args,
            github: p.github,
            source: p.source,
            state,
            board,
            shutdown,
        };
        rounds.run().await
    });
    systemd::stopping();
    // An interrupted round may leave requests in flight (until their
    // timeout); the state is saved, so do not wait for them.
    rt.shutdown_timeout(Duration::from_millis(200));
    result
}

/// The `run` loop: a round, its verdict, the state saved, the wait.
struct Rounds {
    args: RunArgs,
    github: Github,
    source: Source,
    state: Option<ValidatorState>,
    board: Arc<Board>,
    shutdown: Shutdown,
}

impl Rounds {
    async fn run(&mut self) -> Result<(), Failure> {
        let mut shutdown = self.shutdown.clone();
        if !self.state.as_ref().is_some_and(ValidatorState::is_scored) {
            self.board.concern(
                Concern::Round,
                Some("no scoring round has finished yet".into()),
            );
        }
        let mut done = 0u64;
        loop {
            let started = tokio::time::Instant::now();
            // The source file is read again each round: operators update it.
            // A file that went bad keeps the last good list: an unattended
            // validator must not stop over it (it did check at start).
            if done > 0 {
                self.source.reload().await;
            }
            if !self.round().await? {
                log::warn!("{INTERRUPTED}; it is discarded and the saved state is unchanged");
                return Ok(());
            }
            done += 1;
            self.board.step(done);
            if self.args.rounds.is_some_and(|n| done >= n) {
                return Ok(());
            }
            let next = started + self.args.interval;
            let wait = next.saturating_duration_since(tokio::time::Instant::now());
            let (span, at) = when(wait);
            log::info!("next round in {span} (~{at})");
            self.board.next_due(
                Some(Due {
                    step: Some(done),
                    block: None,
                    at: at.clone(),
                }),
                None,
            );
            self.board.expect_progress(
                wait + self.budget() + Duration::from_secs(60),
                &format!("the round due at {at}"),
            );
            tokio::select! {
                _ = tokio::time::sleep_until(next) => {}
                name = shutdown.wait() => {
                    log::info!("{name} between rounds: the state is saved, exiting");
                    return Ok(());
                }
            }
        }
    }

    /// The longest a round may take before `/healthz` calls the loop stuck.
    fn budget(&self) -> Duration {
        let (miners, dendrite) = match &self.source {
            Source::Listed(_, miners) => (miners.len(), None),
            Source::Axons(_, metagraph, _) => {
                (metagraph.n(), Some(self.args.source.dendrite_timeout))
            }
        };
        round_budget(&self.github.options, miners, dendrite)
    }

    /// One round with the tables read again, judged (§11.9.7), and saved
    /// before anything waits. False when a signal cut it short.
    async fn round(&mut self) -> Result<bool, Failure> {
        self.board.expect_progress(self.budget(), "a round");
        let ctx = self.github.next_round(&self.board).await;
        // The metagraph, or the miners file standing for it, resyncs the
        // scores by hotkey (§11.3) before the round is folded in.
        let (hotkeys, count) = match &self.source {
            Source::Listed(_, miners) => (round_hotkeys(miners, self.state.as_ref()), miners.len()),
            Source::Axons(_, metagraph, _) => (metagraph.hotkeys(), metagraph.n()),
        };
        let mut next = match self.state.clone() {
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
            mut report,
            interrupted,
        } = round_until_stopped(
            self.github.client.clone(),
            self.source.round_miners(),
            ctx,
            self.github.options,
            None,
            &self.shutdown,
        )
        .await;
        if interrupted {
            // Its rewards would pull every score toward uid 0.
            return Ok(false);
        }
        let dir = self.args.state.clone();
        match self.github.judge(&mut report) {
            Err(why) => {
                self.board.round_discarded(&why);
                let rep = report.clone();
                bridge::blocking(move || write_json(&dir.join("report.json"), &rep))
                    .await
                    .map_err(|e| Failure::Other(e.to_string()))??;
            }
            Ok(()) => {
                // Every reward's uid is a miners-file uid, below n.
                next.fold_round(&report.rewards, self.args.alpha)
                    .map_err(|e| Failure::Other(format!("moving average: {e}")))?;
                let weights = next.normalized();
                let (snapshot, rep) = (next.clone(), report.clone());
                bridge::blocking(move || save_round(&dir, &snapshot, &weights, &rep))
                    .await
                    .map_err(|e| Failure::Other(e.to_string()))??;
                self.state = Some(next);
                self.board.round(&report);
            }
        }
        print_table_async(&report).await;
        Ok(true)
    }
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
