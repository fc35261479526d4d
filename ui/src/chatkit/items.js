// Thread item views. Each renderer builds the DOM for one item kind and answers an object the
// element keeps per item: {el, update(item)}; assistant messages also stream through
// StreamingMarkdown. User text is always set with textContent: it is never Markdown.

import { icon } from './icons.js';
import { StreamingMarkdown } from './markdown.js';
import { renderWidget } from './widgets.js';
import { h } from './dom.js';

/** An icon button with an accessible name and a test id. */
export function iconButton(name, label, testid, className = 'ck-icon-btn') {
  const b = h('button', className);
  b.type = 'button';
  b.setAttribute('aria-label', label);
  b.title = label;
  if (testid) b.dataset.testid = testid;
  b.append(icon(name));
  return b;
}

function shell(item, kind) {
  const li = h('li', `ck-item ck-${kind}`);
  li.dataset.itemId = item.id;
  li.dataset.itemType = item.type;
  li.dataset.testid = `item-${item.id}`;
  return li;
}

/** The row of per-item actions (copy, feedback, retry) under assistant output. */
function actionRow(view, item, copyText) {
  const row = h('div', 'ck-item-actions');
  row.part = 'item-actions';
  const { t } = view;
  if (copyText) {
    const copy = iconButton('copy', t('copy'), 'copy-button');
    copy.addEventListener('click', () => view.copyText(copyText(), copy));
    row.append(copy);
  }
  const opts = view.options.threadItemActions || {};
  if (opts.feedback) {
    for (const [kind, name, label] of [['positive', 'thumb-up', 'goodResponse'], ['negative', 'thumb-down', 'badResponse']]) {
      const b = iconButton(name, t(label), `feedback-${kind}`);
      b.setAttribute('aria-pressed', 'false');
      b.addEventListener('click', () => view.sendFeedback(item.id, kind, b));
      row.append(b);
    }
  }
  if (opts.retry) {
    const b = iconButton('reload', t('retry'), 'retry-button');
    b.addEventListener('click', () => view.retryItem(item.id));
    row.append(b);
  }
  return row;
}

function renderUser(view, item) {
  const li = shell(item, 'user');
  li.part = 'user-message';
  const bubble = h('div', 'ck-bubble');
  bubble.append(h('span', 'ck-sr-only', `${view.t('you')}: `));
  if (item.quoted_text) {
    const q = h('blockquote', 'ck-quote', item.quoted_text);
    q.dir = 'auto';
    bubble.append(q);
  }
  const text = h('p', 'ck-user-text');
  text.dir = 'auto';
  for (const part of item.content || []) {
    if (part.type === 'input_text') text.append(document.createTextNode(part.text || ''));
    else if (part.type === 'input_tag') {
      const tag = h('span', 'ck-tag', `@${part.text || part.id}`);
      tag.dataset.entityId = part.id;
      view.entityOf.set(tag, { id: part.id, title: part.text, group: part.group, data: part.data || {}, interactive: !!part.interactive });
      if (view.options.entities?.onRequestPreview || (part.interactive && view.options.entities?.onClick)) tag.tabIndex = 0;
      text.append(tag);
    }
  }
  bubble.append(text);
  const atts = item.attachments || [];
  if (atts.length) bubble.append(view.attachmentList(atts, false));
  li.append(bubble);
  const row = h('div', 'ck-item-actions');
  const copy = iconButton('copy', view.t('copy'), 'copy-button');
  copy.addEventListener('click', () => view.copyText(userText(item), copy));
  row.append(copy);
  li.append(row);
  return { el: li, update: null };
}

export function userText(item) {
  return (item.content || []).map((p) => (p.type === 'input_tag' ? `@${p.text}` : p.text || '')).join('');
}

export function assistantText(item) {
  return (item.content || []).map((p) => p.text || '').join('\n\n');
}

