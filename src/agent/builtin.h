/* builtin.h - `builtin:tasks`, the offline task assistant.
 *
 * It answers a user message the way a model with the task tools would, deterministically: the
 * message is read into an intent (nlu.h), the intent becomes tool calls (tasks/tools.h), and the
 * answer is streamed text plus widgets (tasks/widgets.h). It also handles the task widgets'
 * actions (Complete, Reopen, Edit, Save, Delete, confirmations), updating the card in place
 * (thread.item.replaced) and recording a hidden context item so a later turn knows what the user
 * did.
 *
 * Retrying a message never does its work twice: a task created for a message gets an id derived
 * from that message's id, so the second attempt finds it instead of adding a copy. Several
 * matches for a title are never guessed: the user gets a list to pick from. Deleting several
 * tasks asks first with a confirmation card.
 */
#ifndef CHATKITD_AGENT_BUILTIN_H
#define CHATKITD_AGENT_BUILTIN_H

#include "chatkit/engine.h"
#include "tasks/tools.h"

/* The client tool the agent calls for "the selected tasks": the host page answers with
 * {"task_ids": [...]} (ChatKit's onClientTool). */
#define BUILTIN_CLIENT_TOOL_SELECTION "get_selected_tasks"

struct builtin_agent {
    struct tasks_app *tasks;       /* not owned */
    const struct logger *log;      /* not owned */
    struct ck_responder responder; /* answers messages and actions */
    /* Answers ck_turn_user_text() as a message whatever the request is (workflow agent nodes,
     * which may run in the action turn that resumed a paused run). */
    struct ck_responder message_responder;
};

void builtin_agent_init(struct builtin_agent *a, struct tasks_app *tasks, const struct logger *log);

/* threads.sync_custom_action for task widgets (chatkit_config.sync_action): Complete and Reopen
 * answer the updated widget; other actions answer no update. */
void builtin_agent_sync_action(void *data, const char *user_id, const struct ck_request *req,
                               const struct store_item *sender,
                               void (*cb)(void *cb_data, int status, const char *item_json),
                               void *cb_data);

#endif
