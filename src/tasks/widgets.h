/* widgets.h - ChatKit widget trees for tasks (spec/chatkit-protocol.md §8), and their copy text.
 *
 * Each builder writes one root (a Card or a ListView) with the JSON writer; output depends only
 * on its inputs, so the same task and clock give the same bytes. Rows and cards carry the task id
 * as their key. Buttons and form footers send server actions (handler "server"), which arrive as
 * threads.custom_action with these types and payloads:
 *
 *   task.complete / task.reopen / task.edit / task.delete   {"task_id": id}   card buttons
 *   task.open                                               {"task_id": id}   list row click
 *   task.save                                   {"task_id": id, + form fields} edit form confirm
 *                                                (title, due_date, priority, notes)
 *   task.cancel_edit                                        {"task_id": id}   edit form cancel
 *   task.delete_confirmed / task.cancel_delete          {"task_ids": [ids]}   delete confirmation
 *
 * Dates: a due badge compares the due date (and time) with "now" in the task's own zone:
 * "Overdue" (danger) once it passed, "Today" (warning, "Today, 5:00 PM" with a time) on the day,
 * otherwise "Due Dec 5" / "Due Dec 5, 5:00 PM" (secondary; the year is added when it is not the
 * current one). Done tasks show the plain date, never Overdue. Priority: high = danger badge,
 * low = secondary badge, normal = none.
 *
 * The title is a semibold Text rather than a Title: only Text has lineThrough (§8.3), which marks
 * a done task.
 */
#ifndef CHATKITD_TASKS_WIDGETS_H
#define CHATKITD_TASKS_WIDGETS_H

#include "core/buf.h"
#include "core/json_write.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

enum tasks_due_kind {
    TASKS_DUE_NONE,    /* no due date: no badge */
    TASKS_DUE_LATER,   /* in the future, or the task is done */
    TASKS_DUE_TODAY,   /* due today and not yet passed */
    TASKS_DUE_OVERDUE, /* open and past its date (or its time today) */
};

struct tasks_due {
    enum tasks_due_kind kind;
    char label[64];    /* "Due Dec 5, 5:00 PM", "Today", "Overdue", "" */
    const char *color; /* Badge color token: "danger", "warning", "secondary", NULL for none */
};

/* Classifies t's due date at now_us (wall clock) in the task's zone. */
void tasks_due_describe(const struct store_task *t, int64_t now_us, struct tasks_due *out);

/* The task card: status icon and title (struck through when done), notes, a badge row (due,
 * priority, "#tag" per tag) and buttons Complete (Reopen when done), Edit, Delete. */
void tasks_widget_card(struct jw *w, const struct store_task *t, int64_t now_us);

struct tasks_list_opts {
    const char *title; /* ListView status line ("Open tasks"); NULL for none */
    int limit;         /* rows shown before "show more"; 0 = no limit */
    const char *empty; /* empty-state text; NULL = "No tasks here yet." */
};
/* A ListView with one ListViewItem per task (status icon, title, due caption, a High badge for
 * high priority, and a Complete/Reopen button), or an empty-state Card when n is 0. */
void tasks_widget_list(struct jw *w, const struct store_task *tasks, size_t n,
                       const struct tasks_list_opts *opts, int64_t now_us);
/* The edit form: a Card with asForm, an editable title, a due DatePicker, a priority Select,
 * a notes Textarea, Save (task.save) and Cancel (task.cancel_edit). */
void tasks_widget_edit_form(struct jw *w, const struct store_task *t);
/* The delete confirmation for one or more tasks: lists their titles (the first 10, then "and N
 * more"), confirm "Delete N task(s)" (task.delete_confirmed) and Cancel (task.cancel_delete). */
void tasks_widget_delete_confirm(struct jw *w, const struct store_task *tasks, size_t n);

/* Plain-text versions of the widgets (a widget item's copy_text); appended to out. 0 or
 * ERR_TOO_BIG at out's cap. */
int tasks_copy_text_card(struct buf *out, const struct store_task *t, int64_t now_us);
int tasks_copy_text_list(struct buf *out, const struct store_task *tasks, size_t n, int64_t now_us);
int tasks_copy_text_edit_form(struct buf *out, const struct store_task *t);
int tasks_copy_text_delete_confirm(struct buf *out, const struct store_task *tasks, size_t n);

#endif
