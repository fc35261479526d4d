/* Unit tests of the UI's static files: the header helpers (Accept-Encoding, If-None-Match, names,
 * paths), embedded answers through the whole request layer (ETag/304, gzip negotiation and the
 * one-time inflate, HEAD, cache headers, CSP, 404, config.json, hosted mode), start-up checks,
 * and directory mode with traversal attempts (dot segments, encoded dots, symlinks out). */
#include "core/err.h"
#include "http/router.h"
#include "http/server.h"
#include "http_mem.h"
#include "ui/static.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

static const char INDEX[] = "<!doctype html><html><head><title>chatkitd</title>"
                            "<script type=module src=/app-ABCD2345.js></script></head>"
                            "<body><chatkit-chat></chatkit-chat></body></html>";
static const char APP_JS[] = "console.log('app');";
static const unsigned char PNG[] = {0x89, 'P', 'N', 'G', 1, 2, 3};

struct fixture {
    uv_loop_t loop;
    struct logger log;
    FILE *logf;
    struct http_router router;
    struct http_server server;
    struct ui_static ui;
    unsigned char *index_gz; /* owned */
    size_t index_gz_len;
    struct ui_asset assets[3];
    char dir[64];     /* directory-mode root (a temporary directory), "" when unused */
    char outside[80]; /* a file next to it that must stay unreachable */
};

static unsigned char *gzip_of(const void *data, size_t len, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&zs, (uLong)len) + 32;
    unsigned char *out = malloc(cap);
    zs.next_in = (unsigned char *)data;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    *out_len = zs.total_out;
    deflateEnd(&zs);
    return out;
}

static struct fixture *fixture_new(void)
{
    struct fixture *f = calloc(1, sizeof *f);
    uv_loop_init(&f->loop);
    f->logf = tmpfile();
    log_init(&f->log, f->logf, LOG_INFO, LOG_TEXT);
    http_router_init(&f->router);
    struct http_limits l;
    http_limits_default(&l);
    assert_int_equal(http_server_init(&f->server, &f->loop, &l, &f->router, &f->log, false), 0);
    f->index_gz = gzip_of(INDEX, sizeof INDEX - 1, &f->index_gz_len);
    f->assets[0] = (struct ui_asset){"/index.html",
                                     "text/html; charset=utf-8",
                                     f->index_gz,
                                     f->index_gz_len,
                                     sizeof INDEX - 1,
                                     true,
                                     false,
                                     "\"i1\""};
    f->assets[1] = (struct ui_asset){"/app-ABCD2345.js",
                                     "text/javascript; charset=utf-8",
                                     (const unsigned char *)APP_JS,
                                     sizeof APP_JS - 1,
                                     sizeof APP_JS - 1,
                                     false,
                                     true,
                                     "\"a1\""};
    f->assets[2] = (struct ui_asset){"/img/logo.png", "image/png", PNG,   sizeof PNG,
                                     sizeof PNG,      false,       false, "\"p1\""};
    return f;
}

/* Starts the module with hosted mode and an optional directory. */
static void start(struct fixture *f, bool hosted, const char *dir)
{
    char err[256] = "";
    struct ui_static_config c = {.loop = &f->loop,
                                 .log = &f->log,
                                 .assets = f->assets,
                                 .nassets = 3,
                                 .dir = dir,
                                 .hosted = hosted,
                                 .chatkit_script_url = NULL};
    assert_int_equal(ui_static_init(&f->ui, &c, err, sizeof err), 0);
    assert_int_equal(ui_static_register_routes(&f->ui, &f->router), 0);
}

static int setup(void **state)
{
    struct fixture *f = fixture_new();
    start(f, false, NULL);
    *state = f;
    return 0;
}

