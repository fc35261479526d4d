/* Unit tests of workflow HTTP tools against chatkitd's own HTTP server on loopback: success
 * (POST body, GET query, header from the environment), schema-checked arguments, timeouts,
 * error statuses, non-JSON and unreachable upstreams. Every call ends with one output. */
#include "core/buf.h"
#include "core/err.h"
#include "http/request.h"
#include "http/response.h"
#include "http/router.h"
#include "http/server.h"
#include "workflow/http_tool.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

struct fx {
    uv_loop_t loop;
    struct logger log;
    struct http_router router;
    struct http_server server;
    struct http_client *client;
    int port;
    struct http_request *held; /* the /slow request, answered at the end */
    /* the last call */
    bool done;
    bool ok;
    char output[4096];
};

static struct fx *F;

static void route_echo(struct http_request *req, void *data)
{
    (void)data;
    struct buf b;
    buf_init(&b, 8192);
    char city[64] = "";
    size_t alen = 0;
    const char *auth = http_request_header(req, "Authorization", &alen);
    http_request_query(req, "city", city, sizeof city);
    buf_appendf(&b, "{\"method\":\"%s\",\"auth\":\"%.*s\",\"city\":\"%s\",\"body\":%.*s}",
                req->method, (int)alen, auth ? auth : "", city,
                req->body.len ? (int)req->body.len : 4, req->body.len ? req->body.data : "null");
    http_respond_json(req, 200, &b);
    buf_free(&b);
}

static void route_fail(struct http_request *req, void *data)
{
    (void)data;
    static const char body[] = "{\"message\":\"boom\"}";
    http_respond(req, 500, "application/json", body, sizeof body - 1);
}

static void route_text(struct http_request *req, void *data)
{
    (void)data;
    http_respond(req, 200, "text/plain", "hello", 5);
}

static void route_slow(struct http_request *req, void *data)
{
    (void)data;
    F->held = req;
}

static const char *fake_env(const char *name)
{
    return strcmp(name, "TOOL_TOKEN") == 0 ? "Bearer s3cret" : NULL;
}

static int setup(void **state)
{
    (void)state;
    F = calloc(1, sizeof *F);
    uv_loop_init(&F->loop);
    log_init(&F->log, NULL, LOG_ERROR, LOG_TEXT);
    http_router_init(&F->router);
    http_router_add(&F->router, "POST", "/echo", route_echo, NULL);
    http_router_add(&F->router, "GET", "/echo", route_echo, NULL);
    http_router_add(&F->router, "POST", "/fail", route_fail, NULL);
    http_router_add(&F->router, "POST", "/text", route_text, NULL);
    http_router_add(&F->router, "POST", "/slow", route_slow, NULL);
    struct http_limits limits;
    http_limits_default(&limits);
    if (http_server_init(&F->server, &F->loop, &limits, &F->router, &F->log, false) ||
        http_server_listen(&F->server, "127.0.0.1", 0, &F->port))
        return -1;
    return http_client_new(&F->loop, &F->log, &F->client);
}

static void on_drained(void *data)
{
    (void)data;
    http_server_close(&F->server, NULL, NULL);
}

static int teardown(void **state)
{
    (void)state;
    if (F->held)
        http_respond(F->held, 200, "application/json", "{}", 2);
    http_client_free(F->client);
    http_server_drain(&F->server, on_drained, NULL);
    uv_run(&F->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&F->loop), 0);
    free(F);
    return 0;
}

static void on_tool_done(void *data, bool ok, const char *output)
{
    (void)data;
    F->done = true;
    F->ok = ok;
    snprintf(F->output, sizeof F->output, "%s", output);
}

/* Runs one call of a tool at path with args; returns the output (F->ok says how it went). */
static const char *call(const char *method, const char *path, const char *schema, const char *args,
                        int64_t timeout_ms, bool with_header)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", F->port, path);
    cJSON *params = schema ? cJSON_Parse(schema) : NULL;
    struct wf_header header = {.name = "Authorization", .env = "TOOL_TOKEN"};
    struct wf_tool tool = {.kind = WF_TOOL_HTTP,
                           .name = "probe",
                           .parameters = params,
                           .url = url,
                           .method = method,
                           .headers = with_header ? &header : NULL,
                           .nheaders = with_header ? 1 : 0,
                           .timeout_ms = timeout_ms};
    struct http_tool_config cfg = {
        .loop = &F->loop, .http = F->client, .log = &F->log, .env = fake_env};
    struct http_tool_call *c;
    F->done = false;
    assert_int_equal(http_tool_start(&cfg, &tool, args, on_tool_done, NULL, &c), 0);
    assert_false(F->done); /* never from inside the start */
    while (!F->done && uv_run(&F->loop, UV_RUN_ONCE))
        ;
    assert_true(F->done);
    cJSON_Delete(params);
    return F->output;
}

