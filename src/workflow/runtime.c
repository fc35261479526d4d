#include "workflow/runtime.h"

#include "chatkit/items.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/id.h"
#include "core/json_write.h"
#include "core/xalloc.h"
#include "workflow/widget_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_MAX (256 * 1024)

/* One turn of a workflow. Owned by itself: freed by run_release once the turn is let go. */
struct wf_run {
    struct wf_runtime *rt;
    struct ck_turn *t;
    struct workflow *w; /* one reference, dropped in run_release */
    cJSON *meta;        /* owned: the thread's metadata object */
    cJSON *run;         /* the "workflow_run" member of meta (owned by meta) */
    cJSON *state;       /* the run's state variables (owned by run) */
    int node;           /* the node to execute next; -1 when the run is over for this turn */
    int at;             /* the node executed last (-1: none yet) */
    int steps;
    char *input; /* owned: the text this run answers ("" when none) */
    char input_item_id[ID_MAX];
    struct model_agent_run *model_run; /* the model agent answering, or NULL */
    char *tools_json;                  /* owned: the model node's task tools, or NULL */
    struct model_agent_tool *extra;    /* owned: its HTTP and client tools for the model agent */
    struct node_tool *extra_ctx;       /* owned: what each of them runs (extra[i].data) */
    size_t nextra;
    const struct wf_tool *client_tool; /* the client tool the model called (pauses the run) */
    char *client_args;                 /* owned: its arguments (JSON text) */
    bool waiting_written;              /* a resume waits for the tool output to be stored */
};

/* A workflow tool offered to the model agent (struct model_agent_tool's data). */
struct node_tool {
    struct wf_run *run;
    const struct wf_tool *tool;
};

static void run_walk(struct wf_run *r);
static void node_extra_tools(struct wf_run *r, const struct wf_node *n);

/* ---- substitution ---- */

/* The name inside "{{ ... }}" at s (after the braces), trimmed; 0 when there is no closing. */
static size_t braces_name(const char *s, const char **name, size_t *len)
{
    const char *close = strstr(s, "}}");
    if (!close)
        return 0;
    const char *a = s, *b = close;
    while (a < b && (*a == ' ' || *a == '\t'))
        a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
        b--;
    *name = a;
    *len = (size_t)(b - a);
    return (size_t)(close + 2 - s);
}

static int append_value(struct buf *out, const cJSON *v)
{
    if (!v || cJSON_IsNull(v))
        return 0;
    if (cJSON_IsString(v))
        return buf_append_str(out, v->valuestring);
    char *json = cJSON_PrintUnformatted(v);
    int rc = buf_append_str(out, json);
    free(json);
    return rc;
}

int wf_substitute(struct buf *out, const char *text, const cJSON *state, const char *input)
{
    int rc = 0;
    while (rc == 0 && *text) {
        const char *open = strstr(text, "{{"), *name;
        size_t len, used;
        if (!open)
            return buf_append_str(out, text);
        rc = buf_append(out, text, (size_t)(open - text));
        used = rc ? 0 : braces_name(open + 2, &name, &len);
        if (rc || used == 0) {
            if (!rc)
                rc = buf_append_str(out, open);
            return rc;
        }
        if (len == 13 && strncmp(name, "input_as_text", 13) == 0) {
            rc = buf_append_str(out, input ? input : "");
        } else if (len > 6 && strncmp(name, "state.", 6) == 0) {
            char var[128];
            snprintf(var, sizeof var, "%.*s", (int)(len - 6 < 127 ? len - 6 : 127), name + 6);
            rc = append_value(out, cJSON_GetObjectItemCaseSensitive(state, var));
        } else {
            rc = buf_append(out, open, used + 2);
        }
        text = open + 2 + used;
    }
    return rc;
}

/* ---- the run's lifetime ---- */

static void run_release(struct wf_run *r)
{
    ck_turn_set_context(r->t, NULL); /* a late cancel must not find the freed run */
    workflow_unref(r->w);
    cJSON_Delete(r->meta);
    free(r->input);
    free(r->client_args);
    free(r->tools_json);
    free(r->extra);
    free(r->extra_ctx);
    free(r);
}

/* Writes the run into the thread's metadata (in order with the turn's other writes). */
static void run_save(struct wf_run *r)
{
    cJSON_DeleteItemFromObjectCaseSensitive(r->run, "node");
    int node = r->node >= 0 ? r->node : r->at;
    if (node >= 0)
        cJSON_AddStringToObject(r->run, "node", r->w->nodes[node].id);
    char *json = cJSON_PrintUnformatted(r->meta);
    if (strlen(json) > WF_METADATA_MAX) {
        /* The last agent's output is the only unbounded part; drop it rather than the run. */
        cJSON_DeleteItemFromObjectCaseSensitive(r->run, "last");
        free(json);
        json = cJSON_PrintUnformatted(r->meta);
    }
    ck_turn_set_metadata(r->t, json);
    free(json);
}

/* The turn is over for this run: save it and let go of the turn. */
static void run_finish(struct wf_run *r)
{
    if (!ck_turn_cancelled(r->t))
        run_save(r);
    struct ck_turn *t = r->t;
    run_release(r);
    ck_turn_finish(t);
}

