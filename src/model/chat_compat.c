#include "model/chat_compat.h"

#include "core/err.h"
#include "core/json_read.h"
#include "core/json_write.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_DEPTH 64

/* ---- the request ---- */

static const char *item_type(const cJSON *item)
{
    const char *type = NULL;
    if (json_get_str(item, "type", &type) != 0)
        type = json_get(item, "role") ? "message" : "";
    return type;
}

/* Writes the text of a message's content (a string, or parts of kind input_text/output_text),
 * parts joined by a blank line. */
static void write_content_text(struct jw *w, const cJSON *content)
{
    if (cJSON_IsString(content)) {
        jw_str(w, content->valuestring);
        return;
    }
    struct buf joined;
    buf_init(&joined, (size_t)1 << 30);
    const cJSON *part;
    cJSON_ArrayForEach(part, content)
    {
        const char *text;
        if (json_get_str(part, "text", &text) != 0)
            continue;
        if (joined.len)
            buf_append_str(&joined, "\n\n");
        buf_append_str(&joined, text);
    }
    jw_str_len(w, joined.data ? joined.data : "", joined.len);
    buf_free(&joined);
}

static bool content_has_image(const cJSON *content)
{
    const cJSON *part;
    cJSON_ArrayForEach(part, content)
    {
        const char *t;
        if (json_get_str(part, "type", &t) == 0 && strcmp(t, "input_image") == 0)
            return true;
    }
    return false;
}

/* A user message with images: the parts as text and image_url parts. */
static void write_content_parts(struct jw *w, const cJSON *content)
{
    jw_arr_begin(w);
    const cJSON *part;
    cJSON_ArrayForEach(part, content)
    {
        const char *t, *v;
        if (json_get_str(part, "type", &t) != 0)
            continue;
        if (strcmp(t, "input_image") == 0 && json_get_str(part, "image_url", &v) == 0) {
            jw_obj_begin(w);
            jw_kv_str(w, "type", "image_url");
            jw_key(w, "image_url");
            jw_obj_begin(w);
            jw_kv_str(w, "url", v);
            jw_obj_end(w);
            jw_obj_end(w);
        } else if (json_get_str(part, "text", &v) == 0) {
            jw_obj_begin(w);
            jw_kv_str(w, "type", "text");
            jw_kv_str(w, "text", v);
            jw_obj_end(w);
        }
    }
    jw_arr_end(w);
}

static void write_tool_call(struct jw *w, const cJSON *fc)
{
    const char *call_id = "", *name = "", *args = "{}";
    json_get_str(fc, "call_id", &call_id);
    json_get_str(fc, "name", &name);
    json_get_str(fc, "arguments", &args);
    jw_obj_begin(w);
    jw_kv_str(w, "id", call_id);
    jw_kv_str(w, "type", "function");
    jw_key(w, "function");
    jw_obj_begin(w);
    jw_kv_str(w, "name", name);
    jw_kv_str(w, "arguments", args);
    jw_obj_end(w);
    jw_obj_end(w);
}

/* An assistant turn: its text (if the run starts with an assistant message) and the function
 * calls right after it, as one message. Returns the next item to translate. */
static const cJSON *write_assistant_run(struct jw *w, const cJSON *it)
{
    jw_obj_begin(w);
    jw_kv_str(w, "role", "assistant");
    jw_key(w, "content");
    if (strcmp(item_type(it), "message") == 0) {
        write_content_text(w, json_get(it, "content"));
        it = it->next;
    } else {
        jw_null(w);
    }
    if (it && strcmp(item_type(it), "function_call") == 0) {
        jw_key(w, "tool_calls");
        jw_arr_begin(w);
        for (; it && strcmp(item_type(it), "function_call") == 0; it = it->next)
            write_tool_call(w, it);
        jw_arr_end(w);
    }
    jw_obj_end(w);
    return it;
}

