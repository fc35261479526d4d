#include "http/sse.h"

#include "core/err.h"
#include "core/xalloc.h"
#include "http/conn.h"
#include "http/response.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sse_frame(struct buf *out, const char *json, size_t len)
{
    if (memchr(json, '\n', len) || memchr(json, '\r', len))
        return ERR_INVALID;
    size_t start = out->len;
    int rc = buf_append(out, "data: ", 6);
    if (!rc)
        rc = buf_append(out, json, len);
    if (!rc)
        rc = buf_append(out, "\n\n", 2);
    if (rc) {
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
    }
    return rc;
}

/* A stream can stay open for hours (10,000 live feeds is a design target), so once its headers
 * are out it drops what only the request phase needed: the body, the header table, the extra
 * response headers, and the header text beyond the path (kept for the access log). Path
 * parameters point into that text and are moved along with it. */
static void request_compact(struct http_request *req)
{
    buf_free(&req->body);
    buf_free(&req->resp_headers);
    free(req->headers);
    req->headers = NULL;
    req->nheaders = req->headers_cap = 0;
    size_t keep = req->path_len;
    if (!req->head.data || req->head.cap <= keep + 1)
        return;
    size_t off[HTTP_ROUTE_MAX_PARAMS];
    for (int i = 0; i < req->match.nparams; i++)
        off[i] = (size_t)(req->match.param[i] - req->head.data);
    char *now = xrealloc(req->head.data, keep + 1);
    now[keep] = '\0';
    for (int i = 0; i < req->match.nparams; i++)
        req->match.param[i] = now + off[i];
    req->head.data = now;
    req->head.len = keep;
    req->head.cap = keep + 1;
    req->url_len = (uint32_t)keep;
}

static int sse_queue(struct http_request *req, struct buf *out, size_t payload);

static bool sse_chunked(const struct http_request *req)
{
    return req->http_minor >= 1;
}

int http_sse_begin(struct http_request *req)
{
    if (!req->conn)
        return ERR_CLOSED;
    req->status = 200;
    struct buf out;
    buf_init(&out, 16384);
    if (!sse_chunked(req))
        req->keepalive = false; /* the end of an HTTP/1.0 stream is the end of the connection */
    int rc = http_response_head(req, 200, &out);
    if (!rc)
        rc = buf_append_str(&out, "Content-Type: text/event-stream\r\n"
                                  "Cache-Control: no-cache\r\n"
                                  "X-Accel-Buffering: no\r\n");
    if (!rc && sse_chunked(req))
        rc = buf_append_str(&out, "Transfer-Encoding: chunked\r\n");
    if (!rc)
        rc = buf_append(&out, "\r\n", 2);
    if (rc) {
        buf_free(&out);
        return rc;
    }
    req->responded = true;
    req->streaming = true;
    req->server->metrics.open_streams++;
    request_compact(req);
    /* The head waits for the stream's first events (one write for both, at the end of this loop
     * turn): a turn's first event then costs the client one segment, not two. */
    return sse_queue(req, &out, 0);
}

static void flush_unlist(struct http_request *req);

int http_sse_begin_held(struct http_request *req)
{
    int rc = http_sse_begin(req);
    if (!rc)
        flush_unlist(req); /* listed again by the next sse_queue; http_sse_end flushes itself */
    return rc;
}

size_t http_sse_queued(const struct http_request *req)
{
    return req->conn ? req->conn->io->queued(req->conn) + req->sse_pending.len : 0;
}

/* Hands one framed (and, on HTTP/1.1, chunk-wrapped) piece of output to the connection and
 * frees out; payload is what counts toward bytes_out. A piece that would push the stream's unsent
 * output past the cap disconnects the slow reader instead. */
static void flush_unlist(struct http_request *req)
{
    struct http_server *s = req->server;
    if (!req->flush_listed)
        return;
    if (req->flush_prev)
        req->flush_prev->flush_next = req->flush_next;
    else
        s->sse_flush = req->flush_next;
    if (req->flush_next)
        req->flush_next->flush_prev = req->flush_prev;
    req->flush_prev = req->flush_next = NULL;
    req->flush_listed = false;
}

void http_sse_forget(struct http_request *req)
{
    flush_unlist(req);
    buf_free(&req->sse_pending);
}

/* Hands the waiting events to the connection. A failed write closes the connection; from the
 * loop (notify) the handler hears of it through on_abort, as for any asynchronous disconnect. */
static void sse_flush(struct http_request *req, bool notify)
{
    flush_unlist(req);
    struct http_conn *c = req->conn;
    if (!c || !req->sse_pending.len) {
        buf_free(&req->sse_pending);
        return;
    }
    size_t n;
    char *data = buf_detach(&req->sse_pending, &n);
    if (http_conn_write(c, data, n) && notify && req->on_abort)
        req->on_abort(req);
}

void http_sse_flush_all(struct http_server *s)
{
    while (s->sse_flush)
        sse_flush(s->sse_flush, true);
}

/* Queues one framed (and, on HTTP/1.1, chunk-wrapped) piece of output for this loop turn's
 * write and frees out; payload is what counts toward bytes_out. A piece that would push the
 * stream's unsent output past the cap disconnects the slow reader instead. */
