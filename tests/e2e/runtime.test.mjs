// The agent runtime with the embedded eliza provider, through the official clients: a started
// agent answers in its DMs (socket and REST), streams its answer, stores it, records a run;
// group channels follow the respond policy; bursts are answered in order; failures are visible.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startServer, http, ZERO_UUID } from './lib/harness.mjs';
import {
  client,
  startAgent,
  dmChannel,
  connect,
  join,
  send,
  waitFor,
  eventsOf,
  isReplyFrom,
  channelMessages,
  sleep,
} from './fixtures/runtime_kit.mjs';

let srv;
let api;
const sockets = [];

before(async () => {
  srv = await startServer({
    plugins: ['messaging', 'agents', 'runtime', 'model_eliza'],
    sections: 'runtime: { queue_depth = 100; history_limit = 20; };\n',
  });
  api = client(srv);
});

after(async () => {
  for (const s of sockets) s.close();
  const st = await srv.stop();
  assert.equal(st.code, 0, `elizad exit: ${JSON.stringify(st)}\n${srv.log()}`);
});

// A new user in a DM with the agent, its socket joined to the channel.
async function dmWith(agentId) {
  const userId = randomUUID();
  const channelId = await dmChannel(api, userId, agentId);
  const s = await connect(srv, userId);
  sockets.push(s);
  await join(s, channelId);
  return { userId, channelId, s };
}

async function user(channelId) {
  const s = await connect(srv);
  sockets.push(s);
  await join(s, channelId);
  return s;
}

test('DM by socket: chunks, messageBroadcast and messageComplete within a second; stored; a run', async () => {
  const agentId = await startAgent(api, {
    name: 'Ada',
    bio: ['Ada listens more than she talks.'],
    system: 'You are Ada, a patient listener.',
  });
  const { userId, channelId, s } = await dmWith(agentId);

  const t0 = send(s, channelId, 'I need a long holiday at the sea');
  const reply = await waitFor(s, 'messageBroadcast', isReplyFrom(agentId), 1000);
  const done = await waitFor(s, 'messageComplete', (d) => d.messageId === reply.id, 1000);
  const tDone = eventsOf(s, 'messageComplete', (d) => d.messageId === reply.id)[0].t;
  assert.ok(tDone - t0 < 1000, `answered in ${tDone - t0} ms`);

  // the broadcast is the agent variant, and the answer reflects the wish
  assert.equal(reply.senderName, 'Ada');
  assert.equal(reply.channelId || reply.roomId, channelId);
  assert.match(reply.text, /a long holiday at the sea/);
  assert.deepEqual(reply.actions, ['REPLY']);

  // chunks: same id as the final reply, indexes 0..n-1, concatenating to the text, all before it
  const chunks = eventsOf(s, 'messageStreamChunk', (d) => d.messageId === reply.id);
  assert.ok(chunks.length >= 2, `only ${chunks.length} chunks`);
  chunks.forEach((c, i) => {
    assert.equal(c.data.index, i);
    assert.equal(c.data.agentId, agentId);
    assert.equal(c.data.channelId, channelId);
  });
  assert.equal(chunks.map((c) => c.data.chunk).join(''), reply.text);
  const tReply = eventsOf(s, 'messageBroadcast', isReplyFrom(agentId))[0].t;
  assert.ok(chunks.every((c) => c.t <= tReply));

  // messageComplete carries the full text; input is disabled then enabled again
  assert.equal(done.channelId, channelId);
  assert.equal(done.agentId, agentId);
  assert.equal(done.text, reply.text);
  const control = eventsOf(s, 'controlMessage').map((e) => e.data.action);
  assert.deepEqual(control, ['disable_input', 'enable_input']);
  assert.equal(eventsOf(s, 'controlMessage')[1].data.channelId, channelId);

  // stored and listed, newest first, linked to the user message
  const userMsg = eventsOf(s, 'messageBroadcast', (d) => d.senderId === userId)[0].data;
  const list = await api.messaging.getChannelMessages(channelId, { limit: 10 });
  const msgs = list.messages;
  assert.equal(msgs[0].id, reply.id);
  assert.equal(msgs[0].authorId, agentId);
  assert.equal(msgs[0].sourceType, 'agent_response');
  assert.equal(msgs[0].inReplyToRootMessageId, userMsg.id);
  assert.equal(msgs[0].content, reply.text);
  assert.equal(msgs[0].metadata.agentName, 'Ada');
  assert.equal(msgs[0].metadata.isDm, true);
  assert.equal(msgs[1].id, userMsg.id);

  // a run row with the model call
  const runs = await api.runs.listRuns(agentId);
  const run = runs.runs.find((r) => r.messageId === userMsg.id);
  assert.ok(run, `no run for the message: ${JSON.stringify(runs)}`);
  assert.equal(run.status, 'completed');
  assert.ok(run.counts.modelCalls >= 1);
  const detail = await api.runs.getRun(agentId, run.runId);
  const used = detail.events.find((e) => e.type === 'MODEL_USED');
  assert.ok(used, JSON.stringify(detail.events));
  assert.equal(used.data.provider, 'eliza');
  assert.ok(used.data.usage.totalTokens > 0);

  // the agent remembers both sides
  const mem = await http(`${srv.url}/api/memory/${agentId}/rooms/${channelId}/memories`);
  assert.equal(mem.status, 200);
  const memories = Array.isArray(mem.body.data) ? mem.body.data : mem.body.data.memories;
  const texts = memories.map((m) => m.content.text);
  assert.ok(texts.includes('I need a long holiday at the sea'), JSON.stringify(texts));
  assert.ok(texts.includes(reply.text));
  assert.ok(memories.some((m) => m.entityId === agentId && m.id === reply.id));
});

