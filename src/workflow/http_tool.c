#include "workflow/http_tool.h"

#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json_read.h"
#include "core/json_write.h"
#include "core/xalloc.h"
#include "workflow/json_schema.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define URL_MAX     8192
#define HEADERS_MAX 32

struct http_tool_call {
    struct http_tool_config cfg;
    const struct wf_tool *tool; /* not owned */
    http_tool_done_fn done;
    void *data;
    uv_timer_t timer;       /* reports errors found before sending; closed before the free */
    struct http_call *call; /* the request in flight, or NULL */
    struct buf answer;      /* owned; the body so far */
    int status;
    bool too_big;
    char *early_error; /* owned; an error to report from the timer */
    char *body;        /* owned; the request body, kept until the call ends (libcurl reads it while
                        * sending) */
    int64_t started_us;
};

static void call_closed(uv_handle_t *h)
{
    struct http_tool_call *c = h->data;
    buf_free(&c->answer);
    free(c->early_error);
    free(c->body);
    free(c);
}

static void call_release(struct http_tool_call *c)
{
    uv_close((uv_handle_t *)&c->timer, call_closed);
}

/* {"error": message} (owned by the caller). */
static char *error_output(const char *message, const cJSON *answer)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", message);
    if (answer)
        cJSON_AddItemToObject(o, "answer", cJSON_Duplicate(answer, true));
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

static void finish(struct http_tool_call *c, bool ok, const char *output)
{
    log_info(c->cfg.log, "http tool %s: %s %s -> %s in %lld ms", c->tool->name, c->tool->method,
             c->tool->url, ok ? "ok" : "error",
             (long long)((clock_mono_us() - c->started_us) / 1000));
    c->done(c->data, ok, output);
    call_release(c);
}

static void early_fire(uv_timer_t *t)
{
    struct http_tool_call *c = t->data;
    finish(c, false, c->early_error);
}

/* ---- the request ---- */

/* Percent-encodes s into url (RFC 3986 unreserved characters stay as they are). */
static void append_encoded(struct buf *url, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~')
            buf_append_char(url, (char)ch);
        else
            buf_appendf(url, "%%%02X", ch);
    }
}

/* A query value: strings as they are, anything else as its JSON text. */
static void append_query_value(struct buf *url, const cJSON *v)
{
    char *json = cJSON_IsString(v) ? NULL : cJSON_PrintUnformatted(v);
    append_encoded(url, json ? json : v->valuestring);
    free(json);
}

/* The URL with GET arguments as query parameters (owned by the caller), or NULL when too long. */
static char *request_url(const struct wf_tool *tool, const cJSON *args)
{
    struct buf url;
    buf_init(&url, URL_MAX);
    buf_append_str(&url, tool->url);
    if (strcmp(tool->method, "GET") == 0) {
        char sep = strchr(tool->url, '?') ? '&' : '?';
        const cJSON *v;
        cJSON_ArrayForEach(v, args)
        {
            buf_append_char(&url, sep);
            sep = '&';
            append_encoded(&url, v->string);
            buf_append_char(&url, '=');
            append_query_value(&url, v);
        }
    }
    if (url.len >= URL_MAX - 1) {
        buf_free(&url);
        return NULL;
    }
    return buf_detach(&url, NULL);
}

/* "Name: value" lines for the tool's headers (owned by the caller); NULL with why when a variable
 * is unset. The values are secrets: they never reach a log or an output. */
static char **request_headers(const struct http_tool_call *c, char *why, size_t whylen)
{
    const struct wf_tool *tool = c->tool;
    char **h = xcalloc(tool->nheaders + 3, sizeof *h);
    size_t n = 0;
    h[n++] = xstrdup("Accept: application/json");
    if (strcmp(tool->method, "POST") == 0)
        h[n++] = xstrdup("Content-Type: application/json");
    for (size_t i = 0; i < tool->nheaders && i < HEADERS_MAX; i++) {
        const char *v = c->cfg.env(tool->headers[i].env);
        if (!v || !*v || strchr(v, '\r') || strchr(v, '\n')) {
            snprintf(why, whylen,
                     "the tool is not configured: the environment variable %s is "
                     "not set",
                     tool->headers[i].env);
            for (size_t j = 0; j < n; j++)
                free(h[j]);
            free(h);
            return NULL;
        }
        struct buf line;
        buf_init(&line, 16384);
        buf_appendf(&line, "%s: %s", tool->headers[i].name, v);
        h[n++] = buf_detach(&line, NULL);
    }
    return h;
}

/* ---- the answer ---- */

