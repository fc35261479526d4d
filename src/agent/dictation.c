#include "agent/dictation.h"

#include "core/buf.h"
#include "core/err.h"
#include "core/json_write.h"
#include "core/xalloc.h"
#include "http/response.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

/* Strict base64 (standard alphabet, padded); the byte count, or -1. */
static long decode_base64(const char *s, unsigned char **out)
{
    size_t n = strlen(s);
    if (n == 0 || n % 4 != 0 || n > (size_t)1 << 30)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool pad = c == '=' && i >= n - 2 && (i == n - 1 || s[n - 1] == '=');
        if (!pad && !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '+' || c == '/'))
            return -1;
    }
    *out = xmalloc(n / 4 * 3 + 1);
    int len = EVP_DecodeBlock(*out, (const unsigned char *)s, (int)n);
    if (len < 0) {
        free(*out);
        return -1;
    }
    len -= (s[n - 1] == '=') + (s[n - 2] == '=');
    return len;
}

static void transcribed(void *data, int code, const char *text)
{
    struct http_request *req = data;
    if (code == ERR_INVALID) {
        http_respond_error(req, 400, "transcription_failed", "%s", text);
        return;
    }
    if (code) {
        http_respond_error(req, 502, "transcription_unavailable", "%s", text);
        return;
    }
    struct buf out;
    buf_init(&out, 1024 * 1024);
    struct jw w;
    jw_init(&w, &out);
    jw_obj_begin(&w);
    jw_kv_str(&w, "text", text);
    jw_obj_end(&w);
    http_respond_json(req, 200, &out);
    buf_free(&out);
}

void dictation_transcribe(void *data, struct http_request *req, const char *user_id,
                          const struct ck_request *creq)
{
    (void)user_id;
    struct dictation *d = data;
    unsigned char *audio = NULL;
    long len = creq->audio_base64 ? decode_base64(creq->audio_base64, &audio) : -1;
    if (len <= 0) {
        free(audio);
        http_respond_error(req, 400, "invalid_audio", "params.audio_base64 must be base64 audio");
        return;
    }
    const char *mime = creq->mime_type ? creq->mime_type : "audio/webm";
    int rc = model_transcribe(d->models, d->model_ref, audio, (size_t)len, mime, transcribed, req);
    free(audio);
    if (rc == ERR_INVALID)
        http_respond_error(req, 400, "invalid_audio", "params.mime_type is not usable");
    else if (rc)
        http_respond_error(req, 400, "transcription_unavailable",
                           "no speech-to-text provider is configured");
}
