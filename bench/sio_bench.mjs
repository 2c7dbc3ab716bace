// Socket.IO engine benchmark (not a test). Starts elizad on loopback and measures, with the real
// socket.io-client in this process:
//   engine  (sio_conformance plugin: "join" / "to-room"): N clients held (RSS per connection),
//           then a burst of BURST messages to FAN room members: deliveries/s, latency p50/p99
//   elizaos (messaging plugin: ROOM_JOINING "1" / SEND_MESSAGE "2" -> messageBroadcast), the path
//           the official server is measured on; with PEER_URL=http://127.0.0.1:3100 (started by
//           ../shared/peers/eliza/start.sh) the same burst runs against it in the same run.
//
//   node bench/sio_bench.mjs                   # needs build-release (or ELIZAD_BIN) + plugins
//   CONNS=1000,10000 FAN=100 BURST=100 PEER_URL=... node bench/sio_bench.mjs
//
// Run it from anywhere: socket.io-client is loaded from tests/e2e/node_modules. Every wait is
// bounded; elizad is stopped by its PID.
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';

const REPO = new URL('..', import.meta.url).pathname;
const require = createRequire(join(REPO, 'tests/e2e/package.json'));
const { io } = require('socket.io-client');

const BIN = process.env.ELIZAD_BIN || join(REPO, 'build-release/elizad');
const PLUGIN_DIR = process.env.ELIZAD_PLUGIN_DIR || join(BIN, '../plugins');
const CONNS = (process.env.CONNS || '1000,10000').split(',').map(Number);
const FAN = Number(process.env.FAN || 100);
const BURST = Number(process.env.BURST || 100);
const ROUNDS = Number(process.env.ROUNDS || 3);
const PEER_URL = process.env.PEER_URL || '';
const PORT = Number(process.env.PORT || 3210);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (a, p) => {
  if (!a.length) return null;
  const s = Float64Array.from(a).sort();
  return +s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))].toFixed(2);
};
const median = (a) => pct(a, 50);
function rssMB(pid) {
  try {
    return +(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1] / 1024).toFixed(1);
  } catch {
    return null;
  }
}
function within(p, ms, what) {
  let t;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise((_, rej) => (t = setTimeout(() => rej(new Error(`timeout: ${what}`)), ms))),
  ]);
}

