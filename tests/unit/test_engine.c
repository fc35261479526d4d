/* Unit tests of the turn engine with a recording sink, scripted responders and a real SQLite
 * store: event order, persistence rules (spec §6.2), thread.updated (§6.3), cancel salvage
 * (§1.7), per-thread serialization, retry, client tool output and structured input. */
#include "chatkit/engine.h"
#include "chatkit/items.h"
#include "chatkit/request.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/id.h"
#include "core/json_write.h"
#include "store/store.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define USER "usr_test"

/* What a test responder does when started. */
enum script {
    SCRIPT_ANSWER,
    SCRIPT_HIDDEN,
    SCRIPT_HANG,
    SCRIPT_FAIL,
    SCRIPT_TOOL_CALL,
    SCRIPT_DELEGATE,
    SCRIPT_WHEN_WRITTEN
};

struct fx {
    uv_loop_t loop;
    char dir[64];
    char url[128];
    struct logger log;
    struct store *store;
    struct ck_engine *engine;
    struct ck_responder resp;
    enum script script;
    struct ck_turn *hanging;
    /* recording sink */
    struct ck_sink sink;
    char events[64][4096];
    int nevents;
    bool ended;
    /* last prepare */
    int prepared_status;
    struct ck_turn *prepared;
    int prepared_calls;
    /* delegation */
    struct ck_responder inner;
    bool inner_fails;
    int delegate_done_calls;
    bool delegate_failed;
    char inner_saw[128];
    int events_at_callback;
    int starts;            /* responder starts */
    char started_text[64]; /* the first input text the last started responder's request has */
};

static struct fx *F;

static int rec_send(struct ck_sink *s, const char *json, size_t len)
{
    (void)s;
    if (F->nevents < 64) {
        snprintf(F->events[F->nevents], sizeof F->events[0], "%.*s", (int)len, json);
        F->nevents++;
    }
    return 0;
}

static void rec_end(struct ck_sink *s)
{
    (void)s;
    F->ended = true;
}

static void emit_answer(struct ck_turn *t, const char *text)
{
    char id[ID_MAX];
    id_new("msg_", id);
    const char *tid = ck_turn_thread(t)->id;
    int64_t now = clock_wall_us();
    struct buf b;
    buf_init(&b, 1 << 20);
    struct jw w;
    jw_init(&w, &b);
    ck_write_item_head(&w, id, tid, now, "assistant_message");
    jw_key(&w, "content");
    jw_raw(&w, "[]", 2);
    jw_obj_end(&w);
    ck_turn_emit_item_added(t, id, "assistant_message", b.data);
    ck_turn_emit_text_delta(t, id, 0, text, strlen(text) / 2);
    ck_turn_emit_text_delta(t, id, 0, text + strlen(text) / 2, strlen(text) - strlen(text) / 2);
    buf_reset(&b);
    jw_init(&w, &b);
    ck_write_assistant_message(&w, id, tid, now, text, strlen(text));
    ck_turn_emit_item_done(t, id, "assistant_message", now, b.data);
    buf_free(&b);
}

static void delegate_done(struct ck_turn *t, bool failed, void *data);

/* Runs once the answer before it is stored and sent. */
static void written(struct ck_turn *t, void *data)
{
    (void)data;
    F->events_at_callback = F->nevents;
    ck_turn_finish(t);
}

