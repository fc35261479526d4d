/* response.h - answering a request.
 *
 * Every request ends with exactly one finishing call: http_respond(), http_respond_json(),
 * http_respond_error() here, or http_sse_end() for a stream (sse.h). The call writes the answer
 * (unless the client is gone), logs it, and frees the request; the request must not be used
 * afterwards. Headers added with http_response_header() go out with the answer.
 *
 * Errors are always JSON: {"error":{"code":"not_found","message":"..."}}.
 */
#ifndef CHATKITD_HTTP_RESPONSE_H
#define CHATKITD_HTTP_RESPONSE_H

#include "core/buf.h"
#include "http/request.h"

#include <stddef.h>

/* Adds "Name: value" to the answer. Values with CR or LF are refused (ERR_INVALID), so no
 * header can be injected; ERR_TOO_BIG past 8 KiB of extra headers. */
int http_response_header(struct http_request *req, const char *name, const char *value);
/* Answers with status and body (len bytes, may be 0); content_type NULL sends none. */
void http_respond(struct http_request *req, int status, const char *content_type, const void *body,
                  size_t len);
/* Answers with body->data as application/json. body is left to the caller. */
void http_respond_json(struct http_request *req, int status, const struct buf *body);
/* Answers {"error":{"code":code,"message":<formatted>}} with status. */
void http_respond_error(struct http_request *req, int status, const char *code, const char *fmt,
                        ...) __attribute__((format(printf, 4, 5)));
/* The reason phrase of a status code ("Not Found"), "Unknown" for codes we never send. */
const char *http_status_reason(int status);
/* Writes the status line and the common headers (Date, X-Request-Id, Connection, extra headers)
 * into out; the caller appends its own headers and the blank line. Used by sse.c too. */
int http_response_head(struct http_request *req, int status, struct buf *out);

#endif
