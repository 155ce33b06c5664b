//! Switching from the Python validator, as an operator does it: 2.0.7's
//! command line (`scripts/run_validator.sh` at ee451195, with
//! `python neurons/validator.py` replaced by `gittensor-validator validate`)
//! run as is on the metagraph-file testbed, its weight tables found in the
//! gittensor checkout it runs from, and a shadow `--dry-run` that leaves the
//! Python validator's `state.npz` to the switch.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

use crate::axons::Subnet;
use crate::cli::BIN;
use crate::validate::validate_args;

const NOW: &str = "2025-12-20T12:00:00Z";

/// The binary in `cwd`, with `HOME` at `home` and only `env` besides.
fn validate_in(cwd: &Path, home: &Path, args: &[String], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(cwd)
        .env("HOME", home)
        .env_remove("RUST_LOG")
        .env_remove("GITTENSOR_DIR")
        .env_remove("BT_LOGGING_LOGGING_DIR")
        .env_remove("STORE_DB_RESULTS")
        .env_remove("HEALTH_ADDR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// As [`validate_in`], for a line that turns the results database on with
/// no server to reach: the finished round then waits for it at the exit
/// (up to a minute), so the test ends that wait with SIGTERM once the
/// round's state and weights are saved (before any wait, as the README
/// promises; a signal loses nothing then). Whatever the log level, the
/// files say when.
fn validate_storing_in(cwd: &Path, home: &Path, args: &[String]) -> Output {
    use std::io::Read;
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env("HOME", home)
        .env_remove("RUST_LOG")
        .env_remove("GITTENSOR_DIR")
        .env_remove("BT_LOGGING_LOGGING_DIR")
        .env_remove("STORE_DB_RESULTS")
        .env_remove("HEALTH_ADDR")
        // 2.0.7's own variables, pointing at a port where no server is.
        .env("DB_HOST", "127.0.0.1")
        .env("DB_PORT", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        err.read_to_string(&mut text).unwrap();
        text
    });
    let (state, weights) = (
        python_folder(home).join("state.json"),
        python_folder(home).join("weights.json"),
    );
    let saved = || {
        weights.exists()
            && std::fs::read_to_string(&state)
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .is_some_and(|s| s["rounds"] == 1)
    };
    // Bounded: a binary that never saves fails the test, it does not hang it.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while !saved() && child.try_wait().unwrap().is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "no round saved in 120 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    if child.try_wait().unwrap().is_none() {
        // SAFETY: a signal to the child this test started.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    }
    let mut out = child.wait_with_output().unwrap();
    out.stderr = reader.join().unwrap().into_bytes();
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn ok(out: Output) -> String {
    let text = stderr(&out);
    assert!(out.status.success(), "{text}");
    text
}

/// A gittensor checkout holding the testbed's tables where 2.0.7 keeps
/// them, as the operator's upstream clone does.
fn checkout(net: &Subnet) -> PathBuf {
    let root = net.path("gittensor");
    let weights = root.join("gittensor/validator/weights");
    std::fs::create_dir_all(&weights).unwrap();
    std::fs::copy(
        net.path("repos.json"),
        weights.join("master_repositories.json"),
    )
    .unwrap();
    std::fs::copy(
        net.path("langs.json"),
        weights.join("programming_languages.json"),
    )
    .unwrap();
    root
}

/// Upstream's line, `validate` for `neurons/validator.py`:
/// `--netuid $NETUID --subtensor.network $SUBTENSOR_NETWORK --wallet.name
/// $WALLET_NAME --wallet.hotkey $HOTKEY_NAME --axon.port $PORT
/// $OPTIONAL_FLAGS $LOGGING`, then the testbed's own flags (the neurons
/// from a file, the wallet's folder, the local GitHub, one round).
fn upstream_line(net: &Subnet, optional_flags: &str, logging: &str) -> Vec<String> {
    let line = format!(
        "validate --netuid 7 --subtensor.network finney --wallet.name val --wallet.hotkey hk \
         --axon.port 8099 {optional_flags} {logging}"
    );
    let mut args: Vec<String> = line.split_whitespace().map(str::to_string).collect();
    args.extend(testbed(net));
    args
}

fn testbed(net: &Subnet) -> Vec<String> {
    [
        "--metagraph",
        &net.path("metagraph.json").display().to_string(),
        "--wallet.path",
        &net.path("wallets").display().to_string(),
        "--github-api-url",
        &net.hub.url(),
        "--now",
        NOW,
        "--step-interval",
        "50ms",
        "--dendrite-timeout",
        "2s",
        // A round at every step: an imported state's step scores at once.
        "--scoring-interval",
        "50ms",
        "--rounds",
        "1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn weights(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("weights.json")).unwrap()).unwrap()
}

/// The Python validator's folder under `home`, as 2.0.7 makes it.
fn python_folder(home: &Path) -> PathBuf {
    home.join(".bittensor/miners/val/hk/netuid7/validator")
}

/// The level the binary says it logs at (`log level debug: ...`, an INFO
/// line), and the levels of the lines it logged (`INFO`, `DEBUG`, ...).
fn levels(text: &str) -> (Option<String>, Vec<&'static str>) {
    let said = text.lines().find_map(|l| {
        let rest = &l[l.find("] log level ")? + "] log level ".len()..];
        Some(rest.split(':').next()?.to_string())
    });
    let seen = ["ERROR", "WARN", "INFO", "DEBUG", "TRACE"]
        .into_iter()
        .filter(|l| text.lines().any(|line| line.contains(&format!(" {l} "))))
        .collect();
    (said, seen)
}

#[test]
fn upstreams_command_line_runs_as_is_with_the_weights_and_log_level_of_our_spellings() {
    let net = Subnet::new(2);
    let gittensor = checkout(&net);
    // Our spellings: the tables named, the state folder named, RUST_LOG.
    let mut our_levels = Vec::new();
    for rust_log in ["info", "debug", "trace", "warn"] {
        let args = validate_args(&net, &net.path(rust_log), &["--rounds", "1"]);
        let text = ok(validate_in(
            net.path(".").as_path(),
            &net.path("home-ours"),
            &args,
            &[("RUST_LOG", rust_log)],
        ));
        our_levels.push(levels(&text));
    }
    assert_eq!(
        our_levels,
        [
            (Some("info".into()), vec!["INFO"]),
            (Some("debug".into()), vec!["INFO", "DEBUG"]),
            (Some("trace".into()), vec!["INFO", "DEBUG"]),
            (None, vec![]),
        ]
    );
    let expected = weights(&net.path("info"));
    // 2.0.7's line as is, from the checkout, each $LOGGING form, with and
    // without $OPTIONAL_FLAGS.
    let forms = [
        ("", "--logging.info"),
        ("--database.store_validation_results", "--logging.debug"),
        ("", "--logging.trace"),
        ("--database.store_validation_results", "--logging.warning"),
    ];
    for ((optional, logging), want_levels) in forms.iter().zip(&our_levels) {
        let home = net.path(&format!("home{logging}"));
        let line = upstream_line(&net, optional, logging);
        let text = ok(if optional.is_empty() {
            validate_in(&gittensor, &home, &line, &[])
        } else {
            validate_storing_in(&gittensor, &home, &line)
        });
        // The database's own lines (a server that is not there) and the
        // SIGTERM that ends its wait aside.
        let text_but_db: String = text
            .lines()
            .filter(|l| !l.contains("results database") && !l.contains("] SIGTERM: "))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(
            &levels(&text_but_db),
            want_levels,
            "{logging}: the levels of RUST_LOG's twin\n{text}"
        );
        // The state went where 2.0.7 keeps its own.
        assert_eq!(
            weights(&python_folder(&home)),
            expected,
            "{optional} {logging}"
        );
        if logging != &"--logging.warning" {
            assert!(
                text.contains("weight tables from the gittensor checkout"),
                "{text}"
            );
            assert_eq!(
                text.matches("--axon.port (gittensor 2.0.7's) accepted and ignored")
                    .count(),
                1,
                "{text}"
            );
            assert_eq!(
                text.matches("results database: every round stored in")
                    .count(),
                usize::from(!optional.is_empty()),
                "{text}"
            );
        }
    }
}

#[test]
fn rust_log_wins_over_the_logging_flags() {
    let net = Subnet::new(1);
    let gittensor = checkout(&net);
    let home = net.path("home");
    let args = upstream_line(&net, "", "--logging.debug");
    let text = ok(validate_in(
        &gittensor,
        &home,
        &args,
        &[("RUST_LOG", "info")],
    ));
    assert!(
        text.contains("log level info: RUST_LOG=info, which wins over --logging.debug"),
        "{text}"
    );
    assert_eq!(levels(&text).1, ["INFO"], "{text}");
}

/// 2.0.7's flags that mean nothing here, each with a value exactly when
/// 2.0.7's parser takes one (gittensor/utils/config.py, bittensor 9.9.0's
/// axon and logging arguments).
const IGNORED: &[(&str, Option<&str>)] = &[
    ("--axon.port", Some("8099")),
    ("--neuron.axon_off", None),
    ("--axon.ip", Some("0.0.0.0")),
    ("--neuron.dont_save_events", None),
    ("--axon.external_port", Some("8099")),
    ("--blacklist.force_validator_permit", None),
    ("--axon.external_ip", Some("1.2.3.4")),
    ("--blacklist.allow_non_registered", None),
    ("--axon.max_workers", Some("10")),
    ("--logging.record_log", None),
    ("--neuron.sample_size", Some("50")),
    ("--no_version_checking", None),
    ("--neuron.num_concurrent_forwards", Some("1")),
    ("--neuron.vpermit_tao_limit", Some("4096")),
    ("--neuron.timeout", Some("10")),
    ("--neuron.device", Some("cpu")),
    ("--neuron.events_retention_size", Some("2147483648")),
    ("--wandb.project", Some("gittensor-validators")),
    ("--wandb.project_name", Some("template-validators")),
    ("--wandb.entity", Some("opentensor-dev")),
    ("--blacklist.min_stake", Some("12500")),
    ("--strict", None),
];

#[test]
fn each_ignored_flag_is_accepted_and_named_once_and_swallows_no_other() {
    let net = Subnet::new(1);
    let gittensor = checkout(&net);
    let home = net.path("home");
    // Switches and value flags alternate: a switch that took a value would
    // eat the next flag, whose line would then be missing.
    let mut args = upstream_line(&net, "", "--logging.info");
    for (flag, value) in IGNORED {
        args.push(flag.to_string());
        args.extend(value.map(str::to_string));
    }
    let text = ok(validate_in(&gittensor, &home, &args, &[]));
    for (flag, _) in IGNORED {
        let line = format!("{flag} (gittensor 2.0.7's) accepted and ignored: ");
        assert_eq!(text.matches(&line).count(), 1, "{flag}\n{text}");
    }
    // `--axon_off` is 2.0.7's other spelling of `--neuron.axon_off`.
    let mut args = upstream_line(&net, "", "--axon_off");
    args.push("--logging.info".into());
    let text = ok(validate_in(&gittensor, &net.path("home2"), &args, &[]));
    assert!(
        text.contains("--neuron.axon_off (gittensor 2.0.7's) accepted and ignored"),
        "{text}"
    );
}

#[test]
fn each_refused_flag_exits_2_naming_it() {
    let net = Subnet::new(0);
    let gittensor = checkout(&net);
    for extra in [
        &["--mock"][..],
        &["--dev_mode"],
        &["--neuron.remote_debug_port", "8099"],
        &["--subtensor._mock", "True"],
        &["--config", "config.yml"],
    ] {
        let mut args = upstream_line(&net, "", "--logging.info");
        args.extend(extra.iter().map(|s| s.to_string()));
        let out = validate_in(&gittensor, &net.path("home"), &args, &[]);
        let text = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {text}");
        assert!(
            text.contains(&format!(
                "error: {} (gittensor 2.0.7's) is refused: ",
                extra[0]
            )),
            "{extra:?}: {text}"
        );
    }
}

#[test]
fn the_aliases_of_2_0_7_set_what_our_flags_set() {
    let net = Subnet::new(2);
    let ours = net.path("ours");
    let theirs = net.path("theirs");
    ok(validate_in(
        &net.path("."),
        &net.path("home"),
        &validate_args(&net, &ours, &["--rounds", "1", "--alpha", "0.25"]),
        &[],
    ));
    let text = ok(validate_in(
        &net.path("."),
        &net.path("home"),
        &validate_args(
            &net,
            &theirs,
            &[
                "--rounds",
                "1",
                "--neuron.moving_average_alpha",
                "0.25",
                "--neuron.epoch_length",
                "360",
                "--neuron.disable_set_weights",
            ],
        ),
        &[],
    ));
    let state = |d: &Path| -> Value {
        serde_json::from_str(&std::fs::read_to_string(d.join("state.json")).unwrap()).unwrap()
    };
    // At the default alpha (0.7) the scores would differ.
    assert_eq!(state(&ours)["scores"], state(&theirs)["scores"], "{text}");
    assert_eq!(weights(&ours), weights(&theirs));
    // --neuron.disable_set_weights is --dry-run: see the shadow run below.
}

#[test]
fn without_tables_named_they_come_from_the_gittensor_checkout_or_exit_2() {
    let net = Subnet::new(1);
    let gittensor = checkout(&net);
    // Named by GITTENSOR_DIR, from elsewhere.
    let args = upstream_line(&net, "", "--logging.info");
    let elsewhere = net.path("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let text = ok(validate_in(
        &elsewhere,
        &net.path("home"),
        &args,
        &[("GITTENSOR_DIR", gittensor.to_str().unwrap())],
    ));
    let weights_dir = gittensor.join("gittensor/validator/weights");
    assert!(
        text.contains(&format!(
            "weight tables from the gittensor checkout {}: {}, {}",
            gittensor.display(),
            weights_dir.join("master_repositories.json").display(),
            weights_dir.join("programming_languages.json").display()
        )),
        "{text}"
    );
    // Not a checkout, none named: exit 2 saying what to do.
    let out = validate_in(&elsewhere, &net.path("home"), &args, &[]);
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("no --repositories given")
            && text.contains("--gittensor-dir (env GITTENSOR_DIR)")
            && text.contains(&elsewhere.display().to_string()),
        "{text}"
    );
}

/// A metagraph of the Python `state.npz`'s hotkeys (uids 1-3), ours at 0.
pub(crate) fn npz_metagraph(net: &Subnet) {
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
}

fn python_state_npz(folder: &Path) {
    std::fs::create_dir_all(folder).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/state.npz"),
        folder.join("state.npz"),
    )
    .unwrap();
}

