#include "core/json_read.h"

#include "core/xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Integers above 2^53 - 1 cannot be told apart from their neighbours once cJSON has stored them
 * as doubles ("9007199254740993" arrives as ...992), so json_get_int refuses them rather than
 * hand back a number the client never sent. */
#define JSON_SAFE_INT_MAX 9007199254740991.0

static bool json_is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A pass over the raw bytes before cJSON sees them, for the three things cJSON does not check:
 *
 *  - nesting depth: cJSON recurses once per level up to its own limit of 1000, far beyond what a
 *    request needs, so we count brackets outside strings and stop at max_depth;
 *  - raw control characters inside strings, which RFC 8259 forbids but cJSON copies through;
 *  - "\u0000" inside an object key: cJSON keeps keys as C strings, so {"type\u0000x":1} would
 *    answer a lookup of "type". Values may contain NUL (lengths are the callers' business).
 *
 * Anything else malformed is left to cJSON. Returns the offset of the first offending byte, or
 * len when the input passed. */
static size_t json_prescan(const char *s, size_t len, int max_depth, bool *value_nul)
{
    int depth = 0;
    *value_nul = false;
    size_t i = 0;
    while (i < len) {
        char c = s[i];
        if (c == '[' || c == '{') {
            if (++depth > max_depth)
                return i;
            i++;
            continue;
        }
        if (c == ']' || c == '}') {
            depth--;
            i++;
            continue;
        }
        if (c != '"') {
            i++;
            continue;
        }
        size_t start = i++;
        bool has_nul = false;
        while (i < len && s[i] != '"') {
            if ((unsigned char)s[i] < 0x20)
                return i;
            if (s[i] == '\\') {
                if (len - i >= 6 && memcmp(s + i + 1, "u0000", 5) == 0)
                    has_nul = true;
                i++; /* skip the escaped byte, which may be a quote; cJSON checks the rest */
            }
            i++;
        }
        if (i >= len)
            return len; /* unterminated: cJSON reports it */
        i++;
        if (has_nul) {
            size_t j = i;
            while (j < len && json_is_ws(s[j]))
                j++;
            if (j < len && s[j] == ':')
                return start;
            *value_nul = true;
        }
    }
    return len;
}

/* cJSON strings are C strings, so a NUL decoded from "\u0000" would cut a value short. Such
 * escapes are rewritten to the two bytes C0 80 (the "Modified UTF-8" NUL), which valid UTF-8
 * never contains; json_escape_append() writes them back as \u0000, so text round-trips. Escaped
 * backslashes are skipped as pairs, so "\\u0000" (a literal backslash) is left alone. */
static char *json_nul_rewrite(const char *s, size_t len, size_t *out_len)
{
    char *out = xmalloc(len + 1);
    size_t o = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_string && c == '\\' && i + 1 < len) {
            if (len - i >= 6 && memcmp(s + i + 1, "u0000", 5) == 0) {
                out[o++] = (char)0xC0;
                out[o++] = (char)0x80;
                i += 5;
            } else {
                out[o++] = c;
                out[o++] = s[++i];
            }
            continue;
        }
        if (c == '"')
            in_string = !in_string;
        out[o++] = c;
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

cJSON *json_parse(const char *s, size_t len, int max_depth, size_t *err_off)
{
    const char *end = NULL;
    size_t off;
    cJSON *root;
    bool value_nul;
    char *rewritten = NULL;

    if (err_off)
        *err_off = 0;
    if (!s || len == 0)
        return NULL;
    off = json_prescan(s, len, max_depth < 0 ? 0 : max_depth, &value_nul);
    if (off < len) {
        if (err_off)
            *err_off = off;
        return NULL;
    }
    if (value_nul) {
        rewritten = json_nul_rewrite(s, len, &len);
        s = rewritten;
    }
    /* Not require_null_terminated: with an exact length cJSON 1.7 then looks one byte past the
     * end and fails every input. We check for trailing bytes ourselves. */
    root = cJSON_ParseWithLengthOpts(s, len, &end, 0);
    off = end ? (size_t)(end - s) : 0;
    if (root) {
        while (off < len && json_is_ws(s[off]))
            off++;
        if (off == len) {
            free(rewritten);
            return root;
        }
        cJSON_Delete(root);
    }
    free(rewritten);
    if (err_off)
        *err_off = off;
    return NULL;
}

const cJSON *json_get(const cJSON *obj, const char *key)
{
    if (!cJSON_IsObject(obj) || !key)
        return NULL;
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* The shared first step of the typed getters: 1 for absent or null, else 0 with *v set. */
static int json_member(const cJSON *obj, const char *key, const cJSON **v)
{
    *v = json_get(obj, key);
    return !*v || cJSON_IsNull(*v) ? 1 : 0;
}

int json_get_str(const cJSON *obj, const char *key, const char **out)
{
    const cJSON *v;
    if (json_member(obj, key, &v))
        return 1;
    if (!cJSON_IsString(v) || !v->valuestring)
        return -1;
    *out = v->valuestring;
    return 0;
}

int json_get_bool(const cJSON *obj, const char *key, bool *out)
{
    const cJSON *v;
    if (json_member(obj, key, &v))
        return 1;
    if (!cJSON_IsBool(v))
        return -1;
    *out = cJSON_IsTrue(v);
    return 0;
}

/* cJSON's valueint saturates at INT_MAX, so everything here works from valuedouble. */
int json_get_int(const cJSON *obj, const char *key, int64_t min, int64_t max, int64_t *out)
{
    const cJSON *v;
    double d;
    int64_t n;
    if (json_member(obj, key, &v))
        return 1;
    if (!cJSON_IsNumber(v))
        return -1;
    d = v->valuedouble;
    if (!isfinite(d) || d != floor(d) || fabs(d) > JSON_SAFE_INT_MAX)
        return -1;
    n = (int64_t)d;
    if (n < min || n > max)
        return -1;
    *out = n;
    return 0;
}

int json_get_obj(const cJSON *obj, const char *key, const cJSON **out)
{
    const cJSON *v;
    if (json_member(obj, key, &v))
        return 1;
    if (!cJSON_IsObject(v))
        return -1;
    *out = v;
    return 0;
}

int json_get_arr(const cJSON *obj, const char *key, const cJSON **out)
{
    const cJSON *v;
    if (json_member(obj, key, &v))
        return 1;
    if (!cJSON_IsArray(v))
        return -1;
    *out = v;
    return 0;
}

/* cJSON prints string bytes as they are, so a NUL that json_parse() carried as C0 80 would come
 * out as bytes no valid UTF-8 has: it goes back to \u0000, and the text parses to the same tree. */
char *json_print(const cJSON *v)
{
    if (!v)
        return NULL;
    char *s = cJSON_PrintUnformatted(v);
    if (!s || !strstr(s, "\xC0\x80"))
        return s;
    size_t len = strlen(s), nuls = 0;
    for (const char *p = s; (p = strstr(p, "\xC0\x80")); p += 2)
        nuls++;
    char *out = xmalloc(len + nuls * 4 + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)s[i] == 0xC0 && (unsigned char)s[i + 1] == 0x80) {
            memcpy(out + o, "\\u0000", 6);
            o += 6;
            i++;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    cJSON_free(s);
    return out;
}
