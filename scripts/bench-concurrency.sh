#!/usr/bin/env bash
# Benchmark 4: the default --concurrency. Peak RSS and wall time of the real
# binary scoring one round of MINERS x PRS against the local server (LATENCY_MS
# per request), at the old default (32) and at the binary's own default,
# REPEAT times each, alternating.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin gittensor-validator --example bench_round
for i in $(seq "${REPEAT:-3}"); do
  for c in 32 default; do
    ./target/release/examples/bench_round rss ./target/release/gittensor-validator \
      --miners "${MINERS:-256}" --prs "${PRS:-20}" --latency-ms "${LATENCY_MS:-100}" --concurrency "$c"
  done
done
