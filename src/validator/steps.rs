//! The one loop of `run` and `validate` (SCORING.md §11.5): a scoring
//! round when due, judged, folded and saved at once; the step's wait; the
//! step's end as [`plan_step`] says (the neurons read again, the weights);
//! the step saved; a line that says what it waits for next. A signal at any
//! point stops it with the state saved: a round in flight is discarded, a
//! wait or a sync is cut short.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::chain::Head;
use crate::health::{Board, Due};
use crate::scoring::state::{Cadence, ValidatorState};
use crate::scoring::step::{
    plan_step, round_at, stop_after_round, Attempt, StepFacts, StepPlan, WeightsBy,
};
use crate::scoring::weights::WeightLimits;
use crate::wallet::Hotkey;

use super::config::{Pace, RoundInputs, Settings};
use super::round::RoundMiners;
use super::round::INTERRUPTED;
use super::source::Source;
use super::{due_at, plural, when, Failure, Shutdown};
use crate::store::json::save_json;

/// Subtensor's block time, for "when" estimates only.
const BLOCK_TIME: Duration = Duration::from_secs(12);

/// The loop's state between steps.
pub(super) struct Validator {
    pub(super) settings: Settings,
    /// `validate`'s hotkey; `run` has none.
    pub(super) hotkey: Option<Hotkey>,
    pub(super) source: Source,
    /// The neurons of the last read: what the next round starts from.
    pub(super) neurons: RoundMiners,
    /// This validator's uid among the neurons (`validate`).
    pub(super) uid: Option<u16>,
    pub(super) state: ValidatorState,
    pub(super) weights_by: WeightsBy,
    pub(super) dir: PathBuf,
    pub(super) cadence: Cadence,
    pub(super) board: Arc<Board>,
    pub(super) round: RoundInputs,
    pub(super) shutdown: Shutdown,
    pub(super) rounds_done: u64,
    /// The last block seen on the chain (never, without a chain).
    pub(super) head: Option<u64>,
}

/// How a step ended: what [`plan_step`] says once the step's end is done.
enum StepEnd {
    /// The next step, with a round or not.
    Next { round: bool },
    /// `--rounds` reached and the weights after them settled.
    Stop,
}

/// How a round ended.
pub(super) enum RoundEnd {
    /// Folded into the scores, or discarded (§11.9.7); either way it counts.
    Done,
    /// A signal cut it short: it is discarded and the loop stops.
    Interrupted,
}

