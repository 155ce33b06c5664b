#!/usr/bin/env bash
# The consensus watch against the runtime itself, all on 127.0.0.1:
# chopsticks 1.5.1 (npm, cached) runs the 2023 testfinney runtime (spec 103)
# offline. Three validator hotkeys with permits and different stakes set
# different weights on three miners; blocks are built until the subnet's
# epoch runs; then `status --json` reads Consensus, ValidatorTrust, each
# validator's Weights row and stake at one block, and the trust our code
# computes for each validator from the Consensus the runtime stored and that
# validator's row must equal the runtime's ValidatorTrust (within the u16
# rounding of the stored consensus). The `status` table is printed last.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cargo build --quiet --bin gittensor-validator
bin=$root/target/debug/gittensor-validator
tb=$root/scripts/testbed
. scripts/lib/common.sh
. scripts/testbed/rpc.sh
NETUID=1
TEMPO=10

echo "== chain: chopsticks 1.5.1 on the testfinney spec"
eval "$("$tb/start.sh" --port 0 --log "$work/chopsticks.log")"
pids+=("$CHOPSTICKS_PID")

# //V1 is a hotkey of a known seed, so that `validate` can load its keyfile.
# (The miners' axons point at closed ports: validate runs with
# --discard-threshold 1, which folds a round where no axon answered.)
SEED1=0x$(printf '5a%.0s' $(seq 32))
echo "== subnet $NETUID (tempo $TEMPO): validators //V1 //V2 //V3 (stakes 3000, 2000, 1000 TAO), miners //M1 //M2 //M3"
setup() { # VALIDATOR STAKE_RAO [more options]
  local v=$1 stake=$2; shift 2
  node "$tb/setup.mjs" --ws "$CHOPSTICKS_WS" --netuid $NETUID --tempo $TEMPO \
    --validator "$v" --validator-stake "$stake" --miner "//M1,//M2,//M3" \
    --max-allowed-validators 3 --weights-rate-limit 0 --min-allowed-weights 1 "$@" \
    >"$work/setup-${v#//}.json" 2>>"$work/setup.log" || { cat "$work/setup.log"; fail "setup.mjs failed"; }
}
setup seed:$SEED1 3000000000000
mv "$work/setup-seed:$SEED1.json" "$work/setup-V1.json"
setup //V2 2000000000000
setup //V3 1000000000000 --permit-all
state() { python3 -c "import json,sys; print(eval(sys.argv[2], {}, json.load(open(sys.argv[1]))))" "$@"; }
m1=$(state "$work/setup-V1.json" "miners[0]['uid']")
m2=$(state "$work/setup-V1.json" "miners[1]['uid']")
m3=$(state "$work/setup-V1.json" "miners[2]['uid']")
v1=$(state "$work/setup-V1.json" "validator['hotkey']")
v3=$(state "$work/setup-V3.json" "validator['hotkey']")
# Every uid got a permit (--permit-all); the miners have no stake, so the
# runtime's median and our table leave them out.

echo "== three different weights rows"
sw() { node "$tb/set-weights.mjs" --ws "$CHOPSTICKS_WS" --netuid $NETUID --key "$1" --uids "$m1,$m2,$m3" --weights "$2" 2>>"$work/setup.log" \
  || { cat "$work/setup.log"; fail "set_weights by $1 failed"; }; }
