/* conn.h - one client connection: the HTTP/1.1 state machine on llhttp.
 *
 * The connection reads bytes from a transport, parses them, dispatches each complete request and
 * writes the responses back in order. It does not know what the transport is: server.c plugs in
 * TCP sockets, and tests and the fuzzer plug in memory (struct http_io), so the whole request
 * layer runs without sockets.
 *
 * Pipelining: parsing stops after each complete request (llhttp pause) until that request has
 * been answered; later bytes wait in `pending`. Reading continues meanwhile (so a disconnect is
 * noticed during a long response) until `pending` holds HTTP_CONN_PENDING_SOFT_MAX bytes, then
 * reading pauses.
 *
 * Ownership: the transport allocates the struct (embedding it) and frees it in io->destroy,
 * which the connection calls once both the transport and its timer are closed.
 */
#ifndef CHATKITD_HTTP_CONN_H
#define CHATKITD_HTTP_CONN_H

#include "core/buf.h"
#include "http/request.h"
#include "http/server.h"

#include <llhttp.h>
#include <stdbool.h>
#include <uv.h>

#define HTTP_CONN_PENDING_SOFT_MAX (64 * 1024)

struct http_io {
    /* Takes ownership of data (malloc'd) and frees it once written or on failure. Returns 1
     * when everything went out at once, 0 when the rest was queued (http_conn_on_write_done
     * follows), or a negative code (the connection then closes). */
    int (*write)(struct http_conn *c, char *data, size_t len);
    /* Bytes accepted by write but not yet handed to the kernel. */
    size_t (*queued)(struct http_conn *c);
    void (*read_stop)(struct http_conn *c);
    void (*read_start)(struct http_conn *c);
    /* Closes the transport; it calls http_conn_on_transport_closed when done. */
    void (*close)(struct http_conn *c);
    /* Frees the memory holding c. */
    void (*destroy)(struct http_conn *c);
};

struct http_conn {
    struct http_server *server; /* not owned */
    const struct http_io *io;
    llhttp_t parser;
    uv_timer_t timer;              /* header, body and keep-alive timeouts */
    struct http_request *req;      /* being read or handled; NULL between requests */
    struct buf pending;            /* bytes received while a request is being handled */
    size_t pending_off;            /* start of the unparsed bytes in pending */
    struct http_conn *prev, *next; /* the server's connection list */
    unsigned writes_in_flight;
    unsigned requests_served;
    unsigned char closes_left; /* transport + timer close callbacks still to come */
    bool dispatched;           /* req was handed to its handler */
    bool in_header_field;      /* llhttp header callbacks in progress */
    bool in_header_value;
    bool processing; /* inside conn_process (no re-entry) */
    bool closing;
    bool close_after_write; /* close once writes_in_flight reaches 0 */
    bool read_stopped;
    bool peer_eof;
    int error_status; /* 413/431/... decided inside a parser callback */
};

/* Starts serving a freshly accepted connection. */
void http_conn_init(struct http_conn *c, struct http_server *s, const struct http_io *io);
/* Transport events. */
void http_conn_on_read(struct http_conn *c, const char *data, size_t len);
void http_conn_on_eof(struct http_conn *c);
void http_conn_on_write_done(struct http_conn *c, int status);
void http_conn_on_transport_closed(struct http_conn *c);
/* Closes the connection; an unfinished request is detached and its on_abort runs when
 * notify_request is true. */
void http_conn_close(struct http_conn *c, bool notify_request);
/* Used by response.c and sse.c: queue bytes (ownership of data passes) ... */
int http_conn_write(struct http_conn *c, char *data, size_t len);
/* ... and finish the current request (access log, metrics, free, next pipelined request). */
void http_conn_finish(struct http_request *req);
/* Frees a request that has no connection any more, after logging it. */
void http_request_release(struct http_request *req);

#endif
