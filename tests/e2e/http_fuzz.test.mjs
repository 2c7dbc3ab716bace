// A bounded, seeded mutation fuzz of the HTTP front (a smoke test, not a fuzzing campaign):
// thousands of raw requests over loopback built from the real routes, methods, content types
// and bodies, then mutated byte-wise (flips, cuts, insertions, repeats) in the body and in the
// whole request. The server must answer or close every connection, stay up, and exit 0 on
// SIGTERM; under the asan preset that also means no sanitizer report and no leak.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { fuzzer } from './lib/fuzz.mjs';
import { startServer, http } from './lib/harness.mjs';

const REQUESTS = +(process.env.FUZZ_REQUESTS || 1500);
const SEED = +(process.env.FUZZ_SEED || 20261129);

const { rand, pick, mutate } = fuzzer(SEED);

const U = () => randomUUID();
const paths = [
  '/api/agents', `/api/agents/${U()}`, `/api/agents/${U()}/start`, `/api/agents/${U()}/logs`, `/api/agents/${U()}/runs`,
  '/api/messaging/channels', `/api/messaging/channels/${U()}/messages`, `/api/messaging/channels/${U()}`,
  `/api/messaging/dm-channel?currentUserId=${U()}&targetUserId=${U()}`, '/api/messaging/message-servers',
  '/api/messaging/submit', '/api/messaging/ingest-external', '/api/messaging/central-channels/x/messages',
  `/api/memory/${U()}/memories`, `/api/memory/${U()}/rooms`, '/api/server/ping', '/api/server/logs',
  '/api/system/env/local', '/api/plugins', '/healthz', '/socket.io/?EIO=4&transport=polling', '/%zz/..%2f..', '/',
];
const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'FOO'];
const types = ['application/json', 'text/plain', '', 'application/json; charset=utf-8', 'multipart/form-data; boundary=x'];
const bodies = [
  '{}', '{"characterJson":{"name":"Fuzz","bio":"b"}}', '[1,2,3]', '"str"', 'null', '{"content":{"A":"b"}}',
  '{"name":"x","message_server_id":"00000000-0000-0000-0000-000000000000","participantCentralUserIds":[]}',
  `{"author_id":"${U()}","content":"hi","message_server_id":"00000000-0000-0000-0000-000000000000"}`,
  '{"a":'.repeat(200), `{"characterJson":{"name":"${'x'.repeat(5000)}"}}`, '--x\r\nContent-Disposition: form-data; name="f"\r\n\r\nv\r\n--x--',
];


function oneRequest() {
  let body = Buffer.from(pick(bodies));
  if (rand() < 0.7) body = mutate(body);
  const ct = pick(types);
  const head =
    `${pick(methods)} ${pick(paths)} HTTP/1.1\r\nHost: x\r\n` +
    (ct ? `Content-Type: ${ct}\r\n` : '') +
    `Content-Length: ${body.length}\r\n` +
    (rand() < 0.5 ? 'Connection: close\r\n' : '') +
    '\r\n';
  let raw = Buffer.concat([Buffer.from(head), body]);
  if (rand() < 0.3) raw = mutate(raw);
  return { raw, halfClose: rand() < 0.5 };
}

// Sends one raw request; resolves when the server closed the connection or 2 s passed.
function exchange(port, { raw, halfClose }) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const done = (how) => {
      clearTimeout(t);
      s.destroy();
      resolve(how);
    };
    const t = setTimeout(() => done('timeout'), 2000);
    s.on('error', (e) => (e.code === 'ECONNREFUSED' ? reject(e) : done('reset')));
    s.on('data', () => {});
    s.on('close', () => done('closed'));
    s.on('connect', () => {
      s.write(raw);
      if (halfClose) s.end();
    });
  });
}

test(`${REQUESTS} mutated requests (seed ${SEED}): the server stays up and exits cleanly`, { timeout: 240000 }, async () => {
  const srv = await startServer({
    server: '  header_timeout_ms = 1000;\n  idle_timeout_ms = 800;\n  request_timeout_ms = 2000;\n',
  });
  let st;
  try {
    const outcomes = {};
    const inFlight = 32;
    let next = 0;
    async function lane() {
      while (next < REQUESTS) {
        next++;
        const how = await exchange(srv.port, oneRequest());
        outcomes[how] = (outcomes[how] || 0) + 1;
      }
    }
    await Promise.all(Array.from({ length: inFlight }, lane));
    const total = Object.values(outcomes).reduce((a, b) => a + b, 0);
    assert.equal(total, REQUESTS, JSON.stringify(outcomes));
    // still serving, and still correct
    const ping = await http(`${srv.url}/api/server/ping`);
    assert.equal(ping.status, 200);
    assert.equal(ping.body.pong, true);
    const agents = await http(`${srv.url}/api/agents`);
    assert.equal(agents.status, 200);
    assert.equal(agents.body.success, true);
  } finally {
    st = await srv.stop();
  }
  const log = srv.log();
  assert.equal(st.code, 0, `exit ${JSON.stringify(st)}\n${log.slice(-4000)}`);
  assert.doesNotMatch(log, /AddressSanitizer|LeakSanitizer|runtime error:/);
});
