// Hostile and broken clients: malformed Engine.IO and Socket.IO packets, broken WebSocket frames,
// oversize payloads, unknown sids, connections cut in the middle of a frame, clients that never
// answer pings. Each one is dropped on its own; a canary client keeps working throughout and the
// server stays up (run it under the asan preset for the memory side).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { io } from 'socket.io-client';
import { startServer } from './lib/harness.mjs';
import {
  rawWs, wsUrl, openPolling, poll, sleep, within, rawTcpWs, clientFrame, serverFrames,
} from './socketio_helpers.mjs';

const MAX = 10000; // small maxPayload so "too big" is cheap to reach
let srv;
let canary;
let echoes = 0;
before(async () => {
  srv = await startServer({
    plugins: ['sio_conformance'],
    sections: `socketio: { ping_interval = 500; ping_timeout = 1500; max_payload = ${MAX}; connect_timeout = 2000; };\n`,
  });
  canary = io(srv.url, { transports: ['websocket'], reconnection: false });
  await within(new Promise((r) => canary.once('auth', r)), 5000, 'canary');
  canary.on('message-back', () => echoes++);
  canary.on('disconnect', (r) => r !== 'io client disconnect' && console.log('# canary lost:', r));
});
after(async () => {
  canary?.close();
  if (srv) {
    assert.equal(srv.child.exitCode, null, `server died:\n${srv.log()}`);
    const { code } = await srv.stop();
    assert.equal(code, 0, srv.log());
  }
});

// After each hostile act: the canary still gets answers and the server still serves HTTP.
async function stillFine() {
  const before = echoes;
  canary.emit('message', 'still there?');
  const t0 = Date.now();
  while (echoes === before && Date.now() - t0 < 3000) await sleep(10);
  assert.ok(echoes > before, 'the canary got its echo');
  assert.ok(canary.connected);
  assert.equal((await fetch(`${srv.url}/healthz`)).status, 200);
}

// Completes the Engine.IO + Socket.IO handshakes on a raw TCP websocket.
async function rawSession() {
  const t = await rawTcpWs(srv.port);
  const t0 = Date.now();
  while (serverFrames(t.received()).length < 1 && Date.now() - t0 < 2000) await sleep(5);
  return t;
}

const closeCode = (frames) => {
  const f = frames.find((x) => x.opcode === 8);
  return f && f.payload.length >= 2 ? f.payload.readUInt16BE(0) : f ? 1005 : null;
};

async function expectClosed(t, code) {
  await within(t.ended, 3000, 'the server to close the connection');
  if (code !== undefined) assert.equal(closeCode(serverFrames(t.received())), code);
}

