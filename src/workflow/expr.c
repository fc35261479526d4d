/* expr.c - lexer, parser and evaluator of the expression language (expr.h).
 *
 * Compilation turns the source into a token array, then a tree of nodes by recursive descent
 * (one function per precedence level). Every node remembers its byte offset, so evaluation errors
 * can name a line and column long after parsing.
 *
 * Evaluation avoids copying the data it reads: a value is either borrowed (a pointer into the
 * scope, a literal, or a part of a borrowed value) or owned (built during evaluation, freed by
 * whoever holds it). Taking a member of an owned value detaches that member and frees the rest,
 * so nothing borrowed ever points into freed memory.
 */
#include "workflow/expr.h"

#include "core/err.h"
#include "core/xalloc.h"
#include "workflow/filters.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- tokens ----------------------------------------------------------------------------- */

enum tok_kind { TK_END, TK_NUM, TK_STR, TK_NAME, TK_OP };

struct token {
    enum tok_kind kind;
    size_t off, len; /* where the token is in the source */
    double num;      /* TK_NUM */
    char *str;       /* TK_STR: the decoded text, owned by the token array */
};

enum node_kind {
    N_LIT,      /* lit */
    N_VAR,      /* name */
    N_ATTR,     /* kids[0] . name */
    N_INDEX,    /* kids[0] [ kids[1] ] */
    N_METHOD,   /* kids[0] . name () : items keys values */
    N_LIST,     /* kids */
    N_DICT,     /* kids: key, value, key, value … */
    N_NOT,      /* kids[0] */
    N_NEG,      /* kids[0] */
    N_AND,      /* kids[0] kids[1] */
    N_OR,       /* kids[0] kids[1] */
    N_ARITH,    /* kids[0] op kids[1], op one of + - * / % ~ */
    N_CMP,      /* kids[0] op kids[1], op one of == != < <= > >= */
    N_CONTAINS, /* kids[0] (container) contains kids[1]; negate for "not in" */
    N_TEST,     /* kids[0] is [not] test [kids[1]] */
    N_COND,     /* kids[0] if kids[1] else kids[2] (kids[2] may be NULL) */
    N_FILTER,   /* kids[0] | filter; kids[1 + i] = parameter i or NULL */
};

struct node {
    enum node_kind kind;
    char op[3];
    bool negate;
    size_t off;
    cJSON *lit; /* N_LIT; owned */
    char *name; /* N_VAR, N_ATTR, N_METHOD; owned */
    const char *opname;
    const struct wf_filter *filter;
    const struct wf_test *test;
    struct node **kids; /* owned array; the nodes themselves belong to the expression */
    size_t nkids;
    struct node *next_alloc; /* every node of an expression, for wf_expr_free */
};

struct wf_expr {
    struct node *root;
    struct node *nodes; /* allocation list */
    char *src;          /* a copy of the source, for positions; owned */
    size_t len;
    int line, col; /* where the source starts in its text; line 0 = a standalone expression */
};

/* Turns a byte offset into "line L, column C" or "column C". */
static void position(const struct wf_expr *e, size_t off, char *out, size_t outlen)
{
    if (e->line == 0) {
        snprintf(out, outlen, "column %zu", off + 1);
        return;
    }
    int line = e->line;
    size_t col = (size_t)e->col + off;
    for (size_t i = 0; i < off && i < e->len; i++) {
        if (e->src[i] == '\n') {
            line++;
            col = off - i;
        }
    }
    snprintf(out, outlen, "line %d, column %zu", line, col);
}

