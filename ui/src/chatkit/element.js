// <chatkit-chat>: a ChatKit-compatible chat element that talks to a ChatKit server (our
// chatkitd at /chatkit) with the self-hosted protocol. Options, methods and events use ChatKit's
// names (spec-client §1-3); the DOM lives in an open shadow root styled by a constructed
// stylesheet, themable through CSS custom properties and `::part()`.

import { ChatKitApi, ChatKitError } from './api.js';
import { Composer } from './composer.js';
import { HistoryPanel } from './history.js';
import { icon } from './icons.js';
import { assistantText, iconButton, renderItem } from './items.js';
import { renderMarkdown } from './markdown.js';
import { isRtl, translator } from './strings.js';
import { applyTheme, colorScheme, loadFonts } from './theme.js';
import { formValues, mergePayload, renderWidget } from './widgets.js';
import sheetText from './chatkit.shadow.css';
import { h } from './dom.js';

const STREAMING_TYPES = new Set([
  'threads.create', 'threads.add_user_message', 'threads.add_client_tool_output',
  'threads.add_structured_input', 'threads.retry_after_item', 'threads.custom_action',
]);
const PAGE = 20;

let sheet = null;
function styleSheet() {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(sheetText);
  }
  return sheet;
}

export class ChatKitChat extends HTMLElement {
  constructor() {
    super();
    this.options = {};
    this.t = translator('en');
    this.items = new Map(); // item id → latest item JSON
    this.views = new Map(); // item id → {el, update}
    this.threadId = null;
    this.thread = null;
    this.response = null; // {controller, type} while a stream runs
    this.olderCursor = null; // items.list cursor (desc) for earlier messages
    this.ready = false;
    this.schemeQuery = null;
    this.entityOf = new WeakMap(); // tag / source element → its entity (previews, clicks)
    this.mdCtx = {
      allowImage: (url) => this.allowImage(url),
      t: (...a) => this.t(...a),
    };
    this.root = this.attachShadow({ mode: 'open' });
    this.root.adoptedStyleSheets = [styleSheet()];
  }

  connectedCallback() {
    if (!this.shellBuilt) this.buildShell();
    if (this.options.api && !this.ready) this.start();
    else if (this.options.api) this.applyOptions(); // re-attach the prefers-color-scheme listener
  }

  disconnectedCallback() {
    this.abortResponse();
    if (this.schemeQuery) this.schemeQuery.removeEventListener('change', this.onSchemeChange);
    this.schemeQuery = null;
  }

  // ---- public API (spec-client §2) ------------------------------------------------------

  /** Replaces the whole option set (ChatKit semantics: no merge). */
  setOptions(options) {
    if (!options || typeof options !== 'object') throw new TypeError('setOptions needs an object');
    if (!options.api || (!options.api.url && !options.api.getClientSecret)) {
      throw new TypeError('options.api needs url or getClientSecret');
    }
    const previous = this.options;
    const first = !previous.api;
    this.options = options;
    const locale = options.locale || navigator.language || 'en';
    this.t = translator(locale);
    const oldApi = this.api;
    this.api = new ChatKitApi(options.api, () => locale, (name, data) => this.log(name, data));
    if (oldApi && oldApi.getClientSecret && this.api.getClientSecret) {
      // Same session source: keep the secret instead of minting a new session per call.
      this.api.secret = oldApi.secret;
      this.api.expiresAt = oldApi.expiresAt;
    }
    this.lang = locale;
    if (!this.shellBuilt) this.buildShell();
    this.applyOptions();
    if (this.isConnected && (first || !this.ready)) this.start();
    else if (this.ready && options.initialThread !== previous.initialThread && !this.response) {
      this.setThreadId(options.initialThread ?? null).catch((err) => this.reportError(err));
    }
  }

  async setThreadId(threadId) {
    this.requireIdle();
    if (!threadId) {
      this.clearThread();
      this.emit('chatkit.thread.change', { threadId: null });
      return;
    }
    await this.loadThread(threadId);
  }

  async sendUserMessage(msg = {}) {
    this.requireIdle();
    const content = Array.isArray(msg.content) ? msg.content
      : [{ type: 'input_text', text: String(msg.text ?? '') }];
    const atts = (msg.attachments || []).map((a) => (typeof a === 'string' ? a : a.id));
    const inference = {};
    if (msg.toolChoice && msg.toolChoice.id) inference.tool_choice = { id: msg.toolChoice.id };
    if (msg.model) inference.model = msg.model;
    const input = { content, attachments: atts, inference_options: inference };
    if (msg.reply) input.quoted_text = String(msg.reply);
    if (msg.newThread || !this.threadId) {
      if (msg.newThread) this.clearThread();
      this.scrollToBottom(true);
      await this.runStream('threads.create', { input });
    } else {
      this.scrollToBottom(true);
      await this.runStream('threads.add_user_message', { thread_id: this.threadId, input });
    }
  }

  async setComposerValue(value = {}) {
    this.composer.setValue(value);
  }

  async focusComposer() {
    this.composer.focus();
  }

  async fetchUpdates() {
    if (this.threadId) await this.loadThread(this.threadId, { quiet: true });
  }

  async sendCustomAction(action, itemId) {
    if (!action || typeof action.type !== 'string') throw new TypeError('action.type is required');
    if (!this.threadId) throw new ChatKitError('no thread is open');
    const params = { thread_id: this.threadId, action: { type: action.type, payload: action.payload ?? null } };
    if (itemId) params.item_id = itemId;
    if (action.streaming === false) {
      const res = await this.api.json('threads.sync_custom_action', params);
      if (res.updated_item) this.upsertItem(res.updated_item, true);
      return;
    }
    this.requireIdle();
    await this.runStream('threads.custom_action', params);
  }

