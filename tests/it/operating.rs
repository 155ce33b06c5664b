//! Operating it unattended (INTERFACE.md "Operating", SCORING.md §11.9.6
//! and §11.9.7): weight tables refused and re-read, rounds that failed on
//! the validator's side discarded, SIGTERM, `/healthz` and `/readyz`, the
//! `.env` habits. Every test drives the binary as a supervisor would and
//! waits on what the process says (a log line), never on a sleep.

use std::sync::Arc;
use std::time::{Duration, Instant};

use gittensor_validator::fakehub::{FakeHub, Fault, Response};
use serde_json::{json, Value};

use crate::axons::Subnet;
use crate::cli::{round_snapshot, run, token, Inputs};
use crate::util::{ClosedPort, Running};
use crate::validate::{get, validate_args};

fn read(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Upstream's later format: entries are objects where 2.0.7 has numbers.
const LATER_LANGUAGES: &str = r#"{"rs": {"weight": 1.5, "language": "rust"}}"#;
const LATER_REPOSITORIES: &str = r#"{"acme/widgets": {"emission_share": 0.3, "tier": "gold"}}"#;

fn check_refused_at_start(write: &[(&str, &str)], names: &str, says: &str) {
    let inputs = Inputs::new(2);
    for (file, text) in write {
        std::fs::write(inputs.path(file), text).unwrap();
    }
    let hub = FakeHub::start(round_snapshot(2), Duration::ZERO, None).unwrap();
    hub.set_recording(true);
    for args in [
        inputs.score_args(&hub.url(), &[]),
        inputs.run_args(&hub.url(), &inputs.path("state"), &["--rounds", "1"]),
    ] {
        let out = run(&args, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        let path = inputs.path(names).display().to_string();
        assert!(stderr.contains(&path) && stderr.contains(says), "{stderr}");
        assert!(
            hub.requests().is_empty(),
            "asked GitHub with a refused table"
        );
        assert!(!inputs.path("state").join("state.json").exists());
    }
}

#[test]
fn s11_9_6_a_table_that_is_not_2_0_7s_is_refused_at_start_with_exit_2() {
    check_refused_at_start(
        &[("langs.json", LATER_LANGUAGES)],
        "langs.json",
        "\"rs\": an object, not a number",
    );
    check_refused_at_start(
        &[("repos.json", LATER_REPOSITORIES)],
        "repos.json",
        "a table of a later gittensor release",
    );
    check_refused_at_start(&[("repos.json", "{}")], "repos.json", "no entries");
    check_refused_at_start(
        &[("langs.json", "[1.5]")],
        "langs.json",
        "not a json object",
    );
}

#[test]
fn s11_9_6_run_reads_the_tables_at_every_round_keeping_the_last_good_ones() {
    let hub = FakeHub::start(round_snapshot(2), Duration::ZERO, None).unwrap();
    let inputs = Inputs::new(2);
    let state = inputs.path("state");
    let args = inputs.run_args(
        &hub.url(),
        &state,
        &[
            "--rounds",
            "3",
            "--interval",
            "1s",
            "--health-addr",
            "127.0.0.1:0",
        ],
    );
    let mut p = Running::start(&args, &[]);
    p.wait_for("tables: 1 repositories");
    let addr = p.health_addr();
    p.wait_for("next round in");
    // Round 2: the languages file is overwritten with a later release's.
    std::fs::write(inputs.path("langs.json"), LATER_LANGUAGES).unwrap();
    let refused = p.wait_for("language weights refused");
    assert!(
        refused.contains("langs.json") && refused.contains("the last good table stays in use"),
        "{refused}"
    );
    p.wait_for("next round in");
    let ready: Value = serde_json::from_str(&get(addr, "/readyz").unwrap()).unwrap();
    let problems = ready["problems"].to_string();
    assert!(
        problems.contains("language weights table refused"),
        "{ready}"
    );
    assert_eq!(
        read(&state.join("report.json"))["evaluations"]["1"]["pull_requests"][0]
            ["repo_weight_multiplier"],
        1.0
    );
    // Round 3: mended, and the repository re-weighted.
    std::fs::write(inputs.path("langs.json"), r#"{"rs": 1.5}"#).unwrap();
    std::fs::write(
        inputs.path("repos.json"),
        r#"{"acme/widgets": {"weight": 2.0}, "acme/gadgets": {"weight": 1.0}}"#,
    )
    .unwrap();
    let changed = p.wait_for("master repositories");
    assert!(
        changed.contains(
            "changed: 1 added (\"acme/gadgets\"), 0 removed, 1 re-weighted (\"acme/widgets\")"
        ) && changed.contains("sha256"),
        "{changed}"
    );
    p.wait_for("language weights /");
    let (code, said) = p.finish();
    assert_eq!(code, Some(0), "{said}");
    assert!(said.contains("readable again (was refused"), "{said}");
    assert_eq!(
        read(&state.join("report.json"))["evaluations"]["1"]["pull_requests"][0]
            ["repo_weight_multiplier"],
        2.0
    );
}

#[test]
fn s11_9_7_score_says_when_github_cannot_be_reached_and_exits_1() {
    let inputs = Inputs::new(3);
    let closed = ClosedPort::new();
    let api = closed.url("http");
    let report = inputs.path("report.json");
    let out = run(
        &inputs.score_args(
            &api,
            &[
                "--report",
                &report.display().to_string(),
                "--miner-timeout",
                "20s",
            ],
        ),
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("GitHub at {api} failed for 3 of 3 miners")),
        "{stderr}"
    );
    let report = read(&report);
    assert!(report["discarded"].as_str().unwrap().contains(&api));
    assert_eq!(report["stats"]["validator_faults"], 3);
    assert!(report["evaluations"]["1"]["validator_fault"]
        .as_str()
        .unwrap()
        .contains("GET /user"));
}

/// A hub that answers 502 to `/user` for the first `failing` tokens.
fn half_down(miners: u16, failing: u16) -> FakeHub {
    let down: Vec<String> = (1..=failing).map(token).collect();
    let faults = Arc::new(move |info: &gittensor_validator::fakehub::RequestInfo| {
        let auth = info.authorization.as_deref().unwrap_or_default();
        (info.path == "/user" && down.iter().any(|t| auth.ends_with(t.as_str())))
            .then(|| Fault::Respond(Response::json(502, &json!({"message": "Server Error"}))))
    });
    FakeHub::start(round_snapshot(miners), Duration::ZERO, Some(faults)).unwrap()
}

#[test]
fn s11_9_7_a_few_miners_failing_on_our_side_fold_as_2_0_7_folds_them() {
    let inputs = Inputs::new(5);
    let hub = half_down(5, 1);
    let state = inputs.path("state");
    let out = run(
        &inputs.run_args(&hub.url(), &state, &["--rounds", "1"]),
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("1 of 5 miners failed on the validator's side"),
        "{stderr}"
    );
    let saved = read(&state.join("state.json"));
    assert_eq!(saved["rounds"], 1);
    assert_eq!(read(&state.join("report.json"))["rewards"]["1"], 0.0);
}

#[test]
fn s11_9_7_run_discards_a_round_github_half_fails_and_keeps_the_state() {
    let inputs = Inputs::new(4);
    let state = inputs.path("state");
    let good = FakeHub::start(round_snapshot(4), Duration::ZERO, None).unwrap();
    crate::cli::run_ok(
        &inputs.run_args(&good.url(), &state, &["--rounds", "1"]),
        &[],
    );
    let before = std::fs::read_to_string(state.join("state.json")).unwrap();
    let weights = std::fs::read_to_string(state.join("weights.json")).unwrap();
    // 2 of 4 miners cannot be read: above the 25 % threshold.
    let hub = half_down(4, 2);
    let args = inputs.run_args(
        &hub.url(),
        &state,
        &["--interval", "1h", "--health-addr", "127.0.0.1:0"],
    );
    let mut p = Running::start(&args, &[]);
    let addr = p.health_addr();
    let line = p.wait_for("round discarded");
    assert!(
        line.contains(&format!("GitHub at {} failed for 2 of 4 miners", hub.url())),
        "{line}"
    );
    p.wait_for("next round in");
    let ready = get(addr, "/readyz").unwrap();
    assert!(ready.contains("the last round was discarded"), "{ready}");
    let health: Value = serde_json::from_str(&get(addr, "/healthz").unwrap()).unwrap();
    assert_eq!(health["problems"], json!([]), "{health}");
    // SIGTERM between rounds: a clean exit at once.
    let started = Instant::now();
    p.signal("TERM");
    let (code, said) = p.finish();
    assert_eq!(code, Some(0), "{said}");
    assert!(started.elapsed() < Duration::from_secs(5), "{said}");
    assert!(said.contains("SIGTERM between rounds"), "{said}");
    assert_eq!(
        std::fs::read_to_string(state.join("state.json")).unwrap(),
        before
    );
    assert_eq!(
        std::fs::read_to_string(state.join("weights.json")).unwrap(),
        weights
    );
    assert!(read(&state.join("report.json"))["discarded"].is_string());
}

#[test]
fn sigterm_during_a_run_round_discards_it_and_exits_0() {
    let inputs = Inputs::new(3);
    let state = inputs.path("state");
    let slow = FakeHub::start(round_snapshot(3), Duration::from_secs(3), None).unwrap();
    let mut p = Running::start(
        &inputs.run_args(&slow.url(), &state, &["--rounds", "1"]),
        &[],
    );
    p.wait_for("round 1 starting");
    let started = Instant::now();
    p.signal("TERM");
    let (code, said) = p.finish();
    assert_eq!(code, Some(0), "{said}");
    assert!(started.elapsed() < Duration::from_secs(5), "{said}");
    assert!(said.contains("SIGTERM: stopping"), "{said}");
    assert!(
        said.contains("discarded and the saved state is unchanged"),
        "{said}"
    );
    assert!(!state.join("state.json").exists());
}

#[test]
fn validate_saves_a_finished_round_before_it_waits() {
    let net = Subnet::new(2);
    let state = net.path("state");
    // A long step: the round is over long before the step ends.
    let mut args = validate_args(&net, &state, &[]);
    let at = args.iter().position(|a| a == "--step-interval").unwrap();
    args[at + 1] = "1h".into();
    let mut p = Running::start(&args, &[]);
    p.wait_for("step 0: ");
    p.wait_for("step 0: ");
    let started = Instant::now();
    p.signal("TERM");
    let (code, said) = p.finish();
    assert_eq!(code, Some(0), "{said}");
    assert!(started.elapsed() < Duration::from_secs(5), "{said}");
    assert!(said.contains("SIGTERM between steps"), "{said}");
    let saved = read(&state.join("state.json"));
    assert_eq!(saved["rounds"], 1, "{said}");
}

#[test]
fn empty_environment_variables_mean_not_set() {
    let net = Subnet::new(1);
    let state = net.path("state");
    // As upstream's .env.example leaves them: all empty.
    let empty = [
        ("SUBTENSOR_CHAIN_ENDPOINT", ""),
        ("SUBTENSOR_NETWORK", ""),
        ("NETUID", ""),
        ("WALLET_PATH", " "),
    ];
    let out = run(&validate_args(&net, &state, &["--rounds", "1"]), &empty);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // WALLET_NAME= is the default wallet, not a wallet named "".
    let mut args = validate_args(&net, &state, &["--rounds", "1"]);
    let at = args.iter().position(|a| a == "--wallet.name").unwrap();
    args.drain(at..at + 2);
    let out = run(&args, &[("WALLET_NAME", "")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("/default/hotkeys/hk"), "{stderr}");
}

#[test]
fn chain_and_health_addresses_are_checked_as_an_operator_writes_them() {
    let net = Subnet::new(1);
    let state = net.path("state");
    let mut args = validate_args(
        &net,
        &state,
        &["--subtensor.chain_endpoint", "http://127.0.0.1:9944"],
    );
    let at = args.iter().position(|a| a == "--metagraph").unwrap();
    args.drain(at..at + 2);
    let out = run(&args, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--subtensor.chain_endpoint \"http://127.0.0.1:9944\"")
            && stderr.contains("ws://"),
        "{stderr}"
    );
    let out = run(
        &validate_args(
            &net,
            &state,
            &["--rounds", "1", "--health-addr", "localhost:0"],
        ),
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("/readyz and /metrics on 127.0.0.1:"),
        "{stderr}"
    );
    assert!(stderr.contains("1 round done"), "{stderr}");
}

#[test]
fn systemd_hears_ready_the_watchdog_and_stopping() {
    use std::os::unix::net::UnixDatagram;
    let inputs = Inputs::new(2);
    let hub = FakeHub::start(round_snapshot(2), Duration::ZERO, None).unwrap();
    let socket_path = inputs.path("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let args = inputs.run_args(&hub.url(), &inputs.path("state"), &["--interval", "1h"]);
    let socket_env = socket_path.display().to_string();
    // A 200 ms watchdog: fed every 100 ms while the loop keeps its deadlines.
    let mut p = Running::start(
        &args,
        &[("NOTIFY_SOCKET", &socket_env), ("WATCHDOG_USEC", "200000")],
    );
    let mut heard = Vec::new();
    let mut buf = [0u8; 512];
    while heard
        .iter()
        .filter(|m: &&String| *m == "WATCHDOG=1")
        .count()
        < 3
    {
        let n = socket
            .recv(&mut buf)
            .expect("no notification from the process");
        heard.push(String::from_utf8_lossy(&buf[..n]).trim().to_string());
    }
    assert_eq!(heard[0], "READY=1", "{heard:?}");
    p.wait_for("next round in");
    p.signal("TERM");
    let (code, said) = p.finish();
    assert_eq!(code, Some(0), "{said}");
    loop {
        let n = socket.recv(&mut buf).expect("no STOPPING=1");
        if buf[..n].trim_ascii() == b"STOPPING=1" {
            break;
        }
    }
}
