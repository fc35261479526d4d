#include "chatkit/attachments.h"

#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/strlist.h"
#include "core/id.h"
#include "core/json_write.h"
#include "core/xalloc.h"
#include "http/response.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define ID_PREFIX         "atc_"
#define PATH_MAX_BYTES    8192
#define JSON_MAX          8192             /* one Attachment object, worst-case escaping */
#define MULTIPART_SLACK   (64 * 1024)      /* form framing around the file's bytes */
#define PART_HEADERS_MAX  (16 * 1024)      /* header block of one multipart part */
#define BOUNDARY_MAX      70               /* RFC 2046 §5.1.1 */
#define SWEEP_INTERVAL_MS (10 * 60 * 1000) /* at most; shorter when the ttl is shorter */
#define SWEEP_PAGE        100
#define USEC_PER_SEC      INT64_C(1000000)
#define READ_MAX          ((size_t)1 << 30) /* a file we serve is never larger than the limit */

/* ---- names, types, multipart ---- */

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF), or 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
    unsigned c = s[0];
    size_t n;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    unsigned cp = c & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

int attachments_check_name(const char *name, size_t len)
{
    const unsigned char *s = (const unsigned char *)name;
    if (len == 0 || len > ATTACHMENTS_NAME_MAX)
        return ERR_INVALID;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq(s + i, len - i);
        if (n == 0)
            return ERR_INVALID;
        /* C0 controls, DEL, and C1 controls (U+0080..U+009F, encoded C2 80..C2 9F). */
        if (s[i] < 0x20 || s[i] == 0x7f || s[i] == '/' || (s[i] == 0xc2 && s[i + 1] < 0xa0))
            return ERR_INVALID;
        i += n;
    }
    return 0;
}

static bool token_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("!#$&^_.+-", ch));
}

int attachments_mime_base(const char *mime, size_t len, char *out)
{
    const char *semi = memchr(mime, ';', len);
    size_t n = semi ? (size_t)(semi - mime) : len;
    while (n && (*mime == ' ' || *mime == '\t')) {
        mime++;
        n--;
    }
    while (n && (mime[n - 1] == ' ' || mime[n - 1] == '\t'))
        n--;
    if (n == 0 || n > ATTACHMENTS_MIME_MAX)
        return ERR_INVALID;
    const char *slash = memchr(mime, '/', n);
    if (!slash || slash == mime || slash == mime + n - 1)
        return ERR_INVALID;
    for (size_t i = 0; i < n; i++) {
        if (mime + i != slash && !token_char(mime[i]))
            return ERR_INVALID;
        out[i] = (char)(mime[i] >= 'A' && mime[i] <= 'Z' ? mime[i] + 32 : mime[i]);
    }
    out[n] = '\0';
    return 0;
}

bool attachments_type_allowed(const char *list, const char *mime)
{
    size_t mlen = strlen(mime);
    const char *slash = strchr(mime, '/');
    if (!list || !slash)
        return false;
    size_t tlen = (size_t)(slash - mime);
    const char *cur = list, *p;
    size_t n;
    while (strlist_next(&cur, &p, &n)) {
        if (n == 3 && memcmp(p, "*/*", 3) == 0)
            return true;
        if (n == tlen + 2 && strncasecmp(p, mime, tlen + 1) == 0 && p[n - 1] == '*')
            return true;
        if (n == mlen && strncasecmp(p, mime, n) == 0)
            return true;
    }
    return false;
}

/* Finds parameter name in a header value such as `form-data; name="file"; filename="a.png"`:
 * 1 with a view of its value (quotes removed), 0 when absent, ERR_INVALID when malformed.
 * Quoted values are taken literally up to the next quote: browsers never backslash-escape in
 * form data (they percent-encode a quote as %22), and a backslash is a legal file name byte. */
static int header_param(const char *v, size_t len, const char *name, const char **out,
                        size_t *outlen)
{
    size_t nlen = strlen(name);
    const char *end = v + len;
    const char *p = memchr(v, ';', len);
    while (p && p < end) {
        p++;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        const char *k = p;
        while (p < end && *p != '=' && *p != ';')
            p++;
        const char *ke = p;
        while (ke > k && (ke[-1] == ' ' || ke[-1] == '\t'))
            ke--;
        const char *val = NULL;
        size_t vlen = 0;
        if (p < end && *p == '=') {
            p++;
            while (p < end && (*p == ' ' || *p == '\t'))
                p++;
            if (p < end && *p == '"') {
                val = ++p;
                while (p < end && *p != '"')
                    p++;
                if (p == end)
                    return ERR_INVALID;
                vlen = (size_t)(p - val);
                p++;
                while (p < end && (*p == ' ' || *p == '\t'))
                    p++;
                if (p < end && *p != ';')
                    return ERR_INVALID;
            } else {
                val = p;
                while (p < end && *p != ';')
                    p++;
                vlen = (size_t)(p - val);
                while (vlen && (val[vlen - 1] == ' ' || val[vlen - 1] == '\t'))
                    vlen--;
            }
        }
        if ((size_t)(ke - k) == nlen && strncasecmp(k, name, nlen) == 0) {
            if (!val)
                return ERR_INVALID;
            *out = val;
            *outlen = vlen;
            return 1;
        }
        if (p < end && *p != ';')
            p = memchr(p, ';', (size_t)(end - p));
    }
    return 0;
}

/* True when the value (len bytes) starts with the media type want, followed by ';' or its end. */
static bool value_is(const char *v, size_t len, const char *want)
{
    size_t wl = strlen(want);
    while (len && (*v == ' ' || *v == '\t')) {
        v++;
        len--;
    }
    if (len < wl || strncasecmp(v, want, wl) != 0)
        return false;
    for (size_t i = wl; i < len && v[i] != ';'; i++) {
        if (v[i] != ' ' && v[i] != '\t')
            return false;
    }
    return true;
}