static int sse_queue(struct http_request *req, struct buf *out, size_t payload)
{
    struct http_conn *c = req->conn;
    struct http_server *s = c->server;
    if (c->io->queued(c) + req->sse_pending.len + out->len > s->limits.sse_queue_bytes) {
        buf_free(out);
        http_sse_forget(req);
        s->metrics.slow_readers_dropped++;
        log_warn(s->log,
                 "req=%s stream closed: client reads slower than events arrive "
                 "(over %zu bytes queued)",
                 req->id, s->limits.sse_queue_bytes);
        http_conn_close(c, false);
        return ERR_CLOSED;
    }
    if (!req->sse_pending.data) {
        /* The first piece of this loop turn becomes the pending output as it is, cut to size
         * and not copied: in a burst every new stream holds one until the flush. */
        buf_init(&req->sse_pending, s->limits.sse_queue_bytes);
        req->sse_pending.data = buf_detach(out, &req->sse_pending.len);
        req->sse_pending.cap = req->sse_pending.len + 1;
    } else {
        int rc = buf_append(&req->sse_pending, out->data, out->len);
        buf_free(out);
        if (rc)
            return ERR_CLOSED;
    }
    req->bytes_out += payload;
    if (!req->flush_listed) {
        req->flush_listed = true;
        req->flush_prev = NULL;
        req->flush_next = s->sse_flush;
        if (s->sse_flush)
            s->sse_flush->flush_prev = req;
        s->sse_flush = req;
    }
    return 0;
}

int http_sse_send(struct http_request *req, const char *json, size_t len)
{
    struct http_conn *c = req->conn;
    if (!c || !req->streaming)
        return ERR_CLOSED;
    struct buf out;
    buf_init(&out, len + 64);
    char head[24];
    int hlen = 0;
    if (sse_chunked(req))
        hlen = snprintf(head, sizeof head, "%zx\r\n", len + 8);
    int rc = buf_append(&out, head, (size_t)hlen);
    if (!rc)
        rc = sse_frame(&out, json, len);
    if (!rc && sse_chunked(req))
        rc = buf_append(&out, "\r\n", 2);
    if (rc) {
        buf_free(&out);
        return rc == ERR_TOO_BIG ? ERR_CLOSED : rc;
    }
    return sse_queue(req, &out, len + 8);
}

int sse_shared_init(struct sse_shared *f, const char *json, size_t len)
{
    buf_init(&f->plain, len + 16);
    buf_init(&f->chunked, len + 32);
    f->payload = len + 8;
    char head[24];
    int hlen = snprintf(head, sizeof head, "%zx\r\n", len + 8);
    int rc = sse_frame(&f->plain, json, len);
    if (!rc)
        rc = buf_append(&f->chunked, head, (size_t)hlen);
    if (!rc)
        rc = buf_append(&f->chunked, f->plain.data, f->plain.len);
    if (!rc)
        rc = buf_append(&f->chunked, "\r\n", 2);
    return rc;
}

void sse_shared_free(struct sse_shared *f)
{
    buf_free(&f->plain);
    buf_free(&f->chunked);
}

int http_sse_send_shared(struct http_request *req, const struct sse_shared *f)
{
    if (!req->conn || !req->streaming)
        return ERR_CLOSED;
    const struct buf *frame = sse_chunked(req) ? &f->chunked : &f->plain;
    struct buf out;
    buf_init(&out, frame->len + 1);
    if (buf_append(&out, frame->data, frame->len)) {
        buf_free(&out);
        return ERR_CLOSED;
    }
    return sse_queue(req, &out, f->payload);
}

int http_sse_comment(struct http_request *req, const char *text)
{
    struct http_conn *c = req->conn;
    if (!c || !req->streaming)
        return ERR_CLOSED;
    size_t len = strlen(text);
    if (memchr(text, '\n', len) || memchr(text, '\r', len))
        return ERR_INVALID;
    struct buf out;
    buf_init(&out, len + 64);
    char head[24];
    int hlen = 0;
    if (sse_chunked(req))
        hlen = snprintf(head, sizeof head, "%zx\r\n", len + 4);
    int rc = buf_append(&out, head, (size_t)hlen);
    if (!rc)
        rc = buf_append(&out, ": ", 2);
    if (!rc)
        rc = buf_append(&out, text, len);
    if (!rc)
        rc = buf_append(&out, "\n\n", 2);
    if (!rc && sse_chunked(req))
        rc = buf_append(&out, "\r\n", 2);
    if (rc) {
        buf_free(&out);
        return ERR_CLOSED;
    }
    return sse_queue(req, &out, len + 4);
}

void http_sse_end(struct http_request *req)
{
    /* The last events and the chunked terminator leave together, now. */
    if (req->conn && req->streaming && sse_chunked(req)) {
        static const char last[] = "0\r\n\r\n";
        if (!req->sse_pending.data)
            buf_init(&req->sse_pending, req->server->limits.sse_queue_bytes + sizeof last);
        req->sse_pending.max += sizeof last; /* the terminator is never refused */
        buf_append(&req->sse_pending, last, sizeof last - 1);
    }
    sse_flush(req, false);
    if (!req->conn) {
        http_request_release(req);
        return;
    }
    http_conn_finish(req);
}
