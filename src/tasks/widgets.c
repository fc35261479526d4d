#include "tasks/widgets.h"

#include "core/err.h"
#include "core/json_read.h"
#include "tasks/task.h"

#include <stdio.h>
#include <string.h>

#define DELETE_LIST_MAX 10 /* titles listed on a delete confirmation before "and N more" */
#define TAGS_DEPTH      4

static const char *const month_abbr[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* ---- due dates ---- */

static void parse_due(const struct store_task *t, int *y, int *m, int *d, int *minute)
{
    const char *s = t->due_date;
    *y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    *m = (s[5] - '0') * 10 + (s[6] - '0');
    *d = (s[8] - '0') * 10 + (s[9] - '0');
    *minute = -1;
    if (t->due_time[0])
        *minute = ((t->due_time[0] - '0') * 10 + (t->due_time[1] - '0')) * 60 +
                  (t->due_time[3] - '0') * 10 + (t->due_time[4] - '0');
}

/* "5:00 PM" */
static void format_clock(char *out, size_t len, int minute)
{
    int h = minute / 60;
    snprintf(out, len, "%d:%02d %s", h % 12 == 0 ? 12 : h % 12, minute % 60, h < 12 ? "AM" : "PM");
}

void tasks_due_describe(const struct store_task *t, int64_t now_us, struct tasks_due *out)
{
    char why[TASK_WHY_MAX];
    memset(out, 0, sizeof *out);
    out->kind = TASKS_DUE_NONE;
    if (task_validate_date(t->due_date, why))
        return;
    int y, m, d, minute;
    parse_due(t, &y, &m, &d, &minute);
    struct task_local now;
    task_local_time(t->tz, now_us, &now);
    int cmp = y != now.year    ? (y < now.year ? -1 : 1)
              : m != now.month ? (m < now.month ? -1 : 1)
              : d != now.day   ? (d < now.day ? -1 : 1)
                               : 0;
    char clock[16] = "";
    if (minute >= 0)
        format_clock(clock, sizeof clock, minute);
    if (!t->done && (cmp < 0 || (cmp == 0 && minute >= 0 && minute < now.minute))) {
        out->kind = TASKS_DUE_OVERDUE;
        out->color = "danger";
        snprintf(out->label, sizeof out->label, "Overdue");
    } else if (!t->done && cmp == 0) {
        out->kind = TASKS_DUE_TODAY;
        out->color = "warning";
        snprintf(out->label, sizeof out->label, "Today%s%s", clock[0] ? ", " : "", clock);
    } else {
        char year[16] = "";
        if (y != now.year)
            snprintf(year, sizeof year, ", %d", y);
        out->kind = TASKS_DUE_LATER;
        out->color = "secondary";
        snprintf(out->label, sizeof out->label, "Due %s %d%s%s%s", month_abbr[m - 1], d, year,
                 clock[0] ? ", " : "", clock);
    }
}

/* ---- small nodes ---- */

/* {"type": type, "payload": {"task_id": id}, "handler": "server"} */
static void action(struct jw *w, const char *type, const char *task_id)
{
    jw_obj_begin(w);
    jw_kv_str(w, "type", type);
    jw_key(w, "payload");
    jw_obj_begin(w);
    jw_kv_str(w, "task_id", task_id);
    jw_obj_end(w);
    jw_kv_str(w, "handler", "server");
    jw_obj_end(w);
}

static void ids_action(struct jw *w, const char *type, const struct store_task *tasks, size_t n)
{
    jw_obj_begin(w);
    jw_kv_str(w, "type", type);
    jw_key(w, "payload");
    jw_obj_begin(w);
    jw_key(w, "task_ids");
    jw_arr_begin(w);
    for (size_t i = 0; i < n; i++)
        jw_str(w, tasks[i].id);
    jw_arr_end(w);
    jw_obj_end(w);
    jw_kv_str(w, "handler", "server");
    jw_obj_end(w);
}

static void node_begin(struct jw *w, const char *type)
{
    jw_obj_begin(w);
    jw_kv_str(w, "type", type);
}

static void children_begin(struct jw *w)
{
    jw_key(w, "children");
    jw_arr_begin(w);
}

/* A container: {"type": type, "gap": gap, ... "children": [ (left open) */
static void box_begin(struct jw *w, const char *type, int gap, const char *align)
{
    node_begin(w, type);
    jw_kv_int(w, "gap", gap);
    jw_kv_str(w, "align", align);
}

static void box_end(struct jw *w)
{
    jw_arr_end(w);
    jw_obj_end(w);
}

static void badge(struct jw *w, const char *label, const char *color)
{
    node_begin(w, "Badge");
    jw_kv_str(w, "label", label);
    jw_kv_str(w, "color", color);
    jw_obj_end(w);
}

static void icon(struct jw *w, const char *name, const char *color, const char *size)
{
    node_begin(w, "Icon");
    jw_kv_str(w, "name", name);
    jw_kv_str(w, "color", color);
    jw_kv_str(w, "size", size);
    jw_obj_end(w);
}

static void status_icon(struct jw *w, const struct store_task *t, const char *size)
{
    if (t->done)
        icon(w, "check-circle-filled", "success", size);
    else
        icon(w, "empty-circle", "secondary", size);
}

static void text(struct jw *w, const char *value, const char *size, const char *weight,
                 const char *color)
{
    node_begin(w, "Text");
    jw_kv_str(w, "value", value);
    jw_kv_str(w, "size", size);
    jw_kv_str(w, "weight", weight);
    jw_kv_str(w, "color", color);
    jw_obj_end(w);
}

static void caption(struct jw *w, const char *value, const char *color)
{
    node_begin(w, "Caption");
    jw_kv_str(w, "value", value);
    jw_kv_str(w, "color", color);
    jw_obj_end(w);
}

static void title_text(struct jw *w, const struct store_task *t, const char *size,
                       const char *weight)
{
    node_begin(w, "Text");
    jw_kv_str(w, "value", t->title ? t->title : "");
    jw_kv_str(w, "size", size);
    jw_kv_str(w, "weight", weight);
    if (t->done) {
        jw_kv_bool(w, "lineThrough", true);
        jw_kv_str(w, "color", "secondary");
    }
    jw_obj_end(w);
}

static void button(struct jw *w, const char *label, const char *icon_start, const char *style,
                   const char *color, const char *variant, const char *action_type,
                   const char *task_id)
{
    node_begin(w, "Button");
    jw_kv_str(w, "label", label);
    jw_kv_str(w, "iconStart", icon_start);
    jw_kv_str(w, "style", style);
    jw_kv_str(w, "color", color);
    jw_kv_str(w, "variant", variant);
    jw_kv_str(w, "size", "sm");
    jw_key(w, "onClickAction");
    action(w, action_type, task_id);
    jw_obj_end(w);
}

static void complete_button(struct jw *w, const struct store_task *t, bool primary)
{
    if (t->done)
        button(w, "Reopen", "reload", NULL, NULL, "outline", "task.reopen", t->id);
    else
        button(w, "Complete", "check", primary ? "primary" : NULL, NULL, primary ? NULL : "outline",
               "task.complete", t->id);
}

/* The task's tags as a parsed array (caller deletes), or NULL when it has none. */
static cJSON *tags_of(const struct store_task *t)
{
    if (!t->tags_json || strcmp(t->tags_json, "[]") == 0)
        return NULL;
    cJSON *a = json_parse(t->tags_json, strlen(t->tags_json), TAGS_DEPTH, NULL);
    if (a && (!cJSON_IsArray(a) || !a->child)) {
        cJSON_Delete(a);
        a = NULL;
    }
    return a;
}

static const char *priority_badge_color(int priority)
{
    if (priority == STORE_PRIORITY_HIGH)
        return "danger";
    if (priority == STORE_PRIORITY_LOW)
        return "secondary";
    return NULL;
}

/* ---- the card ---- */

void tasks_widget_card(struct jw *w, const struct store_task *t, int64_t now_us)
{
    struct tasks_due due;
    tasks_due_describe(t, now_us, &due);
    const char *pcolor = priority_badge_color(t->priority);
    cJSON *tags = tags_of(t);

    node_begin(w, "Card");
    jw_kv_str(w, "key", t->id);
    children_begin(w);

    box_begin(w, "Row", 2, "center");
    children_begin(w);
    status_icon(w, t, "lg");
    title_text(w, t, "md", "semibold");
    box_end(w);

    if (t->notes && t->notes[0]) {
        node_begin(w, "Text");
        jw_kv_str(w, "value", t->notes);
        jw_kv_str(w, "size", "sm");
        jw_kv_str(w, "color", "secondary");
        jw_kv_int(w, "maxLines", 4);
        jw_obj_end(w);
    }

    if (due.kind != TASKS_DUE_NONE || pcolor || tags) {
        box_begin(w, "Row", 1, NULL);
        jw_kv_str(w, "wrap", "wrap");
        children_begin(w);
        if (due.kind != TASKS_DUE_NONE)
            badge(w, due.label, due.color);
        if (pcolor)
            badge(w, t->priority == STORE_PRIORITY_HIGH ? "High priority" : "Low priority", pcolor);
        for (const cJSON *v = tags ? tags->child : NULL; v; v = v->next) {
            char label[TASK_TAG_MAX * 4 + 2];
            if (!cJSON_IsString(v))
                continue;
            snprintf(label, sizeof label, "#%s", v->valuestring);
            badge(w, label, "info");
        }
        box_end(w);
    }

    box_begin(w, "Row", 2, NULL);
    children_begin(w);
    complete_button(w, t, true);
    button(w, "Edit", "write", NULL, NULL, "outline", "task.edit", t->id);
    button(w, "Delete", NULL, NULL, "danger", "outline", "task.delete", t->id);
    box_end(w);

    box_end(w); /* Card */
    cJSON_Delete(tags);
}

/* ---- the list ---- */

static void list_empty(struct jw *w, const struct tasks_list_opts *o)
{
    node_begin(w, "Card");
    jw_kv_str(w, "key", "tasks-empty");
    children_begin(w);
    box_begin(w, "Row", 2, "center");
    children_begin(w);
    icon(w, "check-circle", "secondary", "lg");
    text(w, o && o->empty ? o->empty : "No tasks here yet.", NULL, "semibold", NULL);
    box_end(w);
    caption(w, "Try \"add buy milk tomorrow\".", "secondary");
    box_end(w);
}

static void list_row(struct jw *w, const struct store_task *t, int64_t now_us)
{
    struct tasks_due due;
    tasks_due_describe(t, now_us, &due);
    node_begin(w, "ListViewItem");
    jw_kv_str(w, "key", t->id);
    jw_kv_int(w, "gap", 3);
    jw_kv_str(w, "align", "center");
    jw_key(w, "onClickAction");
    action(w, "task.open", t->id);
    children_begin(w);
    status_icon(w, t, "lg");

    box_begin(w, "Col", 0, NULL);
    jw_kv_int(w, "flex", 1);
    children_begin(w);
    title_text(w, t, "sm", "medium");
    if (due.kind != TASKS_DUE_NONE)
        caption(w, due.label, due.color);
    box_end(w);

    if (t->priority == STORE_PRIORITY_HIGH)
        badge(w, "High", "danger");
    complete_button(w, t, false);
    box_end(w); /* ListViewItem */
}

void tasks_widget_list(struct jw *w, const struct store_task *tasks, size_t n,
                       const struct tasks_list_opts *opts, int64_t now_us)
{
    if (n == 0) {
        list_empty(w, opts);
        return;
    }
    node_begin(w, "ListView");
    if (opts && opts->limit > 0 && (size_t)opts->limit < n)
        jw_kv_int(w, "limit", opts->limit);
    if (opts && opts->title) {
        jw_key(w, "status");
        jw_obj_begin(w);
        jw_kv_str(w, "text", opts->title);
        jw_kv_str(w, "icon", "check-circle");
        jw_obj_end(w);
    }
    children_begin(w);
    for (size_t i = 0; i < n; i++)
        list_row(w, &tasks[i], now_us);
    box_end(w);
}

/* ---- the edit form ---- */

static void label(struct jw *w, const char *value, const char *field)
{
    node_begin(w, "Label");
    jw_kv_str(w, "value", value);
    jw_kv_str(w, "fieldName", field);
    jw_obj_end(w);
}

static void priority_select(struct jw *w, int priority)
{
    static const char *const values[] = {"low", "normal", "high"};
    static const char *const labels[] = {"Low", "Normal", "High"};
    node_begin(w, "Select");
    jw_kv_str(w, "name", "priority");
    jw_key(w, "options");
    jw_arr_begin(w);
    for (int i = 0; i < 3; i++) {
        jw_obj_begin(w);
        jw_kv_str(w, "value", values[i]);
        jw_kv_str(w, "label", labels[i]);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_kv_str(w, "defaultValue", task_priority_name(priority));
    jw_obj_end(w);
}

static void card_action(struct jw *w, const char *key, const char *label_text, const char *type,
                        const char *task_id)
{
    jw_key(w, key);
    jw_obj_begin(w);
    jw_kv_str(w, "label", label_text);
    jw_key(w, "action");
    action(w, type, task_id);
    jw_obj_end(w);
}

void tasks_widget_edit_form(struct jw *w, const struct store_task *t)
{
    node_begin(w, "Card");
    jw_kv_str(w, "key", t->id);
    jw_kv_bool(w, "asForm", true);
    children_begin(w);
    node_begin(w, "Title");
    jw_kv_str(w, "value", "Edit task");
    jw_kv_str(w, "size", "sm");
    jw_obj_end(w);

    box_begin(w, "Col", 1, NULL);
    children_begin(w);
    label(w, "Title", "title");
    node_begin(w, "Text");
    jw_kv_str(w, "value", t->title ? t->title : "");
    jw_key(w, "editable");
    jw_obj_begin(w);
    jw_kv_str(w, "name", "title");
    jw_kv_bool(w, "required", true);
    jw_kv_str(w, "placeholder", "What needs doing?");
    jw_obj_end(w);
    jw_obj_end(w);
    box_end(w);

    box_begin(w, "Row", 3, NULL);
    children_begin(w);
    box_begin(w, "Col", 1, NULL);
    jw_kv_int(w, "flex", 1);
    children_begin(w);
    label(w, "Due date", "due_date");
    node_begin(w, "DatePicker");
    jw_kv_str(w, "name", "due_date");
    if (t->due_date[0])
        jw_kv_str(w, "defaultValue", t->due_date);
    jw_kv_str(w, "placeholder", "No due date");
    jw_kv_bool(w, "clearable", true);
    jw_obj_end(w);
    box_end(w);
    box_begin(w, "Col", 1, NULL);
    jw_kv_int(w, "flex", 1);
    children_begin(w);
    label(w, "Priority", "priority");
    priority_select(w, t->priority);
    box_end(w);
    box_end(w); /* Row */

    box_begin(w, "Col", 1, NULL);
    children_begin(w);
    label(w, "Notes", "notes");
    node_begin(w, "Textarea");
    jw_kv_str(w, "name", "notes");
    jw_kv_str(w, "defaultValue", t->notes);
    jw_kv_str(w, "placeholder", "Notes");
    jw_kv_int(w, "rows", 3);
    jw_obj_end(w);
    box_end(w);

    jw_arr_end(w); /* children */
    card_action(w, "confirm", "Save", "task.save", t->id);
    card_action(w, "cancel", "Cancel", "task.cancel_edit", t->id);
    jw_obj_end(w);
}

/* ---- the delete confirmation ---- */

void tasks_widget_delete_confirm(struct jw *w, const struct store_task *tasks, size_t n)
{
    char buf[64];
    node_begin(w, "Card");
    children_begin(w);
    if (n == 1)
        snprintf(buf, sizeof buf, "Delete this task?");
    else
        snprintf(buf, sizeof buf, "Delete %zu tasks?", n);
    text(w, buf, NULL, "semibold", NULL);
    caption(w, "This cannot be undone.", "secondary");
    box_begin(w, "Col", 1, NULL);
    children_begin(w);
    for (size_t i = 0; i < n && i < DELETE_LIST_MAX; i++) {
        node_begin(w, "Row");
        jw_kv_str(w, "key", tasks[i].id);
        jw_kv_int(w, "gap", 2);
        jw_kv_str(w, "align", "center");
        children_begin(w);
        status_icon(w, &tasks[i], "sm");
        title_text(w, &tasks[i], "sm", NULL);
        box_end(w);
    }
    if (n > DELETE_LIST_MAX) {
        snprintf(buf, sizeof buf, "and %zu more", n - DELETE_LIST_MAX);
        caption(w, buf, "secondary");
    }
    box_end(w);
    jw_arr_end(w); /* children */

    if (n == 1)
        snprintf(buf, sizeof buf, "Delete task");
    else
        snprintf(buf, sizeof buf, "Delete %zu tasks", n);
    jw_key(w, "confirm");
    jw_obj_begin(w);
    jw_kv_str(w, "label", buf);
    jw_key(w, "action");
    ids_action(w, "task.delete_confirmed", tasks, n);
    jw_obj_end(w);
    jw_key(w, "cancel");
    jw_obj_begin(w);
    jw_kv_str(w, "label", "Cancel");
    jw_key(w, "action");
    ids_action(w, "task.cancel_delete", tasks, n);
    jw_obj_end(w);
    jw_obj_end(w);
}

/* ---- copy text ---- */

/* "[ ] Buy milk (Due Dec 5; high priority; #groceries)" */
static int copy_line(struct buf *out, const struct store_task *t, int64_t now_us)
{
    struct tasks_due due;
    tasks_due_describe(t, now_us, &due);
    int rc = buf_appendf(out, "[%c] %s", t->done ? 'x' : ' ', t->title ? t->title : "");
    const char *sep = " (";
    if (!rc && due.kind != TASKS_DUE_NONE) {
        rc = buf_appendf(out, "%s%s", sep, due.label);
        sep = "; ";
    }
    if (!rc && t->priority != STORE_PRIORITY_NORMAL) {
        rc = buf_appendf(out, "%s%s priority", sep, task_priority_name(t->priority));
        sep = "; ";
    }
    cJSON *tags = tags_of(t);
    for (const cJSON *v = tags ? tags->child : NULL; !rc && v; v = v->next) {
        if (!cJSON_IsString(v))
            continue;
        rc = buf_appendf(out, "%s#%s", sep, v->valuestring);
        sep = " ";
    }
    cJSON_Delete(tags);
    if (!rc && strcmp(sep, " (") != 0)
        rc = buf_append_char(out, ')');
    return rc;
}

int tasks_copy_text_card(struct buf *out, const struct store_task *t, int64_t now_us)
{
    int rc = copy_line(out, t, now_us);
    if (!rc && t->notes && t->notes[0])
        rc = buf_appendf(out, "\n%s", t->notes);
    return rc;
}

int tasks_copy_text_list(struct buf *out, const struct store_task *tasks, size_t n, int64_t now_us)
{
    if (n == 0)
        return buf_append_str(out, "No tasks here yet.");
    int rc = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        if (i)
            rc = buf_append_char(out, '\n');
        if (!rc)
            rc = copy_line(out, &tasks[i], now_us);
    }
    return rc;
}

int tasks_copy_text_edit_form(struct buf *out, const struct store_task *t)
{
    return buf_appendf(out, "Edit task: %s", t->title ? t->title : "");
}

int tasks_copy_text_delete_confirm(struct buf *out, const struct store_task *tasks, size_t n)
{
    int rc = n == 1 ? buf_append_str(out, "Delete this task?")
                    : buf_appendf(out, "Delete %zu tasks?", n);
    for (size_t i = 0; !rc && i < n; i++)
        rc = buf_appendf(out, "\n- %s", tasks[i].title ? tasks[i].title : "");
    return rc;
}
