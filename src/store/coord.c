/* coord.c - the replicas' coordination connection (see coord.h).
 *
 * States: DOWN (no connection; the timer reconnects after the backoff), CONNECTING (libpq's
 * non-blocking connect, driven by PQconnectPoll from poll events) and READY (queries flow; the
 * first one is the LISTEN). The poll handle watches one socket; libpq may switch sockets while
 * connecting (several addresses for one host name), and a uv_poll_t cannot change its socket, so
 * the handle is closed and initialized again around the new one.
 */
#include "store/coord.h"
#include "store/pq_lazy.h"

#include "core/clock.h"
#include "core/err.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { COORD_DOWN, COORD_CONNECTING, COORD_READY };
enum { Q_LISTEN, Q_TRY, Q_UNLOCK, Q_NOTIFY };

#define BACKOFF_MIN_MS     100
#define BACKOFF_MAX_MS     5000
#define CONNECT_TIMEOUT_US (3 * 1000000)

/* One query waiting to be sent or in flight; owned by the coordinator's queue. */
struct coord_query {
    struct coord_query *next;
    int kind;
    int64_t key;                   /* Q_TRY, Q_UNLOCK */
    struct store_coord_lock *lock; /* Q_TRY; NULL once the request was withdrawn */
    char *payload;                 /* owned; Q_NOTIFY */
};

static void watch(struct store_coord *c, int events);
static void conn_lost(struct store_coord *c, const char *why);

static int64_t key_of(const char *name)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return (int64_t)h;
}

static void timer_in(struct store_coord *c, uint64_t ms);

/* ---- queries ---- */

static void enqueue(struct store_coord *c, int kind, int64_t key, struct store_coord_lock *lock,
                    char *payload)
{
    struct coord_query *q = xcalloc(1, sizeof *q);
    q->kind = kind;
    q->key = key;
    q->lock = lock;
    q->payload = payload;
    if (c->queue_tail)
        c->queue_tail->next = q;
    else
        c->queue_head = q;
    c->queue_tail = q;
    c->queued++;
}

static void query_free(struct coord_query *q)
{
    free(q->payload);
    free(q);
}

static struct coord_query *dequeue(struct store_coord *c)
{
    struct coord_query *q = c->queue_head;
    if (q) {
        c->queue_head = q->next;
        if (!c->queue_head)
            c->queue_tail = NULL;
        c->queued--;
    }
    return q;
}

/* Sends the head of the queue when nothing is in flight. */
static void send_next(struct store_coord *c)
{
    struct coord_query *q = c->queue_head;
    if (c->state != COORD_READY || c->sent || !q)
        return;
    char key[24];
    snprintf(key, sizeof key, "%lld", (long long)q->key);
    const char *values[1] = {q->kind == Q_NOTIFY ? q->payload : key};
    int ok;
    switch (q->kind) {
    case Q_LISTEN:
        ok = PQsendQuery(c->db, "LISTEN chatkitd_events; LISTEN chatkitd_unlock");
        break;
    case Q_TRY:
        ok = PQsendQueryParams(c->db, "SELECT pg_try_advisory_lock($1::bigint)", 1, NULL, values,
                               NULL, NULL, 0);
        break;
    case Q_UNLOCK:
        ok = PQsendQueryParams(c->db,
                               "SELECT pg_advisory_unlock($1::bigint), "
                               "pg_notify('chatkitd_unlock', $1::text)",
                               1, NULL, values, NULL, NULL, 0);
        break;
    default:
        ok = PQsendQueryParams(c->db, "SELECT pg_notify('chatkitd_events', $1)", 1, NULL, values,
                               NULL, NULL, 0);
        break;
    }
    if (!ok) {
        conn_lost(c, PQerrorMessage(c->db));
        return;
    }
    c->sent = true;
    int f = PQflush(c->db);
    if (f < 0)
        conn_lost(c, PQerrorMessage(c->db));
    else
        watch(c, UV_READABLE | (f ? UV_WRITABLE : 0));
}