/* Parses the header block of one part (from p up to and including the blank line); fills the
 * part's name, filename and content type. Returns the offset just past the blank line, or
 * ERR_INVALID. */
static int part_headers(const char *body, size_t len, size_t p, const char **name, size_t *name_len,
                        struct attachments_part *part)
{
    size_t start = p;
    *name = NULL;
    part->filename = part->content_type = NULL;
    for (;;) {
        if (p - start > PART_HEADERS_MAX)
            return ERR_INVALID;
        const char *le = memmem(body + p, len - p, "\r\n", 2);
        if (!le)
            return ERR_INVALID;
        size_t ll = (size_t)(le - (body + p));
        const char *line = body + p;
        p += ll + 2;
        if (ll == 0)
            return (int)p;
        const char *colon = memchr(line, ':', ll);
        if (!colon || colon == line)
            return ERR_INVALID;
        size_t hn = (size_t)(colon - line);
        const char *v = colon + 1;
        size_t vl = ll - hn - 1;
        while (vl && (*v == ' ' || *v == '\t')) {
            v++;
            vl--;
        }
        if (hn == 19 && strncasecmp(line, "Content-Disposition", hn) == 0) {
            if (!value_is(v, vl, "form-data"))
                return ERR_INVALID;
            int rc = header_param(v, vl, "name", name, name_len);
            if (rc < 0)
                return rc;
            rc = header_param(v, vl, "filename", &part->filename, &part->filename_len);
            if (rc < 0)
                return rc;
            if (rc == 0)
                part->filename = NULL;
        } else if (hn == 12 && strncasecmp(line, "Content-Type", hn) == 0) {
            part->content_type = v;
            part->content_type_len = vl;
            while (part->content_type_len &&
                   (v[part->content_type_len - 1] == ' ' || v[part->content_type_len - 1] == '\t'))
                part->content_type_len--;
        }
    }
}

/* Why a hand-written parser: the body is already in memory (capped by the route's limit), only
 * one field matters, and the grammar (RFC 7578 on RFC 2046) is small. Parts are delimited by
 * CRLF "--" boundary; the first delimiter may start the body or follow a preamble; a delimiter
 * followed by "--" closes the body. */
int attachments_multipart_file(const char *content_type, size_t ct_len, const char *body,
                               size_t len, struct attachments_part *out)
{
    const char *b;
    size_t blen;
    if (!content_type || !value_is(content_type, ct_len, "multipart/form-data") ||
        header_param(content_type, ct_len, "boundary", &b, &blen) != 1 || blen == 0 ||
        blen > BOUNDARY_MAX)
        return ERR_INVALID;
    char delim[BOUNDARY_MAX + 4]; /* CRLF "--" boundary */
    memcpy(delim, "\r\n--", 4);
    memcpy(delim + 4, b, blen);
    size_t dlen = blen + 4;
    size_t p;
    if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0) {
        p = dlen - 2;
    } else {
        const char *d = len ? memmem(body, len, delim, dlen) : NULL;
        if (!d)
            return ERR_INVALID;
        p = (size_t)(d - body) + dlen;
    }
    bool found = false;
    memset(out, 0, sizeof *out);
    for (;;) {
        if (len - p >= 2 && body[p] == '-' && body[p + 1] == '-')
            return found ? 0 : ERR_NOT_FOUND;
        while (p < len && (body[p] == ' ' || body[p] == '\t'))
            p++; /* transport padding */
        if (len - p < 2 || body[p] != '\r' || body[p + 1] != '\n')
            return ERR_INVALID;
        p += 2;
        const char *name;
        size_t name_len = 0;
        struct attachments_part part = {0};
        int rc = part_headers(body, len, p, &name, &name_len, &part);
        if (rc < 0)
            return rc;
        p = (size_t)rc;
        const char *end = memmem(body + p, len - p, delim, dlen);
        if (!end)
            return ERR_INVALID; /* truncated: no closing delimiter */
        part.data = body + p;
        part.len = (size_t)(end - (body + p));
        if (name && name_len == 4 && memcmp(name, "file", 4) == 0) {
            if (found)
                return ERR_INVALID;
            *out = part;
            found = true;
        }
        p = (size_t)(end - body) + dlen;
    }
}

int attachments_decode_filename(const char *s, size_t len, char *out, size_t outlen)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch == '%' && len - i >= 3 && s[i + 1] == '2' && s[i + 2] == '2') {
            ch = '"';
            i += 2;
        }
        if (n + 1 >= outlen)
            return ERR_TOO_BIG;
        out[n++] = ch;
    }
    if (outlen == 0)
        return ERR_TOO_BIG;
    out[n] = '\0';
    return (int)n;
}

/* ---- setup ---- */

/* Removes every file in dir (not recursive: only temp files live there). */
static void empty_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[PATH_MAX_BYTES];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        int n = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (n > 0 && (size_t)n < sizeof path)
            unlink(path);
    }
    closedir(d);
}

int attachments_prepare_dirs(const char *data_dir, char *err, size_t errlen)
{
    char path[PATH_MAX_BYTES];
    const char *sub[] = {"files", "files/tmp"};
    for (size_t i = 0; i < 2; i++) {
        int n = snprintf(path, sizeof path, "%s/%s", data_dir, sub[i]);
        if (n < 0 || (size_t)n >= sizeof path) {
            snprintf(err, errlen, "the data directory path is too long");
            return ERR_TOO_BIG;
        }
        if (mkdir(path, 0750) != 0 && errno != EEXIST) {
            int e = errno;
            snprintf(err, errlen, "cannot create %s: %s", path, strerror(e));
            return -e;
        }
    }
    empty_dir(path);
    return 0;
}

