'use strict';
// Tasks: the REST API (/api/tasks), its validation, filters and paging, per-user isolation, and
// the live feed GET /api/events (docs/api.md "Tasks").

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const T = { timeout: 30000 };
const TASK_ID = /^task_[0-9a-f]{32}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

let srv;
const servers = [];

before(async () => {
  // Paging walks and filter tables make many requests with one secret.
  srv = await h.startServer({ args: ['--session-rate', '100000'] });
  servers.push(srv);
});

after(() => h.stopAll(servers));

// A new browser session: a new user unless cookie names an existing one.
async function session(s = srv, cookie) {
  const r = await h.mintBrowser(s, { headers: cookie ? { Cookie: `chatkitd_uid=${cookie}` } : {} });
  assert.equal(r.status, 200, r.text);
  const uid = cookie || h.uidCookie(r).value;
  return { secret: r.json().client_secret, uid };
}

function api(user, method, path, body, s = srv) {
  const headers = user ? { Authorization: `Bearer ${user.secret}` } : {};
  return h.request(s.url, method, path, { headers, body });
}

async function create(user, body) {
  const r = await api(user, 'POST', '/api/tasks', body);
  assert.equal(r.status, 201, r.text);
  return r.json();
}

// An open GET /api/events (see helpers.openFeed).
function openFeed(user, s = srv) {
  return h.openFeed(s, user);
}

// The feed is registered once the server answered its headers; a round trip through the same
// server after that guarantees later changes are published to it.
async function openReadyFeed(user, s = srv) {
  const f = await openFeed(user, s);
  assert.equal(f.status, 200);
  return f;
}

describe('REST CRUD', () => {
  test('POST creates a task: 201, Location, the task with defaults', T, async () => {
    const u = await session();
    const t0 = Date.now();
    const r = await api(u, 'POST', '/api/tasks', { title: '  Buy milk  ', unknown_field: 1 });
    assert.equal(r.status, 201, r.text);
    assert.match(r.headers['content-type'], /^application\/json/);
    const t = r.json();
    assert.match(t.id, TASK_ID);
    assert.equal(r.headers.location, `/api/tasks/${t.id}`);
    assert.deepEqual(Object.keys(t),
      ['id', 'title', 'status', 'priority', 'tags', 'created_at', 'updated_at']);
    assert.equal(t.title, 'Buy milk');
    assert.equal(t.status, 'open');
    assert.equal(t.priority, 'normal');
    assert.deepEqual(t.tags, []);
    assert.match(t.created_at, ISO);
    assert.equal(t.updated_at, t.created_at);
    assert.ok(Math.abs(Date.parse(t.created_at) - t0) < 60000);
  });

  test('POST with every field; GET returns the same task', T, async () => {
    const u = await session();
    const t = await create(u, {
      title: 'Call mum', notes: 'about\nSunday', due_date: '2026-12-05', due_time: '17:00',
      tz: 'Europe/Paris', priority: 'high', tags: ['Family', '#phone', 'family'],
    });
    assert.deepEqual(t.tags, ['family', 'phone']);
    assert.equal(t.notes, 'about\nSunday');
    assert.equal(t.due_time, '17:00');
    assert.equal(t.tz, 'Europe/Paris');
    const g = await api(u, 'GET', `/api/tasks/${t.id}`);
    assert.equal(g.status, 200);
    assert.deepEqual(g.json(), t);
  });

  test('PATCH changes only the given fields; null clears; done stamps completed_at', T, async () => {
    const u = await session();
    const t = await create(u, {
      title: 'Report', notes: 'draft', due_date: '2026-12-05', due_time: '09:30',
      priority: 'low', tags: ['work'],
    });
    let r = await api(u, 'PATCH', `/api/tasks/${t.id}`, { title: 'Final report' });
    assert.equal(r.status, 200, r.text);
    let p = r.json();
    assert.deepEqual({ ...p, updated_at: undefined },
      { ...t, title: 'Final report', updated_at: undefined });
    assert.ok(p.updated_at >= t.updated_at);

    r = await api(u, 'PATCH', `/api/tasks/${t.id}`, { status: 'done' });
    p = r.json();
    assert.equal(p.status, 'done');
    assert.match(p.completed_at, ISO);

    r = await api(u, 'PATCH', `/api/tasks/${t.id}`, { notes: null, due_date: null, tags: null });
    p = r.json();
    assert.equal(p.notes, undefined);
    assert.equal(p.due_date, undefined);
    assert.equal(p.due_time, undefined, 'the time goes with its date');
    assert.deepEqual(p.tags, []);
    assert.equal(p.status, 'done');

    r = await api(u, 'PATCH', `/api/tasks/${t.id}`, { status: 'open' });
    p = r.json();
    assert.equal(p.status, 'open');
    assert.equal(p.completed_at, undefined);
    assert.equal(p.title, 'Final report');
    assert.deepEqual((await api(u, 'GET', `/api/tasks/${t.id}`)).json(), p);
  });

  test('DELETE answers 204; the task is gone after', T, async () => {
    const u = await session();
    const t = await create(u, { title: 'Temporary' });
    const d = await api(u, 'DELETE', `/api/tasks/${t.id}`);
    assert.equal(d.status, 204);
    assert.equal(d.text, '');
    h.assertError(await api(u, 'GET', `/api/tasks/${t.id}`), 404, 'task_not_found');
    h.assertError(await api(u, 'DELETE', `/api/tasks/${t.id}`), 404, 'task_not_found');
    h.assertError(await api(u, 'PATCH', `/api/tasks/${t.id}`, { title: 'x' }), 404,
      'task_not_found');
  });

  test('unknown and malformed ids are 404 task_not_found', T, async () => {
    const u = await session();
    for (const id of ['task_00000000000000000000000000000000', 'task_1', 'nope', 'task_%2e%2e']) {
      h.assertError(await api(u, 'GET', `/api/tasks/${id}`), 404, 'task_not_found');
    }
  });

  test('unicode titles and notes round-trip exactly', T, async () => {
    const u = await session();
    const title = '日本語のタスク 🎉 café \u2028 Ωμέγα';
    const notes = 'line 1\nline 2\t"quoted" <b>not html</b> \u2029 end';
    const t = await create(u, { title, notes });
    assert.equal(t.title, title);
    assert.equal(t.notes, notes);
    const g = (await api(u, 'GET', `/api/tasks/${t.id}`)).json();
    assert.equal(g.title, title);
    assert.equal(g.notes, notes);
    const long = 'é'.repeat(500);
    assert.equal((await create(u, { title: long })).title, long);
  });

  test('methods the resource does not have are 405 with Allow', T, async () => {
    const u = await session();
    const r = await api(u, 'PUT', '/api/tasks', { title: 'x' });
    h.assertError(r, 405, 'method_not_allowed');
    assert.match(r.headers.allow, /GET/);
    assert.match(r.headers.allow, /POST/);
  });
});