sw "$SEED1" 50,30,20 >/dev/null
sw //V2 40,40,20 >/dev/null
last=$(sw //V3 10,10,80)
echo "   weights set; last in block $(state /dev/stdin "block" <<<"$last")"

echo "== build blocks until the epoch has run"
# Networks run their epoch when (block + netuid + 1) % (tempo + 1) == 0.
rpc dev_newBlock "[{\"count\": $((TEMPO + 2))}]" >/dev/null

status() { "$bin" status --netuid $NETUID --subtensor.chain_endpoint "$CHOPSTICKS_WS" --ss58 "$v1" "$@"; }
status --json >"$work/status.json" 2>"$work/status.log" || { cat "$work/status.log"; fail "status failed"; }
python3 - "$work/status.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
rows = [v for v in s["validators"] if v["has_weights"]]
if len(rows) != 3:
    sys.exit(f"FAIL: expected 3 validators with weights, got {[(v['uid'], v['has_weights']) for v in s['validators']]}")
if not s["consensus_known"]:
    sys.exit("FAIL: no consensus on chain after the epoch")
for v in rows:
    lo, hi = v["recomputed_range_u16"]
    print(f"   uid {v['uid']}: ValidatorTrust {v['trust_u16']}, ours {v['recomputed_u16']} (runtime's value must be in [{lo}, {hi}])")
    if not lo <= v["trust_u16"] <= hi:
        sys.exit(f"FAIL: uid {v['uid']}: the runtime's trust {v['trust_u16']} is outside [{lo}, {hi}]")
trusts = sorted(v["trust_u16"] for v in rows)
if trusts[0] == trusts[-1]:
    sys.exit(f"FAIL: the three trusts are equal ({trusts}); the rows should disagree")
if abs(s["trust"] - rows[0]["trust"]) > 1e-9 or s["uid"] != rows[0]["uid"]:
    sys.exit("FAIL: our line does not match the largest validator's row")
PY
pass "the runtime's ValidatorTrust equals the trust computed from its Consensus and each validator's weights"

echo "== the watch on the validator that disagrees (//V3, trust 0.4)"
# Weights as validate writes them: the consensus' own shape would get ~1.
echo "{\"uids\": [$m1, $m2, $m3], \"weights\": [45, 35, 20]}" >"$work/weights.json"
"$bin" status --netuid $NETUID --subtensor.chain_endpoint "$CHOPSTICKS_WS" --ss58 "$v3" --json \
  --weights "$work/weights.json" >"$work/status-v3.json" 2>>"$work/status.log" || { cat "$work/status.log"; fail "status --ss58 V3 failed"; }
python3 - "$work/status-v3.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(f"   //V3: trust {s['trust']:.4f}, its weights on chain would get {s['predicted_trust']:.4f}, the weights file {s['file_predicted_trust']:.4f}")
if not s["file_predicted_trust"] > 0.9:
    sys.exit(f"FAIL: weights near the consensus should get > 0.9, got {s['file_predicted_trust']}")
if s["warning"] is not None:
    sys.exit(f"FAIL: no warning expected for the weights file, got {s['warning']}")
PY
"$bin" status --netuid $NETUID --subtensor.chain_endpoint "$CHOPSTICKS_WS" --ss58 "$v3" \
  >"$work/status-v3.txt" 2>>"$work/status.log" || fail "status --ss58 V3 failed"
grep -q "^warning: these weights would get trust 0.40, under 0.80; likely causes" "$work/status-v3.txt" \
  || { cat "$work/status-v3.txt"; fail "no warning for //V3's weights on chain"; }
pass "status warns on //V3's own weights (trust 0.40 < 0.80) and not on weights near the consensus"

echo "== validate as //V1: /metrics and /healthz show the watch"
mkdir -p "$work/wallets/v1/hotkeys"
printf '{"secretSeed": "%s", "ss58Address": "%s"}' "$SEED1" "$v1" >"$work/wallets/v1/hotkeys/default"
echo '{"acme/widgets": {"weight": 1.0}}' >"$work/repos.json"
echo '{"rs": 1.5}' >"$work/langs.json"
hp=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
"$bin" validate --netuid $NETUID --subtensor.chain_endpoint "$CHOPSTICKS_WS" \
  --wallet.path "$work/wallets" --wallet.name v1 --wallet.hotkey default --state "$work/v1state" \
  --github-api-url http://127.0.0.1:9 --repositories "$work/repos.json" --languages "$work/langs.json" \
  --dry-run --step-interval 1s --epoch-length 1 --dendrite-timeout 2s --health-addr 127.0.0.1:$hp \
  --discard-threshold 1 \
  2>"$work/validate.log" &
vpid=$!
pids+=($vpid)
for _ in $(seq 600); do grep -q "consensus watch: trust now" "$work/validate.log" && break; kill -0 $vpid || break; sleep 0.1; done
grep -q "consensus watch: trust now" "$work/validate.log" || { cat "$work/validate.log"; fail "validate logged no consensus watch line"; }
python3 - "$hp" "$work/healthz.json" "$work/metrics.txt" <<'PY'
import sys, urllib.request, urllib.error
port, health, metrics = sys.argv[1:4]
def get(path):
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5).read().decode()
    except urllib.error.HTTPError as e:
        return e.read().decode()
open(health, "w").write(get("/healthz"))
open(metrics, "w").write(get("/metrics"))
PY
kill -TERM $vpid; wait $vpid || fail "validate did not exit 0 on SIGTERM"
"$bin" status --netuid $NETUID --subtensor.chain_endpoint "$CHOPSTICKS_WS" --ss58 "$v1" --json \
  --weights "$work/v1state/weights.json" >"$work/status-v1.json" 2>>"$work/status.log" || fail "status --weights failed"
python3 - "$work/status-v1.json" "$work/healthz.json" "$work/metrics.txt" <<'PY'
import json, sys
s, h = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
m = dict(l.split(" ", 1) for l in open(sys.argv[3]).read().splitlines() if l.startswith("gittensor_") and " " in l)
g = {k: float(m[f"gittensor_{k}"]) for k in ("validator_trust", "predicted_trust", "consensus_distance")}
c = h["consensus"]
print(f"   /metrics: validator_trust {g['validator_trust']:.4f}, predicted_trust {g['predicted_trust']:.4f}, consensus_distance {g['consensus_distance']:.4f}")
print(f"   status:   trust {s['trust']:.4f}, the same weights.json would get {s['file_predicted_trust']:.4f}")
if abs(g["validator_trust"] - s["trust"]) > 1e-9 or abs(c["trust"] - s["trust"]) > 1e-9:
    sys.exit("FAIL: validate's trust is not the chain's")
if abs(g["predicted_trust"] - s["file_predicted_trust"]) > 1e-9 or abs(c["predicted_trust"] - g["predicted_trust"]) > 1e-9:
    sys.exit("FAIL: validate's predicted trust differs from status' for the same weights")
PY
pass "validate's /metrics and /healthz show the chain's trust and the prediction status computes"

echo "== status (the table)"
status | sed 's/^/   /'
echo "consensus-testbed: all checks passed"
