'use strict';
// The peer of chatkitd's benchmarks: a minimal ChatKit server on chatkit-node-backend-sdk@1.1.2
// (npm), as its README sets one up: a Store subclass (here in memory), a ChatKitServer subclass
// whose respond() answers, and an HTTP route that feeds the body to server.process() and streams
// the result. Its responder echoes the user's text as a streamed assistant message:
// thread.item.added, content_part.added, one text_delta, content_part.done, thread.item.done, and
// it titles a new thread from the first message (thread.updated), as the README's example does.
//
//   node bench/peer/server.js [PORT]     (PORT 0 or none: a free port)
//
// prints "chatkit peer listening on http://127.0.0.1:PORT" once it listens. It speaks the same
// protocol on the same route shape as chatkitd (POST /chatkit, Bearer token), so bench/turns
// drives both; the Bearer token is taken as the user id (each user has its own threads).
//
// To give the peer its best case:
// - it uses node:http directly (the README uses express, which only adds work);
// - the SDK's logger is a no-op, and console.log is silenced once listening: the SDK prints
//   "[INFO] Received request op: …" per request and a pretty-printed "DEBUG threads.create
//   params" per threads.create. PEER_SDK_LOG=1 keeps that output.
// SIGTERM and SIGINT stop it.

const http = require('node:http');
const { ChatKitServer, Store, StoreNotFoundError } = require('chatkit-node-backend-sdk');

// ---- an in-memory Store (every abstract method of the SDK's Store) ----

class MemoryStore extends Store {
  constructor() {
    super();
    this.users = new Map(); // userId -> { threads: Map(id -> thread), items: Map(id -> item[]) }
    this.attachments = new Map();
  }

  user(context) {
    const id = (context && context.userId) || 'anonymous';
    let u = this.users.get(id);
    if (!u) {
      u = { threads: new Map(), items: new Map() };
      this.users.set(id, u);
    }
    return u;
  }

  async loadThread(threadId, context) {
    const t = this.user(context).threads.get(threadId);
    if (!t) throw new StoreNotFoundError(`thread ${threadId} not found`);
    return { ...t };
  }

  async saveThread(thread, context) {
    const u = this.user(context);
    const { items, ...meta } = thread;
    u.threads.set(thread.id, { ...meta });
    if (!u.items.has(thread.id)) u.items.set(thread.id, []);
  }

  async deleteThread(threadId, context) {
    const u = this.user(context);
    u.threads.delete(threadId);
    u.items.delete(threadId);
  }

  static page(list, limit, after, order) {
    const sorted = order === 'desc' ? [...list].reverse() : list;
    let start = 0;
    if (after) {
      const i = sorted.findIndex((x) => x.id === after);
      start = i >= 0 ? i + 1 : 0;
    }
    const data = sorted.slice(start, start + limit);
    const hasMore = start + limit < sorted.length;
    return { data, has_more: hasMore, after: hasMore && data.length ? data[data.length - 1].id : null };
  }

  async loadThreads(limit, after, order, context) {
    return MemoryStore.page([...this.user(context).threads.values()], limit, after, order);
  }

  async loadThreadItems(threadId, after, limit, order, context) {
    return MemoryStore.page(this.user(context).items.get(threadId) || [], limit, after, order);
  }

  async addThreadItem(threadId, item, context) {
    const u = this.user(context);
    let list = u.items.get(threadId);
    if (!list) {
      list = [];
      u.items.set(threadId, list);
    }
    list.push(item);
  }

  async saveItem(threadId, item, context) {
    const list = this.user(context).items.get(threadId) || [];
    const i = list.findIndex((x) => x.id === item.id);
    if (i >= 0) list[i] = item;
    else list.push(item);
  }

  async loadItem(threadId, itemId, context) {
    const list = this.user(context).items.get(threadId) || [];
    const it = list.find((x) => x.id === itemId);
    if (!it) throw new StoreNotFoundError(`item ${itemId} not found`);
    return it;
  }

  async deleteThreadItem(threadId, itemId, context) {
    const u = this.user(context);
    const list = u.items.get(threadId) || [];
    u.items.set(threadId, list.filter((x) => x.id !== itemId));
  }

  async saveAttachment(attachment) {
    this.attachments.set(attachment.id, attachment);
  }

  async loadAttachment(attachmentId) {
    const a = this.attachments.get(attachmentId);
    if (!a) throw new StoreNotFoundError(`attachment ${attachmentId} not found`);
    return a;
  }

  async deleteAttachment(attachmentId) {
    this.attachments.delete(attachmentId);
  }
}

// ---- the echo responder ----

class EchoServer extends ChatKitServer {
  async *respond(thread, inputUserMessage, context) {
    if (!inputUserMessage) return;
    const text = inputUserMessage.content
      .filter((c) => c.type === 'input_text')
      .map((c) => c.text)
      .join(' ');
    const id = this.store.generateItemId('message', thread, context);
    const base = { id, thread_id: thread.id, created_at: new Date().toISOString(), type: 'assistant_message' };
    yield { type: 'thread.item.added', item: { ...base, content: [] } };
    const empty = { type: 'output_text', text: '', annotations: [] };
    yield {
      type: 'thread.item.updated', item_id: id,
      update: { type: 'assistant_message.content_part.added', content_index: 0, content: empty },
    };
    yield {
      type: 'thread.item.updated', item_id: id,
      update: { type: 'assistant_message.content_part.text_delta', content_index: 0, delta: text },
    };
    const part = { type: 'output_text', text, annotations: [] };
    yield {
      type: 'thread.item.updated', item_id: id,
      update: { type: 'assistant_message.content_part.done', content_index: 0, content: part },
    };
    yield { type: 'thread.item.done', item: { ...base, created_at: new Date().toISOString(), content: [part] } };
    if (!thread.title) thread.title = text.slice(0, 50) + (text.length > 50 ? '...' : '');
  }
}

const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const sdkLog = process.env.PEER_SDK_LOG === '1';
const chatkit = new EchoServer(new MemoryStore(), undefined, sdkLog ? undefined : quiet);

// ---- HTTP ----

function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function handle(req, res) {
  if (req.method !== 'POST' || req.url !== '/chatkit') {
    sendJson(res, 404, { error: { code: 'not_found', message: 'no such route' } });
    return;
  }
  const auth = req.headers.authorization || '';
  const context = { userId: auth.startsWith('Bearer ') ? auth.slice(7) : 'anonymous' };
  const chunks = [];
  for await (const c of req) chunks.push(c);
  let result;
  try {
    result = await chatkit.process(Buffer.concat(chunks), context);
  } catch (e) {
    sendJson(res, 400, { error: { code: 'invalid_request', message: String(e && e.message) } });
    return;
  }
  if (result.isStreaming) {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    try {
      for await (const chunk of result) res.write(chunk);
    } finally {
      res.end();
    }
  } else {
    const text = result.toString();
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((e) => {
    if (!res.headersSent) sendJson(res, 500, { error: { code: 'internal', message: String(e && e.message) } });
    else res.destroy();
  });
});
server.keepAliveTimeout = 60000;
server.headersTimeout = 65000;
server.requestTimeout = 0;
server.maxConnections = 20000;

const port = Number(process.argv[2] || 0);
server.listen({ port, host: '127.0.0.1', backlog: 4096 }, () => {
  process.stdout.write(`chatkit peer listening on http://127.0.0.1:${server.address().port}\n`);
  if (!sdkLog) console.log = () => {};
});
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}