/* ---- locks ---- */

static void waiting_remove(struct store_coord *c, struct store_coord_lock *lock)
{
    for (struct store_coord_lock **pp = &c->waiting; *pp; pp = &(*pp)->next) {
        if (*pp == lock) {
            *pp = lock->next;
            lock->next = NULL;
            break;
        }
    }
    lock->waiting = false;
}

static void try_lock(struct store_coord *c, struct store_coord_lock *lock)
{
    if (lock->trying)
        return;
    lock->trying = true;
    enqueue(c, Q_TRY, lock->key, lock, NULL);
    send_next(c);
}

/* Fails every waiting request (the connection is gone or cannot be made). */
static void fail_waiting(struct store_coord *c)
{
    while (c->waiting) {
        struct store_coord_lock *lock = c->waiting;
        waiting_remove(c, lock);
        lock->trying = false;
        lock->cb(lock, ERR_UNAVAILABLE);
    }
}

/* The answer to a try: granted, or still waiting (retried on an unlock notice or the tick). A
 * grant for a request withdrawn meanwhile is given back at once. */
static void try_answered(struct store_coord *c, struct coord_query *q, const PGresult *r)
{
    bool got = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
               strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    struct store_coord_lock *lock = q->lock;
    if (!lock) {
        if (got)
            enqueue(c, Q_UNLOCK, q->key, NULL, NULL);
        return;
    }
    lock->trying = false;
    if (!got)
        return;
    waiting_remove(c, lock);
    lock->held = true;
    lock->cb(lock, 0);
}

void store_coord_lock(struct store_coord *c, struct store_coord_lock *lock, const char *name,
                      store_coord_lock_cb cb, void *data)
{
    lock->key = key_of(name);
    lock->cb = cb;
    lock->data = data;
    lock->held = false;
    lock->trying = false;
    lock->waiting = true;
    lock->next = c->waiting;
    c->waiting = lock;
    if (c->state == COORD_READY)
        try_lock(c, lock);
    timer_in(c, STORE_COORD_RETRY_MS); /* a request made while down fails on this tick */
}

void store_coord_unlock(struct store_coord *c, struct store_coord_lock *lock)
{
    if (lock->waiting) {
        waiting_remove(c, lock);
        for (struct coord_query *q = c->queue_head; q; q = q->next) {
            if (q->lock == lock)
                q->lock = NULL;
        }
        lock->trying = false;
        return;
    }
    if (!lock->held)
        return;
    lock->held = false;
    if (c->state == COORD_READY) {
        enqueue(c, Q_UNLOCK, lock->key, NULL, NULL);
        send_next(c);
    }
}

/* ---- notices ---- */

int store_coord_notify(struct store_coord *c, const char *payload, size_t len)
{
    if (len > STORE_COORD_NOTICE_MAX)
        return ERR_TOO_BIG;
    if (c->state != COORD_READY || c->queued >= STORE_COORD_QUEUE_MAX)
        return ERR_UNAVAILABLE;
    enqueue(c, Q_NOTIFY, 0, NULL, xstrndup(payload, len));
    send_next(c);
    return 0;
}

static void notices(struct store_coord *c)
{
    PGnotify *n;
    while (c->db && (n = PQnotifies(c->db)) != NULL) {
        if (strcmp(n->relname, "chatkitd_unlock") == 0) {
            int64_t key = strtoll(n->extra, NULL, 10);
            for (struct store_coord_lock *l = c->waiting; l; l = l->next) {
                if (l->key == key)
                    try_lock(c, l);
            }
        } else {
            c->notices_received++;
            if (c->on_notice)
                c->on_notice(c->notice_data, n->extra, strlen(n->extra));
        }
        PQfreemem(n);
    }
}

/* ---- the connection ---- */

static void on_poll(uv_poll_t *h, int status, int events);

