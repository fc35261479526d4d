'use strict';
// Routes, status codes and the HTTP/1.1 core, against the real binary over TCP.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');
const { RawConn } = h;

const MAX_BODY = 4096;
const MAX_HEADER = 2048;
const T = { timeout: 20000 };

let srv;
const servers = [];

before(async () => {
  srv = await h.startServer({
    args: [
      '--header-timeout', '1s', '--idle-timeout', '2s', '--max-connections', '20',
      '--max-body-bytes', String(MAX_BODY), '--max-header-bytes', String(MAX_HEADER),
    ],
  });
  servers.push(srv);
});

after(() => h.stopAll(servers));

const GET_HEALTH = (id) =>
  `GET /health HTTP/1.1\r\nHost: t\r\n${id ? `X-Request-Id: ${id}\r\n` : ''}\r\n`;

function sessionPost(body, extra = '') {
  return `POST /api/chatkit/sessions HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
}

describe('routes', () => {
  test('a query string does not change the route', T, async () => {
    const r = await h.get(srv, '/health?verbose=1');
    assert.equal(r.status, 200);
    assert.equal(r.json().status, 'ok');
  });

  test('HEAD /health sends the headers of GET and no body', T, async () => {
    const g = await h.get(srv, '/health');
    const c = await RawConn.open(srv.port);
    await c.write('HEAD /health HTTP/1.1\r\nHost: t\r\n\r\n');
    const r = await c.next({ headOnly: true });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-length'], g.headers['content-length']);
    assert.match(r.headers['content-type'], /^application\/json/);
    // Nothing after the head: a body would be left in the buffer, before the next answer.
    await c.write(GET_HEALTH('after-head'));
    const r2 = await c.next();
    assert.equal(r2.headers['x-request-id'], 'after-head', 'no stray body bytes before it');
    assert.equal(c.buf.length, 0);
    c.destroy();
  });

  test('unknown path: 404 JSON error', T, async () => {
    const r = await h.get(srv, '/nope');
    h.assertError(r, 404, 'not_found');
    h.assertError(await h.post(srv, '/api/chatkit/sessions/extra', {}), 404, 'not_found');
  });

  test('wrong method: 405 with Allow', T, async () => {
    const r = await h.request(srv.url, 'DELETE', '/health');
    h.assertError(r, 405, 'method_not_allowed');
    assert.equal(r.headers.allow, 'GET');
    const r2 = await h.get(srv, '/api/chatkit/sessions');
    h.assertError(r2, 405, 'method_not_allowed');
    assert.equal(r2.headers.allow, 'POST');
    const r3 = await h.post(srv, '/api/chatkit/session', {});
    h.assertError(r3, 405);
    assert.equal(r3.headers.allow, 'GET');
  });

  test('OPTIONS: 204 with Allow and no body', T, async () => {
    const r = await h.request(srv.url, 'OPTIONS', '/health');
    assert.equal(r.status, 204);
    assert.equal(r.headers.allow, 'GET');
    assert.equal(r.text, '');
    const r2 = await h.request(srv.url, 'OPTIONS', '/api/chatkit/sessions');
    assert.equal(r2.status, 204);
    assert.equal(r2.headers.allow, 'POST');
    h.assertError(await h.request(srv.url, 'OPTIONS', '/nope'), 404, 'not_found');
  });
});

describe('status codes', () => {
  test('400: malformed request line, and the connection closes', T, async () => {
    const c = await RawConn.open(srv.port);
    await c.write('THIS IS NOT HTTP\r\n\r\n');
    const r = await c.response();
    h.assertError(r, 400, 'bad_request');
    assert.equal(r.headers.connection, 'close');
    await c.waitClose();
  });

  test('400: invalid JSON, a non-object body, wrong member types', T, async () => {
    h.assertError(await h.post(srv, '/api/chatkit/sessions', '{"workflow":'), 400, 'invalid_json');
    h.assertError(await h.post(srv, '/api/chatkit/sessions', '[1,2]'), 400, 'invalid_request');
    h.assertError(await h.post(srv, '/api/chatkit/sessions', '"text"'), 400, 'invalid_request');
    const e = h.assertError(await h.post(srv, '/api/chatkit/sessions', { workflow: { id: 7 } }),
      400, 'invalid_request');
    assert.match(e.message, /workflow\.id/);
    const e2 = h.assertError(await h.post(srv, '/api/chatkit/sessions', { workflow: 'wf_tasks' }),
      400, 'invalid_request');
    assert.match(e2.message, /workflow/);
  });

  test('401: GET /api/chatkit/session without or with a bad bearer', T, async () => {
    const r = await h.getOwnSession(srv);
    h.assertError(r, 401, 'missing_client_secret');
    assert.match(r.headers['www-authenticate'], /^Bearer/);
    h.assertError(await h.getOwnSession(srv, 'ek_not_a_real_secret'), 401, 'invalid_client_secret');
    h.assertError(await h.request(srv.url, 'GET', '/api/chatkit/session',
      { headers: { Authorization: 'Basic Zm9vOmJhcg==' } }), 401, 'missing_client_secret');
  });

  test('404: unknown workflow id and unknown version', T, async () => {
    const e = h.assertError(await h.post(srv, '/api/chatkit/sessions', { workflow: { id: 'wf_nope_123' } }),
      404, 'workflow_not_found');
    assert.match(e.message, /wf_nope_123/);
    const e2 = h.assertError(await h.post(srv, '/api/chatkit/sessions',
      { workflow: { id: 'wf_tasks', version: '999' } }), 404, 'workflow_not_found');
    assert.match(e2.message, /999/);
    // The known version is fine.
    const ok = await h.post(srv, '/api/chatkit/sessions', { workflow: { id: 'wf_tasks', version: '1' } });
    assert.equal(ok.status, 200, ok.text);
  });

  test('417: an Expect other than 100-continue', T, async () => {
    const { responses, conn } = await h.rawExchange(srv.port,
      'POST /api/chatkit/sessions HTTP/1.1\r\nHost: t\r\nExpect: 200-ok\r\nContent-Length: 2\r\n\r\n{}');
    conn.destroy();
    h.assertError(responses[0], 417, 'expectation_failed');
  });

  test('413: Content-Length over --max-body-bytes is refused before the body is sent', T, async () => {
    const c = await RawConn.open(srv.port);
    await c.write(`POST /api/chatkit/sessions HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${MAX_BODY + 1}\r\n\r\n`);
    const r = await c.response();
    const e = h.assertError(r, 413, 'payload_too_large');
    assert.match(e.message, new RegExp(String(MAX_BODY)));
    assert.equal(r.headers.connection, 'close');
    await c.waitClose();
  });

  test('413: a chunked body over --max-body-bytes', T, async () => {
    const c = await RawConn.open(srv.port);
    const chunk = 'x'.repeat(1000);
    let req = 'POST /api/chatkit/sessions HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n';
    for (let i = 0; i < 5; i++) req += `${chunk.length.toString(16)}\r\n${chunk}\r\n`;
    await c.write(req);
    const r = await c.response();
    h.assertError(r, 413, 'payload_too_large');
    await c.waitClose();
  });

  test('413 with Expect: 100-continue comes without a 100 first', T, async () => {
    const c = await RawConn.open(srv.port);
    await c.write(`POST /api/chatkit/sessions HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n` +
      `Content-Length: ${MAX_BODY * 10}\r\n\r\n`);
    const r = await c.response();
    assert.match(c.text(), /^HTTP\/1\.1 413 /, 'the first bytes are the 413, not a 100');
    assert.doesNotMatch(c.text(), /100 Continue/);
    h.assertError(r, 413, 'payload_too_large');
    await c.waitClose();
  });

  test('a body of exactly --max-body-bytes is accepted', T, async () => {
    const base = JSON.stringify({ workflow: { id: 'wf_tasks', state_variables: { pad: '' } } });
    const body = base.replace('"pad":""', `"pad":"${'p'.repeat(MAX_BODY - base.length)}"`);
    assert.equal(body.length, MAX_BODY);
    const r = await h.post(srv, '/api/chatkit/sessions', body);
    assert.equal(r.status, 200, r.text);
  });

  test('431: request line and headers over --max-header-bytes', T, async () => {
    const c = await RawConn.open(srv.port);
    await c.write(`GET /health HTTP/1.1\r\nHost: t\r\nX-Big: ${'a'.repeat(MAX_HEADER + 100)}\r\n\r\n`);
    const r = await c.response();
    const e = h.assertError(r, 431, 'headers_too_large');
    assert.match(e.message, new RegExp(String(MAX_HEADER)));
    await c.waitClose();
    // Many small headers add up the same way.
    const c2 = await RawConn.open(srv.port);
    let many = 'GET /health HTTP/1.1\r\nHost: t\r\n';
    for (let i = 0; i < 60; i++) many += `X-H${i}: ${'v'.repeat(40)}\r\n`;
    await c2.write(`${many}\r\n`);
    h.assertError(await c2.response(), 431, 'headers_too_large');
    await c2.waitClose();
  });

  test('431: a header count over the cap', T, async () => {
    // 101 tiny headers stay under the byte cap but over HTTP_MAX_HEADERS (100).
    const c = await RawConn.open(srv.port);
    let req = 'GET /health HTTP/1.1\r\n';
    for (let i = 0; i < 101; i++) req += `a${i}:b\r\n`;
    assert.ok(req.length < MAX_HEADER);
    await c.write(`${req}\r\n`);
    h.assertError(await c.response(), 431, 'headers_too_large');
    await c.waitClose();
  });
});

describe('timeouts', { concurrency: true }, () => {
  test('408: a slow header sender is answered and closed after --header-timeout', T, async () => {
    const c = await RawConn.open(srv.port);
    const t0 = Date.now();
    await c.write('GET /health HTTP/1.1\r\nHost: t\r\nX-Slow: ');
    await h.delay(300);
    await c.write('still'); // trickling bytes does not extend the header deadline
    const r = await c.response({ timeout: 4000 });
    const waited = Date.now() - t0;
    h.assertError(r, 408, 'request_timeout');
    assert.equal(r.headers.connection, 'close');
    assert.ok(waited >= 900 && waited < 3000, `answered after ${waited} ms (header timeout 1s)`);
    await c.waitClose(2000);
  });

  test('408: a request body that stops arriving, after --idle-timeout', T, async () => {
    const c = await RawConn.open(srv.port);
    const t0 = Date.now();
    await c.write('POST /api/chatkit/sessions HTTP/1.1\r\nHost: t\r\nContent-Length: 20\r\n\r\n{"wor');
    const r = await c.response({ timeout: 5000 });
    const waited = Date.now() - t0;
    h.assertError(r, 408, 'request_timeout');
    assert.ok(waited >= 1800 && waited < 4500, `answered after ${waited} ms (idle timeout 2s)`);
    await c.waitClose(2000);
  });

  test('an idle keep-alive connection is closed after --idle-timeout', T, async () => {
    const c = await RawConn.open(srv.port);
    await c.write(GET_HEALTH());
    await c.response();
    const t0 = Date.now();
    await c.waitClose(5000);
    const waited = Date.now() - t0;
    assert.ok(waited >= 1800 && waited < 4500, `closed after ${waited} ms (idle timeout 2s)`);
    assert.equal((await c.responses(1)).length, 1, 'no second answer (no 408 for idle)');
  });

  test('a connection that never sends is closed after --header-timeout', T, async () => {
    const c = await RawConn.open(srv.port);
    const t0 = Date.now();
    await c.waitClose(4000);
    const waited = Date.now() - t0;
    assert.ok(waited >= 900 && waited < 3000, `closed after ${waited} ms`);
  });
});

describe('HTTP core', () => {
  test('1,000 keep-alive requests on one connection', { timeout: 60000 }, async () => {
    const before = h.metricValue((await h.get(srv, '/metrics')).text, 'chatkitd_http_connections_total');
    const c = await RawConn.open(srv.port);
    for (let i = 0; i < 1000; i++) {
      const path = i % 3 === 0 ? '/metrics' : '/health';
      await c.write(`GET ${path} HTTP/1.1\r\nHost: t\r\nX-Request-Id: ka-${i}\r\n\r\n`);
      const r = await c.next();
      assert.equal(r.status, 200, `request ${i}`);
      assert.equal(r.headers['x-request-id'], `ka-${i}`);
      assert.notEqual(r.headers.connection, 'close');
    }
    assert.equal(c.closed, false, 'still the same socket');
    const after = h.metricValue((await h.get(srv, '/metrics')).text, 'chatkitd_http_connections_total');
    // Before's connection, ours, and after's connection.
    assert.equal(after - before, 2, 'the 1,000 requests used a single connection');
    c.destroy();
  });

  test('pipelining: 20 requests in one packet are answered in order', T, async () => {
    const paths = [];
    let data = '';
    for (let i = 0; i < 20; i++) {
      const p = ['/health', '/nope', '/metrics', '/health?x=1', '/api/chatkit/session'][i % 5];
      paths.push(p);
      data += `GET ${p} HTTP/1.1\r\nHost: t\r\nX-Request-Id: pipe-${i}\r\n\r\n`;
    }
    const c = await RawConn.open(srv.port);
    await c.write(data); // one write, one segment on loopback
    const rs = await c.responses(20, { timeout: 10000 });
    const want = { '/health': 200, '/nope': 404, '/metrics': 200, '/health?x=1': 200, '/api/chatkit/session': 401 };
    rs.forEach((r, i) => {
      assert.equal(r.headers['x-request-id'], `pipe-${i}`, `response ${i} in order`);
      assert.equal(r.status, want[paths[i]], `status of ${paths[i]}`);
    });
    assert.equal(c.closed, false);
    c.destroy();
  });

  test('pipelined POSTs with bodies keep their boundaries', T, async () => {
    const bodies = [
      '{"workflow":{"id":"wf_tasks"}}',
      '{"workflow":{"id":"wf_missing"}}',
      '[1]',
      '',
      '{"workflow":{"id":"wf_tasks","version":"1"}}',
    ];
    const c = await RawConn.open(srv.port);
    await c.write(bodies.map((b, i) => sessionPost(b, `X-Request-Id: pb-${i}\r\n`)).join(''));
    const rs = await c.responses(bodies.length, { timeout: 10000 });
    assert.deepEqual(rs.map((r) => r.status), [200, 404, 400, 200, 200]);
    rs.forEach((r, i) => assert.equal(r.headers['x-request-id'], `pb-${i}`));
    c.destroy();
  });

  test('a reading client may pipeline far more than the input buffer holds', { timeout: 60000 }, async () => {
    // ~300 KB of requests whose handler (a store round trip) answers asynchronously, so input
    // piles up behind each request in flight; everything must be answered, in order.
    const N = 6000;
    let data = '';
    for (let i = 0; i < N; i++) data += `GET /health HTTP/1.1\r\nX-Request-Id: big-${i}\r\n\r\n`;
    assert.ok(data.length > 256 * 1024);
    const c = await RawConn.open(srv.port);
    c.sock.write(data);
    for (let i = 0; i < N; i++) {
      const r = await c.next({ timeout: 10000 });
      assert.equal(r.headers['x-request-id'], `big-${i}`);
      assert.equal(r.status, 200);
    }
    assert.equal(c.closed, false);
    c.destroy();
  });

  test('a client that pipelines without reading cannot make the server queue unbounded output',
    { timeout: 60000 }, async () => {
      const N = 10000; // ~360 KB of requests asking for ~40 MB of answers
      const label = 'chatkitd_http_requests_total{route="/metrics",method="GET",status="200"}';
      const answered = async () => h.metricValue((await h.get(srv, '/metrics')).text, label) || 0;
      const base = await answered();
      const c = await RawConn.open(srv.port);
      c.sock.pause(); // read nothing for now
      c.sock.write('GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n'.repeat(N));
      await h.delay(1000);
      const stalled = (await answered()) - base - 1; // minus our own probe
      assert.ok(stalled < N / 2,
        `answered ${stalled} of ${N} pipelined requests while the client read nothing: output is not back-pressured`);
      // Reading again lets everything through, in order, on the same connection.
      c.sock.resume();
      let got = 0;
      while (got < N) {
        const r = await c.next({ timeout: 10000 });
        assert.equal(r.status, 200, `response ${got}`);
        got++;
      }
      assert.equal(c.closed, false);
      c.destroy();
    });

  test('pipelined requests followed by a half-close are all answered', T, async () => {
    for (const path of ['/health', '/nope']) { // asynchronous and synchronous handlers
      const c = await RawConn.open(srv.port);
      let data = '';
      for (let i = 0; i < 5; i++) data += `GET ${path} HTTP/1.1\r\nHost: t\r\nX-Request-Id: hc-${i}\r\n\r\n`;
      c.sock.end(data); // shutdown(SHUT_WR) after the last request
      await c.waitClose();
      const { responses } = h.parseResponses(c.buf, { closed: true });
      assert.deepEqual(responses.map((r) => r.headers['x-request-id']),
        ['hc-0', 'hc-1', 'hc-2', 'hc-3', 'hc-4'], `all answered for ${path}`);
      for (const r of responses.slice(0, 4)) assert.notEqual(r.headers.connection, 'close', `${path}: only the last closes`);
    }
  });

  test('a request fed one byte at a time', T, async () => {
    const c = await RawConn.open(srv.port);
    await c.trickle(GET_HEALTH('byte-by-byte'), 1);
    const r = await c.response();
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-request-id'], 'byte-by-byte');
    assert.equal(r.json().status, 'ok');
    // And a POST with a body, also byte by byte, on the same connection.
    await c.trickle(sessionPost('{"workflow":{"id":"wf_byte"}}'), 0);
    const rs = await c.responses(2);
    h.assertError(rs[1], 404, 'workflow_not_found');
    c.destroy();
  });

  test('a chunked request body is de-chunked', T, async () => {
    const json = JSON.stringify({ workflow: { id: 'wf_chunky' } });
    const parts = [json.slice(0, 5), json.slice(5, 17), json.slice(17)];
    let req = 'POST /api/chatkit/sessions HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n' +
      'Transfer-Encoding: chunked\r\n\r\n';
    for (const p of parts) req += `${p.length.toString(16)}\r\n${p}\r\n`;
    req += '0\r\n\r\n';
    const c = await RawConn.open(srv.port);
    await c.write(req);
    const e = h.assertError(await c.response(), 404, 'workflow_not_found');
    assert.match(e.message, /wf_chunky/, 'the server read the de-chunked body');
    // A valid chunked body mints a session; chunk extensions and split writes are fine.
    const ok = JSON.stringify({ workflow: { id: 'wf_tasks', state_variables: { a: 1 } } });
    await c.write('POST /api/chatkit/sessions HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n');
    await c.write(`${ok.length.toString(16)};ext=1\r\n${ok}\r\n`);
    await h.delay(50);
    await c.write('0\r\n\r\n');
    const rs = await c.responses(2);
    assert.equal(rs[1].status, 200, rs[1].body);
    assert.match(rs[1].json().session_id, /^cksess_[0-9a-f]{32}$/);
    c.destroy();
  });

  test('Expect: 100-continue gets a 100 before the body is sent', T, async () => {
    const body = '{"workflow":{"id":"wf_tasks"}}';
    const c = await RawConn.open(srv.port);
    await c.write('POST /api/chatkit/sessions HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n' +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    await c.waitFor(() => c.text().includes('\r\n\r\n'), 3000, 'the interim answer');
    assert.equal(c.text(), 'HTTP/1.1 100 Continue\r\n\r\n');
    await c.write(body);
    const rs = await c.responses(2);
    assert.equal(rs[0].status, 100);
    assert.equal(rs[1].status, 200, rs[1].body);
    assert.ok(rs[1].json().client_secret);
    c.destroy();
  });

  test('HTTP/1.0 without keep-alive: answered as 1.0, then closed', T, async () => {
    const c = await RawConn.open(srv.port);
    await c.write('GET /health HTTP/1.0\r\n\r\n');
    const r = await c.response();
    assert.equal(r.version, '1.0');
    assert.equal(r.status, 200);
    assert.equal(r.headers.connection, 'close');
    await c.waitClose();
  });

  test('HTTP/1.0 with Connection: keep-alive stays open', T, async () => {
    const c = await RawConn.open(srv.port);
    await c.write('GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    const r = await c.response();
    assert.equal(r.headers.connection, 'keep-alive');
    await c.write('GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    const rs = await c.responses(2);
    assert.equal(rs[1].status, 200);
    assert.equal(c.closed, false);
    c.destroy();
  });

  test('HTTP/1.1 Connection: close is honoured', T, async () => {
    const c = await RawConn.open(srv.port);
    await c.write('GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    const r = await c.response();
    assert.equal(r.status, 200);
    assert.equal(r.headers.connection, 'close');
    await c.waitClose();
  });

  test('X-Request-Id: echoed when sane, replaced when not', T, async () => {
    const sane = 'Req-1.2_abc';
    const r1 = await h.get(srv, '/health', { headers: { 'X-Request-Id': sane } });
    assert.equal(r1.headers['x-request-id'], sane);
    const generated = /^[0-9a-f]{16}$/;
    for (const bad of ['has space', 'semi;colon', 'x'.repeat(40), '<script>']) {
      const r = await h.get(srv, '/health', { headers: { 'X-Request-Id': bad } });
      assert.notEqual(r.headers['x-request-id'], bad);
      assert.match(r.headers['x-request-id'], generated, `replacement for ${JSON.stringify(bad)}`);
    }
    const r2 = await h.get(srv, '/health');
    assert.match(r2.headers['x-request-id'], generated);
    const r3 = await h.get(srv, '/health');
    assert.notEqual(r2.headers['x-request-id'], r3.headers['x-request-id'], 'ids are unique');
    // Errors carry the id too.
    const r4 = await h.get(srv, '/nope', { headers: { 'X-Request-Id': 'err-id-1' } });
    assert.equal(r4.headers['x-request-id'], 'err-id-1');
  });

  test('access log: one text line per request on stderr', T, async () => {
    const r = await h.get(srv, '/health', { headers: { 'X-Request-Id': 'acc-log-1' } });
    const bytes = Number(r.headers['content-length']);
    const line = await h.waitUntil(() => srv.stderrText().split('\n').find((l) => l.includes('req=acc-log-1 ')),
      { what: 'the access log line' });
    assert.match(line, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z info +req=acc-log-1 GET /health 200 ${bytes}B \\d+us$`));
    await h.get(srv, '/nope', { headers: { 'X-Request-Id': 'acc-log-2' } });
    const l2 = await h.waitUntil(() => srv.stderrText().split('\n').find((l) => l.includes('req=acc-log-2 ')));
    assert.match(l2, /req=acc-log-2 GET \/nope 404 \d+B \d+us$/);
    // Exactly one line per request.
    assert.equal(srv.stderrText().split('\n').filter((l) => l.includes('req=acc-log-1 ')).length, 1);
  });

  test('error answers over raw sockets are JSON too', T, async () => {
    const { responses, conn } = await h.rawExchange(srv.port, 'GET /nope HTTP/1.1\r\nHost: t\r\n\r\n');
    conn.destroy();
    h.assertError(responses[0], 404, 'not_found');
    assert.equal(Number(responses[0].headers['content-length']), Buffer.byteLength(responses[0].body));
  });
});

