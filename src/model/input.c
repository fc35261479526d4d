#include "model/input.h"

#include "core/json_read.h"
#include "core/json_write.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define ITEM_DEPTH 64

struct conv {
    struct jw *w;
    model_image_url_fn image_url;
    void *data;
    struct buf text; /* scratch for composed texts */
};

static void begin_message(struct jw *w, const char *role)
{
    jw_obj_begin(w);
    jw_kv_str(w, "type", "message");
    jw_kv_str(w, "role", role);
    jw_key(w, "content");
    jw_arr_begin(w);
}

static void end_message(struct jw *w)
{
    jw_arr_end(w);
    jw_obj_end(w);
}

static void text_part(struct jw *w, const char *type, const char *text, size_t len)
{
    jw_obj_begin(w);
    jw_kv_str(w, "type", type);
    jw_key(w, "text");
    jw_str_len(w, text, len);
    jw_obj_end(w);
}

/* One user message holding the scratch text. */
static void user_text_message(struct conv *c)
{
    begin_message(c->w, "user");
    text_part(c->w, "input_text", c->text.data ? c->text.data : "", c->text.len);
    end_message(c->w);
}

static void write_json_text(struct buf *b, const cJSON *v)
{
    char *s = json_print(v);
    if (s)
        buf_append_str(b, s);
    free(s);
}

static void attachment_part(struct conv *c, const cJSON *at)
{
    const char *id = "", *mime = "", *name = "", *type = "";
    json_get_str(at, "id", &id);
    json_get_str(at, "mime_type", &mime);
    json_get_str(at, "name", &name);
    json_get_str(at, "type", &type);
    const char *url = NULL;
    if (strcmp(type, "image") == 0 && c->image_url)
        url = c->image_url(c->data, id, mime);
    jw_obj_begin(c->w);
    if (url) {
        jw_kv_str(c->w, "type", "input_image");
        jw_kv_str(c->w, "image_url", url);
    } else {
        buf_reset(&c->text);
        buf_appendf(&c->text, "The user attached a file: %s (%s).", name, mime);
        jw_kv_str(c->w, "type", "input_text");
        jw_key(c->w, "text");
        jw_str_len(c->w, c->text.data, c->text.len);
    }
    jw_obj_end(c->w);
}

static void user_message(struct conv *c, const cJSON *item, bool newest)
{
    const cJSON *content = json_get(item, "content"), *part, *atts = json_get(item, "attachments");
    buf_reset(&c->text);
    bool tags = false;
    cJSON_ArrayForEach(part, content)
    {
        const char *type = "", *text = "";
        json_get_str(part, "type", &type);
        json_get_str(part, "text", &text);
        if (strcmp(type, "input_tag") == 0) {
            tags = true;
            buf_append_char(&c->text, '@');
        }
        buf_append_str(&c->text, text);
    }
    begin_message(c->w, "user");
    text_part(c->w, "input_text", c->text.data ? c->text.data : "", c->text.len);
    const cJSON *at;
    cJSON_ArrayForEach(at, atts)
    {
        if (cJSON_IsObject(at))
            attachment_part(c, at);
    }
    end_message(c->w);
    const char *quoted = NULL;
    if (newest && json_get_str(item, "quoted_text", &quoted) == 0 && quoted[0]) {
        buf_reset(&c->text);
        buf_appendf(&c->text, "The user is referring to this in particular:\n%s", quoted);
        user_text_message(c);
    }
    if (!tags)
        return;
    buf_reset(&c->text);
    buf_append_str(&c->text, "# User-provided context for @-mentions\n"
                             "When referencing resolved entities, use their display names.\n");
    cJSON_ArrayForEach(part, content)
    {
        const char *type = "", *text = "";
        if (json_get_str(part, "type", &type) || strcmp(type, "input_tag"))
            continue;
        json_get_str(part, "text", &text);
        buf_appendf(&c->text, "<Tag text=\"%s\">", text);
        write_json_text(&c->text, json_get(part, "data"));
        buf_append_str(&c->text, "</Tag>\n");
    }
    user_text_message(c);
}

