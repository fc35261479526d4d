/* workflow.h - workflow files: the parsed, validated graph, and the set of loaded workflows.
 *
 * A workflow file is one JSON object (docs/workflows.md): id, version, name, typed
 * state_variables with defaults, nodes (start, agent, if_else, user_approval, set_state, end) and
 * edges between them. Loading validates everything a run relies on, so the runtime never meets a
 * dangling edge, an unknown variable or a malformed tool. Every problem is reported as one line
 * "FILE: JSON-PATH: reason" (for example `triage.json: $.nodes[2].model: unknown provider 'x'`),
 * and all problems of a file are reported, not only the first.
 *
 * Ownership: a struct workflow owns its parsed document; every string in its nodes, tools and
 * variables is a view into that document and lives exactly as long as the workflow. Workflows are
 * reference counted: a workflow set holds one reference to each, and every running turn holds one
 * to the graph it started with, so a reload (SIGHUP) never pulls a graph out from under a turn.
 * Everything here runs on the loop thread (or in a command that has no loop); nothing blocks
 * except the file reads of workflow_set_load, which main runs at start and on SIGHUP.
 */
#ifndef CHATKITD_WORKFLOW_WORKFLOW_H
#define CHATKITD_WORKFLOW_WORKFLOW_H

#include "core/buf.h"
#include "core/json_read.h"
#include "workflow/catalog.h"
#include "workflow/expr.h"
#include "workflow/widget_file.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WF_MAX_NODES       200
#define WF_MAX_TOOLS       32
#define WF_MAX_VARS        64
#define WF_MAX_STEPS       50    /* an agent node's max_steps may not exceed this */
#define WF_DEFAULT_STEPS   8     /* an agent node's max_steps when the file says none */
#define WF_HTTP_TIMEOUT_MS 10000 /* an HTTP tool's timeout when the file says none */
#define WF_FILE_MAX        (1 << 20)
#define WF_ERRORS_MAX      (64 * 1024) /* bytes of error lines kept per load */

enum wf_node_kind { WF_START, WF_AGENT, WF_IF_ELSE, WF_USER_APPROVAL, WF_SET_STATE, WF_END };
enum wf_var_type { WF_VAR_STRING, WF_VAR_NUMBER, WF_VAR_BOOLEAN, WF_VAR_OBJECT, WF_VAR_ARRAY };
enum wf_tool_kind { WF_TOOL_TASK, WF_TOOL_HTTP, WF_TOOL_CLIENT };
enum wf_output_kind { WF_OUTPUT_TEXT, WF_OUTPUT_JSON, WF_OUTPUT_WIDGET };

struct wf_var {
    const char *name;
    enum wf_var_type type;
    const cJSON *def; /* the default value (type-checked) */
};

/* An HTTP tool's header: the value is read from the environment variable env at call time. */
struct wf_header {
    const char *name;
    const char *env;
};

struct wf_tool {
    enum wf_tool_kind kind;
    const char *name;
    const char *description;   /* "" when none */
    const cJSON *parameters;   /* JSON schema of the arguments; NULL for task tools (theirs) */
    const char *url;           /* HTTP tools: http:// or https:// */
    const char *method;        /* HTTP tools: GET or POST */
    struct wf_header *headers; /* owned by the workflow */
    size_t nheaders;
    int64_t timeout_ms;
};

struct wf_assign {
    const char *variable;
    const cJSON *value;     /* a literal, or NULL */
    const char *expression; /* an expression (docs/workflows.md), or NULL */
    struct wf_expr *expr;   /* owned: expression compiled at load */
};

struct wf_node {
    const char *id;
    enum wf_node_kind kind;
    /* Where the run goes next, as node indexes (-1: nowhere). start, agent and set_state use
     * next; if_else next (true) and alt (false); user_approval next (approve) and alt (reject). */
    int next, alt;
    /* agent */
    const char *model;        /* "builtin:tasks", "openai:<model>", "compat:<provider>/<model>" */
    const char *instructions; /* with {{state.x}} / {{input_as_text}}; "" when none */
    struct wf_tool *tools;    /* owned by the workflow */
    size_t ntools;
    enum wf_output_kind output;
    const cJSON *output_schema; /* WF_OUTPUT_JSON */
    const char *output_name;    /* WF_OUTPUT_JSON: the schema's name */
    struct widget_file *widget; /* owned; WF_OUTPUT_WIDGET: the widget the answer fills */
    bool history;               /* include the thread's items (default true) */
    bool stay;                  /* later turns start at this agent instead of start */
    bool composer_options;      /* the composer's model picker and tool choice
                                 * (inference_options) may override model / tool choice */
    int max_steps;
    /* if_else */
    const char *condition;
    struct wf_expr *cond; /* owned: condition compiled at load */
    /* user_approval */
    const char *title, *message;
    /* set_state */
    struct wf_assign *assigns; /* owned by the workflow */
    size_t nassigns;
    /* end: a closing message ("" = none) */
    const char *end_message;
};

struct workflow {
    int refs;
    char *file; /* owned; where it was loaded from ("<embedded>" for the default) */
    cJSON *doc; /* owned; every string below points into it */
    const char *id, *version, *name;
    struct wf_var *vars; /* owned */
    size_t nvars;
    struct wf_node *nodes; /* owned */
    size_t nnodes;
    int start;     /* index of the start node */
    bool embedded; /* the built-in default (not from a file) */
};

/* Parses and validates one workflow document. On success returns 0 and *out (one reference). On
 * failure returns ERR_INVALID and appends "file: path: reason\n" lines to errors. */
int workflow_parse(const char *file, const char *text, size_t len, struct workflow **out,
                   struct buf *errors);
void workflow_ref(struct workflow *w);
/* Drops a reference; the last one frees the workflow. NULL is ignored. */
void workflow_unref(struct workflow *w);
/* Index of a node by id, or -1. */
int workflow_node_index(const struct workflow *w, const char *id);
/* A JSON object with every state variable at its default (owned by the caller). */
cJSON *workflow_default_state(const struct workflow *w);
/* The variable called name, or NULL. */
const struct wf_var *workflow_var(const struct workflow *w, const char *name);
/* True when v has type t. */
bool workflow_value_has_type(const cJSON *v, enum wf_var_type t);
/* The embedded task assistant `wf_tasks` with its agent on model (see docs/workflows.md for how
 * main picks it). Returns 0 or ERR_INVALID (bad model reference, errors appended). */
int workflow_builtin_tasks(const char *model, struct workflow **out, struct buf *errors);

/* Every loaded workflow, each id with all its versions (sessions may pin any of them). */
struct workflow_set {
    struct workflow **items; /* owned: one reference each */
    size_t n;
};

/* Loads the embedded default (model as above), then every *.json of dir (NULL: none), in name
 * order; a file with the default's id replaces the embedded workflow. Returns 0, or ERR_INVALID
 * with every problem appended to errors (the set is then empty), or ERR_IO when dir cannot be
 * read (also in errors). Two files with the same id and version are an error. */
int workflow_set_load(struct workflow_set *set, const char *dir, const char *default_model,
                      struct buf *errors);
void workflow_set_free(struct workflow_set *set);
/* The workflow id at version ("" or NULL: the latest, the greatest version, compared as numbers
 * when both are numbers); NULL when absent. No reference is taken. */
struct workflow *workflow_set_find(const struct workflow_set *set, const char *id,
                                   const char *version);
/* Refills the catalog (which sessions check) with the set's ids and versions. */
void workflow_set_catalog(const struct workflow_set *set, struct workflow_catalog *c);

#endif
