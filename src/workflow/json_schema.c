/* json_schema.c - the JSON Schema subset of json_schema.h.
 *
 * Checking walks schema and value together, carrying the JSON path of the value for messages.
 * Keywords apply independently, as in JSON Schema: a keyword about strings says nothing about a
 * number, so {"minLength": 3} accepts 42 unless "type" also says "string".
 */
#include "workflow/json_schema.h"

#include "core/err.h"
#include "core/json_path.h"
#include "workflow/filters.h"

#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ctx {
    const cJSON *root;
    int refs;
    char *err;
    size_t errlen;
};

/* Resolves a local reference ("#", "#/$defs/x", with ~0 ~1 escapes), or NULL. */
static const cJSON *resolve_ref(const cJSON *root, const char *ref)
{
    if (ref[0] != '#')
        return NULL;
    const cJSON *at = root;
    const char *s = ref + 1;
    while (at && *s == '/') {
        char part[128];
        size_t n = 0;
        for (s++; *s && *s != '/'; s++) {
            char ch = *s;
            if (ch == '~' && (s[1] == '0' || s[1] == '1'))
                ch = *++s == '0' ? '~' : '/';
            if (n + 1 >= sizeof part)
                return NULL;
            part[n++] = ch;
        }
        part[n] = '\0';
        if (cJSON_IsObject(at)) {
            at = cJSON_GetObjectItemCaseSensitive(at, part);
        } else if (cJSON_IsArray(at) && n > 0 && strspn(part, "0123456789") == n && n < 9) {
            at = cJSON_GetArrayItem(at, (int)strtol(part, NULL, 10));
        } else {
            return NULL;
        }
    }
    return *s == '\0' ? at : NULL;
}

static bool type_matches(const char *type, const cJSON *v)
{
    if (strcmp(type, "integer") == 0)
        return cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) &&
               isfinite(v->valuedouble);
    const char *actual = wf_value_type(v);
    if (strcmp(actual, "list") == 0)
        actual = "array";
    return strcmp(type, actual) == 0;
}

static const char *schema_type_name(const cJSON *v)
{
    const char *t = wf_value_type(v);
    return strcmp(t, "list") == 0 ? "array" : t;
}

static int check_type(struct ctx *c, const cJSON *type, const cJSON *v, const struct json_path *p)
{
    if (cJSON_IsString(type)) {
        if (type_matches(type->valuestring, v))
            return 0;
        return json_path_errorf(p, c->err, c->errlen, ERR_INVALID, "expected %s, got %s",
                                type->valuestring, schema_type_name(v));
    }
    char names[128] = "";
    size_t n = 0;
    for (const cJSON *t = type ? type->child : NULL; t; t = t->next) {
        if (cJSON_IsString(t) && type_matches(t->valuestring, v))
            return 0;
        if (cJSON_IsString(t) && n < sizeof names)
            n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", n ? ", " : "",
                                  t->valuestring);
    }
    return json_path_errorf(p, c->err, c->errlen, ERR_INVALID, "expected one of %s, got %s", names,
                            schema_type_name(v));
}

static int check_enum(struct ctx *c, const cJSON *list, const cJSON *v, const struct json_path *p)
{
    char names[256] = "";
    size_t n = 0;
    for (const cJSON *x = list->child; x; x = x->next) {
        if (wf_value_equal(x, v))
            return 0;
        char *s = cJSON_PrintUnformatted(x);
        if (s && n < sizeof names)
            n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", n ? ", " : "", s);
        free(s);
    }
    return json_path_errorf(p, c->err, c->errlen, ERR_INVALID, "must be one of %s", names);
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* The number of a keyword, when the schema has it as a number. */
static bool num_kw(const cJSON *schema, const char *kw, double *out)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(schema, kw);
    if (!cJSON_IsNumber(x))
        return false;
    *out = x->valuedouble;
    return true;
}

static bool bool_kw(const cJSON *schema, const char *kw)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(schema, kw));
}

