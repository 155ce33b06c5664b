#!/usr/bin/env bash
# Benchmark 7: the file store. A cold round (empty store), then a warm one
# (the same miners, two new merged PRs each), 256 miners x 20 PRs at 50 ms a
# request: requests, wall time and the critical path of each; median of three.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --example bench_round --quiet
./target/release/examples/bench_round store --miners "${MINERS:-256}" --prs "${PRS:-20}" --new "${NEW:-2}" --latency-ms "${LATENCY_MS:-50}" --repeat "${REPEAT:-3}"
