/* template.c - compiles and renders the Jinja2 subset of Widget Builder templates (template.h).
 *
 * Compilation runs in two passes. The scanner cuts the source into pieces (text, {{ }}, {% %},
 * {# #}), applying whitespace control to the neighbouring text as it goes; the parser then builds
 * a tree of nodes from the pieces, one recursive call per block, with every expression compiled
 * up front (expr.h) so a typo anywhere in the template fails at load time, not at the first
 * render that reaches it.
 *
 * Rendering walks the tree with a chain of variable frames: the data, the template's own `set`
 * variables, then one frame per for-loop iteration holding the loop variables (as cJSON
 * references into the iterated list, so nothing is copied) and `loop`.
 */
#include "workflow/template.h"

#include "core/err.h"
#include "core/xalloc.h"
#include "workflow/expr.h"
#include "workflow/filters.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum tn_kind { TN_TEXT, TN_OUT, TN_IF, TN_FOR, TN_SET };

struct tlist {
    struct tnode **v; /* owned array of owned nodes */
    size_t n;
};

struct tnode {
    enum tn_kind kind;
    int line, col;             /* where the tag starts */
    size_t text_off, text_len; /* TN_TEXT: a slice of the template's source */
    struct wf_expr *expr;      /* TN_OUT, TN_SET value, TN_FOR list; owned */
    struct wf_expr *filter;    /* TN_FOR `if` condition, or NULL; owned */
    char *names[2];            /* TN_FOR variables (names[1] NULL for one), TN_SET name; owned */
    struct wf_expr **conds;    /* TN_IF: one per branch, NULL for else; owned */
    struct tlist *branches;    /* TN_IF: the body of each branch; owned */
    size_t nbranches;
    struct tlist body, else_body; /* TN_FOR */
};

struct wf_template {
    char *src; /* owned copy of the source */
    size_t len;
    struct tlist root;
};

/* ---- scanner ---------------------------------------------------------------------------- */

enum piece_kind { P_TEXT, P_OUT, P_STMT };

struct piece {
    enum piece_kind kind;
    size_t off, len; /* the text, or the tag's content without delimiters and '-' marks */
    int line, col;   /* where the piece (the tag's '{') starts */
};

struct scanner {
    const char *src;
    size_t len;
    struct piece *v; /* owned */
    size_t n, cap;
    size_t pos_off; /* a cursor for line/column counting */
    int pos_line, pos_col;
    char *err;
    size_t errlen;
};

