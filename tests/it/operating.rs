//! Operating it unattended (INTERFACE.md "Operating", SCORING.md §11.9.6
//! and §11.9.7): weight tables refused and re-read, rounds that failed on
//! the validator's side discarded, SIGTERM, `/healthz` and `/readyz`, the
//! `.env` habits. Every test drives the binary as a supervisor would and
//! waits on what the process says (a log line), never on a sleep.

use std::sync::Arc;
use std::time::{Duration, Instant};

use gittensor_validator::scoring::state::ValidatorState;
use gittensor_validator::testkit::fakehub::{FakeHub, Fault, Response};
use serde_json::{json, Value};

use crate::axons::{write_wallet, Subnet};
use crate::cli::{round_snapshot, run, token, Inputs};
use crate::util::{get, get_json, metric, replace_file, ClosedPort, Gate, Running};
use crate::validate::validate_args;

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

/// The base score of uid 1's first PR in the last report: it moves with
/// the language weights (and only with them, in these rounds).
fn base_score(state: &std::path::Path) -> f64 {
    read(&state.join("report.json"))["evaluations"]["1"]["pull_requests"][0]["base_score"]
        .as_f64()
        .unwrap()
}

#[test]
fn s11_9_6_run_reads_the_tables_at_every_round_keeping_the_last_good_ones() {
    let hub = FakeHub::start(round_snapshot(2), Duration::ZERO, None).unwrap();
    let inputs = Inputs::new(2);
    let state = inputs.path("state");
    // No round limit: each step below waits for the round that saw the
    // edit, whichever it is, so no edit races a round.
    let args = inputs.run_args(
        &hub.url(),
        &state,
        &["--interval", "200ms", "--health-addr", "127.0.0.1:0"],
    );
    let mut p = Running::start(&args, &[]);
    p.wait_for("tables: 1 repositories");
    let addr = p.health_addr();
    p.wait_for("next round in");
    let rust_at_1_5 = base_score(&state);
    assert!(rust_at_1_5 > 0.0);
    // The languages file is replaced by a later release's.
    replace_file(&inputs.path("langs.json"), LATER_LANGUAGES);
    let refused = p.wait_for("language weights refused");
    assert!(
        refused.contains("langs.json") && refused.contains("the last good table stays in use"),
        "{refused}"
    );
    p.wait_for("next round in");
    let (status, ready) = get_json(addr, "/readyz");
    assert_eq!(status, 503, "{ready}");
    assert!(
        ready["problems"]
            .to_string()
            .contains("language weights table refused"),
        "{ready}"
    );
    assert_eq!(
        metric(&get(addr, "/metrics").1, "gittensor_tables_refused"),
        1.0
    );
    // That round scored with the last good table: Rust still at 1.5, not
    // a default weight, not an empty table.
    assert_eq!(base_score(&state), rust_at_1_5);
    // Mended, with Rust re-weighted, and the repositories re-weighted.
    replace_file(
        &inputs.path("repos.json"),
        r#"{"acme/widgets": {"weight": 2.0}, "acme/gadgets": {"weight": 1.0}}"#,
    );
    replace_file(&inputs.path("langs.json"), r#"{"rs": 3.0}"#);
    let changed = p.wait_for("master repositories");
    assert!(
        changed.contains(
            "changed: 1 added (\"acme/gadgets\"), 0 removed, 1 re-weighted (\"acme/widgets\")"
        ) && changed.contains("sha256"),
        "{changed}"
    );
    p.wait_for("readable again (was refused");
    let changed = p.wait_for("language weights");
    assert!(
        changed.contains("changed: 0 added, 0 removed, 1 re-weighted"),
        "{changed}"
    );
    p.wait_for("next round in");
    let (status, ready) = get_json(addr, "/readyz");
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["problems"], json!([]), "{ready}");
    assert_eq!(
        metric(&get(addr, "/metrics").1, "gittensor_tables_refused"),
        0.0
    );
    assert!(base_score(&state) > rust_at_1_5, "Rust at 3.0 scores more");
    assert_eq!(
        read(&state.join("report.json"))["evaluations"]["1"]["pull_requests"][0]
            ["repo_weight_multiplier"],
        2.0
    );
    p.signal("TERM");
    let (code, said) = p.finish();
    assert_eq!(code, Some(0), "{said}");
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
    let faults = Arc::new(
        move |info: &gittensor_validator::testkit::fakehub::RequestInfo| {
            let auth = info.authorization.as_deref().unwrap_or_default();
            (info.path == "/user" && down.iter().any(|t| auth.ends_with(t.as_str())))
                .then(|| Fault::Respond(Response::json(502, &json!({"message": "Server Error"}))))
        },
    );
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
    let (status, ready) = get(addr, "/readyz");
    assert_eq!(status, 503, "{ready}");
    assert!(ready.contains("the last round was discarded"), "{ready}");
    // Discarded is not stuck: the loop is alive.
    let (status, health) = get_json(addr, "/healthz");
    assert_eq!(status, 200, "{health}");
    assert_eq!(health["problems"], json!([]), "{health}");
    assert!(health["last_round_discarded"].is_string(), "{health}");
    let metrics = get(addr, "/metrics").1;
    assert_eq!(metric(&metrics, "gittensor_rounds_discarded_total"), 1.0);
    assert_eq!(metric(&metrics, "gittensor_rounds_total"), 0.0);
    assert_eq!(metric(&metrics, "gittensor_ready"), 0.0);
    assert_eq!(metric(&metrics, "gittensor_alive"), 1.0);
    // SIGTERM between rounds: a clean exit, the hour's wait cut short.
    p.signal("TERM");
    assert!(p.exit_within(Duration::from_secs(60)).is_some(), "no exit");
    let (code, said) = p.finish();
    assert_eq!(code, Some(0), "{said}");
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
    // GitHub answers after 10 s: an exit that waited for the round would
    // take that long.
    let late = Duration::from_secs(10);
    let slow = FakeHub::start(round_snapshot(3), late, None).unwrap();
    let mut p = Running::start(
        &inputs.run_args(&slow.url(), &state, &["--rounds", "1"]),
        &[],
    );
    p.wait_for("round 1 starting");
    let started = Instant::now();
    p.signal("TERM");
    let (code, said) = p.finish();
    assert_eq!(code, Some(0), "{said}");
    assert!(started.elapsed() < late, "{said}");
    assert!(said.contains("SIGTERM: stopping"), "{said}");
    assert!(
        said.contains("discarded and the saved state is unchanged"),
        "{said}"
    );
    // The state saved at start, and nothing of the round folded in.
    let saved: ValidatorState =
        serde_json::from_str(&std::fs::read_to_string(state.join("state.json")).unwrap()).unwrap();
    assert_eq!(saved.rounds, 0, "{saved:?}");
    assert!(!saved.is_scored(), "{saved:?}");
    assert!(!state.join("report.json").exists());
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
    // The second line of step 0 says what it waits for after the round.
    p.wait_for("step 0: ");
    // Read while the process waits, before any signal: saved already.
    let saved = read(&state.join("state.json"));
    assert_eq!(saved["rounds"], 1, "{saved}");
    assert!(read(&state.join("report.json"))["rewards"]["1"].as_f64() > Some(0.0));
    // SIGKILL: nothing is saved at exit, so what is there was saved before.
    p.signal("KILL");
    let (code, said) = p.finish();
    assert_eq!(code, None, "{said}");
    assert_eq!(read(&state.join("state.json")), saved);
}

