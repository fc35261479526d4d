// Assistant Markdown: GFM through `marked`, code highlighted, maths marked up for lazy KaTeX,
// everything sanitized with DOMPurify before it touches the DOM. User text never comes here.
//
// Streaming: StreamingMarkdown renders at most once per animation frame, and only the tail of
// the message that can still change. Text before the last "safe" block boundary (a blank line
// outside code fences and maths, not followed by a list item or an indented continuation) is
// rendered once and frozen, so the cost of a frame is proportional to the last block, not to
// the whole answer.

import DOMPurify from 'dompurify';
import { Marked } from 'marked';
import { highlight } from './highlight.js';

const escapeHtml = (s) =>
  String(s).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

// $…$ inline maths must not look like money: no space inside the delimiters and no digit
// right after the closing one.
const mathExtensions = [
  {
    name: 'mathBlock',
    level: 'block',
    start: (src) => src.match(/^ {0,3}(\$\$|\\\[)/m)?.index,
    tokenizer(src) {
      const m = /^ {0,3}(?:\$\$([\s\S]+?)\$\$|\\\[([\s\S]+?)\\\])[ \t]*(?:\n|$)/.exec(src);
      if (m) return { type: 'mathBlock', raw: m[0], tex: (m[1] ?? m[2]).trim() };
      return undefined;
    },
    renderer: (tok) =>
      `<div class="ck-math" data-display="1" data-tex="${escapeHtml(tok.tex)}">${escapeHtml(tok.tex)}</div>`,
  },
  {
    name: 'mathInline',
    level: 'inline',
    start: (src) => src.match(/\$|\\\(/)?.index,
    tokenizer(src) {
      let m = /^\$\$([^$]+?)\$\$/.exec(src) || /^\\\(([\s\S]+?)\\\)/.exec(src);
      if (!m) m = /^\$(?!\s)([^$\n]+?)(?<!\s)\$(?!\d)/.exec(src);
      if (m) return { type: 'mathInline', raw: m[0], tex: m[1].trim() };
      return undefined;
    },
    renderer: (tok) =>
      `<span class="ck-math" data-tex="${escapeHtml(tok.tex)}">${escapeHtml(tok.tex)}</span>`,
  },
];

const marked = new Marked({
  gfm: true,
  breaks: false,
  extensions: mathExtensions,
  renderer: {
    code({ text, lang }) {
      const language = String(lang || '').split(/\s/)[0];
      const body = highlight(text, language) ?? escapeHtml(text);
      return `<pre class="ck-code" data-lang="${escapeHtml(language)}"><code class="hljs">${body}</code></pre>\n`;
    },
    table(token) {
      // Wrap tables so wide ones scroll sideways instead of widening the message.
      const html = this.constructor.prototype.table.call(this, token);
      return `<div class="ck-table-wrap">${html}</div>`;
    },
  },
});

// DOMPurify's default URI rule, plus chatkit-link: (deep links the host page handles).
const ALLOWED_URI = /^(?:(?:https?|mailto|tel|chatkit-link):|[^a-z]|[a-z+.\-]+(?:[^a-z+.\-:]|$))/i;

const PURIFY_CONFIG = {
  ALLOWED_URI_REGEXP: ALLOWED_URI,
  ADD_ATTR: ['data-tex', 'data-display', 'data-lang', 'target'],
  FORBID_ATTR: ['style'],
  FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select'],
  RETURN_DOM_FRAGMENT: true,
};

/**
 * Renders Markdown into a sanitized DocumentFragment and post-processes it: links open in a new
 * tab without opener, images from origins that are not allowed become text (no third-party
 * requests), code blocks get a copy button, maths is queued for KaTeX.
 * @param {string} text
 * @param {{allowImage: (url: URL) => boolean, t: Function}} ctx
 */
export function renderMarkdown(text, ctx, citations) {
  let source = String(text || '');
  if (citations && citations.length) source = insertCitationMarks(source, citations);
  const frag = DOMPurify.sanitize(marked.parse(source), PURIFY_CONFIG);
  decorate(frag, ctx);
  if (citations && citations.length) placeCitations(frag, citations);
  return frag;
}

// Inline citations: annotations with an `index` (a character offset into the text) get a
// numbered marker there. The offsets refer to the raw text, so a private-use sentinel is put in
// before parsing and turned into the marker after sanitizing.
const MARK_OPEN = '\uE000';
const MARK_CLOSE = '\uE001';

/** citations: [{index, number}] sorted by index. */
function insertCitationMarks(text, citations) {
  let out = '';
  let last = 0;
  for (const c of citations) {
    let at = Math.max(last, Math.min(text.length, c.index));
    // Never split a word or a URL: move to the end of the run of non-space characters.
    while (at > 0 && at < text.length && /\S/.test(text[at - 1]) && /\S/.test(text[at])) at++;
    out += text.slice(last, at) + MARK_OPEN + c.number + MARK_CLOSE;
    last = at;
  }
  return out + text.slice(last);
}

function placeCitations(root, citations) {
  const byNumber = new Map(citations.map((c) => [String(c.number), c]));
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const hits = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) if (n.data.includes(MARK_OPEN)) hits.push(n);
  const re = new RegExp(`${MARK_OPEN}(\\d+)${MARK_CLOSE}`, 'g');
  for (const node of hits) {
    const parts = node.data.split(re);
    const frag = document.createDocumentFragment();
    parts.forEach((part, i) => {
      if (i % 2 === 0) {
        if (part) frag.append(part);
        return;
      }
      const c = byNumber.get(part);
      const sup = document.createElement('sup');
      sup.className = 'ck-cite';
      const label = `[${part}]`;
      if (c && c.url) {
        const a = document.createElement('a');
        a.href = c.url;
        a.target = '_blank';
        a.rel = 'noopener noreferrer';
        a.textContent = label;
        if (c.title) a.title = c.title;
        sup.append(a);
      } else {
        sup.textContent = label;
        if (c && c.title) sup.title = c.title;
      }
      frag.append(sup);
    });
    node.replaceWith(frag);
  }
}

function decorate(root, ctx) {
  for (const a of root.querySelectorAll('a[href]')) {
    a.dir = 'auto';
    if (/^chatkit-link:/i.test(a.getAttribute('href'))) {
      a.classList.add('ck-deeplink'); // handled by the element (chatkit.deeplink)
      continue;
    }
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
  }
  for (const img of root.querySelectorAll('img')) {
    let url = null;
    try {
      url = new URL(img.getAttribute('src') || '', location.href);
    } catch {
      url = null;
    }
    if (!url || !ctx.allowImage(url)) {
      const span = document.createElement('span');
      span.className = 'ck-img-blocked';
      span.textContent = ctx.t('imageBlocked', { alt: img.getAttribute('alt') || url?.href || '' });
      img.replaceWith(span);
    } else {
      img.loading = 'lazy';
    }
  }
  for (const pre of root.querySelectorAll('pre.ck-code')) {
    const bar = document.createElement('div');
    bar.className = 'ck-code-bar';
    const lang = document.createElement('span');
    lang.textContent = pre.dataset.lang || '';
    const btn = document.createElement('button');
    btn.type = 'button';
    btn.className = 'ck-copy-code';
    btn.dataset.testid = 'copy-code';
    btn.textContent = ctx.t('copyCode');
    bar.append(lang, btn);
    const wrap = document.createElement('div');
    wrap.className = 'ck-code-block';
    pre.replaceWith(wrap);
    wrap.append(bar, pre);
  }
  if (root.querySelector('.ck-math')) queueMath(root);
}

// Maths: KaTeX is a separate chunk, loaded the first time a formula appears. Rendered MathML is
// cached by source so re-rendering a streaming tail does not re-run KaTeX for old formulas.
let mathModule = null;
const mathCache = new Map();

function queueMath(root) {
  const nodes = [...root.querySelectorAll('.ck-math')];
  if (!mathModule) mathModule = import('./math.js');
  mathModule.then(
    (mod) => {
      for (const node of nodes) {
        const tex = node.dataset.tex || '';
        const display = node.dataset.display === '1';
        const key = (display ? 'D' : 'I') + tex;
        let html = mathCache.get(key);
        if (html === undefined) {
          html = DOMPurify.sanitize(mod.texToMathml(tex, display), {
            USE_PROFILES: { mathMl: true, html: true },
          });
          mathCache.set(key, html);
        }
        node.innerHTML = html;
        node.classList.add('ck-math-done');
      }
    },
    () => {
      /* the chunk failed to load: the TeX source stays visible */
    },
  );
}

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const REF_DEFINITION = /^ {0,3}\[[^\]\n]+\]:\s*\S/m;
const LIST_ITEM = /^ {0,3}(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)/;

