//! The validator's state: importing a Python validator's `state.npz`
//! (written by numpy), and the loop's decisions on it (SCORING.md §11.3,
//! §11.5, §11.9).

use std::path::Path;

use gittensor_validator::inputs;
use gittensor_validator::scoring::scores::{Resync, Scores};
use gittensor_validator::scoring::state::{
    decide_submission, Cadence, Submission, SubmissionInputs, Submit, ValidatorState,
};
use gittensor_validator::scoring::verdict::{verdict, Verdict, DEFAULT_DISCARD_THRESHOLD};
use gittensor_validator::scoring::{PatQueryStats, RoundReport};

fn data(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

const HOTKEYS: [&str; 4] = [
    "5FNWemJduAtUaS9ATYGEBMdA8UT8dUCVmuqk2do8LjRGy78t",
    "5HZD9gqgtYECdwhMvwZrpip5nifo64wwQUPr5JSQ8im85Nwj",
    "5HRKeWs38yMY7PbkdGkykazhE59n5LfXai35Ze6szsnpBFSL",
    "5GUKP4pKtESCZ7vZ1Q1aEYDpwEoP4VkuuPrmm5YwXrWiipnh",
];

#[test]
fn s11_9_1_a_python_state_npz_is_imported_with_its_dtype() {
    // scripts/make-state-npz.py wrote these with numpy's savez.
    let s = inputs::load_state_npz(&data("state.npz")).unwrap();
    assert_eq!(s.step, 1234);
    assert_eq!(
        s.scores,
        Scores::Float32(vec![0.0, 0.664_019_6, 4.211_613e-5, 0.1])
    );
    assert_eq!(s.hotkeys, HOTKEYS);
    let wide = inputs::load_state_npz(&data("state-float64.npz")).unwrap();
    assert_eq!(wide.step, 7);
    let Scores::Float64(v) = wide.scores else {
        panic!("a float64 state stays float64");
    };
    assert_eq!(v[1], f64::from(0.664_019_6f32));
}

#[test]
fn a_file_that_is_not_a_state_npz_is_refused_naming_it() {
    let e = inputs::load_state_npz(&data("weights-goldens.json")).unwrap_err();
    assert!(e.to_string().contains("weights-goldens.json"), "{e}");
    assert!(e.to_string().contains("npz"), "{e}");
}

fn hk(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn s11_3_resync_resets_a_replaced_hotkey_and_keeps_the_rest() {
    let mut s = ValidatorState::new(hk(&["a", "b", "c"]));
    s.fold_round(&[(0, 1.0), (1, 1.0), (2, 1.0)].into(), 0.7)
        .unwrap();
    // Same axons: nothing happens, even with other hotkeys.
    let r = s.resync(&hk(&["x", "b", "c"]), false);
    assert_eq!(r, Resync::default());
    assert!(s.scores.to_f64()[0] > 0.0);
    let r = s.resync(&hk(&["x", "b", "c"]), true);
    assert_eq!(r.reset, [0]);
    assert_eq!(s.scores.to_f64()[0], 0.0);
    assert_eq!(s.scores.to_f64()[1], f64::from(0.7f32));
    assert_eq!(s.hotkeys, hk(&["x", "b", "c"]));
}

#[test]
fn s11_3_4_growth_widens_to_float64_and_9_2_shrink_drops_the_tail() {
    let mut s = ValidatorState::new(hk(&["a", "b"]));
    s.fold_round(&[(0, 0.5), (1, 0.5)].into(), 0.7).unwrap();
    let r = s.resync(&hk(&["a", "b", "c"]), true);
    assert_eq!(r.grew_to, Some(3));
    let Scores::Float64(v) = &s.scores else {
        panic!("growth makes float64 scores");
    };
    assert_eq!(v, &[f64::from(0.35f32), f64::from(0.35f32), 0.0]);
    let r = s.resync(&hk(&["a", "z"]), true);
    assert_eq!((r.shrank_to, r.reset), (Some(2), vec![1]));
    assert_eq!(s.scores.to_f64(), [f64::from(0.35f32), 0.0]);
}

#[test]
fn s11_5_weights_are_due_after_an_epoch_and_never_at_step_0() {
    let c = Cadence {
        steps_per_round: 120,
        epoch_length: 100,
    };
    let check = |step, block, last_update, expected: (bool, bool)| {
        assert_eq!(
            (
                c.resync_due(block, last_update),
                c.weights_due(step, block, last_update)
            ),
            expected,
            "step {step}, block {block}, last update {last_update}"
        );
    };
    check(0, 1000, 0, (true, false));
    check(1, 1000, 0, (true, true));
    check(5, 1100, 1000, (false, false));
    check(5, 1101, 1000, (true, true));
    assert!(c.is_round_step(0) && c.is_round_step(120) && !c.is_round_step(60));
}

#[test]
fn a_fold_with_a_uid_past_the_scores_changes_nothing() {
    let mut s = ValidatorState::new(hk(&["a"]));
    let before = s.clone();
    assert!(s.fold_round(&[(0, 1.0), (5, 1.0)].into(), 0.7).is_err());
    assert_eq!(s, before);
}

/// What the loop does with weights that may be due (§11.4.6, §11.9.4).
fn check_submission(
    (scored, dry_run, permit, ours, chains, commit_reveal): (bool, bool, bool, u64, u64, bool),
    expected: Submission,
) {
    let inputs = SubmissionInputs {
        scored,
        dry_run,
        permit,
        version_key: ours,
        chain_version_key: chains,
        commit_reveal,
    };
    assert_eq!(decide_submission(&inputs), expected, "{inputs:?}");
}

#[test]
fn s11_9_4_the_submission_decision() {
    use Submission::{Compute, NoScores};
    use Submit::*;
    // (scored, dry run, permit, our key, chain's key, commit-reveal)
    check_submission((false, false, true, 1000, 1000, false), NoScores);
    check_submission((false, true, false, 1000, 2000, true), NoScores);
    check_submission((true, true, true, 1000, 1000, false), Compute(DryRun));
    check_submission((true, true, false, 1000, 2000, true), Compute(DryRun));
    check_submission((true, false, false, 1000, 1000, false), Compute(NoPermit));
    check_submission(
        (true, false, true, 1000, 2000, false),
        Compute(VersionKeyBelow),
    );
    check_submission(
        (true, false, true, 1000, 2000, true),
        Compute(VersionKeyBelow),
    );
    check_submission((true, false, true, 1000, 1000, false), Compute(SetWeights));
    check_submission((true, false, true, 1001, 1000, false), Compute(SetWeights));
    check_submission((true, false, true, 1000, 0, true), Compute(Commit));
}

#[test]
fn s11_9_7_a_fresh_state_is_not_scored_until_a_round_shapes_it() {
    let mut s = ValidatorState::new(HOTKEYS.iter().map(|h| h.to_string()).collect());
    assert!(!s.is_scored());
    s.fold_round(&[(1u16, 0.5)].into_iter().collect(), 0.7)
        .unwrap();
    assert!(s.is_scored());
    let imported = inputs::load_state_npz(&data("state.npz")).unwrap();
    assert!(
        imported.is_scored(),
        "an imported state carries real scores"
    );
}

/// A round's report with these outcomes: (`github_miners`, faults) and the
/// PAT phase (queried, answered) when the PATs came from axons.
fn check_verdict(
    github: (usize, usize),
    axons: Option<(usize, usize)>,
    threshold: f64,
    discard: Option<&str>,
) {
    let mut report = RoundReport::new(time::OffsetDateTime::UNIX_EPOCH, &Default::default(), &[]);
    report.stats.github_miners = github.0;
    report.stats.validator_faults = github.1;
    report.stats.pat_query = axons.map(|(queried, answered)| PatQueryStats {
        queried,
        answered,
        ..PatQueryStats::default()
    });
    match (verdict(&report, threshold, "http://gh"), discard) {
        (Verdict::Fold { faults, asked }, None) => assert_eq!((asked, faults), github),
        (Verdict::Discard(why), Some(says)) => assert!(why.contains(says), "{why}"),
        (got, want) => panic!("{github:?} {axons:?}: got {got:?}, expected a discard: {want:?}"),
    }
}

#[test]
fn s11_9_7_a_round_that_failed_on_our_side_is_discarded() {
    let t = DEFAULT_DISCARD_THRESHOLD;
    check_verdict((256, 0), None, t, None);
    check_verdict((256, 3), None, t, None);
    check_verdict((4, 1), None, t, None);
    check_verdict(
        (4, 2),
        None,
        t,
        Some("GitHub at http://gh failed for 2 of 4 miners"),
    );
    check_verdict((256, 256), None, t, Some("256 of 256"));
    check_verdict((0, 0), None, t, None);
    check_verdict((10, 1), None, 0.0, Some("1 of 10"));
    check_verdict((10, 10), None, 1.0, None);
    // Every served axon failed: the dendrite's side, not 200 miners at once.
    check_verdict(
        (0, 0),
        Some((200, 0)),
        t,
        Some("none of the 200 served axons answered"),
    );
    check_verdict((1, 0), Some((200, 1)), t, None);
    // A threshold of 1 turns discarding off.
    check_verdict((0, 0), Some((200, 0)), 1.0, None);
    // No axon serves: nothing was asked, so nothing failed on our side.
    check_verdict((0, 0), Some((0, 0)), t, None);
}
