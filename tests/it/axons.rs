//! `score --metagraph`: the binary asks real test axons on 127.0.0.1 for
//! the PATs (signed with a wallet's hotkey), then scores against a local
//! GitHub.

use std::path::{Path, PathBuf};
use std::time::Duration;

use gittensor_validator::replay::Snapshot;
use gittensor_validator::testkit::fakehub::{FakeHub, FaultFn};
use gittensor_validator::testkit::testaxon::{Behaviour, TestAxon};
use gittensor_validator::wallet::Hotkey;
use serde_json::{json, Value};

use crate::cli::{everything, replay_args, run, run_ok};
use crate::util::{file_entry, find_leak, pr_node, realistic_pat, user, write_tables, ClosedPort};

const NOW: &str = "2025-12-20T12:00:00Z";

/// Writes a bittensor-style hotkey file; the seed is the test's secret.
pub(crate) fn write_wallet(dir: &Path, name: &str, hotkey: &str, seed: [u8; 32]) -> Hotkey {
    let key = Hotkey::from_seed(seed);
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let file = dir.join(name).join("hotkeys").join(hotkey);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(
        &file,
        json!({
            "secretSeed": format!("0x{}", hex(&seed)),
            "publicKey": format!("0x{}", hex(&key.public_key())),
            "accountId": format!("0x{}", hex(&key.public_key())),
            "ss58Address": key.ss58(),
            "secretPhrase": null,
        })
        .to_string(),
    )
    .unwrap();
    key
}

fn seed() -> [u8; 32] {
    // Fresh per test, so a leak check cannot pass on a constant.
    let pat = realistic_pat();
    let mut s = [0u8; 32];
    s.copy_from_slice(&pat.as_bytes()[4..36]);
    s
}

/// A subnet on loopback: uid 0 (the recycle uid, unserved), uids 1..=n
/// with axons answering their PAT, then a blacklisting axon, a closed port
/// and an unserved uid. Every PAT is a GitHub account with one merged PR.
pub(crate) struct Subnet {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) hub: FakeHub,
    pub(crate) _axons: Vec<TestAxon>,
    /// Held for the subnet's life, so its port stays closed.
    _closed: ClosedPort,
    pub(crate) pats: Vec<String>,
    pub(crate) seed: [u8; 32],
}

impl Subnet {
    pub(crate) fn new(n: u8) -> Subnet {
        Subnet::with_faults(n, None)
    }