void attachments_init(struct attachments *a, const struct attachments_config *cfg)
{
    memset(a, 0, sizeof *a);
    a->cfg = *cfg;
    struct buf b;
    buf_init(&b, PATH_MAX_BYTES);
    buf_appendf(&b, "%s/files", cfg->data_dir);
    a->files_dir = buf_detach(&b, NULL);
}

void attachments_free(struct attachments *a)
{
    free(a->files_dir);
    free(a->sweep_rows);
    a->files_dir = NULL;
    a->sweep_rows = NULL;
}

/* "<files>/<2 hex>/<id>" (shard true: without the last part), heap-allocated. */
static char *path_of(const struct attachments *a, const char *id, bool shard)
{
    struct buf b;
    buf_init(&b, PATH_MAX_BYTES);
    buf_appendf(&b, "%s/%.2s", a->files_dir, id + strlen(ID_PREFIX));
    if (!shard)
        buf_appendf(&b, "/%s", id);
    return buf_detach(&b, NULL);
}

static bool id_ok(const char *id)
{
    return id && id_is_valid(ID_PREFIX, id, strlen(id));
}

/* ---- answers ---- */

static bool is_image(const char *mime)
{
    /* SVG can carry script: it is served as a download, never shown inline. */
    return strncmp(mime, "image/", 6) == 0 && strcmp(mime, "image/svg+xml") != 0;
}

/* The Attachment object of spec §11.2; upload instructions only while bytes are awaited. */
static void write_attachment(struct jw *w, const struct store_attachment *at, bool descriptor)
{
    char url[ID_MAX + 64];
    jw_obj_begin(w);
    jw_kv_str(w, "id", at->id);
    jw_kv_str(w, "name", at->name);
    jw_kv_str(w, "mime_type", at->mime_type);
    jw_kv_str(w, "type", at->image ? "image" : "file");
    if (at->image) {
        snprintf(url, sizeof url, "/files/%s", at->id);
        jw_kv_str(w, "preview_url", url);
    }
    if (at->thread_id[0])
        jw_kv_str(w, "thread_id", at->thread_id);
    if (descriptor) {
        snprintf(url, sizeof url, "/api/chatkit/attachments/%s/upload", at->id);
        jw_key(w, "upload_descriptor");
        jw_obj_begin(w);
        jw_kv_str(w, "url", url);
        jw_kv_str(w, "method", "PUT");
        jw_key(w, "headers");
        jw_obj_begin(w);
        jw_obj_end(w);
        jw_obj_end(w);
    }
    jw_obj_end(w);
}

static void respond_attachment(struct http_request *req, const struct store_attachment *at,
                               bool descriptor)
{
    struct buf b;
    buf_init(&b, JSON_MAX);
    struct jw w;
    jw_init(&w, &b);
    write_attachment(&w, at, descriptor);
    if (jw_done(&w))
        http_respond_error(req, 500, "internal_error", "the attachment could not be encoded");
    else
        http_respond_json(req, 200, &b);
    buf_free(&b);
}

static void respond_store_error(struct http_request *req, int status)
{
    if (status == ERR_NOT_FOUND)
        http_respond_error(req, 404, "attachment_not_found", "no such attachment");
    else
        http_respond_error(req, 503, "store_unavailable", "the store failed; try again shortly");
}

static void respond_too_large(struct attachments *a, struct http_request *req)
{
    http_respond_error(req, 413, "attachment_too_large", "files may be at most %zu bytes",
                       a->cfg.max_bytes);
}

static void respond_type(struct attachments *a, struct http_request *req, const char *mime)
{
    http_respond_error(req, 400, "attachment_type_not_allowed",
                       "%s files are not accepted; allowed: %s", mime, a->cfg.types);
}

