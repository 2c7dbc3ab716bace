// Socket.IO v5 / Engine.IO v4 on the wire, byte for byte, with the timings of the conformance
// configuration (tests/conformance/socketio.conf: ping 300/200 ms, connect timeout 1 s) and the
// sio_conformance plugin. These are the behaviours the public socket.io-protocol test suite
// checks, written independently, plus the JSON error bodies and CORS answers.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/harness.mjs';
import {
  rawWs, wsUrl, openPolling, poll, sleep, within, CONFORMANCE_SECTIONS,
} from './socketio_helpers.mjs';

let srv;
before(async () => {
  srv = await startServer({ plugins: ['sio_conformance'], sections: CONFORMANCE_SECTIONS });
});
after(async () => {
  await srv?.stop();
});

const PH = (n) => `{"_placeholder":true,"num":${n}}`;

// A websocket session connected to the main namespace, past the "auth" greeting.
async function sioSession({ autoPong = true } = {}) {
  const c = rawWs(wsUrl(srv.url), { autoPong });
  const open = await c.next();
  assert.equal(open[0], '0');
  c.send('40');
  assert.match(await c.next(), /^40\{"sid":"[\w-]+"\}$/);
  assert.equal(await c.next(), '42["auth",{}]');
  return c;
}

describe('Engine.IO handshake', () => {
  test('long-polling handshake answers the open packet with the configured timings', async () => {
    const r = await fetch(`${srv.url}/socket.io/?EIO=4&transport=polling`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/plain/);
    const text = await r.text();
    assert.equal(text[0], '0');
    const open = JSON.parse(text.slice(1));
    assert.deepEqual(Object.keys(open).sort(), ['maxPayload', 'pingInterval', 'pingTimeout', 'sid', 'upgrades']);
    assert.equal(typeof open.sid, 'string');
    assert.deepEqual(open.upgrades, ['websocket']);
    assert.equal(open.pingInterval, 300);
    assert.equal(open.pingTimeout, 200);
    assert.equal(open.maxPayload, 1000000);
  });

  test('bad handshakes get 400 with the Engine.IO error body', async () => {
    const cases = [
      ['?transport=polling', 5, 'Unsupported protocol version'],
      ['?EIO=abc&transport=polling', 5, 'Unsupported protocol version'],
      ['?EIO=3&transport=polling', 5, 'Unsupported protocol version'],
      ['?EIO=4', 0, 'Transport unknown'],
      ['?EIO=4&transport=abc', 0, 'Transport unknown'],
      ['?EIO=4&transport=polling&sid=doesnotexist', 1, 'Session ID unknown'],
    ];
    for (const [q, code, message] of cases) {
      const r = await fetch(`${srv.url}/socket.io/${q}`);
      assert.equal(r.status, 400, q);
      assert.match(r.headers.get('content-type'), /application\/json/);
      assert.deepEqual(await r.json(), { code, message }, q);
    }
    for (const method of ['POST', 'PUT']) {
      const r = await fetch(`${srv.url}/socket.io/?EIO=4&transport=polling`, { method });
      assert.equal(r.status, 400, method);
      assert.deepEqual(await r.json(), { code: 2, message: 'Bad handshake method' });
    }
    // a websocket transport without the upgrade headers is a bad request
    const r = await fetch(`${srv.url}/socket.io/?EIO=4&transport=websocket`);
    assert.equal(r.status, 400);
    assert.deepEqual(await r.json(), { code: 3, message: 'Bad request' });
  });

  test('websocket handshake sends the open packet without upgrades', async () => {
    const c = rawWs(wsUrl(srv.url));
    const m = await c.next();
    assert.equal(m[0], '0');
    const open = JSON.parse(m.slice(1));
    assert.deepEqual(open.upgrades, []);
    assert.equal(open.pingInterval, 300);
    assert.equal(open.pingTimeout, 200);
    assert.equal(open.maxPayload, 1000000);
    c.close();
  });

  test('websocket handshakes with a bad EIO or transport are refused', async () => {
    for (const q of ['transport=websocket', 'EIO=abc&transport=websocket', 'EIO=4', 'EIO=4&transport=abc']) {
      const c = rawWs(wsUrl(srv.url, '/socket.io/', q));
      await assert.rejects(c.opened, /400/, q);
      await within(c.closed, 2000, 'close');
    }
  });

  test('CORS: the origin is reflected with credentials, preflights get 204', async () => {
    const r = await fetch(`${srv.url}/socket.io/?EIO=4&transport=polling`, {
      headers: { Origin: 'https://app.example' },
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.equal(r.headers.get('access-control-allow-credentials'), 'true');
    await r.text();
    const p = await fetch(`${srv.url}/socket.io/?EIO=4&transport=polling`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example', 'Access-Control-Request-Headers': 'x-api-key' },
    });
    assert.equal(p.status, 204);
    assert.equal(p.headers.get('access-control-allow-headers'), 'x-api-key');
    assert.match(p.headers.get('access-control-allow-methods'), /POST/);
  });
});

describe('Engine.IO heartbeat and close', () => {
  test('long-polling: the server pings every interval and accepts pongs', async () => {
    const sid = await openPolling(srv.url);
    for (let i = 0; i < 3; i++) {
      const r = await poll(srv.url, sid);
      assert.equal(r.status, 200);
      assert.equal(r.text, '2');
      const p = await poll(srv.url, sid, { body: '3' });
      assert.equal(p.status, 200);
      assert.equal(p.text, 'ok');
    }
  });

  test('long-polling: a session without pongs is gone after interval + timeout', async () => {
    const sid = await openPolling(srv.url);
    await sleep(300 + 200 + 30);
    const r = await poll(srv.url, sid);
    assert.equal(r.status, 400);
    assert.deepEqual(JSON.parse(r.text), { code: 1, message: 'Session ID unknown' });
  });

  test('websocket: pings arrive every interval; answering keeps the session', async () => {
    const c = rawWs(wsUrl(srv.url));
    await c.next();
    c.send('40');
    await c.next();
    await c.next();
    const t0 = Date.now();
    for (let i = 0; i < 3; i++) {
      assert.equal(await c.next(1000), '2');
      c.send('3');
    }
    assert.ok(Date.now() - t0 >= 800, 'three pings take about three intervals');
    assert.equal(c.isClosed(), false);
    c.close();
  });

  test('websocket: a client that never answers pings is closed', async () => {
    const c = rawWs(wsUrl(srv.url));
    await c.next();
    c.send('40'); // connected, so only the heartbeat can end it
    const t0 = Date.now();
    await within(c.closed, 2000, 'the server closing a silent client');
    const took = Date.now() - t0;
    assert.ok(took >= 450 && took < 1500, `closed after ${took} ms`);
  });

  test('long-polling: a close packet ends the session and the pending poll gets a noop', async () => {
    const sid = await openPolling(srv.url);
    const pending = poll(srv.url, sid);
    await sleep(20);
    const p = await poll(srv.url, sid, { body: '1' });
    assert.equal(p.status, 200);
    const r = await pending;
    assert.equal(r.status, 200);
    assert.equal(r.text, '6');
    assert.equal((await poll(srv.url, sid)).status, 400);
  });

  test('websocket: a close packet closes the connection', async () => {
    const c = rawWs(wsUrl(srv.url));
    await c.next();
    c.send('1');
    await within(c.closed, 1000, 'close');
  });

  test('long-polling: two concurrent polls are an error that ends the session', async () => {
    const sid = await openPolling(srv.url);
    const first = poll(srv.url, sid);
    await sleep(10);
    const second = await poll(srv.url, sid);
    assert.equal(second.status, 400);
    const r = await first;
    assert.equal(r.status, 200);
    assert.equal(r.text, '1');
    assert.equal((await poll(srv.url, sid)).status, 400);
  });

  test('long-polling: a poll the client gives up on ends the session', async () => {
    const sid = await openPolling(srv.url);
    const ac = new AbortController();
    const p = poll(srv.url, sid, { signal: ac.signal }).catch(() => null);
    await sleep(20);
    ac.abort();
    await p;
    await sleep(50);
    assert.equal((await poll(srv.url, sid)).status, 400);
  });

  test('long-polling: a malformed payload is refused and ends the session', async () => {
    const sid = await openPolling(srv.url);
    const r = await poll(srv.url, sid, { body: 'abc' });
    assert.equal(r.status, 400);
    assert.equal((await poll(srv.url, sid)).status, 400);
  });
});

describe('Engine.IO upgrade', () => {
  test('polling upgrades to websocket: probe, noop for the pending poll, upgrade', async () => {
    const sid = await openPolling(srv.url);
    const pending = poll(srv.url, sid);
    const c = rawWs(wsUrl(srv.url, '/socket.io/', `EIO=4&transport=websocket&sid=${sid}`));
    await c.opened;
    c.send('2probe');
    assert.equal(await c.next(), '3probe');
    const r = await pending;
    assert.equal(r.text, '6');
    c.send('5');
    c.send('40');
    assert.match(await c.nextData(), /^40\{"sid":/);
    assert.equal(await c.nextData(), '42["auth",{}]');
    c.close();
  });

  test('packets queued during the upgrade are delivered over the websocket', async () => {
    const sid = await openPolling(srv.url);
    await poll(srv.url, sid, { body: '40' });
    let seen = '';
    while (!seen.includes('auth')) seen += (await poll(srv.url, sid)).text;
    assert.match(seen, /^40\{"sid":/);
    const c = rawWs(wsUrl(srv.url, '/socket.io/', `EIO=4&transport=websocket&sid=${sid}`), {
      autoPong: true,
    });
    await c.opened;
    c.send('2probe');
    assert.equal(await c.next(), '3probe');
    // while probing, polling still carries what the client sends; answers wait for the websocket
    assert.equal((await poll(srv.url, sid, { body: '42["message","queued"]' })).text, 'ok');
    assert.equal((await poll(srv.url, sid)).text, '6');
    c.send('5');
    assert.equal(await c.next(), '42["message-back","queued"]');
    c.close();
  });

  test('after the upgrade, polling requests with that sid are refused', async () => {
    const sid = await openPolling(srv.url);
    const c = rawWs(wsUrl(srv.url, '/socket.io/', `EIO=4&transport=websocket&sid=${sid}`));
    await c.opened;
    c.send('2probe');
    await c.next();
    c.send('5');
    await sleep(30);
    const r = await poll(srv.url, sid);
    assert.equal(r.status, 400);
    assert.deepEqual(JSON.parse(r.text), { code: 3, message: 'Bad request' });
    c.close();
  });

  test('after the upgrade, another websocket with that sid is closed', async () => {
    const sid = await openPolling(srv.url);
    const c = rawWs(wsUrl(srv.url, '/socket.io/', `EIO=4&transport=websocket&sid=${sid}`));
    await c.opened;
    c.send('2probe');
    await c.next();
    c.send('5');
    await sleep(30);
    const c2 = rawWs(wsUrl(srv.url, '/socket.io/', `EIO=4&transport=websocket&sid=${sid}`));
    await within(c2.closed, 2000, 'the second websocket to close');
    c.send('40');
    assert.match(await c.nextData(), /^40\{"sid":/);
    c.close();
  });

  test('a failed probe leaves the session on polling', async () => {
    const sid = await openPolling(srv.url);
    const c = rawWs(wsUrl(srv.url, '/socket.io/', `EIO=4&transport=websocket&sid=${sid}`));
    await c.opened;
    c.send('4nonsense'); // not a probe
    await within(c.closed, 2000, 'the probe to be dropped');
    const p = await poll(srv.url, sid, { body: '40' });
    assert.equal(p.status, 200);
    assert.match((await poll(srv.url, sid)).text, /^40\{"sid":/);
  });
});

describe('Socket.IO connect', () => {
  test('main namespace, with and without an auth payload', async () => {
    let c = rawWs(wsUrl(srv.url));
    await c.next();
    c.send('40');
    const hs = await c.next();
    assert.match(hs, /^40\{/);
    assert.deepEqual(Object.keys(JSON.parse(hs.slice(2))), ['sid']);
    assert.equal(await c.next(), '42["auth",{}]');
    c.close();
    c = rawWs(wsUrl(srv.url));
    await c.next();
    c.send('40{"token":"123"}');
    assert.match(await c.next(), /^40\{"sid":/);
    assert.equal(await c.next(), '42["auth",{"token":"123"}]');
    c.close();
  });

  test('custom namespace, with and without an auth payload', async () => {
    let c = rawWs(wsUrl(srv.url));
    await c.next();
    c.send('40/custom,');
    const hs = await c.next();
    assert.ok(hs.startsWith('40/custom,'), hs);
    assert.deepEqual(Object.keys(JSON.parse(hs.slice(10))), ['sid']);
    assert.equal(await c.next(), '42/custom,["auth",{}]');
    c.close();
    c = rawWs(wsUrl(srv.url));
    await c.next();
    c.send('40/custom,{"token":"abc"}');
    assert.ok((await c.next()).startsWith('40/custom,{"sid":'));
    assert.equal(await c.next(), '42/custom,["auth",{"token":"abc"}]');
    c.close();
  });

  test('an unknown namespace gets CONNECT_ERROR "Invalid namespace"', async () => {
    const c = rawWs(wsUrl(srv.url));
    await c.next();
    c.send('40/random');
    assert.equal(await c.next(), '44/random,{"message":"Invalid namespace"}');
    c.close();
  });

  test('a guard refuses or accepts the namespace handshake', async () => {
    const c = rawWs(wsUrl(srv.url));
    await c.next();
    c.send('40/guarded,{"pass":"wrong"}');
    assert.equal(await c.next(), '44/guarded,{"message":"Not welcome"}');
    c.send('40/guarded,{"pass":"open sesame"}');
    assert.match(await c.nextData(), /^40\/guarded,\{"sid":/);
    assert.equal(await c.nextData(), '42/guarded,["auth",{"pass":"open sesame"}]');
    c.close();
  });

  test('an invalid handshake closes the connection', async () => {
    const c = rawWs(wsUrl(srv.url));
    await c.next();
    c.send('4abc');
    await within(c.closed, 1000, 'close');
  });

  test('a client that never joins a namespace is closed after the connect timeout', async () => {
    const c = rawWs(wsUrl(srv.url), { autoPong: true }); /* alive, just silent */
    await c.next();
    const t0 = Date.now();
    await within(c.closed, 3000, 'the connect timeout');
    const took = Date.now() - t0;
    assert.ok(took >= 900 && took < 2000, `closed after ${took} ms`);
  });
});

describe('Socket.IO disconnect', () => {
  test('leaving the main namespace keeps the Engine.IO session (pings go on)', async () => {
    const c = await sioSession({ autoPong: false });
    c.send('41');
    assert.equal(await c.next(1000), '2');
    c.close();
  });

  test('connect then leave a custom namespace; the main one still works', async () => {
    const c = await sioSession();
    c.send('40/custom');
    assert.ok((await c.nextData()).startsWith('40/custom,'));
    assert.equal(await c.nextData(), '42/custom,["auth",{}]');
    c.send('41/custom');
    c.send('42["message","message to main namespace"]');
    assert.equal(await c.nextData(), '42["message-back","message to main namespace"]');
    // and the custom namespace no longer answers
    c.send('42/custom,["message","ignored"]');
    c.send('42["message","still here"]');
    assert.equal(await c.nextData(), '42["message-back","still here"]');
    c.close();
  });
});

describe('Socket.IO messages', () => {
  test('a plain-text event is echoed', async () => {
    const c = await sioSession();
    c.send('42["message",1,"2",{"3":[true]}]');
    assert.equal(await c.nextData(), '42["message-back",1,"2",{"3":[true]}]');
    c.close();
  });

  test('an event with binary attachments is echoed with its attachments', async () => {
    const c = await sioSession();
    c.send(`452-["message",${PH(0)},${PH(1)}]`);
    c.send(Uint8Array.from([1, 2, 3]));
    c.send(Uint8Array.from([4, 5, 6]));
    assert.equal(await c.nextData(), `452-["message-back",${PH(0)},${PH(1)}]`);
    assert.deepEqual(await c.nextData(), Buffer.from([1, 2, 3]));
    assert.deepEqual(await c.nextData(), Buffer.from([4, 5, 6]));
    c.close();
  });

  test('an event asking for an ack gets its arguments back', async () => {
    const c = await sioSession();
    c.send('42456["message-with-ack",1,"2",{"3":[false]}]');
    assert.equal(await c.nextData(), '43456[1,"2",{"3":[false]}]');
    c.close();
  });

  test('a binary event asking for an ack gets a binary ack', async () => {
    const c = await sioSession();
    c.send(`452-789["message-with-ack",${PH(0)},${PH(1)}]`);
    c.send(Uint8Array.from([1, 2, 3]));
    c.send(Uint8Array.from([4, 5, 6]));
    assert.equal(await c.nextData(), `462-789[${PH(0)},${PH(1)}]`);
    assert.deepEqual(await c.nextData(), Buffer.from([1, 2, 3]));
    assert.deepEqual(await c.nextData(), Buffer.from([4, 5, 6]));
    c.close();
  });

  test('events over long-polling, batched both ways', async () => {
    // the 300 ms ping may land in any batch on a loaded machine: this test is about the events
    const withoutPings = (text) => text.split('\x1e').filter((pkt) => pkt !== '2').join('\x1e');
    const sid = await openPolling(srv.url);
    await poll(srv.url, sid, { body: '40' });
    const hs = await poll(srv.url, sid);
    assert.match(withoutPings(hs.text), /^40\{"sid":"[\w-]+"\}(\x1e42\["auth",\{\}\])?$/);
    if (!hs.text.includes('auth')) assert.equal(withoutPings((await poll(srv.url, sid)).text), '42["auth",{}]');
    const p = await poll(srv.url, sid, {
      body: `42["message","a"]\x1e42["message","b"]\x1e4212["message-with-ack","c"]\x1e451-["message",${PH(0)}]\x1ebAQID`,
    });
    assert.equal(p.text, 'ok');
    const r = await poll(srv.url, sid);
    assert.equal(
      withoutPings(r.text),
      `42["message-back","a"]\x1e42["message-back","b"]\x1e4312["c"]\x1e451-["message-back",${PH(0)}]\x1ebAQID`,
    );
  });

  for (const [what, bad] of [
    ['an unknown packet type', '4abc'],
    ['an event payload that is not an array', '42{}'],
    ['an ack id that is not a number', '42abc["message-with-ack",1,"2",{"3":[false]}]'],
    ['a binary attachment nobody announced', Buffer.from([1, 2, 3])],
  ]) {
    test(`${what} closes the connection`, async () => {
      const c = await sioSession();
      c.send(bad);
      await within(c.closed, 1000, 'close');
    });
  }

  test('text where an attachment is due closes the connection', async () => {
    const c = await sioSession();
    c.send(`451-["message",${PH(0)}]`);
    c.send('42["message","too early"]');
    await within(c.closed, 1000, 'close');
  });

  test('an attachment placeholder out of range closes the connection', async () => {
    const c = await sioSession();
    c.send(`451-["message",${PH(5)}]`);
    c.send(Uint8Array.from([1]));
    await within(c.closed, 1000, 'close');
  });
});
