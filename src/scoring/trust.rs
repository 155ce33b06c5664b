//! Validator trust as Yuma consensus computes it, and the watch over it:
//! how much of a weights row agrees with the subnet's consensus.
//!
//! # In scope
//! The runtime's epoch, for one row (`pallets/subtensor/src/epoch.rs` in
//! the 2023 runtime, `epoch/run_epoch.rs` today, identical here): drop the
//! self-weight and the weights on uids registered since the row was set,
//! row-normalize the rest, clip each weight at its column's consensus
//! (`min(w, c)`), and the validator trust is the row's sum, stored as
//! `floor(trust * 65535)`. The consensus is the one the chain stored at its
//! last epoch (`Consensus`, u16); it is not recomputed (that needs every
//! validator's stake and row, and moves only at an epoch). Then the watch
//! verdict: when the predicted trust is low, or drops sharply from one
//! weight setting to the next, say so with the likely causes.
//!
//! # Out of scope
//! No I/O, no clock: the caller reads the chain (`chain::ConsensusView`)
//! and brings the rows. The arithmetic is f64 where the runtime's is
//! I32F32; the difference is far below the u16 the chain stores.
//!
//! # The derivation
//!
//! This module computes, for one weights row, what the runtime's epoch
//! stores as that validator's `ValidatorTrust`, against the `Consensus` the
//! chain stored at its last epoch. Read from the runtime's code
//! (opentensor/subtensor: `pallets/subtensor/src/epoch.rs` and `math.rs` at
//! spec 103, commit c8bff6e2c, March 2023, the testbed's runtime; and
//! `pallets/subtensor/src/epoch/run_epoch.rs` and `epoch/math.rs` today):
//!
//! 1. the `Weights` row of a uid (u16 values, taken as numbers, not as
//!    fractions of 65535);
//! 2. rows of uids without a validator permit are dropped; the self-weight is
//!    dropped (`mask_diag`); weights on a uid registered at or after the row's
//!    `LastUpdate` are dropped (`updated <= registered`, "outdated");
//! 3. each row is normalized to sum 1 (a row summing to 0 stays 0);
//! 4. the consensus of each column is the stake-weighted median of the rows'
//!    values in it, at majority `Kappa` (0.5 by default);
//! 5. each weight is clipped at its column's consensus (`col_clip_sparse`:
//!    `min(w, c)`, and a weight on a column whose consensus is 0 goes);
//! 6. validator trust is the clipped row's sum, stored as
//!    `floor(trust * 65535)` (`fixed_proportion_to_u16`).
//!
//! Steps 1–3 and 5–6 are the same in both runtimes, and they are all the
//! watch computes: the consensus (step 4) is the chain's, as stored, so the
//! prediction needs no one else's stake or row. The prediction is exact up to
//! the u16 the chain stores the consensus in: the epoch clipped at a
//! consensus in `[C, C + 1) / 65535` for a stored `C`, so [`trust_interval`]
//! gives the trust at both ends (one step wider for the runtime's I32F32),
//! and the testbed checks the runtime's value falls in it. Our arithmetic is
//! f64 where the runtime's is I32F32; the difference is far below a u16 step.
//!
//! # Today's runtime and the 2023 one
//!
//! Where today's runtime differs from the 2023 one (it matters for the
//! consensus itself, which we read rather than recompute, and for what the
//! stake column of `status` means):
//!
//! - **Which stake the median weighs.** 2023: each hotkey's
//!   `TotalHotkeyStake`, normalized, over all uids with stake (a staked uid
//!   without a permit counts with an empty row). Today: the stake of
//!   `get_stake_weights_for_network` (alpha on the subnet plus root stake
//!   times `TaoWeight`, with child-key shares), uids under the stake threshold
//!   zeroed, then masked to active uids *with a permit* and normalized
//!   (`active_stake`). `status` reads `TotalHotkeyAlpha` on the subnet and on
//!   root and `TaoWeight`; it does not follow child-key shares, so its stake
//!   column is an approximation on today's runtime.
//! - **The subnet owner.** Today the owner's uid keeps a permit and its
//!   self-weight; 2023 had no such exception.
//! - **Commit-reveal.** Today, with `CommitRevealWeightsEnabled`, weights on a
//!   uid registered after an unexpired commit of the row are dropped too, and
//!   the `Weights` row on chain is the one revealed, a reveal period after its
//!   commit: the trust on chain is for those weights. `status` and the log
//!   line say so.
//! - **Storage keys.** Today `Weights` and `LastUpdate` are keyed by a
//!   `NetUidStorageIndex` (the netuid for the subnet's first mechanism), the
//!   same SCALE shape as 2023's `(u16, u16)`; both shapes are checked against
//!   the two metadata files in `tests/it/chain.rs`.
//!
//! # The testbed's epoch
//!
//! The testbed's epoch runs when `(block + netuid + 1) % (tempo + 1) == 0`
//! (`blocks_until_next_epoch`), so `scripts/consensus-testbed.sh` sets the
//! tempo to 10 and builds 12 blocks after the weights.

