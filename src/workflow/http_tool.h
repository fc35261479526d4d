/* http_tool.h - a workflow's HTTP tools: a model's function call becomes one HTTP request.
 *
 * An HTTP tool (workflow.h struct wf_tool, kind WF_TOOL_HTTP) has a JSON schema, a URL, a method
 * (GET or POST), headers whose values come from environment variables, and a timeout. A call:
 *   1. parses the model's arguments (a JSON object) and checks them against the schema;
 *   2. sends them: POST as a JSON body, GET as query parameters (strings as they are, other
 *      values as JSON text);
 *   3. turns the answer into the tool output the model reads: a 2xx JSON answer as it came;
 *      everything else {"error": "...sentence..."} (bad arguments, an unset header variable, no
 *      connection, the timeout, a non-2xx status — with the answer when it was JSON —, a body
 *      that is not JSON or is larger than HTTP_TOOL_ANSWER_MAX).
 * So a tool never hangs a turn and never fails it: the model always gets an output to read.
 *
 * Header values are never logged or put into outputs; a log line per call names the tool, the
 * method, the URL, the status and the time taken.
 *
 * Callbacks run on the loop thread, never from inside http_tool_start (errors found before the
 * request is sent are reported from a zero-delay timer). Ownership: the call belongs to this
 * module until done returns or http_tool_cancel; the tool definition (and its workflow) must
 * outlive the call.
 */
#ifndef CHATKITD_WORKFLOW_HTTP_TOOL_H
#define CHATKITD_WORKFLOW_HTTP_TOOL_H

#include "core/log.h"
#include "net/http_client.h"
#include "workflow/workflow.h"

#include <stdbool.h>
#include <uv.h>

#define HTTP_TOOL_ANSWER_MAX (256 * 1024) /* bytes of an answer the model may read */

struct http_tool_config {
    uv_loop_t *loop;                      /* not owned */
    struct http_client *http;             /* not owned */
    const struct logger *log;             /* not owned */
    const char *(*env)(const char *name); /* reads header variables (getenv in production) */
};

struct http_tool_call;

/* ok is true when the tool answered 2xx JSON; output is JSON text either way (valid during the
 * callback only). */
typedef void (*http_tool_done_fn)(void *data, bool ok, const char *output);

/* Starts a call of tool with the model's arguments (JSON text). Returns 0 and *out; done runs
 * exactly once, later, unless the call is cancelled first. */
int http_tool_start(const struct http_tool_config *cfg, const struct wf_tool *tool,
                    const char *arguments, http_tool_done_fn done, void *data,
                    struct http_tool_call **out);
/* Stops the call: no callback runs afterwards; its memory is released on the next loop turn. */
void http_tool_cancel(struct http_tool_call *c);

#endif
