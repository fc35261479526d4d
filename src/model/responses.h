/* responses.h - the OpenAI Responses API dialect (`POST {base}/v1/responses`, stream: true).
 *
 * The neutral input format (provider.h) is the Responses format, so the request carries
 * input_json and tools_json nearly as they are. The stream is a series of named events
 * (`event: response.output_text.delta` ...); the ones a turn needs become the provider events:
 * output_text.delta -> text_delta, output_text.annotation.added -> annotation,
 * reasoning_summary_text.delta -> reasoning_delta, a finished function_call item -> tool_call,
 * an image_generation_call item -> image_started (added), image_partial
 * (image_generation_call.partial_image) and image_done (the finished item with its result),
 * response.completed / response.incomplete -> the end (with usage), response.failed and error
 * -> a failure with the upstream's message. Other events are ignored.
 */
#ifndef CHATKITD_MODEL_RESPONSES_H
#define CHATKITD_MODEL_RESPONSES_H

#include "core/buf.h"
#include "model/provider.h"

/* Ownership: embedded by the model call; nothing to free. */
struct responses_stream {
    char response_id[128];
    char finish_reason[32];
    struct model_usage usage;
    bool called_tools;
    bool token_seen;
    char error[256];
};

/* Writes the request body for params; 0, ERR_INVALID (why says what) or ERR_TOO_BIG. */
int responses_request_build(const struct model_call_params *params, struct buf *out, char *why,
                            size_t whylen);
void responses_stream_init(struct responses_stream *s);
/* One event (name from `event:`, or the payload's "type" when the stream names none). Returns 0,
 * MODEL_STREAM_END (1) at the end of the response, ERR_INVALID for a payload that is not JSON,
 * or ERR_UNAVAILABLE for a failed response; s->error says why. */
int responses_stream_feed(struct responses_stream *s, const char *name, const char *payload,
                          size_t len, const struct model_call_events *ev, void *data);
void responses_stream_result(const struct responses_stream *s, struct model_call_result *r);

#endif
