// Socket.IO with the real socket.io-client 4: every transport mode, events both ways, acks,
// binary, rooms, namespaces, guards, handshake auth (SERVER_API_KEY / ELIZA_SERVER_AUTH_TOKEN as
// auth.apiKey, auth.token or an x-api-key header), reconnects, per-socket data and emits from a
// worker thread. The server side is the sio_conformance test plugin.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import { startServer } from './lib/harness.mjs';
import { within, sleep } from './socketio_helpers.mjs';

const SECTIONS = 'socketio: { ping_interval = 2000; ping_timeout = 2000; connect_timeout = 3000; };\n';
let srv;
const clients = [];
before(async () => {
  srv = await startServer({ plugins: ['sio_conformance'], sections: SECTIONS });
});
after(async () => {
  for (const c of clients) c.close();
  await srv?.stop();
});

function client(url, opts = {}, nsp = '') {
  const s = io(url + nsp, { reconnection: false, forceNew: true, timeout: 5000, ...opts });
  clients.push(s);
  return s;
}

const once = (s, ev, ms = 3000) => within(new Promise((r) => s.once(ev, (...a) => r(a))), ms, `"${ev}"`);

// Connected, with the server's "auth" greeting received.
async function ready(s) {
  const [auth] = await once(s, 'auth');
  assert.ok(s.connected);
  return auth;
}

const TRANSPORTS = {
  'default (polling, then upgrade)': {},
  'websocket only': { transports: ['websocket'] },
  'polling only': { transports: ['polling'] },
};

for (const [name, opts] of Object.entries(TRANSPORTS)) {
  describe(`transport: ${name}`, () => {
    test('connects, greets with the handshake auth, echoes events and acks', async () => {
      const s = client(srv.url, { ...opts, auth: { token: 'abc', n: 1 } });
      assert.deepEqual(await ready(s), { token: 'abc', n: 1 });
      const back = once(s, 'message-back');
      s.emit('message', 1, 'two', { three: [true, null, 3.5] }, 'ünïcødé €');
      assert.deepEqual(await back, [1, 'two', { three: [true, null, 3.5] }, 'ünïcødé €']);
      const acked = await s.timeout(3000).emitWithAck('message-with-ack', 'x', 42);
      assert.equal(acked, 'x'); // emitWithAck resolves with the first argument
      const all = await new Promise((r) => s.emit('message-with-ack', 'a', [1], { b: 2 }, (...a) => r(a)));
      assert.deepEqual(all, ['a', [1], { b: 2 }]);
      if (opts.transports === undefined) {
        if (s.io.engine.transport.name !== 'websocket') await once(s.io.engine, 'upgrade');
        assert.equal(s.io.engine.transport.name, 'websocket');
      } else {
        assert.equal(s.io.engine.transport.name, opts.transports[0]);
      }
      s.close();
    });

    test('binary arguments round-trip', async () => {
      const s = client(srv.url, opts);
      await ready(s);
      const blob = Buffer.from(Array.from({ length: 3000 }, (_, i) => i & 255));
      const back = once(s, 'message-back');
      s.emit('message', blob, { nested: Buffer.from([1, 2, 3]), keep: 'text' });
      const [b1, obj] = await back;
      assert.ok(Buffer.from(b1).equals(blob));
      assert.ok(Buffer.from(obj.nested).equals(Buffer.from([1, 2, 3])));
      assert.equal(obj.keep, 'text');
      const acked = await new Promise((r) => s.emit('message-with-ack', Buffer.from('hi'), (...a) => r(a)));
      assert.equal(Buffer.from(acked[0]).toString(), 'hi');
      s.close();
    });
  });
}

