//! Input from miners who may be hostile: odd PATs, odd uids, many entries.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use gittensor_validator::cancel::Cancel;
use gittensor_validator::inputs::parse_miners;
use gittensor_validator::pipeline::{run_round, RoundExtras, RoundOptions};
use gittensor_validator::scoring::{MasterRepositories, RoundContext};
use gittensor_validator::testkit::fakehub::FakeHub;
use gittensor_validator::token::Pat;
use serde_json::{json, Value};

use crate::util::{fast_client, runtime, snapshot, NOW};

/// A round with no master repositories: identity checks only.
fn empty_ctx() -> Arc<RoundContext> {
    Arc::new(RoundContext {
        repos: MasterRepositories::default(),
        languages: Default::default(),
        now: NOW,
    })
}

fn miners_text(entries: &[Value]) -> String {
    serde_json::to_string(entries).unwrap()
}

#[test]
fn pats_that_cannot_be_headers_are_never_sent() {
    let hostile = [
        "ghp_abc\r\nX-Injected: yes".to_string(),
        "ghp_abc\nHost: evil".to_string(),
        "has spaces in it".to_string(),
        "ctrl\u{7}char".to_string(),
        "nön-ascii-tökén".to_string(),
        "x".repeat(100 * 1024),
        "\u{0}".to_string(),
    ];
    let mut entries: Vec<Value> = hostile
        .iter()
        .enumerate()
        .map(|(i, t)| json!({"uid": i + 1, "hotkey": format!("hk{i}"), "github_access_token": t}))
        .collect();
    entries.push(json!({"uid": 50, "hotkey": "ok", "github_access_token": "good-token"}));
    let miners = parse_miners(&miners_text(&entries), Path::new("m.json")).unwrap();
    assert!(miners[..hostile.len()]
        .iter()
        .all(|m| m.pat == Pat::Invalid));

    let hub = FakeHub::start(
        snapshot("good-token", 9, vec![], vec![]),
        Duration::ZERO,
        None,
    )
    .unwrap();
    hub.set_recording(true);
    let ctx = empty_ctx();
    let report = runtime().block_on(run_round(
        fast_client(&hub.url()),
        miners,
        ctx,
        RoundOptions::default(),
        Cancel::new(),
        RoundExtras::default(),
    ));
    for uid in 1..=hostile.len() as u16 {
        assert_eq!(
            report.evaluations[&uid].failed_reason.as_deref(),
            Some(format!("No Github id found for miner {uid}'s PAT").as_str())
        );
    }
    // Only the good miner's requests reached the server.
    let seen = hub.requests();
    assert!(!seen.is_empty());
    assert!(seen.iter().all(|r| r
        .authorization
        .as_deref()
        .is_some_and(|a| a.ends_with("good-token"))));
    // And no hostile text made it into the report.
    let text = serde_json::to_string(&report).unwrap();
    assert!(!text.contains("X-Injected") && !text.contains("xxxxxxxxxx"));
}

fn check_rejected(entries: Value, says: &str) {
    let err = parse_miners(&entries.to_string(), Path::new("miners.json")).unwrap_err();
    assert!(err.to_string().starts_with("miners.json: "), "{err}");
    assert!(err.to_string().contains(says), "{err}");
}

#[test]
fn odd_uids_and_shapes_are_clear_errors() {
    check_rejected(json!([{"uid": 65536}]), "entry 0: uid 65536 out of range");
    check_rejected(json!([{"uid": -1}]), "entry 0: expected");
    check_rejected(json!([{"uid": "7"}]), "entry 0: expected");
    check_rejected(json!([{"uid": 1}, {"uid": 1}]), "entry 1: duplicate uid 1");
    check_rejected(json!([{"hotkey": "x"}]), "entry 0: expected");
    check_rejected(
        json!([{"uid": 1, "github_access_token": 5}]),
        "entry 0: expected",
    );
    check_rejected(json!({"uid": 1}), "not a json list");
    // A typo in a field name is caught rather than read as "no PAT".
    check_rejected(
        json!([{"uid": 1, "github_acess_token": "x"}]),
        "entry 0: expected",
    );
}

#[test]
fn ten_thousand_miners_are_one_round() {
    let entries: Vec<Value> = (0..10_000u32)
        .map(|uid| match uid % 3 {
            0 => json!({"uid": uid}),
            1 => json!({"uid": uid, "hotkey": format!("hk{uid}")}),
            _ => json!({"uid": uid, "hotkey": format!("hk{uid}"), "github_access_token": "unknown-token"}),
        })
        .collect();
    let miners = parse_miners(&miners_text(&entries), Path::new("m.json")).unwrap();
    assert_eq!(miners.len(), 10_000);
    let hub = FakeHub::start(
        gittensor_validator::replay::Snapshot::default(),
        Duration::ZERO,
        None,
    )
    .unwrap();
    let ctx = empty_ctx();
    let options = RoundOptions {
        concurrency: 64,
        ..RoundOptions::default()
    };
    let report = runtime().block_on(run_round(
        fast_client(&hub.url()),
        miners,
        ctx,
        options,
        Cancel::new(),
        RoundExtras::default(),
    ));
    assert_eq!(report.rewards.len(), 10_000);
    assert_eq!(report.rewards[&0], 1.0);
    assert_eq!(
        report.evaluations[&2].failed_reason.as_deref(),
        Some("No Github id found for miner 2's PAT")
    );
    // One cached-nothing /user per PAT miner: the 401 is not cached.
    assert_eq!(report.stats.github_requests, 3333);
}
