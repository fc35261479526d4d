/* attachments.h - files users attach to messages (spec §11): records in the store, bytes on disk.
 *
 * Two-phase upload: `attachments.create` (POST /chatkit) makes a pending record and answers its
 * upload descriptor; the browser then sends the bytes with PUT or POST to
 * /api/chatkit/attachments/{id}/upload, raw or as multipart/form-data field `file`. Direct upload:
 * POST /api/chatkit/upload with multipart field `file` creates and uploads in one step. Both
 * answer the Attachment JSON. GET /files/{id} serves the bytes to their owner only, with the
 * client secret as a Bearer header or, for <img src>, as ?token=<client secret>. Everything of
 * another user is "not found".
 *
 * Bytes live at <data-dir>/files/<first two hex digits of the id>/<id>. An upload is written to
 * <data-dir>/files/tmp/, synced and renamed into place, so a file is whole or absent; the record
 * becomes "uploaded" only after the rename. All file work after startup runs on libuv's thread
 * pool (uv_fs_*), never on the loop thread.
 *
 * Cleanup: every min(10 min, ttl) a sweep deletes the records and bytes of uploads created more
 * than ttl ago that no message uses.
 *
 * Ownership: struct attachments is embedded by its owner (main's app) and must outlive every
 * request and file operation it started (until the loop has run out). Each request has its own
 * context, freed when the request is answered.
 */
#ifndef CHATKITD_CHATKIT_ATTACHMENTS_H
#define CHATKITD_CHATKIT_ATTACHMENTS_H

#include "auth/sessions.h"
#include "core/log.h"
#include "http/request.h"
#include "http/router.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define ATTACHMENTS_NAME_MAX 255 /* bytes of a file name */
#define ATTACHMENTS_MIME_MAX 127 /* bytes of a MIME type */

struct attachments_config {
    uv_loop_t *loop;          /* not owned */
    struct store *store;      /* not owned */
    struct auth *auth;        /* not owned */
    const struct logger *log; /* not owned */
    const char *data_dir;     /* not owned */
    size_t max_bytes;         /* largest file */
    const char *types;        /* not owned; allow list: "image/png,image/..." (subtype may be *) */
    uint64_t ttl_s;           /* unattached uploads older than this are swept */
};

struct attachments {
    struct attachments_config cfg;
    char *files_dir;  /* owned; <data-dir>/files */
    uint64_t tmp_seq; /* makes temp file names unique */
    bool closed;      /* attachments_close ran: no new store work */
    bool timer_started;
    uv_timer_t sweep_timer;
    /* The sweep in progress (one at a time). */
    bool sweeping;
    struct store_job sweep_job;
    struct store_attachment *sweep_rows; /* owned; stale rows being deleted */
    size_t sweep_n, sweep_i;
    bool sweep_more;        /* the store had more stale rows than one page */
    uint64_t sweep_removed; /* rows removed by the current sweep, for the log */
};

/* Creates <data-dir>/files and <data-dir>/files/tmp and empties the latter (an interrupted
 * upload's leftovers). Blocking: call once at startup, before the loop serves. 0, or a negative
 * errno with a reason in err. */
int attachments_prepare_dirs(const char *data_dir, char *err, size_t errlen);

void attachments_init(struct attachments *a, const struct attachments_config *cfg);
/* Releases a's memory; call after the loop has run out. */
void attachments_free(struct attachments *a);
/* Registers the upload routes and GET /files/{id}. */
int attachments_register_routes(struct attachments *a, struct http_router *r);
/* Starts the periodic sweep of stale uploads. */
void attachments_start(struct attachments *a);
/* Stops the sweep and closes its timer; a sweep or request in progress finishes without
 * submitting new store work (answering 503). Call before the store closes; idempotent. */
void attachments_close(struct attachments *a);

/* attachments.create for user_id: validates name, size and type, stores a pending record and
 * answers req (the Attachment with its upload descriptor, or a JSON error). */
void attachments_create(struct attachments *a, struct http_request *req, const char *user_id,
                        const char *name, int64_t size, const char *mime_type);
/* attachments.delete: removes user_id's record and its bytes and answers {} (404 when the
 * attachment is not the user's). */
void attachments_delete(struct attachments *a, struct http_request *req, const char *user_id,
                        const char *id);
/* Removes the bytes of attachment id in the background; a missing file is not an error. */
void attachments_unlink(struct attachments *a, const char *id);

/* ---- validation and parsing (exported for the unit tests) ---- */

/* 0 when name (len bytes) is a usable file name: 1..ATTACHMENTS_NAME_MAX bytes of UTF-8 with no
 * control characters and no '/'; else ERR_INVALID. */
int attachments_check_name(const char *name, size_t len);
/* Writes the base type of mime (before any ';', trimmed, lowercased) into out (at least
 * ATTACHMENTS_MIME_MAX + 1 bytes); 0, or ERR_INVALID when it is not type/subtype. */
int attachments_mime_base(const char *mime, size_t len, char *out);
/* True when the base type mime (lowercase) is in the comma-separated list (case-insensitive);
 * an entry whose subtype is '*' matches its whole type, and a '*' type matches anything. */
bool attachments_type_allowed(const char *list, const char *mime);

/* The `file` field of a multipart/form-data body; every pointer is a view into the body or the
 * content type passed in. */
struct attachments_part {
    const char *data;
    size_t len;
    const char *filename; /* NULL when the part has none; still %22-encoded (HTML form rule) */
    size_t filename_len;
    const char *content_type; /* NULL when the part has none */
    size_t content_type_len;
};
/* Finds the one part named "file" of a multipart/form-data body whose Content-Type header value
 * is content_type (ct_len bytes). 0, ERR_NOT_FOUND when there is no such part, or ERR_INVALID
 * for a malformed body, a content type that is not multipart/form-data with a boundary, or two
 * `file` parts. */
int attachments_multipart_file(const char *content_type, size_t ct_len, const char *body,
                               size_t len, struct attachments_part *out);
/* Decodes a multipart filename view (%22 -> '"', as browsers encode quotes) into out (outlen
 * bytes with NUL); the decoded length, or ERR_TOO_BIG. */
int attachments_decode_filename(const char *s, size_t len, char *out, size_t outlen);

#endif
