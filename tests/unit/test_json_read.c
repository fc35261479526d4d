/* Unit tests for core/json_read: length-bounded parsing with a depth cap, strictness where cJSON
 * is lenient, case-sensitive lookups and the 0/1/-1 contract of the typed getters. */
#include "core/json_read.h"
#include "core/json_write.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Parses a private heap copy of exactly len bytes with no NUL after it, so AddressSanitizer
 * catches any read past the end. */
static cJSON *parse_n(const char *s, size_t len, int max_depth, size_t *err_off)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, s, len);
    cJSON *v = json_parse(copy, len, max_depth, err_off);
    free(copy);
    return v;
}

static cJSON *parse(const char *s)
{
    return parse_n(s, strlen(s), 64, NULL);
}

/* Asserts that s is rejected and that parsing stopped at byte want_off. */
static void reject_at(const char *s, size_t len, int max_depth, size_t want_off)
{
    size_t off = (size_t)-1;
    cJSON *v = parse_n(s, len, max_depth, &off);
    if (v) {
        cJSON_Delete(v);
        fail_msg("accepted: %.*s", (int)len, s);
    }
    assert_int_equal(off, want_off);
}

static void reject(const char *s)
{
    cJSON *v = parse(s);
    if (v) {
        cJSON_Delete(v);
        fail_msg("accepted: %s", s);
    }
}

/* Builds n nested arrays ("[[[...]]]") into a new heap string. */
static char *nested(const char *open, const char *close, size_t n)
{
    size_t ol = strlen(open), cl = strlen(close);
    char *s = malloc(n * (ol + cl) + 2);
    assert_non_null(s);
    char *p = s;
    for (size_t i = 0; i < n; i++, p += ol)
        memcpy(p, open, ol);
    *p++ = '1';
    for (size_t i = 0; i < n; i++, p += cl)
        memcpy(p, close, cl);
    *p = '\0';
    return s;
}

static void test_parse_basic(void **state)
{
    (void)state;
    cJSON *v = parse(" {\"a\": [1, 2.5, \"x\", true, false, null], \"b\": {}}\n\t ");
    assert_non_null(v);
    assert_true(cJSON_IsObject(v));
    const cJSON *a;
    assert_int_equal(json_get_arr(v, "a", &a), 0);
    assert_int_equal(cJSON_GetArraySize(a), 6);
    cJSON_Delete(v);
    /* Scalars are documents too. */
    v = parse("\"s\"");
    assert_true(cJSON_IsString(v));
    cJSON_Delete(v);
    v = parse("-0.5e3");
    assert_true(cJSON_IsNumber(v));
    assert_true(v->valuedouble == -500.0);
    cJSON_Delete(v);
}

static void test_parse_uses_length(void **state)
{
    (void)state;
    /* Only the first len bytes count: what follows is never read. */
    static const char s[] = "{\"a\":1}GARBAGE";
    cJSON *v = parse_n(s, 7, 64, NULL);
    assert_non_null(v);
    cJSON_Delete(v);
    /* And a length that cuts the document short makes it invalid. */
    reject_at(s, 6, 64, 5);
}

static void test_parse_nul_in_string_value(void **state)
{
    (void)state;
    static const char s[] = "{\"a\":\"x\\u0000y\",\"b\":2}";
    cJSON *v = parse(s);
    assert_non_null(v);
    const char *str;
    assert_int_equal(json_get_str(v, "a", &str), 0);
    /* The NUL arrives as C0 80 so nothing after it is lost (json_read.h). */
    assert_string_equal(str, "x\xC0\x80y");
    int64_t b;
    assert_int_equal(json_get_int(v, "b", 0, 10, &b), 0);
    assert_int_equal(b, 2);
    cJSON_Delete(v);
}

static void test_nul_round_trips_through_the_writer(void **state)
{
    (void)state;
    static const char s[] = "{\"t\":\"a\\u0000b\\\\u0000c\"}";
    cJSON *v = parse(s);
    assert_non_null(v);
    const char *str;
    assert_int_equal(json_get_str(v, "t", &str), 0);
    struct buf b;
    buf_init(&b, 256);
    assert_int_equal(json_escape_append(&b, str, strlen(str)), 0);
    /* the escaped NUL comes back as \u0000; the escaped backslash stays a backslash */
    assert_string_equal(b.data, "\"a\\u0000b\\\\u0000c\"");
    buf_free(&b);
    cJSON_Delete(v);
}

