#include "agent/builtin.h"

#include "agent/nlu.h"
#include "chatkit/items.h"
#include "core/clock.h"
#include "core/digest.h"
#include "core/err.h"
#include "core/id.h"
#include "core/json_read.h"
#include "core/json_write.h"
#include "core/xalloc.h"
#include "tasks/task.h"
#include "tasks/widgets.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define ANSWER_MAX   (256 * 1024)
#define PICK_LIMIT   10  /* rows offered when a title matches several tasks */
#define BULK_LIMIT   100 /* tasks one bulk request may act on */
#define HISTORY_SCAN 50  /* recent items searched for the last list shown */

enum run_step {
    STEP_NONE,
    STEP_PRECHECK,     /* tasks_get of the id a retried message would have created */
    STEP_CREATED,      /* tasks_create answered */
    STEP_LISTED,       /* tasks_list for a LIST intent */
    STEP_MATCHED,      /* tasks_list for a target */
    STEP_HISTORY,      /* recent items loaded for a positional target */
    STEP_FETCHED,      /* tasks_get of one resolved id */
    STEP_ACTED,        /* one task changed */
    STEP_ACTION_DONE,  /* a widget action's change */
    STEP_ACTION_LOADED /* a widget action's task loaded */
};

/* One turn of the agent. Owned by itself: freed in run_end once nothing is pending. */
struct run {
    struct builtin_agent *a;
    struct ck_turn *t;
    char user[STORE_USER_ID_MAX];
    struct nlu_intent in;
    enum run_step step;
    bool cancelled;
    bool waiting;             /* a tasks operation is in flight */
    struct store_task *tasks; /* owned copies: the tasks this turn acts on */
    size_t n, next;
    char (*ids)[ID_MAX]; /* owned: ids resolved from the conversation */
    size_t nids, next_id;
    struct buf text;        /* the answer so far */
    struct buf done_titles; /* titles changed by a bulk action */
    size_t changed;
    struct store_job job; /* history scan */
    int64_t now_us;
    /* widget actions */
    const char *action; /* action type (view into the request) */
    bool sender_is_list;
};

static void message_continue(struct run *r, const struct tasks_result *res);
static void action_continue(struct run *r, const struct tasks_result *res);

/* ---- the run ---- */

static void run_free(struct run *r)
{
    for (size_t i = 0; i < r->n; i++)
        task_clear(&r->tasks[i]);
    free(r->tasks);
    free(r->ids);
    buf_free(&r->text);
    buf_free(&r->done_titles);
    store_job_clear(&r->job);
    free(r);
}

/* Streams the text collected so far as one assistant message. */
static void run_flush_text(struct run *r)
{
    if (!r->cancelled && r->text.len)
        ck_turn_emit_text_message(r->t, r->text.data, r->text.len);
    buf_reset(&r->text);
}

/* Sends the rest of the answer and ends the turn. */
static void run_end(struct run *r)
{
    run_flush_text(r);
    ck_turn_finish(r->t);
    run_free(r);
}

static void say(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct run *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vappendf(&r->text, fmt, ap);
    va_end(ap);
}

/* Markdown-safe title: ** and backticks in a title would break the emphasis around it. */
static void say_title(struct run *r, const char *title)
{
    buf_append_str(&r->text, "**");
    for (const char *p = title; *p; p++) {
        if (*p == '*' || *p == '`' || *p == '_' || *p == '[' || *p == ']')
            buf_append_char(&r->text, '\\');
        buf_append_char(&r->text, *p);
    }
    buf_append_str(&r->text, "**");
}

static void keep_tasks(struct run *r, const struct store_task *tasks, size_t n)
{
    for (size_t i = 0; i < r->n; i++)
        task_clear(&r->tasks[i]);
    free(r->tasks);
    r->tasks = n ? xcalloc(n, sizeof *r->tasks) : NULL;
    for (size_t i = 0; i < n; i++)
        task_copy(&r->tasks[i], &tasks[i]);
    r->n = n;
    r->next = 0;
}

static void tasks_done_cb(const struct tasks_result *res, void *data)
{
    struct run *r = data;
    r->waiting = false;
    if (r->cancelled) {
        ck_turn_finish(r->t);
        run_free(r);
        return;
    }
    if (r->action)
        action_continue(r, res);
    else
        message_continue(r, res);
}

/* Starts an operation; when the store refuses, the turn ends with an error. */
static bool run_op(struct run *r, int rc)
{
    if (rc == 0) {
        r->waiting = true;
        return true;
    }
    ck_turn_fail(r->t, "stream.error", NULL, true);
    run_free(r);
    return false;
}

/* ---- widgets and hidden context ---- */

static void emit_widget(struct run *r, const char *widget, const char *copy, bool replace,
                        const struct store_item *sender)
{
    if (!replace)
        run_flush_text(r); /* the sentence introducing a widget comes before it */
    struct buf item;
    buf_init(&item, ANSWER_MAX * 4);
    struct jw w;
    jw_init(&w, &item);
    const char *tid = ck_turn_thread(r->t)->id;
    if (replace) {
        ck_write_widget_item(&w, sender->id, tid, sender->created_us, widget, copy);
        ck_turn_emit_item_replaced(r->t, sender->id, "widget", sender->created_us, item.data);
    } else {
        char id[ID_MAX];
        id_new("msg_", id);
        int64_t now = clock_wall_us();
        ck_write_widget_item(&w, id, tid, now, widget, copy);
        ck_turn_emit_item_done(r->t, id, "widget", now, item.data);
    }
    buf_free(&item);
}

static void emit_card(struct run *r, const struct store_task *task, bool replace)
{
    struct buf wjson, copy;
    buf_init(&wjson, ANSWER_MAX);
    buf_init(&copy, ANSWER_MAX);
    struct jw w;
    jw_init(&w, &wjson);
    tasks_widget_card(&w, task, r->now_us);
    tasks_copy_text_card(&copy, task, r->now_us);
    emit_widget(r, wjson.data, copy.data, replace, ck_turn_item(r->t));
    buf_free(&wjson);
    buf_free(&copy);
}

