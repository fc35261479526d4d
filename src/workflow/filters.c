/* filters.c - filters and tests of the expression language (filters.h, docs/templates.md).
 *
 * Every filter takes its input and arguments as borrowed JSON (NULL = null) and returns a new
 * value. Strings are treated as UTF-8 where length matters (length, truncate, first, last,
 * reverse); case mapping is ASCII-only, which is what widget labels need and keeps the code free
 * of locale state.
 */
#include "workflow/filters.h"

#include "core/buf.h"
#include "core/err.h"
#include "workflow/expr.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cx_fail(struct wf_filter_ctx *cx, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int cx_fail(struct wf_filter_ctx *cx, int code, const char *fmt, ...)
{
    if (cx->errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(cx->err, cx->errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Spends n steps of the evaluation budget. */
static int cx_spend(struct wf_filter_ctx *cx, long n)
{
    *cx->steps_left -= n;
    if (*cx->steps_left < 0)
        return cx_fail(cx, ERR_TOO_BIG, "%s", WF_EXPR_BUDGET_SPENT);
    return 0;
}

const char *wf_value_type(const cJSON *v)
{
    if (!v || cJSON_IsNull(v))
        return "null";
    if (cJSON_IsBool(v))
        return "boolean";
    if (cJSON_IsNumber(v))
        return "number";
    if (cJSON_IsString(v))
        return "string";
    if (cJSON_IsArray(v))
        return "list";
    return "object";
}

static bool is_null(const cJSON *v)
{
    return !v || cJSON_IsNull(v);
}

bool wf_value_equal(const cJSON *a, const cJSON *b)
{
    if (is_null(a) || is_null(b))
        return is_null(a) && is_null(b);
    if (cJSON_IsBool(a) || cJSON_IsBool(b))
        return cJSON_IsBool(a) && cJSON_IsBool(b) && cJSON_IsTrue(a) == cJSON_IsTrue(b);
    if (cJSON_IsNumber(a) || cJSON_IsNumber(b))
        return cJSON_IsNumber(a) && cJSON_IsNumber(b) && a->valuedouble == b->valuedouble;
    if (cJSON_IsString(a) || cJSON_IsString(b))
        return cJSON_IsString(a) && cJSON_IsString(b) &&
               strcmp(a->valuestring, b->valuestring) == 0;
    if (cJSON_IsArray(a) != cJSON_IsArray(b) || cJSON_IsObject(a) != cJSON_IsObject(b))
        return false;
    if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
        return false;
    if (cJSON_IsArray(a)) {
        for (const cJSON *x = a->child, *y = b->child; x && y; x = x->next, y = y->next) {
            if (!wf_value_equal(x, y))
                return false;
        }
        return true;
    }
    for (const cJSON *x = a->child; x; x = x->next) {
        const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
        if (!y || !wf_value_equal(x, y))
            return false;
    }
    return true;
}

long wf_value_weight(const cJSON *v, long limit)
{
    if (!v)
        return 0;
    long n = 1;
    for (const cJSON *c = v->child; c && n <= limit; c = c->next)
        n += wf_value_weight(c, limit - n);
    return n;
}

const cJSON *wf_value_path(const cJSON *v, const char *path)
{
    const char *p = path;
    while (v && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        char part[128];
        if (n >= sizeof part)
            return NULL;
        memcpy(part, p, n);
        part[n] = '\0';
        if (cJSON_IsObject(v)) {
            v = cJSON_GetObjectItemCaseSensitive(v, part);
        } else if (cJSON_IsArray(v) && n > 0 && strspn(part, "0123456789") == n) {
            v = n < 10 ? cJSON_GetArrayItem(v, (int)strtol(part, NULL, 10)) : NULL;
        } else {
            return NULL;
        }
        p += n + (dot ? 1 : 0);
    }
    return v;
}

/* ---- small helpers ---------------------------------------------------------------------- */

static cJSON *dup_or_null(const cJSON *v)
{
    return v ? cJSON_Duplicate(v, true) : cJSON_CreateNull();
}

/* Prints v as template text into a new buffer capped at WF_EXPR_MAX_STRING. */
static int to_text(struct wf_filter_ctx *cx, const cJSON *v, struct buf *b)
{
    buf_init(b, WF_EXPR_MAX_STRING);
    if (wf_expr_print(b, v) != 0) {
        buf_free(b);
        return cx_fail(cx, ERR_TOO_BIG, "text longer than %d bytes", WF_EXPR_MAX_STRING);
    }
    return 0;
}

static int new_string(struct wf_filter_ctx *cx, const char *s, size_t n, cJSON **out)
{
    if (n > WF_EXPR_MAX_STRING)
        return cx_fail(cx, ERR_TOO_BIG, "text longer than %d bytes", WF_EXPR_MAX_STRING);
    *out = cJSON_CreateString(s ? s : "");
    return 0;
}

/* Returns the text in b as a new string value and frees b. */
static int string_from_buf(struct wf_filter_ctx *cx, struct buf *b, cJSON **out)
{
    int rc = new_string(cx, b->data, b->len, out);
    buf_free(b);
    return rc;
}

/* Bytes of the UTF-8 sequence starting with byte c (1 for stray continuation bytes). */
static size_t utf8_seq_len(unsigned char c)
{
    if (c >= 0xF0)
        return 4;
    if (c >= 0xE0)
        return 3;
    if (c >= 0xC0)
        return 2;
    return 1;
}

static size_t utf8_count(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i += utf8_seq_len((unsigned char)s[i]))
        count++;
    return count;
}

/* Byte offset of code point number cp in s (n when s is shorter). */
static size_t utf8_offset(const char *s, size_t n, size_t cp)
{
    size_t i = 0;
    while (i < n && cp-- > 0)
        i += utf8_seq_len((unsigned char)s[i]);
    return i < n ? i : n;
}

static int need_number(struct wf_filter_ctx *cx, const char *filter, const char *what,
                       const cJSON *v, double *out)
{
    if (!cJSON_IsNumber(v))
        return cx_fail(cx, ERR_INVALID, "%s: %s must be a number, got %s", filter, what,
                       wf_value_type(v));
    *out = v->valuedouble;
    return 0;
}

static int need_string(struct wf_filter_ctx *cx, const char *filter, const char *what,
                       const cJSON *v, const char **out)
{
    if (!cJSON_IsString(v))
        return cx_fail(cx, ERR_INVALID, "%s: %s must be a string, got %s", filter, what,
                       wf_value_type(v));
    *out = v->valuestring;
    return 0;
}

/* An optional number argument (def when not given); a whole number when want_int. */
static int opt_number(struct wf_filter_ctx *cx, const char *filter, const char *what,
                      const struct wf_filter_arg *a, double def, double *out)
{
    *out = def;
    if (!a->set || is_null(a->value))
        return 0;
    return need_number(cx, filter, what, a->value, out);
}

static bool opt_bool(const struct wf_filter_arg *a, bool def)
{
    return a->set ? wf_expr_truthy(a->value) : def;
}

static int need_list(struct wf_filter_ctx *cx, const char *filter, const cJSON *in)
{
    if (!cJSON_IsArray(in))
        return cx_fail(cx, ERR_INVALID, "%s needs a list, got %s", filter, wf_value_type(in));
    return cx_spend(cx, cJSON_GetArraySize(in));
}

/* ---- filters ---------------------------------------------------------------------------- */

static int f_tojson(struct wf_filter_ctx *cx, const cJSON *in, const struct wf_filter_arg *args,
                    cJSON **out)
{
    (void)args;
    if (is_null(in))
        return new_string(cx, "null", 4, out);
    char *s = cJSON_PrintUnformatted(in);
    if (!s)
        return cx_fail(cx, ERR_INVALID, "tojson: the value cannot be printed");
    int rc = new_string(cx, s, strlen(s), out);
    free(s);
    return rc;
}

static int f_default(struct wf_filter_ctx *cx, const cJSON *in, const struct wf_filter_arg *args,
                     cJSON **out)
{
    (void)cx;
    bool use_default = is_null(in) || (opt_bool(&args[1], false) && !wf_expr_truthy(in));
    if (!use_default)
        *out = cJSON_Duplicate(in, true);
    else if (args[0].set)
        *out = dup_or_null(args[0].value);
    else
        *out = cJSON_CreateString("");
    return 0;
}

static int f_length(struct wf_filter_ctx *cx, const cJSON *in, const struct wf_filter_arg *args,
                    cJSON **out)
{
    (void)args;
    double n;
    if (is_null(in))
        n = 0;
    else if (cJSON_IsString(in))
        n = (double)utf8_count(in->valuestring, strlen(in->valuestring));
    else if (cJSON_IsArray(in) || cJSON_IsObject(in))
        n = cJSON_GetArraySize(in);
    else
        return cx_fail(cx, ERR_INVALID, "length needs a string, list or object, got %s",
                       wf_value_type(in));
    *out = cJSON_CreateNumber(n);
    return 0;
}

enum case_map { CASE_UPPER, CASE_LOWER, CASE_TITLE, CASE_CAPITALIZE };

static void map_case(char *s, size_t n, enum case_map how)
{
    bool prev_alpha = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool up = how == CASE_UPPER || (how == CASE_TITLE && !prev_alpha) ||
                  (how == CASE_CAPITALIZE && i == 0);
        if (c < 0x80)
            s[i] = (char)(up ? toupper(c) : tolower(c));
        prev_alpha = isalnum(c) || c == '\'' || c >= 0x80;
    }
}

static int apply_case(struct wf_filter_ctx *cx, const cJSON *in, enum case_map how, cJSON **out)
{
    struct buf b;
    int rc = to_text(cx, in, &b);
    if (rc != 0)
        return rc;
    map_case(b.data, b.len, how);
    return string_from_buf(cx, &b, out);
}

static int f_upper(struct wf_filter_ctx *cx, const cJSON *in, const struct wf_filter_arg *args,
                   cJSON **out)
{
    (void)args;
    return apply_case(cx, in, CASE_UPPER, out);
}

static int f_lower(struct wf_filter_ctx *cx, const cJSON *in, const struct wf_filter_arg *args,
                   cJSON **out)
{
    (void)args;
    return apply_case(cx, in, CASE_LOWER, out);
}

static int f_title(struct wf_filter_ctx *cx, const cJSON *in, const struct wf_filter_arg *args,
                   cJSON **out)
{
    (void)args;
    return apply_case(cx, in, CASE_TITLE, out);
}

static int f_capitalize(struct wf_filter_ctx *cx, const cJSON *in, const struct wf_filter_arg *args,
                        cJSON **out)
{
    (void)args;
    return apply_case(cx, in, CASE_CAPITALIZE, out);
}

static int f_trim(struct wf_filter_ctx *cx, const cJSON *in, const struct wf_filter_arg *args,
                  cJSON **out)
{
    const char *chars = " \t\n\r\f\v";
    if (args[0].set && !is_null(args[0].value)) {
        int rc = need_string(cx, "trim", "chars", args[0].value, &chars);
        if (rc != 0)
            return rc;
    }
    struct buf b;
    int rc = to_text(cx, in, &b);
    if (rc != 0)
        return rc;
    size_t start = 0, end = b.len;
    while (start < end && strchr(chars, b.data[start]))
        start++;
    while (end > start && strchr(chars, b.data[end - 1]))
        end--;
    if (!b.data) /* empty text: the buffer never allocated */
        return new_string(cx, "", 0, out);
    b.data[end] = '\0';
    rc = new_string(cx, b.data + start, end - start, out);
    buf_free(&b);
    return rc;
}

static int f_join(struct wf_filter_ctx *cx, const cJSON *in, const struct wf_filter_arg *args,
                  cJSON **out)
{
    const char *sep = "", *attr = NULL;
    int rc = 0;
    if (args[0].set && !is_null(args[0].value))
        rc = need_string(cx, "join", "the separator", args[0].value, &sep);
    if (rc == 0 && args[1].set && !is_null(args[1].value))
        rc = need_string(cx, "join", "attribute", args[1].value, &attr);
    if (rc == 0 && is_null(in))
        return new_string(cx, "", 0, out);
    if (rc == 0)
        rc = need_list(cx, "join", in);
    if (rc != 0)
        return rc;
    struct buf b;
    buf_init(&b, WF_EXPR_MAX_STRING);
    for (const cJSON *x = in->child; x && rc == 0; x = x->next) {
        if (x != in->child)
            rc = buf_append_str(&b, sep);
        if (rc == 0)
            rc = wf_expr_print(&b, attr ? wf_value_path(x, attr) : x);
    }
    if (rc != 0) {
        buf_free(&b);
        return cx_fail(cx, ERR_TOO_BIG, "join: text longer than %d bytes", WF_EXPR_MAX_STRING);
    }
    return string_from_buf(cx, &b, out);
}

static int f_round(struct wf_filter_ctx *cx, const cJSON *in, const struct wf_filter_arg *args,
                   cJSON **out)
{
    double x = 0, precision = 0;
    const char *method = "common";
    int rc = need_number(cx, "round", "the input", in, &x);
    if (rc == 0)
        rc = opt_number(cx, "round", "precision", &args[0], 0, &precision);
    if (rc == 0 && args[1].set)
        rc = need_string(cx, "round", "method", args[1].value, &method);
    if (rc != 0)
        return rc;
    if (precision < 0 || precision > 15 || precision != floor(precision))
        return cx_fail(cx, ERR_INVALID, "round: precision must be a whole number from 0 to 15");
    double scale = pow(10, precision), r;
    if (strcmp(method, "common") == 0)
        r = round(x * scale) / scale;
    else if (strcmp(method, "ceil") == 0)
        r = ceil(x * scale) / scale;
    else if (strcmp(method, "floor") == 0)
        r = floor(x * scale) / scale;
    else
        return cx_fail(cx, ERR_INVALID, "round: method must be common, ceil or floor");
    *out = cJSON_CreateNumber(isfinite(r) ? r : x);
    return 0;
}

/* Parses all of s as a number (surrounding spaces allowed); false when it is not one. */
static bool parse_number_text(const char *s, bool whole, int base, double *out)
{
    char *end;
    errno = 0;
    if (whole) {
        long long v = strtoll(s, &end, base);
        if (end != s && errno == 0) {
            while (isspace((unsigned char)*end))
                end++;
            if (*end == '\0') {
                *out = (double)v;
                return true;
            }
        }
        if (base != 10)
            return false;
    }
    double d = strtod(s, &end);
    if (end == s || errno != 0 || !isfinite(d))
        return false;
    while (isspace((unsigned char)*end))
        end++;
    if (*end != '\0')
        return false;
    *out = whole ? trunc(d) : d;
    return true;
}

static int to_number(struct wf_filter_ctx *cx, const char *name, const cJSON *in,
                     const struct wf_filter_arg *def, bool whole, int base, cJSON **out)
{
    double v, d;
    int rc = opt_number(cx, name, "default", def, 0, &d);
    if (rc != 0)
        return rc;
    if (cJSON_IsNumber(in))
        v = whole ? trunc(in->valuedouble) : in->valuedouble;
    else if (cJSON_IsBool(in))
        v = cJSON_IsTrue(in) ? 1 : 0;
    else if (!cJSON_IsString(in) || !parse_number_text(in->valuestring, whole, base, &v))
        v = d;
    *out = cJSON_CreateNumber(v);
    return 0;
}

static int f_int(struct wf_filter_ctx *cx, const cJSON *in, const struct wf_filter_arg *args,
                 cJSON **out)
{
    double base;
    int rc = opt_number(cx, "int", "base", &args[1], 10, &base);
    if (rc != 0)
        return rc;
    if (base != 2 && base != 8 && base != 10 && base != 16)
        return cx_fail(cx, ERR_INVALID, "int: base must be 2, 8, 10 or 16");
    return to_number(cx, "int", in, &args[0], true, (int)base, out);
}

static int f_float(struct wf_filter_ctx *cx, const cJSON *in, const struct wf_filter_arg *args,
                   cJSON **out)
{
    return to_number(cx, "float", in, &args[0], false, 10, out);
}

static int f_string(struct wf_filter_ctx *cx, const cJSON *in, const struct wf_filter_arg *args,
                    cJSON **out)
{
    (void)args;
    struct buf b;
    int rc = to_text(cx, in, &b);
    return rc != 0 ? rc : string_from_buf(cx, &b, out);
}

static int first_or_last(struct wf_filter_ctx *cx, const cJSON *in, bool last, cJSON **out)
{
    if (is_null(in)) {
        *out = cJSON_CreateNull();
    } else if (cJSON_IsArray(in)) {
        int n = cJSON_GetArraySize(in);
        *out = n ? cJSON_Duplicate(cJSON_GetArrayItem(in, last ? n - 1 : 0), true)
                 : cJSON_CreateNull();
    } else if (cJSON_IsString(in)) {
        const char *s = in->valuestring;
        size_t n = strlen(s), at = 0;
        if (last && n > 0)
            at = utf8_offset(s, n, utf8_count(s, n) - 1);
        size_t k = n ? utf8_seq_len((unsigned char)s[at]) : 0;
        char ch[5] = {0};
        memcpy(ch, s + at, k <= n - at ? k : n - at);
        *out = cJSON_CreateString(ch);
    } else {
        return cx_fail(cx, ERR_INVALID, "%s needs a list or a string, got %s",
                       last ? "last" : "first", wf_value_type(in));
    }
    return 0;
}

static int f_first(struct wf_filter_ctx *cx, const cJSON *in, const struct wf_filter_arg *args,
                   cJSON **out)
{
    (void)args;
    return first_or_last(cx, in, false, out);
}

static int f_last(struct wf_filter_ctx *cx, const cJSON *in, const struct wf_filter_arg *args,
                  cJSON **out)
{
    (void)args;
    return first_or_last(cx, in, true, out);
}

static int f_replace(struct wf_filter_ctx *cx, const cJSON *in, const struct wf_filter_arg *args,
                     cJSON **out)
{
    const char *old = NULL, *rep = NULL;
    double count;
    int rc = need_string(cx, "replace", "the text to replace", args[0].value, &old);
    if (rc == 0)
        rc = need_string(cx, "replace", "the replacement", args[1].value, &rep);
    if (rc == 0)
        rc = opt_number(cx, "replace", "count", &args[2], -1, &count);
    struct buf src;
    if (rc == 0)
        rc = to_text(cx, in, &src);
    if (rc != 0)
        return rc;
    struct buf b;
    buf_init(&b, WF_EXPR_MAX_STRING);
    size_t oldn = strlen(old), i = 0;
    while (rc == 0 && i < src.len) {
        const char *hit = oldn ? strstr(src.data + i, old) : NULL;
        if (!hit || count == 0) {
            rc = buf_append(&b, src.data + i, src.len - i);
            break;
        }
        rc = buf_append(&b, src.data + i, (size_t)(hit - (src.data + i)));
        if (rc == 0)
            rc = buf_append_str(&b, rep);
        i = (size_t)(hit - src.data) + oldn;
        count--;
    }
    buf_free(&src);
    if (rc != 0) {
        buf_free(&b);
        return cx_fail(cx, ERR_TOO_BIG, "replace: text longer than %d bytes", WF_EXPR_MAX_STRING);
    }
    return string_from_buf(cx, &b, out);
}

/* Jinja's truncate: text within length + leeway code points stays; otherwise it is cut to
 * length - len(end) (at the last space unless killwords) and end is appended. */
static int f_truncate(struct wf_filter_ctx *cx, const cJSON *in, const struct wf_filter_arg *args,
                      cJSON **out)
{
    double length, leeway;
    const char *end = "...";
    int rc = opt_number(cx, "truncate", "length", &args[0], 255, &length);
    if (rc == 0 && args[2].set)
        rc = need_string(cx, "truncate", "end", args[2].value, &end);
    if (rc == 0)
        rc = opt_number(cx, "truncate", "leeway", &args[3], 5, &leeway);
    struct buf b;
    if (rc == 0)
        rc = to_text(cx, in, &b);
    if (rc != 0)
        return rc;
    size_t endn = utf8_count(end, strlen(end)), chars = utf8_count(b.data, b.len);
    if (length < (double)endn || leeway < 0)
        rc = cx_fail(cx, ERR_INVALID, "truncate: length must be at least the length of end");
    if (rc != 0 || (double)chars <= length + leeway) {
        if (rc == 0)
            return string_from_buf(cx, &b, out);
        buf_free(&b);
        return rc;
    }
    size_t cut = utf8_offset(b.data, b.len, (size_t)length - endn);
    if (!opt_bool(&args[1], false)) {
        size_t sp = cut;
        while (sp > 0 && b.data[sp - 1] != ' ')
            sp--;
        if (sp > 0)
            cut = sp - 1;
    }
    b.len = cut;
    b.data[cut] = '\0';
    if (buf_append_str(&b, end) != 0) {
        buf_free(&b);
        return cx_fail(cx, ERR_TOO_BIG, "truncate: text longer than %d bytes", WF_EXPR_MAX_STRING);
    }
    return string_from_buf(cx, &b, out);
}

static int f_escape(struct wf_filter_ctx *cx, const cJSON *in, const struct wf_filter_arg *args,
                    cJSON **out)
{
    (void)args;
    struct buf src, b;
    int rc = to_text(cx, in, &src);
    if (rc != 0)
        return rc;
    buf_init(&b, WF_EXPR_MAX_STRING);
    for (size_t i = 0; i < src.len && rc == 0; i++) {
        switch (src.data[i]) {
        case '&':
            rc = buf_append_str(&b, "&amp;");
            break;
        case '<':
            rc = buf_append_str(&b, "&lt;");
            break;
        case '>':
            rc = buf_append_str(&b, "&gt;");
            break;
        case '"':
            rc = buf_append_str(&b, "&#34;");
            break;
        case '\'':
            rc = buf_append_str(&b, "&#39;");
            break;
        default:
            rc = buf_append_char(&b, src.data[i]);
            break;
        }
    }
    buf_free(&src);
    if (rc != 0) {
        buf_free(&b);
        return cx_fail(cx, ERR_TOO_BIG, "escape: text longer than %d bytes", WF_EXPR_MAX_STRING);
    }
    return string_from_buf(cx, &b, out);
}

/* Runs the test named by name_arg (default: truthiness) on v. */
static int run_named_test(struct wf_filter_ctx *cx, const char *filter, const cJSON *v,
                          const struct wf_filter_arg *name_arg, const struct wf_filter_arg *arg,
                          bool *result)
{
    if (!name_arg->set) {
        *result = wf_expr_truthy(v);
        return 0;
    }
    const char *name = NULL;
    int rc = need_string(cx, filter, "the test name", name_arg->value, &name);
    if (rc != 0)
        return rc;
    const struct wf_test *t = wf_test_find(name, strlen(name));
    if (!t)
        return cx_fail(cx, ERR_INVALID, "%s: unknown test '%s'", filter, name);
    if (t->takes_arg && !arg->set)
        return cx_fail(cx, ERR_INVALID, "%s: test '%s' needs a value", filter, name);
    return t->fn(cx, v, t->takes_arg ? arg->value : NULL, result);
}

/* select/reject/selectattr/rejectattr: keeps the elements whose test result equals keep. */
static int filter_list(struct wf_filter_ctx *cx, const char *filter, const cJSON *in,
                       const char *attr, const struct wf_filter_arg *test,
                       const struct wf_filter_arg *arg, bool keep, cJSON **out)
{
    int rc = is_null(in) ? 0 : need_list(cx, filter, in);
    if (rc != 0)
        return rc;
    cJSON *res = cJSON_CreateArray();
    for (const cJSON *x = in ? in->child : NULL; x && rc == 0; x = x->next) {
        bool r;
        rc = run_named_test(cx, filter, attr ? wf_value_path(x, attr) : x, test, arg, &r);
        if (rc == 0 && r == keep)
            cJSON_AddItemToArray(res, cJSON_Duplicate(x, true));
    }
    if (rc != 0) {
        cJSON_Delete(res);
        return rc;
    }
    *out = res;
    return 0;
}

static int attr_filter(struct wf_filter_ctx *cx, const char *name, const cJSON *in,
                       const struct wf_filter_arg *args, bool keep, cJSON **out)
{
    const char *attr = NULL;
    int rc = need_string(cx, name, "the attribute", args[0].value, &attr);
    return rc != 0 ? rc : filter_list(cx, name, in, attr, &args[1], &args[2], keep, out);
}

static int f_selectattr(struct wf_filter_ctx *cx, const cJSON *in, const struct wf_filter_arg *args,
                        cJSON **out)
{
    return attr_filter(cx, "selectattr", in, args, true, out);
}

static int f_rejectattr(struct wf_filter_ctx *cx, const cJSON *in, const struct wf_filter_arg *args,
                        cJSON **out)
{
    return attr_filter(cx, "rejectattr", in, args, false, out);
}

static int f_select(struct wf_filter_ctx *cx, const cJSON *in, const struct wf_filter_arg *args,
                    cJSON **out)
{
    return filter_list(cx, "select", in, NULL, &args[0], &args[1], true, out);
}

static int f_reject(struct wf_filter_ctx *cx, const cJSON *in, const struct wf_filter_arg *args,
                    cJSON **out)
{
    return filter_list(cx, "reject", in, NULL, &args[0], &args[1], false, out);
}

static int f_map(struct wf_filter_ctx *cx, const cJSON *in, const struct wf_filter_arg *args,
                 cJSON **out)
{
    const char *attr = NULL;
    if (!args[0].set)
        return cx_fail(cx, ERR_INVALID, "map needs attribute='name'");
    int rc = need_string(cx, "map", "attribute", args[0].value, &attr);
    if (rc == 0 && !is_null(in))
        rc = need_list(cx, "map", in);
    if (rc != 0)
        return rc;
    cJSON *res = cJSON_CreateArray();
    for (const cJSON *x = in ? in->child : NULL; x; x = x->next) {
        const cJSON *v = wf_value_path(x, attr);
        if (is_null(v) && args[1].set)
            v = args[1].value;
        cJSON_AddItemToArray(res, dup_or_null(v));
    }
    *out = res;
    return 0;
}

static int f_list(struct wf_filter_ctx *cx, const cJSON *in, const struct wf_filter_arg *args,
                  cJSON **out)
{
    (void)args;
    if (cJSON_IsArray(in)) {
        *out = cJSON_Duplicate(in, true);
        return 0;
    }
    if (!is_null(in) && !cJSON_IsObject(in) && !cJSON_IsString(in))
        return cx_fail(cx, ERR_INVALID, "list needs a list, object or string, got %s",
                       wf_value_type(in));
    cJSON *res = cJSON_CreateArray();
    if (cJSON_IsObject(in)) {
        for (const cJSON *x = in->child; x; x = x->next)
            cJSON_AddItemToArray(res, cJSON_CreateString(x->string));
    } else if (cJSON_IsString(in)) {
        const char *s = in->valuestring;
        for (size_t i = 0, n = strlen(s); i < n;) {
            char ch[5] = {0};
            size_t k = utf8_seq_len((unsigned char)s[i]);
            memcpy(ch, s + i, k <= n - i ? k : n - i);
            cJSON_AddItemToArray(res, cJSON_CreateString(ch));
            i += k;
        }
    }
    *out = res;
    return cx_spend(cx, cJSON_GetArraySize(res));
}

static int f_reverse(struct wf_filter_ctx *cx, const cJSON *in, const struct wf_filter_arg *args,
                     cJSON **out)
{
    (void)args;
    if (cJSON_IsString(in)) {
        const char *s = in->valuestring;
        size_t n = strlen(s);
        struct buf b;
        buf_init(&b, WF_EXPR_MAX_STRING);
        for (size_t end = n; end > 0;) {
            size_t start = end - 1;
            while (start > 0 && ((unsigned char)s[start] & 0xC0) == 0x80)
                start--;
            buf_append(&b, s + start, end - start);
            end = start;
        }
        return string_from_buf(cx, &b, out);
    }
    int rc = need_list(cx, "reverse", in);
    if (rc != 0)
        return rc;
    cJSON *res = cJSON_CreateArray();
    for (const cJSON *x = in->child; x; x = x->next) {
        cJSON *d = cJSON_Duplicate(x, true);
        if (res->child)
            cJSON_InsertItemInArray(res, 0, d);
        else
            cJSON_AddItemToArray(res, d);
    }
    *out = res;
    return 0;
}

static int f_abs(struct wf_filter_ctx *cx, const cJSON *in, const struct wf_filter_arg *args,
                 cJSON **out)
{
    (void)args;
    double x = 0;
    int rc = need_number(cx, "abs", "the input", in, &x);
    if (rc == 0)
        *out = cJSON_CreateNumber(fabs(x));
    return rc;
}

static int f_items(struct wf_filter_ctx *cx, const cJSON *in, const struct wf_filter_arg *args,
                   cJSON **out)
{
    (void)args;
    if (!is_null(in) && !cJSON_IsObject(in))
        return cx_fail(cx, ERR_INVALID, "items needs an object, got %s", wf_value_type(in));
    cJSON *res = cJSON_CreateArray();
    for (const cJSON *x = in ? in->child : NULL; x; x = x->next) {
        cJSON *pair = cJSON_CreateArray();
        cJSON_AddItemToArray(pair, cJSON_CreateString(x->string));
        cJSON_AddItemToArray(pair, cJSON_Duplicate(x, true));
        cJSON_AddItemToArray(res, pair);
    }
    *out = res;
    return cx_spend(cx, cJSON_GetArraySize(res));
}

#define NO_PARAMS                                                                                  \
    {                                                                                              \
        NULL                                                                                       \
    }

static const struct wf_filter filters[] = {
    {"tojson", f_tojson, NO_PARAMS, 0, 0},
    {"default", f_default, {"default_value", "boolean", NULL}, 0, 2},
    {"d", f_default, {"default_value", "boolean", NULL}, 0, 2},
    {"length", f_length, NO_PARAMS, 0, 0},
    {"count", f_length, NO_PARAMS, 0, 0},
    {"upper", f_upper, NO_PARAMS, 0, 0},
    {"lower", f_lower, NO_PARAMS, 0, 0},
    {"title", f_title, NO_PARAMS, 0, 0},
    {"capitalize", f_capitalize, NO_PARAMS, 0, 0},
    {"trim", f_trim, {"chars", NULL}, 0, 1},
    {"join", f_join, {"d", "attribute", NULL}, 0, 2},
    {"round", f_round, {"precision", "method", NULL}, 0, 2},
    {"int", f_int, {"default", "base", NULL}, 0, 2},
    {"float", f_float, {"default", NULL}, 0, 1},
    {"string", f_string, NO_PARAMS, 0, 0},
    {"first", f_first, NO_PARAMS, 0, 0},
    {"last", f_last, NO_PARAMS, 0, 0},
    {"replace", f_replace, {"old", "new", "count", NULL}, 2, 3},
    {"truncate", f_truncate, {"length", "killwords", "end", "leeway"}, 0, 4},
    {"escape", f_escape, NO_PARAMS, 0, 0},
    {"e", f_escape, NO_PARAMS, 0, 0},
    {"selectattr", f_selectattr, {"attr", "test", "value", NULL}, 1, 3},
    {"rejectattr", f_rejectattr, {"attr", "test", "value", NULL}, 1, 3},
    {"select", f_select, {"test", "value", NULL}, 0, 2},
    {"reject", f_reject, {"test", "value", NULL}, 0, 2},
    {"map", f_map, {"attribute", "default", NULL}, 0, 0},
    {"list", f_list, NO_PARAMS, 0, 0},
    {"reverse", f_reverse, NO_PARAMS, 0, 0},
    {"abs", f_abs, NO_PARAMS, 0, 0},
    {"items", f_items, NO_PARAMS, 0, 0},
};

const struct wf_filter *wf_filter_find(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++) {
        if (strlen(filters[i].name) == len && memcmp(filters[i].name, name, len) == 0)
            return &filters[i];
    }
    return NULL;
}