static int check_number(struct ctx *c, const cJSON *s, double x, const struct json_path *p)
{
    double lim;
    /* exclusiveMinimum/Maximum: a number (2019+), or a boolean beside minimum (draft 4). */
    bool ex_min = bool_kw(s, "exclusiveMinimum"), ex_max = bool_kw(s, "exclusiveMaximum");
    if (num_kw(s, "minimum", &lim) && (ex_min ? x <= lim : x < lim))
        return json_path_errorf(p, c->err, c->errlen, ERR_INVALID, "must be %s %g",
                                ex_min ? "greater than" : "at least", lim);
    if (num_kw(s, "maximum", &lim) && (ex_max ? x >= lim : x > lim))
        return json_path_errorf(p, c->err, c->errlen, ERR_INVALID, "must be %s %g",
                                ex_max ? "less than" : "at most", lim);
    if (num_kw(s, "exclusiveMinimum", &lim) && x <= lim)
        return json_path_errorf(p, c->err, c->errlen, ERR_INVALID, "must be greater than %g", lim);
    if (num_kw(s, "exclusiveMaximum", &lim) && x >= lim)
        return json_path_errorf(p, c->err, c->errlen, ERR_INVALID, "must be less than %g", lim);
    if (num_kw(s, "multipleOf", &lim) && lim > 0) {
        double q = x / lim;
        if (fabs(q - round(q)) > 1e-9)
            return json_path_errorf(p, c->err, c->errlen, ERR_INVALID, "must be a multiple of %g",
                                    lim);
    }
    return 0;
}

static int check_string(struct ctx *c, const cJSON *s, const char *str, const struct json_path *p)
{
    double lim;
    size_t n = utf8_chars(str);
    if (num_kw(s, "minLength", &lim) && (double)n < lim)
        return json_path_errorf(p, c->err, c->errlen, ERR_INVALID,
                                "must be at least %g characters long", lim);
    if (num_kw(s, "maxLength", &lim) && (double)n > lim)
        return json_path_errorf(p, c->err, c->errlen, ERR_INVALID,
                                "must be at most %g characters long", lim);
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(s, "pattern");
    if (!cJSON_IsString(pat))
        return 0;
    regex_t re;
    if (regcomp(&re, pat->valuestring, REG_EXTENDED | REG_NOSUB) != 0)
        return json_path_errorf(p, c->err, c->errlen, ERR_INVALID,
                                "the schema's pattern is not a valid regular expression");
    int m = regexec(&re, str, 0, NULL, 0);
    regfree(&re);
    if (m != 0)
        return json_path_errorf(p, c->err, c->errlen, ERR_INVALID, "must match the pattern %s",
                                pat->valuestring);
    return 0;
}

static int check(struct ctx *c, const cJSON *schema, const cJSON *v, struct json_path *p,
                 int depth);

static int check_array(struct ctx *c, const cJSON *s, const cJSON *v, struct json_path *p,
                       int depth)
{
    double lim;
    int n = cJSON_GetArraySize(v);
    if (num_kw(s, "minItems", &lim) && n < lim)
        return json_path_errorf(p, c->err, c->errlen, ERR_INVALID,
                                "needs at least %g items, has %d", lim, n);
    if (num_kw(s, "maxItems", &lim) && n > lim)
        return json_path_errorf(p, c->err, c->errlen, ERR_INVALID,
                                "allows at most %g items, has %d", lim, n);
    if (bool_kw(s, "uniqueItems")) {
        int i = 0;
        for (const cJSON *x = v->child; x; x = x->next, i++) {
            for (const cJSON *y = x->next; y; y = y->next) {
                if (wf_value_equal(x, y))
                    return json_path_errorf(p, c->err, c->errlen, ERR_INVALID,
                                            "items must be unique; item %d repeats", i);
            }
        }
    }
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(s, "items");
    int i = 0, rc = 0;
    for (const cJSON *x = v->child; items && x && rc == 0; x = x->next, i++) {
        size_t old = json_path_index(p, i);
        rc = check(c, items, x, p, depth + 1);
        if (rc == 0)
            json_path_pop(p, old);
    }
    return rc;
}