static void run_fail(struct wf_run *r, const char *message)
{
    log_warn(r->rt->cfg.log, "workflow %s %s: %s", r->w ? r->w->id : "?",
             r->w ? r->w->version : "?", message);
    struct ck_turn *t = r->t;
    run_release(r);
    ck_turn_fail(t, "custom", message, false);
}

/* ---- nodes ---- */

static void say(struct wf_run *r, const char *text)
{
    struct buf b;
    buf_init(&b, TEXT_MAX);
    wf_substitute(&b, text, r->state, r->input);
    if (b.len)
        ck_turn_emit_text_message(r->t, b.data, b.len);
    buf_free(&b);
}

/* The variables expressions see: state, input (the message text) and last (the last agent's
 * JSON output, null when none). state and last are cJSON references: deleting the scope leaves
 * the run's own values alone. */
static cJSON *scope_new(struct wf_run *r)
{
    cJSON *scope = cJSON_CreateObject();
    cJSON_AddItemReferenceToObject(scope, "state", r->state);
    cJSON_AddStringToObject(scope, "input", r->input);
    cJSON *last = cJSON_GetObjectItemCaseSensitive(r->run, "last");
    if (last)
        cJSON_AddItemReferenceToObject(scope, "last", last);
    else
        cJSON_AddNullToObject(scope, "last");
    return scope;
}

/* Evaluates e over the run; on failure the turn has failed naming the node and field. */
static int run_eval(struct wf_run *r, const struct wf_node *n, const char *what,
                    const struct wf_expr *e, cJSON **out)
{
    cJSON *scope = scope_new(r);
    char why[256], msg[400];
    int rc = wf_expr_eval(e, scope, out, why, sizeof why);
    cJSON_Delete(scope);
    if (rc) {
        snprintf(msg, sizeof msg, "The workflow's node '%s' failed: %s: %s", n->id, what, why);
        run_fail(r, msg);
    }
    return rc;
}

/* set_state: every value is computed before any is assigned, so one assignment never sees
 * another's result; a value of the wrong type fails the turn. */
static int apply_assigns(struct wf_run *r, const struct wf_node *n)
{
    cJSON *vals = cJSON_CreateArray();
    for (size_t i = 0; i < n->nassigns; i++) {
        const struct wf_assign *a = &n->assigns[i];
        cJSON *v = a->value ? cJSON_Duplicate(a->value, true) : NULL;
        if (!v && run_eval(r, n, a->variable, a->expr, &v)) {
            cJSON_Delete(vals);
            return ERR_INVALID;
        }
        const struct wf_var *var = workflow_var(r->w, a->variable);
        if (!workflow_value_has_type(v, var->type)) {
            char msg[300];
            snprintf(msg, sizeof msg,
                     "The workflow's node '%s' computed a value of the wrong "
                     "type for the state variable '%s'.",
                     n->id, a->variable);
            cJSON_Delete(v);
            cJSON_Delete(vals);
            run_fail(r, msg);
            return ERR_INVALID;
        }
        cJSON_AddItemToArray(vals, v);
    }
    for (size_t i = 0; i < n->nassigns; i++) {
        cJSON *v = cJSON_DetachItemFromArray(vals, 0);
        cJSON_ReplaceItemInObjectCaseSensitive(r->state, n->assigns[i].variable, v);
    }
    cJSON_Delete(vals);
    /* The state is saved with the thread on every turn: it has a size, like everything else. */
    char *json = cJSON_PrintUnformatted(r->state);
    size_t len = strlen(json);
    free(json);
    if (len > WF_STATE_MAX) {
        char msg[300];
        snprintf(msg, sizeof msg, "The workflow's node '%s' made the state larger than %d bytes.",
                 n->id, WF_STATE_MAX);
        run_fail(r, msg);
        return ERR_TOO_BIG;
    }
    return 0;
}

static int branch(struct wf_run *r, const struct wf_node *n)
{
    cJSON *v = NULL;
    if (run_eval(r, n, "condition", n->cond, &v))
        return ERR_INVALID;
    r->node = wf_expr_truthy(v) ? n->next : n->alt;
    cJSON_Delete(v);
    return 0;
}

static void write_approval_card(struct jw *w, const struct wf_run *r, const struct wf_node *n,
                                const char *title, const char *message)
{
    jw_obj_begin(w);
    jw_kv_str(w, "type", "Card");
    jw_key(w, "children");
    jw_arr_begin(w);
    jw_obj_begin(w);
    jw_kv_str(w, "type", "Text");
    jw_kv_str(w, "value", title);
    jw_kv_str(w, "weight", "semibold");
    jw_obj_end(w);
    if (message[0]) {
        jw_obj_begin(w);
        jw_kv_str(w, "type", "Text");
        jw_kv_str(w, "value", message);
        jw_kv_str(w, "color", "secondary");
        jw_obj_end(w);
    }
    jw_arr_end(w);
    static const char *const keys[] = {"confirm", "cancel"};
    static const char *const labels[] = {"Approve", "Reject"};
    static const char *const types[] = {WF_ACTION_APPROVE, WF_ACTION_REJECT};
    for (int i = 0; i < 2; i++) {
        jw_key(w, keys[i]);
        jw_obj_begin(w);
        jw_kv_str(w, "label", labels[i]);
        jw_key(w, "action");
        jw_obj_begin(w);
        jw_kv_str(w, "type", types[i]);
        jw_key(w, "payload");
        jw_obj_begin(w);
        jw_kv_str(w, "workflow_id", r->w->id);
        jw_kv_str(w, "node", n->id);
        jw_obj_end(w);
        jw_obj_end(w);
        jw_obj_end(w);
    }
    jw_obj_end(w);
}

