#!/usr/bin/env bash
# Interop with the real SDK (bittensor 9.9.0, bittensor-wallet 4.0.0), all
# on 127.0.0.1:
#  1. a wallet made by bittensor-wallet loads here to the same ss58;
#  2. an SDK signature verifies here, ours verifies in the SDK, and a
#     tampered message fails both ways;
#  3. real 9.9.0 axons (signature verification on) answer our dendrite:
#     `score --metagraph` gets the PATs of the good axons and a reason for
#     the blacklisted, failing, slow, closed and unserved ones; the three
#     slow axons each outlast the dendrite timeout, and the report's PAT
#     phase (`stats.pat_query.wall_ms`) must take less than two timeouts:
#     asked one after another they would take three or more;
#  4. the SDK's own dendrite passes our Rust test axon's checks.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
py=$(scripts/lib/sdk-venv.sh)
cargo build --quiet --bin gittensor-validator --example keytool
bin=$root/target/debug/gittensor-validator
keytool=$root/target/debug/examples/keytool
sdk="$py $root/scripts/interop/bt_sdk.py"
. scripts/lib/common.sh

echo "== 1. wallets made by bittensor-wallet 4.0.0 load to the same ss58"
names=(validator good1 good2 blacklisted failing slow slow2 slow3)
$sdk wallets "$work/wallets" "${names[@]}" >"$work/ss58.json"
for name in "${names[@]}"; do
  want=$($py -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$work/ss58.json" "$name")
  got=$($keytool address "$work/wallets/$name/hotkeys/default")
  [ "$got" = "$want" ] || fail "$name: SDK says $want, we derive $got"
done
pass "${#names[@]} hotkeys derive their SDK ss58"

echo "== 2. signatures cross both ways"
key="$work/wallets/validator/hotkeys/default"
ss58=$($keytool address "$key")
msg="1795612680887951053.$ss58.5HZD9gqgtYECdwhMvwZrpip5nifo64wwQUPr5JSQ8im85Nwj.a37d2fec.a7ffc6f8"
sdk_sig=$($sdk sign "$key" "$msg")
$keytool verify "$ss58" "$msg" "$sdk_sig" || fail "an SDK signature does not verify here"
$keytool verify "$ss58" "$msg x" "$sdk_sig" && fail "an SDK signature verifies a tampered message here"
our_sig=$($keytool sign "$key" "$msg")
$sdk verify "$ss58" "$msg" "$our_sig" || fail "our signature does not verify in the SDK"
$sdk verify "$ss58" "$msg x" "$our_sig" && fail "our signature verifies a tampered message in the SDK"
pass "SDK -> Rust and Rust -> SDK signatures verify; tampered ones do not"

echo "== 3. real 9.9.0 axons answer score --metagraph, all at once"
# The slow axons sleep past the timeout: each query to them takes the whole
# timeout, so the phase's duration shows whether they overlapped.
timeout_s=3
slow_s=$((2 * timeout_s))
ports=($($py -c "
import socket
s = [socket.socket() for _ in range(8)]
for x in s: x.bind(('127.0.0.1', 0))
print(' '.join(str(x.getsockname()[1]) for x in s))
"))
pat1=ghp_interopGood1$RANDOM$RANDOM
pat2=ghp_interopGood2$RANDOM$RANDOM
hk() { $keytool address "$work/wallets/$1/hotkeys/default"; }
cat >"$work/axons.json" <<JSON
{"wallets": "$work/wallets", "axons": [
  {"port": ${ports[0]}, "wallet": "good1", "behaviour": "ok", "pat": "$pat1"},
  {"port": ${ports[1]}, "wallet": "good2", "behaviour": "ok", "pat": "$pat2"},
  {"port": ${ports[2]}, "wallet": "blacklisted", "behaviour": "blacklist"},
  {"port": ${ports[3]}, "wallet": "failing", "behaviour": "error"},
  {"port": ${ports[4]}, "wallet": "slow", "behaviour": "slow", "sleep_s": $slow_s, "pat": "ghp_tooLate"},
  {"port": ${ports[6]}, "wallet": "slow2", "behaviour": "slow", "sleep_s": $slow_s, "pat": "ghp_tooLate2"},
  {"port": ${ports[7]}, "wallet": "slow3", "behaviour": "slow", "sleep_s": $slow_s, "pat": "ghp_tooLate3"}
]}
JSON
$sdk axons "$work/axons.json" "$work/ready" >"$work/axons.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do [ -s "$work/ready" ] && break; sleep 0.1; done
[ -s "$work/ready" ] || { cat "$work/axons.log"; fail "the SDK's axons did not start"; }
# uid 0 recycle (unserved); 1-2 good; 3 blacklist; 4 error; 5 slow; 6 closed port; 7 unserved;
# 8-9 slow.
cat >"$work/metagraph.json" <<JSON
[
  {"uid": 0, "hotkey": "$(hk validator)", "ip": "0.0.0.0", "port": 0},
  {"uid": 1, "hotkey": "$(hk good1)", "ip": "127.0.0.1", "port": ${ports[0]}},
  {"uid": 2, "hotkey": "$(hk good2)", "ip": "127.0.0.1", "port": ${ports[1]}},
  {"uid": 3, "hotkey": "$(hk blacklisted)", "ip": "127.0.0.1", "port": ${ports[2]}},
  {"uid": 4, "hotkey": "$(hk failing)", "ip": "127.0.0.1", "port": ${ports[3]}},
  {"uid": 5, "hotkey": "$(hk slow)", "ip": "127.0.0.1", "port": ${ports[4]}},
  {"uid": 6, "hotkey": "$(hk good1)", "ip": "127.0.0.1", "port": ${ports[5]}},
  {"uid": 7, "hotkey": "$(hk good2)", "ip": "0.0.0.0", "port": 0},
  {"uid": 8, "hotkey": "$(hk slow2)", "ip": "127.0.0.1", "port": ${ports[6]}},
  {"uid": 9, "hotkey": "$(hk slow3)", "ip": "127.0.0.1", "port": ${ports[7]}}
]
JSON
# GitHub answers for the two PATs, served by the binary's --replay.
$py scripts/lib/snapshot.py "$work/snapshot.json" "$pat1" "$pat2"
echo '{"acme/widgets": {"weight": 1.0}}' >"$work/repos.json"
echo '{"rs": 1.5}' >"$work/langs.json"
started=$(date +%s.%N)
RUST_LOG=info "$bin" score --metagraph "$work/metagraph.json" \
  --wallet.path "$work/wallets" --wallet.name validator --wallet.hotkey default \
  --replay "$work/snapshot.json" --repositories "$work/repos.json" --languages "$work/langs.json" \
  --now 2025-12-20T12:00:00Z --dendrite-timeout ${timeout_s}s --report "$work/report.json" 2>"$work/score.log" \
  || { cat "$work/score.log"; fail "score --metagraph failed"; }
took=$($py -c "import time,sys; print(round(time.time() - float(sys.argv[1]), 1))" "$started")
$py - "$work/report.json" "$timeout_s" <<'PY' || { cat "$work/score.log"; exit 1; }
import json, sys
r = json.load(open(sys.argv[1]))
ev, errors = r["evaluations"], r.get("pat_query_errors", {})
def check(cond, what):
    if not cond:
        sys.exit(f"FAIL: {what}\nreport: {json.dumps(r, indent=1)[:4000]}")
for uid in ("1", "2"):
    check(ev[uid]["failed_reason"] is None and r["rewards"][uid] > 0,
          f"uid {uid}: the PAT of a real axon did not come back and score")
slow = ("5", "8", "9")
expect = {"3": "403", "4": "500", "6": "transport", "7": "not served"}
expect.update({uid: "no answer within the timeout" for uid in slow})
for uid, says in expect.items():
    check(ev[uid]["failed_reason"] == f"No Github PAT provided by miner {uid}",
          f"uid {uid}: reason {ev[uid]['failed_reason']!r}")
    check(says in errors.get(uid, ""), f"uid {uid}: query error {errors.get(uid)!r} lacks {says!r}")
q = r["stats"]["pat_query"]
check((q["answered"], q["failed"]) == (2, 8), f"pat_query stats {q}")
check(q["timed_out"] == len(slow), f"pat_query stats {q}: not {len(slow)} timed out")
# Each slow query ran to the timeout, so one after another the phase would
# take len(slow) timeouts or more; at once, one timeout and the overhead.
timeout_ms = 1000 * int(sys.argv[2])
check(q["sequential_ms"] >= len(slow) * timeout_ms,
      f"the queries add up to {q['sequential_ms']} ms, under {len(slow)} timeouts of {timeout_ms} ms: "
      "the slow axons did not hold their queries to the timeout")
check(q["wall_ms"] < 2 * timeout_ms,
      f"the PAT phase took {q['wall_ms']} ms, not under two dendrite timeouts ({2 * timeout_ms} ms): "
      f"the {len(slow)} slow axons were not asked at once (the queries add up to {q['sequential_ms']} ms)")
for uid, says in sorted(expect.items(), key=lambda e: int(e[0])):
    print(f"   uid {uid}: {errors[uid]}")
print(f"   PAT phase: {q['wall_ms']} ms; its queries add up to {q['sequential_ms']} ms")
PY
grep -q "$pat1\|$pat2" "$work/score.log" "$work/report.json" && fail "a PAT reached the log or the report"
phase_ms=$($py -c "import json,sys; print(json.load(open(sys.argv[1]))['stats']['pat_query']['wall_ms'])" "$work/report.json")
pass "PATs from 2 real axons scored; blacklisted, failing, 3 slow, closed and unserved got reasons; the PAT phase took ${phase_ms} ms with a ${timeout_s} s timeout (the whole run ${took}s)"

echo "== 4. the SDK's dendrite passes our Rust test axon"
coproc AXON { "$keytool" axon "$work/wallets/good1/hotkeys/default" ghp_fromRustAxon; }
pids+=($AXON_PID)
read -r port <&"${AXON[0]}"
answer=$($sdk dendrite "$port" "$(hk good1)" "$work/wallets" validator 2>/dev/null | tail -1)
exec {AXON[1]}>&-
read -r stats <&"${AXON[0]}" || true
$py -c "
import json, sys
a = json.loads(sys.argv[1])
assert a['status_code'] == 200 and a['token'] == 'ghp_fromRustAxon', a
" "$answer" || fail "the SDK dendrite was refused by our test axon: $answer ($stats)"
[[ "$stats" == "accepted 1 not_verified 0 other 0" ]] || fail "test axon saw: $stats"
pass "SDK dendrite -> Rust test axon: 200 and the PAT ($stats)"
echo "interop-dendrite: all checks passed"
