//! The fault matrix: one miner's GitHub answers go wrong in one way; the
//! round completes, that miner gets what SCORING.md implies, and every other
//! miner's own evaluation is the same as in a fault-free round.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gittensor_validator::cancel::Cancel;
use gittensor_validator::github::Client;
use gittensor_validator::metagraph::MinerInput;
use gittensor_validator::pipeline::{run_round, RoundExtras, RoundOptions};
use gittensor_validator::replay::Snapshot;
use gittensor_validator::scoring::{MasterRepositories, RoundContext, RoundReport};
use gittensor_validator::testkit::fakehub::{FakeHub, Fault, RequestInfo, Response};
use gittensor_validator::token::Pat;
use serde_json::{json, Value};

use crate::util::{fast_config, faults, file_entry, pr_node, runtime, user, NOW};

const VICTIM: &str = "victim-token";

fn world() -> (Snapshot, Vec<MinerInput>) {
    let mut s = Snapshot::default();
    let mut miners = Vec::new();
    for (uid, token, repo) in [
        (1u16, "peer-one", "acme/widgets"),
        (2, VICTIM, "beta/gizmo"),
        (3, "peer-three", "acme/widgets"),
    ] {
        let id = 100 + u64::from(uid);
        s.users.insert(token.into(), user(id));
        let prs = (1..=2)
            .map(|k| pr_node(repo, u64::from(uid) * 10 + k, json!({})))
            .collect();
        s.pull_requests.insert(id.to_string(), prs);
        for k in 1..=2 {
            let n = u64::from(uid) * 10 + k;
            s.files.insert(
                format!("{repo}#{n}"),
                vec![file_entry("src/a.rs", 10 * k as i64, None)],
            );
        }
        miners.push(MinerInput {
            uid,
            hotkey: Some(format!("hk{uid}")),
            pat: Pat::from_text(Some(token)),
        });
    }
    (s, miners)
}

fn ctx() -> Arc<RoundContext> {
    Arc::new(RoundContext {
        repos: MasterRepositories::parse(
            r#"{"acme/widgets": {"weight": 1}, "beta/gizmo": {"weight": 2}}"#,
            "t",
        )
        .unwrap(),
        languages: Default::default(),
        now: NOW,
    })
}

fn round(f: Option<gittensor_validator::testkit::fakehub::FaultFn>) -> RoundReport {
    let (snap, miners) = world();
    let hub = FakeHub::start(snap, Duration::ZERO, f).unwrap();
    let client = Client::new(
        fast_config(&hub.url())
            .timeout(Duration::from_millis(300))
            .max_retries(2)
            .build(),
    );
    runtime().block_on(run_round(
        client,
        miners,
        ctx(),
        RoundOptions::default(),
        Cancel::new(),
        RoundExtras::default(),
    ))
}

/// What a miner's evaluation says before the cross-miner steps of §9 (the
/// uniqueness multiplier and totals depend on who else contributed).
fn own(report: &RoundReport, uid: u16) -> Value {
    let mut v = serde_json::to_value(&report.evaluations[&uid]).unwrap();
    for key in ["total_score", "base_total_score", "total_lines_changed"] {
        v.as_object_mut().unwrap().remove(key);
    }
    for pr in v["pull_requests"].as_array_mut().unwrap() {
        for key in ["repository_uniqueness_multiplier", "earned_score"] {
            pr.as_object_mut().unwrap().remove(key);
        }
    }
    v
}

fn is_victim(r: &RequestInfo) -> bool {
    r.authorization
        .as_deref()
        .is_some_and(|a| a.ends_with(VICTIM))
}

fn is_graphql_page(r: &RequestInfo, cursor: Value) -> bool {
    serde_json::from_str::<Value>(&r.body).is_ok_and(|b| b["variables"]["cursor"] == cursor)
}

/// Fault only the victim's requests on `path_part`, the first `times` times.
fn victim_fault(
    path_part: &'static str,
    times: usize,
    fault: Fault,
) -> Option<gittensor_validator::testkit::fakehub::FaultFn> {
    let n = Arc::new(AtomicUsize::new(0));
    faults(move |r| {
        (is_victim(r) && r.path.contains(path_part) && n.fetch_add(1, Ordering::SeqCst) < times)
            .then(|| fault.clone())
    })
}

