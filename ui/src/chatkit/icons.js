// The icon set: ChatKit's icon names (spec-protocol §15, spec-client §1.5) drawn as small stroked
// SVG paths on a 24×24 grid. Names that are variants of one idea share a drawing. `lucide:` and
// `vendor:` names and unknown names fall back to a neutral dot: the UI never loads icons from
// elsewhere.

const P = {
  circle: 'M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18z',
  check: 'M5 12.5l4.5 4.5L19 7.5',
  chevronL: 'M15 5l-7 7l7 7',
  chevronR: 'M9 5l7 7l-7 7',
  plus: 'M12 5v14M5 12h14',
  dotsH: 'M5 12h.01M12 12h.01M19 12h.01',
  dotsV: 'M12 5v.01M12 12v.01M12 19v.01',
  book: 'M4 5a2 2 0 0 1 2-2h13v16H6a2 2 0 0 0-2 2zM4 21V5',
  bookOpen: 'M3 5h6a3 3 0 0 1 3 3v12a2 2 0 0 0-2-2H3zM21 5h-6a3 3 0 0 0-3 3v12a2 2 0 0 1 2-2h7z',
  calendar: 'M4 6h16v14H4zM4 10h16M8 3v4M16 3v4',
  clock: 'M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18zM12 7v5l3 2',
  bolt: 'M13 2L4 14h7l-1 8l9-12h-7z',
  bug: 'M8 8h8v8a4 4 0 0 1-8 0zM12 8V5M9 5l1.5 1.5M15 5l-1.5 1.5M4 12h4M16 12h4M5 18l3-2M19 18l-3-2',
  chart: 'M4 20V4M4 20h16M8 16v-5M12 16V8M16 16v-8',
  document: 'M6 3h8l4 4v14H6zM14 3v4h4M9 12h6M9 16h6',
  globe: 'M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18zM3 12h18M12 3c3 3.5 3 14.5 0 18M12 3c-3 3.5-3 14.5 0 18',
  info: 'M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18zM12 11v6M12 7.5v.01',
  question: 'M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18zM9.5 9a2.5 2.5 0 1 1 3.5 2.3c-.7.4-1 1-1 1.7M12 16.5v.01',
  lightbulb: 'M9 18h6M10 21h4M12 3a6 6 0 0 0-3.5 10.9c.6.5 1 1.2 1 2.1h5c0-.9.4-1.6 1-2.1A6 6 0 0 0 12 3z',
  mail: 'M3 6h18v12H3zM3 6l9 7l9-7',
  pin: 'M12 21s-6-5.6-6-11a6 6 0 0 1 12 0c0 5.4-6 11-6 11zM12 8a2 2 0 1 0 0 4a2 2 0 1 0 0-4z',
  map: 'M9 4L3 6v14l6-2l6 2l6-2V4l-6 2zM9 4v14M15 6v14',
  phone: 'M5 4h4l2 5l-2.5 1.5a11 11 0 0 0 5 5L15 13l5 2v4a2 2 0 0 1-2 2A16 16 0 0 1 3 6a2 2 0 0 1 2-2',
  mobile: 'M7 3h10v18H7zM11 18h2',
  desktop: 'M3 4h18v12H3zM8 20h8M12 16v4',
  play: 'M7 4l13 8l-13 8z',
  profile: 'M12 4a4 4 0 1 0 0 8a4 4 0 1 0 0-8zM4 21a8 8 0 0 1 16 0',
  card: 'M3 5h18v14H3zM9 9a2 2 0 1 0 0 4a2 2 0 1 0 0-4zM6 17a3 3 0 0 1 6 0M14 10h4M14 14h4',
  reload: 'M20 11a8 8 0 1 0-2.3 5.7M20 4v7h-7',
  star: 'M12 3l2.8 5.7l6.2.9l-4.5 4.4l1 6.2L12 17.3L6.5 20.2l1-6.2L3 9.6l6.2-.9z',
  search: 'M11 4a7 7 0 1 0 0 14a7 7 0 1 0 0-14zM16 16l5 5',
  sparkle: 'M12 3l2 6l6 2l-6 2l-2 6l-2-6l-6-2l6-2z',
  sparkle2: 'M10 4l1.6 4.4L16 10l-4.4 1.6L10 16l-1.6-4.4L4 10l4.4-1.6zM18 14l.9 2.1L21 17l-2.1.9L18 20l-.9-2.1L15 17l2.1-.9z',
  code: 'M4 4h16v16H4zM10 9l-3 3l3 3M14 9l3 3l-3 3',
  image: 'M4 4h16v16H4zM4 16l5-5l5 5M13 14l2-2l5 5M15 8.5a1 1 0 1 0 0 .01',
  text: 'M4 4h16v16H4zM8 9h8M8 13h8M8 17h5',
  suitcase: 'M3 8h18v12H3zM9 8V5h6v3M3 13h18',
  sliders: 'M4 7h10M18 7h2M4 17h4M12 17h8M14 5v4M8 15v4',
  user: 'M12 4a4 4 0 1 0 0 8a4 4 0 1 0 0-8zM5 21a7 7 0 0 1 14 0',
  write: 'M4 20h4L19 9l-4-4L4 16zM13 7l4 4',
  notebook: 'M6 3h12v18H6zM9 3v18M12 8h4M12 12h4',
  page: 'M6 3h8l4 4v14H6zM14 3v4h4',
  cube: 'M12 3l8 4.5v9L12 21l-8-4.5v-9zM12 12l8-4.5M12 12v9M12 12L4 7.5',
  atom: 'M12 11a1 1 0 1 0 0 2a1 1 0 1 0 0-2zM12 4c5 0 9 3.6 9 8s-4 8-9 8s-9-3.6-9-8s4-8 9-8',
  agent: 'M7 8h10v10H7zM12 4v4M9.5 12v.01M14.5 12v.01M10 15h4M4 12h3M17 12h3',
  batch: 'M4 6h12v12H4zM8 2h12v12',
  compass: 'M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18zM15.5 8.5l-2 5l-5 2l2-5z',
  confetti: 'M4 20l4-11l7 7zM14 4v2M18 6l-1.5 1.5M20 10h-2M11 4l1 2',
  external: 'M14 4h6v6M20 4l-9 9M18 14v6H4V6h6',
  keys: 'M8 10a4 4 0 1 0 0 8a4 4 0 1 0 0-8zM11 12l9-9M17 6l3 3M15 8l2 2',
  lab: 'M9 3h6M10 3v6l-5 10a1.5 1.5 0 0 0 1.3 2h11.4a1.5 1.5 0 0 0 1.3-2L14 9V3M7 15h10',
  lifesaver: 'M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18zM12 8a4 4 0 1 0 0 8a4 4 0 1 0 0-8zM5.6 5.6l3.6 3.6M14.8 14.8l3.6 3.6M18.4 5.6l-3.6 3.6M9.2 14.8l-3.6 3.6',
  name: 'M4 6h16v12H4zM8 10h8M8 14h5',
  wreath: 'M12 20c-5 0-8-4-8-9M12 20c5 0 8-4 8-9M6 8l-1-3M18 8l1-3M12 20v-4',
  close: 'M6 6l12 12M18 6L6 18',
  menu: 'M4 7h16M4 12h16M4 17h16',
  sidebar: 'M3 4h18v16H3zM9 4v16',
  home: 'M4 11l8-7l8 7M6 9.5V20h12V9.5',
  back: 'M19 12H5M11 6l-6 6l6 6',
  history: 'M4 12a8 8 0 1 0 2.3-5.7M4 4v5h5M12 8v4l3 2',
  compose: 'M4 20h4L19 9l-4-4L4 16zM13 7l4 4M14 20h6',
  share: 'M12 3v12M7 8l5-5l5 5M5 13v7h14v-7',
  settings: 'M12 9a3 3 0 1 0 0 6a3 3 0 1 0 0-6zM12 2v3M12 19v3M4.2 4.2l2.1 2.1M17.7 17.7l2.1 2.1M2 12h3M19 12h3M4.2 19.8l2.1-2.1M17.7 6.3l2.1-2.1',
  grid: 'M4 4h7v7H4zM13 4h7v7h-7zM4 13h7v7H4zM13 13h7v7h-7z',
  sun: 'M12 8a4 4 0 1 0 0 8a4 4 0 1 0 0-8zM12 2v2M12 20v2M4 12H2M22 12h-2M5 5l1.5 1.5M17.5 17.5L19 19M5 19l1.5-1.5M17.5 6.5L19 5',
  moon: 'M20 14.5A8 8 0 1 1 9.5 4a6.5 6.5 0 0 0 10.5 10.5z',
  attach: 'M20 11l-8 8a5 5 0 0 1-7-7l8-8a3.5 3.5 0 0 1 5 5l-8 8a2 2 0 0 1-3-3l7-7',
  mic: 'M9 5a3 3 0 0 1 6 0v6a3 3 0 0 1-6 0zM5 11a7 7 0 0 0 14 0M12 18v3',
  send: 'M12 19V5M6 11l6-6l6 6',
  stop: 'M7 7h10v10H7z',
  copy: 'M9 9h11v11H9zM5 15H4V4h11v1',
  thumbUp: 'M7 11v9H4v-9zM7 11l4-8a2 2 0 0 1 2 2v4h6a2 2 0 0 1 2 2l-2 7a2 2 0 0 1-2 2H7',
  thumbDown: 'M7 13V4H4v9zM7 13l4 8a2 2 0 0 0 2-2v-4h6a2 2 0 0 0 2-2l-2-7a2 2 0 0 0-2-2H7',
  trash: 'M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13',
  warning: 'M12 3l10 18H2zM12 10v5M12 18v.01',
};

