'use strict';
// Attachments (spec/chatkit-protocol.md §5.14, §5.15, §11; docs/api.md "Attachments"): the
// two-phase flow (attachments.create, then PUT or POST of the bytes, raw or multipart), the
// direct flow (POST /api/chatkit/upload), GET /files/{id}, size and type limits, isolation
// between users, messages embedding attachments, deletion removing the bytes from disk, and the
// sweep of uploads never attached to a message.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./helpers');
const ck = require('./chatkit_client');

const T = { timeout: 30000 };
const ATC = /^atc_[0-9a-f]{32}$/;

let srv;
const servers = [];

before(async () => {
  srv = await h.startServer({ args: ['--session-rate', '100000'] });
  servers.push(srv);
});

after(() => h.stopAll(servers));

const session = (s = srv, cookie) => ck.session(s, cookie);
const auth = (u) => ({ Authorization: `Bearer ${u.secret}` });

// Where the bytes of attachment id live under a server's data dir.
const filePath = (s, id) => path.join(s.dataDir, 'files', id.slice(4, 6), id);

// A JSON POST /chatkit answer (any status), parsed.
async function chatkit(s, u, type, params) {
  const r = await ck.post(s, u, { type, params });
  return { status: r.status, headers: r.headers, text: r.text, json: () => JSON.parse(r.text) };
}

async function create(s, u, params) {
  const r = await chatkit(s, u, 'attachments.create', params);
  assert.equal(r.status, 200, r.text);
  return r.json();
}

// A multipart/form-data body as a browser's FormData encodes it: {body, contentType}.
async function form(bytes, { filename = 'file.bin', type = 'application/octet-stream', field = 'file', extra } = {}) {
  const fd = new FormData();
  if (extra) for (const [k, v] of Object.entries(extra)) fd.append(k, v);
  if (field) fd.append(field, new Blob([bytes], { type }), filename);
  const req = new Request('http://localhost/', { method: 'POST', body: fd });
  return { body: Buffer.from(await req.arrayBuffer()), contentType: req.headers.get('content-type') };
}

function send(s, u, method, url, body, contentType = 'application/octet-stream', headers = {}) {
  return h.request(s.url, method, url, {
    body, headers: { ...(u ? auth(u) : {}), 'Content-Type': contentType, ...headers },
  });
}

async function sendForm(s, u, url, bytes, opts) {
  const f = await form(bytes, opts);
  return send(s, u, 'POST', url, f.body, f.contentType);
}

// GET (or HEAD) a path and keep the body's bytes.
async function fetchBytes(s, p, headers = {}, method = 'GET') {
  const r = await fetch(s.url + p, { method, headers });
  return { status: r.status, headers: r.headers, body: Buffer.from(await r.arrayBuffer()) };
}

// Sends only the head of a request announcing a body of n bytes; resolves with the raw answer.
async function announce(s, u, method, url, n) {
  const { responses, conn } = await h.rawExchange(s.port, `${method} ${url} HTTP/1.1\r\nHost: x\r\n` +
    `Authorization: Bearer ${u.secret}\r\nContent-Length: ${n}\r\n\r\n`);
  conn.destroy();
  return responses[0];
}

// The Attachment object of spec §11.2, as this server writes it.
function checkAttachment(a, { name, mime, image, descriptor }) {
  assert.match(a.id, ATC);
  assert.equal(a.name, name);
  assert.equal(a.mime_type, mime);
  assert.equal(a.type, image ? 'image' : 'file');
  const keys = ['id', 'mime_type', 'name', 'type'];
  if (image) {
    assert.equal(a.preview_url, `/files/${a.id}`);
    keys.push('preview_url');
  } else {
    assert.equal(a.preview_url, undefined);
  }
  if (descriptor) {
    assert.deepEqual(a.upload_descriptor,
      { url: `/api/chatkit/attachments/${a.id}/upload`, method: 'PUT', headers: {} });
    keys.push('upload_descriptor');
  }
  assert.deepEqual(Object.keys(a).sort(), keys.sort());
  ck.assertNoNulls(a);
}

