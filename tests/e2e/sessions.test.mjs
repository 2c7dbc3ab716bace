// The Sessions API (COMPAT §8, §3.11, §1.3 style C, §16) against a real elizad with a started
// agent on the built-in eliza model: creation and its validation, timeout clamping (request,
// agent settings, SESSION_* env limits), session info, list, health, sending messages on every
// transport (api-client and raw HTTP), the agent's reply, history paging, renew, heartbeat,
// PATCH timeout, delete, and the plugin's `sessionRenewed` socket event. Expiry needs a real
// minute and only runs with ELIZAD_E2E_SLOW=1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startServer, http, ZERO_UUID } from './lib/harness.mjs';
import { client, startAgent, connect, join, waitFor, eventsOf, isReplyFrom, sleep } from './fixtures/runtime_kit.mjs';

// The server limits come from SESSION_* variables (COMPAT §8.1): the defaults below assume none
// leaks in from the environment running the tests.
for (const k of Object.keys(process.env)) if (k.startsWith('SESSION_')) delete process.env[k];

const PLUGINS = ['messaging', 'agents', 'runtime', 'model_eliza', 'sessions'];
const M = '/api/messaging';
const S = `${M}/sessions`;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MIN = 60_000;
const DEFAULTS = { timeoutMinutes: 30, autoRenew: true, maxDurationMinutes: 720, warningThresholdMinutes: 5 };
const CREATE_KEYS = ['agentId', 'channelId', 'createdAt', 'expiresAt', 'metadata', 'sessionId', 'timeoutConfig', 'userId'];
const INFO_KEYS = [
  'agentId',
  'channelId',
  'createdAt',
  'expiresAt',
  'isNearExpiration',
  'lastActivity',
  'metadata',
  'renewalCount',
  'sessionId',
  'timeRemaining',
  'timeoutConfig',
  'userId',
];
const ITEM_KEYS = ['authorId', 'content', 'createdAt', 'id', 'isAgent', 'metadata'];
const SLOW = !!process.env.ELIZAD_E2E_SLOW;

let srv;
let api;
let agentId;
const sockets = [];

before(async () => {
  srv = await startServer({ plugins: PLUGINS });
  api = client(srv);
  agentId = await startAgent(api, {
    name: 'Session Agent',
    bio: ['Session Agent talks to people in timed sessions.'],
    system: 'You are Session Agent.',
  });
});

after(async () => {
  for (const s of sockets) s.close();
  if (srv) {
    const st = await srv.stop();
    assert.equal(st.code, 0, `elizad exit: ${JSON.stringify(st)}\n${srv.log()}`);
  }
});

// ---------------------------------------------------------------------------------------------
// helpers

const ms = (iso) => Date.parse(iso);
const post = (path, body, base = srv) => http(base.url + path, { method: 'POST', body });
const get = (path, base = srv) => http(base.url + path);
const patch = (path, body, base = srv) => http(base.url + path, { method: 'PATCH', body });
const del = (path, base = srv) => http(base.url + path, { method: 'DELETE' });
const sorted = (o) => Object.keys(o).sort();

// Style C error (COMPAT §1.3, §8.2): {error:{code, message, timestamp, details?, stack?}} only.
function assertStyleC(r, status, code, message) {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.match(r.headers.get('content-type') || '', /application\/json/);
  assert.ok(r.body && typeof r.body === 'object', `not JSON: ${r.body}`);
  assert.deepEqual(Object.keys(r.body), ['error'], JSON.stringify(r.body));
  const e = r.body.error;
  assert.equal(e.code, code, JSON.stringify(e));
  if (message instanceof RegExp) assert.match(e.message, message);
  else if (message !== undefined) assert.equal(e.message, message);
  assert.match(e.timestamp, ISO);
  assert.ok(Math.abs(ms(e.timestamp) - Date.now()) < 60_000, e.timestamp);
  for (const k of Object.keys(e)) assert.ok(['code', 'message', 'timestamp', 'details', 'stack'].includes(k), k);
  return e;
}

async function createRaw(body, base = srv) {
  const t0 = Date.now();
  const r = await post(S, body, base);
  const t1 = Date.now();
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal('success' in r.body, false, 'style C success has no envelope');
  r.body.t0 = t0;
  r.body.t1 = t1;
  return r.body;
}

// A new session with the shared agent and a fresh user; `extra` joins the request body.
async function newSession(extra = {}, base = srv, agent = agentId) {
  const body = await createRaw({ agentId: agent, userId: randomUUID(), ...extra }, base);
  const { t0, t1, ...session } = body;
  return Object.assign(session, { _t0: t0, _t1: t1 });
}

async function info(sessionId, base = srv) {
  const t0 = Date.now();
  const r = await get(`${S}/${sessionId}`, base);
  const t1 = Date.now();
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assertInfo(r.body, t0, t1);
  return r.body;
}

// SessionInfo (COMPAT §8.2): exact keys, ISO dates, timeRemaining / isNearExpiration consistent
// with expiresAt and the warning threshold at the time of the request.
function assertInfo(b, t0, t1) {
  assert.deepEqual(sorted(b), INFO_KEYS, JSON.stringify(b));
  assert.match(b.sessionId, /.+/);
  assert.match(b.channelId, UUID);
  assert.match(b.agentId, UUID);
  assert.match(b.userId, UUID);
  assert.match(b.createdAt, ISO);
  assert.match(b.lastActivity, ISO);
  assert.match(b.expiresAt, ISO);
  assert.ok(ms(b.lastActivity) >= ms(b.createdAt), 'lastActivity >= createdAt');
  assert.equal(typeof b.metadata, 'object');
  assert.deepEqual(sorted(b.timeoutConfig), sorted(DEFAULTS));
  assert.ok(Number.isInteger(b.renewalCount) && b.renewalCount >= 0, String(b.renewalCount));
  assert.equal(typeof b.timeRemaining, 'number');
  assert.equal(typeof b.isNearExpiration, 'boolean');
  if (t0 !== undefined) {
    const exp = ms(b.expiresAt);
    const lo = Math.max(0, exp - t1 - 50);
    const hi = Math.max(0, exp - t0 + 50);
    assert.ok(b.timeRemaining >= lo && b.timeRemaining <= hi, `timeRemaining ${b.timeRemaining} not in [${lo}, ${hi}]`);
    const warn = b.timeoutConfig.warningThresholdMinutes * MIN;
    assert.equal(b.isNearExpiration, b.timeRemaining > 0 && b.timeRemaining <= warn);
  }
}

async function send(sessionId, body, base = srv) {
  const r = await post(`${S}/${sessionId}/messages`, body, base);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

async function messages(sessionId, query = '', base = srv) {
  const r = await get(`${S}/${sessionId}/messages${query}`, base);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(Object.keys(r.body).filter((k) => k !== 'cursors').sort(), ['hasMore', 'messages']);
  assert.equal(typeof r.body.hasMore, 'boolean');
  for (const m of r.body.messages) {
    assert.deepEqual(sorted(m), ITEM_KEYS, JSON.stringify(m));
    assert.match(m.id, UUID);
    assert.equal(typeof m.content, 'string');
    assert.match(m.authorId, UUID);
    assert.equal(typeof m.isAgent, 'boolean');
    assert.match(m.createdAt, ISO);
    assert.equal(typeof m.metadata, 'object');
  }
  // newest first
  const times = r.body.messages.map((m) => ms(m.createdAt));
  for (let i = 1; i < times.length; i++) assert.ok(times[i - 1] >= times[i], `not newest first: ${times}`);
  if (r.body.messages.length) {
    assert.deepEqual(r.body.cursors, { before: times[times.length - 1], after: times[0] });
  } else {
    assert.equal(r.body.cursors, undefined);
  }
  return r.body;
}

// Polls the session history until `n` agent replies are stored (bounded wait).
async function waitForReplies(sessionId, n = 1, timeout = 5000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const page = await messages(sessionId, '?limit=100');
    if (page.messages.filter((m) => m.isAgent).length >= n) return page.messages;
    if (Date.now() > deadline) {
      throw new Error(`no ${n} agent replies within ${timeout} ms: ${JSON.stringify(page.messages)}`);
    }
    await sleep(50);
  }
}

