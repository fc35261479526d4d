/* widget_file.c - loads, checks and renders Widget Builder `.widget` files (widget_file.h). */
#include "workflow/widget_file.h"

#include "core/buf.h"
#include "core/err.h"
#include "core/json_read.h"
#include "core/xalloc.h"
#include "workflow/json_schema.h"
#include "workflow/template.h"
#include "workflow/widget_check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct widget_file {
    char *name;               /* owned */
    cJSON *schema;            /* owned; an empty object when the file has none */
    struct wf_template *tmpl; /* owned */
};

static int load_fail(char *err, size_t errlen, int code, const char *origin, const char *field,
                     const char *msg)
{
    if (errlen > 0)
        snprintf(err, errlen, "%s: %s%s%s", origin, field ? field : "", field ? ": " : "", msg);
    return code;
}

/* Checks the members of the parsed file and fills w; the messages name the member. */
static int load_members(const char *origin, const cJSON *doc, struct widget_file *w, char *err,
                        size_t errlen)
{
    char msg[512];
    const char *version = NULL, *name = NULL, *tmpl = NULL;
    if (json_get_str(doc, "version", &version) != 0 || strcmp(version, "1.0") != 0)
        return load_fail(err, errlen, ERR_INVALID, origin, "version", "must be \"1.0\"");
    if (json_get_str(doc, "name", &name) != 0 || !name[0])
        return load_fail(err, errlen, ERR_INVALID, origin, "name", "must be a non-empty string");
    if (json_get_str(doc, "template", &tmpl) != 0)
        return load_fail(err, errlen, ERR_INVALID, origin, "template", "must be a string");
    const cJSON *schema = NULL, *preview = NULL;
    if (json_get_obj(doc, "jsonSchema", &schema) < 0)
        return load_fail(err, errlen, ERR_INVALID, origin, "jsonSchema", "must be an object");
    if (json_get_obj(doc, "outputJsonPreview", &preview) < 0)
        return load_fail(err, errlen, ERR_INVALID, origin, "outputJsonPreview",
                         "must be an object");
    w->name = xstrdup(name);
    w->schema = schema ? cJSON_Duplicate(schema, true) : cJSON_CreateObject();
    int rc = json_schema_validate_schema(w->schema, msg, sizeof msg);
    if (rc != 0)
        return load_fail(err, errlen, rc, origin, "jsonSchema", msg);
    rc = wf_template_compile(tmpl, strlen(tmpl), &w->tmpl, msg, sizeof msg);
    if (rc != 0)
        return load_fail(err, errlen, rc, origin, "template", msg);
    rc = preview ? widget_check(preview, msg, sizeof msg) : 0;
    if (rc != 0)
        return load_fail(err, errlen, rc, origin, "outputJsonPreview", msg);
    return 0;
}

int widget_file_parse(const char *origin, const char *text, size_t len, struct widget_file **out,
                      char *err, size_t errlen)
{
    if (errlen > 0)
        err[0] = '\0';
    if (len > WIDGET_FILE_MAX_BYTES)
        return load_fail(err, errlen, ERR_TOO_BIG, origin, NULL, "file larger than 1 MiB");
    size_t off = 0;
    cJSON *doc = json_parse(text, len, WIDGET_FILE_MAX_DEPTH, &off);
    if (!cJSON_IsObject(doc)) {
        char msg[96];
        if (doc)
            snprintf(msg, sizeof msg, "must be a JSON object");
        else
            snprintf(msg, sizeof msg, "not valid JSON (stopped at byte %zu)", off);
        cJSON_Delete(doc);
        return load_fail(err, errlen, ERR_INVALID, origin, NULL, msg);
    }
    struct widget_file *w = xcalloc(1, sizeof *w);
    int rc = load_members(origin, doc, w, err, errlen);
    cJSON_Delete(doc);
    if (rc != 0) {
        widget_file_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

int widget_file_load(const char *path, struct widget_file **out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return load_fail(err, errlen, ERR_IO, path, NULL, strerror(errno));
    struct buf b;
    buf_init(&b, WIDGET_FILE_MAX_BYTES);
    char chunk[8192];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = buf_append(&b, chunk, n);
    bool failed = ferror(f) != 0;
    fclose(f);
    if (rc != 0 || failed) {
        buf_free(&b);
        return rc != 0 ? load_fail(err, errlen, ERR_TOO_BIG, path, NULL, "file larger than 1 MiB")
                       : load_fail(err, errlen, ERR_IO, path, NULL, "read error");
    }
    rc = widget_file_parse(path, b.data ? b.data : "", b.len, out, err, errlen);
    buf_free(&b);
    return rc;
}

const char *widget_file_name(const struct widget_file *w)
{
    return w->name;
}

const cJSON *widget_file_schema(const struct widget_file *w)
{
    return w->schema;
}

/* Line and column (1-based) of byte off in text, for messages about rendered output. */
static void text_position(const char *text, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

static int parse_output(const struct buf *b, cJSON **out, char *err, size_t errlen)
{
    size_t off = 0;
    *out = json_parse(b->data ? b->data : "", b->len, WIDGET_FILE_MAX_DEPTH, &off);
    if (*out)
        return 0;
    int line, col;
    if (off > b->len)
        off = b->len;
    text_position(b->data ? b->data : "", off, &line, &col);
    size_t from = off > 20 ? off - 20 : 0, n = off - from + (b->len - off > 20 ? 20 : b->len - off);
    if (errlen > 0)
        snprintf(err, errlen,
                 "output is not JSON (line %d, column %d of the rendered text, near '%.*s'); a "
                 "value inserted without '| tojson' is the usual cause",
                 line, col, (int)n, b->data ? b->data + from : "");
    return ERR_INVALID;
}

int widget_file_render(const struct widget_file *w, const cJSON *data, cJSON **out_widget,
                       char *err, size_t errlen)
{
    char msg[512];
    cJSON *empty = data ? NULL : cJSON_CreateObject();
    const cJSON *d = data ? data : empty;
    int rc = json_schema_check(w->schema, d, msg, sizeof msg);
    if (rc != 0) {
        cJSON_Delete(empty);
        return load_fail(err, errlen, rc, "data", NULL, msg);
    }
    struct buf b;
    buf_init(&b, WF_TEMPLATE_MAX_OUTPUT);
    rc = wf_template_render(w->tmpl, d, &b, msg, sizeof msg);
    cJSON_Delete(empty);
    if (rc != 0) {
        buf_free(&b);
        return load_fail(err, errlen, rc, "template", NULL, msg);
    }
    cJSON *widget;
    rc = parse_output(&b, &widget, err, errlen);
    buf_free(&b);
    if (rc != 0)
        return rc;
    rc = widget_check(widget, msg, sizeof msg);
    if (rc != 0) {
        cJSON_Delete(widget);
        return load_fail(err, errlen, rc, "widget", NULL, msg);
    }
    *out_widget = widget;
    return 0;
}

void widget_file_free(struct widget_file *w)
{
    if (!w)
        return;
    free(w->name);
    cJSON_Delete(w->schema);
    wf_template_free(w->tmpl);
    free(w);
}
