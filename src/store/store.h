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
 * alive until its callback ran; the store never frees it. Every pointer marked "owned" below
 * (session JSON, thread, item and task strings, the rows of job->list) belongs to the job, input
 * or output alike, and is released with store_job_clear(). So inputs must be heap strings (or
 * NULL): an operation that loads a row frees the pointers the job held before replacing them, and
 * a list operation frees the list the job held before filling it. Other pointers (item_ids_json)
 * are not owned.
 *
 * One row member per job: session, thread, item, attachment, feedback, task and task_filter share
 * storage (an anonymous union), because every operation uses at most one of them as its input
 * and output; the comment of each op below names it. A caller fills only that member, after
 * store_job_init for the op, and reads only that member back; store_job_clear frees the owned
 * pointers of the member job->op uses and no other. So changing job->op on a filled job is only
 * allowed between ops of the same member (THREAD_GET -> THREAD_UPDATE); for any other op, clear
 * the job and init it again. The header fields (user_id, page, list, before_us, ...) are outside
 * the union and may be used together with the member.
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

/* ChatKit threads (spec §2.4). Owned strings are heap copies released by store_job_clear.
 * user_id is an output (the owner); the acting user is always job->user_id. */
struct store_thread {
    char id[ID_MAX];
    char user_id[STORE_USER_ID_MAX];
    int64_t created_us;
    int64_t updated_us;
    char *title;                      /* owned; NULL = untitled */
    char *status_json;                /* owned; {"type":"active"} when NULL on create; NULL on
                                       * update keeps the stored status */
    char *allowed_image_domains_json; /* owned; JSON array, NULL = unset */
    char *metadata_json;              /* owned; server-private JSON object, "{}" when NULL on
                                       * create; NULL on update keeps the stored metadata */
};

/* A thread item, stored whole as the JSON last sent (hidden items as stored, spec §3.10). */
struct store_item {
    char id[ID_MAX];
    char thread_id[ID_MAX];
    char type[32];      /* "user_message", "widget", ... */
    int64_t created_us; /* kept from the first insert; order is insertion order */
    bool hidden;        /* hidden_context_item / sdk_hidden_context */
    char *json;         /* owned; the complete item object */
};

/* Uploaded files: bytes live on disk under the data dir, never in rows. */
enum store_attachment_state { STORE_ATTACHMENT_PENDING = 0, STORE_ATTACHMENT_UPLOADED = 1 };

struct store_attachment {
    char id[ID_MAX];
    char user_id[STORE_USER_ID_MAX];
    char thread_id[ID_MAX]; /* "" until a message uses it */
    char name[256];
    char mime_type[128];
    int64_t size; /* declared (pending) or actual (uploaded) bytes */
    bool image;
    int state;     /* enum store_attachment_state */
    bool attached; /* referenced by a user message (exempt from cleanup) */
    int64_t created_us;
};

struct store_feedback {
    int64_t seq; /* export cursor */
    char user_id[STORE_USER_ID_MAX];
    char thread_id[ID_MAX];
    char item_id[ID_MAX];
    char kind[16]; /* "positive" | "negative" */
    int64_t created_us;
};

/* Tasks of the task-management app. */
enum store_task_priority {
    STORE_PRIORITY_LOW = 0,
    STORE_PRIORITY_NORMAL = 1,
    STORE_PRIORITY_HIGH = 2
};

struct store_task {
    char id[ID_MAX];
    char user_id[STORE_USER_ID_MAX];
    char *title; /* owned; 1..500 characters */
    char *notes; /* owned; NULL = none */
    bool done;
    char due_date[11]; /* "YYYY-MM-DD", "" = no due date */
    char due_time[6];  /* "HH:MM" local to tz, "" = all day */
    char tz[64];       /* IANA zone of the due time, "" = UTC */
    int priority;      /* enum store_task_priority */
    char *tags_json;   /* owned; JSON array of strings, "[]" when NULL */
    int64_t created_us;
    int64_t updated_us;
    int64_t completed_us; /* 0 while open */
};

/* store_job_init sets status and priority to -1 ("any"); every other field zero means "any". */
struct store_task_filter {
    int status;          /* -1 any, 0 open, 1 done */
    int priority;        /* -1 any, else enum store_task_priority */
    char tag[65];        /* "" = any; exact tag match */
    char due_before[11]; /* "" = none; due_date <= this (inclusive) */
    char due_after[11];  /* "" = none; due_date >= this (inclusive) */
    bool has_due;        /* only tasks with a due date */
    char q[257];         /* "" = none; case-insensitive substring of title or notes */
};

