'use strict';
// The command line: --version, help, migrate, and configuration from flags, environment, ./.env
// and a config file (precedence: flags > environment and .env > config file > defaults; every
// source given is validated, even when a higher one overrides it; see src/config.c).

const { describe, test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./helpers');

const T = { timeout: 20000 };
const servers = [];
after(() => h.stopAll(servers));

// Runs `chatkitd serve ...` expecting a usage error: exit 2, nothing on stdout, and a message
// that matches each of res.
async function usageError(args, { env, cwd } = {}, ...res) {
  const r = await h.runCli(['serve', ...args], { env, cwd });
  assert.equal(r.code, 2, `exit code for ${args.join(' ')} ${JSON.stringify(env || {})}: ${r.stderr}`);
  assert.equal(r.stdout, '', 'nothing on stdout');
  for (const re of res) assert.match(r.stderr, re);
  return r;
}

async function serve(opts) {
  const s = await h.startServer(opts);
  servers.push(s);
  return s;
}

// The per-minute rate a browser-minted session gets (shows --session-rate).
async function browserRate(s) {
  const m = await h.mintBrowser(s);
  assert.equal(m.status, 200, m.text);
  return (await h.getOwnSession(s, m.json().client_secret)).json().max_requests_per_1_minute;
}

function writeFile(dir, name, text) {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

describe('informational commands', () => {
  test('--version prints the version and exits 0', T, async () => {
    const r = await h.runCli(['--version']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^chatkitd \d+\.\d+\.\d+\S*\n$/);
    assert.equal(r.stderr, '');
    const r2 = await h.runCli(['serve', '--version']);
    assert.equal(r2.stdout, r.stdout);
  });

  test('serve --help lists every flag with its environment twin', T, async () => {
    const r = await h.runCli(['serve', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^usage: chatkitd serve/);
    for (const f of ['--listen', '--data-dir', '--max-body-bytes', '--max-header-bytes', '--max-connections',
      '--header-timeout', '--idle-timeout', '--drain-timeout', '--session-ttl', '--session-rate',
      '--api-key', '--trust-user-header', '--public-url', '--log-format', '--access-log', '--config']) {
      assert.ok(r.stdout.includes(f), `help mentions ${f}`);
    }
    assert.match(r.stdout, /CHATKITD_LISTEN/);
    assert.match(r.stdout, /CHATKIT_WORKFLOW_ID/);
    assert.match(r.stdout, /OPENAI_API_KEY/);
    assert.match(r.stdout, /Precedence: flags > environment/);
  });

  test('migrate --help lists only what migrate reads', T, async () => {
    const r = await h.runCli(['migrate', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^usage: chatkitd migrate/);
    assert.match(r.stdout, /--data-dir/);
    assert.match(r.stdout, /--database/);
    assert.doesNotMatch(r.stdout, /--listen/);
    assert.doesNotMatch(r.stdout, /--max-body-bytes/);
  });

  test('no command: usage on stderr, exit 2', T, async () => {
    const r = await h.runCli([]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /usage: chatkitd serve/);
    assert.match(r.stderr, /missing command/);
    const r2 = await h.runCli(['frobnicate']);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /unknown command 'frobnicate'/);
    const r3 = await h.runCli(['serve', 'extra']);
    assert.equal(r3.code, 2);
    assert.match(r3.stderr, /unexpected argument 'extra'/);
  });
});

describe('migrate', () => {
  test('applies migrations once, then reports 0', T, async () => {
    const d = path.join(h.mkTmp(), 'nested', 'data');
    // On PostgreSQL, the database serve() will use for d (see helpers.js).
    const db = h.databaseFor(d);
    const dbArgs = db ? ['--database', db] : [];
    const r1 = await h.runCli(['migrate', '--data-dir', d, ...dbArgs]);
    assert.equal(r1.code, 0, r1.stderr);
    const m1 = /^chatkitd: database up to date \((\d+) migrations? applied\)\n$/.exec(r1.stdout);
    assert.ok(m1, r1.stdout);
    assert.ok(Number(m1[1]) >= 1, 'a fresh database gets at least one migration');
    if (!db) assert.ok(fs.existsSync(path.join(d, 'chatkitd.db')));
    const r2 = await h.runCli(['migrate', '--data-dir', d, ...dbArgs]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(r2.stdout, 'chatkitd: database up to date (0 migrations applied)\n');
    // serve on the migrated directory applies nothing more.
    const s = await serve({ dataDir: d });
    assert.doesNotMatch(s.stderrText(), /applied migration/);
    assert.equal((await h.get(s, '/health')).status, 200);
  });

  test('migrate ignores serve-only settings, and a fresh serve migrates by itself', T, async () => {
    const root = h.mkTmp();
    const r = await h.runCli(['migrate', '--data-dir', path.join(root, 'd')],
      { env: { CHATKITD_LISTEN: '127.0.0.1:0' } });
    assert.equal(r.code, 0, r.stderr);
    const s = await serve();
    assert.match(s.stderrText(), /applied migration 1/);
  });
});

describe('bad values exit 2 naming the flag or variable', () => {
  test('flags', T, async () => {
    await usageError(['--max-body-bytes', '12XB'], {}, /--max-body-bytes/, /12XB/);
    await usageError(['--max-body-bytes=12XB'], {}, /--max-body-bytes/);
    await usageError(['--max-body-bytes', '10'], {}, /--max-body-bytes/, /between 1024/);
    await usageError(['--listen', 'nope'], {}, /--listen/, /HOST:PORT/);
    await usageError(['--listen', '127.0.0.1:70000'], {}, /--listen/);
    await usageError(['--header-timeout', 'soon'], {}, /--header-timeout/);
    await usageError(['--session-ttl', '1500ms'], {}, /--session-ttl/);
    await usageError(['--max-connections', '0'], {}, /--max-connections/);
    await usageError(['--session-rate', '-1'], {}, /--session-rate/);
    await usageError(['--log-level', 'loud'], {}, /--log-level/);
    await usageError(['--log-format', 'xml'], {}, /--log-format/);
    await usageError(['--access-log', 'maybe'], {}, /--access-log/);
    await usageError(['--api-key', 'short'], {}, /--api-key/, /16/);
    await usageError(['--public-url', 'ftp://x.example'], {}, /--public-url/);
    await usageError(['--trust-user-header', 'X User'], {}, /--trust-user-header/);
    await usageError(['--workflow-id', 'a b'], {}, /--workflow-id/);
    await usageError(['--data-dir', ''], {}, /--data-dir/);
  });

  test('unknown flag and missing value', T, async () => {
    await usageError(['--frobnicate', '1'], {}, /unknown flag '--frobnicate'/);
    await usageError(['--listen'], {}, /--listen: missing value/);
  });

  test('environment variables', T, async () => {
    await usageError([], { env: { CHATKITD_LISTEN: 'nope' } }, /CHATKITD_LISTEN/, /nope/);
    await usageError([], { env: { CHATKITD_MAX_BODY_BYTES: '12XB' } }, /CHATKITD_MAX_BODY_BYTES/);
    await usageError([], { env: { CHATKITD_ACCESS_LOG: 'sometimes' } }, /CHATKITD_ACCESS_LOG/);
    await usageError([], { env: { CHATKITD_API_KEY: 'short' } }, /CHATKITD_API_KEY/);
  });

  test('config file errors name file:line', T, async () => {
    const dir = h.mkTmp();
    const bad = writeFile(dir, 'bad.conf', '# comment\nlisten = 127.0.0.1:0\nmax-body-bytes = lots\n');
    await usageError(['--config', bad], {}, new RegExp(`${bad.replace(/[.]/g, '\\.')}:3:`), /max-body-bytes/, /lots/);
    const unknown = writeFile(dir, 'unknown.conf', 'bogus = 1\n');
    await usageError(['--config', unknown], {}, /unknown\.conf:1: unknown setting 'bogus'/);
    const noeq = writeFile(dir, 'noeq.conf', '\n\nlisten 127.0.0.1:0\n');
    await usageError(['--config', noeq], {}, /noeq\.conf:3: expected key = value/);
    await usageError(['--config', path.join(dir, 'missing.conf')], {}, /--config: cannot read/);
    // The path can come from CHATKITD_CONFIG too.
    await usageError([], { env: { CHATKITD_CONFIG: bad } }, /bad\.conf:3:/);
  });

  test('a value is validated even when a higher source overrides it', T, async () => {
    const dir = h.mkTmp();
    const bad = writeFile(dir, 'c.conf', 'max-body-bytes = lots\n');
    await usageError(['--config', bad, '--max-body-bytes', '4096'],
      { env: { CHATKITD_MAX_BODY_BYTES: '4096' } }, /c\.conf:1:/);
    await usageError(['--max-body-bytes', '4096'], { env: { CHATKITD_MAX_BODY_BYTES: 'lots' } },
      /CHATKITD_MAX_BODY_BYTES/);
  });

  test('a data dir that cannot be created: exit 1', T, async () => {
    const dir = h.mkTmp();
    const file = writeFile(dir, 'f', 'x');
    const r = await h.runCli(['serve', '--listen', '127.0.0.1:0', '--data-dir', path.join(file, 'sub')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--data-dir/);
  });

  test('a port already in use: exit 1 naming --listen', T, async () => {
    const s = await serve();
    const r = await h.runCli(['serve', '--listen', `127.0.0.1:${s.port}`, '--data-dir', path.join(h.mkTmp(), 'd')]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`--listen 127\\.0\\.0\\.1:${s.port}`));
    assert.equal(r.stdout, '', 'no listening line');
  });
});

describe('precedence: flags > environment > config file > defaults', { concurrency: true }, () => {
  test('listen from the config file, the environment, then a flag', T, async () => {
    const [p1, p2, p3] = [await h.freePort(), await h.freePort(), await h.freePort()];
    const dir = h.mkTmp();
    const conf = writeFile(dir, 'c.conf', `listen = "127.0.0.1:${p1}"\n`);
    const a = await serve({ listen: false, args: ['--config', conf] });
    assert.equal(a.port, p1, 'config file beats the default');
    await a.stop();
    const b = await serve({ listen: false, args: ['--config', conf], env: { CHATKITD_LISTEN: `127.0.0.1:${p2}` } });
    assert.equal(b.port, p2, 'environment beats the config file');
    await b.stop();
    const c = await serve({ listen: false, args: ['--config', conf, '--listen', `127.0.0.1:${p3}`],
      env: { CHATKITD_LISTEN: `127.0.0.1:${p2}` } });
    assert.equal(c.port, p3, 'a flag beats both');
  });

  test('defaults apply when nothing is set', T, async () => {
    const s = await serve();
    assert.equal(await browserRate(s), 120);
    assert.equal((await h.mintBrowser(s)).json().expires_after.seconds, 600);
  });

  test('the last of a repeated flag wins', T, async () => {
    const s = await serve({ args: ['--session-rate', '5', '--session-rate=6'] });
    assert.equal(await browserRate(s), 6);
  });

  test('./.env is read; the real environment and flags override it; it beats the config file', T, async () => {
    const root = h.mkTmp();
    writeFile(root, '.env', '# seed template\nexport CHATKITD_SESSION_RATE="7"\nCHATKITD_SESSION_TTL=\'123s\'\nOPENAI_API_KEY=\n');
    const conf = writeFile(root, 'c.conf', 'session-rate = 3\nsession-ttl = 45s\n');
    const a = await serve({ root });
    assert.equal(await browserRate(a), 7, '.env applies');
    assert.equal((await h.mintBrowser(a)).json().expires_after.seconds, 123, 'quotes are stripped');
    const b = await serve({ root, env: { CHATKITD_SESSION_RATE: '9' } });
    assert.equal(await browserRate(b), 9, 'the real environment beats .env');
    const c = await serve({ root, args: ['--session-rate', '11'] });
    assert.equal(await browserRate(c), 11, 'a flag beats .env');
    const d = await serve({ root, args: ['--config', conf] });
    assert.equal(await browserRate(d), 7, '.env beats the config file');
    assert.equal((await h.mintBrowser(d)).json().expires_after.seconds, 123);
    // Without .env, the config file value shows.
    const other = h.mkTmp();
    const e = await serve({ root: other, args: ['--config', conf] });
    assert.equal(await browserRate(e), 3);
  });

  test('a bad ./.env line exits 2 naming .env:line', T, async () => {
    const root = h.mkTmp();
    writeFile(root, '.env', 'CHATKITD_SESSION_RATE=5\nthis is not an assignment\n');
    await usageError(['--listen', '127.0.0.1:0'], { cwd: root }, /\.env:2: expected NAME=value/);
    const root2 = h.mkTmp();
    writeFile(root2, '.env', 'CHATKITD_SESSION_RATE=lots\n');
    await usageError(['--listen', '127.0.0.1:0'], { cwd: root2 }, /CHATKITD_SESSION_RATE/);
  });
});

describe('seed variables', { concurrency: true }, () => {
  test('CHATKIT_WORKFLOW_ID=unknown exits 2 naming it', T, async () => {
    await usageError(['--listen', '127.0.0.1:0', '--data-dir', path.join(h.mkTmp(), 'd')],
      { env: { CHATKIT_WORKFLOW_ID: 'unknown' } }, /CHATKIT_WORKFLOW_ID/, /unknown/);
    await usageError([], { env: { CHATKIT_WORKFLOW_ID: 'bad id!' } }, /CHATKIT_WORKFLOW_ID/);
    await usageError(['--workflow-id', 'wf_other', '--data-dir', path.join(h.mkTmp(), 'd')], {}, /--workflow-id/, /wf_other/);
  });

  test('CHATKIT_WORKFLOW_ID=wf_tasks is accepted; CHATKITD_WORKFLOW_ID wins over it', T, async () => {
    const s = await serve({ env: { CHATKIT_WORKFLOW_ID: 'wf_tasks' } });
    await h.waitUntil(() => /default workflow wf_tasks/.test(s.stderrText()), { what: 'the startup log line' });
    const s2 = await serve({ env: { CHATKITD_WORKFLOW_ID: 'wf_tasks', CHATKIT_WORKFLOW_ID: 'unknown' } });
    assert.equal((await h.mintBrowser(s2)).status, 200);
  });

  test('OPENAI_API_KEY is accepted and never logged', T, async () => {
    const key = 'sk-test-0123456789abcdefghijklmnop';
    const s = await serve({ env: { OPENAI_API_KEY: key } });
    assert.equal((await h.get(s, '/health')).status, 200);
    await h.mintBrowser(s);
    await h.delay(100);
    assert.ok(!s.stderrText().includes(key), 'the OpenAI key leaked into the log');
    assert.ok(!s.stdoutText().includes(key));
    // Empty (a template .env) means unset; a short one is refused, by name.
    await serve({ env: { OPENAI_API_KEY: '' } });
    await usageError([], { env: { OPENAI_API_KEY: 'short' } }, /OPENAI_API_KEY/);
    await usageError([], { env: { OPENAI_BASE_URL: 'not a url' } }, /OPENAI_BASE_URL/);
  });
});
