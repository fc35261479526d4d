/* widget_check.c - the widget catalogue of spec/chatkit-protocol.md §8 as tables, and a walker
 * that checks a tree against them (widget_check.h).
 *
 * Each component is a row: its type, its own props, optionally the shared "BoxBase" props, and
 * its required props. Each prop has a value kind (string, enumeration, colour, action, children,
 * …); the walker checks kinds with one function each and recurses into children.
 */
#include "workflow/widget_check.h"

#include "core/err.h"
#include "core/json_path.h"
#include "workflow/filters.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

enum kind {
    K_STRING,
    K_BOOL,
    K_NUMBER,
    K_INT,
    K_ENUM,
    K_COLOR,
    K_SPACING,
    K_BORDER,
    K_DIM, /* number (px) or CSS string */
    K_ACTION,
    K_CARD_ACTION,
    K_STATUS,
    K_ICON,
    K_CHILDREN,
    K_CHILD,
    K_SELECT_OPTIONS,
    K_RADIO_OPTIONS,
    K_EDITABLE,
    K_LIMIT,
    K_CHART_DATA,
    K_SERIES,
    K_XAXIS,
};

struct prop {
    const char *name;
    enum kind kind;
    const char *const *values; /* K_ENUM: the allowed strings, NULL-terminated */
};

#define LIST(...) ((const char *const[]){__VA_ARGS__, NULL})

static const char *const alignment[] = {"start", "center", "end", "baseline", "stretch", NULL};
static const char *const justification[] = {"start",  "center", "end",     "between",
                                            "around", "evenly", "stretch", NULL};
static const char *const direction[] = {"row", "col", NULL};
static const char *const text_align[] = {"start", "center", "end", NULL};
static const char *const text_size[] = {"xs", "sm", "md", "lg", "xl", NULL};
static const char *const weight[] = {"normal", "medium", "semibold", "bold", NULL};
static const char *const control_variant[] = {"solid", "soft", "outline", "ghost", NULL};
static const char *const control_size[] = {"3xs", "2xs", "xs",  "sm",  "md",
                                           "lg",  "xl",  "2xl", "3xl", NULL};
static const char *const radius[] = {"2xs", "xs",  "sm",   "md",   "lg",   "xl", "2xl",
                                     "3xl", "4xl", "full", "100%", "none", NULL};
static const char *const theme[] = {"light", "dark", NULL};
static const char *const input_variant[] = {"soft", "outline", NULL};
static const char *const gutter[] = {"2xs", "xs", "sm", "md", "lg", "xl", NULL};

#define BOX_PROPS                                                                                  \
    {"children", K_CHILDREN, NULL}, {"align", K_ENUM, alignment},                                  \
        {"justify", K_ENUM, justification},                                                        \
        {"wrap", K_ENUM, LIST("nowrap", "wrap", "wrap-reverse")}, {"flex", K_DIM, NULL},           \
        {"gap", K_DIM, NULL}, {"height", K_DIM, NULL}, {"width", K_DIM, NULL},                     \
        {"size", K_DIM, NULL}, {"minHeight", K_DIM, NULL}, {"minWidth", K_DIM, NULL},              \
        {"minSize", K_DIM, NULL}, {"maxHeight", K_DIM, NULL}, {"maxWidth", K_DIM, NULL},           \
        {"maxSize", K_DIM, NULL}, {"padding", K_SPACING, NULL}, {"margin", K_SPACING, NULL},       \
        {"border", K_BORDER, NULL}, {"radius", K_ENUM, radius}, {"background", K_COLOR, NULL},     \
    {                                                                                              \
        "aspectRatio", K_DIM, NULL                                                                 \
    }

#define SIZE_PROPS                                                                                 \
    {"height", K_DIM, NULL}, {"width", K_DIM, NULL}, {"size", K_DIM, NULL},                        \
        {"minHeight", K_DIM, NULL}, {"minWidth", K_DIM, NULL}, {"minSize", K_DIM, NULL},           \
        {"maxHeight", K_DIM, NULL}, {"maxWidth", K_DIM, NULL}, {"maxSize", K_DIM, NULL},           \
        {"aspectRatio", K_DIM, NULL},                                                              \
    {                                                                                              \
        "flex", K_DIM, NULL                                                                        \
    }

#define TEXT_COMMON                                                                                \
    {"value", K_STRING, NULL}, {"color", K_COLOR, NULL}, {"weight", K_ENUM, weight},               \
        {"textAlign", K_ENUM, text_align}, {"truncate", K_BOOL, NULL},                             \
    {                                                                                              \
        "maxLines", K_INT, NULL                                                                    \
    }

#define FIELD_COMMON                                                                               \
    {"name", K_STRING, NULL}, {"defaultValue", K_STRING, NULL}, {"required", K_BOOL, NULL},        \
        {"pattern", K_STRING, NULL}, {"placeholder", K_STRING, NULL},                              \
        {"allowAutofillExtensions", K_BOOL, NULL}, {"autoSelect", K_BOOL, NULL},                   \
        {"autoFocus", K_BOOL, NULL}, {"disabled", K_BOOL, NULL},                                   \
        {"variant", K_ENUM, input_variant}, {"size", K_ENUM, control_size},                        \
        {"gutterSize", K_ENUM, gutter},                                                            \
    {                                                                                              \
        "pill", K_BOOL, NULL                                                                       \
    }

