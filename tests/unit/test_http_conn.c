/* Unit tests of the HTTP connection layer through the in-memory transport: parsing (also byte
 * by byte), limits, pipelining order, keep-alive, timeouts, SSE framing and back-pressure, and
 * client disconnects during asynchronous handlers. */
#include "core/err.h"
#include "http/conn.h"
#include "http/response.h"
#include "http/router.h"
#include "http/server.h"
#include "http/sse.h"
#include "http_mem.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

struct fixture {
    uv_loop_t loop;
    struct logger log;
    FILE *logf;
    struct http_router router;
    struct http_server server;
    /* deferred answers */
    uv_idle_t idle;
    struct http_request *deferred[8];
    int ndeferred;
    int aborts;
    struct http_request *stream;
};

static struct fixture *fx_of(void **state)
{
    return *state;
}

static void h_hello(struct http_request *req, void *data)
{
    (void)data;
    http_respond(req, 200, "text/plain", "hi", 2);
}

static void h_echo(struct http_request *req, void *data)
{
    (void)data;
    http_respond(req, 200, "application/octet-stream", req->body.data, req->body.len);
}

static void h_path(struct http_request *req, void *data)
{
    (void)data;
    char id[64];
    int rc = http_request_param(req, "id", id, sizeof id);
    if (rc != 1)
        snprintf(id, sizeof id, "?");
    http_respond(req, 200, "text/plain", id, strlen(id));
}

static void on_abort(struct http_request *req)
{
    struct fixture *f = req->ctx;
    f->aborts++;
}

static void idle_cb(uv_idle_t *h)
{
    struct fixture *f = h->data;
    for (int i = 0; i < f->ndeferred; i++)
        http_respond(f->deferred[i], 200, "text/plain", "late", 4);
    f->ndeferred = 0;
    uv_idle_stop(h);
}

/* Answers on a later loop turn, like a handler waiting for the store. */
static void h_async(struct http_request *req, void *data)
{
    struct fixture *f = data;
    req->ctx = f;
    req->on_abort = on_abort;
    f->deferred[f->ndeferred++] = req;
    uv_idle_start(&f->idle, idle_cb);
}

static void h_stream(struct http_request *req, void *data)
{
    struct fixture *f = data;
    req->ctx = f;
    req->on_abort = on_abort;
    assert_int_equal(http_sse_begin(req), 0);
    assert_int_equal(http_sse_send(req, "{\"type\":\"a\"}", 12), 0);
    assert_int_equal(http_sse_send(req, "{\"n\":\"line\\nbreak\"}", 19), 0);
    f->stream = req;
}

static void h_held(struct http_request *req, void *data)
{
    struct fixture *f = data;
    req->ctx = f;
    req->on_abort = on_abort;
    assert_int_equal(http_sse_begin_held(req), 0);
    f->stream = req;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    uv_loop_init(&f->loop);
    f->logf = tmpfile();
    log_init(&f->log, f->logf, LOG_INFO, LOG_TEXT);
    http_router_init(&f->router);
    http_router_add(&f->router, "GET", "/hello", h_hello, f);
    http_router_add(&f->router, "POST", "/echo", h_echo, f);
    http_router_add(&f->router, "GET", "/items/{id}", h_path, f);
    http_router_add(&f->router, "GET", "/async", h_async, f);
    http_router_add(&f->router, "GET", "/stream", h_stream, f);
    http_router_add(&f->router, "GET", "/held", h_held, f);
    http_router_add_limit(&f->router, "POST", "/upload/{id}", h_echo, f, 256);
    http_router_add_limit(&f->router, "POST", "/tiny", h_echo, f, 8);
    struct http_limits l;
    http_limits_default(&l);
    l.max_header_bytes = 1024;
    l.max_body_bytes = 64;
    l.header_timeout_ms = 20;
    l.idle_timeout_ms = 40;
    l.sse_queue_bytes = 4096;
    assert_int_equal(http_server_init(&f->server, &f->loop, &l, &f->router, &f->log, true), 0);
    uv_idle_init(&f->loop, &f->idle);
    f->idle.data = f;
    *state = f;
    return 0;
}

static void closed_cb(void *data)
{
    (void)data;
}

