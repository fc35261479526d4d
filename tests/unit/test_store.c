/* test_store.c - the store against a real SQLite file, driven by a real uv loop.
 *
 * Every test gets a fresh mkdtemp() directory and loop; the teardown checks that the loop closes
 * with no handle left open and removes the directory.
 */
#include "store/store.h"

#include "core/err.h"

#include <dirent.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

struct fixture {
    char dir[64];
    char path[128];
    char url[160];
    uv_loop_t loop;
    struct logger log;
    char *log_text; /* open_memstream buffer behind log.out */
    size_t log_len;
    struct store *store;
    bool closed;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/test_store.XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->path, sizeof fx->path, "%s/chatkitd.db", fx->dir);
    snprintf(fx->url, sizeof fx->url, "sqlite:%s", fx->path);
    assert_int_equal(uv_loop_init(&fx->loop), 0);
    FILE *out = open_memstream(&fx->log_text, &fx->log_len);
    assert_non_null(out);
    log_init(&fx->log, out, LOG_INFO, LOG_TEXT);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    /* A test that failed half-way may have left its store open: close it anyway so the files
     * can go, then fail. */
    bool left_open = fx->store != NULL;
    if (left_open) {
        store_close(fx->store, NULL, NULL);
        fx->store = NULL;
        uv_run(&fx->loop, UV_RUN_DEFAULT);
    }
    int loop_rc = uv_loop_close(&fx->loop);
    fclose(fx->log.out);
    free(fx->log_text);
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
    free(fx);
    assert_false(left_open);      /* every test closes what it opened */
    assert_int_equal(loop_rc, 0); /* and leaves no handle on the loop */
    assert_int_equal(rmdir_rc, 0);
    return 0;
}

static struct store_config config(struct fixture *fx, const char *url)
{
    struct store_config cfg = {
        .url = url ? url : fx->url,
        .readers = 2,
        .busy_timeout_ms = 5000,
        .log = &fx->log,
    };
    return cfg;
}

/* What the log stream holds so far. */
static const char *log_text(struct fixture *fx)
{
    fflush(fx->log.out);
    return fx->log_text ? fx->log_text : "";
}

static void open_store(struct fixture *fx)
{
    struct store_config cfg = config(fx, NULL);
    char err[256] = "";
    int rc = store_open(&fx->loop, &cfg, &fx->store, err, sizeof err);
    if (rc)
        fail_msg("store_open: %s (%s)", err, err_str(rc));
    assert_non_null(fx->store);
}

static void on_closed(void *data)
{
    struct fixture *fx = data;
    fx->closed = true;
}

/* Closes the store and runs the loop until nothing is left on it. */
static void close_store(struct fixture *fx)
{
    fx->closed = false;
    store_close(fx->store, on_closed, fx);
    fx->store = NULL;
    assert_int_equal(uv_run(&fx->loop, UV_RUN_DEFAULT), 0);
    assert_true(fx->closed);
}

static void on_job_count(struct store_job *job)
{
    int *count = job->data;
    (*count)++;
}

/* Submits one job and runs the loop until its callback ran; returns the status. */
static int run_job(struct fixture *fx, struct store_job *job)
{
    int done = 0;
    job->cb = on_job_count;
    job->data = &done;
    assert_int_equal(store_submit(fx->store, job), 0);
    while (!done)
        uv_run(&fx->loop, UV_RUN_ONCE);
    return job->status;
}

static int run_op(struct fixture *fx, struct store_job *job, enum store_op op)
{
    struct store_session keep = job->session; /* outputs included: the store replaces them */
    int64_t purge = job->purge_before_s;
    store_job_init(job, op, NULL, NULL);
    job->session = keep;
    job->purge_before_s = purge;
    return run_job(fx, job);
}

