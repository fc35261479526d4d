/* router.h - maps (method, path) to a handler, with {name} path parameters.
 *
 * Patterns are literal segments and whole-segment parameters: "/v1/chatkit/sessions/{id}/cancel".
 * Matching is exact per segment (no prefixes, no globs), so route order never matters. A path
 * that matches a pattern under another method yields HTTP_ROUTE_WRONG_METHOD, and the allowed
 * methods, for a 405. HEAD is served by the GET route of the same path.
 */
#ifndef CHATKITD_HTTP_ROUTER_H
#define CHATKITD_HTTP_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_ROUTE_MAX_PARAMS   4
#define HTTP_ROUTE_MAX_SEGMENTS 12
#define HTTP_ROUTER_MAX_ROUTES  64

struct http_request;
typedef void (*http_handler_fn)(struct http_request *req, void *data);

struct http_route {
    const char *method;  /* "GET", "POST", ... (static string) */
    const char *pattern; /* "/api/tasks/{id}" (static string; also the metrics label) */
    http_handler_fn handler;
    void *data;      /* passed to the handler; not owned */
    size_t max_body; /* request body limit of this route; 0 = the server's max_body_bytes */
    int nseg;
    const char *seg[HTTP_ROUTE_MAX_SEGMENTS]; /* points into seg_store */
    size_t seg_len[HTTP_ROUTE_MAX_SEGMENTS];
    unsigned char seg_is_param[HTTP_ROUTE_MAX_SEGMENTS];
    int index;     /* position in the router, for per-route metrics */
    bool fallback; /* answers paths no other route matches (http_router_add_fallback) */
};

struct http_router {
    struct http_route routes[HTTP_ROUTER_MAX_ROUTES];
    int nroutes;
};

/* A parameter's value is a view into the request path, still percent-encoded. */
struct http_route_match {
    const struct http_route *route;
    int nparams;
    const char *param_name[HTTP_ROUTE_MAX_PARAMS];
    size_t param_name_len[HTTP_ROUTE_MAX_PARAMS];
    const char *param[HTTP_ROUTE_MAX_PARAMS];
    size_t param_len[HTTP_ROUTE_MAX_PARAMS];
};

enum http_route_result { HTTP_ROUTE_FOUND, HTTP_ROUTE_NOT_FOUND, HTTP_ROUTE_WRONG_METHOD };

void http_router_init(struct http_router *r);
/* Adds a route. ERR_INVALID for a malformed pattern (not starting with '/', too many segments or
 * params), ERR_TOO_BIG when the table is full, ERR_EXISTS for a duplicate method + pattern. */
int http_router_add(struct http_router *r, const char *method, const char *pattern,
                    http_handler_fn handler, void *data);
/* Like http_router_add, with the route's own request body limit (0 = the server default): the
 * connection layer checks a body for this route against max_body instead (uploads). */
int http_router_add_limit(struct http_router *r, const char *method, const char *pattern,
                          http_handler_fn handler, void *data, size_t max_body);
/* Adds the route that answers method (and HEAD, for GET) on every path no other route matches:
 * static files, whose names are not known when routes are registered. label is a pattern used
 * only as the metrics label (e.g. "/{asset}"); the handler gets no path parameters. Other methods
 * on unmatched paths still yield HTTP_ROUTE_NOT_FOUND. One fallback per method; errors as for
 * http_router_add. */
int http_router_add_fallback(struct http_router *r, const char *method, const char *label,
                             http_handler_fn handler, void *data);
/* Matches path (no query string). On WRONG_METHOD, allow (if not NULL) receives a
 * comma-separated list of the path's methods, e.g. "GET, DELETE" (allow_len bytes max). */
enum http_route_result http_router_match(const struct http_router *r, const char *method,
                                         const char *path, size_t path_len,
                                         struct http_route_match *m, char *allow, size_t allow_len);

#endif
