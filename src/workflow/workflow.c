#include "workflow/workflow.h"

#include "core/err.h"
#include "core/xalloc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_LEN 160

/* Loading context: the file name for messages and the error lines so far. */
struct load {
    const char *file;
    struct buf *errors;
    int nerrors;
    struct workflow *w;
};

/* Formats a JSON path for an error message. Paths deeper than the buffer are cut short, which
 * is fine for a message; going through vsnprintf keeps that intent explicit. */
static void path_fmt(char *out, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void path_fmt(char *out, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, n, fmt, ap);
    va_end(ap);
}

static void bad(struct load *l, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void bad(struct load *l, const char *path, const char *fmt, ...)
{
    va_list ap;
    l->nerrors++;
    buf_appendf(l->errors, "%s: %s: ", l->file, path);
    va_start(ap, fmt);
    buf_vappendf(l->errors, fmt, ap);
    va_end(ap);
    buf_append_char(l->errors, '\n');
}

static const char *const kind_names[] = {"start",         "agent",     "if_else",
                                         "user_approval", "set_state", "end"};
static const char *const var_type_names[] = {"string", "number", "boolean", "object", "array"};
static const char *const task_tool_names[] = {"create_task",   "list_tasks",  "update_task",
                                              "complete_task", "reopen_task", "delete_task"};

/* Names of nodes, variables and tools: a letter or '_', then letters, digits, '_' or '-'. */
static bool is_name(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++) {
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
            return false;
    }
    return true;
}

/* A string member: 1 when present, 0 when absent (and optional), -1 after an error. */
static int get_str(struct load *l, const cJSON *obj, const char *key, const char *path,
                   bool required, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    char p[PATH_MAX_LEN];
    path_fmt(p, sizeof p, "%s.%s", path, key);
    if (!v) {
        if (required)
            bad(l, p, "is required");
        return required ? -1 : 0;
    }
    if (!cJSON_IsString(v)) {
        bad(l, p, "must be a string");
        return -1;
    }
    *out = v->valuestring;
    return 1;
}

static int get_bool(struct load *l, const cJSON *obj, const char *key, const char *path, bool *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return 0;
    if (!cJSON_IsBool(v)) {
        char p[PATH_MAX_LEN];
        path_fmt(p, sizeof p, "%s.%s", path, key);
        bad(l, p, "must be true or false");
        return -1;
    }
    *out = cJSON_IsTrue(v);
    return 1;
}

static int get_int(struct load *l, const cJSON *obj, const char *key, const char *path, int64_t min,
                   int64_t max, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble < (double)min || v->valuedouble > (double)max ||
        v->valuedouble != (double)(int64_t)v->valuedouble) {
        char p[PATH_MAX_LEN];
        path_fmt(p, sizeof p, "%s.%s", path, key);
        bad(l, p, "must be a whole number from %lld to %lld", (long long)min, (long long)max);
        return -1;
    }
    *out = (int64_t)v->valuedouble;
    return 1;
}

bool workflow_value_has_type(const cJSON *v, enum wf_var_type t)
{
    switch (t) {
    case WF_VAR_STRING:
        return cJSON_IsString(v);
    case WF_VAR_NUMBER:
        return cJSON_IsNumber(v);
    case WF_VAR_BOOLEAN:
        return cJSON_IsBool(v);
    case WF_VAR_OBJECT:
        return cJSON_IsObject(v);
    case WF_VAR_ARRAY:
        return cJSON_IsArray(v);
    }
    return false;
}

static void parse_vars(struct load *l, const cJSON *root)
{
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(root, "state_variables");
    if (!vars)
        return;
    if (!cJSON_IsObject(vars)) {
        bad(l, "$.state_variables", "must be an object of name: {type, default}");
        return;
    }
    int n = cJSON_GetArraySize(vars);
    if (n > WF_MAX_VARS) {
        bad(l, "$.state_variables", "may hold at most %d variables", WF_MAX_VARS);
        return;
    }
    l->w->vars = xcalloc((size_t)n + 1, sizeof *l->w->vars);
    const cJSON *v;
    cJSON_ArrayForEach(v, vars)
    {
        char p[PATH_MAX_LEN];
        path_fmt(p, sizeof p, "$.state_variables.%.80s", v->string);
        if (!is_name(v->string, 64)) {
            bad(l, p, "a variable name is a letter or '_' then letters, digits, '_' or '-'");
            continue;
        }
        const char *type = NULL;
        if (!cJSON_IsObject(v)) {
            bad(l, p, "must be an object {\"type\": ..., \"default\": ...}");
            continue;
        }
        if (get_str(l, v, "type", p, true, &type) < 0)
            continue;
        int t = -1;
        for (int i = 0; i < 5; i++) {
            if (strcmp(type, var_type_names[i]) == 0)
                t = i;
        }
        char tp[PATH_MAX_LEN + 8];
        path_fmt(tp, sizeof tp, "%s.type", p);
        if (t < 0) {
            bad(l, tp, "must be string, number, boolean, object or array");
            continue;
        }
        const cJSON *def = cJSON_GetObjectItemCaseSensitive(v, "default");
        path_fmt(tp, sizeof tp, "%s.default", p);
        if (!def) {
            bad(l, tp, "is required");
            continue;
        }
        if (!workflow_value_has_type(def, (enum wf_var_type)t)) {
            bad(l, tp, "must be a %s", var_type_names[t]);
            continue;
        }
        struct wf_var *var = &l->w->vars[l->w->nvars++];
        var->name = v->string;
        var->type = (enum wf_var_type)t;
        var->def = def;
    }
}

