//! `validate` on a chain, as an operator runs it: the real binary against
//! the subtensor stand-in (`testkit::subtensor`, a JSON-RPC server on
//! 127.0.0.1 serving the 2023 testfinney runtime's metadata, spec 103),
//! the miners' axons and GitHub of `axons::Subnet`. One test per
//! operating promise of README "validate" and "Operating it";
//! `scripts/chain-testbed.sh` runs the same loop against that runtime
//! itself (chopsticks).
//!
//! Every chain here starts at block 3 with our hotkey at uid 0 and its
//! `LastUpdate` 0, and `validate` runs with `--epoch-length 1`: weights
//! are due at the end of step 1. The stand-in makes a block only for an
//! extrinsic or when a test advances it, so the blocks a test sees are the
//! ones it made.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::str::FromStr;
use std::time::{Duration, Instant};

use gittensor_validator::scoring::state::ValidatorState;
use gittensor_validator::scoring::trust::predicted_trust;
use gittensor_validator::scoring::weights::{weights_for_chain, Processed, WeightLimits};
use gittensor_validator::testkit::fakehub::{Fault, Response};
use gittensor_validator::testkit::subtensor::{self as stand_in, Neuron, Outcome, Subtensor};
use serde_json::{json, Value};
use subxt::utils::AccountId32;

use crate::axons::Subnet;
use crate::util::{get, get_json, metric, Running};
use crate::validate::validate_args;

fn metadata() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/testfinney-spec103.scale"
    );
    std::fs::read(path).unwrap()
}

/// `net`'s metagraph as the chain stores it, uid 0 (ours) with a permit
/// and stake, changed by `change`, served at block 3.
fn on_chain(net: &Subnet, change: impl FnOnce(&mut stand_in::Subnet)) -> Subtensor {
    on_chain_without(net, &[], change)
}

/// [`on_chain`] with a runtime that has none of the items `removed`.
fn on_chain_without(
    net: &Subnet,
    removed: &[&str],
    change: impl FnOnce(&mut stand_in::Subnet),
) -> Subtensor {
    let file = std::fs::read_to_string(net.path("metagraph.json")).unwrap();
    let entries: Vec<Value> = serde_json::from_str(&file).unwrap();
    let neurons = entries
        .iter()
        .map(|n| {
            let hotkey = AccountId32::from_str(n["hotkey"].as_str().unwrap()).unwrap();
            let ip: Option<Ipv4Addr> = n["ip"].as_str().and_then(|s| s.parse().ok());
            let port = n["port"].as_u64().map_or(0, |p| u16::try_from(p).unwrap());
            Neuron {
                hotkey: hotkey.0,
                axon: ip
                    .filter(|ip| !ip.is_unspecified() && port != 0)
                    .map(|ip| SocketAddrV4::new(ip, port)),
                ..Neuron::default()
            }
        })
        .collect();
    let mut subnet = stand_in::Subnet {
        netuid: 7,
        neurons,
        ..Default::default()
    };
    subnet.neurons[0].permit = true;
    subnet.neurons[0].stake = 1_000_000_000_000;
    change(&mut subnet);
    let chain = Subtensor::start_without(&metadata(), subnet, removed).unwrap();
    chain.advance(3);
    chain
}

