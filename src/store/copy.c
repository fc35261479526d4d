/* copy.c - SQLite to PostgreSQL, table by table (see copy.h). */
#include "store/copy.h"

#include "core/err.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Columns in the order both schemas declare them; blob marks binary columns. Parents come before
 * children so foreign keys hold at every insert. */
static const struct copy_table {
    const char *name;
    const char *columns;
    int ncolumns;
    int blob; /* index of the one binary column, or -1 */
} copy_tables[STORE_COPY_TABLES] = {
    {"users", "id, created_us", 2, -1},
    {"sessions",
     "id, secret_hash, user_id, workflow_id, workflow_version, state_variables, config, "
     "rate_per_min, origin, tracing, created_us, expires_at, cancelled_us",
     13, 1},
    {"threads",
     "id, user_id, seq, created_us, updated_us, title, status, allowed_image_domains, metadata", 9,
     -1},
    {"items", "id, thread_id, user_id, seq, type, hidden, created_us, json", 8, -1},
    {"attachments",
     "id, user_id, thread_id, name, mime_type, size, image, state, attached, created_us", 10, -1},
    {"feedback", "seq, user_id, thread_id, item_id, kind, created_us", 6, -1},
    {"tasks",
     "id, user_id, seq, title, notes, done, due_date, due_time, tz, priority, tags, created_us, "
     "updated_us, completed_us",
     14, -1},
    {"task_tags", "task_id, tag", 2, -1},
};

#define COPY_COLUMNS_MAX 14

static int pg_ok(PGconn *db, PGresult *r, const char *what, char *err, size_t errlen)
{
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return 0;
    const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(db);
    size_t n = strcspn(msg, "\n");
    snprintf(err, errlen, "%s: %.*s", what, (int)(n > 200 ? 200 : n), msg);
    return ERR_IO;
}

static int pg_run(PGconn *db, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(db, sql);
    int rc = pg_ok(db, r, sql, err, errlen);
    PQclear(r);
    return rc;
}

static int64_t pg_count(PGconn *db, const char *table, char *err, size_t errlen)
{
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    PGresult *r = PQexec(db, sql);
    int64_t n = -1;
    if (pg_ok(db, r, sql, err, errlen) == 0 && PQntuples(r) == 1)
        n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return n;
}

static int64_t sqlite_count(sqlite3 *db, const char *table, char *err, size_t errlen)
{
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    sqlite3_stmt *st;
    int64_t n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    else
        snprintf(err, errlen, "%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return n;
}

/* Inserts every row of one table; *copied counts the rows that were new. */
static int copy_rows(sqlite3 *src, PGconn *dst, const struct copy_table *t, int64_t *copied,
                     char *err, size_t errlen)
{
    char sql[512], insert[768];
    snprintf(sql, sizeof sql, "SELECT %s FROM %s", t->columns, t->name);
    int n = snprintf(insert, sizeof insert, "INSERT INTO %s (%s) VALUES (", t->name, t->columns);
    for (int i = 1; i <= t->ncolumns; i++)
        n += snprintf(insert + n, sizeof insert - (size_t)n, "%s$%d", i > 1 ? ", " : "", i);
    snprintf(insert + n, sizeof insert - (size_t)n, ") ON CONFLICT DO NOTHING");

    PGresult *r = PQprepare(dst, t->name, insert, 0, NULL);
    int rc = pg_ok(dst, r, insert, err, errlen);
    PQclear(r);
    if (rc)
        return rc;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(src, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", sql, sqlite3_errmsg(src));
        return ERR_IO;
    }
    const char *values[COPY_COLUMNS_MAX];
    int lengths[COPY_COLUMNS_MAX], formats[COPY_COLUMNS_MAX];
    int step;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < t->ncolumns; i++) {
            bool blob = i == t->blob;
            values[i] =
                blob ? sqlite3_column_blob(st, i) : (const char *)sqlite3_column_text(st, i);
            lengths[i] = sqlite3_column_bytes(st, i);
            formats[i] = blob ? 1 : 0;
        }
        r = PQexecPrepared(dst, t->name, t->ncolumns, values, lengths, formats, 0);
        rc = pg_ok(dst, r, t->name, err, errlen);
        if (rc == 0)
            *copied += strtoll(PQcmdTuples(r), NULL, 10);
        PQclear(r);
    }
    if (rc == 0 && step != SQLITE_DONE) {
        snprintf(err, errlen, "reading %s: %s", t->name, sqlite3_errmsg(src));
        rc = ERR_IO;
    }
    sqlite3_finalize(st);
    return rc;
}

/* The sequences must hand out values above every copied one: the shared chatkitd_seq takes
 * SQLite's counter, feedback's own sequence its highest seq. */
