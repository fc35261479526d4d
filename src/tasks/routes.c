#include "tasks/routes.h"

#include "auth/sessions.h"
#include "core/err.h"
#include "core/json_read.h"
#include "core/json_write.h"
#include "http/response.h"
#include "tasks/task.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TASK_JSON_MAX  (256 * 1024)       /* one task, worst-case escaping included */
#define PAGE_JSON_MAX  (16 * 1024 * 1024) /* a page of 100 such tasks */
#define PAGE_DEFAULT   50
#define PAGE_MAX       100
#define BODY_MAX_DEPTH 16

/* ---- answers ---- */

static void respond_task(struct http_request *req, int status, const struct store_task *t)
{
    struct buf b;
    buf_init(&b, TASK_JSON_MAX);
    struct jw w;
    jw_init(&w, &b);
    task_write_json(&w, t);
    if (jw_done(&w))
        http_respond_error(req, 500, "internal_error", "the task could not be encoded");
    else
        http_respond_json(req, status, &b);
    buf_free(&b);
}

static void respond_failure(struct http_request *req, const struct tasks_result *res)
{
    if (res->status == ERR_INVALID)
        http_respond_error(req, 400, "invalid_task", "%s", res->message);
    else if (res->status == ERR_NOT_FOUND)
        http_respond_error(req, 404, "task_not_found", "%s", res->message);
    else
        http_respond_error(req, 503, "store_unavailable", "%s", res->message);
}

static void respond_not_accepting(struct http_request *req)
{
    http_respond_error(req, 503, "store_unavailable", "the store is not accepting work");
}

/* ---- request parts ---- */

/* cJSON keeps strings as C strings, so a "\u0000" inside a value would silently cut it short:
 * such a body is refused rather than stored as something the client never sent. */
static bool has_nul_escape(const char *s, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (s[i] != '\\')
            continue;
        if (len - i >= 6 && memcmp(s + i + 1, "u0000", 5) == 0)
            return true;
        i++; /* the escaped character, which may be a backslash itself */
    }
    return false;
}

/* Parses the JSON body of a POST or PATCH; on failure the request is answered and NULL
 * returned. */
