/* Unit tests for core/clock: the wire format against known instants (computed independently with
 * Python's datetime), parsing and its rejections, and the monotonic clock. */
#include "core/clock.h"
#include "core/err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#define SEC INT64_C(1000000)
#define DAY (86400 * SEC)

static void check_format(int64_t us, const char *want)
{
    char out[CLOCK_ISO_MAX];
    memset(out, 'Z', sizeof out);
    size_t n = clock_format_iso(us, out);
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
}

/* Parses a heap copy of exactly len bytes (no NUL after it, so ASan sees any over-read). */
static int parse_n(const char *s, size_t len, int64_t *us)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, s, len);
    int rc = clock_parse_iso(copy, len, us);
    free(copy);
    return rc;
}

static int64_t parse_ok(const char *s)
{
    int64_t us = 0;
    if (parse_n(s, strlen(s), &us) != 0)
        fail_msg("rejected: %s", s);
    return us;
}

static void test_format_known(void **state)
{
    (void)state;
    check_format(0, "1970-01-01T00:00:00.000Z");
    check_format(INT64_C(1795641341123000), "2026-11-25T21:15:41.123Z");
    /* Sub-millisecond digits are cut, not rounded. */
    check_format(INT64_C(1795641341123999), "2026-11-25T21:15:41.123Z");
    check_format(INT64_C(1709208000999999), "2024-02-29T12:00:00.999Z");
    check_format(INT64_C(951782400000000), "2000-02-29T00:00:00.000Z");
    check_format(INT64_C(-2203891200000000), "1900-03-01T00:00:00.000Z");
    check_format(INT64_C(-2203891200000000) - DAY, "1900-02-28T00:00:00.000Z");
}

static void test_format_year_end(void **state)
{
    (void)state;
    check_format(INT64_C(1704067199999000), "2023-12-31T23:59:59.999Z");
    check_format(INT64_C(1704067199999999), "2023-12-31T23:59:59.999Z");
    check_format(INT64_C(1704067200000000), "2024-01-01T00:00:00.000Z");
}

static void test_format_negative(void **state)
{
    (void)state;
    check_format(-1, "1969-12-31T23:59:59.999Z");
    check_format(-999, "1969-12-31T23:59:59.999Z");
    check_format(-1000, "1969-12-31T23:59:59.999Z");
    check_format(-1001, "1969-12-31T23:59:59.998Z");
    check_format(-SEC, "1969-12-31T23:59:59.000Z");
    check_format(-SEC - 1, "1969-12-31T23:59:58.999Z");
    check_format(-DAY, "1969-12-31T00:00:00.000Z");
    check_format(-DAY - 1, "1969-12-30T23:59:59.999Z");
}

static void test_format_range(void **state)
{
    (void)state;
    char out[CLOCK_ISO_MAX];
    check_format(INT64_C(-62167219200000000), "0000-01-01T00:00:00.000Z");
    check_format(INT64_C(253402300799999999), "9999-12-31T23:59:59.999Z");
    assert_int_equal(clock_format_iso(INT64_C(-62167219200000000) - 1, out), 0);
    assert_string_equal(out, "");
    assert_int_equal(clock_format_iso(INT64_C(253402300800000000), out), 0);
    assert_string_equal(out, "");
    /* The extremes must not overflow on the way to being refused. */
    assert_int_equal(clock_format_iso(INT64_MIN, out), 0);
    assert_int_equal(clock_format_iso(INT64_MIN + 1, out), 0);
    assert_int_equal(clock_format_iso(INT64_MAX, out), 0);
}

