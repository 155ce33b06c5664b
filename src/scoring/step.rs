//! The loop's "what now?" at a step (SCORING.md §11.5), as one pure
//! function of what it knows: [`plan_step`]. The loop (`validator`) only
//! carries the plan out and feeds what it found back in: a step ends with
//! the neurons read again when an epoch passed (or at every step, from a
//! file), then the weights when due, then the next step, with or without a
//! round, or the stop. Beside it, [`super::state::decide_submission`] says
//! which submission the weights become once the chain's parameters are in.
//!
//! `run` and `validate` are this one loop; they differ only in data: where
//! the neurons come from and [`WeightsBy`].

use super::state::Cadence;

/// What becomes of the weights, by where the neurons come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightsBy {
    /// A chain: due by blocks (an epoch since this validator's
    /// `LastUpdate`), then sent as `decide_submission` says.
    Chain,
    /// A metagraph file (`validate --metagraph`): computed and logged at
    /// the end of every step but the first; nothing is sent.
    EveryStep,
    /// A miners or metagraph file under `run`: the normalized scores are
    /// written with every folded round; nothing happens at a step's end.
    WithTheRound,
}

/// How the weights of a step ended: `--rounds` stops on a concluded one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Submitted, refused, computed, or found impossible.
    Concluded,
    /// Failed in a way the next due step may not (the chain unreachable).
    Unknown,
}

/// What the loop knows at the end of a step, as plain data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepFacts {
    /// The step that is ending.
    pub step: u64,
    /// The chain's best block, read at this step's end; `None` without a
    /// chain, or when the chain did not answer.
    pub head: Option<u64>,
    /// This validator's `LastUpdate` in the metagraph held now.
    pub last_update: u64,
    /// The neurons were read again (or tried) at this step's end.
    pub resynced: bool,
    /// How the weights of this step ended, once they were seen to.
    pub weights: Option<Attempt>,
    /// Scoring rounds run by this process.
    pub rounds_done: u64,
    /// `--rounds`: stop after this many.
    pub rounds_limit: Option<u64>,
}

impl StepFacts {
    fn limit_reached(&self) -> bool {
        self.rounds_limit.is_some_and(|n| self.rounds_done >= n)
    }
}

/// What the loop does next at the end of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepPlan {
    /// Read the neurons again (the metagraph, or the file), adopt them,
    /// then plan again with `resynced`.
    Resync,
    /// See to the weights (compute; submit when [`WeightsBy::Chain`]), then
    /// plan again with `weights`.
    Weights,
    /// The step is over: the next one starts, with a round or not.
    Next {
        /// A scoring round runs at the start of the next step.
        round: bool,
    },
    /// `--rounds` is reached and the weights after the last round are
    /// settled: the loop ends.
    Stop,
}

/// Whether a scoring round runs at the start of `step`: at every
/// `steps_per_round`-th step, until `--rounds` is reached.
pub fn round_at(cadence: &Cadence, step: u64, rounds_done: u64, limit: Option<u64>) -> bool {
    cadence.is_round_step(step) && limit.is_none_or(|n| rounds_done < n)
}

/// Whether the loop ends right after a round: `run` (weights written with
/// the round) at `--rounds`; the others wait for the weights that follow.
pub fn stop_after_round(by: WeightsBy, rounds_done: u64, limit: Option<u64>) -> bool {
    by == WeightsBy::WithTheRound && limit.is_some_and(|n| rounds_done >= n)
}