int wf_filter_param(const struct wf_filter *f, const char *name, size_t len)
{
    for (int i = 0; i < WF_FILTER_MAX_PARAMS && f->params[i]; i++) {
        if (strlen(f->params[i]) == len && memcmp(f->params[i], name, len) == 0)
            return i;
    }
    return -1;
}

/* ---- tests ------------------------------------------------------------------------------ */

static int t_defined(struct wf_filter_ctx *cx, const cJSON *v, const cJSON *arg, bool *r)
{
    (void)cx, (void)arg;
    *r = !is_null(v);
    return 0;
}

static int t_none(struct wf_filter_ctx *cx, const cJSON *v, const cJSON *arg, bool *r)
{
    (void)cx, (void)arg;
    *r = is_null(v);
    return 0;
}

static int t_string(struct wf_filter_ctx *cx, const cJSON *v, const cJSON *arg, bool *r)
{
    (void)cx, (void)arg;
    *r = cJSON_IsString(v);
    return 0;
}

static int t_number(struct wf_filter_ctx *cx, const cJSON *v, const cJSON *arg, bool *r)
{
    (void)cx, (void)arg;
    *r = cJSON_IsNumber(v);
    return 0;
}

static int t_integer(struct wf_filter_ctx *cx, const cJSON *v, const cJSON *arg, bool *r)
{
    (void)cx, (void)arg;
    *r = cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) && isfinite(v->valuedouble);
    return 0;
}

