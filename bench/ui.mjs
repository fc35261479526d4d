#!/usr/bin/env node
// bench/ui.mjs - the web UI's figures in chromium (playwright-core from tests/browser), against
// the real binary on loopback. `make bench` runs it as the "ui" section of bench/run.
//
//   node bench/ui.mjs --bin build/chatkitd [--runs 10] [--tokens 2000] [--streams 5] [--json FILE]
//
// 1. First contentful paint of / : a fresh browser context per run (cold cache), FCP from the
//    Performance API (paint entry "first-contentful-paint"); median, min and max over --runs.
// 2. First-load JS+CSS bytes: the bytes on the wire (gzip, as chromium asks for it) of every
//    script and stylesheet the page fetched from navigation until it was ready (composer and
//    board on screen, plus 300 ms), without any interaction: chunks loaded lazily later (markdown, code highlighting, math) are not in
//    it. The gzipped size of every JS/CSS file of the site is printed beside it for scale.
// 3. Longest main-thread task while the page streams a 2,000-token answer. No model can produce
//    one offline, so a small proxy stands in front of chatkitd: it passes every request through,
//    except a POST /chatkit whose message contains its marker, which it
//    answers itself with a ChatKit stream, byte for byte as the protocol spec frames it
//    (tests/browser/stream_proxy.mjs: thread.created, user message, stream_options, assistant
//    message added, content part, one text_delta event per token, part done, item done), --tokens
//    tokens, 4 tokens every 8 ms (500 tokens/s).
//    The page is traced (devtools.timeline) from the send to the last token on screen; the
//    figure is the longest RunTask on the renderer's main thread (the median over --streams
//    rounds, and the worst), with the biggest events inside it, plus the long tasks (> 50 ms) the
//    page's own PerformanceObserver saw.
// Figures only; the exit status is non-zero only when the harness broke. The last line is
// "UI_BENCH key=value ..." for bench/run.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

import { END_WORD, MARKER, StreamProxy, answerTokens } from '../tests/browser/stream_proxy.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'tests/browser/package.json'));
const { chromium } = require('playwright-core');

function args() {
  const a = { bin: path.join(root, 'build/chatkitd'), runs: 10, tokens: 2000, streams: 5, json: null };
  const v = process.argv.slice(2);
  for (let i = 0; i < v.length; i += 2) {
    const k = v[i].replace(/^--/, '');
    if (!(k in a) || i + 1 >= v.length) throw new Error(`usage: bench/ui.mjs [--bin F] [--runs N] [--tokens N] [--streams N] [--json F] (bad '${v[i]}')`);
    a[k] = k === 'bin' || k === 'json' ? v[i + 1] : Number(v[i + 1]);
  }
  return a;
}

function median(xs) {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function startChatkitd(bin) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatkitd-uibench-'));
  const proc = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--data-dir', path.join(dir, 'data'),
    '--access-log', 'off', '--session-rate', '100000'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (c) => reject(new Error(`chatkitd exited ${c}: ${err}`)));
  });
  return { proc, port, dir, url: `http://127.0.0.1:${port}` };
}

// ---- measurements ----

// The page is ready for a person: the composer and the task board are on screen. (It keeps its
// live task feed open, so "network idle" never comes; 300 ms more catch any late eager load.)
async function settled(page) {
  await page.locator('[data-testid="composer-input"]').waitFor();
  await page.locator('[data-testid="board-list"]').waitFor({ state: 'attached' });
  await page.waitForTimeout(300);
}

async function firstLoad(browser, url) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const assets = [];
  page.on('response', async (r) => {
    const t = r.request().resourceType();
    if (t === 'script' || t === 'stylesheet') {
      const h = await r.allHeaders();
      assets.push({ url: r.url(), type: t, wire: Number(h['content-length'] || 0), enc: h['content-encoding'] || 'identity' });
    }
  });
  await page.goto(url, { waitUntil: 'load' });
  await settled(page);
  const fcp = await page.evaluate(() => new Promise((resolve) => {
    const e = performance.getEntriesByName('first-contentful-paint')[0];
    if (e) { resolve(e.startTime); return; }
    new PerformanceObserver((l) => resolve(l.getEntries()[0].startTime)).observe({ type: 'paint', buffered: true });
  }));
  await ctx.close();
  return { fcp, assets };
}

