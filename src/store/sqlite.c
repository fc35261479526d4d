/* sqlite.c - the SQLite backend of the store: connections, statements, transactions, dispatch.
 *
 * One connection per store thread, opened on that thread with SQLITE_OPEN_NOMUTEX: the store
 * guarantees a connection is only ever used by the thread that opened it, so SQLite's own
 * per-connection mutex would be pure overhead. The single writer connection puts the database in
 * WAL mode, which lets the read-only reader connections run while a write is in progress.
 *
 * Statements are prepared lazily, once per connection, and cached in conn->stmts; after every use
 * they are reset and their bindings cleared so no row or lock outlives the job. The operations on
 * sessions live here; threads, items, attachments and feedback are in sqlite_chat.c, tasks in
 * sqlite_tasks.c (shared helpers in sqlite_internal.h).
 */
#include "store/backend.h"
#include "store/migrations.h"
#include "store/sqlite_internal.h"

#include "core/clock.h"
#include "core/err.h"
#include "core/xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* The column order load_session() reads. */
#define SESSION_COLUMNS                                                                            \
    "id, secret_hash, user_id, workflow_id, workflow_version, state_variables, config, "           \
    "rate_per_min, origin, tracing, created_us, expires_at, cancelled_us"

static const char *const stmt_sql[ST_FIXED_COUNT] = {
    [ST_BEGIN] = "BEGIN",
    [ST_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT job",
    [ST_RELEASE] = "RELEASE job",
    [ST_ROLLBACK_TO] = "ROLLBACK TO job",
    [ST_PING] = "SELECT max(version) FROM schema_migrations",
    /* ON CONFLICT DO NOTHING rather than INSERT OR IGNORE: it only skips the duplicate key (OR
     * IGNORE would also swallow NOT NULL failures) and PostgreSQL accepts the same text. */
    [ST_USER_INSERT] = "INSERT INTO users (id, created_us) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    /* PostgreSQL will use a SEQUENCE (nextval) instead of this one-row counter. */
    [ST_NEXT_SEQ] = "UPDATE counters SET value = value + 1 WHERE name = 'seq' RETURNING value",
    [ST_SESSION_INSERT] = ("INSERT INTO sessions (" SESSION_COLUMNS ") "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"),
    [ST_SESSION_BY_SECRET] = "SELECT " SESSION_COLUMNS " FROM sessions WHERE secret_hash = ?1",
    [ST_SESSION_GET] = "SELECT " SESSION_COLUMNS " FROM sessions WHERE id = ?1",
    [ST_SESSION_CANCEL] =
        "UPDATE sessions SET cancelled_us = ?1 WHERE id = ?2 AND cancelled_us IS NULL",
    [ST_SESSION_PURGE] = "DELETE FROM sessions WHERE expires_at < ?1",
};

/* BUSY and LOCKED mean another connection holds the lock past busy_timeout: a transient
 * condition the caller may retry, unlike a broken file or a full disk. */
int sqlite__map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return ERR_UNAVAILABLE;
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
            return ERR_EXISTS;
        return ERR_IO;
    default:
        return ERR_IO;
    }
}

/* The operation's name says where it failed; SQLite's message says why. */
void sqlite__fail_rc(struct sqlite_conn *c, struct store_job *job, int rc)
{
    job->status = sqlite__map_rc(rc);
    snprintf(job->error, sizeof job->error, "%s: %s", store_op_name(job->op),
             sqlite3_errmsg(c->db));
}

void sqlite__fail(struct store_job *job, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    job->status = status;
    vsnprintf(job->error, sizeof job->error, fmt, ap);
    va_end(ap);
}

static int stmt_prepare(struct sqlite_conn *c, enum sqlite_stmt id, const char *sql,
                        sqlite3_stmt **out)
{
    if (!c->stmts[id]) {
        int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->stmts[id], NULL);
        if (rc != SQLITE_OK) {
            c->stmts[id] = NULL;
            return rc;
        }
    }
    *out = c->stmts[id];
    return SQLITE_OK;
}