/* The approval card must pass the widget catalogue like any other widget; when it does not
 * (a title the catalogue refuses), the turn fails with the reason. */
static int check_card(struct wf_run *r, const char *json)
{
    cJSON *card = cJSON_Parse(json);
    char why[300];
    snprintf(why, sizeof why, "it is not JSON");
    int rc = card ? widget_check(card, why, sizeof why) : ERR_INVALID;
    cJSON_Delete(card);
    if (rc) {
        char msg[400];
        snprintf(msg, sizeof msg, "The approval card cannot be shown: %s", why);
        run_fail(r, msg);
    }
    return rc;
}

/* Emits the card as a widget item (new, or replacing the one with id when replace). */
static void emit_card(struct wf_run *r, const char *widget, const char *copy, const char *id,
                      int64_t created_us, bool replace)
{
    struct buf item;
    buf_init(&item, TEXT_MAX * 2);
    struct jw w;
    jw_init(&w, &item);
    ck_write_widget_item(&w, id, ck_turn_thread(r->t)->id, created_us, widget, copy);
    if (replace)
        ck_turn_emit_item_replaced(r->t, id, "widget", created_us, item.data);
    else
        ck_turn_emit_item_done(r->t, id, "widget", created_us, item.data);
    buf_free(&item);
}

/* user_approval: show the card, remember where the run stands, end the turn. */
static void run_pause(struct wf_run *r, const struct wf_node *n)
{
    struct buf title, message, card;
    buf_init(&title, TEXT_MAX);
    buf_init(&message, TEXT_MAX);
    buf_init(&card, TEXT_MAX * 2);
    wf_substitute(&title, n->title, r->state, r->input);
    wf_substitute(&message, n->message, r->state, r->input);
    struct jw w;
    jw_init(&w, &card);
    write_approval_card(&w, r, n, title.data ? title.data : "", message.data ? message.data : "");
    if (check_card(r, card.data)) {
        buf_free(&title);
        buf_free(&message);
        buf_free(&card);
        return;
    }
    char id[ID_MAX];
    id_new("msg_", id);
    emit_card(r, card.data, title.data ? title.data : "", id, clock_wall_us(), false);
    cJSON *paused = cJSON_CreateObject();
    cJSON_AddStringToObject(paused, "node", n->id);
    cJSON_AddStringToObject(paused, "item_id", id);
    cJSON_AddStringToObject(paused, "title", title.data ? title.data : "");
    cJSON_AddStringToObject(paused, "input", r->input);
    cJSON_AddStringToObject(paused, "input_item_id", r->input_item_id);
    cJSON_DeleteItemFromObjectCaseSensitive(r->run, "paused");
    cJSON_AddItemToObject(r->run, "paused", paused);
    buf_free(&title);
    buf_free(&message);
    buf_free(&card);
    r->node = (int)(n - r->w->nodes);
    run_finish(r);
}

static void agent_done(struct ck_turn *t, bool failed, void *data)
{
    struct wf_run *r = data;
    if (failed || ck_turn_cancelled(t)) {
        run_release(r);
        ck_turn_finish(t);
        return;
    }
    const struct wf_node *n = &r->w->nodes[r->node];
    if (n->stay) {
        cJSON_DeleteItemFromObjectCaseSensitive(r->run, "agent");
        cJSON_AddStringToObject(r->run, "agent", n->id);
    }
    r->node = n->next;
    run_walk(r);
}

/* The node's task tools, in the provider's function-tool shape (owned by the caller); NULL when
 * the node has none. Its HTTP and client tools go to the model agent as extra tools. */
static char *node_tools_json(const struct wf_node *n)
{
    const char *all = tasks_tools_schema_json();
    cJSON *defs = cJSON_Parse(all), *out = cJSON_CreateArray();
    const cJSON *def;
    cJSON_ArrayForEach(def, defs)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(def, "name");
        for (size_t i = 0; i < n->ntools && cJSON_IsString(name); i++) {
            if (n->tools[i].kind == WF_TOOL_TASK &&
                strcmp(n->tools[i].name, name->valuestring) == 0)
                cJSON_AddItemToArray(out, cJSON_Duplicate(def, true));
        }
    }
    char *json = cJSON_GetArraySize(out) ? cJSON_PrintUnformatted(out) : NULL;
    cJSON_Delete(defs);
    cJSON_Delete(out);
    return json;
}

/* An object member, created empty when it is missing or not an object. */
static cJSON *child_object(cJSON *parent, const char *key)
{
    cJSON *o = cJSON_GetObjectItemCaseSensitive(parent, key);
    if (!cJSON_IsObject(o)) {
        cJSON_DeleteItemFromObjectCaseSensitive(parent, key);
        o = cJSON_AddObjectToObject(parent, key);
    }
    return o;
}

