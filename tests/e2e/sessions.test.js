'use strict';
// ChatKit sessions: the browser route, the bearer's own session, OpenAI's /v1 shape, expiry,
// cancellation and per-session rate limits (spec/chatkit-client.md §6).

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const API_KEY = 'test-admin-key-0123456789';
const T = { timeout: 20000 };
const SESSION_ID = /^cksess_[0-9a-f]{32}$/;
const USER_ID = /^usr_[0-9a-f]{32}$/;

let srv;      // cookie identity, admin key set
const servers = [];

before(async () => {
  srv = await h.startServer({ args: ['--api-key', API_KEY] });
  servers.push(srv);
});

after(() => h.stopAll(servers));

const nowS = () => Date.now() / 1000;

async function mintOk(s, opts) {
  const r = await h.mintBrowser(s, opts);
  assert.equal(r.status, 200, r.text);
  return r;
}

describe('browser route POST /api/chatkit/sessions', () => {
  test('answers {client_secret, session_id, expires_at, expires_after}', T, async () => {
    const t0 = nowS();
    const r = await mintOk(srv);
    assert.match(r.headers['content-type'], /^application\/json/);
    assert.equal(r.headers['cache-control'], 'no-store');
    const b = r.json();
    assert.deepEqual(Object.keys(b).sort(), ['client_secret', 'expires_after', 'expires_at', 'session_id']);
    assert.equal(typeof b.client_secret, 'string');
    assert.ok(b.client_secret.length >= 32, 'a long random secret');
    assert.match(b.session_id, SESSION_ID);
    assert.deepEqual(b.expires_after, { anchor: 'created_at', seconds: 600 });
    assert.ok(Number.isInteger(b.expires_at));
    assert.ok(b.expires_at >= Math.floor(t0) + 600 - 1 && b.expires_at <= nowS() + 601,
      `expires_at ${b.expires_at} vs now ${nowS()}`);
    const r2 = await mintOk(srv);
    assert.notEqual(r2.json().client_secret, b.client_secret);
    assert.notEqual(r2.json().session_id, b.session_id);
  });

  test('sets an HttpOnly, SameSite=Lax chatkitd_uid cookie without Secure', T, async () => {
    const r = await mintOk(srv);
    const c = h.uidCookie(r);
    assert.ok(c, `Set-Cookie: ${JSON.stringify(r.headers['set-cookie'])}`);
    assert.match(c.value, USER_ID);
    const attrs = c.raw.split(';').map((x) => x.trim().toLowerCase());
    assert.ok(attrs.includes('httponly'), c.raw);
    assert.ok(attrs.includes('samesite=lax'), c.raw);
    assert.ok(attrs.includes('path=/'), c.raw);
    assert.ok(!attrs.includes('secure'), `no Secure over plain http: ${c.raw}`);
    assert.ok(attrs.some((a) => /^max-age=\d+$/.test(a)), c.raw);
  });

  test('the cookie keeps the user; the session shows it', T, async () => {
    const first = await mintOk(srv);
    const uid = h.uidCookie(first).value;
    const again = await mintOk(srv, { headers: { Cookie: `theme=dark; chatkitd_uid=${uid}; x=1` } });
    assert.equal(h.uidCookie(again), undefined, 'no new cookie for a known user');
    for (const m of [first, again]) {
      const s = await h.getOwnSession(srv, m.json().client_secret);
      assert.equal(s.status, 200, s.text);
      assert.equal(s.json().user, uid);
      assert.equal(s.json().id, m.json().session_id);
    }
  });

  test('a malformed cookie gets a new id', T, async () => {
    for (const bad of ['bogus', 'usr_123', `usr_${'G'.repeat(32)}`, `usr_${'a'.repeat(33)}`, '']) {
      const r = await mintOk(srv, { headers: { Cookie: `chatkitd_uid=${bad}` } });
      const c = h.uidCookie(r);
      assert.ok(c, `a new cookie replaces ${JSON.stringify(bad)}`);
      assert.match(c.value, USER_ID);
      const s = await h.getOwnSession(srv, r.json().client_secret);
      assert.equal(s.json().user, c.value);
    }
  });

  test('the log names the session and never the secret', T, async () => {
    const secrets = [];
    for (let i = 0; i < 3; i++) {
      const b = (await mintOk(srv)).json();
      secrets.push(b.client_secret);
      await h.waitUntil(() => srv.stderrText().includes(`Created ChatKit session ${b.session_id}`),
        { what: `the log line for ${b.session_id}` });
      await h.getOwnSession(srv, b.client_secret);
    }
    const api = (await h.mintApi(srv, API_KEY, { user: 'u1', workflow: { id: 'wf_tasks' } })).json();
    secrets.push(api.client_secret);
    await h.getOwnSession(srv, api.client_secret);
    await h.delay(100); // the access log flushes once per loop turn
    const err = srv.stderrText();
    for (const s of secrets) assert.ok(!err.includes(s), 'a client secret leaked into stderr');
    assert.ok(!err.includes(API_KEY), 'the admin key leaked into stderr');
  });

  test('state_variables and chatkit_configuration are validated', T, async () => {
    const bad = [
      { workflow: { id: 'wf_tasks', state_variables: [] } },
      { workflow: { id: 'wf_tasks', state_variables: 'x' } },
      { workflow: { id: 'wf_tasks', state_variables: { ['k'.repeat(65)]: 1 } } },
      { workflow: { id: 'wf_tasks', state_variables: { '': 1 } } },
      { workflow: { id: 'wf_tasks', state_variables: { a: [1] } } },
      { workflow: { id: 'wf_tasks', state_variables: { a: { b: 1 } } } },
      { workflow: { id: 'wf_tasks', state_variables: { a: null } } },
      { workflow: { id: 'wf_tasks', state_variables: { a: 's'.repeat(4097) } } },
      { workflow: { id: 'wf_tasks', state_variables: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`v${i}`, i])) } },
      { workflow: { id: 'wf_tasks', tracing: { enabled: 'yes' } } },
      { workflow: { id: 'wf_tasks', version: 1 } },
      { workflow: { id: '' } },
      { workflow: {} },
      { chatkit_configuration: [] },
      { chatkit_configuration: { file_upload: { enabled: 1 } } },
      { chatkit_configuration: { file_upload: { max_file_size: 0 } } },
      { chatkit_configuration: { file_upload: { max_file_size: 513 } } },
      { chatkit_configuration: { file_upload: { max_file_size: 1.5 } } },
      { chatkit_configuration: { file_upload: { max_files: 0 } } },
      { chatkit_configuration: { history: { recent_threads: 0 } } },
      { chatkit_configuration: { history: { enabled: 'true' } } },
      { chatkit_configuration: { automatic_thread_titling: { enabled: 0 } } },
      { chatkit_configuration: { automatic_thread_titling: true } },
      { expires_after: { anchor: 'now', seconds: 10 } },
      { expires_after: { anchor: 'created_at' } },
      { expires_after: { anchor: 'created_at', seconds: 0 } },
    ];
    for (const body of bad) {
      const r = await h.mintBrowser(srv, { body });
      assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 200)} -> ${r.text}`);
      const e = h.assertError(r, 400, 'invalid_request');
      assert.match(e.message, /workflow|chatkit_configuration|expires_after/, JSON.stringify(body));
    }
    // JSON null means "not given" (json_read.h), so these take the defaults.
    for (const body of [{ workflow: null }, { chatkit_configuration: { history: { enabled: null } } },
      { workflow: { id: 'wf_tasks', version: null } }]) {
      const r = await h.mintBrowser(srv, { body });
      assert.equal(r.status, 200, `${JSON.stringify(body)} -> ${r.text}`);
    }
    // Valid values come back in the session.
    const vars = { name: 'Ada', n: 3, flag: true, ['k'.repeat(64)]: 's'.repeat(4096) };
    const cfg = {
      automatic_thread_titling: { enabled: false },
      file_upload: { enabled: true, max_file_size: 20, max_files: 3 },
      history: { enabled: false, recent_threads: 5 },
    };
    const r = await mintOk(srv, { body: { workflow: { id: 'wf_tasks', state_variables: vars, tracing: { enabled: false } }, chatkit_configuration: cfg } });
    const s = (await h.getOwnSession(srv, r.json().client_secret)).json();
    assert.deepEqual(s.workflow.state_variables, vars);
    assert.deepEqual(s.workflow.tracing, { enabled: false });
    assert.deepEqual(s.chatkit_configuration, cfg);
  });

  test('browser sessions may ask for a shorter expiry', T, async () => {
    const r = await mintOk(srv, { body: { expires_after: { anchor: 'created_at', seconds: 30 } } });
    assert.equal(r.json().expires_after.seconds, 30);
  });
});

describe('GET /api/chatkit/session', () => {
  test('shows the bearer\'s session in the ChatSession shape without the secret', T, async () => {
    const m = (await mintOk(srv)).json();
    const r = await h.getOwnSession(srv, m.client_secret);
    assert.equal(r.status, 200);
    const s = r.json();
    assert.equal(s.object, 'chatkit.session');
    assert.equal(s.id, m.session_id);
    assert.equal(s.client_secret, null, 'the secret is never shown again');
    assert.equal(s.status, 'active');
    assert.equal(s.expires_at, m.expires_at);
    assert.equal(s.workflow.id, 'wf_tasks');
    assert.equal(s.max_requests_per_1_minute, 120, 'the --session-rate default');
    assert.deepEqual(s.rate_limits, { max_requests_per_1_minute: 120 });
    assert.ok(!r.text.includes(m.client_secret));
  });
});

describe('/v1/chatkit/sessions (admin API key)', () => {
  test('returns OpenAI\'s ChatSession shape with defaults', T, async () => {
    const t0 = nowS();
    const r = await h.mintApi(srv, API_KEY, { user: 'user-42', workflow: { id: 'wf_tasks' } });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers['content-type'], /^application\/json/);
    const s = r.json();
    assert.deepEqual(Object.keys(s).sort(), ['chatkit_configuration', 'client_secret', 'expires_at', 'id',
      'max_requests_per_1_minute', 'object', 'rate_limits', 'status', 'user', 'workflow']);
    assert.equal(s.object, 'chatkit.session');
    assert.match(s.id, SESSION_ID);
    assert.equal(typeof s.client_secret, 'string');
    assert.ok(s.client_secret.length >= 32);
    assert.ok(s.expires_at >= Math.floor(t0) + 599 && s.expires_at <= nowS() + 601, 'ten minutes');
    assert.equal(s.status, 'active');
    assert.equal(s.user, 'user-42');
    assert.deepEqual(s.workflow, { id: 'wf_tasks', version: null, state_variables: null, tracing: { enabled: true } });
    assert.deepEqual(s.rate_limits, { max_requests_per_1_minute: 10 });
    assert.equal(s.max_requests_per_1_minute, 10);
    assert.deepEqual(s.chatkit_configuration, {
      automatic_thread_titling: { enabled: true },
      file_upload: { enabled: false, max_file_size: 512, max_files: 10 },
      history: { enabled: true, recent_threads: null },
    });
    // The secret works on the browser-facing route.
    const own = await h.getOwnSession(srv, s.client_secret);
    assert.equal(own.status, 200);
    assert.equal(own.json().user, 'user-42');
    assert.equal(own.json().id, s.id);
  });

  test('echoes version, state variables, rate limit and configuration', T, async () => {
    const body = {
      user: 'u-echo',
      workflow: { id: 'wf_tasks', version: '1', state_variables: { plan: 'pro', seats: 5 }, tracing: { enabled: false } },
      rate_limits: { max_requests_per_1_minute: 33 },
      chatkit_configuration: { file_upload: { enabled: true } },
      expires_after: { anchor: 'created_at', seconds: 120 },
    };
    const s = (await h.mintApi(srv, API_KEY, body)).json();
    assert.deepEqual(s.workflow, { id: 'wf_tasks', version: '1', state_variables: { plan: 'pro', seats: 5 }, tracing: { enabled: false } });
    assert.equal(s.max_requests_per_1_minute, 33);
    assert.deepEqual(s.rate_limits, { max_requests_per_1_minute: 33 });
    assert.equal(s.chatkit_configuration.file_upload.enabled, true);
    assert.ok(Math.abs(s.expires_at - nowS() - 120) <= 2);
  });

  test('401 without the right admin key', T, async () => {
    const body = { user: 'u', workflow: { id: 'wf_tasks' } };
    const r = await h.post(srv, '/v1/chatkit/sessions', body);
    h.assertError(r, 401, 'invalid_api_key');
    assert.match(r.headers['www-authenticate'], /^Bearer/);
    h.assertError(await h.mintApi(srv, `${API_KEY}x`, body), 401, 'invalid_api_key');
    h.assertError(await h.mintApi(srv, API_KEY.slice(0, -1), body), 401, 'invalid_api_key');
    // A client secret is not an admin key.
    const secret = (await mintOk(srv)).json().client_secret;
    h.assertError(await h.mintApi(srv, secret, body), 401, 'invalid_api_key');
  });

  test('400 for a missing user, workflow or body', T, async () => {
    const cases = [
      [undefined, /body/],
      [{ workflow: { id: 'wf_tasks' } }, /user/],
      [{ user: '', workflow: { id: 'wf_tasks' } }, /user/],
      [{ user: 5, workflow: { id: 'wf_tasks' } }, /user/],
      [{ user: 'u' }, /workflow\.id/],
      [{ user: 'u', workflow: { id: 'wf_tasks' }, rate_limits: { max_requests_per_1_minute: 0 } }, /rate_limits/],
      [{ user: 'u', workflow: { id: 'wf_tasks' }, rate_limits: 3 }, /rate_limits/],
    ];
    for (const [body, re] of cases) {
      const e = h.assertError(await h.mintApi(srv, API_KEY, body), 400, 'invalid_request');
      assert.match(e.message, re, JSON.stringify(body));
    }
    h.assertError(await h.mintApi(srv, API_KEY, '{nope'), 400, 'invalid_json');
    const e = h.assertError(await h.mintApi(srv, API_KEY, { user: 'u', workflow: { id: 'wf_absent' } }), 404, 'workflow_not_found');
    assert.match(e.message, /wf_absent/);
  });

  test('cancel: status cancelled, then the secret is refused', T, async () => {
    const s = (await h.mintApi(srv, API_KEY, { user: 'u-cancel', workflow: { id: 'wf_tasks' } })).json();
    assert.equal((await h.getOwnSession(srv, s.client_secret)).status, 200);
    const c = await h.request(srv.url, 'POST', `/v1/chatkit/sessions/${s.id}/cancel`,
      { headers: { Authorization: `Bearer ${API_KEY}` } });
    assert.equal(c.status, 200, c.text);
    const cs = c.json();
    assert.equal(cs.object, 'chatkit.session');
    assert.equal(cs.id, s.id);
    assert.equal(cs.status, 'cancelled');
    assert.equal(cs.user, 'u-cancel');
    assert.equal(cs.client_secret, null);
    const e = h.assertError(await h.getOwnSession(srv, s.client_secret), 401, 'session_cancelled');
    assert.match(e.message, new RegExp(s.id));
    // A browser session can be cancelled the same way.
    const b = (await mintOk(srv)).json();
    const c2 = await h.request(srv.url, 'POST', `/v1/chatkit/sessions/${b.session_id}/cancel`,
      { headers: { Authorization: `Bearer ${API_KEY}` } });
    assert.equal(c2.json().status, 'cancelled');
    h.assertError(await h.getOwnSession(srv, b.client_secret), 401, 'session_cancelled');
  });

  test('cancel: unknown or malformed id is 404, wrong key 401', T, async () => {
    const auth = { headers: { Authorization: `Bearer ${API_KEY}` } };
    h.assertError(await h.request(srv.url, 'POST', `/v1/chatkit/sessions/cksess_${'0'.repeat(32)}/cancel`, auth),
      404, 'session_not_found');
    h.assertError(await h.request(srv.url, 'POST', '/v1/chatkit/sessions/nope/cancel', auth), 404, 'session_not_found');
    h.assertError(await h.request(srv.url, 'POST', '/v1/chatkit/sessions/%00/cancel', auth), 404);
    const s = (await h.mintApi(srv, API_KEY, { user: 'u', workflow: { id: 'wf_tasks' } })).json();
    h.assertError(await h.request(srv.url, 'POST', `/v1/chatkit/sessions/${s.id}/cancel`), 401, 'invalid_api_key');
    assert.equal((await h.getOwnSession(srv, s.client_secret)).status, 200, 'still active');
  });

  test('429: over the session\'s per-minute budget, with Retry-After', T, async () => {
    const s = (await h.mintApi(srv, API_KEY, {
      user: 'u-rate', workflow: { id: 'wf_tasks' }, rate_limits: { max_requests_per_1_minute: 2 },
    })).json();
    assert.equal((await h.getOwnSession(srv, s.client_secret)).status, 200);
    assert.equal((await h.getOwnSession(srv, s.client_secret)).status, 200);
    const r = await h.getOwnSession(srv, s.client_secret);
    const e = h.assertError(r, 429, 'rate_limited');
    assert.match(e.message, /2 requests per minute/);
    const ra = Number(r.headers['retry-after']);
    assert.ok(Number.isInteger(ra) && ra >= 1 && ra <= 60, `Retry-After ${r.headers['retry-after']}`);
    // Budgets are per session: another session is unaffected.
    const other = (await h.mintApi(srv, API_KEY, { user: 'u-rate', workflow: { id: 'wf_tasks' } })).json();
    assert.equal((await h.getOwnSession(srv, other.client_secret)).status, 200);
  });
});

describe('expiry, identity and cookie options', { concurrency: true }, () => {
  test('an API session with expires_after.seconds expires', T, async () => {
    const s = (await h.mintApi(srv, API_KEY, {
      user: 'u-exp', workflow: { id: 'wf_tasks' }, expires_after: { anchor: 'created_at', seconds: 2 },
    })).json();
    // expires_at is whole seconds: at least one full second away right after minting.
    assert.ok(s.expires_at - nowS() > 0.9, `expires_at ${s.expires_at} now ${nowS()}`);
    assert.equal((await h.getOwnSession(srv, s.client_secret)).status, 200);
    await h.delay(s.expires_at * 1000 - Date.now() + 300);
    const e = h.assertError(await h.getOwnSession(srv, s.client_secret), 401, 'session_expired');
    assert.match(e.message, new RegExp(s.id));
  });

  test('expires_after.seconds 1: gone after 1.5 s', T, async () => {
    const s = (await h.mintApi(srv, API_KEY, {
      user: 'u-exp1', workflow: { id: 'wf_tasks' }, expires_after: { anchor: 'created_at', seconds: 1 },
    })).json();
    await h.delay(1500);
    h.assertError(await h.getOwnSession(srv, s.client_secret), 401, 'session_expired');
  });

  test('--session-ttl 1s: browser sessions expire', T, async () => {
    const s = await h.startServer({ args: ['--session-ttl', '1s'] });
    servers.push(s);
    const b = (await mintOk(s)).json();
    assert.equal(b.expires_after.seconds, 1);
    await h.delay(Math.max(1500, b.expires_at * 1000 - Date.now() + 300));
    h.assertError(await h.getOwnSession(s, b.client_secret), 401, 'session_expired');
  });

  test('--trust-user-header X-User takes the user from the proxy', T, async () => {
    const s = await h.startServer({ args: ['--trust-user-header', 'X-User'] });
    servers.push(s);
    const r = await mintOk(s, { headers: { 'X-User': 'alice@example.com' } });
    assert.equal(h.uidCookie(r), undefined, 'no cookie with a trusted header');
    const own = await h.getOwnSession(s, r.json().client_secret);
    assert.equal(own.json().user, 'alice@example.com');
    // A cookie does not override the header.
    const r2 = await mintOk(s, { headers: { 'x-user': 'bob', Cookie: `chatkitd_uid=usr_${'a'.repeat(32)}` } });
    assert.equal((await h.getOwnSession(s, r2.json().client_secret)).json().user, 'bob');
    const e = h.assertError(await h.mintBrowser(s), 401, 'missing_user');
    assert.match(e.message, /X-User/);
    h.assertError(await h.mintBrowser(s, { headers: { Cookie: `chatkitd_uid=usr_${'a'.repeat(32)}` } }),
      401, 'missing_user');
    h.assertError(await h.mintBrowser(s, { headers: { 'X-User': 'x'.repeat(300) } }), 400, 'invalid_user');
  });

  test('--public-url https://… makes the cookie Secure', T, async () => {
    const s = await h.startServer({ args: ['--public-url', 'https://x.example'] });
    servers.push(s);
    const c = h.uidCookie(await mintOk(s));
    const attrs = c.raw.split(';').map((x) => x.trim().toLowerCase());
    assert.ok(attrs.includes('secure'), c.raw);
    assert.ok(attrs.includes('httponly'), c.raw);
    assert.ok(attrs.includes('samesite=lax'), c.raw);
  });

  test('--public-url http://… keeps the cookie plain', T, async () => {
    const s = await h.startServer({ args: ['--public-url', 'http://x.example'] });
    servers.push(s);
    const c = h.uidCookie(await mintOk(s));
    assert.ok(!c.raw.toLowerCase().split(';').map((x) => x.trim()).includes('secure'), c.raw);
  });

  test('without --api-key the /v1 routes do not exist', T, async () => {
    const s = await h.startServer();
    servers.push(s);
    const body = { user: 'u', workflow: { id: 'wf_tasks' } };
    h.assertError(await h.mintApi(s, API_KEY, body), 404, 'not_found');
    h.assertError(await h.request(s.url, 'POST', `/v1/chatkit/sessions/cksess_${'0'.repeat(32)}/cancel`,
      { headers: { Authorization: `Bearer ${API_KEY}` } }), 404, 'not_found');
    // The browser route still works.
    assert.equal((await h.mintBrowser(s)).status, 200);
  });

  test('sessions survive a restart on the same data dir', T, async () => {
    const a = await h.startServer();
    const b = (await mintOk(a)).json();
    assert.equal(await a.stop(), 0);
    const again = await h.startServer({ root: a.root, dataDir: a.dataDir });
    servers.push(again);
    const own = await h.getOwnSession(again, b.client_secret);
    assert.equal(own.status, 200, own.text);
    assert.equal(own.json().id, b.session_id);
  });
});