/* Fills a new pending record from a name, size and MIME type, answering req on a bad one. */
static int record_fill(struct attachments *a, struct http_request *req, struct store_attachment *at,
                       const char *name, size_t name_len, int64_t size, const char *mime,
                       size_t mime_len)
{
    if (attachments_check_name(name, name_len)) {
        http_respond_error(req, 400, "invalid_request",
                           "the file name must be 1 to %d bytes of UTF-8 without control "
                           "characters or '/'",
                           ATTACHMENTS_NAME_MAX);
        return ERR_INVALID;
    }
    if (size < 1) {
        http_respond_error(req, 400, "invalid_request", "the file must not be empty");
        return ERR_INVALID;
    }
    if ((uint64_t)size > a->cfg.max_bytes) {
        respond_too_large(a, req);
        return ERR_TOO_BIG;
    }
    char base[ATTACHMENTS_MIME_MAX + 1];
    if (attachments_mime_base(mime, mime_len, base) ||
        !attachments_type_allowed(a->cfg.types, base)) {
        char shown[ATTACHMENTS_MIME_MAX + 1];
        snprintf(shown, sizeof shown, "%.*s", (int)(mime_len < 64 ? mime_len : 64), mime);
        for (char *p = shown; *p; p++)
            *p = (unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f ? '?' : *p;
        respond_type(a, req, shown);
        return ERR_INVALID;
    }
    memset(at, 0, sizeof *at);
    id_new(ID_PREFIX, at->id);
    memcpy(at->name, name, name_len);
    at->name[name_len] = '\0';
    snprintf(at->mime_type, sizeof at->mime_type, "%s", base);
    at->size = size;
    at->image = is_image(base);
    at->state = STORE_ATTACHMENT_PENDING;
    at->created_us = clock_wall_us();
    return 0;
}

/* ---- attachments.create / attachments.delete ---- */

/* One JSON request from POST /chatkit. Owned by itself: freed when answered. */
struct json_op {
    struct store_job job;
    struct attachments *a;
    struct http_request *req;
};

static void created(struct store_job *job)
{
    struct json_op *op = job->data;
    if (job->status)
        respond_store_error(op->req, job->status == ERR_NOT_FOUND ? ERR_IO : job->status);
    else
        respond_attachment(op->req, &job->attachment, true);
    store_job_clear(job);
    free(op);
}

void attachments_create(struct attachments *a, struct http_request *req, const char *user_id,
                        const char *name, int64_t size, const char *mime_type)
{
    struct json_op *op = xcalloc(1, sizeof *op);
    store_job_init(&op->job, STORE_ATTACHMENT_CREATE, created, op);
    if (record_fill(a, req, &op->job.attachment, name, strlen(name), size, mime_type,
                    strlen(mime_type))) {
        free(op);
        return;
    }
    op->a = a;
    op->req = req;
    snprintf(op->job.user_id, sizeof op->job.user_id, "%s", user_id);
    if (a->closed || store_submit(a->cfg.store, &op->job)) {
        free(op);
        http_respond_error(req, 503, "store_unavailable", "the store is not accepting work");
    }
}

static void deleted(struct store_job *job)
{
    struct json_op *op = job->data;
    if (job->status) {
        respond_store_error(op->req, job->status);
    } else {
        attachments_unlink(op->a, job->attachment.id);
        http_respond(op->req, 200, "application/json", "{}", 2);
    }
    store_job_clear(job);
    free(op);
}

void attachments_delete(struct attachments *a, struct http_request *req, const char *user_id,
                        const char *id)
{
    if (!id_ok(id)) {
        http_respond_error(req, 404, "attachment_not_found", "no such attachment");
        return;
    }
    struct json_op *op = xcalloc(1, sizeof *op);
    op->a = a;
    op->req = req;
    store_job_init(&op->job, STORE_ATTACHMENT_DELETE, deleted, op);
    snprintf(op->job.user_id, sizeof op->job.user_id, "%s", user_id);
    snprintf(op->job.attachment.id, sizeof op->job.attachment.id, "%s", id);
    if (a->closed || store_submit(a->cfg.store, &op->job)) {
        free(op);
        http_respond_error(req, 503, "store_unavailable", "the store is not accepting work");
    }
}

/* ---- file operations nobody waits for ---- */

/* Removing bytes, or closing a file after a failure: the answer does not depend on them, but they
 * must not block the loop either. Owned by itself: freed in its callback. */
struct bg_op {
    uv_fs_t fs;
    struct attachments *a;
};

static void bg_done(uv_fs_t *fs)
{
    struct bg_op *op = fs->data;
    if (fs->result < 0 && fs->result != UV_ENOENT && fs->fs_type == UV_FS_UNLINK)
        log_warn(op->a->cfg.log, "cannot remove %s: %s", fs->path, uv_strerror((int)fs->result));
    uv_fs_req_cleanup(fs);
    free(op);
}

static void bg_unlink(struct attachments *a, const char *path)
{
    struct bg_op *op = xcalloc(1, sizeof *op);
    op->a = a;
    op->fs.data = op;
    int rc = uv_fs_unlink(a->cfg.loop, &op->fs, path, bg_done);
    if (rc) {
        log_warn(a->cfg.log, "cannot remove %s: %s", path, uv_strerror(rc));
        free(op);
    }
}

static void bg_close(struct attachments *a, uv_file fd)
{
    struct bg_op *op = xcalloc(1, sizeof *op);
    op->a = a;
    op->fs.data = op;
    if (uv_fs_close(a->cfg.loop, &op->fs, fd, bg_done))
        free(op);
}

void attachments_unlink(struct attachments *a, const char *id)
{
    if (!id_ok(id))
        return;
    char *path = path_of(a, id, false);
    bg_unlink(a, path);
    free(path);
}

/* ---- uploads ---- */

/* One upload request, two-phase or direct. Owned by itself: freed in upload_end. The bytes are a
 * view into req->body, valid until the request is answered. */
struct upload {
    struct attachments *a;
    struct http_request *req;
    struct store_job job;
    struct store_attachment att; /* the record being filled */
    const char *data;
    size_t len;
    size_t written;
    uv_fs_t fs;
    uv_file fd;
    bool fs_busy;      /* fs holds a request to clean up */
    char *tmp_path;    /* owned */
    char *final_path;  /* owned */
    bool final_exists; /* renamed into place: remove it if the record update fails */
};

static void upload_end(struct upload *u)
{
    if (u->fs_busy)
        uv_fs_req_cleanup(&u->fs);
    store_job_clear(&u->job);
    free(u->tmp_path);
    free(u->final_path);
    free(u);
}

static void upload_fail(struct upload *u, int status, const char *code, const char *msg)
{
    http_respond_error(u->req, status, code, "%s", msg);
    upload_end(u);
}

/* Closes the temp file if it is open, removes it, and answers. A file operation failing is the
 * server's problem, not the client's. */
static void upload_io_failed(struct upload *u, const char *what, ssize_t result)
{
    log_error(u->a->cfg.log, "req=%s attachment %s: %s failed: %s", u->req->id, u->att.id, what,
              uv_strerror((int)result));
    if (u->fd >= 0)
        bg_close(u->a, u->fd);
    u->fd = -1;
    bg_unlink(u->a, u->tmp_path);
    upload_fail(u, 500, "storage_failed", "the file could not be stored; try again");
}

static void upload_updated(struct store_job *job)
{
    struct upload *u = job->data;
    if (job->status) {
        /* Deleted (or swept) while its bytes were being written: nobody can reach this file. */
        attachments_unlink(u->a, u->att.id);
        respond_store_error(u->req, job->status);
        upload_end(u);
        return;
    }
    respond_attachment(u->req, &job->attachment, false);
    upload_end(u);
}

static void upload_submit(struct upload *u, enum store_op op, store_job_cb cb)
{
    char user[STORE_USER_ID_MAX];
    memcpy(user, u->job.user_id, sizeof user);
    store_job_clear(&u->job);
    store_job_init(&u->job, op, cb, u);
    memcpy(u->job.user_id, user, sizeof user);
    u->job.attachment = u->att;
    if (!u->a->closed && store_submit(u->a->cfg.store, &u->job) == 0)
        return;
    if (u->final_exists)
        attachments_unlink(u->a, u->att.id);
    upload_fail(u, 503, "store_unavailable", "the store is not accepting work");
}

static void fs_done(struct upload *u)
{
    uv_fs_req_cleanup(&u->fs);
    u->fs_busy = false;
}

static void upload_renamed(uv_fs_t *fs)
{
    struct upload *u = fs->data;
    ssize_t r = fs->result;
    fs_done(u);
    if (r < 0) {
        upload_io_failed(u, "rename", r);
        return;
    }
    u->final_exists = true;
    u->att.state = STORE_ATTACHMENT_UPLOADED;
    u->att.size = (int64_t)u->len;
    upload_submit(u, STORE_ATTACHMENT_UPDATE, upload_updated);
}

static void upload_closed(uv_fs_t *fs)
{
    struct upload *u = fs->data;
    ssize_t r = fs->result;
    fs_done(u);
    u->fd = -1;
    int rc = r < 0
                 ? (int)r
                 : uv_fs_rename(u->a->cfg.loop, &u->fs, u->tmp_path, u->final_path, upload_renamed);
    if (rc) {
        upload_io_failed(u, r < 0 ? "close" : "rename", rc);
        return;
    }
    u->fs_busy = true;
}

static void upload_synced(uv_fs_t *fs)
{
    struct upload *u = fs->data;
    ssize_t r = fs->result;
    fs_done(u);
    int rc = r < 0 ? (int)r : uv_fs_close(u->a->cfg.loop, &u->fs, u->fd, upload_closed);
    if (rc) {
        upload_io_failed(u, "fsync", rc);
        return;
    }
    u->fs_busy = true;
}

static void upload_written(uv_fs_t *fs);

/* Writes the rest of the bytes, then syncs them: the record says "uploaded" only for bytes that
 * survive a crash. */
static void upload_write_more(struct upload *u)
{
    int rc;
    if (u->written < u->len) {
        uv_buf_t b = uv_buf_init((char *)u->data + u->written, (unsigned)(u->len - u->written));
        rc = uv_fs_write(u->a->cfg.loop, &u->fs, u->fd, &b, 1, -1, upload_written);
    } else {
        rc = uv_fs_fsync(u->a->cfg.loop, &u->fs, u->fd, upload_synced);
    }
    if (rc) {
        upload_io_failed(u, "write", rc);
        return;
    }
    u->fs_busy = true;
}

static void upload_written(uv_fs_t *fs)
{
    struct upload *u = fs->data;
    ssize_t r = fs->result;
    fs_done(u);
    if (r <= 0) {
        upload_io_failed(u, "write", r ? r : UV_EIO);
        return;
    }
    u->written += (size_t)r;
    upload_write_more(u);
}

static void upload_opened(uv_fs_t *fs)
{
    struct upload *u = fs->data;
    ssize_t r = fs->result;
    fs_done(u);
    if (r < 0) {
        upload_io_failed(u, "open", r);
        return;
    }
    u->fd = (uv_file)r;
    upload_write_more(u);
}

static void upload_dir_made(uv_fs_t *fs)
{
    struct upload *u = fs->data;
    ssize_t r = fs->result;
    fs_done(u);
    int rc = r < 0 && r != UV_EEXIST
                 ? (int)r
                 : uv_fs_open(u->a->cfg.loop, &u->fs, u->tmp_path,
                              O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640, upload_opened);
    if (rc) {
        upload_io_failed(u, "mkdir", rc);
        return;
    }
    u->fs_busy = true;
}

/* Writes the bytes: shard directory, temp file, write, fsync, close, rename, record update. */
static void upload_write(struct upload *u)
{
    struct attachments *a = u->a;
    struct buf b;
    buf_init(&b, PATH_MAX_BYTES);
    buf_appendf(&b, "%s/tmp/%s.%llu", a->files_dir, u->att.id, (unsigned long long)++a->tmp_seq);
    u->tmp_path = buf_detach(&b, NULL);
    u->final_path = path_of(a, u->att.id, false);
    char *dir = path_of(a, u->att.id, true);
    u->fs.data = u;
    int rc = uv_fs_mkdir(a->cfg.loop, &u->fs, dir, 0750, upload_dir_made);
    free(dir);
    if (rc) {
        upload_io_failed(u, "mkdir", rc);
        return;
    }
    u->fs_busy = true;
}

/* The bytes of a two-phase upload: the `file` part of a multipart body, else the raw body. */
static int upload_bytes(struct upload *u)
{
    struct http_request *req = u->req;
    size_t ctl;
    const char *ct = http_request_header(req, "Content-Type", &ctl);
    u->data = req->body.data ? req->body.data : "";
    u->len = req->body.len;
    if (ct && value_is(ct, ctl, "multipart/form-data")) {
        struct attachments_part part;
        if (attachments_multipart_file(ct, ctl, u->data, u->len, &part)) {
            upload_fail(u, 400, "invalid_multipart",
                        "the body must be multipart/form-data with one `file` field");
            return ERR_INVALID;
        }
        u->data = part.data;
        u->len = part.len;
    }
    if (u->len == 0) {
        upload_fail(u, 400, "invalid_request", "the file must not be empty");
        return ERR_INVALID;
    }
    if (u->len > u->a->cfg.max_bytes) {
        respond_too_large(u->a, req);
        upload_end(u);
        return ERR_TOO_BIG;
    }
    if ((int64_t)u->len > u->att.size) {
        http_respond_error(req, 413, "attachment_too_large",
                           "the upload has %zu bytes; attachments.create declared %lld", u->len,
                           (long long)u->att.size);
        upload_end(u);
        return ERR_TOO_BIG;
    }
    return 0;
}

static void upload_loaded(struct store_job *job)
{
    struct upload *u = job->data;
    if (job->status) {
        respond_store_error(u->req, job->status);
        upload_end(u);
        return;
    }
    if (job->attachment.state != STORE_ATTACHMENT_PENDING) {
        upload_fail(u, 409, "attachment_already_uploaded", "this attachment has its bytes");
        return;
    }
    u->att = job->attachment;
    if (upload_bytes(u) == 0)
        upload_write(u);
}

static struct upload *upload_new(struct attachments *a, struct http_request *req,
                                 const struct store_session *s)
{
    struct upload *u = xcalloc(1, sizeof *u);
    u->a = a;
    u->req = req;
    u->fd = -1;
    snprintf(u->job.user_id, sizeof u->job.user_id, "%s", s->user_id);
    return u;
}

static void two_phase_authed(struct http_request *req, const struct store_session *s, void *data)
{
    struct attachments *a = data;
    char id[ID_MAX];
    if (http_request_param(req, "id", id, sizeof id) != 1 || !id_ok(id)) {
        http_respond_error(req, 404, "attachment_not_found", "no such attachment");
        return;
    }
    struct upload *u = upload_new(a, req, s);
    snprintf(u->att.id, sizeof u->att.id, "%s", id);
    upload_submit(u, STORE_ATTACHMENT_GET, upload_loaded);
}

static void route_upload(struct http_request *req, void *data)
{
    struct attachments *a = data;
    auth_with_session(a->cfg.auth, req, two_phase_authed, a);
}

static void direct_created(struct store_job *job)
{
    struct upload *u = job->data;
    if (job->status) {
        respond_store_error(u->req, job->status == ERR_NOT_FOUND ? ERR_IO : job->status);
        upload_end(u);
        return;
    }
    upload_write(u);
}

static void direct_authed(struct http_request *req, const struct store_session *s, void *data)
{
    struct attachments *a = data;
    size_t ctl;
    const char *ct = http_request_header(req, "Content-Type", &ctl);
    struct attachments_part part;
    if (attachments_multipart_file(ct, ct ? ctl : 0, req->body.data ? req->body.data : "",
                                   req->body.len, &part) ||
        !part.filename) {
        http_respond_error(req, 400, "invalid_multipart",
                           "the body must be multipart/form-data with one `file` field that "
                           "has a filename");
        return;
    }
    char name[ATTACHMENTS_NAME_MAX + 2];
    int nlen = attachments_decode_filename(part.filename, part.filename_len, name, sizeof name);
    if (nlen < 0)
        nlen = ATTACHMENTS_NAME_MAX + 1; /* fails the name check below */
    static const char octet[] = "application/octet-stream";
    struct upload *u = upload_new(a, req, s);
    if (record_fill(a, req, &u->att, name, (size_t)nlen, (int64_t)part.len,
                    part.content_type ? part.content_type : octet,
                    part.content_type ? part.content_type_len : sizeof octet - 1)) {
        upload_end(u);
        return;
    }
    u->data = part.data;
    u->len = part.len;
    upload_submit(u, STORE_ATTACHMENT_CREATE, direct_created);
}

static void route_direct(struct http_request *req, void *data)
{
    struct attachments *a = data;
    auth_with_session(a->cfg.auth, req, direct_authed, a);
}

/* ---- GET /files/{id} ---- */

/* One file being read for an answer. Owned by itself: freed in serve_end. */
struct serve {
    struct attachments *a;
    struct http_request *req;
    struct store_job job;
    uv_fs_t fs;
    bool fs_busy;
    uv_file fd;
    char *data; /* owned; the file's bytes */
    size_t len, got;
};

static void serve_end(struct serve *sv)
{
    if (sv->fs_busy)
        uv_fs_req_cleanup(&sv->fs);
    store_job_clear(&sv->job);
    free(sv->data);
    free(sv);
}

static void serve_fs_done(struct serve *sv)
{
    uv_fs_req_cleanup(&sv->fs);
    sv->fs_busy = false;
}

/* RFC 8187 attr-char: what filename* may carry without percent-encoding. */
static bool attr_char(unsigned char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch && ch < 0x80 && strchr("!#$&+-.^_`|~", ch));
}

