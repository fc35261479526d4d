/* store.c - threads, queues and bookkeeping shared by every storage backend.
 *
 * The loop thread submits jobs onto one of two queues: the writer queue, served by the single
 * thread that owns the read-write connection, and the reader queue, served by cfg->readers
 * threads with read-only connections. A store thread runs a job through the backend, appends it
 * to the completion list and pokes the loop through one uv_async_t; the loop drains the list and
 * calls each job's callback. libuv coalesces async sends, so a burst of completions costs one
 * wake-up, and the drain takes the whole list at once.
 *
 * Threads never touch stats or callbacks; the loop thread never touches a connection. The only
 * shared state is the two queues and the completion list, each under its own mutex.
 */
#include "store/store.h"

#include "store/backend.h"

#include "core/clock.h"
#include "core/err.h"
#include "core/xalloc.h"

#include <assert.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* More readers than this only add lock contention on one SQLite file. */
#define STORE_READERS_MAX 64
#define STORE_ERR_MAX     256

const double store_latency_bounds[STORE_LATENCY_BUCKETS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, INFINITY,
};

static const char *const op_names[STORE_OP_COUNT] = {
    [STORE_PING] = "ping",
    [STORE_SESSION_CREATE] = "session_create",
    [STORE_SESSION_BY_SECRET] = "session_by_secret",
    [STORE_SESSION_GET] = "session_get",
    [STORE_SESSION_CANCEL] = "session_cancel",
    [STORE_SESSION_PURGE] = "session_purge",
    [STORE_THREAD_CREATE] = "thread_create",
    [STORE_THREAD_GET] = "thread_get",
    [STORE_THREAD_UPDATE] = "thread_update",
    [STORE_THREAD_DELETE] = "thread_delete",
    [STORE_THREAD_LIST] = "thread_list",
    [STORE_ITEM_UPSERT] = "item_upsert",
    [STORE_ITEM_UPDATE] = "item_update",
    [STORE_ITEM_DELETE] = "item_delete",
    [STORE_ITEM_GET] = "item_get",
    [STORE_ITEM_LIST] = "item_list",
    [STORE_ITEM_DELETE_AFTER] = "item_delete_after",
    [STORE_ATTACHMENT_CREATE] = "attachment_create",
    [STORE_ATTACHMENT_GET] = "attachment_get",
    [STORE_ATTACHMENT_UPDATE] = "attachment_update",
    [STORE_ATTACHMENT_DELETE] = "attachment_delete",
    [STORE_ATTACHMENT_STALE] = "attachment_stale",
    [STORE_FEEDBACK_ADD] = "feedback_add",
    [STORE_FEEDBACK_EXPORT] = "feedback_export",
    [STORE_TASK_CREATE] = "task_create",
    [STORE_TASK_GET] = "task_get",
    [STORE_TASK_UPDATE] = "task_update",
    [STORE_TASK_DELETE] = "task_delete",
    [STORE_TASK_LIST] = "task_list",
    [STORE_RATE_TAKE] = "rate_take",
};

/* Operations that only read; they run on the reader threads. */
static const bool op_reads[STORE_OP_COUNT] = {
    [STORE_PING] = true,
    [STORE_SESSION_BY_SECRET] = true,
    [STORE_SESSION_GET] = true,
    [STORE_THREAD_GET] = true,
    [STORE_THREAD_LIST] = true,
    [STORE_ITEM_GET] = true,
    [STORE_ITEM_LIST] = true,
    [STORE_ATTACHMENT_GET] = true,
    [STORE_ATTACHMENT_STALE] = true,
    [STORE_FEEDBACK_EXPORT] = true,
    [STORE_TASK_GET] = true,
    [STORE_TASK_LIST] = true,
};

/* A FIFO of jobs served by one or more threads. */
struct store_queue {
    uv_mutex_t lock;
    uv_cond_t cond;         /* signalled on push and on stop */
    struct store_job *head; /* jobs linked through job->next */
    struct store_job *tail;
    bool stop;     /* set once by store_close; threads exit when also empty */
    unsigned idle; /* threads waiting on cond */
};

/* One store thread; owned by struct store. conn belongs to the thread itself. */
struct store_worker {
    struct store *s;
    struct store_queue *queue;
    bool writer;
    bool started; /* the thread exists and must be joined */
    uv_thread_t thread;
    /* Startup report, written by the thread under s->start_lock before it serves jobs. */
    bool reported;
    int open_rc;
    char open_err[STORE_ERR_MAX];
};