async function channelDetails(channelId) {
  const r = await get(`${M}/channels/${channelId}/details`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.success, true);
  return r.body.data;
}

async function channelMessages(channelId) {
  const r = await get(`${M}/channels/${channelId}/messages?limit=200`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.data.messages;
}

// The events of an SSE body: [{event, data}].
function parseSse(text) {
  return text
    .split('\n\n')
    .filter((block) => block.trim())
    .map((block) => {
      const ev = {};
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) ev.event = line.slice(6).trim();
        else if (line.startsWith('data:')) ev.data = (ev.data ?? '') + line.slice(5).trim();
      }
      if (ev.data !== undefined) ev.data = JSON.parse(ev.data);
      return ev;
    });
}

// ---------------------------------------------------------------------------------------------
// create

test('create: 201 with the bare session and a fresh DM channel owned by it', async () => {
  const userId = randomUUID();
  const metadata = { topic: 'tea', nested: { cups: 2, kinds: ['green', 'black'] } };
  const b = await createRaw({ agentId, userId, metadata });
  const { t0, t1 } = b;
  delete b.t0;
  delete b.t1;
  assert.deepEqual(sorted(b), CREATE_KEYS, JSON.stringify(b));
  assert.match(b.sessionId, UUID);
  assert.match(b.channelId, UUID);
  assert.notEqual(b.channelId, b.sessionId);
  assert.equal(b.agentId, agentId);
  assert.equal(b.userId, userId);
  assert.deepEqual(b.metadata, metadata);
  assert.match(b.createdAt, ISO);
  assert.match(b.expiresAt, ISO);
  assert.ok(ms(b.createdAt) >= t0 - 5 && ms(b.createdAt) <= t1 + 5, b.createdAt);
  assert.deepEqual(b.timeoutConfig, DEFAULTS);
  // autoRenew: expiresAt = lastActivity (= createdAt) + timeout
  assert.equal(ms(b.expiresAt) - ms(b.createdAt), 30 * MIN);

  // the session's channel: a central DM on the current server, named after the session, with
  // the session facts and the request metadata, the agent its only participant
  const ch = await channelDetails(b.channelId);
  assert.equal(ch.id, b.channelId);
  assert.equal(ch.name, `session-${b.sessionId}`);
  assert.equal(ch.type, 'DM');
  assert.equal(ch.messageServerId, ZERO_UUID);
  assert.equal(ch.metadata.sessionId, b.sessionId);
  assert.equal(ch.metadata.agentId, agentId);
  assert.equal(ch.metadata.userId, userId);
  assert.deepEqual(ch.metadata.timeoutConfig, DEFAULTS);
  assert.equal(ch.metadata.topic, 'tea');
  assert.deepEqual(ch.metadata.nested, metadata.nested);
  const parts = await get(`${M}/channels/${b.channelId}/participants`);
  assert.equal(parts.status, 200);
  assert.deepEqual(parts.body.data, [agentId]);

  // through api-client: the whole body (no `success` key), metadata {} when none was given;
  // every session gets its own id and channel, even for the same agent and user
  const c = await api.sessions.createSession({ agentId, userId });
  assert.deepEqual(sorted(c), CREATE_KEYS);
  assert.deepEqual(c.metadata, {});
  assert.deepEqual(c.timeoutConfig, DEFAULTS);
  assert.notEqual(c.sessionId, b.sessionId);
  assert.notEqual(c.channelId, b.channelId);
  assert.equal((await channelDetails(c.channelId)).name, `session-${c.sessionId}`);

  // any UUID version is a valid user id (COMPAT §1.6)
  const v1 = 'c232ab00-9414-11ec-b3c8-9e6bdeced846';
  const d = await createRaw({ agentId, userId: v1 });
  assert.equal(d.userId, v1);
});

test('create: missing fields, bad UUIDs, unknown or stopped agent, metadata too large', async () => {
  let e = assertStyleC(await post(S, {}), 400, 'VALIDATION_ERROR', 'Missing required fields: agentId, userId');
  assert.deepEqual(e.details.missingFields, ['agentId', 'userId']);

  e = assertStyleC(await post(S, { agentId }), 400, 'VALIDATION_ERROR', /^Missing required fields: .*userId/);
  assert.ok(e.details.missingFields.includes('userId'), JSON.stringify(e.details));
  e = assertStyleC(await post(S, { userId: randomUUID() }), 400, 'VALIDATION_ERROR', /^Missing required fields: agentId/);
  assert.ok(e.details.missingFields.includes('agentId'), JSON.stringify(e.details));

  e = assertStyleC(
    await post(S, { agentId: 'not-a-uuid', userId: randomUUID() }),
    400,
    'VALIDATION_ERROR',
    "Invalid UUID format for field 'agentId'",
  );
  assert.deepEqual(e.details, { providedValue: 'not-a-uuid', expectedFormat: 'UUID v4' });
  e = assertStyleC(
    await post(S, { agentId, userId: '1234' }),
    400,
    'VALIDATION_ERROR',
    "Invalid UUID format for field 'userId'",
  );
  assert.deepEqual(e.details, { providedValue: '1234', expectedFormat: 'UUID v4' });

  // agent unknown, or known but not started
  assertStyleC(await post(S, { agentId: randomUUID(), userId: randomUUID() }), 404, 'AGENT_NOT_FOUND');
  const idle = await api.agents.createAgent({ characterJson: { name: 'Idle Session Agent', bio: ['Never started.'] } });
  const idleId = idle.id || idle.character.id;
  assertStyleC(await post(S, { agentId: idleId, userId: randomUUID() }), 404, 'AGENT_NOT_FOUND');

  // metadata: at most 10 240 characters of JSON
  const fits = { b: 'x'.repeat(10240 - 8) };
  assert.equal(JSON.stringify(fits).length, 10240);
  const ok = await createRaw({ agentId, userId: randomUUID(), metadata: fits });
  assert.equal(ok.metadata.b.length, 10232);
  const big = { b: 'x'.repeat(10240 - 7) };
  assertStyleC(await post(S, { agentId, userId: randomUUID(), metadata: big }), 400, 'VALIDATION_ERROR', /metadata/i);

  // api-client surfaces the code and status
  await assert.rejects(api.sessions.createSession({ agentId: 'nope', userId: randomUUID() }), (err) => {
    assert.equal(err.name, 'ApiError');
    assert.equal(err.code, 'VALIDATION_ERROR');
    assert.equal(err.status, 400);
    return true;
  });
  await assert.rejects(api.sessions.createSession({ agentId: idleId, userId: randomUUID() }), (err) => {
    assert.equal(err.code, 'AGENT_NOT_FOUND');
    assert.equal(err.status, 404);
    return true;
  });
});