  async showHistory() {
    this.history.show();
  }

  async hideHistory() {
    this.history.hide();
  }

  // ---- setup -----------------------------------------------------------------------------

  buildShell() {
    this.shellBuilt = true;
    const root = h('div', 'ck-root');
    root.part = 'root';
    this.rootEl = root;
    this.header = h('header', 'ck-header');
    this.header.part = 'header';
    this.titleEl = h('h2', 'ck-title');
    this.titleEl.id = 'ck-title';
    this.titleEl.dir = 'auto';
    this.historyBtn = iconButton('history', '', 'history-button');
    this.historyBtn.setAttribute('aria-expanded', 'false');
    this.historyBtn.addEventListener('click', () => this.history.toggle());
    this.newBtn = iconButton('compose', '', 'new-chat-button');
    this.newBtn.addEventListener('click', () => {
      if (this.response) return;
      this.setThreadId(null).then(() => this.composer.focus());
    });
    this.leftSlot = h('div', 'ck-header-slot');
    this.rightSlot = h('div', 'ck-header-slot');
    this.header.append(this.leftSlot, this.historyBtn, this.titleEl, this.newBtn, this.rightSlot);

    const body = h('div', 'ck-body');
    this.history = new HistoryPanel(this);
    const main = h('section', 'ck-main');
    this.mainEl = main;
    this.scroller = h('div', 'ck-scroll');
    this.scroller.part = 'messages';
    this.scroller.dataset.testid = 'message-list';
    this.scroller.tabIndex = 0;
    this.scroller.addEventListener('scroll', () => {
      const s = this.scroller;
      this.stuck = s.scrollHeight - s.scrollTop - s.clientHeight < 80;
      this.jumpBtn.hidden = this.stuck;
    }, { passive: true });
    // Shown while the reader is scrolled up: back to the newest message.
    this.jumpBtn = iconButton('chevron-right', '', 'jump-to-latest', 'ck-icon-btn ck-jump');
    this.jumpBtn.hidden = true;
    this.jumpBtn.addEventListener('click', () => {
      this.scrollToBottom(true);
      this.composer.focus();
    });
    this.startScreen = h('div', 'ck-start');
    this.startScreen.part = 'start-screen';
    this.olderBtn = h('button', 'ck-older');
    this.olderBtn.type = 'button';
    this.olderBtn.hidden = true;
    this.olderBtn.dataset.testid = 'load-older';
    this.olderBtn.addEventListener('click', () => this.loadOlder());
    this.list = h('ol', 'ck-items');
    this.list.setAttribute('role', 'list');
    this.progress = h('div', 'ck-progress');
    this.progress.setAttribute('role', 'status');
    this.progress.dataset.testid = 'progress';
    this.errors = h('div', 'ck-errors');
    this.scroller.append(this.startScreen, this.olderBtn, this.list, this.progress, this.errors);
    this.notices = h('div', 'ck-notices');
    this.composer = new Composer(this);
    this.disclaimer = h('div', 'ck-disclaimer ck-md');
    this.disclaimer.part = 'disclaimer';
    main.append(this.scroller, this.jumpBtn, this.notices, this.composer.el, this.disclaimer);
    body.append(this.history.el, main);
    this.live = h('div', 'ck-sr-only');
    this.live.setAttribute('aria-live', 'polite');
    this.live.setAttribute('role', 'status');
    this.live.dataset.testid = 'live-region';
    root.append(this.header, body, this.live);
    this.root.append(root);

    // Drag and drop anywhere over the element attaches files.
    root.addEventListener('dragover', (ev) => {
      if (!this.composer.attachmentsEnabled() || !ev.dataTransfer?.types?.includes('Files')) return;
      ev.preventDefault();
      root.classList.add('ck-dragging');
    });
    root.addEventListener('dragleave', (ev) => {
      if (ev.target === root || !root.contains(ev.relatedTarget)) root.classList.remove('ck-dragging');
    });
    root.addEventListener('drop', (ev) => {
      root.classList.remove('ck-dragging');
      if (!this.composer.attachmentsEnabled() || !ev.dataTransfer?.files?.length) return;
      ev.preventDefault();
      this.composer.addFiles([...ev.dataTransfer.files]);
    });
    root.addEventListener('click', (ev) => {
      const link = ev.target.closest && ev.target.closest('a.ck-deeplink');
      if (link) {
        ev.preventDefault();
        this.emit('chatkit.deeplink', deeplink(link.getAttribute('href')));
        return;
      }
      const btn = ev.target.closest && ev.target.closest('.ck-copy-code');
      if (btn) {
        const code = btn.closest('.ck-code-block')?.querySelector('code');
        if (code) this.copyText(code.textContent, btn);
      }
    });
    this.onSchemeChange = () => this.applyScheme();
    this.setupEntityPreviews(root);
  }