static int fail_at(const struct wf_expr *e, size_t off, char *err, size_t errlen, int code,
                   const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int fail_at(const struct wf_expr *e, size_t off, char *err, size_t errlen, int code,
                   const char *fmt, ...)
{
    if (errlen == 0)
        return code;
    char where[64], msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    position(e, off, where, sizeof where);
    snprintf(err, errlen, "%s: %s", where, msg);
    return code;
}

/* ---- lexer ------------------------------------------------------------------------------ */

struct lexer {
    struct wf_expr *e;
    struct token *toks; /* owned until handed to the parser */
    size_t n, cap;
    char *err;
    size_t errlen;
};

static struct token *push_token(struct lexer *lx, enum tok_kind kind, size_t off, size_t len)
{
    if (lx->n == lx->cap) {
        lx->cap = lx->cap ? lx->cap * 2 : 32;
        lx->toks = xrealloc(lx->toks, lx->cap * sizeof *lx->toks);
    }
    struct token *t = &lx->toks[lx->n++];
    *t = (struct token){.kind = kind, .off = off, .len = len};
    return t;
}

static void free_tokens(struct token *toks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(toks[i].str);
    free(toks);
}

static int hex4(const char *s, size_t avail, unsigned *out)
{
    unsigned v = 0;
    if (avail < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v << 4 | (unsigned)d;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes a \u escape (and its low surrogate) at s[*i] (just after the 'u'). */
static int lex_unicode(struct lexer *lx, size_t end, size_t *i, unsigned *cp)
{
    const char *s = lx->e->src;
    size_t at = *i - 2;
    if (hex4(s + *i, end - *i, cp) != 0)
        return fail_at(lx->e, at, lx->err, lx->errlen, ERR_INVALID, "bad \\u escape");
    *i += 4;
    if (*cp >= 0xD800 && *cp <= 0xDBFF) {
        unsigned lo;
        if (*i + 6 > end || s[*i] != '\\' || s[*i + 1] != 'u' ||
            hex4(s + *i + 2, end - *i - 2, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF)
            return fail_at(lx->e, at, lx->err, lx->errlen, ERR_INVALID,
                           "a \\u escape of a high surrogate needs its low surrogate");
        *cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
        *i += 6;
    } else if ((*cp >= 0xDC00 && *cp <= 0xDFFF) || *cp == 0) {
        return fail_at(lx->e, at, lx->err, lx->errlen, ERR_INVALID,
                       *cp ? "a lone low surrogate is not text" : "\\u0000 is not allowed");
    }
    return 0;
}

/* Lexes the string literal starting at the quote s[start]; returns its end in *next. */
static int lex_string(struct lexer *lx, size_t start, size_t *next)
{
    const char *s = lx->e->src;
    size_t end = lx->e->len, i = start + 1;
    char quote = s[start];
    char *out = xmalloc(end - start + 1); /* decoding never makes text longer */
    size_t o = 0;
    while (i < end && s[i] != quote) {
        if (s[i] == '\0') {
            free(out);
            return fail_at(lx->e, i, lx->err, lx->errlen, ERR_INVALID,
                           "a NUL byte inside a string");
        }
        if (s[i] != '\\') {
            out[o++] = s[i++];
            continue;
        }
        char c = i + 1 < end ? s[i + 1] : '\0';
        const char *esc = strchr("nrtbf\\'\"/", c);
        i += 2;
        if (c == 'u') {
            unsigned cp = 0;
            int rc = lex_unicode(lx, end, &i, &cp);
            if (rc != 0) {
                free(out);
                return rc;
            }
            o += put_utf8(out + o, cp);
        } else if (c != '\0' && esc) {
            out[o++] = "\n\r\t\b\f\\'\"/"[esc - "nrtbf\\'\"/"];
        } else {
            free(out);
            return fail_at(lx->e, i - 2, lx->err, lx->errlen, ERR_INVALID,
                           "unknown escape in a string");
        }
    }
    if (i >= end) {
        free(out);
        return fail_at(lx->e, start, lx->err, lx->errlen, ERR_INVALID,
                       "string without its closing %c", quote);
    }
    out[o] = '\0';
    push_token(lx, TK_STR, start, i + 1 - start)->str = out;
    *next = i + 1;
    return 0;
}

static bool is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A number literal; its end in *next. One too large for a double (2e400) is refused: JSON, the
 * language's value model, has no infinity. */
static int lex_number(struct lexer *lx, size_t i, size_t *next)
{
    const char *s = lx->e->src;
    size_t end = lx->e->len, start = i;
    while (i < end && is_digit(s[i]))
        i++;
    if (i + 1 < end && s[i] == '.' && is_digit(s[i + 1])) {
        i++;
        while (i < end && is_digit(s[i]))
            i++;
    }
    if (i < end && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < end && (s[j] == '+' || s[j] == '-'))
            j++;
        if (j < end && is_digit(s[j])) {
            while (j < end && is_digit(s[j]))
                j++;
            i = j;
        }
    }
    char tmp[64];
    size_t n = i - start < sizeof tmp - 1 ? i - start : sizeof tmp - 1;
    memcpy(tmp, s + start, n);
    tmp[n] = '\0';
    double v = strtod(tmp, NULL);
    if (!isfinite(v))
        return fail_at(lx->e, start, lx->err, lx->errlen, ERR_INVALID, "number out of range (%s)",
                       tmp);
    push_token(lx, TK_NUM, start, i - start)->num = v;
    *next = i;
    return 0;
}

static const char *const two_char_ops[] = {"==", "!=", "<=", ">=", "&&", "||"};

static int lex(struct lexer *lx)
{
    const char *s = lx->e->src;
    size_t end = lx->e->len, i = 0;
    while (i < end) {
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            i++;
        } else if (is_digit(c)) {
            int rc = lex_number(lx, i, &i);
            if (rc)
                return rc;
        } else if (is_name_start(c)) {
            size_t start = i;
            while (i < end && (is_name_start(s[i]) || is_digit(s[i])))
                i++;
            push_token(lx, TK_NAME, start, i - start);
        } else if (c == '\'' || c == '"') {
            int rc = lex_string(lx, i, &i);
            if (rc != 0)
                return rc;
        } else {
            size_t n = 0;
            for (size_t k = 0; k < sizeof two_char_ops / sizeof two_char_ops[0]; k++) {
                if (i + 1 < end && memcmp(s + i, two_char_ops[k], 2) == 0)
                    n = 2;
            }
            if (n == 0 && c != '\0' && strchr("()[]{},:.|<>!+-*/%~=", c))
                n = 1;
            if (n == 0 && (unsigned char)c > 0x20 && (unsigned char)c < 0x7F)
                return fail_at(lx->e, i, lx->err, lx->errlen, ERR_INVALID,
                               "unexpected character '%c'", c);
            if (n == 0)
                return fail_at(lx->e, i, lx->err, lx->errlen, ERR_INVALID, "unexpected byte 0x%02X",
                               (unsigned char)c);
            push_token(lx, TK_OP, i, n);
            i += n;
        }
    }
    push_token(lx, TK_END, end, 0);
    return 0;
}

/* ---- parser ----------------------------------------------------------------------------- */

struct parser {
    struct wf_expr *e;
    struct token *toks;
    size_t pos;
    int depth;
    char *err;
    size_t errlen;
};

static const struct token *peek(const struct parser *p)
{
    return &p->toks[p->pos];
}

static bool tok_is(const struct parser *p, enum tok_kind kind, const char *text)
{
    const struct token *t = peek(p);
    return t->kind == kind && strlen(text) == t->len &&
           memcmp(p->e->src + t->off, text, t->len) == 0;
}

static bool accept(struct parser *p, enum tok_kind kind, const char *text)
{
    if (!tok_is(p, kind, text))
        return false;
    p->pos++;
    return true;
}

static int fail_tok(struct parser *p, const char *what)
{
    const struct token *t = peek(p);
    if (t->kind == TK_END)
        return fail_at(p->e, t->off, p->err, p->errlen, ERR_INVALID, "%s, found the end", what);
    int n = t->len > 24 ? 24 : (int)t->len;
    return fail_at(p->e, t->off, p->err, p->errlen, ERR_INVALID, "%s, found '%.*s'", what, n,
                   p->e->src + t->off);
}

static int expect(struct parser *p, const char *text)
{
    char what[32];
    if (accept(p, TK_OP, text))
        return 0;
    snprintf(what, sizeof what, "expected '%s'", text);
    return fail_tok(p, what);
}

static struct node *new_node(struct parser *p, enum node_kind kind, size_t off, size_t nkids)
{
    struct node *n = xcalloc(1, sizeof *n);
    n->kind = kind;
    n->off = off;
    n->nkids = nkids;
    n->kids = nkids ? xcalloc(nkids, sizeof *n->kids) : NULL;
    n->next_alloc = p->e->nodes;
    p->e->nodes = n;
    return n;
}

static struct node *binary(struct parser *p, enum node_kind kind, size_t off, struct node *a,
                           struct node *b)
{
    struct node *n = new_node(p, kind, off, 2);
    n->kids[0] = a;
    n->kids[1] = b;
    return n;
}

static void add_kid(struct node *n, struct node *kid)
{
    n->kids = xrealloc(n->kids, (n->nkids + 1) * sizeof *n->kids);
    n->kids[n->nkids++] = kid;
}

static int enter(struct parser *p)
{
    if (++p->depth > WF_EXPR_MAX_DEPTH)
        return fail_at(p->e, peek(p)->off, p->err, p->errlen, ERR_DEPTH,
                       "nested deeper than %d levels", WF_EXPR_MAX_DEPTH);
    return 0;
}

static int parse_expr(struct parser *p, struct node **out);

static const char *const reserved[] = {"and",  "or",       "not",   "in",   "is",    "if",
                                       "else", "contains", "for",   "true", "false", "null",
                                       "none", "True",     "False", "None"};

static bool is_reserved(const struct parser *p, const struct token *t)
{
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
        if (strlen(reserved[i]) == t->len && memcmp(p->e->src + t->off, reserved[i], t->len) == 0)
            return true;
    }
    return false;
}

static int parse_literal_name(struct parser *p, const struct token *t, struct node **out)
{
    static const struct {
        const char *word;
        int type;
    } words[] = {{"true", cJSON_True},   {"True", cJSON_True}, {"false", cJSON_False},
                 {"False", cJSON_False}, {"null", cJSON_NULL}, {"none", cJSON_NULL},
                 {"None", cJSON_NULL}};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (strlen(words[i].word) == t->len &&
            memcmp(p->e->src + t->off, words[i].word, t->len) == 0) {
            *out = new_node(p, N_LIT, t->off, 0);
            (*out)->lit = words[i].type == cJSON_NULL
                              ? cJSON_CreateNull()
                              : cJSON_CreateBool(words[i].type == cJSON_True);
            p->pos++;
            return 0;
        }
    }
    if (is_reserved(p, t))
        return fail_tok(p, "expected a value");
    if (p->toks[p->pos + 1].kind == TK_OP && p->e->src[p->toks[p->pos + 1].off] == '(' &&
        p->toks[p->pos + 1].len == 1)
        return fail_at(p->e, t->off, p->err, p->errlen, ERR_INVALID,
                       "function calls are not supported ('%.*s(…)'); use a filter",
                       (int)(t->len > 24 ? 24 : t->len), p->e->src + t->off);
    *out = new_node(p, N_VAR, t->off, 0);
    (*out)->name = xstrndup(p->e->src + t->off, t->len);
    p->pos++;
    return 0;
}

