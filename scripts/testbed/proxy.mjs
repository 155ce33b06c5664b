#!/usr/bin/env node
// A controllable TCP proxy for "connection dropped and restored" tests.
// Client -> 127.0.0.1:LISTEN -> 127.0.0.1:TARGET (chopsticks). Cutting the proxy drops
// every client connection while chopsticks (and its in-memory chain state) keeps running.
// No dependencies beyond Node itself.
//
// Usage: node proxy.mjs --listen 9945 --target 9944 [--control 9946]
//   --listen 0 / --control 0 pick free ports; the chosen ones are printed as
//   the first stdout line: {"event":"ready","listen":P,"control":C,"target":T}
//
// Control (HTTP on 127.0.0.1:CONTROL; GET or POST):
//   /cut?mode=refuse&for=MS   destroy all connections; new connects are refused
//                             (listener closed -> ECONNREFUSED). for=MS: auto-restore.
//   /cut?mode=reset           keep listening, but accept-and-reset new connections.
//   /cut?mode=blackhole       keep listening, accept new connections and never answer
//                             (tests request/connect timeouts; held sockets are reset on restore).
//   /stall?for=MS             keep connections open but stop forwarding bytes (half-dead
//                             link: tests keepalive/ping timeouts); /restore resumes.
//   /restore                  back to normal forwarding.
//   /status                   JSON: state, live connections, counters.
// Signals: SIGUSR1 = cut (refuse), SIGUSR2 = restore, SIGTERM/SIGINT = exit.
import net from 'node:net';
import http from 'node:http';

const arg = (k, d) => { const i = process.argv.indexOf(`--${k}`); return i > 0 ? process.argv[i + 1] : d; };
const LISTEN = Number(arg('listen', 9945));
const TARGET = Number(arg('target', 9944));
const TARGET_HOST = '127.0.0.1';
const CONTROL = Number(arg('control', 0));
const HOST = '127.0.0.1';

let state = 'up'; // up | refuse | reset | blackhole | stall
let restoreTimer = null;
const conns = new Set();
const held = new Set();
const stats = { accepted: 0, cuts: 0, refusedOrReset: 0, bytesUp: 0, bytesDown: 0 };
const log = (o) => console.log(JSON.stringify({ t: Date.now(), ...o }));

function onConnection(client) {
  if (state === 'reset') { stats.refusedOrReset++; client.resetAndDestroy(); return; }
  if (state === 'blackhole') { held.add(client); client.on('error', () => {}); client.on('close', () => held.delete(client)); client.pause(); return; }
  stats.accepted++;
  const upstream = net.connect(TARGET, TARGET_HOST);
  const c = { client, upstream };
  conns.add(c);
  client.setNoDelay(true); upstream.setNoDelay(true);
  client.on('data', (d) => { stats.bytesUp += d.length; if (!upstream.write(d)) client.pause(); });
  upstream.on('drain', () => { if (state !== 'stall') client.resume(); });
  upstream.on('data', (d) => { stats.bytesDown += d.length; if (!client.write(d)) upstream.pause(); });
  client.on('drain', () => { if (state !== 'stall') upstream.resume(); });
  const end = () => { conns.delete(c); client.destroy(); upstream.destroy(); };
  client.on('close', end); upstream.on('close', end);
  client.on('error', () => {}); upstream.on('error', () => {});
  if (state === 'stall') { client.pause(); upstream.pause(); }
}

let server = null;
function listen() {
  return new Promise((resolve, reject) => {
    if (server) return resolve();
    const s = net.createServer(onConnection);
    s.once('error', reject);
    s.listen(LISTEN_ACTUAL ?? LISTEN, HOST, () => { server = s; LISTEN_ACTUAL = s.address().port; resolve(); });
  });
}
let LISTEN_ACTUAL = null;
function closeListener() { if (server) { server.close(); server = null; } }

function dropAll() {
  // RST rather than FIN, like a dead link / killed node (client sees ECONNRESET).
  for (const { client, upstream } of conns) { client.resetAndDestroy(); upstream.destroy(); }
  conns.clear();
}
function scheduleRestore(ms) {
  clearTimeout(restoreTimer); restoreTimer = null;
  if (ms > 0) restoreTimer = setTimeout(() => restore('timer'), ms);
}
async function cut(mode = 'refuse', ms = 0) {
  if (!['refuse', 'reset', 'blackhole'].includes(mode)) throw new Error(`bad mode ${mode}`);
  const n = conns.size;
  state = mode; stats.cuts++;
  dropAll();
  if (mode === 'refuse') closeListener(); else await listen();
  scheduleRestore(ms);
  log({ event: 'cut', mode, dropped: n, restoreInMs: ms || null });
}
function stall(ms = 0) {
  state = 'stall';
  for (const { client, upstream } of conns) { client.pause(); upstream.pause(); }
  scheduleRestore(ms);
  log({ event: 'stall', connections: conns.size, restoreInMs: ms || null });
}
async function restore(why = 'request') {
  clearTimeout(restoreTimer); restoreTimer = null;
  for (const s of held) s.resetAndDestroy(); held.clear();
  const prev = state; state = 'up';
  await listen();
  if (prev === 'stall') for (const { client, upstream } of conns) { client.resume(); upstream.resume(); }
  log({ event: 'restore', from: prev, why });
}

await listen();
const ctl = http.createServer(async (req, res) => {
  const u = new URL(req.url, 'http://x');
  const ms = Number(u.searchParams.get('for') || 0);
  try {
    if (u.pathname === '/cut') await cut(u.searchParams.get('mode') || 'refuse', ms);
    else if (u.pathname === '/stall') stall(ms);
    else if (u.pathname === '/restore') await restore();
    else if (u.pathname !== '/status') { res.writeHead(404).end('unknown\n'); return; }
    res.writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ state, connections: conns.size, held: held.size, listen: LISTEN_ACTUAL, target: TARGET, ...stats }) + '\n');
  } catch (e) { res.writeHead(400).end(String(e.message) + '\n'); }
});
await new Promise((r) => ctl.listen(CONTROL, HOST, r));
log({ event: 'ready', listen: LISTEN_ACTUAL, control: ctl.address().port, target: TARGET });
process.on('SIGUSR1', () => cut('refuse'));
process.on('SIGUSR2', () => restore('signal'));
const bye = () => { dropAll(); for (const s of held) s.destroy(); closeListener(); ctl.close(); process.exit(0); };
process.on('SIGTERM', bye); process.on('SIGINT', bye);
