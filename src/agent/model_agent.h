/* model_agent.h - a turn answered by a real model (model/provider.h): the thread's history as
 * model input (spec §16.2), a streamed model call, and a tool loop.
 *
 * What the user sees (spec §16.1): assistant text streams as an assistant_message (item.added,
 * content_part.added, text deltas, annotation_added for citations, content_part.done, item.done);
 * reasoning summaries stream as a `reasoning` workflow whose thought tasks grow with the deltas,
 * closed with its duration when the answer starts; function calls the model makes are run with
 * the task tools (tasks/tools.h) or the caller's extra tools (struct model_agent_tool) and their
 * results fed back, up to max_steps model calls. Images the model generates (Responses
 * image_generation_call) stream as a generated_image item: added, generated_image.updated with
 * each partial image and its progress, done with the final image as a data: URL. A
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

/* A tool a run offers the model besides the task tools: a workflow's HTTP and client tools.
 * The model sees name, description and parameters; each of its calls of the tool runs `run`. */
typedef void (*model_agent_tool_done_fn)(void *call, const char *output);
struct model_agent_tool {
    const char *name;        /* a function name the model can call; unique in the run */
    const char *description; /* "" or NULL for none */
    const cJSON *parameters; /* JSON schema of the arguments object */
    /* Runs one call: args_json is the model's arguments (text of a JSON object). It calls
     * done(call, output) exactly once, later (never from inside run), with the text the model
     * reads (a failure is an output too: {"error":"..."}); or it returns an ERR_* code without
     * calling done, and the model reads that the tool failed. The run waits for done also when
     * it is being cancelled, so a tool must not hold an answer back forever. */
    int (*run)(void *data, const struct model_agent_tool *tool, const char *args_json,
               model_agent_tool_done_fn done, void *call);
    void *data;
};

struct model_agent_params {
    const char *model_ref;    /* "openai:gpt-4.1", "compat:local/llama3.1:8b" */
    const char *instructions; /* system text, or NULL */
    /* Task tools (tasks/tools.h) the model may call, in the provider's function-tool shape, or
     * NULL for none. NOT copied: it is shared by every run (tasks_tools_schema_json() is a static
     * string) and must stay valid until the run's done returned. */
    const char *tools_json;
    /* More tools (above), run by the caller; NOT copied: the table and everything it points to
     * must stay valid until the run's done returned. A name shadows a task tool of that name. */
    const struct model_agent_tool *extra_tools;
    size_t nextra_tools;
    const char *tool_choice;        /* NULL, "auto", "none", "required" or a tool's name */
    const char *output_schema_json; /* NULL for text. With a schema the answer is data for the
                                     * caller: it is not shown to the user as a message, only
                                     * returned in the outcome's output_text */
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
 * copied except tools_json and extra_tools (see above). Returns the run (for
 * model_agent_run_cancel), or NULL when the store refuses work (shutting down). */
struct model_agent_run *model_agent_run(struct model_agent *a, struct ck_turn *t,
                                        const struct model_agent_params *p,
                                        model_agent_done_fn done, void *data);
/* Stops the run as soon as it is safe (the upstream call is aborted); done still runs once with
 * status ERR_CLOSED. Safe to call from inside the run's own emits. */
void model_agent_run_cancel(struct model_agent_run *r);

#endif
