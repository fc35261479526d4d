/* nlu.h - what an everyday task request means, for the offline agent builtin:tasks.
 *
 * nlu_parse() turns one user message into one intent: a kind (add, list, complete, ...) and the
 * fields that kind needs. It is deterministic, needs no model and no network, allocates nothing
 * (the intent is a fixed-size struct) and reads dates relative to the caller's "today" (see
 * dates.h for every date and time phrase). The agent runtime turns intents into the same tool
 * calls an LLM would make, asks for confirmation where the intent says so, and answers UNKNOWN
 * with help.
 *
 * Reading rules worth knowing:
 *   - Case and punctuation do not matter for matching; politeness ("please", "can you", "could
 *     you", "hey") is skipped. "remind me to", "don't forget to", "I need to", "I have to",
 *     "to-do:" (with or without the hyphen), "task:" start an ADD whatever follows. A message
 *     with no command word but with a due date/time, a priority or a #tag ("dentist friday
 *     3pm") is an ADD too, unless it holds nothing but list words ("due tomorrow?", "overdue"),
 *     a LIST, or nothing but a priority ("!!"), UNKNOWN. An ADD with a time and no date is due
 *     today.
 *   - Titles (ADD) and new titles (RENAME) keep the user's text as typed: case, non-ASCII
 *     letters, inner punctuation. Command words, the date/time phrase, priority words and tags
 *     are cut out of an ADD (a RENAME keeps everything after its "to": "Friday review" stays);
 *     the rest is trimmed and loses trailing punctuation. Text in double quotes is kept
 *     verbatim and never read as a command, a date or a priority.
 *   - Priority: high, urgent, important, asap, critical, top priority, p1, a standalone "!" or
 *     any "!!" -> high; low, not urgent, no rush, whenever, someday, eventually, p3 -> low;
 *     normal, medium, p2 -> normal. A single "!" stuck to a word ("Buy milk!") is punctuation.
 *     Bare high / low / normal / medium count only with "priority", after a comma, as the last
 *     word, or in a change or list request ("make it high"): "buy low fat milk" keeps its title.
 *   - Tags: "#groceries", "tagged groceries", "with tag groceries", "to my groceries list". A
 *     '#' followed only by digits ("#2") is a position, never a tag. Tags are stored lowercased
 *     (ASCII letters only), at most NLU_TAG_MAX bytes.
 *   - Targets of an action: "the second one", "number 3", "#2", "task 2", "the last one" (a
 *     position in the list shown last; "the first two" is a bulk position range); "it", "that",
 *     "this one" (the task last mentioned); "everything", "all", "all done tasks", "everything
 *     tagged groceries", "everything in groceries", "all groceries tasks", "#groceries", "the
 *     overdue ones" (a filter: bulk); otherwise the title words ("the dentist one" -> "dentist",
 *     "call mum", "the milk task" -> "milk"), which the runtime matches against titles and
 *     answers with a pick-list when more than one task fits. "them", "all of them" are every
 *     row of the last list. A date after title words names the task's date and is cut
 *     ("delete the meeting tomorrow" -> "meeting"), but after finish, complete, cancel, drop
 *     or clear it makes the message a new task ("finish the report by friday" is an ADD).
 *   - Lists: open tasks unless "done"/"completed" (done) or "all"/"everything" alone (any);
 *     "due today/tomorrow/this week/next week/this month/overdue" or any date; a tag as above
 *     or "in groceries" / "groceries tasks"; "high/low priority"; "find X" / "search for X"
 *     and words a list request does not know become a title query.
 *   - RENAME splits at the first "to" (or "as"/"into"): quote a title that contains one.
 *     "change/update/set X to Y" is a RESCHEDULE when Y is a date, a REPRIORITIZE when Y is a
 *     priority and a RENAME otherwise.
 *   - RESCHEDULE carries a new date and/or time, a shift ("postpone X by 2 days"; postpone,
 *     delay, defer, put off and push back with no amount shift by one day) or clear_due
 *     ("remove the due date from X"). A time with no date keeps the task's date.
 *   - Anything else is UNKNOWN, as are messages over NLU_INPUT_MAX bytes or NLU_WORDS_MAX words.
 */
#ifndef CHATKITD_NLU_H
#define CHATKITD_NLU_H

#include "agent/dates.h"
#include "core/buf.h"

#include <stdbool.h>
#include <stddef.h>

#define NLU_INPUT_MAX 4096 /* longer messages are UNKNOWN */
#define NLU_WORDS_MAX 256  /* so are messages with more words */
#define NLU_TITLE_MAX 500  /* bytes; the task title limit, cut on a UTF-8 boundary */
#define NLU_QUERY_MAX 200  /* bytes of target words and list queries */
#define NLU_TAG_MAX   64   /* bytes of one tag */
#define NLU_TAGS_MAX  8