/* Hidden context (spec §3.10): stored, never shown, read by later turns (and models). */
static void emit_context(struct run *r, const char *content_json)
{
    char id[ID_MAX];
    id_new("hcx_", id);
    int64_t now = clock_wall_us();
    struct buf item;
    buf_init(&item, ANSWER_MAX);
    struct jw w;
    jw_init(&w, &item);
    ck_write_hidden_item(&w, id, ck_turn_thread(r->t)->id, now, false, content_json);
    ck_turn_emit_item_done(r->t, id, "hidden_context_item", now, item.data);
    buf_free(&item);
}

/* Remembers which tasks were shown, in order, so "the second one" can be resolved later. */
static void emit_list_context(struct run *r, const struct store_task *tasks, size_t n,
                              const char *kind)
{
    struct buf b;
    buf_init(&b, ANSWER_MAX);
    struct jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    jw_kv_str(&w, "kind", kind);
    jw_key(&w, "task_ids");
    jw_arr_begin(&w);
    for (size_t i = 0; i < n; i++)
        jw_str(&w, tasks[i].id);
    jw_arr_end(&w);
    jw_obj_end(&w);
    emit_context(r, b.data);
    buf_free(&b);
}

static void emit_list(struct run *r, const struct store_task *tasks, size_t n, const char *title)
{
    struct buf wjson, copy;
    buf_init(&wjson, ANSWER_MAX * 4);
    buf_init(&copy, ANSWER_MAX);
    struct jw w;
    jw_init(&w, &wjson);
    struct tasks_list_opts opts = {.title = title, .limit = 10, .empty = NULL};
    tasks_widget_list(&w, tasks, n, &opts, r->now_us);
    tasks_copy_text_list(&copy, tasks, n, r->now_us);
    emit_widget(r, wjson.data, copy.data, false, NULL);
    buf_free(&wjson);
    buf_free(&copy);
    emit_list_context(r, tasks, n, "task_list");
}

/* ---- describing tasks in text ---- */

/* " (due Dec 5, 5:00 PM, high priority)" or "" when there is nothing to add. */
static void say_details(struct run *r, const struct store_task *t)
{
    struct tasks_due due;
    tasks_due_describe(t, r->now_us, &due);
    bool high = t->priority == STORE_PRIORITY_HIGH, low = t->priority == STORE_PRIORITY_LOW;
    if (due.kind == TASKS_DUE_NONE && !high && !low)
        return;
    say(r, " (");
    if (due.kind != TASKS_DUE_NONE) {
        const char *label = due.label;
        if (strncmp(label, "Due ", 4) == 0)
            say(r, "due %s", label + 4);
        else
            say(r, "%s", due.kind == TASKS_DUE_TODAY ? "due today" : "overdue");
        if (due.kind == TASKS_DUE_TODAY && strchr(label, ','))
            say(r, "%s", strchr(label, ','));
    }
    if (high || low)
        say(r, "%s%s priority", due.kind != TASKS_DUE_NONE ? ", " : "", high ? "high" : "low");
    say(r, ")");
}

/* ---- reading the message ---- */

static struct date today_utc(int64_t now_us)
{
    time_t secs = (time_t)(now_us / 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    struct date d = {.y = tm.tm_year + 1900, .m = tm.tm_mon + 1, .d = tm.tm_mday};
    return d;
}

/* A task created for a message gets an id derived from the message id, so a retried message
 * finds its task instead of creating a second one. */
static void derived_task_id(const char *message_id, char out[ID_MAX])
{
    unsigned char h[DIGEST_SHA256_LEN];
    char seed[ID_MAX + 16];
    snprintf(seed, sizeof seed, "%s:create", message_id);
    digest_sha256(seed, strlen(seed), h);
    memcpy(out, TASK_ID_PREFIX, strlen(TASK_ID_PREFIX));
    id_hex(h, 16, out + strlen(TASK_ID_PREFIX));
}

static void say_help(struct run *r)
{
    say(r, "I can keep your task list. Try:\n\n"
           "- **add** call mum tomorrow at 5pm, high priority #family\n"
           "- **what's due this week?** or *show my overdue tasks*\n"
           "- **mark the dentist one done**, *reopen the second one*\n"
           "- **move the dentist to Friday 3pm**, *make the report urgent*\n"
           "- **rename** the milk task **to** buy oat milk\n"
           "- **delete everything tagged groceries** (I ask before deleting several)\n");
}

static void start_add(struct run *r)
{
    const struct nlu_intent *in = &r->in;
    if (!in->title[0]) {
        say(r, "What should the task say? For example: *add buy milk tomorrow*.");
        run_end(r);
        return;
    }
    struct store_task t;
    memset(&t, 0, sizeof t);
    const char *mid = ck_turn_user_item_id(r->t);
    if (mid)
        derived_task_id(mid, t.id);
    t.title = xstrdup(in->title);
    snprintf(t.due_date, sizeof t.due_date, "%s", in->due_date);
    snprintf(t.due_time, sizeof t.due_time, "%s", in->due_date[0] ? in->due_time : "");
    t.priority = in->priority == NLU_PRIORITY_NONE ? STORE_PRIORITY_NORMAL : in->priority;
    struct buf tags;
    buf_init(&tags, 4096);
    struct jw w;
    jw_init(&w, &tags);
    jw_arr_begin(&w);
    for (int i = 0; i < in->n_tags; i++)
        jw_str(&w, in->tags[i]);
    jw_arr_end(&w);
    t.tags_json = buf_detach(&tags, NULL);
    static const char progress[] =
        "{\"type\":\"progress_update\",\"icon\":\"write\",\"text\":\"Adding the task\u2026\"}";
    ck_turn_emit(r->t, progress, sizeof progress - 1);
    keep_tasks(r, &t, 1);
    task_clear(&t);
    if (r->tasks[0].id[0]) {
        /* A retried message: its task may exist already. */
        r->step = STEP_PRECHECK;
        run_op(r, tasks_get(r->a->tasks, r->user, r->tasks[0].id, tasks_done_cb, r));
        return;
    }
    r->step = STEP_CREATED;
    run_op(r, tasks_create(r->a->tasks, r->user, &r->tasks[0], tasks_done_cb, r));
}

static void filter_from_nlu(const struct nlu_filter *f, struct store_task_filter *out)
{
    memset(out, 0, sizeof *out);
    out->status = f->status;
    out->priority = f->priority;
    snprintf(out->tag, sizeof out->tag, "%s", f->tag);
    snprintf(out->due_after, sizeof out->due_after, "%s", f->due_from);
    snprintf(out->due_before, sizeof out->due_before, "%s", f->due_to);
    out->has_due = f->range != DATES_RANGE_NONE;
    snprintf(out->q, sizeof out->q, "%s", f->query);
}

static void start_list(struct run *r, const struct nlu_filter *f, enum run_step step, int limit)
{
    struct store_task_filter filter;
    filter_from_nlu(f, &filter);
    struct store_page_req page = {.limit = limit, .desc = false};
    r->step = step;
    run_op(r, tasks_list(r->a->tasks, r->user, &filter, &page, tasks_done_cb, r));
}

/* Finds the tasks a title-word target means: open ones (done ones for reopen). */
static void start_match_title(struct run *r)
{
    struct nlu_filter f;
    memset(&f, 0, sizeof f);
    f.status = r->in.kind == NLU_REOPEN ? NLU_STATUS_DONE : NLU_STATUS_OPEN;
    f.priority = NLU_PRIORITY_NONE;
    f.range = DATES_RANGE_NONE;
    snprintf(f.query, sizeof f.query, "%s", r->in.target.words);
    start_list(r, &f, STEP_MATCHED, PICK_LIMIT);
}

static void history_done(struct store_job *job);

/* "the second one" / "it": the ids come from the hidden context of earlier turns. */
static void start_history(struct run *r)
{
    store_job_init(&r->job, STORE_ITEM_LIST, history_done, r);
    snprintf(r->job.user_id, sizeof r->job.user_id, "%s", r->user);
    snprintf(r->job.item.thread_id, sizeof r->job.item.thread_id, "%s", ck_turn_thread(r->t)->id);
    r->job.page.limit = HISTORY_SCAN;
    r->job.page.desc = true;
    r->job.page.include_hidden = true;
    r->step = STEP_HISTORY;
    r->waiting = true;
    if (store_submit(ck_turn_store(r->t), &r->job)) {
        r->waiting = false;
        ck_turn_fail(r->t, "stream.error", NULL, true);
        run_free(r);
    }
}

/* "the selected ones", "my selection": the tasks selected on the host page's task board. */
static bool words_mean_selection(const char *w)
{
    static const char *forms[] = {"selected",          "the selected",   "selected ones",
                                  "the selected ones", "selected tasks", "the selected tasks",
                                  "selection",         "my selection",   "the selection"};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        if (strcasecmp(w, forms[i]) == 0)
            return true;
    }
    return false;
}

