// Shared helpers for the chopsticks testbed scripts.
// The npm packages live in a cache dir (not next to these scripts), so they are
// loaded with createRequire from TESTBED_NPM_DIR (set by start.sh / env.sh).
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const NPM_DIR = process.env.TESTBED_NPM_DIR
  || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'gittensor-testbed', 'npm');
const require = createRequire(join(NPM_DIR, 'package.json'));

// Silence "@polkadot/... has multiple versions" noise if it ever shows up.
process.env.POLKADOTJS_DISABLE_ESM_CJS_WARNING ??= '1';

export const { ApiPromise, WsProvider } = require('@polkadot/api');
export const { Keyring } = require('@polkadot/keyring');
export const { cryptoWaitReady, decodeAddress, encodeAddress, mnemonicValidate } = require('@polkadot/util-crypto');
export const { u8aToHex, hexToU8a, isHex } = require('@polkadot/util');

// ---------------------------------------------------------------- CLI parsing
// --key value | --key=value | --flag ; repeated keys become arrays.
export function parseArgs(argv = process.argv.slice(2)) {
  const out = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) { out._.push(a); continue; }
    let k = a.slice(2), v;
    const eq = k.indexOf('=');
    if (eq >= 0) { v = k.slice(eq + 1); k = k.slice(0, eq); }
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) v = argv[++i];
    else v = true;
    k = k.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (k in out) out[k] = [].concat(out[k], v); else out[k] = v;
  }
  return out;
}
export const readJson = (p) => JSON.parse(readFileSync(p, 'utf8'));
export const list = (v) => v === undefined ? [] : [].concat(v).flatMap((s) => String(s).split(',')).map((s) => s.trim()).filter(Boolean);

// ---------------------------------------------------------------- keys
let keyring;
export async function keys() {
  if (!keyring) { await cryptoWaitReady(); keyring = new Keyring({ type: 'sr25519', ss58Format: 42 }); }
  return keyring;
}
// A signer from: "//Alice"-style URI, a BIP39 mnemonic (optionally with //derivation),
// or a 32-byte hex mini-secret ("0x" + 64 hex) — the same thing subxt's
// sr25519::Keypair::from_secret_key / from_uri take.
export async function pairFrom(secret) {
  const kr = await keys();
  if (isHex(secret) && secret.length === 66) return kr.addFromSeed(hexToU8a(secret));
  return kr.addFromUri(secret);
}
// An AccountId32 from an ss58 address, a 0x-hex public key, or a secret (URI / mnemonic / seed).
export async function accountFrom(s) {
  s = String(s).trim();
  if (isHex(s) && s.length === 66) {
    // Ambiguous: a public key or a seed. Public keys are the expected input here;
    // prefix a seed with "seed:" to force seed interpretation.
    return encodeAddress(hexToU8a(s), 42);
  }
  if (s.startsWith('seed:')) return (await pairFrom(s.slice(5))).address;
  if (s.startsWith('//') || s.includes(' ')) return (await pairFrom(s)).address;
  return encodeAddress(decodeAddress(s), 42); // ss58 of any prefix
}

// ---------------------------------------------------------------- connection
export async function connect(ws, { timeoutMs = 60000 } = {}) {
  const provider = new WsProvider(ws, 1000, {}, timeoutMs);
  const api = await ApiPromise.create({ provider, noInitWarn: true, throwOnConnect: true });
  return { api, provider };
}
export const rpc = (provider, method, params = []) => provider.send(method, params);

// dev_setStorage with raw [key, value] hex pairs; returns the head hash.
export async function setStorageRaw(provider, pairs) {
  return rpc(provider, 'dev_setStorage', [pairs]);
}
// Encode a storage value with the exact SCALE type the runtime declares for it.
export function encodeStorageValue(api, entry, value) {
  const m = entry.creator.meta.type;
  const tyId = m.isPlain ? m.asPlain : m.asMap.value;
  // NB: toU8a() is the SCALE encoding; toHex() on integer types is the big-endian number, not SCALE.
  return u8aToHex(api.registry.createType(api.registry.createLookupType(tyId), value).toU8a());
}

// ---------------------------------------------------------------- errors / submit
export function decodeDispatchError(api, err) {
  if (!err) return null;
  if (err.isModule) {
    const d = api.registry.findMetaError(err.asModule);
    const raw = err.asModule;
    const idx = raw.error.toU8a ? Array.from(raw.error.toU8a()) : raw.error.toJSON();
    return { kind: 'Module', pallet: d.section, palletIndex: raw.index.toNumber(), error: d.name, errorBytes: idx, docs: d.docs.join(' ') };
  }
  return { kind: err.type, detail: err.toJSON() };
}

// Sign + submit with author_submitAndWatchExtrinsic (what @polkadot/api uses),
// resolve once the extrinsic is in a block. If the chain is in Manual build mode,
// pass newBlock=true to trigger dev_newBlock after submission.
export function submit(api, provider, tx, signer, { newBlock = false, timeoutMs = 60000 } = {}) {
  return new Promise((resolve, reject) => {
    let unsub; let done = false;
    const t = setTimeout(() => { if (!done) { done = true; unsub?.(); reject(new Error('timeout waiting for inclusion')); } }, timeoutMs);
    tx.signAndSend(signer, { nonce: -1 }, (res) => {
      const st = res.status;
      if (st.isInBlock || st.isFinalized) {
        if (done) return; done = true; clearTimeout(t); unsub?.();
        const events = res.events.map(({ event, phase }) => ({ phase: phase.toString(), section: event.section, method: event.method, data: event.data.toJSON(), ev: event }));
        let failed = null;
        for (const e of events) {
          if (e.section === 'system' && e.method === 'ExtrinsicFailed') failed = decodeDispatchError(api, e.ev.data[0]);
          // Sudo.Sudid(Result<(), DispatchError>) — the outer extrinsic succeeds even if the inner call fails.
          if (e.section === 'sudo' && e.method === 'Sudid' && e.ev.data[0].isErr) failed = { ...decodeDispatchError(api, e.ev.data[0].asErr), viaSudo: true };
        }
        resolve({ blockHash: (st.isInBlock ? st.asInBlock : st.asFinalized).toHex(), txHash: tx.hash.toHex(), events: events.map(({ ev, ...e }) => e), failed });
      } else if (st.isInvalid || st.isDropped || st.isUsurped) {
        if (done) return; done = true; clearTimeout(t); unsub?.();
        reject(new Error(`extrinsic ${st.type}`));
      }
    }).then((u) => {
      unsub = u;
      if (newBlock) rpc(provider, 'dev_newBlock', [{ count: 1 }]).catch(() => {});
    }).catch((e) => { if (!done) { done = true; clearTimeout(t); reject(e); } });
  });
}

// ---------------------------------------------------------------- misc
export function ipv4ToU128(ip) {
  const p = ip.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !(x >= 0 && x <= 255))) throw new Error(`bad IPv4 ${ip}`);
  return ((BigInt(p[0]) << 24n) | (BigInt(p[1]) << 16n) | (BigInt(p[2]) << 8n) | BigInt(p[3]));
}
export function u128ToIp(v, ipType) {
  v = BigInt(v);
  if (Number(ipType) === 4) return [24n, 16n, 8n, 0n].map((s) => Number((v >> s) & 255n)).join('.');
  const parts = []; for (let i = 7; i >= 0; i--) parts.push(Number((v >> BigInt(i * 16)) & 0xffffn).toString(16));
  return parts.join(':');
}
export function die(msg) { console.error(msg); process.exit(2); }
