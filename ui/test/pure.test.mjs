// Unit tests of the UI's pure logic (no browser): node --test ui/test
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readEventStream } from '../src/chatkit/sse.js';
import { stableBoundary } from '../src/chatkit/markdown.js';
import { formValues, mergePayload } from '../src/chatkit/widgets.js';
import { resolveColor } from '../src/chatkit/colors.js';
import { isRtl, translator } from '../src/chatkit/strings.js';

function streamOf(...chunks) {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const ch of chunks) c.enqueue(enc.encode(ch));
      c.close();
    },
  });
}

test('SSE: events split across chunks, CRLF, comments, multi-line data, no final blank line', async () => {
  const got = [];
  await readEventStream(
    streamOf('data: {"a":', '1}\n\n: keep-alive\n\nda', 'ta: x\r\ndata: y\r\n\r\nevent: e\nid: 3\ndata: last'),
    (d) => got.push(d),
  );
  assert.deepEqual(got, ['{"a":1}', 'x\ny', 'last']);
});

test('SSE: multi-byte characters split between chunks stay whole', async () => {
  const bytes = new TextEncoder().encode('data: héllo ✓\n\n');
  const got = [];
  const body = new ReadableStream({
    start(c) {
      for (const b of bytes) c.enqueue(new Uint8Array([b]));
      c.close();
    },
  });
  await readEventStream(body, (d) => got.push(d));
  assert.deepEqual(got, ['héllo ✓']);
});

test('streaming Markdown: the boundary follows finished paragraphs only', () => {
  const text = 'First para\n\nSecond para\n\nThird';
  assert.equal(stableBoundary(text, 0), text.indexOf('Second'));
  assert.equal(stableBoundary('only one line', 0), 0);
  assert.equal(stableBoundary('para\n\nnext\n', 0), 6);
});

test('streaming Markdown: never inside a code fence or display maths', () => {
  const fence = 'Intro\n\n```js\nconst a = 1;\n\nconst b = 2;\n';
  assert.equal(stableBoundary(fence, 0), fence.indexOf('```'));
  const closed = `${fence}\`\`\`\n\nAfter\n`;
  assert.equal(stableBoundary(closed, 0), closed.indexOf('After'));
  const math = 'x\n\n$$\na\n\nb\n';
  assert.equal(stableBoundary(math, 0), math.indexOf('$$'));
});

test('streaming Markdown: list items and indented lines continue the block before', () => {
  const list = '1. one\n\n2. two\n\n   more of two\n';
  assert.equal(stableBoundary(list, 0), 0);
  const after = `${list}\nParagraph\n`;
  assert.equal(stableBoundary(after, 0), after.indexOf('Paragraph'));
});

test('streaming Markdown: a paragraph starting with a space is a new block, except inside a list', () => {
  const para = 'A\n\n B\n';
  assert.equal(stableBoundary(para, 0), para.indexOf(' B'));
  const list = '- a\n\n b\n\n- c\n';
  assert.equal(stableBoundary(list, 0), 0);
  const after = `${list}\nNext\n`;
  assert.equal(stableBoundary(after, 0), after.indexOf('Next'));
  const newList = 'Para\n\n- item\n';
  assert.equal(stableBoundary(newList, 0), newList.indexOf('- item'));
  const code = 'Para\n\n    code1\n\n    code2\n';
  assert.equal(stableBoundary(code, 0), 0);
});

test('streaming Markdown: scanning starts at the frozen offset', () => {
  const text = 'a\n\nb\n\nc\n\nd';
  const first = stableBoundary(text, 0);
  // "d" is an unfinished line (it could still become "- d" or "1. d"), so "c" is the newest.
  assert.equal(first, text.indexOf('c'));
  assert.equal(stableBoundary(text, first), first);
});

test('forms: values nest by dotted name; checkboxes are booleans; radios give the checked value', () => {
  const form = {
    elements: [
      { name: 'todo.title', value: 'Buy', type: 'text', tagName: 'INPUT' },
      { name: 'todo.meta.tag', value: 'x', type: 'text', tagName: 'INPUT' },
      { name: 'urgent', checked: true, type: 'checkbox', tagName: 'INPUT' },
      { name: 'kind', value: 'a', checked: false, type: 'radio', tagName: 'INPUT' },
      { name: 'kind', value: 'b', checked: true, type: 'radio', tagName: 'INPUT' },
      { name: 'off', value: 'no', disabled: true, type: 'text', tagName: 'INPUT' },
      { name: 'go', value: '', type: 'submit', tagName: 'BUTTON' },
    ],
  };
  assert.deepEqual(formValues(form), { todo: { title: 'Buy', meta: { tag: 'x' } }, urgent: true, kind: 'b' });
});

test('forms: payload keys win over field names and each collision is reported', () => {
  const collisions = [];
  const merged = mergePayload({ task_id: 't1', title: 'keep' }, { title: 'field', notes: 'n' }, (k) => collisions.push(k));
  assert.deepEqual(merged, { task_id: 't1', title: 'keep', notes: 'n' });
  assert.deepEqual(collisions, ['title']);
  assert.deepEqual(mergePayload(null, { a: 1 }, () => {}), { a: 1 });
});

