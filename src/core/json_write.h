/* json_write.h - a streaming JSON writer into a capped buf.
 *
 * Used for everything chatkitd emits at volume (SSE events, list pages, API answers): no DOM, no
 * allocation besides the target buffer. The writer inserts commas and colons itself, so callers
 * only say what comes next:
 *
 *     jw_obj_begin(&w); jw_key(&w, "type"); jw_str(&w, "error"); jw_obj_end(&w);
 *
 * Strings are escaped so the output is valid JSON and safe inside one SSE data line and inside a
 * <script>: quotes, backslashes, '<' and every control character (NUL included) are escaped, as
 * are U+2028 and U+2029; raw UTF-8 is otherwise copied through, and invalid UTF-8 (bad lead bytes,
 * truncated or overlong sequences, surrogates) becomes U+FFFD. Errors are sticky: after the first
 * failure (cap reached, nesting over JW_MAX_DEPTH, a key where a value belongs) every call is a
 * no-op and jw_error() reports the first code.
 */
#ifndef CHATKITD_JSON_WRITE_H
#define CHATKITD_JSON_WRITE_H

#include "core/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JW_MAX_DEPTH 64

struct jw {
    struct buf *out;                  /* not owned */
    int err;                          /* first error, 0 while fine */
    int depth;                        /* open containers */
    bool need_comma;                  /* a value was written at this level */
    bool after_key;                   /* a key was written, its value is next */
    unsigned char kind[JW_MAX_DEPTH]; /* 'o' object or 'a' array per level */
};

/* Starts writing at the end of out. */
void jw_init(struct jw *w, struct buf *out);
/* The first error, or 0. A finished document also needs depth 0 (jw_done). */
int jw_error(const struct jw *w);
/* 0 when every container was closed and nothing failed. */
int jw_done(const struct jw *w);

void jw_obj_begin(struct jw *w);
void jw_obj_end(struct jw *w);
void jw_arr_begin(struct jw *w);
void jw_arr_end(struct jw *w);
/* An object key; keys are escaped like strings. */
void jw_key(struct jw *w, const char *key);
void jw_key_len(struct jw *w, const char *key, size_t len);
void jw_str(struct jw *w, const char *s); /* NULL writes null */
void jw_str_len(struct jw *w, const char *s, size_t len);
void jw_int(struct jw *w, int64_t v);
void jw_uint(struct jw *w, uint64_t v);
void jw_double(struct jw *w, double v); /* non-finite values write null */
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);
/* Copies already-valid JSON (e.g. a stored document) as one value. */
void jw_raw(struct jw *w, const char *json, size_t len);

/* Convenience pairs: key then value. jw_kv_str with a NULL value omits the pair entirely, the
 * protocol's "omit nulls" rule. */
void jw_kv_str(struct jw *w, const char *key, const char *v);
void jw_kv_int(struct jw *w, const char *key, int64_t v);
void jw_kv_bool(struct jw *w, const char *key, bool v);

/* Appends s (len bytes) to out as a quoted, escaped JSON string; the building block of jw_str,
 * usable on its own. ERR_TOO_BIG when out's cap is reached (out is then rolled back). */
int json_escape_append(struct buf *out, const char *s, size_t len);

#endif
