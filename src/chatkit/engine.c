#include "chatkit/engine.h"

#include "chatkit/items.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/id.h"
#include "core/json_read.h"
#include "core/json_write.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOCK_BUCKETS 1024
#define EVENT_MAX    (16 * 1024 * 1024) /* one event's JSON (a 128 KiB message fits many times) */

enum ev_kind {
    EV_SEND,          /* show only */
    EV_THREAD_CREATE, /* persist the new thread, send thread.created (made once it is stored) */
    EV_THREAD_SAVE,   /* persist thread changes, send thread.updated */
    EV_ATTACH,        /* persist an attachment's link to the thread; nothing sent */
    EV_DELETE_AFTER,  /* persist a retry's deletions; nothing sent */
    EV_DONE,          /* upsert item, send unless hidden */
    EV_REPLACED,      /* update item, send */
    EV_REMOVED,       /* delete item, send */
    EV_SET_TITLE,     /* apply a new title (announced after the next event that is sent) */
    EV_SAVE_METADATA, /* persist the thread (its metadata changed); nothing sent */
    EV_CALL,          /* call the responder back (ck_turn_when_written) */
    EV_END,
};

/* Events are many (a burst of turns queues several each), so what only some kinds carry shares
 * one union and lives out of line; the kind says which member is set. */
struct ck_event {
    struct ck_event *next;
    enum ev_kind kind;
    /* An item event that is sent ({"type":...,"item":<item>}) keeps the item's JSON only there:
     * it starts at json + item_off and ends before the closing brace (0: json is no such
     * wrapper). */
    unsigned char item_off;
    bool user_item;   /* the turn's user message: its JSON stays with the turn once sent */
    bool json_static; /* json is a constant: not owned */
    char *json;       /* owned unless json_static; the event to send, NULL for persist-only */
    size_t len;
    union {
        struct store_item *item;      /* owned; EV_DONE, EV_REPLACED, EV_REMOVED, EV_DELETE_AFTER:
                                       * what to persist (NULL once handed to the store job); its
                                       * json is owned, or NULL when json carries it (item_off) */
        struct store_attachment *att; /* owned; EV_ATTACH (NULL once handed to the job) */
        char *title;                  /* owned; EV_SET_TITLE */
        struct {
            void (*fn)(struct ck_turn *t, void *data);
            void *data;
        } call; /* EV_CALL */
    };
};

/* An assistant message announced with item.added and not yet done: the text so far, kept so a
 * cancel can save it (spec §1.7). */
struct pending_msg {
    struct pending_msg *next;
    char id[ID_MAX];
    int64_t created_us;
    struct buf text; /* owned */
};

/* Serializes turns per thread: the first turn holds the lock, later ones wait in order. */
struct thread_lock {
    struct thread_lock *next;
    char thread_id[ID_MAX];
    struct ck_turn *waiters_head, *waiters_tail; /* not owned */
};

enum turn_state { TURN_PREPARING, TURN_RUNNING, TURN_ENDED };

/* A delegation in progress (ck_turn_delegate): the outer responder, its context, and the input
 * the inner one sees. */
struct delegation {
    const struct ck_responder *outer_resp;
    void *outer_context;
    ck_delegate_done_fn done;
    void *data;
    char *text;    /* owned; NULL = the turn's own text */
    char *item_id; /* owned; NULL = the turn's own */
};

/* A burst of turns keeps one of these each (plus its events) until it ends, so what only some
 * turns need is held by pointer and strings are right-sized heap copies. */
struct ck_turn {
    struct ck_engine *e;
    enum ck_type type;      /* the request's */
    struct ck_request *req; /* owned; NULL while parked */
    char *req_json;         /* owned; the parked request as compact JSON, NULL when req is whole */
    char *user_id;          /* owned */
    struct store_thread thread;    /* owned strings */
    struct store_item *item;       /* owned (json too); the loaded target item, NULL when none */
    struct store_attachment *atts; /* owned; the attachments to link */
    size_t natts, atts_loaded;
    char user_item_id[ID_MAX];
    char *user_item_json; /* owned; the new user message as stored, once its event is sent (the
                           * event holds it until then); NULL for other turns */
    size_t queued_bytes;  /* event bytes in the queue, not yet handed to the sink */
    char *user_text;      /* owned; the user's text, NULL when it has none */
    size_t user_text_len;
    struct ck_sink *sink; /* not owned */
    const struct ck_responder *resp;
    struct ck_event *head, *tail; /* owned queue */
    struct store_job *job; /* owned; one store job at a time (1.4 KB: allocated for each write
                            * and freed once it is done, so a streaming turn does not keep it) */
    bool job_busy;
    bool pumping; /* inside turn_pump (no re-entry) */
    enum turn_state state;
    bool locked; /* holds its thread's lock */
    bool cancelled, responder_done, end_queued, thread_dirty, thread_new;
    int prepare_step;
    ck_prepared_cb prepared_cb;
    void *prepared_data;
    struct pending_msg *pending;
    struct ck_turn *next_waiter;     /* in a thread_lock's queue */
    struct store_coord_lock *dblock; /* owned; the thread's lock among replicas (cfg.coord only) */
    void *context;                   /* the responder's; not owned */
    /* The session's workflow (owned copies) and its view for responders. */
    char *wf_id, *wf_version, *wf_state_json;
    struct ck_turn_workflow wf;
    struct delegation *dlg; /* owned; a delegation in progress (ck_turn_delegate), or NULL */
    /* ck_turn_on_drain's waiter, or NULL. */
    void (*drain_fn)(struct ck_turn *t, void *data);
    void *drain_data;
    /* Admission (cfg.max_running): the responder is chosen but not started yet (start_waiting),
     * the turn waits in the engine's admission list (admit_listed), or holds a place (admitted). */
    bool start_waiting, admit_listed, admitted;
    struct ck_turn *admit_prev, *admit_next; /* in the engine's admission list */
    /* Waiting for a store write place (cfg.max_writes): job_busy is set as for a write in flight,
     * and the turn is in the engine's write queue. Granted: taken from that queue, it writes next
     * whatever the limit says. */
    bool write_granted;
    struct ck_turn *write_next;
};

struct ck_engine {
    struct ck_engine_config cfg;
    struct thread_lock *locks[LOCK_BUCKETS];
    size_t active;
    size_t running;                          /* turns holding an admission place */
    struct ck_turn *admit_head, *admit_tail; /* not owned; turns waiting for a place, FIFO */
    bool admitting;                          /* inside admit_run (no re-entry) */
    size_t writes;                           /* turns' store writes in flight */
    struct ck_turn *write_head, *write_tail; /* not owned; turns waiting to write, FIFO */
    bool resuming;                           /* inside writes_resume (no re-entry) */
};

static void turn_pump(struct ck_turn *t);
static bool delegate_return(struct ck_turn *t, bool failed);
static void prepare_next(struct ck_turn *t);
static void turn_failed(struct ck_turn *t, const char *what, const char *why);
static void turn_maybe_free(struct ck_turn *t);

struct ck_engine *ck_engine_new(const struct ck_engine_config *cfg)
{
    struct ck_engine *e = xcalloc(1, sizeof *e);
    e->cfg = *cfg;
    return e;
}

void ck_engine_free(struct ck_engine *e)
{
    free(e);
}

size_t ck_engine_active(const struct ck_engine *e)
{
    return e->active;
}

size_t ck_engine_running(const struct ck_engine *e)
{
    return e->running;
}

/* ---- parking: a turn waiting to start holds its request as text ---- */

/* Between its first events and the start of its responder (the store writes them, then it waits
 * for an admission place; in a burst most turns are there) nobody reads the request, so its
 * parsed tree gives way to the compact JSON text (a "hello" turn: ~135 B instead of ~690). */