/* Owned by the caller of store_open() until store_close(); then by the async handle's close
 * callback, which frees it. */
struct store {
    uv_loop_t *loop; /* not owned */
    const struct store_backend *backend;
    struct store_config cfg; /* copy; cfg.url is the bare location, i.e. path */
    char *path;              /* owned */
    char *shown;             /* owned; path with any password redacted */
    struct store_queue writes;
    struct store_queue reads;
    struct store_worker *workers; /* owned; [0] is the writer */
    int nworkers;
    uv_mutex_t start_lock; /* guards the workers' startup reports */
    uv_cond_t start_cond;
    uv_mutex_t done_lock; /* guards the completion list */
    struct store_job *done_head;
    struct store_job *done_tail;
    uv_async_t async;             /* wakes the loop to drain completions */
    uv_prepare_t kick;            /* wakes the store threads once per loop turn (store_submit) */
    bool kick_writes, kick_reads; /* jobs were queued since the last kick */
    struct store_stats stats;     /* loop thread only */
    bool closing;                 /* loop thread only */
    void (*on_closed)(void *data);
    void *on_closed_data;
};

/* A zeroed filter would mean "open tasks of low priority"; "any" is the only safe default. */
void store_process_init(void)
{
    const struct store_backend *all[] = {&store_backend_sqlite, &store_backend_postgres};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (all[i]->process_init)
            all[i]->process_init();
}

void store_job_init(struct store_job *job, enum store_op op, store_job_cb cb, void *data)
{
    memset(job, 0, sizeof *job);
    job->op = op;
    job->cb = cb;
    job->data = data;
    /* Only for the op that uses the filter: in any other op these bytes belong to its member. */
    if (op == STORE_TASK_LIST) {
        job->task_filter.status = -1;
        job->task_filter.priority = -1;
    }
}

void store__thread_clear(struct store_thread *t)
{
    free(t->title);
    free(t->status_json);
    free(t->allowed_image_domains_json);
    free(t->metadata_json);
    t->title = t->status_json = t->allowed_image_domains_json = t->metadata_json = NULL;
}

void store__item_clear(struct store_item *it)
{
    free(it->json);
    it->json = NULL;
}

void store__task_clear(struct store_task *t)
{
    free(t->title);
    free(t->notes);
    free(t->tags_json);
    t->title = t->notes = t->tags_json = NULL;
}

void store__list_clear(struct store_list *l)
{
    for (size_t i = 0; l->threads && i < l->n; i++)
        store__thread_clear(&l->threads[i]);
    for (size_t i = 0; l->items && i < l->n; i++)
        store__item_clear(&l->items[i]);
    for (size_t i = 0; l->tasks && i < l->n; i++)
        store__task_clear(&l->tasks[i]);
    free(l->threads);
    free(l->items);
    free(l->tasks);
    free(l->attachments);
    free(l->feedback);
    memset(l, 0, sizeof *l);
}

static void session_clear(struct store_session *s)
{
    free(s->state_variables_json);
    free(s->config_json);
    s->state_variables_json = s->config_json = NULL;
}

/* The union holds only the member of job->op (store.h), so only that member's pointers are
 * read. Every op is listed, without a default, so the compiler flags a new op left out. */
void store_job_clear(struct store_job *job)
{
    switch (job->op) {
    case STORE_SESSION_CREATE:
    case STORE_SESSION_BY_SECRET:
    case STORE_SESSION_GET:
    case STORE_SESSION_CANCEL:
    case STORE_RATE_TAKE:
        session_clear(&job->session);
        break;
    case STORE_THREAD_CREATE:
    case STORE_THREAD_GET:
    case STORE_THREAD_UPDATE:
    case STORE_THREAD_DELETE:
        store__thread_clear(&job->thread);
        break;
    case STORE_ITEM_UPSERT:
    case STORE_ITEM_UPDATE:
    case STORE_ITEM_DELETE:
    case STORE_ITEM_GET:
    case STORE_ITEM_LIST:
    case STORE_ITEM_DELETE_AFTER:
        store__item_clear(&job->item);
        break;
    case STORE_TASK_CREATE:
    case STORE_TASK_GET:
    case STORE_TASK_UPDATE:
    case STORE_TASK_DELETE:
        store__task_clear(&job->task);
        break;
    case STORE_PING:
    case STORE_SESSION_PURGE:
    case STORE_THREAD_LIST:
    case STORE_ATTACHMENT_CREATE:
    case STORE_ATTACHMENT_GET:
    case STORE_ATTACHMENT_UPDATE:
    case STORE_ATTACHMENT_DELETE:
    case STORE_ATTACHMENT_STALE:
    case STORE_FEEDBACK_ADD:
    case STORE_FEEDBACK_EXPORT:
    case STORE_TASK_LIST:
    case STORE_OP_COUNT:
        break; /* no member, or one without owned pointers */
    }
    store__list_clear(&job->list);
}

