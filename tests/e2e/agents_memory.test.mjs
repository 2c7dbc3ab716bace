// Agents plugin, part 2: worlds, rooms (both path families and the seed's /api/rooms), memories
// (filters, room memories, update, deletes), groups, runs, logs and panels, through
// @elizaos/api-client and plain fetch (COMPAT §3.6–3.10, §4, §5). What only the agent runtime
// writes in production (memories, runs, logs, panels) is seeded with the test-only routes,
// which call the same "agents.v1" functions the runtime uses.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { ElizaClient } from '@elizaos/api-client';
import { startServer, http } from './lib/harness.mjs';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

function stringToUuid(s) {
  if (UUID_RE.test(s)) return s;
  const b = Buffer.from(createHash('sha1').update(encodeURIComponent(s)).digest().subarray(0, 16));
  b[8] = (b[8] & 0x3f) | 0x80;
  b[6] = b[6] & 0x0f;
  const x = b.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
const createUniqueUuid = (agentId, base) => (base === agentId ? base : stringToUuid(`${base}:${agentId}`));

async function rejects(promise, { status, code, message }) {
  try {
    await promise;
  } catch (e) {
    assert.equal(e.name, 'ApiError', String(e));
    if (status !== undefined) assert.equal(e.status, status, `${e.code} ${e.message}`);
    if (code !== undefined) assert.equal(e.code, code);
    if (message !== undefined) assert.equal(e.message, message);
    return e;
  }
  assert.fail('expected the call to fail');
}

let srv, client, agentId, url;
const post = (path, body) => http(`${url}${path}`, { method: 'POST', body });

async function seedMemories(memories) {
  const r = await post(`/api/agents/${agentId}/test/memories`, { memories });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.data.ids;
}

before(async () => {
  srv = await startServer({ plugins: ['agents'], sections: 'agents: { test_routes = true; };\n' });
  url = srv.url;
  client = new ElizaClient({ baseUrl: url });
  agentId = (await client.agents.createAgent({ characterJson: { name: 'Memo', bio: ['remembers'] } })).id;
  await client.agents.startAgent(agentId);
});

after(async () => {
  await srv?.stop();
});

test('test routes are off unless configured', async () => {
  const plain = await startServer({ plugins: ['agents'] });
  try {
    const c = new ElizaClient({ baseUrl: plain.url });
    const { id } = await c.agents.createAgent({ characterJson: { name: 'Plain', bio: 'b' } });
    const r = await http(`${plain.url}/api/agents/${id}/test/memories`, { method: 'POST', body: {} });
    assert.equal(r.status, 404);
  } finally {
    await plain.stop();
  }
});

test('worlds: create, list (seed path), update, validation', async () => {
  const created = await post(`/api/agents/${agentId}/worlds`, {
    name: 'Earth',
    messageServerId: '00000000-0000-0000-0000-000000000000',
    metadata: { climate: 'mild' },
  });
  assert.equal(created.status, 201);
  const world = created.body.data.world;
  assert.match(world.id, UUID_RE);
  assert.equal(world.agentId, agentId);
  assert.equal(world.name, 'Earth');
  assert.deepEqual(world.metadata, { climate: 'mild' });
  assert.equal(world.messageServerId, '00000000-0000-0000-0000-000000000000');
  assert.match(world.createdAt, ISO_RE);
  const second = (await post(`/api/agents/${agentId}/worlds`, { name: 'Mars' })).body.data.world;
  assert.notEqual(second.id, world.id, 'ids derived from the time stay unique');
  assert.equal(second.metadata, null);
  assert.equal(second.messageServerId, null);

  const list = await http(`${url}/api/agents/${agentId}/worlds`);
  assert.equal(list.status, 200);
  assert.deepEqual(list.body.data.worlds.map((w) => w.name), ['Earth', 'Mars']);

  const upd = await http(`${url}/api/agents/${agentId}/worlds/${world.id}`, {
    method: 'PATCH',
    body: { name: 'Terra', metadata: { moons: 1 } },
  });
  assert.equal(upd.status, 200);
  assert.equal(upd.body.data.world.name, 'Terra');
  assert.deepEqual(upd.body.data.world.metadata, { climate: 'mild', moons: 1 }, 'metadata is shallow-merged');
  // the api-client's updateAgentWorldSettings sends {settings}: accepted, no change
  const same = await client.agents.updateAgentWorldSettings(agentId, world.id, { x: 1 });
  assert.equal(same.world.name, 'Terra');

  const noName = await post(`/api/agents/${agentId}/worlds`, { metadata: {} });
  assert.deepEqual(noName.body, { success: false, error: { code: 'BAD_REQUEST', message: 'World name is required' } });
  await rejects(client.agents.addAgentToWorld(agentId, world.id), { status: 400, code: 'BAD_REQUEST' });
  const badId = await http(`${url}/api/agents/${agentId}/worlds/not-a-uuid`, { method: 'PATCH', body: { name: 'x' } });
  assert.deepEqual(badId.body, { success: false, error: { code: 'INVALID_ID', message: 'Invalid agent ID or world ID format' } });
  const missing = await http(`${url}/api/agents/${agentId}/worlds/${randomUUID()}`, { method: 'PATCH', body: { name: 'x' } });
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.message, 'World not found');
});

