#include "agent/model_agent.h"

#include "chatkit/items.h"
#include "core/base64.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/id.h"
#include "core/json_read.h"
#include "core/json_write.h"
#include "core/xalloc.h"
#include "model/input.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INPUT_MAX      (48 * 1024 * 1024)
#define TEXT_MAX       (4 * 1024 * 1024)
#define EVENT_JSON_MAX (8 * 1024 * 1024)
#define IMAGE_MAX      (20 * 1024 * 1024) /* bytes per image sent to a model */
#define IMAGES_MAX     8                  /* images per request */
#define THOUGHTS_MAX   16                 /* reasoning summary parts shown per workflow */
#define TOOL_CALLS_MAX 16
/* Back-pressure: the model stream pauses while the client has more than PAUSE_HIGH bytes unread
 * and resumes below PAUSE_LOW, checked each time the client takes bytes (ck_turn_on_drain), so
 * a client only a moment behind costs no throughput (figure 7a: polling every 5 ms instead cost
 * 40 % of it). A timer checks too: once PAUSE_FIRST_MS after the pause (the backlog counts events
 * framed in this loop turn; the flush that writes them whole at the turn's end completes no
 * queued write, so no drain follows), then every PAUSE_POLL_MS (the backlog also counts events
 * the engine holds while a store write runs, whose end is no drain either). */
#define PAUSE_HIGH     (64 * 1024)
#define PAUSE_LOW      (16 * 1024)
#define PAUSE_FIRST_MS 1
#define PAUSE_POLL_MS  20

struct image {
    char id[ID_MAX];
    char mime[128];
    char *url; /* owned; data: URL, NULL when the file could not be read */
};

struct tool_call {
    char *call_id, *name, *args; /* owned */
};

/* The reasoning workflow being shown: only runs whose model reasons need it. */
struct reasoning {
    struct buf thoughts[THOUGHTS_MAX]; /* text per summary part */
    int thought_pos[THOUGHTS_MAX];     /* task index per summary part, -1 = not shown yet */
    int nthought_tasks;
};

/* A generated image being shown (Responses image_generation_call). */
struct gen_image {
    char upstream_id[128]; /* the image call's id ("ig_…") */
    char item_id[ID_MAX];  /* our generated_image item */
    int64_t created;
};

struct model_agent_run {
    struct model_agent *a;
    struct ck_turn *t;
    struct model_agent_params p; /* strings owned (copies), except tools_json and extra_tools */
    char *tools_all;             /* owned: tools_json with the extra tools, NULL when none */
    model_agent_done_fn done;
    void *done_data;
    struct store_job *job; /* owned while the history loads (1.4 KB: not kept for the run) */
    uv_work_t work;
    char **items; /* owned: history item JSON, oldest first */
    size_t nitems;
    struct image *images; /* owned: IMAGES_MAX entries once the history has one, else NULL */
    int nimages;
    struct buf base;  /* the history as input items (a JSON array) */
    struct buf extra; /* function_call / _output items of the tool loop, comma-separated */
    struct model_call *call;
    uv_timer_t pause_timer; /* polls the backlog while paused; closed before the run is freed */
    bool pause_timer_open;
    bool paused;
    bool drain_waiting; /* our ck_turn_on_drain waiter is registered */
    int step;
    int busy;   /* depth of our callbacks on the stack */
    bool async; /* a store job, worker or tool run is outstanding (it cannot be aborted) */
    bool cancelled, ended;
    /* the answer being streamed */
    char msg_id[ID_MAX];
    int64_t msg_created;
    bool msg_open;
    struct buf text;        /* the open message's text; kept after it closes for the outcome */
    struct buf annotations; /* converted annotations, comma-separated */
    int nannotations;
    char wf_id[ID_MAX];
    int64_t wf_created, wf_start_mono;
    bool wf_open;
    struct reasoning *reason; /* owned; allocated by the first reasoning delta */
    struct gen_image *image;  /* owned; the image being generated, NULL when none */
    int expected_partials;    /* partial images the request asked for (0: unknown) */
    struct tool_call *tools;  /* owned: TOOL_CALLS_MAX entries once the model calls a tool */
    int ntools, tool_next;
    /* the outcome */
    bool chain;        /* chain_responses applies to this run */
    char prev_id[128]; /* the stored response this run continues, "" for none */
    int status;
    char message[512];
    bool allow_retry;
    char response_id[128];
    struct model_usage usage;
};

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static void params_copy(struct model_agent_params *dst, const struct model_agent_params *src)
{
    *dst = *src;
    dst->model_ref = dup_or_null(src->model_ref);
    dst->instructions = dup_or_null(src->instructions);
    dst->tool_choice = dup_or_null(src->tool_choice);
    dst->output_schema_json = dup_or_null(src->output_schema_json);
    dst->output_schema_name = dup_or_null(src->output_schema_name);
    if (dst->max_steps < 1)
        dst->max_steps = 1;
}

static void tools_clear(struct model_agent_run *r)
{
    for (int i = 0; i < r->ntools; i++) {
        free(r->tools[i].call_id);
        free(r->tools[i].name);
        free(r->tools[i].args);
    }
    r->ntools = r->tool_next = 0;
}

static void run_free_now(struct model_agent_run *r);

static void on_pause_timer_closed(uv_handle_t *h)
{
    run_free_now(h->data);
}

/* The pause timer is a handle: the run goes with its close callback. */
static void run_free(struct model_agent_run *r)
{
    if (r->pause_timer_open) {
        uv_timer_stop(&r->pause_timer);
        uv_close((uv_handle_t *)&r->pause_timer, on_pause_timer_closed);
        return;
    }
    run_free_now(r);
}