const char *store_op_name(enum store_op op)
{
    if ((unsigned)op >= STORE_OP_COUNT)
        return "unknown";
    return op_names[op];
}

bool store__op_reads(enum store_op op)
{
    return (unsigned)op < STORE_OP_COUNT && op_reads[op];
}

/* Appends src[0..n) to out at *len (out has room: the result is never longer than the URL plus
 * a few stars per secret). */
static void put(char *out, size_t *len, const char *src, size_t n)
{
    memcpy(out + *len, src, n);
    *len += n;
}

/* "postgres://user:secret@host/db?password=x" is shown as
 * "postgres://user:***@host/db?password=***": locations go to logs and /health, passwords must not.
 * Returns a heap string. */
char *store_redact_url(const char *url)
{
    size_t ulen = strlen(url), len = 0;
    char *out = xmalloc(ulen + 16);
    const char *p = url;
    const char *auth = strstr(url, "://");
    if (auth) {
        auth += 3;
        size_t alen = strcspn(auth, "/?#");
        const char *at = memchr(auth, '@', alen);
        const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        if (colon) {
            put(out, &len, url, (size_t)(colon - url) + 1);
            put(out, &len, "***", 3);
            p = at;
        }
    }
    const char *pw = strstr(p, "password=");
    if (pw) {
        put(out, &len, p, (size_t)(pw - p) + 9);
        put(out, &len, "***", 3);
        p = pw + 9 + strcspn(pw + 9, "&");
    }
    put(out, &len, p, strlen(p));
    out[len] = '\0';
    return out;
}

/* Splits a database URL into a backend and its location. Accepted: "postgres://..." and
 * "postgresql://..." (the whole URI is the location), "sqlite:PATH", "sqlite:///ABSOLUTE/PATH"
 * and a plain path. Anything that looks like "scheme://" names a
 * database this build cannot talk to, and saying so beats creating a file called
 * "postgres:" in the working directory. */
static int parse_url(const char *url, const struct store_backend **backend, char **path, char *err,
                     size_t errlen)
{
    if (!url || !*url) {
        snprintf(err, errlen, "database URL is empty");
        return ERR_INVALID;
    }
    const char *p = url;
    if (strncasecmp(url, "postgres://", 11) == 0 || strncasecmp(url, "postgresql://", 13) == 0) {
        /* libpq parses the URI itself (host, port, user, database, sslmode=...). */
        *backend = &store_backend_postgres;
        *path = xstrdup(url);
        return 0;
    }
    if (strncasecmp(url, "sqlite:", 7) == 0) {
        p = url + 7;
        if (strncmp(p, "//", 2) == 0) {
            p += 2;
            if (*p != '/') {
                snprintf(err, errlen, "database URL %s: use sqlite:PATH or sqlite:///ABSOLUTE/PATH",
                         url);
                return ERR_INVALID;
            }
        }
    } else if (isalpha((unsigned char)url[0])) {
        size_t n = strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
        if (strncmp(url + n, "://", 3) == 0) {
            snprintf(err, errlen,
                     "unsupported database URL scheme '%.*s' (supported: sqlite, postgres)",
                     (int)(n > 32 ? 32 : n), url);
            return ERR_INVALID;
        }
    }
    if (!*p) {
        snprintf(err, errlen, "database URL %s has no path", url);
        return ERR_INVALID;
    }
    /* Each store thread opens its own connection, and every ":memory:" connection is a separate
     * empty database, so the readers would never see the writer's rows. */
    if (strcmp(p, ":memory:") == 0) {
        snprintf(err, errlen,
                 "an in-memory SQLite database cannot be shared between the store "
                 "threads; give a file path");
        return ERR_INVALID;
    }
    *backend = &store_backend_sqlite;
    *path = xstrdup(p);
    return 0;
}