/* [a, b, …] or {k: v, …}: elements until the closing bracket, a trailing comma allowed. */
static int parse_collection(struct parser *p, bool dict, struct node **out)
{
    const char *close = dict ? "}" : "]";
    struct node *n = new_node(p, dict ? N_DICT : N_LIST, peek(p)->off, 0);
    p->pos++;
    int rc = enter(p);
    while (rc == 0 && !accept(p, TK_OP, close)) {
        struct node *item;
        rc = parse_expr(p, &item);
        if (rc == 0)
            add_kid(n, item);
        if (rc == 0 && dict) {
            rc = expect(p, ":");
            if (rc == 0)
                rc = parse_expr(p, &item);
            if (rc == 0)
                add_kid(n, item);
        }
        if (rc == 0 && !accept(p, TK_OP, ",") && !tok_is(p, TK_OP, close))
            rc = fail_tok(p, dict ? "expected ',' or '}'" : "expected ',' or ']'");
    }
    p->depth--;
    *out = n;
    return rc;
}

static int parse_primary(struct parser *p, struct node **out)
{
    const struct token *t = peek(p);
    if (t->kind == TK_NUM || t->kind == TK_STR) {
        *out = new_node(p, N_LIT, t->off, 0);
        (*out)->lit = t->kind == TK_NUM ? cJSON_CreateNumber(t->num) : cJSON_CreateString(t->str);
        p->pos++;
        return 0;
    }
    if (t->kind == TK_NAME)
        return parse_literal_name(p, t, out);
    if (tok_is(p, TK_OP, "[") || tok_is(p, TK_OP, "{"))
        return parse_collection(p, tok_is(p, TK_OP, "{"), out);
    if (accept(p, TK_OP, "(")) {
        int rc = parse_expr(p, out);
        return rc != 0 ? rc : expect(p, ")");
    }
    return fail_tok(p, "expected a value");
}

/* .name  .name()  .0  [expr] after a primary. */
static int parse_postfix(struct parser *p, struct node **out)
{
    int rc = parse_primary(p, out);
    while (rc == 0) {
        size_t off = peek(p)->off;
        if (accept(p, TK_OP, "[")) {
            struct node *idx;
            rc = parse_expr(p, &idx);
            if (rc == 0)
                rc = expect(p, "]");
            if (rc == 0)
                *out = binary(p, N_INDEX, off, *out, idx);
        } else if (accept(p, TK_OP, ".")) {
            const struct token *t = peek(p);
            if (t->kind == TK_NUM) {
                struct node *idx = new_node(p, N_LIT, t->off, 0);
                idx->lit = cJSON_CreateNumber(t->num);
                p->pos++;
                *out = binary(p, N_INDEX, off, *out, idx);
                continue;
            }
            if (t->kind != TK_NAME)
                return fail_tok(p, "expected a member name after '.'");
            struct node *n = new_node(p, N_ATTR, t->off, 1);
            n->kids[0] = *out;
            n->name = xstrndup(p->e->src + t->off, t->len);
            p->pos++;
            *out = n;
            if (accept(p, TK_OP, "(")) {
                n->kind = N_METHOD;
                if (strcmp(n->name, "items") != 0 && strcmp(n->name, "keys") != 0 &&
                    strcmp(n->name, "values") != 0)
                    return fail_at(p->e, n->off, p->err, p->errlen, ERR_INVALID,
                                   "unknown method '%s' (items, keys and values exist)", n->name);
                rc = expect(p, ")");
            }
        } else {
            break;
        }
    }
    return rc;
}

/* One filter argument: positional or name=value, placed in its parameter slot. */
static int parse_filter_arg(struct parser *p, struct node *f, int *positional)
{
    const struct token *t = peek(p);
    int slot;
    if (t->kind == TK_NAME && p->toks[p->pos + 1].kind == TK_OP && p->toks[p->pos + 1].len == 1 &&
        p->e->src[p->toks[p->pos + 1].off] == '=') {
        slot = wf_filter_param(f->filter, p->e->src + t->off, t->len);
        if (slot < 0)
            return fail_at(p->e, t->off, p->err, p->errlen, ERR_INVALID,
                           "filter '%s' has no parameter '%.*s'", f->filter->name,
                           (int)(t->len > 24 ? 24 : t->len), p->e->src + t->off);
        p->pos += 2;
    } else {
        slot = (*positional)++;
        if (slot >= f->filter->max_positional)
            return fail_at(p->e, t->off, p->err, p->errlen, ERR_INVALID,
                           "filter '%s' takes %d positional argument%s", f->filter->name,
                           f->filter->max_positional, f->filter->max_positional == 1 ? "" : "s");
    }
    if (f->kids[1 + slot])
        return fail_at(p->e, t->off, p->err, p->errlen, ERR_INVALID, "filter '%s' got '%s' twice",
                       f->filter->name, f->filter->params[slot]);
    return parse_expr(p, &f->kids[1 + slot]);
}

