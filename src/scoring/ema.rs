//! Scores between rounds and the weights set on chain (SCORING.md §10).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One uid's moving-average score and the hotkey it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UidScore {
    /// The hotkey the score was earned by.
    pub hotkey: String,
    /// The moving average of rewards.
    pub score: f64,
}

/// The validator's state kept across rounds and restarts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScoreState {
    /// Rounds completed.
    pub round: u64,
    /// Score per uid.
    pub scores: BTreeMap<u16, UidScore>,
}

impl ScoreState {
    /// `scores = alpha * rewards + (1 - alpha) * scores` for the uids of
    /// the round. A NaN reward counts as 0; a uid whose hotkey changed
    /// starts again from 0; uids not in the round keep their score.
    /// `hotkeys` holds the hotkey of each uid that answered.
    pub fn update(
        &mut self,
        rewards: &BTreeMap<u16, f64>,
        hotkeys: &BTreeMap<u16, String>,
        alpha: f64,
    ) {
        for (&uid, &reward) in rewards {
            let reward = if reward.is_nan() { 0.0 } else { reward };
            let entry = self.scores.entry(uid).or_insert_with(|| UidScore {
                hotkey: String::new(),
                score: 0.0,
            });
            if let Some(hotkey) = hotkeys.get(&uid) {
                if !hotkey.is_empty() && *hotkey != entry.hotkey {
                    if !entry.hotkey.is_empty() {
                        log::info!("uid {uid}: hotkey changed, score reset");
                    }
                    entry.hotkey = hotkey.clone();
                    entry.score = 0.0;
                }
            }
            entry.score = alpha * reward + (1.0 - alpha) * entry.score;
        }
        self.round += 1;
    }

    /// `scores / sum(scores)`, all equal when the sum is 0.
    pub fn weights(&self) -> BTreeMap<u16, f64> {
        let sum: f64 = self.scores.values().map(|s| s.score).sum();
        let n = self.scores.len() as f64;
        self.scores
            .iter()
            .map(|(&uid, s)| {
                let w = if sum > 0.0 { s.score / sum } else { 1.0 / n };
                (uid, w)
            })
            .collect()
    }
}
