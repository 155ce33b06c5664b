//! The binary as a user runs it: processes, files, exit codes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use gittensor_validator::replay::Snapshot;
use gittensor_validator::testkit::fakehub::FakeHub;
use serde_json::{json, Value};

use crate::util::{
    bound_addr, file_entry, find_leak, pr_node, realistic_pat, signal, user, write_tables, Running,
    SERVING,
};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_gittensor-validator");

pub(crate) fn token(i: u16) -> String {
    format!("ghp_cliTestSecret{i:04}x")
}

/// `n` miners (uids 1..=n), each with 3 merged PRs of 2 files.
pub(crate) fn round_snapshot(n: u16) -> Snapshot {
    round_snapshot_with(&tokens(n))
}

fn tokens(n: u16) -> Vec<String> {
    (1..=n).map(token).collect()
}

/// A miner per token (uids 1..), each with 3 merged PRs of 2 files.
fn round_snapshot_with(tokens: &[String]) -> Snapshot {
    let mut s = Snapshot::default();
    for (i, pat) in (1u16..).zip(tokens) {
        let id = 5000 + u64::from(i);
        s.users.insert(pat.clone(), user(id));
        let prs = (1..=3)
            .map(|k| pr_node("acme/widgets", u64::from(i) * 10 + k, json!({})))
            .collect();
        s.pull_requests.insert(id.to_string(), prs);
        for k in 1..=3 {
            s.files.insert(
                format!("acme/widgets#{}", u64::from(i) * 10 + k),
                vec![
                    file_entry("src/a.rs", 10 + i64::from(i), None),
                    file_entry("tests/a_test.rs", 5, None),
                ],
            );
        }
    }
    s
}

pub(crate) struct Inputs {
    dir: tempfile::TempDir,
}

impl Inputs {
    pub(crate) fn new(n: u16) -> Inputs {
        Inputs::with_tokens(&tokens(n))
    }

