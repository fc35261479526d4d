/* routes.h - the tasks REST API and the live feed, for the bearer's user (docs/api.md "Tasks").
 *
 *   GET    /api/tasks        list: status=open|done|all, tag, priority, due_before, due_after,
 *                            q, order=asc|desc; limit (1..100, default 50) and after (a task id)
 *                            -> {"data":[task...],"has_more":bool,"after"?:"task_..."}
 *   POST   /api/tasks        create -> 201, the task, Location: /api/tasks/{id}
 *   GET    /api/tasks/{id}   -> the task
 *   PATCH  /api/tasks/{id}   partial update -> the task
 *   DELETE /api/tasks/{id}   -> 204
 *   GET    /api/events       text/event-stream of task.created / task.updated / task.deleted
 *
 * Every route needs Authorization: Bearer <client_secret> (auth_with_session answers 401/429).
 * A body that breaks a task rule is 400 invalid_task naming the rule; a bad query parameter 400
 * invalid_request; an unknown task, or another user's, 404 task_not_found; a store failure 503.
 */
#ifndef CHATKITD_TASKS_ROUTES_H
#define CHATKITD_TASKS_ROUTES_H

#include "http/router.h"
#include "tasks/tools.h"

/* Registers the routes above on r; app (initialized, with cfg.auth set) must outlive r. */
int tasks_app_register_routes(struct tasks_app *app, struct http_router *r);

#endif
