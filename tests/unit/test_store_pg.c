/* test_store_pg.c - what only the PostgreSQL deployment has: password redaction, the shared
 * rate limit, reconnecting after a lost connection, a fast failure when the server is down, and
 * the replicas' coordinator (notices and thread locks between two processes' connections).
 *
 * The tests that need a server run against CHATKITD_TEST_DATABASE (scripts/test pg starts a
 * private cluster and sets it) and are skipped without it.
 */
#include "store/coord.h"
#include "store/store.h"
#include "store_fixture.h"

#include "core/clock.h"
#include "core/err.h"

#include <libpq-fe.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static bool have_pg(void)
{
    const char *base = getenv("CHATKITD_TEST_DATABASE");
    return base && *base;
}

static int setup(void **state)
{
    if (!have_pg()) {
        *state = NULL;
        return 0;
    }
    return store_fixture_setup(state, "test_store_pg");
}

static int teardown(void **state)
{
    return *state ? store_fixture_teardown(state) : 0;
}

static void test_redact(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"postgres://u:secret@db:5432/app", "postgres://u:***@db:5432/app"},
        {"postgresql://u:s3cr@t@db/app", "postgresql://u:***@t@db/app"},
        {"postgres://u@db/app", "postgres://u@db/app"},
        {"postgres://db/app?sslmode=require&password=hunter2&x=1",
         "postgres://db/app?sslmode=require&password=***&x=1"},
        {"postgres://u:a@db/app?password=b", "postgres://u:***@db/app?password=***"},
        {"sqlite:/var/lib/chatkitd/chatkitd.db", "sqlite:/var/lib/chatkitd/chatkitd.db"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *shown = store_redact_url(cases[i][0]);
        assert_string_equal(shown, cases[i][1]);
        free(shown);
    }
}

/* A server that is not there: the open fails at once with the reason, never the password. */
static void test_unreachable(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct logger log;
    log_init(&log, stderr, LOG_ERROR, LOG_TEXT);
    struct store_config cfg = {
        .url = "postgres://u:topsecret@127.0.0.1:1/db", .readers = 1, .pool_size = 2, .log = &log};
    char err[256] = "";
    struct store *s = (struct store *)1;
    int64_t t0 = clock_mono_us();
    assert_int_equal(store_open(&loop, &cfg, &s, err, sizeof err), ERR_UNAVAILABLE);
    assert_true(clock_mono_us() - t0 < 2000000);
    assert_null(s);
    assert_non_null(strstr(err, "cannot connect to PostgreSQL"));
    assert_null(strstr(err, "topsecret"));
    assert_int_equal(uv_loop_close(&loop), 0);
}

static int64_t rate_take(struct store_fixture *fx, const char *session, int rate, int64_t now)
{
    struct store_job job;
    store_fixture_prep(&job, STORE_RATE_TAKE, NULL);
    snprintf(job.session.id, sizeof job.session.id, "%s", session);
    job.session.rate_per_min = rate;
    job.session.expires_at = 4000000000;
    job.before_us = now;
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    int64_t wait = job.affected;
    store_job_clear(&job);
    return wait;
}

/* The bucket holds `rate` tokens and refills at rate per minute, whoever takes them. */
static void test_rate_take(void **state)
{
    struct store_fixture *fx = *state;
    if (!fx)
        skip();
    int64_t t = 1700000000000000;
    for (int i = 0; i < 3; i++)
        assert_int_equal(rate_take(fx, "cksess_a", 3, t), 0);
    assert_int_equal(rate_take(fx, "cksess_a", 3, t), 20); /* one token per 20 s */
    assert_int_equal(rate_take(fx, "cksess_b", 3, t), 0);  /* another session's own bucket */
    assert_int_equal(rate_take(fx, "cksess_a", 3, t + 10000000), 10);
    assert_int_equal(rate_take(fx, "cksess_a", 3, t + 20000000), 0);
    assert_int_equal(rate_take(fx, "cksess_a", 3, t + 20000000), 20);
}

/* A connection killed under the store: the job on it fails as unavailable, the next one
 * reconnects by itself. */
