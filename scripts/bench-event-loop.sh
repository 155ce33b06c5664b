#!/usr/bin/env bash
# Benchmark 1: event-loop lag and wall time of one round of 64 miners x 20
# PRs at 50 ms per GitHub request, in three modes (inline calls on the event
# loop, spawn_blocking one miner at a time, spawn_blocking concurrent).
# Takes about 2.5 minutes (the two serial modes are 64 x 22 requests each).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --example bench_round --quiet
./target/release/examples/bench_round event-loop --miners "${MINERS:-64}" --prs "${PRS:-20}" --latency-ms "${LATENCY_MS:-50}"
