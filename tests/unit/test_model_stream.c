/* Unit tests of the two dialects: the Chat Completions chunk assembler (content, reasoning,
 * tool-call fragments, usage, [DONE], errors) and request translation; the Responses events. */
#include "core/buf.h"
#include "core/err.h"
#include "core/json_read.h"
#include "model/chat_compat.h"
#include "model/responses.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* What the dialect reported, as text: T(text) R0(reasoning) A(annotation) C(id,name,args). */
static struct buf seen;

static void on_text(void *d, const char *id, const char *t, size_t n)
{
    (void)d, (void)id;
    buf_appendf(&seen, "T(%.*s)", (int)n, t);
}
static void on_reason(void *d, int i, const char *t, size_t n)
{
    (void)d;
    buf_appendf(&seen, "R%d(%.*s)", i, (int)n, t);
}
static void on_annot(void *d, const char *id, const char *json)
{
    (void)d, (void)id;
    buf_appendf(&seen, "A(%s)", json);
}
static void on_tool(void *d, const char *id, const char *name, const char *args)
{
    (void)d;
    buf_appendf(&seen, "C(%s,%s,%s)", id, name, args);
}
static const struct model_call_events ev = {.text_delta = on_text,
                                            .reasoning_delta = on_reason,
                                            .annotation = on_annot,
                                            .tool_call = on_tool};

static int chat(struct chat_stream *s, const char *payload)
{
    return chat_stream_feed(s, payload, strlen(payload), &ev, NULL);
}

static int setup(void **state)
{
    (void)state;
    buf_init(&seen, 1 << 20);
    return 0;
}
static int teardown(void **state)
{
    (void)state;
    buf_free(&seen);
    return 0;
}

static void test_chat_text_and_usage(void **state)
{
    (void)state;
    struct chat_stream s;
    chat_stream_init(&s, 1024);
    assert_int_equal(chat(&s,
                          "{\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{\"role\":"
                          "\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}"),
                     0);
    assert_int_equal(chat(&s, "{\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{"
                              "\"reasoning_content\":\"hmm\"}}]}"),
                     0);
    assert_int_equal(chat(&s, "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}"), 0);
    assert_int_equal(
        chat(&s, "{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}"), 0);
    assert_int_equal(chat(&s,
                          "{\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\""
                          ":3,\"prompt_tokens_details\":{\"cached_tokens\":4},"
                          "\"completion_tokens_details\":{\"reasoning_tokens\":1}}}"),
                     0);
    assert_int_equal(chat(&s, "[DONE]"), MODEL_STREAM_END);
    struct model_call_result r;
    chat_stream_result(&s, &r);
    assert_string_equal(seen.data, "R0(hmm)T(Hi)");
    assert_string_equal(r.response_id, "chatcmpl-1");
    assert_string_equal(r.finish_reason, "stop");
    assert_int_equal(r.usage.input_tokens, 12);
    assert_int_equal(r.usage.output_tokens, 3);
    assert_int_equal(r.usage.cached_tokens, 4);
    assert_int_equal(r.usage.reasoning_tokens, 1);
    chat_stream_free(&s);
}

/* The in-place reading of plain text chunks and the full parse agree: each chunk below is fed
 * alone to a fresh stream and must report exactly what is listed (shapes the fast path reads,
 * and near misses it must leave to the full parse). */
