// Agents plugin, part 1: the life of an agent through @elizaos/api-client — create from a
// character file, list, patch, start, stop, restart the server, delete — plus every
// validation error of the agent CRUD routes (COMPAT §3.1, §4).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createDecipheriv } from 'node:crypto';
import { mkdtempSync, writeFileSync, symlinkSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { ElizaClient } from '@elizaos/api-client';
import { startServer, http } from './lib/harness.mjs';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ENC_RE = /^[0-9a-f]{32}:[0-9a-f]+$/;
const SALT = 'e2e-agents-salt';

// elizaOS stringToUuid, written independently of the server (COMPAT §1.6).
function stringToUuid(s) {
  if (UUID_RE.test(s)) return s;
  const b = Buffer.from(createHash('sha1').update(encodeURIComponent(s)).digest().subarray(0, 16));
  b[8] = (b[8] & 0x3f) | 0x80;
  b[6] = b[6] & 0x0f;
  const x = b.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

// elizaOS decryptStringValue (COMPAT §3.1).
function decrypt(value, salt) {
  const [ivHex, ctHex] = value.split(':');
  const key = createHash('sha256').update(salt).digest();
  const d = createDecipheriv('aes-256-cbc', key, Buffer.from(ivHex, 'hex'));
  return Buffer.concat([d.update(Buffer.from(ctHex, 'hex')), d.final()]).toString('utf8');
}

async function rejects(promise, { status, code, message }) {
  try {
    await promise;
  } catch (e) {
    assert.equal(e.name, 'ApiError', String(e));
    if (status !== undefined) assert.equal(e.status, status, `status of ${e.code} ${e.message}`);
    if (code !== undefined) assert.equal(e.code, code);
    if (message instanceof RegExp) assert.match(e.message, message);
    else if (message !== undefined) assert.equal(e.message, message);
    return e;
  }
  assert.fail('expected the call to fail');
}

const eliza = {
  name: 'Eliza',
  username: 'eliza',
  system: 'You are Eliza, a Rogerian psychotherapist.',
  bio: ['Eliza listens.', 'Eliza reflects questions back.'],
  topics: ['feelings', 'family'],
  adjectives: ['patient'],
  plugins: ['@elizaos/plugin-sql', '@elizaos/plugin-bootstrap'],
  settings: { model: 'eliza-classic', voice: { model: 'none' }, secrets: { API_KEY: 'sk-eliza-123', PORT: 8080 } },
  secrets: { ROOT_TOKEN: 'root-secret' },
  style: { all: ['be brief'], chat: ['ask why'] },
  messageExamples: [[{ name: '{{user}}', content: { text: 'hi' } }, { name: 'Eliza', content: { text: 'How do you do?' } }]],
};

let srv, client, charDir, outsideDir;

before(async () => {
  charDir = mkdtempSync(join(tmpdir(), 'elizad-chars-'));
  outsideDir = mkdtempSync(join(tmpdir(), 'elizad-outside-'));
  writeFileSync(join(charDir, 'eliza.json'), JSON.stringify(eliza));
  mkdirSync(join(charDir, 'team'));
  writeFileSync(join(charDir, 'team', 'aaron.json'), JSON.stringify({ name: 'Aaron', bio: 'Aaron is terse.' }));
  writeFileSync(join(charDir, 'broken.json'), '{"name": "Broken", ');
  writeFileSync(join(charDir, 'invalid.json'), JSON.stringify({ name: 'Bad', bio: 'b', mood: 'grumpy' }));
  writeFileSync(join(outsideDir, 'secret.json'), JSON.stringify({ name: 'Outside', bio: 'should never load' }));
  symlinkSync(join(outsideDir, 'secret.json'), join(charDir, 'link.json'));
  srv = await startServer({
    plugins: ['agents'],
    sections: `agents: { characters_dir = "${charDir}"; test_routes = true; };\n`,
    env: { SECRET_SALT: SALT },
  });
  client = new ElizaClient({ baseUrl: srv.url });
});

after(async () => {
  const dataDir = srv?.dataDir;
  await srv?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true }); // the restarted server reused it
  rmSync(charDir, { recursive: true, force: true });
  rmSync(outsideDir, { recursive: true, force: true });
});

test('stringToUuid reference matches the value observed on the real server', () => {
  assert.equal(stringToUuid('MockAgent'), '5d53d7ff-18e0-05c1-92f8-b792e6b0fd11');
});

