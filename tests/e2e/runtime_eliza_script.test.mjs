// model_eliza's script is data the operator can replace (model_eliza.script_file): a custom
// script answers, and a broken one stops the server at start-up with the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from './lib/harness.mjs';
import { client, startAgent, dmChannel, connect, join as joinChannel, send, waitFor, eventsOf, isReplyFrom } from './fixtures/runtime_kit.mjs';

const dir = mkdtempSync(join(tmpdir(), 'eliza-script-'));

test('a custom script answers instead of the compiled-in one', async () => {
  const file = join(dir, 'tiny.json');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'tiny',
      post: { my: 'your' },
      keywords: [
        { words: ['ping'], rank: 1, rules: [{ pattern: '* ping *', replies: ['PONG for (2)!'] }] },
        { words: ['name'], rules: [{ pattern: '*', replies: ['I am {name}.'] }] },
      ],
      fallback: ['Nothing to say.'],
    }),
  );
  const srv = await startServer({ sections: `model_eliza: { script_file = "${file}"; };\n` });
  const s = await connect(srv);
  try {
    const api = client(srv);
    const agentId = await startAgent(api, { name: 'Scripted', bio: ['Runs a custom script.'] });
    const channelId = await dmChannel(api, s.entityId, agentId);
    await joinChannel(s, channelId);
    send(s, channelId, 'ping my server');
    const r1 = await waitFor(s, 'messageBroadcast', isReplyFrom(agentId), 1000);
    assert.equal(r1.text, 'PONG for your server!');
    send(s, channelId, 'what is your name');
    const r2 = await waitFor(s, 'messageBroadcast', (d) => isReplyFrom(agentId)(d) && d.id !== r1.id, 1000);
    assert.equal(r2.text, 'I am Scripted.');
    send(s, channelId, 'hmm');
    const r3 = await waitFor(s, 'messageBroadcast', (d) => isReplyFrom(agentId)(d) && ![r1.id, r2.id].includes(d.id), 1000);
    assert.equal(r3.text, 'Nothing to say.');
    const runs = await api.runs.listRuns(agentId);
    const detail = await api.runs.getRun(agentId, runs.runs[0].runId);
    assert.equal(detail.events.find((e) => e.type === 'MODEL_USED').data.model, 'eliza:tiny');
  } finally {
    s.close();
    await srv.stop();
  }
});

// The streamed chunks of one answer: chunk_words words each (the space before a word opens its
// chunk), in order, concatenating to the stored text.
async function chunksFor(sections) {
  const file = join(dir, `ten-${randomUUID()}.json`);
  writeFileSync(file, JSON.stringify({ name: 'ten', keywords: [{ words: ['zebra'], rules: [{ pattern: '*', replies: ['Zebra.'] }] }], fallback: ['One two three four five six seven eight nine ten.'] }));
  const srv = await startServer({ sections: `model_eliza: { script_file = "${file}";${sections} };\n` });
  const s = await connect(srv);
  try {
    const api = client(srv);
    const agentId = await startAgent(api, { name: 'Counter', bio: ['Counts to ten.'] });
    const channelId = await dmChannel(api, s.entityId, agentId);
    await joinChannel(s, channelId);
    send(s, channelId, 'count for me');
    const reply = await waitFor(s, 'messageBroadcast', isReplyFrom(agentId), 1000);
    await waitFor(s, 'messageComplete', (d) => d.messageId === reply.id, 1000);
    const chunks = eventsOf(s, 'messageStreamChunk', (d) => d.messageId === reply.id).map((e) => e.data);
    assert.deepEqual(chunks.map((c) => c.index), chunks.map((_, i) => i));
    assert.equal(chunks.map((c) => c.chunk).join(''), reply.text);
    return chunks.map((c) => c.chunk);
  } finally {
    s.close();
    await srv.stop();
  }
}

test('model_eliza.chunk_words: words per streamed chunk (default 4, 1 = word by word)', async () => {
  assert.deepEqual(await chunksFor(''), ['One two three four', ' five six seven eight', ' nine ten.']);
  assert.deepEqual(await chunksFor(' chunk_words = 3;'), ['One two three', ' four five six', ' seven eight nine', ' ten.']);
  const words = await chunksFor(' chunk_words = 1;');
  assert.equal(words.length, 10);
  assert.deepEqual(words.slice(0, 3), ['One', ' two', ' three']);
  assert.deepEqual(await chunksFor(' chunk_words = 50;'), ['One two three four five six seven eight nine ten.']);
});

test('an invalid script stops the server at start-up, naming the problem', async () => {
  const file = join(dir, 'broken.json');
  writeFileSync(
    file,
    JSON.stringify({
      keywords: [{ words: ['x'], rules: [{ pattern: '* x *', replies: ['(7)'] }] }],
      fallback: ['ok'],
    }),
  );
  await assert.rejects(
    startServer({ sections: `model_eliza: { script_file = "${file}"; };\n` }),
    (e) => /script_file/.test(e.message) && /keywords\[0\]\.rules\[0\]\.replies\[0\]/.test(e.message),
  );
  await assert.rejects(
    startServer({ sections: `model_eliza: { script_file = "${join(dir, 'missing-' + randomUUID())}.json"; };\n` }),
    (e) => /script_file/.test(e.message) && /cannot open/.test(e.message),
  );
  rmSync(dir, { recursive: true, force: true });
});