static int write_messages(struct jw *w, const struct model_call_params *p, const cJSON *input,
                          char *why, size_t whylen)
{
    jw_key(w, "messages");
    jw_arr_begin(w);
    if (p->instructions && p->instructions[0]) {
        jw_obj_begin(w);
        jw_kv_str(w, "role", "system");
        jw_kv_str(w, "content", p->instructions);
        jw_obj_end(w);
    }
    const cJSON *it = input->child;
    while (it) {
        const char *type = item_type(it), *role = "";
        json_get_str(it, "role", &role);
        if (strcmp(type, "function_call") == 0 ||
            (strcmp(type, "message") == 0 && strcmp(role, "assistant") == 0)) {
            it = write_assistant_run(w, it);
            continue;
        }
        const cJSON *content = json_get(it, "content");
        jw_obj_begin(w);
        if (strcmp(type, "function_call_output") == 0) {
            const char *call_id = "", *output = "";
            json_get_str(it, "call_id", &call_id);
            json_get_str(it, "output", &output);
            jw_kv_str(w, "role", "tool");
            jw_kv_str(w, "tool_call_id", call_id);
            jw_kv_str(w, "content", output);
        } else if (strcmp(type, "message") == 0 && content) {
            bool system = strcmp(role, "developer") == 0 || strcmp(role, "system") == 0;
            jw_kv_str(w, "role", system ? "system" : "user");
            jw_key(w, "content");
            if (!system && cJSON_IsArray(content) && content_has_image(content))
                write_content_parts(w, content);
            else
                write_content_text(w, content);
        } else {
            snprintf(why, whylen, "input item of type '%s' is not supported", type);
            return ERR_INVALID;
        }
        jw_obj_end(w);
        it = it->next;
    }
    jw_arr_end(w);
    return 0;
}

static int write_tools(struct jw *w, const struct model_call_params *p, char *why, size_t whylen)
{
    if (!p->tools_json)
        return 0;
    cJSON *tools = json_parse(p->tools_json, strlen(p->tools_json), JSON_DEPTH, NULL);
    if (!cJSON_IsArray(tools)) {
        cJSON_Delete(tools);
        snprintf(why, whylen, "tools must be a JSON array");
        return ERR_INVALID;
    }
    if (cJSON_GetArraySize(tools) > 0) {
        jw_key(w, "tools");
        jw_arr_begin(w);
        const cJSON *t;
        cJSON_ArrayForEach(t, tools)
        {
            const char *name = "", *desc = NULL;
            json_get_str(t, "name", &name);
            json_get_str(t, "description", &desc);
            jw_obj_begin(w);
            jw_kv_str(w, "type", "function");
            jw_key(w, "function");
            jw_obj_begin(w);
            jw_kv_str(w, "name", name);
            if (desc)
                jw_kv_str(w, "description", desc);
            const cJSON *params = json_get(t, "parameters");
            if (params) {
                char *text = json_print(params);
                jw_key(w, "parameters");
                jw_raw(w, text, strlen(text));
                free(text);
            }
            jw_obj_end(w);
            jw_obj_end(w);
        }
        jw_arr_end(w);
    }
    cJSON_Delete(tools);
    return 0;
}

static void write_tool_choice(struct jw *w, const char *choice)
{
    if (!choice || !choice[0])
        return;
    jw_key(w, "tool_choice");
    if (!strcmp(choice, "auto") || !strcmp(choice, "none") || !strcmp(choice, "required")) {
        jw_str(w, choice);
        return;
    }
    jw_obj_begin(w);
    jw_kv_str(w, "type", "function");
    jw_key(w, "function");
    jw_obj_begin(w);
    jw_kv_str(w, "name", choice);
    jw_obj_end(w);
    jw_obj_end(w);
}

