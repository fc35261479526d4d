#include "chatkit/request.h"

#include "core/err.h"
#include "core/json_read.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char *const type_names[CK_TYPE_COUNT] = {
    [CK_THREADS_CREATE] = "threads.create",
    [CK_THREADS_ADD_USER_MESSAGE] = "threads.add_user_message",
    [CK_THREADS_ADD_CLIENT_TOOL_OUTPUT] = "threads.add_client_tool_output",
    [CK_THREADS_ADD_STRUCTURED_INPUT] = "threads.add_structured_input",
    [CK_THREADS_RETRY_AFTER_ITEM] = "threads.retry_after_item",
    [CK_THREADS_CUSTOM_ACTION] = "threads.custom_action",
    [CK_THREADS_GET_BY_ID] = "threads.get_by_id",
    [CK_THREADS_LIST] = "threads.list",
    [CK_THREADS_UPDATE] = "threads.update",
    [CK_THREADS_DELETE] = "threads.delete",
    [CK_THREADS_SYNC_CUSTOM_ACTION] = "threads.sync_custom_action",
    [CK_ITEMS_LIST] = "items.list",
    [CK_ITEMS_FEEDBACK] = "items.feedback",
    [CK_ATTACHMENTS_CREATE] = "attachments.create",
    [CK_ATTACHMENTS_DELETE] = "attachments.delete",
    [CK_INPUT_TRANSCRIBE] = "input.transcribe",
};

const char *ck_type_name(enum ck_type t)
{
    return t < CK_TYPE_COUNT ? type_names[t] : "unknown";
}

bool ck_type_streams(enum ck_type t)
{
    return t <= CK_THREADS_CUSTOM_ACTION;
}

void ck_request_free(struct ck_request *r)
{
    cJSON_Delete(r->doc);
    memset(r, 0, sizeof *r);
}