sqlite3_stmt *sqlite__stmt(struct sqlite_conn *c, struct store_job *job, enum sqlite_stmt id,
                           const char *sql)
{
    sqlite3_stmt *st;
    int rc = stmt_prepare(c, id, sql, &st);
    if (rc != SQLITE_OK) {
        sqlite__fail_rc(c, job, rc);
        return NULL;
    }
    return st;
}

static sqlite3_stmt *stmt(struct sqlite_conn *c, struct store_job *job, enum sqlite_stmt id)
{
    return sqlite__stmt(c, job, id, stmt_sql[id]);
}

void sqlite__stmt_done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

int sqlite__exec(struct sqlite_conn *c, struct store_job *job, sqlite3_stmt *st, int64_t *changes)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        if (changes)
            *changes = sqlite3_changes64(c->db);
    } else {
        sqlite__fail_rc(c, job, rc);
    }
    sqlite__stmt_done(st);
    return job->status;
}

int sqlite__step(struct sqlite_conn *c, struct store_job *job, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    sqlite__fail_rc(c, job, rc);
    return -1;
}

/* Runs a statement that returns no rows (BEGIN, COMMIT, ROLLBACK). job may be NULL when a
 * failure has nowhere to go (the ROLLBACK after a failure). */
static int exec_cached(struct sqlite_conn *c, enum sqlite_stmt id, struct store_job *job)
{
    sqlite3_stmt *st;
    int rc = stmt_prepare(c, id, stmt_sql[id], &st);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK && job) {
        job->status = sqlite__map_rc(rc);
        snprintf(job->error, sizeof job->error, "%s: %s", stmt_sql[id], sqlite3_errmsg(c->db));
    }
    if (c->stmts[id])
        sqlite__stmt_done(c->stmts[id]);
    return rc;
}

void sqlite__bind_text(sqlite3_stmt *st, int i, const char *s, size_t cap)
{
    sqlite3_bind_text(st, i, s, (int)strnlen(s, cap), SQLITE_STATIC);
}

void sqlite__bind_opt(sqlite3_stmt *st, int i, const char *s, size_t cap)
{
    if (s && s[0])
        sqlite__bind_text(st, i, s, cap);
    else
        sqlite3_bind_null(st, i);
}

int sqlite__column_copy(sqlite3_stmt *st, int col, char *dst, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    if (!t) {
        dst[0] = '\0';
        return 0;
    }
    if (n >= cap)
        return ERR_IO;
    memcpy(dst, t, n);
    dst[n] = '\0';
    return 0;
}

char *sqlite__column_dup(sqlite3_stmt *st, int col, const char *dflt)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    if (!t)
        return dflt ? xstrdup(dflt) : NULL;
    return xstrndup((const char *)t, (size_t)sqlite3_column_bytes(st, col));
}

int sqlite__user_insert(struct sqlite_conn *c, struct store_job *job, const char *user_id,
                        int64_t created_us)
{
    sqlite3_stmt *st = stmt(c, job, ST_USER_INSERT);
    if (!st)
        return job->status;
    sqlite__bind_text(st, 1, user_id, STORE_USER_ID_MAX);
    sqlite3_bind_int64(st, 2, created_us);
    return sqlite__exec(c, job, st, NULL);
}

/* One counter row bumped inside the writer's transaction: the single writer makes it race-free,
 * and unlike max(seq) + 1 a value is never handed out twice, even after the newest row was
 * deleted. The RETURNING row is produced by the first step, where the update happens. */
int sqlite__next_seq(struct sqlite_conn *c, struct store_job *job, int64_t *seq)
{
    sqlite3_stmt *st = stmt(c, job, ST_NEXT_SEQ);
    if (!st)
        return job->status;
    int r = sqlite__step(c, job, st);
    if (r == 1)
        *seq = sqlite3_column_int64(st, 0);
    else if (r == 0)
        sqlite__fail(job, ERR_IO, "the sequence counter row is missing");
    sqlite__stmt_done(st);
    return job->status;
}

