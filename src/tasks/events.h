/* events.h - the per-user live feed of task changes (GET /api/events).
 *
 * Every open feed is an SSE response held by the hub, filed under its user. A change publishes
 * one event, "data: {\"type\":\"task.updated\",\"task\":{...}}\n\n", to every feed of that user
 * and to no one else. Events are task.created, task.updated and task.deleted (with the task as it
 * was). The feed is chatkitd's own, not a ChatKit stream, so it may carry SSE comments: one hub
 * timer sends ": keep-alive" to every feed every heartbeat_ms so proxies keep idle feeds open.
 *
 * Cost: subscribe, unsubscribe and the lookup of a user's feeds are O(1) (a hash table of users,
 * each with a doubly linked list of feeds); an idle feed costs one 32-byte node besides its
 * connection and request, and a user entry is shared by that user's feeds.
 *
 * Ownership: the hub owns each subscribed request until it ends the stream with http_sse_end():
 * when the client leaves (the request's on_abort), when a send fails (slow reader or gone), on
 * tasks_events_unsubscribe(), or on tasks_events_close_all(). Loop thread only.
 */
#ifndef CHATKITD_TASKS_EVENTS_H
#define CHATKITD_TASKS_EVENTS_H

#include "core/log.h"
#include "http/request.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define TASKS_EVENTS_HEARTBEAT_MS 25000

struct tasks_feed_user;

/* Cross-replica relay (PostgreSQL deployments): called with every event published here, after
 * the local feeds got it, so other replicas can deliver it to their feeds. */
typedef void (*tasks_events_relay_fn)(void *data, const char *user_id, const char *json,
                                      size_t len);

struct tasks_events {
    uv_loop_t *loop;                  /* not owned */
    const struct logger *log;         /* not owned */
    struct tasks_feed_user **buckets; /* owned; users by hash of their id */
    size_t nbuckets;                  /* a power of two */
    size_t nusers;                    /* users with at least one feed */
    size_t nfeeds;                    /* open feeds */
    uint64_t heartbeat_ms;            /* TASKS_EVENTS_HEARTBEAT_MS unless a test changes it */
    uv_timer_t heartbeat;             /* one for the whole hub; runs while a feed is open */
    bool timer_ready;                 /* heartbeat was initialized */
    bool closing;                     /* close_all ran: new feeds are refused */
    uint64_t published;               /* events sent (one per feed reached) */
    uint64_t dropped;                 /* feeds ended because a send failed */
    tasks_events_relay_fn relay;      /* NULL on a single replica */
    void *relay_data;
};

void tasks_events_init(struct tasks_events *hub, uv_loop_t *loop, const struct logger *log);
/* Starts the SSE response on req and files it under user_id. On success (0) the hub owns req
 * (see above). On failure the request is already finished: ERR_UNAVAILABLE after close_all
 * (answered 503), ERR_CLOSED when the client is gone. */
int tasks_events_subscribe(struct tasks_events *hub, const char *user_id, struct http_request *req);
/* Ends the feed of req (a request tasks_events_subscribe accepted) and forgets it. */
void tasks_events_unsubscribe(struct tasks_events *hub, struct http_request *req);
/* Sends json (one compact JSON object, len bytes, no raw newlines) as one event to every feed of
 * user_id; feeds whose send fails are ended. Returns the number of feeds that got it. */
size_t tasks_events_publish(struct tasks_events *hub, const char *user_id, const char *json,
                            size_t len);
/* Sets (or, with NULL, removes) the relay of published events. */
void tasks_events_set_relay(struct tasks_events *hub, tasks_events_relay_fn fn, void *data);
/* Like tasks_events_publish, for an event another replica published: local feeds only, never
 * relayed again. */
size_t tasks_events_deliver(struct tasks_events *hub, const char *user_id, const char *json,
                            size_t len);
/* Ends every feed, refuses new ones and closes the heartbeat timer (for SIGTERM: drain waits for
 * open responses, and a feed never ends on its own). The hub's memory must stay valid until the
 * loop ran the timer's close callback; call tasks_events_free() after that. */
void tasks_events_close_all(struct tasks_events *hub);
/* Releases the hub's table (after close_all and a loop turn). */
void tasks_events_free(struct tasks_events *hub);
/* Open feeds of user_id. */
size_t tasks_events_count(const struct tasks_events *hub, const char *user_id);

#endif
