/* assets.h - the web UI's files as compiled into the binary.
 *
 * tools/embed_ui.mjs builds ui/ (node ui/build.mjs) at build time and writes a C source that
 * defines ui_embedded_assets: every file of the built site with its bytes (gzipped when that
 * makes it smaller), its content type and a strong ETag (a hash of its content). The table is
 * read-only data; nothing in it is ever freed.
 */
#ifndef CHATKITD_UI_ASSETS_H
#define CHATKITD_UI_ASSETS_H

#include <stdbool.h>
#include <stddef.h>

struct ui_asset {
    const char *path;          /* URL path, e.g. "/index.html", "/app-5TQ2XKQJ.js" */
    const char *content_type;  /* "text/javascript; charset=utf-8" */
    const unsigned char *data; /* the gzip stream when gzipped, else the file itself */
    size_t len;                /* bytes at data */
    size_t plain_len;          /* the file's own size */
    bool gzipped;              /* data is a gzip stream of the file */
    bool immutable;            /* the name carries a content hash: cacheable forever */
    const char *etag;          /* quoted strong ETag of the file, "\"9f86d081884c7d65\"" */
};

/* The embedded site (generated at build time; only the chatkitd binary links it). */
extern const struct ui_asset ui_embedded_assets[];
extern const size_t ui_embedded_count;

#endif