static void test_chat_fast_chunks(void **state)
{
    (void)state;
    static const char *const cases[][3] = {
        /* payload, what is reported, the response id */
        {"{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1732,\"model\":\"m\","
         "\"system_fingerprint\":null,\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tok \"},"
         "\"logprobs\":null,\"finish_reason\":null}]}",
         "T(tok )", "c1"},
        {" { \"choices\" : [ { \"delta\" : { \"role\" : \"assistant\" , \"content\" : null } } ] "
         ", \"id\" : \"c2\" } ",
         "", "c2"},
        {"{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\\nb \\u00e9\"}}]}",
         "T(a\nb \xc3\xa9)", ""},
        {"{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\",\"content\":\"y\"}}]}", "T(x)",
         ""},
        {"{\"choices\":[{\"index\":1,\"delta\":{\"content\":\"other\"}}]}", "", ""},
        {"{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"p\"}},{\"index\":1,\"delta\":{"
         "\"content\":\"q\"}}]}",
         "T(p)", ""},
        {"{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"r\",\"reasoning_content\":\"why\"}}]"
         "}",
         "R0(why)T(r)", ""},
        {"{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"u\"}}],\"usage\":{\"prompt_tokens\""
         ":2}}",
         "T(u)", ""},
        {"{\"id\":7,\"choices\":[{\"index\":0,\"delta\":{\"content\":\"n\"}}]}", "T(n)", ""},
        {"{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"}}]}", "", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct chat_stream s;
        chat_stream_init(&s, 1024);
        buf_reset(&seen);
        assert_int_equal(chat(&s, cases[i][0]), 0);
        assert_string_equal(seen.data ? seen.data : "", cases[i][1]);
        struct model_call_result r;
        chat_stream_result(&s, &r);
        assert_string_equal(r.response_id, cases[i][2]);
        chat_stream_free(&s);
    }
    /* Malformed chunks that start like the common one are refused as before. */
    static const char *const bad[] = {
        "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}],}",
        "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]} trailing",
        "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]",
        "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\x01\"}}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct chat_stream s;
        chat_stream_init(&s, 1024);
        buf_reset(&seen);
        assert_int_equal(chat(&s, bad[i]), ERR_INVALID);
        assert_null(seen.data && seen.len ? seen.data : NULL);
        chat_stream_free(&s);
    }
}

static void test_chat_tool_fragments(void **state)
{
    (void)state;
    struct chat_stream s;
    chat_stream_init(&s, 1024);
    chat(&s,
         "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_a\","
         "\"type\":\"function\",\"function\":{\"name\":\"create_task\",\"arguments\":\"\"}}]}}]}");
    chat(&s, "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"call_b\","
             "\"function\":{\"name\":\"list_tasks\"}}]}}]}");
    chat(&s, "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{"
             "\"arguments\":\"{\\\"ti\"}}]}}]}");
    chat(&s, "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{"
             "\"arguments\":\"tle\\\":\\\"x\\\"}\"}}]}}]}");
    assert_string_equal(seen.data ? seen.data : "", "");
    assert_int_equal(chat(&s, "{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":"
                              "\"tool_calls\"}]}"),
                     0);
    assert_string_equal(seen.data,
                        "C(call_a,create_task,{\"title\":\"x\"})C(call_b,list_tasks,{})");
    assert_int_equal(chat(&s, "[DONE]"), MODEL_STREAM_END); /* reported once */
    assert_string_equal(seen.data,
                        "C(call_a,create_task,{\"title\":\"x\"})C(call_b,list_tasks,{})");
    chat_stream_free(&s);
}

static void test_chat_errors(void **state)
{
    (void)state;
    struct chat_stream s;
    chat_stream_init(&s, 8);
    assert_int_equal(chat(&s, "{\"choices\":[{\"delta\":{\"content\":\"x\"}"), ERR_INVALID);
    assert_string_equal(s.error, "the model server sent a malformed stream chunk");
    assert_int_equal(chat(&s, "{\"error\":{\"message\":\"overloaded\"}}"), ERR_UNAVAILABLE);
    assert_string_equal(s.error, "overloaded");
    assert_int_equal(
        chat(&s, "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":99}]}}]}"),
        ERR_INVALID);
    assert_int_equal(chat(&s, "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
                              "\"function\":{\"arguments\":\"0123456789\"}}]}}]}"),
                     ERR_INVALID);
    chat_stream_free(&s);
}