static void test_reconnect(void **state)
{
    struct store_fixture *fx = *state;
    if (!fx)
        skip();
    struct store_job job;
    store_fixture_prep(&job, STORE_PING, NULL);
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    PGconn *admin = PQconnectdb(fx->url);
    assert_int_equal(PQstatus(admin), CONNECTION_OK);
    PGresult *r = PQexec(admin, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                "WHERE datname = current_database() AND pid <> pg_backend_pid()");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_true(strtol(PQgetvalue(r, 0, 0), NULL, 10) >= 1);
    PQclear(r);
    PQfinish(admin);
    /* Every pooled connection was cut: each fails once (the pool has 4), then all recover. */
    int failed = 0;
    for (int i = 0; i < 12; i++) {
        store_fixture_prep(&job, STORE_PING, NULL);
        int rc = store_fixture_run_job(fx, &job);
        if (rc) {
            assert_int_equal(rc, ERR_UNAVAILABLE);
            failed++;
        }
    }
    assert_true(failed >= 1 && failed <= 4);
    for (int i = 0; i < 8; i++) {
        store_fixture_prep(&job, STORE_PING, NULL);
        assert_int_equal(store_fixture_run_job(fx, &job), 0);
    }
}

static void on_store_closed(void *data)
{
    *(int *)data = 1;
}

/* A statement stuck behind a lock is cancelled by the statement timeout: the job fails as
 * unavailable instead of holding its store thread, and the connection serves the next job. */
static void test_statement_timeout(void **state)
{
    struct store_fixture *fx = *state;
    if (!fx)
        skip();
    struct store_config cfg = {
        .url = fx->url, .readers = 1, .pool_size = 1, .statement_timeout_ms = 300, .log = &fx->log};
    char err[256] = "";
    struct store *s;
    assert_int_equal(store_open(&fx->loop, &cfg, &s, err, sizeof err), 0);
    PGconn *admin = PQconnectdb(fx->url);
    assert_int_equal(PQstatus(admin), CONNECTION_OK);
    PQclear(PQexec(admin, "BEGIN"));
    PGresult *r = PQexec(admin, "LOCK TABLE threads IN ACCESS EXCLUSIVE MODE");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);

    struct store_job job;
    int done = 0;
    store_fixture_prep(&job, STORE_THREAD_GET, "alice");
    snprintf(job.thread.id, sizeof job.thread.id, "cthr_x");
    job.cb = store_fixture_on_job_count;
    job.data = &done;
    int64_t t0 = clock_mono_us();
    assert_int_equal(store_submit(s, &job), 0);
    while (!done)
        uv_run(&fx->loop, UV_RUN_ONCE);
    int64_t took = clock_mono_us() - t0;
    assert_int_equal(job.status, ERR_UNAVAILABLE);
    assert_non_null(strstr(job.error, "statement timeout"));
    assert_true(took >= 250000 && took < 3000000);
    PQclear(PQexec(admin, "ROLLBACK"));
    PQfinish(admin);

    done = 0;
    store_fixture_prep(&job, STORE_THREAD_GET, "alice");
    snprintf(job.thread.id, sizeof job.thread.id, "cthr_x");
    job.cb = store_fixture_on_job_count;
    job.data = &done;
    assert_int_equal(store_submit(s, &job), 0);
    while (!done)
        uv_run(&fx->loop, UV_RUN_ONCE);
    assert_int_equal(job.status, ERR_NOT_FOUND);
    int closed = 0;
    store_close(s, on_store_closed, &closed);
    while (!closed)
        uv_run(&fx->loop, UV_RUN_ONCE);
}

/* A burst of writes submitted together lands in shared transactions (group commit). Some of them
 * fail (a taken id, another user's thread): each answer must be the one the job would get
 * alone, and every good job must be stored exactly once, whatever batch it shared. */
#define BURST 60

