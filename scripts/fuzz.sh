#!/usr/bin/env bash
# Fuzzing by property tests: the patch walker, the GraphQL page folder, the
# /files parser, the weight loaders and the miners parser get CASES (50 000)
# generated inputs each, for at most SECONDS_MAX (600) seconds. A failing
# input is saved beside tests/it/props.rs (proptest's regression file, kept
# in git) and replayed first by every later `cargo test`.
# cargo-fuzz would need a nightly toolchain, which these machines cannot fetch.
set -euo pipefail
cd "$(dirname "$0")/.."
export PROPTEST_CASES="${CASES:-50000}"
timeout "${SECONDS_MAX:-600}" cargo test --release --test it props -- --test-threads 2