/* Token usage in the thread metadata, the same shape the model agent's own responder keeps:
 * {"usage": {"turns": {MESSAGE_ID: {..., "response_id"}}, "total": {...}}}, the newest
 * WF_USAGE_KEPT turns only; several model nodes in one turn add up. The run remembers the last
 * response id (previous_response_id). */
static void record_usage(struct wf_run *r, const struct model_agent_outcome *o)
{
    static const char *const names[4] = {"input_tokens", "output_tokens", "reasoning_tokens",
                                         "cached_tokens"};
    const int64_t v[4] = {o->usage.input_tokens, o->usage.output_tokens, o->usage.reasoning_tokens,
                          o->usage.cached_tokens};
    cJSON *usage = child_object(r->meta, "usage");
    cJSON *turns = child_object(usage, "turns"), *total = child_object(usage, "total");
    const char *key = r->input_item_id[0] ? r->input_item_id : "continuation";
    cJSON *turn = cJSON_GetObjectItemCaseSensitive(turns, key);
    if (!turn) {
        while (cJSON_GetArraySize(turns) >= WF_USAGE_KEPT)
            cJSON_DeleteItemFromArray(turns, 0);
    }
    turn = child_object(turns, key);
    for (int i = 0; i < 4; i++) {
        cJSON *objs[2] = {turn, total};
        for (int j = 0; j < 2; j++) {
            const cJSON *old = cJSON_GetObjectItemCaseSensitive(objs[j], names[i]);
            double sum = (cJSON_IsNumber(old) ? old->valuedouble : 0) + (double)v[i];
            cJSON_DeleteItemFromObjectCaseSensitive(objs[j], names[i]);
            cJSON_AddNumberToObject(objs[j], names[i], sum);
        }
    }
    if (o->response_id && o->response_id[0]) {
        cJSON_DeleteItemFromObjectCaseSensitive(turn, "response_id");
        cJSON_AddStringToObject(turn, "response_id", o->response_id);
        cJSON_DeleteItemFromObjectCaseSensitive(r->run, "previous_response_id");
        cJSON_AddStringToObject(r->run, "previous_response_id", o->response_id);
    }
}

/* A widget output: the agent's JSON answer fills the node's widget, shown as a widget item. On
 * failure the turn has failed with the reason. */
static int emit_rendered_widget(struct wf_run *r, const struct wf_node *n, const cJSON *data)
{
    cJSON *widget = NULL;
    char why[512];
    if (widget_file_render(n->widget, data, &widget, why, sizeof why)) {
        char msg[700];
        snprintf(msg, sizeof msg, "The agent '%s' answered data its widget cannot show: %s", n->id,
                 why);
        run_fail(r, msg);
        return ERR_INVALID;
    }
    char *json = cJSON_PrintUnformatted(widget);
    char id[ID_MAX];
    id_new("msg_", id);
    emit_card(r, json, widget_file_name(n->widget), id, clock_wall_us(), false);
    free(json);
    cJSON_Delete(widget);
    return 0;
}

/* The model called a client tool: the page answers it (spec §9). The turn ends on a pending
 * client_tool_call item, and threads.add_client_tool_output resumes the run at this node. */
static void pause_for_client(struct wf_run *r, const struct wf_node *n)
{
    char id[ID_MAX], call_id[ID_MAX];
    id_new("tc_", id);
    id_new("call_", call_id);
    int64_t now = clock_wall_us();
    struct buf item;
    buf_init(&item, TEXT_MAX);
    struct jw w;
    jw_init(&w, &item);
    ck_write_item_head(&w, id, ck_turn_thread(r->t)->id, now, "client_tool_call");
    jw_kv_str(&w, "status", "pending");
    jw_kv_str(&w, "call_id", call_id);
    jw_kv_str(&w, "name", r->client_tool->name);
    jw_key(&w, "arguments");
    jw_raw(&w, r->client_args, strlen(r->client_args));
    jw_obj_end(&w);
    ck_turn_emit_item_done(r->t, id, "client_tool_call", now, item.data);
    buf_free(&item);
    cJSON *pending = cJSON_CreateObject();
    cJSON_AddStringToObject(pending, "node", n->id);
    cJSON_AddStringToObject(pending, "item_id", id);
    cJSON_DeleteItemFromObjectCaseSensitive(r->run, "client_call");
    cJSON_AddItemToObject(r->run, "client_call", pending);
    run_finish(r);
}