enum placement {
    PLACE_ANY,       /* anywhere below the root, except where a parent takes only one kind */
    PLACE_ROOT,      /* the root, or a child of Basic */
    PLACE_LISTVIEW,  /* only directly inside ListView */
    PLACE_TABLE,     /* only directly inside Table */
    PLACE_TABLE_ROW, /* only directly inside Table.Row */
};

struct component {
    const char *type;
    enum placement place;
    const char *const *required;
    struct prop props[40]; /* ends at the first entry with a NULL name */
};

static const struct component catalogue[] = {
    {"Card",
     PLACE_ROOT,
     LIST("children"),
     {{"children", K_CHILDREN, NULL},
      {"asForm", K_BOOL, NULL},
      {"background", K_COLOR, NULL},
      {"size", K_ENUM, LIST("sm", "md", "lg", "full")},
      {"padding", K_SPACING, NULL},
      {"status", K_STATUS, NULL},
      {"collapsed", K_BOOL, NULL},
      {"confirm", K_CARD_ACTION, NULL},
      {"cancel", K_CARD_ACTION, NULL},
      {"theme", K_ENUM, theme},
      {"border", K_BORDER, NULL}}},
    {"ListView",
     PLACE_ROOT,
     LIST("children"),
     {{"children", K_CHILDREN, NULL},
      {"limit", K_LIMIT, NULL},
      {"status", K_STATUS, NULL},
      {"theme", K_ENUM, theme}}},
    {"ListViewItem",
     PLACE_LISTVIEW,
     LIST("children"),
     {{"children", K_CHILDREN, NULL},
      {"onClickAction", K_ACTION, NULL},
      {"gap", K_DIM, NULL},
      {"align", K_ENUM, alignment}}},
    {"Basic",
     PLACE_ROOT,
     NULL,
     {{"children", K_CHILDREN, NULL},
      {"theme", K_ENUM, theme},
      {"direction", K_ENUM, direction},
      {"gap", K_DIM, NULL},
      {"padding", K_SPACING, NULL},
      {"align", K_ENUM, alignment},
      {"justify", K_ENUM, justification}}},
    {"Box", PLACE_ANY, NULL, {BOX_PROPS, {"direction", K_ENUM, direction}}},
    {"Row", PLACE_ANY, NULL, {BOX_PROPS}},
    {"Col", PLACE_ANY, NULL, {BOX_PROPS}},
    {"Form",
     PLACE_ANY,
     NULL,
     {BOX_PROPS, {"direction", K_ENUM, direction}, {"onSubmitAction", K_ACTION, NULL}}},
    {"Spacer", PLACE_ANY, NULL, {{"minSize", K_DIM, NULL}}},
    {"Divider",
     PLACE_ANY,
     NULL,
     {{"color", K_COLOR, NULL},
      {"size", K_DIM, NULL},
      {"spacing", K_DIM, NULL},
      {"flush", K_BOOL, NULL}}},
    {"Transition", PLACE_ANY, LIST("children"), {{"children", K_CHILD, NULL}}},
    {"Text",
     PLACE_ANY,
     LIST("value"),
     {TEXT_COMMON,
      {"streaming", K_BOOL, NULL},
      {"italic", K_BOOL, NULL},
      {"lineThrough", K_BOOL, NULL},
      {"width", K_DIM, NULL},
      {"size", K_ENUM, text_size},
      {"minLines", K_INT, NULL},
      {"editable", K_EDITABLE, NULL}}},
    {"Title",
     PLACE_ANY,
     LIST("value"),
     {TEXT_COMMON, {"size", K_ENUM, LIST("sm", "md", "lg", "xl", "2xl", "3xl", "4xl", "5xl")}}},
    {"Caption", PLACE_ANY, LIST("value"), {TEXT_COMMON, {"size", K_ENUM, LIST("sm", "md", "lg")}}},
    {"Markdown",
     PLACE_ANY,
     LIST("value"),
     {{"value", K_STRING, NULL}, {"streaming", K_BOOL, NULL}}},
    {"Label",
     PLACE_ANY,
     LIST("value", "fieldName"),
     {{"value", K_STRING, NULL},
      {"fieldName", K_STRING, NULL},
      {"size", K_ENUM, text_size},
      {"weight", K_ENUM, weight},
      {"textAlign", K_ENUM, text_align},
      {"color", K_COLOR, NULL}}},
    {"Badge",
     PLACE_ANY,
     LIST("label"),
     {{"label", K_STRING, NULL},
      {"color", K_ENUM, LIST("secondary", "success", "danger", "warning", "info", "discovery")},
      {"variant", K_ENUM, LIST("solid", "soft", "outline")},
      {"size", K_ENUM, LIST("sm", "md", "lg")},
      {"pill", K_BOOL, NULL}}},
    {"Icon",
     PLACE_ANY,
     LIST("name"),
     {{"name", K_ICON, NULL},
      {"color", K_COLOR, NULL},
      {"size", K_ENUM, LIST("xs", "sm", "md", "lg", "xl", "2xl", "3xl")}}},
    {"Image",
     PLACE_ANY,
     LIST("src"),
     {SIZE_PROPS,
      {"src", K_STRING, NULL},
      {"alt", K_STRING, NULL},
      {"fit", K_ENUM, LIST("cover", "contain", "fill", "scale-down", "none")},
      {"position", K_ENUM,
       LIST("top left", "top", "top right", "left", "center", "right", "bottom left", "bottom",
            "bottom right")},
      {"radius", K_ENUM, radius},
      {"frame", K_BOOL, NULL},
      {"flush", K_BOOL, NULL},
      {"margin", K_SPACING, NULL},
      {"background", K_COLOR, NULL}}},
    {"Button",
     PLACE_ANY,
     NULL,
     {{"label", K_STRING, NULL},
      {"onClickAction", K_ACTION, NULL},
      {"submit", K_BOOL, NULL},
      {"iconStart", K_ICON, NULL},
      {"iconEnd", K_ICON, NULL},
      {"style", K_ENUM, LIST("primary", "secondary")},
      {"iconSize", K_ENUM, LIST("sm", "md", "lg", "xl", "2xl")},
      {"color", K_ENUM,
       LIST("primary", "secondary", "info", "discovery", "success", "caution", "warning",
            "danger")},
      {"variant", K_ENUM, control_variant},
      {"size", K_ENUM, control_size},
      {"pill", K_BOOL, NULL},
      {"uniform", K_BOOL, NULL},
      {"block", K_BOOL, NULL},
      {"disabled", K_BOOL, NULL}}},
    {"Chart",
     PLACE_ANY,
     LIST("data", "series", "xAxis"),
     {SIZE_PROPS,
      {"data", K_CHART_DATA, NULL},
      {"series", K_SERIES, NULL},
      {"xAxis", K_XAXIS, NULL},
      {"showYAxis", K_BOOL, NULL},
      {"showLegend", K_BOOL, NULL},
      {"showTooltip", K_BOOL, NULL},
      {"barGap", K_INT, NULL},
      {"barCategoryGap", K_INT, NULL}}},
    {"Table", PLACE_ANY, NULL, {{"children", K_CHILDREN, NULL}}},
    {"Table.Row", PLACE_TABLE, NULL, {{"children", K_CHILDREN, NULL}, {"header", K_BOOL, NULL}}},
    {"Table.Cell",
     PLACE_TABLE_ROW,
     NULL,
     {{"children", K_CHILDREN, NULL},
      {"width", K_DIM, NULL},
      {"padding", K_SPACING, NULL},
      {"colSpan", K_INT, NULL},
      {"rowSpan", K_INT, NULL},
      {"align", K_ENUM, text_align},
      {"vAlign", K_ENUM, text_align},
      {"colSize", K_ENUM, text_size}}},
    {"Input",
     PLACE_ANY,
     LIST("name"),
     {FIELD_COMMON,
      {"inputType", K_ENUM, LIST("number", "email", "text", "password", "tel", "url")}}},
    {"Textarea",
     PLACE_ANY,
     LIST("name"),
     {FIELD_COMMON, {"rows", K_INT, NULL}, {"autoResize", K_BOOL, NULL}, {"maxRows", K_INT, NULL}}},
    {"Select",
     PLACE_ANY,
     LIST("name", "options"),
     {{"name", K_STRING, NULL},
      {"options", K_SELECT_OPTIONS, NULL},
      {"onChangeAction", K_ACTION, NULL},
      {"placeholder", K_STRING, NULL},
      {"defaultValue", K_STRING, NULL},
      {"variant", K_ENUM, control_variant},
      {"size", K_ENUM, control_size},
      {"pill", K_BOOL, NULL},
      {"block", K_BOOL, NULL},
      {"clearable", K_BOOL, NULL},
      {"disabled", K_BOOL, NULL},
      {"searchable", K_BOOL, NULL}}},
    {"DatePicker",
     PLACE_ANY,
     LIST("name"),
     {{"name", K_STRING, NULL},
      {"onChangeAction", K_ACTION, NULL},
      {"placeholder", K_STRING, NULL},
      {"defaultValue", K_STRING, NULL},
      {"min", K_STRING, NULL},
      {"max", K_STRING, NULL},
      {"variant", K_ENUM, control_variant},
      {"size", K_ENUM, control_size},
      {"side", K_ENUM, LIST("top", "bottom", "left", "right")},
      {"align", K_ENUM, text_align},
      {"pill", K_BOOL, NULL},
      {"block", K_BOOL, NULL},
      {"clearable", K_BOOL, NULL},
      {"disabled", K_BOOL, NULL}}},
    {"Checkbox",
     PLACE_ANY,
     LIST("name"),
     {{"name", K_STRING, NULL},
      {"label", K_STRING, NULL},
      {"defaultChecked", K_BOOL, NULL},
      {"onChangeAction", K_ACTION, NULL},
      {"disabled", K_BOOL, NULL},
      {"required", K_BOOL, NULL}}},
    {"RadioGroup",
     PLACE_ANY,
     LIST("name"),
     {{"name", K_STRING, NULL},
      {"options", K_RADIO_OPTIONS, NULL},
      {"ariaLabel", K_STRING, NULL},
      {"onChangeAction", K_ACTION, NULL},
      {"defaultValue", K_STRING, NULL},
      {"direction", K_ENUM, direction},
      {"disabled", K_BOOL, NULL},
      {"required", K_BOOL, NULL}}},
};

