/* expr.h - the small expression language of workflows and widget templates.
 *
 * One language serves two places: the conditions of `if_else` nodes (evaluated to a truth value
 * over `state`, `input` and `last`, the last agent's JSON) and the `{{ … }}` / `{% … %}`
 * expressions of widget templates (template.h). Values are JSON values (cJSON). The full grammar,
 * the filters and the limits are documented for users in docs/templates.md; in short:
 *
 *   literals     42  -1.5  2e3  'single'  "double"  true false null (also True False None)
 *                [1, 'a', x]   {'key': value}
 *   variables    state  input  last  loop  (any member of the scope object)
 *   access       state.x   last.tasks[0].title   x["k"]   xs[-1]   obj.items() .keys() .values()
 *   arithmetic   + - * / %  (numbers; + also joins two strings or two lists)   ~ (concatenates
 *                as text)   unary -
 *   comparison   == != (deep equality of any two values)   < <= > >= (two numbers or two strings)
 *   logic        && || !  and also Jinja's  and  or  not   (short-circuit; `a || b` gives a when
 *                a is truthy, else b, as in Jinja)
 *   membership   a contains b   (string has substring b, array has an element equal to b, object
 *                has key b)   b in a   b not in a
 *   tests        x is defined / undefined / none / string / number / integer / boolean / mapping /
 *                sequence / true / false / odd / even, and  is not …
 *   conditional  a if cond else b   (without else: null when cond is false)
 *   filters      x | name   x | name(arg, key=arg)   (the list is in docs/templates.md)
 *   grouping     ( … )
 *
 * Precedence, loosest first: conditional, or, and, not, comparison/membership/tests, ~, + -,
 * * / %, unary -, filters, postfix access.
 *
 * Missing things are null, never an error: an absent variable, a missing member, `.x` on anything
 * that is not an object, an index past the end. Type mismatches are errors that name their place
 * ("column 7: '<' needs two numbers or two strings, got string and number"). Null and "undefined"
 * are the same value here: `x is defined` is false for both, and `default` replaces both.
 *
 * Bounds (compile time constants, documented in docs/templates.md): WF_EXPR_MAX_LEN bytes of
 * source, WF_EXPR_MAX_DEPTH levels of nesting (parser recursion and literal nesting), and
 * WF_EXPR_MAX_STEPS evaluation steps per wf_expr_eval call: each node evaluated counts one, and
 * work that grows with a value (copying, comparing, filtering, printing it) counts one per JSON
 * node of that value, so big data cannot make a short expression slow. Strings built during
 * evaluation are capped at WF_EXPR_MAX_STRING bytes and lists at WF_EXPR_MAX_ITEMS elements.
 *
 * Errors: functions return 0 or a negative ERR_* code and then write one sentence into err
 * (always NUL-terminated when errlen > 0). Positions in messages are "column C" for a one-line
 * expression compiled with wf_expr_compile, and "line L, column C" when the expression was
 * compiled with wf_expr_compile_at (as templates do), both 1-based.
 *
 * Threads: a compiled expression is immutable; several threads may evaluate it at once.
 */
#ifndef CHATKITD_WORKFLOW_EXPR_H
#define CHATKITD_WORKFLOW_EXPR_H

#include "core/buf.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#define WF_EXPR_MAX_LEN    4096      /* bytes of source per expression */
#define WF_EXPR_MAX_DEPTH  48        /* nesting of parentheses, operators, literals */
#define WF_EXPR_MAX_STEPS  200000    /* evaluation steps per wf_expr_eval call */
#define WF_EXPR_MAX_STRING (1 << 20) /* bytes of any string built during evaluation */
#define WF_EXPR_MAX_ITEMS  100000    /* elements of any list built during evaluation */

/* The message (after the position) when a step budget runs out. */
#define WF_EXPR_BUDGET_SPENT "the evaluation step budget is spent (limits in docs/templates.md)"

struct wf_expr; /* opaque compiled expression; owned by whoever compiled it */

/* A chain of variable frames, innermost first: a name is looked up in vars, then in the parent's
 * vars, and so on; not found anywhere means null. Frames and their objects are borrowed for the
 * duration of one evaluation. vars may be NULL (an empty frame). */
struct wf_scope {
    const cJSON *vars;             /* an object whose members are variables */
    const struct wf_scope *parent; /* the enclosing frame, or NULL */
};

/* Compiles len bytes of src into *out (the caller frees it with wf_expr_free). ERR_INVALID with a
 * message naming the column for a syntax error or an unknown filter, ERR_TOO_BIG past
 * WF_EXPR_MAX_LEN, ERR_DEPTH past WF_EXPR_MAX_DEPTH; *out is untouched on failure. */
int wf_expr_compile(const char *src, size_t len, struct wf_expr **out, char *err, size_t errlen);

/* As wf_expr_compile, for an expression that starts at (line, col) of a larger text: positions in
 * compile and evaluation errors are reported as "line L, column C" of that text. */
int wf_expr_compile_at(const char *src, size_t len, int line, int col, struct wf_expr **out,
                       char *err, size_t errlen);

/* Evaluates e with the members of scope (an object; NULL or a non-object means no variables) as
 * its variables. On success *out is a new value the caller frees with cJSON_Delete. ERR_INVALID
 * for a type mismatch or a bad filter argument, ERR_TOO_BIG when a step, string or list limit is
 * passed; *out is untouched on failure. */
int wf_expr_eval(const struct wf_expr *e, const cJSON *scope, cJSON **out, char *err,
                 size_t errlen);

/* As wf_expr_eval, with a chain of frames (templates use it for loop variables and `set`). */
int wf_expr_eval_scoped(const struct wf_expr *e, const struct wf_scope *scope, cJSON **out,
                        char *err, size_t errlen);

/* As wf_expr_eval_scoped, spending from a budget the caller keeps across evaluations (templates
 * share one per render): *steps_left goes down by what the evaluation costs, and ERR_TOO_BIG
 * stops it when the budget would go below zero. */
int wf_expr_eval_budget(const struct wf_expr *e, const struct wf_scope *scope, long *steps_left,
                        cJSON **out, char *err, size_t errlen);

/* Evaluates e and reduces the value to Jinja's truthiness: null, false, 0, "", [] and {} are
 * false, everything else true. Errors as wf_expr_eval (*out untouched). */
int wf_expr_eval_bool(const struct wf_expr *e, const cJSON *scope, bool *out, char *err,
                      size_t errlen);

/* Jinja's truthiness of one value (NULL counts as null). */
bool wf_expr_truthy(const cJSON *v);

/* Appends v as template text would print it: strings raw, numbers in their shortest form (3, not
 * 3.0), null as nothing, true/false as True/False (Jinja's spelling), arrays and objects as
 * compact JSON. 0, or ERR_TOO_BIG at out's cap (out may then hold part of the text). */
int wf_expr_print(struct buf *out, const cJSON *v);

/* Releases e; NULL is fine. */
void wf_expr_free(struct wf_expr *e);

#endif
