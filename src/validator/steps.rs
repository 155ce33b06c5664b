//! `validate`'s step loop (SCORING.md §11.5), written once for either
//! source of neurons: a scoring round when due, saved at once; the step's
//! wait; the step's end (`Neurons::end_step`); the step saved; and a line
//! that says what it waits for next. A signal at any point stops it with
//! the state saved.

use std::time::Duration;

use crate::health::Due;
use crate::pipeline::RoundExtras;

use super::neurons::Neurons;
use super::persist::{note_file_store, save_json};
use super::round::print_table;
use super::round::{round_budget, round_until_stopped, Round, RoundMiners, INTERRUPTED};
use super::state::{Attempt, Validator};
use super::{due_at, plural, when, Failure};
/// Subtensor's block time, for "when" estimates only.
const BLOCK_TIME: Duration = Duration::from_secs(12);

/// How a round ended.
enum RoundEnd {
    /// Folded into the scores, or discarded (§11.9.7); either way it counts.
    Done,
    /// A signal cut it short: it is discarded and the loop stops.
    Interrupted,
}

impl<N: Neurons> Validator<N> {
    /// The step loop (§11.5): a round when due, saved at once; the step's
    /// wait; the sync; the step saved. A signal at any point stops it with
    /// the state saved: a round in flight is discarded, a wait or a sync is
    /// cut short.
    pub(super) async fn steps(&mut self) -> Result<(), Failure> {
        let mut shutdown = self.shutdown.clone();
        self.announce(false);
        loop {
            self.board.step(self.state.step);
            let round_due = self.cadence.is_round_step(self.state.step) && !self.limit_reached();
            if round_due {
                if let RoundEnd::Interrupted = self.round().await? {
                    log::warn!("{INTERRUPTED}; it is discarded and the saved state is unchanged");
                    return Ok(());
                }
                // A finished round is saved before anything waits.
                self.save().await;
                self.announce(true);
            }
            self.board.expect_progress(
                self.step_budget(),
                &format!("step {} (wait, then sync)", self.state.step),
            );
            tokio::select! {
                _ = tokio::time::sleep(self.args.step_interval) => {}
                name = shutdown.wait() => {
                    log::info!("{name} between steps: the state is saved, exiting");
                    return Ok(());
                }
            }
            let attempt = tokio::select! {
                attempt = N::end_step(self) => attempt?,
                name = shutdown.wait() => {
                    log::info!("{name} during the chain sync: it is cut short, the state is saved, exiting");
                    self.save().await;
                    return Ok(());
                }
            };
            self.state.step += 1;
            self.save().await;
            if let Some(name) = self.shutdown.requested() {
                log::info!("{name}: the step is finished and the state is saved, exiting");
                return Ok(());
            }
            if self.limit_reached() && attempt == Some(Attempt::Concluded) {
                log::info!(
                    "{} {} done and the weights after them settled: stopping",
                    self.rounds_done,
                    plural(self.rounds_done, "round", "rounds")
                );
                return Ok(());
            }
            self.announce(false);
        }
    }

    /// The longest a step (its wait and its sync) may take before
    /// `/healthz` calls the loop stuck: three step intervals, or one and
    /// the chain calls' own deadlines, whichever is longer.
    fn step_budget(&self) -> Duration {
        (self.args.step_interval * 3).max(self.args.step_interval + self.neurons.sync_budget())
    }

    fn limit_reached(&self) -> bool {
        self.args.rounds.is_some_and(|n| self.rounds_done >= n)
    }

    /// Says what the loop waits for next: the round (step and time) and
    /// the weights (block and time), in the log and on the board.
    fn announce(&self, round_done: bool) {
        let step = self.state.step;
        let every = self.cadence.steps_per_round.max(1);
        // The round of this step, unless it already ran.
        let round_step = (step + u64::from(round_done)).div_ceil(every) * every;
        let wait = self.args.step_interval * u32::try_from(round_step - step).unwrap_or(u32::MAX);
        let (span, at) = when(wait);
        let due = Due {
            step: Some(round_step),
            block: None,
            at: due_at(wait),
        };
        let (round, round_text) = if self.limit_reached() {
            (None, "no more rounds (--rounds)".to_string())
        } else if round_step == step {
            (Some(due), format!("next round now (step {step})"))
        } else {
            let text = format!("next round at step {round_step} (in {span}, ~{at})");
            (Some(due), text)
        };
        let weights = self.head.map(|head| {
            let due = self.last_update() + self.cadence.epoch_length + 1;
            let blocks = due.saturating_sub(head);
            let wait = BLOCK_TIME * u32::try_from(blocks).unwrap_or(u32::MAX);
            (
                Due {
                    step: None,
                    block: Some(due),
                    at: due_at(wait),
                },
                blocks,
                wait,
            )
        });
        let weights_text = match &weights {
            Some((d, 0, _)) => format!(
                "weights due at the end of this step (block {}, due after {})",
                self.head.unwrap_or(0),
                d.block.unwrap_or(0).saturating_sub(1)
            ),
            Some((d, blocks, wait)) => format!(
                "weights due after block {} (now {}, {blocks} {} to go, ~{}, ~{})",
                d.block.unwrap_or(0).saturating_sub(1),
                self.head.unwrap_or(0),
                plural(*blocks, "block", "blocks"),
                when(*wait).0,
                when(*wait).1
            ),
            None => self.neurons.weights_pending().into(),
        };
        log::info!("step {step}: {round_text}; {weights_text}");
        self.board.next_due(round, weights.map(|w| w.0));
    }

    /// One scoring round on the metagraph of the last sync, with the
    /// weight tables read again; folded into the moving average unless it
    /// failed on our side (§11.9.7).
    async fn round(&mut self) -> Result<RoundEnd, Failure> {
        let ctx = self.github.next_round(&self.board).await;
        let number = self.state.rounds + 1;
        log::info!("round {number} starting: {} uids", self.metagraph.n());
        self.board.expect_progress(
            round_budget(
                &self.github.options,
                self.metagraph.n(),
                Some(self.args.dendrite_timeout),
            ),
            &format!("round {number}"),
        );
        let miners = RoundMiners::Axons(self.dendrite.clone(), self.metagraph.clone());
        let Round {
            mut report,
            interrupted,
        } = round_until_stopped(
            self.github.client.clone(),
            miners,
            ctx,
            self.github.options,
            RoundExtras {
                files: self.github.files.clone(),
                ..RoundExtras::default()
            },
            &self.shutdown,
        )
        .await;
        if interrupted {
            return Ok(RoundEnd::Interrupted);
        }
        self.rounds_done += 1;
        match self.github.judge(&mut report) {
            Err(why) => self.board.round_discarded(&why),
            Ok(()) => match self.state.fold_round(&report.rewards, self.args.alpha) {
                Ok(()) => self.board.round(&report),
                // The round's uids come from the metagraph the scores follow.
                Err(e) => {
                    let why = format!("moving average: {e}");
                    log::error!("{why}; the round is discarded");
                    self.board.round_discarded(&why);
                    report.discarded = Some(why);
                }
            },
        }
        self.github.store_round(&report, &self.board);
        print_table(&report);
        note_file_store(&self.board, self.github.files.as_deref());
        save_json(&self.board, self.dir.join("report.json"), report).await;
        Ok(RoundEnd::Done)
    }

    /// Writes `state.json`. A failure ends nothing (`persist.rs`): the
    /// state stays in memory and every later save writes it again.
    pub(super) async fn save(&self) {
        save_json(&self.board, self.dir.join("state.json"), self.state.clone()).await;
    }
}
