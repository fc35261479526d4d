/* Unit tests of workflow files: parsing, every validation error (each one line
 * "file: json-path: reason"), the set of loaded versions, and the embedded default. */
#include "core/err.h"
#include "workflow/runtime.h"
#include "workflow/workflow.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#define GOOD                                                                                       \
    "{\"id\":\"wf_t\",\"version\":\"1\",\"name\":\"T\","                                           \
    "\"state_variables\":{\"n\":{\"type\":\"number\",\"default\":0}},"                             \
    "\"nodes\":[{\"id\":\"start\",\"type\":\"start\"},"                                            \
    "{\"id\":\"set\",\"type\":\"set_state\",\"assign\":[{\"variable\":\"n\",\"value\":2}]},"       \
    "{\"id\":\"a\",\"type\":\"agent\",\"model\":\"openai:gpt-4.1\",\"tools\":[\"list_tasks\","     \
    "{\"type\":\"http\",\"name\":\"weather\",\"url\":\"https://x.example/w\","                     \
    "\"parameters\":{\"type\":\"object\"},\"headers\":{\"Authorization\":{\"env\":\"W_KEY\"}}}],"  \
    "\"output\":{\"type\":\"json_schema\",\"schema\":{\"type\":\"object\"}}},"                     \
    "{\"id\":\"ok\",\"type\":\"user_approval\",\"title\":\"Go?\"},"                                \
    "{\"id\":\"yes\",\"type\":\"end\",\"message\":\"done\"},{\"id\":\"no\",\"type\":\"end\"}],"    \
    "\"edges\":[{\"from\":\"start\",\"to\":\"set\"},{\"from\":\"set\",\"to\":\"a\"},"              \
    "{\"from\":\"a\",\"to\":\"ok\"},{\"from\":\"ok\",\"to\":\"yes\",\"on\":\"approve\"},"          \
    "{\"from\":\"ok\",\"to\":\"no\",\"on\":\"reject\"}]}"

/* Parses text as f.json; returns the error text (static) or NULL when it loaded. */
static const char *errors_of(const char *text)
{
    static char out[WF_ERRORS_MAX];
    struct buf errors;
    buf_init(&errors, WF_ERRORS_MAX);
    struct workflow *w = NULL;
    int rc = workflow_parse("f.json", text, strlen(text), &w, &errors);
    snprintf(out, sizeof out, "%s", errors.data ? errors.data : "");
    buf_free(&errors);
    if (rc == 0) {
        assert_non_null(w);
        assert_string_equal(out, "");
        workflow_unref(w);
        return NULL;
    }
    assert_int_equal(rc, ERR_INVALID);
    assert_null(w);
    /* Every line is "f.json: $...: reason". */
    for (const char *line = out; *line;) {
        const char *nl = strchr(line, '\n');
        assert_non_null(nl);
        assert_true(strncmp(line, "f.json: $", 9) == 0);
        const char *sep = strstr(line + 9, ": ");
        assert_true(sep && sep < nl && sep + 2 < nl);
        line = nl + 1;
    }
    return out;
}

/* GOOD with the first occurrence of from replaced by to. */
static const char *mutate(const char *from, const char *to)
{
    static char doc[8192];
    const char *at = strstr(GOOD, from);
    assert_non_null(at);
    snprintf(doc, sizeof doc, "%.*s%s%s", (int)(at - GOOD), GOOD, to, at + strlen(from));
    return doc;
}

static void expect(const char *from, const char *to, const char *line)
{
    const char *errs = errors_of(mutate(from, to));
    if (!errs || !strstr(errs, line))
        fail_msg("expected '%s' in:\n%s", line, errs ? errs : "(loaded)");
}

static void test_good(void **state)
{
    (void)state;
    struct buf errors;
    buf_init(&errors, WF_ERRORS_MAX);
    struct workflow *w;
    assert_int_equal(workflow_parse("f.json", GOOD, strlen(GOOD), &w, &errors), 0);
    assert_string_equal(w->id, "wf_t");
    assert_int_equal(w->nnodes, 6);
    const struct wf_node *a = &w->nodes[workflow_node_index(w, "a")];
    assert_int_equal(a->kind, WF_AGENT);
    assert_int_equal(a->ntools, 2);
    assert_int_equal(a->tools[0].kind, WF_TOOL_TASK);
    assert_int_equal(a->tools[1].kind, WF_TOOL_HTTP);
    assert_string_equal(a->tools[1].method, "POST");
    assert_int_equal(a->tools[1].timeout_ms, WF_HTTP_TIMEOUT_MS);
    assert_string_equal(a->tools[1].headers[0].env, "W_KEY");
    assert_int_equal(a->output, WF_OUTPUT_JSON);
    assert_true(a->history);
    assert_int_equal(a->max_steps, WF_DEFAULT_STEPS);
    const struct wf_node *ok = &w->nodes[workflow_node_index(w, "ok")];
    assert_string_equal(w->nodes[ok->next].id, "yes");
    assert_string_equal(w->nodes[ok->alt].id, "no");
    cJSON *st = workflow_default_state(w);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(st, "n")->valueint, 0);
    cJSON_Delete(st);
    workflow_unref(w);
    buf_free(&errors);
}

