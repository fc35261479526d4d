#include "ui/static.h"

#include "core/err.h"
#include "core/json_write.h"
#include "core/xalloc.h"
#include "http/request.h"
#include "http/response.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define PATH_MAX_URL 1024 /* decoded URL paths longer than this are simply not found */

static const char CACHE_IMMUTABLE[] = "public, max-age=31536000, immutable";
static const char CACHE_REVALIDATE[] = "no-cache";

/* ---- helpers (exposed for tests) ---- */

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* Trims spaces and tabs around [*p, *e). */
static void trim_view(const char **p, const char **e)
{
    while (*p < *e && is_space(**p))
        (*p)++;
    while (*e > *p && is_space((*e)[-1]))
        (*e)--;
}

/* The q-value of one Accept-Encoding entry's parameters ("; q=0.5"); 1 when absent. A malformed
 * q counts as 0: a client that cannot spell it gets the plain bytes, which always work. */
static double entry_q(const char *p, const char *e)
{
    while (p < e) {
        const char *semi = memchr(p, ';', (size_t)(e - p));
        const char *ps = p, *pe = semi ? semi : e;
        trim_view(&ps, &pe);
        if (pe - ps >= 2 && (ps[0] == 'q' || ps[0] == 'Q') && ps[1] == '=') {
            char num[8];
            size_t n = (size_t)(pe - ps - 2);
            if (n == 0 || n >= sizeof num)
                return 0;
            memcpy(num, ps + 2, n);
            num[n] = '\0';
            char *end;
            double q = strtod(num, &end);
            return (*end || q < 0 || q > 1) ? 0 : q;
        }
        p = semi ? semi + 1 : e;
    }
    return 1;
}

bool ui_accepts_gzip(const char *value, size_t len)
{
    const char *p = value, *end = value + len;
    int gzip = -1, star = -1; /* -1 unlisted, 0 refused, 1 accepted */
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *e = comma ? comma : end;
        const char *semi = memchr(p, ';', (size_t)(e - p));
        const char *ns = p, *ne = semi ? semi : e;
        trim_view(&ns, &ne);
        int ok = entry_q(semi ? semi + 1 : e, e) > 0;
        size_t n = (size_t)(ne - ns);
        if ((n == 4 && strncasecmp(ns, "gzip", 4) == 0) ||
            (n == 6 && strncasecmp(ns, "x-gzip", 6) == 0))
            gzip = gzip == 0 ? 0 : ok;
        else if (n == 1 && *ns == '*')
            star = ok;
        p = comma ? comma + 1 : end;
    }
    return gzip == 1 || (gzip == -1 && star == 1);
}

bool ui_etag_matches(const char *value, size_t len, const char *etag)
{
    size_t elen = strlen(etag);
    const char *p = value, *end = value + len;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *s = p, *e = comma ? comma : end;
        trim_view(&s, &e);
        if (e - s == 1 && *s == '*')
            return true;
        if (e - s >= 2 && s[0] == 'W' && s[1] == '/')
            s += 2;
        if ((size_t)(e - s) == elen && memcmp(s, etag, elen) == 0)
            return true;
        p = comma ? comma + 1 : end;
    }
    return false;
}

static const struct {
    const char *ext;
    const char *type;
} content_types[] = {
    {"html", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"ico", "image/x-icon"},
    {"woff2", "font/woff2"},
    {"woff", "font/woff"},
    {"ttf", "font/ttf"},
    {"txt", "text/plain; charset=utf-8"},
    {"wasm", "application/wasm"},
    {"webmanifest", "application/manifest+json"},
};

const char *ui_content_type(const char *name)
{
    const char *slash = strrchr(name, '/');
    const char *dot = strrchr(slash ? slash : name, '.');
    if (dot) {
        for (size_t i = 0; i < sizeof content_types / sizeof content_types[0]; i++) {
            if (strcasecmp(dot + 1, content_types[i].ext) == 0)
                return content_types[i].type;
        }
    }
    return "application/octet-stream";
}

bool ui_name_is_hashed(const char *name)
{
    const char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    const char *dot = strrchr(base, '.');
    if (!dot || dot - base < 10 || dot[-9] != '-')
        return false;
    for (const char *p = dot - 8; p < dot; p++) {
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
            return false;
    }
    return true;
}