static int check_object(struct ctx *c, const cJSON *s, const cJSON *v, struct json_path *p,
                        int depth)
{
    double lim;
    int n = cJSON_GetArraySize(v);
    if (num_kw(s, "minProperties", &lim) && n < lim)
        return json_path_errorf(p, c->err, c->errlen, ERR_INVALID, "needs at least %g properties",
                                lim);
    if (num_kw(s, "maxProperties", &lim) && n > lim)
        return json_path_errorf(p, c->err, c->errlen, ERR_INVALID, "allows at most %g properties",
                                lim);
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(s, "required");
    for (const cJSON *r = req ? req->child : NULL; r; r = r->next) {
        if (cJSON_IsString(r) && !cJSON_GetObjectItemCaseSensitive(v, r->valuestring))
            return json_path_errorf(p, c->err, c->errlen, ERR_INVALID,
                                    "missing required property '%s'", r->valuestring);
    }
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(s, "properties");
    const cJSON *extra = cJSON_GetObjectItemCaseSensitive(s, "additionalProperties");
    for (const cJSON *m = v->child; m; m = m->next) {
        const cJSON *sub = cJSON_GetObjectItemCaseSensitive(props, m->string);
        if (!sub && cJSON_IsFalse(extra))
            return json_path_errorf(p, c->err, c->errlen, ERR_INVALID, "unexpected property '%s'",
                                    m->string);
        if (!sub)
            sub = cJSON_IsObject(extra) ? extra : NULL;
        if (!sub)
            continue;
        size_t old = json_path_key(p, m->string);
        int rc = check(c, sub, m, p, depth + 1);
        if (rc != 0)
            return rc;
        json_path_pop(p, old);
    }
    return 0;
}

/* anyOf / oneOf / allOf / not: counts the alternatives v matches, keeping the first failure. */
static int count_matches(struct ctx *c, const cJSON *list, const cJSON *v, struct json_path *p,
                         int depth, int *matches, char *first_err, size_t first_len)
{
    *matches = 0;
    first_err[0] = '\0';
    for (const cJSON *alt = list->child; alt; alt = alt->next) {
        char sub[384];
        struct ctx sc = {.root = c->root, .refs = c->refs, .err = sub, .errlen = sizeof sub};
        struct json_path sp = *p;
        int rc = check(&sc, alt, v, &sp, depth + 1);
        c->refs = sc.refs;
        if (rc == ERR_DEPTH) {
            if (c->errlen > 0)
                snprintf(c->err, c->errlen, "%s", sub);
            return rc;
        }
        if (rc == 0)
            (*matches)++;
        else if (!first_err[0])
            snprintf(first_err, first_len, "%s", sub);
    }
    return 0;
}

static int check_combinators(struct ctx *c, const cJSON *s, const cJSON *v, struct json_path *p,
                             int depth)
{
    static const char *const kws[] = {"anyOf", "oneOf", "allOf"};
    char first[384];
    int matches, rc;
    for (int k = 0; k < 3; k++) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(s, kws[k]);
        if (!cJSON_IsArray(list))
            continue;
        rc = count_matches(c, list, v, p, depth, &matches, first, sizeof first);
        if (rc != 0)
            return rc;
        int total = cJSON_GetArraySize(list);
        if (k == 0 && matches == 0)
            return json_path_errorf(p, c->err, c->errlen, ERR_INVALID,
                                    "matches none of the %d alternatives (the first: %s)", total,
                                    first);
        if (k == 1 && matches != 1)
            return json_path_errorf(p, c->err, c->errlen, ERR_INVALID,
                                    "must match exactly one of %d alternatives, matches %d%s%s",
                                    total, matches,
                                    matches ? "" : " (the first: ", matches ? "" : first);
        if (k == 2 && matches != total) {
            if (c->errlen > 0)
                snprintf(c->err, c->errlen, "%s", first);
            return ERR_INVALID;
        }
    }
    const cJSON *not = cJSON_GetObjectItemCaseSensitive(s, "not");
    if (!not )
        return 0;
    cJSON *wrap = cJSON_CreateArrayReference(not );
    rc = count_matches(c, wrap, v, p, depth, &matches, first, sizeof first);
    cJSON_Delete(wrap);
    if (rc == 0 && matches > 0)
        rc = json_path_errorf(p, c->err, c->errlen, ERR_INVALID,
                              "must not match the schema under 'not'");
    return rc;
}

