#include "tasks/tools.h"

#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/id.h"
#include "core/json_write.h"
#include "core/xalloc.h"
#include "tasks/task.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVENT_JSON_MAX    (256 * 1024)       /* one task, worst-case escaping included */
#define TOOL_JSON_MAX     (16 * 1024 * 1024) /* a page of 100 such tasks */
#define TOOL_LIST_DEFAULT 20
#define TOOL_LIST_MAX     100

void tasks_app_init(struct tasks_app *app, const struct tasks_config *cfg)
{
    memset(app, 0, sizeof *app);
    app->cfg = *cfg;
    tasks_events_init(&app->events, cfg->loop, cfg->log);
}

void tasks_app_close(struct tasks_app *app)
{
    tasks_events_close_all(&app->events);
}

void tasks_app_free(struct tasks_app *app)
{
    tasks_events_free(&app->events);
}

/* ---- operations ---- */

enum call_kind { CALL_CREATE, CALL_GET, CALL_UPDATE, CALL_SET_DONE, CALL_DELETE, CALL_LIST };

/* One operation in flight: its store job (reused for each step: update is a read, then a write)
 * and where to report. Owned by itself; freed after the callback. */
struct tasks_call {
    struct store_job job;
    struct tasks_app *app;
    enum call_kind kind;
    bool done;    /* CALL_SET_DONE: the wanted state */
    cJSON *patch; /* CALL_UPDATE: owned copy */
    tasks_cb cb;
    void *data;
};

static void call_free(struct tasks_call *c)
{
    store_job_clear(&c->job); /* the task's strings and the list rows belong to the job */
    cJSON_Delete(c->patch);
    free(c);
}

static void call_finish(struct tasks_call *c, int status, const char *message, bool changed)
{
    struct tasks_result res = {.status = status, .message = message, .changed = changed};
    if (!status) {
        if (c->kind == CALL_LIST) {
            res.tasks = c->job.list.tasks;
            res.ntasks = c->job.list.n;
            res.has_more = c->job.list.has_more;
        } else {
            res.task = &c->job.task;
        }
    }
    c->cb(&res, c->data);
    call_free(c);
}

static void publish(struct tasks_call *c, const char *type)
{
    struct buf b;
    buf_init(&b, EVENT_JSON_MAX);
    struct jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    jw_kv_str(&w, "type", type);
    jw_key(&w, "task");
    task_write_json(&w, &c->job.task);
    jw_obj_end(&w);
    if (jw_done(&w))
        log_error(c->app->cfg.log, "%s event for %s not sent: %s", type, c->job.task.id,
                  err_str(jw_error(&w)));
    else
        tasks_events_publish(&c->app->events, c->job.user_id, b.data, b.len);
    buf_free(&b);
}

static void call_store_failed(struct tasks_call *c)
{
    struct store_job *job = &c->job;
    char msg[ID_MAX + 64];
    if (job->status == ERR_NOT_FOUND && c->kind != CALL_LIST) {
        snprintf(msg, sizeof msg, "no task %s", job->task.id);
        call_finish(c, ERR_NOT_FOUND, msg, false);
        return;
    }
    if (job->status == ERR_NOT_FOUND || job->status == ERR_INVALID) {
        /* A list only fails this way on its cursor: the row it names is gone. */
        call_finish(c, ERR_INVALID, "after names no task of this user (it may have been deleted)",
                    false);
        return;
    }
    log_error(c->app->cfg.log, "tasks: %s for user %s failed: %s", store_op_name(job->op),
              job->user_id, job->error[0] ? job->error : err_str(job->status));
    call_finish(c, ERR_UNAVAILABLE, "the task store is unavailable; try again shortly", false);
}

static void call_resubmit(struct tasks_call *c, enum store_op op)
{
    c->job.op = op;
    c->job.status = 0;
    c->job.error[0] = '\0';
    if (store_submit(c->app->cfg.store, &c->job))
        call_finish(c, ERR_UNAVAILABLE, "the task store is shutting down", false);
}

