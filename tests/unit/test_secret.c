/* Unit tests of client secrets: format, entropy, hashing, constant-time comparisons. */
#include "auth/secret.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static void test_format_and_hash(void **state)
{
    (void)state;
    char s[SECRET_MAX];
    unsigned char h[SECRET_HASH_LEN], h2[SECRET_HASH_LEN];
    assert_int_equal(secret_new(s, h), 0);
    assert_int_equal(strlen(s), strlen(SECRET_PREFIX) + 43);
    assert_memory_equal(s, SECRET_PREFIX, strlen(SECRET_PREFIX));
    for (const char *p = s + strlen(SECRET_PREFIX); *p; p++)
        assert_non_null(
            strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p));
    secret_hash(s, strlen(s), h2);
    assert_true(secret_hash_equal(h, h2));
    h2[31] ^= 1;
    assert_false(secret_hash_equal(h, h2));
}

static void test_known_sha256(void **state)
{
    (void)state;
    unsigned char h[SECRET_HASH_LEN];
    secret_hash("abc", 3, h);
    static const unsigned char want[] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea};
    assert_memory_equal(h, want, sizeof want);
}

static void test_unique(void **state)
{
    (void)state;
    char a[SECRET_MAX], b[SECRET_MAX];
    unsigned char ha[SECRET_HASH_LEN], hb[SECRET_HASH_LEN];
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(secret_new(a, ha), 0);
        assert_int_equal(secret_new(b, hb), 0);
        assert_string_not_equal(a, b);
        assert_false(secret_hash_equal(ha, hb));
    }
}

static void test_matches(void **state)
{
    (void)state;
    const char *key = "sk-admin-0123456789abcdef";
    assert_true(secret_matches(key, strlen(key), key));
    assert_false(secret_matches(key, strlen(key) - 1, key));
    assert_false(secret_matches("sk-admin-0123456789abcdeF", strlen(key), key));
    assert_false(secret_matches("", 0, key));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_and_hash),
        cmocka_unit_test(test_known_sha256),
        cmocka_unit_test(test_unique),
        cmocka_unit_test(test_matches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
