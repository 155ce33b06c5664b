//! Round benchmarks against the local GitHub-shaped server. Run through
//! `scripts/bench-*.sh`; figures go to BENCHMARKS.md.
//!
//! ```text
//! bench_round event-loop    [--miners 64] [--prs 20] [--latency-ms 50]
//! bench_round critical-path [--sizes 16,64,256] [--latency-ms 50]
//! bench_round rss BIN       [--miners 256] [--prs 20] [--latency-ms 50] [--concurrency N|default] [--file-store FILE]
//!                           (STORE_DB_RESULTS=true and DB_* in the environment: with the results database)
//! bench_round store         [--miners 256] [--prs 20] [--new 2] [--latency-ms 50] [--repeat 3]
//! ```

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gittensor_validator::cancel::Cancel;
use gittensor_validator::github::{Client, ClientConfig};
use gittensor_validator::metagraph::MinerInput;
use gittensor_validator::pipeline::{
    evaluate_miner, finish, run_round, Heartbeat, Lag, PhaseTimes, RoundExtras, RoundOptions,
};
use gittensor_validator::replay::Snapshot;
use gittensor_validator::scoring::{LanguageWeights, MasterRepositories, RoundContext};
use gittensor_validator::store::files::FileStore;
use gittensor_validator::testkit::fakehub::FakeHub;
use gittensor_validator::token::Pat;
use serde_json::{json, Value};

const NOW: &str = "2025-12-20T12:00:00Z";

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_string())
}

/// A realistic patch of `lines` changed lines: code, comments, blanks and a typo fix.
fn patch(seed: u64, lines: usize) -> String {
    let mut s = String::from("@@ -10,6 +10,40 @@ impl Parser {\n");
    for i in 0..lines {
        let line = match (seed as usize + i) % 9 {
            0 => "+    // Keep the cursor in bounds before reading.".to_string(),
            1 => "+".to_string(),
            2 => format!("-    let recieved_{i} = self.read(buf)?;\n+    let received_{i} = self.read(buf)?;"),
            _ => format!("+    let token_{i} = self.next_token(&mut cursor, {i})?.map(|t| t.kind);"),
        };
        s.push_str(&line);
        s.push('\n');
    }
    s
}

/// `n` miners; miner `i` has `prs_of(i)` merged PRs of two files each.
fn world(n: usize, prs_of: impl Fn(usize) -> usize) -> (Snapshot, Vec<MinerInput>) {
    let mut snap = Snapshot::default();
    let mut miners = Vec::new();
    for i in 1..=n {
        let token = format!("bench-token-{i}");
        let id = 10_000 + i as u64;
        snap.users.insert(
            token.clone(),
            json!({"login": format!("m{i}"), "id": id, "created_at": "2019-01-01T00:00:00Z"}),
        );
        let mut prs = Vec::new();
        for k in 0..prs_of(i) {
            let number = (i * 100 + k) as u64;
            prs.push(json!({
                "title": "Improve parser", "number": number, "additions": 40, "deletions": 4,
                "mergedAt": "2025-12-19T10:00:00Z", "createdAt": "2025-12-18T10:00:00Z", "closedAt": "2025-12-19T10:00:00Z",
                "lastEditedAt": null, "bodyText": "Improves the parser.", "state": "MERGED", "commits": {"totalCount": 2},
                "repository": {"name": "parser", "owner": {"login": "acme"}, "defaultBranchRef": {"name": "main"}},
                "headRepository": {"name": "parser", "owner": {"login": format!("m{i}")}},
                "baseRefName": "main", "headRefName": "feature", "author": {"login": format!("m{i}")},
                "authorAssociation": "CONTRIBUTOR", "mergedBy": {"login": "maintainer"},
                "closingIssuesReferences": {"nodes": []}, "reviews": {"nodes": []}
            }));
            let files: Vec<Value> = (0..2)
                .map(|f| {
                    let p = patch((i * 31 + k * 7 + f) as u64, 40);
                    json!({"filename": format!("src/mod{f}.rs"), "status": "modified", "additions": 40, "deletions": 4, "changes": 44, "patch": p})
                })
                .collect();
            snap.files.insert(format!("acme/parser#{number}"), files);
        }
        snap.pull_requests.insert(id.to_string(), prs);
        miners.push(MinerInput {
            uid: i as u16,
            hotkey: Some(format!("hk{i}")),
            pat: Pat::from_text(Some(&token)),
        });
    }
    (snap, miners)
}

