#!/usr/bin/env bash
# Checks what deploy/ ships, as a supervisor would read it:
#  1. the systemd unit passes `systemd-analyze verify` without a word
#     (unknown keys are only warnings there, so any output fails here),
#     with ExecStart pointed at the binary just built;
#  2. every flag the unit and the pm2 script pass is one `validate` takes;
#  3. the pm2 script parses, and run with a pm2 that records what it is
#     asked, starts `validate` with a command line the binary takes, its
#     weight tables found in the checkout;
#  4. the Prometheus alert rules pass `promtool check rules`.
# The Grafana dashboard's queries and the alert rules' metric names are
# checked against /metrics by `cargo test` (tests/it/deploy.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/common.sh
if ! command -v systemd-analyze >/dev/null; then
  echo "installing systemd (for systemd-analyze)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd >/dev/null
fi
cargo build --quiet --bin gittensor-validator
bin=$PWD/target/debug/gittensor-validator

unit=deploy/gittensor-validator.service
sed "s#/usr/local/bin/gittensor-validator#$bin#" "$unit" >"$work/gittensor-validator.service"
said=$(systemd-analyze verify "$work/gittensor-validator.service" 2>&1) || fail "systemd-analyze verify: $said"
[ -z "$said" ] || fail "systemd-analyze verify says: $said"
pass "$unit verifies"

# ---- the unit's exposure: `systemd-analyze security` under 4 (issue 22) ----
security=$(systemd-analyze security --offline=true "$unit" 2>&1) || fail "systemd-analyze security: $security"
score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\) .*/\1/p' <<<"$security")
[ -n "$score" ] || fail "systemd-analyze security gave no score: $security"
awk -v s="$score" 'BEGIN { exit !(s < 4) }' ||
  fail "$unit: exposure $score, 4 or more: harden it (systemd-analyze security --offline=true $unit)"
pass "$unit: exposure $score, under 4"
# ---- end of the exposure check ----

help=$("$bin" validate --help)
for flag in $(cat "$unit" deploy/run_validator.sh | grep -v '^ *#' | grep -oE -- '--[a-z][a-z._-]+' | sort -u); do
  case "$flag" in --kill-timeout|--name|--stop-exit-codes|--silent) continue ;; esac
  grep -qE -- "$flag([ ,=<]|$)" <<<"$help" || fail "$flag is not a flag of validate"
done
pass "every flag in $unit and deploy/run_validator.sh is one validate takes"

bash -n deploy/run_validator.sh
pass "deploy/run_validator.sh parses"

# A gittensor checkout with upstream's .env and two tables, and a pm2 that
# writes down its arguments.
checkout=$work/gittensor
mkdir -p "$checkout/gittensor/validator/weights" "$work/bin"
echo '{"acme/widgets": {"weight": 1.0}}' >"$checkout/gittensor/validator/weights/master_repositories.json"
echo '{"rs": 1.5}' >"$checkout/gittensor/validator/weights/programming_languages.json"
printf 'NETUID=74\nSUBTENSOR_NETWORK=finney\nPORT=8099\nWALLET_NAME=val\nHOTKEY_NAME=hk\nWANDB_API_KEY=\nSTORE_DB_RESULTS=true\nLOGGING=--logging.debug\n' \
  >"$checkout/gittensor/validator/.env"
cat >"$work/bin/pm2" <<'PM2'
#!/bin/bash
case "$1" in
  start) printf '%s\n' "$PWD" "$@" >"$PM2_LOG" ;;
  describe) exit 1 ;;
esac
PM2
chmod +x "$work/bin/pm2"
PATH=$work/bin:$PATH PM2_LOG=$work/pm2.log GITTENSOR_DIR=$checkout GITTENSOR_VALIDATOR_BIN=$bin \
  bash deploy/run_validator.sh >"$work/run.out" 2>&1 || fail "deploy/run_validator.sh: $(cat "$work/run.out")"
mapfile -t started <"$work/pm2.log"
[ "${started[0]}" = "$checkout" ] || fail "pm2 started from ${started[0]}, not the checkout"
[ "${started[2]}" = "$bin" ] || fail "pm2 started ${started[2]}, not the binary"
args=()
for ((i = 3; i < ${#started[@]}; i++)); do
  [ "${started[i]}" = "--" ] && { args=("${started[@]:i+1}"); break; }
done
[ "${args[0]}" = validate ] || fail "pm2 was not asked to run validate: ${started[*]}"
# The binary takes the line, finds the tables, and stops at the wallet
# (there is none here): exit 2 naming the hotkey file.
said=$(cd "$checkout" && env -u RUST_LOG HOME=$work GITTENSOR_DIR=$checkout "$bin" "${args[@]}" 2>&1) && fail "validate ran without a wallet"
grep -q "weight tables from the gittensor checkout $checkout" <<<"$said" || fail "no tables from the checkout: $said"
grep -q "no hotkey file" <<<"$said" || fail "validate did not take the pm2 script's line: $said"
pass "deploy/run_validator.sh starts validate from the checkout with a line it takes: ${args[*]}"

if ! command -v promtool >/dev/null; then
  echo "installing prometheus (for promtool)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
said=$(promtool check rules deploy/prometheus-alerts.yml 2>&1) || fail "promtool check rules: $said"
pass "deploy/prometheus-alerts.yml: $(grep -o 'SUCCESS.*' <<<"$said")"
