/* Unit tests of the ChatKit request decoder: every request type accepted in its documented
 * shape, and every malformed input refused with a message naming the field. */
#include "chatkit/request.h"
#include "core/err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static int decode(const char *json, struct ck_request *r, char *err)
{
    return ck_request_decode(json, strlen(json), r, err, 300);
}

#define INPUT                                                                                      \
    "\"input\":{\"content\":[{\"type\":\"input_text\",\"text\":\"Hi\"}],\"attachments\":[],"       \
    "\"inference_options\":{}}"

static void test_all_types_accepted(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        enum ck_type type;
        bool streams;
    } ok[] = {
        {"{\"type\":\"threads.create\",\"params\":{" INPUT "}}", CK_THREADS_CREATE, true},
        {"{\"type\":\"threads.add_user_message\",\"params\":{\"thread_id\":\"thr_1\"," INPUT "}}",
         CK_THREADS_ADD_USER_MESSAGE, true},
        {"{\"type\":\"threads.add_client_tool_output\",\"params\":{\"thread_id\":\"t\","
         "\"result\":null}}",
         CK_THREADS_ADD_CLIENT_TOOL_OUTPUT, true},
        {"{\"type\":\"threads.add_structured_input\",\"params\":{\"thread_id\":\"t\","
         "\"item_id\":\"si\",\"input\":{\"status\":\"answered\",\"answers\":{\"q1\":{\"values\":"
         "[\"A\"],\"skipped\":false}}}}}",
         CK_THREADS_ADD_STRUCTURED_INPUT, true},
        {"{\"type\":\"threads.retry_after_item\",\"params\":{\"thread_id\":\"t\",\"item_id\":"
         "\"m\"}}",
         CK_THREADS_RETRY_AFTER_ITEM, true},
        {"{\"type\":\"threads.custom_action\",\"params\":{\"thread_id\":\"t\",\"item_id\":null,"
         "\"action\":{\"type\":\"go\",\"payload\":{\"x\":1},\"handler\":\"server\"}}}",
         CK_THREADS_CUSTOM_ACTION, true},
        {"{\"type\":\"threads.get_by_id\",\"params\":{\"thread_id\":\"t\"}}", CK_THREADS_GET_BY_ID,
         false},
        {"{\"type\":\"threads.list\",\"params\":{}}", CK_THREADS_LIST, false},
        {"{\"type\":\"threads.update\",\"params\":{\"thread_id\":\"t\",\"title\":\"x\"}}",
         CK_THREADS_UPDATE, false},
        {"{\"type\":\"threads.delete\",\"params\":{\"thread_id\":\"t\"}}", CK_THREADS_DELETE,
         false},
        {"{\"type\":\"threads.sync_custom_action\",\"params\":{\"thread_id\":\"t\",\"item_id\":"
         "\"w\",\"action\":{\"type\":\"go\"}}}",
         CK_THREADS_SYNC_CUSTOM_ACTION, false},
        {"{\"type\":\"items.list\",\"params\":{\"thread_id\":\"t\",\"limit\":3,\"order\":\"asc\"}}",
         CK_ITEMS_LIST, false},
        {"{\"type\":\"items.feedback\",\"params\":{\"thread_id\":\"t\",\"item_ids\":[\"a\"],"
         "\"kind\":\"positive\"}}",
         CK_ITEMS_FEEDBACK, false},
        {"{\"type\":\"attachments.create\",\"params\":{\"name\":\"a.png\",\"size\":12,"
         "\"mime_type\":\"image/png\"}}",
         CK_ATTACHMENTS_CREATE, false},
        {"{\"type\":\"attachments.delete\",\"params\":{\"attachment_id\":\"atc_1\"}}",
         CK_ATTACHMENTS_DELETE, false},
        {"{\"type\":\"input.transcribe\",\"params\":{\"audio_base64\":\"aGk=\",\"mime_type\":"
         "\"audio/webm;codecs=opus\"},\"metadata\":{\"x\":1}}",
         CK_INPUT_TRANSCRIBE, false},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        struct ck_request r;
        char err[300] = "";
        int rc = decode(ok[i].json, &r, err);
        if (rc)
            fail_msg("%s: %s", ok[i].json, err);
        assert_int_equal(r.type, ok[i].type);
        assert_int_equal(r.streaming, ok[i].streams);
        ck_request_free(&r);
    }
}

