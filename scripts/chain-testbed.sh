#!/usr/bin/env bash
# `validate` on a real chain, all on 127.0.0.1: chopsticks 1.5.1 (npm, cached)
# runs the 2023 testfinney runtime (spec 103) offline; a subnet gets the
# validator (uid 0) and four miners whose axons are real bittensor 9.9.0 axons
# (three answer a PAT, one blacklists); GitHub is the binary's --replay.
#  1. `validate --rounds 1` scores a round and sets weights; the u16 list it
#     sent equals the one numpy and bittensor 9.9.0's weight_utils compute
#     from the round's rewards (with MaxWeightsLimit clipping the largest),
#     and Weights(netuid, 0) read back from chain storage is that list as
#     this runtime stores it (floor(v * 65535 / sum));
#  2. the chain connection is cut for a while in the middle of a run (a
#     proxy between validate and the node): validate reconnects and sets
#     weights;
#  3. a submission the chain refuses (a WeightsVersionKey above ours) is
#     logged by its error name and validate still ends cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
py=$(scripts/lib/sdk-venv.sh)
cargo build --quiet --bin gittensor-validator
bin=$root/target/debug/gittensor-validator
sdk="$py $root/scripts/interop/bt_sdk.py"
tb=$root/scripts/testbed
. scripts/lib/common.sh
. scripts/testbed/rpc.sh
NETUID=1
LIMIT=26214        # MaxWeightsLimit: 40 % of 65535, so the recycle uid's share is clipped
MIN_ALLOWED=2      # MinAllowedWeights

echo "== chain: chopsticks 1.5.1 on the testfinney spec"
eval "$("$tb/start.sh" --port 0 --log "$work/chopsticks.log")"
pids+=("$CHOPSTICKS_PID")

