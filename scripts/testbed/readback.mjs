#!/usr/bin/env node
// Dump the subnet as the validator would see it: hyperparameters, uids/hotkeys,
// axons (ip decoded), permits, stake, LastUpdate and stored Weights rows.
// Usage: node readback.mjs [--ws ws://127.0.0.1:9944] [--netuid 1] [--uid N (only Weights of N)] [--at BLOCKHASH]
import { parseArgs, connect, u128ToIp } from './lib.mjs';

const a = parseArgs();
const ws = a.ws || 'ws://127.0.0.1:9944';
const netuid = Number(a.netuid ?? 1);
const { api } = await connect(ws);
const at = a.at ? await api.at(a.at) : await api.at((await api.rpc.chain.getHeader()).hash);
const q = at.query.subtensorModule;

const n = (await q.subnetworkN(netuid)).toNumber();
const hp = {};
for (const k of ['tempo', 'weightsVersionKey', 'maxWeightsLimit', 'minAllowedWeights', 'weightsSetRateLimit',
  'maxAllowedUids', 'maxAllowedValidators', 'immunityPeriod', 'activityCutoff']) hp[k] = (await q[k](netuid)).toString();
const permits = (await q.validatorPermit(netuid)).toJSON();
const lastUpdate = (await q.lastUpdate(netuid)).toJSON();
const neurons = [];
for (let uid = 0; uid < n; uid++) {
  const hotkey = (await q.keys(netuid, uid)).toString();
  const ax = await q.axons(netuid, hotkey);
  const axon = ax.isSome ? (() => { const v = ax.unwrap(); return {
    block: v.block.toNumber(), version: v.version.toNumber(), ip: u128ToIp(v.ip.toBigInt(), v.ipType.toNumber()),
    ipU128: v.ip.toString(), port: v.port.toNumber(), ipType: v.ipType.toNumber(), protocol: v.protocol.toNumber(),
  }; })() : null;
  const w = (await q.weights(netuid, uid)).toJSON();
  neurons.push({ uid, hotkey, stake: (await q.totalHotkeyStake(hotkey)).toString(), permit: permits[uid] ?? false,
    lastUpdate: lastUpdate[uid] ?? null, axon, weights: w });
}
const header = await api.rpc.chain.getHeader();
const out = { head: header.number.toNumber(), headHash: header.hash.toHex(), netuid, exists: (await q.networksAdded(netuid)).isTrue, subnetworkN: n, hyperparams: hp, neurons };
if (a.uid !== undefined) console.log(JSON.stringify(neurons[Number(a.uid)]?.weights ?? null));
else console.log(JSON.stringify(out, null, 2));
await api.disconnect();
process.exit(0);
