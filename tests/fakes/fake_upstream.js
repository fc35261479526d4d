'use strict';
// A fake OpenAI-compatible upstream for tests and benchmarks. It speaks the real wire formats:
//   POST /v1/chat/completions   Chat Completions chunks (`data: {...}`), tool-call argument
//                               fragments, a usage chunk, `data: [DONE]`
//   POST /v1/responses          the Responses event stream (`event: response.output_text.delta`)
//   POST /v1/chatkit/sessions   hosted ChatKit sessions (OpenAI-Beta: chatkit_beta=v1)
//   POST /v1/audio/transcriptions  {"text": ...}
//
// Replies are scripted: push() (in-process) or POST /_control/replies (a JSON array, from another
// process) queues replies taken in order by the next requests; with an empty queue the fake
// echoes the last user text. A reply:
//   { text: 'Hello there', tokens: ['He','llo'], repeat: N (send `text` N times as N tokens),
//     toolCalls: [{ name, arguments: '{"a":1}', id, fragments: 3 }],
//     reasoning: ['summary part', ...], citations: [{ url, title }],
//     usage: { input: 12, output: 7, reasoning: 0, cached: 0 },
//     status: 400, message: 'bad', retryAfter: '1',          (an error answer)
//     fault: 'hang' (headers, then silence) | 'hang-headers' (no answer at all)
//          | 'malformed' (a broken JSON line) | 'cut' (the connection drops mid-stream)
//          | 'drip' (one token every dripMs), dripMs: 200,
//     transcript: 'text', session: {...extra fields},
//     images: [{ partials: ['b64', ...], result: 'b64', format: 'png' }] (Responses only:
//       image_generation_call items with their partial_image events) }
// Every request is recorded in requests[] ({path, headers, body, json, closedEarly}).
//
// Standalone: node tests/fakes/fake_upstream.js [--port N] prints "fake upstream on URL".

const http = require('node:http');
const crypto = require('node:crypto');

function rid(prefix) {
  return prefix + crypto.randomBytes(12).toString('hex');
}

function sseData(obj) {
  return `data: ${typeof obj === 'string' ? obj : JSON.stringify(obj)}\n\n`;
}

function sseEvent(name, obj) {
  return `event: ${name}\ndata: ${JSON.stringify(obj)}\n\n`;
}

function words(text) {
  return text.match(/\S+\s*|\s+/g) || [];
}

function replyTokens(reply, fallback) {
  if (reply.tokens) return reply.tokens;
  if (reply.repeat) return Array(reply.repeat).fill(reply.text || 'tok ');
  return words(reply.text !== undefined ? reply.text : fallback);
}

function lastUserText(json) {
  if (!json) return '';
  if (Array.isArray(json.messages)) {
    for (let i = json.messages.length - 1; i >= 0; i--) {
      const m = json.messages[i];
      if (m.role !== 'user') continue;
      if (typeof m.content === 'string') return m.content;
      return (m.content || []).filter((p) => p.type === 'text').map((p) => p.text).join(' ');
    }
  }
  if (Array.isArray(json.input)) {
    for (let i = json.input.length - 1; i >= 0; i--) {
      const m = json.input[i];
      if (m.type === 'message' && m.role === 'user') {
        return (m.content || []).filter((p) => p.type === 'input_text').map((p) => p.text).join(' ');
      }
    }
  }
  return '';
}

function splitFragments(s, n) {
  const out = [];
  const size = Math.max(1, Math.ceil(s.length / n));
  for (let i = 0; i < s.length; i += size) out.push(s.slice(i, i + size));
  return out.length ? out : [''];
}

// ---- Chat Completions ----

