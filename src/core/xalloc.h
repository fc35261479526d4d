/* xalloc.h - allocation that never returns NULL.
 *
 * A network service cannot limp on after malloc fails, so these wrappers print the caller's
 * file:line and abort, and callers never check for NULL (the redis/zmalloc rule). Inputs are
 * bounded by the buf caps long before memory runs out, so reaching the abort means the machine is
 * truly exhausted.
 */
#ifndef CHATKITD_XALLOC_H
#define CHATKITD_XALLOC_H

#include <stddef.h>

#define xmalloc(n)     xalloc_malloc((n), __FILE__, __LINE__)
#define xcalloc(c, n)  xalloc_calloc((c), (n), __FILE__, __LINE__)
#define xrealloc(p, n) xalloc_realloc((p), (n), __FILE__, __LINE__)
#define xstrdup(s)     xalloc_strndup((s), (size_t)-1, __FILE__, __LINE__)
#define xstrndup(s, n) xalloc_strndup((s), (n), __FILE__, __LINE__)

void *xalloc_malloc(size_t n, const char *file, int line);
void *xalloc_calloc(size_t count, size_t n, const char *file, int line);
void *xalloc_realloc(void *p, size_t n, const char *file, int line);
/* Copies at most n bytes of s (stopping at NUL) into a new NUL-terminated string. */
char *xalloc_strndup(const char *s, size_t n, const char *file, int line);

#endif