static void resp_start(struct ck_turn *t, void *data)
{
    (void)data;
    F->starts++;
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(ck_turn_request(t)->input, "content");
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(content, 0), "text");
    snprintf(F->started_text, sizeof F->started_text, "%s",
             cJSON_IsString(text) ? text->valuestring : "");
    switch (F->script) {
    case SCRIPT_ANSWER:
        emit_answer(t, "Hello, world!");
        ck_turn_finish(t);
        break;
    case SCRIPT_HIDDEN: {
        char id[ID_MAX];
        id_new("hcx_", id);
        struct buf b;
        buf_init(&b, 4096);
        struct jw w;
        jw_init(&w, &b);
        ck_write_hidden_item(&w, id, ck_turn_thread(t)->id, clock_wall_us(), false,
                             "{\"clicked\":true}");
        ck_turn_emit_item_done(t, id, "hidden_context_item", clock_wall_us(), b.data);
        buf_free(&b);
        emit_answer(t, "ok");
        ck_turn_finish(t);
        break;
    }
    case SCRIPT_HANG: {
        char id[ID_MAX];
        id_new("msg_", id);
        struct buf b;
        buf_init(&b, 4096);
        struct jw w;
        jw_init(&w, &b);
        ck_write_item_head(&w, id, ck_turn_thread(t)->id, clock_wall_us(), "assistant_message");
        jw_key(&w, "content");
        jw_raw(&w, "[]", 2);
        jw_obj_end(&w);
        ck_turn_emit_item_added(t, id, "assistant_message", b.data);
        ck_turn_emit_text_delta(t, id, 0, "partial answer", 14);
        buf_free(&b);
        F->hanging = t;
        break;
    }
    case SCRIPT_FAIL:
        ck_turn_fail(t, "custom", "Quota exceeded", false);
        break;
    case SCRIPT_TOOL_CALL: {
        char id[ID_MAX];
        id_new("tc_", id);
        struct buf b;
        buf_init(&b, 4096);
        struct jw w;
        jw_init(&w, &b);
        ck_write_item_head(&w, id, ck_turn_thread(t)->id, clock_wall_us(), "client_tool_call");
        jw_kv_str(&w, "status", "pending");
        jw_kv_str(&w, "call_id", "call_1");
        jw_kv_str(&w, "name", "get_selected_tasks");
        jw_key(&w, "arguments");
        jw_raw(&w, "{}", 2);
        jw_obj_end(&w);
        ck_turn_emit_item_done(t, id, "client_tool_call", clock_wall_us(), b.data);
        buf_free(&b);
        ck_turn_finish(t);
        break;
    }
    case SCRIPT_WHEN_WRITTEN:
        emit_answer(t, "before the call-back");
        ck_turn_when_written(t, written, NULL);
        break;
    case SCRIPT_DELEGATE:
        ck_turn_set_context(t, F);
        ck_turn_delegate(t, &F->inner, "approved text", "msg_earlier", delegate_done, F);
        break;
    }
}

/* The inner responder of a delegation: answers with the text it was given, or fails. */
static void inner_start(struct ck_turn *t, void *data)
{
    (void)data;
    assert_null(ck_turn_context(t)); /* its own context starts empty */
    ck_turn_set_context(t, &F->inner);
    snprintf(F->inner_saw, sizeof F->inner_saw, "%s|%s", ck_turn_user_text(t),
             ck_turn_user_item_id(t));
    if (F->inner_fails) {
        ck_turn_fail(t, "custom", "inner failed", false);
        return;
    }
    emit_answer(t, "inner answer");
    ck_turn_finish(t);
}

static void delegate_done(struct ck_turn *t, bool failed, void *data)
{
    assert_ptr_equal(data, F);
    assert_ptr_equal(ck_turn_context(t), F); /* the outer context is back */
    F->delegate_done_calls++;
    F->delegate_failed = failed;
    if (!failed) {
        emit_answer(t, "outer after");
        ck_turn_set_metadata(t, "{\"workflow_run\":{\"node\":\"end\"}}");
    }
    ck_turn_finish(t);
}

static void resp_cancel(struct ck_turn *t, void *data)
{
    (void)data;
    if (F->hanging == t) {
        F->hanging = NULL;
        ck_turn_finish(t);
    }
}

static const struct ck_responder *pick(struct ck_turn *t, void *data)
{
    (void)t;
    (void)data;
    return &F->resp;
}

static int setup(void **state)
{
    (void)state;
    F = calloc(1, sizeof *F);
    uv_loop_init(&F->loop);
    snprintf(F->dir, sizeof F->dir, "/tmp/chatkitd-engine-XXXXXX");
    if (!mkdtemp(F->dir))
        return -1;
    snprintf(F->url, sizeof F->url, "sqlite:%s/db.sqlite", F->dir);
    log_init(&F->log, NULL, LOG_ERROR, LOG_TEXT);
    struct store_config sc = {.url = F->url, .readers = 2, .busy_timeout_ms = 5000, .log = &F->log};
    char err[256];
    if (store_open(&F->loop, &sc, &F->store, err, sizeof err))
        return -1;
    F->resp.start = resp_start;
    F->resp.cancel = resp_cancel;
    F->inner.start = inner_start;
    struct ck_engine_config ec = {
        .store = F->store, .log = &F->log, .pick = pick, .allow_cancel = true};
    F->engine = ck_engine_new(&ec);
    F->sink.send = rec_send;
    F->sink.end = rec_end;
    return 0;
}

