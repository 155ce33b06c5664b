//! The round: async and blocking, deadlines, cancellation, one PAT serial.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gittensor_validator::cancel::Cancel;
use gittensor_validator::github::Client;
use gittensor_validator::inputs::parse_miners;
use gittensor_validator::metagraph::MinerInput;
use gittensor_validator::pipeline::{
    run_round, run_round_blocking, score_pull_requests, RoundExtras, RoundOptions,
};
use gittensor_validator::scoring::{RoundReport, RoundStats};
use gittensor_validator::testkit::fakehub::{FakeHub, Fault};
use gittensor_validator::token::Pat;
use serde_json::json;

use crate::util::{fast_client, faults, file_entry, pr_node, runtime, sample, snapshot};

fn without_stats(mut r: RoundReport) -> RoundReport {
    r.stats = RoundStats::default();
    r
}

fn miner(uid: u16, token: &str) -> MinerInput {
    MinerInput {
        uid,
        hotkey: Some(format!("hk{uid}")),
        pat: Pat::from_text(Some(token)),
    }
}

#[test]
fn sync_facade_and_async_round_give_identical_reports() {
    let (snap, miners_text, ctx) = sample();
    let miners = parse_miners(&miners_text, Path::new("sample/miners.json")).unwrap();
    let hub = FakeHub::start(snap, Duration::ZERO, None).unwrap();

    let sync = run_round_blocking(
        &fast_client(&hub.url()),
        &miners,
        &ctx,
        &Cancel::new(),
        &RoundExtras::default(),
    );
    let options = RoundOptions {
        concurrency: 4,
        ..RoundOptions::default()
    };
    let async_report = runtime().block_on(run_round(
        fast_client(&hub.url()),
        miners.clone(),
        Arc::new(ctx.clone()),
        options,
        Cancel::new(),
        RoundExtras::default(),
    ));
    assert_eq!(
        sync.stats.github_requests,
        async_report.stats.github_requests
    );
    let (sync, async_report) = (without_stats(sync), without_stats(async_report));
    assert_eq!(
        serde_json::to_string(&sync).unwrap(),
        serde_json::to_string(&async_report).unwrap()
    );
    // And it scored something: the sample pays miners 1, 2 and 10.
    for uid in [1, 2, 10] {
        assert!(sync.rewards[&uid] > 0.0, "uid {uid}");
    }
    assert!((sync.rewards.values().sum::<f64>() - 1.0).abs() < 1e-12);
}

#[test]
fn score_pull_requests_scores_one_miner_without_a_runtime() {
    let (snap, _, ctx) = sample();
    let hub = FakeHub::start(snap, Duration::ZERO, None).unwrap();
    let e = score_pull_requests(
        &fast_client(&hub.url()),
        &miner(1, "demo-token-alice"),
        &ctx,
    );
    assert_eq!(e.github_id, "1001");
    assert_eq!(e.failed_reason, None);
    assert_eq!(e.pull_requests.len(), 2);
    assert!(e.pull_requests.iter().all(|p| p.base_score > 0.0));
}

/// How long uid 2's requests hang (under the client's 5 s timeout, so the
/// answer does come): a round that waited for it would take this long.
const STUCK: Duration = Duration::from_secs(4);

/// Two miners: uid 1 answers normally, uid 2's requests hang.
fn one_stuck_miner() -> (FakeHub, Vec<MinerInput>) {
    let mut snap = snapshot(
        "good",
        1,
        vec![pr_node("acme/widgets", 1, json!({}))],
        vec![("acme/widgets#1", vec![file_entry("src/a.rs", 5, None)])],
    );
    snap.users.insert("stuck".into(), crate::util::user(2));
    let f = faults(|r| {
        (r.authorization.as_deref() == Some("token stuck")).then_some(Fault::Stall(STUCK))
    });
    (
        FakeHub::start(snap, Duration::ZERO, f).unwrap(),
        vec![miner(1, "good"), miner(2, "stuck")],
    )
}

