#!/usr/bin/env bash
# Benchmark 6: `validate` on the chopsticks testbed with a 256-uid subnet.
#   bench-validate.sh step [RUNS]    one step without a round, RUNS times: the
#                                    process from start to exit (first sync,
#                                    one step: resync of 256 uids, weights for
#                                    256 uids, set_weights in a block); wall
#                                    time and peak RSS by GNU time, and the
#                                    resync and weights times from the log.
#   bench-validate.sh idle SECONDS   the process left to run SECONDS with a
#                                    block every 2 s, a step every 10 s and no
#                                    round; RSS sampled every 30 s.
# The scores are random float32 (seeded), so the weights have work to do.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-step}
arg=${2:-}
root=$PWD
py=$(scripts/lib/sdk-venv.sh)
cargo build --release --quiet --bin gittensor-validator
bin=$root/target/release/gittensor-validator
tb=$root/scripts/testbed
. scripts/lib/common.sh
. scripts/testbed/rpc.sh

eval "$("$tb/start.sh" --port 0 --log "$work/chopsticks.log" 2>/dev/null)"
pids+=("$CHOPSTICKS_PID")
$py scripts/interop/bt_sdk.py wallets "$work/wallets" validator >"$work/ss58.json"
validator=$($py -c "import json,sys; print(json.load(open(sys.argv[1]))['validator'])" "$work/ss58.json")
miners=$(seq -s, -f '//Miner%g' 1 255)
t0=$(date +%s)
node "$tb/setup.mjs" --ws "$CHOPSTICKS_WS" --netuid 1 --tempo 360 --validator "$validator" --miner "$miners" \
  --max-allowed-validators 1 --max-weights-limit 65535 --min-allowed-weights 8 \
  --weights-rate-limit 0 --version-key 1000 --axon-ip 0.0.0.0 --axon-port-base 0 >/dev/null 2>"$work/setup.log" \
  || { tail -20 "$work/setup.log"; exit 1; }
echo "testbed: 256 uids registered in $(( $(date +%s) - t0 )) s"
node "$tb/readback.mjs" --ws "$CHOPSTICKS_WS" --netuid 1 2>/dev/null >"$work/subnet.json"

# A state at step 1 (not a scoring step) with random float32 scores.
state() {
  mkdir -p "$1"
  $py - "$work/subnet.json" "$1/state.json" <<'PY'
import json, sys
import numpy as np
sub = json.load(open(sys.argv[1]))
hotkeys = [n["hotkey"] for n in sub["neurons"]]
rng = np.random.default_rng(20251125)
scores = (rng.random(len(hotkeys)) ** 4).astype(np.float32)
json.dump({"step": 1, "rounds": 0, "hotkeys": hotkeys, "last_weights_block": None,
           "scores": {"dtype": "float32", "values": [float(x) for x in scores]}}, open(sys.argv[2], "w"))
PY
}
echo '{}' >"$work/repos.json"
echo '{}' >"$work/langs.json"
common=(--netuid 1 --subtensor.chain_endpoint "$CHOPSTICKS_WS" --wallet.path "$work/wallets"
        --wallet.name validator --wallet.hotkey default --repositories "$work/repos.json"
        --languages "$work/langs.json" --github-api-url http://127.0.0.1:9)

case "$mode" in
step)
  echo "run  wall_s  peak_rss_kib  resync_ms(256 uids)  weights_ms(compute+submit+inclusion)"
  for i in $(seq "${arg:-5}"); do
    rpc dev_newBlock '[{"count": 3}]' >/dev/null
    state "$work/step$i"
    /usr/bin/time -v "$bin" validate "${common[@]}" --state "$work/step$i" --rounds 0 \
      --step-interval 1ms --epoch-length 1 2>"$work/step$i.log"
    grep -q "weights set: extrinsic" "$work/step$i.log" || { tail -20 "$work/step$i.log"; exit 1; }
    wall=$(grep "Elapsed (wall clock)" "$work/step$i.log" | awk '{print $NF}')
    rss=$(grep "Maximum resident set size" "$work/step$i.log" | awk '{print $NF}')
    resync=$(grep -o "uids read in [0-9]* ms" "$work/step$i.log" | awk '{print $4}')
    weights=$(grep -o "weights step took [0-9]* ms" "$work/step$i.log" | awk '{print $4}')
    echo "$i  $wall  $rss  $resync  $weights"
  done
  ;;
idle)
  seconds=${arg:-3600}
  state "$work/idle"
  ( while true; do rpc dev_newBlock '[{"count": 1}]' >/dev/null || true; sleep 2; done ) &
  pids+=($!)
  "$bin" validate "${common[@]}" --state "$work/idle" --step-interval 10s --epoch-length 100 \
    2>"$work/idle.log" &
  vpid=$!
  pids+=($vpid)
  echo "elapsed_s  rss_kib  threads  weights_set  resyncs"
  start=$(date +%s)
  while [ $(( $(date +%s) - start )) -lt "$seconds" ]; do
    sleep 30
    kill -0 $vpid 2>/dev/null || { tail -20 "$work/idle.log"; exit 1; }
    rss=$(awk '/VmRSS/{print $2}' /proc/$vpid/status)
    threads=$(awk '/Threads/{print $2}' /proc/$vpid/status)
    sets=$(grep -c "weights set: extrinsic" "$work/idle.log" || true)
    resyncs=$(grep -c "uids read in" "$work/idle.log" || true)
    echo "$(( $(date +%s) - start ))  $rss  $threads  $sets  $resyncs"
  done
  grep -c "WARN\|ERROR" "$work/idle.log" | sed 's/^/warnings and errors in the log: /'
  ;;
*) echo "usage: bench-validate.sh step [RUNS] | idle SECONDS" >&2; exit 2 ;;
esac