/**
 * The newest offset in `text`, at or after `from` (itself a boundary), before which the Markdown
 * can no longer change as text is appended: the start of a line that begins a new top-level
 * block after a blank line, outside code fences and display maths. Inside a list, items and
 * indented lines may still join the list (a loose list), so they are not boundaries; nor are
 * lines indented by four or more (they may join an indented code block). Only complete lines
 * count: the last one may still grow into a list marker or a fence.
 */
export function stableBoundary(text, from) {
  let boundary = from;
  let pos = from;
  let inFence = null; // the opening fence while inside a code block
  let inMath = false;
  let inList = false; // the current top-level block is a list
  let prevBlank = false;
  for (;;) {
    const nl = text.indexOf('\n', pos);
    if (nl < 0) break;
    const line = text.slice(pos, nl);
    const blank = line.trim() === '';
    if (!inFence && !inMath && !blank) {
      const item = LIST_ITEM.test(line);
      const indent = /^[ \t]*/.exec(line)[0].replace(/\t/g, '    ').length;
      const startsBlock = prevBlank && (item ? !inList : indent < 4 && !(inList && indent > 0));
      if (startsBlock) boundary = pos;
      if (item) inList = true;
      else if (startsBlock) inList = false;
    }
    const fence = FENCE.exec(line);
    if (inFence) {
      if (fence && fence[1][0] === inFence[0] && fence[1].length >= inFence.length &&
          line.trim() === fence[1]) inFence = null;
    } else if (inMath) {
      if (/(\$\$|\\\])\s*$/.test(line)) inMath = false;
    } else if (fence) {
      inFence = fence[1];
    } else if (/^ {0,3}(\$\$|\\\[)/.test(line) && !/^ {0,3}(\$\$.*\$\$|\\\[.*\\\])\s*$/.test(line)) {
      inMath = true;
    }
    prevBlank = blank && !inFence && !inMath;
    pos = nl + 1;
  }
  return boundary;
}

