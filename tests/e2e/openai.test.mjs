// model_openai against a local OpenAI-compatible server (fixtures/fake_openai.mjs): streaming
// and whole answers, a slow first token, 429 then success, 500, 401, 404, a connection dropped
// mid-stream and a timeout each reach the socket client as the right events and replies;
// agents never wait for one another; a full queue answers with errors, never silently.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startServer } from './lib/harness.mjs';
import { startFakeOpenAI, CHUNKS, USAGE } from './fixtures/fake_openai.mjs';
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

const REPLY_TIMEOUT_MS = 2000;
let fake;
let srv;
let api;
const sockets = [];

before(async () => {
  fake = await startFakeOpenAI({ key: 'good-key' });
  srv = await startServer({
    plugins: ['messaging', 'agents', 'runtime', 'model_eliza', 'model_openai'],
    sections:
      `runtime: { respond = "always"; queue_depth = 3; reply_timeout_ms = ${REPLY_TIMEOUT_MS}; };\n` +
      `model_openai: { base_url = "${fake.url}"; api_key = "good-key"; model = "ok"; ` +
      'max_retries = 2; retry_base_ms = 50; retry_max_ms = 200; timeout_ms = 5000; connect_timeout_ms = 1000; };\n',
  });
  api = client(srv);
});

after(async () => {
  for (const s of sockets) s.close();
  const st = await srv.stop();
  await fake.close();
  assert.equal(st.code, 0, `elizad exit: ${JSON.stringify(st)}\n${srv.log()}`);
});

// An agent on the openai provider with the fake's behaviour named as its model, in a DM with a
// fresh socket user.
async function dmWith(model, extra = {}) {
  const agentId = await startAgent(api, {
    name: `OA ${model} ${randomUUID().slice(0, 6)}`,
    bio: [`Speaks through the ${model} model.`],
    plugins: ['@elizaos/plugin-openai'],
    settings: { model, ...(extra.settings || {}) },
  });
  const userId = randomUUID();
  const channelId = await dmChannel(api, userId, agentId);
  const s = await connect(srv, userId);
  sockets.push(s);
  await join(s, channelId);
  return { agentId, channelId, s };
}

function requestsFor(text) {
  return fake.requests.filter((r) => {
    const m = r.body.messages || [];
    return m.length && m[m.length - 1].content === text;
  });
}

test('streaming: chunks as the server sends them, then the reply, with usage in the run', async () => {
  const { agentId, channelId, s } = await dmWith('ok');
  const text = `stream please ${randomUUID()}`;
  send(s, channelId, text);
  const reply = await waitFor(s, 'messageBroadcast', isReplyFrom(agentId), 3000);
  assert.equal(reply.text, CHUNKS.join(''));
  const chunks = eventsOf(s, 'messageStreamChunk', (d) => d.messageId === reply.id).map((e) => e.data.chunk);
  assert.deepEqual(chunks, CHUNKS);
  const done = await waitFor(s, 'messageComplete', (d) => d.messageId === reply.id, 1000);
  assert.equal(done.text, reply.text);

  // what the server received: the key, the model, the character, stream mode, the message
  const [req] = requestsFor(text);
  assert.ok(req, 'the fake server saw no request');
  assert.equal(req.auth, 'Bearer good-key');
  assert.equal(req.body.model, 'ok');
  assert.equal(req.body.stream, true);
  assert.equal(req.body.messages[0].role, 'system');
  assert.match(req.body.messages[0].content, /Speaks through the ok model/);

  const runs = await api.runs.listRuns(agentId);
  assert.equal(runs.runs[0].status, 'completed');
  const detail = await api.runs.getRun(agentId, runs.runs[0].runId);
  const used = detail.events.find((e) => e.type === 'MODEL_USED');
  assert.equal(used.data.provider, 'openai');
  assert.equal(used.data.model, 'ok');
  assert.deepEqual(used.data.usage, {
    promptTokens: USAGE.prompt_tokens,
    completionTokens: USAGE.completion_tokens,
    totalTokens: USAGE.total_tokens,
  });
});

test('a server that ignores stream:true and answers JSON still produces a reply', async () => {
  const { agentId, channelId, s } = await dmWith('nostream');
  send(s, channelId, 'whole answer please');
  const reply = await waitFor(s, 'messageBroadcast', isReplyFrom(agentId), 3000);
  assert.equal(reply.text, CHUNKS.join(''));
  const chunks = eventsOf(s, 'messageStreamChunk', (d) => d.messageId === reply.id);
  assert.equal(chunks.length, 1);
  assert.equal(chunks[0].data.chunk, reply.text);
});