#[test]
fn empty_environment_variables_mean_not_set() {
    let net = Subnet::new(1);
    // The wallet where the defaults look: HOME/.bittensor/wallets, wallet
    // "default", hotkey "default".
    let home = net.path("home");
    write_wallet(
        &home.join(".bittensor").join("wallets"),
        "default",
        "default",
        net.seed,
    );
    let home_text = home.display().to_string();
    // As upstream's .env.example leaves them, and none of their flags given:
    // each variable alone would change what the run does if it counted.
    let env = [
        ("HOME", home_text.as_str()),
        ("NETUID", ""),
        ("WALLET_NAME", ""),
        ("HOTKEY_NAME", ""),
        ("WALLET_PATH", " "),
        ("SUBTENSOR_NETWORK", ""),
        ("SUBTENSOR_CHAIN_ENDPOINT", ""),
        ("BT_LOGGING_LOGGING_DIR", ""),
    ];
    let without = |args: &mut Vec<String>, flags: &[&str]| {
        for flag in flags {
            let at = args.iter().position(|a| a == flag).unwrap();
            args.drain(at..at + 2);
        }
    };
    let wallet_flags = ["--wallet.path", "--wallet.name", "--wallet.hotkey"];
    // Offline: the default wallet signs, netuid 74 names the default state
    // folder (no --state).
    let mut args = validate_args(&net, &net.path("unused"), &["--rounds", "1"]);
    without(&mut args, &wallet_flags);
    without(&mut args, &["--state", "--netuid"]);
    let out = run(&args, &env);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let folder = home.join(".bittensor/miners/default/default/netuid74/validator");
    assert_eq!(read(&folder.join("state.json"))["rounds"], 1, "{stderr}");
    // On a chain: the endpoint comes from the network's default, finney.
    // The state folder is under a file, so the start stops there, after the
    // chain options were read and before any connection.
    let blocker = net.path("a-file");
    std::fs::write(&blocker, "").unwrap();
    let mut args = validate_args(&net, &blocker.join("state"), &["--rounds", "1"]);
    without(&mut args, &wallet_flags);
    without(&mut args, &["--netuid", "--metagraph"]);
    let out = run(&args, &env);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&blocker.join("state").display().to_string())
            && !stderr.contains("--subtensor"),
        "{stderr}"
    );
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

