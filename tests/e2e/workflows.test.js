'use strict';
// Workflow files end to end (docs/workflows.md): loading and validation, every node kind,
// branching, approval pause -> restart -> resume, version pinning, SIGHUP reload while streams
// are open, staying with an agent across turns, and the examples under examples/workflows/.

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./helpers');
const ck = require('./chatkit_client');

const T = { timeout: 60000 };
const EXAMPLES = path.join(__dirname, '..', '..', 'examples', 'workflows');
const servers = [];

after(() => h.stopAll(servers));

function writeFlows(dir, flows) {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, doc] of Object.entries(flows)) {
    fs.writeFileSync(path.join(dir, name), typeof doc === 'string' ? doc : JSON.stringify(doc));
  }
  return dir;
}

async function serve(dir, extra = {}) {
  const srv = await h.startServer({
    args: ['--workflows', dir, '--session-rate', '100000', ...(extra.args || [])],
    root: extra.root,
    env: extra.env,
  });
  servers.push(srv);
  return srv;
}

async function stopOne(srv, signal = 'SIGTERM') {
  servers.splice(servers.indexOf(srv), 1);
  return srv.stop(signal);
}

// A browser session (a new user unless cookie is given) on workflow id, optionally pinned.
async function sessionFor(srv, id, version, cookie) {
  const workflow = { id };
  if (version) workflow.version = version;
  const r = await h.mintBrowser(srv, {
    body: { workflow },
    headers: cookie ? { Cookie: `chatkitd_uid=${cookie}` } : {},
  });
  assert.equal(r.status, 200, r.text);
  return { secret: r.json().client_secret, uid: cookie || h.uidCookie(r).value };
}

function edge(from, to, on) {
  return on ? { from, to, on } : { from, to };
}

// start -> set_state -> agent(builtin) -> user_approval -> (approve) agent -> end / (reject) end.
const NODES_FLOW = {
  id: 'wf_nodes',
  version: '1',
  name: 'Every node kind',
  state_variables: {
    stage: { type: 'string', default: 'new' },
    tries: { type: 'number', default: 0 },
  },
  nodes: [
    { id: 'start', type: 'start' },
    { id: 'mark', type: 'set_state', assign: [{ variable: 'stage', value: 'asked' }] },
    { id: 'first', type: 'agent', model: 'builtin:tasks', instructions: 'Help: {{input_as_text}}' },
    { id: 'ask', type: 'user_approval', title: 'Also add "{{input_as_text}}" again?',
      message: 'Stage {{state.stage}}' },
    { id: 'approved', type: 'set_state', assign: [{ variable: 'stage', value: 'approved' }] },
    { id: 'again', type: 'agent', model: 'builtin:tasks' },
    { id: 'yes', type: 'end', message: 'Finished with stage {{state.stage}}.' },
    { id: 'no', type: 'end', message: 'Skipped at stage {{state.stage}}.' },
  ],
  edges: [
    edge('start', 'mark'), edge('mark', 'first'), edge('first', 'ask'),
    edge('ask', 'approved', 'approve'), edge('ask', 'no', 'reject'),
    edge('approved', 'again'), edge('again', 'yes'),
  ],
};

function versionFlow(version, word) {
  return {
    id: 'wf_versions', version, name: `Version ${version}`,
    nodes: [{ id: 'start', type: 'start' }, { id: 'end', type: 'end', message: `This is ${word}.` }],
    edges: [edge('start', 'end')],
  };
}

// start -> approval -> agent (stay) -> end: later turns go straight to the agent.
const STAY_FLOW = {
  id: 'wf_stay', version: '1', name: 'Stay with the agent',
  nodes: [
    { id: 'start', type: 'start' },
    { id: 'gate', type: 'user_approval', title: 'Start planning?' },
    { id: 'planner', type: 'agent', model: 'builtin:tasks', stay: true },
    { id: 'end', type: 'end', message: '(planner)' },
    { id: 'stop', type: 'end', message: 'Not planning.' },
  ],
  edges: [edge('start', 'gate'), edge('gate', 'planner', 'approve'), edge('gate', 'stop', 'reject'),
    edge('planner', 'end')],
};

function approvalCard(events) {
  const cards = ck.widgets(events).filter((w) => w.widget.confirm &&
    w.widget.confirm.action.type === 'workflow.approve');
  assert.equal(cards.length, 1, JSON.stringify(events));
  return cards[0];
}

test('workflows check: the examples pass, every error is file: json-path: reason', T, async () => {
  const ok = await h.runCli(['workflows', 'check', EXAMPLES]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /wf_triage version 1/);
  assert.match(ok.stdout, /wf_bulk_delete version 1/);

  const dir = writeFlows(path.join(h.mkTmp(), 'bad'), {
    'a.json': { ...versionFlow('1', 'a'), nodes: [{ id: 'start', type: 'start' },
      { id: 'x', type: 'agent', model: 'nope:1' }, { id: 'y', type: 'teleport' }],
    edges: [edge('start', 'x'), edge('x', 'ghost')] },
    'b.json': '{"id": "wf_b", ',
    'c.json': { ...versionFlow('1', 'c'), id: 'wf_c', state_variables: { n: { type: 'number', default: 'one' } } },
  });
  const bad = await h.runCli(['workflows', 'check', dir]);
  assert.equal(bad.code, 1);
  const lines = bad.stderr.trim().split('\n');
  for (const l of lines) assert.match(l, /^\S+\.json: \$[^:]*: \S/, l);
  assert.ok(lines.some((l) => l.endsWith("a.json: $.nodes[1].model: 'nope:1' is not builtin:tasks, " +
    'openai:<model> or compat:<provider>/<model>')), bad.stderr);
  assert.ok(lines.some((l) => /a\.json: \$\.nodes\[2\]\.type: 'teleport' is not/.test(l)), bad.stderr);
  assert.ok(lines.some((l) => /a\.json: \$\.edges\[1\]\.to: no node 'ghost'/.test(l)), bad.stderr);
  assert.ok(lines.some((l) => /b\.json: \$: not valid JSON/.test(l)), bad.stderr);
  assert.ok(lines.some((l) => /c\.json: \$\.state_variables\.n\.default: must be a number/.test(l)),
    bad.stderr);

  // serve refuses the same directory with the same lines.
  const srv = await h.runCli(['serve', '--listen', '127.0.0.1:0', '--workflows', dir,
    '--data-dir', path.join(h.mkTmp(), 'd')]);
  assert.equal(srv.code, 2);
  assert.match(srv.stderr, /a\.json: \$\.edges\[1\]\.to: no node 'ghost'/);
});

