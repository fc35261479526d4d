#include "core/json_write.h"

#include "core/err.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jw_init(struct jw *w, struct buf *out)
{
    memset(w, 0, sizeof *w);
    w->out = out;
}

int jw_error(const struct jw *w)
{
    return w->err;
}

int jw_done(const struct jw *w)
{
    if (w->err)
        return w->err;
    return w->depth == 0 && !w->after_key ? 0 : ERR_BAD_STATE;
}

static void jw_fail(struct jw *w, int code)
{
    if (!w->err)
        w->err = code;
}

static void jw_put(struct jw *w, const char *p, size_t n)
{
    if (!w->err) {
        int rc = buf_append(w->out, p, n);
        if (rc)
            jw_fail(w, rc);
    }
}

/* Called before every value: writes the separating comma, and refuses a bare value inside an
 * object (a key must come first) and a second top-level value, since "1,2" is not a document. */
static bool jw_value_prefix(struct jw *w)
{
    if (w->err)
        return false;
    if ((w->depth > 0 && w->kind[w->depth - 1] == 'o' && !w->after_key) ||
        (w->depth == 0 && w->need_comma)) {
        jw_fail(w, ERR_BAD_STATE);
        return false;
    }
    if (w->need_comma && !w->after_key)
        jw_put(w, ",", 1);
    w->after_key = false;
    w->need_comma = true;
    return !w->err;
}

static void jw_open(struct jw *w, char kind, char c)
{
    if (!jw_value_prefix(w))
        return;
    if (w->depth >= JW_MAX_DEPTH) {
        jw_fail(w, ERR_DEPTH);
        return;
    }
    w->kind[w->depth++] = (unsigned char)kind;
    w->need_comma = false;
    jw_put(w, &c, 1);
}

static void jw_close(struct jw *w, char kind, char c)
{
    if (w->err)
        return;
    if (w->depth == 0 || w->kind[w->depth - 1] != kind || w->after_key) {
        jw_fail(w, ERR_BAD_STATE);
        return;
    }
    w->depth--;
    w->need_comma = true;
    jw_put(w, &c, 1);
}

void jw_obj_begin(struct jw *w)
{
    jw_open(w, 'o', '{');
}
void jw_obj_end(struct jw *w)
{
    jw_close(w, 'o', '}');
}
void jw_arr_begin(struct jw *w)
{
    jw_open(w, 'a', '[');
}
void jw_arr_end(struct jw *w)
{
    jw_close(w, 'a', ']');
}

void jw_key_len(struct jw *w, const char *key, size_t len)
{
    if (w->err)
        return;
    if (w->depth == 0 || w->kind[w->depth - 1] != 'o' || w->after_key) {
        jw_fail(w, ERR_BAD_STATE);
        return;
    }
    if (w->need_comma)
        jw_put(w, ",", 1);
    if (!w->err) {
        int rc = json_escape_append(w->out, key, len);
        if (rc)
            jw_fail(w, rc);
    }
    jw_put(w, ":", 1);
    w->after_key = true;
}

void jw_key(struct jw *w, const char *key)
{
    jw_key_len(w, key, strlen(key));
}

void jw_str_len(struct jw *w, const char *s, size_t len)
{
    if (!jw_value_prefix(w))
        return;
    int rc = json_escape_append(w->out, s, len);
    if (rc)
        jw_fail(w, rc);
}

void jw_str(struct jw *w, const char *s)
{
    if (!s)
        jw_null(w);
    else
        jw_str_len(w, s, strlen(s));
}

void jw_int(struct jw *w, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
    if (jw_value_prefix(w))
        jw_put(w, tmp, (size_t)n);
}

void jw_uint(struct jw *w, uint64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%" PRIu64, v);
    if (jw_value_prefix(w))
        jw_put(w, tmp, (size_t)n);
}