static void model_done(void *data, const struct model_agent_outcome *o)
{
    struct wf_run *r = data;
    r->model_run = NULL;
    const struct wf_node *n = &r->w->nodes[r->node];
    record_usage(r, o);
    if (r->client_tool && !ck_turn_cancelled(r->t)) {
        pause_for_client(r, n);
        return;
    }
    if (o->cancelled || ck_turn_cancelled(r->t)) {
        run_finish(r);
        return;
    }
    if (o->status) {
        run_save(r);
        struct ck_turn *t = r->t;
        run_release(r);
        ck_turn_fail(t, "custom", o->message, o->allow_retry);
        return;
    }
    if (n->output != WF_OUTPUT_TEXT) {
        cJSON *last = cJSON_Parse(o->output_text ? o->output_text : "");
        if (!last) {
            char msg[300];
            snprintf(msg, sizeof msg, "The agent '%s' did not answer with JSON.", n->id);
            run_fail(r, msg);
            return;
        }
        /* The model agent did not show the JSON (it is data for the workflow); the widget, if
         * any, is what the user sees of it. */
        cJSON_DeleteItemFromObjectCaseSensitive(r->run, "last");
        cJSON_AddItemToObject(r->run, "last", last);
        if (n->output == WF_OUTPUT_WIDGET && emit_rendered_widget(r, n, last))
            return;
    }
    agent_done(r->t, false, r);
}

static void run_model_agent(struct wf_run *r, const struct wf_node *n)
{
    struct buf instructions;
    buf_init(&instructions, TEXT_MAX);
    wf_substitute(&instructions, n->instructions, r->state, r->input);
    char *schema = NULL;
    free(r->tools_json); /* the previous model node's, done with */
    r->tools_json = node_tools_json(n);
    node_extra_tools(r, n);
    const char *tools = r->tools_json;
    if (n->output == WF_OUTPUT_JSON)
        schema = cJSON_PrintUnformatted(n->output_schema);
    else if (n->output == WF_OUTPUT_WIDGET)
        schema = cJSON_PrintUnformatted(widget_file_schema(n->widget));
    struct model_agent_params p = {.model_ref = n->model,
                                   .instructions = instructions.data,
                                   .tools_json = tools,
                                   .extra_tools = r->extra,
                                   .nextra_tools = r->nextra,
                                   .tool_choice = tools || r->nextra ? "auto" : NULL,
                                   .output_schema_json = schema,
                                   .output_schema_name = !schema ? NULL
                                                         : n->output == WF_OUTPUT_JSON
                                                             ? n->output_name
                                                             : n->id,
                                   .history = n->history,
                                   .max_steps = n->max_steps,
                                   .allow_request_model = n->composer_options};
    r->model_run = model_agent_run(r->rt->cfg.models, r->t, &p, model_done, r);
    buf_free(&instructions);
    free(schema);
    if (!r->model_run)
        run_fail(r, "The server is shutting down.");
}

/* ---- HTTP and client tools called by a model agent ---- */

struct tool_call {
    model_agent_tool_done_fn done;
    void *call;
};

static void tool_call_done(void *data, bool ok, const char *output)
{
    (void)ok; /* an error output is still the tool's answer: the model reads it */
    struct tool_call *tc = data;
    tc->done(tc->call, output);
    free(tc);
}

/* The model agent waits for every tool's answer, also when it is being stopped: a client tool
 * gets one from a zero-delay timer (the run pauses, so the model never reads it). */
struct deferred_answer {
    uv_timer_t timer;
    model_agent_tool_done_fn done;
    void *call;
};

static void deferred_closed(uv_handle_t *h)
{
    free(h->data);
}

static void deferred_fire(uv_timer_t *timer)
{
    struct deferred_answer *d = timer->data;
    d->done(d->call, "{\"error\":\"the page answers this tool\"}");
    uv_close((uv_handle_t *)&d->timer, deferred_closed);
}

static int client_tool_call(struct wf_run *r, const struct wf_tool *tool, const char *args_json,
                            model_agent_tool_done_fn done, void *call)
{
    if (r->client_tool) /* one client call per turn: the first one pauses the run */
        return ERR_EXISTS;
    r->client_tool = tool;
    r->client_args = xstrdup(args_json);
    struct deferred_answer *d = xcalloc(1, sizeof *d);
    d->done = done;
    d->call = call;
    uv_timer_init(r->rt->cfg.http.loop, &d->timer);
    d->timer.data = d;
    uv_timer_start(&d->timer, deferred_fire, 0, 0);
    model_agent_run_cancel(r->model_run);
    return 0;
}

/* struct model_agent_tool's run for a node's HTTP or client tool. */
static int node_tool_run(void *data, const struct model_agent_tool *agent_tool,
                         const char *args_json, model_agent_tool_done_fn done, void *call)
{
    (void)agent_tool;
    struct node_tool *nt = data;
    if (nt->tool->kind == WF_TOOL_CLIENT)
        return client_tool_call(nt->run, nt->tool, args_json, done, call);
    struct tool_call *tc = xcalloc(1, sizeof *tc);
    tc->done = done;
    tc->call = call;
    struct http_tool_call *http;
    int rc =
        http_tool_start(&nt->run->rt->cfg.http, nt->tool, args_json, tool_call_done, tc, &http);
    if (rc)
        free(tc);
    return rc;
}