static void call_done(struct store_job *job)
{
    struct tasks_call *c = job->data;
    if (job->status) {
        call_store_failed(c);
        return;
    }
    char why[TASK_WHY_MAX];
    switch (job->op) {
    case STORE_TASK_GET:
        if (c->kind == CALL_UPDATE) {
            if (task_from_json(c->patch, true, &job->task, why)) {
                call_finish(c, ERR_INVALID, why, false);
                return;
            }
        } else if (c->kind == CALL_SET_DONE) {
            if (!task_set_done(&job->task, c->done, clock_wall_us())) {
                call_finish(c, 0, NULL, false);
                return;
            }
        } else {
            call_finish(c, 0, NULL, false);
            return;
        }
        job->task.updated_us = clock_wall_us();
        call_resubmit(c, STORE_TASK_UPDATE);
        return;
    case STORE_TASK_CREATE:
        publish(c, "task.created");
        call_finish(c, 0, NULL, true);
        return;
    case STORE_TASK_UPDATE:
        publish(c, "task.updated");
        call_finish(c, 0, NULL, true);
        return;
    case STORE_TASK_DELETE:
        publish(c, "task.deleted");
        call_finish(c, 0, NULL, true);
        return;
    default:
        call_finish(c, 0, NULL, false);
        return;
    }
}

static struct tasks_call *call_new(struct tasks_app *app, const char *user_id, enum call_kind kind,
                                   enum store_op op, tasks_cb cb, void *data)
{
    struct tasks_call *c = xcalloc(1, sizeof *c);
    c->app = app;
    c->kind = kind;
    c->cb = cb;
    c->data = data;
    store_job_init(&c->job, op, call_done, c);
    snprintf(c->job.user_id, sizeof c->job.user_id, "%s", user_id);
    return c;
}

static int call_submit(struct tasks_call *c)
{
    if (store_submit(c->app->cfg.store, &c->job)) {
        call_free(c);
        return ERR_UNAVAILABLE;
    }
    return 0;
}

int tasks_create(struct tasks_app *app, const char *user_id, struct store_task *t, tasks_cb cb,
                 void *data)
{
    struct tasks_call *c = call_new(app, user_id, CALL_CREATE, STORE_TASK_CREATE, cb, data);
    struct store_task *jt = &c->job.task;
    *jt = *t;
    t->title = t->notes = t->tags_json = NULL;
    snprintf(jt->user_id, sizeof jt->user_id, "%s", user_id);
    if (!jt->id[0] && id_new(TASK_ID_PREFIX, jt->id)) {
        call_free(c);
        return ERR_UNAVAILABLE;
    }
    if (!jt->created_us)
        jt->created_us = clock_wall_us();
    if (!jt->updated_us)
        jt->updated_us = jt->created_us;
    if (!jt->tags_json)
        jt->tags_json = xstrdup("[]");
    return call_submit(c);
}

static struct tasks_call *call_for_id(struct tasks_app *app, const char *user_id, const char *id,
                                      enum call_kind kind, enum store_op op, tasks_cb cb,
                                      void *data)
{
    struct tasks_call *c = call_new(app, user_id, kind, op, cb, data);
    snprintf(c->job.task.id, sizeof c->job.task.id, "%s", id);
    snprintf(c->job.task.user_id, sizeof c->job.task.user_id, "%s", user_id);
    return c;
}

int tasks_get(struct tasks_app *app, const char *user_id, const char *id, tasks_cb cb, void *data)
{
    return call_submit(call_for_id(app, user_id, id, CALL_GET, STORE_TASK_GET, cb, data));
}

int tasks_update(struct tasks_app *app, const char *user_id, const char *id, const cJSON *patch,
                 tasks_cb cb, void *data)
{
    struct tasks_call *c = call_for_id(app, user_id, id, CALL_UPDATE, STORE_TASK_GET, cb, data);
    c->patch = cJSON_Duplicate(patch, true);
    if (!c->patch)
        c->patch = cJSON_CreateObject();
    return call_submit(c);
}

int tasks_set_done(struct tasks_app *app, const char *user_id, const char *id, bool done,
                   tasks_cb cb, void *data)
{
    struct tasks_call *c = call_for_id(app, user_id, id, CALL_SET_DONE, STORE_TASK_GET, cb, data);
    c->done = done;
    return call_submit(c);
}

