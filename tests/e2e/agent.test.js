'use strict';
// The built-in task agent (builtin:tasks) through the real server: a table of conversations, each
// on a fresh user, checking what the agent answered (text and widgets) and what it did to the
// user's tasks (GET /api/tasks). Dates are UTC: the agent reads "today" in UTC.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');
const ck = require('./chatkit_client');

const T = { timeout: 30000 };

let srv;
const servers = [];

before(async () => {
  srv = await h.startServer({ args: ['--session-rate', '100000'] });
  servers.push(srv);
});

after(() => h.stopAll(servers));

// ---- dates (UTC, like the agent) ----

function isoOf(d) {
  return d.toISOString().slice(0, 10);
}
function todayUTC() {
  const n = new Date();
  return new Date(Date.UTC(n.getUTCFullYear(), n.getUTCMonth(), n.getUTCDate()));
}
function plusDays(d, n) {
  return new Date(d.getTime() + n * 86400000);
}
const weekday = (d) => (d.getUTCDay() + 6) % 7; // 0 = Monday
const day = (n) => isoOf(plusDays(todayUTC(), n));
// "friday": the next Friday strictly after today
function nextWeekdayAfterToday(wd) {
  const t = todayUTC();
  let n = (wd - weekday(t) + 7) % 7;
  if (n === 0) n = 7;
  return isoOf(plusDays(t, n));
}
// "next monday": Monday of next week
function mondayOfNextWeek() {
  const t = todayUTC();
  return isoOf(plusDays(t, 7 - weekday(t)));
}

// ---- reading a turn ----

function texts(ev) {
  return ck.answerText(ev);
}
function listView(ev) {
  const w = ck.widgets(ev).filter((i) => i.widget.type === 'ListView');
  assert.equal(w.length, 1, `one ListView widget; got ${JSON.stringify(ck.widgets(ev).map((i) => i.widget.type))}`);
  return w[0];
}
function rowKeys(item) {
  return item.widget.children.map((r) => {
    assert.equal(r.type, 'ListViewItem');
    return r.key;
  });
}
function card(ev) {
  const w = ck.widgets(ev).filter((i) => i.widget.type === 'Card');
  assert.equal(w.length, 1, `one Card widget; got ${JSON.stringify(ck.widgets(ev).map((i) => i.widget.type))}`);
  return w[0];
}
function noWidgets(ev) {
  assert.deepEqual(ck.widgets(ev), [], 'no widget');
}
function noErrors(ev) {
  assert.deepEqual(ev.filter((e) => e.type === 'error'), [], 'no error event');
}
function textNode(widget, value) {
  return ck.findNodes(widget, (n) => n.type === 'Text' && n.value === value)[0];
}
function badges(widget) {
  return ck.findNodes(widget, (n) => n.type === 'Badge').map((b) => b.label);
}

// ---- the conversation runner ----

// Runs a case on a fresh user: creates the setup tasks over REST, then sends each utterance in
// one thread (the first creates it). Returns the context the check reads.
async function converse(c) {
  const u = await ck.session(srv);
  const made = [];
  for (const body of c.setup || []) made.push(await ck.createTask(srv, u, body));
  const ctx = { u, made, events: [], threadId: null };
  for (const text of c.say) {
    let ev;
    if (!ctx.threadId) {
      const r = await ck.create(srv, u, text);
      ctx.threadId = r.threadId;
      ev = r.events;
    } else {
      ev = await ck.say(srv, u, ctx.threadId, text);
    }
    noErrors(ev);
    ctx.events.push(ev);
  }
  ctx.last = ctx.events[ctx.events.length - 1];
  ctx.tasks = () => ck.tasks(srv, u);
  ctx.byTitle = async (title) => (await ctx.tasks()).find((t) => t.title === title);
  return ctx;
}

const unchanged = async (ctx) => assert.deepEqual(await ctx.tasks(), ctx.made, 'no task changed');

