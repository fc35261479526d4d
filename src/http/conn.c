#include "http/conn.h"

#include "core/clock.h"
#include "core/err.h"
#include "core/json_write.h"
#include "core/xalloc.h"
#include "http/response.h"
#include "http/sse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Pending pipelined input may exceed the soft cap by at most one read before reading stops. */
#define PENDING_HARD_MAX (HTTP_CONN_PENDING_SOFT_MAX + 65536)
#define RESP_HEADERS_MAX 8192

static int on_message_begin(llhttp_t *p);
static int on_url(llhttp_t *p, const char *at, size_t len);
static int on_url_complete(llhttp_t *p);
static int on_header_field(llhttp_t *p, const char *at, size_t len);
static int on_header_field_complete(llhttp_t *p);
static int on_header_value(llhttp_t *p, const char *at, size_t len);
static int on_header_value_complete(llhttp_t *p);
static int on_headers_complete(llhttp_t *p);
static int on_body(llhttp_t *p, const char *at, size_t len);
static int on_message_complete(llhttp_t *p);
static void conn_process(struct http_conn *c);
static void conn_timer_cb(uv_timer_t *t);

static const llhttp_settings_t parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_url_complete = on_url_complete,
    .on_header_field = on_header_field,
    .on_header_field_complete = on_header_field_complete,
    .on_header_value = on_header_value,
    .on_header_value_complete = on_header_value_complete,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static void conn_timer_closed(uv_handle_t *h)
{
    struct http_conn *c = h->data;
    http_conn_on_transport_closed(c);
}

void http_conn_init(struct http_conn *c, struct http_server *s, const struct http_io *io)
{
    memset(c, 0, sizeof *c);
    c->server = s;
    c->io = io;
    llhttp_init(&c->parser, HTTP_REQUEST, &parser_settings);
    c->parser.data = c;
    buf_init(&c->pending, PENDING_HARD_MAX);
    uv_timer_init(s->loop, &c->timer);
    c->timer.data = c;
    c->closes_left = 2;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->metrics.open_connections++;
    s->metrics.connections_total++;
    /* A new connection gets the header timeout to send its first request. */
    uv_timer_start(&c->timer, conn_timer_cb, s->limits.header_timeout_ms, 0);
}

static void conn_timer_set(struct http_conn *c, uint64_t ms)
{
    uv_timer_start(&c->timer, conn_timer_cb, ms, 0);
}

/* ---- requests ---- */

static struct http_request *request_new(struct http_conn *c)
{
    struct http_server *s = c->server;
    struct http_request *req = xcalloc(1, sizeof *req);
    req->conn = c;
    req->server = s;
    buf_init(&req->head, s->limits.max_header_bytes);
    buf_init(&req->body, s->limits.max_body_bytes);
    buf_init(&req->resp_headers, RESP_HEADERS_MAX);
    req->start_us = clock_mono_us();
    req->http_minor = 1; /* until the request line says otherwise (early rejections) */
    return req;
}