static void request_park(struct ck_turn *t)
{
    t->req_json = json_print(t->req->doc);
    if (!t->req_json)
        return; /* no memory for the text: the tree stays */
    ck_request_free(t->req);
    free(t->req);
    t->req = NULL;
}

/* Decodes the parked request again, right before the responder starts; 0, or the decoder's
 * error with its message in err. */
static int request_unpark(struct ck_turn *t, char *err, size_t errlen)
{
    if (!t->req_json)
        return 0;
    char *json = t->req_json;
    t->req_json = NULL;
    t->req = xmalloc(sizeof *t->req);
    int rc = ck_request_decode(json, strlen(json), t->req, err, errlen);
    free(json);
    return rc;
}

/* ---- admission: responders start in arrival order, at most cfg.max_running at once ---- */

static void admit_unlist(struct ck_turn *t)
{
    struct ck_engine *e = t->e;
    if (!t->admit_listed)
        return;
    if (t->admit_prev)
        t->admit_prev->admit_next = t->admit_next;
    else
        e->admit_head = t->admit_next;
    if (t->admit_next)
        t->admit_next->admit_prev = t->admit_prev;
    else
        e->admit_tail = t->admit_prev;
    t->admit_prev = t->admit_next = NULL;
    t->admit_listed = false;
}

/* Starts waiting responders while there is room. A responder may end its turn from inside
 * start (freeing a place), so this loops instead of recursing. */
static void admit_run(struct ck_engine *e)
{
    if (e->admitting)
        return;
    e->admitting = true;
    while (e->admit_head && (!e->cfg.max_running || e->running < e->cfg.max_running)) {
        struct ck_turn *t = e->admit_head;
        admit_unlist(t);
        t->start_waiting = false;
        t->admitted = true;
        e->running++;
        char err[300];
        if (request_unpark(t, err, sizeof err)) {
            t->responder_done = true; /* it never started */
            turn_failed(t, "its request could not be read back", err);
            turn_maybe_free(t);
            continue;
        }
        t->resp->start(t, t->resp->data);
    }
    e->admitting = false;
}

/* The turn's first events are out (an EV_CALL): it queues for a place to start its responder. */
static void admit_request(struct ck_turn *t, void *data)
{
    (void)data;
    struct ck_engine *e = t->e;
    if (!t->start_waiting || t->state != TURN_RUNNING || t->cancelled)
        return;
    t->admit_listed = true;
    t->admit_prev = e->admit_tail;
    t->admit_next = NULL;
    if (e->admit_tail)
        e->admit_tail->admit_next = t;
    else
        e->admit_head = t;
    e->admit_tail = t;
    admit_run(e);
}

/* The turn ended or will never start its responder: its place (or its wait) ends. A responder
 * that never started has nothing to let go of, so it counts as done. */
static void admit_leave(struct ck_turn *t)
{
    admit_unlist(t);
    if (t->start_waiting) {
        t->start_waiting = false;
        t->responder_done = true;
    }
    if (t->admitted) {
        t->admitted = false;
        t->e->running--;
        admit_run(t->e);
    }
}

/* ---- thread locks ---- */

static size_t lock_bucket(const char *id)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return (size_t)(h % LOCK_BUCKETS);
}

static struct thread_lock **lock_find(struct ck_engine *e, const char *id)
{
    struct thread_lock **pp = &e->locks[lock_bucket(id)];
    while (*pp && strcmp((*pp)->thread_id, id) != 0)
        pp = &(*pp)->next;
    return pp;
}

/* Returns true when t got the lock now; otherwise t waits and prepare_next runs on release. */
static bool lock_acquire(struct ck_turn *t, const char *thread_id)
{
    struct thread_lock **pp = lock_find(t->e, thread_id);
    t->locked = true;
    if (!*pp) {
        struct thread_lock *l = xcalloc(1, sizeof *l);
        snprintf(l->thread_id, sizeof l->thread_id, "%s", thread_id);
        *pp = l;
        return true;
    }
    struct thread_lock *l = *pp;
    if (l->waiters_tail)
        l->waiters_tail->next_waiter = t;
    else
        l->waiters_head = t;
    l->waiters_tail = t;
    return false;
}

static void lock_release(struct ck_turn *t)
{
    /* The replicas' lock first: the next local waiter asks for it right after this. */
    if (t->dblock)
        store_coord_unlock(t->e->cfg.coord, t->dblock);
    if (!t->locked)
        return;
    t->locked = false;
    struct thread_lock **pp = lock_find(t->e, t->thread.id);
    struct thread_lock *l = *pp;
    if (!l)
        return;
    struct ck_turn *next = l->waiters_head;
    if (!next) {
        *pp = l->next;
        free(l);
        return;
    }
    l->waiters_head = next->next_waiter;
    if (!l->waiters_head)
        l->waiters_tail = NULL;
    next->next_waiter = NULL;
    prepare_next(next); /* the lock passes on to it */
}

/* ---- the turn object ---- */

static void store_item_free(struct store_item *item)
{
    if (item) {
        free(item->json);
        free(item);
    }
}

/* Frees what the kind carries (the union member it set). */
static void event_free_payload(struct ck_event *ev)
{
    switch (ev->kind) {
    case EV_DONE:
    case EV_REPLACED:
    case EV_REMOVED:
    case EV_DELETE_AFTER:
        store_item_free(ev->item);
        ev->item = NULL;
        break;
    case EV_ATTACH:
        free(ev->att);
        ev->att = NULL;
        break;
    case EV_SET_TITLE:
        free(ev->title);
        ev->title = NULL;
        break;
    default:
        break;
    }
}

static void event_free(struct ck_event *ev)
{
    event_free_payload(ev);
    if (!ev->json_static)
        free(ev->json);
    free(ev);
}

/* The turn's job, cleared (allocated when it has none). */
static void turn_job_new(struct ck_turn *t)
{
    if (!t->job)
        t->job = xcalloc(1, sizeof *t->job);
    store_job_clear(t->job);
}

static void turn_job_release(struct ck_turn *t)
{
    if (!t->job)
        return;
    store_job_clear(t->job);
    free(t->job);
    t->job = NULL;
}

static void delegation_free(struct delegation *d)
{
    if (d) {
        free(d->text);
        free(d->item_id);
        free(d);
    }
}

static void turn_free(struct ck_turn *t)
{
    lock_release(t);
    admit_unlist(t);
    if (t->admitted)
        t->e->running--;
    while (t->head) {
        struct ck_event *ev = t->head;
        t->head = ev->next;
        event_free(ev);
    }
    while (t->pending) {
        struct pending_msg *p = t->pending;
        t->pending = p->next;
        buf_free(&p->text);
        free(p);
    }
    turn_job_release(t);
    free(t->thread.title);
    free(t->thread.status_json);
    free(t->thread.allowed_image_domains_json);
    free(t->thread.metadata_json);
    store_item_free(t->item);
    free(t->atts);
    free(t->user_text);
    free(t->user_id);
    free(t->wf_id);
    free(t->wf_version);
    free(t->wf_state_json);
    free(t->dblock);
    delegation_free(t->dlg);
    free(t->user_item_json);
    if (t->req) {
        ck_request_free(t->req);
        free(t->req);
    }
    free(t->req_json);
    t->e->active--;
    free(t);
}

/* The turn is released once the queue has ended and the responder has let go of it (never from
 * inside its own pump: the pump releases it on the way out). */
static void turn_maybe_free(struct ck_turn *t)
{
    if (t->state == TURN_ENDED && (t->responder_done || !t->resp) && !t->job_busy && !t->pumping)
        turn_free(t);
}

/* ---- queue ---- */

static struct ck_event *event_new(enum ev_kind kind)
{
    struct ck_event *ev = xcalloc(1, sizeof *ev);
    ev->kind = kind;
    return ev;
}

static void queue_push(struct ck_turn *t, struct ck_event *ev)
{
    t->queued_bytes += ev->len;
    if (t->tail)
        t->tail->next = ev;
    else
        t->head = ev;
    t->tail = ev;
}