/* The node's HTTP and client tools as the model agent's extra tools (r->extra). */
static void node_extra_tools(struct wf_run *r, const struct wf_node *n)
{
    free(r->extra);
    free(r->extra_ctx);
    r->extra = xcalloc(n->ntools ? n->ntools : 1, sizeof *r->extra);
    r->extra_ctx = xcalloc(n->ntools ? n->ntools : 1, sizeof *r->extra_ctx);
    r->nextra = 0;
    for (size_t i = 0; i < n->ntools; i++) {
        const struct wf_tool *tool = &n->tools[i];
        if (tool->kind == WF_TOOL_TASK)
            continue;
        struct node_tool *nt = &r->extra_ctx[r->nextra];
        nt->run = r;
        nt->tool = tool;
        r->extra[r->nextra++] = (struct model_agent_tool){.name = tool->name,
                                                          .description = tool->description,
                                                          .parameters = tool->parameters,
                                                          .run = node_tool_run,
                                                          .data = nt};
    }
}

/* The model agent's own responder answered (the default workflow): it kept its own part of the
 * metadata (usage, the response to continue), so the run adopts the thread's metadata as it is
 * now and puts its own member back into it. */
static void default_agent_done(struct ck_turn *t, bool failed, void *data)
{
    struct wf_run *r = data;
    const char *json = ck_turn_thread(t)->metadata_json;
    cJSON *fresh = json ? cJSON_Parse(json) : NULL;
    if (cJSON_IsObject(fresh)) {
        cJSON *run = cJSON_DetachItemFromObjectCaseSensitive(r->meta, "workflow_run");
        cJSON_DeleteItemFromObjectCaseSensitive(fresh, "workflow_run");
        cJSON_AddItemToObject(fresh, "workflow_run", run);
        cJSON_Delete(r->meta);
        r->meta = fresh;
    } else {
        cJSON_Delete(fresh);
    }
    agent_done(t, failed, r);
}

static void run_agent(struct wf_run *r, const struct wf_node *n)
{
    if (strcmp(n->model, "builtin:tasks") == 0) {
        ck_turn_delegate(r->t, &r->rt->cfg.builtin->message_responder, r->input,
                         r->input_item_id[0] ? r->input_item_id : NULL, agent_done, r);
        return;
    }
    if (r->w->embedded && ck_turn_user_text(r->t)) {
        /* The default task assistant is the model agent's own responder: its instructions, its
         * tools, and the composer's model and tool choice. */
        ck_turn_delegate(r->t, &r->rt->cfg.models->responder, NULL, NULL, default_agent_done, r);
        return;
    }
    char why[256];
    if (model_ref_check(r->rt->cfg.models->models, n->model, why, sizeof why)) {
        char msg[400];
        snprintf(msg, sizeof msg, "The agent '%s' cannot run: %s", n->id, why);
        run_fail(r, msg);
        return;
    }
    run_model_agent(r, n);
}

/* Executes nodes until the run pauses, waits for an agent, or has nowhere to go. */
static void run_walk(struct wf_run *r)
{
    for (;;) {
        if (ck_turn_cancelled(r->t) || r->node < 0) {
            run_finish(r);
            return;
        }
        if (++r->steps > WF_RUN_MAX_STEPS) {
            run_fail(r, "The workflow passed through too many steps in one turn (a loop?).");
            return;
        }
        const struct wf_node *n = &r->w->nodes[r->node];
        r->at = r->node;
        switch (n->kind) {
        case WF_START:
            r->node = n->next;
            break;
        case WF_SET_STATE:
            if (apply_assigns(r, n))
                return;
            r->node = n->next;
            break;
        case WF_END:
            say(r, n->end_message);
            r->node = -1;
            break;
        case WF_USER_APPROVAL:
            run_pause(r, n);
            return;
        case WF_AGENT:
            run_agent(r, n);
            return;
        case WF_IF_ELSE:
            if (branch(r, n))
                return;
            break;
        }
    }
}

/* ---- starting a turn ---- */

/* The thread's metadata and its run member (created empty when absent). */
static void load_meta(struct wf_run *r)
{
    const char *json = ck_turn_thread(r->t)->metadata_json;
    r->meta = json ? cJSON_Parse(json) : NULL;
    if (!cJSON_IsObject(r->meta)) {
        cJSON_Delete(r->meta);
        r->meta = cJSON_CreateObject();
    }
    r->run = cJSON_GetObjectItemCaseSensitive(r->meta, "workflow_run");
    if (!cJSON_IsObject(r->run)) {
        cJSON_DeleteItemFromObjectCaseSensitive(r->meta, "workflow_run");
        r->run = cJSON_AddObjectToObject(r->meta, "workflow_run");
    }
}

