#!/usr/bin/env bash
# Benchmark 3: CPU. Patch-scoring throughput with criterion, then the peak
# RSS of the real binary scoring a 256-miner round (measured by GNU time).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --bench patch_scoring 2>&1 | grep -E "^patch_scoring|time:|thrpt:|corpus"
cargo build --release --quiet --bin gittensor-validator --example bench_round
./target/release/examples/bench_round rss ./target/release/gittensor-validator --miners "${MINERS:-256}" --prs "${PRS:-20}" --latency-ms "${LATENCY_MS:-50}" --concurrency default