int chat_request_build(const struct model_call_params *p, struct buf *out, char *why, size_t whylen)
{
    cJSON *input = json_parse(p->input_json ? p->input_json : "",
                              p->input_json ? strlen(p->input_json) : 0, JSON_DEPTH, NULL);
    if (!cJSON_IsArray(input)) {
        cJSON_Delete(input);
        snprintf(why, whylen, "input must be a JSON array of input items");
        return ERR_INVALID;
    }
    struct jw w;
    jw_init(&w, out);
    jw_obj_begin(&w);
    jw_kv_str(&w, "model", p->model);
    int rc = write_messages(&w, p, input, why, whylen);
    cJSON_Delete(input);
    if (!rc)
        rc = write_tools(&w, p, why, whylen);
    if (rc)
        return rc;
    write_tool_choice(&w, p->tool_choice);
    if (p->output_schema_json) {
        jw_key(&w, "response_format");
        jw_obj_begin(&w);
        jw_kv_str(&w, "type", "json_schema");
        jw_key(&w, "json_schema");
        jw_obj_begin(&w);
        jw_kv_str(&w, "name", p->output_schema_name ? p->output_schema_name : "output");
        jw_key(&w, "schema");
        jw_raw(&w, p->output_schema_json, strlen(p->output_schema_json));
        jw_kv_bool(&w, "strict", true);
        jw_obj_end(&w);
        jw_obj_end(&w);
    }
    if (p->temperature >= 0) {
        jw_key(&w, "temperature");
        jw_double(&w, p->temperature);
    }
    if (p->max_output_tokens > 0)
        jw_kv_int(&w, "max_tokens", p->max_output_tokens);
    jw_kv_bool(&w, "stream", true);
    jw_key(&w, "stream_options");
    jw_obj_begin(&w);
    jw_kv_bool(&w, "include_usage", true);
    jw_obj_end(&w);
    jw_obj_end(&w);
    if (jw_error(&w)) {
        snprintf(why, whylen, "the request is too large or malformed");
        return jw_error(&w);
    }
    return 0;
}

/* ---- the stream ---- */

void chat_stream_init(struct chat_stream *s, size_t max_args_bytes)
{
    memset(s, 0, sizeof *s);
    s->max_args_bytes = max_args_bytes;
    id_new("msg_", s->item_id);
}

void chat_stream_free(struct chat_stream *s)
{
    for (int i = 0; s->tools && i < CHAT_MAX_TOOL_CALLS; i++) {
        free(s->tools[i].call_id);
        free(s->tools[i].name);
        buf_free(&s->tools[i].args);
    }
    free(s->tools);
    s->tools = NULL;
}

void model_usage_read(const cJSON *u, const char *in_key, const char *out_key,
                      struct model_usage *out)
{
    int64_t v;
    const cJSON *d;
    char details[64];
    if (json_get_int(u, in_key, 0, INT64_MAX, &v) == 0)
        out->input_tokens = v;
    if (json_get_int(u, out_key, 0, INT64_MAX, &v) == 0)
        out->output_tokens = v;
    snprintf(details, sizeof details, "%s_details", in_key);
    if (json_get_obj(u, details, &d) == 0 &&
        json_get_int(d, "cached_tokens", 0, INT64_MAX, &v) == 0)
        out->cached_tokens = v;
    snprintf(details, sizeof details, "%s_details", out_key);
    if (json_get_obj(u, details, &d) == 0 &&
        json_get_int(d, "reasoning_tokens", 0, INT64_MAX, &v) == 0)
        out->reasoning_tokens = v;
}

