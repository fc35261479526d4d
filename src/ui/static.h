/* static.h - serving the web UI: the embedded site, or a directory while developing.
 *
 * Routes: GET/HEAD "/" and "/chatkit" answer index.html; "/ui/config.json" tells the page which
 * chat front end to load ({"hosted": bool, "chatkit_script_url": string}); every other GET/HEAD
 * path that no other route claims is looked up among the site's files (the router's fallback),
 * and is a JSON 404 when there is no such file.
 *
 * Caching: index.html and other unhashed files are "no-cache" with a strong ETag, so a browser
 * revalidates them and gets 304 when If-None-Match still matches; files whose names carry a
 * content hash (esbuild's "-XXXXXXXX" before the extension) are "public, max-age=31536000,
 * immutable". Embedded files are stored gzipped when that makes them smaller: a client that
 * accepts gzip gets those bytes with "Content-Encoding: gzip", any other client the plain bytes
 * (inflated once, on first need, and kept). Every answer carries "Vary: Accept-Encoding" when the
 * file has two encodings, the Content-Security-Policy and "X-Content-Type-Options: nosniff".
 *
 * CSP: "default-src 'self'", so the page can reach nothing but its own origin. In hosted mode the
 * page loads OpenAI's ChatKit script, and the policy allows exactly that script's origin as well
 * ("default-src 'self' https://cdn.example"), nothing else.
 *
 * Directory mode (--ui-dir): the same paths are read from the directory on the libuv thread pool,
 * never on the loop. A path with an empty, "." or ".." segment, a backslash or a NUL (also when
 * percent-encoded) is refused with 404, and so is any file whose real path (symlinks resolved)
 * lies outside the directory. ETags there come from the file's mtime and size; nothing is
 * compressed.
 *
 * Threads: everything runs on the loop thread except the directory reads, which touch only their
 * own job. Ownership: struct ui_static is owned by its caller (main); ui_static_free releases
 * what it allocated. Disk jobs in flight hold no pointer to it after they answered.
 */
#ifndef CHATKITD_UI_STATIC_H
#define CHATKITD_UI_STATIC_H

#include "core/buf.h"
#include "core/log.h"
#include "http/router.h"
#include "ui/assets.h"

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#define UI_DEFAULT_CHATKIT_SCRIPT_URL                                                              \
    "https://cdn.platform.openai.com/deployments/chatkit/chatkit.js"
#define UI_MAX_FILE_BYTES (64u << 20) /* directory mode: larger files are refused */

struct ui_static_config {
    uv_loop_t *loop;                /* directory mode runs reads on its thread pool */
    const struct logger *log;       /* not owned */
    const struct ui_asset *assets;  /* the embedded site; not owned, must outlive the module */
    size_t nassets;                 /* entries in assets */
    const char *dir;                /* serve this directory instead of assets; NULL = embedded */
    bool hosted;                    /* the page uses OpenAI's ChatKit script (hosted sessions) */
    const char *chatkit_script_url; /* that script; NULL = UI_DEFAULT_CHATKIT_SCRIPT_URL */
};

struct ui_static {
    uv_loop_t *loop;               /* not owned */
    const struct logger *log;      /* not owned */
    const struct ui_asset *assets; /* not owned */
    size_t nassets;
    char *dir;              /* owned; the directory's real path, NULL = embedded */
    char *csp;              /* owned; the Content-Security-Policy value */
    struct buf config_json; /* owned; the body of /ui/config.json */
    unsigned char **plain;  /* owned array (nassets), each entry owned: inflated files */
    size_t inflations;      /* files inflated so far (tests check it happens once) */
};

/* Prepares u. Checks the configuration: in directory mode the directory must exist and hold
 * index.html; in embedded mode the table must hold "/index.html"; the script URL must be an
 * https:// (or http://) URL with a host. Returns 0, or ERR_INVALID with a sentence in err (the
 * caller turns it into a start-up error). u needs ui_static_free in every case. */
int ui_static_init(struct ui_static *u, const struct ui_static_config *cfg, char *err,
                   size_t errlen);
/* Adds "/", "/chatkit", "/ui/config.json" (GET) and the GET fallback to r. Returns 0 or the
 * router's error. u must outlive the router's use. */
int ui_static_register_routes(struct ui_static *u, struct http_router *r);
/* Releases what u owns. */
void ui_static_free(struct ui_static *u);

/* Helpers, exposed for their unit tests. */

/* True when an Accept-Encoding value (len bytes) allows gzip: "gzip" or "x-gzip" or "*" with a
 * q-value above 0, unless gzip itself is listed with q=0. */
bool ui_accepts_gzip(const char *value, size_t len);
/* True when an If-None-Match value (len bytes) names etag ("*" names every ETag; "W/" prefixes
 * are ignored, as RFC 9110 asks for If-None-Match). */
bool ui_etag_matches(const char *value, size_t len, const char *etag);
/* The Content-Type for a file name by its extension; "application/octet-stream" when unknown. */
const char *ui_content_type(const char *name);
/* True when the file name's last dot-part is preceded by "-" and 8 characters of A-Z and 0-9
 * (esbuild's content hash), so the file may be cached forever. */
bool ui_name_is_hashed(const char *name);
/* Checks a decoded URL path for directory mode: starts with '/', no empty, "." or ".." segment,
 * no backslash, no control character. 0 or ERR_INVALID. */
int ui_path_check(const char *path, size_t len);

#endif