static int parse_filter(struct parser *p, struct node **out)
{
    const struct token *t = peek(p);
    if (t->kind != TK_NAME)
        return fail_tok(p, "expected a filter name after '|'");
    const struct wf_filter *f = wf_filter_find(p->e->src + t->off, t->len);
    if (!f)
        return fail_at(p->e, t->off, p->err, p->errlen, ERR_INVALID, "unknown filter '%.*s'",
                       (int)(t->len > 32 ? 32 : t->len), p->e->src + t->off);
    struct node *n = new_node(p, N_FILTER, t->off, 1 + WF_FILTER_MAX_PARAMS);
    n->filter = f;
    n->kids[0] = *out;
    *out = n;
    p->pos++;
    int rc = 0, positional = 0;
    if (accept(p, TK_OP, "(")) {
        while (rc == 0 && !accept(p, TK_OP, ")")) {
            rc = parse_filter_arg(p, n, &positional);
            if (rc == 0 && !accept(p, TK_OP, ",") && !tok_is(p, TK_OP, ")"))
                rc = fail_tok(p, "expected ',' or ')'");
        }
    }
    for (int i = 0; rc == 0 && i < f->min_positional; i++) {
        if (!n->kids[1 + i])
            rc = fail_at(p->e, n->off, p->err, p->errlen, ERR_INVALID,
                         "filter '%s' needs its '%s' argument", f->name, f->params[i]);
    }
    return rc;
}

/* Unary minus binds tighter than filters, as in Jinja: -x | abs is (-x) | abs. */
static int parse_sign(struct parser *p, struct node **out)
{
    size_t off = peek(p)->off;
    if (accept(p, TK_OP, "-") || accept(p, TK_OP, "+")) {
        bool minus = p->e->src[off] == '-';
        struct node *operand;
        int rc = enter(p);
        if (rc == 0)
            rc = parse_sign(p, &operand);
        p->depth--;
        if (rc != 0)
            return rc;
        if (!minus) {
            *out = operand;
            return 0;
        }
        *out = new_node(p, N_NEG, off, 1);
        (*out)->kids[0] = operand;
        return 0;
    }
    return parse_postfix(p, out);
}

static int parse_filtered(struct parser *p, struct node **out)
{
    int rc = parse_sign(p, out);
    while (rc == 0 && accept(p, TK_OP, "|"))
        rc = parse_filter(p, out);
    return rc;
}

/* Left-associative levels of binary operators: ops is a NUL-separated list. */
static int parse_binary_level(struct parser *p, int level, struct node **out);

static const char *const level_ops[][4] = {
    {"~", NULL},
    {"+", "-", NULL},
    {"*", "/", "%", NULL},
};

static int parse_binary_level(struct parser *p, int level, struct node **out)
{
    if (level == 3)
        return parse_filtered(p, out);
    int rc = parse_binary_level(p, level + 1, out);
    for (;;) {
        const char *op = NULL;
        for (int i = 0; level_ops[level][i]; i++) {
            if (tok_is(p, TK_OP, level_ops[level][i]))
                op = level_ops[level][i];
        }
        if (rc != 0 || !op)
            return rc;
        size_t off = peek(p)->off;
        p->pos++;
        struct node *rhs;
        rc = parse_binary_level(p, level + 1, &rhs);
        if (rc == 0) {
            *out = binary(p, N_ARITH, off, *out, rhs);
            memcpy((*out)->op, op, strlen(op) + 1);
        }
    }
}

static int parse_test(struct parser *p, size_t off, struct node **out)
{
    bool negate = accept(p, TK_NAME, "not");
    const struct token *t = peek(p);
    if (t->kind != TK_NAME && t->kind != TK_OP)
        return fail_tok(p, "expected a test name after 'is'");
    const struct wf_test *test = wf_test_find(p->e->src + t->off, t->len);
    if (!test)
        return fail_at(p->e, t->off, p->err, p->errlen, ERR_INVALID, "unknown test '%.*s'",
                       (int)(t->len > 24 ? 24 : t->len), p->e->src + t->off);
    p->pos++;
    struct node *n = new_node(p, N_TEST, off, test->takes_arg ? 2 : 1);
    n->test = test;
    n->negate = negate;
    n->kids[0] = *out;
    *out = n;
    if (!test->takes_arg)
        return 0;
    if (accept(p, TK_OP, "(")) {
        int rc = parse_expr(p, &n->kids[1]);
        return rc != 0 ? rc : expect(p, ")");
    }
    return parse_binary_level(p, 0, &n->kids[1]);
}

static const char *const cmp_ops[] = {"==", "!=", "<", "<=", ">", ">="};

static int parse_cmp(struct parser *p, struct node **out)
{
    int rc = parse_binary_level(p, 0, out);
    while (rc == 0) {
        size_t off = peek(p)->off;
        const char *op = NULL;
        for (size_t i = 0; i < sizeof cmp_ops / sizeof cmp_ops[0]; i++) {
            if (tok_is(p, TK_OP, cmp_ops[i]))
                op = cmp_ops[i];
        }
        struct node *rhs;
        if (op) {
            p->pos++;
            rc = parse_binary_level(p, 0, &rhs);
            if (rc == 0) {
                *out = binary(p, N_CMP, off, *out, rhs);
                memcpy((*out)->op, op, strlen(op) + 1);
            }
        } else if (accept(p, TK_NAME, "contains")) {
            rc = parse_binary_level(p, 0, &rhs);
            if (rc == 0)
                *out = binary(p, N_CONTAINS, off, *out, rhs);
            if (rc == 0)
                (*out)->opname = "contains";
        } else if (tok_is(p, TK_NAME, "in") ||
                   (tok_is(p, TK_NAME, "not") && p->toks[p->pos + 1].kind == TK_NAME &&
                    p->toks[p->pos + 1].len == 2 &&
                    memcmp(p->e->src + p->toks[p->pos + 1].off, "in", 2) == 0)) {
            bool negate = accept(p, TK_NAME, "not");
            p->pos++;
            rc = parse_binary_level(p, 0, &rhs);
            if (rc == 0) {
                *out = binary(p, N_CONTAINS, off, rhs, *out);
                (*out)->negate = negate;
                (*out)->opname = negate ? "not in" : "in";
            }
        } else if (accept(p, TK_NAME, "is")) {
            rc = parse_test(p, off, out);
        } else {
            break;
        }
    }
    return rc;
}