test('rooms at /api/memory and /api/agents: create, list, details', async () => {
  const room = await client.memory.createRoom(agentId, { name: 'Lounge', metadata: { topic: 'chat' } });
  assert.match(room.id, UUID_RE);
  assert.equal(room.name, 'Lounge');
  assert.equal(room.agentId, agentId);
  assert.equal(room.type, 'DM');
  assert.equal(room.source, 'client');
  assert.equal(typeof room.createdAt, 'number');
  assert.match(room.worldId, UUID_RE);
  assert.deepEqual(room.metadata, { topic: 'chat' });

  const { rooms } = await client.memory.listAgentRooms(agentId);
  const self = rooms.find((r) => r.id === agentId);
  assert.ok(self, 'the SELF room exists once the agent started');
  assert.equal(self.type, 'SELF');
  const lounge = rooms.find((r) => r.id === room.id);
  assert.deepEqual(lounge, {
    id: room.id,
    name: 'Lounge',
    channelId: room.id,
    agentId,
    messageServerId: null,
    worldId: room.worldId,
    type: 'DM',
    source: 'client',
    metadata: { topic: 'chat' },
    serverId: null,
  });
  const details = await client.memory.getRoom(agentId, room.id);
  assert.equal(details.worldName, 'World for Lounge');
  const viaAgents = await http(`${url}/api/agents/${agentId}/rooms/${room.id}`);
  assert.equal(viaAgents.body.data.name, 'Lounge');
  const viaAgentsList = await http(`${url}/api/agents/${agentId}/rooms`);
  assert.ok(viaAgentsList.body.data.rooms.some((r) => r.id === room.id));

  // explicit world and type
  const w = (await post(`/api/agents/${agentId}/worlds`, { name: 'Group world' })).body.data.world;
  const g = await post(`/api/agents/${agentId}/rooms`, { name: 'Group', type: 'GROUP', worldId: w.id, source: 'discord' });
  assert.equal(g.status, 201);
  assert.equal(g.body.data.worldId, w.id);
  assert.equal((await client.memory.getRoom(agentId, g.body.data.id)).worldName, 'Group world');

  // validation
  await rejects(client.memory.createRoom(agentId, {}), { status: 400, code: 'MISSING_PARAM', message: 'Room name is required' });
  const badWorld = await post(`/api/memory/${agentId}/rooms`, { name: 'x', worldId: 'nope' });
  assert.equal(badWorld.status, 400);
  await rejects(client.memory.getRoom(agentId, randomUUID()), { status: 404, code: 'NOT_FOUND', message: 'Room not found' });
  const bad = await http(`${url}/api/memory/${agentId}/rooms/nope`);
  assert.deepEqual(bad.body, { success: false, error: { code: 'INVALID_ID', message: 'Invalid agent ID or room ID format' } });
});

