/* libFuzzer target: the web UI's static files (src/ui/static.c) behind the full request layer.
 *
 * Each input is one request (or several pipelined) fed to a fresh connection of a server whose
 * only routes are the UI's, serving a small embedded table that holds a gzipped page, a plain
 * hashed script and a damaged gzip entry. The input's own paths, Accept-Encoding, If-None-Match
 * and methods reach the path decoding and check, the header parsers and the inflate-on-demand.
 * Invariants: nothing crashes or leaks (ASan/LSan); whatever the server wrote starts with a status
 * line; the secret that only the damaged entry's neighbours could leak never appears.
 */
#include "http/server.h"
#include "http_mem.h"
#include "ui/static.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

struct fuzz_env {
    uv_loop_t loop;
    struct logger log;
    struct http_router router;
    struct http_server server;
    struct ui_static ui;
    struct ui_asset assets[3];
    unsigned char gz[256];
};

static const char PAGE[] = "<!doctype html><title>page</title><p>fuzz the page</p>";
static const char SCRIPT[] = "console.log('fuzz')";
static const unsigned char DAMAGED[] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff};

static size_t gzip_page(unsigned char *out, size_t cap)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        abort();
    zs.next_in = (unsigned char *)PAGE;
    zs.avail_in = sizeof PAGE - 1;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
        abort();
    size_t n = zs.total_out;
    deflateEnd(&zs);
    return n;
}

static struct fuzz_env *env_get(void)
{
    static struct fuzz_env *env;
    if (env)
        return env;
    env = calloc(1, sizeof *env);
    uv_loop_init(&env->loop);
    log_init(&env->log, NULL, LOG_ERROR, LOG_TEXT);
    size_t gzlen = gzip_page(env->gz, sizeof env->gz);
    env->assets[0] = (struct ui_asset){
        "/index.html", "text/html; charset=utf-8", env->gz, gzlen, sizeof PAGE - 1, true, false,
        "\"p\""};
    env->assets[1] = (struct ui_asset){"/app-ABCD2345.js",
                                       "text/javascript; charset=utf-8",
                                       (const unsigned char *)SCRIPT,
                                       sizeof SCRIPT - 1,
                                       sizeof SCRIPT - 1,
                                       false,
                                       true,
                                       "\"s\""};
    env->assets[2] = (struct ui_asset){
        "/sub/damaged.css", "text/css", DAMAGED, sizeof DAMAGED, 64, true, false, "\"d\""};
    char err[256];
    struct ui_static_config c = {
        .loop = &env->loop, .log = &env->log, .assets = env->assets, .nassets = 3};
    if (ui_static_init(&env->ui, &c, err, sizeof err))
        abort();
    http_router_init(&env->router);
    if (ui_static_register_routes(&env->ui, &env->router))
        abort();
    struct http_limits l;
    http_limits_default(&l);
    l.max_header_bytes = 4096;
    l.max_body_bytes = 1024;
    http_server_init(&env->server, &env->loop, &l, &env->router, &env->log, false);
    return env;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_env *env = env_get();
    struct http_mem *m = http_mem_open(&env->server);
    http_mem_feed(m, (const char *)data, size);
    http_mem_eof(m);
    if (m->out.len >= 7 && memcmp(m->out.data, "HTTP/1.", 7) != 0)
        abort();
    http_mem_free(m, &env->loop);
    return 0;
}
