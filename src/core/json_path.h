/* json_path.h - JSON paths ("$.children[2].size") for error messages.
 *
 * Validators (widget_check, json_schema) walk a tree and say where a problem is. A path is built
 * by pushing a member or an index before descending and popping back after. Member names that
 * are not plain identifiers are written as ["na me"]. A path that would pass its fixed size is
 * cut short (the message stays readable; nothing overflows).
 *
 * Ownership: the struct is a plain value, usually on the stack.
 */
#ifndef CHATKITD_JSON_PATH_H
#define CHATKITD_JSON_PATH_H

#include <stddef.h>

struct json_path {
    char s[256]; /* NUL-terminated, starts with "$" */
    size_t len;
};

/* Sets p to "$". */
void json_path_init(struct json_path *p);
/* Appends ".key" (or ["key"]) and returns the length before, for json_path_pop. */
size_t json_path_key(struct json_path *p, const char *key);
/* Appends "[index]" and returns the length before. */
size_t json_path_index(struct json_path *p, int index);
/* Cuts p back to a length returned by json_path_key/json_path_index. */
void json_path_pop(struct json_path *p, size_t mark);
/* Writes "<path>: <printf message>" into err (NUL-terminated, cut to errlen; nothing when errlen
 * is 0) and returns code, so a validator can write `return json_path_errorf(...)`. */
int json_path_errorf(const struct json_path *p, char *err, size_t errlen, int code, const char *fmt,
                     ...) __attribute__((format(printf, 5, 6)));

#endif