test('seed rooms at /api/rooms/{agentId}: list, create, get, patch, delete (with memories)', async () => {
  const created = await post(`/api/rooms/${agentId}`, { name: 'Seed room' });
  assert.equal(created.status, 201);
  const rid = created.body.data.id;
  const list = await http(`${url}/api/rooms/${agentId}`);
  assert.ok(list.body.data.rooms.some((r) => r.id === rid));
  assert.equal((await http(`${url}/api/rooms/${agentId}/${rid}`)).body.data.name, 'Seed room');

  const patched = await http(`${url}/api/rooms/${agentId}/${rid}`, {
    method: 'PATCH',
    body: { name: 'Renamed', type: 'GROUP', metadata: { pinned: true } },
  });
  assert.equal(patched.status, 200);
  assert.equal(patched.body.data.name, 'Renamed');
  assert.equal(patched.body.data.type, 'GROUP');
  assert.deepEqual(patched.body.data.metadata, { pinned: true });
  const badPatch = await http(`${url}/api/rooms/${agentId}/${rid}`, { method: 'PATCH', body: { worldId: 'x' } });
  assert.equal(badPatch.status, 400);

  const [mid] = await seedMemories([{ roomId: rid, content: { text: 'in seed room' } }]);
  assert.match(mid, UUID_RE);
  const del = await http(`${url}/api/rooms/${agentId}/${rid}`, { method: 'DELETE' });
  assert.equal(del.status, 204);
  assert.equal((await http(`${url}/api/rooms/${agentId}/${rid}`)).status, 404);
  const { memories } = await client.memory.getAgentMemories(agentId, { roomId: rid });
  assert.deepEqual(memories, [], 'deleting a room removes its memories');
  assert.equal((await http(`${url}/api/rooms/${agentId}/${rid}`, { method: 'DELETE' })).status, 404);
});

