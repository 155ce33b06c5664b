//! SCORING.md §11.2–11.4 against `tests/data/weights-goldens.json`, made by
//! running 2.0.7's own code (numpy 2.4.6, bittensor 9.9.0). Every float is
//! compared bit for bit, in the dtype the reference stored.

use gittensor_validator::scoring::scores::{Scores, WeightsError};
use gittensor_validator::scoring::weights::{
    convert_for_emit, normalize_max_weight, process_weights, weights_for_chain, Processed,
    WeightLimits,
};
use serde_json::Value;

fn goldens() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/weights-goldens.json"
    );
    let all: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(all["version_key"], 1000);
    all["cases"].as_array().unwrap().clone()
}

fn cases(kind: &str) -> Vec<Value> {
    let found: Vec<Value> = goldens()
        .into_iter()
        .filter(|c| c["kind"] == kind)
        .collect();
    assert!(!found.is_empty(), "no {kind} goldens");
    found
}

fn f64_of(s: &Value) -> f64 {
    match s.as_str().unwrap() {
        "nan" => f64::NAN,
        t => t.parse().unwrap(),
    }
}

fn f32_of(s: &Value) -> f32 {
    match s.as_str().unwrap() {
        "nan" => f32::NAN,
        t => t.parse().unwrap(),
    }
}

/// A golden array `{"dtype", "values"}` as scores.
fn scores_of(v: &Value) -> Scores {
    let values = v["values"].as_array().unwrap();
    match v["dtype"].as_str().unwrap() {
        "float32" => Scores::Float32(values.iter().map(f32_of).collect()),
        "float64" => Scores::Float64(values.iter().map(f64_of).collect()),
        other => panic!("dtype {other}"),
    }
}

fn processed_of(v: &Value) -> Processed {
    match scores_of(v) {
        Scores::Float32(w) => Processed::Float32(w),
        Scores::Float64(w) => Processed::Float64(w),
    }
}

fn u16s(v: &Value) -> Vec<u16> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| u16::try_from(x.as_u64().unwrap()).unwrap())
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

/// Bit patterns, NaN as one pattern: what "bit for bit" compares.
fn bits(s: &Scores) -> (&'static str, Vec<u64>) {
    let nan = |b: bool, x: u64| if b { u64::MAX } else { x };
    match s {
        Scores::Float32(v) => (
            "float32",
            v.iter()
                .map(|x| nan(x.is_nan(), u64::from(x.to_bits())))
                .collect(),
        ),
        Scores::Float64(v) => (
            "float64",
            v.iter().map(|x| nan(x.is_nan(), x.to_bits())).collect(),
        ),
    }
}

fn processed_bits(p: &Processed) -> (&'static str, Vec<u64>) {
    match p {
        Processed::Float32(w) => bits(&Scores::Float32(w.clone())),
        Processed::Float64(w) => bits(&Scores::Float64(w.clone())),
    }
}

