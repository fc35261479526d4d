/* sse.h - server-sent event streams (text/event-stream).
 *
 * Framing follows the ChatKit protocol exactly (spec §1.4): each event is "data: " + one compact
 * JSON object + "\n\n", no event names, ids, comments or end sentinel; the stream ends when the
 * body ends. Events are flushed before the loop next waits for I/O: all events a stream gets
 * in one loop turn leave in one write, and none waits longer than that turn. On HTTP/1.1 the body
 * is chunked so the connection can be reused after the stream; HTTP/1.0 streams close at the end.
 *
 * Back-pressure: the bytes queued for a stream are capped (limits.sse_queue_bytes). A send that
 * would pass the cap disconnects the slow reader and returns ERR_CLOSED; the caller then stops
 * producing and finishes the request with http_sse_end().
 */
#ifndef CHATKITD_HTTP_SSE_H
#define CHATKITD_HTTP_SSE_H

#include "core/buf.h"
#include "http/request.h"

#include <stddef.h>

/* Appends one event frame for json (len bytes) to out. ERR_INVALID when json contains a CR or
 * LF (it would split the frame), ERR_TOO_BIG at out's cap. */
int sse_frame(struct buf *out, const char *json, size_t len);
/* Sends the 200 status and stream headers: they are queued like an event, so they leave in one
 * write with the events of this loop turn. ERR_CLOSED when the client is gone. */
int http_sse_begin(struct http_request *req);
/* The same, but the head waits for the stream's first output (an event, a comment or the end)
 * even when that comes in a later loop turn, so both leave in one write. For streams whose first
 * event is on its way (a ChatKit turn's thread.created waits for its commit); not for feeds,
 * whose clients learn the stream is open from the head. */
int http_sse_begin_held(struct http_request *req);
/* Sends one event; 0, ERR_CLOSED (client gone or too slow), or ERR_INVALID (bad JSON framing). */
int http_sse_send(struct http_request *req, const char *json, size_t len);
/* One event framed once for many streams (a feed's fan-out): the chunked (HTTP/1.1) and the
 * plain (HTTP/1.0) form. */
struct sse_shared {
    struct buf chunked; /* owned */
    struct buf plain;   /* owned */
    size_t payload;     /* the frame's bytes without chunk framing (bytes_out) */
};
/* Frames json once; ERR_INVALID on a CR or LF in it. Free with sse_shared_free (also on error). */
int sse_shared_init(struct sse_shared *f, const char *json, size_t len);
void sse_shared_free(struct sse_shared *f);
/* Sends a shared frame like http_sse_send (same codes, back-pressure cap and end-of-loop-turn
 * write), without framing the event again for each stream. */
int http_sse_send_shared(struct http_request *req, const struct sse_shared *f);
/* Sends an SSE comment line, ": " + text + "\n\n", which event parsers skip. Only for streams
 * that are not ChatKit streams (the protocol's have none): keep-alives on long-lived feeds that
 * proxies would otherwise close. Same back-pressure rule and codes as http_sse_send; text must not
 * contain CR or LF (ERR_INVALID). */
int http_sse_comment(struct http_request *req, const char *text);
/* Writes every stream's waiting events (the server calls it once per loop turn). */
void http_sse_flush_all(struct http_server *s);
/* Drops a request's waiting events and unlists it (when the request is freed). */
void http_sse_forget(struct http_request *req);
/* Bytes written to this stream but not yet accepted by the kernel. */
size_t http_sse_queued(const struct http_request *req);
/* Ends the stream and finishes the request (frees it). */
void http_sse_end(struct http_request *req);

#endif
