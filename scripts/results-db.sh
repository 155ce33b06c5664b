#!/usr/bin/env bash
# The results database against a real PostgreSQL (a throwaway cluster on
# 127.0.0.1, scripts/lib/postgres.sh; Debian's server installed when
# missing), with our binary:
#  1. the schema we create is the one 2.0.7's own migrations create
#     (tests/data/results-db/schema.json), plus ours (gv_*), version 1;
#  2. the rows: for each tests/data/results-db/<case>.json, `score` on its
#     inputs writes exactly the rows 2.0.7's DatabaseStorage wrote (all
#     columns but surrogate ids and the times the database sets);
#  3. storage changes nothing of the round (same report with and without),
#     and a round stored twice leaves the same rows (the upserts);
#  4. a server down at start: a WARN, retries, the round written once it
#     is back; a signal while score waits for it: a short wait, the lost
#     round said, the report written as without storage;
#  5. a server stopped mid-run (`run --replay`): the rounds go on, /readyz
#     stays ready, /healthz and /metrics say so, ONE WARN for the outage,
#     every round written after it returns;
#  6. memory is bounded: past --database.max_pending_rounds the oldest
#     unwritten round is dropped with a WARN counting them;
#  7. a row the server refuses (a 600-character file name, too long for
#     2.0.7's VARCHAR(500)) skips that step, as 2.0.7 does, and the rest
#     is written;
#  8. no PAT and no database password anywhere: not in the database, not
#     in a log line.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cargo build --quiet --bin gittensor-validator
bin=$root/target/debug/gittensor-validator
. scripts/lib/common.sh
. scripts/lib/postgres.sh
pg_up
# A password the server never asks for (trust auth): it must show nowhere.
export DB_PASSWORD="gv-secret-$RANDOM$RANDOM"
unset STORE_DB_RESULTS
tables="file_changes issues languages miner_evaluations miners pull_requests repositories"
sample=(--repositories sample/repositories.json --languages sample/languages.json)
NOW=2025-12-20T12:00:00Z

