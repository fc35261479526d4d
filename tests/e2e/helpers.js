'use strict';
// Shared helpers for the end-to-end suite: start the real binary, talk HTTP to it (node:http for
// ordinary requests, raw sockets for byte-level control), and always clean up.
//
// The binary comes from $CHATKITD_BIN (resolved against the current directory), else
// build-asan/chatkitd under the repository root. Every server gets a fresh temporary directory:
// <root>/data is its --data-dir and <root> its working directory, so a .env in the repository
// never leaks into a test. Inherited CHATKITD_*, CHATKIT_*, OPENAI_* and DATABASE_URL variables
// are dropped for the same reason.
//
// The backend: SQLite in the data directory, unless CHATKITD_E2E_DATABASE holds the base URL of a
// PostgreSQL cluster ("postgres://user:pw@host:port/", as printed by scripts/pg-cluster). Then
// every data directory gets its own fresh database of that cluster, passed as --database, so the
// same tests run unchanged on both backends; sql() reads either one.

const assert = require('node:assert/strict');
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const BIN = process.env.CHATKITD_BIN
  ? path.resolve(process.env.CHATKITD_BIN)
  : path.join(REPO_ROOT, 'build-asan', 'chatkitd');

const LISTEN_RE = /^chatkitd listening on http:\/\/127\.0\.0\.1:(\d+)$/;
const SANITIZER_RE = /ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: \w+Sanitizer/;

const live = new Set();   // child processes not yet reaped
const tmpDirs = new Set();

function killAll() {
  for (const p of live) {
    try { p.kill('SIGKILL'); } catch { /* already gone */ }
  }
  live.clear();
}
process.on('exit', () => {
  killAll();
  if (!process.env.CHATKITD_E2E_KEEP) {
    for (const d of tmpDirs) {
      try { fs.rmSync(d, { recursive: true, force: true }); } catch { /* best effort */ }
    }
  }
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { killAll(); process.exit(130); });
}

const PG_BASE = process.env.CHATKITD_E2E_DATABASE || '';
const pgDatabases = new Map(); // data dir -> database URL
let pgCount = 0;

// Runs sql on the cluster's maintenance database (or on url) through psql; returns stdout.
function psql(url, sql) {
  return execFileSync('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', url, '-c', sql], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
    env: { ...process.env, PGCONNECT_TIMEOUT: '5' },
  });
}

// The database URL of a data directory: created on first use, the same one afterwards (a
// restarted server finds its rows again). null on SQLite.
function databaseFor(dataDir) {
  if (!PG_BASE) return null;
  let url = pgDatabases.get(dataDir);
  if (!url) {
    const name = `e2e_${process.pid}_${++pgCount}`;
    psql(`${PG_BASE}postgres`, `CREATE DATABASE ${name}`);
    url = `${PG_BASE}${name}`;
    pgDatabases.set(dataDir, url);
  }
  return url;
}

// Rows of a query, as objects, from the server's database (SQLite file or PostgreSQL).
function sql(srv, query) {
  if (srv.database) {
    const out = psql(srv.database, `SELECT coalesce(json_agg(t), '[]') FROM (${query}) AS t`);
    return JSON.parse(out.trim() || '[]');
  }
  const out = execFileSync('sqlite3', ['-json', path.join(srv.dataDir, 'chatkitd.db'), query], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  return out.trim() ? JSON.parse(out) : [];
}

// A thread's stored, server-private metadata object ({} when the thread has none).
function threadMetadata(srv, threadId) {
  const id = String(threadId).replace(/'/g, "''");
  const rows = sql(srv, `SELECT metadata FROM threads WHERE id = '${id}'`);
  if (!rows.length || rows[0].metadata == null) return {};
  const m = rows[0].metadata;
  return typeof m === 'string' ? JSON.parse(m || '{}') : m;
}

function mkTmp(prefix = 'chatkitd-e2e-') {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpDirs.add(d);
  return d;
}

// The child's environment: ours minus anything that configures chatkitd, plus extra.
function childEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(CHATKITD_|CHATKIT_|OPENAI_)/.test(k) || k === 'DATABASE_URL') continue;
    env[k] = v;
  }
  // Sanitizer reports must be visible in stderr; leaks make the exit code non-zero.
  env.ASAN_OPTIONS = env.ASAN_OPTIONS || 'detect_leaks=1:abort_on_error=0';
  env.UBSAN_OPTIONS = env.UBSAN_OPTIONS || 'print_stacktrace=1';
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined || v === null) delete env[k];
    else env[k] = String(v);
  }
  return env;
}