// Two-phase upload of bytes with PUT; returns the attachment (after upload).
async function uploaded(s, u, bytes, { name = 'cat.png', mime = 'image/png' } = {}) {
  const a = await create(s, u, { name, size: bytes.length, mime_type: mime });
  const r = await send(s, u, 'PUT', a.upload_descriptor.url, bytes);
  assert.equal(r.status, 200, r.text);
  return r.json();
}

describe('two-phase upload', () => {
  test('attachments.create -> PUT raw bytes -> preview_url serves them to the owner', T, async () => {
    const u = await session();
    const bytes = crypto.randomBytes(5000);
    const a = await create(srv, u, { name: 'cat.png', size: bytes.length, mime_type: 'Image/PNG; x=1' });
    checkAttachment(a, { name: 'cat.png', mime: 'image/png', image: true, descriptor: true });
    assert.ok(!fs.existsSync(filePath(srv, a.id)), 'no bytes before the upload');
    // the bytes are not served while pending
    h.assertError(await h.get(srv, a.preview_url, { headers: auth(u) }), 404, 'attachment_not_found');

    const r = await send(srv, u, 'PUT', a.upload_descriptor.url, bytes);
    assert.equal(r.status, 200, r.text);
    const done = r.json();
    checkAttachment(done, { name: 'cat.png', mime: 'image/png', image: true, descriptor: false });
    assert.equal(done.id, a.id);
    assert.ok(fs.readFileSync(filePath(srv, a.id)).equals(bytes), 'the bytes on disk');
    assert.deepEqual(fs.readdirSync(path.join(srv.dataDir, 'files', 'tmp')), [], 'no temp files left');

    const f = await fetchBytes(srv, a.preview_url, auth(u));
    assert.equal(f.status, 200);
    assert.ok(f.body.equals(bytes), 'preview_url bytes are identical');
    assert.equal(f.headers.get('content-type'), 'image/png');
    assert.equal(f.headers.get('content-length'), String(bytes.length));
    assert.match(f.headers.get('content-disposition'), /^inline; filename="cat\.png"$/);
    assert.equal(f.headers.get('x-content-type-options'), 'nosniff');
    assert.match(f.headers.get('cache-control'), /^private\b/);
    // ?token= for <img src>, which cannot send headers
    const t = await fetchBytes(srv, `${a.preview_url}?token=${encodeURIComponent(u.secret)}`);
    assert.equal(t.status, 200);
    assert.ok(t.body.equals(bytes));
    const head = await fetchBytes(srv, a.preview_url, auth(u), 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(bytes.length));
    // no secret, or a wrong one
    h.assertError(await h.get(srv, a.preview_url), 401, 'missing_client_secret');
    h.assertError(await h.get(srv, `${a.preview_url}?token=ek_nope`), 401, 'invalid_client_secret');
    // a second upload to the same attachment is refused
    h.assertError(await send(srv, u, 'PUT', a.upload_descriptor.url, bytes), 409,
      'attachment_already_uploaded');
  });

  test('POST multipart (field file) and POST raw to the upload URL; file downloads', T, async () => {
    const u = await session();
    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\r\n--'), crypto.randomBytes(3000), Buffer.from('\r\n')]);
    const a = await create(srv, u, { name: 'report "Q3".pdf', size: pdf.length, mime_type: 'application/pdf' });
    checkAttachment(a, { name: 'report "Q3".pdf', mime: 'application/pdf', image: false, descriptor: true });
    const r = await sendForm(srv, u, a.upload_descriptor.url, pdf,
      { filename: 'ignored.pdf', type: 'application/pdf', extra: { purpose: 'chat' } });
    assert.equal(r.status, 200, r.text);
    checkAttachment(r.json(), { name: 'report "Q3".pdf', mime: 'application/pdf', image: false, descriptor: false });
    const f = await fetchBytes(srv, `/files/${a.id}`, auth(u));
    assert.equal(f.status, 200);
    assert.ok(f.body.equals(pdf), 'multipart upload stored exactly the file part');
    assert.equal(f.headers.get('content-type'), 'application/pdf');
    assert.equal(f.headers.get('content-disposition'), 'attachment; filename="report \\"Q3\\".pdf"');

    const txt = Buffer.from('plain text, raw POST\n');
    const b = await create(srv, u, { name: 'notes.txt', size: txt.length, mime_type: 'text/plain' });
    const r2 = await send(srv, u, 'POST', b.upload_descriptor.url, txt, 'text/plain');
    assert.equal(r2.status, 200, r2.text);
    assert.ok((await fetchBytes(srv, `/files/${b.id}`, auth(u))).body.equals(txt));
    // a declared size may be larger than the bytes that come
    const c = await create(srv, u, { name: 'short.txt', size: 100, mime_type: 'text/plain' });
    const r3 = await send(srv, u, 'PUT', c.upload_descriptor.url, txt);
    assert.equal(r3.status, 200, r3.text);
  });

  test('bad uploads: empty, malformed multipart, unknown ids', T, async () => {
    const u = await session();
    const a = await create(srv, u, { name: 'a.txt', size: 10, mime_type: 'text/plain' });
    h.assertError(await send(srv, u, 'PUT', a.upload_descriptor.url, ''), 400, 'invalid_request');
    h.assertError(await send(srv, u, 'POST', a.upload_descriptor.url, 'not a form',
      'multipart/form-data; boundary=zz'), 400, 'invalid_multipart');
    const noFile = await form(Buffer.from('x'), { field: null, extra: { other: 'x' } });
    h.assertError(await send(srv, u, 'POST', a.upload_descriptor.url, noFile.body, noFile.contentType),
      400, 'invalid_multipart');
    h.assertError(await send(srv, u, 'PUT', `/api/chatkit/attachments/atc_${'0'.repeat(32)}/upload`, 'x'),
      404, 'attachment_not_found');
    h.assertError(await send(srv, u, 'PUT', '/api/chatkit/attachments/nope/upload', 'x'), 404,
      'attachment_not_found');
    h.assertError(await send(srv, null, 'PUT', a.upload_descriptor.url, 'x'), 401);
    // still pending and usable after all that
    const r = await send(srv, u, 'PUT', a.upload_descriptor.url, '0123456789');
    assert.equal(r.status, 200, r.text);
  });
});

