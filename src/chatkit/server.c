#include "chatkit/server.h"

#include "chatkit/items.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/strlist.h"
#include "core/json_read.h"
#include "core/json_write.h"
#include "core/xalloc.h"
#include "http/response.h"
#include "http/sse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ANSWER_MAX (64 * 1024 * 1024) /* a JSON answer: 100 items of 128 KiB and more fit */

void chatkit_init(struct chatkit *ck, const struct chatkit_config *cfg)
{
    ck->cfg = *cfg;
}

/* ---- CORS ---- */

/* True when origin (len bytes) is in the comma-separated allow list ("*" allows any). */
static bool origin_allowed(const char *list, const char *origin, size_t len)
{
    const char *cur = list, *p;
    size_t n;
    if (!origin)
        return false;
    while (strlist_next(&cur, &p, &n)) {
        if ((n == 1 && *p == '*') || (n == len && memcmp(p, origin, len) == 0))
            return true;
    }
    return false;
}

static void add_cors(struct chatkit *ck, struct http_request *req)
{
    size_t len;
    const char *origin = http_request_header(req, "Origin", &len);
    if (!origin_allowed(ck->cfg.cors_origins, origin, len) || len > 512)
        return;
    char o[520];
    memcpy(o, origin, len);
    o[len] = '\0';
    http_response_header(req, "Access-Control-Allow-Origin", o);
    http_response_header(req, "Vary", "Origin");
}

static void route_options(struct http_request *req, void *data)
{
    struct chatkit *ck = data;
    add_cors(ck, req);
    http_response_header(req, "Access-Control-Allow-Methods", "POST, OPTIONS");
    http_response_header(req, "Access-Control-Allow-Headers",
                         "Authorization, Content-Type, Accept-Language, X-Request-Id");
    http_response_header(req, "Access-Control-Max-Age", "600");
    http_response_header(req, "Allow", "POST, OPTIONS");
    http_respond(req, 204, NULL, NULL, 0);
}

/* ---- streaming requests ---- */

/* The SSE sink of one turn. Owned by itself: freed in sink_end. */
struct http_sink {
    struct ck_sink base;
    struct http_request *req;
    struct ck_turn *turn;
};

static int sink_send(struct ck_sink *s, const char *json, size_t len)
{
    struct http_sink *hs = (struct http_sink *)s;
    return http_sse_send(hs->req, json, len);
}

static size_t sink_backlog(struct ck_sink *s)
{
    struct http_sink *hs = (struct http_sink *)s;
    return http_sse_queued(hs->req);
}

static void sink_end(struct ck_sink *s)
{
    struct http_sink *hs = (struct http_sink *)s;
    hs->req->on_abort = NULL;
    hs->req->on_drain = NULL;
    http_sse_end(hs->req);
    free(hs);
}

static void request_drained(struct http_request *req)
{
    struct http_sink *hs = req->ctx;
    ck_turn_drained(hs->turn);
}

static void request_aborted(struct http_request *req)
{
    struct http_sink *hs = req->ctx;
    ck_turn_cancel(hs->turn);
}

static void turn_prepared(struct ck_turn *t, int status, const char *code, const char *message,
                          void *data)
{
    struct http_request *req = data;
    if (status) {
        http_respond_error(req, status, code, "%s", message);
        return;
    }
    struct http_sink *hs = xcalloc(1, sizeof *hs);
    hs->base.send = sink_send;
    hs->base.end = sink_end;
    hs->base.backlog = sink_backlog;
    hs->req = req;
    hs->turn = t;
    req->ctx = hs;
    req->on_abort = request_aborted;
    req->on_drain = request_drained;
    /* A client gone during preparation fails the first send, which cancels the turn cleanly.
     * The head leaves with thread.created or the user message, after their commit: one write
     * per new stream instead of two. */
    http_sse_begin_held(req);
    ck_turn_run(t, &hs->base);
}

/* ---- JSON requests: one context per request, answered once ---- */

struct json_call {
    struct store_job job;
    struct chatkit *ck;
    struct http_request *req;
    struct ck_request creq; /* owned */
    int step;
    struct store_thread thread; /* owned strings, for get_by_id */
    char *item_ids_text;        /* owned; items.feedback ids as JSON for the store job */
};

static struct json_call *call_new(struct chatkit *ck, struct http_request *req,
                                  struct ck_request *creq, const char *user_id)
{
    struct json_call *c = xcalloc(1, sizeof *c);
    c->ck = ck;
    c->req = req;
    c->creq = *creq;
    memset(creq, 0, sizeof *creq);
    snprintf(c->job.user_id, sizeof c->job.user_id, "%s", user_id);
    return c;
}

