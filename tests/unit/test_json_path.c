/* test_json_path.c - JSON paths for error messages: members, odd names, indexes, pops, and the
 * fixed size cut short without overflowing. */
#include "core/json_path.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static void test_build_and_pop(void **state)
{
    (void)state;
    struct json_path p;
    json_path_init(&p);
    assert_string_equal(p.s, "$");
    size_t a = json_path_key(&p, "children");
    size_t b = json_path_index(&p, 2);
    json_path_key(&p, "size");
    assert_string_equal(p.s, "$.children[2].size");
    json_path_pop(&p, b);
    assert_string_equal(p.s, "$.children");
    json_path_key(&p, "a b");
    assert_string_equal(p.s, "$.children[\"a b\"]");
    json_path_pop(&p, a);
    json_path_key(&p, "9lives");
    assert_string_equal(p.s, "$[\"9lives\"]");
    json_path_pop(&p, 1);
    json_path_key(&p, "");
    assert_string_equal(p.s, "$[\"\"]");
}

static void test_cut_short(void **state)
{
    (void)state;
    struct json_path p;
    json_path_init(&p);
    for (int i = 0; i < 200; i++)
        json_path_key(&p, "member");
    assert_true(p.len < sizeof p.s);
    assert_int_equal(strlen(p.s), p.len);
    size_t mark = json_path_index(&p, 1);
    json_path_pop(&p, mark);
    assert_int_equal(strlen(p.s), p.len);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_and_pop),
        cmocka_unit_test(test_cut_short),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
