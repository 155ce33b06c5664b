#!/usr/bin/env node
// Configure a fresh chopsticks chain (raw_spec_testfinney, spec 103) as a subnet
// with one validator and N miners. Idempotent: rerunning against the same chain
// skips what is already there and re-applies parameters/storage.
//
// Usage:
//   node setup.mjs --ws ws://127.0.0.1:9944 --validator <acct> --miner <acct>[@ip:port] ... [options]
//   node setup.mjs --config testbed.json [overrides]
// <acct> = ss58 address | 0x<32-byte public key> | //URI | "mnemonic words" | seed:0x<32-byte seed>
// Options (defaults in brackets):
//   --netuid 1  --tempo 360  --modality 0  --sudo //Alice  --coldkey //Bob
//   --version-key 1000 (WeightsVersionKey; 0 = accept any)  --max-weights-limit 65535
//   --min-allowed-weights 1  --weights-rate-limit 0  --max-allowed-uids (unchanged)
//   --max-allowed-validators (unchanged; 1 keeps the epoch from handing permits to miners)
//   --validator-stake 1000000000000 (rao)  --fund 1000000000000000 (rao, validator hotkey free balance;
//                set_weights is Pays::No in spec 103, so this only matters for other signed calls)
//   --axon-ip 127.0.0.1  --axon-port-base 8091 (miner i -> base+i unless @ip:port given)
//   --axon-version 1 --axon-protocol 4   --permit-all (give every uid a ValidatorPermit)
//   --out state.json  (write netuid/uids/hotkeys/axons for tests)
//   --leave-mode Instant|Batch|Manual  block build mode to leave the chain in [Instant]; setup
//                itself always switches to Instant (dev_setBlockBuildMode) so its sudo calls land
import { writeFileSync } from 'node:fs';
import {
  parseArgs, readJson, list, connect, accountFrom, pairFrom, setStorageRaw, encodeStorageValue,
  submit, ipv4ToU128, rpc, die,
} from './lib.mjs';

const cli = parseArgs();
const cfg = {
  ws: 'ws://127.0.0.1:9944', netuid: 1, tempo: 360, modality: 0, sudo: '//Alice', coldkey: '//Bob',
  versionKey: 1000, maxWeightsLimit: 65535, minAllowedWeights: 1, weightsRateLimit: 0,
  maxAllowedUids: undefined, maxAllowedValidators: undefined, validatorStake: '1000000000000', fund: '1000000000000000',
  sudoFund: '1000000000000000000', axonIp: '127.0.0.1', axonPortBase: 8091, axonVersion: 1, axonProtocol: 4,
  permitAll: false, out: undefined, leaveMode: 'Instant', validator: undefined, miners: [],
  ...(cli.config ? readJson(cli.config) : {}),
};
for (const [k, v] of Object.entries(cli)) if (k !== '_' && k !== 'config' && k !== 'miner') cfg[k] = v;
if (cli.miner !== undefined) cfg.miners = list(cli.miner);
if (!cfg.validator) die('need --validator');
const num = (k) => Number(cfg[k]);
const netuid = num('netuid');

