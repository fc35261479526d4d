#include "store_fixture.h"

#include "core/err.h"
#include "store/pq_lazy.h"

#include <dirent.h>
#include <libpq-fe.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* A connection of the test's own (outside the store); libpq is loaded on first use. */
static PGconn *pg_test_connect(const char *url)
{
    char err[300];
    if (pq_lazy_load(err, sizeof err))
        fail_msg("%s", err);
    return PQconnectdb(url);
}

/* Runs one statement on the cluster's maintenance database (CREATE/DROP DATABASE cannot run
 * inside the database they name). */
static void pg_admin(const struct store_fixture *fx, const char *sql)
{
    char url[320];
    snprintf(url, sizeof url, "%spostgres", fx->pg_base);
    PGconn *db = pg_test_connect(url);
    if (PQstatus(db) != CONNECTION_OK)
        fail_msg("cannot reach the test cluster: %s", PQerrorMessage(db));
    PGresult *r = PQexec(db, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(db);
}

/* The database of this test, named after the temporary directory so parallel tests differ. */
static void pg_create(struct store_fixture *fx, const char *base)
{
    snprintf(fx->pg_base, sizeof fx->pg_base, "%s", base);
    snprintf(fx->pg_db, sizeof fx->pg_db, "t_%s", strrchr(fx->dir, '.') + 1);
    for (char *p = fx->pg_db; *p; p++)
        *p = (char)((*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : (*p == '-' ? '_' : *p));
    char sql[160];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", fx->pg_db);
    pg_admin(fx, sql);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", fx->pg_db);
    pg_admin(fx, sql);
    snprintf(fx->url, sizeof fx->url, "%s%s", fx->pg_base, fx->pg_db);
}

int store_fixture_setup(void **state, const char *name)
{
    struct store_fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/%s.XXXXXX", name);
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->path, sizeof fx->path, "%s/chatkitd.db", fx->dir);
    snprintf(fx->url, sizeof fx->url, "sqlite:%s", fx->path);
    const char *base = getenv("CHATKITD_TEST_DATABASE");
    if (base && *base)
        pg_create(fx, base);
    assert_int_equal(uv_loop_init(&fx->loop), 0);
    FILE *out = fopen("/dev/null", "w");
    assert_non_null(out);
    log_init(&fx->log, out, LOG_INFO, LOG_TEXT);
    struct store_config cfg = {
        .url = fx->url, .readers = 2, .busy_timeout_ms = 5000, .log = &fx->log};
    char err[256] = "";
    int rc = store_open(&fx->loop, &cfg, &fx->store, err, sizeof err);
    if (rc)
        fail_msg("store_open: %s (%s)", err, err_str(rc));
    *state = fx;
    return 0;
}

static void store_fixture_on_closed(void *data)
{
    struct store_fixture *fx = data;
    fx->closed = true;
}

int store_fixture_teardown(void **state)
{
    struct store_fixture *fx = *state;
    store_close(fx->store, store_fixture_on_closed, fx);
    int run_rc = uv_run(&fx->loop, UV_RUN_DEFAULT);
    int loop_rc = uv_loop_close(&fx->loop);
    fclose(fx->log.out);
    DIR *d = opendir(fx->dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", fx->dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    int rmdir_rc = rmdir(fx->dir);
    if (fx->pg_db[0]) {
        char sql[160];
        snprintf(sql, sizeof sql, "DROP DATABASE %s WITH (FORCE)", fx->pg_db);
        pg_admin(fx, sql);
    }
    bool closed = fx->closed;
    free(fx);
    assert_true(closed);
    assert_int_equal(run_rc, 0);
    assert_int_equal(loop_rc, 0); /* no handle left on the loop */
    assert_int_equal(rmdir_rc, 0);
    return 0;
}

void store_fixture_on_job_count(struct store_job *job)
{
    int *count = job->data;
    (*count)++;
}

/* Prepares job for op on behalf of user (NULL = no user). */
void store_fixture_prep(struct store_job *job, enum store_op op, const char *user)
{
    store_job_init(job, op, NULL, NULL);
    if (user)
        snprintf(job->user_id, sizeof job->user_id, "%s", user);
}

/* Submits one job and runs the loop until its callback ran; returns the status. */
int store_fixture_run_job(struct store_fixture *fx, struct store_job *job)
{
    int done = 0;
    job->cb = store_fixture_on_job_count;
    job->data = &done;
    assert_int_equal(store_submit(fx->store, job), 0);
    while (!done)
        uv_run(&fx->loop, UV_RUN_ONCE);
    return job->status;
}

/* Runs a job that needs no outputs, frees what it holds, and returns its status. */
int store_fixture_run_clear(struct store_fixture *fx, struct store_job *job)
{
    int rc = store_fixture_run_job(fx, job);
    store_job_clear(job);
    return rc;
}

char *store_fixture_heap(const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    assert_non_null(d);
    return d;
}

/* First column of the first row of sql, run outside the store (-1 with no row). */
static int64_t pg_sql_int(struct store_fixture *fx, const char *sql)
{
    PGconn *db = pg_test_connect(fx->url);
    assert_int_equal(PQstatus(db), CONNECTION_OK);
    PGresult *r = PQexec(db, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    int64_t v = -1;
    if (PQntuples(r) > 0) {
        const char *t = PQgetvalue(r, 0, 0);
        /* Comparisons are booleans in PostgreSQL and 0/1 in SQLite. */
        v = strcmp(t, "t") == 0 ? 1 : strcmp(t, "f") == 0 ? 0 : strtoll(t, NULL, 10);
    }
    PQclear(r);
    PQfinish(db);
    return v;
}

int64_t store_fixture_sql_int(struct store_fixture *fx, const char *sql)
{
    if (fx->pg_db[0])
        return pg_sql_int(fx, sql);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(fx->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    int64_t v = -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    else
        assert_int_equal(rc, SQLITE_DONE);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    return v;
}
