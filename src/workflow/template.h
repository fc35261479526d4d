/* template.h - the Jinja2 subset that Widget Builder `.widget` templates are written in.
 *
 * A Widget Builder export renders widget JSON from data with a Jinja2 template such as
 *
 *   {"type":"ListView","children":[{%- for t in tasks -%}{"type":"ListViewItem",
 *    "key":{{ (t.id) | tojson }},"children":[{"type":"Text","value":{{ t.title | tojson }}}]}
 *    {%- if not loop.last %},{% endif %}{%- endfor -%}]}
 *
 * Supported (docs/templates.md has the details and examples):
 *   text                 copied as is
 *   {{ expr }}           the value of an expression (expr.h), printed as wf_expr_print does
 *   {# comment #}        dropped
 *   {% if e %} … {% elif e %} … {% else %} … {% endif %}
 *   {% for x in e %} … {% else %} … {% endfor %}     the else part runs when e is empty or null;
 *                        also  for k, v in obj.items() ,  for a, b in list_of_pairs  and
 *                        Jinja's loop filter  for x in xs if cond  (loop.* counts kept items);
 *                        inside: loop.index, loop.index0, loop.revindex, loop.revindex0,
 *                        loop.first, loop.last, loop.length; iterating an object gives its keys
 *   {% set x = e %}      binds x in the innermost for-iteration (or the whole template at top
 *                        level), as Jinja scopes it
 *   whitespace control   {%- -%} {{- -}} {#- -#} strip the whitespace before/after the tag
 *                        (newlines included), as Jinja does
 * Anything else in a {% %} tag (macro, include, block, raw, with, …) is a compile error.
 *
 * Errors name the place in the template, 1-based: "line 12, column 8: unknown filter 'foo'",
 * "line 3, column 1: {% endfor %} without a {% for %}", "line 9, column 14: '<' needs two numbers
 * or two strings, got string and null".
 *
 * Bounds: WF_TEMPLATE_MAX_SOURCE bytes of template, WF_TEMPLATE_MAX_NESTING nested blocks,
 * WF_TEMPLATE_MAX_ITERATIONS loop iterations per render (all loops together), WF_TEMPLATE_MAX_STEPS
 * expression steps per render (all expressions together, counted as expr.h counts them), and the
 * output is capped by the caller's buf (ERR_TOO_BIG past it).
 *
 * Threads: a compiled template is immutable; several threads may render it at once.
 */
#ifndef CHATKITD_WORKFLOW_TEMPLATE_H
#define CHATKITD_WORKFLOW_TEMPLATE_H

#include "core/buf.h"

#include <cjson/cJSON.h>
#include <stddef.h>

#define WF_TEMPLATE_MAX_SOURCE     (256 * 1024) /* bytes of template text */
#define WF_TEMPLATE_MAX_NESTING    32           /* nested if/for blocks */
#define WF_TEMPLATE_MAX_ITERATIONS 10000        /* loop iterations per render, all loops */
#define WF_TEMPLATE_MAX_OUTPUT     (1 << 20)    /* the output cap widget_file uses */
#define WF_TEMPLATE_MAX_STEPS      2000000      /* expression steps per render, all together */

struct wf_template; /* opaque compiled template; owned by whoever compiled it */

/* Compiles len bytes of src into *out (the caller frees it with wf_template_free). ERR_INVALID
 * with "line L, column C: …" for a syntax error, an unknown tag or filter, or an unbalanced
 * block; ERR_TOO_BIG past WF_TEMPLATE_MAX_SOURCE; ERR_DEPTH past WF_TEMPLATE_MAX_NESTING. *out is
 * untouched on failure. */
int wf_template_compile(const char *src, size_t len, struct wf_template **out, char *err,
                        size_t errlen);

/* Renders t with the members of data (an object; NULL means no variables) as its variables,
 * appending the text to out (whose cap bounds the output). On failure returns ERR_INVALID (type
 * error in an expression) or ERR_TOO_BIG (output cap, loop iterations, or an expression limit)
 * with "line L, column C: …" in err; out then holds a partial render the caller should discard. */
int wf_template_render(const struct wf_template *t, const cJSON *data, struct buf *out, char *err,
                       size_t errlen);

/* Releases t; NULL is fine. */
void wf_template_free(struct wf_template *t);

#endif