static void call_free(struct json_call *c)
{
    store_job_clear(&c->job);
    free(c->thread.title);
    free(c->thread.status_json);
    free(c->thread.allowed_image_domains_json);
    free(c->thread.metadata_json);
    ck_request_free(&c->creq);
    free(c->item_ids_text);
    free(c);
}

static void call_respond_buf(struct json_call *c, struct buf *b)
{
    http_respond_json(c->req, 200, b);
    buf_free(b);
    call_free(c);
}

static void call_respond_literal(struct json_call *c, const char *json)
{
    http_respond(c->req, 200, "application/json", json, strlen(json));
    call_free(c);
}

static void call_fail(struct json_call *c, int status, const char *code, const char *msg)
{
    http_respond_error(c->req, status, code, "%s", msg);
    call_free(c);
}

/* Maps a store status to an answer; true when it answered (the call is freed). */
static bool call_store_error(struct json_call *c, const char *what_missing)
{
    int st = c->job.status;
    if (!st)
        return false;
    if (st == ERR_NOT_FOUND)
        call_fail(c, 404, "not_found", what_missing);
    else if (st == ERR_INVALID)
        call_fail(c, 400, "invalid_request", c->job.error[0] ? c->job.error : "invalid request");
    else
        call_fail(c, 503, "store_unavailable", "the store failed; try again shortly");
    return true;
}

static void call_submit(struct json_call *c, enum store_op op, store_job_cb cb)
{
    char user[STORE_USER_ID_MAX];
    memcpy(user, c->job.user_id, sizeof user);
    store_job_clear(&c->job);
    store_job_init(&c->job, op, cb, c);
    memcpy(c->job.user_id, user, sizeof user);
}

static void call_go(struct json_call *c)
{
    if (store_submit(c->ck->cfg.store, &c->job))
        call_fail(c, 503, "store_unavailable", "the store is not accepting work");
}

/* An id from the client that cannot exist (too long) is simply not found. */
static bool id_fits(const char *id)
{
    return id && strlen(id) < ID_MAX;
}

/* Writes a page (spec §2.3) of stored items or threads. */
static void write_page(struct jw *w, const struct store_list *l)
{
    jw_obj_begin(w);
    jw_key(w, "data");
    jw_arr_begin(w);
    for (size_t i = 0; i < l->n; i++) {
        if (l->items)
            jw_raw(w, l->items[i].json, strlen(l->items[i].json));
        else if (l->threads)
            ck_write_thread(w, &l->threads[i], NULL);
    }
    jw_arr_end(w);
    jw_kv_bool(w, "has_more", l->has_more);
    if (l->has_more && l->n)
        jw_kv_str(w, "after", l->items ? l->items[l->n - 1].id : l->threads[l->n - 1].id);
    jw_obj_end(w);
}

static void respond_page(struct json_call *c)
{
    struct buf b;
    buf_init(&b, ANSWER_MAX);
    struct jw w;
    jw_init(&w, &b);
    write_page(&w, &c->job.list);
    if (jw_done(&w)) {
        buf_free(&b);
        call_fail(c, 500, "internal_error", "the answer did not fit");
        return;
    }
    call_respond_buf(c, &b);
}

static void respond_thread(struct json_call *c, const struct store_thread *t, const char *items)
{
    struct buf b;
    buf_init(&b, ANSWER_MAX);
    struct jw w;
    jw_init(&w, &b);
    ck_write_thread(&w, t, items);
    call_respond_buf(c, &b);
}

static void fill_page(struct json_call *c)
{
    c->job.page.limit = c->creq.limit;
    c->job.page.desc = c->creq.desc;
    if (c->creq.after)
        snprintf(c->job.page.after, sizeof c->job.page.after, "%s", c->creq.after);
}

/* threads.get_by_id: the thread with its oldest 20 visible items, ascending (spec §5.8). */
static void get_by_id_items(struct store_job *job)
{
    struct json_call *c = job->data;
    if (call_store_error(c, "no such thread"))
        return;
    struct buf items;
    buf_init(&items, ANSWER_MAX);
    struct jw w;
    jw_init(&w, &items);
    write_page(&w, &c->job.list);
    respond_thread(c, &c->thread, items.data);
    buf_free(&items);
}