function siteBytes(distDir) {
  let js = 0; let css = 0; let n = 0;
  if (!fs.existsSync(distDir)) return null;
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(js|css)$/.test(e.name)) {
        const gz = zlib.gzipSync(fs.readFileSync(p), { level: 9 }).length;
        if (e.name.endsWith('.css')) css += gz; else js += gz;
        n++;
      }
    }
  };
  walk(distDir);
  return { js, css, n };
}

// Sends the marker message the way a person would: through the element's sendUserMessage
// (ChatKit's imperative API), else by typing into the composer and pressing Enter.
async function sendMarker(page) {
  const text = `${MARKER}: please write a long plan`;
  const viaApi = await page.evaluate(async (t) => {
    const el = document.querySelector('chatkit-chat');
    if (!el || typeof el.sendUserMessage !== 'function') return false;
    await el.sendUserMessage({ text: t });
    return true;
  }, text).catch(() => false);
  if (viaApi) return;
  const box = page.getByRole('textbox').first();
  await box.fill(text);
  await box.press('Enter');
}

async function streamTask(browser, url) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  await page.goto(url, { waitUntil: 'load' });
  await settled(page);
  await page.evaluate(() => {
    window.__longTasks = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__longTasks.push(e.duration); })
      .observe({ type: 'longtask' });
  });
  await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'v8.execute', 'blink.user_timing'] });
  const t0 = Date.now();
  await sendMarker(page);
  await page.getByText(END_WORD).first().waitFor({ timeout: 120000 });
  const seconds = (Date.now() - t0) / 1000;
  const trace = JSON.parse((await browser.stopTracing()).toString());
  const longTasks = await page.evaluate(() => window.__longTasks);
  await ctx.close();
  const events = trace.traceEvents || trace;
  const main = events.find((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
  assert.ok(main, 'the trace names the renderer main thread');
  const tasks = events.filter((e) => e.ph === 'X' && e.pid === main.pid && e.tid === main.tid &&
    (e.name === 'RunTask' || e.name === 'ThreadControllerImpl::RunTask'));
  const durations = tasks.map((e) => (e.dur || 0) / 1000).sort((x, y) => y - x);
  // Thread time (tdur): the CPU the task itself used, without the time the renderer sat
  // descheduled inside it on a busy machine.
  const cpu = tasks.map((e) => (e.tdur || 0) / 1000).sort((x, y) => y - x);
  // What the longest task spent its time on: the biggest events nested in it on the same thread.
  const top = tasks.reduce((m, e) => (!m || e.dur > m.dur ? e : m), null);
  const inside = top ? events.filter((e) => e.ph === 'X' && e.tid === main.tid && e.pid === main.pid && e !== top && e.name !== top.name &&
    e.ts >= top.ts && e.ts + (e.dur || 0) <= top.ts + top.dur && e.dur >= top.dur / 10) : [];
  const what = [...new Map(inside.sort((x, y) => y.dur - x.dur).map((e) => [e.name, e])).values()]
    .slice(0, 4).map((e) => `${e.name} ${(e.dur / 1000).toFixed(1)}`).join(', ');
  return { seconds, longest: durations[0] || 0, longestCpu: cpu[0] || 0, p99: durations[Math.floor(durations.length / 100)] || 0,
    tasks: durations.length, over50: durations.filter((d) => d > 50).length, observed: longTasks, what };
}

async function main() {
  const a = args();
  const ck = await startChatkitd(path.resolve(a.bin));
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
    args: process.getuid() === 0 ? ['--no-sandbox'] : [] });
  let proxy;
  try {
    console.log(`== UI in ${browser.version()} (headless), chatkitd ${a.bin} on ${ck.url}`);
    await firstLoad(browser, ck.url); // one unmeasured load: the binary's pages warm, chromium's disk caches
    const fcps = [];
    let assets = [];
    for (let i = 0; i < a.runs; i++) {
      const r = await firstLoad(browser, `${ck.url}/`);
      fcps.push(r.fcp);
      assets = r.assets;
    }
    const js = assets.filter((x) => x.type === 'script').reduce((s, x) => s + x.wire, 0);
    const css = assets.filter((x) => x.type === 'stylesheet').reduce((s, x) => s + x.wire, 0);
    console.log(`first contentful paint of /: median ${median(fcps).toFixed(1)} ms (min ${Math.min(...fcps).toFixed(1)}, max ${Math.max(...fcps).toFixed(1)}) over ${a.runs} cold loads`);
    for (const x of assets) console.log(`  first load: ${x.type.padEnd(10)} ${String(x.wire).padStart(7)} B ${x.enc.padEnd(8)} ${new URL(x.url).pathname}`);
    console.log(`first-load JS+CSS on the wire: ${js + css} B (JS ${js}, CSS ${css}) in ${assets.length} files`);
    const site = siteBytes(path.join(path.dirname(path.resolve(a.bin)), 'ui-dist'));
    if (site) console.log(`  every JS/CSS file of the site, gzipped: ${site.js + site.css} B in ${site.n} files (lazy chunks included)`);
    proxy = await new StreamProxy(ck.port, { tokens: answerTokens(a.tokens) }).listen();
    const purl = `${proxy.url}/`;
    const rounds = [];
    for (let i = 0; i < a.streams; i++) {
      const s = await streamTask(browser, purl);
      rounds.push(s);
      console.log(`streaming a ${a.tokens}-token answer, round ${i + 1} (${s.seconds.toFixed(1)} s): longest main-thread task ${s.longest.toFixed(1)} ms (${s.what || '-'}; longest in CPU time ${s.longestCpu.toFixed(1)} ms), ` +
        `p99 ${s.p99.toFixed(2)} ms over ${s.tasks} tasks, ${s.over50} over 50 ms; PerformanceObserver long tasks: ${s.observed.length ? s.observed.map((d) => d.toFixed(0)).join(', ') + ' ms' : 'none'}`);
    }
    const s = rounds.slice().sort((x, y) => x.longest - y.longest)[Math.floor(rounds.length / 2)];
    const worst = Math.max(...rounds.map((r) => r.longest));
    const worstCpu = Math.max(...rounds.map((r) => r.longestCpu));
    console.log(`longest main-thread task while streaming: median of ${rounds.length} rounds ${s.longest.toFixed(1)} ms, worst ${worst.toFixed(1)} ms; ` +
      `in CPU time: worst ${worstCpu.toFixed(1)} ms`);
    const figures = {
      fcp_ms: +median(fcps).toFixed(1), fcp_min_ms: +Math.min(...fcps).toFixed(1), fcp_max_ms: +Math.max(...fcps).toFixed(1),
      first_load_bytes: js + css, first_load_js: js, first_load_css: css, first_load_files: assets.length,
      site_bytes: site ? site.js + site.css : 0, stream_tokens: a.tokens, stream_s: +s.seconds.toFixed(2),
      longest_task_ms: +s.longest.toFixed(1), longest_task_worst_ms: +worst.toFixed(1), longest_task_cpu_worst_ms: +worstCpu.toFixed(1),
      tasks_over_50ms: rounds.reduce((n, r) => n + r.over50, 0), observed_long_tasks: rounds.reduce((n, r) => n + r.observed.length, 0),
    };
    if (a.json) fs.writeFileSync(a.json, JSON.stringify(figures, null, 2));
    console.log(`UI_BENCH ${Object.entries(figures).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  } finally {
    await browser.close();
    if (proxy) await proxy.close();
    ck.proc.kill('SIGTERM');
    await new Promise((r) => ck.proc.once('exit', r));
    fs.rmSync(ck.dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`bench/ui.mjs: ${e && e.stack || e}`);
  process.exit(1);
});
