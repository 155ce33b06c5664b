#!/bin/bash
# gittensor-validator under pm2, started the way upstream's
# scripts/run_validator.sh (gittensor 2.0.7, ee451195) starts the Python
# validator: the same .env, the same process name (gt-vali), the same
# command line, with this binary's `validate` in place of
# `python neurons/validator.py`. Usage:
#
#   deploy/run_validator.sh [path/to/.env]
#
# The .env defaults to gittensor/validator/.env of the upstream checkout in
# GITTENSOR_DIR (~/gittensor when unset). The validator runs from that
# checkout and takes its weight tables from it
# (gittensor/validator/weights/). The binary is GITTENSOR_VALIDATOR_BIN, else
# gittensor-validator on the PATH, else /usr/local/bin/gittensor-validator.
# Besides upstream's variables the .env may set HEALTH_ADDR (where /healthz,
# /readyz and /metrics listen; 127.0.0.1:8098 by default),
# SUBTENSOR_CHAIN_ENDPOINT, WALLET_PATH and RUST_LOG.
#
# What it leaves out of upstream's script: the virtualenv, the wandb login
# (WANDB_API_KEY is not needed) and the debug mode (DEBUGPY_PORT: 2.0.7's
# remote code execution API, which does not exist here).
set -e

GITTENSOR_DIR=${GITTENSOR_DIR:-$HOME/gittensor}
ENV_FILE=${1:-$GITTENSOR_DIR/gittensor/validator/.env}
BIN=${GITTENSOR_VALIDATOR_BIN:-$(command -v gittensor-validator || echo /usr/local/bin/gittensor-validator)}
VALIDATOR_PROCESS_NAME="gt-vali"

if [ -f "$ENV_FILE" ]; then
    echo "Loading environment variables from $ENV_FILE..."
    export $(cat "$ENV_FILE" | grep -v '^#' | sed 's/#.*//' | xargs)
else
    echo "Error: .env file not found at $ENV_FILE" >&2
    exit 1
fi
if [ ! -d "$GITTENSOR_DIR/gittensor/validator/weights" ]; then
    echo "Error: no gittensor checkout at $GITTENSOR_DIR (set GITTENSOR_DIR)" >&2
    exit 1
fi

for v in NETUID WALLET_NAME HOTKEY_NAME; do
  if [ -z "${!v}" ]; then
    echo "Error: $v is not set in the .env file." >&2
    exit 1
  fi
done

# Set default values for validator parameters if not set in .env
SUBTENSOR_NETWORK=${SUBTENSOR_NETWORK:-"finney"}
PORT=${PORT:-8099}
LOGGING=${LOGGING:-"--logging.info"}

# Build optional flags based on .env variables
OPTIONAL_FLAGS=""

# Add database flag if STORE_DB_RESULTS is set to true
if [ "${STORE_DB_RESULTS}" = "true" ]; then
  OPTIONAL_FLAGS="$OPTIONAL_FLAGS --database.store_validation_results"
fi
if [ -n "${DEBUGPY_PORT}" ]; then
  echo "DEBUGPY_PORT is set: there is no debug mode here; starting normally."
fi

export HEALTH_ADDR=${HEALTH_ADDR:-127.0.0.1:8098}
export GITTENSOR_DIR
# pm2 stops with SIGINT, then SIGKILL after --kill-timeout: give the
# validator time to discard a round in flight and save its state.
# --stop-exit-codes 2: a bad flag, table or wallet, or a deregistered
# hotkey, is not restarted forever.
PM2_EXTRA_FLAGS="--kill-timeout 15000 --stop-exit-codes 2"
cd "$GITTENSOR_DIR"

# STOP VALIDATOR PROCESS
if pm2 describe "$VALIDATOR_PROCESS_NAME" >/dev/null 2>&1; then
  echo "Process '$VALIDATOR_PROCESS_NAME' is already running. Killing and rerunning..."
  pm2 delete "$VALIDATOR_PROCESS_NAME" || pm2 delete "$VALIDATOR_PROCESS_NAME" --silent || true
else
  echo "Process '$VALIDATOR_PROCESS_NAME' is not running. Starting it for the first time..."
fi
pm2 start "$BIN" --name "$VALIDATOR_PROCESS_NAME" $PM2_EXTRA_FLAGS -- validate --netuid $NETUID --subtensor.network $SUBTENSOR_NETWORK --wallet.name $WALLET_NAME --wallet.hotkey $HOTKEY_NAME --axon.port $PORT $OPTIONAL_FLAGS $LOGGING
