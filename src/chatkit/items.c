#include "chatkit/items.h"

#include "core/clock.h"
#include "core/json_read.h"

#include <stdlib.h>
#include <string.h>

static void write_time(struct jw *w, const char *key, int64_t us)
{
    char ts[CLOCK_ISO_MAX];
    clock_format_iso(us, ts);
    jw_kv_str(w, key, ts);
}

void ck_write_thread(struct jw *w, const struct store_thread *t, const char *items_json)
{
    jw_obj_begin(w);
    jw_kv_str(w, "id", t->id);
    if (t->title)
        jw_kv_str(w, "title", t->title);
    write_time(w, "created_at", t->created_us);
    jw_key(w, "status");
    if (t->status_json)
        jw_raw(w, t->status_json, strlen(t->status_json));
    else
        jw_raw(w, "{\"type\":\"active\"}", 17);
    if (t->allowed_image_domains_json) {
        jw_key(w, "allowed_image_domains");
        jw_raw(w, t->allowed_image_domains_json, strlen(t->allowed_image_domains_json));
    }
    /* Thread metadata is server-private: the wire always shows {} (spec §2.4). */
    jw_key(w, "metadata");
    jw_raw(w, "{}", 2);
    jw_key(w, "items");
    if (items_json)
        jw_raw(w, items_json, strlen(items_json));
    else
        jw_raw(w, "{\"data\":[],\"has_more\":false}", 28);
    jw_obj_end(w);
}

void ck_write_item_head(struct jw *w, const char *id, const char *thread_id, int64_t created_us,
                        const char *type)
{
    jw_obj_begin(w);
    jw_kv_str(w, "id", id);
    jw_kv_str(w, "thread_id", thread_id);
    write_time(w, "created_at", created_us);
    jw_kv_str(w, "type", type);
}

/* Content parts are re-written field by field (not copied) so unknown client fields never reach
 * storage and defaults are filled in: tag data {} and interactive false. */
static void write_content_part(struct jw *w, const cJSON *part)
{
    const char *type = NULL, *s = NULL;
    json_get_str(part, "type", &type);
    jw_obj_begin(w);
    jw_kv_str(w, "type", type);
    if (strcmp(type, "input_tag") == 0) {
        json_get_str(part, "id", &s);
        jw_kv_str(w, "id", s);
        json_get_str(part, "text", &s);
        jw_kv_str(w, "text", s);
        const cJSON *data = NULL;
        jw_key(w, "data");
        char *printed = NULL;
        if (json_get_obj(part, "data", &data) == 0 && (printed = json_print(data)))
            jw_raw(w, printed, strlen(printed));
        else
            jw_raw(w, "{}", 2);
        free(printed);
        s = NULL;
        json_get_str(part, "group", &s);
        jw_kv_str(w, "group", s);
        bool interactive = false;
        json_get_bool(part, "interactive", &interactive);
        jw_kv_bool(w, "interactive", interactive);
    } else {
        json_get_str(part, "text", &s);
        jw_kv_str(w, "text", s);
    }
    jw_obj_end(w);
}

void ck_write_user_message(struct jw *w, const char *id, const char *thread_id, int64_t created_us,
                           const cJSON *input, const char *attachments_json)
{
    const cJSON *content = NULL, *opts = NULL, *tc = NULL;
    const char *s = NULL;
    ck_write_item_head(w, id, thread_id, created_us, "user_message");
    jw_key(w, "content");
    jw_arr_begin(w);
    json_get_arr(input, "content", &content);
    for (const cJSON *p = content ? content->child : NULL; p; p = p->next)
        write_content_part(w, p);
    jw_arr_end(w);
    jw_key(w, "attachments");
    if (attachments_json)
        jw_raw(w, attachments_json, strlen(attachments_json));
    else
        jw_raw(w, "[]", 2);
    json_get_str(input, "quoted_text", &s);
    jw_kv_str(w, "quoted_text", s);
    jw_key(w, "inference_options");
    jw_obj_begin(w);
    json_get_obj(input, "inference_options", &opts);
    if (json_get_obj(opts, "tool_choice", &tc) == 0) {
        s = NULL;
        json_get_str(tc, "id", &s);
        jw_key(w, "tool_choice");
        jw_obj_begin(w);
        jw_kv_str(w, "id", s);
        jw_obj_end(w);
    }
    s = NULL;
    json_get_str(opts, "model", &s);
    jw_kv_str(w, "model", s);
    jw_obj_end(w);
    jw_obj_end(w);
}