static int move_sequences(sqlite3 *src, PGconn *dst, char *err, size_t errlen)
{
    int64_t counter = 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(src, "SELECT value FROM counters WHERE name = 'seq'", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        counter = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT setval('chatkitd_seq', greatest(%lld, (SELECT last_value FROM chatkitd_seq)))",
             (long long)(counter > 0 ? counter : 1));
    int rc = pg_run(dst, sql, err, errlen);
    if (!rc)
        rc = pg_run(dst,
                    "SELECT setval(pg_get_serial_sequence('feedback', 'seq'), "
                    "greatest((SELECT coalesce(max(seq), 0) FROM feedback), 1))",
                    err, errlen);
    return rc;
}

static int copy_all(sqlite3 *src, PGconn *dst, struct store_copy_report *rep, char *err,
                    size_t errlen)
{
    int rc = pg_run(dst, "BEGIN", err, errlen);
    for (size_t i = 0; rc == 0 && i < STORE_COPY_TABLES; i++) {
        rep->tables[i].table = copy_tables[i].name;
        rc = copy_rows(src, dst, &copy_tables[i], &rep->tables[i].copied, err, errlen);
        rep->n = i + 1;
    }
    if (rc == 0)
        rc = move_sequences(src, dst, err, errlen);
    if (rc == 0)
        rc = pg_run(dst, "COMMIT", err, errlen);
    if (rc)
        PQclear(PQexec(dst, "ROLLBACK"));
    return rc;
}

static int verify(sqlite3 *src, PGconn *dst, struct store_copy_report *rep, char *err,
                  size_t errlen)
{
    for (size_t i = 0; i < STORE_COPY_TABLES; i++) {
        rep->tables[i].source = sqlite_count(src, copy_tables[i].name, err, errlen);
        rep->tables[i].target = pg_count(dst, copy_tables[i].name, err, errlen);
        if (rep->tables[i].source < 0 || rep->tables[i].target < 0)
            return ERR_IO;
    }
    for (size_t i = 0; i < STORE_COPY_TABLES; i++) {
        if (rep->tables[i].source != rep->tables[i].target) {
            snprintf(err, errlen,
                     "verification failed: %s has %lld rows in SQLite but %lld in PostgreSQL "
                     "(was the target in use already?)",
                     copy_tables[i].name, (long long)rep->tables[i].source,
                     (long long)rep->tables[i].target);
            return ERR_INVALID;
        }
    }
    return 0;
}

static const char *sqlite_path(const char *url)
{
    if (strncasecmp(url, "sqlite:", 7) != 0)
        return strstr(url, "://") ? NULL : url;
    url += 7;
    return strncmp(url, "//", 2) == 0 ? url + 2 : url;
}

int store_copy(const struct store_config *from, const struct store_config *to,
               struct store_copy_report *report, char *err, size_t errlen)
{
    memset(report, 0, sizeof *report);
    const char *path = sqlite_path(from->url);
    if (!path || !*path || strncasecmp(to->url, "postgres", 8) != 0) {
        snprintf(err, errlen, "migrate copies from sqlite:PATH to postgres://...");
        return ERR_INVALID;
    }
    /* Migrating would create a missing file, and copying an empty database helps no one. */
    if (access(path, R_OK) != 0) {
        snprintf(err, errlen, "source database %s does not exist or is not readable", path);
        return ERR_INVALID;
    }
    /* Both schemas at this build's version first: the column lists above are that version's. */
    int applied;
    int rc = store_migrate(from, &applied, err, errlen);
    if (!rc)
        rc = store_migrate(to, &applied, err, errlen);
    if (rc)
        return rc;
    sqlite3 *src = NULL;
    if (sqlite3_open_v2(path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path, src ? sqlite3_errmsg(src) : "no memory");
        sqlite3_close(src);
        return ERR_IO;
    }
    PGconn *dst = PQconnectdb(to->url);
    if (PQstatus(dst) != CONNECTION_OK) {
        const char *msg = PQerrorMessage(dst);
        snprintf(err, errlen, "cannot connect to PostgreSQL: %.*s", (int)strcspn(msg, "\n"), msg);
        rc = ERR_UNAVAILABLE;
    }
    /* One snapshot of the source for the copy and the counts, even if a server still writes. */
    if (!rc && sqlite3_exec(src, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(src));
        rc = ERR_IO;
    }
    if (!rc)
        rc = copy_all(src, dst, report, err, errlen);
    if (!rc)
        rc = verify(src, dst, report, err, errlen);
    PQfinish(dst);
    sqlite3_close(src);
    return rc;
}
