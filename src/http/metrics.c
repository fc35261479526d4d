#include "http/metrics.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const int tracked_status[HTTP_METRICS_STATUSES - 1] = {
    100, 200, 201, 202, 204, 301, 302, 304, 400, 401, 403, 404, 405,
    408, 409, 413, 415, 422, 429, 431, 500, 501, 502, 503, 504};

static const double duration_bounds[HTTP_METRICS_BUCKETS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5, INFINITY};

void http_metrics_init(struct http_metrics *m)
{
    memset(m, 0, sizeof *m);
}

static int status_slot(int status)
{
    for (int i = 0; i < HTTP_METRICS_STATUSES - 1; i++) {
        if (tracked_status[i] == status)
            return i;
    }
    return HTTP_METRICS_STATUSES - 1;
}

void http_metrics_observe(struct http_metrics *m, int route_index, int status, int64_t duration_us)
{
    int row = route_index < 0 || route_index >= HTTP_ROUTER_MAX_ROUTES ? HTTP_ROUTER_MAX_ROUTES
                                                                       : route_index;
    m->requests[row][status_slot(status)]++;
    double s = (double)duration_us / 1e6;
    for (int i = 0; i < HTTP_METRICS_BUCKETS; i++) {
        if (s <= duration_bounds[i])
            m->duration_le[i]++;
    }
    m->duration_count++;
    m->duration_sum_s += s;
}

int http_metrics_render_histogram(struct buf *out, const char *name, const char *help,
                                  const double *bounds, const uint64_t *le, int n, uint64_t count,
                                  double sum)
{
    int rc = buf_appendf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    for (int i = 0; !rc && i < n; i++) {
        if (isinf(bounds[i]))
            rc = buf_appendf(out, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)le[i]);
        else
            rc = buf_appendf(out, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i],
                             (unsigned long long)le[i]);
    }
    if (!rc)
        rc = buf_appendf(out, "%s_sum %.6f\n%s_count %llu\n", name, sum, name,
                         (unsigned long long)count);
    return rc;
}

int http_metrics_render(const struct http_metrics *m, const struct http_router *r, struct buf *out)
{
    int rc = buf_append_str(out, "# HELP chatkitd_http_requests_total HTTP requests answered, "
                                 "by route pattern, method and status.\n"
                                 "# TYPE chatkitd_http_requests_total counter\n");
    for (int row = 0; !rc && row <= HTTP_ROUTER_MAX_ROUTES; row++) {
        bool unmatched = row == HTTP_ROUTER_MAX_ROUTES;
        if (!unmatched && row >= r->nroutes)
            continue;
        for (int s = 0; !rc && s < HTTP_METRICS_STATUSES; s++) {
            if (!m->requests[row][s])
                continue;
            char code[8];
            if (s == HTTP_METRICS_STATUSES - 1)
                memcpy(code, "other", 6);
            else
                snprintf(code, sizeof code, "%d", tracked_status[s]);
            rc = buf_appendf(out,
                             "chatkitd_http_requests_total{route=\"%s\",method=\"%s\","
                             "status=\"%s\"} %llu\n",
                             unmatched ? "unmatched" : r->routes[row].pattern,
                             unmatched ? "" : r->routes[row].method, code,
                             (unsigned long long)m->requests[row][s]);
        }
    }
    if (!rc)
        rc = http_metrics_render_histogram(
            out, "chatkitd_http_request_duration_seconds",
            "Time from the first request byte to the end of the response.", duration_bounds,
            m->duration_le, HTTP_METRICS_BUCKETS, m->duration_count, m->duration_sum_s);
    if (!rc)
        rc = buf_appendf(
            out,
            "# HELP chatkitd_http_open_connections Open client connections.\n"
            "# TYPE chatkitd_http_open_connections gauge\n"
            "chatkitd_http_open_connections %llu\n"
            "# HELP chatkitd_http_open_streams Open server-sent event streams.\n"
            "# TYPE chatkitd_http_open_streams gauge\n"
            "chatkitd_http_open_streams %llu\n"
            "# HELP chatkitd_http_connections_total Connections accepted.\n"
            "# TYPE chatkitd_http_connections_total counter\n"
            "chatkitd_http_connections_total %llu\n"
            "# HELP chatkitd_http_connections_rejected_total Connections refused at the cap.\n"
            "# TYPE chatkitd_http_connections_rejected_total counter\n"
            "chatkitd_http_connections_rejected_total %llu\n"
            "# HELP chatkitd_http_slow_readers_dropped_total Streams closed for a full output "
            "queue.\n"
            "# TYPE chatkitd_http_slow_readers_dropped_total counter\n"
            "chatkitd_http_slow_readers_dropped_total %llu\n",
            (unsigned long long)m->open_connections, (unsigned long long)m->open_streams,
            (unsigned long long)m->connections_total, (unsigned long long)m->connections_rejected,
            (unsigned long long)m->slow_readers_dropped);
    return rc;
}
