'use strict';
// A small ChatKit client for the end-to-end suite (chatkit.test.js, agent.test.js): sessions,
// POST /chatkit with byte-exact SSE parsing (spec/chatkit-protocol.md §1.4), and helpers that
// pick items out of a stream. Not a test file itself (node --test runs only *.test.js here).

const assert = require('node:assert/strict');
const http = require('node:http');
const h = require('./helpers');

// A new browser session: a new user unless cookie names an existing one.
async function session(srv, cookie) {
  const r = await h.mintBrowser(srv, { headers: cookie ? { Cookie: `chatkitd_uid=${cookie}` } : {} });
  assert.equal(r.status, 200, r.text);
  const uid = cookie || h.uidCookie(r).value;
  return { secret: r.json().client_secret, uid };
}

// POST /chatkit; resolves with the raw body bytes. body: an object (sent as JSON), a string or a
// Buffer (sent as is). user: {secret} or null (no Authorization).
function post(srv, user, body, { headers = {}, timeout = 20000, signal } = {}) {
  return new Promise((resolve, reject) => {
    const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    const hd = { 'Content-Type': 'application/json', ...headers };
    if (user) hd.Authorization = `Bearer ${user.secret}`;
    const req = http.request({
      host: '127.0.0.1', port: srv.port, path: '/chatkit', method: 'POST', headers: hd, agent: false,
      signal,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        resolve({ status: res.statusCode, headers: res.headers, buf, text: buf.toString('utf8') });
      });
      res.on('error', reject);
    });
    req.setTimeout(timeout, () => req.destroy(new Error(`timed out: POST /chatkit ${JSON.stringify(body).slice(0, 200)}`)));
    req.on('error', reject);
    req.end(payload);
  });
}

// True when json (one JSON text) has no white space outside strings.
function isCompact(json) {
  let inStr = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (inStr) {
      if (c === '\\') i++;
      else if (c === '"') inStr = false;
    } else if (c === '"') {
      inStr = true;
    } else if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      return false;
    }
  }
  return true;
}

// Parses an SSE body strictly: exactly a sequence of `data: <compact JSON>\n\n` frames, valid
// UTF-8, no CR, no other lines. Returns the parsed events.
function parseSSE(buf) {
  const text = buf.toString('utf8');
  assert.ok(Buffer.from(text, 'utf8').equals(buf), 'the SSE body is valid UTF-8');
  assert.equal(text.indexOf('\r'), -1, 'no CR anywhere in the SSE body');
  const events = [];
  let i = 0;
  while (i < text.length) {
    assert.equal(text.slice(i, i + 6), 'data: ',
      `frame ${events.length} starts with "data: " (at ${JSON.stringify(text.slice(i, i + 80))})`);
    const nl = text.indexOf('\n', i);
    assert.ok(nl > i + 6, `frame ${events.length} has a JSON line`);
    assert.equal(text[nl + 1], '\n', `frame ${events.length} ends with a blank line`);
    const json = text.slice(i + 6, nl);
    assert.ok(isCompact(json), `frame ${events.length} is compact JSON: ${json.slice(0, 200)}`);
    let ev;
    try { ev = JSON.parse(json); } catch (e) {
      assert.fail(`frame ${events.length} is not JSON: ${json.slice(0, 300)}`);
    }
    assert.equal(typeof ev, 'object');
    assert.ok(ev && !Array.isArray(ev), 'each event is a JSON object');
    assert.equal(typeof ev.type, 'string', 'each event has a type');
    events.push(ev);
    i = nl + 2;
  }
  return events;
}

// Asserts no JSON null in v (the server omits null fields, spec §1.5). Free-form JSON is passed
// through verbatim, nulls included, so it is not looked into: tag and client effect data, action
// payloads, tool arguments and outputs.
function assertNoNulls(v, where = '$') {
  if (v === null) assert.fail(`null at ${where}`);
  if (Array.isArray(v)) {
    v.forEach((x, i) => assertNoNulls(x, `${where}[${i}]`));
  } else if (typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === 'payload' || k === 'arguments' || k === 'output') continue;
      if (k === 'data' && (v.type === 'input_tag' || v.type === 'client_effect')) continue;
      assertNoNulls(x, `${where}.${k}`);
    }
  }
}

// Invariants of every finished stream (spec §4, §6): at most one stream_options and one
// thread.created (first); hidden items never sent; every item announced with thread.item.added
// is finished by thread.item.done (or removed) later in the same stream, and its updates come in
// between; an error event ends the stream (only a final thread.updated may follow it).
function checkStream(events) {
  const seq = events.map((e) => e.type).join(' ');
  assert.ok(events.filter((e) => e.type === 'stream_options').length <= 1, `one stream_options: ${seq}`);
  events.forEach((e, i) => {
    if (e.type === 'thread.created') assert.equal(i, 0, `thread.created comes first: ${seq}`);
    if (e.item) assert.ok(!/hidden/.test(e.item.type), `hidden item sent: ${seq}`);
  });
  const errAt = events.findIndex((e) => e.type === 'error');
  if (errAt >= 0) {
    for (const e of events.slice(errAt + 1)) assert.equal(e.type, 'thread.updated', `after an error: ${seq}`);
    return;
  }
  const open = new Map();
  for (const e of events) {
    if (e.type === 'thread.item.added') {
      assert.ok(!open.has(e.item.id), `added twice: ${e.item.id}`);
      open.set(e.item.id, true);
    } else if (e.type === 'thread.item.updated') {
      if (open.has(e.item_id)) assert.equal(open.get(e.item_id), true, `update after done: ${e.item_id}`);
    } else if (e.type === 'thread.item.done' && open.has(e.item.id)) {
      open.set(e.item.id, false);
    } else if (e.type === 'thread.item.removed' && open.has(e.item_id)) {
      open.set(e.item_id, false);
    }
  }
  for (const [id, pending] of open) assert.equal(pending, false, `item ${id} was added and never done: ${seq}`);
}