/* The selection lives in the browser, so the agent asks the page with the client tool
 * get_selected_tasks (spec §9): the turn ends with a pending call, and the page's answer
 * (threads.add_client_tool_output) continues it in selection_answered(). The action to apply
 * travels in the call's arguments. */
static void ask_selection(struct run *r)
{
    char id[ID_MAX], call_id[ID_MAX];
    id_new("tc_", id);
    id_new("call_", call_id);
    int64_t now = clock_wall_us();
    struct buf item;
    buf_init(&item, 8192);
    struct jw w;
    jw_init(&w, &item);
    ck_write_item_head(&w, id, ck_turn_thread(r->t)->id, now, "client_tool_call");
    jw_kv_str(&w, "status", "pending");
    jw_kv_str(&w, "call_id", call_id);
    jw_kv_str(&w, "name", BUILTIN_CLIENT_TOOL_SELECTION);
    jw_key(&w, "arguments");
    jw_obj_begin(&w);
    jw_kv_str(&w, "for", nlu_kind_name(r->in.kind));
    if (r->in.kind == NLU_RENAME)
        jw_kv_str(&w, "title", r->in.title);
    if (r->in.kind == NLU_REPRIORITIZE)
        jw_kv_str(&w, "priority", nlu_priority_name(r->in.priority));
    if (r->in.kind == NLU_RESCHEDULE && r->in.due_date[0])
        jw_kv_str(&w, "due_date", r->in.due_date);
    jw_obj_end(&w);
    jw_obj_end(&w);
    run_flush_text(r);
    ck_turn_emit_item_done(r->t, id, "client_tool_call", now, item.data);
    buf_free(&item);
    ck_turn_finish(r->t);
    run_free(r);
}

static void start_target(struct run *r)
{
    const struct nlu_target *tg = &r->in.target;
    const struct nlu_intent *in = &r->in;
    /* Asked to change something without saying to what: ask, never guess a value. */
    if (in->kind == NLU_REPRIORITIZE && in->priority == NLU_PRIORITY_NONE) {
        say(r, "Which priority should it have: high, normal or low?");
        run_end(r);
        return;
    }
    if (in->kind == NLU_RESCHEDULE && !in->due_date[0] && !in->due_time[0] && !in->clear_due &&
        !in->shift_days && !in->shift_months) {
        say(r, "When should it be due? For example: *move it to Friday 3pm*.");
        run_end(r);
        return;
    }
    switch (tg->kind) {
    case NLU_TARGET_TITLE:
        if (words_mean_selection(tg->words)) {
            ask_selection(r);
            return;
        }
        start_match_title(r);
        return;
    case NLU_TARGET_POSITION:
    case NLU_TARGET_LAST:
        start_history(r);
        return;
    case NLU_TARGET_FILTER:
        /* "the selected tasks" reads as a tag filter; it means the board's selection. */
        if (strcmp(tg->filter.tag, "selected") == 0 && !tg->filter.query[0]) {
            ask_selection(r);
            return;
        }
        start_list(r, &tg->filter, STEP_MATCHED, BULK_LIMIT);
        return;
    default:
        say(r, "Which task do you mean? Name it (*mark the dentist one done*) or point at a row "
               "of the last list (*the second one*).");
        run_end(r);
    }
}

/* The page answered get_selected_tasks with {"task_ids":[...]}: act on those tasks as the
 * original request asked (its kind and values are in the call's arguments). */
