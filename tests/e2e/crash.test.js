'use strict';
// Crash test (issue 3, item 9): SIGKILL the server while 200 threads.create turns stream, start it
// again on the same data dir, and check what survived:
//   - `PRAGMA integrity_check` answers ok (sqlite3 CLI);
//   - every turn whose stream had ended normally (the chunked body completed) is stored whole:
//     the thread with its title, and its user message, assistant answer and task card exactly as
//     streamed, and the task the turn created;
//   - nothing half-written is visible: every items row parses as JSON with the fields of its type,
//     a thread shows a prefix of [user message, answer, card] and nothing else, an answer shows
//     the complete text (the one streamed, or the one the agent always gives for that request),
//     and every card names a task that exists.
// Each turn is "add crash task N tomorrow": the built-in agent creates a task and streams
// "Added **crash task N** (due …)." plus a task card. The kill comes once a random 50-100 of the
// streams have been read to their end; the server is ahead of the client, so in about half of
// the runs it has already stored every turn, and in the others it dies with turns half done
// (the closing "# crash:" line says how many items were stored). The whole test takes about 1 s.

const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const http = require('node:http');
const path = require('node:path');
const { test, after } = require('node:test');
const h = require('./helpers');
const ck = require('./chatkit_client');

const TURNS = 200;
const USERS = 10; // 20 turns per user

const servers = [];
after(() => h.stopAll(servers));

// Complete `data: …\n\n` frames of a (possibly cut) SSE body; a trailing partial frame is ignored.
function completeFrames(text) {
  const out = [];
  let i = 0;
  for (;;) {
    const end = text.indexOf('\n\n', i);
    if (end < 0) break;
    const frame = text.slice(i, end);
    assert.ok(frame.startsWith('data: '), `frame starts with "data: ": ${frame.slice(0, 80)}`);
    out.push(JSON.parse(frame.slice(6)));
    i = end + 2;
  }
  return out;
}