test('memories: filters, room memories, update, deletes', async () => {
  const roomA = randomUUID();
  const roomB = randomUUID();
  const channel = randomUUID();
  const channelRoom = createUniqueUuid(agentId, channel);
  const user = randomUUID();
  const t0 = Date.now() - 100000;
  const ids = await seedMemories([
    { roomId: roomA, entityId: user, createdAt: t0, content: { text: 'a0' } },
    { roomId: roomA, entityId: user, createdAt: t0 + 1000, content: { text: 'a1' }, embedding: [0.1, 0.2] },
    { roomId: roomA, createdAt: t0 + 2000, content: { text: 'a2', actions: ['REPLY'] }, metadata: { type: 'message' } },
    { roomId: roomA, type: 'facts', createdAt: t0 + 500, content: { text: 'fact' } },
    { roomId: roomB, createdAt: t0 + 3000, content: { text: 'b0' } },
    { roomId: channelRoom, createdAt: t0 + 4000, content: { text: 'c0' } },
    { roomId: channelRoom, createdAt: t0 + 5000, content: { text: 'c1' } },
  ]);
  assert.equal(ids.length, 7);

  // all "messages" of the agent, newest first, Memory shape
  let { memories } = await client.memory.getAgentMemories(agentId);
  assert.deepEqual(memories.map((m) => m.content.text), ['c1', 'c0', 'b0', 'a2', 'a1', 'a0']);
  const a2 = memories.find((m) => m.content.text === 'a2');
  assert.deepEqual(Object.keys(a2).sort(), ['agentId', 'content', 'createdAt', 'entityId', 'id', 'metadata', 'roomId', 'type', 'unique']);
  assert.equal(a2.type, 'messages');
  assert.equal(a2.createdAt, t0 + 2000);
  assert.equal(a2.agentId, agentId);
  assert.equal(a2.entityId, agentId, 'entity defaults to the agent');
  assert.equal(a2.roomId, roomA);
  assert.equal(a2.unique, false);
  assert.deepEqual(a2.metadata, { type: 'message' });
  assert.deepEqual(a2.content.actions, ['REPLY']);
  assert.ok(memories.every((m) => !('embedding' in m)));

  // filters
  ({ memories } = await client.memory.getAgentMemories(agentId, { tableName: 'facts' }));
  assert.deepEqual(memories.map((m) => m.content.text), ['fact']);
  ({ memories } = await client.memory.getAgentMemories(agentId, { roomId: roomA }));
  assert.deepEqual(memories.map((m) => m.content.text), ['a2', 'a1', 'a0']);
  ({ memories } = await client.memory.getAgentMemories(agentId, { channelId: channel }));
  assert.deepEqual(memories.map((m) => m.content.text), ['c1', 'c0'], 'channelId -> createUniqueUuid(agentId, channelId)');
  ({ memories } = await client.memory.getAgentMemories(agentId, { roomId: roomA, includeEmbedding: true }));
  assert.deepEqual(memories.find((m) => m.content.text === 'a1').embedding, [0.1, 0.2]);
  const paged = await http(`${url}/api/memory/${agentId}/memories?limit=2&before=${t0 + 3000}`);
  assert.deepEqual(paged.body.data.memories.map((m) => m.content.text), ['a2', 'a1']);
  const after = await http(`${url}/api/agents/${agentId}/memories?after=${new Date(t0 + 2000).toISOString()}`);
  assert.deepEqual(after.body.data.memories.map((m) => m.content.text), ['c1', 'c0', 'b0']);

  // room memories: path holds the central channel id; limit/before inclusive
  ({ memories } = await client.memory.getRoomMemories(agentId, channel, { limit: 1 }));
  assert.deepEqual(memories.map((m) => m.content.text), ['c1']);
  ({ memories } = await client.memory.getRoomMemories(agentId, channel, { before: t0 + 4000 }));
  assert.deepEqual(memories.map((m) => m.content.text), ['c0']);
  // the api-client's getAgentInternalMemories passes an agent room id: accepted too
  const internal = await client.memory.getAgentInternalMemories(agentId, roomA, true);
  assert.deepEqual(internal.memories.map((m) => m.content.text), ['a2', 'a1', 'a0']);

  // update
  const upd = await client.memory.updateMemory(agentId, a2.id, { id: 'ignored', content: { text: 'a2 edited' }, metadata: { edited: true }, roomId: 'not-a-uuid' });
  assert.deepEqual(upd, { id: a2.id, message: 'Memory updated successfully' });
  ({ memories } = await client.memory.getAgentMemories(agentId, { roomId: roomA }));
  const edited = memories.find((m) => m.id === a2.id);
  assert.deepEqual(edited.content, { text: 'a2 edited' });
  assert.deepEqual(edited.metadata, { edited: true });
  assert.equal(edited.roomId, roomA, 'a non-uuid roomId is dropped');
  await rejects(client.memory.updateMemory(agentId, randomUUID(), { content: { text: 'x' } }), { status: 404, code: 'NOT_FOUND' });
  await rejects(client.memory.updateMemory(agentId, a2.id, { content: 'text' }), { status: 400 });

  // delete one (also when it does not exist)
  assert.deepEqual(await client.memory.deleteMemory(agentId, a2.id), { message: 'Memory deleted successfully' });
  assert.deepEqual(await client.memory.deleteMemory(agentId, a2.id), { message: 'Memory deleted successfully' });
  ({ memories } = await client.memory.getAgentMemories(agentId, { roomId: roomA }));
  assert.deepEqual(memories.map((m) => m.content.text), ['a1', 'a0']);

  // delete all of a room: chat ("messages") goes (COMPAT §18 #7), other tables stay
  assert.deepEqual(await client.memory.clearRoomMemories(agentId, roomA), { success: true });
  ({ memories } = await client.memory.getAgentMemories(agentId, { roomId: roomA }));
  assert.deepEqual(memories, []);
  ({ memories } = await client.memory.getAgentMemories(agentId, { tableName: 'facts' }));
  assert.equal(memories.length, 1);

  // seed: DELETE /api/memory/{agentId}/rooms/{roomId} clears that room's memories
  const seedDel = await http(`${url}/api/memory/${agentId}/rooms/${roomB}`, { method: 'DELETE' });
  assert.equal(seedDel.status, 204);
  ({ memories } = await client.memory.getAgentMemories(agentId, { roomId: roomB }));
  assert.deepEqual(memories, []);

  // delete everything
  const cleared = await client.memory.clearAgentMemories(agentId);
  assert.deepEqual(cleared, { deleted: 3, message: 'All agent memories cleared successfully' });
  assert.deepEqual((await client.memory.getAgentMemories(agentId)).memories, []);

  // validation
  const cases = [
    [`/api/memory/not-a-uuid/memories`, 'Invalid agent ID'],
    [`/api/memory/${agentId}/memories?channelId=nope`, 'Invalid channel ID format'],
    [`/api/memory/${agentId}/memories?roomId=nope`, 'Invalid room ID format'],
    [`/api/memory/${agentId}/rooms/nope/memories`, 'Invalid agent ID or channel ID format'],
  ];
  for (const [path, message] of cases) {
    const r = await http(`${url}${path}`);
    assert.equal(r.status, 400, path);
    assert.deepEqual(r.body, { success: false, error: { code: 'INVALID_ID', message } });
  }
  const badPatch = await http(`${url}/api/memory/${agentId}/memories/nope`, { method: 'PATCH', body: {} });
  assert.equal(badPatch.body.error.message, 'Invalid agent ID or memory ID format');
  assert.equal((await http(`${url}/api/memory/${agentId}/memories?limit=0`)).status, 400);
  assert.equal((await http(`${url}/api/memory/${agentId}/memories?before=yesterday`)).status, 400);
  // duplicate memory ids are refused by agents.v1 memory_add
  const dupId = randomUUID();
  await seedMemories([{ id: dupId, roomId: roomA, content: { text: 'x' } }]);
  const dup = await post(`/api/agents/${agentId}/test/memories`, { id: dupId, roomId: roomA, content: {} });
  assert.equal(dup.status, 409);
  await client.memory.clearAgentMemories(agentId);
});

