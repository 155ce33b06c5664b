#!/usr/bin/env bash
# Benchmark 10: the cost of the results database per round: `score` on 256
# miners x 5 PRs (50 ms per GitHub request), without and with
# --database.store_validation_results against a local PostgreSQL
# (scripts/lib/postgres.sh), alternated REPEAT times in one run: the
# round's wall and event-loop lag, the write's time and the event loop's
# lag meanwhile, the process's peak RSS and wall.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin gittensor-validator --example bench_round
. scripts/lib/common.sh
. scripts/lib/postgres.sh
pg_up
bin=target/release/gittensor-validator
for ((i = 1; i <= ${REPEAT:-3}; i++)); do
  echo "== run $i: without storage"
  env -u STORE_DB_RESULTS ./target/release/examples/bench_round rss $bin --miners 256 --prs 5 --latency-ms 50
  echo "== run $i: with storage (the database emptied first)"
  psql -XAtq -c "SET client_min_messages = warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public;"
  STORE_DB_RESULTS=true ./target/release/examples/bench_round rss $bin --miners 256 --prs 5 --latency-ms 50
done