/* `not` and `!` bind looser than comparisons, as Jinja's not: !a == b is !(a == b). */
static int parse_not(struct parser *p, struct node **out)
{
    size_t off = peek(p)->off;
    if (accept(p, TK_NAME, "not") || accept(p, TK_OP, "!")) {
        struct node *operand;
        int rc = enter(p);
        if (rc == 0)
            rc = parse_not(p, &operand);
        p->depth--;
        if (rc == 0) {
            *out = new_node(p, N_NOT, off, 1);
            (*out)->kids[0] = operand;
        }
        return rc;
    }
    return parse_cmp(p, out);
}

static int parse_and(struct parser *p, struct node **out)
{
    int rc = parse_not(p, out);
    while (rc == 0) {
        size_t off = peek(p)->off;
        if (!accept(p, TK_NAME, "and") && !accept(p, TK_OP, "&&"))
            break;
        struct node *rhs;
        rc = parse_not(p, &rhs);
        if (rc == 0)
            *out = binary(p, N_AND, off, *out, rhs);
    }
    return rc;
}

static int parse_or(struct parser *p, struct node **out)
{
    int rc = parse_and(p, out);
    while (rc == 0) {
        size_t off = peek(p)->off;
        if (!accept(p, TK_NAME, "or") && !accept(p, TK_OP, "||"))
            break;
        struct node *rhs;
        rc = parse_and(p, &rhs);
        if (rc == 0)
            *out = binary(p, N_OR, off, *out, rhs);
    }
    return rc;
}

static int parse_expr(struct parser *p, struct node **out)
{
    int rc = enter(p);
    if (rc == 0)
        rc = parse_or(p, out);
    size_t off = peek(p)->off;
    if (rc == 0 && accept(p, TK_NAME, "if")) {
        struct node *n = new_node(p, N_COND, off, 3);
        n->kids[0] = *out;
        *out = n;
        rc = parse_or(p, &n->kids[1]);
        if (rc == 0 && accept(p, TK_NAME, "else"))
            rc = parse_expr(p, &n->kids[2]);
    }
    p->depth--;
    return rc;
}

int wf_expr_compile_at(const char *src, size_t len, int line, int col, struct wf_expr **out,
                       char *err, size_t errlen)
{
    if (errlen > 0)
        err[0] = '\0';
    struct wf_expr *e = xcalloc(1, sizeof *e);
    e->line = line > 0 ? line : 0;
    e->col = col > 0 ? col : 1;
    e->len = len > WF_EXPR_MAX_LEN ? 0 : len;
    e->src = xmalloc(e->len + 1); /* NUL bytes inside are kept; the lexer reports them */
    if (e->len)
        memcpy(e->src, src, e->len);
    e->src[e->len] = '\0';
    int rc = 0;
    if (len > WF_EXPR_MAX_LEN)
        rc = fail_at(e, 0, err, errlen, ERR_TOO_BIG, "expression longer than %d bytes",
                     WF_EXPR_MAX_LEN);
    struct lexer lx = {.e = e, .err = err, .errlen = errlen};
    if (rc == 0)
        rc = lex(&lx);
    if (rc == 0 && lx.n == 1)
        rc = fail_at(e, 0, err, errlen, ERR_INVALID, "empty expression");
    if (rc == 0) {
        struct parser p = {.e = e, .toks = lx.toks, .err = err, .errlen = errlen};
        rc = parse_expr(&p, &e->root);
        if (rc == 0 && peek(&p)->kind != TK_END)
            rc = fail_tok(&p, "expected an operator or the end");
    }
    free_tokens(lx.toks, lx.n);
    if (rc != 0) {
        wf_expr_free(e);
        return rc;
    }
    *out = e;
    return 0;
}

int wf_expr_compile(const char *src, size_t len, struct wf_expr **out, char *err, size_t errlen)
{
    return wf_expr_compile_at(src, len, 0, 0, out, err, errlen);
}

void wf_expr_free(struct wf_expr *e)
{
    if (!e)
        return;
    for (struct node *n = e->nodes, *next; n; n = next) {
        next = n->next_alloc;
        cJSON_Delete(n->lit);
        free(n->name);
        free(n->kids);
        free(n);
    }
    free(e->src);
    free(e);
}

/* ---- values ----------------------------------------------------------------------------- */

bool wf_expr_truthy(const cJSON *v)
{
    if (!v || cJSON_IsNull(v) || cJSON_IsFalse(v))
        return false;
    if (cJSON_IsNumber(v))
        return v->valuedouble != 0;
    if (cJSON_IsString(v))
        return v->valuestring[0] != '\0';
    if (cJSON_IsArray(v) || cJSON_IsObject(v))
        return v->child != NULL;
    return true;
}

int wf_expr_print(struct buf *out, const cJSON *v)
{
    if (!v || cJSON_IsNull(v))
        return 0;
    if (cJSON_IsString(v))
        return buf_append_str(out, v->valuestring);
    if (cJSON_IsBool(v))
        return buf_append_str(out, cJSON_IsTrue(v) ? "True" : "False");
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (!isfinite(d))
            return buf_append_str(out, isnan(d) ? "nan" : d > 0 ? "inf" : "-inf");
        char tmp[32];
        snprintf(tmp, sizeof tmp, "%.15g", d);
        if (strtod(tmp, NULL) != d)
            snprintf(tmp, sizeof tmp, "%.17g", d);
        return buf_append_str(out, tmp);
    }
    char *s = cJSON_PrintUnformatted(v);
    int rc = s ? buf_append_str(out, s) : ERR_INVALID;
    free(s);
    return rc;
}

/* A value during evaluation: borrowed (own NULL) or owned (own == v). v NULL means null. */
struct val {
    const cJSON *v;
    cJSON *own;
};

