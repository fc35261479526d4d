#include "model/responses.h"

#include "core/err.h"
#include "core/json_read.h"
#include "core/json_write.h"
#include "model/chat_compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_DEPTH 64

/* Reasoning models stream a summary of their reasoning only when asked; other models refuse
 * the `reasoning` parameter, so it is sent only to the reasoning families. */
static bool model_reasons(const char *model)
{
    return (model[0] == 'o' && model[1] >= '1' && model[1] <= '9') ||
           strncmp(model, "gpt-5", 5) == 0;
}

static int check_array(const char *json, const char *what, char *why, size_t whylen)
{
    cJSON *doc = json_parse(json, strlen(json), JSON_DEPTH, NULL);
    bool ok = cJSON_IsArray(doc);
    cJSON_Delete(doc);
    if (!ok) {
        snprintf(why, whylen, "%s must be a JSON array", what);
        return ERR_INVALID;
    }
    return 0;
}

static void write_tool_choice(struct jw *w, const char *choice)
{
    jw_key(w, "tool_choice");
    if (!strcmp(choice, "auto") || !strcmp(choice, "none") || !strcmp(choice, "required")) {
        jw_str(w, choice);
        return;
    }
    jw_obj_begin(w);
    jw_kv_str(w, "type", "function");
    jw_kv_str(w, "name", choice);
    jw_obj_end(w);
}

static void write_text_format(struct jw *w, const struct model_call_params *p)
{
    jw_key(w, "text");
    jw_obj_begin(w);
    jw_key(w, "format");
    jw_obj_begin(w);
    jw_kv_str(w, "type", "json_schema");
    jw_kv_str(w, "name", p->output_schema_name ? p->output_schema_name : "output");
    jw_key(w, "schema");
    jw_raw(w, p->output_schema_json, strlen(p->output_schema_json));
    jw_kv_bool(w, "strict", true);
    jw_obj_end(w);
    jw_obj_end(w);
}

int responses_request_build(const struct model_call_params *p, struct buf *out, char *why,
                            size_t whylen)
{
    const char *input = p->input_json ? p->input_json : "";
    if (check_array(input, "input", why, whylen) ||
        (p->tools_json && check_array(p->tools_json, "tools", why, whylen)))
        return ERR_INVALID;
    struct jw w;
    jw_init(&w, out);
    jw_obj_begin(&w);
    jw_kv_str(&w, "model", p->model);
    if (p->instructions && p->instructions[0])
        jw_kv_str(&w, "instructions", p->instructions);
    jw_key(&w, "input");
    jw_raw(&w, input, strlen(input));
    if (p->tools_json) {
        jw_key(&w, "tools");
        jw_raw(&w, p->tools_json, strlen(p->tools_json));
    }
    if (p->tool_choice && p->tool_choice[0])
        write_tool_choice(&w, p->tool_choice);
    if (p->output_schema_json)
        write_text_format(&w, p);
    if (p->previous_response_id && p->previous_response_id[0])
        jw_kv_str(&w, "previous_response_id", p->previous_response_id);
    jw_kv_bool(&w, "store", p->store);
    if (p->temperature >= 0) {
        jw_key(&w, "temperature");
        jw_double(&w, p->temperature);
    }
    if (p->max_output_tokens > 0)
        jw_kv_int(&w, "max_output_tokens", p->max_output_tokens);
    if (model_reasons(p->model)) {
        jw_key(&w, "reasoning");
        jw_obj_begin(&w);
        jw_kv_str(&w, "summary", "auto");
        jw_obj_end(&w);
    }
    jw_kv_bool(&w, "stream", true);
    jw_obj_end(&w);
    if (jw_error(&w)) {
        snprintf(why, whylen, "the request is too large or malformed");
        return jw_error(&w);
    }
    return 0;
}

void responses_stream_init(struct responses_stream *s)
{
    memset(s, 0, sizeof *s);
}

/* response.completed / response.incomplete: usage, and why it stopped. */
static int take_end(struct responses_stream *s, const cJSON *doc, bool complete)
{
    const cJSON *response = NULL, *details = NULL;
    const char *reason = NULL;
    json_get_obj(doc, "response", &response);
    model_usage_read(json_get(response, "usage"), "input_tokens", "output_tokens", &s->usage);
    if (complete) {
        snprintf(s->finish_reason, sizeof s->finish_reason, "%s",
                 s->called_tools ? "tool_calls" : "stop");
    } else {
        json_get_obj(response, "incomplete_details", &details);
        json_get_str(details, "reason", &reason);
        snprintf(s->finish_reason, sizeof s->finish_reason, "%s",
                 reason && strcmp(reason, "content_filter") == 0 ? "content_filter" : "length");
    }
    return MODEL_STREAM_END;
}

static int take_failure(struct responses_stream *s, const cJSON *doc)
{
    const cJSON *response = NULL, *err = NULL;
    const char *msg = NULL;
    if (json_get_obj(doc, "response", &response) == 0)
        json_get_obj(response, "error", &err);
    if (json_get_str(err, "message", &msg) != 0)
        json_get_str(doc, "message", &msg);
    snprintf(s->error, sizeof s->error, "%s", msg && msg[0] ? msg : "the model failed");
    return ERR_UNAVAILABLE;
}

/* An output item of type image_generation_call: its id, or NULL. */
static const char *image_item_id(const cJSON *item)
{
    const char *type = NULL, *id = NULL;
    if (json_get_str(item, "type", &type) != 0 || strcmp(type, "image_generation_call") != 0 ||
        json_get_str(item, "id", &id) != 0)
        return NULL;
    return id;
}