static void selection_answered(struct run *r)
{
    const struct store_item *call = ck_turn_item(r->t);
    const cJSON *result = ck_turn_request(r->t)->result;
    cJSON *doc = call ? json_parse(call->json, strlen(call->json), 32, NULL) : NULL;
    const cJSON *args = NULL, *ids = NULL;
    const char *name = NULL, *kind = NULL, *v = NULL;
    json_get_str(doc, "name", &name);
    json_get_obj(doc, "arguments", &args);
    json_get_str(args, "for", &kind);
    json_get_arr(result, "task_ids", &ids);
    memset(&r->in, 0, sizeof r->in);
    for (int k = NLU_ADD; kind && k <= NLU_THANKS; k++) {
        if (strcmp(nlu_kind_name(k), kind) == 0)
            r->in.kind = k;
    }
    if (json_get_str(args, "title", &v) == 0)
        snprintf(r->in.title, sizeof r->in.title, "%s", v);
    r->in.priority = NLU_PRIORITY_NONE;
    if (json_get_str(args, "priority", &v) == 0)
        r->in.priority = task_parse_priority(v);
    if (json_get_str(args, "due_date", &v) == 0)
        snprintf(r->in.due_date, sizeof r->in.due_date, "%s", v);
    r->in.target.kind = NLU_TARGET_POSITION; /* like rows of a list: no pick-list */
    int n = ids ? cJSON_GetArraySize(ids) : 0;
    bool ours = name && strcmp(name, BUILTIN_CLIENT_TOOL_SELECTION) == 0;
    if (!ours || r->in.kind < NLU_COMPLETE || r->in.kind > NLU_DELETE || n == 0) {
        cJSON_Delete(doc);
        say(r, n == 0 && ours ? "No tasks are selected on the board, so nothing changed."
                              : "Thanks \u2014 noted.");
        run_end(r);
        return;
    }
    r->ids = xcalloc((size_t)n, sizeof *r->ids);
    for (int i = 0; i < n && i < BULK_LIMIT; i++) {
        const cJSON *id = cJSON_GetArrayItem(ids, i);
        if (cJSON_IsString(id) && strlen(id->valuestring) < ID_MAX)
            snprintf(r->ids[r->nids++], ID_MAX, "%s", id->valuestring);
    }
    cJSON_Delete(doc);
    if (r->nids == 0) {
        say(r, "The selection held no task ids, so nothing changed.");
        run_end(r);
        return;
    }
    r->step = STEP_FETCHED;
    run_op(r, tasks_get(r->a->tasks, r->user, r->ids[r->next_id++], tasks_done_cb, r));
}

static void message_start(struct run *r)
{
    const char *text = ck_turn_user_text(r->t);
    if (!text && ck_turn_request(r->t)->type == CK_THREADS_ADD_CLIENT_TOOL_OUTPUT) {
        selection_answered(r);
        return;
    }
    if (!text) {
        /* A continuation (structured input) with nothing to act on. */
        say(r, "Thanks \u2014 noted.");
        run_end(r);
        return;
    }
    nlu_parse(text, strlen(text), today_utc(r->now_us), &r->in);
    switch (r->in.kind) {
    case NLU_ADD:
        start_add(r);
        return;
    case NLU_LIST:
        start_list(r, &r->in.filter, STEP_LISTED, 50);
        return;
    case NLU_COMPLETE:
    case NLU_REOPEN:
    case NLU_RENAME:
    case NLU_RESCHEDULE:
    case NLU_REPRIORITIZE:
    case NLU_DELETE:
        start_target(r);
        return;
    case NLU_GREETING:
        say(r, "Hi! I keep your tasks. Tell me what to add, or ask *what's due this week?*");
        break;
    case NLU_THANKS:
        say(r, "You're welcome!");
        break;
    case NLU_HELP:
        say_help(r);
        break;
    default:
        say(r, "I didn't catch a task request in that. ");
        say_help(r);
        break;
    }
    run_end(r);
}

/* ---- acting on tasks ---- */

/* "Marked X as done." reads better than a verb first, so each action has a before and after. */
static void say_action(struct run *r, int kind, const char *title)
{
    static const struct {
        int kind;
        const char *before, *after;
    } words[] = {
        {NLU_COMPLETE, "Marked ", " as done"}, {NLU_REOPEN, "Reopened ", ""},
        {NLU_RENAME, "Renamed it to ", ""},    {NLU_RESCHEDULE, "Rescheduled ", ""},
        {NLU_REPRIORITIZE, "Updated ", ""},    {NLU_DELETE, "Deleted ", ""},
    };
    const char *before = "Updated ", *after = "";
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (words[i].kind == kind) {
            before = words[i].before;
            after = words[i].after;
        }
    }
    say(r, "%s", before);
    say_title(r, title);
    say(r, "%s", after);
}

static const char *action_verb(int kind)
{
    switch (kind) {
    case NLU_COMPLETE:
        return "Marked as done";
    case NLU_REOPEN:
        return "Reopened";
    case NLU_RESCHEDULE:
        return "Rescheduled";
    case NLU_REPRIORITIZE:
        return "Updated";
    case NLU_DELETE:
        return "Deleted";
    default:
        return "Updated";
    }
}

/* The new due date of a reschedule: an explicit date, the task's date shifted, or today's date
 * with only a new time. */
static void reschedule_patch(struct run *r, const struct store_task *t, cJSON *patch)
{
    const struct nlu_intent *in = &r->in;
    if (in->clear_due) {
        cJSON_AddNullToObject(patch, "due_date");
        return;
    }
    char date[DATES_ISO_MAX];
    struct date base = today_utc(r->now_us);
    if (t->due_date[0])
        dates_parse_iso(t->due_date, strlen(t->due_date), &base);
    if (in->due_date[0]) {
        snprintf(date, sizeof date, "%s", in->due_date);
    } else {
        struct date d = dates_add_months(base, in->shift_months);
        d = dates_add_days(d, in->shift_days);
        dates_format(d, date);
    }
    cJSON_AddStringToObject(patch, "due_date", date);
    /* A new day keeps the task's time unless a new time was said. */
    if (in->due_time[0])
        cJSON_AddStringToObject(patch, "due_time", in->due_time);
    else if (t->due_time[0])
        cJSON_AddStringToObject(patch, "due_time", t->due_time);
}