int sqlite__need_user(struct store_job *job)
{
    if (!job->user_id[0])
        sqlite__fail(job, ERR_INVALID, "%s needs a user id", store_op_name(job->op));
    return job->status;
}

int sqlite__check_limit(struct store_job *job)
{
    if (job->page.limit < 1 || job->page.limit > STORE_PAGE_MAX)
        sqlite__fail(job, ERR_INVALID, "page limit must be 1..%d, not %d", STORE_PAGE_MAX,
                     job->page.limit);
    return job->status;
}

/* Grows the array geometrically from a small start rather than allocating limit rows up front:
 * most pages are short, and a row can be close to a kilobyte. */
static void *rows_grow(void *rows, size_t *cap, size_t n, size_t elem_size)
{
    if (n < *cap)
        return rows;
    size_t ncap = *cap ? *cap * 2 : 16;
    rows = xrealloc(rows, ncap * elem_size);
    memset((char *)rows + n * elem_size, 0, (ncap - n) * elem_size);
    *cap = ncap;
    return rows;
}

int sqlite__fetch(struct sqlite_conn *c, struct store_job *job, sqlite3_stmt *st, int limit,
                  size_t elem_size, void **rows, size_t *n, bool *has_more, sqlite_row_fn load,
                  void (*free_row)(void *elem))
{
    void *arr = NULL;
    size_t count = 0, cap = 0;
    bool more = false;
    int r;
    while ((r = sqlite__step(c, job, st)) == 1) {
        if (limit >= 0 && count == (size_t)limit) {
            more = true;
            break;
        }
        arr = rows_grow(arr, &cap, count, elem_size);
        if (load(st, (char *)arr + count * elem_size)) {
            free_row((char *)arr + count * elem_size);
            sqlite__fail(job, ERR_IO, "%s: malformed row", store_op_name(job->op));
            break;
        }
        count++;
    }
    sqlite__stmt_done(st);
    if (job->status) {
        for (size_t i = 0; i < count; i++)
            free_row((char *)arr + i * elem_size);
        free(arr);
        return job->status;
    }
    *rows = arr;
    *n = count;
    *has_more = more;
    return 0;
}

/* Loads the row st is positioned on into job->session, replacing (and freeing) what was there.
 * A malformed row fails the job and leaves job->session as it was. */
static void load_session(sqlite3_stmt *st, struct store_job *job)
{
    struct store_session s;
    memset(&s, 0, sizeof s);
    const void *hash = sqlite3_column_blob(st, 1);
    if (sqlite__column_copy(st, 0, s.id, sizeof s.id) ||
        sqlite__column_copy(st, 2, s.user_id, sizeof s.user_id) ||
        sqlite__column_copy(st, 3, s.workflow_id, sizeof s.workflow_id) ||
        sqlite__column_copy(st, 4, s.workflow_version, sizeof s.workflow_version) || !hash ||
        sqlite3_column_bytes(st, 1) != STORE_HASH_LEN) {
        const unsigned char *id = sqlite3_column_text(st, 0);
        sqlite__fail(job, ERR_IO, "malformed sessions row %.60s", id ? (const char *)id : "(null)");
        return;
    }
    memcpy(s.secret_hash, hash, STORE_HASH_LEN);
    s.rate_per_min = sqlite3_column_int(st, 7);
    s.origin = sqlite3_column_int(st, 8);
    s.tracing = sqlite3_column_int(st, 9) != 0;
    s.created_us = sqlite3_column_int64(st, 10);
    s.expires_at = sqlite3_column_int64(st, 11);
    s.cancelled_us = sqlite3_column_int64(st, 12); /* NULL reads as 0, "not cancelled" */
    s.state_variables_json = sqlite__column_dup(st, 5, "{}");
    s.config_json = sqlite__column_dup(st, 6, "{}");

    free(job->session.state_variables_json);
    free(job->session.config_json);
    job->session = s;
}

