// The official elizaOS web UI (@elizaos/client 1.7.2, fetched with packaging/fetch-webui.sh)
// served by the webui plugin: plain HTTP checks (index, SPA routes, assets, caching, the API's
// own 404, path traversal, the "not installed" page), then a real headless Chromium that boots
// the UI against elizad: the agents list, a DM opened by the UI itself, and a chat round trip
// typed into the page. Chromium is driven over the DevTools protocol with the `ws` package the
// suite already has (no puppeteer); real time, not --dump-dom's virtual time, which stalls
// while Socket.IO long-polls.
// Only the browser tests skip, and only when no Chromium is installed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import WebSocket from 'ws';
import { startServer, http, ZERO_UUID } from './lib/harness.mjs';

const SRC = process.env.ELIZAD_SOURCE_DIR || new URL('../..', import.meta.url).pathname;
const BIN = process.env.ELIZAD_BIN || join(SRC, 'build/elizad');
// Beside the binary, like fetch-webui.sh's default for build/: each build dir has its own copy.
const DIST = process.env.WEBUI_DIR || join(dirname(BIN), 'webui');
const CHROMIUM = ['CHROMIUM', 'CHROME_BIN']
  .map((k) => process.env[k])
  .concat(['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'])
  .find((p) => p && existsSync(p));
const NO_CHROMIUM = 'chromium is not installed (Debian: apt-get install chromium; or set CHROMIUM=path)';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let srv;

before(async () => {
  // idempotent: downloads once per build directory (~4.6 MB from the npm registry)
  execFileSync('bash', [join(SRC, 'packaging/fetch-webui.sh'), DIST], { stdio: 'inherit', timeout: 180000 });
  srv = await startServer({
    plugins: ['messaging', 'agents', 'runtime', 'model_eliza', 'webui'],
    sections: `webui: { dir = "${DIST}"; };\n`,
  });
});

after(async () => {
  if (!srv) return;
  const st = await srv.stop();
  assert.equal(st.code, 0, `elizad exit: ${JSON.stringify(st)}\n${srv.log()}`);
});

// A request sent exactly as written: fetch() would normalise "/../" and "%2e%2e" away.
function raw(url, path, { method = 'GET', headers = {} } = {}) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const rq = request({ hostname, port, path, method, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    rq.on('error', reject);
    rq.end();
  });
}

async function createStartedAgent(name) {
  const r = await http(`${srv.url}/api/agents`, { method: 'POST', body: { characterJson: { name, bio: 'A web UI test agent.' } } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const id = r.body.data.id;
  const s = await http(`${srv.url}/api/agents/${id}/start`, { method: 'POST' });
  assert.equal(s.status, 200, JSON.stringify(s.body));
  return id;
}

// ---------------------------------------------------------------- plain HTTP

test('index.html at / and at client-side routes, revalidated (no-cache)', async () => {
  const index = readFileSync(join(DIST, 'index.html'), 'utf8');
  for (const path of ['/', `/chat/${randomUUID()}`, '/settings/', '/agents/new']) {
    const r = await raw(srv.url, path);
    assert.equal(r.status, 200, path);
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8', path);
    assert.equal(r.headers['cache-control'], 'no-cache', path);
    assert.ok(r.headers.etag, path);
    assert.equal(r.body.toString(), index, path);
  }
});

test('assets: Content-Type by extension, Content-Length, immutable caching, HEAD and 304', async () => {
  const index = readFileSync(join(DIST, 'index.html'), 'utf8');
  const main = index.match(/src="(\/assets\/main-[^"]+\.js)"/)[1];
  const r = await raw(srv.url, main);
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'text/javascript; charset=utf-8');
  assert.equal(Number(r.headers['content-length']), statSync(join(DIST, main)).size);
  assert.equal(r.body.length, statSync(join(DIST, main)).size);
  assert.equal(r.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.ok(r.headers['last-modified']);

  const head = await raw(srv.url, main, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], r.headers['content-length']);
  assert.equal(head.body.length, 0);

  const again = await raw(srv.url, main, { headers: { 'If-None-Match': r.headers.etag } });
  assert.equal(again.status, 304);
  assert.equal(again.body.length, 0);

  const byExt = { '.css': 'text/css; charset=utf-8', '.map': 'application/json; charset=utf-8' };
  for (const f of readdirSync(join(DIST, 'assets'))) {
    const want = byExt[f.slice(f.lastIndexOf('.'))];
    if (!want) continue;
    const a = await raw(srv.url, `/assets/${f}`, { method: 'HEAD' });
    assert.equal(a.status, 200, f);
    assert.equal(a.headers['content-type'], want, f);
  }
  for (const [path, type] of [['/favicon.ico', 'image/x-icon'], ['/elizaos.webp', 'image/webp'], ['/elizaos-icon.png', 'image/png']]) {
    const a = await raw(srv.url, path);
    assert.equal(a.status, 200, path);
    assert.equal(a.headers['content-type'], type, path);
    assert.equal(a.headers['cache-control'], 'public, max-age=0', path);
  }
});

