/* dynlib.h - loading a shared library when it is first needed (dlopen), not at start.
 *
 * Why: libpq and libcurl each pull in a tree of libraries (Kerberos, LDAP, GnuTLS, p11-kit, ssh2,
 * nghttp2 ...) whose loading and constructors touch about 5 MiB of pages. A server that never
 * talks to PostgreSQL or to a model server (the default, offline setup) should not carry them in
 * its resident memory. The modules that need such a library (src/store/pq_lazy.c,
 * src/net/curl_lazy.c) define the library's functions as trampolines that call through a table
 * filled here, once, by the first caller that needs it.
 */
#ifndef CHATKITD_DYNLIB_H
#define CHATKITD_DYNLIB_H

#include <stddef.h>

struct dynlib_symbol {
    const char *name; /* the symbol in the library */
    void **slot;      /* where its address goes */
};

/* Opens the first of the NULL-terminated sonames that loads (RTLD_NOW | RTLD_LOCAL) and resolves
 * every symbol into its slot. Returns 0, or ERR_UNAVAILABLE with a sentence in err naming the
 * library or the symbol that is missing (slots may then be partly filled). The library stays
 * loaded for the life of the process. Not thread-safe by itself: callers serialize (pthread_once).
 */
int dynlib_open(const char *const *sonames, const struct dynlib_symbol *syms, size_t n, char *err,
                size_t errlen);

#endif
