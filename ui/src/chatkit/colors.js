// Widget colour values → CSS. A value is a palette token (`secondary`, `surface-elevated`,
// `blue-400`, `alpha-70`, chart tokens…), a {light, dark} pair, or a CSS colour/gradient.
// Tokens resolve to the element's custom properties, so themes restyle widgets too; ramps are
// computed from a hue table, with lightness mirrored in dark mode so `gray-100` stays a quiet
// background there.

const TEXT_TOKENS = new Set([
  'prose', 'primary', 'emphasis', 'secondary', 'tertiary', 'success', 'warning', 'danger', 'info',
  'discovery', 'caution', 'default',
]);
const SURFACE_TOKENS = new Set([
  'surface', 'surface-secondary', 'surface-tertiary', 'surface-elevated',
  'surface-elevated-secondary',
]);
const BORDER_TOKENS = new Set(['default', 'subtle', 'strong']);
const HUES = {
  gray: [220, 9], slate: [215, 16], red: [0, 78], orange: [25, 90], amber: [38, 92],
  yellow: [48, 90], lime: [84, 70], green: [142, 60], emerald: [152, 65], teal: [173, 65],
  cyan: [189, 80], sky: [199, 85], blue: [217, 85], indigo: [239, 75], violet: [258, 80],
  purple: [270, 75], fuchsia: [292, 75], pink: [330, 75], rose: [350, 80],
};
const STEP_LIGHTNESS = {
  25: 98.5, 50: 97, 100: 94, 150: 90, 200: 86, 300: 77, 400: 65, 500: 55, 600: 46, 700: 38,
  800: 29, 900: 21, 950: 13, 1000: 8,
};
const CHART_TOKENS = new Set(['blue', 'purple', 'orange', 'green', 'red', 'yellow', 'pink']);

function ramp(name, step, dark) {
  const [h, s] = HUES[name];
  let l = STEP_LIGHTNESS[step];
  if (l === undefined) return null;
  if (dark) l = Math.min(96, 104 - l);
  return `hsl(${h} ${name === 'gray' || name === 'slate' ? s : s - (dark ? 10 : 0)}% ${l}%)`;
}

/**
 * @param {string|{light:string,dark:string}|undefined} value
 * @param {'text'|'background'|'border'|'chart'} kind where the colour is used
 * @param {boolean} dark whether the widget renders in dark mode
 * @returns {string} a CSS value, or '' when the value is not a colour we accept
 */
export function resolveColor(value, kind, dark) {
  if (value == null || value === '') return '';
  if (typeof value === 'object') return resolveColor(dark ? value.dark : value.light, kind, dark);
  const v = String(value).trim();
  if (kind === 'chart' && CHART_TOKENS.has(v)) return `var(--ck-chart-${v})`;
  if (kind === 'border' && BORDER_TOKENS.has(v)) return `var(--ck-border-${v})`;
  if (SURFACE_TOKENS.has(v)) return `var(--ck-${v})`;
  if (TEXT_TOKENS.has(v)) {
    return kind === 'background' ? `var(--ck-bg-${v}, var(--ck-text-${v}))` : `var(--ck-text-${v})`;
  }
  let m = /^alpha-(\d{1,3})$/.exec(v);
  if (m) return `color-mix(in srgb, var(--ck-text-primary) ${Math.min(100, Number(m[1]))}%, transparent)`;
  m = /^([a-z]+)-(\d{2,4})$/.exec(v);
  if (m && HUES[m[1]]) return ramp(m[1], Number(m[2]), dark) || '';
  if (CHART_TOKENS.has(v)) return `var(--ck-chart-${v})`;
  if (typeof CSS !== 'undefined') {
    if (CSS.supports('color', v)) return v;
    if (kind === 'background' && /gradient\(/.test(v) && !/url\(/i.test(v) && CSS.supports('background-image', v)) return v;
  }
  return '';
}