impl Validator {
    /// The step loop (§11.5).
    pub(super) async fn steps(&mut self) -> Result<(), Failure> {
        let mut shutdown = self.shutdown.clone();
        let mut round = round_at(
            &self.cadence,
            self.state.step,
            self.rounds_done,
            self.settings.rounds,
        );
        self.announce(false, self.settings.step_interval);
        loop {
            self.board.step(self.state.step);
            let started = tokio::time::Instant::now();
            if round {
                if let RoundEnd::Interrupted = self.round().await? {
                    log::warn!("{INTERRUPTED}; it is discarded and the saved state is unchanged");
                    return Ok(());
                }
                // A finished round is saved before anything waits.
                self.save().await;
                if stop_after_round(self.weights_by, self.rounds_done, self.settings.rounds) {
                    return Ok(());
                }
            }
            let wait_until = match self.settings.pace {
                Pace::AfterTheRound => tokio::time::Instant::now() + self.settings.step_interval,
                Pace::FromTheStepStart => started + self.settings.step_interval,
            };
            let wait = wait_until.saturating_duration_since(tokio::time::Instant::now());
            if round {
                self.announce(true, wait);
            }
            self.board.expect_progress(
                wait + self.step_budget(),
                &format!("step {} (wait, then sync)", self.state.step),
            );
            tokio::select! {
                _ = tokio::time::sleep_until(wait_until) => {}
                name = shutdown.wait() => {
                    let between = match self.weights_by {
                        // `run`'s steps are its rounds.
                        WeightsBy::WithTheRound => "rounds",
                        WeightsBy::Chain | WeightsBy::EveryStep => "steps",
                    };
                    log::info!("{name} between {between}: the state is saved, exiting");
                    return Ok(());
                }
            }
            let end = tokio::select! {
                end = self.end_step() => end?,
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
            match end {
                StepEnd::Next { round: next } => {
                    round = next;
                    self.announce(false, self.settings.step_interval);
                }
                StepEnd::Stop => {
                    log::info!(
                        "{} {} done and the weights after them settled: stopping",
                        self.rounds_done,
                        plural(self.rounds_done, "round", "rounds")
                    );
                    return Ok(());
                }
            }
        }
    }

    /// The end of a step (2.0.7's `sync`): the head read, then what
    /// [`plan_step`] says, until it says what comes next.
    async fn end_step(&mut self) -> Result<StepEnd, Failure> {
        let netuid = self.settings.netuid;
        let head: Option<Head> = match (self.source.chain(), &self.hotkey) {
            (Some(on), Some(hotkey)) => on.head(netuid, hotkey, &self.board).await?,
            _ => None,
        };
        if let Some(head) = head {
            self.head = Some(head.number);
        }
        let mut facts = StepFacts {
            step: self.state.step,
            head: head.map(|h| h.number),
            last_update: self.last_update(),
            resynced: false,
            weights: None,
            rounds_done: self.rounds_done,
            rounds_limit: self.settings.rounds,
        };
        loop {
            match plan_step(self.weights_by, &self.cadence, &facts) {
                StepPlan::Resync => {
                    if let Some(fresh) = self.source.read_again(netuid, head).await {
                        self.adopt(fresh);
                    }
                    facts.resynced = true;
                    // As 2.0.7: the weights are due on `LastUpdate` as of
                    // this resync.
                    facts.last_update = self.last_update();
                }
                StepPlan::Weights => {
                    let started = std::time::Instant::now();
                    let attempt = match head {
                        Some(head) => self.set_weights(head).await,
                        None => self.compute_only().await,
                    };
                    if head.is_some() {
                        log::info!("weights step took {} ms", started.elapsed().as_millis());
                    }
                    facts.weights = Some(attempt);
                }
                StepPlan::Next { round } => return Ok(StepEnd::Next { round }),
                StepPlan::Stop => return Ok(StepEnd::Stop),
            }
        }
    }

    /// The weights of a source with no chain (`validate --metagraph`):
    /// computed with no limits and logged, never sent.
    async fn compute_only(&self) -> Attempt {
        if !self.state.is_scored() {
            log::info!("no scoring round has finished yet: no weights to compute");
            return Attempt::Concluded;
        }
        self.compute(WeightLimits::NONE).await;
        log::info!("--metagraph: no chain, the weights above are not submitted");
        Attempt::Concluded
    }

    /// Fresh neurons replace the last (§11.3): the scores follow their
    /// hotkeys (a uid whose hotkey changed starts again from 0).
    fn adopt(&mut self, fresh: RoundMiners) {
        let hotkeys = fresh.hotkeys(&self.state.hotkeys);
        // 2.0.7 resyncs only when an axon changed; a miners file has no
        // axons, so a changed hotkey is the change.
        let changed = match (self.neurons.metagraph(), fresh.metagraph()) {
            (Some(last), Some(new)) => !last.same_axons(new),
            _ => self.state.hotkeys != hotkeys,
        };
        let r = self.state.resync(&hotkeys, changed);
        if !r.reset.is_empty() {
            log::info!(
                "resync: hotkeys replaced at uids {:?}, their scores reset",
                r.reset
            );
        }
        if let Some(n) = r.grew_to {
            log::info!("resync: the subnet grew to {n} uids (scores are float64 from now on)");
        }
        if let Some(n) = r.shrank_to {
            log::warn!("resync: the subnet shrank to {n} uids; the scores past it are dropped");
        }
        if let (Some(hotkey), Some(m)) = (&self.hotkey, fresh.metagraph()) {
            if let Some(uid) = m.uid_of(hotkey.ss58()) {
                self.uid = Some(uid);
            }
        }
        self.neurons = fresh;
        self.board
            .submission_mode(self.permit(), self.settings.dry_run);
    }

    /// This validator's `LastUpdate` in the last synced metagraph.
    pub(super) fn last_update(&self) -> u64 {
        self.own_neuron().map_or(0, |n| n.last_update)
    }

    /// Whether this hotkey holds a validator permit (as of the last sync);
    /// `None` when the neurons do not say (a file).
    pub(super) fn permit(&self) -> Option<bool> {
        self.source
            .has_permits()
            .then(|| self.own_neuron().is_some_and(|n| n.validator_permit))
    }

    fn own_neuron(&self) -> Option<&crate::metagraph::Neuron> {
        let uid = usize::from(self.uid?);
        self.neurons.metagraph()?.neurons.get(uid)
    }

    /// The longest a step (its wait and its sync) may take before
    /// `/healthz` calls the loop stuck: three step intervals, or one and
    /// the chain calls' own deadlines, whichever is longer.
    fn step_budget(&self) -> Duration {
        let interval = self.settings.step_interval;
        (interval * 3).max(interval + self.source.sync_budget())
    }

    fn limit_reached(&self) -> bool {
        self.settings.rounds.is_some_and(|n| self.rounds_done >= n)
    }

    /// Says what the loop waits for next: the round (step and time) and
    /// the weights (block and time), in the log and on the board.
    /// `to_next_step` is the wait before this step ends.
    fn announce(&self, round_done: bool, to_next_step: Duration) {
        let step = self.state.step;
        let every = self.cadence.steps_per_round.max(1);
        // The round of this step, unless it already ran.
        let round_step = (step + u64::from(round_done)).div_ceil(every) * every;
        let wait = match round_step - step {
            0 => Duration::ZERO,
            ahead => {
                to_next_step
                    + self.settings.step_interval * u32::try_from(ahead - 1).unwrap_or(u32::MAX)
            }
        };
        let (span, at) = when(wait);
        let due = Due {
            step: Some(round_step),
            block: None,
            at: due_at(wait),
        };
        if self.weights_by == WeightsBy::WithTheRound {
            // `run`: a round at every step, the weights written with it;
            // said once the round is done.
            if round_done {
                log::info!("next round in {span} (~{at})");
                self.board.next_due(Some(due), None);
            }
            return;
        }
        let (round, round_text) = if self.limit_reached() {
            (None, "no more rounds (--rounds)".to_string())
        } else if round_step == step {
            (Some(due), format!("next round now (step {step})"))
        } else {
            let text = format!("next round at step {round_step} (in {span}, ~{at})");
            (Some(due), text)
        };
        // Our last weights the chain accepted count at once: the
        // metagraph's `LastUpdate` says so only from the next resync.
        let last = self
            .last_update()
            .max(self.state.last_weights_block.unwrap_or(0));
        let weights = self.head.map(|head| {
            let due = last + self.cadence.epoch_length + 1;
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
        let weights_text = match (&weights, self.weights_by) {
            (Some((d, 0, _)), _) => format!(
                "weights due at the end of this step (block {}, due after {})",
                self.head.unwrap_or(0),
                d.block.unwrap_or(0).saturating_sub(1)
            ),
            (Some((d, blocks, wait)), _) => format!(
                "weights due after block {} (now {}, {blocks} {} to go, ~{}, ~{})",
                d.block.unwrap_or(0).saturating_sub(1),
                self.head.unwrap_or(0),
                plural(*blocks, "block", "blocks"),
                when(*wait).0,
                when(*wait).1
            ),
            (None, WeightsBy::Chain) => "weights: waiting for the chain".into(),
            (None, _) => "weights computed at every step (--metagraph)".into(),
        };
        // The board first: whoever reads the line finds it there already.
        self.board.next_due(round, weights.map(|w| w.0));
        log::info!("step {step}: {round_text}; {weights_text}");
    }

    /// Writes `state.json`. A failure ends nothing (`store::json`): the
    /// state stays in memory and every later save writes it again.
    pub(super) async fn save(&self) {
        save_json(&self.board, self.dir.join("state.json"), self.state.clone()).await;
    }
}
