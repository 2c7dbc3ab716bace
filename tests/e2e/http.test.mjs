// The HTTP layer seen from outside: routing decisions and their exact error bodies
// (404/405/400/413/500), CORS and security headers, body parsing rules, keep-alive, the header
// and idle timeouts, and the request/response host API through the test plugin `webtest`
// (tests/plugins-web/webtest): async answers, clients that leave, SSE streams, uuid parameters,
// raw bodies, aliases and cross-plugin route conflicts.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { request as httpRequest } from 'node:http';
import { startServer, http } from './lib/harness.mjs';

const UUID = '5d53d7ff-18e0-05c1-92f8-b792e6b0fd11';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Sends raw bytes on one TCP connection and collects everything until the server closes it or
// `idleMs` passes without data. Resolves {data, closed, ms}.
function rawExchange(port, chunks, { idleMs = 1500, gapMs = 0, maxMs = 10000 } = {}) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const s = connect(port, '127.0.0.1');
    let data = '';
    let closed = false;
    let idle;
    const done = () => {
      clearTimeout(idle);
      clearTimeout(hard);
      s.destroy();
      resolve({ data, closed, ms: Date.now() - t0 });
    };
    const hard = setTimeout(done, maxMs);
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(done, idleMs);
    };
    s.on('data', (d) => {
      data += d.toString('latin1');
      arm();
    });
    s.on('close', () => {
      closed = true;
      done();
    });
    s.on('error', () => {});
    s.on('connect', async () => {
      arm();
      for (const c of chunks) {
        if (s.destroyed) break;
        s.write(c);
        if (gapMs) await sleep(gapMs);
      }
    });
  });
}

function countResponses(data) {
  return (data.match(/HTTP\/1\.1 \d{3} /g) || []).length;
}