/// Runs an EMA golden's steps from its initial state; every state after a
/// step must equal the reference's. `on_error` decides what a step the
/// reference raised on must leave.
fn check_ema(case: &Value, on_error: impl Fn(&Value, &Scores, &[String])) {
    let name = case["name"].as_str().unwrap();
    let alpha = case["alpha"].as_f64().unwrap();
    let mut scores = scores_of(&case["initial_scores"]);
    let mut hotkeys = strings(&case["initial_hotkeys"]);
    for (i, step) in case["steps"].as_array().unwrap().iter().enumerate() {
        match step["op"].as_str().unwrap() {
            "update_scores" => {
                let rewards: Vec<f64> = step["rewards_f64"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(f64_of)
                    .collect();
                scores
                    .update(&u16s(&step["uids"]), &rewards, alpha)
                    .unwrap();
                if let Some(b) = step.get("blacklisted_uids") {
                    scores.zero_and_renormalize(&u16s(b)).unwrap();
                }
            }
            "resync" => {
                let new = strings(&step["hotkeys"]);
                let changed = new != hotkeys;
                scores.resync(&mut hotkeys, &new, changed);
            }
            op => panic!("{name}: op {op}"),
        }
        if step.get("error").is_some() {
            on_error(step, &scores, &hotkeys);
            return;
        }
        assert_eq!(
            bits(&scores),
            bits(&scores_of(&step["scores_after"])),
            "{name} step {i}"
        );
        assert_eq!(
            hotkeys.len() as u64,
            step["hotkeys_after_len"].as_u64().unwrap()
        );
    }
}

#[test]
fn s11_2_moving_average_and_s11_3_resync_match_the_reference_bit_for_bit() {
    let mut checked = 0;
    for case in cases("ema") {
        if case["name"] == "ema_shrink_raises" {
            continue;
        }
        check_ema(&case, |step, _, _| {
            panic!("unexpected error {}", step["error"])
        });
        checked += 1;
    }
    // Including the growth to float64 (11.3.4), kept bit for bit.
    assert_eq!(checked, 13);
}

/// §11.9.2: where the reference raises IndexError on a shrinking metagraph
/// and dies, we keep the uids below the new end, zeroed by the hotkey rule
/// exactly as the reference had done before raising, and drop the rest.
#[test]
fn s11_9_2_a_shrinking_metagraph_drops_the_scores_past_its_end() {
    let case = cases("ema")
        .into_iter()
        .find(|c| c["name"] == "ema_shrink_raises")
        .unwrap();
    check_ema(&case, |step, scores, hotkeys| {
        assert_eq!(step["error"], "IndexError");
        let new_n = step["hotkeys"].as_array().unwrap().len();
        let (dtype, reference) = bits(&scores_of(&step["scores_after"]));
        assert_eq!(bits(scores), (dtype, reference[..new_n].to_vec()));
        assert_eq!(hotkeys.len(), new_n);
    });
}

/// numpy's IndexError: a uid at or past the scores' end refuses the update
/// (the smallest such uid named, as the reference sorts them) and the
/// blacklist branch (the first named), and the scores stay as they were.
#[test]
fn scores_refuse_a_uid_past_their_end_and_stay_unchanged() {
    let mut s = Scores::zeros(3);
    let before = s.clone();
    let past = |uid| Err(WeightsError::UidOutOfRange { uid, len: 3 });
    assert_eq!(s.update(&[0, 7, 3], &[1.0, 1.0, 1.0], 0.5), past(3));
    assert_eq!(s.zero_and_renormalize(&[1, 7, 3]), past(7));
    assert_eq!(s, before);
    s.update(&[0, 2], &[1.0, 1.0], 0.5).unwrap();
    assert_ne!(s, before, "uids below the end are taken");
}

#[test]
fn s11_4_set_weights_matches_the_reference_bit_for_bit() {
    let all = cases("set_weights");
    for case in &all {
        let name = case["name"].as_str().unwrap();
        let expected = &case["expected"];
        let limits = WeightLimits {
            min_allowed_weights: u16::try_from(case["min_allowed_weights"].as_u64().unwrap())
                .unwrap(),
            max_weight_limit: u16::try_from(case["max_weight_limit_u16"].as_u64().unwrap())
                .unwrap(),
        };
        assert_eq!(case["exclude_quantile"], 0, "{name}");
        let n = usize::try_from(case["n"].as_u64().unwrap()).unwrap();
        let scores = scores_of(&case["scores"]);
        let got = weights_for_chain(&scores, n, limits).unwrap();
        let norm = &expected["norm"];
        let want_norm = match norm["dtype"].as_str().unwrap() {
            "float32" => f64::from(f32_of(&norm["value"])),
            _ => f64_of(&norm["value"]),
        };
        assert!(
            got.norm.to_bits() == want_norm.to_bits() || (got.norm.is_nan() && want_norm.is_nan()),
            "{name}: norm {} != {want_norm}",
            got.norm
        );
        assert_eq!(
            got.norm_fallback_to_one,
            expected["norm_fallback_to_one"].as_bool().unwrap(),
            "{name}"
        );
        assert_eq!(
            got.processed_uids,
            u16s(&expected["processed_uids"]),
            "{name}"
        );
        assert_eq!(
            processed_bits(&got.processed_weights),
            processed_bits(&processed_of(&expected["processed_weights"])),
            "{name}: processed weights"
        );
        assert_eq!(got.uids, u16s(&expected["uids"]), "{name}: uids");
        assert_eq!(
            got.weights,
            u16s(&expected["weights"]),
            "{name}: u16 weights"
        );
    }
    assert_eq!(all.len(), 26);
}

#[test]
fn s11_4_3_process_weights_with_a_quantile_matches_the_reference() {
    for case in cases("process_weights") {
        let name = case["name"].as_str().unwrap();
        let Scores::Float32(w) = scores_of(&case["weights_in"]) else {
            panic!("{name}: weights_in is float32");
        };
        let uids: Vec<u16> = (0..w.len()).map(|i| u16::try_from(i).unwrap()).collect();
        let limits = WeightLimits {
            min_allowed_weights: u16::try_from(case["min_allowed_weights"].as_u64().unwrap())
                .unwrap(),
            max_weight_limit: u16::try_from(case["max_weight_limit_u16"].as_u64().unwrap())
                .unwrap(),
        };
        let n = usize::try_from(case["n"].as_u64().unwrap()).unwrap();
        let q = u16::try_from(case["exclude_quantile"].as_u64().unwrap()).unwrap();
        let (pu, pw) = process_weights(&uids, &w, n, limits, q);
        let expected = &case["expected"];
        assert_eq!(pu, u16s(&expected["processed_uids"]), "{name}");
        assert_eq!(
            processed_bits(&pw),
            processed_bits(&processed_of(&expected["processed_weights"])),
            "{name}"
        );
        let (u, v) = convert_for_emit(&pu, &pw).unwrap();
        assert_eq!(
            (u, v),
            (u16s(&expected["uids"]), u16s(&expected["weights"])),
            "{name}"
        );
    }
}

#[test]
fn s11_4_4_normalize_max_weight_matches_the_reference() {
    for case in cases("normalize_max_weight") {
        let name = case["name"].as_str().unwrap();
        let limit = case["limit_u16"].as_f64().unwrap() / 65535.0;
        let got = match scores_of(&case["x"]) {
            Scores::Float32(x) => Scores::Float32(normalize_max_weight(&x, limit)),
            Scores::Float64(x) => Scores::Float64(normalize_max_weight(&x, limit)),
        };
        assert_eq!(bits(&got), bits(&scores_of(&case["expected"])), "{name}");
    }
}

#[test]
fn s11_4_5_u16_conversion_rounds_half_to_even_and_drops_zeros() {
    for case in cases("convert") {
        let name = case["name"].as_str().unwrap();
        let w = processed_of(&case["weights_in"]);
        let (u, v) = convert_for_emit(&u16s(&case["uids_in"]), &w).unwrap();
        let expected = &case["expected"];
        assert_eq!(
            (u, v),
            (u16s(&expected["uids"]), u16s(&expected["weights"])),
            "{name}"
        );
    }
}