int ui_path_check(const char *path, size_t len)
{
    if (len == 0 || path[0] != '/')
        return ERR_INVALID;
    size_t i = 1, seg = 1;
    for (;; i++) {
        if (i == len || path[i] == '/') {
            size_t n = i - seg;
            if (n == 0 || (n == 1 && path[seg] == '.') ||
                (n == 2 && path[seg] == '.' && path[seg + 1] == '.'))
                return ERR_INVALID;
            if (i == len)
                return 0;
            seg = i + 1;
            continue;
        }
        unsigned char ch = (unsigned char)path[i];
        if (ch < 0x20 || ch == 0x7f || ch == '\\')
            return ERR_INVALID;
    }
}

/* ---- set-up ---- */

/* "https://host[:port]" of an http(s) URL, or ERR_INVALID. */
static int url_origin(const char *url, char *out, size_t outlen)
{
    size_t skip = strncmp(url, "https://", 8) == 0 ? 8 : strncmp(url, "http://", 7) == 0 ? 7 : 0;
    if (!skip)
        return ERR_INVALID;
    size_t n = skip;
    while (url[n] && url[n] != '/' && url[n] != '?' && url[n] != '#')
        n++;
    if (n == skip || n >= outlen)
        return ERR_INVALID;
    for (size_t i = skip; i < n; i++) {
        unsigned char ch = (unsigned char)url[i];
        /* Host names, IPv6 brackets and a port only: anything else could end the CSP value. */
        if (!isalnum(ch) && !strchr(".-:[]", ch))
            return ERR_INVALID;
    }
    memcpy(out, url, n);
    out[n] = '\0';
    return 0;
}

static int config_json_build(struct ui_static *u, bool hosted, const char *script_url)
{
    struct jw w;
    buf_init(&u->config_json, 8192);
    jw_init(&w, &u->config_json);
    jw_obj_begin(&w);
    jw_kv_bool(&w, "hosted", hosted);
    jw_kv_str(&w, "chatkit_script_url", script_url);
    jw_obj_end(&w);
    return jw_error(&w);
}

static const struct ui_asset *asset_find(const struct ui_static *u, const char *path)
{
    for (size_t i = 0; i < u->nassets; i++) {
        if (strcmp(u->assets[i].path, path) == 0)
            return &u->assets[i];
    }
    return NULL;
}

int ui_static_init(struct ui_static *u, const struct ui_static_config *cfg, char *err,
                   size_t errlen)
{
    memset(u, 0, sizeof *u);
    u->loop = cfg->loop;
    u->log = cfg->log;
    u->assets = cfg->assets;
    u->nassets = cfg->nassets;
    const char *script =
        cfg->chatkit_script_url ? cfg->chatkit_script_url : UI_DEFAULT_CHATKIT_SCRIPT_URL;
    char origin[512];
    if (url_origin(script, origin, sizeof origin)) {
        snprintf(err, errlen, "--chatkit-script-url: '%s' is not an http(s) URL with a host",
                 script);
        return ERR_INVALID;
    }
    struct buf csp;
    buf_init(&csp, 1024);
    buf_appendf(&csp, "default-src 'self'%s%s", cfg->hosted ? " " : "", cfg->hosted ? origin : "");
    u->csp = buf_detach(&csp, NULL);
    if (config_json_build(u, cfg->hosted, script)) {
        snprintf(err, errlen, "--chatkit-script-url: too long");
        return ERR_INVALID;
    }
    if (cfg->dir) {
        char real[PATH_MAX];
        struct stat st;
        if (!realpath(cfg->dir, real) || stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
            snprintf(err, errlen, "--ui-dir: '%s' is not a directory", cfg->dir);
            return ERR_INVALID;
        }
        char index[PATH_MAX + 16];
        snprintf(index, sizeof index, "%s/index.html", real);
        if (stat(index, &st) != 0 || !S_ISREG(st.st_mode)) {
            snprintf(err, errlen, "--ui-dir: '%s' holds no index.html (build the UI into it)",
                     cfg->dir);
            return ERR_INVALID;
        }
        u->dir = xstrdup(real);
        return 0;
    }
    if (!asset_find(u, "/index.html")) {
        snprintf(err, errlen, "the embedded UI has no index.html (the build embedded no site)");
        return ERR_INVALID;
    }
    u->plain = xcalloc(u->nassets ? u->nassets : 1, sizeof *u->plain);
    return 0;
}