/* Applies the intent to r->tasks[r->next]. */
static void act_next(struct run *r)
{
    const struct store_task *t = &r->tasks[r->next];
    struct tasks_app *app = r->a->tasks;
    r->step = STEP_ACTED;
    switch (r->in.kind) {
    case NLU_COMPLETE:
    case NLU_REOPEN:
        run_op(r,
               tasks_set_done(app, r->user, t->id, r->in.kind == NLU_COMPLETE, tasks_done_cb, r));
        return;
    case NLU_DELETE:
        run_op(r, tasks_delete(app, r->user, t->id, tasks_done_cb, r));
        return;
    default:
        break;
    }
    cJSON *patch = cJSON_CreateObject();
    if (r->in.kind == NLU_RENAME)
        cJSON_AddStringToObject(patch, "title", r->in.title);
    else if (r->in.kind == NLU_REPRIORITIZE)
        cJSON_AddStringToObject(patch, "priority", task_priority_name(r->in.priority));
    else
        reschedule_patch(r, t, patch);
    run_op(r, tasks_update(app, r->user, t->id, patch, tasks_done_cb, r));
    cJSON_Delete(patch);
}

/* Several title matches: never guess, offer the list (unless one title is exactly the words). */
static void matched(struct run *r, const struct tasks_result *res)
{
    const struct nlu_target *tg = &r->in.target;
    if (res->status) {
        ck_turn_fail(r->t, "stream.error", NULL, true);
        run_free(r);
        return;
    }
    if (res->ntasks == 0) {
        if (tg->kind == NLU_TARGET_TITLE)
            say(r, "I couldn't find %s task matching \u201c%s\u201d.",
                r->in.kind == NLU_REOPEN ? "a finished" : "an open", tg->words);
        else
            say(r, "No tasks match that, so nothing changed.");
        run_end(r);
        return;
    }
    if (tg->kind == NLU_TARGET_TITLE && res->ntasks > 1) {
        size_t exact = res->ntasks;
        for (size_t i = 0; i < res->ntasks; i++) {
            if (strcasecmp(res->tasks[i].title, tg->words) == 0)
                exact = exact == res->ntasks ? i : res->ntasks + 1;
        }
        if (exact < res->ntasks) {
            keep_tasks(r, &res->tasks[exact], 1);
            act_next(r);
            return;
        }
        say(r,
            "%zu tasks match \u201c%s\u201d. Which one do you mean? Tap one, or say *the "
            "second one*.",
            res->ntasks, tg->words);
        emit_list(r, res->tasks, res->ntasks, "Which one?");
        run_end(r);
        return;
    }
    keep_tasks(r, res->tasks, res->ntasks);
    if (r->in.kind == NLU_RENAME && (r->n > 1 || !r->in.title[0])) {
        say(r, r->n > 1 ? "I can rename one task at a time."
                        : "What should the new title be? "
                          "Say *rename X to Y*.");
        run_end(r);
        return;
    }
    if (r->in.kind == NLU_DELETE && (tg->bulk || r->n > 1)) {
        /* Several tasks: ask first, the card's button does the deleting. */
        say(r, "Delete %s %zu task%s? Confirm below.", r->n == 1 ? "this" : "these", r->n,
            r->n == 1 ? "" : "s");
        struct buf wjson, copy;
        buf_init(&wjson, ANSWER_MAX * 4);
        buf_init(&copy, ANSWER_MAX);
        struct jw w;
        jw_init(&w, &wjson);
        tasks_widget_delete_confirm(&w, r->tasks, r->n);
        tasks_copy_text_delete_confirm(&copy, r->tasks, r->n);
        emit_widget(r, wjson.data, copy.data, false, NULL);
        buf_free(&wjson);
        buf_free(&copy);
        run_end(r);
        return;
    }
    act_next(r);
}

/* After one task changed: report it (single) or collect it (bulk) and go on. */
static void acted(struct run *r, const struct tasks_result *res)
{
    const struct store_task *t = &r->tasks[r->next];
    if (res->status) {
        say(r, "I couldn't change %s: %s\n", t->title, res->message ? res->message : "error");
    } else {
        r->changed++;
        if (r->done_titles.len)
            buf_append_str(&r->done_titles, ", ");
        buf_append_str(&r->done_titles, res->task ? res->task->title : t->title);
        if (r->n == 1) {
            say_action(r, r->in.kind, res->task ? res->task->title : t->title);
            if (r->in.kind != NLU_DELETE && res->task)
                say_details(r, res->task);
            say(r, ".");
            if (r->in.kind != NLU_DELETE && res->task) {
                struct store_task copy;
                memset(&copy, 0, sizeof copy);
                task_copy(&copy, res->task);
                emit_card(r, &copy, false);
                emit_list_context(r, &copy, 1, "task_ref");
                task_clear(&copy);
            }
        }
    }
    if (++r->next < r->n) {
        act_next(r);
        return;
    }
    if (r->n > 1)
        say(r, "%s %zu task%s: %s.", action_verb(r->in.kind), r->changed,
            r->changed == 1 ? "" : "s", r->done_titles.data ? r->done_titles.data : "");
    run_end(r);
}

static void message_continue(struct run *r, const struct tasks_result *res)
{
    switch (r->step) {
    case STEP_PRECHECK:
        if (res->status == ERR_NOT_FOUND) {
            r->step = STEP_CREATED;
            run_op(r, tasks_create(r->a->tasks, r->user, &r->tasks[0], tasks_done_cb, r));
            return;
        }
        /* Found (the same answer as the first time) or a store failure (reported below). */
        /* fall through */
    case STEP_CREATED:
        if (res->status) {
            say(r, "I couldn't add that: %s", res->message ? res->message : "please try again.");
            run_end(r);
        } else {
            say(r, "Added ");
            say_title(r, res->task->title);
            say_details(r, res->task);
            say(r, ".");
            struct store_task copy;
            memset(&copy, 0, sizeof copy);
            task_copy(&copy, res->task);
            emit_card(r, &copy, false);
            emit_list_context(r, &copy, 1, "task_ref");
            task_clear(&copy);
            run_end(r);
        }
        return;
    case STEP_LISTED:
        if (res->status) {
            ck_turn_fail(r->t, "stream.error", NULL, true);
            run_free(r);
            return;
        }
        if (res->ntasks == 0)
            say(r, "Nothing here \u2014 no tasks match.");
        else
            say(r, "Here %s %zu task%s%s:", res->ntasks == 1 ? "is" : "are", res->ntasks,
                res->ntasks == 1 ? "" : "s", res->has_more ? " (showing the first ones)" : "");
        if (res->ntasks)
            emit_list(r, res->tasks, res->ntasks, "Tasks");
        run_end(r);
        return;
    case STEP_MATCHED:
        matched(r, res);
        return;
    case STEP_FETCHED:
        if (res->status == 0 && res->task) {
            r->tasks = xrealloc(r->tasks, (r->n + 1) * sizeof *r->tasks);
            memset(&r->tasks[r->n], 0, sizeof r->tasks[r->n]);
            task_copy(&r->tasks[r->n++], res->task);
        }
        if (r->next_id < r->nids) {
            r->step = STEP_FETCHED;
            run_op(r, tasks_get(r->a->tasks, r->user, r->ids[r->next_id++], tasks_done_cb, r));
            return;
        }
        if (r->n == 0) {
            say(r, "Those tasks no longer exist.");
            run_end(r);
            return;
        }
        {
            struct tasks_result fake = {.tasks = r->tasks, .ntasks = r->n};
            struct store_task *own = r->tasks;
            size_t n = r->n;
            r->tasks = NULL;
            r->n = 0;
            fake.tasks = own;
            matched(r, &fake);
            for (size_t i = 0; i < n; i++)
                task_clear(&own[i]);
            free(own);
        }
        return;
    case STEP_ACTED:
        acted(r, res);
        return;
    default:
        run_end(r);
    }
}