/* Content-Disposition with the file name: a quoted ASCII fallback ('_' for each non-ASCII
 * character) and, when the name is not plain ASCII, the exact name as RFC 8187 filename*. */
static void add_disposition(struct http_request *req, const struct store_attachment *at)
{
    struct buf b;
    buf_init(&b, 4096);
    buf_append_str(&b, at->image ? "inline; filename=\"" : "attachment; filename=\"");
    bool ascii = true;
    for (const unsigned char *p = (const unsigned char *)at->name; *p; p++) {
        if (*p >= 0x80) {
            ascii = false;
            if ((*p & 0xc0) != 0x80)
                buf_append_char(&b, '_');
            continue;
        }
        if (*p == '"' || *p == '\\')
            buf_append_char(&b, '\\');
        buf_append_char(&b, (char)*p);
    }
    buf_append_char(&b, '"');
    if (!ascii) {
        buf_append_str(&b, "; filename*=UTF-8''");
        for (const unsigned char *p = (const unsigned char *)at->name; *p; p++) {
            if (attr_char(*p))
                buf_append_char(&b, (char)*p);
            else
                buf_appendf(&b, "%%%02X", *p);
        }
    }
    http_response_header(req, "Content-Disposition", b.data);
    buf_free(&b);
}

static void serve_respond(struct serve *sv)
{
    struct http_request *req = sv->req;
    const struct store_attachment *at = &sv->job.attachment;
    add_disposition(req, at);
    http_response_header(req, "X-Content-Type-Options", "nosniff");
    http_response_header(req, "Cache-Control", "private, max-age=3600");
    /* Even a file a browser would render (HTML in a text/plain upload, say) runs nothing. */
    http_response_header(req, "Content-Security-Policy", "default-src 'none'; sandbox");
    http_respond(req, 200, at->mime_type, sv->data, sv->got);
    serve_end(sv);
}