int tasks_delete(struct tasks_app *app, const char *user_id, const char *id, tasks_cb cb,
                 void *data)
{
    return call_submit(call_for_id(app, user_id, id, CALL_DELETE, STORE_TASK_DELETE, cb, data));
}

int tasks_list(struct tasks_app *app, const char *user_id, const struct store_task_filter *filter,
               const struct store_page_req *page, tasks_cb cb, void *data)
{
    struct tasks_call *c = call_new(app, user_id, CALL_LIST, STORE_TASK_LIST, cb, data);
    c->job.task_filter = *filter;
    c->job.page = *page;
    return call_submit(c);
}

/* ---- tools ---- */

/* The schemas say what the validation below enforces, so a model that follows them is never
 * refused. Kept as one literal: it is data, and the tests parse it. */
static const char tools_schema[] =
    "["
    "{\"type\":\"function\",\"name\":\"create_task\","
    "\"description\":\"Create a task for the user. Returns {\\\"task\\\":{...}} with the new "
    "task's id.\","
    "\"parameters\":{\"type\":\"object\",\"properties\":{"
    "\"title\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":500,"
    "\"description\":\"What needs doing, 1 to 500 characters.\"},"
    "\"notes\":{\"type\":\"string\",\"maxLength\":10000,"
    "\"description\":\"Longer details, up to 10000 characters.\"},"
    "\"due_date\":{\"type\":\"string\",\"pattern\":\"^[0-9]{4}-[0-9]{2}-[0-9]{2}$\","
    "\"description\":\"Due date as YYYY-MM-DD, in the user's time zone.\"},"
    "\"due_time\":{\"type\":\"string\",\"pattern\":\"^([01][0-9]|2[0-3]):[0-5][0-9]$\","
    "\"description\":\"Time of day as HH:MM (24-hour); only together with due_date.\"},"
    "\"tz\":{\"type\":\"string\",\"description\":\"IANA time zone of the due date and time, "
    "such as Europe/Paris; UTC when omitted.\"},"
    "\"priority\":{\"type\":\"string\",\"enum\":[\"low\",\"normal\",\"high\"],"
    "\"description\":\"normal when omitted.\"},"
    "\"tags\":{\"type\":\"array\",\"maxItems\":20,\"items\":{\"type\":\"string\","
    "\"maxLength\":64},\"description\":\"Labels such as groceries: letters, digits, - and _; "
    "lowercased, a leading # is dropped.\"}"
    "},\"required\":[\"title\"],\"additionalProperties\":false}},"

    "{\"type\":\"function\",\"name\":\"list_tasks\","
    "\"description\":\"List the user's tasks, oldest first. Returns {\\\"tasks\\\":[...],"
    "\\\"has_more\\\":bool}.\","
    "\"parameters\":{\"type\":\"object\",\"properties\":{"
    "\"status\":{\"type\":\"string\",\"enum\":[\"open\",\"done\",\"all\"],"
    "\"description\":\"open when omitted.\"},"
    "\"tag\":{\"type\":\"string\",\"description\":\"Only tasks with this tag.\"},"
    "\"priority\":{\"type\":\"string\",\"enum\":[\"low\",\"normal\",\"high\"]},"
    "\"due_before\":{\"type\":\"string\",\"pattern\":\"^[0-9]{4}-[0-9]{2}-[0-9]{2}$\","
    "\"description\":\"Only tasks due on or before this date (YYYY-MM-DD).\"},"
    "\"due_after\":{\"type\":\"string\",\"pattern\":\"^[0-9]{4}-[0-9]{2}-[0-9]{2}$\","
    "\"description\":\"Only tasks due on or after this date (YYYY-MM-DD).\"},"
    "\"q\":{\"type\":\"string\",\"maxLength\":256,"
    "\"description\":\"Words to find in the title or notes (case-insensitive).\"},"
    "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,"
    "\"description\":\"At most this many tasks; 20 when omitted.\"}"
    "},\"additionalProperties\":false}},"

    "{\"type\":\"function\",\"name\":\"update_task\","
    "\"description\":\"Change fields of a task; fields left out keep their value, null clears "
    "notes, due_date, due_time, tz or tags. Returns {\\\"task\\\":{...}}.\","
    "\"parameters\":{\"type\":\"object\",\"properties\":{"
    "\"task_id\":{\"type\":\"string\",\"description\":\"The task's id (task_...).\"},"
    "\"title\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":500},"
    "\"notes\":{\"type\":[\"string\",\"null\"],\"maxLength\":10000},"
    "\"status\":{\"type\":\"string\",\"enum\":[\"open\",\"done\"]},"
    "\"due_date\":{\"type\":[\"string\",\"null\"],"
    "\"pattern\":\"^[0-9]{4}-[0-9]{2}-[0-9]{2}$\"},"
    "\"due_time\":{\"type\":[\"string\",\"null\"],"
    "\"pattern\":\"^([01][0-9]|2[0-3]):[0-5][0-9]$\"},"
    "\"tz\":{\"type\":[\"string\",\"null\"]},"
    "\"priority\":{\"type\":\"string\",\"enum\":[\"low\",\"normal\",\"high\"]},"
    "\"tags\":{\"type\":[\"array\",\"null\"],\"maxItems\":20,\"items\":{\"type\":\"string\","
    "\"maxLength\":64}}"
    "},\"required\":[\"task_id\"],\"additionalProperties\":false}},"

    "{\"type\":\"function\",\"name\":\"complete_task\","
    "\"description\":\"Mark a task done. Returns {\\\"task\\\":{...}}.\","
    "\"parameters\":{\"type\":\"object\",\"properties\":{"
    "\"task_id\":{\"type\":\"string\",\"description\":\"The task's id (task_...).\"}"
    "},\"required\":[\"task_id\"],\"additionalProperties\":false}},"

    "{\"type\":\"function\",\"name\":\"reopen_task\","
    "\"description\":\"Mark a done task open again. Returns {\\\"task\\\":{...}}.\","
    "\"parameters\":{\"type\":\"object\",\"properties\":{"
    "\"task_id\":{\"type\":\"string\",\"description\":\"The task's id (task_...).\"}"
    "},\"required\":[\"task_id\"],\"additionalProperties\":false}},"

    "{\"type\":\"function\",\"name\":\"delete_task\","
    "\"description\":\"Delete a task for good. Returns {\\\"deleted\\\":\\\"task_...\\\","
    "\\\"title\\\":\\\"...\\\"}.\","
    "\"parameters\":{\"type\":\"object\",\"properties\":{"
    "\"task_id\":{\"type\":\"string\",\"description\":\"The task's id (task_...).\"}"
    "},\"required\":[\"task_id\"],\"additionalProperties\":false}}"
    "]";