/// What the victim should end with.
enum Expect {
    /// The same as without the fault (a retry healed it).
    Baseline,
    /// Failed with this reason.
    Failed(&'static str),
    /// Validated, but no pull requests (paging stopped before any).
    NoPullRequests,
    /// PR `n` is kept with no files: base 0, multipliers at 1.
    NoFilesFor(u64),
}

fn check(name: &str, f: Option<gittensor_validator::testkit::fakehub::FaultFn>, expect: Expect) {
    let clean = round(None);
    let faulty = round(f);
    for uid in [1, 3] {
        assert_eq!(
            own(&faulty, uid),
            own(&clean, uid),
            "{name}: uid {uid} changed"
        );
    }
    let victim = &faulty.evaluations[&2];
    match expect {
        Expect::Baseline => assert_eq!(
            serde_json::to_value(&faulty).unwrap()["evaluations"],
            serde_json::to_value(&clean).unwrap()["evaluations"],
            "{name}"
        ),
        Expect::Failed(reason) => {
            assert_eq!(victim.failed_reason.as_deref(), Some(reason), "{name}");
            assert_eq!(faulty.rewards[&2], 0.0, "{name}");
        }
        Expect::NoPullRequests => {
            assert_eq!(victim.failed_reason, None, "{name}");
            assert!(victim.pull_requests.is_empty(), "{name}");
            assert_eq!(faulty.rewards[&2], 0.0, "{name}");
        }
        Expect::NoFilesFor(n) => {
            let pr = victim.pull_requests.iter().find(|p| p.number == n).unwrap();
            assert_eq!(
                (pr.file_count, pr.base_score, pr.repo_weight_multiplier),
                (0, 0.0, 1.0),
                "{name}"
            );
            let other = victim.pull_requests.iter().find(|p| p.number != n).unwrap();
            assert!(other.base_score > 0.0, "{name}");
        }
    }
    let sum: f64 = faulty.rewards.values().sum();
    assert!((sum - 1.0).abs() < 1e-9, "{name}: rewards sum to {sum}");
}

fn status(code: u16) -> Fault {
    Fault::Respond(Response::json(code, &json!({"message": "fault"})))
}

const NO_ID: &str = "No Github id found for miner 2's PAT";

#[test]
fn gateway_errors_once_are_healed_by_a_retry() {
    for code in [502, 503, 504] {
        check(
            &format!("{code} once on /user"),
            victim_fault("/user", 1, status(code)),
            Expect::Baseline,
        );
        check(
            &format!("{code} once on files"),
            victim_fault("/files", 1, status(code)),
            Expect::Baseline,
        );
    }
    // A GraphQL 502/504 is retried at half the page size: same PRs.
    check(
        "504 once on graphql",
        victim_fault("/graphql", 1, status(504)),
        Expect::Baseline,
    );
    check(
        "503 once on graphql",
        victim_fault("/graphql", 1, status(503)),
        Expect::Baseline,
    );
}

#[test]
fn gateway_errors_that_persist_fail_that_call_only() {
    check(
        "502 always on /user",
        victim_fault("/user", usize::MAX, status(502)),
        Expect::Failed(NO_ID),
    );
    check(
        "503 always on graphql",
        victim_fault("/graphql", usize::MAX, status(503)),
        Expect::NoPullRequests,
    );
    check(
        "503 always on files of #21",
        victim_fault("/pulls/21/files", usize::MAX, status(503)),
        Expect::NoFilesFor(21),
    );
}

#[test]
fn resets_and_timeouts() {
    check(
        "reset once on /user",
        victim_fault("/user", 1, Fault::Reset),
        Expect::Baseline,
    );
    check(
        "reset always on /user",
        victim_fault("/user", usize::MAX, Fault::Reset),
        Expect::Failed(NO_ID),
    );
    check(
        "truncated files once",
        victim_fault("/files", 1, Fault::Truncate),
        Expect::Baseline,
    );
    let stall = Fault::Stall(Duration::from_millis(1500));
    check(
        "no answer on files of #22",
        victim_fault("/pulls/22/files", usize::MAX, stall.clone()),
        Expect::NoFilesFor(22),
    );
    check(
        "no answer once on graphql",
        victim_fault("/graphql", 1, stall),
        Expect::Baseline,
    );
}

#[test]
fn rate_limits_are_waited_out() {
    let limited = |code| {
        Fault::Respond(
            Response::json(code, &json!({"message": "slow down"})).header("retry-after", "1"),
        )
    };
    check(
        "429 with retry-after once",
        victim_fault("/user", 1, limited(429)),
        Expect::Baseline,
    );
    check(
        "403 with retry-after once",
        victim_fault("/graphql", 1, limited(403)),
        Expect::Baseline,
    );
}

#[test]
fn refusals_are_final() {
    check(
        "401 on /user",
        victim_fault("/user", usize::MAX, status(401)),
        Expect::Failed(NO_ID),
    );
    check(
        "404 on files of #21",
        victim_fault("/pulls/21/files", usize::MAX, status(404)),
        Expect::NoFilesFor(21),
    );
    check(
        "401 on graphql",
        victim_fault("/graphql", usize::MAX, status(401)),
        Expect::NoPullRequests,
    );
}

#[test]
fn odd_graphql_answers_stop_paging_without_harm() {
    let body = |v: Value| Fault::Respond(Response::json(200, &v));
    let partial = json!({"data": {"node": {"pullRequests": {"pageInfo": {"hasNextPage": false, "endCursor": null},
        "nodes": [pr_node("beta/gizmo", 21, json!({}))]}}}, "errors": [{"type": "SOMETHING", "message": "partial"}]});
    check(
        "errors with partial data",
        victim_fault("/graphql", usize::MAX, body(partial)),
        Expect::NoPullRequests,
    );
    check(
        "node null",
        victim_fault(
            "/graphql",
            usize::MAX,
            body(json!({"data": {"node": null}})),
        ),
        Expect::NoPullRequests,
    );
    let garbage = Fault::Respond(Response {
        status: 200,
        headers: vec![],
        body: b"<html>oops".to_vec(),
    });
    check(
        "malformed json",
        victim_fault("/graphql", usize::MAX, garbage),
        Expect::NoPullRequests,
    );
    let garbage = Fault::Respond(Response {
        status: 200,
        headers: vec![],
        body: b"{\"message\": 1}".to_vec(),
    });
    check(
        "files answer not a list",
        victim_fault("/pulls/21/files", usize::MAX, garbage),
        Expect::NoFilesFor(21),
    );
}

#[test]
fn a_body_over_the_limit_fails_that_call() {
    let big = Fault::Respond(Response {
        status: 200,
        headers: vec![],
        body: vec![b' '; 20 << 20],
    });
    check(
        "huge files answer",
        victim_fault("/pulls/22/files", usize::MAX, big),
        Expect::NoFilesFor(22),
    );
}

#[test]
fn a_cursor_that_loops_back_stops_paging() {
    // Page 1 holds #21 and points to "loop"; the "loop" page holds #22 and
    // points to "loop" again. Both pages count; the third is never asked.
    let page = |n: u64| {
        json!({"data": {"node": {"pullRequests": {"pageInfo": {"hasNextPage": true, "endCursor": "loop"},
            "nodes": [pr_node("beta/gizmo", n, json!({}))]}}}})
    };
    let f = faults(move |r| {
        if !is_victim(r) || r.path != "/graphql" {
            return None;
        }
        let n = if is_graphql_page(r, Value::Null) {
            21
        } else {
            22
        };
        Some(Fault::Respond(Response::json(200, &page(n))))
    });
    let report = round(f);
    let numbers: Vec<u64> = report.evaluations[&2]
        .pull_requests
        .iter()
        .map(|p| p.number)
        .collect();
    assert_eq!(numbers, vec![21, 22]);
}