static void run_free_now(struct model_agent_run *r)
{
    free((char *)r->p.model_ref);
    free((char *)r->p.instructions);
    free(r->tools_all);
    free((char *)r->p.tool_choice);
    free((char *)r->p.output_schema_json);
    free((char *)r->p.output_schema_name);
    if (r->job) {
        store_job_clear(r->job);
        free(r->job);
    }
    for (size_t i = 0; i < r->nitems; i++)
        free(r->items[i]);
    free(r->items);
    for (int i = 0; i < r->nimages; i++)
        free(r->images[i].url);
    free(r->images);
    buf_free(&r->base);
    buf_free(&r->extra);
    buf_free(&r->text);
    buf_free(&r->annotations);
    if (r->reason)
        for (int i = 0; i < THOUGHTS_MAX; i++)
            buf_free(&r->reason->thoughts[i]);
    free(r->reason);
    free(r->image);
    tools_clear(r);
    free(r->tools);
    free(r);
}

/* ---- ending: only the outermost callback frame finishes a run ---- */

static void run_end(struct model_agent_run *r, int status, const char *message, bool allow_retry)
{
    if (r->ended)
        return;
    r->ended = true;
    r->status = status;
    r->allow_retry = allow_retry;
    snprintf(r->message, sizeof r->message, "%s", message ? message : "");
    if (r->call) {
        model_call_cancel(r->call);
        r->call = NULL;
    }
}

static void enter(struct model_agent_run *r)
{
    r->busy++;
}

static void drain_wait_stop(struct model_agent_run *r);

static void leave(struct model_agent_run *r)
{
    if (--r->busy > 0 || r->async)
        return;
    if (r->cancelled && !r->ended)
        run_end(r, ERR_CLOSED, "cancelled", false);
    if (!r->ended)
        return;
    drain_wait_stop(r); /* the turn outlives the run */
    struct model_agent_outcome o = {.status = r->status,
                                    .message = r->message,
                                    .allow_retry = r->allow_retry,
                                    .cancelled = r->cancelled,
                                    .output_text = r->text.data ? r->text.data : "",
                                    .response_id = r->response_id,
                                    .stored = r->chain,
                                    .usage = r->usage};
    r->done(r->done_data, &o);
    run_free(r);
}

void model_agent_run_cancel(struct model_agent_run *r)
{
    if (!r || r->cancelled)
        return;
    r->cancelled = true;
    enter(r);
    leave(r); /* ends now unless a callback of ours is on the stack or work is outstanding */
}

/* ---- what the user sees ---- */

static const char *thread_id(const struct model_agent_run *r)
{
    return ck_turn_thread(r->t)->id;
}

/* thread.item.updated for item_id; the caller writes the update's fields after its type. */
static void update_begin(struct jw *w, const char *item_id, const char *type)
{
    jw_obj_begin(w);
    jw_kv_str(w, "type", "thread.item.updated");
    jw_kv_str(w, "item_id", item_id);
    jw_key(w, "update");
    jw_obj_begin(w);
    jw_kv_str(w, "type", type);
}

static void update_send(struct model_agent_run *r, struct jw *w, struct buf *b)
{
    jw_obj_end(w);
    jw_obj_end(w);
    if (!jw_error(w))
        ck_turn_emit(r->t, b->data, b->len);
    buf_free(b);
}

static void write_thought(struct jw *w, const struct buf *text)
{
    jw_obj_begin(w);
    jw_kv_str(w, "status_indicator", "none");
    jw_kv_str(w, "type", "thought");
    jw_key(w, "content");
    jw_str_len(w, text->data ? text->data : "", text->len);
    jw_obj_end(w);
}

static void write_workflow(struct model_agent_run *r, struct jw *w, bool done)
{
    ck_write_item_head(w, r->wf_id, thread_id(r), r->wf_created, "workflow");
    jw_key(w, "workflow");
    jw_obj_begin(w);
    jw_kv_str(w, "type", "reasoning");
    jw_key(w, "tasks");
    jw_arr_begin(w);
    for (int pos = 0; done && pos < r->reason->nthought_tasks; pos++)
        for (int i = 0; i < THOUGHTS_MAX; i++)
            if (r->reason->thought_pos[i] == pos)
                write_thought(w, &r->reason->thoughts[i]);
    jw_arr_end(w);
    if (done) {
        jw_key(w, "summary");
        jw_obj_begin(w);
        jw_kv_int(w, "duration", (clock_mono_us() - r->wf_start_mono) / 1000000);
        jw_obj_end(w);
    }
    jw_kv_bool(w, "expanded", false);
    jw_obj_end(w);
    jw_obj_end(w);
}

static void workflow_close(struct model_agent_run *r)
{
    if (!r->wf_open)
        return;
    r->wf_open = false;
    struct buf b;
    buf_init(&b, EVENT_JSON_MAX);
    struct jw w;
    jw_init(&w, &b);
    write_workflow(r, &w, true);
    if (!jw_error(&w))
        ck_turn_emit_item_done(r->t, r->wf_id, "workflow", r->wf_created, b.data);
    buf_free(&b);
}

static void workflow_open(struct model_agent_run *r)
{
    if (r->wf_open)
        return;
    r->wf_open = true;
    id_new("wf_", r->wf_id);
    r->wf_created = clock_wall_us();
    r->wf_start_mono = clock_mono_us();
    if (!r->reason) {
        r->reason = xcalloc(1, sizeof *r->reason);
        for (int i = 0; i < THOUGHTS_MAX; i++)
            buf_init(&r->reason->thoughts[i], TEXT_MAX);
    }
    r->reason->nthought_tasks = 0;
    for (int i = 0; i < THOUGHTS_MAX; i++) {
        buf_reset(&r->reason->thoughts[i]);
        r->reason->thought_pos[i] = -1;
    }
    struct buf b;
    buf_init(&b, EVENT_JSON_MAX);
    struct jw w;
    jw_init(&w, &b);
    write_workflow(r, &w, false);
    ck_turn_emit_item_added(r->t, r->wf_id, "workflow", b.data);
    buf_free(&b);
}

static void write_part(struct model_agent_run *r, struct jw *w)
{
    jw_obj_begin(w);
    jw_key(w, "annotations");
    jw_arr_begin(w);
    if (r->annotations.len)
        jw_raw(w, r->annotations.data, r->annotations.len);
    jw_arr_end(w);
    jw_key(w, "text");
    jw_str_len(w, r->text.data ? r->text.data : "", r->text.len);
    jw_kv_str(w, "type", "output_text");
    jw_obj_end(w);
}

