// Audio plugin (COMPAT §11): offline speech synthesis (flite) and recognition (pocketsphinx)
// over the real server's paths, the seed list's names and @elizaos/api-client. Round trips
// check what the recogniser really hears in the synthesiser's output.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { startServer, http } from './lib/harness.mjs';
import { client, startAgent } from './fixtures/runtime_kit.mjs';

let srv;
let api;
let agentId; // created and started
let idleId; // created, never started

before(async () => {
  srv = await startServer({ plugins: ['messaging', 'agents', 'runtime', 'model_eliza', 'audio'] });
  api = client(srv);
  agentId = await startAgent(api, { name: 'Ada', bio: ['Ada speaks slowly.'] });
  const idle = await api.agents.createAgent({ characterJson: { name: 'Idle', bio: ['Never started.'] } });
  idleId = idle.id || idle.character.id;
});

after(async () => {
  const st = await srv.stop();
  assert.equal(st.code, 0, `elizad exit: ${JSON.stringify(st)}\n${srv.log()}`);
});

const base = (id = agentId) => `${srv.url}/api/audio/${id}`;

// elizaOS stringToUuid / createUniqueUuid, written independently of the server (COMPAT §1.6).
function stringToUuid(s) {
  const b = Buffer.from(createHash('sha1').update(encodeURIComponent(s)).digest().subarray(0, 16));
  b[8] = (b[8] & 0x3f) | 0x80;
  b[6] = b[6] & 0x0f;
  const x = b.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

// Reads a RIFF/WAVE file's fmt and data chunks; throws on anything else.
function wavInfo(buf) {
  assert.equal(buf.toString('latin1', 0, 4), 'RIFF');
  assert.equal(buf.toString('latin1', 8, 12), 'WAVE');
  assert.equal(buf.readUInt32LE(4), buf.length - 8, 'RIFF size');
  let pos = 12;
  const info = {};
  while (pos + 8 <= buf.length) {
    const id = buf.toString('latin1', pos, pos + 4);
    const size = buf.readUInt32LE(pos + 4);
    if (id === 'fmt ') {
      info.format = buf.readUInt16LE(pos + 8);
      info.channels = buf.readUInt16LE(pos + 10);
      info.rate = buf.readUInt32LE(pos + 12);
      info.bits = buf.readUInt16LE(pos + 22);
    } else if (id === 'data') {
      info.samples = buf.subarray(pos + 8, pos + 8 + size);
    }
    pos += 8 + size + (size & 1);
  }
  assert.ok(info.samples, 'data chunk');
  info.seconds = info.samples.length / (info.rate * info.channels * (info.bits / 8));
  return info;
}

// POST JSON, answer as raw bytes.
async function postBinary(url, body) {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: r.status, headers: r.headers, buf: Buffer.from(await r.arrayBuffer()) };
}

// Synthesises text and checks the answer is a real WAV file; returns its bytes.
async function speak(url, text) {
  const r = await postBinary(url, { text });
  assert.equal(r.status, 200, r.buf.toString());
  assert.equal(r.headers.get('content-type'), 'audio/wav');
  assert.equal(Number(r.headers.get('content-length')), r.buf.length);
  const w = wavInfo(r.buf);
  assert.deepEqual([w.format, w.channels, w.bits, w.rate], [1, 1, 16, 16000]);
  assert.ok(w.seconds > 0.4 && w.seconds < 30, `${w.seconds} s of audio`);
  // not silence: speech has a real amplitude somewhere
  let peak = 0;
  for (let i = 0; i + 1 < w.samples.length; i += 2) peak = Math.max(peak, Math.abs(w.samples.readInt16LE(i)));
  assert.ok(peak > 2000, `peak ${peak}`);
  return r.buf;
}

function form(fields = {}, file, type = 'audio/wav', name = 'speech.wav') {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  if (file) f.append('file', new Blob([file], { type }), name);
  return f;
}

async function postForm(url, fd) {
  const r = await fetch(url, { method: 'POST', body: fd });
  const text = await r.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* binary */
  }
  return { status: r.status, headers: r.headers, body };
}

const styleA = (code, message) => ({ success: false, error: { code, message } });

let helloWav; // "hello world", kept for the recognition tests