function delay(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// Races p against a timer; the error names what was being waited for.
function withTimeout(p, ms, what) {
  let t;
  const timer = new Promise((_, reject) => {
    t = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, timer]).finally(() => clearTimeout(t));
}

// Polls fn (sync or async) until it returns a truthy value.
async function waitUntil(fn, { timeout = 5000, interval = 25, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await delay(interval);
  }
}

function waitExit(proc, ms) {
  if (proc.exitCode !== null || proc.signalCode !== null) {
    return Promise.resolve({ code: proc.exitCode, signal: proc.signalCode });
  }
  return withTimeout(
    new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal }))),
    ms,
    `process ${proc.pid} to exit`,
  );
}

// Starts `chatkitd serve --listen 127.0.0.1:0 --data-dir <fresh>` plus args.
// opts: args, env (extra variables), cwd, dataDir, listen (false: do not add --listen),
// readyTimeout.
async function startServer(opts = {}) {
  const root = opts.root || mkTmp();
  const dataDir = opts.dataDir || path.join(root, 'data');
  const args = ['serve'];
  if (opts.listen !== false) args.push('--listen', '127.0.0.1:0');
  if (opts.dataDirFlag !== false) args.push('--data-dir', dataDir);
  args.push(...(opts.args || []));
  const given = args.indexOf('--database');
  let database = null;
  if (given >= 0) {
    if (/^postgres/.test(args[given + 1] || '')) database = args[given + 1];
  } else if (opts.database !== false) {
    database = databaseFor(dataDir);
    if (database) args.push('--database', database);
  }
  const proc = spawn(BIN, args, {
    cwd: opts.cwd || root,
    env: childEnv(opts.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => {
    proc.once('exit', (code, signal) => {
      live.delete(proc);
      resolve({ code, signal });
    });
  });
  const ready = new Promise((resolve, reject) => {
    proc.stdout.on('data', (d) => {
      stdout += d;
      const nl = stdout.indexOf('\n');
      if (nl >= 0) resolve(stdout.slice(0, nl));
    });
    proc.once('error', reject);
    exited.then(({ code, signal }) =>
      reject(new Error(`chatkitd exited (code ${code}, signal ${signal}) before listening:\n${stderr}`)));
  });
  let line;
  try {
    line = await withTimeout(ready, opts.readyTimeout || 15000, 'the listening line');
  } catch (e) {
    proc.kill('SIGKILL');
    throw e;
  }
  const m = LISTEN_RE.exec(line);
  if (!m) {
    proc.kill('SIGKILL');
    throw new Error(`unexpected first stdout line: ${JSON.stringify(line)}`);
  }
  const port = Number(m[1]);
  const srv = {
    url: `http://127.0.0.1:${port}`,
    port,
    proc,
    root,
    dataDir,
    database, // the PostgreSQL URL, or null on SQLite
    listenLine: line,
    stderrText: () => stderr,
    stdoutText: () => stdout,
    exited,
    // Sends signal and waits for the exit; returns the exit code (null if killed by a signal).
    // Fails when the process needed SIGKILL or printed a sanitizer report.
    async stop(signal = 'SIGTERM', ms = 8000) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      let res;
      try {
        res = await withTimeout(exited, ms, `chatkitd to exit after ${signal}`);
      } catch (e) {
        proc.kill('SIGKILL');
        await exited;
        throw e;
      }
      assertNoSanitizerReport(stderr);
      return res.code;
    },
  };
  return srv;
}

function assertNoSanitizerReport(stderr) {
  const m = SANITIZER_RE.exec(stderr);
  if (m) {
    const at = Math.max(0, m.index - 200);
    assert.fail(`sanitizer report in chatkitd stderr:\n${stderr.slice(at, at + 4000)}`);
  }
}

// Stops every server in list and asserts each exited 0 (for after() hooks).
async function stopAll(list) {
  const errors = [];
  for (const s of list.splice(0)) {
    try {
      const code = await s.stop();
      if (code !== 0) errors.push(`chatkitd on port ${s.port} exited ${code}:\n${s.stderrText().slice(-3000)}`);
    } catch (e) {
      errors.push(String(e && e.stack || e));
    }
  }
  if (errors.length) assert.fail(errors.join('\n\n'));
}

// Runs the binary to completion (CLI tests). Returns {code, signal, stdout, stderr}.
function runCli(args, { env = {}, cwd, timeout = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(BIN, args, {
      cwd: cwd || mkTmp(),
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(proc);
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => { stdout += d; });
    proc.stderr.on('data', (d) => { stderr += d; });
    const t = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`chatkitd ${args.join(' ')} did not finish in ${timeout} ms\n${stderr}`));
    }, timeout);
    proc.once('error', (e) => { clearTimeout(t); reject(e); });
    proc.once('exit', (code, signal) => {
      // 'exit' can fire before the pipes drain; 'close' comes after both.
      proc.once('close', () => {
        clearTimeout(t);
        live.delete(proc);
        try { assertNoSanitizerReport(stderr); } catch (e) { reject(e); return; }
        resolve({ code, signal, stdout, stderr });
      });
    });
  });
}