static void closed(void *data)
{
    (void)data;
}

static int teardown(void **state)
{
    (void)state;
    assert_int_equal(ck_engine_active(F->engine), 0);
    ck_engine_free(F->engine);
    store_close(F->store, closed, NULL);
    uv_run(&F->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&F->loop), 0);
    char path[160];
    snprintf(path, sizeof path, "%s/db.sqlite", F->dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/db.sqlite-wal", F->dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/db.sqlite-shm", F->dir);
    unlink(path);
    rmdir(F->dir);
    free(F);
    return 0;
}

static void on_prepared(struct ck_turn *t, int status, const char *code, const char *msg,
                        void *data)
{
    (void)code;
    (void)msg;
    (void)data;
    F->prepared_calls++;
    F->prepared_status = status;
    F->prepared = status ? NULL : t;
}

/* Decodes json, prepares and (when prepared) runs the turn to its end. */
static int run_request(const char *json)
{
    struct ck_request req;
    char err[256];
    assert_int_equal(ck_request_decode(json, strlen(json), &req, err, sizeof err), 0);
    F->nevents = 0;
    F->ended = false;
    F->prepared_calls = 0;
    ck_turn_prepare(F->engine, &req, USER, on_prepared, NULL);
    while (!F->prepared_calls && uv_run(&F->loop, UV_RUN_ONCE))
        ;
    if (F->prepared_status)
        return F->prepared_status;
    ck_turn_run(F->prepared, &F->sink);
    while (!F->ended && uv_run(&F->loop, UV_RUN_ONCE))
        ;
    while (ck_engine_active(F->engine) && uv_run(&F->loop, UV_RUN_ONCE))
        ;
    return 0;
}

static const char *event_type(int i)
{
    static char type[64];
    const char *p = strstr(F->events[i], "\"type\":\"");
    if (!p)
        return "";
    p += 8;
    size_t n = strcspn(p, "\"");
    snprintf(type, sizeof type, "%.*s", (int)n, p);
    return type;
}

/* The thread id out of the first thread.created event. */
static void created_thread_id(char *out)
{
    const char *p = strstr(F->events[0], "\"id\":\"");
    assert_non_null(p);
    p += 6;
    size_t n = strcspn(p, "\"");
    snprintf(out, ID_MAX, "%.*s", (int)n, p);
}

struct list_result {
    int status;
    size_t n;
    char types[64][32];
    char texts[64][1024];
    bool done;
};

static void list_done(struct store_job *job)
{
    struct list_result *r = job->data;
    r->status = job->status;
    r->n = job->list.n;
    for (size_t i = 0; i < job->list.n && i < 64; i++) {
        snprintf(r->types[i], sizeof r->types[i], "%s", job->list.items[i].type);
        snprintf(r->texts[i], sizeof r->texts[i], "%s", job->list.items[i].json);
    }
    r->done = true;
}

static void list_items(const char *thread_id, bool hidden, struct list_result *r)
{
    struct store_job job;
    memset(r, 0, sizeof *r);
    store_job_init(&job, STORE_ITEM_LIST, list_done, r);
    snprintf(job.user_id, sizeof job.user_id, USER);
    snprintf(job.item.thread_id, sizeof job.item.thread_id, "%s", thread_id);
    job.page.limit = 50;
    job.page.include_hidden = hidden;
    assert_int_equal(store_submit(F->store, &job), 0);
    while (!r->done && uv_run(&F->loop, UV_RUN_ONCE))
        ;
    store_job_clear(&job);
}

#define CREATE_HI                                                                                  \
    "{\"type\":\"threads.create\",\"params\":{\"input\":{\"content\":[{\"type\":\"input_text\","   \
    "\"text\":\"Hi there, plan my week please\"}],\"attachments\":[],\"inference_options\":{}}}}"