fn set_modified(path: &Path, at: SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(at)
        .unwrap();
}

#[test]
fn a_shadow_dry_run_leaves_the_python_validators_state_npz_to_the_switch() {
    let net = Subnet::new(0);
    npz_metagraph(&net);
    let gittensor = checkout(&net);
    let home = net.path("home");
    let python = python_folder(&home);
    python_state_npz(&python);
    // The shadow run: 2.0.7's line with --neuron.disable_set_weights.
    let mut args = upstream_line(&net, "", "--logging.info");
    args.push("--neuron.disable_set_weights".into());
    let text = ok(validate_in(&gittensor, &home, &args, &[]));
    let own = python.with_file_name("validator-dry-run");
    assert!(
        text.contains(&format!("dry run: its state is kept in {}", own.display())),
        "{text}"
    );
    assert!(text.contains("imported the Python validator's"), "{text}");
    assert!(own.join("state.json").exists());
    assert!(
        !python.join("state.json").exists(),
        "nothing written beside the state.npz"
    );
    // The switch, later: the Python validator's state.npz is imported.
    let text = ok(validate_in(
        &gittensor,
        &home,
        &upstream_line(&net, "", "--logging.info"),
        &[],
    ));
    assert!(
        text.contains(&format!(
            "state: imported the Python validator's {}",
            python.join("state.npz").display()
        )),
        "{text}"
    );
    assert!(python.join("state.json").exists());
}

