'use strict';
// ChatKit conformance: POST /chatkit against the wire contract (shared/spec/chatkit-protocol.md):
// every request type of §5, the SSE framing of §1.4 byte for byte, event order (§5, §6),
// serialization (§1.5), paging (§2.3, §2.5), validation before streaming (4xx JSON, nothing
// created), isolation between users, retry, widget actions, cancel by disconnect, concurrent
// turns, unicode round-trips, CORS and auth.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const h = require('./helpers');
const ck = require('./chatkit_client');

const T = { timeout: 30000 };
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const THR = /^thr_[0-9a-f]{32}$/;
const MSG = /^msg_[0-9a-f]{32}$/;
const HIDDEN = new Set(['hidden_context_item', 'sdk_hidden_context']);
const EMPTY_PAGE = { data: [], has_more: false };

let srv;
const servers = [];

before(async () => {
  srv = await h.startServer({ args: ['--session-rate', '100000'] });
  servers.push(srv);
});

after(() => h.stopAll(servers));

const session = (s = srv, cookie) => ck.session(s, cookie);

function types(events) {
  return events.map((e) => (e.type === 'thread.item.done' || e.type === 'thread.item.replaced'
    ? `${e.type}:${e.item.type}` : e.type));
}

// Items grouped into turns (a user message and what follows it); within a turn the order of the
// agent's items is the agent's choice, so each turn's types are sorted after the user message.
function turnShape(items) {
  const turns = [];
  for (const it of items) {
    if (it.type === 'user_message' || !turns.length) turns.push([it.type]);
    else turns[turns.length - 1].push(it.type);
  }
  return turns.map(([first, ...rest]) => [first, ...rest.sort()]);
}

function count(events, type) {
  return events.filter((e) => e.type === type).length;
}

// Asserts the assistant message streams of events are coherent: added (empty) -> part added ->
// deltas -> part done -> done, the deltas adding up to the final text. Returns the texts.
function checkAssistantStreams(events) {
  const texts = [];
  for (const done of ck.doneItems(events, 'assistant_message')) {
    const id = done.id;
    const mine = events.filter((e) => (e.item && e.item.id === id) || e.item_id === id);
    assert.equal(mine[0].type, 'thread.item.added', `${id} is announced first`);
    assert.deepEqual(mine[0].item.content, []);
    assert.equal(mine[0].item.type, 'assistant_message');
    assert.equal(mine[mine.length - 1].type, 'thread.item.done');
    const ups = mine.slice(1, -1);
    assert.ok(ups.length >= 2);
    assert.deepEqual(ups[0].update,
      { type: 'assistant_message.content_part.added', content_index: 0,
        content: { annotations: [], text: '', type: 'output_text' } });
    const last = ups[ups.length - 1].update;
    assert.equal(last.type, 'assistant_message.content_part.done');
    const deltas = ups.slice(1, -1).map((u) => {
      assert.equal(u.update.type, 'assistant_message.content_part.text_delta');
      assert.equal(u.update.content_index, 0);
      return u.update.delta;
    });
    const text = done.content[0].text;
    assert.equal(deltas.join(''), text, 'the deltas add up to the final text');
    assert.deepEqual(last.content, { annotations: [], text, type: 'output_text' });
    assert.deepEqual(done.content, [{ annotations: [], text, type: 'output_text' }]);
    assert.deepEqual(Object.keys(done).sort(), ['content', 'created_at', 'id', 'thread_id', 'type']);
    texts.push(text);
  }
  return texts;
}

function assertNoHidden(items, where) {
  for (const it of items) assert.ok(!HIDDEN.has(it.type), `${where}: hidden item ${it.id} shown`);
}

// Every item any event of the stream carries is not hidden.
function assertStreamHidesHidden(events) {
  assertNoHidden(events.filter((e) => e.item).map((e) => e.item), 'stream');
}

async function threadCount(u) {
  return (await ck.listThreads(srv, u, { limit: 100 })).data.length;
}

async function expectError(u, body, status, code) {
  const r = await ck.post(srv, u, body);
  const res = { status: r.status, headers: r.headers, text: r.text, json: () => JSON.parse(r.text) };
  return h.assertError(res, status, code);
}

// An open GET /api/events feed collecting its data events.
function openFeed(u, s = srv) {
  return new Promise((resolve, reject) => {
    const feed = { events: [], buf: '' };
    const waiters = new Set();
    const req = http.request({
      host: '127.0.0.1', port: s.port, path: '/api/events', method: 'GET', agent: false,
      headers: { Authorization: `Bearer ${u.secret}` },
    }, (res) => {
      assert.equal(res.statusCode, 200);
      res.setEncoding('utf8');
      res.on('data', (d) => {
        feed.buf += d;
        let i;
        while ((i = feed.buf.indexOf('\n\n')) >= 0) {
          const frame = feed.buf.slice(0, i);
          feed.buf = feed.buf.slice(i + 2);
          if (frame.startsWith('data: ')) feed.events.push(JSON.parse(frame.slice(6)));
        }
        for (const w of [...waiters]) w();
      });
      res.on('error', () => {});
      resolve(feed);
    });
    req.on('error', reject);
    req.end();
    feed.close = () => req.destroy();
    feed.waitFor = (pred, ms = 5000) => h.withTimeout(new Promise((res) => {
      const check = () => { if (pred(feed.events)) { waiters.delete(check); res(feed.events); } };
      waiters.add(check);
      check();
    }), ms, `feed events; got ${JSON.stringify(feed.events).slice(0, 1000)}`);
  });
}

// ---------------------------------------------------------------------------------------------