describe('broken websocket frames', () => {
  for (const [what, frame, code] of [
    ['an unmasked client frame', clientFrame('40', { mask: false }), 1002],
    ['reserved bits set', clientFrame('40', { rsv: 4 }), 1002],
    ['a reserved opcode', clientFrame('40', { opcode: 3 }), 1002],
    ['a fragmented ping', clientFrame('x', { opcode: 9, fin: false }), 1002],
    ['a continuation with nothing to continue', clientFrame('x', { opcode: 0 }), 1002],
    ['invalid UTF-8 in a text frame', clientFrame(Buffer.from([0x34, 0xc3, 0x28])), 1007],
    ['a frame over maxPayload', clientFrame(Buffer.alloc(MAX + 1, 0x61)), 1009],
    ['a 2^62-byte length announced', clientFrame(Buffer.alloc(0), { length: 2 ** 62 }), 1009],
  ]) {
    test(`${what}: closed with ${code}`, async () => {
      const t = await rawSession();
      t.sock.write(frame);
      await expectClosed(t, code);
      await stillFine();
    });
  }

  test('fragments adding up to more than maxPayload: closed with 1009', async () => {
    const t = await rawSession();
    const part = Buffer.alloc(MAX / 2 + 10, 0x61);
    part[0] = 0x34; // "4aaaa..."
    t.sock.write(clientFrame(part, { fin: false }));
    t.sock.write(clientFrame(part, { opcode: 0, fin: false }));
    await expectClosed(t, 1009);
    await stillFine();
  });

  test('a message in fragments, with a ping between them, is reassembled', async () => {
    const t = await rawSession();
    t.sock.write(clientFrame('4', { fin: false }));
    t.sock.write(clientFrame('ping!', { opcode: 9 }));
    t.sock.write(clientFrame('0', { opcode: 0 }));
    const t0 = Date.now();
    let frames = [];
    while (Date.now() - t0 < 2000) {
      frames = serverFrames(t.received());
      if (frames.some((f) => f.payload.toString().startsWith('40{"sid"'))) break;
      await sleep(10);
    }
    const pong = frames.find((f) => f.opcode === 10);
    assert.equal(pong?.payload.toString(), 'ping!');
    assert.ok(frames.some((f) => f.payload.toString().startsWith('40{"sid"')), 'the "40" got through');
    t.sock.destroy();
  });

  test('frames that arrive in the same packet as the upgrade request are not lost', async () => {
    const sock = net.connect(srv.port, '127.0.0.1');
    await new Promise((r) => sock.on('connect', r));
    let got = Buffer.alloc(0);
    sock.on('data', (d) => (got = Buffer.concat([got, d])));
    sock.write(
      Buffer.concat([
        Buffer.from(
          'GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n' +
            'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
        ),
        clientFrame('40'),
      ]),
    );
    const t0 = Date.now();
    const connected = () => {
      const i = got.indexOf('\r\n\r\n');
      return i >= 0 && serverFrames(got.subarray(i + 4)).some((f) => f.payload.toString().startsWith('40{"sid"'));
    };
    while (!connected() && Date.now() - t0 < 2000) await sleep(10);
    assert.ok(connected(), 'the "40" sent with the request got its answer');
    sock.destroy();
  });

  test('a close frame is answered with a close frame', async () => {
    const t = await rawSession();
    t.sock.write(clientFrame(Buffer.from([0x03, 0xe8]), { opcode: 8 }));
    await expectClosed(t, 1000);
  });

  test('connections cut in the middle of a frame, many at once', async () => {
    const cuts = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const t = await rawSession();
        const f = clientFrame(`42["message","${'x'.repeat(200 + i)}"]`);
        t.sock.write(f.subarray(0, 1 + (i % (f.length - 1)))); // header or payload, cut anywhere
        return t;
      }),
    );
    await sleep(50);
    for (const t of cuts) t.sock.destroy();
    await stillFine();
  });

  test('a websocket upgrade with a broken handshake is refused', async () => {
    for (const headers of [
      'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n', // no key
      'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n',
      'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n',
    ]) {
      const answer = await new Promise((resolve) => {
        const s = net.connect(srv.port, '127.0.0.1', () =>
          s.write(`GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n${headers}\r\n`),
        );
        let got = '';
        s.on('data', (d) => {
          got += d;
          if (got.includes('\r\n\r\n')) s.destroy();
        });
        s.on('close', () => resolve(got));
        setTimeout(() => s.destroy(), 2000);
      });
      assert.match(answer, /^HTTP\/1\.1 400/);
    }
    await stillFine();
  });
});

