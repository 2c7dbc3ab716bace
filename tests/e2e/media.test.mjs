// Media uploads and the /media static files (COMPAT §10) against a real elizad: real multipart
// bodies from Node's FormData, the official @elizaos/api-client where it has a method (agent
// uploads, channel uploads through /api/messaging), raw HTTP where the exact status, body or an
// unnormalised path matters.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { ElizaClient } from '@elizaos/api-client';
import { startServer, http, ZERO_UUID } from './lib/harness.mjs';

const PLUGINS = ['messaging', 'agents', 'runtime', 'model_eliza', 'media'];
const STORED = /^\d{13}-\d{1,10}(\.[A-Za-z0-9_-]+)?$/;
// A PNG signature followed by bytes a sloppy parser trips on: CR LF, dashes, NUL, 0xff.
const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from('\r\n--\r\n------WebKitFormBoundary\r\n\0\xff', 'latin1'),
  randomBytes(2048),
]);

let srv;
let client;

before(async () => {
  srv = await startServer({ plugins: PLUGINS });
  client = new ElizaClient({ baseUrl: srv.url, timeout: 20000 });
});

// A clean exit: under the ASan build a leak or a sanitizer report makes elizad exit non-zero.
async function stopClean(s) {
  const { code, signal } = await s.stop();
  assert.equal(signal, null, s.log());
  assert.equal(code, 0, s.log());
  assert.doesNotMatch(s.log(), /AddressSanitizer|LeakSanitizer|runtime error:/);
}

after(async () => {
  if (srv) await stopClean(srv);
});

function form(field, bytes, type, filename, extra = {}) {
  const fd = new FormData();
  for (const [k, v] of Object.entries(extra)) fd.append(k, v);
  if (bytes !== undefined) fd.append(field, new Blob([bytes], { type }), filename);
  return fd;
}

async function postForm(path, fd, base = srv.url, headers = {}) {
  const r = await fetch(base + path, { method: 'POST', body: fd, headers });
  const text = await r.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* keep the text */
  }
  return { status: r.status, body };
}

