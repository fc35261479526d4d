/* Unit tests for core/buf: the cap is exact, failures leave the buffer untouched, and contents
 * are binary-safe with a NUL kept after the last byte. */
#include "core/buf.h"
#include "core/err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Checks length, bytes and the trailing NUL in one place. */
static void assert_buf(const struct buf *b, const void *want, size_t len)
{
    assert_int_equal(b->len, len);
    if (len)
        assert_memory_equal(b->data, want, len);
    if (b->data)
        assert_int_equal(b->data[len], '\0');
}

static void test_init_empty(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 100);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.max, 100);
    buf_free(&b);
}

static void test_append_exactly_to_max(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 10);
    assert_int_equal(buf_append(&b, "01234", 5), 0);
    assert_int_equal(buf_append(&b, "56789", 5), 0);
    assert_buf(&b, "0123456789", 10);
    assert_int_equal(buf_append(&b, "x", 1), ERR_TOO_BIG);
    assert_buf(&b, "0123456789", 10);
    assert_int_equal(buf_append_char(&b, 'x'), ERR_TOO_BIG);
    assert_int_equal(buf_append_str(&b, "x"), ERR_TOO_BIG);
    assert_buf(&b, "0123456789", 10);
    /* An empty append at the cap is fine. */
    assert_int_equal(buf_append(&b, "", 0), 0);
    assert_buf(&b, "0123456789", 10);
    buf_free(&b);
}

static void test_append_one_past_max_unchanged(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 10);
    assert_int_equal(buf_append_str(&b, "abc"), 0);
    /* 3 + 8 = 11 > 10: refused as a whole, nothing partial written. */
    assert_int_equal(buf_append(&b, "12345678", 8), ERR_TOO_BIG);
    assert_buf(&b, "abc", 3);
    assert_int_equal(buf_append(&b, "1234567", 7), 0);
    assert_buf(&b, "abc1234567", 10);
    buf_free(&b);
}

static void test_huge_append_rejected(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 16);
    assert_int_equal(buf_append_str(&b, "abc"), 0);
    /* len + n would wrap around size_t; must still be refused. */
    assert_null(buf_reserve(&b, SIZE_MAX));
    assert_null(buf_reserve(&b, SIZE_MAX - 1));
    assert_buf(&b, "abc", 3);
    buf_free(&b);
}

static void test_appendf(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 12);
    assert_int_equal(buf_appendf(&b, "%d-%s", 42, "ab"), 0);
    assert_buf(&b, "42-ab", 5);
    /* 5 + 7 = 12: exactly to the cap. */
    assert_int_equal(buf_appendf(&b, "%07d", 1), 0);
    assert_buf(&b, "42-ab0000001", 12);
    assert_int_equal(buf_appendf(&b, "%c", 'z'), ERR_TOO_BIG);
    assert_buf(&b, "42-ab0000001", 12);
    assert_int_equal(buf_appendf(&b, "%s", ""), 0);
    buf_free(&b);
}

static void test_appendf_too_big_unchanged(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 8);
    assert_int_equal(buf_append_str(&b, "xy"), 0);
    assert_int_equal(buf_appendf(&b, "%s", "1234567"), ERR_TOO_BIG);
    assert_buf(&b, "xy", 2);
    assert_int_equal(buf_appendf(&b, "%s", "123456"), 0);
    assert_buf(&b, "xy123456", 8);
    buf_free(&b);
}

static void test_reserve_commit(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 8);
    char *p = buf_reserve(&b, 5);
    assert_non_null(p);
    memcpy(p, "hello", 5);
    /* Reserving does not change the length until the commit. */
    assert_int_equal(b.len, 0);
    buf_commit(&b, 3);
    assert_buf(&b, "hel", 3);
    p = buf_reserve(&b, 5);
    assert_non_null(p);
    assert_ptr_equal(p, b.data + 3);
    memcpy(p, "LOWOR", 5);
    buf_commit(&b, 5);
    assert_buf(&b, "helLOWOR", 8);
    assert_null(buf_reserve(&b, 1));
    assert_non_null(buf_reserve(&b, 0));
    assert_buf(&b, "helLOWOR", 8);
    buf_free(&b);
}

static void test_consume(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 64);
    assert_int_equal(buf_append_str(&b, "hello world"), 0);
    buf_consume(&b, 0);
    assert_buf(&b, "hello world", 11);
    buf_consume(&b, 6);
    assert_buf(&b, "world", 5);
    buf_consume(&b, 5);
    assert_buf(&b, "", 0);
    /* The freed room is usable up to the cap again. */
    assert_int_equal(buf_append_str(&b, "again"), 0);
    assert_buf(&b, "again", 5);
    buf_free(&b);
}