void ui_static_free(struct ui_static *u)
{
    if (u->plain) {
        for (size_t i = 0; i < u->nassets; i++)
            free(u->plain[i]);
    }
    free(u->plain);
    free(u->dir);
    free(u->csp);
    buf_free(&u->config_json);
    memset(u, 0, sizeof *u);
}

/* ---- answers ---- */

static void common_headers(const struct ui_static *u, struct http_request *req)
{
    http_response_header(req, "Content-Security-Policy", u->csp);
    http_response_header(req, "X-Content-Type-Options", "nosniff");
}

static void respond_not_found(const struct ui_static *u, struct http_request *req)
{
    /* A path no file answers counts as unmatched in the metrics, as it would without the UI's
     * fallback route (a scanner's paths all land in one series). */
    if (req->match.route && req->match.route->fallback)
        req->match.route = NULL;
    common_headers(u, req);
    http_respond_error(req, 404, "not_found", "no page or file at this path");
}

/* The plain bytes of a gzipped asset, inflated on first need and kept: clients without gzip
 * are rare (curl without --compressed, some bots), so the binary stores one copy. NULL when the
 * stream is corrupt (a build bug; answered with 500). */
static const unsigned char *asset_plain(struct ui_static *u, const struct ui_asset *a)
{
    size_t i = (size_t)(a - u->assets);
    if (u->plain[i])
        return u->plain[i];
    unsigned char *out = xmalloc(a->plain_len ? a->plain_len : 1);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
        free(out);
        return NULL;
    }
    zs.next_in = (unsigned char *)a->data;
    zs.avail_in = (uInt)a->len;
    zs.next_out = out;
    zs.avail_out = (uInt)a->plain_len;
    int rc = inflate(&zs, Z_FINISH);
    bool ok = rc == Z_STREAM_END && zs.total_out == a->plain_len;
    inflateEnd(&zs);
    if (!ok) {
        free(out);
        log_error(u->log, "ui: embedded %s does not inflate to %zu bytes", a->path, a->plain_len);
        return NULL;
    }
    u->plain[i] = out;
    u->inflations++;
    return out;
}

static void respond_asset(struct ui_static *u, struct http_request *req, const struct ui_asset *a)
{
    common_headers(u, req);
    size_t alen;
    const char *ae = http_request_header(req, "Accept-Encoding", &alen);
    bool gzip = a->gzipped && ae && ui_accepts_gzip(ae, alen);
    char etag[96];
    /* Each encoding is its own representation, so each gets its own strong ETag. */
    snprintf(etag, sizeof etag, "%.*s%s\"", (int)strlen(a->etag) - 1, a->etag, gzip ? "-gz" : "");
    http_response_header(req, "ETag", etag);
    http_response_header(req, "Cache-Control", a->immutable ? CACHE_IMMUTABLE : CACHE_REVALIDATE);
    if (a->gzipped)
        http_response_header(req, "Vary", "Accept-Encoding");
    size_t ilen;
    const char *inm = http_request_header(req, "If-None-Match", &ilen);
    if (inm && ui_etag_matches(inm, ilen, etag)) {
        http_respond(req, 304, NULL, NULL, 0);
        return;
    }
    if (gzip) {
        http_response_header(req, "Content-Encoding", "gzip");
        http_respond(req, 200, a->content_type, a->data, a->len);
        return;
    }
    const unsigned char *plain = a->gzipped ? asset_plain(u, a) : a->data;
    if (!plain) {
        http_respond_error(req, 500, "internal", "the embedded file %s is damaged", a->path);
        return;
    }
    http_respond(req, 200, a->content_type, plain, a->plain_len);
}

/* ---- directory mode ---- */

/* One file read on the thread pool. Owned by itself from ui_disk_start until after_work. */
struct disk_read {
    uv_work_t work;
    struct ui_static *u;          /* not owned; outlives every read (main frees it last) */
    struct http_request *req;     /* answered in after_work */
    char path[PATH_MAX_URL + 16]; /* decoded URL path */
    char *root;                   /* owned copy of u->dir, for the worker thread */
    int status;                   /* 200, 404 or 500 after the work */
    unsigned char *data;          /* owned; the file */
    size_t len;
    char etag[64];
};