static int fail_line(char *err, size_t errlen, int code, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static int fail_line(char *err, size_t errlen, int code, int line, int col, const char *fmt, ...)
{
    int n = errlen > 0 ? snprintf(err, errlen, "line %d, column %d: ", line, col) : -1;
    if (n >= 0 && (size_t)n < errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Line and column of off; offsets are asked for in increasing order, so counting resumes. */
static void locate(struct scanner *s, size_t off, int *line, int *col)
{
    if (off < s->pos_off) {
        s->pos_off = 0;
        s->pos_line = 1;
        s->pos_col = 1;
    }
    for (; s->pos_off < off; s->pos_off++) {
        if (s->src[s->pos_off] == '\n') {
            s->pos_line++;
            s->pos_col = 1;
        } else {
            s->pos_col++;
        }
    }
    *line = s->pos_line;
    *col = s->pos_col;
}

static void push_piece(struct scanner *s, enum piece_kind kind, size_t off, size_t len,
                       size_t tag_off)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
    }
    struct piece *p = &s->v[s->n++];
    *p = (struct piece){.kind = kind, .off = off, .len = len};
    locate(s, tag_off, &p->line, &p->col);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

typedef bool (*stop_fn)(const char *src, size_t i, size_t end);

/* The first offset in [i, end) outside string literals and brackets where stop holds, or end.
 * Tags and loop headers are cut with it, so "}}" inside '…' or {…} does not end a tag. */
static size_t find_top_level(const char *src, size_t i, size_t end, stop_fn stop)
{
    int depth = 0;
    char quote = 0;
    for (; i < end; i++) {
        char c = src[i];
        if (quote) {
            if (c == '\\')
                i++;
            else if (c == quote)
                quote = 0;
        } else if (c == '\'' || c == '"') {
            quote = c;
        } else if (depth == 0 && stop(src, i, end)) {
            return i;
        } else if (c == '{' || c == '[' || c == '(') {
            depth++;
        } else if ((c == '}' || c == ']' || c == ')') && depth > 0) {
            depth--;
        }
    }
    return end;
}

static bool at_out_end(const char *src, size_t i, size_t end)
{
    return src[i] == '}' && i + 1 < end && src[i + 1] == '}';
}

static bool at_stmt_end(const char *src, size_t i, size_t end)
{
    return src[i] == '%' && i + 1 < end && src[i + 1] == '}';
}

/* A loop filter: the word `if` between spaces. */
static bool at_loop_if(const char *src, size_t i, size_t end)
{
    return src[i] == 'i' && i + 2 < end && src[i + 1] == 'f' && is_space(src[i + 2]) && i > 0 &&
           is_space(src[i - 1]);
}

/* Adds the text [start, end), trimmed on the left when the previous tag asked for it. */
static void push_text(struct scanner *s, size_t start, size_t end, bool lstrip)
{
    while (lstrip && start < end && is_space(s->src[start]))
        start++;
    if (start < end)
        push_piece(s, P_TEXT, start, end - start, start);
}

static int scan_tag(struct scanner *s, size_t at, size_t *next, bool *strip_after)
{
    const char *src = s->src;
    char kind = src[at + 1];
    size_t cs = at + 2, end;
    if (cs < s->len && src[cs] == '-')
        cs++;
    bool found;
    if (kind == '#') {
        const char *hit = NULL;
        for (size_t i = cs; i + 1 < s->len && !hit; i++) {
            if (src[i] == '#' && src[i + 1] == '}')
                hit = src + i;
        }
        found = hit != NULL;
        end = found ? (size_t)(hit - src) : 0;
    } else {
        end = find_top_level(src, cs, s->len, kind == '{' ? at_out_end : at_stmt_end);
        found = end < s->len;
    }
    if (!found) {
        int line, col;
        locate(s, at, &line, &col);
        return fail_line(s->err, s->errlen, ERR_INVALID, line, col,
                         "'{%c' without its closing '%c}'", kind, kind == '{' ? '}' : kind);
    }
    *strip_after = end > cs && src[end - 1] == '-';
    size_t ce = *strip_after ? end - 1 : end;
    if (kind != '#')
        push_piece(s, kind == '{' ? P_OUT : P_STMT, cs, ce - cs, at);
    *next = end + 2;
    return 0;
}

/* Cuts the source into pieces. Whitespace control: a '-' just inside a tag's opening strips the
 * whitespace before it, a '-' just inside its closing strips the whitespace after it. */
static int scan(struct scanner *s)
{
    const char *src = s->src;
    size_t i = 0, text_start = 0;
    bool lstrip = false;
    while (i + 1 < s->len) {
        if (src[i] != '{' || (src[i + 1] != '{' && src[i + 1] != '%' && src[i + 1] != '#')) {
            i++;
            continue;
        }
        size_t text_end = i;
        if (i + 2 < s->len && src[i + 2] == '-') {
            while (text_end > text_start && is_space(src[text_end - 1]))
                text_end--;
        }
        push_text(s, text_start, text_end, lstrip);
        bool strip_after = false;
        int rc = scan_tag(s, i, &i, &strip_after);
        if (rc != 0)
            return rc;
        lstrip = strip_after;
        text_start = i;
    }
    push_text(s, text_start, s->len, lstrip);
    return 0;
}

/* ---- parser ----------------------------------------------------------------------------- */

struct parser {
    struct scanner *s;
    size_t pos; /* next piece */
    int depth;
    char *err;
    size_t errlen;
};

static void tlist_add(struct tlist *l, struct tnode *n)
{
    l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
    l->v[l->n++] = n;
}

static void tlist_free(struct tlist *l);

static void tnode_free(struct tnode *n)
{
    if (!n)
        return;
    wf_expr_free(n->expr);
    wf_expr_free(n->filter);
    free(n->names[0]);
    free(n->names[1]);
    for (size_t i = 0; i < n->nbranches; i++) {
        wf_expr_free(n->conds[i]);
        tlist_free(&n->branches[i]);
    }
    free(n->conds);
    free(n->branches);
    tlist_free(&n->body);
    tlist_free(&n->else_body);
    free(n);
}

static void tlist_free(struct tlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        tnode_free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* A statement's words: the keyword and where the rest starts. */
struct stmt {
    const struct piece *piece;
    const char *kw;
    size_t kwlen;
    size_t rest_off, rest_len; /* after the keyword, spaces skipped */
};

static void split_stmt(const struct scanner *s, const struct piece *p, struct stmt *st)
{
    size_t i = p->off, end = p->off + p->len;
    while (i < end && is_space(s->src[i]))
        i++;
    while (end > i && is_space(s->src[end - 1]))
        end--;
    size_t k = i;
    while (k < end && (s->src[k] == '_' || (s->src[k] >= 'a' && s->src[k] <= 'z') ||
                       (s->src[k] >= 'A' && s->src[k] <= 'Z') ||
                       (k > i && s->src[k] >= '0' && s->src[k] <= '9')))
        k++;
    st->piece = p;
    st->kw = s->src + i;
    st->kwlen = k - i;
    while (k < end && is_space(s->src[k]))
        k++;
    st->rest_off = k;
    st->rest_len = end - k;
}

static bool kw_is(const struct stmt *st, const char *word)
{
    return st->kwlen == strlen(word) && memcmp(st->kw, word, st->kwlen) == 0;
}

static int compile_expr(struct parser *p, size_t off, size_t len, struct wf_expr **out)
{
    int line, col;
    locate(p->s, off, &line, &col);
    if (len == 0)
        return fail_line(p->err, p->errlen, ERR_INVALID, line, col, "an expression is missing");
    return wf_expr_compile_at(p->s->src + off, len, line, col, out, p->err, p->errlen);
}

static int stmt_fail(struct parser *p, const struct stmt *st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int stmt_fail(struct parser *p, const struct stmt *st, const char *fmt, ...)
{
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return fail_line(p->err, p->errlen, ERR_INVALID, st->piece->line, st->piece->col, "%s", msg);
}

static int parse_body(struct parser *p, struct tlist *out, const char *const *ends,
                      struct stmt *end);

/* Parses a block body that must end with one of ends; opener names the block in errors. */
static int parse_block(struct parser *p, const struct stmt *opener, struct tlist *out,
                       const char *const *ends, struct stmt *end)
{
    if (++p->depth > WF_TEMPLATE_MAX_NESTING)
        return fail_line(p->err, p->errlen, ERR_DEPTH, opener->piece->line, opener->piece->col,
                         "blocks nested deeper than %d", WF_TEMPLATE_MAX_NESTING);
    end->piece = NULL;
    int rc = parse_body(p, out, ends, end);
    p->depth--;
    if (rc == 0 && !end->piece)
        rc = stmt_fail(p, opener, "{%% %.*s %%} without its {%% %s %%}", (int)opener->kwlen,
                       opener->kw, ends[0]);
    return rc;
}

static const char *const if_ends[] = {"endif", "elif", "else", NULL};
static const char *const else_ends[] = {"endif", NULL};

static int parse_if(struct parser *p, const struct stmt *st, struct tnode *n)
{
    struct stmt cur = *st, end;
    int rc = 0;
    bool seen_else = false;
    while (rc == 0) {
        n->conds = xrealloc(n->conds, (n->nbranches + 1) * sizeof *n->conds);
        n->branches = xrealloc(n->branches, (n->nbranches + 1) * sizeof *n->branches);
        n->conds[n->nbranches] = NULL;
        n->branches[n->nbranches] = (struct tlist){0};
        size_t b = n->nbranches++;
        if (!seen_else)
            rc = compile_expr(p, cur.rest_off, cur.rest_len, &n->conds[b]);
        else if (cur.rest_len > 0)
            rc = stmt_fail(p, &cur, "{%% else %%} takes no condition (use {%% elif … %%})");
        if (rc == 0)
            rc = parse_block(p, st, &n->branches[b], seen_else ? else_ends : if_ends, &end);
        if (rc != 0 || kw_is(&end, "endif"))
            break;
        seen_else = kw_is(&end, "else");
        cur = end;
    }
    return rc;
}

static bool is_ident(const char *s, size_t n)
{
    if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9')))
            return false;
    }
    return true;
}

/* Reads one loop variable name at *i (spaces skipped before it). */
static char *read_name(const char *src, size_t *i, size_t end)
{
    while (*i < end && is_space(src[*i]))
        (*i)++;
    size_t start = *i;
    while (*i < end && is_ident(src + *i, 1))
        (*i)++;
    return is_ident(src + start, *i - start) ? xstrndup(src + start, *i - start) : NULL;
}

static const char *const for_ends[] = {"endfor", "else", NULL};
static const char *const for_else_ends[] = {"endfor", NULL};

static int parse_for_header(struct parser *p, const struct stmt *st, struct tnode *n)
{
    const char *src = p->s->src;
    size_t i = st->rest_off, end = st->rest_off + st->rest_len;
    n->names[0] = read_name(src, &i, end);
    while (i < end && is_space(src[i]))
        i++;
    if (n->names[0] && i < end && src[i] == ',') {
        i++;
        n->names[1] = read_name(src, &i, end);
        if (!n->names[1])
            return stmt_fail(p, st, "expected a second loop variable after ','");
        while (i < end && is_space(src[i]))
            i++;
    }
    if (!n->names[0] || i + 2 >= end || memcmp(src + i, "in", 2) != 0 || !is_space(src[i + 2]))
        return stmt_fail(p, st,
                         "expected {%% for name in list %%} or {%% for k, v in "
                         "obj.items() %%}");
    i += 3;
    size_t filter_at = find_top_level(src, i, end, at_loop_if);
    int rc = compile_expr(p, i, filter_at - i, &n->expr);
    if (rc == 0 && filter_at < end)
        rc = compile_expr(p, filter_at + 2, end - filter_at - 2, &n->filter);
    return rc;
}

static int parse_for(struct parser *p, const struct stmt *st, struct tnode *n)
{
    struct stmt end;
    int rc = parse_for_header(p, st, n);
    if (rc == 0)
        rc = parse_block(p, st, &n->body, for_ends, &end);
    if (rc == 0 && kw_is(&end, "else")) {
        if (end.rest_len > 0)
            return stmt_fail(p, &end, "{%% else %%} takes nothing after it");
        rc = parse_block(p, st, &n->else_body, for_else_ends, &end);
    }
    return rc;
}

static int parse_set(struct parser *p, const struct stmt *st, struct tnode *n)
{
    const char *src = p->s->src;
    size_t i = st->rest_off, end = st->rest_off + st->rest_len;
    n->names[0] = read_name(src, &i, end);
    while (i < end && is_space(src[i]))
        i++;
    if (!n->names[0] || i >= end || src[i] != '=' || (i + 1 < end && src[i + 1] == '='))
        return stmt_fail(p, st, "expected {%% set name = value %%} (block set is not supported)");
    i++;
    return compile_expr(p, i, end - i, &n->expr);
}

static bool in_list(const struct stmt *st, const char *const *words)
{
    for (; words && *words; words++) {
        if (kw_is(st, *words))
            return true;
    }
    return false;
}

static int parse_stmt(struct parser *p, const struct stmt *st, struct tnode *n)
{
    if (kw_is(st, "if")) {
        n->kind = TN_IF;
        return parse_if(p, st, n);
    }
    if (kw_is(st, "for")) {
        n->kind = TN_FOR;
        return parse_for(p, st, n);
    }
    if (kw_is(st, "set")) {
        n->kind = TN_SET;
        return parse_set(p, st, n);
    }
    static const char *const closers[] = {"endif", "elif", "else", "endfor", NULL};
    if (in_list(st, closers))
        return stmt_fail(p, st, "{%% %.*s %%} without a matching {%% %s %%}", (int)st->kwlen,
                         st->kw, kw_is(st, "endfor") ? "for" : "if");
    if (st->kwlen == 0)
        return stmt_fail(p, st, "empty {%% %%} tag");
    return stmt_fail(p, st,
                     "unknown tag '%.*s' (supported: if, elif, else, endif, for, endfor, set)",
                     (int)(st->kwlen > 32 ? 32 : st->kwlen), st->kw);
}

/* Parses pieces into out until a statement whose keyword is in ends (returned in *end, consumed)
 * or the end of the template. */
static int parse_body(struct parser *p, struct tlist *out, const char *const *ends,
                      struct stmt *end)
{
    while (p->pos < p->s->n) {
        const struct piece *pc = &p->s->v[p->pos++];
        struct tnode *n = xcalloc(1, sizeof *n);
        n->line = pc->line;
        n->col = pc->col;
        int rc = 0;
        if (pc->kind == P_TEXT) {
            n->kind = TN_TEXT;
            n->text_off = pc->off;
            n->text_len = pc->len;
        } else if (pc->kind == P_OUT) {
            n->kind = TN_OUT;
            rc = compile_expr(p, pc->off, pc->len, &n->expr);
        } else {
            struct stmt st;
            split_stmt(p->s, pc, &st);
            if (in_list(&st, ends)) {
                free(n);
                *end = st;
                return 0;
            }
            rc = parse_stmt(p, &st, n);
        }
        tlist_add(out, n);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int wf_template_compile(const char *src, size_t len, struct wf_template **out, char *err,
                        size_t errlen)
{
    if (errlen > 0)
        err[0] = '\0';
    if (len > WF_TEMPLATE_MAX_SOURCE)
        return fail_line(err, errlen, ERR_TOO_BIG, 1, 1, "template longer than %d bytes",
                         WF_TEMPLATE_MAX_SOURCE);
    struct wf_template *t = xcalloc(1, sizeof *t);
    /* Jinja drops one newline at the very end of a template. */
    if (len > 0 && src[len - 1] == '\n')
        len--;
    t->src = xmalloc(len + 1);
    if (len)
        memcpy(t->src, src, len);
    t->src[len] = '\0';
    t->len = len;
    struct scanner s = {
        .src = t->src, .len = len, .pos_line = 1, .pos_col = 1, .err = err, .errlen = errlen};
    int rc = scan(&s);
    if (rc == 0) {
        struct parser p = {.s = &s, .err = err, .errlen = errlen};
        struct stmt end = {0};
        rc = parse_body(&p, &t->root, NULL, &end);
    }
    free(s.v);
    if (rc != 0) {
        wf_template_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

void wf_template_free(struct wf_template *t)
{
    if (!t)
        return;
    tlist_free(&t->root);
    free(t->src);
    free(t);
}

/* ---- rendering -------------------------------------------------------------------------- */

struct render {
    const struct wf_template *t;
    struct buf *out;
    long iterations;
    long steps_left; /* one expression budget for the whole render */
    char *err;
    size_t errlen;
};

static int render_list(struct render *r, const struct tlist *l, const struct wf_scope *scope,
                       cJSON *setvars);

static int out_full(struct render *r, const struct tnode *n)
{
    return fail_line(r->err, r->errlen, ERR_TOO_BIG, n->line, n->col,
                     "the output is larger than %zu bytes", r->out->max);
}

static int render_out(struct render *r, const struct tnode *n, const struct wf_scope *scope)
{
    cJSON *v;
    int rc = wf_expr_eval_budget(n->expr, scope, &r->steps_left, &v, r->err, r->errlen);
    if (rc != 0)
        return rc;
    rc = wf_expr_print(r->out, v);
    cJSON_Delete(v);
    return rc == 0 ? 0 : out_full(r, n);
}

static int eval_truth(struct render *r, const struct wf_expr *e, const struct wf_scope *scope,
                      bool *out)
{
    cJSON *v;
    int rc = wf_expr_eval_budget(e, scope, &r->steps_left, &v, r->err, r->errlen);
    if (rc == 0) {
        *out = wf_expr_truthy(v);
        cJSON_Delete(v);
    }
    return rc;
}

static int render_if(struct render *r, const struct tnode *n, const struct wf_scope *scope,
                     cJSON *setvars)
{
    for (size_t i = 0; i < n->nbranches; i++) {
        bool take = true;
        if (n->conds[i]) {
            int rc = eval_truth(r, n->conds[i], scope, &take);
            if (rc != 0)
                return rc;
        }
        if (take)
            return render_list(r, &n->branches[i], scope, setvars);
    }
    return 0;
}

static int render_set(struct render *r, const struct tnode *n, const struct wf_scope *scope,
                      cJSON *setvars)
{
    cJSON *v;
    int rc = wf_expr_eval_budget(n->expr, scope, &r->steps_left, &v, r->err, r->errlen);
    if (rc != 0)
        return rc;
    cJSON_DeleteItemFromObjectCaseSensitive(setvars, n->names[0]);
    cJSON_AddItemToObject(setvars, n->names[0], v);
    return 0;
}

/* Binds the loop variables of n to item in vars (item borrowed: references, not copies). */
static int bind_loop_vars(struct render *r, const struct tnode *n, cJSON *vars, cJSON *item)
{
    if (!n->names[1]) {
        cJSON_AddItemReferenceToObject(vars, n->names[0], item);
        return 0;
    }
    if (!cJSON_IsArray(item) || cJSON_GetArraySize(item) != 2)
        return fail_line(r->err, r->errlen, ERR_INVALID, n->line, n->col,
                         "cannot unpack a %s into '%s, %s' (a list of two is needed; for an "
                         "object use .items())",
                         wf_value_type(item), n->names[0], n->names[1]);
    cJSON_AddItemReferenceToObject(vars, n->names[0], item->child);
    cJSON_AddItemReferenceToObject(vars, n->names[1], item->child->next);
    return 0;
}

/* The list a for loop walks: a list as is, an object's keys, null as nothing. */
static int loop_items(struct render *r, const struct tnode *n, cJSON *v, cJSON **items)
{
    if (cJSON_IsArray(v)) {
        *items = v;
        return 0;
    }
    if (!cJSON_IsNull(v) && !cJSON_IsObject(v)) {
        cJSON_Delete(v);
        return fail_line(r->err, r->errlen, ERR_INVALID, n->line, n->col,
                         "for needs a list or an object, got %s", wf_value_type(v));
    }
    *items = cJSON_CreateArray();
    for (const cJSON *x = v->child; x; x = x->next)
        cJSON_AddItemToArray(*items, cJSON_CreateString(x->string));
    cJSON_Delete(v);
    return 0;
}

/* Keeps the items that pass the loop's `if` (Jinja's loop filter; loop.* counts only them). */
static int loop_filter(struct render *r, const struct tnode *n, const struct wf_scope *scope,
                       cJSON *items)
{
    for (cJSON *x = items->child, *next; x; x = next) {
        next = x->next;
        cJSON *vars = cJSON_CreateObject();
        struct wf_scope frame = {.vars = vars, .parent = scope};
        bool keep = false;
        int rc = bind_loop_vars(r, n, vars, x);
        if (rc == 0)
            rc = eval_truth(r, n->filter, &frame, &keep);
        cJSON_Delete(vars);
        if (rc != 0)
            return rc;
        if (!keep)
            cJSON_Delete(cJSON_DetachItemViaPointer(items, x));
    }
    return 0;
}

static cJSON *loop_object(int index0, int length)
{
    cJSON *loop = cJSON_CreateObject();
    cJSON_AddNumberToObject(loop, "index", index0 + 1);
    cJSON_AddNumberToObject(loop, "index0", index0);
    cJSON_AddNumberToObject(loop, "revindex", length - index0);
    cJSON_AddNumberToObject(loop, "revindex0", length - index0 - 1);
    cJSON_AddBoolToObject(loop, "first", index0 == 0);
    cJSON_AddBoolToObject(loop, "last", index0 == length - 1);
    cJSON_AddNumberToObject(loop, "length", length);
    return loop;
}

static int render_for(struct render *r, const struct tnode *n, const struct wf_scope *scope,
                      cJSON *setvars)
{
    cJSON *v, *items = NULL;
    int rc = wf_expr_eval_budget(n->expr, scope, &r->steps_left, &v, r->err, r->errlen);
    if (rc == 0)
        rc = loop_items(r, n, v, &items);
    if (rc != 0)
        return rc;
    if (n->filter)
        rc = loop_filter(r, n, scope, items);
    int length = cJSON_GetArraySize(items), index0 = 0;
    for (cJSON *x = items->child; x && rc == 0; x = x->next, index0++) {
        if (++r->iterations > WF_TEMPLATE_MAX_ITERATIONS) {
            rc =
                fail_line(r->err, r->errlen, ERR_TOO_BIG, n->line, n->col,
                          "more than %d loop iterations in one render", WF_TEMPLATE_MAX_ITERATIONS);
            break;
        }
        cJSON *vars = cJSON_CreateObject();
        struct wf_scope frame = {.vars = vars, .parent = scope};
        rc = bind_loop_vars(r, n, vars, x);
        if (rc == 0) {
            cJSON_AddItemToObject(vars, "loop", loop_object(index0, length));
            rc = render_list(r, &n->body, &frame, vars);
        }
        cJSON_Delete(vars);
    }
    cJSON_Delete(items);
    if (rc == 0 && length == 0)
        rc = render_list(r, &n->else_body, scope, setvars);
    return rc;
}

static int render_list(struct render *r, const struct tlist *l, const struct wf_scope *scope,
                       cJSON *setvars)
{
    int rc = 0;
    for (size_t i = 0; i < l->n && rc == 0; i++) {
        const struct tnode *n = l->v[i];
        switch (n->kind) {
        case TN_TEXT:
            rc = buf_append(r->out, r->t->src + n->text_off, n->text_len);
            if (rc != 0)
                rc = out_full(r, n);
            break;
        case TN_OUT:
            rc = render_out(r, n, scope);
            break;
        case TN_IF:
            rc = render_if(r, n, scope, setvars);
            break;
        case TN_FOR:
            rc = render_for(r, n, scope, setvars);
            break;
        case TN_SET:
            rc = render_set(r, n, scope, setvars);
            break;
        }
    }
    return rc;
}

int wf_template_render(const struct wf_template *t, const cJSON *data, struct buf *out, char *err,
                       size_t errlen)
{
    if (errlen > 0)
        err[0] = '\0';
    cJSON *globals = cJSON_CreateObject();
    struct wf_scope data_frame = {.vars = data, .parent = NULL};
    struct wf_scope globals_frame = {.vars = globals, .parent = &data_frame};
    struct render r = {
        .t = t, .out = out, .steps_left = WF_TEMPLATE_MAX_STEPS, .err = err, .errlen = errlen};
    int rc = render_list(&r, &t->root, &globals_frame, globals);
    cJSON_Delete(globals);
    return rc;
}
