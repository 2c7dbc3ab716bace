// A bounded, seeded mutation fuzz of the Socket.IO front (a smoke test next to
// socketio_abuse's hand-written cases): WebSocket clients open a real Engine.IO session, then
// send valid Socket.IO packets of the messaging protocol (connect with auth, join, send,
// seed-style events, acks, binary attachments) mutated byte-wise, as text and as binary frames.
// A canary client must keep its join working, the server must stay up and exit 0 on SIGTERM
// (under the asan preset: with no sanitizer report and no leak).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { io } from 'socket.io-client';
import { fuzzer } from './lib/fuzz.mjs';
import { startServer, http, ZERO_UUID } from './lib/harness.mjs';

const CLIENTS = +(process.env.FUZZ_CLIENTS || 400);
const PACKETS = +(process.env.FUZZ_PACKETS || 80);
const SEED = +(process.env.FUZZ_SEED || 20261129);
let totalSent = 0;

const { rand, pick, mutate } = fuzzer(SEED);

function packets(channelId, userId) {
  const msg = { channelId, senderId: userId, senderName: 'fuzz', message: 'hello', messageServerId: ZERO_UUID, source: 'client_chat' };
  return [
    `40${JSON.stringify({ entityId: userId })}`,
    `40/other,${JSON.stringify({ entityId: userId })}`,
    `42${JSON.stringify(['message', { type: 1, payload: { channelId, entityId: userId } }])}`,
    `42${JSON.stringify(['message', { type: 2, payload: msg }])}`,
    `421${JSON.stringify(['message', { type: 2, payload: msg }])}`,
    `42${JSON.stringify(['join', { channelId, roomId: channelId, agentId: userId }])}`,
    `42${JSON.stringify(['sendMessage', { channelId, content: 'x' }])}`,
    `42${JSON.stringify(['leave', { channelId }])}`,
    `451-${JSON.stringify(['message', { type: 2, payload: { ...msg, file: { _placeholder: true, num: 0 } } }])}`,
    `43${JSON.stringify([{ ok: true }])}`,
    '2', '3', '6',
  ];
}

function fuzzClient(port, channelId) {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
    const userId = randomUUID();
    const list = packets(channelId, userId);
    let sent = 0;
    const finish = (how) => {
      clearTimeout(t);
      try {
        ws.terminate();
      } catch {
        /* already gone */
      }
      resolve(how);
    };
    const t = setTimeout(() => finish('timeout'), 5000);
    ws.on('error', () => finish('error'));
    ws.on('close', () => finish('closed'));
    ws.on('message', () => {});
    ws.on('open', () => {
      ws.send(list[0]); // a valid connect first, so most packets reach the Socket.IO layer
      const pump = () => {
        if (ws.readyState !== WebSocket.OPEN) return;
        if (sent++ >= PACKETS) return finish('done');
        totalSent++;
        // closing packets (namespace disconnect, Engine.IO close, a stray binary marker) stay rare
        let p = Buffer.from(rand() < 0.03 ? pick(['41', '1', 'bXl0ZXN0']) : pick(list));
        const r = rand();
        // mostly keep the Engine.IO/Socket.IO prefix intact so the payload reaches the
        // Socket.IO layer; sometimes break the framing itself (the server closes those)
        if (r < 0.55) p = Buffer.concat([p.subarray(0, 2), mutate(p.subarray(2), 5)]);
        else if (r < 0.65) p = mutate(p, 5);
        ws.send(p, { binary: rand() < 0.2 });
        setImmediate(pump);
      };
      pump();
    });
  });
}

test(`${CLIENTS} fuzzing WebSocket clients x ${PACKETS} mutated packets (seed ${SEED})`, { timeout: 240000 }, async () => {
  const srv = await startServer();
  let st;
  const sockets = [];
  try {
    const userId = randomUUID();
    const ch = await http(`${srv.url}/api/messaging/channels`, {
      method: 'POST',
      body: { name: 'fuzz', message_server_id: ZERO_UUID, participantCentralUserIds: [userId], type: 'GROUP' },
    });
    assert.equal(ch.status, 201);
    const channelId = ch.body.data.id;

    const outcomes = {};
    for (let i = 0; i < CLIENTS; i += 10) {
      const batch = await Promise.all(Array.from({ length: Math.min(10, CLIENTS - i) }, () => fuzzClient(srv.port, channelId)));
      for (const how of batch) outcomes[how] = (outcomes[how] || 0) + 1;
    }
    assert.equal(Object.values(outcomes).reduce((a, b) => a + b, 0), CLIENTS, JSON.stringify(outcomes));
    console.log('fuzz outcomes', JSON.stringify(outcomes), 'packets sent', totalSent);

    // a well-behaved client still joins and sees its own message
    const s = io(srv.url, { transports: ['websocket'], auth: { entityId: userId }, reconnection: false, forceNew: true });
    sockets.push(s);
    await new Promise((res, rej) => {
      s.once('connect', res);
      s.once('connect_error', rej);
    });
    await new Promise((res) => {
      s.once('channel_joined', res);
      s.emit('message', { type: 1, payload: { channelId, entityId: userId } });
    });
    const got = new Promise((res) => s.on('messageBroadcast', (m) => m.senderId === userId && m.text === 'canary' && res(m)));
    s.emit('message', { type: 2, payload: { channelId, senderId: userId, senderName: 'c', message: 'canary', messageServerId: ZERO_UUID, source: 'client_chat' } });
    const m = await got;
    assert.equal(m.channelId, channelId);
  } finally {
    for (const s of sockets) s.close();
    st = await srv.stop();
  }
  const log = srv.log();
  assert.equal(st.code, 0, `exit ${JSON.stringify(st)}\n${log.slice(-4000)}`);
  assert.doesNotMatch(log, /AddressSanitizer|LeakSanitizer|runtime error:/);
});