static int t_boolean(struct wf_filter_ctx *cx, const cJSON *v, const cJSON *arg, bool *r)
{
    (void)cx, (void)arg;
    *r = cJSON_IsBool(v);
    return 0;
}

static int t_mapping(struct wf_filter_ctx *cx, const cJSON *v, const cJSON *arg, bool *r)
{
    (void)cx, (void)arg;
    *r = cJSON_IsObject(v);
    return 0;
}

static int t_sequence(struct wf_filter_ctx *cx, const cJSON *v, const cJSON *arg, bool *r)
{
    (void)cx, (void)arg;
    *r = cJSON_IsArray(v) || cJSON_IsString(v);
    return 0;
}

static int t_true(struct wf_filter_ctx *cx, const cJSON *v, const cJSON *arg, bool *r)
{
    (void)cx, (void)arg;
    *r = cJSON_IsTrue(v);
    return 0;
}

static int t_false(struct wf_filter_ctx *cx, const cJSON *v, const cJSON *arg, bool *r)
{
    (void)cx, (void)arg;
    *r = cJSON_IsFalse(v);
    return 0;
}

static int whole_number(struct wf_filter_ctx *cx, const char *test, const cJSON *v, double *out)
{
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
        fabs(v->valuedouble) > 9007199254740991.0)
        return cx_fail(cx, ERR_INVALID, "test '%s' needs a whole number, got %s", test,
                       wf_value_type(v));
    *out = v->valuedouble;
    return 0;
}