const FILLED = { 'star-filled': 'star', 'check-circle-filled': 'circle', dot: 'circle' };

const NAMES = {
  agent: 'agent', analytics: 'chart', atom: 'atom', batch: 'batch', bolt: 'bolt',
  'book-open': 'bookOpen', 'book-closed': 'book', 'book-clock': 'book', bug: 'bug',
  calendar: 'calendar', chart: 'chart', check: 'check', 'check-circle': ['circle', 'check'],
  'check-circle-filled': ['circle', 'check'], 'chevron-left': 'chevronL', 'chevron-right': 'chevronR',
  'circle-question': 'question', clock: 'clock', compass: 'compass', confetti: 'confetti',
  cube: 'cube', desktop: 'desktop', document: 'document', dot: 'circle',
  'dots-horizontal': 'dotsH', 'dots-vertical': 'dotsV', 'empty-circle': 'circle',
  'external-link': 'external', globe: 'globe', keys: 'keys', lab: 'lab', images: 'image',
  info: 'info', lifesaver: 'lifesaver', lightbulb: 'lightbulb', mail: 'mail', 'map-pin': 'pin',
  maps: 'map', mobile: 'mobile', name: 'name', notebook: 'notebook',
  'notebook-pencil': ['notebook', 'write'], 'page-blank': 'page', phone: 'phone', play: 'play',
  plus: 'plus', profile: 'profile', 'profile-card': 'card', reload: 'reload', star: 'star',
  'star-filled': 'star', search: 'search', sparkle: 'sparkle', 'sparkle-double': 'sparkle2',
  'square-code': 'code', 'square-image': 'image', 'square-text': 'text', suitcase: 'suitcase',
  'settings-slider': 'sliders', user: 'user', wreath: 'wreath', write: 'write',
  'write-alt': 'compose', 'write-alt2': 'compose',
  // header icons (spec-client §1.4) and the element's own buttons
  close: 'close', menu: 'menu', 'menu-inverted': 'menu', hamburger: 'menu', home: 'home',
  'home-alt': 'home', 'back-small': 'back', 'back-large': 'back', history: 'history',
  compose: 'compose', share: 'share', 'settings-cog': 'settings', grid: 'grid',
  'light-mode': 'sun', 'dark-mode': 'moon', 'chat-temporary': 'text', 'open-left': 'chevronL',
  'open-right': 'chevronR', 'double-chevron-left': 'chevronL', 'double-chevron-right': 'chevronR',
  'sidebar-left': 'sidebar', 'sidebar-right': 'sidebar', 'sidebar-open-left': 'sidebar',
  'sidebar-open-right': 'sidebar', 'sidebar-collapse-left': 'sidebar',
  'sidebar-collapse-right': 'sidebar', 'collapse-left': 'chevronL', 'collapse-right': 'chevronR',
  'expand-left': 'chevronL', 'expand-right': 'chevronR', 'dots-horizontal-circle': 'dotsH',
  attach: 'attach', mic: 'mic', send: 'send', stop: 'stop', copy: 'copy', 'thumb-up': 'thumbUp',
  'thumb-down': 'thumbDown', trash: 'trash', warning: 'warning',
};

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An <svg> element for `name` (aria-hidden: icons are decoration; labels carry meaning). */
export function icon(name, className = 'ck-icon') {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', className);
  const key = NAMES[String(name || '')] ?? 'circle';
  const parts = Array.isArray(key) ? key : [key];
  for (const part of parts) {
    const path = document.createElementNS(SVG_NS, 'path');
    path.setAttribute('d', P[part]);
    svg.append(path);
  }
  if (FILLED[name] || name === 'check-circle-filled') svg.classList.add('ck-icon-filled');
  return svg;
}