test('slow first token: the answer arrives, and another agent is not delayed meanwhile', async () => {
  const slow = await dmWith('slow-first');
  const fastAgent = await startAgent(api, { name: `Fast ${randomUUID().slice(0, 6)}`, bio: ['Quick.'] });
  const userId = randomUUID();
  const fastChannel = await dmChannel(api, userId, fastAgent);
  const fs = await connect(srv, userId);
  sockets.push(fs);
  await join(fs, fastChannel);

  const t0 = send(slow.s, slow.channelId, 'take your time');
  await sleep(50);
  const t1 = send(fs, fastChannel, 'I am in a hurry');
  await waitFor(fs, 'messageBroadcast', isReplyFrom(fastAgent), 1000);
  const fastAt = eventsOf(fs, 'messageBroadcast', isReplyFrom(fastAgent))[0].t;
  assert.ok(fastAt - t1 < 500, `fast agent took ${fastAt - t1} ms`);

  const reply = await waitFor(slow.s, 'messageBroadcast', isReplyFrom(slow.agentId), 4000);
  const slowAt = eventsOf(slow.s, 'messageBroadcast', isReplyFrom(slow.agentId))[0].t;
  assert.ok(slowAt - t0 >= 1100, `slow answer after ${slowAt - t0} ms`);
  assert.equal(reply.text, CHUNKS.join(''));
});

test('429 then success: retried after Retry-After, one reply, no error', async () => {
  const { agentId, channelId, s } = await dmWith('flaky');
  const text = `rate limit me ${randomUUID()}`;
  const t0 = send(s, channelId, text);
  const reply = await waitFor(s, 'messageBroadcast', isReplyFrom(agentId), 4000);
  const at = eventsOf(s, 'messageBroadcast', isReplyFrom(agentId))[0].t;
  assert.equal(reply.text, CHUNKS.join(''));
  assert.ok(at - t0 >= 900, `retried after ${at - t0} ms (Retry-After: 1)`);
  assert.equal(requestsFor(text).length, 2);
  assert.equal(eventsOf(s, 'messageStreamError').length, 0);
});

test('500: retried, then messageStreamError and a visible error reply; the run is an error', async () => {
  const { agentId, channelId, s } = await dmWith('err500');
  const text = `break please ${randomUUID()}`;
  send(s, channelId, text);
  const err = await waitFor(s, 'messageStreamError', (d) => d.agentId === agentId, 4000);
  assert.match(err.error, /HTTP 500: boom/);
  const reply = await waitFor(s, 'messageBroadcast', isReplyFrom(agentId), 1000);
  assert.equal(reply.id, err.messageId);
  assert.match(reply.text, /^Sorry — I could not answer: model server error \(HTTP 500: boom\)/);
  assert.equal(requestsFor(text).length, 3); // first try + max_retries
  const stored = (await channelMessages(srv, channelId)).find((m) => m.id === reply.id);
  assert.equal(stored.metadata.error, true);
  await waitFor(s, 'controlMessage', (d) => d.action === 'enable_input', 1000);
  const runs = await api.runs.listRuns(agentId);
  assert.equal(runs.runs[0].status, 'error');
});

