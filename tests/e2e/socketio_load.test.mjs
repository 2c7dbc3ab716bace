// 1,000 socket.io-client connections held at once (900 websocket, 100 long-polling), all in one
// room, all receiving broadcasts in order; the server's memory stays small (checked on
// unsanitized builds only: ASan's shadow memory makes RSS meaningless).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import { startServer } from './lib/harness.mjs';
import { within, sleep, rssMB, sanitized } from './socketio_helpers.mjs';

const N = 1000;
const POLLING = 100;
let srv;
let sockets = [];
before(async () => {
  srv = await startServer({
    plugins: ['sio_conformance'],
    sections: 'socketio: { ping_interval = 10000; ping_timeout = 10000; };\n',
  });
});
after(async () => {
  for (const s of sockets) s.close();
  await srv?.stop();
});

function connect(i) {
  const s = io(srv.url, {
    transports: i < POLLING ? ['polling'] : ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: 20000,
  });
  return within(
    new Promise((resolve, reject) => {
      s.once('auth', () => resolve(s));
      s.once('connect_error', reject);
    }),
    30000,
    `client ${i} to connect`,
  );
}

test(`${N} concurrent clients join a room and all receive its broadcasts`, { timeout: 240000 }, async () => {
  const rssIdle = rssMB(srv.child.pid);
  for (let i = 0; i < N; i += 100) {
    sockets.push(...(await Promise.all(Array.from({ length: 100 }, (_, k) => connect(i + k)))));
  }
  assert.equal(sockets.filter((s) => s.connected).length, N);
  const joined = await Promise.all(sockets.map((s) => s.timeout(20000).emitWithAck('join', 'crowd')));
  assert.ok(joined.every((rc) => rc === 0));
  const sender = sockets[N - 1];
  assert.equal(await sender.timeout(5000).emitWithAck('room-size', 'crowd'), N);

  const rss = rssMB(srv.child.pid);
  if (!sanitized(srv.child.pid)) {
    assert.ok(rss < 50, `RSS ${rss} MB with ${N} clients (idle ${rssIdle} MB)`);
  }
  console.log(`# RSS idle ${rssIdle?.toFixed(1)} MB, with ${N} clients ${rss?.toFixed(1)} MB`);

  const MSGS = 20;
  const received = sockets.map(() => []);
  sockets.forEach((s, i) => s.on('bulletin', (n, text) => received[i].push([n, text])));
  const t0 = Date.now();
  for (let n = 0; n < MSGS; n++) sender.emit('to-room', 'crowd', 'bulletin', n, `news ${n}`);
  const want = Array.from({ length: MSGS }, (_, n) => [n, `news ${n}`]);
  const deadline = Date.now() + 60000;
  while (received.some((r) => r.length < MSGS) && Date.now() < deadline) await sleep(50);
  const took = Date.now() - t0;
  const complete = received.filter((r) => r.length === MSGS).length;
  assert.equal(complete, N, `${complete} of ${N} clients got all ${MSGS} broadcasts`);
  for (const r of received) assert.deepEqual(r, want);
  console.log(`# ${N * MSGS} deliveries in ${took} ms`);

  // everyone leaves: the room disappears
  const probe = sockets.pop();
  for (const s of sockets) s.close();
  sockets = [probe];
  const t1 = Date.now();
  let left = -1;
  while (Date.now() - t1 < 20000) {
    left = await probe.timeout(5000).emitWithAck('room-size', 'crowd');
    if (left === 1) break;
    await sleep(100);
  }
  assert.equal(left, 1);
});
