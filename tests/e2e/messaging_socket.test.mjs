// Messaging over Socket.IO with the real socket.io-client: handshake rules, joining, SEND_MESSAGE
// fan-out to two clients, the events REST changes raise, and the seed's join/leave/world-state.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { io } from 'socket.io-client';
import { startServer, http, ZERO_UUID } from './lib/harness.mjs';

const M = '/api/messaging';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
let srv;
const sockets = [];

before(async () => {
  srv = await startServer({ plugins: ['messaging'] });
});

after(async () => {
  for (const s of sockets) s.close();
  if (srv) await srv.stop();
});

// A socket that records every event from the start, so nothing sent right after the
// handshake is missed.
function client(auth, opts = {}) {
  const s = io(srv.url, { auth, autoConnect: false, reconnection: false, forceNew: true, timeout: 5000, ...opts });
  s.events = [];
  s.waiters = new Set();
  s.onAny((event, ...args) => {
    s.events.push({ event, data: args[0] });
    for (const w of [...s.waiters]) w();
  });
  sockets.push(s);
  return s;
}

function waitFor(s, event, pred = () => true, ms = 5000) {
  return new Promise((resolve, reject) => {
    let timer;
    const check = () => {
      const hit = s.events.find((e) => e.event === event && !e.used && pred(e.data));
      if (!hit) return;
      hit.used = true;
      clearTimeout(timer);
      s.waiters.delete(check);
      resolve(hit.data);
    };
    timer = setTimeout(() => {
      s.waiters.delete(check);
      reject(new Error(`no ${event} within ${ms} ms; got ${JSON.stringify(s.events.map((e) => e.event))}`));
    }, ms);
    s.waiters.add(check);
    check();
  });
}

async function open(auth, opts) {
  const s = client(auth, opts);
  const ready = new Promise((resolve, reject) => {
    s.once('connect', resolve);
    s.once('connect_error', reject);
  });
  s.connect();
  await ready;
  return s;
}

