/* test_template.c - the Jinja2 subset: output, comments, if/elif/else, for (with loop variables,
 * else, unpacking, loop filters), set scoping, whitespace control, the Widget Builder shape,
 * errors with line and column, and the limits. */
#include "core/err.h"
#include "core/json_read.h"
#include "workflow/template.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Renders src with data (JSON text) into a string the caller frees; fails the test on error. */
static char *render(const char *src, const char *data_json)
{
    struct wf_template *t = NULL;
    char err[256];
    int rc = wf_template_compile(src, strlen(src), &t, err, sizeof err);
    if (rc != 0)
        fail_msg("compile: %s", err);
    cJSON *data = json_parse(data_json, strlen(data_json), 32, NULL);
    assert_non_null(data);
    struct buf b;
    buf_init(&b, 1 << 20);
    rc = wf_template_render(t, data, &b, err, sizeof err);
    if (rc != 0)
        fail_msg("render: %s", err);
    size_t n;
    char *s = buf_detach(&b, &n);
    cJSON_Delete(data);
    wf_template_free(t);
    return s ? s : strdup("");
}

static void check_error(const char *src, const char *data_json, int want_rc, const char *want);

static void check(const char *src, const char *data, const char *want)
{
    char *got = render(src, data);
    if (strcmp(got, want) != 0)
        fail_msg("template %s\ngave  [%s]\nwanted [%s]", src, got, want);
    free(got);
}

/* Compile must fail, or else render must, with rc and a message containing want. */
static void check_error(const char *src, const char *data_json, int want_rc, const char *want)
{
    struct wf_template *t = NULL;
    char err[256] = "";
    int rc = wf_template_compile(src, strlen(src), &t, err, sizeof err);
    if (rc == 0) {
        cJSON *data = json_parse(data_json, strlen(data_json), 32, NULL);
        struct buf b;
        buf_init(&b, 4096);
        rc = wf_template_render(t, data, &b, err, sizeof err);
        buf_free(&b);
        cJSON_Delete(data);
        wf_template_free(t);
    } else {
        assert_null(t);
    }
    if (rc != want_rc || !strstr(err, want))
        fail_msg("%s: rc %d, '%s'; wanted %d, '%s'", src, rc, err, want_rc, want);
}

static void test_text_and_output(void **state)
{
    (void)state;
    check("", "{}", "");
    check("plain {text} } {", "{}", "plain {text} } {");
    check("Hi {{ name }}!", "{\"name\":\"Ada\"}", "Hi Ada!");
    check("{{ n }} {{ f }} {{ b }} {{ z }}|{{ missing }}|",
          "{\"n\":3,\"f\":0.5,\"b\":true,\"z\":null}", "3 0.5 True ||");
    check("{{ xs }}", "{\"xs\":[1,\"a\"]}", "[1,\"a\"]");
    check("a{# a comment {{ x }} #}b", "{}", "ab");
    check("{{ {'a': {'b': [1]}} | tojson }}}", "{}", "{\"a\":{\"b\":[1]}}}");
    check("{{ '}}' }}", "{}", "}}");
    check("line\n", "{}", "line"); /* Jinja drops one final newline */
}

static void test_if(void **state)
{
    (void)state;
    const char *t = "{% if n > 2 %}big{% elif n == 2 %}two{% elif n %}small{% else %}zero"
                    "{% endif %}";
    check(t, "{\"n\":5}", "big");
    check(t, "{\"n\":2}", "two");
    check(t, "{\"n\":1}", "small");
    check(t, "{\"n\":0}", "zero");
    check_error(t, "{}", ERR_INVALID, "line 1, column 9: '>' needs two numbers");
    check("{% if a %}{% if b %}ab{% else %}a{% endif %}{% endif %}", "{\"a\":1}", "a");
    check("{% if not x and y is defined %}ok{% endif %}", "{\"y\":0}", "ok");
}

static void test_for(void **state)
{
    (void)state;
    check("{% for x in xs %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}"
          "{{ loop.length }}{{ loop.revindex }}:{{ x }};{% endfor %}",
          "{\"xs\":[\"a\",\"b\"]}", "10TrueFalse22:a;21FalseTrue21:b;");
    check("{% for x in xs %}{{ x }}{% else %}empty{% endfor %}", "{\"xs\":[]}", "empty");
    check("{% for x in xs %}{{ x }}{% else %}empty{% endfor %}", "{}", "empty");
    check("{% for k, v in o.items() %}{{ k }}={{ v }},{% endfor %}", "{\"o\":{\"a\":1,\"b\":2}}",
          "a=1,b=2,");
    check("{% for k in o %}{{ k }}{% endfor %}", "{\"o\":{\"a\":1,\"b\":2}}", "ab");
    check("{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }} {% endfor %}", "{}", "3 7 ");
    check("{% for x in xs if x.on %}{{ x.n }}{{ ',' if not loop.last }}{% endfor %}",
          "{\"xs\":[{\"n\":1,\"on\":true},{\"n\":2},{\"n\":3,\"on\":true}]}", "1,3");
    check("{% for r in rows %}{% for c in r %}{{ loop.index }}{{ c }}{% endfor %}|{% endfor %}",
          "{\"rows\":[[\"a\",\"b\"],[\"c\"]]}", "1a2b|1c|");
    /* The loop variable shadows data; data is back after the loop. */
    check("{{ x }}{% for x in [1, 2] %}{{ x }}{% endfor %}{{ x }}", "{\"x\":\"d\"}", "d12d");
}