static const char *const tool_names[] = {"create_task",   "list_tasks",  "update_task",
                                         "complete_task", "reopen_task", "delete_task"};
enum tool_id { TOOL_CREATE, TOOL_LIST, TOOL_UPDATE, TOOL_COMPLETE, TOOL_REOPEN, TOOL_DELETE };
#define TOOL_COUNT ((int)(sizeof tool_names / sizeof tool_names[0]))

const char *tasks_tools_schema_json(void)
{
    return tools_schema;
}

static int tool_find(const char *name)
{
    for (int i = 0; name && i < TOOL_COUNT; i++)
        if (strcmp(tool_names[i], name) == 0)
            return i;
    return -1;
}

bool tasks_tool_exists(const char *name)
{
    return tool_find(name) >= 0;
}

/* A tool run: the caller's callback, and a timer to report errors found before any store work
 * on a later loop turn (the callback never runs inside tasks_tool_run). Owned by itself. */
struct tool_run {
    uv_timer_t defer;
    int tool;
    tasks_cb cb;
    void *data;
    int status;
    char why[TASK_WHY_MAX + 64];
};

/* Answers the caller with res, adding the JSON text for the model. */
static void tool_answer(struct tool_run *run, struct tasks_result *res)
{
    struct buf b;
    buf_init(&b, TOOL_JSON_MAX);
    struct jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    if (res->status) {
        jw_kv_str(&w, "error", res->message ? res->message : err_str(res->status));
    } else if (run->tool == TOOL_LIST) {
        jw_key(&w, "tasks");
        jw_arr_begin(&w);
        for (size_t i = 0; i < res->ntasks; i++)
            task_write_json(&w, &res->tasks[i]);
        jw_arr_end(&w);
        jw_kv_bool(&w, "has_more", res->has_more);
    } else if (run->tool == TOOL_DELETE) {
        jw_kv_str(&w, "deleted", res->task->id);
        jw_kv_str(&w, "title", res->task->title);
    } else {
        jw_key(&w, "task");
        task_write_json(&w, res->task);
    }
    jw_obj_end(&w);
    if (jw_done(&w)) {
        buf_reset(&b);
        buf_append_str(&b, "{\"error\":\"the result was too large to return\"}");
    }
    res->json = b.data;
    res->json_len = b.len;
    run->cb(res, run->data);
    buf_free(&b);
}