test('every synthesis path returns a real WAV: real names, seed names, JSON and multipart', async () => {
  for (const path of ['speech/generate', 'audio-messages/synthesize', 'synthesize', 'speech']) {
    const buf = await speak(`${base()}/${path}`, 'hello world');
    if (!helloWav) helloWav = buf;
  }
  // the same words last as long (the samples differ: the voice adds a little noise)
  assert.equal((await speak(`${base()}/synthesize`, 'hello world')).length, helloWav.length);
  // multipart with a text field (what a form posts)
  const r = await fetch(`${base()}/speech/generate`, { method: 'POST', body: form({ text: 'good morning' }) });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'audio/wav');
  assert.ok(wavInfo(Buffer.from(await r.arrayBuffer())).seconds > 0.4);
});

// Libraries mapped into the server process whose file names match re.
const mapped = (re) => [...new Set(readFileSync(`/proc/${srv.child.pid}/maps`, 'utf8').match(re) || [])];

test('round trip: what flite says, pocketsphinx hears (transcriptions, transcribe, audio-messages, message)', async () => {
  // pocketsphinx is loaded by the first transcription, not at startup: its dependencies bring
  // libquadmath, whose printf hooks slow every printf-family call of the process
  assert.deepEqual(mapped(/lib(pocketsphinx|quadmath)[^/\n]*/g), []);
  for (const path of ['transcriptions', 'transcribe']) {
    const r = await postForm(`${base()}/${path}`, form({}, helloWav));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.success, true);
    assert.match(r.body.data.text, /\bhello\b/);
    assert.match(r.body.data.text, /\bworld\b/);
  }
  assert.ok(mapped(/libpocketsphinx[^/\n]*/g).length > 0, 'pocketsphinx loaded by the first transcription');
  for (const path of ['audio-messages', 'message']) {
    const r = await postForm(`${base()}/${path}`, form({}, helloWav));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.match(r.body.data.transcription, /hello world/);
    assert.equal(r.body.data.message, 'Audio transcribed, further processing TBD.');
  }
  const digits = await speak(`${base()}/speech/generate`, 'one two three four five');
  const r = await postForm(`${base()}/transcriptions`, form({}, digits));
  assert.match(r.body.data.text, /one two three/);
});

test('uploads at other rates and layouts are down-mixed and resampled (48 kHz stereo, 8 kHz 8-bit)', async () => {
  const w = wavInfo(helloWav);
  const n = w.samples.length / 2;
  const hdr = (rate, channels, bits, bytes) => {
    const h = Buffer.alloc(44);
    h.write('RIFF', 0, 'latin1');
    h.writeUInt32LE(36 + bytes, 4);
    h.write('WAVEfmt ', 8, 'latin1');
    h.writeUInt32LE(16, 16);
    h.writeUInt16LE(1, 20);
    h.writeUInt16LE(channels, 22);
    h.writeUInt32LE(rate, 24);
    h.writeUInt32LE((rate * channels * bits) / 8, 28);
    h.writeUInt16LE((channels * bits) / 8, 32);
    h.writeUInt16LE(bits, 34);
    h.write('data', 36, 'latin1');
    h.writeUInt32LE(bytes, 40);
    return h;
  };
  // 48 kHz stereo: each sample three times, on both channels
  const st = Buffer.alloc(n * 3 * 4);
  for (let i = 0; i < n; i++) {
    const s = w.samples.readInt16LE(2 * i);
    for (let k = 0; k < 3; k++) {
      st.writeInt16LE(s, (3 * i + k) * 4);
      st.writeInt16LE(s, (3 * i + k) * 4 + 2);
    }
  }
  let r = await postForm(`${base()}/transcriptions`, form({}, Buffer.concat([hdr(48000, 2, 16, st.length), st])));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.match(r.body.data.text, /hello/);
  // 8 kHz unsigned 8-bit: every other sample, top byte only
  const lo = Buffer.alloc(Math.floor(n / 2));
  for (let i = 0; i < lo.length; i++) lo[i] = (w.samples.readInt16LE(4 * i) >> 8) + 128;
  r = await postForm(
    `${base()}/transcriptions`,
    form({}, Buffer.concat([hdr(8000, 1, 8, lo.length), lo]), 'application/octet-stream', 'blob'),
  );
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.match(r.body.data.text, /hello|world/);
});

test('@elizaos/api-client: transcribe, generateSpeech, synthesizeAudioMessage, speechConversation', async () => {
  const t = await api.audio.transcribe(agentId, { audio: helloWav, format: 'wav' });
  assert.match(t.text, /hello world/);
  const g = await api.audio.generateSpeech(agentId, { text: 'hello world' });
  assert.equal(g.format, 'mpeg'); // the client's label, whatever the bytes are (COMPAT §11)
  assert.ok(wavInfo(Buffer.from(g.audio, 'base64')).seconds > 0.4);
  // binary answers read as "no JSON" by the client: they resolve instead of throwing
  assert.deepEqual(await api.audio.synthesizeAudioMessage(agentId, { text: 'hello' }), { success: true });
  assert.deepEqual(await api.audio.speechConversation(agentId, { audio: helloWav }), { success: true });
});