test('agents.v1 memories_recent and memory_delete by central message id', async () => {
  const room = randomUUID();
  const central = randomUUID();
  const memoryId = createUniqueUuid(agentId, `${central}-${agentId}`);
  await seedMemories([
    { id: memoryId, roomId: room, createdAt: 1000, content: { text: 'from central' } },
    { roomId: room, createdAt: 2000, content: { text: 'other' }, metadata: { sourceId: randomUUID() } },
  ]);
  let r = await http(`${url}/api/agents/${agentId}/test/agent?roomId=${room}`);
  assert.deepEqual(r.body.data.recent.map((m) => m.content.text), ['other', 'from central']);
  const del = await post(`/api/agents/${agentId}/test/memories/delete`, { memoryId: central });
  assert.equal(del.status, 204);
  r = await http(`${url}/api/agents/${agentId}/test/agent?roomId=${room}`);
  assert.deepEqual(r.body.data.recent.map((m) => m.content.text), ['other']);
  await post(`/api/agents/${agentId}/test/memories/delete`, { roomId: room });
  r = await http(`${url}/api/agents/${agentId}/test/agent?roomId=${room}`);
  assert.deepEqual(r.body.data.recent, []);
});

test('groups: create rooms for several agents, delete a group and its memories', async () => {
  const serverId = randomUUID();
  const ghost = randomUUID();
  const partial = await post(`/api/memory/groups/${serverId}`, { agentIds: [agentId, ghost], name: 'Team' });
  assert.equal(partial.status, 207);
  assert.equal(partial.body.success, false);
  const roomId = createUniqueUuid(agentId, serverId);
  assert.deepEqual(partial.body.data, [{ id: roomId, name: 'Team', source: 'client', worldId: createUniqueUuid(agentId, serverId), type: 'API' }]);
  assert.deepEqual(partial.body.errors.map((e) => [e.agentId, e.code]), [[ghost, 'NOT_FOUND']]);
  const worldId = randomUUID();
  const ok = await post(`/api/memory/groups/${serverId}`, { agentIds: [agentId], worldId });
  assert.equal(ok.status, 201);
  assert.equal(ok.body.success, true);
  assert.equal(ok.body.data[0].worldId, worldId);
  const none = await post(`/api/memory/groups/${serverId}`, { agentIds: [ghost] });
  assert.equal(none.status, 500);
  assert.equal(none.body.success, false);
  assert.equal(none.body.error[0].code, 'NOT_FOUND');
  const empty = await post(`/api/memory/groups/${serverId}`, { agentIds: [] });
  assert.deepEqual(empty.body, { success: false, error: { code: 'BAD_REQUEST', message: 'agentIds must be a non-empty array' } });

  // the group room belongs to the world createUniqueUuid(agentId, serverId)
  const gWorld = createUniqueUuid(agentId, serverId);
  await seedMemories([{ roomId, content: { text: 'group chat' } }]);
  assert.deepEqual(await client.memory.clearWorldMemories(gWorld), { success: true });
  assert.deepEqual((await client.memory.getAgentMemories(agentId, { roomId })).memories, []);
  assert.deepEqual(await client.memory.deleteWorld(gWorld), { success: true });
  await rejects(client.memory.getRoom(agentId, roomId), { status: 404 });
  const bad = await http(`${url}/api/memory/groups/nope`, { method: 'DELETE' });
  assert.deepEqual(bad.body, { success: false, error: { code: 'INVALID_ID', message: 'Invalid messageServerId (worldId) format' } });
});

