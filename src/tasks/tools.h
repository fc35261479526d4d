/* tools.h - the tasks app: its task operations, and the server tools a model calls.
 *
 * struct tasks_app is the module's root (one per process, in main's struct app): the store, the
 * live feed hub, and what the routes need. On top of it sit two layers:
 *
 *  - Operations (tasks_create ... tasks_list): validated inputs in, store jobs, and on every
 *    change one event on the user's feeds (task.created / task.updated / task.deleted). The REST
 *    routes and the tools both use them, so a change made anywhere reaches every open page.
 *    Another user's task is ERR_NOT_FOUND, as the store scopes every job by user.
 *  - Tools (create_task, list_tasks, update_task, complete_task, reopen_task, delete_task), with
 *    JSON schemas in OpenAI's function-tool shape. A run validates the model's arguments with the
 *    same rules as the REST API and answers JSON text a model can read: {"task":{...}},
 *    {"tasks":[...],"has_more":false}, {"deleted":"task_...","title":"..."} or {"error":"..."}.
 *
 * Callbacks run on the loop thread, later, never from inside the call that started the work; the
 * result (and everything it points to) is valid during the callback only.
 */
#ifndef CHATKITD_TASKS_TOOLS_H
#define CHATKITD_TASKS_TOOLS_H

#include "core/json_read.h"
#include "core/log.h"
#include "store/store.h"
#include "tasks/events.h"

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

struct auth;

struct tasks_config {
    uv_loop_t *loop;          /* not owned */
    struct store *store;      /* not owned */
    struct auth *auth;        /* not owned; resolves bearer secrets on the REST routes */
    const struct logger *log; /* not owned */
};

struct tasks_app {
    struct tasks_config cfg;
    struct tasks_events events; /* GET /api/events feeds */
};

void tasks_app_init(struct tasks_app *app, const struct tasks_config *cfg);
/* For SIGTERM, before the HTTP drain: ends every feed (they never end on their own) and stops the
 * heartbeat. Operations keep working while the store is open. */
void tasks_app_close(struct tasks_app *app);
/* Frees what the app holds (after tasks_app_close and a loop turn). */
void tasks_app_free(struct tasks_app *app);

/* The outcome of an operation or a tool run. */
struct tasks_result {
    int status;                     /* 0, ERR_INVALID, ERR_NOT_FOUND or ERR_UNAVAILABLE */
    const char *message;            /* for errors: a sentence for people and models; else NULL */
    const struct store_task *task;  /* the task after the change (the deleted one for delete) */
    const struct store_task *tasks; /* tasks_list: the page, in creation order */
    size_t ntasks;
    bool has_more;    /* tasks_list: more rows after this page */
    bool changed;     /* the operation changed something (and published an event) */
    const char *json; /* tool runs only: the result text for the model; NULL otherwise */
    size_t json_len;
};
typedef void (*tasks_cb)(const struct tasks_result *res, void *data);

/* Operations. Each returns 0 and calls cb once, later; or returns ERR_UNAVAILABLE (the store is
 * closing) and never calls cb. user_id is copied. */

/* Stores t (validated with task_from_json); an empty id gets a new "task_" id and zero times get
 * the wall clock. t's strings move into the operation (its pointers are NULL after the call,
 * also on error). */
int tasks_create(struct tasks_app *app, const char *user_id, struct store_task *t, tasks_cb cb,
                 void *data);
int tasks_get(struct tasks_app *app, const char *user_id, const char *id, tasks_cb cb, void *data);
/* Loads the task, applies patch (task_from_json in patch mode: ERR_INVALID with the rule when it
 * does not hold) and stores it. patch is copied. */
int tasks_update(struct tasks_app *app, const char *user_id, const char *id, const cJSON *patch,
                 tasks_cb cb, void *data);
/* Marks a task done or open; when it already is, nothing is written or published. */
int tasks_set_done(struct tasks_app *app, const char *user_id, const char *id, bool done,
                   tasks_cb cb, void *data);
int tasks_delete(struct tasks_app *app, const char *user_id, const char *id, tasks_cb cb,
                 void *data);
int tasks_list(struct tasks_app *app, const char *user_id, const struct store_task_filter *filter,
               const struct store_page_req *page, tasks_cb cb, void *data);

/* The tools as a JSON array of {"type":"function","name","description","parameters"}: a static
 * string, the same on every call. */
const char *tasks_tools_schema_json(void);
/* True when name is one of the tools above. */
bool tasks_tool_exists(const char *name);
/* Runs tool name with args (a JSON object; NULL counts as {}) for user_id. cb is always called
 * exactly once, later, with res->json set: the tool's result, or {"error":"..."} for an unknown
 * tool, invalid arguments, a missing task or a store failure (res->status says which). Returns
 * 0; the int is kept for symmetry with the operations. */
int tasks_tool_run(struct tasks_app *app, const char *user_id, const char *name, const cJSON *args,
                   tasks_cb cb, void *data);

#endif