static void make_session(struct store_session *s, unsigned seed, int64_t expires_at)
{
    memset(s, 0, sizeof *s);
    snprintf(s->id, sizeof s->id, "cksess_%032x", seed);
    for (int i = 0; i < STORE_HASH_LEN; i++)
        s->secret_hash[i] = (unsigned char)(0x5a ^ i);
    for (int i = 0; i < 4; i++) /* unique per seed */
        s->secret_hash[8 + i] = (unsigned char)(seed >> (8 * i));
    snprintf(s->user_id, sizeof s->user_id, "user-%u", seed % 7);
    snprintf(s->workflow_id, sizeof s->workflow_id, "wf_%u", seed);
    s->created_us = 1700000000000000 + seed;
    s->expires_at = expires_at;
    s->rate_per_min = 10;
}

static int create_session(struct fixture *fx, const struct store_session *in)
{
    struct store_job job;
    store_job_init(&job, STORE_SESSION_CREATE, NULL, NULL);
    job.session = *in;
    int rc = run_job(fx, &job);
    job.session.state_variables_json = NULL; /* owned by the caller's struct, not this job */
    job.session.config_json = NULL;
    return rc;
}

/* Runs one SQL statement on the database file outside the store and returns the first column of
 * the first row as an integer (or -1 with no row). */
static int64_t sql_int(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
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

static void test_open_applies_migrations(void **state)
{
    struct fixture *fx = *state;
    open_store(fx);
    assert_string_equal(store_backend_name(fx->store), "sqlite");
    assert_string_equal(store_location(fx->store), fx->path);
    close_store(fx);

    assert_true(strstr(log_text(fx), "applied migration 1 users_and_sessions") != NULL);
    assert_true(strstr(log_text(fx), "applied migration 2 chat_and_tasks") != NULL);
    assert_int_equal(sql_int(fx->path, "SELECT max(version) FROM schema_migrations"), 3);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM schema_migrations"), 3);
    assert_int_equal(sql_int(fx->path, "SELECT min(applied_us) > 0 FROM schema_migrations"), 1);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM sqlite_schema WHERE name IN "
                                       "('users', 'sessions', 'sessions_user_id', "
                                       "'sessions_expires_at')"),
                     4);
}

static void test_reopen_applies_nothing(void **state)
{
    struct fixture *fx = *state;
    open_store(fx);
    close_store(fx);
    size_t before = strlen(log_text(fx));
    open_store(fx);
    close_store(fx);
    assert_null(strstr(log_text(fx) + before, "applied migration"));
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM schema_migrations"), 3);

    struct store_config cfg = config(fx, fx->path); /* plain path form */
    int applied = -1;
    char err[256] = "";
    assert_int_equal(store_migrate(&cfg, &applied, err, sizeof err), 0);
    assert_int_equal(applied, 0);
}

static void test_ping(void **state)
{
    struct fixture *fx = *state;
    open_store(fx);
    struct store_job job;
    store_job_init(&job, STORE_PING, NULL, NULL);
    assert_int_equal(run_job(fx, &job), 0);
    assert_string_equal(job.error, "");
    close_store(fx);
}

static void test_ping_after_unlink(void **state)
{
    struct fixture *fx = *state;
    open_store(fx);
    assert_int_equal(unlink(fx->path), 0);
    struct store_job job;
    store_job_init(&job, STORE_PING, NULL, NULL);
    assert_int_equal(run_job(fx, &job), ERR_IO);
    assert_true(strstr(job.error, "is missing") != NULL);
    assert_true(strstr(job.error, fx->path) != NULL);
    assert_int_equal(store_get_stats(fx->store)->errors_total, 1);
    close_store(fx);
}

static void assert_session_equal(const struct store_session *a, const struct store_session *b)
{
    assert_string_equal(a->id, b->id);
    assert_memory_equal(a->secret_hash, b->secret_hash, STORE_HASH_LEN);
    assert_string_equal(a->user_id, b->user_id);
    assert_string_equal(a->workflow_id, b->workflow_id);
    assert_string_equal(a->workflow_version, b->workflow_version);
    assert_string_equal(a->state_variables_json, b->state_variables_json);
    assert_string_equal(a->config_json, b->config_json);
    assert_int_equal(a->rate_per_min, b->rate_per_min);
    assert_int_equal(a->origin, b->origin);
    assert_int_equal(a->tracing, b->tracing);
    assert_int_equal(a->created_us, b->created_us);
    assert_int_equal(a->expires_at, b->expires_at);
    assert_int_equal(a->cancelled_us, b->cancelled_us);
}

