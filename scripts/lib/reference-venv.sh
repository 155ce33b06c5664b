#!/usr/bin/env bash
# Makes (once) and prints the python of a venv that runs gittensor 2.0.7's
# own code: the SDK pins of scripts/lib/sdk-venv.sh (bittensor 9.9.0 as
# 2.0.7 pins it) plus what 2.0.7's requirements.txt adds for scoring and
# its results database (levenshtein, psycopg2-binary, pytz), and
# time-machine to hold the reference's clock at a round's `now`.
# wandb, fastapi, uvicorn and debugpy are left out: nothing the reference
# runners load imports them.
# Made by sdk-venv.sh, cached and keyed by the pins as it does.
set -euo pipefail
exec "$(dirname "$0")/sdk-venv.sh" ref levenshtein==0.27.3 psycopg2-binary==2.9.10 pytz==2025.2 time-machine==2.16.0