static void message_open(struct model_agent_run *r)
{
    if (r->msg_open)
        return;
    workflow_close(r); /* an answer ends the reasoning before it (§16.1) */
    r->msg_open = true;
    id_new("msg_", r->msg_id);
    r->msg_created = clock_wall_us();
    buf_reset(&r->text);
    buf_reset(&r->annotations);
    r->nannotations = 0;
    struct buf b;
    buf_init(&b, EVENT_JSON_MAX);
    struct jw w;
    jw_init(&w, &b);
    ck_write_item_head(&w, r->msg_id, thread_id(r), r->msg_created, "assistant_message");
    jw_key(&w, "content");
    jw_raw(&w, "[]", 2);
    jw_obj_end(&w);
    ck_turn_emit_item_added(r->t, r->msg_id, "assistant_message", b.data);
    buf_reset(&b);
    jw_init(&w, &b);
    update_begin(&w, r->msg_id, "assistant_message.content_part.added");
    jw_kv_int(&w, "content_index", 0);
    jw_key(&w, "content");
    write_part(r, &w);
    update_send(r, &w, &b);
}

/* content_part.done and item.done (stored) with the whole text and its annotations. */
static void message_close(struct model_agent_run *r)
{
    if (!r->msg_open)
        return;
    r->msg_open = false;
    struct buf b;
    buf_init(&b, EVENT_JSON_MAX);
    struct jw w;
    jw_init(&w, &b);
    update_begin(&w, r->msg_id, "assistant_message.content_part.done");
    jw_kv_int(&w, "content_index", 0);
    jw_key(&w, "content");
    write_part(r, &w);
    update_send(r, &w, &b);
    buf_init(&b, EVENT_JSON_MAX);
    jw_init(&w, &b);
    ck_write_item_head(&w, r->msg_id, thread_id(r), r->msg_created, "assistant_message");
    jw_key(&w, "content");
    jw_arr_begin(&w);
    write_part(r, &w);
    jw_arr_end(&w);
    jw_obj_end(&w);
    if (!jw_error(&w))
        ck_turn_emit_item_done(r->t, r->msg_id, "assistant_message", r->msg_created, b.data);
    buf_free(&b);
}

/* A Responses citation as a ChatKit Annotation (spec §16.1), or false when it has none. */
static bool convert_citation(const cJSON *c, struct jw *w)
{
    const char *type = "", *url = NULL, *title = NULL, *file = NULL;
    int64_t index = -1;
    json_get_str(c, "type", &type);
    if (strcmp(type, "url_citation") == 0 && json_get_str(c, "url", &url) == 0) {
        json_get_str(c, "title", &title);
        json_get_int(c, "end_index", 0, INT32_MAX, &index);
    } else if ((strcmp(type, "file_citation") == 0 ||
                strcmp(type, "container_file_citation") == 0) &&
               json_get_str(c, "filename", &file) == 0 && file[0]) {
        json_get_int(c, type[0] == 'f' ? "index" : "end_index", 0, INT32_MAX, &index);
    } else {
        return false;
    }
    jw_obj_begin(w);
    jw_kv_str(w, "type", "annotation");
    jw_key(w, "source");
    jw_obj_begin(w);
    if (url) {
        jw_kv_str(w, "title", title && title[0] ? title : url);
        jw_kv_str(w, "type", "url");
        jw_kv_str(w, "url", url);
    } else {
        jw_kv_str(w, "filename", file);
        jw_kv_str(w, "title", file);
        jw_kv_str(w, "type", "file");
    }
    jw_obj_end(w);
    if (index >= 0)
        jw_kv_int(w, "index", index);
    jw_obj_end(w);
    return true;
}

/* ---- back-pressure ---- */

static void drain_wait_stop(struct model_agent_run *r)
{
    if (r->drain_waiting)
        ck_turn_on_drain(r->t, NULL, NULL);
    r->drain_waiting = false;
}

static void on_drain(struct ck_turn *t, void *data);

/* Resumes the model stream once the client caught up (or the run has stopped). */
static void pause_check(struct model_agent_run *r)
{
    if (r->paused && !r->cancelled && !r->ended && r->call && ck_turn_backlog(r->t) > PAUSE_LOW) {
        if (!r->drain_waiting) {
            r->drain_waiting = true;
            ck_turn_on_drain(r->t, on_drain, r);
        }
        return;
    }
    uv_timer_stop(&r->pause_timer);
    drain_wait_stop(r);
    r->paused = false;
    if (r->call)
        model_call_pause(r->call, false); /* may deliver buffered events right here */
}

static void on_drain(struct ck_turn *t, void *data)
{
    (void)t;
    struct model_agent_run *r = data;
    r->drain_waiting = false; /* the engine dropped the one-shot waiter */
    enter(r);
    pause_check(r);
    leave(r);
}

static void on_pause_poll(uv_timer_t *t)
{
    struct model_agent_run *r = t->data;
    enter(r);
    pause_check(r);
    leave(r);
}

static void maybe_pause(struct model_agent_run *r)
{
    if (r->paused || !r->call || ck_turn_backlog(r->t) <= PAUSE_HIGH)
        return;
    if (!r->pause_timer_open) {
        uv_timer_init(r->a->tasks->cfg.loop, &r->pause_timer);
        r->pause_timer.data = r;
        r->pause_timer_open = true;
    }
    r->paused = true;
    model_call_pause(r->call, true);
    uv_timer_start(&r->pause_timer, on_pause_poll, PAUSE_FIRST_MS, PAUSE_POLL_MS);
    pause_check(r);
}

/* ---- the model's events ---- */

static void on_text(void *d, const char *item_id, const char *text, size_t len)
{
    (void)item_id; /* our own message id: upstream ids are not unique across steps */
    struct model_agent_run *r = d;
    enter(r);
    bool data_only = r->p.output_schema_json != NULL; /* collected for the caller, unseen */
    if (!r->cancelled && !r->ended) {
        if (data_only)
            workflow_close(r);
        else
            message_open(r);
        if (buf_append(&r->text, text, len) != 0)
            run_end(r, ERR_TOO_BIG, "The answer is longer than this server allows.", false);
        else if (!data_only) {
            ck_turn_emit_text_delta(r->t, r->msg_id, 0, text, len);
            maybe_pause(r);
        }
    }
    leave(r);
}

