/* Unit tests of SSE framing (spec §1.4): exactly "data: " + JSON + "\n\n", nothing else. */
#include "core/buf.h"
#include "core/err.h"
#include "core/json_write.h"
#include "http/sse.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static void test_exact_bytes(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1024);
    const char *ev = "{\"type\":\"stream_options\",\"stream_options\":{\"allow_cancel\":true}}";
    assert_int_equal(sse_frame(&b, ev, strlen(ev)), 0);
    assert_string_equal(b.data, "data: {\"type\":\"stream_options\",\"stream_options\":"
                                "{\"allow_cancel\":true}}\n\n");
    assert_null(memchr(b.data, '\r', b.len));
    buf_free(&b);
}

static void test_consecutive_frames(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1024);
    assert_int_equal(sse_frame(&b, "{}", 2), 0);
    assert_int_equal(sse_frame(&b, "{\"a\":1}", 7), 0);
    assert_string_equal(b.data, "data: {}\n\ndata: {\"a\":1}\n\n");
    buf_free(&b);
}

static void test_newlines_refused(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1024);
    assert_int_equal(sse_frame(&b, "{\"a\":\n1}", 8), ERR_INVALID);
    assert_int_equal(sse_frame(&b, "{\"a\":\r1}", 8), ERR_INVALID);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

static void test_writer_output_always_frames(void **state)
{
    (void)state;
    /* Text with every control character, through the JSON writer, is one valid frame. */
    char text[64];
    for (int i = 0; i < 32; i++)
        text[i] = (char)i;
    memcpy(text + 32, "\xe2\x80\xa8\xe2\x80\xa9 ok", 9);
    struct buf json, frame;
    buf_init(&json, 4096);
    buf_init(&frame, 4096);
    struct jw w;
    jw_init(&w, &json);
    jw_obj_begin(&w);
    jw_key(&w, "delta");
    jw_str_len(&w, text, 41);
    jw_obj_end(&w);
    assert_int_equal(jw_done(&w), 0);
    assert_int_equal(sse_frame(&frame, json.data, json.len), 0);
    assert_int_equal(frame.len, json.len + 8);
    buf_free(&json);
    buf_free(&frame);
}

static void test_cap_rolls_back(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 12);
    assert_int_equal(sse_frame(&b, "{}", 2), 0);
    assert_int_equal(sse_frame(&b, "{\"x\":1}", 7), ERR_TOO_BIG);
    assert_string_equal(b.data, "data: {}\n\n");
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_bytes),      cmocka_unit_test(test_consecutive_frames),
        cmocka_unit_test(test_newlines_refused), cmocka_unit_test(test_writer_output_always_frames),
        cmocka_unit_test(test_cap_rolls_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