test('create: timeoutConfig is merged onto the defaults and clamped (COMPAT §8.1)', async () => {
  const cases = [
    // the observed example
    [
      { timeoutMinutes: 2, maxDurationMinutes: 3, warningThresholdMinutes: 10 },
      { timeoutMinutes: 5, autoRenew: true, maxDurationMinutes: 5, warningThresholdMinutes: 10 },
    ],
    [{ timeoutMinutes: 5000, maxDurationMinutes: 100000 }, { ...DEFAULTS, timeoutMinutes: 1440, maxDurationMinutes: 2880 }],
    [{ timeoutMinutes: 100, maxDurationMinutes: 50 }, { ...DEFAULTS, timeoutMinutes: 100, maxDurationMinutes: 100 }],
    [
      { timeoutMinutes: '10', maxDurationMinutes: '100', warningThresholdMinutes: '2' },
      { timeoutMinutes: 10, autoRenew: true, maxDurationMinutes: 100, warningThresholdMinutes: 2 },
    ],
    [{ timeoutMinutes: 'abc' }, DEFAULTS],
    [{ warningThresholdMinutes: 0 }, { ...DEFAULTS, warningThresholdMinutes: 1 }],
    [{ autoRenew: false, timeoutMinutes: 60 }, { ...DEFAULTS, autoRenew: false, timeoutMinutes: 60 }],
    [{}, DEFAULTS],
  ];
  for (const [timeoutConfig, expected] of cases) {
    const s = await newSession({ timeoutConfig });
    const what = JSON.stringify(timeoutConfig);
    assert.deepEqual(s.timeoutConfig, expected, what);
    assert.equal(ms(s.expiresAt) - ms(s.createdAt), expected.timeoutMinutes * MIN, what);
    const i = await info(s.sessionId);
    assert.deepEqual(i.timeoutConfig, expected, what);
    assert.equal(i.expiresAt, s.expiresAt, what);
    assert.deepEqual((await channelDetails(s.channelId)).metadata.timeoutConfig, expected, what);
  }
  // the example expires in 5 minutes, inside its 10-minute warning threshold
  const near = await newSession({ timeoutConfig: cases[0][0] });
  const i = await info(near.sessionId);
  assert.equal(i.isNearExpiration, true);
  assert.ok(i.timeRemaining > 4 * MIN && i.timeRemaining <= 5 * MIN, String(i.timeRemaining));
});

test("create: the agent's SESSION_* settings replace the defaults; the request and PATCH merge onto them", async () => {
  const configured = await startAgent(api, {
    name: 'Configured Session Agent',
    bio: ['Has its own session limits.'],
    settings: {
      SESSION_TIMEOUT_MINUTES: '15',
      SESSION_AUTO_RENEW: 'false',
      SESSION_MAX_DURATION_MINUTES: '100',
      SESSION_WARNING_THRESHOLD_MINUTES: '3',
    },
  });
  const agentCfg = { timeoutMinutes: 15, autoRenew: false, maxDurationMinutes: 100, warningThresholdMinutes: 3 };
  const s = await newSession({}, srv, configured);
  assert.deepEqual(s.timeoutConfig, agentCfg);
  // no auto-renew: expiresAt = createdAt + timeout
  assert.equal(ms(s.expiresAt) - ms(s.createdAt), 15 * MIN);

  const t = await newSession({ timeoutConfig: { autoRenew: true, timeoutMinutes: 20 } }, srv, configured);
  assert.deepEqual(t.timeoutConfig, { ...agentCfg, autoRenew: true, timeoutMinutes: 20 });

  // PATCH merges onto the agent's config, so the omitted autoRenew stays the agent's false
  const p = await patch(`${S}/${s.sessionId}/timeout`, { timeoutMinutes: 25 });
  assert.equal(p.status, 200, JSON.stringify(p.body));
  assert.deepEqual(p.body.timeoutConfig, { ...agentCfg, timeoutMinutes: 25 });
  assert.equal(ms(p.body.expiresAt) - ms(p.body.createdAt), 25 * MIN);

  // without auto-renew a heartbeat or a message only touches lastActivity; explicit renew works
  await sleep(15);
  const hb = await post(`${S}/${s.sessionId}/heartbeat`);
  assert.equal(hb.status, 200, JSON.stringify(hb.body));
  assert.equal(hb.body.renewalCount, 0);
  assert.ok(ms(hb.body.lastActivity) > ms(hb.body.createdAt));
  assert.equal(hb.body.expiresAt, p.body.expiresAt);
  const sent = await send(s.sessionId, { content: 'hello there' });
  assert.equal(sent.sessionStatus.wasRenewed, false);
  assert.equal(sent.sessionStatus.renewalCount, 0);
  assert.equal(sent.sessionStatus.expiresAt, p.body.expiresAt);
  const rn = await post(`${S}/${s.sessionId}/renew`);
  assert.equal(rn.status, 200, JSON.stringify(rn.body));
  assert.equal(rn.body.renewalCount, 1);
  assert.deepEqual(rn.body.timeoutConfig, { ...agentCfg, timeoutMinutes: 25 }, 'renew keeps autoRenew false');
  await waitForReplies(s.sessionId, 1);
});

// ---------------------------------------------------------------------------------------------
// read

test('GET a session: SessionInfo; unknown ids answer 404 SESSION_NOT_FOUND', async () => {
  const s = await newSession({ metadata: { plan: 'gold' } });
  const i = await info(s.sessionId);
  assert.equal(i.sessionId, s.sessionId);
  assert.equal(i.channelId, s.channelId);
  assert.equal(i.agentId, agentId);
  assert.equal(i.userId, s.userId);
  assert.equal(i.createdAt, s.createdAt);
  assert.equal(i.lastActivity, s.createdAt);
  assert.equal(i.expiresAt, s.expiresAt);
  assert.deepEqual(i.metadata, { plan: 'gold' });
  assert.deepEqual(i.timeoutConfig, DEFAULTS);
  assert.equal(i.renewalCount, 0);
  assert.equal(i.isNearExpiration, false);
  assert.ok(i.timeRemaining > 29 * MIN && i.timeRemaining <= 30 * MIN, String(i.timeRemaining));

  // api-client returns the bare object
  const c = await api.sessions.getSession(s.sessionId);
  assert.deepEqual(sorted(c), INFO_KEYS);
  assert.equal(c.sessionId, s.sessionId);
  assert.equal(c.expiresAt, s.expiresAt);

  // ids are not UUID-validated: any unknown id is simply not found
  assertStyleC(await get(`${S}/nope`), 404, 'SESSION_NOT_FOUND', "Session with ID 'nope' not found");
  const unknown = randomUUID();
  assertStyleC(await get(`${S}/${unknown}`), 404, 'SESSION_NOT_FOUND', `Session with ID '${unknown}' not found`);
  await assert.rejects(api.sessions.getSession('nope'), (err) => {
    assert.equal(err.code, 'SESSION_NOT_FOUND');
    assert.equal(err.status, 404);
    assert.equal(err.message, "Session with ID 'nope' not found");
    return true;
  });
});