static void test_consume_frees_cap_room(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 4);
    assert_int_equal(buf_append(&b, "abcd", 4), 0);
    assert_int_equal(buf_append_char(&b, 'e'), ERR_TOO_BIG);
    buf_consume(&b, 1);
    assert_int_equal(buf_append_char(&b, 'e'), 0);
    assert_buf(&b, "bcde", 4);
    buf_free(&b);
}

static void test_detach(void **state)
{
    (void)state;
    struct buf b;
    size_t len = 0;
    buf_init(&b, 64);
    assert_int_equal(buf_append(&b, "a\0b", 3), 0);
    char *p = buf_detach(&b, &len);
    assert_non_null(p);
    assert_int_equal(len, 3);
    assert_memory_equal(p, "a\0b", 4);       /* includes the trailing NUL */
    assert_true(malloc_usable_size(p) < 64); /* cut to its length, not the 64-byte first block */
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    assert_int_equal(b.max, 64);
    free(p);
    /* The buffer is usable afterwards with the same cap. */
    assert_int_equal(buf_append_str(&b, "new"), 0);
    assert_buf(&b, "new", 3);
    p = buf_detach(&b, NULL);
    assert_string_equal(p, "new");
    free(p);
    buf_free(&b);
}

static void test_reset_keeps_storage(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 64);
    assert_int_equal(buf_append_str(&b, "something"), 0);
    char *data = b.data;
    size_t cap = b.cap;
    buf_reset(&b);
    assert_buf(&b, "", 0);
    assert_ptr_equal(b.data, data);
    assert_int_equal(b.cap, cap);
    assert_string_equal(b.data, "");
    assert_int_equal(buf_append_str(&b, "x"), 0);
    assert_buf(&b, "x", 1);
    buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    /* Reset on a never-used buffer must not touch NULL data. */
    buf_reset(&b);
    assert_int_equal(b.len, 0);
}

static void test_binary_with_nuls(void **state)
{
    (void)state;
    struct buf b;
    static const char bin[] = {'\0', 'a', '\0', '\xff', '\0', 'b', '\0'};
    buf_init(&b, sizeof bin);
    assert_int_equal(buf_append(&b, bin, 3), 0);
    assert_int_equal(buf_append(&b, bin + 3, sizeof bin - 3), 0);
    assert_buf(&b, bin, sizeof bin);
    buf_consume(&b, 2);
    assert_buf(&b, bin + 2, sizeof bin - 2);
    buf_free(&b);
}

static void test_max_zero(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(buf_append(&b, "", 0), 0);
    assert_int_equal(b.len, 0);
    assert_int_equal(buf_append_char(&b, 'a'), ERR_TOO_BIG);
    assert_int_equal(buf_append_str(&b, "a"), ERR_TOO_BIG);
    assert_int_equal(buf_appendf(&b, "%d", 1), ERR_TOO_BIG);
    assert_int_equal(buf_appendf(&b, "%s", ""), 0);
    assert_null(buf_reserve(&b, 1));
    assert_int_equal(b.len, 0);
    if (b.data)
        assert_int_equal(b.data[0], '\0');
    buf_free(&b);
}

static void test_max_unlimited(void **state)
{
    (void)state;
    struct buf b;
    /* SIZE_MAX as "no cap" must not wrap max + 1 in the growth clamp. */
    buf_init(&b, SIZE_MAX);
    for (int i = 0; i < 100; i++)
        assert_int_equal(buf_append_str(&b, "0123456789"), 0);
    assert_int_equal(b.len, 1000);
    assert_true(b.cap > b.len);
    assert_memory_equal(b.data + 990, "0123456789", 11);
    assert_null(buf_reserve(&b, SIZE_MAX - b.len));
    buf_free(&b);
}

static void test_growth_keeps_contents(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 10000);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(buf_append_char(&b, (char)('a' + i % 26)), 0);
    assert_int_equal(buf_append_char(&b, 'x'), ERR_TOO_BIG);
    assert_int_equal(b.len, 10000);
    /* The allocation is clamped to max + 1 however it grew. */
    assert_true(b.cap <= 10001);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(b.data[i], 'a' + i % 26);
    assert_int_equal(b.data[10000], '\0');
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_empty),
        cmocka_unit_test(test_append_exactly_to_max),
        cmocka_unit_test(test_append_one_past_max_unchanged),
        cmocka_unit_test(test_huge_append_rejected),
        cmocka_unit_test(test_appendf),
        cmocka_unit_test(test_appendf_too_big_unchanged),
        cmocka_unit_test(test_reserve_commit),
        cmocka_unit_test(test_consume),
        cmocka_unit_test(test_consume_frees_cap_room),
        cmocka_unit_test(test_detach),
        cmocka_unit_test(test_reset_keeps_storage),
        cmocka_unit_test(test_binary_with_nuls),
        cmocka_unit_test(test_max_zero),
        cmocka_unit_test(test_max_unlimited),
        cmocka_unit_test(test_growth_keeps_contents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
