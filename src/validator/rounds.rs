//! `run`: scoring rounds on an interval, the moving average and the
//! weights kept in a state directory (SCORING.md §10, §11.1–11.4), with the
//! weight tables read at every round and a round that failed on the
//! validator's side discarded (§11.9.6, §11.9.7).

use std::sync::Arc;
use std::time::Duration;

use crate::health::{Board, Concern, Due};
use crate::inputs;
use crate::pipeline::{MinerInput, RoundExtras};
use crate::scoring::state::ValidatorState;

use super::config::RunConfig;
use super::persist::{note_file_store, save_json, save_round, save_state};
use super::round::print_table;
use super::round::{round_budget, round_until_stopped, Round, RoundMiners, INTERRUPTED};
use super::startup::following;
use super::{due_at, runtime, serve_board, systemd, when, Failure, Shutdown};

/// Runs rounds on an interval until `--rounds` is reached or a signal.
pub fn run_rounds(mut config: RunConfig) -> Result<(), Failure> {
    super::raise_open_files_limit();
    let dir = &config.state_dir;
    std::fs::create_dir_all(dir).map_err(|e| Failure::Input(format!("{}: {e}", dir.display())))?;
    inputs::remove_stale_temps(dir, &["state.json", "weights.json", "report.json"]);
    config.github.files = Some(Arc::new(crate::store::files::open_in_state_dir(dir)));
    let state = inputs::load_state(&dir.join("state.json"))?;
    let rt = runtime()?;
    let result = rt.block_on(async move {
        let shutdown = Shutdown::install()?;
        let board = serve_board(config.health_addr).await?;
        systemd::ready(&board).await;
        config.github.start_results(&board);
        let mut rounds = Rounds {
            config,
            state,
            board,
            shutdown,
            unsaved: false,
        };
        let result = rounds.run().await;
        rounds.config.github.finish_results(&rounds.shutdown).await;
        result
    });
    systemd::stopping();
    // An interrupted round may leave requests in flight (until their
    // timeout); the state is saved, so do not wait for them.
    rt.shutdown_timeout(Duration::from_millis(200));
    result
}

/// The `run` loop: a round, its verdict, the state saved, the wait.
struct Rounds {
    config: RunConfig,
    state: Option<ValidatorState>,
    board: Arc<Board>,
    shutdown: Shutdown,
    /// The last save of the state failed: it is tried again at the next
    /// round, even a discarded one.
    unsaved: bool,
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
                self.config.source.reload().await;
            }
            if !self.round().await? {
                log::warn!("{INTERRUPTED}; it is discarded and the saved state is unchanged");
                return Ok(());
            }
            done += 1;
            self.board.step(done);
            if self.config.rounds.is_some_and(|n| done >= n) {
                return Ok(());
            }
            let next = started + self.config.interval;
            let wait = next.saturating_duration_since(tokio::time::Instant::now());
            let (span, at) = when(wait);
            log::info!("next round in {span} (~{at})");
            self.board.next_due(
                Some(Due {
                    step: Some(done),
                    block: None,
                    at: due_at(wait),
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
        let (miners, dendrite) = match &self.config.source.miners {
            RoundMiners::Listed(miners) => (miners.len(), None),
            RoundMiners::Axons(_, metagraph) => (metagraph.n(), Some(self.config.dendrite_timeout)),
        };
        round_budget(&self.config.github.options, miners, dendrite)
    }

    /// One round with the tables read again, judged (§11.9.7), and saved
    /// before anything waits. False when a signal cut it short.
    async fn round(&mut self) -> Result<bool, Failure> {
        self.board.expect_progress(self.budget(), "a round");
        let ctx = self.config.github.next_round(&self.board).await;
        // The metagraph, or the miners file standing for it, resyncs the
        // scores by hotkey (§11.3) before the round is folded in.
        let (hotkeys, count) = match &self.config.source.miners {
            RoundMiners::Listed(miners) => {
                (round_hotkeys(miners, self.state.as_ref()), miners.len())
            }
            RoundMiners::Axons(_, metagraph) => (metagraph.hotkeys(), metagraph.n()),
        };
        let mut next = following(self.state.clone(), hotkeys);
        log::info!("round {} starting: {count} miners", next.rounds + 1);
        let Round {
            mut report,
            interrupted,
        } = round_until_stopped(
            self.config.github.client.clone(),
            self.config.source.miners.clone(),
            ctx,
            self.config.github.options,
            RoundExtras {
                files: self.config.github.files.clone(),
                ..RoundExtras::default()
            },
            &self.shutdown,
        )
        .await;
        if interrupted {
            // Its rewards would pull every score toward uid 0.
            return Ok(false);
        }
        let dir = self.config.state_dir.clone();
        note_file_store(&self.board, self.config.github.files.as_deref());
        // A write that fails is on /readyz and tried again at the next
        // round; the round counts all the same.
        match self.config.github.judge(&mut report) {
            Err(why) => {
                self.board.round_discarded(&why);
                save_json(&self.board, dir.join("report.json"), report.clone()).await;
                // The scores stay as they were, but a save of them that
                // failed is tried again.
                if self.unsaved {
                    if let Some(state) = &self.state {
                        self.unsaved = !save_state(&self.board, &dir, state).await;
                    }
                }
            }
            Ok(()) => {
                // Every reward's uid is a miners-file uid, below n.
                next.fold_round(&report.rewards, self.config.alpha)
                    .map_err(|e| Failure::Other(format!("moving average: {e}")))?;
                self.unsaved = !save_round(&self.board, &dir, &next, report.clone()).await;
                self.state = Some(next);
                self.board.round(&report);
            }
        }
        self.config.github.store_round(&report, &self.board);
        print_table(&report);
        Ok(true)
    }
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