test('full life of an agent: create from file, list, patch, start, stop, restart, delete', async () => {
  // create from a character file below characters_dir (no id: derived from the name)
  const created = await client.agents.createAgent({ characterPath: 'eliza.json' });
  const id = stringToUuid('Eliza');
  assert.equal(created.id, id);
  assert.equal(created.character.id, id);
  assert.equal(created.character.name, 'Eliza');
  const enc = created.character.settings.secrets.API_KEY;
  assert.match(enc, ENC_RE, 'secrets come back encrypted only');
  assert.equal(decrypt(enc, SALT), 'sk-eliza-123', 'AES-256-CBC with SHA-256(SECRET_SALT)');
  assert.equal(created.character.settings.secrets.PORT, 8080, 'numbers are not encrypted');
  assert.match(created.character.secrets.ROOT_TOKEN, ENC_RE);

  // creating the same character again answers 201 with the same id and changes nothing
  const again = await http(`${srv.url}/api/agents`, { method: 'POST', body: { characterPath: 'eliza' } });
  assert.equal(again.status, 201);
  assert.equal(again.body.data.id, id);

  // a second agent, in a sub folder, with a string bio
  const aaron = await client.agents.createAgent({ characterPath: 'team/aaron.json' });
  assert.equal(aaron.id, stringToUuid('Aaron'));

  // details: stored shape with ms timestamps, defaults and encrypted secrets
  const got = await client.agents.getAgent(id);
  assert.equal(got.id, id);
  assert.equal(got.name, 'Eliza');
  assert.equal(got.username, 'eliza');
  assert.equal(got.system, eliza.system);
  assert.deepEqual(got.bio, eliza.bio);
  assert.deepEqual(got.plugins, eliza.plugins);
  assert.deepEqual(got.postExamples, []);
  assert.deepEqual(got.knowledge, []);
  assert.deepEqual(got.style, eliza.style);
  assert.equal(got.enabled, true);
  assert.equal(got.status, 'inactive');
  assert.equal(typeof got.createdAt, 'number');
  assert.ok(Math.abs(got.createdAt - Date.now()) < 60000);
  assert.equal(got.settings.secrets.API_KEY, enc);
  assert.ok(!JSON.stringify(got).includes('sk-eliza-123'), 'no plaintext secret anywhere');
  const aaronDetails = await client.agents.getAgent(aaron.id);
  assert.equal(aaronDetails.username, '');
  assert.equal(aaronDetails.system, undefined, 'absent system is omitted');

  // list: {id,name,characterName,bio,status}; bio = first element / whole string
  let { agents } = await client.agents.listAgents();
  assert.equal(agents.length, 2);
  assert.deepEqual(agents.map((a) => a.name), ['Aaron', 'Eliza'], 'inactive agents by name');
  assert.deepEqual(agents[1], { id, name: 'Eliza', characterName: 'Eliza', bio: 'Eliza listens.', status: 'inactive' });
  assert.equal(agents[0].bio, 'Aaron is terse.');

  // patch: settings deep-merged (null deletes), secrets encrypted, other fields replaced
  const patched = await client.agents.updateAgent(id, {
    id,
    status: 'inactive',
    system: 'You are Eliza v2.',
    topics: ['dreams'],
    settings: { model: null, temperature: 0.5, voice: { speed: 2 }, secrets: { NEW_KEY: 'new-value' } },
  });
  assert.equal(patched.system, 'You are Eliza v2.');
  assert.deepEqual(patched.topics, ['dreams']);
  assert.equal(patched.settings.model, undefined);
  assert.equal(patched.settings.temperature, 0.5);
  assert.deepEqual(patched.settings.voice, { model: 'none', speed: 2 });
  assert.equal(patched.settings.secrets.API_KEY, enc, 'existing secret kept as stored');
  assert.match(patched.settings.secrets.NEW_KEY, ENC_RE);
  assert.equal(decrypt(patched.settings.secrets.NEW_KEY, SALT), 'new-value');
  assert.ok(patched.updatedAt >= got.updatedAt);

  // a patch that breaks the character is refused and changes nothing
  const bad = await rejects(client.agents.updateAgent(id, { system: 'lost', bio: 42 }), { status: 400, code: 'UPDATE_ERROR' });
  assert.match(bad.details, /bio: Invalid input/);
  await rejects(client.agents.updateAgent(id, { plugins: 'not-an-array' }), { status: 400, code: 'UPDATE_ERROR' });
  await rejects(client.agents.updateAgent(id, { mood: 'happy' }), { status: 400, code: 'UPDATE_ERROR' });
  assert.equal((await client.agents.getAgent(id)).system, 'You are Eliza v2.');

  // start (twice is harmless); active agents sort first
  const started = await client.agents.startAgent(id);
  assert.deepEqual(started, { id, name: 'Eliza', status: 'active' });
  assert.deepEqual(await client.agents.startAgent(id), { id, name: 'Eliza', status: 'active' });
  ({ agents } = await client.agents.listAgents());
  assert.deepEqual(agents.map((a) => [a.name, a.status]), [['Eliza', 'active'], ['Aaron', 'inactive']]);
  assert.equal((await client.agents.getAgent(id)).status, 'active');

  // in-process view (agents.v1 get) has the secrets decrypted
  const inproc = await http(`${srv.url}/api/agents/${id}/test/agent`);
  assert.equal(inproc.body.data.agent.settings.secrets.API_KEY, 'sk-eliza-123');
  assert.equal(inproc.body.data.agent.settings.secrets.NEW_KEY, 'new-value');
  assert.equal(inproc.body.data.agent.secrets.ROOT_TOKEN, 'root-secret');
  assert.equal(inproc.body.data.active, true);
  assert.deepEqual(inproc.body.data.activeIds, [id]);

  // the running agent picks up patches (updated in place)
  await client.agents.updateAgent(id, { adjectives: ['calm'] });
  assert.deepEqual((await client.agents.getAgent(id)).adjectives, ['calm']);
  assert.equal((await client.agents.getAgent(id)).status, 'active');

  // stop; stopping a stopped agent is 404 NOT_FOUND (real behaviour)
  assert.deepEqual(await client.agents.stopAgent(id), { message: 'Agent stopped' });
  await rejects(client.agents.stopAgent(id), { status: 404, code: 'NOT_FOUND', message: 'Agent not found' });
  assert.equal((await client.agents.getAgent(id)).status, 'inactive');

  // start, then restart the whole server on the same data: still active, data intact
  await client.agents.startAgent(id);
  const dataDir = srv.dataDir;
  await srv.stop({ keepData: true });
  srv = await startServer({
    plugins: ['agents'],
    dataDir,
    sections: `agents: { characters_dir = "${charDir}"; test_routes = true; };\n`,
    env: { SECRET_SALT: SALT },
  });
  client = new ElizaClient({ baseUrl: srv.url });
  const afterRestart = await client.agents.getAgent(id);
  assert.equal(afterRestart.status, 'active', 'active agents start again after a restart');
  assert.equal(afterRestart.system, 'You are Eliza v2.');
  assert.equal(afterRestart.settings.secrets.API_KEY, enc);
  assert.equal((await client.agents.getAgent(aaron.id)).status, 'inactive');
  ({ agents } = await client.agents.listAgents());
  assert.deepEqual(agents.map((a) => a.status), ['active', 'inactive']);
  const inproc2 = await http(`${srv.url}/api/agents/${id}/test/agent`);
  assert.equal(inproc2.body.data.agent.settings.secrets.API_KEY, 'sk-eliza-123', 'same key after restart');

  // delete: stops it first, 204, then it is gone everywhere
  assert.deepEqual(await client.agents.deleteAgent(id), { success: true });
  await rejects(client.agents.getAgent(id), { status: 404, code: 'NOT_FOUND', message: 'Agent not found' });
  await rejects(client.agents.deleteAgent(id), { status: 404, code: 'NOT_FOUND' });
  ({ agents } = await client.agents.listAgents());
  assert.deepEqual(agents.map((a) => a.id), [aaron.id]);
  await client.agents.deleteAgent(aaron.id);
  assert.deepEqual((await client.agents.listAgents()).agents, []);
});

