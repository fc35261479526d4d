/* runtime.h - runs a workflow graph as a turn's responder.
 *
 * A turn for a message picks the session's workflow (its pinned version, or the latest), loads
 * the run kept in the thread's metadata, and walks the graph from `start` — or from the agent the
 * run stays with (an agent node with "stay": true) — along the edges: set_state assigns state
 * variables, if_else evaluates its condition, agent nodes answer (builtin:tasks through the
 * built-in agent; other models through the model agent), end closes the run. A user_approval
 * node shows an approve/reject card, saves the paused run in the thread's metadata and ends the
 * turn; the card's action (threads.custom_action "workflow.approve" / "workflow.reject") resumes
 * the run on the graph version it paused on, also after a restart.
 *
 * The thread metadata holds {"workflow_run": {workflow_id, version, node, state, agent?,
 * paused?, last?, turns}}; it is written through ck_turn_set_metadata, in order with the turn's
 * other writes.
 *
 * Each turn holds a reference to the graph it started with, so a reload (SIGHUP) that replaces
 * the workflow set never changes a running turn; later turns see the new set.
 *
 * Everything runs on the loop thread.
 */
#ifndef CHATKITD_WORKFLOW_RUNTIME_H
#define CHATKITD_WORKFLOW_RUNTIME_H

#include "agent/builtin.h"
#include "agent/model_agent.h"
#include "chatkit/engine.h"
#include "workflow/http_tool.h"
#include "workflow/workflow.h"

#include <stdbool.h>

#define WF_RUN_MAX_STEPS  100         /* nodes one turn may pass through (cycles end here) */
#define WF_METADATA_MAX   (64 * 1024) /* the run kept in thread metadata, at most */
#define WF_STATE_MAX      (32 * 1024) /* a run's state variables as JSON, at most */
#define WF_USAGE_KEPT     50          /* model turns whose token usage the run keeps */
#define WF_ACTION_APPROVE "workflow.approve"
#define WF_ACTION_REJECT  "workflow.reject"

struct wf_runtime_config {
    const struct workflow_set *set; /* not owned: main's set, refilled on reload */
    struct builtin_agent *builtin;  /* not owned: answers builtin:tasks agent nodes */
    struct model_agent *models;     /* not owned: answers the other agent nodes */
    struct http_tool_config http;   /* how HTTP tools call out */
    const struct logger *log;       /* not owned */
};

struct wf_run;

struct wf_runtime {
    struct wf_runtime_config cfg;
    struct ck_responder responder; /* messages and approval actions */
};

void wf_runtime_init(struct wf_runtime *rt, const struct wf_runtime_config *cfg);
/* True for the turns besides messages that the runtime answers: approval card actions, and the
 * page's answer to a client tool a workflow's model agent called (the thread's run waits for
 * it). Other actions and tool outputs belong to the task agent. */
bool wf_runtime_owns_turn(const struct ck_turn *t);
/* True for the custom actions the runtime answers (approval cards); other actions belong to the
 * widgets' own handlers (task cards). */
bool wf_runtime_owns_action(const char *action_type);

/* Appends text with `{{state.NAME}}` and `{{input_as_text}}` (spaces inside the braces allowed)
 * replaced by the state variable (strings raw, other values as JSON, absent ones as nothing) and
 * the user's input. Other `{{ ... }}` text is copied as is. 0 or ERR_TOO_BIG at out's cap. */
int wf_substitute(struct buf *out, const char *text, const cJSON *state, const char *input);

#endif