/// Below this predicted trust, `validate` warns. Defaults to 0.80.
///
/// Why 0.80: on a subnet whose validators agree (all run the same rules on
/// the same GitHub data), each weight sits at or under the stake-weighted
/// median, so trust is close to 1 (above 0.95 on gittensor's subnet 74 at
/// the time of writing); the moving average and the timing of the rounds
/// (validators score at different moments) cost a few percent. A fifth of
/// the weight above consensus is no longer timing: it is a table, a GitHub
/// path or a rule that differs, and it costs a fifth of the dividends.
pub const DEFAULT_TRUST_THRESHOLD: f64 = 0.80;

/// A fall of the predicted trust by this much from the last weight setting
/// to this one is a sharp drop, and `validate` warns. Defaults to 0.10.
///
/// Why 0.10: between two settings (one epoch apart) the moving average
/// moves the weights by its alpha (0.05 in 2.0.7's rounds), so an honest
/// change moves trust by a few hundredths; ten points at once is a round
/// that saw something the others did not.
pub const DEFAULT_TRUST_DROP: f64 = 0.10;

/// The largest u16, the scale of the chain's weights, consensus and trust.
const U16: f64 = 65535.0;

/// A u16 fraction of the chain as a number in 0..=1.
pub fn from_u16(v: u16) -> f64 {
    f64::from(v) / U16
}

/// A fraction as the runtime stores it: `floor(x * 65535)`, saturating.
/// A hair (1e-7 of a u16 step) is added first, so that a sum of u16
/// fractions that is whole on paper is not floored one below by f64.
pub fn to_u16(x: f64) -> u16 {
    let v = (x * U16 + 1e-7).floor();
    if v.is_nan() || v <= 0.0 {
        0
    } else if v >= U16 {
        u16::MAX
    } else {
        v as u16
    }
}

/// What a weights row would get against a consensus.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    /// The validator trust: the sum of the row's weights, each clipped at
    /// its column's consensus. 0 for a row with no weight.
    pub trust: f64,
    /// The share of the row's weight above consensus (what clipping takes
    /// off): `1 - trust` for a row with weight, 0 for one without.
    pub distance: f64,
    /// The row had some weight left after the masks.
    pub has_weight: bool,
}

impl Prediction {
    /// The trust as the runtime stores it.
    pub fn trust_u16(&self) -> u16 {
        to_u16(self.trust)
    }
}

/// The row the runtime's epoch uses from `weights` (uid, u16 as set or as
/// stored): without the self-weight of `own_uid`, without uids outside the
/// consensus vector, and without the weights the runtime masks as outdated
/// (`outdated(uid)`: the uid was registered at or after the row was set).
/// Zero weights are left out; order is kept.
pub fn effective_row(
    weights: &[(u16, u16)],
    consensus_len: usize,
    own_uid: Option<u16>,
    outdated: impl Fn(u16) -> bool,
) -> Vec<(u16, u16)> {
    weights
        .iter()
        .copied()
        .filter(|&(uid, w)| {
            w > 0 && Some(uid) != own_uid && usize::from(uid) < consensus_len && !outdated(uid)
        })
        .collect()
}

/// The trust `weights` would get against `consensus` (the chain's u16
/// vector), the runtime's way: `own_uid`'s self-weight dropped, the row
/// normalized to sum 1, each weight clipped at its column's consensus,
/// summed. Uids outside `consensus` count for nothing (the runtime has no
/// such column).
pub fn predicted_trust(
    weights: &[(u16, u16)],
    consensus: &[u16],
    own_uid: Option<u16>,
) -> Prediction {
    predict(
        &effective_row(weights, consensus.len(), own_uid, |_| false),
        consensus,
        0,
    )
}

/// The interval, in the chain's u16, that the runtime's stored trust for
/// `weights` falls in: the chain stores the consensus floored to u16, so
/// the consensus the epoch clipped at is in `[C, C + 1) / 65535`; this is
/// the trust at both ends, less one and plus one for the runtime's
/// fixed-point rounding.
pub fn trust_interval(
    weights: &[(u16, u16)],
    consensus: &[u16],
    own_uid: Option<u16>,
) -> (u16, u16) {
    let row = effective_row(weights, consensus.len(), own_uid, |_| false);
    let low = predict(&row, consensus, 0).trust_u16();
    let high = predict(&row, consensus, 1).trust_u16();
    (low.saturating_sub(1), high.saturating_add(1))
}

/// The clipping on an already masked row, with `bump` added to every
/// consensus value (0, or 1 for the top of the u16 interval).
fn predict(row: &[(u16, u16)], consensus: &[u16], bump: u32) -> Prediction {
    let total: f64 = row.iter().map(|&(_, w)| f64::from(w)).sum();
    if total <= 0.0 {
        return Prediction {
            trust: 0.0,
            distance: 0.0,
            has_weight: false,
        };
    }
    let mut trust = 0.0;
    for &(uid, w) in row {
        let c = consensus
            .get(usize::from(uid))
            .map_or(0.0, |&c| (f64::from(u32::from(c) + bump) / U16).min(1.0));
        trust += (f64::from(w) / total).min(c);
    }
    let trust = trust.clamp(0.0, 1.0);
    Prediction {
        trust,
        distance: 1.0 - trust,
        has_weight: true,
    }
}