static void queue_push_front(struct ck_turn *t, struct ck_event *ev)
{
    t->queued_bytes += ev->len;
    ev->next = t->head;
    t->head = ev;
    if (!t->tail)
        t->tail = ev;
}

/* Wraps an item in {"type":kind,"item":...}; *item_off (if not NULL) gets where the item starts. */
static char *wrap_item_event(const char *kind, const char *item_json, size_t *len,
                             unsigned char *item_off)
{
    struct buf b;
    buf_init(&b, EVENT_MAX);
    buf_appendf(&b, "{\"type\":\"%s\",\"item\":", kind);
    if (item_off)
        *item_off = (unsigned char)b.len; /* kind is one of the short protocol names */
    buf_append_str(&b, item_json);
    buf_append_char(&b, '}');
    return buf_detach(&b, len);
}

static char *thread_event(struct ck_turn *t, const char *kind, size_t *len)
{
    struct buf b;
    buf_init(&b, EVENT_MAX);
    struct jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    jw_kv_str(&w, "type", kind);
    jw_key(&w, "thread");
    ck_write_thread(&w, &t->thread, NULL);
    jw_obj_end(&w);
    return buf_detach(&b, len);
}

/* ---- persistence of queued events ---- */

static void copy_thread_strings(struct store_thread *dst, const struct store_thread *src)
{
    *dst = *src;
    dst->title = src->title ? xstrdup(src->title) : NULL;
    dst->status_json = src->status_json ? xstrdup(src->status_json) : NULL;
    dst->allowed_image_domains_json =
        src->allowed_image_domains_json ? xstrdup(src->allowed_image_domains_json) : NULL;
    dst->metadata_json = src->metadata_json ? xstrdup(src->metadata_json) : NULL;
}

/* A copy of the item JSON inside a sent item event. */
static char *item_json_of(const struct ck_event *ev)
{
    return xstrndup(ev->json + ev->item_off, ev->len - ev->item_off - 1);
}

static void persist_done(struct store_job *job);
static void turn_failed(struct ck_turn *t, const char *what, const char *why);

/* Whether a turn must wait for a write place: the limit is reached, or others wait already (a
 * turn that just wrote goes behind them, so a burst gets every first event stored in arrival
 * order before anyone's later writes). */
static bool write_must_wait(const struct ck_engine *e)
{
    return e->cfg.max_writes && (e->writes >= e->cfg.max_writes || e->write_head);
}

static void write_wait(struct ck_turn *t)
{
    struct ck_engine *e = t->e;
    t->job_busy = true; /* the pump stops and the turn stays alive, as for a write in flight */
    t->write_next = NULL;
    if (e->write_tail)
        e->write_tail->write_next = t;
    else
        e->write_head = t;
    e->write_tail = t;
}

/* Lets waiting turns write while there is room, in arrival order. */
static void writes_resume(struct ck_engine *e)
{
    if (e->resuming)
        return;
    e->resuming = true;
    while (e->write_head && (!e->cfg.max_writes || e->writes < e->cfg.max_writes)) {
        struct ck_turn *t = e->write_head;
        e->write_head = t->write_next;
        if (!e->write_head)
            e->write_tail = NULL;
        t->write_next = NULL;
        t->write_granted = true;
        t->job_busy = false;
        turn_pump(t);
    }
    e->resuming = false;
}

/* Starts the store job an event needs; false when it needs none. The job is allocated only
 * once the turn has a write place, so a burst of turns does not hold a job each while they
 * wait for the writer. */
static bool persist_start(struct ck_turn *t, struct ck_event *ev)
{
    enum store_op op;
    switch (ev->kind) {
    case EV_THREAD_CREATE:
        op = STORE_THREAD_CREATE;
        break;
    case EV_THREAD_SAVE:
    case EV_SAVE_METADATA:
        op = STORE_THREAD_UPDATE;
        break;
    case EV_ATTACH:
        op = STORE_ATTACHMENT_UPDATE;
        break;
    case EV_DELETE_AFTER:
        op = STORE_ITEM_DELETE_AFTER;
        break;
    case EV_DONE:
        op = STORE_ITEM_UPSERT;
        break;
    case EV_REPLACED:
        op = STORE_ITEM_UPDATE;
        break;
    case EV_REMOVED:
        op = STORE_ITEM_DELETE;
        break;
    default:
        return false;
    }
    if (!t->write_granted && write_must_wait(t->e)) {
        write_wait(t);
        return true;
    }
    t->write_granted = false;
    turn_job_new(t);
    store_job_init(t->job, op, persist_done, t);
    snprintf(t->job->user_id, sizeof t->job->user_id, "%s", t->user_id);
    if (op == STORE_THREAD_CREATE || op == STORE_THREAD_UPDATE) {
        copy_thread_strings(&t->job->thread, &t->thread);
        t->job->thread.updated_us = clock_wall_us();
    } else if (op == STORE_ATTACHMENT_UPDATE) {
        t->job->attachment = *ev->att; /* the job takes it: the event only waits to be sent */
        free(ev->att);
        ev->att = NULL;
    } else {
        t->job->item = *ev->item; /* json included, freed with the job */
        if (ev->item_off)
            t->job->item.json = item_json_of(ev);
        free(ev->item);
        ev->item = NULL;
    }
    t->job_busy = true;
    if (store_submit(t->e->cfg.store, t->job)) {
        t->job_busy = false;
        turn_failed(t, "store write failed", "the store is closing");
    } else {
        t->e->writes++;
    }
    return true;
}

static void turn_end(struct ck_turn *t)
{
    t->state = TURN_ENDED;
    lock_release(t);
    admit_leave(t);
    if (t->sink) {
        struct ck_sink *s = t->sink;
        t->sink = NULL;
        s->end(s);
    }
}

/* A store write (or the turn itself) failed while streaming: the client gets the generic error
 * (spec §6.4) and the turn ends; events after it are dropped. */
static void turn_failed(struct ck_turn *t, const char *what, const char *why)
{
    log_error(t->e->cfg.log, "turn on %s: %s: %s", t->thread.id, what, why);
    while (t->head) {
        struct ck_event *ev = t->head;
        t->head = ev->next;
        event_free(ev);
    }
    t->tail = NULL;
    t->queued_bytes = 0;
    if (t->sink && !t->cancelled) {
        static const char err[] =
            "{\"type\":\"error\",\"code\":\"stream.error\",\"allow_retry\":true}";
        t->sink->send(t->sink, err, sizeof err - 1);
    }
    if (t->start_waiting)
        admit_leave(t);
    if (t->resp && !t->responder_done && t->resp->cancel) {
        t->cancelled = true;
        t->resp->cancel(t, t->resp->data);
    }
    turn_end(t);
}

static void persist_continue(struct ck_turn *t, struct store_job *job);

static void persist_done(struct store_job *job)
{
    struct ck_turn *t = job->data;
    struct ck_engine *e = t->e;
    e->writes--;
    persist_continue(t, job);
    writes_resume(e);
}

static void persist_continue(struct ck_turn *t, struct store_job *job)
{
    t->job_busy = false;
    if (job->status && !(t->head && t->head->kind == EV_REMOVED && job->status == ERR_NOT_FOUND)) {
        turn_failed(t, "store write failed", job->error[0] ? job->error : err_str(job->status));
        turn_maybe_free(t);
        return;
    }
    turn_job_release(t);
    struct ck_event *ev = t->head;
    if (ev && ev->kind == EV_THREAD_CREATE && !ev->json) {
        /* Made now rather than when queued, so a burst of turns waiting for their first write
         * does not hold it: nothing changes the thread before its creation is sent. */
        ev->json = thread_event(t, "thread.created", &ev->len);
        t->queued_bytes += ev->len;
    }
    if (ev && ev->kind != EV_END) {
        event_free_payload(ev);
        ev->kind = EV_SEND; /* persisted: only sending is left */
    }
    turn_pump(t);
}