static int take_tool_fragment(struct chat_stream *s, const cJSON *tc)
{
    int64_t index = 0;
    if (json_get_int(tc, "index", 0, CHAT_MAX_TOOL_CALLS - 1, &index) < 0 ||
        (json_get(tc, "index") && !cJSON_IsNumber(json_get(tc, "index")))) {
        snprintf(s->error, sizeof s->error, "the model called more than %d tools at once",
                 CHAT_MAX_TOOL_CALLS);
        return ERR_INVALID;
    }
    if (!s->tools) {
        s->tools = xcalloc(CHAT_MAX_TOOL_CALLS, sizeof *s->tools);
        for (int i = 0; i < CHAT_MAX_TOOL_CALLS; i++)
            buf_init(&s->tools[i].args, s->max_args_bytes);
    }
    struct chat_tool_frag *f = &s->tools[index];
    const char *v;
    const cJSON *fn = NULL;
    f->present = true;
    if (json_get_str(tc, "id", &v) == 0 && v[0] && !f->call_id)
        f->call_id = xstrdup(v);
    json_get_obj(tc, "function", &fn);
    if (json_get_str(fn, "name", &v) == 0 && v[0] && !f->name)
        f->name = xstrdup(v);
    if (json_get_str(fn, "arguments", &v) == 0 && buf_append_str(&f->args, v)) {
        snprintf(s->error, sizeof s->error, "a tool call's arguments passed %zu bytes",
                 s->max_args_bytes);
        return ERR_INVALID;
    }
    return 0;
}

/* The choice finished (or the stream ended): every assembled call, in index order, once. */
static void report_tools(struct chat_stream *s, const struct model_call_events *ev, void *data)
{
    if (s->tools_reported || !s->tools)
        return;
    s->tools_reported = true;
    for (int i = 0; i < CHAT_MAX_TOOL_CALLS; i++) {
        struct chat_tool_frag *f = &s->tools[i];
        if (!f->present || !f->name)
            continue;
        char gen[ID_MAX];
        if (!f->call_id)
            id_new("call_", gen);
        ev->tool_call(data, f->call_id ? f->call_id : gen, f->name,
                      f->args.len ? f->args.data : "{}");
        /* Some servers finish a tool-calling answer with "stop"; callers go by this. */
        snprintf(s->finish_reason, sizeof s->finish_reason, "tool_calls");
    }
}

static int take_delta(struct chat_stream *s, const cJSON *delta, const struct model_call_events *ev,
                      void *data)
{
    const cJSON *v;
    if ((v = json_get(delta, "reasoning_content")) || (v = json_get(delta, "reasoning"))) {
        if (cJSON_IsString(v) && v->valuestring[0]) {
            s->token_seen = true;
            ev->reasoning_delta(data, 0, v->valuestring, strlen(v->valuestring));
        }
    }
    if ((v = json_get(delta, "content")) && cJSON_IsString(v) && v->valuestring[0]) {
        s->token_seen = true;
        ev->text_delta(data, s->item_id, v->valuestring, strlen(v->valuestring));
    }
    const cJSON *calls = NULL, *tc;
    json_get_arr(delta, "tool_calls", &calls);
    cJSON_ArrayForEach(tc, calls)
    {
        s->token_seen = true;
        int rc = take_tool_fragment(s, tc);
        if (rc)
            return rc;
    }
    return 0;
}

static int take_error(struct chat_stream *s, const cJSON *err)
{
    const char *msg = NULL;
    if (json_get_str(err, "message", &msg) != 0 && cJSON_IsString(err))
        msg = err->valuestring;
    snprintf(s->error, sizeof s->error, "%s", msg && msg[0] ? msg : "the model server failed");
    return ERR_UNAVAILABLE;
}

/* ---- the common chunk, read without building a tree ----
 *
 * Nearly every chunk of a streamed answer is one text delta:
 *   {"id":..,"object":..,"created":N,"model":..,"choices":[{"index":0,"delta":{"content":".."},
 *    "finish_reason":null}]}
 * Parsing it with cJSON (a node and a malloc per value) was two thirds of the relay's CPU per
 * token (callgrind, figure 7a). A chunk of exactly that shape is read in place here: known keys
 * only, each once, the values the full path would ignore being null, and strings without escapes
 * or control characters. Anything else (escapes, tool calls, reasoning, usage, a finish reason,
 * unknown keys, malformed JSON) goes to the full parse, which gives the same result for the
 * chunks read here. */

struct scan {
    const char *p, *end;
};