    /// [`Subnet::new`], its GitHub answering through `faults`.
    pub(crate) fn with_faults(n: u8, faults: Option<FaultFn>) -> Subnet {
        let dir = tempfile::tempdir().unwrap();
        let seed = seed();
        // The validator is uid 0 (the recycle uid), without an axon.
        let validator = write_wallet(&dir.path().join("wallets"), "val", "hk", seed);
        let pats: Vec<String> = (0..n).map(|_| realistic_pat()).collect();
        let mut snap = Snapshot::default();
        let mut axons = Vec::new();
        let mut neurons = vec![json!({"uid": 0, "hotkey": validator.ss58()})];
        for (i, pat) in (1u8..).zip(&pats) {
            let id = 7000 + u64::from(i);
            snap.users.insert(pat.clone(), user(id));
            snap.pull_requests.insert(
                id.to_string(),
                vec![pr_node("acme/widgets", u64::from(i), json!({}))],
            );
            snap.files.insert(
                format!("acme/widgets#{i}"),
                vec![file_entry("src/a.rs", 10 + i64::from(i), None)],
            );
            let axon =
                TestAxon::start(Hotkey::from_seed([i; 32]), Behaviour::Pat(pat.clone())).unwrap();
            neurons.push(json!({"uid": i, "hotkey": axon.axon().hotkey,
                                "ip": "127.0.0.1", "port": axon.addr().port()}));
            axons.push(axon);
        }
        let blacklist = TestAxon::start(Hotkey::from_seed([90; 32]), Behaviour::Blacklist).unwrap();
        let closed = ClosedPort::new();
        let next = neurons.len();
        neurons.push(json!({"uid": next, "hotkey": blacklist.axon().hotkey,
                            "ip": "127.0.0.1", "port": blacklist.addr().port()}));
        neurons.push(
            json!({"uid": next + 1, "hotkey": Hotkey::from_seed([91; 32]).ss58(),
                            "ip": "127.0.0.1", "port": closed.port()}),
        );
        neurons.push(
            json!({"uid": next + 2, "hotkey": Hotkey::from_seed([92; 32]).ss58(),
                            "ip": "0.0.0.0", "port": 0}),
        );
        axons.push(blacklist);
        std::fs::write(
            dir.path().join("metagraph.json"),
            Value::from(neurons).to_string(),
        )
        .unwrap();
        write_tables(dir.path());
        let hub = FakeHub::start(snap, Duration::ZERO, faults).unwrap();
        Subnet {
            dir,
            hub,
            _axons: axons,
            _closed: closed,
            pats,
            seed,
        }
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn score_args(&self, extra: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = [
            "score",
            "--metagraph",
            &self.path("metagraph.json").display().to_string(),
            "--wallet.path",
            &self.path("wallets").display().to_string(),
            "--wallet.name",
            "val",
            "--wallet.hotkey",
            "hk",
            "--repositories",
            &self.path("repos.json").display().to_string(),
            "--languages",
            &self.path("langs.json").display().to_string(),
            "--github-api-url",
            &self.hub.url(),
            "--now",
            NOW,
            "--dendrite-timeout",
            "3s",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    }
}

#[test]
fn score_asks_every_axon_for_its_pat_then_scores() {
    let net = Subnet::new(3);
    let out = run_ok(&net.score_args(&[]), &[]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    // uid 0, three miners, blacklisted, closed port, unserved.
    assert_eq!(report["rewards"].as_object().unwrap().len(), 7);
    for uid in ["1", "2", "3"] {
        let e = &report["evaluations"][uid];
        assert_eq!(e["failed_reason"], Value::Null, "uid {uid}: {e}");
        assert!(report["rewards"][uid].as_f64().unwrap() > 0.0);
    }
    assert_eq!(
        report["evaluations"]["0"]["failed_reason"],
        "SPECIAL CASE UID 0 - RECYCLE UID"
    );
    let errors = &report["pat_query_errors"];
    for (uid, says) in [("4", "403"), ("5", "transport"), ("6", "not served")] {
        assert_eq!(
            report["evaluations"][uid]["failed_reason"],
            format!("No Github PAT provided by miner {uid}")
        );
        assert!(errors[uid].as_str().unwrap().contains(says), "{errors}");
        // The report's hotkey is the metagraph's.
        assert!(report["evaluations"][uid]["hotkey"]
            .as_str()
            .unwrap()
            .starts_with('5'));
    }
    let stats = &report["stats"]["pat_query"];
    assert_eq!(
        (stats["answered"].as_u64(), stats["failed"].as_u64()),
        (Some(3), Some(4))
    );
}

#[test]
fn no_piece_of_a_pat_or_the_wallet_seed_leaks_at_trace_level() {
    let net = Subnet::new(2);
    let report = net.path("report.json");
    let rec = net.path("recording");
    let out = run_ok(
        &net.score_args(&[
            "--report",
            &report.display().to_string(),
            "--record",
            &rec.display().to_string(),
        ]),
        &[("RUST_LOG", "trace")],
    );
    let all = everything(&[&out], &[&report, &rec]);
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
fn a_recorded_round_replays_without_any_axon() {
    let net = Subnet::new(3);
    let rec = net.path("rec");
    let live = run_ok(
        &net.score_args(&["--record", &rec.display().to_string()]),
        &[],
    );
    assert!(rec.join("metagraph.json").exists());
    // No axon and no GitHub from here on; the files stay.
    let Subnet {
        dir: _dir,
        hub,
        _axons: axons,
        ..
    } = net;
    drop((hub, axons));
    let replay = run_ok(&replay_args(&rec, NOW), &[]);
    let a: Value = serde_json::from_slice(&live.stdout).unwrap();
    let b: Value = serde_json::from_slice(&replay.stdout).unwrap();
    assert_eq!(a["rewards"], b["rewards"]);
    assert_eq!(a["evaluations"], b["evaluations"]);
}

#[test]
fn a_bad_wallet_exits_2_naming_the_file() {
    let net = Subnet::new(1);
    let file = net.path("wallets").join("val").join("hotkeys").join("hk");
    let shown = file.display().to_string();
    let check = |contents: Option<&str>, says: &str| {
        match contents {
            Some(c) => std::fs::write(&file, c).unwrap(),
            None => std::fs::remove_file(&file).unwrap(),
        }
        let out = run(&net.score_args(&[]), &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(&shown) && stderr.contains(says), "{stderr}");
    };
    check(Some("$NACL\u{1}\u{2}\u{3}"), "encrypted");
    check(Some("{\"secretSeed\": "), "not a json object");
    let other = Hotkey::from_seed([5; 32]);
    check(
        Some(
            &json!({"secretSeed": format!("0x{}", "07".repeat(32)), "ss58Address": other.ss58()})
                .to_string(),
        ),
        "does not give",
    );
    check(None, "no hotkey file");
}

#[test]
fn wallet_flags_fall_back_to_the_environment() {
    let net = Subnet::new(1);
    let mut args = net.score_args(&[]);
    // Drop --wallet.name/--wallet.hotkey/--wallet.path and their values.
    for flag in ["--wallet.name", "--wallet.hotkey", "--wallet.path"] {
        let i = args.iter().position(|a| a == flag).unwrap();
        args.drain(i..i + 2);
    }
    let wallets = net.path("wallets").display().to_string();
    let env = [
        ("WALLET_NAME", "val"),
        ("HOTKEY_NAME", "hk"),
        ("WALLET_PATH", wallets.as_str()),
    ];
    let out = run_ok(&args, &env);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["rewards"]["1"].as_f64().unwrap() > 0.0);
}

#[test]
fn run_follows_the_metagraph_file_for_pats_and_hotkeys() {
    let net = Subnet::new(2);
    let state = net.path("state");
    let mut args = net.score_args(&["--state", &state.display().to_string(), "--rounds", "1"]);
    args[0] = "run".into();
    run_ok(&args, &[]);
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(state.join("state.json")).unwrap()).unwrap();
    let metagraph: Value =
        serde_json::from_str(&std::fs::read_to_string(net.path("metagraph.json")).unwrap())
            .unwrap();
    let hotkeys: Vec<&Value> = metagraph
        .as_array()
        .unwrap()
        .iter()
        .map(|n| &n["hotkey"])
        .collect();
    assert_eq!(
        saved["hotkeys"]
            .as_array()
            .unwrap()
            .iter()
            .collect::<Vec<_>>(),
        hotkeys
    );
    let values = saved["scores"]["values"].as_array().unwrap();
    assert_eq!(values.len(), hotkeys.len());
    // The two miners whose axons gave a PAT earned a score.
    assert!(values[1].as_f64().unwrap() > 0.0 && values[2].as_f64().unwrap() > 0.0);
}
