/* test_expr.c - the expression language: literals, access, operators, Jinja spellings, filters,
 * tests, missing values, type errors with positions, and the limits. */
#include "core/err.h"
#include "core/json_read.h"
#include "workflow/expr.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char *const scope_json =
    "{\"state\":{\"count\":3,\"name\":\"Ada\",\"tags\":[\"home\",\"work\"],\"done\":false,"
    "\"n\":null},"
    "\"input\":\"add milk tomorrow\","
    "\"last\":{\"tasks\":[{\"title\":\"Call mum\",\"priority\":\"high\",\"done\":true},"
    "{\"title\":\"Milk\",\"priority\":\"low\",\"done\":false}],\"kind\":\"list\"}}";

static cJSON *scope(void)
{
    cJSON *s = json_parse(scope_json, strlen(scope_json), 32, NULL);
    assert_non_null(s);
    return s;
}

/* Evaluates src against the standard scope and returns the result printed as compact JSON. */
static char *eval_json(const char *src)
{
    struct wf_expr *e = NULL;
    char err[256];
    int rc = wf_expr_compile(src, strlen(src), &e, err, sizeof err);
    if (rc != 0)
        fail_msg("compile '%s': %s", src, err);
    cJSON *s = scope(), *out = NULL;
    rc = wf_expr_eval(e, s, &out, err, sizeof err);
    if (rc != 0)
        fail_msg("eval '%s': %s", src, err);
    char *txt = json_print(out);
    cJSON_Delete(out);
    cJSON_Delete(s);
    wf_expr_free(e);
    return txt;
}

static void check(const char *src, const char *want)
{
    char *got = eval_json(src);
    if (strcmp(got, want) != 0)
        fail_msg("'%s' gave %s, expected %s", src, got, want);
    free(got);
}

static bool truth(const char *src)
{
    struct wf_expr *e = NULL;
    char err[256];
    assert_int_equal(wf_expr_compile(src, strlen(src), &e, err, sizeof err), 0);
    cJSON *s = scope();
    bool b = false;
    int rc = wf_expr_eval_bool(e, s, &b, err, sizeof err);
    if (rc != 0)
        fail_msg("eval '%s': %s", src, err);
    cJSON_Delete(s);
    wf_expr_free(e);
    return b;
}

/* Expects compile (or, when compile passes, eval) to fail with rc and a message containing want. */
static void check_error(const char *src, int want_rc, const char *want)
{
    struct wf_expr *e = NULL;
    char err[256] = "";
    int rc = wf_expr_compile(src, strlen(src), &e, err, sizeof err);
    if (rc == 0) {
        cJSON *s = scope(), *out = NULL;
        rc = wf_expr_eval(e, s, &out, err, sizeof err);
        assert_null(out);
        cJSON_Delete(s);
        wf_expr_free(e);
    }
    if (rc != want_rc || !strstr(err, want))
        fail_msg("'%s': rc %d, message '%s'; expected %d and '%s'", src, rc, err, want_rc, want);
}

static void test_literals(void **state)
{
    (void)state;
    check("42", "42");
    check("-1.5", "-1.5");
    check("2e3", "2000");
    check("'single'", "\"single\"");
    check("\"dou\\\"ble\\n\"", "\"dou\\\"ble\\n\"");
    check("'\\u00e9\\ud83d\\ude00'", "\"\xc3\xa9\xf0\x9f\x98\x80\"");
    check("true", "true");
    check("False", "false");
    check("None", "null");
    check("null", "null");
    check("[1, 'a', [true], ]", "[1,\"a\",[true]]");
    check("{'k': 1, \"j\": [state.count]}", "{\"k\":1,\"j\":[3]}");
    check("[]", "[]");
}

static void test_access(void **state)
{
    (void)state;
    check("state.count", "3");
    check("state['name']", "\"Ada\"");
    check("last.tasks[0].title", "\"Call mum\"");
    check("last.tasks[-1].title", "\"Milk\"");
    check("last.tasks.1.priority", "\"low\"");
    check("input", "\"add milk tomorrow\"");
    /* Missing things are null, never errors. */
    check("nothing", "null");
    check("state.missing.deeper[3].x", "null");
    check("last.tasks[7]", "null");
    check("input.length", "null");
    check("state.n.x", "null");
    check("state.keys()", "[\"count\",\"name\",\"tags\",\"done\",\"n\"]");
    check("{'a': 1}.items()", "[[\"a\",1]]");
    check("{'a': 1}.values()", "[1]");
}