// ---- HTTP through node:http (a fresh connection per request, no pooling) ----

function request(base, method, pathname, { headers = {}, body, timeout = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(pathname, base);
    let payload;
    const h = { ...headers };
    if (body !== undefined) {
      payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
      if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) {
        h['Content-Type'] = 'application/json';
      }
    }
    const req = http.request({
      host: u.hostname,
      port: u.port,
      path: u.pathname + u.search,
      method,
      headers: h,
      agent: false,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode,
          headers: res.headers,
          text,
          json() {
            try { return JSON.parse(text); } catch (e) {
              throw new Error(`not JSON (${res.statusCode}): ${JSON.stringify(text.slice(0, 500))}`);
            }
          },
        });
      });
      res.on('error', reject);
    });
    req.setTimeout(timeout, () => req.destroy(new Error(`timed out: ${method} ${pathname}`)));
    req.on('error', reject);
    req.end(payload);
  });
}

const get = (srv, p, opts) => request(srv.url, 'GET', p, opts);
const post = (srv, p, body, opts = {}) => request(srv.url, 'POST', p, { ...opts, body });

// Asserts the uniform error shape: JSON content type, {"error":{"code","message"}} and nothing
// else. res is a node:http result or a parsed raw response. Returns the error object.
function assertError(res, status, code) {
  const ctx = `${res.status} ${res.text !== undefined ? res.text : res.body}`;
  assert.equal(res.status, status, `status (${ctx})`);
  assert.match(String(res.headers['content-type']), /^application\/json\b/, `content-type (${ctx})`);
  const body = typeof res.json === 'function' ? res.json() : JSON.parse(res.body);
  assert.deepEqual(Object.keys(body), ['error'], `top-level keys (${ctx})`);
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message'], `error keys (${ctx})`);
  assert.equal(typeof body.error.message, 'string');
  assert.ok(body.error.message.length > 0, 'error message not empty');
  if (code !== undefined) assert.equal(body.error.code, code, `error code (${ctx})`);
  return body.error;
}

// ---- raw sockets ----

// Parses as many complete HTTP/1.x responses from buf as it holds. A response without a length
// ends at close, so closed says whether the peer is gone. headOnly[i] marks responses to HEAD.
function parseResponses(buf, { closed = false, headOnly = [] } = {}) {
  const out = [];
  let off = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', off, 'latin1');
    if (end < 0) break;
    const head = buf.slice(off, end).toString('latin1');
    const lines = head.split('\r\n');
    const m = /^HTTP\/1\.(\d) (\d{3}) ?(.*)$/.exec(lines[0]);
    if (!m) throw new Error(`bad status line: ${JSON.stringify(lines[0])}`);
    const headers = {};
    const rawHeaders = [];
    for (const l of lines.slice(1)) {
      const c = l.indexOf(':');
      if (c <= 0) throw new Error(`bad header line: ${JSON.stringify(l)}`);
      const name = l.slice(0, c).trim().toLowerCase();
      const value = l.slice(c + 1).trim();
      rawHeaders.push([name, value]);
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    const status = Number(m[2]);
    const r = { version: `1.${m[1]}`, status, reason: m[3], headers, rawHeaders, head };
    let p = end + 4;
    const noBody = (status >= 100 && status < 200) || status === 204 || status === 304 ||
      headOnly[out.length];
    if (noBody) {
      r.body = '';
    } else if (/chunked/i.test(headers['transfer-encoding'] || '')) {
      const parts = [];
      let done = false;
      for (;;) {
        const le = buf.indexOf('\r\n', p, 'latin1');
        if (le < 0) break;
        const size = parseInt(buf.slice(p, le).toString('latin1').split(';')[0], 16);
        if (Number.isNaN(size)) throw new Error('bad chunk size');
        if (size === 0) {
          const te = buf.indexOf('\r\n\r\n', le, 'latin1'); // after any trailers
          if (te < 0) break;
          p = te + 4;
          done = true;
          break;
        }
        if (buf.length < le + 2 + size + 2) break;
        parts.push(buf.slice(le + 2, le + 2 + size));
        p = le + 2 + size + 2;
      }
      if (!done) break;
      r.body = Buffer.concat(parts).toString('utf8');
    } else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      if (buf.length < p + n) break;
      r.body = buf.slice(p, p + n).toString('utf8');
      p += n;
    } else {
      if (!closed) break;
      r.body = buf.slice(p).toString('utf8');
      p = buf.length;
    }
    r.json = () => JSON.parse(r.body);
    r.end = p; // offset just past this response in buf
    out.push(r);
    off = p;
  }
  return { responses: out, rest: buf.slice(off) };
}