test('list and health count the live sessions', async () => {
  const a = await newSession();
  const b = await newSession({ timeoutConfig: { timeoutMinutes: 2, warningThresholdMinutes: 10 } }); // near expiry

  const r = await get(S);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(sorted(r.body), ['sessions', 'stats', 'total']);
  const { sessions, total, stats } = r.body;
  assert.ok(Array.isArray(sessions));
  assert.equal(total, sessions.length);
  assert.deepEqual(sorted(stats), ['activeSessions', 'expiredSessions', 'totalSessions']);
  assert.equal(stats.activeSessions, total);
  assert.equal(stats.expiredSessions, stats.totalSessions - stats.activeSessions);
  assert.ok(stats.totalSessions >= total);
  for (const s of sessions) assertInfo(s);
  const la = sessions.find((s) => s.sessionId === a.sessionId);
  const lb = sessions.find((s) => s.sessionId === b.sessionId);
  assert.ok(la && lb, 'both new sessions listed');
  assert.equal(la.channelId, a.channelId);
  assert.equal(la.isNearExpiration, false);
  assert.equal(lb.isNearExpiration, true);
  assert.equal(new Set(sessions.map((s) => s.sessionId)).size, sessions.length, 'no duplicates');

  const listed = await api.sessions.listSessions();
  assert.ok(listed.sessions.some((s) => s.sessionId === a.sessionId));

  const h = await get(`${S}/health`);
  assert.equal(h.status, 200, JSON.stringify(h.body));
  for (const k of Object.keys(h.body)) {
    assert.ok(['status', 'activeSessions', 'timestamp', 'expiringSoon', 'invalidSessions', 'uptime'].includes(k), k);
  }
  assert.equal(h.body.status, 'healthy');
  assert.equal(h.body.activeSessions, total);
  assert.match(h.body.timestamp, ISO);
  assert.ok(Number.isInteger(h.body.expiringSoon));
  assert.ok(h.body.expiringSoon >= 1, 'the near-expiry session counts');
  assert.ok(h.body.expiringSoon <= sessions.filter((s) => s.isNearExpiration).length);
  assert.equal(typeof h.body.uptime, 'number');
  assert.ok(h.body.uptime >= 0);
  const hc = await api.sessions.checkHealth();
  assert.equal(hc.status, 'healthy');
  assert.equal(hc.activeSessions, total);

  // one more session: one more in both
  await newSession();
  assert.equal((await get(S)).body.total, total + 1);
  assert.equal((await get(`${S}/health`)).body.activeSessions, total + 1);
});

// ---------------------------------------------------------------------------------------------
// send

test('send by api-client: undefined (no data key); stored, renewed and answered by the agent', async () => {
  const s = await newSession({ metadata: { plan: 'basic' } });
  await sleep(10);
  const result = await api.sessions.sendMessage(s.sessionId, { content: 'I am worried about my exams' });
  assert.equal(result, undefined);

  const i = await info(s.sessionId);
  assert.equal(i.renewalCount, 1);
  assert.ok(ms(i.lastActivity) > ms(i.createdAt));
  assert.equal(ms(i.expiresAt) - ms(i.lastActivity), 30 * MIN);

  const msgs = await waitForReplies(s.sessionId, 1);
  assert.equal(msgs.length, 2, JSON.stringify(msgs));
  const [reply, mine] = msgs;
  assert.equal(mine.content, 'I am worried about my exams');
  assert.equal(mine.authorId, s.userId);
  assert.equal(mine.isAgent, false);
  assert.equal(mine.metadata.sessionId, s.sessionId);
  assert.equal(mine.metadata.plan, 'basic');
  assert.equal(reply.isAgent, true);
  assert.equal(reply.authorId, agentId);
  assert.ok(reply.content.length > 0);
  assert.deepEqual(reply.metadata.actions, ['REPLY']);
  assert.ok(ms(reply.createdAt) >= ms(mine.createdAt));

  // the central messages behind them
  const central = await channelMessages(s.channelId);
  const cu = central.find((m) => m.id === mine.id);
  assert.equal(cu.authorId, s.userId);
  assert.equal(cu.sourceType, 'user');
  assert.deepEqual(cu.rawMessage, { content: 'I am worried about my exams' });
  assert.equal(cu.metadata.sessionId, s.sessionId);
  assert.equal(cu.metadata.agentId, agentId);
  assert.equal(cu.metadata.userId, s.userId);
  const cr = central.find((m) => m.id === reply.id);
  assert.equal(cr.sourceType, 'agent_response');
  assert.equal(cr.inReplyToRootMessageId, mine.id);
});

test('send by fetch: 201 {success, userMessage, sessionStatus}', async () => {
  const s = await newSession({ metadata: { plan: 'basic', tier: 1 } });
  const attachments = [{ type: 'image', url: 'https://example.com/cat.png', name: 'cat.png' }];
  await sleep(10);
  const t0 = Date.now();
  const r = await post(`${S}/${s.sessionId}/messages`, {
    content: 'Look at my cat',
    attachments,
    metadata: { tier: 2, mood: 'happy' },
  });
  const t1 = Date.now();
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.deepEqual(sorted(r.body), ['sessionStatus', 'success', 'userMessage']);
  assert.equal(r.body.success, true);

  const u = r.body.userMessage;
  for (const k of ['id', 'channel_id', 'message_server_id', 'author_id', 'content', 'created_at', 'source_type', 'raw_message', 'metadata']) {
    assert.ok(k in u, `userMessage.${k} missing: ${JSON.stringify(u)}`);
  }
  assert.match(u.id, UUID);
  assert.equal(u.channel_id, s.channelId);
  assert.equal(u.message_server_id, ZERO_UUID);
  assert.equal(u.author_id, s.userId);
  assert.equal(u.content, 'Look at my cat');
  assert.equal(typeof u.created_at, 'number');
  assert.ok(u.created_at >= t0 - 5 && u.created_at <= t1 + 5);
  assert.equal(u.source_type, 'user');
  assert.deepEqual(u.raw_message, { content: 'Look at my cat', attachments });
  // channel metadata + sessionId + request metadata (the request wins)
  assert.equal(u.metadata.sessionId, s.sessionId);
  assert.equal(u.metadata.agentId, agentId);
  assert.equal(u.metadata.userId, s.userId);
  assert.deepEqual(u.metadata.timeoutConfig, DEFAULTS);
  assert.equal(u.metadata.plan, 'basic');
  assert.equal(u.metadata.tier, 2);
  assert.equal(u.metadata.mood, 'happy');

  const st = r.body.sessionStatus;
  assert.deepEqual(sorted(st), ['expiresAt', 'isNearExpiration', 'renewalCount', 'wasRenewed']);
  assert.match(st.expiresAt, ISO);
  assert.equal(st.renewalCount, 1);
  assert.equal(st.wasRenewed, true);
  assert.equal(st.isNearExpiration, false);
  const i = await info(s.sessionId);
  assert.equal(i.expiresAt, st.expiresAt);
  assert.equal(i.renewalCount, 1);

  // stored as sent; the history item carries the stored metadata
  const msgs = await waitForReplies(s.sessionId, 1);
  const mine = msgs.find((m) => m.id === u.id);
  assert.ok(mine, 'user message in the history');
  assert.equal(mine.metadata.mood, 'happy');
  assert.equal(mine.metadata.sessionId, s.sessionId);
  const cu = (await channelMessages(s.channelId)).find((m) => m.id === u.id);
  assert.deepEqual(cu.rawMessage, { content: 'Look at my cat', attachments });
  assert.equal(cu.sourceType, 'user');

  // a second message renews again
  const again = await send(s.sessionId, { content: 'Is it cute?' });
  assert.equal(again.sessionStatus.renewalCount, 2);
  assert.equal(again.sessionStatus.wasRenewed, true);
  assert.ok(ms(again.sessionStatus.expiresAt) >= ms(st.expiresAt));
});