const cases = [
  // ---- adding ----
  {
    name: 'add with date, time and priority',
    say: ['add call mum tomorrow at 5pm, high priority'],
    async check(ctx) {
      const tasks = await ctx.tasks();
      assert.equal(tasks.length, 1);
      const t = tasks[0];
      assert.equal(t.title, 'call mum');
      assert.equal(t.due_date, day(1));
      assert.equal(t.due_time, '17:00');
      assert.equal(t.priority, 'high');
      assert.equal(t.status, 'open');
      const c = card(ctx.last);
      assert.equal(c.widget.key, t.id);
      assert.ok(textNode(c.widget, 'call mum'), 'the card shows the title');
      assert.ok(badges(c.widget).includes('High priority'), badges(c.widget).join(','));
      assert.match(texts(ctx.last), /^Added \*\*call mum\*\*.*high priority/s);
    },
  },
  {
    name: 'add with tags',
    say: ['add buy eggs #groceries #Shop'],
    async check(ctx) {
      const [t] = await ctx.tasks();
      assert.equal(t.title, 'buy eggs');
      assert.deepEqual(t.tags, ['groceries', 'shop']);
      assert.equal(t.due_date, undefined);
      assert.equal(t.priority, 'normal');
      assert.ok(badges(card(ctx.last).widget).includes('#groceries'));
    },
  },
  {
    name: 'add with an ISO date',
    say: ['add renew passport 2027-03-14'],
    async check(ctx) {
      const [t] = await ctx.tasks();
      assert.equal(t.title, 'renew passport');
      assert.equal(t.due_date, '2027-03-14');
      assert.equal(t.due_time, undefined);
    },
  },
  {
    name: '"remind me to" with "in 3 days"',
    say: ['remind me to water the plants in 3 days'],
    async check(ctx) {
      const [t] = await ctx.tasks();
      assert.equal(t.title, 'water the plants');
      assert.equal(t.due_date, day(3));
    },
  },
  {
    name: 'add with low priority words',
    say: ['add tidy the garage, no rush'],
    async check(ctx) {
      const [t] = await ctx.tasks();
      assert.equal(t.title, 'tidy the garage');
      assert.equal(t.priority, 'low');
      assert.ok(badges(card(ctx.last).widget).includes('Low priority'));
    },
  },
  {
    name: 'add "next monday" with a morning time',
    say: ['add dentist appointment next monday at 9:30am'],
    async check(ctx) {
      const [t] = await ctx.tasks();
      assert.equal(t.title, 'dentist appointment');
      assert.equal(t.due_date, mondayOfNextWeek());
      assert.equal(t.due_time, '09:30');
    },
  },
  {
    name: 'add "on friday at noon"',
    say: ['add team lunch on friday at noon'],
    async check(ctx) {
      const [t] = await ctx.tasks();
      assert.equal(t.title, 'team lunch');
      assert.equal(t.due_date, nextWeekdayAfterToday(4));
      assert.equal(t.due_time, '12:00');
    },
  },
  {
    name: 'quoted words stay in the title',
    say: ['add "Monday meeting notes" tomorrow'],
    async check(ctx) {
      const [t] = await ctx.tasks();
      assert.equal(t.title, 'Monday meeting notes');
      assert.equal(t.due_date, day(1));
    },
  },
  {
    name: 'titles keep case and non-ASCII letters',
    say: ['add Buy Café Beans für Zoë tomorrow'],
    async check(ctx) {
      const [t] = await ctx.tasks();
      assert.equal(t.title, 'Buy Café Beans für Zoë');
      assert.equal(t.due_date, day(1));
    },
  },
  {
    name: 'a message with only a date and time is an add',
    say: ['dentist friday 3pm'],
    async check(ctx) {
      const [t] = await ctx.tasks();
      assert.equal(t.title, 'dentist');
      assert.equal(t.due_date, nextWeekdayAfterToday(4));
      assert.equal(t.due_time, '15:00');
    },
  },
  {
    name: '"add" alone asks what to add and adds nothing',
    say: ['add'],
    async check(ctx) {
      assert.deepEqual(await ctx.tasks(), []);
      noWidgets(ctx.last);
      assert.match(texts(ctx.last), /What should the task say\?/);
    },
  },

  // ---- listing ----
  {
    name: "what's due this week? -> a ListView of this week's open tasks",
    setup: [
      { title: 'due today', due_date: day(0) },
      { title: 'due in 8 days', due_date: day(8) },
      { title: 'no due date' },
      { title: 'done today', due_date: day(0), status: 'done' },
    ],
    say: ["what's due this week?"],
    async check(ctx) {
      const lv = listView(ctx.last);
      assert.deepEqual(rowKeys(lv), [ctx.made[0].id]);
      assert.match(texts(ctx.last), /^Here is 1 task/);
      await unchanged(ctx);
    },
  },
  {
    name: 'show my tasks -> the open tasks in order',
    setup: [{ title: 'one' }, { title: 'two', status: 'done' }, { title: 'three', due_date: day(2) }],
    say: ['show my tasks'],
    async check(ctx) {
      assert.deepEqual(rowKeys(listView(ctx.last)), [ctx.made[0].id, ctx.made[2].id]);
      assert.match(texts(ctx.last), /^Here are 2 tasks/);
    },
  },
  {
    name: 'show completed tasks',
    setup: [{ title: 'one' }, { title: 'two', status: 'done' }],
    say: ['show completed tasks'],
    async check(ctx) {
      const lv = listView(ctx.last);
      assert.deepEqual(rowKeys(lv), [ctx.made[1].id]);
      assert.equal(textNode(lv.widget, 'two').lineThrough, true);
    },
  },
  {
    name: "what's overdue?",
    setup: [{ title: 'late', due_date: day(-1) }, { title: 'later', due_date: day(1) }, { title: 'undated' }],
    say: ["what's overdue?"],
    async check(ctx) {
      assert.deepEqual(rowKeys(listView(ctx.last)), [ctx.made[0].id]);
    },
  },
  {
    name: 'show tasks tagged work',
    setup: [{ title: 'report', tags: ['work'] }, { title: 'milk', tags: ['groceries'] }, { title: 'slides', tags: ['work', 'urgent'] }],
    say: ['show tasks tagged work'],
    async check(ctx) {
      assert.deepEqual(rowKeys(listView(ctx.last)), [ctx.made[0].id, ctx.made[2].id]);
    },
  },
  {
    name: 'show high priority tasks',
    setup: [{ title: 'a', priority: 'high' }, { title: 'b' }, { title: 'c', priority: 'low' }],
    say: ['show high priority tasks'],
    async check(ctx) {
      assert.deepEqual(rowKeys(listView(ctx.last)), [ctx.made[0].id]);
    },
  },
  {
    name: 'a list with no match says so, without a widget',
    setup: [{ title: 'a', tags: ['work'] }],
    say: ['show tasks tagged holiday'],
    async check(ctx) {
      noWidgets(ctx.last);
      assert.match(texts(ctx.last), /^Nothing here/);
    },
  },

  // ---- acting on tasks ----
  {
    name: 'mark the second one done (after a list)',
    setup: [{ title: 'first task' }, { title: 'second task' }, { title: 'third task' }],
    say: ['show my tasks', 'mark the second one done'],
    async check(ctx) {
      const keys = rowKeys(listView(ctx.events[0]));
      assert.equal(keys.length, 3);
      const tasks = await ctx.tasks();
      const done = tasks.filter((t) => t.status === 'done').map((t) => t.id);
      assert.deepEqual(done, [keys[1]]);
      const c = card(ctx.last);
      assert.equal(c.widget.key, keys[1]);
      assert.equal(textNode(c.widget, 'second task').lineThrough, true);
      assert.match(texts(ctx.last), /^Marked\b.*\*\*second task\*\*.*\bdone\b|^Marked as done \*\*second task\*\*/s);
    },
  },
  {
    name: '"mark it done" after adding',
    say: ['add call the bank', 'mark it done'],
    async check(ctx) {
      const [t] = await ctx.tasks();
      assert.equal(t.title, 'call the bank');
      assert.equal(t.status, 'done');
    },
  },
  {
    name: 'complete by title words',
    setup: [{ title: 'Book dentist' }, { title: 'Buy milk' }],
    say: ['mark the dentist one done'],
    async check(ctx) {
      assert.equal((await ctx.byTitle('Book dentist')).status, 'done');
      assert.equal((await ctx.byTitle('Buy milk')).status, 'open');
      assert.equal(card(ctx.last).widget.key, ctx.made[0].id);
    },
  },
  {
    name: 'reopen by title words',
    setup: [{ title: 'Book dentist', status: 'done' }],
    say: ['reopen the dentist one'],
    async check(ctx) {
      assert.equal((await ctx.byTitle('Book dentist')).status, 'open');
      assert.match(texts(ctx.last), /^Reopened\b.*\*\*Book dentist\*\*/s);
    },
  },
  {
    name: 'rename',
    setup: [{ title: 'buy milk', tags: ['groceries'] }],
    say: ['rename the milk task to buy oat milk'],
    async check(ctx) {
      const [t] = await ctx.tasks();
      assert.equal(t.id, ctx.made[0].id);
      assert.equal(t.title, 'buy oat milk');
      assert.deepEqual(t.tags, ['groceries']);
      assert.match(texts(ctx.last), /^Renamed\b.*\*\*buy oat milk\*\*/s);
    },
  },
  {
    name: 'reschedule to a weekday and time',
    setup: [{ title: 'Book dentist', due_date: day(1) }],
    say: ['move the dentist to friday 3pm'],
    async check(ctx) {
      const [t] = await ctx.tasks();
      assert.equal(t.due_date, nextWeekdayAfterToday(4));
      assert.equal(t.due_time, '15:00');
      assert.match(texts(ctx.last), /^Rescheduled\b.*\*\*Book dentist\*\*/s);
    },
  },
  {
    name: 'postpone by 2 days',
    setup: [{ title: 'Quarterly report', due_date: '2026-12-10', due_time: '09:00' }],
    say: ['postpone the report by 2 days'],
    async check(ctx) {
      const [t] = await ctx.tasks();
      assert.equal(t.due_date, '2026-12-12');
      assert.equal(t.due_time, '09:00', 'a shift keeps the time');
    },
  },
  {
    name: 'remove the due date',
    setup: [{ title: 'Quarterly report', due_date: '2026-12-10', due_time: '09:00' }],
    say: ['remove the due date from the report'],
    async check(ctx) {
      const [t] = await ctx.tasks();
      assert.equal(t.due_date, undefined);
      assert.equal(t.due_time, undefined);
    },
  },
  {
    name: 'reprioritise',
    setup: [{ title: 'Quarterly report' }, { title: 'Lunch' }],
    say: ['make the report urgent'],
    async check(ctx) {
      assert.equal((await ctx.byTitle('Quarterly report')).priority, 'high');
      assert.equal((await ctx.byTitle('Lunch')).priority, 'normal');
      assert.ok(badges(card(ctx.last).widget).includes('High priority'));
    },
  },
  {
    name: 'delete one task by title (no confirmation for one named task)',
    setup: [{ title: 'buy milk' }, { title: 'call mum' }],
    say: ['delete the milk task'],
    async check(ctx) {
      assert.deepEqual((await ctx.tasks()).map((t) => t.title), ['call mum']);
      assert.match(texts(ctx.last), /^Deleted\b.*\*\*buy milk\*\*/s);
      noWidgets(ctx.last);
    },
  },
  {
    name: 'delete everything tagged groceries: a confirmation card, then the confirm action',
    setup: [{ title: 'milk', tags: ['groceries'] }, { title: 'report', tags: ['work'] }, { title: 'eggs', tags: ['groceries'] }],
    say: ['delete everything tagged groceries'],
    async check(ctx) {
      const c = card(ctx.last);
      await unchanged(ctx); // nothing deleted yet
      assert.match(texts(ctx.last), /^Delete these 2 tasks\?/);
      assert.ok(textNode(c.widget, 'milk') || JSON.stringify(c.widget).includes('milk'));
      const confirm = c.widget.confirm;
      assert.ok(confirm, `the card has a confirm action: ${JSON.stringify(c.widget).slice(0, 500)}`);
      assert.equal(confirm.action.type, 'task.delete_confirmed');
      assert.deepEqual(confirm.action.payload, { task_ids: [ctx.made[0].id, ctx.made[2].id] });
      assert.equal(c.widget.cancel.action.type, 'task.cancel_delete');
      const ev = await ck.action(srv, ctx.u, ctx.threadId, c.id, confirm.action.type, confirm.action.payload);
      noErrors(ev);
      const rep = ev.filter((e) => e.type === 'thread.item.replaced');
      assert.equal(rep.length, 1);
      assert.equal(rep[0].item.id, c.id);
      assert.ok(textNode(rep[0].item.widget, 'Deleted 2 tasks.'), JSON.stringify(rep[0].item.widget));
      assert.deepEqual((await ctx.tasks()).map((t) => t.title), ['report']);
    },
  },
  {
    name: 'a bulk delete cancelled deletes nothing',
    setup: [{ title: 'milk', tags: ['groceries'] }, { title: 'eggs', tags: ['groceries'] }],
    say: ['delete everything tagged groceries'],
    async check(ctx) {
      const c = card(ctx.last);
      const cancel = c.widget.cancel.action;
      const ev = await ck.action(srv, ctx.u, ctx.threadId, c.id, cancel.type, cancel.payload);
      noErrors(ev);
      const rep = ev.find((e) => e.type === 'thread.item.replaced');
      assert.ok(textNode(rep.item.widget, 'Nothing was deleted.'));
      await unchanged(ctx);
    },
  },
  {
    name: 'an ambiguous title offers a list to pick from and changes nothing; then pick',
    setup: [{ title: 'call mum' }, { title: 'call dad' }, { title: 'buy bread' }],
    say: ['complete the call one'],
    async check(ctx) {
      const lv = listView(ctx.last);
      assert.deepEqual(rowKeys(lv), [ctx.made[0].id, ctx.made[1].id]);
      assert.match(texts(ctx.last), /2 tasks match/);
      await unchanged(ctx);
      const ev = await ck.say(srv, ctx.u, ctx.threadId, 'mark the second one done');
      noErrors(ev);
      assert.equal((await ctx.byTitle('call dad')).status, 'done');
      assert.equal((await ctx.byTitle('call mum')).status, 'open');
    },
  },
  {
    name: 'an exact title among several matches is not ambiguous',
    setup: [{ title: 'call' }, { title: 'call dad' }],
    say: ['complete call'],
    async check(ctx) {
      assert.equal((await ctx.byTitle('call')).status, 'done');
      assert.equal((await ctx.byTitle('call dad')).status, 'open');
    },
  },
  {
    name: 'no task matches: says so, changes nothing',
    setup: [{ title: 'Book dentist' }],
    say: ['mark the unicorn one done'],
    async check(ctx) {
      assert.match(texts(ctx.last), /couldn.t find an open task matching .unicorn./);
      noWidgets(ctx.last);
      await unchanged(ctx);
    },
  },
  {
    name: 'a position past the last list says so',
    setup: [{ title: 'only one' }],
    say: ['show my tasks', 'mark the third one done'],
    async check(ctx) {
      assert.match(texts(ctx.last), /can.t find that row/);
      await unchanged(ctx);
    },
  },

  // ---- talk ----
  {
    name: 'greeting',
    say: ['hi'],
    async check(ctx) {
      assert.match(texts(ctx.last), /^Hi! I keep your tasks/);
      noWidgets(ctx.last);
      assert.deepEqual(await ctx.tasks(), []);
    },
  },
  {
    name: 'help',
    say: ['help'],
    async check(ctx) {
      const t = texts(ctx.last);
      assert.match(t, /^I can keep your task list/);
      assert.match(t, /\*\*add\*\*/);
      noWidgets(ctx.last);
    },
  },
  {
    name: 'thanks',
    say: ['thanks!'],
    async check(ctx) {
      assert.equal(texts(ctx.last), "You're welcome!");
    },
  },
  {
    name: 'an unknown message gets a useful fallback and changes nothing',
    setup: [{ title: 'keep me' }],
    say: ['purple elephants dance quietly'],
    async check(ctx) {
      const t = texts(ctx.last);
      assert.match(t, /^I didn't catch a task request in that\./);
      assert.match(t, /\*\*add\*\*/);
      noWidgets(ctx.last);
      await unchanged(ctx);
    },
  },
];

describe('the agent and the task feed', () => {
  test("the agent's changes reach GET /api/events like any other change", T, async () => {
    const u = await ck.session(srv);
    const http = require('node:http');
    const events = [];
    let wake = () => {};
    const req = http.request({ host: '127.0.0.1', port: srv.port, path: '/api/events', agent: false,
      headers: { Authorization: `Bearer ${u.secret}` } });
    const res = await new Promise((resolve, reject) => { req.on('response', resolve); req.on('error', reject); req.end(); });
    assert.equal(res.statusCode, 200);
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const f = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (f.startsWith('data: ')) events.push(JSON.parse(f.slice(6)));
      }
      wake();
    });
    res.on('error', () => {});
    const { threadId } = await ck.create(srv, u, 'add feed the fish tomorrow');
    await ck.say(srv, u, threadId, 'mark it done');
    await ck.say(srv, u, threadId, 'delete it');
    await h.withTimeout(new Promise((resolve) => {
      wake = () => { if (events.length >= 3) resolve(); };
      wake();
    }), 5000, `3 feed events; got ${JSON.stringify(events)}`);
    assert.deepEqual(events.map((e) => e.type), ['task.created', 'task.updated', 'task.deleted']);
    assert.equal(events[0].task.title, 'feed the fish');
    assert.equal(events[1].task.status, 'done');
    assert.equal(events[2].task.id, events[0].task.id);
    req.destroy();
  });
});

describe('builtin:tasks conversations', () => {
  test('the table has at least 25 conversations', () => {
    assert.ok(cases.length >= 25, `${cases.length} cases`);
  });
  for (const c of cases) {
    test(c.name, T, async () => {
      const ctx = await converse(c);
      await c.check(ctx);
      // hidden context the agent keeps never reaches the client
      const items = await ck.allItems(srv, ctx.u, ctx.threadId);
      for (const it of items) assert.ok(!/hidden/.test(it.type), it.type);
    });
  }
});