/* ---- the pump: persist, then send, in order ---- */

static void turn_pump(struct ck_turn *t)
{
    if (t->pumping)
        return; /* the outer call goes on with the queue */
    t->pumping = true;
    while (t->state == TURN_RUNNING && !t->job_busy && t->head) {
        struct ck_event *ev = t->head;
        if (ev->kind == EV_END && t->thread_dirty && !t->cancelled) {
            t->thread_dirty = false;
            struct ck_event *save = event_new(EV_THREAD_SAVE);
            save->json = thread_event(t, "thread.updated", &save->len);
            queue_push_front(t, save);
            continue;
        }
        if (ev->kind != EV_SEND && ev->kind != EV_END && ev->kind != EV_SET_TITLE &&
            ev->kind != EV_CALL && persist_start(t, ev)) {
            t->pumping = false;
            if (!t->job_busy)
                turn_maybe_free(t); /* the store refused the write and the turn ended */
            return;                 /* otherwise it resumes in persist_done */
        }
        t->head = ev->next;
        if (!t->head)
            t->tail = NULL;
        t->queued_bytes -= ev->len;
        if (ev->user_item && ev->item_off && !t->user_item_json)
            t->user_item_json = item_json_of(ev);
        if (ev->kind == EV_CALL) {
            void (*fn)(struct ck_turn *, void *) = ev->call.fn;
            void *fn_data = ev->call.data;
            event_free(ev);
            fn(t, fn_data);
            continue;
        }
        if (ev->kind == EV_SET_TITLE) {
            free(t->thread.title);
            t->thread.title = ev->title;
            ev->title = NULL;
            t->thread_dirty = true;
            event_free(ev);
            continue;
        }
        bool end = ev->kind == EV_END, sent = false;
        if (ev->json && t->sink && !t->cancelled) {
            if (t->sink->send(t->sink, ev->json, ev->len) != 0)
                ck_turn_cancel(t);
            else
                sent = true;
        }
        event_free(ev);
        if (end) {
            turn_end(t);
            break;
        }
        /* A thread changed before the event just sent is saved and announced now (§6.3). */
        if (sent && t->thread_dirty && !t->cancelled && t->head && t->head->kind != EV_END) {
            t->thread_dirty = false;
            struct ck_event *save = event_new(EV_THREAD_SAVE);
            save->json = thread_event(t, "thread.updated", &save->len);
            queue_push_front(t, save);
        }
    }
    t->pumping = false;
    turn_maybe_free(t);
}

/* ---- preparing ---- */

static void prepare_fail(struct ck_turn *t, int http_status, const char *code, const char *msg)
{
    ck_prepared_cb cb = t->prepared_cb;
    void *data = t->prepared_data;
    t->state = TURN_ENDED;
    t->responder_done = true;
    cb(t, http_status, code, msg, data);
    turn_free(t);
}

static void prepare_store_done(struct store_job *job)
{
    struct ck_turn *t = job->data;
    t->job_busy = false;
    prepare_next(t);
}

/* Prepares the turn's job for op; the caller fills inputs, then calls prepare_submit. */
static struct store_job *prepare_job(struct ck_turn *t, enum store_op op)
{
    turn_job_new(t);
    store_job_init(t->job, op, prepare_store_done, t);
    snprintf(t->job->user_id, sizeof t->job->user_id, "%s", t->user_id);
    return t->job;
}

static void prepare_submit(struct ck_turn *t)
{
    t->job_busy = true;
    if (store_submit(t->e->cfg.store, t->job)) {
        t->job_busy = false;
        t->job->status = ERR_UNAVAILABLE;
        prepare_next(t);
    }
}

/* Writes one attachment as the protocol shows it inside a user message (spec §11.2). */
static void write_attachment(struct jw *w, const struct store_attachment *a, const char *thread_id)
{
    jw_obj_begin(w);
    jw_kv_str(w, "id", a->id);
    jw_kv_str(w, "name", a->name);
    jw_kv_str(w, "mime_type", a->mime_type);
    jw_kv_str(w, "type", a->image ? "image" : "file");
    if (a->image) {
        char url[ID_MAX + 16];
        snprintf(url, sizeof url, "/files/%s", a->id);
        jw_kv_str(w, "preview_url", url);
    }
    jw_kv_str(w, "thread_id", thread_id);
    jw_obj_end(w);
}

enum prepare_step {
    STEP_START,
    STEP_DB_LOCK,
    STEP_THREAD_LOADED,
    STEP_ITEM_LOADED,
    STEP_ATTACHMENT_LOADED,
    STEP_READY,
};

static bool request_has_thread(const struct ck_turn *t)
{
    return t->type != CK_THREADS_CREATE;
}

static bool request_loads_item(const struct ck_turn *t)
{
    switch (t->type) {
    case CK_THREADS_ADD_STRUCTURED_INPUT:
    case CK_THREADS_RETRY_AFTER_ITEM:
        return true;
    case CK_THREADS_CUSTOM_ACTION:
        return t->req->item_id != NULL;
    case CK_THREADS_ADD_CLIENT_TOOL_OUTPUT:
        return true; /* the newest item */
    default:
        return false;
    }
}

/* Checks the loaded target item against what the request needs (before any stream). */
static int check_item(struct ck_turn *t, const char **code, const char **msg)
{
    const char *type = t->item->type;
    cJSON *doc = t->item->json ? json_parse(t->item->json, strlen(t->item->json), 64, NULL) : NULL;
    const char *status = NULL;
    json_get_str(doc, "status", &status);
    int rc = 0;
    switch (t->type) {
    case CK_THREADS_RETRY_AFTER_ITEM:
        if (strcmp(type, "user_message") != 0) {
            *code = "invalid_request";
            *msg = "params.item_id must name a user message";
            rc = 400;
        }
        break;
    case CK_THREADS_ADD_STRUCTURED_INPUT:
        if (strcmp(type, "structured_input") != 0 || !status || strcmp(status, "pending") != 0) {
            *code = "invalid_request";
            *msg = "params.item_id must name a pending structured_input item";
            rc = 400;
        }
        break;
    case CK_THREADS_ADD_CLIENT_TOOL_OUTPUT:
        if (strcmp(type, "client_tool_call") != 0 || !status || strcmp(status, "pending") != 0) {
            *code = "invalid_request";
            *msg = "the last item of the thread is not a pending client tool call";
            rc = 400;
        }
        break;
    default:
        break;
    }
    cJSON_Delete(doc);
    return rc;
}

static void prepare_after_thread(struct ck_turn *t)
{
    if (t->job->status == ERR_NOT_FOUND) {
        prepare_fail(t, 404, "thread_not_found", "no such thread");
        return;
    }
    if (t->job->status) {
        prepare_fail(t, 503, "store_unavailable", "the store failed; try again shortly");
        return;
    }
    copy_thread_strings(&t->thread, &t->job->thread);
    const char *status = t->thread.status_json;
    if (status && !strstr(status, "\"active\"") &&
        (t->type == CK_THREADS_ADD_USER_MESSAGE || t->type == CK_THREADS_CUSTOM_ACTION)) {
        prepare_fail(t, 409, "thread_not_active", "the thread is locked or closed");
        return;
    }
    if (!request_loads_item(t)) {
        t->prepare_step = STEP_ATTACHMENT_LOADED;
        prepare_next(t);
        return;
    }
    t->prepare_step = STEP_ITEM_LOADED;
    struct store_job *job;
    if (t->type == CK_THREADS_ADD_CLIENT_TOOL_OUTPUT) {
        job = prepare_job(t, STORE_ITEM_LIST);
        job->page.limit = 1;
        job->page.desc = true;
    } else {
        job = prepare_job(t, STORE_ITEM_GET);
        snprintf(job->item.id, sizeof job->item.id, "%s", t->req->item_id);
    }
    snprintf(job->item.thread_id, sizeof job->item.thread_id, "%s", t->thread.id);
    prepare_submit(t);
}