static void test_session_round_trip(void **state)
{
    struct fixture *fx = *state;
    open_store(fx);

    struct store_session in;
    make_session(&in, 1, 1900000000);
    snprintf(in.user_id, sizeof in.user_id, "user é \"quoted\"");
    snprintf(in.workflow_version, sizeof in.workflow_version, "v42");
    in.state_variables_json = "{\"plan\":\"pro\",\"n\":3}";
    in.config_json = "{\"history\":{\"enabled\":true}}";
    in.rate_per_min = 17;
    in.origin = STORE_ORIGIN_API;
    in.tracing = true;
    in.secret_hash[0] = 0; /* embedded zero bytes must survive the BLOB */
    in.secret_hash[31] = 0xff;
    assert_int_equal(create_session(fx, &in), 0);

    struct store_job job;
    store_job_init(&job, STORE_SESSION_BY_SECRET, NULL, NULL);
    memcpy(job.session.secret_hash, in.secret_hash, STORE_HASH_LEN);
    assert_int_equal(run_job(fx, &job), 0);
    assert_session_equal(&job.session, &in);
    store_job_clear(&job);

    store_job_init(&job, STORE_SESSION_GET, NULL, NULL);
    memcpy(job.session.id, in.id, sizeof job.session.id);
    assert_int_equal(run_job(fx, &job), 0);
    assert_session_equal(&job.session, &in);

    /* Reusing a job that holds outputs must not leak them. */
    assert_int_equal(run_op(fx, &job, STORE_SESSION_GET), 0);
    assert_session_equal(&job.session, &in);
    store_job_clear(&job);

    /* Defaults: NULL JSON is stored as {}, "" version as NULL and read back as "". */
    struct store_session plain;
    make_session(&plain, 2, 1900000000);
    assert_int_equal(create_session(fx, &plain), 0);
    store_job_init(&job, STORE_SESSION_GET, NULL, NULL);
    memcpy(job.session.id, plain.id, sizeof job.session.id);
    assert_int_equal(run_job(fx, &job), 0);
    assert_string_equal(job.session.state_variables_json, "{}");
    assert_string_equal(job.session.config_json, "{}");
    assert_string_equal(job.session.workflow_version, "");
    assert_int_equal(job.session.tracing, false);
    assert_int_equal(job.session.cancelled_us, 0);
    store_job_clear(&job);
    assert_null(job.session.state_variables_json);
    close_store(fx);

    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM sessions "
                                       "WHERE workflow_version IS NULL"),
                     1);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM users"), 2);
}

static void test_duplicate(void **state)
{
    struct fixture *fx = *state;
    open_store(fx);
    struct store_session s;
    make_session(&s, 3, 1900000000);
    assert_int_equal(create_session(fx, &s), 0);
    assert_int_equal(create_session(fx, &s), ERR_EXISTS);

    struct store_session same_secret;
    make_session(&same_secret, 4, 1900000000);
    memcpy(same_secret.secret_hash, s.secret_hash, STORE_HASH_LEN);
    assert_int_equal(create_session(fx, &same_secret), ERR_EXISTS);

    /* A second session for the same user is fine: the user row is created once. */
    struct store_session same_user;
    make_session(&same_user, 10, 1900000000); /* 10 % 7 == 3 % 7 */
    assert_string_equal(same_user.user_id, s.user_id);
    assert_int_equal(create_session(fx, &same_user), 0);

    const struct store_stats *st = store_get_stats(fx->store);
    assert_int_equal(st->jobs_total[STORE_SESSION_CREATE], 4);
    assert_int_equal(st->errors_total, 0); /* duplicates are answers, not failures */
    close_store(fx);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM sessions"), 2);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM users"), 1);
}

