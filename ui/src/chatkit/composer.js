// The composer: text with @-mentions (entities.onTagSearch, and an "@" button with
// entities.showComposerMenu; chosen entities stay inline as `@Title` and are sent as input_tag
// parts), a "/" command menu (commands.onSearch / onSelect), attachments (picker, drag and drop,
// paste; uploaded at once with the configured strategy), tool and model pickers, a reply quote,
// and the send / stop button. Enter sends, Shift+Enter breaks the line.

import { icon } from './icons.js';
import { iconButton } from './items.js';
import { h } from './dom.js';

const MB = 1024 * 1024;

function formatSize(bytes) {
  return bytes >= MB ? `${Math.round((bytes / MB) * 10) / 10} MB` : `${Math.ceil(bytes / 1024)} KB`;
}

/** The size limit for a MIME type from `maxSize` (number, or pattern → bytes map). */
function sizeLimit(maxSize, mime) {
  if (typeof maxSize === 'number') return maxSize;
  if (!maxSize || typeof maxSize !== 'object') return 100 * MB;
  if (mime in maxSize) return maxSize[mime];
  const wildcard = `${mime.split('/')[0]}/*`;
  if (wildcard in maxSize) return maxSize[wildcard];
  return maxSize['*'] ?? maxSize[''] ?? 100 * MB;
}

function accepted(accept, file) {
  if (!accept || typeof accept !== 'object' || !Object.keys(accept).length) return true;
  const name = file.name.toLowerCase();
  for (const [mime, exts] of Object.entries(accept)) {
    const mimeOk = mime === file.type || (mime.endsWith('/*') && file.type.startsWith(mime.slice(0, -1)));
    if (mimeOk || (exts || []).some((e) => name.endsWith(String(e).toLowerCase()))) return true;
  }
  return false;
}

export class Composer {
  constructor(view) {
    this.view = view;
    this.pending = []; // {key, file, name, status, attachment?, controller}
    this.tags = []; // entities chosen through @-mentions
    this.reply = null;
    this.toolId = null;
    this.modelId = null;
    this.busy = false;
    this.build();
  }