/** Incremental renderer for one streaming Markdown part. */
export class StreamingMarkdown {
  /**
   * @param {HTMLElement} container the element the Markdown renders into (owned by the caller)
   * @param {object} ctx as for renderMarkdown
   */
  constructor(container, ctx) {
    this.container = container;
    this.ctx = ctx;
    this.text = '';
    this.frozenEnd = 0; // text[0, frozenEnd) is rendered into this.frozen and never re-rendered
    this.frozen = document.createElement('div');
    this.frozen.className = 'ck-md-frozen';
    this.tail = document.createElement('div');
    this.tail.className = 'ck-md-tail';
    this.container.replaceChildren(this.frozen, this.tail);
    this.frame = 0;
    this.renderedText = null;
  }

  /** Sets the full text so far; the DOM follows on the next animation frame. */
  set(text) {
    this.text = text;
    if (!this.frame) this.frame = requestAnimationFrame(() => this.flush());
  }

  /**
   * Renders the final text. When it continues what was streamed, only the unfinished tail is
   * rendered again (the frozen blocks already show the same Markdown), which keeps the end of a
   * long answer as cheap as any frame. A whole render happens for text never streamed here, for
   * citations (their markers go anywhere), and for reference-style link definitions (they can
   * change earlier blocks).
   */
  finish(text, citations) {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    const continues = this.renderedText !== null && this.frozenEnd > 0 &&
      text.startsWith(this.renderedText.slice(0, this.frozenEnd));
    if (continues && !(citations && citations.length) && !REF_DEFINITION.test(text)) {
      this.text = text;
      this.flush();
      this.finished = true;
      return;
    }
    this.text = text;
    this.frozenEnd = 0;
    this.frozen.replaceChildren(renderMarkdown(text, this.ctx, citations));
    this.tail.replaceChildren();
    this.renderedText = text;
    this.finished = true;
  }

  flush() {
    this.frame = 0;
    if (this.renderedText === this.text) return;
    if (this.renderedText !== null && !this.text.startsWith(this.renderedText.slice(0, this.frozenEnd))) {
      // Not an append (a replaced part): start over.
      this.frozenEnd = 0;
      this.frozen.replaceChildren();
    }
    const boundary = this.scanBoundary();
    if (boundary > this.frozenEnd) {
      this.frozen.append(renderMarkdown(this.text.slice(this.frozenEnd, boundary), this.ctx));
      this.frozenEnd = boundary;
    }
    this.tail.replaceChildren(renderMarkdown(this.text.slice(this.frozenEnd), this.ctx));
    this.renderedText = this.text;
  }
  scanBoundary() {
    return stableBoundary(this.text, this.frozenEnd);
  }
}