/* Steps a SELECT of SESSION_COLUMNS whose key is already bound, loading the row on a hit. */
static void select_session(struct sqlite_conn *c, sqlite3_stmt *st, struct store_job *job)
{
    int r = sqlite__step(c, job, st);
    if (r == 1)
        load_session(st, job);
    else if (r == 0)
        sqlite__fail(job, ERR_NOT_FOUND, "no such session");
    sqlite__stmt_done(st);
}

/* A deleted database file is a real outage even though our open descriptors keep working: every
 * write from now on lands in an orphaned inode and vanishes at the next restart. So the ping
 * checks the path still names the file we opened, then does a real query. */
static void op_ping(struct sqlite_conn *c, struct store_job *job)
{
    struct stat sb;
    if (stat(c->path, &sb) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            sqlite__fail(job, ERR_IO, "database file %s is missing", c->path);
        else
            sqlite__fail(job, ERR_IO, "cannot stat database file %s: %s", c->path,
                         uv_strerror(uv_translate_sys_error(errno)));
        return;
    }
    if (sb.st_dev != c->dev || sb.st_ino != c->ino) {
        sqlite__fail(job, ERR_IO, "database file %s was replaced by another file", c->path);
        return;
    }
    sqlite3_stmt *st = stmt(c, job, ST_PING);
    if (!st)
        return;
    if (sqlite__step(c, job, st) == 0)
        sqlite__fail(job, ERR_IO, "ping: no row");
    sqlite__stmt_done(st);
}

static void op_session_create(struct sqlite_conn *c, struct store_job *job)
{
    const struct store_session *s = &job->session;
    if (!s->id[0] || !s->user_id[0] || !s->workflow_id[0]) {
        sqlite__fail(job, ERR_INVALID, "session id, user id and workflow id are required");
        return;
    }
    if (sqlite__user_insert(c, job, s->user_id, s->created_us))
        return;
    sqlite3_stmt *st = stmt(c, job, ST_SESSION_INSERT);
    if (!st)
        return;
    const char *vars = s->state_variables_json ? s->state_variables_json : "{}";
    const char *config = s->config_json ? s->config_json : "{}";
    sqlite__bind_text(st, 1, s->id, sizeof s->id);
    sqlite3_bind_blob(st, 2, s->secret_hash, STORE_HASH_LEN, SQLITE_STATIC);
    sqlite__bind_text(st, 3, s->user_id, sizeof s->user_id);
    sqlite__bind_text(st, 4, s->workflow_id, sizeof s->workflow_id);
    sqlite__bind_opt(st, 5, s->workflow_version, sizeof s->workflow_version);
    sqlite3_bind_text(st, 6, vars, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, config, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 8, s->rate_per_min);
    sqlite3_bind_int(st, 9, s->origin);
    sqlite3_bind_int(st, 10, s->tracing ? 1 : 0);
    sqlite3_bind_int64(st, 11, s->created_us);
    sqlite3_bind_int64(st, 12, s->expires_at);
    if (s->cancelled_us)
        sqlite3_bind_int64(st, 13, s->cancelled_us);
    else
        sqlite3_bind_null(st, 13);
    sqlite__exec(c, job, st, &job->affected);
}

static void op_session_by_secret(struct sqlite_conn *c, struct store_job *job)
{
    sqlite3_stmt *st = stmt(c, job, ST_SESSION_BY_SECRET);
    if (!st)
        return;
    sqlite3_bind_blob(st, 1, job->session.secret_hash, STORE_HASH_LEN, SQLITE_STATIC);
    select_session(c, st, job);
}

static void op_session_get(struct sqlite_conn *c, struct store_job *job)
{
    sqlite3_stmt *st = stmt(c, job, ST_SESSION_GET);
    if (!st)
        return;
    sqlite__bind_text(st, 1, job->session.id, sizeof job->session.id);
    select_session(c, st, job);
}

/* Cancelling is idempotent: only the first cancel stamps the time, later ones change nothing
 * (affected 0) and report the session as it is. */