/* readers only matters to store_open(); `chatkitd migrate` starts no threads. */
static int check_config(const struct store_config *cfg, bool threads, char *err, size_t errlen)
{
    if (threads && (cfg->pool_size < 0 || cfg->pool_size > STORE_READERS_MAX)) {
        snprintf(err, errlen, "store pool size must be between 1 and %d, not %d", STORE_READERS_MAX,
                 cfg->pool_size);
        return ERR_INVALID;
    }
    if (threads && (cfg->readers < 1 || cfg->readers > STORE_READERS_MAX)) {
        snprintf(err, errlen, "store readers must be between 1 and %d, not %d", STORE_READERS_MAX,
                 cfg->readers);
        return ERR_INVALID;
    }
    if (cfg->busy_timeout_ms < 0) {
        snprintf(err, errlen, "store busy timeout must not be negative");
        return ERR_INVALID;
    }
    return 0;
}

static int queue_init(struct store_queue *q)
{
    memset(q, 0, sizeof *q);
    int rc = uv_mutex_init(&q->lock);
    if (rc)
        return rc;
    rc = uv_cond_init(&q->cond);
    if (rc)
        uv_mutex_destroy(&q->lock);
    return rc;
}

static void queue_destroy(struct store_queue *q)
{
    uv_cond_destroy(&q->cond);
    uv_mutex_destroy(&q->lock);
}

/* Queues a job without waking anyone: queue_wake does that once for all the jobs a loop turn
 * submitted, so a burst of requests becomes one batch (one group commit) instead of a commit per
 * request with the writer preempting the loop after each (they share a core on small machines). */
static void queue_push(struct store_queue *q, struct store_job *job)
{
    job->next = NULL;
    uv_mutex_lock(&q->lock);
    if (q->tail)
        q->tail->next = job;
    else
        q->head = job;
    q->tail = job;
    uv_mutex_unlock(&q->lock);
}

/* Signalled after unlocking, and only when a thread sleeps: waking a thread that then finds the
 * lock still held costs two context switches per job (measured in bench/README.md). */
static void queue_wake(struct store_queue *q)
{
    uv_mutex_lock(&q->lock);
    unsigned idle = q->idle;
    bool more = q->head && q->head->next;
    uv_mutex_unlock(&q->lock);
    if (idle > 1 && more)
        uv_cond_broadcast(&q->cond);
    else if (idle)
        uv_cond_signal(&q->cond);
}

/* Blocks until a job is queued; NULL once the queue is stopped and empty, so jobs queued before
 * store_close() still run. */
static struct store_job *queue_pop(struct store_queue *q)
{
    uv_mutex_lock(&q->lock);
    while (!q->head && !q->stop) {
        q->idle++;
        uv_cond_wait(&q->cond, &q->lock);
        q->idle--;
    }
    struct store_job *job = q->head;
    if (job) {
        q->head = job->next;
        if (!q->head)
            q->tail = NULL;
        job->next = NULL;
    }
    uv_mutex_unlock(&q->lock);
    return job;
}

/* Takes up to max jobs at once (blocking like queue_pop); 0 once stopped and empty. */
static size_t queue_pop_many(struct store_queue *q, struct store_job **jobs, size_t max)
{
    size_t n = 0;
    uv_mutex_lock(&q->lock);
    while (!q->head && !q->stop) {
        q->idle++;
        uv_cond_wait(&q->cond, &q->lock);
        q->idle--;
    }
    while (q->head && n < max) {
        struct store_job *job = q->head;
        q->head = job->next;
        job->next = NULL;
        jobs[n++] = job;
    }
    if (!q->head)
        q->tail = NULL;
    uv_mutex_unlock(&q->lock);
    return n;
}

static void queue_stop(struct store_queue *q)
{
    uv_mutex_lock(&q->lock);
    q->stop = true;
    uv_cond_broadcast(&q->cond);
    uv_mutex_unlock(&q->lock);
}

/* Any thread: hands a finished job back to the loop. */
static void complete(struct store *s, struct store_job *job)
{
    job->next = NULL;
    uv_mutex_lock(&s->done_lock);
    if (s->done_tail)
        s->done_tail->next = job;
    else
        s->done_head = job;
    s->done_tail = job;
    uv_mutex_unlock(&s->done_lock);
    uv_async_send(&s->async);
}