static int check(struct ctx *c, const cJSON *s, const cJSON *v, struct json_path *p, int depth)
{
    if (depth > JSON_SCHEMA_MAX_DEPTH)
        return json_path_errorf(p, c->err, c->errlen, ERR_DEPTH, "nested deeper than %d levels",
                                JSON_SCHEMA_MAX_DEPTH);
    if (cJSON_IsBool(s))
        return cJSON_IsTrue(s) ? 0
                               : json_path_errorf(p, c->err, c->errlen, ERR_INVALID,
                                                  "no value is allowed here");
    if (!cJSON_IsObject(s))
        return json_path_errorf(p, c->err, c->errlen, ERR_INVALID,
                                "the schema here is not an object");
    const cJSON *ref = cJSON_GetObjectItemCaseSensitive(s, "$ref");
    if (cJSON_IsString(ref)) {
        const cJSON *target = resolve_ref(c->root, ref->valuestring);
        if (!target)
            return json_path_errorf(p, c->err, c->errlen, ERR_INVALID,
                                    "the schema's $ref '%s' does not resolve", ref->valuestring);
        if (++c->refs > JSON_SCHEMA_MAX_REFS)
            return json_path_errorf(p, c->err, c->errlen, ERR_DEPTH, "more than %d $ref steps",
                                    JSON_SCHEMA_MAX_REFS);
        int rc = check(c, target, v, p, depth + 1);
        if (rc != 0)
            return rc;
    }
    if (bool_kw(s, "nullable") && cJSON_IsNull(v))
        return 0;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(s, "type");
    int rc = type ? check_type(c, type, v, p) : 0;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(s, "enum");
    if (rc == 0 && cJSON_IsArray(list))
        rc = check_enum(c, list, v, p);
    const cJSON *konst = cJSON_GetObjectItemCaseSensitive(s, "const");
    if (rc == 0 && konst && !wf_value_equal(konst, v)) {
        char *want = cJSON_PrintUnformatted(konst);
        rc = json_path_errorf(p, c->err, c->errlen, ERR_INVALID, "must be %s",
                              want ? want : "the constant");
        free(want);
    }
    if (rc == 0 && cJSON_IsNumber(v))
        rc = check_number(c, s, v->valuedouble, p);
    if (rc == 0 && cJSON_IsString(v))
        rc = check_string(c, s, v->valuestring, p);
    if (rc == 0 && cJSON_IsArray(v))
        rc = check_array(c, s, v, p, depth);
    if (rc == 0 && cJSON_IsObject(v))
        rc = check_object(c, s, v, p, depth);
    if (rc == 0)
        rc = check_combinators(c, s, v, p, depth);
    return rc;
}

int json_schema_check(const cJSON *schema, const cJSON *value, char *err, size_t errlen)
{
    if (errlen > 0)
        err[0] = '\0';
    struct ctx c = {.root = schema, .err = err, .errlen = errlen};
    struct json_path p;
    json_path_init(&p);
    return check(&c, schema, value, &p, 0);
}

/* ---- schema validation ------------------------------------------------------------------ */

static const char *const annotations[] = {
    "$schema",         "$id",     "$comment",   "title",    "description", "default",
    "examples",        "format",  "deprecated", "readOnly", "writeOnly",   "contentMediaType",
    "contentEncoding", "$anchor", NULL};

