/* sqlite_internal.h - what the files of the SQLite backend share (internal to src/store/).
 *
 * sqlite.c owns the connection, the statement cache, the per-job transaction and the dispatch
 * from an operation to its function; sqlite_chat.c (threads, items, attachments, feedback) and
 * sqlite_tasks.c (tasks) implement operations with the helpers below. Every helper that can fail
 * records the failure on the job (status and message) so an operation only has to stop.
 */
#ifndef CHATKITD_STORE_SQLITE_INTERNAL_H
#define CHATKITD_STORE_SQLITE_INTERNAL_H

#include "store/store.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* TASK_LIST builds its WHERE clause from the filters in use; each combination (a bit mask, see
 * sqlite_tasks.c) is prepared once per connection in its own cache slot. */
#define SQLITE_TASK_LIST_VARIANTS 256

/* Every cached statement of every file. Each file keeps the SQL of its own ids in a table
 * indexed by this enum, so an id can never be prepared with another statement's text. */
enum sqlite_stmt {
    /* sqlite.c */
    ST_BEGIN,
    ST_BEGIN_IMMEDIATE,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST_PING,
    ST_USER_INSERT,
    ST_NEXT_SEQ,
    ST_SESSION_INSERT,
    ST_SESSION_BY_SECRET,
    ST_SESSION_GET,
    ST_SESSION_CANCEL,
    ST_SESSION_PURGE,
    /* sqlite_chat.c */
    ST_THREAD_INSERT,
    ST_THREAD_GET,
    ST_THREAD_UPDATE,
    ST_THREAD_TOUCH,
    ST_THREAD_DELETE,
    ST_THREAD_KEY,
    ST_THREAD_LIST_ASC,
    ST_THREAD_LIST_DESC,
    ST_THREAD_ATTACHMENTS_DELETE,
    ST_THREAD_ITEMS_DELETE,
    ST_ITEM_UPSERT,
    ST_ITEM_UPDATE,
    ST_ITEM_DELETE,
    ST_ITEM_GET,
    ST_ITEM_SEQ,
    ST_ITEM_LIST_ASC,
    ST_ITEM_LIST_DESC,
    ST_ITEM_DELETE_AFTER,
    ST_ATTACHMENT_INSERT,
    ST_ATTACHMENT_GET,
    ST_ATTACHMENT_UPDATE,
    ST_ATTACHMENT_DELETE,
    ST_ATTACHMENT_STALE,
    ST_FEEDBACK_INSERT,
    ST_FEEDBACK_EXPORT,
    /* sqlite_tasks.c */
    ST_TASK_INSERT,
    ST_TASK_GET,
    ST_TASK_UPDATE,
    ST_TASK_DELETE,
    ST_TASK_KEY,
    ST_TASK_TAGS_DELETE,
    ST_TASK_TAG_INSERT,
    ST_FIXED_COUNT,
    ST_TASK_LIST_FIRST = ST_FIXED_COUNT, /* + variant mask */
    ST_COUNT = ST_TASK_LIST_FIRST + SQLITE_TASK_LIST_VARIANTS
};

/* Owned by the store thread that opened it; freed by the backend's conn_close. */
struct sqlite_conn {
    sqlite3 *db;
    char *path; /* owned; for ping and messages */
    bool writer;
    dev_t dev; /* identity of the file opened, so ping notices a replaced file */
    ino_t ino;
    sqlite3_stmt *stmts[ST_COUNT]; /* prepared on first use */
};

/* Failures: status and a message on the job. fail_rc maps a SQLite code (BUSY is
 * ERR_UNAVAILABLE, a duplicate key ERR_EXISTS, the rest ERR_IO) and must run before the
 * statement is reset, which may replace the connection's message. */
