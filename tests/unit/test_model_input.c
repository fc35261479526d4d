/* Unit tests of the §16.2 converter: stored thread items -> model input items. */
#include "core/buf.h"
#include "model/input.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char *image_for(void *data, const char *id, const char *mime)
{
    (void)data, (void)mime;
    return strcmp(id, "atc_1") == 0 ? "data:image/png;base64,AAAA" : NULL;
}

static void convert(const char *const *items, size_t n, char *out, size_t outlen)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    assert_int_equal(model_input_from_items(items, n, image_for, NULL, &b), 0);
    snprintf(out, outlen, "%s", b.data);
    buf_free(&b);
}

static void test_messages_and_images(void **state)
{
    (void)state;
    const char *items[] = {
        ("{\"id\":\"m1\",\"type\":\"user_message\",\"content\":[{\"type\":\"input_text\",\"text\":"
         "\"see \"},{\"type\":\"input_tag\",\"id\":\"t\",\"text\":\"Doc\",\"data\":{\"k\":1}}],"
         "\"attachments\":[{\"id\":\"atc_1\",\"type\":\"image\",\"mime_type\":\"image/png\","
         "\"name\":\"a.png\"},{\"id\":\"atc_2\",\"type\":\"file\",\"mime_type\":"
         "\"application/pdf\",\"name\":\"b.pdf\"}],\"quoted_text\":\"old\"}"),
        "not json",
        ("{\"id\":\"m2\",\"type\":\"assistant_message\",\"content\":[{\"type\":\"output_text\","
         "\"text\":\"Hi\",\"annotations\":[{\"type\":\"annotation\"}]}]}"),
        "{\"type\":\"end_of_turn\"}",
    };
    char out[4096];
    convert(items, 4, out, sizeof out);
    assert_string_equal(
        out,
        "[{\"type\":\"message\",\"role\":\"user\",\"content\":["
        "{\"type\":\"input_text\",\"text\":\"see @Doc\"},"
        "{\"type\":\"input_image\",\"image_url\":\"data:image/png;base64,AAAA\"},"
        "{\"type\":\"input_text\",\"text\":\"The user attached a file: b.pdf "
        "(application/pdf).\"}]},"
        "{\"type\":\"message\",\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":"
        "\"# User-provided context for @-mentions\\nWhen referencing resolved entities, use their "
        "display names.\\n\\u003cTag text=\\\"Doc\\\">{\\\"k\\\":1}\\u003c/Tag>\\n\"}]},"
        "{\"type\":\"message\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\","
        "\"text\":\"Hi\"}]}]");
}

static void test_quoted_text_only_newest(void **state)
{
    (void)state;
    const char *items[] = {"{\"type\":\"user_message\",\"content\":[{\"type\":\"input_text\","
                           "\"text\":\"x\"}],\"quoted_text\":\"q\"}"};
    char out[1024];
    convert(items, 1, out, sizeof out);
    assert_non_null(strstr(out, "The user is referring to this in particular:\\nq"));
}

