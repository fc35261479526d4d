'use strict';
// Model providers against the fake upstream (tests/fakes/fake_upstream.js) on loopback: a
// compat (Chat Completions) provider and the openai (Responses) provider, text streaming, tool
// calls with fragmented arguments running the real task tools, usage in thread metadata and
// /metrics, every upstream fault ending the turn with an error event, cancel on disconnect,
// images, transcription.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const h = require('./helpers');
const ck = require('./chatkit_client');
const { startFake } = require('../fakes/fake_upstream');

const T = { timeout: 60000 };

let fake;
const servers = [];

async function startWithFake(extraArgs = [], env = {}) {
  const root = h.mkTmp();
  const providers = path.join(root, 'providers.json');
  fs.writeFileSync(providers, JSON.stringify({
    providers: {
      fake: {
        base_url: fake.url,
        api_key_env: 'FAKE_KEY',
        models: ['fake-model', 'fake-vision', 'whisper-1', 'fake-text'],
        text_only_models: ['fake-text'],
        headers: { 'X-Fake-Org': '$FAKE_ORG' },
      },
    },
  }));
  const srv = await h.startServer({
    root,
    args: ['--session-rate', '100000', '--providers', providers, '--model-backoff', '50ms',
      '--model-first-token-timeout', '3s', '--model-idle-timeout', '3s', ...extraArgs],
    env: { FAKE_KEY: 'sk-fake-secret-123', FAKE_ORG: 'org-7', CHATKITD_MODEL: 'compat:fake/fake-model', ...env },
  });
  servers.push(srv);
  return srv;
}

function errorEvent(events) {
  return events.find((e) => e.type === 'error');
}

function lastChatRequest() {
  const r = fake.requests.filter((q) => q.path === '/v1/chat/completions' || q.path === '/v1/responses');
  return r[r.length - 1];
}

async function metrics(srv) {
  const r = await h.request(srv.url, 'GET', '/metrics');
  return r.text || r.body || '';
}

async function threadMetadataUsage(srv, threadId) {
  return h.threadMetadata(srv, threadId).usage;
}

before(async () => {
  fake = await startFake();
});

after(async () => {
  await h.stopAll(servers);
  await fake.close();
});

// The mapped libraries of a running server (/proc/PID/maps), by file name.
function mappedLibs(srv) {
  return fs.readFileSync(`/proc/${srv.proc.pid}/maps`, 'utf8');
}

test('libcurl loads with the first model call, not at start; libpq only for PostgreSQL', T, async () => {
  const offline = await h.startServer();
  servers.push(offline);
  await h.request(offline.url, 'GET', '/health');
  const user0 = await ck.session(offline);
  await ck.create(offline, user0, 'add water the plants tomorrow'); // builtin:tasks, no upstream
  assert.doesNotMatch(mappedLibs(offline), /libcurl/);
  if (!offline.database) assert.doesNotMatch(mappedLibs(offline), /libpq/);
  const srv = await startWithFake();
  assert.doesNotMatch(mappedLibs(srv), /libcurl/);
  fake.push({ text: 'Loaded.' });
  const user = await ck.session(srv);
  const { events } = await ck.create(srv, user, 'hi');
  assert.equal(ck.answerText(events), 'Loaded.');
  assert.match(mappedLibs(srv), /libcurl/);
});