static void serve_io_failed(struct serve *sv, const char *what, ssize_t result)
{
    if (result == UV_ENOENT) {
        /* A record without bytes: deleted under us, or lost; either way not there. */
        http_respond_error(sv->req, 404, "attachment_not_found", "no such file");
    } else {
        log_error(sv->a->cfg.log, "req=%s attachment %s: %s failed: %s", sv->req->id,
                  sv->job.attachment.id, what, uv_strerror((int)result));
        http_respond_error(sv->req, 500, "storage_failed", "the file could not be read");
    }
    serve_end(sv);
}

static void serve_closed(uv_fs_t *fs)
{
    struct serve *sv = fs->data;
    serve_fs_done(sv);
    serve_respond(sv); /* a failed close of a read-only file loses nothing */
}

static void serve_close_quietly(struct serve *sv)
{
    bg_close(sv->a, sv->fd);
    sv->fd = -1;
}

static void serve_read(uv_fs_t *fs);

static void serve_read_more(struct serve *sv)
{
    int rc;
    if (sv->got < sv->len) {
        uv_buf_t b = uv_buf_init(sv->data + sv->got, (unsigned)(sv->len - sv->got));
        rc = uv_fs_read(sv->a->cfg.loop, &sv->fs, sv->fd, &b, 1, (int64_t)sv->got, serve_read);
    } else {
        rc = uv_fs_close(sv->a->cfg.loop, &sv->fs, sv->fd, serve_closed);
    }
    if (rc) {
        serve_close_quietly(sv);
        serve_io_failed(sv, "read", rc);
        return;
    }
    sv->fs_busy = true;
}