static void get_by_id_thread(struct store_job *job)
{
    struct json_call *c = job->data;
    if (call_store_error(c, "no such thread"))
        return;
    c->thread = job->thread;
    memset(&job->thread, 0, sizeof job->thread); /* ownership moves to the call */
    call_submit(c, STORE_ITEM_LIST, get_by_id_items);
    snprintf(c->job.item.thread_id, sizeof c->job.item.thread_id, "%s", c->thread.id);
    c->job.page.limit = CK_PAGE_DEFAULT;
    c->job.page.desc = false;
    call_go(c);
}

static void list_done(struct store_job *job)
{
    struct json_call *c = job->data;
    if (!call_store_error(c, "params.after names nothing in this list"))
        respond_page(c);
}

static void update_saved(struct store_job *job)
{
    struct json_call *c = job->data;
    if (!call_store_error(c, "no such thread"))
        respond_thread(c, &job->thread, NULL);
}

static void update_loaded(struct store_job *job)
{
    struct json_call *c = job->data;
    if (call_store_error(c, "no such thread"))
        return;
    struct store_thread t = job->thread;
    memset(&job->thread, 0, sizeof job->thread);
    free(t.title);
    t.title = xstrdup(c->creq.title);
    t.updated_us = clock_wall_us();
    call_submit(c, STORE_THREAD_UPDATE, update_saved);
    c->job.thread = t;
    call_go(c);
}

static void empty_done(struct store_job *job)
{
    struct json_call *c = job->data;
    if (!call_store_error(c, "no such thread or item"))
        call_respond_literal(c, "{}");
}

/* The store removed the thread's attachment records with it; their bytes go too. */
static void thread_deleted(struct store_job *job)
{
    struct json_call *c = job->data;
    if (call_store_error(c, "no such thread"))
        return;
    for (size_t i = 0; c->ck->cfg.attachments && i < job->list.n; i++)
        attachments_unlink(c->ck->cfg.attachments, job->list.attachments[i].id);
    call_respond_literal(c, "{}");
}

/* ---- sync custom actions ---- */

static void sync_saved(struct store_job *job)
{
    struct json_call *c = job->data;
    if (call_store_error(c, "the item disappeared"))
        return;
    struct buf b;
    buf_init(&b, ANSWER_MAX);
    buf_append_str(&b, "{\"updated_item\":");
    buf_append_str(&b, job->item.json);
    buf_append_char(&b, '}');
    call_respond_buf(c, &b);
}

static void sync_answered(void *data, int status, const char *item_json)
{
    struct json_call *c = data;
    if (status) {
        call_fail(c, status == ERR_INVALID ? 400 : 503, "action_failed",
                  "the action could not be carried out");
        return;
    }
    if (!item_json) {
        call_respond_literal(c, "{}");
        return;
    }
    /* The reference leaves saving to the handler; we store the new item before answering. */
    struct store_item it = c->job.item;
    it.json = NULL;
    call_submit(c, STORE_ITEM_UPDATE, sync_saved);
    c->job.item = it;
    c->job.item.json = xstrdup(item_json);
    call_go(c);
}

static void sync_item_loaded(struct store_job *job)
{
    struct json_call *c = job->data;
    if (call_store_error(c, "no such item in this thread"))
        return;
    if (strcmp(job->item.type, "widget") != 0) {
        call_fail(c, 400, "invalid_request", "params.item_id must name a widget item");
        return;
    }
    if (!c->ck->cfg.sync_action) {
        call_respond_literal(c, "{}");
        return;
    }
    c->ck->cfg.sync_action(c->ck->cfg.sync_action_data, c->job.user_id, &c->creq, &job->item,
                           sync_answered, c);
}

static void sync_thread_loaded(struct store_job *job)
{
    struct json_call *c = job->data;
    if (call_store_error(c, "no such thread"))
        return;
    if (!c->creq.item_id) {
        if (c->ck->cfg.sync_action)
            c->ck->cfg.sync_action(c->ck->cfg.sync_action_data, c->job.user_id, &c->creq, NULL,
                                   sync_answered, c);
        else
            call_respond_literal(c, "{}");
        return;
    }
    call_submit(c, STORE_ITEM_GET, sync_item_loaded);
    snprintf(c->job.item.thread_id, sizeof c->job.item.thread_id, "%s", c->creq.thread_id);
    snprintf(c->job.item.id, sizeof c->job.item.id, "%s", c->creq.item_id);
    call_go(c);
}

/* Starts a JSON request. The ids it names are checked for length first: longer ones were never
 * ours. */
