// Messaging over REST, through @elizaos/api-client where it works against the real server and
// raw HTTP where the exact status/body matters: servers, channels, DMs, 250 messages paged both
// ways, deletes, bad input, and persistence across a restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { ElizaClient } from '@elizaos/api-client';
import { startServer, http, ZERO_UUID } from './lib/harness.mjs';

const M = '/api/messaging';
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
let srv;
let client;

before(async () => {
  srv = await startServer({ plugins: ['messaging'] });
  client = new ElizaClient({ baseUrl: srv.url, timeout: 10000 });
});

after(async () => {
  if (srv) await srv.stop();
});

const post = (path, body, headers) => http(srv.url + path, { method: 'POST', body, headers });
const get = (path) => http(srv.url + path);

async function newChannel(participants, extra = {}) {
  const r = await post(`${M}/channels`, {
    name: `chan-${randomUUID().slice(0, 8)}`,
    message_server_id: ZERO_UUID,
    participantCentralUserIds: participants,
    ...extra,
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.data;
}

function assertStyleB(r, status, message) {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.success, false);
  assert.equal(r.body.error, message);
}

test('default server exists from the first boot and lists in every shape', { timeout: 20000 }, async () => {
  const cur = await client.messaging.getCurrentMessageServer();
  assert.equal(cur.messageServerId, ZERO_UUID);
  const { messageServers } = await client.messaging.listMessageServers();
  const def = messageServers.find((s) => s.id === ZERO_UUID);
  assert.ok(def, 'default server listed');
  assert.equal(def.name, 'Default Server');
  assert.equal(def.sourceType, 'eliza_default');
  assert.match(def.createdAt, ISO);
  assert.match(def.updatedAt, ISO);
  const central = await get(`${M}/central-servers`);
  assert.equal(central.status, 200);
  assert.deepEqual(central.body.data.servers, messageServers);
  const debug = await get('/api/server/debug/servers');
  assert.equal(debug.status, 200);
  assert.equal(debug.body.success, true);
  assert.equal(debug.body.count, debug.body.servers.length);
  assert.ok(debug.body.servers.some((s) => s.id === ZERO_UUID));
});

test('create a message server and a channel on it', { timeout: 20000 }, async () => {
  const server = await client.messaging.createMessageServer({
    name: 'Test Server',
    sourceType: 'test',
    metadata: { purpose: 'e2e' },
  });
  // api-client returns `data`, which is {server} on the wire (COMPAT §7.1)
  const s = server.server;
  assert.match(s.id, /^[0-9a-f-]{36}$/);
  assert.equal(s.name, 'Test Server');
  assert.equal(s.sourceType, 'test');
  assert.deepEqual(s.metadata, { purpose: 'e2e' });
  assert.match(s.createdAt, ISO);
  const { messageServers } = await client.messaging.listMessageServers();
  assert.ok(messageServers.some((x) => x.id === s.id));

  const user = randomUUID();
  const agent = randomUUID();
  const r = await post(`${M}/channels`, {
    name: 'on-test-server',
    message_server_id: s.id,
    participantCentralUserIds: [user, agent],
    type: 'GROUP',
    metadata: { topic: 'x' },
  });
  assert.equal(r.status, 201);
  const ch = r.body.data;
  assert.equal(ch.messageServerId, s.id);
  assert.equal(ch.type, 'GROUP');
  assert.deepEqual(ch.metadata, { topic: 'x' });
  assert.match(ch.createdAt, ISO);
  const { channels } = await client.messaging.getMessageServerChannels(s.id);
  assert.deepEqual(channels.map((c) => c.id), [ch.id]);
  assert.deepEqual(await client.messaging.getChannelParticipants(ch.id), [user, agent]);
  const details = await client.messaging.getChannelDetails(ch.id);
  assert.deepEqual(details, ch);
});

test('createGroupChannel, participants, channel agents add/remove, update', { timeout: 20000 }, async () => {
  const user = randomUUID();
  const agent = randomUUID();
  const ch = await client.messaging.createGroupChannel({
    name: 'group',
    participantIds: [user, agent],
    metadata: { source: 'client_group_chat' },
  });
  assert.equal(ch.messageServerId, ZERO_UUID);
  assert.equal(ch.type, 'GROUP');
  assert.deepEqual(ch.metadata, { source: 'client_group_chat' });

  const other = randomUUID();
  const added = await post(`${M}/channels/${ch.id}/agents`, { agentId: other });
  assert.equal(added.status, 201);
  assert.deepEqual(added.body.data, {
    channelId: ch.id,
    agentId: other,
    message: 'Agent added to channel successfully',
  });
  const agents = await get(`${M}/channels/${ch.id}/agents`);
  assert.deepEqual(agents.body.data, { channelId: ch.id, participants: [user, agent, other] });
  await client.messaging.removeAgentFromChannel(ch.id, other);
  assert.deepEqual(await client.messaging.getChannelParticipants(ch.id), [user, agent]);
  const again = await http(`${srv.url}${M}/channels/${ch.id}/agents/${other}`, { method: 'DELETE' });
  assertStyleB(again, 404, 'Agent is not a participant in this channel');

  const upd = await client.messaging.updateChannel(ch.id, {
    name: 'renamed',
    participantCentralUserIds: [user],
    metadata: { replaced: true },
  });
  assert.equal(upd.name, 'renamed');
  assert.deepEqual(upd.metadata, { replaced: true });
  assert.deepEqual(await client.messaging.getChannelParticipants(ch.id), [user]);
  const d = await client.messaging.getChannelDetails(ch.id);
  assert.equal(d.name, 'renamed');
  assert.ok(Date.parse(d.updatedAt) >= Date.parse(d.createdAt));
});

test('DM find-or-create is idempotent on both paths; self-DM is refused', { timeout: 20000 }, async () => {
  const a = randomUUID();
  const b = randomUUID();
  const first = await client.messaging.getOrCreateDmChannel({ participantIds: [a, b] });
  const second = await client.messaging.getOrCreateDmChannel({ participantIds: [b, a] });
  assert.equal(first.id, second.id);
  const [lo, hi] = [a, b].sort();
  assert.equal(first.name, `DM-${lo}-${hi}`);
  assert.equal(first.type, 'DM');
  assert.deepEqual(first.metadata, { user1: lo, user2: hi });
  assert.deepEqual((await client.messaging.getChannelParticipants(first.id)).sort(), [lo, hi]);
  // the seed path: POST /dm/{agentId}/{userId}
  const seed = await post(`${M}/dm/${a}/${b}`);
  assert.equal(seed.status, 200);
  assert.equal(seed.body.data.id, first.id);
  const seed2 = await post(`${M}/dm/${b}/${a}`);
  assert.equal(seed2.body.data.id, first.id);
  // exactly one DM channel with that name on the server
  const { channels } = await client.messaging.getMessageServerChannels(ZERO_UUID);
  assert.equal(channels.filter((c) => c.name === first.name).length, 1);

  assertStyleB(await get(`${M}/dm-channel?currentUserId=${a}&targetUserId=${a}`), 400,
    'Cannot create DM channel with oneself');
  assertStyleB(await post(`${M}/dm/${a}/${a}`), 400, 'Cannot create DM channel with oneself');
  assertStyleB(await get(`${M}/dm-channel?currentUserId=${a}`), 400,
    'Missing targetUserId or currentUserId');
  assertStyleB(await get(`${M}/dm-channel?currentUserId=${a}&targetUserId=nope`), 400,
    'Missing targetUserId or currentUserId');
});

test('post 250 messages and page through them both ways, ms and ISO cursors', { timeout: 60000 }, async () => {
  const user = randomUUID();
  const agent = randomUUID();
  const ch = await newChannel([user, agent]);
  const sent = [];
  for (let i = 0; i < 250; i++) {
    const r = await post(`${M}/channels/${ch.id}/messages`, {
      author_id: user,
      content: `message ${i}`,
      message_server_id: ZERO_UUID,
      metadata: { user_display_name: 'tester' },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.success, true);
    const um = r.body.userMessage;
    assert.equal(um.channel_id, ch.id);
    assert.equal(um.author_id, user);
    assert.equal(um.content, `message ${i}`);
    assert.equal(um.message_server_id, ZERO_UUID);
    assert.equal(um.source_type, 'eliza_gui');
    assert.equal(typeof um.created_at, 'number');
    sent.push(um);
  }
  const order = sent.map((m) => m.id).reverse(); // newest first

  // first page: newest 50, exact item shape
  const first = await client.messaging.getChannelMessages(ch.id, { limit: 50 });
  assert.equal(first.messages.length, 50);
  const m0 = first.messages[0];
  assert.equal(m0.id, order[0]);
  assert.equal(m0.content, 'message 249');
  assert.equal(m0.channelId, ch.id);
  assert.equal(m0.authorId, user);
  assert.equal(m0.sourceType, 'eliza_gui');
  assert.equal(m0.inReplyToRootMessageId, null);
  assert.deepEqual(m0.metadata, { user_display_name: 'tester' });
  assert.match(m0.createdAt, ISO);
  assert.equal(Date.parse(m0.createdAt), m0.created_at);
  assert.equal(Date.parse(m0.updatedAt), m0.updated_at);

  for (const mode of ['ms', 'iso']) {
    const seen = [];
    let cursor;
    for (let page = 0; page < 10; page++) {
      const q = new URLSearchParams({ limit: '50' });
      if (cursor) q.set('before', mode === 'ms' ? String(cursor.created_at) : cursor.createdAt);
      const r = await get(`${M}/channels/${ch.id}/messages?${q}`);
      assert.equal(r.status, 200);
      const msgs = r.body.data.messages;
      if (msgs.length === 0) break;
      for (let i = 1; i < msgs.length; i++) assert.ok(msgs[i - 1].created_at > msgs[i].created_at);
      seen.push(...msgs.map((m) => m.id));
      cursor = msgs[msgs.length - 1];
    }
    assert.deepEqual(seen, order, `backward paging (${mode}) returns every message once, newest first`);
  }

  // api-client sends a Date cursor as Date.toString() (whole seconds)
  const cut = Math.floor(sent[100].created_at / 1000) * 1000;
  const viaDate = await client.messaging.getChannelMessages(ch.id, { limit: 300, before: new Date(cut) });
  assert.deepEqual(viaDate.messages.map((m) => m.id),
    sent.filter((m) => m.created_at < cut).map((m) => m.id).reverse());

  // forward: `after` returns the oldest page newer than the cursor (still newest first)
  for (const mode of ['ms', 'iso']) {
    const seen = [];
    let cursor = { created_at: 1, createdAt: new Date(1).toISOString() };
    for (let page = 0; page < 10; page++) {
      const a = mode === 'ms' ? String(cursor.created_at) : cursor.createdAt;
      const r = await get(`${M}/channels/${ch.id}/messages?limit=50&after=${encodeURIComponent(a)}`);
      assert.equal(r.status, 200);
      const msgs = r.body.data.messages;
      if (msgs.length === 0) break;
      seen.push(...msgs.map((m) => m.id).reverse());
      cursor = msgs[0];
    }
    assert.deepEqual(seen, [...order].reverse(), `forward paging (${mode})`);
  }

  // a window with both cursors
  const win = await get(`${M}/channels/${ch.id}/messages?after=${sent[9].created_at}&before=${sent[20].created_at}`);
  assert.deepEqual(win.body.data.messages.map((m) => m.content),
    Array.from({ length: 10 }, (_, i) => `message ${19 - i}`));
  // default limit 50; unparseable cursor is ignored like the official server's NaN
  const def = await get(`${M}/channels/${ch.id}/messages?before=garbage`);
  assert.equal(def.body.data.messages.length, 50);
  assert.equal(def.body.data.messages[0].id, order[0]);
});

test('delete one message, clear, delete channel (204s, storage really changes)', { timeout: 20000 }, async () => {
  const user = randomUUID();
  const agent = randomUUID();
  const ch = await newChannel([user, agent]);
  const ids = [];
  for (let i = 0; i < 5; i++) {
    const r = await post(`${M}/channels/${ch.id}/messages`, { author_id: user, content: `m${i}`, message_server_id: ZERO_UUID });
    ids.push(r.body.userMessage.id);
  }
  const del = await http(`${srv.url}${M}/channels/${ch.id}/messages/${ids[2]}`, { method: 'DELETE' });
  assert.equal(del.status, 204);
  let list = await client.messaging.getChannelMessages(ch.id);
  assert.deepEqual(list.messages.map((m) => m.content), ['m4', 'm3', 'm1', 'm0']);
  // deleting an absent message is still 204
  const again = await http(`${srv.url}${M}/channels/${ch.id}/messages/${ids[2]}`, { method: 'DELETE' });
  assert.equal(again.status, 204);
  assert.deepEqual(await client.messaging.clearChannelHistory(ch.id), { success: true });
  list = await client.messaging.getChannelMessages(ch.id);
  assert.equal(list.messages.length, 0);
  assert.ok(await client.messaging.getChannelDetails(ch.id));

  await post(`${M}/channels/${ch.id}/messages`, { author_id: user, content: 'after clear', message_server_id: ZERO_UUID });
  assert.deepEqual(await client.messaging.deleteChannel(ch.id), { success: true });
  assertStyleB(await get(`${M}/channels/${ch.id}/details`), 404, 'Channel not found');
  assert.deepEqual((await get(`${M}/channels/${ch.id}/participants`)).body.data, []);
  assert.deepEqual((await get(`${M}/channels/${ch.id}/messages`)).body.data.messages, []);
  const twice = await http(`${srv.url}${M}/channels/${ch.id}`, { method: 'DELETE' });
  assert.equal(twice.status, 204);
});

test('posting to an unknown channel auto-creates it (DM and group)', { timeout: 20000 }, async () => {
  const user = randomUUID();
  const agent = randomUUID();
  const cid = randomUUID();
  const r = await post(`${M}/channels/${cid}/messages`, {
    author_id: user,
    content: 'hi',
    message_server_id: ZERO_UUID,
    metadata: { isDm: true, targetUserId: agent },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const ch = await client.messaging.getChannelDetails(cid);
  assert.equal(ch.type, 'DM');
  assert.equal(ch.name, `DM ${cid.slice(0, 8)}`);
  assert.equal(ch.sourceType, 'auto_created');
  assert.equal(ch.metadata.created_by, 'gui_auto_creation');
  assert.equal(ch.metadata.created_for_user, user);
  assert.deepEqual(await client.messaging.getChannelParticipants(cid), [user, agent]);
  // a group channel without another participant: stored, but no agent to answer (as 1.7.2)
  const g = randomUUID();
  const r2 = await post(`${M}/channels/${g}/messages`, { author_id: user, content: 'x', message_server_id: ZERO_UUID });
  assertStyleB(r2, 400, 'No agent found in channel participants');
  const gch = await client.messaging.getChannelDetails(g);
  assert.equal(gch.name, `Chat ${g.slice(0, 8)}`);
  assert.equal(gch.type, 'GROUP');
  // ...unless metadata.targetAgentId names one
  const r3 = await post(`${M}/channels/${g}/messages`, { author_id: user, content: 'y', message_server_id: ZERO_UUID, metadata: { targetAgentId: agent } });
  assert.equal(r3.status, 201);
  // unknown server: nothing created
  const c4 = randomUUID();
  const r4 = await post(`${M}/channels/${c4}/messages`, { author_id: user, content: 'z', message_server_id: randomUUID() });
  assert.equal(r4.status, 404);
  assert.equal(r4.body.success, false);
  assertStyleB(await get(`${M}/channels/${c4}/details`), 404, 'Channel not found');
});

test('submit, action, PATCH action, ingest-external and complete', { timeout: 20000 }, async () => {
  const user = randomUUID();
  const agent = randomUUID();
  const ch = await newChannel([user, agent]);
  const mid = randomUUID();
  const sub = await post(`${M}/submit`, {
    messageId: mid,
    channel_id: ch.id,
    message_server_id: ZERO_UUID,
    author_id: agent,
    content: 'agent says hi',
    source_type: 'agent_response',
    raw_message: { text: 'agent says hi', thought: 'greet', actions: ['REPLY'] },
    metadata: { agentName: 'Bot' },
  });
  assert.equal(sub.status, 201, JSON.stringify(sub.body));
  assert.equal(sub.body.data.id, mid);
  assert.equal(sub.body.data.authorId, agent);
  assert.match(sub.body.data.createdAt, ISO);
  // api-client's camelCase submitMessage is accepted too
  const viaClient = await client.messaging.submitMessage({ agentId: agent, channelId: ch.id, content: 'camel', inReplyToMessageId: mid });
  assert.equal(viaClient.content, 'camel');
  assert.equal(viaClient.inReplyToRootMessageId, mid);
  assert.equal(viaClient.sourceType, 'agent_response');

  const act = await post(`${M}/action`, {
    channel_id: ch.id, message_server_id: ZERO_UUID, author_id: agent, content: 'working',
    source_type: 'agent_action', raw_message: { actions: ['SEARCH'] },
  });
  assert.equal(act.status, 201);
  const aid = act.body.data.id;
  const patched = await http(`${srv.url}${M}/action/${aid}`, { method: 'PATCH', body: { content: 'done', raw_message: { actions: ['SEARCH'], thought: 'found' } } });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  assert.equal(patched.body.data.content, 'done');
  assert.equal(patched.body.data.sourceType, 'agent_action');
  assertStyleB(await http(`${srv.url}${M}/action/${randomUUID()}`, { method: 'PATCH', body: { content: 'x' } }), 404, 'Message not found');
  assertStyleB(await http(`${srv.url}${M}/action/nope`, { method: 'PATCH', body: { content: 'x' } }), 400, 'Invalid message id');

  const list = await client.messaging.getChannelMessages(ch.id);
  const byId = Object.fromEntries(list.messages.map((m) => [m.id, m]));
  assert.equal(byId[mid].metadata.thought, 'greet');
  assert.deepEqual(byId[mid].metadata.actions, ['REPLY']);
  assert.equal(byId[mid].metadata.agentName, 'Bot');
  assert.equal(byId[aid].content, 'done');
  assert.equal(byId[aid].metadata.thought, 'found');

  const ing = await post(`${M}/ingest-external`, {
    channel_id: ch.id, message_server_id: ZERO_UUID, author_id: user, content: 'from discord',
    author_display_name: 'Ext', source_type: 'discord', source_id: 'd-1',
  });
  assert.equal(ing.status, 202);
  assert.equal(ing.body.success, true);
  assert.equal(ing.body.message, 'Message ingested and published to bus');
  assert.match(ing.body.data.messageId, /^[0-9a-f-]{36}$/);
  const batch = await client.messaging.ingestExternalMessages({
    platform: 'slack',
    channelId: ch.id,
    messages: [
      { id: 's1', authorId: user, content: 'one', timestamp: Date.now() },
      { id: 's2', authorId: user, content: 'two', timestamp: Date.now() },
    ],
  });
  assert.equal(batch.processed, 2);
  assert.equal(batch.messageIds.length, 2);
  const after = await client.messaging.getChannelMessages(ch.id, { limit: 3 });
  assert.deepEqual(after.messages.map((m) => m.content), ['two', 'one', 'from discord']);
  assert.equal(after.messages[0].sourceType, 'slack');
  assert.equal(after.messages[0].sourceId, 's2');
  // one bad message in a batch stores none of them
  const bad = await post(`${M}/ingest-external`, { platform: 'slack', channelId: ch.id, messages: [{ authorId: user, content: 'ok' }, { authorId: 'x', content: 'bad' }] });
  assertStyleB(bad, 400, 'Invalid external message payload');
  assert.equal((await client.messaging.getChannelMessages(ch.id, { limit: 1 })).messages[0].content, 'two');

  const done = await post(`${M}/complete`, { channel_id: ch.id, message_server_id: ZERO_UUID });
  assert.equal(done.status, 200);
  assert.deepEqual(done.body, { success: true });
});

test('message-server agents: add, list, per-agent servers, remove, other server forbidden', { timeout: 20000 }, async () => {
  const agent = randomUUID();
  await client.agents.addAgentToMessageServer(ZERO_UUID, agent);
  const listed = await client.agents.getAgentsForMessageServer(ZERO_UUID);
  assert.equal(listed.messageServerId, ZERO_UUID);
  assert.ok(listed.agents.includes(agent));
  const mine = await client.agents.getMessageServersForAgent(agent);
  assert.deepEqual(mine, { agentId: agent, messageServers: [ZERO_UUID] });
  // seed path: agentId in the path
  const other = randomUUID();
  const seedAdd = await post(`${M}/servers/${ZERO_UUID}/agents/${other}`);
  assert.equal(seedAdd.status, 201);
  assert.equal(seedAdd.body.data.message, 'Agent added to message server successfully');
  const seedList = await get(`${M}/servers/${ZERO_UUID}/agents`);
  assert.ok(seedList.body.data.agents.includes(other));
  const rm = await http(`${srv.url}${M}/message-servers/${ZERO_UUID}/agents/${agent}`, { method: 'DELETE' });
  assert.equal(rm.status, 200);
  assert.equal(rm.body.data.message, 'Agent removed from message server successfully');
  assert.deepEqual((await client.agents.getMessageServersForAgent(agent)).messageServers, []);
  assertStyleB(await get(`${M}/message-servers/${randomUUID()}/agents`), 403, 'Cannot access agents for a different server');
  assertStyleB(await post(`${M}/message-servers/${randomUUID()}/agents`, { agentId: agent }), 403, 'Cannot modify agents for a different server');
  assertStyleB(await post(`${M}/message-servers/${ZERO_UUID}/agents`, { agentId: 'x' }), 400, 'Invalid messageServerId or agentId format');
  assertStyleB(await get(`${M}/agents/nope/message-servers`), 400, 'Invalid agentId format');
});

test('generate-title: null under 4 messages, a short title after', { timeout: 20000 }, async () => {
  const user = randomUUID();
  const agent = randomUUID();
  const ch = await newChannel([user, agent]);
  let r = await post(`${M}/channels/${ch.id}/generate-title`, { agentId: agent });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.data, { title: null, channelId: ch.id, reason: 'Not enough messages to generate a title' });
  for (const t of ['Planning the garden layout', 'Which garden vegetables grow best?', 'Tomatoes love the garden sun', 'Plant tomatoes near basil']) {
    await post(`${M}/channels/${ch.id}/messages`, { author_id: user, content: t, message_server_id: ZERO_UUID });
  }
  r = await post(`${M}/channels/${ch.id}/generate-title`, { agentId: agent });
  assert.equal(r.status, 200);
  const words = r.body.data.title.split(' ');
  assert.ok(words.length >= 3 && words.length <= 6, r.body.data.title);
  assert.ok(r.body.data.title.includes('Garden'), r.body.data.title);
  assertStyleB(await post(`${M}/channels/nope/generate-title`, { agentId: agent }), 400, 'Invalid channel ID format');
  assertStyleB(await post(`${M}/channels/${ch.id}/generate-title`, {}), 400, 'Valid agent ID is required');
});

test('bad ids and bodies get the real status and error string', { timeout: 20000 }, async () => {
  const user = randomUUID();
  const agent = randomUUID();
  const ch = await newChannel([user, agent]);
  assertStyleB(await get(`${M}/channels/not-a-uuid/details`), 400, 'Invalid channelId');
  assertStyleB(await get(`${M}/channels/${randomUUID()}/details`), 404, 'Channel not found');
  assertStyleB(await get(`${M}/channels/zzz/messages`), 400, 'Invalid channelId');
  assertStyleB(await get(`${M}/message-servers/zzz/channels`), 400, 'Invalid messageServerId');
  assertStyleB(await post(`${M}/message-servers`, { name: 'x' }), 400, 'Missing required fields: name, sourceType');
  assertStyleB(await post(`${M}/message-servers`, { name: 5, sourceType: 'x' }), 400, 'Missing required fields: name, sourceType');
  const payloadErr = 'Invalid payload. Required: name, message_server_id (UUID), participantCentralUserIds (array of UUIDs). Optional: type, metadata.';
  assertStyleB(await post(`${M}/channels`, { message_server_id: ZERO_UUID, participantCentralUserIds: [] }), 400, payloadErr);
  assertStyleB(await post(`${M}/channels`, { name: 'n', message_server_id: ZERO_UUID, participantCentralUserIds: ['x'] }), 400, payloadErr);
  assertStyleB(await post(`${M}/channels`, { name: 'n', message_server_id: ZERO_UUID, participantCentralUserIds: 'x' }), 400, payloadErr);
  assertStyleB(await post(`${M}/channels`, { name: 'n', message_server_id: ZERO_UUID, participantCentralUserIds: [], metadata: [] }), 400, payloadErr);
  assertStyleB(await post(`${M}/channels`, { name: 'n', message_server_id: 'bad', participantCentralUserIds: [] }), 400, 'Invalid message_server_id format');
  const unknownServer = await post(`${M}/channels`, { name: 'n', message_server_id: randomUUID(), participantCentralUserIds: [] });
  assert.equal(unknownServer.status, 404);

  const fields = 'Missing required fields: channelId, message_server_id, author_id, content';
  const url = `${M}/channels/${ch.id}/messages`;
  assertStyleB(await post(url, { content: 'x', message_server_id: ZERO_UUID, author_id: 'bad' }), 400, fields);
  assertStyleB(await post(url, { author_id: user, message_server_id: ZERO_UUID }), 400, fields);
  assertStyleB(await post(url, { author_id: user, content: 42, message_server_id: ZERO_UUID }), 400, fields);
  assertStyleB(await post(url, { author_id: user, content: 'x' }), 400, fields);
  assertStyleB(await post(`${M}/channels/bad/messages`, { author_id: user, content: 'x', message_server_id: ZERO_UUID }), 400, fields);
  assertStyleB(await post(url, { author_id: user, content: 'x', message_server_id: ZERO_UUID, transport: 'carrier-pigeon' }), 400,
    'Invalid transport "carrier-pigeon". Must be one of: http, sse, websocket, sync, stream');
  assertStyleB(await post(url, { author_id: user, content: 'x', message_server_id: ZERO_UUID, in_reply_to_message_id: 'nope' }), 400,
    'Invalid in_reply_to_message_id format');
  const tooLong = await post(url, { author_id: user, content: 'a'.repeat(100001), message_server_id: ZERO_UUID });
  assert.equal(tooLong.status, 400);
  assert.equal(tooLong.body.success, false);
  const justRight = await post(url, { author_id: user, content: 'é'.repeat(100000), message_server_id: ZERO_UUID });
  assert.equal(justRight.status, 201);
  // nothing half-written: the refused posts left only the accepted one
  const stored = await client.messaging.getChannelMessages(ch.id);
  assert.equal(stored.messages.length, 1);

  const submitErr = 'Missing required fields: channel_id, message_server_id, author_id, content, source_type, raw_message';
  assertStyleB(await post(`${M}/submit`, { channel_id: ch.id, message_server_id: ZERO_UUID, author_id: agent, content: 'x', source_type: 'agent_response' }), 400, submitErr);
  assertStyleB(await post(`${M}/submit`, {}), 400, submitErr);
  assertStyleB(await post(`${M}/submit`, { channel_id: ch.id, message_server_id: ZERO_UUID, author_id: agent, content: 'x', source_type: 's', raw_message: {}, messageId: 'x' }), 400, 'Invalid messageId format');
  assertStyleB(await post(`${M}/submit`, { channel_id: ch.id, message_server_id: ZERO_UUID, author_id: agent, content: 'x', source_type: 's', raw_message: {}, in_reply_to_message_id: 'x' }), 400, 'Invalid in_reply_to_message_id format');
  assertStyleB(await post(`${M}/ingest-external`, { channel_id: ch.id, content: 'x' }), 400, 'Invalid external message payload');
  assertStyleB(await post(`${M}/channels/${ch.id}/agents`, { agentId: 'x' }), 400, 'Invalid channelId or agentId format');
  assertStyleB(await post(`${M}/channels/${randomUUID()}/agents`, { agentId: agent }), 404, 'Channel not found');
  assertStyleB(await http(`${srv.url}${M}/channels/${randomUUID()}`, { method: 'PATCH', body: { name: 'x' } }), 404, 'Channel not found');
  assertStyleB(await http(`${srv.url}${M}/channels/${ch.id}`, { method: 'PATCH', body: { participantCentralUserIds: ['x'] } }), 400,
    'Invalid participantCentralUserIds: must be an array of UUIDs');
  assertStyleB(await http(`${srv.url}${M}/channels/bad`, { method: 'DELETE' }), 400, 'Invalid channelId');
  assertStyleB(await http(`${srv.url}${M}/channels/${ch.id}/messages/bad`, { method: 'DELETE' }), 400, 'Invalid channelId or messageId format');
  // the channel survived every refused update
  assert.equal((await client.messaging.getChannelDetails(ch.id)).name, ch.name);
  assert.equal((await client.messaging.getChannelParticipants(ch.id)).length, 2);
});

test('http and sse transports without an agent runtime fail cleanly', { timeout: 20000 }, async () => {
  const user = randomUUID();
  const agent = randomUUID();
  const ch = await newChannel([user, agent]);
  const r = await post(`${M}/channels/${ch.id}/messages`, { author_id: user, content: 'sync?', message_server_id: ZERO_UUID, transport: 'http' });
  assertStyleB(r, 500, 'Failed to process message in HTTP transport');
  const res = await fetch(`${srv.url}${M}/channels/${ch.id}/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ author_id: user, content: 'stream?', message_server_id: ZERO_UUID, mode: 'stream' }),
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /text\/event-stream/);
  const text = await res.text();
  assert.match(text, /event: user_message\ndata: \{.*"content":"stream\?".*\}\n\n/);
  assert.match(text, /event: error\ndata: \{"error":/);
  // both user messages were stored all the same
  const list = await client.messaging.getChannelMessages(ch.id);
  assert.deepEqual(list.messages.map((m) => m.content), ['stream?', 'sync?']);
});

test('messages survive a restart', { timeout: 40000 }, async () => {
  const first = await startServer({ plugins: ['messaging'] });
  const dataDir = first.dataDir;
  let second;
  try {
    const c1 = new ElizaClient({ baseUrl: first.url, timeout: 10000 });
    const user = randomUUID();
    const agent = randomUUID();
    const ch = await c1.messaging.createGroupChannel({ name: 'persist', participantIds: [user, agent] });
    for (let i = 0; i < 3; i++) {
      const r = await http(`${first.url}${M}/channels/${ch.id}/messages`, {
        method: 'POST', body: { author_id: user, content: `keep ${i}`, message_server_id: ZERO_UUID },
      });
      assert.equal(r.status, 201);
    }
    const before = await c1.messaging.getChannelMessages(ch.id);
    const stop = await first.stop({ keepData: true });
    assert.equal(stop.code, 0, first.log());

    second = await startServer({ plugins: ['messaging'], dataDir });
    const c2 = new ElizaClient({ baseUrl: second.url, timeout: 10000 });
    const afterRestart = await c2.messaging.getChannelMessages(ch.id);
    assert.deepEqual(afterRestart, before);
    assert.deepEqual(await c2.messaging.getChannelDetails(ch.id), ch);
    assert.deepEqual(await c2.messaging.getChannelParticipants(ch.id), [user, agent]);
    const { messageServers } = await c2.messaging.listMessageServers();
    assert.equal(messageServers.filter((s) => s.id === ZERO_UUID).length, 1);
    // new messages still sort after the old ones
    const r = await http(`${second.url}${M}/channels/${ch.id}/messages`, {
      method: 'POST', body: { author_id: user, content: 'after restart', message_server_id: ZERO_UUID },
    });
    assert.equal(r.status, 201);
    const latest = await c2.messaging.getChannelMessages(ch.id, { limit: 1 });
    assert.equal(latest.messages[0].content, 'after restart');
  } finally {
    if (second) await second.stop();
    if (first.child.exitCode === null) await first.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