/* ERR_NOT_FOUND and ERR_EXISTS are answers (unknown secret, duplicate id), not store failures;
 * counting them would make errors_total track client behaviour instead of database health. */
static bool is_failure(int status)
{
    return status != 0 && status != ERR_NOT_FOUND && status != ERR_EXISTS;
}

/* Loop thread: accounts for job, then hands it back to its owner. */
static void finish(struct store *s, struct store_job *job, int64_t now_us)
{
    struct store_stats *st = &s->stats;
    st->in_flight--;
    if ((unsigned)job->op < STORE_OP_COUNT)
        st->jobs_total[job->op]++;
    if (is_failure(job->status))
        st->errors_total++;
    double secs = now_us > job->submitted_us ? (double)(now_us - job->submitted_us) / 1e6 : 0.0;
    for (int i = 0; i < STORE_LATENCY_BUCKETS; i++) {
        if (secs <= store_latency_bounds[i])
            st->latency_le[i]++;
    }
    st->latency_count++;
    st->latency_sum_s += secs;
    job->cb(job);
}

/* Takes the whole list under the lock, then runs the callbacks without it, so a callback may
 * submit again. Latency is measured to the moment the loop picked the batch up, not to when each
 * callback runs, so a slow callback does not inflate the next job's figure. */
static void drain(struct store *s)
{
    uv_mutex_lock(&s->done_lock);
    struct store_job *job = s->done_head;
    s->done_head = s->done_tail = NULL;
    uv_mutex_unlock(&s->done_lock);

    int64_t now = clock_mono_us();
    while (job) {
        struct store_job *next = job->next;
        job->next = NULL;
        finish(s, job, now);
        job = next;
    }
}

static void on_async(uv_async_t *handle)
{
    drain(handle->data);
}

/* Runs before the loop waits for I/O, after everything this loop turn did: hands the jobs it
 * submitted to the store threads at once. */
static void on_kick(uv_prepare_t *handle)
{
    struct store *s = handle->data;
    uv_prepare_stop(handle);
    if (s->kick_writes)
        queue_wake(&s->writes);
    if (s->kick_reads)
        queue_wake(&s->reads);
    s->kick_writes = s->kick_reads = false;
}

/* The thread body: open a connection (the writer also migrates), report how that went, then
 * serve the queue until it is stopped and empty. */
/* The writer takes every write queued at once and commits them together (group commit, see
 * sqlite_run_batch): the queue grows exactly when writes arrive faster than one commit each. */
#define WRITE_BATCH_MAX 256

/* A pooled store thread takes fewer at once: the others should get a share of a burst. */
#define POOL_BATCH_MAX 16

static void writer_loop(struct store *s, struct store_worker *w, void *conn)
{
    struct store_job *jobs[WRITE_BATCH_MAX];
    size_t n, max = s->backend->pooled ? POOL_BATCH_MAX : WRITE_BATCH_MAX;
    while ((n = queue_pop_many(w->queue, jobs, max)) > 0) {
        if (n == 1)
            s->backend->run(conn, jobs[0]);
        else
            s->backend->run_batch(conn, jobs, n);
        for (size_t i = 0; i < n; i++)
            complete(s, jobs[i]);
    }
}

static void worker_main(void *arg)
{
    struct store_worker *w = arg;
    struct store *s = w->s;
    char err[STORE_ERR_MAX] = "";
    void *conn = NULL;

    int rc = s->backend->conn_open(&s->cfg, w->writer, &conn, err, sizeof err);
    if (rc == 0 && w->writer) {
        int applied = 0;
        rc = s->backend->migrate(conn, s->cfg.log, &applied, err, sizeof err);
        if (rc) {
            s->backend->conn_close(conn);
            conn = NULL;
        }
    }
    uv_mutex_lock(&s->start_lock);
    w->open_rc = rc;
    memcpy(w->open_err, err, sizeof err);
    w->reported = true;
    uv_cond_broadcast(&s->start_cond);
    uv_mutex_unlock(&s->start_lock);
    if (rc)
        return;

    if ((w->writer || s->backend->pooled) && s->backend->run_batch) {
        writer_loop(s, w, conn);
    } else {
        struct store_job *job;
        while ((job = queue_pop(w->queue))) {
            s->backend->run(conn, job);
            complete(s, job);
        }
    }
    s->backend->conn_close(conn);
}