static void json_request(struct chatkit *ck, struct http_request *req, struct ck_request *creq,
                         const char *user_id)
{
    if ((creq->thread_id && !id_fits(creq->thread_id)) ||
        (creq->item_id && !id_fits(creq->item_id)) || (creq->after && !id_fits(creq->after))) {
        http_respond_error(req, 404, "not_found", "no such thread or item");
        ck_request_free(creq);
        return;
    }
    bool attachment_op = creq->type == CK_ATTACHMENTS_CREATE || creq->type == CK_ATTACHMENTS_DELETE;
    if (attachment_op && ck->cfg.attachments) {
        if (creq->type == CK_ATTACHMENTS_CREATE)
            attachments_create(ck->cfg.attachments, req, user_id, creq->name, creq->size,
                               creq->mime_type);
        else
            attachments_delete(ck->cfg.attachments, req, user_id, creq->attachment_id);
        ck_request_free(creq);
        return;
    }
    if (creq->type == CK_INPUT_TRANSCRIBE && ck->cfg.transcribe) {
        ck->cfg.transcribe(ck->cfg.transcribe_data, req, user_id, creq);
        ck_request_free(creq);
        return;
    }
    if (creq->type == CK_INPUT_TRANSCRIBE || attachment_op) {
        bool transcribe = creq->type == CK_INPUT_TRANSCRIBE;
        http_respond_error(req, 400,
                           transcribe ? "transcription_unavailable" : "uploads_unavailable",
                           transcribe ? "no speech-to-text provider is configured"
                                      : "this server has no attachment store configured");
        ck_request_free(creq);
        return;
    }
    struct json_call *c = call_new(ck, req, creq, user_id);
    const char *tid = c->creq.thread_id;
    switch (c->creq.type) {
    case CK_THREADS_GET_BY_ID:
        call_submit(c, STORE_THREAD_GET, get_by_id_thread);
        snprintf(c->job.thread.id, sizeof c->job.thread.id, "%s", tid);
        break;
    case CK_THREADS_LIST:
        call_submit(c, STORE_THREAD_LIST, list_done);
        fill_page(c);
        break;
    case CK_THREADS_UPDATE:
        call_submit(c, STORE_THREAD_GET, update_loaded);
        snprintf(c->job.thread.id, sizeof c->job.thread.id, "%s", tid);
        break;
    case CK_THREADS_DELETE:
        call_submit(c, STORE_THREAD_DELETE, thread_deleted);
        snprintf(c->job.thread.id, sizeof c->job.thread.id, "%s", tid);
        break;
    case CK_ITEMS_LIST:
        call_submit(c, STORE_ITEM_LIST, list_done);
        snprintf(c->job.item.thread_id, sizeof c->job.item.thread_id, "%s", tid);
        fill_page(c);
        break;
    case CK_ITEMS_FEEDBACK:
        call_submit(c, STORE_FEEDBACK_ADD, empty_done);
        snprintf(c->job.feedback.thread_id, sizeof c->job.feedback.thread_id, "%s", tid);
        snprintf(c->job.feedback.kind, sizeof c->job.feedback.kind, "%s", c->creq.kind);
        break;
    case CK_THREADS_SYNC_CUSTOM_ACTION:
        call_submit(c, STORE_THREAD_GET, sync_thread_loaded);
        snprintf(c->job.thread.id, sizeof c->job.thread.id, "%s", tid);
        break;
    default:
        call_fail(c, 400, "invalid_request", "unsupported request type");
        return;
    }
    if (c->creq.type == CK_ITEMS_FEEDBACK) {
        c->item_ids_text = json_print(c->creq.item_ids);
        c->job.item_ids_json = c->item_ids_text;
    }
    call_go(c);
}

/* ---- GET /v1/chatkit/feedback: thumbs up/down as JSON lines (admin key) ---- */

#define FEEDBACK_PAGE 1000