test('DM by REST: the reply reaches the channel socket and the messages list', async () => {
  const agentId = await startAgent(api, { name: 'Rest Responder', bio: 'Answers REST posts.' });
  const userId = randomUUID();
  const channelId = await dmChannel(api, userId, agentId);
  const s = await user(channelId);
  const r = await http(`${srv.url}/api/messaging/channels/${channelId}/messages`, {
    method: 'POST',
    body: {
      author_id: userId,
      content: 'My boss ignores me',
      message_server_id: ZERO_UUID,
      metadata: { user_display_name: 'Rita' },
    },
  });
  assert.equal(r.status, 201);
  const reply = await waitFor(s, 'messageBroadcast', isReplyFrom(agentId), 1000);
  await waitFor(s, 'messageComplete', (d) => d.messageId === reply.id, 1000);
  assert.ok(reply.text.length > 0);
  const msgs = await channelMessages(srv, channelId);
  const stored = msgs.find((m) => m.id === reply.id);
  assert.equal(stored.inReplyToRootMessageId, r.body.userMessage.id);

  // ELIZA's memory: a sentence without keywords brings the earlier topic back, reflected
  await http(`${srv.url}/api/messaging/channels/${channelId}/messages`, {
    method: 'POST',
    body: { author_id: userId, content: 'xyzzy plugh', message_server_id: ZERO_UUID },
  });
  const second = await waitFor(s, 'messageBroadcast', (d) => isReplyFrom(agentId)(d) && d.id !== reply.id, 1000);
  assert.match(second.text, /your boss ignores you/);
});

test('DM by REST with transport http: the reply is the answer, as the official Content', async () => {
  const agentId = await startAgent(api, { name: 'Sync Responder', bio: 'Answers in the response.' });
  const userId = randomUUID();
  const channelId = await dmChannel(api, userId, agentId);
  const r = await http(`${srv.url}/api/messaging/channels/${channelId}/messages`, {
    method: 'POST',
    body: { author_id: userId, content: 'I feel tired today', message_server_id: ZERO_UUID, transport: 'http' },
  });
  assert.equal(r.status, 201);
  assert.equal(r.body.success, true);
  assert.equal(r.body.userMessage.content, 'I feel tired today');
  const a = r.body.agentResponse;
  assert.ok(typeof a.text === 'string' && a.text.length > 0);
  assert.equal(a.inReplyTo, r.body.userMessage.id);
  assert.deepEqual(a.providers, []);
  assert.equal(a.simple, true);
  assert.match(a.responseId, /^[0-9a-f-]{36}$/);
});