/* Built-in icon names (spec/chatkit-protocol.md §15); "lucide:…" and "vendor:…" also pass. */
static const char *const icons[] = {"agent",
                                    "analytics",
                                    "atom",
                                    "batch",
                                    "bolt",
                                    "book-open",
                                    "book-closed",
                                    "book-clock",
                                    "bug",
                                    "calendar",
                                    "chart",
                                    "check",
                                    "check-circle",
                                    "check-circle-filled",
                                    "chevron-left",
                                    "chevron-right",
                                    "circle-question",
                                    "clock",
                                    "compass",
                                    "confetti",
                                    "cube",
                                    "desktop",
                                    "document",
                                    "dot",
                                    "dots-horizontal",
                                    "dots-vertical",
                                    "empty-circle",
                                    "external-link",
                                    "globe",
                                    "keys",
                                    "lab",
                                    "images",
                                    "info",
                                    "lifesaver",
                                    "lightbulb",
                                    "mail",
                                    "map-pin",
                                    "maps",
                                    "mobile",
                                    "name",
                                    "notebook",
                                    "notebook-pencil",
                                    "page-blank",
                                    "phone",
                                    "play",
                                    "plus",
                                    "profile",
                                    "profile-card",
                                    "reload",
                                    "star",
                                    "star-filled",
                                    "search",
                                    "sparkle",
                                    "sparkle-double",
                                    "square-code",
                                    "square-image",
                                    "square-text",
                                    "suitcase",
                                    "settings-slider",
                                    "user",
                                    "wreath",
                                    "write",
                                    "write-alt",
                                    "write-alt2",
                                    NULL};

