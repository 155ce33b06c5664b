#!/usr/bin/env bash
# Benchmark 10: memory of a long `run --replay` (issue 22). The bundled
# sample scored ROUNDS times (default 2,000), INTERVAL apart (default 20ms),
# the binary's resident set read from /proc while it runs: its RSS once
# round FIRST (default 200) has started, the largest after that, and the
# last reading before it exits. Fails when the last is more than 1 MiB above
# the one at round FIRST.
#   BIN=target/debug/gittensor-validator scripts/bench-replay-memory.sh
# measures another build (default: the release binary, built here).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/common.sh
rounds=${ROUNDS:-2000}
first=${FIRST:-200}
interval=${INTERVAL:-20ms}
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet --bin gittensor-validator
  BIN=target/release/gittensor-validator
fi

RUST_LOG=info "$BIN" run --replay sample/snapshot.json --miners sample/miners.json \
  --repositories sample/repositories.json --languages sample/languages.json \
  --now 2025-12-20T12:00:00Z --state "$work/state" \
  --interval "$interval" --rounds "$rounds" 2>"$work/log" &
pid=$!
pids+=("$pid")

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null; }
round() { tail -n 300 "$work/log" | sed -n 's/.*] round \([0-9]*\) starting.*/\1/p' | tail -n 1; }
at_first="" largest=0 last=0 started=$(date +%s.%N)
while kill -0 "$pid" 2>/dev/null; do
  now=$(rss) n=$(round)
  if [ -n "$now" ] && [ -n "$n" ]; then
    if [ -z "$at_first" ] && [ "$n" -ge "$first" ]; then at_first=$now; fi
    if [ -n "$at_first" ]; then
      last=$now
      [ "$now" -le "$largest" ] || largest=$now
    fi
  fi
  sleep 0.1
done
wait "$pid" || fail "run exited $?: $(tail -n 5 "$work/log")"
took=$(echo "$(date +%s.%N) - $started" | bc)
done_rounds=$(grep -c '] round [0-9]* starting' "$work/log")
[ "$done_rounds" -eq "$rounds" ] || fail "$done_rounds rounds, not $rounds"
[ -n "$at_first" ] || fail "never saw round $first"
echo "$rounds rounds in ${took%.*} s; RSS at round $first: $at_first KiB, largest after: $largest KiB, last: $last KiB, last - at round $first: $((last - at_first)) KiB"
if [ $((last - at_first)) -le 1024 ]; then
  pass "within 1 MiB of the RSS at round $first"
else
  fail "NOT within 1 MiB of the RSS at round $first (BENCHMARKS.md, benchmark 10)"
fi
