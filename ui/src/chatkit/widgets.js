// Renders ChatKit widget trees (spec-protocol §8, spec-client §9) into DOM. Every component of
// the catalogue has a renderer here; dynamic values go through the CSSOM (element.style), which
// `Content-Security-Policy: default-src 'self'` allows, never through style attributes.
//
// Actions: a control calls ctx.onAction(action, origin) where origin tells the element which
// node to mark busy (loadingBehavior) and which form's values to merge into the payload.

import { resolveColor } from './colors.js';
import { icon } from './icons.js';
import { renderChart } from './chart.js';
import { h } from './dom.js';

const RADIUS = {
  none: '0', '2xs': '2px', xs: '4px', sm: '6px', md: '8px', lg: '12px', xl: '16px', '2xl': '20px',
  '3xl': '24px', '4xl': '32px', full: '9999px', '100%': '100%',
};
const ALIGN = { start: 'flex-start', center: 'center', end: 'flex-end', baseline: 'baseline', stretch: 'stretch' };
const JUSTIFY = {
  start: 'flex-start', center: 'center', end: 'flex-end', between: 'space-between',
  around: 'space-around', evenly: 'space-evenly', stretch: 'stretch',
};

const unit = (v) => (typeof v === 'number' ? `calc(var(--ck-space) * ${v})` : String(v));
const dim = (v) => (typeof v === 'number' ? `${v}px` : String(v));

function spacing(el, prop, value) {
  if (value == null) return;
  if (typeof value !== 'object') {
    el.style[prop] = unit(value);
    return;
  }
  const sides = { top: value.top ?? value.y, bottom: value.bottom ?? value.y,
    left: value.left ?? value.x, right: value.right ?? value.x };
  const logical = { top: 'Top', bottom: 'Bottom', left: 'Left', right: 'Right' };
  for (const [side, v] of Object.entries(sides)) if (v != null) el.style[prop + logical[side]] = unit(v);
}

function borderValue(b, dark) {
  if (typeof b === 'number') return `${b}px solid var(--ck-border-default)`;
  if (!b || typeof b !== 'object') return '';
  const color = resolveColor(b.color, 'border', dark) || 'var(--ck-border-default)';
  return `${b.size ?? 1}px ${b.style || 'solid'} ${color}`;
}

function borders(el, value, dark) {
  if (value == null) return;
  if (typeof value === 'number' || 'size' in value) {
    el.style.border = borderValue(value, dark);
    return;
  }
  const sides = { Top: value.top ?? value.y, Bottom: value.bottom ?? value.y,
    Left: value.left ?? value.x, Right: value.right ?? value.x };
  for (const [side, v] of Object.entries(sides)) if (v != null) el.style[`border${side}`] = borderValue(v, dark);
}

function sizes(el, n) {
  const map = { height: 'height', width: 'width', minHeight: 'minHeight', minWidth: 'minWidth',
    maxHeight: 'maxHeight', maxWidth: 'maxWidth' };
  for (const [k, css] of Object.entries(map)) if (n[k] != null) el.style[css] = dim(n[k]);
  if (n.size != null) el.style.width = el.style.height = dim(n.size);
  if (n.minSize != null) el.style.minWidth = el.style.minHeight = dim(n.minSize);
  if (n.maxSize != null) el.style.maxWidth = el.style.maxHeight = dim(n.maxSize);
  if (n.aspectRatio != null) el.style.aspectRatio = String(n.aspectRatio);
}

function boxBase(el, n, ctx, direction) {
  el.classList.add('ck-w-box', direction === 'row' ? 'ck-row' : 'ck-col');
  if (n.align) el.style.alignItems = ALIGN[n.align] || '';
  if (n.justify) el.style.justifyContent = JUSTIFY[n.justify] || '';
  if (n.wrap) el.style.flexWrap = n.wrap;
  if (n.flex != null) el.style.flex = String(n.flex);
  if (n.gap != null) el.style.gap = unit(n.gap);
  spacing(el, 'padding', n.padding);
  spacing(el, 'margin', n.margin);
  borders(el, n.border, ctx.dark);
  if (n.radius) el.style.borderRadius = RADIUS[n.radius] || '';
  const bg = resolveColor(n.background, 'background', ctx.dark);
  if (bg) el.style.background = bg;
  sizes(el, n);
  children(el, n.children, ctx);
  return el;
}

