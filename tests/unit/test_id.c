/* Unit tests for core/id: formats, validation, prefix limits and that ids do not repeat. */
#include "core/err.h"
#include "core/id.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static bool all_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    }
    return true;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static void test_id_format(void **state)
{
    (void)state;
    char id[ID_MAX];
    assert_int_equal(id_new("thr_", id), 0);
    assert_int_equal(strlen(id), 4 + 32);
    assert_memory_equal(id, "thr_", 4);
    assert_true(all_lower_hex(id + 4, 32));
    assert_true(id_is_valid("thr_", id, strlen(id)));

    assert_int_equal(id_new("", id), 0);
    assert_int_equal(strlen(id), 32);
    assert_true(all_lower_hex(id, 32));
    assert_true(id_is_valid("", id, 32));
}

static void test_id_prefix_limits(void **state)
{
    (void)state;
    char id[ID_MAX];
    static const char p16[] = "abcdefghijklmno_"; /* exactly ID_PREFIX_MAX */
    static const char p17[] = "abcdefghijklmnop_";
    assert_int_equal(strlen(p16), ID_PREFIX_MAX);
    assert_int_equal(id_new(p16, id), 0);
    assert_int_equal(strlen(id), ID_MAX - 1);
    assert_true(id_is_valid(p16, id, strlen(id)));
    memset(id, 'Z', sizeof id);
    assert_int_equal(id_new(p17, id), ERR_INVALID);
    assert_int_equal(id[0], 'Z'); /* nothing written */

    char secret[SECRET_MAX];
    assert_int_equal(id_new_secret(p16, secret), 0);
    assert_int_equal(strlen(secret), SECRET_MAX - 1);
    assert_int_equal(id_new_secret(p17, secret), ERR_INVALID);
}

static void test_id_unique(void **state)
{
    (void)state;
    enum { N = 10000 };
    char *ids = calloc(N, ID_MAX);
    assert_non_null(ids);
    /* Every hex digit should show up in every position over 10000 draws; a stuck or biased
     * generator (all zeros, one byte repeated) fails this long before uniqueness does. */
    unsigned seen[32] = {0};
    for (int i = 0; i < N; i++) {
        char *id = ids + (size_t)i * ID_MAX;
        assert_int_equal(id_new("msg_", id), 0);
        for (int k = 0; k < 32; k++) {
            char c = id[4 + k];
            seen[k] |= 1u << (c <= '9' ? c - '0' : c - 'a' + 10);
        }
    }
    for (int k = 0; k < 32; k++)
        assert_int_equal(seen[k], 0xFFFFu);
    qsort(ids, N, ID_MAX, cmp_str);
    for (int i = 1; i < N; i++)
        assert_string_not_equal(ids + (size_t)(i - 1) * ID_MAX, ids + (size_t)i * ID_MAX);
    free(ids);
}

static void test_id_is_valid(void **state)
{
    (void)state;
    static const char good[] = "thr_0123456789abcdef0123456789abcdef";
    assert_true(id_is_valid("thr_", good, strlen(good)));
    /* The length is authoritative: trailing bytes beyond it are not looked at. */
    static const char longer[] = "thr_0123456789abcdef0123456789abcdefXYZ";
    assert_true(id_is_valid("thr_", longer, 36));
    assert_false(id_is_valid("thr_", longer, strlen(longer)));

    static const char *const bad[] = {
        "",
        "thr_",
        "thr_0123456789abcdef0123456789abcde",   /* 31 digits */
        "thr_0123456789abcdef0123456789abcdef0", /* 33 digits */
        "thr_0123456789ABCDEF0123456789abcdef",  /* uppercase */
        "thr_0123456789abcdeg0123456789abcdef",  /* not hex */
        "thx_0123456789abcdef0123456789abcdef",  /* other prefix */
        "THR_0123456789abcdef0123456789abcdef",
        "msg_0123456789abcdef0123456789abcdef",
        "0123456789abcdef0123456789abcdef", /* no prefix */
        "thr_0123456789abcdef 123456789abcdef",
        "thr_0123456789abcdef-123456789abcdef",
        "th",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (id_is_valid("thr_", bad[i], strlen(bad[i])))
            fail_msg("accepted: %s", bad[i]);
    }
    static const char with_nul[] = "thr_0123456789abcdef\0"
                                   "123456789abcdef";
    assert_false(id_is_valid("thr_", with_nul, sizeof with_nul - 1));
    assert_false(id_is_valid("", "0123456789abcdef0123456789abcde/", 32));
    assert_false(id_is_valid("", "0123456789abcdef0123456789abcde:", 32));
    assert_false(id_is_valid("", "0123456789abcdef0123456789abcde`", 32));
}

static void test_secret_format(void **state)
{
    (void)state;
    enum { N = 1000 };
    char *secrets = calloc(N, SECRET_MAX);
    assert_non_null(secrets);
    for (int i = 0; i < N; i++) {
        char *s = secrets + (size_t)i * SECRET_MAX;
        assert_int_equal(id_new_secret("sk_", s), 0);
        assert_int_equal(strlen(s), 3 + 43);
        assert_memory_equal(s, "sk_", 3);
        for (int k = 3; k < 3 + 43; k++) {
            if (!strchr(b64url, s[k]))
                fail_msg("not base64url: %s", s);
        }
        /* 43 characters carry 258 bits; the last one may only use its top 4 of 6 bits, so a
         * proper encoding of exactly 256 bits ends in one of these. */
        assert_non_null(strchr("AEIMQUYcgkosw048", s[3 + 42]));
    }
    qsort(secrets, N, SECRET_MAX, cmp_str);
    for (int i = 1; i < N; i++)
        assert_string_not_equal(secrets + (size_t)(i - 1) * SECRET_MAX,
                                secrets + (size_t)i * SECRET_MAX);
    free(secrets);

    char s[SECRET_MAX];
    assert_int_equal(id_new_secret("", s), 0);
    assert_int_equal(strlen(s), 43);
}

static void test_hex(void **state)
{
    (void)state;
    static const unsigned char in[] = {0x00, 0x01, 0xab, 0xff, 0x10, 0x9c};
    char out[2 * sizeof in + 1];
    memset(out, 'Z', sizeof out);
    id_hex(in, sizeof in, out);
    assert_string_equal(out, "0001abff109c");
    id_hex(in, 0, out);
    assert_string_equal(out, "");
}

static void test_random_bytes(void **state)
{
    (void)state;
    unsigned char a[32] = {0}, b[32] = {0}, zero[32] = {0};
    assert_int_equal(id_random_bytes(a, sizeof a), 0);
    assert_int_equal(id_random_bytes(b, sizeof b), 0);
    assert_memory_not_equal(a, b, sizeof a);
    assert_memory_not_equal(a, zero, sizeof a);
    assert_int_equal(id_random_bytes(a, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_format),     cmocka_unit_test(test_id_prefix_limits),
        cmocka_unit_test(test_id_unique),     cmocka_unit_test(test_id_is_valid),
        cmocka_unit_test(test_secret_format), cmocka_unit_test(test_hex),
        cmocka_unit_test(test_random_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
