#!/usr/bin/env bash
# Soak: ROUNDS (200) rounds of MINERS (64) miners against a local GitHub
# that faults FAULT_PERCENT (5) % of requests; prints memory and threads.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --example soak
RUST_LOG=error ./target/release/examples/soak --rounds "${ROUNDS:-200}" --miners "${MINERS:-64}" --fault-percent "${FAULT_PERCENT:-5}"
