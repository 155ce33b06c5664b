//! The validator's moving-average scores (SCORING.md §11.1–11.3), as numpy
//! keeps them in release 2.0.7, to the bit: float32 until the metagraph
//! grows, `update_scores`' moving average in the scores' width, and
//! `resync_metagraph`'s resets, growth and shrink.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::numpy::{psum, Float};

/// The moving-average scores, one per uid, in the width numpy keeps them
/// (§11.1): float32 from the start, float64 once the metagraph grew.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dtype", content = "values", rename_all = "lowercase")]
pub enum Scores {
    /// float32, as created at start-up.
    Float32(Vec<f32>),
    /// float64, after a growth (§11.3.4).
    Float64(Vec<f64>),
}

/// Why a scores operation was refused; the scores are unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WeightsError {
    /// `rewards` and `uids` differ in length (numpy's ValueError).
    LengthMismatch {
        /// Number of rewards.
        rewards: usize,
        /// Number of uids.
        uids: usize,
    },
    /// A uid past the end of the scores (numpy's IndexError).
    UidOutOfRange {
        /// The uid.
        uid: u16,
        /// Number of scores.
        len: usize,
    },
    /// A negative weight reached the u16 conversion.
    NegativeWeight,
}

impl fmt::Display for WeightsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WeightsError::LengthMismatch { rewards, uids } => {
                write!(f, "{rewards} rewards for {uids} uids")
            }
            WeightsError::UidOutOfRange { uid, len } => {
                write!(f, "uid {uid} out of range for {len} scores")
            }
            WeightsError::NegativeWeight => f.write_str("negative weight"),
        }
    }
}

impl std::error::Error for WeightsError {}

/// What a resync did to the scores (§11.3); all empty when it touched
/// nothing (the axons were equal, or only equal hotkeys came back).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resync {
    /// uids whose hotkey was replaced, their score set to 0.
    pub reset: Vec<u16>,
    /// The metagraph grew to this many uids (scores are float64 since).
    pub grew_to: Option<usize>,
    /// The metagraph shrank to this many uids; the scores past it were
    /// dropped (the reference raises here, §11.3.5, §11.9.2).
    pub shrank_to: Option<usize>,
}

/// The uids `0..n` of a metagraph of `n` neurons, one per score. A uid is
/// a u16 on chain, so a subnet holds at most 65536; past that the last uid
/// repeats rather than wrapping round to 0.
pub fn uids(n: usize) -> Vec<u16> {
    (0..n)
        .map(|i| u16::try_from(i).unwrap_or(u16::MAX))
        .collect()
}

impl Scores {
    /// `n` float32 zeros, as the validator starts (§11.1.1).
    pub fn zeros(n: usize) -> Scores {
        Scores::Float32(vec![0.0; n])
    }

    /// Number of uids.
    pub fn len(&self) -> usize {
        match self {
            Scores::Float32(v) => v.len(),
            Scores::Float64(v) => v.len(),
        }
    }

    /// No uids at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every score widened to f64 (exact), for reports and logs.
    pub fn to_f64(&self) -> Vec<f64> {
        match self {
            Scores::Float32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            Scores::Float64(v) => v.clone(),
        }
    }

    /// `update_scores` (§11.2): NaN rewards become 0, rewards scatter onto
    /// a zero vector (uids not listed get 0 and decay), then
    /// `scores = alpha * scattered + (1 - alpha) * scores` in the scores'
    /// width. Empty input changes nothing.
    pub fn update(
        &mut self,
        uids: &[u16],
        rewards: &[f64],
        alpha: f64,
    ) -> Result<(), WeightsError> {
        if rewards.is_empty() || uids.is_empty() {
            return Ok(());
        }
        if rewards.len() != uids.len() {
            return Err(WeightsError::LengthMismatch {
                rewards: rewards.len(),
                uids: uids.len(),
            });
        }
        // A list of uids is sorted by the reference; rewards keep their order.
        let mut sorted = uids.to_vec();
        sorted.sort_unstable();
        self.check_uids(&sorted)?;
        match self {
            Scores::Float32(s) => ema(s, &sorted, rewards, alpha),
            Scores::Float64(s) => ema(s, &sorted, rewards, alpha),
        }
        Ok(())
    }