test('transport http (and legacy mode sync) answers with agentResponse; sse streams the answer', async () => {
  const s = await newSession();
  const r = await post(`${S}/${s.sessionId}/messages`, { content: 'I feel tired today', transport: 'http' });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.body.success, true);
  assert.equal(r.body.userMessage.content, 'I feel tired today');
  assert.equal(r.body.userMessage.source_type, 'user');
  assert.equal(typeof r.body.agentResponse, 'object', JSON.stringify(r.body));
  assert.equal(typeof r.body.agentResponse.text, 'string');
  assert.ok(r.body.agentResponse.text.length > 0);
  assert.equal(r.body.sessionStatus.renewalCount, 1);
  assert.equal(r.body.sessionStatus.wasRenewed, true);

  const legacy = await post(`${S}/${s.sessionId}/messages`, { content: 'Still tired', mode: 'sync' });
  assert.equal(legacy.status, 201, JSON.stringify(legacy.body));
  assert.ok(legacy.body.agentResponse.text.length > 0);
  assert.equal(legacy.body.sessionStatus.renewalCount, 2);

  // api-client: sendMessageSync sends transport http; the body has no data key → undefined
  const viaClient = await api.sessions.sendMessageSync(s.sessionId, { content: 'Very tired' });
  assert.equal(viaClient, undefined);
  assert.equal((await info(s.sessionId)).renewalCount, 3);

  // sse: user_message, chunks, done (COMPAT §7.3)
  const res = await fetch(`${srv.url}${S}/${s.sessionId}/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ content: 'Tell me about the sea', transport: 'sse' }),
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') || '', /^text\/event-stream/);
  const events = parseSse(await res.text());
  assert.ok(events.length >= 2, JSON.stringify(events));
  assert.equal(events[0].event, 'user_message');
  assert.equal(events[0].data.content, 'Tell me about the sea');
  assert.equal(events[0].data.author_id, s.userId);
  assert.equal(events[0].data.channel_id, s.channelId);
  const last = events[events.length - 1];
  assert.equal(last.event, 'done', JSON.stringify(events));
  assert.ok(typeof last.data.text === 'string' && last.data.text.length > 0);
  const chunks = events.filter((e) => e.event === 'chunk');
  chunks.forEach((c, i) => assert.equal(c.data.index, i));
  if (chunks.length) assert.equal(chunks.map((c) => c.data.chunk).join(''), last.data.text);
  assert.deepEqual(
    events.map((e) => e.event).filter((e) => !['user_message', 'chunk', 'done'].includes(e)),
    [],
  );
  assert.equal((await info(s.sessionId)).renewalCount, 4);
});

test('send: invalid transport, bad content, too long, metadata too large, unknown session', async () => {
  const s = await newSession();
  const url = `${S}/${s.sessionId}/messages`;
  // (the exact wording is checked in the next test)
  assertStyleC(
    await post(url, { content: 'hi', transport: 'carrier-pigeon' }),
    400,
    'VALIDATION_ERROR',
    /^Invalid content: Invalid transport "carrier-pigeon"\. Must be one of: /,
  );
  assertStyleC(
    await post(url, { content: 'hi', mode: 'telepathy' }),
    400,
    'VALIDATION_ERROR',
    /^Invalid content: Invalid transport "telepathy"\. Must be one of: /,
  );
  assertStyleC(await post(url, {}), 400, 'VALIDATION_ERROR', 'Invalid content: Invalid message request format');
  assertStyleC(await post(url, { content: 42 }), 400, 'VALIDATION_ERROR', 'Invalid content: Invalid message request format');
  assertStyleC(await post(url, { content: '' }), 400, 'VALIDATION_ERROR', 'Invalid content: Content cannot be empty');
  assertStyleC(
    await post(url, { content: 'a'.repeat(4001) }),
    400,
    'VALIDATION_ERROR',
    /^Invalid content: .*exceeds maximum length of 4000 characters/,
  );
  assertStyleC(
    await post(url, { content: 'hi', metadata: { b: 'x'.repeat(10240) } }),
    400,
    'VALIDATION_ERROR',
    /metadata/i,
  );
  // rejected messages neither renew nor store anything
  const i = await info(s.sessionId);
  assert.equal(i.renewalCount, 0);
  assert.equal(i.lastActivity, i.createdAt);
  assert.deepEqual((await messages(s.sessionId)).messages, []);

  // 4000 characters are fine
  const okBody = await send(s.sessionId, { content: 'b'.repeat(4000) });
  assert.equal(okBody.userMessage.content.length, 4000);

  const unknown = randomUUID();
  assertStyleC(
    await post(`${S}/${unknown}/messages`, { content: 'hi' }),
    404,
    'SESSION_NOT_FOUND',
    `Session with ID '${unknown}' not found`,
  );
  await assert.rejects(api.sessions.sendMessage('nope', { content: 'hi' }), (err) => {
    assert.equal(err.code, 'SESSION_NOT_FOUND');
    assert.equal(err.status, 404);
    return true;
  });
});

// The transport check is the one shared with POST /channels/{id}/messages (COMPAT §7.3), which
// also names the legacy `mode` values.
test('send: the invalid-transport message is the shared one, legacy values included', async () => {
  const s = await newSession();
  const url = `${S}/${s.sessionId}/messages`;
  assertStyleC(
    await post(url, { content: 'hi', transport: 'carrier-pigeon' }),
    400,
    'VALIDATION_ERROR',
    'Invalid content: Invalid transport "carrier-pigeon". Must be one of: http, sse, websocket, sync, stream',
  );
  assertStyleC(
    await post(url, { content: 'hi', mode: 'telepathy' }),
    400,
    'VALIDATION_ERROR',
    'Invalid content: Invalid transport "telepathy". Must be one of: http, sse, websocket, sync, stream',
  );
  // `mode` takes the transport names too
  const st = await send(s.sessionId, { content: 'hi', mode: 'websocket' });
  assert.equal(st.success, true);
  assert.equal('agentResponse' in st, false);
});

test("socket: the reply reaches the session's channel room, the user message does not; renewals are announced", async () => {
  const s = await newSession();
  const sock = await connect(srv, s.userId);
  sockets.push(sock);
  await join(sock, s.channelId);
  // a connected bystander outside the room hears nothing of this session
  const other = await connect(srv);
  sockets.push(other);

  const assertRenewed = (ev, expected) => {
    assert.equal(ev.sessionId, s.sessionId);
    assert.equal(ev.channelId, s.channelId);
    assert.match(ev.expiresAt, ISO);
    assert.equal(ev.expiresAt, expected.expiresAt);
    assert.equal(ev.renewalCount, expected.renewalCount);
  };

  const hb = await post(`${S}/${s.sessionId}/heartbeat`);
  assert.equal(hb.status, 200);
  assertRenewed(await waitFor(sock, 'sessionRenewed', (d) => d.renewalCount === 1, 2000), hb.body);

  const rn = await post(`${S}/${s.sessionId}/renew`);
  assert.equal(rn.status, 200);
  assertRenewed(await waitFor(sock, 'sessionRenewed', (d) => d.renewalCount === 2, 2000), rn.body);

  const sent = await send(s.sessionId, { content: 'My brother never calls me' });
  assertRenewed(await waitFor(sock, 'sessionRenewed', (d) => d.renewalCount === 3, 2000), sent.sessionStatus);

  const reply = await waitFor(sock, 'messageBroadcast', isReplyFrom(agentId), 5000);
  assert.equal(reply.channelId || reply.roomId, s.channelId);
  assert.ok(reply.text.length > 0);
  const stored = (await waitForReplies(s.sessionId, 1)).find((m) => m.isAgent);
  assert.equal(stored.id, reply.id);
  assert.equal(stored.content, reply.text);
  await sleep(100);
  assert.equal(eventsOf(sock, 'messageBroadcast', (d) => d.senderId === s.userId).length, 0, 'user message broadcast');
  assert.equal(eventsOf(other, 'sessionRenewed').length, 0);
  assert.equal(eventsOf(other, 'messageBroadcast').length, 0);

  // without auto-renew a heartbeat renews nothing and announces nothing; renew still does
  const p = await patch(`${S}/${s.sessionId}/timeout`, { autoRenew: false });
  assert.equal(p.status, 200, JSON.stringify(p.body));
  await sleep(100);
  const before = eventsOf(sock, 'sessionRenewed').length;
  const hb2 = await post(`${S}/${s.sessionId}/heartbeat`);
  assert.equal(hb2.body.renewalCount, 3);
  await sleep(300);
  assert.equal(eventsOf(sock, 'sessionRenewed').length, before);
  const rn2 = await post(`${S}/${s.sessionId}/renew`);
  assert.equal(rn2.body.renewalCount, 4);
  assertRenewed(await waitFor(sock, 'sessionRenewed', (d) => d.renewalCount === 4, 2000), rn2.body);
});

// ---------------------------------------------------------------------------------------------
// history

test('GET messages: newest first, limit, before, after, both, cursors and hasMore', async () => {
  const s = await newSession();
  assert.deepEqual(await messages(s.sessionId), { messages: [], hasMore: false });
  for (let i = 0; i < 4; i++) {
    await send(s.sessionId, { content: `paging message number ${i}` });
    await waitForReplies(s.sessionId, i + 1);
    await sleep(5);
  }
  const all = await messages(s.sessionId, '?limit=100');
  assert.equal(all.messages.length, 8, JSON.stringify(all.messages));
  assert.equal(all.hasMore, false);
  const t = all.messages.map((m) => ms(m.createdAt));
  const ids = (list) => list.map((m) => m.id);
  // user messages and replies alternate, the newest being the last reply
  assert.equal(all.messages[0].isAgent, true);
  assert.equal(all.messages[7].isAgent, false);
  assert.equal(all.messages[7].content, 'paging message number 0');
  assert.equal(all.messages.filter((m) => m.isAgent).length, 4);
  assert.ok(all.messages.filter((m) => m.isAgent).every((m) => m.authorId === agentId));
  assert.ok(all.messages.filter((m) => !m.isAgent).every((m) => m.authorId === s.userId));

  // default limit (50) holds them all
  assert.deepEqual(ids((await messages(s.sessionId)).messages), ids(all.messages));

  // limit
  const p1 = await messages(s.sessionId, '?limit=3');
  assert.deepEqual(ids(p1.messages), ids(all.messages.slice(0, 3)));
  assert.equal(p1.hasMore, true);
  assert.deepEqual(p1.cursors, { before: t[2], after: t[0] });

  // before: the newest `limit` strictly older than before
  const p2 = await messages(s.sessionId, `?limit=3&before=${p1.cursors.before}`);
  const older = all.messages.filter((m) => ms(m.createdAt) < p1.cursors.before);
  assert.deepEqual(ids(p2.messages), ids(older.slice(0, 3)));
  assert.equal(p2.hasMore, p2.messages.length === 3);
  const oldest = await messages(s.sessionId, `?limit=3&before=${t[7]}`);
  assert.deepEqual(oldest, { messages: [], hasMore: false });

  // after: those newer than after; more than limit → the `limit` oldest of them, newest first
  const after = t[6];
  const pa = await messages(s.sessionId, `?limit=3&after=${after}`);
  const newer = all.messages.filter((m) => ms(m.createdAt) > after);
  const expectTimes = newer
    .map((m) => ms(m.createdAt))
    .sort((a, b) => a - b)
    .slice(0, 3)
    .reverse();
  assert.deepEqual(pa.messages.map((m) => ms(m.createdAt)), expectTimes);
  assert.ok(pa.messages.every((m) => newer.some((n) => n.id === m.id)));
  assert.equal(pa.hasMore, true);
  const paAll = await messages(s.sessionId, `?limit=100&after=${after}`);
  assert.deepEqual(ids(paAll.messages), ids(newer));
  assert.equal(paAll.hasMore, false);
  assert.deepEqual((await messages(s.sessionId, `?after=${t[0]}`)).messages, []);

  // both: newer than after and older than before, first `limit`
  const pb = await messages(s.sessionId, `?limit=10&after=${t[7]}&before=${t[0]}`);
  const between = all.messages.filter((m) => ms(m.createdAt) > t[7] && ms(m.createdAt) < t[0]);
  assert.deepEqual(ids(pb.messages), ids(between.slice(0, 10)));
  assert.equal(pb.hasMore, false);
  const pb2 = await messages(s.sessionId, `?limit=2&after=${t[7]}&before=${t[0]}`);
  assert.deepEqual(ids(pb2.messages), ids(between.slice(0, 2)));
  assert.equal(pb2.hasMore, true);

  // api-client converts Dates to ms
  const viaClient = await api.sessions.getMessages(s.sessionId, { limit: 3, before: new Date(p1.cursors.before) });
  assert.deepEqual(ids(viaClient.messages), ids(p2.messages));
  const viaClientAfter = await api.sessions.getMessages(s.sessionId, { limit: 100, after: new Date(after) });
  assert.deepEqual(ids(viaClientAfter.messages), ids(newer));

  // bad cursors
  assertStyleC(
    await get(`${S}/${s.sessionId}/messages?before=abc`),
    400,
    'VALIDATION_ERROR',
    "Invalid pagination parameter 'before': Must be a valid timestamp",
  );
  assertStyleC(
    await get(`${S}/${s.sessionId}/messages?after=abc`),
    400,
    'VALIDATION_ERROR',
    "Invalid pagination parameter 'after': Must be a valid timestamp",
  );
  assertStyleC(await get(`${S}/nope/messages`), 404, 'SESSION_NOT_FOUND', "Session with ID 'nope' not found");

  // reading the history is not activity
  assert.equal((await info(s.sessionId)).renewalCount, 4);
});

// ---------------------------------------------------------------------------------------------
// renew, heartbeat, timeout

test('renew and heartbeat: renewalCount, lastActivity and expiresAt move forward', async () => {
  const s = await newSession();
  await sleep(20);
  let t0 = Date.now();
  const r1 = await post(`${S}/${s.sessionId}/renew`);
  let t1 = Date.now();
  assert.equal(r1.status, 200, JSON.stringify(r1.body));
  assertInfo(r1.body, t0, t1);
  assert.equal(r1.body.sessionId, s.sessionId);
  assert.equal(r1.body.renewalCount, 1);
  assert.equal(r1.body.createdAt, s.createdAt);
  assert.ok(ms(r1.body.lastActivity) >= t0 - 5 && ms(r1.body.lastActivity) <= t1 + 5);
  assert.ok(ms(r1.body.lastActivity) > ms(s.createdAt));
  assert.equal(ms(r1.body.expiresAt) - ms(r1.body.lastActivity), 30 * MIN);
  assert.ok(ms(r1.body.expiresAt) > ms(s.expiresAt));

  await sleep(10);
  const r2 = await post(`${S}/${s.sessionId}/renew`);
  assert.equal(r2.body.renewalCount, 2);
  assert.ok(ms(r2.body.lastActivity) > ms(r1.body.lastActivity));

  await sleep(10);
  t0 = Date.now();
  const h = await post(`${S}/${s.sessionId}/heartbeat`);
  t1 = Date.now();
  assert.equal(h.status, 200, JSON.stringify(h.body));
  assertInfo(h.body, t0, t1);
  assert.equal(h.body.renewalCount, 3);
  assert.ok(ms(h.body.lastActivity) > ms(r2.body.lastActivity));
  assert.equal(ms(h.body.expiresAt) - ms(h.body.lastActivity), 30 * MIN);

  const i = await info(s.sessionId);
  assert.equal(i.renewalCount, 3);
  assert.equal(i.lastActivity, h.body.lastActivity);
  assert.equal(i.expiresAt, h.body.expiresAt);

  const unknown = randomUUID();
  assertStyleC(await post(`${S}/${unknown}/renew`), 404, 'SESSION_NOT_FOUND', `Session with ID '${unknown}' not found`);
  assertStyleC(await post(`${S}/${unknown}/heartbeat`), 404, 'SESSION_NOT_FOUND', `Session with ID '${unknown}' not found`);
});

test('maxDuration caps the expiry at createdAt + maxDuration', async () => {
  const s = await newSession();
  await sleep(30);
  const h = await post(`${S}/${s.sessionId}/heartbeat`);
  assert.equal(h.body.renewalCount, 1);
  assert.ok(ms(h.body.lastActivity) > ms(s.createdAt));
  // (now − createdAt) + 60 min > 60 min → expiresAt = createdAt + 60 min, not lastActivity + 60 min
  const p = await patch(`${S}/${s.sessionId}/timeout`, { timeoutMinutes: 60, maxDurationMinutes: 60 });
  assert.equal(p.status, 200, JSON.stringify(p.body));
  assert.deepEqual(p.body.timeoutConfig, { ...DEFAULTS, timeoutMinutes: 60, maxDurationMinutes: 60 });
  assert.equal(ms(p.body.expiresAt), ms(s.createdAt) + 60 * MIN);
  await sleep(10);
  const h2 = await post(`${S}/${s.sessionId}/heartbeat`);
  assert.equal(h2.body.renewalCount, 2, 'renewal is allowed before maxDuration');
  assert.equal(ms(h2.body.expiresAt), ms(s.createdAt) + 60 * MIN);
  const r = await post(`${S}/${s.sessionId}/renew`);
  assert.equal(r.status, 200);
  assert.equal(r.body.renewalCount, 3);
  assert.equal(ms(r.body.expiresAt), ms(s.createdAt) + 60 * MIN);
});

test('PATCH timeout: merged onto the defaults (omitted fields revert); range and type errors', async () => {
  const s = await newSession();
  const url = `${S}/${s.sessionId}/timeout`;

  let t0 = Date.now();
  let r = await patch(url, { timeoutMinutes: 60 });
  let t1 = Date.now();
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assertInfo(r.body, t0, t1);
  assert.deepEqual(r.body.timeoutConfig, { ...DEFAULTS, timeoutMinutes: 60 });
  assert.equal(r.body.renewalCount, 0, 'a config change is not a renewal');
  assert.equal(ms(r.body.expiresAt) - ms(r.body.lastActivity), 60 * MIN);

  r = await patch(url, { timeoutMinutes: 45, autoRenew: false, warningThresholdMinutes: 50 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.timeoutConfig, { ...DEFAULTS, timeoutMinutes: 45, autoRenew: false, warningThresholdMinutes: 50 });
  assert.equal(ms(r.body.expiresAt) - ms(r.body.createdAt), 45 * MIN);
  assert.equal(r.body.isNearExpiration, true);

  // omitted fields go back to the defaults, not to the session's previous values
  r = await patch(url, { timeoutMinutes: 90 });
  assert.deepEqual(r.body.timeoutConfig, { ...DEFAULTS, timeoutMinutes: 90 });
  assert.equal(r.body.isNearExpiration, false);

  // out of range (strings are numbers too)
  const range = 'Invalid timeout configuration: Timeout must be between 5 and 1440 minutes';
  for (const timeoutMinutes of [3, 1441, 0, -10, '2']) {
    assertStyleC(await patch(url, { timeoutMinutes }), 400, 'VALIDATION_ERROR', range);
  }
  // wrong types
  const format = 'Invalid timeout configuration: Invalid timeout configuration format';
  for (const body of [
    { autoRenew: 'yes' },
    { autoRenew: 1 },
    { timeoutMinutes: true },
    { maxDurationMinutes: { minutes: 10 } },
    { warningThresholdMinutes: [1] },
  ]) {
    assertStyleC(await patch(url, body), 400, 'VALIDATION_ERROR', format);
  }
  // nothing changed
  const i = await info(s.sessionId);
  assert.deepEqual(i.timeoutConfig, { ...DEFAULTS, timeoutMinutes: 90 });

  // the bounds themselves, numeric strings, clamping of the other fields, NaN → default
  r = await patch(url, { timeoutMinutes: 5 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.timeoutConfig.timeoutMinutes, 5);
  r = await patch(url, { timeoutMinutes: 1440, maxDurationMinutes: 99999 });
  assert.deepEqual(r.body.timeoutConfig, { ...DEFAULTS, timeoutMinutes: 1440, maxDurationMinutes: 2880 });
  r = await patch(url, { timeoutMinutes: '120', warningThresholdMinutes: 0 });
  assert.deepEqual(r.body.timeoutConfig, { ...DEFAULTS, timeoutMinutes: 120, warningThresholdMinutes: 1 });
  r = await patch(url, { timeoutMinutes: 60, autoRenew: false });
  assert.equal(r.body.timeoutConfig.autoRenew, false);
  r = await patch(url, {});
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.timeoutConfig, DEFAULTS);

  const unknown = randomUUID();
  assertStyleC(
    await patch(`${S}/${unknown}/timeout`, { timeoutMinutes: 60 }),
    404,
    'SESSION_NOT_FOUND',
    `Session with ID '${unknown}' not found`,
  );
});

// A string is an accepted type for the numeric fields (COMPAT §8.1 "numbers may be given as
// strings"); one that is not a number falls back to the default instead of failing, as on create.
test('PATCH timeout: a non-numeric string timeout falls back to the default', async () => {
  const s = await newSession({ timeoutConfig: { timeoutMinutes: 60 } });
  const r = await patch(`${S}/${s.sessionId}/timeout`, { timeoutMinutes: 'abc' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.timeoutConfig, DEFAULTS);
  assert.equal(ms(r.body.expiresAt) - ms(r.body.lastActivity), 30 * MIN);
});

// ---------------------------------------------------------------------------------------------
// delete

test('DELETE: 200 with a message, then every route answers 404; the channel and its messages stay', async () => {
  const s = await newSession();
  const sent = await send(s.sessionId, { content: 'Goodbye for now' });
  await waitForReplies(s.sessionId, 1);

  const r = await del(`${S}/${s.sessionId}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body, { success: true, message: `Session ${s.sessionId} deleted successfully` });

  const nf = `Session with ID '${s.sessionId}' not found`;
  assertStyleC(await get(`${S}/${s.sessionId}`), 404, 'SESSION_NOT_FOUND', nf);
  assertStyleC(await del(`${S}/${s.sessionId}`), 404, 'SESSION_NOT_FOUND', nf);
  assertStyleC(await post(`${S}/${s.sessionId}/messages`, { content: 'hello?' }), 404, 'SESSION_NOT_FOUND', nf);
  assertStyleC(await get(`${S}/${s.sessionId}/messages`), 404, 'SESSION_NOT_FOUND', nf);
  assertStyleC(await post(`${S}/${s.sessionId}/renew`), 404, 'SESSION_NOT_FOUND', nf);
  assertStyleC(await post(`${S}/${s.sessionId}/heartbeat`), 404, 'SESSION_NOT_FOUND', nf);
  assertStyleC(await patch(`${S}/${s.sessionId}/timeout`, { timeoutMinutes: 60 }), 404, 'SESSION_NOT_FOUND', nf);
  assert.ok(!(await get(S)).body.sessions.some((x) => x.sessionId === s.sessionId));

  const ch = await channelDetails(s.channelId);
  assert.equal(ch.name, `session-${s.sessionId}`);
  const central = await channelMessages(s.channelId);
  assert.ok(central.some((m) => m.id === sent.userMessage.id));
  assert.ok(central.some((m) => m.sourceType === 'agent_response'));

  assertStyleC(await del(`${S}/nope`), 404, 'SESSION_NOT_FOUND', "Session with ID 'nope' not found");

  // api-client: deleteSession resolves to undefined (success without data)
  const t = await newSession();
  assert.equal(await api.sessions.deleteSession(t.sessionId), undefined);
  await assert.rejects(api.sessions.getSession(t.sessionId), (err) => {
    assert.equal(err.code, 'SESSION_NOT_FOUND');
    assert.equal(err.status, 404);
    return true;
  });
});