void ck_write_assistant_message(struct jw *w, const char *id, const char *thread_id,
                                int64_t created_us, const char *text, size_t text_len)
{
    ck_write_item_head(w, id, thread_id, created_us, "assistant_message");
    jw_key(w, "content");
    jw_arr_begin(w);
    jw_obj_begin(w);
    jw_key(w, "annotations");
    jw_raw(w, "[]", 2);
    jw_key(w, "text");
    jw_str_len(w, text, text_len);
    jw_kv_str(w, "type", "output_text");
    jw_obj_end(w);
    jw_arr_end(w);
    jw_obj_end(w);
}

void ck_write_widget_item(struct jw *w, const char *id, const char *thread_id, int64_t created_us,
                          const char *widget_json, const char *copy_text)
{
    ck_write_item_head(w, id, thread_id, created_us, "widget");
    jw_key(w, "widget");
    jw_raw(w, widget_json, strlen(widget_json));
    jw_kv_str(w, "copy_text", copy_text);
    jw_obj_end(w);
}

void ck_write_hidden_item(struct jw *w, const char *id, const char *thread_id, int64_t created_us,
                          bool sdk, const char *content_json)
{
    ck_write_item_head(w, id, thread_id, created_us,
                       sdk ? "sdk_hidden_context" : "hidden_context_item");
    jw_key(w, "content");
    jw_raw(w, content_json, strlen(content_json));
    jw_obj_end(w);
}

int ck_input_text(const cJSON *input, struct buf *out)
{
    const cJSON *content = NULL;
    int rc = 0;
    json_get_arr(input, "content", &content);
    for (const cJSON *p = content ? content->child : NULL; p && !rc; p = p->next) {
        const char *type = NULL, *text = NULL;
        json_get_str(p, "type", &type);
        json_get_str(p, "text", &text);
        if (!text)
            continue;
        if (out->len && out->data[out->len - 1] != ' ' && type && strcmp(type, "input_tag") == 0)
            rc = buf_append_char(out, ' ');
        if (!rc && type && strcmp(type, "input_tag") == 0)
            rc = buf_append_char(out, '@');
        if (!rc)
            rc = buf_append_str(out, text);
    }
    return rc;
}

/* The length of the longest prefix of s[0..n) that does not end inside a UTF-8 sequence. */
static size_t utf8_complete_prefix(const char *s, size_t n)
{
    size_t i = n;
    while (i > 0 && n - i < 3 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0)
        return n;
    unsigned char lead = (unsigned char)s[i - 1];
    if (lead < 0xC0)
        return n;
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    return n - (i - 1) >= need ? n : i - 1;
}

void ck_title_from_text(const char *text, size_t len, char *out, size_t outlen)
{
    size_t max = outlen > 64 ? 60 : (outlen > 4 ? outlen - 4 : 0);
    size_t i = 0, o = 0, last_space = 0;
    bool cut = false;
    while (i < len && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t' || text[i] == '\r'))
        i++;
    for (; i < len; i++) {
        char c = text[i];
        if ((unsigned char)c == 0xC0 && i + 1 < len && (unsigned char)text[i + 1] == 0x80) {
            c = ' '; /* a NUL carried as C0 80 (json_read.h) has no place in a title */
            i++;
        }
        if (c == '\n' || c == '\r' || c == '\t')
            c = ' ';
        if ((unsigned char)c < 0x20)
            continue;
        if (c == ' ' && o > 0 && out[o - 1] == ' ')
            continue;
        if (o >= max) {
            cut = true;
            break;
        }
        if (c == ' ')
            last_space = o;
        out[o++] = c;
    }
    if (cut) {
        if (last_space > max / 2)
            o = last_space;
        o = utf8_complete_prefix(out, o);
        while (o > 0 && out[o - 1] == ' ')
            o--;
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    if (cut && o + 3 < outlen) {
        memcpy(out + o, "\xE2\x80\xA6", 3);
        o += 3;
    }
    out[o] = '\0';
}