static const char *run_str(const struct wf_run *r, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->run, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Points the run at w (taking a reference) and records its id and version. */
static void run_use(struct wf_run *r, struct workflow *w)
{
    workflow_ref(w);
    r->w = w;
    cJSON_DeleteItemFromObjectCaseSensitive(r->run, "workflow_id");
    cJSON_DeleteItemFromObjectCaseSensitive(r->run, "version");
    cJSON_AddStringToObject(r->run, "workflow_id", w->id);
    cJSON_AddStringToObject(r->run, "version", w->version);
}

/* A fresh state: the defaults, with the session's values for declared variables of the right
 * type on top. */
static cJSON *fresh_state(const struct wf_run *r)
{
    cJSON *state = workflow_default_state(r->w);
    const char *json = ck_turn_workflow(r->t)->state_variables_json;
    cJSON *given = json ? cJSON_Parse(json) : NULL;
    const cJSON *v;
    cJSON_ArrayForEach(v, given)
    {
        const struct wf_var *var = v->string ? workflow_var(r->w, v->string) : NULL;
        if (var && workflow_value_has_type(v, var->type))
            cJSON_ReplaceItemInObjectCaseSensitive(state, var->name, cJSON_Duplicate(v, true));
    }
    cJSON_Delete(given);
    return state;
}

/* Makes sure the run has a state object holding every variable of the graph. */
static void ensure_state(struct wf_run *r, bool fresh)
{
    cJSON *state = cJSON_GetObjectItemCaseSensitive(r->run, "state");
    if (fresh || !cJSON_IsObject(state)) {
        cJSON_DeleteItemFromObjectCaseSensitive(r->run, "state");
        cJSON_AddItemToObject(r->run, "state", fresh_state(r));
        state = cJSON_GetObjectItemCaseSensitive(r->run, "state");
    }
    for (size_t i = 0; i < r->w->nvars; i++) {
        if (!cJSON_GetObjectItemCaseSensitive(state, r->w->vars[i].name))
            cJSON_AddItemToObject(state, r->w->vars[i].name,
                                  cJSON_Duplicate(r->w->vars[i].def, true));
    }
    r->state = state;
}

static void message_start(struct wf_run *r)
{
    const struct ck_turn_workflow *tw = ck_turn_workflow(r->t);
    const struct workflow_set *set = r->rt->cfg.set;
    const char *id = tw->id[0] ? tw->id : WORKFLOW_BUILTIN_TASKS;
    struct workflow *w = workflow_set_find(set, id, tw->version);
    if (!w) {
        char msg[300];
        snprintf(msg, sizeof msg, "The workflow '%s'%s%s is not loaded on this server.", id,
                 tw->version[0] ? " version " : "", tw->version);
        run_fail(r, msg);
        return;
    }
    const char *text = ck_turn_user_text(r->t), *item = ck_turn_user_item_id(r->t);
    r->input = xstrdup(text ? text : "");
    snprintf(r->input_item_id, sizeof r->input_item_id, "%s", item ? item : "");
    /* A new message leaves a pending approval behind: its card no longer resumes anything. */
    cJSON_DeleteItemFromObjectCaseSensitive(r->run, "paused");
    const char *run_id = run_str(r, "workflow_id"), *agent = run_str(r, "agent");
    bool same = run_id && strcmp(run_id, w->id) == 0;
    struct workflow *stay_w =
        same && agent ? workflow_set_find(set, w->id, run_str(r, "version")) : NULL;
    int stay_node = stay_w ? workflow_node_index(stay_w, agent) : -1;
    if (stay_node >= 0 && stay_w->nodes[stay_node].kind == WF_AGENT) {
        run_use(r, stay_w);
        r->node = stay_node;
    } else {
        cJSON_DeleteItemFromObjectCaseSensitive(r->run, "agent");
        run_use(r, w);
        r->node = w->start;
    }
    ensure_state(r, !same);
    cJSON *turns = cJSON_GetObjectItemCaseSensitive(r->run, "turns");
    double n = cJSON_IsNumber(turns) ? turns->valuedouble + 1 : 1;
    cJSON_DeleteItemFromObjectCaseSensitive(r->run, "turns");
    cJSON_AddNumberToObject(r->run, "turns", n);
    run_walk(r);
}

/* The card after the decision: the title and what was decided, no buttons. */
static void replace_decided_card(struct wf_run *r, const char *title, bool approved)
{
    const struct store_item *sender = ck_turn_item(r->t);
    struct buf card, copy;
    buf_init(&card, TEXT_MAX * 2);
    buf_init(&copy, TEXT_MAX);
    buf_appendf(&copy, "%s %s", title, approved ? "(approved)" : "(rejected)");
    struct jw w;
    jw_init(&w, &card);
    jw_obj_begin(&w);
    jw_kv_str(&w, "type", "Card");
    jw_key(&w, "children");
    jw_arr_begin(&w);
    jw_obj_begin(&w);
    jw_kv_str(&w, "type", "Text");
    jw_kv_str(&w, "value", title);
    jw_kv_str(&w, "weight", "semibold");
    jw_obj_end(&w);
    jw_obj_begin(&w);
    jw_kv_str(&w, "type", "Text");
    jw_kv_str(&w, "value", approved ? "Approved" : "Rejected");
    jw_kv_str(&w, "color", approved ? "success" : "danger");
    jw_obj_end(&w);
    jw_arr_end(&w);
    jw_obj_end(&w);
    emit_card(r, card.data, copy.data, sender->id, sender->created_us, true);
    buf_free(&card);
    buf_free(&copy);
}

static void action_start(struct wf_run *r)
{
    const struct ck_request *req = ck_turn_request(r->t);
    const struct store_item *sender = ck_turn_item(r->t);
    cJSON *paused = cJSON_GetObjectItemCaseSensitive(r->run, "paused");
    const cJSON *item_id = cJSON_GetObjectItemCaseSensitive(paused, "item_id");
    if (!sender || !cJSON_IsString(item_id) || strcmp(item_id->valuestring, sender->id) != 0) {
        run_fail(r, "This approval is no longer pending.");
        return;
    }
    struct workflow *w =
        workflow_set_find(r->rt->cfg.set, run_str(r, "workflow_id"), run_str(r, "version"));
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(paused, "node");
    int at = w && cJSON_IsString(node) ? workflow_node_index(w, node->valuestring) : -1;
    if (at < 0 || w->nodes[at].kind != WF_USER_APPROVAL) {
        run_fail(r, "The workflow version this approval belongs to is no longer loaded.");
        return;
    }
    run_use(r, w);
    ensure_state(r, false);
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(paused, "input");
    const cJSON *input_item = cJSON_GetObjectItemCaseSensitive(paused, "input_item_id");
    const cJSON *title = cJSON_GetObjectItemCaseSensitive(paused, "title");
    r->input = xstrdup(cJSON_IsString(input) ? input->valuestring : "");
    snprintf(r->input_item_id, sizeof r->input_item_id, "%s",
             cJSON_IsString(input_item) ? input_item->valuestring : "");
    bool approved = strcmp(req->action_type, WF_ACTION_APPROVE) == 0;
    replace_decided_card(r, cJSON_IsString(title) ? title->valuestring : w->nodes[at].title,
                         approved);
    cJSON_DeleteItemFromObjectCaseSensitive(r->run, "paused");
    r->node = approved ? w->nodes[at].next : w->nodes[at].alt;
    run_walk(r);
}

/* The tool output is stored (the model agent reads the thread from the store): run the node
 * again; the model sees its call and the page's answer and goes on. */
static void client_output_written(struct ck_turn *t, void *data)
{
    (void)t;
    struct wf_run *r = data;
    r->waiting_written = false;
    run_model_agent(r, &r->w->nodes[r->node]);
}

static void client_resume(struct wf_run *r)
{
    cJSON *pending = cJSON_GetObjectItemCaseSensitive(r->run, "client_call");
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(pending, "node");
    const cJSON *item_id = cJSON_GetObjectItemCaseSensitive(pending, "item_id");
    const struct store_item *call = ck_turn_item(r->t);
    struct workflow *w =
        workflow_set_find(r->rt->cfg.set, run_str(r, "workflow_id"), run_str(r, "version"));
    int at = w && cJSON_IsString(node) ? workflow_node_index(w, node->valuestring) : -1;
    if (at < 0 || w->nodes[at].kind != WF_AGENT || !call || !cJSON_IsString(item_id) ||
        strcmp(call->id, item_id->valuestring) != 0) {
        run_fail(r, "The workflow step that asked for this tool output is no longer available.");
        return;
    }
    run_use(r, w);
    ensure_state(r, false);
    r->input = xstrdup("");
    cJSON_DeleteItemFromObjectCaseSensitive(r->run, "client_call");
    r->node = at;
    r->waiting_written = true;
    ck_turn_when_written(r->t, client_output_written, r);
}

static void responder_start(struct ck_turn *t, void *data)
{
    struct wf_run *r = xcalloc(1, sizeof *r);
    r->rt = data;
    r->t = t;
    r->node = -1;
    r->at = -1;
    ck_turn_set_context(t, r);
    load_meta(r);
    enum ck_type type = ck_turn_request(t)->type;
    if (type == CK_THREADS_CUSTOM_ACTION)
        action_start(r);
    else if (type == CK_THREADS_ADD_CLIENT_TOOL_OUTPUT)
        client_resume(r);
    else
        message_start(r);
}

/* The runtime only waits while an agent node runs. A builtin agent hears the cancel itself
 * (it is the turn's responder then); a model agent is stopped here and reports ERR_CLOSED later.
 * At any other time a cancel arrives from inside our own emit calls, and the walk checks the
 * flag. */
static void responder_cancel(struct ck_turn *t, void *data)
{
    (void)data;
    struct wf_run *r = ck_turn_context(t);
    if (r && r->model_run)
        model_agent_run_cancel(r->model_run);
    else if (r && r->waiting_written)
        run_finish(r); /* the queued call-back went with the cancelled queue */
}

void wf_runtime_init(struct wf_runtime *rt, const struct wf_runtime_config *cfg)
{
    rt->cfg = *cfg;
    rt->responder.start = responder_start;
    rt->responder.cancel = responder_cancel;
    rt->responder.data = rt;
}

bool wf_runtime_owns_turn(const struct ck_turn *t)
{
    const struct ck_request *req = ck_turn_request(t);
    if (req->type == CK_THREADS_CUSTOM_ACTION)
        return wf_runtime_owns_action(req->action_type);
    if (req->type != CK_THREADS_ADD_CLIENT_TOOL_OUTPUT)
        return false;
    const char *json = ck_turn_thread(t)->metadata_json;
    cJSON *meta = json ? cJSON_Parse(json) : NULL;
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(meta, "workflow_run");
    bool ours = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(run, "client_call"));
    cJSON_Delete(meta);
    return ours;
}

bool wf_runtime_owns_action(const char *action_type)
{
    return action_type && (strcmp(action_type, WF_ACTION_APPROVE) == 0 ||
                           strcmp(action_type, WF_ACTION_REJECT) == 0);
}
