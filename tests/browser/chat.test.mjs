// What a person does with the chat page, in chromium against the real binary (the seed's testing
// checklist and the list): type and send, the agent answers, the session line on the
// console and in the server log; a task card acting in place and the board following; a board
// edit the assistant then lists; reload keeps the thread; stop mid-stream; retry; feedback; an
// image upload; a widget form submit. Every page is under the origin guard (helpers.mjs).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Harness, artifact, axeAudit, consoleProblems, openPage, tid, waitUntil } from './helpers.mjs';
import { END_WORD, MARKER, StreamProxy, answerTokens } from './stream_proxy.mjs';

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

const items = (page, type) => page.locator(`[data-item-type="${type}"]`);

// Types text into the composer and sends it with the send button.
async function send(page, text) {
  const input = tid(page, 'composer-input');
  await input.fill(text);
  await tid(page, 'send-button').click();
}

// Sends text and waits for the answer to finish: a new item of answerType, and the composer's
// send button back (the stop button shows while a response streams).
async function ask(page, text, answerType = 'assistant_message') {
  const before = await items(page, answerType).count();
  await send(page, text);
  await waitUntil(async () => (await items(page, answerType).count()) > before, { timeout: 15000, what: `an answer to "${text}"` });
  await tid(page, 'send-button').waitFor();
  return items(page, answerType).last();
}

const boardRow = (page, title) => tid(page, 'board-row').filter({ has: page.locator(`[data-testid="board-row-title"]:text-is("${title}")`) });

test('seed checklist: load, type, send, the agent answers; the session in the console and the server log', async () => {
  const page = await hs.page();
  await openPage(page);
  const answer = await ask(page, 'hello');
  assert.match(await answer.innerText(), /\w/);
  const user = items(page, 'user_message').last();
  assert.match(await user.innerText(), /hello/);
  const line = page.consoleLines.find((l) => /^Got ChatKit session: cksess_\w+$/.test(l.text));
  assert.ok(line, `console lines: ${JSON.stringify(page.consoleLines)}`);
  const id = line.text.slice('Got ChatKit session: '.length);
  await waitUntil(() => hs.srv.stderrText().includes(`Created ChatKit session ${id}`), { what: 'the server log line' });
  assert.deepEqual(consoleProblems(page), []);
});

test('"add buy milk tomorrow": the card appears, Complete updates it in place, the board shows it done', async () => {
  const page = await hs.page();
  await openPage(page);
  const card = await ask(page, 'add buy milk tomorrow', 'widget');
  assert.match(await card.innerText(), /buy milk/i);
  const itemId = await card.getAttribute('data-item-id');
  await boardRow(page, 'buy milk').waitFor();
  await card.locator('[data-testid="widget-button-Complete"]').click();
  // The same item now offers Reopen: updated in place, not appended.
  const same = page.locator(`[data-item-id="${itemId}"]`);
  await same.locator('[data-testid="widget-button-Reopen"]').waitFor();
  assert.equal(await page.locator(`[data-item-id="${itemId}"]`).count(), 1);
  await tid(page, 'board-filter-all').check();
  await waitUntil(async () => (await boardRow(page, 'buy milk').getAttribute('data-status')) === 'done',
    { timeout: 10000, what: 'the board row to be done' });
  assert.equal(await boardRow(page, 'buy milk').locator('[data-testid="board-row-toggle"]').isChecked(), true);
});

test('a board edit shows in the assistant\'s list', async () => {
  const page = await hs.page();
  await openPage(page);
  await tid(page, 'board-add-title').fill('water the plants');
  await tid(page, 'board-add-submit').click();
  const row = boardRow(page, 'water the plants');
  await row.waitFor();
  await row.locator('[data-testid="board-row-edit"]').click();
  await tid(page, 'board-edit-title').fill('water the ferns');
  await tid(page, 'board-edit-save').click();
  await boardRow(page, 'water the ferns').waitFor();
  const list = await ask(page, "what's on my list", 'widget');
  assert.match(await list.innerText(), /water the ferns/);
  assert.doesNotMatch(await list.innerText(), /water the plants/);
});

test('reload keeps the thread', async () => {
  const page = await hs.page();
  await openPage(page);
  await ask(page, 'add call the dentist friday', 'widget');
  const before = await items(page, 'user_message').allInnerTexts();
  await page.reload();
  await openPage(page, page.url());
  await waitUntil(async () => (await items(page, 'user_message').count()) === before.length, { what: 'the thread after reload' });
  assert.deepEqual(await items(page, 'user_message').allInnerTexts(), before);
  assert.ok(await items(page, 'widget').count() >= 1);
});