static void on_reasoning(void *d, int index, const char *text, size_t len)
{
    struct model_agent_run *r = d;
    enter(r);
    if (!r->cancelled && !r->ended && index >= 0 && index < THOUGHTS_MAX && !r->msg_open) {
        workflow_open(r);
        struct reasoning *rs = r->reason;
        buf_append(&rs->thoughts[index], text, len);
        bool added = rs->thought_pos[index] >= 0;
        if (!added)
            rs->thought_pos[index] = rs->nthought_tasks++;
        struct buf b;
        buf_init(&b, EVENT_JSON_MAX);
        struct jw w;
        jw_init(&w, &b);
        update_begin(&w, r->wf_id, added ? "workflow.task.updated" : "workflow.task.added");
        jw_kv_int(&w, "task_index", rs->thought_pos[index]);
        jw_key(&w, "task");
        write_thought(&w, &rs->thoughts[index]);
        update_send(r, &w, &b);
    }
    leave(r);
}

static void on_annotation(void *d, const char *item_id, const char *json)
{
    (void)item_id;
    struct model_agent_run *r = d;
    enter(r);
    cJSON *c = json_parse(json, strlen(json), 32, NULL);
    struct buf one;
    buf_init(&one, 64 * 1024);
    struct jw w;
    jw_init(&w, &one);
    if (!r->cancelled && !r->ended && !r->p.output_schema_json && convert_citation(c, &w) &&
        !jw_error(&w)) {
        message_open(r);
        if (r->annotations.len)
            buf_append_char(&r->annotations, ',');
        buf_append(&r->annotations, one.data, one.len);
        struct buf b;
        buf_init(&b, EVENT_JSON_MAX);
        struct jw ew;
        jw_init(&ew, &b);
        update_begin(&ew, r->msg_id, "assistant_message.content_part.annotation_added");
        jw_kv_int(&ew, "content_index", 0);
        jw_kv_int(&ew, "annotation_index", r->nannotations++);
        jw_key(&ew, "annotation");
        jw_raw(&ew, one.data, one.len);
        update_send(r, &ew, &b);
    }
    buf_free(&one);
    cJSON_Delete(c);
    leave(r);
}

/* ---- generated images (spec §16.1) ---- */

/* {"id": the image call's id, "url": a data: URL of b64}. */
static void write_image(struct jw *w, const struct gen_image *im, const char *b64,
                        const char *format)
{
    struct buf url;
    buf_init(&url, EVENT_JSON_MAX);
    buf_appendf(&url, "data:image/%s;base64,%s", format, b64);
    jw_obj_begin(w);
    jw_kv_str(w, "id", im->upstream_id);
    jw_key(w, "url");
    jw_str_len(w, url.data ? url.data : "", url.len);
    jw_obj_end(w);
    buf_free(&url);
}

/* A generated_image item; with b64, its image as a data: URL. */
static int write_image_item(struct model_agent_run *r, struct buf *b, const char *b64,
                            const char *format)
{
    struct jw w;
    jw_init(&w, b);
    ck_write_item_head(&w, r->image->item_id, thread_id(r), r->image->created, "generated_image");
    if (b64) {
        jw_key(&w, "image");
        write_image(&w, r->image, b64, format);
    }
    jw_obj_end(&w);
    return jw_error(&w);
}

/* The image being shown when image_id names it; a new one replaces an unfinished one. */
static struct gen_image *image_for(struct model_agent_run *r, const char *image_id, bool start)
{
    if (r->image && strcmp(r->image->upstream_id, image_id) == 0)
        return r->image;
    if (!start || strlen(image_id) >= sizeof r->image->upstream_id)
        return NULL;
    message_close(r); /* an image is its own item: the text before it is done */
    workflow_close(r);
    if (!r->image)
        r->image = xcalloc(1, sizeof *r->image);
    snprintf(r->image->upstream_id, sizeof r->image->upstream_id, "%s", image_id);
    id_new("msg_", r->image->item_id);
    r->image->created = clock_wall_us();
    struct buf b;
    buf_init(&b, EVENT_JSON_MAX);
    if (write_image_item(r, &b, NULL, NULL) == 0)
        ck_turn_emit_item_added(r->t, r->image->item_id, "generated_image", b.data);
    buf_free(&b);
    return r->image;
}

static void on_image_started(void *d, const char *image_id)
{
    struct model_agent_run *r = d;
    enter(r);
    if (!r->cancelled && !r->ended)
        image_for(r, image_id, true);
    leave(r);
}

static void on_image_partial(void *d, const char *image_id, int index, const char *b64)
{
    struct model_agent_run *r = d;
    enter(r);
    struct gen_image *im = r->cancelled || r->ended ? NULL : image_for(r, image_id, true);
    if (im) {
        double progress = 0;
        if (r->expected_partials > 0)
            progress = index >= r->expected_partials ? 1.0 : (double)index / r->expected_partials;
        struct buf b;
        buf_init(&b, EVENT_JSON_MAX);
        struct jw w;
        jw_init(&w, &b);
        update_begin(&w, im->item_id, "generated_image.updated");
        jw_key(&w, "image");
        write_image(&w, im, b64, "png");
        jw_key(&w, "progress");
        jw_double(&w, progress);
        update_send(r, &w, &b);
        maybe_pause(r);
    }
    leave(r);
}

static void on_image_done(void *d, const char *image_id, const char *b64, const char *format)
{
    struct model_agent_run *r = d;
    enter(r);
    struct gen_image *im = r->cancelled || r->ended ? NULL : image_for(r, image_id, true);
    if (im) {
        struct buf b;
        buf_init(&b, EVENT_JSON_MAX);
        if (write_image_item(r, &b, b64, format) == 0)
            ck_turn_emit_item_done(r->t, im->item_id, "generated_image", im->created, b.data);
        else
            run_end(r, ERR_TOO_BIG, "The generated image is larger than this server allows.",
                    false);
        buf_free(&b);
        im->upstream_id[0] = '\0'; /* done: a later event for it starts nothing */
    }
    leave(r);
}