static void test_parse_nul_in_key_rejected(void **state)
{
    (void)state;
    /* {"type\u0000x":...} would otherwise answer a lookup of "type". */
    reject("{\"type\\u0000x\":\"admin\"}");
    reject("{\"ok\":1,\"type\\u0000\" \n : 1}");
    reject("{\"a\":{\"\\u0000\":1}}");
    /* A value right before a key is not confused with it. */
    cJSON *v = parse("{\"a\":\"\\u0000\",\"b\":\"\\u0000\"}");
    assert_non_null(v);
    cJSON_Delete(v);
    v = parse("[\"\\u0000\", \"\\u0000\"]");
    assert_non_null(v);
    cJSON_Delete(v);
}

static void test_parse_raw_control_chars_rejected(void **state)
{
    (void)state;
    /* RFC 8259 requires control characters in strings to be escaped; cJSON would copy them. */
    reject_at("\"a\tb\"", 5, 64, 2);
    reject_at("{\"a\":\"x\ny\"}", 11, 64, 7);
    reject_at("[\"a\0b\"]", 7, 64, 3);
    /* Escaped forms are fine, as is whitespace between tokens. */
    cJSON *v = parse("[\"a\\tb\",\n\t\"\\n\"]");
    assert_non_null(v);
    cJSON_Delete(v);
}

static void test_parse_trailing_garbage(void **state)
{
    (void)state;
    reject_at("{} x", 4, 64, 3);
    reject_at("{}{}", 4, 64, 2);
    reject_at("1 2", 3, 64, 2);
    reject_at("[1]]", 4, 64, 3);
    reject_at("\"a\"\"b\"", 6, 64, 3);
    reject_at("1.5e", 4, 64, 3);
    /* A NUL after the document is garbage too, not an end marker. */
    reject_at("{}\0", 3, 64, 2);
    cJSON *v = parse("{}  \r\n\t");
    assert_non_null(v);
    cJSON_Delete(v);
}

static void test_parse_malformed(void **state)
{
    (void)state;
    reject("");
    reject(" ");
    reject("{");
    reject("[1,]");
    reject("{\"a\":1,}");
    reject("{\"a\"}");
    reject("{a:1}");
    reject("'a'");
    reject("\"unterminated");
    reject("\"bad \\x escape\"");
    reject("\"\\ud800\"");
    reject("tru");
    reject("nul");
    reject("NaN");
    reject("Infinity");
    reject("]");
    reject("}{");
    reject_at("[1,2,x]", 7, 64, 5);
    assert_null(json_parse(NULL, 0, 64, NULL));
    size_t off = 99;
    assert_null(json_parse("1", 0, 64, &off));
    assert_int_equal(off, 0);
}

static void test_parse_depth_cap(void **state)
{
    (void)state;
    char *s = nested("[", "]", 1000);
    /* Stops at the 65th bracket, before cJSON recurses at all. */
    reject_at(s, strlen(s), 64, 64);
    free(s);

    s = nested("[", "]", 64);
    cJSON *v = parse_n(s, strlen(s), 64, NULL);
    assert_non_null(v);
    cJSON_Delete(v);
    reject_at(s, strlen(s), 63, 63);
    free(s);

    s = nested("{\"a\":", "}", 65);
    reject_at(s, strlen(s), 64, 64 * 5);
    free(s);
    s = nested("{\"a\":[", "]}", 32);
    v = parse_n(s, strlen(s), 64, NULL);
    assert_non_null(v);
    cJSON_Delete(v);
    free(s);

    /* Far past cJSON's own limit: rejected cleanly, whatever cap was asked for. */
    s = nested("[", "]", 100000);
    assert_null(parse_n(s, strlen(s), 64, NULL));
    assert_null(parse_n(s, strlen(s), 1000000, NULL));
    free(s);

    /* Depth counts nesting, not the number of containers. */
    v = parse_n("[[],[],{},[[]]]", 15, 3, NULL);
    assert_non_null(v);
    cJSON_Delete(v);
    reject_at("[[],[],{},[[]]]", 15, 2, 11);
}

static void test_parse_depth_zero_and_strings(void **state)
{
    (void)state;
    cJSON *v = parse_n("42", 2, 0, NULL);
    assert_non_null(v);
    cJSON_Delete(v);
    reject_at("[]", 2, 0, 0);
    reject_at("{}", 2, -5, 0);
    /* Brackets inside strings, also after escaped quotes and backslashes, do not count. */
    static const char s[] = "[\"[[[[{{{{\",\"\\\"[[[[\",\"\\\\\",\"]]]]\"]";
    v = parse_n(s, strlen(s), 1, NULL);
    assert_non_null(v);
    assert_int_equal(cJSON_GetArraySize(v), 4);
    assert_string_equal(cJSON_GetArrayItem(v, 1)->valuestring, "\"[[[[");
    cJSON_Delete(v);
    static const char keys[] = "{\"[[[[\":{\"{{{{\":1}}";
    v = parse_n(keys, strlen(keys), 2, NULL);
    assert_non_null(v);
    cJSON_Delete(v);
}

