/* server.h - the HTTP/1.1 server: listener, connection limits, drain.
 *
 * One server runs on one libuv loop and owns every client socket. Requests are parsed by the
 * connection layer (conn.h) and dispatched through a router to handlers; responses go out in
 * request order on each connection (pipelining), and keep-alive connections are reused. Every
 * limit is explicit and configurable (struct http_limits): an over-long header block gets 431,
 * an over-size body 413, a slow header sender 408, an over-full server 503, and a reader that
 * cannot keep up with its event stream is disconnected once its queue passes the cap.
 */
#ifndef CHATKITD_HTTP_SERVER_H
#define CHATKITD_HTTP_SERVER_H

#include "core/buf.h"
#include "core/log.h"
#include "http/metrics.h"
#include "http/router.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct http_conn;

struct http_limits {
    size_t max_header_bytes;    /* request line + headers (431 beyond) */
    size_t max_body_bytes;      /* decoded request body (413 beyond) */
    unsigned max_connections;   /* open client connections (503 + close beyond) */
    uint64_t header_timeout_ms; /* from a request's first byte to the end of its headers (408) */
    uint64_t idle_timeout_ms;   /* keep-alive idle, and longest pause inside a request body */
    size_t sse_queue_bytes;     /* unsent output allowed per event stream */
    uint64_t drain_timeout_ms;  /* how long in-flight responses may run after SIGTERM */
};

/* The defaults the issue and docs/configuration.md state. */
void http_limits_default(struct http_limits *l);

struct http_server {
    uv_loop_t *loop; /* not owned */
    struct http_limits limits;
    const struct http_router *router; /* not owned */
    const struct logger *log;         /* not owned */
    bool access_log;
    struct http_metrics metrics;
    uv_tcp_t listener;
    bool listening;
    bool draining;
    uv_timer_t drain_timer;
    void (*on_drained)(void *data);
    void *drained_data;
    uv_prepare_t flush_prepare; /* writes buffered access-log lines once per loop turn */
    struct buf access_buf;
    struct http_conn *conns;        /* every open connection (intrusive list) */
    struct http_request *sse_flush; /* streams with events waiting for this loop turn's write */
    uint64_t next_request_seq;
    char request_id_prefix[9]; /* random per process, so ids differ across restarts */
    int64_t date_sec;          /* the second date_header was formatted for */
    char date_header[40];      /* "Date: Wed, 25 Nov 2026 21:15:41 GMT\r\n" */
    char read_buf[65536];      /* shared by all reads: data is consumed in the callback */
    int handles_open;          /* listener, timers, prepare: closed by http_server_close */
    void (*on_closed)(void *data);
    void *closed_data;
    uv_work_t fd_table_work; /* grows the file table off the loop (http_server_fit_fd_limit) */
    int fd_table_size;       /* descriptors it makes room for */
};

/* Sets up s on loop (no socket yet). router and log must outlive the server. */
int http_server_init(struct http_server *s, uv_loop_t *loop, const struct http_limits *limits,
                     const struct http_router *router, const struct logger *log, bool access_log);
/* Binds and listens on host:port ("127.0.0.1", "::1", "0.0.0.0"); port 0 picks a free one.
 * *bound_port gets the port actually bound. Returns 0 or a negative libuv code. */
int http_server_listen(struct http_server *s, const char *host, int port, int *bound_port);
/* Stops accepting, closes idle connections and lets in-flight responses finish; connections
 * still open after limits.drain_timeout_ms are closed. on_drained runs once no connection is
 * left. */
void http_server_drain(struct http_server *s, void (*on_drained)(void *data), void *data);
/* Closes the server's own handles (after drain); on_closed runs when they are closed. */
void http_server_close(struct http_server *s, void (*on_closed)(void *data), void *data);
/* Raises the process's open-file soft limit to its hard limit and lowers max_connections when
 * the limit cannot hold them (logged). Then grows the process's file table, on a worker thread,
 * to the descriptors max_connections can use (each connection and one upstream call): the kernel
 * grows it by doubling, and each growth of a table shared by threads waits for an RCU grace
 * period (milliseconds) inside whatever call opened the descriptor, which would otherwise be
 * accept() or a model call's socket() on the loop. Call before listening. */
void http_server_fit_fd_limit(struct http_server *s);
/* The current "Date: ...\r\n" header line (cached per second). */
const char *http_server_date_header(struct http_server *s);
/* Adds one line to the access log buffer (flushed once per loop turn). */
void http_server_access_log(struct http_server *s, const char *line, size_t len);

#endif
