/* pg.c - the PostgreSQL backend of the store: connections, statements, transactions, dispatch.
 *
 * Every store thread owns one libpq connection (a pool of cfg->pool_size), and every job is one
 * transaction on it, run with blocking libpq calls: the store threads exist precisely so the
 * loop never waits on the database. Statements are prepared once per connection, on first use,
 * under a name derived from their id.
 *
 * Outages: a connection that breaks is dropped, and the job fails with ERR_UNAVAILABLE. The next
 * job tries to reconnect; while the server stays unreachable, attempts are spaced by a doubling
 * backoff (100 ms to 5 s) and every job in between fails at once, so callers get a fast 503
 * instead of waiting on a connect timeout. A statement timeout bounds every statement, so a slow
 * query never holds a store thread for longer than that.
 */
#include "store/backend.h"
#include "store/migrations.h"
#include "store/pg_internal.h"
#include "store/pq_lazy.h"

#include "core/clock.h"
#include "core/err.h"
#include "core/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PG_BACKOFF_MIN_MS    100
#define PG_BACKOFF_MAX_MS    5000
#define PG_CONNECT_TIMEOUT_S "3"
#define PG_BATCH_MAX         64
/* A rate bucket is worth no disk flush: losing its last update in a database crash only returns
 * a few tokens, and the flush would double the commits a request waits for. */
#define RATE_BEGIN "BEGIN; SET LOCAL synchronous_commit = off"
/* Taken (per transaction) by every migration step, so concurrent replicas migrate one at a
 * time: the value is "ckd_migr" in ASCII. */
#define PG_MIGRATION_LOCK "7163107133580210290"

#define SESSION_COLUMNS                                                                            \
    "id, secret_hash, user_id, workflow_id, workflow_version, state_variables, config, "           \
    "rate_per_min, origin, tracing, created_us, expires_at, cancelled_us"

/* Tokens in the bucket now: what was left plus the refill at rate/min, at most rate. */
#define RATE_AVAILABLE                                                                             \
    "least($2::float8, b.tokens + greatest(0, $3::bigint - b.updated_us) * $2::float8 / 60e6)"

static const char *const stmt_sql[PG_FIXED_COUNT] = {
    [PG_PING] = "SELECT max(version) FROM schema_migrations",
    [PG_USER_INSERT] = "INSERT INTO users (id, created_us) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    [PG_SESSION_INSERT] = ("INSERT INTO sessions (" SESSION_COLUMNS ") "
                           "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"),
    [PG_SESSION_BY_SECRET] = "SELECT " SESSION_COLUMNS " FROM sessions WHERE secret_hash = $1",
    [PG_SESSION_GET] = "SELECT " SESSION_COLUMNS " FROM sessions WHERE id = $1",
    [PG_SESSION_CANCEL] =
        "UPDATE sessions SET cancelled_us = $1 WHERE id = $2 AND cancelled_us IS NULL",
    [PG_SESSION_PURGE] = "DELETE FROM sessions WHERE expires_at < $1",
    [PG_RATE_PURGE] = "DELETE FROM rate_buckets WHERE expires_at < $1",
    /* The refill since the last take, capped at the bucket size, then one token if there is a
     * whole one; the row lock of the upsert serializes replicas taking from one bucket. */
    [PG_RATE_TAKE] =
        "INSERT INTO rate_buckets AS b (session_id, tokens, updated_us, expires_at, allowed) "
        "VALUES ($1, $2::float8 - 1, $3::bigint, $4::bigint, 1) "
        "ON CONFLICT (session_id) DO UPDATE SET "
        "tokens = CASE WHEN " RATE_AVAILABLE " >= 1 THEN " RATE_AVAILABLE " - 1 "
        "ELSE " RATE_AVAILABLE " END, "
        "allowed = CASE WHEN " RATE_AVAILABLE " >= 1 THEN 1 ELSE 0 END, "
        "updated_us = greatest(b.updated_us, $3::bigint), expires_at = $4::bigint "
        "RETURNING allowed, tokens",
};

void pg__fail(struct store_job *job, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    job->status = status;
    vsnprintf(job->error, sizeof job->error, fmt, ap);
    va_end(ap);
}

