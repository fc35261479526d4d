#include "http/router.h"

#include "core/err.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

void http_router_init(struct http_router *r)
{
    memset(r, 0, sizeof *r);
}

/* Splits a pattern into segments that point into the (static) pattern string itself. */
static int route_compile(struct http_route *rt, const char *pattern)
{
    const char *p = pattern;
    int nparams = 0;
    if (*p != '/')
        return ERR_INVALID;
    rt->nseg = 0;
    while (*p == '/') {
        const char *s = ++p;
        while (*p && *p != '/')
            p++;
        size_t len = (size_t)(p - s);
        if (len == 0 && *p == '\0' && rt->nseg == 0)
            break; /* the root pattern "/" has no segments */
        if (len == 0 || rt->nseg == HTTP_ROUTE_MAX_SEGMENTS)
            return ERR_INVALID;
        bool param = s[0] == '{';
        if (param) {
            if (len < 3 || s[len - 1] != '}' || ++nparams > HTTP_ROUTE_MAX_PARAMS)
                return ERR_INVALID;
            s++;
            len -= 2;
        }
        rt->seg[rt->nseg] = s;
        rt->seg_len[rt->nseg] = len;
        rt->seg_is_param[rt->nseg] = param;
        rt->nseg++;
    }
    return *p == '\0' ? 0 : ERR_INVALID;
}

int http_router_add(struct http_router *r, const char *method, const char *pattern,
                    http_handler_fn handler, void *data)
{
    return http_router_add_limit(r, method, pattern, handler, data, 0);
}

static int route_add(struct http_router *r, const char *method, const char *pattern,
                     http_handler_fn handler, void *data, size_t max_body, bool fallback)
{
    for (int i = 0; i < r->nroutes; i++) {
        const struct http_route *o = &r->routes[i];
        if (strcmp(o->method, method) == 0 &&
            (fallback ? o->fallback : !o->fallback && strcmp(o->pattern, pattern) == 0))
            return ERR_EXISTS;
    }
    if (r->nroutes == HTTP_ROUTER_MAX_ROUTES)
        return ERR_TOO_BIG;
    struct http_route *rt = &r->routes[r->nroutes];
    memset(rt, 0, sizeof *rt);
    int rc = route_compile(rt, pattern);
    if (rc)
        return rc;
    rt->method = method;
    rt->pattern = pattern;
    rt->handler = handler;
    rt->data = data;
    rt->max_body = max_body;
    rt->fallback = fallback;
    rt->index = r->nroutes++;
    return 0;
}

int http_router_add_limit(struct http_router *r, const char *method, const char *pattern,
                          http_handler_fn handler, void *data, size_t max_body)
{
    return route_add(r, method, pattern, handler, data, max_body, false);
}

int http_router_add_fallback(struct http_router *r, const char *method, const char *label,
                             http_handler_fn handler, void *data)
{
    return route_add(r, method, label, handler, data, 0, true);
}

/* Compares path segments against one route; fills params on success. An empty path segment
 * ("//" or a trailing "/") never matches, so "/health/" is a 404 rather than an alias. */
static bool route_matches(const struct http_route *rt, const char *path, size_t path_len,
                          struct http_route_match *m)
{
    size_t pos = 0;
    int np = 0;
    if (path_len == 0 || path[0] != '/')
        return false;
    if (rt->nseg == 0) {
        m->route = rt;
        return path_len == 1;
    }
    for (int i = 0; i < rt->nseg; i++) {
        if (pos >= path_len || path[pos] != '/')
            return false;
        size_t s = ++pos;
        while (pos < path_len && path[pos] != '/')
            pos++;
        size_t len = pos - s;
        if (len == 0)
            return false;
        if (rt->seg_is_param[i]) {
            m->param_name[np] = rt->seg[i];
            m->param_name_len[np] = rt->seg_len[i];
            m->param[np] = path + s;
            m->param_len[np] = len;
            np++;
        } else if (len != rt->seg_len[i] || memcmp(path + s, rt->seg[i], len) != 0) {
            return false;
        }
    }
    if (pos != path_len)
        return false;
    m->nparams = np;
    m->route = rt;
    return true;
}

static bool method_matches(const char *route_method, const char *method)
{
    return strcmp(route_method, method) == 0 ||
           (strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0);
}

enum http_route_result http_router_match(const struct http_router *r, const char *method,
                                         const char *path, size_t path_len,
                                         struct http_route_match *m, char *allow, size_t allow_len)
{
    bool path_seen = false;
    const struct http_route *fallback = NULL;
    size_t used = 0;
    struct http_route_match tmp;
    if (allow && allow_len)
        allow[0] = '\0';
    for (int i = 0; i < r->nroutes; i++) {
        const struct http_route *rt = &r->routes[i];
        if (rt->fallback) {
            if (!fallback && method_matches(rt->method, method))
                fallback = rt;
            continue;
        }
        memset(&tmp, 0, sizeof tmp);
        if (!route_matches(rt, path, path_len, &tmp))
            continue;
        if (method_matches(rt->method, method)) {
            *m = tmp;
            return HTTP_ROUTE_FOUND;
        }
        if (allow && allow_len) {
            int n =
                snprintf(allow + used, allow_len - used, "%s%s", path_seen ? ", " : "", rt->method);
            if (n > 0 && (size_t)n < allow_len - used)
                used += (size_t)n;
        }
        path_seen = true;
    }
    if (path_seen)
        return HTTP_ROUTE_WRONG_METHOD;
    if (fallback && path_len > 0 && path[0] == '/') {
        memset(m, 0, sizeof *m);
        m->route = fallback;
        return HTTP_ROUTE_FOUND;
    }
    return HTTP_ROUTE_NOT_FOUND;
}