test('every node kind: set_state, agent, user_approval (approve and reject), end', T, async () => {
  const dir = writeFlows(path.join(h.mkTmp(), 'wf'), { 'nodes.json': NODES_FLOW });
  const srv = await serve(dir);
  const u = await sessionFor(srv, 'wf_nodes');
  const { events, threadId } = await ck.create(srv, u, 'add buy milk');
  assert.match(ck.answerText(events), /milk/i);
  const card = approvalCard(events);
  assert.equal(card.widget.children[0].value, 'Also add "add buy milk" again?');
  assert.equal(card.widget.children[1].value, 'Stage asked');
  assert.equal((await ck.tasks(srv, u)).length, 1);

  const resumed = await ck.action(srv, u, threadId, card.id, 'workflow.approve', card.widget.confirm.action.payload);
  const replaced = resumed.filter((e) => e.type === 'thread.item.replaced');
  assert.equal(replaced.length, 1);
  assert.equal(replaced[0].item.widget.children[1].value, 'Approved');
  assert.match(ck.answerText(resumed), /Finished with stage approved\./);
  // The second agent answered the message the run paused on, in the action's turn.
  assert.match(ck.answerText(resumed), /milk/i);

  // A second approval of the same card has nothing to resume.
  const twice = await ck.action(srv, u, threadId, card.id, 'workflow.approve', {});
  assert.equal(twice.at(-1).type, 'error');
  assert.match(twice.at(-1).message, /no longer pending/);

  // Reject path on a new thread.
  const r2 = await ck.create(srv, u, 'add walk the dog');
  const card2 = approvalCard(r2.events);
  const rejected = await ck.action(srv, u, r2.threadId, card2.id, 'workflow.reject', {});
  assert.match(ck.answerText(rejected), /Skipped at stage asked\./);
  const items = await ck.allItems(srv, u, r2.threadId);
  const stored = items.find((i) => i.id === card2.id);
  assert.equal(stored.widget.children[1].value, 'Rejected');
});

test('an approval survives a crash: SIGKILL, restart, approve, the run resumes', T, async () => {
  const root = h.mkTmp();
  const dir = writeFlows(path.join(root, 'wf'), { 'nodes.json': NODES_FLOW });
  const first = await serve(dir, { root });
  const u = await sessionFor(first, 'wf_nodes');
  const { events, threadId } = await ck.create(first, u, 'add pay rent');
  const card = approvalCard(events);
  await stopOne(first, 'SIGKILL');

  const second = await serve(dir, { root });
  const u2 = await sessionFor(second, 'wf_nodes', undefined, u.uid);
  const resumed = await ck.action(second, u2, threadId, card.id, 'workflow.approve', {});
  assert.match(ck.answerText(resumed), /Finished with stage approved\./);
  const titles = (await ck.tasks(second, u2)).map((t) => t.title);
  assert.ok(titles.every((t) => /pay rent/i.test(t)) && titles.length >= 1, JSON.stringify(titles));
});

test('version pinning: a session pinned to an older version keeps it', T, async () => {
  const dir = writeFlows(path.join(h.mkTmp(), 'wf'), {
    'v1.json': versionFlow('1', 'version one'),
    'v2.json': versionFlow('2', 'version two'),
  });
  const srv = await serve(dir);
  const pinned = await sessionFor(srv, 'wf_versions', '1');
  const latest = await sessionFor(srv, 'wf_versions');
  assert.match(ck.answerText((await ck.create(srv, pinned, 'hi')).events), /This is version one\./);
  assert.match(ck.answerText((await ck.create(srv, latest, 'hi')).events), /This is version two\./);
  const missing = await h.mintBrowser(srv, { body: { workflow: { id: 'wf_versions', version: '3' } } });
  assert.equal(missing.status, 404);
});

test('SIGHUP reloads: open streams stay, new turns see new graphs, bad files are refused', T, async () => {
  const dir = writeFlows(path.join(h.mkTmp(), 'wf'), { 'v1.json': versionFlow('1', 'before') });
  const srv = await serve(dir);
  const u = await sessionFor(srv, 'wf_versions');
  const { threadId } = await ck.create(srv, u, 'hi');

  // A live feed is an open stream; it must survive the reload and keep delivering.
  const ac = new AbortController();
  const feed = { text: '' };
  const http = require('node:http');
  const feedReq = http.get({ host: '127.0.0.1', port: srv.port, path: '/api/events', agent: false,
    headers: { Authorization: `Bearer ${u.secret}` }, signal: ac.signal }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (d) => { feed.text += d; });
  });
  feedReq.on('error', () => {});
  await h.waitUntil(() => feed.text.length > 0 || true, { what: 'feed open' });
  await h.delay(200);

  writeFlows(dir, { 'v2.json': versionFlow('2', 'after') });
  srv.proc.kill('SIGHUP');
  await h.waitUntil(() => /reloaded/.test(srv.stderrText()), { what: 'the reload log line' });
  assert.match(ck.answerText(await ck.say(srv, u, threadId, 'again')), /This is after\./);
  const pinned = await sessionFor(srv, 'wf_versions', '1');
  assert.match(ck.answerText((await ck.create(srv, pinned, 'hi')).events), /This is before\./);

  await ck.createTask(srv, u, { title: 'after reload' });
  await h.waitUntil(() => /after reload/.test(feed.text), { what: 'the feed event after SIGHUP' });

  // A broken file is refused and the loaded set stays.
  fs.writeFileSync(path.join(dir, 'v3.json'), '{"id": "wf_versions", "version": "3"}');
  srv.proc.kill('SIGHUP');
  await h.waitUntil(() => /reload refused/.test(srv.stderrText()), { what: 'the refusal' });
  assert.match(srv.stderrText(), /v3\.json: \$\.name: is required/);
  assert.match(ck.answerText(await ck.say(srv, u, threadId, 'still')), /This is after\./);
  ac.abort();
});