static void test_set_scoping(void **state)
{
    (void)state;
    check("{% set a = 1 %}{% set b = a + 1 %}{{ a }}{{ b }}", "{}", "12");
    check("{% set a = 'top' %}{% for x in [1] %}{% set a = 'inner' %}{{ a }}{% endfor %}{{ a }}",
          "{}", "innertop");
    check("{% set name = name | upper %}{{ name }}", "{\"name\":\"ada\"}", "ADA");
}

static void test_whitespace_control(void **state)
{
    (void)state;
    check("a  {{- 'b' -}}  c", "{}", "abc");
    check("[\n  {%- for x in xs %}\n  {{ x }}\n  {%- endfor %}\n]", "{\"xs\":[1,2]}",
          "[\n  1\n  2\n]");
    check("x {#- gone -#}   y", "{}", "xy");
    check("{% if true -%}   \n  yes  {%- endif %}.", "{}", "yes.");
}

static void test_widget_builder_shape(void **state)
{
    (void)state;
    /* The shape Widget Builder exports: JSON text with tojson'd values and comma handling. */
    const char *src =
        "{\"type\":\"ListView\",\"children\":[{%- for item in items -%}"
        "{\"type\":\"ListViewItem\",\"key\":{{ (item.id) | tojson }},\"children\":["
        "{\"type\":\"Text\",\"value\":{{ (item.title) | tojson }}}"
        "{%- if item.tags %},{\"type\":\"Badge\",\"label\":{{ item.tags | join(', ') | tojson }}}"
        "{%- endif -%}]}{%- if not loop.last -%},{%- endif -%}{%- endfor -%}]}";
    char *out = render(src, "{\"items\":[{\"id\":\"t1\",\"title\":\"Say \\\"hi\\\"\","
                            "\"tags\":[\"a\",\"b\"]},{\"id\":\"t2\",\"title\":\"x\"}]}");
    cJSON *w = json_parse(out, strlen(out), 32, NULL);
    if (!w)
        fail_msg("not JSON: %s", out);
    assert_string_equal(
        cJSON_GetArrayItem(cJSON_GetObjectItem(w, "children"), 1)->child->next->string, "key");
    assert_string_equal(out, "{\"type\":\"ListView\",\"children\":[{\"type\":\"ListViewItem\","
                             "\"key\":\"t1\",\"children\":[{\"type\":\"Text\",\"value\":\"Say "
                             "\\\"hi\\\"\"},{\"type\":\"Badge\",\"label\":\"a, b\"}]},{\"type\":"
                             "\"ListViewItem\",\"key\":\"t2\",\"children\":[{\"type\":\"Text\","
                             "\"value\":\"x\"}]}]}");
    cJSON_Delete(w);
    free(out);
}

static void test_errors(void **state)
{
    (void)state;
    check_error("a\nb {{ x | foo }}", "{}", ERR_INVALID, "line 2, column 10: unknown filter 'foo'");
    check_error("{% for x in xs %}\n{% endif %}", "{}", ERR_INVALID,
                "line 2, column 1: {% endif %} without a matching {% if %}");
    check_error("\n  {% for x in xs %}", "{}", ERR_INVALID,
                "line 2, column 3: {% for %} without its {% endfor %}");
    check_error("{% if a %}{% else %}{% else %}{% endif %}", "{}", ERR_INVALID,
                "{% else %} without a matching {% if %}");
    check_error("{% macro m() %}{% endmacro %}", "{}", ERR_INVALID, "unknown tag 'macro'");
    check_error("{% include 'x' %}", "{}", ERR_INVALID, "unknown tag 'include'");
    check_error("{{ x ", "{}", ERR_INVALID, "line 1, column 1: '{{' without its closing '}}'");
    check_error("{% for in xs %}{% endfor %}", "{}", ERR_INVALID, "expected {% for name in list");
    check_error("{% set x %}{% endset %}", "{}", ERR_INVALID, "block set is not supported");
    check_error("{{ }}", "{}", ERR_INVALID, "line 1, column 3: empty expression");
    check_error("{% if %}{% endif %}", "{}", ERR_INVALID, "an expression is missing");
    check_error("{% else %}", "{}", ERR_INVALID, "{% else %} without a matching {% if %}");
    check_error("x\n\n  {{ a < 'b' }}", "{\"a\":1}", ERR_INVALID,
                "line 3, column 8: '<' needs two numbers or two strings, got number and string");
    check_error("{% for x in 5 %}{% endfor %}", "{}", ERR_INVALID,
                "line 1, column 1: for needs a list or an object, got number");
    check_error("{% for a, b in [1] %}{% endfor %}", "{}", ERR_INVALID, "cannot unpack a number");
    check_error("{% if x %}\n{% for y in z %}{% else %}{% elif q %}{% endfor %}{% endif %}", "{}",
                ERR_INVALID, "line 2, column 27: {% elif %} without a matching {% if %}");
}

