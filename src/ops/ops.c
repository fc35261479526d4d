#include "ops/ops.h"

#include "core/clock.h"
#include "core/err.h"
#include "core/json_write.h"
#include "core/xalloc.h"
#include "http/response.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One database round trip answering a batch of /health requests.
 *
 * Under load, concurrent /health requests share a check: a request that arrives while a check is
 * running joins the *next* one, which starts when the running one ends. Every answer still comes
 * from a round trip that started after the request arrived, so sharing weakens nothing, and the
 * store sees at most one ping at a time (bench/README.md measured the difference). A timer per
 * probe answers its waiters with 503 if the store does not answer in time. The probe is freed
 * once both the job (if it was started) and the timer are done with it. */
struct probe {
    struct store_job job;
    uv_timer_t timer;
    struct ops *ops;
    struct http_request **waiters; /* owned array; the requests are answered, not owned */
    size_t nwaiters, cap;
    int refs; /* job (once started) + timer */
};

void ops_init(struct ops *o, struct http_server *server, const struct http_router *router,
              struct store *store)
{
    memset(o, 0, sizeof *o);
    o->server = server;
    o->router = router;
    o->store = store;
    o->started_mono_us = clock_mono_us();
    o->health_timeout_ms = 2000;
}

static const double lag_bounds[OPS_LAG_BUCKETS] = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02,
                                                   0.05,   0.1,   0.25,  1.0,   1e300};

static void lag_tick(uv_timer_t *t)
{
    struct ops *o = t->data;
    uint64_t now = (uint64_t)clock_mono_us();
    double lag = now > o->lag_due_us ? (double)(now - o->lag_due_us) / 1e6 : 0;
    for (int i = 0; i < OPS_LAG_BUCKETS; i++)
        if (lag <= lag_bounds[i])
            o->lag_le[i]++;
    o->lag_count++;
    o->lag_sum_s += lag;
    if (lag > o->lag_max_s)
        o->lag_max_s = lag;
    o->lag_due_us = now + OPS_LAG_PERIOD_MS * 1000;
}

void ops_start_lag_probe(struct ops *o)
{
    uv_timer_init(o->server->loop, &o->lag_timer);
    o->lag_timer.data = o;
    o->lag_due_us = (uint64_t)clock_mono_us() + OPS_LAG_PERIOD_MS * 1000;
    uv_timer_start(&o->lag_timer, lag_tick, OPS_LAG_PERIOD_MS, OPS_LAG_PERIOD_MS);
    uv_unref((uv_handle_t *)&o->lag_timer);
}

static void probe_release(struct probe *p)
{
    if (--p->refs == 0) {
        store_job_clear(&p->job);
        free(p->waiters);
        free(p);
    }
}

static void health_answer_one(struct ops *o, struct http_request *req, const char *store_state)
{
    struct buf b;
    buf_init(&b, 2048);
    struct jw w;
    jw_init(&w, &b);
    bool ok = strcmp(store_state, "ok") == 0;
    jw_obj_begin(&w);
    jw_kv_str(&w, "status", ok ? "ok" : "unavailable");
    jw_kv_str(&w, "version", CHATKITD_VERSION);
    jw_kv_int(&w, "uptime_s", (clock_mono_us() - o->started_mono_us) / 1000000);
    jw_kv_str(&w, "store", store_state);
    jw_obj_end(&w);
    http_response_header(req, "Cache-Control", "no-store");
    http_respond_json(req, ok ? 200 : 503, &b);
    buf_free(&b);
}

static void probe_answer(struct probe *p, const char *store_state)
{
    for (size_t i = 0; i < p->nwaiters; i++)
        health_answer_one(p->ops, p->waiters[i], store_state);
    p->nwaiters = 0;
}

static void probe_timer_closed(uv_handle_t *h)
{
    probe_release(h->data);
}

static void probe_close_timer(struct probe *p)
{
    uv_timer_stop(&p->timer);
    if (!uv_is_closing((uv_handle_t *)&p->timer))
        uv_close((uv_handle_t *)&p->timer, probe_timer_closed);
}

static void probe_start(struct ops *o, struct probe *p);

static void health_store_done(struct store_job *job)
{
    struct probe *p = job->data;
    struct ops *o = p->ops;
    char reason[200];
    if (job->status)
        snprintf(reason, sizeof reason, "%s", job->error[0] ? job->error : "store error");
    probe_answer(p, job->status ? reason : "ok");
    probe_close_timer(p);
    o->running = NULL;
    struct probe *next = o->next;
    o->next = NULL;
    probe_release(p);
    if (next)
        probe_start(o, next);
}

