// Live log streaming over Socket.IO (COMPAT §14.3/14.4, the logs plugin): subscribe_logs,
// update_log_filters, log_stream (and the seed's logEntry) for real kernel log lines,
// unsubscribe_logs, and the answers for sockets that are not subscribed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { startServer } from './lib/harness.mjs';

const require = createRequire(import.meta.url);
const { io } = require('socket.io-client');

let srv;
const sockets = [];

before(async () => {
  srv = await startServer({ plugins: ['messaging', 'agents', 'logs'] });
});

after(async () => {
  for (const s of sockets) s.close();
  const st = await srv.stop();
  assert.equal(st.code, 0, `elizad exit: ${JSON.stringify(st)}\n${srv.log()}`);
});

async function connect() {
  const s = io(srv.url, { transports: ['websocket'], auth: { entityId: randomUUID() }, reconnection: false, forceNew: true });
  sockets.push(s);
  await new Promise((res, rej) => {
    s.once('connect', res);
    s.once('connect_error', rej);
  });
  return s;
}

function next(s, event, ms = 3000) {
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`no ${event} in ${ms} ms`)), ms);
    s.once(event, (d) => {
      clearTimeout(t);
      res(d);
    });
  });
}

function collect(s, event) {
  const got = [];
  s.on(event, (d) => got.push(d));
  return got;
}

// "agent created: <name> (<id>)" is logged at info by the agents plugin.
async function createAgent(name) {
  const r = await fetch(`${srv.url}/api/agents`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ characterJson: { name, bio: ['log stream test'] } }),
  });
  assert.equal(r.status, 201);
}

async function waitUntil(pred, ms = 3000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail('condition not met in time');
}

test('a subscribed socket receives log lines as log_stream and logEntry', async () => {
  const s = await connect();
  const confirmed = next(s, 'log_subscription_confirmed');
  s.emit('subscribe_logs');
  assert.deepEqual(await confirmed, { subscribed: true, message: 'Successfully subscribed to log stream' });
  const stream = collect(s, 'log_stream');
  const seed = collect(s, 'logEntry');
  const name = `Streamed ${randomUUID().slice(0, 8)}`;
  await createAgent(name);
  await waitUntil(() => stream.some((e) => e.payload.msg.includes(name)));
  const e = stream.find((x) => x.payload.msg.includes(name));
  assert.equal(e.type, 'log_entry');
  assert.equal(e.payload.level, 30, 'info is pino level 30');
  assert.equal(typeof e.payload.time, 'number');
  assert.ok(Math.abs(Date.now() - e.payload.time) < 60000);
  await waitUntil(() => seed.some((x) => x.msg.includes(name)));
});

test('filters: a level above the line hides it, agentName "all" and a plugin name pass it', async () => {
  const s = await connect();
  const confirmed = next(s, 'log_subscription_confirmed');
  s.emit('subscribe_logs');
  await confirmed;
  const stream = collect(s, 'log_stream');

  let upd = next(s, 'log_filters_updated');
  s.emit('update_log_filters', { level: 'error' });
  assert.deepEqual(await upd, { success: true, filters: { agentName: 'all', level: 50 } });
  const hidden = `Hidden ${randomUUID().slice(0, 8)}`;
  await createAgent(hidden);

  upd = next(s, 'log_filters_updated');
  s.emit('update_log_filters', { level: 'info', agentName: 'agents' });
  assert.deepEqual(await upd, { success: true, filters: { agentName: 'agents', level: 30 } });
  const shown = `Shown ${randomUUID().slice(0, 8)}`;
  await createAgent(shown);
  await waitUntil(() => stream.some((e) => e.payload.msg.includes(shown)));
  assert.ok(!stream.some((e) => e.payload.msg.includes(hidden)), 'an info line passed an error filter');

  upd = next(s, 'log_filters_updated');
  s.emit('update_log_filters', { agentName: 'no-such-source' });
  assert.equal((await upd).filters.level, 30, 'filters merge: level kept');
  const other = `Other ${randomUUID().slice(0, 8)}`;
  await createAgent(other);
  upd = next(s, 'log_filters_updated');
  s.emit('update_log_filters', { level: 'nonsense', agentName: 'all' });
  assert.equal((await upd).filters.level, 70, 'an unknown level name lets nothing through');
  await createAgent(`Nothing ${randomUUID().slice(0, 8)}`);
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(!stream.some((e) => e.payload.msg.includes(other)), 'agentName filter did not apply');
  assert.ok(!stream.some((e) => e.payload.msg.includes('Nothing ')), 'level 70 let a line through');
});

test('unsubscribe stops the stream; filters need a subscription', async () => {
  const s = await connect();
  let upd = next(s, 'log_filters_updated');
  s.emit('update_log_filters', { level: 'info' });
  assert.deepEqual(await upd, { success: false, error: 'Not subscribed to log stream' });

  let c = next(s, 'log_subscription_confirmed');
  s.emit('subscribe_logs');
  assert.equal((await c).subscribed, true);
  const stream = collect(s, 'log_stream');
  c = next(s, 'log_subscription_confirmed');
  s.emit('unsubscribe_logs');
  assert.deepEqual(await c, { subscribed: false, message: 'Successfully unsubscribed from log stream' });
  const after = `After ${randomUUID().slice(0, 8)}`;
  await createAgent(after);
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(!stream.some((e) => e.payload.msg.includes(after)), 'a line arrived after unsubscribe_logs');

  upd = next(s, 'log_filters_updated');
  s.emit('update_log_filters', { level: 'info' });
  assert.equal((await upd).success, false);
});

test('a subscriber that disconnects is forgotten and the server keeps streaming to others', async () => {
  const gone = await connect();
  const c = next(gone, 'log_subscription_confirmed');
  gone.emit('subscribe_logs');
  await c;
  gone.close();
  const s = await connect();
  const c2 = next(s, 'log_subscription_confirmed');
  s.emit('subscribe_logs');
  await c2;
  const stream = collect(s, 'log_stream');
  const name = `Survivor ${randomUUID().slice(0, 8)}`;
  await createAgent(name);
  await waitUntil(() => stream.some((e) => e.payload.msg.includes(name)));
});
