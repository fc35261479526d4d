#include "http/server.h"

#include "core/clock.h"
#include "core/err.h"
#include "core/id.h"
#include "core/xalloc.h"
#include "http/conn.h"
#include "http/sse.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>
#include <time.h>

/* Descriptors kept back from the connection cap for the listener, the database, log files and
 * outbound calls. */
#define FD_RESERVE     64
#define LISTEN_BACKLOG 4096

struct tcp_conn {
    uv_tcp_t tcp;
    struct http_conn conn;
};

struct tcp_write {
    uv_write_t req;
    struct tcp_conn *owner;
    char *data;
};

#define TCP_OF(c) ((struct tcp_conn *)((char *)(c)-offsetof(struct tcp_conn, conn)))

void http_limits_default(struct http_limits *l)
{
    l->max_header_bytes = 16 * 1024;
    l->max_body_bytes = 1024 * 1024;
    l->max_connections = 10000;
    l->header_timeout_ms = 10000;
    l->idle_timeout_ms = 60000;
    l->sse_queue_bytes = 1024 * 1024;
    l->drain_timeout_ms = 10000;
}

/* ---- the TCP transport ---- */

static void tcp_write_cb(uv_write_t *w, int status)
{
    struct tcp_write *tw = (struct tcp_write *)w;
    struct tcp_conn *t = tw->owner;
    free(tw->data);
    free(tw);
    http_conn_on_write_done(&t->conn, status);
}

/* Tries the write synchronously first: most answers fit the socket buffer, which saves the
 * write request allocation and a loop turn. */
static int tcp_write(struct http_conn *c, char *data, size_t len)
{
    struct tcp_conn *t = TCP_OF(c);
    uv_buf_t b = uv_buf_init(data, (unsigned)len);
    if (uv_stream_get_write_queue_size((uv_stream_t *)&t->tcp) == 0) {
        int n = uv_try_write((uv_stream_t *)&t->tcp, &b, 1);
        if (n == (int)len) {
            free(data);
            return 1;
        }
        if (n > 0) {
            b.base += n;
            b.len -= (size_t)n;
        } else if (n != UV_EAGAIN) {
            free(data);
            return n;
        }
    }
    struct tcp_write *tw = xmalloc(sizeof *tw);
    tw->owner = t;
    tw->data = data;
    int rc = uv_write(&tw->req, (uv_stream_t *)&t->tcp, &b, 1, tcp_write_cb);
    if (rc) {
        free(data);
        free(tw);
        return rc;
    }
    return 0;
}

static size_t tcp_queued(struct http_conn *c)
{
    return uv_stream_get_write_queue_size((uv_stream_t *)&TCP_OF(c)->tcp);
}

static void tcp_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)suggested;
    struct tcp_conn *t = h->data;
    struct http_server *s = t->conn.server;
    b->base = s->read_buf;
    b->len = sizeof s->read_buf;
}

static void tcp_read_cb(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    struct tcp_conn *t = st->data;
    if (n > 0)
        http_conn_on_read(&t->conn, b->base, (size_t)n);
    else if (n == UV_EOF)
        http_conn_on_eof(&t->conn);
    else if (n < 0)
        http_conn_close(&t->conn, true);
}

static void tcp_read_stop(struct http_conn *c)
{
    uv_read_stop((uv_stream_t *)&TCP_OF(c)->tcp);
}

static void tcp_read_start(struct http_conn *c)
{
    uv_read_start((uv_stream_t *)&TCP_OF(c)->tcp, tcp_alloc_cb, tcp_read_cb);
}

static void tcp_closed(uv_handle_t *h)
{
    struct tcp_conn *t = h->data;
    http_conn_on_transport_closed(&t->conn);
}

/* Closing a socket with unread bytes in its receive queue makes the kernel answer with RST
 * instead of FIN, and an RST makes the peer's kernel drop whatever that peer has not read yet:
 * a pipelining client would lose the last answers it was sent (requests dropped by a drain, a
 * body refused with 413). So what has already arrived is read and thrown away first (up to
 * CLOSE_DISCARD_MAX, without waiting), then the close sends FIN after the queued answers. */
#define CLOSE_DISCARD_MAX (1024 * 1024)

static void tcp_close(struct http_conn *c)
{
    struct tcp_conn *t = TCP_OF(c);
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&t->tcp, &fd) == 0) {
        struct http_server *s = c->server;
        size_t dropped = 0;
        ssize_t n;
        while (dropped < CLOSE_DISCARD_MAX &&
               (n = recv(fd, s->read_buf, sizeof s->read_buf, MSG_DONTWAIT)) > 0)
            dropped += (size_t)n;
    }
    uv_close((uv_handle_t *)&t->tcp, tcp_closed);
}

static void tcp_destroy(struct http_conn *c)
{
    free(TCP_OF(c));
}