describe('rooms', () => {
  test('join, emit to a room, leave, sizes, and leaving on disconnect', async () => {
    const [a, b, c] = [client(srv.url), client(srv.url, { transports: ['polling'] }), client(srv.url)];
    await Promise.all([a, b, c].map(ready));
    const ack = (s, ...args) => s.timeout(3000).emitWithAck(...args);
    assert.equal(await ack(a, 'join', 'r1'), 0);
    assert.equal(await ack(b, 'join', 'r1'), 0);
    assert.equal(await ack(a, 'join', 'r1'), 0); // joining twice is harmless
    assert.equal(await ack(c, 'room-size', 'r1'), 2);
    assert.equal(await ack(c, 'room-size', null), 3); // the whole namespace (plus none from other tests)

    const got = { a: [], b: [], c: [] };
    for (const [k, s] of Object.entries({ a, b, c })) s.on('news', (...x) => got[k].push(x));
    assert.equal(await ack(c, 'to-room', 'r1', 'news', 'hello', 1), 0);
    await sleep(200);
    assert.deepEqual(got, { a: [['hello', 1]], b: [['hello', 1]], c: [] });

    assert.equal(await ack(a, 'leave', 'r1'), 0);
    assert.equal(await ack(a, 'leave', 'r1'), -4); // EZ_ENOENT: not a member any more
    await ack(c, 'to-room', 'r1', 'news', 'second');
    await sleep(200);
    assert.deepEqual(got.a, [['hello', 1]]);
    assert.deepEqual(got.b, [['hello', 1], ['second']]);

    // to everyone but the sender
    got.a.length = got.b.length = 0;
    await ack(a, 'to-others', 'news', 'not for a');
    await sleep(200);
    assert.deepEqual(got.a, []);
    assert.deepEqual(got.b, [['not for a']]);
    assert.deepEqual(got.c, [['not for a']]);

    // a socket's own room is its id
    const [got1] = await Promise.all([once(b, 'direct'), ack(c, 'to-room', b.id, 'direct', 'just b')]);
    assert.deepEqual(got1, ['just b']);
    assert.equal(await ack(c, 'room-size', b.id), 1);

    const bId = b.id;
    b.close();
    await sleep(200);
    assert.equal(await ack(c, 'room-size', 'r1'), 0);
    assert.equal(await ack(c, 'room-size', bId), 0);
    a.close();
    c.close();
  });
});

describe('namespaces', () => {
  test('a custom namespace shares the connection and has its own events', async () => {
    const main = client(srv.url, { forceNew: false });
    const custom = io(srv.url + '/custom', { reconnection: false, auth: { who: 'custom' } });
    clients.push(custom);
    const [, customAuth] = await Promise.all([ready(main), ready(custom)]);
    assert.deepEqual(customAuth, { who: 'custom' });
    assert.equal(main.io, custom.io); // multiplexed on one Engine.IO session
    const back = once(custom, 'message-back');
    custom.emit('message', 'on custom');
    assert.deepEqual(await back, ['on custom']);
    const who = await custom.timeout(3000).emitWithAck('whoami');
    assert.equal(who.nsp, '/custom');
    assert.equal(who.sid, custom.id);
    assert.equal(who.remote, '127.0.0.1');
    custom.close();
    main.close();
  });

  test('an unknown namespace is refused with "Invalid namespace"', async () => {
    const s = client(srv.url, {}, '/nope');
    const [err] = await once(s, 'connect_error');
    assert.equal(err.message, 'Invalid namespace');
    assert.equal(s.connected, false);
  });

  test('a guard decides who enters its namespace', async () => {
    const bad = client(srv.url, { auth: { pass: 'guess' } }, '/guarded');
    const [err] = await once(bad, 'connect_error');
    assert.equal(err.message, 'Not welcome');
    const good = client(srv.url, { auth: { pass: 'open sesame' } }, '/guarded');
    assert.deepEqual(await ready(good), { pass: 'open sesame' });
    good.close();
  });
});

