//! The trust arithmetic (`scoring::trust`) on hand-worked cases: the
//! runtime's epoch for one row (self-weight dropped, row normalized, each
//! weight clipped at its column's consensus, summed), and the watch's
//! verdict and log line.

use gittensor_validator::scoring::trust::{
    log_line, predicted_trust, to_u16, trust_interval, verdict, Verdict, Warning, WatchInput,
    WatchLimits, DEFAULT_TRUST_DROP, DEFAULT_TRUST_THRESHOLD,
};

/// `weights` (uid, u16) of `own` against `consensus` (u16 per uid) give
/// `expected` trust (as a fraction), and `expected_u16` as the chain stores it.
fn check(
    weights: &[(u16, u16)],
    own: Option<u16>,
    consensus: &[u16],
    expected: f64,
    expected_u16: u16,
) {
    let p = predicted_trust(weights, consensus, own);
    assert!(
        (p.trust - expected).abs() < 1e-9,
        "{weights:?} vs {consensus:?}: trust {} != {expected}",
        p.trust
    );
    assert_eq!(p.trust_u16(), expected_u16, "{weights:?} vs {consensus:?}");
    if p.has_weight {
        assert!((p.distance - (1.0 - expected)).abs() < 1e-9);
    } else {
        assert_eq!(p.distance, 0.0);
    }
}

const HALF: u16 = 32767; // floor(0.5 * 65535)
const FIFTH: u16 = 13107; // 0.2 * 65535, exact

fn f(u: u16) -> f64 {
    f64::from(u) / 65535.0
}

#[test]
fn a_row_at_or_under_consensus_everywhere_keeps_all_its_trust() {
    // (0.2, 0.2) against consensus (0.2, 0.2) ... row-normalized first: (0.5, 0.5).
    check(&[(1, 1), (2, 1)], Some(0), &[0, 65535, 65535], 1.0, 65535);
    check(
        &[(1, 1), (2, 1)],
        Some(0),
        &[0, HALF + 1, HALF + 1],
        1.0,
        65535,
    );
}

#[test]
fn each_weight_is_clipped_at_its_columns_consensus() {
    // (0.5, 0.5) against (0.5-, 0.2): 0.49999 + 0.2.
    check(
        &[(1, 1), (2, 1)],
        Some(0),
        &[0, HALF, FIFTH],
        f(HALF) + 0.2,
        HALF + FIFTH,
    );
    // Unnormalized u16 rows are normalized first: (30000, 10000) = (0.75, 0.25).
    check(
        &[(1, 30000), (2, 10000)],
        Some(0),
        &[0, HALF, 65535],
        f(HALF) + 0.25,
        HALF + 16383,
    );
}

#[test]
fn a_weight_on_a_column_without_consensus_counts_for_nothing() {
    check(&[(1, 1), (2, 1)], Some(0), &[0, 0, 65535], 0.5, HALF);
}

#[test]
fn a_zero_row_has_no_trust_and_no_distance() {
    check(&[], Some(0), &[0, 65535], 0.0, 0);
    check(&[(1, 0), (2, 0)], Some(0), &[0, 65535, 65535], 0.0, 0);
    assert!(!predicted_trust(&[], &[65535], Some(0)).has_weight);
}

#[test]
fn the_self_weight_is_dropped_before_normalizing() {
    // Half the row on itself: the rest is renormalized to all of it.
    check(&[(0, 100), (1, 100)], Some(0), &[65535, 65535], 1.0, 65535);
    // Only self-weight: nothing left.
    check(&[(0, 100)], Some(0), &[65535], 0.0, 0);
    // Without an own uid nothing is dropped.
    check(&[(0, 100), (1, 100)], None, &[FIFTH, FIFTH], 0.4, 2 * FIFTH);
}

#[test]
fn uids_outside_the_consensus_vector_are_dropped() {
    check(&[(1, 1), (9, 1)], Some(0), &[0, 65535], 1.0, 65535);
}

#[test]
fn a_single_validator_is_its_own_consensus() {
    // One validator: the median of each column is its own weight, which the
    // chain stores floored, so our trust is one u16 step or so under the
    // runtime's 65535, and the interval holds the runtime's value.
    let row = [(1, 1), (2, 3)];
    let consensus = [0, 16383, 49151]; // floor(0.25 * 65535), floor(0.75 * 65535)
    check(&row, Some(0), &consensus, f(16383) + f(49151), 65534);
    let (lo, hi) = trust_interval(&row, &consensus, Some(0));
    assert!(lo <= 65534 && hi == 65535, "[{lo}, {hi}]");
}

#[test]
fn ties_a_weight_exactly_at_consensus_is_kept_whole() {
    // Two equal weights, consensus exactly there on one column, a step
    // below on the other: only that step is lost.
    check(
        &[(1, 1), (2, 1)],
        Some(0),
        &[0, HALF + 1, HALF],
        f(HALF + 1).min(0.5) + f(HALF),
        65534,
    );
    // Equal rows on equal columns: each weight equals its consensus.
    check(
        &[(1, 1), (2, 1), (3, 1), (4, 1), (5, 1)],
        Some(0),
        &[0, FIFTH, FIFTH, FIFTH, FIFTH, FIFTH],
        1.0,
        65535,
    );
}