describe('streaming request types', () => {
  test('threads.create: framing, event order, shapes, auto title, one task', T, async () => {
    const u = await session();
    const r = await ck.post(srv, u, {
      type: 'threads.create', params: { input: ck.input('add buy milk tomorrow') },
    });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers['content-type'], /^text\/event-stream/);
    assert.equal(r.headers['cache-control'], 'no-cache');
    const ev = ck.parseSSE(r.buf);
    for (const e of ev) ck.assertNoNulls(e, e.type);
    assert.deepEqual(types(ev).slice(0, 3),
      ['thread.created', 'thread.item.done:user_message', 'stream_options'], types(ev).join(' '));

    const th = ev[0].thread;
    assert.deepEqual(Object.keys(ev[0]).sort(), ['thread', 'type']);
    assert.deepEqual(Object.keys(th).sort(), ['created_at', 'id', 'items', 'metadata', 'status'],
      'an untitled thread has no title key');
    assert.match(th.id, THR);
    assert.match(th.created_at, ISO);
    assert.ok(Math.abs(Date.parse(th.created_at) - Date.now()) < 60000);
    assert.deepEqual(th.status, { type: 'active' });
    assert.deepEqual(th.metadata, {});
    assert.deepEqual(th.items, EMPTY_PAGE);

    const um = ev[1].item;
    assert.match(um.id, MSG);
    assert.match(um.created_at, ISO);
    assert.deepEqual(um, {
      id: um.id, thread_id: th.id, created_at: um.created_at, type: 'user_message',
      content: [{ type: 'input_text', text: 'add buy milk tomorrow' }], attachments: [],
      inference_options: {},
    });
    assert.deepEqual(ev[2], { type: 'stream_options', stream_options: { allow_cancel: true } });
    assert.equal(count(ev, 'stream_options'), 1);
    assert.equal(count(ev, 'thread.created'), 1);
    assert.equal(ev.slice(3).some((e) => e.item && e.item.type === 'user_message'), false);
    assertStreamHidesHidden(ev);

    // thread.updated: once, after stream_options, carrying the title and an empty page
    assert.equal(count(ev, 'thread.updated'), 1, types(ev).join(' '));
    const up = ev.find((e) => e.type === 'thread.updated');
    assert.ok(ev.indexOf(up) > 2);
    assert.equal(typeof up.thread.title, 'string');
    assert.ok(up.thread.title.length > 0);
    assert.deepEqual(up.thread, { ...th, title: up.thread.title });

    // the agent: a task card and a streamed answer
    const [text] = checkAssistantStreams(ev);
    assert.match(text, /^Added \*\*buy milk\*\*/);
    const cards = ck.widgets(ev);
    assert.equal(cards.length, 1);
    assert.equal(cards[0].widget.type, 'Card');
    assert.equal(typeof cards[0].copy_text, 'string');
    const tasks = await ck.tasks(srv, u);
    assert.equal(tasks.length, 1);
    assert.equal(tasks[0].title, 'buy milk');
    assert.equal(tasks[0].due_date, ck.utcDate(1));
    assert.equal(cards[0].widget.key, tasks[0].id);

    // what was streamed is what is stored
    const g = await ck.call(srv, u, 'threads.get_by_id', { thread_id: th.id });
    assert.equal(g.title, up.thread.title);
    assert.deepEqual(g.items, { data: ck.doneItems(ev), has_more: false });
    assert.deepEqual(turnShape(g.items.data), [['user_message', 'assistant_message', 'widget']]);
    const ids = g.items.data.map((i) => i.id);
    assert.equal(new Set(ids).size, ids.length, 'item ids are unique');
  });

  test('threads.add_user_message: no thread.created, tags, quoted_text, inference options', T,
    async () => {
      const u = await session();
      const { threadId } = await ck.create(srv, u, 'hello');
      const ev = await ck.stream(srv, u, {
        type: 'threads.add_user_message',
        params: {
          thread_id: threadId,
          input: {
            content: [{ type: 'input_text', text: 'more ', extra: 1 },
              { type: 'input_tag', id: 'ent_1', text: 'Doc', data: { k: 'v', n: null } }],
            attachments: [], quoted_text: 'quoted', inference_options: { tool_choice: { id: 'search' }, model: 'gpt-x' },
          },
        },
      });
      assert.deepEqual(types(ev).slice(0, 2), ['thread.item.done:user_message', 'stream_options']);
      assert.equal(count(ev, 'thread.created'), 0);
      assert.equal(count(ev, 'thread.updated'), 0, 'the title was set by the first turn');
      assert.equal(count(ev, 'stream_options'), 1);
      const um = ev[0].item;
      assert.deepEqual(um, {
        id: um.id, thread_id: threadId, created_at: um.created_at, type: 'user_message',
        content: [{ type: 'input_text', text: 'more ' },
          { type: 'input_tag', id: 'ent_1', text: 'Doc', data: { k: 'v', n: null }, interactive: false }],
        attachments: [], quoted_text: 'quoted',
        inference_options: { tool_choice: { id: 'search' }, model: 'gpt-x' },
      });
      assert.equal(checkAssistantStreams(ev).length, 1);
      const items = await ck.allItems(srv, u, threadId);
      assert.deepEqual(items.map((i) => i.type),
        ['user_message', 'assistant_message', 'user_message', 'assistant_message']);
      assert.deepEqual(items[2], um);
    });

  test('threads.add_client_tool_output: 400 unless the last item is a pending tool call', T,
    async () => {
      const u = await session();
      const { threadId } = await ck.create(srv, u, 'hello');
      const before = await ck.allItems(srv, u, threadId);
      for (const result of [{ nodes: [1, 2] }, null]) {
        const e = await expectError(u, {
          type: 'threads.add_client_tool_output', params: { thread_id: threadId, result },
        }, 400, 'invalid_request');
        assert.match(e.message, /client tool call/);
      }
      const e = await expectError(u, {
        type: 'threads.add_client_tool_output', params: { thread_id: threadId },
      }, 400, 'invalid_request');
      assert.match(e.message, /result/);
      await expectError(u, {
        type: 'threads.add_client_tool_output', params: { thread_id: `thr_${'0'.repeat(32)}`, result: 1 },
      }, 404);
      assert.deepEqual(await ck.allItems(srv, u, threadId), before);
    });

  test('threads.add_structured_input: 404 unknown item, 400 when the item is not pending input',
    T, async () => {
      const u = await session();
      const { threadId, events } = await ck.create(srv, u, 'hello');
      const userMsg = ck.doneItems(events, 'user_message')[0];
      const answer = ck.doneItems(events, 'assistant_message')[0];
      const before = await ck.allItems(srv, u, threadId);
      const inputOk = { status: 'answered', answers: { q1: { values: ['A'], skipped: false } } };
      await expectError(u, {
        type: 'threads.add_structured_input',
        params: { thread_id: threadId, item_id: `msg_${'0'.repeat(32)}`, input: inputOk },
      }, 404);
      for (const item of [userMsg, answer]) {
        const e = await expectError(u, {
          type: 'threads.add_structured_input',
          params: { thread_id: threadId, item_id: item.id, input: inputOk },
        }, 400, 'invalid_request');
        assert.match(e.message, /structured_input/);
      }
      for (const params of [
        { thread_id: threadId, input: inputOk },
        { thread_id: threadId, item_id: userMsg.id },
        { thread_id: threadId, item_id: userMsg.id, input: { status: 'maybe' } },
        { thread_id: threadId, item_id: userMsg.id, input: { answers: { q1: { values: [1] } } } },
      ]) {
        await expectError(u, { type: 'threads.add_structured_input', params }, 400, 'invalid_request');
      }
      assert.deepEqual(await ck.allItems(srv, u, threadId), before);
    });

  test('threads.retry_after_item: later items deleted, answer regenerated, nothing done twice',
    T, async () => {
      const u = await session();
      const first = await ck.create(srv, u, 'add buy milk tomorrow');
      const items1 = await ck.allItems(srv, u, first.threadId);
      assert.deepEqual(turnShape(items1), [['user_message', 'assistant_message', 'widget']]);
      const ev = await ck.stream(srv, u, {
        type: 'threads.retry_after_item', params: { thread_id: first.threadId, item_id: items1[0].id },
      });
      assert.equal(ev[0].type, 'stream_options', types(ev).join(' '));
      assert.equal(count(ev, 'stream_options'), 1);
      assert.equal(count(ev, 'thread.created'), 0);
      assert.equal(count(ev, 'thread.updated'), 0);
      assert.equal(ev.some((e) => e.item && e.item.type === 'user_message'), false,
        'the user message is not re-emitted');
      assertStreamHidesHidden(ev);
      const [text] = checkAssistantStreams(ev);
      assert.equal(text, ck.answerText(first.events), 'the same answer as the first time');

      const items2 = await ck.allItems(srv, u, first.threadId);
      assert.deepEqual(turnShape(items2), [['user_message', 'assistant_message', 'widget']]);
      assert.deepEqual(items2[0], items1[0]);
      for (const old of items1.slice(1)) {
        assert.ok(!items2.some((i) => i.id === old.id), `the old ${old.type} was deleted`);
      }
      assert.deepEqual(items2.slice(1), ck.doneItems(ev));
      const card2 = items2.find((i) => i.type === 'widget');

      const tasks = await ck.tasks(srv, u);
      assert.equal(tasks.filter((t) => t.title === 'buy milk').length, 1, JSON.stringify(tasks));
      assert.equal(tasks.length, 1);
      assert.equal(card2.widget.key, tasks[0].id);

      // retry again: still one task
      await ck.stream(srv, u, {
        type: 'threads.retry_after_item', params: { thread_id: first.threadId, item_id: items1[0].id },
      });
      assert.equal((await ck.tasks(srv, u)).length, 1);
    });

  test('threads.retry_after_item of an earlier message deletes every later turn', T, async () => {
    const u = await session();
    const { threadId } = await ck.create(srv, u, 'hello');
    await ck.say(srv, u, threadId, 'help');
    await ck.say(srv, u, threadId, 'thanks');
    const items = await ck.allItems(srv, u, threadId);
    assert.equal(items.length, 6);
    const ev = await ck.stream(srv, u, {
      type: 'threads.retry_after_item', params: { thread_id: threadId, item_id: items[2].id },
    });
    const now = await ck.allItems(srv, u, threadId);
    assert.deepEqual(now.map((i) => i.id),
      [items[0].id, items[1].id, items[2].id, ck.doneItems(ev, 'assistant_message')[0].id]);
    assert.equal(ck.answerText(ev), items[3].content[0].text, 'help answers the same again');

    // not a user message -> 400; unknown -> 404; nothing changes
    const e = await expectError(u, {
      type: 'threads.retry_after_item', params: { thread_id: threadId, item_id: now[3].id },
    }, 400, 'invalid_request');
    assert.match(e.message, /user message/);
    await expectError(u, {
      type: 'threads.retry_after_item', params: { thread_id: threadId, item_id: `msg_${'1'.repeat(32)}` },
    }, 404);
    assert.deepEqual(await ck.allItems(srv, u, threadId), now);
  });

  test('threads.custom_action: Complete on a task card replaces it, changes the task, feeds the event',
    T, async () => {
      const u = await session();
      const { threadId, events } = await ck.create(srv, u, 'add call the plumber');
      const [card] = ck.widgets(events);
      const [task] = await ck.tasks(srv, u);
      assert.equal(task.status, 'open');
      const complete = ck.buttons(card.widget).find((b) => b.label === 'Complete');
      assert.ok(complete, 'the card has a Complete button');
      assert.deepEqual(complete.onClickAction.payload, { task_id: task.id });
      assert.equal(complete.onClickAction.type, 'task.complete');
      const feed = await openFeed(u);

      const ev = await ck.action(srv, u, threadId, card.id, complete.onClickAction.type,
        complete.onClickAction.payload);
      assert.equal(ev[0].type, 'stream_options', types(ev).join(' '));
      assert.equal(count(ev, 'stream_options'), 1);
      assertStreamHidesHidden(ev);
      const replaced = ev.filter((e) => e.type === 'thread.item.replaced');
      assert.equal(replaced.length, 1, types(ev).join(' '));
      const item = replaced[0].item;
      assert.deepEqual({ ...item, widget: undefined, copy_text: undefined },
        { ...card, widget: undefined, copy_text: undefined }, 'same id, thread and created_at');
      const title = ck.findNodes(item.widget, (n) => n.type === 'Text' && n.value === 'call the plumber');
      assert.equal(title.length, 1);
      assert.equal(title[0].lineThrough, true, 'the done task is struck through');
      const labels = ck.buttons(item.widget).map((b) => b.label);
      assert.ok(labels.includes('Reopen'), labels.join(','));
      assert.ok(!labels.includes('Complete'), labels.join(','));

      const t = (await h.request(srv.url, 'GET', `/api/tasks/${task.id}`, {
        headers: { Authorization: `Bearer ${u.secret}` },
      })).json();
      assert.equal(t.status, 'done');
      assert.match(t.completed_at, ISO);
      const fe = await feed.waitFor((es) => es.some((e) => e.type === 'task.updated'));
      const upd = fe.find((e) => e.type === 'task.updated');
      assert.equal(upd.task.id, task.id);
      assert.equal(upd.task.status, 'done');

      // the replacement is stored; hidden context is not shown
      const g = await ck.call(srv, u, 'threads.get_by_id', { thread_id: threadId });
      assert.equal(g.items.data.length, 3);
      assertNoHidden(g.items.data, 'get_by_id');
      assert.deepEqual(g.items.data.find((i) => i.id === card.id), item);

      // and Reopen undoes it
      const reopen = ck.buttons(item.widget).find((b) => b.label === 'Reopen');
      const ev2 = await ck.action(srv, u, threadId, card.id, reopen.onClickAction.type,
        reopen.onClickAction.payload);
      const item2 = ev2.find((e) => e.type === 'thread.item.replaced').item;
      const title2 = ck.findNodes(item2.widget, (n) => n.type === 'Text' && n.value === 'call the plumber');
      assert.equal(title2[0].lineThrough, undefined);
      assert.ok(ck.buttons(item2.widget).some((b) => b.label === 'Complete'));
      assert.equal((await ck.tasks(srv, u))[0].status, 'open');
      await feed.waitFor((es) => es.filter((e) => e.type === 'task.updated').length >= 2);
      feed.close();
    });

  test('threads.custom_action on a non-widget item: exactly one stream.error event', T, async () => {
    const u = await session();
    const { threadId, events } = await ck.create(srv, u, 'hello');
    const before = await ck.allItems(srv, u, threadId);
    for (const item of [ck.doneItems(events, 'user_message')[0], ck.doneItems(events, 'assistant_message')[0]]) {
      const ev = await ck.action(srv, u, threadId, item.id, 'task.complete', { task_id: 'x' });
      assert.deepEqual(ev, [{ type: 'error', code: 'stream.error', allow_retry: false }]);
    }
    assert.deepEqual(await ck.allItems(srv, u, threadId), before);
    await expectError(u, {
      type: 'threads.custom_action',
      params: { thread_id: threadId, item_id: `msg_${'2'.repeat(32)}`, action: { type: 'task.complete' } },
    }, 404);
    await expectError(u, {
      type: 'threads.custom_action', params: { thread_id: threadId, item_id: before[0].id },
    }, 400, 'invalid_request');
    await expectError(u, {
      type: 'threads.custom_action',
      params: { thread_id: threadId, action: { payload: {} } },
    }, 400, 'invalid_request');
    assert.deepEqual(await ck.allItems(srv, u, threadId), before);
  });
});