fn ctx() -> RoundContext {
    RoundContext {
        repos: MasterRepositories::parse(r#"{"acme/parser": {"weight": 1.0}}"#, "bench").unwrap(),
        languages: LanguageWeights::from_entries([("rs", 1.5)]),
        now: gittensor_validator::scoring::parse_time(NOW).unwrap(),
    }
}

fn client(url: &str, concurrency: usize) -> Client {
    Client::new(
        ClientConfig::builder()
            .base_url(url)
            .max_idle_connections(concurrency)
            .build(),
    )
}

/// One event-loop thread, as the Python validator's asyncio loop.
fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn event_loop(args: &[String]) {
    let miners_n: usize = arg(args, "--miners", "64").parse().unwrap();
    let prs: usize = arg(args, "--prs", "20").parse().unwrap();
    let latency = Duration::from_millis(arg(args, "--latency-ms", "50").parse().unwrap());
    let (snap, miners) = world(miners_n, |_| prs);
    let hub = FakeHub::start(snap, latency, None).unwrap();
    println!("event loop: {miners_n} miners x {prs} PRs, {} ms per request, one event-loop thread, heartbeat every 5 ms", latency.as_millis());
    println!(
        "{:<40} {:>10} {:>12} {:>12}",
        "mode", "wall s", "max lag ms", "p99 lag ms"
    );
    let show = |mode: &str, wall: Duration, lag: Lag| {
        // The histogram stops at 1 s.
        let p99 = if lag.p99_ms >= 1000.0 {
            ">1000".to_string()
        } else {
            format!("{:.1}", lag.p99_ms)
        };
        println!(
            "{mode:<40} {:>10.2} {:>12.1} {p99:>12}",
            wall.as_secs_f64(),
            lag.max_ms
        );
    };

    // 1. GitHub calls inline on the event loop (what this crate forbids;
    //    done here on purpose, to measure what it costs).
    let (wall, lag) = current_thread().block_on(async {
        let hb = Heartbeat::start(Duration::from_millis(5));
        // Let the heartbeat task start before the loop is blocked.
        tokio::task::yield_now().await;
        let started = Instant::now();
        let client = client(&hub.url(), 1);
        let (ctx, times, cancel) = (ctx(), PhaseTimes::default(), Cancel::new());
        let evals = miners
            .iter()
            .map(|m| evaluate_miner(&client, m, &ctx, &cancel, &times, &RoundExtras::default()))
            .collect();
        let _ = finish(evals, &ctx, client.stats(), &times);
        let wall = started.elapsed();
        (wall, hb.stop().await)
    });
    show("inline on the event loop", wall, lag);

    for (mode, concurrency) in [
        ("spawn_blocking, one miner at a time", 1),
        ("spawn_blocking, miners concurrent", miners_n),
    ] {
        let (wall, lag) = current_thread().block_on(async {
            let started = Instant::now();
            let options = RoundOptions {
                concurrency,
                ..RoundOptions::default()
            };
            let report = run_round(
                client(&hub.url(), concurrency),
                miners.clone(),
                Arc::new(ctx()),
                options,
                Cancel::new(),
                RoundExtras::default(),
            )
            .await;
            let lag = Lag {
                max_ms: report.stats.max_event_loop_lag_ms,
                p99_ms: report.stats.p99_event_loop_lag_ms,
            };
            (started.elapsed(), lag)
        });
        show(mode, wall, lag);
    }
}

fn critical_path(args: &[String]) {
    let sizes: Vec<usize> = arg(args, "--sizes", "16,64,256")
        .split(',')
        .map(|s| s.parse().unwrap())
        .collect();
    let latency = Duration::from_millis(arg(args, "--latency-ms", "50").parse().unwrap());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "critical path: miner i has 1 + (7i mod 20) PRs; {} ms per request; concurrency = miners",
        latency.as_millis()
    );
    println!(
        "{:>7} {:>9} {:>10} {:>10} {:>10} {:>8} {:>12}",
        "miners", "requests", "serial s", "floor s", "wall s", "wall/fl", "max lag ms"
    );
    for n in sizes {
        let prs_of = |i: usize| 1 + (7 * i) % 20;
        let (snap, miners) = world(n, prs_of);
        let longest = (1..=n).map(prs_of).max().unwrap();
        // /user, one GraphQL page, then one /files per PR: all serial for one PAT.
        let chain = 2 + longest;
        let requests: usize = (1..=n).map(|i| 2 + prs_of(i)).sum();
        let floor = latency * chain as u32;
        let hub = FakeHub::start(snap, latency, None).unwrap();
        let mut walls = Vec::new();
        let mut lag = 0.0f64;
        for _ in 0..3 {
            let options = RoundOptions {
                concurrency: n,
                ..RoundOptions::default()
            };
            let started = Instant::now();
            let report = rt.block_on(run_round(
                client(&hub.url(), n),
                miners.clone(),
                Arc::new(ctx()),
                options,
                Cancel::new(),
                RoundExtras::default(),
            ));
            walls.push(started.elapsed());
            lag = lag.max(report.stats.max_event_loop_lag_ms);
            assert_eq!(report.stats.github_requests as usize, requests);
        }
        walls.sort();
        let median = walls[1];
        let serial = latency * requests as u32;
        println!(
            "{n:>7} {requests:>9} {:>10.1} {:>10.2} {:>10.2} {:>8.3} {lag:>12.1}",
            serial.as_secs_f64(),
            floor.as_secs_f64(),
            median.as_secs_f64(),
            median.as_secs_f64() / floor.as_secs_f64()
        );
    }
}