static void op_session_cancel(struct sqlite_conn *c, struct store_job *job)
{
    if (job->session.cancelled_us <= 0) {
        sqlite__fail(job, ERR_INVALID, "cancel needs a positive cancelled_us");
        return;
    }
    sqlite3_stmt *st = stmt(c, job, ST_SESSION_CANCEL);
    if (!st)
        return;
    sqlite3_bind_int64(st, 1, job->session.cancelled_us);
    sqlite__bind_text(st, 2, job->session.id, sizeof job->session.id);
    if (sqlite__exec(c, job, st, &job->affected) == 0)
        op_session_get(c, job);
}

static void op_session_purge(struct sqlite_conn *c, struct store_job *job)
{
    sqlite3_stmt *st = stmt(c, job, ST_SESSION_PURGE);
    if (!st)
        return;
    sqlite3_bind_int64(st, 1, job->purge_before_s);
    sqlite__exec(c, job, st, &job->affected);
}

typedef void (*op_fn)(struct sqlite_conn *c, struct store_job *job);

static const op_fn ops[STORE_OP_COUNT] = {
    [STORE_PING] = op_ping,
    [STORE_SESSION_CREATE] = op_session_create,
    [STORE_SESSION_BY_SECRET] = op_session_by_secret,
    [STORE_SESSION_GET] = op_session_get,
    [STORE_SESSION_CANCEL] = op_session_cancel,
    [STORE_SESSION_PURGE] = op_session_purge,
    [STORE_THREAD_CREATE] = sqlite__thread_create,
    [STORE_THREAD_GET] = sqlite__thread_get,
    [STORE_THREAD_UPDATE] = sqlite__thread_update,
    [STORE_THREAD_DELETE] = sqlite__thread_delete,
    [STORE_THREAD_LIST] = sqlite__thread_list,
    [STORE_ITEM_UPSERT] = sqlite__item_upsert,
    [STORE_ITEM_UPDATE] = sqlite__item_update,
    [STORE_ITEM_DELETE] = sqlite__item_delete,
    [STORE_ITEM_GET] = sqlite__item_get,
    [STORE_ITEM_LIST] = sqlite__item_list,
    [STORE_ITEM_DELETE_AFTER] = sqlite__item_delete_after,
    [STORE_ATTACHMENT_CREATE] = sqlite__attachment_create,
    [STORE_ATTACHMENT_GET] = sqlite__attachment_get,
    [STORE_ATTACHMENT_UPDATE] = sqlite__attachment_update,
    [STORE_ATTACHMENT_DELETE] = sqlite__attachment_delete,
    [STORE_ATTACHMENT_STALE] = sqlite__attachment_stale,
    [STORE_FEEDBACK_ADD] = sqlite__feedback_add,
    [STORE_FEEDBACK_EXPORT] = sqlite__feedback_export,
    [STORE_TASK_CREATE] = sqlite__task_create,
    [STORE_TASK_GET] = sqlite__task_get,
    [STORE_TASK_UPDATE] = sqlite__task_update,
    [STORE_TASK_DELETE] = sqlite__task_delete,
    [STORE_TASK_LIST] = sqlite__task_list,
};

/* Every job is one transaction. The writer takes the write lock up front (IMMEDIATE) so a
 * lock conflict surfaces at BEGIN, where busy_timeout applies, instead of as an unretryable
 * upgrade failure halfway through. Readers use a deferred BEGIN so that a multi-statement read
 * (resolve a cursor, then read the page) sees one snapshot. */