describe('widget actions (threads.custom_action)', () => {
  async function replacedBy(u, threadId, item, type, payload) {
    const ev = await ck.action(srv, u, threadId, item.id, type, payload);
    assert.equal(ev[0].type, 'stream_options');
    assert.deepEqual(ev.filter((e) => e.type === 'error'), []);
    const rep = ev.filter((e) => e.type === 'thread.item.replaced');
    assert.equal(rep.length, 1, types(ev).join(' '));
    assert.equal(rep[0].item.id, item.id);
    assert.equal(rep[0].item.created_at, item.created_at);
    const stored = (await ck.allItems(srv, u, threadId)).find((i) => i.id === item.id);
    assert.deepEqual(stored, rep[0].item, 'the replacement is stored');
    return { ev, item: rep[0].item };
  }
  const action = (b) => [b.onClickAction.type, b.onClickAction.payload];

  test('a list row Complete button redraws the whole list with that row done', T, async () => {
    const u = await session();
    const a = await ck.createTask(srv, u, { title: 'row one' });
    const b = await ck.createTask(srv, u, { title: 'row two' });
    const { threadId, events } = await ck.create(srv, u, 'show my tasks');
    const [list] = ck.widgets(events);
    assert.equal(list.widget.type, 'ListView');
    const row = list.widget.children.find((r) => r.key === b.id);
    const btn = ck.buttons(row).find((x) => x.label === 'Complete');
    const { item } = await replacedBy(u, threadId, list, ...action(btn));
    assert.equal(item.widget.type, 'ListView');
    assert.deepEqual(item.widget.children.map((r) => r.key), [a.id, b.id]);
    const row2 = item.widget.children[1];
    assert.equal(ck.findNodes(row2, (n) => n.type === 'Text' && n.value === 'row two')[0].lineThrough, true);
    assert.ok(ck.buttons(row2).some((x) => x.label === 'Reopen'));
    assert.ok(ck.buttons(item.widget.children[0]).some((x) => x.label === 'Complete'));
    const tasks = await ck.tasks(srv, u);
    assert.deepEqual(tasks.map((t) => t.status), ['open', 'done']);
  });

  test('a row click (task.open) shows the task card; "mark it done" then means that task', T,
    async () => {
      const u = await session();
      await ck.createTask(srv, u, { title: 'first' });
      const b = await ck.createTask(srv, u, { title: 'second' });
      const { threadId, events } = await ck.create(srv, u, 'show my tasks');
      const [list] = ck.widgets(events);
      const row = list.widget.children.find((r) => r.key === b.id);
      assert.equal(row.onClickAction.type, 'task.open');
      const ev = await ck.action(srv, u, threadId, list.id, row.onClickAction.type, row.onClickAction.payload);
      assert.equal(count(ev, 'thread.item.replaced'), 0, 'the list stays');
      const cards = ck.widgets(ev);
      assert.equal(cards.length, 1);
      assert.equal(cards[0].widget.type, 'Card');
      assert.equal(cards[0].widget.key, b.id);
      await ck.say(srv, u, threadId, 'mark it done');
      assert.deepEqual((await ck.tasks(srv, u)).map((t) => t.status), ['open', 'done']);
    });

  test('Edit shows a form; Save changes the task and shows the card; Cancel restores it', T,
    async () => {
      const u = await session();
      const { threadId, events } = await ck.create(srv, u, 'add draft the memo');
      const [card] = ck.widgets(events);
      const [task] = await ck.tasks(srv, u);
      const edit = ck.buttons(card.widget).find((x) => x.label === 'Edit');
      const { item: form } = await replacedBy(u, threadId, card, ...action(edit));
      assert.equal(form.widget.asForm, true);
      assert.equal(form.widget.confirm.action.type, 'task.save');
      assert.equal(form.widget.cancel.action.type, 'task.cancel_edit');
      assert.ok(ck.findNodes(form.widget, (n) => n.type === 'DatePicker' && n.name === 'due_date').length);
      assert.ok(ck.findNodes(form.widget, (n) => n.type === 'Select' && n.name === 'priority').length);
      // the client merges the form fields into the confirm payload
      const payload = { ...form.widget.confirm.action.payload, title: 'Draft the memo v2',
        due_date: '2027-01-15T00:00:00.000Z', priority: 'high', notes: 'two pages' };
      const { item: saved } = await replacedBy(u, threadId, card, 'task.save', payload);
      assert.equal(saved.widget.type, 'Card');
      assert.ok(ck.findNodes(saved.widget, (n) => n.type === 'Text' && n.value === 'Draft the memo v2').length);
      const [t] = await ck.tasks(srv, u);
      assert.equal(t.id, task.id);
      assert.equal(t.title, 'Draft the memo v2');
      assert.equal(t.due_date, '2027-01-15');
      assert.equal(t.priority, 'high');
      assert.equal(t.notes, 'two pages');
      // edit again, then cancel: the card comes back, the task is unchanged
      const { item: form2 } = await replacedBy(u, threadId, card, ...action(ck.buttons(saved.widget).find((x) => x.label === 'Edit')));
      const { item: back } = await replacedBy(u, threadId, card, form2.widget.cancel.action.type, form2.widget.cancel.action.payload);
      assert.equal(back.widget.type, 'Card');
      assert.equal(back.widget.asForm, undefined);
      assert.deepEqual(await ck.tasks(srv, u), [t]);
      // an invalid form changes nothing and says why
      const bad = await ck.action(srv, u, threadId, card.id, 'task.save', { task_id: task.id, title: '', priority: 'urgent' });
      const err = bad.filter((e) => e.type === 'error');
      assert.equal(err.length, 1, types(bad).join(' '));
      assert.equal(err[0].allow_retry, false);
      assert.deepEqual(await ck.tasks(srv, u), [t]);
    });

  test('Delete asks first; the confirmation deletes and publishes task.deleted', T, async () => {
    const u = await session();
    const { threadId, events } = await ck.create(srv, u, 'add sell the bike');
    const [card] = ck.widgets(events);
    const [task] = await ck.tasks(srv, u);
    const feed = await openFeed(u);
    const del = ck.buttons(card.widget).find((x) => x.label === 'Delete');
    const { item: confirm } = await replacedBy(u, threadId, card, ...action(del));
    assert.equal(confirm.widget.confirm.action.type, 'task.delete_confirmed');
    assert.deepEqual(confirm.widget.confirm.action.payload, { task_ids: [task.id] });
    assert.equal((await ck.tasks(srv, u)).length, 1, 'nothing deleted yet');
    const { item: gone } = await replacedBy(u, threadId, card, confirm.widget.confirm.action.type,
      confirm.widget.confirm.action.payload);
    assert.ok(ck.findNodes(gone.widget, (n) => n.value === 'Deleted 1 task.').length, JSON.stringify(gone.widget));
    assert.deepEqual(await ck.tasks(srv, u), []);
    const fe = await feed.waitFor((es) => es.some((e) => e.type === 'task.deleted'));
    assert.equal(fe.find((e) => e.type === 'task.deleted').task.id, task.id);
    feed.close();
  });

  test('an action on a task that no longer exists ends with a custom error, not a crash', T,
    async () => {
      const u = await session();
      const { threadId, events } = await ck.create(srv, u, 'add gone soon');
      const [card] = ck.widgets(events);
      const [task] = await ck.tasks(srv, u);
      const d = await h.request(srv.url, 'DELETE', `/api/tasks/${task.id}`, { headers: { Authorization: `Bearer ${u.secret}` } });
      assert.equal(d.status, 204);
      const before = await ck.allItems(srv, u, threadId);
      const ev = await ck.action(srv, u, threadId, card.id, 'task.complete', { task_id: task.id });
      assert.equal(ev[0].type, 'stream_options');
      const err = ev.filter((e) => e.type === 'error');
      assert.equal(err.length, 1, types(ev).join(' '));
      assert.equal(err[0].code, 'custom');
      assert.equal(typeof err[0].message, 'string');
      assert.equal(err[0].allow_retry, false);
      assert.equal(ev[ev.length - 1].type, 'error', 'the error ends the stream');
      assert.deepEqual(await ck.allItems(srv, u, threadId), before);
      const unsupported = await ck.action(srv, u, threadId, card.id, 'x.unknown', {});
      assert.deepEqual(unsupported.filter((e) => e.type === 'error').map((e) => e.code), ['custom']);
      // a task of another user cannot be reached through one's own card
      const v = await session();
      const theirs = await ck.createTask(srv, v, { title: 'not yours' });
      const ev2 = await ck.action(srv, u, threadId, card.id, 'task.complete', { task_id: theirs.id });
      assert.equal(ev2.filter((e) => e.type === 'error').length, 1);
      assert.equal((await ck.tasks(srv, v))[0].status, 'open');
    });

  test("a widget of another of the user's threads is not found in this one", T, async () => {
    const u = await session();
    const a = await ck.create(srv, u, 'add first errand');
    const b = await ck.create(srv, u, 'hello');
    const [card] = ck.widgets(a.events);
    await expectError(u, { type: 'threads.custom_action', params: { thread_id: b.threadId, item_id: card.id,
      action: { type: 'task.complete', payload: card.widget.key ? { task_id: card.widget.key } : {} } } }, 404, 'item_not_found');
    assert.equal((await ck.tasks(srv, u))[0].status, 'open');
  });
});