/* Colour tokens of §8.2 and the client spec's palette list. */
static const char *const color_tokens[] = {"prose",
                                           "primary",
                                           "emphasis",
                                           "secondary",
                                           "tertiary",
                                           "success",
                                           "warning",
                                           "danger",
                                           "info",
                                           "discovery",
                                           "caution",
                                           "default",
                                           "subtle",
                                           "strong",
                                           "surface",
                                           "surface-secondary",
                                           "surface-tertiary",
                                           "surface-elevated",
                                           "surface-elevated-secondary",
                                           "blue",
                                           "purple",
                                           "orange",
                                           "green",
                                           "red",
                                           "yellow",
                                           "pink",
                                           "white",
                                           "black",
                                           "transparent",
                                           "currentColor",
                                           "inherit",
                                           NULL};

/* Ramp names: "<name>-<shade>" such as gray-300, blue-600, alpha-70. */
static const char *const ramps[] = {
    "gray",   "slate",   "zinc",    "neutral", "stone", "red",   "orange", "amber",  "yellow",
    "lime",   "green",   "emerald", "teal",    "cyan",  "sky",   "blue",   "indigo", "violet",
    "purple", "fuchsia", "pink",    "rose",    "alpha", "black", "white",  NULL};

/* CSS colour functions and gradients accepted as "name(…)". */
static const char *const css_functions[] = {"rgb",
                                            "rgba",
                                            "hsl",
                                            "hsla",
                                            "hwb",
                                            "lab",
                                            "lch",
                                            "oklab",
                                            "oklch",
                                            "color",
                                            "color-mix",
                                            "var",
                                            "linear-gradient",
                                            "radial-gradient",
                                            "conic-gradient",
                                            "repeating-linear-gradient",
                                            "repeating-radial-gradient",
                                            NULL};

struct walk {
    int nodes;
    char *err;
    size_t errlen;
};

static bool in_list(const char *s, const char *const *list)
{
    for (; *list; list++) {
        if (strcmp(s, *list) == 0)
            return true;
    }
    return false;
}

static int check_enum(struct walk *w, const struct json_path *p, const cJSON *v,
                      const char *const *values)
{
    if (cJSON_IsString(v) && in_list(v->valuestring, values))
        return 0;
    char names[256];
    size_t n = 0;
    names[0] = '\0';
    for (const char *const *x = values; *x && n < sizeof names; x++)
        n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", n ? ", " : "", *x);
    return json_path_errorf(p, w->err, w->errlen, ERR_INVALID, "must be one of %s", names);
}

static bool is_hex_color(const char *s)
{
    size_t n = strlen(s + 1);
    return s[0] == '#' && (n == 3 || n == 4 || n == 6 || n == 8) &&
           strspn(s + 1, "0123456789abcdefABCDEF") == n;
}

static bool is_ramp(const char *s)
{
    const char *dash = strrchr(s, '-');
    if (!dash || dash == s || !dash[1] || strspn(dash + 1, "0123456789") != strlen(dash + 1))
        return false;
    for (const char *const *r = ramps; *r; r++) {
        if (strlen(*r) == (size_t)(dash - s) && memcmp(*r, s, (size_t)(dash - s)) == 0)
            return true;
    }
    return false;
}

static bool is_css_function(const char *s)
{
    const char *open = strchr(s, '(');
    size_t n = strlen(s);
    if (!open || n < 3 || s[n - 1] != ')')
        return false;
    for (const char *const *f = css_functions; *f; f++) {
        if (strlen(*f) == (size_t)(open - s) && memcmp(*f, s, (size_t)(open - s)) == 0)
            return true;
    }
    return false;
}

