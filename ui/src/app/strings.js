// The app page's string table (the board, banner and header); same conventions as the
// element's table in ../chatkit/strings.js.

import { baseLanguage } from '../chatkit/strings.js';

const en = {
  title: 'Tasks',
  subtitle: 'with the chatkitd assistant',
  darkMode: 'Dark mode',
  assistant: 'Assistant',
  board: 'Task board',
  loading: 'Loading tasks…',
  addTask: 'Add task',
  newTitle: 'New task',
  newTitlePlaceholder: 'What needs doing?',
  due: 'Due date',
  dueTime: 'Due time',
  priority: 'Priority',
  tags: 'Tags',
  tagsPlaceholder: 'home, work',
  notes: 'Notes',
  low: 'Low',
  normal: 'Normal',
  high: 'High',
  anyPriority: 'Any priority',
  status: 'Status',
  open: 'Open',
  done: 'Done',
  all: 'All',
  tag: 'Tag',
  anyTag: 'Any tag',
  search: 'Search tasks',
  filters: 'Filters',
  noTasks: 'No tasks match.',
  complete: 'Mark “{title}” done',
  reopen: 'Mark “{title}” open',
  edit: 'Edit “{title}”',
  delete: 'Delete “{title}”',
  save: 'Save',
  cancel: 'Cancel',
  dueOn: 'due {date}',
  overdue: 'overdue',
  counts: '{open} open · {done} done',
  saveFailed: 'Could not save: {reason}',
  liveLost: 'Live updates from the server stopped; reconnecting…',
  unreachable: 'The chatkitd server at {origin} cannot be reached. Check that it is running (`make run`, or `chatkitd serve --listen …`), that this page was opened from the address it listens on, and that no proxy blocks {origin}/api.',
  sessionFailed: 'Could not start a chat session ({reason}). Check the server log for the /api/chatkit/sessions request, that cookies are allowed for this site, and --trust-user-header if a proxy sets the user.',
  retry: 'Retry',
  taskAdded: 'Task added: {title}',
  taskDeleted: 'Task deleted: {title}',
  taskUpdated: 'Task updated: {title}',
};

const fr = {
  title: 'Tâches',
  subtitle: 'avec l’assistant chatkitd',
  darkMode: 'Mode sombre',
  board: 'Tableau des tâches',
  addTask: 'Ajouter',
  newTitle: 'Nouvelle tâche',
  due: 'Échéance',
  priority: 'Priorité',
  tags: 'Étiquettes',
  low: 'Basse',
  normal: 'Normale',
  high: 'Haute',
  open: 'Ouvertes',
  done: 'Terminées',
  all: 'Toutes',
  save: 'Enregistrer',
  cancel: 'Annuler',
  noTasks: 'Aucune tâche.',
  retry: 'Réessayer',
};

const TABLES = { en, fr };

export function appTranslator(locale) {
  const table = TABLES[baseLanguage(locale)] || en;
  return (key, vars) => {
    let s = table[key] ?? en[key] ?? key;
    if (vars) s = s.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
    return s;
  };
}