describe('separate servers', { concurrency: true }, () => {
  test('access log in JSON with --log-format json', T, async () => {
    const s = await h.startServer({ args: ['--log-format', 'json'] });
    servers.push(s);
    const r = await h.get(s, '/health', { headers: { 'X-Request-Id': 'json-log-1' } });
    await h.post(s, '/api/chatkit/sessions', {});
    const rec = await h.waitUntil(() => s.stderrText().split('\n').filter(Boolean).map((l) => JSON.parse(l))
      .find((o) => o.request_id === 'json-log-1'), { what: 'the JSON access record' });
    assert.equal(rec.msg, 'request');
    assert.equal(rec.level, 'info');
    assert.equal(rec.method, 'GET');
    assert.equal(rec.path, '/health');
    assert.equal(rec.status, 200);
    assert.equal(rec.bytes, Number(r.headers['content-length']));
    assert.ok(Number.isInteger(rec.duration_us) && rec.duration_us >= 0);
    assert.match(rec.ts, /^\d{4}-\d\d-\d\dT/);
    await h.waitUntil(() => /Created ChatKit session/.test(s.stderrText()));
    // Every stderr line is one JSON object (JSON.parse above threw otherwise).
    for (const l of s.stderrText().split('\n').filter(Boolean)) {
      const o = JSON.parse(l);
      assert.equal(typeof o.msg, 'string');
      assert.equal(typeof o.level, 'string');
    }
  });

  test('--access-log off: no request lines', T, async () => {
    const s = await h.startServer({ args: ['--access-log', 'off'] });
    servers.push(s);
    await h.get(s, '/health', { headers: { 'X-Request-Id': 'no-log-1' } });
    await h.get(s, '/health', { headers: { 'X-Request-Id': 'no-log-2' } });
    await h.delay(200);
    assert.doesNotMatch(s.stderrText(), /req=no-log-/);
  });

  test('503: over --max-connections the next client gets 503 and a close', T, async () => {
    const s = await h.startServer({ args: ['--max-connections', '5'] });
    servers.push(s);
    const conns = [];
    for (let i = 0; i < 5; i++) {
      const c = await RawConn.open(s.port);
      await c.write(GET_HEALTH(`cap-${i}`));
      assert.equal((await c.response()).status, 200);
      conns.push(c);
    }
    // The gauge sees all five.
    await conns[0].write('GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n');
    const m = (await conns[0].responses(2))[1];
    assert.equal(h.metricValue(m.body, 'chatkitd_http_open_connections'), 5);
    const sixth = await RawConn.open(s.port);
    const r = await sixth.response();
    h.assertError(r, 503, 'too_many_connections');
    assert.equal(r.headers.connection, 'close');
    assert.equal(r.headers['retry-after'], '1');
    await sixth.waitClose();
    // The five are untouched.
    await conns[1].write(GET_HEALTH());
    assert.equal((await conns[1].responses(2))[1].status, 200);
    // Freeing a slot lets a new client in again.
    conns.pop().destroy();
    const m2 = await h.waitUntil(async () => {
      const r2 = await h.get(s, '/metrics').catch(() => null);
      return r2 && r2.status === 200 ? r2 : null;
    }, { what: 'a free slot' });
    assert.ok(h.metricValue(m2.text, 'chatkitd_http_connections_rejected_total') >= 1);
    for (const c of conns) c.destroy();
  });
});
