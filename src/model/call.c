/* call.c - one model call (provider.h): attempts, retries, timers, the upstream event stream, and
 * the dialect (chat_compat.c or responses.c) that reads it.
 *
 * Lifetime: a call is freed in its timer's close callback, never in the middle of a callback
 * chain. Ending (done, failed, cancel) marks the call, stops the HTTP transfer (the client defers
 * that when libcurl is running) and closes the timer; code still on the stack checks the marks
 * and unwinds.
 */
#include "core/err.h"
#include "core/id.h"
#include "core/json_read.h"
#include "core/xalloc.h"
#include "model/chat_compat.h"
#include "model/input.h"
#include "model/registry.h"
#include "model/responses.h"
#include "model/sse_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERROR_BODY_MAX (64 * 1024)
#define REQUEST_MAX    (32 * 1024 * 1024)
#define TOOL_ARGS_MAX  (1024 * 1024)
#define TEXT_JOIN_MAX  (16 * 1024)

enum call_state { CALL_WAITING, CALL_RUNNING, CALL_FAIL_PENDING, CALL_ENDED };

struct model_call {
    struct model_registry *reg;
    struct model_provider *prov;
    struct model_call_events ev;
    void *data;
    char *url;       /* owned */
    char **headers;  /* owned */
    struct buf body; /* the request, built once; freed once sent and output arrived (no retry
                      * can follow then) */
    struct http_call *http;
    uv_timer_t timer; /* first token, idle, backoff; the call is freed in its close callback */
    enum call_state state;
    int attempt;
    int status; /* HTTP status of the current attempt, 0 before it */
    char retry_after[64];
    struct sse_parser sse;
    struct buf errbody;
    bool started;     /* something was delivered: no more retries */
    bool first_token; /* output arrived in this attempt: the idle timer runs */
    bool end_seen;    /* the dialect saw the end marker */
    bool paused;
    uint64_t last_activity; /* uv_now of the last body bytes */
    int pending_code;       /* CALL_FAIL_PENDING: what to report */
    char pending_msg[256];
    union { /* the dialect's stream state: chat for MODEL_API_CHAT, resp otherwise */
        struct chat_stream chat;
        struct responses_stream resp;
    };
    /* Text deltas of one upstream read, joined: one event downstream instead of one per token
     * when tokens arrive faster than they can be shown. Flushed at the end of every read and
     * before any other event, so nothing waits longer than the read that brought it. */
    struct buf text;
    char text_item[128];
};

static void dialect_free(struct model_call *c)
{
    if (c->prov->api == MODEL_API_CHAT)
        chat_stream_free(&c->chat);
}

static void dialect_init(struct model_call *c)
{
    if (c->prov->api == MODEL_API_CHAT)
        chat_stream_init(&c->chat, TOOL_ARGS_MAX);
    else
        responses_stream_init(&c->resp);
}

static void on_timer_closed(uv_handle_t *h)
{
    struct model_call *c = h->data;
    free(c->url);
    model_headers_free(c->headers);
    buf_free(&c->body);
    buf_free(&c->errbody);
    sse_parser_free(&c->sse);
    dialect_free(c);
    buf_free(&c->text);
    free(c);
}