function refused(auth) {
  const s = client(auth);
  const p = new Promise((resolve, reject) => {
    s.once('connect', () => reject(new Error('connected')));
    s.once('connect_error', resolve);
  });
  s.connect();
  return p;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rest = (method, path, body) => http(srv.url + path, { method, body });

async function newChannel(participants) {
  const r = await rest('POST', `${M}/channels`, { name: 'sock', message_server_id: ZERO_UUID, participantCentralUserIds: participants });
  assert.equal(r.status, 201);
  return r.body.data;
}

async function joined(s, channelId, how = 'message') {
  if (how === 'message') s.emit('message', { type: 1, payload: { channelId, roomId: channelId, entityId: s.auth.entityId } });
  else if (how === 'numeric') s.emit('1', { channelId });
  else s.emit('join', { roomId: channelId, agentId: randomUUID() });
  const a = await waitFor(s, 'channel_joined', (d) => d.channelId === channelId);
  const b = await waitFor(s, 'room_joined', (d) => d.roomId === channelId);
  assert.deepEqual(a, b);
  assert.equal(a.roomId, channelId);
  assert.equal(a.message, `Socket ${s.id} successfully joined channel ${channelId}.`);
}

test('handshake: entityId rules, seed token, authenticated + connection_established', { timeout: 20000 }, async () => {
  assert.equal((await refused({})).message, 'Valid entityId required');
  assert.equal((await refused({ entityId: 'not-a-uuid' })).message, 'Valid entityId required');
  assert.equal((await refused({ entityId: 'x', token: 'abc' })).message, 'Valid entityId required');

  const entityId = randomUUID();
  const s = await open({ entityId });
  const auth = await waitFor(s, 'authenticated');
  assert.equal(auth.entityId, entityId);
  assert.equal(typeof auth.timestamp, 'number');
  const est = await waitFor(s, 'connection_established');
  assert.deepEqual(est, { message: 'Connected to Eliza Socket.IO server', socketId: s.id });

  const seed = await open({ token: 'seed-key' }, { transports: ['websocket'] });
  const seedAuth = await waitFor(seed, 'authenticated');
  assert.match(seedAuth.entityId, UUID);
});

test('two clients in a channel both receive messageBroadcast; sender gets clientMessageId and messageAck', { timeout: 20000 }, async () => {
  const userA = randomUUID();
  const userB = randomUUID();
  const agent = randomUUID();
  const ch = await newChannel([userA, userB, agent]);
  const a = await open({ entityId: userA }); // polling, then upgrade
  const b = await open({ entityId: userB }, { transports: ['websocket'] });
  await joined(a, ch.id);
  await joined(b, ch.id, 'numeric');

  const temp = randomUUID();
  a.emit('message', {
    type: 2,
    payload: {
      senderId: userA, senderName: 'alice', message: 'hello room', channelId: ch.id, roomId: ch.id,
      messageServerId: ZERO_UUID, messageId: temp, source: 'client_group_chat',
      attachments: [], metadata: { channelType: 'GROUP' },
    },
  });
  const mine = await waitFor(a, 'messageBroadcast');
  const ack = await waitFor(a, 'messageAck');
  const theirs = await waitFor(b, 'messageBroadcast');
  assert.equal(mine.clientMessageId, temp);
  assert.equal(theirs.clientMessageId, undefined);
  for (const m of [mine, theirs]) {
    assert.equal(m.text, 'hello room');
    assert.equal(m.senderId, userA);
    assert.equal(m.senderName, 'alice');
    assert.equal(m.channelId, ch.id);
    assert.equal(m.roomId, ch.id);
    assert.equal(m.messageServerId, ZERO_UUID);
    assert.equal(m.source, 'client_group_chat');
    assert.equal(typeof m.createdAt, 'number');
    assert.equal(m.id, ack.messageId);
  }
  assert.deepEqual(ack, {
    clientMessageId: temp, messageId: mine.id, status: 'received_by_server_and_processing', channelId: ch.id, roomId: ch.id,
  });
  // the sender is not sent the room copy as well
  await sleep(200);
  assert.equal(a.events.filter((e) => e.event === 'messageBroadcast').length, 1);

  const stored = (await rest('GET', `${M}/channels/${ch.id}/messages`)).body.data.messages;
  assert.equal(stored.length, 1);
  assert.equal(stored[0].id, mine.id);
  assert.equal(stored[0].sourceType, 'client_group_chat');
  assert.equal(stored[0].sourceId, temp);
  assert.equal(stored[0].rawMessage.message, 'hello room');
  assert.equal(stored[0].metadata.user_display_name, 'alice');
  assert.equal(stored[0].metadata.socket_id, a.id);
  assert.equal(stored[0].metadata.messageServerId, ZERO_UUID);
  assert.equal(stored[0].created_at, mine.createdAt);

  // numeric event name "2" from the other client
  b.emit('2', { senderId: userB, senderName: 'bob', message: 'numeric', channelId: ch.id, messageServerId: ZERO_UUID });
  const got = await waitFor(a, 'messageBroadcast', (m) => m.text === 'numeric');
  assert.equal(got.senderId, userB);
  await waitFor(b, 'messageAck');
});

test('REST changes reach the room: broadcast, agent reply, complete, delete, update, clear, delete channel', { timeout: 20000 }, async () => {
  const user = randomUUID();
  const agent = randomUUID();
  const ch = await newChannel([user, agent]);
  const a = await open({ entityId: user });
  const b = await open({ entityId: randomUUID() }, { transports: ['websocket'] });
  await joined(a, ch.id);
  await joined(b, ch.id, 'seed');

  const posted = await rest('POST', `${M}/channels/${ch.id}/messages`, {
    author_id: user, content: 'over rest', message_server_id: ZERO_UUID, metadata: { user_display_name: 'restie' },
  });
  assert.equal(posted.status, 201);
  for (const s of [a, b]) {
    const m = await waitFor(s, 'messageBroadcast', (d) => d.text === 'over rest');
    assert.equal(m.id, posted.body.userMessage.id);
    assert.equal(m.channelId, ch.id);
    assert.equal(m.roomId, ch.id);
    assert.equal(m.senderName, 'restie');
    assert.equal(m.source, 'eliza_gui');
  }

  const reply = await rest('POST', `${M}/submit`, {
    channel_id: ch.id, message_server_id: ZERO_UUID, author_id: agent, content: 'agent reply',
    source_type: 'agent_response', in_reply_to_message_id: posted.body.userMessage.id,
    raw_message: { text: 'agent reply', thought: 'answer', actions: ['REPLY'] }, metadata: { agentName: 'Bot' },
  });
  assert.equal(reply.status, 201);
  const ag = await waitFor(a, 'messageBroadcast', (d) => d.text === 'agent reply');
  assert.equal(ag.senderId, agent);
  assert.equal(ag.senderName, 'Bot');
  assert.equal(ag.source, 'agent_response');
  assert.equal(ag.thought, 'answer');
  assert.deepEqual(ag.actions, ['REPLY']);
  assert.equal(ag.channelId, ch.id);
  assert.equal(ag.roomId, ch.id);
  assert.equal(ag.serverId, ZERO_UUID);

  await rest('POST', `${M}/complete`, { channel_id: ch.id, message_server_id: ZERO_UUID });
  assert.deepEqual(await waitFor(b, 'messageComplete'), { channelId: ch.id, roomId: ch.id });

  const mid = posted.body.userMessage.id;
  assert.equal((await rest('DELETE', `${M}/channels/${ch.id}/messages/${mid}`)).status, 204);
  for (const s of [a, b]) assert.deepEqual(await waitFor(s, 'messageDeleted'), { messageId: mid, channelId: ch.id });

  const upd = await rest('PATCH', `${M}/channels/${ch.id}`, { name: 'renamed' });
  assert.equal(upd.status, 200);
  for (const s of [a, b]) {
    const e = await waitFor(s, 'channelUpdated');
    assert.equal(e.channelId, ch.id);
    assert.deepEqual(e.updates, upd.body.data);
  }

  assert.equal((await rest('DELETE', `${M}/channels/${ch.id}/messages`)).status, 204);
  for (const s of [a, b]) assert.deepEqual(await waitFor(s, 'channelCleared'), { channelId: ch.id });

  assert.equal((await rest('DELETE', `${M}/channels/${ch.id}`)).status, 204);
  for (const s of [a, b]) assert.deepEqual(await waitFor(s, 'channelDeleted'), { channelId: ch.id });
});

test('bad socket input answers messageError (and error for seed events)', { timeout: 20000 }, async () => {
  const user = randomUUID();
  const s = await open({ entityId: user });
  const sendErr = 'For SEND_MESSAGE: channelId, messageServerId (message_server_id), senderId (author_id), and message are required.';
  s.emit('message', { type: 2, payload: { senderId: user, channelId: randomUUID(), messageServerId: ZERO_UUID } });
  assert.deepEqual(await waitFor(s, 'messageError'), { error: sendErr });
  s.emit('message', { type: 2, payload: { senderId: 'nope', message: 'x', channelId: randomUUID(), messageServerId: ZERO_UUID } });
  assert.deepEqual(await waitFor(s, 'messageError'), { error: sendErr });
  s.emit('message', { type: 2, payload: { senderId: user, message: 'x', channelId: randomUUID(), messageServerId: 'bad' } });
  assert.deepEqual(await waitFor(s, 'messageError'), { error: sendErr });
  s.emit('message', { type: 1, payload: {} });
  assert.deepEqual(await waitFor(s, 'messageError'), { error: 'channelId is required for joining.' });
  s.emit('1', 'not an object');
  assert.deepEqual(await waitFor(s, 'messageError'), { error: 'channelId is required for joining.' });
  const unknownServer = randomUUID();
  s.emit('message', { type: 2, payload: { senderId: user, message: 'x', channelId: randomUUID(), messageServerId: unknownServer } });
  assert.deepEqual(await waitFor(s, 'messageError'), { error: `Server ${unknownServer} does not exist` });
  s.emit('join', {});
  await waitFor(s, 'messageError');
  assert.ok((await waitFor(s, 'error')).error);
  s.emit('request-world-state', { roomId: 'nope' });
  assert.ok((await waitFor(s, 'error')).error);
  // other message types are ignored, the connection stays usable
  s.emit('message', { type: 5, payload: { channelId: randomUUID() } });
  const ch = await newChannel([user]);
  await joined(s, ch.id);
});

test('SEND_MESSAGE to an unknown channel auto-creates it (DM with the target)', { timeout: 20000 }, async () => {
  const user = randomUUID();
  const agent = randomUUID();
  const cid = randomUUID();
  const s = await open({ entityId: user });
  await joined(s, cid);
  s.emit('message', {
    type: 2,
    payload: { senderId: user, senderName: 'u', message: 'first!', channelId: cid, messageServerId: ZERO_UUID, source: 'client_chat', metadata: { isDm: true, channelType: 'DM', targetUserId: agent } },
  });
  await waitFor(s, 'messageAck');
  const d = await rest('GET', `${M}/channels/${cid}/details`);
  assert.equal(d.status, 200);
  assert.equal(d.body.data.type, 'DM');
  assert.equal(d.body.data.metadata.created_by, 'socketio_auto_creation');
  assert.deepEqual((await rest('GET', `${M}/channels/${cid}/participants`)).body.data, [user, agent]);
});

test('seed events: join, message, request-world-state, leave', { timeout: 20000 }, async () => {
  const user = randomUUID();
  const agent = randomUUID();
  const ch = await newChannel([user, agent]);
  const seed = await open({ token: 'whatever' });
  const me = (await waitFor(seed, 'authenticated')).entityId;
  const watcher = await open({ entityId: user });
  await joined(seed, ch.id, 'seed');
  await joined(watcher, ch.id);

  seed.emit('message', { roomId: ch.id, text: 'seed hello' });
  const m = await waitFor(watcher, 'messageBroadcast', (d) => d.text === 'seed hello');
  assert.equal(m.senderId, me);
  assert.equal(m.channelId, ch.id);

  seed.emit('request-world-state', { roomId: ch.id });
  const ws = await waitFor(seed, 'world-state');
  assert.equal(ws.roomId, ch.id);
  assert.equal(ws.channelId, ch.id);
  assert.deepEqual(ws.participants, [user, agent]);
  assert.equal(ws.channel.id, ch.id);
  assert.deepEqual(ws.messages.map((x) => x.content), ['seed hello']);

  // an ack, when asked for, carries the same answer
  const acked = await seed.timeout(5000).emitWithAck('request-world-state', { channelId: ch.id });
  assert.deepEqual(acked, ws);

  seed.emit('leave', { roomId: ch.id });
  await waitFor(seed, 'room_left');
  await rest('POST', `${M}/channels/${ch.id}/messages`, { author_id: user, content: 'after leave', message_server_id: ZERO_UUID });
  await waitFor(watcher, 'messageBroadcast', (d) => d.text === 'after leave');
  await sleep(200);
  assert.ok(!seed.events.some((e) => e.event === 'messageBroadcast' && e.data.text === 'after leave'));
});
