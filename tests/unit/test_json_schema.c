/* test_json_schema.c - the JSON Schema subset: each keyword accepting and refusing, paths in
 * messages, $ref (including cycles), combinators, and load-time schema validation. */
#include "core/err.h"
#include "core/json_read.h"
#include "workflow/json_schema.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static cJSON *parse(const char *s)
{
    cJSON *v = json_parse(s, strlen(s), 64, NULL);
    if (!v)
        fail_msg("bad JSON in test: %s", s);
    return v;
}

/* Checks value against schema: want NULL means it must pass, else the message must contain it. */
static void check(const char *schema, const char *value, const char *want)
{
    cJSON *s = parse(schema), *v = parse(value);
    char err[512] = "";
    int rc = json_schema_validate_schema(s, err, sizeof err);
    if (rc != 0)
        fail_msg("schema %s refused: %s", schema, err);
    rc = json_schema_check(s, v, err, sizeof err);
    if (!want && rc != 0)
        fail_msg("%s against %s: %s", value, schema, err);
    if (want && (rc == 0 || !strstr(err, want)))
        fail_msg("%s against %s: rc %d '%s', wanted '%s'", value, schema, rc, err, want);
    cJSON_Delete(s);
    cJSON_Delete(v);
}

static void check_schema(const char *schema, const char *want)
{
    cJSON *s = parse(schema);
    char err[512] = "";
    int rc = json_schema_validate_schema(s, err, sizeof err);
    if (!want && rc != 0)
        fail_msg("schema %s refused: %s", schema, err);
    if (want && (rc != ERR_INVALID || !strstr(err, want)))
        fail_msg("schema %s: rc %d '%s', wanted '%s'", schema, rc, err, want);
    cJSON_Delete(s);
}

static void test_types(void **state)
{
    (void)state;
    check("{\"type\":\"string\"}", "\"x\"", NULL);
    check("{\"type\":\"string\"}", "3", "$: expected string, got number");
    check("{\"type\":\"integer\"}", "3", NULL);
    check("{\"type\":\"integer\"}", "3.5", "expected integer, got number");
    check("{\"type\":\"number\"}", "3.5", NULL);
    check("{\"type\":\"array\"}", "[]", NULL);
    check("{\"type\":\"object\"}", "[]", "expected object, got array");
    check("{\"type\":[\"string\",\"null\"]}", "null", NULL);
    check("{\"type\":[\"string\",\"null\"]}", "true", "expected one of string, null, got boolean");
    check("{\"type\":\"string\",\"nullable\":true}", "null", NULL);
    check("true", "{\"anything\":1}", NULL);
    check("false", "1", "no value is allowed here");
    check("{}", "[1,{}]", NULL);
}

static void test_objects(void **state)
{
    (void)state;
    const char *s = "{\"type\":\"object\",\"properties\":{\"title\":{\"type\":\"string\","
                    "\"minLength\":1,\"maxLength\":5},\"priority\":{\"enum\":[\"low\",\"normal\","
                    "\"high\"]},\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},"
                    "\"maxItems\":2,\"uniqueItems\":true}},\"required\":[\"title\"],"
                    "\"additionalProperties\":false}";
    check(s, "{\"title\":\"Milk\",\"priority\":\"low\",\"tags\":[\"a\",\"b\"]}", NULL);
    check(s, "{}", "$: missing required property 'title'");
    check(s, "{\"title\":\"\"}", "$.title: must be at least 1 characters long");
    check(s, "{\"title\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}", NULL); /* 5 code points */
    check(s, "{\"title\":\"toolong\"}", "$.title: must be at most 5 characters long");
    check(s, "{\"title\":\"a\",\"priority\":\"urgent\"}",
          "$.priority: must be one of \"low\", \"normal\", \"high\"");
    check(s, "{\"title\":\"a\",\"tags\":[\"x\",3]}", "$.tags[1]: expected string, got number");
    check(s, "{\"title\":\"a\",\"tags\":[\"x\",\"x\"]}", "items must be unique");
    check(s, "{\"title\":\"a\",\"tags\":[\"x\",\"y\",\"z\"]}", "allows at most 2 items, has 3");
    check(s, "{\"title\":\"a\",\"colour\":1}", "$: unexpected property 'colour'");
    check("{\"additionalProperties\":{\"type\":\"number\"}}", "{\"a b\":\"x\"}",
          "$[\"a b\"]: expected number, got string");
    check("{\"minProperties\":1}", "{}", "needs at least 1 properties");
}