test('a workflow can stay with its agent across turns instead of restarting at start', T, async () => {
  const dir = writeFlows(path.join(h.mkTmp(), 'wf'), { 'stay.json': STAY_FLOW });
  const srv = await serve(dir);
  const u = await sessionFor(srv, 'wf_stay');
  const { events, threadId } = await ck.create(srv, u, 'add plan the trip');
  const card = approvalCard(events);
  assert.equal((await ck.tasks(srv, u)).length, 0);
  const resumed = await ck.action(srv, u, threadId, card.id, 'workflow.approve', {});
  assert.match(ck.answerText(resumed), /\(planner\)/);
  assert.equal((await ck.tasks(srv, u)).length, 1);
  // The next message goes straight to the planner: no approval card this time.
  const next = await ck.say(srv, u, threadId, 'add book the hotel');
  assert.equal(ck.widgets(next).filter((w) => w.widget.confirm).length, 0);
  assert.match(ck.answerText(next), /\(planner\)/);
  assert.equal((await ck.tasks(srv, u)).length, 2);
  // A new thread starts at start again.
  const fresh = await ck.create(srv, u, 'add other');
  approvalCard(fresh.events);
});

test('the default workflow is the task assistant and a file can replace it', T, async () => {
  const dir = writeFlows(path.join(h.mkTmp(), 'wf'), {
    'tasks.json': { ...versionFlow('7', 'my own wf_tasks'), id: 'wf_tasks' },
  });
  const srv = await serve(dir);
  const u = await ck.session(srv);
  assert.match(ck.answerText((await ck.create(srv, u, 'hi')).events), /This is my own wf_tasks\./);
  const plain = await serve(path.join(h.mkTmp(), 'empty-missing'), {}).catch((e) => e);
  assert.ok(plain instanceof Error, 'a missing workflows directory stops the server');
});


// A fake OpenAI Responses upstream: answer(body) returns the text the model "says"; the answer
// completes after delayMs (the first words come at once).
function fakeOpenAI(answer, { delayMs = 0 } = {}) {
  const http = require('node:http');
  const seen = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const doc = JSON.parse(body);
      seen.push(doc);
      const text = answer(doc);
      const id = `resp_${seen.length}`;
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      const send = (type, obj) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...obj })}\n\n`);
      send('response.created', { response: { id } });
      send('response.output_text.delta', { item_id: `msg_${id}`, delta: text });
      setTimeout(() => {
        send('response.completed', { response: { id, usage: { input_tokens: 11, output_tokens: 7 } } });
        res.end();
      }, delayMs);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () =>
    resolve({ url: `http://127.0.0.1:${server.address().port}`, seen, close: () => server.close() })));
}

// The thread's stored metadata (server-private; read from either backend).
const threadMetadata = (srv, threadId) => h.threadMetadata(srv, threadId);

function modelEnv(upstream) {
  return { OPENAI_API_KEY: 'sk-test-0123456789abcdef', OPENAI_BASE_URL: upstream.url };
}

test('SIGHUP during a streaming turn: the stream finishes on the graph it started with', T, async () => {
  const upstream = await fakeOpenAI(() => 'Thinking it over.', { delayMs: 1500 });
  const flow = (word) => ({
    id: 'wf_slow', version: '1', name: 'Slow model',
    nodes: [{ id: 'start', type: 'start' }, { id: 'think', type: 'agent', model: 'openai:gpt-test' },
      { id: 'end', type: 'end', message: `graph ${word}` }],
    edges: [edge('start', 'think'), edge('think', 'end')],
  });
  const dir = writeFlows(path.join(h.mkTmp(), 'wf'), { 'slow.json': flow('old') });
  try {
    const srv = await serve(dir, { env: modelEnv(upstream) });
    const u = await sessionFor(srv, 'wf_slow');
    const turn = ck.create(srv, u, 'take your time');
    await h.waitUntil(() => upstream.seen.length === 1, { what: 'the model call' });
    writeFlows(dir, { 'slow.json': flow('new') });
    srv.proc.kill('SIGHUP');
    await h.waitUntil(() => /reloaded/.test(srv.stderrText()), { what: 'the reload' });
    const { events } = await turn;
    assert.match(ck.answerText(events), /Thinking it over\.\ngraph old/);
    const again = await ck.create(srv, u, 'again');
    assert.match(ck.answerText(again.events), /graph new/);
  } finally {
    upstream.close();
  }
});

test('if_else branches both ways; set_state expressions; the triage example stays with the planner', T, async () => {
  const srv = await serve(EXAMPLES);
  const u = await sessionFor(srv, 'wf_triage');
  // true branch: the planner, which the thread then stays with.
  const plan = await ck.create(srv, u, 'add plan the week review');
  assert.match(ck.answerText(plan.events), /\(planner: planner\)/);
  const next = await ck.say(srv, u, plan.threadId, 'add buy stamps');
  assert.match(ck.answerText(next), /\(planner: planner\)/);
  // false branch on a new thread: the task agent, no planner marker.
  const other = await ck.create(srv, u, 'add buy bread');
  assert.doesNotMatch(ck.answerText(other.events), /planner/);
  assert.match(ck.answerText(other.events), /bread/i);
  const titles = (await ck.tasks(srv, u)).map((t) => t.title).sort();
  assert.equal(titles.length, 3, JSON.stringify(titles));
});

