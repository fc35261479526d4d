#include "http/response.h"

#include "core/err.h"
#include "core/json_write.h"
#include "core/xalloc.h"
#include "http/conn.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *http_status_reason(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 417:
        return "Expectation Failed";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}

int http_response_header(struct http_request *req, const char *name, const char *value)
{
    if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n"))
        return ERR_INVALID;
    return buf_appendf(&req->resp_headers, "%s: %s\r\n", name, value);
}

static bool response_keepalive(const struct http_request *req)
{
    const struct http_conn *c = req->conn;
    /* A client that half-closed still gets answers to the requests it pipelined before: only
     * the last one closes. */
    bool last_input = c && c->peer_eof && c->pending.len == c->pending_off;
    return req->keepalive && c && !c->close_after_write && !c->server->draining && !last_input;
}

int http_response_head(struct http_request *req, int status, struct buf *out)
{
    bool keep = response_keepalive(req);
    int rc = buf_appendf(out, "HTTP/1.%d %d %s\r\n%sX-Request-Id: %s\r\n", req->http_minor ? 1 : 0,
                         status, http_status_reason(status), http_server_date_header(req->server),
                         req->id);
    if (!rc && !keep)
        rc = buf_append_str(out, "Connection: close\r\n");
    else if (!rc && req->http_minor == 0)
        rc = buf_append_str(out, "Connection: keep-alive\r\n");
    if (!rc && req->resp_headers.len)
        rc = buf_append(out, req->resp_headers.data, req->resp_headers.len);
    if (!keep && req->conn)
        req->conn->close_after_write = true;
    return rc;
}

void http_respond(struct http_request *req, int status, const char *content_type, const void *body,
                  size_t len)
{
    req->status = status;
    if (!req->conn) {
        http_request_release(req);
        return;
    }
    struct buf out;
    buf_init(&out, (size_t)-1 / 2);
    int rc = http_response_head(req, status, &out);
    if (!rc && content_type)
        rc = buf_appendf(&out, "Content-Type: %s\r\n", content_type);
    bool no_body = status == 204 || status == 304 || (status >= 100 && status < 200);
    if (!rc && !no_body)
        rc = buf_appendf(&out, "Content-Length: %zu\r\n", len);
    if (!rc)
        rc = buf_append(&out, "\r\n", 2);
    if (!rc && len && !no_body && !req->head_only) {
        rc = buf_append(&out, body, len);
        req->bytes_out = len;
    }
    req->responded = true;
    size_t n;
    char *data = buf_detach(&out, &n);
    if (!rc)
        http_conn_write(req->conn, data, n);
    else
        free(data);
    http_conn_finish(req);
}

void http_respond_json(struct http_request *req, int status, const struct buf *body)
{
    http_respond(req, status, "application/json", body->data, body->len);
}

void http_respond_error(struct http_request *req, int status, const char *code, const char *fmt,
                        ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct buf b;
    buf_init(&b, 4096);
    struct jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    jw_key(&w, "error");
    jw_obj_begin(&w);
    jw_kv_str(&w, "code", code);
    jw_kv_str(&w, "message", msg);
    jw_obj_end(&w);
    jw_obj_end(&w);
    http_respond(req, status, "application/json", b.data, b.len);
    buf_free(&b);
}
