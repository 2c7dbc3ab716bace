// Messages in, replies out: N Socket.IO clients, each in a DM with an agent on the eliza
// provider, each sending its next message as soon as the agent's reply (messageBroadcast with
// source agent_response) arrives. Reports replies/s and reply latency p50/p99.
//
//   node plugins/runtime/bench/replies_bench.mjs            # starts its own elizad (build/)
//   URL=http://127.0.0.1:3000 node .../replies_bench.mjs   # against a running server
// env: ELIZAD_BIN, CLIENTS (50), AGENTS (10), SECONDS (10), WARMUP_S (2)
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';

const e2e = new URL('../../../tests/e2e/', import.meta.url);
const require = createRequire(new URL('package.json', e2e));
const { io } = require('socket.io-client');
const { startServer } = await import(new URL('lib/harness.mjs', e2e));

const CLIENTS = +(process.env.CLIENTS || 50);
const AGENTS = +(process.env.AGENTS || 10);
const SECONDS = +(process.env.SECONDS || 10);
const WARMUP_S = +(process.env.WARMUP_S || 2);
const ZERO = '00000000-0000-0000-0000-000000000000';
// MODE=echo: no agent in the channel, wait for the sender's own messageBroadcast (the cost of
// storing and broadcasting a message without the runtime).
const ECHO = process.env.MODE === 'echo';

const srv = process.env.URL ? null : await startServer({});
const URL_ = process.env.URL || srv.url;
const PID = process.env.PID || (srv && srv.child.pid);
// CPU seconds (user + system) the server used so far: capacity independent of other load.
function cpuSeconds() {
  if (!PID) return null;
  const f = readFileSync(`/proc/${PID}/stat`, 'utf8').split(') ')[1].split(' ');
  return (+f[11] + +f[12]) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

// Bytes the server handed to write(2)/pwrite(2) so far (files and sockets): a steadier measure
// of storage work than time on a shared machine.
function ioWritten() {
  if (!PID) return null;
  const m = /wchar: (\d+)/.exec(readFileSync(`/proc/${PID}/io`, 'utf8'));
  return m ? +m[1] : null;
}

async function req(method, path, body) {
  const r = await fetch(URL_ + path, {
    method,
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  return r.json();
}

const agents = [];
for (let i = 0; i < AGENTS; i++) {
  const r = await req('POST', '/api/agents', {
    characterJson: { name: `Bench ${i} ${randomUUID().slice(0, 6)}`, bio: ['A benchmark listener.'] },
  });
  await req('POST', `/api/agents/${r.data.id}/start`);
  agents.push(r.data.id);
}

const lat = [];
const echo = [];
let replies = 0;
let measuring = false;
let stop = false;
const texts = ['I am worried about my job', 'my mother called me', 'you are a computer', 'why?',
  'perhaps I need a holiday', 'I remember my school', 'hello there', 'because I said so'];

async function runClient(i) {
  const userId = randomUUID();
  const agentId = agents[i % agents.length];
  const ch = ECHO
    ? (await req('POST', '/api/messaging/channels', { name: `echo ${i}`, message_server_id: ZERO, participantCentralUserIds: [userId], type: 'GROUP' })).data.id
    : (await req('GET', `/api/messaging/dm-channel?currentUserId=${userId}&targetUserId=${agentId}`)).data.id;
  const s = io(URL_, { transports: ['websocket'], auth: { entityId: userId }, reconnection: false, forceNew: true });
  await new Promise((res, rej) => { s.once('connect', res); s.once('connect_error', rej); });
  await new Promise((res) => { s.once('channel_joined', res); s.emit('message', { type: 1, payload: { channelId: ch, entityId: userId } }); });
  let pending = null;
  let tSent = 0;
  s.on('messageBroadcast', (m) => {
    if (m.senderId === userId && measuring) echo.push(performance.now() - tSent);
    const mine = ECHO ? m.senderId === userId : m.senderId === agentId && m.source === 'agent_response';
    if (!mine || !pending) return;
    const p = pending;
    pending = null;
    p(performance.now());
  });
  let n = 0;
  while (!stop) {
    const t0 = performance.now();
    tSent = t0;
    const got = new Promise((res) => { pending = res; });
    s.emit('message', { type: 2, payload: { senderId: userId, senderName: 'bench', message: texts[n++ % texts.length],
      channelId: ch, messageServerId: ZERO, source: 'client_chat', metadata: { channelType: 'DM', isDm: true } } });
    const t1 = await Promise.race([got, new Promise((r) => setTimeout(() => r(null), 10000))]);
    if (t1 === null) { console.error(`client ${i}: no reply in 10 s`); break; }
    if (measuring) { replies++; lat.push(t1 - t0); }
  }
  s.close();
}

const clients = Array.from({ length: CLIENTS }, (_, i) => runClient(i));
await new Promise((r) => setTimeout(r, WARMUP_S * 1000));
measuring = true;
const cpu0 = cpuSeconds();
const own0 = process.cpuUsage();
const io0 = ioWritten();
const t0 = performance.now();
await new Promise((r) => setTimeout(r, SECONDS * 1000));
measuring = false;
const secs = (performance.now() - t0) / 1000;
const cpu = PID ? cpuSeconds() - cpu0 : null;
const own = process.cpuUsage(own0);
const written = io0 === null ? null : ioWritten() - io0;
stop = true;
await Promise.all(clients);
lat.sort((a, b) => a - b);
echo.sort((a, b) => a - b);
const epct = (p) => (echo.length ? +echo[Math.min(echo.length - 1, Math.floor((p / 100) * echo.length))].toFixed(2) : null);
const pct = (p) => (lat.length ? +lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))].toFixed(2) : null);
console.log(JSON.stringify({ clients: CLIENTS, agents: AGENTS, seconds: +secs.toFixed(2), replies,
  replies_per_s: Math.round(replies / secs), latency_ms_p50: pct(50), latency_ms_p99: pct(99), latency_ms_max: pct(100), echo_ms_p50: epct(50), echo_ms_p99: epct(99),
  server_cpu_ms_per_reply: cpu === null ? null : +((cpu * 1000) / replies).toFixed(3),
  server_cpu_share: cpu === null ? null : +(cpu / secs).toFixed(2),
  server_kb_written_per_reply: written === null ? null : +(written / 1024 / replies).toFixed(1),
  // this load generator's own CPU: when it nears 1.0 the client, not the server, is the limit
  client_cpu_share: +((own.user + own.system) / 1e6 / secs).toFixed(2) }));
if (srv) {
  await srv.stop();
  if (process.env.SHOW_LOG) console.log(srv.log());
}
