//! Soak: many rounds against a local GitHub that fails at random, watching
//! the process's memory and thread count. Run through `scripts/soak.sh`.
//!
//! `soak [--rounds 200] [--miners 64] [--fault-percent 5]`

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gittensor_validator::cancel::Cancel;
use gittensor_validator::github::{Client, ClientConfig};
use gittensor_validator::metagraph::MinerInput;
use gittensor_validator::pipeline::{run_round, RoundExtras, RoundOptions};
use gittensor_validator::replay::Snapshot;
use gittensor_validator::scoring::{parse_time, LanguageWeights, MasterRepositories, RoundContext};
use gittensor_validator::testkit::fakehub::{FakeHub, Fault, Response};
use gittensor_validator::token::Pat;
use serde_json::json;

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.into())
}

/// `VmRSS` (KiB) and `Threads` of this process.
fn proc_status() -> (u64, u64) {
    let [rss, threads] = common::proc_status(["VmRSS:", "Threads:"]);
    (rss, threads)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rounds: usize = arg(&args, "--rounds", "200").parse().unwrap();
    let n: usize = arg(&args, "--miners", "64").parse().unwrap();
    let percent: u64 = arg(&args, "--fault-percent", "5").parse().unwrap();

    let mut snap = Snapshot::default();
    let mut miners = Vec::new();
    for i in 1..=n {
        let id = 20_000 + i as u64;
        let token = format!("soak-{i}");
        snap.users.insert(
            token.clone(),
            json!({"login": format!("s{i}"), "id": id, "created_at": "2019-01-01T00:00:00Z"}),
        );
        let prs = (0..5)
            .map(|k| {
                let number = (i * 10 + k) as u64;
                snap.files.insert(
                    format!("acme/parser#{number}"),
                    vec![json!({"filename": "src/lib.rs", "status": "modified", "additions": 12, "deletions": 1, "changes": 13,
                                "patch": "@@ -1 +1,12 @@\n-let x = 1;\n+let y = 1;\n+fn a() {}\n+// note\n+fn b() {}"})],
                );
                json!({"title": "t", "number": number, "mergedAt": "2025-12-19T10:00:00Z", "createdAt": "2025-12-18T10:00:00Z",
                       "state": "MERGED", "repository": {"name": "parser", "owner": {"login": "acme"}, "defaultBranchRef": {"name": "main"}},
                       "headRepository": {"name": "parser", "owner": {"login": format!("s{i}")}}, "baseRefName": "main",
                       "headRefName": "f", "author": {"login": format!("s{i}")}, "authorAssociation": "NONE",
                       "mergedBy": {"login": "m"}, "closingIssuesReferences": {"nodes": []}, "reviews": {"nodes": []}})
            })
            .collect();
        snap.pull_requests.insert(id.to_string(), prs);
        miners.push(MinerInput {
            uid: i as u16,
            hotkey: Some(format!("hk{i}")),
            pat: Pat::from_text(Some(&token)),
        });
    }
    // A fixed pseudo-random fault for a fixed share of requests.
    let counter = Arc::new(AtomicU64::new(0));
    let faults = {
        let counter = counter.clone();
        Arc::new(
            move |_: &gittensor_validator::testkit::fakehub::RequestInfo| {
                let k = counter.fetch_add(1, Ordering::Relaxed);
                let h = k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
                if h % 100 >= percent {
                    return None;
                }
                Some(match h % 6 {
                    0 => Fault::Respond(Response::json(502, &json!({}))),
                    1 => Fault::Reset,
                    2 => Fault::Stall(Duration::from_millis(400)),
                    3 => Fault::Respond(
                        Response::json(429, &json!({"message": "slow"})).header("retry-after", "0"),
                    ),
                    4 => Fault::Truncate,
                    _ => Fault::Respond(Response {
                        status: 200,
                        headers: vec![],
                        body: b"{not json".to_vec(),
                    }),
                })
            },
        )
    };
    let hub = FakeHub::start(snap, Duration::from_millis(2), Some(faults)).unwrap();
    // The server's request log would grow with every round in this process.
    hub.set_recording(false);
    let client = Client::new(
        ClientConfig::builder()
            .base_url(hub.url())
            .timeout(Duration::from_millis(250))
            .backoff_base(Duration::from_millis(5))
            .max_idle_connections(32)
            .build(),
    );
    let ctx = Arc::new(RoundContext {
        repos: MasterRepositories::parse(r#"{"acme/parser": {"weight": 1}}"#, "soak").unwrap(),
        languages: LanguageWeights::default(),
        now: parse_time("2025-12-20T12:00:00Z").unwrap(),
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let options = RoundOptions {
        concurrency: 32,
        miner_timeout: Duration::from_secs(5),
        ..RoundOptions::default()
    };
    let started = Instant::now();
    let (rss0, threads0) = proc_status();
    println!("soak: {rounds} rounds x {n} miners, {percent}% of requests faulted (502, reset, 400 ms stall vs 250 ms timeout, 429, truncated, bad JSON)");
    println!(
        "{:>6} {:>9} {:>9} {:>8} {:>10} {:>9} {:>8}",
        "round", "elapsed s", "RSS KiB", "threads", "requests", "retries", "max lag"
    );
    println!("{:>6} {:>9.1} {rss0:>9} {threads0:>8}", 0, 0.0);
    let (mut first_rss, mut peak_threads) = (0, 0);
    for r in 1..=rounds {
        let report = rt.block_on(run_round(
            client.clone(),
            miners.clone(),
            ctx.clone(),
            options,
            Cancel::new(),
            RoundExtras::default(),
        ));
        let (rss, threads) = proc_status();
        peak_threads = peak_threads.max(threads);
        if r == 20 {
            first_rss = rss;
        }
        if r % 20 == 0 || r == 1 {
            println!(
                "{r:>6} {:>9.1} {rss:>9} {threads:>8} {:>10} {:>9} {:>7.1}",
                started.elapsed().as_secs_f64(),
                report.stats.github_requests,
                report.stats.github_retries,
                report.stats.max_event_loop_lag_ms
            );
        }
    }
    let (rss, threads) = proc_status();
    println!("RSS round 20 -> round {rounds}: {first_rss} -> {rss} KiB; threads now {threads}, peak {peak_threads}");
}