#define CITY_SCHEMA                                                                                \
    "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]" \
    "}"

static void test_post_success(void **state)
{
    (void)state;
    const char *out = call("POST", "/echo", CITY_SCHEMA, "{\"city\":\"Oslo\"}", 5000, true);
    assert_true(F->ok);
    assert_string_equal(out, "{\"method\":\"POST\",\"auth\":\"Bearer s3cret\",\"city\":\"\","
                             "\"body\":{\"city\":\"Oslo\"}}");
}

static void test_get_query(void **state)
{
    (void)state;
    const char *out =
        call("GET", "/echo", CITY_SCHEMA, "{\"city\":\"S\\u00e3o Paulo & co\"}", 5000, false);
    assert_true(F->ok);
    assert_string_equal(out, "{\"method\":\"GET\",\"auth\":\"\",\"city\":\"S\xc3\xa3o Paulo & co\","
                             "\"body\":null}");
}

static void test_bad_arguments(void **state)
{
    (void)state;
    const char *out = call("POST", "/echo", CITY_SCHEMA, "{\"city\":7}", 5000, false);
    assert_false(F->ok);
    assert_non_null(strstr(out, "{\"error\":\"invalid arguments: $.city"));
    out = call("POST", "/echo", CITY_SCHEMA, "[1,2]", 5000, false);
    assert_string_equal(out, "{\"error\":\"the arguments are not a JSON object\"}");
    out = call("POST", "/echo", CITY_SCHEMA, "{\"city\":", 5000, false);
    assert_string_equal(out, "{\"error\":\"the arguments are not a JSON object\"}");
}

static void test_timeout(void **state)
{
    (void)state;
    const char *out = call("POST", "/slow", NULL, "{}", 300, false);
    assert_false(F->ok);
    assert_string_equal(out, "{\"error\":\"the tool did not answer within 300 ms\"}");
}

static void test_error_answers(void **state)
{
    (void)state;
    const char *out = call("POST", "/fail", NULL, "{}", 5000, false);
    assert_false(F->ok);
    assert_string_equal(
        out, "{\"error\":\"the tool answered HTTP 500\",\"answer\":{\"message\":\"boom\"}}");
    out = call("POST", "/text", NULL, "{}", 5000, false);
    assert_string_equal(out, "{\"error\":\"the tool answered HTTP 200 with a body that is not "
                             "JSON\"}");
    out = call("POST", "/nowhere", NULL, "{}", 5000, false);
    assert_non_null(strstr(out, "the tool answered HTTP 404"));
}

static void test_missing_header_variable(void **state)
{
    (void)state;
    struct wf_header header = {.name = "X-Key", .env = "UNSET_VARIABLE"};
    struct wf_tool tool = {.kind = WF_TOOL_HTTP,
                           .name = "probe",
                           .url = "http://127.0.0.1:9/",
                           .method = "POST",
                           .headers = &header,
                           .nheaders = 1,
                           .timeout_ms = 1000};
    struct http_tool_config cfg = {
        .loop = &F->loop, .http = F->client, .log = &F->log, .env = fake_env};
    struct http_tool_call *c;
    F->done = false;
    assert_int_equal(http_tool_start(&cfg, &tool, "{}", on_tool_done, NULL, &c), 0);
    while (!F->done && uv_run(&F->loop, UV_RUN_ONCE))
        ;
    assert_string_equal(F->output, "{\"error\":\"the tool is not configured: the environment "
                                   "variable UNSET_VARIABLE is not set\"}");
}

static void test_unreachable_and_cancel(void **state)
{
    (void)state;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/slow", F->port);
    /* Port 1 on loopback refuses the connection. */
    struct wf_tool tool = {.kind = WF_TOOL_HTTP,
                           .name = "probe",
                           .url = "http://127.0.0.1:1/x",
                           .method = "POST",
                           .timeout_ms = 2000};
    struct http_tool_config cfg = {
        .loop = &F->loop, .http = F->client, .log = &F->log, .env = fake_env};
    struct http_tool_call *c;
    F->done = false;
    assert_int_equal(http_tool_start(&cfg, &tool, "{}", on_tool_done, NULL, &c), 0);
    while (!F->done && uv_run(&F->loop, UV_RUN_ONCE))
        ;
    assert_false(F->ok);
    assert_non_null(strstr(F->output, "{\"error\":\"the tool could not be reached: "));
    /* A cancelled call never reports. */
    tool.url = url;
    F->done = false;
    assert_int_equal(http_tool_start(&cfg, &tool, "{}", on_tool_done, NULL, &c), 0);
    for (int i = 0; i < 20; i++)
        uv_run(&F->loop, UV_RUN_NOWAIT);
    http_tool_cancel(c);
    for (int i = 0; i < 20; i++)
        uv_run(&F->loop, UV_RUN_NOWAIT);
    assert_false(F->done);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_post_success, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_query, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_header_variable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreachable_and_cancel, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