/* Cursor paging (spec §2.3/§2.5): a strict total order (threads and tasks: created time, then
 * insertion sequence; items: insertion sequence alone); `after` is the id of the last row of the
 * previous page, in the requested order. An `after` that names no row of the same user (and, for
 * items, the same thread) fails the job with ERR_NOT_FOUND; a limit out of range with
 * ERR_INVALID. list.has_more is exact. */
struct store_page_req {
    int limit;           /* 1..STORE_PAGE_MAX */
    bool desc;           /* newest first */
    char after[ID_MAX];  /* "" = from the start */
    bool include_hidden; /* items only: keep hidden items in the page; when false they are
                          * skipped before the page is cut, so pages are full; `after` may
                          * still name a hidden item */
};
#define STORE_PAGE_MAX 1000

/* A page of rows; exactly one array is used, depending on the op. Owned by the job. */
struct store_list {
    struct store_thread *threads;
    struct store_item *items;
    struct store_task *tasks;
    struct store_attachment *attachments;
    struct store_feedback *feedback;
    size_t n;
    bool has_more;
};

/* Each op's comment names the one row member it uses (session.*, thread.*, item.*, ...); an op
 * that names none (PING, SESSION_PURGE, THREAD_LIST, ATTACHMENT_STALE, FEEDBACK_EXPORT) uses no
 * member, only header fields and job->list. */
enum store_op {
    STORE_PING,              /* a real round trip; fails when the database is gone */
    STORE_SESSION_CREATE,    /* in: session (user row created on first use) */
    STORE_SESSION_BY_SECRET, /* in: session.secret_hash; out: session or ERR_NOT_FOUND */
    STORE_SESSION_GET,       /* in: session.id; out: session or ERR_NOT_FOUND */
    STORE_SESSION_CANCEL,    /* in: session.id, session.cancelled_us; out: the session after */
    STORE_SESSION_PURGE,     /* in: purge_before_s; deletes sessions expired before it */
    /* Every op below is scoped by job->user_id (required: ERR_INVALID when empty) except
     * ATTACHMENT_STALE and FEEDBACK_EXPORT: another user's rows are ERR_NOT_FOUND, exactly as if
     * they did not exist. A taken id is ERR_EXISTS. */
    STORE_THREAD_CREATE,     /* in: thread (id, created_us, ...; updated_us 0 = created_us);
                              * user row created on first use */
    STORE_THREAD_GET,        /* in: thread.id; out: thread */
    STORE_THREAD_UPDATE,     /* in: thread (title, status, domains, metadata; updated_us when
                              * > 0, else kept; created_us is never changed); out: thread */
    STORE_THREAD_DELETE,     /* in: thread.id; deletes items and the thread's attachment rows
                              * (feedback rows stay for export); affected = 1;
                              * out: list.attachments = the deleted attachments (bytes to remove) */
    STORE_THREAD_LIST,       /* in: page; out: list.threads */
    STORE_ITEM_UPSERT,       /* in: item; insert at the end of its thread, or replace the JSON,
                              * type and hidden of the same id keeping its position and created_us
                              * (idempotent add); ERR_NOT_FOUND when the thread is not the user's,
                              * ERR_EXISTS when the id belongs to another thread */
    STORE_ITEM_UPDATE,       /* in: item; replace an existing item's JSON, type and hidden;
                              * ERR_NOT_FOUND if absent */
    STORE_ITEM_DELETE,       /* in: item.thread_id, item.id; affected = 0 when the item is absent,
                              * ERR_NOT_FOUND when the thread is not the user's */
    STORE_ITEM_GET,          /* in: item.thread_id, item.id; out: item */
    STORE_ITEM_LIST,         /* in: item.thread_id, page; out: list.items */
    STORE_ITEM_DELETE_AFTER, /* in: item.thread_id, item.id; deletes every later item; affected;
                              * ERR_NOT_FOUND when the item is not in the user's thread */
    /* Item ops that change a row (UPSERT, UPDATE, DELETE, DELETE_AFTER) set the thread's
     * updated_us to the store's wall clock (never backwards). */
    STORE_ATTACHMENT_CREATE, /* in: attachment */
    STORE_ATTACHMENT_GET,    /* in: attachment.id; out: attachment */
    STORE_ATTACHMENT_UPDATE, /* in: attachment (state, size, thread_id, attached; thread_id is
                              * not checked against the threads); out: it */
    STORE_ATTACHMENT_DELETE, /* in: attachment.id; out: the deleted attachment */
    STORE_ATTACHMENT_STALE,  /* in: before_us, page.limit (any user); out: list.attachments that
                              * were never attached to a message and were created before it,
                              * oldest first, has_more */
    STORE_FEEDBACK_ADD,      /* in: feedback (thread_id, kind "positive"|"negative", created_us),
                              * item_ids_json (JSON array of 0..STORE_PAGE_MAX id strings, each an
                              * item of the user's thread, else ERR_NOT_FOUND and nothing is
                              * stored); one row per id; affected = rows */
    STORE_FEEDBACK_EXPORT,   /* in: before_us = since (created_us >= it), after_seq, page.limit;
                              * (any user); out: list.feedback ascending by seq, has_more */
    STORE_TASK_CREATE,       /* in: task (title required; tags_json a JSON array of strings) */
    STORE_TASK_GET,          /* in: task.id; out: task */
    STORE_TASK_UPDATE,       /* in: task (every field but created_us, which is kept; updated_us
                              * is taken from the input); out: task */
    STORE_TASK_DELETE,       /* in: task.id; out: the deleted task; affected = 1 */
    STORE_TASK_LIST,         /* in: task_filter, page; out: list.tasks (order: created) */
    STORE_RATE_TAKE,         /* in: session (id, rate_per_min, expires_at), before_us = now
                              * (wall µs); takes a token from the session's bucket shared by every
                              * replica (see ratelimit.h for the bucket); affected = 0 when
                              * allowed, else whole seconds (>= 1) until a token is available.
                              * PostgreSQL only: on SQLite the in-process limiter serves the one
                              * process (ERR_INVALID) */
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
    void *data;                      /* for the caller */
    int status;                      /* set by the store */
    char error[160];                 /* set by the store when status != 0 */
    char user_id[STORE_USER_ID_MAX]; /* the acting user, for user-scoped ops */
    /* The one row member job->op uses (see the contract at the top); the others share its bytes. */
    union {
        struct store_session session;
        struct store_thread thread;
        struct store_item item;
        struct store_attachment attachment;
        struct store_feedback feedback;
        struct store_task task;
        struct store_task_filter task_filter;
    };
    struct store_page_req page;
    struct store_list list;    /* outputs of list ops; owned by the job */
    const char *item_ids_json; /* not owned; input of STORE_FEEDBACK_ADD */
    int64_t before_us;         /* input of STORE_ATTACHMENT_STALE / FEEDBACK_EXPORT / RATE_TAKE */
    int64_t after_seq;         /* input of STORE_FEEDBACK_EXPORT */
    int64_t purge_before_s;
    int64_t affected; /* rows changed, for purge, cancel and deletes */
    /* Internal to the store: queue link and timing. */
    struct store_job *next;
    int64_t submitted_us;
};
/* One job is allocated (or embedded in a request context) per store operation, and a burst of
 * concurrent chat turns keeps over a thousand in flight at once, so its size is peak memory. It
 * is the header plus the largest row member (store_attachment); keep new members inside the
 * union rather than beside it. */
