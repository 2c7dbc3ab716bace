// Every seed-path alias of the messaging API (COMPAT §2) answers like its real path, and the
// deprecated /central-* spellings still work.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startServer, http, ZERO_UUID } from './lib/harness.mjs';

const M = '/api/messaging';
let srv;

before(async () => {
  srv = await startServer({ plugins: ['messaging'] });
});

after(async () => {
  if (srv) await srv.stop();
});

const req = (method, path, body) => http(srv.url + path, { method, body });

// Drops fields that legitimately differ between two creations (ids, clocks).
function shape(o) {
  if (Array.isArray(o)) return o.map(shape);
  if (o && typeof o === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(o)) {
      if (['id', 'createdAt', 'updatedAt', 'messageId', 'created_at', 'updated_at'].includes(k)) out[k] = typeof v;
      else out[k] = shape(v);
    }
    return out;
  }
  return o;
}

test('server list aliases: servers/central, central-servers, message-servers', { timeout: 20000 }, async () => {
  const real = await req('GET', `${M}/message-servers`);
  const central = await req('GET', `${M}/central-servers`);
  const seed = await req('GET', `${M}/servers/central`);
  for (const r of [real, central, seed]) assert.equal(r.status, 200);
  assert.deepEqual(central.body.data.servers, real.body.data.messageServers);
  assert.deepEqual(seed.body.data.servers, real.body.data.messageServers);
  assert.deepEqual(seed.body.data.messageServers, real.body.data.messageServers);
  assert.ok(seed.body.data.servers.some((s) => s.id === ZERO_UUID));
});

test('POST servers == POST message-servers', { timeout: 20000 }, async () => {
  const body = { name: 'alias', sourceType: 'seed', sourceId: 'x1', metadata: { a: 1 } };
  const real = await req('POST', `${M}/message-servers`, body);
  const seed = await req('POST', `${M}/servers`, body);
  assert.equal(real.status, 201);
  assert.equal(seed.status, 201);
  assert.deepEqual(shape(seed.body), shape(real.body));
  assert.notEqual(seed.body.data.server.id, real.body.data.server.id);
  const bad = { name: 'only' };
  const e1 = await req('POST', `${M}/servers`, bad);
  const e2 = await req('POST', `${M}/message-servers`, bad);
  assert.equal(e1.status, 400);
  assert.equal(e1.status, e2.status);
  assert.deepEqual(e1.body, e2.body);
});

test('server channels and agents under /servers, /central-servers and /message-servers', { timeout: 20000 }, async () => {
  const s = (await req('POST', `${M}/message-servers`, { name: 'with-channels', sourceType: 't' })).body.data.server;
  const c = await req('POST', `${M}/channels`, { name: 'c1', message_server_id: s.id, participantCentralUserIds: [] });
  assert.equal(c.status, 201);
  const real = await req('GET', `${M}/message-servers/${s.id}/channels`);
  const dep = await req('GET', `${M}/central-servers/${s.id}/channels`);
  const seed = await req('GET', `${M}/servers/${s.id}/channels`);
  assert.equal(real.body.data.channels.length, 1);
  assert.deepEqual(dep.body, real.body);
  assert.deepEqual(seed.body, real.body);
  const bad1 = await req('GET', `${M}/servers/nope/channels`);
  const bad2 = await req('GET', `${M}/message-servers/nope/channels`);
  assert.equal(bad1.status, 400);
  assert.deepEqual(bad1.body, bad2.body);

  const a1 = randomUUID();
  const a2 = randomUUID();
  const viaBody = await req('POST', `${M}/message-servers/${ZERO_UUID}/agents`, { agentId: a1 });
  const viaPath = await req('POST', `${M}/servers/${ZERO_UUID}/agents/${a2}`);
  const viaSeedBody = await req('POST', `${M}/servers/${ZERO_UUID}/agents`, { agentId: a2 });
  for (const r of [viaBody, viaPath, viaSeedBody]) assert.equal(r.status, 201);
  assert.deepEqual(shape({ ...viaPath.body.data, agentId: 'x' }), shape({ ...viaBody.body.data, agentId: 'x' }));
  const listReal = await req('GET', `${M}/message-servers/${ZERO_UUID}/agents`);
  const listSeed = await req('GET', `${M}/servers/${ZERO_UUID}/agents`);
  assert.deepEqual(listSeed.body, listReal.body);
  assert.ok(listReal.body.data.agents.includes(a1) && listReal.body.data.agents.includes(a2));
  const d1 = await req('DELETE', `${M}/servers/${ZERO_UUID}/agents/${a1}`);
  const d2 = await req('DELETE', `${M}/message-servers/${ZERO_UUID}/agents/${a2}`);
  assert.equal(d1.status, 200);
  assert.deepEqual(shape({ ...d1.body.data, agentId: 'x' }), shape({ ...d2.body.data, agentId: 'x' }));
  const after = await req('GET', `${M}/servers/${ZERO_UUID}/agents`);
  assert.ok(!after.body.data.agents.includes(a1) && !after.body.data.agents.includes(a2));
  const f1 = await req('GET', `${M}/servers/${s.id}/agents`);
  const f2 = await req('GET', `${M}/message-servers/${s.id}/agents`);
  assert.equal(f1.status, 403);
  assert.deepEqual(f1.body, f2.body);
});

