'use strict';
// bench/models.js - model relay benchmarks (bench/run section "models"; see bench/README.md).
//
//  7a. Relay overhead: the fake upstream (tests/fakes/fake_upstream.js, its own process) sends
//      BENCH_TOKENS tokens as fast as it can. The same client reads them directly from the fake
//      (Chat Completions chunks) and through chatkitd (ChatKit text_delta events, which carry
//      every token that arrived in one upstream read), alternating,
//      BENCH_RELAY_ROUNDS rounds each; tokens/s (median), the ratio, and the overhead per token.
//      CPU per token of every process (from /proc: chatkitd, the fake, this client) for both
//      paths, which a loaded machine disturbs far less than the rates. With BENCH_PIN (1) and
//      taskset and >= 2 CPUs, chatkitd runs on CPU 0 and the fake and this client on CPU 1, so
//      both paths give the fake and the client the same CPU and the relay its own (as the
//      /health figures pin the server apart from its load generator); 7b runs unpinned.
//  7b. BENCH_MODEL_TURNS (1,000) concurrent upstream-backed turns: they start evenly over
//      BENCH_RAMP_MS (2 s) and each upstream answer drips BENCH_DRIP_TOKENS (60) tokens
//      BENCH_DRIP_MS (100 ms) apart, so every turn is in flight at once after the ramp.
//      chatkitd's loop lag (its chatkitd_loop_lag_seconds histogram, 10 ms probe) over the run,
//      p99 and max, and RSS growth per turn in flight (peak RSS minus RSS before, / turns).
//
// Usage: node bench/models.js CHATKITD_BIN OUT_DIR   (prints "key value" lines, then a summary)

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const BIN = path.resolve(process.argv[2] || 'build/chatkitd');
const OUT = process.argv[3] || fs.mkdtempSync('/tmp/chatkitd-bench-models-');
const TOKENS = Number(process.env.BENCH_TOKENS || 20000);
const ROUNDS = Number(process.env.BENCH_RELAY_ROUNDS || 5);
const TURNS = Number(process.env.BENCH_MODEL_TURNS || 1000);
const DRIP_TOKENS = Number(process.env.BENCH_DRIP_TOKENS || 60);
const RAMP_MS = Number(process.env.BENCH_RAMP_MS || 2000);
const DRIP_MS = Number(process.env.BENCH_DRIP_MS || 100);
const ROOT = path.resolve(__dirname, '..');
const PIN = process.env.BENCH_PIN !== '0' && require('node:os').cpus().length >= 2 && hasTaskset();

function hasTaskset() {
  try {
    require('node:child_process').execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// cmd args, pinned to cpu when PIN.
function pinned(cpu, cmd, args) {
  return PIN ? ['taskset', ['-c', String(cpu), cmd, ...args]] : [cmd, args];
}

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

function post(port, pathname, body, headers = {}, onData) {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = http.request({
      host: '127.0.0.1', port, path: pathname, method: 'POST', agent,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload), ...headers },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => (onData ? onData(c) : chunks.push(c)));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

function get(port, pathname) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: pathname, agent }, (res) => {
      let t = '';
      res.on('data', (c) => { t += c; });
      res.on('end', () => resolve(t));
    }).on('error', reject);
  });
}

function startProc(cmd, args, opts, pattern, logName) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    const log = fs.createWriteStream(path.join(OUT, logName));
    p.stderr.pipe(log);
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
      const m = pattern.exec(out);
      if (m) resolve({ proc: p, port: Number(m[1]) });
    });
    p.once('exit', (code) => reject(new Error(`${cmd} exited ${code} before it was ready`)));
  });
}

// Counts occurrences of needle in a Buffer stream without keeping it.
function counter(needle) {
  const n = Buffer.from(needle);
  let tail = Buffer.alloc(0);
  const st = { count: 0, bytes: 0 };
  st.feed = (c) => {
    st.bytes += c.length;
    const b = tail.length ? Buffer.concat([tail, c]) : c;
    let i = 0;
    while ((i = b.indexOf(n, i)) >= 0) { st.count++; i += n.length; }
    tail = b.subarray(Math.max(0, b.length - n.length + 1));
  };
  return st;
}

async function pushReplies(fakePort, replies) {
  const r = await post(fakePort, '/_control/replies', replies);
  if (r.status !== 200) throw new Error('the fake refused the replies');
}

// CPU seconds of the processes a relay run involves, now.
function cpuNow(pids) {
  const u = process.cpuUsage();
  return { client: (u.user + u.system) / 1e6, fake: cpuSeconds(pids.fake), chatkitd: cpuSeconds(pids.chatkitd) };
}