describe('routing, errors and headers', () => {
  let srv;
  before(async () => {
    srv = await startServer({
      plugins: ['webtest'],
      server: '  max_body = "100kb";\n  max_upload = "400kb";\n  header_timeout_ms = 1000;\n  idle_timeout_ms = 800;\n',
    });
  });
  after(async () => {
    const st = await srv.stop();
    assert.equal(st.code, 0);
  });

  test('unknown /api path: 404 with the API envelope (numeric code)', async () => {
    const r = await http(`${srv.url}/api/does/not/exist`);
    assert.equal(r.status, 404);
    assert.deepEqual(r.body, { success: false, error: { message: 'API endpoint not found', code: 404 } });
    assert.match(r.headers.get('content-type'), /^application\/json/);
  });

  test('unknown path outside /api: 404 {"error":"Not found"}', async () => {
    const r = await http(`${srv.url}/nothing/here`);
    assert.equal(r.status, 404);
    assert.deepEqual(r.body, { error: 'Not found' });
  });

  test('known /api path, other method: the official 404 envelope, with Allow', async () => {
    const r = await http(`${srv.url}/api/server/logs`, { method: 'PATCH' });
    assert.equal(r.status, 404);
    assert.deepEqual(r.body, { success: false, error: { message: 'API endpoint not found', code: 404 } });
    assert.equal(r.headers.get('allow'), 'GET, POST, DELETE');
    const put = await http(`${srv.url}/api/webtest/async`, { method: 'PUT', body: {} });
    assert.equal(put.status, 404);
    assert.equal(put.headers.get('allow'), 'GET');
    // COMPAT §12: env/local has GET and POST, no PUT
    const env = await http(`${srv.url}/api/system/env/local`, { method: 'PUT', body: { content: {} } });
    assert.equal(env.status, 404);
  });

  test('security headers, Content-Type and Content-Length on every answer', async () => {
    for (const path of ['/api/server/ping', '/api/nope', '/nope', '/healthz']) {
      const r = await fetch(`${srv.url}${path}`);
      await r.text();
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff', path);
      assert.equal(r.headers.get('x-frame-options'), 'SAMEORIGIN', path);
      assert.equal(r.headers.get('referrer-policy'), 'no-referrer', path);
      assert.ok(r.headers.get('content-type'), path);
      assert.ok(Number(r.headers.get('content-length')) > 0, path);
    }
  });

  test('CORS: the request origin is reflected with credentials; none without Origin', async () => {
    const r = await fetch(`${srv.url}/api/server/ping`, { headers: { Origin: 'http://ui.example:5173' } });
    await r.text();
    assert.equal(r.headers.get('access-control-allow-origin'), 'http://ui.example:5173');
    assert.equal(r.headers.get('access-control-allow-credentials'), 'true');
    const n = await fetch(`${srv.url}/api/server/ping`);
    await n.text();
    assert.equal(n.headers.get('access-control-allow-origin'), null);
  });

  test('CORS preflight: 204 with methods and headers, for any path', async () => {
    for (const path of ['/api/agents', '/api/webtest/echo', '/whatever']) {
      const r = await fetch(`${srv.url}${path}`, {
        method: 'OPTIONS',
        headers: {
          Origin: 'http://ui.example',
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'x-api-key,content-type',
        },
      });
      assert.equal(r.status, 204, path);
      assert.equal(await r.text(), '');
      assert.equal(r.headers.get('access-control-allow-origin'), 'http://ui.example');
      assert.equal(r.headers.get('access-control-allow-credentials'), 'true');
      const methods = r.headers.get('access-control-allow-methods');
      for (const m of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) assert.ok(methods.includes(m), methods);
      const hdrs = r.headers.get('access-control-allow-headers').toLowerCase();
      for (const h of ['content-type', 'authorization', 'x-api-key', 'x-entity-id']) assert.ok(hdrs.includes(h), hdrs);
    }
  });

  test('malformed JSON: 400 "Invalid JSON: <parser message>"', async () => {
    const r = await http(`${srv.url}/api/webtest/echo`, {
      method: 'POST',
      body: '{"a":',
      raw: true,
      headers: { 'Content-Type': 'application/json' },
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.success, false);
    assert.equal(r.body.error.code, 400);
    assert.match(r.body.error.message, /^Invalid JSON: .+/);
    assert.deepEqual(Object.keys(r.body.error).sort(), ['code', 'message']);
    // a bare JSON string is not an accepted body either (Express json() strict mode)
    const s = await http(`${srv.url}/api/webtest/echo`, {
      method: 'POST',
      body: '"text"',
      raw: true,
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
    });
    assert.equal(s.status, 400);
    assert.match(s.body.error.message, /^Invalid JSON: /);
  });

  test('content type guard on /api: 400 INVALID_CONTENT_TYPE; empty bodies and other types pass', async () => {
    const bad = await http(`${srv.url}/api/webtest/echo`, {
      method: 'POST',
      body: 'hello',
      raw: true,
      headers: { 'Content-Type': 'text/plain' },
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, {
      success: false,
      error: { code: 'INVALID_CONTENT_TYPE', message: 'Invalid or missing Content-Type header' },
    });
    for (const method of ['PUT', 'PATCH']) {
      const r = await fetch(`${srv.url}/api/webtest/echo`, { method, body: 'x=1', headers: { 'Content-Type': 'text/csv' } });
      assert.equal(r.status, 400, method);
      await r.text();
    }
    const form = await http(`${srv.url}/api/webtest/echo`, {
      method: 'POST',
      body: 'a=1',
      raw: true,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(form.status, 200);
    assert.equal(form.body.body, null); // not parsed, like the real server
    const empty = await http(`${srv.url}/api/webtest/echo`, { method: 'POST' });
    assert.equal(empty.status, 200);
    assert.equal(empty.body.body, null);
    // raw_body routes read any type
    const raw = await http(`${srv.url}/api/webtest/raw`, {
      method: 'POST',
      body: 'plain text body',
      raw: true,
      headers: { 'Content-Type': 'text/plain' },
    });
    assert.equal(raw.status, 200);
    assert.deepEqual(raw.body, { len: 15, parsed: false });
  });

  test('JSON bodies are parsed once and handed to the handler (POST, PUT, PATCH, DELETE)', async () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const r = await http(`${srv.url}/api/webtest/echo`, { method, body: { n: 1, s: 'é', a: [true, null] } });
      assert.equal(r.status, 200, method);
      assert.equal(r.body.method, method);
      assert.deepEqual(r.body.body, { n: 1, s: 'é', a: [true, null] });
    }
  });

  test('413 by Content-Length, before the body is read, with the real envelope', async () => {
    const big = 'x'.repeat(150 * 1024);
    const r = await http(`${srv.url}/api/webtest/echo`, {
      method: 'POST',
      body: big,
      raw: true,
      headers: { 'Content-Type': 'application/json' },
    });
    assert.equal(r.status, 413);
    assert.deepEqual(r.body, { success: false, error: { message: 'request entity too large', code: 413 } });
    // under the limit is fine
    const ok = await http(`${srv.url}/api/webtest/echo`, { method: 'POST', body: { s: 'y'.repeat(90 * 1024) } });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.body.s.length, 90 * 1024);
  });

  test('413 while reading a chunked body that outgrows the limit; the server carries on', async () => {
    const res = await new Promise((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: srv.port, path: '/api/webtest/echo', method: 'POST', headers: { 'Content-Type': 'application/json' } },
        (r) => {
          let body = '';
          r.on('data', (d) => (body += d));
          r.on('end', () => resolve({ status: r.statusCode, body }));
        },
      );
      req.on('error', reject);
      const chunk = 'z'.repeat(16 * 1024);
      let sent = 0;
      const pump = () => {
        while (sent < 40) {
          sent++;
          if (!req.write(chunk)) return req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    assert.equal(res.status, 413);
    assert.deepEqual(JSON.parse(res.body), { success: false, error: { message: 'request entity too large', code: 413 } });
    const after = await http(`${srv.url}/api/server/ping`);
    assert.equal(after.status, 200);
  });

  test('Expect: 100-continue gets a 100 first, or the 413 right away when too large', async () => {
    const ok = await rawExchange(
      srv.port,
      ['POST /api/webtest/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 8\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n', '{"k":42}'],
      { gapMs: 200, idleMs: 1000 },
    );
    assert.match(ok.data, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    assert.ok(ok.data.includes('"body":{"k":42}'), ok.data);
    const big = await rawExchange(
      srv.port,
      ['POST /api/webtest/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 999999999\r\nExpect: 100-continue\r\n\r\n'],
      { idleMs: 2000 },
    );
    assert.match(big.data, /^HTTP\/1\.1 413 /);
    assert.ok(!big.data.includes('100 Continue'));
    assert.ok(big.data.includes('"request entity too large"'));
  });

  test('too many header lines: 431 and the connection closes', async () => {
    const lines = Array.from({ length: 400 }, (_, i) => `X-H${i}: v\r\n`).join('');
    const r = await rawExchange(srv.port, [`GET /api/server/ping HTTP/1.1\r\nHost: x\r\n${lines}\r\n`], { idleMs: 2000 });
    assert.match(r.data, /^HTTP\/1\.1 431 /);
    assert.ok(r.data.endsWith('{"success":false,"error":{"message":"request header fields too large","code":431}}'), r.data);
    assert.equal(r.closed, true);
    const some = Array.from({ length: 100 }, (_, i) => `X-H${i}: v\r\n`).join('');
    const fine = await rawExchange(srv.port, [`GET /api/server/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${some}\r\n`]);
    assert.match(fine.data, /^HTTP\/1\.1 200 /);
  });

  test('raw_body routes take uploads beyond server.max_body, up to server.max_upload', async () => {
    const post = (n) =>
      http(`${srv.url}/api/webtest/raw`, {
        method: 'POST',
        body: Buffer.alloc(n, 7),
        raw: true,
        headers: { 'Content-Type': 'application/octet-stream' },
      });
    const r = await post(300 * 1024);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { len: 300 * 1024, parsed: false });
    const big = await post(500 * 1024);
    assert.equal(big.status, 413);
    assert.deepEqual(big.body, { success: false, error: { message: 'request entity too large', code: 413 } });
  });

  test('respond_error renders the five envelopes (COMPAT §1.3)', async () => {
    const get = async (style, q = '') => {
      const r = await http(`${srv.url}/api/webtest/error/${style}${q}`);
      assert.equal(r.status, 418);
      assert.match(r.headers.get('content-type'), /^application\/json/);
      return r.body;
    };
    assert.deepEqual(await get(0, '?code=TEA&details=hot'), {
      success: false,
      error: { code: 'TEA', message: 'Teapot', details: 'hot' },
    });
    assert.deepEqual(await get(0, '?code=TEA'), { success: false, error: { code: 'TEA', message: 'Teapot' } });
    assert.deepEqual(await get(1, '?code=TEA&details=hot'), { success: false, error: 'Teapot', details: 'hot' });
    assert.deepEqual(await get(1), { success: false, error: 'Teapot' });
    const c = await get(2, '?code=TEA');
    assert.deepEqual(Object.keys(c), ['error']);
    assert.deepEqual(Object.keys(c.error), ['code', 'message', 'timestamp']);
    assert.equal(c.error.code, 'TEA');
    assert.match(c.error.timestamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    assert.deepEqual(await get(3, '?code=TEA&details=x'), { success: false, error: 'Teapot' });
    assert.deepEqual(await get(4), { error: 'Teapot' });
  });

  test('a handler that returns without answering gets a 500', async () => {
    const r = await http(`${srv.url}/api/webtest/forgot`);
    assert.equal(r.status, 500);
    assert.deepEqual(r.body, { success: false, error: { message: 'Internal server error', code: 500 } });
  });

  test('uuid parameters are validated centrally, in the route\'s envelope', async () => {
    const bad = await http(`${srv.url}/api/webtest/items/not-a-uuid`);
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { success: false, error: 'Invalid item id' });
    const good = await http(`${srv.url}/api/webtest/items/${UUID.toUpperCase()}`);
    assert.equal(good.status, 200);
    assert.deepEqual(good.body, { itemId: UUID.toUpperCase() });
  });

  test('query strings (decoded, repeated keys), decoded path, headers, peer address', async () => {
    const r = await http(`${srv.url}/api/webtest/echo?a=x%20y&tag=1&tag=2+3&tag=%C3%A9`, {
      headers: { 'X-Test': 'hdr' },
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.a, 'x y');
    assert.deepEqual(r.body.tags, ['1', '2 3', 'é']);
    assert.equal(r.body.x_test, 'hdr');
    assert.equal(r.body.remote, '127.0.0.1');
    assert.equal(r.body.loopback, true);
    assert.equal(r.body.authed, false);
    const none = await http(`${srv.url}/api/webtest/echo`);
    assert.deepEqual(none.body.tags, []);
    assert.equal(none.body.a, null);
  });

  test('paths: case-insensitive literals, trailing slash, aliases, percent-decoded params, "*"', async () => {
    const r = await http(`${srv.url}/API/WebTest/Echo/`);
    assert.equal(r.status, 200);
    assert.equal(r.body.path, '/API/WebTest/Echo/');
    const alias = await http(`${srv.url}/webtest/echo-alias/h%C3%A9llo%20w`);
    assert.equal(alias.status, 200);
    assert.equal(alias.body.word, 'héllo w');
    const star = await http(`${srv.url}/api/webtest/files/a/b%20c.txt`);
    assert.deepEqual(star.body, { rest: 'a/b c.txt' });
  });

  test('HEAD answers like GET without a body', async () => {
    const r = await fetch(`${srv.url}/api/server/ping`, { method: 'HEAD' });
    assert.equal(r.status, 200);
    assert.ok(Number(r.headers.get('content-length')) > 10);
    assert.equal(await r.text(), '');
  });

  test('set_header adds headers and refuses CR/LF injection', async () => {
    const r = await fetch(`${srv.url}/api/webtest/headers`);
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('x-custom'), 'yes');
    assert.equal(r.headers.get('injected'), null);
    assert.equal(await r.text(), 'bad-rejected=1');
  });

  test('async answers arrive; an answer for a client that left is dropped quietly', async () => {
    const before = (await http(`${srv.url}/api/webtest/stats`)).body;
    const r = await http(`${srv.url}/api/webtest/async?delay=120`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { ok: true });
    // a client that gives up before the answer
    const ac = new AbortController();
    const p = fetch(`${srv.url}/api/webtest/async?delay=400`, { signal: ac.signal }).catch((e) => e);
    await sleep(100);
    ac.abort();
    assert.equal((await p).name, 'AbortError');
    await sleep(600);
    const st = (await http(`${srv.url}/api/webtest/stats`)).body;
    assert.equal(st.async_done, before.async_done + 1);
    assert.equal(st.async_gone, before.async_gone + 1);
    // and the server is fine
    assert.equal((await http(`${srv.url}/api/server/ping`)).status, 200);
  });

  test('SSE streaming: chunked events, and a reader that leaves is noticed', async () => {
    const r = await fetch(`${srv.url}/api/webtest/stream?n=3&delay=10`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'text/event-stream');
    assert.equal(r.headers.get('transfer-encoding'), 'chunked');
    assert.equal(r.headers.get('cache-control'), 'no-cache');
    assert.equal(await r.text(), 'data: {"i":0}\n\ndata: {"i":1}\n\ndata: {"i":2}\n\n');

    const before = (await http(`${srv.url}/api/webtest/stats`)).body;
    const ac = new AbortController();
    const s = await fetch(`${srv.url}/api/webtest/stream?n=100000&delay=10`, { signal: ac.signal });
    const reader = s.body.getReader();
    const first = await reader.read();
    assert.match(Buffer.from(first.value).toString(), /^data: /);
    ac.abort();
    await sleep(300);
    const st = (await http(`${srv.url}/api/webtest/stats`)).body;
    assert.equal(st.stream_gone, before.stream_gone + 1);
    assert.equal(st.stream_done, before.stream_done);
  });

  test('keep-alive: several requests on one connection', async () => {
    const req = `GET /api/server/ping HTTP/1.1\r\nHost: x\r\n\r\n`;
    const r = await rawExchange(srv.port, [req, req, req], { gapMs: 50, idleMs: 300 });
    assert.equal(countResponses(r.data), 3, r.data);
    assert.ok(!/connection: close/i.test(r.data));
    // HTTP/1.0 without keep-alive closes after the answer
    const old = await rawExchange(srv.port, ['GET /api/server/ping HTTP/1.0\r\n\r\n'], { idleMs: 2000 });
    assert.match(old.data, /^HTTP\/1\.[01] 200 /);
    assert.equal(old.closed, true);
  });

  test('a slow-loris client is disconnected after header_timeout_ms', async () => {
    const drip = ['GET /api/server/ping HTTP/1.1\r\nHost: x\r\n'];
    for (let i = 0; i < 40; i++) drip.push(`X-Drip-${i}: y\r\n`);
    const r = await rawExchange(srv.port, drip, { gapMs: 100, idleMs: 5000, maxMs: 8000 });
    assert.equal(r.closed, true);
    assert.ok(r.ms >= 900 && r.ms < 3000, `closed after ${r.ms} ms`);
    assert.equal(countResponses(r.data), 0);
  });

  test('an idle keep-alive connection is closed after idle_timeout_ms', async () => {
    const r = await rawExchange(srv.port, ['GET /api/server/ping HTTP/1.1\r\nHost: x\r\n\r\n'], {
      idleMs: 5000,
      maxMs: 8000,
    });
    assert.equal(countResponses(r.data), 1);
    assert.equal(r.closed, true);
    assert.ok(r.ms >= 700 && r.ms < 3000, `closed after ${r.ms} ms`);
  });

  test('a silent connection is closed after header_timeout_ms', async () => {
    const r = await rawExchange(srv.port, [], { idleMs: 5000, maxMs: 8000 });
    assert.equal(r.closed, true);
    assert.ok(r.ms >= 900 && r.ms < 3000, `closed after ${r.ms} ms`);
  });

  test('unknown methods get a 404 on /api paths, known or not', async () => {
    const r = await rawExchange(srv.port, ['PROPFIND /api/server/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    assert.match(r.data, /^HTTP\/1\.1 404 /);
    const n = await rawExchange(srv.port, ['PROPFIND /api/zzz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    assert.match(n.data, /^HTTP\/1\.1 404 /);
  });
});

test('a route registered by two plugins fails startup with one line naming both', async () => {
  await assert.rejects(
    startServer({ plugins: ['hello', 'webtest'], sections: 'webtest: {\n  clash = true;\n};\n' }),
    (err) => {
      const line = err.message.split('\n').find((l) => l.includes('/api/hello') && /conflict/i.test(l));
      assert.ok(line, err.message);
      assert.ok(line.includes("'hello'") && line.includes("'webtest'"), line);
      return true;
    },
  );
});

test('server.cors_origin replaces reflection', async () => {
  const srv = await startServer({ plugins: [], server: '  cors_origin = "http://only.example";\n' });
  try {
    const r = await fetch(`${srv.url}/api/server/ping`, { headers: { Origin: 'http://other.example' } });
    await r.text();
    assert.equal(r.headers.get('access-control-allow-origin'), 'http://only.example');
  } finally {
    await srv.stop();
  }
});

test('server.method_not_allowed_405 = 1 answers 405 with Allow', async () => {
  const srv = await startServer({ plugins: [], server: '  method_not_allowed_405 = 1;\n' });
  try {
    const r = await fetch(`${srv.url}/api/server/logs`, { method: 'PATCH' });
    assert.equal(r.status, 405);
    assert.deepEqual(await r.json(), { success: false, error: { message: 'Method not allowed', code: 405 } });
    assert.equal(r.headers.get('allow'), 'GET, POST, DELETE');
  } finally {
    await srv.stop();
  }
});

test('is_authenticated with a key; public routes outside /api need none', async () => {
  const srv = await startServer({ plugins: ['webtest'], env: { ELIZA_SERVER_AUTH_TOKEN: 'tok' } });
  try {
    const yes = await http(`${srv.url}/api/webtest/echo`, { headers: { 'X-API-KEY': 'tok' } });
    assert.equal(yes.status, 200);
    assert.equal(yes.body.authed, true);
    assert.equal((await http(`${srv.url}/api/webtest/echo`)).status, 401);
    const pub = await http(`${srv.url}/webtest/echo-alias/w`);
    assert.equal(pub.status, 200);
    assert.equal(pub.body.authed, false);
  } finally {
    await srv.stop();
  }
});

test('an fd watch a plugin forgot is released at unload, with a warning naming the plugin', async () => {
  const srv = await startServer({ plugins: ['webtest'] });
  let st;
  try {
    const r = await http(`${srv.url}/api/webtest/forget-watch`, { method: 'POST', body: {} });
    assert.equal(r.status, 200);
    assert.equal(r.body.watching, true);
    let fired = 0;
    for (let i = 0; i < 50 && fired === 0; i++) {
      fired = (await http(`${srv.url}/api/webtest/stats`)).body.watch_fired;
      if (!fired) await new Promise((res) => setTimeout(res, 20));
    }
    assert.equal(fired, 1, 'the watch works while the plugin is loaded');
  } finally {
    st = await srv.stop();
  }
  assert.equal(st.code, 0, srv.log()); // under ASan: no leak, no use after free
  assert.match(srv.log(), /plugin webtest left 1 fd watch after destroy; released/);
});