test('channel create aliases: channels, central-channels, channels/central', { timeout: 20000 }, async () => {
  const user = randomUUID();
  const body = { name: 'same', message_server_id: ZERO_UUID, participantCentralUserIds: [user], metadata: { k: 'v' } };
  const real = await req('POST', `${M}/channels`, body);
  const dep = await req('POST', `${M}/central-channels`, body);
  const seed = await req('POST', `${M}/channels/central`, body);
  for (const r of [real, dep, seed]) assert.equal(r.status, 201);
  assert.deepEqual(shape(dep.body), shape(real.body));
  assert.deepEqual(shape(seed.body), shape(real.body));
  const e1 = await req('POST', `${M}/channels/central`, { name: 'x' });
  const e2 = await req('POST', `${M}/channels`, { name: 'x' });
  assert.equal(e1.status, 400);
  assert.deepEqual(e1.body, e2.body);
});

test('channel info == details == central-channels details; participants, agents, messages, patch, delete aliases', { timeout: 20000 }, async () => {
  const user = randomUUID();
  const agent = randomUUID();
  const ch = (await req('POST', `${M}/channels`, { name: 'alias-ch', message_server_id: ZERO_UUID, participantCentralUserIds: [user, agent] })).body.data;
  const details = await req('GET', `${M}/channels/${ch.id}/details`);
  const info = await req('GET', `${M}/channels/${ch.id}/info`);
  const dep = await req('GET', `${M}/central-channels/${ch.id}/details`);
  assert.equal(info.status, 200);
  assert.deepEqual(info.body, details.body);
  assert.deepEqual(dep.body, details.body);
  for (const id of ['bad', randomUUID()]) {
    const a = await req('GET', `${M}/channels/${id}/info`);
    const b = await req('GET', `${M}/channels/${id}/details`);
    assert.equal(a.status, b.status);
    assert.deepEqual(a.body, b.body);
  }
  assert.deepEqual((await req('GET', `${M}/central-channels/${ch.id}/participants`)).body,
    (await req('GET', `${M}/channels/${ch.id}/participants`)).body);
  assert.deepEqual((await req('GET', `${M}/central-channels/${ch.id}/agents`)).body,
    (await req('GET', `${M}/channels/${ch.id}/agents`)).body);

  const posted = await req('POST', `${M}/central-channels/${ch.id}/messages`, { author_id: user, content: 'via central', message_server_id: ZERO_UUID });
  assert.equal(posted.status, 201);
  const l1 = await req('GET', `${M}/central-channels/${ch.id}/messages`);
  const l2 = await req('GET', `${M}/channels/${ch.id}/messages`);
  assert.deepEqual(l1.body, l2.body);
  assert.equal(l1.body.data.messages[0].content, 'via central');
  const delMsg = await req('DELETE', `${M}/central-channels/${ch.id}/messages/${posted.body.userMessage.id}`);
  assert.equal(delMsg.status, 204);
  assert.equal((await req('GET', `${M}/channels/${ch.id}/messages`)).body.data.messages.length, 0);

  const patched = await req('PATCH', `${M}/central-channels/${ch.id}`, { name: 'patched' });
  assert.equal(patched.status, 200);
  assert.equal(patched.body.data.name, 'patched');
  const del = await req('DELETE', `${M}/central-channels/${ch.id}`);
  assert.equal(del.status, 204);
  assert.equal((await req('GET', `${M}/channels/${ch.id}/details`)).status, 404);
});

test('POST dm/{agentId}/{userId} == GET dm-channel', { timeout: 20000 }, async () => {
  const agent = randomUUID();
  const user = randomUUID();
  const seed = await req('POST', `${M}/dm/${agent}/${user}`);
  const real = await req('GET', `${M}/dm-channel?currentUserId=${user}&targetUserId=${agent}&dmServerId=${ZERO_UUID}`);
  assert.equal(seed.status, 200);
  assert.deepEqual(seed.body, real.body);
  const e1 = await req('POST', `${M}/dm/${user}/${user}`);
  const e2 = await req('GET', `${M}/dm-channel?currentUserId=${user}&targetUserId=${user}`);
  assert.equal(e1.status, 400);
  assert.deepEqual(e1.body, e2.body);
  const e3 = await req('POST', `${M}/dm/bad/${user}`);
  const e4 = await req('GET', `${M}/dm-channel?currentUserId=${user}&targetUserId=bad`);
  assert.equal(e3.status, 400);
  assert.deepEqual(e3.body, e4.body);
});

test('ingest and external == ingest-external', { timeout: 20000 }, async () => {
  const user = randomUUID();
  const ch = (await req('POST', `${M}/channels`, { name: 'ing', message_server_id: ZERO_UUID, participantCentralUserIds: [user] })).body.data;
  const body = (n) => ({ channel_id: ch.id, message_server_id: ZERO_UUID, author_id: user, content: `ext ${n}` });
  const real = await req('POST', `${M}/ingest-external`, body(1));
  const seed1 = await req('POST', `${M}/ingest`, body(2));
  const seed2 = await req('POST', `${M}/external`, body(3));
  for (const r of [real, seed1, seed2]) assert.equal(r.status, 202);
  assert.deepEqual(shape(seed1.body), shape(real.body));
  assert.deepEqual(shape(seed2.body), shape(real.body));
  const msgs = (await req('GET', `${M}/channels/${ch.id}/messages`)).body.data.messages;
  assert.deepEqual(msgs.map((m) => m.content), ['ext 3', 'ext 2', 'ext 1']);
  const e1 = await req('POST', `${M}/ingest`, { content: 'x' });
  const e2 = await req('POST', `${M}/ingest-external`, { content: 'x' });
  assert.equal(e1.status, 400);
  assert.deepEqual(e1.body, e2.body);
});

test('GET /api/debug == GET /api/server/debug/servers', { timeout: 20000 }, async () => {
  const real = await req('GET', '/api/server/debug/servers');
  const seed = await req('GET', '/api/debug');
  assert.equal(seed.status, 200);
  assert.deepEqual(seed.body, real.body);
  assert.equal(real.body.success, true);
  assert.equal(real.body.count, real.body.servers.length);
});