test('runs: list with filters and pagination, details with events', async () => {
  const roomId = randomUUID();
  const entityId = randomUUID();
  const messageId = randomUUID();
  const first = await post(`/api/agents/${agentId}/test/runs`, {
    info: { messageId, roomId, entityId, source: 'client_chat' },
    events: [
      { type: 'MODEL_USED', data: { modelType: 'TEXT_LARGE', provider: 'eliza', executionTime: 3 } },
      { type: 'ACTION_STARTED', data: { actionId: 'a1', actionName: 'REPLY', messageId } },
      { type: 'ACTION_COMPLETED', data: { actionId: 'a1', actionName: 'REPLY', success: false, promptCount: 2 } },
      { type: 'EVALUATOR_COMPLETED', data: { evaluatorName: 'reflection', success: true } },
    ],
    logs: [{ type: 'useModel:TEXT_SMALL', body: { modelType: 'TEXT_SMALL', provider: 'eliza' } }],
    status: 'completed',
  });
  assert.equal(first.status, 201, JSON.stringify(first.body));
  const runId = first.body.data.runId;
  await new Promise((r) => setTimeout(r, 5));
  const second = await post(`/api/agents/${agentId}/test/runs`, { info: { roomId: randomUUID(), source: 'api' } });
  const openRun = second.body.data.runId;

  let list = await client.runs.listRuns(agentId);
  assert.equal(list.total, 2);
  assert.equal(list.hasMore, false);
  assert.deepEqual(list.runs.map((r) => r.runId), [openRun, runId], 'newest first');
  const done = list.runs[1];
  assert.equal(done.status, 'completed');
  assert.equal(typeof done.startedAt, 'number');
  assert.equal(typeof done.endedAt, 'number');
  assert.equal(done.durationMs, done.endedAt - done.startedAt);
  assert.equal(done.messageId, messageId);
  assert.equal(done.roomId, roomId);
  assert.equal(done.entityId, entityId);
  assert.deepEqual(done.counts, { actions: 1, modelCalls: 4, errors: 1, evaluators: 1 });
  assert.equal(list.runs[0].status, 'started');
  assert.equal(list.runs[0].endedAt, null);
  assert.equal(list.runs[0].durationMs, null);

  assert.deepEqual((await client.runs.listRuns(agentId, { status: 'completed' })).runs.map((r) => r.runId), [runId]);
  assert.deepEqual((await client.runs.listRuns(agentId, { status: 'bogus' })).total, 2, 'unknown status ignored');
  assert.deepEqual((await client.runs.listRuns(agentId, { roomId })).runs.map((r) => r.runId), [runId]);
  list = await client.runs.listRuns(agentId, { limit: 1 });
  assert.equal(list.runs.length, 1);
  assert.equal(list.hasMore, true);
  assert.equal((await client.runs.listRuns(agentId, { from: Date.now() + 60000 })).total, 0);
  await rejects(client.runs.listRuns(agentId, { roomId: 'nope' }), { status: 400, code: 'INVALID_ID', message: 'Invalid room ID format' });

  const detail = await client.runs.getRun(agentId, runId);
  assert.equal(detail.summary.runId, runId);
  assert.equal(detail.summary.status, 'completed');
  assert.deepEqual(detail.summary.counts, { actions: 1, modelCalls: 4, errors: 1, evaluators: 1 });
  assert.deepEqual(detail.events.map((e) => e.type), [
    'RUN_STARTED', 'MODEL_USED', 'ACTION_STARTED', 'ACTION_COMPLETED', 'EVALUATOR_COMPLETED', 'MODEL_USED', 'RUN_ENDED',
  ]);
  assert.deepEqual(detail.events[0].data, { source: 'client_chat', messageId });
  assert.equal(detail.events[1].data.modelType, 'TEXT_LARGE');
  assert.equal(detail.events[5].data.modelType, 'TEXT_SMALL');
  assert.equal(detail.events[6].data.status, 'completed');
  assert.equal(typeof detail.events[6].data.durationMs, 'number');
  for (let i = 1; i < detail.events.length; i++) assert.ok(detail.events[i].timestamp >= detail.events[i - 1].timestamp);

  const unknown = randomUUID();
  const empty = await client.runs.getRun(agentId, unknown);
  assert.deepEqual(empty, {
    summary: { runId: unknown, status: 'started', entityId: agentId, counts: { actions: 0, modelCalls: 0, errors: 0, evaluators: 0 } },
    events: [],
  });
  // seed aliases
  const seedList = await http(`${url}/api/runs/${agentId}`);
  assert.equal(seedList.body.data.total, 2);
  const seedRun = await http(`${url}/api/runs/${agentId}/${runId}`);
  assert.equal(seedRun.body.data.events.length, 7);
  const badRun = await http(`${url}/api/agents/${agentId}/runs/nope`);
  assert.deepEqual(badRun.body, { success: false, error: { code: 'INVALID_ID', message: 'Invalid agent or run ID format' } });
});