static void test_days_from_civil(void **state)
{
    (void)state;
    assert_int_equal(clock_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(clock_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(clock_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(clock_days_from_civil(2024, 2, 29), 19782);
    assert_true(clock_days_from_civil(0, 1, 1) == -719528);
}

static void test_parse_known(void **state)
{
    (void)state;
    assert_true(parse_ok("1970-01-01T00:00:00Z") == 0);
    assert_true(parse_ok("1970-01-01T00:00:00.000Z") == 0);
    assert_true(parse_ok("2026-11-25T21:15:41.123Z") == INT64_C(1795641341123000));
    assert_true(parse_ok("2024-02-29T12:00:00.999999Z") == INT64_C(1709208000999999));
    assert_true(parse_ok("1969-12-31T23:59:59.999Z") == -1000);
    assert_true(parse_ok("2000-02-29T00:00:00Z") == INT64_C(951782400000000));
    /* A leap second lands on the next second rather than being refused. */
    assert_true(parse_ok("2016-12-31T23:59:60Z") == parse_ok("2017-01-01T00:00:00Z"));
}

static void test_parse_offsets(void **state)
{
    (void)state;
    int64_t want = INT64_C(1795641341123000);
    assert_true(parse_ok("2026-11-25T23:15:41.123+02:00") == want);
    assert_true(parse_ok("2026-11-25T15:45:41.123-05:30") == want);
    assert_true(parse_ok("2026-11-26T07:15:41.123+10:00") == want);
    assert_true(parse_ok("2026-11-25T21:15:41.123+00:00") == want);
    assert_true(parse_ok("2026-11-25T21:15:41.123-00:00") == want);
    /* Across a date line and a year boundary. */
    assert_true(parse_ok("2024-01-01T01:00:00+02:00") == parse_ok("2023-12-31T23:00:00Z"));
    assert_true(parse_ok("2023-12-31T20:00:00-05:00") == parse_ok("2024-01-01T01:00:00Z"));
}

static void test_parse_fractions(void **state)
{
    (void)state;
    int64_t base = INT64_C(1795641341000000);
    static const struct {
        const char *s;
        int64_t us;
    } cases[] = {
        {"2026-11-25T21:15:41.1Z", 100000},
        {"2026-11-25T21:15:41.12Z", 120000},
        {"2026-11-25T21:15:41.123Z", 123000},
        {"2026-11-25T21:15:41.1234Z", 123400},
        {"2026-11-25T21:15:41.12345Z", 123450},
        {"2026-11-25T21:15:41.123456Z", 123456},
        {"2026-11-25T21:15:41.1234567Z", 123456},
        {"2026-11-25T21:15:41.12345678Z", 123456},
        {"2026-11-25T21:15:41.123456789Z", 123456},
        {"2026-11-25T21:15:41.000000001Z", 0},
        {"2026-11-25T21:15:41.9+01:00", 900000 - 3600 * SEC},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t got = parse_ok(cases[i].s);
        if (got != base + cases[i].us)
            fail_msg("%s: got %lld", cases[i].s, (long long)(got - base));
    }
}

static void test_parse_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "2025-02-29T00:00:00Z", /* not a leap year */
        "1900-02-29T00:00:00Z",
        "2100-02-29T00:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-00-10T00:00:00Z",
        "2026-01-00T00:00:00Z",
        "2026-01-32T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-11-25T24:00:00Z",
        "2026-11-25T23:60:00Z",
        "2026-11-25T23:59:61Z",
        "2026-11-25T21:15:41",     /* no zone */
        "2026-11-25T21:15:41.123", /* no zone */
        "2026-11-25T21:15:41.Z",   /* empty fraction */
        "2026-11-25T21:15:41ZZ",
        "2026-11-25T21:15:41Z ",
        "2026-11-25T21:15:41.123Zjunk",
        " 2026-11-25T21:15:41Z",
        "2026-11-25",
        "2026-11-25T",
        "2026-11-25T21:15Z",
        "26-11-25T21:15:41Z",
        "2026-1-25T21:15:41Z",
        "2026-11-2aT21:15:41Z",
        "2026/11/25T21:15:41Z",
        "2026-11-25X21:15:41Z",
        "2026-11-25T21:15:41+02",
        "2026-11-25T21:15:41+0200",
        "2026-11-25T21:15:41+2:00",
        "2026-11-25T21:15:41+24:00",
        "2026-11-25T21:15:41-00:60",
        "2026-11-25T21:15:41+02:00junk",
        "-026-11-25T21:15:41Z",
        "+2026-11-25T21:15:41Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t us = 4242;
        int rc = parse_n(bad[i], strlen(bad[i]), &us);
        if (rc != ERR_INVALID)
            fail_msg("accepted: \"%s\" (rc %d)", bad[i], rc);
        assert_true(us == 4242);
    }
}

static void test_parse_uses_length(void **state)
{
    (void)state;
    static const char s[] = "2026-11-25T21:15:41.123ZJUNK";
    int64_t us = 0;
    assert_int_equal(parse_n(s, 24, &us), 0);
    assert_true(us == INT64_C(1795641341123000));
    assert_int_equal(parse_n(s, 23, &us), ERR_INVALID); /* the Z is cut off */
    assert_int_equal(parse_n(s, strlen(s), &us), ERR_INVALID);
    for (size_t len = 0; len < 24; len++)
        assert_int_equal(parse_n(s, len, &us), ERR_INVALID);
}

static void test_round_trip(void **state)
{
    (void)state;
    static const int64_t fixed[] = {
        0,
        -1000,
        1000,
        INT64_C(1795641341123000),
        INT64_C(1709208000999000),
        INT64_C(-62167219200000000),
        INT64_C(253402300799999000),
        INT64_C(951782400000000),
    };
    char out[CLOCK_ISO_MAX];
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        size_t n = clock_format_iso(fixed[i], out);
        assert_true(n > 0);
        int64_t back = 0;
        assert_int_equal(clock_parse_iso(out, n, &back), 0);
        assert_true(back == fixed[i]);
    }
    /* Pseudo-random millisecond instants across years 0000..9999. */
    uint64_t x = 88172645463325252u;
    const int64_t lo = INT64_C(-62167219200000), span = INT64_C(253402300800000) - lo;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t ms = lo + (int64_t)(x % (uint64_t)span);
        size_t n = clock_format_iso(ms * 1000, out);
        assert_int_equal(n, 24);
        int64_t back = 0;
        assert_int_equal(clock_parse_iso(out, n, &back), 0);
        if (back != ms * 1000)
            fail_msg("%s: %lld != %lld", out, (long long)back, (long long)(ms * 1000));
    }
}