/// `validate` on `chain`: steps of 200 ms, an epoch of one block, a round
/// at step 0 only (unless `extra` says), the board on a free port.
fn chain_args(net: &Subnet, chain: &Subtensor, extra: &[&str]) -> Vec<String> {
    let mut args = validate_args(net, &net.path("state"), &[]);
    let at = args.iter().position(|a| a == "--metagraph").unwrap();
    args.drain(at..at + 2);
    let at = args.iter().position(|a| a == "--step-interval").unwrap();
    args[at + 1] = "200ms".into();
    for a in [
        "--subtensor.chain_endpoint",
        &chain.url(),
        "--epoch-length",
        "1",
        "--health-addr",
        "127.0.0.1:0",
    ] {
        args.push(a.to_string());
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// `GET path` until its JSON satisfies `ok`; that JSON.
fn json_until(addr: SocketAddr, path: &str, ok: impl Fn(u16, &Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (code, v) = get_json(addr, path);
        if ok(code, &v) {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "{path} never as expected; last {code}: {v}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `/readyz` is 200 without problems, read just after each of the next
/// `steps` steps ended (each step's end decides the weights anew).
fn ready_at_each_step(p: &mut Running, addr: SocketAddr, steps: usize) {
    for _ in 0..steps {
        let line = p.wait_for("] step ");
        let (code, ready) = get_json(addr, "/readyz");
        assert_eq!(
            (code, &ready["problems"]),
            (200, &json!([])),
            "{line}\n{ready}"
        );
    }
}

/// SIGTERM, a clean exit; everything the process said.
fn stop(mut p: Running) -> String {
    p.signal("TERM");
    assert!(p.exit_within(Duration::from_secs(60)).is_some(), "no exit");
    let (code, said) = p.finish();
    assert_eq!(code, Some(0), "{said}");
    said
}

fn set_weights(chain: &Subtensor) -> Vec<(u64, stand_in::SetWeights, Outcome)> {
    chain
        .extrinsics()
        .into_iter()
        .map(|e| (e.block, e.set_weights.expect("set_weights"), e.outcome))
        .collect()
}

#[test]
fn healthz_has_next_weights_and_the_log_says_when_they_are_due_after_each_step() {
    let net = Subnet::new(2);
    let chain = on_chain(&net, |_| {});
    let mut p = Running::start(&chain_args(&net, &chain, &[]), &[]);
    let addr = p.health_addr();
    // Step 0 ended at block 3, more than an epoch after LastUpdate 0.
    let line = p.wait_for("step 1: ");
    assert!(
        line.contains("weights due at the end of this step (block 3, due after 1)"),
        "{line}"
    );
    // Set in block 4 at step 1's end: the next weights are due after
    // block 5, said at once (the head read at that step's end was 3), and
    // again once the chain is at block 4.
    p.wait_for("weights set: extrinsic");
    let line = p.wait_for("step 2: ");
    assert!(
        line.contains("weights due after block 5 (now 3, 3 blocks to go, ~36s, ~"),
        "{line}"
    );
    let before = time::OffsetDateTime::now_utc();
    let line = p.wait_for("weights due after block 5 (now 4");
    assert!(line.contains("(now 4, 2 blocks to go, ~24s, ~"), "{line}");
    let health = json_until(addr, "/healthz", |_, h| h["next_weights"]["block"] == 6);
    let after = time::OffsetDateTime::now_utc();
    let at = health["next_weights"]["at"].as_str().unwrap();
    let at = time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{at}: {e}"));
    // Two 12 s blocks from the announcement, to the second.
    let two_blocks = time::Duration::seconds(24);
    assert!(
        at >= before + two_blocks - time::Duration::seconds(1) && at <= after + two_blocks,
        "{health}"
    );
    assert_eq!(health["next_weights"]["step"], Value::Null, "{health}");
    assert!(health["next_round"]["step"].is_u64(), "{health}");
    // Two blocks later the weights are due and go out, as announced.
    chain.advance(2);
    let line = p.wait_for("weights set: extrinsic");
    assert!(line.contains("in block 7"), "{line}");
    p.wait_for("weights due after block 8");
    let said = stop(p);
    // Before the first sync's head no block is known; after it, every
    // step's line says when.
    let steps: Vec<&str> = said
        .lines()
        .filter(|l| l.contains("] step ") && !l.contains("] step 0: "))
        .collect();
    assert!(steps.len() >= 4, "{said}");
    for line in steps {
        assert!(line.contains("; weights due "), "{line}");
    }
    let blocks: Vec<u64> = set_weights(&chain).iter().map(|s| s.0).collect();
    assert_eq!(blocks, [4, 7]);
}

#[test]
fn without_a_permit_validate_scores_submits_nothing_and_stays_ready() {
    let net = Subnet::new(2);
    let chain = on_chain(&net, |s| s.neurons[0].permit = false);
    // Rounds at steps 0 and 2: scoring goes on.
    let args = chain_args(&net, &chain, &["--scoring-interval", "400ms"]);
    let mut p = Running::start(&args, &[]);
    let addr = p.health_addr();
    let line = p.wait_for("validator permit");
    assert!(
        line.contains(
            "uid 0 has no validator permit on netuid 7: weights not submitted (scoring goes on)"
        ),
        "{line}"
    );
    p.wait_for("round 2 starting");
    let health = json_until(addr, "/healthz", |_, h| h["rounds"] == 2);
    assert_eq!(
        (&health["permit"], &health["dry_run"]),
        (&json!(false), &json!(false)),
        "{health}"
    );
    let ready = json_until(addr, "/readyz", |code, _| code == 200);
    assert_eq!(ready["permit"], false, "{ready}");
    ready_at_each_step(&mut p, addr, 3);
    let metrics = get(addr, "/metrics").1;
    assert_eq!(metric(&metrics, "gittensor_weights_submitted_total"), 0.0);
    stop(p);
    assert_eq!(chain.extrinsics(), []);
}

#[test]
fn with_dry_run_validate_computes_the_weights_submits_nothing_and_stays_ready() {
    let net = Subnet::new(2);
    let chain = on_chain(&net, |_| {});
    let mut p = Running::start(&chain_args(&net, &chain, &["--dry-run"]), &[]);
    let addr = p.health_addr();
    p.wait_for("--dry-run: weights computed at block 3, not submitted");
    p.wait_for("step 3: ");
    let ready = json_until(addr, "/readyz", |code, _| code == 200);
    assert_eq!(
        (&ready["permit"], &ready["dry_run"]),
        (&json!(true), &json!(true)),
        "{ready}"
    );
    ready_at_each_step(&mut p, addr, 3);
    stop(p);
    assert_eq!(chain.extrinsics(), []);
    let file = std::fs::read_to_string(net.path("state").join("weights.json")).unwrap();
    let weights: Value = serde_json::from_str(&file).unwrap();
    assert!(weights["uids"].as_array().unwrap().len() >= 3, "{weights}");
}

#[test]
fn a_version_key_above_ours_stops_submissions_until_the_chain_lowers_it() {
    let net = Subnet::new(2);
    let chain = on_chain(&net, |s| s.hyperparameters.weights_version_key = 2000);
    let mut p = Running::start(&chain_args(&net, &chain, &[]), &[]);
    let addr = p.health_addr();
    let why = "our weights version key 1000 is below netuid 7's WeightsVersionKey 2000: \
               weights are not submitted";
    p.wait_for(why);
    let ready = json_until(addr, "/readyz", |code, r| {
        code == 503 && r["problems"].to_string().contains(why)
    });
    assert_eq!(ready["problems"].as_array().unwrap().len(), 1, "{ready}");
    // Due at every step, refused by us at every step: nothing sent.
    p.wait_for("step 4: ");
    assert_eq!(chain.extrinsics(), []);
    chain
        .update(|s| s.hyperparameters.weights_version_key = 1000)
        .unwrap();
    p.wait_for("the chain's weights version key is now 1000: our 1000 is accepted again");
    p.wait_for("weights set: extrinsic");
    json_until(addr, "/readyz", |code, _| code == 200);
    let said = stop(p);
    // Said once, not at every step.
    assert_eq!(said.matches(why).count(), 1, "{said}");
    let sent = set_weights(&chain);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].1.version_key, 1000);
}

#[test]
fn a_refused_submission_is_named_counted_and_tried_again_at_the_next_due_step() {
    let net = Subnet::new(2);
    let chain = on_chain(&net, |_| {});
    chain.answer_next(Outcome::Failed("SettingWeightsTooFast".into()));
    let mut p = Running::start(&chain_args(&net, &chain, &[]), &[]);
    let addr = p.health_addr();
    let line = p.wait_for("set_weights refused by the chain");
    assert!(
        line.contains(
            "set_weights refused by the chain in block 4: SettingWeightsTooFast (the subnet's \
             weights rate limit has not passed since the last weights)"
        ),
        "{line}"
    );
    // Not again in the step that was refused: at the next one.
    p.wait_for("step 2: ");
    let line = p.wait_for("weights set: extrinsic");
    assert!(line.contains("in block 5"), "{line}");
    // LastUpdate is 5 now: two more steps, and nothing more is sent.
    p.wait_for("weights due after block 6");
    p.wait_for("] step ");
    // Both counted before those steps' lines were logged.
    let metrics = get(addr, "/metrics").1;
    assert_eq!(metric(&metrics, "gittensor_weights_submitted_total"), 1.0);
    assert_eq!(metric(&metrics, "gittensor_weights_refused_total"), 1.0);
    stop(p);
    let sent = set_weights(&chain);
    let outcomes: Vec<(u64, Outcome)> = sent.iter().map(|s| (s.0, s.2.clone())).collect();
    assert_eq!(
        outcomes,
        [
            (4, Outcome::Failed("SettingWeightsTooFast".into())),
            (5, Outcome::Success)
        ]
    );
    assert_eq!(sent[0].1, sent[1].1, "the same weights, tried again");
}

#[test]
fn the_consensus_watch_warns_and_readyz_says_so_when_the_weights_would_get_low_trust() {
    let net = Subnet::new(2);
    // Uids 1 and 2 answer their PATs; the chain's consensus gives each
    // 0.1, so weights spread over them get at most 0.2.
    let consensus = vec![0, 6553, 6553, 0, 0, 0];
    let c = consensus.clone();
    let chain = on_chain(&net, move |s| {
        s.consensus = c;
        s.validator_trust = vec![52428, 0, 0, 0, 0, 0];
    });
    let args = chain_args(&net, &chain, &["--trust-threshold", "0.5"]);
    let mut p = Running::start(&args, &[]);
    let addr = p.health_addr();
    let line = p.wait_for("consensus watch: trust now");
    let warn = p.wait_for("consensus watch: these weights would get trust");
    // The watch warns; it does not hold the weights back.
    p.wait_for("weights set: extrinsic");
    let sent = set_weights(&chain);
    assert_eq!(sent.len(), 1, "{sent:?}");
    let (uids, weights) = (&sent[0].1.uids, &sent[0].1.weights);
    let pairs: Vec<(u16, u16)> = uids.iter().copied().zip(weights.iter().copied()).collect();
    let predicted = predicted_trust(&pairs, &consensus, Some(0)).trust;
    assert!(predicted > 0.0 && predicted < 0.5, "{predicted} {pairs:?}");
    assert!(
        line.contains(&format!(
            "trust now 0.80, these weights would get {predicted:.2}"
        )),
        "{line}"
    );
    assert!(warn.contains(" WARN "), "{warn}");
    assert!(
        warn.contains(&format!("{predicted:.2}, under 0.50")),
        "{warn}"
    );
    let ready = json_until(addr, "/readyz", |code, _| code == 503);
    let problems = ready["problems"].to_string();
    assert!(
        problems.contains("consensus watch: these weights would get trust"),
        "{ready}"
    );
    let health = get_json(addr, "/healthz").1;
    assert_eq!(
        health["consensus"]["predicted_trust"],
        json!(predicted),
        "{health}"
    );
    assert_eq!(
        health["consensus"]["trust"],
        json!(52428.0 / 65535.0),
        "{health}"
    );
    stop(p);
}

#[test]
fn a_storage_item_that_does_not_decode_is_an_error_naming_it_not_a_reconnect() {
    let net = Subnet::new(2);
    let chain = on_chain(&net, |_| {});
    chain.break_item("WeightsVersionKey").unwrap();
    let mut p = Running::start(&chain_args(&net, &chain, &[]), &[]);
    let named = format!(
        "chain {}: storage item SubtensorModule.WeightsVersionKey cannot be read",
        chain.url()
    );
    // Each due step says so once; the connection is kept.
    for _ in 0..2 {
        let line = p.wait_for(&named);
        assert!(line.contains(" ERROR "), "{line}");
        p.wait_for("weights not set this step (the runtime may have changed");
    }
    assert_eq!(chain.connections(), 1);
    assert_eq!(chain.extrinsics(), []);
    chain.mend_item("WeightsVersionKey").unwrap();
    p.wait_for("weights set: extrinsic");
    let said = stop(p);
    assert_eq!(chain.connections(), 1, "{said}");
    assert!(!said.contains("reconnected"), "{said}");
    assert!(!said.contains("the connection is dropped"), "{said}");
}

#[test]
fn a_storage_item_missing_from_the_runtime_ends_validate_naming_it() {
    let net = Subnet::new(1);
    let chain = on_chain_without(&net, &["ValidatorPermit"], |_| {});
    let mut p = Running::start(&chain_args(&net, &chain, &[]), &[]);
    assert!(
        p.exit_within(Duration::from_secs(120)).is_some(),
        "still running"
    );
    let (code, said) = p.finish();
    assert_eq!(code, Some(1), "{said}");
    assert!(
        said.contains(&format!(
            "chain {}: storage item SubtensorModule.ValidatorPermit cannot be read",
            chain.url()
        )),
        "{said}"
    );
    assert_eq!(chain.connections(), 1, "{said}");
    assert_eq!(chain.extrinsics(), []);
}

#[test]
fn the_weights_sent_are_the_rounds_against_the_chains_limits() {
    let net = Subnet::new(3);
    let chain = on_chain(&net, |s| {
        s.hyperparameters.min_allowed_weights = 2;
        s.hyperparameters.max_weights_limit = 26214;
    });
    let mut p = Running::start(&chain_args(&net, &chain, &["--rounds", "1"]), &[]);
    assert!(p.exit_within(Duration::from_secs(120)).is_some(), "no exit");
    let (code, said) = p.finish();
    assert_eq!(code, Some(0), "{said}");
    let state = net.path("state");
    let read = |f: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(state.join(f)).unwrap()).unwrap()
    };
    // One §11.2 fold of the round's rewards into zeros, then §11.4
    // against the chain's MinAllowedWeights and MaxWeightsLimit.
    let report = read("report.json");
    let saved: ValidatorState = serde_json::from_value(read("state.json")).unwrap();
    let mut expected = ValidatorState::new(saved.hotkeys.clone());
    let rewards = crate::util::rewards(&report);
    expected.fold_round(&rewards, 0.7).unwrap();
    let limits = WeightLimits {
        min_allowed_weights: 2,
        max_weight_limit: 26214,
    };
    let w = weights_for_chain(&expected.scores, saved.hotkeys.len(), limits).unwrap();
    let sent = chain.extrinsics();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let ours = AccountId32::from_str(&saved.hotkeys[0]).unwrap();
    assert_eq!(sent[0].signer, ours.0);
    assert_eq!(
        sent[0].set_weights,
        Some(stand_in::SetWeights {
            netuid: 7,
            uids: w.uids.clone(),
            weights: w.weights.clone(),
            version_key: 1000,
        })
    );
    // MaxWeightsLimit clipped the largest share to 0.4 before the u16
    // scaling.
    let Processed::Float32(shares) = &w.processed_weights else {
        panic!("float32 scores stay float32: {w:?}");
    };
    let largest = shares.iter().copied().fold(0.0f32, f32::max);
    assert!((largest - 0.4).abs() < 1e-4, "{w:?}");
    let file = read("weights.json");
    assert_eq!(
        (&file["uids"], &file["weights"]),
        (&json!(w.uids), &json!(w.weights))
    );
    // The chain's own record: the row, and LastUpdate at its block.
    let subnet = chain.subnet();
    assert_eq!(subnet.neurons[0].last_update, sent[0].block);
    assert!(
        said.contains(&format!("in block {}", sent[0].block)),
        "{said}"
    );
}

#[test]
fn a_round_discarded_because_github_is_down_sends_nothing() {
    let down = crate::util::faults(|info| {
        (info.path == "/user")
            .then(|| Fault::Respond(Response::json(502, &json!({"message": "Server Error"}))))
    });
    let net = Subnet::with_faults(2, down);
    let chain = on_chain(&net, |_| {});
    let mut p = Running::start(&chain_args(&net, &chain, &[]), &[]);
    let addr = p.health_addr();
    p.wait_for("round discarded");
    p.wait_for("weights due, but no scoring round has finished yet: nothing to set");
    p.wait_for("step 3: ");
    let ready = json_until(addr, "/readyz", |code, _| code == 503);
    assert!(
        ready["problems"]
            .to_string()
            .contains("the last round was discarded"),
        "{ready}"
    );
    stop(p);
    assert_eq!(chain.extrinsics(), []);
}

#[test]
fn a_chain_that_goes_away_is_reconnected_to_and_the_weights_follow() {
    // GitHub holds the round until the chain is down: the weights (due at
    // step 1's end) cannot go out before.
    let gate = std::sync::Arc::new(crate::util::Gate::default());
    let g = gate.clone();
    let net = Subnet::with_faults(
        2,
        crate::util::faults(move |_| {
            g.pass();
            None
        }),
    );
    let mut chain = on_chain(&net, |_| {});
    let mut p = Running::start(&chain_args(&net, &chain, &[]), &[]);
    p.wait_for("chain: connected to");
    p.wait_for("round 1 starting");
    chain.stop();
    gate.open();
    // The steps say why and go on.
    p.wait_for(&format!("chain {}: ", chain.url()));
    p.wait_for("] step ");
    assert_eq!(chain.extrinsics(), []);
    chain.restart().unwrap();
    p.wait_for(&format!("chain: reconnected to {}", chain.url()));
    let line = p.wait_for("weights set: extrinsic");
    assert!(line.contains("in block 4"), "{line}");
    stop(p);
    assert_eq!(set_weights(&chain).len(), 1);
    assert!(chain.connections() >= 2);
}