/* "builtin:tasks", "openai:<model>" or "compat:<provider>/<model>". */
static bool model_ref_ok(const char *m)
{
    if (strcmp(m, "builtin:tasks") == 0)
        return true;
    if (strncmp(m, "openai:", 7) == 0)
        return m[7] != '\0';
    if (strncmp(m, "compat:", 7) == 0) {
        const char *slash = strchr(m + 7, '/');
        return slash && slash > m + 7 && slash[1] != '\0';
    }
    return false;
}

static void parse_http_tool(struct load *l, const cJSON *t, const char *p, struct wf_tool *tool)
{
    get_str(l, t, "url", p, true, &tool->url);
    if (tool->url && strncmp(tool->url, "http://", 7) != 0 && strncmp(tool->url, "https://", 8)) {
        char up[PATH_MAX_LEN + 8];
        path_fmt(up, sizeof up, "%s.url", p);
        bad(l, up, "must start with http:// or https://");
    }
    tool->method = "POST";
    if (get_str(l, t, "method", p, false, &tool->method) > 0) {
        if (strcmp(tool->method, "GET") != 0 && strcmp(tool->method, "POST") != 0) {
            char mp[PATH_MAX_LEN + 8];
            path_fmt(mp, sizeof mp, "%s.method", p);
            bad(l, mp, "must be GET or POST");
        }
    }
    tool->timeout_ms = WF_HTTP_TIMEOUT_MS;
    get_int(l, t, "timeout_ms", p, 1, 120000, &tool->timeout_ms);
    const cJSON *headers = cJSON_GetObjectItemCaseSensitive(t, "headers");
    if (!headers)
        return;
    char hp[PATH_MAX_LEN + 8];
    path_fmt(hp, sizeof hp, "%s.headers", p);
    if (!cJSON_IsObject(headers)) {
        bad(l, hp, "must be an object of header name: {\"env\": VARIABLE}");
        return;
    }
    tool->headers = xcalloc((size_t)cJSON_GetArraySize(headers) + 1, sizeof *tool->headers);
    const cJSON *h;
    cJSON_ArrayForEach(h, headers)
    {
        char one[PATH_MAX_LEN * 2];
        path_fmt(one, sizeof one, "%s.%.60s", hp, h->string);
        const cJSON *env = cJSON_GetObjectItemCaseSensitive(h, "env");
        if (!cJSON_IsObject(h) || !cJSON_IsString(env) || !env->valuestring[0]) {
            bad(l, one,
                "must be {\"env\": VARIABLE} (header values come from the environment, "
                "never from the file)");
            continue;
        }
        tool->headers[tool->nheaders].name = h->string;
        tool->headers[tool->nheaders++].env = env->valuestring;
    }
}

static void parse_tool(struct load *l, const cJSON *t, const char *p, struct wf_tool *tool)
{
    tool->description = "";
    if (cJSON_IsString(t)) {
        tool->kind = WF_TOOL_TASK;
        tool->name = t->valuestring;
    } else if (cJSON_IsObject(t)) {
        const char *type = NULL;
        if (get_str(l, t, "type", p, true, &type) < 0)
            return;
        if (get_str(l, t, "name", p, true, &tool->name) < 0)
            return;
        get_str(l, t, "description", p, false, &tool->description);
        if (strcmp(type, "task") == 0)
            tool->kind = WF_TOOL_TASK;
        else if (strcmp(type, "http") == 0)
            tool->kind = WF_TOOL_HTTP;
        else if (strcmp(type, "client") == 0)
            tool->kind = WF_TOOL_CLIENT;
        else {
            char tp[PATH_MAX_LEN + 8];
            path_fmt(tp, sizeof tp, "%s.type", p);
            bad(l, tp, "must be task, http or client");
            return;
        }
    } else {
        bad(l, p, "must be a task tool's name or an object {type, name, ...}");
        return;
    }
    if (tool->kind == WF_TOOL_TASK) {
        bool known = false;
        for (size_t i = 0; i < sizeof task_tool_names / sizeof *task_tool_names; i++)
            known = known || strcmp(tool->name, task_tool_names[i]) == 0;
        if (!known)
            bad(l, p,
                "unknown task tool '%.60s' (create_task, list_tasks, update_task, "
                "complete_task, reopen_task, delete_task)",
                tool->name);
        return;
    }
    if (!is_name(tool->name, 64)) {
        char np[PATH_MAX_LEN + 8];
        path_fmt(np, sizeof np, "%s.name", p);
        bad(l, np, "a tool name is a letter or '_' then letters, digits, '_' or '-'");
    }
    tool->parameters = cJSON_GetObjectItemCaseSensitive(t, "parameters");
    if (!cJSON_IsObject(tool->parameters)) {
        char pp[PATH_MAX_LEN + 12];
        path_fmt(pp, sizeof pp, "%s.parameters", p);
        bad(l, pp, "must be a JSON schema object");
        tool->parameters = NULL;
    }
    if (tool->kind == WF_TOOL_HTTP)
        parse_http_tool(l, t, p, tool);
}

