//! `validate` as an operator runs it, offline (`--metagraph`): the loop's
//! round, moving average and weights, the state it keeps, a Python
//! validator's `state.npz` imported, an unregistered hotkey refused, and
//! `/healthz` and `/metrics` during a run. The same loop on a real chain is
//! `scripts/chain-testbed.sh`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use gittensor_validator::scoring::state::ValidatorState;
use gittensor_validator::scoring::weights::{weights_for_chain, Scores, WeightLimits};
use serde_json::{json, Value};

use crate::axons::Subnet;
use crate::cli::{run, run_ok};
use crate::util::Running;

const NOW: &str = "2025-12-20T12:00:00Z";

pub(crate) fn validate_args(net: &Subnet, state: &Path, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "validate",
        "--netuid",
        "7",
        "--metagraph",
        &net.path("metagraph.json").display().to_string(),
        "--wallet.path",
        &net.path("wallets").display().to_string(),
        "--wallet.name",
        "val",
        "--wallet.hotkey",
        "hk",
        "--repositories",
        &net.path("repos.json").display().to_string(),
        "--languages",
        &net.path("langs.json").display().to_string(),
        "--github-api-url",
        &net.hub.url(),
        "--now",
        NOW,
        "--state",
        &state.display().to_string(),
        "--step-interval",
        "50ms",
        "--dendrite-timeout",
        "2s",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn validate_scores_a_round_folds_it_and_computes_the_weights() {
    let net = Subnet::new(3);
    let state = net.path("state");
    run_ok(&validate_args(&net, &state, &["--rounds", "1"]), &[]);
    let report = read(&state.join("report.json"));
    let saved: ValidatorState = serde_json::from_value(read(&state.join("state.json"))).unwrap();
    assert_eq!(saved.rounds, 1);
    assert!(saved.step >= 1);
    // The state is one §11.2 fold of the round's rewards into zeros.
    let hotkeys: Vec<String> = read(&net.path("metagraph.json"))
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["hotkey"].as_str().unwrap().to_string())
        .collect();
    let mut expected = ValidatorState::new(hotkeys.clone());
    let rewards = report["rewards"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.parse().unwrap(), v.as_f64().unwrap()))
        .collect();
    expected.fold_round(&rewards, 0.7).unwrap();
    assert_eq!(saved.scores, expected.scores);
    assert_eq!(saved.hotkeys, hotkeys);
    // And weights.json holds §11.4 of those scores (no chain: neutral limits).
    let limits = WeightLimits {
        min_allowed_weights: 0,
        max_weight_limit: u16::MAX,
    };
    let w = weights_for_chain(&expected.scores, hotkeys.len(), limits).unwrap();
    let weights = read(&state.join("weights.json"));
    assert_eq!(weights["uids"], json!(w.uids));
    assert_eq!(weights["weights"], json!(w.weights));
    assert!(w.uids.len() >= 4, "uid 0 and three miners: {:?}", w.uids);
}