_Static_assert(sizeof(struct store_job) <= 1408, "struct store_job grew: jobs are per operation");

struct store_config {
    const char *url;          /* "sqlite:PATH", a plain path, or "postgres://..." (libpq URI) */
    int readers;              /* SQLite reader threads, >= 1 */
    int cache_kib;            /* SQLite page cache per connection in KiB; 0 = SQLite's default
                               * (2 MiB). Pages missed are re-read from the OS page cache. */
    int busy_timeout_ms;      /* how long a connection waits on a lock */
    int pool_size;            /* PostgreSQL connections (store threads); 0 = 4 */
    int statement_timeout_ms; /* PostgreSQL: longest statement; 0 = 5000 */
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

/* Process-wide settings of the database libraries; call once from main, before any store is
 * opened (later calls change nothing). SQLite then allocates page-cache lines as they are used
 * instead of 20 up front per connection (~90 KB each, idle readers included). */
void store_process_init(void);

/* Prepares a job for op: zeroes it, sets op, cb and data, and for STORE_TASK_LIST sets the task
 * filter to "any" (status and priority -1; other ops' members stay all zero). */
void store_job_init(struct store_job *job, enum store_op op, store_job_cb cb, void *data);
/* Frees the owned pointers of the member job->op uses (session, thread, item or task strings)
 * and every row of job->list and its arrays, and resets them to NULL / an empty list; the job can
 * be reused (store_job_init it again for an op of another member). A job zeroed by calloc holds
 * nothing (op 0 is STORE_PING, which uses no member). */
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
/* url with any password replaced by "***" ("postgres://u:***@host/db", "...?password=***"), for
 * logs and messages; a heap string the caller frees. */
char *store_redact_url(const char *url);
/* Name of the backend ("sqlite", "postgres") and, for logs, its location with any password
 * redacted. */
const char *store_backend_name(const struct store *s);
const char *store_location(const struct store *s);

/* Applies pending migrations without starting threads (`chatkitd migrate`); writes a line per
 * applied version to log. Returns 0 or a code with err filled. */
int store_migrate(const struct store_config *cfg, int *applied, char *err, size_t errlen);

#endif