struct ev {
    const struct wf_expr *e;
    const struct wf_scope *scope;
    long *steps_left; /* the caller's budget, spent as evaluation goes */
    char *err;
    size_t errlen;
};

static void val_drop(struct val *x)
{
    cJSON_Delete(x->own);
    x->v = NULL;
    x->own = NULL;
}

static void val_set_owned(struct val *x, cJSON *j)
{
    x->v = j;
    x->own = j;
}

/* Hands the value over as an owned tree (copying a borrowed one). */
static cJSON *val_take(struct val *x)
{
    cJSON *j = x->own ? x->own : x->v ? cJSON_Duplicate(x->v, true) : cJSON_CreateNull();
    x->v = NULL;
    x->own = NULL;
    return j;
}

/* Replaces base by its part m (a member or element of base->v, or NULL). */
static void val_narrow(struct val *base, const cJSON *m)
{
    if (base->own) {
        cJSON *part = m ? cJSON_DetachItemViaPointer(base->own, (cJSON *)m) : NULL;
        cJSON_Delete(base->own);
        val_set_owned(base, part);
    } else {
        base->v = m;
    }
}

static int eval(struct ev *ev, const struct node *n, struct val *out);

static int eval_fail(struct ev *ev, const struct node *n, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int eval_fail(struct ev *ev, const struct node *n, int code, const char *fmt, ...)
{
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return fail_at(ev->e, n->off, ev->err, ev->errlen, code, "%s", msg);
}

static int spend(struct ev *ev, const struct node *n, long steps)
{
    *ev->steps_left -= steps;
    if (*ev->steps_left < 0)
        return eval_fail(ev, n, ERR_TOO_BIG, "%s", WF_EXPR_BUDGET_SPENT);
    return 0;
}

/* Work proportional to the size of a value (copying, comparing, printing it) costs one step per
 * node, so large data cannot make a short expression slow. */
static int spend_on(struct ev *ev, const struct node *n, const cJSON *a, const cJSON *b)
{
    long limit = *ev->steps_left + 1;
    return spend(ev, n, wf_value_weight(a, limit) + wf_value_weight(b, limit));
}

static int eval_var(struct ev *ev, const struct node *n, struct val *out)
{
    for (const struct wf_scope *s = ev->scope; s; s = s->parent) {
        const cJSON *v =
            cJSON_IsObject(s->vars) ? cJSON_GetObjectItemCaseSensitive(s->vars, n->name) : NULL;
        if (v) {
            out->v = v;
            return 0;
        }
    }
    return 0;
}

static int eval_index(struct ev *ev, const struct node *n, struct val *base)
{
    struct val idx = {0};
    int rc = eval(ev, n->kids[1], &idx);
    if (rc != 0)
        return rc;
    const cJSON *b = base->v, *i = idx.v, *m = NULL;
    if (cJSON_IsArray(b) && cJSON_IsNumber(i) && i->valuedouble == floor(i->valuedouble)) {
        double k = i->valuedouble, size = cJSON_GetArraySize(b);
        if (k < 0)
            k += size;
        m = k >= 0 && k < size ? cJSON_GetArrayItem(b, (int)k) : NULL;
    } else if (cJSON_IsObject(b) && cJSON_IsString(i)) {
        m = cJSON_GetObjectItemCaseSensitive(b, i->valuestring);
    } else if (b && !cJSON_IsNull(b)) {
        rc = eval_fail(ev, n, ERR_INVALID, "cannot index a %s with a %s%s", wf_value_type(b),
                       wf_value_type(i),
                       cJSON_IsArray(b)    ? " (lists take whole numbers)"
                       : cJSON_IsObject(b) ? " (objects take strings)"
                                           : "");
    }
    val_drop(&idx);
    if (rc == 0)
        val_narrow(base, m);
    return rc;
}

static int eval_method(struct ev *ev, const struct node *n, struct val *base)
{
    const cJSON *b = base->v;
    int rc = spend_on(ev, n, b, NULL);
    if (rc != 0)
        return rc;
    if (b && !cJSON_IsNull(b) && !cJSON_IsObject(b))
        return eval_fail(ev, n, ERR_INVALID, "%s() needs an object, got %s", n->name,
                         wf_value_type(b));
    cJSON *res = cJSON_CreateArray();
    int count = 0;
    for (const cJSON *x = b ? b->child : NULL; x; x = x->next, count++) {
        cJSON *key = cJSON_CreateString(x->string);
        if (n->name[0] == 'k') {
            cJSON_AddItemToArray(res, key);
            continue;
        }
        cJSON *value = cJSON_Duplicate(x, true);
        if (n->name[0] == 'v') {
            cJSON_Delete(key);
            cJSON_AddItemToArray(res, value);
            continue;
        }
        cJSON *pair = cJSON_CreateArray();
        cJSON_AddItemToArray(pair, key);
        cJSON_AddItemToArray(pair, value);
        cJSON_AddItemToArray(res, pair);
    }
    val_drop(base);
    val_set_owned(base, res);
    return spend(ev, n, count);
}

static int eval_collection(struct ev *ev, const struct node *n, struct val *out)
{
    bool dict = n->kind == N_DICT;
    cJSON *res = dict ? cJSON_CreateObject() : cJSON_CreateArray();
    int rc = 0;
    for (size_t i = 0; i < n->nkids && rc == 0; i += dict ? 2 : 1) {
        struct val k = {0}, v = {0};
        rc = eval(ev, n->kids[i], dict ? &k : &v);
        if (rc == 0 && dict && !cJSON_IsString(k.v))
            rc = eval_fail(ev, n->kids[i], ERR_INVALID, "object keys must be strings, got %s",
                           wf_value_type(k.v));
        if (rc == 0 && dict)
            rc = eval(ev, n->kids[i + 1], &v);
        if (rc == 0 && !v.own)
            rc = spend_on(ev, n, v.v, NULL);
        if (rc == 0 && dict) {
            cJSON_DeleteItemFromObjectCaseSensitive(res, k.v->valuestring);
            cJSON_AddItemToObject(res, k.v->valuestring, val_take(&v));
        } else if (rc == 0) {
            cJSON_AddItemToArray(res, val_take(&v));
        }
        val_drop(&k);
        val_drop(&v);
    }
    if (rc != 0)
        cJSON_Delete(res);
    else
        val_set_owned(out, res);
    return rc;
}

/* Builds a string value from b (freed here), within the string cap. */
static int string_result(struct ev *ev, const struct node *n, struct buf *b, int rc,
                         struct val *out)
{
    if (rc != 0) {
        buf_free(b);
        return eval_fail(ev, n, ERR_TOO_BIG, "text longer than %d bytes", WF_EXPR_MAX_STRING);
    }
    val_set_owned(out, cJSON_CreateString(b->data ? b->data : ""));
    buf_free(b);
    return 0;
}

static int arith_join(struct ev *ev, const struct node *n, const cJSON *a, const cJSON *b,
                      struct val *out)
{
    int rc = spend_on(ev, n, a, b);
    if (rc != 0)
        return rc;
    if (cJSON_IsArray(a) && cJSON_IsArray(b)) {
        long total = (long)cJSON_GetArraySize(a) + cJSON_GetArraySize(b);
        if (total > WF_EXPR_MAX_ITEMS)
            return eval_fail(ev, n, ERR_TOO_BIG, "list longer than %d elements", WF_EXPR_MAX_ITEMS);
        cJSON *res = cJSON_Duplicate(a, true);
        for (const cJSON *x = b->child; x; x = x->next)
            cJSON_AddItemToArray(res, cJSON_Duplicate(x, true));
        val_set_owned(out, res);
        return 0;
    }
    struct buf s;
    buf_init(&s, WF_EXPR_MAX_STRING);
    rc = wf_expr_print(&s, a);
    if (rc == 0)
        rc = wf_expr_print(&s, b);
    return string_result(ev, n, &s, rc, out);
}

static int eval_arith(struct ev *ev, const struct node *n, const cJSON *a, const cJSON *b,
                      struct val *out)
{
    char op = n->op[0];
    bool both_str = cJSON_IsString(a) && cJSON_IsString(b);
    if (op == '~' || (op == '+' && (both_str || (cJSON_IsArray(a) && cJSON_IsArray(b)))))
        return arith_join(ev, n, a, b, out);
    if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b))
        return eval_fail(ev, n, ERR_INVALID, "'%s' needs two numbers%s, got %s and %s", n->op,
                         op == '+' ? " (or two strings, or two lists)" : "", wf_value_type(a),
                         wf_value_type(b));
    double x = a->valuedouble, y = b->valuedouble, r;
    if ((op == '/' || op == '%') && y == 0)
        return eval_fail(ev, n, ERR_INVALID, "division by zero");
    switch (op) {
    case '+':
        r = x + y;
        break;
    case '-':
        r = x - y;
        break;
    case '*':
        r = x * y;
        break;
    case '/':
        r = x / y;
        break;
    default:
        /* Python's modulo: the result takes the sign of the divisor. */
        r = fmod(x, y);
        if (r != 0 && (r < 0) != (y < 0))
            r += y;
        break;
    }
    if (!isfinite(r)) /* JSON has no infinity or NaN: 1e300 * 1e300 is an error, not null */
        return eval_fail(ev, n, ERR_INVALID, "'%s' gives a number out of range", n->op);
    val_set_owned(out, cJSON_CreateNumber(r));
    return 0;
}

