#!/usr/bin/env node
// Development only (not shipped): serves a built UI directory with the production CSP and
// proxies the API to a running chatkitd, so the UI can be tried before the C side serves it.
//
//   node ui/dev/server.mjs --dir /tmp/uidist --backend http://127.0.0.1:8123 --listen 127.0.0.1:8124

import http from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const dir = path.resolve(arg('dir', 'dist'));
const backend = new URL(arg('backend', 'http://127.0.0.1:8123'));
const [host, port] = arg('listen', '127.0.0.1:8124').split(':');
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.txt': 'text/plain; charset=utf-8', '.json': 'application/json' };

function proxy(req, res) {
  const up = http.request({ host: backend.hostname, port: backend.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
    res.writeHead(r.statusCode, r.headers);
    r.pipe(res);
  });
  up.on('error', (e) => {
    res.writeHead(502, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'bad_gateway', message: e.message } }));
  });
  req.pipe(up);
  res.on('close', () => up.destroy());
}

http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  const p = url.pathname;
  if (p.startsWith('/api/') || p.startsWith('/files/') || p === '/health' || (p === '/chatkit' && req.method === 'POST')) return proxy(req, res);
  if (p === '/ui/config.json') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(process.env.HOSTED_URL ? JSON.stringify({ hosted: true, chatkit_script_url: process.env.HOSTED_URL }) : '{"hosted":false,"chatkit_script_url":""}');
  }
  const file = p === '/' || p === '/chatkit' ? 'index.html' : p.slice(1);
  const full = path.join(dir, file);
  if (!full.startsWith(dir)) { res.writeHead(403); return res.end(); }
  try {
    const body = await readFile(full);
    res.writeHead(200, { 'content-type': TYPES[path.extname(full)] || 'application/octet-stream', 'content-security-policy': "default-src 'self'" });
    res.end(body);
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  }
}).listen(Number(port), host, () => console.log(`dev UI on http://${host}:${port} (dir ${dir}, backend ${backend.origin})`));