// ---------------------------------------------------------------------------------------------
// server limits from the environment

test('SESSION_* environment variables set the server limits (each clamped)', async () => {
  const envSrv = await startServer({
    plugins: PLUGINS,
    env: {
      SESSION_DEFAULT_TIMEOUT_MINUTES: '45',
      SESSION_MIN_TIMEOUT_MINUTES: '10',
      SESSION_MAX_TIMEOUT_MINUTES: '30', // below its floor of 60 → 60
      SESSION_MAX_DURATION_MINUTES: '200',
      SESSION_WARNING_THRESHOLD_MINUTES: '7',
    },
  });
  try {
    const envApi = client(envSrv);
    const envAgent = await startAgent(envApi, { name: 'Env Session Agent', bio: ['Lives under other limits.'] });
    const limits = { timeoutMinutes: 45, autoRenew: true, maxDurationMinutes: 200, warningThresholdMinutes: 7 };
    const s = await newSession({}, envSrv, envAgent);
    assert.deepEqual(s.timeoutConfig, limits);
    assert.equal(ms(s.expiresAt) - ms(s.createdAt), 45 * MIN);
    assert.equal((await newSession({ timeoutConfig: { timeoutMinutes: 2 } }, envSrv, envAgent)).timeoutConfig.timeoutMinutes, 10);
    assert.equal((await newSession({ timeoutConfig: { timeoutMinutes: 500 } }, envSrv, envAgent)).timeoutConfig.timeoutMinutes, 60);
    assert.deepEqual(
      (await newSession({ timeoutConfig: { maxDurationMinutes: 9999 } }, envSrv, envAgent)).timeoutConfig,
      { ...limits, maxDurationMinutes: 120 },
    );
    const url = `${S}/${s.sessionId}/timeout`;
    const range = 'Invalid timeout configuration: Timeout must be between 10 and 60 minutes';
    assertStyleC(await patch(url, { timeoutMinutes: 9 }, envSrv), 400, 'VALIDATION_ERROR', range);
    assertStyleC(await patch(url, { timeoutMinutes: 61 }, envSrv), 400, 'VALIDATION_ERROR', range);
    const p = await patch(url, { timeoutMinutes: 60 }, envSrv);
    assert.equal(p.status, 200, JSON.stringify(p.body));
    assert.deepEqual(p.body.timeoutConfig, { ...limits, timeoutMinutes: 60 });
  } finally {
    const st = await envSrv.stop();
    assert.equal(st.code, 0, `elizad exit: ${JSON.stringify(st)}\n${envSrv.log()}`);
  }
});