static void on_tool_call(void *d, const char *call_id, const char *name, const char *args)
{
    struct model_agent_run *r = d;
    if (r->ntools == TOOL_CALLS_MAX)
        return; /* chat_compat caps calls at the same number */
    if (!r->tools)
        r->tools = xcalloc(TOOL_CALLS_MAX, sizeof *r->tools);
    struct tool_call *tc = &r->tools[r->ntools++];
    tc->call_id = xstrdup(call_id);
    tc->name = xstrdup(name);
    tc->args = xstrdup(args);
}

/* ---- the tool loop ---- */

static void step_start(struct model_agent_run *r);
static void tool_next(struct model_agent_run *r);

static void append_extra_item(struct model_agent_run *r, const char *type, const char *call_id,
                              const char *k1, const char *v1, const char *k2, const char *v2)
{
    struct jw w;
    if (r->extra.len)
        buf_append_char(&r->extra, ',');
    jw_init(&w, &r->extra);
    jw_obj_begin(&w);
    jw_kv_str(&w, "type", type);
    jw_kv_str(&w, "call_id", call_id);
    jw_kv_str(&w, k1, v1);
    if (k2)
        jw_kv_str(&w, k2, v2);
    jw_obj_end(&w);
}

static void tool_record(struct model_agent_run *r, const char *result)
{
    struct tool_call *tc = &r->tools[r->tool_next++];
    if (!r->chain) /* a continued response holds its own function calls */
        append_extra_item(r, "function_call", tc->call_id, "name", tc->name, "arguments", tc->args);
    append_extra_item(r, "function_call_output", tc->call_id, "output", result, NULL, NULL);
}

static void on_tool_result(const struct tasks_result *res, void *data)
{
    struct model_agent_run *r = data;
    r->async = false;
    enter(r);
    if (!r->cancelled && !r->ended) {
        tool_record(r, res->json ? res->json : "{\"error\":\"the tool failed\"}");
        tool_next(r);
    }
    leave(r);
}

static const struct model_agent_tool *extra_tool(const struct model_agent_run *r, const char *name)
{
    for (size_t i = 0; i < r->p.nextra_tools; i++)
        if (strcmp(r->p.extra_tools[i].name, name) == 0)
            return &r->p.extra_tools[i];
    return NULL;
}

static void on_extra_tool_done(void *call, const char *output)
{
    struct model_agent_run *r = call;
    r->async = false;
    enter(r);
    if (!r->cancelled && !r->ended) {
        tool_record(r, output ? output : "{\"error\":\"the tool failed\"}");
        tool_next(r);
    }
    leave(r);
}

/* Runs the calls of the last step one after the other, then asks the model again. */
static void tool_next(struct model_agent_run *r)
{
    if (r->tool_next == r->ntools) {
        tools_clear(r);
        step_start(r);
        return;
    }
    struct tool_call *tc = &r->tools[r->tool_next];
    cJSON *args = json_parse(tc->args, strlen(tc->args), 32, NULL);
    if (!cJSON_IsObject(args)) {
        cJSON_Delete(args);
        tool_record(r, "{\"error\":\"the arguments are not a JSON object\"}");
        tool_next(r);
        return;
    }
    const struct model_agent_tool *extra = extra_tool(r, tc->name);
    r->async = true; /* before run: a tool may cancel the run from inside it */
    if (!extra) {
        tasks_tool_run(r->a->tasks, ck_turn_user_id(r->t), tc->name, args, on_tool_result, r);
    } else if (extra->run(extra->data, extra, tc->args, on_extra_tool_done, r) != 0) {
        r->async = false;
        tool_record(r, "{\"error\":\"the tool could not run\"}");
        tool_next(r);
    }
    cJSON_Delete(args);
}

static void on_done(void *d, const struct model_call_result *res)
{
    struct model_agent_run *r = d;
    enter(r);
    r->call = NULL;
    r->usage.input_tokens += res->usage.input_tokens;
    r->usage.output_tokens += res->usage.output_tokens;
    r->usage.reasoning_tokens += res->usage.reasoning_tokens;
    r->usage.cached_tokens += res->usage.cached_tokens;
    snprintf(r->response_id, sizeof r->response_id, "%s", res->response_id);
    if (!r->cancelled && !r->ended) {
        message_close(r);
        workflow_close(r);
        if (r->ntools == 0)
            run_end(r, 0, NULL, false);
        else if (r->step >= r->p.max_steps)
            run_end(r, ERR_TOO_BIG, "The assistant needed more steps than it is allowed.", true);
        else
            tool_next(r);
    }
    leave(r);
}

static void on_failed(void *d, const struct model_call_error *e)
{
    struct model_agent_run *r = d;
    enter(r);
    r->call = NULL;
    workflow_close(r);
    /* The partial message is not stored: only item.done writes, and it never comes. */
    r->msg_open = false;
    run_end(r, e->code, e->message, e->allow_retry);
    leave(r);
}

static const struct model_call_events call_events = {
    .text_delta = on_text,
    .reasoning_delta = on_reasoning,
    .annotation = on_annotation,
    .tool_call = on_tool_call,
    .image_started = on_image_started,
    .image_partial = on_image_partial,
    .image_done = on_image_done,
    .done = on_done,
    .failed = on_failed,
};

/* The next request's input: the history and the tool results so far, or, when continuing a
 * stored response, only what is new since that response. */
static int step_input(struct model_agent_run *r, struct buf *input)
{
    bool continuing = r->chain && r->step > 0;
    int rc = continuing ? buf_append_char(input, '[')
                        : buf_append(input, r->base.data, r->base.len - 1); /* without the ] */
    bool more = !continuing && r->base.len > 2;
    if (!rc && r->extra.len)
        rc = buf_appendf(input, "%s%.*s", more ? "," : "", (int)r->extra.len, r->extra.data);
    if (!rc)
        rc = buf_append_char(input, ']');
    if (continuing)
        buf_reset(&r->extra); /* sent once: the next response holds it */
    return rc;
}

