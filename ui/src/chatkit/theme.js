// ChatKit's ThemeOption (spec-client §1.3) → the element's CSS custom properties, set through
// the CSSOM on the element's inner root (where the light/dark palettes are defined), so what the
// option sets wins over both schemes' defaults; properties the option leaves alone keep the
// stylesheet's values and whatever the page set.

const RADII = { pill: ['999px', '16px'], round: ['12px', '12px'], soft: ['8px', '8px'], sharp: ['2px', '0px'] };
const DENSITY = { compact: '3px', normal: '4px', spacious: '5px' };

const PROPS = [
  '--ck-accent', '--ck-accent-fg', '--ck-radius-control', '--ck-radius', '--ck-space',
  '--ck-font-size', '--ck-font', '--ck-font-mono', '--ck-surface', '--ck-text-primary',
  '--ck-gray-hue', '--ck-gray-sat', '--ck-gray-shift',
];

/** Which scheme to use: the option, else the user's system preference. */
export function colorScheme(theme) {
  if (theme === 'light' || theme === 'dark') return theme;
  if (theme && (theme.colorScheme === 'light' || theme.colorScheme === 'dark')) return theme.colorScheme;
  return window.matchMedia && matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

/** Applies `theme` to `host` (clearing what a previous theme set); answers font faces to load. */
export function applyTheme(host, theme) {
  for (const p of PROPS) host.style.removeProperty(p);
  const t = theme && typeof theme === 'object' ? theme : {};
  const set = (name, value) => {
    if (value !== undefined && value !== null && value !== '') host.style.setProperty(name, String(value));
  };
  if (t.radius && RADII[t.radius]) {
    set('--ck-radius-control', RADII[t.radius][0]);
    set('--ck-radius', RADII[t.radius][1]);
  }
  if (t.density) set('--ck-space', DENSITY[t.density]);
  const typo = t.typography || {};
  if ([14, 15, 16, 17, 18].includes(typo.baseSize)) set('--ck-font-size', `${typo.baseSize}px`);
  if (typo.fontFamily) set('--ck-font', typo.fontFamily);
  if (typo.fontFamilyMono) set('--ck-font-mono', typo.fontFamilyMono);
  const color = t.color || {};
  if (color.accent && color.accent.primary && CSS.supports('color', color.accent.primary)) {
    const level = Math.max(0, Math.min(3, Number(color.accent.level ?? 1)));
    // Higher levels use the colour more fully; level 0 keeps it close to the grayscale.
    set('--ck-accent', level >= 3 ? color.accent.primary
      : `color-mix(in srgb, ${color.accent.primary} ${55 + level * 15}%, var(--ck-text-primary))`);
    set('--ck-accent-fg', readableOn(host, color.accent.primary));
  }
  if (color.grayscale && typeof color.grayscale.hue === 'number') {
    set('--ck-gray-hue', color.grayscale.hue);
    set('--ck-gray-sat', `${Math.max(0, Math.min(9, color.grayscale.tint ?? 0)) * 4}%`);
    set('--ck-gray-shift', `${Math.max(-4, Math.min(4, color.grayscale.shade ?? 0)) * 2}%`);
  }
  if (color.surface) {
    if (CSS.supports('color', color.surface.background || '')) set('--ck-surface', color.surface.background);
    if (CSS.supports('color', color.surface.foreground || '')) set('--ck-text-primary', color.surface.foreground);
  }
  return Array.isArray(typo.fontSources) ? typo.fontSources : [];
}

/** Black or white, whichever reads better on `color` (by relative luminance). */
function readableOn(el, color) {
  const probe = document.createElement('span');
  probe.style.color = color;
  el.append(probe);
  const rgb = getComputedStyle(probe).color.match(/[\d.]+/g) || ['0', '0', '0'];
  probe.remove();
  const [r, g, b] = rgb.slice(0, 3).map((v) => {
    const c = Number(v) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.4 ? '#0b1220' : '#ffffff';
}

const loadedFonts = new Set();

/** Loads webfonts from `fontSources` through the FontFace API (same-origin under our CSP). */
export function loadFonts(sources, log) {
  for (const f of sources) {
    if (!f || !f.family || !f.src) continue;
    const key = JSON.stringify(f);
    if (loadedFonts.has(key)) continue;
    loadedFonts.add(key);
    const face = new FontFace(f.family, `url(${JSON.stringify(String(f.src))})`, {
      weight: f.weight != null ? String(f.weight) : 'normal',
      style: f.style || 'normal',
      display: f.display || 'swap',
      ...(f.unicodeRange ? { unicodeRange: f.unicodeRange } : {}),
    });
    document.fonts.add(face);
    face.load().catch(() => log('font.load_failed', { family: f.family }));
  }
}