test('conversation: the agent answers aloud, the exchange is stored as its memories', async () => {
  for (const path of ['speech/conversation', 'conversation']) {
    const reply = await speak(`${base()}/${path}`, 'I feel sad today');
    const heard = await postForm(`${base()}/transcriptions`, form({}, reply));
    assert.equal(heard.status, 200, JSON.stringify(heard.body));
    assert.ok(heard.body.data.text.split(' ').length >= 2, heard.body.data.text);
  }
  // the default room of the conversation, as upstream derives it
  const roomId = stringToUuid(`default-room-${agentId}:${agentId}`);
  const mem = await http(`${srv.url}/api/memory/${agentId}/memories?roomId=${roomId}`);
  assert.equal(mem.status, 200, JSON.stringify(mem.body));
  const texts = mem.body.data.memories.map((m) => m.content.text);
  assert.ok(texts.includes('I feel sad today'), JSON.stringify(texts));
  const answers = mem.body.data.memories.filter((m) => m.entityId === agentId);
  assert.ok(answers.length >= 2 && answers.every((m) => m.content.source === 'audio' && m.content.inReplyTo));
  // an explicit room: its own conversation
  const own = await postBinary(`${base()}/speech/conversation`, { text: 'hello', roomId: 'kitchen' });
  assert.equal(own.status, 200);
  const ownRoom = stringToUuid(`kitchen:${agentId}`);
  const m2 = await http(`${srv.url}/api/memory/${agentId}/memories?roomId=${ownRoom}`);
  assert.ok(m2.body.data.memories.some((m) => m.content.text === 'hello'), JSON.stringify(m2.body));
});

test('conversation by voice (multipart file): transcribed, answered, spoken', async () => {
  const r = await fetch(`${base()}/speech/conversation`, { method: 'POST', body: form({}, helloWav) });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'audio/wav');
  assert.ok(wavInfo(Buffer.from(await r.arrayBuffer())).seconds > 0.4);
  const roomId = stringToUuid(`default-room-${agentId}:${agentId}`);
  const mem = await http(`${srv.url}/api/memory/${agentId}/memories?roomId=${roomId}`);
  assert.ok(mem.body.data.memories.some((m) => /hello world/.test(m.content.text)));
});

test('missing text and missing file: 400 with the exact texts', async () => {
  for (const path of ['speech/generate', 'audio-messages/synthesize', 'synthesize', 'speech']) {
    for (const body of [{}, { text: '' }, { text: '   ' }, { text: 42 }, { voice: 'x' }]) {
      const r = await http(`${base()}/${path}`, { method: 'POST', body });
      assert.equal(r.status, 400, path);
      assert.deepEqual(r.body, styleA('INVALID_REQUEST', 'Text is required for speech synthesis'));
    }
    const empty = await fetch(`${base()}/${path}`, { method: 'POST' });
    assert.equal(empty.status, 400);
  }
  for (const path of ['speech/conversation', 'conversation']) {
    const r = await http(`${base()}/${path}`, { method: 'POST', body: { roomId: 'r' } });
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, styleA('INVALID_REQUEST', 'Text is required for conversation'));
  }
  for (const path of ['transcriptions', 'transcribe', 'audio-messages', 'message']) {
    let r = await http(`${base()}/${path}`, { method: 'POST', body: { text: 'hi' } });
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, styleA('INVALID_REQUEST', 'No audio file provided'));
    r = await postForm(`${base()}/${path}`, form({ text: 'hi' }));
    assert.deepEqual([r.status, r.body], [400, styleA('INVALID_REQUEST', 'No audio file provided')]);
  }
  const long = await http(`${base()}/speech/generate`, { method: 'POST', body: { text: 'a '.repeat(3000) } });
  assert.deepEqual(
    [long.status, long.body],
    [400, styleA('INVALID_REQUEST', 'Text is too long for speech synthesis (at most 4096 bytes)')],
  );
});

