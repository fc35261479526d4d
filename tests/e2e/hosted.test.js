'use strict';
// Hosted mode (--sessions-upstream openai): POST /api/chatkit/sessions is proxied to the fake
// upstream's /v1/chatkit/sessions; upstream errors pass through with their status class and
// message; a missing key or workflow id stops the server at start.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const h = require('./helpers');
const { startFake } = require('../fakes/fake_upstream');

const T = { timeout: 30000 };
let fake;
let srv;
const servers = [];

function hostedEnv(extra = {}) {
  return {
    OPENAI_API_KEY: 'sk-hosted-fake-789',
    OPENAI_BASE_URL: fake.url,
    CHATKIT_WORKFLOW_ID: 'wf_68df4b13b3588190a09d19288d4610ec',
    ...extra,
  };
}

before(async () => {
  fake = await startFake();
  srv = await h.startServer({
    args: ['--sessions-upstream', 'openai', '--chatkit-script-url', 'https://cdn.example.com/chatkit.js'],
    env: hostedEnv(),
  });
  servers.push(srv);
});

after(async () => {
  await h.stopAll(servers);
  await fake.close();
});

describe('hosted sessions', () => {
  test('a session is minted upstream with the beta header, the key, the workflow and the user', T, async () => {
    const r = await h.request(srv.url, 'POST', '/api/chatkit/sessions', { body: {} });
    assert.equal(r.status, 200, r.text);
    const b = r.json();
    assert.match(b.client_secret, /^ek_/);
    assert.match(b.session_id, /^cksess_/);
    const up = fake.requests.at(-1);
    assert.equal(up.path, '/v1/chatkit/sessions');
    assert.equal(up.headers['openai-beta'], 'chatkit_beta=v1');
    assert.equal(up.headers.authorization, 'Bearer sk-hosted-fake-789');
    assert.equal(up.json.workflow.id, 'wf_68df4b13b3588190a09d19288d4610ec');
    const cookie = /chatkitd_uid=([^;]+)/.exec(String(r.headers['set-cookie']))[1];
    assert.equal(up.json.user, cookie);
    // the same browser keeps its user
    await h.request(srv.url, 'POST', '/api/chatkit/sessions', { body: {}, headers: { Cookie: `chatkitd_uid=${cookie}` } });
    assert.equal(fake.requests.at(-1).json.user, cookie);
  });

  test('upstream 4xx and 5xx are passed on with their message', T, async () => {
    fake.push({ status: 400, message: "Workflow with id 'wf_x' not found." });
    let r = await h.request(srv.url, 'POST', '/api/chatkit/sessions', { body: {} });
    assert.equal(r.status, 400);
    assert.equal(r.json().error.message, "Workflow with id 'wf_x' not found.");
    fake.push({ status: 503, message: 'The engine is currently overloaded' });
    r = await h.request(srv.url, 'POST', '/api/chatkit/sessions', { body: {} });
    assert.equal(r.status, 503);
    assert.equal(r.json().error.message, 'The engine is currently overloaded');
  });

  test('the chat page runs the official ChatKit script: /ui/config.json says so and the CSP allows that one origin', T, async () => {
    const cfg = await h.request(srv.url, 'GET', '/ui/config.json');
    assert.equal(cfg.status, 200);
    assert.deepEqual(cfg.json(), { hosted: true, chatkit_script_url: 'https://cdn.example.com/chatkit.js' });
    const page = await h.request(srv.url, 'GET', '/');
    assert.equal(page.status, 200);
    assert.match(page.headers['content-security-policy'], /^default-src 'self' https:\/\/cdn\.example\.com(;|$)/);
  });
});

describe('hosted mode start-up errors', () => {
  test('missing key', T, async () => {
    const r = await h.runCli(['serve', '--listen', '127.0.0.1:0', '--sessions-upstream', 'openai', '--data-dir', path.join(h.mkTmp(), 'd')],
      { env: hostedEnv({ OPENAI_API_KEY: undefined }) });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /needs OPENAI_API_KEY/);
  });

  test('missing workflow id', T, async () => {
    const r = await h.runCli(['serve', '--listen', '127.0.0.1:0', '--sessions-upstream', 'openai', '--data-dir', path.join(h.mkTmp(), 'd')],
      { env: hostedEnv({ CHATKIT_WORKFLOW_ID: undefined }) });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /needs CHATKIT_WORKFLOW_ID/);
  });
});