#[test]
fn with_both_state_files_the_newer_is_taken_and_said() {
    let net = Subnet::new(0);
    npz_metagraph(&net);
    let state = net.path("state");
    python_state_npz(&state);
    let args = validate_args(
        &net,
        &state,
        &["--rounds", "1", "--scoring-interval", "50ms"],
    );
    ok(validate_in(&net.path("."), &net.path("home"), &args, &[]));
    let json = state.join("state.json");
    let npz = state.join("state.npz");
    let now = SystemTime::now();
    // The Python validator saved after us (a switch back, then again).
    set_modified(&json, now - Duration::from_secs(600));
    set_modified(&npz, now - Duration::from_secs(60));
    let text = ok(validate_in(&net.path("."), &net.path("home"), &args, &[]));
    assert!(
        text.contains(&format!(
            "state: imported the Python validator's {}",
            npz.display()
        )) && text.contains("the Python validator ran after this one last saved"),
        "{text}"
    );
    assert!(state.join("state.json.replaced").exists());
    // We saved last: our state.json.
    set_modified(&npz, now - Duration::from_secs(3600));
    let text = ok(validate_in(&net.path("."), &net.path("home"), &args, &[]));
    assert!(
        text.contains(&format!("state: {}", json.display()))
            && text.contains("not the Python validator's"),
        "{text}"
    );
}
