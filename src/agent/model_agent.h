/* model_agent.h - a turn answered by a real model (model/provider.h): the thread's history as
 * model input (spec §16.2), a streamed model call, and a tool loop.
 *
 * What the user sees (spec §16.1): assistant text streams as an assistant_message (item.added,
 * content_part.added, text deltas, annotation_added for citations, content_part.done, item.done);
 * reasoning summaries stream as a `reasoning` workflow whose thought tasks grow with the deltas,
 * closed with its duration when the answer starts; function calls the model makes are run with
 * the task tools (tasks/tools.h) and their results fed back, up to max_steps model calls. A
 * failed model call ends the run with the upstream's message and whether a retry can help; the
 * partial answer is not stored (the engine stores only done items).
 *
 * Images attached by the user go to the model as input_image parts (data: URLs read from the
 * data directory on a worker thread, never on the loop).
 *
 * The agent is independent of workflow files: the workflow runtime calls model_agent_run for an
 * agent node with the node's parameters; the responder (model_agent.responder) runs the default
 * parameters for the task assistant. Loop thread only.
 */
#ifndef CHATKITD_AGENT_MODEL_AGENT_H
#define CHATKITD_AGENT_MODEL_AGENT_H

#include "chatkit/engine.h"
#include "model/model.h"
#include "tasks/tools.h"

#include <stdbool.h>

#define MODEL_AGENT_HISTORY_ITEMS 20 /* the §16.2 default window */

struct model_agent_params {
    const char *model_ref;          /* "openai:gpt-4.1", "compat:local/llama3.1:8b" */
    const char *instructions;       /* system text, or NULL */
    const char *tools_json;         /* function tools (provider.h shape), or NULL for none */
    const char *tool_choice;        /* NULL, "auto", "none", "required" or a tool's name */
    const char *output_schema_json; /* NULL for text */
    const char *output_schema_name;
    bool history;  /* the thread's newest items (true) or only this turn's message (false) */
    int max_steps; /* model calls per run (each tool round is one more); >= 1 */
    bool allow_request_model; /* the composer's inference_options.model / tool_choice may
                               * override model_ref / tool_choice */
    bool chain_responses;     /* openai: models only: continue the thread's last stored
                               * response (previous_response_id from the thread metadata, store:
                               * true) instead of sending the history again; retries resend it */
};

/* How a run ended. Pointers are valid during the callback only. */
struct model_agent_outcome {
    int status;               /* 0, or an error code (ERR_CLOSED also for a cut stream) */
    bool cancelled;           /* model_agent_run_cancel stopped it (status ERR_CLOSED) */
    const char *message;      /* for the user when status != 0 */
    bool allow_retry;         /* a retry can help */
    const char *output_text;  /* the last assistant message's text ("" when none) */
    const char *response_id;  /* the last model response's id */
    bool stored;              /* that response is stored upstream: a later turn may continue it */
    struct model_usage usage; /* summed over the run's model calls */
};
typedef void (*model_agent_done_fn)(void *data, const struct model_agent_outcome *o);

struct model_agent {
    struct model_registry *models; /* not owned */
    struct tasks_app *tasks;       /* not owned */
    const struct logger *log;      /* not owned */
    const char *data_dir;          /* not owned; where attachment bytes live */
    struct model_agent_params defaults;
    struct ck_responder responder; /* answers user messages with the defaults */
};

struct model_agent_run;

/* The task assistant's instructions (a static string). */
const char *model_agent_tasks_instructions(void);

void model_agent_init(struct model_agent *a, struct model_registry *models, struct tasks_app *tasks,
                      const struct logger *log, const char *data_dir,
                      const struct model_agent_params *defaults);
/* Runs the agent on turn t: emits the answer with ck_turn_emit_*, never ck_turn_finish/fail;
 * done runs once, later (never from inside this call), then the run is freed. p's strings are
 * copied. Returns the run (for model_agent_run_cancel). */
struct model_agent_run *model_agent_run(struct model_agent *a, struct ck_turn *t,
                                        const struct model_agent_params *p,
                                        model_agent_done_fn done, void *data);
/* Stops the run as soon as it is safe (the upstream call is aborted); done still runs once with
 * status ERR_CLOSED. Safe to call from inside the run's own emits. */
void model_agent_run_cancel(struct model_agent_run *r);

#endif