// GET with the path sent exactly as written: fetch() would resolve "..", "%2e%2e" first.
function rawGet(path, base = srv) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: base.port, path, method: 'GET' }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        let body = buf.toString('utf8');
        try {
          body = JSON.parse(body);
        } catch {
          /* keep the text */
        }
        resolve({ status: res.statusCode, headers: res.headers, buf, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function assertServed(url, bytes, type) {
  const r = await fetch(srv.url + url);
  assert.equal(r.status, 200, url);
  assert.equal(r.headers.get('content-type'), type);
  assert.equal(r.headers.get('content-length'), String(bytes.length));
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  const got = Buffer.from(await r.arrayBuffer());
  assert.ok(got.equals(Buffer.from(bytes)), `${url}: bytes differ`);
}

function assertMulter(r, message) {
  assert.equal(r.status, 500, JSON.stringify(r.body));
  assert.equal(r.body.success, false);
  assert.equal(r.body.error.code, 500);
  assert.ok(r.body.error.message.startsWith(message), r.body.error.message);
}

function assertStyleB(r, status, message) {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.deepEqual(r.body, { success: false, error: message });
}

async function newChannel() {
  const r = await http(`${srv.url}/api/messaging/channels`, {
    method: 'POST',
    body: { name: `media-${randomUUID().slice(0, 8)}`, message_server_id: ZERO_UUID, participantCentralUserIds: [randomUUID()] },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.data.id;
}

test('agent upload through the api-client: category type, served byte-identical, stored on disk', async () => {
  const agentId = randomUUID(); // the agent need not exist
  const data = await client.media.uploadAgentMedia(agentId, {
    file: new Blob([PNG], { type: 'image/png' }),
    filename: 'photo.png',
    contentType: 'image/png',
    metadata: { ignored: true },
  });
  assert.equal(data.type, 'image');
  assert.equal(data.originalName, 'photo.png');
  assert.equal(data.size, PNG.length);
  assert.match(data.filename, STORED);
  assert.ok(data.filename.endsWith('.png'));
  assert.equal(data.url, `/media/uploads/agents/${agentId}/${data.filename}`);
  await assertServed(data.url, PNG, 'image/png');
  // COMPAT's layout under the data directory
  const onDisk = join(srv.dataDir, 'data', 'uploads', 'agents', agentId, data.filename);
  assert.ok(readFileSync(onDisk).equals(PNG));
  // HEAD: the same headers, no body
  const h = await fetch(srv.url + data.url, { method: 'HEAD' });
  assert.equal(h.status, 200);
  assert.equal(h.headers.get('content-length'), String(PNG.length));
  assert.equal((await h.arrayBuffer()).byteLength, 0);
});

test('agent upload categories: video, audio, document', async () => {
  const agentId = randomUUID();
  for (const [type, name, category] of [
    ['video/webm', 'clip.webm', 'video'],
    ['audio/mpeg', 'song.mp3', 'audio'],
    ['application/pdf', 'doc.pdf', 'document'],
    ['text/plain', 'notes.txt', 'document'],
  ]) {
    const bytes = randomBytes(300);
    const r = await postForm(`/api/media/agents/${agentId}/upload-media`, form('file', bytes, type, name));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.success, true);
    assert.equal(r.body.data.type, category);
    const served = { 'clip.webm': 'video/webm', 'song.mp3': 'audio/mpeg', 'doc.pdf': 'application/pdf', 'notes.txt': 'text/plain; charset=UTF-8' };
    await assertServed(r.body.data.url, bytes, served[name]);
  }
});

test('channel upload through the api-client (/api/messaging): MIME type, served from the channel tree', async () => {
  const channelId = await newChannel();
  const text = Buffer.from('hello from a channel\r\n--boundary-looking line\n');
  const data = await client.media.uploadChannelMedia(channelId, new File([text], 'note.txt', { type: 'text/plain' }));
  assert.equal(data.type, 'text/plain');
  assert.equal(data.originalName, 'note.txt');
  assert.equal(data.size, text.length);
  assert.match(data.filename, STORED);
  assert.equal(data.url, `/media/uploads/channels/${channelId}/${data.filename}`);
  await assertServed(data.url, text, 'text/plain; charset=UTF-8');
  assert.ok(existsSync(join(srv.dataDir, 'data', 'uploads', 'channels', channelId, data.filename)));
  // 1.7.2 looked for channel files in the agents tree; they are not there
  const wrongTree = await rawGet(`/media/uploads/agents/${channelId}/${data.filename}`);
  assert.equal(wrongTree.status, 404);
  assert.deepEqual(wrongTree.body, { error: 'File does not exist!!!!!!!' });
});

test('channel upload on /api/media/channels: MIME type, a 3 MB binary round trip', async () => {
  const channelId = randomUUID();
  const big = randomBytes(3 * 1024 * 1024);
  const r = await postForm(`/api/media/channels/${channelId}/upload-media`, form('file', big, 'video/mp4', 'movie.mp4', { contentType: 'video/mp4' }));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.success, true);
  assert.deepEqual(Object.keys(r.body.data).sort(), ['filename', 'originalName', 'size', 'type', 'url']);
  assert.equal(r.body.data.type, 'video/mp4');
  assert.equal(r.body.data.size, big.length);
  await assertServed(r.body.data.url, big, 'video/mp4');
});

test('seed paths answer like the real ones', async () => {
  const agentId = randomUUID();
  const a = await postForm(`/api/media/${agentId}/upload`, form('file', PNG, 'image/png', 'seed.png'));
  assert.equal(a.status, 200, JSON.stringify(a.body));
  assert.equal(a.body.data.type, 'image');
  assert.equal(a.body.data.url, `/media/uploads/agents/${agentId}/${a.body.data.filename}`);
  await assertServed(a.body.data.url, PNG, 'image/png');
  const channelId = randomUUID();
  const wav = Buffer.concat([Buffer.from('RIFF\x24\0\0\0WAVEfmt ', 'latin1'), randomBytes(64)]);
  const c = await postForm(`/api/media/channels/${channelId}/upload`, form('file', wav, 'audio/wav', 'seed.wav'));
  assert.equal(c.status, 200, JSON.stringify(c.body));
  assert.equal(c.body.data.type, 'audio/wav');
  await assertServed(c.body.data.url, wav, 'audio/wav');
  const bad = await postForm('/api/media/not-a-uuid/upload', form('file', PNG, 'image/png', 'x.png'));
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.body.error, { code: 'INVALID_ID', message: 'Invalid agent ID format' });
});

test('wrong field name, disallowed MIME, two files: multer 500s', async () => {
  const agentPath = `/api/media/agents/${randomUUID()}/upload-media`;
  const chanPath = `/api/messaging/channels/${randomUUID()}/upload-media`;
  assertMulter(await postForm(agentPath, form('upload', PNG, 'image/png', 'a.png')), 'Unexpected file field');
  assertMulter(await postForm(chanPath, form('image', PNG, 'image/png', 'a.png')), 'Unexpected file field');
  assertMulter(await postForm(agentPath, form('file', '<svg/>', 'image/svg+xml', 'a.svg')), 'Invalid file type');
  assertMulter(await postForm(chanPath, form('file', '<html>', 'text/html', 'a.html')), 'Invalid file type');
  const two = form('file', PNG, 'image/png', 'a.png');
  two.append('file', new Blob([PNG], { type: 'image/png' }), 'b.png');
  assertMulter(await postForm(agentPath, two), 'Too many files');
  // the api-client surfaces the multer message
  await assert.rejects(
    client.media.uploadAgentMedia(randomUUID(), { file: new Blob(['x'], { type: 'application/x-sh' }), filename: 'run.sh' }),
    (e) => e.status === 500 && e.message.startsWith('Invalid file type'),
  );
});

test('no file: fields only, empty multipart, no body at all', async () => {
  const agentPath = `/api/media/agents/${randomUUID()}/upload-media`;
  const chanPath = `/api/media/channels/${randomUUID()}/upload-media`;
  const msgPath = `/api/messaging/channels/${randomUUID()}/upload-media`;
  const fieldsOnly = () => form('file', undefined, undefined, undefined, { file: 'a text field is not a file', metadata: '{}' });
  const a = await postForm(agentPath, fieldsOnly());
  assert.equal(a.status, 400);
  assert.deepEqual(a.body, { success: false, error: { code: 'INVALID_REQUEST', message: 'No media file provided' } });
  assertStyleB(await postForm(chanPath, fieldsOnly()), 400, 'No media file provided');
  assertStyleB(await postForm(msgPath, new FormData()), 400, 'No media file provided');
  const bare = await http(srv.url + msgPath, { method: 'POST' });
  assertStyleB(bare, 400, 'No media file provided');
  const json = await http(srv.url + chanPath, { method: 'POST', body: { file: 'x' } });
  assertStyleB(json, 400, 'No media file provided');
  // malformed multipart bodies are refused, not guessed at
  const noBoundary = await http(srv.url + agentPath, { method: 'POST', raw: true, body: '--x\r\n', headers: { 'Content-Type': 'multipart/form-data' } });
  assertMulter(noBoundary, 'Multipart: Boundary not found');
  const truncated = await http(srv.url + agentPath, {
    method: 'POST',
    raw: true,
    body: '--x\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\nabc',
    headers: { 'Content-Type': 'multipart/form-data; boundary=x' },
  });
  assertMulter(truncated, 'Unexpected end of form');
});

test('bad ids are refused in each route\'s envelope', async () => {
  const a = await postForm('/api/media/agents/123/upload-media', form('file', PNG, 'image/png', 'a.png'));
  assert.equal(a.status, 400);
  assert.deepEqual(a.body, { success: false, error: { code: 'INVALID_ID', message: 'Invalid agent ID format' } });
  assertStyleB(await postForm('/api/media/channels/123/upload-media', form('file', PNG, 'image/png', 'a.png')), 400, 'Invalid channelId format');
  assertStyleB(await postForm('/api/messaging/channels/nope/upload-media', form('file', PNG, 'image/png', 'a.png')), 400, 'Invalid channelId format');
  for (const [path, msg] of [
    ['/media/uploads/agents/nope/x.png', 'Invalid agent ID format'],
    ['/media/generated/1234/x.png', 'Invalid agent ID format'],
    ['/media/uploads/channels/%2e%2e/x.png', 'Invalid channel ID format'],
  ]) {
    const r = await rawGet(path);
    assert.equal(r.status, 400, path);
    assert.deepEqual(r.body, { error: msg });
  }
});

test('original names: the messaging route refuses ".." and "/", no name ever reaches the disk', async () => {
  const channelId = randomUUID();
  assertStyleB(await postForm(`/api/messaging/channels/${channelId}/upload-media`, form('file', PNG, 'image/png', '../../evil.png')), 400, 'Invalid filename detected');
  assertStyleB(await postForm(`/api/messaging/channels/${channelId}/upload-media`, form('file', PNG, 'image/png', 'dir/evil.png')), 400, 'Invalid filename detected');
  const r = await postForm(`/api/media/channels/${channelId}/upload-media`, form('file', PNG, 'image/png', '../../../etc/evil.png'));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.data.originalName, '../../../etc/evil.png');
  assert.match(r.body.data.filename, STORED);
  assert.ok(existsSync(join(srv.dataDir, 'data', 'uploads', 'channels', channelId, r.body.data.filename)));
  // an extension that is not plain letters/digits is dropped; a UTF-8 name comes back intact
  const odd = await postForm(`/api/media/channels/${channelId}/upload-media`, form('file', 'x', 'text/plain', 'été.t<x>t'));
  assert.equal(odd.status, 200, JSON.stringify(odd.body));
  assert.equal(odd.body.data.originalName, 'été.t<x>t');
  assert.match(odd.body.data.filename, /^\d{13}-\d{1,10}$/);
  await assertServed(odd.body.data.url, Buffer.from('x'), 'application/octet-stream');
});