#[test]
fn a_python_validators_state_npz_is_imported_on_the_first_start() {
    let net = Subnet::new(1);
    // The metagraph of the npz's hotkeys, our hotkey at uid 0, no axons.
    let npz_hotkeys = [
        "5HZD9gqgtYECdwhMvwZrpip5nifo64wwQUPr5JSQ8im85Nwj",
        "5HRKeWs38yMY7PbkdGkykazhE59n5LfXai35Ze6szsnpBFSL",
        "5GUKP4pKtESCZ7vZ1Q1aEYDpwEoP4VkuuPrmm5YwXrWiipnh",
    ];
    let me = gittensor_validator::wallet::Hotkey::from_seed(net.seed);
    let mut neurons = vec![json!({"uid": 0, "hotkey": me.ss58()})];
    neurons.extend(
        npz_hotkeys
            .iter()
            .enumerate()
            .map(|(i, h)| json!({"uid": i + 1, "hotkey": h})),
    );
    std::fs::write(net.path("metagraph.json"), Value::from(neurons).to_string()).unwrap();
    let state = net.path("state");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/state.npz"),
        state.join("state.npz"),
    )
    .unwrap();
    // A round at every step, so the imported step 1234 scores at once.
    let out = run_ok(
        &validate_args(
            &net,
            &state,
            &["--rounds", "1", "--scoring-interval", "50ms"],
        ),
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("imported the Python validator's"),
        "{stderr}"
    );
    let saved: ValidatorState = serde_json::from_value(read(&state.join("state.json"))).unwrap();
    assert!(saved.step > 1234, "{}", saved.step);
    assert_eq!(saved.rounds, 1);
    // uid 0's hotkey changed (ours replaced the npz's), so it restarted at
    // 0; uids 1-3 kept their scores and decayed by one round without PATs.
    let Scores::Float32(s) = saved.scores else {
        panic!("float32 scores stay float32");
    };
    let decayed = |old: f32| 0.3f32 * old + 0.7f32 * 0.0;
    assert_eq!(
        s[1..],
        [decayed(0.664_019_6), decayed(4.211_613e-5), decayed(0.1)]
    );
    // Imported once: state.json is what the next start reads.
    assert!(state.join("state.json").exists());
}

#[test]
fn a_hotkey_missing_from_the_metagraph_file_exits_2_saying_to_add_it() {
    let net = Subnet::new(1);
    let neurons = json!([{"uid": 0, "hotkey": "5HZD9gqgtYECdwhMvwZrpip5nifo64wwQUPr5JSQ8im85Nwj"}]);
    std::fs::write(net.path("metagraph.json"), neurons.to_string()).unwrap();
    let out = run(
        &validate_args(&net, &net.path("state"), &["--rounds", "1"]),
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("is not in") && stderr.contains("add its neuron to the file"),
        "{stderr}"
    );
}

pub(crate) fn get(addr: SocketAddr, path: &str) -> Option<String> {
    let mut conn = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    conn.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
    )
    .ok()?;
    let mut reply = String::new();
    conn.read_to_string(&mut reply).ok()?;
    reply
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
}

#[test]
fn healthz_and_metrics_tell_the_operator_what_happened() {
    let net = Subnet::new(2);
    let args = validate_args(
        &net,
        &net.path("state"),
        &[
            "--scoring-interval",
            "300ms",
            "--health-addr",
            "127.0.0.1:0",
        ],
    );
    let mut p = Running::start(&args, &[]);
    let addr = p.health_addr();
    let deadline = Instant::now() + Duration::from_secs(60);
    let health = loop {
        if let Some(body) = get(addr, "/healthz") {
            let v: Value = serde_json::from_str(&body).unwrap();
            if v["rounds"].as_u64() >= Some(1) {
                break v;
            }
        }
        assert!(Instant::now() < deadline, "no round seen on /healthz");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(health["last_round"]["miners"], 6, "{health}");
    assert_eq!(health["last_round"]["now"], NOW);
    let metrics = get(addr, "/metrics").unwrap();
    for line in [
        "gittensor_rounds_total ",
        "gittensor_dendrite_answered_total ",
        "gittensor_dendrite_failed_total ",
        "gittensor_github_requests_total ",
        "gittensor_github_rate_limit_waits_total ",
        "gittensor_weights_submitted_total ",
        "gittensor_event_loop_lag_max_seconds ",
        "# EOF",
    ] {
        assert!(metrics.contains(line), "{line} missing from:\n{metrics}");
    }
    assert!(
        metrics.contains("gittensor_dendrite_answered_total "),
        "{metrics}"
    );
    // Ctrl-C between steps: the state is saved and the process ends well.
    p.signal("INT");
    let (code, said) = p.finish();
    assert_eq!(code, Some(0), "{said}");
    assert!(net.path("state").join("state.json").exists());
}