/// `validate` on `net` with a long step (the loop waits between steps
/// while the test looks), a board, and `extra`.
fn waiting_validate(net: &Subnet, extra: &[&str]) -> Vec<String> {
    let mut args = validate_args(net, &net.path("state"), extra);
    let at = args.iter().position(|a| a == "--step-interval").unwrap();
    args[at + 1] = "10m".into();
    args.extend(["--health-addr".to_string(), "127.0.0.1:0".to_string()]);
    args
}

#[test]
fn a_second_signal_exits_at_once_without_saving() {
    // GitHub holds the round until the test opens the gate.
    let gate = Arc::new(Gate::default());
    let g = gate.clone();
    let net = Subnet::with_faults(
        1,
        crate::util::faults(move |_| {
            g.pass();
            None
        }),
    );
    let state = net.path("state");
    let mut p = Running::start(&waiting_validate(&net, &["--scoring-interval", "1h"]), &[]);
    // Saved at start; the round is held.
    p.wait_for("step 0: ");
    let saved = std::fs::read_to_string(state.join("state.json")).unwrap();
    // The save after the round cannot finish: its temporary file is a pipe
    // nobody reads.
    crate::util::fifo(&state.join(format!(".state.json.tmp.{}", p.pid())));
    gate.open();
    // The round is over (its report written) and the loop is in that save:
    // the first signal asks it to stop, and it cannot.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !state.join("report.json").exists() {
        assert!(Instant::now() < deadline, "the round did not end");
        std::thread::sleep(Duration::from_millis(10));
    }
    p.signal("TERM");
    p.wait_for("SIGTERM: stopping");
    assert_eq!(p.exit_within(Duration::from_millis(200)), None, "exited");
    // The second one ends it now: nothing waits for the save.
    p.signal("TERM");
    let code = p.exit_within(Duration::from_secs(30));
    assert_eq!(code, Some(Some(1)), "no exit on the second signal");
    let (_, said) = p.finish();
    assert!(
        said.contains("SIGTERM again: exiting now, without saving"),
        "{said}"
    );
    assert_eq!(
        std::fs::read_to_string(state.join("state.json")).unwrap(),
        saved
    );
}