describe('HTTP details', () => {
  test('a finished stream leaves the connection usable (keep-alive, chunked end)', T, async () => {
    const u = await session();
    const c = await h.RawConn.open(srv.port);
    const req = (body) => {
      const p = Buffer.from(JSON.stringify(body));
      return Buffer.concat([Buffer.from('POST /chatkit HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
        `Content-Type: application/json\r\nAuthorization: Bearer ${u.secret}\r\nContent-Length: ${p.length}\r\n\r\n`), p]);
    };
    await c.write(req({ type: 'threads.create', params: { input: ck.input('hello') } }));
    const [s] = await c.responses(1);
    assert.equal(s.status, 200);
    assert.match(s.headers['transfer-encoding'], /chunked/);
    const events = ck.parseSSE(Buffer.from(s.body, 'utf8'));
    assert.equal(events[0].type, 'thread.created');
    await c.write(req({ type: 'threads.list', params: {} }));
    const rs = await c.responses(2);
    assert.equal(rs[1].status, 200);
    assert.deepEqual(rs[1].json().data.map((t) => t.id), [events[0].thread.id]);
    c.destroy();
  });

  test('pipelined requests are answered in order, a stream first', T, async () => {
    const u = await session();
    const c = await h.RawConn.open(srv.port);
    const req = (body) => {
      const p = Buffer.from(JSON.stringify(body));
      return Buffer.concat([Buffer.from('POST /chatkit HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
        `Content-Type: application/json\r\nAuthorization: Bearer ${u.secret}\r\nContent-Length: ${p.length}\r\n\r\n`), p]);
    };
    await c.write(Buffer.concat([req({ type: 'threads.create', params: { input: ck.input('hello') } }),
      req({ type: 'threads.list', params: {} }), req({ type: 'threads.create', params: { input: ck.input('help') } })]));
    const rs = await c.responses(3);
    assert.deepEqual(rs.map((r) => r.status), [200, 200, 200]);
    const first = ck.parseSSE(Buffer.from(rs[0].body, 'utf8'));
    assert.match(rs[1].headers['content-type'], /^application\/json/);
    assert.deepEqual(rs[1].json().data.map((t) => t.id), [first[0].thread.id]);
    const third = ck.parseSSE(Buffer.from(rs[2].body, 'utf8'));
    assert.match(ck.answerText(third), /^I can keep your task list/);
    c.destroy();
  });

  test('HTTP/1.0: the stream ends with the connection', T, async () => {
    const u = await session();
    const p = Buffer.from(JSON.stringify({ type: 'threads.create', params: { input: ck.input('hello') } }));
    const c = await h.RawConn.open(srv.port);
    await c.write(Buffer.concat([Buffer.from('POST /chatkit HTTP/1.0\r\nHost: 127.0.0.1\r\n' +
      `Content-Type: application/json\r\nAuthorization: Bearer ${u.secret}\r\nContent-Length: ${p.length}\r\n\r\n`), p]));
    await c.waitClose(5000);
    const [r] = (await c.responses(1));
    assert.equal(r.status, 200);
    assert.equal(r.headers['transfer-encoding'], undefined);
    const raw = c.buf.subarray(c.buf.indexOf('\r\n\r\n') + 4);
    const events = ck.parseSSE(raw);
    assert.equal(events[0].type, 'thread.created');
    assert.equal(ck.doneItems(events, 'assistant_message').length, 1);
  });
});