static void test_numbers_strings(void **state)
{
    (void)state;
    check("{\"minimum\":1,\"maximum\":5}", "5", NULL);
    check("{\"minimum\":1,\"maximum\":5}", "0", "must be at least 1");
    check("{\"minimum\":1,\"maximum\":5}", "6", "must be at most 5");
    check("{\"exclusiveMinimum\":1}", "1", "must be greater than 1");
    check("{\"exclusiveMaximum\":1}", "0.5", NULL);
    check("{\"minimum\":1,\"exclusiveMinimum\":true}", "1", "must be greater than 1");
    check("{\"multipleOf\":0.5}", "2.5", NULL);
    check("{\"multipleOf\":2}", "3", "must be a multiple of 2");
    check("{\"pattern\":\"^[0-9]{4}-[0-9]{2}-[0-9]{2}$\"}", "\"2026-12-05\"", NULL);
    check("{\"pattern\":\"^[0-9]{4}-[0-9]{2}-[0-9]{2}$\"}", "\"tomorrow\"",
          "must match the pattern");
    check("{\"minLength\":3}", "42", NULL); /* string keywords ignore numbers */
    check("{\"const\":\"x\"}", "\"y\"", "must be \"x\"");
}

static void test_refs_and_combinators(void **state)
{
    (void)state;
    const char *s =
        "{\"$defs\":{\"task\":{\"type\":\"object\",\"properties\":{\"id\":{\"type\":"
        "\"string\"},\"sub\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/task\"}}},"
        "\"required\":[\"id\"]}},\"$ref\":\"#/$defs/task\"}";
    check(s, "{\"id\":\"a\",\"sub\":[{\"id\":\"b\",\"sub\":[{\"id\":\"c\"}]}]}", NULL);
    check(s, "{\"id\":\"a\",\"sub\":[{\"id\":\"b\",\"sub\":[{}]}]}",
          "$.sub[0].sub[0]: missing required property 'id'");
    check("{\"definitions\":{\"a~1b\":{\"type\":\"string\"}},\"$ref\":\"#/definitions/a~01b\"}",
          "1", "$: expected string, got number"); /* ~0 is ~: the ref resolves */
    /* A schema that refers to itself with no progress stops at the bound. */
    cJSON *loop = parse("{\"$ref\":\"#\"}"), *v = parse("1");
    char err[256];
    assert_int_equal(json_schema_check(loop, v, err, sizeof err), ERR_DEPTH);
    cJSON_Delete(loop);
    cJSON_Delete(v);
    const char *any = "{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\",\"minimum\":0}]}";
    check(any, "\"x\"", NULL);
    check(any, "3", NULL);
    check(any, "-3", "matches none of the 2 alternatives (the first: $: expected string");
    const char *one = "{\"oneOf\":[{\"type\":\"number\"},{\"type\":\"integer\"}]}";
    check(one, "1.5", NULL);
    check(one, "2", "must match exactly one of 2 alternatives, matches 2");
    check("{\"allOf\":[{\"type\":\"number\"},{\"minimum\":3}]}", "2", "must be at least 3");
    check("{\"not\":{\"type\":\"null\"}}", "null", "must not match");
    check("{\"not\":{\"type\":\"null\"}}", "0", NULL);
}

static void test_validate_schema(void **state)
{
    (void)state;
    check_schema("{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"title\":\"T\","
                 "\"description\":\"d\",\"type\":\"object\",\"properties\":{\"due\":{\"type\":"
                 "\"string\",\"format\":\"date\",\"default\":\"\",\"examples\":[\"x\"]}}}",
                 NULL);
    check_schema("{\"properties\":{\"due\":{\"type\":\"date\"}}}",
                 "$.properties.due.type: unknown type 'date'");
    check_schema("{\"items\":{\"prefixItems\":[]}}", "$.items: unsupported keyword 'prefixItems'");
    check_schema("{\"required\":\"title\"}", "$.required: must be a list of names");
    check_schema("{\"minLength\":-1}", "$.minLength: must be a whole number >= 0");
    check_schema("{\"pattern\":\"(\"}", "$.pattern: must be a valid");
    check_schema("{\"$ref\":\"#/$defs/nope\"}", "$.$ref: must be a local reference that resolves");
    check_schema("{\"$ref\":\"http://x/y\"}", "must be a local reference");
    check_schema("{\"anyOf\":[]}", "$.anyOf: must be a non-empty list of schemas");
    check_schema("{\"anyOf\":[{\"type\":1}]}", "$.anyOf[0].type: must be a type name");
    check_schema("{\"enum\":[]}", "must be a non-empty list");
    check_schema("[]", "a schema must be an object or a boolean");
    check_schema("{\"if\":{}}", "unsupported keyword 'if'");
}

static void test_depth(void **state)
{
    (void)state;
    char buf[4096];
    size_t n = 0;
    for (int i = 0; i < JSON_SCHEMA_MAX_DEPTH + 3; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "{\"items\":");
    n += (size_t)snprintf(buf + n, sizeof buf - n, "true");
    for (int i = 0; i < JSON_SCHEMA_MAX_DEPTH + 3; i++)
        buf[n++] = '}';
    buf[n] = '\0';
    cJSON *s = cJSON_ParseWithLength(buf, n);
    char err[256];
    assert_int_equal(json_schema_validate_schema(s, err, sizeof err), ERR_DEPTH);
    cJSON_Delete(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types),           cmocka_unit_test(test_objects),
        cmocka_unit_test(test_numbers_strings), cmocka_unit_test(test_refs_and_combinators),
        cmocka_unit_test(test_validate_schema), cmocka_unit_test(test_depth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
