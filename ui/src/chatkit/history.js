// The history panel: the user's threads newest first (threads.list, paged with `after`), open,
// rename (threads.update) and delete (threads.delete) — the last two only when the `history`
// option enables them. Escape closes the panel and gives focus back to its button.

import { iconButton } from './items.js';
import { h } from './dom.js';

export class HistoryPanel {
  constructor(view) {
    this.view = view;
    this.threads = []; // Thread objects in display order
    this.after = null;
    this.el = h('nav', 'ck-history');
    this.el.part = 'history';
    this.el.dataset.testid = 'history-panel';
    this.el.hidden = true;
    this.heading = h('h3', 'ck-history-title');
    this.heading.id = 'ck-history-title';
    this.el.setAttribute('aria-labelledby', 'ck-history-title');
    this.closeBtn = iconButton('close', '', 'history-close');
    this.closeBtn.addEventListener('click', () => this.hide());
    const head = h('div', 'ck-history-head');
    head.append(this.heading, this.closeBtn);
    this.list = h('ul', 'ck-history-list');
    this.more = h('button', 'ck-w-button ck-secondary ck-history-more');
    this.more.type = 'button';
    this.more.dataset.testid = 'history-more';
    this.more.hidden = true;
    this.more.addEventListener('click', () => this.load(false));
    this.empty = h('p', 'ck-history-empty');
    this.el.append(head, this.list, this.empty, this.more);
    this.el.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        ev.stopPropagation();
        this.hide();
      }
    });
  }

  configure() {
    const { t } = this.view;
    this.heading.textContent = t('history');
    this.closeBtn.setAttribute('aria-label', t('hideHistory'));
    this.more.textContent = t('loadMore');
    this.empty.textContent = t('noThreads');
    if (this.isOpen()) this.render();
  }

  isOpen() {
    return !this.el.hidden;
  }

  toggle() {
    if (this.isOpen()) this.hide();
    else this.show();
  }

  async show() {
    if (this.isOpen()) return;
    this.el.hidden = false;
    this.view.historyBtn.setAttribute('aria-expanded', 'true');
    this.view.rootEl.classList.add('ck-history-open');
    this.view.emit('chatkit.history.open', {});
    await this.load(true);
    const first = this.list.querySelector('.ck-history-open-btn');
    (first || this.closeBtn).focus();
  }

  hide() {
    if (!this.isOpen()) return;
    this.el.hidden = true;
    this.view.historyBtn.setAttribute('aria-expanded', 'false');
    this.view.rootEl.classList.remove('ck-history-open');
    this.view.emit('chatkit.history.close', {});
    if (!this.view.historyBtn.hidden) this.view.historyBtn.focus();
  }

  async load(reset) {
    try {
      const params = { limit: 20, order: 'desc' };
      if (!reset && this.after) params.after = this.after;
      const page = await this.view.api.json('threads.list', params);
      this.threads = reset ? page.data : [...this.threads, ...page.data];
      this.after = page.has_more ? page.after : null;
      this.render();
    } catch (err) {
      this.view.reportError(err);
      this.empty.textContent = this.view.t('errorRequest', { reason: err.message });
      this.empty.hidden = false;
    }
  }

  /** A thread was created or renamed by a stream: keep the list current. */
  threadChanged(thread) {
    if (!thread || !thread.id) return;
    const i = this.threads.findIndex((x) => x.id === thread.id);
    if (i >= 0) this.threads[i] = { ...this.threads[i], ...thread };
    else this.threads.unshift(thread);
    if (this.isOpen()) this.render();
  }

  markActive() {
    for (const li of this.list.children) {
      const active = li.dataset.threadId === this.view.threadId;
      li.classList.toggle('ck-active', active);
      const btn = li.querySelector('.ck-history-open-btn');
      if (btn) {
        if (active) btn.setAttribute('aria-current', 'true');
        else btn.removeAttribute('aria-current');
      }
    }
  }

  render() {
    const opts = this.view.options.history || {};
    const { t } = this.view;
    this.list.replaceChildren();
    for (const thread of this.threads) {
      const li = h('li', 'ck-history-entry');
      li.dataset.threadId = thread.id;
      li.dataset.testid = 'history-entry';
      const open = h('button', 'ck-history-open-btn', thread.title || t('untitled'));
      open.type = 'button';
      open.dir = 'auto';
      open.addEventListener('click', async () => {
        if (this.view.response) return;
        await this.view.setThreadId(thread.id);
        this.hide();
        this.view.composer.focus();
      });
      li.append(open);
      if (opts.showRename !== false) {
        const b = iconButton('write', `${t('rename')}: ${thread.title || t('untitled')}`, 'history-rename');
        b.addEventListener('click', () => this.startRename(li, thread));
        li.append(b);
      }
      if (opts.showDelete !== false) {
        const b = iconButton('trash', `${t('delete')}: ${thread.title || t('untitled')}`, 'history-delete');
        b.addEventListener('click', () => this.confirmDelete(li, thread));
        li.append(b);
      }
      this.list.append(li);
    }
    this.empty.hidden = this.threads.length > 0;
    this.more.hidden = !this.after;
    this.markActive();
  }

  startRename(li, thread) {
    const { t } = this.view;
    const form = h('form', 'ck-history-rename');
    const input = h('input', 'ck-w-control');
    input.value = thread.title || '';
    input.required = true;
    input.maxLength = 500;
    input.dir = 'auto';
    input.setAttribute('aria-label', t('renamePrompt'));
    input.dataset.testid = 'history-rename-input';
    const save = h('button', 'ck-w-button ck-primary', t('save'));
    save.type = 'submit';
    const cancel = h('button', 'ck-w-button ck-secondary', t('cancel'));
    cancel.type = 'button';
    form.append(input, save, cancel);
    li.replaceChildren(form);
    input.focus();
    input.select();
    cancel.addEventListener('click', () => this.render());
    form.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        ev.stopPropagation();
        this.render();
      }
    });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const title = input.value.trim();
      if (!title) return;
      try {
        const updated = await this.view.api.json('threads.update', { thread_id: thread.id, title });
        this.threadChanged(updated);
        if (this.view.threadId === thread.id) {
          this.view.thread = { ...this.view.thread, title: updated.title };
          this.view.updateTitle();
        }
      } catch (err) {
        this.view.reportError(err);
      }
      this.render();
      this.list.querySelector(`[data-thread-id="${CSS.escape(thread.id)}"] .ck-history-open-btn`)?.focus();
    });
  }

  confirmDelete(li, thread) {
    const { t } = this.view;
    const box = h('div', 'ck-history-confirm');
    box.setAttribute('role', 'group');
    const q = h('span', '', t('deleteConfirm', { title: thread.title || t('untitled') }));
    const yes = h('button', 'ck-w-button ck-danger', t('delete'));
    yes.type = 'button';
    yes.dataset.testid = 'history-delete-confirm';
    const no = h('button', 'ck-w-button ck-secondary', t('cancel'));
    no.type = 'button';
    box.append(q, yes, no);
    li.replaceChildren(box);
    no.focus();
    no.addEventListener('click', () => this.render());
    yes.addEventListener('click', async () => {
      try {
        await this.view.api.json('threads.delete', { thread_id: thread.id });
        this.threads = this.threads.filter((x) => x.id !== thread.id);
        if (this.view.threadId === thread.id) await this.view.setThreadId(null);
      } catch (err) {
        this.view.reportError(err);
      }
      this.render();
      (this.list.querySelector('.ck-history-open-btn') || this.closeBtn).focus();
    });
  }
}
