/* store_fixture.h - a real store on a real loop in a fresh temporary directory, for unit tests of
 * the store's operations, and the small helpers those tests share. The store is SQLite, or, when
 * CHATKITD_TEST_DATABASE holds a PostgreSQL base URL ("postgres://user:pw@host:port/", as printed
 * by scripts/pg-cluster), a fresh database of that cluster, dropped again by the teardown. */
#ifndef CHATKITD_TESTS_STORE_FIXTURE_H
#define CHATKITD_TESTS_STORE_FIXTURE_H

#include "core/log.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct store_fixture {
    char dir[64];
    char path[128];
    char url[320];
    char pg_base[256]; /* "" for SQLite */
    char pg_db[64];
    uv_loop_t loop;
    struct logger log;
    struct store *store;
    bool closed;
};

/* cmocka setup/teardown: a store in /tmp/<name>.XXXXXX; teardown asserts nothing is left open
 * on the loop and removes the directory. */
int store_fixture_setup(void **state, const char *name);
int store_fixture_teardown(void **state);
/* A job callback that counts completions in the int its data points to. */
void store_fixture_on_job_count(struct store_job *job);
/* Prepares job for op on behalf of user (NULL = no user). */
void store_fixture_prep(struct store_job *job, enum store_op op, const char *user);
/* Submits one job and runs the loop until its callback ran; returns the status. */
int store_fixture_run_job(struct store_fixture *fx, struct store_job *job);
/* Runs a job that needs no outputs, frees what it holds, and returns its status. */
int store_fixture_run_clear(struct store_fixture *fx, struct store_job *job);
/* A heap copy of s (NULL stays NULL), for the owned strings of job inputs. */
char *store_fixture_heap(const char *s);
/* First column of the first row of sql, run outside the store (-1 with no row). */
int64_t store_fixture_sql_int(struct store_fixture *fx, const char *sql);

#endif
