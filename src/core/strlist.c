#include "core/strlist.h"

bool strlist_next(const char **cursor, const char **item, size_t *len)
{
    const char *p = *cursor;
    if (!p)
        return false;
    for (;;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p) {
            *cursor = p;
            return false;
        }
        const char *e = p;
        while (*e && *e != ',')
            e++;
        size_t n = (size_t)(e - p);
        while (n && p[n - 1] == ' ')
            n--;
        *cursor = e;
        if (n) {
            *item = p;
            *len = n;
            return true;
        }
        p = e;
    }
}
