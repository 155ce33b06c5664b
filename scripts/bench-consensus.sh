#!/usr/bin/env bash
# Benchmark 7: what the consensus watch adds to a step on a 256-uid subnet,
# on the chopsticks testbed (testfinney runtime, spec 103).
#   bench-consensus.sh [RUNS]
# A subnet of 256 uids (//Validator and //Miner1..255), every uid with a
# permit, 64 of them with a weights row on all 255 others, an epoch run so
# that Consensus and ValidatorTrust are full. Then examples/bench_consensus
# (release) reads, RUNS times, the metagraph (what a step reads anyway) and
# the consensus view at the same block, with 1 and with 16 reads in flight.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
root=$PWD
cargo build --release --quiet --example bench_consensus
bench=$root/target/release/examples/bench_consensus
tb=$root/scripts/testbed
. scripts/lib/common.sh
. scripts/testbed/rpc.sh

eval "$("$tb/start.sh" --port 0 --log "$work/chopsticks.log" 2>/dev/null)"
pids+=("$CHOPSTICKS_PID")
miners=$(seq -s, -f '//Miner%g' 1 255)
t0=$(date +%s)
node "$tb/setup.mjs" --ws "$CHOPSTICKS_WS" --netuid 1 --tempo 20 --validator //Validator --miner "$miners" \
  --max-allowed-validators 256 --max-weights-limit 65535 --min-allowed-weights 1 --permit-all \
  --weights-rate-limit 0 --version-key 1000 --axon-ip 0.0.0.0 --axon-port-base 0 >/dev/null 2>"$work/setup.log" \
  || { tail -20 "$work/setup.log"; exit 1; }
echo "testbed: 256 uids registered in $(( $(date +%s) - t0 )) s"
t0=$(date +%s)
(cd "$tb" && node --input-type=module - "$CHOPSTICKS_WS" <<'JS'
import { connect, pairFrom, submit } from './lib.mjs';
const { api, provider } = await connect(process.argv[2]);
for (let i = 0; i < 64; i++) {
  const key = i === 0 ? '//Validator' : `//Miner${i}`;
  const uids = Array.from({ length: 256 }, (_, u) => u).filter((u) => u !== i);
  const weights = uids.map((u) => 1 + ((u * 7919 + i * 104729) % 65534));
  const r = await submit(api, provider, api.tx.subtensorModule.setWeights(1, uids, weights, 1000n), await pairFrom(key));
  if (r.failed) { console.error(key, JSON.stringify(r.failed)); process.exit(1); }
}
await api.disconnect();
process.exit(0);
JS
) || exit 1
echo "testbed: 64 weights rows of 255 uids set in $(( $(date +%s) - t0 )) s"
rpc dev_newBlock '[{"count": 22}]' >/dev/null
for k in 1 16; do
  echo "== reads in flight: $k"
  "$bench" --endpoint "$CHOPSTICKS_WS" --netuid 1 --runs "$runs" --reads-in-flight "$k"
done