static bool is_color_string(const char *s)
{
    return in_list(s, color_tokens) || is_hex_color(s) || is_ramp(s) || is_css_function(s);
}

static int check_color(struct walk *w, struct json_path *p, const cJSON *v)
{
    if (cJSON_IsString(v) && is_color_string(v->valuestring))
        return 0;
    if (cJSON_IsObject(v)) {
        const cJSON *light = cJSON_GetObjectItemCaseSensitive(v, "light");
        const cJSON *dark = cJSON_GetObjectItemCaseSensitive(v, "dark");
        if (cJSON_GetArraySize(v) == 2 && cJSON_IsString(light) && cJSON_IsString(dark) &&
            is_color_string(light->valuestring) && is_color_string(dark->valuestring))
            return 0;
        return json_path_errorf(p, w->err, w->errlen, ERR_INVALID,
                                "a theme colour is {\"light\": colour, \"dark\": colour}");
    }
    return json_path_errorf(
        p, w->err, w->errlen, ERR_INVALID,
        "unknown colour %s%s%s (use a token such as primary or secondary, a ramp such "
        "as blue-500, a CSS colour such as #1a2b3c, or {light, dark})",
        cJSON_IsString(v) ? "'" : "", cJSON_IsString(v) ? v->valuestring : "value",
        cJSON_IsString(v) ? "'" : "");
}

static bool is_whole(const cJSON *v)
{
    return cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) &&
           fabs(v->valuedouble) < 1e15;
}

static bool is_num_or_str(const cJSON *v)
{
    return cJSON_IsNumber(v) || cJSON_IsString(v);
}

/* Checks an object against a small fixed shape: each key's kind, the required keys. */
struct field {
    const char *name;
    enum kind kind;
    const char *const *values;
    bool required;
};

static int check_value(struct walk *w, struct json_path *p, const cJSON *v, enum kind kind,
                       const char *const *values, const char *parent_type, int depth);

static int check_shape(struct walk *w, struct json_path *p, const cJSON *v, const char *what,
                       const struct field *fields, int depth)
{
    if (!cJSON_IsObject(v))
        return json_path_errorf(p, w->err, w->errlen, ERR_INVALID, "%s must be an object", what);
    for (const struct field *f = fields; f->name; f++) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(v, f->name);
        if (f->required && (!m || cJSON_IsNull(m)))
            return json_path_errorf(p, w->err, w->errlen, ERR_INVALID, "%s needs '%s'", what,
                                    f->name);
    }
    for (const cJSON *m = v->child; m; m = m->next) {
        const struct field *f = fields;
        while (f->name && strcmp(f->name, m->string) != 0)
            f++;
        size_t mark = json_path_key(p, m->string);
        if (!f->name)
            return json_path_errorf(p, w->err, w->errlen, ERR_INVALID, "%s has no field '%s'", what,
                                    m->string);
        int rc = cJSON_IsNull(m) ? 0 : check_value(w, p, m, f->kind, f->values, NULL, depth);
        if (rc != 0)
            return rc;
        json_path_pop(p, mark);
    }
    return 0;
}

static int check_action(struct walk *w, struct json_path *p, const cJSON *v, int depth)
{
    static const char *const keys[] = {"type",      "payload", "handler", "loadingBehavior",
                                       "streaming", NULL};
    for (const cJSON *m = cJSON_IsObject(v) ? v->child : NULL; m; m = m->next) {
        if (!in_list(m->string, keys)) {
            json_path_key(p, m->string);
            return json_path_errorf(
                p, w->err, w->errlen, ERR_INVALID,
                "an action has only type, payload, handler, loadingBehavior and "
                "streaming");
        }
    }
    const struct field checked[] = {
        {"type", K_STRING, NULL, true},
        {"handler", K_ENUM, LIST("server", "client"), false},
        {"loadingBehavior", K_ENUM, LIST("auto", "self", "container", "none"), false},
        {"streaming", K_BOOL, NULL, false},
        {NULL, K_STRING, NULL, false},
    };
    if (!cJSON_IsObject(v))
        return json_path_errorf(p, w->err, w->errlen, ERR_INVALID, "an action must be an object");
    for (const struct field *f = checked; f->name; f++) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(v, f->name);
        if (f->required && (!cJSON_IsString(m) || !m->valuestring[0]))
            return json_path_errorf(p, w->err, w->errlen, ERR_INVALID,
                                    "an action needs a non-empty string 'type'");
        if (!m || cJSON_IsNull(m))
            continue;
        size_t mark = json_path_key(p, f->name);
        int rc = check_value(w, p, m, f->kind, f->values, NULL, depth);
        if (rc != 0)
            return rc;
        json_path_pop(p, mark);
    }
    return 0;
}

static int check_component(struct walk *w, struct json_path *p, const cJSON *node,
                           const char *parent_type, int depth);

static int check_children(struct walk *w, struct json_path *p, const cJSON *v,
                          const char *parent_type, int depth)
{
    if (!cJSON_IsArray(v))
        return json_path_errorf(p, w->err, w->errlen, ERR_INVALID,
                                "children must be a list of components");
    int i = 0;
    for (const cJSON *c = v->child; c; c = c->next, i++) {
        size_t mark = json_path_index(p, i);
        int rc = check_component(w, p, c, parent_type, depth + 1);
        if (rc != 0)
            return rc;
        json_path_pop(p, mark);
    }
    return 0;
}

