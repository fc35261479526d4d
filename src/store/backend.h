/* backend.h - what a storage backend implements for store.c (internal to src/store/).
 *
 * store.c owns the threads and queues; a backend only opens connections and runs one job at a
 * time on a connection it opened, from the thread that opened it.
 */
#ifndef CHATKITD_STORE_BACKEND_H
#define CHATKITD_STORE_BACKEND_H

#include "store/store.h"

struct store_backend {
    const char *name;
    /* false: one writer connection (batched) and read-only readers (SQLite's model); true: a
     * pool of cfg->pool_size connections that each run any job (PostgreSQL). */
    bool pooled;
    /* Opens a connection; writer is true for the (single) read-write one. cfg->url is the bare
     * location (a file path for SQLite): store.c strips the scheme before calling. */
    int (*conn_open)(const struct store_config *cfg, bool writer, void **conn, char *err,
                     size_t errlen);
    void (*conn_close)(void *conn);
    /* Runs job->op on conn in one transaction, filling job->status/error and outputs. */
    void (*run)(void *conn, struct store_job *job);
    /* Optional, writer only: runs n > 1 jobs in one transaction (each undone alone on failure);
     * a job's status is final only after the commit. */
    void (*run_batch)(void *conn, struct store_job **jobs, size_t n);
    /* Applies pending migrations on a writer connection; *applied counts them. */
    int (*migrate)(void *conn, const struct logger *log, int *applied, char *err, size_t errlen);
    /* Optional: process-wide library settings (store_process_init). */
    void (*process_init)(void);
};

extern const struct store_backend store_backend_sqlite;
extern const struct store_backend store_backend_postgres;

/* Whether op only reads (it may then run in a read-only transaction). */
bool store__op_reads(enum store_op op);

/* What store.c offers backends: free the owned strings of a row (and NULL them), or every row of
 * a list and its arrays (leaving an empty list). */
void store__thread_clear(struct store_thread *t);
void store__item_clear(struct store_item *it);
void store__task_clear(struct store_task *t);
void store__list_clear(struct store_list *l);

/* Which filters a STORE_TASK_LIST job uses, and its order: each backend keeps one statement per
 * combination, indexed by this mask. */
enum {
    STORE_TL_DESC = 1 << 0,
    STORE_TL_STATUS = 1 << 1,
    STORE_TL_PRIORITY = 1 << 2,
    STORE_TL_TAG = 1 << 3,
    STORE_TL_DUE_BEFORE = 1 << 4,
    STORE_TL_DUE_AFTER = 1 << 5,
    STORE_TL_HAS_DUE = 1 << 6,
    STORE_TL_Q = 1 << 7,
    STORE_TL_VARIANTS = 1 << 8, /* number of masks */
};
unsigned store__task_list_mask(const struct store_job *job);

#endif