static int t_odd(struct wf_filter_ctx *cx, const cJSON *v, const cJSON *arg, bool *r)
{
    (void)arg;
    double x = 0;
    int rc = whole_number(cx, "odd", v, &x);
    *r = rc == 0 && fmod(fabs(x), 2) == 1;
    return rc;
}

static int t_even(struct wf_filter_ctx *cx, const cJSON *v, const cJSON *arg, bool *r)
{
    (void)arg;
    double x = 0;
    int rc = whole_number(cx, "even", v, &x);
    *r = rc == 0 && fmod(fabs(x), 2) == 0;
    return rc;
}

static int t_divisibleby(struct wf_filter_ctx *cx, const cJSON *v, const cJSON *arg, bool *r)
{
    double x = 0, d = 0;
    int rc = whole_number(cx, "divisibleby", v, &x);
    if (rc == 0)
        rc = whole_number(cx, "divisibleby", arg, &d);
    if (rc == 0 && d == 0)
        rc = cx_fail(cx, ERR_INVALID, "test 'divisibleby': division by zero");
    *r = rc == 0 && fmod(x, d) == 0;
    return rc;
}

static int t_eq(struct wf_filter_ctx *cx, const cJSON *v, const cJSON *arg, bool *r)
{
    (void)cx;
    *r = wf_value_equal(v, arg);
    return 0;
}

