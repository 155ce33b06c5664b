#!/usr/bin/env node
// Set one validator's weights on the testbed chain, signed by its hotkey.
// Usage: node set-weights.mjs --ws WS --netuid 1 --key //V1 --uids 1,2,3 --weights 50,30,20 [--version-key 1000]
// --key is a //URI, a mnemonic or a 0x 32-byte seed (lib.mjs pairFrom).
// Prints {"block": N, "hotkey": ss58} once the extrinsic is in a block;
// a dispatch error fails the script with its name.
import { parseArgs, list, connect, pairFrom, submit, die } from './lib.mjs';

const a = parseArgs();
if (!a.key || !a.uids || !a.weights) die('need --key, --uids and --weights');
const { api, provider } = await connect(a.ws || 'ws://127.0.0.1:9944');
const pair = await pairFrom(String(a.key));
const uids = list(a.uids).map(Number);
const weights = list(a.weights).map(Number);
const tx = api.tx.subtensorModule.setWeights(Number(a.netuid ?? 1), uids, weights, BigInt(a.versionKey ?? 1000));
const r = await submit(api, provider, tx, pair);
if (r.failed) die(`set_weights by ${pair.address}: ${JSON.stringify(r.failed)}`);
const header = await api.rpc.chain.getHeader(r.blockHash);
console.log(JSON.stringify({ block: header.number.toNumber(), hotkey: pair.address }));
await api.disconnect();
process.exit(0);
