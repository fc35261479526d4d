#include "core/buf.h"

#include "core/err.h"
#include "core/xalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

/* Grows the allocation geometrically (so appends are amortised O(1)) but never beyond max + 1,
 * the +1 being the trailing NUL. A max of SIZE_MAX ("no cap") must not wrap that + 1, so the
 * last byte of the address space is never handed out. */
char *buf_reserve(struct buf *b, size_t n)
{
    if (n > b->max || b->len > b->max - n || b->len + n == SIZE_MAX)
        return NULL;
    size_t need = b->len + n + 1;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < need)
            cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        if (cap - 1 > b->max)
            cap = b->max + 1;
        b->data = xrealloc(b->data, cap);
        b->cap = cap;
    }
    return b->data + b->len;
}

void buf_commit(struct buf *b, size_t n)
{
    b->len += n;
    b->data[b->len] = '\0';
}

int buf_append(struct buf *b, const void *p, size_t n)
{
    char *dst = buf_reserve(b, n);
    if (!dst)
        return ERR_TOO_BIG;
    if (n)
        memcpy(dst, p, n);
    buf_commit(b, n);
    return 0;
}

int buf_append_str(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_append_char(struct buf *b, char c)
{
    return buf_append(b, &c, 1);
}

int buf_vappendf(struct buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return ERR_INVALID;
    char *dst = buf_reserve(b, (size_t)n);
    if (!dst)
        return ERR_TOO_BIG;
    vsnprintf(dst, (size_t)n + 1, fmt, ap);
    buf_commit(b, (size_t)n);
    return 0;
}

int buf_appendf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = buf_vappendf(b, fmt, ap);
    va_end(ap);
    return rc;
}

void buf_consume(struct buf *b, size_t n)
{
    if (n >= b->len) {
        buf_reset(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}

/* The block is cut to its length first: detached strings are often kept (queued events, stored
 * items) and the geometric growth can leave up to half of it unused. Shrinking stays in place. */
char *buf_detach(struct buf *b, size_t *len)
{
    char *p = b->data;
    if (p && b->cap > b->len + 1)
        p = xrealloc(p, b->len + 1);
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}