/* Writes queued together commit together (group commit); a failing one is undone alone. */
static void test_batch_failure_is_isolated(void **state)
{
    struct fixture *fx = *state;
    open_store(fx);
    enum { N = 48 };
    struct store_job *jobs = calloc(N, sizeof *jobs);
    assert_non_null(jobs);
    int done = 0;
    for (unsigned i = 0; i < N; i++) {
        store_job_init(&jobs[i], STORE_SESSION_CREATE, on_job_count, &done);
        /* every third job repeats the id of the one before it */
        make_session(&jobs[i].session, i % 3 == 2 ? 1000 + i - 1 : 1000 + i, 1900000000);
        if (i % 3 == 2)
            jobs[i].session.secret_hash[20] ^= 0xff; /* same id, different secret */
    }
    for (unsigned i = 0; i < N; i++)
        assert_int_equal(store_submit(fx->store, &jobs[i]), 0);
    while (done < N)
        uv_run(&fx->loop, UV_RUN_ONCE);
    for (unsigned i = 0; i < N; i++)
        assert_int_equal(jobs[i].status, i % 3 == 2 ? ERR_EXISTS : 0);
    for (unsigned i = 0; i < N; i++)
        store_job_clear(&jobs[i]);
    free(jobs);
    close_store(fx);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM sessions"), N - N / 3);
}

static void test_not_found(void **state)
{
    struct fixture *fx = *state;
    open_store(fx);
    struct store_job job;
    store_job_init(&job, STORE_SESSION_BY_SECRET, NULL, NULL);
    memset(job.session.secret_hash, 0xab, STORE_HASH_LEN);
    assert_int_equal(run_job(fx, &job), ERR_NOT_FOUND);
    assert_null(job.session.config_json);

    store_job_init(&job, STORE_SESSION_GET, NULL, NULL);
    snprintf(job.session.id, sizeof job.session.id, "cksess_nope");
    assert_int_equal(run_job(fx, &job), ERR_NOT_FOUND);

    store_job_init(&job, STORE_SESSION_CANCEL, NULL, NULL);
    snprintf(job.session.id, sizeof job.session.id, "cksess_nope");
    job.session.cancelled_us = 5;
    assert_int_equal(run_job(fx, &job), ERR_NOT_FOUND);
    assert_int_equal(job.affected, 0);
    close_store(fx);
}

static void test_cancel_twice(void **state)
{
    struct fixture *fx = *state;
    open_store(fx);
    struct store_session s;
    make_session(&s, 5, 1900000000);
    assert_int_equal(create_session(fx, &s), 0);

    struct store_job job;
    store_job_init(&job, STORE_SESSION_CANCEL, NULL, NULL);
    memcpy(job.session.id, s.id, sizeof job.session.id);
    job.session.cancelled_us = 1111;
    assert_int_equal(run_job(fx, &job), 0);
    assert_int_equal(job.affected, 1);
    assert_int_equal(job.session.cancelled_us, 1111);
    assert_string_equal(job.session.workflow_id, s.workflow_id);
    store_job_clear(&job);

    store_job_init(&job, STORE_SESSION_CANCEL, NULL, NULL);
    memcpy(job.session.id, s.id, sizeof job.session.id);
    job.session.cancelled_us = 2222;
    assert_int_equal(run_job(fx, &job), 0);
    assert_int_equal(job.affected, 0);
    assert_int_equal(job.session.cancelled_us, 1111);
    store_job_clear(&job);

    store_job_init(&job, STORE_SESSION_CANCEL, NULL, NULL);
    memcpy(job.session.id, s.id, sizeof job.session.id);
    assert_int_equal(run_job(fx, &job), ERR_INVALID); /* no time given */
    close_store(fx);
}

static void test_purge(void **state)
{
    struct fixture *fx = *state;
    open_store(fx);
    struct store_session s[3];
    for (unsigned i = 0; i < 3; i++) {
        make_session(&s[i], 20 + i, 100 * (i + 1)); /* expire at 100, 200, 300 */
        assert_int_equal(create_session(fx, &s[i]), 0);
    }
    struct store_job job;
    store_job_init(&job, STORE_SESSION_PURGE, NULL, NULL);
    job.purge_before_s = 200;
    assert_int_equal(run_job(fx, &job), 0);
    assert_int_equal(job.affected, 1);

    for (unsigned i = 0; i < 3; i++) {
        store_job_init(&job, STORE_SESSION_GET, NULL, NULL);
        memcpy(job.session.id, s[i].id, sizeof job.session.id);
        assert_int_equal(run_job(fx, &job), i == 0 ? ERR_NOT_FOUND : 0);
        store_job_clear(&job);
    }
    store_job_init(&job, STORE_SESSION_PURGE, NULL, NULL);
    job.purge_before_s = 200;
    assert_int_equal(run_job(fx, &job), 0);
    assert_int_equal(job.affected, 0);
    close_store(fx);
}