test('create from characterJson and agent bodies; explicit ids are kept', async () => {
  const id = '11111111-2222-4333-8444-555555555555';
  const a = await client.agents.createAgent({ characterJson: { id, name: 'Json Agent', bio: 'from json' } });
  assert.equal(a.id, id);
  const b = await client.agents.createAgent({ agent: { name: 'Agent Body', bio: ['x'] } });
  assert.equal(b.id, stringToUuid('Agent Body'));
  // checked in order characterJson, characterPath, agent (falsy values skipped)
  const c = await http(`${srv.url}/api/agents`, {
    method: 'POST',
    body: { characterJson: null, characterPath: '', agent: { name: 'Third', bio: 'b' } },
  });
  assert.equal(c.status, 201);
  assert.equal(c.body.data.id, stringToUuid('Third'));
  for (const x of [id, b.id, c.body.data.id]) await client.agents.deleteAgent(x);
});

test('character validation errors name the field (400 CREATE_ERROR)', async () => {
  const cases = [
    [{ bio: 'x' }, 'Character validation failed: name: Invalid input: expected string, received undefined'],
    [{ name: '', bio: 'x' }, 'Character validation failed: name: Character name is required'],
    [{ name: 'X' }, 'Character validation failed: bio: Invalid input'],
    [{ name: 'X', bio: 'b', mood: 'happy' }, 'Character validation failed: : Unrecognized key: "mood"'],
    [{ name: 'X', bio: 'b', a: 1, b: 2 }, 'Character validation failed: : Unrecognized keys: "a", "b"'],
    [{ name: 'X', bio: 'b', topics: ['ok', 7] }, 'Character validation failed: topics.1: Invalid input: expected string, received number'],
    [{ name: 'X', bio: 'b', id: 'not-a-uuid' }, 'Character validation failed: id: Invalid UUID format'],
    [{ name: 'X', bio: 'b', plugins: 'sql' }, 'Character validation failed: plugins: Invalid input: expected array, received string'],
    [{ name: 'X', bio: 'b', settings: { k: null } }, 'Character validation failed: settings.k: Invalid input'],
    [{ name: 'X', bio: 'b', secrets: { k: { nested: true } } }, 'Character validation failed: secrets.k: Invalid input'],
    [{ name: 'X', bio: 'b', style: { all: 'x' } }, 'Character validation failed: style.all: Invalid input: expected array, received string'],
    [{ name: 'X', bio: 'b', messageExamples: [[{ content: { text: 1 } }]] },
      'Character validation failed: messageExamples.0.0.name: Invalid input: expected string, received undefined; messageExamples.0.0.content.text: Invalid input: expected string, received number'],
    [{ name: 7, bio: ['ok', 1] }, 'Character validation failed: name: Invalid input: expected string, received number; bio: Invalid input'],
  ];
  for (const [characterJson, message] of cases) {
    const e = await rejects(client.agents.createAgent({ characterJson }), { status: 400, code: 'CREATE_ERROR', message });
    assert.equal(e.details, message);
  }
  await rejects(client.agents.createAgent({}), { status: 400, code: 'CREATE_ERROR', message: 'No character configuration provided' });
  const raw = await http(`${srv.url}/api/agents`, { method: 'POST', body: { characterJson: 'just text' } });
  assert.equal(raw.status, 400);
  assert.deepEqual(raw.body, {
    success: false,
    error: {
      code: 'CREATE_ERROR',
      message: 'Character validation failed: : Invalid input: expected object, received string',
      details: 'Character validation failed: : Invalid input: expected object, received string',
    },
  });
  assert.deepEqual((await client.agents.listAgents()).agents, [], 'nothing was created');
});