// Starts one turn. The record tells, once settled, whether the body completed (finished) and
// what had arrived (body).
function startTurn(srv, user, n) {
  const text = `add crash task ${n} tomorrow`;
  const rec = { n, user, text, finished: false, status: 0, body: '', error: null };
  const payload = JSON.stringify({ type: 'threads.create', params: { input: ck.input(text) } });
  rec.settled = new Promise((resolve) => {
    const req = http.request({
      host: '127.0.0.1', port: srv.port, path: '/chatkit', method: 'POST', agent: false,
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${user.secret}` },
    }, (res) => {
      rec.status = res.statusCode;
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', (e) => { rec.error = e; });
      res.on('close', () => {
        rec.body = Buffer.concat(chunks).toString('utf8');
        rec.finished = res.complete && res.statusCode === 200;
        if (rec.finished) rec.onFinished();
        resolve();
      });
    });
    req.on('error', (e) => { rec.error = rec.error || e; if (!rec.status) resolve(); });
    req.end(payload);
  });
  return rec;
}

// SQLite: PRAGMA integrity_check. PostgreSQL: amcheck verifies every B-tree index of the schema
// against its table (heapallindexed), which is what a torn write would break.
function integrityCheck(srv, db) {
  if (!srv.database) {
    return execFileSync('sqlite3', [db, 'PRAGMA integrity_check'], { encoding: 'utf8' }).trim();
  }
  h.psql(srv.database, 'CREATE EXTENSION IF NOT EXISTS amcheck');
  const n = h.psql(srv.database, `SELECT count(bt_index_check(c.oid, true)) FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace s ON s.oid = c.relnamespace
    JOIN pg_am a ON a.oid = c.relam WHERE s.nspname = 'public' AND a.amname = 'btree'`).trim();
  return Number(n) > 0 ? 'ok' : `no index checked (${n})`;
}

function itemText(item) {
  return item.content.map((c) => c.text).join('');
}

// The fields every stored item of these turns must have, by type.
function assertWholeItem(item, threadId, where) {
  assert.equal(typeof item.id, 'string', `${where}: id`);
  assert.equal(item.thread_id, threadId, `${where}: thread_id`);
  assert.match(String(item.created_at), /^\d{4}-\d\d-\d\dT/, `${where}: created_at`);
  switch (item.type) {
    case 'user_message':
      assert.ok(Array.isArray(item.content) && item.content.length === 1, `${where}: content`);
      assert.equal(item.content[0].type, 'input_text', `${where}: content type`);
      assert.ok(Array.isArray(item.attachments), `${where}: attachments`);
      assert.deepEqual(item.inference_options, {}, `${where}: inference_options`);
      break;
    case 'assistant_message':
      assert.ok(Array.isArray(item.content) && item.content.length >= 1, `${where}: content`);
      for (const c of item.content) {
        assert.equal(c.type, 'output_text', `${where}: part type`);
        assert.equal(typeof c.text, 'string', `${where}: part text`);
        assert.ok(Array.isArray(c.annotations), `${where}: annotations`);
      }
      break;
    case 'widget':
      assert.equal(item.widget && item.widget.type, 'Card', `${where}: widget`);
      assert.match(String(item.widget.key), /^task_/, `${where}: the card's task`);
      assert.equal(typeof item.copy_text, 'string', `${where}: copy_text`);
      break;
    default:
      assert.fail(`${where}: unexpected item type ${item.type}`);
  }
}

test('kill -9 during 200 concurrent turns: the database is intact, finished turns are whole, nothing is half-written', { timeout: 60000 }, async () => {
  const t0 = Date.now();
  const root = h.mkTmp('chatkitd-crash-');
  const dataDir = path.join(root, 'data');
  const db = path.join(dataDir, 'chatkitd.db');
  const srv = await h.startServer({ root, dataDir, args: ['--session-rate', '100000', '--access-log', 'off'] });
  const users = [];
  for (let u = 0; u < USERS; u++) users.push(await ck.session(srv));

  // 200 turns at once; SIGKILL once 50-100 of them (random) have finished.
  const killAt = 50 + Math.floor(Math.random() * 51);
  let finishedCount = 0;
  let killedAtMs = 0;
  const recs = [];
  for (let n = 0; n < TURNS; n++) {
    const rec = startTurn(srv, users[n % USERS], n);
    rec.onFinished = () => {
      finishedCount++;
      if (finishedCount === killAt && srv.proc.exitCode === null && srv.proc.signalCode === null) {
        srv.proc.kill('SIGKILL');
        killedAtMs = Date.now() - t0;
      }
    };
    recs.push(rec);
  }
  await h.withTimeout(Promise.all(recs.map((r) => r.settled)), 30000, 'every turn to settle');
  const exit = await h.withTimeout(srv.exited, 10000, 'the killed server to exit');
  assert.equal(exit.signal, 'SIGKILL', `the server died by SIGKILL (exit ${JSON.stringify(exit)})`);
  // No report is possible after SIGKILL, but one printed before it would still be a bug.
  h.assertNoSanitizerReport(srv.stderrText());

  const finished = recs.filter((r) => r.finished);
  const cut = recs.filter((r) => !r.finished);
  assert.ok(finished.length >= killAt, `${finished.length} finished, kill at ${killAt}`);
  for (const r of recs) {
    if (r.status) assert.equal(r.status, 200, `turn ${r.n} status ${r.status}: ${r.body.slice(0, 300)}`);
  }

  // What each stream showed.
  const byThread = new Map();
  for (const r of recs) {
    r.events = r.finished ? ck.parseSSE(Buffer.from(r.body, 'utf8')) : completeFrames(r.body);
    const created = r.events.find((e) => e.type === 'thread.created');
    r.threadId = created && created.thread.id;
    r.done = ck.doneItems(r.events);
    if (r.threadId) byThread.set(r.threadId, r);
  }
  for (const r of finished) {
    assert.ok(r.threadId, `finished turn ${r.n} has thread.created`);
    const types = r.done.map((i) => i.type).join(',');
    assert.equal(types, 'user_message,assistant_message,widget', `turn ${r.n} done items`);
  }
  // The answer the agent gives to turn n, from a finished turn (same due date for all).
  const model = finished[0];
  const modelText = itemText(model.done[1]);
  assert.match(modelText, new RegExp(`^Added \\*\\*crash task ${model.n}\\*\\* \\(due [^)]+\\)\\.$`));
  const expectedAnswer = (n) => modelText.replace(`crash task ${model.n}`, `crash task ${n}`);

  // ---- restart on the same data dir ----
  const srv2 = await h.startServer({ root, dataDir, args: ['--session-rate', '100000', '--access-log', 'off'] });
  servers.push(srv2);
  const integrity = integrityCheck(srv, db);
  assert.equal(integrity, 'ok', 'PRAGMA integrity_check');

  // Every items row, hidden ones included, read straight from the database.
  const rows = h.sql(srv, 'SELECT id, thread_id, user_id, type, hidden, json FROM items ORDER BY thread_id, seq');
  for (const row of rows) {
    let item;
    try { item = JSON.parse(row.json); } catch (e) {
      assert.fail(`items row ${row.id} is not JSON: ${row.json.slice(0, 200)}`);
    }
    assert.equal(item.id, row.id, `row ${row.id}: id`);
    assert.equal(item.type, row.type, `row ${row.id}: type`);
    if (row.type === 'hidden_context_item') {
      // The agent's note of what it did, for later turns (spec §3.10): stored, never shown.
      assert.equal(row.hidden, 1, `row ${row.id}: hidden`);
      assert.equal(item.thread_id, row.thread_id, `row ${row.id}: thread_id`);
      assert.ok(item.content !== undefined, `row ${row.id}: content`);
      continue;
    }
    assert.equal(row.hidden, 0, `row ${row.id}: visible`);
    assertWholeItem(item, row.thread_id, `row ${row.id}`);
  }
  const taskRows = h.sql(srv, 'SELECT id, user_id, title FROM tasks');
  const taskIds = new Set(taskRows.map((t) => t.id));
  const titles = taskRows.map((t) => `${t.user_id} ${t.title}`);
  assert.equal(new Set(titles).size, titles.length, 'no task was created twice');

  // Through the protocol, per user: every stored thread and its items.
  let storedThreads = 0;
  let storedItems = 0;
  for (const user of users) {
    const threads = [];
    let after;
    for (;;) {
      const p = await ck.call(srv2, user, 'threads.list', after ? { limit: 100, after } : { limit: 100 });
      threads.push(...p.data);
      if (!p.has_more) break;
      after = p.after;
    }
    for (const th of threads) {
      storedThreads++;
      const items = await ck.allItems(srv2, user, th.id);
      storedItems += items.length;
      const rec = byThread.get(th.id) ||
        recs.find((r) => items[0] && r.user === user && r.text === itemText(items[0]));
      if (!rec && items.length === 0) continue; // created, then killed before anything was sent
      assert.ok(rec, `stored thread ${th.id} belongs to a turn of this user`);
      assert.equal(rec.user, user, `thread ${th.id} is its own user's`);
      items.forEach((it, i) => assertWholeItem(it, th.id, `thread ${th.id} item ${i}`));
      const types = items.map((i) => i.type).join(',');
      assert.ok('user_message,assistant_message,widget'.startsWith(types),
        `thread ${th.id} shows a prefix of one turn: [${types}]`);
      if (items[0]) assert.equal(itemText(items[0]), rec.text, `thread ${th.id}: the user's text`);
      if (items[1]) {
        assert.equal(itemText(items[1]), expectedAnswer(rec.n), `thread ${th.id}: the whole answer`);
        const streamed = rec.done.find((i) => i.type === 'assistant_message');
        if (streamed) assert.equal(itemText(items[1]), itemText(streamed), `thread ${th.id}: answer as streamed`);
      }
      if (items[2]) assert.ok(taskIds.has(items[2].widget.key), `thread ${th.id}: the card's task exists`);
      // Whatever a stream finished before the kill is stored (persist before send, spec §6.2).
      for (const d of rec.done) {
        const stored = items.find((i) => i.id === d.id);
        assert.deepEqual(stored, d, `thread ${th.id}: item ${d.id} stored as streamed`);
      }
    }
  }

  // Every finished turn, whole, exactly as streamed.
  for (const r of finished) {
    const th = await ck.call(srv2, r.user, 'threads.get_by_id', { thread_id: r.threadId });
    const titled = r.events.filter((e) => e.type === 'thread.updated').pop();
    assert.ok(titled, `turn ${r.n} streamed thread.updated`);
    assert.equal(th.title, titled.thread.title, `turn ${r.n}: title`);
    const items = await ck.allItems(srv2, r.user, r.threadId);
    assert.deepEqual(items, r.done, `turn ${r.n}: stored items equal the streamed ones`);
    assert.equal(itemText(items[1]), expectedAnswer(r.n), `turn ${r.n}: answer text`);
    const taskId = items[2].widget.key;
    const tr = await h.request(srv2.url, 'GET', `/api/tasks/${taskId}`, {
      headers: { Authorization: `Bearer ${r.user.secret}` },
    });
    assert.equal(tr.status, 200, `turn ${r.n}: task ${taskId}: ${tr.text}`);
    assert.equal(tr.json().title, `crash task ${r.n}`, `turn ${r.n}: task title`);
  }

  const code = await srv2.stop();
  servers.splice(servers.indexOf(srv2), 1);
  assert.equal(code, 0, `restarted server exit code\n${srv2.stderrText().slice(-2000)}`);
  const integrity2 = integrityCheck(srv, db);
  assert.equal(integrity2, 'ok', 'PRAGMA integrity_check after a clean stop');

  const withThread = cut.filter((r) => r.threadId).length;
  const noHeaders = cut.filter((r) => !r.status).length;
  console.log(`# crash: kill after ${killAt} finished streams at ${killedAtMs} ms; ${finished.length} finished, ` +
    `${cut.length} cut (${withThread} had thread.created, ${noHeaders} got no answer); ` +
    `stored ${storedThreads} threads, ${storedItems} items, ${taskRows.length} tasks; ${Date.now() - t0} ms in all`);
});