/* ---- positional targets: the ids shown last ---- */

/* Reads the newest hidden context of kind task_list / task_ref into r->ids. "it" takes the last
 * single task mentioned; positions index the last list shown. */
static bool history_ids(struct run *r, const struct store_list *items)
{
    const struct nlu_target *tg = &r->in.target;
    for (size_t i = 0; i < items->n; i++) {
        if (strcmp(items->items[i].type, "hidden_context_item") != 0)
            continue;
        cJSON *doc = json_parse(items->items[i].json, strlen(items->items[i].json), 32, NULL);
        const cJSON *content = NULL, *ids = NULL;
        const char *kind = NULL;
        json_get_obj(doc, "content", &content);
        json_get_str(content, "kind", &kind);
        json_get_arr(content, "task_ids", &ids);
        bool wanted = kind && ids &&
                      (strcmp(kind, "task_list") == 0 ||
                       (tg->kind == NLU_TARGET_LAST && strcmp(kind, "task_ref") == 0));
        if (!wanted) {
            cJSON_Delete(doc);
            continue;
        }
        int n = cJSON_GetArraySize(ids);
        int from = 0, count = 1;
        if (tg->kind == NLU_TARGET_POSITION) {
            from = tg->position < 0 ? n - 1 : tg->position - 1;
            count = tg->count > 0 ? tg->count : 1;
        } else if (n != 1) {
            cJSON_Delete(doc);
            return false; /* "it" after a list of several is ambiguous */
        }
        if (from < 0 || from >= n) {
            cJSON_Delete(doc);
            return false;
        }
        if (from + count > n)
            count = n - from;
        r->ids = xcalloc((size_t)count, sizeof *r->ids);
        for (int k = 0; k < count; k++) {
            const cJSON *id = cJSON_GetArrayItem(ids, from + k);
            if (cJSON_IsString(id) && strlen(id->valuestring) < ID_MAX)
                snprintf(r->ids[r->nids++], ID_MAX, "%s", id->valuestring);
        }
        cJSON_Delete(doc);
        return r->nids > 0;
    }
    return false;
}

static void history_done(struct store_job *job)
{
    struct run *r = job->data;
    r->waiting = false;
    if (r->cancelled) {
        ck_turn_finish(r->t);
        run_free(r);
        return;
    }
    if (job->status) {
        ck_turn_fail(r->t, "stream.error", NULL, true);
        run_free(r);
        return;
    }
    if (!history_ids(r, &job->list)) {
        say(r, r->in.target.kind == NLU_TARGET_LAST
                   ? "Which task do you mean? Name it, e.g. *complete the dentist one*."
                   : "I can't find that row in the last list I showed. Ask me to list your "
                     "tasks first.");
        run_end(r);
        return;
    }
    r->step = STEP_FETCHED;
    run_op(r, tasks_get(r->a->tasks, r->user, r->ids[r->next_id++], tasks_done_cb, r));
}

/* ---- widget actions ---- */

/* The task ids an action names: payload.task_id or payload.task_ids. */
static void action_ids(struct run *r)
{
    const cJSON *p = ck_turn_request(r->t)->payload;
    const char *one = NULL;
    const cJSON *many = NULL;
    json_get_str(p, "task_id", &one);
    json_get_arr(p, "task_ids", &many);
    int n = many ? cJSON_GetArraySize(many) : 0;
    r->ids = xcalloc((size_t)(n + 1), sizeof *r->ids);
    if (one && strlen(one) < ID_MAX)
        snprintf(r->ids[r->nids++], ID_MAX, "%s", one);
    for (int i = 0; i < n && i < BULK_LIMIT; i++) {
        const cJSON *id = cJSON_GetArrayItem(many, i);
        if (cJSON_IsString(id) && strlen(id->valuestring) < ID_MAX)
            snprintf(r->ids[r->nids++], ID_MAX, "%s", id->valuestring);
    }
}

/* For a list widget, the ids of its rows (keys), so the whole list can be redrawn. */
static void sender_list_ids(struct run *r)
{
    const struct store_item *sender = ck_turn_item(r->t);
    if (!sender)
        return;
    cJSON *doc = json_parse(sender->json, strlen(sender->json), 64, NULL);
    const cJSON *widget = NULL, *children = NULL;
    const char *type = NULL;
    json_get_obj(doc, "widget", &widget);
    json_get_str(widget, "type", &type);
    json_get_arr(widget, "children", &children);
    if (type && strcmp(type, "ListView") == 0 && children) {
        r->sender_is_list = true;
        int n = cJSON_GetArraySize(children);
        free(r->ids);
        r->ids = xcalloc((size_t)n + 1, sizeof *r->ids);
        r->nids = 0;
        for (const cJSON *row = children->child; row; row = row->next) {
            const char *key = NULL;
            json_get_str(row, "key", &key);
            if (key && strlen(key) < ID_MAX)
                snprintf(r->ids[r->nids++], ID_MAX, "%s", key);
        }
    }
    cJSON_Delete(doc);
}