test('a long non-ASCII error from the server, cut to a bound, still reaches the user', async () => {
  // the provider keeps 250 bytes of the message: 300 two-byte characters are cut inside one
  const { agentId, channelId, s } = await dmWith('err500long');
  send(s, channelId, `break with accents ${randomUUID()}`);
  const err = await waitFor(s, 'messageStreamError', (d) => d.agentId === agentId, 4000);
  assert.match(err.error, /HTTP 500: aé{100}/);
  const reply = await waitFor(s, 'messageBroadcast', isReplyFrom(agentId), 1000);
  assert.equal(reply.id, err.messageId);
  assert.match(reply.text, /^Sorry — I could not answer: model server error \(HTTP 500: aé{100}/);
  await waitFor(s, 'controlMessage', (d) => d.action === 'enable_input', 1000);
});

test('401: a wrong key in the character secrets says "invalid API key" at once', async () => {
  const { agentId, channelId, s } = await dmWith('ok', { settings: { secrets: { OPENAI_API_KEY: 'wrong' } } });
  const text = `let me in ${randomUUID()}`;
  send(s, channelId, text);
  const err = await waitFor(s, 'messageStreamError', (d) => d.agentId === agentId, 3000);
  assert.match(err.error, /invalid API key \(HTTP 401/);
  const reply = await waitFor(s, 'messageBroadcast', isReplyFrom(agentId), 1000);
  assert.match(reply.text, /invalid API key/);
  const [req] = requestsFor(text);
  assert.equal(req.auth, 'Bearer wrong'); // the character's secret won over the config key
  assert.equal(requestsFor(text).length, 1); // 401 is not retried
});

test('404: an unknown model is named in the error', async () => {
  const { agentId, channelId, s } = await dmWith('gpt-nonexistent');
  send(s, channelId, 'which model?');
  const err = await waitFor(s, 'messageStreamError', (d) => d.agentId === agentId, 3000);
  assert.match(err.error, /model "gpt-nonexistent" not found \(HTTP 404/);
  await waitFor(s, 'messageBroadcast', isReplyFrom(agentId), 1000);
});

test('a connection dropped mid-stream: partial text in messageStreamError, then an error reply', async () => {
  const { agentId, channelId, s } = await dmWith('drop');
  send(s, channelId, 'start and stop');
  const err = await waitFor(s, 'messageStreamError', (d) => d.agentId === agentId, 3000);
  assert.match(err.error, /mid-stream|before it finished/);
  assert.equal(err.partialText, CHUNKS.slice(0, 2).join(''));
  const chunks = eventsOf(s, 'messageStreamChunk', (d) => d.messageId === err.messageId);
  assert.deepEqual(chunks.map((c) => c.data.chunk), CHUNKS.slice(0, 2));
  const reply = await waitFor(s, 'messageBroadcast', isReplyFrom(agentId), 1000);
  assert.equal(reply.id, err.messageId);
  assert.match(reply.text, /^Sorry — I could not answer/);
});

test('a server that never answers: the reply timeout cancels the request and says so', async () => {
  const { agentId, channelId, s } = await dmWith('hang');
  const closedBefore = fake.closedEarly();
  const t0 = send(s, channelId, 'hello, anyone?');
  const err = await waitFor(s, 'messageStreamError', (d) => d.agentId === agentId, REPLY_TIMEOUT_MS + 2000);
  const at = eventsOf(s, 'messageStreamError', (d) => d.agentId === agentId)[0].t;
  assert.ok(at - t0 >= REPLY_TIMEOUT_MS - 100 && at - t0 < REPLY_TIMEOUT_MS + 1000, `${at - t0} ms`);
  assert.match(err.error, new RegExp(`did not answer within ${REPLY_TIMEOUT_MS} ms`));
  await waitFor(s, 'messageBroadcast', isReplyFrom(agentId), 1000);
  // cancelling aborted the HTTP request: the fake server saw the connection go
  const deadline = Date.now() + 2000;
  while (fake.closedEarly() === closedBefore && Date.now() < deadline) await sleep(20);
  assert.ok(fake.closedEarly() > closedBefore, 'the hung request was not aborted');
  const runs = await api.runs.listRuns(agentId);
  assert.equal(runs.runs[0].status, 'timeout');
});

test('two agents in one group channel, one slow: the fast one answers without waiting', async () => {
  const slowAgent = await startAgent(api, {
    name: `Slowpoke ${randomUUID().slice(0, 6)}`,
    bio: ['Thinks for a long time.'],
    settings: { model_provider: 'openai', model: 'slow' },
  });
  const fastAgent = await startAgent(api, { name: `Quick ${randomUUID().slice(0, 6)}`, bio: ['Instant.'] });
  const s = await connect(srv);
  sockets.push(s);
  const group = await api.messaging.createGroupChannel({
    name: 'mixed speeds',
    participantIds: [s.entityId, slowAgent, fastAgent],
  });
  await join(s, group.id);
  const t0 = send(s, group.id, 'everyone, what do you think?', { dm: false, source: 'client_group_chat' });
  await waitFor(s, 'messageBroadcast', isReplyFrom(fastAgent), 1000);
  const fastAt = eventsOf(s, 'messageBroadcast', isReplyFrom(fastAgent))[0].t;
  assert.ok(fastAt - t0 < 500, `fast agent answered after ${fastAt - t0} ms`);
  assert.equal(eventsOf(s, 'messageBroadcast', isReplyFrom(slowAgent)).length, 0);
  await waitFor(s, 'messageBroadcast', isReplyFrom(slowAgent), 4000);
  const slowAt = eventsOf(s, 'messageBroadcast', isReplyFrom(slowAgent))[0].t;
  assert.ok(slowAt - t0 >= 1400, `slow agent answered after ${slowAt - t0} ms`);
  // neither agent answered the other's reply
  await sleep(200);
  assert.equal(eventsOf(s, 'messageBroadcast', isReplyFrom(fastAgent)).length, 1);
  assert.equal(eventsOf(s, 'messageBroadcast', isReplyFrom(slowAgent)).length, 1);
});

test('a full queue answers the overflow with visible errors; the rest in order', async () => {
  const { agentId, channelId, s } = await dmWith('slow500');
  const N = 8; // 1 answering + queue_depth 3 waiting + 4 refused
  const texts = Array.from({ length: N }, (_, i) => `queued ${i} ${randomUUID().slice(0, 8)}`);
  for (const t of texts) send(s, channelId, t);
  const deadline = Date.now() + 6000;
  while (eventsOf(s, 'messageBroadcast', isReplyFrom(agentId)).length < N && Date.now() < deadline) await sleep(25);
  const replies = eventsOf(s, 'messageBroadcast', isReplyFrom(agentId)).map((e) => e.data);
  assert.equal(replies.length, N, `${replies.length} replies for ${N} messages`);
  const refused = replies.filter((r) => /too many messages are waiting/.test(r.text));
  const answered = replies.filter((r) => r.text === CHUNKS.join(''));
  assert.equal(refused.length, 4);
  assert.equal(answered.length, 4);
  const msgs = await channelMessages(srv, channelId);
  const byId = new Map(msgs.map((m) => [m.id, m]));
  const userIds = new Map(msgs.filter((m) => m.authorId === s.entityId).map((m) => [m.content, m.id]));
  // the answered ones are the first four messages, in order
  answered.forEach((r, i) => assert.equal(byId.get(r.id).inReplyToRootMessageId, userIds.get(texts[i])));
  refused.forEach((r) => assert.equal(byId.get(r.id).metadata.error, true));
});