static void step_start(struct model_agent_run *r)
{
    struct buf input;
    buf_init(&input, INPUT_MAX);
    if (step_input(r, &input)) {
        buf_free(&input);
        run_end(r, ERR_TOO_BIG, "The conversation is too long for the model.", false);
        return;
    }
    const char *previous = r->step > 0 ? r->response_id : r->prev_id;
    const char *tools = r->tools_all ? r->tools_all : r->p.tools_json;
    r->step++;
    if (r->p.output_schema_json)
        buf_reset(&r->text); /* the data is the last step's answer */
    struct model_call_params p = {.instructions = r->p.instructions,
                                  .input_json = input.data,
                                  .tools_json = tools,
                                  .tool_choice = r->step == 1 ? r->p.tool_choice : "auto",
                                  .output_schema_json = r->p.output_schema_json,
                                  .output_schema_name = r->p.output_schema_name,
                                  .previous_response_id = r->chain ? previous : NULL,
                                  .store = r->chain,
                                  .temperature = -1};
    if (!tools)
        p.tool_choice = NULL;
    char why[256];
    int rc = model_call_start(r->a->models, r->p.model_ref, &p, &call_events, r, &r->call, why,
                              sizeof why);
    buf_free(&input);
    if (rc) {
        log_warn(r->a->log, "model agent: %s", why);
        run_end(r, rc, why, false);
        return;
    }
    ck_turn_admission_release(r->t); /* the upstream answers at its pace: let others start */
}

/* ---- history and images ---- */

static const char *image_url(void *data, const char *attachment_id, const char *mime)
{
    (void)mime;
    struct model_agent_run *r = data;
    for (int i = 0; i < r->nimages; i++)
        if (strcmp(r->images[i].id, attachment_id) == 0)
            return r->images[i].url;
    return NULL;
}

static void build_and_start(struct model_agent_run *r)
{
    int rc =
        model_input_from_items((const char *const *)r->items, r->nitems, image_url, r, &r->base);
    /* The history and images live on in r->base: let the rest go while the model answers. */
    for (size_t i = 0; i < r->nitems; i++)
        free(r->items[i]);
    r->nitems = 0;
    for (int i = 0; i < r->nimages; i++) {
        free(r->images[i].url);
        r->images[i].url = NULL;
    }
    if (rc) {
        run_end(r, ERR_TOO_BIG, "The conversation is too long for the model.", false);
        return;
    }
    step_start(r);
}

/* Worker thread: the image files as data: URLs (never on the loop: disk reads block). */
static void read_images(uv_work_t *w)
{
    struct model_agent_run *r = w->data;
    for (int i = 0; i < r->nimages; i++) {
        struct image *im = &r->images[i];
        char path[4096];
        const char *hex = strchr(im->id, '_');
        hex = hex ? hex + 1 : im->id;
        snprintf(path, sizeof path, "%s/files/%.2s/%s", r->a->data_dir, hex, im->id);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        unsigned char *bytes = xmalloc(IMAGE_MAX);
        size_t n = fread(bytes, 1, IMAGE_MAX, f);
        bool whole = feof(f) && !ferror(f);
        fclose(f);
        if (whole && n > 0) {
            size_t head = strlen(im->mime) + 14;
            im->url = xmalloc(head + BASE64_STD_ENCODED_LEN(n) + 1);
            int len = snprintf(im->url, head + 1, "data:%s;base64,", im->mime);
            base64_std_encode(im->url + len, bytes, n);
        }
        free(bytes);
    }
}

static void images_read(uv_work_t *w, int status)
{
    (void)status;
    struct model_agent_run *r = w->data;
    r->async = false;
    enter(r);
    if (!r->cancelled && !r->ended)
        build_and_start(r);
    leave(r);
}

static void collect_images(struct model_agent_run *r, const cJSON *item)
{
    const cJSON *atts = NULL, *at;
    json_get_arr(item, "attachments", &atts);
    cJSON_ArrayForEach(at, atts)
    {
        const char *type = "", *id = NULL, *mime = "";
        json_get_str(at, "type", &type);
        json_get_str(at, "mime_type", &mime);
        if (strcmp(type, "image") || json_get_str(at, "id", &id) || r->nimages == IMAGES_MAX ||
            strlen(id) >= ID_MAX || strlen(mime) >= sizeof r->images[0].mime || strpbrk(id, "/."))
            continue;
        if (!r->images)
            r->images = xcalloc(IMAGES_MAX, sizeof *r->images);
        struct image *im = &r->images[r->nimages++];
        snprintf(im->id, sizeof im->id, "%s", id);
        snprintf(im->mime, sizeof im->mime, "%s", mime);
    }
}

static void take_item(struct model_agent_run *r, char *json, bool user_message)
{
    r->items[r->nitems++] = json;
    if (user_message) {
        cJSON *doc = json_parse(json, strlen(json), 64, NULL);
        collect_images(r, doc);
        cJSON_Delete(doc);
    }
}

/* The page comes newest first; the model reads oldest first. The turn's user message may not be
 * stored yet (the engine writes it while the responder starts), so it is added from the turn;
 * items newer than it are left out (a retry is deleting them). Without history, only that
 * message is kept. */
static void take_history(struct model_agent_run *r, struct store_list *list)
{
    const char *user_id = ck_turn_user_item_id(r->t), *user_json = ck_turn_user_item_json(r->t);
    size_t newest = 0, oldest = list->n;
    for (size_t i = 0; user_id && i < list->n; i++)
        if (strcmp(list->items[i].id, user_id) == 0)
            newest = i + 1; /* the user message itself is taken from the turn */
    if (!r->p.history || r->prev_id[0])
        oldest = newest; /* a continued response already holds the earlier turns */
    r->items = xcalloc(list->n + 2, sizeof *r->items);
    for (size_t i = oldest; i-- > newest;) {
        struct store_item *it = &list->items[i];
        take_item(r, it->json, strcmp(it->type, "user_message") == 0);
        it->json = NULL;
    }
    if (user_json)
        take_item(r, xstrdup(user_json), true);
}