#define MANY 1000

static void test_many_jobs(void **state)
{
    struct fixture *fx = *state;
    open_store(fx);
    struct store_session first;
    make_session(&first, 99999, 1900000000);
    assert_int_equal(create_session(fx, &first), 0);

    struct store_job *jobs = calloc(MANY, sizeof *jobs);
    assert_non_null(jobs);
    int done = 0;
    for (unsigned i = 0; i < MANY; i++) {
        switch (i % 4) {
        case 0:
            store_job_init(&jobs[i], STORE_SESSION_CREATE, on_job_count, &done);
            make_session(&jobs[i].session, i, 1900000000);
            break;
        case 1:
            store_job_init(&jobs[i], STORE_PING, on_job_count, &done);
            break;
        case 2:
            store_job_init(&jobs[i], STORE_SESSION_GET, on_job_count, &done);
            memcpy(jobs[i].session.id, first.id, sizeof jobs[i].session.id);
            break;
        default:
            store_job_init(&jobs[i], STORE_SESSION_BY_SECRET, on_job_count, &done);
            memcpy(jobs[i].session.secret_hash, first.secret_hash, STORE_HASH_LEN);
            break;
        }
        assert_int_equal(store_submit(fx->store, &jobs[i]), 0);
    }
    assert_int_equal(store_get_stats(fx->store)->in_flight, MANY);
    while (done < MANY)
        uv_run(&fx->loop, UV_RUN_ONCE);

    for (unsigned i = 0; i < MANY; i++) {
        if (jobs[i].status)
            fail_msg("job %u (%s): %s", i, store_op_name(jobs[i].op), jobs[i].error);
        if (jobs[i].op == STORE_SESSION_GET)
            assert_string_equal(jobs[i].session.workflow_id, first.workflow_id);
        store_job_clear(&jobs[i]);
    }
    free(jobs);

    const struct store_stats *st = store_get_stats(fx->store);
    uint64_t total = 0;
    for (int op = 0; op < STORE_OP_COUNT; op++)
        total += st->jobs_total[op];
    assert_int_equal(st->in_flight, 0);
    assert_int_equal(total, MANY + 1);
    assert_int_equal(st->jobs_total[STORE_SESSION_CREATE], MANY / 4 + 1);
    assert_int_equal(st->jobs_total[STORE_PING], MANY / 4);
    assert_int_equal(st->errors_total, 0);
    assert_int_equal(st->latency_count, MANY + 1);
    assert_int_equal(st->latency_le[STORE_LATENCY_BUCKETS - 1], MANY + 1);
    for (int i = 1; i < STORE_LATENCY_BUCKETS; i++)
        assert_true(st->latency_le[i - 1] <= st->latency_le[i]);
    assert_true(st->latency_sum_s >= 0.0);
    close_store(fx);
    assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM sessions"), MANY / 4 + 1);
}

struct close_probe {
    struct fixture *fx;
    int done;
    int done_at_close; /* callbacks that had run when on_closed fired */
    bool closed;
};

static void on_probe_job(struct store_job *job)
{
    struct close_probe *p = job->data;
    p->done++;
}

static void on_probe_closed(void *data)
{
    struct close_probe *p = data;
    p->done_at_close = p->done;
    p->closed = true;
}

static void on_never(struct store_job *job)
{
    (void)job;
    fail_msg("callback of a refused job ran");
}

