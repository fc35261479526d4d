/* engine.h - the turn engine: one streamed response as a state machine (DESIGN §2, spec §6).
 *
 * A turn runs: prepare (load and check what the request names; the caller answers 4xx if that
 * fails, before any stream starts) -> start (persist the new thread and user message and emit
 * them) -> stream_options -> the responder's events -> end. Every event goes through one queue
 * in order; `thread.item.done` / `.replaced` / `.removed` are persisted (insert / update /
 * delete) before they are sent, and nothing else touches storage (spec §6.2). After each sent
 * event, a changed thread (title, status) is saved and announced with `thread.updated` (§6.3).
 *
 * The engine knows nothing of HTTP: events go to a struct ck_sink (the SSE writer in
 * production, a recording sink in tests). The client going away is ck_turn_cancel(): the
 * responder is told to stop, queued events are dropped, non-blank partial assistant text is
 * saved, and the hidden cancel marker is stored (§1.7).
 *
 * Turns on one thread are serialized: a turn waits in prepare until the previous turn on that
 * thread has ended, so their events and writes never interleave.
 */
#ifndef CHATKITD_CHATKIT_ENGINE_H
#define CHATKITD_CHATKIT_ENGINE_H

#include "chatkit/request.h"
#include "core/buf.h"
#include "core/log.h"
#include "store/coord.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ck_turn;
struct ck_engine;

/* Where a turn's events go. */
struct ck_sink {
    /* One event as compact JSON; 0, or ERR_CLOSED when nobody listens any more. */
    int (*send)(struct ck_sink *sink, const char *json, size_t len);
    /* The stream is complete (called once, also after a cancel). The sink may free itself. */
    void (*end)(struct ck_sink *sink);
    /* Bytes sent but not yet taken by the reader, or NULL when the sink cannot tell. */
    size_t (*backlog)(struct ck_sink *sink);
};

/* What produces a turn's answer: the agent for messages, the action handler for actions. */
struct ck_responder {
    /* Begin producing with ck_turn_emit_*; finish with ck_turn_finish or ck_turn_fail. */
    void (*start)(struct ck_turn *t, void *data);
    /* The client left. Stop as soon as possible; still finish with ck_turn_finish. This may be
     * called from inside the responder's own ck_turn_emit* call (a send failed), so it must not
     * free anything the responder is still using: mark, and let the running code finish. */
    void (*cancel)(struct ck_turn *t, void *data);
    void *data;
};

/* Picks the responder for a turn (by request type, workflow, action). */
typedef const struct ck_responder *(*ck_responder_pick_fn)(struct ck_turn *t, void *data);

struct ck_engine_config {
    struct store *store;       /* not owned */
    struct store_coord *coord; /* not owned; NULL = one replica (turns serialized in-process) */
    const struct logger *log;  /* not owned */
    ck_responder_pick_fn pick; /* chooses the responder of each turn */
    void *pick_data;
    bool allow_cancel; /* stream_options.allow_cancel */
    /* Admission: at most this many turns have a started responder at once (0 = no limit). A
     * turn starts its responder only once its first events (thread.created, the user message,
     * stream_options) are stored and sent, and then waits in arrival order for a free place, so
     * a burst of requests gets every first event out before the agents' work, and a waiting
     * turn holds only its request and small state, not the memory of a running answer. */
    size_t max_running;
    /* Turns' store writes in flight at most (0 = no limit). A turn needing a write beyond it
     * waits, in arrival order, without a store job (1.4 KB) allocated: a burst of 1,000 new
     * threads holds this many jobs, not 1,000, and the writer still gets full batches. */
    size_t max_writes;
};

/* Prepare finished: status 0 (the caller now opens the stream and calls ck_turn_run), or a
 * code with an HTTP status and message to answer instead (the turn is already released). */
typedef void (*ck_prepared_cb)(struct ck_turn *t, int http_status, const char *code,
                               const char *message, void *data);

struct ck_engine *ck_engine_new(const struct ck_engine_config *cfg);
void ck_engine_free(struct ck_engine *e);
/* Turns currently running or waiting. */
size_t ck_engine_active(const struct ck_engine *e);
/* Turns whose responder has started and not ended (at most cfg.max_running when set). */
size_t ck_engine_running(const struct ck_engine *e);

/* Starts preparing a streaming request for user_id. Takes ownership of req (it is freed with
 * the turn). The callback runs exactly once, possibly before this returns. */
void ck_turn_prepare(struct ck_engine *e, struct ck_request *req, const char *user_id,
                     ck_prepared_cb cb, void *data);

/* The workflow a session runs (copied into the turn; the responder picks the graph from it). */
struct ck_turn_workflow {
    const char *id;                   /* "" when unknown (tests) */
    const char *version;              /* "" = the latest */
    const char *state_variables_json; /* the session's initial state, a JSON object or NULL */
};
/* ck_turn_prepare for a session's turn: the same, and the turn remembers the session's workflow. */
void ck_turn_prepare_session(struct ck_engine *e, struct ck_request *req, const char *user_id,
                             const struct ck_turn_workflow *wf, ck_prepared_cb cb, void *data);
/* Runs a prepared turn, writing to sink until sink->end. */
void ck_turn_run(struct ck_turn *t, struct ck_sink *sink);
/* The client went away (see above). Safe to call at any time after ck_turn_run. */
void ck_turn_cancel(struct ck_turn *t);

/* ---- for responders ---- */

