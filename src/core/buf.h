/* buf.h - a growable byte buffer that never grows past its cap.
 *
 * Every buffer in chatkitd has a maximum size (curl's dynbuf rule): request headers, bodies, SSE
 * output queues, JSON documents. An append that would pass the cap fails with ERR_TOO_BIG and
 * leaves the buffer unchanged, so callers can answer 413/431 instead of growing without bound.
 * Contents are binary-safe; a NUL is kept after the last byte so data can be handed to C string
 * APIs, but lengths are always authoritative.
 *
 * Ownership: the struct is embedded by its owner; buf_free() releases the heap block.
 */
#ifndef CHATKITD_BUF_H
#define CHATKITD_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
    char *data; /* NULL until the first append; owned by this buf */
    size_t len; /* bytes in use, not counting the trailing NUL */
    size_t cap; /* bytes allocated */
    size_t max; /* hard cap on len */
};

/* Sets b empty with cap max (no allocation yet). */
void buf_init(struct buf *b, size_t max);
/* Releases the storage; b is empty afterwards and may be reused. */
void buf_free(struct buf *b);
/* Empties b but keeps its storage for reuse. */
void buf_reset(struct buf *b);
/* Appends n bytes; 0, or ERR_TOO_BIG (b unchanged) when len + n would pass max. */
int buf_append(struct buf *b, const void *p, size_t n);
/* Appends a NUL-terminated string. */
int buf_append_str(struct buf *b, const char *s);
/* Appends one byte. */
int buf_append_char(struct buf *b, char c);
/* Appends printf-formatted text; ERR_TOO_BIG leaves b unchanged. */
int buf_appendf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vappendf(struct buf *b, const char *fmt, va_list ap);
/* Makes room for n more bytes and returns where they go (commit them with buf_commit), or NULL
 * when that would pass max. */
char *buf_reserve(struct buf *b, size_t n);
void buf_commit(struct buf *b, size_t n);
/* Removes the first n bytes (n <= len). */
void buf_consume(struct buf *b, size_t n);
/* Hands the heap block, cut to len + 1 bytes, to the caller (who frees it) and leaves b empty;
 * *len gets the length. */
char *buf_detach(struct buf *b, size_t *len);

#endif