static int t_ne(struct wf_filter_ctx *cx, const cJSON *v, const cJSON *arg, bool *r)
{
    (void)cx;
    *r = !wf_value_equal(v, arg);
    return 0;
}

/* Orders two numbers or two strings: sets *cmp to <0, 0 or >0. */
static int order(struct wf_filter_ctx *cx, const char *op, const cJSON *a, const cJSON *b, int *cmp)
{
    if (cJSON_IsNumber(a) && cJSON_IsNumber(b)) {
        *cmp = (a->valuedouble > b->valuedouble) - (a->valuedouble < b->valuedouble);
        return 0;
    }
    if (cJSON_IsString(a) && cJSON_IsString(b)) {
        *cmp = strcmp(a->valuestring, b->valuestring);
        return 0;
    }
    return cx_fail(cx, ERR_INVALID, "'%s' needs two numbers or two strings, got %s and %s", op,
                   wf_value_type(a), wf_value_type(b));
}

static int t_lt(struct wf_filter_ctx *cx, const cJSON *v, const cJSON *arg, bool *r)
{
    int c = 0, rc = order(cx, "<", v, arg, &c);
    *r = rc == 0 && c < 0;
    return rc;
}

static int t_le(struct wf_filter_ctx *cx, const cJSON *v, const cJSON *arg, bool *r)
{
    int c = 0, rc = order(cx, "<=", v, arg, &c);
    *r = rc == 0 && c <= 0;
    return rc;
}