describe('malformed packets', () => {
  test('Engine.IO garbage over websocket closes only that connection', async () => {
    for (const bad of ['', 'x', '9', '2', 'b!!!', '4']) {
      const c = rawWs(wsUrl(srv.url), { autoPong: true });
      await c.next();
      c.send(bad);
      await within(c.closed, 2000, `close after ${JSON.stringify(bad)}`);
    }
    await stillFine();
  });

  test('Socket.IO garbage over long-polling ends that session', async () => {
    for (const bad of ['4abc', '42{}', '42["connect"]', '40[1]', '4' + '['.repeat(5000), '451-["message"]\x1e42[]']) {
      const sid = await openPolling(srv.url);
      await poll(srv.url, sid, { body: bad });
      await sleep(20);
      const r = await poll(srv.url, sid);
      assert.ok(r.status === 400 || r.text === '1', `${JSON.stringify(bad)} -> ${r.status} ${r.text}`);
    }
    await stillFine();
  });

  test('deeply nested JSON and huge ack ids are refused without harm', async () => {
    const c = rawWs(wsUrl(srv.url), { autoPong: true });
    await c.next();
    c.send('40');
    await c.next();
    c.send(`42["message",${'['.repeat(3000)}${']'.repeat(3000)}]`);
    await within(c.closed, 2000, 'close');
    const d = rawWs(wsUrl(srv.url), { autoPong: true });
    await d.next();
    d.send('40');
    await d.next();
    d.send('4299999999999999999["message-with-ack"]');
    await within(d.closed, 2000, 'close');
    await stillFine();
  });

  test('unknown or stale sids get 400 "Session ID unknown"', async () => {
    for (const sid of ['nope', 'x'.repeat(500), '../../etc', '%00']) {
      const r = await poll(srv.url, sid);
      assert.equal(r.status, 400);
      assert.equal(JSON.parse(r.text).code, 1);
      const p = await poll(srv.url, sid, { body: '40' });
      assert.equal(p.status, 400);
    }
    const c = rawWs(wsUrl(srv.url, '/socket.io/', 'EIO=4&transport=websocket&sid=nope'));
    await assert.rejects(c.opened, /400/);
    await stillFine();
  });
});

describe('oversize payloads', () => {
  test('a long-polling body over maxPayload is refused with 413', async () => {
    const sid = await openPolling(srv.url);
    const r = await poll(srv.url, sid, { body: '4' + 'a'.repeat(MAX + 100) }).catch(() => ({ status: 413 }));
    assert.equal(r.status, 413);
    await stillFine();
  });

  test('a websocket message over maxPayload closes with 1009 (socket.io-client sees a disconnect)', async () => {
    const s = io(srv.url, { transports: ['websocket'], reconnection: false, forceNew: true });
    await within(new Promise((r) => s.once('auth', r)), 3000, 'auth');
    const gone = within(new Promise((r) => s.once('disconnect', r)), 3000, 'disconnect');
    s.emit('message', 'x'.repeat(MAX * 2));
    assert.equal(await gone, 'transport close');
    s.close();
    await stillFine();
  });
});

describe('silent and slow clients', () => {
  test('clients that never answer pings are dropped, on both transports', async () => {
    const ws = rawWs(wsUrl(srv.url));
    await ws.next();
    ws.send('40');
    const sid = await openPolling(srv.url);
    await within(ws.closed, 5000, 'websocket ping timeout');
    await sleep(100);
    assert.equal((await poll(srv.url, sid)).status, 400);
    await stillFine();
  });

  test('a client that stops reading is cut off without slowing the others', async () => {
    const t = await rawSession();
    t.sock.write(clientFrame('40'));
    await sleep(100);
    t.sock.pause(); // stop reading: the server's output to it piles up
    const big = 'y'.repeat(MAX - 100);
    // ask the server to send us a lot: each echo is ~10 kB
    for (let i = 0; i < 2000; i++) t.sock.write(clientFrame(`42["message","${big}"]`));
    await stillFine();
    t.sock.destroy();
  });

  test('many half-open handshakes and idle TCP connections do not block anyone', async () => {
    const idle = await Promise.all(
      Array.from({ length: 100 }, () => new Promise((r) => {
        const s = net.connect(srv.port, '127.0.0.1', () => {
          s.write('GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n'); // never finished
          r(s);
        });
        s.on('error', () => {});
      })),
    );
    await stillFine();
    for (const s of idle) s.destroy();
  });
});
