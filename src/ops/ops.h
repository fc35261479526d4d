/* ops.h - operational routes: GET /health and GET /metrics.
 *
 * /health answers only after a real store round trip (STORE_PING), so a load balancer sees a
 * replica whose database is gone as down: 503 with the reason. /metrics renders the HTTP and
 * store counters in Prometheus text format.
 */
#ifndef CHATKITD_OPS_H
#define CHATKITD_OPS_H

#include "core/buf.h"
#include "http/router.h"
#include "http/server.h"
#include "store/store.h"

#include <stdint.h>
#include <uv.h>

struct probe;

/* Event-loop lag: a repeating timer notes how late it fires (the loop was busy that long). */
#define OPS_LAG_BUCKETS   11
#define OPS_LAG_PERIOD_MS 10

struct ops {
    struct http_server *server;       /* not owned */
    const struct http_router *router; /* not owned */
    struct store *store;              /* not owned */
    int64_t started_mono_us;
    uint64_t health_timeout_ms; /* a ping slower than this reports the store down */
    struct probe *running;      /* the health check in flight, or NULL */
    struct probe *next;         /* requests waiting for the next check, or NULL */
    /* More /metrics lines from other modules (the model registry), or NULL; set after init. */
    void (*extra_metrics)(const void *data, struct buf *out);
    const void *extra_metrics_data;
    uv_timer_t lag_timer; /* unreferenced: never keeps the loop alive */
    uint64_t lag_due_us;  /* when the timer should fire next (monotonic) */
    uint64_t lag_le[OPS_LAG_BUCKETS];
    uint64_t lag_count;
    double lag_sum_s, lag_max_s;
};

void ops_init(struct ops *o, struct http_server *server, const struct http_router *router,
              struct store *store);
int ops_register_routes(struct ops *o, struct http_router *r);
/* Starts the loop-lag probe (chatkitd_loop_lag_seconds in /metrics). */
void ops_start_lag_probe(struct ops *o);

#endif