/* A widget output: a Widget Builder file next to the workflow ("file"), or an inline "template"
 * with an optional "schema" for the data the agent answers with. */
static void load_widget(struct load *l, const cJSON *out, const char *op, struct wf_node *n)
{
    const char *file = NULL, *tpl = NULL;
    if (get_str(l, out, "file", op, false, &file) < 0 ||
        get_str(l, out, "template", op, false, &tpl) < 0)
        return;
    if (!file == !tpl) {
        bad(l, op, "a widget output needs exactly one of file (a .widget file) and template");
        return;
    }
    char err[512], fp[PATH_MAX_LEN + 16];
    path_fmt(fp, sizeof fp, "%s.%s", op, file ? "file" : "template");
    int rc;
    if (file) {
        const char *slash = strrchr(l->file, '/');
        char path[4096];
        int len = file[0] == '/' || !slash ? snprintf(path, sizeof path, "%s", file)
                                           : snprintf(path, sizeof path, "%.*s/%s",
                                                      (int)(slash - l->file), l->file, file);
        if (len < 0 || (size_t)len >= sizeof path) {
            bad(l, fp, "the widget file's path is longer than %zu bytes", sizeof path - 1);
            return;
        }
        rc = widget_file_load(path, &n->widget, err, sizeof err);
    } else {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "version", "1.0");
        cJSON_AddStringToObject(doc, "name", n->id ? n->id : "widget");
        cJSON_AddStringToObject(doc, "template", tpl);
        const cJSON *schema = cJSON_GetObjectItemCaseSensitive(out, "schema");
        if (schema)
            cJSON_AddItemToObject(doc, "jsonSchema", cJSON_Duplicate(schema, true));
        char *text = cJSON_PrintUnformatted(doc);
        cJSON_Delete(doc);
        rc = widget_file_parse(fp, text, strlen(text), &n->widget, err, sizeof err);
        free(text);
    }
    if (rc)
        bad(l, fp, "%s", err);
}

static void parse_output(struct load *l, const cJSON *node, const char *p, struct wf_node *n)
{
    const cJSON *out = cJSON_GetObjectItemCaseSensitive(node, "output");
    char op[PATH_MAX_LEN + 8];
    path_fmt(op, sizeof op, "%s.output", p);
    n->output = WF_OUTPUT_TEXT;
    if (!out)
        return;
    const char *type = NULL;
    if (!cJSON_IsObject(out)) {
        bad(l, op, "must be an object {\"type\": \"text\" | \"json_schema\" | \"widget\"}");
        return;
    }
    if (get_str(l, out, "type", op, true, &type) < 0)
        return;
    if (strcmp(type, "text") == 0)
        return;
    if (strcmp(type, "json_schema") == 0) {
        n->output = WF_OUTPUT_JSON;
        n->output_schema = cJSON_GetObjectItemCaseSensitive(out, "schema");
        if (!cJSON_IsObject(n->output_schema)) {
            char sp[PATH_MAX_LEN + 16];
            path_fmt(sp, sizeof sp, "%s.schema", op);
            bad(l, sp, "must be a JSON schema object");
        }
        n->output_name = "output";
        get_str(l, out, "name", op, false, &n->output_name);
    } else if (strcmp(type, "widget") == 0) {
        n->output = WF_OUTPUT_WIDGET;
        load_widget(l, out, op, n);
    } else {
        char tp[PATH_MAX_LEN + 16];
        path_fmt(tp, sizeof tp, "%s.type", op);
        bad(l, tp, "must be text, json_schema or widget");
        return;
    }
    if (strcmp(n->model, "builtin:tasks") == 0) {
        char tp[PATH_MAX_LEN + 16];
        path_fmt(tp, sizeof tp, "%s.type", op);
        bad(l, tp, "builtin:tasks answers with text and task widgets only");
    }
}