/// Runs the async round and times it inside the runtime: dropping a runtime
/// waits for a stuck blocking thread, which is not the round's time.
fn timed_round(
    hub: &FakeHub,
    miners: Vec<MinerInput>,
    options: RoundOptions,
    cancel: Cancel,
) -> (RoundReport, Duration) {
    runtime().block_on(async {
        let started = Instant::now();
        let r = run_round(
            fast_client(&hub.url()),
            miners,
            ctx(),
            options,
            cancel,
            RoundExtras::default(),
        )
        .await;
        (r, started.elapsed())
    })
}

fn ctx() -> Arc<gittensor_validator::scoring::RoundContext> {
    Arc::new(crate::util::widgets_ctx())
}

#[test]
fn a_miner_past_its_deadline_fails_and_the_round_goes_on() {
    let (hub, miners) = one_stuck_miner();
    let options = RoundOptions {
        miner_timeout: Duration::from_millis(300),
        ..RoundOptions::default()
    };
    let (report, took) = timed_round(&hub, miners, options, Cancel::new());
    assert!(took < STUCK, "{took:?}");
    assert_eq!(
        report.evaluations[&2].failed_reason.as_deref(),
        Some("Evaluation of miner 2 timed out after 0.3s")
    );
    assert_eq!(report.evaluations[&1].failed_reason, None);
    assert!(report.rewards[&1] > 0.0);
    assert_eq!(report.stats.miners_timed_out, 1);
}

#[test]
fn a_stuck_miner_does_not_change_another_miners_result() {
    let (hub, miners) = one_stuck_miner();
    let options = RoundOptions {
        miner_timeout: Duration::from_millis(300),
        ..RoundOptions::default()
    };
    let with_stuck = runtime().block_on(run_round(
        fast_client(&hub.url()),
        miners.clone(),
        ctx(),
        options,
        Cancel::new(),
        RoundExtras::default(),
    ));
    let alone = runtime().block_on(run_round(
        fast_client(&hub.url()),
        vec![miners[0].clone()],
        ctx(),
        options,
        Cancel::new(),
        RoundExtras::default(),
    ));
    assert_eq!(
        serde_json::to_string(&with_stuck.evaluations[&1]).unwrap(),
        serde_json::to_string(&alone.evaluations[&1]).unwrap()
    );
}

#[test]
fn cancelling_the_round_ends_every_miner_quickly() {
    let (hub, miners) = one_stuck_miner();
    let cancel = Cancel::new();
    let c2 = cancel.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        c2.cancel();
    });
    let (report, took) = timed_round(&hub, miners, RoundOptions::default(), cancel);
    // The stalled request itself runs on (up to its timeout), but the round
    // does not wait for it: the miner's deadline future is dropped at once.
    assert!(took < STUCK, "{took:?}");
    assert_eq!(
        report.evaluations[&2].failed_reason.as_deref(),
        Some("Evaluation of miner 2 was cancelled")
    );
}

#[test]
fn requests_with_one_pat_stay_serial() {
    // Four uids share one token (and two more have their own): the server
    // tracks how many requests of each token are in flight at once.
    let mut snap = snapshot(
        "shared",
        1,
        (1..=3)
            .map(|i| pr_node("acme/widgets", i, json!({})))
            .collect(),
        vec![],
    );
    for i in 1..=3 {
        snap.files.insert(
            format!("acme/widgets#{i}"),
            vec![file_entry("src/a.rs", 5, None)],
        );
    }
    snap.users.insert("own-a".into(), crate::util::user(2));
    snap.users.insert("own-b".into(), crate::util::user(3));
    let in_flight: Arc<Mutex<HashMap<String, (usize, usize)>>> = Arc::default();
    // Each request's token and when it was served, start to end.
    let served: Arc<Mutex<Vec<(String, Instant, Instant)>>> = Arc::default();
    let (track, log) = (in_flight.clone(), served.clone());
    let f = faults(move |r| {
        let key = r.authorization.clone().unwrap_or_default();
        let start = Instant::now();
        {
            let mut m = track.lock().unwrap();
            let e = m.entry(key.clone()).or_default();
            e.0 += 1;
            e.1 = e.1.max(e.0);
        }
        std::thread::sleep(Duration::from_millis(20));
        track.lock().unwrap().get_mut(&key).unwrap().0 -= 1;
        log.lock().unwrap().push((key, start, Instant::now()));
        None
    });
    let hub = FakeHub::start(snap, Duration::ZERO, f).unwrap();
    let miners = vec![
        miner(1, "shared"),
        miner(2, "shared"),
        miner(3, "shared"),
        miner(4, "shared"),
        miner(5, "own-a"),
        miner(6, "own-b"),
    ];
    let options = RoundOptions {
        concurrency: 6,
        ..RoundOptions::default()
    };
    let client: Client = fast_client(&hub.url());
    let report = runtime().block_on(run_round(
        client,
        miners,
        ctx(),
        options,
        Cancel::new(),
        RoundExtras::default(),
    ));
    let peaks = in_flight.lock().unwrap().clone();
    for auth in ["shared", "own-a", "own-b"] {
        let peak = peaks
            .iter()
            .filter(|(k, _)| k.ends_with(auth))
            .map(|(_, v)| v.1)
            .max()
            .unwrap();
        assert_eq!(peak, 1, "{auth}: {peaks:?}");
    }
    // ... while different PATs did run at the same time: two requests of
    // different tokens were served in overlapping intervals.
    let served = served.lock().unwrap().clone();
    let overlapping = served.iter().any(|(a, a_start, a_end)| {
        served
            .iter()
            .any(|(b, b_start, b_end)| a != b && a_start < b_end && b_start < a_end)
    });
    assert!(overlapping, "no two tokens served at once: {served:?}");
    // The shared account is a duplicate across uids 1-4.
    assert!(report.evaluations[&1]
        .failed_reason
        .as_deref()
        .unwrap()
        .starts_with("Duplicate"));
}