function children(el, list, ctx) {
  if (!Array.isArray(list)) return;
  for (const child of list) {
    const node = renderNode(child, ctx);
    if (node) el.append(node);
  }
}

function textCommon(el, n, ctx) {
  const color = resolveColor(n.color, 'text', ctx.dark);
  if (color) el.style.color = color;
  if (n.weight) el.dataset.weight = n.weight;
  if (n.textAlign) el.style.textAlign = n.textAlign;
  if (n.truncate) el.classList.add('ck-w-truncate');
  if (n.maxLines) {
    el.classList.add('ck-w-clamp');
    el.style.webkitLineClamp = String(n.maxLines);
  }
  if (n.minLines) el.style.minHeight = `calc(${n.minLines} * 1lh)`;
  if (n.width != null) el.style.width = dim(n.width);
  el.dir = 'auto';
  return el;
}

function actionOf(a) {
  return a && typeof a === 'object' && typeof a.type === 'string' ? a : null;
}

/** Wires a control so that `event` fires `action`; `kind` picks the auto loading behaviour. */
function bindAction(el, eventName, action, ctx, kind) {
  if (!action) return;
  el.addEventListener(eventName, (ev) => {
    if (eventName === 'click') ev.preventDefault();
    ctx.onAction(action, { el, kind });
  });
}

const R = {};

R.Card = (n, ctx) => {
  const asForm = !!n.asForm;
  const card = h(asForm ? 'form' : 'div', 'ck-w-card');
  card.part = 'widget-card';
  card.dataset.size = n.size || 'md';
  if (n.theme) card.classList.add(`ck-scheme-${n.theme}`);
  const local = n.theme ? { ...ctx, dark: n.theme === 'dark' } : ctx;
  const bg = resolveColor(n.background, 'background', local.dark);
  if (bg) card.style.background = bg;
  borders(card, n.border, local.dark);
  if (n.status) card.append(status(n.status, local));
  const body = h('div', 'ck-w-card-body');
  spacing(body, 'padding', n.padding);
  children(body, n.children, local);
  card.append(body);
  if (n.confirm || n.cancel) {
    const footer = h('div', 'ck-w-card-actions');
    for (const [key, primary] of [['cancel', false], ['confirm', true]]) {
      const ca = n[key];
      if (!ca) continue;
      const btn = h('button', `ck-w-button ${primary ? 'ck-primary' : 'ck-secondary'}`, ca.label);
      btn.type = primary && asForm ? 'submit' : 'button';
      btn.dataset.testid = `widget-button-${ca.label}`;
      const action = actionOf(ca.action);
      if (primary && asForm) {
        card.addEventListener('submit', (ev) => {
          ev.preventDefault();
          if (action) ctx.onAction(action, { el: btn, kind: 'confirm', form: card, collapse: n.collapsed ? body : null });
        });
      } else if (action) {
        btn.addEventListener('click', () => ctx.onAction(action, { el: btn, kind: 'confirm', form: asForm ? card : null, collapse: n.collapsed ? body : null }));
      }
      footer.append(btn);
    }
    card.append(footer);
  }
  return card;
};

function status(s, ctx) {
  const el = h('div', 'ck-w-status');
  if (s.icon) el.append(icon(s.icon));
  else if (s.favicon && ctx.allowImage(s.favicon)) {
    const img = h('img', 'ck-w-favicon');
    img.src = ctx.imageUrl(s.favicon);
    img.alt = '';
    el.append(img);
  }
  el.append(h('span', '', s.text));
  el.dir = 'auto';
  return el;
}

R.ListView = (n, ctx) => {
  const wrap = h('div', 'ck-w-listview');
  wrap.part = 'widget-listview';
  if (n.theme) wrap.classList.add(`ck-scheme-${n.theme}`);
  if (n.status) wrap.append(status(n.status, ctx));
  const list = h('ul', 'ck-w-list');
  const items = Array.isArray(n.children) ? n.children : [];
  const limit = n.limit === 'auto' ? 5 : Number(n.limit) || items.length;
  items.forEach((child, i) => {
    const li = R.ListViewItem(child, ctx);
    if (i >= limit) li.hidden = true;
    list.append(li);
  });
  wrap.append(list);
  if (items.length > limit) {
    const more = h('button', 'ck-w-showmore', ctx.t('showMore'));
    more.type = 'button';
    more.setAttribute('aria-expanded', 'false');
    more.addEventListener('click', () => {
      const open = more.getAttribute('aria-expanded') !== 'true';
      [...list.children].forEach((li, i) => { li.hidden = !open && i >= limit; });
      more.setAttribute('aria-expanded', String(open));
      more.textContent = ctx.t(open ? 'showLess' : 'showMore');
    });
    wrap.append(more);
  }
  return wrap;
};

