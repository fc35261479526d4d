#include "http_mem.h"

#include "core/xalloc.h"
#include "http/sse.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define MEM_OF(c) ((struct http_mem *)((char *)(c)-offsetof(struct http_mem, conn)))

static int mem_write(struct http_conn *c, char *data, size_t len)
{
    struct http_mem *m = MEM_OF(c);
    buf_append(&m->out, data, len);
    free(data);
    return 1;
}

static size_t mem_queued(struct http_conn *c)
{
    return MEM_OF(c)->fake_queued;
}

static void mem_read_stop(struct http_conn *c)
{
    MEM_OF(c)->reading = false;
}

static void mem_read_start(struct http_conn *c)
{
    MEM_OF(c)->reading = true;
}

static void mem_close(struct http_conn *c)
{
    MEM_OF(c)->closed = true;
    http_conn_on_transport_closed(c);
}

static void mem_destroy(struct http_conn *c)
{
    MEM_OF(c)->destroyed = true;
}

static const struct http_io mem_io = {
    .write = mem_write,
    .queued = mem_queued,
    .read_stop = mem_read_stop,
    .read_start = mem_read_start,
    .close = mem_close,
    .destroy = mem_destroy,
};

struct http_mem *http_mem_open(struct http_server *s)
{
    struct http_mem *m = xcalloc(1, sizeof *m);
    buf_init(&m->out, 64 * 1024 * 1024);
    m->reading = true;
    http_conn_init(&m->conn, s, &mem_io);
    return m;
}

void http_mem_feed(struct http_mem *m, const char *data, size_t len)
{
    if (!m->closed)
        http_conn_on_read(&m->conn, data, len);
}

void http_mem_feed_str(struct http_mem *m, const char *s)
{
    http_mem_feed(m, s, strlen(s));
}

void http_mem_eof(struct http_mem *m)
{
    if (!m->closed)
        http_conn_on_eof(&m->conn);
}

int http_mem_count(struct http_mem *m, const char *needle)
{
    http_sse_flush_all(m->conn.server);
    int n = 0;
    size_t nl = strlen(needle);
    for (size_t i = 0; m->out.data && i + nl <= m->out.len; i++)
        n += memcmp(m->out.data + i, needle, nl) == 0;
    return n;
}

void http_mem_free(struct http_mem *m, uv_loop_t *loop)
{
    if (!m->closed)
        http_conn_close(&m->conn, true);
    while (!m->destroyed && uv_run(loop, UV_RUN_ONCE))
        ;
    buf_free(&m->out);
    free(m);
}
