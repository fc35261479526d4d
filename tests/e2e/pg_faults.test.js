'use strict';
// PostgreSQL restarted under load: the cluster is killed (immediate shutdown, like a crash) while
// 200 threads.create turns stream, and started again a moment later. While it is down, requests
// fail fast (503 store_unavailable before a stream, an `error` event inside one) and /health says
// the store is down; afterwards the pools reconnect by themselves and service resumes with no
// chatkitd restart. Every turn whose stream ended normally is stored whole (no lost committed
// turn) and every stored item is whole (no half-written item).
// The test runs its own cluster (scripts/pg-cluster), never the shared one of the suite, and only
// in the PostgreSQL pass (CHATKITD_E2E_DATABASE set).

const assert = require('node:assert/strict');
const { execFile, execFileSync } = require('node:child_process');
const http = require('node:http');
const path = require('node:path');
const { test, after } = require('node:test');
const h = require('./helpers');
const ck = require('./chatkit_client');

const TURNS = 200;
const USERS = 10;
const CLUSTER = path.join(h.REPO_ROOT, 'scripts', 'pg-cluster');
const skip = !h.PG_BASE && 'needs CHATKITD_E2E_DATABASE (PostgreSQL)';

const servers = [];
let clusterDir = null;
after(async () => {
  await h.stopAll(servers);
  if (clusterDir) execFileSync(CLUSTER, ['stop', clusterDir]);
});

function cluster(...args) {
  return execFileSync(CLUSTER, args, { encoding: 'utf8', timeout: 60000 }).trim();
}

