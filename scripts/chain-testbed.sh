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
#  3. a WeightsVersionKey above ours: validate sends nothing the chain
#     would refuse, says why (log and /readyz), and ends cleanly;
#  4. GitHub down: the round is discarded, nothing is submitted, /readyz
#     says why; the next good round submits;
#  5. a weight table edited between two rounds of one process: the second
#     round uses it, and the weights sent after it equal what numpy and
#     bittensor 9.9.0 compute from the two rounds' rewards;
#  6. the results database (a throwaway PostgreSQL) stopped through two
#     rounds: the rewards are those of a run without storage, the weights
#     the reference pipeline's, and both rounds are written once it returns.
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

validate() { # STATE_DIR LOG ENDPOINT [STEP_INTERVAL [MORE FLAGS...]]
  local state=$1 log=$2 endpoint=$3 step=${4:-1s}
  shift 4 2>/dev/null || shift $#
  local github=(--replay "$work/snapshot.json")
  [[ " $* " == *" --github-api-url "* ]] && github=()
  RUST_LOG=info,gittensor_validator::chain=info "$bin" validate --netuid $NETUID \
    --subtensor.chain_endpoint "$endpoint" \
    --wallet.path "$work/wallets" --wallet.name validator --wallet.hotkey default \
    --state "$state" "${github[@]}" \
    --repositories "$work/repos.json" --languages "$work/langs.json" --now 2025-12-20T12:00:00Z \
    --step-interval "$step" --epoch-length 1 --dendrite-timeout 5s "$@" 2>"$log"
}
free_port() { $py -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"; }
# GET /readyz on 127.0.0.1:PORT: prints the body (200 or 503).
readyz() { # PORT
  $py - "$1" <<'PY'
import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/readyz", timeout=5).read().decode())
except urllib.error.HTTPError as e:
    print(e.read().decode())
PY
}
# Waits (at most 120 s) for TEXT in LOG while PID lives.
wait_log() { # LOG TEXT PID
  for _ in $(seq 1200); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || break
    sleep 0.1
  done
  cat "$1"; fail "no \"$2\" in $1"
}
# SIGTERM to the validator run by the background job PID (a subshell, as
# `validate ... &` runs the function), which must exit 0 within 5 s.
stop_clean() { # PID LOG
  pkill -TERM -P "$1"
  for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$1" 2>/dev/null && { cat "$2"; fail "still running 5 s after SIGTERM"; }
  local rc=0
  wait "$1" || rc=$?
  [ $rc = 0 ] || { tail -20 "$2"; fail "SIGTERM: exit status $rc"; }
}

echo "== 1. validate --rounds 1: weights read back from the chain"
before=$(last_update)
validate "$work/s1" "$work/v1.log" "$CHOPSTICKS_WS" 1s --rounds 1 || { cat "$work/v1.log"; fail "validate failed"; }
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
validate "$work/s2" "$work/v2.log" "ws://127.0.0.1:$plisten" 3s --rounds 1 &
vpid=$!
pids+=($vpid)
for _ in $(seq 300); do grep -q "round 1 starting" "$work/v2.log" 2>/dev/null && break; sleep 0.1; done
node -e "fetch('http://127.0.0.1:$pcontrol/cut?mode=refuse&for=5000').then(r=>r.text()).then(t=>console.log('   proxy:', t.trim()))"
wait $vpid || { cat "$work/v2.log"; fail "validate failed across a dropped connection"; }
grep -q "reconnected" "$work/v2.log" || { cat "$work/v2.log"; fail "validate did not reconnect"; }
grep -q "weights set: extrinsic" "$work/v2.log" || { cat "$work/v2.log"; fail "no weights set after the reconnect"; }
after=$(last_update)
[ "$after" -gt "$before" ] || fail "LastUpdate did not move after the reconnect"
drops=$(grep -c "chain ws://127.0.0.1:$plisten: " "$work/v2.log" || true)
pass "cut for 5 s: $drops chain warnings, reconnected, weights set (LastUpdate $before -> $after)"

echo "== 3. a WeightsVersionKey above ours: nothing the chain would refuse is sent"
setup --version-key 2000
rpc dev_newBlock '[{"count": 3}]' >/dev/null
before=$(last_update)
hp=$(free_port)
validate "$work/s3" "$work/v3.log" "$CHOPSTICKS_WS" 1s --health-addr 127.0.0.1:$hp &
vpid=$!
pids+=($vpid)
wait_log "$work/v3.log" "our weights version key 1000 is below netuid $NETUID's WeightsVersionKey 2000: weights are not submitted" $vpid
readyz $hp >"$work/ready3.json"
stop_clean $vpid "$work/v3.log"
grep -q "refused by the chain\|setting weights on" "$work/v3.log" && { cat "$work/v3.log"; fail "an extrinsic the chain refuses was sent"; }
grep -q "WeightsVersionKey 2000" "$work/ready3.json" || { cat "$work/ready3.json"; fail "/readyz did not say why"; }
after=$(last_update)
[ "$after" = "$before" ] || fail "LastUpdate moved ($before -> $after)"
pass "version key below the chain's: nothing sent, SIGTERM exit 0, /readyz: $($py -c "import json,sys; print(json.load(open(sys.argv[1]))['problems'][-1][:60])" "$work/ready3.json")..."

echo "== 4. GitHub down: the round is discarded and nothing is submitted; the next good round submits"
setup --version-key 1000
rpc dev_newBlock '[{"count": 3}]' >/dev/null
before=$(last_update)
down="http://127.0.0.1:$(free_port)"
hp=$(free_port)
validate "$work/s4" "$work/v4a.log" "$CHOPSTICKS_WS" 1s --github-api-url "$down" --miner-timeout 30s --health-addr 127.0.0.1:$hp &
vpid=$!
pids+=($vpid)
wait_log "$work/v4a.log" "no scoring round has finished yet: nothing to set" $vpid
readyz $hp >"$work/ready4.json"
stop_clean $vpid "$work/v4a.log"
grep -q "round discarded: GitHub at $down failed for 3 of 3 miners" "$work/v4a.log" \
  || { cat "$work/v4a.log"; fail "the round was not discarded naming GitHub's URL"; }
grep -q "setting weights on\|weights set: extrinsic" "$work/v4a.log" && { cat "$work/v4a.log"; fail "weights were submitted after a discarded round"; }
grep -q "the last round was discarded" "$work/ready4.json" || { cat "$work/ready4.json"; fail "/readyz did not say the round was discarded"; }
[ "$(last_update)" = "$before" ] || fail "LastUpdate moved after a discarded round"
[ "$($py -c "import json,sys; print(json.load(open(sys.argv[1]))['rounds'])" "$work/s4/state.json")" = 0 ] \
  || fail "a discarded round was folded into the state"
rpc dev_newBlock '[{"count": 3}]' >/dev/null
# The state keeps its step across the restart, so the rounds keep their
# cadence: a 3-step interval puts the next round at the next step.
validate "$work/s4" "$work/v4b.log" "$CHOPSTICKS_WS" 1s --rounds 1 --scoring-interval 3s \
  || { cat "$work/v4b.log"; fail "validate failed after GitHub came back"; }
grep -q "weights set: extrinsic" "$work/v4b.log" || { cat "$work/v4b.log"; fail "the good round after the outage set no weights"; }
after=$(last_update)
[ "$after" -gt "$before" ] || fail "LastUpdate did not move after the good round"
pass "GitHub down: discarded, nothing sent, /readyz: $($py -c "import json,sys; print(json.load(open(sys.argv[1]))['problems'][0][:70])" "$work/ready4.json")...; next good round: weights set (LastUpdate $before -> $after)"

echo "== 5. a weight table edited between two rounds of one process"
rpc dev_newBlock '[{"count": 3}]' >/dev/null
cp "$work/repos.json" "$work/repos.orig.json"
# Rounds at steps 0 and 3 (a 6 s interval of 2 s steps); weights after each.
validate "$work/s5" "$work/v5.log" "$CHOPSTICKS_WS" 2s --rounds 2 --scoring-interval 6s &
vpid=$!
pids+=($vpid)
# This runtime makes blocks only for extrinsics: make one a second.
( while kill -0 $vpid 2>/dev/null; do rpc dev_newBlock '[{"count": 1}]' >/dev/null 2>&1 || true; sleep 1; done ) &
for _ in $(seq 600); do grep -q "weights set: extrinsic" "$work/v5.log" 2>/dev/null && break; sleep 0.1; done
grep -q "weights set: extrinsic" "$work/v5.log" || { cat "$work/v5.log"; fail "no weights after the first round"; }
cp "$work/s5/report.json" "$work/round1.json"
# As upstream's edits do: the repository marked inactive from a date
# before the miners' merges, so round 2 skips their PRs.
echo '{"acme/widgets": {"weight": 1.0, "inactiveAt": "2025-12-01T00:00:00Z"}}' >"$work/repos.json"
wait $vpid || { cat "$work/v5.log"; fail "validate failed over two rounds"; }
cp "$work/repos.orig.json" "$work/repos.json"
grep -q "master repositories $work/repos.json changed: 0 added, 0 removed, 1 re-weighted (\"acme/widgets\")" "$work/v5.log" \
  || { cat "$work/v5.log"; fail "the edited table was not picked up in one line"; }
sets=$(grep -c "weights set: extrinsic" "$work/v5.log")
[ "$sets" -ge 2 ] || { cat "$work/v5.log"; fail "expected weights after both rounds, saw $sets"; }
$py "$tb/reference_weights.py" "$work/round1.json,$work/s5/report.json" "$n" $MIN_ALLOWED $LIMIT >"$work/expected5.json"
$py - "$work/round1.json" "$work/s5/report.json" "$work/expected5.json" "$work/s5/weights.json" <<'PY'
import json, sys
r1, r2, expected, sent = (json.load(open(p)) for p in sys.argv[1:5])
if r1["rewards"] == r2["rewards"]:
    sys.exit("FAIL: the edited table changed no reward")
if r2["evaluations"]["1"]["pull_requests"] or not r1["evaluations"]["1"]["pull_requests"]:
    sys.exit("FAIL: round 2 did not use the edited table")
want = list(zip(expected["uids"], expected["weights"]))
got = list(zip(sent["uids"], sent["weights"]))
if got != want:
    sys.exit(f"FAIL: after the edit validate sent {got}, the reference pipeline gives {want}")
print(f"   round 1 rewards {r1['rewards']}")
print(f"   round 2 rewards {r2['rewards']} (acme/widgets inactive since 2025-12-01)")
print(f"   sent after round 2 = {got}")
PY
pass "the edited table counted from the next round; the weights after it equal the reference pipeline's"
echo "== 6. the results database stopped mid-run: the same rounds and weights, the rounds written after"
. scripts/lib/postgres.sh
pg_up
rpc dev_newBlock '[{"count": 3}]' >/dev/null
STORE_DB_RESULTS=true validate "$work/s6" "$work/v6.log" "$CHOPSTICKS_WS" 2s --rounds 2 --scoring-interval 6s &
vpid=$!
pids+=($vpid)
( while kill -0 $vpid 2>/dev/null; do rpc dev_newBlock '[{"count": 1}]' >/dev/null 2>&1 || true; sleep 1; done ) &
wait_log "$work/v6.log" "results database .*: connected, tables ready" $vpid
pg_stop
stopped=$SECONDS
wait_log "$work/v6.log" "weights set: extrinsic" $vpid
cp "$work/s6/report.json" "$work/round6a.json"
# Down through both rounds and their weights, and for at least a minute:
# back only once validate, done, waits for its unwritten rounds.
wait_log "$work/v6.log" "results database: waiting up to" $vpid
while [ $((SECONDS - stopped)) -lt 60 ]; do sleep 1; done
pg_start
outage=$((SECONDS - stopped))
wait $vpid || { cat "$work/v6.log"; fail "validate failed with the database stopped"; }
$py "$tb/reference_weights.py" "$work/round6a.json,$work/s6/report.json" "$n" $MIN_ALLOWED $LIMIT >"$work/expected6.json"
$py - "$work/s1/report.json" "$work/round6a.json" "$work/s6/report.json" "$work/expected6.json" "$work/s6/weights.json" <<'PY'
import json, sys
plain, r1, r2, expected, sent = (json.load(open(p)) for p in sys.argv[1:6])
if not (r1["rewards"] == r2["rewards"] == plain["rewards"]):
    sys.exit(f"FAIL: rewards with storage {r1['rewards']}, {r2['rewards']}; without {plain['rewards']}")
want = list(zip(expected["uids"], expected["weights"]))
got = list(zip(sent["uids"], sent["weights"]))
if got != want:
    sys.exit(f"FAIL: with the database down validate sent {got}, the reference pipeline gives {want}")
print(f"   sent after round 2 = {got}")
PY
[ "$(grep -c "weights set: extrinsic" "$work/v6.log")" -ge 2 ] || { cat "$work/v6.log"; fail "weights not set after both rounds"; }
[ "$(grep -c "WARN .*results database" "$work/v6.log")" = 1 ] || { grep WARN "$work/v6.log"; fail "not one WARN for the outage"; }
[ "$(grep -c "results database: round of .* written" "$work/v6.log")" = 2 ] || { cat "$work/v6.log"; fail "the 2 rounds were not written after the database returned"; }
uids=$($py -c "import json,sys; print(len(json.load(open(sys.argv[1]))['evaluations']))" "$work/s6/report.json")
[ "$(psql -XAtq -c "SELECT count(*) FROM miner_evaluations")" = "$uids" ] || fail "miner_evaluations does not hold the round's $uids uids"
pass "database down ${outage}s through 2 rounds: rewards as without storage, weights as the reference pipeline's, one WARN, both rounds written after"

grep -q "${pats[0]}\|${pats[1]}\|${pats[2]}" "$work"/v*.log "$work"/s*/*.json && fail "a PAT reached a log or a state file"
echo "chain-testbed: all checks passed"