static void action_context(struct run *r, const struct store_task *t)
{
    struct buf b;
    buf_init(&b, ANSWER_MAX);
    struct jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    jw_kv_str(&w, "kind", "widget_action");
    jw_kv_str(&w, "action", r->action);
    if (t) {
        jw_kv_str(&w, "task_id", t->id);
        jw_kv_str(&w, "title", t->title);
    }
    jw_kv_int(&w, "count", (int64_t)r->changed);
    jw_obj_end(&w);
    emit_context(r, b.data);
    buf_free(&b);
}

/* The form's fields (payload) as a task patch: empty dates and notes clear them. */
static cJSON *patch_from_form(const cJSON *payload)
{
    cJSON *patch = cJSON_CreateObject();
    static const char *fields[] = {"title", "due_date", "priority", "notes"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *v = NULL;
        if (json_get_str(payload, fields[i], &v) != 0)
            continue;
        if (!*v && i != 0 && i != 2)
            cJSON_AddNullToObject(patch, fields[i]);
        else if (i == 1 && strlen(v) > 10)
            continue; /* a date-time: handled below */
        else
            cJSON_AddStringToObject(patch, fields[i], v);
    }
    /* A DatePicker sends an ISO date-time; the task keeps the date part. */
    const char *due = NULL;
    if (json_get_str(payload, "due_date", &due) == 0 && strlen(due) > 10) {
        char day[11];
        memcpy(day, due, 10);
        day[10] = '\0';
        cJSON_DeleteItemFromObjectCaseSensitive(patch, "due_date");
        cJSON_AddStringToObject(patch, "due_date", day);
    }
    return patch;
}

static void replace_with_message_card(struct run *r, const char *text)
{
    struct buf wjson;
    buf_init(&wjson, 8192);
    struct jw w;
    jw_init(&w, &wjson);
    jw_obj_begin(&w);
    jw_kv_str(&w, "type", "Card");
    jw_key(&w, "children");
    jw_arr_begin(&w);
    jw_obj_begin(&w);
    jw_kv_str(&w, "type", "Text");
    jw_kv_str(&w, "value", text);
    jw_obj_end(&w);
    jw_arr_end(&w);
    jw_obj_end(&w);
    emit_widget(r, wjson.data, text, true, ck_turn_item(r->t));
    buf_free(&wjson);
}

static void action_start(struct run *r)
{
    const struct ck_request *req = ck_turn_request(r->t);
    r->action = req->action_type;
    struct tasks_app *app = r->a->tasks;
    action_ids(r);
    bool needs_sender = strcmp(r->action, "task.open") != 0;
    if ((r->nids == 0 && strncmp(r->action, "task.", 5) == 0) ||
        (needs_sender && !ck_turn_item(r->t))) {
        ck_turn_fail(r->t, "custom", "This button is missing its task.", false);
        run_free(r);
        return;
    }
    const char *id = r->ids[0];
    if (!strcmp(r->action, "task.complete") || !strcmp(r->action, "task.reopen")) {
        r->step = STEP_ACTION_DONE;
        run_op(r, tasks_set_done(app, r->user, id, !strcmp(r->action, "task.complete"),
                                 tasks_done_cb, r));
    } else if (!strcmp(r->action, "task.save")) {
        cJSON *patch = patch_from_form(req->payload);
        r->step = STEP_ACTION_DONE;
        run_op(r, tasks_update(app, r->user, id, patch, tasks_done_cb, r));
        cJSON_Delete(patch);
    } else if (!strcmp(r->action, "task.delete_confirmed")) {
        r->step = STEP_ACTION_DONE;
        r->next_id = 1;
        run_op(r, tasks_delete(app, r->user, id, tasks_done_cb, r));
    } else if (!strcmp(r->action, "task.edit") || !strcmp(r->action, "task.cancel_edit") ||
               !strcmp(r->action, "task.delete") || !strcmp(r->action, "task.open") ||
               !strcmp(r->action, "task.cancel_delete")) {
        if (!strcmp(r->action, "task.cancel_delete") && r->nids > 1) {
            replace_with_message_card(r, "Nothing was deleted.");
            run_end(r);
            return;
        }
        r->step = STEP_ACTION_LOADED;
        run_op(r, tasks_get(app, r->user, id, tasks_done_cb, r));
    } else {
        ck_turn_fail(r->t, "custom", "This action is not supported.", false);
        run_free(r);
    }
}

/* Redraws the sender after a change: a card shows the task and the turn ends; a list reloads
 * its rows (the turn ends when they are in, or at once when the store refuses). */
static void action_redraw(struct run *r, const struct store_task *changed)
{
    sender_list_ids(r);
    if (!r->sender_is_list || r->nids == 0) {
        struct store_task copy;
        memset(&copy, 0, sizeof copy);
        task_copy(&copy, changed);
        emit_card(r, &copy, true);
        task_clear(&copy);
        run_end(r);
        return;
    }
    keep_tasks(r, NULL, 0);
    r->next_id = 0;
    r->step = STEP_FETCHED;
    run_op(r, tasks_get(r->a->tasks, r->user, r->ids[r->next_id++], tasks_done_cb, r));
}

