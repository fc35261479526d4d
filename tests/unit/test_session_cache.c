/* Unit tests of the session cache: hits, ttl, replacement, drop by id, bounded size. */
#include "auth/session_cache.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define SEC 1000000LL

static struct store_session make(int n)
{
    struct store_session s;
    memset(&s, 0, sizeof s);
    snprintf(s.id, sizeof s.id, "cksess_%d", n);
    memcpy(s.secret_hash, &n, sizeof n);
    s.secret_hash[31] = (unsigned char)n;
    s.rate_per_min = n;
    s.state_variables_json = "{\"n\":1}";
    snprintf(s.user_id, sizeof s.user_id, "user-%d", n);
    snprintf(s.workflow_id, sizeof s.workflow_id, "wf_%d", n);
    s.expires_at = 1000 + n;
    s.tracing = true;
    return s;
}

static void test_hit_and_ttl(void **state)
{
    (void)state;
    struct session_cache c;
    session_cache_init(&c, 100, 5 * SEC);
    struct store_session s = make(7);
    assert_null(session_cache_get(&c, s.secret_hash, 0));
    session_cache_put(&c, &s, 10 * SEC);
    const struct store_session *got = session_cache_get(&c, s.secret_hash, 14 * SEC);
    assert_non_null(got);
    assert_string_equal(got->id, "cksess_7");
    /* Every field comes back, the strings kept right-sized included. */
    assert_memory_equal(got->secret_hash, s.secret_hash, sizeof s.secret_hash);
    assert_string_equal(got->user_id, "user-7");
    assert_string_equal(got->workflow_id, "wf_7");
    assert_string_equal(got->workflow_version, "");
    assert_int_equal(got->rate_per_min, 7);
    assert_int_equal(got->expires_at, 1007);
    assert_true(got->tracing);
    assert_string_equal(got->state_variables_json, "{\"n\":1}");
    assert_ptr_not_equal(got->state_variables_json, s.state_variables_json); /* a copy */
    assert_null(session_cache_get(&c, s.secret_hash, 16 * SEC));             /* older than ttl */
    assert_int_equal(c.count, 0);
    session_cache_free(&c);
}

static void test_replace_and_drop(void **state)
{
    (void)state;
    struct session_cache c;
    session_cache_init(&c, 100, 5 * SEC);
    struct store_session a = make(1), b = make(2);
    session_cache_put(&c, &a, 0);
    session_cache_put(&c, &b, 0);
    a.cancelled_us = 99;
    session_cache_put(&c, &a, 1);
    assert_int_equal(c.count, 2);
    assert_int_equal(session_cache_get(&c, a.secret_hash, 2)->cancelled_us, 99);
    session_cache_drop_id(&c, "cksess_1");
    assert_null(session_cache_get(&c, a.secret_hash, 2));
    assert_non_null(session_cache_get(&c, b.secret_hash, 2));
    session_cache_free(&c);
}

static void test_bounded(void **state)
{
    (void)state;
    struct session_cache c;
    session_cache_init(&c, 50, 5 * SEC);
    for (int i = 0; i < 1000; i++) {
        struct store_session s = make(i + 1);
        session_cache_put(&c, &s, (int64_t)i * 1000);
        assert_true(c.count <= 50);
    }
    struct store_session last = make(1000);
    assert_non_null(session_cache_get(&c, last.secret_hash, 1000 * 1000));
    session_cache_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hit_and_ttl),
        cmocka_unit_test(test_replace_and_drop),
        cmocka_unit_test(test_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
