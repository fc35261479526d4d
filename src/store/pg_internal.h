/* pg_internal.h - what the files of the PostgreSQL backend share (internal to src/store/).
 *
 * pg.c owns the connection (and its reconnection), the per-job transaction, the statement
 * preparation and the dispatch from an operation to its function; pg_chat.c (threads, items,
 * attachments, feedback) and pg_tasks.c (tasks) implement operations with the helpers below.
 * Every helper that can fail records the failure on the job (status and message), so an
 * operation only has to stop. Parameters travel as text (bytea as binary) and results come back
 * as text; the SQL casts wherever PostgreSQL could not infer a parameter's type.
 */
#ifndef CHATKITD_STORE_PG_INTERNAL_H
#define CHATKITD_STORE_PG_INTERNAL_H

#include "store/store.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Every prepared statement of every file; each file keeps the SQL of its own ids. TASK_LIST
 * prepares one statement per combination of filters, like the SQLite backend. */
#define PG_TASK_LIST_VARIANTS 256
enum pg_stmt {
    /* pg.c */
    PG_PING,
    PG_USER_INSERT,
    PG_SESSION_INSERT,
    PG_SESSION_BY_SECRET,
    PG_SESSION_GET,
    PG_SESSION_CANCEL,
    PG_SESSION_PURGE,
    PG_RATE_PURGE,
    PG_RATE_TAKE,
    /* pg_chat.c */
    PG_THREAD_INSERT,
    PG_THREAD_GET,
    PG_THREAD_UPDATE,
    PG_THREAD_TOUCH,
    PG_THREAD_DELETE,
    PG_THREAD_KEY,
    PG_THREAD_LIST_ASC,
    PG_THREAD_LIST_DESC,
    PG_THREAD_ATTACHMENTS_DELETE,
    PG_THREAD_ITEMS_DELETE,
    PG_ITEM_UPSERT,
    PG_ITEM_UPDATE,
    PG_ITEM_DELETE,
    PG_ITEM_GET,
    PG_ITEM_SEQ,
    PG_ITEM_LIST_ASC,
    PG_ITEM_LIST_DESC,
    PG_ITEM_DELETE_AFTER,
    PG_ATTACHMENT_INSERT,
    PG_ATTACHMENT_GET,
    PG_ATTACHMENT_UPDATE,
    PG_ATTACHMENT_DELETE,
    PG_ATTACHMENT_STALE,
    PG_FEEDBACK_INSERT,
    PG_FEEDBACK_EXPORT,
    /* pg_tasks.c */
    PG_TASK_INSERT,
    PG_TASK_GET,
    PG_TASK_UPDATE,
    PG_TASK_DELETE,
    PG_TASK_KEY,
    PG_TASK_TAGS_DELETE,
    PG_TASK_TAG_INSERT,
    PG_FIXED_COUNT,
    PG_TASK_LIST_FIRST = PG_FIXED_COUNT, /* + variant mask */
    PG_STMT_COUNT = PG_TASK_LIST_FIRST + PG_TASK_LIST_VARIANTS
};

/* Owned by the store thread that opened it; freed by the backend's conn_close. db is NULL while
 * the server is unreachable: the next job past retry_at_us tries to connect again, and every job
 * before that fails at once with ERR_UNAVAILABLE, so an outage costs callers no waiting. */
struct pg_conn {
    PGconn *db;
    char *url; /* owned; the libpq connection URI (never logged: it may hold a password) */
    int statement_timeout_ms;
    const struct logger *log; /* not owned */
    int64_t retry_at_us;      /* monotonic; when a reconnect may be tried */
    int backoff_ms;           /* doubles per failed reconnect, up to PG_BACKOFF_MAX_MS */
    bool prepared[PG_STMT_COUNT];
};

/* Parameters of one statement: values as text (or bytes), NULL for SQL NULL. Integers are
 * formatted into the struct's own buffers, so a params lives on the stack of one operation. */
#define PG_PARAMS_MAX 16
struct pg_params {
    int n;
    const char *values[PG_PARAMS_MAX];
    int lengths[PG_PARAMS_MAX];
    int formats[PG_PARAMS_MAX];
    char ints[PG_PARAMS_MAX][24];
};

