/* sse_parse.h - an incremental parser for the event streams upstream model servers send
 * (text/event-stream, the WHATWG "server-sent events" format).
 *
 * Bytes go in as they arrive, split anywhere; complete events come out through a callback. Lines
 * end with LF, CRLF or CR (a CRLF split across two feeds counts once). `event:` sets the event's
 * name, `data:` lines are joined with LF, `id:` and `retry:` are ignored (a model stream is never
 * resumed), lines starting with ':' are comments (keep-alives), and a blank line dispatches the
 * event when it has data. A leading UTF-8 byte order mark is skipped.
 *
 * Limits: one event's data (and its pending line) may not pass max_event_bytes; past it the feed
 * fails with ERR_TOO_BIG and the parser must not be fed again. Ownership: the struct is embedded
 * by its user; sse_parser_free releases its buffers.
 */
#ifndef CHATKITD_MODEL_SSE_PARSE_H
#define CHATKITD_MODEL_SSE_PARSE_H

#include "core/buf.h"

#include <stdbool.h>
#include <stddef.h>

#define SSE_EVENT_NAME_MAX 128

/* One complete event: name is "" when the stream gave none ("message" by the standard), data is
 * NUL-terminated and valid during the call only. Return 0 to continue, anything else to stop the
 * feed (sse_parser_feed returns that value). */
typedef int (*sse_event_fn)(void *data, const char *name, const char *payload, size_t len);

struct sse_parser {
    struct buf line;    /* the current, incomplete line */
    struct buf payload; /* data lines of the current event, joined with LF */
    char name[SSE_EVENT_NAME_MAX];
    bool has_data;    /* a data: line was seen since the last dispatch */
    bool skip_lf;     /* the previous byte was a CR: a following LF ends nothing */
    bool bom_checked; /* the first bytes were checked for a BOM */
};

void sse_parser_init(struct sse_parser *p, size_t max_event_bytes);
void sse_parser_free(struct sse_parser *p);
/* Feeds n bytes; 0, ERR_TOO_BIG, or the first non-zero value the callback returned. */
int sse_parser_feed(struct sse_parser *p, const char *bytes, size_t n, sse_event_fn fn, void *data);

#endif