test('retry answers again; feedback reaches the server', async () => {
  const page = await hs.page();
  await openPage(page);
  const answer = await ask(page, 'hello');
  const firstId = await answer.getAttribute('data-item-id');
  const fb = page.waitForResponse((r) => r.request().method() === 'POST' && /"items\.feedback"/.test(r.request().postData() || ''));
  await answer.hover();
  await answer.locator('[data-testid="feedback-positive"]').click();
  const fbRes = await fb;
  assert.equal(fbRes.status(), 200);
  assert.deepEqual(JSON.parse(fbRes.request().postData()).params.item_ids, [firstId]);
  await waitUntil(async () => (await answer.locator('[data-testid="feedback-positive"]').getAttribute('aria-pressed')) === 'true', { what: 'feedback pressed' });
  const retried = page.waitForResponse((r) => /"threads\.retry_after_item"/.test(r.request().postData() || ''));
  await answer.locator('[data-testid="retry-button"]').click();
  assert.equal((await retried).status(), 200);
  await waitUntil(async () => {
    const last = items(page, 'assistant_message').last();
    return (await last.getAttribute('data-item-id')) !== firstId && /\w/.test(await last.innerText());
  }, { timeout: 10000, what: 'a new answer after retry' });
  assert.equal(await page.locator(`[data-item-id="${firstId}"]`).count(), 0, 'the retried answer is replaced');
  assert.equal(await items(page, 'user_message').count(), 1);
});

test('upload an image: it is attached, sent, and shown from the server', async () => {
  const page = await hs.page();
  await openPage(page);
  // A 2x2 PNG, made here.
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMAAAA0fAQGTrWJ5AAAAAElFTkSuQmCC', 'base64');
  const chooser = page.waitForEvent('filechooser');
  await tid(page, 'attach-button').click();
  await (await chooser).setFiles({ name: 'dot.png', mimeType: 'image/png', buffer: png });
  await tid(page, 'attachment').waitFor();
  await waitUntil(async () => !(await tid(page, 'send-button').isDisabled()), { what: 'the upload to finish' });
  await ask(page, 'here is a picture');
  const img = items(page, 'user_message').last().locator('img');
  await img.waitFor();
  const src = await img.getAttribute('src');
  assert.match(new URL(src, hs.origin).pathname, /^\/files\//);
  await waitUntil(() => img.evaluate((el) => el.complete && el.naturalWidth === 2), { what: 'the image to load' });
});

test('a widget form submit: Edit on a card, change the title, Save', async () => {
  const page = await hs.page();
  await openPage(page);
  const card = await ask(page, 'add renew passport next month', 'widget');
  const itemId = await card.getAttribute('data-item-id');
  await card.locator('[data-testid="widget-button-Edit"]').click();
  const form = page.locator(`[data-item-id="${itemId}"] form`);
  await form.waitFor();
  const title = form.locator('[name="title"]');
  await title.fill('renew passport and ID');
  await form.locator('[data-testid="widget-button-Save"]').click();
  await waitUntil(async () => /renew passport and ID/.test(await page.locator(`[data-item-id="${itemId}"]`).innerText()) &&
    (await page.locator(`[data-item-id="${itemId}"] form`).count()) === 0, { timeout: 10000, what: 'the saved card' });
  await boardRow(page, 'renew passport and ID').waitFor();
  await page.screenshot({ path: artifact('conversation.png') });
});

test('axe-core on a conversation (answer, task card, task list, board rows), light and dark', async () => {
  for (const colorScheme of ['light', 'dark']) {
    const page = await hs.page({ colorScheme });
    await openPage(page);
    await ask(page, 'add pay the rent friday, high priority', 'widget');
    await ask(page, 'add book a table #family', 'widget');
    await ask(page, "what's on my list?", 'widget');
    await ask(page, 'thanks');
    assert.deepEqual(await axeAudit(page), [], `${colorScheme} mode`);
  }
});

test('stop mid-stream: the stream is cut, the partial answer stays, the composer works again', async () => {
  const proxy = await new StreamProxy(hs.srv.port, { tokens: answerTokens(3000), batch: 1, intervalMs: 10 }).listen();
  try {
    const page = await hs.page({ home: proxy.url });
    await openPage(page, `${proxy.url}/`);
    await send(page, `${MARKER} tell me everything`);
    const answer = items(page, 'assistant_message').last();
    await waitUntil(async () => (await answer.innerText()).length > 200, { timeout: 10000, what: 'some streamed text' });
    await tid(page, 'stop-button').click();
    await tid(page, 'send-button').waitFor();
    await waitUntil(() => proxy.streams[0].closedEarly, { what: 'the proxy to see the stream closed' });
    const sent = proxy.streams[0].sent;
    assert.ok(sent < 3000, `stopped after ${sent} of 3000 tokens`);
    const text = await answer.innerText();
    assert.ok(text.length > 200 && !text.includes(END_WORD), 'the partial answer stays, unfinished');
    // The stopped thread lives in the proxy only, so the composer is tried on a new chat.
    await tid(page, 'new-chat-button').click();
    await ask(page, 'hello');
  } finally {
    await proxy.close();
  }
});