static void test_get_case_sensitive(void **state)
{
    (void)state;
    cJSON *v = parse("{\"Type\":\"upper\",\"type\":\"lower\",\"Only\":1}");
    assert_non_null(v);
    const char *s = NULL;
    assert_int_equal(json_get_str(v, "type", &s), 0);
    assert_string_equal(s, "lower");
    assert_int_equal(json_get_str(v, "Type", &s), 0);
    assert_string_equal(s, "upper");
    assert_null(json_get(v, "TYPE"));
    /* cJSON_GetObjectItem would find "Only" for "only". */
    assert_null(json_get(v, "only"));
    assert_non_null(json_get(v, "Only"));
    int64_t n;
    assert_int_equal(json_get_int(v, "only", 0, 9, &n), 1);
    cJSON_Delete(v);
}

static void test_get_not_an_object(void **state)
{
    (void)state;
    cJSON *arr = parse("[{\"a\":1}]");
    assert_null(json_get(arr, "a"));
    assert_null(json_get(NULL, "a"));
    const char *s = "untouched";
    assert_int_equal(json_get_str(arr, "a", &s), 1);
    assert_int_equal(json_get_str(NULL, "a", &s), 1);
    assert_string_equal(s, "untouched");
    cJSON_Delete(arr);
}

static void test_get_str(void **state)
{
    (void)state;
    cJSON *v = parse("{\"s\":\"text\",\"e\":\"\",\"n\":null,\"i\":5,\"o\":{},\"b\":true}");
    const char *s = "untouched";
    assert_int_equal(json_get_str(v, "missing", &s), 1);
    assert_string_equal(s, "untouched");
    assert_int_equal(json_get_str(v, "n", &s), 1);
    assert_string_equal(s, "untouched");
    assert_int_equal(json_get_str(v, "i", &s), -1);
    assert_int_equal(json_get_str(v, "o", &s), -1);
    assert_int_equal(json_get_str(v, "b", &s), -1);
    assert_string_equal(s, "untouched");
    assert_int_equal(json_get_str(v, "e", &s), 0);
    assert_string_equal(s, "");
    assert_int_equal(json_get_str(v, "s", &s), 0);
    assert_string_equal(s, "text");
    /* json_get itself still sees the null member. */
    assert_true(cJSON_IsNull(json_get(v, "n")));
    cJSON_Delete(v);
}

static void test_get_bool(void **state)
{
    (void)state;
    cJSON *v = parse("{\"t\":true,\"f\":false,\"n\":null,\"s\":\"true\",\"i\":1}");
    bool b = true;
    assert_int_equal(json_get_bool(v, "f", &b), 0);
    assert_false(b);
    assert_int_equal(json_get_bool(v, "t", &b), 0);
    assert_true(b);
    b = false;
    assert_int_equal(json_get_bool(v, "n", &b), 1);
    assert_int_equal(json_get_bool(v, "missing", &b), 1);
    assert_int_equal(json_get_bool(v, "s", &b), -1);
    assert_int_equal(json_get_bool(v, "i", &b), -1);
    assert_false(b);
    cJSON_Delete(v);
}