function chatChunks(reply, json) {
  const id = rid('chatcmpl-');
  const created = Math.floor(Date.now() / 1000);
  const model = json.model;
  const base = { id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_fake' };
  const chunk = (delta, finish = null) =>
    ({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
  const out = [chunk({ role: 'assistant', content: '', refusal: null })];
  for (const r of reply.reasoning || []) out.push(chunk({ reasoning_content: r }));
  const toks = reply.toolCalls && reply.text === undefined ? [] : replyTokens(reply, `You said: ${lastUserText(json)}`);
  for (const t of toks) out.push(chunk({ content: t }));
  (reply.toolCalls || []).forEach((tc, index) => {
    const callId = tc.id || rid('call_');
    out.push(chunk({ tool_calls: [{ index, id: callId, type: 'function', function: { name: tc.name, arguments: '' } }] }));
    for (const frag of splitFragments(tc.arguments, tc.fragments || 3)) {
      out.push(chunk({ tool_calls: [{ index, function: { arguments: frag } }] }));
    }
  });
  out.push(chunk({}, reply.toolCalls ? 'tool_calls' : 'stop'));
  const u = reply.usage || { input: 10, output: toks.length };
  out.push({
    ...base,
    choices: [],
    usage: {
      prompt_tokens: u.input,
      completion_tokens: u.output,
      total_tokens: u.input + u.output,
      prompt_tokens_details: { cached_tokens: u.cached || 0, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: u.reasoning || 0, audio_tokens: 0,
        accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    },
  });
  return out.map(sseData).concat([sseData('[DONE]')]);
}

// ---- Responses ----

function responsesEvents(reply, json) {
  const id = rid('resp_');
  const created_at = Math.floor(Date.now() / 1000);
  const frames = [];
  let seq = 0;
  const ev = (type, fields) => frames.push(sseEvent(type, { type, sequence_number: seq++, ...fields }));
  const resp = (status, extra = {}) => ({
    id, object: 'response', created_at, status, model: json.model, output: [],
    previous_response_id: json.previous_response_id || null, usage: null, ...extra,
  });
  ev('response.created', { response: resp('in_progress') });
  ev('response.in_progress', { response: resp('in_progress') });
  let oi = 0;
  if (reply.reasoning) {
    const rsId = rid('rs_');
    ev('response.output_item.added', { output_index: oi, item: { id: rsId, type: 'reasoning', summary: [] } });
    reply.reasoning.forEach((text, summary_index) => {
      ev('response.reasoning_summary_part.added', { item_id: rsId, output_index: oi, summary_index, part: { type: 'summary_text', text: '' } });
      for (const w of words(text)) {
        ev('response.reasoning_summary_text.delta', { item_id: rsId, output_index: oi, summary_index, delta: w });
      }
      ev('response.reasoning_summary_text.done', { item_id: rsId, output_index: oi, summary_index, text });
      ev('response.reasoning_summary_part.done', { item_id: rsId, output_index: oi, summary_index, part: { type: 'summary_text', text } });
    });
    ev('response.output_item.done', { output_index: oi, item: { id: rsId, type: 'reasoning', summary: reply.reasoning.map((text) => ({ type: 'summary_text', text })) } });
    oi++;
  }
  for (const img of reply.images || []) {
    const igId = rid('ig_');
    ev('response.output_item.added', { output_index: oi, item: { id: igId, type: 'image_generation_call', status: 'in_progress' } });
    ev('response.image_generation_call.in_progress', { item_id: igId, output_index: oi });
    ev('response.image_generation_call.generating', { item_id: igId, output_index: oi });
    (img.partials || []).forEach((b64, partial_image_index) =>
      ev('response.image_generation_call.partial_image', { item_id: igId, output_index: oi, partial_image_index, partial_image_b64: b64 }));
    ev('response.image_generation_call.completed', { item_id: igId, output_index: oi });
    const item = { id: igId, type: 'image_generation_call', status: 'completed', result: img.result };
    if (img.format) item.output_format = img.format;
    ev('response.output_item.done', { output_index: oi, item });
    oi++;
  }
  const toks = (reply.toolCalls || reply.images) && reply.text === undefined ? [] : replyTokens(reply, `You said: ${lastUserText(json)}`);
  if (toks.length) {
    const msgId = rid('msg_');
    const text = toks.join('');
    ev('response.output_item.added', { output_index: oi, item: { id: msgId, type: 'message', status: 'in_progress', content: [], role: 'assistant' } });
    ev('response.content_part.added', { item_id: msgId, output_index: oi, content_index: 0, part: { type: 'output_text', annotations: [], text: '' } });
    for (const t of toks) ev('response.output_text.delta', { item_id: msgId, output_index: oi, content_index: 0, delta: t, logprobs: [] });
    const annotations = (reply.citations || []).map((c) => ({ type: 'url_citation', start_index: 0, end_index: text.length, url: c.url, title: c.title }));
    annotations.forEach((annotation, annotation_index) =>
      ev('response.output_text.annotation.added', { item_id: msgId, output_index: oi, content_index: 0, annotation_index, annotation }));
    ev('response.output_text.done', { item_id: msgId, output_index: oi, content_index: 0, text, logprobs: [] });
    const part = { type: 'output_text', annotations, text };
    ev('response.content_part.done', { item_id: msgId, output_index: oi, content_index: 0, part });
    ev('response.output_item.done', { output_index: oi, item: { id: msgId, type: 'message', status: 'completed', content: [part], role: 'assistant' } });
    oi++;
  }
  for (const tc of reply.toolCalls || []) {
    const fcId = rid('fc_');
    const call_id = tc.id || rid('call_');
    ev('response.output_item.added', { output_index: oi, item: { id: fcId, type: 'function_call', status: 'in_progress', arguments: '', call_id, name: tc.name } });
    for (const d of splitFragments(tc.arguments, tc.fragments || 3)) {
      ev('response.function_call_arguments.delta', { item_id: fcId, output_index: oi, delta: d });
    }
    ev('response.function_call_arguments.done', { item_id: fcId, output_index: oi, arguments: tc.arguments });
    ev('response.output_item.done', { output_index: oi, item: { id: fcId, type: 'function_call', status: 'completed', arguments: tc.arguments, call_id, name: tc.name } });
    oi++;
  }
  const u = reply.usage || { input: 10, output: toks.length };
  ev('response.completed', {
    response: resp('completed', {
      usage: {
        input_tokens: u.input, input_tokens_details: { cached_tokens: u.cached || 0 },
        output_tokens: u.output, output_tokens_details: { reasoning_tokens: u.reasoning || 0 },
        total_tokens: u.input + u.output,
      },
    }),
  });
  return frames;
}

// ---- the server ----

function startFake({ port = 0 } = {}) {
  const queue = [];
  const requests = [];
  const sockets = new Set();

  function sendError(res, reply) {
    const headers = { 'Content-Type': 'application/json' };
    if (reply.retryAfter !== undefined) headers['Retry-After'] = String(reply.retryAfter);
    res.writeHead(reply.status, headers);
    res.end(JSON.stringify({ error: { message: reply.message || `fake error ${reply.status}`, type: 'fake_error', param: null, code: null } }));
  }

  function stream(req, res, rec, frames, reply) {
    if (reply.fault === 'hang-headers') return; // no answer until the client gives up
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache' });
    if (reply.fault === 'hang') return;
    if (reply.fault === 'malformed') {
      res.write(frames[0]);
      res.write('data: {"id":"chatcmpl-broken","choices":[{"delta":{"content":"x"}\n\n');
      return; // leaves the stream open: the client must give up on its own
    }
    if (reply.fault === 'cut') {
      res.write(frames.slice(0, Math.max(2, frames.length >> 1)).join(''));
      setTimeout(() => req.socket.destroy(), 20);
      return;
    }
    if (reply.fault === 'drip') {
      let i = 0;
      const next = () => {
        if (rec.closedEarly || i >= frames.length) { if (!rec.closedEarly) res.end(); return; }
        res.write(frames[i++]);
        setTimeout(next, reply.dripMs || 200);
      };
      next();
      return;
    }
    // As fast as the socket takes it, in large writes (benchmarks).
    let i = 0;
    const pump = () => {
      while (i < frames.length) {
        let batch = '';
        while (i < frames.length && batch.length < 65536) batch += frames[i++];
        if (!res.write(batch)) { res.once('drain', pump); return; }
      }
      res.end();
    };
    pump();
  }

  function handle(req, res, body) {
    let json = null;
    try { json = body.length ? JSON.parse(body.toString('utf8')) : null; } catch { json = null; }
    const rec = { path: req.url, method: req.method, headers: req.headers, body, json, closedEarly: false, finished: false };
    requests.push(rec);
    res.on('close', () => { if (!res.writableFinished) rec.closedEarly = true; rec.finished = true; });
    if (req.url === '/_control/replies' && req.method === 'POST') {
      for (const r of json || []) queue.push(r);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{}');
      return;
    }
    if (req.url === '/_control/requests') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(requests.map((r) => ({ path: r.path, closedEarly: r.closedEarly, json: r.json }))));
      return;
    }
    const reply = queue.length ? queue.shift() : {};
    if (reply.status) { sendError(res, reply); return; }
    if (req.url === '/v1/chat/completions' && req.method === 'POST') {
      if (!json) { sendError(res, { status: 400, message: 'We could not parse the JSON body of your request.' }); return; }
      stream(req, res, rec, chatChunks(reply, json), reply);
    } else if (req.url === '/v1/responses' && req.method === 'POST') {
      if (!json) { sendError(res, { status: 400, message: 'We could not parse the JSON body of your request.' }); return; }
      stream(req, res, rec, responsesEvents(reply, json), reply);
    } else if (req.url === '/v1/chatkit/sessions' && req.method === 'POST') {
      const beta = req.headers['openai-beta'];
      if (beta !== 'chatkit_beta=v1') { sendError(res, { status: 400, message: 'missing OpenAI-Beta: chatkit_beta=v1' }); return; }
      const wf = json && json.workflow && json.workflow.id;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({
        id: rid('cksess_'), object: 'chatkit.session', client_secret: rid('ek_'),
        expires_at: Math.floor(Date.now() / 1000) + 600, max_requests_per_1_minute: 10,
        workflow: { id: wf, version: null, state_variables: null, tracing: { enabled: true } },
        user: json && json.user, status: 'active', ...(reply.session || {}),
      }));
    } else if (req.url === '/v1/audio/transcriptions' && req.method === 'POST') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ text: reply.transcript || 'hello from the fake' }));
    } else {
      sendError(res, { status: 404, message: `no route ${req.method} ${req.url}` });
    }
  }

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks)));
  });
  server.keepAliveTimeout = 60000;
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  return new Promise((resolve) => {
    server.listen(port, '127.0.0.1', () => {
      const p = server.address().port;
      resolve({
        url: `http://127.0.0.1:${p}`,
        port: p,
        requests,
        push(...replies) { queue.push(...replies); },
        clear() { queue.length = 0; requests.length = 0; },
        close() {
          for (const s of sockets) s.destroy();
          return new Promise((r) => server.close(() => r()));
        },
      });
    });
  });
}

module.exports = { startFake, chatChunks, responsesEvents };

if (require.main === module) {
  const i = process.argv.indexOf('--port');
  startFake({ port: i > 0 ? Number(process.argv[i + 1]) : 0 }).then((f) => {
    console.log(`fake upstream on ${f.url}`);
  });
}