static void scan_ws(struct scan *sc)
{
    while (sc->p < sc->end && (*sc->p == ' ' || *sc->p == '\t' || *sc->p == '\n' || *sc->p == '\r'))
        sc->p++;
}

static bool scan_char(struct scan *sc, char c)
{
    scan_ws(sc);
    if (sc->p >= sc->end || *sc->p != c)
        return false;
    sc->p++;
    return true;
}

/* A string without escapes or control characters; str and n point into the payload. */
static bool scan_string(struct scan *sc, const char **str, size_t *n)
{
    if (!scan_char(sc, '"'))
        return false;
    const char *start = sc->p;
    while (sc->p < sc->end && *sc->p != '"') {
        if (*sc->p == '\\' || (unsigned char)*sc->p < 0x20)
            return false;
        sc->p++;
    }
    if (sc->p >= sc->end)
        return false;
    *str = start;
    *n = (size_t)(sc->p - start);
    sc->p++;
    return true;
}

static bool scan_null(struct scan *sc)
{
    scan_ws(sc);
    if (sc->end - sc->p < 4 || memcmp(sc->p, "null", 4) != 0)
        return false;
    sc->p += 4;
    return true;
}

/* A string or null (the values the full path ignores). */
static bool scan_string_or_null(struct scan *sc)
{
    const char *str;
    size_t n;
    scan_ws(sc);
    return sc->p < sc->end && *sc->p == 'n' ? scan_null(sc) : scan_string(sc, &str, &n);
}

/* A plain non-negative integer (created, index); *zero says whether it was "0". */
static bool scan_uint(struct scan *sc, bool *zero)
{
    scan_ws(sc);
    const char *start = sc->p;
    while (sc->p < sc->end && *sc->p >= '0' && *sc->p <= '9')
        sc->p++;
    size_t n = (size_t)(sc->p - start);
    if (n == 0 || n > 15 || (n > 1 && *start == '0'))
        return false;
    *zero = n == 1 && *start == '0';
    return true;
}

/* `"key":`: the key's index in keys (each may appear once: *seen has a bit per key), or -1. */
static int scan_key(struct scan *sc, const char *const *keys, int nkeys, unsigned *seen)
{
    const char *k;
    size_t n;
    if (!scan_string(sc, &k, &n) || !scan_char(sc, ':'))
        return -1;
    for (int i = 0; i < nkeys; i++) {
        if (keys[i][0] == k[0] && strncmp(keys[i], k, n) == 0 && keys[i][n] == '\0') {
            if (*seen & (1u << i))
                return -1;
            *seen |= 1u << i;
            return i;
        }
    }
    return -1;
}

/* {"content": S?, "role": S|null?, "refusal": null?} */
static bool scan_delta(struct scan *sc, const char **text, size_t *text_len)
{
    static const char *const keys[] = {"content", "role", "refusal"};
    unsigned seen = 0;
    if (!scan_char(sc, '{'))
        return false;
    if (scan_char(sc, '}'))
        return true;
    do {
        int k = scan_key(sc, keys, 3, &seen);
        scan_ws(sc);
        bool ok = k == 0   ? (sc->p < sc->end && *sc->p == 'n' ? scan_null(sc)
                                                               : scan_string(sc, text, text_len))
                  : k == 1 ? scan_string_or_null(sc)
                  : k == 2 ? scan_null(sc)
                           : false;
        if (!ok)
            return false;
    } while (scan_char(sc, ','));
    return scan_char(sc, '}');
}

/* [{"index": 0, "delta": {...}, "finish_reason": null, "logprobs": null}] */
static bool scan_choices(struct scan *sc, const char **text, size_t *text_len)
{
    static const char *const keys[] = {"index", "delta", "finish_reason", "logprobs"};
    unsigned seen = 0;
    bool zero = false;
    if (!scan_char(sc, '[') || !scan_char(sc, '{'))
        return false;
    do {
        int k = scan_key(sc, keys, 4, &seen);
        bool ok = k == 0   ? scan_uint(sc, &zero) && zero
                  : k == 1 ? scan_delta(sc, text, text_len)
                  : k >= 2 ? scan_null(sc)
                           : false;
        if (!ok)
            return false;
    } while (scan_char(sc, ','));
    return scan_char(sc, '}') && scan_char(sc, ']');
}