static void on_poll_closed(uv_handle_t *h)
{
    struct store_coord *c = h->data;
    c->poll_fd = -1;
    c->poll_closing = false;
    c->open_handles--;
    if (c->closing) {
        if (c->open_handles == 0 && c->on_closed)
            c->on_closed(c->closed_data);
        return;
    }
    if (c->db)
        watch(c, c->state == COORD_READY ? UV_READABLE : UV_WRITABLE);
}

static void poll_drop(struct store_coord *c)
{
    if (c->poll_fd >= 0 && !c->poll_closing) {
        uv_poll_stop(&c->poll);
        c->poll_closing = true;
        uv_close((uv_handle_t *)&c->poll, on_poll_closed);
    }
}

/* Watches the connection's current socket for events. */
static void watch(struct store_coord *c, int events)
{
    int fd = PQsocket(c->db);
    if (c->poll_closing || fd < 0)
        return; /* on_poll_closed watches again */
    if (c->poll_fd >= 0 && c->poll_fd != fd) {
        poll_drop(c);
        return;
    }
    if (c->poll_fd < 0) {
        if (uv_poll_init(c->loop, &c->poll, fd)) {
            conn_lost(c, "cannot watch the socket");
            return;
        }
        c->poll.data = c;
        c->poll_fd = fd;
        c->open_handles++;
    }
    uv_poll_start(&c->poll, events, on_poll);
}

static void conn_lost(struct store_coord *c, const char *why)
{
    if (c->state != COORD_DOWN)
        log_warn(c->log, "replica coordination connection lost: %.*s", (int)strcspn(why, "\n"),
                 why);
    poll_drop(c); /* before PQfinish closes the socket it watches */
    PQfinish(c->db);
    c->db = NULL;
    c->state = COORD_DOWN;
    c->sent = false;
    struct coord_query *q;
    while ((q = dequeue(c)) != NULL) {
        if (q->lock)
            q->lock->trying = false;
        query_free(q);
    }
    fail_waiting(c);
    c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (c->backoff_ms > BACKOFF_MAX_MS)
        c->backoff_ms = BACKOFF_MAX_MS;
    timer_in(c, (uint64_t)c->backoff_ms);
}

static void connect_start(struct store_coord *c)
{
    const char *keys[] = {"dbname", "application_name", NULL};
    const char *values[] = {c->url, "chatkitd-coord", NULL};
    char err[300];
    if (pq_lazy_load(err, sizeof err)) {
        conn_lost(c, err);
        return;
    }
    c->db = PQconnectStartParams(keys, values, 1);
    if (!c->db || PQstatus(c->db) == CONNECTION_BAD) {
        conn_lost(c, c->db ? PQerrorMessage(c->db) : "out of memory");
        return;
    }
    c->state = COORD_CONNECTING;
    c->connect_started_us = clock_mono_us();
    watch(c, UV_WRITABLE);
    timer_in(c, 500);
}

static void connecting(struct store_coord *c)
{
    switch (PQconnectPoll(c->db)) {
    case PGRES_POLLING_READING:
        watch(c, UV_READABLE);
        return;
    case PGRES_POLLING_WRITING:
        watch(c, UV_WRITABLE);
        return;
    case PGRES_POLLING_OK:
        break;
    default:
        conn_lost(c, PQerrorMessage(c->db));
        return;
    }
    if (PQsetnonblocking(c->db, 1) != 0) {
        conn_lost(c, PQerrorMessage(c->db));
        return;
    }
    if (c->backoff_ms)
        log_info(c->log, "replica coordination connection restored");
    c->backoff_ms = 0;
    c->state = COORD_READY;
    /* LISTEN goes first; queries asked for while connecting wait behind it. */
    struct coord_query *listen = xcalloc(1, sizeof *listen);
    listen->kind = Q_LISTEN;
    listen->next = c->queue_head;
    c->queue_head = listen;
    if (!c->queue_tail)
        c->queue_tail = listen;
    c->queued++;
    for (struct store_coord_lock *l = c->waiting; l; l = l->next)
        try_lock(c, l);
    send_next(c);
}

