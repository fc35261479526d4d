#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void xalloc_oom(size_t n, const char *file, int line)
{
    fprintf(stderr, "chatkitd: out of memory allocating %zu bytes at %s:%d\n", n, file, line);
    abort();
}

void *xalloc_malloc(size_t n, const char *file, int line)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        xalloc_oom(n, file, line);
    return p;
}

void *xalloc_calloc(size_t count, size_t n, const char *file, int line)
{
    void *p = calloc(count ? count : 1, n ? n : 1);
    if (!p)
        xalloc_oom(count * n, file, line);
    return p;
}

void *xalloc_realloc(void *p, size_t n, const char *file, int line)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        xalloc_oom(n, file, line);
    return q;
}

char *xalloc_strndup(const char *s, size_t n, const char *file, int line)
{
    size_t len = strnlen(s, n);
    char *p = xalloc_malloc(len + 1, file, line);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}