  /**
   * Entity tags and sources: click → entities.onClick (interactive ones), hover or keyboard
   * focus → entities.onRequestPreview, whose `preview` widget shows in a small card.
   */
  setupEntityPreviews(root) {
    this.previewEl = h('div', 'ck-preview');
    this.previewEl.setAttribute('role', 'tooltip');
    this.previewEl.id = 'ck-preview';
    this.previewEl.hidden = true;
    root.append(this.previewEl);
    let current = null;
    let seq = 0;
    const hide = () => {
      seq++;
      current = null;
      this.previewEl.hidden = true;
    };
    const show = async (el) => {
      const entity = this.entityOf.get(el);
      const fn = this.options.entities?.onRequestPreview;
      if (!entity || typeof fn !== 'function' || current === el) return;
      current = el;
      const mine = ++seq;
      let answer = null;
      try {
        answer = await fn(entity);
      } catch (err) {
        this.reportError(err);
      }
      if (mine !== seq || !answer || !answer.preview) return;
      this.previewEl.replaceChildren(renderWidget(answer.preview, this.widgetCtx(null)));
      const box = el.getBoundingClientRect();
      const base = root.getBoundingClientRect();
      this.previewEl.style.top = `${box.bottom - base.top + 6}px`;
      this.previewEl.style.insetInlineStart = `${Math.max(8, (this.rootEl.dir === 'rtl' ? base.right - box.right : box.left - base.left))}px`;
      this.previewEl.hidden = false;
      el.setAttribute('aria-describedby', 'ck-preview');
    };
    const target = (ev) => ev.target.closest && ev.target.closest('.ck-tag[data-entity-id], .ck-source');
    root.addEventListener('mouseover', (ev) => {
      const el = target(ev);
      if (el) show(el);
      else if (current && !this.previewEl.contains(ev.target)) hide();
    });
    root.addEventListener('focusin', (ev) => {
      const el = target(ev);
      if (el) show(el);
      else hide();
    });
    root.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && !this.previewEl.hidden) hide();
    });
    root.addEventListener('click', (ev) => {
      const el = ev.target.closest && ev.target.closest('.ck-tag[data-entity-id]');
      const entity = el && this.entityOf.get(el);
      if (entity && entity.interactive && typeof this.options.entities?.onClick === 'function') this.options.entities.onClick(entity);
    });
    root.addEventListener('keydown', (ev) => {
      const el = (ev.key === 'Enter' || ev.key === ' ') && ev.target.closest && ev.target.closest('.ck-tag[data-entity-id]');
      const entity = el && this.entityOf.get(el);
      if (entity && entity.interactive && typeof this.options.entities?.onClick === 'function') {
        ev.preventDefault();
        this.options.entities.onClick(entity);
      }
    });
  }

  applyOptions() {
    const o = this.options;
    const t = this.t;
    this.lang && this.setAttribute('lang', this.lang);
    this.rootEl.dir = isRtl(this.lang) ? 'rtl' : 'ltr';
    this.rootEl.lang = this.lang || 'en';
    loadFonts(applyTheme(this.rootEl, o.theme), (n, d) => this.log(n, d));
    if (!this.schemeQuery && window.matchMedia) {
      this.schemeQuery = matchMedia('(prefers-color-scheme: dark)');
      this.schemeQuery.addEventListener('change', this.onSchemeChange);
    }
    this.applyScheme();
    this.rootEl.dataset.density = (o.theme && o.theme.density) || 'normal';

    const header = o.header || {};
    this.header.hidden = header.enabled === false;
    this.historyBtn.setAttribute('aria-label', t('showHistory'));
    this.historyBtn.title = t('showHistory');
    this.historyBtn.hidden = !(o.history && o.history.enabled !== false);
    this.newBtn.setAttribute('aria-label', t('newChat'));
    this.newBtn.title = t('newChat');
    for (const [slot, action] of [[this.leftSlot, header.leftAction], [this.rightSlot, header.rightAction]]) {
      slot.replaceChildren();
      if (action && typeof action.onClick === 'function') {
        const b = iconButton(action.icon, action.label || action.icon, `header-action-${action.icon}`);
        b.addEventListener('click', () => action.onClick());
        slot.append(b);
      }
    }
    this.updateTitle();
    this.history.configure();
    this.composer.configure();
    this.renderStartScreen();
    const disc = o.disclaimer;
    this.disclaimer.replaceChildren();
    this.disclaimer.hidden = !(disc && disc.text);
    if (disc && disc.text) {
      this.disclaimer.append(renderMarkdown(disc.text, this.mdCtx));
      this.disclaimer.classList.toggle('ck-high-contrast', !!disc.highContrast);
    }
    this.olderBtn.textContent = t('loadOlder');
    this.rootEl.dataset.dropLabel = t('dropFiles');
    this.jumpBtn.setAttribute('aria-label', t('jumpToLatest'));
    this.jumpBtn.title = t('jumpToLatest');
    // frameTitle names the chat region (ChatKit's iframe title); otherwise the thread title does.
    if (o.frameTitle) {
      this.mainEl.setAttribute('aria-label', String(o.frameTitle));
      this.mainEl.removeAttribute('aria-labelledby');
    } else {
      this.mainEl.removeAttribute('aria-label');
      this.mainEl.setAttribute('aria-labelledby', 'ck-title');
    }
    this.scroller.setAttribute('aria-label', t('messages'));
  }

  applyScheme() {
    const scheme = colorScheme(this.options.theme);
    const changed = this.rootEl.dataset.scheme && this.rootEl.dataset.scheme !== scheme;
    this.rootEl.dataset.scheme = scheme;
    this.dataset.scheme = scheme;
    if (changed) {
      // Widget colours resolve per scheme when rendered: render the widgets again.
      for (const [id, item] of this.items) if (item.type === 'widget') this.views.get(id)?.update(item, true);
    }
  }

  get dark() {
    return this.rootEl?.dataset.scheme === 'dark';
  }

  async start() {
    if (this.ready || this.starting || !this.options.api) return;
    this.starting = true;
    try {
      if (this.api.getClientSecret) await this.api.refreshSecret();
      this.ready = true;
      this.emit('chatkit.ready', {});
      const initial = this.options.initialThread;
      if (initial) await this.loadThread(initial);
      else this.clearThread();
    } catch (err) {
      this.reportError(err);
      this.showError(this.t('errorRequest', { reason: err.message }), () => {
        this.starting = false;
        this.start();
      });
    } finally {
      this.starting = false;
    }
  }

  // ---- thread state ---------------------------------------------------------------------

  clearThread() {
    this.abortResponse();
    this.threadId = null;
    this.thread = null;
    this.items.clear();
    this.views.clear();
    this.list.replaceChildren();
    this.errors.replaceChildren();
    this.notices.replaceChildren();
    this.progress.replaceChildren();
    this.olderBtn.hidden = true;
    this.olderCursor = null;
    this.updateTitle();
    this.renderStartScreen();
    this.composer.configure();
    this.history.markActive();
  }

  async loadThread(threadId, { quiet = false } = {}) {
    if (!quiet) this.emit('chatkit.thread.load.start', { threadId });
    this.scroller.setAttribute('aria-busy', 'true');
    try {
      const thread = await this.api.json('threads.get_by_id', { thread_id: threadId });
      let page = thread.items || { data: [], has_more: false };
      let older = null;
      if (page.has_more) {
        // get_by_id embeds the oldest page; show the newest instead, with "load earlier".
        const recent = await this.api.json('items.list', { thread_id: threadId, limit: PAGE, order: 'desc' });
        page = { data: [...recent.data].reverse() };
        older = recent.has_more ? recent.after : null;
      }
      const changed = this.threadId !== threadId;
      if (!quiet || changed) this.clearThread();
      this.threadId = threadId;
      this.thread = thread;
      this.olderCursor = older;
      this.olderBtn.hidden = !older;
      const keep = new Set(page.data.map((it) => it.id));
      for (const id of [...this.views.keys()]) if (!keep.has(id)) this.removeItem(id);
      for (const item of page.data) this.upsertItem(item, true);
      this.updateTitle();
      this.renderStartScreen();
      this.composer.configure();
      this.history.markActive();
      if (changed) this.emit('chatkit.thread.change', { threadId });
      this.scrollToBottom(true);
      this.resumePendingToolCall();
    } catch (err) {
      this.reportError(err);
      if (err.status === 404 && this.threadId !== threadId) {
        // A remembered thread that is gone (deleted elsewhere): start a new one instead.
        this.clearThread();
        this.emit('chatkit.thread.change', { threadId: null });
      } else {
        this.showError(this.t('errorRequest', { reason: err.message }), () => this.loadThread(threadId));
      }
    } finally {
      this.scroller.removeAttribute('aria-busy');
      if (!quiet) this.emit('chatkit.thread.load.end', { threadId });
    }
  }

  async loadOlder() {
    if (!this.olderCursor || !this.threadId) return;
    this.olderBtn.disabled = true;
    try {
      const page = await this.api.json('items.list', {
        thread_id: this.threadId, limit: PAGE, order: 'desc', after: this.olderCursor,
      });
      const before = this.scroller.scrollHeight - this.scroller.scrollTop;
      for (const item of page.data) this.upsertItem(item, true, { prepend: true });
      this.olderCursor = page.has_more ? page.after : null;
      this.olderBtn.hidden = !this.olderCursor;
      this.scroller.scrollTop = this.scroller.scrollHeight - before;
    } catch (err) {
      this.reportError(err);
    } finally {
      this.olderBtn.disabled = false;
    }
  }

  /** Inserts or updates an item and its view; `done` = final value (not streaming). */
  upsertItem(item, done, { prepend = false } = {}) {
    if (!item || !item.id || item.type === 'hidden_context_item' || item.type === 'sdk_hidden_context') return;
    this.items.set(item.id, item);
    const view = this.views.get(item.id);
    if (view) {
      if (view.update) view.update(item, done);
      else this.replaceView(item, done);
      return;
    }
    const fresh = renderItem(this, item, !done);
    if (!fresh) return;
    this.views.set(item.id, fresh);
    if (prepend) this.list.prepend(fresh.el);
    else this.list.append(fresh.el);
    this.startScreen.hidden = true;
  }

  replaceView(item, done) {
    const old = this.views.get(item.id);
    const fresh = renderItem(this, item, !done);
    if (!fresh) return;
    old.el.replaceWith(fresh.el);
    this.views.set(item.id, fresh);
  }

  removeItem(id) {
    const view = this.views.get(id);
    if (view) view.el.remove();
    this.views.delete(id);
    this.items.delete(id);
  }

  /** Applies one ThreadStreamEvent (spec-protocol §4). */
  applyEvent(ev) {
    switch (ev.type) {
      case 'thread.created':
        this.thread = ev.thread;
        this.threadId = ev.thread.id;
        this.updateTitle();
        this.emit('chatkit.thread.change', { threadId: this.threadId });
        this.history.threadChanged(ev.thread);
        break;
      case 'thread.updated':
        this.thread = { ...this.thread, ...ev.thread };
        this.updateTitle();
        this.composer.configure();
        this.history.threadChanged(ev.thread);
        break;
      case 'thread.item.added':
        this.upsertItem(ev.item, false);
        break;
      case 'thread.item.done':
      case 'thread.item.replaced':
        this.upsertItem(ev.item, true);
        if (ev.item.type === 'assistant_message') this.lastAnswer = ev.item;
        break;
      case 'thread.item.removed':
        this.removeItem(ev.item_id);
        break;
      case 'thread.item.updated':
        this.applyUpdate(ev.item_id, ev.update || {});
        break;
      case 'stream_options':
        this.composer.setCancellable(!!ev.stream_options?.allow_cancel);
        break;
      case 'progress_update': {
        this.progress.replaceChildren();
        if (ev.icon) this.progress.append(icon(ev.icon));
        this.progress.append(h('span', 'ck-shimmer', ev.text || ''));
        break;
      }
      case 'client_effect':
        this.emit('chatkit.effect', { name: ev.name, data: ev.data ?? {} });
        break;
      case 'notice':
        this.showNotice(ev);
        break;
      case 'error':
        this.streamError = ev;
        break;
      default:
        this.log('stream.unknown_event', { type: String(ev.type) });
    }
    if (ev.type !== 'progress_update' && ev.type !== 'stream_options' && ev.type !== 'client_effect' &&
        ev.type.startsWith('thread.item')) {
      this.progress.replaceChildren();
    }
    this.scrollToBottom(false);
  }

  applyUpdate(id, u) {
    const item = this.items.get(id);
    if (!item) return;
    if (u.type === 'assistant_message.content_part.text_delta') {
      // The hot path while streaming: append in place (no copy of the text so far).
      item.content = item.content || [];
      while (item.content.length <= u.content_index) item.content.push({ type: 'output_text', text: '', annotations: [] });
      const part = item.content[u.content_index];
      part.text = (part.text || '') + (u.delta || '');
      this.views.get(id)?.update?.(item, false);
      return;
    }
    const next = structuredClone(item);
    switch (u.type) {
      case 'assistant_message.content_part.added':
      case 'assistant_message.content_part.done': {
        next.content = next.content || [];
        while (next.content.length < u.content_index) next.content.push({ type: 'output_text', text: '', annotations: [] });
        next.content[u.content_index] = u.content;
        break;
      }
      case 'assistant_message.content_part.annotation_added': {
        const part = next.content?.[u.content_index];
        if (part) {
          part.annotations = part.annotations || [];
          part.annotations.splice(Math.min(u.annotation_index, part.annotations.length), 0, u.annotation);
        }
        break;
      }
      case 'widget.streaming_text.value_delta':
        appendWidgetText(next.widget, u.component_id, u.delta || '');
        break;
      case 'widget.root.updated':
        next.widget = u.widget;
        break;
      case 'widget.component.updated':
        next.widget = replaceComponent(next.widget, u.component_id, u.component);
        break;
      case 'workflow.task.added':
      case 'workflow.task.updated':
        next.workflow = next.workflow || { tasks: [] };
        next.workflow.tasks = next.workflow.tasks || [];
        next.workflow.tasks[u.task_index] = u.task;
        break;
      case 'generated_image.updated':
        next.image = u.image;
        this.items.set(id, next);
        this.views.get(id)?.update?.(next, false, u.progress);
        return;
      default:
        this.log('stream.unknown_update', { type: String(u.type) });
        return;
    }
    this.items.set(id, next);
    const view = this.views.get(id);
    if (view && view.update) view.update(next, false);
  }

  // ---- responses ------------------------------------------------------------------------

  requireIdle() {
    if (this.response) throw new ChatKitError('a response is in progress');
  }

  abortResponse() {
    if (this.response) this.response.controller.abort();
  }

  /** Runs one streaming request end to end, with the UI states around it. */
  async runStream(type, params, { onDone } = {}) {
    if (!STREAMING_TYPES.has(type)) throw new ChatKitError(`${type} does not stream`);
    const controller = new AbortController();
    this.response = { controller, type };
    this.streamError = null;
    this.lastAnswer = null;
    this.errors.replaceChildren();
    this.rootEl.classList.add('ck-responding');
    this.composer.setBusy(true);
    this.live.textContent = this.t('responding');
    this.emit('chatkit.response.start', {});
    let stopped = false;
    let failed = null;
    try {
      await this.api.stream(type, params, (ev) => this.applyEvent(ev), controller.signal);
    } catch (err) {
      if (err && err.name === 'AbortError') stopped = true;
      else failed = err;
    } finally {
      this.response = null;
      this.rootEl.classList.remove('ck-responding');
      this.progress.replaceChildren();
      this.composer.setBusy(false);
      this.composer.setCancellable(false);
      for (const [id, item] of this.items) {
        // Items still streaming when the response ended keep what they have.
        const view = this.views.get(id);
        if (view?.el.classList.contains('ck-streaming')) view.update(item, true);
      }
      this.emit('chatkit.response.end', {});
    }
    if (stopped) {
      this.live.textContent = this.t('responseStopped');
      this.log('response.stopped', { type });
      return;
    }
    if (failed) {
      this.reportError(failed);
      this.live.textContent = this.t('errorRequest', { reason: failed.message });
      this.showError(this.t('errorRequest', { reason: failed.message }), () => this.runStream(type, params));
      return;
    }
    if (this.streamError) {
      const e = this.streamError;
      const msg = e.code === 'custom' && e.message ? e.message : this.t('errorGeneric');
      this.live.textContent = msg;
      this.reportError(new ChatKitError(msg, { code: e.code }));
      this.showError(msg, e.allow_retry ? () => this.retryLast() : null);
      return;
    }
    const answer = this.lastAnswer ? assistantText(this.lastAnswer) : '';
    this.live.textContent = answer ? this.t('responseDone', { text: answer.slice(0, 400) }) : '';
    if (onDone) onDone();
    this.resumePendingToolCall();
  }

  /** If the newest item is a pending client tool call, run onClientTool and send its result. */
  async resumePendingToolCall() {
    const last = [...this.items.values()].pop();
    if (!last || last.type !== 'client_tool_call' || last.status !== 'pending' || this.response) return;
    if (this.toolCallRunning === last.id) return;
    this.toolCallRunning = last.id;
    let result;
    try {
      const fn = this.options.onClientTool;
      if (typeof fn !== 'function') throw new Error(`no onClientTool handler for ${last.name}`);
      result = await fn({ name: last.name, params: last.arguments || {} });
    } catch (err) {
      // The error goes back to the agent as the tool's result.
      result = { error: String((err && err.message) || err) };
      this.log('client_tool.error', { name: last.name });
    }
    this.upsertItem({ ...last, status: 'completed', output: result }, true);
    try {
      await this.runStream('threads.add_client_tool_output', { thread_id: this.threadId, result: result ?? null });
    } finally {
      this.toolCallRunning = null;
    }
  }

  lastUserMessageId() {
    const all = [...this.items.values()];
    for (let i = all.length - 1; i >= 0; i--) if (all[i].type === 'user_message') return all[i].id;
    return null;
  }

  retryLast() {
    const id = this.lastUserMessageId();
    if (id) this.retryFrom(id);
  }

  /** The retry button of an item: regenerate the answer to the user message before it. */
  retryItem(itemId) {
    const all = [...this.items.values()];
    const at = all.findIndex((it) => it.id === itemId);
    for (let i = at; i >= 0; i--) {
      if (all[i].type === 'user_message') {
        this.retryFrom(all[i].id);
        return;
      }
    }
  }

  retryFrom(userItemId) {
    if (this.response || !this.threadId) return;
    // The server deletes everything after the user message without events (spec-protocol §5.5).
    const all = [...this.items.keys()];
    for (const id of all.slice(all.indexOf(userItemId) + 1)) this.removeItem(id);
    this.runStream('threads.retry_after_item', { thread_id: this.threadId, item_id: userItemId });
  }

  async sendFeedback(itemId, kind, button) {
    try {
      await this.api.json('items.feedback', { thread_id: this.threadId, item_ids: [itemId], kind });
      for (const b of button.parentElement.querySelectorAll('[data-testid^="feedback-"]')) {
        b.setAttribute('aria-pressed', String(b === button));
      }
      this.live.textContent = this.t('feedbackThanks');
      this.log('message.action', { action: `feedback.${kind}` });
    } catch (err) {
      this.reportError(err);
    }
  }

  // ---- widgets ---------------------------------------------------------------------------

  /** The rendering context for the widget of item `itemId`. */
  widgetCtx(itemId) {
    return {
      t: this.t,
      dark: this.dark,
      log: (n, d) => this.log(n, d),
      allowImage: (url) => this.allowImage(url),
      imageUrl: (url) => this.api.imageUrl(url),
      renderMarkdown: (text) => renderMarkdown(text, this.mdCtx),
      onAction: (action, origin) => this.widgetAction(itemId, action, origin),
    };
  }

  async widgetAction(itemId, action, origin) {
    const item = this.items.get(itemId);
    const sync = action.streaming === false;
    if (this.response && !sync) {
      this.log('widget.action_blocked', { type: action.type });
      return;
    }
    const form = origin.form || origin.el.closest('form');
    let payload = action.payload ?? null;
    if (form) {
      payload = mergePayload(payload, formValues(form), (key) =>
        this.reportError(new ChatKitError(`form field "${key}" collides with a payload key of ${action.type}`)));
    }
    const act = { type: action.type, payload };
    if (action.handler === 'client') {
      const fn = this.options.widgets?.onAction;
      if (typeof fn !== 'function') {
        this.log('widget.no_client_handler', { type: action.type });
        return;
      }
      try {
        await fn(act, { id: itemId, widget: item?.widget });
      } catch (err) {
        this.reportError(err);
      }
      return;
    }
    const behaviour = action.loadingBehavior && action.loadingBehavior !== 'auto' ? action.loadingBehavior
      : { button: 'self', item: 'self', select: 'none', confirm: 'container' }[origin.kind] || 'self';
    const view = this.views.get(itemId);
    const busy = behaviour === 'self' ? origin.el : behaviour === 'container' ? view?.el : null;
    const hadFocus = this.root.activeElement === origin.el ? origin.el.dataset.testid || '' : null;
    if (busy) {
      busy.setAttribute('aria-busy', 'true');
      busy.classList.add('ck-loading');
      if (behaviour === 'container') busy.inert = true;
      if ('disabled' in busy) busy.disabled = true;
    }
    try {
      const params = { thread_id: this.threadId, action: act };
      if (itemId) params.item_id = itemId;
      if (sync) {
        const res = await this.api.json('threads.sync_custom_action', params);
        if (res.updated_item) this.upsertItem(res.updated_item, true);
      } else {
        await this.runStream('threads.custom_action', params);
      }
      if (origin.collapse) origin.collapse.hidden = true;
      if (hadFocus !== null) this.refocusWidget(itemId, hadFocus);
    } catch (err) {
      this.reportError(err);
      this.showError(this.t('errorRequest', { reason: err.message }), null);
    } finally {
      if (busy && busy.isConnected) {
        busy.removeAttribute('aria-busy');
        busy.classList.remove('ck-loading');
        busy.inert = false;
        if ('disabled' in busy) busy.disabled = false;
      }
    }
  }

  /**
   * After an action re-rendered a widget, the focused control is gone: focus its counterpart in
   * the new widget (same test id, i.e. same label), else the first control, else the item.
   */
  refocusWidget(itemId, testid) {
    const view = this.views.get(itemId);
    if (!view || view.el.contains(this.root.activeElement)) return;
    const same = testid && view.el.querySelector(`[data-testid="${CSS.escape(testid)}"]`);
    const target = same || view.el.querySelector('button:not(:disabled), input, select, textarea');
    if (target) target.focus();
    else {
      view.el.tabIndex = -1;
      view.el.focus();
    }
  }

  // ---- structured input --------------------------------------------------------------------

  structuredForm(item) {
    const form = h('form', 'ck-si');
    form.dataset.testid = 'structured-input';
    const legend = h('h3', 'ck-si-title', this.t('questions'));
    form.append(legend);
    for (const q of item.inputs || []) {
      const fs = h('fieldset', 'ck-si-q');
      fs.append(h('legend', '', q.question));
      if (q.type === 'multiple_choice') {
        for (const o of q.options || []) {
          const label = h('label', 'ck-w-check');
          const input = h('input');
          input.type = q.multiple ? 'checkbox' : 'radio';
          input.name = q.id;
          input.value = o.value;
          label.append(input, h('span', '', o.value));
          fs.append(label);
        }
      } else {
        if (q.description) fs.append(h('p', 'ck-si-desc', q.description));
        const ta = h('textarea', 'ck-w-control');
        ta.name = q.id;
        ta.rows = 2;
        ta.setAttribute('aria-label', q.question);
        ta.dir = 'auto';
        fs.append(ta);
      }
      form.append(fs);
    }
    const row = h('div', 'ck-si-actions');
    const skip = h('button', 'ck-w-button ck-secondary', this.t('skip'));
    skip.type = 'button';
    skip.dataset.testid = 'structured-skip';
    const submit = h('button', 'ck-w-button ck-primary', this.t('submitAnswers'));
    submit.type = 'submit';
    submit.dataset.testid = 'structured-submit';
    row.append(skip, submit);
    form.append(row);
    const send = (status) => {
      const answers = {};
      if (status === 'answered') {
        for (const q of item.inputs || []) {
          const values = [];
          for (const el of form.elements) {
            if (el.name !== q.id) continue;
            if ((el.type === 'checkbox' || el.type === 'radio') && el.checked) values.push(el.value);
            else if (el.tagName === 'TEXTAREA' && el.value.trim()) values.push(el.value.trim());
          }
          answers[q.id] = { values, skipped: values.length === 0 };
        }
      }
      if (this.response) return;
      this.composer.focus(); // the questions are replaced by their answers
      this.runStream('threads.add_structured_input', {
        thread_id: this.threadId, item_id: item.id, input: { status, answers },
      });
    };
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      send('answered');
    });
    skip.addEventListener('click', () => send('skipped'));
    return form;
  }

  // ---- small views -----------------------------------------------------------------------

  updateTitle() {
    const header = this.options.header || {};
    const title = header.title || {};
    let text = this.t('chat');
    if (title.text) text = title.text;
    else if (this.thread && this.thread.title) text = this.thread.title;
    this.titleEl.textContent = text;
    this.titleEl.hidden = title.enabled === false;
  }

  renderStartScreen() {
    const s = this.options.startScreen || {};
    this.startScreen.replaceChildren();
    const hasItems = this.views.size > 0 || this.threadId;
    this.startScreen.hidden = !!hasItems;
    if (hasItems) return;
    const g = h('p', 'ck-greeting', s.greeting || this.t('greeting'));
    g.dir = 'auto';
    this.startScreen.append(g);
    const prompts = Array.isArray(s.prompts) ? s.prompts : [];
    if (prompts.length) {
      const ul = h('ul', 'ck-prompts');
      for (const p of prompts) {
        const li = h('li');
        const b = h('button', 'ck-prompt');
        b.type = 'button';
        b.dataset.testid = 'start-prompt';
        if (p.icon) b.append(icon(p.icon));
        b.append(h('span', '', p.label));
        b.dir = 'auto';
        b.addEventListener('click', () => {
          if (this.response) return;
          const content = Array.isArray(p.prompt) ? p.prompt : null;
          this.sendUserMessage(content ? { content } : { text: String(p.prompt ?? p.label) }).catch((e) => this.reportError(e));
        });
        li.append(b);
        ul.append(li);
      }
      this.startScreen.append(ul);
    }
  }

  showNotice(ev) {
    const box = h('div', 'ck-notice');
    box.dataset.level = ev.level || 'info';
    box.dataset.testid = 'notice';
    box.setAttribute('role', ev.level === 'danger' ? 'alert' : 'status');
    if (ev.title) box.append(h('strong', '', ev.title));
    const msg = h('div', 'ck-md');
    msg.append(renderMarkdown(ev.message || '', this.mdCtx));
    const close = iconButton('close', this.t('dismiss'), 'notice-dismiss');
    close.addEventListener('click', () => box.remove());
    box.append(msg, close);
    this.notices.append(box);
  }

  /** An error line in the thread, with a retry button when `retry` is given. */
  showError(message, retry) {
    this.errors.replaceChildren();
    const box = h('div', 'ck-error');
    box.setAttribute('role', 'alert');
    box.dataset.testid = 'error';
    box.part = 'error';
    box.append(icon('warning'), h('span', '', message));
    if (retry) {
      const b = h('button', 'ck-w-button ck-secondary', this.t('retry'));
      b.type = 'button';
      b.dataset.testid = 'error-retry';
      b.addEventListener('click', () => {
        this.errors.replaceChildren();
        retry();
      });
      box.append(b);
    }
    this.errors.append(box);
    this.scrollToBottom(true);
  }

  /** Attachment chips/previews for a message (or the composer when `removable`). */
  attachmentList(atts, removable, onRemove) {
    const ul = h('ul', 'ck-attachments');
    for (const a of atts) {
      const li = h('li', 'ck-attachment');
      li.dataset.testid = 'attachment';
      if (a.type === 'image' && a.preview_url && this.allowImage(a.preview_url)) {
        const img = h('img', 'ck-attachment-preview');
        img.src = this.api.imageUrl(a.preview_url);
        img.alt = a.name || '';
        li.append(img);
      } else {
        li.append(icon('document'));
      }
      const name = h('span', 'ck-attachment-name', a.name || a.id);
      name.dir = 'auto';
      li.append(name);
      if (a.status) li.append(h('span', 'ck-attachment-status', a.status));
      if (removable) {
        const b = iconButton('close', this.t('removeAttachment', { name: a.name }), 'attachment-remove');
        b.addEventListener('click', () => onRemove(a));
        li.append(b);
      }
      ul.append(li);
    }
    return ul;
  }

  async copyText(text, button) {
    try {
      await navigator.clipboard.writeText(text || '');
    } catch {
      // Clipboard API refused (insecure context or no permission): select-and-copy fallback.
      const ta = document.createElement('textarea');
      ta.value = text || '';
      this.root.append(ta);
      ta.select();
      document.execCommand('copy');
      ta.remove();
    }
    if (button) {
      button.classList.add('ck-copied');
      const label = button.getAttribute('aria-label');
      button.setAttribute('aria-label', this.t('copied'));
      this.live.textContent = this.t('copied');
      setTimeout(() => {
        button.classList.remove('ck-copied');
        if (label) button.setAttribute('aria-label', label);
      }, 1500);
    }
  }

  renderMarkdown(text) {
    return renderMarkdown(text, this.mdCtx);
  }

  /** Images may come from our origin, and from hosts the thread allows (allowed_image_domains). */
  allowImage(url) {
    let u;
    try {
      u = url instanceof URL ? url : new URL(String(url), location.href);
    } catch {
      return false;
    }
    if (u.origin === location.origin) return true;
    const allowed = this.thread?.allowed_image_domains || [];
    return u.protocol === 'https:' && allowed.some((d) => u.hostname === d || u.hostname.endsWith(`.${d}`));
  }

  /**
   * Keeps the newest content in view: at most once per frame (after the Markdown renders of that
   * frame), and only while the reader is at the bottom (`stuck`, kept by a scroll listener) or
   * when forced (own message sent, thread opened). Reading layout here and not per event keeps
   * streaming free of forced reflows.
   */
  scrollToBottom(force) {
    if (force) this.scrollForce = true;
    if (this.scrollFrame) return;
    this.scrollFrame = requestAnimationFrame(() => {
      this.scrollFrame = 0;
      const follow = this.scrollForce || (this.stuck !== false && this.options.thread?.autoScroll !== false);
      this.scrollForce = false;
      if (follow) this.scroller.scrollTop = this.scroller.scrollHeight;
    });
  }

  emit(name, detail) {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }

  log(name, data) {
    this.emit('chatkit.log', data === undefined ? { name } : { name, data });
  }

  reportError(err) {
    const error = err instanceof Error ? err : new Error(String(err));
    this.emit('chatkit.error', { error });
  }
}