static void parse_agent(struct load *l, const cJSON *node, const char *p, struct wf_node *n)
{
    n->model = "";
    n->instructions = "";
    if (get_str(l, node, "model", p, true, &n->model) > 0 && !model_ref_ok(n->model)) {
        char mp[PATH_MAX_LEN + 8];
        path_fmt(mp, sizeof mp, "%s.model", p);
        bad(l, mp, "'%.80s' is not builtin:tasks, openai:<model> or compat:<provider>/<model>",
            n->model);
    }
    get_str(l, node, "instructions", p, false, &n->instructions);
    n->history = true;
    get_bool(l, node, "history", p, &n->history);
    get_bool(l, node, "stay", p, &n->stay);
    get_bool(l, node, "composer_options", p, &n->composer_options);
    int64_t steps = WF_DEFAULT_STEPS;
    get_int(l, node, "max_steps", p, 1, WF_MAX_STEPS, &steps);
    n->max_steps = (int)steps;
    parse_output(l, node, p, n);
    const cJSON *tools = cJSON_GetObjectItemCaseSensitive(node, "tools");
    if (!tools)
        return;
    char tp[PATH_MAX_LEN + 8];
    path_fmt(tp, sizeof tp, "%s.tools", p);
    if (!cJSON_IsArray(tools) || cJSON_GetArraySize(tools) > WF_MAX_TOOLS) {
        bad(l, tp, "must be an array of at most %d tools", WF_MAX_TOOLS);
        return;
    }
    n->tools = xcalloc((size_t)cJSON_GetArraySize(tools) + 1, sizeof *n->tools);
    const cJSON *t;
    cJSON_ArrayForEach(t, tools)
    {
        char one[PATH_MAX_LEN + 16];
        path_fmt(one, sizeof one, "%s[%zu]", tp, n->ntools);
        parse_tool(l, t, one, &n->tools[n->ntools]);
        if (n->tools[n->ntools].kind != WF_TOOL_TASK && strcmp(n->model, "builtin:tasks") == 0)
            bad(l, one,
                "builtin:tasks calls only the task tools (HTTP and client tools need a "
                "model)");
        for (size_t i = 0; i < n->ntools && n->tools[n->ntools].name; i++) {
            if (n->tools[i].name && strcmp(n->tools[i].name, n->tools[n->ntools].name) == 0)
                bad(l, one, "a second tool named '%.60s'", n->tools[i].name);
        }
        n->ntools++;
    }
}

/* Compiles an expression of the file; a mistake is reported at path with the column. */
static void compile_expr(struct load *l, const char *path, const char *src, struct wf_expr **out)
{
    char why[256];
    if (wf_expr_compile(src, strlen(src), out, why, sizeof why))
        bad(l, path, "%s", why);
}

static void parse_set_state(struct load *l, const cJSON *node, const char *p, struct wf_node *n)
{
    const cJSON *assign = cJSON_GetObjectItemCaseSensitive(node, "assign");
    char ap[PATH_MAX_LEN + 8];
    path_fmt(ap, sizeof ap, "%s.assign", p);
    if (!cJSON_IsArray(assign) || cJSON_GetArraySize(assign) == 0) {
        bad(l, ap, "must be a non-empty array of {variable, value | expression}");
        return;
    }
    n->assigns = xcalloc((size_t)cJSON_GetArraySize(assign), sizeof *n->assigns);
    const cJSON *a;
    cJSON_ArrayForEach(a, assign)
    {
        char one[PATH_MAX_LEN + 16];
        path_fmt(one, sizeof one, "%s[%zu]", ap, n->nassigns);
        struct wf_assign *as = &n->assigns[n->nassigns++];
        if (!cJSON_IsObject(a)) {
            bad(l, one, "must be an object {variable, value | expression}");
            continue;
        }
        if (get_str(l, a, "variable", one, true, &as->variable) < 0)
            continue;
        const struct wf_var *var = workflow_var(l->w, as->variable);
        char vp[PATH_MAX_LEN + 32];
        path_fmt(vp, sizeof vp, "%s.variable", one);
        if (!var) {
            bad(l, vp, "'%.60s' is not a declared state variable", as->variable);
            continue;
        }
        as->value = cJSON_GetObjectItemCaseSensitive(a, "value");
        get_str(l, a, "expression", one, false, &as->expression);
        path_fmt(vp, sizeof vp, "%s.value", one);
        if (!as->value == !as->expression)
            bad(l, one, "needs exactly one of value and expression");
        else if (as->value && !workflow_value_has_type(as->value, var->type))
            bad(l, vp, "must be a %s (the type of '%s')", var_type_names[var->type], var->name);
        else if (as->expression) {
            path_fmt(vp, sizeof vp, "%s.expression", one);
            compile_expr(l, vp, as->expression, &as->expr);
        }
    }
}