static void test_tools_hidden_widgets_workflows(void **state)
{
    (void)state;
    const char *items[] = {
        "{\"type\":\"client_tool_call\",\"status\":\"pending\",\"call_id\":\"c0\",\"name\":\"n\","
        "\"arguments\":{}}",
        "{\"type\":\"client_tool_call\",\"status\":\"completed\",\"call_id\":\"c1\",\"name\":"
        "\"sel\","
        "\"arguments\":{\"a\":1},\"output\":{\"ids\":[2]}}",
        "{\"type\":\"sdk_hidden_context\",\"content\":\"cancelled\"}",
        "{\"type\":\"hidden_context_item\",\"content\":{\"last\":\"t1\"}}",
        "{\"id\":\"w1\",\"type\":\"widget\",\"widget\":{\"type\":\"Card\"}}",
        "{\"type\":\"workflow\",\"workflow\":{\"type\":\"custom\",\"tasks\":[{\"type\":\"custom\","
        "\"title\":\"Looked up\",\"content\":\"3 "
        "rows\"},{\"type\":\"thought\",\"content\":\"x\"}]}}",
        "{\"type\":\"generated_image\",\"image\":{\"id\":\"i\",\"url\":\"https://x/i.png\"}}",
        "{\"type\":\"generated_image\"}",
    };
    char out[8192];
    convert(items, 8, out, sizeof out);
    assert_string_equal(
        out,
        "[{\"type\":\"function_call\",\"call_id\":\"c1\",\"name\":\"sel\",\"arguments\":"
        "\"{\\\"a\\\":1}\"},{\"type\":\"function_call_output\",\"call_id\":\"c1\",\"output\":"
        "\"{\\\"ids\\\":[2]}\"},"
        "{\"type\":\"message\",\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":"
        "\"Hidden context for the agent (not shown to the "
        "user):\\n\\u003cHiddenContext>\\ncancelled\\n"
        "\\u003c/HiddenContext>\"}]},"
        "{\"type\":\"message\",\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":"
        "\"Hidden context for the agent (not shown to the "
        "user):\\n\\u003cHiddenContext>\\n{\\\"last\\\":"
        "\\\"t1\\\"}\\n\\u003c/HiddenContext>\"}]},"
        "{\"type\":\"message\",\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":"
        "\"The following graphical UI widget (id: w1) was displayed to the user:{\\\"type\\\":"
        "\\\"Card\\\"}\"}]},"
        "{\"type\":\"message\",\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":"
        "\"A message was displayed to the user that the following task was "
        "performed:\\n\\u003cTask>\\n"
        "Looked up: 3 rows\\n\\u003c/Task>\"}]},"
        "{\"type\":\"message\",\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":"
        "\"The following image was generated by the agent.\"},{\"type\":\"input_image\","
        "\"image_url\":\"https://x/i.png\"}]}]");
}

static void test_structured_input(void **state)
{
    (void)state;
    const char *items[] = {
        "{\"type\":\"structured_input\",\"status\":\"answered\",\"inputs\":["
        "{\"id\":\"q1\",\"question\":\"Pick\",\"answer\":{\"values\":[\"A\",\"B\"]}},"
        "{\"id\":\"q2\",\"question\":\"Why\",\"answer\":{\"values\":[],\"skipped\":true}},"
        "{\"id\":\"q3\",\"question\":\"When\"}]}"};
    char out[2048];
    convert(items, 1, out, sizeof out);
    assert_non_null(strstr(out,
                           "\\u003cStructuredInput status=\\\"answered\\\">\\nQ: Pick\\nA: A, B\\n"
                           "Q: Why\\nA: skipped\\nQ: When\\nA: unanswered\\n"
                           "\\u003c/StructuredInput>"));
}

static void test_without_images(void **state)
{
    (void)state;
    const char *in = "[{\"type\":\"message\",\"role\":\"user\",\"content\":["
                     "{\"type\":\"input_text\",\"text\":\"what is this?\"},"
                     "{\"type\":\"input_image\",\"image_url\":\"data:image/png;base64,AAAA\"}]}]";
    char *out = model_input_without_images(in);
    assert_non_null(out);
    assert_null(strstr(out, "input_image"));
    assert_null(strstr(out, "data:image"));
    assert_non_null(strstr(out, "what is this?"));
    assert_non_null(strstr(out, "cannot see images"));
    free(out);
    /* nothing to change, or not an array: NULL (sent as it is) */
    assert_null(model_input_without_images("[{\"type\":\"message\",\"content\":[]}]"));
    assert_null(model_input_without_images("{\"input_image\": 1}"));
    assert_null(model_input_without_images(NULL));
}

static void test_too_big(void **state)
{
    (void)state;
    const char *items[] = {"{\"type\":\"user_message\",\"content\":[{\"type\":\"input_text\","
                           "\"text\":\"0123456789012345678901234567890123456789\"}]}"};
    struct buf b;
    buf_init(&b, 32);
    assert_int_not_equal(model_input_from_items(items, 1, NULL, NULL, &b), 0);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_messages_and_images),
        cmocka_unit_test(test_quoted_text_only_newest),
        cmocka_unit_test(test_tools_hidden_widgets_workflows),
        cmocka_unit_test(test_structured_input),
        cmocka_unit_test(test_without_images),
        cmocka_unit_test(test_too_big),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
