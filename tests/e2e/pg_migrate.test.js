'use strict';
// `chatkitd migrate --from sqlite:PATH --to postgres://...`: everything a user had on SQLite is
// there, unchanged, on PostgreSQL; a second copy changes nothing; passwords are never printed.
// Needs a PostgreSQL cluster (CHATKITD_E2E_DATABASE, set by scripts/test for its PostgreSQL pass).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const h = require('./helpers');
const ck = require('./chatkit_client');

const T = { timeout: 60000, skip: !h.PG_BASE && 'needs CHATKITD_E2E_DATABASE (PostgreSQL)' };

test('a SQLite database copied to PostgreSQL serves the same threads, items, tasks and sessions', T, async () => {
  const root = h.mkTmp();
  const dataDir = path.join(root, 'data');
  const lite = await h.startServer({ root, dataDir, database: false, args: ['--session-rate', '100000'] });
  const user = await ck.session(lite);
  const first = await ck.create(lite, user, 'add a task to buy milk tomorrow');
  await ck.say(lite, user, first.threadId, 'show my tasks');
  const second = await ck.create(lite, user, 'hello');
  await ck.createTask(lite, user, { title: 'Call the bank', tags: ['home'], priority: 'high' });
  const itemsBefore = await ck.allItems(lite, user, first.threadId);
  const threadsBefore = (await ck.listThreads(lite, user, { limit: 10 })).data.map((t) => t.id);
  const tasksBefore = await ck.tasks(lite, user);
  assert.equal((await lite.stop()), 0);

  const target = h.databaseFor(path.join(root, 'pg'));
  const from = `sqlite:${path.join(dataDir, 'chatkitd.db')}`;
  const r1 = await h.runCli(['migrate', '--from', from, '--to', target], { timeout: 60000 });
  assert.equal(r1.code, 0, r1.stderr + r1.stdout);
  assert.match(r1.stdout, /threads +2 rows in source, 2 copied, 2 in target/);
  assert.match(r1.stdout, /tasks +2 rows in source, 2 copied, 2 in target/);
  assert.match(r1.stdout, /counts verified/);
  assert.match(r1.stdout, /postgres:\/\/chatkitd:\*\*\*@/, 'the target is shown redacted');
  assert.doesNotMatch(r1.stdout + r1.stderr, /chatkitd-test/, 'the password is never printed');

  // Idempotent: nothing new the second time, counts still verified.
  const r2 = await h.runCli(['migrate', '--from', from, '--to', target], { timeout: 60000 });
  assert.equal(r2.code, 0, r2.stderr + r2.stdout);
  assert.match(r2.stdout, /items +\d+ rows in source, 0 copied/);
  assert.match(r2.stdout, /counts verified/);

  const pg = await h.startServer({ root, dataDir, args: ['--database', target, '--session-rate', '100000'] });
  try {
    // The session minted on SQLite still works: sessions were copied with their secret hashes.
    assert.deepEqual((await ck.listThreads(pg, user, { limit: 10 })).data.map((t) => t.id), threadsBefore);
    assert.deepEqual(await ck.allItems(pg, user, first.threadId), itemsBefore);
    assert.deepEqual(await ck.tasks(pg, user), tasksBefore);
    assert.match(pg.stderrText(), /postgres:\/\/chatkitd:\*\*\*@/, 'the startup log is redacted');
    assert.doesNotMatch(pg.stderrText() + pg.stdoutText(), /chatkitd-test/);
    // New rows order after the copied ones (the sequences moved past them).
    const before = await ck.allItems(pg, user, second.threadId);
    await ck.say(pg, user, second.threadId, 'what are my tasks');
    const items = await ck.allItems(pg, user, second.threadId);
    assert.deepEqual(items.slice(0, before.length), before);
    assert.equal(items[before.length].content[0].text, 'what are my tasks');
    const third = await ck.create(pg, user, 'a new thread');
    assert.equal((await ck.listThreads(pg, user, { limit: 10, order: 'desc' })).data[0].id, third.threadId);
  } finally {
    assert.equal(await pg.stop(), 0);
  }
});

test('DATABASE_URL selects PostgreSQL; logs show the URL with its password redacted', T, async () => {
  const root = h.mkTmp();
  const url = h.databaseFor(path.join(root, 'env'));
  const srv = await h.startServer({ root, database: false, env: { DATABASE_URL: url } });
  try {
    const user = await ck.session(srv);
    await ck.create(srv, user, 'hello');
    assert.equal(h.sql({ database: url }, 'SELECT count(*) AS n FROM threads')[0].n, 1);
    assert.match(srv.stderrText(), /store postgres at postgres:\/\/chatkitd:\*\*\*@127\.0\.0\.1:\d+\/e2e_/);
    assert.doesNotMatch(srv.stderrText() + srv.stdoutText(), /chatkitd-test/);
  } finally {
    assert.equal(await srv.stop(), 0);
  }
});

test('migrate --from needs --to, and refuses other kinds of databases', T, async () => {
  const r = await h.runCli(['migrate', '--from', 'sqlite:/nonexistent/x.db']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--from and --to go together/);
  const r2 = await h.runCli(['migrate', '--from', 'sqlite:/nonexistent/x.db', '--to', `${h.PG_BASE}postgres`]);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /does not exist/);
  assert.doesNotMatch(r2.stderr, /chatkitd-test/);
});
