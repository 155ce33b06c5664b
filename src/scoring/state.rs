//! The validator's state between rounds and its loop's decisions
//! (SCORING.md §11.1, §11.5, §11.9), as plain data and pure functions: the
//! caller brings the block, the metagraph's hotkeys and the round's
//! rewards, and saves the state where it likes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::scores::{self, Resync, Scores, WeightsError};
use super::weights::{process_weights, raw_weights, Processed, WeightLimits};

/// The moving-average scores and what goes with them, kept across steps
/// and restarts (`state.json`). One format for `run` and `validate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidatorState {
    /// The loop's step counter (§11.1.4); 0 before the first step ends.
    pub step: u64,
    /// Scoring rounds folded into `scores`.
    pub rounds: u64,
    /// One score per uid, float32 (float64 after a growth).
    pub scores: Scores,
    /// The hotkey of each uid at the last resync (index = uid).
    pub hotkeys: Vec<String>,
    /// The block of this validator's last weights the chain accepted.
    #[serde(default)]
    pub last_weights_block: Option<u64>,
}

impl ValidatorState {
    /// Whether a scoring round (or an imported state) shaped the scores:
    /// a fresh state holds only zeros.
    pub fn is_scored(&self) -> bool {
        self.rounds > 0 || self.scores.to_f64().iter().any(|&s| s != 0.0)
    }

    /// A fresh state for a metagraph with these hotkeys: float32 zeros.
    pub fn new(hotkeys: Vec<String>) -> ValidatorState {
        ValidatorState {
            step: 0,
            rounds: 0,
            scores: Scores::zeros(hotkeys.len()),
            hotkeys,
            last_weights_block: None,
        }
    }

    /// Folds one round's rewards in (§11.2): every uid `0..n` takes part,
    /// a uid without a reward decays as if it had earned 0 (2.0.7 scores
    /// every uid of the metagraph). A reward for a uid past the scores is
    /// refused, as numpy's IndexError, and nothing changes.
    pub fn fold_round(
        &mut self,
        rewards: &BTreeMap<u16, f64>,
        alpha: f64,
    ) -> Result<(), WeightsError> {
        let n = self.scores.len();
        if let Some((&uid, _)) = rewards.iter().find(|(&u, _)| usize::from(u) >= n) {
            return Err(WeightsError::UidOutOfRange { uid, len: n });
        }
        let uids = scores::uids(n);
        let values: Vec<f64> = uids
            .iter()
            .map(|u| rewards.get(u).copied().unwrap_or(0.0))
            .collect();
        self.scores.update(&uids, &values, alpha)?;
        self.rounds += 1;
        Ok(())
    }

    /// A metagraph resync (§11.3, with §11.9.2 for a shrink). The axons
    /// changed when any axon differs from the last sync's; `run`, which
    /// has no axons, passes whether any hotkey differs.
    pub fn resync(&mut self, new_hotkeys: &[String], axons_changed: bool) -> Resync {
        self.scores
            .resync(&mut self.hotkeys, new_hotkeys, axons_changed)
    }

    /// The weights per uid as the chain would get them from a subnet with
    /// no limits ([`WeightLimits::NONE`]), before the u16 step (§11.4.2,
    /// 11.4.3): the scores over their sum, or equal weights when every
    /// score is 0. What `run` writes to `weights.json`.
    pub fn normalized(&self) -> BTreeMap<u16, f64> {
        let n = self.scores.len();
        let (_, _, raw) = raw_weights(&self.scores);
        let uids = scores::uids(n);
        let (kept, weights) = process_weights(&uids, &raw, n, WeightLimits::NONE, 0);
        let weights: Vec<f64> = match weights {
            Processed::Float32(w) => w.into_iter().map(f64::from).collect(),
            Processed::Float64(w) => w,
        };
        let mut out: BTreeMap<u16, f64> = uids.into_iter().map(|u| (u, 0.0)).collect();
        out.extend(kept.into_iter().zip(weights));
        out
    }
}

/// When the loop scores, resyncs and sets weights (§11.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cadence {
    /// A scoring round runs at every step that is a multiple of this (120:
    /// two hours of 60 s steps).
    pub steps_per_round: u64,
    /// Blocks between two weight settings (`--epoch-length`, 100).
    pub epoch_length: u64,
}

