/* Unit tests of per-session token buckets: burst, refill, Retry-After, expiry sweeps. */
#include "auth/ratelimit.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#define SEC 1000000LL

static void test_burst_then_limit(void **state)
{
    (void)state;
    struct ratelimit rl;
    ratelimit_init(&rl, 1000);
    int64_t now = 1000 * SEC;
    for (int i = 0; i < 10; i++)
        assert_int_equal(ratelimit_take(&rl, "s1", 10, 2000, now), 0);
    /* 10/min refills one token every 6 s. */
    assert_int_equal(ratelimit_take(&rl, "s1", 10, 2000, now), 6);
    assert_int_equal(ratelimit_take(&rl, "s1", 10, 2000, now + 3 * SEC), 3);
    assert_int_equal(ratelimit_take(&rl, "s1", 10, 2000, now + 6 * SEC), 0);
    assert_int_equal(ratelimit_take(&rl, "s2", 10, 2000, now), 0); /* independent buckets */
    ratelimit_free(&rl);
}

static void test_refill_caps_at_rate(void **state)
{
    (void)state;
    struct ratelimit rl;
    ratelimit_init(&rl, 1000);
    int64_t now = 1000 * SEC;
    assert_int_equal(ratelimit_take(&rl, "s", 2, 100000, now), 0);
    /* An hour of quiet refills to 2 tokens, not 120. */
    now += 3600 * SEC;
    assert_int_equal(ratelimit_take(&rl, "s", 2, 100000, now), 0);
    assert_int_equal(ratelimit_take(&rl, "s", 2, 100000, now), 0);
    assert_true(ratelimit_take(&rl, "s", 2, 100000, now) > 0);
    ratelimit_free(&rl);
}

static void test_sweep_drops_expired(void **state)
{
    (void)state;
    struct ratelimit rl;
    ratelimit_init(&rl, 1000000);
    char id[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(id, sizeof id, "sess%d", i);
        ratelimit_take(&rl, id, 10, i < 2500 ? 100 : 10000, 50 * SEC);
    }
    assert_int_equal(rl.count, 5000);
    ratelimit_sweep(&rl, 200 * SEC);
    assert_int_equal(rl.count, 2500);
    /* Survivors refill to the full burst (10) and no further. */
    for (int i = 0; i < 10; i++)
        assert_int_equal(ratelimit_take(&rl, "sess4999", 10, 10000, 200 * SEC), 0);
    assert_true(ratelimit_take(&rl, "sess4999", 10, 10000, 200 * SEC) > 0);
    ratelimit_free(&rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_limit),
        cmocka_unit_test(test_refill_caps_at_rate),
        cmocka_unit_test(test_sweep_drops_expired),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
