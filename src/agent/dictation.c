#include "agent/dictation.h"

#include "core/base64.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/json_write.h"
#include "core/xalloc.h"
#include "http/response.h"

#include <stdlib.h>
#include <string.h>

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
    long len = creq->audio_base64
                   ? base64_std_decode(creq->audio_base64, strlen(creq->audio_base64), &audio)
                   : -1;
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