static cJSON *read_body(struct http_request *req)
{
    size_t off = 0;
    if (req->body.len == 0) {
        http_respond_error(req, 400, "invalid_json", "a JSON object with the task is required");
        return NULL;
    }
    cJSON *doc = json_parse(req->body.data, req->body.len, BODY_MAX_DEPTH, &off);
    if (!doc) {
        http_respond_error(req, 400, "invalid_json", "the body is not valid JSON (at byte %zu)",
                           off);
        return NULL;
    }
    if (!cJSON_IsObject(doc)) {
        http_respond_error(req, 400, "invalid_task", "the body must be a JSON object");
        cJSON_Delete(doc);
        return NULL;
    }
    if (has_nul_escape(req->body.data, req->body.len)) {
        http_respond_error(req, 400, "invalid_task", "task fields must not contain NUL characters");
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

/* The {id} of the path; a malformed id is no task of anyone's, so it answers 404. */
static int path_task_id(struct http_request *req, char id[ID_MAX])
{
    int rc = http_request_param(req, "id", id, ID_MAX);
    if (rc == 1 && id_is_valid(TASK_ID_PREFIX, id, strlen(id)))
        return 0;
    http_respond_error(req, 404, "task_not_found", "no task with this id");
    return -1;
}

static int bad_query(struct http_request *req, const char *fmt, const char *name)
{
    http_respond_error(req, 400, "invalid_request", fmt, name);
    return -1;
}

/* A query parameter into out: 1 present (non-empty), 0 absent, -1 answered 400. */
static int query(struct http_request *req, const char *name, char *out, size_t outlen)
{
    int rc = http_request_query(req, name, out, outlen);
    if (rc == ERR_TOO_BIG)
        return bad_query(req, "the query parameter %s is too long", name);
    if (rc < 0)
        return bad_query(req, "the query parameter %s is not properly escaped", name);
    return rc == 1 && out[0] ? 1 : 0;
}

static int parse_list_query(struct http_request *req, struct store_task_filter *f,
                            struct store_page_req *page)
{
    char v[TASK_QUERY_MAX + 1], why[TASK_WHY_MAX];
    int rc;
    memset(f, 0, sizeof *f);
    memset(page, 0, sizeof *page);
    f->status = -1;
    f->priority = -1;
    page->limit = PAGE_DEFAULT;
    if ((rc = query(req, "status", v, sizeof v)) < 0)
        return -1;
    if (rc) {
        if (strcmp(v, "open") == 0)
            f->status = 0;
        else if (strcmp(v, "done") == 0)
            f->status = 1;
        else if (strcmp(v, "all") != 0)
            return bad_query(req, "%s must be open, done or all", "status");
    }
    if ((rc = query(req, "priority", v, sizeof v)) < 0)
        return -1;
    if (rc && (f->priority = task_parse_priority(v)) < 0)
        return bad_query(req, "%s must be low, normal or high", "priority");
    if ((rc = query(req, "tag", v, sizeof v)) < 0)
        return -1;
    if (rc) {
        char tag[TASK_TAG_MAX * 4 + 1];
        if (task_normalize_tag(v, tag, sizeof tag, why)) {
            http_respond_error(req, 400, "invalid_request", "tag: %s", why);
            return -1;
        }
        if (strlen(tag) >= sizeof f->tag)
            return bad_query(req, "%s is too long to search for (at most 64 bytes)", "tag");
        memcpy(f->tag, tag, strlen(tag) + 1);
    }
    if ((rc = query(req, "due_before", f->due_before, sizeof f->due_before)) < 0)
        return -1;
    if (rc && task_validate_date(f->due_before, why))
        return bad_query(req, "%s must be a date written YYYY-MM-DD", "due_before");
    if ((rc = query(req, "due_after", f->due_after, sizeof f->due_after)) < 0)
        return -1;
    if (rc && task_validate_date(f->due_after, why))
        return bad_query(req, "%s must be a date written YYYY-MM-DD", "due_after");
    f->has_due = f->due_before[0] || f->due_after[0];
    if (query(req, "q", f->q, sizeof f->q) < 0)
        return -1;
    if ((rc = query(req, "limit", v, sizeof v)) < 0)
        return -1;
    if (rc) {
        char *end;
        long n = strtol(v, &end, 10);
        if (*end || v[0] < '0' || v[0] > '9' || n < 1 || n > PAGE_MAX)
            return bad_query(req, "%s must be a whole number from 1 to 100", "limit");
        page->limit = (int)n;
    }
    if ((rc = query(req, "after", page->after, sizeof page->after)) < 0)
        return -1;
    if (rc && !id_is_valid(TASK_ID_PREFIX, page->after, strlen(page->after)))
        return bad_query(req, "%s must be a task id from a previous page", "after");
    if ((rc = query(req, "order", v, sizeof v)) < 0)
        return -1;
    if (rc) {
        if (strcmp(v, "desc") == 0)
            page->desc = true;
        else if (strcmp(v, "asc") != 0)
            return bad_query(req, "%s must be asc or desc", "order");
    }
    return 0;
}

/* ---- GET /api/tasks ---- */

static void list_done(const struct tasks_result *res, void *data)
{
    struct http_request *req = data;
    if (res->status == ERR_INVALID) {
        http_respond_error(req, 400, "invalid_request", "%s", res->message);
        return;
    }
    if (res->status) {
        respond_failure(req, res);
        return;
    }
    struct buf b;
    buf_init(&b, PAGE_JSON_MAX);
    struct jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    jw_key(&w, "data");
    jw_arr_begin(&w);
    for (size_t i = 0; i < res->ntasks; i++)
        task_write_json(&w, &res->tasks[i]);
    jw_arr_end(&w);
    jw_kv_bool(&w, "has_more", res->has_more);
    if (res->has_more && res->ntasks)
        jw_kv_str(&w, "after", res->tasks[res->ntasks - 1].id);
    jw_obj_end(&w);
    if (jw_done(&w))
        http_respond_error(req, 500, "internal_error", "the page did not fit the buffer");
    else
        http_respond_json(req, 200, &b);
    buf_free(&b);
}

static void list_authed(struct http_request *req, const struct store_session *s, void *data)
{
    struct tasks_app *app = data;
    struct store_task_filter f;
    struct store_page_req page;
    if (parse_list_query(req, &f, &page))
        return;
    if (tasks_list(app, s->user_id, &f, &page, list_done, req))
        respond_not_accepting(req);
}

/* ---- POST /api/tasks ---- */

static void create_done(const struct tasks_result *res, void *data)
{
    struct http_request *req = data;
    if (res->status) {
        respond_failure(req, res);
        return;
    }
    char location[ID_MAX + 16];
    snprintf(location, sizeof location, "/api/tasks/%s", res->task->id);
    http_response_header(req, "Location", location);
    respond_task(req, 201, res->task);
}

static void create_authed(struct http_request *req, const struct store_session *s, void *data)
{
    struct tasks_app *app = data;
    char why[TASK_WHY_MAX];
    cJSON *doc = read_body(req);
    if (!doc)
        return;
    struct store_task t;
    memset(&t, 0, sizeof t);
    int rc = task_from_json(doc, false, &t, why);
    cJSON_Delete(doc);
    if (rc) {
        http_respond_error(req, 400, "invalid_task", "%s", why);
        return;
    }
    if (tasks_create(app, s->user_id, &t, create_done, req))
        respond_not_accepting(req);
}

/* ---- GET, PATCH, DELETE /api/tasks/{id} ---- */

static void task_done(const struct tasks_result *res, void *data)
{
    struct http_request *req = data;
    if (res->status)
        respond_failure(req, res);
    else
        respond_task(req, 200, res->task);
}

static void get_authed(struct http_request *req, const struct store_session *s, void *data)
{
    char id[ID_MAX];
    if (path_task_id(req, id))
        return;
    if (tasks_get(data, s->user_id, id, task_done, req))
        respond_not_accepting(req);
}

static void patch_authed(struct http_request *req, const struct store_session *s, void *data)
{
    char id[ID_MAX], why[TASK_WHY_MAX];
    if (path_task_id(req, id))
        return;
    cJSON *doc = read_body(req);
    if (!doc)
        return;
    if (task_check_patch(doc, why))
        http_respond_error(req, 400, "invalid_task", "%s", why);
    else if (tasks_update(data, s->user_id, id, doc, task_done, req))
        respond_not_accepting(req);
    cJSON_Delete(doc);
}

static void delete_done(const struct tasks_result *res, void *data)
{
    struct http_request *req = data;
    if (res->status)
        respond_failure(req, res);
    else
        http_respond(req, 204, NULL, NULL, 0);
}

static void delete_authed(struct http_request *req, const struct store_session *s, void *data)
{
    char id[ID_MAX];
    if (path_task_id(req, id))
        return;
    if (tasks_delete(data, s->user_id, id, delete_done, req))
        respond_not_accepting(req);
}

/* ---- GET /api/events ---- */

static void events_authed(struct http_request *req, const struct store_session *s, void *data)
{
    struct tasks_app *app = data;
    if (req->head_only) { /* a HEAD answer has no body, so there is no stream to hold open */
        http_response_header(req, "Cache-Control", "no-cache");
        http_respond(req, 200, "text/event-stream", NULL, 0);
        return;
    }
    tasks_events_subscribe(&app->events, s->user_id, req);
}

/* ---- registration ---- */

#define AUTHED_ROUTE(name)                                                                         \
    static void route_##name(struct http_request *req, void *data)                                 \
    {                                                                                              \
        struct tasks_app *app = data;                                                              \
        auth_with_session(app->cfg.auth, req, name##_authed, app);                                 \
    }

AUTHED_ROUTE(list)
AUTHED_ROUTE(create)
AUTHED_ROUTE(get)
AUTHED_ROUTE(patch)
AUTHED_ROUTE(delete)
AUTHED_ROUTE(events)

int tasks_app_register_routes(struct tasks_app *app, struct http_router *r)
{
    int rc = http_router_add(r, "GET", "/api/tasks", route_list, app);
    if (!rc)
        rc = http_router_add(r, "POST", "/api/tasks", route_create, app);
    if (!rc)
        rc = http_router_add(r, "GET", "/api/tasks/{id}", route_get, app);
    if (!rc)
        rc = http_router_add(r, "PATCH", "/api/tasks/{id}", route_patch, app);
    if (!rc)
        rc = http_router_add(r, "DELETE", "/api/tasks/{id}", route_delete, app);
    if (!rc)
        rc = http_router_add(r, "GET", "/api/events", route_events, app);
    return rc;
}