static void test_close_drains_and_refuses(void **state)
{
    struct fixture *fx = *state;
    open_store(fx);
    struct close_probe probe = {.fx = fx};
    struct store_job jobs[50];
    for (int i = 0; i < 50; i++) {
        store_job_init(&jobs[i], i % 2 ? STORE_PING : STORE_SESSION_PURGE, on_probe_job, &probe);
        assert_int_equal(store_submit(fx->store, &jobs[i]), 0);
    }
    struct store *s = fx->store;
    store_close(s, on_probe_closed, &probe);
    fx->store = NULL;

    struct store_job late;
    store_job_init(&late, STORE_PING, on_never, NULL);
    assert_int_equal(store_submit(s, &late), ERR_UNAVAILABLE);

    assert_int_equal(uv_run(&fx->loop, UV_RUN_DEFAULT), 0);
    assert_true(probe.closed);
    assert_int_equal(probe.done_at_close, 50);
    for (int i = 0; i < 50; i++)
        assert_int_equal(jobs[i].status, 0);
}

static void on_close_from_cb(struct store_job *job)
{
    struct close_probe *p = job->data;
    p->done++;
    if (p->done == 1) {
        store_close(p->fx->store, on_probe_closed, p);
        p->fx->store = NULL;
    }
}

/* Closing from inside a job callback is the common shutdown path; the jobs behind it still
 * complete, before on_closed. */
static void test_close_from_callback(void **state)
{
    struct fixture *fx = *state;
    open_store(fx);
    struct close_probe probe = {.fx = fx};
    struct store_job jobs[20];
    for (int i = 0; i < 20; i++) {
        store_job_init(&jobs[i], STORE_PING, on_close_from_cb, &probe);
        assert_int_equal(store_submit(fx->store, &jobs[i]), 0);
    }
    assert_int_equal(uv_run(&fx->loop, UV_RUN_DEFAULT), 0);
    assert_true(probe.closed);
    assert_int_equal(probe.done_at_close, 20);
}

static void test_invalid_op(void **state)
{
    struct fixture *fx = *state;
    open_store(fx);
    struct store_job job;
    store_job_init(&job, (enum store_op)99, NULL, NULL);
    assert_int_equal(run_job(fx, &job), ERR_INVALID);
    assert_true(strstr(job.error, "99") != NULL);
    const struct store_stats *st = store_get_stats(fx->store);
    assert_int_equal(st->in_flight, 0);
    assert_int_equal(st->errors_total, 1);

    store_job_init(&job, STORE_PING, NULL, NULL);
    assert_int_equal(store_submit(fx->store, &job), ERR_INVALID); /* no callback */
    assert_int_equal(st->in_flight, 0);
    close_store(fx);
}

static void test_unsupported_scheme(void **state)
{
    struct fixture *fx = *state;
    struct store_config cfg = config(fx, "mysql://chatkit:secret@db.example/chatkit");
    char err[256] = "";
    struct store *s = (struct store *)1;
    assert_int_equal(store_open(&fx->loop, &cfg, &s, err, sizeof err), ERR_INVALID);
    assert_null(s);
    assert_string_equal(err,
                        "unsupported database URL scheme 'mysql' (supported: sqlite, postgres)");

    int applied = -1;
    err[0] = '\0';
    assert_int_equal(store_migrate(&cfg, &applied, err, sizeof err), ERR_INVALID);
    assert_string_equal(err,
                        "unsupported database URL scheme 'mysql' (supported: sqlite, postgres)");

    const char *bad[] = {"", "sqlite:", "sqlite::memory:", "sqlite://relative.db"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cfg = config(fx, bad[i]);
        err[0] = '\0';
        assert_int_equal(store_open(&fx->loop, &cfg, &s, err, sizeof err), ERR_INVALID);
        assert_null(s);
        assert_true(err[0] != '\0');
    }
    cfg = config(fx, NULL);
    cfg.readers = 0;
    assert_int_equal(store_open(&fx->loop, &cfg, &s, err, sizeof err), ERR_INVALID);
    assert_null(s);
    assert_int_equal(access(fx->path, F_OK), -1); /* nothing was created */
}

