'use strict';
// Three chatkitd replicas over one PostgreSQL database, as behind a load balancer: a session
// minted on one works on the others, a thread started on one continues on another, a task change
// made through one reaches the /api/events feeds held on every other one, two turns on one thread
// arriving at two replicas run one after the other, and a session's rate limit holds across all
// of them. Needs CHATKITD_E2E_DATABASE (scripts/test sets it for its PostgreSQL pass).

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const h = require('./helpers');
const ck = require('./chatkit_client');

const skip = !h.PG_BASE && 'needs CHATKITD_E2E_DATABASE (PostgreSQL)';
const T = { timeout: 60000 };
const servers = [];
let a;
let b;
let c;

describe('three replicas over one PostgreSQL database', { skip }, () => {
  before(async () => {
    const root = h.mkTmp();
    const database = h.databaseFor(path.join(root, 'shared'));
    const start = (name) => h.startServer({
      root, dataDir: path.join(root, name), args: ['--database', database, '--session-rate', '100000'],
    });
    a = await start('a');
    b = await start('b');
    c = await start('c');
    servers.push(a, b, c);
    // Each replica's coordination connection (LISTEN) comes up in the background.
    await h.delay(300);
  });
  after(() => h.stopAll(servers));

  test('a session minted on one replica works on the others; a thread continues anywhere', T, async () => {
    const user = await ck.session(a);
    const { threadId } = await ck.create(a, user, 'add a task to water the plants');
    await ck.say(b, user, threadId, 'show my tasks');
    await ck.say(c, user, threadId, 'hello again');
    const items = await ck.allItems(a, user, threadId);
    const texts = items.filter((i) => i.type === 'user_message').map((i) => i.content[0].text);
    assert.deepEqual(texts, ['add a task to water the plants', 'show my tasks', 'hello again']);
    assert.deepEqual(await ck.allItems(b, user, threadId), items);
    assert.deepEqual((await ck.listThreads(c, user, { limit: 5 })).data.map((t) => t.id), [threadId]);
    const tasks = await ck.tasks(c, user);
    assert.equal(tasks.length, 1);
    assert.match(tasks[0].title, /water the plants/i);
  });

  test('a task change through one replica reaches feeds on every other (p99 <= 100 ms)', T, async () => {
    const user = await ck.session(a);
    const feedA = await h.openFeed(a, user);
    const feedB = await h.openFeed(b, user);
    assert.equal(feedA.status, 200);
    assert.equal(feedB.status, 200);
    const other = await ck.session(a); // another user's feed on b gets nothing
    const feedOther = await h.openFeed(b, other);
    const lat = [];
    const N = 40;
    for (let i = 0; i < N; i++) {
      const t0 = process.hrtime.bigint();
      const task = await ck.createTask(c, user, { title: `relay ${i}` });
      const seen = (f) => f.events.some((e) => e.type === 'task.created' && e.task.id === task.id);
      await Promise.all([feedA.waitFor(seen, 5000, `task ${i} on a`), feedB.waitFor(seen, 5000, `task ${i} on b`)]);
      lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    // The event is the one c's own feeds would get, byte for byte in meaning.
    const onA = feedA.events.find((e) => e.type === 'task.created' && e.task.title === 'relay 0');
    const onB = feedB.events.find((e) => e.type === 'task.created' && e.task.title === 'relay 0');
    assert.deepEqual(onA, onB);
    assert.equal(feedA.events.filter((e) => e.type === 'task.created').length, N, 'exactly once each');
    assert.equal(feedOther.events.length, 0);
    lat.sort((x, y) => x - y);
    const p99 = lat[Math.min(lat.length - 1, Math.ceil(lat.length * 0.99) - 1)];
    console.log(`cross-replica task event: p50 ${lat[lat.length >> 1].toFixed(1)} ms, p99 ${p99.toFixed(1)} ms (create on c -> feeds on a and b)`);
    assert.ok(p99 <= 100, `p99 ${p99} ms`);
    feedA.close();
    feedB.close();
    feedOther.close();
  });

  test('two turns on one thread at two replicas never interleave', T, async () => {
    const user = await ck.session(a);
    const { threadId } = await ck.create(a, user, 'hello');
    for (let round = 0; round < 5; round++) {
      const before = (await ck.allItems(a, user, threadId)).length;
      const words = [`alpha${round}`, `beta${round}`];
      await Promise.all([
        ck.say(a, user, threadId, `add a task ${words[0]}`),
        ck.say(b, user, threadId, `add a task ${words[1]}`),
      ]);
      const items = (await ck.allItems(c, user, threadId)).slice(before);
      // Each turn's items are contiguous: a user message, then only items that answer it.
      const firstWord = items[0].content[0].text.endsWith(words[0]) ? words[0] : words[1];
      const second = items.findIndex((it, i) => i > 0 && it.type === 'user_message');
      assert.ok(second > 1, JSON.stringify(items.map((i) => i.type)));
      for (const it of items.slice(1, second)) {
        assert.notEqual(it.type, 'user_message');
        assert.doesNotMatch(JSON.stringify(it), new RegExp(firstWord === words[0] ? words[1] : words[0]),
          'an item of the other turn inside this one');
      }
      for (const it of items.slice(second + 1)) assert.notEqual(it.type, 'user_message');
      // And in time: the second turn's items all come after the first turn's.
      const t = items.map((it) => Date.parse(it.created_at));
      assert.ok(Math.min(...t.slice(second)) >= Math.max(...t.slice(0, second)), 'ordered in time');
    }
  });

  test('a session rate limit holds across replicas', T, async () => {
    const root = h.mkTmp();
    const database = h.databaseFor(path.join(root, 'limited'));
    const args = ['--database', database, '--session-rate', '6'];
    const r1 = await h.startServer({ root, dataDir: path.join(root, 'r1'), args });
    const r2 = await h.startServer({ root, dataDir: path.join(root, 'r2'), args });
    const r3 = await h.startServer({ root, dataDir: path.join(root, 'r3'), args });
    servers.push(r1, r2, r3);
    const user = await ck.session(r1);
    const all = [r1, r2, r3];
    for (let i = 0; i < 6; i++) {
      const r = await ck.post(all[i % 3], user, { type: 'threads.list', params: { limit: 1 } });
      assert.equal(r.status, 200, `request ${i} on replica ${i % 3}: ${r.text}`);
    }
    for (const s of all) {
      const r = await ck.post(s, user, { type: 'threads.list', params: { limit: 1 } });
      assert.equal(r.status, 429, r.text);
      assert.ok(Number(r.headers['retry-after']) >= 1);
      assert.equal(JSON.parse(r.text).error.code, 'rate_limited');
    }
  });
});