static void test_batch_failures(void **state)
{
    struct store_fixture *fx = *state;
    if (!fx)
        skip();
    struct store_job *jobs = calloc(BURST, sizeof *jobs);
    assert_non_null(jobs);
    int done = 0, want_ok = 0;
    for (int i = 0; i < BURST; i++) {
        struct store_job *job = &jobs[i];
        int kind = i % 3;
        store_job_init(job, kind == 2 ? STORE_ITEM_UPSERT : STORE_THREAD_CREATE,
                       store_fixture_on_job_count, &done);
        snprintf(job->user_id, sizeof job->user_id, "%s", kind == 2 ? "mallory" : "alice");
        /* kind 0 and 1: two creates of one id (the pool may run either first: one wins, the
         * other finds the id taken); kind 2: an item in alice's thread, asked for by another
         * user. A job fills only its op's member (store.h). */
        if (kind == 2) {
            snprintf(job->item.thread_id, sizeof job->item.thread_id, "cthr_b%d", i - 2);
            snprintf(job->item.id, sizeof job->item.id, "msg_b%d", i);
            job->item.json = store_fixture_heap("{}");
        } else {
            job->thread.created_us = 1000 + i;
            snprintf(job->thread.id, sizeof job->thread.id, "cthr_b%d", kind == 1 ? i - 1 : i);
        }
        want_ok += kind == 0;
        assert_int_equal(store_submit(fx->store, job), 0);
    }
    while (done < BURST)
        uv_run(&fx->loop, UV_RUN_ONCE);
    for (int i = 0; i < BURST; i++) {
        int kind = i % 3;
        bool ok = kind == 0 ? (jobs[i].status == 0) != (jobs[i + 1].status == 0) &&
                                  jobs[i].status + jobs[i + 1].status == ERR_EXISTS
                            : kind == 1 || jobs[i].status == ERR_NOT_FOUND;
        if (!ok)
            fail_msg("job %d (kind %d): status %d (%s)", i, kind, jobs[i].status, jobs[i].error);
    }
    for (int i = 0; i < BURST; i++)
        store_job_clear(&jobs[i]);
    free(jobs);
    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(*) FROM threads"), want_ok);
    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(*) FROM items"), 0);
}

struct coord_pair {
    struct store_coord a, b;
    struct store_coord_lock la, lb;
    int granted_a, granted_b, failed;
    char last_notice[64];
    int notices;
    int closed;
};

static void on_notice(void *data, const char *payload, size_t len)
{
    struct coord_pair *p = data;
    snprintf(p->last_notice, sizeof p->last_notice, "%.*s", (int)len, payload);
    p->notices++;
}

static void on_lock(struct store_coord_lock *lock, int status)
{
    struct coord_pair *p = lock->data;
    if (status)
        p->failed++;
    else if (lock == &p->la)
        p->granted_a++;
    else
        p->granted_b++;
}

static void on_coord_closed(void *data)
{
    ((struct coord_pair *)data)->closed++;
}

static void run_until(uv_loop_t *loop, const int *flag, int want)
{
    int64_t end = clock_mono_us() + 5000000;
    while (*flag < want && clock_mono_us() < end)
        uv_run(loop, UV_RUN_ONCE);
    assert_int_equal(*flag, want);
}

/* Two coordinators stand for two replicas: a lock held by one makes the other wait until it is
 * released; a notice from one reaches both. */
static void test_coord(void **state)
{
    struct store_fixture *fx = *state;
    if (!fx)
        skip();
    struct coord_pair *p = calloc(1, sizeof *p);
    assert_non_null(p);
    assert_int_equal(store_coord_start(&p->a, &fx->loop, fx->url, &fx->log, on_notice, p), 0);
    assert_int_equal(store_coord_start(&p->b, &fx->loop, fx->url, &fx->log, on_notice, p), 0);
    store_coord_lock(&p->a, &p->la, "cthr_1", on_lock, p);
    run_until(&fx->loop, &p->granted_a, 1);
    store_coord_lock(&p->b, &p->lb, "cthr_1", on_lock, p);
    int64_t until = clock_mono_us() + 300000;
    while (clock_mono_us() < until)
        uv_run(&fx->loop, UV_RUN_NOWAIT);
    assert_int_equal(p->granted_b, 0); /* held by a */
    store_coord_unlock(&p->a, &p->la);
    run_until(&fx->loop, &p->granted_b, 1);
    store_coord_unlock(&p->b, &p->lb);

    while (!store_coord_ready(&p->b))
        uv_run(&fx->loop, UV_RUN_ONCE);
    assert_int_equal(store_coord_notify(&p->a, "hello replicas", 14), 0);
    run_until(&fx->loop, &p->notices, 2); /* both listen, the sender too */
    assert_string_equal(p->last_notice, "hello replicas");
    char big[STORE_COORD_NOTICE_MAX + 2];
    memset(big, 'x', sizeof big);
    assert_int_equal(store_coord_notify(&p->a, big, sizeof big), ERR_TOO_BIG);
    assert_int_equal(p->failed, 0);
    store_coord_close(&p->a, on_coord_closed, p);
    store_coord_close(&p->b, on_coord_closed, p);
    run_until(&fx->loop, &p->closed, 2);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test_setup_teardown(test_rate_take, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconnect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_statement_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_coord, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