void sqlite__fail(struct store_job *job, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sqlite__fail_rc(struct sqlite_conn *c, struct store_job *job, int rc);
int sqlite__map_rc(int rc);

/* The cached statement id, prepared from sql on first use; NULL with the job failed when
 * preparing fails. The statement comes back reset with no bindings. */
sqlite3_stmt *sqlite__stmt(struct sqlite_conn *c, struct store_job *job, enum sqlite_stmt id,
                           const char *sql);
/* Resets st and clears its bindings, so no row or lock outlives the job. */
void sqlite__stmt_done(sqlite3_stmt *st);
/* Steps a statement that returns no rows, then resets it; *changes (if not NULL) gets the rows
 * it changed. Returns job->status. */
int sqlite__exec(struct sqlite_conn *c, struct store_job *job, sqlite3_stmt *st, int64_t *changes);
/* Steps once: 1 on a row, 0 at the end, -1 with the job failed. The caller resets st. */
int sqlite__step(struct sqlite_conn *c, struct store_job *job, sqlite3_stmt *st);

/* Binds the text of a fixed array (at most cap bytes); bind_opt binds NULL for "" or NULL. */
void sqlite__bind_text(sqlite3_stmt *st, int i, const char *s, size_t cap);
void sqlite__bind_opt(sqlite3_stmt *st, int i, const char *s, size_t cap);
/* Copies a TEXT column into a fixed array; NULL gives "". Text longer than the array can only
 * come from a database edited by hand, and is refused (ERR_IO) rather than cut. */
int sqlite__column_copy(sqlite3_stmt *st, int col, char *dst, size_t cap);
/* A heap copy of a TEXT column; a NULL column gives a copy of dflt, or NULL when dflt is NULL. */
char *sqlite__column_dup(sqlite3_stmt *st, int col, const char *dflt);

/* Inserts the users row of user_id unless it exists. */
int sqlite__user_insert(struct sqlite_conn *c, struct store_job *job, const char *user_id,
                        int64_t created_us);
/* The next value of the database-wide sequence that orders threads, items and tasks. */
int sqlite__next_seq(struct sqlite_conn *c, struct store_job *job, int64_t *seq);
/* Fails the job with ERR_INVALID unless job->user_id is set (user-scoped ops). */
int sqlite__need_user(struct store_job *job);
/* Fails the job with ERR_INVALID unless 1 <= job->page.limit <= STORE_PAGE_MAX. */
int sqlite__check_limit(struct store_job *job);

/* Loads one row of a page into elem (zeroed; owned strings are heap copies); 0 or ERR_IO. */
typedef int (*sqlite_row_fn)(sqlite3_stmt *st, void *elem);
/* Steps st, whose LIMIT is bound to limit + 1, appending up to limit rows of elem_size bytes to
 * the growing array *rows with load; *n counts them and *has_more says whether another row
 * followed. A limit < 0 reads every row. On failure everything loaded is freed again (with
 * free_row) and the job is failed. Resets st. */
int sqlite__fetch(struct sqlite_conn *c, struct store_job *job, sqlite3_stmt *st, int limit,
                  size_t elem_size, void **rows, size_t *n, bool *has_more, sqlite_row_fn load,
                  void (*free_row)(void *elem));

/* Operations of sqlite_chat.c; each runs inside the job's transaction. */
void sqlite__thread_create(struct sqlite_conn *c, struct store_job *job);
void sqlite__thread_get(struct sqlite_conn *c, struct store_job *job);
void sqlite__thread_update(struct sqlite_conn *c, struct store_job *job);
void sqlite__thread_delete(struct sqlite_conn *c, struct store_job *job);
void sqlite__thread_list(struct sqlite_conn *c, struct store_job *job);
void sqlite__item_upsert(struct sqlite_conn *c, struct store_job *job);
void sqlite__item_update(struct sqlite_conn *c, struct store_job *job);
void sqlite__item_delete(struct sqlite_conn *c, struct store_job *job);
void sqlite__item_get(struct sqlite_conn *c, struct store_job *job);
void sqlite__item_list(struct sqlite_conn *c, struct store_job *job);
void sqlite__item_delete_after(struct sqlite_conn *c, struct store_job *job);
void sqlite__attachment_create(struct sqlite_conn *c, struct store_job *job);
void sqlite__attachment_get(struct sqlite_conn *c, struct store_job *job);
void sqlite__attachment_update(struct sqlite_conn *c, struct store_job *job);
void sqlite__attachment_delete(struct sqlite_conn *c, struct store_job *job);
void sqlite__attachment_stale(struct sqlite_conn *c, struct store_job *job);
void sqlite__feedback_add(struct sqlite_conn *c, struct store_job *job);
void sqlite__feedback_export(struct sqlite_conn *c, struct store_job *job);

/* Operations of sqlite_tasks.c. */
void sqlite__task_create(struct sqlite_conn *c, struct store_job *job);
void sqlite__task_get(struct sqlite_conn *c, struct store_job *job);
void sqlite__task_update(struct sqlite_conn *c, struct store_job *job);
void sqlite__task_delete(struct sqlite_conn *c, struct store_job *job);
void sqlite__task_list(struct sqlite_conn *c, struct store_job *job);

#endif