test('the bulk-delete example asks first: reject keeps the tasks, approve deletes them', T, async () => {
  const srv = await serve(EXAMPLES);
  const u = await sessionFor(srv, 'wf_bulk_delete');
  for (const title of ['milk', 'eggs']) await ck.createTask(srv, u, { title, tags: ['groceries'] });
  const ask = await ck.create(srv, u, 'delete everything in groceries');
  const card = approvalCard(ask.events);
  assert.match(card.widget.children[1].value, /You asked: "delete everything in groceries"/);
  const no = await ck.action(srv, u, ask.threadId, card.id, 'workflow.reject', {});
  assert.match(ck.answerText(no), /Nothing was deleted\./);
  assert.equal((await ck.tasks(srv, u)).length, 2);

  const ask2 = await ck.say(srv, u, ask.threadId, 'delete everything in groceries');
  const card2 = approvalCard(ask2);
  const yes = await ck.action(srv, u, ask.threadId, card2.id, 'workflow.approve', {});
  // The task agent asks its own confirmation for several tasks; confirm it.
  const confirm = ck.widgets(yes).find((w) => w.widget.confirm &&
    w.widget.confirm.action.type === 'task.delete_confirmed');
  assert.ok(confirm, JSON.stringify(yes));
  await ck.action(srv, u, ask.threadId, confirm.id, 'task.delete_confirmed',
    confirm.widget.confirm.action.payload);
  assert.equal((await ck.tasks(srv, u)).length, 0);
  // Non-delete messages go straight to the assistant.
  const add = await ck.say(srv, u, ask.threadId, 'add call mum');
  assert.equal(ck.widgets(add).filter((w) => w.widget.confirm &&
    w.widget.confirm.action.type === 'workflow.approve').length, 0);
});

test('an expression that fails at run time ends the turn with an error naming the node', T, async () => {
  const dir = writeFlows(path.join(h.mkTmp(), 'wf'), {
    'bad.json': {
      id: 'wf_expr', version: '1', name: 'Bad at run time',
      state_variables: { n: { type: 'number', default: 1 } },
      nodes: [{ id: 'start', type: 'start' },
        { id: 'calc', type: 'set_state', assign: [{ variable: 'n', expression: "state.n < 'a'" }] },
        { id: 'end', type: 'end' }],
      edges: [edge('start', 'calc'), edge('calc', 'end')],
    },
  });
  const srv = await serve(dir);
  const u = await sessionFor(srv, 'wf_expr');
  const { events } = await ck.create(srv, u, 'hi');
  const err = events.find((e) => e.type === 'error');
  assert.ok(err, JSON.stringify(events));
  assert.match(err.message, /node 'calc' failed: n: /);
});


test('a model agent classifies with a JSON schema and if_else branches on its output', T, async () => {
  const upstream = await fakeOpenAI((doc) => {
    if (doc.text && doc.text.format && doc.text.format.type === 'json_schema') {
      return JSON.stringify({ route: JSON.stringify(doc.input).includes('plan') ? 'planner' : 'chat' });
    }
    return 'Happy to chat.';
  });
  const dir = writeFlows(path.join(h.mkTmp(), 'wf'), {
    'triage.json': {
      id: 'wf_model', version: '1', name: 'Model triage',
      state_variables: { route: { type: 'string', default: '' } },
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'classify', type: 'agent', model: 'openai:gpt-test', history: false,
          instructions: 'Classify: {{input_as_text}}',
          output: { type: 'json_schema', name: 'route', schema: { type: 'object',
            properties: { route: { type: 'string' } }, required: ['route'] } } },
        { id: 'keep', type: 'set_state', assign: [{ variable: 'route', expression: 'last.route' }] },
        { id: 'branch', type: 'if_else', condition: "last.route == 'planner'" },
        { id: 'planner', type: 'agent', model: 'builtin:tasks' },
        { id: 'chat', type: 'agent', model: 'openai:gpt-test', instructions: 'Chat ({{state.route}}).' },
        { id: 'end', type: 'end', message: 'route={{state.route}}' },
      ],
      edges: [edge('start', 'classify'), edge('classify', 'keep'), edge('keep', 'branch'),
        edge('branch', 'planner', 'true'), edge('branch', 'chat', 'false'),
        edge('planner', 'end'), edge('chat', 'end')],
    },
  });
  try {
    const srv = await serve(dir, { env: modelEnv(upstream) });
    const u = await sessionFor(srv, 'wf_model');
    const plan = await ck.create(srv, u, 'add plan the offsite');
    assert.match(ck.answerText(plan.events), /route=planner/);
    assert.equal((await ck.tasks(srv, u)).length, 1); // the builtin planner added it
    const chat = await ck.create(srv, u, 'how are you?');
    assert.match(ck.answerText(chat.events), /Happy to chat\./);
    assert.match(ck.answerText(chat.events), /route=chat/);
    const chatCall = upstream.seen.find((d) => d.instructions === 'Chat (chat).');
    assert.ok(chatCall, JSON.stringify(upstream.seen.map((d) => d.instructions)));
    assert.ok(upstream.seen.some((d) => d.instructions === 'Classify: how are you?'));
  } finally {
    upstream.close();
  }
});

// A tool server for HTTP tools: /weather answers JSON (and echoes what it got), /slow never
// answers, /fail answers 500.
function toolServer() {
  const http = require('node:http');
  const got = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      got.push({ url: req.url, method: req.method, auth: req.headers.authorization, body });
      if (req.url.startsWith('/weather')) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ city: JSON.parse(body || '{}').city, sky: 'clear' }));
      } else if (req.url.startsWith('/fail')) {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end('{"message":"weather station down"}');
      } // /slow: no answer
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () =>
    resolve({ url: `http://127.0.0.1:${server.address().port}`, got,
      close: () => { server.closeAllConnections(); server.close(); } })));
}