function renderAssistant(view, item, streaming) {
  const li = shell(item, 'assistant');
  li.part = 'assistant-message';
  const body = h('div', 'ck-assistant-body');
  li.append(h('span', 'ck-sr-only', `${view.t('assistant')}:`), body);
  const parts = []; // per content index: {el, md, sources}
  const sourcesEl = h('div', 'ck-sources');
  const actions = actionRow(view, item, () => assistantText(view.items.get(item.id) || item));
  li.append(sourcesEl, actions);
  const ensure = (i) => {
    while (parts.length <= i) {
      const el = h('div', 'ck-md');
      el.dir = 'auto';
      body.append(el);
      parts.push({ el, md: new StreamingMarkdown(el, view.mdCtx) });
    }
    return parts[i];
  };
  // Sources are numbered in order of first appearance; inline markers use the same numbers.
  const numberSources = (it) => {
    const numbers = new Map();
    const list = [];
    for (const c of it.content || []) {
      for (const a of c.annotations || []) {
        const src = a.source || {};
        const key = `${src.type}:${src.url || src.filename || src.id}`;
        if (!numbers.has(key)) {
          numbers.set(key, list.length + 1);
          list.push(src);
        }
      }
    }
    return { numbers, list };
  };
  const citationsFor = (c, numbers) => (c.annotations || [])
    .filter((a) => typeof a.index === 'number')
    .map((a) => {
      const src = a.source || {};
      return {
        index: a.index,
        number: numbers.get(`${src.type}:${src.url || src.filename || src.id}`),
        url: src.type === 'url' && /^https?:/i.test(src.url || '') ? src.url : '',
        title: src.title || '',
      };
    })
    .sort((x, y) => x.index - y.index);
  const renderSources = (list) => {
    sourcesEl.replaceChildren();
    if (!list.length) return;
    sourcesEl.append(h('span', 'ck-sources-label', view.t('sources')));
    list.forEach((src, i) => {
      const text = `${i + 1}. ${src.title || src.filename || src.label || src.id || ''}`;
      let chip;
      if (src.type === 'url' && /^https?:/i.test(src.url || '')) {
        chip = h('a', 'ck-source', text);
        chip.href = src.url;
        chip.target = '_blank';
        chip.rel = 'noopener noreferrer';
      } else if (src.type === 'entity' && src.interactive && view.options.entities?.onClick) {
        chip = h('button', 'ck-source', `${i + 1}. ${src.inline_label || src.label || src.title}`);
        chip.type = 'button';
        chip.addEventListener('click', () => view.options.entities.onClick({ id: src.id, title: src.title, data: src.data, group: src.group }));
        view.entityOf.set(chip, { id: src.id, title: src.title, icon: src.icon, group: src.group, data: src.data || {}, interactive: true });
      } else {
        chip = h('span', 'ck-source', text);
      }
      if (src.description) chip.title = src.description;
      chip.dir = 'auto';
      sourcesEl.append(chip);
    });
  };
  let sourceCount = -1;
  const update = (it, done) => {
    const { numbers, list } = numberSources(it);
    (it.content || []).forEach((c, i) => {
      const p = ensure(i);
      if (done) p.md.finish(c.text || '', citationsFor(c, numbers));
      else p.md.set(c.text || '');
    });
    if (done || list.length !== sourceCount) {
      renderSources(list);
      sourceCount = list.length;
    }
    li.classList.toggle('ck-streaming', !done);
    actions.hidden = !done;
  };
  update(item, !streaming);
  return { el: li, update };
}

function renderWidgetItem(view, item) {
  const li = shell(item, 'widget');
  li.part = 'widget';
  const holder = h('div', 'ck-widget-holder');
  li.append(holder);
  let actions = null;
  const update = (it) => {
    holder.replaceChildren(renderWidget(it.widget, view.widgetCtx(it.id)));
    if (actions) actions.remove();
    actions = it.copy_text ? actionRow(view, it, () => (view.items.get(it.id) || it).copy_text) : null;
    if (actions) li.append(actions);
  };
  update(item);
  return { el: li, update };
}

function taskView(view, task) {
  const el = h('div', `ck-task ck-task-${task.type}`);
  el.dataset.status = task.status_indicator || 'none';
  const head = h('div', 'ck-task-head');
  const ind = task.status_indicator === 'loading' ? h('span', 'ck-spinner')
    : icon(task.status_indicator === 'complete' ? 'check-circle' : task.icon || (task.type === 'web_search' ? 'search' : task.type === 'thought' ? 'lightbulb' : task.type === 'file' ? 'document' : task.type === 'image' ? 'images' : 'dot'));
  if (task.status_indicator === 'loading') ind.setAttribute('aria-label', 'loading');
  head.append(ind);
  const title = task.title || (task.type === 'web_search' ? task.title_query : '') || '';
  if (title) head.append(h('span', 'ck-task-title', title));
  el.append(head);
  if (task.type === 'thought' && task.content) {
    const c = h('div', 'ck-md ck-task-content');
    c.append(view.renderMarkdown(task.content));
    el.append(c);
  } else if (task.type === 'custom' && task.content) {
    const c = h('div', 'ck-md ck-task-content');
    c.append(view.renderMarkdown(task.content));
    el.append(c);
  }
  if (task.type === 'web_search' && task.queries?.length) {
    const q = h('ul', 'ck-task-queries');
    for (const query of task.queries) q.append(h('li', '', query));
    el.append(q);
  }
  const sources = task.sources || [];
  if (sources.length) {
    const ul = h('ul', 'ck-task-sources');
    for (const src of sources) {
      const li = h('li');
      if (src.type === 'url' && /^https?:/i.test(src.url || '')) {
        const a = h('a', '', src.title || src.url);
        a.href = src.url;
        a.target = '_blank';
        a.rel = 'noopener noreferrer';
        li.append(a);
      } else li.textContent = src.title || src.filename || '';
      ul.append(li);
    }
    el.append(ul);
  }
  el.dir = 'auto';
  return el;
}