static void test_defaults(void **state)
{
    (void)state;
    struct ck_request r;
    char err[300];
    assert_int_equal(decode("{\"type\":\"threads.list\",\"params\":{\"limit\":0}}", &r, err), 0);
    assert_int_equal(r.limit, 20);
    assert_true(r.desc);
    assert_null(r.after);
    ck_request_free(&r);
    assert_int_equal(decode("{\"type\":\"items.list\",\"params\":{\"thread_id\":\"t\",\"limit\":"
                            "5000,\"order\":\"asc\",\"after\":\"m1\"}}",
                            &r, err),
                     0);
    assert_int_equal(r.limit, CK_PAGE_MAX);
    assert_false(r.desc);
    assert_string_equal(r.after, "m1");
    ck_request_free(&r);
    assert_int_equal(decode("{\"type\":\"threads.add_structured_input\",\"params\":{\"thread_id\":"
                            "\"t\",\"item_id\":\"s\",\"input\":{}}}",
                            &r, err),
                     0);
    assert_string_equal(r.input_status, "answered");
    ck_request_free(&r);
}

static void test_rejections_name_the_field(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        const char *needle;
    } bad[] = {
        {"", "not valid JSON"},
        {"{", "not valid JSON"},
        {"[1]", "JSON object"},
        {"\"x\"", "JSON object"},
        {"{\"params\":{}}", "type"},
        {"{\"type\":7,\"params\":{}}", "type must be a string"},
        {"{\"type\":\"threads.nope\",\"params\":{}}", "unknown request type"},
        {"{\"type\":\"threads.list\"}", "params is required"},
        {"{\"type\":\"threads.list\",\"params\":[]}", "params is required"},
        {"{\"type\":\"threads.list\",\"params\":{},\"metadata\":3}", "metadata"},
        {"{\"type\":\"threads.create\",\"params\":{}}", "params.input"},
        {"{\"type\":\"threads.create\",\"params\":{\"input\":{\"content\":\"hi\",\"attachments\":"
         "[],\"inference_options\":{}}}}",
         "params.input.content"},
        {"{\"type\":\"threads.create\",\"params\":{\"input\":{\"content\":[{\"type\":"
         "\"input_text\"}],\"attachments\":[],\"inference_options\":{}}}}",
         "content[0].text"},
        {"{\"type\":\"threads.create\",\"params\":{\"input\":{\"content\":[{\"type\":\"image\"}],"
         "\"attachments\":[],\"inference_options\":{}}}}",
         "content[0].type"},
        {"{\"type\":\"threads.create\",\"params\":{\"input\":{\"content\":[{\"type\":\"input_tag\","
         "\"id\":\"e\",\"text\":\"t\",\"data\":3}],\"attachments\":[],\"inference_options\":{}}}}",
         "data"},
        {"{\"type\":\"threads.create\",\"params\":{\"input\":{\"content\":[{\"type\":"
         "\"input_text\",\"text\":\"x\"}],\"inference_options\":{}}}}",
         "attachments"},
        {"{\"type\":\"threads.create\",\"params\":{\"input\":{\"content\":[{\"type\":"
         "\"input_text\",\"text\":\"x\"}],\"attachments\":[3],\"inference_options\":{}}}}",
         "attachments[0]"},
        {"{\"type\":\"threads.create\",\"params\":{\"input\":{\"content\":[{\"type\":"
         "\"input_text\",\"text\":\"x\"}],\"attachments\":[]}}}",
         "inference_options"},
        {"{\"type\":\"threads.create\",\"params\":{\"input\":{\"content\":[{\"type\":"
         "\"input_text\",\"text\":\"x\"}],\"attachments\":[],\"inference_options\":null}}}",
         "inference_options"},
        {"{\"type\":\"threads.create\",\"params\":{\"input\":{\"content\":[],\"attachments\":[],"
         "\"inference_options\":{}}}}",
         "content or attachments"},
        {"{\"type\":\"threads.add_user_message\",\"params\":{" INPUT "}}", "thread_id"},
        {"{\"type\":\"threads.add_user_message\",\"params\":{\"thread_id\":5," INPUT "}}",
         "thread_id must be a string"},
        {"{\"type\":\"threads.add_client_tool_output\",\"params\":{\"thread_id\":\"t\"}}",
         "result"},
        {"{\"type\":\"threads.retry_after_item\",\"params\":{\"thread_id\":\"t\"}}", "item_id"},
        {"{\"type\":\"threads.custom_action\",\"params\":{\"thread_id\":\"t\"}}", "action"},
        {"{\"type\":\"threads.custom_action\",\"params\":{\"thread_id\":\"t\",\"action\":{}}}",
         "action.type"},
        {"{\"type\":\"threads.update\",\"params\":{\"thread_id\":\"t\"}}", "title"},
        {"{\"type\":\"threads.list\",\"params\":{\"order\":\"up\"}}", "order"},
        {"{\"type\":\"threads.list\",\"params\":{\"limit\":-1}}", "limit"},
        {"{\"type\":\"threads.list\",\"params\":{\"limit\":1.5}}", "limit"},
        {"{\"type\":\"items.feedback\",\"params\":{\"thread_id\":\"t\",\"item_ids\":[],\"kind\":"
         "\"positive\"}}",
         "item_ids"},
        {"{\"type\":\"items.feedback\",\"params\":{\"thread_id\":\"t\",\"item_ids\":[\"a\"],"
         "\"kind\":\"meh\"}}",
         "kind"},
        {"{\"type\":\"attachments.create\",\"params\":{\"name\":\"a\",\"mime_type\":\"x/y\"}}",
         "size"},
        {"{\"type\":\"threads.add_structured_input\",\"params\":{\"thread_id\":\"t\",\"item_id\":"
         "\"s\",\"input\":{\"status\":\"maybe\"}}}",
         "status"},
        {"{\"type\":\"threads.add_structured_input\",\"params\":{\"thread_id\":\"t\",\"item_id\":"
         "\"s\",\"input\":{\"answers\":{\"q\":{\"values\":[1]}}}}}",
         "values must be strings"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ck_request r;
        char err[300] = "";
        int rc = decode(bad[i].json, &r, err);
        if (rc != ERR_INVALID)
            fail_msg("accepted: %s", bad[i].json);
        if (!strstr(err, bad[i].needle))
            fail_msg("%s: message '%s' lacks '%s'", bad[i].json, err, bad[i].needle);
        assert_null(r.doc);
    }
}

static void test_unknown_fields_ignored(void **state)
{
    (void)state;
    struct ck_request r;
    char err[300];
    assert_int_equal(decode("{\"type\":\"threads.get_by_id\",\"extra\":[1,2],\"params\":{"
                            "\"thread_id\":\"t\",\"nope\":{\"a\":null}}}",
                            &r, err),
                     0);
    assert_string_equal(r.thread_id, "t");
    ck_request_free(&r);
}

static void test_nul_and_unicode_in_text(void **state)
{
    (void)state;
    const char json[] =
        "{\"type\":\"threads.create\",\"params\":{\"input\":{\"content\":[{\"type\":"
        "\"input_text\",\"text\":\"a\\u0000b \\u2028 caf\\u00e9 \xf0\x9f\x98\x80\"}],"
        "\"attachments\":[],\"inference_options\":{}}}}";
    struct ck_request r;
    char err[300];
    assert_int_equal(ck_request_decode(json, sizeof json - 1, &r, err, sizeof err), 0);
    ck_request_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_types_accepted),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_rejections_name_the_field),
        cmocka_unit_test(test_unknown_fields_ignored),
        cmocka_unit_test(test_nul_and_unicode_in_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