// Microseconds of CPU per token for each process between a and b.
function cpuPerToken(a, b) {
  const out = {};
  for (const k of Object.keys(a)) out[k] = ((b[k] - a[k]) / TOKENS) * 1e6;
  return out;
}

async function direct(fakePort, pids) {
  await pushReplies(fakePort, [{ repeat: TOKENS, text: 'tok ' }]);
  const c = counter('"content":"tok "');
  const cpu0 = cpuNow(pids);
  const t0 = process.hrtime.bigint();
  await post(fakePort, '/v1/chat/completions', { model: 'm', stream: true, messages: [{ role: 'user', content: 'go' }] }, {}, c.feed);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (c.count !== TOKENS) throw new Error(`direct: ${c.count} tokens of ${TOKENS}`);
  return { s, tps: TOKENS / s, cpu: cpuPerToken(cpu0, cpuNow(pids)) };
}

async function session(port) {
  const r = await post(port, '/api/chatkit/sessions', {});
  return JSON.parse(r.text).client_secret;
}

// Counts the tokens ("tok ") inside text_delta events of a ChatKit stream (chatkitd may carry
// several tokens in one event when they arrive together).
function deltaCounter() {
  let rest = '';
  const st = { count: 0 };
  st.feed = (c) => {
    const lines = (rest + c.toString('latin1')).split('\n');
    rest = lines.pop();
    for (const l of lines) {
      if (!l.includes('text_delta"')) continue;
      const d = l.slice(l.indexOf('"delta":"') + 9);
      st.count += d.split('tok ').length - 1;
    }
  };
  return st;
}

async function relayed(port, fakePort, secret, pids) {
  await pushReplies(fakePort, [{ repeat: TOKENS, text: 'tok ' }]);
  const c = deltaCounter();
  const cpu0 = cpuNow(pids);
  const t0 = process.hrtime.bigint();
  await post(port, '/chatkit', { type: 'threads.create', params: { input: { content: [{ type: 'input_text', text: 'go' }], attachments: [], inference_options: {} } } },
    { Authorization: `Bearer ${secret}` }, c.feed);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (c.count !== TOKENS) throw new Error(`chatkitd: ${c.count} tokens of ${TOKENS}`);
  return { s, tps: TOKENS / s, cpu: cpuPerToken(cpu0, cpuNow(pids)) };
}

const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];

function lagHistogram(metrics) {
  const b = [];
  const re = /^chatkitd_loop_lag_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm;
  let m;
  while ((m = re.exec(metrics))) b.push({ le: m[1] === '+Inf' ? Infinity : Number(m[1]), n: Number(m[2]) });
  const max = Number((/^chatkitd_loop_lag_max_seconds (\S+)$/m.exec(metrics) || [])[1]);
  return { b, max };
}

// p99 from the difference of two cumulative histograms: the smallest bound holding 99 %.
function p99(before, after) {
  const d = after.b.map((x, i) => ({ le: x.le, n: x.n - before.b[i].n }));
  const total = d[d.length - 1].n;
  const want = Math.ceil(total * 0.99);
  return { bound: d.find((x) => x.n >= want).le, samples: total };
}

function cpuSeconds(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks of 1/100 s
}

function rssKiB(pid) {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(s)[1]);
}