int pg__need_user(struct store_job *job)
{
    if (!job->user_id[0])
        pg__fail(job, ERR_INVALID, "%s needs a user id", store_op_name(job->op));
    return job->status;
}

int pg__check_limit(struct store_job *job)
{
    if (job->page.limit < 1 || job->page.limit > STORE_PAGE_MAX)
        pg__fail(job, ERR_INVALID, "page limit must be 1..%d, not %d", STORE_PAGE_MAX,
                 job->page.limit);
    return job->status;
}

/* ---- parameters and results ------------------------------------------------------------- */

/* Running out of slots is a programming error in this backend, caught by the unit tests. */
static int p_slot(struct pg_params *p)
{
    if (p->n >= PG_PARAMS_MAX)
        abort();
    return p->n++;
}

void pg__p_text(struct pg_params *p, const char *s)
{
    int i = p_slot(p);
    p->values[i] = s;
    p->lengths[i] = 0;
    p->formats[i] = 0;
}

void pg__p_opt(struct pg_params *p, const char *s)
{
    pg__p_text(p, s && s[0] ? s : NULL);
}

void pg__p_int(struct pg_params *p, int64_t v)
{
    int i = p_slot(p);
    snprintf(p->ints[i], sizeof p->ints[i], "%lld", (long long)v);
    p->values[i] = p->ints[i];
    p->formats[i] = 0;
}

void pg__p_bytes(struct pg_params *p, const void *data, int len)
{
    int i = p_slot(p);
    p->values[i] = data;
    p->lengths[i] = len;
    p->formats[i] = 1;
}