static void serve_read(uv_fs_t *fs)
{
    struct serve *sv = fs->data;
    ssize_t r = fs->result;
    serve_fs_done(sv);
    if (r < 0) {
        serve_close_quietly(sv);
        serve_io_failed(sv, "read", r);
        return;
    }
    if (r == 0)
        sv->len = sv->got; /* shorter than it was a moment ago: send what is there */
    sv->got += (size_t)r;
    serve_read_more(sv);
}

static void serve_stat(uv_fs_t *fs)
{
    struct serve *sv = fs->data;
    ssize_t r = fs->result;
    uint64_t size = fs->statbuf.st_size;
    serve_fs_done(sv);
    if (r < 0 || size > READ_MAX) {
        serve_close_quietly(sv);
        serve_io_failed(sv, "fstat", r < 0 ? r : UV_EFBIG);
        return;
    }
    sv->len = (size_t)size;
    sv->data = xmalloc(sv->len ? sv->len : 1);
    serve_read_more(sv);
}

static void serve_opened(uv_fs_t *fs)
{
    struct serve *sv = fs->data;
    ssize_t r = fs->result;
    serve_fs_done(sv);
    if (r < 0) {
        serve_io_failed(sv, "open", r);
        return;
    }
    sv->fd = (uv_file)r;
    int rc = uv_fs_fstat(sv->a->cfg.loop, &sv->fs, sv->fd, serve_stat);
    if (rc) {
        serve_close_quietly(sv);
        serve_io_failed(sv, "fstat", rc);
        return;
    }
    sv->fs_busy = true;
}

static void serve_loaded(struct store_job *job)
{
    struct serve *sv = job->data;
    if (job->status || job->attachment.state != STORE_ATTACHMENT_UPLOADED) {
        respond_store_error(sv->req, job->status ? job->status : ERR_NOT_FOUND);
        serve_end(sv);
        return;
    }
    char *path = path_of(sv->a, job->attachment.id, false);
    sv->fs.data = sv;
    int rc = uv_fs_open(sv->a->cfg.loop, &sv->fs, path, O_RDONLY | O_CLOEXEC, 0, serve_opened);
    free(path);
    if (rc) {
        serve_io_failed(sv, "open", rc);
        return;
    }
    sv->fs_busy = true;
}

static void serve_authed(struct http_request *req, const struct store_session *s, void *data)
{
    struct attachments *a = data;
    char id[ID_MAX];
    if (http_request_param(req, "id", id, sizeof id) != 1 || !id_ok(id)) {
        http_respond_error(req, 404, "attachment_not_found", "no such file");
        return;
    }
    struct serve *sv = xcalloc(1, sizeof *sv);
    sv->a = a;
    sv->req = req;
    sv->fd = -1;
    store_job_init(&sv->job, STORE_ATTACHMENT_GET, serve_loaded, sv);
    snprintf(sv->job.user_id, sizeof sv->job.user_id, "%s", s->user_id);
    memcpy(sv->job.attachment.id, id, sizeof id);
    if (a->closed || store_submit(a->cfg.store, &sv->job)) {
        free(sv);
        http_respond_error(req, 503, "store_unavailable", "the store is not accepting work");
    }
}