describe('validation', () => {
  const cases = [
    [{}, 'title is required'],
    [{ title: '' }, 'title must be 1 to 500 characters'],
    [{ title: '   ' }, 'title must be 1 to 500 characters'],
    [{ title: 'a'.repeat(501) }, 'title must be 1 to 500 characters'],
    [{ title: 7 }, 'title must be a string of 1 to 500 characters'],
    [{ title: 'a\u0007b' }, 'title must not contain control characters'],
    [{ title: 'tab\there' }, 'title must not contain control characters'],
    [{ title: 'x', notes: 'n'.repeat(10001) }, 'notes must be at most 10000 characters'],
    [{ title: 'x', status: 'closed' }, 'status must be "open" or "done"'],
    [{ title: 'x', due_date: '2026-02-30' }, 'due_date must be a real calendar date written YYYY-MM-DD'],
    [{ title: 'x', due_date: 'tomorrow' }, 'due_date must be a real calendar date written YYYY-MM-DD'],
    [{ title: 'x', due_time: '10:00' }, 'due_time needs a due_date'],
    [{ title: 'x', due_date: '2026-01-01', due_time: '24:00' }, 'due_time must be HH:MM between 00:00 and 23:59'],
    [{ title: 'x', tz: 'Mars/Olympus' }, 'tz: unknown time zone Mars/Olympus (use an IANA name such as Europe/Paris)'],
    [{ title: 'x', tz: '../../etc/passwd' }, 'tz must be an IANA time zone name such as Europe/Paris'],
    [{ title: 'x', priority: 'urgent' }, 'priority must be "low", "normal" or "high"'],
    [{ title: 'x', tags: 'a,b' }, 'tags must be an array of strings'],
    [{ title: 'x', tags: ['two words'] }, "tags may only contain letters, digits, '-' and '_'"],
    [{ title: 'x', tags: ['t'.repeat(65)] }, 'each tag must be 1 to 64 characters'],
    [{ title: 'x', tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, 'a task may have at most 20 tags'],
  ];
  for (const [body, message] of cases) {
    test(`400 invalid_task: ${message} (${JSON.stringify(body).slice(0, 60)})`, T, async () => {
      const u = await session();
      const e = h.assertError(await api(u, 'POST', '/api/tasks', body), 400, 'invalid_task');
      assert.equal(e.message, message);
      const list = (await api(u, 'GET', '/api/tasks')).json();
      assert.equal(list.data.length, 0, 'nothing was created');
    });
  }

  test('malformed JSON, a non-object body, an empty body and NUL escapes are refused', T, async () => {
    const u = await session();
    h.assertError(await api(u, 'POST', '/api/tasks', '{"title":'), 400, 'invalid_json');
    h.assertError(await api(u, 'POST', '/api/tasks', ''), 400, 'invalid_json');
    h.assertError(await api(u, 'POST', '/api/tasks', '["title"]'), 400, 'invalid_task');
    const e = h.assertError(await api(u, 'POST', '/api/tasks', '{"title":"a\\u0000b"}'), 400,
      'invalid_task');
    assert.match(e.message, /NUL/);
    // an escaped backslash followed by "u0000" is ordinary text
    const t = await create(u, '{"title":"C:\\\\u0000"}');
    assert.equal(t.title, 'C:\\u0000');
  });

  test('a PATCH that breaks a rule changes nothing', T, async () => {
    const u = await session();
    const t = await create(u, { title: 'Keep me', priority: 'low' });
    const e = h.assertError(
      await api(u, 'PATCH', `/api/tasks/${t.id}`, { title: 'Changed', priority: 'urgent' }),
      400, 'invalid_task');
    assert.equal(e.message, 'priority must be "low", "normal" or "high"');
    h.assertError(await api(u, 'PATCH', `/api/tasks/${t.id}`, { due_time: '08:00' }), 400,
      'invalid_task');
    h.assertError(await api(u, 'PATCH', `/api/tasks/${t.id}`, { title: null }), 400,
      'invalid_task');
    assert.deepEqual((await api(u, 'GET', `/api/tasks/${t.id}`)).json(), t);
  });

  test('bad query parameters are 400 invalid_request', T, async () => {
    const u = await session();
    for (const q of ['status=closed', 'priority=urgent', 'limit=0', 'limit=101', 'limit=abc',
      'limit=5x', 'after=garbage', 'due_before=12%2F05', 'due_after=2026-02-30', 'order=sideways',
      'tag=two%20words', `q=${'x'.repeat(300)}`, 'after=task_00000000000000000000000000000000']) {
      h.assertError(await api(u, 'GET', `/api/tasks?${q}`), 400, 'invalid_request');
    }
  });
});

describe('filters and paging', () => {
  let u;
  let ids;
  before(async () => {
    u = await session();
    ids = {};
    const specs = [
      ['milk', { title: 'Buy milk', tags: ['groceries'], due_date: '2026-12-01' }],
      ['eggs', { title: 'Buy eggs', tags: ['groceries', 'urgent'], priority: 'high', due_date: '2026-12-05' }],
      ['report', { title: 'Quarterly report', notes: 'the NUMBERS', due_date: '2026-12-10', tags: ['work'] }],
      ['done', { title: 'Old thing', status: 'done', priority: 'low' }],
      ['call', { title: 'Call the bank', priority: 'high' }],
    ];
    for (const [k, body] of specs) ids[k] = (await create(u, body)).id;
  });

  const cases = [
    ['', ['milk', 'eggs', 'report', 'done', 'call']],
    ['status=all', ['milk', 'eggs', 'report', 'done', 'call']],
    ['status=open', ['milk', 'eggs', 'report', 'call']],
    ['status=done', ['done']],
    ['tag=groceries', ['milk', 'eggs']],
    ['tag=%23Groceries', ['milk', 'eggs']],
    ['tag=nothing', []],
    ['priority=high', ['eggs', 'call']],
    ['priority=low', ['done']],
    ['due_before=2026-12-05', ['milk', 'eggs']],
    ['due_after=2026-12-05', ['eggs', 'report']],
    ['due_after=2026-12-02&due_before=2026-12-09', ['eggs']],
    ['q=numbers', ['report']],
    ['q=BUY', ['milk', 'eggs']],
    ['q=buy&priority=high', ['eggs']],
    ['status=open&tag=groceries&due_before=2026-12-03', ['milk']],
    ['order=desc', ['call', 'done', 'report', 'eggs', 'milk']],
  ];
  for (const [q, want] of cases) {
    test(`GET /api/tasks?${q}`, T, async () => {
      const r = await api(u, 'GET', `/api/tasks?${q}`);
      assert.equal(r.status, 200, r.text);
      const b = r.json();
      assert.deepEqual(b.data.map((t) => t.id), want.map((k) => ids[k]));
      assert.equal(b.has_more, false);
      assert.equal('after' in b, false);
    });
  }

  test('a paging walk visits every task once, in order', T, async () => {
    const p = await session();
    const made = [];
    for (let i = 0; i < 23; i++) made.push((await create(p, { title: `task ${i}` })).id);
    for (const order of ['asc', 'desc']) {
      const seen = [];
      const sizes = [];
      let after;
      for (let guard = 0; guard < 10; guard++) {
        const q = `limit=5&order=${order}${after ? `&after=${after}` : ''}`;
        const b = (await api(p, 'GET', `/api/tasks?${q}`)).json();
        sizes.push(b.data.length);
        seen.push(...b.data.map((t) => t.id));
        if (!b.has_more) {
          assert.equal('after' in b, false);
          break;
        }
        assert.equal(b.after, b.data[b.data.length - 1].id);
        after = b.after;
      }
      assert.deepEqual(sizes, [5, 5, 5, 5, 3]);
      assert.deepEqual(seen, order === 'asc' ? made : [...made].reverse());
    }
    const b = (await api(p, 'GET', '/api/tasks')).json();
    assert.equal(b.data.length, 23, 'the default page holds 50');
    const full = (await api(p, 'GET', '/api/tasks?limit=23')).json();
    assert.equal(full.has_more, false);
  });
});

describe('auth and isolation', () => {
  test('every route needs a client secret', T, async () => {
    for (const [m, p] of [['GET', '/api/tasks'], ['POST', '/api/tasks'],
      ['GET', '/api/tasks/task_00000000000000000000000000000000'],
      ['PATCH', '/api/tasks/task_00000000000000000000000000000000'],
      ['DELETE', '/api/tasks/task_00000000000000000000000000000000'], ['GET', '/api/events']]) {
      const r = await api(null, m, p, m === 'POST' || m === 'PATCH' ? { title: 'x' } : undefined);
      h.assertError(r, 401, 'missing_client_secret');
      h.assertError(await api({ secret: 'ek_not_a_real_secret' }, m, p), 401,
        'invalid_client_secret');
    }
  });

  test("another user's task does not exist for you", T, async () => {
    const a = await session();
    const b = await session();
    assert.notEqual(a.uid, b.uid);
    const t = await create(a, { title: "Alice's secret plan" });
    h.assertError(await api(b, 'GET', `/api/tasks/${t.id}`), 404, 'task_not_found');
    h.assertError(await api(b, 'PATCH', `/api/tasks/${t.id}`, { title: 'pwned' }), 404,
      'task_not_found');
    h.assertError(await api(b, 'DELETE', `/api/tasks/${t.id}`), 404, 'task_not_found');
    assert.deepEqual((await api(b, 'GET', '/api/tasks?status=all')).json().data, []);
    assert.deepEqual((await api(a, 'GET', `/api/tasks/${t.id}`)).json(), t);
    // paging with another user's id as the cursor reveals nothing either
    h.assertError(await api(b, 'GET', `/api/tasks?after=${t.id}`), 400, 'invalid_request');
  });

  test('two sessions of the same user share the tasks', T, async () => {
    const a = await session();
    const a2 = await session(srv, a.uid);
    const t = await create(a, { title: 'Shared' });
    assert.deepEqual((await api(a2, 'GET', `/api/tasks/${t.id}`)).json(), t);
  });
});

describe('GET /api/events', () => {
  test('a feed gets created, updated and deleted for its user, from another connection', T,
    async () => {
      const a = await session();
      const a2 = await session(srv, a.uid); // another session (and connection) of the same user
      const feed = await openReadyFeed(a);
      assert.match(feed.headers['content-type'], /^text\/event-stream/);
      assert.equal(feed.headers['cache-control'], 'no-cache');
      const t = await create(a2, { title: 'Live', tags: ['x'] });
      const p = (await api(a2, 'PATCH', `/api/tasks/${t.id}`, { status: 'done' })).json();
      assert.equal((await api(a, 'DELETE', `/api/tasks/${t.id}`)).status, 204);
      await feed.waitFor((f) => f.events.length >= 3);
      assert.deepEqual(feed.events, [
        { type: 'task.created', task: t },
        { type: 'task.updated', task: p },
        { type: 'task.deleted', task: p },
      ]);
      feed.close();
    });

  test("another user's changes never reach a feed", T, async () => {
    const a = await session();
    const b = await session();
    const fa = await openReadyFeed(a);
    const fb = await openReadyFeed(b);
    const ta = await create(a, { title: 'For A' });
    await api(a, 'PATCH', `/api/tasks/${ta.id}`, { priority: 'high' });
    await api(a, 'DELETE', `/api/tasks/${ta.id}`);
    // Events are published in order on one loop: once B's own event arrives, anything of A's
    // would already have been seen.
    const tb = await create(b, { title: 'For B' });
    await fb.waitFor((f) => f.events.length >= 1);
    await fa.waitFor((f) => f.events.length >= 3);
    assert.deepEqual(fb.events, [{ type: 'task.created', task: tb }]);
    assert.equal(fa.events.some((e) => e.task.id === tb.id), false);
    fa.close();
    fb.close();
  });

  test('two feeds of the same user both receive every event', T, async () => {
    const a = await session();
    const f1 = await openReadyFeed(a);
    const f2 = await openReadyFeed(await session(srv, a.uid));
    const t = await create(a, { title: 'Both' });
    await api(a, 'PATCH', `/api/tasks/${t.id}`, { title: 'Both, renamed' });
    await f1.waitFor((f) => f.events.length >= 2);
    await f2.waitFor((f) => f.events.length >= 2);
    assert.deepEqual(f1.events, f2.events);
    assert.deepEqual(f1.events.map((e) => e.type), ['task.created', 'task.updated']);
    assert.equal(f1.events[1].task.title, 'Both, renamed');
    // a feed that left does not hold the others back
    f1.close();
    await h.delay(100);
    await api(a, 'DELETE', `/api/tasks/${t.id}`);
    await f2.waitFor((f) => f.events.length >= 3);
    assert.equal(f2.events[2].type, 'task.deleted');
    f2.close();
  });

  test('a rejected change publishes nothing', T, async () => {
    const a = await session();
    const f = await openReadyFeed(a);
    h.assertError(await api(a, 'POST', '/api/tasks', { title: '' }), 400, 'invalid_task');
    h.assertError(await api(a, 'DELETE', '/api/tasks/task_00000000000000000000000000000000'), 404,
      'task_not_found');
    const t = await create(a, { title: 'marker' });
    await f.waitFor((x) => x.events.length >= 1);
    assert.deepEqual(f.events, [{ type: 'task.created', task: t }]);
    f.close();
  });

  test('HEAD /api/events answers the headers and ends', T, async () => {
    const a = await session();
    const r = await api(a, 'HEAD', '/api/events');
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'], /^text\/event-stream/);
    assert.equal(r.text, '');
  });

  test('SIGTERM ends open feeds and the server exits 0 promptly', T, async () => {
    const s = await h.startServer();
    const a = await session(s);
    const feeds = [await openReadyFeed(a, s), await openReadyFeed(a, s), await openReadyFeed(a, s)];
    const t0 = Date.now();
    const code = await s.stop('SIGTERM', 8000);
    assert.equal(code, 0, s.stderrText().slice(-2000));
    assert.ok(Date.now() - t0 < 3000, `exit took ${Date.now() - t0} ms (the drain waited)`);
    for (const f of feeds) await f.waitFor((x) => x.ended, 2000, 'the feed to end');
    assert.match(s.stderrText(), /ended 3 task event feed\(s\) for shutdown/);
  });
});
