/* pq_lazy.h - libpq, loaded the first time a PostgreSQL connection is opened (core/dynlib.h says
 * why). pq_lazy.c defines the libpq functions chatkitd uses (the ones declared in libpq-fe.h) as
 * trampolines into the library loaded here, so the PostgreSQL code calls them as usual.
 *
 * Every PQ* call must come after a successful pq_lazy_load(): the backend calls it before each
 * connect (pg.c, coord.c), and every other call is made on a connection.
 *
 * The table of entry points is process-wide state, like the library itself: written once under
 * pthread_once, read-only afterwards, so any thread may call.
 */
#ifndef CHATKITD_STORE_PQ_LAZY_H
#define CHATKITD_STORE_PQ_LAZY_H

#include <stddef.h>

/* Loads libpq.so.5 once. 0, or ERR_UNAVAILABLE with the reason in err (every call repeats it). */
int pq_lazy_load(char *err, size_t errlen);

#endif