static void test_root_errors(void **state)
{
    (void)state;
    assert_non_null(strstr(errors_of("{\"id\":"), "f.json: $: not valid JSON"));
    assert_non_null(strstr(errors_of("[1]"), "f.json: $: must be a JSON object"));
    expect("\"id\":\"wf_t\"", "\"id\":\"t\"", "f.json: $.id: must be wf_ followed by");
    expect("\"id\":\"wf_t\"", "\"id\":7", "f.json: $.id: must be a string");
    expect("\"version\":\"1\"", "\"version\":1", "f.json: $.version: must be a string of 1 to 64");
    expect("\"name\":\"T\",", "", "f.json: $.name: is required");
    expect("\"nodes\":[", "\"nodes\":7,\"x\":[", "f.json: $.nodes: must be an array of 1 to");
    expect("\"edges\":[", "\"edges\":{},\"x\":[", "f.json: $.edges: must be an array");
}

static void test_var_errors(void **state)
{
    (void)state;
    expect("\"default\":0", "\"default\":\"0\"",
           "f.json: $.state_variables.n.default: must be a number");
    expect("\"type\":\"number\",", "\"type\":\"int\",",
           "f.json: $.state_variables.n.type: must be string, number, boolean, object or array");
    expect(",\"default\":0", "", "f.json: $.state_variables.n.default: is required");
    expect("\"state_variables\":{\"n\":", "\"state_variables\":{\"9n\":",
           "f.json: $.state_variables.9n: a variable name is");
    expect("\"state_variables\":{", "\"state_variables\":[],\"x\":{",
           "f.json: $.state_variables: must be an object");
    expect("\"value\":2", "\"value\":\"two\"",
           "f.json: $.nodes[1].assign[0].value: must be a number (the type of 'n')");
    expect("\"variable\":\"n\"", "\"variable\":\"m\"",
           "f.json: $.nodes[1].assign[0].variable: 'm' is not a declared state variable");
    expect(",\"value\":2", "", "f.json: $.nodes[1].assign[0]: needs exactly one of value and");
    expect("\"assign\":[", "\"assign\":[],\"x\":[",
           "f.json: $.nodes[1].assign: must be a non-empty");
}

static void test_node_errors(void **state)
{
    (void)state;
    expect("\"model\":\"openai:gpt-4.1\"", "\"model\":\"gpt-4.1\"",
           "f.json: $.nodes[2].model: 'gpt-4.1' is not builtin:tasks");
    expect("\"model\":\"openai:gpt-4.1\"", "\"model\":\"compat:x\"",
           "f.json: $.nodes[2].model: 'compat:x' is not");
    expect("\"model\":\"openai:gpt-4.1\",", "", "f.json: $.nodes[2].model: is required");
    expect("\"type\":\"set_state\"", "\"type\":\"loop\"",
           "f.json: $.nodes[1].type: 'loop' is not start, agent");
    expect("{\"id\":\"set\"", "{\"id\":\"a\"", "f.json: $.nodes[2].id: a second node with id 'a'");
    expect("{\"id\":\"start\",\"type\":\"start\"}", "{\"id\":\"s0\",\"type\":\"end\"}",
           "f.json: $.nodes: a workflow needs a start node");
    expect("\"title\":\"Go?\"", "\"titel\":\"Go?\"", "f.json: $.nodes[3].title: is required");
    expect("\"tools\":[", "\"max_steps\":99,\"tools\":[",
           "f.json: $.nodes[2].max_steps: must be a whole number from 1 to 50");
    expect("\"tools\":[", "\"history\":1,\"tools\":[",
           "f.json: $.nodes[2].history: must be true or");
    expect("\"output\":{\"type\":\"json_schema\",\"schema\":{\"type\":\"object\"}}",
           "\"output\":{\"type\":\"json_schema\"}",
           "f.json: $.nodes[2].output.schema: must be a JSON schema object");
    expect("\"output\":{\"type\":\"json_schema\"", "\"output\":{\"type\":\"yaml\"",
           "f.json: $.nodes[2].output.type: must be text, json_schema or widget");
    expect("{\"id\":\"ok\",\"type\":\"user_approval\",\"title\":\"Go?\"}",
           "{\"id\":\"ok\",\"type\":\"if_else\",\"condition\":\"\"}",
           "f.json: $.nodes[3].condition: must not be empty");
}