static void test_operators(void **state)
{
    (void)state;
    check("1 + 2 * 3", "7");
    check("(1 + 2) * 3", "9");
    check("7 / 2", "3.5");
    check("7 % 3", "1");
    check("-7 % 3", "2");
    check("-state.count", "-3");
    check("'a' + 'b'", "\"ab\"");
    check("[1] + [2, 3]", "[1,2,3]");
    check("'n=' ~ state.count ~ '!'", "\"n=3!\"");
    check("state.count == 3", "true");
    check("state.count != 3", "false");
    check("[1, {'a': 2}] == [1, {'a': 2}]", "true");
    check("'abc' < 'abd'", "true");
    check("2 >= 2 and 1 <= 0", "false");
    check("null == nothing", "true");
    /* Jinja's and/or return an operand. */
    check("state.n or 'fallback'", "\"fallback\"");
    check("state.name && state.count", "3");
    check("'x' if state.done else 'y'", "\"y\"");
    check("'x' if state.done", "null");
}

static void test_logic_and_membership(void **state)
{
    (void)state;
    assert_true(truth("state.count > 2 && state.name == 'Ada'"));
    assert_true(truth("state.count > 5 || !state.done"));
    assert_true(truth("not state.done and state.count"));
    assert_false(truth("!state.count == 3")); /* ! binds looser than ==, as Jinja's not */
    assert_true(truth("input contains 'milk'"));
    assert_true(truth("state.tags contains 'work'"));
    assert_true(truth("last contains 'tasks'"));
    assert_true(truth("'home' in state.tags"));
    assert_true(truth("'sugar' not in state.tags"));
    assert_true(truth("'milk' in input"));
    assert_false(truth("state.missing contains 'x'"));
    assert_true(truth("last.kind == 'list' && last.tasks[0].priority == 'high'"));
    /* Jinja's truthiness. */
    assert_false(truth("0"));
    assert_false(truth("''"));
    assert_false(truth("[]"));
    assert_false(truth("{}"));
    assert_false(truth("null"));
    assert_true(truth("'0'"));
    assert_true(truth("[0]"));
}

static void test_tests(void **state)
{
    (void)state;
    assert_true(truth("state.count is defined"));
    assert_true(truth("state.missing is not defined"));
    assert_true(truth("state.n is none"));
    assert_true(truth("state.name is string and state.count is number"));
    assert_true(truth("state.count is odd"));
    assert_true(truth("4 is divisibleby 2"));
    assert_true(truth("state.tags is sequence and last is mapping"));
    assert_true(truth("state.count is eq(3)"));
}

static void test_filters(void **state)
{
    (void)state;
    check("state | tojson",
          "\"{\\\"count\\\":3,\\\"name\\\":\\\"Ada\\\",\\\"tags\\\":[\\\"home\\\","
          "\\\"work\\\"],\\\"done\\\":false,\\\"n\\\":null}\"");
    check("state.n | tojson", "\"null\"");
    check("state.missing | default('d')", "\"d\"");
    check("state.missing | d", "\"\"");
    check("'' | default('x', true)", "\"x\"");
    check("'' | default('x')", "\"\"");
    check("state.tags | length", "2");
    check("'h\xc3\xa9' | length", "2");
    check("state.name | upper", "\"ADA\"");
    check("'HeLLo wORLD' | lower", "\"hello world\"");
    check("'hello big world' | title", "\"Hello Big World\"");
    check("'hello World' | capitalize", "\"Hello world\"");
    check("'  pad  ' | trim", "\"pad\"");
    check("'' | trim", "\"\"");
    check("d|trim|d|d", "\"\""); /* found by fuzz_expr: an empty text */
    check("state.tags | join(', ')", "\"home, work\"");
    check("last.tasks | join('/', attribute='title')", "\"Call mum/Milk\"");
    check("3.14159 | round(2)", "3.14");
    check("2.5 | round", "3");
    check("2.1 | round(0, 'ceil')", "3");
    check("'42' | int", "42");
    check("'4.7' | int", "4");
    check("'x' | int(7)", "7");
    check("'1.5' | float", "1.5");
    check("3 | string", "\"3\"");
    check("true | string", "\"True\"");
    check("state.tags | first", "\"home\"");
    check("state.tags | last", "\"work\"");
    check("'a-b-c' | replace('-', '+')", "\"a+b+c\"");
    check("'a-b-c' | replace('-', '', 1)", "\"ab-c\"");
    check("'The quick brown fox jumps' | truncate(12)", "\"The...\"");
    check("'The quick brown fox jumps' | truncate(13)", "\"The quick...\"");
    check("'The quick brown fox jumps' | truncate(12, true)", "\"The quick...\"");
    check("'short' | truncate(12)", "\"short\"");
    check("'<a href=\"x\">&</a>' | e", "\"&lt;a href=&#34;x&#34;&gt;&amp;&lt;/a&gt;\"");
    check("last.tasks | selectattr('done') | map(attribute='title') | list", "[\"Call mum\"]");
    check("last.tasks | selectattr('priority', 'equalto', 'low') | map(attribute='title')",
          "[\"Milk\"]");
    check("last.tasks | rejectattr('done') | length", "1");
    check("[1, 2, 3, 4] | select('odd')", "[1,3]");
    check("[1, 2, 3] | reverse", "[3,2,1]");
    check("-3 | abs", "3");
    check("{'a': 1} | items", "[[\"a\",1]]");
    check("'ab' | list", "[\"a\",\"b\"]");
    check("state.tags | map(attribute='x', default='-')", "[\"-\",\"-\"]");
}