static int t_gt(struct wf_filter_ctx *cx, const cJSON *v, const cJSON *arg, bool *r)
{
    int c = 0, rc = order(cx, ">", v, arg, &c);
    *r = rc == 0 && c > 0;
    return rc;
}

static int t_ge(struct wf_filter_ctx *cx, const cJSON *v, const cJSON *arg, bool *r)
{
    int c = 0, rc = order(cx, ">=", v, arg, &c);
    *r = rc == 0 && c >= 0;
    return rc;
}

static int t_in(struct wf_filter_ctx *cx, const cJSON *v, const cJSON *arg, bool *r)
{
    *r = false;
    if (is_null(arg))
        return 0;
    if (cJSON_IsString(arg)) {
        if (!cJSON_IsString(v))
            return cx_fail(cx, ERR_INVALID, "'in' a string needs a string, got %s",
                           wf_value_type(v));
        *r = strstr(arg->valuestring, v->valuestring) != NULL;
        return 0;
    }
    if (cJSON_IsObject(arg)) {
        if (!cJSON_IsString(v))
            return cx_fail(cx, ERR_INVALID, "'in' an object needs a string key, got %s",
                           wf_value_type(v));
        *r = cJSON_GetObjectItemCaseSensitive(arg, v->valuestring) != NULL;
        return 0;
    }
    if (!cJSON_IsArray(arg))
        return cx_fail(cx, ERR_INVALID, "'in' needs a string, list or object, got %s",
                       wf_value_type(arg));
    int rc = cx_spend(cx, cJSON_GetArraySize(arg));
    for (const cJSON *x = arg->child; x && rc == 0 && !*r; x = x->next)
        *r = wf_value_equal(x, v);
    return rc;
}

static const struct wf_test tests[] = {
    {"defined", t_defined, false},
    {"undefined", t_none, false},
    {"none", t_none, false},
    {"string", t_string, false},
    {"number", t_number, false},
    {"integer", t_integer, false},
    {"boolean", t_boolean, false},
    {"mapping", t_mapping, false},
    {"sequence", t_sequence, false},
    {"iterable", t_sequence, false},
    {"true", t_true, false},
    {"false", t_false, false},
    {"odd", t_odd, false},
    {"even", t_even, false},
    {"divisibleby", t_divisibleby, true},
    {"eq", t_eq, true},
    {"equalto", t_eq, true},
    {"==", t_eq, true},
    {"ne", t_ne, true},
    {"!=", t_ne, true},
    {"lt", t_lt, true},
    {"<", t_lt, true},
    {"le", t_le, true},
    {"<=", t_le, true},
    {"gt", t_gt, true},
    {">", t_gt, true},
    {"ge", t_ge, true},
    {">=", t_ge, true},
    {"in", t_in, true},
};

const struct wf_test *wf_test_find(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (strlen(tests[i].name) == len && memcmp(tests[i].name, name, len) == 0)
            return &tests[i];
    }
    return NULL;
}