#[test]
fn a_stuck_loop_stops_the_watchdog_and_fails_healthz() {
    use std::os::unix::net::UnixDatagram;
    let net = Subnet::new(1);
    let state = net.path("state");
    let socket_path = net.path("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    let socket_env = socket_path.display().to_string();
    // Steps of 100 ms, a round only at step 0; a 200 ms watchdog.
    let mut args = validate_args(
        &net,
        &state,
        &["--scoring-interval", "1h", "--health-addr", "127.0.0.1:0"],
    );
    let at = args.iter().position(|a| a == "--step-interval").unwrap();
    args[at + 1] = "100ms".into();
    let mut p = Running::start(
        &args,
        &[("NOTIFY_SOCKET", &socket_env), ("WATCHDOG_USEC", "200000")],
    );
    let addr = p.health_addr();
    p.wait_for("step 0: ");
    p.wait_for("step 0: ");
    // Every save from now on is stuck (its temporary file is a pipe nobody
    // reads): the loop stops at the end of its next step.
    crate::util::fifo(&state.join(format!(".state.json.tmp.{}", p.pid())));
    // The loop promised a step within its step budget (the file's 30 s
    // sync budget here): the pings go on until then, then stop, and
    // systemd hears why instead.
    socket
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let mut buf = [0u8; 512];
    let mut heard = Vec::new();
    // Far past the budget: pings that go on mean the watchdog is fed.
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        assert!(
            Instant::now() < deadline,
            "still fed 120 s into a stuck loop: {} pings",
            heard.len()
        );
        let n = socket.recv(&mut buf).expect("no STATUS= from a stuck loop");
        let message = String::from_utf8_lossy(&buf[..n]).trim().to_string();
        if message.starts_with("STATUS=") {
            break message;
        }
        heard.push(message);
    };
    assert!(
        status.starts_with("STATUS=the loop is stuck: step ")
            && status.contains("(wait, then sync)"),
        "{status}"
    );
    assert!(heard.iter().any(|m| m == "WATCHDOG=1"), "{heard:?}");
    // From then on, no ping: only the reason, again.
    for _ in 0..3 {
        let n = socket.recv(&mut buf).expect("the notifications stopped");
        let message = String::from_utf8_lossy(&buf[..n]).trim().to_string();
        assert!(message.starts_with("STATUS=the loop is stuck"), "{message}");
    }
    let (code, health) = get_json(addr, "/healthz");
    assert_eq!(code, 503, "{health}");
    assert!(
        health["problems"][0]
            .as_str()
            .unwrap()
            .starts_with("the loop is stuck: step "),
        "{health}"
    );
    assert_eq!(metric(&get(addr, "/metrics").1, "gittensor_alive"), 0.0);
    p.signal("KILL");
    p.finish();
}