/* Moves a loaded item (json included) out of the job into a heap copy the turn owns. */
static struct store_item *item_take(struct store_item *loaded)
{
    struct store_item *item = xmalloc(sizeof *item);
    *item = *loaded;
    loaded->json = NULL;
    return item;
}

static void prepare_after_item(struct ck_turn *t)
{
    const char *code = NULL, *msg = NULL;
    if (t->type == CK_THREADS_ADD_CLIENT_TOOL_OUTPUT) {
        if (t->job->status || t->job->list.n == 0) {
            prepare_fail(t, t->job->status && t->job->status != ERR_NOT_FOUND ? 503 : 400,
                         "invalid_request", "the thread has no pending client tool call");
            return;
        }
        t->item = item_take(&t->job->list.items[0]);
    } else {
        if (t->job->status == ERR_NOT_FOUND) {
            prepare_fail(t, 404, "item_not_found", "no such item in this thread");
            return;
        }
        if (t->job->status) {
            prepare_fail(t, 503, "store_unavailable", "the store failed; try again shortly");
            return;
        }
        t->item = item_take(&t->job->item);
    }
    int status = check_item(t, &code, &msg);
    if (status) {
        prepare_fail(t, status, code, msg);
        return;
    }
    t->prepare_step = STEP_ATTACHMENT_LOADED;
    prepare_next(t);
}

/* Loads the message's attachments one by one: each must exist, be the user's, and be uploaded. */
static void prepare_attachments(struct ck_turn *t)
{
    const cJSON *ids = NULL;
    json_get_arr(t->req->input, "attachments", &ids);
    int n = cJSON_GetArraySize(ids);
    if (t->atts_loaded > 0) {
        const struct store_attachment *a = &t->job->attachment;
        if (t->job->status == ERR_NOT_FOUND ||
            (t->job->status == 0 && a->state != STORE_ATTACHMENT_UPLOADED)) {
            prepare_fail(t, t->job->status ? 404 : 400,
                         t->job->status ? "attachment_not_found" : "attachment_not_uploaded",
                         t->job->status ? "an attachment of the message does not exist"
                                        : "an attachment of the message has no bytes yet");
            return;
        }
        if (t->job->status) {
            prepare_fail(t, 503, "store_unavailable", "the store failed; try again shortly");
            return;
        }
        t->atts[t->atts_loaded - 1] = *a;
    }
    if (t->atts_loaded == (size_t)n) {
        t->prepare_step = STEP_READY;
        prepare_next(t);
        return;
    }
    if (!t->atts)
        t->atts = xcalloc((size_t)n, sizeof *t->atts);
    t->natts = (size_t)n;
    const cJSON *id = cJSON_GetArrayItem(ids, (int)t->atts_loaded++);
    if (strlen(id->valuestring) >= ID_MAX) {
        prepare_fail(t, 404, "attachment_not_found", "an attachment of the message does not exist");
        return;
    }
    struct store_job *job = prepare_job(t, STORE_ATTACHMENT_GET);
    snprintf(job->attachment.id, sizeof job->attachment.id, "%s", id->valuestring);
    prepare_submit(t);
}

static void on_db_lock(struct store_coord_lock *lock, int status)
{
    struct ck_turn *t = lock->data;
    if (status) {
        prepare_fail(t, 503, "store_unavailable", "the database cannot be reached; try again");
        return;
    }
    prepare_next(t);
}

/* Walks the preparation steps; each store answer re-enters here. */
static void prepare_next(struct ck_turn *t)
{
    switch (t->prepare_step) {
    case STEP_START:
        t->prepare_step = STEP_THREAD_LOADED;
        if (!request_has_thread(t)) {
            t->thread_new = true;
            t->prepare_step = STEP_ATTACHMENT_LOADED;
            if (!lock_acquire(t, t->thread.id))
                return;
            prepare_next(t);
            return;
        }
        if (strlen(t->req->thread_id) >= ID_MAX) {
            prepare_fail(t, 404, "thread_not_found", "no such thread");
            return;
        }
        snprintf(t->thread.id, sizeof t->thread.id, "%s", t->req->thread_id);
        t->prepare_step = STEP_DB_LOCK;
        if (!lock_acquire(t, t->thread.id))
            return; /* resumes here when the turn before it on this thread ends */
        /* fall through */
    case STEP_DB_LOCK:
        /* Other replicas may run a turn on this thread too: the database's lock, held until the
         * turn ends, orders them (new threads need none: nobody else knows their id). */
        t->prepare_step = STEP_THREAD_LOADED;
        if (t->e->cfg.coord) {
            if (!t->dblock)
                t->dblock = xcalloc(1, sizeof *t->dblock);
            store_coord_lock(t->e->cfg.coord, t->dblock, t->thread.id, on_db_lock, t);
            return;
        }
        /* fall through */
    case STEP_THREAD_LOADED:
        if (!t->job_busy && (!t->job || t->job->op != STORE_THREAD_GET)) {
            struct store_job *job = prepare_job(t, STORE_THREAD_GET);
            snprintf(job->thread.id, sizeof job->thread.id, "%s", t->thread.id);
            t->prepare_step = STEP_THREAD_LOADED;
            prepare_submit(t);
            return;
        }
        prepare_after_thread(t);
        return;
    case STEP_ITEM_LOADED:
        prepare_after_item(t);
        return;
    case STEP_ATTACHMENT_LOADED:
        if (t->req->input) {
            prepare_attachments(t);
            return;
        }
        t->prepare_step = STEP_READY;
        /* fall through */
    case STEP_READY:
        t->prepared_cb(t, 0, NULL, NULL, t->prepared_data);
        return;
    }
}

void ck_turn_prepare(struct ck_engine *e, struct ck_request *req, const char *user_id,
                     ck_prepared_cb cb, void *data)
{
    ck_turn_prepare_session(e, req, user_id, NULL, cb, data);
}

void ck_turn_prepare_session(struct ck_engine *e, struct ck_request *req, const char *user_id,
                             const struct ck_turn_workflow *wf, ck_prepared_cb cb, void *data)
{
    struct ck_turn *t = xcalloc(1, sizeof *t);
    t->wf_id = xstrdup(wf && wf->id ? wf->id : "");
    t->wf_version = xstrdup(wf && wf->version ? wf->version : "");
    if (wf && wf->state_variables_json)
        t->wf_state_json = xstrdup(wf->state_variables_json);
    t->wf.id = t->wf_id;
    t->wf.version = t->wf_version;
    t->wf.state_variables_json = t->wf_state_json;
    t->e = e;
    e->active++;
    t->req = xmalloc(sizeof *t->req);
    *t->req = *req;
    t->type = req->type;
    memset(req, 0, sizeof *req);
    t->user_id = xstrdup(user_id);
    t->prepared_cb = cb;
    t->prepared_data = data;
    t->state = TURN_PREPARING;
    if (t->type == CK_THREADS_CREATE) {
        int64_t now = clock_wall_us();
        if (id_new("thr_", t->thread.id)) {
            prepare_fail(t, 503, "unavailable", "no randomness available");
            return;
        }
        snprintf(t->thread.user_id, sizeof t->thread.user_id, "%s", user_id);
        t->thread.created_us = now;
        t->thread.updated_us = now;
        t->thread.status_json = xstrdup("{\"type\":\"active\"}");
        t->thread.metadata_json = xstrdup("{}");
    }
    prepare_next(t);
}

/* ---- running ---- */