describe('direct upload', () => {
  test('POST /api/chatkit/upload creates and uploads in one step', T, async () => {
    const u = await session();
    const csv = Buffer.from('a,b\n1,2\n');
    const r = await sendForm(srv, u, '/api/chatkit/upload', csv,
      { filename: 'Übersicht "1".csv', type: 'text/csv' });
    assert.equal(r.status, 200, r.text);
    const a = r.json();
    checkAttachment(a, { name: 'Übersicht "1".csv', mime: 'text/csv', image: false, descriptor: false });
    assert.ok(fs.readFileSync(filePath(srv, a.id)).equals(csv));
    const f = await fetchBytes(srv, `/files/${a.id}`, auth(u));
    assert.ok(f.body.equals(csv));
    assert.equal(f.headers.get('content-disposition'),
      'attachment; filename="_bersicht \\"1\\".csv"; filename*=UTF-8\'\'%C3%9Cbersicht%20%221%22.csv');
    // an image keeps its preview
    const png = crypto.randomBytes(700);
    const r2 = await sendForm(srv, u, '/api/chatkit/upload', png, { filename: 'p.png', type: 'image/png' });
    assert.equal(r2.status, 200, r2.text);
    checkAttachment(r2.json(), { name: 'p.png', mime: 'image/png', image: true, descriptor: false });
    assert.ok((await fetchBytes(srv, r2.json().preview_url, auth(u))).body.equals(png));
  });

  test('direct upload errors: not multipart, no file, bad type, bad name', T, async () => {
    const u = await session();
    h.assertError(await send(srv, u, 'POST', '/api/chatkit/upload', 'raw bytes'), 400, 'invalid_multipart');
    const noFile = await form(Buffer.from('x'), { field: 'other' });
    h.assertError(await send(srv, u, 'POST', '/api/chatkit/upload', noFile.body, noFile.contentType),
      400, 'invalid_multipart');
    const e = h.assertError(await sendForm(srv, u, '/api/chatkit/upload', Buffer.from('<svg/>'),
      { filename: 'x.svg', type: 'image/svg+xml' }), 400, 'attachment_type_not_allowed');
    assert.match(e.message, /image\/png/, 'the message names the allowed types');
    h.assertError(await sendForm(srv, u, '/api/chatkit/upload', Buffer.from('x'),
      { filename: 'x.bin', type: 'application/octet-stream' }), 400, 'attachment_type_not_allowed');
    h.assertError(await sendForm(srv, u, '/api/chatkit/upload', Buffer.alloc(0),
      { filename: 'empty.txt', type: 'text/plain' }), 400, 'invalid_request');
    h.assertError(await send(srv, null, 'POST', '/api/chatkit/upload', 'x'), 401);
  });
});