# Waits (up to $2 s, default 120) for a line matching $1 in file $3.
wait_for() {
  local pattern=$1 secs=${2:-120} file=$3 i
  for ((i = 0; i < secs * 10; i++)); do
    grep -q -- "$pattern" "$file" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "--- $file" >&2; tail -30 "$file" >&2
  fail "no line matching '$pattern' in $file after ${secs}s"
}
q() { psql -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
reset_db() {
  q "SET client_min_messages = warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public;"
}

echo "== 1. the schema is 2.0.7's, plus ours"
STORE_DB_RESULTS=true "$bin" score --miners sample/miners.json "${sample[@]}" \
  --replay sample/snapshot.json --now $NOW --report "$work/report-db.json" 2>"$work/score1.log" ||
  { cat "$work/score1.log" >&2; fail "score with storage"; }
wait_for "round of $NOW written" 5 "$work/score1.log"
python3 scripts/results-db/schema.py $tables >"$work/schema.json"
python3 - "$work/schema.json" tests/data/results-db/schema.json <<'PY' || fail "schema differs from 2.0.7's"
import json, sys
ours = json.load(open(sys.argv[1]))
ref = json.load(open(sys.argv[2]))["tables"]
bad = 0
for t, want in ref.items():
    for key in want:
        if ours.get(t, {}).get(key) != want[key]:
            bad += 1
            print(f"{t}.{key}:\n  ours {json.dumps(ours.get(t, {}).get(key))}\n  2.0.7 {json.dumps(want[key])}")
sys.exit(1 if bad else 0)
PY
[ "$(q "SELECT string_agg(version::text, ',') FROM gv_schema_version")" = 1 ] || fail "schema version is not 1"
[ "$(q "SELECT count(*) FROM gv_round_history")" = 11 ] || fail "gv_round_history: one row per uid expected"
pass "7 tables as 2.0.7 creates them (columns, types, defaults, keys, checks, indexes); gv_schema_version 1, gv_round_history"

echo "== 2. the rows 2.0.7 writes for the same round"
cases=0
for case in tests/data/results-db/*.json; do
  [ "$(basename "$case")" = schema.json ] && continue
  cases=$((cases + 1))
  name=$(basename "$case" .json)
  reset_db
  rounds=$(python3 scripts/results-db/rows.py rounds "$case")
  for ((i = 0; i < rounds; i++)); do
    dir="$work/case-$name-$i"
    mkdir -p "$dir"
    args=$(python3 scripts/results-db/rows.py inputs "$case" $i "$dir")
    # shellcheck disable=SC2086 # the flags, word by word
    STORE_DB_RESULTS=true "$bin" score $args --report "$dir/report.json" 2>"$dir/score.log" || true
    wait_for "results database: round of .* written" 5 "$dir/score.log"
    python3 scripts/results-db/rows.py compare "$case" $i || fail "$name round $i: rows differ from 2.0.7's"
  done
  pg_dump --data-only >"$work/dump-$name.sql"
  while read -r pat; do
    [ -n "$pat" ] || continue
    grep -qF -- "$pat" "$work/dump-$name.sql" && fail "$name: a PAT is in the database"
  done < <(python3 scripts/results-db/rows.py pats "$case")
  pass "$name: every row of every table 2.0.7 left, column by column ($rounds round(s))"
done
[ "$cases" -gt 0 ] || fail "no row goldens in tests/data/results-db"

echo "== 3. storage changes nothing of the round; a round stored twice, the same rows"
reset_db
"$bin" score --miners sample/miners.json "${sample[@]}" --replay sample/snapshot.json --now $NOW \
  --report "$work/report-nodb.json" 2>/dev/null
python3 - "$work/report-db.json" "$work/report-nodb.json" <<'PY' || fail "the report differs with storage on"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
for r in (a, b):
    r.pop("stats")
sys.exit(0 if a == b else 1)
PY
count_all() { for t in miners miner_evaluations pull_requests issues file_changes gv_round_history; do printf '%s=%s ' $t "$(q "SELECT count(*) FROM $t")"; done; }
for i in 1 2; do
  STORE_DB_RESULTS=true "$bin" score --miners sample/miners.json "${sample[@]}" --replay sample/snapshot.json \
    --now $NOW --report - >/dev/null 2>"$work/twice$i.log"
  wait_for "written (" 5 "$work/twice$i.log"
  counts[$i]=$(count_all)
done
[ "${counts[1]}" = "${counts[2]}" ] || fail "stored twice: ${counts[1]} then ${counts[2]}"
pass "same report (rewards, evaluations) with and without storage; twice stored: ${counts[2]}"

echo "== 4. server down at start: a WARN, retries, the round written when it is back"
reset_db
pg_stop
STORE_DB_RESULTS=true "$bin" score --miners sample/miners.json "${sample[@]}" --replay sample/snapshot.json \
  --now $NOW --report "$work/report-down.json" 2>"$work/down.log" &
score_pid=$!
pids+=("$score_pid")
wait_for "WARN .*results database .*cannot connect" 60 "$work/down.log"
grep -q "1 unwritten rounds" "$work/down.log" || fail "the pending round is not said"
pg_start
wait "$score_pid" || fail "score failed with the database down at start"
grep -q "is back after" "$work/down.log" || fail "the end of the outage is not said"
[ "$(q "SELECT count(*) FROM miner_evaluations")" = 11 ] || fail "the round was not written after the server returned"
[ "$(grep -c 'WARN' "$work/down.log")" = 1 ] || { grep WARN "$work/down.log" >&2; fail "more than one WARN for one outage"; }
pass "score: one WARN, the round written after the server came back, exit 0"

echo "== 4b. a signal while score waits for the database: a short wait, what is lost said"
pg_stop
STORE_DB_RESULTS=true "$bin" score --miners sample/miners.json "${sample[@]}" --replay sample/snapshot.json \
  --now $NOW --report "$work/report-sig.json" 2>"$work/signal.log" &
score_pid=$!
pids+=("$score_pid")
wait_for "waiting up to 60s for 1 unwritten rounds" 60 "$work/signal.log"
kill -INT "$score_pid"
rc=0
wait "$score_pid" || rc=$?
pg_start
[ "$rc" = 0 ] || { tail "$work/signal.log" >&2; fail "score exited $rc after a signal while waiting for the database"; }
grep -q "waiting at most 5s more" "$work/signal.log" || fail "the signal did not shorten the wait"
grep -q "1 rounds were not written and are lost" "$work/signal.log" || fail "the lost round is not said"
cmp -s <(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); r.pop('stats'); print(json.dumps(r, sort_keys=True))" "$work/report-sig.json") \
  <(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); r.pop('stats'); print(json.dumps(r, sort_keys=True))" "$work/report-nodb.json") ||
  fail "the report differs when the database is away"
pass "SIGINT while waiting: 5 s more, the lost round said, exit 0, the report as without storage"

echo "== 5. server stopped mid-run: rounds go on, the board says so, every round written after"
reset_db
STORE_DB_RESULTS=true "$bin" run --miners sample/miners.json "${sample[@]}" --replay sample/snapshot.json \
  --state "$work/state" --interval 1s --rounds 8 --health-addr 127.0.0.1:0 2>"$work/run.log" &
run_pid=$!
pids+=("$run_pid")
wait_for "serving /healthz" 60 "$work/run.log"
health=$(sed -n 's/.*serving \/healthz, \/readyz and \/metrics on \([0-9.:]*\).*/\1/p' "$work/run.log" | head -1)
wait_for "results database: round of .* written" 60 "$work/run.log"
pg_stop
wait_for "WARN .*results database" 60 "$work/run.log"
before=$(grep -c "round .* starting" "$work/run.log")
wait_for "round $((before + 2)) starting" 120 "$work/run.log"
curl -fsS "http://$health/readyz" >/dev/null || fail "/readyz is not ready during a database outage"
curl -sS "http://$health/healthz" | python3 -c "
import json, sys
s = json.load(sys.stdin)['results_db']
assert s['connected'] is False and s['rounds_pending'] >= 1 and s['last_error'], s
" || fail "/healthz does not show the outage"
metrics=$(curl -fsS "http://$health/metrics")
grep -Eq '^gittensor_db_rounds_pending [1-9]' <<<"$metrics" || fail "no pending rounds in /metrics"
grep -Eq '^gittensor_db_writes_failed_total [1-9]' <<<"$metrics" || fail "no failed writes in /metrics"
pg_start
wait "$run_pid" || fail "run failed"
rounds=$(grep -c "round .* starting" "$work/run.log")
written=$(q "SELECT count(DISTINCT round_now) FROM gv_round_history")
[ "$rounds" = 8 ] || fail "run did $rounds rounds, not 8"
[ "$written" = 8 ] || fail "$written of 8 rounds in gv_round_history"
[ "$(grep -c 'WARN .*results database' "$work/run.log")" = 1 ] ||
  { grep 'WARN' "$work/run.log" >&2; fail "not exactly one WARN for the outage"; }
grep -q '"rounds": 8\|"rounds":8' "$work/state/state.json" || fail "state.json did not fold 8 rounds"
pass "8 rounds folded through the outage; /readyz ready, /healthz and /metrics showed it; one WARN; all 8 written after"

echo "== 6. bounded memory: the oldest unwritten round dropped, counted"
reset_db
pg_stop
STORE_DB_RESULTS=true "$bin" run --miners sample/miners.json "${sample[@]}" --replay sample/snapshot.json \
  --state "$work/state6" --interval 1s --rounds 4 --database.max_pending_rounds 2 2>"$work/drop.log" &
run_pid=$!
pids+=("$run_pid")
wait_for "2 dropped since start" 120 "$work/drop.log"
pg_start
wait "$run_pid" || fail "run failed"
[ "$(q "SELECT count(DISTINCT round_now) FROM gv_round_history")" = 2 ] || fail "not the 2 kept rounds written"
pass "4 rounds, at most 2 kept: 2 dropped with a WARN counting them, the last 2 written"

echo "== 7. a row the server refuses skips its step, as 2.0.7's does"
reset_db
python3 - sample/snapshot.json "$work/long-name.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
files = s["files"]["acme/widgets#42"]
files[0]["filename"] = "src/" + "x" * 600 + ".rs"
json.dump(s, open(sys.argv[2], "w"))
PY
STORE_DB_RESULTS=true "$bin" score --miners sample/miners.json "${sample[@]}" --replay "$work/long-name.json" \
  --now $NOW --report - >/dev/null 2>"$work/refused.log" || fail "score failed on a refused row"
wait_for "server refused 1 of its writes" 5 "$work/refused.log"
[ "$(q "SELECT count(*) FROM file_changes WHERE repository_full_name = 'acme/widgets' AND pr_number = 42")" = 0 ] ||
  fail "the refused step left rows"
[ "$(q "SELECT count(*) FROM miner_evaluations")" = 11 ] || fail "the rest of the round was not written"
[ "$(q "SELECT count(*) FROM pull_requests WHERE number = 42")" = 1 ] || fail "the PR of the refused files is missing"
pass "the file_changes step of that miner rolled back (value too long), every other row written"

echo "== 8. no PAT and no password anywhere"
pg_dump --data-only >"$work/dump.sql"
for pat in $(python3 -c "
import json
for m in json.load(open('sample/miners.json')):
    if m.get('github_access_token'): print(m['github_access_token'])
"); do
  grep -qF "$pat" "$work/dump.sql" && fail "a PAT is in the database"
  cat "$work"/*.log | grep -qF "$pat" && fail "a PAT is in a log"
done
grep -qF "$DB_PASSWORD" "$work/dump.sql" && fail "the password is in the database"
cat "$work"/*.log "$work"/case-*/score.log | grep -qF "$DB_PASSWORD" && fail "the password is in a log"
pass "no PAT in the database or the logs; DB_PASSWORD in neither"
# A connection must never be closed on the event loop (the postgres crate's
# runtime panics there, at exit, after everything else went right).
panics=$(grep -l "panicked" "$work"/*.log "$work"/case-*/score.log || true)
[ -z "$panics" ] || { grep -h -A2 "panicked" $panics >&2; fail "a panic in $panics"; }
pass "no panic in any run"