static void sqlite_run(void *conn, struct store_job *job)
{
    struct sqlite_conn *c = conn;
    job->status = 0;
    job->error[0] = '\0';
    job->affected = 0;

    if ((unsigned)job->op >= STORE_OP_COUNT || !ops[job->op]) {
        sqlite__fail(job, ERR_INVALID, "unknown store operation %d", (int)job->op);
        return;
    }
    if (exec_cached(c, c->writer ? ST_BEGIN_IMMEDIATE : ST_BEGIN, job) != SQLITE_OK)
        return;
    ops[job->op](c, job);
    if (job->status == 0)
        exec_cached(c, ST_COMMIT, job);
    /* After a failure, including a failed COMMIT, the transaction may still be open; it must
     * not leak into the next job. */
    if (!sqlite3_get_autocommit(c->db))
        exec_cached(c, ST_ROLLBACK, NULL);
}

/* Group commit: the writer runs every write queued at once in one transaction, each job in its
 * own savepoint so a failing job is undone alone. Each commit costs WAL frames, locks and
 * sometimes a sync, so under load this turns many small transactions into one. A job's result
 * only counts once the COMMIT succeeded: if it fails, every job of the batch reports it. */
static void sqlite_run_batch(void *conn, struct store_job **jobs, size_t n)
{
    struct sqlite_conn *c = conn;
    struct store_job *first = jobs[0];
    if (exec_cached(c, ST_BEGIN_IMMEDIATE, first) != SQLITE_OK) {
        for (size_t i = 1; i < n; i++) {
            jobs[i]->status = first->status;
            memcpy(jobs[i]->error, first->error, sizeof jobs[i]->error);
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct store_job *job = jobs[i];
        job->status = 0;
        job->error[0] = '\0';
        job->affected = 0;
        if ((unsigned)job->op >= STORE_OP_COUNT || !ops[job->op]) {
            sqlite__fail(job, ERR_INVALID, "unknown store operation %d", (int)job->op);
            continue;
        }
        if (exec_cached(c, ST_SAVEPOINT, job) != SQLITE_OK)
            continue;
        ops[job->op](c, job);
        if (job->status)
            exec_cached(c, ST_ROLLBACK_TO, NULL);
        exec_cached(c, ST_RELEASE, NULL);
    }
    struct store_job commit = {0};
    if (exec_cached(c, ST_COMMIT, &commit) != SQLITE_OK) {
        for (size_t i = 0; i < n; i++) {
            if (jobs[i]->status == 0) {
                jobs[i]->status = commit.status;
                memcpy(jobs[i]->error, commit.error, sizeof jobs[i]->error);
            }
        }
    }
    if (!sqlite3_get_autocommit(c->db))
        exec_cached(c, ST_ROLLBACK, NULL);
}

static int exec_pragma(sqlite3 *db, const char *sql, const char *path, char *err, size_t errlen)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "database %s: %s: %s", path, sql, sqlite3_errmsg(db));
        return sqlite__map_rc(rc);
    }
    return 0;
}

static int journal_mode_cb(void *arg, int ncols, char **values, char **names)
{
    (void)names;
    if (ncols > 0 && values[0])
        *(bool *)arg = strcasecmp(values[0], "wal") == 0;
    return 0;
}

static void sqlite_conn_close(void *conn)
{
    struct sqlite_conn *c = conn;
    if (!c)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(c->stmts[i]);
    sqlite3_close(c->db);
    free(c->path);
    free(c);
}

