// stream_proxy.mjs - a loopback proxy in front of chatkitd that can stand in for a slow model.
//
// The built-in agent answers in a few milliseconds and never at length, so "stop mid-stream" and
// "the longest main-thread task while a 2,000-token answer streams" need an answer that takes a
// while. This proxy passes every request through to chatkitd unchanged, except a POST /chatkit
// (threads.create or threads.add_user_message) whose message text contains MARKER: that one it
// answers itself with a ChatKit stream framed exactly as the protocol spec says (§1.4, §7):
// [thread.created,] thread.item.done (the user message), stream_options, thread.item.added (the
// assistant message), content_part.added, one text_delta event per token, content_part.done,
// thread.item.done. Tokens go out `batch` at a time every `intervalMs`. A thread it made is kept,
// and threads.get_by_id / items.list for it are answered from memory. Test and bench code only.

import http from 'node:http';

export const MARKER = 'BENCH_LONG_ANSWER';
export const END_WORD = 'BENCHEND';

// n tokens of markdown-ish text (headings, lists, bold, code), the last one carrying END_WORD.
export function answerTokens(n) {
  const words = ['tasks', 'today', 'plan', 'review', 'the', 'milk', 'report', 'call', 'schedule',
    'priority', 'done', 'tomorrow', 'meeting', 'notes', 'and', 'with', 'for', 'project', 'list', 'week'];
  const out = [];
  let i = 0;
  while (out.length < n - 1) {
    const k = out.length;
    if (k % 120 === 0) out.push(k ? `\n\n## Part ${k / 120 + 1}\n\n` : '## Part 1\n\n');
    else if (k % 40 === 0) out.push('\n\n- ');
    else if (k % 33 === 0) out.push(' **important**');
    else if (k % 51 === 0) out.push(' `code`');
    else out.push(` ${words[i++ % words.length]}`);
  }
  out.push(` ${END_WORD}.`);
  return out;
}

const isoNow = () => new Date().toISOString();
let seq = 0;
const newId = (prefix) => `${prefix}_proxy${Date.now().toString(16)}${(seq++).toString(16)}`;

function sendJson(res, obj) {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(obj));
}

export class StreamProxy {
  // upstreamPort: chatkitd's port. opts: tokens (array), batch (4), intervalMs (8).
  constructor(upstreamPort, opts = {}) {
    this.upstreamPort = upstreamPort;
    this.tokens = opts.tokens || answerTokens(2000);
    this.batch = opts.batch || 4;
    this.intervalMs = opts.intervalMs || 8;
    this.threads = new Map(); // id -> {thread, items}
    this.streams = []; // {closedEarly, sent} per long answer, for tests
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  listen() {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => {
      this.url = `http://127.0.0.1:${this.server.address().port}`;
      resolve(this);
    }));
  }

  close() {
    this.server.closeAllConnections?.();
    return new Promise((resolve) => this.server.close(resolve));
  }

  handle(req, res) {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.method === 'POST' && req.url.split('?')[0] === '/chatkit' && this.answerHere(body, res)) return;
      const up = http.request({
        host: '127.0.0.1', port: this.upstreamPort, method: req.method, path: req.url, headers: req.headers,
      }, (ur) => {
        res.writeHead(ur.statusCode, ur.headers);
        ur.pipe(res);
      });
      up.on('error', () => { if (!res.headersSent) res.writeHead(502); res.end(); });
      res.on('close', () => up.destroy());
      up.end(body);
    });
  }

  // True when this request is the proxy's to answer (and it answered).
  answerHere(body, res) {
    let r;
    try { r = JSON.parse(body); } catch { return false; }
    const known = r?.params?.thread_id && this.threads.get(r.params.thread_id);
    if (known && r.type === 'threads.get_by_id') {
      sendJson(res, { ...known.thread, items: { data: known.items, has_more: false } });
      return true;
    }
    if (known && r.type === 'items.list') {
      sendJson(res, { data: known.items, has_more: false, after: null });
      return true;
    }
    const text = JSON.stringify(r?.params?.input?.content || '');
    if (!/^threads\.(create|add_user_message)$/.test(r?.type) || !text.includes(MARKER)) return false;
    this.stream(res, r);
    return true;
  }

  stream(res, request) {
    const sse = (obj) => res.write(`data: ${JSON.stringify(obj)}\n\n`);
    const state = { closedEarly: false, sent: 0 };
    this.streams.push(state);
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    const threadId = request.params.thread_id || newId('thr');
    const entry = this.threads.get(threadId) || {
      thread: { id: threadId, title: 'Long answer', created_at: isoNow(), status: { type: 'active' }, metadata: {} },
      items: [],
    };
    this.threads.set(threadId, entry);
    if (!request.params.thread_id) sse({ type: 'thread.created', thread: { ...entry.thread, items: { data: [], has_more: false } } });
    const user = {
      id: newId('msg'), thread_id: threadId, created_at: isoNow(), type: 'user_message',
      content: request.params.input.content, attachments: [], inference_options: {},
    };
    entry.items.push(user);
    sse({ type: 'thread.item.done', item: user });
    sse({ type: 'stream_options', stream_options: { allow_cancel: true } });
    const aid = newId('msg');
    sse({ type: 'thread.item.added', item: { id: aid, thread_id: threadId, created_at: isoNow(), type: 'assistant_message', content: [] } });
    sse({ type: 'thread.item.updated', item_id: aid, update: { type: 'assistant_message.content_part.added', content_index: 0, content: { annotations: [], text: '', type: 'output_text' } } });
    const timer = setInterval(() => {
      for (let k = 0; k < this.batch && state.sent < this.tokens.length; k++, state.sent++) {
        sse({ type: 'thread.item.updated', item_id: aid, update: { type: 'assistant_message.content_part.text_delta', content_index: 0, delta: this.tokens[state.sent] } });
      }
      if (state.sent < this.tokens.length) return;
      clearInterval(timer);
      const part = { annotations: [], text: this.tokens.join(''), type: 'output_text' };
      sse({ type: 'thread.item.updated', item_id: aid, update: { type: 'assistant_message.content_part.done', content_index: 0, content: part } });
      const done = { id: aid, thread_id: threadId, created_at: isoNow(), type: 'assistant_message', content: [part] };
      entry.items.push(done);
      sse({ type: 'thread.item.done', item: done });
      res.end();
    }, this.intervalMs);
    res.on('close', () => {
      if (state.sent < this.tokens.length) state.closedEarly = true;
      clearInterval(timer);
    });
  }
}
