// The app page served at / and /chatkit: the assistant (our <chatkit-chat>, or OpenAI's hosted
// <openai-chatkit> when /ui/config.json says so) beside the task board, both acting for the
// same session. Problems reaching the server or minting a session show in a banner that says
// what to check.

import './app.css';
import '../chatkit/element.js';
import { isRtl } from '../chatkit/strings.js';
import { Board } from './board.js';
import { Sessions } from './session.js';
import { appTranslator } from './strings.js';

const params = new URLSearchParams(location.search);
const locale = params.get('locale') || navigator.language || 'en';
const t = appTranslator(locale);
const THEME_KEY = 'chatkitd.theme';
const THREAD_KEY = 'chatkitd.thread';

document.documentElement.lang = locale;
for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
document.documentElement.dir = isRtl(locale) ? 'rtl' : 'ltr';

const sessions = new Sessions();
const banner = document.getElementById('banner');
const problems = new Map(); // kind → message

function renderBanner() {
  banner.replaceChildren();
  banner.hidden = problems.size === 0;
  for (const [kind, { message, retry }] of problems) {
    const p = document.createElement('p');
    p.dataset.kind = kind;
    p.textContent = message;
    if (retry) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'app-btn';
      b.textContent = t('retry');
      b.dataset.testid = 'banner-retry';
      b.addEventListener('click', retry);
      p.append(' ', b);
    }
    banner.append(p);
  }
}

function problem(kind, message, retry) {
  problems.set(kind, { message, retry });
  renderBanner();
}

function recovered(kind) {
  if (problems.delete(kind)) renderBanner();
}

function describe(err) {
  if (err && err.network) return t('unreachable', { origin: location.origin });
  return t('sessionFailed', { reason: err && err.message ? err.message : String(err) });
}

// ---- theme ------------------------------------------------------------------------------

const themeToggle = document.getElementById('theme-toggle');
const systemDark = matchMedia('(prefers-color-scheme: dark)');

function scheme() {
  const saved = localStorage.getItem(THEME_KEY);
  if (saved === 'dark' || saved === 'light') return saved;
  return systemDark.matches ? 'dark' : 'light';
}

function applyScheme() {
  const s = scheme();
  document.documentElement.dataset.scheme = s;
  themeToggle.setAttribute('aria-pressed', String(s === 'dark'));
  if (chat && chat.setOptions && chatOptions) chat.setOptions({ ...chatOptions, theme: { ...chatOptions.theme, colorScheme: s } });
}

themeToggle.textContent = t('darkMode');
themeToggle.addEventListener('click', () => {
  localStorage.setItem(THEME_KEY, scheme() === 'dark' ? 'light' : 'dark');
  applyScheme();
});
systemDark.addEventListener('change', () => {
  if (!localStorage.getItem(THEME_KEY)) applyScheme();
});

// ---- chat -------------------------------------------------------------------------------

let chat = null;
let chatOptions = null;
let board = null;

async function readConfig() {
  try {
    const res = await fetch('/ui/config.json', { headers: { Accept: 'application/json' } });
    if (!res.ok) return { hosted: false };
    const cfg = await res.json();
    return { hosted: cfg.hosted === true, chatkit_script_url: String(cfg.chatkit_script_url || '') };
  } catch {
    return { hosted: false };
  }
}

function boardAsContext() {
  return board ? board.visible().map((task) => ({ id: task.id, title: task.title, status: task.status, due_date: task.due_date ?? null, priority: task.priority, tags: task.tags || [] })) : [];
}

function focusTask(taskId) {
  const row = document.querySelector(`[data-testid="board-row"][data-task-id="${CSS.escape(String(taskId))}"]`);
  if (!row) return false;
  row.scrollIntoView({ block: 'center', behavior: 'smooth' });
  row.classList.add('board-row-flash');
  setTimeout(() => row.classList.remove('board-row-flash'), 1500);
  row.querySelector('input, button')?.focus();
  return true;
}

function findTasks(query) {
  const q = query.toLowerCase();
  return (board ? [...board.tasks.values()] : []).filter((task) => task.title.toLowerCase().includes(q)).slice(0, 8);
}

function taskEntity(task) {
  return { id: task.id, title: task.title, group: t(task.status), icon: task.status === 'done' ? 'check-circle' : 'empty-circle', interactive: true, data: { task_id: task.id } };
}

/** The hover card of a mentioned task: a Basic widget root. */
function taskPreview(task) {
  const badges = [];
  if (task.due_date) badges.push({ type: 'Badge', label: t('dueOn', { date: task.due_date }), color: 'info' });
  if (task.priority !== 'normal') badges.push({ type: 'Badge', label: t(task.priority), color: task.priority === 'high' ? 'danger' : 'secondary' });
  for (const tag of task.tags || []) badges.push({ type: 'Badge', label: `#${tag}` });
  return {
    type: 'Basic', gap: 2, children: [
      { type: 'Text', value: task.title, weight: 'semibold', lineThrough: task.status === 'done' },
      ...(badges.length ? [{ type: 'Row', gap: 1, wrap: 'wrap', children: badges }] : []),
      ...(task.notes ? [{ type: 'Caption', value: task.notes, maxLines: 3 }] : []),
    ],
  };
}

const COMMANDS = [
  { id: 'list', label: t('cmdList'), description: t('cmdListHelp'), icon: 'notebook', text: t('promptListText') },
  { id: 'week', label: t('cmdWeek'), description: t('cmdWeekHelp'), icon: 'calendar', text: t('promptWeekText') },
  { id: 'task', label: t('cmdTask'), description: t('cmdTaskHelp'), icon: 'search' },
];