static void test_open_error_names_path(void **state)
{
    struct fixture *fx = *state;
    char url[256];
    snprintf(url, sizeof url, "%s/no/such/dir/x.db", fx->dir);
    struct store_config cfg = config(fx, url);
    char err[256] = "";
    struct store *s;
    assert_int_equal(store_open(&fx->loop, &cfg, &s, err, sizeof err), ERR_IO);
    assert_null(s);
    assert_true(strstr(err, url) != NULL);
}

static void test_migrate_fresh(void **state)
{
    struct fixture *fx = *state;
    struct store_config cfg = config(fx, NULL);
    int applied = -1;
    char err[256] = "";
    int rc = store_migrate(&cfg, &applied, err, sizeof err);
    if (rc)
        fail_msg("store_migrate: %s", err);
    assert_int_equal(applied, 3);
    assert_true(strstr(log_text(fx), "applied migration 1 users_and_sessions") != NULL);
    assert_int_equal(sql_int(fx->path, "SELECT max(version) FROM schema_migrations"), 3);

    assert_int_equal(store_migrate(&cfg, &applied, err, sizeof err), 0);
    assert_int_equal(applied, 0);

    open_store(fx);
    struct store_job job;
    store_job_init(&job, STORE_PING, NULL, NULL);
    assert_int_equal(run_job(fx, &job), 0);
    close_store(fx);
}

static void test_newer_schema_refused(void **state)
{
    struct fixture *fx = *state;
    open_store(fx);
    close_store(fx);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO schema_migrations (version, name, applied_us) "
                                  "VALUES (999, 'from_the_future', 1)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);

    struct store_config cfg = config(fx, NULL);
    char err[256] = "";
    struct store *s;
    assert_int_equal(store_open(&fx->loop, &cfg, &s, err, sizeof err), ERR_INVALID);
    assert_null(s);
    assert_string_equal(err, "database schema version 999 is newer than this chatkitd "
                             "(knows up to 3)");
    int applied = -1;
    err[0] = '\0';
    assert_int_equal(store_migrate(&cfg, &applied, err, sizeof err), ERR_INVALID);
    assert_int_equal(applied, 0);
    assert_true(strstr(err, "999") != NULL);
}

static void test_op_names(void **state)
{
    (void)state;
    assert_string_equal(store_op_name(STORE_PING), "ping");
    assert_string_equal(store_op_name(STORE_SESSION_CREATE), "session_create");
    assert_string_equal(store_op_name(STORE_SESSION_BY_SECRET), "session_by_secret");
    assert_string_equal(store_op_name(STORE_SESSION_GET), "session_get");
    assert_string_equal(store_op_name(STORE_SESSION_CANCEL), "session_cancel");
    assert_string_equal(store_op_name(STORE_SESSION_PURGE), "session_purge");
    assert_string_equal(store_op_name(STORE_THREAD_CREATE), "thread_create");
    assert_string_equal(store_op_name(STORE_ITEM_DELETE_AFTER), "item_delete_after");
    assert_string_equal(store_op_name(STORE_TASK_LIST), "task_list");
    for (int op = 0; op < STORE_OP_COUNT; op++) { /* every op has a distinct name */
        assert_non_null(store_op_name((enum store_op)op));
        for (int other = 0; other < op; other++)
            assert_string_not_equal(store_op_name((enum store_op)op),
                                    store_op_name((enum store_op)other));
    }
    assert_string_equal(store_op_name(STORE_OP_COUNT), "unknown");
    assert_true(isinf(store_latency_bounds[STORE_LATENCY_BUCKETS - 1]));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_open_applies_migrations),
        T(test_reopen_applies_nothing),
        T(test_ping),
        T(test_ping_after_unlink),
        T(test_session_round_trip),
        T(test_duplicate),
        T(test_batch_failure_is_isolated),
        T(test_not_found),
        T(test_cancel_twice),
        T(test_purge),
        T(test_many_jobs),
        T(test_close_drains_and_refuses),
        T(test_close_from_callback),
        T(test_invalid_op),
        T(test_unsupported_scheme),
        T(test_open_error_names_path),
        T(test_migrate_fresh),
        T(test_newer_schema_refused),
        cmocka_unit_test(test_op_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