/* <img src> cannot send an Authorization header, so the secret may come as ?token= instead. */
static void route_file(struct http_request *req, void *data)
{
    struct attachments *a = data;
    size_t len;
    char token[SECRET_MAX + 1];
    if (!http_request_bearer(req, &len) &&
        http_request_query(req, "token", token, sizeof token) == 1) {
        auth_with_secret(a->cfg.auth, req, token, strlen(token), serve_authed, a);
        return;
    }
    auth_with_session(a->cfg.auth, req, serve_authed, a);
}

int attachments_register_routes(struct attachments *a, struct http_router *r)
{
    size_t limit = a->cfg.max_bytes + MULTIPART_SLACK;
    int rc = http_router_add_limit(r, "PUT", "/api/chatkit/attachments/{id}/upload", route_upload,
                                   a, limit);
    if (!rc)
        rc = http_router_add_limit(r, "POST", "/api/chatkit/attachments/{id}/upload", route_upload,
                                   a, limit);
    if (!rc)
        rc = http_router_add_limit(r, "POST", "/api/chatkit/upload", route_direct, a, limit);
    if (!rc)
        rc = http_router_add(r, "GET", "/files/{id}", route_file, a);
    return rc;
}

/* ---- the sweep of unused uploads ---- */

static void sweep_query(struct attachments *a);

static void sweep_finish(struct attachments *a)
{
    if (a->sweep_removed)
        log_info(a->cfg.log, "removed %llu upload(s) never attached to a message",
                 (unsigned long long)a->sweep_removed);
    free(a->sweep_rows);
    a->sweep_rows = NULL;
    a->sweep_n = a->sweep_i = 0;
    a->sweeping = false;
}

static void sweep_deleted(struct store_job *job);

/* Deletes the next stale row (its record, then its bytes); one store job at a time, so a sweep
 * never crowds out the requests sharing the writer. */
static void sweep_next(struct attachments *a)
{
    if (a->closed || a->sweep_i == a->sweep_n) {
        bool more = a->sweep_more && !a->closed && a->sweep_n > 0;
        free(a->sweep_rows);
        a->sweep_rows = NULL;
        a->sweep_n = a->sweep_i = 0;
        if (more)
            sweep_query(a);
        else
            sweep_finish(a);
        return;
    }
    const struct store_attachment *row = &a->sweep_rows[a->sweep_i++];
    store_job_init(&a->sweep_job, STORE_ATTACHMENT_DELETE, sweep_deleted, a);
    memcpy(a->sweep_job.user_id, row->user_id, sizeof row->user_id);
    memcpy(a->sweep_job.attachment.id, row->id, sizeof row->id);
    if (store_submit(a->cfg.store, &a->sweep_job))
        sweep_finish(a);
}

static void sweep_deleted(struct store_job *job)
{
    struct attachments *a = job->data;
    if (job->status == 0) {
        attachments_unlink(a, job->attachment.id);
        a->sweep_removed++;
    } else if (job->status != ERR_NOT_FOUND) {
        log_warn(a->cfg.log, "upload sweep: %s", job->error);
        a->sweep_more = false; /* try again at the next tick, not in a loop */
    }
    store_job_clear(job);
    sweep_next(a);
}

static void sweep_listed(struct store_job *job)
{
    struct attachments *a = job->data;
    if (job->status) {
        log_warn(a->cfg.log, "upload sweep: %s", job->error);
        store_job_clear(job);
        sweep_finish(a);
        return;
    }
    a->sweep_n = job->list.n;
    a->sweep_i = 0;
    a->sweep_more = job->list.has_more;
    a->sweep_rows = xmalloc((a->sweep_n ? a->sweep_n : 1) * sizeof *a->sweep_rows);
    if (a->sweep_n)
        memcpy(a->sweep_rows, job->list.attachments, a->sweep_n * sizeof *a->sweep_rows);
    store_job_clear(job);
    sweep_next(a);
}

static void sweep_query(struct attachments *a)
{
    store_job_init(&a->sweep_job, STORE_ATTACHMENT_STALE, sweep_listed, a);
    a->sweep_job.before_us = clock_wall_us() - (int64_t)a->cfg.ttl_s * USEC_PER_SEC;
    a->sweep_job.page.limit = SWEEP_PAGE;
    if (a->closed || store_submit(a->cfg.store, &a->sweep_job))
        sweep_finish(a);
}

static void sweep_tick(uv_timer_t *t)
{
    struct attachments *a = t->data;
    if (a->sweeping || a->closed)
        return;
    a->sweeping = true;
    a->sweep_removed = 0;
    sweep_query(a);
}

void attachments_start(struct attachments *a)
{
    uint64_t ms = a->cfg.ttl_s * 1000;
    if (ms > SWEEP_INTERVAL_MS)
        ms = SWEEP_INTERVAL_MS;
    uv_timer_init(a->cfg.loop, &a->sweep_timer);
    a->sweep_timer.data = a;
    a->timer_started = true;
    uv_timer_start(&a->sweep_timer, sweep_tick, ms, ms);
}

void attachments_close(struct attachments *a)
{
    if (a->closed)
        return;
    a->closed = true;
    if (a->timer_started) {
        uv_timer_stop(&a->sweep_timer);
        uv_close((uv_handle_t *)&a->sweep_timer, NULL);
    }
}