// ---------------------------------------------------------------------------------------------
// expiry (a real minute: opt-in)

test(
  'expiry: hidden from the list, then 410 SESSION_EXPIRED on first access, 404 afterwards',
  { skip: !SLOW && 'needs a real minute; set ELIZAD_E2E_SLOW=1', timeout: 150_000 },
  async () => {
    const slow = await startServer({ plugins: PLUGINS, env: { SESSION_MIN_TIMEOUT_MINUTES: '1' } });
    try {
      const slowApi = client(slow);
      const slowAgent = await startAgent(slowApi, { name: 'Short Session Agent', bio: ['Keeps it brief.'] });
      const mk = () => newSession({ timeoutConfig: { timeoutMinutes: 1, autoRenew: false } }, slow, slowAgent);
      const [a, b, c] = [await mk(), await mk(), await mk()];
      for (const x of [a, b, c]) assert.equal(x.timeoutConfig.timeoutMinutes, 1);
      const keep = await newSession({}, slow, slowAgent);
      const last = Math.max(ms(a.expiresAt), ms(b.expiresAt), ms(c.expiresAt));
      await sleep(last - Date.now() + 500);

      const list = (await get(S, slow)).body;
      assert.deepEqual(list.sessions.map((x) => x.sessionId), [keep.sessionId]);
      assert.equal(list.total, 1);
      assert.equal(list.stats.activeSessions, 1);
      assert.equal(list.stats.expiredSessions, list.stats.totalSessions - 1);
      assert.equal((await get(`${S}/health`, slow)).body.activeSessions, 1);

      const gone = (x) => `Session with ID '${x.sessionId}' not found`;
      const expired = (x) => `Session '${x.sessionId}' expired at ${x.expiresAt}`;
      assertStyleC(await get(`${S}/${a.sessionId}`, slow), 410, 'SESSION_EXPIRED', expired(a));
      assertStyleC(await get(`${S}/${a.sessionId}`, slow), 404, 'SESSION_NOT_FOUND', gone(a));
      assertStyleC(await post(`${S}/${b.sessionId}/messages`, { content: 'late' }, slow), 410, 'SESSION_EXPIRED', expired(b));
      assertStyleC(await get(`${S}/${b.sessionId}/messages`, slow), 404, 'SESSION_NOT_FOUND', gone(b));
      assertStyleC(await post(`${S}/${c.sessionId}/renew`, undefined, slow), 410, 'SESSION_EXPIRED', expired(c));
      assertStyleC(await post(`${S}/${c.sessionId}/heartbeat`, undefined, slow), 404, 'SESSION_NOT_FOUND', gone(c));
      assert.equal((await get(`${S}/${keep.sessionId}`, slow)).status, 200);
    } finally {
      await slow.stop();
    }
  },
);