class RawConn {
  constructor(sock) {
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    this.closed = false;
    this.closedAt = 0;
    this.error = null;
    this.waiters = new Set();
    sock.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      this._wake();
    });
    sock.on('error', (e) => { this.error = e; }); // ECONNRESET counts as a close
    sock.on('close', () => {
      this.closed = true;
      this.closedAt = Date.now();
      this._wake();
    });
  }

  static open(port, { timeout = 3000 } = {}) {
    return withTimeout(new Promise((resolve, reject) => {
      const sock = net.connect({ host: '127.0.0.1', port });
      sock.setNoDelay(true);
      sock.once('connect', () => { sock.removeListener('error', reject); resolve(new RawConn(sock)); });
      sock.once('error', reject);
    }), timeout, `connect to port ${port}`);
  }

  _wake() {
    for (const w of [...this.waiters]) w();
  }

  write(data) {
    return new Promise((resolve, reject) => {
      if (this.closed || this.sock.destroyed) { reject(new Error('socket closed')); return; }
      this.sock.write(data, (err) => (err ? reject(err) : resolve()));
    });
  }

  // Writes data one byte at a time with gapMs between bytes.
  async trickle(data, gapMs = 1) {
    const b = Buffer.from(data);
    for (let i = 0; i < b.length; i++) {
      await this.write(b.subarray(i, i + 1));
      if (gapMs) await delay(gapMs);
    }
  }

  text() {
    return this.buf.toString('latin1');
  }

  // Resolves once pred() is truthy (checked on every read and at close).
  waitFor(pred, timeout = 3000, what = 'condition') {
    return new Promise((resolve, reject) => {
      const check = () => {
        let v;
        try { v = pred(); } catch (e) { done(); reject(e); return; }
        if (v) { done(); resolve(v); return; }
        if (this.closed) {
          done();
          reject(new Error(`connection closed while waiting for ${what}; received: ${JSON.stringify(this.text().slice(0, 2000))}`));
        }
      };
      const t = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeout} ms waiting for ${what}; received: ${JSON.stringify(this.text().slice(0, 2000))}`));
      }, timeout);
      const done = () => { clearTimeout(t); this.waiters.delete(check); };
      this.waiters.add(check);
      check();
    });
  }

  // Waits for n complete responses (counted from the start of the connection).
  async responses(n, { timeout = 5000, headOnly } = {}) {
    let last;
    const ok = () => {
      last = parseResponses(this.buf, { closed: this.closed, headOnly });
      return last.responses.length >= n;
    };
    if (!ok()) {
      await new Promise((resolve, reject) => {
        const check = () => {
          if (ok()) { done(); resolve(); } else if (this.closed) {
            done();
            reject(new Error(`connection closed after ${last.responses.length} of ${n} responses; received: ${JSON.stringify(this.text().slice(-2000))}`));
          }
        };
        const t = setTimeout(() => {
          done();
          reject(new Error(`timed out after ${timeout} ms with ${last.responses.length} of ${n} responses; received: ${JSON.stringify(this.text().slice(-2000))}`));
        }, timeout);
        const done = () => { clearTimeout(t); this.waiters.delete(check); };
        this.waiters.add(check);
      });
    }
    return last.responses;
  }

  async response(opts) {
    const rs = await this.responses(1, opts);
    return rs[0];
  }

  // Waits for the next complete response and removes it from the buffer (for long exchanges:
  // don't mix with responses(), which counts from the start).
  async next({ timeout = 5000, headOnly = false } = {}) {
    return this.waitFor(() => {
      const p = parseResponses(this.buf, { closed: this.closed, headOnly: [headOnly] });
      if (!p.responses.length) return null;
      this.buf = this.buf.subarray(p.responses[0].end);
      return p.responses[0];
    }, timeout, 'the next response');
  }

  // Resolves when the peer closed the connection (or reset it).
  waitClose(timeout = 3000) {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => { if (this.closed) { done(); resolve(); } };
      const t = setTimeout(() => {
        done();
        reject(new Error(`connection still open after ${timeout} ms; received: ${JSON.stringify(this.text().slice(0, 2000))}`));
      }, timeout);
      const done = () => { clearTimeout(t); this.waiters.delete(check); };
      this.waiters.add(check);
    });
  }

  destroy() {
    this.sock.destroy();
  }
}

// One request over a fresh raw socket; resolves with {responses, conn} after n responses.
async function rawExchange(port, data, { n = 1, timeout = 5000 } = {}) {
  const c = await RawConn.open(port);
  try {
    await c.write(data);
    const responses = await c.responses(n, { timeout });
    return { responses, conn: c };
  } catch (e) {
    c.destroy();
    throw e;
  }
}

// A free TCP port on 127.0.0.1 (bound and released; fine for tests).
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Reads one sample of a Prometheus metric (exact name and label string); undefined if absent.
function metricValue(text, nameWithLabels) {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    if (sp > 0 && line.slice(0, sp) === nameWithLabels) return Number(line.slice(sp + 1));
  }
  return undefined;
}

// ---- sessions ----

async function mintBrowser(srv, { body, headers = {} } = {}) {
  return request(srv.url, 'POST', '/api/chatkit/sessions', { body, headers });
}

async function mintApi(srv, key, body, headers = {}) {
  return request(srv.url, 'POST', '/v1/chatkit/sessions', {
    body,
    headers: { Authorization: `Bearer ${key}`, 'OpenAI-Beta': 'chatkit_beta=v1', ...headers },
  });
}

async function getOwnSession(srv, secret) {
  return request(srv.url, 'GET', '/api/chatkit/session', {
    headers: secret === undefined ? {} : { Authorization: `Bearer ${secret}` },
  });
}

// The chatkitd_uid cookie value from a Set-Cookie header list, or undefined.
function uidCookie(res) {
  const sc = res.headers['set-cookie'] || [];
  for (const c of sc) {
    const m = /^chatkitd_uid=([^;]*)/.exec(c);
    if (m) return { value: m[1], raw: c };
  }
  return undefined;
}

// An open GET /api/events: collects data events and comments as they arrive.
function openFeed(s, user) {
  return new Promise((resolve, reject) => {
    const u = new URL('/api/events', s.url);
    const feed = { events: [], comments: [], status: 0, headers: {}, buf: '', ended: false };
    const waiters = new Set();
    const wake = () => { for (const w of [...waiters]) w(); };
    const req = http.request({
      host: u.hostname, port: u.port, path: u.pathname, method: 'GET', agent: false,
      headers: user ? { Authorization: `Bearer ${user.secret}` } : {},
    }, (res) => {
      feed.status = res.statusCode;
      feed.headers = res.headers;
      res.setEncoding('utf8');
      res.on('data', (d) => {
        feed.buf += d;
        let i;
        while ((i = feed.buf.indexOf('\n\n')) >= 0) {
          const frame = feed.buf.slice(0, i);
          feed.buf = feed.buf.slice(i + 2);
          if (frame.startsWith('data: ')) feed.events.push(JSON.parse(frame.slice(6)));
          else if (frame.startsWith(':')) feed.comments.push(frame);
          else feed.events.push({ bad: frame });
        }
        wake();
      });
      res.on('end', () => { feed.ended = true; wake(); });
      res.on('error', () => { feed.ended = true; wake(); });
      resolve(feed);
    });
    req.on('error', reject);
    req.end();
    feed.close = () => req.destroy();
    feed.waitFor = (pred, ms = 5000, what = 'events') => withTimeout(new Promise((res) => {
      const check = () => { if (pred(feed)) { waiters.delete(check); res(feed); } };
      waiters.add(check);
      check();
    }), ms, `${what}; got ${JSON.stringify(feed.events).slice(0, 1500)}`);
  });
}

module.exports = {
  BIN,
  PG_BASE,
  databaseFor,
  psql,
  sql,
  threadMetadata,
  REPO_ROOT,
  RawConn,
  assertError,
  assertNoSanitizerReport,
  childEnv,
  delay,
  freePort,
  get,
  getOwnSession,
  killAll,
  metricValue,
  mintApi,
  mintBrowser,
  mkTmp,
  openFeed,
  parseResponses,
  post,
  rawExchange,
  request,
  runCli,
  startServer,
  stopAll,
  uidCookie,
  waitExit,
  waitUntil,
  withTimeout,
};