R.ListViewItem = (n, ctx) => {
  const li = h('li', 'ck-w-lvi-row');
  const row = h('div', 'ck-w-lvi');
  if (n.gap != null) row.style.gap = unit(n.gap);
  if (n.align) row.style.alignItems = ALIGN[n.align] || '';
  children(row, n.children, ctx);
  const action = actionOf(n.onClickAction);
  if (action && !row.querySelector('button, a, input, select, textarea')) {
    // A whole-row action: the row is one button (list semantics stay on the <li>).
    const btn = h('button', 'ck-w-lvi ck-w-lvi-btn ck-clickable');
    btn.type = 'button';
    btn.append(...row.childNodes);
    btn.style.cssText = row.style.cssText;
    btn.addEventListener('click', () => ctx.onAction(action, { el: btn, kind: 'item' }));
    li.append(btn);
    return li;
  }
  if (action) {
    // Rows with their own controls: a click on the row's background fires the action, the
    // controls inside stay the keyboard route.
    row.classList.add('ck-clickable');
    row.addEventListener('click', (ev) => {
      if (ev.target.closest('button, a, input, select, textarea, label')) return;
      ctx.onAction(action, { el: row, kind: 'item' });
    });
  }
  li.append(row);
  return li;
};

R.Basic = (n, ctx) => {
  const el = boxBase(h('div', 'ck-w-basic'), { ...n, padding: n.padding }, ctx, n.direction || 'col');
  if (n.theme) el.classList.add(`ck-scheme-${n.theme}`);
  return el;
};
R.Box = (n, ctx) => boxBase(h('div'), n, ctx, n.direction || 'col');
R.Row = (n, ctx) => boxBase(h('div'), { align: 'center', ...n }, ctx, 'row');
R.Col = (n, ctx) => boxBase(h('div'), n, ctx, 'col');
R.Form = (n, ctx) => {
  const form = boxBase(h('form', 'ck-w-form'), n, ctx, n.direction || 'col');
  const action = actionOf(n.onSubmitAction);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const submitter = ev.submitter || form;
    if (action) ctx.onAction(action, { el: submitter, kind: 'button', form });
  });
  return form;
};
R.Spacer = (n) => {
  const el = h('div', 'ck-w-spacer');
  if (n.minSize != null) el.style.minWidth = el.style.minHeight = dim(n.minSize);
  return el;
};
R.Divider = (n, ctx) => {
  const el = h('hr', 'ck-w-divider');
  const color = resolveColor(n.color, 'border', ctx.dark);
  if (color) el.style.borderColor = color;
  if (n.size != null) el.style.borderTopWidth = dim(n.size);
  if (n.spacing != null) el.style.marginBlock = unit(n.spacing);
  if (n.flush) el.classList.add('ck-flush');
  return el;
};
R.Transition = (n, ctx) => {
  const el = h('div', 'ck-w-transition');
  const child = Array.isArray(n.children) ? n.children[0] : n.children;
  const node = child ? renderNode(child, ctx) : null;
  if (node) el.append(node);
  return el;
};