const t0 = Date.now();
const log = (...a) => console.error(`[setup +${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
const { api, provider } = await connect(cfg.ws);
const q = api.query.subtensorModule;
const tx = api.tx.subtensorModule;

await rpc(provider, 'dev_setBlockBuildMode', ['Instant']);

// ---- 1. //Alice (or --sudo) becomes Sudo.Key and gets a balance (dev_setStorage)
const sudo = await pairFrom(cfg.sudo);
async function fundPairs(addr, free) {
  const cur = (await api.query.system.account(addr)).toJSON();
  const v = { ...cur, providers: Math.max(1, cur.providers ?? 0), data: { ...cur.data, free: BigInt(free).toString() } };
  return [api.query.system.account.key(addr), encodeStorageValue(api, api.query.system.account, v)];
}
await setStorageRaw(provider, [
  [api.query.sudo.key.key(), encodeStorageValue(api, api.query.sudo.key, sudo.address)],
  await fundPairs(sudo.address, cfg.sudoFund),
]);
log('sudo key =', (await api.query.sudo.key()).toString());

const sudoCall = async (call, what) => {
  const r = await submit(api, provider, api.tx.sudo.sudo(call), sudo);
  if (r.failed) throw new Error(`${what}: ${JSON.stringify(r.failed)}`);
  log('ok', what, 'block', r.blockHash.slice(0, 10));
  return r;
};

// ---- 2. subnet
if (!(await q.networksAdded(netuid)).isTrue) {
  await sudoCall(tx.sudoAddNetwork(netuid, num('tempo'), num('modality')), `sudoAddNetwork(${netuid}, tempo=${cfg.tempo})`);
} else log('network', netuid, 'exists');
if ((await q.tempo(netuid)).toNumber() !== num('tempo')) {
  // no sudo_set_tempo in spec 103: write Tempo directly
  await setStorageRaw(provider, [[q.tempo.key(netuid), encodeStorageValue(api, q.tempo, num('tempo'))]]);
}

// ---- 3. hyperparameters (real sudo calls, so they go through the runtime)
const params = [
  ['weightsVersionKey', 'sudoSetWeightsVersionKey', 'versionKey'],
  ['maxWeightsLimit', 'sudoSetMaxWeightLimit', 'maxWeightsLimit'],
  ['minAllowedWeights', 'sudoSetMinAllowedWeights', 'minAllowedWeights'],
  ['weightsSetRateLimit', 'sudoSetWeightsSetRateLimit', 'weightsRateLimit'],
  ['maxAllowedUids', 'sudoSetMaxAllowedUids', 'maxAllowedUids'],
  // Each epoch (every tempo+1 blocks) recomputes ValidatorPermit as top-k by stake with
  // k = MaxAllowedValidators (default 128), so with few uids everyone gets a permit after
  // the first epoch. Set this to 1 to keep the permit on the (staked) validator only.
  ['maxAllowedValidators', 'sudoSetMaxAllowedValidators', 'maxAllowedValidators'],
];
for (const [item, call, key] of params) {
  if (cfg[key] === undefined || cfg[key] === null) continue;
  if ((await q[item](netuid)).toString() === String(cfg[key])) { log(item, 'already', cfg[key]); continue; }
  await sudoCall(tx[call](netuid, BigInt(cfg[key])), `${call}(${netuid}, ${cfg[key]})`);
}

// ---- 4. registrations
const coldkey = await accountFrom(cfg.coldkey);
const validator = await accountFrom(cfg.validator);
const miners = [];
for (const [i, m] of cfg.miners.entries()) {
  const spec = typeof m === 'string' ? m : `${m.hotkey}${m.ip || m.port ? `@${m.ip ?? cfg.axonIp}:${m.port}` : ''}`;
  const at = spec.lastIndexOf('@');
  const [acct, ep] = at > 0 && !spec.slice(at).includes(' ') ? [spec.slice(0, at), spec.slice(at + 1)] : [spec, null];
  const [ip, port] = ep ? [ep.slice(0, ep.lastIndexOf(':')), Number(ep.slice(ep.lastIndexOf(':') + 1))] : [cfg.axonIp, num('axonPortBase') + i];
  miners.push({ hotkey: await accountFrom(acct), ip, port });
}
async function register(hotkey, stake) {
  const u = await q.uids(netuid, hotkey);
  if (u.isSome) return u.unwrap().toNumber();
  await sudoCall(tx.sudoRegister(netuid, hotkey, coldkey, BigInt(stake), 0n), `sudoRegister(${hotkey.slice(0, 8)}…, stake=${stake})`);
  return (await q.uids(netuid, hotkey)).unwrap().toNumber();
}
const vUid = await register(validator, cfg.validatorStake);
for (const m of miners) m.uid = await register(m.hotkey, 0);
const n = (await q.subnetworkN(netuid)).toNumber();
log(`validator uid ${vUid}; miners ${miners.map((m) => m.uid).join(',')}; SubnetworkN ${n}`);

// ---- 5. storage the runtime won't let us set with calls: permits, axons, fee balance
const head = (await api.rpc.chain.getHeader()).number.toNumber();
const permits = Array.from({ length: n }, (_, uid) => cfg.permitAll === true || cfg.permitAll === 'true' || uid === vUid);
const pairs = [
  [q.validatorPermit.key(netuid), encodeStorageValue(api, q.validatorPermit, permits)],
  await fundPairs(validator, cfg.fund),
];
for (const m of miners) {
  pairs.push([q.axons.key(netuid, m.hotkey), encodeStorageValue(api, q.axons, {
    block: head, version: num('axonVersion'), ip: ipv4ToU128(m.ip), port: m.port, ipType: 4,
    protocol: num('axonProtocol'), placeholder1: 0, placeholder2: 0,
  })]);
}
await setStorageRaw(provider, pairs);
log('wrote ValidatorPermit, validator balance and', miners.length, 'Axons');

const state = {
  ws: cfg.ws, netuid, tempo: num('tempo'), versionKey: String(cfg.versionKey),
  validator: { hotkey: validator, uid: vUid, stake: (await q.totalHotkeyStake(validator)).toString() },
  miners, coldkey, subnetworkN: n, head: (await api.rpc.chain.getHeader()).number.toNumber(),
  genesisHash: api.genesisHash.toHex(), specVersion: api.runtimeVersion.specVersion.toNumber(),
  setupSeconds: (Date.now() - t0) / 1000,
};
await rpc(provider, 'dev_setBlockBuildMode', [cfg.leaveMode]);
state.buildMode = cfg.leaveMode;
if (cfg.out) writeFileSync(cfg.out, JSON.stringify(state, null, 2));
console.log(JSON.stringify(state, null, 2));
await api.disconnect();
process.exit(0);