static int check_border(struct walk *w, struct json_path *p, const cJSON *v, int depth)
{
    const struct field border[] = {
        {"size", K_INT, NULL, true},
        {"color", K_COLOR, NULL, false},
        {"style", K_ENUM,
         LIST("solid", "dashed", "dotted", "double", "groove", "ridge", "inset", "outset"), false},
        {NULL, K_STRING, NULL, false},
    };
    if (is_whole(v))
        return 0;
    if (cJSON_IsObject(v) && cJSON_GetObjectItemCaseSensitive(v, "size"))
        return check_shape(w, p, v, "a border", border, depth);
    if (!cJSON_IsObject(v))
        return json_path_errorf(p, w->err, w->errlen, ERR_INVALID,
                                "a border is a whole number of px, {size, color?, style?} "
                                "or per side {top?, right?, bottom?, left?, x?, y?}");
    static const char *const sides[] = {"top", "right", "bottom", "left", "x", "y", NULL};
    for (const cJSON *m = v->child; m; m = m->next) {
        size_t mark = json_path_key(p, m->string);
        int rc = in_list(m->string, sides)
                     ? (is_whole(m) ? 0 : check_shape(w, p, m, "a border", border, depth))
                     : json_path_errorf(p, w->err, w->errlen, ERR_INVALID,
                                        "a border side is top, right, bottom, left, x or y");
        if (rc != 0)
            return rc;
        json_path_pop(p, mark);
    }
    return 0;
}

static int check_spacing(struct walk *w, struct json_path *p, const cJSON *v)
{
    if (is_num_or_str(v))
        return 0;
    static const char *const sides[] = {"top", "right", "bottom", "left", "x", "y", NULL};
    if (!cJSON_IsObject(v))
        return json_path_errorf(p, w->err, w->errlen, ERR_INVALID,
                                "spacing is a number, a CSS string or per side "
                                "{top?, right?, bottom?, left?, x?, y?}");
    for (const cJSON *m = v->child; m; m = m->next) {
        if (!in_list(m->string, sides) || !is_num_or_str(m)) {
            json_path_key(p, m->string);
            return json_path_errorf(p, w->err, w->errlen, ERR_INVALID,
                                    "a spacing side is top, right, bottom, left, x or y, "
                                    "with a number or a string");
        }
    }
    return 0;
}

static int check_options(struct walk *w, struct json_path *p, const cJSON *v, bool select,
                         int depth)
{
    static const struct field select_option[] = {
        {"value", K_STRING, NULL, true},   {"label", K_STRING, NULL, true},
        {"disabled", K_BOOL, NULL, false}, {"description", K_STRING, NULL, false},
        {NULL, K_STRING, NULL, false},
    };
    static const struct field radio_option[] = {
        {"value", K_STRING, NULL, true},
        {"label", K_STRING, NULL, true},
        {"disabled", K_BOOL, NULL, false},
        {NULL, K_STRING, NULL, false},
    };
    if (!cJSON_IsArray(v))
        return json_path_errorf(p, w->err, w->errlen, ERR_INVALID, "options must be a list");
    int i = 0;
    for (const cJSON *o = v->child; o; o = o->next, i++) {
        size_t mark = json_path_index(p, i);
        int rc = check_shape(w, p, o, "an option", select ? select_option : radio_option, depth);
        if (rc != 0)
            return rc;
        json_path_pop(p, mark);
    }
    return 0;
}

static int check_chart_data(struct walk *w, struct json_path *p, const cJSON *v)
{
    if (!cJSON_IsArray(v))
        return json_path_errorf(p, w->err, w->errlen, ERR_INVALID,
                                "chart data must be a list of objects");
    int i = 0;
    for (const cJSON *row = v->child; row; row = row->next, i++) {
        size_t mark = json_path_index(p, i);
        if (!cJSON_IsObject(row))
            return json_path_errorf(p, w->err, w->errlen, ERR_INVALID,
                                    "a chart data row must be an object");
        for (const cJSON *m = row->child; m; m = m->next) {
            if (!is_num_or_str(m)) {
                json_path_key(p, m->string);
                return json_path_errorf(p, w->err, w->errlen, ERR_INVALID,
                                        "chart values are numbers or strings");
            }
        }
        json_path_pop(p, mark);
    }
    return 0;
}

static int check_series(struct walk *w, struct json_path *p, const cJSON *v, int depth)
{
    const struct field series[] = {
        {"type", K_ENUM, LIST("bar", "area", "line"), true},
        {"label", K_STRING, NULL, false},
        {"dataKey", K_STRING, NULL, true},
        {"stack", K_STRING, NULL, false},
        {"color", K_COLOR, NULL, false},
        {"curveType", K_ENUM,
         LIST("basis", "basisClosed", "basisOpen", "bumpX", "bumpY", "bump", "linear",
              "linearClosed", "natural", "monotoneX", "monotoneY", "monotone", "step", "stepBefore",
              "stepAfter"),
         false},
        {NULL, K_STRING, NULL, false},
    };
    if (!cJSON_IsArray(v))
        return json_path_errorf(p, w->err, w->errlen, ERR_INVALID, "series must be a list");
    int i = 0;
    for (const cJSON *s = v->child; s; s = s->next, i++) {
        size_t mark = json_path_index(p, i);
        int rc = check_shape(w, p, s, "a series", series, depth);
        if (rc != 0)
            return rc;
        json_path_pop(p, mark);
    }
    return 0;
}

