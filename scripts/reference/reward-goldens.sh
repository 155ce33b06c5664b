#!/usr/bin/env bash
# Regenerates tests/data/reward-goldens.json: gittensor 2.0.7's own
# get_rewards on the bundled sample (see tests/data/README.md). Needs a git
# directory of entrius/gittensor holding ee451195 in GITTENSOR_GIT_DIR and
# PyPI (the venv).
#   GITTENSOR_GIT_DIR=/path/to/gittensor.git bash scripts/reference/reward-goldens.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -n "${GITTENSOR_GIT_DIR:-}" ] || { echo "GITTENSOR_GIT_DIR is not set" >&2; exit 2; }
py=$(scripts/lib/reference-venv.sh)
cargo build --quiet --example serve_snapshot
export SERVE_SNAPSHOT=$PWD/target/debug/examples/serve_snapshot
"$py" scripts/reference/reward_goldens.py sample 2025-12-20T12:00:00Z tests/data/reward-goldens.json
echo "ok: tests/data/reward-goldens.json"