static void tool_op_done(const struct tasks_result *res, void *data)
{
    struct tool_run *run = data;
    struct tasks_result copy = *res;
    char msg[TASK_WHY_MAX + 128];
    if (res->status == ERR_NOT_FOUND) {
        snprintf(msg, sizeof msg, "%s (it may have been deleted); call list_tasks to find the task",
                 res->message ? res->message : "no such task");
        copy.message = msg;
    }
    tool_answer(run, &copy);
    free(run);
}

static void tool_deferred_closed(uv_handle_t *h)
{
    free(h->data);
}

static void tool_deferred(uv_timer_t *t)
{
    struct tool_run *run = t->data;
    struct tasks_result res = {.status = run->status, .message = run->why};
    tool_answer(run, &res);
    uv_close((uv_handle_t *)&run->defer, tool_deferred_closed);
}

/* Reports an error on the next loop turn. */
static int tool_fail(struct tasks_app *app, struct tool_run *run, int status)
{
    run->status = status;
    uv_timer_init(app->cfg.loop, &run->defer);
    run->defer.data = run;
    uv_timer_start(&run->defer, tool_deferred, 0, 0);
    return 0;
}

/* task_id: a string naming a task id. */
static int tool_task_id(const cJSON *args, const char **id, char *why)
{
    const char *s = NULL;
    if (json_get_str(args, "task_id", &s) != 0) {
        snprintf(why, TASK_WHY_MAX, "task_id is required: the id of a task (task_...)");
        return ERR_INVALID;
    }
    if (!id_is_valid(TASK_ID_PREFIX, s, strlen(s))) {
        snprintf(why, TASK_WHY_MAX,
                 "task_id must be a task id such as task_ followed by 32 hex digits, as "
                 "create_task and list_tasks return");
        return ERR_INVALID;
    }
    *id = s;
    return 0;
}

static int opt_date(const cJSON *args, const char *key, char out[11], char *why)
{
    const char *s = NULL;
    int rc = json_get_str(args, key, &s);
    if (rc == 1)
        return 0;
    if (rc < 0 || task_validate_date(s, why)) {
        snprintf(why, TASK_WHY_MAX, "%s must be a date written YYYY-MM-DD", key);
        return ERR_INVALID;
    }
    memcpy(out, s, 11);
    return 0;
}

static int bad(char *why, const char *msg)
{
    snprintf(why, TASK_WHY_MAX, "%s", msg);
    return ERR_INVALID;
}

