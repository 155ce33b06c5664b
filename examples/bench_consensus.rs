//! Benchmark of the consensus watch on one step: what it adds to a resync
//! (the consensus view read at the metagraph's block, then the trust of a
//! full weights row against the consensus), in time and in memory. Run
//! through `scripts/bench-consensus.sh`; figures go to BENCHMARKS.md.
//!
//! ```text
//! bench_consensus --endpoint ws://127.0.0.1:PORT [--netuid 1] [--runs 5]
//!                 [--reads-in-flight 16]
//! ```
//! Each run: the best block, the metagraph at it (what a step reads
//! anyway), then the consensus view at the same block and the predicted
//! trust of a row on every uid. Prints a line per run: the metagraph's
//! time, the view's, the arithmetic's, and the process' RSS and peak RSS
//! (kB, `/proc/self/status`) before and after the view.

mod common;

use std::time::Instant;

use gittensor_validator::chain::{Chain, ChainConfig};
use gittensor_validator::scoring::trust::predicted_trust;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// VmRSS and VmHWM of this process, in kB.
fn rss() -> (u64, u64) {
    let [rss, hwm] = common::proc_status(["VmRSS:", "VmHWM:"]);
    (rss, hwm)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let endpoint = arg(&args, "--endpoint").expect("--endpoint ws://...");
    let netuid: u16 = arg(&args, "--netuid").map_or(1, |v| v.parse().expect("a netuid"));
    let runs: u32 = arg(&args, "--runs").map_or(5, |v| v.parse().expect("a number"));
    let in_flight: usize =
        arg(&args, "--reads-in-flight").map_or(16, |v| v.parse().expect("a number"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(async {
        let chain = Chain::new(
            ChainConfig::builder()
                .endpoint(endpoint)
                .reads_in_flight(in_flight)
                .build(),
        );
        println!("run  uids  validators  rows  metagraph_ms  view_ms  trust_us  rss_before_kb  rss_after_kb  hwm_before_kb  hwm_after_kb");
        for run in 1..=runs {
            let head = chain.best_block().await.expect("the best block");
            let t = Instant::now();
            let metagraph = chain.metagraph(netuid, head).await.expect("the metagraph");
            let metagraph_ms = t.elapsed().as_millis();
            let (rss_before, hwm_before) = rss();
            let t = Instant::now();
            let view = chain
                .consensus_view(netuid, &metagraph, head)
                .await
                .expect("the consensus view");
            let view_ms = t.elapsed().as_millis();
            let row: Vec<(u16, u16)> = (1..metagraph.n() as u16).map(|u| (u, 1000 + u)).collect();
            let t = Instant::now();
            let p = predicted_trust(&row, &view.consensus, Some(0));
            let trust_us = t.elapsed().as_micros();
            let (rss_after, hwm_after) = rss();
            assert!(p.trust >= 0.0);
            let validators = view.permits.iter().filter(|&&p| p).count();
            println!(
                "{run}  {}  {validators}  {}  {metagraph_ms}  {view_ms}  {trust_us}  {rss_before}  {rss_after}  {hwm_before}  {hwm_after}",
                metagraph.n(),
                view.weights.len()
            );
        }
    });
}
