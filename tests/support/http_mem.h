/* http_mem.h - an in-memory transport for the HTTP connection layer (tests and fuzzing).
 *
 * Bytes go in with http_mem_feed(); everything the server writes collects in `out`. No sockets
 * are involved, so a test can drive the full request layer - parser, limits, router, handlers,
 * responses - byte by byte, and inspect the exact bytes on the wire.
 */
#ifndef CHATKITD_TESTS_HTTP_MEM_H
#define CHATKITD_TESTS_HTTP_MEM_H

#include "core/buf.h"
#include "http/conn.h"
#include "http/server.h"

#include <stdbool.h>

struct http_mem {
    struct http_conn conn;
    struct buf out;     /* all bytes written by the server */
    size_t fake_queued; /* what io->queued reports (to test back-pressure) */
    bool closed;        /* the transport was closed */
    bool destroyed;     /* the connection released its memory */
    bool reading;       /* read_start/read_stop state */
};

/* Starts a connection on server s (which needs no listener). */
struct http_mem *http_mem_open(struct http_server *s);
/* Feeds bytes as if they arrived from the socket. */
void http_mem_feed(struct http_mem *m, const char *data, size_t len);
void http_mem_feed_str(struct http_mem *m, const char *s);
/* The peer closed its side. */
void http_mem_eof(struct http_mem *m);
/* How often needle occurs in what the server wrote, after the write the loop would make of any
 * events still waiting (sse.h: events go out once per loop turn). */
int http_mem_count(struct http_mem *m, const char *needle);
/* Closes the connection if still open, runs the loop until it is released, frees m. */
void http_mem_free(struct http_mem *m, uv_loop_t *loop);

#endif
