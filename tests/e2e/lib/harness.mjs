// Starts a real elizad on an ephemeral loopback port with a fresh data directory and a
// generated config, for one test file. Every test talks to it over real HTTP / Socket.IO.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

const BIN = process.env.ELIZAD_BIN || new URL('../../../build/elizad', import.meta.url).pathname;

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// opts.plugins: list of plugin names (default: the embedded defaults)
// opts.sections: extra libconfig text appended to the config (plugin sections)
// opts.env: extra environment variables
// opts.dataDir: reuse a data directory (to test restarts); otherwise a fresh one
export async function startServer(opts = {}) {
  const port = opts.port || (await freePort());
  const dataDir = opts.dataDir || mkdtempSync(join(tmpdir(), 'elizad-e2e-'));
  const plugins = opts.plugins || ['messaging', 'agents', 'runtime', 'model_eliza', 'sessions', 'jobs', 'logs'];
  const conf = join(dataDir, 'elizad.conf');
  writeFileSync(
    conf,
    `server: {\n  host = "127.0.0.1";\n  port = ${port};\n  data_dir = "${dataDir}";\n${opts.server || ''}};\n` +
      `plugins = [ ${plugins.map((p) => `"${p}"`).join(', ')} ];\n` +
      (opts.sections || ''),
  );
  const env = { ...process.env, ...(opts.env || {}) };
  for (const k of ['ELIZA_SERVER_AUTH_TOKEN', 'SERVER_API_KEY', 'SERVER_PORT', 'SERVER_HOST']) {
    if (!(opts.env && k in opts.env)) delete env[k];
  }
  // opts.fileSizeLimit (bytes): the process may not grow a file beyond it (a full disk)
  const [cmd, args] = opts.fileSizeLimit
    ? ['prlimit', [`--fsize=${opts.fileSizeLimit}:${opts.fileSizeLimit}`, BIN, '--config', conf]]
    : [BIN, ['--config', conf]];
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const deadline = Date.now() + 15000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`elizad exited (${child.exitCode}) during start:\n${log}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`elizad did not answer /healthz in 15 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    port,
    dataDir,
    child,
    log: () => log,
    exited,
    // Graceful stop (SIGTERM); returns the exit status. keepData leaves the directory for a restart.
    async stop({ keepData = false } = {}) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10000);
        await exited;
        clearTimeout(t);
      }
      if (!keepData && !opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
      return { code: child.exitCode, signal: child.signalCode };
    },
  };
}

// Small JSON fetch helper: returns {status, headers, body (parsed JSON or text)}.
export async function http(url, { method = 'GET', body, headers = {}, raw } = {}) {
  const init = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = raw ? body : JSON.stringify(body);
    if (!raw && !init.headers['Content-Type']) init.headers['Content-Type'] = 'application/json';
  }
  const r = await fetch(url, init);
  const text = await r.text();
  let parsed = text;
  try {
    parsed = text.length ? JSON.parse(text) : null;
  } catch {
    /* keep text */
  }
  return { status: r.status, headers: r.headers, body: parsed };
}