static void closed_cb(void *data)
{
    (void)data;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    http_server_close(&f->server, closed_cb, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    ui_static_free(&f->ui);
    if (f->dir[0]) {
        char cmd[200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", f->dir, f->outside);
        assert_int_equal(system(cmd), 0);
    }
    fclose(f->logf);
    free(f->index_gz);
    free(f);
    return 0;
}

/* One exchange on a fresh connection; the whole response (head and body) is copied into out.
 * Runs the loop until the answer is complete (directory reads finish on the thread pool). */
static void exchange(struct fixture *f, const char *request, char *out, size_t outlen,
                     size_t *head_len)
{
    struct http_mem *m = http_mem_open(&f->server);
    http_mem_feed_str(m, request);
    for (int i = 0; i < 1000 && !strstr(m->out.data ? m->out.data : "", "\r\n\r\n"); i++)
        uv_run(&f->loop, UV_RUN_ONCE);
    assert_non_null(m->out.data);
    const char *end = strstr(m->out.data, "\r\n\r\n");
    assert_non_null(end);
    *head_len = (size_t)(end + 4 - m->out.data);
    assert_true(m->out.len < outlen);
    memcpy(out, m->out.data, m->out.len);
    out[m->out.len] = '\0';
    http_mem_free(m, &f->loop);
}

static bool has(const char *resp, size_t head_len, const char *line)
{
    const char *p = strstr(resp, line);
    return p && (size_t)(p - resp) < head_len;
}

/* ---- helpers ---- */

static void test_accepts_gzip(void **state)
{
    (void)state;
    const char *yes[] = {"gzip",
                         "gzip, deflate, br",
                         " br ;q=1 , GZIP;q=0.5",
                         "x-gzip",
                         "*",
                         "deflate, *;q=0.1",
                         "gzip;q=1.0"};
    const char *no[] = {"",        "identity",    "br",          "gzip;q=0",   "gzip;q=0.000",
                        "*;q=0",   "gzip;q=0, *", "*, gzip;q=0", "gzip;q=abc", "gzipx",
                        "gzip;q=2"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        assert_true(ui_accepts_gzip(yes[i], strlen(yes[i])));
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        assert_false(ui_accepts_gzip(no[i], strlen(no[i])));
}

static void test_etag_matches(void **state)
{
    (void)state;
    const char *e = "\"abc\"";
    assert_true(ui_etag_matches("\"abc\"", 5, e));
    assert_true(ui_etag_matches("W/\"abc\"", 7, e));
    assert_true(ui_etag_matches("\"x\", \"abc\"", 10, e));
    assert_true(ui_etag_matches(" * ", 3, e));
    assert_false(ui_etag_matches("\"abcd\"", 6, e));
    assert_false(ui_etag_matches("abc", 3, e));
    assert_false(ui_etag_matches("", 0, e));
    assert_false(ui_etag_matches("\"ab\"", 4, e));
}

static void test_names_and_types(void **state)
{
    (void)state;
    assert_true(ui_name_is_hashed("/app-ABCD2345.js"));
    assert_true(ui_name_is_hashed("/chunks/chunk-Z9Y8X7W6.css"));
    assert_false(ui_name_is_hashed("/index.html"));
    assert_false(ui_name_is_hashed("/app-abcd2345.js"));
    assert_false(ui_name_is_hashed("/app-ABCD234.js"));
    assert_false(ui_name_is_hashed("/appXABCD2345.js"));
    assert_false(ui_name_is_hashed("/a-ABCD2345"));
    assert_string_equal(ui_content_type("/x/app-ABCD2345.js"), "text/javascript; charset=utf-8");
    assert_string_equal(ui_content_type("/a.CSS"), "text/css; charset=utf-8");
    assert_string_equal(ui_content_type("/f.woff2"), "font/woff2");
    assert_string_equal(ui_content_type("/noext"), "application/octet-stream");
    assert_string_equal(ui_content_type("/dir.d/noext"), "application/octet-stream");
}

static void test_path_check(void **state)
{
    (void)state;
    const char *ok[] = {"/index.html", "/a/b.js", "/.well-known/x", "/a..b"};
    const char *bad[] = {"",        "x",    "/",    "//a",       "/a/",   "/..", "/../etc/passwd",
                         "/a/../b", "/./a", "/a/.", "/a\\..\\b", "/a\x01"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        assert_int_equal(ui_path_check(ok[i], strlen(ok[i])), 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ui_path_check(bad[i], strlen(bad[i])), ERR_INVALID);
}

/* ---- embedded ---- */

static void test_index_plain_and_gzip(void **state)
{
    struct fixture *f = *state;
    static char r[65536];
    size_t hl;
    exchange(f, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", r, sizeof r, &hl);
    assert_true(has(r, hl, "HTTP/1.1 200 OK\r\n"));
    assert_true(has(r, hl, "Content-Type: text/html; charset=utf-8\r\n"));
    assert_true(has(r, hl, "Content-Security-Policy: default-src 'self'\r\n"));
    assert_true(has(r, hl, "X-Content-Type-Options: nosniff\r\n"));
    assert_true(has(r, hl, "Cache-Control: no-cache\r\n"));
    assert_true(has(r, hl, "ETag: \"i1\"\r\n"));
    assert_true(has(r, hl, "Vary: Accept-Encoding\r\n"));
    assert_false(has(r, hl, "Content-Encoding"));
    assert_string_equal(r + hl, INDEX);
    assert_int_equal(f->ui.inflations, 1);
    /* /chatkit is the same page; the inflated copy is kept, not made again. */
    exchange(f, "GET /chatkit HTTP/1.1\r\n\r\n", r, sizeof r, &hl);
    assert_string_equal(r + hl, INDEX);
    assert_int_equal(f->ui.inflations, 1);
    exchange(f, "GET /chatkit HTTP/1.1\r\nAccept-Encoding: gzip, br\r\n\r\n", r, sizeof r, &hl);
    assert_true(has(r, hl, "Content-Encoding: gzip\r\n"));
    assert_true(has(r, hl, "ETag: \"i1-gz\"\r\n"));
    assert_true(has(r, hl, "Vary: Accept-Encoding\r\n"));
    char cl[64];
    snprintf(cl, sizeof cl, "Content-Length: %zu\r\n", f->index_gz_len);
    assert_true(has(r, hl, cl));
    assert_memory_equal(r + hl, f->index_gz, f->index_gz_len);
    /* gzip refused with q=0 gets the plain page */
    exchange(f, "GET /index.html HTTP/1.1\r\nAccept-Encoding: gzip;q=0, br\r\n\r\n", r, sizeof r,
             &hl);
    assert_false(has(r, hl, "Content-Encoding"));
    assert_string_equal(r + hl, INDEX);
}

static void test_etag_304(void **state)
{
    struct fixture *f = *state;
    static char r[65536];
    size_t hl;
    exchange(f, "GET / HTTP/1.1\r\nIf-None-Match: \"i1\"\r\n\r\n", r, sizeof r, &hl);
    assert_true(has(r, hl, "HTTP/1.1 304 Not Modified\r\n"));
    assert_true(has(r, hl, "ETag: \"i1\"\r\n"));
    assert_true(has(r, hl, "Content-Security-Policy: default-src 'self'\r\n"));
    assert_false(has(r, hl, "Content-Length"));
    assert_string_equal(r + hl, "");
    /* The gzip representation has its own tag. */
    exchange(f, "GET / HTTP/1.1\r\nAccept-Encoding: gzip\r\nIf-None-Match: W/\"i1-gz\"\r\n\r\n", r,
             sizeof r, &hl);
    assert_true(has(r, hl, "HTTP/1.1 304"));
    exchange(f, "GET / HTTP/1.1\r\nAccept-Encoding: gzip\r\nIf-None-Match: \"i1\"\r\n\r\n", r,
             sizeof r, &hl);
    assert_true(has(r, hl, "HTTP/1.1 200"));
    exchange(f, "GET / HTTP/1.1\r\nIf-None-Match: \"old\"\r\n\r\n", r, sizeof r, &hl);
    assert_true(has(r, hl, "HTTP/1.1 200"));
    exchange(f, "GET /app-ABCD2345.js HTTP/1.1\r\nIf-None-Match: \"zz\", \"a1\"\r\n\r\n", r,
             sizeof r, &hl);
    assert_true(has(r, hl, "HTTP/1.1 304"));
    assert_true(has(r, hl, "Cache-Control: public, max-age=31536000, immutable\r\n"));
}

static void test_head_and_assets(void **state)
{
    struct fixture *f = *state;
    static char r[65536];
    size_t hl;
    exchange(f, "HEAD /app-ABCD2345.js HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n", r, sizeof r,
             &hl);
    assert_true(has(r, hl, "HTTP/1.1 200 OK\r\n"));
    assert_true(has(r, hl, "Content-Type: text/javascript; charset=utf-8\r\n"));
    assert_true(has(r, hl, "Cache-Control: public, max-age=31536000, immutable\r\n"));
    /* stored plain (gzip would not help): no encoding, no Vary */
    assert_false(has(r, hl, "Content-Encoding"));
    assert_false(has(r, hl, "Vary"));
    char cl[64];
    snprintf(cl, sizeof cl, "Content-Length: %zu\r\n", sizeof APP_JS - 1);
    assert_true(has(r, hl, cl));
    assert_string_equal(r + hl, "");
    exchange(f, "GET /img/logo.png HTTP/1.1\r\n\r\n", r, sizeof r, &hl);
    assert_true(has(r, hl, "Content-Type: image/png\r\n"));
    assert_true(has(r, hl, "Cache-Control: no-cache\r\n"));
    assert_memory_equal(r + hl, PNG, sizeof PNG);
    exchange(f, "HEAD / HTTP/1.1\r\n\r\n", r, sizeof r, &hl);
    snprintf(cl, sizeof cl, "Content-Length: %zu\r\n", sizeof INDEX - 1);
    assert_true(has(r, hl, cl));
    assert_string_equal(r + hl, "");
}

static void test_not_found(void **state)
{
    struct fixture *f = *state;
    static char r[65536];
    size_t hl;
    const char *paths[] = {"/nope.js",           "/img/",         "/IMG/logo.png", "/%zz",
                           "/app-ABCD2345.js/x", "/%00index.html"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        char req[200];
        snprintf(req, sizeof req, "GET %s HTTP/1.1\r\n\r\n", paths[i]);
        exchange(f, req, r, sizeof r, &hl);
        assert_true(has(r, hl, "HTTP/1.1 404 Not Found\r\n"));
        assert_true(has(r, hl, "Content-Type: application/json\r\n"));
        assert_true(has(r, hl, "Content-Security-Policy: default-src 'self'\r\n"));
        assert_non_null(strstr(r + hl, "\"code\":\"not_found\""));
    }
    /* Escaped names still find their file. */
    exchange(f, "GET /img/logo%2Epng HTTP/1.1\r\n\r\n", r, sizeof r, &hl);
    assert_true(has(r, hl, "HTTP/1.1 200"));
    /* Other methods on unknown paths are the router's plain 404. */
    exchange(f, "POST /nope.js HTTP/1.1\r\nContent-Length: 0\r\n\r\n", r, sizeof r, &hl);
    assert_true(has(r, hl, "HTTP/1.1 404"));
    exchange(f, "DELETE / HTTP/1.1\r\n\r\n", r, sizeof r, &hl);
    assert_true(has(r, hl, "HTTP/1.1 405"));
}

static void test_config_json(void **state)
{
    struct fixture *f = *state;
    static char r[65536];
    size_t hl;
    exchange(f, "GET /ui/config.json HTTP/1.1\r\n\r\n", r, sizeof r, &hl);
    assert_true(has(r, hl, "HTTP/1.1 200"));
    assert_true(has(r, hl, "Content-Type: application/json\r\n"));
    assert_true(has(r, hl, "Cache-Control: no-store\r\n"));
    assert_true(has(r, hl, "Content-Security-Policy: default-src 'self'\r\n"));
    assert_string_equal(r + hl, "{\"hosted\":false,\"chatkit_script_url\":\"https://"
                                "cdn.platform.openai.com/deployments/chatkit/chatkit.js\"}");
}

static void test_hosted_csp(void **state)
{
    (void)state;
    struct fixture *f = fixture_new();
    start(f, true, NULL);
    static char r[65536];
    size_t hl;
    exchange(f, "GET / HTTP/1.1\r\n\r\n", r, sizeof r, &hl);
    assert_true(has(
        r, hl, "Content-Security-Policy: default-src 'self' https://cdn.platform.openai.com\r\n"));
    exchange(f, "GET /ui/config.json HTTP/1.1\r\n\r\n", r, sizeof r, &hl);
    assert_non_null(strstr(r + hl, "\"hosted\":true"));
    void *st = f;
    teardown(&st);
}

static void test_init_errors(void **state)
{
    (void)state;
    struct ui_static u;
    char err[256];
    struct ui_asset none[1] = {
        {"/app.js", "text/javascript", (const unsigned char *)"x", 1, 1, false, false, "\"x\""}};
    struct ui_static_config c = {.assets = none, .nassets = 1};
    assert_int_equal(ui_static_init(&u, &c, err, sizeof err), ERR_INVALID);
    assert_non_null(strstr(err, "index.html"));
    ui_static_free(&u);
    const char *bad_urls[] = {"ftp://x/y.js", "https:///x.js", "https://a b/x.js",
                              "https://x;y/c.js", "https://x'/c.js"};
    for (size_t i = 0; i < sizeof bad_urls / sizeof bad_urls[0]; i++) {
        c.chatkit_script_url = bad_urls[i];
        assert_int_equal(ui_static_init(&u, &c, err, sizeof err), ERR_INVALID);
        assert_non_null(strstr(err, "--chatkit-script-url"));
        ui_static_free(&u);
    }
    c.chatkit_script_url = "http://127.0.0.1:9/chatkit.js";
    c.hosted = true;
    c.dir = "/nonexistent/ui";
    assert_int_equal(ui_static_init(&u, &c, err, sizeof err), ERR_INVALID);
    assert_non_null(strstr(err, "--ui-dir"));
    assert_string_equal(u.csp, "default-src 'self' http://127.0.0.1:9");
    ui_static_free(&u);
    c.dir = "/tmp"; /* a directory without index.html */
    assert_int_equal(ui_static_init(&u, &c, err, sizeof err), ERR_INVALID);
    assert_non_null(strstr(err, "no index.html"));
    ui_static_free(&u);
}

/* A gzipped entry that does not inflate (a build bug) is a 500 for clients without gzip, logged,
 * and is not kept; clients with gzip still get the stored bytes. */
static void test_damaged_entry(void **state)
{
    (void)state;
    struct fixture *f = fixture_new();
    static const unsigned char junk[] = {0x1f, 0x8b, 8, 0, 1, 2, 3, 4};
    f->assets[2] = (struct ui_asset){"/broken.js", "text/javascript", junk, sizeof junk, 100, true,
                                     false,        "\"b1\""};
    start(f, false, NULL);
    static char r[65536];
    size_t hl;
    exchange(f, "GET /broken.js HTTP/1.1\r\n\r\n", r, sizeof r, &hl);
    assert_true(has(r, hl, "HTTP/1.1 500"));
    assert_non_null(strstr(r + hl, "damaged"));
    assert_int_equal(f->ui.inflations, 0);
    exchange(f, "GET /broken.js HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n", r, sizeof r, &hl);
    assert_true(has(r, hl, "HTTP/1.1 200"));
    fflush(f->logf);
    rewind(f->logf);
    char line[512] = "";
    bool logged = false;
    while (fgets(line, sizeof line, f->logf))
        logged |= strstr(line, "/broken.js does not inflate") != NULL;
    assert_true(logged);
    void *st = f;
    teardown(&st);
}

/* ---- directory mode ---- */

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static int setup_dir(void **state)
{
    struct fixture *f = fixture_new();
    snprintf(f->dir, sizeof f->dir, "/tmp/ui-static-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->outside, sizeof f->outside, "%s-secret", f->dir);
    write_file(f->outside, "top secret");
    char p[200];
    snprintf(p, sizeof p, "%s/index.html", f->dir);
    write_file(p, "<p>disk index</p>");
    snprintf(p, sizeof p, "%s/app-QWER5678.js", f->dir);
    write_file(p, "disk();");
    snprintf(p, sizeof p, "%s/sub", f->dir);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/sub/style.css", f->dir);
    write_file(p, "body{}");
    snprintf(p, sizeof p, "%s/link", f->dir);
    assert_int_equal(symlink(f->outside, p), 0);
    start(f, false, f->dir);
    *state = f;
    return 0;
}

static void test_dir_serves_files(void **state)
{
    struct fixture *f = *state;
    static char r[65536];
    size_t hl;
    exchange(f, "GET / HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n", r, sizeof r, &hl);
    assert_true(has(r, hl, "HTTP/1.1 200"));
    assert_true(has(r, hl, "Content-Type: text/html; charset=utf-8\r\n"));
    assert_true(has(r, hl, "Content-Security-Policy: default-src 'self'\r\n"));
    assert_false(has(r, hl, "Content-Encoding"));
    assert_string_equal(r + hl, "<p>disk index</p>");
    const char *etag = strstr(r, "ETag: ");
    assert_non_null(etag);
    char tag[80];
    size_t n = strcspn(etag + 6, "\r");
    assert_true(n < sizeof tag);
    memcpy(tag, etag + 6, n);
    tag[n] = '\0';
    char req[200];
    snprintf(req, sizeof req, "GET /chatkit HTTP/1.1\r\nIf-None-Match: %s\r\n\r\n", tag);
    exchange(f, req, r, sizeof r, &hl);
    assert_true(has(r, hl, "HTTP/1.1 304"));
    exchange(f, "GET /app-QWER5678.js HTTP/1.1\r\n\r\n", r, sizeof r, &hl);
    assert_true(has(r, hl, "Cache-Control: public, max-age=31536000, immutable\r\n"));
    assert_string_equal(r + hl, "disk();");
    exchange(f, "HEAD /sub/style.css HTTP/1.1\r\n\r\n", r, sizeof r, &hl);
    assert_true(has(r, hl, "Content-Type: text/css; charset=utf-8\r\n"));
    assert_true(has(r, hl, "Content-Length: 6\r\n"));
    assert_string_equal(r + hl, "");
}

static void test_dir_refuses_traversal(void **state)
{
    struct fixture *f = *state;
    static char r[65536];
    size_t hl;
    const char *base = strrchr(f->dir, '/') + 1;
    char paths[10][128];
    int np = 0;
    snprintf(paths[np++], 128, "/../%s-secret", base);
    snprintf(paths[np++], 128, "/%%2e%%2e/%s-secret", base);
    snprintf(paths[np++], 128, "/sub/..%%2f..%%2f%s-secret", base);
    snprintf(paths[np++], 128, "/sub/%%2E%%2E/%%2E%%2E/%s-secret", base);
    snprintf(paths[np++], 128, "/link");
    snprintf(paths[np++], 128, "/sub");
    snprintf(paths[np++], 128, "/sub/");
    snprintf(paths[np++], 128, "/..%%5c..%%5c%s-secret", base);
    snprintf(paths[np++], 128, "/missing.js");
    snprintf(paths[np++], 128, "/index.html%%00.js");
    for (int i = 0; i < np; i++) {
        char req[256];
        snprintf(req, sizeof req, "GET %s HTTP/1.1\r\n\r\n", paths[i]);
        exchange(f, req, r, sizeof r, &hl);
        if (!has(r, hl, "HTTP/1.1 404"))
            fail_msg("%s answered: %.60s", paths[i], r);
        assert_null(strstr(r, "top secret"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts_gzip),
        cmocka_unit_test(test_etag_matches),
        cmocka_unit_test(test_names_and_types),
        cmocka_unit_test(test_path_check),
        cmocka_unit_test_setup_teardown(test_index_plain_and_gzip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_etag_304, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head_and_assets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_json, setup, teardown),
        cmocka_unit_test(test_hosted_csp),
        cmocka_unit_test(test_init_errors),
        cmocka_unit_test(test_damaged_entry),
        cmocka_unit_test_setup_teardown(test_dir_serves_files, setup_dir, teardown),
        cmocka_unit_test_setup_teardown(test_dir_refuses_traversal, setup_dir, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