static int eval_cmp(struct ev *ev, const struct node *n, const cJSON *a, const cJSON *b,
                    struct val *out)
{
    bool r;
    if (strcmp(n->op, "==") == 0 || strcmp(n->op, "!=") == 0) {
        int rc = spend_on(ev, n, a, b);
        if (rc != 0)
            return rc;
        r = wf_value_equal(a, b) == (n->op[0] == '=');
    } else {
        int c;
        if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
            c = (a->valuedouble > b->valuedouble) - (a->valuedouble < b->valuedouble);
        else if (cJSON_IsString(a) && cJSON_IsString(b))
            c = strcmp(a->valuestring, b->valuestring);
        else
            return eval_fail(ev, n, ERR_INVALID,
                             "'%s' needs two numbers or two strings, got %s and %s", n->op,
                             wf_value_type(a), wf_value_type(b));
        r = n->op[0] == '<' ? (n->op[1] ? c <= 0 : c < 0) : (n->op[1] ? c >= 0 : c > 0);
    }
    val_set_owned(out, cJSON_CreateBool(r));
    return 0;
}

static int eval_contains(struct ev *ev, const struct node *n, const cJSON *hay, const cJSON *needle,
                         struct val *out)
{
    bool r = false;
    if (cJSON_IsString(hay) || cJSON_IsObject(hay)) {
        if (!cJSON_IsString(needle))
            return eval_fail(ev, n, ERR_INVALID, "'%s' on a %s needs a string, got %s", n->opname,
                             wf_value_type(hay), wf_value_type(needle));
        r = cJSON_IsString(hay)
                ? strstr(hay->valuestring, needle->valuestring) != NULL
                : cJSON_GetObjectItemCaseSensitive(hay, needle->valuestring) != NULL;
    } else if (cJSON_IsArray(hay)) {
        int rc = spend_on(ev, n, hay, needle);
        if (rc != 0)
            return rc;
        for (const cJSON *x = hay->child; x && !r; x = x->next)
            r = wf_value_equal(x, needle);
    } else if (hay && !cJSON_IsNull(hay)) {
        return eval_fail(ev, n, ERR_INVALID, "'%s' needs a string, list or object, got %s",
                         n->opname, wf_value_type(hay));
    }
    val_set_owned(out, cJSON_CreateBool(r != n->negate));
    return 0;
}

/* Operators with two evaluated operands. */
static int eval_binary(struct ev *ev, const struct node *n, struct val *out)
{
    struct val a = {0}, b = {0};
    int rc = eval(ev, n->kids[0], &a);
    if (rc == 0)
        rc = eval(ev, n->kids[1], &b);
    if (rc == 0 && n->kind == N_ARITH)
        rc = eval_arith(ev, n, a.v, b.v, out);
    else if (rc == 0 && n->kind == N_CMP)
        rc = eval_cmp(ev, n, a.v, b.v, out);
    else if (rc == 0)
        rc = eval_contains(ev, n, a.v, b.v, out);
    val_drop(&a);
    val_drop(&b);
    return rc;
}

