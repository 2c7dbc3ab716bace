// The Jobs API (COMPAT §9) through the official api-client and raw HTTP: a job is answered by
// a started agent (the 1.7.2 bug fixed: it completes), both path families, list and health,
// every validation text, the 404s, timeouts (on GET and by the sweep) and the bounded table.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ElizaClient, ApiError, JobValidation } from '@elizaos/api-client';
import { startServer, http, ZERO_UUID } from './lib/harness.mjs';

const TIMEOUT_TEXT = 'Job timed out waiting for agent response';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let srv; // with the runtime: agents answer
let quiet; // no runtime: nobody answers; a table of 10 jobs
let swept; // no runtime, a fast sweep, 1 MB for the jobs
let api;
let quietApi;
let agentId;
const userId = randomUUID();

async function createAgent(server, name, { start = true } = {}) {
  const r = await http(`${server.url}/api/agents`, {
    method: 'POST',
    body: { characterJson: { name, bio: [`${name} is here to help.`] } },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const id = r.body.data.id || r.body.data.character.id;
  if (start) {
    const s = await http(`${server.url}/api/agents/${id}/start`, { method: 'POST' });
    assert.equal(s.status, 200, JSON.stringify(s.body));
  }
  return id;
}

// GET until the job leaves "processing" (or the deadline passes); returns the last details.
async function settle(client, jobId, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    const job = await client.jobs.getJob(jobId);
    if (job.status !== 'processing' || Date.now() > end) return job;
    await sleep(25);
  }
}

async function jobChannel(client, jobId) {
  const { channels } = await client.messaging.getMessageServerChannels(ZERO_UUID);
  return channels.find((c) => c.name === `job-${jobId}`);
}

const post = (server, path, body, extra = {}) =>
  http(`${server.url}${path}`, { method: 'POST', body, ...extra });

before(async () => {
  srv = await startServer({ plugins: ['messaging', 'agents', 'runtime', 'model_eliza', 'jobs'] });
  quiet = await startServer({
    plugins: ['messaging', 'agents', 'jobs'],
    sections: 'jobs: { max_jobs = 10; };\n',
  });
  swept = await startServer({
    plugins: ['messaging', 'agents', 'jobs'],
    sections: 'jobs: { sweep_interval_ms = 100; max_memory_mb = 1; };\n',
  });
  api = new ElizaClient({ baseUrl: srv.url });
  quietApi = new ElizaClient({ baseUrl: quiet.url });
});

after(async () => {
  for (const s of [srv, quiet, swept]) {
    if (!s) continue;
    const st = await s.stop();
    assert.equal(st.code, 0, `elizad exit: ${JSON.stringify(st)}\n${s.log()}`);
  }
});

test('no agent running: 404 "No agents available on server", no job is kept', async () => {
  const body = { userId, content: 'anyone there?' };
  const r = await post(srv, '/api/messaging/jobs', body);
  assert.equal(r.status, 404);
  assert.deepEqual(r.body, { success: false, error: 'No agents available on server' });
  // a created but stopped agent is not "available" either
  await createAgent(srv, 'Sleepy', { start: false });
  const r2 = await post(srv, '/api/jobs', body);
  assert.deepEqual([r2.status, r2.body.error], [404, 'No agents available on server']);
  const health = await api.jobs.health();
  assert.equal(health.totalJobs, 0);

  agentId = await createAgent(srv, 'Ada');
});

test('POST on both path families: 201 {jobId, status, createdAt, expiresAt}; GET on both', async () => {
  for (const base of ['/api/messaging/jobs', '/api/jobs']) {
    const t0 = Date.now();
    const r = await post(srv, base, { userId, content: 'Hello there', agentId, timeoutMs: 5000 });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(Object.keys(r.body).sort(), ['createdAt', 'expiresAt', 'jobId', 'status']);
    assert.match(r.body.jobId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(r.body.status, 'processing');
    assert.ok(r.body.createdAt >= t0 - 5 && r.body.createdAt <= Date.now() + 5);
    assert.equal(r.body.expiresAt - r.body.createdAt, 5000);
    for (const other of ['/api/messaging/jobs', '/api/jobs']) {
      const g = await http(`${srv.url}${other}/${r.body.jobId}`);
      assert.equal(g.status, 200);
      assert.equal(g.body.jobId, r.body.jobId);
      assert.equal(g.body.prompt, 'Hello there');
      assert.equal(g.body.agentId, agentId);
    }
  }
  // the default timeout is 30 s
  const d = await api.jobs.create({ userId, content: 'And the default?', agentId });
  assert.equal(d.expiresAt - d.createdAt, JobValidation.DEFAULT_TIMEOUT_MS);
});

test('api-client create + getJob: completed with the agent reply stored in the job channel', async () => {
  const metadata = { source: 'e2e', ticket: 42 };
  const created = await api.jobs.create({ userId, content: 'I feel sad today', agentId, metadata });
  const job = await settle(api, created.jobId);
  assert.equal(job.status, 'completed', JSON.stringify(job));
  assert.equal(job.error, undefined);
  assert.equal(job.userId, userId);
  assert.equal(job.agentId, agentId);
  assert.equal(job.prompt, 'I feel sad today');
  assert.deepEqual(job.metadata, metadata);
  assert.equal(job.createdAt, created.createdAt);
  assert.equal(job.expiresAt, created.expiresAt);
  const { message, processingTimeMs } = job.result;
  assert.equal(message.authorId, agentId);
  assert.equal(typeof message.content, 'string');
  assert.ok(message.content.length > 0);
  assert.ok(Number.isInteger(message.createdAt) && message.createdAt >= created.createdAt);
  assert.equal(message.metadata.agentName, 'Ada');
  assert.ok(processingTimeMs >= 0 && processingTimeMs < 5000, `took ${processingTimeMs} ms`);

  // the channel: DM on the default server, agent only, job metadata merged with the client's
  const ch = await jobChannel(api, created.jobId);
  assert.ok(ch, 'no job channel');
  assert.equal(ch.type, 'DM');
  assert.equal(ch.messageServerId, ZERO_UUID);
  assert.deepEqual(ch.metadata, { jobId: created.jobId, agentId, userId, isJobChannel: true, ...metadata });
  assert.deepEqual(await api.messaging.getChannelParticipants(ch.id), [agentId]);

  // the user message and the reply, newest first; the result is the stored reply
  const { messages } = await api.messaging.getChannelMessages(ch.id, { limit: 10 });
  assert.equal(messages.length, 2);
  const [reply, ask] = messages;
  assert.equal(reply.id, message.id);
  assert.equal(reply.content, message.content);
  assert.equal(reply.sourceType, 'agent_response');
  assert.equal(ask.authorId, userId);
  assert.equal(ask.content, 'I feel sad today');
  assert.equal(ask.sourceType, 'job_request');
  assert.deepEqual(ask.rawMessage, { content: 'I feel sad today' });
  assert.deepEqual(ask.metadata, { jobId: created.jobId, isJobMessage: true, ...metadata });
});

test('jobs.ask() and createAndPoll() return the agent reply', async () => {
  const text = await api.jobs.ask(userId, 'I need a long holiday at the sea', agentId, { interval: 50 });
  assert.equal(typeof text, 'string');
  assert.ok(text.length > 0);
  const [latest] = (await api.jobs.list({ limit: 1 })).jobs;
  assert.equal(latest.prompt, 'I need a long holiday at the sea');
  assert.equal(latest.result.message.content, text);

  const polled = await api.jobs.createAndPoll({ userId, content: 'Do you dream?' }, { interval: 50 });
  assert.equal(polled.success, true);
  assert.equal(polled.job.status, 'completed');
  assert.ok(polled.job.result.message.content.length > 0);
  // no agentId (or an empty one): the first running agent
  assert.equal(polled.job.agentId, agentId);
  const empty = await post(srv, '/api/jobs', { userId, content: 'Who answers?', agentId: '' });
  assert.equal(empty.status, 201);
  assert.equal((await settle(api, empty.body.jobId)).agentId, agentId);
});

test('content at the limits: 50000 UTF-16 units accepted, astral characters count twice', async () => {
  const ok = await post(srv, '/api/jobs', { userId, agentId, content: '😀'.repeat(25000), timeoutMs: 300000 });
  assert.equal(ok.status, 201, JSON.stringify(ok.body));
  const job = await settle(api, ok.body.jobId);
  assert.equal(job.prompt, '😀'.repeat(25000));
  assert.equal(job.status, 'completed');
  const over = await post(srv, '/api/jobs', { userId, agentId, content: `${'😀'.repeat(25000)}a` });
  assert.deepEqual([over.status, over.body.error], [400, 'content exceeds maximum length of 50000 characters']);
  const meta = await post(srv, '/api/jobs', { userId, agentId, content: 'm', metadata: { a: 'x'.repeat(9992) } });
  assert.equal(meta.status, 201, 'metadata of exactly 10000 characters is accepted');
});

test('list: newest first, limit, status filter, total and filtered', async () => {
  const all = await api.jobs.list();
  assert.ok(all.total >= 8, `only ${all.total} jobs`);
  assert.equal(all.filtered, all.jobs.length);
  assert.equal(all.jobs.length, Math.min(all.total, 50));
  for (let i = 1; i < all.jobs.length; i++) assert.ok(all.jobs[i - 1].createdAt >= all.jobs[i].createdAt);

  const two = await api.jobs.list({ limit: 2 });
  assert.equal(two.jobs.length, 2);
  assert.equal(two.filtered, 2);
  assert.equal(two.total, all.total);
  assert.deepEqual(two.jobs.map((j) => j.jobId), all.jobs.slice(0, 2).map((j) => j.jobId));

  await settle(api, all.jobs[0].jobId);
  const done = await api.jobs.list({ status: 'completed' });
  assert.ok(done.filtered > 0);
  assert.ok(done.jobs.every((j) => j.status === 'completed' && j.result));
  const timedOut = await api.jobs.list({ status: 'timeout' });
  assert.deepEqual([timedOut.jobs, timedOut.filtered, timedOut.total], [[], 0, all.total]);

  // unusable values fall back as in the official server: unknown status = no filter, limit 50
  const raw = await http(`${srv.url}/api/jobs?status=bogus&limit=abc`);
  assert.equal(raw.status, 200);
  assert.equal(raw.body.filtered, Math.min(all.total, 50));
  const zero = await http(`${srv.url}/api/messaging/jobs?limit=0`);
  assert.equal(zero.body.filtered, Math.min(all.total, 50));
});

test('health: shape, counts and rates', async () => {
  const h = await api.jobs.health();
  const raw = await http(`${srv.url}/api/jobs/health`);
  assert.equal(raw.status, 200);
  assert.deepEqual(Object.keys(raw.body), ['healthy', 'timestamp', 'totalJobs', 'statusCounts', 'metrics', 'maxJobs']);
  assert.equal(h.healthy, true);
  assert.ok(Math.abs(h.timestamp - Date.now()) < 5000);
  assert.equal(h.maxJobs, 10000);
  assert.deepEqual(Object.keys(h.statusCounts), ['pending', 'processing', 'completed', 'failed', 'timeout']);
  const sum = Object.values(h.statusCounts).reduce((a, b) => a + b, 0);
  assert.equal(sum, h.totalJobs);
  assert.equal(h.totalJobs, (await api.jobs.list()).total);
  assert.ok(h.statusCounts.completed >= 6);
  assert.equal(h.statusCounts.timeout, 0);
  assert.equal(h.metrics.successRate, 1);
  assert.equal(h.metrics.failureRate, 0);
  assert.equal(h.metrics.timeoutRate, 0);
  assert.ok(Number.isInteger(h.metrics.averageProcessingTimeMs));
  assert.ok(h.metrics.averageProcessingTimeMs < 5000);
});

test('validation: every official text, status 400, style D envelope, on both paths', async () => {
  const U = randomUUID();
  const cases = [
    [undefined, 'Request body must be an object'],
    [[], 'userId is required and must be a valid UUID string'],
    [{}, 'userId is required and must be a valid UUID string'],
    [{ agentId: 5, content: 'x' }, 'agentId must be a valid UUID string'],
    [{ agentId: null, userId: U, content: 'x' }, 'agentId must be a valid UUID string'],
    [{ userId: 7, content: 'x' }, 'userId is required and must be a valid UUID string'],
    [{ userId: U }, 'content is required and must be a string'],
    [{ userId: U, content: 7 }, 'content is required and must be a string'],
    [{ userId: U, content: '' }, 'content cannot be empty'],
    [{ userId: 'bad', content: '' }, 'content cannot be empty'],
    [{ userId: U, content: 'a'.repeat(50001) }, 'content exceeds maximum length of 50000 characters'],
    [{ userId: U, content: 'x', metadata: 'x' }, 'metadata must be an object'],
    [{ userId: U, content: 'x', metadata: null }, 'metadata must be an object'],
    [{ userId: U, content: 'x', metadata: [1] }, 'metadata must be an object'],
    [{ userId: U, content: 'x', metadata: { a: 'x'.repeat(9993) } }, 'metadata exceeds maximum size of 10000 bytes'],
    [{ userId: U, content: 'x', timeoutMs: '5000' }, 'timeoutMs must be a positive number'],
    [{ userId: U, content: 'x', timeoutMs: null }, 'timeoutMs must be a positive number'],
    [{ userId: U, content: 'x', timeoutMs: -1 }, 'timeoutMs must be a positive number'],
    [{ userId: U, content: 'x', timeoutMs: 999 }, 'timeoutMs must be at least 1000ms'],
    [{ userId: U, content: 'x', timeoutMs: 300001 }, 'timeoutMs cannot exceed 300000ms'],
    [{ userId: 'not-a-uuid', content: 'x' }, 'Invalid userId format (must be valid UUID)'],
    [{ userId: U, content: 'x', agentId: 'nope' }, 'Invalid agentId format (must be valid UUID)'],
  ];
  const before = (await api.jobs.health()).totalJobs;
  for (const [body, error] of cases) {
    for (const base of ['/api/messaging/jobs', '/api/jobs']) {
      const r = await post(srv, base, body);
      assert.equal(r.status, 400, `${base} ${JSON.stringify(body)?.slice(0, 80)}: ${JSON.stringify(r.body)}`);
      assert.deepEqual(r.body, { success: false, error }, JSON.stringify(body)?.slice(0, 80));
    }
  }
  assert.equal((await api.jobs.health()).totalJobs, before, 'a rejected request created a job');
  // the client surfaces the plain-string error as an ApiError with the status
  await assert.rejects(api.jobs.create({ userId: U, content: '' }), (e) => e instanceof ApiError && e.status === 400);
  // malformed JSON is refused before the handler
  const bad = await post(srv, '/api/jobs', '{"userId":', { raw: true, headers: { 'Content-Type': 'application/json' } });
  assert.equal(bad.status, 400);
});

test('404s: unknown job, unknown agent, stopped agent', async () => {
  for (const base of ['/api/messaging/jobs', '/api/jobs']) {
    for (const id of [randomUUID(), 'not-even-a-uuid']) {
      const r = await http(`${srv.url}${base}/${id}`);
      assert.equal(r.status, 404);
      assert.deepEqual(r.body, { success: false, error: 'Job not found' });
    }
  }
  await assert.rejects(api.jobs.getJob(randomUUID()), (e) => e instanceof ApiError && e.status === 404);

  const ghost = randomUUID();
  const r = await post(srv, '/api/messaging/jobs', { userId, content: 'hi', agentId: ghost });
  assert.equal(r.status, 404);
  assert.deepEqual(r.body, { success: false, error: `Agent ${ghost} not found` });

  const stopped = await createAgent(srv, 'Bob');
  const stop = await http(`${srv.url}/api/agents/${stopped}/stop`, { method: 'POST' });
  assert.equal(stop.status, 200);
  const s = await post(srv, '/api/jobs', { userId, content: 'hi', agentId: stopped });
  assert.deepEqual([s.status, s.body], [404, { success: false, error: `Agent ${stopped} not found` }]);
});

test('an agent that never answers: timeout with the official error, seen on GET and by createAndPoll()', async () => {
  const none = await post(quiet, '/api/messaging/jobs', { userId, content: 'hello?' });
  assert.deepEqual([none.status, none.body.error], [404, 'No agents available on server']);
  const mute = await createAgent(quiet, 'Mute'); // started, but this server has no runtime
  const created = await quietApi.jobs.create({ userId, content: 'hello?', agentId: mute, timeoutMs: 1000 });
  assert.equal(created.status, 'processing');
  const early = await quietApi.jobs.getJob(created.jobId);
  assert.equal(early.status, 'processing');
  assert.equal(early.error, undefined);
  await sleep(1100);
  const job = await quietApi.jobs.getJob(created.jobId);
  assert.equal(job.status, 'timeout');
  assert.equal(job.error, TIMEOUT_TEXT);
  assert.equal(job.result, undefined);
  // the prompt was stored all the same
  const ch = await jobChannel(quietApi, created.jobId);
  const { messages } = await quietApi.messaging.getChannelMessages(ch.id);
  assert.deepEqual(messages.map((m) => m.content), ['hello?']);

  // the client's poll loop stops on it and reports the server's reason
  const polled = await quietApi.jobs.createAndPoll(
    { userId, content: 'still there?', agentId: mute, timeoutMs: 1000 },
    { interval: 200, maxAttempts: 20 },
  );
  assert.equal(polled.success, false);
  assert.equal(polled.job.status, 'timeout');
  assert.equal(polled.job.error, TIMEOUT_TEXT);
  assert.ok(polled.timeMs >= 900 && polled.timeMs < 3000, `polled for ${polled.timeMs} ms`);
  const h = await quietApi.jobs.health();
  assert.equal(h.statusCounts.timeout, 2);
  assert.deepEqual(h.metrics, { averageProcessingTimeMs: 0, successRate: 0, failureRate: 0, timeoutRate: 1 });
  assert.equal(h.maxJobs, 10);
});

test('the table is bounded: a full table drops its oldest tenth', async () => {
  const ids = [];
  for (let i = 0; i < 12; i++) {
    const r = await post(quiet, '/api/jobs', { userId, content: `job ${i}`, timeoutMs: 300000 });
    assert.equal(r.status, 201);
    ids.push(r.body.jobId);
  }
  const list = await quietApi.jobs.list({ limit: 100 });
  assert.equal(list.total, 10);
  assert.deepEqual(list.jobs.map((j) => j.jobId), ids.slice(2).reverse());
  for (const id of ids.slice(0, 2)) assert.equal((await http(`${quiet.url}/api/jobs/${id}`)).status, 404);
  assert.equal((await quietApi.jobs.health()).totalJobs, 10);
});

test('replies stored by /submit complete the job (the 1.7.2 bug): the agent only, after an action', async () => {
  const mute = (await quietApi.jobs.list({ limit: 1 })).jobs[0].agentId;
  const submit = (channel_id, author_id, content, extra = {}) =>
    post(quiet, '/api/messaging/submit', {
      channel_id,
      message_server_id: ZERO_UUID,
      author_id,
      content,
      source_type: 'agent_response',
      raw_message: { text: content },
      ...extra,
    });
  const job = await quietApi.jobs.create({ userId, content: 'look it up', agentId: mute, timeoutMs: 60000 });
  const ch = await jobChannel(quietApi, job.jobId);
  const state = async () => quietApi.jobs.getJob(job.jobId);

  assert.equal((await submit(ch.id, randomUUID(), 'not the agent')).status, 201);
  assert.equal((await submit(ch.id, mute, 'Executing action: SEARCH')).status, 201);
  await sleep(100);
  assert.equal((await state()).status, 'processing', 'a stranger or an action message completed the job');

  const answerId = randomUUID();
  assert.equal((await submit(ch.id, mute, 'Here is what I found', { messageId: answerId })).status, 201);
  await sleep(100);
  const done = await state();
  assert.equal(done.status, 'completed');
  assert.equal(done.result.message.id, answerId);
  assert.equal(done.result.message.content, 'Here is what I found');
  assert.equal(done.result.message.authorId, mute);
  // later messages change nothing
  await submit(ch.id, mute, 'one more thing');
  await sleep(100);
  assert.deepEqual((await state()).result, done.result);

  // an error reply from the runtime fails the job instead of passing as the answer
  const bad = await quietApi.jobs.create({ userId, content: 'break', agentId: mute, timeoutMs: 60000 });
  const badCh = await jobChannel(quietApi, bad.jobId);
  await submit(badCh.id, mute, 'Sorry — I could not answer: boom', { metadata: { error: true } });
  await sleep(100);
  const failed = await quietApi.jobs.getJob(bad.jobId);
  assert.equal(failed.status, 'failed');
  assert.equal(failed.error, 'Sorry — I could not answer: boom');
  assert.equal(failed.result, undefined);
  const h = await quietApi.jobs.health();
  assert.ok(h.metrics.failureRate > 0 && h.metrics.successRate > 0, JSON.stringify(h.metrics));
});

test('the sweep times out late jobs unasked, then forgets finished ones past their deadline', async () => {
  const agent = await createAgent(swept, 'Silent');
  const a = await post(swept, '/api/messaging/jobs', { userId, content: 'one', agentId: agent, timeoutMs: 1000 });
  const b = await post(swept, '/api/messaging/jobs', { userId, content: 'two', agentId: agent, timeoutMs: 60000 });
  assert.deepEqual([a.status, b.status], [201, 201]);
  await sleep(1500); // no request in between: only the sweep (every 100 ms) can act
  assert.equal((await http(`${swept.url}/api/jobs/${a.body.jobId}`)).status, 404);
  const h = await http(`${swept.url}/api/jobs/health`);
  assert.equal(h.body.totalJobs, 1);
  assert.equal(h.body.statusCounts.processing, 1);
  assert.equal(h.body.metrics.timeoutRate, 1, 'the sweep did not count the timeout');
  const still = await http(`${swept.url}/api/jobs/${b.body.jobId}`);
  assert.equal(still.body.status, 'processing');
});

test('the memory budget bounds the table too: big prompts push the oldest jobs out', async () => {
  const agent = (await http(`${swept.url}/api/jobs?limit=1`)).body.jobs[0].agentId;
  const ids = [];
  for (let i = 0; i < 30; i++) {
    // 50 000 characters of 3-byte UTF-8: 150 kB held per job, 1 MB allowed
    const r = await post(swept, '/api/jobs', { userId, agentId: agent, content: '€'.repeat(50000), timeoutMs: 300000 });
    assert.equal(r.status, 201);
    ids.push(r.body.jobId);
  }
  const list = (await http(`${swept.url}/api/jobs?limit=100`)).body;
  assert.ok(list.total >= 5 && list.total <= 7, `${list.total} jobs of 150 kB kept in 1 MB`);
  assert.deepEqual(list.jobs.map((j) => j.jobId), ids.slice(-list.total).reverse());
  assert.equal((await http(`${swept.url}/api/jobs/${ids[0]}`)).status, 404);
});
