/* test_widget_file.c - .widget files: the example task card loads, renders what its preview shows
 * and rejects bad data; broken files are refused with messages naming the field and place. */
#include "core/err.h"
#include "core/json_read.h"
#include "workflow/widget_file.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define EXAMPLE "examples/widgets/task_card.widget"

/* The example, found from the repository root (scripts/test) or from the build directory, whose
 * path meson puts into __FILE__ ("../tests/unit/test_widget_file.c"). */
static struct widget_file *load_example(char *err, size_t errlen)
{
    char path[1024];
    const char *me = __FILE__, *cut = strstr(me, "tests/unit/");
    struct widget_file *w = NULL;
    if (widget_file_load(EXAMPLE, &w, err, errlen) == 0)
        return w;
    snprintf(path, sizeof path, "%.*s%s", (int)(cut ? cut - me : 0), me, EXAMPLE);
    if (widget_file_load(path, &w, err, errlen) == 0)
        return w;
    fail_msg("cannot load the example: %s", err);
    return NULL;
}

static const char *const sample =
    "{\"task\":{\"id\":\"task_0123456789abcdef0123456789abcdef\",\"title\":\"Call mum\","
    "\"notes\":\"About the \\\"weekend\\\" plans\",\"done\":false,\"due_label\":\"Today, 5:00 PM\","
    "\"due_color\":\"warning\",\"priority\":\"high\",\"tags\":[\"family\",\"phone\"]}}";

static cJSON *parse(const char *s)
{
    cJSON *v = json_parse(s, strlen(s), 64, NULL);
    assert_non_null(v);
    return v;
}

/* Renders data (JSON text) with w and returns the widget as compact JSON (caller frees). */
static char *render_text(const struct widget_file *w, const char *data_json)
{
    char err[512];
    cJSON *data = parse(data_json), *out = NULL;
    if (widget_file_render(w, data, &out, err, sizeof err) != 0)
        fail_msg("render %s: %s", data_json, err);
    char *text = json_print(out);
    cJSON_Delete(out);
    cJSON_Delete(data);
    return text;
}

static void test_example_renders_its_preview(void **state)
{
    (void)state;
    char err[512];
    struct widget_file *w = load_example(err, sizeof err);
    assert_string_equal(widget_file_name(w), "Task card");
    assert_non_null(cJSON_GetObjectItemCaseSensitive(widget_file_schema(w), "properties"));
    cJSON *data = parse(sample), *out = NULL;
    int rc = widget_file_render(w, data, &out, err, sizeof err);
    if (rc != 0)
        fail_msg("render: %s", err);
    /* The preview in the file is this very render. */
    char *text = NULL;
    FILE *f = fopen(EXAMPLE, "rb");
    if (f) {
        static char file[65536];
        size_t n = fread(file, 1, sizeof file - 1, f);
        fclose(f);
        cJSON *doc = json_parse(file, n, 64, NULL);
        assert_true(cJSON_Compare(cJSON_GetObjectItem(doc, "outputJsonPreview"), out, true));
        cJSON_Delete(doc);
    }
    text = json_print(out);
    assert_non_null(strstr(text, "\"key\":\"task_0123456789abcdef0123456789abcdef\""));
    assert_non_null(strstr(text, "\"label\":\"#family\""));
    assert_non_null(strstr(text, "\"type\":\"task.complete\""));
    assert_non_null(strstr(text, "About the \\\"weekend\\\" plans"));
    free(text);
    cJSON_Delete(out);
    cJSON_Delete(data);
    /* A done task without optional fields: Reopen, no notes, no badge row. */
    text = render_text(w, "{\"task\":{\"id\":\"task_0123456789abcdef0123456789abcdef\","
                          "\"title\":\"x\",\"done\":true}}");
    assert_non_null(strstr(text, "\"type\":\"task.reopen\""));
    assert_non_null(strstr(text, "\"lineThrough\":true"));
    assert_null(strstr(text, "Badge"));
    free(text);
    /* Tags alone still get their badge row. */
    text = render_text(w, "{\"task\":{\"id\":\"task_0123456789abcdef0123456789abcdef\","
                          "\"title\":\"x\",\"done\":false,\"priority\":\"normal\","
                          "\"tags\":[\"a\"]}}");
    assert_non_null(strstr(text, "\"children\":[{\"type\":\"Badge\",\"label\":\"#a\""));
    free(text);
    widget_file_free(w);
}