    /// The first of `uids` past the scores, refused as numpy's IndexError.
    fn check_uids(&self, uids: &[u16]) -> Result<(), WeightsError> {
        let len = self.len();
        match uids.iter().find(|&&u| usize::from(u) >= len) {
            Some(&uid) => Err(WeightsError::UidOutOfRange { uid, len }),
            None => Ok(()),
        }
    }

    /// The `blacklisted_uids` branch of `update_scores` (§11.2.7): those
    /// scores become 0, then all are divided by their sum when positive.
    /// 2.0.7 never passes blacklisted uids; this exists to match the
    /// reference where it would.
    pub fn zero_and_renormalize(&mut self, uids: &[u16]) -> Result<(), WeightsError> {
        self.check_uids(uids)?;
        fn go<T: Float>(s: &mut [T], uids: &[u16]) {
            for &u in uids {
                s[usize::from(u)] = T::ZERO;
            }
            let total = psum(s);
            if total > T::ZERO {
                for x in s.iter_mut() {
                    *x = *x / total;
                }
            }
        }
        match self {
            Scores::Float32(s) => go(s, uids),
            Scores::Float64(s) => go(s, uids),
        }
        Ok(())
    }

    /// `resync_metagraph` (§11.3) from the hotkeys of the last resync to
    /// the metagraph's. `axons_changed` is false when every axon of the
    /// new metagraph equals the old one: then nothing changes. A replaced
    /// hotkey's score becomes 0; growth widens the scores to float64
    /// zeros with the old prefix; a shrink drops the scores past the new
    /// end (where the reference dies, §11.9.2). `hotkeys` becomes the new
    /// list.
    pub fn resync(
        &mut self,
        hotkeys: &mut Vec<String>,
        new_hotkeys: &[String],
        axons_changed: bool,
    ) -> Resync {
        if !axons_changed {
            return Resync::default();
        }
        let mut done = Resync::default();
        for (uid, (old, new)) in hotkeys.iter().zip(new_hotkeys).enumerate() {
            if old != new {
                if uid < self.len() {
                    self.set_zero(uid);
                }
                done.reset.push(u16::try_from(uid).unwrap_or(u16::MAX));
            }
        }
        let n = new_hotkeys.len();
        if hotkeys.len() < n {
            let keep = hotkeys.len().min(self.len());
            let mut wide = vec![0.0f64; n];
            for (slot, x) in wide.iter_mut().zip(self.to_f64()).take(keep) {
                *slot = x;
            }
            *self = Scores::Float64(wide);
            done.grew_to = Some(n);
        } else if n < hotkeys.len() {
            self.truncate(n);
            done.shrank_to = Some(n);
        }
        *hotkeys = new_hotkeys.to_vec();
        done
    }

    fn set_zero(&mut self, i: usize) {
        match self {
            Scores::Float32(s) => s[i] = 0.0,
            Scores::Float64(s) => s[i] = 0.0,
        }
    }

    fn truncate(&mut self, n: usize) {
        match self {
            Scores::Float32(s) => s.truncate(n),
            Scores::Float64(s) => s.truncate(n),
        }
    }
}

fn ema<T: Float>(scores: &mut [T], uids: &[u16], rewards: &[f64], alpha: f64) {
    let mut scattered = vec![T::ZERO; scores.len()];
    for (&uid, &r) in uids.iter().zip(rewards) {
        let r = if r.is_nan() { 0.0 } else { r };
        scattered[usize::from(uid)] = T::from_f64(r);
    }
    // Python floats meeting the array: each rounded to its width first.
    let a = T::from_f64(alpha);
    let b = T::from_f64(1.0 - alpha);
    for (s, r) in scores.iter_mut().zip(scattered) {
        *s = a * r + b * *s;
    }
}