static struct ck_event *queue_item(struct ck_turn *t, enum ev_kind kind, const char *ev_name,
                                   const char *item_id, const char *type, int64_t created_us,
                                   const char *item_json, bool send)
{
    struct ck_event *ev = event_new(kind);
    struct store_item *item = xcalloc(1, sizeof *item);
    snprintf(item->id, sizeof item->id, "%s", item_id);
    snprintf(item->thread_id, sizeof item->thread_id, "%s", t->thread.id);
    snprintf(item->type, sizeof item->type, "%s", type ? type : "");
    item->created_us = created_us;
    item->hidden = type && (strcmp(type, "hidden_context_item") == 0 ||
                            strcmp(type, "sdk_hidden_context") == 0);
    ev->item = item;
    if (send && ev_name && !item->hidden && kind == EV_REMOVED) {
        struct buf b;
        buf_init(&b, 256);
        buf_appendf(&b, "{\"type\":\"thread.item.removed\",\"item_id\":\"%s\"}", item_id);
        ev->json = buf_detach(&b, &ev->len);
    } else if (send && ev_name && !item->hidden && item_json) {
        ev->json = wrap_item_event(ev_name, item_json, &ev->len, &ev->item_off);
    } else if (item_json) {
        item->json = xstrdup(item_json);
    }
    queue_push(t, ev);
    return ev;
}

static void queue_send(struct ck_turn *t, const char *json, size_t len)
{
    struct ck_event *ev = event_new(EV_SEND);
    ev->json = xmalloc(len + 1);
    memcpy(ev->json, json, len);
    ev->json[len] = '\0';
    ev->len = len;
    queue_push(t, ev);
}

/* queue_send for a constant text: every turn sends a few of these, so they are not copied. */
static void queue_send_static(struct ck_turn *t, const char *json, size_t len)
{
    struct ck_event *ev = event_new(EV_SEND);
    ev->json = (char *)json; /* never written nor freed (json_static) */
    ev->json_static = true;
    ev->len = len;
    queue_push(t, ev);
}

/* Keeps the text of a user message (its input, or the stored item's JSON) as the turn's. */
static void set_user_text(struct ck_turn *t, const cJSON *input)
{
    struct buf text;
    buf_init(&text, EVENT_MAX);
    ck_input_text(input, &text);
    free(t->user_text);
    t->user_text = text.len ? buf_detach(&text, &t->user_text_len) : NULL;
    buf_free(&text);
}

/* The user message of a create / add_user_message turn: attachments linked to the thread, the
 * item stored and shown (spec §5.1 steps 3-4). */
static void queue_user_message(struct ck_turn *t)
{
    struct buf attachments; /* the JSON array inside the message */
    buf_init(&attachments, EVENT_MAX);
    struct jw w;
    jw_init(&w, &attachments);
    jw_arr_begin(&w);
    for (size_t i = 0; i < t->natts; i++) {
        write_attachment(&w, &t->atts[i], t->thread.id);
        struct ck_event *ev = event_new(EV_ATTACH);
        ev->att = xmalloc(sizeof *ev->att);
        *ev->att = t->atts[i];
        snprintf(ev->att->thread_id, sizeof ev->att->thread_id, "%s", t->thread.id);
        ev->att->attached = true;
        queue_push(t, ev);
    }
    jw_arr_end(&w);
    int64_t now = clock_wall_us();
    id_new("msg_", t->user_item_id);
    struct buf item;
    buf_init(&item, EVENT_MAX);
    jw_init(&w, &item);
    ck_write_user_message(&w, t->user_item_id, t->thread.id, now, t->req->input, attachments.data);
    buf_free(&attachments);
    struct ck_event *ev = queue_item(t, EV_DONE, "thread.item.done", t->user_item_id,
                                     "user_message", now, item.data, true);
    ev->user_item = true;
    buf_free(&item);
    set_user_text(t, t->req->input);
}

/* A completed client tool call (spec §5.3): stored without an event. */
static void queue_tool_output(struct ck_turn *t)
{
    cJSON *doc = json_parse(t->item->json, strlen(t->item->json), 64, NULL);
    if (!doc)
        return;
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "status");
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "output");
    cJSON_AddStringToObject(doc, "status", "completed");
    cJSON_AddItemToObject(doc, "output", cJSON_Duplicate(t->req->result, 1));
    char *json = json_print(doc);
    cJSON_Delete(doc);
    queue_item(t, EV_REPLACED, NULL, t->item->id, t->item->type, t->item->created_us, json, false);
    free(json);
}

/* The answered structured_input item (spec §5.4 steps 2-4). */
static char *structured_answer(struct ck_turn *t)
{
    cJSON *doc = json_parse(t->item->json, strlen(t->item->json), 64, NULL);
    cJSON *inputs = doc ? cJSON_GetObjectItemCaseSensitive(doc, "inputs") : NULL;
    bool skip_all = strcmp(t->req->input_status, "skipped") == 0;
    cJSON *q;
    cJSON_ArrayForEach(q, inputs)
    {
        const char *qid = NULL, *qtype = NULL;
        bool multiple = false, skipped = false;
        const cJSON *ans = NULL, *values = NULL;
        json_get_str(q, "id", &qid);
        json_get_str(q, "type", &qtype);
        json_get_bool(q, "multiple", &multiple);
        if (qid && t->req->input_answers)
            json_get_obj(t->req->input_answers, qid, &ans);
        json_get_arr(ans, "values", &values);
        json_get_bool(ans, "skipped", &skipped);
        cJSON *answer = cJSON_CreateObject();
        cJSON *vals = cJSON_AddArrayToObject(answer, "values");
        bool none = skip_all || !ans || skipped || !values || !values->child;
        if (!none) {
            bool single = qtype && strcmp(qtype, "multiple_choice") == 0 && !multiple;
            for (const cJSON *v = values->child; v; v = single ? NULL : v->next)
                cJSON_AddItemToArray(vals, cJSON_CreateString(v->valuestring));
        }
        cJSON_AddBoolToObject(answer, "skipped", none);
        cJSON_DeleteItemFromObjectCaseSensitive(q, "answer");
        cJSON_AddItemToObject(q, "answer", answer);
    }
    if (doc) {
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "status");
        cJSON_AddStringToObject(doc, "status", t->req->input_status);
    }
    char *json = doc ? json_print(doc) : xstrdup(t->item->json);
    cJSON_Delete(doc);
    return json;
}

static void queue_stream_options(struct ck_turn *t)
{
    static const char on[] =
        "{\"type\":\"stream_options\",\"stream_options\":{\"allow_cancel\":true}}";
    static const char off[] =
        "{\"type\":\"stream_options\",\"stream_options\":{\"allow_cancel\":false}}";
    if (t->e->cfg.allow_cancel)
        queue_send_static(t, on, sizeof on - 1);
    else
        queue_send_static(t, off, sizeof off - 1);
}