describe('limits', () => {
  let small;
  before(async () => {
    small = await h.startServer({
      args: ['--session-rate', '100000', '--attachment-max-bytes', '1000',
        '--attachment-types', 'image/*,text/plain'],
    });
    servers.push(small);
  });

  test('size over the maximum is 413 at create and at upload; over the declared size too', T, async () => {
    const u = await session(small);
    const big = await chatkit(small, u, 'attachments.create', { name: 'a.txt', size: 1001, mime_type: 'text/plain' });
    h.assertError(big, 413, 'attachment_too_large');
    assert.match(big.json().error.message, /1000/);
    h.assertError(await chatkit(small, u, 'attachments.create', { name: 'a.txt', size: 0, mime_type: 'text/plain' }),
      400, 'invalid_request');
    const ok = await create(small, u, { name: 'a.txt', size: 1000, mime_type: 'text/plain' });
    // more than declared
    const a = await create(small, u, { name: 'a.txt', size: 10, mime_type: 'text/plain' });
    h.assertError(await send(small, u, 'PUT', a.upload_descriptor.url, 'x'.repeat(11)), 413, 'attachment_too_large');
    // more than the maximum (the route takes the form framing on top, so the handler answers)
    h.assertError(await send(small, u, 'PUT', ok.upload_descriptor.url, 'x'.repeat(1001)), 413, 'attachment_too_large');
    h.assertError(await sendForm(small, u, '/api/chatkit/upload', Buffer.alloc(1001, 65),
      { filename: 'b.txt', type: 'text/plain' }), 413, 'attachment_too_large');
    // far beyond: the connection layer refuses the announced body unread
    const huge = await announce(small, u, 'PUT', ok.upload_descriptor.url, 200 * 1024);
    h.assertError(huge, 413, 'payload_too_large');
    assert.match(huge.body, /limit of 66536 bytes/);
    assert.equal(huge.headers.connection, 'close');
    // exactly the maximum is fine, and nothing failed left the attachment unusable
    const r = await send(small, u, 'PUT', ok.upload_descriptor.url, 'y'.repeat(1000));
    assert.equal(r.status, 200, r.text);
    // /chatkit itself keeps the server's own body limit (1 MiB)
    const capped = await announce(small, u, 'POST', '/chatkit', 1024 * 1024 + 1);
    h.assertError(capped, 413, 'payload_too_large');
    assert.match(capped.body, /limit of 1048576 bytes/);
  });

  test('types: the allow list with patterns; names are validated', T, async () => {
    const u = await session(small);
    const e = h.assertError(await chatkit(small, u, 'attachments.create',
      { name: 'a.pdf', size: 5, mime_type: 'application/pdf' }), 400, 'attachment_type_not_allowed');
    assert.match(e.message, /image\/\*,text\/plain/);
    h.assertError(await chatkit(small, u, 'attachments.create', { name: 'a', size: 5, mime_type: 'nonsense' }),
      400, 'attachment_type_not_allowed');
    const gif = await create(small, u, { name: 'a.gif', size: 5, mime_type: 'image/gif' });
    checkAttachment(gif, { name: 'a.gif', mime: 'image/gif', image: true, descriptor: true });
    // SVG may be allowed by a pattern, but is never shown inline (it can carry script)
    const svg = await create(small, u, { name: 'a.svg', size: 6, mime_type: 'image/svg+xml' });
    checkAttachment(svg, { name: 'a.svg', mime: 'image/svg+xml', image: false, descriptor: true });
    assert.equal((await send(small, u, 'PUT', svg.upload_descriptor.url, '<svg/>')).status, 200);
    const f = await fetchBytes(small, `/files/${svg.id}`, auth(u));
    assert.match(f.headers.get('content-disposition'), /^attachment;/);
    assert.match(f.headers.get('content-security-policy'), /sandbox/);
    for (const name of ['', 'a/b.txt', 'a\nb.txt', 'x'.repeat(256)]) {
      h.assertError(await chatkit(small, u, 'attachments.create', { name, size: 5, mime_type: 'text/plain' }),
        400, 'invalid_request');
    }
    await create(small, u, { name: 'x'.repeat(255), size: 5, mime_type: 'text/plain' });
  });
});