/* list_tasks arguments to a filter and a page. */
static int tool_list_args(const cJSON *args, struct store_task_filter *f,
                          struct store_page_req *page, char *why)
{
    const char *s = NULL;
    int64_t limit = TOOL_LIST_DEFAULT;
    memset(f, 0, sizeof *f);
    memset(page, 0, sizeof *page);
    f->status = 0;
    f->priority = -1;
    int rc = json_get_str(args, "status", &s);
    if (rc == 0 && strcmp(s, "all") == 0)
        f->status = -1;
    else if (rc == 0 && strcmp(s, "done") == 0)
        f->status = 1;
    else if (rc < 0 || (rc == 0 && strcmp(s, "open") != 0))
        return bad(why, "status must be \"open\", \"done\" or \"all\"");
    rc = json_get_str(args, "priority", &s);
    if (rc == 0)
        f->priority = task_parse_priority(s);
    if (rc < 0 || f->priority == ERR_INVALID)
        return bad(why, "priority must be \"low\", \"normal\" or \"high\"");
    rc = json_get_str(args, "tag", &s);
    if (rc < 0)
        return bad(why, "tag must be a string");
    if (rc == 0 && s[0]) {
        char tag[TASK_TAG_MAX * 4 + 1];
        if (task_normalize_tag(s, tag, sizeof tag, why))
            return ERR_INVALID;
        if (strlen(tag) >= sizeof f->tag)
            return bad(why, "tag is too long to search for (at most 64 bytes)");
        memcpy(f->tag, tag, strlen(tag) + 1);
    }
    rc = json_get_str(args, "q", &s);
    if (rc < 0 || (rc == 0 && strlen(s) > TASK_QUERY_MAX))
        return bad(why, "q must be a string of at most 256 bytes");
    if (rc == 0)
        snprintf(f->q, sizeof f->q, "%s", s);
    if (opt_date(args, "due_before", f->due_before, why) ||
        opt_date(args, "due_after", f->due_after, why))
        return ERR_INVALID;
    f->has_due = f->due_before[0] || f->due_after[0];
    if (json_get_int(args, "limit", 1, TOOL_LIST_MAX, &limit) < 0)
        return bad(why, "limit must be a whole number from 1 to 100");
    page->limit = (int)limit;
    return 0;
}

static int tool_start(struct tasks_app *app, const char *user_id, struct tool_run *run,
                      const cJSON *args)
{
    const char *id = NULL;
    switch (run->tool) {
    case TOOL_CREATE: {
        struct store_task t;
        memset(&t, 0, sizeof t);
        if (task_from_json(args, false, &t, run->why))
            return ERR_INVALID;
        return tasks_create(app, user_id, &t, tool_op_done, run);
    }
    case TOOL_LIST: {
        struct store_task_filter f;
        struct store_page_req page;
        if (tool_list_args(args, &f, &page, run->why))
            return ERR_INVALID;
        return tasks_list(app, user_id, &f, &page, tool_op_done, run);
    }
    case TOOL_UPDATE:
        if (tool_task_id(args, &id, run->why) || task_check_patch(args, run->why))
            return ERR_INVALID;
        return tasks_update(app, user_id, id, args, tool_op_done, run);
    case TOOL_COMPLETE:
    case TOOL_REOPEN:
        if (tool_task_id(args, &id, run->why))
            return ERR_INVALID;
        return tasks_set_done(app, user_id, id, run->tool == TOOL_COMPLETE, tool_op_done, run);
    default:
        if (tool_task_id(args, &id, run->why))
            return ERR_INVALID;
        return tasks_delete(app, user_id, id, tool_op_done, run);
    }
}

int tasks_tool_run(struct tasks_app *app, const char *user_id, const char *name, const cJSON *args,
                   tasks_cb cb, void *data)
{
    struct tool_run *run = xcalloc(1, sizeof *run);
    run->cb = cb;
    run->data = data;
    run->tool = tool_find(name);
    cJSON *empty = NULL;
    if (!args || cJSON_IsNull(args))
        args = empty = cJSON_CreateObject();
    int rc;
    if (run->tool < 0) {
        snprintf(run->why, sizeof run->why,
                 "unknown tool %.40s; the task tools are create_task, list_tasks, update_task, "
                 "complete_task, reopen_task and delete_task",
                 name ? name : "(none)");
        rc = ERR_INVALID;
    } else if (!cJSON_IsObject(args)) {
        snprintf(run->why, sizeof run->why, "the arguments of %s must be a JSON object",
                 tool_names[run->tool]);
        rc = ERR_INVALID;
    } else {
        rc = tool_start(app, user_id, run, args);
        if (rc == ERR_UNAVAILABLE)
            snprintf(run->why, sizeof run->why, "the task store is shutting down");
    }
    cJSON_Delete(empty);
    if (rc)
        return tool_fail(app, run, rc);
    return 0;
}