void ck_turn_run(struct ck_turn *t, struct ck_sink *sink)
{
    t->sink = sink;
    t->state = TURN_RUNNING;
    enum ck_type type = t->type;
    if (type == CK_THREADS_CREATE) {
        queue_push(t, event_new(EV_THREAD_CREATE)); /* its text is made once it is stored */
    }
    if (type == CK_THREADS_CUSTOM_ACTION && t->item && strcmp(t->item->type, "widget") != 0) {
        /* An action from a non-widget item: the one error event of the stream (spec §5.6). */
        static const char err[] =
            "{\"type\":\"error\",\"code\":\"stream.error\",\"allow_retry\":false}";
        queue_send_static(t, err, sizeof err - 1);
        queue_push(t, event_new(EV_END));
        t->responder_done = true;
        turn_pump(t);
        return;
    }
    if (t->req->input)
        queue_user_message(t);
    if (type == CK_THREADS_RETRY_AFTER_ITEM) {
        queue_item(t, EV_DELETE_AFTER, NULL, t->item->id, NULL, 0, NULL, false);
        snprintf(t->user_item_id, sizeof t->user_item_id, "%s", t->item->id);
        cJSON *doc = json_parse(t->item->json, strlen(t->item->json), 64, NULL);
        set_user_text(t, doc);
        cJSON_Delete(doc);
    }
    if (type == CK_THREADS_ADD_CLIENT_TOOL_OUTPUT)
        queue_tool_output(t);
    queue_stream_options(t);
    if (type == CK_THREADS_ADD_STRUCTURED_INPUT) {
        char *json = structured_answer(t);
        queue_item(t, EV_REPLACED, "thread.item.replaced", t->item->id, t->item->type,
                   t->item->created_us, json, true);
        free(json);
    }
    if (!t->thread.title && t->user_text) {
        char title[128];
        ck_title_from_text(t->user_text, t->user_text_len, title, sizeof title);
        if (title[0])
            ck_turn_set_title(t, title);
    }
    t->resp = t->e->cfg.pick(t, t->e->cfg.pick_data);
    if (!t->resp) {
        ck_turn_finish(t);
        return;
    }
    /* The responder starts once the events above are stored and sent, when admitted. */
    request_park(t);
    t->start_waiting = true;
    struct ck_event *ev = event_new(EV_CALL);
    ev->call.fn = admit_request;
    queue_push(t, ev);
    turn_pump(t);
}

/* ---- the responder's side ---- */

static bool turn_accepts(const struct ck_turn *t)
{
    return t->state == TURN_RUNNING && !t->cancelled && !t->end_queued;
}

void ck_turn_emit(struct ck_turn *t, const char *event_json, size_t len)
{
    if (!turn_accepts(t))
        return;
    queue_send(t, event_json, len);
    turn_pump(t);
}

static struct pending_msg *pending_find(struct ck_turn *t, const char *id, bool unlink)
{
    for (struct pending_msg **pp = &t->pending; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->id, id) == 0) {
            struct pending_msg *p = *pp;
            if (unlink)
                *pp = p->next;
            return p;
        }
    }
    return NULL;
}

void ck_turn_emit_item_added(struct ck_turn *t, const char *item_id, const char *type,
                             const char *item_json)
{
    if (!turn_accepts(t))
        return;
    if (strcmp(type, "assistant_message") == 0 && !pending_find(t, item_id, false)) {
        struct pending_msg *p = xcalloc(1, sizeof *p);
        snprintf(p->id, sizeof p->id, "%s", item_id);
        p->created_us = clock_wall_us();
        buf_init(&p->text, EVENT_MAX);
        p->next = t->pending;
        t->pending = p;
    }
    struct ck_event *ev = event_new(EV_SEND);
    ev->json = wrap_item_event("thread.item.added", item_json, &ev->len, NULL);
    queue_push(t, ev);
    turn_pump(t);
}

void ck_turn_emit_text_delta(struct ck_turn *t, const char *item_id, int content_index,
                             const char *delta, size_t len)
{
    if (!turn_accepts(t))
        return;
    struct pending_msg *p = pending_find(t, item_id, false);
    if (p)
        buf_append(&p->text, delta, len);
    struct buf b;
    buf_init(&b, EVENT_MAX);
    struct jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    jw_kv_str(&w, "type", "thread.item.updated");
    jw_kv_str(&w, "item_id", item_id);
    jw_key(&w, "update");
    jw_obj_begin(&w);
    jw_kv_str(&w, "type", "assistant_message.content_part.text_delta");
    jw_kv_int(&w, "content_index", content_index);
    jw_key(&w, "delta");
    jw_str_len(&w, delta, len);
    jw_obj_end(&w);
    jw_obj_end(&w);
    struct ck_event *ev = event_new(EV_SEND);
    ev->json = buf_detach(&b, &ev->len);
    queue_push(t, ev);
    turn_pump(t);
}

void ck_turn_emit_item_done(struct ck_turn *t, const char *item_id, const char *type,
                            int64_t created_us, const char *item_json)
{
    if (!turn_accepts(t))
        return;
    struct pending_msg *p = pending_find(t, item_id, true);
    if (p) {
        buf_free(&p->text);
        free(p);
    }
    queue_item(t, EV_DONE, "thread.item.done", item_id, type, created_us, item_json, true);
    turn_pump(t);
}

void ck_turn_emit_item_replaced(struct ck_turn *t, const char *item_id, const char *type,
                                int64_t created_us, const char *item_json)
{
    if (!turn_accepts(t))
        return;
    queue_item(t, EV_REPLACED, "thread.item.replaced", item_id, type, created_us, item_json, true);
    turn_pump(t);
}

void ck_turn_emit_item_removed(struct ck_turn *t, const char *item_id)
{
    if (!turn_accepts(t))
        return;
    queue_item(t, EV_REMOVED, "thread.item.removed", item_id, NULL, 0, NULL, true);
    turn_pump(t);
}

static void emit_content_part(struct ck_turn *t, const char *item_id, const char *what,
                              const char *text, size_t len)
{
    struct buf b;
    buf_init(&b, EVENT_MAX);
    struct jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    jw_kv_str(&w, "type", "thread.item.updated");
    jw_kv_str(&w, "item_id", item_id);
    jw_key(&w, "update");
    jw_obj_begin(&w);
    jw_kv_str(&w, "type", what);
    jw_kv_int(&w, "content_index", 0);
    jw_key(&w, "content");
    jw_obj_begin(&w);
    jw_key(&w, "annotations");
    jw_raw(&w, "[]", 2);
    jw_key(&w, "text");
    jw_str_len(&w, text, len);
    jw_kv_str(&w, "type", "output_text");
    jw_obj_end(&w);
    jw_obj_end(&w);
    jw_obj_end(&w);
    ck_turn_emit(t, b.data, b.len);
    buf_free(&b);
}

/* Deltas end after a space so words are never split; a long word goes out whole. */
void ck_turn_emit_text_message(struct ck_turn *t, const char *text, size_t len)
{
    if (!turn_accepts(t))
        return;
    char id[ID_MAX];
    id_new("msg_", id);
    int64_t now = clock_wall_us();
    struct buf b;
    buf_init(&b, EVENT_MAX);
    struct jw w;
    jw_init(&w, &b);
    ck_write_item_head(&w, id, t->thread.id, now, "assistant_message");
    jw_key(&w, "content");
    jw_raw(&w, "[]", 2);
    jw_obj_end(&w);
    ck_turn_emit_item_added(t, id, "assistant_message", b.data);
    emit_content_part(t, id, "assistant_message.content_part.added", "", 0);
    size_t pos = 0;
    while (pos < len) {
        size_t end = pos, words = 0;
        while (end < len && words < 3) {
            if (text[end++] == ' ')
                words++;
        }
        ck_turn_emit_text_delta(t, id, 0, text + pos, end - pos);
        pos = end;
    }
    emit_content_part(t, id, "assistant_message.content_part.done", text, len);
    buf_reset(&b);
    jw_init(&w, &b);
    ck_write_assistant_message(&w, id, t->thread.id, now, text, len);
    ck_turn_emit_item_done(t, id, "assistant_message", now, b.data);
    buf_free(&b);
}

void ck_turn_set_title(struct ck_turn *t, const char *title)
{
    if (t->state != TURN_RUNNING || t->cancelled || t->end_queued)
        return;
    struct ck_event *ev = event_new(EV_SET_TITLE);
    ev->title = xstrdup(title);
    queue_push(t, ev);
    turn_pump(t);
}

void ck_turn_finish(struct ck_turn *t)
{
    if (delegate_return(t, false))
        return;
    t->responder_done = true;
    if (!t->end_queued && t->state == TURN_RUNNING && !t->cancelled) {
        t->end_queued = true;
        queue_push(t, event_new(EV_END));
    }
    turn_pump(t);
}

