/* coord.h - coordination between chatkitd replicas that share one PostgreSQL database.
 *
 * One extra connection per process, driven from the loop without blocking (libpq in
 * non-blocking mode, its socket watched by a uv_poll_t), carries everything replicas tell each
 * other:
 *
 *   - notices: store_coord_notify() sends NOTIFY on the chatkitd_events channel (autocommit, so
 *     the caller sends it after its own change committed); every process LISTENs on that channel
 *     and gets every notice, its own included, through the notice callback;
 *   - thread locks: session-level advisory locks keyed by a 64-bit hash of a name (a thread id).
 *     They belong to this connection, not to a pool connection, so a held lock costs the pool
 *     nothing, and PostgreSQL drops them when the process dies and its connection closes. A lock
 *     that is taken elsewhere is retried when its holder announces the unlock (a notice on
 *     chatkitd_unlock) and every STORE_COORD_RETRY_MS in any case.
 *
 * Queries go out one at a time in FIFO order, so an unlock is always seen before a later try
 * of the same key. When the connection is lost, waiting lock requests fail with ERR_UNAVAILABLE
 * (callers answer 503 at once), held locks are gone with the connection, and the coordinator
 * reconnects with a doubling backoff (100 ms to 5 s). Loop thread only.
 *
 * Ownership: the caller owns the struct store_coord (embedded or allocated) and each
 * struct store_coord_lock; a lock request must stay valid until its callback ran or it was
 * cancelled. store_coord_close() ends everything; the struct may be freed in on_closed.
 */
#ifndef CHATKITD_STORE_COORD_H
#define CHATKITD_STORE_COORD_H

#include "core/log.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define STORE_COORD_RETRY_MS   50
#define STORE_COORD_NOTICE_MAX 7900  /* PostgreSQL refuses NOTIFY payloads of 8000 bytes */
#define STORE_COORD_QUEUE_MAX  10000 /* notices waiting to be sent; more are dropped */

struct store_coord;
struct store_coord_lock;

/* A notice from any replica (this one included): payload is NUL-terminated, len bytes. */
typedef void (*store_coord_notice_cb)(void *data, const char *payload, size_t len);
/* A lock request ended: status 0 (held until store_coord_unlock) or ERR_UNAVAILABLE. */
typedef void (*store_coord_lock_cb)(struct store_coord_lock *lock, int status);

struct store_coord_lock {
    int64_t key;
    store_coord_lock_cb cb;
    void *data;   /* for the caller */
    bool waiting; /* between request and callback */
    bool trying;  /* a try of it is queued or in flight */
    bool held;
    struct store_coord_lock *next; /* in the waiting list */
};

struct coord_query;

struct store_coord {
    uv_loop_t *loop;          /* not owned */
    const struct logger *log; /* not owned */
    char *url;                /* owned; never logged */
    PGconn *db;               /* NULL while down */
    int state;                /* see coord.c */
    uv_poll_t poll;
    int poll_fd; /* the socket poll watches, -1 when none */
    bool poll_closing;
    uv_timer_t timer; /* reconnect backoff, then the lock retry tick */
    int backoff_ms;
    int64_t connect_started_us;
    struct coord_query *queue_head, *queue_tail; /* owned; head is in flight when sent */
    size_t queued;                               /* queries in the queue */
    bool sent;
    struct store_coord_lock *waiting; /* not owned */
    store_coord_notice_cb on_notice;
    void *notice_data;
    bool closing;
    int open_handles;
    void (*on_closed)(void *data);
    void *closed_data;
    uint64_t notices_received; /* for tests and metrics */
};

/* Starts connecting to url (a libpq URI) on loop; notices go to cb. Returns 0 (the connection is
 * made in the background; a failure is retried) or a libuv error. */
int store_coord_start(struct store_coord *c, uv_loop_t *loop, const char *url,
                      const struct logger *log, store_coord_notice_cb cb, void *data);
/* True once connected and listening. */
bool store_coord_ready(const struct store_coord *c);
/* Sends payload (len <= STORE_COORD_NOTICE_MAX) to every replica; ERR_TOO_BIG, or
 * ERR_UNAVAILABLE when not connected or STORE_COORD_QUEUE_MAX queries already wait (the database
 * is not keeping up): the notice is dropped. */
int store_coord_notify(struct store_coord *c, const char *payload, size_t len);
/* Asks for the lock of name; lock->cb runs later (never inside this call). */
void store_coord_lock(struct store_coord *c, struct store_coord_lock *lock, const char *name,
                      store_coord_lock_cb cb, void *data);
/* Releases a held lock, or withdraws a request still waiting (its callback never runs). */
void store_coord_unlock(struct store_coord *c, struct store_coord_lock *lock);
/* Closes the connection and the handles; on_closed (may be NULL) runs once they are closed. */
void store_coord_close(struct store_coord *c, void (*on_closed)(void *data), void *data);

#endif