static void test_wall_clock(void **state)
{
    (void)state;
    int64_t us = clock_wall_us();
    int64_t now = (int64_t)time(NULL) * SEC;
    assert_true(us > now - 2 * SEC && us < now + 2 * SEC);
}

static void test_mono_clock(void **state)
{
    (void)state;
    int64_t prev = clock_mono_us();
    for (int i = 0; i < 100000; i++) {
        int64_t t = clock_mono_us();
        assert_true(t >= prev);
        prev = t;
    }
    int64_t start = clock_mono_us();
    struct timespec ts = {0, 20 * 1000 * 1000};
    while (nanosleep(&ts, &ts) != 0) {
    }
    int64_t elapsed = clock_mono_us() - start;
    assert_true(elapsed >= 20000);
    assert_true(elapsed < 5 * SEC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_known),    cmocka_unit_test(test_format_year_end),
        cmocka_unit_test(test_format_negative), cmocka_unit_test(test_format_range),
        cmocka_unit_test(test_days_from_civil), cmocka_unit_test(test_parse_known),
        cmocka_unit_test(test_parse_offsets),   cmocka_unit_test(test_parse_fractions),
        cmocka_unit_test(test_parse_rejects),   cmocka_unit_test(test_parse_uses_length),
        cmocka_unit_test(test_round_trip),      cmocka_unit_test(test_wall_clock),
        cmocka_unit_test(test_mono_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