test('logs: list, filters, exclusion, delete, seed alias', async () => {
  const roomId = randomUUID();
  for (const [type, body] of [
    ['action', { action: 'REPLY' }],
    ['useModel:TEXT_EMBEDDING', { modelType: 'TEXT_EMBEDDING' }],
    ['custom', { n: 1 }],
  ]) {
    const r = await post(`/api/agents/${agentId}/test/logs`, { type, roomId, body });
    assert.equal(r.status, 204);
  }
  let logs = await client.agents.getAgentLogs(agentId, { roomId, count: 50 });
  assert.deepEqual(logs.map((l) => l.type), ['custom', 'useModel:TEXT_EMBEDDING', 'action'], 'newest first');
  assert.match(logs[0].createdAt, ISO_RE);
  assert.equal(logs[0].roomId, roomId);
  assert.equal(logs[0].entityId, agentId);
  assert.deepEqual(logs[0].body, { n: 1 });
  logs = await client.agents.getAgentLogs(agentId, { roomId, type: 'action' });
  assert.deepEqual(logs.map((l) => l.type), ['action']);
  logs = await client.agents.getAgentLogs(agentId, { roomId, excludeTypes: 'embedding' });
  assert.deepEqual(logs.map((l) => l.type), ['custom', 'action'], 'modelType substring exclusion');
  const two = await http(`${url}/api/agents/${agentId}/logs?roomId=${roomId}&excludeTypes=custom&excludeTypes=action`);
  assert.deepEqual(two.body.data.map((l) => l.type), ['useModel:TEXT_EMBEDDING']);
  logs = await client.agents.getAgentLogs(agentId, { roomId, count: 1, offset: 1 });
  assert.deepEqual(logs.map((l) => l.type), ['useModel:TEXT_EMBEDDING']);
  // default count is 10, runs above also wrote run_event logs
  assert.equal((await client.agents.getAgentLogs(agentId)).length, 10);
  assert.ok((await client.agents.getAgentLogs(agentId, { type: 'run_event', count: 100 })).length >= 3);

  const seed = await http(`${url}/api/logs/${agentId}?roomId=${roomId}`);
  assert.equal(seed.body.data.length, 3);
  assert.deepEqual(await client.agents.deleteAgentLog(agentId, logs[0].id), { success: true });
  logs = await client.agents.getAgentLogs(agentId, { roomId });
  assert.deepEqual(logs.map((l) => l.type), ['custom', 'action']);
  const bad = await http(`${url}/api/agents/${agentId}/logs/nope`, { method: 'DELETE' });
  assert.deepEqual(bad.body, { success: false, error: { code: 'INVALID_ID', message: 'Invalid agent or log ID format' } });
  assert.equal((await http(`${url}/api/agents/${agentId}/logs?roomId=bad`)).status, 400);
});