static void test_expression_and_widget_errors(void **state)
{
    (void)state;
    expect("{\"id\":\"ok\",\"type\":\"user_approval\",\"title\":\"Go?\"}",
           "{\"id\":\"ok\",\"type\":\"if_else\",\"condition\":\"state.n <\"}",
           "f.json: $.nodes[3].condition: column ");
    expect("\"value\":2", "\"expression\":\"state.n +\"",
           "f.json: $.nodes[1].assign[0].expression: column ");
    expect("\"output\":{\"type\":\"json_schema\",\"schema\":{\"type\":\"object\"}}",
           "\"output\":{\"type\":\"widget\"}",
           "f.json: $.nodes[2].output: a widget output needs exactly one of file");
    expect("\"output\":{\"type\":\"json_schema\",\"schema\":{\"type\":\"object\"}}",
           "\"output\":{\"type\":\"widget\",\"template\":\"{% if %}\"}",
           "f.json: $.nodes[2].output.template: ");
    expect("\"output\":{\"type\":\"json_schema\",\"schema\":{\"type\":\"object\"}}",
           "\"output\":{\"type\":\"widget\",\"file\":\"missing.widget\"}",
           "f.json: $.nodes[2].output.file: ");
    /* A good expression and a good inline widget load. */
    assert_null(errors_of(mutate("\"value\":2", "\"expression\":\"state.n + 1\"")));
    assert_null(errors_of(
        mutate("\"output\":{\"type\":\"json_schema\",\"schema\":{\"type\":\"object\"}}",
               "\"output\":{\"type\":\"widget\",\"template\":\"{\\\"type\\\":\\\"Card\\\","
               "\\\"children\\\":[]}\"}")));
}

static void test_tool_errors(void **state)
{
    (void)state;
    expect("\"model\":\"openai:gpt-4.1\"", "\"model\":\"builtin:tasks\"",
           "f.json: $.nodes[2].tools[1]: builtin:tasks calls only the task tools");
    expect("\"list_tasks\"", "\"drop_tables\"", "f.json: $.nodes[2].tools[0]: unknown task tool");
    expect("\"list_tasks\"", "7", "f.json: $.nodes[2].tools[0]: must be a task tool's name");
    expect("\"type\":\"http\"", "\"type\":\"ftp\"",
           "f.json: $.nodes[2].tools[1].type: must be task, http or client");
    expect("\"url\":\"https://x.example/w\"", "\"url\":\"file:///etc/passwd\"",
           "f.json: $.nodes[2].tools[1].url: must start with http:// or https://");
    expect("\"url\":\"https://x.example/w\",", "", "f.json: $.nodes[2].tools[1].url: is required");
    expect("\"parameters\":{\"type\":\"object\"}", "\"parameters\":[]",
           "f.json: $.nodes[2].tools[1].parameters: must be a JSON schema object");
    expect("{\"env\":\"W_KEY\"}", "\"Bearer secret\"",
           "f.json: $.nodes[2].tools[1].headers.Authorization: must be {\"env\": VARIABLE}");
    expect("\"name\":\"weather\"", "\"name\":\"list_tasks\",\"type\":\"task\"",
           "f.json: $.nodes[2].tools[1]: a second tool named 'list_tasks'");
    expect("\"name\":\"weather\",", "\"name\":\"weather\",\"method\":\"TRACE\",",
           "f.json: $.nodes[2].tools[1].method: must be GET or POST");
    expect("\"name\":\"weather\",", "\"name\":\"weather\",\"timeout_ms\":0,",
           "f.json: $.nodes[2].tools[1].timeout_ms: must be a whole number from 1 to 120000");
}

