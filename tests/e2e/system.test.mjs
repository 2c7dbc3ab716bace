// The kernel's own endpoints (COMPAT §12) at the real paths and at the seed's aliases (§2),
// with the exact shapes, X-API-KEY auth on and off (§1.4), the local .env routes (atomic,
// validated first: §18 #15), the log ring, the default body limit, and POST /api/server/stop.
// Only the kernel runs (plugins: []), so no agent is running anywhere.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, http } from './lib/harness.mjs';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const LEVELS = ['fatal', 'error', 'warn', 'info', 'log', 'progress', 'success', 'debug', 'trace'];

function keys(o) {
  return Object.keys(o).sort();
}

function near(ms) {
  return Math.abs(ms - Date.now()) < 60000;
}

// Starts the server with its working directory in `cwd` (where the .env search begins).
async function startIn(cwd, opts) {
  const here = process.cwd();
  process.chdir(cwd);
  try {
    return await startServer(opts);
  } finally {
    process.chdir(here);
  }
}

describe('system endpoints, no API key', () => {
  let srv;
  let envDir;
  before(async () => {
    envDir = mkdtempSync(join(tmpdir(), 'elizad-env-'));
    writeFileSync(
      join(envDir, '.env'),
      '# a comment\nOPENAI_API_KEY=sk-test\nexport PORT = 3000 # trailing comment\nQUOTED="a b\\nc"\nSINGLE=\'x # y\'\nEMPTY=\n',
    );
    const sub = join(envDir, 'a', 'b');
    await import('node:fs').then((fs) => fs.mkdirSync(sub, { recursive: true }));
    srv = await startIn(sub, { plugins: [], env: { APP_VERSION: '9.9.9-test' } });
  });
  after(async () => {
    const st = await srv.stop();
    rmSync(envDir, { recursive: true, force: true });
    assert.equal(st.code, 0, 'graceful SIGTERM exits 0');
  });

  test('GET /healthz', async () => {
    const r = await http(`${srv.url}/healthz`);
    assert.equal(r.status, 200);
    assert.deepEqual(keys(r.body), ['status', 'timestamp']);
    assert.equal(r.body.status, 'ok');
    assert.match(r.body.timestamp, ISO);
  });

  test('GET /health: 503 DEGRADED without a running agent', async () => {
    const r = await http(`${srv.url}/health`);
    assert.equal(r.status, 503);
    assert.deepEqual(keys(r.body), ['agentCount', 'dependencies', 'status', 'timestamp', 'version']);
    assert.equal(r.body.status, 'DEGRADED');
    assert.equal(r.body.version, '9.9.9-test');
    assert.deepEqual(r.body.dependencies, { agents: 'no_agents' });
    assert.equal(r.body.agentCount, 0);
    assert.match(r.body.timestamp, ISO);
  });

  for (const path of ['/api/server/ping', '/api/ping']) {
    test(`GET ${path}`, async () => {
      const r = await http(`${srv.url}${path}`);
      assert.equal(r.status, 200);
      assert.deepEqual(keys(r.body), ['pong', 'timestamp']);
      assert.equal(r.body.pong, true);
      assert.ok(Number.isInteger(r.body.timestamp) && near(r.body.timestamp));
      assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
    });
  }

  test('GET /api/server/hello', async () => {
    const r = await http(`${srv.url}/api/server/hello`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { message: 'Hello World!' });
  });

  for (const path of ['/api/server/status', '/api/status']) {
    test(`GET ${path}`, async () => {
      const r = await http(`${srv.url}${path}`);
      assert.equal(r.status, 200);
      assert.deepEqual(keys(r.body), ['agentCount', 'status', 'timestamp']);
      assert.equal(r.body.status, 'ok');
      assert.equal(r.body.agentCount, 0);
      assert.match(r.body.timestamp, ISO);
    });
  }

  for (const path of ['/api/server/health', '/api/health']) {
    test(`GET ${path}: 503 with status OK and no_agents`, async () => {
      const r = await http(`${srv.url}${path}`);
      assert.equal(r.status, 503);
      assert.deepEqual(keys(r.body), ['dependencies', 'status', 'timestamp', 'version']);
      assert.equal(r.body.status, 'OK');
      assert.equal(r.body.version, '9.9.9-test');
      assert.deepEqual(r.body.dependencies, { agents: 'no_agents' });
      assert.match(r.body.timestamp, ISO);
    });
  }

  for (const path of ['/api/system/version', '/api/version']) {
    test(`GET ${path}`, async () => {
      const r = await http(`${srv.url}${path}`);
      assert.equal(r.status, 200);
      assert.deepEqual(keys(r.body), ['elizad', 'environment', 'source', 'timestamp', 'uptime', 'version']);
      assert.equal(r.body.version, '1.7.2');
      assert.equal(r.body.source, 'server');
      assert.equal(r.body.environment, 'development');
      assert.match(r.body.timestamp, ISO);
      assert.equal(typeof r.body.uptime, 'number');
      assert.ok(r.body.uptime >= 0 && r.body.uptime < 600);
      assert.match(r.body.elizad, /^\d+\.\d+\.\d+/);
    });
  }

  for (const path of ['/api/system/config', '/api/config']) {
    test(`GET ${path}`, async () => {
      const r = await http(`${srv.url}${path}`);
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, { success: true, data: { requiresAuth: false } });
    });
  }

  test('GET /api/plugins', async () => {
    const r = await http(`${srv.url}/api/plugins`);
    assert.equal(r.status, 200);
    assert.deepEqual(keys(r.body), ['data', 'success']);
    assert.equal(r.body.success, true);
    assert.ok(Array.isArray(r.body.data.plugins));
  });

  for (const path of ['/api/system/env/local', '/api/env']) {
    test(`GET ${path}: the .env found walking up from the working directory`, async () => {
      const r = await http(`${srv.url}${path}`);
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, {
        success: true,
        data: { OPENAI_API_KEY: 'sk-test', PORT: '3000', QUOTED: 'a b\nc', SINGLE: 'x # y', EMPTY: '' },
      });
    });
  }

  test('the .env is read on a worker: 30 concurrent GETs all answer, and ping meanwhile', async () => {
    const gets = Array.from({ length: 30 }, () => http(`${srv.url}/api/system/env/local`));
    const ping = await http(`${srv.url}/api/server/ping`);
    assert.equal(ping.status, 200);
    for (const r of await Promise.all(gets)) {
      assert.equal(r.status, 200);
      assert.equal(r.body.data.OPENAI_API_KEY, 'sk-test');
    }
  });

  test('POST /api/system/env/local rewrites the .env; PUT /api/env too', async () => {
    const file = join(envDir, '.env');
    const r = await http(`${srv.url}/api/system/env/local`, {
      method: 'POST',
      body: { content: { A: 'one', B: 'two words', C: 'x#y', D: "it's \"q\"", N: 5, T: true } },
    });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { success: true, message: 'Local env updated' });
    const text = readFileSync(file, 'utf8');
    assert.match(text, /^A=one\n\nB=two words\n\n/);
    const back = await http(`${srv.url}/api/system/env/local`);
    assert.deepEqual(back.body.data, { A: 'one', B: 'two words', C: 'x#y', D: "it's \"q\"", N: '5', T: 'true' });
    assert.deepEqual(readdirSync(envDir).filter((f) => f.startsWith('.env')), ['.env'], 'no temp file left');

    const p = await http(`${srv.url}/api/env`, { method: 'PUT', body: { content: { ONLY: 'this' } } });
    assert.equal(p.status, 200);
    assert.equal(readFileSync(file, 'utf8'), 'ONLY=this\n');
  });

  test('invalid content: 400 INVALID_INPUT and the .env is left untouched', async () => {
    const file = join(envDir, '.env');
    writeFileSync(file, 'KEEP=me\n');
    for (const body of [{ content: 'A=b' }, { content: ['a', 'b'] }, { nope: 1 }, { content: { OK: 'x', BAD: { o: 1 } } }, { content: { 'bad key': 'x' } }]) {
      const r = await http(`${srv.url}/api/system/env/local`, { method: 'POST', body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.deepEqual(r.body, {
        success: false,
        error: { code: 'INVALID_INPUT', message: 'Missing or invalid "content" in request body' },
      });
    }
    const none = await http(`${srv.url}/api/system/env/local`, { method: 'POST' });
    assert.equal(none.status, 400);
    assert.equal(readFileSync(file, 'utf8'), 'KEEP=me\n');
  });

  test('GET/POST /api/server/logs and the /api/logs/system alias', async () => {
    await http(`${srv.url}/api/server/ping`);
    for (const [method, path] of [['GET', '/api/server/logs'], ['POST', '/api/server/logs'], ['GET', '/api/logs/system']]) {
      const r = await http(`${srv.url}${path}`, { method });
      assert.equal(r.status, 200, `${method} ${path}`);
      assert.deepEqual(keys(r.body), ['agentId', 'agentName', 'count', 'levels', 'logs', 'requestedLevel', 'total']);
      assert.deepEqual(r.body.levels, LEVELS);
      assert.equal(r.body.requestedLevel, 'all');
      assert.equal(r.body.agentName, 'all');
      assert.equal(r.body.agentId, 'all');
      assert.ok(r.body.logs.length > 0, 'startup lines are in the ring');
      assert.equal(r.body.count, r.body.logs.length);
      assert.ok(r.body.total >= r.body.count);
      for (const e of r.body.logs) {
        assert.deepEqual(keys(e), ['level', 'msg', 'time']);
        assert.ok(Number.isInteger(e.time) && near(e.time));
        assert.equal(typeof e.level, 'number');
        assert.equal(typeof e.msg, 'string');
      }
    }
    const info = await http(`${srv.url}/api/server/logs?level=INFO&limit=1`);
    assert.equal(info.body.requestedLevel, 'info');
    assert.equal(info.body.logs.length, 1);
    assert.equal(info.body.logs[0].level, 30);
    const none = await http(`${srv.url}/api/server/logs?level=fatal`);
    assert.equal(none.body.count, 0);
    const future = await http(`${srv.url}/api/server/logs?since=${Date.now() + 60000}`);
    assert.equal(future.body.count, 0);
  });

  test('DELETE /api/server/logs clears the ring', async () => {
    const r = await http(`${srv.url}/api/server/logs`, { method: 'DELETE' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { status: 'success', message: 'Logs cleared successfully' });
    const after = await http(`${srv.url}/api/server/logs`);
    assert.ok(after.body.total <= 1, `total ${after.body.total} after clearing`);
  });

  test('the default body limit is 2 MB', async () => {
    const over = await http(`${srv.url}/api/server/logs`, {
      method: 'POST',
      body: JSON.stringify({ s: 'x'.repeat(2.2 * 1024 * 1024) }),
      raw: true,
      headers: { 'Content-Type': 'application/json' },
    });
    assert.equal(over.status, 413);
    assert.deepEqual(over.body, { success: false, error: { message: 'request entity too large', code: 413 } });
    const under = await http(`${srv.url}/api/server/logs`, { method: 'POST', body: { s: 'x'.repeat(1.8 * 1024 * 1024) } });
    assert.equal(under.status, 200);
  });

  test('without a key nothing under /api asks for one', async () => {
    const r = await http(`${srv.url}/api/server/ping`, { headers: { 'X-API-KEY': 'whatever' } });
    assert.equal(r.status, 200);
  });
});

test('no .env anywhere up the tree: GET answers {}, POST 500 UPDATE_ERROR', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'elizad-noenv-'));
  // the search walks up to /; skip when the machine has a .env above the temp directory
  const above = [tmpdir(), '/'].some((d) => existsSync(join(d, '.env')));
  const srv = await startIn(dir, { plugins: [] });
  try {
    if (!above) {
      const g = await http(`${srv.url}/api/system/env/local`);
      assert.deepEqual(g.body, { success: true, data: {} });
      const p = await http(`${srv.url}/api/system/env/local`, { method: 'POST', body: { content: { A: 'b' } } });
      assert.equal(p.status, 500);
      assert.deepEqual(p.body, { success: false, error: { code: 'UPDATE_ERROR', message: 'Local .env file not found' } });
      assert.equal(existsSync(join(dir, '.env')), false);
    }
  } finally {
    await srv.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('with ELIZA_SERVER_AUTH_TOKEN', () => {
  let srv;
  before(async () => {
    srv = await startServer({ plugins: [], env: { ELIZA_SERVER_AUTH_TOKEN: 'k3y-secret', ENABLE_DATA_ISOLATION: 'true' } });
  });
  after(async () => {
    const st = await srv.stop();
    assert.equal(st.code, 0);
  });

  test('every /api path needs X-API-KEY: 401 with the exact body', async () => {
    for (const path of ['/api/server/ping', '/api/system/version', '/API/Server/Ping', '/api/nope', '/api']) {
      for (const headers of [{}, { 'X-API-KEY': 'wrong' }, { 'X-API-KEY': 'k3y-secre' }, { Authorization: 'Bearer k3y-secret' }]) {
        const r = await http(`${srv.url}${path}`, { headers });
        assert.equal(r.status, 401, `${path} ${JSON.stringify(headers)}`);
        assert.deepEqual(r.body, { error: 'API key required', message: 'Missing or invalid X-API-KEY header' });
      }
    }
  });

  test('the right key opens /api; the seed aliases too', async () => {
    for (const path of ['/api/server/ping', '/api/ping', '/api/status']) {
      const r = await http(`${srv.url}${path}`, { headers: { 'x-api-key': 'k3y-secret' } });
      assert.equal(r.status, 200, path);
    }
    const cfg = await http(`${srv.url}/api/system/config`, { headers: { 'X-API-KEY': 'k3y-secret' } });
    assert.deepEqual(cfg.body, { success: true, data: { requiresAuth: true } }); // ENABLE_DATA_ISOLATION, not the key
  });

  test('public paths and CORS preflight need no key', async () => {
    assert.equal((await http(`${srv.url}/healthz`)).status, 200);
    assert.equal((await http(`${srv.url}/health`)).status, 503);
    const pre = await fetch(`${srv.url}/api/server/ping`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://ui', 'Access-Control-Request-Headers': 'x-api-key' },
    });
    assert.equal(pre.status, 204);
    assert.ok(pre.headers.get('access-control-allow-headers').toLowerCase().includes('x-api-key'));
    // outside /api an unknown path is a plain 404, not a 401
    const nf = await http(`${srv.url}/media/nothing.png`);
    assert.equal(nf.status, 404);
  });
});

for (const path of ['/api/server/stop', '/api/stop']) {
  test(`POST ${path} answers, then the server exits with status 0`, async () => {
    const srv = await startServer({ plugins: [] });
    const r = await http(`${srv.url}${path}`, { method: 'POST' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { message: 'Server stopping...' });
    const t = setTimeout(() => srv.child.kill('SIGKILL'), 10000);
    const st = await srv.exited;
    clearTimeout(t);
    assert.equal(st.code, 0);
    await srv.stop();
  });
}