/* Runs on a pool thread: resolves the path inside root and reads the file. */
static void disk_work(uv_work_t *w)
{
    struct disk_read *d = w->data;
    char full[PATH_MAX + PATH_MAX_URL + 16], real[PATH_MAX];
    d->status = 404;
    snprintf(full, sizeof full, "%s%s", d->root, d->path);
    size_t rl = strlen(d->root);
    /* realpath resolves symlinks: the file must really live under the directory. */
    if (!realpath(full, real) || strncmp(real, d->root, rl) != 0 || real[rl] != '/')
        return;
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > UI_MAX_FILE_BYTES) {
        close(fd);
        return;
    }
    d->data = xmalloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, d->data + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    d->len = got;
    d->status = got == (size_t)st.st_size ? 200 : 500;
    snprintf(d->etag, sizeof d->etag, "\"%llx-%llx-%zx\"", (unsigned long long)st.st_mtim.tv_sec,
             (unsigned long long)st.st_mtim.tv_nsec, got);
}

static void disk_done(uv_work_t *w, int status)
{
    struct disk_read *d = w->data;
    struct http_request *req = d->req;
    struct ui_static *u = d->u;
    if (status != 0 || d->status == 500) {
        common_headers(u, req);
        http_respond_error(req, 500, "internal", "the file could not be read");
    } else if (d->status == 404) {
        respond_not_found(u, req);
    } else {
        struct ui_asset a = {
            .path = d->path,
            .content_type = ui_content_type(d->path),
            .data = d->data,
            .len = d->len,
            .plain_len = d->len,
            .immutable = ui_name_is_hashed(d->path),
            .etag = d->etag,
        };
        respond_asset(u, req, &a);
    }
    free(d->data);
    free(d->root);
    free(d);
}

/* A client that leaves while its file is being read is answered (and freed) by disk_done. */
static void disk_abort(struct http_request *req)
{
    (void)req;
}

static void serve_disk(struct ui_static *u, struct http_request *req, const char *path)
{
    struct disk_read *d = xcalloc(1, sizeof *d);
    d->u = u;
    d->req = req;
    snprintf(d->path, sizeof d->path, "%s", path);
    d->root = xstrdup(u->dir);
    d->work.data = d;
    req->ctx = d;
    req->on_abort = disk_abort;
    int rc = uv_queue_work(u->loop, &d->work, disk_work, disk_done);
    if (rc) {
        free(d->root);
        free(d);
        common_headers(u, req);
        http_respond_error(req, 503, "unavailable", "cannot read files now: %s", err_str(rc));
    }
}

/* ---- routes ---- */

static void serve_path(struct ui_static *u, struct http_request *req, const char *path)
{
    if (u->dir) {
        serve_disk(u, req, path);
        return;
    }
    const struct ui_asset *a = asset_find(u, path);
    if (a)
        respond_asset(u, req, a);
    else
        respond_not_found(u, req);
}

static void route_index(struct http_request *req, void *data)
{
    serve_path(data, req, "/index.html");
}

static void route_config(struct http_request *req, void *data)
{
    struct ui_static *u = data;
    common_headers(u, req);
    http_response_header(req, "Cache-Control", "no-store");
    http_respond_json(req, 200, &u->config_json);
}

static void route_file(struct http_request *req, void *data)
{
    struct ui_static *u = data;
    char path[PATH_MAX_URL + 1];
    int n = http_percent_decode(http_request_path(req), req->path_len, false, path, sizeof path);
    if (n < 0 || memchr(path, '\0', (size_t)n) || ui_path_check(path, (size_t)n)) {
        respond_not_found(u, req);
        return;
    }
    serve_path(u, req, path);
}

int ui_static_register_routes(struct ui_static *u, struct http_router *r)
{
    int rc = http_router_add(r, "GET", "/", route_index, u);
    if (!rc)
        rc = http_router_add(r, "GET", "/chatkit", route_index, u);
    if (!rc)
        rc = http_router_add(r, "GET", "/ui/config.json", route_config, u);
    if (!rc)
        rc = http_router_add_fallback(r, "GET", "/{ui-file}", route_file, u);
    return rc;
}