void pg__fail(struct store_job *job, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int pg__need_user(struct store_job *job);
int pg__check_limit(struct store_job *job);

/* Appends a parameter: text (NULL binds NULL), text where "" binds NULL, an integer, bytes. */
void pg__p_text(struct pg_params *p, const char *s);
void pg__p_opt(struct pg_params *p, const char *s);
void pg__p_int(struct pg_params *p, int64_t v);
void pg__p_bytes(struct pg_params *p, const void *data, int len);

/* Runs the statement id (prepared from sql on this connection's first use) with p. Returns the
 * result (rows or a command status; the caller PQclear()s it), or NULL with the job failed. */
PGresult *pg__query(struct pg_conn *c, struct store_job *job, enum pg_stmt id, const char *sql,
                    const struct pg_params *p);
/* Runs a statement that returns no rows we read; *changes (if not NULL) gets the rows changed.
 * Returns job->status. */
int pg__exec(struct pg_conn *c, struct store_job *job, enum pg_stmt id, const char *sql,
             const struct pg_params *p, int64_t *changes);

/* Column readers: NULL reads as 0, "" or dflt. copy refuses text longer than the array (ERR_IO). */
int64_t pg__int(const PGresult *r, int row, int col);
int pg__copy(const PGresult *r, int row, int col, char *dst, size_t cap);
char *pg__dup(const PGresult *r, int row, int col, const char *dflt);

/* Inserts the users row of user_id unless it exists. The database-wide seq that orders threads,
 * items and tasks is a SEQUENCE (chatkitd_seq) each INSERT draws from itself: many connections
 * write at once here, and SQLite's counter row would serialize every insert behind the
 * transaction that bumped it last. */
int pg__user_insert(struct pg_conn *c, struct store_job *job, const char *user_id,
                    int64_t created_us);

/* Loads row `row` of r into elem (zeroed; owned strings are heap copies); 0 or ERR_IO. */
typedef int (*pg_row_fn)(const PGresult *r, int row, void *elem);
/* Loads up to limit rows of r (queried with LIMIT limit + 1) into a new array *rows; *has_more
 * says whether a row was left over; limit < 0 takes every row. Clears r. On failure everything
 * loaded is freed (with free_row) and the job is failed. */
int pg__fetch(struct store_job *job, PGresult *r, int limit, size_t elem_size, void **rows,
              size_t *n, bool *has_more, pg_row_fn load, void (*free_row)(void *elem));

/* Operations of pg_chat.c; each runs inside the job's transaction. */
void pg__thread_create(struct pg_conn *c, struct store_job *job);
void pg__thread_get(struct pg_conn *c, struct store_job *job);
void pg__thread_update(struct pg_conn *c, struct store_job *job);
void pg__thread_delete(struct pg_conn *c, struct store_job *job);
void pg__thread_list(struct pg_conn *c, struct store_job *job);
void pg__item_upsert(struct pg_conn *c, struct store_job *job);
void pg__item_update(struct pg_conn *c, struct store_job *job);
void pg__item_delete(struct pg_conn *c, struct store_job *job);
void pg__item_get(struct pg_conn *c, struct store_job *job);
void pg__item_list(struct pg_conn *c, struct store_job *job);
void pg__item_delete_after(struct pg_conn *c, struct store_job *job);
void pg__attachment_create(struct pg_conn *c, struct store_job *job);
void pg__attachment_get(struct pg_conn *c, struct store_job *job);
void pg__attachment_update(struct pg_conn *c, struct store_job *job);
void pg__attachment_delete(struct pg_conn *c, struct store_job *job);
void pg__attachment_stale(struct pg_conn *c, struct store_job *job);
void pg__feedback_add(struct pg_conn *c, struct store_job *job);
void pg__feedback_export(struct pg_conn *c, struct store_job *job);

/* Operations of pg_tasks.c. */
void pg__task_create(struct pg_conn *c, struct store_job *job);
void pg__task_get(struct pg_conn *c, struct store_job *job);
void pg__task_update(struct pg_conn *c, struct store_job *job);
void pg__task_delete(struct pg_conn *c, struct store_job *job);
void pg__task_list(struct pg_conn *c, struct store_job *job);

#endif