describe('compat provider (Chat Completions)', () => {
  let srv;
  before(async () => { srv = await startWithFake(); });

  test('text streams as an assistant message; the request carries key, headers, history', T, async () => {
    fake.push({ tokens: ['Hello', ' there', ', how', ' can I help?'], usage: { input: 21, output: 4 } });
    const user = await ck.session(srv);
    const { events, threadId } = await ck.create(srv, user, 'hi model');
    const deltas = events.filter((e) => e.type === 'thread.item.updated' &&
      e.update.type === 'assistant_message.content_part.text_delta').map((e) => e.update.delta);
    // tokens that arrive in one upstream read travel in one delta
    assert.ok(deltas.length >= 1);
    assert.equal(deltas.join(''), 'Hello there, how can I help?');
    assert.equal(ck.answerText(events), 'Hello there, how can I help?');
    const req = lastChatRequest();
    assert.equal(req.headers.authorization, 'Bearer sk-fake-secret-123');
    assert.equal(req.headers['x-fake-org'], 'org-7');
    assert.equal(req.json.model, 'fake-model');
    assert.equal(req.json.stream, true);
    assert.deepEqual(req.json.stream_options, { include_usage: true });
    assert.equal(req.json.messages[0].role, 'system');
    assert.equal(req.json.messages.at(-1).content, 'hi model');
    assert.ok(req.json.tools.some((t) => t.function.name === 'create_task'));
    // stored: the thread reads back with the answer
    const items = await ck.allItems(srv, user, threadId);
    assert.deepEqual(items.map((i) => i.type), ['user_message', 'assistant_message']);
    // usage per turn in the thread's metadata, totals in /metrics
    const usage = await threadMetadataUsage(srv, threadId);
    assert.equal(usage.total.input_tokens, 21);
    assert.equal(usage.total.output_tokens, 4);
    assert.equal(Object.values(usage.turns)[0].output_tokens, 4);
    const m = await metrics(srv);
    assert.match(m, /chatkitd_model_input_tokens_total\{provider="fake"\} \d+/);
    assert.ok(Number(/chatkitd_model_output_tokens_total\{provider="fake"\} (\d+)/.exec(m)[1]) >= 4);
    assert.ok(!srv.stderrText().includes('sk-fake-secret-123'), 'the key is never logged');
    // the second turn sends the history
    fake.push({ text: 'Second answer.' });
    await ck.say(srv, user, threadId, 'and again');
    const msgs = lastChatRequest().json.messages;
    assert.deepEqual(msgs.slice(1).map((x) => x.role), ['user', 'assistant', 'user']);
    assert.equal(msgs[2].content, 'Hello there, how can I help?');
  });

  test('tool calls with fragmented arguments run the real task tools', T, async () => {
    fake.push(
      { toolCalls: [{ name: 'create_task', arguments: '{"title":"Buy oat milk","priority":"high"}', fragments: 5 }] },
      { text: 'Added "Buy oat milk".' },
    );
    const user = await ck.session(srv);
    const { events } = await ck.create(srv, user, 'add buy oat milk, high priority');
    assert.equal(ck.answerText(events), 'Added "Buy oat milk".');
    const tasks = await ck.tasks(srv, user);
    const list = tasks;
    assert.equal(list.length, 1);
    assert.equal(list[0].title, 'Buy oat milk');
    assert.equal(list[0].priority, 'high');
    // the second call carries the assistant tool_calls and the tool's result
    const msgs = lastChatRequest().json.messages;
    const asst = msgs.find((x) => x.role === 'assistant' && x.tool_calls);
    assert.equal(asst.tool_calls[0].function.name, 'create_task');
    assert.equal(asst.tool_calls[0].function.arguments, '{"title":"Buy oat milk","priority":"high"}');
    const tool = msgs.find((x) => x.role === 'tool');
    assert.equal(tool.tool_call_id, asst.tool_calls[0].id);
    assert.match(tool.content, /"title":"Buy oat milk"/);
  });

  test('inference_options.model and tool_choice from the composer are honoured', T, async () => {
    fake.push({ text: 'ok' });
    const user = await ck.session(srv);
    await ck.stream(srv, user, {
      type: 'threads.create',
      params: { input: ck.input('use vision', { inference_options: { model: 'fake-vision', tool_choice: { id: 'list_tasks' } } }) },
    });
    const req = lastChatRequest().json;
    assert.equal(req.model, 'fake-vision');
    assert.deepEqual(req.tool_choice, { type: 'function', function: { name: 'list_tasks' } });
  });

  // Uploads a 1-pixel PNG for user; returns the PNG and the attachment.
  async function uploadDot(user) {
    const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
    const a = await ck.call(srv, user, 'attachments.create', { name: 'dot.png', size: png.length, mime_type: 'image/png' });
    const put = await h.request(srv.url, 'PUT', a.upload_descriptor.url, {
      headers: { Authorization: `Bearer ${user.secret}`, 'Content-Type': 'image/png' }, body: png,
    });
    assert.equal(put.status, 200, put.text);
    return { png, up: put.json() };
  }

  test('images attached by the user are sent as image parts', T, async () => {
    const user = await ck.session(srv);
    const { png, up } = await uploadDot(user);
    fake.push({ text: 'A tiny image.' });
    await ck.stream(srv, user, {
      type: 'threads.create',
      params: { input: ck.input('what is this?', { attachments: [up.id] }) },
    });
    const userMsg = lastChatRequest().json.messages.at(-1);
    assert.ok(Array.isArray(userMsg.content), JSON.stringify(userMsg));
    const img = userMsg.content.find((p) => p.type === 'image_url');
    assert.equal(img.image_url.url, `data:image/png;base64,${png.toString('base64')}`);
  });

  test('a model listed in text_only_models gets a note instead of the image', T, async () => {
    const user = await ck.session(srv);
    const { up } = await uploadDot(user);
    fake.push({ text: 'I cannot see it.' });
    await ck.stream(srv, user, {
      type: 'threads.create',
      params: { input: ck.input('what is this?', { attachments: [up.id], inference_options: { model: 'fake-text' } }) },
    });
    const req = lastChatRequest().json;
    assert.equal(req.model, 'fake-text');
    const body = JSON.stringify(req.messages);
    assert.doesNotMatch(body, /image_url|data:image/);
    assert.match(body, /cannot see images/);
  });
});