// A fake model that calls `tool` with args once, then says what the tool answered.
function toolCallingModel(tool, args) {
  const http = require('node:http');
  const seen = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const doc = JSON.parse(body);
      seen.push(doc);
      const id = `resp_${seen.length}`;
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      const send = (type, obj) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...obj })}\n\n`);
      send('response.created', { response: { id } });
      const output = doc.input.find((i) => i.type === 'function_call_output');
      if (!output) {
        send('response.output_item.done', { item: { type: 'function_call', call_id: 'call_1', name: tool,
          arguments: JSON.stringify(args) } });
      } else {
        send('response.output_text.delta', { item_id: `msg_${id}`, delta: `Tool said: ${output.output}` });
      }
      send('response.completed', { response: { id, usage: { input_tokens: 3, output_tokens: 2 } } });
      res.end();
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () =>
    resolve({ url: `http://127.0.0.1:${server.address().port}`, seen, close: () => server.close() })));
}

function httpToolFlow(toolsUrl, pathname, timeoutMs) {
  return {
    id: 'wf_http', version: '1', name: 'HTTP tool',
    nodes: [{ id: 'start', type: 'start' },
      { id: 'agent', type: 'agent', model: 'openai:gpt-test', tools: ['list_tasks', {
        type: 'http', name: 'weather', description: 'Weather for a city', url: `${toolsUrl}${pathname}`,
        method: 'POST', timeout_ms: timeoutMs, headers: { Authorization: { env: 'WEATHER_TOKEN' } },
        parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'],
          additionalProperties: false } }] }],
    edges: [edge('start', 'agent')],
  };
}

async function httpToolTurn(pathname, args, timeoutMs = 5000) {
  const tools = await toolServer();
  const model = await toolCallingModel('weather', args);
  const dir = writeFlows(path.join(h.mkTmp(), 'wf'), { 'http.json': httpToolFlow(tools.url, pathname, timeoutMs) });
  try {
    const srv = await serve(dir, { env: { ...modelEnv(model), WEATHER_TOKEN: 'Bearer tool-secret-123' } });
    const u = await sessionFor(srv, 'wf_http');
    const started = Date.now();
    const { events } = await ck.create(srv, u, 'weather in Oslo?');
    const first = model.seen[0];
    assert.ok(first.tools.some((t) => t.name === 'weather' && t.parameters.required[0] === 'city'));
    assert.ok(first.tools.some((t) => t.name === 'list_tasks'));
    assert.doesNotMatch(srv.stderrText(), /tool-secret-123/);
    return { text: ck.answerText(events), got: tools.got, ms: Date.now() - started, events };
  } finally {
    tools.close();
    model.close();
  }
}

test('HTTP tool: the JSON answer becomes the tool output; the header comes from the environment', T, async () => {
  const { text, got } = await httpToolTurn('/weather', { city: 'Oslo' });
  assert.equal(got.length, 1);
  assert.equal(got[0].method, 'POST');
  assert.equal(got[0].auth, 'Bearer tool-secret-123');
  assert.deepEqual(JSON.parse(got[0].body), { city: 'Oslo' });
  assert.equal(text, 'Tool said: {"city":"Oslo","sky":"clear"}');
});

test('HTTP tool: a timeout becomes an error the model reads, not a hung turn', T, async () => {
  const { text, ms } = await httpToolTurn('/slow', { city: 'Oslo' }, 400);
  assert.equal(text, 'Tool said: {"error":"the tool did not answer within 400 ms"}');
  assert.ok(ms < 10000, `took ${ms} ms`);
});

test('HTTP tool: an error status becomes an error output with the answer', T, async () => {
  const { text } = await httpToolTurn('/fail', { city: 'Oslo' });
  assert.equal(text, 'Tool said: {"error":"the tool answered HTTP 500","answer":{"message":"weather station down"}}');
});