/* The decoded request: for the responder (from start until it lets go) and for cfg.pick. While a
 * turn waits to start, the engine keeps it as text (NULL here). */
const struct ck_request *ck_turn_request(const struct ck_turn *t);
const char *ck_turn_user_id(const struct ck_turn *t);
const struct store_thread *ck_turn_thread(const struct ck_turn *t);
/* The item the request names (retry target, action sender, tool call), or NULL; its JSON. */
const struct store_item *ck_turn_item(const struct ck_turn *t);
/* The user message this turn answers (new or retried), or NULL for continuations. */
const char *ck_turn_user_text(const struct ck_turn *t);
const char *ck_turn_user_item_id(const struct ck_turn *t);
/* That message's item JSON (it may not be stored yet when the responder starts), or NULL. */
const char *ck_turn_user_item_json(const struct ck_turn *t);
struct store *ck_turn_store(const struct ck_turn *t);
const struct logger *ck_turn_log(const struct ck_turn *t);
bool ck_turn_cancelled(const struct ck_turn *t);
/* The session's workflow (fields are "" / NULL when the turn was prepared without one). */
const struct ck_turn_workflow *ck_turn_workflow(const struct ck_turn *t);
/* Replaces the thread's server-private metadata (a JSON object; copied): ck_turn_thread() shows
 * it at once, and it is saved in event order with the turn's other writes, never sent to the
 * client. Ignored once cancelled or after the end was queued. */
void ck_turn_set_metadata(struct ck_turn *t, const char *metadata_json);

/* Runs inner as a part of this turn (a workflow's agent node). While it runs, inner gets the
 * cancel notice and its own context pointer; ck_turn_user_text / ck_turn_user_item_id answer
 * input_text / input_item_id when those are not NULL (an agent that runs after an approval
 * answers the message the run paused on). Its ck_turn_finish does not end the turn: the outer
 * context is restored and done(t, false, data) runs, from inside that call. Its ck_turn_fail
 * ends the turn as usual and then calls done(t, true, data) so the outer responder can let go
 * (it must still call ck_turn_finish). One delegation at a time. */
typedef void (*ck_delegate_done_fn)(struct ck_turn *t, bool failed, void *data);
void ck_turn_delegate(struct ck_turn *t, const struct ck_responder *inner, const char *input_text,
                      const char *input_item_id, ck_delegate_done_fn done, void *data);

/* Runs fn(t, data) once every event queued before this call has been stored and sent (at once
 * when nothing is pending, possibly before this returns). Dropped when the turn is cancelled
 * first: the responder's cancel notice is then its cue. */
void ck_turn_when_written(struct ck_turn *t, void (*fn)(struct ck_turn *t, void *data), void *data);

/* Bytes of this turn's stream the client has not read yet (0 without a sink that can tell): a
 * responder pauses its source while this is high (DESIGN §2, back-pressure). */
size_t ck_turn_backlog(const struct ck_turn *t);
/* Runs fn(t, data) once, the next time the client takes some of the turn's stream (the sink
 * reports it with ck_turn_drained), so a responder paused for a slow reader resumes without
 * polling. One waiter per turn (a new call replaces it); dropped when the turn ends. */
void ck_turn_on_drain(struct ck_turn *t, void (*fn)(struct ck_turn *t, void *data), void *data);
/* For sinks: the reader took bytes of the stream (runs the waiter above, if any). */
void ck_turn_drained(struct ck_turn *t);
/* The responder now waits on an outside source (an upstream model) far longer than its own CPU
 * work takes: its admission place (cfg.max_running) goes to the next waiting turn. */
void ck_turn_admission_release(struct ck_turn *t);
/* One pointer of the responder's own state, kept with the turn. */
void ck_turn_set_context(struct ck_turn *t, void *context);
void *ck_turn_context(const struct ck_turn *t);

/* Emits an event that is only shown (progress_update, notice, client_effect, error). */
void ck_turn_emit(struct ck_turn *t, const char *event_json, size_t len);
/* Announces an item that will stream; assistant messages are tracked for salvage. */
void ck_turn_emit_item_added(struct ck_turn *t, const char *item_id, const char *type,
                             const char *item_json);
/* Appends text to an added assistant message (a text_delta event, tracked for salvage). */
void ck_turn_emit_text_delta(struct ck_turn *t, const char *item_id, int content_index,
                             const char *delta, size_t len);
/* Final value of an item: stored (inserted or replaced by id), then sent unless hidden. */
void ck_turn_emit_item_done(struct ck_turn *t, const char *item_id, const char *type,
                            int64_t created_us, const char *item_json);
/* Replaces a done item: stored (update by id), then sent. */
void ck_turn_emit_item_replaced(struct ck_turn *t, const char *item_id, const char *type,
                                int64_t created_us, const char *item_json);
/* Removes an item: deleted, then sent. */
void ck_turn_emit_item_removed(struct ck_turn *t, const char *item_id);
/* A whole assistant message streamed the way a model would: item.added, content_part.added,
 * text deltas of a few words each, content_part.done, item.done (stored). */
void ck_turn_emit_text_message(struct ck_turn *t, const char *text, size_t len);
/* Sets the thread title (saved and announced after the next event). */
void ck_turn_set_title(struct ck_turn *t, const char *title);
/* The responder is done. */
void ck_turn_finish(struct ck_turn *t);
/* The responder failed: an error event (code "stream.error" or "custom" with message), then end. */
void ck_turn_fail(struct ck_turn *t, const char *code, const char *message, bool allow_retry);

#endif
