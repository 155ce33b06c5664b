//! The validator's moving-average scores and the weights it sets on chain
//! (SCORING.md §11.1–11.4), computed as numpy computes them in release
//! 2.0.7, to the bit.
//!
//! Each place where the float width decides the result follows the text of
//! §11 (its \[F32\]/\[F64\] marks): scores are float32 until the metagraph
//! grows, sums are numpy's pairwise sums ([`psum`]), Python floats meet
//! numpy arrays under NEP 50 (a Python float takes the array's width, a
//! numpy float64 scalar widens the operation), and the last step rounds
//! half to even as Python's `round` does. Rust does not fuse or widen
//! float operations, so each `+`, `*` and `/` below is one IEEE operation
//! in the width written.

use std::fmt;
use std::ops::{Add, Div, Mul, Sub};

use serde::{Deserialize, Serialize};

/// The `f32`/`f64` operations the numpy code uses.
pub trait Float:
    Copy
    + PartialOrd
    + fmt::Debug
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
{
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// Rounds to nearest, ties to even (a numpy cast, or a weak Python
    /// float meeting an array of this width).
    fn from_f64(x: f64) -> Self;
    /// Exact widening.
    fn to_f64(self) -> f64;
    /// An integer as numpy converts it (exact below 2^24 for `f32`).
    fn from_count(n: usize) -> Self;
    /// NaN test.
    fn is_nan(self) -> bool;
    /// Absolute value.
    fn abs(self) -> Self;
}

impl Float for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    #[allow(clippy::cast_possible_truncation)]
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    #[allow(clippy::cast_precision_loss)]
    fn from_count(n: usize) -> Self {
        n as f32
    }
    fn is_nan(self) -> bool {
        f32::is_nan(self)
    }
    fn abs(self) -> Self {
        f32::abs(self)
    }
}

impl Float for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    fn from_f64(x: f64) -> Self {
        x
    }
    fn to_f64(self) -> f64 {
        self
    }
    #[allow(clippy::cast_precision_loss)]
    fn from_count(n: usize) -> Self {
        n as f64
    }
    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }
    fn abs(self) -> Self {
        f64::abs(self)
    }
}

/// numpy's pairwise sum (`np.add.reduce`, §11.4.1): blocks of 8
/// accumulators up to 128 elements, halves (cut at a multiple of 8) above.
pub fn psum<T: Float>(v: &[T]) -> T {
    T::ZERO + pairwise(v)
}

fn pairwise<T: Float>(v: &[T]) -> T {
    let m = v.len();
    if m < 8 {
        v.iter().fold(T::ZERO, |acc, &x| acc + x)
    } else if m <= 128 {
        let mut r = [v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]];
        let whole = m - m % 8;
        let mut i = 8;
        while i < whole {
            for (k, slot) in r.iter_mut().enumerate() {
                *slot = *slot + v[i + k];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &x in &v[whole..] {
            res = res + x;
        }
        res
    } else {
        let mut h = m / 2;
        h -= h % 8;
        pairwise(&v[..h]) + pairwise(&v[h..])
    }
}

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

/// What a resync did to the scores (§11.3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resync {
    /// The axons were equal: nothing was touched.
    pub unchanged: bool,
    /// uids whose hotkey was replaced, their score set to 0.
    pub reset: Vec<u16>,
    /// The metagraph grew to this many uids (scores are float64 since).
    pub grew_to: Option<usize>,
    /// The metagraph shrank to this many uids; the scores past it were
    /// dropped (the reference raises here, §11.3.5, §11.9.2).
    pub shrank_to: Option<usize>,
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
        let len = self.len();
        if let Some(&uid) = sorted.iter().find(|&&u| usize::from(u) >= len) {
            return Err(WeightsError::UidOutOfRange { uid, len });
        }
        match self {
            Scores::Float32(s) => ema(s, &sorted, rewards, alpha),
            Scores::Float64(s) => ema(s, &sorted, rewards, alpha),
        }
        Ok(())
    }

    /// The `blacklisted_uids` branch of `update_scores` (§11.2.7): those
    /// scores become 0, then all are divided by their sum when positive.
    /// 2.0.7 never passes blacklisted uids; this exists to match the
    /// reference where it would.
    pub fn zero_and_renormalize(&mut self, uids: &[u16]) -> Result<(), WeightsError> {
        let len = self.len();
        if let Some(&uid) = uids.iter().find(|&&u| usize::from(u) >= len) {
            return Err(WeightsError::UidOutOfRange { uid, len });
        }
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
            return Resync {
                unchanged: true,
                ..Resync::default()
            };
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

/// The chain's limits on a weight vector (hyperparameters of the subnet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeightLimits {
    /// `MinAllowedWeights`.
    pub min_allowed_weights: u16,
    /// `MaxWeightsLimit`, a u16 fraction of 65535.
    pub max_weight_limit: u16,
}

