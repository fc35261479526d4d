// The string table: every piece of UI text the element shows, per locale. Missing keys fall
// back to English. `{name}` placeholders are filled by t(). Locales whose script runs right to
// left are listed in RTL_LANGS; the element sets dir="rtl" for them.

const en = {
  chat: 'Chat',
  greeting: 'What can I help with today?',
  placeholder: 'Message the AI',
  send: 'Send message',
  stop: 'Stop response',
  attach: 'Attach files',
  removeAttachment: 'Remove {name}',
  uploading: 'Uploading {name}…',
  uploadFailed: 'Could not upload {name}: {reason}',
  tooLarge: '{name} is larger than {size}',
  tooMany: 'At most {count} attachments per message',
  typeNotAccepted: '{name}: this file type is not accepted',
  dropFiles: 'Drop files to attach them',
  newChat: 'New chat',
  history: 'Conversation history',
  showHistory: 'Show history',
  hideHistory: 'Close history',
  noThreads: 'No conversations yet',
  loadMore: 'Load more',
  loadOlder: 'Load earlier messages',
  rename: 'Rename',
  renamePrompt: 'New title',
  save: 'Save',
  cancel: 'Cancel',
  delete: 'Delete',
  deleteConfirm: 'Delete “{title}”?',
  untitled: 'Untitled conversation',
  you: 'You',
  assistant: 'Assistant',
  copy: 'Copy',
  copied: 'Copied',
  copyCode: 'Copy code',
  retry: 'Retry',
  goodResponse: 'Good response',
  badResponse: 'Bad response',
  feedbackThanks: 'Thanks for the feedback',
  responding: 'The assistant is responding…',
  responseDone: 'The assistant answered: {text}',
  responseStopped: 'Response stopped',
  errorGeneric: 'Something went wrong while generating the response.',
  errorRequest: 'The request failed: {reason}',
  threadLocked: 'This conversation is locked.',
  threadClosed: 'This conversation is closed.',
  showMore: 'Show more',
  showLess: 'Show less',
  steps: 'Steps',
  thoughtFor: 'Thought for {seconds}s',
  toolRunning: 'Running {name}…',
  toolDone: 'Ran {name}',
  toolFailed: '{name} failed: {reason}',
  questions: 'Questions',
  skip: 'Skip',
  submitAnswers: 'Submit answers',
  answered: 'Answered',
  skipped: 'Skipped',
  otherAnswer: 'Other answer',
  generatingImage: 'Generating image…',
  generatedImage: 'Generated image',
  tools: 'Tools',
  model: 'Model',
  noTool: 'No tool',
  clear: 'Clear',
  messages: 'Messages',
  composer: 'Message composer',
  sources: 'Sources',
  math: 'Formula',
  imageBlocked: 'Image from another site (not loaded): {alt}',
  quoted: 'Replying to',
  mentions: 'Mention',
  commands: 'Commands',
  preview: 'Preview',
  notice: 'Notice',
  dismiss: 'Dismiss',
  chart: 'Chart',
};

const fr = {
  chat: 'Discussion',
  greeting: 'Comment puis-je vous aider aujourd’hui ?',
  placeholder: 'Écrire à l’assistant',
  send: 'Envoyer le message',
  stop: 'Arrêter la réponse',
  attach: 'Joindre des fichiers',
  removeAttachment: 'Retirer {name}',
  uploading: 'Envoi de {name}…',
  uploadFailed: 'Impossible d’envoyer {name} : {reason}',
  dropFiles: 'Déposez des fichiers pour les joindre',
  newChat: 'Nouvelle discussion',
  history: 'Historique des discussions',
  showHistory: 'Afficher l’historique',
  hideHistory: 'Fermer l’historique',
  noThreads: 'Aucune discussion',
  loadMore: 'Charger plus',
  rename: 'Renommer',
  save: 'Enregistrer',
  cancel: 'Annuler',
  delete: 'Supprimer',
  deleteConfirm: 'Supprimer « {title} » ?',
  untitled: 'Discussion sans titre',
  you: 'Vous',
  assistant: 'Assistant',
  copy: 'Copier',
  copied: 'Copié',
  copyCode: 'Copier le code',
  retry: 'Réessayer',
  goodResponse: 'Bonne réponse',
  badResponse: 'Mauvaise réponse',
  responding: 'L’assistant répond…',
  responseStopped: 'Réponse arrêtée',
  errorGeneric: 'Une erreur est survenue pendant la réponse.',
  showMore: 'Afficher plus',
  showLess: 'Afficher moins',
  skip: 'Passer',
  messages: 'Messages',
};

const ar = {
  chat: 'محادثة',
  greeting: 'كيف يمكنني مساعدتك اليوم؟',
  placeholder: 'اكتب رسالة',
  send: 'إرسال الرسالة',
  stop: 'إيقاف الرد',
  attach: 'إرفاق ملفات',
  newChat: 'محادثة جديدة',
  history: 'سجل المحادثات',
  showHistory: 'عرض السجل',
  hideHistory: 'إغلاق السجل',
  noThreads: 'لا توجد محادثات بعد',
  rename: 'إعادة تسمية',
  save: 'حفظ',
  cancel: 'إلغاء',
  delete: 'حذف',
  untitled: 'محادثة بلا عنوان',
  you: 'أنت',
  assistant: 'المساعد',
  copy: 'نسخ',
  copied: 'تم النسخ',
  retry: 'إعادة المحاولة',
  responding: 'المساعد يرد…',
  errorGeneric: 'حدث خطأ أثناء إنشاء الرد.',
  messages: 'الرسائل',
};

const he = {
  chat: 'צ׳אט',
  greeting: 'במה אפשר לעזור היום?',
  placeholder: 'כתבו הודעה',
  send: 'שליחת הודעה',
  stop: 'עצירת התשובה',
  newChat: 'שיחה חדשה',
  history: 'היסטוריית שיחות',
  copy: 'העתקה',
  retry: 'ניסיון חוזר',
  messages: 'הודעות',
};

const TABLES = { en, fr, ar, he };
const RTL_LANGS = new Set(['ar', 'he', 'fa', 'ur', 'ps', 'sd', 'yi', 'dv', 'ckb', 'ug']);

/** The language part of a BCP 47 tag, lowercased ("ar-EG" → "ar"). */
export function baseLanguage(locale) {
  return String(locale || 'en').toLowerCase().split(/[-_]/)[0];
}

export function isRtl(locale) {
  return RTL_LANGS.has(baseLanguage(locale));
}

/** Builds t(key, vars) for a locale. */
export function translator(locale) {
  const table = TABLES[baseLanguage(locale)] || en;
  return (key, vars) => {
    let s = table[key] ?? en[key] ?? key;
    if (vars) s = s.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
    return s;
  };
}