/* cfg->url is the bare file path here: store.c strips the scheme before calling a backend. */
static int sqlite_conn_open(const struct store_config *cfg, bool writer, void **out, char *err,
                            size_t errlen)
{
    *out = NULL;
    struct sqlite_conn *c = xcalloc(1, sizeof *c);
    c->path = xstrdup(cfg->url);
    c->writer = writer;

    int flags = SQLITE_OPEN_NOMUTEX;
    flags |= writer ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;
    int rc = sqlite3_open_v2(c->path, &c->db, flags, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open database %s: %s", c->path,
                 c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        sqlite_conn_close(c);
        return ERR_IO;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, cfg->busy_timeout_ms);

    int ret = 0;
    if (writer) {
        /* The first statement that reads the file: a path that is not a database fails here. */
        bool wal = false;
        rc = sqlite3_exec(c->db, "PRAGMA journal_mode=WAL", journal_mode_cb, &wal, NULL);
        if (rc != SQLITE_OK) {
            snprintf(err, errlen, "cannot open database %s: %s", c->path, sqlite3_errmsg(c->db));
            ret = sqlite__map_rc(rc);
        } else if (!wal) {
            /* Still correct, only slower: readers then wait for writers. */
            log_warn(cfg->log, "database %s: WAL journal mode unavailable, readers will block",
                     c->path);
        }
    }
    if (!ret)
        ret = exec_pragma(c->db, "PRAGMA synchronous=NORMAL", c->path, err, errlen);
    if (!ret)
        ret = exec_pragma(c->db, "PRAGMA foreign_keys=ON", c->path, err, errlen);
    if (!ret && cfg->cache_kib > 0) {
        char pragma[48];
        snprintf(pragma, sizeof pragma, "PRAGMA cache_size=-%d", cfg->cache_kib);
        ret = exec_pragma(c->db, pragma, c->path, err, errlen);
    }
    if (!ret) {
        struct stat sb;
        if (stat(c->path, &sb) != 0) {
            snprintf(err, errlen, "database file %s is missing", c->path);
            ret = ERR_IO;
        } else {
            c->dev = sb.st_dev;
            c->ino = sb.st_ino;
        }
    }
    if (ret) {
        sqlite_conn_close(c);
        return ret;
    }
    *out = c;
    return 0;
}

static int schema_version(sqlite3 *db, int *version)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) FROM schema_migrations", -1,
                                &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *version = sqlite3_column_int(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Applies one migration in its own transaction. The version is checked again inside the
 * transaction: another process (a second `chatkitd migrate`) may have applied it since we
 * looked, and BEGIN IMMEDIATE serializes us behind it. *done says whether we applied it. */
static int apply_one(void *conn, const struct migration *m, bool *done, char *err, size_t errlen)
{
    struct sqlite_conn *c = conn;
    *done = false;
    sqlite3_stmt *st = NULL;
    int current = 0;
    int rc = sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = schema_version(c->db, &current);
    if (rc == SQLITE_OK && current >= m->version)
        goto commit;
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(c->db, m->sql, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(c->db,
                                "INSERT INTO schema_migrations (version, name, applied_us) "
                                "VALUES (?1, ?2, ?3)",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int(st, 1, m->version);
        sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, clock_wall_us());
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    *done = rc == SQLITE_OK;
commit:
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        return 0;
    /* The message first: ROLLBACK replaces the connection's error text. */
    *done = false;
    snprintf(err, errlen, "database %s: migration %d %s failed: %s", c->path, m->version, m->name,
             sqlite3_errmsg(c->db));
    if (!sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    return sqlite__map_rc(rc);
}

/* Brings the schema up to migrations_latest(). A database from a newer chatkitd is refused
 * outright: this binary would misread tables it does not know, and a downgrade is not
 * something to discover through corrupted rows. */
static int sqlite_migrate(void *conn, const struct logger *log, int *applied, char *err,
                          size_t errlen)
{
    struct sqlite_conn *c = conn;
    if (applied)
        *applied = 0;

    int current = 0;
    int rc = sqlite3_exec(c->db, migrations_table_sql, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = schema_version(c->db, &current);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "database %s: cannot read the schema version: %s", c->path,
                 sqlite3_errmsg(c->db));
        return sqlite__map_rc(rc);
    }
    return migrations_apply(c, current, apply_one, log, applied, err, errlen);
}

/* Only possible before SQLite initializes itself (the first open); later it returns
 * SQLITE_MISUSE and changes nothing, which is what store.h promises. */
static void sqlite_process_init(void)
{
    sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);
}

const struct store_backend store_backend_sqlite = {
    .name = "sqlite",
    .process_init = sqlite_process_init,
    .conn_open = sqlite_conn_open,
    .conn_close = sqlite_conn_close,
    .run = sqlite_run,
    .run_batch = sqlite_run_batch,
    .migrate = sqlite_migrate,
};
