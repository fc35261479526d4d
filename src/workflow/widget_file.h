/* widget_file.h - Widget Builder `.widget` files: load, check, render.
 *
 * A `.widget` file (Widget Builder export, spec/chatkit-protocol.md §8.1 and chatkit-client.md
 * §9) is a JSON object:
 *   version            "1.0" (the only version there is; required)
 *   name               string (required)
 *   template           string, a Jinja2 template (template.h) rendering widget JSON (required)
 *   jsonSchema         object, the JSON Schema of the data (json_schema.h; optional, default {})
 *   outputJsonPreview  object, a sample render (optional; when present it must pass widget_check)
 *   encodedWidget      string, the designer's source (optional, kept out of the way)
 *   copy_text, description and any other members: ignored
 *
 * Loading compiles the template, checks the schema and checks the preview, so a broken file is
 * refused at startup with a message that names the file and the place:
 *   "widgets/card.widget: template: line 4, column 19: unknown filter 'tojsn'"
 *   "widgets/card.widget: outputJsonPreview: $.children[0].size: must be one of sm, md, lg"
 * Rendering validates the data against jsonSchema, renders the template (output capped at
 * WF_TEMPLATE_MAX_OUTPUT), parses the result as JSON and checks it with widget_check.
 *
 * Threads: a loaded file is immutable; several threads may render it at once.
 */
#ifndef CHATKITD_WORKFLOW_WIDGET_FILE_H
#define CHATKITD_WORKFLOW_WIDGET_FILE_H

#include <cjson/cJSON.h>
#include <stddef.h>

#define WIDGET_FILE_MAX_BYTES (1024 * 1024) /* size of a .widget file */
#define WIDGET_FILE_MAX_DEPTH 64            /* JSON nesting of the file and of rendered output */

struct widget_file; /* opaque; owned by whoever loaded it */

/* Reads and checks the file at path into *out (free with widget_file_free). This reads the disk
 * (blocking), so call it at startup or from a worker, never on the event loop. ERR_IO when it
 * cannot be read, ERR_TOO_BIG past WIDGET_FILE_MAX_BYTES, ERR_INVALID for anything wrong inside
 * (with
 * "<path>: <field>: <reason>" in err); *out untouched on failure. */
int widget_file_load(const char *path, struct widget_file **out, char *err, size_t errlen);

/* As widget_file_load for a file's text already in memory; origin names it in messages. */
int widget_file_parse(const char *origin, const char *text, size_t len, struct widget_file **out,
                      char *err, size_t errlen);

/* The file's `name` (borrowed; lives as long as w). */
const char *widget_file_name(const struct widget_file *w);
/* The file's `jsonSchema` (borrowed; an empty object when the file has none). Tool definitions
 * can hand it to a model as the parameters of a "show this widget" tool. */
const cJSON *widget_file_schema(const struct widget_file *w);

/* Validates data against the schema, renders the template with it and checks the widget. On
 * success *out_widget is a new tree (caller frees with cJSON_Delete). ERR_INVALID with
 * "data: <path>: <reason>", "template: line L, column C: <reason>", "output is not JSON (line L,
 * column C of the rendered text): …" or "widget: <path>: <reason>" in err; ERR_TOO_BIG for the
 * output cap or a template limit. */
int widget_file_render(const struct widget_file *w, const cJSON *data, cJSON **out_widget,
                       char *err, size_t errlen);

/* Releases w; NULL is fine. */
void widget_file_free(struct widget_file *w);

#endif