/* Reads what arrived: results of the query in flight, then notices. */
static void readable(struct store_coord *c)
{
    if (!PQconsumeInput(c->db)) {
        conn_lost(c, PQerrorMessage(c->db));
        return;
    }
    while (c->db && c->sent && !PQisBusy(c->db)) {
        PGresult *r = PQgetResult(c->db);
        if (r) {
            struct coord_query *q = c->queue_head;
            if (q && q->kind == Q_TRY)
                try_answered(c, q, r);
            PQclear(r);
            continue;
        }
        c->sent = false;
        query_free(dequeue(c));
        send_next(c);
    }
    notices(c);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct store_coord *c = h->data;
    if (!c->db || c->closing)
        return;
    if (status < 0) {
        conn_lost(c, uv_strerror(status));
        return;
    }
    if (c->state == COORD_CONNECTING) {
        connecting(c);
        return;
    }
    if (events & UV_WRITABLE) {
        int f = PQflush(c->db);
        if (f < 0) {
            conn_lost(c, PQerrorMessage(c->db));
            return;
        }
        watch(c, UV_READABLE | (f ? UV_WRITABLE : 0));
    }
    if (events & UV_READABLE)
        readable(c);
}

/* The one timer: reconnects when down, bounds the connect, fails requests made while down, and
 * retries waiting locks. */
static void on_timer(uv_timer_t *h)
{
    struct store_coord *c = h->data;
    if (c->closing)
        return;
    if (c->state == COORD_DOWN) {
        fail_waiting(c);
        connect_start(c);
        return;
    }
    if (c->state == COORD_CONNECTING) {
        if (clock_mono_us() - c->connect_started_us > CONNECT_TIMEOUT_US)
            conn_lost(c, "connect timed out");
        else
            timer_in(c, 500);
        return;
    }
    for (struct store_coord_lock *l = c->waiting; l; l = l->next)
        try_lock(c, l);
    if (c->waiting)
        timer_in(c, STORE_COORD_RETRY_MS);
}

static void timer_in(struct store_coord *c, uint64_t ms)
{
    if (c->closing)
        return;
    /* An earlier deadline wins: a reconnect is never pushed back by a lock tick. */
    uint64_t due = uv_timer_get_due_in(&c->timer);
    if (uv_is_active((uv_handle_t *)&c->timer) && due <= ms)
        return;
    uv_timer_start(&c->timer, on_timer, ms, 0);
}

int store_coord_start(struct store_coord *c, uv_loop_t *loop, const char *url,
                      const struct logger *log, store_coord_notice_cb cb, void *data)
{
    memset(c, 0, sizeof *c);
    c->loop = loop;
    c->log = log;
    c->poll_fd = -1;
    c->on_notice = cb;
    c->notice_data = data;
    int rc = uv_timer_init(loop, &c->timer);
    if (rc)
        return rc;
    c->timer.data = c;
    c->open_handles = 1;
    c->url = xstrdup(url);
    c->state = COORD_DOWN;
    connect_start(c);
    return 0;
}

bool store_coord_ready(const struct store_coord *c)
{
    return c->state == COORD_READY;
}

static void on_timer_closed(uv_handle_t *h)
{
    struct store_coord *c = h->data;
    c->open_handles--;
    if (c->open_handles == 0 && c->on_closed)
        c->on_closed(c->closed_data);
}

void store_coord_close(struct store_coord *c, void (*on_closed)(void *data), void *data)
{
    c->on_closed = on_closed;
    c->closed_data = data;
    poll_drop(c);
    PQfinish(c->db);
    c->db = NULL;
    c->state = COORD_DOWN;
    struct coord_query *q;
    while ((q = dequeue(c)) != NULL)
        query_free(q);
    fail_waiting(c);
    c->closing = true;
    free(c->url);
    c->url = NULL;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}
