#!/usr/bin/env bash
# Install (once, cached) and start chopsticks 1.5.1 offline on 127.0.0.1 with the
# 2023 testfinney raw spec (subtensor spec 103). Prints shell-evalable lines:
#   CHOPSTICKS_PID=...  CHOPSTICKS_PORT=...  CHOPSTICKS_WS=ws://127.0.0.1:PORT
#
# Usage: start.sh [--port N|0] [--mode Instant|Batch|Manual] [--spec FILE] [--log FILE]
#                 [--pidfile FILE] [--install-only] [--timeout SECS]
#   --port 0 lets the OS pick a free port (read it from the output).
#   Without --port 0, a busy port is an error (chopsticks itself would silently
#   move to port+1..port+9).
# Env: TESTBED_NPM_DIR (default ${XDG_CACHE_HOME:-$HOME/.cache}/gittensor-testbed/npm)
#      TESTBED_SPEC   (default tests/data/raw_spec_testfinney.json)
# Stop with: kill "$CHOPSTICKS_PID"   (state is in memory only; it is gone after that)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NPM_DIR="${TESTBED_NPM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gittensor-testbed/npm}"
SPEC="${TESTBED_SPEC:-$HERE/../../tests/data/raw_spec_testfinney.json}"
PORT=9944 MODE=Instant LOG="" PIDFILE="" INSTALL_ONLY=0 TIMEOUT=120
while [ $# -gt 0 ]; do
  case "$1" in
    --port) PORT="$2"; shift 2 ;;
    --mode) MODE="$2"; shift 2 ;;
    --spec) SPEC="$2"; shift 2 ;;
    --log) LOG="$2"; shift 2 ;;
    --pidfile) PIDFILE="$2"; shift 2 ;;
    --timeout) TIMEOUT="$2"; shift 2 ;;
    --install-only) INSTALL_ONLY=1; shift ;;
    *) echo "start.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

# Pinned tool set. Changing any version changes the stamp and triggers a reinstall.
PKGS=(@acala-network/chopsticks@1.5.1 @polkadot/api@16.5.6 @polkadot/keyring@14.0.3
      @polkadot/util-crypto@14.0.3 @polkadot/util@14.0.3)
STAMP="$NPM_DIR/.installed-$(printf '%s\n' "${PKGS[@]}" | sha256sum | cut -c1-16)"
if [ ! -f "$STAMP" ] || [ ! -x "$NPM_DIR/node_modules/.bin/chopsticks" ]; then
  mkdir -p "$NPM_DIR"
  [ -f "$NPM_DIR/package.json" ] || echo '{"name":"gittensor-testbed-tools","private":true,"type":"module"}' > "$NPM_DIR/package.json"
  echo "start.sh: installing ${PKGS[*]} into $NPM_DIR (takes a few minutes the first time)" >&2
  t0=$(date +%s)
  # engines warning (chopsticks asks for node 22) is harmless on node 20; sqlite3's
  # native build is skipped by npm 11 (only needed for --db, which we don't use).
  ( cd "$NPM_DIR" && npm install --no-audit --no-fund --loglevel=error "${PKGS[@]}" >&2 )
  rm -f "$NPM_DIR"/.installed-*; touch "$STAMP"
  echo "start.sh: installed in $(( $(date +%s) - t0 ))s" >&2
fi
[ "$INSTALL_ONLY" = 1 ] && { echo "TESTBED_NPM_DIR=$NPM_DIR"; exit 0; }

[ -f "$SPEC" ] || { echo "start.sh: spec $SPEC not found" >&2; exit 1; }
if [ "$PORT" != 0 ] && (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "start.sh: 127.0.0.1:$PORT is already in use" >&2; exit 1
fi
[ -n "$LOG" ] || LOG="$(mktemp -t chopsticks.XXXXXX.log)"

t0=$(date +%s%N)
# LOG_LEVEL is read by chopsticks' pino logger (info logs every block).
LOG_LEVEL="${LOG_LEVEL:-info}" "$NPM_DIR/node_modules/.bin/chopsticks" \
  --genesis "$SPEC" --allow-unresolved-imports \
  --host 127.0.0.1 --port "$PORT" --build-block-mode "$MODE" >"$LOG" 2>&1 &
PID=$!
[ -n "$PIDFILE" ] && echo "$PID" > "$PIDFILE"

deadline=$(( $(date +%s) + TIMEOUT )); ACTUAL=""
while [ "$(date +%s)" -lt "$deadline" ]; do
  if ! kill -0 "$PID" 2>/dev/null; then
    echo "start.sh: chopsticks exited; log $LOG:" >&2; tail -20 "$LOG" >&2; exit 1
  fi
  ACTUAL="$(grep -o 'RPC listening on http://127.0.0.1:[0-9]*' "$LOG" | head -1 | sed 's/.*://')" || true
  if [ -n "$ACTUAL" ]; then
    # Ready when a JSON-RPC call over HTTP answers with a header.
    if node -e "fetch('http://127.0.0.1:$ACTUAL',{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify({id:1,jsonrpc:'2.0',method:'chain_getHeader',params:[]})}).then(r=>r.json()).then(j=>process.exit(j.result?0:1),()=>process.exit(1))" 2>/dev/null; then
      break
    fi
  fi
  sleep 0.2
done
if [ -z "$ACTUAL" ] || ! kill -0 "$PID" 2>/dev/null; then
  echo "start.sh: chopsticks not ready after ${TIMEOUT}s; log $LOG" >&2; kill "$PID" 2>/dev/null || true; exit 1
fi
if [ "$PORT" != 0 ] && [ "$ACTUAL" != "$PORT" ]; then
  echo "start.sh: chopsticks took port $ACTUAL instead of $PORT; stopping it" >&2; kill "$PID"; exit 1
fi
echo "start.sh: chopsticks ready in $(( ($(date +%s%N) - t0) / 1000000 )) ms, pid $PID, log $LOG" >&2
echo "CHOPSTICKS_PID=$PID"
echo "CHOPSTICKS_PORT=$ACTUAL"
echo "CHOPSTICKS_WS=ws://127.0.0.1:$ACTUAL"
echo "CHOPSTICKS_LOG=$LOG"
echo "TESTBED_NPM_DIR=$NPM_DIR"