static void test_create_event_order_and_storage(void **state)
{
    (void)state;
    F->script = SCRIPT_ANSWER;
    assert_int_equal(run_request(CREATE_HI), 0);
    /* The title set with the user message surfaces right after the next event (§6.3). */
    const char *want[] = {"thread.created",      "thread.item.done", "stream_options",
                          "thread.item.added",   "thread.updated",   "thread.item.updated",
                          "thread.item.updated", "thread.item.done"};
    assert_int_equal(F->nevents, 8);
    for (int i = 0; i < 8; i++)
        assert_string_equal(event_type(i), want[i]);
    assert_non_null(strstr(F->events[4], "\"title\":\"Hi there, plan my week please\""));
    assert_non_null(strstr(F->events[2], "\"allow_cancel\":true"));
    assert_non_null(strstr(F->events[1], "\"type\":\"user_message\""));
    assert_non_null(strstr(F->events[1], "\"inference_options\":{}"));
    char tid[ID_MAX];
    created_thread_id(tid);
    struct list_result r;
    list_items(tid, true, &r);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.types[0], "user_message");
    assert_string_equal(r.types[1], "assistant_message");
    assert_non_null(strstr(r.texts[1], "\"text\":\"Hello, world!\""));
    /* Stored bytes are the bytes sent. */
    assert_non_null(strstr(F->events[7], r.texts[1]));
}

static void test_hidden_items_stored_not_sent(void **state)
{
    (void)state;
    F->script = SCRIPT_HIDDEN;
    assert_int_equal(run_request(CREATE_HI), 0);
    for (int i = 0; i < F->nevents; i++)
        assert_null(strstr(F->events[i], "hidden_context_item"));
    char tid[ID_MAX];
    created_thread_id(tid);
    struct list_result r;
    list_items(tid, true, &r);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.types[1], "hidden_context_item");
    list_items(tid, false, &r);
    assert_int_equal(r.n, 2);
}

static void test_cancel_salvages_partial_text(void **state)
{
    (void)state;
    F->script = SCRIPT_HANG;
    struct ck_request req;
    char err[256];
    assert_int_equal(ck_request_decode(CREATE_HI, strlen(CREATE_HI), &req, err, sizeof err), 0);
    F->nevents = 0;
    F->ended = false;
    F->prepared_calls = 0;
    ck_turn_prepare(F->engine, &req, USER, on_prepared, NULL);
    while (!F->prepared_calls && uv_run(&F->loop, UV_RUN_ONCE))
        ;
    ck_turn_run(F->prepared, &F->sink);
    while (!F->hanging && uv_run(&F->loop, UV_RUN_ONCE))
        ;
    while (F->nevents < 5 && uv_run(&F->loop, UV_RUN_ONCE))
        ;
    char tid[ID_MAX];
    created_thread_id(tid);
    ck_turn_cancel(F->prepared);
    assert_true(F->ended);
    int sent = F->nevents;
    while (ck_engine_active(F->engine) && uv_run(&F->loop, UV_RUN_ONCE))
        ;
    assert_int_equal(F->nevents, sent); /* nothing after the cancel */
    struct list_result r;
    list_items(tid, true, &r);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.types[1], "assistant_message");
    assert_non_null(strstr(r.texts[1], "partial answer"));
    assert_string_equal(r.types[2], "sdk_hidden_context");
    assert_non_null(strstr(r.texts[2], CK_CANCEL_MARKER));
}

static void test_unknown_thread_is_404(void **state)
{
    (void)state;
    F->script = SCRIPT_ANSWER;
    int st = run_request("{\"type\":\"threads.add_user_message\",\"params\":{\"thread_id\":"
                         "\"thr_nope\",\"input\":{\"content\":[{\"type\":\"input_text\",\"text\":"
                         "\"x\"}],\"attachments\":[],\"inference_options\":{}}}}");
    assert_int_equal(st, 404);
    assert_int_equal(F->nevents, 0);
}