static void parse_node(struct load *l, const cJSON *node, size_t i, struct wf_node *n)
{
    char p[PATH_MAX_LEN];
    path_fmt(p, sizeof p, "$.nodes[%zu]", i);
    n->next = n->alt = -1;
    n->end_message = "";
    if (!cJSON_IsObject(node)) {
        bad(l, p, "must be an object {id, type, ...}");
        return;
    }
    const char *type = NULL;
    if (get_str(l, node, "id", p, true, &n->id) > 0 && !is_name(n->id, 64)) {
        char ip[PATH_MAX_LEN + 8];
        path_fmt(ip, sizeof ip, "%s.id", p);
        bad(l, ip, "a node id is a letter or '_' then letters, digits, '_' or '-'");
    }
    if (get_str(l, node, "type", p, true, &type) < 0)
        return;
    int k = -1;
    for (int j = 0; j < 6; j++) {
        if (strcmp(type, kind_names[j]) == 0)
            k = j;
    }
    if (k < 0) {
        char tp[PATH_MAX_LEN + 8];
        path_fmt(tp, sizeof tp, "%s.type", p);
        bad(l, tp, "'%.40s' is not start, agent, if_else, user_approval, set_state or end", type);
        return;
    }
    n->kind = (enum wf_node_kind)k;
    switch (n->kind) {
    case WF_AGENT:
        parse_agent(l, node, p, n);
        break;
    case WF_IF_ELSE:
        if (get_str(l, node, "condition", p, true, &n->condition) > 0) {
            char cp[PATH_MAX_LEN + 16];
            path_fmt(cp, sizeof cp, "%s.condition", p);
            if (!n->condition[0])
                bad(l, cp, "must not be empty");
            else
                compile_expr(l, cp, n->condition, &n->cond);
        }
        break;
    case WF_USER_APPROVAL:
        n->message = "";
        get_str(l, node, "title", p, true, &n->title);
        get_str(l, node, "message", p, false, &n->message);
        break;
    case WF_SET_STATE:
        parse_set_state(l, node, p, n);
        break;
    case WF_END:
        get_str(l, node, "message", p, false, &n->end_message);
        break;
    case WF_START:
        break;
    }
}

int workflow_node_index(const struct workflow *w, const char *id)
{
    for (size_t i = 0; i < w->nnodes; i++) {
        if (w->nodes[i].id && strcmp(w->nodes[i].id, id) == 0)
            return (int)i;
    }
    return -1;
}

const struct wf_var *workflow_var(const struct workflow *w, const char *name)
{
    for (size_t i = 0; i < w->nvars; i++) {
        if (strcmp(w->vars[i].name, name) == 0)
            return &w->vars[i];
    }
    return NULL;
}

/* The label an edge from a node of this kind must carry ("" = none). */
static bool edge_label_ok(enum wf_node_kind k, const char *on)
{
    if (k == WF_IF_ELSE)
        return strcmp(on, "true") == 0 || strcmp(on, "false") == 0;
    if (k == WF_USER_APPROVAL)
        return strcmp(on, "approve") == 0 || strcmp(on, "reject") == 0;
    return on[0] == '\0';
}

static void parse_edge(struct load *l, const cJSON *e, size_t i)
{
    char p[PATH_MAX_LEN];
    path_fmt(p, sizeof p, "$.edges[%zu]", i);
    const char *from = NULL, *to = NULL, *on = "";
    if (!cJSON_IsObject(e)) {
        bad(l, p, "must be an object {from, to, on?}");
        return;
    }
    if (get_str(l, e, "from", p, true, &from) < 0 || get_str(l, e, "to", p, true, &to) < 0 ||
        get_str(l, e, "on", p, false, &on) < 0)
        return;
    int a = workflow_node_index(l->w, from), b = workflow_node_index(l->w, to);
    char fp[PATH_MAX_LEN + 8];
    path_fmt(fp, sizeof fp, "%s.%s", p, a < 0 ? "from" : "to");
    if (a < 0 || b < 0) {
        bad(l, fp, "no node '%.60s'", a < 0 ? from : to);
        return;
    }
    struct wf_node *n = &l->w->nodes[a];
    if (n->kind == WF_END) {
        path_fmt(fp, sizeof fp, "%s.from", p);
        bad(l, fp, "an end node has no outgoing edges");
        return;
    }
    if (l->w->nodes[b].kind == WF_START) {
        path_fmt(fp, sizeof fp, "%s.to", p);
        bad(l, fp, "no edge may lead back to start");
        return;
    }
    path_fmt(fp, sizeof fp, "%s.on", p);
    if (!edge_label_ok(n->kind, on)) {
        bad(l, fp,
            n->kind == WF_IF_ELSE         ? "edges from an if_else need on: true or false"
            : n->kind == WF_USER_APPROVAL ? "edges from a user_approval need on: approve or "
                                            "reject"
                                          : "only if_else and user_approval edges have on");
        return;
    }
    bool second = !strcmp(on, "false") || !strcmp(on, "reject");
    int *slot = second ? &n->alt : &n->next;
    if (*slot >= 0) {
        bad(l, p, "node '%.60s' already has an edge%s%s", from, on[0] ? " on " : "", on);
        return;
    }
    *slot = b;
}

