/* Unit tests of comma-separated list walking. */
#include "core/strlist.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* Joins the items of list with '|' into out. */
static void walk(const char *list, char *out, size_t outlen)
{
    const char *cur = list, *item;
    size_t n, o = 0;
    out[0] = '\0';
    while (strlist_next(&cur, &item, &n)) {
        int w = snprintf(out + o, outlen - o, "%s%.*s", o ? "|" : "", (int)n, item);
        o += (size_t)w;
    }
}

static void test_items(void **state)
{
    (void)state;
    char out[256];
    walk("a,b", out, sizeof out);
    assert_string_equal(out, "a|b");
    walk("  http://a.example ,https://b.example:8443,  ", out, sizeof out);
    assert_string_equal(out, "http://a.example|https://b.example:8443");
    walk(",,, image/* ,, text/plain", out, sizeof out);
    assert_string_equal(out, "image/*|text/plain");
    walk("one item with spaces inside", out, sizeof out);
    assert_string_equal(out, "one item with spaces inside");
}

static void test_empty(void **state)
{
    (void)state;
    char out[16];
    walk("", out, sizeof out);
    assert_string_equal(out, "");
    walk(" , ,", out, sizeof out);
    assert_string_equal(out, "");
    const char *cur = NULL, *item;
    size_t n;
    assert_false(strlist_next(&cur, &item, &n));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_items),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