static void assistant_message(struct conv *c, const cJSON *item)
{
    const cJSON *part;
    begin_message(c->w, "assistant");
    cJSON_ArrayForEach(part, json_get(item, "content"))
    {
        const char *text;
        if (json_get_str(part, "text", &text) == 0)
            text_part(c->w, "output_text", text, strlen(text));
    }
    end_message(c->w);
}

static void client_tool_call(struct conv *c, const cJSON *item)
{
    const char *status = "", *call_id = "", *name = "";
    json_get_str(item, "status", &status);
    if (strcmp(status, "completed") != 0)
        return;
    json_get_str(item, "call_id", &call_id);
    json_get_str(item, "name", &name);
    struct jw *w = c->w;
    buf_reset(&c->text);
    if (json_get(item, "arguments"))
        write_json_text(&c->text, json_get(item, "arguments"));
    else
        buf_append_str(&c->text, "{}");
    jw_obj_begin(w);
    jw_kv_str(w, "type", "function_call");
    jw_kv_str(w, "call_id", call_id);
    jw_kv_str(w, "name", name);
    jw_key(w, "arguments");
    jw_str_len(w, c->text.data ? c->text.data : "{}", c->text.len);
    jw_obj_end(w);
    buf_reset(&c->text);
    const cJSON *out = cJSON_GetObjectItemCaseSensitive(item, "output");
    if (out)
        write_json_text(&c->text, out);
    else
        buf_append_str(&c->text, "null");
    jw_obj_begin(w);
    jw_kv_str(w, "type", "function_call_output");
    jw_kv_str(w, "call_id", call_id);
    jw_key(w, "output");
    jw_str_len(w, c->text.data, c->text.len);
    jw_obj_end(w);
}

static void widget(struct conv *c, const cJSON *item)
{
    const char *id = "";
    json_get_str(item, "id", &id);
    buf_reset(&c->text);
    buf_appendf(&c->text,
                "The following graphical UI widget (id: %s) was displayed to the user:", id);
    write_json_text(&c->text, json_get(item, "widget"));
    user_text_message(c);
}

static void one_task(struct conv *c, const cJSON *task)
{
    const char *type = "", *title = "", *content = "";
    json_get_str(task, "type", &type);
    json_get_str(task, "title", &title);
    json_get_str(task, "content", &content);
    if (strcmp(type, "custom") != 0 || (!title[0] && !content[0]))
        return;
    buf_reset(&c->text);
    buf_appendf(&c->text,
                "A message was displayed to the user that the following task was performed:\n"
                "<Task>\n%s%s%s\n</Task>",
                title, title[0] && content[0] ? ": " : "", content);
    user_text_message(c);
}

static void workflow(struct conv *c, const cJSON *item)
{
    const cJSON *wf = NULL, *tasks = NULL, *t;
    if (json_get_obj(item, "workflow", &wf) == 0 && json_get_arr(wf, "tasks", &tasks) == 0)
        cJSON_ArrayForEach(t, tasks) one_task(c, t);
    if (json_get_obj(item, "task", &t) == 0)
        one_task(c, t);
}

static void structured_input(struct conv *c, const cJSON *item)
{
    const char *status = "pending";
    const cJSON *inputs = NULL, *in;
    json_get_str(item, "status", &status);
    json_get_arr(item, "inputs", &inputs);
    buf_reset(&c->text);
    buf_appendf(&c->text, "<StructuredInput status=\"%s\">\n", status);
    cJSON_ArrayForEach(in, inputs)
    {
        const char *q = "";
        const cJSON *answer = NULL, *values = NULL, *v;
        bool skipped = false;
        json_get_str(in, "question", &q);
        buf_appendf(&c->text, "Q: %s\nA: ", q);
        if (json_get_obj(in, "answer", &answer) != 0) {
            buf_append_str(&c->text, "unanswered\n");
            continue;
        }
        json_get_bool(answer, "skipped", &skipped);
        json_get_arr(answer, "values", &values);
        if (skipped) {
            buf_append_str(&c->text, "skipped\n");
            continue;
        }
        bool first = true;
        cJSON_ArrayForEach(v, values)
        {
            if (cJSON_IsString(v)) {
                buf_appendf(&c->text, "%s%s", first ? "" : ", ", v->valuestring);
                first = false;
            }
        }
        buf_append_char(&c->text, '\n');
    }
    buf_append_str(&c->text, "</StructuredInput>");
    user_text_message(c);
}