static void test_limits(void **state)
{
    (void)state;
    /* Output past the caller's cap. */
    struct wf_template *t = NULL;
    char err[256];
    const char *src = "{% for x in xs %}{{ x }}{% endfor %}";
    assert_int_equal(wf_template_compile(src, strlen(src), &t, err, sizeof err), 0);
    cJSON *data = cJSON_Parse("{\"xs\":[\"0123456789\",\"0123456789\"]}");
    struct buf b;
    buf_init(&b, 15);
    assert_int_equal(wf_template_render(t, data, &b, err, sizeof err), ERR_TOO_BIG);
    assert_non_null(strstr(err, "line 1, column 18: the output is larger than 15 bytes"));
    buf_free(&b);
    cJSON_Delete(data);
    wf_template_free(t);
    /* Loop iterations across nested loops. */
    src = "{% for a in xs %}{% for b in xs %}{% for c in xs %}{% endfor %}{% endfor %}"
          "{% endfor %}";
    assert_int_equal(wf_template_compile(src, strlen(src), &t, err, sizeof err), 0);
    data = cJSON_CreateObject();
    cJSON *xs = cJSON_AddArrayToObject(data, "xs");
    for (int i = 0; i < 30; i++)
        cJSON_AddItemToArray(xs, cJSON_CreateNumber(i));
    buf_init(&b, 1 << 20);
    assert_int_equal(wf_template_render(t, data, &b, err, sizeof err), ERR_TOO_BIG);
    assert_non_null(strstr(err, "loop iterations"));
    buf_free(&b);
    cJSON_Delete(data);
    wf_template_free(t);
    /* One step budget for the whole render: each iteration measures a big list. */
    src = "{% for a in xs %}{{ big | length }}{% endfor %}";
    assert_int_equal(wf_template_compile(src, strlen(src), &t, err, sizeof err), 0);
    data = cJSON_CreateObject();
    xs = cJSON_AddArrayToObject(data, "xs");
    cJSON *big = cJSON_AddArrayToObject(data, "big");
    for (int i = 0; i < 5000; i++)
        cJSON_AddItemToArray(big, cJSON_CreateNumber(i));
    for (int i = 0; i < 1000; i++)
        cJSON_AddItemToArray(xs, cJSON_CreateNumber(i));
    buf_init(&b, 1 << 20);
    assert_int_equal(wf_template_render(t, data, &b, err, sizeof err), ERR_TOO_BIG);
    if (!strstr(err, "the evaluation step budget is spent"))
        fail_msg("%s", err);
    buf_free(&b);
    cJSON_Delete(data);
    wf_template_free(t);
    /* Nesting of blocks. */
    struct buf deep;
    buf_init(&deep, 1 << 16);
    for (int i = 0; i < WF_TEMPLATE_MAX_NESTING + 2; i++)
        buf_append_str(&deep, "{% if 1 %}");
    for (int i = 0; i < WF_TEMPLATE_MAX_NESTING + 2; i++)
        buf_append_str(&deep, "{% endif %}");
    assert_int_equal(wf_template_compile(deep.data, deep.len, &t, err, sizeof err), ERR_DEPTH);
    buf_free(&deep);
    /* Size of the source. */
    char *huge = calloc(1, WF_TEMPLATE_MAX_SOURCE + 2);
    memset(huge, 'x', WF_TEMPLATE_MAX_SOURCE + 1);
    assert_int_equal(wf_template_compile(huge, WF_TEMPLATE_MAX_SOURCE + 1, &t, err, sizeof err),
                     ERR_TOO_BIG);
    free(huge);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_and_output),
        cmocka_unit_test(test_if),
        cmocka_unit_test(test_for),
        cmocka_unit_test(test_set_scoping),
        cmocka_unit_test(test_whitespace_control),
        cmocka_unit_test(test_widget_builder_shape),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