test('path traversal on the static routes is refused', async () => {
  const agentId = randomUUID();
  const up = await postForm(`/api/media/agents/${agentId}/upload-media`, form('file', PNG, 'image/png', 'a.png'));
  assert.equal(up.status, 200);
  const channelId = randomUUID();
  const base = `/media/uploads/agents/${agentId}`;
  const attempts = [
    `${base}/..`,
    `${base}/%2e%2e`,
    `${base}/%2E%2E`,
    `${base}/..%2f..%2f..%2f..%2felizad.conf`,
    `${base}/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2felizad.conf`,
    `${base}/a%2fb.png`,
    `${base}/..%5c..%5celizad.conf`,
    `${base}/.hidden`,
    `${base}/../../../../elizad.conf`,
    `/media/generated/${agentId}/%2e%2e`,
    `/media/uploads/channels/${channelId}/..%2F..%2F..%2F..%2Felizad.conf`,
    `/media/uploads/../../elizad.conf`,
  ];
  for (const path of attempts) {
    const r = await rawGet(path);
    assert.equal(r.status, 403, `${path}: ${r.buf.toString()}`);
    assert.deepEqual(r.body, { error: 'Access denied' }, path);
    assert.ok(!r.buf.toString().includes('plugins ='), `${path} leaked the config`);
  }
  // an over-long name
  const long = await rawGet(`${base}/${'a'.repeat(300)}.png`);
  assert.equal(long.status, 403);
  // the real file still answers next to all that
  await assertServed(up.body.data.url, PNG, 'image/png');
});