static void test_edge_errors(void **state)
{
    (void)state;
    expect("{\"from\":\"set\",\"to\":\"a\"}", "{\"from\":\"set\",\"to\":\"zz\"}",
           "f.json: $.edges[1].to: no node 'zz'");
    expect("{\"from\":\"set\",\"to\":\"a\"}", "{\"from\":\"qq\",\"to\":\"a\"}",
           "f.json: $.edges[1].from: no node 'qq'");
    expect("\"on\":\"approve\"", "\"on\":\"yes\"",
           "f.json: $.edges[3].on: edges from a user_approval need on: approve or reject");
    expect("{\"from\":\"set\",\"to\":\"a\"}", "{\"from\":\"set\",\"to\":\"a\",\"on\":\"true\"}",
           "f.json: $.edges[1].on: only if_else and user_approval edges have on");
    expect("{\"from\":\"set\",\"to\":\"a\"}", "{\"from\":\"set\",\"to\":\"start\"}",
           "f.json: $.edges[1].to: no edge may lead back to start");
    expect("{\"from\":\"set\",\"to\":\"a\"}", "{\"from\":\"yes\",\"to\":\"a\"}",
           "f.json: $.edges[1].from: an end node has no outgoing edges");
    expect("{\"from\":\"set\",\"to\":\"a\"}", "{\"from\":\"start\",\"to\":\"a\"}",
           "f.json: $.edges[1]: node 'start' already has an edge");
    expect(",{\"from\":\"ok\",\"to\":\"no\",\"on\":\"reject\"}", "",
           "f.json: $.nodes[3]: node 'ok' has no outgoing edge on reject");
    expect("{\"from\":\"set\",\"to\":\"a\"},", "",
           "f.json: $.nodes[2]: node 'a' cannot be reached from start");
    expect("\"edges\":[", "\"edges\":[7,", "f.json: $.edges[0]: must be an object {from, to, on?}");
}