// A streaming request that must succeed: 200 text/event-stream, strict framing, no nulls, the
// invariants above.
async function stream(srv, user, body, opts) {
  const r = await post(srv, user, body, opts);
  assert.equal(r.status, 200, `stream status: ${r.text.slice(0, 500)}`);
  assert.match(String(r.headers['content-type']), /^text\/event-stream/);
  assert.equal(r.headers['cache-control'], 'no-cache');
  const events = parseSSE(r.buf);
  for (const ev of events) assertNoNulls(ev, ev.type);
  checkStream(events);
  return events;
}

// A JSON request that must succeed: 200 application/json, compact, no nulls. Returns the body.
async function call(srv, user, type, params, extra = {}) {
  const r = await post(srv, user, { type, params, ...extra });
  assert.equal(r.status, 200, `${type}: ${r.status} ${r.text.slice(0, 500)}`);
  assert.match(String(r.headers['content-type']), /^application\/json/);
  assert.ok(isCompact(r.text), `${type} answer is compact JSON`);
  const b = JSON.parse(r.text);
  assertNoNulls(b, type);
  return b;
}

function input(text, extra = {}) {
  return { content: [{ type: 'input_text', text }], attachments: [], inference_options: {}, ...extra };
}

// threads.create with one text message; returns {events, thread, threadId}.
async function create(srv, user, text) {
  const events = await stream(srv, user, { type: 'threads.create', params: { input: input(text) } });
  assert.equal(events[0].type, 'thread.created', JSON.stringify(events[0]));
  return { events, thread: events[0].thread, threadId: events[0].thread.id };
}

function say(srv, user, threadId, text) {
  return stream(srv, user, {
    type: 'threads.add_user_message', params: { thread_id: threadId, input: input(text) },
  });
}

function action(srv, user, threadId, itemId, type, payload) {
  const params = { thread_id: threadId, action: { type, payload } };
  if (itemId) params.item_id = itemId;
  return stream(srv, user, { type: 'threads.custom_action', params });
}

// Items of thread.item.done events (optionally of one item type).
function doneItems(events, type) {
  return events.filter((e) => e.type === 'thread.item.done' && (!type || e.item.type === type))
    .map((e) => e.item);
}

function widgets(events) {
  return doneItems(events, 'widget');
}

// The text of the assistant messages a stream finished, joined by newlines.
function answerText(events) {
  return doneItems(events, 'assistant_message')
    .map((m) => m.content.map((c) => c.text).join('')).join('\n');
}

// Every visible item of a thread, oldest first (items.list pages of 100).
async function allItems(srv, user, threadId) {
  const out = [];
  let after;
  for (let guard = 0; guard < 100; guard++) {
    const params = { thread_id: threadId, order: 'asc', limit: 100 };
    if (after) params.after = after;
    const p = await call(srv, user, 'items.list', params);
    out.push(...p.data);
    if (!p.has_more) return out;
    after = p.after;
  }
  throw new Error('items.list did not end');
}

async function listThreads(srv, user, params = {}) {
  return call(srv, user, 'threads.list', params);
}

// GET /api/tasks (status all, up to 100) for user.
async function tasks(srv, user, query = 'limit=100') {
  const r = await h.request(srv.url, 'GET', `/api/tasks?${query}`, {
    headers: { Authorization: `Bearer ${user.secret}` },
  });
  assert.equal(r.status, 200, r.text);
  return r.json().data;
}

function createTask(srv, user, body) {
  return h.request(srv.url, 'POST', '/api/tasks', {
    headers: { Authorization: `Bearer ${user.secret}` }, body,
  }).then((r) => {
    assert.equal(r.status, 201, r.text);
    return r.json();
  });
}

// Walks a widget tree depth-first.
function* walk(node) {
  if (!node || typeof node !== 'object') return;
  yield node;
  const kids = node.children;
  if (Array.isArray(kids)) for (const k of kids) yield* walk(k);
  else if (kids && typeof kids === 'object') yield* walk(kids);
}

function findNodes(widget, pred) {
  return [...walk(widget)].filter(pred);
}

// Buttons of a widget tree by label.
function buttons(widget) {
  return findNodes(widget, (n) => n.type === 'Button');
}

// YYYY-MM-DD of today + days in UTC.
function utcDate(days = 0) {
  const d = new Date(Date.now() + days * 86400000);
  return d.toISOString().slice(0, 10);
}

module.exports = {
  action,
  allItems,
  answerText,
  assertNoNulls,
  buttons,
  call,
  checkStream,
  create,
  createTask,
  doneItems,
  findNodes,
  input,
  isCompact,
  listThreads,
  parseSSE,
  post,
  say,
  session,
  stream,
  tasks,
  utcDate,
  walk,
  widgets,
};
