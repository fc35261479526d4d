/* json_path.c - JSON paths for error messages (json_path.h). */
#include "core/json_path.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

void json_path_init(struct json_path *p)
{
    p->s[0] = '$';
    p->s[1] = '\0';
    p->len = 1;
}

static size_t append(struct json_path *p, int n)
{
    size_t room = sizeof p->s - p->len;
    size_t old = p->len;
    p->len = n > 0 && (size_t)n < room ? p->len + (size_t)n : sizeof p->s - 1;
    p->s[p->len] = '\0';
    return old;
}

static bool plain_name(const char *key)
{
    if (!key[0] || (key[0] >= '0' && key[0] <= '9'))
        return false;
    for (const char *c = key; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '$'))
            return false;
    }
    return true;
}

size_t json_path_key(struct json_path *p, const char *key)
{
    size_t room = sizeof p->s - p->len;
    if (plain_name(key))
        return append(p, snprintf(p->s + p->len, room, ".%s", key));
    return append(p, snprintf(p->s + p->len, room, "[\"%s\"]", key));
}

size_t json_path_index(struct json_path *p, int index)
{
    return append(p, snprintf(p->s + p->len, sizeof p->s - p->len, "[%d]", index));
}

void json_path_pop(struct json_path *p, size_t mark)
{
    if (mark < p->len) {
        p->len = mark;
        p->s[mark] = '\0';
    }
}

int json_path_errorf(const struct json_path *p, char *err, size_t errlen, int code, const char *fmt,
                     ...)
{
    if (errlen == 0)
        return code;
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "%s: %s", p->s, msg);
    return code;
}
