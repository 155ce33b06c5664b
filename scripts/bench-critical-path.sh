#!/usr/bin/env bash
# Benchmark 2: round wall time against the critical path (the longest chain
# of one PAT's serial requests x latency) at 16, 64 and 256 miners; median of
# three rounds each.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --example bench_round --quiet
./target/release/examples/bench_round critical-path --sizes "${SIZES:-16,64,256}" --latency-ms "${LATENCY_MS:-50}"