static void test_fail_sends_error_event(void **state)
{
    (void)state;
    F->script = SCRIPT_FAIL;
    assert_int_equal(run_request(CREATE_HI), 0);
    int last = F->nevents - 1;
    assert_true(last >= 3);
    bool seen = false;
    for (int i = 0; i <= last; i++)
        seen |= strcmp(F->events[i],
                       "{\"type\":\"error\",\"code\":\"custom\",\"message\":\"Quota exceeded\","
                       "\"allow_retry\":false}") == 0;
    assert_true(seen);
}

static void test_client_tool_round_trip(void **state)
{
    (void)state;
    F->script = SCRIPT_TOOL_CALL;
    assert_int_equal(run_request(CREATE_HI), 0);
    char tid[ID_MAX], json[512];
    created_thread_id(tid);
    /* The pending call is the last item shown; the title update follows it (§6.3). */
    assert_string_equal(event_type(F->nevents - 2), "thread.item.done");
    assert_non_null(strstr(F->events[F->nevents - 2], "\"status\":\"pending\""));
    assert_string_equal(event_type(F->nevents - 1), "thread.updated");
    F->script = SCRIPT_ANSWER;
    snprintf(json, sizeof json,
             "{\"type\":\"threads.add_client_tool_output\",\"params\":{\"thread_id\":\"%s\","
             "\"result\":{\"tasks\":[1,2]}}}",
             tid);
    assert_int_equal(run_request(json), 0);
    assert_string_equal(event_type(0), "stream_options");
    struct list_result r;
    list_items(tid, true, &r);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.types[1], "client_tool_call");
    assert_non_null(strstr(r.texts[1], "\"status\":\"completed\""));
    if (!strstr(r.texts[1], "\"output\":{\"tasks\":[1,2]}"))
        fail_msg("%s", r.texts[1]);
    assert_string_equal(r.types[2], "assistant_message");
    /* No pending call any more: the same request is refused before streaming. */
    assert_int_equal(run_request(json), 400);
}

static void test_retry_deletes_later_items(void **state)
{
    (void)state;
    F->script = SCRIPT_ANSWER;
    assert_int_equal(run_request(CREATE_HI), 0);
    char tid[ID_MAX], json[512];
    created_thread_id(tid);
    struct list_result r;
    list_items(tid, true, &r);
    assert_int_equal(r.n, 2);
    const char *p = strstr(r.texts[0], "\"id\":\"") + 6;
    char uid[ID_MAX];
    snprintf(uid, sizeof uid, "%.*s", (int)strcspn(p, "\""), p);
    snprintf(json, sizeof json,
             "{\"type\":\"threads.retry_after_item\",\"params\":{\"thread_id\":\"%s\","
             "\"item_id\":\"%s\"}}",
             tid, uid);
    assert_int_equal(run_request(json), 0);
    assert_string_equal(event_type(0), "stream_options");
    list_items(tid, true, &r);
    assert_int_equal(r.n, 2); /* the old answer is gone, the new one is there */
    /* Retrying an assistant message is refused. */
    p = strstr(r.texts[1], "\"id\":\"") + 6;
    char aid[ID_MAX];
    snprintf(aid, sizeof aid, "%.*s", (int)strcspn(p, "\""), p);
    snprintf(json, sizeof json,
             "{\"type\":\"threads.retry_after_item\",\"params\":{\"thread_id\":\"%s\","
             "\"item_id\":\"%s\"}}",
             tid, aid);
    assert_int_equal(run_request(json), 400);
}

static void on_prepared_second(struct ck_turn *t, int status, const char *code, const char *msg,
                               void *data)
{
    (void)code;
    (void)msg;
    struct ck_turn **out = data;
    assert_int_equal(status, 0);
    *out = t;
}

