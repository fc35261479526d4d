/* test_task_events.c - the per-user live feed hub over the in-memory HTTP transport: fan-out to
 * one user's feeds only, clients leaving, slow readers dropped, one heartbeat timer for the hub,
 * shutdown, many users; and the tools publishing task events through a real store. */
#include "core/err.h"
#include "core/json_read.h"
#include "http/conn.h"
#include "http/response.h"
#include "http/router.h"
#include "http/server.h"
#include "http/sse.h"
#include "http_mem.h"
#include "store/store.h"
#include "tasks/events.h"
#include "tasks/tools.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define MAX_FEEDS 400

struct fixture {
    uv_loop_t loop;
    struct logger log;
    struct http_router router;
    struct http_server server;
    char dir[64];
    struct store *store;
    struct tasks_app app; /* app.events is the hub under test */
    struct http_request *reqs[MAX_FEEDS];
    int nreqs;
    int last_rc;
    struct http_mem *mems[MAX_FEEDS];
    int nmems;
    int tool_calls;
    char tool_task_id[ID_MAX];
};

static struct tasks_events *hub_of(struct fixture *f)
{
    return &f->app.events;
}

/* GET /feed?user=NAME subscribes as NAME (the real route resolves a bearer secret first). */
static void h_feed(struct http_request *req, void *data)
{
    struct fixture *f = data;
    char user[64];
    if (http_request_query(req, "user", user, sizeof user) != 1) {
        http_respond_error(req, 400, "bad", "user?");
        return;
    }
    f->last_rc = tasks_events_subscribe(hub_of(f), user, req);
    if (f->last_rc == 0)
        f->reqs[f->nreqs++] = req;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    log_init(&f->log, fopen("/dev/null", "w"), LOG_DEBUG, LOG_TEXT);
    http_router_init(&f->router);
    http_router_add(&f->router, "GET", "/feed", h_feed, f);
    struct http_limits l;
    http_limits_default(&l);
    l.sse_queue_bytes = 4096;
    assert_int_equal(http_server_init(&f->server, &f->loop, &l, &f->router, &f->log, false), 0);
    snprintf(f->dir, sizeof f->dir, "/tmp/test_task_events.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char url[128], err[256];
    snprintf(url, sizeof url, "sqlite:%s/chatkitd.db", f->dir);
    struct store_config sc = {.url = url, .readers = 1, .busy_timeout_ms = 5000, .log = &f->log};
    if (store_open(&f->loop, &sc, &f->store, err, sizeof err))
        fail_msg("store_open: %s", err);
    struct tasks_config tc = {.loop = &f->loop, .store = f->store, .log = &f->log};
    tasks_app_init(&f->app, &tc);
    *state = f;
    return 0;
}

static void count_handle(uv_handle_t *h, void *arg)
{
    (void)h;
    ++*(int *)arg;
}

static int open_handles(struct fixture *f)
{
    int n = 0;
    uv_walk(&f->loop, count_handle, &n);
    return n;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    tasks_app_close(&f->app);
    for (int i = 0; i < f->nmems; i++)
        http_mem_free(f->mems[i], &f->loop);
    store_close(f->store, NULL, NULL);
    http_server_close(&f->server, NULL, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    tasks_app_free(&f->app);
    assert_int_equal(f->server.metrics.open_streams, 0);
    assert_int_equal(open_handles(f), 0);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    fclose(f->log.out);
    const char *files[] = {"chatkitd.db", "chatkitd.db-wal", "chatkitd.db-shm"};
    for (int i = 0; i < 3; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/%s", f->dir, files[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static struct http_mem *open_conn(struct fixture *f)
{
    struct http_mem *m = http_mem_open(&f->server);
    f->mems[f->nmems++] = m;
    return m;
}

static void subscribe(struct fixture *f, struct http_mem *m, const char *user)
{
    char req[128];
    snprintf(req, sizeof req, "GET /feed?user=%s HTTP/1.1\r\nHost: x\r\n\r\n", user);
    http_mem_feed_str(m, req);
    assert_int_equal(f->last_rc, 0);
}

static struct http_mem *feed(struct fixture *f, const char *user)
{
    struct http_mem *m = open_conn(f);
    subscribe(f, m, user);
    return m;
}

#define EV "{\"type\":\"task.updated\",\"task\":{\"id\":\"task_1\"}}"

static void test_publish_reaches_only_that_user(void **state)
{
    struct fixture *f = *state;
    struct http_mem *a1 = feed(f, "alice"), *a2 = feed(f, "alice"), *b = feed(f, "bob");
    assert_int_equal(http_mem_count(a1, "Content-Type: text/event-stream\r\n"), 1);
    assert_int_equal(tasks_events_count(hub_of(f), "alice"), 2);
    assert_int_equal(tasks_events_count(hub_of(f), "bob"), 1);
    assert_int_equal(tasks_events_count(hub_of(f), "carol"), 0);
    assert_int_equal(tasks_events_publish(hub_of(f), "alice", EV, strlen(EV)), 2);
    assert_int_equal(http_mem_count(a1, "data: " EV "\n\n"), 1);
    assert_int_equal(http_mem_count(a2, "data: " EV "\n\n"), 1);
    assert_int_equal(http_mem_count(b, "data: "), 0);
    assert_int_equal(tasks_events_publish(hub_of(f), "carol", EV, strlen(EV)), 0);
    assert_int_equal(tasks_events_publish(hub_of(f), "bob", EV, strlen(EV)), 1);
    assert_int_equal(http_mem_count(b, "data: " EV "\n\n"), 1);
    assert_int_equal(http_mem_count(a1, "data: "), 1);
    assert_int_equal(hub_of(f)->published, 3);
    /* a frame with a raw newline would split the event: refused, and nobody is dropped */
    assert_int_equal(tasks_events_publish(hub_of(f), "alice", "{\"a\":\n1}", 8), 0);
    assert_int_equal(tasks_events_count(hub_of(f), "alice"), 2);
    assert_int_equal(f->server.metrics.open_streams, 3);
}

static void test_client_leaves(void **state)
{
    struct fixture *f = *state;
    struct http_mem *a1 = feed(f, "alice"), *a2 = feed(f, "alice");
    http_mem_eof(a1); /* the browser tab closed */
    assert_true(a1->closed);
    assert_int_equal(tasks_events_count(hub_of(f), "alice"), 1);
    assert_int_equal(f->server.metrics.open_streams, 1);
    assert_int_equal(tasks_events_publish(hub_of(f), "alice", EV, strlen(EV)), 1);
    assert_int_equal(http_mem_count(a2, "data: " EV), 1);
    http_mem_eof(a2);
    assert_int_equal(tasks_events_count(hub_of(f), "alice"), 0);
    assert_int_equal(hub_of(f)->nusers, 0);
    assert_int_equal(hub_of(f)->nfeeds, 0);
    assert_int_equal(f->server.metrics.open_streams, 0);
    /* the heartbeat stops with the last feed */
    assert_false(uv_is_active((uv_handle_t *)&hub_of(f)->heartbeat));
}

static void test_slow_reader_dropped(void **state)
{
    struct fixture *f = *state;
    struct http_mem *a1 = feed(f, "alice"), *a2 = feed(f, "alice"), *a3 = feed(f, "alice");
    a2->fake_queued = 5000; /* over the 4096-byte cap */
    assert_int_equal(tasks_events_publish(hub_of(f), "alice", EV, strlen(EV)), 2);
    assert_true(a2->closed);
    assert_int_equal(http_mem_count(a2, "data: "), 0);
    assert_int_equal(http_mem_count(a1, "data: "), 1);
    assert_int_equal(http_mem_count(a3, "data: "), 1);
    assert_int_equal(hub_of(f)->dropped, 1);
    assert_int_equal(f->server.metrics.slow_readers_dropped, 1);
    assert_int_equal(tasks_events_count(hub_of(f), "alice"), 2);
    assert_int_equal(f->server.metrics.open_streams, 2);
    /* every feed of a user failing frees the user entry mid-walk */
    a1->fake_queued = a3->fake_queued = 5000;
    assert_int_equal(tasks_events_publish(hub_of(f), "alice", EV, strlen(EV)), 0);
    assert_int_equal(hub_of(f)->nusers, 0);
    assert_int_equal(f->server.metrics.open_streams, 0);
}

static void stop_loop(uv_timer_t *t)
{
    uv_stop(t->loop);
}

static void run_for(struct fixture *f, uint64_t ms)
{
    uv_timer_t t;
    uv_timer_init(&f->loop, &t);
    uv_timer_start(&t, stop_loop, ms, 0);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
}

static void test_heartbeat_one_timer(void **state)
{
    struct fixture *f = *state;
    hub_of(f)->heartbeat_ms = 5;
    struct http_mem *m[4];
    for (int i = 0; i < 4; i++)
        m[i] = open_conn(f);
    int before = open_handles(f);
    subscribe(f, m[0], "alice");
    subscribe(f, m[1], "alice");
    subscribe(f, m[2], "bob");
    subscribe(f, m[3], "carol");
    assert_int_equal(open_handles(f) - before, 1); /* one timer for the whole hub */
    m[3]->fake_queued = 5000;                      /* carol's reader is stuck */
    /* At least two heartbeats each: on a loaded machine the loop may be descheduled for longer
     * than a period (an overdue timer fires once), so wait for the beats, within a long bound. */
    for (int waited = 0; waited < 2000 && !(http_mem_count(m[0], ": keep-alive\n\n") >= 2 &&
                                            http_mem_count(m[1], ": keep-alive\n\n") >= 2 &&
                                            http_mem_count(m[2], ": keep-alive\n\n") >= 2);
         waited += 10)
        run_for(f, 10);
    for (int i = 0; i < 3; i++) {
        int beats = http_mem_count(m[i], ": keep-alive\n\n");
        if (beats < 2)
            fail_msg("feed %d got %d heartbeats", i, beats);
        assert_int_equal(http_mem_count(m[i], "data: "), 0);
    }
    assert_true(m[3]->closed);
    assert_int_equal(tasks_events_count(hub_of(f), "carol"), 0);
    assert_int_equal(tasks_events_count(hub_of(f), "alice"), 2);
    /* the comment is one chunk: ": keep-alive\n\n" is 14 bytes */
    assert_true(http_mem_count(m[0], "\r\ne\r\n: keep-alive\n\n\r\n") >= 2);
}

static void test_unsubscribe(void **state)
{
    struct fixture *f = *state;
    struct http_mem *a = feed(f, "alice");
    feed(f, "alice");
    tasks_events_unsubscribe(hub_of(f), f->reqs[0]);
    assert_int_equal(http_mem_count(a, "\r\n0\r\n\r\n"), 1); /* the stream ended cleanly */
    assert_false(a->closed);                                 /* and the connection is reusable */
    assert_int_equal(tasks_events_count(hub_of(f), "alice"), 1);
    /* the same connection can open a new feed */
    subscribe(f, a, "alice");
    assert_int_equal(tasks_events_count(hub_of(f), "alice"), 2);
}

static void test_close_all(void **state)
{
    struct fixture *f = *state;
    struct http_mem *m[3] = {feed(f, "alice"), feed(f, "bob"), feed(f, "bob")};
    tasks_events_close_all(hub_of(f));
    for (int i = 0; i < 3; i++)
        assert_int_equal(http_mem_count(m[i], "\r\n0\r\n\r\n"), 1);
    assert_int_equal(hub_of(f)->nfeeds, 0);
    assert_int_equal(f->server.metrics.open_streams, 0);
    struct http_mem *late = open_conn(f);
    http_mem_feed_str(late, "GET /feed?user=alice HTTP/1.1\r\n\r\n");
    assert_int_equal(f->last_rc, ERR_UNAVAILABLE);
    assert_int_equal(http_mem_count(late, "HTTP/1.1 503 "), 1);
    assert_int_equal(http_mem_count(late, "\"code\":\"shutting_down\""), 1);
    assert_int_equal(tasks_events_publish(hub_of(f), "bob", EV, strlen(EV)), 0);
}

static void test_many_users(void **state)
{
    struct fixture *f = *state;
    struct http_mem *m[300];
    char user[32];
    for (int i = 0; i < 300; i++) {
        snprintf(user, sizeof user, "user%d", i);
        m[i] = feed(f, user);
    }
    assert_int_equal(hub_of(f)->nusers, 300);
    assert_true(hub_of(f)->nbuckets >= 300);
    for (int i = 0; i < 300; i += 7) {
        snprintf(user, sizeof user, "user%d", i);
        assert_int_equal(tasks_events_publish(hub_of(f), user, EV, strlen(EV)), 1);
    }
    for (int i = 0; i < 300; i++)
        assert_int_equal(http_mem_count(m[i], "data: "), i % 7 == 0 ? 1 : 0);
    for (int i = 0; i < 300; i += 2)
        http_mem_eof(m[i]);
    assert_int_equal(hub_of(f)->nusers, 150);
    assert_int_equal(hub_of(f)->nfeeds, 150);
}

/* ---- the tools publish to the hub ---- */

static void tool_cb(const struct tasks_result *res, void *data)
{
    struct fixture *f = data;
    f->tool_calls++;
    assert_int_equal(res->status, 0);
    if (res->task)
        snprintf(f->tool_task_id, sizeof f->tool_task_id, "%s", res->task->id);
}

static void run_tool(struct fixture *f, const char *user, const char *name, const char *args)
{
    cJSON *a = json_parse(args, strlen(args), 8, NULL);
    int before = f->tool_calls;
    assert_int_equal(tasks_tool_run(&f->app, user, name, a, tool_cb, f), 0);
    cJSON_Delete(a);
    while (f->tool_calls == before)
        uv_run(&f->loop, UV_RUN_ONCE);
}

static void test_tools_publish(void **state)
{
    struct fixture *f = *state;
    struct http_mem *a1 = feed(f, "alice"), *a2 = feed(f, "alice"), *b = feed(f, "bob");
    run_tool(f, "alice", "create_task", "{\"title\":\"Buy milk\"}");
    assert_int_equal(http_mem_count(a1, "data: {\"type\":\"task.created\",\"task\":{\"id\":\""), 1);
    assert_int_equal(http_mem_count(a2, "data: {\"type\":\"task.created\""), 1);
    assert_int_equal(http_mem_count(a1, "\"title\":\"Buy milk\""), 1);
    char args[128];
    snprintf(args, sizeof args, "{\"task_id\":\"%s\"}", f->tool_task_id);
    run_tool(f, "alice", "complete_task", args);
    run_tool(f, "alice", "complete_task", args); /* no change: no event */
    assert_int_equal(http_mem_count(a1, "data: {\"type\":\"task.updated\""), 1);
    assert_int_equal(http_mem_count(a1, "\"status\":\"done\""), 1);
    run_tool(f, "alice", "list_tasks", "{}"); /* reads publish nothing */
    run_tool(f, "alice", "delete_task", args);
    assert_int_equal(http_mem_count(a2, "data: {\"type\":\"task.deleted\",\"task\":{\"id\":\""), 1);
    assert_int_equal(http_mem_count(a2, "data: "), 3);
    assert_int_equal(http_mem_count(b, "data: "), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_publish_reaches_only_that_user, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_leaves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_reader_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_heartbeat_one_timer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsubscribe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_users, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tools_publish, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
