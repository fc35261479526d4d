/* json_read.h - typed, case-sensitive access to parsed JSON (cJSON).
 *
 * cJSON's plain lookups are case-insensitive and its integers saturate; these helpers look keys
 * up case-sensitively, check types, and report what was wrong so request validation can answer
 * "params.thread_id must be a string" instead of guessing. Documents are parsed with an explicit
 * length (payloads may contain NUL) and a nesting cap.
 */
#ifndef CHATKITD_JSON_READ_H
#define CHATKITD_JSON_READ_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parses len bytes as one JSON value. A "\u0000" inside a string value arrives as the two bytes
 * C0 80 (Modified UTF-8), so the string stays a C string with nothing cut off; json_write turns
 * C0 80 back into \u0000, so such text round-trips. Fails (NULL) on malformed JSON, trailing
 * garbage, or arrays and objects nested deeper than max_depth. Stricter than cJSON alone: raw
 * control characters inside strings are refused, and so are object keys containing \u0000 (cJSON
 * keeps keys as C strings, so "type\u0000x" would answer a lookup of "type"); values may contain
 * \u0000. On failure *err_off (if not NULL) gets the byte offset where parsing stopped. The caller
 * frees the result with cJSON_Delete. */
cJSON *json_parse(const char *s, size_t len, int max_depth, size_t *err_off);

/* Member lookups: NULL when obj is not an object or the key is absent. A key present with JSON
 * null counts as absent for the typed getters below ("omit nulls" in both directions). */
const cJSON *json_get(const cJSON *obj, const char *key);

/* Typed getters return 0 when the member has the right type (and set *out), 1 when it is
 * absent or null or obj is not an object (out untouched), and -1 when it is present with the
 * wrong type. A string's C text ends at its first NUL, if it has one. */
int json_get_str(const cJSON *obj, const char *key, const char **out);
int json_get_bool(const cJSON *obj, const char *key, bool *out);
/* Integers must be whole numbers within [min, max] and within +-(2^53 - 1), beyond which a
 * double no longer holds the number the client sent; -1 otherwise. */
int json_get_int(const cJSON *obj, const char *key, int64_t min, int64_t max, int64_t *out);
int json_get_obj(const cJSON *obj, const char *key, const cJSON **out);
int json_get_arr(const cJSON *obj, const char *key, const cJSON **out);

/* Prints v compactly into a new heap string (caller frees with free()); NULL on failure. NULs
 * carried as C0 80 (see json_parse) are printed as \u0000, so the text parses to the same tree. */
char *json_print(const cJSON *v);

#endif