int64_t pg__int(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return 0;
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

int pg__copy(const PGresult *r, int row, int col, char *dst, size_t cap)
{
    if (PQgetisnull(r, row, col)) {
        dst[0] = '\0';
        return 0;
    }
    size_t n = (size_t)PQgetlength(r, row, col);
    if (n >= cap)
        return ERR_IO;
    memcpy(dst, PQgetvalue(r, row, col), n);
    dst[n] = '\0';
    return 0;
}

char *pg__dup(const PGresult *r, int row, int col, const char *dflt)
{
    if (PQgetisnull(r, row, col))
        return dflt ? xstrdup(dflt) : NULL;
    return xstrndup(PQgetvalue(r, row, col), (size_t)PQgetlength(r, row, col));
}

/* ---- connection ------------------------------------------------------------------------- */

static void notice_ignore(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Opens c->db; on failure writes libpq's reason (which never contains the password) to err. */
static int pg_connect(struct pg_conn *c, char *err, size_t errlen)
{
    char options[96];
    snprintf(options, sizeof options, "-c statement_timeout=%d -c client_min_messages=warning",
             c->statement_timeout_ms);
    const char *keys[] = {"dbname", "connect_timeout", "options", "application_name", NULL};
    const char *values[] = {c->url, PG_CONNECT_TIMEOUT_S, options, "chatkitd", NULL};
    memset(c->prepared, 0, sizeof c->prepared);
    c->db = NULL;
    if (pq_lazy_load(err, errlen))
        return ERR_UNAVAILABLE;
    c->db = PQconnectdbParams(keys, values, 1);
    if (!c->db || PQstatus(c->db) != CONNECTION_OK) {
        const char *why = c->db ? PQerrorMessage(c->db) : "out of memory";
        size_t n = strcspn(why, "\n");
        snprintf(err, errlen, "cannot connect to PostgreSQL: %.*s", (int)(n > 200 ? 200 : n), why);
        PQfinish(c->db);
        c->db = NULL;
        return ERR_UNAVAILABLE;
    }
    PQsetNoticeProcessor(c->db, notice_ignore, NULL);
    return 0;
}

static void pg_conn_close(void *conn)
{
    struct pg_conn *c = conn;
    if (!c)
        return;
    PQfinish(c->db);
    free(c->url);
    free(c);
}

/* writer is irrelevant here: every pooled connection reads and writes. */
static int pg_conn_open(const struct store_config *cfg, bool writer, void **out, char *err,
                        size_t errlen)
{
    (void)writer;
    *out = NULL;
    struct pg_conn *c = xcalloc(1, sizeof *c);
    c->url = xstrdup(cfg->url);
    c->log = cfg->log;
    c->statement_timeout_ms = cfg->statement_timeout_ms > 0 ? cfg->statement_timeout_ms : 5000;
    int rc = pg_connect(c, err, errlen);
    if (rc) {
        pg_conn_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

/* A broken connection is dropped at once: libpq cannot recover it mid-transaction, and the next
 * job reconnects (immediately the first time, then with backoff). */
static void drop_if_broken(struct pg_conn *c)
{
    if (c->db && PQstatus(c->db) == CONNECTION_BAD) {
        PQfinish(c->db);
        c->db = NULL;
        c->retry_at_us = 0;
        log_warn(c->log, "PostgreSQL connection lost; reconnecting");
    }
}

static int ensure_connected(struct pg_conn *c, struct store_job *job)
{
    if (c->db)
        return 0;
    int64_t now = clock_mono_us();
    if (now < c->retry_at_us) {
        pg__fail(job, ERR_UNAVAILABLE, "%s: PostgreSQL is unreachable", store_op_name(job->op));
        return job->status;
    }
    char err[sizeof job->error];
    if (pg_connect(c, err, sizeof err)) {
        c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : PG_BACKOFF_MIN_MS;
        if (c->backoff_ms > PG_BACKOFF_MAX_MS)
            c->backoff_ms = PG_BACKOFF_MAX_MS;
        c->retry_at_us = now + (int64_t)c->backoff_ms * 1000;
        pg__fail(job, ERR_UNAVAILABLE, "%s", err);
        return job->status;
    }
    if (c->backoff_ms)
        log_info(c->log, "PostgreSQL connection restored");
    c->backoff_ms = 0;
    return 0;
}

/* SQLSTATE classes: 23505 a duplicate key (an answer); connection failures, shutdowns,
 * cancellations (the statement timeout), serialization failures and deadlocks are transient; the
 * rest is an I/O failure. */
static int map_error(struct pg_conn *c, const PGresult *r)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (!c->db || PQstatus(c->db) == CONNECTION_BAD || !state)
        return ERR_UNAVAILABLE;
    if (strcmp(state, "23505") == 0)
        return ERR_EXISTS;
    if (strncmp(state, "08", 2) == 0 || strncmp(state, "57", 2) == 0 ||
        strncmp(state, "40", 2) == 0 || strncmp(state, "53", 2) == 0 || strcmp(state, "55P03") == 0)
        return ERR_UNAVAILABLE;
    return ERR_IO;
}

static void fail_result(struct pg_conn *c, struct store_job *job, const PGresult *r)
{
    const char *msg = r ? PQresultErrorMessage(r) : "";
    if (!msg[0] && c->db)
        msg = PQerrorMessage(c->db);
    size_t n = strcspn(msg, "\n");
    int status = map_error(c, r);
    pg__fail(job, status, "%s: %.*s", store_op_name(job->op), (int)(n > 120 ? 120 : n), msg);
    drop_if_broken(c);
}

PGresult *pg__query(struct pg_conn *c, struct store_job *job, enum pg_stmt id, const char *sql,
                    const struct pg_params *p)
{
    if (!c->db) {
        pg__fail(job, ERR_UNAVAILABLE, "%s: PostgreSQL connection lost", store_op_name(job->op));
        return NULL;
    }
    char name[16];
    snprintf(name, sizeof name, "s%d", (int)id);
    if (!c->prepared[id]) {
        PGresult *r = PQprepare(c->db, name, sql, 0, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            fail_result(c, job, r);
            PQclear(r);
            return NULL;
        }
        PQclear(r);
        c->prepared[id] = true;
    }
    PGresult *r =
        PQexecPrepared(c->db, name, p->n, p->values, p->lengths, p->formats, 0 /* text rows */);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
        return r;
    fail_result(c, job, r);
    PQclear(r);
    return NULL;
}

int pg__exec(struct pg_conn *c, struct store_job *job, enum pg_stmt id, const char *sql,
             const struct pg_params *p, int64_t *changes)
{
    PGresult *r = pg__query(c, job, id, sql, p);
    if (!r)
        return job->status;
    if (changes)
        *changes = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return 0;
}

static int rows_load(struct store_job *job, PGresult *r, int count, size_t elem_size, void *arr,
                     pg_row_fn load, void (*free_row)(void *elem))
{
    for (int i = 0; i < count; i++) {
        if (load(r, i, (char *)arr + (size_t)i * elem_size)) {
            for (int j = 0; j <= i; j++)
                free_row((char *)arr + (size_t)j * elem_size);
            pg__fail(job, ERR_IO, "%s: malformed row", store_op_name(job->op));
            return job->status;
        }
    }
    return 0;
}

int pg__fetch(struct store_job *job, PGresult *r, int limit, size_t elem_size, void **rows,
              size_t *n, bool *has_more, pg_row_fn load, void (*free_row)(void *elem))
{
    int total = PQntuples(r);
    int count = limit >= 0 && total > limit ? limit : total;
    void *arr = count ? xcalloc((size_t)count, elem_size) : NULL;
    int rc = rows_load(job, r, count, elem_size, arr, load, free_row);
    PQclear(r);
    if (rc) {
        free(arr);
        return rc;
    }
    *rows = arr;
    *n = (size_t)count;
    *has_more = total > count;
    return 0;
}

/* ---- sessions --------------------------------------------------------------------------- */

int pg__user_insert(struct pg_conn *c, struct store_job *job, const char *user_id,
                    int64_t created_us)
{
    struct pg_params p = {0};
    pg__p_text(&p, user_id);
    pg__p_int(&p, created_us);
    return pg__exec(c, job, PG_USER_INSERT, stmt_sql[PG_USER_INSERT], &p, NULL);
}

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

/* bytea comes back as text in hex form: "\x" and two digits per byte. */
static int decode_hash(const char *text, size_t len, unsigned char out[STORE_HASH_LEN])
{
    if (len != 2 + 2 * STORE_HASH_LEN || text[0] != '\\' || text[1] != 'x')
        return ERR_IO;
    for (size_t i = 0; i < STORE_HASH_LEN; i++) {
        int hi = hex_digit(text[2 + 2 * i]), lo = hex_digit(text[3 + 2 * i]);
        if (hi < 0 || lo < 0)
            return ERR_IO;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

static void load_session(const PGresult *r, struct store_job *job)
{
    struct store_session s;
    memset(&s, 0, sizeof s);
    if (pg__copy(r, 0, 0, s.id, sizeof s.id) || pg__copy(r, 0, 2, s.user_id, sizeof s.user_id) ||
        pg__copy(r, 0, 3, s.workflow_id, sizeof s.workflow_id) ||
        pg__copy(r, 0, 4, s.workflow_version, sizeof s.workflow_version) ||
        decode_hash(PQgetvalue(r, 0, 1), (size_t)PQgetlength(r, 0, 1), s.secret_hash)) {
        pg__fail(job, ERR_IO, "malformed sessions row %.60s", PQgetvalue(r, 0, 0));
        return;
    }
    s.rate_per_min = (int)pg__int(r, 0, 7);
    s.origin = (int)pg__int(r, 0, 8);
    s.tracing = pg__int(r, 0, 9) != 0;
    s.created_us = pg__int(r, 0, 10);
    s.expires_at = pg__int(r, 0, 11);
    s.cancelled_us = pg__int(r, 0, 12);
    s.state_variables_json = pg__dup(r, 0, 5, "{}");
    s.config_json = pg__dup(r, 0, 6, "{}");
    free(job->session.state_variables_json);
    free(job->session.config_json);
    job->session = s;
}

static void select_session(struct pg_conn *c, struct store_job *job, enum pg_stmt id,
                           const struct pg_params *p)
{
    PGresult *r = pg__query(c, job, id, stmt_sql[id], p);
    if (!r)
        return;
    if (PQntuples(r) == 1)
        load_session(r, job);
    else
        pg__fail(job, ERR_NOT_FOUND, "no such session");
    PQclear(r);
}

static void op_ping(struct pg_conn *c, struct store_job *job)
{
    struct pg_params p = {0};
    PGresult *r = pg__query(c, job, PG_PING, stmt_sql[PG_PING], &p);
    if (r && PQntuples(r) != 1)
        pg__fail(job, ERR_IO, "ping: no row");
    PQclear(r);
}

static void op_session_create(struct pg_conn *c, struct store_job *job)
{
    const struct store_session *s = &job->session;
    if (!s->id[0] || !s->user_id[0] || !s->workflow_id[0]) {
        pg__fail(job, ERR_INVALID, "session id, user id and workflow id are required");
        return;
    }
    if (pg__user_insert(c, job, s->user_id, s->created_us))
        return;
    struct pg_params p = {0};
    pg__p_text(&p, s->id);
    pg__p_bytes(&p, s->secret_hash, STORE_HASH_LEN);
    pg__p_text(&p, s->user_id);
    pg__p_text(&p, s->workflow_id);
    pg__p_opt(&p, s->workflow_version);
    pg__p_text(&p, s->state_variables_json ? s->state_variables_json : "{}");
    pg__p_text(&p, s->config_json ? s->config_json : "{}");
    pg__p_int(&p, s->rate_per_min);
    pg__p_int(&p, s->origin);
    pg__p_int(&p, s->tracing ? 1 : 0);
    pg__p_int(&p, s->created_us);
    pg__p_int(&p, s->expires_at);
    if (s->cancelled_us)
        pg__p_int(&p, s->cancelled_us);
    else
        pg__p_text(&p, NULL);
    pg__exec(c, job, PG_SESSION_INSERT, stmt_sql[PG_SESSION_INSERT], &p, &job->affected);
}

static void op_session_by_secret(struct pg_conn *c, struct store_job *job)
{
    struct pg_params p = {0};
    pg__p_bytes(&p, job->session.secret_hash, STORE_HASH_LEN);
    select_session(c, job, PG_SESSION_BY_SECRET, &p);
}

static void op_session_get(struct pg_conn *c, struct store_job *job)
{
    struct pg_params p = {0};
    pg__p_text(&p, job->session.id);
    select_session(c, job, PG_SESSION_GET, &p);
}

static void op_session_cancel(struct pg_conn *c, struct store_job *job)
{
    if (job->session.cancelled_us <= 0) {
        pg__fail(job, ERR_INVALID, "cancel needs a positive cancelled_us");
        return;
    }
    struct pg_params p = {0};
    pg__p_int(&p, job->session.cancelled_us);
    pg__p_text(&p, job->session.id);
    if (pg__exec(c, job, PG_SESSION_CANCEL, stmt_sql[PG_SESSION_CANCEL], &p, &job->affected) == 0)
        op_session_get(c, job);
}

static void op_session_purge(struct pg_conn *c, struct store_job *job)
{
    struct pg_params p = {0};
    pg__p_int(&p, job->purge_before_s);
    if (pg__exec(c, job, PG_SESSION_PURGE, stmt_sql[PG_SESSION_PURGE], &p, &job->affected) == 0)
        pg__exec(c, job, PG_RATE_PURGE, stmt_sql[PG_RATE_PURGE], &p, NULL);
}

static void op_rate_take(struct pg_conn *c, struct store_job *job)
{
    const struct store_session *s = &job->session;
    if (!s->id[0] || s->rate_per_min < 1) {
        pg__fail(job, ERR_INVALID, "rate_take needs a session id and a positive rate");
        return;
    }
    struct pg_params p = {0};
    pg__p_text(&p, s->id);
    pg__p_int(&p, s->rate_per_min);
    pg__p_int(&p, job->before_us);
    pg__p_int(&p, s->expires_at);
    PGresult *r = pg__query(c, job, PG_RATE_TAKE, stmt_sql[PG_RATE_TAKE], &p);
    if (!r)
        return;
    if (PQntuples(r) != 1) {
        pg__fail(job, ERR_IO, "rate_take: no row");
    } else if (pg__int(r, 0, 0) == 0) {
        /* Seconds until the missing fraction of a token has been refilled. */
        double tokens = strtod(PQgetvalue(r, 0, 1), NULL);
        double wait = (1.0 - tokens) * 60.0 / s->rate_per_min;
        int64_t secs = (int64_t)wait + ((double)(int64_t)wait < wait ? 1 : 0);
        job->affected = secs < 1 ? 1 : secs;
    }
    PQclear(r);
}

typedef void (*op_fn)(struct pg_conn *c, struct store_job *job);

static const op_fn ops[STORE_OP_COUNT] = {
    [STORE_PING] = op_ping,
    [STORE_SESSION_CREATE] = op_session_create,
    [STORE_SESSION_BY_SECRET] = op_session_by_secret,
    [STORE_SESSION_GET] = op_session_get,
    [STORE_SESSION_CANCEL] = op_session_cancel,
    [STORE_SESSION_PURGE] = op_session_purge,
    [STORE_THREAD_CREATE] = pg__thread_create,
    [STORE_THREAD_GET] = pg__thread_get,
    [STORE_THREAD_UPDATE] = pg__thread_update,
    [STORE_THREAD_DELETE] = pg__thread_delete,
    [STORE_THREAD_LIST] = pg__thread_list,
    [STORE_ITEM_UPSERT] = pg__item_upsert,
    [STORE_ITEM_UPDATE] = pg__item_update,
    [STORE_ITEM_DELETE] = pg__item_delete,
    [STORE_ITEM_GET] = pg__item_get,
    [STORE_ITEM_LIST] = pg__item_list,
    [STORE_ITEM_DELETE_AFTER] = pg__item_delete_after,
    [STORE_ATTACHMENT_CREATE] = pg__attachment_create,
    [STORE_ATTACHMENT_GET] = pg__attachment_get,
    [STORE_ATTACHMENT_UPDATE] = pg__attachment_update,
    [STORE_ATTACHMENT_DELETE] = pg__attachment_delete,
    [STORE_ATTACHMENT_STALE] = pg__attachment_stale,
    [STORE_FEEDBACK_ADD] = pg__feedback_add,
    [STORE_FEEDBACK_EXPORT] = pg__feedback_export,
    [STORE_TASK_CREATE] = pg__task_create,
    [STORE_TASK_GET] = pg__task_get,
    [STORE_TASK_UPDATE] = pg__task_update,
    [STORE_TASK_DELETE] = pg__task_delete,
    [STORE_TASK_LIST] = pg__task_list,
    [STORE_RATE_TAKE] = op_rate_take,
};

/* ---- transactions ----------------------------------------------------------------------- */

/* Runs a statement without parameters or rows (BEGIN, COMMIT, ROLLBACK); job may be NULL when a
 * failure has nowhere to go. */
static int simple(struct pg_conn *c, struct store_job *job, const char *sql)
{
    if (!c->db)
        return ERR_UNAVAILABLE;
    PGresult *r = PQexec(c->db, sql);
    int rc = 0;
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        struct store_job scratch;
        fail_result(c, job ? job : &scratch, r);
        rc = job ? job->status : ERR_IO;
    }
    PQclear(r);
    return rc;
}

static bool job_prepare(struct store_job *job)
{
    job->status = 0;
    job->error[0] = '\0';
    job->affected = 0;
    if ((unsigned)job->op >= STORE_OP_COUNT || !ops[job->op]) {
        pg__fail(job, ERR_INVALID, "unknown store operation %d", (int)job->op);
        return false;
    }
    return true;
}

/* Reads of a single statement: one statement is its own transaction (autocommit), so BEGIN and
 * COMMIT would only add two round trips. */
static const bool single_read[STORE_OP_COUNT] = {
    [STORE_PING] = true,
    [STORE_SESSION_BY_SECRET] = true,
    [STORE_SESSION_GET] = true,
    [STORE_THREAD_GET] = true,
    [STORE_ITEM_GET] = true,
    [STORE_ATTACHMENT_GET] = true,
    [STORE_ATTACHMENT_STALE] = true,
    [STORE_FEEDBACK_EXPORT] = true,
    [STORE_TASK_GET] = true,
};

/* One transaction per job. Reads of several statements run REPEATABLE READ so a cursor lookup
 * and its page see one snapshot, as on SQLite; writes run READ COMMITTED, where each statement
 * sees the rows committed by other replicas before it. */
static void pg_run(void *conn, struct store_job *job)
{
    struct pg_conn *c = conn;
    if (!job_prepare(job) || ensure_connected(c, job))
        return;
    if (single_read[job->op]) {
        ops[job->op](c, job);
        return;
    }
    const char *begin = store__op_reads(job->op) ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                        : job->op == STORE_RATE_TAKE ? RATE_BEGIN
                                                     : "BEGIN";
    if (simple(c, job, begin))
        return;
    ops[job->op](c, job);
    if (job->status == 0)
        simple(c, job, "COMMIT");
    if (c->db && PQtransactionStatus(c->db) != PQTRANS_IDLE)
        simple(c, NULL, "ROLLBACK");
}

/* Runs n jobs (already prepared) in one transaction opened with begin. Optimistically, without
 * a savepoint per job (two statements each): if every job succeeds, one COMMIT makes them all
 * durable at once; if any job fails (an answer like ERR_NOT_FOUND, a conflict, anything), the
 * transaction is rolled back and every job runs again alone, in its own transaction. That is
 * safe because nothing a job did counts before the COMMIT (sequence values it drew are only
 * gaps), and an operation only reads its inputs, which it leaves equal to what it stored.
 * Results count only after the COMMIT; if the COMMIT fails, every job reports it. */
static void run_together(struct pg_conn *c, struct store_job **jobs, size_t n, const char *begin)
{
    if (n == 0)
        return;
    if (n == 1 || ensure_connected(c, jobs[0]) || simple(c, jobs[0], begin)) {
        for (size_t i = 0; i < n; i++)
            pg_run(c, jobs[i]);
        return;
    }
    bool failed = false;
    for (size_t i = 0; i < n && !failed; i++) {
        ops[jobs[i]->op](c, jobs[i]);
        failed = jobs[i]->status != 0;
    }
    struct store_job commit = {0};
    if (!failed && simple(c, &commit, "COMMIT")) {
        for (size_t i = 0; i < n; i++) {
            jobs[i]->status = commit.status;
            memcpy(jobs[i]->error, commit.error, sizeof jobs[i]->error);
        }
    }
    if (c->db && PQtransactionStatus(c->db) != PQTRANS_IDLE)
        simple(c, NULL, "ROLLBACK");
    if (failed) {
        for (size_t i = 0; i < n; i++)
            pg_run(c, jobs[i]);
    }
}

static int by_session_id(const void *a, const void *b)
{
    const struct store_job *x = *(struct store_job *const *)a, *y = *(struct store_job *const *)b;
    return strcmp(x->session.id, y->session.id);
}

/* Group commit: of the jobs a store thread found queued together, the writes share one
 * transaction (one WAL flush for all), and so do the rate takes (no flush; taken in session id
 * order, so two threads' batches lock buckets in the same order and cannot deadlock). Reads run
 * alone first: they commit nothing and should not wait for anyone's flush. */
static void pg_run_batch(void *conn, struct store_job **jobs, size_t n)
{
    struct pg_conn *c = conn;
    struct store_job *writes[PG_BATCH_MAX], *rates[PG_BATCH_MAX];
    size_t nw = 0, nr = 0;
    if (n > PG_BATCH_MAX)
        n = PG_BATCH_MAX; /* store.c never sends more (POOL_BATCH_MAX) */
    for (size_t i = 0; i < n; i++) {
        if (store__op_reads(jobs[i]->op))
            pg_run(c, jobs[i]);
        else if (!job_prepare(jobs[i]))
            continue;
        else if (jobs[i]->op == STORE_RATE_TAKE)
            rates[nr++] = jobs[i];
        else
            writes[nw++] = jobs[i];
    }
    qsort(rates, nr, sizeof rates[0], by_session_id);
    run_together(c, rates, nr, RATE_BEGIN);
    run_together(c, writes, nw, "BEGIN");
}

/* ---- migrations ------------------------------------------------------------------------- */

/* The migrations are written once, in SQL both databases accept, except for two spellings:
 * binary columns (BLOB) and SQLite's rowid alias (INTEGER PRIMARY KEY, auto-assigned), which
 * PostgreSQL spells BYTEA and BIGSERIAL PRIMARY KEY. Returns a heap copy with both replaced. */
static char *translate(const char *sql)
{
    static const struct {
        const char *from, *to;
    } words[] = {
        {"BLOB", "BYTEA"},
        {"seq INTEGER PRIMARY KEY", "seq BIGSERIAL PRIMARY KEY"},
    };
    size_t cap = strlen(sql) * 2 + 1, n = 0;
    char *out = xmalloc(cap);
    while (*sql) {
        size_t i;
        for (i = 0; i < sizeof words / sizeof words[0]; i++) {
            size_t fl = strlen(words[i].from);
            if (strncmp(sql, words[i].from, fl) == 0) {
                memcpy(out + n, words[i].to, strlen(words[i].to));
                n += strlen(words[i].to);
                sql += fl;
                break;
            }
        }
        if (i == sizeof words / sizeof words[0])
            out[n++] = *sql++;
    }
    out[n] = '\0';
    return out;
}

static int run_sql(struct pg_conn *c, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(c->db, sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = 0;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        const char *msg = PQresultErrorMessage(r);
        size_t n = strcspn(msg, "\n");
        snprintf(err, errlen, "PostgreSQL: %.*s", (int)(n > 200 ? 200 : n), msg);
        rc = map_error(c, r);
    }
    PQclear(r);
    return rc;
}

/* Opens a migration transaction: the lock that serializes replicas, the bookkeeping table, and
 * the version as of now. */
static int migration_begin(struct pg_conn *c, int *current, char *err, size_t errlen)
{
    int rc = run_sql(c, "BEGIN", err, errlen);
    if (!rc)
        rc = run_sql(c, "SELECT pg_advisory_xact_lock(" PG_MIGRATION_LOCK ")", err, errlen);
    if (!rc)
        rc = run_sql(c, migrations_table_sql, err, errlen);
    if (rc)
        return rc;
    PGresult *r = PQexec(c->db, "SELECT coalesce(max(version), 0) FROM schema_migrations");
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        snprintf(err, errlen, "cannot read the schema version: %s", PQresultErrorMessage(r));
        rc = map_error(c, r);
    } else {
        *current = (int)pg__int(r, 0, 0);
    }
    PQclear(r);
    return rc;
}

static int apply_one(void *conn, const struct migration *m, bool *done, char *err, size_t errlen)
{
    struct pg_conn *c = conn;
    *done = false;
    int current = 0;
    int rc = migration_begin(c, &current, err, errlen);
    if (!rc && current < m->version) {
        char *sql = translate(m->sql);
        rc = run_sql(c, sql, err, errlen);
        free(sql);
        if (!rc && m->postgres_sql)
            rc = run_sql(c, m->postgres_sql, err, errlen);
        if (!rc) {
            char insert[256];
            snprintf(insert, sizeof insert,
                     "INSERT INTO schema_migrations (version, name, applied_us) "
                     "VALUES (%d, '%s', %lld)",
                     m->version, m->name, (long long)clock_wall_us());
            rc = run_sql(c, insert, err, errlen);
        }
        *done = rc == 0;
    }
    if (!rc)
        rc = run_sql(c, "COMMIT", err, errlen);
    if (rc) {
        char why[200];
        snprintf(why, sizeof why, "%s", err);
        snprintf(err, errlen, "migration %d %s failed: %s", m->version, m->name, why);
        *done = false;
        PQclear(PQexec(c->db, "ROLLBACK"));
    }
    return rc;
}

static int pg_migrate(void *conn, const struct logger *log, int *applied, char *err, size_t errlen)
{
    struct pg_conn *c = conn;
    if (applied)
        *applied = 0;
    int current = 0;
    int rc = migration_begin(c, &current, err, errlen);
    PQclear(PQexec(c->db, rc ? "ROLLBACK" : "COMMIT"));
    if (rc)
        return rc;
    return migrations_apply(c, current, apply_one, log, applied, err, errlen);
}

const struct store_backend store_backend_postgres = {
    .name = "postgres",
    .pooled = true,
    .conn_open = pg_conn_open,
    .conn_close = pg_conn_close,
    .run = pg_run,
    .run_batch = pg_run_batch,
    .migrate = pg_migrate,
};