/** `chatkit-link://name/more?k=v` → {name: "name/more", data: {k: "v"}}. */
function deeplink(href) {
  const rest = String(href).replace(/^chatkit-link:(\/\/)?/i, '');
  const q = rest.indexOf('?');
  const name = decodeURIComponent(q < 0 ? rest : rest.slice(0, q));
  const data = q < 0 ? {} : Object.fromEntries(new URLSearchParams(rest.slice(q + 1)));
  return { name, data };
}

function appendWidgetText(node, id, delta) {
  if (!node || typeof node !== 'object') return false;
  if (node.id === id && typeof node.value === 'string') {
    node.value += delta;
    return true;
  }
  for (const key of ['children', 'cancel', 'confirm']) {
    const c = node[key];
    if (Array.isArray(c)) {
      for (const child of c) if (appendWidgetText(child, id, delta)) return true;
    } else if (c && typeof c === 'object' && appendWidgetText(c, id, delta)) return true;
  }
  return false;
}

function replaceComponent(node, id, component) {
  if (!node || typeof node !== 'object') return node;
  if (node.id === id) return component;
  if (Array.isArray(node.children)) return { ...node, children: node.children.map((c) => replaceComponent(c, id, component)) };
  if (node.children && typeof node.children === 'object') return { ...node, children: replaceComponent(node.children, id, component) };
  return node;
}

if (!customElements.get('chatkit-chat')) customElements.define('chatkit-chat', ChatKitChat);
