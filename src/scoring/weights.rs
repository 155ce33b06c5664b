//! The weights the validator sets on chain (SCORING.md §11.4), computed as
//! gittensor 2.0.7 and numpy compute them, to the bit: the L1 norm of the
//! scores, `process_weights_for_netuid`, `normalize_max_weight` and the u16
//! conversion, whose last step rounds half to even as Python's `round`
//! does. The numerics are in [`super::numpy`], the scores in
//! [`super::scores`].

use super::numpy::{psum, quantile_linear, Float};
use super::scores::{self, Scores, WeightsError};

/// The chain's limits on a weight vector (hyperparameters of the subnet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeightLimits {
    /// `MinAllowedWeights`.
    pub min_allowed_weights: u16,
    /// `MaxWeightsLimit`, a u16 fraction of 65535.
    pub max_weight_limit: u16,
}

impl WeightLimits {
    /// No limits: `MinAllowedWeights` 0 and `MaxWeightsLimit` 65535 (the
    /// whole weight may go to one uid). What `run` and a metagraph file use,
    /// having no chain to read the subnet's limits from.
    pub const NONE: WeightLimits = WeightLimits {
        min_allowed_weights: 0,
        max_weight_limit: u16::MAX,
    };
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
    let (processed_uids, processed_weights) =
        process_weights(&scores::uids(raw.len()), &raw, n, limits, 0);
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
    if idx.is_empty() || n < min_allowed {
        // np.ones(n) / n
        #[allow(clippy::cast_precision_loss)]
        let w = 1.0 / n as f64;
        return (scores::uids(n), Processed::Float64(vec![w; n]));
    }
    if idx.len() < min_allowed {
        let mut w = vec![1e-5f64; n];
        for &i in &idx {
            w[i] += f64::from(weights[i]);
        }
        return (
            scores::uids(n),
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
