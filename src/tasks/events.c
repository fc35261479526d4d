#include "tasks/events.h"

#include "core/err.h"
#include "core/xalloc.h"
#include "http/response.h"
#include "http/sse.h"

#include <stdlib.h>
#include <string.h>

#define BUCKETS_MIN 64

/* One open feed. Kept to four pointers: with 10,000 idle feeds the per-feed cost is what the
 * connection and request hold, not this node. Owned by the hub. */
struct tasks_feed {
    struct tasks_feed *prev, *next; /* the user's feeds */
    struct tasks_feed_user *user;
    struct http_request *req;
};

_Static_assert(sizeof(struct tasks_feed) <= 64, "a feed node must stay small");

/* A user with at least one open feed; freed with its last feed. Owned by the hub. */
struct tasks_feed_user {
    struct tasks_feed_user *next; /* bucket chain */
    struct tasks_events *hub;
    struct tasks_feed *feeds;
    uint64_t hash;
    size_t nfeeds;
    char id[]; /* NUL-terminated user id */
};

static uint64_t hash_id(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

void tasks_events_init(struct tasks_events *hub, uv_loop_t *loop, const struct logger *log)
{
    memset(hub, 0, sizeof *hub);
    hub->loop = loop;
    hub->log = log;
    hub->heartbeat_ms = TASKS_EVENTS_HEARTBEAT_MS;
}

static struct tasks_feed_user *user_find(const struct tasks_events *hub, const char *id, uint64_t h)
{
    if (!hub->buckets)
        return NULL;
    for (struct tasks_feed_user *u = hub->buckets[h & (hub->nbuckets - 1)]; u; u = u->next)
        if (u->hash == h && strcmp(u->id, id) == 0)
            return u;
    return NULL;
}

/* Doubles the table once users outnumber buckets, so chains stay short. Only called from
 * subscribe, never while a walk over the table is in progress. */
static void table_grow(struct tasks_events *hub)
{
    size_t n = hub->nbuckets ? hub->nbuckets * 2 : BUCKETS_MIN;
    struct tasks_feed_user **b = xcalloc(n, sizeof *b);
    for (size_t i = 0; i < hub->nbuckets; i++) {
        struct tasks_feed_user *u = hub->buckets[i];
        while (u) {
            struct tasks_feed_user *next = u->next;
            u->next = b[u->hash & (n - 1)];
            b[u->hash & (n - 1)] = u;
            u = next;
        }
    }
    free(hub->buckets);
    hub->buckets = b;
    hub->nbuckets = n;
}

static struct tasks_feed_user *user_get(struct tasks_events *hub, const char *id)
{
    uint64_t h = hash_id(id);
    struct tasks_feed_user *u = user_find(hub, id, h);
    if (u)
        return u;
    if (hub->nusers + 1 > hub->nbuckets)
        table_grow(hub);
    size_t len = strlen(id);
    u = xcalloc(1, sizeof *u + len + 1);
    memcpy(u->id, id, len + 1);
    u->hash = h;
    u->hub = hub;
    u->next = hub->buckets[h & (hub->nbuckets - 1)];
    hub->buckets[h & (hub->nbuckets - 1)] = u;
    hub->nusers++;
    return u;
}

static void user_drop(struct tasks_events *hub, struct tasks_feed_user *u)
{
    struct tasks_feed_user **p = &hub->buckets[u->hash & (hub->nbuckets - 1)];
    while (*p != u)
        p = &(*p)->next;
    *p = u->next;
    hub->nusers--;
    free(u);
}

static void heartbeat_tick(uv_timer_t *t);

/* Unlinks f (and its user when it was the user's last feed), frees it, and ends its stream.
 * The request is finished last, when nothing of the hub points at it any more. */
static void feed_end(struct tasks_events *hub, struct tasks_feed *f)
{
    struct http_request *req = f->req;
    struct tasks_feed_user *u = f->user;
    if (f->prev)
        f->prev->next = f->next;
    else
        u->feeds = f->next;
    if (f->next)
        f->next->prev = f->prev;
    free(f);
    if (--u->nfeeds == 0)
        user_drop(hub, u);
    if (--hub->nfeeds == 0 && hub->timer_ready && !hub->closing)
        uv_timer_stop(&hub->heartbeat);
    req->on_abort = NULL;
    req->ctx = NULL;
    http_sse_end(req);
}

/* The client left: its connection is gone and the request waits for its finishing call. */
static void feed_on_abort(struct http_request *req)
{
    struct tasks_feed *f = req->ctx;
    feed_end(f->user->hub, f);
}

int tasks_events_subscribe(struct tasks_events *hub, const char *user_id, struct http_request *req)
{
    if (hub->closing) {
        http_respond_error(req, 503, "shutting_down",
                           "the server is shutting down; reconnect in a moment");
        return ERR_UNAVAILABLE;
    }
    int rc = http_sse_begin(req);
    if (rc) {
        if (req->streaming)
            http_sse_end(req);
        else
            http_respond_error(req, 500, "internal_error", "the event stream could not start");
        return ERR_CLOSED;
    }
    if (!hub->timer_ready) {
        uv_timer_init(hub->loop, &hub->heartbeat);
        hub->heartbeat.data = hub;
        hub->timer_ready = true;
    }
    struct tasks_feed_user *u = user_get(hub, user_id);
    struct tasks_feed *f = xcalloc(1, sizeof *f);
    f->user = u;
    f->req = req;
    f->next = u->feeds;
    if (u->feeds)
        u->feeds->prev = f;
    u->feeds = f;
    u->nfeeds++;
    if (hub->nfeeds++ == 0)
        uv_timer_start(&hub->heartbeat, heartbeat_tick, hub->heartbeat_ms, hub->heartbeat_ms);
    req->ctx = f;
    req->on_abort = feed_on_abort;
    return 0;
}

void tasks_events_unsubscribe(struct tasks_events *hub, struct http_request *req)
{
    if (req->on_abort == feed_on_abort && req->ctx)
        feed_end(hub, req->ctx);
}

/* Sends to every feed of u; ending a feed may free u once its last feed is gone, so the walk
 * keeps the next node before each send and never looks at u again. */
static size_t send_user(struct tasks_events *hub, struct tasks_feed_user *u, const char *json,
                        size_t len)
{
    size_t sent = 0;
    /* The frame is built once for all the feeds (sse.h). */
    struct sse_shared frame;
    if (json && sse_shared_init(&frame, json, len)) {
        sse_shared_free(&frame);
        return 0;
    }
    struct tasks_feed *f = u->feeds;
    while (f) {
        struct tasks_feed *next = f->next;
        int rc =
            json ? http_sse_send_shared(f->req, &frame) : http_sse_comment(f->req, "keep-alive");
        if (rc == 0) {
            sent++;
        } else {
            hub->dropped++;
            feed_end(hub, f);
        }
        f = next;
    }
    if (json)
        sse_shared_free(&frame);
    return sent;
}

size_t tasks_events_deliver(struct tasks_events *hub, const char *user_id, const char *json,
                            size_t len)
{
    if (memchr(json, '\n', len) || memchr(json, '\r', len)) {
        log_error(hub->log, "task event not sent: its JSON contains a line break");
        return 0;
    }
    struct tasks_feed_user *u = user_find(hub, user_id, hash_id(user_id));
    size_t sent = u ? send_user(hub, u, json, len) : 0;
    hub->published += sent;
    return sent;
}

size_t tasks_events_publish(struct tasks_events *hub, const char *user_id, const char *json,
                            size_t len)
{
    size_t sent = tasks_events_deliver(hub, user_id, json, len);
    if (hub->relay)
        hub->relay(hub->relay_data, user_id, json, len);
    return sent;
}

void tasks_events_set_relay(struct tasks_events *hub, tasks_events_relay_fn fn, void *data)
{
    hub->relay = fn;
    hub->relay_data = data;
}

/* Calls fn on every user; users (and their feeds) may be freed by fn. */
static void each_user(struct tasks_events *hub,
                      void (*fn)(struct tasks_events *, struct tasks_feed_user *))
{
    for (size_t i = 0; i < hub->nbuckets; i++) {
        struct tasks_feed_user *u = hub->buckets[i];
        while (u) {
            struct tasks_feed_user *next = u->next;
            fn(hub, u);
            u = next;
        }
    }
}

static void user_heartbeat(struct tasks_events *hub, struct tasks_feed_user *u)
{
    send_user(hub, u, NULL, 0);
}

static void heartbeat_tick(uv_timer_t *t)
{
    each_user(t->data, user_heartbeat);
}

static void user_end_all(struct tasks_events *hub, struct tasks_feed_user *u)
{
    while (u->feeds) {
        bool last = u->nfeeds == 1;
        feed_end(hub, u->feeds);
        if (last)
            break; /* u is freed */
    }
}

void tasks_events_close_all(struct tasks_events *hub)
{
    if (hub->closing)
        return;
    hub->closing = true;
    size_t n = hub->nfeeds;
    each_user(hub, user_end_all);
    if (n)
        log_info(hub->log, "ended %zu task event feed(s) for shutdown", n);
    if (hub->timer_ready) {
        uv_timer_stop(&hub->heartbeat);
        uv_close((uv_handle_t *)&hub->heartbeat, NULL);
    }
}

void tasks_events_free(struct tasks_events *hub)
{
    if (!hub->closing)
        tasks_events_close_all(hub);
    free(hub->buckets);
    hub->buckets = NULL;
    hub->nbuckets = 0;
}

size_t tasks_events_count(const struct tasks_events *hub, const char *user_id)
{
    const struct tasks_feed_user *u = user_find(hub, user_id, hash_id(user_id));
    return u ? u->nfeeds : 0;
}