static void on_response(void *data, int status, const char *retry_after)
{
    (void)retry_after;
    struct http_tool_call *c = data;
    c->status = status;
}

static void on_body(void *data, const char *p, size_t n)
{
    struct http_tool_call *c = data;
    if (!c->too_big && buf_append(&c->answer, p, n))
        c->too_big = true;
}

static void on_done(void *data, int code, const char *message)
{
    struct http_tool_call *c = data;
    c->call = NULL;
    char why[512];
    if (code == ERR_TIMEOUT) {
        snprintf(why, sizeof why, "the tool did not answer within %lld ms",
                 (long long)c->tool->timeout_ms);
    } else if (code) {
        snprintf(why, sizeof why, "the tool could not be reached: %s",
                 message ? message : err_str(code));
    } else if (c->too_big) {
        snprintf(why, sizeof why, "the tool's answer is larger than %d bytes",
                 HTTP_TOOL_ANSWER_MAX);
    } else {
        cJSON *doc = json_parse(c->answer.data ? c->answer.data : "", c->answer.len, 64, NULL);
        bool ok = doc && c->status >= 200 && c->status < 300;
        char *out = NULL;
        if (ok) {
            out = cJSON_PrintUnformatted(doc);
        } else {
            snprintf(why, sizeof why,
                     doc ? "the tool answered HTTP %d"
                         : "the tool answered HTTP %d with a body that is not JSON",
                     c->status);
            out = error_output(why, doc);
        }
        cJSON_Delete(doc);
        finish(c, ok, out);
        free(out);
        return;
    }
    char *out = error_output(why, NULL);
    finish(c, false, out);
    free(out);
}

static const struct http_call_events call_events = {
    .response = on_response, .body = on_body, .done = on_done};

/* Checks and sends; on a problem found before sending, returns the error output to report. */
static char *send_request(struct http_tool_call *c, const char *arguments)
{
    char why[1024];
    cJSON *args =
        json_parse(arguments ? arguments : "", arguments ? strlen(arguments) : 0, 64, NULL);
    if (!cJSON_IsObject(args)) {
        cJSON_Delete(args);
        return error_output("the arguments are not a JSON object", NULL);
    }
    if (c->tool->parameters && json_schema_check(c->tool->parameters, args, why, sizeof why)) {
        cJSON_Delete(args);
        char msg[1100];
        snprintf(msg, sizeof msg, "invalid arguments: %s", why);
        return error_output(msg, NULL);
    }
    char **headers = request_headers(c, why, sizeof why);
    char *url = headers ? request_url(c->tool, args) : NULL;
    c->body = strcmp(c->tool->method, "POST") == 0 ? cJSON_PrintUnformatted(args) : NULL;
    cJSON_Delete(args);
    char *err = NULL;
    if (!headers) {
        log_warn(c->cfg.log, "http tool %s: %s", c->tool->name, why);
        err = error_output(why, NULL);
    } else if (!url) {
        err = error_output("the arguments make the URL too long", NULL);
    } else {
        struct http_call_params p = {.method = c->tool->method,
                                     .url = url,
                                     .headers = (const char *const *)headers,
                                     .body = c->body,
                                     .body_len = c->body ? strlen(c->body) : 0,
                                     .connect_timeout_ms = (uint64_t)c->tool->timeout_ms,
                                     .total_timeout_ms = (uint64_t)c->tool->timeout_ms};
        if (http_call_start(c->cfg.http, &p, &call_events, c, &c->call))
            err = error_output("the tool's request could not be made", NULL);
    }
    for (size_t i = 0; headers && headers[i]; i++)
        free(headers[i]);
    free(headers);
    free(url);
    return err;
}

int http_tool_start(const struct http_tool_config *cfg, const struct wf_tool *tool,
                    const char *arguments, http_tool_done_fn done, void *data,
                    struct http_tool_call **out)
{
    struct http_tool_call *c = xcalloc(1, sizeof *c);
    c->cfg = *cfg;
    c->tool = tool;
    c->done = done;
    c->data = data;
    c->started_us = clock_mono_us();
    buf_init(&c->answer, HTTP_TOOL_ANSWER_MAX);
    uv_timer_init(cfg->loop, &c->timer);
    c->timer.data = c;
    c->early_error = send_request(c, arguments);
    if (c->early_error)
        uv_timer_start(&c->timer, early_fire, 0, 0);
    *out = c;
    return 0;
}

void http_tool_cancel(struct http_tool_call *c)
{
    if (c->call)
        http_call_cancel(c->call);
    c->call = NULL;
    uv_timer_stop(&c->timer);
    call_release(c);
}