/* Starts w and waits until its connection is open. Starting threads one by one keeps the order
 * the backend needs: the writer creates and migrates the file before any read-only connection
 * tries to open it. */
static int worker_start(struct store *s, struct store_worker *w, char *err, size_t errlen)
{
    int rc = uv_thread_create(&w->thread, worker_main, w);
    if (rc) {
        snprintf(err, errlen, "cannot start a store thread: %s", uv_strerror(rc));
        return rc;
    }
    w->started = true;
    uv_mutex_lock(&s->start_lock);
    while (!w->reported)
        uv_cond_wait(&s->start_cond, &s->start_lock);
    uv_mutex_unlock(&s->start_lock);
    if (w->open_rc) {
        snprintf(err, errlen, "%s", w->open_err);
        return w->open_rc;
    }
    return 0;
}

/* Lets every thread finish its queue and exit, and waits for them. Blocks the caller while
 * queued jobs run, which is acceptable at shutdown. */
static void workers_stop(struct store *s)
{
    queue_stop(&s->writes);
    queue_stop(&s->reads);
    for (int i = 0; i < s->nworkers; i++) {
        if (s->workers[i].started) {
            uv_thread_join(&s->workers[i].thread);
            s->workers[i].started = false;
        }
    }
}

/* Frees s after its threads are joined and its async handle (if any) is closed. */
static void store_free(struct store *s)
{
    queue_destroy(&s->writes);
    queue_destroy(&s->reads);
    uv_cond_destroy(&s->start_cond);
    uv_mutex_destroy(&s->start_lock);
    uv_mutex_destroy(&s->done_lock);
    free(s->workers);
    free(s->path);
    free(s->shown);
    free(s);
}

static struct store *store_alloc(void)
{
    struct store *s = xcalloc(1, sizeof *s);
    int rc = queue_init(&s->writes);
    if (rc)
        goto fail;
    rc = queue_init(&s->reads);
    if (rc)
        goto fail_writes;
    rc = uv_mutex_init(&s->start_lock);
    if (rc)
        goto fail_reads;
    rc = uv_cond_init(&s->start_cond);
    if (rc)
        goto fail_start_lock;
    rc = uv_mutex_init(&s->done_lock);
    if (rc)
        goto fail_start_cond;
    return s;

fail_start_cond:
    uv_cond_destroy(&s->start_cond);
fail_start_lock:
    uv_mutex_destroy(&s->start_lock);
fail_reads:
    queue_destroy(&s->reads);
fail_writes:
    queue_destroy(&s->writes);
fail:
    free(s);
    return NULL;
}

int store_open(uv_loop_t *loop, const struct store_config *cfg, struct store **out, char *err,
               size_t errlen)
{
    *out = NULL;
    const struct store_backend *backend;
    char *path;
    int rc = check_config(cfg, true, err, errlen);
    if (rc)
        return rc;
    rc = parse_url(cfg->url, &backend, &path, err, errlen);
    if (rc)
        return rc;

    struct store *s = store_alloc();
    if (!s) {
        snprintf(err, errlen, "cannot create the store's locks");
        free(path);
        return ERR_NOMEM;
    }
    s->loop = loop;
    s->backend = backend;
    s->path = path;
    s->shown = store_redact_url(path);
    s->cfg = *cfg;
    s->cfg.url = path;
    /* A pool serves one queue with equal connections; worker 0 still migrates first. */
    s->nworkers = backend->pooled ? (cfg->pool_size > 0 ? cfg->pool_size : 4) : 1 + cfg->readers;
    s->workers = xcalloc((size_t)s->nworkers, sizeof *s->workers);
    for (int i = 0; i < s->nworkers; i++) {
        s->workers[i].s = s;
        s->workers[i].writer = i == 0;
        s->workers[i].queue = i == 0 || backend->pooled ? &s->writes : &s->reads;
    }

    /* The writer goes first and migrates, so a bad path or a too-new schema is reported here,
     * synchronously, rather than as failing jobs later. */
    for (int i = 0; i < s->nworkers; i++) {
        rc = worker_start(s, &s->workers[i], err, errlen);
        if (rc)
            goto fail;
    }
    /* Last, so a failure above never leaves a handle that would need the loop to close. No
     * thread sends before the first job is submitted, which is after we return. */
    rc = uv_async_init(loop, &s->async, on_async);
    if (rc) {
        snprintf(err, errlen, "cannot create the store's wake-up handle: %s", uv_strerror(rc));
        goto fail;
    }
    s->async.data = s;
    uv_prepare_init(loop, &s->kick); /* cannot fail on Unix (it only links the handle) */
    s->kick.data = s;
    uv_unref((uv_handle_t *)&s->kick);
    *out = s;
    return 0;

fail:
    workers_stop(s);
    store_free(s);
    return rc;
}