#[test]
fn a_round_in_which_no_served_axon_answered_is_discarded() {
    // Served axons: one that refuses (403) and a closed port; no PAT at all.
    let net = Subnet::new(0);
    let state = net.path("state");
    let mut p = Running::start(&waiting_validate(&net, &["--scoring-interval", "1h"]), &[]);
    let addr = p.health_addr();
    let line = p.wait_for("round discarded");
    assert!(
        line.contains("WARN") && line.contains("none of the 2 served axons answered the PAT query"),
        "{line}"
    );
    p.wait_for("step 0: ");
    let saved = read(&state.join("state.json"));
    assert_eq!(saved["rounds"], 0, "{saved}");
    assert!(saved["scores"]["values"]
        .as_array()
        .unwrap()
        .iter()
        .all(|v| v == 0.0));
    assert!(read(&state.join("report.json"))["discarded"]
        .as_str()
        .unwrap()
        .contains("PAT query"));
    let (code, ready) = get_json(addr, "/readyz");
    assert_eq!(code, 503, "{ready}");
    assert!(
        ready["problems"]
            .to_string()
            .contains("the last round was discarded: none of the 2 served axons"),
        "{ready}"
    );
    let metrics = get(addr, "/metrics").1;
    assert_eq!(metric(&metrics, "gittensor_rounds_discarded_total"), 1.0);
    assert_eq!(metric(&metrics, "gittensor_dendrite_answered_total"), 0.0);
    p.signal("TERM");
    let (code, said) = p.finish();
    assert_eq!(code, Some(0), "{said}");
}

#[test]
fn dry_run_is_a_field_not_a_problem_and_healthz_says_when_the_next_round_is() {
    let net = Subnet::new(2);
    // Steps of 10 minutes, a round every 3 steps: the next after step 0 is
    // at step 3, half an hour away.
    let started = time::OffsetDateTime::now_utc();
    let mut p = Running::start(
        &waiting_validate(&net, &["--scoring-interval", "30m", "--dry-run"]),
        &[],
    );
    let addr = p.health_addr();
    p.wait_for("step 0: ");
    let line = p.wait_for("step 0: ");
    let finished = time::OffsetDateTime::now_utc();
    assert!(line.contains("next round at step 3 (in 30m"), "{line}");
    let (code, health) = get_json(addr, "/healthz");
    assert_eq!(code, 200, "{health}");
    assert_eq!(health["dry_run"], true, "{health}");
    assert_eq!(health["problems"], json!([]), "{health}");
    assert_eq!(health["next_round"]["step"], 3, "{health}");
    let at = time::OffsetDateTime::parse(
        health["next_round"]["at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let half_hour = time::Duration::minutes(30);
    let second = time::Duration::seconds(1);
    assert!(
        at >= started + half_hour - second && at <= finished + half_hour + second,
        "{health}"
    );
    // A dry run after a good round: ready, the weights it logs are right.
    let (code, ready) = get_json(addr, "/readyz");
    assert_eq!(code, 200, "{ready}");
    assert_eq!(ready["problems"], json!([]), "{ready}");
    assert_eq!(ready["dry_run"], true, "{ready}");
    p.signal("TERM");
    let (code, said) = p.finish();
    assert_eq!(code, Some(0), "{said}");
}

#[test]
fn s11_9_6_the_tables_of_release_2_0_7_load_as_they_are() {
    // Release 2.0.7's tables in their own shape (the real ones are the
    // subnet's data and stay out of the repository; `.ci/run` loads them
    // from `../shared` too): mixed-case names, entries without
    // `inactiveAt`, and `inactiveAt` with milliseconds, as GitHub's API and
    // JavaScript write it.
    let dir = tempfile::tempdir().unwrap();
    let repos_path = dir.path().join("master_repositories.json");
    let langs_path = dir.path().join("programming_languages.json");
    std::fs::write(
        &repos_path,
        r#"{
  "2factorauth/twofactorauth": {
    "weight": 0.29
  },
  "Acode-Foundation/Acode": {
    "inactiveAt": "2025-11-29T17:45:38.525Z",
    "weight": 0.01
  },
  "acme/widgets": {
    "weight": 1.5
  },
  "acme/gadgets": {
    "inactiveAt": "2025-12-01T00:00:00.000Z",
    "weight": 0.5
  }
}"#,
    )
    .unwrap();
    std::fs::write(
        &langs_path,
        r#"{
  "asm": 1.5,
  "c": 2.25,
  "py": 1.75,
  "rs": 2.0
}"#,
    )
    .unwrap();
    let repos = gittensor_validator::inputs::load_repositories(&repos_path).unwrap();
    let langs = gittensor_validator::inputs::load_languages(&langs_path).unwrap();
    assert_eq!((repos.len(), langs.len()), (4, 4));
    let acode = repos.get("acode-foundation/acode").unwrap();
    assert_eq!(
        acode.inactive_at,
        Some(time::macros::datetime!(2025-11-29 17:45:38.525 UTC))
    );
    assert!(!repos.is_active("acode-foundation/acode"));
    assert!(repos.is_active("2factorauth/twofactorauth"));
    assert_eq!(langs.weight("rs"), 2.0);
    // And the binary scores a round with them, reading them at start.
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample");
    let mut args = crate::cli::replay_args(&sample, "2025-12-20T12:00:00Z");
    for (flag, path) in [
        ("--repositories", &repos_path),
        ("--languages", &langs_path),
    ] {
        let at = args.iter().position(|a| a == flag).unwrap();
        args[at + 1] = path.display().to_string();
    }
    let out = crate::cli::run_ok(&args, &[]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["rewards"].as_object().unwrap().len(), 11);
}

