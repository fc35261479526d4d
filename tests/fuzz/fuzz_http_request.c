/* libFuzzer target: the HTTP request layer, bytes in, responses out, no sockets.
 *
 * Each input is fed to a fresh connection on one long-lived server, in pieces whose sizes come
 * from the first input byte (so split headers, split chunk sizes and split CRLFs all get
 * exercised), then the peer closes. Handlers cover plain answers, path parameters, body echo and
 * an event stream. Invariants: nothing crashes or leaks (ASan/LSan), and whatever the server
 * wrote starts with a status line.
 */
#include "http/conn.h"
#include "http/response.h"
#include "http/router.h"
#include "http/server.h"
#include "http/sse.h"
#include "http_mem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fuzz_env {
    uv_loop_t loop;
    struct logger log;
    struct http_router router;
    struct http_server server;
};

static void h_echo(struct http_request *req, void *data)
{
    (void)data;
    http_respond(req, 200, "application/octet-stream", req->body.data, req->body.len);
}

static void h_param(struct http_request *req, void *data)
{
    (void)data;
    char v[256], q[256];
    int rc = http_request_param(req, "id", v, sizeof v);
    int qrc = http_request_query(req, "q", q, sizeof q);
    size_t clen;
    const char *cookie = NULL;
    http_request_cookie(req, "sid", &cookie, &clen);
    size_t blen;
    http_request_bearer(req, &blen);
    if (rc < 0 || qrc < 0)
        http_respond_error(req, 400, "bad_escape", "bad escape");
    else
        http_respond(req, 200, "text/plain", v, rc == 1 ? strlen(v) : 0);
}

static void h_stream(struct http_request *req, void *data)
{
    (void)data;
    if (http_sse_begin(req) == 0) {
        http_sse_send(req, "{\"type\":\"x\"}", 12);
        http_sse_send(req, req->body.data ? req->body.data : "{}",
                      req->body.data ? req->body.len : 2);
    }
    http_sse_end(req);
}

static struct fuzz_env *env_get(void)
{
    static struct fuzz_env *env;
    if (env)
        return env;
    env = calloc(1, sizeof *env);
    uv_loop_init(&env->loop);
    log_init(&env->log, NULL, LOG_ERROR, LOG_TEXT);
    http_router_init(&env->router);
    http_router_add(&env->router, "POST", "/echo", h_echo, NULL);
    http_router_add(&env->router, "GET", "/items/{id}", h_param, NULL);
    http_router_add(&env->router, "POST", "/stream", h_stream, NULL);
    struct http_limits l;
    http_limits_default(&l);
    l.max_header_bytes = 2048;
    l.max_body_bytes = 4096;
    http_server_init(&env->server, &env->loop, &l, &env->router, &env->log, false);
    return env;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_env *env = env_get();
    struct http_mem *m = http_mem_open(&env->server);
    size_t piece = size ? (size_t)(data[0] % 17) + 1 : 1;
    size_t pos = size ? 1 : 0;
    while (pos < size && !m->closed) {
        size_t n = size - pos < piece ? size - pos : piece;
        http_mem_feed(m, (const char *)data + pos, n);
        pos += n;
    }
    http_mem_eof(m);
    if (m->out.len >= 7 && memcmp(m->out.data, "HTTP/1.", 7) != 0)
        abort();
    http_mem_free(m, &env->loop);
    return 0;
}