test('colours: tokens map to custom properties, pairs pick the scheme, ramps mirror in dark', () => {
  assert.equal(resolveColor('secondary', 'text', false), 'var(--ck-text-secondary)');
  assert.equal(resolveColor('surface-elevated', 'background', true), 'var(--ck-surface-elevated)');
  assert.equal(resolveColor('strong', 'border', false), 'var(--ck-border-strong)');
  assert.equal(resolveColor('green', 'chart', false), 'var(--ck-chart-green)');
  assert.equal(resolveColor({ light: 'danger', dark: 'success' }, 'text', true), 'var(--ck-text-success)');
  const light = resolveColor('gray-100', 'background', false);
  const dark = resolveColor('gray-100', 'background', true);
  assert.match(light, /^hsl\(220 9% 94%\)$/);
  assert.match(dark, /^hsl\(220 9% 10%\)$/);
  assert.match(resolveColor('alpha-70', 'background', false), /70%/);
  assert.equal(resolveColor('url(https://x)', 'background', false), '');
});

test('strings: fallback to English, placeholders, RTL detection', () => {
  const fr = translator('fr-CA');
  assert.equal(fr('send'), 'Envoyer le message');
  assert.equal(fr('imageBlocked', { alt: 'x' }), 'Image d’un autre site (non chargée) : x');
  assert.equal(translator('he')('imageBlocked', { alt: 'x' }), 'Image from another site (not loaded): x');
  assert.equal(translator('zz')('copy'), 'Copy');
  assert.equal(isRtl('ar-EG'), true);
  assert.equal(isRtl('he'), true);
  assert.equal(isRtl('en-US'), false);
});

// Rendering the frozen chunks one by one must give the same HTML as rendering the whole text:
// that is what makes freezing (and the cheap end of a stream) correct.
import { Marked } from 'marked';

function frozenRender(tokens) {
  const md = new Marked({ gfm: true });
  let text = '';
  let frozenEnd = 0;
  let html = '';
  for (const tok of tokens) {
    text += tok;
    const b = stableBoundary(text, frozenEnd);
    if (b > frozenEnd) {
      html += md.parse(text.slice(frozenEnd, b));
      frozenEnd = b;
    }
  }
  return { chunked: html + md.parse(text.slice(frozenEnd)), whole: md.parse(text) };
}

const normalize = (html) => html.replace(/\n+/g, '\n').trim();

test('streaming Markdown: frozen chunks render exactly like the whole text', () => {
  const samples = [
    // words with leading spaces, loose lists, headings (like a model's token stream)
    (() => {
      const out = [];
      const words = ['tasks', 'today', 'plan', 'review', 'the', 'milk'];
      for (let k = 0; k < 600; k++) {
        if (k % 120 === 0) out.push(k ? `\n\n## Part ${k / 120 + 1}\n\n` : '## Part 1\n\n');
        else if (k % 40 === 0) out.push('\n\n- ');
        else if (k % 33 === 0) out.push(' **important**');
        else out.push(` ${words[k % words.length]}`);
      }
      return out;
    })(),
    [...'Intro para\n\n```js\nconst a = 1;\n\nconst b = 2;\n```\n\nAfter code.\n\n1. one\n2. two\n\n   still two\n\n3. three\n\nDone.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n> quote\n\n> more quote\n\nEnd\n'],
    'First\n\nSecond *em*\n\n    code1\n\n    code2\n\nThird\n\n$$\nx^2\n\n$$\n\nLast'.split(/(?<=\s)/),
  ];
  for (const tokens of samples) {
    const { chunked, whole } = frozenRender(tokens);
    assert.equal(normalize(chunked), normalize(whole));
  }
});

test('strings: every complete table has exactly the English keys', async () => {
  const { readFile } = await import('node:fs/promises');
  for (const [file, complete] of [['../src/chatkit/strings.js', ['fr', 'es', 'de', 'ar']], ['../src/app/strings.js', ['fr', 'es', 'de', 'ar']]]) {
    const text = await readFile(new URL(file, import.meta.url), 'utf8');
    const keysOf = (name) => {
      const m = new RegExp(`const ${name} = \\{([\\s\\S]*?)\\n\\};`).exec(text);
      return [...m[1].matchAll(/^ {2}(\w+):/gm)].map((x) => x[1]).sort();
    };
    // The prompts the start screen sends stay English (the built-in agent reads English).
    const en = keysOf('en').filter((k) => !/^prompt\w+Text$/.test(k));
    for (const lang of complete) {
      const keys = keysOf(lang);
      assert.deepEqual(en.filter((k) => !keys.includes(k)), [], `${file} ${lang} lacks keys`);
      assert.deepEqual(keys.filter((k) => !en.includes(k)), [], `${file} ${lang} has unknown keys`);
    }
  }
});
