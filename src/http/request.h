/* request.h - one HTTP request as handlers see it, and how to read its parts.
 *
 * The connection layer fills a request, dispatches it to a route handler and owns it until the
 * handler finishes it with exactly one of http_respond*() (response.h) or http_sse_end()
 * (sse.h). That rule holds even when the client disconnects first: the request then has
 * conn == NULL, its on_abort callback has run, responses are discarded, and the finishing call
 * frees it. Views (path, header values, body) stay valid until the request is finished.
 */
#ifndef CHATKITD_HTTP_REQUEST_H
#define CHATKITD_HTTP_REQUEST_H

#include "core/buf.h"
#include "http/router.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HEADERS    100
#define HTTP_REQUEST_ID_MAX 40

struct http_conn;
struct http_server;

struct http_header {
    uint32_t name_off, name_len; /* offsets into head */
    uint32_t value_off, value_len;
};

struct http_request {
    struct http_conn *conn;     /* NULL once the connection is gone */
    struct http_server *server; /* not owned */
    char method[12];            /* "GET", ... */
    int http_minor;             /* 0 or 1 (HTTP/1.x) */
    /* Request line and headers, copied from the socket as they arrive (capped). */
    struct buf head;
    uint32_t url_len;            /* the URL is head.data[0 .. url_len) */
    uint32_t path_len;           /* path is the URL up to '?' */
    struct http_header *headers; /* owned; grows to HTTP_MAX_HEADERS (idle streams stay small) */
    int nheaders;
    int headers_cap;
    struct buf body;               /* decoded body (chunked bodies are de-chunked), capped */
    struct http_route_match match; /* route and path parameters, views into head */
    char id[HTTP_REQUEST_ID_MAX];  /* X-Request-Id: the client's if sane, else generated */
    int64_t start_us;              /* monotonic, when the first byte arrived */
    /* Response state. */
    struct buf resp_headers; /* extra header lines added by the handler */
    int status;
    uint64_t bytes_out; /* body bytes written, for the access log */
    bool keepalive;     /* the client allows reuse */
    bool head_only;     /* HEAD: send headers, no body */
    bool responded;     /* status line written */
    bool streaming;     /* an SSE response is open */
    /* Events framed but not yet handed to the connection: written once per loop turn, so a
     * burst of events costs one write (sse.c). flush_prev/next link the server's flush list. */
    struct buf sse_pending;
    struct http_request *flush_prev, *flush_next;
    bool flush_listed;
    /* Called (once, from the loop, never from inside a call the handler made) when the client
     * goes away or the server is forced to drop the request before it was finished. */
    void (*on_abort)(struct http_request *req);
    /* Optional: called from the loop each time a write of this request's answer completed (the
     * client took bytes: http_sse_queued shrank), so a producer paused for a slow reader can
     * resume at once. It may send or finish the request. */
    void (*on_drain)(struct http_request *req);
    void *ctx; /* the handler's state; not owned */
};

/* The URL path (before '?'), still percent-encoded. */
static inline const char *http_request_path(const struct http_request *req)
{
    return req->head.data;
}

/* The value of header name (case-insensitive), or NULL; *len gets its length. With repeated
 * headers the first one wins. */
const char *http_request_header(const struct http_request *req, const char *name, size_t *len);
/* Decodes query parameter name into out (percent-escapes and '+'); 1 when found, 0 when absent,
 * ERR_INVALID for bad escapes, ERR_TOO_BIG when it does not fit in out (outlen with NUL). */
int http_request_query(const struct http_request *req, const char *name, char *out, size_t outlen);
/* Finds cookie name in the Cookie header; 1 and a view when found, else 0. */
int http_request_cookie(const struct http_request *req, const char *name, const char **val,
                        size_t *len);
/* Copies path parameter name, percent-decoded, into out; 1 found, 0 absent, <0 error. */
int http_request_param(const struct http_request *req, const char *name, char *out, size_t outlen);
/* The bearer token of an "Authorization: Bearer <token>" header, or NULL. */
const char *http_request_bearer(const struct http_request *req, size_t *len);
/* Decodes %XX escapes of in into out (and '+' as space when plus_is_space); returns the decoded
 * length, or ERR_INVALID / ERR_TOO_BIG. */
int http_percent_decode(const char *in, size_t len, bool plus_is_space, char *out, size_t outlen);

#endif