test('missing files are 404 (a missing module in JavaScript, as the official server)', async () => {
  const js = await raw(srv.url, '/assets/main-gone1234.js');
  assert.equal(js.status, 404);
  assert.match(js.headers['content-type'], /^application\/javascript/);
  assert.equal(js.body.toString(), '// JavaScript module not found: /assets/main-gone1234.js\n');
  assert.equal((await raw(srv.url, '/nothing-here.png')).status, 404);
  assert.equal((await raw(srv.url, '/.webui-version')).status, 404); // dot files never served
});

test('the API keeps its paths and its official JSON 404', async () => {
  for (const path of ['/api/nope', '/api/agents/nope/deeper', '/api']) {
    const r = await http(`${srv.url}${path}`);
    assert.equal(r.status, 404, path);
    assert.match(r.headers.get('content-type'), /^application\/json/);
    assert.deepEqual(r.body, { success: false, error: { message: 'API endpoint not found', code: 404 } }, path);
  }
  const agents = await http(`${srv.url}/api/agents`);
  assert.equal(agents.status, 200);
  assert.equal(agents.body.success, true);
  const hz = await http(`${srv.url}/healthz`);
  assert.equal(hz.status, 200);
  assert.equal(hz.body.status, 'ok');
  const sio = await http(`${srv.url}/socket.io/?EIO=4&transport=polling`);
  assert.equal(sio.status, 200);
  assert.match(String(sio.body), /^0\{"sid"/);
});

test('path traversal and malformed paths are refused before any file is touched', async () => {
  const paths = [
    '/../etc/passwd',
    '/../../../../etc/passwd',
    '/%2e%2e/',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/assets/%2e%2e%2fsecret',
    '/assets/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '/assets/..%2f..%2f..%2fetc/passwd',
    '/%5c..%5c..%5cetc/passwd',
    '/assets/.%2findex.html',
    '/%2fetc/passwd',
    '//etc/passwd',
    `/${'a'.repeat(1100)}`,
  ];
  for (const path of paths) {
    const r = await raw(srv.url, path);
    assert.ok(r.status === 400 || r.status === 414, `${path.slice(0, 60)}: ${r.status}`);
    assert.doesNotMatch(r.body.toString(), /root:|<html/, path.slice(0, 60));
  }
});

test('without the UI: / explains how to install it, the API still works', async () => {
  const missing = join(mkdtempSync(join(tmpdir(), 'elizad-webui-')), 'absent');
  const s = await startServer({
    plugins: ['messaging', 'agents', 'webui'],
    sections: `webui: { dir = "${missing}"; };\n`,
  });
  try {
    const r = await raw(s.url, '/');
    assert.equal(r.status, 503);
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
    assert.match(r.body.toString(), /packaging\/fetch-webui\.sh/);
    assert.doesNotMatch(r.body.toString(), new RegExp(missing)); // no server paths to visitors
    assert.equal((await raw(s.url, `/chat/${randomUUID()}`)).status, 503);
    assert.equal((await http(`${s.url}/api/agents`)).status, 200);
    assert.equal((await http(`${s.url}/api/nope`)).status, 404);
    assert.equal(s.log().match(/web UI not installed/g).length, 1, s.log());
  } finally {
    const st = await s.stop();
    rmSync(dirname(missing), { recursive: true, force: true });
    assert.equal(st.code, 0, s.log());
  }
});

// ---------------------------------------------------------------- a real browser

async function dmChannelsFor(agentId) {
  const r = await http(`${srv.url}/api/messaging/message-servers/${ZERO_UUID}/channels`);
  assert.equal(r.status, 200);
  return r.body.data.channels.filter((c) => c.type === 'DM' && c.metadata && c.metadata.forAgent === agentId);
}

// ---- a minimal DevTools-protocol client: enough to type into the page and read it back

async function launchDevtools() {
  const profile = mkdtempSync(join(tmpdir(), 'elizad-chromium-'));
  const child = spawn(
    CHROMIUM,
    ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
      `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank'],
    // its own process group: the renderers and the zygote go with it on close
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  const exited = new Promise((r) => child.once('exit', r));
  const wsUrl = await new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`chromium did not start:\n${err}`)), 30000);
    child.stderr.on('data', (d) => {
      err += d;
      const m = err.match(/DevTools listening on (ws:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', () => reject(new Error(`chromium exited:\n${err}`)));
  });
  const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let next = 1;
  const pending = new Map();
  // GET .../messages requests the page has in flight, by DevTools request id
  const messageLoads = new Set();
  ws.on('message', (m) => {
    const msg = JSON.parse(m);
    if (msg.method === 'Network.requestWillBeSent' && /\/api\/messaging\/channels\/[^/]+\/messages/.test(msg.params.request.url)) {
      messageLoads.add(msg.params.requestId);
    } else if (msg.method === 'Network.loadingFinished' || msg.method === 'Network.loadingFailed') {
      messageLoads.delete(msg.params.requestId);
    }
    const p = msg.id && pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
    else p.resolve(msg.result);
  });
  const send = (method, params = {}, sessionId) =>
    new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve, reject, method });
      ws.send(JSON.stringify({ id, method, params, sessionId }));
    });
  return {
    send,
    messageLoadsInFlight: () => messageLoads.size,
    async close() {
      await Promise.race([send('Browser.close').catch(() => {}), sleep(2000)]);
      ws.close();
      const killer = setTimeout(() => {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }, 5000);
      await exited;
      clearTimeout(killer);
      try {
        process.kill(-child.pid, 'SIGKILL'); // stragglers still writing to the profile
      } catch {
        /* none left */
      }
      rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    },
  };
}

async function openPage(cdp, url) {
  const { targetId } = await cdp.send('Target.createTarget', { url });
  const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true });
  const page = (method, params) => cdp.send(method, params, sessionId);
  await page('Network.enable');
  page.messageLoadsInFlight = cdp.messageLoadsInFlight;
  page.eval = async (expression) => {
    const r = await page('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    return r.result.value;
  };
  page.until = async (expression, ms, what) => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const v = await page.eval(expression).catch(() => undefined);
      if (v) return v;
      await sleep(100);
    }
    const shown = await page.eval('document.body.innerText').catch(() => '(unreadable)');
    throw new Error(`timed out waiting for ${what}; the page shows:\n${shown}`);
  };
  return page;
}

// A fresh headless Chromium showing url; fn(page) runs, then the browser goes.
async function withPage(url, fn) {
  const cdp = await launchDevtools();
  try {
    return await fn(await openPage(cdp, url));
  } finally {
    await cdp.close();
  }
}

test('chromium boots the UI against elizad: the agents list shows our agent', async (t) => {
  if (!CHROMIUM) return t.skip(NO_CHROMIUM);
  const name = `Webui Probe ${randomUUID().slice(0, 8)}`;
  await createStartedAgent(name);
  await withPage(`${srv.url}/`, async (page) => {
    // the name can only come from GET /api/agents: the bundle booted and talked to elizad
    await page.until(`document.body.innerText.includes(${JSON.stringify(name)})`, 20000, "the agent's name");
    assert.equal(await page.eval('document.title'), 'ElizaOS - Client');
  });
});

test('chromium opens /chat/<agentId>: the UI creates the DM through the API', async (t) => {
  if (!CHROMIUM) return t.skip(NO_CHROMIUM);
  const name = `Webui Chat ${randomUUID().slice(0, 8)}`;
  const agentId = await createStartedAgent(name);
  assert.equal((await dmChannelsFor(agentId)).length, 0);
  await withPage(`${srv.url}/chat/${agentId}`, async (page) => {
    await page.until(`!!document.querySelector('[data-testid="chat-input"]')`, 20000, 'the chat input');
    await page.until(`document.body.innerText.includes(${JSON.stringify(name)})`, 10000, "the agent's name");
    const deadline = Date.now() + 10000;
    while ((await dmChannelsFor(agentId)).length === 0 && Date.now() < deadline) await sleep(100);
    assert.ok((await dmChannelsFor(agentId)).length >= 1, 'the UI did not create a DM channel');
  });
});

test('chromium chat round trip: typed into the page, answered by the agent, shown in the page', async (t) => {
  if (!CHROMIUM) return t.skip(NO_CHROMIUM);
  const name = `Webui Talk ${randomUUID().slice(0, 8)}`;
  const agentId = await createStartedAgent(name);
  await withPage(`${srv.url}/chat/${agentId}`, async (page) => {
    await page.until(`!!document.querySelector('[data-testid="chat-input"]')`, 20000, 'the chat input');
    await page.until(`document.body.innerText.includes(${JSON.stringify(name)})`, 10000, "the agent's name");
    const words = `I dream of a quiet lighthouse ${randomUUID().slice(0, 6)}`;
    // The page replaces its message list when its first load of the channel answers, so a
    // message typed before that answer would vanish from the list (the UI's own race, not the
    // server's). Type once the load is over and has stayed over for 300 ms, as a person who
    // sees the empty conversation would.
    const loaded = `document.body.innerText.includes('No messages yet')`;
    await page.until(loaded, 20000, 'the empty conversation');
    const settleBy = Date.now() + 20000;
    for (let idleSince = 0; !idleSince || Date.now() - idleSince < 300; await sleep(50)) {
      assert.ok(Date.now() < settleBy, 'the page kept loading the channel messages');
      const idle = page.messageLoadsInFlight() === 0 && (await page.eval(loaded));
      idleSince = idle ? idleSince || Date.now() : 0;
    }
    // the input is enabled once the DM channel exists and the socket joined it
    await page.until(`(() => { const el = document.querySelector('[data-testid="chat-input"]');
      if (!el || el.disabled) return false; el.focus(); return document.activeElement === el; })()`, 20000, 'a usable chat input');
    await page('Input.insertText', { text: words });
    const enter = { key: 'Enter', code: 'Enter', windowsVirtualKeyCode: 13, nativeVirtualKeyCode: 13 };
    await page('Input.dispatchKeyEvent', { type: 'keyDown', text: '\r', ...enter });
    await page('Input.dispatchKeyEvent', { type: 'keyUp', ...enter });

    // the server stored the user's message and the agent's answer in the UI's DM...
    let reply;
    const deadline = Date.now() + 20000;
    while (!reply && Date.now() < deadline) {
      for (const dm of await dmChannelsFor(agentId)) {
        const r = await http(`${srv.url}/api/messaging/channels/${dm.id}/messages?limit=30`);
        const msgs = (r.body.data && r.body.data.messages) || [];
        if (msgs.some((m) => m.content === words)) reply = msgs.find((m) => m.authorId === agentId && m.content);
      }
      if (!reply) await sleep(200);
    }
    assert.ok(reply, 'no stored agent reply to the message typed into the page');
    // ...and the page shows both
    const snippet = reply.content.slice(0, 24);
    await page.until(
      `document.body.innerText.includes(${JSON.stringify(words)}) && document.body.innerText.includes(${JSON.stringify(snippet)})`,
      15000,
      'the conversation in the page',
    );
  });
});