static void test_turns_on_one_thread_are_serialized(void **state)
{
    (void)state;
    F->script = SCRIPT_ANSWER;
    assert_int_equal(run_request(CREATE_HI), 0);
    char tid[ID_MAX], json[512];
    created_thread_id(tid);
    snprintf(json, sizeof json,
             "{\"type\":\"threads.add_user_message\",\"params\":{\"thread_id\":\"%s\",\"input\":"
             "{\"content\":[{\"type\":\"input_text\",\"text\":\"more\"}],\"attachments\":[],"
             "\"inference_options\":{}}}}",
             tid);
    F->script = SCRIPT_HANG;
    struct ck_request a, b;
    char err[256];
    assert_int_equal(ck_request_decode(json, strlen(json), &a, err, sizeof err), 0);
    assert_int_equal(ck_request_decode(json, strlen(json), &b, err, sizeof err), 0);
    F->prepared_calls = 0;
    F->ended = false;
    ck_turn_prepare(F->engine, &a, USER, on_prepared, NULL);
    while (!F->prepared_calls && uv_run(&F->loop, UV_RUN_ONCE))
        ;
    struct ck_turn *first = F->prepared, *second = NULL;
    ck_turn_run(first, &F->sink);
    while (F->hanging != first && uv_run(&F->loop, UV_RUN_ONCE))
        ; /* its responder starts once the user message is stored and sent */
    ck_turn_prepare(F->engine, &b, USER, on_prepared_second, &second);
    for (int i = 0; i < 50; i++)
        uv_run(&F->loop, UV_RUN_NOWAIT);
    assert_null(second); /* waits for the first turn */
    ck_turn_cancel(first);
    while (!second && uv_run(&F->loop, UV_RUN_ONCE))
        ;
    assert_non_null(second);
    F->script = SCRIPT_ANSWER;
    F->ended = false;
    ck_turn_run(second, &F->sink);
    while (ck_engine_active(F->engine) && uv_run(&F->loop, UV_RUN_ONCE))
        ;
    struct list_result r;
    list_items(tid, true, &r);
    /* hi, answer, more, partial, marker, more, answer */
    assert_int_equal(r.n, 7);
    assert_string_equal(r.types[4], "sdk_hidden_context");
    assert_string_equal(r.types[5], "user_message");
}

static void thread_got(struct store_job *job)
{
    *(bool *)job->data = true;
}

/* A delegated responder answers with the given input; its finish hands the turn back to the
 * outer responder, whose metadata is saved and never sent. */
static void test_delegate_and_metadata(void **state)
{
    (void)state;
    F->script = SCRIPT_DELEGATE;
    assert_int_equal(run_request(CREATE_HI), 0);
    assert_int_equal(F->delegate_done_calls, 1);
    assert_false(F->delegate_failed);
    assert_string_equal(F->inner_saw, "approved text|msg_earlier");
    int answers = 0;
    for (int i = 0; i < F->nevents; i++) {
        answers += strstr(F->events[i], "\"thread.item.done\"") &&
                   strstr(F->events[i], "assistant_message");
        assert_null(strstr(F->events[i], "workflow_run"));
    }
    assert_int_equal(answers, 2);
    assert_string_equal(event_type(F->nevents - 1), "thread.item.done");
    char tid[ID_MAX];
    created_thread_id(tid);
    struct store_job job;
    bool got = false;
    store_job_init(&job, STORE_THREAD_GET, thread_got, &got);
    snprintf(job.user_id, sizeof job.user_id, USER);
    snprintf(job.thread.id, sizeof job.thread.id, "%s", tid);
    assert_int_equal(store_submit(F->store, &job), 0);
    while (!got && uv_run(&F->loop, UV_RUN_ONCE))
        ;
    assert_int_equal(job.status, 0);
    assert_string_equal(job.thread.metadata_json, "{\"workflow_run\":{\"node\":\"end\"}}");
    assert_non_null(job.thread.title); /* the title save kept the metadata, and vice versa */
    store_job_clear(&job);
}

/* The inner responder failing ends the turn with its error; the outer one hears it. */
static void test_delegate_failure(void **state)
{
    (void)state;
    F->script = SCRIPT_DELEGATE;
    F->inner_fails = true;
    assert_int_equal(run_request(CREATE_HI), 0);
    assert_int_equal(F->delegate_done_calls, 1);
    assert_true(F->delegate_failed);
    int errors = 0;
    for (int i = 0; i < F->nevents; i++)
        errors += strstr(F->events[i], "\"type\":\"error\"") != NULL &&
                  strstr(F->events[i], "inner failed") != NULL;
    assert_int_equal(errors, 1);
}