test('agent not found or not started: 404; bad id: 400', async () => {
  const unknown = '7f3a9c2e-1b4d-4e8f-9a6b-2c5d8e1f0a3b';
  for (const id of [unknown, idleId]) {
    for (const path of ['speech/generate', 'synthesize', 'transcriptions', 'message', 'speech/conversation']) {
      const r = await http(`${base(id)}/${path}`, { method: 'POST', body: { text: 'hello' } });
      assert.equal(r.status, 404, `${id} ${path}`);
      assert.deepEqual(r.body, styleA('NOT_FOUND', 'Agent not found'));
    }
  }
  const bad = await http(`${base('not-a-uuid')}/speech/generate`, { method: 'POST', body: { text: 'x' } });
  assert.deepEqual([bad.status, bad.body], [400, styleA('INVALID_ID', 'Invalid agent ID format')]);
});

test('malformed uploads get a clear error and the server keeps serving', async () => {
  // a RIFF/WAVE file whose fmt chunk claims more bytes than the file has
  const broken = Buffer.concat([Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt ', 'latin1'), Buffer.from([0xf0, 0xff, 0xff, 0x7f, 1, 0, 1, 0])]);
  let r = await postForm(`${base()}/transcriptions`, form({}, broken));
  assert.deepEqual(
    [r.status, r.body],
    [400, styleA('INVALID_AUDIO', 'Malformed WAV file: a chunk runs past the end of the file')],
  );
  // bytes that are no WAV at all, labelled WAV
  r = await postForm(`${base()}/transcribe`, form({}, Buffer.from('definitely not audio')));
  assert.deepEqual(
    [r.status, r.body],
    [400, styleA('INVALID_AUDIO', 'Malformed WAV file: the RIFF/WAVE header is missing')],
  );
  // a WAV without samples, and an encoding we do not decode (mu-law)
  const noData = Buffer.from(helloWav.subarray(0, 44));
  r = await postForm(`${base()}/transcriptions`, form({}, noData));
  assert.deepEqual([r.status, r.body.error.code], [400, 'INVALID_AUDIO']);
  const mulaw = Buffer.from(helloWav);
  mulaw.writeUInt16LE(7, 20);
  r = await postForm(`${base()}/transcriptions`, form({}, mulaw));
  assert.equal(r.status, 415);
  assert.equal(r.body.error.code, 'UNSUPPORTED_MEDIA_TYPE');
  assert.match(r.body.error.message, /WAV encoding 7 is not supported/);
  // allowed audio types we cannot decode offline, and types that are not audio
  r = await postForm(`${base()}/transcriptions`, form({}, Buffer.from('ID3\x03fake mp3'), 'audio/mpeg', 'a.mp3'));
  assert.deepEqual(
    [r.status, r.body],
    [415, styleA('UNSUPPORTED_MEDIA_TYPE', 'Cannot decode audio/mpeg audio: only WAV (PCM or float) can be transcribed')],
  );
  r = await postForm(`${base()}/transcriptions`, form({}, Buffer.from('\x89PNG'), 'image/png', 'a.png'));
  assert.deepEqual(
    [r.status, r.body],
    [415, styleA('UNSUPPORTED_MEDIA_TYPE', 'Invalid file type: image/png is not an allowed audio type')],
  );
  // silence is audio, but nothing is recognised in it
  const silent = Buffer.from(helloWav);
  silent.fill(0, 44);
  r = await postForm(`${base()}/transcriptions`, form({}, silent));
  assert.deepEqual([r.status, r.body.error.code, r.body.error.message], [500, 'PROCESSING_ERROR', 'Failed to transcribe audio']);
  // a multipart body cut before its closing boundary, invalid JSON, an unknown content type
  const cut = await fetch(`${base()}/transcriptions`, {
    method: 'POST',
    headers: { 'Content-Type': 'multipart/form-data; boundary=zz' },
    body: '--zz\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\nRIFF',
  });
  assert.equal(cut.status, 400);
  assert.deepEqual(
    await cut.json(),
    styleA('INVALID_REQUEST', 'Malformed multipart body: Unexpected end of form'),
  );
  r = await http(`${base()}/speech/generate`, { method: 'POST', raw: true, body: '{"text":', headers: { 'Content-Type': 'application/json' } });
  assert.equal(r.status, 400);
  assert.match(r.body.error.message, /^Invalid JSON/);
  r = await http(`${base()}/speech/generate`, { method: 'POST', raw: true, body: 'text=hi', headers: { 'Content-Type': 'text/plain' } });
  assert.deepEqual([r.status, r.body], [400, styleA('INVALID_CONTENT_TYPE', 'Invalid or missing Content-Type header')]);
  // still serving, engines included
  const again = await postForm(`${base()}/transcriptions`, form({}, helloWav));
  assert.match(again.body.data.text, /hello world/);
  await speak(`${base()}/speech/generate`, 'still here');
});