static bool in_words(const char *s, const char *const *words)
{
    for (; *words; words++) {
        if (strcmp(s, *words) == 0)
            return true;
    }
    return false;
}

static int validate(struct ctx *c, const cJSON *s, struct json_path *p, int depth);

static int validate_sub(struct ctx *c, const cJSON *s, struct json_path *p, const char *key,
                        int index, int depth)
{
    size_t old = key ? json_path_key(p, key) : json_path_index(p, index);
    int rc = validate(c, s, p, depth + 1);
    if (rc == 0)
        json_path_pop(p, old);
    return rc;
}

/* A keyword whose value is a map of name -> schema (properties, $defs, definitions). */
static int validate_schema_map(struct ctx *c, const cJSON *m, struct json_path *p, int depth)
{
    if (!cJSON_IsObject(m))
        return json_path_errorf(p, c->err, c->errlen, ERR_INVALID, "must be an object of schemas");
    for (const cJSON *x = m->child; x; x = x->next) {
        int rc = validate_sub(c, x, p, x->string, 0, depth);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int validate_type(struct ctx *c, const cJSON *t, struct json_path *p)
{
    static const char *const types[] = {"object",  "array",   "string", "number",
                                        "integer", "boolean", "null",   NULL};
    if (cJSON_IsString(t))
        return in_words(t->valuestring, types)
                   ? 0
                   : json_path_errorf(p, c->err, c->errlen, ERR_INVALID, "unknown type '%s'",
                                      t->valuestring);
    if (!cJSON_IsArray(t) || !t->child)
        return json_path_errorf(p, c->err, c->errlen, ERR_INVALID,
                                "must be a type name or a non-empty list of them");
    for (const cJSON *x = t->child; x; x = x->next) {
        if (!cJSON_IsString(x) || !in_words(x->valuestring, types))
            return json_path_errorf(p, c->err, c->errlen, ERR_INVALID, "unknown type %s",
                                    cJSON_IsString(x) ? x->valuestring : "(not a string)");
    }
    return 0;
}

static bool is_count(const cJSON *v)
{
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble == floor(v->valuedouble);
}

/* Checks one keyword's value; *known false when the keyword is not in the subset. */
static int validate_keyword(struct ctx *c, const cJSON *kw, struct json_path *p, int depth,
                            bool *known)
{
    static const char *const counts[] = {"minLength",     "maxLength",     "minItems", "maxItems",
                                         "minProperties", "maxProperties", NULL};
    static const char *const numbers[] = {"minimum", "maximum", NULL};
    static const char *const lists[] = {"anyOf", "oneOf", "allOf", NULL};
    static const char *const flags[] = {"uniqueItems", "nullable", NULL};
    const char *k = kw->string;
    *known = true;
    if (in_words(k, annotations) || strcmp(k, "const") == 0)
        return 0;
    if (strcmp(k, "type") == 0)
        return validate_type(c, kw, p);
    if (strcmp(k, "properties") == 0 || strcmp(k, "$defs") == 0 || strcmp(k, "definitions") == 0)
        return validate_schema_map(c, kw, p, depth);
    if (strcmp(k, "items") == 0 || strcmp(k, "not") == 0 || strcmp(k, "additionalProperties") == 0)
        return cJSON_IsObject(kw) || cJSON_IsBool(kw)
                   ? validate(c, kw, p, depth + 1)
                   : json_path_errorf(p, c->err, c->errlen, ERR_INVALID,
                                      "must be a schema (an object or a boolean)");
    if (in_words(k, counts))
        return is_count(kw) ? 0
                            : json_path_errorf(p, c->err, c->errlen, ERR_INVALID,
                                               "must be a whole number >= 0");
    if (in_words(k, numbers))
        return cJSON_IsNumber(kw)
                   ? 0
                   : json_path_errorf(p, c->err, c->errlen, ERR_INVALID, "must be a number");
    if (strcmp(k, "exclusiveMinimum") == 0 || strcmp(k, "exclusiveMaximum") == 0)
        return cJSON_IsNumber(kw) || cJSON_IsBool(kw)
                   ? 0
                   : json_path_errorf(p, c->err, c->errlen, ERR_INVALID, "must be a number");
    if (strcmp(k, "multipleOf") == 0)
        return cJSON_IsNumber(kw) && kw->valuedouble > 0
                   ? 0
                   : json_path_errorf(p, c->err, c->errlen, ERR_INVALID,
                                      "must be a number greater than 0");
    if (in_words(k, flags))
        return cJSON_IsBool(kw)
                   ? 0
                   : json_path_errorf(p, c->err, c->errlen, ERR_INVALID, "must be true or false");
    if (strcmp(k, "enum") == 0)
        return cJSON_IsArray(kw) && kw->child ? 0
                                              : json_path_errorf(p, c->err, c->errlen, ERR_INVALID,
                                                                 "must be a non-empty list");
    if (strcmp(k, "required") == 0) {
        for (const cJSON *x = cJSON_IsArray(kw) ? kw->child : NULL; x; x = x->next) {
            if (!cJSON_IsString(x))
                return json_path_errorf(p, c->err, c->errlen, ERR_INVALID,
                                        "must list property names (strings)");
        }
        return cJSON_IsArray(kw)
                   ? 0
                   : json_path_errorf(p, c->err, c->errlen, ERR_INVALID, "must be a list of names");
    }
    if (strcmp(k, "pattern") == 0) {
        regex_t re;
        if (!cJSON_IsString(kw) || regcomp(&re, kw->valuestring, REG_EXTENDED | REG_NOSUB) != 0)
            return json_path_errorf(p, c->err, c->errlen, ERR_INVALID,
                                    "must be a valid (POSIX extended) regular expression");
        regfree(&re);
        return 0;
    }
    if (strcmp(k, "$ref") == 0)
        return cJSON_IsString(kw) && resolve_ref(c->root, kw->valuestring)
                   ? 0
                   : json_path_errorf(p, c->err, c->errlen, ERR_INVALID,
                                      "must be a local reference that resolves "
                                      "(\"#/$defs/Name\")");
    if (in_words(k, lists)) {
        if (!cJSON_IsArray(kw) || !kw->child)
            return json_path_errorf(p, c->err, c->errlen, ERR_INVALID,
                                    "must be a non-empty list of schemas");
        int i = 0;
        for (const cJSON *x = kw->child; x; x = x->next, i++) {
            int rc = validate_sub(c, x, p, NULL, i, depth);
            if (rc != 0)
                return rc;
        }
        return 0;
    }
    *known = false;
    return 0;
}

static int validate(struct ctx *c, const cJSON *s, struct json_path *p, int depth)
{
    if (depth > JSON_SCHEMA_MAX_DEPTH)
        return json_path_errorf(p, c->err, c->errlen, ERR_DEPTH, "nested deeper than %d levels",
                                JSON_SCHEMA_MAX_DEPTH);
    if (cJSON_IsBool(s))
        return 0;
    if (!cJSON_IsObject(s))
        return json_path_errorf(p, c->err, c->errlen, ERR_INVALID,
                                "a schema must be an object or a boolean");
    for (const cJSON *kw = s->child; kw; kw = kw->next) {
        bool known;
        size_t old = json_path_key(p, kw->string);
        int rc = validate_keyword(c, kw, p, depth, &known);
        if (rc != 0)
            return rc;
        json_path_pop(p, old);
        if (!known)
            return json_path_errorf(p, c->err, c->errlen, ERR_INVALID, "unsupported keyword '%s'",
                                    kw->string);
    }
    return 0;
}

int json_schema_validate_schema(const cJSON *schema, char *err, size_t errlen)
{
    if (errlen > 0)
        err[0] = '\0';
    struct ctx c = {.root = schema, .err = err, .errlen = errlen};
    struct json_path p;
    json_path_init(&p);
    return validate(&c, schema, &p, 0);
}