async function startElizad(plugins) {
  const dir = mkdtempSync(join(tmpdir(), 'sio-bench-'));
  writeFileSync(
    join(dir, 'elizad.conf'),
    `server: { host = "127.0.0.1"; port = ${PORT}; data_dir = "${dir}/data"; ` +
      `plugin_dir = "${PLUGIN_DIR}"; log_level = "warn"; };\nplugins = [ ${plugins.map((p) => `"${p}"`).join(', ')} ];\n`,
  );
  const child = spawn(BIN, ['--config', join(dir, 'elizad.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => (log += d));
  const url = `http://127.0.0.1:${PORT}`;
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`elizad exited: ${log}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {}
    await sleep(50);
  }
  return {
    url,
    pid: child.pid,
    async stop() {
      child.kill('SIGTERM');
      await within(new Promise((r) => child.once('exit', r)), 10000, 'elizad exit').catch(() => child.kill('SIGKILL'));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function connect(url, ready, opts = {}) {
  const s = io(url, { transports: ['websocket'], reconnection: false, forceNew: true, timeout: 30000, ...opts });
  return within(
    new Promise((resolve, reject) => {
      s.once(ready, () => resolve(s));
      s.once('connect_error', reject);
    }),
    60000,
    'connect',
  );
}

async function connectMany(url, n, ready, opts) {
  const out = [];
  for (let i = 0; i < n; i += 200) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(200, n - i) }, () => connect(url, ready, opts)))));
  }
  return out;
}

// One burst: `send(i, stamp)` fires message i; receivers call `got(i, stamp)`.
async function burst(receivers, send, listen) {
  const lat = [];
  let count = 0;
  const want = receivers.length * BURST;
  let done;
  const finished = new Promise((r) => (done = r));
  const off = receivers.map((s) =>
    listen(s, (stamp) => {
      lat.push(performance.now() - stamp);
      if (++count === want) done();
    }),
  );
  const t0 = performance.now();
  for (let i = 0; i < BURST; i++) send(i, performance.now());
  await within(finished, 60000, `burst (${count}/${want})`).catch((e) => console.error(String(e)));
  const secs = (performance.now() - t0) / 1000;
  off.forEach((f) => f());
  return { deliveries: count, per_s: Math.round(count / secs), p50: pct(lat, 50), p99: pct(lat, 99) };
}

async function engineBench() {
  const out = [];
  for (const n of CONNS) {
    const srv = await startElizad(['sio_conformance']);
    try {
      const idle = rssMB(srv.pid);
      const t0 = performance.now();
      const socks = await connectMany(srv.url, n, 'auth');
      const connectS = (performance.now() - t0) / 1000;
      await sleep(2000);
      const held = rssMB(srv.pid);
      const room = `bench-${randomUUID()}`;
      const receivers = socks.slice(0, FAN);
      await Promise.all(receivers.map((s) => s.timeout(10000).emitWithAck('join', room)));
      const sender = socks[FAN] || socks[0];
      const rounds = [];
      for (let r = 0; r < ROUNDS; r++) {
        rounds.push(
          await burst(
            receivers,
            (i, stamp) => sender.emit('to-room', room, 'b', stamp),
            (s, cb) => {
              const h = (stamp) => cb(stamp);
              s.on('b', h);
              return () => s.off('b', h);
            },
          ),
        );
        await sleep(300);
      }
      out.push({
        clients: n,
        connect_s: +connectS.toFixed(2),
        still_connected: socks.filter((s) => s.connected).length,
        rss_idle_mb: idle,
        rss_held_mb: held,
        kb_per_client: +(((held - idle) * 1024) / n).toFixed(2),
        burst_deliveries_per_s: median(rounds.map((x) => x.per_s)),
        burst_p50_ms: median(rounds.map((x) => x.p50)),
        burst_p99_ms: median(rounds.map((x) => x.p99)),
        rss_after_mb: rssMB(srv.pid),
      });
      for (const s of socks) s.close();
    } finally {
      await srv.stop();
    }
  }
  return out;
}

// The elizaOS messaging path, as the official server is measured.
async function elizaosBurst(url) {
  const SERVER = '00000000-0000-0000-0000-000000000000';
  const channel = randomUUID();
  const mk = async () => {
    const entityId = randomUUID();
    const s = await connect(url, 'connect', { auth: { entityId } });
    s.entityId = entityId;
    return s;
  };
  const socks = [];
  for (let i = 0; i <= FAN; i += 50) socks.push(...(await Promise.all(Array.from({ length: Math.min(50, FAN + 1 - i) }, mk))));
  const receivers = socks.slice(0, FAN);
  const sender = socks[FAN];
  await Promise.all(
    receivers.map((s) =>
      within(
        new Promise((r) => {
          s.once('channel_joined', r);
          s.emit('1', { channelId: channel, roomId: channel, entityId: s.entityId, messageServerId: SERVER });
        }),
        10000,
        'channel_joined',
      ),
    ),
  );
  const stamps = new Map();
  const send = (i, stamp) => {
    const text = `b-${i}-${randomUUID()}`;
    stamps.set(text, stamp);
    sender.emit('2', {
      channelId: channel, roomId: channel, messageServerId: SERVER, senderId: sender.entityId,
      senderName: 'bench', message: text, messageId: randomUUID(), source: 'bench',
    });
  };
  const listen = (s, cb) => {
    const h = (m) => stamps.has(m.text) && cb(stamps.get(m.text));
    s.on('messageBroadcast', h);
    return () => s.off('messageBroadcast', h);
  };
  await burst(receivers, send, listen); // warm-up (channel creation, caches)
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    rounds.push(await burst(receivers, send, listen));
    await sleep(300);
  }
  for (const s of socks) s.close();
  return {
    burst_deliveries_per_s: median(rounds.map((x) => x.per_s)),
    burst_p50_ms: median(rounds.map((x) => x.p50)),
    burst_p99_ms: median(rounds.map((x) => x.p99)),
  };
}

const result = { fan: FAN, burst: BURST, rounds: ROUNDS, engine: await engineBench() };
const ez = await startElizad(['messaging']);
try {
  result.elizaos_path = { elizad: await elizaosBurst(ez.url) };
} finally {
  await ez.stop();
}
if (PEER_URL) {
  result.elizaos_path.official = await elizaosBurst(PEER_URL);
  const e = result.elizaos_path.elizad, o = result.elizaos_path.official;
  result.elizaos_path.ratio_deliveries_per_s = +(e.burst_deliveries_per_s / o.burst_deliveries_per_s).toFixed(1);
}
console.log(JSON.stringify(result, null, 1));
process.exit(0);
