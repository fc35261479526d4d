/* store.h - the one storage contract of chatkitd, the same for every backend.
 *
 * The loop thread never touches the database. It fills a struct store_job (the operation, its
 * inputs and room for its outputs), hands it to store_submit(), and gets the job back in
 * job->cb on the loop thread once a store thread ran it. Backends (SQLite now, PostgreSQL next)
 * only implement the operations below; nothing backend-specific crosses this header.
 *
 * Threads: SQLite runs one writer thread (the only read-write connection; WAL allows one writer)
 * and `readers` reader threads; read-only operations go to the readers, everything else to the
 * writer, so a slow write never delays a read. Each operation runs in one transaction.
 *
 * Ownership: the caller owns the job (usually embedded in its request context) and must keep it
 * alive until its callback ran; the store never frees it. Heap outputs inside a job (JSON text of
 * a session) belong to the job and are released with store_job_clear(); an operation that loads a
 * session frees the JSON pointers the job held before replacing them, so they must be heap
 * strings or NULL.
 */
#ifndef CHATKITD_STORE_H
#define CHATKITD_STORE_H

#include "core/id.h"
#include "core/log.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define STORE_USER_ID_MAX     257 /* user ids are 1..256 bytes, plus NUL */
#define STORE_WORKFLOW_ID_MAX 129 /* workflow ids are 1..128 bytes, plus NUL */
#define STORE_VERSION_MAX     65  /* workflow versions are 1..64 bytes, plus NUL */
#define STORE_HASH_LEN        32  /* SHA-256 of a client secret */

/* Where a session was minted: the browser-facing route or the admin API. */
enum store_session_origin { STORE_ORIGIN_BROWSER = 0, STORE_ORIGIN_API = 1 };

struct store_session {
    char id[ID_MAX]; /* "cksess_" + 32 hex */
    unsigned char secret_hash[STORE_HASH_LEN];
    char user_id[STORE_USER_ID_MAX];
    char workflow_id[STORE_WORKFLOW_ID_MAX];
    char workflow_version[STORE_VERSION_MAX]; /* "" when the session follows the latest */
    char *state_variables_json;               /* owned; a JSON object, "{}" when none */
    char *config_json;                        /* owned; resolved chatkit_configuration object */
    int rate_per_min;                         /* max requests per minute with this secret */
    int origin;                               /* enum store_session_origin */
    bool tracing;                             /* workflow.tracing.enabled as requested */
    int64_t created_us;                       /* wall clock, µs */
    int64_t expires_at;                       /* wall clock, whole seconds */
    int64_t cancelled_us;                     /* 0 while not cancelled */
};

enum store_op {
    STORE_PING,              /* a real round trip; fails when the database is gone */
    STORE_SESSION_CREATE,    /* in: session (user row created on first use) */
    STORE_SESSION_BY_SECRET, /* in: session.secret_hash; out: session or ERR_NOT_FOUND */
    STORE_SESSION_GET,       /* in: session.id; out: session or ERR_NOT_FOUND */
    STORE_SESSION_CANCEL,    /* in: session.id, session.cancelled_us; out: the session after */
    STORE_SESSION_PURGE,     /* in: purge_before_s; deletes sessions expired before it */
    STORE_OP_COUNT
};

struct store_job;
/* Runs on the loop thread. job->status is 0, ERR_NOT_FOUND, ERR_EXISTS (create with a taken id or
 * secret hash), ERR_INVALID (bad input or unknown op), ERR_UNAVAILABLE (database locked past the
 * busy timeout) or ERR_IO; job->error holds a message for logs when status is not 0. */
typedef void (*store_job_cb)(struct store_job *job);

struct store_job {
    enum store_op op;
    store_job_cb cb;
    void *data;      /* for the caller */
    int status;      /* set by the store */
    char error[160]; /* set by the store when status != 0 */
    struct store_session session;
    int64_t purge_before_s;
    int64_t affected; /* rows changed, for purge and cancel */
    /* Internal to the store: queue link and timing. */
    struct store_job *next;
    int64_t submitted_us;
};

struct store_config {
    const char *url;          /* "sqlite:PATH" or a plain path */
    int readers;              /* reader threads, >= 1 */
    int busy_timeout_ms;      /* how long a connection waits on a lock */
    const struct logger *log; /* not owned */
};

/* Counters for /metrics, all read and written on the loop thread. */
#define STORE_LATENCY_BUCKETS 12
struct store_stats {
    uint64_t in_flight; /* submitted, callback not yet run */
    uint64_t jobs_total[STORE_OP_COUNT];
    uint64_t errors_total; /* failed jobs; ERR_NOT_FOUND/ERR_EXISTS are answers */
    uint64_t latency_le[STORE_LATENCY_BUCKETS]; /* cumulative counts per bucket bound; latency is
                                                 * submit to the loop picking the result up */
    uint64_t latency_count;
    double latency_sum_s;
};
/* Upper bounds of the latency buckets, in seconds (the last one is +Inf). */
extern const double store_latency_bounds[STORE_LATENCY_BUCKETS];

struct store;

/* Prepares a job for op: zeroes it and sets op, cb and data. */
void store_job_init(struct store_job *job, enum store_op op, store_job_cb cb, void *data);
/* Frees heap outputs held by job (session JSON texts); the job can be reused after. */
void store_job_clear(struct store_job *job);
/* Name of an operation for logs and metrics ("session_create"). */
const char *store_op_name(enum store_op op);

/* Opens the database, applies pending migrations and starts the store threads. On failure
 * returns a code, writes a reason into err and leaves *out NULL. */
int store_open(uv_loop_t *loop, const struct store_config *cfg, struct store **out, char *err,
               size_t errlen);
/* Queues job; its callback runs later on the loop thread, never from inside this call. Returns
 * ERR_UNAVAILABLE once store_close() began, ERR_INVALID when job->cb is NULL; the callback is
 * never called after an error return. */
int store_submit(struct store *s, struct store_job *job);
/* Stops accepting jobs, lets queued ones finish, joins the threads (blocking while they finish),
 * then, from a later loop iteration, runs the remaining job callbacks and calls on_closed (may be
 * NULL); the store is freed after that callback. Call it once, possibly from a job callback. */
void store_close(struct store *s, void (*on_closed)(void *data), void *data);
const struct store_stats *store_get_stats(const struct store *s);
/* Name of the backend ("sqlite") and, for logs, its location with any password redacted. */
const char *store_backend_name(const struct store *s);
const char *store_location(const struct store *s);

/* Applies pending migrations without starting threads (`chatkitd migrate`); writes a line per
 * applied version to log. Returns 0 or a code with err filled. */
int store_migrate(const struct store_config *cfg, int *applied, char *err, size_t errlen);

#endif