test('characterPath stays inside characters_dir', async () => {
  const outside = join(outsideDir, 'secret.json');
  for (const p of ['../outside/secret.json', 'team/../../x.json', '..', outside, 'link.json', '/etc/passwd']) {
    const e = await rejects(client.agents.createAgent({ characterPath: p }), { status: 400, code: 'CREATE_ERROR' });
    assert.ok(!/should never load/.test(JSON.stringify(e)), p);
  }
  await rejects(client.agents.createAgent({ characterPath: 'link.json' }), { message: /outside the characters directory/ });
  await rejects(client.agents.createAgent({ characterPath: 'missing.json' }), {
    message: "Character 'missing.json' not found. Please check if the file exists and the path is correct.",
  });
  await rejects(client.agents.createAgent({ characterPath: 'broken.json' }), {
    message: "Character file 'broken.json' has malformed JSON. Please check the file content.",
  });
  await rejects(client.agents.createAgent({ characterPath: 'invalid.json' }), {
    message: `Character file 'invalid.json' contains invalid character data. Character validation failed: : Unrecognized key: "mood"`,
  });
  await rejects(client.agents.createAgent({ characterPath: 'http://127.0.0.1:9/x.json' }), { status: 400, message: /URLs is disabled/ });
  await rejects(client.agents.createAgent({ characterPath: 42 }), { status: 400, code: 'CREATE_ERROR' });
  // an absolute path inside the folder is fine
  const ok = await client.agents.createAgent({ characterPath: join(charDir, 'team', 'aaron.json') });
  assert.equal(ok.id, stringToUuid('Aaron'));
  await client.agents.deleteAgent(ok.id);
  assert.deepEqual((await client.agents.listAgents()).agents, []);
});