function renderWorkflow(view, item) {
  const li = shell(item, 'workflow');
  li.part = 'workflow';
  const details = h('details', 'ck-workflow');
  const summary = h('summary', 'ck-workflow-summary');
  const list = h('div', 'ck-workflow-tasks');
  details.append(summary, list);
  li.append(details);
  let touched = false; // the user toggled it: stop following `expanded`
  summary.addEventListener('click', () => { touched = true; });
  const update = (it) => {
    const wf = it.workflow || {};
    const s = wf.summary;
    const loading = (wf.tasks || []).some((t) => t.status_indicator === 'loading');
    summary.replaceChildren();
    if (loading) summary.append(h('span', 'ck-spinner'));
    else if (s && s.icon) summary.append(icon(s.icon));
    let text = view.t('steps');
    if (s && typeof s.title === 'string') text = s.title;
    else if (s && typeof s.duration === 'number') text = view.t('thoughtFor', { seconds: s.duration });
    else if (wf.tasks?.length) {
      const last = wf.tasks[wf.tasks.length - 1];
      text = last.title || text;
    }
    summary.append(h('span', '', text));
    summary.dir = 'auto';
    list.replaceChildren(...(wf.tasks || []).map((t) => taskView(view, t)));
    if (!touched) details.open = !!wf.expanded || loading;
  };
  update(item);
  return { el: li, update };
}

/** A stand-alone task: collapsible (closed by default) when it has more than its title line. */
function renderTask(view, item) {
  const li = shell(item, 'task-item');
  let open = false;
  const update = (it) => {
    const body = taskView(view, it.task || {});
    const head = body.querySelector('.ck-task-head');
    if (body.children.length < 2) {
      li.replaceChildren(body);
      return;
    }
    const details = h('details', 'ck-task-details');
    details.open = open;
    details.addEventListener('toggle', () => { open = details.open; });
    const summary = h('summary', 'ck-workflow-summary');
    summary.append(...head.childNodes);
    head.remove();
    details.append(summary, body);
    li.replaceChildren(details);
  };
  update(item);
  return { el: li, update };
}

function renderToolCall(view, item) {
  const li = shell(item, 'tool-call');
  const update = (it) => {
    const line = h('div', 'ck-tool-line');
    if (it.status === 'pending') line.append(h('span', 'ck-spinner'), h('span', '', view.t('toolRunning', { name: it.name })));
    else line.append(icon('check'), h('span', '', view.t('toolDone', { name: it.name })));
    li.replaceChildren(line);
  };
  update(item);
  return { el: li, update };
}

function renderImage(view, item) {
  const li = shell(item, 'image');
  const update = (it, _done, progress) => {
    li.replaceChildren();
    const img = it.image;
    if (img && img.url && view.allowImage(img.url)) {
      const el = h('img', 'ck-generated');
      el.src = view.api.imageUrl(img.url);
      el.alt = view.t('generatedImage');
      li.append(el);
    } else if (img && img.url) {
      // data: URLs and other hosts are outside the page's CSP (`default-src 'self'`).
      li.append(h('p', 'ck-img-blocked', view.t('imageBlocked', { alt: view.t('generatedImage') })));
    }
    if (!img || progress !== undefined) {
      const p = h('div', 'ck-progress-line');
      p.append(h('span', 'ck-spinner'), h('span', '', view.t('generatingImage')));
      if (typeof progress === 'number') p.append(h('span', '', ` ${Math.round(progress * 100)}%`));
      li.append(p);
    }
  };
  update(item);
  return { el: li, update };
}

function renderStructured(view, item) {
  const li = shell(item, 'structured');
  li.part = 'structured-input';
  const update = (it) => {
    li.replaceChildren();
    if (it.status !== 'pending') {
      const box = h('div', 'ck-si-done');
      box.append(h('p', 'ck-si-status', view.t(it.status === 'skipped' ? 'skipped' : 'answered')));
      const dl = h('dl');
      for (const q of it.inputs || []) {
        dl.append(h('dt', '', q.question));
        const a = q.answer;
        dl.append(h('dd', '', a && !a.skipped ? a.values.join(', ') : view.t('skipped')));
      }
      box.append(dl);
      li.append(box);
      return;
    }
    li.append(view.structuredForm(it));
  };
  update(item);
  return { el: li, update };
}

const RENDERERS = {
  user_message: renderUser,
  assistant_message: renderAssistant,
  widget: renderWidgetItem,
  workflow: renderWorkflow,
  task: renderTask,
  client_tool_call: renderToolCall,
  generated_image: renderImage,
  structured_input: renderStructured,
};

/** The view for an item, or null for kinds with nothing to show (end_of_turn, hidden ones). */
export function renderItem(view, item, streaming) {
  const fn = RENDERERS[item.type];
  return fn ? fn(view, item, streaming) : null;
}
