#!/usr/bin/env bash
# Makes (once) and prints the python of a venv that runs gittensor 2.0.7's
# own code: the SDK pins of scripts/lib/sdk-venv.sh (bittensor 9.9.0 as
# 2.0.7 pins it) plus what 2.0.7's requirements.txt adds for scoring and
# its results database (levenshtein, psycopg2-binary, pytz), and
# time-machine to hold the reference's clock at a round's `now`.
# wandb, fastapi, uvicorn and debugpy are left out: nothing the reference
# runners load imports them.
# Cached under $GV_CACHE (default ~/.cache/gittensor-validator), keyed by
# the pins.
set -euo pipefail
PINS="bittensor==9.9.0 bittensor-wallet==4.0.0 async-substrate-interface==1.5.15 py_ecc==8.0.0 levenshtein==0.27.3 psycopg2-binary==2.9.10 pytz==2025.2 time-machine==2.16.0"
cache="${GV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gittensor-validator}"
key=$(printf '%s' "$PINS" | sha256sum | cut -c1-12)
venv="$cache/venv-ref-$key"
if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv/.complete" ]; then
  rm -rf "$venv"
  mkdir -p "$cache"
  echo "making the reference venv in $venv ($PINS)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check $PINS >&2
  touch "$venv/.complete"
fi
echo "$venv/bin/python"