test('group channel: the default respond policy answers only when the agent is named', async () => {
  const agentId = await startAgent(api, { name: 'Grace', bio: ['Grace speaks when spoken to.'] });
  const other = randomUUID();
  const s = await connect(srv);
  sockets.push(s);
  const group = await api.messaging.createGroupChannel({
    name: 'team',
    participantIds: [s.entityId, other, agentId],
  });
  await join(s, group.id);
  send(s, group.id, 'nice weather today', { dm: false, source: 'client_group_chat' });
  await waitFor(s, 'messageBroadcast', (d) => d.senderId === s.entityId, 1000);
  await sleep(300);
  assert.equal(eventsOf(s, 'messageBroadcast', isReplyFrom(agentId)).length, 0);

  send(s, group.id, 'what do you think, grace?', { dm: false, source: 'client_group_chat' });
  const reply = await waitFor(s, 'messageBroadcast', isReplyFrom(agentId), 1000);
  assert.ok(reply.text.length > 0);
  const stored = (await channelMessages(srv, group.id)).find((m) => m.id === reply.id);
  assert.equal(stored.metadata.isDm, false);
  assert.equal(stored.metadata.channelType, 'GROUP');
});

test('50 messages sent at once to one agent are all answered, in order', async () => {
  const agentId = await startAgent(api, { name: 'Burst', bio: ['Answers everything.'] });
  const { userId, channelId, s } = await dmWith(agentId);
  const N = 50;
  const texts = Array.from({ length: N }, (_, i) => `message number ${i} about my plan ${i}`);
  for (const t of texts) send(s, channelId, t);
  const deadline = Date.now() + 10000;
  while (eventsOf(s, 'messageComplete').length < N && Date.now() < deadline) await sleep(20);
  const replies = eventsOf(s, 'messageBroadcast', isReplyFrom(agentId)).map((e) => e.data);
  assert.equal(replies.length, N, `${replies.length} replies`);
  // every reply answers the message sent at the same position
  const msgs = await channelMessages(srv, channelId, 500);
  const byId = new Map(msgs.map((m) => [m.id, m]));
  const userIds = new Map(msgs.filter((m) => m.authorId === userId).map((m) => [m.content, m.id]));
  replies.forEach((r, i) => {
    const stored = byId.get(r.id);
    assert.ok(stored, `reply ${i} not stored`);
    assert.equal(stored.inReplyToRootMessageId, userIds.get(texts[i]), `reply ${i} out of order`);
  });
  assert.equal(new Set(replies.map((r) => r.id)).size, N);
  assert.ok(replies.every((r) => !r.text.startsWith('Sorry')));
});

test('a provider that is not loaded gives a visible error reply and messageStreamError', async () => {
  const agentId = await startAgent(api, {
    name: 'Misconfigured',
    bio: ['Names a provider nobody loaded.'],
    settings: { model_provider: 'nonexistent' },
  });
  const { channelId, s } = await dmWith(agentId);
  send(s, channelId, 'hello?');
  const err = await waitFor(s, 'messageStreamError', (d) => d.agentId === agentId, 1000);
  assert.match(err.error, /nonexistent/);
  const reply = await waitFor(s, 'messageBroadcast', isReplyFrom(agentId), 1000);
  assert.equal(reply.id, err.messageId);
  assert.match(reply.text, /^Sorry — I could not answer: .*nonexistent/);
  const stored = (await channelMessages(srv, channelId)).find((m) => m.id === reply.id);
  assert.equal(stored.metadata.error, true);
  await waitFor(s, 'controlMessage', (d) => d.action === 'enable_input', 1000);
  const runs = await api.runs.listRuns(agentId);
  assert.equal(runs.runs[0].status, 'error');
});