function ourChat(pane) {
  chat = document.createElement('chatkit-chat');
  chat.dataset.testid = 'chat';
  chatOptions = {
    api: {
      url: '/chatkit',
      getClientSecret: async (current) => {
        const s = current ? await sessions.refresh(current) : await sessions.get();
        return { client_secret: s.client_secret, expires_at: s.expires_at };
      },
      uploadStrategy: { type: 'two_phase' },
    },
    locale,
    initialThread: localStorage.getItem(THREAD_KEY) || null,
    theme: { colorScheme: scheme(), radius: 'round' },
    header: { enabled: true },
    history: { enabled: true, showDelete: true, showRename: true },
    startScreen: {
      greeting: t('greeting'),
      prompts: [
        { label: t('promptList'), prompt: t('promptListText'), icon: 'notebook' },
        { label: t('promptAdd'), prompt: t('promptAddText'), icon: 'plus' },
        { label: t('promptWeek'), prompt: t('promptWeekText'), icon: 'calendar' },
      ],
    },
    composer: {
      placeholder: t('composerPlaceholder'),
      attachments: { enabled: true, maxCount: 5, maxSize: 10 * 1024 * 1024 },
    },
    threadItemActions: { feedback: true, retry: true },
    disclaimer: { text: t('disclaimer') },
    entities: {
      // @-mentions pick tasks from the board; the tag carries the task id to the server.
      onTagSearch: async (query) => findTasks(query).map(taskEntity),
      showComposerMenu: true,
      onClick: (entity) => focusTask(entity.data && entity.data.task_id ? entity.data.task_id : entity.id),
      onRequestPreview: async (entity) => {
        const task = board && board.tasks.get(entity.data && entity.data.task_id ? entity.data.task_id : entity.id);
        return { preview: task ? taskPreview(task) : null };
      },
    },
    commands: {
      enabled: true,
      onSearch: async (query) => COMMANDS.filter((c) => c.label.toLowerCase().includes(query.toLowerCase()) || c.id.startsWith(query)),
      onSelect: async (command) => {
        if (command.id === 'task') return { type: 'menu', commands: findTasks('').map((task) => ({ id: `task:${task.id}`, label: task.title, group: t(task.status) })) };
        if (command.id.startsWith('task:')) {
          const task = board && board.tasks.get(command.id.slice(5));
          return task ? { type: 'entity', entity: taskEntity(task) } : undefined;
        }
        const chosen = COMMANDS.find((c) => c.id === command.id);
        if (chosen && chosen.text) await chat.setComposerValue({ text: chosen.text });
        return undefined;
      },
    },
    widgets: {
      onAction: async (action) => {
        const id = action.payload && (action.payload.task_id || action.payload.id);
        if (id) focusTask(id);
      },
    },
    onClientTool: async ({ name }) => {
      if (name === 'get_board' || name === 'get_selected_tasks' || name === 'get_visible_tasks') {
        return { tasks: boardAsContext() };
      }
      throw new Error(`this page has no client tool named ${name}`);
    },
  };
  chat.addEventListener('chatkit.thread.change', (ev) => {
    if (ev.detail.threadId) localStorage.setItem(THREAD_KEY, ev.detail.threadId);
    else localStorage.removeItem(THREAD_KEY);
  });
  chat.addEventListener('chatkit.effect', (ev) => {
    if (/task/i.test(ev.detail.name) && board) board.reload().catch(() => {});
  });
  chat.addEventListener('chatkit.error', (ev) => {
    const err = ev.detail.error;
    if (err && (err.code === 'network_error' || /getClientSecret/.test(err.message))) {
      problem('chat', err.code === 'network_error' ? t('unreachable', { origin: location.origin }) : describe(err.cause || err), null);
    }
  });
  chat.addEventListener('chatkit.ready', () => recovered('chat'));
  chat.addEventListener('chatkit.response.end', () => recovered('chat'));
  pane.append(chat);
  chat.setOptions(chatOptions);
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.async = true;
    s.onload = resolve;
    s.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.append(s);
  });
}

async function hostedChat(pane, cfg) {
  await loadScript(cfg.chatkit_script_url);
  await customElements.whenDefined('openai-chatkit');
  chat = document.createElement('openai-chatkit');
  chat.dataset.testid = 'chat';
  pane.append(chat);
  chat.setOptions({
    api: {
      getClientSecret: async (current) => (current ? await sessions.refresh(current) : await sessions.get()).client_secret,
    },
    locale,
    theme: { colorScheme: scheme() },
  });
}

// ---- start ------------------------------------------------------------------------------

async function startBoard() {
  const section = document.getElementById('board');
  board = new Board(section, sessions, t, {
    locale,
    onProblem: (kind, err) => problem(kind, err && err.network ? t('unreachable', { origin: location.origin }) : t('liveLost'), null),
    onRecovered: (kind) => recovered(kind),
  });
  try {
    await board.start();
  } catch (err) {
    problem('board', describe(err), () => {
      recovered('board');
      startBoard();
    });
  }
}

async function start() {
  applyScheme();
  const pane = document.getElementById('chat-pane');
  pane.setAttribute('aria-label', t('assistant'));
  const cfg = await readConfig();
  try {
    await sessions.get();
    recovered('session');
  } catch (err) {
    problem('session', describe(err), () => {
      recovered('session');
      start();
    });
    return;
  }
  if (!chat) {
    if (cfg.hosted && cfg.chatkit_script_url) {
      try {
        await hostedChat(pane, cfg);
      } catch (err) {
        problem('chat', t('hostedFailed', { url: cfg.chatkit_script_url, reason: err.message }), null);
      }
    } else ourChat(pane);
  }
  if (!board) startBoard();
}

start();
