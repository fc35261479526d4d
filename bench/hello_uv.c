/* hello_uv.c - the baseline for `make bench`: the least an HTTP server on libuv can do.
 *
 * It answers every request (found by its blank line) with a fixed 200 JSON body, on keep-alive
 * connections, with no parsing, routing, limits or logging. chatkitd's /health req/s is reported
 * as a ratio of this server's, measured in the same run with the same load.
 *
 * usage: hello_uv PORT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             "Content-Length: 15\r\n\r\n{\"status\":\"ok\"}";

struct client {
    uv_tcp_t tcp;
    int matched; /* bytes of "\r\n\r\n" seen at the end of the last read */
};

static char read_buf[65536];

static void on_alloc(uv_handle_t *h, size_t n, uv_buf_t *b)
{
    (void)h;
    (void)n;
    b->base = read_buf;
    b->len = sizeof read_buf;
}

static void on_closed(uv_handle_t *h)
{
    free(h);
}

static void on_written(uv_write_t *w, int status)
{
    (void)status;
    free(w);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct client *c = (struct client *)s;
    if (n < 0) {
        uv_close((uv_handle_t *)s, on_closed);
        return;
    }
    static const char end[] = "\r\n\r\n";
    int requests = 0;
    for (ssize_t i = 0; i < n; i++) {
        c->matched = b->base[i] == end[c->matched] ? c->matched + 1 : (b->base[i] == '\r');
        if (c->matched == 4) {
            requests++;
            c->matched = 0;
        }
    }
    for (int i = 0; i < requests; i++) {
        uv_buf_t out = uv_buf_init((char *)answer, sizeof answer - 1);
        if (uv_try_write(s, &out, 1) == (int)out.len)
            continue;
        uv_write_t *w = malloc(sizeof *w);
        uv_write(w, s, &out, 1, on_written);
    }
}

static void on_connection(uv_stream_t *server, int status)
{
    if (status < 0)
        return;
    struct client *c = calloc(1, sizeof *c);
    uv_tcp_init(server->loop, &c->tcp);
    if (uv_accept(server, (uv_stream_t *)&c->tcp) == 0) {
        uv_tcp_nodelay(&c->tcp, 1);
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    } else {
        uv_close((uv_handle_t *)&c->tcp, on_closed);
    }
}

int main(int argc, char **argv)
{
    uv_loop_t *loop = uv_default_loop();
    uv_tcp_t server;
    struct sockaddr_in addr;
    int port = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 8001;
    uv_tcp_init(loop, &server);
    uv_ip4_addr("127.0.0.1", port, &addr);
    if (uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0) ||
        uv_listen((uv_stream_t *)&server, 4096, on_connection)) {
        fprintf(stderr, "hello_uv: cannot listen on %d\n", port);
        return 1;
    }
    printf("hello_uv listening on http://127.0.0.1:%d\n", port);
    fflush(stdout);
    return uv_run(loop, UV_RUN_DEFAULT);
}