echo "== wallets, miners' axons (real bittensor 9.9.0), GitHub replay"
$sdk wallets "$work/wallets" validator m1 m2 m3 m4 >"$work/ss58.json"
ss58() { $py -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$work/ss58.json" "$1"; }
ports=($($py -c "
import socket
s = [socket.socket() for _ in range(5)]
for x in s: x.bind(('127.0.0.1', 0))
print(' '.join(str(x.getsockname()[1]) for x in s))
"))
pats=(ghp_testbedOne$RANDOM ghp_testbedTwo$RANDOM ghp_testbedThree$RANDOM)
cat >"$work/axons.json" <<JSON
{"wallets": "$work/wallets", "axons": [
  {"port": ${ports[0]}, "wallet": "m1", "behaviour": "ok", "pat": "${pats[0]}"},
  {"port": ${ports[1]}, "wallet": "m2", "behaviour": "ok", "pat": "${pats[1]}"},
  {"port": ${ports[2]}, "wallet": "m3", "behaviour": "ok", "pat": "${pats[2]}"},
  {"port": ${ports[3]}, "wallet": "m4", "behaviour": "blacklist"}
]}
JSON
$sdk axons "$work/axons.json" "$work/ready" >"$work/axons.log" 2>&1 &
pids+=($!)
$py scripts/lib/snapshot.py "$work/snapshot.json" "${pats[@]}"
echo '{"acme/widgets": {"weight": 1.0}}' >"$work/repos.json"
echo '{"rs": 1.5}' >"$work/langs.json"
for _ in $(seq 300); do [ -s "$work/ready" ] && break; sleep 0.1; done
[ -s "$work/ready" ] || { cat "$work/axons.log"; fail "the SDK's axons did not start"; }

echo "== subnet $NETUID: validator uid 0 with a permit, miners 1-4 on their axons"
setup() {
  node "$tb/setup.mjs" --ws "$CHOPSTICKS_WS" --netuid $NETUID --tempo 360 \
    --validator "$(ss58 validator)" \
    --miner "$(ss58 m1)@127.0.0.1:${ports[0]},$(ss58 m2)@127.0.0.1:${ports[1]},$(ss58 m3)@127.0.0.1:${ports[2]},$(ss58 m4)@127.0.0.1:${ports[3]}" \
    --max-weights-limit $LIMIT --min-allowed-weights $MIN_ALLOWED --weights-rate-limit 0 \
    --max-allowed-validators 1 "$@" >"$work/subnet.json" 2>"$work/setup.log" \
    || { cat "$work/setup.log"; fail "setup.mjs failed"; }
}
setup --version-key 1000
# Blocks only come with extrinsics here: move past the registrations so that
# an epoch (--epoch-length 1) has passed since the validator's LastUpdate.
rpc dev_newBlock '[{"count": 3}]' >/dev/null
readback() { node "$tb/readback.mjs" --ws "$CHOPSTICKS_WS" --netuid $NETUID "$@" 2>/dev/null; }
last_update() { readback | $py -c "import json,sys; print(json.load(sys.stdin)['neurons'][0]['lastUpdate'])"; }

validate() { # STATE_DIR LOG ENDPOINT [STEP_INTERVAL]
  RUST_LOG=info,gittensor_validator::chain=info "$bin" validate --netuid $NETUID \
    --subtensor.chain_endpoint "$3" \
    --wallet.path "$work/wallets" --wallet.name validator --wallet.hotkey default \
    --state "$1" --replay "$work/snapshot.json" \
    --repositories "$work/repos.json" --languages "$work/langs.json" --now 2025-12-20T12:00:00Z \
    --rounds 1 --step-interval "${4:-1s}" --epoch-length 1 --dendrite-timeout 5s 2>"$2"
}

echo "== 1. validate --rounds 1: weights read back from the chain"
before=$(last_update)
validate "$work/s1" "$work/v1.log" "$CHOPSTICKS_WS" || { cat "$work/v1.log"; fail "validate failed"; }
grep -q "weights set: extrinsic" "$work/v1.log" || { cat "$work/v1.log"; fail "no weights set"; }
n=$($py -c "import json,sys; print(len(json.load(open(sys.argv[1]))['rewards']))" "$work/s1/report.json")
$py "$tb/reference_weights.py" "$work/s1/report.json" "$n" $MIN_ALLOWED $LIMIT >"$work/expected.json"
readback --uid 0 >"$work/stored.json"
$py - "$work/expected.json" "$work/s1/weights.json" "$work/stored.json" $LIMIT <<'PY'
import json, sys
expected, sent, stored = (json.load(open(p)) for p in sys.argv[1:4])
limit = int(sys.argv[4])
want = list(zip(expected["uids"], expected["weights"]))
got = list(zip(sent["uids"], sent["weights"]))
if got != want:
    sys.exit(f"FAIL: validate sent {got}, the reference pipeline gives {want}")
total = sum(w for _, w in want)
as_stored = [[u, w * 65535 // total] for u, w in want]
if stored != as_stored:
    sys.exit(f"FAIL: Weights on chain {stored}, expected {as_stored} (the sent list as spec 103 stores it)")
clipped = max(w for _, w in as_stored)
print(f"   sent (uid, u16) = {got}")
print(f"   stored          = {stored} (largest {clipped} <= MaxWeightsLimit {limit})")
PY
after=$(last_update)
[ "$after" -gt "$before" ] || fail "LastUpdate did not move ($before -> $after)"
block=$(grep -o "in block [0-9]*" "$work/v1.log" | head -1)
pass "weights equal the reference pipeline's and are on chain ($block, LastUpdate $before -> $after)"

echo "== 2. the chain connection drops in the middle of a run and comes back"
rpc dev_newBlock '[{"count": 3}]' >/dev/null
node "$tb/proxy.mjs" --listen 0 --target "$CHOPSTICKS_PORT" --control 0 >"$work/proxy.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/proxy.out" ] && break; sleep 0.1; done
read -r plisten pcontrol < <($py -c "import json,sys; r=json.loads(open(sys.argv[1]).readline()); print(r['listen'], r['control'])" "$work/proxy.out")
before=$(last_update)
# A 3 s step: the cut lands in the first step's wait, well before the
# weights would be due, even on a slow machine.
validate "$work/s2" "$work/v2.log" "ws://127.0.0.1:$plisten" 3s &
vpid=$!
pids+=($vpid)
for _ in $(seq 300); do grep -q "round 1 starting" "$work/v2.log" 2>/dev/null && break; sleep 0.1; done
node -e "fetch('http://127.0.0.1:$pcontrol/cut?mode=refuse&for=5000').then(r=>r.text()).then(t=>console.log('   proxy:', t.trim()))"
wait $vpid || { cat "$work/v2.log"; fail "validate failed across a dropped connection"; }
grep -q "reconnected" "$work/v2.log" || { cat "$work/v2.log"; fail "validate did not reconnect"; }
grep -q "weights set: extrinsic" "$work/v2.log" || { cat "$work/v2.log"; fail "no weights set after the reconnect"; }
after=$(last_update)
[ "$after" -gt "$before" ] || fail "LastUpdate did not move after the reconnect"
drops=$(grep -c "chain: " "$work/v2.log" || true)
pass "cut for 5 s: $drops chain warnings, reconnected, weights set (LastUpdate $before -> $after)"

echo "== 3. a submission the chain refuses"
setup --version-key 2000
rpc dev_newBlock '[{"count": 3}]' >/dev/null
before=$(last_update)
validate "$work/s3" "$work/v3.log" "$CHOPSTICKS_WS" || { cat "$work/v3.log"; fail "validate failed on a refusal"; }
grep -q "refused by the chain in block [0-9]*: IncorrectNetworkVersionKey" "$work/v3.log" \
  || { cat "$work/v3.log"; fail "the refusal was not logged by name"; }
grep -q "below netuid $NETUID's WeightsVersionKey 2000" "$work/v3.log" || fail "no clear version key message"
after=$(last_update)
[ "$after" = "$before" ] || fail "refused weights moved LastUpdate"
pass "refused: $(grep -o 'refused by the chain in block [0-9]*: [A-Za-z]*' "$work/v3.log")"
grep -q "${pats[0]}\|${pats[1]}\|${pats[2]}" "$work"/v*.log "$work"/s*/*.json && fail "a PAT reached a log or a state file"
echo "chain-testbed: all checks passed"