describe('back-pressure', () => {
  test('a client that stops reading pauses the upstream transfer instead of being dropped', { timeout: 120000 }, async () => {
    const srv = await startWithFake(['--sse-queue-bytes', '256KiB']);
    const N = 50000;
    fake.push({ repeat: N, text: 'w ' });
    const user = await ck.session(srv);
    const body = JSON.stringify({ type: 'threads.create', params: { input: ck.input('a very long answer please') } });
    const text = await new Promise((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1', port: srv.port, path: '/chatkit', method: 'POST', agent: false,
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${user.secret}` },
      }, (res) => {
        const chunks = [];
        res.pause(); // a slow reader: nothing is read for two seconds
        setTimeout(() => { res.on('data', (c) => chunks.push(c)); res.resume(); }, 2000);
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
    const events = ck.parseSSE(Buffer.from(text, 'utf8'));
    assert.equal(errorEvent(events), undefined);
    const done = ck.doneItems(events, 'assistant_message');
    assert.equal(done.length, 1, 'the whole answer arrived');
    assert.equal(done[0].content[0].text.length, 2 * N);
    assert.match(await metrics(srv), /chatkitd_http_slow_readers_dropped_total 0/);
  });
});

describe('input.transcribe', () => {
  let srv;
  before(async () => { srv = await startWithFake(['--transcribe-model', 'compat:fake/whisper-1']); });

  test('audio goes to /v1/audio/transcriptions and the text comes back', T, async () => {
    fake.push({ transcript: 'add milk to my list' });
    const user = await ck.session(srv);
    const audio = Buffer.from('OggS fake opus bytes');
    const b = await ck.call(srv, user, 'input.transcribe', { audio_base64: audio.toString('base64'), mime_type: 'audio/webm;codecs=opus' });
    assert.deepEqual(b, { text: 'add milk to my list' });
    const req = fake.requests.at(-1);
    assert.equal(req.path, '/v1/audio/transcriptions');
    assert.equal(req.headers.authorization, 'Bearer sk-fake-secret-123');
    assert.match(req.headers['content-type'], /^multipart\/form-data; boundary=/);
    const body = req.body.toString('latin1');
    assert.match(body, /name="model"\r\n\r\nwhisper-1\r\n/);
    assert.match(body, /filename="audio\.webm"\r\nContent-Type: audio\/webm\r\n\r\nOggS fake opus bytes\r\n/);
  });

  test('bad audio is 400; an upstream refusal passes its message on', T, async () => {
    const user = await ck.session(srv);
    let r = await ck.post(srv, user, { type: 'input.transcribe', params: { audio_base64: 'not base64!', mime_type: 'audio/webm' } });
    assert.equal(r.status, 400);
    assert.equal(JSON.parse(r.text).error.code, 'invalid_audio');
    fake.push({ status: 400, message: 'Audio file is too short.' });
    r = await ck.post(srv, user, { type: 'input.transcribe', params: { audio_base64: 'aGk=', mime_type: 'audio/mp4' } });
    assert.equal(r.status, 400);
    assert.match(JSON.parse(r.text).error.message, /too short/);
  });
});

describe('upstream faults end the turn with an error event', () => {
  let srv;
  before(async () => {
    srv = await startWithFake(['--model-first-token-timeout', '700ms', '--model-idle-timeout', '700ms',
      '--model-retries', '2']);
  });

  async function faultTurn(...replies) {
    fake.push(...replies);
    const user = await ck.session(srv);
    const { events, threadId } = await ck.create(srv, user, 'fault please');
    const err = errorEvent(events);
    const items = await ck.allItems(srv, user, threadId);
    return { events, err, items, user, threadId };
  }

  function assertNoHalfAnswer(items) {
    assert.equal(items[0].type, 'user_message', 'the user message is kept');
    assert.ok(!items.some((i) => i.type === 'assistant_message'), `no half answer stored: ${JSON.stringify(items)}`);
  }

  test('429 with Retry-After is retried, then succeeds', T, async () => {
    const t0 = Date.now();
    const { events, err } = await faultTurn({ status: 429, retryAfter: '1', message: 'Rate limit reached' }, { text: 'after the wait' });
    assert.equal(err, undefined);
    assert.equal(ck.answerText(events), 'after the wait');
    assert.ok(Date.now() - t0 >= 950, 'Retry-After was honoured');
  });

  test('429 every time: error with the upstream message, retry allowed', T, async () => {
    const r429 = { status: 429, retryAfter: '0', message: 'Rate limit reached for gpt' };
    const { err, items } = await faultTurn(r429, r429, r429);
    assert.equal(err.allow_retry, true);
    assert.match(err.message, /Rate limit reached/);
    assertNoHalfAnswer(items);
  });

  test('500 every time: error, retry allowed; 400: error, no retry', T, async () => {
    const r500 = { status: 500, message: 'The server had an error' };
    let out = await faultTurn(r500, r500, r500);
    assert.equal(out.err.allow_retry, true);
    assert.match(out.err.message, /The server had an error/);
    assertNoHalfAnswer(out.items);
    const before = fake.requests.length;
    out = await faultTurn({ status: 400, message: 'Invalid value for tools' });
    assert.equal(fake.requests.length - before, 1, '4xx is not retried');
    assert.equal(out.err.allow_retry, false);
    assert.match(out.err.message, /Invalid value for tools/);
  });

  test('first-token timeout', T, async () => {
    const { err, items } = await faultTurn({ fault: 'hang' });
    assert.equal(err.allow_retry, true);
    assert.match(err.message, /did not start answering/);
    assertNoHalfAnswer(items);
  });

  test('malformed JSON line', T, async () => {
    const { err, items } = await faultTurn({ fault: 'malformed' });
    assert.match(err.message, /malformed/);
    assertNoHalfAnswer(items);
  });

  test('a stream cut in the middle', T, async () => {
    const { events, err, items } = await faultTurn({ fault: 'cut', tokens: ['one ', 'two ', 'three ', 'four ', 'five '] });
    assert.ok(events.some((e) => e.update && e.update.type === 'assistant_message.content_part.text_delta'), 'some text came first');
    assert.equal(err.allow_retry, true);
    assert.match(err.message, /cut off/);
    assertNoHalfAnswer(items);
  });

  test('a slow drip past the idle timeout', T, async () => {
    const { err, items } = await faultTurn({ fault: 'drip', dripMs: 1200, tokens: ['a', 'b', 'c'] });
    assert.equal(err.allow_retry, true);
    assertNoHalfAnswer(items);
  });

  test('a slow drip within the idle timeout completes, one delta per token', T, async () => {
    const { events, err } = await faultTurn({ fault: 'drip', dripMs: 60, tokens: ['s', 'l', 'o', 'w'] });
    assert.equal(err, undefined);
    assert.equal(ck.answerText(events), 'slow');
    const deltas = events.filter((e) => e.update && e.update.type === 'assistant_message.content_part.text_delta');
    assert.deepEqual(deltas.map((e) => e.update.delta), ['s', 'l', 'o', 'w']);
  });

  test('connect refused: error with retry allowed, user message kept', T, async () => {
    const port = await new Promise((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
    });
    const root = h.mkTmp();
    const providers = path.join(root, 'p.json');
    fs.writeFileSync(providers, JSON.stringify({ providers: { dead: { base_url: `http://127.0.0.1:${port}` } } }));
    const dead = await h.startServer({ root, args: ['--providers', providers, '--model', 'compat:dead/m', '--model-backoff', '10ms'] });
    servers.push(dead);
    const user = await ck.session(dead);
    const { events, threadId } = await ck.create(dead, user, 'anyone there?');
    const err = errorEvent(events);
    assert.equal(err.allow_retry, true);
    assert.match(err.message, /cannot reach the model server/);
    assertNoHalfAnswer(await ck.allItems(dead, user, threadId));
    assert.match(await metrics(dead), /chatkitd_model_retries_total\{provider="dead"\} 2/);
  });

  test('client disconnect cancels the upstream request', T, async () => {
    fake.push({ fault: 'drip', dripMs: 100, repeat: 200, text: 'word ' });
    const user = await ck.session(srv);
    const ctl = new AbortController();
    const before = fake.requests.length;
    const p = ck.post(srv, user, { type: 'threads.create', params: { input: ck.input('long one') } }, { signal: ctl.signal })
      .catch((e) => e);
    await h.waitUntil(() => fake.requests.length > before, { what: 'the upstream request' });
    await h.delay(400);
    ctl.abort();
    await p;
    const rec = fake.requests[before];
    await h.waitUntil(() => rec.finished, { timeout: 3000, what: 'the fake to see the connection close' });
    assert.equal(rec.closedEarly, true);
  });
});

describe('openai provider (Responses API)', () => {
  let srv;
  before(async () => {
    srv = await startWithFake([], { OPENAI_API_KEY: 'sk-openai-fake-456', OPENAI_BASE_URL: fake.url, CHATKITD_MODEL: 'openai:gpt-4.1' });
  });

  test('text, reasoning as a workflow, citations as annotations, usage', T, async () => {
    fake.push({
      reasoning: ['Thinking about tasks.'],
      tokens: ['See ', 'the ', 'docs.'],
      citations: [{ url: 'https://example.com/docs', title: 'Docs' }],
      usage: { input: 40, output: 9, reasoning: 5, cached: 8 },
    });
    const user = await ck.session(srv);
    const { events, threadId } = await ck.create(srv, user, 'explain');
    const req = lastChatRequest();
    assert.equal(req.path, '/v1/responses');
    assert.equal(req.headers.authorization, 'Bearer sk-openai-fake-456');
    assert.equal(req.json.model, 'gpt-4.1');
    assert.equal(req.json.stream, true);
    assert.equal(req.json.input.at(-1).role, 'user');
    assert.deepEqual(req.json.input.at(-1).content, [{ type: 'input_text', text: 'explain' }]);
    const wf = ck.doneItems(events, 'workflow')[0];
    assert.equal(wf.workflow.type, 'reasoning');
    assert.equal(wf.workflow.tasks[0].type, 'thought');
    assert.equal(wf.workflow.tasks[0].content, 'Thinking about tasks.');
    const msg = ck.doneItems(events, 'assistant_message')[0];
    assert.equal(msg.content[0].text, 'See the docs.');
    assert.deepEqual(msg.content[0].annotations, [{ type: 'annotation', source: { title: 'Docs', type: 'url', url: 'https://example.com/docs' }, index: 13 }]);
    assert.ok(events.some((e) => e.update && e.update.type === 'assistant_message.content_part.annotation_added'));
    const usage = await threadMetadataUsage(srv, threadId);
    assert.deepEqual(usage.total, { input_tokens: 40, output_tokens: 9, reasoning_tokens: 5, cached_tokens: 8 });
    assert.match(Object.values(usage.turns)[0].response_id, /^resp_/);
  });

  test('function calls run the task tools and their outputs go back as input items', T, async () => {
    fake.push(
      { toolCalls: [{ name: 'create_task', arguments: '{"title":"Call the bank"}', id: 'call_bank1' }] },
      { text: 'Done.' },
    );
    const user = await ck.session(srv);
    const { events } = await ck.create(srv, user, 'remind me to call the bank');
    assert.equal(ck.answerText(events), 'Done.');
    const input = lastChatRequest().json.input;
    const fc = input.find((i) => i.type === 'function_call');
    const out = input.find((i) => i.type === 'function_call_output');
    assert.equal(fc.call_id, 'call_bank1');
    assert.equal(out.call_id, 'call_bank1');
    assert.match(out.output, /Call the bank/);
    const tasks = await ck.tasks(srv, user);
    assert.equal(tasks[0].title, 'Call the bank');
  });

  test('image_generation_call: a generated_image item, partial images with progress, the final data URL', T, async () => {
    fake.push({ images: [{ partials: ['cGFydDE=', 'cGFydDI='], result: 'ZmluYWw=', format: 'webp' }], text: 'Here it is.' });
    const user = await ck.session(srv);
    const { events, threadId } = await ck.create(srv, user, 'draw a cat');
    const added = events.filter((e) => e.type === 'thread.item.added' && e.item.type === 'generated_image');
    assert.equal(added.length, 1);
    assert.match(added[0].item.id, /^msg_/);
    assert.equal(added[0].item.image, undefined);
    const updates = events.filter((e) => e.update && e.update.type === 'generated_image.updated');
    assert.equal(updates.length, 2);
    assert.ok(updates.every((u) => u.item_id === added[0].item.id));
    assert.equal(updates[0].update.image.url, 'data:image/png;base64,cGFydDE=');
    assert.match(updates[0].update.image.id, /^ig_/);
    assert.equal(updates[1].update.image.url, 'data:image/png;base64,cGFydDI=');
    assert.equal(updates[0].update.progress, 0); // no image_generation tool in the request: unknown
    const done = ck.doneItems(events, 'generated_image');
    assert.equal(done.length, 1);
    assert.equal(done[0].id, added[0].item.id);
    assert.deepEqual(done[0].image, { id: updates[0].update.image.id, url: 'data:image/webp;base64,ZmluYWw=' });
    // The image is an item of its own, before the text that follows it; both are stored.
    const order = events.filter((e) => e.type === 'thread.item.done').map((e) => e.item.type);
    assert.ok(order.indexOf('generated_image') < order.indexOf('assistant_message'), order.join());
    assert.equal(ck.answerText(events), 'Here it is.');
    const stored = await ck.allItems(srv, user, threadId);
    assert.equal(stored.find((i) => i.type === 'generated_image').image.url, 'data:image/webp;base64,ZmluYWw=');
  });

  test('a failed response passes its message on', T, async () => {
    fake.push({ status: 401, message: 'Incorrect API key provided' });
    const user = await ck.session(srv);
    const { events } = await ck.create(srv, user, 'hello');
    const err = errorEvent(events);
    assert.equal(err.allow_retry, false);
    assert.match(err.message, /Incorrect API key/);
  });
});

describe('openai provider with --model-chain-responses', () => {
  test('later turns continue the stored response instead of resending the history', T, async () => {
    const srv = await startWithFake(['--model-chain-responses', 'on'],
      { OPENAI_API_KEY: 'sk-openai-fake-456', OPENAI_BASE_URL: fake.url, CHATKITD_MODEL: 'openai:gpt-4.1' });
    fake.push({ text: 'First.' });
    const user = await ck.session(srv);
    const { threadId } = await ck.create(srv, user, 'one');
    const first = lastChatRequest().json;
    assert.equal(first.store, true);
    assert.equal(first.previous_response_id, undefined);
    const usage = await threadMetadataUsage(srv, threadId);
    const firstId = Object.values(usage.turns)[0].response_id;
    fake.push(
      { toolCalls: [{ name: 'list_tasks', arguments: '{}', id: 'call_l1' }] },
      { text: 'Nothing yet.' },
    );
    const events = await ck.say(srv, user, threadId, 'two');
    assert.equal(ck.answerText(events), 'Nothing yet.');
    const calls = fake.requests.filter((q) => q.path === '/v1/responses').slice(-2).map((q) => q.json);
    assert.equal(calls[0].previous_response_id, firstId);
    assert.deepEqual(calls[0].input.map((i) => i.role), ['user'], 'only the new message');
    assert.deepEqual(calls[0].input[0].content, [{ type: 'input_text', text: 'two' }]);
    assert.match(calls[1].previous_response_id, /^resp_/);
    assert.notEqual(calls[1].previous_response_id, firstId);
    assert.deepEqual(calls[1].input.map((i) => i.type), ['function_call_output']);
  });
});

describe('configuration errors', () => {
  test('an unknown provider in --model is a startup error', T, async () => {
    const r = await h.runCli(['serve', '--listen', '127.0.0.1:0', '--model', 'compat:nope/x', '--data-dir', path.join(h.mkTmp(), 'd')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--model compat:nope\/x: model provider 'nope' is not configured/);
  });

  test('a providers file naming an unset key variable is a startup error', T, async () => {
    const root = h.mkTmp();
    const f = path.join(root, 'p.json');
    fs.writeFileSync(f, JSON.stringify({ providers: { x: { base_url: 'http://127.0.0.1:9', api_key_env: 'NOT_SET_ANYWHERE' } } }));
    const r = await h.runCli(['serve', '--listen', '127.0.0.1:0', '--providers', f, '--data-dir', path.join(root, 'd')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /NOT_SET_ANYWHERE, which is not set/);
  });
});