test('panels registered through agents.v1 panel_add', async () => {
  assert.deepEqual(await client.agents.getAgentPanels(agentId), { panels: [] });
  await post(`/api/agents/${agentId}/test/panels`, { name: 'Stats', path: '/api/agents/:agentId/plugins/stats?agentId=:agentId' });
  await post(`/api/agents/${agentId}/test/panels`, { name: 'Everyone', path: '/api/agents/{agentId}/plugins/all', all: true });
  const { panels } = await client.agents.getAgentPanels(agentId);
  assert.deepEqual(panels, [
    { id: 'Stats-0', name: 'Stats', url: `/api/agents/${agentId}/plugins/stats?agentId=${agentId}`, type: 'plugin' },
    { id: 'Everyone-1', name: 'Everyone', url: `/api/agents/${agentId}/plugins/all`, type: 'plugin' },
  ]);
  const other = await client.agents.createAgent({ characterJson: { name: 'Other', bio: 'b' } });
  await client.agents.startAgent(other.id);
  assert.deepEqual((await client.agents.getAgentPanels(other.id)).panels.map((p) => p.name), ['Everyone']);
  await client.agents.deleteAgent(other.id);
});

test('runtime-scoped routes need a running agent; seed-only paths an existing one', async () => {
  const { id } = await client.agents.createAgent({ characterJson: { name: 'Sleeper', bio: 'b' } });
  for (const [method, path, body] of [
    ['GET', `/api/memory/${id}/memories`],
    ['GET', `/api/agents/${id}/memories`],
    ['DELETE', `/api/memory/${id}/memories`],
    ['GET', `/api/memory/${id}/rooms`],
    ['POST', `/api/memory/${id}/rooms`, { name: 'x' }],
    ['GET', `/api/agents/${id}/logs`],
    ['GET', `/api/agents/${id}/runs`],
    ['GET', `/api/agents/${id}/panels`],
    ['POST', `/api/agents/${id}/worlds`, { name: 'x' }],
  ]) {
    const r = await http(`${url}${path}`, { method, body });
    assert.equal(r.status, 404, `${method} ${path}`);
    assert.deepEqual(r.body, { success: false, error: { code: 'NOT_FOUND', message: 'Agent not found' } });
  }
  for (const path of [`/api/rooms/${id}`, `/api/agents/${id}/worlds`, `/api/logs/${id}`, `/api/runs/${id}`]) {
    assert.equal((await http(`${url}${path}`)).status, 200, path);
  }
  const ghost = randomUUID();
  for (const path of [`/api/rooms/${ghost}`, `/api/agents/${ghost}/worlds`, `/api/logs/${ghost}`, `/api/runs/${ghost}`]) {
    assert.equal((await http(`${url}${path}`)).status, 404, path);
  }
  await client.agents.deleteAgent(id);
});

test('deleting an agent removes its memories, rooms, worlds, runs and logs', async () => {
  const { id } = await client.agents.createAgent({ characterJson: { name: 'Doomed', bio: 'b' } });
  await client.agents.startAgent(id);
  await post(`/api/agents/${id}/worlds`, { name: 'W' });
  await client.memory.createRoom(id, { name: 'R' });
  await http(`${url}/api/agents/${id}/test/memories`, { method: 'POST', body: { roomId: randomUUID(), content: { text: 'm' } } });
  await post(`/api/agents/${id}/test/runs`, { info: {}, status: 'completed' });
  assert.equal((await client.memory.getAgentMemories(id)).memories.length, 1);
  await client.agents.deleteAgent(id);
  // recreate the same character (same id): it starts from nothing
  const again = await client.agents.createAgent({ characterJson: { name: 'Doomed', bio: 'b' } });
  assert.equal(again.id, id);
  await client.agents.startAgent(id);
  assert.deepEqual((await client.memory.getAgentMemories(id)).memories, []);
  assert.deepEqual((await client.memory.listAgentRooms(id)).rooms.map((r) => r.id), [id], 'only the SELF room');
  assert.deepEqual((await http(`${url}/api/agents/${id}/worlds`)).body.data.worlds, []);
  assert.equal((await client.runs.listRuns(id)).total, 0);
  assert.equal((await client.agents.getAgentLogs(id, { type: 'run_event' })).length, 0);
  await client.agents.deleteAgent(id);
});