    /// A miner per token (uids 1..), and uid 0 without one.
    fn with_tokens(tokens: &[String]) -> Inputs {
        let dir = tempfile::tempdir().unwrap();
        let mut miners: Vec<Value> =
            vec![json!({"uid": 0, "hotkey": "hk0", "github_access_token": null})];
        miners.extend((1u16..).zip(tokens).map(
            |(i, pat)| json!({"uid": i, "hotkey": format!("hk{i}"), "github_access_token": pat}),
        ));
        std::fs::write(
            dir.path().join("miners.json"),
            serde_json::to_string(&miners).unwrap(),
        )
        .unwrap();
        write_tables(dir.path());
        Inputs { dir }
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `score` against `api`, then `extra`.
    pub(crate) fn score_args(&self, api: &str, extra: &[&str]) -> Vec<String> {
        let mut args = vec!["score".to_string()];
        args.extend(self.common(api));
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    }

    /// `run` against `api` with the state in `state`, then `extra`.
    pub(crate) fn run_args(&self, api: &str, state: &Path, extra: &[&str]) -> Vec<String> {
        let mut args = vec!["run".to_string()];
        args.extend(self.common(api));
        args.extend(["--state".to_string(), state.display().to_string()]);
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    }

    fn common(&self, api: &str) -> Vec<String> {
        vec![
            "--miners".into(),
            self.path("miners.json").display().to_string(),
            "--repositories".into(),
            self.path("repos.json").display().to_string(),
            "--languages".into(),
            self.path("langs.json").display().to_string(),
            "--github-api-url".into(),
            api.into(),
            "--now".into(),
            "2025-12-20T12:00:00Z".into(),
        ]
    }
}

/// `score` re-scoring the recording in `dir` offline, at `now`: the command
/// a recording's log line gives.
pub(crate) fn replay_args(dir: &Path, now: &str) -> Vec<String> {
    let path = |n: &str| dir.join(n).display().to_string();
    vec![
        "score".into(),
        "--replay".into(),
        path("snapshot.json"),
        "--miners".into(),
        path("miners.json"),
        "--repositories".into(),
        path("repositories.json"),
        "--languages".into(),
        path("languages.json"),
        "--now".into(),
        now.into(),
    ]
}

/// Runs the binary to its end. A process still running after 5 minutes
/// (far past anything a test asks of it) is killed and fails the test,
/// rather than hang the suite.
pub(crate) fn run(args: &[String], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + Duration::from_secs(300);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let said = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
            let from = said.char_indices().rev().nth(4000).map_or(0, |(i, _)| i);
            let tail = &said[from..];
            panic!("{args:?} still running after 5 minutes; killed. stderr ends:\n{tail}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// `run`, failing the test with the process's stderr unless it succeeded.
pub(crate) fn run_ok(args: &[String], env: &[(&str, &str)]) -> Output {
    let out = run(args, env);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// One `GET /healthz`; its status line and how long it took.
fn healthz(addr: SocketAddr) -> Option<(String, Duration)> {
    let started = Instant::now();
    let mut conn = TcpStream::connect_timeout(&addr, Duration::from_secs(30)).ok()?;
    conn.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    conn.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .ok()?;
    let mut reply = String::new();
    conn.read_to_string(&mut reply).ok()?;
    Some((reply.lines().next()?.to_string(), started.elapsed()))
}

#[test]
fn score_writes_the_report_of_a_slow_round() {
    let hub = FakeHub::start(round_snapshot(16), Duration::from_millis(100), None).unwrap();
    let inputs = Inputs::new(16);
    let report_path = inputs.path("report.json");
    let report_path_text = report_path.display().to_string();
    let args = inputs.score_args(&hub.url(), &["--report", &report_path_text]);
    let out = run_ok(&args, &[]);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    assert_eq!(report["now"], "2025-12-20T12:00:00Z");
    let rewards = report["rewards"].as_object().unwrap();
    assert_eq!(rewards.len(), 17);
    let sum: f64 = rewards.values().map(|v| v.as_f64().unwrap()).sum();
    assert!((sum - 1.0).abs() < 1e-9);
    // Miner 16 changed the most lines: the largest reward.
    let r = |uid: &str| rewards[uid].as_f64().unwrap();
    assert!(r("16") > r("1") && r("1") > 0.0);
    assert_eq!(
        report["evaluations"]["3"]["pull_requests"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // 16 miners x (1 user + 1 graphql + 3 files).
    assert_eq!(report["stats"]["github_requests"], 80);
    // The table on stderr.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("uid  PRs"), "{stderr}");
}

#[test]
fn healthz_answers_at_once_throughout_a_round() {
    // Every GitHub answer takes LATENCY: a loop blocked on GitHub would
    // hold /healthz for about that long.
    const LATENCY: Duration = Duration::from_millis(200);
    let hub = FakeHub::start(round_snapshot(8), LATENCY, None).unwrap();
    hub.set_recording(true);
    let inputs = Inputs::new(8);
    let state = inputs.path("state");
    // Fewer miners at once than miners: the round takes several turns.
    let args = inputs.run_args(
        &hub.url(),
        &state,
        &[
            "--rounds",
            "1",
            "--health-addr",
            "127.0.0.1:0",
            "--concurrency",
            "4",
        ],
    );
    let mut p = Running::start(&args, &[]);
    let addr = p.health_addr();
    let mut answered = Vec::new();
    // The round's report is written when the round is over.
    while !state.join("report.json").exists() {
        // An answer that does not come fails the test: none is skipped.
        let answer = healthz(addr).expect("/healthz did not answer");
        answered.push(answer);
        std::thread::sleep(Duration::from_millis(10));
    }
    let (code, said) = p.finish();
    assert_eq!(code, Some(0), "{said}");
    // 40 requests of 200 ms, 4 miners at a time: about 2 s of asking.
    assert!(answered.len() >= 10, "only {} answers", answered.len());
    for (line, _) in &answered {
        assert_eq!(line, "HTTP/1.1 200 OK");
    }
    // The whole suite runs beside this test on two cores: a single answer
    // may wait for a CPU, so the bound is on the median, against what an
    // answer held behind a GitHub request would take.
    let mut took: Vec<Duration> = answered.iter().map(|(_, t)| *t).collect();
    took.sort();
    assert!(took[took.len() / 2] < LATENCY / 2, "{took:?}");
    // The binary's own measure of the loop: no tick held up for several
    // GitHub answers.
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(state.join("report.json")).unwrap()).unwrap();
    let lag = report["stats"]["max_event_loop_lag_ms"].as_f64().unwrap();
    assert!(
        lag < 5.0 * LATENCY.as_millis() as f64,
        "event-loop lag {lag} ms"
    );
    // The requests to GitHub overlapped the health checks: the round really ran.
    assert_eq!(hub.requests().len(), 40);
}

#[test]
fn the_event_loop_does_not_wait_for_a_stderr_nobody_reads() {
    // 64 miners at debug level log far more than the 64 KiB a pipe holds.
    let hub = FakeHub::start(round_snapshot(64), Duration::from_millis(5), None).unwrap();
    let inputs = Inputs::new(64);
    let state = inputs.path("state");
    let args = inputs.run_args(
        &hub.url(),
        &state,
        &["--interval", "1h", "--health-addr", "127.0.0.1:0"],
    );
    let mut child = Command::new(BIN)
        .args(&args)
        .env("RUST_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read stderr up to the board's address, then stop reading: the pipe
    // fills, and stays full until the round is over.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let mut said = String::new();
    while !line.contains(SERVING) {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "{said}");
        said.push_str(&line);
    }
    let addr = bound_addr(&line);
    // A loop that waited for the full pipe would answer nothing until the
    // test reads again, which it does only once the round is over: the
    // round would never end, and the first /healthz would time out.
    let deadline = Instant::now() + Duration::from_secs(60);
    // The round's report is written when the round is over.
    while !state.join("report.json").exists() {
        assert!(Instant::now() < deadline, "the round did not finish");
        let (status, _) = healthz(addr).expect("/healthz did not answer");
        assert_eq!(status, "HTTP/1.1 200 OK");
        std::thread::sleep(Duration::from_millis(10));
    }
    // Reading again: everything the round logged comes out, far more than
    // the pipe holds, so the binary went on while its stderr was full.
    let reader = std::thread::spawn(move || {
        let mut rest = String::new();
        stderr.read_to_string(&mut rest).unwrap();
        rest
    });
    signal(child.id(), "TERM");
    let status = child.wait().unwrap();
    said.push_str(&reader.join().unwrap());
    assert!(status.success(), "{said}");
    assert!(said.len() > 256 * 1024, "only {} bytes logged", said.len());
    assert!(said.contains("SIGTERM between rounds"), "{said}");
}

#[test]
fn run_keeps_state_across_restarts() {
    let hub = FakeHub::start(round_snapshot(3), Duration::ZERO, None).unwrap();
    let inputs = Inputs::new(3);
    let state = inputs.path("state");
    let mut args = inputs.run_args(&hub.url(), &state, &["--rounds", "2", "--interval", "10ms"]);
    run_ok(&args, &[]);
    let read = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(state.join(name)).unwrap()).unwrap()
    };
    assert_eq!(read("state.json")["rounds"], 2);
    assert_eq!(read("state.json")["scores"]["dtype"], "float32");
    let after_two = read("state.json")["scores"]["values"][1].as_f64().unwrap();
    let weights = read("weights.json");
    let sum: f64 = weights
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_f64().unwrap())
        .sum();
    assert!((sum - 1.0).abs() < 1e-6, "{sum}");
    // A restart resumes from the saved scores.
    let last = args.len() - 3;
    args[last] = "1".into();
    run_ok(&args, &[]);
    let state_json = read("state.json");
    assert_eq!(state_json["rounds"], 3);
    let after_three = state_json["scores"]["values"][1].as_f64().unwrap();
    // Same reward r every round: 0.7r, then 0.91r, then 0.973r (float32).
    assert!(
        (after_three / after_two - 0.973 / 0.91).abs() < 1e-6,
        "{after_two} {after_three}"
    );
    assert_eq!(state_json["hotkeys"][1], "hk1");
}

#[test]
fn run_converts_a_state_of_the_format_before_section_11() {
    let hub = FakeHub::start(round_snapshot(2), Duration::ZERO, None).unwrap();
    let inputs = Inputs::new(2);
    let state = inputs.path("state");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(
        state.join("state.json"),
        r#"{"round": 7, "scores": {"1": {"hotkey": "hk1", "score": 0.5},
                                   "2": {"hotkey": "old", "score": 0.25}}}"#,
    )
    .unwrap();
    run_ok(
        &inputs.run_args(&hub.url(), &state, &["--rounds", "1"]),
        &[],
    );
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(state.join("state.json")).unwrap()).unwrap();
    assert_eq!(saved["rounds"], 8);
    assert_eq!(saved["hotkeys"], json!(["hk0", "hk1", "hk2"]));
    let values = saved["scores"]["values"].as_array().unwrap();
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(state.join("report.json")).unwrap()).unwrap();
    let reward = |uid: &str| report["rewards"][uid].as_f64().unwrap() as f32;
    // uid 1 carried its old 0.5 on; uid 2's hotkey changed: it started at 0.
    let ema = |r: f32, old: f32| 0.7f32 * r + 0.3f32 * old;
    // float32 values are written as their shortest decimal.
    let saved = |i: usize| values[i].to_string().parse::<f32>().unwrap();
    assert_eq!(saved(1), ema(reward("1"), 0.5));
    assert_eq!(saved(2), ema(reward("2"), 0.0));
}

