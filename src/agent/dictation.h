/* dictation.h - input.transcribe (spec §5.16) answered by the configured speech-to-text model
 * (--transcribe-model): the base64 audio is decoded, sent to the provider's
 * /v1/audio/transcriptions, and the text comes back as {"text": ...}.
 *
 * Errors: audio that is not base64 or is empty is 400 invalid_audio; a provider that refuses it
 * is 400 transcription_failed with its message; an unreachable or failing one is 502.
 */
#ifndef CHATKITD_AGENT_DICTATION_H
#define CHATKITD_AGENT_DICTATION_H

#include "chatkit/request.h"
#include "core/log.h"
#include "http/request.h"
#include "model/model.h"

struct dictation {
    struct model_registry *models; /* not owned */
    const char *model_ref;         /* not owned; "openai:whisper-1" */
    const struct logger *log;      /* not owned */
};

/* The chatkit_config.transcribe hook; data is a struct dictation. */
void dictation_transcribe(void *data, struct http_request *req, const char *user_id,
                          const struct ck_request *creq);

#endif
