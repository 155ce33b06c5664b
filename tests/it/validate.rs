//! `validate` as an operator runs it, offline (`--metagraph`): the loop's
//! round, moving average and weights, the state it keeps, a Python
//! validator's `state.npz` imported, an unregistered hotkey refused, and
//! `/healthz` and `/metrics` during a run. The same loop on a real chain is
//! `scripts/chain-testbed.sh`.

use std::path::Path;

use gittensor_validator::scoring::scores::Scores;
use gittensor_validator::scoring::state::ValidatorState;
use gittensor_validator::scoring::weights::{weights_for_chain, WeightLimits};
use serde_json::{json, Value};

use crate::axons::Subnet;
use crate::cli::{everything, run, run_ok};
use crate::util::{find_leak, get, get_json, metric, Running};

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
    let rewards = crate::util::rewards(&report);
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
fn a_python_validators_state_npz_is_imported_at_the_first_start_only() {
    let net = Subnet::new(1);
    // The metagraph of the npz's hotkeys, our hotkey at uid 0, no axons.
    crate::switching::npz_metagraph(&net);
    // The Python validator's own folder, under HOME, and no --state: as an
    // operator switching over runs it.
    let home = net.path("home");
    let state = home.join(".bittensor/miners/val/hk/netuid7/validator");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/state.npz"),
        state.join("state.npz"),
    )
    .unwrap();
    // A round at every step, so the imported step 1234 scores at once.
    let mut args = validate_args(
        &net,
        &net.path("unused"),
        &["--rounds", "1", "--scoring-interval", "50ms"],
    );
    let at = args.iter().position(|a| a == "--state").unwrap();
    args.drain(at..at + 2);
    let home_text = home.display().to_string();
    let env = [("HOME", home_text.as_str())];
    let out = run_ok(&args, &env);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("imported the Python validator's"),
        "{stderr}"
    );
    let first: ValidatorState = serde_json::from_value(read(&state.join("state.json"))).unwrap();
    assert!(first.step > 1234, "{}", first.step);
    assert_eq!(first.rounds, 1);
    // uid 0's hotkey changed (ours replaced the npz's), so it restarted at
    // 0; uids 1-3 kept their scores and decayed by one round without PATs.
    let decayed = |old: f32| 0.3f32 * old + 0.7f32 * 0.0;
    let imported = [0.664_019_6, 4.211_613e-5, 0.1];
    let Scores::Float32(s) = &first.scores else {
        panic!("float32 scores stay float32");
    };
    assert_eq!(s[1..], imported.map(decayed));
    // The next start reads state.json, not the npz again: the rounds go
    // on from there.
    let out = run_ok(&args, &env);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("imported the Python validator's"),
        "{stderr}"
    );
    let second: ValidatorState = serde_json::from_value(read(&state.join("state.json"))).unwrap();
    assert_eq!(second.rounds, 2, "{stderr}");
    assert!(second.step > first.step, "{} {}", second.step, first.step);
    let Scores::Float32(s) = &second.scores else {
        panic!("float32 scores stay float32");
    };
    assert_eq!(s[1..], imported.map(decayed).map(decayed));
}