static int check_xaxis(struct walk *w, struct json_path *p, const cJSON *v, int depth)
{
    static const struct field axis[] = {
        {"dataKey", K_STRING, NULL, true},
        {"hide", K_BOOL, NULL, false},
        {NULL, K_STRING, NULL, false},
    };
    if (cJSON_IsString(v))
        return 0;
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(v, "labels");
    if (labels && !cJSON_IsObject(labels))
        return json_path_errorf(p, w->err, w->errlen, ERR_INVALID,
                                "xAxis.labels must be an object of value -> label");
    cJSON *copy = cJSON_IsObject(v) ? cJSON_Duplicate(v, true) : NULL;
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "labels");
    int rc = check_shape(w, p, copy ? copy : v, "xAxis", axis, depth);
    cJSON_Delete(copy);
    return rc;
}

static int check_editable(struct walk *w, struct json_path *p, const cJSON *v, int depth)
{
    static const struct field editable[] = {
        {"name", K_STRING, NULL, true},
        {"autoFocus", K_BOOL, NULL, false},
        {"autoSelect", K_BOOL, NULL, false},
        {"autoComplete", K_STRING, NULL, false},
        {"allowAutofillExtensions", K_BOOL, NULL, false},
        {"pattern", K_STRING, NULL, false},
        {"placeholder", K_STRING, NULL, false},
        {"required", K_BOOL, NULL, false},
        {NULL, K_STRING, NULL, false},
    };
    if (cJSON_IsFalse(v))
        return 0;
    return check_shape(w, p, v, "editable (false or an object)", editable, depth);
}

static int check_icon(struct walk *w, struct json_path *p, const cJSON *v)
{
    if (cJSON_IsString(v) &&
        (in_list(v->valuestring, icons) || strncmp(v->valuestring, "lucide:", 7) == 0 ||
         strncmp(v->valuestring, "vendor:", 7) == 0))
        return 0;
    return json_path_errorf(
        p, w->err, w->errlen, ERR_INVALID,
        "unknown icon %s%s%s (use a built-in name such as check or calendar, or "
        "lucide:<name>)",
        cJSON_IsString(v) ? "'" : "", cJSON_IsString(v) ? v->valuestring : "value",
        cJSON_IsString(v) ? "'" : "");
}

static int check_value(struct walk *w, struct json_path *p, const cJSON *v, enum kind kind,
                       const char *const *values, const char *parent_type, int depth)
{
    static const struct field card_action[] = {{"label", K_STRING, NULL, true},
                                               {"action", K_ACTION, NULL, true},
                                               {NULL, K_STRING, NULL, false}};
    static const struct field status[] = {{"text", K_STRING, NULL, true},
                                          {"favicon", K_STRING, NULL, false},
                                          {"frame", K_BOOL, NULL, false},
                                          {"icon", K_ICON, NULL, false},
                                          {NULL, K_STRING, NULL, false}};
    switch (kind) {
    case K_STRING:
        return cJSON_IsString(v)
                   ? 0
                   : json_path_errorf(p, w->err, w->errlen, ERR_INVALID, "must be a string");
    case K_BOOL:
        return cJSON_IsBool(v)
                   ? 0
                   : json_path_errorf(p, w->err, w->errlen, ERR_INVALID, "must be true or false");
    case K_NUMBER:
        return cJSON_IsNumber(v)
                   ? 0
                   : json_path_errorf(p, w->err, w->errlen, ERR_INVALID, "must be a number");
    case K_INT:
        return is_whole(v)
                   ? 0
                   : json_path_errorf(p, w->err, w->errlen, ERR_INVALID, "must be a whole number");
    case K_ENUM:
        return check_enum(w, p, v, values);
    case K_COLOR:
        return check_color(w, p, v);
    case K_SPACING:
        return check_spacing(w, p, v);
    case K_BORDER:
        return check_border(w, p, v, depth);
    case K_DIM:
        return is_num_or_str(v) ? 0
                                : json_path_errorf(p, w->err, w->errlen, ERR_INVALID,
                                                   "must be a number or a string");
    case K_ACTION:
        return check_action(w, p, v, depth);
    case K_CARD_ACTION:
        return check_shape(w, p, v, "a card action", card_action, depth);
    case K_STATUS:
        return check_shape(w, p, v, "a status", status, depth);
    case K_ICON:
        return check_icon(w, p, v);
    case K_CHILDREN:
        return check_children(w, p, v, parent_type, depth);
    case K_CHILD:
        return check_component(w, p, v, parent_type, depth + 1);
    case K_SELECT_OPTIONS:
        return check_options(w, p, v, true, depth);
    case K_RADIO_OPTIONS:
        return check_options(w, p, v, false, depth);
    case K_EDITABLE:
        return check_editable(w, p, v, depth);
    case K_LIMIT:
        return is_whole(v) || (cJSON_IsString(v) && strcmp(v->valuestring, "auto") == 0)
                   ? 0
                   : json_path_errorf(p, w->err, w->errlen, ERR_INVALID,
                                      "must be a whole number or \"auto\"");
    case K_CHART_DATA:
        return check_chart_data(w, p, v);
    case K_SERIES:
        return check_series(w, p, v, depth);
    case K_XAXIS:
        return check_xaxis(w, p, v, depth);
    }
    return 0;
}