// One turn; the record says whether the body completed and what arrived.
function startTurn(srv, user, n) {
  const text = `add fault task ${n} tomorrow`;
  const rec = { n, text, finished: false, status: 0, body: '' };
  const payload = JSON.stringify({ type: 'threads.create', params: { input: ck.input(text) } });
  rec.settled = new Promise((resolve) => {
    const req = http.request({
      host: '127.0.0.1', port: srv.port, path: '/chatkit', method: 'POST', agent: false,
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${user.secret}` },
    }, (res) => {
      rec.status = res.statusCode;
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('close', () => {
        rec.body = Buffer.concat(chunks).toString('utf8');
        rec.finished = res.complete;
        if (rec.onSettled) rec.onSettled(rec);
        resolve();
      });
    });
    req.on('error', () => resolve());
    req.end(payload);
  });
  return rec;
}

test('PostgreSQL killed and restarted during 200 concurrent turns', { skip, timeout: 120000 }, async () => {
  clusterDir = h.mkTmp('chatkitd-pgfault-');
  const port = await h.freePort();
  const base = cluster('start', clusterDir, String(port));
  h.psql(`${base}postgres`, 'CREATE DATABASE faults');
  const srv = await h.startServer({
    args: ['--database', `${base}faults`, '--session-rate', '100000', '--access-log', 'off'],
  });
  servers.push(srv);
  const users = [];
  for (let u = 0; u < USERS; u++) users.push(await ck.session(srv));

  // 200 turns stream at any moment: each of TURNS slots starts its next turn when the last one
  // ended, until the cluster is down (a slot also stops at its first failed turn). The kill
  // comes once a random 100-400 turns have finished, and does not block this process: the other
  // turns go on while the cluster dies.
  const killAt = 100 + Math.floor(Math.random() * 301);
  let settled = 0;
  let killed = null;
  let down = false;
  const recs = [];
  const slot = async (s) => {
    for (let k = 0; !down; k++) {
      const rec = startTurn(srv, users[s % USERS], s * 1000 + k);
      recs.push(rec);
      rec.onSettled = () => {
        settled++;
        if (settled === killAt) {
          killed = new Promise((resolve, reject) => execFile(CLUSTER, ['kill', clusterDir],
            (e) => (e ? reject(e) : resolve()))).finally(() => { down = true; });
        }
      };
      await rec.settled;
      if (rec.status !== 200 || !rec.finished || /"type":"error"/.test(rec.body)) break;
    }
  };
  const slots = [];
  for (let s = 0; s < TURNS; s++) slots.push(slot(s));
  await h.withTimeout(Promise.all(slots), 60000, 'every slot to stop');
  if (killed) await killed;
  else cluster('kill', clusterDir);

  // Down: /health says so, a new turn fails fast with 503 store_unavailable or an error event.
  const health = await h.get(srv, '/health');
  assert.equal(health.status, 503, health.text);
  assert.notEqual(health.json().store, 'ok');
  const t0 = Date.now();
  const during = await ck.post(srv, users[0], { type: 'threads.create', params: { input: ck.input('hello') } });
  const tookMs = Date.now() - t0;
  assert.ok(tookMs < 2000, `a request during the outage took ${tookMs} ms`);
  if (during.status === 200) {
    const events = ck.parseSSE(during.buf);
    assert.ok(events.some((e) => e.type === 'error'), `an error event: ${during.text.slice(0, 300)}`);
  } else {
    assert.equal(during.status, 503, during.text);
    assert.equal(JSON.parse(during.text).error.code, 'store_unavailable');
  }

  // Back: no chatkitd restart, the pool reconnects on its own.
  cluster('restart', clusterDir);
  await h.waitUntil(async () => (await h.get(srv, '/health')).status === 200,
    { timeout: 20000, interval: 100, what: '/health to recover' });
  const again = await ck.create(srv, users[1], 'add a task after the restart');
  assert.ok(again.threadId);
  // The coordination connection (LISTEN, thread locks) came back too: a turn on an existing
  // thread needs its lock.
  await h.waitUntil(() => /replica coordination connection restored/.test(srv.stderrText()),
    { timeout: 20000, interval: 100, what: 'the coordination connection to come back' });
  const next = await ck.say(srv, users[1], again.threadId, 'show my tasks');
  assert.ok(!next.some((e) => e.type === 'error'), JSON.stringify(next).slice(0, 300));
  assert.match(ck.answerText(next), /task/);
  assert.equal(srv.proc.exitCode, null, 'chatkitd never exited');

  // Turns outside the outage answered 200 streams; the others 503 or an error event.
  let errored = 0;
  for (const r of recs) {
    if (!r.status) continue;
    if (r.status === 503) {
      assert.equal(JSON.parse(r.body).error.code, 'store_unavailable', r.body);
      errored++;
      continue;
    }
    assert.equal(r.status, 200, `turn ${r.n}: ${r.status} ${r.body.slice(0, 300)}`);
    r.events = r.finished ? ck.parseSSE(Buffer.from(r.body, 'utf8')) : [];
    if (r.events.some((e) => e.type === 'error')) errored++;
  }
  // No lost committed turn: each stream that ended with its three items is stored whole.
  const rows = h.sql(srv, 'SELECT id, thread_id, user_id, type, hidden, json FROM items');
  const byId = new Map(rows.map((row) => [row.id, row]));
  let whole = 0;
  for (const r of recs) {
    if (!r.events || r.events.some((e) => e.type === 'error')) continue;
    const done = ck.doneItems(r.events);
    if (done.map((i) => i.type).join(',') !== 'user_message,assistant_message,widget') continue;
    whole++;
    for (const item of done) {
      const row = byId.get(item.id);
      assert.ok(row, `turn ${r.n}: item ${item.id} (${item.type}) was streamed but is not stored`);
      assert.deepEqual(JSON.parse(row.json), item, `turn ${r.n}: stored ${item.type} differs`);
    }
  }
  // No half-written item: every row parses and names itself and its thread.
  for (const row of rows) {
    const item = JSON.parse(row.json);
    assert.equal(item.id, row.id);
    assert.equal(item.thread_id, row.thread_id);
    assert.equal(item.type, row.type);
  }
  console.log(`pg restart: kill after ${killAt} settled; ${whole} whole turns, ${errored} failed fast, ${rows.length} items stored`);
  assert.ok(whole >= 1, 'some turns completed before the kill');
});
