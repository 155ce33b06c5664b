#!/usr/bin/env bash
# Benchmark 5: the PAT phase. 256 test axons on 127.0.0.1 (20 closed ports,
# 10 answering after the 12 s timeout, the rest after 1 s) asked at once
# through the bridge; wall time against the timeout and against asking one
# uid after another, and the event loop's lag meanwhile. RUNS=3 rounds.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --example bench_pats
ulimit -n 65536 2>/dev/null || true
./target/release/examples/bench_pats --uids "${UIDS:-256}" --closed "${CLOSED:-20}" \
  --late "${LATE:-10}" --answer-ms "${ANSWER_MS:-1000}" --timeout-s "${TIMEOUT_S:-12}" --runs "${RUNS:-3}"