/* Branching nodes need both ways out and start its one (an agent or set_state without an edge
 * ends the run); every node must be reachable from start. */
static void check_graph(struct load *l)
{
    struct workflow *w = l->w;
    char p[PATH_MAX_LEN];
    for (size_t i = 0; i < w->nnodes; i++) {
        const struct wf_node *n = &w->nodes[i];
        path_fmt(p, sizeof p, "$.nodes[%zu]", i);
        bool needs_next =
            n->kind == WF_START || n->kind == WF_IF_ELSE || n->kind == WF_USER_APPROVAL;
        if (needs_next && n->next < 0)
            bad(l, p, "node '%.60s' has no outgoing edge%s", n->id,
                n->kind == WF_IF_ELSE         ? " on true"
                : n->kind == WF_USER_APPROVAL ? " on approve"
                                              : "");
        if ((n->kind == WF_IF_ELSE || n->kind == WF_USER_APPROVAL) && n->alt < 0)
            bad(l, p, "node '%.60s' has no outgoing edge on %s", n->id,
                n->kind == WF_IF_ELSE ? "false" : "reject");
    }
    if (w->start < 0)
        return;
    bool *seen = xcalloc(w->nnodes, sizeof *seen);
    int *stack = xcalloc(w->nnodes * 2 + 1, sizeof *stack);
    size_t top = 0;
    stack[top++] = w->start;
    seen[w->start] = true;
    while (top) {
        const struct wf_node *n = &w->nodes[stack[--top]];
        int outs[2] = {n->next, n->alt};
        for (int j = 0; j < 2; j++) {
            if (outs[j] >= 0 && !seen[outs[j]]) {
                seen[outs[j]] = true;
                stack[top++] = outs[j];
            }
        }
    }
    for (size_t i = 0; i < w->nnodes; i++) {
        path_fmt(p, sizeof p, "$.nodes[%zu]", i);
        if (!seen[i])
            bad(l, p, "node '%.60s' cannot be reached from start", w->nodes[i].id);
    }
    free(seen);
    free(stack);
}

static void parse_nodes(struct load *l, const cJSON *root)
{
    struct workflow *w = l->w;
    const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(root, "nodes");
    if (!cJSON_IsArray(nodes) || cJSON_GetArraySize(nodes) == 0 ||
        cJSON_GetArraySize(nodes) > WF_MAX_NODES) {
        bad(l, "$.nodes", "must be an array of 1 to %d nodes", WF_MAX_NODES);
        return;
    }
    w->nodes = xcalloc((size_t)cJSON_GetArraySize(nodes), sizeof *w->nodes);
    w->start = -1;
    const cJSON *node;
    cJSON_ArrayForEach(node, nodes)
    {
        size_t i = w->nnodes++;
        parse_node(l, node, i, &w->nodes[i]);
        char p[PATH_MAX_LEN];
        path_fmt(p, sizeof p, "$.nodes[%zu].id", i);
        for (size_t j = 0; j < i && w->nodes[i].id; j++) {
            if (w->nodes[j].id && strcmp(w->nodes[j].id, w->nodes[i].id) == 0)
                bad(l, p, "a second node with id '%.60s'", w->nodes[i].id);
        }
        if (w->nodes[i].kind == WF_START && w->nodes[i].id) {
            path_fmt(p, sizeof p, "$.nodes[%zu]", i);
            if (w->start >= 0)
                bad(l, p, "a workflow has exactly one start node");
            else
                w->start = (int)i;
        }
    }
    if (w->start < 0)
        bad(l, "$.nodes", "a workflow needs a start node");
}

static void parse_root(struct load *l, const cJSON *root)
{
    struct workflow *w = l->w;
    if (get_str(l, root, "id", "$", true, &w->id) > 0 &&
        (strncmp(w->id, "wf_", 3) != 0 || !is_name(w->id, 128)))
        bad(l, "$.id", "must be wf_ followed by letters, digits, '_' or '-' (at most 128)");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (!cJSON_IsString(ver) || !ver->valuestring[0] || strlen(ver->valuestring) > 64)
        bad(l, "$.version", "must be a string of 1 to 64 characters (\"1\", \"2024-06-01\")");
    else
        w->version = ver->valuestring;
    get_str(l, root, "name", "$", true, &w->name);
    parse_vars(l, root);
    parse_nodes(l, root);
    if (!w->nodes)
        return;
    const cJSON *edges = cJSON_GetObjectItemCaseSensitive(root, "edges");
    if (!cJSON_IsArray(edges)) {
        bad(l, "$.edges", "must be an array of {from, to, on?}");
        return;
    }
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, edges) parse_edge(l, e, i++);
    int before = l->nerrors;
    if (before == 0)
        check_graph(l);
}

