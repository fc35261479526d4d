// The page itself in chromium against the real binary: it loads under its CSP without errors,
// asks /ui/config.json, refuses inline script, passes an axe-core audit (no serious or critical
// violations, light and dark), and is captured in dark mode and at 375 px; the origin guard
// itself is shown to catch a request that leaves.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Harness, artifact, axeAudit, consoleProblems, e2e, openPage, tid, waitUntil } from './helpers.mjs';

let hs;
before(async () => { hs = await Harness.start(); });
after(async () => {
  try {
    hs.assertStayedHome();
    hs.assertNoPageErrors();
  } finally {
    await hs.stop();
  }
});

async function open(page, url = '/') {
  const res = await openPage(page, url);
  assert.equal(res.status(), 200);
  return res;
}

test('the page loads under its CSP with no console error, and reads /ui/config.json', async () => {
  const page = await hs.page();
  const assets = [];
  page.on('response', (r) => {
    if (/^(script|stylesheet)$/.test(r.request().resourceType())) assets.push(r);
  });
  const res = await open(page);
  // What the browser got: the embedded gzip bytes, cacheable forever (hashed names).
  assert.ok(assets.length >= 2, 'scripts and a stylesheet');
  for (const r of assets) {
    const h = await r.allHeaders();
    assert.equal(h['content-encoding'], 'gzip', r.url());
    assert.equal(h['cache-control'], 'public, max-age=31536000, immutable', r.url());
  }
  assert.equal(res.headers()['content-security-policy'], "default-src 'self'");
  assert.notEqual(await page.title(), '');
  assert.deepEqual(consoleProblems(page), []);
  const again = await open(page, '/chatkit');
  assert.equal(again.status(), 200);
  assert.deepEqual(consoleProblems(page), []);
});

test('the CSP refuses inline script', async () => {
  const page = await hs.page();
  await open(page);
  const ran = await page.evaluate(() => new Promise((resolve) => {
    document.addEventListener('securitypolicyviolation', (e) => resolve(`blocked ${e.violatedDirective}`), { once: true });
    const s = document.createElement('script');
    s.textContent = 'window.__inlineRan = true';
    document.head.append(s);
    setTimeout(() => resolve(window.__inlineRan ? 'ran' : 'silent'), 2000);
  }));
  assert.match(ran, /^blocked script-src/);
});

test('axe-core finds no serious or critical violation, light or dark', async () => {
  for (const colorScheme of ['light', 'dark']) {
    const page = await hs.page({ colorScheme });
    await open(page);
    assert.deepEqual(await axeAudit(page), [], `${colorScheme} mode`);
  }
});

test('screenshots: dark mode and a 375 px wide phone', async () => {
  const dark = await hs.page({ colorScheme: 'dark', viewport: { width: 1280, height: 800 } });
  await open(dark);
  const bg = await dark.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await dark.screenshot({ path: artifact('dark.png') });
  const phone = await hs.page({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true });
  await open(phone);
  await phone.screenshot({ path: artifact('phone-375.png') });
  // Nothing may overflow sideways on a phone.
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow} px wider than the 375 px screen`);
  for (const f of ['dark.png', 'phone-375.png']) assert.ok(fs.statSync(artifact(f)).size > 1000, f);
  assert.ok(bg, 'body has a background');
});

test('the origin guard catches a request that leaves (so its silence means something)', async () => {
  const probe = await Harness.start();
  try {
    const page = await probe.page();
    await page.setContent('<img src="http://127.0.0.2:9/x.png" alt="">');
    await page.waitForTimeout(200);
    assert.deepEqual([...probe.foreign], ['GET http://127.0.0.2:9/x.png']);
  } finally {
    await probe.stop();
  }
});

test('--ui-dir serves the same site from disk, and the chat works from it', async () => {
  const dist = path.join(path.dirname(e2e.BIN), 'ui-dist'); // the build's own copy of the site
  assert.ok(fs.existsSync(path.join(dist, 'index.html')), `${dist} holds the built site`);
  const disk = await Harness.start({ args: ['--ui-dir', dist] });
  try {
    const page = await disk.page();
    const res = await open(page);
    assert.match(res.headers().etag, /^"[0-9a-f]+-[0-9a-f]+-[0-9a-f]+"$/, 'an mtime-size ETag: read from disk');
    await tid(page, 'composer-input').fill('hello');
    await tid(page, 'send-button').click();
    await waitUntil(async () => (await page.locator('[data-item-type="assistant_message"]').count()) > 0, { what: 'an answer' });
    assert.deepEqual(consoleProblems(page), []);
    disk.assertStayedHome();
    disk.assertNoPageErrors();
  } finally {
    await disk.stop();
  }
});
