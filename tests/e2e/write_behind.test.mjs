// Write-behind (kernel/store_writer.c): hot-path writes commit on a storage thread while the
// loop goes on, and every answer or socket event waits for the writes it reports. Through the
// official clients: whatever a client was told is readable at once, under concurrency, with
// write-behind on (the default) and off; a graceful stop loses nothing that was queued.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { join as joinPath } from 'node:path';
import nodeHttp from 'node:http';
import { startServer, http, ZERO_UUID } from './lib/harness.mjs';
import {
  client,
  startAgent,
  dmChannel,
  connect,
  join,
  send,
  waitFor,
  isReplyFrom,
  channelMessages,
  sleep,
} from './fixtures/runtime_kit.mjs';

const PLUGINS = ['messaging', 'agents', 'runtime', 'model_eliza'];
const servers = [];
const sockets = [];

after(async () => {
  for (const s of sockets) s.close();
  for (const srv of servers) {
    const st = await srv.stop();
    assert.equal(st.code, 0, `elizad exit: ${JSON.stringify(st)}\n${srv.log()}`);
  }
});

async function memoriesOf(srv, agentId, channelId) {
  const r = await http(`${srv.url}/api/memory/${agentId}/rooms/${channelId}/memories`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return Array.isArray(r.body.data) ? r.body.data : r.body.data.memories;
}

// One user in a DM: each message and each reply is checked the moment its event arrives.
async function converse(srv, api, agentId, rounds, transports) {
  const userId = randomUUID();
  const channelId = await dmChannel(api, userId, agentId);
  const s = await connect(srv, userId, transports);
  sockets.push(s);
  await join(s, channelId);
  for (let i = 0; i < rounds; i++) {
    const text = `round ${i} of my story about ${userId.slice(0, 8)}`;
    const echo = waitFor(s, 'messageBroadcast', (d) => d.senderId === userId && d.text === text, 5000);
    const reply = waitFor(s, 'messageBroadcast', (d) => isReplyFrom(agentId)(d) && !d.seen, 5000);
    send(s, channelId, text);
    const mine = await echo;
    const messageId = mine.id;
    let ids = (await channelMessages(srv, channelId)).map((m) => m.id);
    assert.ok(ids.includes(messageId), `round ${i}: echoed message not readable: ${ids}`);
    const r = await reply;
    r.seen = true;
    ids = (await channelMessages(srv, channelId)).map((m) => m.id);
    assert.ok(ids.includes(r.id), `round ${i}: reply ${r.id} not readable`);
    const mems = await memoriesOf(srv, agentId, channelId);
    assert.ok(mems.some((m) => m.id === r.id), `round ${i}: reply memory not readable`);
    assert.ok(mems.some((m) => m.content.text === text), `round ${i}: message memory not readable`);
    const runs = await api.runs.listRuns(agentId, { limit: 1000 });
    const run = runs.runs.find((x) => x.messageId === messageId);
    assert.ok(run, `round ${i}: no run for ${messageId}`);
    assert.equal(run.status, 'completed');
  }
  return channelId;
}

async function readAfterNotify(serverConf) {
  const srv = await startServer({ plugins: PLUGINS, server: serverConf });
  servers.push(srv);
  const api = client(srv);
  const agentId = await startAgent(api, { name: 'Wendy', bio: ['Wendy writes things down.'] });
  // three users on websockets, one on HTTP long-polling (answers through the gate too)
  await Promise.all([
    converse(srv, api, agentId, 12),
    converse(srv, api, agentId, 12),
    converse(srv, api, agentId, 12),
    converse(srv, api, agentId, 12, ['polling']),
  ]);
  return srv;
}

test('write-behind on: every event and answer reports readable data (4 users x 12 rounds, one polling)', { timeout: 60000 }, async () => {
  const srv = await readAfterNotify('');
  assert.doesNotMatch(srv.log(), /queued write failed|batch of queued writes was lost/);
});

test('write-behind off (server.write_behind = 0): the same guarantees', { timeout: 60000 }, async () => {
  await readAfterNotify('  write_behind = 0;\n');
});

test('REST: a 201 answer means the message is stored; a duplicate id is refused at once', { timeout: 30000 }, async () => {
  const srv = await startServer({ plugins: PLUGINS });
  servers.push(srv);
  const api = client(srv);
  const user = randomUUID();
  const ch = await api.messaging.createGroupChannel({
    name: 'wb',
    participantIds: [user, randomUUID()],
    serverId: ZERO_UUID,
  });
  const post = (body) => http(`${srv.url}/api/messaging/central-channels/${ch.id}/messages`, { method: 'POST', body });
  const results = await Promise.all(
    Array.from({ length: 40 }, async (_, i) => {
      const r = await post({ author_id: user, content: `m${i}`, message_server_id: ZERO_UUID });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const id = r.body.data?.id || r.body.userMessage?.id || r.body.data?.userMessage?.id;
      const ids = (await channelMessages(srv, ch.id)).map((m) => m.id);
      assert.ok(ids.includes(id), `m${i} (${id}) not readable after its 201`);
      return id;
    }),
  );
  assert.equal(new Set(results).size, 40);
  // a client-chosen id (submit's messageId) used twice at once: one is stored, the other
  // refused with 409, although the first may still be queued for the storage thread
  const agent = randomUUID();
  const messageId = randomUUID();
  const submit = (content) =>
    http(`${srv.url}/api/messaging/submit`, {
      method: 'POST',
      body: { channelId: ch.id, agentId: agent, messageServerId: ZERO_UUID, content, messageId },
    });
  const [a, b] = await Promise.all([submit('once'), submit('twice')]);
  assert.deepEqual([a.status, b.status].sort(), [201, 409], `${JSON.stringify(a.body)} ${JSON.stringify(b.body)}`);
  const stored = (await channelMessages(srv, ch.id)).filter((m) => m.id === messageId);
  assert.equal(stored.length, 1);
  assert.doesNotMatch(srv.log(), /batch of queued writes was lost/);
});

// Another process holds SQLite's write lock until release(): the storage thread's commits wait.
async function lockDatabase(dataDir) {
  const cli = spawn('sqlite3', [joinPath(dataDir, 'elizad.db')], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  await new Promise((resolve, reject) => {
    cli.on('error', reject);
    cli.stdout.on('data', (d) => {
      out += d;
      if (out.includes('locked')) resolve();
    });
    // .timeout: wait for the lock rather than fail if the server's writer holds it right now
    cli.stdin.write(".timeout 5000\nBEGIN IMMEDIATE;\nSELECT 'locked';\n");
  });
  return async () => {
    cli.stdin.end('COMMIT;\n');
    await new Promise((resolve) => cli.on('exit', resolve));
  };
}

test('a streamed answer whose parts wait for two commits keeps its keep-alive connection', { timeout: 30000 }, async () => {
  const srv = await startServer({ plugins: [...PLUGINS, 'sessions'] });
  servers.push(srv);
  const api = client(srv);
  const agentId = await startAgent(api, { name: 'Sam', bio: ['Sam streams.'] });
  const keepAlive = new nodeHttp.Agent({ keepAlive: true, maxSockets: 1 });
  const request = (method, path, body) =>
    new Promise((resolve, reject) => {
      const rq = nodeHttp.request(
        `${srv.url}${path}`,
        { method, agent: keepAlive, headers: { 'Content-Type': 'application/json' } },
        (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode, text, socket: rq.socket, reused: rq.reusedSocket }));
        },
      );
      rq.on('error', reject);
      rq.end(body === undefined ? undefined : JSON.stringify(body));
    });
  try {
    const created = await request('POST', '/api/messaging/sessions', { agentId, userId: randomUUID() });
    assert.equal(created.status, 201, created.text);
    const { sessionId } = JSON.parse(created.text);
    // the agent's first message in a channel makes its room (synchronous writes): done here
    const first = await request('POST', `/api/messaging/sessions/${sessionId}/messages`, {
      content: 'Hello',
      transport: 'http',
    });
    assert.equal(first.status, 201, first.text);
    let closed = false;
    created.socket.on('close', () => (closed = true));

    // The user message's batch waits for the lock; the reply and the end of the stream are
    // made meanwhile and join a later batch. The answer leaves in two pieces, one per commit.
    const release = await lockDatabase(srv.dataDir);
    const streamed = request('POST', `/api/messaging/sessions/${sessionId}/messages`, {
      content: 'Tell me about rivers',
      transport: 'sse',
    });
    await sleep(700);
    await release();
    const sse = await streamed;
    assert.equal(sse.status, 200, sse.text);
    assert.equal(sse.socket, created.socket);
    assert.match(sse.text, /^event: user_message\n/);
    assert.match(sse.text, /event: done\n/);

    await sleep(300);
    assert.equal(closed, false, 'the server closed the connection after the streamed answer');
    const next = await request('GET', `/api/messaging/sessions/${sessionId}`);
    assert.equal(next.status, 200, next.text);
    assert.equal(next.reused, true);
  } finally {
    keepAlive.destroy();
  }
});