static const struct http_io tcp_io = {
    .write = tcp_write,
    .queued = tcp_queued,
    .read_stop = tcp_read_stop,
    .read_start = tcp_read_start,
    .close = tcp_close,
    .destroy = tcp_destroy,
};

/* ---- accepting ---- */

static void reject_closed(uv_handle_t *h)
{
    free(h);
}

/* Over the cap, the client still gets a clear answer rather than a silent reset. */
static void server_reject(struct http_server *s, uv_stream_t *listener)
{
#define BUSY_BODY                                                                                  \
    "{\"error\":{\"code\":\"too_many_connections\",\"message\":\"the server is at its "            \
    "connection limit\"}}"
    _Static_assert(sizeof BUSY_BODY - 1 == 91, "the Content-Length below must match BUSY_BODY");
    static const char busy[] =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        "Connection: close\r\nRetry-After: 1\r\nContent-Length: 91\r\n\r\n" BUSY_BODY;
#undef BUSY_BODY
    uv_tcp_t *tmp = xmalloc(sizeof *tmp);
    uv_tcp_init(s->loop, tmp);
    if (uv_accept(listener, (uv_stream_t *)tmp) == 0) {
        uv_buf_t b = uv_buf_init((char *)busy, sizeof busy - 1);
        uv_try_write((uv_stream_t *)tmp, &b, 1);
    }
    s->metrics.connections_rejected++;
    uv_close((uv_handle_t *)tmp, reject_closed);
}

static void server_on_connection(uv_stream_t *listener, int status)
{
    struct http_server *s = listener->data;
    if (status < 0) {
        log_warn(s->log, "accept failed: %s", uv_strerror(status));
        return;
    }
    if (s->draining)
        return;
    if (s->metrics.open_connections >= s->limits.max_connections) {
        server_reject(s, listener);
        return;
    }
    struct tcp_conn *t = xcalloc(1, sizeof *t);
    uv_tcp_init(s->loop, &t->tcp);
    t->tcp.data = t;
    if (uv_accept(listener, (uv_stream_t *)&t->tcp) != 0) {
        uv_close((uv_handle_t *)&t->tcp, reject_closed);
        return;
    }
    uv_tcp_nodelay(&t->tcp, 1);
    http_conn_init(&t->conn, s, &tcp_io);
    int rc = uv_read_start((uv_stream_t *)&t->tcp, tcp_alloc_cb, tcp_read_cb);
    if (rc)
        http_conn_close(&t->conn, false);
}

/* ---- access log: buffered, flushed once per loop turn ---- */

static void server_flush_access_log(struct http_server *s)
{
    if (s->access_buf.len && s->log && s->log->out) {
        fwrite(s->access_buf.data, 1, s->access_buf.len, s->log->out);
        fflush(s->log->out);
    }
    buf_reset(&s->access_buf);
}

/* Runs right before the loop waits for I/O: events produced during this turn go out now, one
 * write per stream, so coalescing adds no latency. */
static void server_prepare_cb(uv_prepare_t *p)
{
    http_sse_flush_all(p->data);
    server_flush_access_log(p->data);
}

void http_server_access_log(struct http_server *s, const char *line, size_t len)
{
    if (s->access_buf.len + len > 64 * 1024)
        server_flush_access_log(s);
    buf_append(&s->access_buf, line, len);
}

const char *http_server_date_header(struct http_server *s)
{
    int64_t now = clock_wall_us() / 1000000;
    if (now != s->date_sec) {
        static const char *days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
        static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        time_t tt = (time_t)now;
        struct tm tm;
        gmtime_r(&tt, &tm);
        snprintf(s->date_header, sizeof s->date_header,
                 "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n", days[tm.tm_wday], tm.tm_mday,
                 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
        s->date_sec = now;
    }
    return s->date_header;
}

/* ---- lifecycle ---- */

int http_server_init(struct http_server *s, uv_loop_t *loop, const struct http_limits *limits,
                     const struct http_router *router, const struct logger *log, bool access_log)
{
    memset(s, 0, sizeof *s);
    s->loop = loop;
    s->limits = *limits;
    s->router = router;
    s->log = log;
    s->access_log = access_log;
    http_metrics_init(&s->metrics);
    buf_init(&s->access_buf, 128 * 1024);
    unsigned char rnd[4];
    int rc = id_random_bytes(rnd, sizeof rnd);
    if (rc)
        return rc;
    id_hex(rnd, sizeof rnd, s->request_id_prefix);
    uv_tcp_init(loop, &s->listener);
    s->listener.data = s;
    uv_timer_init(loop, &s->drain_timer);
    s->drain_timer.data = s;
    uv_prepare_init(loop, &s->flush_prepare);
    s->flush_prepare.data = s;
    uv_prepare_start(&s->flush_prepare, server_prepare_cb);
    uv_unref((uv_handle_t *)&s->flush_prepare);
    s->handles_open = 3;
    return 0;
}

int http_server_listen(struct http_server *s, const char *host, int port, int *bound_port)
{
    struct sockaddr_storage ss;
    int rc = uv_ip4_addr(host, port, (struct sockaddr_in *)&ss);
    if (rc)
        rc = uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss);
    if (rc)
        return rc;
    rc = uv_tcp_bind(&s->listener, (const struct sockaddr *)&ss, 0);
    if (!rc)
        rc = uv_listen((uv_stream_t *)&s->listener, LISTEN_BACKLOG, server_on_connection);
    if (rc)
        return rc;
    struct sockaddr_storage got;
    int len = sizeof got;
    uv_tcp_getsockname(&s->listener, (struct sockaddr *)&got, &len);
    *bound_port = got.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&got)->sin6_port)
                                            : ntohs(((struct sockaddr_in *)&got)->sin_port);
    s->listening = true;
    return 0;
}