enum nlu_kind {
    NLU_UNKNOWN,
    NLU_ADD,          /* title, due_date/due_time, priority, tags */
    NLU_LIST,         /* filter */
    NLU_COMPLETE,     /* target */
    NLU_REOPEN,       /* target */
    NLU_RENAME,       /* target, title = the new title ("" when not given) */
    NLU_RESCHEDULE,   /* target, due_date/due_time or shift_* or clear_due (or none: ask) */
    NLU_REPRIORITIZE, /* target, priority */
    NLU_DELETE,       /* target */
    NLU_HELP,
    NLU_GREETING,
    NLU_THANKS, /* also bare acknowledgements: "ok", "great", "got it" */
};

/* Values match the store's enum store_task_priority. */
enum nlu_priority {
    NLU_PRIORITY_NONE = -1, /* not said (ADD: the default; LIST: any) */
    NLU_PRIORITY_LOW = 0,
    NLU_PRIORITY_NORMAL = 1,
    NLU_PRIORITY_HIGH = 2,
};

/* Values match the store's task filter status. */
enum nlu_status { NLU_STATUS_ANY = -1, NLU_STATUS_OPEN = 0, NLU_STATUS_DONE = 1 };

/* Which tasks a LIST shows, or which tasks a bulk action acts on. */
struct nlu_filter {
    int status;                   /* enum nlu_status */
    int priority;                 /* enum nlu_priority, NONE = any */
    int range;                    /* enum dates_range_kind, DATES_RANGE_NONE = any due date */
    char due_from[DATES_ISO_MAX]; /* inclusive bounds of range, "" = open */
    char due_to[DATES_ISO_MAX];
    char tag[NLU_TAG_MAX + 1];     /* "" = any */
    char query[NLU_QUERY_MAX + 1]; /* title words as typed, "" = none */
};

enum nlu_target_kind {
    NLU_TARGET_NONE,     /* not said: the runtime asks which task */
    NLU_TARGET_TITLE,    /* words */
    NLU_TARGET_POSITION, /* position, count in the last list shown */
    NLU_TARGET_LAST,     /* the task last mentioned ("it", "that one") */
    NLU_TARGET_FILTER,   /* every task matching filter */
};

struct nlu_target {
    int kind;                      /* enum nlu_target_kind */
    char words[NLU_QUERY_MAX + 1]; /* TITLE: as typed, e.g. "dentist", "call mum" */
    int position;                  /* POSITION: 1-based; -1 = the last row */
    int count;                     /* POSITION: rows from position on (1 unless "first two") */
    struct nlu_filter filter;      /* FILTER */
    bool bulk;                     /* may act on several tasks: confirm before acting */
};

/* One understood message. Fixed size, no pointers: copy it freely. */
struct nlu_intent {
    int kind;                      /* enum nlu_kind */
    char title[NLU_TITLE_MAX + 1]; /* ADD: the title; RENAME: the new title */
    bool title_truncated;          /* the title was cut to NLU_TITLE_MAX bytes */
    char due_date[DATES_ISO_MAX];  /* ADD, RESCHEDULE: "YYYY-MM-DD" or "" */
    char due_time[6];              /* ADD, RESCHEDULE: "HH:MM" or "" */
    bool clear_due;                /* RESCHEDULE: remove the due date */
    int shift_days;                /* RESCHEDULE: move the current due date by this much */
    int shift_months;              /* RESCHEDULE: months part of the shift */
    int priority;                  /* ADD, REPRIORITIZE: enum nlu_priority */
    int n_tags;                    /* ADD */
    char tags[NLU_TAGS_MAX][NLU_TAG_MAX + 1];
    struct nlu_filter filter; /* LIST */
    struct nlu_target target; /* COMPLETE, REOPEN, RENAME, RESCHEDULE, REPRIORITIZE, DELETE */
};

/* Understands text (len bytes, any bytes, UTF-8 expected) relative to today, the user's local
 * date; fills *out completely. Never fails: what it cannot read is NLU_UNKNOWN. */
void nlu_parse(const char *text, size_t len, struct date today, struct nlu_intent *out);

/* Appends the intent as one JSON object with a stable key order and empty fields left out, e.g.
 * {"kind":"add","title":"call mum","due_date":"2026-11-26","due_time":"17:00",
 *  "priority":"high"}; 0 or ERR_TOO_BIG (out unchanged past its cap). */
int nlu_intent_to_json(const struct nlu_intent *in, struct buf *out);

/* "add", "list", "complete", "reopen", "rename", "reschedule", "reprioritize", "delete",
 * "help", "greeting", "thanks", "unknown". */
const char *nlu_kind_name(int kind);
/* "low", "normal", "high", or "none". */
const char *nlu_priority_name(int priority);

#endif