test('a graceful stop commits every queued write: all messages and replies survive a restart', { timeout: 60000 }, async () => {
  const srv = await startServer({ plugins: PLUGINS });
  const api = client(srv);
  const agentId = await startAgent(api, { name: 'Keeper', bio: ['Keeper keeps everything.'] });
  const userId = randomUUID();
  const channelId = await dmChannel(api, userId, agentId);
  const s = await connect(srv, userId);
  await join(s, channelId);
  const n = 30;
  for (let i = 0; i < n; i++) send(s, channelId, `keep ${i}`);
  const deadline = Date.now() + 20000;
  const replies = () => s.events.filter((e) => e.event === 'messageBroadcast' && isReplyFrom(agentId)(e.data)).length;
  while (replies() < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(replies(), n);
  s.close();
  const st = await srv.stop({ keepData: true });
  assert.equal(st.code, 0, srv.log());

  const again = await startServer({ plugins: PLUGINS, dataDir: srv.dataDir });
  servers.push(again);
  const msgs = await channelMessages(again, channelId, 500);
  assert.equal(msgs.filter((m) => m.authorId === userId || m.author_id === userId).length, n);
  assert.equal(msgs.length, 2 * n);
  const runs = await client(again).runs.listRuns(agentId, { limit: 1000 });
  assert.equal(runs.runs.filter((r) => r.status === 'completed').length, n);
});

// Every message of a channel, newest first, through the public paging (before = oldest seen).
async function allMessages(srv, channelId) {
  const out = [];
  let before;
  for (let i = 0; i < 200; i++) {
    const q = before ? `&before=${before}` : '';
    const r = await http(`${srv.url}/api/messaging/central-channels/${channelId}/messages?limit=100${q}`);
    const page = r.body.data.messages;
    if (!page.length) break;
    out.push(...page);
    const ms = page.map((m) => {
      const t = m.createdAt ?? m.created_at;
      return typeof t === 'string' ? Date.parse(t) : t;
    });
    const oldest = Math.min(...ms);
    if (!(oldest < before || before === undefined)) break; // no progress: never loop forever
    before = oldest;
  }
  return out;
}

test('a full disk: no answer says stored for a lost write; errors instead; the server stays up', { timeout: 60000 }, async () => {
  const srv = await startServer({ plugins: PLUGINS, fileSizeLimit: 1536 * 1024 });
  servers.push(srv);
  const api = client(srv);
  const user = randomUUID();
  const ch = await api.messaging.createGroupChannel({ name: 'full', participantIds: [user, randomUUID()], serverId: ZERO_UUID });
  const filler = 'x'.repeat(2000);
  const stored = [];
  let refused = 0;
  let dropped = 0;
  for (let round = 0; round < 200 && refused + dropped < 40; round++) {
    await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        try {
          const r = await http(`${srv.url}/api/messaging/central-channels/${ch.id}/messages`, {
            method: 'POST',
            body: { author_id: user, content: `r${round} m${i} ${filler}`, message_server_id: ZERO_UUID },
          });
          if (r.status === 201) stored.push(r.body.data?.id || r.body.userMessage?.id || r.body.data?.userMessage?.id);
          else {
            assert.equal(r.status, 500, JSON.stringify(r.body));
            assert.equal(r.body.success, false);
            refused++;
          }
        } catch {
          dropped++; // the batch holding this answer failed: the connection was closed instead
        }
      }),
    );
  }
  assert.ok(refused + dropped > 0, `the file size limit was never reached (${stored.length} stored)`);
  assert.ok(stored.length > 0);
  // the server is alive and everything it answered 201 for is there
  assert.equal((await http(`${srv.url}/api/server/ping`)).status, 200);
  const ids = new Set((await allMessages(srv, ch.id)).map((m) => m.id));
  const missing = stored.filter((id) => !ids.has(id));
  assert.deepEqual(missing, [], `${missing.length} of ${stored.length} acknowledged messages are missing`);
  assert.match(srv.log(), /database or disk is full|disk I\/O error|queued writes was lost|failed write/);
});