#[test]
fn a_recorded_round_replays_to_the_same_report() {
    let (snap, miners_text, ctx) = sample();
    let miners = parse_miners(&miners_text, Path::new("sample/miners.json")).unwrap();
    // A fault while recording: bob's PR #12 has no files for this round.
    let f = faults(|r| {
        r.path.contains("/pulls/12/files").then(|| {
            Fault::Respond(gittensor_validator::testkit::fakehub::Response::json(
                404,
                &json!({}),
            ))
        })
    });
    let hub = FakeHub::start(snap, Duration::ZERO, f).unwrap();
    let recorder = Arc::new(gittensor_validator::pipeline::Recorder::new());
    let rt = runtime();
    let recorded = rt.block_on(run_round(
        fast_client(&hub.url()),
        miners,
        Arc::new(ctx.clone()),
        RoundOptions::default(),
        Cancel::new(),
        RoundExtras {
            recorder: Some(recorder.clone()),
            ..RoundExtras::default()
        },
    ));
    let (snapshot, replay_miners) = recorder.finish();
    let text = format!(
        "{} {}",
        serde_json::to_string(&snapshot).unwrap(),
        replay_miners
    );
    assert!(!text.contains("demo-token"), "a PAT was recorded");

    let replay_hub = FakeHub::start(snapshot, Duration::ZERO, None).unwrap();
    let replay_miners = parse_miners(
        &replay_miners.to_string(),
        Path::new("recorded/miners.json"),
    )
    .unwrap();
    let replayed = rt.block_on(run_round(
        fast_client(&replay_hub.url()),
        replay_miners,
        Arc::new(ctx),
        RoundOptions::default(),
        Cancel::new(),
        RoundExtras::default(),
    ));
    assert_eq!(
        serde_json::to_string(&without_stats(recorded.clone())).unwrap(),
        serde_json::to_string(&without_stats(replayed)).unwrap()
    );
    // The fault is part of what was recorded.
    let bob = &recorded.evaluations[&2];
    assert_eq!(
        bob.pull_requests
            .iter()
            .find(|p| p.number == 12)
            .unwrap()
            .file_count,
        0
    );
}

#[test]
fn a_round_deadline_cancels_the_miners_still_running() {
    let (hub, miners) = one_stuck_miner();
    let options = RoundOptions {
        round_timeout: Some(Duration::from_millis(300)),
        ..RoundOptions::default()
    };
    let (report, took) = timed_round(&hub, miners, options, Cancel::new());
    assert!(took < STUCK, "{took:?}");
    assert_eq!(
        report.evaluations[&2].failed_reason.as_deref(),
        Some("Evaluation of miner 2 was cancelled")
    );
    assert_eq!(report.evaluations[&1].failed_reason, None);
    assert!(report.rewards[&1] > 0.0);
}
