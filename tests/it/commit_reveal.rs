//! Commit-reveal: the reveal round against the real SDK function's table.
//! The commit itself is decrypted by the real bittensor-drand in
//! `scripts/interop-commit-reveal.sh`.

use std::time::Duration;

use gittensor_validator::commit_reveal::reveal_round;
use serde_json::Value;

/// Rust's `Duration::as_secs_f64` of a decimal "SEC[.FRAC]", which is how
/// bittensor-drand reads the clock.
fn now_of(text: &str) -> f64 {
    let (sec, frac) = text.split_once('.').unwrap_or((text, ""));
    let nanos: u32 = format!("{frac:0<9}")[..9].parse().unwrap();
    Duration::new(sec.parse().unwrap(), nanos).as_secs_f64()
}

#[test]
fn the_reveal_round_equals_the_sdks_for_every_case_of_the_table() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/reveal-rounds.json");
    let table: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let rows = table["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 204);
    for row in rows {
        let n = |k: &str| row[k].as_u64().unwrap();
        let got = reveal_round(
            n("tempo"),
            n("current_block"),
            u16::try_from(n("netuid")).unwrap(),
            n("subnet_reveal_period_epochs"),
            row["block_time"].as_f64().unwrap(),
            now_of(row["now"].as_str().unwrap()),
        );
        assert_eq!(got, n("reveal_round"), "{row}");
    }
}