async function burst(port, fakePort, pid, secrets) {
  const replies = Array.from({ length: TURNS }, () => ({ fault: 'drip', dripMs: DRIP_MS, tokens: Array(DRIP_TOKENS).fill('tok ') }));
  await pushReplies(fakePort, replies);
  const before = lagHistogram(await get(port, '/metrics'));
  const rss0 = rssKiB(pid);
  const cpu0 = cpuSeconds(pid);
  let peak = rss0;
  const sampler = setInterval(() => { peak = Math.max(peak, rssKiB(pid)); }, 50);
  const t0 = Date.now();
  let ok = 0;
  await Promise.all(Array.from({ length: TURNS }, async (_, i) => {
    await new Promise((r) => setTimeout(r, (i * RAMP_MS) / TURNS));
    const c = deltaCounter();
    await post(port, '/chatkit', { type: 'threads.create', params: { input: { content: [{ type: 'input_text', text: `turn ${i}` }], attachments: [], inference_options: {} } } },
      { Authorization: `Bearer ${secrets[i % secrets.length]}` }, c.feed);
    if (c.count === DRIP_TOKENS) ok++;
  }));
  clearInterval(sampler);
  const secs = (Date.now() - t0) / 1000;
  const after = lagHistogram(await get(port, '/metrics'));
  return { ok, secs, lag: p99(before, after), lagMax: after.max, rss0, peak, perTurnKiB: (peak - rss0) / TURNS,
    cpu: cpuSeconds(pid) - cpu0, load: fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0] };
}

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  const fake = await startProc(...pinned(1, process.execPath, [path.join(ROOT, 'tests/fakes/fake_upstream.js')]), {}, /fake upstream on http:\/\/127\.0\.0\.1:(\d+)/, 'fake.log');
  const data = fs.mkdtempSync(path.join(OUT, 'data-'));
  const providers = path.join(OUT, 'providers.json');
  fs.writeFileSync(providers, JSON.stringify({ providers: { fake: { base_url: `http://127.0.0.1:${fake.port}` } } }));
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('CHATKITD_') || k.startsWith('OPENAI_')) delete env[k];
  const srv = await startProc(...pinned(0, BIN, ['serve', '--listen', '127.0.0.1:0', '--data-dir', data, '--access-log', 'off',
    '--providers', providers, '--model', 'compat:fake/m', '--session-rate', '100000', '--max-connections', '20000',
    '--sse-queue-bytes', '64MiB', '--model-first-token-timeout', '5m', '--model-idle-timeout', '5m']),
  { env }, /listening on http:\/\/127\.0\.0\.1:(\d+)/, 'chatkitd.log');
  try {
    const secret = await session(srv.port);
    const pids = { fake: fake.proc.pid, chatkitd: srv.proc.pid };
    await direct(fake.port, pids); // warm-up, not counted
    await relayed(srv.port, fake.port, secret, pids);
    const d = [];
    const r = [];
    for (let i = 0; i < ROUNDS; i++) {
      d.push(await direct(fake.port, pids));
      r.push(await relayed(srv.port, fake.port, secret, pids));
    }
    const dt = median(d.map((x) => x.tps));
    const rt = median(r.map((x) => x.tps));
    const overheadUs = (median(r.map((x) => x.s)) - median(d.map((x) => x.s))) / TOKENS * 1e6;
    console.log(`relay_tokens ${TOKENS}`);
    console.log(`relay_direct_tokens_per_s ${dt.toFixed(0)}`);
    console.log(`relay_chatkitd_tokens_per_s ${rt.toFixed(0)}`);
    console.log(`relay_ratio ${(rt / dt).toFixed(3)}`);
    console.log(`relay_overhead_us_per_token ${overheadUs.toFixed(2)}`);
    // Summed over the rounds: /proc counts CPU time in 10 ms ticks, too coarse for one round.
    const cpuMed = (runs, k) => (runs.reduce((sum, x) => sum + x.cpu[k], 0) / runs.length).toFixed(2);
    console.log(`relay_pinned ${PIN ? 'chatkitd:cpu0 fake+client:cpu1' : 'no'}`);
    console.log(`relay_cpu_us_per_token_chatkitd ${cpuMed(r, 'chatkitd')} (through chatkitd, mean of the rounds)`);
    console.log(`relay_cpu_us_per_token_fake ${cpuMed(d, 'fake')} / ${cpuMed(r, 'fake')} (direct / through chatkitd)`);
    console.log(`relay_cpu_us_per_token_client ${cpuMed(d, 'client')} / ${cpuMed(r, 'client')} (direct / through chatkitd)`);
    if (PIN) {
      // The burst is about the loop's latency: pinned to one CPU of a shared machine chatkitd
      // could not move away from other work, so it gets every CPU again (and so does the client).
      const { execFileSync } = require('node:child_process');
      const all = `0-${require('node:os').cpus().length - 1}`;
      for (const pid of [srv.proc.pid, process.pid]) execFileSync('taskset', ['-p', '-c', all, String(pid)], { stdio: 'ignore' });
    }
    const secrets = [];
    for (let i = 0; i < 50; i++) secrets.push(await session(srv.port));
    const b = await burst(srv.port, fake.port, srv.proc.pid, secrets);
    console.log(`burst_turns ${TURNS}`);
    console.log(`burst_turns_complete ${b.ok}`);
    console.log(`burst_seconds ${b.secs.toFixed(2)}`);
    console.log(`burst_loop_lag_p99_ms_le ${(b.lag.bound * 1000).toFixed(1)} (${b.lag.samples} samples)`);
    console.log(`loop_lag_max_ms_since_start ${(b.lagMax * 1000).toFixed(1)}`);
    console.log(`burst_chatkitd_cpu_seconds ${b.cpu.toFixed(2)}`);
    console.log(`burst_machine_load_avg_1m ${b.load}`);
    console.log(`burst_rss_before_kib ${b.rss0}`);
    console.log(`burst_rss_peak_kib ${b.peak}`);
    console.log(`burst_kib_per_turn_in_flight ${b.perTurnKiB.toFixed(1)}`);
  } finally {
    srv.proc.kill('SIGTERM');
    fake.proc.kill('SIGTERM');
    agent.destroy();
  }
}

main().catch((e) => { console.error(`bench/models: ${e.stack || e}`); process.exit(1); });
