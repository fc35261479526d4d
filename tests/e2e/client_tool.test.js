'use strict';
// Client tools end to end (spec §9): the built-in agent asks the page for the board's selection
// with get_selected_tasks, the turn ends on the pending call, and threads.add_client_tool_output
// continues it.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');
const ck = require('./chatkit_client');

const T = { timeout: 30000 };
let srv;

before(async () => {
  srv = await h.startServer({ args: ['--session-rate', '100000'] });
});

after(() => h.stopAll([srv]));

test('"complete the selected tasks" round-trips through the client tool', T, async () => {
  const u = await ck.session(srv);
  const a = await ck.createTask(srv, u, { title: 'first' });
  const b = await ck.createTask(srv, u, { title: 'second' });
  const c = await ck.createTask(srv, u, { title: 'third' });
  const { events, threadId } = await ck.create(srv, u, 'complete the selected tasks');
  const calls = ck.doneItems(events, 'client_tool_call');
  assert.equal(calls.length, 1, JSON.stringify(events));
  assert.equal(calls[0].name, 'get_selected_tasks');
  assert.equal(calls[0].status, 'pending');
  assert.equal(calls[0].arguments.for, 'complete');
  assert.equal(events[events.length - 1].type === 'thread.item.done' ||
               events[events.length - 1].type === 'thread.updated', true);
  // Nothing changed before the page answered.
  assert.ok((await ck.tasks(srv, u)).every((t) => t.status === 'open'));

  const cont = await ck.stream(srv, u, {
    type: 'threads.add_client_tool_output',
    params: { thread_id: threadId, result: { task_ids: [a.id, c.id] } },
  });
  assert.equal(cont[0].type, 'stream_options');
  assert.match(ck.answerText(cont), /2 tasks/);
  const after = Object.fromEntries((await ck.tasks(srv, u)).map((t) => [t.id, t.status]));
  assert.deepEqual(after, { [a.id]: 'done', [b.id]: 'open', [c.id]: 'done' });

  // The stored call is completed with the page's output (spec §5.3).
  const items = await ck.allItems(srv, u, threadId);
  const stored = items.find((i) => i.type === 'client_tool_call');
  assert.equal(stored.status, 'completed');
  assert.deepEqual(stored.output, { task_ids: [a.id, c.id] });

  // A second output has no pending call to complete.
  const again = await ck.post(srv, u, {
    type: 'threads.add_client_tool_output', params: { thread_id: threadId, result: {} },
  });
  assert.equal(again.status, 400);
});

test('an empty selection changes nothing and says so', T, async () => {
  const u = await ck.session(srv);
  const t = await ck.createTask(srv, u, { title: 'keep me' });
  const { threadId } = await ck.create(srv, u, 'delete my selection');
  const cont = await ck.stream(srv, u, {
    type: 'threads.add_client_tool_output',
    params: { thread_id: threadId, result: { task_ids: [] } },
  });
  assert.match(ck.answerText(cont), /No tasks are selected/);
  assert.equal((await ck.tasks(srv, u))[0].id, t.id);
});

test('selected tasks of another user are not found', T, async () => {
  const owner = await ck.session(srv);
  const other = await ck.session(srv);
  const t = await ck.createTask(srv, owner, { title: 'not yours' });
  const { threadId } = await ck.create(srv, other, 'mark the selected tasks done');
  const cont = await ck.stream(srv, other, {
    type: 'threads.add_client_tool_output',
    params: { thread_id: threadId, result: { task_ids: [t.id] } },
  });
  assert.match(ck.answerText(cont), /no longer exist/);
  assert.equal((await ck.tasks(srv, owner))[0].status, 'open');
});