impl Default for Cadence {
    fn default() -> Self {
        Cadence {
            steps_per_round: 120,
            epoch_length: 100,
        }
    }
}

impl Cadence {
    /// A scoring round runs at the start of this step (steps 0, 120, ...).
    pub fn is_round_step(&self, step: u64) -> bool {
        step.is_multiple_of(self.steps_per_round.max(1))
    }

    /// The metagraph is resynced when more than an epoch passed since this
    /// validator's last weights (`last_update` as of the last sync).
    pub fn resync_due(&self, block: u64, last_update: u64) -> bool {
        block.saturating_sub(last_update) > self.epoch_length
    }

    /// Weights are set at the end of a step other than the first, when more
    /// than an epoch passed since `last_update` (read after the resync).
    pub fn weights_due(&self, step: u64, block: u64, last_update: u64) -> bool {
        step != 0 && self.resync_due(block, last_update)
    }
}

/// What the loop knows when weights are due: the inputs of
/// [`decide_submission`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubmissionInputs {
    /// The scores were shaped by at least one scoring round (or imported):
    /// a fresh state's zeros are no one's weights.
    pub scored: bool,
    /// `--dry-run`.
    pub dry_run: bool,
    /// This hotkey holds a validator permit.
    pub permit: bool,
    /// The version key we send.
    pub version_key: u64,
    /// The subnet's `WeightsVersionKey`.
    pub chain_version_key: u64,
    /// The subnet has commit-reveal on.
    pub commit_reveal: bool,
}

/// What to do with the weights when they are due (SCORING.md §11.4.6,
/// §11.9.4): one answer per situation, so the loop only acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submission {
    /// No round has shaped the scores yet: nothing is computed or sent.
    NoScores,
    /// The weights are computed, logged and written; then this.
    Compute(Submit),
}

/// What becomes of computed weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submit {
    /// `--dry-run`: nothing is sent.
    DryRun,
    /// No validator permit: the chain would refuse; nothing is sent.
    NoPermit,
    /// Our version key is below the chain's: the chain would refuse every
    /// attempt, so nothing is sent until the chain's key changes (or ours).
    VersionKeyBelow,
    /// Send a plain `set_weights`.
    SetWeights,
    /// Send a timelock-encrypted commit (commit-reveal on).
    Commit,
}

/// The submission decision, as a pure function of what the loop knows
/// once the weights are due ([`crate::scoring::step::plan_step`]).
pub fn decide_submission(i: &SubmissionInputs) -> Submission {
    let submit = if !i.scored {
        return Submission::NoScores;
    } else if i.dry_run {
        Submit::DryRun
    } else if !i.permit {
        Submit::NoPermit
    } else if i.version_key < i.chain_version_key {
        Submit::VersionKeyBelow
    } else if i.commit_reveal {
        Submit::Commit
    } else {
        Submit::SetWeights
    };
    Submission::Compute(submit)
}

/// The `run` command's state file of releases before §11: per uid a hotkey
/// and an f64 score, and a round counter. Read once, then written in the
/// current format.
#[derive(Debug, Clone, Deserialize)]
pub struct LegacyRunState {
    round: u64,
    scores: BTreeMap<u16, LegacyScore>,
}

#[derive(Debug, Clone, Deserialize)]
struct LegacyScore {
    hotkey: String,
    score: f64,
}

impl From<LegacyRunState> for ValidatorState {
    fn from(old: LegacyRunState) -> ValidatorState {
        let n = old
            .scores
            .keys()
            .next_back()
            .map_or(0, |&u| usize::from(u) + 1);
        let mut scores = vec![0.0f32; n];
        let mut hotkeys = vec![String::new(); n];
        for (uid, s) in old.scores {
            #[allow(clippy::cast_possible_truncation)]
            let score = s.score as f32;
            scores[usize::from(uid)] = score;
            hotkeys[usize::from(uid)] = s.hotkey;
        }
        ValidatorState {
            step: 0,
            rounds: old.round,
            scores: Scores::Float32(scores),
            hotkeys,
            last_weights_block: None,
        }
    }
}