static void take_item_added(struct responses_stream *s, const cJSON *doc,
                            const struct model_call_events *ev, void *data)
{
    const cJSON *item = NULL;
    json_get_obj(doc, "item", &item);
    const char *id = image_item_id(item);
    if (!id || !ev->image_started)
        return;
    s->token_seen = true;
    ev->image_started(data, id);
}

static void take_partial_image(struct responses_stream *s, const cJSON *doc,
                               const struct model_call_events *ev, void *data)
{
    const char *id = NULL, *b64 = NULL;
    int64_t index = 0;
    if (json_get_str(doc, "item_id", &id) != 0 || json_get_str(doc, "partial_image_b64", &b64) ||
        !b64[0] || !ev->image_partial)
        return;
    json_get_int(doc, "partial_image_index", 0, INT32_MAX, &index);
    s->token_seen = true;
    ev->image_partial(data, id, (int)index, b64);
}

static void take_image_done(const cJSON *item, const char *id, const struct model_call_events *ev,
                            void *data)
{
    const char *b64 = NULL, *format = NULL;
    if (json_get_str(item, "result", &b64) != 0 || !b64[0] || !ev->image_done)
        return;
    if (json_get_str(item, "output_format", &format) != 0 || !format[0] ||
        strspn(format, "abcdefghijklmnopqrstuvwxyz") != strlen(format) || strlen(format) > 8)
        format = "png";
    ev->image_done(data, id, b64, format);
}

static void take_item_done(struct responses_stream *s, const cJSON *doc,
                           const struct model_call_events *ev, void *data)
{
    const cJSON *item = NULL;
    const char *type = NULL, *call_id = NULL, *name = NULL, *args = NULL;
    json_get_obj(doc, "item", &item);
    const char *image_id = image_item_id(item);
    if (image_id) {
        take_image_done(item, image_id, ev, data);
        return;
    }
    if (!item || json_get_str(item, "type", &type) != 0 || strcmp(type, "function_call") != 0)
        return;
    if (json_get_str(item, "call_id", &call_id) != 0 || json_get_str(item, "name", &name) != 0)
        return;
    if (json_get_str(item, "arguments", &args) != 0 || !args[0])
        args = "{}";
    s->called_tools = true;
    ev->tool_call(data, call_id, name, args);
}

static void take_delta(struct responses_stream *s, const char *name, const cJSON *doc,
                       const struct model_call_events *ev, void *data)
{
    const char *delta = NULL, *item_id = "";
    if (json_get_str(doc, "delta", &delta) != 0 || !delta[0])
        return;
    json_get_str(doc, "item_id", &item_id);
    s->token_seen = true;
    if (strcmp(name, "response.output_text.delta") == 0) {
        ev->text_delta(data, item_id, delta, strlen(delta));
    } else if (strcmp(name, "response.reasoning_summary_text.delta") == 0) {
        int64_t index = 0;
        json_get_int(doc, "summary_index", 0, INT32_MAX, &index);
        ev->reasoning_delta(data, (int)index, delta, strlen(delta));
    }
}

static void take_annotation(const cJSON *doc, const struct model_call_events *ev, void *data)
{
    const cJSON *a = NULL;
    const char *item_id = "";
    if (json_get_obj(doc, "annotation", &a) != 0)
        return;
    json_get_str(doc, "item_id", &item_id);
    char *text = json_print(a);
    if (text)
        ev->annotation(data, item_id, text);
    free(text);
}

int responses_stream_feed(struct responses_stream *s, const char *name, const char *payload,
                          size_t len, const struct model_call_events *ev, void *data)
{
    cJSON *doc = json_parse(payload, len, JSON_DEPTH, NULL);
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        snprintf(s->error, sizeof s->error, "the model server sent a malformed stream event");
        return ERR_INVALID;
    }
    if (!name[0] && json_get_str(doc, "type", &name) != 0)
        name = "";
    int rc = 0;
    const cJSON *response = NULL;
    const char *id = NULL;
    if (!s->response_id[0] && json_get_obj(doc, "response", &response) == 0 &&
        json_get_str(response, "id", &id) == 0)
        snprintf(s->response_id, sizeof s->response_id, "%s", id);
    if (!strcmp(name, "response.output_text.delta") ||
        !strcmp(name, "response.reasoning_summary_text.delta"))
        take_delta(s, name, doc, ev, data);
    else if (!strcmp(name, "response.function_call_arguments.delta"))
        s->token_seen = true;
    else if (!strcmp(name, "response.output_text.annotation.added"))
        take_annotation(doc, ev, data);
    else if (!strcmp(name, "response.output_item.done"))
        take_item_done(s, doc, ev, data);
    else if (!strcmp(name, "response.output_item.added"))
        take_item_added(s, doc, ev, data);
    else if (!strcmp(name, "response.image_generation_call.partial_image"))
        take_partial_image(s, doc, ev, data);
    else if (!strcmp(name, "response.completed"))
        rc = take_end(s, doc, true);
    else if (!strcmp(name, "response.incomplete"))
        rc = take_end(s, doc, false);
    else if (!strcmp(name, "response.failed") || !strcmp(name, "error"))
        rc = take_failure(s, doc);
    cJSON_Delete(doc);
    return rc;
}

void responses_stream_result(const struct responses_stream *s, struct model_call_result *r)
{
    r->response_id = s->response_id;
    r->finish_reason = s->finish_reason;
    r->usage = s->usage;
}