fn rss(args: &[String]) {
    let bin = args.get(2).expect("rss BIN").clone();
    let n: usize = arg(args, "--miners", "256").parse().unwrap();
    let prs: usize = arg(args, "--prs", "20").parse().unwrap();
    let latency = Duration::from_millis(arg(args, "--latency-ms", "50").parse().unwrap());
    let (snap, miners) = world(n, |_| prs);
    let hub = FakeHub::start(snap, latency, None).unwrap();
    let dir = std::env::temp_dir().join(format!("gv-bench-rss-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let entries: Vec<Value> = miners
        .iter()
        .map(|m| json!({"uid": m.uid, "hotkey": m.hotkey, "github_access_token": format!("bench-token-{}", m.uid)}))
        .collect();
    std::fs::write(
        dir.join("miners.json"),
        serde_json::to_string(&entries).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("repos.json"),
        r#"{"acme/parser": {"weight": 1.0}}"#,
    )
    .unwrap();
    std::fs::write(dir.join("langs.json"), r#"{"rs": 1.5}"#).unwrap();
    // "default" leaves the flag out, to measure the binary's own default.
    let concurrency = arg(args, "--concurrency", "default");
    let mut cmd = Command::new("/usr/bin/time");
    cmd.arg("-v")
        .arg(&bin)
        .args(["score", "--now", NOW, "--github-api-url", &hub.url()]);
    if concurrency != "default" {
        cmd.args(["--concurrency", &concurrency]);
    }
    // A file store kept between runs, e.g. a cold run then a warm one.
    let store = arg(args, "--file-store", "");
    if !store.is_empty() {
        cmd.args(["--file-store", &store]);
    }
    let out = cmd
        .arg("--miners")
        .arg(dir.join("miners.json"))
        .arg("--repositories")
        .arg(dir.join("repos.json"))
        .arg("--languages")
        .arg(dir.join("langs.json"))
        .arg("--report")
        .arg(dir.join("report.json"))
        .env(
            "RUST_LOG",
            "warn,gittensor_validator::validator::config=info",
        )
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let field = |name: &str| {
        stderr
            .lines()
            .find(|l| l.contains(name))
            .map(|l| l.trim().to_string())
            .unwrap_or_default()
    };
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let stats: BTreeMap<String, Value> = serde_json::from_value(report["stats"].clone()).unwrap();
    println!(
        "peak RSS of `score`: {n} miners x {prs} PRs, {} ms per request, --concurrency {concurrency}",
        latency.as_millis()
    );
    println!("  {}", field("Maximum resident set size"));
    println!("  {}", field("Elapsed (wall clock)"));
    println!(
        "  github_requests: {}, wall_ms: {}, max_event_loop_lag_ms: {}",
        stats["github_requests"], stats["wall_ms"], stats["max_event_loop_lag_ms"]
    );
    // With STORE_DB_RESULTS=true (inherited), the results database's write.
    for line in stderr.lines().filter(|l| l.contains("rounds written in")) {
        println!("  {}", line.split("] ").nth(1).unwrap_or(line));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A cold round with an empty file store, then the same miners with `new`
/// more merged PRs each: once with the same client (as `run` and
/// `validate` keep it between rounds), once with a new one that reopens
/// the store from disk (a new `score --file-store` process).
fn store(args: &[String]) {
    let n: usize = arg(args, "--miners", "256").parse().unwrap();
    let prs: usize = arg(args, "--prs", "20").parse().unwrap();
    let new: usize = arg(args, "--new", "2").parse().unwrap();
    let repeat: usize = arg(args, "--repeat", "3").parse().unwrap();
    let latency = Duration::from_millis(arg(args, "--latency-ms", "50").parse().unwrap());
    let (cold_world, miners) = world(n, |_| prs);
    // The same PRs (same numbers, files and merge times) and `new` more.
    let (warm_world, _) = world(n, |_| prs + new);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let round = |(client, files): (Client, Arc<FileStore>)| {
        let options = RoundOptions {
            concurrency: n,
            ..RoundOptions::default()
        };
        rt.block_on(run_round(
            client,
            miners.clone(),
            Arc::new(ctx()),
            options,
            Cancel::new(),
            RoundExtras {
                files: Some(files),
                ..RoundExtras::default()
            },
        ))
    };
    let names = [
        "cold (empty store)",
        "warm, same process",
        "warm, new process",
    ];
    // Per round kind, per run: requests, user, graphql, files, from store, wall s.
    type Row = (u64, u64, u64, u64, u64, f64);
    let mut rows: Vec<Vec<Row>> = vec![Vec::new(); 3];
    for _ in 0..repeat {
        let dir = std::env::temp_dir().join(format!("gv-bench-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (path, copy) = (dir.join("pr-files.json"), dir.join("copy.json"));
        let hub = FakeHub::start(cold_world.clone(), latency, None).unwrap();
        let with_store =
            |p: &std::path::Path| (client(&hub.url(), n), Arc::new(FileStore::open(p)));
        let first = with_store(&path);
        let cold = round(first.clone());
        std::fs::copy(&path, &copy).unwrap();
        hub.replace_snapshot(warm_world.clone());
        let warm = round(first);
        let fresh = round(with_store(&copy));
        // What the store itself costs: its size, a load, a full write.
        let size = std::fs::metadata(&path).map_or(0, |m| m.len());
        let t = Instant::now();
        let reopened = FileStore::open(&path);
        let open_ms = t.elapsed().as_secs_f64() * 1000.0;
        reopened.put("acme/parser", 1, ctx().now, false, &[]);
        let t = Instant::now();
        reopened.save(ctx().now).unwrap();
        let save_ms = t.elapsed().as_secs_f64() * 1000.0;
        println!(
            "  store: {} entries, {:.1} MB; open {open_ms:.0} ms, save {save_ms:.0} ms",
            reopened.len(),
            size as f64 / 1e6
        );
        for (i, r) in [cold, warm, fresh].iter().enumerate() {
            let by = &r.stats.requests_by_endpoint;
            rows[i].push((
                r.stats.github_requests,
                by["user"],
                by["graphql"],
                by["files"],
                r.stats.files_from_store,
                r.stats.wall_ms as f64 / 1000.0,
            ));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    println!(
        "file store: {n} miners x {prs} merged PRs, then {new} new PRs each; {} ms per request; concurrency = miners; median of {repeat}",
        latency.as_millis()
    );
    println!(
        "{:<20} {:>9} {:>6} {:>8} {:>6} {:>10} {:>7} {:>8} {:>8} {:>7}",
        "round",
        "requests",
        "user",
        "graphql",
        "files",
        "from store",
        "% cold",
        "chain",
        "floor s",
        "wall s"
    );
    let cold_requests = rows[0][0].0 as f64;
    for (name, mut runs) in names.iter().zip(rows) {
        runs.sort_by(|a, b| a.5.total_cmp(&b.5));
        let (requests, user, graphql, files, hits, wall) = runs[runs.len() / 2];
        // Every miner has the same PRs: its chain is its share of each endpoint.
        let chain = (user + graphql + files) / n as u64;
        let floor = latency.as_secs_f64() * chain as f64;
        println!(
            "{name:<20} {requests:>9} {user:>6} {graphql:>8} {files:>6} {hits:>10} {:>6.1}% {chain:>8} {floor:>8.2} {wall:>7.2}",
            100.0 * requests as f64 / cold_requests
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("event-loop") => event_loop(&args),
        Some("critical-path") => critical_path(&args),
        Some("rss") => rss(&args),
        Some("store") => store(&args),
        _ => eprintln!("usage: bench_round event-loop | critical-path | rss BIN | store"),
    }
}
