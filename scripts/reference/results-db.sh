#!/usr/bin/env bash
# Regenerates tests/data/results-db/ from gittensor 2.0.7's own storage code
# (see tests/data/README.md). Needs a git directory of entrius/gittensor
# holding ee451195 in GITTENSOR_GIT_DIR, PyPI (the venv) and PostgreSQL
# (installed from Debian's packages when missing).
#   GITTENSOR_GIT_DIR=/path/to/gittensor.git bash scripts/reference/results-db.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -n "${GITTENSOR_GIT_DIR:-}" ] || { echo "GITTENSOR_GIT_DIR is not set" >&2; exit 2; }
py=$(scripts/lib/reference-venv.sh)
. scripts/lib/common.sh
. scripts/lib/postgres.sh
out=tests/data/results-db
mkdir -p "$out"

pg_up
echo "== schema: 2.0.7's migrations on an empty database"
"$py" scripts/reference/results_db.py schema "$out/schema.json"
pass "$out/schema.json"

echo "== rounds: 2.0.7's get_rewards storing through its DatabaseStorage"
cargo build --quiet --example serve_snapshot
export SERVE_SNAPSHOT=$PWD/target/debug/examples/serve_snapshot
"$py" scripts/reference/results_db.py rounds "$PWD" "$out"
pass "$out/<case>.json"
