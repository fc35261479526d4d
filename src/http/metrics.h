/* metrics.h - HTTP counters for /metrics, kept on the loop thread.
 *
 * Requests are counted by route pattern (bounded label set: unmatched paths all count as
 * "unmatched", so a scanner cannot blow up the series) and by status code. Durations go into one
 * cumulative histogram. Rendering writes Prometheus text exposition format 0.0.4.
 */
#ifndef CHATKITD_HTTP_METRICS_H
#define CHATKITD_HTTP_METRICS_H

#include "core/buf.h"
#include "http/router.h"

#include <stdint.h>

#define HTTP_METRICS_STATUSES 26 /* tracked codes + one "other" slot */
#define HTTP_METRICS_BUCKETS  12

struct http_metrics {
    uint64_t requests[HTTP_ROUTER_MAX_ROUTES + 1][HTTP_METRICS_STATUSES]; /* last row: unmatched */
    uint64_t duration_le[HTTP_METRICS_BUCKETS];                           /* cumulative per bound */
    uint64_t duration_count;
    double duration_sum_s;
    uint64_t open_connections;
    uint64_t open_streams;
    uint64_t connections_total;
    uint64_t connections_rejected; /* refused with 503 at the connection cap */
    uint64_t slow_readers_dropped; /* streams closed because their output queue was full */
};

void http_metrics_init(struct http_metrics *m);
/* Counts one finished request; route_index is -1 for unmatched paths. */
void http_metrics_observe(struct http_metrics *m, int route_index, int status, int64_t duration_us);
/* Appends the HTTP series to out. */
int http_metrics_render(const struct http_metrics *m, const struct http_router *r, struct buf *out);
/* Appends "name{labels} value" histogram lines for cumulative buckets; shared with other
 * modules' histograms (store latency). bounds has n entries, the last being +Inf. */
int http_metrics_render_histogram(struct buf *out, const char *name, const char *help,
                                  const double *bounds, const uint64_t *le, int n, uint64_t count,
                                  double sum);

#endif