describe('ownership', () => {
  test("another user cannot upload to, fetch, delete or send someone's attachment: 404", T, async () => {
    const owner = await session();
    const other = await session();
    const bytes = crypto.randomBytes(64);
    const pending = await create(srv, owner, { name: 'p.png', size: 64, mime_type: 'image/png' });
    h.assertError(await send(srv, other, 'PUT', pending.upload_descriptor.url, bytes), 404, 'attachment_not_found');
    const mp = await form(bytes, { filename: 'p.png', type: 'image/png' });
    h.assertError(await send(srv, other, 'POST', pending.upload_descriptor.url, mp.body, mp.contentType),
      404, 'attachment_not_found');
    const done = await uploaded(srv, owner, bytes);
    h.assertError(await h.get(srv, done.preview_url, { headers: auth(other) }), 404, 'attachment_not_found');
    h.assertError(await h.get(srv, `${done.preview_url}?token=${other.secret}`), 404, 'attachment_not_found');
    h.assertError(await chatkit(srv, other, 'attachments.delete', { attachment_id: done.id }), 404,
      'attachment_not_found');
    h.assertError(await chatkit(srv, other, 'threads.create', { input: ck.input('see', { attachments: [done.id] }) }),
      404, 'attachment_not_found');
    // the owner's attachment is untouched by all of that
    assert.ok((await fetchBytes(srv, done.preview_url, auth(owner))).body.equals(bytes));
    const r = await send(srv, owner, 'PUT', pending.upload_descriptor.url, bytes);
    assert.equal(r.status, 200, r.text);
  });
});