/* ck_turn_when_written calls back only after everything queued before it went out. */
static void test_when_written(void **state)
{
    (void)state;
    F->script = SCRIPT_WHEN_WRITTEN;
    assert_int_equal(run_request(CREATE_HI), 0);
    assert_true(F->events_at_callback > 0);
    bool answer_sent = false;
    for (int i = 0; i < F->events_at_callback; i++)
        answer_sent |= strstr(F->events[i], "\"thread.item.done\"") &&
                       strstr(F->events[i], "before the call-back");
    assert_true(answer_sent);
    char tid[ID_MAX];
    created_thread_id(tid);
    struct list_result r;
    list_items(tid, false, &r);
    assert_int_equal(r.n, 2);
}

static int drain_calls;
static void on_test_drain(struct ck_turn *t, void *data)
{
    (void)t;
    assert_ptr_equal(data, F);
    drain_calls++;
}

/* ck_turn_on_drain: one-shot, replaced by a new registration, cleared with NULL, and never
 * called once the turn is cancelled. */
static int count_events(const char *type)
{
    int n = 0;
    for (int i = 0; i < F->nevents; i++)
        n += strcmp(event_type(i), type) == 0;
    return n;
}

/* Starts a turn and runs the loop until its stream_options went out (the n-th in all), the
 * moment its responder may start. */
static void job_flag_done(struct store_job *job)
{
    *(bool *)job->data = true;
}

/* Prepares a turn without running it. */
static struct ck_turn *prepared_turn(const char *json)
{
    struct ck_request req;
    char err[256];
    assert_int_equal(ck_request_decode(json, strlen(json), &req, err, sizeof err), 0);
    F->prepared_calls = 0;
    ck_turn_prepare(F->engine, &req, USER, on_prepared, NULL);
    while (!F->prepared_calls && uv_run(&F->loop, UV_RUN_ONCE))
        ;
    assert_int_equal(F->prepared_status, 0);
    return F->prepared;
}

static struct ck_turn *start_turn(const char *json, int n)
{
    struct ck_turn *t = prepared_turn(json);
    ck_turn_run(t, &F->sink);
    while (count_events("stream_options") < n && uv_run(&F->loop, UV_RUN_ONCE))
        ;
    return t;
}

/* With one place, a second turn sends its first events but its responder waits; a cancel while
 * waiting never starts it; a freed place starts the next waiting turn. */
static void test_admission(void **state)
{
    (void)state;
    F->nevents = 0;
    F->script = SCRIPT_HANG;
    struct ck_turn *a = start_turn(CREATE_HI, 1);
    assert_ptr_equal(F->hanging, a);
    assert_int_equal(ck_engine_running(F->engine), 1);
    struct ck_turn *b = start_turn(CREATE_HI, 2);
    assert_int_equal(F->starts, 1);  /* b waits for the place */
    assert_null(ck_turn_request(b)); /* ... with its request parked as text */
    assert_int_equal(count_events("thread.created"), 2);
    assert_int_equal(count_events("stream_options"), 2);
    ck_turn_cancel(b); /* never started: nothing to cancel, the turn just ends */
    while (ck_engine_active(F->engine) > 1 && uv_run(&F->loop, UV_RUN_ONCE))
        ;
    assert_int_equal(F->starts, 1);
    assert_int_equal(ck_engine_running(F->engine), 1);
    /* c waits behind a; its text has a NUL, which its parked request must keep */
    start_turn("{\"type\":\"threads.create\",\"params\":{\"input\":{\"content\":[{\"type\":"
               "\"input_text\",\"text\":\"nul\\u0000here\"}],\"attachments\":[],"
               "\"inference_options\":{}}}}",
               3);
    assert_int_equal(F->starts, 1);
    F->script = SCRIPT_ANSWER;
    ck_turn_cancel(a); /* a ends: c gets the place, its request whole again, and answers */
    while (ck_engine_active(F->engine) && uv_run(&F->loop, UV_RUN_ONCE))
        ;
    assert_int_equal(F->starts, 2);
    assert_string_equal(F->started_text, "nul\xC0\x80here"); /* json_parse's NUL (json_read.h) */
    assert_int_equal(ck_engine_running(F->engine), 0);
    assert_int_equal(count_events("thread.created"), 3);
    assert_int_equal(count_events("thread.item.done"), 4); /* 3 user messages and c's answer */
}