static const struct component *find_component(const char *type)
{
    for (size_t i = 0; i < sizeof catalogue / sizeof catalogue[0]; i++) {
        if (strcmp(catalogue[i].type, type) == 0)
            return &catalogue[i];
    }
    return NULL;
}

/* Where a component may stand, given its parent's type (NULL at the root). */
static int check_placement(struct walk *w, const struct json_path *p, const struct component *c,
                           const char *parent)
{
    static const struct {
        const char *parent, *child;
    } only[] = {{"ListView", "ListViewItem"}, {"Table", "Table.Row"}, {"Table.Row", "Table.Cell"}};
    if (!parent && c->place != PLACE_ROOT)
        return json_path_errorf(p, w->err, w->errlen, ERR_INVALID,
                                "the root must be Card, ListView or Basic, not %s", c->type);
    for (size_t i = 0; parent && i < sizeof only / sizeof only[0]; i++) {
        if (strcmp(parent, only[i].parent) == 0 && strcmp(c->type, only[i].child) != 0)
            return json_path_errorf(p, w->err, w->errlen, ERR_INVALID,
                                    "%s takes only %s children, not %s", parent, only[i].child,
                                    c->type);
    }
    static const char *const homes[] = {NULL, NULL, "ListView", "Table", "Table.Row"};
    if (c->place >= PLACE_LISTVIEW && (!parent || strcmp(parent, homes[c->place]) != 0))
        return json_path_errorf(p, w->err, w->errlen, ERR_INVALID,
                                "%s is allowed only directly inside %s", c->type, homes[c->place]);
    if (parent && c->place == PLACE_ROOT && strcmp(parent, "Basic") != 0)
        return json_path_errorf(p, w->err, w->errlen, ERR_INVALID,
                                "%s is a root: allowed only at the top or inside Basic", c->type);
    return 0;
}

static const struct prop *find_prop(const struct component *c, const char *name)
{
    for (const struct prop *pr = c->props; pr->name; pr++) {
        if (strcmp(pr->name, name) == 0)
            return pr;
    }
    return NULL;
}

static int check_component(struct walk *w, struct json_path *p, const cJSON *node,
                           const char *parent_type, int depth)
{
    if (depth > WIDGET_CHECK_MAX_DEPTH)
        return json_path_errorf(p, w->err, w->errlen, ERR_DEPTH, "widgets nested deeper than %d",
                                WIDGET_CHECK_MAX_DEPTH);
    if (++w->nodes > WIDGET_CHECK_MAX_NODES)
        return json_path_errorf(p, w->err, w->errlen, ERR_TOO_BIG, "more than %d components",
                                WIDGET_CHECK_MAX_NODES);
    if (!cJSON_IsObject(node))
        return json_path_errorf(p, w->err, w->errlen, ERR_INVALID,
                                "a component must be an object, not %s", wf_value_type(node));
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(node, "type");
    if (!cJSON_IsString(type))
        return json_path_errorf(p, w->err, w->errlen, ERR_INVALID,
                                "a component needs a string 'type'");
    const struct component *c = find_component(type->valuestring);
    if (!c)
        return json_path_errorf(p, w->err, w->errlen, ERR_INVALID, "unknown component type '%s'",
                                type->valuestring);
    int rc = check_placement(w, p, c, parent_type);
    for (const char *const *r = c->required; rc == 0 && r && *r; r++) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(node, *r);
        if (!m || cJSON_IsNull(m))
            rc = json_path_errorf(p, w->err, w->errlen, ERR_INVALID, "%s needs '%s'", c->type, *r);
    }
    for (const cJSON *m = node->child; m && rc == 0; m = m->next) {
        if (strcmp(m->string, "type") == 0)
            continue;
        size_t mark = json_path_key(p, m->string);
        const struct prop *pr = find_prop(c, m->string);
        if (strcmp(m->string, "key") == 0 || strcmp(m->string, "id") == 0)
            rc = cJSON_IsString(m) || cJSON_IsNull(m)
                     ? 0
                     : json_path_errorf(p, w->err, w->errlen, ERR_INVALID, "must be a string");
        else if (!pr)
            rc = json_path_errorf(p, w->err, w->errlen, ERR_INVALID, "%s has no prop '%s'", c->type,
                                  m->string);
        else if (!cJSON_IsNull(m)) /* null props count as absent, as the reference drops them */
            rc = check_value(w, p, m, pr->kind, pr->values, c->type, depth);
        if (rc == 0)
            json_path_pop(p, mark);
    }
    return rc;
}

int widget_check(const cJSON *root, char *err, size_t errlen)
{
    if (errlen > 0)
        err[0] = '\0';
    struct walk w = {.err = err, .errlen = errlen};
    struct json_path p;
    json_path_init(&p);
    return check_component(&w, &p, root, NULL, 0);
}