static void workflow_free(struct workflow *w)
{
    for (size_t i = 0; i < w->nnodes; i++) {
        for (size_t j = 0; j < w->nodes[i].ntools; j++)
            free(w->nodes[i].tools[j].headers);
        free(w->nodes[i].tools);
        for (size_t j = 0; j < w->nodes[i].nassigns; j++)
            wf_expr_free(w->nodes[i].assigns[j].expr);
        free(w->nodes[i].assigns);
        wf_expr_free(w->nodes[i].cond);
        widget_file_free(w->nodes[i].widget);
    }
    free(w->nodes);
    free(w->vars);
    cJSON_Delete(w->doc);
    free(w->file);
    free(w);
}

int workflow_parse(const char *file, const char *text, size_t len, struct workflow **out,
                   struct buf *errors)
{
    *out = NULL;
    struct workflow *w = xcalloc(1, sizeof *w);
    w->refs = 1;
    w->start = -1;
    w->file = xstrdup(file);
    struct load l = {.file = file, .errors = errors, .w = w};
    size_t off = 0;
    w->doc = len > WF_FILE_MAX ? NULL : json_parse(text, len, 64, &off);
    if (len > WF_FILE_MAX)
        bad(&l, "$", "the file is larger than %d bytes", WF_FILE_MAX);
    else if (!w->doc)
        bad(&l, "$", "not valid JSON (near byte %zu)", off);
    else if (!cJSON_IsObject(w->doc))
        bad(&l, "$", "must be a JSON object");
    else
        parse_root(&l, w->doc);
    if (l.nerrors) {
        workflow_free(w);
        return ERR_INVALID;
    }
    *out = w;
    return 0;
}

void workflow_ref(struct workflow *w)
{
    w->refs++;
}

void workflow_unref(struct workflow *w)
{
    if (w && --w->refs == 0)
        workflow_free(w);
}

cJSON *workflow_default_state(const struct workflow *w)
{
    cJSON *state = cJSON_CreateObject();
    for (size_t i = 0; i < w->nvars; i++)
        cJSON_AddItemToObject(state, w->vars[i].name, cJSON_Duplicate(w->vars[i].def, true));
    return state;
}

/* The embedded task assistant: one agent between start and end. Its model is the only part that
 * depends on the configuration. */
int workflow_builtin_tasks(const char *model, struct workflow **out, struct buf *errors)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "id", WORKFLOW_BUILTIN_TASKS);
    cJSON_AddStringToObject(doc, "version", "1");
    cJSON_AddStringToObject(doc, "name", "Task assistant");
    cJSON *nodes = cJSON_AddArrayToObject(doc, "nodes");
    cJSON *start = cJSON_CreateObject(), *agent = cJSON_CreateObject();
    cJSON_AddStringToObject(start, "id", "start");
    cJSON_AddStringToObject(start, "type", "start");
    cJSON_AddStringToObject(agent, "id", "assistant");
    cJSON_AddStringToObject(agent, "type", "agent");
    cJSON_AddStringToObject(agent, "model", model);
    cJSON_AddStringToObject(agent, "instructions",
                            "You manage the user's tasks with the task tools. Keep answers short; "
                            "show tasks with the tools rather than listing them in prose.");
    cJSON *tools = cJSON_AddArrayToObject(agent, "tools");
    for (size_t i = 0; i < sizeof task_tool_names / sizeof *task_tool_names; i++)
        cJSON_AddItemToArray(tools, cJSON_CreateString(task_tool_names[i]));
    cJSON_AddItemToArray(nodes, start);
    cJSON_AddItemToArray(nodes, agent);
    cJSON *edges = cJSON_AddArrayToObject(doc, "edges");
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "from", "start");
    cJSON_AddStringToObject(e, "to", "assistant");
    cJSON_AddItemToArray(edges, e);
    char *text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    int rc = workflow_parse("<embedded wf_tasks>", text, strlen(text), out, errors);
    free(text);
    if (rc == 0)
        (*out)->embedded = true;
    return rc;
}

/* ---- the set of loaded workflows ---- */

void workflow_set_free(struct workflow_set *set)
{
    for (size_t i = 0; i < set->n; i++)
        workflow_unref(set->items[i]);
    free(set->items);
    set->items = NULL;
    set->n = 0;
}

/* Versions compare as numbers when both are whole numbers ("10" > "9"), else as text. */
static int version_cmp(const char *a, const char *b)
{
    char *ea, *eb;
    unsigned long long na = strtoull(a, &ea, 10), nb = strtoull(b, &eb, 10);
    if (*a && *b && !*ea && !*eb && isdigit((unsigned char)*a) && isdigit((unsigned char)*b))
        return na < nb ? -1 : na > nb;
    return strcmp(a, b);
}