/// The next thing to do at the end of a step (SCORING.md §11.5, 2.0.7's
/// `sync`): a resync when an epoch passed since this validator's last
/// weights (every step from a file), the weights when due (after the
/// resync, on its `LastUpdate`), then the next step; the stop once
/// `--rounds` is reached and the weights after them concluded.
pub fn plan_step(by: WeightsBy, cadence: &Cadence, f: &StepFacts) -> StepPlan {
    if !f.resynced {
        let resync = match by {
            // A chain that did not answer: nothing more this step.
            WeightsBy::Chain => f
                .head
                .is_some_and(|head| cadence.resync_due(head, f.last_update)),
            WeightsBy::EveryStep | WeightsBy::WithTheRound => true,
        };
        if resync {
            return StepPlan::Resync;
        }
    }
    if f.weights.is_none() {
        let due = match by {
            WeightsBy::Chain => f
                .head
                .is_some_and(|head| cadence.weights_due(f.step, head, f.last_update)),
            WeightsBy::EveryStep => f.step != 0,
            WeightsBy::WithTheRound => false,
        };
        if due {
            return StepPlan::Weights;
        }
    }
    // `run` has no weights to wait for (`--rounds 0` ends after a step).
    let settled = by == WeightsBy::WithTheRound || f.weights == Some(Attempt::Concluded);
    if f.limit_reached() && settled {
        return StepPlan::Stop;
    }
    StepPlan::Next {
        round: round_at(cadence, f.step + 1, f.rounds_done, f.rounds_limit),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Attempt::{Concluded, Unknown};
    use StepPlan::{Next, Resync, Stop, Weights};
    use WeightsBy::{Chain, EveryStep, WithTheRound};

    const CADENCE: Cadence = Cadence {
        steps_per_round: 3,
        epoch_length: 10,
    };

    /// Facts at the end of `step`, nothing read yet, no limit.
    fn at(step: u64) -> StepFacts {
        StepFacts {
            step,
            head: None,
            last_update: 100,
            resynced: false,
            weights: None,
            rounds_done: 1,
            rounds_limit: None,
        }
    }

    fn check(by: WeightsBy, facts: StepFacts, expected: StepPlan) {
        assert_eq!(
            plan_step(by, &CADENCE, &facts),
            expected,
            "{by:?} {facts:?}"
        );
    }

    #[test]
    fn a_chain_resyncs_when_an_epoch_passed_and_sets_weights_after_it() {
        // 111 - 100 > 10: an epoch passed.
        let due = StepFacts {
            head: Some(111),
            ..at(1)
        };
        check(Chain, due, Resync);
        check(
            Chain,
            StepFacts {
                resynced: true,
                ..due
            },
            Weights,
        );
        // The fresh metagraph says our weights went in meanwhile: not due.
        check(
            Chain,
            StepFacts {
                resynced: true,
                last_update: 110,
                ..due
            },
            Next { round: false },
        );
        check(
            Chain,
            StepFacts {
                resynced: true,
                weights: Some(Concluded),
                ..due
            },
            Next { round: false },
        );
    }

    #[test]
    fn a_chain_within_the_epoch_does_nothing_but_step_on() {
        let facts = StepFacts {
            head: Some(110),
            ..at(1)
        };
        check(Chain, facts, Next { round: false });
        // The next step is a round step.
        check(Chain, StepFacts { step: 2, ..facts }, Next { round: true });
    }

    #[test]
    fn a_chain_that_did_not_answer_neither_resyncs_nor_sets_weights() {
        check(Chain, at(5), Next { round: true });
    }

    #[test]
    fn no_weights_at_the_first_step_even_when_an_epoch_passed() {
        let facts = StepFacts {
            head: Some(500),
            resynced: true,
            ..at(0)
        };
        check(Chain, facts, Next { round: false });
        check(
            EveryStep,
            StepFacts {
                resynced: true,
                ..at(0)
            },
            Next { round: false },
        );
    }

    #[test]
    fn a_metagraph_file_is_read_at_every_step_and_the_weights_computed() {
        check(EveryStep, at(4), Resync);
        check(
            EveryStep,
            StepFacts {
                resynced: true,
                ..at(4)
            },
            Weights,
        );
    }

    #[test]
    fn run_reads_its_file_at_every_step_and_has_no_weights_at_a_steps_end() {
        check(WithTheRound, at(2), Resync);
        check(
            WithTheRound,
            StepFacts {
                resynced: true,
                ..at(2)
            },
            Next { round: true },
        );
    }

    #[test]
    fn the_loop_stops_at_the_limit_once_the_weights_after_it_concluded() {
        let limit = StepFacts {
            head: Some(111),
            resynced: true,
            rounds_limit: Some(1),
            ..at(1)
        };
        check(Chain, limit, Weights);
        check(
            Chain,
            StepFacts {
                weights: Some(Concluded),
                ..limit
            },
            Stop,
        );
        // The chain went away: tried again at the next due step.
        check(
            Chain,
            StepFacts {
                weights: Some(Unknown),
                ..limit
            },
            Next { round: false },
        );
        // At the limit no round is due any more.
        check(
            Chain,
            StepFacts {
                step: 2,
                last_update: 110,
                ..limit
            },
            Next { round: false },
        );
    }

    #[test]
    fn run_at_its_limit_stops_at_the_end_of_the_step() {
        let limit = StepFacts {
            resynced: true,
            rounds_done: 0,
            rounds_limit: Some(0),
            ..at(0)
        };
        check(WithTheRound, limit, Stop);
        check(EveryStep, limit, Next { round: false });
    }

    #[test]
    fn rounds_run_at_every_nth_step_until_the_limit() {
        assert!(round_at(&CADENCE, 0, 0, None));
        assert!(!round_at(&CADENCE, 1, 1, None));
        assert!(round_at(&CADENCE, 3, 1, Some(2)));
        assert!(!round_at(&CADENCE, 3, 2, Some(2)));
    }

    #[test]
    fn run_stops_right_after_its_last_round_the_others_wait_for_the_weights() {
        assert!(stop_after_round(WithTheRound, 2, Some(2)));
        assert!(!stop_after_round(WithTheRound, 1, Some(2)));
        assert!(!stop_after_round(WithTheRound, 2, None));
        assert!(!stop_after_round(Chain, 2, Some(2)));
        assert!(!stop_after_round(EveryStep, 2, Some(2)));
    }
}
