#!/bin/bash
# gittensor-validator under pm2, as upstream's scripts/run_validator.sh
# runs the Python validator: the same .env, the same process name, the same
# flags. Usage: deploy/run_validator.sh [path/to/.env] (default:
# gittensor/validator/.env of an upstream checkout in GITTENSOR_DIR).
set -e
GITTENSOR_DIR=${GITTENSOR_DIR:-$HOME/gittensor}
ENV_FILE=${1:-$GITTENSOR_DIR/gittensor/validator/.env}
BIN=${GITTENSOR_VALIDATOR_BIN:-$(command -v gittensor-validator || echo /usr/local/bin/gittensor-validator)}
VALIDATOR_PROCESS_NAME="gt-vali"

if [ ! -f "$ENV_FILE" ]; then
  echo "Error: .env file not found at $ENV_FILE" >&2
  exit 1
fi
echo "Loading environment variables from $ENV_FILE..."
export $(grep -v '^#' "$ENV_FILE" | sed 's/#.*//' | xargs)

for v in NETUID WALLET_NAME HOTKEY_NAME; do
  if [ -z "${!v}" ]; then
    echo "Error: $v is not set in $ENV_FILE." >&2
    exit 1
  fi
done
WEIGHTS="$GITTENSOR_DIR/gittensor/validator/weights"

pm2 delete "$VALIDATOR_PROCESS_NAME" --silent >/dev/null 2>&1 || true
# pm2 stops with SIGINT, then SIGKILL after --kill-timeout: give the
# validator time to discard a round in flight and save its state.
# --stop-exit-codes 2: a bad flag, table or wallet is not retried forever.
pm2 start "$BIN" --name "$VALIDATOR_PROCESS_NAME" --kill-timeout 15000 --stop-exit-codes 2 -- \
  validate \
  --netuid "$NETUID" \
  --subtensor.network "${SUBTENSOR_NETWORK:-finney}" \
  --wallet.name "$WALLET_NAME" \
  --wallet.hotkey "$HOTKEY_NAME" \
  --repositories "$WEIGHTS/master_repositories.json" \
  --languages "$WEIGHTS/programming_languages.json" \
  --health-addr 127.0.0.1:8098