R.Text = (n, ctx) => {
  if (n.editable && typeof n.editable === 'object') {
    const e = n.editable;
    const input = h('input', 'ck-w-text ck-w-editable');
    input.type = 'text';
    input.name = e.name;
    input.value = n.value ?? '';
    input.dataset.size = n.size || 'md';
    if (e.required) input.required = true;
    if (e.pattern) input.pattern = e.pattern;
    if (e.placeholder) input.placeholder = e.placeholder;
    if (e.autoComplete) input.autocomplete = e.autoComplete;
    if (e.autoFocus) input.dataset.autofocus = '1';
    if (e.autoSelect) input.addEventListener('focus', () => input.select());
    input.setAttribute('aria-label', e.placeholder || e.name);
    return textCommon(input, n, ctx);
  }
  const el = h('p', 'ck-w-text', n.value ?? '');
  el.dataset.size = n.size || 'md';
  if (n.italic) el.style.fontStyle = 'italic';
  if (n.lineThrough) el.style.textDecoration = 'line-through';
  if (n.streaming) el.classList.add('ck-streaming');
  return textCommon(el, n, ctx);
};
R.Title = (n, ctx) => {
  const el = h('h3', 'ck-w-title', n.value ?? '');
  el.dataset.size = n.size || 'md';
  return textCommon(el, n, ctx);
};
R.Caption = (n, ctx) => {
  const el = h('p', 'ck-w-caption', n.value ?? '');
  el.dataset.size = n.size || 'md';
  return textCommon(el, n, ctx);
};
R.Markdown = (n, ctx) => {
  const el = h('div', 'ck-w-markdown ck-md');
  el.dir = 'auto';
  el.append(ctx.renderMarkdown(n.value ?? ''));
  if (n.streaming) el.classList.add('ck-streaming');
  return el;
};
R.Label = (n, ctx) => {
  const el = h('label', 'ck-w-label', n.value ?? '');
  el.dataset.fieldName = n.fieldName || '';
  el.dataset.size = n.size || 'sm';
  return textCommon(el, n, ctx);
};

R.Badge = (n) => {
  const el = h('span', 'ck-w-badge', n.label);
  el.dataset.color = n.color || 'secondary';
  el.dataset.variant = n.variant || 'soft';
  el.dataset.size = n.size || 'sm';
  if (n.pill) el.classList.add('ck-pill');
  el.dir = 'auto';
  return el;
};
R.Icon = (n, ctx) => {
  const el = icon(n.name, 'ck-icon ck-w-icon');
  el.dataset.size = n.size || 'md';
  const color = resolveColor(n.color, 'text', ctx.dark);
  if (color) el.style.color = color;
  return el;
};
R.Image = (n, ctx) => {
  const frame = h('div', 'ck-w-image');
  if (n.frame) frame.classList.add('ck-framed');
  if (n.flush) frame.classList.add('ck-flush');
  sizes(frame, n);
  spacing(frame, 'margin', n.margin);
  if (n.radius) frame.style.borderRadius = RADIUS[n.radius] || '';
  if (n.flex != null) frame.style.flex = String(n.flex);
  const bg = resolveColor(n.background, 'background', ctx.dark);
  if (bg) frame.style.background = bg;
  if (ctx.allowImage(n.src)) {
    const img = h('img');
    img.src = ctx.imageUrl(n.src);
    img.alt = n.alt || '';
    img.loading = 'lazy';
    if (n.fit) img.style.objectFit = n.fit;
    if (n.position) img.style.objectPosition = n.position;
    frame.append(img);
  } else {
    frame.classList.add('ck-img-blocked');
    frame.textContent = ctx.t('imageBlocked', { alt: n.alt || n.src || '' });
  }
  return frame;
};
R.Button = (n, ctx) => {
  const btn = h('button', 'ck-w-button');
  btn.type = n.submit ? 'submit' : 'button';
  const style = n.style || (n.color === 'primary' ? 'primary' : 'secondary');
  btn.classList.add(style === 'primary' ? 'ck-primary' : 'ck-secondary');
  btn.dataset.color = n.color || (style === 'primary' ? 'primary' : 'secondary');
  btn.dataset.variant = n.variant || (style === 'primary' ? 'solid' : 'outline');
  btn.dataset.size = n.size || 'md';
  if (n.pill) btn.classList.add('ck-pill');
  if (n.uniform) btn.classList.add('ck-uniform');
  if (n.block) btn.classList.add('ck-block');
  if (n.disabled) btn.disabled = true;
  if (n.iconStart) btn.append(icon(n.iconStart));
  if (n.label) btn.append(h('span', '', n.label));
  if (n.iconEnd) btn.append(icon(n.iconEnd));
  if (!n.label && (n.iconStart || n.iconEnd)) btn.setAttribute('aria-label', n.iconStart || n.iconEnd);
  btn.dataset.testid = `widget-button-${n.label || n.iconStart || n.iconEnd || ''}`;
  const action = actionOf(n.onClickAction);
  if (action && !n.submit) bindAction(btn, 'click', action, ctx, 'button');
  else if (action && n.submit) {
    btn.addEventListener('click', (ev) => {
      const form = btn.form;
      if (!form) return ctx.onAction(action, { el: btn, kind: 'button' });
      ev.preventDefault();
      if (form.reportValidity()) ctx.onAction(action, { el: btn, kind: 'button', form });
      return undefined;
    });
  }
  return btn;
};