static int invalid(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int invalid(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return ERR_INVALID;
}

/* A required string member of params. */
static int need_str(const cJSON *o, const char *key, const char *path, const char **out, char *err,
                    size_t errlen)
{
    int rc = json_get_str(o, key, out);
    if (rc == 1)
        return invalid(err, errlen, "%s.%s is required", path, key);
    if (rc < 0)
        return invalid(err, errlen, "%s.%s must be a string", path, key);
    return 0;
}

static int opt_str(const cJSON *o, const char *key, const char *path, const char **out, char *err,
                   size_t errlen)
{
    *out = NULL;
    if (json_get_str(o, key, out) < 0)
        return invalid(err, errlen, "%s.%s must be a string", path, key);
    return 0;
}

/* One content part of a user message (spec §3.1): input_text or input_tag. */
static int check_content_part(const cJSON *part, int i, char *err, size_t errlen)
{
    char path[64];
    const char *type, *s;
    bool b;
    const cJSON *o;
    snprintf(path, sizeof path, "params.input.content[%d]", i);
    if (!cJSON_IsObject(part))
        return invalid(err, errlen, "%s must be an object", path);
    if (need_str(part, "type", path, &type, err, errlen))
        return ERR_INVALID;
    if (strcmp(type, "input_text") == 0)
        return need_str(part, "text", path, &s, err, errlen);
    if (strcmp(type, "input_tag") != 0)
        return invalid(err, errlen, "%s.type must be input_text or input_tag", path);
    if (need_str(part, "id", path, &s, err, errlen) ||
        need_str(part, "text", path, &s, err, errlen) ||
        opt_str(part, "group", path, &s, err, errlen))
        return ERR_INVALID;
    if (json_get_obj(part, "data", &o) < 0)
        return invalid(err, errlen, "%s.data must be an object", path);
    if (json_get_bool(part, "interactive", &b) < 0)
        return invalid(err, errlen, "%s.interactive must be a boolean", path);
    return 0;
}

/* UserMessageInput (spec §5.1): content and attachments required, inference_options required
 * (may be {}), quoted_text optional. A message must carry some text, a tag or an attachment. */
static int check_input(const cJSON *params, const cJSON **out, char *err, size_t errlen)
{
    const cJSON *input, *content, *atts, *opts, *tc = NULL;
    const char *s;
    if (json_get_obj(params, "input", &input) != 0)
        return invalid(err, errlen, "params.input is required and must be an object");
    if (json_get_arr(input, "content", &content) != 0)
        return invalid(err, errlen, "params.input.content is required and must be an array");
    int i = 0;
    for (const cJSON *p = content->child; p; p = p->next, i++) {
        if (check_content_part(p, i, err, errlen))
            return ERR_INVALID;
    }
    if (json_get_arr(input, "attachments", &atts) != 0)
        return invalid(err, errlen, "params.input.attachments is required and must be an array");
    int n = 0;
    for (const cJSON *a = atts->child; a; a = a->next, n++) {
        if (!cJSON_IsString(a))
            return invalid(err, errlen, "params.input.attachments[%d] must be a string", n);
    }
    if (i == 0 && n == 0)
        return invalid(err, errlen, "params.input must have content or attachments");
    if (opt_str(input, "quoted_text", "params.input", &s, err, errlen))
        return ERR_INVALID;
    if (json_get_obj(input, "inference_options", &opts) != 0)
        return invalid(err, errlen,
                       "params.input.inference_options is required and must be an object");
    if (json_get_obj(opts, "tool_choice", &tc) < 0 ||
        (tc && need_str(tc, "id", "params.input.inference_options.tool_choice", &s, err, errlen)))
        return invalid(err, errlen, "params.input.inference_options.tool_choice must be {id}");
    if (opt_str(opts, "model", "params.input.inference_options", &s, err, errlen))
        return ERR_INVALID;
    *out = input;
    return 0;
}

static int check_page(const cJSON *params, struct ck_request *r, char *err, size_t errlen)
{
    int64_t limit = 0;
    const char *order = NULL;
    int rc = json_get_int(params, "limit", 0, 1000000, &limit);
    if (rc < 0)
        return invalid(err, errlen, "params.limit must be a whole number >= 0");
    r->limit = limit == 0 ? CK_PAGE_DEFAULT : (limit > CK_PAGE_MAX ? CK_PAGE_MAX : (int)limit);
    if (opt_str(params, "order", "params", &order, err, errlen))
        return ERR_INVALID;
    if (order && strcmp(order, "asc") != 0 && strcmp(order, "desc") != 0)
        return invalid(err, errlen, "params.order must be \"asc\" or \"desc\"");
    r->desc = !order || strcmp(order, "desc") == 0;
    return opt_str(params, "after", "params", &r->after, err, errlen);
}

static int check_action(const cJSON *params, struct ck_request *r, char *err, size_t errlen)
{
    const cJSON *action;
    if (opt_str(params, "item_id", "params", &r->item_id, err, errlen))
        return ERR_INVALID;
    if (json_get_obj(params, "action", &action) != 0)
        return invalid(err, errlen, "params.action is required and must be an object");
    if (need_str(action, "type", "params.action", &r->action_type, err, errlen))
        return ERR_INVALID;
    r->action = action;
    r->payload = json_get(action, "payload");
    return 0;
}

static int check_structured(const cJSON *params, struct ck_request *r, char *err, size_t errlen)
{
    const cJSON *input;
    if (need_str(params, "item_id", "params", &r->item_id, err, errlen))
        return ERR_INVALID;
    if (json_get_obj(params, "input", &input) != 0)
        return invalid(err, errlen, "params.input is required and must be an object");
    r->input_status = "answered";
    if (opt_str(input, "status", "params.input", &r->input_status, err, errlen))
        return ERR_INVALID;
    if (!r->input_status)
        r->input_status = "answered";
    if (strcmp(r->input_status, "answered") != 0 && strcmp(r->input_status, "skipped") != 0)
        return invalid(err, errlen, "params.input.status must be \"answered\" or \"skipped\"");
    if (json_get_obj(input, "answers", &r->input_answers) < 0)
        return invalid(err, errlen, "params.input.answers must be an object");
    for (const cJSON *a = r->input_answers ? r->input_answers->child : NULL; a; a = a->next) {
        const cJSON *values = NULL; /* json_get_arr leaves it untouched when "values" is absent */
        bool skipped;
        if (!cJSON_IsObject(a) || json_get_arr(a, "values", &values) < 0 ||
            json_get_bool(a, "skipped", &skipped) < 0)
            return invalid(err, errlen, "params.input.answers.%s must be {values, skipped}",
                           a->string);
        for (const cJSON *v = values ? values->child : NULL; v; v = v->next) {
            if (!cJSON_IsString(v))
                return invalid(err, errlen, "params.input.answers.%s.values must be strings",
                               a->string);
        }
    }
    return 0;
}

static int check_feedback(const cJSON *params, struct ck_request *r, char *err, size_t errlen)
{
    if (need_str(params, "thread_id", "params", &r->thread_id, err, errlen))
        return ERR_INVALID;
    if (json_get_arr(params, "item_ids", &r->item_ids) != 0 || !r->item_ids->child)
        return invalid(err, errlen, "params.item_ids must be a non-empty array of strings");
    int n = 0;
    for (const cJSON *v = r->item_ids->child; v; v = v->next) {
        if (!cJSON_IsString(v) || ++n > CK_PAGE_MAX)
            return invalid(err, errlen, "params.item_ids must hold at most %d strings",
                           CK_PAGE_MAX);
    }
    if (need_str(params, "kind", "params", &r->kind, err, errlen))
        return ERR_INVALID;
    if (strcmp(r->kind, "positive") != 0 && strcmp(r->kind, "negative") != 0)
        return invalid(err, errlen, "params.kind must be \"positive\" or \"negative\"");
    return 0;
}

/* Per-type parameter checks. Each returns 0 or ERR_INVALID with err set. */
static int check_params(struct ck_request *r, char *err, size_t errlen)
{
    const cJSON *p = r->params;
    switch (r->type) {
    case CK_THREADS_CREATE:
        return check_input(p, &r->input, err, errlen);
    case CK_THREADS_ADD_USER_MESSAGE:
        return need_str(p, "thread_id", "params", &r->thread_id, err, errlen) ||
                       check_input(p, &r->input, err, errlen)
                   ? ERR_INVALID
                   : 0;
    case CK_THREADS_ADD_CLIENT_TOOL_OUTPUT:
        if (need_str(p, "thread_id", "params", &r->thread_id, err, errlen))
            return ERR_INVALID;
        r->result = cJSON_GetObjectItemCaseSensitive(p, "result");
        if (!r->result)
            return invalid(err, errlen, "params.result is required (it may be null)");
        return 0;
    case CK_THREADS_ADD_STRUCTURED_INPUT:
        if (need_str(p, "thread_id", "params", &r->thread_id, err, errlen))
            return ERR_INVALID;
        return check_structured(p, r, err, errlen);
    case CK_THREADS_RETRY_AFTER_ITEM:
        return need_str(p, "thread_id", "params", &r->thread_id, err, errlen) ||
                       need_str(p, "item_id", "params", &r->item_id, err, errlen)
                   ? ERR_INVALID
                   : 0;
    case CK_THREADS_CUSTOM_ACTION:
    case CK_THREADS_SYNC_CUSTOM_ACTION:
        if (need_str(p, "thread_id", "params", &r->thread_id, err, errlen))
            return ERR_INVALID;
        return check_action(p, r, err, errlen);
    case CK_THREADS_GET_BY_ID:
    case CK_THREADS_DELETE:
        return need_str(p, "thread_id", "params", &r->thread_id, err, errlen);
    case CK_THREADS_LIST:
        return check_page(p, r, err, errlen);
    case CK_THREADS_UPDATE:
        if (need_str(p, "thread_id", "params", &r->thread_id, err, errlen) ||
            need_str(p, "title", "params", &r->title, err, errlen))
            return ERR_INVALID;
        if (strlen(r->title) > 500)
            return invalid(err, errlen, "params.title must be at most 500 bytes");
        return 0;
    case CK_ITEMS_LIST:
        if (need_str(p, "thread_id", "params", &r->thread_id, err, errlen))
            return ERR_INVALID;
        return check_page(p, r, err, errlen);
    case CK_ITEMS_FEEDBACK:
        return check_feedback(p, r, err, errlen);
    case CK_ATTACHMENTS_CREATE:
        if (need_str(p, "name", "params", &r->name, err, errlen) ||
            need_str(p, "mime_type", "params", &r->mime_type, err, errlen))
            return ERR_INVALID;
        if (json_get_int(p, "size", 0, INT64_C(1) << 50, &r->size) != 0)
            return invalid(err, errlen, "params.size is required and must be a whole number");
        return 0;
    case CK_ATTACHMENTS_DELETE:
        return need_str(p, "attachment_id", "params", &r->attachment_id, err, errlen);
    case CK_INPUT_TRANSCRIBE:
        return need_str(p, "audio_base64", "params", &r->audio_base64, err, errlen) ||
                       need_str(p, "mime_type", "params", &r->mime_type, err, errlen)
                   ? ERR_INVALID
                   : 0;
    case CK_TYPE_COUNT:
        break;
    }
    return invalid(err, errlen, "unknown request type");
}

/* The offset of the first byte that does not belong to well-formed UTF-8 (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or len when every byte does. JSON text must be
 * UTF-8 (RFC 8259 §8.1); cJSON copies any bytes through, and the writer would later turn them
 * into U+FFFD, silently changing what the user sent. */
static size_t utf8_invalid_at(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned char c = u[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (n == 0)
            return i;
        static const uint32_t min_of[5] = {0, 0, 0x80, 0x800, 0x10000};
        uint32_t cp = c & (0x7Fu >> n);
        if (len - i < n)
            return i;
        for (size_t k = 1; k < n; k++) {
            if ((u[i + k] & 0xC0) != 0x80)
                return i;
            cp = (cp << 6) | (u[i + k] & 0x3Fu);
        }
        if (cp < min_of[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return i;
        i += n;
    }
    return len;
}

int ck_request_decode(const char *body, size_t len, struct ck_request *out, char *err,
                      size_t errlen)
{
    size_t off = 0;
    const char *type;
    memset(out, 0, sizeof *out);
    off = utf8_invalid_at(body, len);
    if (off < len)
        return invalid(err, errlen, "the body is not valid UTF-8 (at byte %zu)", off);
    out->doc = json_parse(body, len, CK_MAX_DEPTH, &off);
    if (!out->doc)
        return invalid(err, errlen, "the body is not valid JSON (at byte %zu)", off);
    int rc = ERR_INVALID;
    if (!cJSON_IsObject(out->doc))
        invalid(err, errlen, "the body must be a JSON object {type, params}");
    else if (need_str(out->doc, "type", "body", &type, err, errlen) == 0) {
        int t = 0;
        while (t < CK_TYPE_COUNT && strcmp(type_names[t], type) != 0)
            t++;
        const cJSON *meta;
        if (t == CK_TYPE_COUNT)
            invalid(err, errlen, "unknown request type '%.64s'", type);
        else if (json_get_obj(out->doc, "params", &out->params) != 0)
            invalid(err, errlen, "params is required and must be an object (use {} when empty)");
        else if (json_get_obj(out->doc, "metadata", &meta) < 0)
            invalid(err, errlen, "metadata must be an object");
        else {
            out->type = (enum ck_type)t;
            out->streaming = ck_type_streams(out->type);
            rc = check_params(out, err, errlen);
        }
    }
    if (rc)
        ck_request_free(out);
    return rc;
}