test('HTTP tool: arguments that break the schema are refused before any request', T, async () => {
  const { text, got } = await httpToolTurn('/weather', { town: 'Oslo' });
  assert.equal(got.length, 0);
  assert.match(text, /^Tool said: \{"error":"invalid arguments: /);
});

test('widget output: the agent answers the widget\'s data and the template renders the card', T, async () => {
  const upstream = await fakeOpenAI((doc) => {
    assert.equal(doc.text.format.type, 'json_schema');
    return JSON.stringify({ title: 'Pack for the trip', done: false });
  });
  const dir = writeFlows(path.join(h.mkTmp(), 'wf'), {
    'widget.json': {
      id: 'wf_widget', version: '1', name: 'Widget output',
      nodes: [{ id: 'start', type: 'start' },
        { id: 'card', type: 'agent', model: 'openai:gpt-test', output: { type: 'widget',
          template: '{"type":"Card","children":[{"type":"Text","value":{{ title | tojson }}}]}',
          schema: { type: 'object', properties: { title: { type: 'string' }, done: { type: 'boolean' } },
            required: ['title'] } } },
        { id: 'check', type: 'if_else', condition: 'last.done' },
        { id: 'open', type: 'end', message: 'still open' }, { id: 'closed', type: 'end', message: 'closed' }],
      edges: [edge('start', 'card'), edge('card', 'check'), edge('check', 'closed', 'true'),
        edge('check', 'open', 'false')],
    },
  });
  try {
    const srv = await serve(dir, { env: modelEnv(upstream) });
    const u = await sessionFor(srv, 'wf_widget');
    const { events } = await ck.create(srv, u, 'show my trip task');
    const cards = ck.widgets(events);
    assert.equal(cards.length, 1, JSON.stringify(events));
    assert.deepEqual(cards[0].widget, { type: 'Card', children: [{ type: 'Text', value: 'Pack for the trip' }] });
    // The JSON was data for the card: it never showed as assistant text (nothing to remove).
    assert.equal(events.filter((e) => e.type === 'thread.item.removed').length, 0);
    assert.ok(!JSON.stringify(events).includes('\\"title\\":\\"Pack'), 'the JSON was not streamed');
    assert.equal(ck.doneItems(events, 'assistant_message').length, 1);
    assert.match(ck.answerText(events), /still open/);
    assert.equal(upstream.seen[0].text.format.schema.required[0], 'title');
  } finally {
    upstream.close();
  }
});

test('a widget template that does not compile is refused at load with its place', T, async () => {
  const dir = writeFlows(path.join(h.mkTmp(), 'bad'), {
    'w.json': { id: 'wf_w', version: '1', name: 'W',
      nodes: [{ id: 'start', type: 'start' }, { id: 'a', type: 'agent', model: 'openai:x',
        output: { type: 'widget', template: '{{ title | nosuchfilter }}' } }],
      edges: [edge('start', 'a')] },
  });
  const r = await h.runCli(['workflows', 'check', dir]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /w\.json: \$\.nodes\[1\]\.output\.template: .*nosuchfilter/);
});

test('client tool: the turn ends on a pending call, the page\'s answer resumes the agent node', T, async () => {
  const model = await toolCallingModel('pick_color', { options: ['red', 'blue'] });
  const dir = writeFlows(path.join(h.mkTmp(), 'wf'), {
    'client.json': {
      id: 'wf_client', version: '1', name: 'Client tool',
      nodes: [{ id: 'start', type: 'start' },
        { id: 'ask', type: 'agent', model: 'openai:gpt-test', tools: [{ type: 'client', name: 'pick_color',
          description: 'Ask the page for a colour', parameters: { type: 'object',
            properties: { options: { type: 'array', items: { type: 'string' } } } } }] },
        { id: 'end', type: 'end', message: 'all done' }],
      edges: [edge('start', 'ask'), edge('ask', 'end')],
    },
  });
  try {
    const srv = await serve(dir, { env: modelEnv(model) });
    const u = await sessionFor(srv, 'wf_client');
    const { events, threadId } = await ck.create(srv, u, 'pick a colour for me');
    const calls = ck.doneItems(events, 'client_tool_call');
    assert.equal(calls.length, 1, JSON.stringify(events));
    assert.equal(calls[0].name, 'pick_color');
    assert.equal(calls[0].status, 'pending');
    assert.deepEqual(calls[0].arguments, { options: ['red', 'blue'] });
    assert.doesNotMatch(ck.answerText(events), /all done/);
    assert.ok(model.seen[0].tools.some((t) => t.name === 'pick_color'));

    const cont = await ck.stream(srv, u, {
      type: 'threads.add_client_tool_output', params: { thread_id: threadId, result: { color: 'blue' } },
    });
    assert.match(ck.answerText(cont), /Tool said: \{"color":"blue"\}/);
    assert.match(ck.answerText(cont), /all done/);
    const items = await ck.allItems(srv, u, threadId);
    assert.equal(items.find((i) => i.type === 'client_tool_call').status, 'completed');
  } finally {
    model.close();
  }
});

test('session state_variables seed the run; undeclared or mistyped ones are ignored', T, async () => {
  const dir = writeFlows(path.join(h.mkTmp(), 'wf'), {
    'state.json': {
      id: 'wf_state', version: '1', name: 'State',
      state_variables: { name: { type: 'string', default: 'friend' }, n: { type: 'number', default: 1 } },
      nodes: [{ id: 'start', type: 'start' },
        { id: 'inc', type: 'set_state', assign: [{ variable: 'n', expression: 'state.n + 1' }] },
        { id: 'end', type: 'end', message: 'Hello {{state.name}}, turn {{state.n}}.' }],
      edges: [edge('start', 'inc'), edge('inc', 'end')],
    },
  });
  const srv = await serve(dir);
  const r = await h.mintBrowser(srv, { body: { workflow: { id: 'wf_state',
    state_variables: { name: 'Ada', n: 'not a number', extra: true } } } });
  assert.equal(r.status, 200, r.text);
  const u = { secret: r.json().client_secret };
  const first = await ck.create(srv, u, 'hi');
  assert.match(ck.answerText(first.events), /Hello Ada, turn 2\./);
  // The state lives with the thread's run: the next turn counts on.
  assert.match(ck.answerText(await ck.say(srv, u, first.threadId, 'again')), /Hello Ada, turn 3\./);
});

test('a client that leaves during a model node cancels it; the server stays healthy', T, async () => {
  const upstream = await fakeOpenAI(() => 'Slowly...', { delayMs: 3000 });
  const dir = writeFlows(path.join(h.mkTmp(), 'wf'), {
    'slow.json': { id: 'wf_slow', version: '1', name: 'Slow',
      nodes: [{ id: 'start', type: 'start' }, { id: 'think', type: 'agent', model: 'openai:gpt-test' },
        { id: 'end', type: 'end', message: 'finished' }],
      edges: [edge('start', 'think'), edge('think', 'end')] },
  });
  try {
    const srv = await serve(dir, { env: modelEnv(upstream) });
    const u = await sessionFor(srv, 'wf_slow');
    const ac = new AbortController();
    const gone = ck.post(srv, u, { type: 'threads.create', params: { input: ck.input('think hard') } },
      { signal: ac.signal }).catch((e) => e);
    await h.waitUntil(() => upstream.seen.length === 1, { what: 'the model call' });
    ac.abort();
    await gone;
    const ok = await h.request(srv.url, 'GET', '/health');
    assert.equal(ok.status, 200);
    const list = await ck.listThreads(srv, u);
    assert.equal(list.data.length, 1);
    // The thread works afterwards.
    const next = await ck.say(srv, u, list.data[0].id, 'again');
    assert.match(ck.answerText(next), /finished/);
  } finally {
    upstream.close();
  }
});

test('the triage-agent example: a model classifies, the planner keeps the conversation', T, async () => {
  const upstream = await fakeOpenAI((doc) => {
    if (doc.text && doc.text.format && doc.text.format.type === 'json_schema') {
      const planning = JSON.stringify(doc.input).includes('plan');
      return JSON.stringify({ route: planning ? 'planner' : 'tasks', reason: 'test' });
    }
    return doc.instructions.startsWith('You plan') ? 'Planner here.' : 'Tasks here.';
  });
  try {
    const srv = await serve(EXAMPLES, { env: modelEnv(upstream) });
    const u = await sessionFor(srv, 'wf_triage_agent');
    const plan = await ck.create(srv, u, 'help me plan my week');
    assert.match(ck.answerText(plan.events), /Planner here\./);
    // The classification was data for the branch: it is never shown, live or stored.
    assert.equal(plan.events.filter((e) => e.type === 'thread.item.removed').length, 0);
    assert.ok(!JSON.stringify(plan.events).includes('route'), 'the JSON was not streamed');
    assert.equal(ck.doneItems(plan.events, 'assistant_message').length, 1);
    const stored = await ck.allItems(srv, u, plan.threadId);
    assert.ok(!stored.some((i) => i.type === 'assistant_message' && /"route"/.test(i.content[0].text)));
    const classify = upstream.seen.filter((d) => d.model === 'gpt-4.1-mini');
    assert.equal(classify.length, 1);
    assert.match(upstream.seen.at(-1).instructions, /The user said: help me plan my week/);
    // The next message goes straight to the planner: no second classification.
    const next = await ck.say(srv, u, plan.threadId, 'and add gym on friday');
    assert.match(ck.answerText(next), /Planner here\./);
    assert.equal(upstream.seen.filter((d) => d.model === 'gpt-4.1-mini').length, 1);
    // Usage per turn (both model nodes of the first turn add up) and the run in the metadata.
    const meta = threadMetadata(srv, plan.threadId);
    assert.deepEqual(meta.usage.total, { input_tokens: 33, output_tokens: 21, reasoning_tokens: 0, cached_tokens: 0 });
    const turns = Object.values(meta.usage.turns);
    assert.deepEqual(turns.map((t) => t.input_tokens), [22, 11]);
    assert.match(turns[1].response_id, /^resp_/);
    const run = meta.workflow_run;
    assert.equal(run.workflow_id, 'wf_triage_agent');
    assert.equal(run.agent, 'planner');
    assert.equal(run.node, 'done');
    assert.deepEqual(run.state, { route: 'planner' });
    assert.deepEqual(run.last, { route: 'planner', reason: 'test' });
    assert.equal(run.previous_response_id, turns[1].response_id);
    assert.equal(run.turns, 2);
    // A new thread about something else goes to the task agent.
    const other = await ck.create(srv, u, 'add buy milk');
    assert.match(ck.answerText(other.events), /Tasks here\./);
  } finally {
    upstream.close();
  }
});

test('limits: a loop in the graph and a growing state end the turn with an error, not a hang', T, async () => {
  const dir = writeFlows(path.join(h.mkTmp(), 'wf'), {
    'grow.json': {
      id: 'wf_grow', version: '1', name: 'Grows',
      state_variables: { s: { type: 'string', default: 'x'.repeat(1024) } },
      nodes: [{ id: 'start', type: 'start' },
        { id: 'double', type: 'set_state', assign: [{ variable: 's', expression: 'state.s ~ state.s' }] },
        { id: 'more', type: 'if_else', condition: 'true' }, { id: 'end', type: 'end' }],
      edges: [edge('start', 'double'), edge('double', 'more'), edge('more', 'double', 'true'),
        edge('more', 'end', 'false')],
    },
    'spin.json': {
      id: 'wf_spin', version: '1', name: 'Spins',
      nodes: [{ id: 'start', type: 'start' }, { id: 'a', type: 'if_else', condition: "input != ''" },
        { id: 'end', type: 'end' }],
      edges: [edge('start', 'a'), edge('a', 'a', 'true'), edge('a', 'end', 'false')],
    },
  });
  const srv = await serve(dir);
  const grow = await ck.create(srv, await sessionFor(srv, 'wf_grow'), 'go');
  assert.match(grow.events.find((e) => e.type === 'error').message, /node 'double' made the state larger than 32768 bytes/);
  const spin = await ck.create(srv, await sessionFor(srv, 'wf_spin'), 'go');
  assert.match(spin.events.find((e) => e.type === 'error').message, /too many steps in one turn/);
});

test('the default workflow\'s model follows the seed: OpenAI with a key, CHATKITD_MODEL overrides', T, async () => {
  const upstream = await fakeOpenAI(() => 'From the model.');
  try {
    const withKey = await h.startServer({ args: ['--session-rate', '100000'], env: modelEnv(upstream) });
    servers.push(withKey);
    const u = await ck.session(withKey);
    const a = await ck.create(withKey, u, 'hello');
    assert.match(ck.answerText(a.events), /From the model\./);
    assert.equal(upstream.seen.at(-1).model, 'gpt-4.1');
    const seen = upstream.seen.length;
    const pinned = await h.startServer({ args: ['--session-rate', '100000'],
      env: { ...modelEnv(upstream), CHATKITD_MODEL: 'builtin:tasks' } });
    servers.push(pinned);
    const u2 = await ck.session(pinned);
    const b = await ck.create(pinned, u2, 'add water the plants');
    assert.match(ck.answerText(b.events), /water the plants/i);
    assert.equal(upstream.seen.length, seen);
  } finally {
    upstream.close();
  }
});

test('a new message abandons a pending approval; a retried message runs the workflow again', T, async () => {
  const dir = writeFlows(path.join(h.mkTmp(), 'wf'), { 'nodes.json': NODES_FLOW });
  const srv = await serve(dir);
  const u = await sessionFor(srv, 'wf_nodes');
  const { events, threadId } = await ck.create(srv, u, 'add first thing');
  const card = approvalCard(events);
  const second = await ck.say(srv, u, threadId, 'add second thing');
  const card2 = approvalCard(second);
  const stale = await ck.action(srv, u, threadId, card.id, 'workflow.approve', {});
  assert.match(stale.at(-1).message, /no longer pending/);
  // The newer card still resumes.
  assert.match(ck.answerText(await ck.action(srv, u, threadId, card2.id, 'workflow.reject', {})),
    /Skipped at stage asked\./);
  // Retrying the first message runs the graph from start again (a new card).
  const firstMsg = ck.doneItems(events, 'user_message')[0];
  const retried = await ck.stream(srv, u, { type: 'threads.retry_after_item',
    params: { thread_id: threadId, item_id: firstMsg.id } });
  approvalCard(retried);
});

test('SIGHUP storms and SIGTERM during a reload: the last files win, the exit is clean', T, async () => {
  const dir = writeFlows(path.join(h.mkTmp(), 'wf'), { 'v.json': versionFlow('1', 'first') });
  const srv = await serve(dir);
  for (let i = 0; i < 5; i++) srv.proc.kill('SIGHUP');
  writeFlows(dir, { 'v.json': versionFlow('1', 'last') });
  srv.proc.kill('SIGHUP');
  const u = await sessionFor(srv, 'wf_versions');
  await h.waitUntil(async () => /This is last\./.test(ck.answerText((await ck.create(srv, u, 'x')).events)),
    { what: 'the last reload', timeout: 10000, interval: 100 });
  srv.proc.kill('SIGHUP');
  assert.equal(await stopOne(srv), 0);
});

test('workflows check: usage errors and an unreadable directory', T, async () => {
  const usage = await h.runCli(['workflows']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /usage: chatkitd workflows check DIR/);
  const missing = await h.runCli(['workflows', 'check', '/nonexistent/workflows']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^\/nonexistent\/workflows: \$: cannot read the directory: /);
  const help = await h.runCli(['--help']);
  assert.match(help.stdout + help.stderr, /chatkitd workflows check DIR/);
});

test('extra tools: one model step calls an HTTP tool, a task tool and an undeclared one; each gets its own output', T, async () => {
  const http = require('node:http');
  const tools = await toolServer();
  const seen = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const doc = JSON.parse(body);
      seen.push(doc);
      const id = `resp_${seen.length}`;
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      const send = (type, obj) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...obj })}\n\n`);
      send('response.created', { response: { id } });
      const outputs = doc.input.filter((i) => i.type === 'function_call_output');
      if (!outputs.length) {
        const calls = [['call_w', 'weather', { city: 'Oslo' }], ['call_l', 'list_tasks', {}], ['call_n', 'nope', {}]];
        for (const [call_id, name, args] of calls) {
          send('response.output_item.done', { item: { type: 'function_call', call_id, name, arguments: JSON.stringify(args) } });
        }
      } else {
        send('response.output_text.delta', { item_id: `msg_${id}`, delta: JSON.stringify(outputs.map((o) => [o.call_id, o.output])) });
      }
      send('response.completed', { response: { id, usage: { input_tokens: 3, output_tokens: 2 } } });
      res.end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const model = { url: `http://127.0.0.1:${server.address().port}` };
  const dir = writeFlows(path.join(h.mkTmp(), 'wf'), { 'http.json': httpToolFlow(tools.url, '/weather', 5000) });
  try {
    const srv = await serve(dir, { env: { ...modelEnv(model), WEATHER_TOKEN: 'Bearer t' } });
    const u = await sessionFor(srv, 'wf_http');
    const { events } = await ck.create(srv, u, 'weather and my tasks?');
    assert.equal(seen.length, 2);
    const names = seen[0].tools.map((t) => t.name).sort();
    assert.deepEqual(names, ['list_tasks', 'weather']);
    const outputs = JSON.parse(ck.answerText(events));
    assert.deepEqual(outputs.map((o) => o[0]), ['call_w', 'call_l', 'call_n']);
    assert.deepEqual(JSON.parse(outputs[0][1]), { city: 'Oslo', sky: 'clear' });
    assert.ok(Array.isArray(JSON.parse(outputs[1][1]).tasks), outputs[1][1]);
    assert.match(JSON.parse(outputs[2][1]).error, /nope|unknown|tool/i);
    assert.equal(tools.got.length, 1, 'only the declared HTTP tool reached the network');
  } finally {
    tools.close();
    server.close();
  }
});

test('composer_options: the composer may pick the model of an agent node that allows it, and only then', T, async () => {
  const upstream = await fakeOpenAI(() => 'ok');
  const flow = (id, allow) => ({
    id, version: '1', name: id,
    nodes: [
      { id: 'start', type: 'start' },
      { id: 'talk', type: 'agent', model: 'openai:gpt-node', composer_options: allow },
    ],
    edges: [edge('start', 'talk')],
  });
  const dir = writeFlows(path.join(h.mkTmp(), 'wf'), {
    'open.json': flow('wf_open', true),
    'closed.json': flow('wf_closed', false),
  });
  try {
    const srv = await serve(dir, { env: modelEnv(upstream) });
    const pick = ck.input('hello', { inference_options: { model: 'gpt-picked' } });
    for (const [wf, want] of [['wf_open', 'gpt-picked'], ['wf_closed', 'gpt-node']]) {
      const u = await sessionFor(srv, wf);
      const events = await ck.stream(srv, u, { type: 'threads.create', params: { input: pick } });
      assert.match(ck.answerText(events), /ok/);
      assert.equal(upstream.seen.at(-1).model, want, wf);
    }
  } finally {
    upstream.close();
  }
});
