'use strict';
// bench/relay.js - cross-replica task event latency for `make bench` (section 7).
//
//   node bench/relay.js PORT_A PORT_B SECRET N
//
// Opens GET /api/events on the replica at PORT_B, then N times, one after the other: POST
// /api/tasks on the replica at PORT_A and waits until B's feed delivers that task's
// task.created event. The latency of a change runs from sending the POST to the event's arrival
// on B (so it includes the change's own commit). Prints one line:
//   relay n=N p50_ms=… p99_ms=… max_ms=…
const http = require('node:http');

const [portA, portB, secret, count] = process.argv.slice(2);
const N = Number(count || 200);
const auth = { Authorization: `Bearer ${secret}` };

function post(body) {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = http.request({
      host: '127.0.0.1', port: portA, path: '/api/tasks', method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => (res.statusCode === 201 ? resolve(JSON.parse(text)) : reject(new Error(`POST ${res.statusCode} ${text}`))));
    });
    req.on('error', reject);
    req.end(data);
  });
}

function openFeed(onEvent) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: portB, path: '/api/events', headers: auth }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`feed ${res.statusCode}`));
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          if (frame.startsWith('data: ')) onEvent(JSON.parse(frame.slice(6)));
        }
      });
      resolve(req);
    });
    req.on('error', reject);
    req.end();
  });
}

async function main() {
  const waiting = new Map(); // task id -> resolve
  const early = new Set();   // events that arrived before their POST answered
  const feed = await openFeed((ev) => {
    if (ev.type !== 'task.created') return;
    const w = waiting.get(ev.task.id);
    if (w) w();
    else early.add(ev.task.id);
  });
  await new Promise((r) => setTimeout(r, 200));
  const lat = [];
  for (let i = 0; i < N; i++) {
    const t0 = process.hrtime.bigint();
    const task = await post({ title: `relay ${i}` });
    if (!early.delete(task.id)) {
      await new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`task ${task.id} never reached the feed`)), 5000);
        waiting.set(task.id, () => { clearTimeout(t); waiting.delete(task.id); resolve(); });
      });
    }
    lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  feed.destroy();
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.ceil(lat.length * p) - 1)].toFixed(2);
  console.log(`relay n=${N} p50_ms=${q(0.5)} p99_ms=${q(0.99)} max_ms=${lat[lat.length - 1].toFixed(2)}`);
}

main().catch((e) => { console.error(`relay: ${e.message}`); process.exit(1); });
