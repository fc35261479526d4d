/* Unit tests of strict standard base64 (src/core/base64.h). */
#include "core/base64.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_encode_known(void **state)
{
    (void)state;
    char out[16];
    base64_std_encode(out, (const unsigned char *)"", 0);
    assert_string_equal(out, "");
    base64_std_encode(out, (const unsigned char *)"f", 1);
    assert_string_equal(out, "Zg==");
    base64_std_encode(out, (const unsigned char *)"fo", 2);
    assert_string_equal(out, "Zm8=");
    base64_std_encode(out, (const unsigned char *)"foobar", 6);
    assert_string_equal(out, "Zm9vYmFy");
    assert_int_equal(BASE64_STD_ENCODED_LEN(6), 8);
    assert_int_equal(BASE64_STD_ENCODED_LEN(7), 12);
}

static void test_url_encode(void **state)
{
    (void)state;
    char out[64];
    static const unsigned char bytes[] = {0xfb, 0xff, 0xbf};
    base64_url_encode(out, bytes, 3);
    assert_string_equal(out, "-_-_"); /* "+/+/" in the standard alphabet */
    base64_url_encode(out, bytes, 2);
    assert_string_equal(out, "-_8"); /* no padding */
    assert_int_equal(BASE64_URL_ENCODED_LEN(2), 3);
    assert_int_equal(BASE64_URL_ENCODED_LEN(32), 43);
    unsigned char zero[32] = {0};
    base64_url_encode(out, zero, 32);
    assert_int_equal(strlen(out), 43);
}

static void test_round_trip_all_bytes(void **state)
{
    (void)state;
    unsigned char in[256];
    for (int i = 0; i < 256; i++)
        in[i] = (unsigned char)i;
    for (size_t n = 1; n <= sizeof in; n += 37) {
        char enc[BASE64_STD_ENCODED_LEN(256) + 1];
        base64_std_encode(enc, in, n);
        unsigned char *dec = NULL;
        long got = base64_std_decode(enc, strlen(enc), &dec);
        assert_int_equal(got, (long)n);
        assert_memory_equal(dec, in, n);
        free(dec);
    }
}

static void test_decode_rejects(void **state)
{
    (void)state;
    static const char *bad[] = {"",      "Zg",   "Zg=",  "Z===", "Zg=a",    "Zm 9v",
                                "Zm9\n", "Zm9-", "Zm9_", "=Zg=", "Zg==Zg=="};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        unsigned char *dec = NULL;
        assert_int_equal(base64_std_decode(bad[i], strlen(bad[i]), &dec), -1);
        assert_null(dec);
    }
    unsigned char *dec = NULL;
    assert_int_equal(base64_std_decode("Zm8=", 4, &dec), 2);
    assert_memory_equal(dec, "fo", 3); /* NUL-terminated */
    free(dec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_known),
        cmocka_unit_test(test_url_encode),
        cmocka_unit_test(test_round_trip_all_bytes),
        cmocka_unit_test(test_decode_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