static void health_timeout(uv_timer_t *t)
{
    struct probe *p = t->data;
    probe_answer(p, "store did not answer in time");
    if (p->ops->next == p)
        p->ops->next = NULL; /* never started: nothing else refers to it */
    uv_close((uv_handle_t *)&p->timer, probe_timer_closed);
}

static struct probe *probe_new(struct ops *o)
{
    struct probe *p = xcalloc(1, sizeof *p);
    p->ops = o;
    p->refs = 1;
    uv_timer_init(o->server->loop, &p->timer);
    p->timer.data = p;
    uv_timer_start(&p->timer, health_timeout, o->health_timeout_ms, 0);
    return p;
}

static void probe_add(struct probe *p, struct http_request *req)
{
    if (p->nwaiters == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 4;
        p->waiters = xrealloc(p->waiters, p->cap * sizeof *p->waiters);
    }
    p->waiters[p->nwaiters++] = req;
}

static void probe_start(struct ops *o, struct probe *p)
{
    if (uv_is_closing((uv_handle_t *)&p->timer))
        return; /* timed out while queued: its waiters are answered */
    store_job_init(&p->job, STORE_PING, health_store_done, p);
    if (store_submit(o->store, &p->job)) {
        probe_answer(p, "store is shutting down");
        probe_close_timer(p);
        return;
    }
    p->refs++;
    o->running = p;
}

static void route_health(struct http_request *req, void *data)
{
    struct ops *o = data;
    if (!o->running) {
        struct probe *p = probe_new(o);
        probe_add(p, req);
        probe_start(o, p);
        return;
    }
    if (!o->next)
        o->next = probe_new(o);
    probe_add(o->next, req);
}

static void route_metrics(struct http_request *req, void *data)
{
    struct ops *o = data;
    const struct store_stats *st = store_get_stats(o->store);
    struct buf b;
    buf_init(&b, 1024 * 1024);
    int rc = http_metrics_render(&o->server->metrics, o->router, &b);
    if (!rc)
        rc = buf_appendf(&b,
                         "# HELP chatkitd_store_queue_depth Store jobs submitted and not yet "
                         "completed.\n"
                         "# TYPE chatkitd_store_queue_depth gauge\n"
                         "chatkitd_store_queue_depth %llu\n"
                         "# HELP chatkitd_store_errors_total Store jobs that failed.\n"
                         "# TYPE chatkitd_store_errors_total counter\n"
                         "chatkitd_store_errors_total %llu\n"
                         "# HELP chatkitd_store_jobs_total Store jobs run, by operation.\n"
                         "# TYPE chatkitd_store_jobs_total counter\n",
                         (unsigned long long)st->in_flight, (unsigned long long)st->errors_total);
    for (int op = 0; !rc && op < STORE_OP_COUNT; op++)
        rc = buf_appendf(&b, "chatkitd_store_jobs_total{op=\"%s\"} %llu\n",
                         store_op_name((enum store_op)op), (unsigned long long)st->jobs_total[op]);
    if (!rc)
        rc = http_metrics_render_histogram(
            &b, "chatkitd_store_job_seconds", "Store job latency, from submit to completion.",
            store_latency_bounds, st->latency_le, STORE_LATENCY_BUCKETS, st->latency_count,
            st->latency_sum_s);
    if (!rc)
        rc = buf_appendf(&b,
                         "# HELP chatkitd_uptime_seconds Seconds since the process started.\n"
                         "# TYPE chatkitd_uptime_seconds gauge\n"
                         "chatkitd_uptime_seconds %lld\n",
                         (long long)((clock_mono_us() - o->started_mono_us) / 1000000));
    if (!rc)
        rc = http_metrics_render_histogram(
            &b, "chatkitd_loop_lag_seconds",
            "How late a 10 ms loop timer fires: time the event loop was busy.", lag_bounds,
            o->lag_le, OPS_LAG_BUCKETS, o->lag_count, o->lag_sum_s);
    if (!rc)
        rc = buf_appendf(&b,
                         "# HELP chatkitd_loop_lag_max_seconds Largest loop lag seen.\n"
                         "# TYPE chatkitd_loop_lag_max_seconds gauge\n"
                         "chatkitd_loop_lag_max_seconds %.6f\n",
                         o->lag_max_s);
    if (!rc && o->extra_metrics) {
        o->extra_metrics(o->extra_metrics_data, &b);
        rc = b.len == b.max ? ERR_TOO_BIG : 0;
    }
    if (rc)
        http_respond_error(req, 500, "internal_error", "metrics did not fit the buffer");
    else
        http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
    buf_free(&b);
}

int ops_register_routes(struct ops *o, struct http_router *r)
{
    int rc = http_router_add(r, "GET", "/health", route_health, o);
    if (!rc)
        rc = http_router_add(r, "GET", "/metrics", route_metrics, o);
    return rc;
}
