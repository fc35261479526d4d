'use strict';
// Operational surface: GET /health, GET /metrics, and shutdown on SIGTERM / SIGINT.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./helpers');
const { RawConn } = h;

const T = { timeout: 20000 };

let srv;
const servers = [];

before(async () => {
  srv = await h.startServer();
  servers.push(srv);
});

after(() => h.stopAll(servers));

describe('health and metrics', () => {
  test('GET /health answers 200 with status, version, uptime and store', T, async () => {
    const r = await h.get(srv, '/health');
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'], /^application\/json/);
    const b = r.json();
    assert.deepEqual(Object.keys(b).sort(), ['status', 'store', 'uptime_s', 'version']);
    assert.equal(b.status, 'ok');
    assert.equal(b.store, 'ok');
    assert.match(b.version, /^\d+\.\d+\.\d+/);
    assert.ok(Number.isInteger(b.uptime_s) && b.uptime_s >= 0, `uptime_s ${b.uptime_s}`);
    assert.equal(r.headers['cache-control'], 'no-store');
    // The version agrees with --version.
    const v = await h.runCli(['--version']);
    assert.equal(v.stdout.trim(), `chatkitd ${b.version}`);
  });


  test('GET /metrics renders Prometheus text with HTTP and store series', T, async () => {
    await h.get(srv, '/health');
    await h.get(srv, '/no/such/path');
    const m1 = await h.get(srv, '/metrics');
    assert.equal(m1.status, 200);
    assert.match(m1.headers['content-type'], /^text\/plain; version=0\.0\.4/);
    const t = m1.text;
    const healthOk = 'chatkitd_http_requests_total{route="/health",method="GET",status="200"}';
    const n1 = h.metricValue(t, healthOk);
    assert.ok(n1 >= 1, `${healthOk} = ${n1}`);
    assert.ok(h.metricValue(t, 'chatkitd_http_requests_total{route="unmatched",method="",status="404"}') >= 1);
    assert.match(t, /# TYPE chatkitd_http_requests_total counter/);
    assert.match(t, /# TYPE chatkitd_http_open_connections gauge/);
    // This very request's connection is open while the text is rendered.
    assert.ok(h.metricValue(t, 'chatkitd_http_open_connections') >= 1);
    assert.equal(h.metricValue(t, 'chatkitd_http_open_streams'), 0);
    assert.match(t, /# TYPE chatkitd_http_request_duration_seconds histogram/);
    const inf = h.metricValue(t, 'chatkitd_http_request_duration_seconds_bucket{le="+Inf"}');
    const count = h.metricValue(t, 'chatkitd_http_request_duration_seconds_count');
    assert.ok(count >= 2, `duration count ${count}`);
    assert.equal(inf, count, '+Inf bucket equals the count');
    assert.ok(h.metricValue(t, 'chatkitd_http_request_duration_seconds_sum') > 0);
    // Buckets are cumulative: never decreasing.
    const buckets = [...t.matchAll(/^chatkitd_http_request_duration_seconds_bucket\{le="[^"]+"\} (\d+)$/gm)]
      .map((x) => Number(x[1]));
    assert.ok(buckets.length >= 5);
    for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i] >= buckets[i - 1], 'cumulative');
    assert.ok(h.metricValue(t, 'chatkitd_store_queue_depth') >= 0);
    assert.match(t, /# TYPE chatkitd_store_job_seconds histogram/);
    assert.ok(h.metricValue(t, 'chatkitd_store_job_seconds_count') >= 1, 'health pings were timed');
    assert.ok(h.metricValue(t, 'chatkitd_store_jobs_total{op="ping"}') >= 1);
    // Counters move: two more health checks show up.
    await h.get(srv, '/health');
    await h.get(srv, '/health');
    const n2 = h.metricValue((await h.get(srv, '/metrics')).text, healthOk);
    assert.equal(n2, n1 + 2);
  });


  test('GET /health is 503 with the reason once the database is gone', T, async () => {
    const s = await h.startServer();
    servers.push(s);
    assert.equal((await h.get(s, '/health')).status, 200);
    if (s.database) {
      const name = s.database.slice(s.database.lastIndexOf('/') + 1);
      h.psql(`${h.PG_BASE}postgres`, `DROP DATABASE ${name} WITH (FORCE)`);
    } else {
      fs.rmSync(path.join(s.dataDir, 'chatkitd.db'));
    }
    const r = await h.get(s, '/health');
    assert.equal(r.status, 503);
    assert.match(r.headers['content-type'], /^application\/json/);
    const b = r.json();
    assert.equal(b.status, 'unavailable');
    if (s.database) {
      assert.match(b.store, /PostgreSQL|connection|does not exist/);
    } else {
      assert.match(b.store, /chatkitd\.db/);
      assert.match(b.store, /missing/);
    }
    assert.notEqual(b.store, 'ok');
    assert.match(b.version, /^\d+\.\d+\.\d+/);
  });
});

const METRICS_OK = 'chatkitd_http_requests_total{route="/metrics",method="GET",status="200"}';

describe('shutdown', { concurrency: true }, () => {
  test('SIGTERM with idle keep-alive and half-sent requests: exit 0 promptly', T, async () => {
    const s = await h.startServer({ args: ['--drain-timeout', '5s'] });
    const idle = [];
    for (let i = 0; i < 3; i++) {
      const c = await RawConn.open(s.port);
      await c.write('GET /health HTTP/1.1\r\nHost: t\r\n\r\n');
      assert.equal((await c.response()).status, 200);
      idle.push(c);
    }
    const partial = await RawConn.open(s.port);
    await partial.write('GET /health HTTP/1.1\r\nHost: t\r\n'); // headers never finished
    const silent = await RawConn.open(s.port);
    await h.delay(50);
    const t0 = Date.now();
    const code = await s.stop('SIGTERM', 4000);
    const took = Date.now() - t0;
    assert.equal(code, 0, s.stderrText().slice(-2000));
    assert.ok(took < 2000, `exited after ${took} ms; idle connections must not wait for the drain timeout`);
    for (const c of [...idle, partial, silent]) await c.waitClose(2000);
    const err = s.stderrText();
    assert.match(err, /received SIGTERM: draining/);
    assert.match(err, /stopped/);
    const lines = err.trim().split('\n');
    assert.match(lines[lines.length - 1], /stopped$/, 'stopped is the last line');
    // The port is released.
    await assert.rejects(RawConn.open(s.port, { timeout: 1000 }), /ECONNREFUSED/);
  });

  test('SIGINT: exit 0 and "stopped"', T, async () => {
    const s = await h.startServer();
    const c = await RawConn.open(s.port);
    await c.write('GET /health HTTP/1.1\r\nHost: t\r\n\r\n');
    await c.response();
    assert.equal(await s.stop('SIGINT', 4000), 0, s.stderrText().slice(-2000));
    assert.match(s.stderrText(), /received SIGINT: draining/);
    assert.match(s.stderrText(), /stopped/);
    await c.waitClose(2000);
  });

  test('SIGTERM with no connections at all', T, async () => {
    const s = await h.startServer();
    assert.equal(await s.stop('SIGTERM', 4000), 0);
    assert.match(s.stderrText(), /drained; closing the store/);
    assert.match(s.stderrText(), /stopped/);
  });

  test('SIGTERM sent the moment the listening line appears still drains', { timeout: 60000 }, async () => {
    // A supervisor may signal as soon as it reads the line. Twenty concurrent starts on a busy
    // machine make a late signal-handler installation likely to show up as death by SIGTERM.
    const { spawn } = require('node:child_process');
    const one = async (i) => {
      const root = h.mkTmp();
      const proc = spawn(h.BIN, ['serve', '--listen', '127.0.0.1:0', '--data-dir', path.join(root, 'data')],
        { cwd: root, env: h.childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      proc.stderr.on('data', (d) => { err += d; });
      proc.stdout.on('data', (d) => {
        if (String(d).includes('listening on')) proc.kill('SIGTERM'); // synchronously, no delay
      });
      const { code, signal } = await h.waitExit(proc, 20000).catch((e) => { proc.kill('SIGKILL'); throw e; });
      assert.equal(signal, null, `run ${i}: killed by ${signal} instead of draining`);
      assert.equal(code, 0, `run ${i}: ${err.slice(-1000)}`);
      await h.waitUntil(() => /stopped/.test(err), { timeout: 2000, what: 'stopped in stderr' });
      h.assertNoSanitizerReport(err);
    };
    await Promise.all(Array.from({ length: 20 }, (_, i) => one(i)));
  });

  test('SIGTERM delivers answers already produced to a slow reader', { timeout: 30000 }, async () => {
    const s = await h.startServer({ args: ['--drain-timeout', '10s'] });
    const c = await RawConn.open(s.port);
    c.sock.pause(); // a slow reader: nothing read until after SIGTERM
    c.sock.write('GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n'.repeat(3000));
    // Wait until the server stops making progress on our requests. Probe k sees our answers
    // plus the k - 1 probes before it (a request is counted once answered).
    let probes = 0;
    let last = -1;
    let answered = 0;
    await h.waitUntil(async () => {
      const v = h.metricValue((await h.get(s, '/metrics')).text, METRICS_OK) || 0;
      answered = v - probes;
      probes++;
      const still = answered === last;
      last = answered;
      return still;
    }, { timeout: 10000, interval: 300, what: 'the server to stall on the full socket' });
    assert.ok(answered > 0);
    const stopping = s.stop('SIGTERM', 15000);
    await h.delay(200);
    c.sock.resume();
    await c.waitClose(15000);
    assert.equal(await stopping, 0, s.stderrText().slice(-2000));
    const { responses, rest } = h.parseResponses(c.buf, { closed: false });
    assert.equal(rest.length, 0, `a truncated answer at the end (${rest.length} bytes left over)`);
    assert.ok(responses.length >= answered,
      `received ${responses.length} complete answers; the server had answered ${answered}`);
    for (const r of responses) assert.equal(r.status, 200);
    assert.doesNotMatch(s.stderrText(), /drain timeout/, 'finished well within the drain timeout');
  });
});