static void history_done(struct store_job *job)
{
    struct model_agent_run *r = job->data;
    r->async = false;
    enter(r);
    if (r->cancelled || r->ended) {
        /* leave() ends it */
    } else if (job->status &&
               job->status != ERR_NOT_FOUND) { /* a new thread may not be stored yet */
        run_end(r, ERR_UNAVAILABLE, "The conversation could not be loaded.", true);
    } else {
        take_history(r, &job->list);
        if (r->nimages) {
            r->work.data = r;
            r->async = true;
            uv_queue_work(r->a->tasks->cfg.loop, &r->work, read_images, images_read);
        } else {
            build_and_start(r);
        }
    }
    store_job_clear(r->job);
    free(r->job);
    r->job = NULL;
    leave(r);
}

/* Continuing a stored response: the id the thread's metadata keeps, unless this is a retry (the
 * thread changed since; the whole history goes again). */
static void chain_setup(struct model_agent_run *r)
{
    r->chain = r->p.chain_responses && r->p.model_ref && strncmp(r->p.model_ref, "openai:", 7) == 0;
    const char *meta = ck_turn_thread(r->t)->metadata_json, *id = NULL;
    if (!r->chain || !meta || ck_turn_request(r->t)->type == CK_THREADS_RETRY_AFTER_ITEM)
        return;
    cJSON *doc = json_parse(meta, strlen(meta), 32, NULL);
    if (json_get_str(doc, "previous_response_id", &id) == 0 && strlen(id) < sizeof r->prev_id)
        snprintf(r->prev_id, sizeof r->prev_id, "%s", id);
    cJSON_Delete(doc);
}

/* The task tools with the extra tools (an extra tool replaces a task tool of its name), for the
 * run's requests; NULL when there are no extra tools (the shared task tools go as they are). */
static char *tools_with_extras(const struct model_agent_params *p)
{
    if (!p->nextra_tools)
        return NULL;
    cJSON *all = p->tools_json ? cJSON_Parse(p->tools_json) : NULL;
    if (!cJSON_IsArray(all)) {
        cJSON_Delete(all);
        all = cJSON_CreateArray();
    }
    for (size_t i = 0; i < p->nextra_tools; i++) {
        const struct model_agent_tool *x = &p->extra_tools[i];
        for (int j = cJSON_GetArraySize(all); j-- > 0;) {
            const char *name = NULL;
            if (json_get_str(cJSON_GetArrayItem(all, j), "name", &name) == 0 &&
                strcmp(name, x->name) == 0)
                cJSON_DeleteItemFromArray(all, j);
        }
        cJSON *def = cJSON_CreateObject();
        cJSON_AddStringToObject(def, "type", "function");
        cJSON_AddStringToObject(def, "name", x->name);
        cJSON_AddStringToObject(def, "description", x->description ? x->description : "");
        cJSON_AddItemToObject(def, "parameters",
                              x->parameters ? cJSON_Duplicate(x->parameters, true)
                                            : cJSON_Parse("{\"type\":\"object\"}"));
        cJSON_AddItemToArray(all, def);
    }
    char *json = cJSON_PrintUnformatted(all);
    cJSON_Delete(all);
    return json;
}

/* The partial images an image_generation tool asks for (0 when none or unknown): the progress
 * of each partial image is its index over this count (spec §16.1). */
static int expected_partials(const char *tools_json)
{
    if (!tools_json || !strstr(tools_json, "\"image_generation\""))
        return 0;
    cJSON *tools = cJSON_Parse(tools_json);
    const cJSON *t;
    int64_t n = 0;
    cJSON_ArrayForEach(t, tools)
    {
        const char *type = NULL;
        if (json_get_str(t, "type", &type) == 0 && strcmp(type, "image_generation") == 0)
            json_get_int(t, "partial_images", 0, 16, &n);
    }
    cJSON_Delete(tools);
    return (int)n;
}

static void apply_inference_options(struct model_agent *a, struct ck_turn *t,
                                    struct model_agent_params *p, char *model, size_t modellen);

struct model_agent_run *model_agent_run(struct model_agent *a, struct ck_turn *t,
                                        const struct model_agent_params *p,
                                        model_agent_done_fn done, void *data)
{
    struct model_agent_run *r = xcalloc(1, sizeof *r);
    r->a = a;
    r->t = t;
    r->done = done;
    r->done_data = data;
    struct model_agent_params chosen = *p;
    char model[512];
    apply_inference_options(a, t, &chosen, model, sizeof model);
    params_copy(&r->p, &chosen); /* copies model, which points into the buffer above */
    p = &chosen;
    r->tools_all = tools_with_extras(p);
    r->expected_partials = expected_partials(r->tools_all ? r->tools_all : p->tools_json);
    chain_setup(r);
    buf_init(&r->base, INPUT_MAX);
    buf_init(&r->extra, INPUT_MAX);
    buf_init(&r->text, TEXT_MAX);
    buf_init(&r->annotations, TEXT_MAX);
    r->job = xmalloc(sizeof *r->job);
    store_job_init(r->job, STORE_ITEM_LIST, history_done, r);
    snprintf(r->job->user_id, sizeof r->job->user_id, "%s", ck_turn_user_id(t));
    snprintf(r->job->item.thread_id, sizeof r->job->item.thread_id, "%s", ck_turn_thread(t)->id);
    r->job->page.limit = MODEL_AGENT_HISTORY_ITEMS;
    r->job->page.desc = true;
    r->job->page.include_hidden = true;
    r->async = true;
    if (store_submit(ck_turn_store(t), r->job)) {
        run_free(r);
        return NULL;
    }
    return r;
}

/* ---- the responder: the task assistant on a real model ---- */

#define USAGE_TURNS_KEPT 100

static void usage_set(cJSON *obj, const char *key, int64_t v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    cJSON_AddNumberToObject(obj, key, (double)v);
}

static void usage_add(cJSON *obj, const char *key, int64_t v)
{
    int64_t old = 0;
    json_get_int(obj, key, 0, INT64_MAX, &old);
    usage_set(obj, key, old + v);
}