static void feedback_exported(struct store_job *job)
{
    struct http_request *req = job->data;
    if (job->status) {
        http_respond_error(req, 503, "store_unavailable", "the store failed; try again shortly");
    } else {
        struct buf b;
        buf_init(&b, ANSWER_MAX);
        for (size_t i = 0; i < job->list.n; i++) {
            const struct store_feedback *f = &job->list.feedback[i];
            struct jw w;
            jw_init(&w, &b);
            char ts[CLOCK_ISO_MAX];
            clock_format_iso(f->created_us, ts);
            jw_obj_begin(&w);
            jw_kv_int(&w, "seq", f->seq);
            jw_kv_str(&w, "created_at", ts);
            jw_kv_str(&w, "user", f->user_id);
            jw_kv_str(&w, "thread_id", f->thread_id);
            jw_kv_str(&w, "item_id", f->item_id);
            jw_kv_str(&w, "kind", f->kind);
            jw_obj_end(&w);
            buf_append_char(&b, '\n');
        }
        if (job->list.has_more && job->list.n) {
            char next[32];
            snprintf(next, sizeof next, "%lld", (long long)job->list.feedback[job->list.n - 1].seq);
            http_response_header(req, "X-Next-After", next);
        }
        http_respond(req, 200, "application/x-ndjson", b.data, b.len);
        buf_free(&b);
    }
    store_job_clear(job);
    free(job);
}

/* since: an ISO-8601 time or Unix seconds (default: everything); after: the seq cursor from the
 * previous page's X-Next-After header; limit: 1..1000. */
static void route_feedback(struct http_request *req, void *data)
{
    struct chatkit *ck = data;
    if (auth_require_admin(ck->cfg.auth, req))
        return;
    char v[64];
    int64_t since_us = 0, after = 0, limit = FEEDBACK_PAGE;
    int rc = http_request_query(req, "since", v, sizeof v);
    if (rc == 1) {
        char *end;
        long long secs = strtoll(v, &end, 10);
        if (*end == '\0' && end != v && secs >= 0)
            since_us = (int64_t)secs * 1000000;
        else if (clock_parse_iso(v, strlen(v), &since_us))
            rc = -1;
    }
    if (rc >= 0 && (rc = http_request_query(req, "after", v, sizeof v)) == 1) {
        char *end;
        after = strtoll(v, &end, 10);
        rc = *end || end == v || after < 0 ? -1 : 1;
    }
    if (rc >= 0 && (rc = http_request_query(req, "limit", v, sizeof v)) == 1) {
        char *end;
        limit = strtoll(v, &end, 10);
        rc = *end || end == v || limit < 1 || limit > FEEDBACK_PAGE ? -1 : 1;
    }
    if (rc < 0) {
        http_respond_error(req, 400, "invalid_request",
                           "since must be an ISO-8601 time or Unix seconds; after a whole "
                           "number; limit 1 to %d",
                           FEEDBACK_PAGE);
        return;
    }
    struct store_job *job = xcalloc(1, sizeof *job);
    store_job_init(job, STORE_FEEDBACK_EXPORT, feedback_exported, req);
    job->before_us = since_us;
    job->after_seq = after;
    job->page.limit = (int)limit;
    if (store_submit(ck->cfg.store, job)) {
        free(job);
        http_respond_error(req, 503, "store_unavailable", "the store is not accepting work");
    }
}

/* ---- the route ---- */

static void with_session(struct http_request *req, const struct store_session *s, void *data)
{
    struct chatkit *ck = data;
    struct ck_request creq;
    char err[300];
    if (ck_request_decode(req->body.data ? req->body.data : "", req->body.len, &creq, err,
                          sizeof err)) {
        http_respond_error(req, 400, "invalid_request", "%s", err);
        return;
    }
    if (!creq.streaming) {
        json_request(ck, req, &creq, s->user_id);
        return;
    }
    if ((creq.thread_id && !id_fits(creq.thread_id)) || (creq.item_id && !id_fits(creq.item_id))) {
        http_respond_error(req, 404, "not_found", "no such thread or item");
        ck_request_free(&creq);
        return;
    }
    struct ck_turn_workflow wf = {.id = s->workflow_id,
                                  .version = s->workflow_version,
                                  .state_variables_json = s->state_variables_json};
    ck_turn_prepare_session(ck->cfg.engine, &creq, s->user_id, &wf, turn_prepared, req);
}

/* CORS headers go on every answer, errors included, so a page on an allowed origin can read
 * why it failed. */
static void route_chatkit(struct http_request *req, void *data)
{
    struct chatkit *ck = data;
    add_cors(ck, req);
    auth_with_session(ck->cfg.auth, req, with_session, ck);
}

int chatkit_register_routes(struct chatkit *ck, struct http_router *r)
{
    int rc = http_router_add(r, "POST", "/chatkit", route_chatkit, ck);
    if (!rc)
        rc = http_router_add(r, "OPTIONS", "/chatkit", route_options, ck);
    if (!rc && ck->cfg.auth->cfg.admin_key)
        rc = http_router_add(r, "GET", "/v1/chatkit/feedback", route_feedback, ck);
    return rc;
}