static void test_get_int(void **state)
{
    (void)state;
    cJSON *v = parse("{\"five\":5,\"neg\":-3,\"half\":1.5,\"whole\":2.0,\"exp\":1e3,\"str\":\"5\","
                     "\"null\":null,\"big\":1e300,\"safe\":9007199254740991,"
                     "\"unsafe\":9007199254740993,\"two63\":9223372036854775808,"
                     "\"min63\":-9223372036854775808,\"negzero\":-0,\"tiny\":1e-300,"
                     "\"arr\":[1]}");
    assert_non_null(v);
    int64_t n = 77;
    assert_int_equal(json_get_int(v, "missing", 0, 10, &n), 1);
    assert_int_equal(json_get_int(v, "null", 0, 10, &n), 1);
    assert_int_equal(json_get_int(v, "str", 0, 10, &n), -1);
    assert_int_equal(json_get_int(v, "arr", 0, 10, &n), -1);
    assert_int_equal(json_get_int(v, "half", 0, 10, &n), -1);
    assert_int_equal(json_get_int(v, "tiny", -10, 10, &n), -1);
    assert_int_equal(json_get_int(v, "big", INT64_MIN, INT64_MAX, &n), -1);
    assert_int_equal(json_get_int(v, "unsafe", INT64_MIN, INT64_MAX, &n), -1);
    assert_int_equal(json_get_int(v, "two63", INT64_MIN, INT64_MAX, &n), -1);
    assert_int_equal(json_get_int(v, "min63", INT64_MIN, INT64_MAX, &n), -1);
    assert_int_equal(n, 77);

    /* The range is inclusive at both ends. */
    assert_int_equal(json_get_int(v, "five", 5, 5, &n), 0);
    assert_int_equal(n, 5);
    assert_int_equal(json_get_int(v, "five", 0, 4, &n), -1);
    assert_int_equal(json_get_int(v, "five", 6, 10, &n), -1);
    assert_int_equal(json_get_int(v, "neg", 0, 10, &n), -1);
    assert_int_equal(json_get_int(v, "neg", -3, 0, &n), 0);
    assert_int_equal(n, -3);
    assert_int_equal(json_get_int(v, "whole", 0, 10, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(json_get_int(v, "exp", 0, 1000, &n), 0);
    assert_int_equal(n, 1000);
    assert_int_equal(json_get_int(v, "negzero", 0, 0, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(json_get_int(v, "safe", 0, INT64_MAX, &n), 0);
    assert_true(n == 9007199254740991LL);
    cJSON_Delete(v);
}

static void test_get_obj_arr(void **state)
{
    (void)state;
    cJSON *v = parse("{\"o\":{\"k\":1},\"a\":[],\"n\":null,\"s\":\"{}\"}");
    const cJSON *o = NULL, *a = NULL;
    assert_int_equal(json_get_obj(v, "o", &o), 0);
    assert_non_null(json_get(o, "k"));
    assert_int_equal(json_get_arr(v, "a", &a), 0);
    assert_true(cJSON_IsArray(a));
    const cJSON *x = NULL;
    assert_int_equal(json_get_obj(v, "a", &x), -1);
    assert_int_equal(json_get_arr(v, "o", &x), -1);
    assert_int_equal(json_get_obj(v, "s", &x), -1);
    assert_int_equal(json_get_obj(v, "n", &x), 1);
    assert_int_equal(json_get_arr(v, "n", &x), 1);
    assert_int_equal(json_get_arr(v, "missing", &x), 1);
    assert_null(x);
    cJSON_Delete(v);
}

static void test_print(void **state)
{
    (void)state;
    cJSON *v = parse("{ \"a\" : [ 1 , 2.5 , \"x\\\"y\" ] ,\n \"b\" : { \"c\" : null } }");
    char *s = json_print(v);
    assert_non_null(s);
    assert_string_equal(s, "{\"a\":[1,2.5,\"x\\\"y\"],\"b\":{\"c\":null}}");
    /* What it prints parses back. */
    cJSON *again = parse(s);
    assert_non_null(again);
    cJSON_Delete(again);
    free(s);
    const cJSON *b;
    assert_int_equal(json_get_obj(v, "b", &b), 0);
    s = json_print(b);
    assert_string_equal(s, "{\"c\":null}");
    free(s);
    assert_null(json_print(NULL));
    cJSON_Delete(v);
    /* A NUL inside a value prints as \u0000 again and the text parses to the same tree. */
    v = parse("{\"t\":\"a\\u0000b\\u0000\",\"u\":\"\\u00e9\"}");
    s = json_print(v);
    assert_string_equal(s, "{\"t\":\"a\\u0000b\\u0000\",\"u\":\"\xC3\xA9\"}");
    again = parse(s);
    assert_true(cJSON_Compare(v, again, true));
    cJSON_Delete(again);
    free(s);
    cJSON_Delete(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_basic),
        cmocka_unit_test(test_parse_uses_length),
        cmocka_unit_test(test_parse_nul_in_string_value),
        cmocka_unit_test(test_nul_round_trips_through_the_writer),
        cmocka_unit_test(test_parse_nul_in_key_rejected),
        cmocka_unit_test(test_parse_raw_control_chars_rejected),
        cmocka_unit_test(test_parse_trailing_garbage),
        cmocka_unit_test(test_parse_malformed),
        cmocka_unit_test(test_parse_depth_cap),
        cmocka_unit_test(test_parse_depth_zero_and_strings),
        cmocka_unit_test(test_get_case_sensitive),
        cmocka_unit_test(test_get_not_an_object),
        cmocka_unit_test(test_get_str),
        cmocka_unit_test(test_get_bool),
        cmocka_unit_test(test_get_int),
        cmocka_unit_test(test_get_obj_arr),
        cmocka_unit_test(test_print),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