static void test_example_rejects_bad_data(void **state)
{
    (void)state;
    char err[512];
    struct widget_file *w = load_example(err, sizeof err);
    static const struct {
        const char *data, *want;
    } cases[] = {
        {"{}", "data: $: missing required property 'task'"},
        {"{\"task\":{\"id\":\"t1\",\"title\":\"x\",\"done\":false}}",
         "data: $.task.id: must match the pattern"},
        {"{\"task\":{\"id\":\"task_0123456789abcdef0123456789abcdef\",\"title\":\"x\",\"done\":"
         "false,"
         "\"priority\":\"urgent\"}}",
         "data: $.task.priority: must be one of \"low\", \"normal\", \"high\""},
        {"{\"task\":{\"id\":\"task_0123456789abcdef0123456789abcdef\",\"title\":\"\",\"done\":0}}",
         "data: $.task.title: must be at least 1 characters long"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *data = parse(cases[i].data), *out = NULL;
        assert_int_equal(widget_file_render(w, data, &out, err, sizeof err), ERR_INVALID);
        assert_null(out);
        if (!strstr(err, cases[i].want))
            fail_msg("%s: '%s', wanted '%s'", cases[i].data, err, cases[i].want);
        cJSON_Delete(data);
    }
    widget_file_free(w);
}

/* Parses a file's text; want NULL means it must load. */
static struct widget_file *parse_file(const char *text, int want_rc, const char *want)
{
    struct widget_file *w = NULL;
    char err[512] = "";
    int rc = widget_file_parse("t.widget", text, strlen(text), &w, err, sizeof err);
    if (rc != want_rc || (want && !strstr(err, want)))
        fail_msg("%s\nrc %d '%s', wanted %d '%s'", text, rc, err, want_rc, want ? want : "");
    return w;
}

static void test_broken_files(void **state)
{
    (void)state;
    parse_file("{", ERR_INVALID, "t.widget: not valid JSON (stopped at byte");
    parse_file("[]", ERR_INVALID, "t.widget: must be a JSON object");
    parse_file("{\"name\":\"x\",\"template\":\"\"}", ERR_INVALID,
               "t.widget: version: must be \"1.0\"");
    parse_file("{\"version\":\"2.0\",\"name\":\"x\",\"template\":\"\"}", ERR_INVALID, "version");
    parse_file("{\"version\":\"1.0\",\"template\":\"\"}", ERR_INVALID, "t.widget: name:");
    parse_file("{\"version\":\"1.0\",\"name\":\"x\"}", ERR_INVALID, "t.widget: template: must be");
    parse_file("{\"version\":\"1.0\",\"name\":\"x\",\"template\":\"{\\n {{ a | tojsn }}}\"}",
               ERR_INVALID, "t.widget: template: line 2, column 9: unknown filter 'tojsn'");
    parse_file("{\"version\":\"1.0\",\"name\":\"x\",\"template\":\"\",\"jsonSchema\":{\"type\":"
               "\"object\",\"patternProperties\":{}}}",
               ERR_INVALID, "t.widget: jsonSchema: $: unsupported keyword 'patternProperties'");
    parse_file("{\"version\":\"1.0\",\"name\":\"x\",\"template\":\"\",\"jsonSchema\":[]}",
               ERR_INVALID, "t.widget: jsonSchema: must be an object");
    parse_file(
        "{\"version\":\"1.0\",\"name\":\"x\",\"template\":\"\",\"outputJsonPreview\":"
        "{\"type\":\"Card\",\"children\":[{\"type\":\"Text\",\"value\":\"a\",\"size\":\"xxl\"}]}}",
        ERR_INVALID,
        "t.widget: outputJsonPreview: $.children[0].size: must be one of xs, sm, md, lg, xl");
    struct widget_file *w = NULL;
    char err[256];
    assert_int_equal(widget_file_load("/nonexistent/x.widget", &w, err, sizeof err), ERR_IO);
    assert_non_null(strstr(err, "/nonexistent/x.widget: "));
    assert_null(w);
}

static void test_render_errors(void **state)
{
    (void)state;
    char err[512];
    cJSON *out = NULL;
    /* Without tojson a string value is not JSON; the message says where and why. */
    struct widget_file *w = parse_file(
        "{\"version\":\"1.0\",\"name\":\"x\",\"encodedWidget\":\"abc\",\"copy_text\":\"c\","
        "\"template\":\"{\\\"type\\\":\\\"Card\\\",\\\"children\\\":[\\n{\\\"type\\\":\\\"Text\\\","
        "\\\"value\\\":{{ title }}}]}\"}",
        0, NULL);
    cJSON *data = parse("{\"title\":\"Hello\"}");
    assert_int_equal(widget_file_render(w, data, &out, err, sizeof err), ERR_INVALID);
    assert_non_null(strstr(err, "output is not JSON (line 2, column 24 of the rendered text"));
    assert_non_null(strstr(err, "tojson"));
    cJSON_Delete(data);
    widget_file_free(w);
    /* Valid JSON that is not a valid widget. */
    w = parse_file(
        "{\"version\":\"1.0\",\"name\":\"x\",\"template\":\"{\\\"type\\\":\\\"Card\\\","
        "\\\"children\\\":[{\\\"type\\\":\\\"Badge\\\",\\\"label\\\":\\\"b\\\",\\\"color\\\":"
        "{{ c | tojson }}}]}\"}",
        0, NULL);
    data = parse("{\"c\":\"purple\"}");
    assert_int_equal(widget_file_render(w, data, &out, err, sizeof err), ERR_INVALID);
    assert_non_null(strstr(err, "widget: $.children[0].color: must be one of secondary"));
    cJSON_Delete(data);
    /* Template type errors name the template line. */
    data = parse("{\"c\":{\"a\":1}}");
    widget_file_free(w);
    w = parse_file("{\"version\":\"1.0\",\"name\":\"x\",\"template\":\"\\n{{ c < 1 }}\"}", 0, NULL);
    assert_int_equal(widget_file_render(w, data, &out, err, sizeof err), ERR_INVALID);
    assert_non_null(strstr(err, "template: line 2, column 6: '<' needs two numbers"));
    cJSON_Delete(data);
    /* NULL data is an empty object: c is missing, so null. */
    assert_int_equal(widget_file_render(w, NULL, &out, err, sizeof err), ERR_INVALID);
    assert_non_null(strstr(err, "template: line 2, column 6: '<' needs two numbers or two "
                                "strings, got null and number"));
    widget_file_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_renders_its_preview),
        cmocka_unit_test(test_example_rejects_bad_data),
        cmocka_unit_test(test_broken_files),
        cmocka_unit_test(test_render_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