/* The remaining error paths, one each. */
static void test_more_errors(void **state)
{
    (void)state;
    expect("{\"id\":\"set\"", "{\"id\":\"9set\"", "f.json: $.nodes[1].id: a node id is a letter");
    expect("\"name\":\"weather\"", "\"name\":\"9w\"",
           "f.json: $.nodes[2].tools[1].name: a tool name is a letter");
    expect("{\"id\":\"no\",\"type\":\"end\"}", "{\"id\":\"no\",\"type\":\"start\"}",
           "f.json: $.nodes[5]: a workflow has exactly one start node");
    expect("\"model\":\"openai:gpt-4.1\"", "\"model\":\"builtin:tasks\"",
           "f.json: $.nodes[2].output.type: builtin:tasks answers with text and task widgets only");
    expect("{\"id\":\"set\",\"type\":\"set_state\",\"assign\":[{\"variable\":\"n\","
           "\"value\":2}]}",
           "7", "f.json: $.nodes[1]: must be an object {id, type, ...}");
    expect("[{\"variable\":\"n\",\"value\":2}]", "[7]",
           "f.json: $.nodes[1].assign[0]: must be an object {variable, value | expression}");
    expect("\"output\":{\"type\":\"json_schema\",\"schema\":{\"type\":\"object\"}}",
           "\"output\":\"text\"", "f.json: $.nodes[2].output: must be an object");
    expect("{\"type\":\"number\",\"default\":0}", "\"number\"",
           "f.json: $.state_variables.n: must be an object {\"type\": ..., \"default\": ...}");
    expect("\"headers\":{\"Authorization\":{\"env\":\"W_KEY\"}}", "\"headers\":[]",
           "f.json: $.nodes[2].tools[1].headers: must be an object of header name");
    expect("{\"from\":\"start\",\"to\":\"set\"},", "",
           "f.json: $.nodes[0]: node 'start' has no outgoing edge");
    /* Too many variables, too many tools, too large a file. */
    char doc[16384], vars[8192] = "", tools[4096] = "";
    size_t o = 0;
    for (int i = 0; i <= WF_MAX_VARS; i++)
        o += (size_t)snprintf(vars + o, sizeof vars - o,
                              "%s\"v%d\":{\"type\":\"number\","
                              "\"default\":0}",
                              i ? "," : "", i);
    snprintf(doc, sizeof doc, "{\"state_variables\":{%s}}", vars);
    assert_non_null(strstr(errors_of(doc), "f.json: $.state_variables: may hold at most 64"));
    o = 0;
    for (int i = 0; i <= WF_MAX_TOOLS; i++)
        o += (size_t)snprintf(tools + o, sizeof tools - o, "%s\"list_tasks\"", i ? "," : "");
    snprintf(doc, sizeof doc,
             "{\"nodes\":[{\"id\":\"a\",\"type\":\"agent\",\"model\":"
             "\"builtin:tasks\",\"tools\":[%s]}]}",
             tools);
    assert_non_null(
        strstr(errors_of(doc), "f.json: $.nodes[0].tools: must be an array of at most"));
    char *big = malloc(WF_FILE_MAX + 2);
    memset(big, ' ', WF_FILE_MAX + 1);
    big[WF_FILE_MAX + 1] = '\0';
    assert_non_null(strstr(errors_of(big), "f.json: $: the file is larger than"));
    free(big);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_set_versions(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_workflow_XXXXXX";
    assert_non_null(mkdtemp(dir));
    const char *v = "{\"id\":\"wf_v\",\"version\":\"%s\",\"name\":\"V\",\"nodes\":[{\"id\":\"s\","
                    "\"type\":\"start\"},{\"id\":\"e\",\"type\":\"end\"}],\"edges\":[{\"from\":"
                    "\"s\",\"to\":\"e\"}]}";
    char text[512];
    snprintf(text, sizeof text, v, "9");
    write_file(dir, "a.json", text);
    snprintf(text, sizeof text, v, "10");
    write_file(dir, "b.json", text);
    write_file(dir, "notes.txt", "not a workflow");
    struct workflow_set set;
    struct buf errors;
    buf_init(&errors, WF_ERRORS_MAX);
    assert_int_equal(workflow_set_load(&set, dir, "builtin:tasks", &errors), 0);
    assert_int_equal(set.n, 3); /* two versions and the embedded default */
    assert_string_equal(workflow_set_find(&set, "wf_v", "")->version, "10"); /* as numbers */
    assert_string_equal(workflow_set_find(&set, "wf_v", "9")->version, "9");
    assert_null(workflow_set_find(&set, "wf_v", "8"));
    assert_non_null(workflow_set_find(&set, WORKFLOW_BUILTIN_TASKS, NULL));
    struct workflow_catalog cat;
    workflow_set_catalog(&set, &cat);
    char why[128];
    assert_int_equal(workflow_catalog_check(&cat, "wf_v", "9", why, sizeof why), 0);
    assert_int_equal(workflow_catalog_check(&cat, "wf_v", "8", why, sizeof why), ERR_NOT_FOUND);
    /* A turn's reference outlives the set. */
    struct workflow *held = workflow_set_find(&set, "wf_v", "9");
    workflow_ref(held);
    workflow_set_free(&set);
    assert_string_equal(held->version, "9");
    workflow_unref(held);

    /* The same id and version twice is an error naming both files. */
    snprintf(text, sizeof text, v, "9");
    write_file(dir, "c.json", text);
    assert_int_equal(workflow_set_load(&set, dir, "builtin:tasks", &errors), ERR_INVALID);
    assert_non_null(strstr(errors.data, "c.json: $.version: wf_v version 9 is also defined in"));
    assert_int_equal(set.n, 0);
    buf_reset(&errors);
    assert_int_equal(workflow_set_load(&set, "/nonexistent/dir", "builtin:tasks", &errors), ERR_IO);
    assert_non_null(strstr(errors.data, "/nonexistent/dir: $: cannot read the directory"));
    buf_reset(&errors);
    assert_int_equal(workflow_set_load(&set, NULL, "nope", &errors), ERR_INVALID);
    assert_non_null(strstr(errors.data, "<embedded wf_tasks>: $.nodes[1].model: 'nope'"));
    buf_free(&errors);
    const char *names[] = {"a.json", "b.json", "c.json", "notes.txt"};
    for (size_t i = 0; i < 4; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

static void test_substitute(void **state)
{
    (void)state;
    cJSON *st = cJSON_Parse("{\"name\":\"Ada\",\"n\":3,\"o\":{\"a\":[1]},\"z\":null}");
    struct buf b;
    buf_init(&b, 1024);
    assert_int_equal(wf_substitute(&b,
                                   "Hi {{state.name}} ({{ state.n }}, {{state.o}}, '{{state.z}}'"
                                   "{{state.missing}}): {{input_as_text}} {{other}} {{open",
                                   st, "go"),
                     0);
    assert_string_equal(b.data, "Hi Ada (3, {\"a\":[1]}, ''): go {{other}} {{open");
    buf_free(&b);
    buf_init(&b, 8);
    assert_int_equal(wf_substitute(&b, "{{input_as_text}}", st, "much too long"), ERR_TOO_BIG);
    buf_free(&b);
    cJSON_Delete(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_root_errors),
        cmocka_unit_test(test_var_errors),
        cmocka_unit_test(test_node_errors),
        cmocka_unit_test(test_tool_errors),
        cmocka_unit_test(test_edge_errors),
        cmocka_unit_test(test_expression_and_widget_errors),
        cmocka_unit_test(test_more_errors),
        cmocka_unit_test(test_set_versions),
        cmocka_unit_test(test_substitute),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