/// Weights after `process_weights_for_netuid` (§11.4.3), in the width the
/// branch taken left them.
#[derive(Debug, Clone, PartialEq)]
pub enum Processed {
    /// Branch C (enough non-zero weights): float32.
    Float32(Vec<f32>),
    /// Branches A and B (uniform, or padded with 1e-5): float64.
    Float64(Vec<f64>),
}

/// Every intermediate of `set_weights` (§11.4), for logs and tests; the
/// chain gets `uids` and `weights`.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightsForChain {
    /// The L1 norm of the scores, in their width (as f64, exactly).
    pub norm: f64,
    /// The norm was 0 or NaN and 1 was used.
    pub norm_fallback_to_one: bool,
    /// uids after processing.
    pub processed_uids: Vec<u16>,
    /// Their weights after processing.
    pub processed_weights: Processed,
    /// uids sent to the chain (zeros dropped).
    pub uids: Vec<u16>,
    /// Their u16 weights; the largest is 65535.
    pub weights: Vec<u16>,
}

/// `set_weights` up to the extrinsic (§11.4.2 to 11.4.5): L1-normalise the
/// scores, process them against the chain's limits with the metagraph's
/// `n` and uids `0..n`, and convert to u16.
pub fn weights_for_chain(
    scores: &Scores,
    n: usize,
    limits: WeightLimits,
) -> Result<WeightsForChain, WeightsError> {
    let (norm, fallback, raw) = raw_weights(scores);
    let uids: Vec<u16> = (0..raw.len())
        .map(|i| u16::try_from(i).unwrap_or(u16::MAX))
        .collect();
    let (processed_uids, processed_weights) = process_weights(&uids, &raw, n, limits, 0);
    let (uids, weights) = convert_for_emit(&processed_uids, &processed_weights)?;
    Ok(WeightsForChain {
        norm,
        norm_fallback_to_one: fallback,
        processed_uids,
        processed_weights,
        uids,
        weights,
    })
}

/// The L1-normalised scores as `process_weights_for_netuid` takes them:
/// (norm as f64, whether 1 replaced it, float32 weights).
pub fn raw_weights(scores: &Scores) -> (f64, bool, Vec<f32>) {
    match scores {
        Scores::Float32(s) => l1_normalize(s),
        Scores::Float64(s) => {
            let (norm, fallback, raw) = l1_normalize(s);
            // process_weights_for_netuid casts to float32 first.
            (norm, fallback, raw.into_iter().map(f32::from_f64).collect())
        }
    }
}

/// `scores / ||scores||_1` in the scores' width; a norm of 0 or NaN is
/// replaced by 1 (§11.4.2). Returns (norm as f64, fallback used, weights).
fn l1_normalize<T: Float>(scores: &[T]) -> (f64, bool, Vec<T>) {
    let abs: Vec<T> = scores.iter().map(|x| x.abs()).collect();
    let norm = psum(&abs);
    let fallback = norm == T::ZERO || norm.is_nan();
    let divisor = if fallback { T::ONE } else { norm };
    let raw = scores.iter().map(|&x| x / divisor).collect();
    (norm.to_f64(), fallback, raw)
}

/// gittensor's `process_weights_for_netuid` (§11.4.3) on float32 weights,
/// with `n` the metagraph's size and `exclude_quantile` a u16 fraction (2.0.7
/// always passes 0).
pub fn process_weights(
    uids: &[u16],
    weights: &[f32],
    n: usize,
    limits: WeightLimits,
    exclude_quantile: u16,
) -> (Vec<u16>, Processed) {
    let limit = f64::from(limits.max_weight_limit) / 65535.0;
    let quantile = f64::from(exclude_quantile) / 65535.0;
    let min_allowed = usize::from(limits.min_allowed_weights);
    let idx: Vec<usize> = (0..weights.len()).filter(|&i| weights[i] > 0.0).collect();
    let all_uids = || {
        (0..n)
            .map(|i| u16::try_from(i).unwrap_or(u16::MAX))
            .collect::<Vec<_>>()
    };
    if idx.is_empty() || n < min_allowed {
        // np.ones(n) / n
        #[allow(clippy::cast_precision_loss)]
        let w = 1.0 / n as f64;
        return (all_uids(), Processed::Float64(vec![w; n]));
    }
    if idx.len() < min_allowed {
        let mut w = vec![1e-5f64; n];
        for &i in &idx {
            w[i] += f64::from(weights[i]);
        }
        return (
            all_uids(),
            Processed::Float64(normalize_max_weight(&w, limit)),
        );
    }
    let nz: Vec<f32> = idx.iter().map(|&i| weights[i]).collect();
    let nz_uids: Vec<u16> = idx.iter().map(|&i| uids[i]).collect();
    #[allow(clippy::cast_precision_loss)]
    let max_exclude = nz.len().saturating_sub(min_allowed) as f64 / nz.len() as f64;
    let q = quantile.min(max_exclude);
    let low = quantile_linear(&nz, q);
    let (kept_uids, kept): (Vec<u16>, Vec<f32>) = nz_uids
        .into_iter()
        .zip(nz)
        .filter(|&(_, w)| low <= w)
        .unzip();
    let normalized = normalize_max_weight(&kept, limit);
    (kept_uids, Processed::Float32(normalized))
}

