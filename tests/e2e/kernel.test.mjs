// Kernel behaviour seen from outside: config sections and the allow-list, the CLI
// (--version, --help, --check-config, --check-plugin, --describe), one-line config errors with
// exit code 2, environment overrides, storage persistence and in-order bus delivery through the
// in-tree test plugin `hello` (tests/plugins-good/hello), graceful SIGTERM.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startServer, http, freePort } from './lib/harness.mjs';

const BIN = process.env.ELIZAD_BIN || new URL('../../build/elizad', import.meta.url).pathname;
const PLUGIN_DIR = process.env.ELIZAD_PLUGIN_DIR || join(dirname(BIN), 'plugins');
const HELLO_SO = join(PLUGIN_DIR, 'ez_hello.so');

function run(args, { env = {}, cwd } = {}) {
  const r = spawnSync(BIN, args, {
    env: { ...process.env, ...env },
    cwd,
    encoding: 'utf8',
    timeout: 15000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tempConf(text) {
  const dir = mkdtempSync(join(tmpdir(), 'elizad-kernel-'));
  const file = join(dir, 'elizad.conf');
  writeFileSync(file, text);
  return { dir, file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

describe('hello plugin enabled', () => {
  let srv;
  before(async () => {
    srv = await startServer({
      plugins: ['hello'],
      sections: 'hello: {\n  greeting = "bonjour";\n  secret = "s3cret";\n  tags = [ "x", "y", "z" ];\n};\n',
    });
  });
  after(async () => {
    const st = await srv.stop();
    assert.equal(st.code, 0, 'graceful SIGTERM exits 0');
  });

  test('the plugin section reaches the plugin validated, with defaults filled', async () => {
    const r = await http(`${srv.url}/api/hello`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { hello: 'world', greeting: 'bonjour', tags: ['x', 'y', 'z'], answer: 42 });
  });

  test('GET /api/plugins lists the plugin with its routes and a redacted secret', async () => {
    const r = await http(`${srv.url}/api/plugins`);
    assert.equal(r.status, 200);
    const list = r.body?.data?.plugins ?? r.body?.plugins ?? r.body;
    const hello = list.find((p) => p.name === 'hello');
    assert.ok(hello, JSON.stringify(r.body));
    assert.equal(hello.version, '1.0.0');
    assert.match(hello.abi, /^1\.\d+$/);
    assert.equal(hello.config.secret, '***');
    assert.equal(hello.config.greeting, 'bonjour');
    assert.ok(hello.routes.includes('GET /api/hello'), JSON.stringify(hello.routes));
    assert.ok(hello.routes.includes('POST /api/hello/notes'));
    assert.deepEqual(hello.socket_events, []);
    assert.ok(!JSON.stringify(r.body).includes('s3cret'));
  });

  test('bus: 5000 messages arrive once each, in publish order', async () => {
    const before = (await http(`${srv.url}/api/hello/bus`)).body.count;
    const p = await http(`${srv.url}/api/hello/publish`, { method: 'POST', body: { topic: 'order', count: 5000 } });
    assert.equal(p.status, 200);
    let b;
    for (let i = 0; i < 100; i++) {
      b = (await http(`${srv.url}/api/hello/bus`)).body;
      if (b.count >= before + 5000) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(b.count, before + 5000);
    assert.equal(b.last_topic, 'hello.order');
    assert.deepEqual(b.last, { n: 4999 });
    assert.ok(!srv.log().includes('bus order broken'), srv.log());
  });

  test('store: rows, unique constraint as 409, and the table is namespaced per plugin', async () => {
    const a = await http(`${srv.url}/api/hello/notes`, { method: 'POST', body: { text: 'first' } });
    assert.equal(a.status, 201);
    assert.deepEqual(a.body, { changes: 1 });
    const dup = await http(`${srv.url}/api/hello/notes`, { method: 'POST', body: { text: 'first' } });
    assert.equal(dup.status, 409);
    const l = await http(`${srv.url}/api/hello/notes`);
    assert.equal(l.status, 200);
    assert.equal(l.body.notes.length, 1);
    assert.equal(l.body.notes[0].text, 'first');
    assert.equal(typeof l.body.notes[0].created_at, 'number');
    assert.ok(existsSync(join(srv.dataDir, 'elizad.db')));
  });
});

test('rows survive a restart; migrations are not re-run', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'elizad-kernel-restart-'));
  try {
    let srv = await startServer({ plugins: ['hello'], dataDir });
    assert.equal((await http(`${srv.url}/api/hello/notes`, { method: 'POST', body: { text: 'kept' } })).status, 201);
    assert.equal((await srv.stop()).code, 0);
    srv = await startServer({ plugins: ['hello'], dataDir });
    const l = await http(`${srv.url}/api/hello/notes`);
    assert.deepEqual(l.body.notes.map((n) => n.text), ['kept']);
    assert.equal((await srv.stop()).code, 0);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a plugin disabled in config has no routes; its section is only a warning', async () => {
  const srv = await startServer({ plugins: [], sections: 'hello: { greeting = "unused"; };\n' });
  try {
    const r = await http(`${srv.url}/api/hello`);
    assert.equal(r.status, 404);
    const p = await http(`${srv.url}/api/plugins`);
    assert.ok(!JSON.stringify(p.body).includes('"hello"'), JSON.stringify(p.body));
    assert.match(srv.log(), /WARN \[kernel\] .*elizad\.conf:\d+: hello: section ignored: the plugin is not enabled/);
  } finally {
    await srv.stop();
  }
});

test('--version and --help', () => {
  const v = run(['--version']);
  assert.equal(v.code, 0);
  assert.match(v.stdout, /^elizad \d+\.\d+\.\d+ \(plugin ABI 1\.\d+\)\n$/);
  const h = run(['--help']);
  assert.equal(h.code, 0);
  for (const flag of ['--config', '--check-config', '--check-plugin', '--describe', '--version'])
    assert.ok(h.stdout.includes(flag), flag);
  const bad = run(['--frobnicate']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown argument "--frobnicate"/);
  const missing = run(['--config']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--config needs a value/);
});

test('--check-plugin prints the descriptor and schema without serving', () => {
  const r = run(['--check-plugin', HELLO_SO]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^name: +hello$/m);
  assert.match(r.stdout, /^version: +1\.0\.0$/m);
  assert.match(r.stdout, /^abi: +1\.\d+ /m);
  assert.match(r.stdout, /^description: +Test plugin/m);
  assert.match(r.stdout, /^ +greeting +string +default "hello"/m);
  assert.match(r.stdout, /^ +secret +string +default "", secret$/m);
  assert.match(r.stdout, /^ +tags +string list +default "a,b"/m);
  const missing = run(['--check-plugin', '/nonexistent/ez_x.so']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^\/nonexistent\/ez_x\.so: cannot load: /);
  assert.equal(missing.stderr.trim().split('\n').length, 1);
});

test('--describe NAME prints the config schema of a plugin found like at startup', () => {
  const c = tempConf(`server: { plugin_dir = "${PLUGIN_DIR}"; };\nplugins = [ ];\n`);
  try {
    const r = run(['--config', c.file, '--describe', 'hello']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^name: +hello$/m);
    assert.match(r.stdout, /^ +answer +int +default "42"/m);
    assert.match(r.stdout, /Returned as "greeting" by GET \/api\/hello/);
    assert.match(r.stdout, /^file: +.*ez_hello\.so$/m);
    const none = run(['--config', c.file, '--describe', 'nosuch']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^plugin nosuch: ez_nosuch\.so not found in /);
  } finally {
    c.cleanup();
  }
});

test('--check-config validates the file and the plugin sections, then exits', () => {
  const good = tempConf(`server: { port = 1; };\nplugins = [ "hello" ];\nhello: { answer = 7; };\n`);
  const badKey = tempConf(`server: {\n  port = 1;\n  colour = "blue";\n};\nplugins = [ ];\n`);
  const badSection = tempConf(`plugins = [ "hello" ];\nhello: {\n  answer = "seven";\n};\n`);
  try {
    const r = run(['--config', good.file, '--check-config']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /configuration OK \(1 plugins\)/);
    const k = run(['--config', badKey.file, '--check-config']);
    assert.equal(k.code, 2);
    assert.equal(k.stderr, `${badKey.file}:3: server.colour: unknown key\n`);
    const s = run(['--config', badSection.file, '--check-config']);
    assert.equal(s.code, 2);
    assert.equal(s.stderr.trim().split('\n').at(-1), `${badSection.file}:3: hello.answer: expected an integer`);
  } finally {
    good.cleanup();
    badKey.cleanup();
    badSection.cleanup();
  }
});

test('a bad config key stops startup: one line FILE:LINE: KEY: reason, exit 2', () => {
  for (const [text, line, rest] of [
    ['server: {\n  port = "x";\n};\n', 2, 'server.port: expected an integer'],
    ['plugins = [ ];\nbogus = 1;\n', 2, 'bogus: unknown top-level key'],
    ['socketio: {\n\n  ping_interval = 1;\n  pingTimeout = 2;\n};\n', 4, 'socketio.pingTimeout: unknown key'],
    ['server: {\n  port = ;\n};\n', 2, 'syntax: '],
  ]) {
    const c = tempConf(text);
    try {
      const r = run(['--config', c.file]);
      assert.equal(r.code, 2, text);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.ok(lines[0].startsWith(`${c.file}:${line}: ${rest}`), `${lines[0]} vs ${rest}`);
    } finally {
      c.cleanup();
    }
  }
  const env = run(['--config', '/nonexistent.conf']);
  assert.equal(env.code, 2);
  assert.match(env.stderr, /^\/nonexistent\.conf:0: config: cannot open/);
});

test('environment overrides: SERVER_PORT, LOG_LEVEL, ELIZA_DATA_DIR (created with mkdir -p)', async () => {
  const port = await freePort();
  const root = mkdtempSync(join(tmpdir(), 'elizad-kernel-env-'));
  const dataDir = join(root, 'a', 'b', 'c');
  const conf = join(root, 'elizad.conf');
  writeFileSync(conf, `server: {\n  host = "127.0.0.1";\n  port = 1;\n  data_dir = "/nonexistent/never";\n};\nplugins = [ "hello" ];\n`);
  const child = spawn(BIN, ['--config', conf], {
    env: { ...process.env, SERVER_PORT: String(port), LOG_LEVEL: 'debug', ELIZA_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (d) => (log += d));
  const exited = new Promise((r) => child.on('exit', (code) => r(code)));
  try {
    let ok = false;
    for (let i = 0; i < 150 && !ok; i++) {
      try {
        ok = (await fetch(`http://127.0.0.1:${port}/api/hello`)).status === 200;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    assert.ok(ok, log);
    assert.ok(existsSync(join(dataDir, 'elizad.db')));
    assert.match(log, / DEBUG \[kernel\] /);
    const bad = run(['--config', conf], { env: { SERVER_PORT: 'eighty' } });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /server\.port \(from SERVER_PORT\): expected an integer/);
  } finally {
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    rmSync(root, { recursive: true, force: true });
  }
});