describe('JSON request types', () => {
  test('threads.sync_custom_action: {"updated_item"} stored, or {}', T, async () => {
    const u = await session();
    const { threadId, events } = await ck.create(srv, u, 'add water the plants');
    const [card] = ck.widgets(events);
    const [task] = await ck.tasks(srv, u);
    const noop = await ck.call(srv, u, 'threads.sync_custom_action',
      { thread_id: threadId, item_id: card.id, action: { type: 'x.noop', payload: { a: 1 } } });
    assert.deepEqual(noop, {});
    const b = await ck.call(srv, u, 'threads.sync_custom_action', {
      thread_id: threadId, item_id: card.id,
      action: { type: 'task.complete', payload: { task_id: task.id }, handler: 'server', streaming: false },
    });
    assert.deepEqual(Object.keys(b), ['updated_item']);
    const it = b.updated_item;
    assert.equal(it.id, card.id);
    assert.equal(it.thread_id, threadId);
    assert.equal(it.created_at, card.created_at);
    assert.equal(it.type, 'widget');
    const title = ck.findNodes(it.widget, (n) => n.type === 'Text' && n.value === 'water the plants');
    assert.equal(title[0].lineThrough, true);
    assert.equal((await ck.tasks(srv, u))[0].status, 'done');
    const g = await ck.call(srv, u, 'threads.get_by_id', { thread_id: threadId });
    assert.deepEqual(g.items.data.find((i) => i.id === card.id), it, 'the update was stored');

    const msg = ck.doneItems(events, 'user_message')[0];
    await expectError(u, {
      type: 'threads.sync_custom_action',
      params: { thread_id: threadId, item_id: msg.id, action: { type: 'task.complete', payload: { task_id: task.id } } },
    }, 400, 'invalid_request');
    await expectError(u, {
      type: 'threads.sync_custom_action',
      params: { thread_id: `thr_${'3'.repeat(32)}`, item_id: card.id, action: { type: 'x' } },
    }, 404);
    await expectError(u, {
      type: 'threads.sync_custom_action',
      params: { thread_id: threadId, item_id: `msg_${'3'.repeat(32)}`, action: { type: 'x' } },
    }, 404);
  });

  describe('a thread of 22 items', () => {
    let u;
    let threadId;
    let all; // oldest first
    before(async () => {
      u = await session();
      ({ threadId } = await ck.create(srv, u, 'hello'));
      for (let i = 0; i < 10; i++) await ck.say(srv, u, threadId, 'hello');
      all = await ck.allItems(srv, u, threadId);
    });

    test('threads.get_by_id: the oldest 20 items ascending, after only with has_more', T, async () => {
      assert.equal(all.length, 22);
      assert.deepEqual(all.map((i) => i.type),
        Array.from({ length: 22 }, (_, i) => (i % 2 ? 'assistant_message' : 'user_message')));
      const g = await ck.call(srv, u, 'threads.get_by_id', { thread_id: threadId });
      assert.deepEqual(Object.keys(g).sort(), ['created_at', 'id', 'items', 'metadata', 'status', 'title']);
      assert.equal(g.id, threadId);
      assert.equal(g.title, 'hello');
      assert.deepEqual(g.metadata, {});
      assert.deepEqual(Object.keys(g.items).sort(), ['after', 'data', 'has_more']);
      assert.equal(g.items.has_more, true);
      assert.deepEqual(g.items.data, all.slice(0, 20));
      assert.equal(g.items.after, all[19].id);
      const ts = all.map((i) => i.created_at);
      assert.deepEqual([...ts].sort(), ts, 'created_at ascending');
    });

    test('items.list: default limit 20 newest first, paging both orders', T, async () => {
      const rev = [...all].reverse();
      const p1 = await ck.call(srv, u, 'items.list', { thread_id: threadId });
      assert.deepEqual(p1.data, rev.slice(0, 20));
      assert.equal(p1.has_more, true);
      assert.equal(p1.after, rev[19].id);
      const p2 = await ck.call(srv, u, 'items.list', { thread_id: threadId, after: p1.after });
      assert.deepEqual(p2, { data: rev.slice(20), has_more: false });
      assert.deepEqual(await ck.call(srv, u, 'items.list', { thread_id: threadId, limit: 0, order: 'asc' }),
        { data: all.slice(0, 20), has_more: true, after: all[19].id }, 'limit 0 means 20');
      for (const order of ['asc', 'desc']) {
        const seen = [];
        const sizes = [];
        let afterId;
        for (let guard = 0; guard < 20; guard++) {
          const params = { thread_id: threadId, limit: 3, order };
          if (afterId) params.after = afterId;
          const p = await ck.call(srv, u, 'items.list', params);
          sizes.push(p.data.length);
          seen.push(...p.data.map((i) => i.id));
          if (!p.has_more) {
            assert.equal('after' in p, false, 'no after on the last page');
            break;
          }
          assert.equal(p.after, p.data[p.data.length - 1].id);
          afterId = p.after;
        }
        assert.deepEqual(sizes, [3, 3, 3, 3, 3, 3, 3, 1], order);
        assert.deepEqual(seen, (order === 'asc' ? all : rev).map((i) => i.id), order);
      }
      const exact = await ck.call(srv, u, 'items.list', { thread_id: threadId, limit: 22 });
      assert.deepEqual(exact, { data: rev, has_more: false });
      await expectError(u, {
        type: 'items.list', params: { thread_id: threadId, after: `msg_${'4'.repeat(32)}` },
      }, 404);
    });
  });

  test('threads.get_by_id and items.list never show hidden items', T, async () => {
    const u = await session();
    const { threadId, events } = await ck.create(srv, u, 'add pay rent friday');
    await ck.say(srv, u, threadId, "what's due this week?");
    const [card] = ck.widgets(events);
    const b = ck.buttons(card.widget).find((x) => x.label === 'Complete');
    await ck.action(srv, u, threadId, card.id, b.onClickAction.type, b.onClickAction.payload);
    const g = await ck.call(srv, u, 'threads.get_by_id', { thread_id: threadId });
    assertNoHidden(g.items.data, 'get_by_id');
    assert.deepEqual(turnShape(g.items.data), [['user_message', 'assistant_message', 'widget'],
      ['user_message', 'assistant_message', 'widget']]);
    for (const order of ['asc', 'desc']) {
      const p = await ck.call(srv, u, 'items.list', { thread_id: threadId, order, limit: 2 });
      assertNoHidden(p.data, 'items.list');
      assert.equal(p.data.length, 2, 'pages are full: hidden items are skipped before the cut');
    }
    const all = await ck.allItems(srv, u, threadId);
    assert.deepEqual(all, g.items.data);
  });

  test('threads.list: newest first by default, paging both orders, empty item pages', T, async () => {
    const u = await session();
    assert.deepEqual(await ck.listThreads(srv, u), EMPTY_PAGE);
    const made = [];
    for (let i = 0; i < 5; i++) made.push((await ck.create(srv, u, 'hello')).threadId);
    const d = await ck.listThreads(srv, u);
    assert.equal(d.has_more, false);
    assert.equal('after' in d, false);
    assert.deepEqual(d.data.map((t) => t.id), [...made].reverse());
    for (const t of d.data) {
      assert.deepEqual(Object.keys(t).sort(), ['created_at', 'id', 'items', 'metadata', 'status', 'title']);
      assert.deepEqual(t.items, EMPTY_PAGE);
      assert.deepEqual(t.metadata, {});
      assert.deepEqual(t.status, { type: 'active' });
      assert.equal(t.title, 'hello');
    }
    for (const order of ['asc', 'desc']) {
      const seen = [];
      const sizes = [];
      let afterId;
      for (let guard = 0; guard < 10; guard++) {
        const params = { limit: 2, order };
        if (afterId) params.after = afterId;
        const p = await ck.listThreads(srv, u, params);
        sizes.push(p.data.length);
        seen.push(...p.data.map((t) => t.id));
        if (!p.has_more) {
          assert.equal('after' in p, false);
          break;
        }
        assert.equal(p.after, p.data[p.data.length - 1].id);
        afterId = p.after;
      }
      assert.deepEqual(sizes, [2, 2, 1]);
      assert.deepEqual(seen, order === 'asc' ? made : [...made].reverse());
    }
    await expectError(u, { type: 'threads.list', params: { after: `thr_${'5'.repeat(32)}` } }, 404);
  });

  test('threads.update renames (no events); later turns keep the name', T, async () => {
    const u = await session();
    const { threadId, thread } = await ck.create(srv, u, 'hello');
    const name = 'Renamed ✓ «x»';
    const t = await ck.call(srv, u, 'threads.update', { thread_id: threadId, title: name });
    assert.deepEqual(t, { ...thread, title: name });
    assert.equal((await ck.call(srv, u, 'threads.get_by_id', { thread_id: threadId })).title, name);
    assert.equal((await ck.listThreads(srv, u)).data[0].title, name);
    const ev = await ck.say(srv, u, threadId, 'hello');
    assert.equal(count(ev, 'thread.updated'), 0);
    assert.equal((await ck.call(srv, u, 'threads.get_by_id', { thread_id: threadId })).title, name);
    await expectError(u, { type: 'threads.update', params: { thread_id: threadId } }, 400, 'invalid_request');
    await expectError(u, { type: 'threads.update', params: { thread_id: threadId, title: 7 } }, 400, 'invalid_request');
    await expectError(u, { type: 'threads.update', params: { thread_id: threadId, title: 'x'.repeat(501) } },
      400, 'invalid_request');
    await expectError(u, { type: 'threads.update', params: { thread_id: `thr_${'6'.repeat(32)}`, title: 'x' } }, 404);
    assert.equal((await ck.call(srv, u, 'threads.get_by_id', { thread_id: threadId })).title, name);
  });

  test('threads.delete answers {} and the thread is gone', T, async () => {
    const u = await session();
    const keep = (await ck.create(srv, u, 'hello')).threadId;
    const { threadId } = await ck.create(srv, u, 'hello');
    assert.deepEqual(await ck.call(srv, u, 'threads.delete', { thread_id: threadId }), {});
    await expectError(u, { type: 'threads.get_by_id', params: { thread_id: threadId } }, 404);
    await expectError(u, { type: 'items.list', params: { thread_id: threadId } }, 404);
    await expectError(u, { type: 'threads.delete', params: { thread_id: threadId } }, 404);
    await expectError(u, { type: 'threads.add_user_message', params: { thread_id: threadId, input: ck.input('hi') } }, 404);
    assert.deepEqual((await ck.listThreads(srv, u)).data.map((t) => t.id), [keep]);
  });

  test('items.feedback answers {}; unknown items are 404', T, async () => {
    const u = await session();
    const { threadId, events } = await ck.create(srv, u, 'add feed the cat');
    const other = await ck.create(srv, u, 'hello');
    const answer = ck.doneItems(events, 'assistant_message')[0];
    const [card] = ck.widgets(events);
    assert.deepEqual(await ck.call(srv, u, 'items.feedback',
      { thread_id: threadId, item_ids: [answer.id], kind: 'positive' }), {});
    assert.deepEqual(await ck.call(srv, u, 'items.feedback',
      { thread_id: threadId, item_ids: [answer.id, card.id], kind: 'negative' }), {});
    await expectError(u, { type: 'items.feedback',
      params: { thread_id: threadId, item_ids: [`msg_${'7'.repeat(32)}`], kind: 'positive' } }, 404);
    await expectError(u, { type: 'items.feedback', params: { thread_id: threadId,
      item_ids: [ck.doneItems(other.events, 'assistant_message')[0].id], kind: 'positive' } }, 404);
    await expectError(u, { type: 'items.feedback',
      params: { thread_id: threadId, item_ids: [answer.id], kind: 'meh' } }, 400, 'invalid_request');
    await expectError(u, { type: 'items.feedback',
      params: { thread_id: threadId, item_ids: [], kind: 'positive' } }, 400, 'invalid_request');
    await expectError(u, { type: 'items.feedback',
      params: { thread_id: `thr_${'7'.repeat(32)}`, item_ids: [answer.id], kind: 'positive' } }, 404);
  });

  test('attachments.delete of an unknown id: 404; input.transcribe: 400 transcription_unavailable',
    T, async () => {
      const u = await session();
      await expectError(u, { type: 'attachments.delete',
        params: { attachment_id: 'atc_1' } }, 404, 'attachment_not_found');
      await expectError(u, { type: 'input.transcribe',
        params: { audio_base64: 'aGVsbG8=', mime_type: 'audio/webm;codecs=opus' } }, 400,
      'transcription_unavailable');
      // their params are still validated first
      await expectError(u, { type: 'attachments.create', params: { name: 'cat.png' } }, 400, 'invalid_request');
      await expectError(u, { type: 'attachments.delete', params: {} }, 400, 'invalid_request');
      await expectError(u, { type: 'input.transcribe', params: { audio_base64: 'x' } }, 400, 'invalid_request');
      // a message naming an attachment that does not exist creates nothing
      await expectError(u, { type: 'threads.create', params: { input: {
        content: [{ type: 'input_text', text: 'see file' }], attachments: [`atc_${'8'.repeat(32)}`],
        inference_options: {} } } }, 404, 'attachment_not_found');
      assert.equal(await threadCount(u), 0);
    });
});

// ---------------------------------------------------------------------------------------------