/* The chunk above: true when it was read here (text, id set; text NULL for none). */
static bool scan_chunk(const char *payload, size_t len, const char **text, size_t *text_len,
                       const char **id, size_t *id_len)
{
    static const char *const keys[] = {"id",    "object",       "created",
                                       "model", "choices",      "system_fingerprint",
                                       "usage", "service_tier", "obfuscation"};
    struct scan sc = {payload, payload + len};
    unsigned seen = 0;
    bool zero;
    *text = NULL;
    *id = NULL;
    if (!scan_char(&sc, '{'))
        return false;
    do {
        int k = scan_key(&sc, keys, 9, &seen);
        bool ok = k == 0   ? scan_string(&sc, id, id_len)
                  : k == 2 ? scan_uint(&sc, &zero)
                  : k == 4 ? scan_choices(&sc, text, text_len)
                  : k == 6 ? scan_null(&sc)
                  : k > 0  ? scan_string_or_null(&sc)
                           : false;
        if (!ok)
            return false;
    } while (scan_char(&sc, ','));
    if (!scan_char(&sc, '}') || !(seen & (1u << 4)))
        return false;
    scan_ws(&sc);
    return sc.p == sc.end;
}

int chat_stream_feed(struct chat_stream *s, const char *payload, size_t len,
                     const struct model_call_events *ev, void *data)
{
    if (len == 6 && memcmp(payload, "[DONE]", 6) == 0) {
        report_tools(s, ev, data);
        return MODEL_STREAM_END;
    }
    const char *text, *id;
    size_t text_len, id_len;
    if (scan_chunk(payload, len, &text, &text_len, &id, &id_len)) {
        if (!s->response_id[0] && id)
            snprintf(s->response_id, sizeof s->response_id, "%.*s", (int)id_len, id);
        if (text && text_len) {
            s->token_seen = true;
            ev->text_delta(data, s->item_id, text, text_len);
        }
        return 0;
    }
    cJSON *doc = json_parse(payload, len, JSON_DEPTH, NULL);
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        snprintf(s->error, sizeof s->error, "the model server sent a malformed stream chunk");
        return ERR_INVALID;
    }
    int rc = 0;
    const cJSON *v, *choices = NULL, *choice;
    const char *str;
    if ((v = json_get(doc, "error"))) {
        rc = take_error(s, v);
        goto out;
    }
    if (!s->response_id[0] && json_get_str(doc, "id", &str) == 0)
        snprintf(s->response_id, sizeof s->response_id, "%s", str);
    if (json_get_obj(doc, "usage", &v) == 0)
        model_usage_read(v, "prompt_tokens", "completion_tokens", &s->usage);
    json_get_arr(doc, "choices", &choices);
    cJSON_ArrayForEach(choice, choices)
    {
        int64_t index = 0;
        if (json_get_int(choice, "index", 0, INT32_MAX, &index) == 0 && index != 0)
            continue; /* we ask for one choice; ignore any other */
        if (json_get_obj(choice, "delta", &v) == 0 && (rc = take_delta(s, v, ev, data)) != 0)
            goto out;
        if (json_get_str(choice, "finish_reason", &str) == 0) {
            snprintf(s->finish_reason, sizeof s->finish_reason, "%s", str);
            report_tools(s, ev, data);
        }
    }
out:
    cJSON_Delete(doc);
    return rc;
}

void chat_stream_result(const struct chat_stream *s, struct model_call_result *r)
{
    r->response_id = s->response_id;
    r->finish_reason = s->finish_reason;
    r->usage = s->usage;
}