fn check_bad_input(args: Vec<String>, names: &str, says: &str) {
    let out = run(&args, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stderr.contains(names), "{stderr} should name {names}");
    assert!(stderr.contains(says), "{stderr} should say {says}");
}

#[test]
fn bad_input_exits_2_naming_the_file_and_writes_nothing() {
    let inputs = Inputs::new(2);
    let report = inputs.path("report.json");
    let base = |extra: &[&str]| {
        let mut a = vec!["score".to_string()];
        a.extend(inputs.common("http://127.0.0.1:9"));
        a.extend(["--report".into(), report.display().to_string()]);
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let with = |flag: &str, value: &str| {
        let mut a = base(&[]);
        let i = a.iter().position(|x| x == flag).unwrap();
        a[i + 1] = value.into();
        a
    };
    check_bad_input(
        with("--miners", "/nonexistent/miners.json"),
        "/nonexistent/miners.json",
        "No such file",
    );
    std::fs::write(inputs.path("bad.json"), "[{\"uid\": 1,").unwrap();
    let bad = inputs.path("bad.json").display().to_string();
    check_bad_input(with("--miners", &bad), &bad, "not a json list");
    check_bad_input(with("--repositories", &bad), &bad, "bad json");
    check_bad_input(with("--languages", &bad), &bad, "bad json");
    std::fs::write(
        inputs.path("dup.json"),
        r#"[{"uid": 3, "hotkey": "a"}, {"uid": 3, "hotkey": "b"}]"#,
    )
    .unwrap();
    let dup = inputs.path("dup.json").display().to_string();
    check_bad_input(with("--miners", &dup), &dup, "duplicate uid 3");
    std::fs::write(inputs.path("range.json"), r#"[{"uid": 70000}]"#).unwrap();
    let range = inputs.path("range.json").display().to_string();
    check_bad_input(with("--miners", &range), &range, "out of range");
    check_bad_input(with("--now", "yesterday"), "--now", "not an RFC 3339 time");
    check_bad_input(
        with("--github-api-url", "api.github.com"),
        "--github-api-url",
        "not an http(s) URL",
    );
    check_bad_input(
        base(&["--miner-timeout", "soon"]),
        "--miner-timeout",
        "bad duration",
    );
    assert!(!report.exists(), "a failed run wrote a report");
}

#[test]
fn a_secret_in_a_bad_miners_file_is_not_echoed() {
    let inputs = Inputs::new(1);
    let pat = realistic_pat();
    std::fs::write(
        inputs.path("m.json"),
        json!([{"uid": 1, "hotkey": 5, "github_access_token": pat}]).to_string(),
    )
    .unwrap();
    let mut args = vec!["score".to_string()];
    args.extend(inputs.common("http://127.0.0.1:9"));
    let i = args.iter().position(|x| x == "--miners").unwrap();
    args[i + 1] = inputs.path("m.json").display().to_string();
    let out = run(&args, &[("RUST_LOG", "trace")]);
    assert_eq!(out.status.code(), Some(2));
    let all = everything(&[&out], &[]);
    assert!(all.contains("hotkey"), "{all}");
    if let Some(piece) = find_leak(&all, &pat[4..], 8) {
        panic!("a piece of the PAT was echoed: {piece}");
    }
}

/// Everything a process left behind: its output and every file below `dirs`.
pub(crate) fn everything(outputs: &[&Output], dirs: &[&Path]) -> String {
    let mut all = String::new();
    for out in outputs {
        all.push_str(&String::from_utf8_lossy(&out.stdout));
        all.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    let mut stack: Vec<PathBuf> = dirs.iter().map(|d| d.to_path_buf()).collect();
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if let Ok(bytes) = std::fs::read(&path) {
            all.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    all
}

#[test]
fn no_piece_of_a_pat_appears_anywhere_even_at_trace_level() {
    for rust_log in ["trace", "ureq=trace,ureq_proto=trace"] {
        let pats: Vec<String> = (0..3).map(|_| realistic_pat()).collect();
        let hub = FakeHub::start(round_snapshot_with(&pats), Duration::ZERO, None).unwrap();
        let inputs = Inputs::with_tokens(&pats);
        let (state, recording) = (inputs.path("state"), inputs.path("recording"));
        let report = inputs.path("report.json");
        let env = [("RUST_LOG", rust_log)];
        let run = run_ok(
            &inputs.run_args(&hub.url(), &state, &["--rounds", "1"]),
            &env,
        );
        let score = run_ok(
            &inputs.score_args(
                &hub.url(),
                &[
                    "--record",
                    &recording.display().to_string(),
                    "--report",
                    &report.display().to_string(),
                ],
            ),
            &env,
        );
        let all = everything(&[&run, &score], &[&state, &recording, &report]);
        assert!(
            all.contains("DEBUG"),
            "RUST_LOG={rust_log}: debug logging was not on"
        );
        for pat in &pats {
            // The random part: `ghp_` alone is no secret.
            if let Some(piece) = find_leak(&all, &pat[4..], 8) {
                panic!("RUST_LOG={rust_log}: a piece of a PAT leaked: {piece}");
            }
        }
    }
}

#[test]
fn demo_runs_the_bundled_sample() {
    let out = run_ok(&["demo".to_string(), "--report".into(), "-".into()], &[]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["rewards"].as_object().unwrap().len(), 11);
    assert_eq!(
        report["evaluations"]["6"]["failed_reason"],
        "Miner 6's Github account too young (80 < 180 days)"
    );
    assert!(report["rewards"]["1"].as_f64().unwrap() > 0.0);
}

#[test]
fn replay_re_scores_a_snapshot_offline() {
    let inputs = Inputs::new(3);
    std::fs::write(
        inputs.path("snap.json"),
        serde_json::to_string(&round_snapshot(3)).unwrap(),
    )
    .unwrap();
    let mut args = vec!["score".to_string()];
    args.extend(inputs.common("unused"));
    // --replay replaces --github-api-url.
    let i = args.iter().position(|x| x == "--github-api-url").unwrap();
    args.drain(i..i + 2);
    args.extend([
        "--replay".into(),
        inputs.path("snap.json").display().to_string(),
    ]);
    let out = run_ok(&args, &[]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["rewards"]["3"].as_f64().unwrap() > 0.0);
    assert!(Path::new(&inputs.path("snap.json")).exists());
}

#[test]
fn run_keeps_going_when_the_miners_file_goes_bad() {
    let hub = FakeHub::start(round_snapshot(2), Duration::ZERO, None).unwrap();
    let inputs = Inputs::new(2);
    let state = inputs.path("state");
    let args = inputs.run_args(&hub.url(), &state, &["--rounds", "2", "--interval", "3s"]);
    let mut p = Running::start(&args, &[]);
    // Round 1 is saved and the loop waits: break the file before round 2
    // reads it, 3 s from now.
    p.wait_for("next round in");
    std::fs::write(inputs.path("miners.json"), "[{\"uid\": ").unwrap();
    p.wait_for("keeping the miners of the last round");
    let (code, said) = p.finish();
    assert_eq!(code, Some(0), "{said}");
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(state.join("state.json")).unwrap()).unwrap();
    assert_eq!(saved["rounds"], 2);
    assert!(saved["scores"]["values"][2].as_f64().unwrap() > 0.0);
}

#[test]
fn score_record_then_replay_gives_the_same_rewards() {
    let hub = FakeHub::start(round_snapshot(3), Duration::ZERO, None).unwrap();
    let inputs = Inputs::new(3);
    let rec = inputs.path("recorded");
    let rec_text = rec.display().to_string();
    let args = inputs.score_args(&hub.url(), &["--record", &rec_text]);
    let live = run_ok(&args, &[]);
    let stderr = String::from_utf8_lossy(&live.stderr);
    assert!(
        stderr.contains("replay with: gittensor-validator score --replay"),
        "{stderr}"
    );
    for name in [
        "snapshot.json",
        "miners.json",
        "repositories.json",
        "languages.json",
    ] {
        let text = std::fs::read_to_string(rec.join(name)).unwrap();
        assert!(!text.contains("ghp_cliTestSecret"), "{name} holds a PAT");
    }
    let replay = run_ok(&replay_args(&rec, "2025-12-20T12:00:00Z"), &[]);
    let a: Value = serde_json::from_slice(&live.stdout).unwrap();
    let b: Value = serde_json::from_slice(&replay.stdout).unwrap();
    assert_eq!(a["rewards"], b["rewards"]);
    assert_eq!(a["evaluations"], b["evaluations"]);
    assert!(a["rewards"]["3"].as_f64().unwrap() > 0.0);
}

#[test]
fn ctrl_c_ends_a_score_round_cleanly_with_status_1() {
    // Every answer takes 10 s: the round is in flight when SIGINT arrives,
    // and an exit that waited for it would take that long.
    let late = Duration::from_secs(10);
    let hub = FakeHub::start(round_snapshot(4), late, None).unwrap();
    hub.set_recording(true);
    let inputs = Inputs::new(4);
    let report_path = inputs.path("report.json");
    let report_path_text = report_path.display().to_string();
    let args = inputs.score_args(&hub.url(), &["--report", &report_path_text]);
    let p = Running::start(&args, &[]);
    // A request at the hub: the round is in flight, and the signal handlers,
    // installed before it starts, are in place.
    let deadline = Instant::now() + Duration::from_secs(30);
    while hub.requests().is_empty() {
        assert!(Instant::now() < deadline, "no request reached the hub");
        std::thread::sleep(Duration::from_millis(10));
    }
    let started = Instant::now();
    p.signal("INT");
    let (code, stderr) = p.finish();
    // Not a finished round: status 1, but the report shows what was done.
    assert_eq!(code, Some(1), "{stderr}");
    assert!(started.elapsed() < late, "took {:?}", started.elapsed());
    assert!(
        stderr.contains("SIGINT: stopping") && stderr.contains("cancelling the round in flight"),
        "{stderr}"
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    assert_eq!(
        report["evaluations"]["1"]["failed_reason"],
        "Evaluation of miner 1 was cancelled"
    );
    assert_eq!(report["rewards"]["0"], 1.0);
}

#[test]
fn ctrl_c_during_a_run_round_leaves_the_state_unchanged() {
    let hub = FakeHub::start(round_snapshot(3), Duration::ZERO, None).unwrap();
    let inputs = Inputs::new(3);
    let state = inputs.path("state");
    // One quick round for a saved state...
    let args = inputs.run_args(&hub.url(), &state, &["--rounds", "1"]);
    run_ok(&args, &[]);
    let before = std::fs::read_to_string(state.join("state.json")).unwrap();
    // ...then a slow one, interrupted.
    let slow = FakeHub::start(round_snapshot(3), Duration::from_secs(3), None).unwrap();
    let args = inputs.run_args(&slow.url(), &state, &["--rounds", "1"]);
    let mut p = Running::start(&args, &[]);
    // Logged once the signal handlers are in place and the round begins.
    p.wait_for("round 2 starting");
    p.signal("INT");
    let (code, stderr) = p.finish();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("discarded and the saved state is unchanged"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(state.join("state.json")).unwrap(),
        before
    );
}

/// The most requests the hub held at once during a `score` round of 8
/// miners, each `/user` answer held 500 ms, with `extra` flags.
fn peak_in_flight(extra: &[&str]) -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (now, top) = (in_flight.clone(), peak.clone());
    // One PAT's requests are serial, so requests in flight at the hub are
    // at most the miners in flight.
    let hold = crate::util::faults(move |info| {
        if info.path == "/user" {
            let n = now.fetch_add(1, Ordering::SeqCst) + 1;
            top.fetch_max(n, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(500));
            now.fetch_sub(1, Ordering::SeqCst);
        }
        None
    });
    let hub = FakeHub::start(round_snapshot(8), Duration::ZERO, hold).unwrap();
    let inputs = Inputs::new(8);
    let out = run_ok(&inputs.score_args(&hub.url(), extra), &[]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["rewards"]["8"].as_f64().unwrap() > 0.0, "{report}");
    peak.load(Ordering::SeqCst)
}

#[test]
fn score_evaluates_the_miners_at_once_up_to_concurrency() {
    let peak = peak_in_flight(&["--concurrency", "3"]);
    assert!(1 < peak && peak <= 3, "{peak} miners in flight at most");
    // The default is a whole subnet at once.
    let peak = peak_in_flight(&[]);
    assert!(3 < peak && peak <= 8, "{peak} miners in flight at most");
}

#[test]
fn the_report_counts_the_user_asks_github_answered_304() {
    // Miner 2's account answer lacks created_at: not cached, so each round
    // asks again with the ETag it came with, and GitHub answers 304.
    let mut snap = round_snapshot(2);
    let incomplete = snap.users.get_mut(&token(2)).unwrap();
    incomplete.as_object_mut().unwrap().remove("created_at");
    let hub = FakeHub::start(snap, Duration::ZERO, None).unwrap();
    hub.set_recording(true);
    let inputs = Inputs::new(2);
    let state = inputs.path("state");
    let args = inputs.run_args(&hub.url(), &state, &["--rounds", "2", "--interval", "10ms"]);
    run_ok(&args, &[]);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(state.join("report.json")).unwrap()).unwrap();
    assert_eq!(
        report["stats"]["github_not_modified"], 1,
        "{}",
        report["stats"]
    );
    let conditional = hub
        .requests()
        .iter()
        .filter(|r| r.path == "/user" && r.if_none_match.is_some())
        .count();
    assert_eq!(conditional, 1);
}

#[test]
fn a_bad_db_port_or_database_url_exits_2_naming_it_only_when_storing() {
    let hub = FakeHub::start(round_snapshot(1), Duration::ZERO, None).unwrap();
    let inputs = Inputs::new(1);
    let mut args = vec!["score".to_string()];
    args.extend(inputs.common(&hub.url()));
    args.extend([
        "--report".into(),
        inputs.path("r.json").display().to_string(),
    ]);
    let out = run(&args, &[("STORE_DB_RESULTS", "true"), ("DB_PORT", "54x")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("DB_PORT") && stderr.contains("\"54x\""),
        "{stderr}"
    );

    let secret = "hunter2-db-secret";
    let mut with_url = args.clone();
    with_url.extend([
        "--database.store_validation_results".into(),
        "--database.url".into(),
        format!("postgresql://u:{secret}@h:99999/db"),
    ]);
    let out = run(&with_url, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--database.url") && stderr.contains("port"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(secret),
        "the password was echoed: {stderr}"
    );

    // Without the switch the DB_* variables are not read, as in 2.0.7.
    for store in ["false", ""] {
        let out = run(&args, &[("STORE_DB_RESULTS", store), ("DB_PORT", "54x")]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert!(!stderr.contains("results database"), "{stderr}");
    }
}

#[test]
fn a_report_to_a_device_or_a_pipe_is_written_into_it_not_replaced() {
    // `--report /dev/null` as root once renamed a regular file over
    // /dev/null; a named pipe stands for the device here.
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample");
    let dir = tempfile::tempdir().unwrap();
    let pipe = dir.path().join("report.pipe");
    crate::util::fifo(&pipe);
    let reader = {
        let pipe = pipe.clone();
        std::thread::spawn(move || std::fs::read_to_string(pipe).unwrap())
    };
    let mut args = replay_args(&sample, "2025-12-20T12:00:00Z");
    args.extend(["--report".into(), pipe.display().to_string()]);
    run_ok(&args, &[]);
    // Checked before the reader is joined: a replaced pipe would leave it
    // waiting for a writer for good.
    use std::os::unix::fs::FileTypeExt;
    let kind = std::fs::symlink_metadata(&pipe).unwrap().file_type();
    assert!(kind.is_fifo(), "the pipe was replaced: {kind:?}");
    let report: Value = serde_json::from_str(&reader.join().unwrap()).unwrap();
    assert_eq!(report["rewards"].as_object().unwrap().len(), 11);
}
