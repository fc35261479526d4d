// Shared helpers of the browser tests: the real binary (through tests/e2e/helpers.js), Debian's
// chromium driven by playwright-core, and the origin guard.
//
// The origin guard: every browser context routes every request; one that would leave the
// server's origin is aborted and recorded, and so is a WebSocket to anywhere else. Each test file
// asserts at its end (assertStayedHome) that nothing was recorded over its whole run, so "no
// request leaves the origin" is checked for every page every test opens.
//
// Chromium: $CHROMIUM or /usr/bin/chromium, headless, --no-sandbox when running as root (the
// sandbox refuses root). Artifacts (screenshots) go to tests/browser/artifacts/ (gitignored).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
export const e2e = require('../e2e/helpers.js');
const { chromium } = require('playwright-core');
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const ARTIFACTS = path.join(here, 'artifacts');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export async function launch() {
  const args = [];
  if (process.getuid && process.getuid() === 0) args.push('--no-sandbox');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args });
}

// A running chatkitd plus a browser, with the origin guard on every context it makes.
export class Harness {
  constructor() {
    this.srv = null;
    this.browser = null;
    this.contexts = [];
    this.foreign = new Set(); // requests that tried to leave the origin
    this.pageErrors = []; // uncaught exceptions in pages
  }

  static async start(serverOpts = {}) {
    const hs = new Harness();
    hs.srv = await e2e.startServer(serverOpts);
    hs.browser = await launch();
    return hs;
  }

  get origin() {
    return this.srv.url;
  }

  // A new context (own cookies, so its own user) with the guard; opts go to newContext, except
  // opts.home: the origin the pages belong to (default the server's; a test proxy's otherwise).
  async context({ home, ...opts } = {}) {
    const origin = new URL(home || this.srv.url).origin;
    const ctx = await this.browser.newContext({ baseURL: origin, ...opts });
    ctx.home = origin;
    await ctx.route('**/*', (route) => {
      const u = route.request().url();
      if (new URL(u).origin === origin) return route.continue();
      this.foreign.add(`${route.request().method()} ${u}`);
      return route.abort('blockedbyclient');
    });
    ctx.on('request', (req) => {
      const u = req.url();
      if (!/^(data|blob):/.test(u) && new URL(u).origin !== origin) this.foreign.add(`${req.method()} ${u}`);
    });
    this.contexts.push(ctx);
    return ctx;
  }

  // A page in a fresh context that records its console lines and errors.
  async page(opts = {}) {
    const ctx = await this.context(opts);
    const page = await ctx.newPage();
    page.consoleLines = [];
    page.on('console', (m) => page.consoleLines.push({ type: m.type(), text: m.text() }));
    page.on('pageerror', (e) => this.pageErrors.push(String(e && e.stack || e)));
    page.on('websocket', (ws) => {
      if (new URL(ws.url()).host !== new URL(ctx.home).host) this.foreign.add(`WS ${ws.url()}`);
    });
    return page;
  }

  assertStayedHome() {
    assert.deepEqual([...this.foreign], [], `requests left the origin ${this.srv.url}`);
  }

  assertNoPageErrors() {
    assert.deepEqual(this.pageErrors, [], 'uncaught errors in the page');
  }

  async stop() {
    for (const c of this.contexts.splice(0)) await c.close().catch(() => {});
    if (this.browser) await this.browser.close();
    if (this.srv) {
      const code = await this.srv.stop();
      assert.equal(code, 0, `chatkitd exited ${code}:\n${this.srv.stderrText().slice(-3000)}`);
    }
  }
}

// Console lines that are errors or CSP refusals (Chromium reports CSP blocks on the console).
export function consoleProblems(page) {
  return page.consoleLines.filter((l) => l.type === 'error' || /Content Security Policy/i.test(l.text));
}

// Loads url and waits until the page has settled: its config read, the chat's composer and the
// task board's list on screen. (The page keeps its live task feed open, so "network idle" never
// comes.) Returns the navigation response.
export async function openPage(page, url = '/') {
  const config = page.waitForResponse((r) => new URL(r.url()).pathname === '/ui/config.json');
  const res = await page.goto(url, { waitUntil: 'load' });
  assert.equal((await config).status(), 200);
  await page.locator('[data-testid="composer-input"]').waitFor();
  await page.locator('[data-testid="board-list"]').waitFor({ state: 'attached' });
  return res;
}

// Runs axe-core in the page (evaluated through the DevTools protocol, which the page's CSP does
// not govern) and returns its serious and critical violations as lines.
export async function axeAudit(page) {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

export const tid = (page, id) => page.locator(`[data-testid="${id}"]`);

export function artifact(name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return path.join(ARTIFACTS, name);
}

export const { delay } = e2e;

// e2e's waitUntil with a longer default: chromium and an ASan build share 2 CPUs with the rest.
export function waitUntil(fn, opts = {}) {
  return e2e.waitUntil(fn, { timeout: 15000, ...opts });
}