static void call_release(struct model_call *c)
{
    c->state = CALL_ENDED;
    if (c->http)
        http_call_cancel(c->http);
    c->http = NULL;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

static void call_fail(struct model_call *c, int code, const char *message, bool allow_retry)
{
    if (c->state == CALL_ENDED)
        return;
    struct model_call_error e = {.code = code,
                                 .http_status = c->status,
                                 .message = message,
                                 .allow_retry = allow_retry,
                                 .started = c->started};
    c->prov->stats.failed_total++;
    log_warn(c->reg->cfg.log, "model call to %s failed (HTTP %d, attempt %d): %s", c->prov->name,
             c->status, c->attempt, message);
    int status = c->status;
    c->state = CALL_ENDED;
    e.http_status = status;
    c->ev.failed(c->data, &e);
    call_release(c);
}

static void call_done(struct model_call *c)
{
    struct model_call_result r = {0};
    if (c->prov->api == MODEL_API_CHAT)
        chat_stream_result(&c->chat, &r);
    else
        responses_stream_result(&c->resp, &r);
    struct model_stats *st = &c->prov->stats;
    st->input_tokens += (uint64_t)r.usage.input_tokens;
    st->output_tokens += (uint64_t)r.usage.output_tokens;
    st->reasoning_tokens += (uint64_t)r.usage.reasoning_tokens;
    st->cached_tokens += (uint64_t)r.usage.cached_tokens;
    c->state = CALL_ENDED;
    c->ev.done(c->data, &r);
    call_release(c);
}

/* ---- what the dialects report, checked and forwarded ---- */

static bool deliverable(struct model_call *c)
{
    if (c->state != CALL_RUNNING)
        return false;
    c->started = true;
    /* A started call is never tried again: once curl is done with the request, it goes (its
     * history and tool schemas are most of what a streaming call holds). */
    if (c->body.data && c->http && http_call_body_sent(c->http))
        buf_free(&c->body);
    return true;
}

static void flush_text(struct model_call *c)
{
    if (!c->text.len)
        return;
    if (deliverable(c))
        c->ev.text_delta(c->data, c->text_item, c->text.data, c->text.len);
    buf_reset(&c->text);
}

static void w_text(void *d, const char *item_id, const char *text, size_t len)
{
    struct model_call *c = d;
    if (c->text.len && strcmp(c->text_item, item_id) != 0)
        flush_text(c);
    if (c->text.len + len > TEXT_JOIN_MAX)
        flush_text(c);
    if (len > TEXT_JOIN_MAX) {
        if (deliverable(c))
            c->ev.text_delta(c->data, item_id, text, len);
        return;
    }
    snprintf(c->text_item, sizeof c->text_item, "%s", item_id);
    buf_append(&c->text, text, len);
}

static void w_reasoning(void *d, int index, const char *text, size_t len)
{
    struct model_call *c = d;
    flush_text(c);
    if (deliverable(c) && c->ev.reasoning_delta)
        c->ev.reasoning_delta(c->data, index, text, len);
}

static void w_annotation(void *d, const char *item_id, const char *json)
{
    struct model_call *c = d;
    flush_text(c);
    if (deliverable(c) && c->ev.annotation)
        c->ev.annotation(c->data, item_id, json);
}

static void w_tool(void *d, const char *call_id, const char *name, const char *args)
{
    struct model_call *c = d;
    flush_text(c);
    if (deliverable(c))
        c->ev.tool_call(c->data, call_id, name, args);
}

static void w_image_started(void *d, const char *image_id)
{
    struct model_call *c = d;
    flush_text(c);
    if (deliverable(c) && c->ev.image_started)
        c->ev.image_started(c->data, image_id);
}

static void w_image_partial(void *d, const char *image_id, int index, const char *b64)
{
    struct model_call *c = d;
    flush_text(c);
    if (deliverable(c) && c->ev.image_partial)
        c->ev.image_partial(c->data, image_id, index, b64);
}

static void w_image_done(void *d, const char *image_id, const char *b64, const char *format)
{
    struct model_call *c = d;
    flush_text(c);
    if (deliverable(c) && c->ev.image_done)
        c->ev.image_done(c->data, image_id, b64, format);
}

static const struct model_call_events wrapped = {
    .text_delta = w_text,
    .reasoning_delta = w_reasoning,
    .annotation = w_annotation,
    .tool_call = w_tool,
    .image_started = w_image_started,
    .image_partial = w_image_partial,
    .image_done = w_image_done,
};

/* ---- attempts ---- */

static void attempt_start(struct model_call *c);
static void on_timer(uv_timer_t *t);

static void arm(struct model_call *c, uint64_t ms)
{
    uv_timer_start(&c->timer, on_timer, ms, 0);
}

static void fail_later(struct model_call *c, int code, const char *msg)
{
    c->state = CALL_FAIL_PENDING;
    c->pending_code = code;
    snprintf(c->pending_msg, sizeof c->pending_msg, "%s", msg);
    arm(c, 0);
}

static void on_timer(uv_timer_t *t)
{
    struct model_call *c = t->data;
    char msg[160];
    if (c->state == CALL_WAITING) {
        attempt_start(c);
    } else if (c->state == CALL_FAIL_PENDING) {
        c->state = CALL_RUNNING;
        call_fail(c, c->pending_code, c->pending_msg, true);
    } else if (c->state == CALL_RUNNING) {
        uint64_t now = uv_now(c->reg->cfg.loop), idle = c->reg->cfg.limits.idle_ms;
        if (c->first_token && (c->paused || now - c->last_activity < idle)) {
            arm(c, c->paused ? idle : idle - (now - c->last_activity));
            return;
        }
        if (c->first_token)
            snprintf(msg, sizeof msg, "the model stopped sending for %llu ms",
                     (unsigned long long)idle);
        else
            snprintf(msg, sizeof msg, "the model did not start answering within %llu ms",
                     (unsigned long long)c->reg->cfg.limits.first_token_ms);
        call_fail(c, ERR_TIMEOUT, msg, true);
    }
}

static void note_token(struct model_call *c)
{
    if (c->first_token)
        return;
    c->first_token = true;
    c->last_activity = uv_now(c->reg->cfg.loop);
    arm(c, c->reg->cfg.limits.idle_ms);
}

static int on_sse_event(void *d, const char *name, const char *payload, size_t len)
{
    struct model_call *c = d;
    int rc;
    const char *why;
    if (c->prov->api == MODEL_API_CHAT) {
        rc = chat_stream_feed(&c->chat, payload, len, &wrapped, c);
        why = c->chat.error;
        if (c->chat.token_seen)
            note_token(c);
    } else {
        rc = responses_stream_feed(&c->resp, name, payload, len, &wrapped, c);
        why = c->resp.error;
        if (c->resp.token_seen)
            note_token(c);
    }
    if (c->state != CALL_RUNNING)
        return 1;
    if (rc == MODEL_STREAM_END) {
        c->end_seen = true;
        return 0;
    }
    if (rc < 0) {
        call_fail(c, rc, why, rc == ERR_UNAVAILABLE);
        return 1;
    }
    return 0;
}

static void on_http_response(void *d, int status, const char *retry_after)
{
    struct model_call *c = d;
    c->status = status;
    snprintf(c->retry_after, sizeof c->retry_after, "%s", retry_after ? retry_after : "");
}

static void on_http_body(void *d, const char *p, size_t n)
{
    struct model_call *c = d;
    if (c->state != CALL_RUNNING)
        return;
    if (c->status < 200 || c->status > 299) {
        size_t room = ERROR_BODY_MAX - c->errbody.len;
        buf_append(&c->errbody, p, n < room ? n : room);
        return;
    }
    c->last_activity = uv_now(c->reg->cfg.loop);
    int rc = sse_parser_feed(&c->sse, p, n, on_sse_event, c);
    flush_text(c);
    if (rc == ERR_TOO_BIG && c->state == CALL_RUNNING) {
        char msg[128];
        snprintf(msg, sizeof msg, "the model server sent an event larger than %zu bytes",
                 c->reg->cfg.limits.max_event_bytes);
        call_fail(c, ERR_INVALID, msg, false);
    }
}

/* The upstream's own words from an error answer: {"error":{"message":...}}, {"error":"..."},
 * {"message":...}, or the start of a text body. */
static void error_message(struct model_call *c, char *out, size_t outlen)
{
    cJSON *doc = json_parse(c->errbody.data ? c->errbody.data : "", c->errbody.len, 16, NULL);
    const cJSON *err = json_get(doc, "error");
    const char *msg = NULL;
    if (json_get_str(err, "message", &msg) != 0 &&
        !(cJSON_IsString(err) && (msg = err->valuestring)))
        json_get_str(doc, "message", &msg);
    if (msg && msg[0])
        snprintf(out, outlen, "%s", msg);
    else if (!doc && c->errbody.len)
        snprintf(out, outlen, "%.200s", c->errbody.data);
    else
        snprintf(out, outlen, "the model server answered HTTP %d", c->status);
    cJSON_Delete(doc);
}

/* Milliseconds before the next attempt, or UINT64_MAX when Retry-After asks for too long. */
static uint64_t next_delay(struct model_call *c)
{
    const struct model_limits *lim = &c->reg->cfg.limits;
    uint64_t delay = lim->backoff_ms << (c->attempt - 1 < 16 ? c->attempt - 1 : 16);
    unsigned char r = 0;
    id_random_bytes(&r, 1);
    delay += delay * r / 1024; /* up to 25 % jitter, so callers do not retry in step */
    if (c->retry_after[0]) {
        char *end;
        unsigned long long s = strtoull(c->retry_after, &end, 10);
        if (end != c->retry_after && *end == '\0') {
            if (s * 1000 > lim->max_backoff_ms)
                return UINT64_MAX;
            if (s * 1000 > delay)
                delay = s * 1000;
        }
    }
    return delay < lim->max_backoff_ms ? delay : lim->max_backoff_ms;
}

static bool retry_later(struct model_call *c)
{
    if (c->started || c->attempt > c->reg->cfg.limits.max_retries)
        return false;
    uint64_t delay = next_delay(c);
    if (delay == UINT64_MAX)
        return false;
    c->prov->stats.retries_total++;
    log_info(c->reg->cfg.log, "model call to %s: attempt %d got HTTP %d; retrying in %llu ms",
             c->prov->name, c->attempt, c->status, (unsigned long long)delay);
    c->state = CALL_WAITING;
    arm(c, delay);
    return true;
}

static void on_http_done(void *d, int code, const char *message)
{
    struct model_call *c = d;
    c->http = NULL;
    if (c->state != CALL_RUNNING)
        return;
    char msg[300];
    if (code && !c->status) { /* no answer at all */
        if (code == ERR_UNAVAILABLE && retry_later(c))
            return;
        snprintf(msg, sizeof msg, "cannot reach the model server: %s", message);
        call_fail(c, code == ERR_TIMEOUT ? ERR_TIMEOUT : ERR_UNAVAILABLE, msg, true);
    } else if (c->status < 200 || c->status > 299) {
        bool transient = c->status == 429 || c->status == 408 || c->status >= 500;
        if (transient && retry_later(c))
            return;
        error_message(c, msg, sizeof msg);
        call_fail(c, transient ? ERR_UNAVAILABLE : ERR_INVALID, msg, transient);
    } else if (c->end_seen) {
        call_done(c);
    } else {
        call_fail(c, ERR_CLOSED, "the model's answer was cut off", true);
    }
}

static void attempt_start(struct model_call *c)
{
    const struct model_limits *lim = &c->reg->cfg.limits;
    c->attempt++;
    c->state = CALL_RUNNING;
    c->status = 0;
    c->retry_after[0] = '\0';
    c->first_token = false;
    c->end_seen = false;
    buf_reset(&c->errbody);
    buf_reset(&c->text);
    sse_parser_free(&c->sse);
    sse_parser_init(&c->sse, lim->max_event_bytes);
    dialect_free(c);
    dialect_init(c);
    struct http_call_params hp = {.method = "POST",
                                  .url = c->url,
                                  .headers = (const char *const *)c->headers,
                                  .body = c->body.data,
                                  .body_len = c->body.len,
                                  .connect_timeout_ms = lim->connect_ms};
    struct http_call_events he = {
        .response = on_http_response, .body = on_http_body, .done = on_http_done};
    int rc = http_call_start(c->reg->cfg.http, &hp, &he, c, &c->http);
    if (rc) {
        fail_later(c, ERR_UNAVAILABLE, "the HTTP client cannot start a call");
        return;
    }
    if (c->paused)
        http_call_pause(c->http, true);
    arm(c, lim->first_token_ms);
}

int model_call_start(struct model_registry *reg, const char *model_ref,
                     const struct model_call_params *params, const struct model_call_events *ev,
                     void *data, struct model_call **out, char *why, size_t whylen)
{
    *out = NULL;
    struct model_provider *prov;
    char model[256];
    int rc = model_registry_resolve(reg, model_ref, &prov, model, sizeof model, why, whylen);
    if (rc)
        return rc;
    struct model_call_params p = *params;
    p.model = model;
    char *text_only = model_provider_accepts_images(prov, model)
                          ? NULL
                          : model_input_without_images(params->input_json);
    if (text_only)
        p.input_json = text_only;
    struct model_call *c = xcalloc(1, sizeof *c);
    buf_init(&c->body, REQUEST_MAX);
    rc = prov->api == MODEL_API_CHAT ? chat_request_build(&p, &c->body, why, whylen)
                                     : responses_request_build(&p, &c->body, why, whylen);
    free(text_only);
    if (rc) {
        buf_free(&c->body);
        free(c);
        return rc;
    }
    c->reg = reg;
    c->prov = prov;
    c->ev = *ev;
    c->data = data;
    buf_init(&c->errbody, ERROR_BODY_MAX);
    buf_init(&c->text, TEXT_JOIN_MAX);
    sse_parser_init(&c->sse, reg->cfg.limits.max_event_bytes);
    dialect_init(c);
    struct buf url;
    buf_init(&url, 4096);
    buf_appendf(&url, "%s/v1/%s", prov->base_url,
                prov->api == MODEL_API_CHAT ? "chat/completions" : "responses");
    c->url = buf_detach(&url, NULL);
    c->headers = model_provider_headers(prov, "application/json", "text/event-stream");
    uv_timer_init(reg->cfg.loop, &c->timer);
    c->timer.data = c;
    prov->stats.calls_total++;
    attempt_start(c);
    *out = c;
    return 0;
}

void model_call_cancel(struct model_call *c)
{
    if (!c || c->state == CALL_ENDED)
        return;
    call_release(c);
}

void model_call_pause(struct model_call *c, bool paused)
{
    if (!c || c->state == CALL_ENDED || c->paused == paused)
        return;
    c->paused = paused;
    c->last_activity = uv_now(c->reg->cfg.loop);
    if (c->http)
        http_call_pause(c->http, paused);
}