int store_submit(struct store *s, struct store_job *job)
{
    if (s->closing)
        return ERR_UNAVAILABLE;
    if (!job->cb)
        return ERR_INVALID;
    job->status = 0;
    job->error[0] = '\0';
    job->affected = 0;
    job->submitted_us = clock_mono_us();
    s->stats.in_flight++;
    if ((unsigned)job->op >= STORE_OP_COUNT) {
        /* Completed through the normal path so the callback still runs later, never inside
         * store_submit(). */
        job->status = ERR_INVALID;
        snprintf(job->error, sizeof job->error, "unknown store operation %d", (int)job->op);
        complete(s, job);
        return 0;
    }
    bool read = store__op_reads(job->op) && !s->backend->pooled;
    queue_push(read ? &s->reads : &s->writes, job);
    if (read)
        s->kick_reads = true;
    else
        s->kick_writes = true;
    uv_prepare_start(&s->kick, on_kick);
    return 0;
}

/* Completions that arrived after the last async wake-up are delivered here: once uv_close() is
 * called the async callback never runs again, and the close callback is a safe point, outside
 * any callback chain of ours. */
static void on_async_closed(uv_handle_t *handle)
{
    struct store *s = handle->data;
    drain(s);
    assert(s->stats.in_flight == 0);
    if (s->on_closed)
        s->on_closed(s->on_closed_data);
    store_free(s);
}

/* The kick handle lives in s, so the async handle (whose close frees s) closes after it. */
static void on_kick_closed(uv_handle_t *handle)
{
    struct store *s = handle->data;
    uv_close((uv_handle_t *)&s->async, on_async_closed);
}

void store_close(struct store *s, void (*on_closed)(void *data), void *data)
{
    assert(!s->closing);
    s->closing = true;
    s->on_closed = on_closed;
    s->on_closed_data = data;
    workers_stop(s);
    uv_close((uv_handle_t *)&s->kick, on_kick_closed);
}

const struct store_stats *store_get_stats(const struct store *s)
{
    return &s->stats;
}

const char *store_backend_name(const struct store *s)
{
    return s->backend->name;
}

const char *store_location(const struct store *s)
{
    return s->shown;
}

int store_migrate(const struct store_config *cfg, int *applied, char *err, size_t errlen)
{
    const struct store_backend *backend;
    char *path;
    int n = 0;
    if (applied)
        *applied = 0;
    int rc = check_config(cfg, false, err, errlen);
    if (rc)
        return rc;
    rc = parse_url(cfg->url, &backend, &path, err, errlen);
    if (rc)
        return rc;
    struct store_config c = *cfg;
    c.url = path;
    void *conn;
    rc = backend->conn_open(&c, true, &conn, err, errlen);
    if (rc == 0) {
        rc = backend->migrate(conn, cfg->log, &n, err, errlen);
        backend->conn_close(conn);
    }
    free(path);
    if (applied)
        *applied = n;
    return rc;
}

unsigned store__task_list_mask(const struct store_job *job)
{
    const struct store_task_filter *f = &job->task_filter;
    return (job->page.desc ? STORE_TL_DESC : 0) | (f->status >= 0 ? STORE_TL_STATUS : 0) |
           (f->priority >= 0 ? STORE_TL_PRIORITY : 0) | (f->tag[0] ? STORE_TL_TAG : 0) |
           (f->due_before[0] ? STORE_TL_DUE_BEFORE : 0) |
           (f->due_after[0] ? STORE_TL_DUE_AFTER : 0) | (f->has_due ? STORE_TL_HAS_DUE : 0) |
           (f->q[0] ? STORE_TL_Q : 0);
}