#[test]
fn validate_keeps_its_state_and_the_prs_files_across_a_restart() {
    let net = Subnet::new(2);
    net.hub.set_recording(true);
    let state = net.path("state");
    // A round at every step: the second start scores at its first step.
    let args = validate_args(
        &net,
        &state,
        &["--rounds", "1", "--scoring-interval", "50ms"],
    );
    run_ok(&args, &[]);
    let first: ValidatorState = serde_json::from_value(read(&state.join("state.json"))).unwrap();
    assert_eq!(first.rounds, 1);
    let store = read(&state.join("pr-files.json")).to_string();
    assert!(store.contains("src/a.rs"), "{store}");
    let out = run_ok(&args, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let second: ValidatorState = serde_json::from_value(read(&state.join("state.json"))).unwrap();
    assert_eq!(second.rounds, 2, "{stderr}");
    assert!(second.step > first.step);
    // The same reward r both rounds: 0.7r, then 0.7r + 0.3 * 0.7r (float32).
    let report = read(&state.join("report.json"));
    let (Scores::Float32(a), Scores::Float32(b)) = (&first.scores, &second.scores) else {
        panic!("float32 scores stay float32");
    };
    for uid in [1usize, 2] {
        let r = report["rewards"][uid.to_string()].as_f64().unwrap() as f32;
        assert!(r > 0.0);
        assert_eq!(a[uid], 0.7f32 * r + 0.3f32 * 0.0);
        assert_eq!(b[uid], 0.7f32 * r + 0.3f32 * a[uid], "uid {uid}");
    }
    // The second round's files came from the first's store: GitHub was
    // asked for each PR's files once, by the first process.
    assert_eq!(report["stats"]["files_from_store"], 2, "{report}");
    let files_asked = net
        .hub
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/files"))
        .count();
    assert_eq!(files_asked, 2);
}

#[test]
fn no_piece_of_a_pat_or_the_wallet_seed_leaks_from_validate_at_trace_level() {
    let net = Subnet::new(2);
    let state = net.path("state");
    let out = run_ok(
        &validate_args(&net, &state, &["--rounds", "1"]),
        &[("RUST_LOG", "trace")],
    );
    for file in ["state.json", "report.json", "weights.json", "pr-files.json"] {
        assert!(state.join(file).exists(), "no {file}");
    }
    // stdout, stderr, and every file the run left.
    let all = everything(&[&out], &[&state]);
    assert!(all.contains("DEBUG"), "debug logging was not on");
    for pat in &net.pats {
        if let Some(piece) = find_leak(&all, &pat[4..], 8) {
            panic!("a piece of a PAT leaked: {piece}");
        }
    }
    let seed_hex: String = net.seed.iter().map(|b| format!("{b:02x}")).collect();
    let seed_text = String::from_utf8(net.seed.to_vec()).unwrap();
    for secret in [&seed_hex, &seed_text] {
        if let Some(piece) = find_leak(&all, secret, 8) {
            panic!("a piece of the wallet seed leaked: {piece}");
        }
    }
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

#[test]
fn healthz_and_metrics_tell_the_operator_what_happened() {
    let net = Subnet::new(2);
    let state = net.path("state");
    // One round, at step 0; then steps of 50 ms with nothing to count.
    let args = validate_args(
        &net,
        &state,
        &["--scoring-interval", "1h", "--health-addr", "127.0.0.1:0"],
    );
    let mut p = Running::start(&args, &[]);
    let addr = p.health_addr();
    p.wait_for("step 0: ");
    p.wait_for("step 0: ");
    let (code, health) = get_json(addr, "/healthz");
    assert_eq!(code, 200, "{health}");
    assert_eq!(health["rounds"], 1, "{health}");
    // uid 0, two miners, a blacklisting axon, a closed port, an unserved uid.
    assert_eq!(health["last_round"]["miners"], 6, "{health}");
    assert_eq!(health["last_round"]["scored"], 2, "{health}");
    assert_eq!(health["last_round"]["now"], NOW);
    assert_eq!(health["problems"], json!([]), "{health}");
    let (code, ready) = get_json(addr, "/readyz");
    assert_eq!((code, &ready["problems"]), (200, &json!([])), "{ready}");
    let metrics = get(addr, "/metrics").1;
    assert!(metrics.ends_with("# EOF\n"), "{metrics}");
    for (name, value) in [
        ("gittensor_rounds_total", 1.0),
        ("gittensor_rounds_discarded_total", 0.0),
        // Two axons gave a PAT; uid 0 and uid 5 serve none, uid 3
        // blacklists, uid 4 is a closed port.
        ("gittensor_dendrite_answered_total", 2.0),
        ("gittensor_dendrite_failed_total", 4.0),
        // Each miner: /user, one GraphQL page, one PR's files.
        ("gittensor_github_requests_total", 6.0),
        ("gittensor_github_rate_limit_waits_total", 0.0),
        ("gittensor_miners_scored_total", 2.0),
        ("gittensor_miners_failed_total", 4.0),
        ("gittensor_weights_submitted_total", 0.0),
        ("gittensor_tables_refused", 0.0),
        ("gittensor_ready", 1.0),
        ("gittensor_alive", 1.0),
    ] {
        assert_eq!(metric(&metrics, name), value, "{name}:\n{metrics}");
    }
    assert!(metric(&metrics, "gittensor_event_loop_lag_max_seconds") >= 0.0);
    // Ctrl-C between steps: the state is saved and the process ends well.
    p.signal("INT");
    let (code, said) = p.finish();
    assert_eq!(code, Some(0), "{said}");
    assert!(state.join("state.json").exists());
}