void ck_turn_fail(struct ck_turn *t, const char *code, const char *message, bool allow_retry)
{
    if (turn_accepts(t)) {
        struct buf b;
        buf_init(&b, 8192);
        struct jw w;
        jw_init(&w, &b);
        jw_obj_begin(&w);
        jw_kv_str(&w, "type", "error");
        jw_kv_str(&w, "code", code ? code : "stream.error");
        jw_kv_str(&w, "message", message);
        jw_kv_bool(&w, "allow_retry", allow_retry);
        jw_obj_end(&w);
        queue_send(t, b.data, b.len);
        buf_free(&b);
    }
    if (t->dlg) {
        if (!t->end_queued && t->state == TURN_RUNNING && !t->cancelled) {
            t->end_queued = true;
            queue_push(t, event_new(EV_END));
        }
        delegate_return(t, true);
        return;
    }
    ck_turn_finish(t);
}

/* Cancel (spec §1.7, §6.5): nothing more is sent; what was queued and not yet stored is dropped;
 * partial assistant text that is not blank is saved, then the hidden marker. */
void ck_turn_cancel(struct ck_turn *t)
{
    if (t->cancelled || t->state != TURN_RUNNING)
        return;
    t->cancelled = true;
    if (t->sink) {
        struct ck_sink *s = t->sink;
        t->sink = NULL;
        s->end(s);
    }
    struct ck_event *keep = t->job_busy ? t->head : NULL; /* its write is in flight */
    struct ck_event *ev = keep ? keep->next : t->head;
    while (ev) {
        struct ck_event *next = ev->next;
        event_free(ev);
        ev = next;
    }
    t->head = t->tail = keep;
    t->queued_bytes = keep ? keep->len : 0;
    if (keep)
        keep->next = NULL;
    int64_t now = clock_wall_us();
    while (t->pending) {
        struct pending_msg *p = t->pending;
        t->pending = p->next;
        bool blank = true;
        for (size_t i = 0; i < p->text.len && blank; i++)
            blank = p->text.data[i] == ' ' || p->text.data[i] == '\n' || p->text.data[i] == '\t' ||
                    p->text.data[i] == '\r';
        if (!blank) {
            struct buf item;
            buf_init(&item, EVENT_MAX);
            struct jw w;
            jw_init(&w, &item);
            ck_write_assistant_message(&w, p->id, t->thread.id, p->created_us, p->text.data,
                                       p->text.len);
            queue_item(t, EV_DONE, NULL, p->id, "assistant_message", p->created_us, item.data,
                       false);
            buf_free(&item);
        }
        buf_free(&p->text);
        free(p);
    }
    char marker_id[ID_MAX];
    id_new("shcx_", marker_id);
    struct buf item;
    buf_init(&item, 4096);
    struct jw w;
    jw_init(&w, &item);
    struct buf content;
    buf_init(&content, 256);
    json_escape_append(&content, CK_CANCEL_MARKER, strlen(CK_CANCEL_MARKER));
    ck_write_hidden_item(&w, marker_id, t->thread.id, now, true, content.data);
    queue_item(t, EV_DONE, NULL, marker_id, "sdk_hidden_context", now, item.data, false);
    buf_free(&item);
    buf_free(&content);
    t->end_queued = true;
    queue_push(t, event_new(EV_END));
    if (t->start_waiting)
        admit_leave(t); /* never started: nothing to tell it */
    if (t->resp && !t->responder_done && t->resp->cancel)
        t->resp->cancel(t, t->resp->data);
    turn_pump(t);
}

void ck_turn_admission_release(struct ck_turn *t)
{
    if (!t->admitted)
        return;
    t->admitted = false;
    t->e->running--;
    admit_run(t->e);
}

/* ---- accessors ---- */

const struct ck_request *ck_turn_request(const struct ck_turn *t)
{
    return t->req;
}

const char *ck_turn_user_id(const struct ck_turn *t)
{
    return t->user_id;
}

const struct store_thread *ck_turn_thread(const struct ck_turn *t)
{
    return &t->thread;
}

const struct store_item *ck_turn_item(const struct ck_turn *t)
{
    return t->item;
}

const char *ck_turn_user_text(const struct ck_turn *t)
{
    if (t->dlg && t->dlg->text)
        return t->dlg->text;
    return t->user_text;
}

void ck_turn_on_drain(struct ck_turn *t, void (*fn)(struct ck_turn *t, void *data), void *data)
{
    t->drain_fn = fn;
    t->drain_data = data;
}

void ck_turn_drained(struct ck_turn *t)
{
    void (*fn)(struct ck_turn *, void *) = t->drain_fn;
    t->drain_fn = NULL; /* one-shot: the waiter registers again when it still waits */
    if (fn && t->state == TURN_RUNNING && !t->cancelled)
        fn(t, t->drain_data);
}

size_t ck_turn_backlog(const struct ck_turn *t)
{
    return t->queued_bytes + (t->sink && t->sink->backlog ? t->sink->backlog(t->sink) : 0);
}

const char *ck_turn_user_item_id(const struct ck_turn *t)
{
    if (t->dlg && t->dlg->item_id)
        return t->dlg->item_id;
    return t->user_item_id[0] ? t->user_item_id : NULL;
}

const struct ck_turn_workflow *ck_turn_workflow(const struct ck_turn *t)
{
    return &t->wf;
}

void ck_turn_set_metadata(struct ck_turn *t, const char *metadata_json)
{
    if (t->state != TURN_RUNNING || t->cancelled || t->end_queued)
        return;
    free(t->thread.metadata_json);
    t->thread.metadata_json = xstrdup(metadata_json);
    queue_push(t, event_new(EV_SAVE_METADATA));
    turn_pump(t);
}

void ck_turn_when_written(struct ck_turn *t, void (*fn)(struct ck_turn *t, void *data), void *data)
{
    if (t->state != TURN_RUNNING || t->cancelled || t->end_queued)
        return;
    struct ck_event *ev = event_new(EV_CALL);
    ev->call.fn = fn;
    ev->call.data = data;
    queue_push(t, ev);
    turn_pump(t);
}

void ck_turn_delegate(struct ck_turn *t, const struct ck_responder *inner, const char *input_text,
                      const char *input_item_id, ck_delegate_done_fn done, void *data)
{
    struct delegation *d = xcalloc(1, sizeof *d);
    d->outer_resp = t->resp;
    d->outer_context = t->context;
    d->done = done;
    d->data = data;
    d->text = input_text ? xstrdup(input_text) : NULL;
    d->item_id = input_item_id && input_item_id[0] ? xstrdup(input_item_id) : NULL;
    delegation_free(t->dlg);
    t->dlg = d;
    t->context = NULL;
    t->resp = inner;
    inner->start(t, inner->data);
}

/* The inner responder let go: the outer one gets the turn back and hears how it went. */
static bool delegate_return(struct ck_turn *t, bool failed)
{
    struct delegation *d = t->dlg;
    if (!d)
        return false;
    t->resp = d->outer_resp;
    t->context = d->outer_context;
    ck_delegate_done_fn done = d->done;
    void *data = d->data;
    t->dlg = NULL; /* done may delegate again */
    delegation_free(d);
    done(t, failed, data);
    return true;
}

const char *ck_turn_user_item_json(const struct ck_turn *t)
{
    if (t->user_item_json)
        return t->user_item_json;
    if (t->type == CK_THREADS_RETRY_AFTER_ITEM && t->item)
        return t->item->json;
    return NULL;
}

struct store *ck_turn_store(const struct ck_turn *t)
{
    return t->e->cfg.store;
}

const struct logger *ck_turn_log(const struct ck_turn *t)
{
    return t->e->cfg.log;
}

bool ck_turn_cancelled(const struct ck_turn *t)
{
    return t->cancelled;
}

void ck_turn_set_context(struct ck_turn *t, void *context)
{
    t->context = context;
}

void *ck_turn_context(const struct ck_turn *t)
{
    return t->context;
}
