// The task board: the user's tasks from /api/tasks with filters (status, priority, tag, text),
// inline add / edit / complete / delete, kept current by the /api/events feed (changes made by
// the assistant, by another tab, or here all arrive the same way).

import { readEventStream } from '../chatkit/sse.js';
import { h } from '../chatkit/dom.js';

const PRIORITY_RANK = { high: 0, normal: 1, low: 2 };

/** "tags a, #b c" → ["a", "b", "c"] (the server normalizes further). */
function parseTags(text) {
  return [...new Set(String(text || '').split(/[\s,]+/).map((t) => t.replace(/^#/, '').trim()).filter(Boolean))];
}

function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

export class Board {
  /**
   * @param {HTMLElement} section the board's <section> (its content is replaced)
   * @param {import('./session.js').Sessions} sessions
   * @param {Function} t the app translator
   * @param {{onProblem: (kind: string, err?: Error) => void, onRecovered: (kind: string) => void, locale: string}} hooks
   */
  constructor(section, sessions, t, hooks) {
    this.section = section;
    this.sessions = sessions;
    this.t = t;
    this.hooks = hooks;
    this.tasks = new Map(); // id → task
    this.filter = { status: 'open', priority: '', tag: '', q: '' };
    this.editing = null; // id of the task being edited
    this.feedAbort = null;
    this.retryDelay = 1000;
    this.dateFmt = new Intl.DateTimeFormat(hooks.locale, { month: 'short', day: 'numeric', timeZone: 'UTC' });
    this.build();
  }

  build() {
    const { t } = this;
    const title = h('h2', 'board-title', t('board'));
    title.id = 'board-title';
    this.counts = h('p', 'board-counts');
    this.counts.setAttribute('aria-live', 'polite');
    const head = h('div', 'board-head');
    head.append(title, this.counts);

    // Add form
    const add = h('form', 'board-add');
    add.dataset.testid = 'board-add';
    add.setAttribute('aria-label', t('addTask'));
    this.addTitle = this.field(add, 'input', t('newTitle'), { name: 'title', required: true, maxLength: 500, placeholder: t('newTitlePlaceholder'), testid: 'board-add-title', wide: true });
    this.addDue = this.field(add, 'input', t('due'), { name: 'due_date', type: 'date', testid: 'board-add-due' });
    this.addTime = this.field(add, 'input', t('dueTime'), { name: 'due_time', type: 'time', testid: 'board-add-time' });
    this.addPriority = this.prioritySelect(add, t('priority'), 'board-add-priority');
    this.addTags = this.field(add, 'input', t('tags'), { name: 'tags', placeholder: t('tagsPlaceholder'), testid: 'board-add-tags' });
    const addBtn = h('button', 'app-btn app-btn-primary', t('addTask'));
    addBtn.type = 'submit';
    addBtn.dataset.testid = 'board-add-submit';
    add.append(addBtn);
    add.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.create();
    });

    // Filters
    const filters = h('form', 'board-filters');
    filters.setAttribute('role', 'search');
    filters.setAttribute('aria-label', t('filters'));
    filters.addEventListener('submit', (ev) => ev.preventDefault());
    this.statusTabs = h('div', 'board-tabs');
    this.statusTabs.setAttribute('role', 'radiogroup');
    this.statusTabs.setAttribute('aria-label', t('status'));
    for (const s of ['open', 'done', 'all']) {
      const label = h('label', 'board-tab');
      const r = h('input');
      r.type = 'radio';
      r.name = 'status';
      r.value = s;
      r.checked = s === this.filter.status;
      r.dataset.testid = `board-filter-${s}`;
      r.addEventListener('change', () => {
        this.filter.status = s;
        this.render();
      });
      label.append(r, h('span', '', t(s)));
      this.statusTabs.append(label);
    }
    filters.append(this.statusTabs);
    const fp = this.prioritySelect(filters, t('priority'), 'board-filter-priority', t('anyPriority'));
    fp.addEventListener('change', () => {
      this.filter.priority = fp.value;
      this.render();
    });
    this.tagSelect = this.field(filters, 'select', t('tag'), { testid: 'board-filter-tag' });
    this.tagSelect.addEventListener('change', () => {
      this.filter.tag = this.tagSelect.value;
      this.render();
    });
    const q = this.field(filters, 'input', t('search'), { type: 'search', testid: 'board-filter-q', wide: true });
    q.addEventListener('input', () => {
      this.filter.q = q.value.trim().toLowerCase();
      this.render();
    });

    this.list = h('ul', 'board-list');
    this.list.dataset.testid = 'board-list';
    this.list.setAttribute('aria-labelledby', 'board-title');
    this.empty = h('p', 'board-empty', t('noTasks'));
    this.status = h('p', 'board-status');
    this.status.setAttribute('role', 'status');
    this.section.replaceChildren(head, add, filters, this.list, this.empty, this.status);
  }

  /** A labelled control appended to `parent`; answers the control. */
  field(parent, tag, label, opts = {}) {
    const wrap = h('label', `board-field${opts.wide ? ' board-field-wide' : ''}`);
    wrap.append(h('span', 'board-label', label));
    const el = h(tag, 'board-control');
    if (opts.name) el.name = opts.name;
    if (opts.type) el.type = opts.type;
    if (opts.required) el.required = true;
    if (opts.maxLength) el.maxLength = opts.maxLength;
    if (opts.placeholder) el.placeholder = opts.placeholder;
    if (opts.testid) el.dataset.testid = opts.testid;
    if (tag === 'input' && (!opts.type || opts.type === 'search')) el.dir = 'auto';
    wrap.append(el);
    parent.append(wrap);
    return el;
  }

  prioritySelect(parent, label, testid, anyLabel) {
    const sel = this.field(parent, 'select', label, { name: 'priority', testid });
    if (anyLabel) sel.append(new Option(anyLabel, ''));
    for (const p of ['high', 'normal', 'low']) sel.append(new Option(this.t(p), p));
    sel.value = anyLabel ? '' : 'normal';
    return sel;
  }

  // ---- data ----------------------------------------------------------------------------

  async start() {
    await this.reload();
    this.follow();
  }

  async reload() {
    const all = new Map();
    let after = null;
    for (let page = 0; page < 50; page++) {
      const qs = new URLSearchParams({ status: 'all', limit: '100', order: 'asc' });
      if (after) qs.set('after', after);
      const res = await this.sessions.fetch(`/api/tasks?${qs}`);
      if (!res.ok) throw new Error(await errorText(res));
      const body = await res.json();
      for (const task of body.data) all.set(task.id, task);
      if (!body.has_more) break;
      after = body.after;
    }
    this.tasks = all;
    this.render();
  }

  /**
   * Follows /api/events; reconnects with backoff. After a gap the list is reloaded at once (in
   * parallel with the new feed, whose response may only start with its first event), and that
   * reload is what tells the page the server is back.
   */
  async follow() {
    for (;;) {
      const controller = new AbortController();
      this.feedAbort = controller;
      const feed = this.sessions.fetch('/api/events', { signal: controller.signal, headers: { Accept: 'text/event-stream' } });
      feed.catch(() => {}); // handled below; a failed reload may abandon it first
      try {
        if (this.feedLost) {
          await this.reload();
          this.feedLost = false;
          this.hooks.onRecovered('feed');
        }
        const res = await feed;
        if (!res.ok || !res.body) throw new Error(await errorText(res));
        this.retryDelay = 1000;
        await readEventStream(res.body, (data) => this.onEvent(data));
      } catch (err) {
        controller.abort();
        if (this.stopped) return;
        this.hooks.onProblem('feed', err);
      }
      if (this.stopped) return;
      this.feedLost = true;
      await new Promise((r) => setTimeout(r, this.retryDelay));
      this.retryDelay = Math.min(this.retryDelay * 2, 30000);
    }
  }

  stop() {
    this.stopped = true;
    if (this.feedAbort) this.feedAbort.abort();
  }

  onEvent(data) {
    let ev;
    try {
      ev = JSON.parse(data);
    } catch {
      return;
    }
    if (!ev || !ev.task || !ev.task.id) return;
    if (ev.type === 'task.deleted') {
      this.tasks.delete(ev.task.id);
      if (this.editing === ev.task.id) this.editing = null;
      this.announce(this.t('taskDeleted', { title: ev.task.title }));
    } else if (ev.type === 'task.created' || ev.type === 'task.updated') {
      const known = this.tasks.has(ev.task.id);
      this.tasks.set(ev.task.id, ev.task);
      this.announce(this.t(known ? 'taskUpdated' : 'taskAdded', { title: ev.task.title }));
    } else return;
    this.render();
  }

  announce(text) {
    this.status.textContent = text;
  }

  /** Runs a REST change; its answer updates the row at once (the feed confirms it later). */
  async mutate(url, init, apply) {
    try {
      const res = await this.sessions.fetch(url, {
        ...init,
        headers: { 'Content-Type': 'application/json', ...(init.headers || {}) },
      });
      if (!res.ok) throw new Error(await errorText(res));
      const body = res.status === 204 ? null : await res.json();
      apply(body);
      this.render();
      return true;
    } catch (err) {
      this.announce(this.t('saveFailed', { reason: err.message }));
      return false;
    }
  }

  async create() {
    const title = this.addTitle.value.trim();
    if (!title) {
      this.addTitle.reportValidity();
      return;
    }
    const body = { title, priority: this.addPriority.value || 'normal' };
    if (this.addDue.value) body.due_date = this.addDue.value;
    if (this.addDue.value && this.addTime.value) body.due_time = this.addTime.value;
    const tags = parseTags(this.addTags.value);
    if (tags.length) body.tags = tags;
    const ok = await this.mutate('/api/tasks', { method: 'POST', body: JSON.stringify(body) }, (task) => this.tasks.set(task.id, task));
    if (ok) {
      this.addTitle.value = '';
      this.addDue.value = '';
      this.addTime.value = '';
      this.addTags.value = '';
      this.addPriority.value = 'normal';
      this.addTitle.focus();
    }
  }

  toggle(task) {
    const status = task.status === 'done' ? 'open' : 'done';
    return this.mutate(`/api/tasks/${encodeURIComponent(task.id)}`, { method: 'PATCH', body: JSON.stringify({ status }) },
      (t) => this.tasks.set(t.id, t));
  }

  remove(task) {
    return this.mutate(`/api/tasks/${encodeURIComponent(task.id)}`, { method: 'DELETE' }, () => this.tasks.delete(task.id));
  }

  // ---- view ------------------------------------------------------------------------------

  visible() {
    const f = this.filter;
    return [...this.tasks.values()]
      .filter((task) => (f.status === 'all' || task.status === f.status)
        && (!f.priority || task.priority === f.priority)
        && (!f.tag || (task.tags || []).includes(f.tag))
        && (!f.q || task.title.toLowerCase().includes(f.q) || (task.notes || '').toLowerCase().includes(f.q)))
      .sort((a, b) => (a.status === b.status ? 0 : a.status === 'open' ? -1 : 1)
        || (a.due_date || '9999').localeCompare(b.due_date || '9999')
        || PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority]
        || a.created_at.localeCompare(b.created_at));
  }

  render() {
    const { t } = this;
    // Keep focus on the same control of the same row across re-renders.
    const active = this.section.getRootNode().activeElement;
    const focusRow = active && active.closest && active.closest('[data-task-id]');
    const focusKey = focusRow ? [focusRow.dataset.taskId, active.dataset.testid] : null;

    const tags = new Set();
    let open = 0;
    for (const task of this.tasks.values()) {
      (task.tags || []).forEach((x) => tags.add(x));
      if (task.status === 'open') open++;
    }
    this.counts.textContent = t('counts', { open, done: this.tasks.size - open });
    const tagValue = this.filter.tag;
    this.tagSelect.replaceChildren(new Option(t('anyTag'), ''), ...[...tags].sort().map((x) => new Option(`#${x}`, x)));
    this.tagSelect.value = tags.has(tagValue) ? tagValue : '';
    this.filter.tag = this.tagSelect.value;

    // The row being edited is kept as it is (a live update must not wipe what the user typed).
    const rows = this.visible().map((task) => {
      if (task.id !== this.editing) return this.row(task);
      if (!this.editEl || this.editEl.dataset.taskId !== task.id) this.editEl = this.editRow(task);
      return this.editEl;
    });
    if (!this.editing) this.editEl = null;
    this.list.replaceChildren(...rows);
    this.empty.hidden = rows.length > 0;
    this.section.querySelector('.board-loading')?.remove();
    if (focusKey) {
      // The same control of the same row; when the row left the view (completed under the
      // "open" filter, deleted), the first row, else the section, so focus is never lost.
      const row = this.list.querySelector(`[data-task-id="${CSS.escape(focusKey[0])}"]`);
      const target = row ? row.querySelector(`[data-testid="${focusKey[1]}"]`) || row.querySelector('input, button')
        : this.list.querySelector('[data-testid="board-row-toggle"]') || this.section;
      if (target) target.focus();
    }
  }

  row(task) {
    const { t } = this;
    const li = h('li', 'board-row');
    li.dataset.taskId = task.id;
    li.dataset.testid = 'board-row';
    li.dataset.status = task.status;
    const check = h('input', 'board-check');
    check.type = 'checkbox';
    check.checked = task.status === 'done';
    check.dataset.testid = 'board-row-toggle';
    check.setAttribute('aria-label', t(task.status === 'done' ? 'reopen' : 'complete', { title: task.title }));
    check.addEventListener('change', () => this.toggle(task));
    const main = h('div', 'board-row-main');
    const title = h('span', 'board-row-title', task.title);
    title.dir = 'auto';
    title.dataset.testid = 'board-row-title';
    main.append(title);
    const meta = h('div', 'board-row-meta');
    if (task.due_date) {
      const due = h('span', 'board-due');
      const overdue = task.status === 'open' && task.due_date < today();
      due.textContent = t('dueOn', { date: this.dateFmt.format(new Date(`${task.due_date}T00:00:00Z`)) }) + (task.due_time ? ` ${task.due_time}` : '');
      if (overdue) {
        due.classList.add('board-overdue');
        due.textContent += ` · ${t('overdue')}`;
      }
      meta.append(due);
    }
    if (task.priority !== 'normal') {
      const p = h('span', `board-priority board-priority-${task.priority}`, t(task.priority));
      meta.append(p);
    }
    for (const tag of task.tags || []) meta.append(h('span', 'board-tag', `#${tag}`));
    if (meta.childNodes.length) main.append(meta);
    if (task.notes) {
      const notes = h('p', 'board-notes', task.notes);
      notes.dir = 'auto';
      main.append(notes);
    }
    const edit = h('button', 'app-btn app-btn-quiet', '✎');
    edit.type = 'button';
    edit.dataset.testid = 'board-row-edit';
    edit.setAttribute('aria-label', t('edit', { title: task.title }));
    edit.addEventListener('click', () => {
      this.editing = task.id;
      this.render();
      this.list.querySelector(`[data-task-id="${CSS.escape(task.id)}"] input[name="title"]`)?.focus();
    });
    const del = h('button', 'app-btn app-btn-quiet board-delete', '✕');
    del.type = 'button';
    del.dataset.testid = 'board-row-delete';
    del.setAttribute('aria-label', t('delete', { title: task.title }));
    del.addEventListener('click', () => this.remove(task));
    li.append(check, main, edit, del);
    return li;
  }

  editRow(task) {
    const { t } = this;
    const li = h('li', 'board-row board-row-editing');
    li.dataset.taskId = task.id;
    li.dataset.testid = 'board-row';
    const form = h('form', 'board-edit');
    form.setAttribute('aria-label', t('edit', { title: task.title }));
    const title = this.field(form, 'input', t('newTitle'), { name: 'title', required: true, maxLength: 500, testid: 'board-edit-title', wide: true });
    title.value = task.title;
    const due = this.field(form, 'input', t('due'), { name: 'due_date', type: 'date', testid: 'board-edit-due' });
    due.value = task.due_date || '';
    const time = this.field(form, 'input', t('dueTime'), { name: 'due_time', type: 'time', testid: 'board-edit-time' });
    time.value = task.due_time || '';
    const prio = this.prioritySelect(form, t('priority'), 'board-edit-priority');
    prio.value = task.priority;
    const tags = this.field(form, 'input', t('tags'), { name: 'tags', testid: 'board-edit-tags' });
    tags.value = (task.tags || []).join(', ');
    const notes = this.field(form, 'textarea', t('notes'), { name: 'notes', testid: 'board-edit-notes', wide: true });
    notes.value = task.notes || '';
    notes.rows = 2;
    notes.dir = 'auto';
    const save = h('button', 'app-btn app-btn-primary', t('save'));
    save.type = 'submit';
    save.dataset.testid = 'board-edit-save';
    const cancel = h('button', 'app-btn', t('cancel'));
    cancel.type = 'button';
    cancel.dataset.testid = 'board-edit-cancel';
    const done = () => {
      this.editing = null;
      this.render();
      this.list.querySelector(`[data-task-id="${CSS.escape(task.id)}"] [data-testid="board-row-edit"]`)?.focus();
    };
    cancel.addEventListener('click', done);
    form.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') done();
    });
    form.append(save, cancel);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const patch = {
        title: title.value.trim(),
        priority: prio.value,
        due_date: due.value || null,
        due_time: due.value && time.value ? time.value : null,
        tags: parseTags(tags.value),
        notes: notes.value.trim() ? notes.value : null,
      };
      const ok = await this.mutate(`/api/tasks/${encodeURIComponent(task.id)}`, { method: 'PATCH', body: JSON.stringify(patch) },
        (updated) => this.tasks.set(updated.id, updated));
      if (ok) done();
    });
    li.append(form);
    return li;
  }
}

async function errorText(res) {
  try {
    const body = await res.json();
    if (body && body.error) return `${res.status} ${body.error.code}: ${body.error.message}`;
  } catch {
    /* not JSON */
  }
  return `HTTP ${res.status}`;
}