#[test]
fn the_trust_interval_brackets_the_u16_rounding_of_the_consensus() {
    let check_interval = |row: &[(u16, u16)], consensus: &[u16], expected: (u16, u16)| {
        assert_eq!(trust_interval(row, consensus, Some(0)), expected, "{row:?}");
    };
    // (0.5, 0.5) vs (0.5-, 0.2): at C 45874; at C + 1, 0.5 + 13108 steps
    // = 45875.5, floored 45875; then one step either side.
    check_interval(&[(1, 1), (2, 1)], &[0, HALF, FIFTH], (45873, 45876));
    check_interval(&[], &[0, HALF], (0, 1));
}

#[test]
fn the_chain_stores_fractions_floored_to_u16() {
    for (x, u) in [
        (0.0, 0),
        (1.0, 65535),
        (0.5, 32767),
        (2.0, 65535),
        (-1.0, 0),
        (f64::NAN, 0),
    ] {
        assert_eq!(to_u16(x), u, "{x}");
    }
}

fn input(predicted: f64, last: Option<f64>) -> WatchInput {
    WatchInput {
        trust_now: Some(0.93),
        predicted: gittensor_validator::scoring::trust::Prediction {
            trust: predicted,
            distance: 1.0 - predicted,
            has_weight: true,
        },
        last_predicted: last,
        consensus_known: true,
        commit_reveal: false,
    }
}

/// The verdict's warning for a predicted trust after `last`, under the defaults.
fn check_warning(predicted: f64, last: Option<f64>, expected: Option<Warning>) {
    let v = verdict(&input(predicted, last), &WatchLimits::default());
    assert_eq!(v.warning, expected, "{predicted} after {last:?}");
}

#[test]
fn the_watch_warns_under_the_threshold() {
    assert_eq!(DEFAULT_TRUST_THRESHOLD, 0.80);
    check_warning(
        0.79,
        None,
        Some(Warning::UnderThreshold {
            predicted: 0.79,
            threshold: 0.80,
        }),
    );
    check_warning(0.80, None, None);
    check_warning(0.95, None, None);
}

#[test]
fn the_watch_warns_on_a_sharp_drop_from_the_last_setting() {
    assert_eq!(DEFAULT_TRUST_DROP, 0.10);
    check_warning(
        0.85,
        Some(0.97),
        Some(Warning::SharpDrop {
            from: 0.97,
            to: 0.85,
        }),
    );
    check_warning(0.90, Some(0.97), None);
    check_warning(0.97, Some(0.85), None);
    // Under the threshold says so first.
    check_warning(
        0.5,
        Some(0.97),
        Some(Warning::UnderThreshold {
            predicted: 0.5,
            threshold: 0.80,
        }),
    );
}

#[test]
fn the_watch_is_quiet_without_a_consensus_or_without_weights() {
    let mut i = input(0.1, Some(0.9));
    i.consensus_known = false;
    assert_eq!(verdict(&i, &WatchLimits::default()).warning, None);
    let mut i = input(0.0, Some(0.9));
    i.predicted.has_weight = false;
    assert_eq!(verdict(&i, &WatchLimits::default()).warning, None);
}

fn check_line(v: Verdict, expected: &str) {
    assert_eq!(log_line(&v), expected);
}

#[test]
fn one_log_line_per_weight_setting() {
    let v = verdict(&input(0.95, None), &WatchLimits::default());
    check_line(
        v,
        "trust now 0.93, these weights would get 0.95 (5% of them above consensus)",
    );
    check_line(
        Verdict {
            trust_now: None,
            consensus_known: false,
            ..v
        },
        "trust now unknown; no consensus on chain yet to compare these weights with",
    );
    check_line(
        Verdict {
            commit_reveal: true,
            ..v
        },
        "trust now 0.93, these weights would get 0.95 (5% of them above consensus); \
commit-reveal is on: the chain's trust is for weights revealed a reveal period ago",
    );
}

#[test]
fn a_warning_is_a_readiness_problem_until_the_next_setting() {
    let v = verdict(&input(0.5, None), &WatchLimits::default());
    assert_eq!(
        v.readiness_problem().unwrap(),
        format!(
            "consensus watch: these weights would get trust 0.50, under 0.80; {}",
            gittensor_validator::scoring::trust::LIKELY_CAUSES
        )
    );
    assert_eq!(
        verdict(&input(0.95, None), &WatchLimits::default()).readiness_problem(),
        None
    );
}

#[test]
fn a_warning_names_the_likely_causes() {
    let w = Warning::SharpDrop {
        from: 0.97,
        to: 0.85,
    }
    .to_string();
    assert!(w.starts_with("predicted trust fell from 0.97 to 0.85 since the last weights; likely causes: stale weight tables"), "{w}");
    assert!(w.contains("GitHub") && w.contains("version"), "{w}");
}