static int teardown(void **state)
{
    struct fixture *f = fx_of(state);
    uv_close((uv_handle_t *)&f->idle, NULL);
    http_server_close(&f->server, closed_cb, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    fclose(f->logf);
    free(f);
    return 0;
}

static void test_simple_get(void **state)
{
    struct fixture *f = fx_of(state);
    struct http_mem *m = http_mem_open(&f->server);
    http_mem_feed_str(m, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true((http_mem_count(m, "HTTP/1.1 200 OK\r\n") > 0));
    assert_true((http_mem_count(m, "Content-Length: 2\r\n") > 0));
    assert_true((http_mem_count(m, "\r\n\r\nhi") > 0));
    assert_false((http_mem_count(m, "Connection: close") > 0));
    assert_false(m->closed);
    http_mem_free(m, &f->loop);
}

static void test_byte_by_byte(void **state)
{
    struct fixture *f = fx_of(state);
    struct http_mem *m = http_mem_open(&f->server);
    const char *req = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                      "GET /items/a%20b HTTP/1.1\r\nHost: x\r\n\r\n";
    for (const char *p = req; *p; p++)
        http_mem_feed(m, p, 1);
    assert_int_equal(http_mem_count(m, "HTTP/1.1 200 OK"), 2);
    assert_true((http_mem_count(m, "\r\n\r\nhello") > 0));
    assert_true((http_mem_count(m, "\r\n\r\na b") > 0));
    http_mem_free(m, &f->loop);
}

static void test_pipelining_keeps_order(void **state)
{
    struct fixture *f = fx_of(state);
    struct http_mem *m = http_mem_open(&f->server);
    http_mem_feed_str(m, "GET /items/1 HTTP/1.1\r\n\r\nGET /async HTTP/1.1\r\n\r\n"
                         "GET /items/3 HTTP/1.1\r\n\r\n");
    /* The async answer is pending, so the third request must wait. */
    assert_int_equal(http_mem_count(m, "HTTP/1.1 200"), 1);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(http_mem_count(m, "HTTP/1.1 200"), 3);
    const char *one = strstr(m->out.data, "\r\n\r\n1");
    const char *late = strstr(m->out.data, "\r\n\r\nlate");
    const char *three = strstr(m->out.data, "\r\n\r\n3");
    assert_non_null(one);
    assert_non_null(late);
    assert_non_null(three);
    assert_true(one < late && late < three);
    http_mem_free(m, &f->loop);
}

static void test_chunked_body(void **state)
{
    struct fixture *f = fx_of(state);
    struct http_mem *m = http_mem_open(&f->server);
    http_mem_feed_str(m, "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n");
    assert_true((http_mem_count(m, "Content-Length: 7\r\n") > 0));
    assert_true((http_mem_count(m, "\r\n\r\nabcdefg") > 0));
    http_mem_free(m, &f->loop);
}

static void test_expect_continue(void **state)
{
    struct fixture *f = fx_of(state);
    struct http_mem *m = http_mem_open(&f->server);
    http_mem_feed_str(m,
                      "POST /echo HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
    assert_string_equal(m->out.data, "HTTP/1.1 100 Continue\r\n\r\n");
    http_mem_feed_str(m, "ok");
    assert_true((http_mem_count(m, "HTTP/1.1 200 OK") > 0));
    http_mem_free(m, &f->loop);
}

static void test_expect_continue_too_large(void **state)
{
    struct fixture *f = fx_of(state);
    struct http_mem *m = http_mem_open(&f->server);
    http_mem_feed_str(m,
                      "POST /echo HTTP/1.1\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n");
    assert_false((http_mem_count(m, "100 Continue") > 0));
    assert_true((http_mem_count(m, "HTTP/1.1 413 ") > 0));
    assert_true((http_mem_count(m, "\"code\":\"payload_too_large\"") > 0));
    assert_true(m->closed);
    http_mem_free(m, &f->loop);
}

static void test_body_too_large_chunked(void **state)
{
    struct fixture *f = fx_of(state);
    struct http_mem *m = http_mem_open(&f->server);
    http_mem_feed_str(m, "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 10; i++)
        http_mem_feed_str(m, "a\r\n0123456789\r\n");
    assert_true((http_mem_count(m, "HTTP/1.1 413 ") > 0));
    assert_true(m->closed);
    http_mem_free(m, &f->loop);
}

/* A route's own body limit replaces the server's, in both directions, for announced and chunked
 * bodies; the 413 names the limit that applied. */
static void test_route_body_limit(void **state)
{
    struct fixture *f = fx_of(state);
    char body[300];
    memset(body, 'u', sizeof body);
    struct http_mem *m = http_mem_open(&f->server);
    http_mem_feed_str(m, "POST /upload/1 HTTP/1.1\r\nContent-Length: 200\r\n\r\n");
    http_mem_feed(m, body, 200);
    assert_true((http_mem_count(m, "HTTP/1.1 200 OK") > 0));
    assert_true((http_mem_count(m, "Content-Length: 200\r\n") > 0));
    assert_false(m->closed);
    /* Chunked, 250 bytes in 25 chunks: over the server's 64, under the route's 256. */
    http_mem_feed_str(m, "POST /upload/2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 25; i++)
        http_mem_feed_str(m, "a\r\n0123456789\r\n");
    http_mem_feed_str(m, "0\r\n\r\n");
    assert_int_equal(http_mem_count(m, "HTTP/1.1 200 OK"), 2);
    assert_true((http_mem_count(m, "Content-Length: 250\r\n") > 0));
    /* The same path without the route's method gets the server's limit (and then a 405). */
    http_mem_feed_str(m, "PUT /upload/3 HTTP/1.1\r\nContent-Length: 100\r\n\r\n");
    assert_true((http_mem_count(m, "HTTP/1.1 413 ") > 0));
    assert_true((http_mem_count(m, "limit of 64 bytes") > 0));
    assert_true(m->closed);
    http_mem_free(m, &f->loop);

    m = http_mem_open(&f->server);
    http_mem_feed_str(m, "POST /upload/4 HTTP/1.1\r\nContent-Length: 257\r\n"
                         "Expect: 100-continue\r\n\r\n");
    assert_false((http_mem_count(m, "100 Continue") > 0));
    assert_true((http_mem_count(m, "HTTP/1.1 413 ") > 0));
    assert_true((http_mem_count(m, "limit of 256 bytes") > 0));
    assert_true(m->closed);
    http_mem_free(m, &f->loop);

    m = http_mem_open(&f->server);
    http_mem_feed_str(m, "POST /upload/5 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 26; i++)
        http_mem_feed_str(m, "a\r\n0123456789\r\n");
    assert_true((http_mem_count(m, "HTTP/1.1 413 ") > 0));
    assert_true((http_mem_count(m, "limit of 256 bytes") > 0));
    assert_true(m->closed);
    http_mem_free(m, &f->loop);

    /* A limit below the server's applies too. */
    m = http_mem_open(&f->server);
    http_mem_feed_str(m, "POST /tiny HTTP/1.1\r\nContent-Length: 8\r\n\r\n12345678"
                         "POST /tiny HTTP/1.1\r\nContent-Length: 9\r\n\r\n123456789");
    assert_true((http_mem_count(m, "HTTP/1.1 200 OK") > 0));
    assert_true((http_mem_count(m, "\r\n\r\n12345678") > 0));
    assert_true((http_mem_count(m, "HTTP/1.1 413 ") > 0));
    assert_true((http_mem_count(m, "limit of 8 bytes") > 0));
    http_mem_free(m, &f->loop);
}

/* Route limits are stored with the route; 0 means the server default. */
static void test_route_limit_registered(void **state)
{
    struct fixture *f = fx_of(state);
    struct http_route_match mt;
    assert_int_equal(http_router_match(&f->router, "POST", "/upload/x", 9, &mt, NULL, 0),
                     HTTP_ROUTE_FOUND);
    assert_int_equal(mt.route->max_body, 256);
    assert_int_equal(http_router_match(&f->router, "POST", "/echo", 5, &mt, NULL, 0),
                     HTTP_ROUTE_FOUND);
    assert_int_equal(mt.route->max_body, 0);
    assert_int_equal(http_router_add_limit(&f->router, "POST", "/tiny", h_echo, f, 1), ERR_EXISTS);
}

static void test_headers_too_large(void **state)
{
    struct fixture *f = fx_of(state);
    struct http_mem *m = http_mem_open(&f->server);
    http_mem_feed_str(m, "GET /hello HTTP/1.1\r\nX-Big: ");
    char big[2048];
    memset(big, 'a', sizeof big);
    http_mem_feed(m, big, sizeof big);
    assert_true((http_mem_count(m, "HTTP/1.1 431 ") > 0));
    assert_true((http_mem_count(m, "\"code\":\"headers_too_large\"") > 0));
    assert_true(m->closed);
    http_mem_free(m, &f->loop);
}

static void test_too_many_headers(void **state)
{
    struct fixture *f = fx_of(state);
    f->server.limits.max_header_bytes = 64 * 1024;
    struct http_mem *m = http_mem_open(&f->server);
    http_mem_feed_str(m, "GET /hello HTTP/1.1\r\n");
    for (int i = 0; i <= HTTP_MAX_HEADERS; i++)
        http_mem_feed_str(m, "X-A: b\r\n");
    http_mem_feed_str(m, "\r\n");
    assert_true((http_mem_count(m, "HTTP/1.1 431 ") > 0));
    http_mem_free(m, &f->loop);
}

static void test_garbage_is_400(void **state)
{
    struct fixture *f = fx_of(state);
    struct http_mem *m = http_mem_open(&f->server);
    http_mem_feed_str(m, "\x01\x02 nonsense\r\n\r\n");
    assert_true((http_mem_count(m, "HTTP/1.1 400 Bad Request\r\n") > 0));
    assert_true((http_mem_count(m, "Connection: close") > 0));
    assert_true((http_mem_count(m, "{\"error\":{\"code\":\"bad_request\"") > 0));
    assert_true(m->closed);
    http_mem_free(m, &f->loop);
}

static void test_not_found_and_method(void **state)
{
    struct fixture *f = fx_of(state);
    struct http_mem *m = http_mem_open(&f->server);
    http_mem_feed_str(m, "GET /nope HTTP/1.1\r\n\r\nDELETE /hello HTTP/1.1\r\n\r\n"
                         "OPTIONS /echo HTTP/1.1\r\n\r\n");
    assert_true((http_mem_count(m, "HTTP/1.1 404 Not Found") > 0));
    assert_true((http_mem_count(m, "{\"error\":{\"code\":\"not_found\"") > 0));
    assert_true((http_mem_count(m, "HTTP/1.1 405 Method Not Allowed") > 0));
    assert_true((http_mem_count(m, "Allow: GET\r\n") > 0));
    assert_true((http_mem_count(m, "HTTP/1.1 204 No Content") > 0));
    assert_true((http_mem_count(m, "Allow: POST\r\n") > 0));
    assert_false(m->closed);
    http_mem_free(m, &f->loop);
}

static void test_head_has_no_body(void **state)
{
    struct fixture *f = fx_of(state);
    struct http_mem *m = http_mem_open(&f->server);
    http_mem_feed_str(m, "HEAD /hello HTTP/1.1\r\n\r\n");
    assert_true((http_mem_count(m, "Content-Length: 2\r\n") > 0));
    assert_int_equal(m->out.data[m->out.len - 1], '\n');
    http_mem_free(m, &f->loop);
}

static void test_http10_closes(void **state)
{
    struct fixture *f = fx_of(state);
    struct http_mem *m = http_mem_open(&f->server);
    http_mem_feed_str(m, "GET /hello HTTP/1.0\r\n\r\n");
    assert_true((http_mem_count(m, "HTTP/1.0 200 OK") > 0));
    assert_true((http_mem_count(m, "Connection: close") > 0));
    assert_true(m->closed);
    http_mem_free(m, &f->loop);
}

static void test_http10_keepalive(void **state)
{
    struct fixture *f = fx_of(state);
    struct http_mem *m = http_mem_open(&f->server);
    http_mem_feed_str(m, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_true((http_mem_count(m, "Connection: keep-alive") > 0));
    assert_false(m->closed);
    http_mem_free(m, &f->loop);
}

static void test_header_timeout_408(void **state)
{
    struct fixture *f = fx_of(state);
    struct http_mem *m = http_mem_open(&f->server);
    http_mem_feed_str(m, "GET /hello HTTP/1.1\r\nHost: x\r\n");
    while (!m->closed && uv_run(&f->loop, UV_RUN_ONCE))
        ;
    assert_true((http_mem_count(m, "HTTP/1.1 408 Request Timeout") > 0));
    assert_true(m->closed);
    http_mem_free(m, &f->loop);
}

static void test_idle_timeout_closes_quietly(void **state)
{
    struct fixture *f = fx_of(state);
    struct http_mem *m = http_mem_open(&f->server);
    http_mem_feed_str(m, "GET /hello HTTP/1.1\r\n\r\n");
    size_t before = m->out.len;
    while (!m->closed && uv_run(&f->loop, UV_RUN_ONCE))
        ;
    assert_true(m->closed);
    assert_int_equal(m->out.len, before);
    http_mem_free(m, &f->loop);
}

static void test_request_id(void **state)
{
    struct fixture *f = fx_of(state);
    struct http_mem *m = http_mem_open(&f->server);
    http_mem_feed_str(m, "GET /hello HTTP/1.1\r\nX-Request-Id: abc-123\r\n\r\n"
                         "GET /hello HTTP/1.1\r\nX-Request-Id: bad id!\r\n\r\n");
    assert_true((http_mem_count(m, "X-Request-Id: abc-123\r\n") > 0));
    assert_false((http_mem_count(m, "bad id") > 0));
    assert_int_equal(http_mem_count(m, "X-Request-Id: "), 2);
    http_mem_free(m, &f->loop);
}

static void test_sse_framing(void **state)
{
    struct fixture *f = fx_of(state);
    struct http_mem *m = http_mem_open(&f->server);
    http_mem_feed_str(m, "GET /stream HTTP/1.1\r\n\r\n");
    assert_true((http_mem_count(m, "Content-Type: text/event-stream\r\n") > 0));
    assert_true((http_mem_count(m, "Cache-Control: no-cache\r\n") > 0));
    assert_true((http_mem_count(m, "X-Accel-Buffering: no\r\n") > 0));
    assert_true((http_mem_count(m, "Transfer-Encoding: chunked\r\n") > 0));
    /* 12 bytes of JSON + "data: " + "\n\n" = 20 = 0x14 */
    assert_true((http_mem_count(m, "\r\n14\r\ndata: {\"type\":\"a\"}\n\n\r\n") > 0));
    assert_true((http_mem_count(m, "data: {\"n\":\"line\\nbreak\"}\n\n") > 0));
    assert_non_null(f->stream);
    assert_int_equal(http_sse_send(f->stream, "{\"bad\":\n1}", 10), ERR_INVALID);
    http_sse_end(f->stream);
    f->stream = NULL;
    assert_true((http_mem_count(m, "\r\n0\r\n\r\n") > 0));
    assert_false(m->closed);
    http_mem_feed_str(m, "GET /hello HTTP/1.1\r\n\r\n");
    assert_true((http_mem_count(m, "\r\n\r\nhi") > 0));
    http_mem_free(m, &f->loop);
}

/* A held head is not written on its own: it leaves with the first event, or with the end. */
static void test_sse_held_head(void **state)
{
    struct fixture *f = fx_of(state);
    struct http_mem *m = http_mem_open(&f->server);
    http_mem_feed_str(m, "GET /held HTTP/1.1\r\n\r\n");
    assert_int_equal(http_mem_count(m, "HTTP/1.1 200 OK\r\n"),
                     0); /* a loop turn later: still held */
    assert_int_equal(http_sse_send(f->stream, "{\"type\":\"a\"}", 12), 0);
    assert_int_equal(http_mem_count(m, "HTTP/1.1 200 OK\r\n"), 1);
    assert_int_equal(http_mem_count(m, "chunked\r\n\r\n14\r\ndata: {\"type\":\"a\"}\n\n\r\n"), 1);
    http_sse_end(f->stream);
    f->stream = NULL;
    assert_int_equal(http_mem_count(m, "\r\n0\r\n\r\n"), 1);
    /* A held stream that ends without an event still gets its head, then the terminator. */
    http_mem_feed_str(m, "GET /held HTTP/1.1\r\n\r\n");
    assert_int_equal(http_mem_count(m, "HTTP/1.1 200 OK\r\n"), 1);
    http_sse_end(f->stream);
    f->stream = NULL;
    assert_int_equal(http_mem_count(m, "HTTP/1.1 200 OK\r\n"), 2);
    assert_int_equal(http_mem_count(m, "chunked\r\n\r\n0\r\n\r\n"), 1);
    assert_false(m->closed);
    http_mem_free(m, &f->loop);
}

static void test_sse_slow_reader_dropped(void **state)
{
    struct fixture *f = fx_of(state);
    struct http_mem *m = http_mem_open(&f->server);
    http_mem_feed_str(m, "GET /stream HTTP/1.1\r\n\r\n");
    m->fake_queued = 5000; /* over the 4096-byte cap */
    assert_int_equal(http_sse_send(f->stream, "{}", 2), ERR_CLOSED);
    assert_true(m->closed);
    assert_int_equal(f->aborts, 0); /* the caller learned it from the return code */
    assert_int_equal(f->server.metrics.slow_readers_dropped, 1);
    assert_int_equal(http_sse_send(f->stream, "{}", 2), ERR_CLOSED);
    http_sse_end(f->stream);
    assert_int_equal(f->server.metrics.open_streams, 0);
    http_mem_free(m, &f->loop);
}

static void test_disconnect_during_stream(void **state)
{
    struct fixture *f = fx_of(state);
    struct http_mem *m = http_mem_open(&f->server);
    http_mem_feed_str(m, "GET /stream HTTP/1.1\r\n\r\n");
    assert_int_equal(f->server.metrics.open_streams, 1);
    http_mem_eof(m);
    assert_true(m->closed);
    assert_int_equal(f->aborts, 1);
    assert_int_equal(http_sse_send(f->stream, "{}", 2), ERR_CLOSED);
    http_sse_end(f->stream);
    assert_int_equal(f->server.metrics.open_streams, 0);
    http_mem_free(m, &f->loop);
}

static void test_disconnect_during_async(void **state)
{
    struct fixture *f = fx_of(state);
    struct http_mem *m = http_mem_open(&f->server);
    http_mem_feed_str(m, "GET /async HTTP/1.1\r\n\r\n");
    http_conn_close(&m->conn, true);
    assert_int_equal(f->aborts, 1);
    uv_run(&f->loop, UV_RUN_NOWAIT); /* the handler answers a request nobody waits for */
    assert_int_equal(f->ndeferred, 0);
    http_mem_free(m, &f->loop);
}

static void test_half_close_still_answered(void **state)
{
    struct fixture *f = fx_of(state);
    struct http_mem *m = http_mem_open(&f->server);
    http_mem_feed_str(m, "GET /async HTTP/1.1\r\n\r\n");
    http_mem_eof(m);
    assert_false(m->closed);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_true((http_mem_count(m, "\r\n\r\nlate") > 0));
    assert_true((http_mem_count(m, "Connection: close") > 0));
    assert_true(m->closed);
    http_mem_free(m, &f->loop);
}

static void test_pipelined_backlog_pauses_reading(void **state)
{
    struct fixture *f = fx_of(state);
    struct http_mem *m = http_mem_open(&f->server);
    http_mem_feed_str(m, "GET /async HTTP/1.1\r\n\r\n");
    char chunk[8192];
    const char *one = "GET /hello HTTP/1.1\r\n\r\n";
    size_t ol = strlen(one), n = 0;
    while (n + ol <= sizeof chunk) {
        memcpy(chunk + n, one, ol);
        n += ol;
    }
    for (int i = 0; i < 9 && m->reading; i++)
        http_mem_feed(m, chunk, n);
    assert_false(m->reading);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_true(m->reading);
    assert_true(http_mem_count(m, "HTTP/1.1 200 OK") > 2000);
    http_mem_free(m, &f->loop);
}

static void set_flag(void *data)
{
    *(bool *)data = true;
}

static void test_drain_closes_idle(void **state)
{
    struct fixture *f = fx_of(state);
    struct http_mem *idle = http_mem_open(&f->server);
    struct http_mem *busy = http_mem_open(&f->server);
    http_mem_feed_str(busy, "GET /async HTTP/1.1\r\n\r\n");
    bool drained = false;
    http_server_drain(&f->server, set_flag, &drained);
    assert_true(idle->closed);
    assert_false(drained);
    assert_false(busy->closed);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_true((http_mem_count(busy, "Connection: close") > 0));
    assert_true(busy->closed);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_true(drained);
    http_mem_free(idle, &f->loop);
    http_mem_free(busy, &f->loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_simple_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_byte_by_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipelining_keeps_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chunked_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expect_continue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expect_continue_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_too_large_chunked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_route_body_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_route_limit_registered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_headers_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_many_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_is_400, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_found_and_method, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head_has_no_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http10_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http10_keepalive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_timeout_408, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_timeout_closes_quietly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sse_held_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sse_framing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sse_slow_reader_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disconnect_during_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disconnect_during_async, setup, teardown),
        cmocka_unit_test_setup_teardown(test_half_close_still_answered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipelined_backlog_pauses_reading, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drain_closes_idle, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