void jw_double(struct jw *w, double v)
{
    if (!isfinite(v)) {
        jw_null(w);
        return;
    }
    char tmp[32];
    /* %.17g round-trips every double; shorter forms are tried first for readable output. */
    int n = snprintf(tmp, sizeof tmp, "%.15g", v);
    if (strtod(tmp, NULL) != v)
        n = snprintf(tmp, sizeof tmp, "%.17g", v);
    if (jw_value_prefix(w))
        jw_put(w, tmp, (size_t)n);
}

void jw_bool(struct jw *w, bool v)
{
    if (jw_value_prefix(w))
        jw_put(w, v ? "true" : "false", v ? 4 : 5);
}

void jw_null(struct jw *w)
{
    if (jw_value_prefix(w))
        jw_put(w, "null", 4);
}

void jw_raw(struct jw *w, const char *json, size_t len)
{
    if (jw_value_prefix(w))
        jw_put(w, json, len);
}

void jw_kv_str(struct jw *w, const char *key, const char *v)
{
    if (!v)
        return;
    jw_key(w, key);
    jw_str(w, v);
}

void jw_kv_int(struct jw *w, const char *key, int64_t v)
{
    jw_key(w, key);
    jw_int(w, v);
}

void jw_kv_bool(struct jw *w, const char *key, bool v)
{
    jw_key(w, key);
    jw_bool(w, v);
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 when it is invalid: a stray continuation
 * byte, an overlong form, a surrogate, a value past U+10FFFF or a truncated sequence. */
static size_t utf8_valid_len(const unsigned char *p, size_t avail)
{
    unsigned char c = p[0];
    size_t n;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* Copies runs of plain bytes with one memcpy and stops only at bytes that need attention, which
 * keeps the common case (ASCII text) close to memcpy speed. */
int json_escape_append(struct buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t start_len = out->len, i = 0, run = 0;
    int rc = buf_append_char(out, '"');
    while (!rc && i < len) {
        unsigned char c = p[i];
        size_t n = 1;
        const char *esc = NULL;
        char tmp[6];
        size_t esc_len = 2;
        if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c < 0x80) {
            i++;
            run++;
            continue;
        }
        if (run) {
            rc = buf_append(out, p + i - run, run);
            run = 0;
            if (rc)
                break;
        }
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c == '\b')
            esc = "\\b";
        else if (c == '\f')
            esc = "\\f";
        else if (c == '<') {
            /* Keeps "</script>" and "<!--" out of the output, so it is safe inside a <script>. */
            esc = "\\u003c";
            esc_len = 6;
        } else if (c < 0x20) {
            tmp[0] = '\\';
            tmp[1] = 'u';
            tmp[2] = '0';
            tmp[3] = '0';
            tmp[4] = hex[c >> 4];
            tmp[5] = hex[c & 15];
            esc = tmp;
            esc_len = 6;
        } else if (c == 0xC0 && i + 1 < len && p[i + 1] == 0x80) {
            esc = "\\u0000"; /* the NUL json_parse() carried as C0 80 (json_read.h) */
            esc_len = 6;
            n = 2;
        } else {
            n = utf8_valid_len(p + i, len - i);
            if (n == 0) {
                esc = "\xEF\xBF\xBD"; /* U+FFFD for one bad byte, then resync */
                esc_len = 3;
                n = 1;
            } else if (n == 3 && c == 0xE2 && p[i + 1] == 0x80 && (p[i + 2] & 0xFE) == 0xA8) {
                esc = p[i + 2] == 0xA8 ? "\\u2028" : "\\u2029";
                esc_len = 6;
            } else {
                esc = (const char *)p + i;
                esc_len = n;
            }
        }
        rc = buf_append(out, esc, esc_len);
        i += n;
    }
    if (!rc && run)
        rc = buf_append(out, p + i - run, run);
    if (!rc)
        rc = buf_append_char(out, '"');
    if (rc) {
        out->len = start_len;
        if (out->data)
            out->data[start_len] = '\0';
    }
    return rc;
}
