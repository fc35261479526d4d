'use strict';
// The web UI as the real binary serves it: the embedded site (headers, gzip, ETag/304, HEAD,
// immutable hashed assets, CSP, config.json, 404s) and --ui-dir (a directory on disk, with
// traversal attempts over raw sockets), plus the start-up errors of the two UI flags.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const { test, before, after } = require('node:test');
const h = require('./helpers');

const servers = [];
let srv;

before(async () => {
  srv = await h.startServer();
  servers.push(srv);
});
after(() => h.stopAll(servers));

function getRaw(base, p, headers = {}, method = 'GET') {
  return new Promise((resolve, reject) => {
    const u = new URL(base);
    const req = require('node:http').request({
      host: u.hostname, port: u.port, path: p, method, headers, agent: false,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

function assertUiHeaders(res, csp = "default-src 'self'") {
  assert.equal(res.headers['content-security-policy'], csp);
  assert.equal(res.headers['x-content-type-options'], 'nosniff');
}

// The site's own files that index.html loads (scripts, styles, preloads).
function referencedAssets(html) {
  const out = new Set();
  for (const m of html.matchAll(/\s(?:src|href)=["']?([^"' >]+)/g)) {
    if (/^(https?:)?\/\//.test(m[1]) || m[1].startsWith('data:') || m[1].startsWith('#')) continue;
    out.add(new URL(m[1], 'http://x/').pathname);
  }
  return [...out];
}

test('GET / and /chatkit serve index.html with CSP, nosniff, no-cache and a strong ETag', async () => {
  for (const p of ['/', '/chatkit', '/index.html']) {
    const r = await getRaw(srv.url, p);
    assert.equal(r.status, 200, p);
    assert.match(r.headers['content-type'], /^text\/html; charset=utf-8$/);
    assertUiHeaders(r);
    assert.equal(r.headers['cache-control'], 'no-cache');
    assert.match(r.headers.etag, /^"[0-9a-f]{32}"$/);
    assert.equal(r.headers['content-encoding'], undefined);
    assert.match(r.body.toString(), /<html/i);
    assert.doesNotMatch(r.body.toString(), /<script(?![^>]*\ssrc=)[^>]*>/i, 'no inline script');
    assert.doesNotMatch(r.body.toString(), /<style/i, 'no inline style');
  }
});

test('gzip is negotiated: Content-Encoding, Vary, its own ETag, and the same page inflated', async () => {
  const plain = await getRaw(srv.url, '/');
  const gz = await getRaw(srv.url, '/', { 'Accept-Encoding': 'gzip, deflate, br' });
  assert.equal(gz.status, 200);
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.equal(gz.headers.vary, 'Accept-Encoding');
  assert.equal(plain.headers.vary, 'Accept-Encoding');
  assert.equal(gz.headers.etag, plain.headers.etag.replace(/"$/, '-gz"'));
  assert.equal(Number(gz.headers['content-length']), gz.body.length);
  assert.ok(gz.body.length < plain.body.length);
  assert.deepEqual(zlib.gunzipSync(gz.body), plain.body);
  const refused = await getRaw(srv.url, '/', { 'Accept-Encoding': 'gzip;q=0, identity' });
  assert.equal(refused.headers['content-encoding'], undefined);
  assert.deepEqual(refused.body, plain.body);
});

test('If-None-Match answers 304 without a body; HEAD answers headers only', async () => {
  const first = await getRaw(srv.url, '/');
  const again = await getRaw(srv.url, '/', { 'If-None-Match': first.headers.etag });
  assert.equal(again.status, 304);
  assert.equal(again.body.length, 0);
  assert.equal(again.headers.etag, first.headers.etag);
  assertUiHeaders(again);
  const stale = await getRaw(srv.url, '/', { 'If-None-Match': '"0000"' });
  assert.equal(stale.status, 200);
  const head = await getRaw(srv.url, '/', {}, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(Number(head.headers['content-length']), first.body.length);
  assert.equal(head.body.length, 0);
});

test('the hashed JS and CSS that index.html loads are immutable, typed, and gzipped', async () => {
  const html = (await getRaw(srv.url, '/')).body.toString();
  const assets = referencedAssets(html);
  assert.ok(assets.some((a) => a.endsWith('.js')), `index.html loads a script: ${assets}`);
  for (const a of assets) {
    const r = await getRaw(srv.url, a, { 'Accept-Encoding': 'gzip' });
    assert.equal(r.status, 200, a);
    assertUiHeaders(r);
    if (/-[A-Z0-9]{8}\.(js|css)$/.test(a)) {
      assert.equal(r.headers['cache-control'], 'public, max-age=31536000, immutable', a);
    }
    if (a.endsWith('.js')) assert.equal(r.headers['content-type'], 'text/javascript; charset=utf-8');
    if (a.endsWith('.css')) assert.equal(r.headers['content-type'], 'text/css; charset=utf-8');
    if (r.headers['content-encoding'] === 'gzip') zlib.gunzipSync(r.body);
    const again = await getRaw(srv.url, a, { 'Accept-Encoding': 'gzip', 'If-None-Match': r.headers.etag });
    assert.equal(again.status, 304, a);
  }
});

test('/ui/config.json says hosted false and names the default ChatKit script', async () => {
  const r = await getRaw(srv.url, '/ui/config.json');
  assert.equal(r.status, 200);
  assertUiHeaders(r);
  assert.equal(r.headers['cache-control'], 'no-store');
  assert.deepEqual(JSON.parse(r.body), {
    hosted: false,
    chatkit_script_url: 'https://cdn.platform.openai.com/deployments/chatkit/chatkit.js',
  });
});

test('unknown paths are JSON 404s (with the UI headers); other routes are untouched', async () => {
  for (const p of ['/nope.js', '/assets/', '/../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/index.html/x']) {
    const r = await h.get(srv, p);
    h.assertError(r, 404, 'not_found');
    assert.equal(r.headers['content-security-policy'], "default-src 'self'");
  }
  const health = await h.get(srv, '/health');
  assert.equal(health.status, 200);
  assert.equal(health.headers['content-security-policy'], undefined);
  h.assertError(await h.post(srv, '/nope.js', {}), 404, 'not_found');
  const del = await h.request(srv.url, 'DELETE', '/');
  h.assertError(del, 405, 'method_not_allowed');
  // Files count under the fallback's label, paths no file answers as unmatched.
  const m = (await h.get(srv, '/metrics')).text;
  assert.ok(h.metricValue(m, 'chatkitd_http_requests_total{route="/{ui-file}",method="GET",status="200"}') >= 1);
  assert.equal(h.metricValue(m, 'chatkitd_http_requests_total{route="/{ui-file}",method="GET",status="404"}'), undefined);
  assert.ok(h.metricValue(m, 'chatkitd_http_requests_total{route="unmatched",method="",status="404"}') >= 5);
});

test('--ui-dir serves a directory: ETag from mtime and size, 304, and no way out of it', async () => {
  const root = h.mkTmp();
  const dir = path.join(root, 'site');
  fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>disk</title>');
  fs.writeFileSync(path.join(dir, 'app-ABCDEF12.js'), 'console.log(1)');
  fs.writeFileSync(path.join(dir, 'sub', 'a.css'), 'p{}');
  fs.writeFileSync(path.join(root, 'secret.txt'), 'top secret');
  fs.symlinkSync(path.join(root, 'secret.txt'), path.join(dir, 'link.txt'));
  const s = await h.startServer({ root, args: ['--ui-dir', dir, '--chatkit-script-url', 'https://cdn.example.test/ck.js'] });
  servers.push(s);
  const idx = await getRaw(s.url, '/chatkit');
  assert.equal(idx.status, 200);
  assert.equal(idx.body.toString(), '<!doctype html><title>disk</title>');
  assertUiHeaders(idx);
  assert.match(idx.headers.etag, /^"[0-9a-f]+-[0-9a-f]+-[0-9a-f]+"$/);
  assert.equal((await getRaw(s.url, '/', { 'If-None-Match': idx.headers.etag })).status, 304);
  const js = await getRaw(s.url, '/app-ABCDEF12.js');
  assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.equal((await getRaw(s.url, '/sub/a.css')).body.toString(), 'p{}');
  // An edit shows up at once, with a new ETag.
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>edited page</title>');
  const edited = await getRaw(s.url, '/');
  assert.equal(edited.body.toString(), '<!doctype html><title>edited page</title>');
  assert.notEqual(edited.headers.etag, idx.headers.etag);
  const cfg = JSON.parse((await getRaw(s.url, '/ui/config.json')).body);
  assert.equal(cfg.chatkit_script_url, 'https://cdn.example.test/ck.js');
  for (const p of ['/../secret.txt', '/sub/../../secret.txt', '/%2e%2e/secret.txt', '/sub/%2E%2E%2F%2E%2E%2Fsecret.txt',
    '/..%5csecret.txt', '/link.txt', '/sub', '/sub/', '//etc/passwd', '/index.html%00']) {
    const { responses, conn } = await h.rawExchange(s.port, `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`);
    conn.destroy();
    assert.equal(responses[0].status, 404, `${p}: ${responses[0].body}`);
    assert.doesNotMatch(responses[0].body, /top secret/);
  }
});

test('bad UI flags stop the start with exit status 2 and a clear line', async () => {
  const missing = await h.runCli(['serve', '--listen', '127.0.0.1:0', '--ui-dir', '/nonexistent/ui']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--ui-dir: '\/nonexistent\/ui' is not a directory/);
  const empty = h.mkTmp();
  const noIndex = await h.runCli(['serve', '--listen', '127.0.0.1:0', '--ui-dir', empty]);
  assert.equal(noIndex.code, 2);
  assert.match(noIndex.stderr, /holds no index\.html/);
  const badUrl = await h.runCli(['serve', '--listen', '127.0.0.1:0', '--chatkit-script-url', 'ftp://x/y.js']);
  assert.equal(badUrl.code, 2);
  assert.match(badUrl.stderr, /chatkit-script-url/);
  const help = await h.runCli(['serve', '--help']);
  assert.match(help.stdout, /--ui-dir/);
  assert.match(help.stdout, /--chatkit-script-url/);
  assert.match(help.stdout, /CHATKITD_CHATKIT_SCRIPT_URL/);
});