static void test_chat_request(void **state)
{
    (void)state;
    struct model_call_params p = {
        .model = "m",
        .instructions = "be brief",
        .input_json =
            "[{\"type\":\"message\",\"role\":\"user\",\"content\":[{\"type\":\"input_text\","
            "\"text\":"
            "\"look\"},{\"type\":\"input_image\",\"image_url\":\"data:image/png;base64,AA\"}]},"
            "{\"type\":\"message\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\","
            "\"text\":\"ok\"}]},"
            "{\"type\":\"function_call\",\"call_id\":\"c1\",\"name\":\"f\",\"arguments\":\"{}\"},"
            "{\"type\":\"function_call_output\",\"call_id\":\"c1\",\"output\":\"done\"}]",
        .tools_json = "[{\"type\":\"function\",\"name\":\"f\",\"description\":\"d\","
                      "\"parameters\":{\"type\":\"object\"}}]",
        .tool_choice = "f",
        .temperature = -1,
    };
    struct buf out;
    buf_init(&out, 1 << 16);
    char why[128];
    assert_int_equal(chat_request_build(&p, &out, why, sizeof why), 0);
    assert_string_equal(
        out.data,
        "{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"look\"},{\"type\":"
        "\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,AA\"}}]},"
        "{\"role\":\"assistant\",\"content\":\"ok\",\"tool_calls\":[{\"id\":\"c1\",\"type\":"
        "\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},"
        "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"done\"}],"
        "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"description\":\"d\","
        "\"parameters\":{\"type\":\"object\"}}}],"
        "\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"f\"}},"
        "\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
    buf_reset(&out);
    p.input_json = "{}";
    assert_int_equal(chat_request_build(&p, &out, why, sizeof why), ERR_INVALID);
    buf_free(&out);
}

static int resp(struct responses_stream *s, const char *name, const char *payload)
{
    return responses_stream_feed(s, name, payload, strlen(payload), &ev, NULL);
}

static void test_responses_events(void **state)
{
    (void)state;
    struct responses_stream s;
    responses_stream_init(&s);
    resp(&s, "response.created",
         "{\"type\":\"response.created\",\"response\":{\"id\":\"resp_1\"}}");
    resp(&s, "response.reasoning_summary_text.delta",
         "{\"item_id\":\"rs_1\",\"summary_index\":1,\"delta\":\"think\"}");
    resp(&s, "response.output_text.delta", "{\"item_id\":\"msg_1\",\"delta\":\"Hi\"}");
    resp(&s, "response.output_text.annotation.added",
         "{\"item_id\":\"msg_1\",\"annotation\":{\"type\":\"url_citation\",\"url\":\"u\"}}");
    resp(&s, "response.output_item.done",
         "{\"item\":{\"type\":\"function_call\",\"call_id\":\"c\",\"name\":\"f\",\"arguments\":"
         "\"{\\\"a\\\":1}\"}}");
    resp(&s, "", "{\"type\":\"response.output_text.delta\",\"delta\":\"!\"}"); /* unnamed */
    assert_int_equal(resp(&s, "response.completed",
                          "{\"response\":{\"usage\":{\"input_tokens\":5,\"output_tokens\":2,"
                          "\"output_tokens_details\":{\"reasoning_tokens\":1}}}}"),
                     MODEL_STREAM_END);
    assert_string_equal(seen.data, "R1(think)T(Hi)A({\"type\":\"url_citation\",\"url\":\"u\"})"
                                   "C(c,f,{\"a\":1})T(!)");
    struct model_call_result r;
    responses_stream_result(&s, &r);
    assert_string_equal(r.response_id, "resp_1");
    assert_string_equal(r.finish_reason, "tool_calls");
    assert_int_equal(r.usage.input_tokens, 5);
    assert_int_equal(r.usage.reasoning_tokens, 1);
    assert_int_equal(resp(&s, "response.failed",
                          "{\"response\":{\"error\":{\"message\":\"server_error happened\"}}}"),
                     ERR_UNAVAILABLE);
    assert_string_equal(s.error, "server_error happened");
    assert_int_equal(resp(&s, "response.output_text.delta", "not json"), ERR_INVALID);
}

static void test_responses_request(void **state)
{
    (void)state;
    struct model_call_params p = {.model = "o3",
                                  .input_json = "[]",
                                  .tool_choice = "required",
                                  .output_schema_json = "{\"type\":\"object\"}",
                                  .output_schema_name = "answer",
                                  .previous_response_id = "resp_0",
                                  .store = true,
                                  .temperature = -1,
                                  .max_output_tokens = 100};
    struct buf out;
    buf_init(&out, 1 << 16);
    char why[128];
    assert_int_equal(responses_request_build(&p, &out, why, sizeof why), 0);
    assert_string_equal(out.data,
                        "{\"model\":\"o3\",\"input\":[],\"tool_choice\":\"required\",\"text\":{"
                        "\"format\":{\"type\":\"json_schema\",\"name\":\"answer\",\"schema\":{"
                        "\"type\":\"object\"},\"strict\":true}},\"previous_response_id\":"
                        "\"resp_0\",\"store\":true,\"max_output_tokens\":100,\"reasoning\":{"
                        "\"summary\":\"auto\"},\"stream\":true}");
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_chat_text_and_usage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chat_fast_chunks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chat_tool_fragments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chat_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chat_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_responses_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_responses_request, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