describe('validation before streaming: a 4xx JSON error and nothing created', () => {
  let u;
  let other; // another user (another cookie)
  let threadId;
  let otherThread;
  let items;
  before(async () => {
    u = await session();
    other = await session();
    assert.notEqual(u.uid, other.uid);
    ({ threadId } = await ck.create(srv, u, 'hello'));
    otherThread = (await ck.create(srv, other, 'secret plans')).threadId;
    items = await ck.allItems(srv, u, threadId);
  });

  const UNKNOWN_THR = `thr_${'9'.repeat(32)}`;
  const inp = ck.input('hi');
  // [name, body (or a function of the context), status, code]
  const cases = [
    ['malformed JSON', '{"type":"threads.list","params":{', 400, 'invalid_request'],
    ['an empty body', '', 400, 'invalid_request'],
    ['trailing garbage', '{"type":"threads.list","params":{}} x', 400, 'invalid_request'],
    ['a JSON array', '[{"type":"threads.list","params":{}}]', 400, 'invalid_request'],
    ['a JSON string', '"threads.list"', 400, 'invalid_request'],
    ['null', 'null', 400, 'invalid_request'],
    ['no type', { params: {} }, 400, 'invalid_request'],
    ['a numeric type', { type: 5, params: {} }, 400, 'invalid_request'],
    ['an unknown type', { type: 'threads.nope', params: {} }, 400, 'invalid_request'],
    ['a type in the wrong case', { type: 'Threads.List', params: {} }, 400, 'invalid_request'],
    ['missing params (threads.list)', { type: 'threads.list' }, 400, 'invalid_request'],
    ['params null', { type: 'threads.list', params: null }, 400, 'invalid_request'],
    ['params an array', { type: 'threads.list', params: [] }, 400, 'invalid_request'],
    ['metadata not an object', { type: 'threads.list', params: {}, metadata: 'x' }, 400, 'invalid_request'],
    ['create: missing params', { type: 'threads.create' }, 400, 'invalid_request'],
    ['create: missing input', { type: 'threads.create', params: {} }, 400, 'invalid_request'],
    ['create: input a string', { type: 'threads.create', params: { input: 'hi' } }, 400, 'invalid_request'],
    ['create: content missing', { type: 'threads.create', params: { input: { attachments: [], inference_options: {} } } }, 400, 'invalid_request'],
    ['create: content a string', { type: 'threads.create', params: { input: { ...inp, content: 'hi' } } }, 400, 'invalid_request'],
    ['create: text a number', { type: 'threads.create', params: { input: { ...inp, content: [{ type: 'input_text', text: 5 }] } } }, 400, 'invalid_request'],
    ['create: part without type', { type: 'threads.create', params: { input: { ...inp, content: [{ text: 'hi' }] } } }, 400, 'invalid_request'],
    ['create: unknown part type', { type: 'threads.create', params: { input: { ...inp, content: [{ type: 'input_image', text: 'x' }] } } }, 400, 'invalid_request'],
    ['create: tag without id', { type: 'threads.create', params: { input: { ...inp, content: [{ type: 'input_tag', text: 'x' }] } } }, 400, 'invalid_request'],
    ['create: attachments missing', { type: 'threads.create', params: { input: { content: inp.content, inference_options: {} } } }, 400, 'invalid_request'],
    ['create: attachments of numbers', { type: 'threads.create', params: { input: { ...inp, attachments: [1] } } }, 400, 'invalid_request'],
    ['create: inference_options missing', { type: 'threads.create', params: { input: { content: inp.content, attachments: [] } } }, 400, 'invalid_request'],
    ['create: inference_options null', { type: 'threads.create', params: { input: { ...inp, inference_options: null } } }, 400, 'invalid_request'],
    ['create: model a number', { type: 'threads.create', params: { input: { ...inp, inference_options: { model: 1 } } } }, 400, 'invalid_request'],
    ['create: quoted_text a number', { type: 'threads.create', params: { input: { ...inp, quoted_text: 1 } } }, 400, 'invalid_request'],
    ['create: an empty message', { type: 'threads.create', params: { input: { ...inp, content: [] } } }, 400, 'invalid_request'],
    ['create: deeply nested', `{"type":"threads.create","params":{"input":${'['.repeat(200)}${']'.repeat(200)}}}`, 400, 'invalid_request'],
    ['add_user_message: thread_id missing', { type: 'threads.add_user_message', params: { input: inp } }, 400, 'invalid_request'],
    ['add_user_message: thread_id a number', { type: 'threads.add_user_message', params: { thread_id: 1, input: inp } }, 400, 'invalid_request'],
    ['add_user_message: input missing', (c) => ({ type: 'threads.add_user_message', params: { thread_id: c.threadId } }), 400, 'invalid_request'],
    ['add_user_message: unknown thread', { type: 'threads.add_user_message', params: { thread_id: UNKNOWN_THR, input: inp } }, 404, 'thread_not_found'],
    ['add_user_message: an overlong thread id', { type: 'threads.add_user_message', params: { thread_id: `thr_${'a'.repeat(5000)}`, input: inp } }, 404],
    ["add_user_message: another user's thread", (c) => ({ type: 'threads.add_user_message', params: { thread_id: c.otherThread, input: inp } }), 404, 'thread_not_found'],
    ["retry_after_item: another user's thread", (c) => ({ type: 'threads.retry_after_item', params: { thread_id: c.otherThread, item_id: 'msg_1' } }), 404, 'thread_not_found'],
    ["custom_action: another user's thread", (c) => ({ type: 'threads.custom_action', params: { thread_id: c.otherThread, action: { type: 'x' } } }), 404, 'thread_not_found'],
    ["add_client_tool_output: another user's thread", (c) => ({ type: 'threads.add_client_tool_output', params: { thread_id: c.otherThread, result: 1 } }), 404, 'thread_not_found'],
    ['retry_after_item: item_id missing', (c) => ({ type: 'threads.retry_after_item', params: { thread_id: c.threadId } }), 400, 'invalid_request'],
    ['retry_after_item: unknown item', (c) => ({ type: 'threads.retry_after_item', params: { thread_id: c.threadId, item_id: `msg_${'9'.repeat(32)}` } }), 404, 'item_not_found'],
    ["retry_after_item: another thread's item", (c) => ({ type: 'threads.retry_after_item', params: { thread_id: c.threadId, item_id: c.otherItem } }), 404, 'item_not_found'],
    ['custom_action: action a string', (c) => ({ type: 'threads.custom_action', params: { thread_id: c.threadId, action: 'go' } }), 400, 'invalid_request'],
    ['custom_action: item_id a number', (c) => ({ type: 'threads.custom_action', params: { thread_id: c.threadId, item_id: 3, action: { type: 'go' } } }), 400, 'invalid_request'],
    ["get_by_id: another user's thread", (c) => ({ type: 'threads.get_by_id', params: { thread_id: c.otherThread } }), 404, 'not_found'],
    ['get_by_id: unknown thread', { type: 'threads.get_by_id', params: { thread_id: UNKNOWN_THR } }, 404, 'not_found'],
    ['get_by_id: thread_id missing', { type: 'threads.get_by_id', params: {} }, 400, 'invalid_request'],
    ["items.list: another user's thread", (c) => ({ type: 'items.list', params: { thread_id: c.otherThread } }), 404, 'not_found'],
    ['items.list: limit negative', (c) => ({ type: 'items.list', params: { thread_id: c.threadId, limit: -1 } }), 400, 'invalid_request'],
    ['items.list: limit a string', (c) => ({ type: 'items.list', params: { thread_id: c.threadId, limit: '5' } }), 400, 'invalid_request'],
    ['items.list: limit fractional', (c) => ({ type: 'items.list', params: { thread_id: c.threadId, limit: 2.5 } }), 400, 'invalid_request'],
    ['items.list: order sideways', (c) => ({ type: 'items.list', params: { thread_id: c.threadId, order: 'up' } }), 400, 'invalid_request'],
    ['items.list: after a number', (c) => ({ type: 'items.list', params: { thread_id: c.threadId, after: 1 } }), 400, 'invalid_request'],
    ["threads.update: another user's thread", (c) => ({ type: 'threads.update', params: { thread_id: c.otherThread, title: 'pwned' } }), 404, 'not_found'],
    ["threads.delete: another user's thread", (c) => ({ type: 'threads.delete', params: { thread_id: c.otherThread } }), 404, 'not_found'],
    ["items.feedback: another user's thread", (c) => ({ type: 'items.feedback', params: { thread_id: c.otherThread, item_ids: [c.otherItem], kind: 'positive' } }), 404, 'not_found'],
    ["sync_custom_action: another user's thread", (c) => ({ type: 'threads.sync_custom_action', params: { thread_id: c.otherThread, action: { type: 'x' } } }), 404, 'not_found'],
    ['threads.list: limit a string', { type: 'threads.list', params: { limit: 'ten' } }, 400, 'invalid_request'],
    ["threads.list: after another user's thread", (c) => ({ type: 'threads.list', params: { after: c.otherThread } }), 404, 'not_found'],
    ["items.list: after another thread's item", (c) => ({ type: 'items.list', params: { thread_id: c.threadId, after: c.otherItem } }), 404, 'not_found'],
    ['add_user_message: an id with path characters', { type: 'threads.add_user_message', params: { thread_id: '../thr_x', input: inp } }, 404, 'thread_not_found'],
    ['create: invalid UTF-8 in the text', Buffer.concat([Buffer.from('{"type":"threads.create","params":{"input":{"content":[{"type":"input_text","text":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('b"}],"attachments":[],"inference_options":{}}}}')]), 400, 'invalid_request'],
    ['create: an overlong UTF-8 NUL in the text', Buffer.concat([Buffer.from('{"type":"threads.create","params":{"input":{"content":[{"type":"input_text","text":"a'), Buffer.from([0xc0, 0x80]), Buffer.from('b"}],"attachments":[],"inference_options":{}}}}')]), 400, 'invalid_request'],
    ['create: a lone surrogate escape', '{"type":"threads.create","params":{"input":{"content":[{"type":"input_text","text":"a\\ud800b"}],"attachments":[],"inference_options":{}}}}', 400, 'invalid_request'],
    ['create: a raw control character in a string', '{"type":"threads.create","params":{"input":{"content":[{"type":"input_text","text":"a\u0001b"}],"attachments":[],"inference_options":{}}}}', 400, 'invalid_request'],
    ['a NUL in a key', '{"type\\u0000x":"threads.list","type":"threads.list","params":{}}', 400, 'invalid_request'],
  ];

  for (const [name, body, status, code] of cases) {
    test(`${status}: ${name}`, T, async () => {
      const ctx = { threadId, otherThread, otherItem: undefined };
      ctx.otherItem = (await ck.allItems(srv, other, otherThread))[0].id;
      const b = typeof body === 'function' ? body(ctx) : body;
      const n = await threadCount(u);
      await expectError(u, b, status, code);
      assert.equal(await threadCount(u), n, 'no thread was created');
      assert.deepEqual(await ck.allItems(srv, u, threadId), items, 'no item was created');
      // the other user's thread is untouched
      const o = await ck.call(srv, other, 'threads.get_by_id', { thread_id: otherThread });
      assert.equal(o.title, 'secret plans');
      assert.equal(o.items.data.length, 2);
      assert.equal(await threadCount(other), 1);
    });
  }

  test('unknown extra fields are ignored everywhere', T, async () => {
    const v = await session();
    const l = await ck.post(srv, v, { type: 'threads.list', params: { limit: 5, foo: [1] }, metadata: { a: null }, extra: true });
    assert.equal(l.status, 200, l.text);
    assert.deepEqual(JSON.parse(l.text), EMPTY_PAGE);
    const ev = await ck.stream(srv, v, {
      type: 'threads.create', surprise: 1,
      params: { also: 'ignored', input: { ...ck.input('hello'), foo: 'bar',
        content: [{ type: 'input_text', text: 'hello', bold: true }],
        inference_options: { temperature: 3 } } },
    });
    assert.deepEqual(ev[1].item.content, [{ type: 'input_text', text: 'hello' }]);
    assert.deepEqual(ev[1].item.inference_options, {});
    assert.equal(await threadCount(v), 1);
  });

  test('a second session of the same user sees the thread; another user never does', T, async () => {
    const same = await session(srv, u.uid);
    const g = await ck.call(srv, same, 'threads.get_by_id', { thread_id: threadId });
    assert.deepEqual(g.items.data, items);
    const l = await ck.listThreads(srv, other);
    assert.deepEqual(l.data.map((t) => t.id), [otherThread]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('unicode and size', () => {
  test('text round-trips exactly: NUL, U+2028/U+2029, emoji, RTL, escapes', T, async () => {
    const u = await session();
    const texts = [
      'nul\u0000inside',
      'line\u2028sep\u2029para',
      'emoji 👩‍👩‍👧 🎉 \u{1F600} 𝄞',
      'RTL مرحبا بالعالم שלום עולם \u200f!',
      'quotes " back \\ slash / newline\n tab\t bell-free',
      'e\u0301 combining, BOM \uFEFF, replacement \uFFFD, max \u{10FFFF}',
      '<script>alert(1)</script> &amp;',
    ];
    const { threadId, events } = await ck.create(srv, u, texts[0]);
    const streamed = [events[1].item.content[0].text];
    for (const t of texts.slice(1)) {
      const ev = await ck.say(srv, u, threadId, t);
      streamed.push(ev[0].item.content[0].text);
    }
    assert.deepEqual(streamed, texts, 'the streamed user messages');
    const g = await ck.call(srv, u, 'threads.get_by_id', { thread_id: threadId });
    const stored = g.items.data.filter((i) => i.type === 'user_message').map((i) => i.content[0].text);
    assert.deepEqual(stored, texts, 'the stored user messages');
    assert.equal(typeof g.title, 'string');
    assert.ok(!g.title.includes('\u0000'), 'no NUL in the title');
  });

  test('a 128 KiB message streams and round-trips', T, async () => {
    const u = await session();
    let text = '';
    const unit = 'Grüße, 世界! 0123456789 ';
    while (Buffer.byteLength(text) < 128 * 1024) text += unit;
    text = text.slice(0, 128 * 1024 - 40) + ' end \u2028 🎉';
    const { threadId, events } = await ck.create(srv, u, text);
    assert.equal(events[1].item.content[0].text, text);
    assert.ok(ck.answerText(events).length > 0, 'the agent answered');
    const up = events.find((e) => e.type === 'thread.updated');
    assert.ok(up && up.thread.title.length <= 64, 'a short title');
    const g = await ck.call(srv, u, 'threads.get_by_id', { thread_id: threadId });
    assert.equal(g.items.data[0].content[0].text, text);
    const l = await ck.call(srv, u, 'items.list', { thread_id: threadId, order: 'asc' });
    assert.equal(l.data[0].content[0].text, text);
    const ev2 = await ck.say(srv, u, threadId, text + text.slice(0, 1000));
    assert.equal(ev2[0].item.content[0].text, text + text.slice(0, 1000));
  });
});

// ---------------------------------------------------------------------------------------------

describe('cancel, concurrency, load', () => {
  // Sends a streaming request on a raw socket and drops the connection at a chosen moment.
  async function abortAt(u, body, when) {
    const c = await h.RawConn.open(srv.port);
    const payload = Buffer.from(JSON.stringify(body));
    await c.write(Buffer.concat([Buffer.from(
      'POST /chatkit HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
      `Authorization: Bearer ${u.secret}\r\nContent-Length: ${payload.length}\r\n\r\n`), payload]));
    if (when === 'head') await c.waitFor(() => c.text().includes('\r\n\r\n'), 5000, 'the head');
    else if (when === 'body') await c.waitFor(() => c.text().includes('data: '), 5000, 'the first event');
    if (when === 'reset') c.sock.resetAndDestroy();
    else c.destroy();
    return c;
  }

  test('a client that disconnects mid-turn cancels it; the thread and server stay healthy', T,
    async () => {
      const u = await session();
      const { threadId } = await ck.create(srv, u, 'hello');
      const modes = ['body', 'head', 'now', 'reset', 'body', 'now', 'head', 'reset'];
      const texts = ['add cancelled errand one', "what's due this week?", 'help', 'add cancelled errand two',
        'hello', 'add cancelled errand three', 'help', 'hello'];
      for (let i = 0; i < modes.length; i++) {
        await abortAt(u, { type: 'threads.add_user_message', params: { thread_id: threadId, input: ck.input(texts[i]) } }, modes[i]);
      }
      // a create dropped right after its first event
      await abortAt(u, { type: 'threads.create', params: { input: ck.input('add dropped create') } }, 'body');
      // the thread lock was released each time: a normal turn completes
      const ev = await ck.say(srv, u, threadId, 'hello');
      assert.equal(checkAssistantStreams(ev).length, 1);
      const health = await h.get(srv, '/health');
      assert.equal(health.status, 200, health.text);
      const items = await ck.allItems(srv, u, threadId);
      assertNoHidden(items, 'after cancels');
      for (const it of items) {
        if (it.type === 'assistant_message') {
          assert.ok(it.content[0].text.trim().length > 0, 'no blank assistant message was saved');
        }
      }
      assert.equal(items[items.length - 1].id, ck.doneItems(ev, 'assistant_message')[0].id);
      assert.deepEqual(items[items.length - 2], ev[0].item);
      const users = items.filter((i) => i.type === 'user_message').map((i) => i.content[0].text);
      for (const t of users.slice(1, -1)) assert.ok(texts.includes(t), t);
      // every stored turn is whole and in order: a user message is never followed by another
      // turn's answer text
      for (let i = 0; i + 1 < items.length; i++) {
        if (items[i].type === 'user_message' && items[i + 1].type === 'assistant_message' &&
          /^add /.test(items[i].content[0].text)) {
          assert.match(items[i + 1].content[0].text, /^Added|^I /);
        }
      }
      // the server stays responsive (the after() hook checks the sanitizer output on stop)
      assert.equal((await ck.listThreads(srv, u)).data.length >= 1, true);
    });

  test('a connection reset while the agent answers after a store round trip (100 times)', T,
    async () => {
      // The answer text is emitted after an asynchronous step, when the event queue is idle, so
      // the send fails synchronously inside the agent's own call: the cancel must not free the
      // agent's state under it (a use-after-free once).
      const u = await session();
      const { threadId } = await ck.create(srv, u, 'hello');
      const texts = ["what's due this week?", 'mark the unicorn one done', 'mark the third one done'];
      for (let i = 0; i < 100; i++) {
        const c = await h.RawConn.open(srv.port);
        const p = Buffer.from(JSON.stringify({ type: 'threads.add_user_message',
          params: { thread_id: threadId, input: ck.input(texts[i % 3]) } }));
        await c.write(Buffer.concat([Buffer.from('POST /chatkit HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
          `Content-Type: application/json\r\nAuthorization: Bearer ${u.secret}\r\nContent-Length: ${p.length}\r\n\r\n`), p]));
        await c.waitFor(() => c.text().includes('data: '), 5000, 'the first event').catch(() => {});
        c.sock.resetAndDestroy();
      }
      const health = await h.get(srv, '/health');
      assert.equal(health.status, 200);
      h.assertNoSanitizerReport(srv.stderrText());
      const ev = await ck.say(srv, u, threadId, 'hello');
      assert.equal(checkAssistantStreams(ev).length, 1);
      const items = await ck.allItems(srv, u, threadId);
      for (const it of items) {
        if (it.type === 'assistant_message') assert.ok(it.content[0].text.trim(), 'no blank answer stored');
      }
    });

  test('5 concurrent turns on one thread are serialized, never interleaved', T, async () => {
    const u = await session();
    const { threadId } = await ck.create(srv, u, 'hello');
    const names = ['alpha', 'bravo', 'charlie', 'delta', 'echo'];
    const results = await Promise.all(names.map((n) => ck.say(srv, u, threadId, `add errand ${n}`)));
    results.forEach((ev, i) => {
      assert.equal(ev[0].item.content[0].text, `add errand ${names[i]}`);
      assert.equal(ev[1].type, 'stream_options');
      assert.match(ck.answerText(ev), new RegExp(`^Added \\*\\*errand ${names[i]}\\*\\*`));
    });
    const items = await ck.allItems(srv, u, threadId);
    assert.equal(items.length, 2 + 5 * 3);
    const seen = [];
    for (let i = 2; i < items.length; i += 3) {
      const [um, x, y] = items.slice(i, i + 3);
      assert.equal(um.type, 'user_message');
      const card = [x, y].find((it) => it.type === 'widget');
      const answer = [x, y].find((it) => it.type === 'assistant_message');
      assert.ok(card && answer, `a card and an answer follow each message: ${x.type}, ${y.type}`);
      const name = um.content[0].text.slice('add errand '.length);
      seen.push(name);
      assert.match(answer.content[0].text, new RegExp(`\\*\\*errand ${name}\\*\\*`), 'its own answer');
      assert.ok(ck.findNodes(card.widget, (n) => n.type === 'Text' && n.value === `errand ${name}`).length, 'its own card');
    }
    assert.deepEqual([...seen].sort(), names);
    assert.equal((await ck.tasks(srv, u)).length, 5);
  });

  test('a thread deleted while turns run on it: every request ends cleanly, nothing survives', T,
    async () => {
      const u = await session();
      const { threadId, events } = await ck.create(srv, u, 'add survive the storm');
      const [card] = ck.widgets(events);
      const b = ck.buttons(card.widget).find((x) => x.label === 'Complete');
      const body = (text) => ({ type: 'threads.add_user_message', params: { thread_id: threadId, input: ck.input(text) } });
      const reqs = [
        ck.post(srv, u, body('add storm one')),
        ck.post(srv, u, body("what's due this week?")),
        ck.post(srv, u, { type: 'threads.custom_action', params: { thread_id: threadId, item_id: card.id, action: b.onClickAction } }),
        ck.post(srv, u, body('hello')),
        ck.post(srv, u, { type: 'threads.delete', params: { thread_id: threadId } }),
        ck.post(srv, u, body('add storm two')),
        ck.post(srv, u, { type: 'threads.retry_after_item', params: { thread_id: threadId, item_id: events[1].item.id } }),
      ];
      const rs = await Promise.all(reqs);
      for (const r of rs) {
        assert.ok(r.status === 200 || r.status === 404, `${r.status} ${r.text.slice(0, 300)}`);
        if (r.status === 200 && /event-stream/.test(r.headers['content-type'])) ck.parseSSE(r.buf);
      }
      assert.equal(rs[4].status, 200, 'the delete succeeded');
      await expectError(u, { type: 'threads.get_by_id', params: { thread_id: threadId } }, 404);
      await expectError(u, { type: 'items.list', params: { thread_id: threadId } }, 404);
      assert.deepEqual((await ck.listThreads(srv, u)).data, []);
      const health = await h.get(srv, '/health');
      assert.equal(health.status, 200);
      // the user can go on
      const again = await ck.create(srv, u, 'hello');
      assert.equal(ck.doneItems(again.events, 'assistant_message').length, 1);
    });

  test('50 parallel threads.create make 50 threads', T, async () => {
    const u = await session();
    const made = await Promise.all(Array.from({ length: 50 }, (_, i) => ck.create(srv, u, `hello ${i}`)));
    for (const m of made) {
      assert.equal(count(m.events, 'thread.updated'), 1);
      assert.equal(ck.doneItems(m.events, 'assistant_message').length, 1);
    }
    const ids = made.map((m) => m.threadId);
    assert.equal(new Set(ids).size, 50);
    const all = await ck.listThreads(srv, u, { limit: 100 });
    assert.equal(all.data.length, 50);
    assert.equal(all.has_more, false);
    assert.deepEqual(new Set(all.data.map((t) => t.id)), new Set(ids));
    const first = await ck.listThreads(srv, u);
    assert.equal(first.data.length, 20, 'the default limit is 20');
    assert.equal(first.has_more, true);
    assert.equal(first.after, first.data[19].id);
    const titles = new Set(all.data.map((t) => t.title));
    assert.equal(titles.size, 50, 'each thread got its own title');
  });
});

// ---------------------------------------------------------------------------------------------

describe('CORS and auth', () => {
  let corsSrv;
  before(async () => {
    corsSrv = await h.startServer({ args: ['--cors-origins', 'http://app.example', '--session-rate', '100000'] });
    servers.push(corsSrv);
  });

  function options(s, origin) {
    const headers = { 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type' };
    if (origin) headers.Origin = origin;
    return h.request(s.url, 'OPTIONS', '/chatkit', { headers });
  }

  test('OPTIONS /chatkit without --cors-origins: 204, no Access-Control-Allow-Origin', T, async () => {
    for (const origin of ['http://app.example', undefined]) {
      const r = await options(srv, origin);
      assert.equal(r.status, 204);
      assert.equal(r.text, '');
      assert.equal(r.headers['access-control-allow-origin'], undefined);
      assert.match(r.headers.allow, /POST/);
    }
    const u = await session();
    const r = await ck.post(srv, u, { type: 'threads.list', params: {} }, { headers: { Origin: 'http://app.example' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], undefined);
  });

  test('with --cors-origins: the header for that origin only, on preflights, JSON and streams', T,
    async () => {
      const ok = await options(corsSrv, 'http://app.example');
      assert.equal(ok.status, 204);
      assert.equal(ok.headers['access-control-allow-origin'], 'http://app.example');
      assert.match(ok.headers['access-control-allow-methods'], /POST/);
      assert.match(ok.headers['access-control-allow-headers'], /Authorization/i);
      assert.match(ok.headers['access-control-allow-headers'], /Content-Type/i);
      assert.match(ok.headers.vary || '', /Origin/);
      for (const bad of ['http://evil.example', 'http://app.example.evil', 'https://app.example', 'null']) {
        const r = await options(corsSrv, bad);
        assert.equal(r.status, 204);
        assert.equal(r.headers['access-control-allow-origin'], undefined, bad);
      }
      const u = await session(corsSrv);
      const j = await ck.post(corsSrv, u, { type: 'threads.list', params: {} }, { headers: { Origin: 'http://app.example' } });
      assert.equal(j.status, 200);
      assert.equal(j.headers['access-control-allow-origin'], 'http://app.example');
      const s = await ck.post(corsSrv, u, { type: 'threads.create', params: { input: ck.input('hello') } },
        { headers: { Origin: 'http://app.example' } });
      assert.equal(s.status, 200);
      assert.equal(s.headers['access-control-allow-origin'], 'http://app.example');
      ck.parseSSE(s.buf);
      const e = await ck.post(corsSrv, u, { type: 'threads.list', params: {} }, { headers: { Origin: 'http://evil.example' } });
      assert.equal(e.status, 200);
      assert.equal(e.headers['access-control-allow-origin'], undefined);
    });

  test('missing or invalid bearer: 401 JSON, nothing created', T, async () => {
    const body = { type: 'threads.create', params: { input: ck.input('hello') } };
    const asRes = (r) => ({ status: r.status, headers: r.headers, text: r.text, json: () => JSON.parse(r.text) });
    h.assertError(asRes(await ck.post(srv, null, body)), 401, 'missing_client_secret');
    h.assertError(asRes(await ck.post(srv, { secret: 'ek_not_a_real_secret' }, body)), 401, 'invalid_client_secret');
    h.assertError(asRes(await ck.post(srv, null, body, { headers: { Authorization: 'Basic dXNlcjpwYXNz' } })), 401);
    h.assertError(asRes(await ck.post(srv, null, { type: 'threads.list', params: {} })), 401, 'missing_client_secret');
    h.assertError(asRes(await ck.post(srv, null, 'not json')), 401, 'missing_client_secret');
  });

  test('GET /chatkit is the chat page; PUT is 405 with Allow', T, async () => {
    const page = await h.get(srv, '/chatkit');
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type'], /^text\/html/);
    const r = await h.request(srv.url, 'PUT', '/chatkit');
    h.assertError(r, 405, 'method_not_allowed');
    assert.match(r.headers.allow, /POST/);
    assert.match(r.headers.allow, /GET/);
  });
});
