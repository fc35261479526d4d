/* Unit tests for core/units: sizes, durations and bounded integers from configuration text. */
#include "core/err.h"
#include "core/units.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define KIB UINT64_C(1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)

static void size_ok(const char *s, uint64_t want)
{
    uint64_t got = 0;
    if (units_parse_size(s, &got) != 0)
        fail_msg("rejected size: \"%s\"", s);
    if (got != want)
        fail_msg("\"%s\": got %llu, want %llu", s, (unsigned long long)got,
                 (unsigned long long)want);
}

static void dur_ok(const char *s, uint64_t want)
{
    uint64_t got = 0;
    if (units_parse_duration_ms(s, &got) != 0)
        fail_msg("rejected duration: \"%s\"", s);
    if (got != want)
        fail_msg("\"%s\": got %llu, want %llu", s, (unsigned long long)got,
                 (unsigned long long)want);
}

static void test_sizes(void **state)
{
    (void)state;
    size_ok("0", 0);
    size_ok("0B", 0);
    size_ok("1", 1);
    size_ok("512B", 512);
    size_ok("1048576", MIB);
    size_ok("16KiB", 16 * KIB);
    size_ok("16KB", 16 * KIB);
    size_ok("1MiB", MIB);
    size_ok("10MB", 10 * MIB); /* K/M/G are powers of 1024 either way */
    size_ok("10MiB", 10 * MIB);
    size_ok("2GB", 2 * GIB);
    size_ok("2GiB", 2 * GIB);
    size_ok("0GiB", 0);
    size_ok("007KiB", 7 * KIB);
    size_ok("18446744073709551615", UINT64_MAX);
    size_ok("17179869183GiB", UINT64_C(17179869183) * GIB); /* largest that fits */
}

static void test_sizes_rejected(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "-1",
        "+1",
        " 1",
        "1 ",
        "1 KiB",
        "12XB",
        "1.5MiB",
        "1.0",
        "KiB",
        "B",
        "1KiBB",
        "1kib",
        "1kb",
        "1K",
        "1M",
        "1TB",
        "0x10",
        "1e3",
        "99999999999999999999",
        "18446744073709551616",
        "17179869184GiB", /* 2^64 bytes */
        "18014398509481984KiB",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t v = 4242;
        if (units_parse_size(bad[i], &v) != ERR_INVALID)
            fail_msg("accepted size: \"%s\"", bad[i]);
        assert_int_equal(v, 4242);
    }
    uint64_t v = 4242;
    assert_int_equal(units_parse_size(NULL, &v), ERR_INVALID);
}

static void test_durations(void **state)
{
    (void)state;
    dur_ok("10s", 10000);
    dur_ok("500ms", 500);
    dur_ok("2m", 120000);
    dur_ok("1h", 3600000);
    dur_ok("15", 15000); /* no unit means seconds */
    dur_ok("0", 0);
    dur_ok("0ms", 0);
    dur_ok("1ms", 1);
    dur_ok("48h", 48 * 3600000);
    dur_ok("18446744073709551615ms", UINT64_MAX);
    dur_ok("18446744073709551s", UINT64_C(18446744073709551000));
    dur_ok("5124095576030h", UINT64_C(5124095576030) * 3600000);
}

static void test_durations_rejected(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "-1s",
        "s",
        "ms",
        "10 s",
        "10s ",
        "1.5s",
        "10sec",
        "10S",
        "10M",
        "10H",
        "10us",
        "10d",
        "10smm",
        "10mss",
        "junk",
        "99999999999999999999",
        "18446744073709551615", /* seconds: overflows in ms */
        "18446744073709552s",
        "5124095576031h", /* one hour past what fits */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t v = 4242;
        if (units_parse_duration_ms(bad[i], &v) != ERR_INVALID)
            fail_msg("accepted duration: \"%s\"", bad[i]);
        assert_int_equal(v, 4242);
    }
    uint64_t v = 4242;
    assert_int_equal(units_parse_duration_ms(NULL, &v), ERR_INVALID);
}

static void test_parse_int(void **state)
{
    (void)state;
    int64_t v = 0;
    assert_int_equal(units_parse_int("42", 0, 100, &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(units_parse_int("0", 0, 0, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(units_parse_int("-7", -10, 10, &v), 0);
    assert_true(v == -7);
    assert_int_equal(units_parse_int("-0", 0, 0, &v), 0);
    assert_int_equal(v, 0);
    /* Inclusive bounds. */
    assert_int_equal(units_parse_int("1", 1, 65535, &v), 0);
    assert_int_equal(units_parse_int("65535", 1, 65535, &v), 0);
    assert_int_equal(v, 65535);
    assert_int_equal(units_parse_int("9223372036854775807", INT64_MIN, INT64_MAX, &v), 0);
    assert_true(v == INT64_MAX);
    assert_int_equal(units_parse_int("-9223372036854775808", INT64_MIN, INT64_MAX, &v), 0);
    assert_true(v == INT64_MIN);

    static const struct {
        const char *s;
        int64_t min, max;
    } bad[] = {
        {"0", 1, 65535},
        {"65536", 1, 65535},
        {"-1", 0, 100},
        {"101", 0, 100},
        {"9223372036854775808", INT64_MIN, INT64_MAX},
        {"-9223372036854775809", INT64_MIN, INT64_MAX},
        {"99999999999999999999", INT64_MIN, INT64_MAX},
        {"", INT64_MIN, INT64_MAX},
        {"-", INT64_MIN, INT64_MAX},
        {"+5", INT64_MIN, INT64_MAX},
        {" 5", INT64_MIN, INT64_MAX},
        {"5 ", INT64_MIN, INT64_MAX},
        {"5x", INT64_MIN, INT64_MAX},
        {"1.0", INT64_MIN, INT64_MAX},
        {"0x1f", INT64_MIN, INT64_MAX},
        {"--5", INT64_MIN, INT64_MAX},
        {"1e3", INT64_MIN, INT64_MAX},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = 4242;
        if (units_parse_int(bad[i].s, bad[i].min, bad[i].max, &v) != ERR_INVALID)
            fail_msg("accepted int: \"%s\"", bad[i].s);
        assert_int_equal(v, 4242);
    }
    assert_int_equal(units_parse_int(NULL, 0, 1, &v), ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),     cmocka_unit_test(test_sizes_rejected),
        cmocka_unit_test(test_durations), cmocka_unit_test(test_durations_rejected),
        cmocka_unit_test(test_parse_int),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
