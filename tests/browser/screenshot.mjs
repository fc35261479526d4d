#!/usr/bin/env node
// Takes the README's screenshot of the app: a fresh server, a short conversation with the task
// assistant (three tasks, one completed from its card, the list), 1280x800, light mode.
//
//   CHATKITD_BIN=build/chatkitd node tests/browser/screenshot.mjs [OUT.png]   (default docs/screenshot.png)

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Harness, openPage, tid, waitUntil } from './helpers.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const out = path.resolve(process.argv[2] || path.join(root, 'docs/screenshot.png'));

async function ask(page, text, type) {
  const sel = `[data-item-type="${type}"]`;
  const before = await page.locator(sel).count();
  await tid(page, 'composer-input').fill(text);
  await tid(page, 'send-button').click();
  await waitUntil(async () => (await page.locator(sel).count()) > before, { timeout: 15000, what: text });
  await tid(page, 'send-button').waitFor();
  return page.locator(sel).last();
}

const hs = await Harness.start();
try {
  const page = await hs.page({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  await openPage(page);
  await ask(page, 'add call mum tomorrow at 5pm, high priority', 'widget');
  await ask(page, 'add buy milk tomorrow #groceries', 'widget');
  const card = await ask(page, 'add renew passport next month', 'widget');
  await card.locator('[data-testid="widget-button-Complete"]').click();
  await card.locator('[data-testid="widget-button-Reopen"]').waitFor();
  await ask(page, "what's on my list?", 'widget');
  await page.waitForTimeout(300);
  await page.screenshot({ path: out });
  hs.assertStayedHome();
  console.log(`screenshot: ${path.relative(process.cwd(), out)}`);
} finally {
  await hs.stop();
}