struct workflow *workflow_set_find(const struct workflow_set *set, const char *id,
                                   const char *version)
{
    struct workflow *best = NULL;
    for (size_t i = 0; i < set->n; i++) {
        struct workflow *w = set->items[i];
        if (strcmp(w->id, id) != 0)
            continue;
        if (version && *version) {
            if (strcmp(w->version, version) == 0)
                return w;
        } else if (!best || version_cmp(w->version, best->version) > 0) {
            best = w;
        }
    }
    return best;
}

static void set_add(struct workflow_set *set, struct workflow *w)
{
    set->items = xrealloc(set->items, (set->n + 1) * sizeof *set->items);
    set->items[set->n++] = w;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.json names of dir, sorted (owned by the caller, each and the array). */
static int list_json_files(const char *dir, char ***names, size_t *n, struct buf *errors)
{
    DIR *d = opendir(dir);
    *names = NULL;
    *n = 0;
    if (!d) {
        buf_appendf(errors, "%s: $: cannot read the directory: %s\n", dir, strerror(errno));
        return ERR_IO;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len < 6 || de->d_name[0] == '.' || strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        *names = xrealloc(*names, (*n + 1) * sizeof **names);
        (*names)[(*n)++] = xstrdup(de->d_name);
    }
    closedir(d);
    if (*n)
        qsort(*names, *n, sizeof **names, name_cmp);
    return 0;
}

static int read_file(const char *path, struct buf *text, struct buf *errors)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        buf_appendf(errors, "%s: $: cannot read the file: %s\n", path, strerror(errno));
        return ERR_IO;
    }
    char chunk[8192];
    size_t got;
    int rc = 0;
    while (rc == 0 && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = buf_append(text, chunk, got);
    fclose(f);
    if (rc)
        buf_appendf(errors, "%s: $: the file is larger than %d bytes\n", path, WF_FILE_MAX);
    return rc ? ERR_TOO_BIG : 0;
}

static int load_dir(struct workflow_set *set, const char *dir, struct buf *errors)
{
    char **names;
    size_t n;
    int rc = list_json_files(dir, &names, &n, errors);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        int len = snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (len < 0 || (size_t)len >= sizeof path) {
            buf_appendf(errors, "%s/%s: the path is longer than %zu bytes\n", dir, names[i],
                        sizeof path - 1);
            free(names[i]);
            rc = ERR_INVALID;
            continue;
        }
        struct buf text;
        buf_init(&text, WF_FILE_MAX + 1);
        struct workflow *w = NULL;
        int frc = read_file(path, &text, errors);
        if (!frc)
            frc = workflow_parse(path, text.data ? text.data : "", text.len, &w, errors);
        buf_free(&text);
        free(names[i]);
        if (frc) {
            rc = ERR_INVALID;
            continue;
        }
        for (size_t j = 0; j < set->n; j++) {
            struct workflow *o = set->items[j];
            if (strcmp(o->id, w->id) == 0 && strcmp(o->version, w->version) == 0 &&
                strncmp(o->file, "<embedded", 9) != 0) {
                buf_appendf(errors, "%s: $.version: %s version %s is also defined in %s\n", path,
                            w->id, w->version, o->file);
                rc = ERR_INVALID;
            }
        }
        set_add(set, w);
    }
    free(names);
    return rc;
}

int workflow_set_load(struct workflow_set *set, const char *dir, const char *default_model,
                      struct buf *errors)
{
    set->items = NULL;
    set->n = 0;
    struct workflow *def = NULL;
    int rc = workflow_builtin_tasks(default_model, &def, errors);
    if (!rc && dir)
        rc = load_dir(set, dir, errors);
    if (rc) {
        workflow_unref(def);
        workflow_set_free(set);
        return rc;
    }
    /* A file that defines the default's id replaces the embedded definition altogether. */
    bool overridden = false;
    for (size_t i = 0; i < set->n; i++)
        overridden = overridden || strcmp(set->items[i]->id, def->id) == 0;
    if (overridden)
        workflow_unref(def);
    else
        set_add(set, def);
    return 0;
}

static int by_id_version(const void *a, const void *b)
{
    const struct workflow *x = *(struct workflow *const *)a, *y = *(struct workflow *const *)b;
    int c = strcmp(x->id, y->id);
    return c ? c : version_cmp(x->version, y->version);
}

void workflow_set_catalog(const struct workflow_set *set, struct workflow_catalog *c)
{
    struct workflow **sorted = xcalloc(set->n + 1, sizeof *sorted);
    memcpy(sorted, set->items, set->n * sizeof *sorted);
    qsort(sorted, set->n, sizeof *sorted, by_id_version);
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < set->n; i++) /* oldest first: the last added is the latest */
        workflow_catalog_add(c, sorted[i]->id, sorted[i]->version);
    free(sorted);
}