test('a stopped agent does not answer; once started again it does', async () => {
  const agentId = await startAgent(api, { name: 'Sleeper', bio: ['Sometimes off.'] });
  const { userId, channelId, s } = await dmWith(agentId);
  await api.agents.stopAgent(agentId);
  send(s, channelId, 'are you there?');
  await waitFor(s, 'messageBroadcast', (d) => d.senderId === userId, 1000);
  await sleep(300);
  assert.equal(eventsOf(s, 'messageBroadcast', isReplyFrom(agentId)).length, 0);
  await api.agents.startAgent(agentId);
  send(s, channelId, 'are you there now?');
  const reply = await waitFor(s, 'messageBroadcast', isReplyFrom(agentId), 1000);
  assert.ok(reply.text.length > 0);
});

test('an updated character takes effect at the next reply', async () => {
  const agentId = await startAgent(api, {
    name: 'Fixable',
    bio: ['Gets a working provider later.'],
    settings: { model_provider: 'nonexistent' },
  });
  const { channelId, s } = await dmWith(agentId);
  send(s, channelId, 'first try');
  const failed = await waitFor(s, 'messageBroadcast', isReplyFrom(agentId), 1000);
  assert.match(failed.text, /^Sorry — I could not answer: .*nonexistent/);
  await waitFor(s, 'controlMessage', (d) => d.action === 'enable_input', 1000);

  await api.agents.updateAgent(agentId, { name: 'Fixed', settings: { model_provider: 'eliza' } });
  send(s, channelId, 'second try');
  const reply = await waitFor(s, 'messageBroadcast', (d) => isReplyFrom(agentId)(d) && d.id !== failed.id, 1000);
  assert.doesNotMatch(reply.text, /^Sorry/);
  assert.equal(reply.senderName, 'Fixed');
});

test('a long non-ASCII system prompt is cut at a character boundary in the model-use log', async () => {
  // the log keeps the first 2,000 bytes of the system prompt: one of these two agents has its
  // cut fall inside a two-byte character, which must not cost the run its MODEL_USED event
  for (const lead of ['', 'a']) {
    const agentId = await startAgent(api, { name: `Accent${lead}`, bio: ['Writes é.'], system: lead + 'é'.repeat(1500) });
    const { channelId, s } = await dmWith(agentId);
    send(s, channelId, 'hello there');
    const reply = await waitFor(s, 'messageBroadcast', isReplyFrom(agentId), 1000);
    await waitFor(s, 'controlMessage', (d) => d.action === 'enable_input', 1000);
    const runs = await api.runs.listRuns(agentId);
    const run = runs.runs.find((r) => r.status === 'completed');
    assert.ok(run, JSON.stringify(runs));
    const detail = await api.runs.getRun(agentId, run.runId);
    const used = detail.events.find((e) => e.type === 'MODEL_USED');
    assert.ok(used, `no MODEL_USED event (lead "${lead}"): ${JSON.stringify(detail.events.map((e) => e.type))}`);
    assert.ok(Buffer.byteLength(used.data.systemPrompt) <= 2000);
    assert.ok(used.data.systemPrompt.startsWith(lead + 'éé'));
    assert.ok(!used.data.systemPrompt.includes('\uFFFD'));
    assert.equal(used.data.response, reply.text);
    s.close();
  }
});

test('an error reason cut inside a character still reaches the user as an error reply', async () => {
  // the provider name is kept to 63 bytes: 40 two-byte characters are cut inside the 32nd
  const name = 'é'.repeat(40);
  const agentId = await startAgent(api, { name: 'LongName', bio: ['Names an odd provider.'], settings: { model_provider: name } });
  const { channelId, s } = await dmWith(agentId);
  send(s, channelId, 'are you there');
  const failed = await waitFor(s, 'messageBroadcast', isReplyFrom(agentId), 1000);
  assert.match(failed.text, /^Sorry — I could not answer: the model provider "é{31}" is not loaded$/);
  const err = await waitFor(s, 'messageStreamError', (d) => d.messageId === failed.id, 1000);
  assert.match(err.error, /"é{31}"/);
  s.close();
});