  build() {
    const form = h('form', 'ck-composer');
    form.part = 'composer';
    form.setAttribute('aria-label', this.view.t('composer'));
    this.el = form;
    this.quoteEl = h('div', 'ck-reply');
    this.quoteEl.hidden = true;
    this.attachmentsEl = h('div', 'ck-composer-attachments');
    this.input = h('textarea', 'ck-input');
    this.input.rows = 1;
    this.input.dir = 'auto';
    this.input.dataset.testid = 'composer-input';
    this.input.part = 'composer-input';
    this.input.id = 'ck-composer-input';
    this.input.setAttribute('aria-autocomplete', 'list');
    this.mentions = h('ul', 'ck-mentions');
    this.mentions.id = 'ck-mentions';
    this.mentions.setAttribute('role', 'listbox');
    this.mentions.hidden = true;
    this.file = h('input');
    this.file.type = 'file';
    this.file.multiple = true;
    this.file.hidden = true;
    this.file.tabIndex = -1;
    this.file.setAttribute('aria-hidden', 'true');
    const bar = h('div', 'ck-composer-bar');
    this.attachBtn = iconButton('attach', '', 'attach-button');
    this.micBtn = iconButton('mic', '', 'dictation-button');
    this.micBtn.setAttribute('aria-pressed', 'false');
    this.micBtn.addEventListener('click', () => this.toggleDictation());
    this.mentionBtn = h('button', 'ck-icon-btn ck-at', '@');
    this.mentionBtn.type = 'button';
    this.mentionBtn.dataset.testid = 'mention-button';
    this.mentionBtn.addEventListener('click', () => this.startMention());
    this.toolSelect = h('select', 'ck-select');
    this.toolSelect.dataset.testid = 'tool-select';
    this.modelSelect = h('select', 'ck-select');
    this.modelSelect.dataset.testid = 'model-select';
    this.sendBtn = iconButton('send', '', 'send-button', 'ck-send');
    this.sendBtn.type = 'submit';
    this.sendBtn.part = 'send-button';
    this.stopBtn = iconButton('stop', '', 'stop-button', 'ck-send ck-stop');
    this.stopBtn.part = 'stop-button';
    this.stopBtn.hidden = true;
    const spacer = h('span', 'ck-grow');
    bar.append(this.attachBtn, this.mentionBtn, this.micBtn, this.toolSelect, this.modelSelect, spacer, this.sendBtn, this.stopBtn);
    this.statusEl = h('p', 'ck-composer-status');
    this.statusEl.setAttribute('role', 'status');
    form.append(this.quoteEl, this.attachmentsEl, this.input, this.mentions, bar, this.file, this.statusEl);

    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.send();
    });
    this.input.addEventListener('keydown', (ev) => this.onKey(ev));
    this.input.addEventListener('input', () => {
      this.autosize();
      this.updateSend();
      this.searchMentions();
    });
    this.input.addEventListener('paste', (ev) => {
      const files = [...(ev.clipboardData?.files || [])];
      if (files.length && this.attachmentsEnabled()) {
        ev.preventDefault();
        this.addFiles(files);
      }
    });
    this.attachBtn.addEventListener('click', () => this.file.click());
    this.file.addEventListener('change', () => {
      this.addFiles([...this.file.files]);
      this.file.value = '';
    });
    this.stopBtn.addEventListener('click', () => {
      this.view.abortResponse();
      this.input.focus();
    });
    this.toolSelect.addEventListener('change', () => this.selectTool(this.toolSelect.value || null));
    this.modelSelect.addEventListener('change', () => {
      this.modelId = this.modelSelect.value || null;
    });
  }

  /** Re-reads options and thread status. */
  configure() {
    const { t } = this.view;
    const o = this.view.options.composer || {};
    this.input.setAttribute('aria-label', t('composer'));
    this.attachBtn.setAttribute('aria-label', t('attach'));
    this.attachBtn.title = t('attach');
    this.sendBtn.setAttribute('aria-label', t('send'));
    this.sendBtn.title = t('send');
    this.stopBtn.setAttribute('aria-label', t('stop'));
    this.stopBtn.title = t('stop');
    this.attachBtn.hidden = !this.attachmentsEnabled();
    const dictation = o.dictation && o.dictation.enabled && typeof MediaRecorder !== 'undefined' && navigator.mediaDevices;
    this.micBtn.hidden = !dictation;
    this.micBtn.setAttribute('aria-label', t(this.recorder ? 'dictationStop' : 'dictation'));
    this.micBtn.title = this.micBtn.getAttribute('aria-label');
    const ent = this.view.options.entities || {};
    this.mentionBtn.hidden = !(ent.showComposerMenu && typeof ent.onTagSearch === 'function');
    this.mentionBtn.setAttribute('aria-label', t('mentions'));
    this.mentionBtn.title = t('mentions');
    const att = o.attachments || {};
    if (att.accept && typeof att.accept === 'object') {
      this.file.accept = Object.entries(att.accept).flatMap(([m, e]) => [m, ...(e || [])]).join(',');
    } else this.file.removeAttribute('accept');

    const tools = Array.isArray(o.tools) ? o.tools : [];
    this.toolSelect.hidden = !tools.length;
    this.toolSelect.replaceChildren(new Option(t('noTool'), ''));
    for (const tool of tools) this.toolSelect.append(new Option(tool.label || tool.id, tool.id));
    this.toolSelect.setAttribute('aria-label', t('tools'));
    this.toolSelect.value = this.toolId && tools.some((x) => x.id === this.toolId) ? this.toolId : '';

    const models = Array.isArray(o.models) ? o.models : [];
    this.modelSelect.hidden = !models.length;
    this.modelSelect.replaceChildren();
    for (const m of models) {
      const opt = new Option(m.label || m.id, m.id);
      opt.disabled = !!m.disabled;
      if (m.description) opt.title = m.description;
      this.modelSelect.append(opt);
    }
    this.modelSelect.setAttribute('aria-label', t('model'));
    if (models.length) {
      const chosen = models.find((m) => m.id === this.modelId) || models.find((m) => m.default) || models[0];
      this.modelId = chosen.id;
      this.modelSelect.value = chosen.id;
    } else this.modelId = null;

    const status = this.view.thread?.status || { type: 'active' };
    this.locked = status.type !== 'active';
    const reason = status.reason || t(status.type === 'closed' ? 'threadClosed' : 'threadLocked');
    this.input.disabled = this.locked;
    this.statusEl.textContent = this.locked ? reason : '';
    this.updatePlaceholder();
    this.updateSend();
  }

  updatePlaceholder() {
    const o = this.view.options.composer || {};
    const tool = (o.tools || []).find((x) => x.id === this.toolId);
    this.input.placeholder = (tool && tool.placeholderOverride) || o.placeholder || this.view.t('placeholder');
  }

  attachmentsEnabled() {
    const a = this.view.options.composer?.attachments;
    return !!(a && a.enabled !== false && this.view.options.api?.uploadStrategy);
  }

  selectTool(id) {
    if (id === this.toolId) return;
    this.toolId = id;
    this.toolSelect.value = id || '';
    this.updatePlaceholder();
    this.view.emit('chatkit.tool.change', { toolId: id });
  }

  setBusy(busy) {
    this.busy = busy;
    this.updateSend();
  }

  setCancellable(on) {
    this.stopBtn.hidden = !(on && this.busy);
    this.sendBtn.hidden = on && this.busy;
  }

  updateSend() {
    const uploading = this.pending.some((p) => p.status === 'uploading');
    const empty = !this.input.value.trim() && !this.pending.some((p) => p.attachment);
    this.sendBtn.disabled = this.busy || this.locked || uploading || empty;
  }

  autosize() {
    this.input.style.height = 'auto';
    this.input.style.height = `${Math.min(this.input.scrollHeight, 240)}px`;
  }

  focus() {
    this.input.focus();
  }

  onKey(ev) {
    if (!this.mentions.hidden && ['ArrowDown', 'ArrowUp', 'Enter', 'Tab', 'Escape'].includes(ev.key)) {
      this.mentionKey(ev);
      return;
    }
    if (ev.key === 'Escape' && this.view.response && !this.stopBtn.hidden) {
      ev.preventDefault();
      this.view.abortResponse();
      return;
    }
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      this.send();
    }
  }

  /** Fills the composer (setComposerValue). */
  setValue(v) {
    if (typeof v.text === 'string') this.input.value = v.text;
    if (Array.isArray(v.content)) {
      this.input.value = v.content.map((c) => (c.type === 'input_tag' ? `@${c.text}` : c.text || '')).join('');
      this.tags = v.content.filter((c) => c.type === 'input_tag')
        .map((c) => ({ id: c.id, title: c.text, group: c.group, data: c.data, interactive: c.interactive }));
    }
    if ('reply' in v) this.setReply(v.reply || null);
    if (Array.isArray(v.attachments)) {
      for (const a of v.attachments) this.pending.push({ key: a.id, name: a.name, status: 'done', attachment: a });
      this.renderAttachments();
    }
    if (Array.isArray(v.files) && v.files.length) this.addFiles(v.files);
    if ('selectedToolId' in v) this.selectTool(v.selectedToolId || null);
    if (v.selectedModelId) {
      this.modelId = v.selectedModelId;
      this.modelSelect.value = v.selectedModelId;
    }
    this.autosize();
    this.updateSend();
  }

  setReply(text) {
    this.reply = text;
    this.quoteEl.replaceChildren();
    this.quoteEl.hidden = !text;
    if (!text) return;
    const q = h('blockquote', 'ck-quote', text);
    q.dir = 'auto';
    const close = iconButton('close', this.view.t('cancel'), 'reply-cancel');
    close.addEventListener('click', () => this.setReply(null));
    this.quoteEl.append(h('span', 'ck-reply-label', this.view.t('quoted')), q, close);
  }

  /**
   * The composer's text as ChatKit content: `@Title` mentions chosen from the suggestions
   * become input_tag parts in place, the text around them input_text parts.
   */
  content() {
    const text = this.input.value.trim();
    const parts = [];
    let rest = text;
    const live = this.tags.filter((tag) => text.includes(`@${tag.title}`));
    for (;;) {
      let best = null;
      for (const tag of live) {
        const at = rest.indexOf(`@${tag.title}`);
        if (at >= 0 && (!best || at < best.at)) best = { at, tag };
      }
      if (!best) break;
      if (best.at > 0) parts.push({ type: 'input_text', text: rest.slice(0, best.at) });
      const { tag } = best;
      parts.push({ type: 'input_tag', id: tag.id, text: tag.title, data: tag.data || {}, interactive: !!tag.interactive, ...(tag.group ? { group: tag.group } : {}) });
      rest = rest.slice(best.at + tag.title.length + 1);
    }
    if (rest) parts.push({ type: 'input_text', text: rest });
    return parts;
  }

  async send() {
    if (this.sendBtn.disabled) return;
    const content = this.content();
    const attachments = this.pending.filter((p) => p.attachment).map((p) => p.attachment.id);
    const msg = { content, attachments };
    if (this.reply) msg.reply = this.reply;
    if (this.toolId) msg.toolChoice = { id: this.toolId };
    if (this.modelId) msg.model = this.modelId;
    const saved = { value: this.input.value, tags: this.tags, pending: this.pending, reply: this.reply };
    this.input.value = '';
    this.tags = [];
    this.pending = [];
    this.setReply(null);
    this.renderAttachments();
    this.autosize();
    const tool = (this.view.options.composer?.tools || []).find((x) => x.id === this.toolId);
    if (tool && !tool.persistent) this.selectTool(null);
    // Keep the keyboard in the composer while the answer streams (the send button turns into
    // the stop button under the pointer, which would otherwise drop focus).
    if (this.el.contains(this.view.root.activeElement)) this.input.focus();
    try {
      await this.view.sendUserMessage(msg);
    } catch (err) {
      // Could not even start: give the user their message back.
      this.input.value = saved.value;
      this.tags = saved.tags;
      this.pending = saved.pending;
      this.setReply(saved.reply);
      this.renderAttachments();
      this.view.reportError(err);
    }
    this.updateSend();
  }

  // ---- dictation (composer.dictation → input.transcribe) -------------------------------------

  async toggleDictation() {
    if (this.recorder) {
      this.recorder.stop();
      return;
    }
    const { t } = this.view;
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (err) {
      this.statusEl.textContent = t('dictationFailed', { reason: err.message });
      return;
    }
    // The types input.transcribe takes, in the protocol's order of preference.
    const type = ['audio/webm;codecs=opus', 'audio/mp4', 'audio/ogg;codecs=opus']
      .find((m) => MediaRecorder.isTypeSupported(m)) || '';
    const recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
    const chunks = [];
    recorder.addEventListener('dataavailable', (ev) => chunks.push(ev.data));
    recorder.addEventListener('stop', () => {
      for (const track of stream.getTracks()) track.stop();
      this.recorder = null;
      this.setRecording(false);
      this.transcribe(new Blob(chunks, { type: recorder.mimeType || type }));
    });
    this.recorder = recorder;
    recorder.start();
    this.setRecording(true);
  }

  setRecording(on) {
    const label = this.view.t(on ? 'dictationStop' : 'dictation');
    this.micBtn.setAttribute('aria-pressed', String(on));
    this.micBtn.setAttribute('aria-label', label);
    this.micBtn.title = label;
    this.micBtn.classList.toggle('ck-recording', on);
    this.view.live.textContent = on ? this.view.t('listening') : '';
  }

  async transcribe(blob) {
    const { t } = this.view;
    if (!blob.size) return;
    this.statusEl.textContent = t('transcribing');
    try {
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let binary = '';
      for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      const res = await this.view.api.json('input.transcribe', { audio_base64: btoa(binary), mime_type: blob.type });
      const text = String(res.text || '').trim();
      const pos = this.input.selectionStart ?? this.input.value.length;
      const left = this.input.value.slice(0, pos);
      const insert = left && !/\s$/.test(left) && text ? ` ${text}` : text;
      this.input.value = left + insert + this.input.value.slice(pos);
      this.statusEl.textContent = '';
      this.autosize();
      this.updateSend();
      this.input.focus();
    } catch (err) {
      this.statusEl.textContent = t('dictationFailed', { reason: err.message });
      this.view.reportError(err);
    }
  }

  // ---- attachments -----------------------------------------------------------------------

  addFiles(files) {
    const { t } = this.view;
    const cfg = this.view.options.composer?.attachments || {};
    const max = cfg.maxCount ?? 10;
    const problems = [];
    for (const file of files) {
      if (this.pending.length >= max) {
        problems.push(t('tooMany', { count: max }));
        break;
      }
      if (!accepted(cfg.accept, file)) {
        problems.push(t('typeNotAccepted', { name: file.name }));
        continue;
      }
      const limit = sizeLimit(cfg.maxSize, file.type);
      if (file.size > limit) {
        problems.push(t('tooLarge', { name: file.name, size: formatSize(limit) }));
        continue;
      }
      const entry = { key: `${Date.now()}-${Math.random()}`, file, name: file.name, status: 'uploading', controller: new AbortController() };
      this.pending.push(entry);
      this.upload(entry);
    }
    this.statusEl.textContent = problems.join(' ');
    this.renderAttachments();
  }

  async upload(entry) {
    try {
      entry.attachment = await this.view.api.upload(entry.file, entry.controller.signal);
      entry.status = 'done';
    } catch (err) {
      if (err.name === 'AbortError') return;
      entry.status = 'failed';
      this.statusEl.textContent = this.view.t('uploadFailed', { name: entry.name, reason: err.message });
      this.view.reportError(err);
    }
    this.renderAttachments();
  }

  removeAttachment(key) {
    const entry = this.pending.find((p) => p.key === key);
    if (!entry) return;
    this.pending = this.pending.filter((p) => p !== entry);
    if (entry.controller) entry.controller.abort();
    if (entry.attachment && this.view.options.api?.uploadStrategy?.type === 'two_phase') {
      this.view.api.json('attachments.delete', { attachment_id: entry.attachment.id }).catch((e) => this.view.reportError(e));
    }
    this.renderAttachments();
    this.input.focus();
  }

  renderAttachments() {
    const { t } = this.view;
    const shown = this.pending.map((p) => ({
      ...(p.attachment || {}),
      key: p.key,
      name: p.name,
      status: p.status === 'uploading' ? t('uploading', { name: '' }).trim() : p.status === 'failed' ? '⚠' : '',
    }));
    this.attachmentsEl.replaceChildren();
    if (shown.length) {
      this.attachmentsEl.append(this.view.attachmentList(shown, true, (a) => this.removeAttachment(a.key)));
    }
    this.updateSend();
  }

  // ---- @-mentions (entities.onTagSearch) -----------------------------------------------------

  /**
   * The suggestion list: `@query` searches entities (entities.onTagSearch), `/query` at the start
   * of the composer searches commands (commands.onSearch). Answers are shown as a listbox driven
   * from the textarea (aria-activedescendant).
   */
  async searchMentions() {
    const before = this.input.value.slice(0, this.input.selectionStart);
    const entities = this.view.options.entities?.onTagSearch;
    const commands = this.view.options.commands;
    let mode = null;
    let m = /(?:^|\s)@([^\s@]{0,40})$/.exec(before);
    if (m && typeof entities === 'function') mode = 'entity';
    else if ((m = /^\/(\S{0,40})$/.exec(before)) && commands && commands.enabled !== false && typeof commands.onSearch === 'function') mode = 'command';
    if (!mode) {
      this.closeMentions();
      return;
    }
    const seq = (this.mentionSeq = (this.mentionSeq || 0) + 1);
    let results = [];
    try {
      results = (await (mode === 'entity' ? entities(m[1]) : commands.onSearch(m[1]))) || [];
    } catch (err) {
      this.view.reportError(err);
    }
    if (seq !== this.mentionSeq) return;
    this.showSuggestions(mode, results);
  }

  showSuggestions(mode, results) {
    this.mentionMode = mode;
    this.mentionResults = results.slice(0, 8);
    this.mentionIndex = 0;
    this.mentions.replaceChildren();
    this.mentionResults.forEach((e, i) => {
      const li = h('li', 'ck-mention');
      li.id = `ck-mention-${i}`;
      li.setAttribute('role', 'option');
      li.dataset.testid = mode === 'entity' ? 'mention-option' : 'command-option';
      if (e.icon) li.append(icon(e.icon));
      const label = h('span', 'ck-mention-label', mode === 'entity' ? e.title : e.label);
      if (e.description) label.append(h('small', 'ck-mention-desc', e.description));
      li.append(label);
      if (e.group) li.append(h('span', 'ck-mention-group', e.group));
      li.dir = 'auto';
      li.addEventListener('mousedown', (ev) => {
        ev.preventDefault();
        this.chooseMention(i);
      });
      this.mentions.append(li);
    });
    this.mentions.hidden = !this.mentionResults.length;
    this.mentions.setAttribute('aria-label', this.view.t(mode === 'entity' ? 'mentions' : 'commands'));
    this.input.setAttribute('aria-controls', 'ck-mentions');
    this.view.live.textContent = this.mentionResults.map((e) => e.title || e.label).join(', ');
    this.highlightMention();
  }

  highlightMention() {
    [...this.mentions.children].forEach((li, i) => li.setAttribute('aria-selected', String(i === this.mentionIndex)));
    this.input.setAttribute('aria-activedescendant', `ck-mention-${this.mentionIndex}`);
  }

  mentionKey(ev) {
    ev.preventDefault();
    const n = this.mentionResults.length;
    if (ev.key === 'ArrowDown') this.mentionIndex = (this.mentionIndex + 1) % n;
    else if (ev.key === 'ArrowUp') this.mentionIndex = (this.mentionIndex + n - 1) % n;
    else if (ev.key === 'Escape') return this.closeMentions();
    else return this.chooseMention(this.mentionIndex);
    this.highlightMention();
    return undefined;
  }

  async chooseMention(i) {
    const e = this.mentionResults[i];
    if (!e) return;
    if (this.mentionMode === 'command') {
      await this.runCommand(e);
      return;
    }
    this.insertTag(e, /@([^\s@]{0,40})$/);
  }

  /** Replaces the trigger text before the caret with `@Title ` and remembers the entity. */
  insertTag(e, trigger) {
    const pos = this.input.selectionStart;
    const before = `${this.input.value.slice(0, pos).replace(trigger, '')}@${e.title} `;
    this.input.value = before + this.input.value.slice(pos);
    this.input.setSelectionRange(before.length, before.length);
    if (!this.tags.some((x) => x.id === e.id)) this.tags.push(e);
    this.closeMentions();
    this.updateSend();
    this.input.focus();
  }

  /** commands.onSelect: an entity to insert, a sub-menu to show, or a side effect only. */
  async runCommand(command) {
    let result;
    try {
      result = await this.view.options.commands.onSelect(command);
    } catch (err) {
      this.view.reportError(err);
      this.closeMentions();
      return;
    }
    if (result && result.type === 'menu' && Array.isArray(result.commands)) {
      this.showSuggestions('command', result.commands);
      return;
    }
    if (result && result.type === 'entity' && result.entity) {
      this.insertTag(result.entity, /^\/\S*$/);
      return;
    }
    this.input.value = this.input.value.replace(/^\/\S*/, '');
    this.closeMentions();
    this.updateSend();
    this.input.focus();
  }

  /** The "@" button (entities.showComposerMenu): starts a mention at the caret. */
  startMention() {
    const pos = this.input.selectionStart ?? this.input.value.length;
    const left = this.input.value.slice(0, pos);
    const insert = left && !/\s$/.test(left) ? ' @' : '@';
    this.input.value = left + insert + this.input.value.slice(pos);
    this.input.setSelectionRange(pos + insert.length, pos + insert.length);
    this.input.focus();
    this.searchMentions();
  }

  closeMentions() {
    this.mentions.hidden = true;
    this.mentionResults = [];
    this.input.removeAttribute('aria-activedescendant');
  }
}