describe('messages and deletion', () => {
  test('a message embeds its attachments with thread_id', T, async () => {
    const u = await session();
    const png = await uploaded(srv, u, crypto.randomBytes(100));
    const txt = await uploaded(srv, u, Buffer.from('hello'), { name: 'n.txt', mime: 'text/plain' });
    const events = await ck.stream(srv, u, { type: 'threads.create',
      params: { input: ck.input('what is in these files?', { attachments: [png.id, txt.id] }) } });
    const threadId = events[0].thread.id;
    const msg = ck.doneItems(events, 'user_message')[0];
    assert.equal(msg.attachments.length, 2);
    const [a0, a1] = msg.attachments;
    assert.deepEqual(a0, { id: png.id, name: 'cat.png', mime_type: 'image/png', type: 'image',
      preview_url: `/files/${png.id}`, thread_id: threadId });
    assert.deepEqual(a1, { id: txt.id, name: 'n.txt', mime_type: 'text/plain', type: 'file', thread_id: threadId });
    // stored that way too
    const items = await ck.allItems(srv, u, threadId);
    assert.deepEqual(items.find((i) => i.type === 'user_message').attachments, msg.attachments);
    // a pending attachment cannot be sent
    const pending = await create(srv, u, { name: 'p.png', size: 5, mime_type: 'image/png' });
    h.assertError(await chatkit(srv, u, 'threads.create', { input: ck.input('x', { attachments: [pending.id] }) }),
      400, 'attachment_not_uploaded');
  });

  test('attachments.delete removes the record and the bytes; unknown ids are 404', T, async () => {
    const u = await session();
    const a = await uploaded(srv, u, crypto.randomBytes(300));
    const p = filePath(srv, a.id);
    assert.ok(fs.existsSync(p));
    assert.deepEqual(await ck.call(srv, u, 'attachments.delete', { attachment_id: a.id }), {});
    await h.waitUntil(() => !fs.existsSync(p), { what: `${p} to be removed` });
    h.assertError(await h.get(srv, a.preview_url, { headers: auth(u) }), 404, 'attachment_not_found');
    h.assertError(await chatkit(srv, u, 'attachments.delete', { attachment_id: a.id }), 404, 'attachment_not_found');
    h.assertError(await chatkit(srv, u, 'attachments.delete', { attachment_id: `atc_${'9'.repeat(32)}` }), 404,
      'attachment_not_found');
    h.assertError(await chatkit(srv, u, 'attachments.delete', { attachment_id: 'atc_1' }), 404, 'attachment_not_found');
    // a pending attachment (no bytes yet) deletes the same way
    const b = await create(srv, u, { name: 'b.txt', size: 3, mime_type: 'text/plain' });
    assert.deepEqual(await ck.call(srv, u, 'attachments.delete', { attachment_id: b.id }), {});
    h.assertError(await send(srv, u, 'PUT', b.upload_descriptor.url, 'abc'), 404, 'attachment_not_found');
  });

  test('threads.delete removes the bytes of its attachments', T, async () => {
    const u = await session();
    const a = await uploaded(srv, u, crypto.randomBytes(50));
    const keep = await uploaded(srv, u, crypto.randomBytes(50));
    const events = await ck.stream(srv, u, { type: 'threads.create',
      params: { input: ck.input('look', { attachments: [a.id] }) } });
    assert.ok(fs.existsSync(filePath(srv, a.id)));
    assert.deepEqual(await ck.call(srv, u, 'threads.delete', { thread_id: events[0].thread.id }), {});
    await h.waitUntil(() => !fs.existsSync(filePath(srv, a.id)), { what: 'the thread attachment to be removed' });
    h.assertError(await h.get(srv, a.preview_url, { headers: auth(u) }), 404, 'attachment_not_found');
    assert.ok(fs.existsSync(filePath(srv, keep.id)), 'an attachment of no thread stays');
  });
});

describe('cleanup of unused uploads', () => {
  test('--attachment-ttl: unattached uploads are swept, attached ones kept', T, async () => {
    // The sweep runs every min(10 min, ttl); 2 s leaves room to attach the first upload.
    const s = await h.startServer({ args: ['--session-rate', '100000', '--attachment-ttl', '2s'] });
    servers.push(s);
    const u = await session(s);
    const kept = await uploaded(s, u, crypto.randomBytes(40));
    await ck.stream(s, u, { type: 'threads.create',
      params: { input: ck.input('keep this', { attachments: [kept.id] }) } });
    const gone = await uploaded(s, u, crypto.randomBytes(40));
    const pending = await create(s, u, { name: 'p.txt', size: 3, mime_type: 'text/plain' });
    assert.ok(fs.existsSync(filePath(s, gone.id)));
    await h.waitUntil(() => !fs.existsSync(filePath(s, gone.id)),
      { timeout: 10000, interval: 100, what: 'the unattached upload to be swept' });
    h.assertError(await h.get(s, gone.preview_url, { headers: auth(u) }), 404, 'attachment_not_found');
    // two more sweeps later: the pending record (created after `gone`) is gone too, and the
    // attached upload is still there
    await h.delay(4500);
    h.assertError(await chatkit(s, u, 'attachments.delete', { attachment_id: pending.id }), 404,
      'attachment_not_found');
    assert.ok(fs.existsSync(filePath(s, kept.id)), 'the attached upload stays');
    assert.equal((await fetchBytes(s, kept.preview_url, auth(u))).status, 200);
    await h.waitUntil(() => /removed \d+ upload\(s\) never attached/.test(s.stderrText()),
      { what: 'the sweep log line' });
  });
});