/// What the watch compares at a weight setting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WatchInput {
    /// The chain's `ValidatorTrust` of our uid; `None` when we have no uid
    /// or the vector has no entry for it.
    pub trust_now: Option<f64>,
    /// What the weights about to be set would get.
    pub predicted: Prediction,
    /// The predicted trust at the last weight setting, if any.
    pub last_predicted: Option<f64>,
    /// The chain has a consensus to compare against (some column above 0;
    /// a new subnet before its first epoch with weights has none).
    pub consensus_known: bool,
    /// Commit-reveal is on: the chain's trust is for weights set a reveal
    /// period ago, not the last ones.
    pub commit_reveal: bool,
}

/// The watch's thresholds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WatchLimits {
    /// Warn below this predicted trust. Defaults to [`DEFAULT_TRUST_THRESHOLD`].
    pub threshold: f64,
    /// Warn on a fall of at least this much from the last setting.
    /// Defaults to [`DEFAULT_TRUST_DROP`].
    pub drop: f64,
}

impl Default for WatchLimits {
    fn default() -> Self {
        WatchLimits {
            threshold: DEFAULT_TRUST_THRESHOLD,
            drop: DEFAULT_TRUST_DROP,
        }
    }
}

/// Why the watch warns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Warning {
    /// The predicted trust is under the threshold.
    UnderThreshold {
        /// The predicted trust.
        predicted: f64,
        /// The threshold.
        threshold: f64,
    },
    /// The predicted trust fell sharply since the last setting.
    SharpDrop {
        /// At the last setting.
        from: f64,
        /// Now.
        to: f64,
    },
}

/// The likely causes of a low or falling trust, for the operator.
pub const LIKELY_CAUSES: &str =
    "likely causes: stale weight tables (--repositories, --languages), \
a GitHub path failing for some miners (rate limits, network), or a version whose rules differ \
from the other validators'";

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::UnderThreshold {
                predicted,
                threshold,
            } => write!(
                f,
                "these weights would get trust {predicted:.2}, under {threshold:.2}; {LIKELY_CAUSES}"
            ),
            Warning::SharpDrop { from, to } => write!(
                f,
                "predicted trust fell from {from:.2} to {to:.2} since the last weights; {LIKELY_CAUSES}"
            ),
        }
    }
}

/// The watch's verdict at one weight setting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    /// The chain's trust for our uid now.
    pub trust_now: Option<f64>,
    /// What these weights would get.
    pub predicted: f64,
    /// The share of these weights above consensus.
    pub distance: f64,
    /// Why to warn, if at all (none without a consensus or without weight).
    pub warning: Option<Warning>,
    /// Copied from the input: the chain's trust lags.
    pub commit_reveal: bool,
    /// Copied from the input.
    pub consensus_known: bool,
}

/// The verdict on `input` under `limits`: a warning when the predicted
/// trust is under the threshold (checked first) or fell by at least the
/// drop since the last setting. No warning when the chain has no
/// consensus yet or the weights are empty: there is nothing to agree with.
pub fn verdict(input: &WatchInput, limits: &WatchLimits) -> Verdict {
    let p = input.predicted;
    let warning = if !input.consensus_known || !p.has_weight {
        None
    } else if p.trust < limits.threshold {
        Some(Warning::UnderThreshold {
            predicted: p.trust,
            threshold: limits.threshold,
        })
    } else {
        match input.last_predicted {
            Some(from) if from - p.trust >= limits.drop => {
                Some(Warning::SharpDrop { from, to: p.trust })
            }
            _ => None,
        }
    };
    Verdict {
        trust_now: input.trust_now,
        predicted: p.trust,
        distance: p.distance,
        warning,
        commit_reveal: input.commit_reveal,
        consensus_known: input.consensus_known,
    }
}

impl Verdict {
    /// The problem `/readyz` reports while this verdict stands, if any:
    /// the warning's text.
    pub fn readiness_problem(&self) -> Option<String> {
        self.warning.map(|w| format!("consensus watch: {w}"))
    }
}

/// The one log line of a weight setting: `trust now 0.93, these weights
/// would get 0.95`, with what qualifies it.
pub fn log_line(v: &Verdict) -> String {
    let now = v
        .trust_now
        .map_or_else(|| "unknown".to_string(), |t| format!("{t:.2}"));
    let mut line = if v.consensus_known {
        format!(
            "trust now {now}, these weights would get {:.2} ({:.0}% of them above consensus)",
            v.predicted,
            v.distance * 100.0
        )
    } else {
        format!("trust now {now}; no consensus on chain yet to compare these weights with")
    };
    if v.commit_reveal {
        line.push_str(
            "; commit-reveal is on: the chain's trust is for weights revealed a reveal period ago",
        );
    }
    line
}

/// The chain has a consensus: some column is above 0.
pub fn consensus_known(consensus: &[u16]) -> bool {
    consensus.iter().any(|&c| c > 0)
}
