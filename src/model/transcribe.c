/* transcribe.c - speech to text through {base}/v1/audio/transcriptions (model.h). */
#include "core/err.h"
#include "core/id.h"
#include "core/json_read.h"
#include "core/xalloc.h"
#include "model/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRANSCRIPT_MAX (256 * 1024)
#define AUDIO_MAX      (64 * 1024 * 1024)

struct transcription {
    struct model_provider *prov;
    model_transcribe_cb cb;
    void *data;
    struct buf form; /* the request body (libcurl reads it until the call ends) */
};

static void on_done(void *data, int code, int status, const char *body, size_t len,
                    const char *message)
{
    struct transcription *t = data;
    cJSON *doc = json_parse(body, len, 16, NULL);
    const char *text = NULL, *msg = NULL;
    char why[300];
    if (code && !status) {
        snprintf(why, sizeof why, "cannot reach the speech-to-text server: %s", message);
        t->prov->stats.failed_total++;
        t->cb(t->data, ERR_UNAVAILABLE, why);
    } else if (status >= 200 && status <= 299 && json_get_str(doc, "text", &text) == 0) {
        t->cb(t->data, 0, text);
    } else {
        json_get_str(json_get(doc, "error"), "message", &msg);
        snprintf(why, sizeof why, "%s", msg ? msg : "the speech-to-text server failed");
        t->prov->stats.failed_total++;
        t->cb(t->data, status >= 400 && status < 500 ? ERR_INVALID : ERR_UNAVAILABLE, why);
    }
    cJSON_Delete(doc);
    buf_free(&t->form);
    free(t);
}

/* A file name the server can tell the format by ("audio.webm" for audio/webm;codecs=opus). */
static void audio_name(const char *mime, char *out, size_t outlen, char *base, size_t baselen)
{
    size_t n = strcspn(mime, ";");
    while (n && mime[n - 1] == ' ')
        n--;
    snprintf(base, baselen, "%.*s", (int)n, mime);
    const char *slash = strchr(base, '/');
    const char *ext = slash && slash[1] ? slash + 1 : "webm";
    if (strcmp(ext, "mpeg") == 0)
        ext = "mp3";
    snprintf(out, outlen, "audio.%s", ext);
}

static int build_form(struct buf *b, const char *boundary, const char *model, const void *audio,
                      size_t len, const char *mime)
{
    char name[64], base[128];
    audio_name(mime, name, sizeof name, base, sizeof base);
    buf_appendf(b, "--%s\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\n%s\r\n", boundary,
                model);
    buf_appendf(b,
                "--%s\r\nContent-Disposition: form-data; name=\"response_format\"\r\n\r\njson\r\n",
                boundary);
    buf_appendf(b,
                "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
                "Content-Type: %s\r\n\r\n",
                boundary, name, base);
    buf_append(b, audio, len);
    return buf_appendf(b, "\r\n--%s--\r\n", boundary);
}

int model_transcribe(struct model_registry *reg, const char *ref, const void *audio, size_t len,
                     const char *mime_type, model_transcribe_cb cb, void *data)
{
    struct model_provider *prov;
    char model[256], why[256], boundary[ID_MAX], ctype[128];
    if (!ref || model_registry_resolve(reg, ref, &prov, model, sizeof model, why, sizeof why))
        return ERR_NOT_FOUND;
    if (!len || strpbrk(mime_type, "\r\n\""))
        return ERR_INVALID;
    id_new("ckd", boundary);
    struct buf form, url;
    buf_init(&form, AUDIO_MAX + 4096);
    buf_init(&url, 4096);
    if (build_form(&form, boundary, model, audio, len, mime_type)) {
        buf_free(&form);
        buf_free(&url);
        return ERR_INVALID;
    }
    buf_appendf(&url, "%s/v1/audio/transcriptions", prov->base_url);
    snprintf(ctype, sizeof ctype, "multipart/form-data; boundary=%s", boundary);
    char **headers = model_provider_headers(prov, ctype, "application/json");
    struct http_call_params p = {.method = "POST",
                                 .url = url.data,
                                 .headers = (const char *const *)headers,
                                 .body = form.data,
                                 .body_len = form.len,
                                 .connect_timeout_ms = reg->cfg.limits.connect_ms,
                                 .total_timeout_ms = reg->cfg.limits.first_token_ms};
    struct transcription *t = xcalloc(1, sizeof *t);
    t->prov = prov;
    t->cb = cb;
    t->data = data;
    t->form = form;
    int rc = http_fetch(reg->cfg.http, &p, TRANSCRIPT_MAX, on_done, t);
    if (rc) {
        buf_free(&t->form);
        free(t);
    } else {
        prov->stats.calls_total++;
    }
    model_headers_free(headers);
    buf_free(&url);
    return rc;
}