static void test_errors(void **state)
{
    (void)state;
    check_error("state.count < 'a'", ERR_INVALID,
                "column 13: '<' needs two numbers or two strings, got number and string");
    check_error("1 +", ERR_INVALID, "column 4: expected a value, found the end");
    check_error("x | foo", ERR_INVALID, "column 5: unknown filter 'foo'");
    check_error("x | round(1, 2, 3)", ERR_INVALID, "filter 'round' takes 2 positional arguments");
    check_error("x | replace('a')", ERR_INVALID, "filter 'replace' needs its 'new' argument");
    check_error("x | join(sep=1)", ERR_INVALID, "filter 'join' has no parameter 'sep'");
    check_error("range(3)", ERR_INVALID, "function calls are not supported");
    check_error("'abc", ERR_INVALID, "column 1: string without its closing '");
    check_error("a ? b", ERR_INVALID, "column 3: unexpected character '?'");
    check_error("1 2", ERR_INVALID, "expected an operator or the end, found '2'");
    check_error("", ERR_INVALID, "empty expression");
    check_error("1 / 0", ERR_INVALID, "division by zero");
    check_error("[1, 2.5e744 % 4]", ERR_INVALID, "column 5: number out of range (2.5e744)");
    check_error("1e300 * 1e300", ERR_INVALID, "'*' gives a number out of range");
    check_error("'a' - 1", ERR_INVALID, "'-' needs two numbers, got string and number");
    check_error("5 contains 1", ERR_INVALID, "'contains' needs a string, list or object");
    check_error("state.tags['x']", ERR_INVALID, "cannot index a list with a string");
    check_error("state.count | round('x')", ERR_INVALID, "round: precision must be a number");
    check_error("'\\u0000'", ERR_INVALID, "\\u0000 is not allowed");
    check_error("x.foo()", ERR_INVALID, "unknown method 'foo'");
    check_error("x is nonsense", ERR_INVALID, "unknown test 'nonsense'");
    check_error("'a' is odd", ERR_INVALID, "test 'odd' needs a whole number");
}

static void test_positions_with_origin(void **state)
{
    (void)state;
    const char *src = "state.count\n  < 'x'";
    struct wf_expr *e = NULL;
    char err[256];
    assert_int_equal(wf_expr_compile_at(src, strlen(src), 4, 10, &e, err, sizeof err), 0);
    cJSON *s = scope(), *out = NULL;
    assert_int_equal(wf_expr_eval(e, s, &out, err, sizeof err), ERR_INVALID);
    assert_non_null(strstr(err, "line 5, column 3: '<'"));
    cJSON_Delete(s);
    wf_expr_free(e);
    assert_int_equal(wf_expr_compile_at("a +", 3, 2, 7, &e, err, sizeof err), ERR_INVALID);
    assert_non_null(strstr(err, "line 2, column 10:"));
}

static void test_limits(void **state)
{
    (void)state;
    char *big = malloc(WF_EXPR_MAX_LEN + 2);
    memset(big, '1', WF_EXPR_MAX_LEN + 1);
    big[WF_EXPR_MAX_LEN + 1] = '\0';
    struct wf_expr *e = NULL;
    char err[256];
    assert_int_equal(wf_expr_compile(big, strlen(big), &e, err, sizeof err), ERR_TOO_BIG);
    assert_null(e);
    /* Deep nesting is refused at compile time. */
    size_t n = 0;
    for (int i = 0; i < WF_EXPR_MAX_DEPTH + 5; i++)
        big[n++] = '(';
    big[n++] = '1';
    for (int i = 0; i < WF_EXPR_MAX_DEPTH + 5; i++)
        big[n++] = ')';
    assert_int_equal(wf_expr_compile(big, n, &e, err, sizeof err), ERR_DEPTH);
    n = 0;
    for (int i = 0; i < WF_EXPR_MAX_DEPTH + 5; i++)
        big[n++] = '[';
    assert_int_equal(wf_expr_compile(big, n, &e, err, sizeof err), ERR_DEPTH);
    n = 0;
    for (int i = 0; i < WF_EXPR_MAX_DEPTH + 5; i++)
        big[n++] = '!';
    big[n++] = '1';
    assert_int_equal(wf_expr_compile(big, n, &e, err, sizeof err), ERR_DEPTH);
    free(big);
    /* A string past WF_EXPR_MAX_STRING is refused, not built. */
    const char *doubling =
        "[1,2,3,4,5,6,7,8,9,10] | join('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa') | replace('a', 'aaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa') | replace('a',"
        " 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')";
    check_error(doubling, ERR_TOO_BIG, "longer than");
}