static void request_log(struct http_request *req)
{
    struct http_server *s = req->server;
    int64_t us = clock_mono_us() - req->start_us;
    int route = req->match.route ? req->match.route->index : -1;
    http_metrics_observe(&s->metrics, route, req->status, us);
    if (!s->access_log || !log_enabled(s->log, LOG_INFO))
        return;
    char line[1024];
    char ts[CLOCK_ISO_MAX];
    clock_format_iso(clock_wall_us(), ts);
    int plen = (int)(req->path_len > 200 ? 200 : req->path_len);
    const char *path = req->head.data ? req->head.data : "-";
    if (!req->head.data)
        plen = 1;
    int n;
    if (s->log->format == LOG_JSON) {
        struct buf b;
        buf_init(&b, sizeof line - 1);
        buf_appendf(&b,
                    "{\"ts\":\"%s\",\"level\":\"info\",\"msg\":\"request\",\"request_id\":\"%s\","
                    "\"method\":\"%s\",\"path\":",
                    ts, req->id, req->method[0] ? req->method : "-");
        json_escape_append(&b, path, (size_t)plen);
        buf_appendf(&b, ",\"status\":%d,\"bytes\":%llu,\"duration_us\":%lld}\n", req->status,
                    (unsigned long long)req->bytes_out, (long long)us);
        if (b.len && b.data[b.len - 1] == '\n')
            http_server_access_log(s, b.data, b.len);
        buf_free(&b);
        return;
    }
    /* Control bytes in a path are logged as '?', so a request cannot forge log lines. */
    char safe_path[201];
    for (int i = 0; i < plen; i++)
        safe_path[i] = (unsigned char)path[i] < 0x21 || path[i] == 0x7f ? '?' : path[i];
    safe_path[plen] = '\0';
    n = snprintf(line, sizeof line, "%s info  req=%s %s %s %d %lluB %lldus\n", ts,
                 req->id[0] ? req->id : "-", req->method[0] ? req->method : "-", safe_path,
                 req->status, (unsigned long long)req->bytes_out, (long long)us);
    if (n > 0)
        http_server_access_log(s, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static void request_free(struct http_request *req)
{
    http_sse_forget(req);
    if (req->streaming && req->server->metrics.open_streams)
        req->server->metrics.open_streams--;
    buf_free(&req->head);
    buf_free(&req->body);
    buf_free(&req->resp_headers);
    free(req->headers);
    free(req);
}

void http_request_release(struct http_request *req)
{
    if (req->status == 0)
        req->status = 499; /* client closed request (nginx's convention) */
    request_log(req);
    request_free(req);
}

static bool request_in_flight(const struct http_conn *c)
{
    return c->req && c->dispatched;
}

/* Output back-pressure: while this many answer bytes wait for a client that is not reading,
 * pipelined requests stay unparsed (input then stops at the pending cap), so a client that only
 * sends cannot make the server queue answers without bound. Parsing resumes as writes drain. */
static bool output_full(struct http_conn *c)
{
    return c->io->queued(c) >= HTTP_CONN_PENDING_SOFT_MAX;
}

/* ---- parser callbacks: copy the request into its capped buffers ---- */

static int fail(struct http_conn *c, int status)
{
    if (!c->error_status)
        c->error_status = status;
    return -1;
}

static int on_message_begin(llhttp_t *p)
{
    struct http_conn *c = p->data;
    if (!c->req)
        c->req = request_new(c);
    c->dispatched = false;
    c->in_header_field = c->in_header_value = false;
    conn_timer_set(c, c->server->limits.header_timeout_ms);
    return 0;
}

static int head_append(struct http_conn *c, const char *at, size_t len)
{
    return buf_append(&c->req->head, at, len) ? fail(c, 431) : 0;
}

static int on_url(llhttp_t *p, const char *at, size_t len)
{
    return head_append(p->data, at, len);
}

static int on_url_complete(llhttp_t *p)
{
    struct http_conn *c = p->data;
    struct http_request *req = c->req;
    req->url_len = (uint32_t)req->head.len;
    const char *q = req->head.len ? memchr(req->head.data, '?', req->head.len) : NULL;
    req->path_len = q ? (uint32_t)(q - req->head.data) : req->url_len;
    return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
    struct http_conn *c = p->data;
    struct http_request *req = c->req;
    if (!c->in_header_field) {
        if (req->nheaders == HTTP_MAX_HEADERS)
            return fail(c, 431);
        if (req->nheaders == req->headers_cap) {
            req->headers_cap = req->headers_cap ? req->headers_cap * 2 : 8;
            if (req->headers_cap > HTTP_MAX_HEADERS)
                req->headers_cap = HTTP_MAX_HEADERS;
            req->headers = xrealloc(req->headers, (size_t)req->headers_cap * sizeof *req->headers);
        }
        req->headers[req->nheaders].name_off = (uint32_t)req->head.len;
        c->in_header_field = true;
    }
    return head_append(c, at, len);
}

static int on_header_field_complete(llhttp_t *p)
{
    struct http_conn *c = p->data;
    struct http_request *req = c->req;
    struct http_header *h = &req->headers[req->nheaders];
    if (!c->in_header_field)
        return fail(c, 400);
    h->name_len = (uint32_t)req->head.len - h->name_off;
    h->value_off = (uint32_t)req->head.len;
    h->value_len = 0;
    c->in_header_field = false;
    c->in_header_value = true;
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
    return head_append(p->data, at, len);
}

static int on_header_value_complete(llhttp_t *p)
{
    struct http_conn *c = p->data;
    struct http_request *req = c->req;
    struct http_header *h = &req->headers[req->nheaders];
    if (!c->in_header_value)
        return fail(c, 400);
    h->value_len = (uint32_t)req->head.len - h->value_off;
    while (h->value_len && (req->head.data[h->value_off + h->value_len - 1] == ' ' ||
                            req->head.data[h->value_off + h->value_len - 1] == '\t'))
        h->value_len--;
    c->in_header_value = false;
    req->nheaders++;
    return 0;
}

/* A client-supplied X-Request-Id is kept when it is short and plain, so ids can be followed
 * across a proxy; anything else is replaced by ours. */
static void request_assign_id(struct http_conn *c, struct http_request *req)
{
    size_t len;
    const char *v = http_request_header(req, "X-Request-Id", &len);
    if (v && len > 0 && len < HTTP_REQUEST_ID_MAX) {
        bool ok = true;
        for (size_t i = 0; i < len && ok; i++) {
            char ch = v[i];
            ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 ch == '-' || ch == '_' || ch == '.';
        }
        if (ok) {
            memcpy(req->id, v, len);
            req->id[len] = '\0';
            return;
        }
    }
    snprintf(req->id, sizeof req->id, "%s%08llx", c->server->request_id_prefix,
             (unsigned long long)++c->server->next_request_seq);
}

/* The body limit of the route a request is for: upload routes allow more than the server's
 * default, and the limit must be known before the body arrives, so an announced over-size body
 * is refused unread (and without a 100 Continue). Only requests with a body pay for this lookup;
 * dispatch matches again once the message is complete, because trailers may still move the
 * bytes the match would point into. */
static size_t body_limit(struct http_conn *c, struct http_request *req)
{
    struct http_route_match m;
    enum http_route_result r = http_router_match(c->server->router, req->method, req->head.data,
                                                 req->path_len, &m, NULL, 0);
    if (r == HTTP_ROUTE_FOUND && m.route->max_body)
        return m.route->max_body;
    return c->server->limits.max_body_bytes;
}

static int on_headers_complete(llhttp_t *p)
{
    struct http_conn *c = p->data;
    struct http_request *req = c->req;
    const char *m = llhttp_method_name((llhttp_method_t)p->method);
    snprintf(req->method, sizeof req->method, "%s", m ? m : "UNKNOWN");
    req->http_minor = p->http_minor;
    req->head_only = strcmp(req->method, "HEAD") == 0;
    request_assign_id(c, req);
    if (p->http_major != 1)
        return fail(c, 505);
    bool has_body = (p->flags & F_CHUNKED) || ((p->flags & F_CONTENT_LENGTH) && p->content_length);
    if (has_body) {
        buf_free(&req->body); /* still empty: the body comes after this callback */
        buf_init(&req->body, body_limit(c, req));
    }
    if ((p->flags & F_CONTENT_LENGTH) && p->content_length > req->body.max)
        return fail(c, 413);
    size_t elen;
    const char *expect = http_request_header(req, "Expect", &elen);
    if (expect) {
        if (elen != 12 || strncasecmp(expect, "100-continue", 12) != 0)
            return fail(c, 417);
        if (has_body && p->http_minor >= 1) {
            static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
            http_conn_write(c, xstrndup(cont, sizeof cont - 1), sizeof cont - 1);
        }
    }
    /* Headers are in; a body must now keep arriving (no pause longer than the idle timeout). */
    conn_timer_set(c, c->server->limits.idle_timeout_ms);
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    struct http_conn *c = p->data;
    if (buf_append(&c->req->body, at, len))
        return fail(c, 413);
    conn_timer_set(c, c->server->limits.idle_timeout_ms);
    return 0;
}

static void request_dispatch(struct http_conn *c, struct http_request *req);

static int on_message_complete(llhttp_t *p)
{
    struct http_conn *c = p->data;
    struct http_request *req = c->req;
    req->keepalive = llhttp_should_keep_alive(p);
    uv_timer_stop(&c->timer);
    c->dispatched = true;
    request_dispatch(c, req);
    /* Stop after each request; the rest waits until this one is answered (in-order pipelining). */
    return HPE_PAUSED;
}

/* ---- dispatch ---- */

static void request_dispatch(struct http_conn *c, struct http_request *req)
{
    struct http_server *s = c->server;
    char allow[128];
    enum http_route_result r = http_router_match(s->router, req->method, req->head.data,
                                                 req->path_len, &req->match, allow, sizeof allow);
    if (r == HTTP_ROUTE_FOUND) {
        req->match.route->handler(req, req->match.route->data);
        return;
    }
    if (r == HTTP_ROUTE_WRONG_METHOD) {
        if (strcmp(req->method, "OPTIONS") == 0) {
            http_response_header(req, "Allow", allow);
            http_respond(req, 204, NULL, NULL, 0);
            return;
        }
        http_response_header(req, "Allow", allow);
        http_respond_error(req, 405, "method_not_allowed", "%s is not allowed here (allowed: %s)",
                           req->method, allow);
        return;
    }
    http_respond_error(req, 404, "not_found", "no route for this path");
}

/* ---- input ---- */

static const char *status_code_name(int status)
{
    switch (status) {
    case 400:
        return "bad_request";
    case 408:
        return "request_timeout";
    case 413:
        return "payload_too_large";
    case 417:
        return "expectation_failed";
    case 431:
        return "headers_too_large";
    case 505:
        return "http_version_not_supported";
    default:
        return "error";
    }
}

static const char *status_message(struct http_conn *c, int status)
{
    switch (status) {
    case 408:
        return "the request was not received in time";
    case 413:
        return "the request body is larger than the limit";
    case 417:
        return "only Expect: 100-continue is supported";
    case 431:
        return "the request line and headers are larger than the limit";
    case 505:
        return "only HTTP/1.0 and HTTP/1.1 are supported";
    default:
        return llhttp_get_error_reason(&c->parser);
    }
}

/* Answers a request the connection layer rejected itself, then closes. Without a request object
 * (garbage before any request line parsed) one is made so the answer is logged like others. */
static void conn_reject(struct http_conn *c, int status)
{
    struct http_request *req = c->req;
    if (!req) {
        req = c->req = request_new(c);
        snprintf(req->id, sizeof req->id, "%s%08llx", c->server->request_id_prefix,
                 (unsigned long long)++c->server->next_request_seq);
    }
    c->dispatched = true;
    c->close_after_write = true;
    req->keepalive = false;
    uv_timer_stop(&c->timer);
    if (status == 413 && req->body.max)
        http_respond_error(req, 413, "payload_too_large",
                           "the request body is larger than the limit of %zu bytes", req->body.max);
    else if (status == 431)
        http_respond_error(req, 431, "headers_too_large",
                           "the request line and headers are larger than the limit of %zu bytes",
                           c->server->limits.max_header_bytes);
    else
        http_respond_error(req, status, status_code_name(status), "%s", status_message(c, status));
}

/* Runs the parser over data; returns how much it consumed. Errors answer and close. */
static size_t conn_execute(struct http_conn *c, const char *data, size_t len)
{
    enum llhttp_errno err = llhttp_execute(&c->parser, data, len);
    if (err == HPE_OK)
        return len;
    if (err == HPE_PAUSED) {
        const char *pos = llhttp_get_error_pos(&c->parser);
        llhttp_resume(&c->parser);
        return pos ? (size_t)(pos - data) : len;
    }
    int status = c->error_status ? c->error_status : 400;
    if (c->req && c->dispatched) {
        /* A handler is running; it answers, and the connection closes after that. */
        c->close_after_write = true;
        return len;
    }
    conn_reject(c, status);
    return len;
}

static void conn_pending_save(struct http_conn *c, const char *data, size_t len)
{
    /* Drop the bytes already parsed when they are all of it, or when they would push the buffer
     * past its cap (reading resumes once the unparsed part is under the soft cap, so without
     * this a steady pipelining client would hit the hard cap and be disconnected). */
    if (c->pending_off &&
        (c->pending_off == c->pending.len || c->pending.len + len > PENDING_HARD_MAX)) {
        buf_consume(&c->pending, c->pending_off);
        c->pending_off = 0;
    }
    if (buf_append(&c->pending, data, len)) {
        /* Cannot happen while reads stop at the soft cap; treat as a protocol violation. */
        http_conn_close(c, true);
        return;
    }
    if (c->pending.len - c->pending_off >= HTTP_CONN_PENDING_SOFT_MAX && !c->read_stopped) {
        c->read_stopped = true;
        c->io->read_stop(c);
    }
}

void http_conn_on_read(struct http_conn *c, const char *data, size_t len)
{
    if (c->closing || c->close_after_write)
        return;
    if (request_in_flight(c) || c->pending.len > c->pending_off || output_full(c)) {
        conn_pending_save(c, data, len);
        conn_process(c);
        return;
    }
    c->processing = true;
    size_t used = conn_execute(c, data, len);
    c->processing = false;
    if (used < len && !c->closing && !c->close_after_write)
        conn_pending_save(c, data + used, len - used);
    conn_process(c);
}

/* Feeds waiting pipelined bytes while no request is in flight. Never re-entered: a handler that
 * answers synchronously returns here and the loop goes on, instead of recursing per request. */
static void conn_process(struct http_conn *c)
{
    if (c->processing)
        return;
    c->processing = true;
    while (!c->closing && !c->close_after_write && !request_in_flight(c) && !output_full(c) &&
           c->pending.len > c->pending_off) {
        size_t avail = c->pending.len - c->pending_off;
        size_t used = conn_execute(c, c->pending.data + c->pending_off, avail);
        c->pending_off += used;
        if (used == 0)
            break;
    }
    if (c->pending_off == c->pending.len) {
        if (c->pending.cap > 4096)
            buf_free(&c->pending); /* an idle connection keeps no input buffer */
        else
            buf_reset(&c->pending);
        c->pending_off = 0;
    }
    c->processing = false;
    if (c->read_stopped && !c->closing &&
        c->pending.len - c->pending_off < HTTP_CONN_PENDING_SOFT_MAX) {
        c->read_stopped = false;
        c->io->read_start(c);
    }
    if (c->peer_eof && !c->req && !c->closing && c->writes_in_flight == 0)
        http_conn_close(c, false);
}

void http_conn_on_eof(struct http_conn *c)
{
    if (c->closing)
        return;
    c->peer_eof = true;
    /* A half-closed client can still receive a plain answer, but an open event stream (or a
     * request never completed) has nobody to wait for: that is a disconnect. */
    if (c->req && (!c->dispatched || c->req->streaming)) {
        http_conn_close(c, true);
        return;
    }
    if (!c->req && c->pending.len == c->pending_off && c->writes_in_flight == 0)
        http_conn_close(c, false);
}

/* ---- output ---- */

int http_conn_write(struct http_conn *c, char *data, size_t len)
{
    if (c->closing) {
        free(data);
        return ERR_CLOSED;
    }
    c->writes_in_flight++;
    int rc = c->io->write(c, data, len);
    if (rc == 1) { /* written at once */
        c->writes_in_flight--;
        rc = 0;
    }
    if (rc) {
        /* The caller learns from the return code; on_abort is for asynchronous news only. */
        c->writes_in_flight--;
        http_conn_close(c, false);
    }
    return rc;
}

void http_conn_on_write_done(struct http_conn *c, int status)
{
    if (c->writes_in_flight)
        c->writes_in_flight--;
    if (c->closing)
        return;
    if (status < 0) {
        http_conn_close(c, true);
        return;
    }
    if (c->req && c->req->on_drain) {
        c->req->on_drain(c->req);
        if (c->closing)
            return;
    }
    bool input_left = c->pending.len > c->pending_off;
    /* A response still being produced (an event stream whose writes drained while the reader
     * was slow) keeps its connection: http_conn_finish closes it once the answer is whole. */
    if (c->writes_in_flight == 0 && !c->req &&
        (c->close_after_write || (c->peer_eof && !input_left)))
        http_conn_close(c, false);
    else if (input_left && !request_in_flight(c) && !output_full(c))
        conn_process(c); /* pipelined requests held back by output_full() */
}

void http_conn_finish(struct http_request *req)
{
    struct http_conn *c = req->conn;
    request_log(req);
    request_free(req);
    if (!c)
        return;
    c->req = NULL;
    c->dispatched = false;
    c->requests_served++;
    if (c->close_after_write || c->server->draining ||
        (c->peer_eof && c->pending.len == c->pending_off)) {
        c->close_after_write = true;
        if (c->writes_in_flight == 0)
            http_conn_close(c, false);
        return;
    }
    conn_timer_set(c, c->server->limits.idle_timeout_ms);
    if (!c->processing)
        conn_process(c);
}

/* ---- timers and closing ---- */

static void conn_timer_cb(uv_timer_t *t)
{
    struct http_conn *c = t->data;
    if (c->closing)
        return;
    if (c->req && !c->dispatched) {
        conn_reject(c, 408); /* slowloris: headers or body trickling in */
        return;
    }
    if (!c->req)
        http_conn_close(c, false); /* idle keep-alive or a silent new connection */
}

void http_conn_close(struct http_conn *c, bool notify_request)
{
    if (c->closing)
        return;
    c->closing = true;
    struct http_server *s = c->server;
    struct http_request *req = c->req;
    c->req = NULL;
    if (req) {
        req->conn = NULL;
        if (c->dispatched) {
            /* The handler still owns it and will finish it; tell it the client is gone. */
            if (notify_request && req->on_abort)
                req->on_abort(req);
        } else {
            request_free(req); /* never reached a handler: nothing to log */
        }
    }
    c->dispatched = false;
    buf_free(&c->pending);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    if (s->metrics.open_connections)
        s->metrics.open_connections--;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, conn_timer_closed);
    c->io->close(c);
}

void http_conn_on_transport_closed(struct http_conn *c)
{
    if (--c->closes_left == 0) {
        struct http_server *s = c->server;
        c->io->destroy(c);
        if (s->draining && !s->conns && s->on_drained) {
            void (*cb)(void *) = s->on_drained;
            s->on_drained = NULL;
            uv_timer_stop(&s->drain_timer);
            cb(s->drained_data);
        }
    }
}