/* Thread metadata keeps the usage of each turn (by the user message it answered, newest
 * USAGE_TURNS_KEPT turns) and the thread's totals: {"usage":{"turns":{...},"total":{...}}}. */
static void record_usage(struct ck_turn *t, const struct model_agent_outcome *o)
{
    const char *meta = ck_turn_thread(t)->metadata_json;
    cJSON *doc = meta ? json_parse(meta, strlen(meta), 32, NULL) : NULL;
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        doc = cJSON_CreateObject();
    }
    cJSON *usage = cJSON_GetObjectItemCaseSensitive(doc, "usage");
    if (!cJSON_IsObject(usage)) {
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "usage");
        usage = cJSON_AddObjectToObject(doc, "usage");
    }
    cJSON *turns = cJSON_GetObjectItemCaseSensitive(usage, "turns");
    cJSON *total = cJSON_GetObjectItemCaseSensitive(usage, "total");
    if (!cJSON_IsObject(turns))
        turns = cJSON_AddObjectToObject(usage, "turns");
    if (!cJSON_IsObject(total))
        total = cJSON_AddObjectToObject(usage, "total");
    const char *key = ck_turn_user_item_id(t) ? ck_turn_user_item_id(t) : "continuation";
    cJSON_DeleteItemFromObjectCaseSensitive(turns, key);
    while (cJSON_GetArraySize(turns) >= USAGE_TURNS_KEPT)
        cJSON_DeleteItemFromArray(turns, 0);
    cJSON *one = cJSON_AddObjectToObject(turns, key);
    const int64_t v[4] = {o->usage.input_tokens, o->usage.output_tokens, o->usage.reasoning_tokens,
                          o->usage.cached_tokens};
    static const char *names[4] = {"input_tokens", "output_tokens", "reasoning_tokens",
                                   "cached_tokens"};
    for (int i = 0; i < 4; i++) {
        usage_set(one, names[i], v[i]);
        usage_add(total, names[i], v[i]);
    }
    if (o->response_id && o->response_id[0])
        cJSON_AddStringToObject(one, "response_id", o->response_id);
    if (o->stored && o->status == 0 && o->response_id && o->response_id[0]) {
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "previous_response_id");
        cJSON_AddStringToObject(doc, "previous_response_id", o->response_id);
    }
    char *text = json_print(doc);
    if (text)
        ck_turn_set_metadata(t, text);
    free(text);
    cJSON_Delete(doc);
}

static void responder_done(void *data, const struct model_agent_outcome *o)
{
    struct ck_turn *t = data;
    ck_turn_set_context(t, NULL);
    log_info(ck_turn_log(t),
             "model turn on %s: %lld input, %lld output, %lld reasoning, %lld cached tokens",
             ck_turn_thread(t)->id, (long long)o->usage.input_tokens,
             (long long)o->usage.output_tokens, (long long)o->usage.reasoning_tokens,
             (long long)o->usage.cached_tokens);
    record_usage(t, o);
    if (o->status == 0 || o->cancelled)
        ck_turn_finish(t);
    else
        ck_turn_fail(t, "custom", o->message, o->allow_retry);
}

/* The composer's model choice: a full reference, or a model name on def's provider (def is the
 * model the run would use otherwise, and what an unknown choice falls back to). */
static void request_model(struct model_agent *a, const char *def, const char *choice, char *out,
                          size_t outlen)
{
    if (strchr(choice, ':') && strncmp(def, "compat:", 7) != 0) {
        snprintf(out, outlen, "%s", choice);
    } else if (strncmp(def, "compat:", 7) == 0) {
        const char *slash = strchr(def, '/');
        int plen = slash ? (int)(slash - def) : (int)strlen(def);
        snprintf(out, outlen, "%.*s/%s", plen, def, choice);
    } else {
        snprintf(out, outlen, "openai:%s", choice);
    }
    char why[256];
    if (model_ref_check(a->models, out, why, sizeof why)) {
        log_info(a->log, "composer model ignored: %s", why);
        snprintf(out, outlen, "%s", def);
    }
}

static void apply_inference_options(struct model_agent *a, struct ck_turn *t,
                                    struct model_agent_params *p, char *model, size_t modellen)
{
    const cJSON *input = ck_turn_request(t)->input, *opts = NULL, *tc = NULL;
    const char *choice = NULL, *tool = NULL;
    if (!p->allow_request_model || json_get_obj(input, "inference_options", &opts) != 0)
        return;
    if (json_get_str(opts, "model", &choice) == 0 && choice[0]) {
        request_model(a, p->model_ref, choice, model, modellen);
        p->model_ref = model;
    }
    if (json_get_obj(opts, "tool_choice", &tc) == 0 && json_get_str(tc, "id", &tool) == 0 &&
        tasks_tool_exists(tool))
        p->tool_choice = tool;
}

static void responder_start(struct ck_turn *t, void *data)
{
    struct model_agent *a = data;
    struct model_agent_run *r = model_agent_run(a, t, &a->defaults, responder_done, t);
    if (!r)
        ck_turn_fail(t, "custom", "The server is shutting down.", true);
    else
        ck_turn_set_context(t, r);
}

static void responder_cancel(struct ck_turn *t, void *data)
{
    (void)data;
    model_agent_run_cancel(ck_turn_context(t));
}

const char *model_agent_tasks_instructions(void)
{
    return "You are the assistant of a task manager. You help the user keep track of their "
           "tasks: create, list, update, complete, reopen and delete them with the tools you "
           "have, and never claim a change you did not make with a tool. Dates are ISO "
           "(YYYY-MM-DD); ask when a request is ambiguous (several matching tasks). Answer "
           "briefly, in the user's language, in Markdown.";
}

void model_agent_init(struct model_agent *a, struct model_registry *models, struct tasks_app *tasks,
                      const struct logger *log, const char *data_dir,
                      const struct model_agent_params *defaults)
{
    a->models = models;
    a->tasks = tasks;
    a->log = log;
    a->data_dir = data_dir;
    a->defaults = *defaults;
    a->responder.start = responder_start;
    a->responder.cancel = responder_cancel;
    a->responder.data = a;
}