/* Work that grows with the data costs steps too: comparing or filtering a big list. */
static void test_big_data_costs_steps(void **state)
{
    (void)state;
    cJSON *scope = cJSON_CreateObject(), *xs = cJSON_AddArrayToObject(scope, "xs");
    for (int i = 0; i < WF_EXPR_MAX_STEPS / 2 + 10; i++)
        cJSON_AddItemToArray(xs, cJSON_CreateNumber(i));
    struct wf_expr *e = NULL;
    char err[256];
    cJSON *out = NULL;
    assert_int_equal(wf_expr_compile("xs | length", 11, &e, err, sizeof err), 0);
    assert_int_equal(wf_expr_eval(e, scope, &out, err, sizeof err), 0);
    assert_int_equal(out->valueint, WF_EXPR_MAX_STEPS / 2 + 10);
    cJSON_Delete(out);
    out = NULL;
    wf_expr_free(e);
    assert_int_equal(wf_expr_compile("xs == xs", 8, &e, err, sizeof err), 0);
    assert_int_equal(wf_expr_eval(e, scope, &out, err, sizeof err), ERR_TOO_BIG);
    assert_string_equal(err, "column 4: " WF_EXPR_BUDGET_SPENT);
    assert_null(out);
    wf_expr_free(e);
    /* One budget across several evaluations. */
    long budget = 50;
    struct wf_scope s = {.vars = NULL, .parent = NULL};
    assert_int_equal(wf_expr_compile("[1, 2, 3, 4, 5, 6, 7, 8, 9]", 27, &e, err, sizeof err), 0);
    int rc = 0, runs = 0;
    while (rc == 0 && runs < 100) {
        rc = wf_expr_eval_budget(e, &s, &budget, &out, err, sizeof err);
        cJSON_Delete(out);
        out = NULL;
        runs++;
    }
    assert_int_equal(rc, ERR_TOO_BIG);
    assert_in_range(runs, 2, 6);
    wf_expr_free(e);
    cJSON_Delete(scope);
}

static void test_scope_chain_and_truthy_print(void **state)
{
    (void)state;
    cJSON *outer = cJSON_Parse("{\"a\":1,\"b\":2}"), *inner = cJSON_Parse("{\"a\":10}");
    struct wf_scope s1 = {.vars = outer, .parent = NULL}, s2 = {.vars = inner, .parent = &s1};
    struct wf_expr *e = NULL;
    char err[128];
    assert_int_equal(wf_expr_compile("a + b", 5, &e, err, sizeof err), 0);
    cJSON *out = NULL;
    assert_int_equal(wf_expr_eval_scoped(e, &s2, &out, err, sizeof err), 0);
    assert_int_equal(out->valueint, 12);
    cJSON_Delete(out);
    wf_expr_free(e);
    /* A NULL or non-object scope means no variables. */
    assert_int_equal(wf_expr_compile("a", 1, &e, err, sizeof err), 0);
    assert_int_equal(wf_expr_eval(e, NULL, &out, err, sizeof err), 0);
    assert_true(cJSON_IsNull(out));
    cJSON_Delete(out);
    wf_expr_free(e);
    cJSON_Delete(outer);
    cJSON_Delete(inner);
    struct buf b;
    buf_init(&b, 64);
    cJSON *v = cJSON_Parse("[1.5,null,\"x\",true]");
    for (cJSON *x = v->child; x; x = x->next)
        assert_int_equal(wf_expr_print(&b, x), 0);
    assert_string_equal(b.data, "1.5xTrue");
    assert_int_equal(wf_expr_print(&b, v), 0);
    assert_string_equal(b.data, "1.5xTrue[1.5,null,\"x\",true]");
    cJSON_Delete(v);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_access),
        cmocka_unit_test(test_operators),
        cmocka_unit_test(test_logic_and_membership),
        cmocka_unit_test(test_tests),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_positions_with_origin),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_big_data_costs_steps),
        cmocka_unit_test(test_scope_chain_and_truthy_print),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