static void action_continue(struct run *r, const struct tasks_result *res)
{
    if (r->step == STEP_FETCHED) { /* redrawing a list row by row */
        if (res->status == 0 && res->task) {
            r->tasks = xrealloc(r->tasks, (r->n + 1) * sizeof *r->tasks);
            memset(&r->tasks[r->n], 0, sizeof r->tasks[r->n]);
            task_copy(&r->tasks[r->n++], res->task);
        }
        if (r->next_id < r->nids) {
            run_op(r, tasks_get(r->a->tasks, r->user, r->ids[r->next_id++], tasks_done_cb, r));
            return;
        }
        struct buf wjson, copy;
        buf_init(&wjson, ANSWER_MAX * 4);
        buf_init(&copy, ANSWER_MAX);
        struct jw w;
        jw_init(&w, &wjson);
        struct tasks_list_opts opts = {.title = "Tasks", .limit = 10, .empty = NULL};
        tasks_widget_list(&w, r->tasks, r->n, &opts, r->now_us);
        tasks_copy_text_list(&copy, r->tasks, r->n, r->now_us);
        emit_widget(r, wjson.data, copy.data, true, ck_turn_item(r->t));
        buf_free(&wjson);
        buf_free(&copy);
        run_end(r);
        return;
    }
    if (res->status) {
        ck_turn_fail(r->t, "custom", res->message ? res->message : "That task no longer exists.",
                     false);
        run_free(r);
        return;
    }
    if (r->step == STEP_ACTION_LOADED) {
        struct store_task copy;
        memset(&copy, 0, sizeof copy);
        task_copy(&copy, res->task);
        struct buf wjson, text;
        buf_init(&wjson, ANSWER_MAX * 4);
        buf_init(&text, ANSWER_MAX);
        struct jw w;
        jw_init(&w, &wjson);
        bool open = !strcmp(r->action, "task.open");
        if (!strcmp(r->action, "task.edit")) {
            tasks_widget_edit_form(&w, &copy);
            tasks_copy_text_edit_form(&text, &copy);
        } else if (!strcmp(r->action, "task.delete")) {
            tasks_widget_delete_confirm(&w, &copy, 1);
            tasks_copy_text_delete_confirm(&text, &copy, 1);
        } else {
            tasks_widget_card(&w, &copy, r->now_us);
            tasks_copy_text_card(&text, &copy, r->now_us);
        }
        emit_widget(r, wjson.data, text.data, !open, ck_turn_item(r->t));
        if (open)
            emit_list_context(r, &copy, 1, "task_ref");
        buf_free(&wjson);
        buf_free(&text);
        task_clear(&copy);
        run_end(r);
        return;
    }
    /* STEP_ACTION_DONE */
    r->changed++;
    if (!strcmp(r->action, "task.delete_confirmed")) {
        if (r->next_id < r->nids) {
            run_op(r, tasks_delete(r->a->tasks, r->user, r->ids[r->next_id++], tasks_done_cb, r));
            return;
        }
        char msg[96];
        snprintf(msg, sizeof msg, "Deleted %zu task%s.", r->changed, r->changed == 1 ? "" : "s");
        replace_with_message_card(r, msg);
        action_context(r, r->changed == 1 ? res->task : NULL);
        run_end(r);
        return;
    }
    action_context(r, res->task);
    action_redraw(r, res->task);
}

/* ---- the responder ---- */

static struct run *run_new(struct ck_turn *t, struct builtin_agent *a)
{
    struct run *r = xcalloc(1, sizeof *r);
    r->a = a;
    r->t = t;
    r->now_us = clock_wall_us();
    snprintf(r->user, sizeof r->user, "%s", ck_turn_user_id(t));
    buf_init(&r->text, ANSWER_MAX);
    buf_init(&r->done_titles, ANSWER_MAX);
    ck_turn_set_context(t, r);
    return r;
}

static void responder_start(struct ck_turn *t, void *data)
{
    struct run *r = run_new(t, data);
    if (ck_turn_request(t)->type == CK_THREADS_CUSTOM_ACTION)
        action_start(r);
    else
        message_start(r);
}

/* The client left. Only mark the run: the engine calls this from inside our own ck_turn_* calls
 * too (a send that fails synchronously while we emit), so freeing the run here would pull it out
 * from under the caller. A run is never idle: it is either inside one of its own call chains,
 * which end in run_end / run_free or start an operation, or waiting for an operation, whose
 * callback sees the flag and finishes the turn. */
static void responder_cancel(struct ck_turn *t, void *data)
{
    (void)data;
    struct run *r = ck_turn_context(t);
    if (r)
        r->cancelled = true;
}

/* A workflow's agent node: the turn's text is a message to answer, even in an action turn (the
 * approval that resumed the run). */
static void message_responder_start(struct ck_turn *t, void *data)
{
    message_start(run_new(t, data));
}

void builtin_agent_init(struct builtin_agent *a, struct tasks_app *tasks, const struct logger *log)
{
    a->tasks = tasks;
    a->log = log;
    a->responder.start = responder_start;
    a->responder.cancel = responder_cancel;
    a->responder.data = a;
    a->message_responder.start = message_responder_start;
    a->message_responder.cancel = responder_cancel;
    a->message_responder.data = a;
}

/* ---- sync actions (streaming: false) ---- */

struct sync_call {
    void (*cb)(void *cb_data, int status, const char *item_json);
    void *cb_data;
    struct store_item sender; /* json owned */
};

static void sync_done(const struct tasks_result *res, void *data)
{
    struct sync_call *s = data;
    if (res->status || !res->task) {
        s->cb(s->cb_data, res->status ? res->status : ERR_NOT_FOUND, NULL);
    } else {
        int64_t now = clock_wall_us();
        struct buf wjson, copy, item;
        buf_init(&wjson, ANSWER_MAX);
        buf_init(&copy, ANSWER_MAX);
        buf_init(&item, ANSWER_MAX * 2);
        struct jw w;
        jw_init(&w, &wjson);
        tasks_widget_card(&w, res->task, now);
        tasks_copy_text_card(&copy, res->task, now);
        jw_init(&w, &item);
        ck_write_widget_item(&w, s->sender.id, s->sender.thread_id, s->sender.created_us,
                             wjson.data, copy.data);
        s->cb(s->cb_data, 0, item.data);
        buf_free(&wjson);
        buf_free(&copy);
        buf_free(&item);
    }
    free(s->sender.json);
    free(s);
}

void builtin_agent_sync_action(void *data, const char *user_id, const struct ck_request *req,
                               const struct store_item *sender,
                               void (*cb)(void *cb_data, int status, const char *item_json),
                               void *cb_data)
{
    struct builtin_agent *a = data;
    const char *id = NULL;
    json_get_str(req->payload, "task_id", &id);
    bool complete = !strcmp(req->action_type, "task.complete");
    bool reopen = !strcmp(req->action_type, "task.reopen");
    if (!sender || !id || (!complete && !reopen)) {
        cb(cb_data, 0, NULL); /* nothing to update in place */
        return;
    }
    struct sync_call *s = xcalloc(1, sizeof *s);
    s->cb = cb;
    s->cb_data = cb_data;
    s->sender = *sender;
    s->sender.json = NULL;
    if (tasks_set_done(a->tasks, user_id, id, complete, sync_done, s)) {
        free(s);
        cb(cb_data, ERR_UNAVAILABLE, NULL);
    }
}
