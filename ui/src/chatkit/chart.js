// The Chart widget (chatkit-python's Chart: bar / area / line series over `data` rows) drawn
// as inline SVG. Bars with the same `stack` id are stacked; everything else sits side by side.
// Each point carries a <title> (the tooltip) and the whole chart has a text alternative listing
// its series, so it is readable without seeing it.

import { resolveColor } from './colors.js';

const NS = 'http://www.w3.org/2000/svg';
const PALETTE = ['blue', 'purple', 'orange', 'green', 'red', 'yellow', 'pink'];
const W = 600;

function s(tag, attrs, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = String(text);
  return el;
}

const num = (v) => (typeof v === 'number' ? v : Number.parseFloat(v)) || 0;

function niceMax(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** A smooth path for curve types other than linear/step (monotone-ish cubic). */
function linePath(pts, curve) {
  if (!pts.length) return '';
  if (String(curve || '').startsWith('step')) {
    let d = `M${pts[0][0]},${pts[0][1]}`;
    for (let i = 1; i < pts.length; i++) {
      const mid = curve === 'stepBefore' ? pts[i - 1][0] : curve === 'stepAfter' ? pts[i][0] : (pts[i - 1][0] + pts[i][0]) / 2;
      d += `H${mid}V${pts[i][1]}H${pts[i][0]}`;
    }
    return d;
  }
  if (!curve || curve === 'linear' || pts.length < 3) return `M${pts.map((p) => p.join(',')).join('L')}`;
  let d = `M${pts[0][0]},${pts[0][1]}`;
  for (let i = 1; i < pts.length; i++) {
    const [x0, y0] = pts[i - 1];
    const [x1, y1] = pts[i];
    const dx = (x1 - x0) / 3;
    d += `C${x0 + dx},${y0} ${x1 - dx},${y1} ${x1},${y1}`;
  }
  return d;
}

export function renderChart(n, ctx) {
  const data = Array.isArray(n.data) ? n.data : [];
  const series = (Array.isArray(n.series) ? n.series : []).filter((x) => x && x.dataKey);
  const xAxis = typeof n.xAxis === 'string' ? { dataKey: n.xAxis } : n.xAxis || {};
  const height = typeof n.height === 'number' ? n.height : 220;
  const showY = n.showYAxis !== false;
  const padL = showY ? 44 : 8;
  const padB = xAxis.hide ? 8 : 26;
  const padT = 10;
  const plotW = W - padL - 8;
  const plotH = height - padT - padB;
  const fig = document.createElement('figure');
  fig.className = 'ck-w-chart';
  if (n.flex != null) fig.style.flex = String(n.flex);
  if (n.width != null) fig.style.width = typeof n.width === 'number' ? `${n.width}px` : n.width;

  const color = (sr, i) => resolveColor(sr.color || PALETTE[i % PALETTE.length], 'chart', ctx.dark);
  const label = (row) => {
    const raw = row[xAxis.dataKey];
    return xAxis.labels && raw in xAxis.labels ? xAxis.labels[raw] : raw ?? '';
  };

  // Bars: one slot per stack id (or per series without one); stacked values add up.
  const bars = series.filter((x) => x.type === 'bar');
  const slots = [];
  for (const b of bars) {
    const id = b.stack ?? `__${b.dataKey}`;
    if (!slots.includes(id)) slots.push(id);
  }
  let max = 0;
  data.forEach((row) => {
    const stacks = {};
    for (const b of bars) {
      const id = b.stack ?? `__${b.dataKey}`;
      stacks[id] = (stacks[id] || 0) + num(row[b.dataKey]);
    }
    for (const v of Object.values(stacks)) max = Math.max(max, v);
    for (const sr of series) if (sr.type !== 'bar') max = Math.max(max, num(row[sr.dataKey]));
  });
  max = niceMax(max);

  const svg = s('svg', { viewBox: `0 0 ${W} ${height}`, role: 'img', class: 'ck-chart-svg' });
  const y = (v) => padT + plotH - (v / max) * plotH;
  const band = data.length ? plotW / data.length : plotW;
  const cx = (i) => padL + band * i + band / 2;

  if (showY) {
    for (let k = 0; k <= 4; k++) {
      const v = (max / 4) * k;
      svg.append(s('line', { x1: padL, x2: W - 8, y1: y(v), y2: y(v), class: 'ck-chart-grid' }));
      svg.append(s('text', { x: padL - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'ck-chart-tick' },
        Number.isInteger(v) ? v : v.toFixed(1)));
    }
  }
  if (!xAxis.hide) {
    data.forEach((row, i) => {
      svg.append(s('text', { x: cx(i), y: height - 8, 'text-anchor': 'middle', class: 'ck-chart-tick' }, label(row)));
    });
  }

  const gap = typeof n.barCategoryGap === 'number' ? n.barCategoryGap : band * 0.2;
  const inner = Math.max(1, band - gap);
  const barGap = typeof n.barGap === 'number' ? n.barGap : 2;
  const slotW = slots.length ? Math.max(1, (inner - barGap * (slots.length - 1)) / slots.length) : 0;
  data.forEach((row, i) => {
    const bases = {};
    bars.forEach((b) => {
      const id = b.stack ?? `__${b.dataKey}`;
      const slot = slots.indexOf(id);
      const v = num(row[b.dataKey]);
      const base = bases[id] || 0;
      bases[id] = base + v;
      const x = padL + band * i + gap / 2 + slot * (slotW + barGap);
      const rect = s('rect', { x, y: y(base + v), width: slotW, height: Math.max(0, y(base) - y(base + v)), class: 'ck-chart-bar' });
      rect.style.fill = color(b, series.indexOf(b));
      if (n.showTooltip !== false) rect.append(s('title', {}, `${label(row)} · ${b.label ?? b.dataKey}: ${row[b.dataKey] ?? ''}`));
      svg.append(rect);
    });
  });

  series.forEach((sr, si) => {
    if (sr.type !== 'line' && sr.type !== 'area') return;
    const pts = data.map((row, i) => [cx(i), y(num(row[sr.dataKey]))]);
    const d = linePath(pts, sr.curveType);
    if (sr.type === 'area' && pts.length) {
      const area = s('path', { d: `${d}L${pts[pts.length - 1][0]},${y(0)}L${pts[0][0]},${y(0)}Z`, class: 'ck-chart-area' });
      area.style.fill = color(sr, si);
      svg.append(area);
    }
    const path = s('path', { d, class: 'ck-chart-line' });
    path.style.stroke = color(sr, si);
    svg.append(path);
    pts.forEach(([px, py], i) => {
      const dot = s('circle', { cx: px, cy: py, r: 3.5, class: 'ck-chart-dot' });
      dot.style.fill = color(sr, si);
      if (n.showTooltip !== false) dot.append(s('title', {}, `${label(data[i])} · ${sr.label ?? sr.dataKey}: ${data[i][sr.dataKey] ?? ''}`));
      svg.append(dot);
    });
  });

  const summary = series
    .map((sr) => `${sr.label ?? sr.dataKey}: ${data.map((row) => `${label(row)} ${row[sr.dataKey] ?? ''}`).join(', ')}`)
    .join('; ');
  svg.setAttribute('aria-label', `${ctx.t('chart')}. ${summary}`);
  fig.append(svg);

  if (n.showLegend !== false && series.length > 1) {
    const legend = document.createElement('figcaption');
    legend.className = 'ck-chart-legend';
    series.forEach((sr, si) => {
      const item = document.createElement('span');
      const sw = document.createElement('i');
      sw.style.background = color(sr, si);
      item.append(sw, document.createTextNode(sr.label ?? sr.dataKey));
      legend.append(item);
    });
    fig.append(legend);
  }
  return fig;
}