R.Table = (n, ctx) => {
  const wrap = h('div', 'ck-table-wrap ck-w-table-wrap');
  const table = h('table', 'ck-w-table');
  const rows = Array.isArray(n.children) ? n.children : [];
  let head = null;
  let body = null;
  for (const row of rows) {
    const isHeader = !!row.header;
    let section;
    if (isHeader) section = head ||= table.createTHead();
    else section = body ||= table.createTBody();
    section.append(R['Table.Row'](row, ctx));
  }
  wrap.append(table);
  return wrap;
};
R['Table.Row'] = (n, ctx) => {
  const tr = h('tr');
  for (const cell of Array.isArray(n.children) ? n.children : []) {
    const td = h(n.header ? 'th' : 'td');
    if (n.header) td.scope = 'col';
    if (cell.colSpan) td.colSpan = cell.colSpan;
    if (cell.rowSpan) td.rowSpan = cell.rowSpan;
    if (cell.align) td.style.textAlign = cell.align;
    if (cell.vAlign) td.style.verticalAlign = { start: 'top', center: 'middle', end: 'bottom' }[cell.vAlign] || '';
    if (cell.width != null) td.style.width = dim(cell.width);
    if (cell.colSize) td.dataset.colSize = cell.colSize;
    spacing(td, 'padding', cell.padding);
    children(td, cell.children, ctx);
    tr.append(td);
  }
  return tr;
};
R.TableRow = R['Table.Row'];

R.Chart = (n, ctx) => renderChart(n, ctx);

let fieldSeq = 0;
function field(el, n, kind) {
  el.name = n.name;
  el.id = `ck-f-${++fieldSeq}`;
  if (n.required) el.required = true;
  if (n.disabled) el.disabled = true;
  if (n.pattern && 'pattern' in el) el.pattern = n.pattern;
  if (n.placeholder && 'placeholder' in el) el.placeholder = n.placeholder;
  if (n.autoFocus) el.dataset.autofocus = '1';
  if (n.autoSelect) el.addEventListener('focus', () => el.select && el.select());
  el.classList.add('ck-w-control', `ck-w-${kind}`);
  el.dataset.variant = n.variant || 'outline';
  el.dataset.size = n.size || 'md';
  if (n.pill) el.classList.add('ck-pill');
  if (n.block) el.classList.add('ck-block');
  if (!n.label) el.setAttribute('aria-label', n.ariaLabel || n.placeholder || n.name);
  return el;
}

