// The raw Engine.IO echo endpoint of the engine.io conformance configuration
// (tests/conformance/engineio.conf: socketio.engineio_echo_path = "/engine.io/"): every message
// comes back as it was sent. These are the behaviours the public engine.io-protocol test suite
// checks, written independently; the endpoint is off unless configured.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/harness.mjs';
import { rawWs, wsUrl, openPolling, poll, sleep, within } from './socketio_helpers.mjs';

const P = '/engine.io/';
let srv;
before(async () => {
  srv = await startServer({
    plugins: [],
    sections:
      'socketio: { ping_interval = 300; ping_timeout = 200; max_payload = 1000000; ' +
      'engineio_echo_path = "/engine.io/"; };\n',
  });
});
after(async () => {
  await srv?.stop();
});

const url = (q) => wsUrl(srv.url, P, q);

describe('handshake', () => {
  test('polling and websocket handshakes', async () => {
    const r = await fetch(`${srv.url}${P}?EIO=4&transport=polling`);
    assert.equal(r.status, 200);
    const open = JSON.parse((await r.text()).slice(1));
    assert.deepEqual(open.upgrades, ['websocket']);
    assert.equal(open.pingInterval, 300);
    assert.equal(open.pingTimeout, 200);
    assert.equal(open.maxPayload, 1000000);
    const c = rawWs(url('EIO=4&transport=websocket'));
    const m = await c.next();
    assert.deepEqual(JSON.parse(m.slice(1)).upgrades, []);
    c.close();
  });

  test('bad query parameters and methods', async () => {
    for (const q of ['?transport=polling', '?EIO=abc&transport=polling', '?EIO=4', '?EIO=4&transport=abc']) {
      assert.equal((await fetch(`${srv.url}${P}${q}`)).status, 400, q);
    }
    for (const method of ['POST', 'PUT']) {
      assert.equal((await fetch(`${srv.url}${P}?EIO=4&transport=polling`, { method })).status, 400);
    }
    for (const q of ['transport=websocket', 'EIO=abc&transport=websocket', 'EIO=4', 'EIO=4&transport=abc']) {
      const c = rawWs(url(q));
      await within(c.closed, 2000, `refusal of ${q}`);
    }
  });

  test('the endpoint does not exist unless configured', async () => {
    const other = await startServer({ plugins: [] });
    try {
      const r = await fetch(`${other.url}${P}?EIO=4&transport=polling`);
      assert.equal(r.status, 404);
    } finally {
      await other.stop();
    }
  });
});

describe('messages', () => {
  test('polling: one text packet, several packets, text and binary', async () => {
    for (const body of ['4hello', '4test1\x1e4test2\x1e4test3', '4hello\x1ebAQIDBA==']) {
      const sid = await openPolling(srv.url, P);
      const push = await poll(srv.url, sid, { path: P, body });
      assert.equal(push.status, 200);
      assert.equal(push.text, 'ok');
      const r = await poll(srv.url, sid, { path: P });
      assert.equal(r.status, 200);
      assert.equal(r.text, body);
    }
  });

  test('polling: UTF-8 text survives the round trip', async () => {
    const sid = await openPolling(srv.url, P);
    await poll(srv.url, sid, { path: P, body: '4héllo €亜Б' });
    assert.equal((await poll(srv.url, sid, { path: P })).text, '4héllo €亜Б');
  });

  test('polling: an invalid packet ends the session', async () => {
    const sid = await openPolling(srv.url, P);
    const r = await poll(srv.url, sid, { path: P, body: 'abc' });
    assert.equal(r.status, 400);
    assert.equal((await poll(srv.url, sid, { path: P })).status, 400);
  });

  test('polling: duplicate and cancelled polls end the session', async () => {
    let sid = await openPolling(srv.url, P);
    const first = poll(srv.url, sid, { path: P });
    await sleep(5);
    assert.equal((await poll(srv.url, sid, { path: P })).status, 400);
    assert.equal((await first).text, '1');
    assert.equal((await poll(srv.url, sid, { path: P })).status, 400);

    sid = await openPolling(srv.url, P);
    const ac = new AbortController();
    const p = poll(srv.url, sid, { path: P, signal: ac.signal }).catch(() => null);
    await sleep(5);
    ac.abort();
    await p;
    await sleep(30);
    assert.equal((await poll(srv.url, sid, { path: P })).status, 400);
  });

  test('websocket: text and binary are echoed; an invalid packet closes', async () => {
    const c = rawWs(url('EIO=4&transport=websocket'));
    await c.next();
    c.send('4hello');
    assert.equal(await c.next(), '4hello');
    c.send(Uint8Array.from([1, 2, 3, 4]));
    assert.deepEqual(await c.next(), Buffer.from([1, 2, 3, 4]));
    c.send('abc');
    await within(c.closed, 1000, 'close');
  });
});

describe('heartbeat and close', () => {
  test('polling: ping/pong, then a timeout without pongs', async () => {
    let sid = await openPolling(srv.url, P);
    for (let i = 0; i < 3; i++) {
      assert.equal((await poll(srv.url, sid, { path: P })).text, '2');
      assert.equal((await poll(srv.url, sid, { path: P, body: '3' })).status, 200);
    }
    sid = await openPolling(srv.url, P);
    await sleep(300 + 200 + 20);
    assert.equal((await poll(srv.url, sid, { path: P })).status, 400);
  });

  test('websocket: ping/pong, then a timeout without pongs', async () => {
    const c = rawWs(url('EIO=4&transport=websocket'));
    await c.next();
    for (let i = 0; i < 3; i++) {
      assert.equal(await c.next(), '2');
      c.send('3');
    }
    c.close();
    const silent = rawWs(url('EIO=4&transport=websocket'));
    await within(silent.closed, 2000, 'ping timeout');
  });

  test('close packets', async () => {
    const sid = await openPolling(srv.url, P);
    const pending = poll(srv.url, sid, { path: P });
    await sleep(5);
    await poll(srv.url, sid, { path: P, body: '1' });
    assert.equal((await pending).text, '6');
    assert.equal((await poll(srv.url, sid, { path: P })).status, 400);
    const c = rawWs(url('EIO=4&transport=websocket'));
    await c.next();
    c.send('1');
    await within(c.closed, 1000, 'close');
  });
});

describe('upgrade', () => {
  async function upgraded() {
    const sid = await openPolling(srv.url, P);
    const c = rawWs(url(`EIO=4&transport=websocket&sid=${sid}`), { autoPong: true });
    await c.opened;
    c.send('2probe');
    assert.equal(await c.next(), '3probe');
    return { sid, c };
  }

  test('probe, noop to the pending poll, upgrade, then messages over the websocket', async () => {
    const { sid, c } = await upgraded();
    assert.equal((await poll(srv.url, sid, { path: P })).text, '6');
    c.send('5');
    c.send('4hello');
    assert.equal(await c.next(), '4hello');
    c.close();
  });

  test('HTTP requests with the sid are refused after the upgrade', async () => {
    const { sid, c } = await upgraded();
    c.send('5');
    await sleep(20);
    assert.equal((await poll(srv.url, sid, { path: P })).status, 400);
    c.send('4hello');
    assert.equal(await c.next(), '4hello');
    c.close();
  });

  test('a second websocket with the sid is closed after the upgrade', async () => {
    const { sid, c } = await upgraded();
    c.send('5');
    await sleep(20);
    const c2 = rawWs(url(`EIO=4&transport=websocket&sid=${sid}`));
    await within(c2.closed, 2000, 'second websocket closed');
    c.send('4hello');
    assert.equal(await c.next(), '4hello');
    c.close();
  });
});