/* setup, with an engine that has these admission and write limits. */
static int setup_limited(void **state, size_t max_running, size_t max_writes)
{
    int rc = setup(state);
    ck_engine_free(F->engine);
    struct ck_engine_config ec = {.store = F->store,
                                  .log = &F->log,
                                  .pick = pick,
                                  .allow_cancel = true,
                                  .max_running = max_running,
                                  .max_writes = max_writes};
    F->engine = ck_engine_new(&ec);
    return rc;
}

static int setup_one_place(void **state)
{
    return setup_limited(state, 1, 0);
}

static void test_drain_waiter(void **state)
{
    (void)state;
    F->script = SCRIPT_HANG;
    struct ck_turn *t = prepared_turn(CREATE_HI);
    ck_turn_run(t, &F->sink);
    while (!F->hanging && uv_run(&F->loop, UV_RUN_ONCE))
        ;
    drain_calls = 0;
    ck_turn_drained(t); /* nobody waits: nothing happens */
    assert_int_equal(drain_calls, 0);
    ck_turn_on_drain(t, on_test_drain, F);
    ck_turn_drained(t);
    ck_turn_drained(t); /* one-shot */
    assert_int_equal(drain_calls, 1);
    ck_turn_on_drain(t, on_test_drain, F);
    ck_turn_on_drain(t, NULL, NULL); /* cleared */
    ck_turn_drained(t);
    assert_int_equal(drain_calls, 1);
    ck_turn_on_drain(t, on_test_drain, F);
    ck_turn_cancel(t);
    ck_turn_drained(t);
    assert_int_equal(drain_calls, 1);
    while (ck_engine_active(F->engine) && uv_run(&F->loop, UV_RUN_ONCE))
        ;
}

static int setup_one_write(void **state)
{
    return setup_limited(state, 0, 1);
}

/* With one write place, five turns started together never have more than one store write in
 * flight, all of them finish, and one cancelled while it waits for the place ends cleanly
 * (its thread and the hidden cancel marker are still stored, nothing more is sent). */
static void test_write_places(void **state)
{
    (void)state;
    F->nevents = 0;
    F->script = SCRIPT_ANSWER;
    struct ck_turn *t[5];
    for (int i = 0; i < 5; i++)
        t[i] = prepared_turn(CREATE_HI);
    for (int i = 0; i < 5; i++)
        ck_turn_run(t[i], &F->sink);
    assert_int_equal(store_get_stats(F->store)->in_flight, 1);
    assert_int_equal(count_events("thread.created"), 0); /* the first waits for its write */
    ck_turn_cancel(t[3]);
    size_t most = 0;
    while (ck_engine_active(F->engine) && uv_run(&F->loop, UV_RUN_ONCE)) {
        size_t n = store_get_stats(F->store)->in_flight;
        most = n > most ? n : most;
    }
    assert_int_equal(most, 1);
    assert_int_equal(count_events("thread.created"), 4);
    assert_int_equal(count_events("stream_options"), 4);
    assert_int_equal(count_events("thread.item.done"), 8); /* four user messages, four answers */
    struct store_job job;
    bool done = false;
    store_job_init(&job, STORE_THREAD_LIST, job_flag_done, &done);
    snprintf(job.user_id, sizeof job.user_id, "%s", USER);
    job.page.limit = 10;
    assert_int_equal(store_submit(F->store, &job), 0);
    while (!done && uv_run(&F->loop, UV_RUN_ONCE))
        ;
    assert_int_equal(job.status, 0);
    assert_int_equal(job.list.n, 5); /* the cancelled turn's thread too */
    store_job_clear(&job);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_event_order_and_storage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hidden_items_stored_not_sent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_salvages_partial_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_thread_is_404, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fail_sends_error_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_tool_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_deletes_later_items, setup, teardown),
        cmocka_unit_test_setup_teardown(test_turns_on_one_thread_are_serialized, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delegate_and_metadata, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delegate_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_when_written, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drain_waiter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_admission, setup_one_place, teardown),
        cmocka_unit_test_setup_teardown(test_write_places, setup_one_write, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