describe('server-side disconnect and reconnect', () => {
  test('the server disconnects a socket; the client reconnects with connect()', async () => {
    const s = client(srv.url);
    await ready(s);
    const firstId = s.id;
    const gone = once(s, 'disconnect');
    await s.timeout(3000).emitWithAck('server-disconnect');
    const [reason] = await gone;
    assert.equal(reason, 'io server disconnect');
    s.connect();
    await ready(s);
    assert.notEqual(s.id, firstId);
    const back = once(s, 'message-back');
    s.emit('message', 'after reconnect');
    assert.deepEqual(await back, ['after reconnect']);
    s.close();
  });

  test('a lost transport is reconnected automatically', async () => {
    const s = client(srv.url, { reconnection: true, reconnectionDelay: 50, transports: ['websocket'] });
    await ready(s);
    const firstId = s.id;
    s.io.engine.close(); // drops the connection under the socket, as a network failure would
    await ready(s);
    assert.notEqual(s.id, firstId);
    s.close();
  });
});

describe('plugin API', () => {
  test('per-socket data is kept for the socket and not shared', async () => {
    const [a, b] = [client(srv.url), client(srv.url)];
    await Promise.all([ready(a), ready(b)]);
    const ack = (s, ...args) => s.timeout(3000).emitWithAck(...args);
    assert.equal(await ack(a, 'data', 'entityId', 'abc'), 'abc');
    assert.deepEqual(await ack(a, 'data', 'profile', { n: 1 }), { n: 1 });
    assert.equal(await ack(a, 'data', 'entityId'), 'abc');
    assert.equal(await ack(b, 'data', 'entityId'), null);
    a.close();
    b.close();
  });

  test('emits from a worker thread arrive on the loop, in order', async () => {
    const s = client(srv.url);
    await ready(s);
    const ticks = [];
    s.on('tick', (i) => ticks.push(i));
    const n = await s.timeout(5000).emitWithAck('from-thread', 'tick', 500);
    assert.equal(n, 500);
    const t0 = Date.now();
    while (ticks.length < 500 && Date.now() - t0 < 3000) await sleep(20);
    assert.deepEqual(ticks, Array.from({ length: 500 }, (_, i) => i));
    s.close();
  });
});

describe('handshake auth', () => {
  async function authServer(env) {
    return startServer({ plugins: ['sio_conformance'], sections: SECTIONS, env });
  }

  test('SERVER_API_KEY: apiKey, token or x-api-key accepted; otherwise refused, no events', async () => {
    const s2 = await authServer({ SERVER_API_KEY: 'k1' });
    try {
      for (const opts of [
        { auth: { apiKey: 'k1' } },
        { auth: { token: 'k1' } },
        { extraHeaders: { 'x-api-key': 'k1' }, transports: ['polling'] },
        { extraHeaders: { 'x-api-key': 'k1' }, transports: ['websocket'] },
      ]) {
        const s = client(s2.url, opts);
        await ready(s);
        s.close();
      }
      for (const opts of [{}, { auth: { apiKey: 'k2' } }, { auth: { token: 'k' } }, { auth: { apiKey: 'k1x' } }]) {
        const s = client(s2.url, opts);
        let events = 0;
        s.onAny(() => events++);
        const [err] = await once(s, 'connect_error');
        assert.equal(err.message, 'Invalid or missing API Key', JSON.stringify(opts));
        await sleep(100);
        assert.equal(events, 0);
        s.close();
      }
      // the key is checked for every namespace
      const c = client(s2.url, { auth: { pass: 'open sesame' } }, '/guarded');
      assert.equal((await once(c, 'connect_error'))[0].message, 'Invalid or missing API Key');
    } finally {
      await s2.stop();
    }
  });

  test('ELIZA_SERVER_AUTH_TOKEN is accepted too; with both set, either works', async () => {
    const s2 = await authServer({ ELIZA_SERVER_AUTH_TOKEN: 't1', SERVER_API_KEY: 'k1' });
    try {
      for (const key of ['t1', 'k1']) {
        const s = client(s2.url, { auth: { token: key } });
        await ready(s);
        s.close();
      }
      const s = client(s2.url, { auth: { token: 'nope' } });
      assert.equal((await once(s, 'connect_error'))[0].message, 'Invalid or missing API Key');
    } finally {
      await s2.stop();
    }
  });
});