static void hidden(struct conv *c, const cJSON *item)
{
    const cJSON *content = json_get(item, "content");
    buf_reset(&c->text);
    buf_append_str(&c->text, "Hidden context for the agent (not shown to the user):\n"
                             "<HiddenContext>\n");
    if (cJSON_IsString(content))
        buf_append_str(&c->text, content->valuestring);
    else
        write_json_text(&c->text, content);
    buf_append_str(&c->text, "\n</HiddenContext>");
    user_text_message(c);
}

static void generated_image(struct conv *c, const cJSON *item)
{
    const cJSON *image = NULL;
    const char *url = NULL;
    if (json_get_obj(item, "image", &image) != 0 || json_get_str(image, "url", &url) != 0)
        return;
    begin_message(c->w, "user");
    static const char said[] = "The following image was generated by the agent.";
    text_part(c->w, "input_text", said, sizeof said - 1);
    jw_obj_begin(c->w);
    jw_kv_str(c->w, "type", "input_image");
    jw_kv_str(c->w, "image_url", url);
    jw_obj_end(c->w);
    end_message(c->w);
}

static void one_item(struct conv *c, const cJSON *item, bool newest)
{
    const char *type = "";
    json_get_str(item, "type", &type);
    if (!strcmp(type, "user_message"))
        user_message(c, item, newest);
    else if (!strcmp(type, "assistant_message"))
        assistant_message(c, item);
    else if (!strcmp(type, "client_tool_call"))
        client_tool_call(c, item);
    else if (!strcmp(type, "widget"))
        widget(c, item);
    else if (!strcmp(type, "workflow") || !strcmp(type, "task"))
        workflow(c, item);
    else if (!strcmp(type, "structured_input"))
        structured_input(c, item);
    else if (!strcmp(type, "hidden_context_item") || !strcmp(type, "sdk_hidden_context"))
        hidden(c, item);
    else if (!strcmp(type, "generated_image"))
        generated_image(c, item);
}

int model_input_from_items(const char *const *items, size_t n, model_image_url_fn image_url,
                           void *data, struct buf *out)
{
    struct jw w;
    jw_init(&w, out);
    struct conv c = {.w = &w, .image_url = image_url, .data = data};
    buf_init(&c.text, out->max);
    jw_arr_begin(&w);
    for (size_t i = 0; i < n; i++) {
        cJSON *item = items[i] ? json_parse(items[i], strlen(items[i]), ITEM_DEPTH, NULL) : NULL;
        if (cJSON_IsObject(item))
            one_item(&c, item, i + 1 == n);
        cJSON_Delete(item);
    }
    jw_arr_end(&w);
    buf_free(&c.text);
    return jw_error(&w);
}

#define IMAGE_NOTE "[The user attached an image here; this model cannot see images.]"

char *model_input_without_images(const char *input_json)
{
    if (!input_json || !strstr(input_json, "\"input_image\""))
        return NULL;
    cJSON *doc = json_parse(input_json, strlen(input_json), ITEM_DEPTH, NULL);
    if (!cJSON_IsArray(doc)) {
        cJSON_Delete(doc);
        return NULL;
    }
    bool changed = false;
    const cJSON *item;
    cJSON_ArrayForEach(item, doc)
    {
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(item, "content");
        cJSON *part;
        cJSON_ArrayForEach(part, content)
        {
            const char *type;
            if (json_get_str(part, "type", &type) != 0 || strcmp(type, "input_image") != 0)
                continue;
            cJSON_DeleteItemFromObjectCaseSensitive(part, "image_url");
            cJSON_DeleteItemFromObjectCaseSensitive(part, "detail");
            cJSON_ReplaceItemInObjectCaseSensitive(part, "type", cJSON_CreateString("input_text"));
            cJSON_AddStringToObject(part, "text", IMAGE_NOTE);
            changed = true;
        }
    }
    char *out = changed ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    return out;
}