test('ids are validated and unknown agents are 404 NOT_FOUND', async () => {
  for (const [method, path] of [
    ['GET', '/api/agents/not-a-uuid'],
    ['PATCH', '/api/agents/1234'],
    ['DELETE', '/api/agents/zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz'],
    ['POST', '/api/agents/abc/start'],
    ['POST', '/api/agents/abc/stop'],
  ]) {
    const r = await http(`${srv.url}${path}`, { method, body: method === 'GET' || method === 'DELETE' ? undefined : {} });
    assert.equal(r.status, 400, `${method} ${path}`);
    assert.deepEqual(r.body, { success: false, error: { code: 'INVALID_ID', message: 'Invalid agent ID format' } });
  }
  const unknown = '6f1d9a56-1c3b-4a4e-9d35-2f7a0c9b8e11';
  await rejects(client.agents.getAgent(unknown), { status: 404, code: 'NOT_FOUND', message: 'Agent not found' });
  await rejects(client.agents.updateAgent(unknown, { system: 'x' }), { status: 404, code: 'NOT_FOUND' });
  await rejects(client.agents.startAgent(unknown), { status: 404, code: 'NOT_FOUND' });
  await rejects(client.agents.stopAgent(unknown), { status: 404, code: 'NOT_FOUND' });
  await rejects(client.agents.deleteAgent(unknown), { status: 404, code: 'NOT_FOUND' });
  // upper-case ids are the same agent
  const a = await client.agents.createAgent({ characterJson: { name: 'Case', bio: 'b' } });
  assert.equal((await client.agents.getAgent(a.id.toUpperCase())).id, a.id);
  await client.agents.deleteAgent(a.id);
});

test('GET /api/agents/worlds is served (COMPAT §18 #1)', async () => {
  await rejects(client.agents.getWorlds(), { status: 404, code: 'NOT_FOUND', message: 'No active agents found to get worlds' });
  const a = await client.agents.createAgent({ characterJson: { name: 'Worldly', bio: 'b' } });
  await client.agents.startAgent(a.id);
  const w = await http(`${srv.url}/api/agents/${a.id}/worlds`, { method: 'POST', body: { name: 'Earth' } });
  assert.equal(w.status, 201);
  const { worlds } = await client.agents.getWorlds();
  assert.deepEqual(worlds.map((x) => x.name), ['Earth']);
  await client.agents.deleteAgent(a.id);
  await rejects(client.agents.getWorlds(), { status: 404 });
});

test('characterPath URLs are fetched only when allow_character_urls is on', async () => {
  const files = {
    '/remote.json': JSON.stringify({ name: 'Remote', bio: 'fetched' }),
    '/team.json': JSON.stringify([{ name: 'First Of Team', bio: 'b' }, { name: 'Second', bio: 'b' }]),
    '/bad.json': '{"name":',
    '/invalid.json': JSON.stringify({ name: 'X', bio: 'b', color: 'red' }),
  };
  const web = createServer((req, res) => {
    const body = files[req.url];
    res.writeHead(body ? 200 : 404, { 'Content-Type': 'application/json' });
    res.end(body || '{}');
  });
  await new Promise((r) => web.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${web.address().port}`;
  const remoteSrv = await startServer({ plugins: ['agents'], sections: 'agents: { allow_character_urls = true; };\n' });
  try {
    const c = new ElizaClient({ baseUrl: remoteSrv.url });
    const a = await c.agents.createAgent({ characterPath: `${base}/remote.json` });
    assert.equal(a.id, stringToUuid('Remote'));
    assert.equal((await c.agents.getAgent(a.id)).bio, 'fetched');
    const t = await c.agents.createAgent({ characterPath: `${base}/team.json` });
    assert.equal(t.character.name, 'First Of Team', 'an array: the first character');
    await rejects(c.agents.createAgent({ characterPath: `${base}/missing.json` }), {
      status: 400,
      code: 'CREATE_ERROR',
      message: `Failed to fetch character from URL '${base}/missing.json'. The URL may be incorrect or unavailable.`,
    });
    await rejects(c.agents.createAgent({ characterPath: `${base}/bad.json` }), { status: 400, message: /^Invalid JSON response from URL/ });
    await rejects(c.agents.createAgent({ characterPath: `${base}/invalid.json` }), { status: 400, message: /Unrecognized key: "color"/ });
    assert.equal((await c.agents.listAgents()).agents.length, 2);
  } finally {
    await remoteSrv.stop();
    web.close();
  }
});
