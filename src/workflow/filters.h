/* filters.h - the filters (`x | name(args)`) and tests (`x is name`) of the expression language.
 *
 * expr.c resolves a filter or test by name when it compiles an expression (so an unknown name is
 * a compile error with a position) and calls it when it evaluates. Filters are pure functions of
 * JSON values: they never keep a pointer to their input or arguments. The list, with each
 * filter's parameters, is in docs/templates.md.
 *
 * Errors: a filter returns 0, or ERR_INVALID (wrong input or argument type) / ERR_TOO_BIG (a
 * result past WF_EXPR_MAX_STRING or WF_EXPR_MAX_ITEMS, or the step budget spent) with a sentence
 * without position in err; the caller adds the position.
 *
 * Threads: the tables are constant; safe from any thread.
 */
#ifndef CHATKITD_WORKFLOW_FILTERS_H
#define CHATKITD_WORKFLOW_FILTERS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#define WF_FILTER_MAX_PARAMS 4

/* One argument slot: value is NULL for JSON null; set tells whether the caller passed it. */
struct wf_filter_arg {
    const cJSON *value;
    bool set;
};

/* What a filter may spend: steps left (decremented per element walked). */
struct wf_filter_ctx {
    long *steps_left;
    char *err;
    size_t errlen;
};

/* Applies the filter to in (NULL = null) with args (one slot per parameter, in the order of
 * params); on success *out is a new value the caller owns. */
typedef int (*wf_filter_fn)(struct wf_filter_ctx *cx, const cJSON *in,
                            const struct wf_filter_arg *args, cJSON **out);

struct wf_filter {
    const char *name;
    wf_filter_fn fn;
    /* Parameter names in positional order; NULL-terminated. A parameter may be given by position
     * (the first max_positional of them) or by keyword. */
    const char *params[WF_FILTER_MAX_PARAMS + 1];
    int min_positional; /* positional arguments that must be there */
    int max_positional;
};

/* The filter called name (len bytes), or NULL. */
const struct wf_filter *wf_filter_find(const char *name, size_t len);
/* The index of parameter name (len bytes) of f, or -1. */
int wf_filter_param(const struct wf_filter *f, const char *name, size_t len);

/* A test (`x is name`, `selectattr('a', name, arg)`): sets *result. arg is NULL when the test
 * takes none. ERR_INVALID when v or arg has a type the test cannot judge. */
typedef int (*wf_test_fn)(struct wf_filter_ctx *cx, const cJSON *v, const cJSON *arg, bool *result);

struct wf_test {
    const char *name;
    wf_test_fn fn;
    bool takes_arg;
};

/* The test called name (len bytes), or NULL. */
const struct wf_test *wf_test_find(const char *name, size_t len);

/* Deep equality of two JSON values (NULL counts as null; numbers compare by value). */
bool wf_value_equal(const cJSON *a, const cJSON *b);
/* A member of an object along a dotted path ("a.b.0"): a numeric part indexes an array. NULL
 * (null) when any step is missing. */
const cJSON *wf_value_path(const cJSON *v, const char *path);
/* The number of nodes in v (0 for NULL), counting no further than about limit: the cost of
 * copying, comparing or printing it. */
long wf_value_weight(const cJSON *v, long limit);
/* The type name users see in messages: "null", "boolean", "number", "string", "list",
 * "object". */
const char *wf_value_type(const cJSON *v);

#endif
