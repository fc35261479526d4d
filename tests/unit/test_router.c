/* Unit tests of the router: literal and parameter segments, 404 vs 405, HEAD, bad patterns. */
#include "core/err.h"
#include "http/router.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static void h(struct http_request *req, void *data)
{
    (void)req;
    (void)data;
}

static enum http_route_result match(const struct http_router *r, const char *method,
                                    const char *path, struct http_route_match *m, char *allow)
{
    return http_router_match(r, method, path, strlen(path), m, allow, 128);
}

static void test_literal_and_params(void **state)
{
    (void)state;
    struct http_router r;
    struct http_route_match m;
    char allow[128];
    http_router_init(&r);
    assert_int_equal(http_router_add(&r, "GET", "/health", h, NULL), 0);
    assert_int_equal(http_router_add(&r, "POST", "/v1/chatkit/sessions/{id}/cancel", h, NULL), 0);
    assert_int_equal(http_router_add(&r, "GET", "/", h, NULL), 0);
    assert_int_equal(match(&r, "GET", "/health", &m, allow), HTTP_ROUTE_FOUND);
    assert_string_equal(m.route->pattern, "/health");
    assert_int_equal(match(&r, "POST", "/v1/chatkit/sessions/cksess_1/cancel", &m, allow),
                     HTTP_ROUTE_FOUND);
    assert_int_equal(m.nparams, 1);
    assert_int_equal(m.param_len[0], 8);
    assert_memory_equal(m.param[0], "cksess_1", 8);
    assert_memory_equal(m.param_name[0], "id", 2);
    assert_int_equal(match(&r, "GET", "/", &m, allow), HTTP_ROUTE_FOUND);
    assert_string_equal(m.route->pattern, "/");
}

static void test_not_found_cases(void **state)
{
    (void)state;
    struct http_router r;
    struct http_route_match m;
    char allow[128];
    http_router_init(&r);
    http_router_add(&r, "GET", "/health", h, NULL);
    http_router_add(&r, "GET", "/items/{id}", h, NULL);
    const char *paths[] = {"/healthz", "/health/",   "/Health", "//health", "/items/",
                           "/items",   "/items/a/b", "",        "health",   "/"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        assert_int_equal(match(&r, "GET", paths[i], &m, allow), HTTP_ROUTE_NOT_FOUND);
}

static void test_wrong_method_lists_allowed(void **state)
{
    (void)state;
    struct http_router r;
    struct http_route_match m;
    char allow[128];
    http_router_init(&r);
    http_router_add(&r, "GET", "/api/tasks/{id}", h, NULL);
    http_router_add(&r, "PATCH", "/api/tasks/{id}", h, NULL);
    http_router_add(&r, "DELETE", "/api/tasks/{id}", h, NULL);
    assert_int_equal(match(&r, "POST", "/api/tasks/t1", &m, allow), HTTP_ROUTE_WRONG_METHOD);
    assert_string_equal(allow, "GET, PATCH, DELETE");
    assert_int_equal(match(&r, "HEAD", "/api/tasks/t1", &m, allow), HTTP_ROUTE_FOUND);
    assert_string_equal(m.route->method, "GET");
}

static void test_bad_patterns(void **state)
{
    (void)state;
    struct http_router r;
    http_router_init(&r);
    assert_int_equal(http_router_add(&r, "GET", "health", h, NULL), ERR_INVALID);
    assert_int_equal(http_router_add(&r, "GET", "/a//b", h, NULL), ERR_INVALID);
    assert_int_equal(http_router_add(&r, "GET", "/a/{}", h, NULL), ERR_INVALID);
    assert_int_equal(http_router_add(&r, "GET", "/a/{x", h, NULL), ERR_INVALID);
    assert_int_equal(http_router_add(&r, "GET", "/{a}/{b}/{c}/{d}/{e}", h, NULL), ERR_INVALID);
    assert_int_equal(http_router_add(&r, "GET", "/ok", h, NULL), 0);
    assert_int_equal(http_router_add(&r, "GET", "/ok", h, NULL), ERR_EXISTS);
    assert_int_equal(r.nroutes, 1);
}

static void test_table_full(void **state)
{
    (void)state;
    static char patterns[HTTP_ROUTER_MAX_ROUTES + 1][16];
    struct http_router r;
    http_router_init(&r);
    for (int i = 0; i < HTTP_ROUTER_MAX_ROUTES; i++) {
        snprintf(patterns[i], sizeof patterns[i], "/r%d", i);
        assert_int_equal(http_router_add(&r, "GET", patterns[i], h, NULL), 0);
    }
    assert_int_equal(http_router_add(&r, "GET", "/one-more", h, NULL), ERR_TOO_BIG);
    struct http_route_match m;
    char allow[128];
    assert_int_equal(match(&r, "GET", "/r63", &m, allow), HTTP_ROUTE_FOUND);
    assert_int_equal(m.route->index, 63);
}

static void h2(struct http_request *req, void *data)
{
    (void)req;
    (void)data;
}

/* The fallback answers only paths nothing else matches, only for its method (and HEAD for GET),
 * and never turns a 405 into a fallback answer. */
static void test_fallback(void **state)
{
    (void)state;
    struct http_router r;
    struct http_route_match m;
    char allow[128];
    http_router_init(&r);
    assert_int_equal(http_router_add(&r, "GET", "/health", h, NULL), 0);
    assert_int_equal(http_router_add(&r, "POST", "/chatkit", h, NULL), 0);
    assert_int_equal(http_router_add_fallback(&r, "GET", "/{asset}", h2, NULL), 0);
    assert_int_equal(http_router_add_fallback(&r, "GET", "/{other}", h2, NULL), ERR_EXISTS);
    assert_int_equal(match(&r, "GET", "/health", &m, allow), HTTP_ROUTE_FOUND);
    assert_ptr_equal(m.route->handler, h);
    const char *paths[] = {"/app-ABCD1234.js", "/assets/a/b.css", "/", "/health/", "/%2e%2e"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        assert_int_equal(match(&r, "GET", paths[i], &m, allow), HTTP_ROUTE_FOUND);
        assert_ptr_equal(m.route->handler, h2);
        assert_int_equal(m.nparams, 0);
        assert_int_equal(match(&r, "HEAD", paths[i], &m, allow), HTTP_ROUTE_FOUND);
        assert_ptr_equal(m.route->handler, h2);
        assert_int_equal(match(&r, "POST", paths[i], &m, allow), HTTP_ROUTE_NOT_FOUND);
    }
    assert_int_equal(match(&r, "GET", "/chatkit", &m, allow), HTTP_ROUTE_WRONG_METHOD);
    assert_string_equal(allow, "POST");
    assert_int_equal(match(&r, "GET", "", &m, allow), HTTP_ROUTE_NOT_FOUND);
    assert_int_equal(match(&r, "GET", "x", &m, allow), HTTP_ROUTE_NOT_FOUND);
    /* An ordinary route with the label's pattern is not a duplicate of the fallback. */
    assert_int_equal(http_router_add(&r, "GET", "/{asset}", h, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal_and_params),
        cmocka_unit_test(test_not_found_cases),
        cmocka_unit_test(test_wrong_method_lists_allowed),
        cmocka_unit_test(test_bad_patterns),
        cmocka_unit_test(test_table_full),
        cmocka_unit_test(test_fallback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