/// A `state.json` whose hotkeys are those of the neurons but whose scores
/// stop at uid 0: every reward of a later uid is one the moving average
/// refuses (numpy's IndexError in 2.0.7).
fn short_scores_state(dir: &std::path::Path, hotkeys: Vec<String>) -> String {
    std::fs::create_dir_all(dir).unwrap();
    let state = json!({
        "step": 0,
        "rounds": 1,
        "scores": {"dtype": "float32", "values": [0.25]},
        "hotkeys": hotkeys,
    });
    let text = serde_json::to_string_pretty(&state).unwrap();
    std::fs::write(dir.join("state.json"), &text).unwrap();
    text
}

/// What `run` and `validate` must both do with a round the moving average
/// refuses: log it, mark the report discarded, count it, fold nothing,
/// and go on (exit 0 at `--rounds`), as one loop does for both.
fn check_refused_round_is_discarded(args: &[String], state: &std::path::Path) {
    let mut p = Running::start(args, &[]);
    let line = p.wait_for("the round is discarded");
    assert!(
        line.contains("ERROR") && line.contains("moving average: "),
        "{line}"
    );
    let (code, said) = p.finish();
    assert_eq!(code, Some(0), "{said}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(state.join("report.json")).unwrap()).unwrap();
    let why = report["discarded"].as_str().unwrap_or_default();
    assert!(why.starts_with("moving average: "), "{report}");
    let saved: ValidatorState =
        serde_json::from_str(&std::fs::read_to_string(state.join("state.json")).unwrap()).unwrap();
    assert_eq!(saved.rounds, 1, "nothing folded: {saved:?}");
    assert_eq!(saved.scores.to_f64(), vec![0.25], "{saved:?}");
}

#[test]
fn a_round_the_moving_average_refuses_is_discarded_the_same_way_by_run_and_validate() {
    // run, its miners from a file.
    let hub = FakeHub::start(round_snapshot(2), Duration::ZERO, None).unwrap();
    let inputs = Inputs::new(2);
    let state = inputs.path("state");
    short_scores_state(&state, (0..3).map(|i| format!("hk{i}")).collect());
    let args = inputs.run_args(&hub.url(), &state, &["--rounds", "1"]);
    check_refused_round_is_discarded(&args, &state);
    // validate, its neurons from a metagraph file.
    let net = Subnet::new(2);
    let state = net.path("state");
    let metagraph: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(net.path("metagraph.json")).unwrap())
            .unwrap();
    let hotkeys = metagraph
        .iter()
        .map(|n| n["hotkey"].as_str().unwrap().to_string())
        .collect();
    short_scores_state(&state, hotkeys);
    let args = validate_args(&net, &state, &["--rounds", "1"]);
    check_refused_round_is_discarded(&args, &state);
}
