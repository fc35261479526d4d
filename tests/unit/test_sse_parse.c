/* Unit tests of the upstream SSE parser: framing, split points, limits. */
#include "core/buf.h"
#include "core/err.h"
#include "model/sse_parse.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* Events as "name|data;" into a buffer. */
static int collect(void *data, const char *name, const char *payload, size_t len)
{
    struct buf *out = data;
    buf_appendf(out, "%s|%.*s;", name, (int)len, payload);
    return 0;
}

static void feed_all(const char *text, size_t step, char *out, size_t outlen)
{
    struct sse_parser p;
    struct buf got;
    buf_init(&got, 1 << 20);
    sse_parser_init(&p, 4096);
    size_t n = strlen(text);
    for (size_t i = 0; i < n; i += step) {
        size_t k = n - i < step ? n - i : step;
        assert_int_equal(sse_parser_feed(&p, text + i, k, collect, &got), 0);
    }
    snprintf(out, outlen, "%s", got.data ? got.data : "");
    buf_free(&got);
    sse_parser_free(&p);
}

static void test_framing_any_split(void **state)
{
    (void)state;
    static const char stream[] =
        "\xEF\xBB\xBF: keep-alive\n\n"
        "event: response.created\r\ndata: {\"a\":1}\r\n\r\n"
        "data: first\ndata:second\rid: 7\rretry: 10\r\r"
        "event: x\n\n" /* no data: nothing dispatched, the name is dropped */
        "data: [DONE]\n\n"
        "data: cut at the end";
    const char *want = "response.created|{\"a\":1};|first\nsecond;|[DONE];";
    char out[512];
    for (size_t step = 1; step <= sizeof stream; step++) {
        feed_all(stream, step, out, sizeof out);
        assert_string_equal(out, want);
    }
}

static void test_crlf_split_across_feeds(void **state)
{
    (void)state;
    char out[128];
    feed_all("data: a\r\n\r\ndata: b\r\n\r\n", 8, out, sizeof out);
    assert_string_equal(out, "|a;|b;");
}

static void test_limits(void **state)
{
    (void)state;
    struct sse_parser p;
    struct buf got;
    buf_init(&got, 1024);
    sse_parser_init(&p, 16);
    assert_int_equal(sse_parser_feed(&p, "data: 0123456789abcdef0", 23, collect, &got),
                     ERR_TOO_BIG);
    sse_parser_free(&p);
    sse_parser_init(&p, 16);
    assert_int_equal(sse_parser_feed(&p, "data: 0123456789\ndata: 0123456789\n", 34, collect, &got),
                     ERR_TOO_BIG);
    sse_parser_free(&p);
    buf_free(&got);
}

static int stop_at_second(void *data, const char *name, const char *payload, size_t len)
{
    (void)name, (void)payload, (void)len;
    int *count = data;
    return ++*count == 2 ? 42 : 0;
}

static void test_callback_stops(void **state)
{
    (void)state;
    struct sse_parser p;
    int count = 0;
    sse_parser_init(&p, 1024);
    assert_int_equal(
        sse_parser_feed(&p, "data: 1\n\ndata: 2\n\ndata: 3\n\n", 27, stop_at_second, &count), 42);
    assert_int_equal(count, 2);
    sse_parser_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_framing_any_split),
        cmocka_unit_test(test_crlf_split_across_feeds),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_callback_stops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