static int eval_filter_call(struct ev *ev, const struct node *n, struct val *out)
{
    struct val in = {0}, args[WF_FILTER_MAX_PARAMS] = {{0}};
    struct wf_filter_arg slots[WF_FILTER_MAX_PARAMS] = {{0}};
    int rc = eval(ev, n->kids[0], &in);
    for (int i = 0; i < WF_FILTER_MAX_PARAMS && rc == 0; i++) {
        if (!n->kids[1 + i])
            continue;
        rc = eval(ev, n->kids[1 + i], &args[i]);
        slots[i] = (struct wf_filter_arg){.value = args[i].v, .set = true};
    }
    /* A filter's work grows with its input and arguments. */
    for (int i = 0; i < WF_FILTER_MAX_PARAMS && rc == 0; i++)
        rc = spend_on(ev, n, args[i].v, NULL);
    if (rc == 0)
        rc = spend_on(ev, n, in.v, NULL);
    cJSON *res = NULL;
    if (rc == 0) {
        char msg[256] = "";
        struct wf_filter_ctx cx = {.steps_left = ev->steps_left, .err = msg, .errlen = sizeof msg};
        rc = n->filter->fn(&cx, in.v, slots, &res);
        if (rc != 0)
            rc = eval_fail(ev, n, rc, "%s", msg);
        else
            val_set_owned(out, res);
    }
    val_drop(&in);
    for (int i = 0; i < WF_FILTER_MAX_PARAMS; i++)
        val_drop(&args[i]);
    return rc;
}

static int eval_test(struct ev *ev, const struct node *n, struct val *out)
{
    struct val v = {0}, arg = {0};
    int rc = eval(ev, n->kids[0], &v);
    if (rc == 0 && n->nkids > 1)
        rc = eval(ev, n->kids[1], &arg);
    bool r = false;
    if (rc == 0) {
        char msg[256] = "";
        struct wf_filter_ctx cx = {.steps_left = ev->steps_left, .err = msg, .errlen = sizeof msg};
        rc = n->test->fn(&cx, v.v, arg.v, &r);
        if (rc != 0)
            rc = eval_fail(ev, n, rc, "%s", msg);
    }
    if (rc == 0)
        val_set_owned(out, cJSON_CreateBool(r != n->negate));
    val_drop(&v);
    val_drop(&arg);
    return rc;
}

/* and/or give one of their operands, as Jinja does; cond gives a branch. */
static int eval_choice(struct ev *ev, const struct node *n, struct val *out)
{
    const struct node *first = n->kind == N_COND ? n->kids[1] : n->kids[0];
    struct val a = {0};
    int rc = eval(ev, first, &a);
    if (rc != 0)
        return rc;
    bool t = wf_expr_truthy(a.v);
    if (n->kind == N_COND) {
        val_drop(&a);
        const struct node *pick = t ? n->kids[0] : n->kids[2];
        return pick ? eval(ev, pick, out) : 0;
    }
    if (t == (n->kind == N_OR)) {
        *out = a;
        return 0;
    }
    val_drop(&a);
    return eval(ev, n->kids[1], out);
}

static int eval_unary(struct ev *ev, const struct node *n, struct val *out)
{
    struct val a = {0};
    int rc = eval(ev, n->kids[0], &a);
    if (rc == 0 && n->kind == N_NOT) {
        val_set_owned(out, cJSON_CreateBool(!wf_expr_truthy(a.v)));
    } else if (rc == 0 && !cJSON_IsNumber(a.v)) {
        rc = eval_fail(ev, n, ERR_INVALID, "unary '-' needs a number, got %s", wf_value_type(a.v));
    } else if (rc == 0) {
        val_set_owned(out, cJSON_CreateNumber(-a.v->valuedouble));
    }
    val_drop(&a);
    return rc;
}

static int eval_access(struct ev *ev, const struct node *n, struct val *out)
{
    int rc = eval(ev, n->kids[0], out);
    if (rc != 0)
        return rc;
    if (n->kind == N_INDEX)
        return eval_index(ev, n, out);
    if (n->kind == N_METHOD)
        return eval_method(ev, n, out);
    val_narrow(out,
               cJSON_IsObject(out->v) ? cJSON_GetObjectItemCaseSensitive(out->v, n->name) : NULL);
    return 0;
}

/* On failure out is left null (nothing owned). */
static int eval(struct ev *ev, const struct node *n, struct val *out)
{
    *out = (struct val){0};
    int rc = spend(ev, n, 1);
    if (rc != 0)
        return rc;
    switch (n->kind) {
    case N_LIT:
        out->v = n->lit;
        return 0;
    case N_VAR:
        return eval_var(ev, n, out);
    case N_ATTR:
    case N_INDEX:
    case N_METHOD:
        rc = eval_access(ev, n, out);
        break;
    case N_LIST:
    case N_DICT:
        return eval_collection(ev, n, out);
    case N_NOT:
    case N_NEG:
        return eval_unary(ev, n, out);
    case N_AND:
    case N_OR:
    case N_COND:
        return eval_choice(ev, n, out);
    case N_ARITH:
    case N_CMP:
    case N_CONTAINS:
        return eval_binary(ev, n, out);
    case N_TEST:
        return eval_test(ev, n, out);
    case N_FILTER:
        return eval_filter_call(ev, n, out);
    }
    if (rc != 0)
        val_drop(out);
    return rc;
}

int wf_expr_eval_budget(const struct wf_expr *e, const struct wf_scope *scope, long *steps_left,
                        cJSON **out, char *err, size_t errlen)
{
    if (errlen > 0)
        err[0] = '\0';
    struct ev ev = {.e = e, .scope = scope, .steps_left = steps_left, .err = err, .errlen = errlen};
    struct val v;
    int rc = eval(&ev, e->root, &v);
    if (rc == 0 && !v.own)
        rc = spend_on(&ev, e->root, v.v, NULL); /* handing it over copies it */
    if (rc != 0) {
        val_drop(&v);
        return rc;
    }
    *out = val_take(&v);
    return 0;
}

int wf_expr_eval_scoped(const struct wf_expr *e, const struct wf_scope *scope, cJSON **out,
                        char *err, size_t errlen)
{
    long steps = WF_EXPR_MAX_STEPS;
    return wf_expr_eval_budget(e, scope, &steps, out, err, errlen);
}

int wf_expr_eval(const struct wf_expr *e, const cJSON *scope, cJSON **out, char *err, size_t errlen)
{
    struct wf_scope s = {.vars = scope, .parent = NULL};
    return wf_expr_eval_scoped(e, &s, out, err, errlen);
}

int wf_expr_eval_bool(const struct wf_expr *e, const cJSON *scope, bool *out, char *err,
                      size_t errlen)
{
    cJSON *v;
    int rc = wf_expr_eval(e, scope, &v, err, errlen);
    if (rc == 0) {
        *out = wf_expr_truthy(v);
        cJSON_Delete(v);
    }
    return rc;
}
