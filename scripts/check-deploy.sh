#!/usr/bin/env bash
# Checks what deploy/ ships, as a supervisor would read it:
#  1. the systemd unit passes `systemd-analyze verify` without a word
#     (unknown keys are only warnings there, so any output fails here),
#     with ExecStart pointed at the binary just built;
#  2. every flag the unit and the pm2 script pass is one `validate` takes;
#  3. the pm2 script parses.
# The Grafana dashboard's queries are checked against /metrics by
# `cargo test` (tests/it/deploy.rs).
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
for flag in $(grep -ohE -- '--[a-z][a-z._-]+' "$unit" deploy/run_validator.sh | sort -u); do
  case "$flag" in --kill-timeout|--name|--stop-exit-codes|--silent) continue ;; esac
  grep -qE -- "$flag[ ,=<]" <<<"$help" || fail "$flag is not a flag of validate"
done
pass "every flag in $unit and deploy/run_validator.sh is one validate takes"

bash -n deploy/run_validator.sh
pass "deploy/run_validator.sh parses"
