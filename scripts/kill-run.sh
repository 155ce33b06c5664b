#!/usr/bin/env bash
# State safety: start `run` on the bundled sample (rounds back to back),
# kill -9 it at a random moment, and check that state.json and weights.json
# always parse and that the round counter never goes back. KILLS=50 by default.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin gittensor-validator
bin=./target/release/gittensor-validator
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
kills=${KILLS:-50}
prev=0
seen_rounds=0
for i in $(seq 1 "$kills"); do
  "$bin" run --replay sample/snapshot.json --miners sample/miners.json \
    --repositories sample/repositories.json --languages sample/languages.json \
    --now 2025-12-20T12:00:00Z --state "$dir" --interval 0ms >/dev/null 2>&1 &
  pid=$!
  sleep "$(python3 -c 'import random; print(round(random.uniform(0.02, 0.5), 3))')"
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  if [ -f "$dir/state.json" ]; then
    round=$(python3 -c 'import json, sys; s = json.load(open(sys.argv[1])); print(s["rounds"])' "$dir/state.json") \
      || { echo "kill $i: state.json does not parse"; exit 1; }
    python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$dir/weights.json" \
      || { echo "kill $i: weights.json does not parse"; exit 1; }
    [ "$round" -ge "$prev" ] || { echo "kill $i: round went back from $prev to $round"; exit 1; }
    [ "$round" -gt "$prev" ] && seen_rounds=$((seen_rounds + 1))
    prev=$round
  fi
done
temps=$(find "$dir" -name '.*.tmp.*' | wc -l)
echo "$kills kills: state.json and weights.json parsed after every one; round counter reached $prev, moved on after $seen_rounds kills; $temps temp file(s) left from the last kill (removed at the next start)"
