//! Whether a finished round may be folded into the scores (SCORING.md
//! §11.9.7). 2.0.7 scores 0 every miner it could not read, whatever the
//! reason, and folds the round in: a GitHub outage or a cut network then
//! moves every score toward uid 0. Here the failures on the validator's
//! side are counted apart from the miners' own, and a round with too many
//! of them is discarded: the scores and the weights stay as they were.

use super::RoundReport;

/// Share of the miners sent to GitHub that may fail on the validator's side
/// before the round is discarded. A GitHub outage fails nearly all of them;
/// a healthy round fails a few (a slow answer, one 502), and those are
/// folded as 2.0.7 folds them. A quarter sits well between the two, and
/// still discards a round where GitHub answers only half the time.
pub const DEFAULT_DISCARD_THRESHOLD: f64 = 0.25;

/// What to do with a finished round.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Fold it in. `faults` of `asked` miners failed on our side; they get
    /// 0 as in 2.0.7.
    Fold {
        /// Miners that failed on the validator's side.
        faults: usize,
        /// Miners sent to GitHub.
        asked: usize,
    },
    /// Leave the scores as they were, for this reason.
    Discard(String),
}

/// Judges a round from its report: discarded when more than `threshold` of
/// the miners sent to GitHub failed on the validator's side, or when the
/// PATs came from axons and not one served axon answered (the dendrite's
/// network, not 200 miners at once). `github` names where GitHub was asked
/// (the API URL), for the reason. A threshold of 1 turns discarding off:
/// every round is folded, as 2.0.7 folds it.
pub fn verdict(report: &RoundReport, threshold: f64, github: &str) -> Verdict {
    let stats = &report.stats;
    if threshold >= 1.0 {
        return Verdict::Fold {
            faults: stats.validator_faults,
            asked: stats.github_miners,
        };
    }
    if let Some(q) = &stats.pat_query {
        if q.queried > 0 && q.answered == 0 {
            return Verdict::Discard(format!(
                "none of the {} served axons answered the PAT query ({} timed out): the validator's network or wallet is the likely cause",
                q.queried, q.timed_out
            ));
        }
    }
    let (faults, asked) = (stats.validator_faults, stats.github_miners);
    #[allow(clippy::cast_precision_loss)]
    let share = if asked == 0 {
        0.0
    } else {
        faults as f64 / asked as f64
    };
    if faults > 0 && share > threshold {
        let example = report
            .evaluations
            .values()
            .find_map(|e| e.validator_fault.as_ref().map(|f| (e.uid, f)))
            .map(|(uid, f)| format!("; uid {uid}: {f}"))
            .unwrap_or_default();
        return Verdict::Discard(format!(
            "GitHub at {github} failed for {faults} of {asked} miners on the validator's side \
             (transport, timeout, 5xx or rate limit), above the threshold of {:.0} %{example}",
            threshold * 100.0
        ));
    }
    Verdict::Fold { faults, asked }
}