R.Input = (n) => {
  const el = field(h('input'), n, 'input');
  el.type = ['number', 'email', 'text', 'password', 'tel', 'url'].includes(n.inputType) ? n.inputType : 'text';
  if (n.defaultValue != null) el.value = n.defaultValue;
  el.dir = 'auto';
  return el;
};
R.Textarea = (n) => {
  const el = field(h('textarea'), n, 'textarea');
  el.rows = n.rows || 3;
  if (n.defaultValue != null) el.value = n.defaultValue;
  el.dir = 'auto';
  if (n.autoResize) {
    const max = n.maxRows || 10;
    el.addEventListener('input', () => {
      el.rows = Math.min(max, Math.max(n.rows || 3, el.value.split('\n').length));
    });
  }
  return el;
};
R.Select = (n, ctx) => {
  const el = field(h('select'), n, 'select');
  const placeholder = h('option', '', n.placeholder || '');
  placeholder.value = '';
  if (!n.clearable && n.defaultValue) placeholder.disabled = true;
  el.append(placeholder);
  for (const o of Array.isArray(n.options) ? n.options : []) {
    const opt = h('option', '', o.label ?? o.value);
    opt.value = o.value;
    if (o.disabled) opt.disabled = true;
    if (o.description) opt.title = o.description;
    el.append(opt);
  }
  el.value = n.defaultValue ?? '';
  bindAction(el, 'change', actionOf(n.onChangeAction), ctx, 'select');
  return el;
};
R.DatePicker = (n, ctx) => {
  const el = field(h('input'), n, 'date');
  el.type = 'date';
  const day = (v) => (v ? String(v).slice(0, 10) : '');
  if (n.defaultValue) el.value = day(n.defaultValue);
  if (n.min) el.min = day(n.min);
  if (n.max) el.max = day(n.max);
  bindAction(el, 'change', actionOf(n.onChangeAction), ctx, 'select');
  return el;
};
R.Checkbox = (n, ctx) => {
  const label = h('label', 'ck-w-check');
  const box = h('input');
  box.type = 'checkbox';
  box.name = n.name;
  box.checked = n.defaultChecked === true || n.defaultChecked === 'true';
  if (n.disabled) box.disabled = true;
  if (n.required) box.required = true;
  label.append(box, h('span', '', n.label || ''));
  if (!n.label) box.setAttribute('aria-label', n.name);
  bindAction(box, 'change', actionOf(n.onChangeAction), ctx, 'select');
  return label;
};
R.RadioGroup = (n, ctx) => {
  const group = h('div', 'ck-w-radios');
  group.setAttribute('role', 'radiogroup');
  if (n.ariaLabel) group.setAttribute('aria-label', n.ariaLabel);
  group.style.flexDirection = n.direction === 'row' ? 'row' : 'column';
  const action = actionOf(n.onChangeAction);
  for (const o of Array.isArray(n.options) ? n.options : []) {
    const label = h('label', 'ck-w-check');
    const r = h('input');
    r.type = 'radio';
    r.name = n.name;
    r.value = o.value;
    r.checked = n.defaultValue === o.value;
    if (o.disabled || n.disabled) r.disabled = true;
    if (n.required) r.required = true;
    bindAction(r, 'change', action, ctx, 'select');
    label.append(r, h('span', '', o.label ?? o.value));
    group.append(label);
  }
  return group;
};

/** One node → DOM (null for nothing); unknown types render their children. */
export function renderNode(n, ctx) {
  if (!n || typeof n !== 'object') return null;
  const fn = R[n.type];
  let el;
  if (fn) el = fn(n, ctx);
  else {
    ctx.log('widget.unknown_component', { type: String(n.type) });
    el = h('div', 'ck-w-box');
    children(el, n.children, ctx);
  }
  if (el && n.id) el.dataset.componentId = n.id;
  if (el && n.key) el.dataset.key = n.key;
  return el;
}

/** A widget root → DOM, with Labels tied to their fields and autofocus applied. */
export function renderWidget(root, ctx) {
  const el = renderNode(root, ctx) || h('div');
  el.classList.add('ck-widget');
  for (const label of el.querySelectorAll('label[data-field-name]')) {
    const target = el.querySelector(`[name="${CSS.escape(label.dataset.fieldName)}"]`);
    if (target && target.id) label.htmlFor = target.id;
  }
  return el;
}

/**
 * The current values of a form's fields as a nested object (`a.b` → {a: {b}}); checkboxes
 * give booleans, radio groups the checked value, other controls their string value.
 */
export function formValues(form) {
  const out = {};
  const set = (name, value) => {
    const parts = name.split('.');
    let obj = out;
    for (let i = 0; i < parts.length - 1; i++) {
      if (typeof obj[parts[i]] !== 'object' || obj[parts[i]] === null) obj[parts[i]] = {};
      obj = obj[parts[i]];
    }
    obj[parts[parts.length - 1]] = value;
  };
  for (const el of form.elements) {
    if (!el.name || el.disabled) continue;
    if (el.type === 'checkbox') set(el.name, el.checked);
    else if (el.type === 'radio') {
      if (el.checked) set(el.name, el.value);
    } else if (el.tagName !== 'BUTTON' && el.tagName !== 'FIELDSET') set(el.name, el.value);
  }
  return out;
}

/**
 * Merges form values into an action payload; keys already in the payload win (ChatKit's
 * documented behaviour), and each collision is reported through `onCollision`.
 */
export function mergePayload(payload, values, onCollision) {
  const base = payload && typeof payload === 'object' && !Array.isArray(payload) ? { ...payload } : {};
  for (const [k, v] of Object.entries(values)) {
    if (k in base) onCollision(k);
    else base[k] = v;
  }
  return base;
}
