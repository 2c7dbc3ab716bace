// Helpers for the Socket.IO / Engine.IO e2e tests: a raw WebSocket with an awaitable message
// queue, raw long-polling requests, and bounded waits. Every wait has a deadline so a broken
// server fails a test instead of hanging it.
import WebSocket from 'ws';
import net from 'node:net';
import { readFileSync } from 'node:fs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function within(promise, ms, what) {
  let t;
  return Promise.race([
    promise.finally(() => clearTimeout(t)),
    new Promise((_, rej) => {
      t = setTimeout(() => rej(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]);
}

// A raw WebSocket client. next() resolves with the next message (string for text frames,
// Buffer for binary), closed resolves with {code, reason} once the connection ended.
// autoPong: answer Engine.IO pings at once and hide them.
export function rawWs(url, { autoPong = false, ...opts } = {}) {
  const ws = new WebSocket(url, { perMessageDeflate: false, ...opts });
  const queue = [];
  const waiters = [];
  let ended = null;
  ws.on('message', (data, isBinary) => {
    const m = isBinary ? Buffer.from(data) : data.toString();
    if (autoPong && m === '2') return ws.send('3');
    const w = waiters.shift();
    if (w) w.resolve(m);
    else queue.push(m);
  });
  let error = null;
  ws.on('error', (e) => (error = e)); // a refused handshake: "Unexpected server response: 400"

  const closed = new Promise((resolve) => {
    ws.on('close', (code, reason) => {
      ended = { code, reason: reason.toString() };
      for (const w of waiters.splice(0)) w.reject(new Error(`closed (${code}) before a message`));
      resolve(ended);
    });
  });
  const opened = new Promise((resolve, reject) => {
    ws.on('open', resolve);
    ws.on('close', () => reject(error || new Error('closed before open')));
  });
  opened.catch(() => {});
  return {
    ws,
    opened,
    closed,
    send: (d) => ws.send(d),
    next(ms = 3000) {
      if (queue.length) return Promise.resolve(queue.shift());
      if (ended) return Promise.reject(new Error(`closed (${ended.code})`));
      return within(
        new Promise((resolve, reject) => waiters.push({ resolve, reject })),
        ms,
        'a websocket message',
      );
    },
    // Next message that is not an Engine.IO ping.
    async nextData(ms = 3000) {
      for (;;) {
        const m = await this.next(ms);
        if (m !== '2') return m;
      }
    },
    close: () => ws.close(),
    isClosed: () => ended !== null,
  };
}

export const wsUrl = (base, path = '/socket.io/', query = 'EIO=4&transport=websocket') =>
  `${base.replace('http', 'ws')}${path}?${query}`;

export async function openPolling(base, path = '/socket.io/') {
  const r = await fetch(`${base}${path}?EIO=4&transport=polling`);
  const text = await r.text();
  if (r.status !== 200 || text[0] !== '0') throw new Error(`handshake failed: ${r.status} ${text}`);
  return JSON.parse(text.slice(1)).sid;
}

export function pollUrl(base, sid, path = '/socket.io/') {
  return `${base}${path}?EIO=4&transport=polling&sid=${sid}`;
}

// GET (long poll) or POST on a session; resolves {status, text}.
export async function poll(base, sid, { path, body, signal, timeout = 5000 } = {}) {
  const init = { signal: signal || AbortSignal.timeout(timeout) };
  if (body !== undefined) {
    init.method = 'POST';
    init.body = body;
    init.headers = { 'Content-Type': 'text/plain;charset=UTF-8' };
  }
  const r = await fetch(pollUrl(base, sid, path), init);
  return { status: r.status, text: await r.text(), headers: r.headers };
}

// A raw TCP connection that performs the WebSocket handshake itself, so a test can write
// arbitrary (also broken) frames. Resolves once the 101 answer arrived.
export function rawTcpWs(port, path = '/socket.io/?EIO=4&transport=websocket') {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let upgraded = false;
    const chunks = [];
    sock.on('data', (d) => {
      if (upgraded) return chunks.push(d);
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString();
      if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(head.split('\r\n')[0]));
      upgraded = true;
      if (buf.length > end + 4) chunks.push(buf.subarray(end + 4));
      resolve({ sock, received: () => Buffer.concat(chunks), ended: new Promise((r) => sock.on('close', r)) });
    });
    sock.on('error', reject);
    sock.on('connect', () =>
      sock.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      ),
    );
  });
}

// A client frame (masked) with any header bits a test wants to break.
export function clientFrame(payload, { opcode = 1, fin = true, mask = true, rsv = 0, length } = {}) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const len = length ?? data.length;
  const head = [((fin ? 0x80 : 0) | (rsv << 4) | opcode) & 0xff];
  const m = mask ? 0x80 : 0;
  if (len < 126) head.push(m | len);
  else if (len < 65536) head.push(m | 126, len >> 8, len & 255);
  else {
    head.push(m | 127);
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(len));
    head.push(...b);
  }
  const key = Buffer.from([0x11, 0x22, 0x33, 0x44]);
  const body = Buffer.from(data);
  if (mask) for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3];
  return Buffer.concat([Buffer.from(head), mask ? key : Buffer.alloc(0), body]);
}

// Server frames are unmasked: splits what arrived into {opcode, payload} records.
export function serverFrames(buf) {
  const out = [];
  let i = 0;
  while (i + 2 <= buf.length) {
    const op = buf[i] & 0x0f;
    let len = buf[i + 1] & 0x7f;
    let h = 2;
    if (len === 126) (len = buf.readUInt16BE(i + 2)), (h = 4);
    else if (len === 127) (len = Number(buf.readBigUInt64BE(i + 2))), (h = 10);
    if (i + h + len > buf.length) break;
    out.push({ opcode: op, payload: buf.subarray(i + h, i + h + len) });
    i += h + len;
  }
  return out;
}

// Resident set size of a process in MB, or null.
export function rssMB(pid) {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/);
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

// True when the server binary runs with AddressSanitizer (memory figures mean nothing then).
export function sanitized(pid) {
  try {
    return /libasan|libclang_rt\.asan/.test(readFileSync(`/proc/${pid}/maps`, 'utf8'));
  } catch {
    return false;
  }
}

export const CONFORMANCE_SECTIONS =
  'socketio: { ping_interval = 300; ping_timeout = 200; max_payload = 1000000; connect_timeout = 1000; };\n';