test('unknown files: each tree\'s 404 text', async () => {
  const id = randomUUID();
  for (const [path, msg] of [
    [`/media/uploads/agents/${id}/nothing.png`, 'File does not exist!!!!!!!'],
    [`/media/generated/${id}/nothing.png`, 'File not found'],
    [`/media/uploads/channels/${id}/nothing.png`, 'File not found'],
    [`/media/uploads/agents/${id}`, 'File not found'],
  ]) {
    const r = await rawGet(path);
    assert.equal(r.status, 404, path);
    assert.deepEqual(r.body, { error: msg }, path);
  }
});

test('limits and auth: max_file_size, server.max_upload, uploads behind the API key, /media public', async () => {
  const s = await startServer({
    plugins: PLUGINS,
    server: '  max_body = "32kb";\n  max_upload = "64kb";\n',
    sections: 'media: { max_file_size = 1024; };\n',
    env: { ELIZA_SERVER_AUTH_TOKEN: 'sekret' },
  });
  try {
    const key = { 'X-API-KEY': 'sekret' };
    const path = `/api/media/agents/${randomUUID()}/upload-media`;
    const noKey = await postForm(path, form('file', PNG.subarray(0, 100), 'image/png', 'a.png'), s.url);
    assert.equal(noKey.status, 401);
    const fits = randomBytes(1024);
    const ok = await postForm(path, form('file', fits, 'image/png', 'a.png'), s.url, key);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    // /media is public (COMPAT §1.4)
    const got = await fetch(s.url + ok.body.data.url);
    assert.equal(got.status, 200);
    assert.ok(Buffer.from(await got.arrayBuffer()).equals(fits));
    // over the plugin's file limit: multer's 500
    assertMulter(await postForm(path, form('file', randomBytes(1025), 'image/png', 'b.png'), s.url, key), 'File too large');
    const client2 = new ElizaClient({ baseUrl: s.url, apiKey: 'sekret', timeout: 10000 });
    await assert.rejects(
      client2.media.uploadChannelMedia(randomUUID(), new File([randomBytes(2000)], 'big.png', { type: 'image/png' })),
      (e) => e.status === 500 && e.message === 'File too large',
    );
    // over the kernel's body limit: refused before the body is read
    const huge = await postForm(path, form('file', randomBytes(100 * 1024), 'image/png', 'c.png'), s.url, key);
    assert.equal(huge.status, 413);
    assert.equal(huge.body.error.message, 'request entity too large');
  } finally {
    await stopClean(s);
  }
});