static void drain_timeout_cb(uv_timer_t *t)
{
    struct http_server *s = t->data;
    unsigned n = 0;
    for (struct http_conn *c = s->conns; c; c = s->conns, n++)
        http_conn_close(c, true);
    if (n)
        log_warn(s->log, "drain timeout: closed %u connection(s) still busy", n);
}

static void server_handle_closed(uv_handle_t *h)
{
    struct http_server *s = h->data;
    if (--s->handles_open == 0) {
        buf_free(&s->access_buf);
        if (s->on_closed)
            s->on_closed(s->closed_data);
    }
}

void http_server_drain(struct http_server *s, void (*on_drained)(void *data), void *data)
{
    if (s->draining)
        return;
    s->draining = true;
    s->on_drained = on_drained;
    s->drained_data = data;
    if (s->listening) {
        uv_close((uv_handle_t *)&s->listener, server_handle_closed);
        s->listening = false;
    }
    /* Idle connections (no request in flight, no answer still being written) have nothing to
     * finish. Answers already written are delivered first; pipelined requests not yet started
     * are dropped. */
    struct http_conn *c = s->conns;
    while (c) {
        struct http_conn *next = c->next;
        if (c->req && c->dispatched)
            ; /* its answer goes out with Connection: close (draining) */
        else if (c->writes_in_flight)
            c->close_after_write = true;
        else
            http_conn_close(c, false);
        c = next;
    }
    if (!s->conns) {
        s->on_drained = NULL;
        on_drained(data);
        return;
    }
    uv_timer_start(&s->drain_timer, drain_timeout_cb, s->limits.drain_timeout_ms, 0);
}

void http_server_close(struct http_server *s, void (*on_closed)(void *data), void *data)
{
    s->on_closed = on_closed;
    s->closed_data = data;
    server_flush_access_log(s);
    if (s->listening) {
        uv_close((uv_handle_t *)&s->listener, server_handle_closed);
        s->listening = false;
    } else if (!uv_is_closing((uv_handle_t *)&s->listener)) {
        uv_close((uv_handle_t *)&s->listener, server_handle_closed);
    }
    uv_close((uv_handle_t *)&s->drain_timer, server_handle_closed);
    uv_close((uv_handle_t *)&s->flush_prepare, server_handle_closed);
}

/* Worker thread: a descriptor numbered fd_table_size - 1 makes the kernel size the table for it
 * (tables never shrink); it is closed at once. */
static void fd_table_grow(uv_work_t *w)
{
    struct http_server *s = w->data;
    int fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, s->fd_table_size - 1);
    if (fd < 0)
        fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, s->fd_table_size - 1);
    if (fd >= 0)
        close(fd);
}

static void fd_table_grown(uv_work_t *w, int status)
{
    (void)w;
    (void)status; /* an unsized table only costs the stalls it was meant to avoid */
}

void http_server_fit_fd_limit(struct http_server *s)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t want = rl.rlim_max;
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur < (rlim_t)s->limits.max_connections + FD_RESERVE) {
        unsigned cap = rl.rlim_cur > FD_RESERVE + 1 ? (unsigned)(rl.rlim_cur - FD_RESERVE) : 1;
        log_warn(s->log,
                 "open-file limit %llu caps connections at %u (max-connections is %u); raise "
                 "`ulimit -n` to allow more",
                 (unsigned long long)rl.rlim_cur, cap, s->limits.max_connections);
        s->limits.max_connections = cap;
    }
    uint64_t want = 2 * (uint64_t)s->limits.max_connections + FD_RESERVE;
    if (rl.rlim_cur != RLIM_INFINITY && want > rl.rlim_cur)
        want = rl.rlim_cur;
    if (want > INT32_MAX / 2)
        want = INT32_MAX / 2;
    s->fd_table_size = (int)want;
    s->fd_table_work.data = s;
    uv_queue_work(s->loop, &s->fd_table_work, fd_table_grow, fd_table_grown);
}