/// `np.quantile(x, q)` with numpy's default linear method, on float32.
fn quantile_linear(x: &[f32], q: f64) -> f32 {
    let mut sorted = x.to_vec();
    sorted.sort_by(f32::total_cmp);
    #[allow(clippy::cast_precision_loss)]
    let pos = (sorted.len() - 1) as f64 * q;
    let lo = pos.floor();
    let g = pos - lo;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let lo = lo as usize;
    let a = sorted[lo];
    let b = sorted[(lo + 1).min(sorted.len() - 1)];
    let g32 = f32::from_f64(g);
    let diff = b - a;
    if g >= 0.5 {
        b - diff * (1.0 - g32)
    } else {
        a + diff * g32
    }
}

/// gittensor's `normalize_max_weight` (§11.4.4): scale `x` to sum 1 with
/// no entry above `limit`, clipping the largest at a cutoff.
pub fn normalize_max_weight<T: Float>(x: &[T], limit: f64) -> Vec<T> {
    const EPSILON: f64 = 1e-7;
    let m = x.len();
    #[allow(clippy::cast_precision_loss)]
    let uniform = psum(x) == T::ZERO || m as f64 * limit <= 1.0;
    if uniform {
        return vec![T::ONE / T::from_count(m); m];
    }
    let mut sorted = x.to_vec();
    sorted.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let s = psum(&sorted);
    let e: Vec<T> = sorted.iter().map(|&v| v / s).collect();
    let limit_d = T::from_f64(limit);
    let eps_d = T::from_f64(EPSILON);
    let max_e = e
        .iter()
        .copied()
        .fold(None, |m: Option<T>, v| match m {
            Some(m) if m >= v => Some(m),
            _ => Some(v),
        })
        .unwrap_or(T::ZERO);
    if max_e <= limit_d {
        let total = psum(x);
        return x.iter().map(|&v| v / total).collect();
    }
    let mut cumsum = Vec::with_capacity(m);
    let mut acc = T::ZERO;
    for (i, &v) in e.iter().enumerate() {
        acc = if i == 0 { v } else { acc + v };
        cumsum.push(acc);
    }
    let k = (0..m)
        .filter(|&i| {
            let es = T::from_count(m - i - 1) * e[i];
            e[i] / ((es + cumsum[i]) + eps_d) < limit_d
        })
        .count();
    // cumsum[k - 1], where index -1 is the last element.
    let c = if k == 0 { cumsum[m - 1] } else { cumsum[k - 1] };
    let num = limit_d * c - eps_d;
    // `limit * (len - n_values)` meets an int64 scalar: float64.
    #[allow(clippy::cast_precision_loss)]
    let den = 1.0 - limit * (m - k) as f64;
    let cutoff = (num.to_f64() / den) * s.to_f64();
    let clipped: Vec<T> = x
        .iter()
        .map(|&v| {
            if v.to_f64() > cutoff {
                T::from_f64(cutoff)
            } else {
                v
            }
        })
        .collect();
    let total = psum(&clipped);
    clipped.iter().map(|&v| v / total).collect()
}

/// gittensor's `convert_weights_and_uids_for_emit` (§11.4.5): scale so the
/// largest is 65535, round half to even, drop zeros.
pub fn convert_for_emit(
    uids: &[u16],
    weights: &Processed,
) -> Result<(Vec<u16>, Vec<u16>), WeightsError> {
    match weights {
        Processed::Float32(w) => convert(uids, w),
        Processed::Float64(w) => convert(uids, w),
    }
}

fn convert<T: Float>(uids: &[u16], weights: &[T]) -> Result<(Vec<u16>, Vec<u16>), WeightsError> {
    if weights.iter().any(|&w| w < T::ZERO) {
        return Err(WeightsError::NegativeWeight);
    }
    if uids.len() != weights.len() {
        return Err(WeightsError::LengthMismatch {
            rewards: weights.len(),
            uids: uids.len(),
        });
    }
    if psum(weights) == T::ZERO {
        return Ok((Vec::new(), Vec::new()));
    }
    let max = weights
        .iter()
        .map(|w| w.to_f64())
        .fold(f64::NEG_INFINITY, f64::max);
    let mut out = (Vec::new(), Vec::new());
    for (&uid, &w) in uids.iter().zip(weights) {
        let v = (w.to_f64() / max * 65535.0).round_ties_even();
        // v is in [0, 65535]: the largest weight gives exactly 65535.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let v = v as u16;
        if v != 0 {
            out.0.push(uid);
            out.1.push(v);
        }
    }
    Ok(out)
}
