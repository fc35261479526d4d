/* chat_compat.h - the OpenAI-compatible Chat Completions dialect (vLLM, llama.cpp server,
 * Ollama, LM Studio, OpenAI itself): the neutral Responses-style input (provider.h) translated to
 * `messages` and `tools`, and the streamed `chat.completion.chunk`s translated back.
 *
 * Translation of input items: developer/system text and params.instructions become one leading
 * "system" message; user parts become text or `image_url` parts; function_call items become
 * `tool_calls` on an assistant message (merged with the assistant text before them), and
 * function_call_output items become "tool" messages.
 *
 * The chunk assembler: content deltas become text_delta, `reasoning_content` / `reasoning`
 * deltas (vLLM, llama.cpp, Ollama) become reasoning_delta, tool-call fragments are joined per
 * `index` (id and name arrive first, arguments in pieces across chunks) and reported complete
 * once the choice finishes; a usage chunk (`stream_options.include_usage`) fills the usage;
 * `[DONE]` ends the stream. Limits: at most CHAT_MAX_TOOL_CALLS calls per answer, and each
 * call's arguments at most max_args_bytes.
 */
#ifndef CHATKITD_MODEL_CHAT_COMPAT_H
#define CHATKITD_MODEL_CHAT_COMPAT_H

#include "core/buf.h"
#include "core/id.h"
#include "core/json_read.h"
#include "model/provider.h"

#define CHAT_MAX_TOOL_CALLS 16
#define MODEL_STREAM_END    1 /* a feed saw the stream's end marker */

struct chat_tool_frag {
    char *call_id; /* owned */
    char *name;    /* owned */
    struct buf args;
    bool present;
};

/* Ownership: embedded by the model call; chat_stream_free releases what it holds. */
struct chat_stream {
    char response_id[128];
    char finish_reason[32];
    char item_id[ID_MAX]; /* generated "msg_" id for the text of this answer */
    struct model_usage usage;
    struct chat_tool_frag *tools; /* owned: CHAT_MAX_TOOL_CALLS entries from the first tool-call
                                   * fragment on (most answers have none: 1 KB saved per call) */
    bool tools_reported;
    bool token_seen; /* some output (text, reasoning, a tool-call fragment) arrived */
    size_t max_args_bytes;
    char error[256]; /* why a feed failed */
};

/* Writes the request body (stream: true, include_usage) for params into out; 0 or ERR_INVALID
 * (bad input_json/tools_json, why says which) or ERR_TOO_BIG. */
int chat_request_build(const struct model_call_params *params, struct buf *out, char *why,
                       size_t whylen);

void chat_stream_init(struct chat_stream *s, size_t max_args_bytes);
void chat_stream_free(struct chat_stream *s);
/* One SSE data payload. Returns 0, MODEL_STREAM_END after "[DONE]", ERR_INVALID for a chunk that
 * is not JSON or breaks a limit, or ERR_UNAVAILABLE for an error object the server streamed;
 * s->error says why. Events go to ev/data in stream order. */
int chat_stream_feed(struct chat_stream *s, const char *payload, size_t len,
                     const struct model_call_events *ev, void *data);
/* Reads a usage object into out: in_key / out_key are the token counts ("prompt_tokens" or
 * "input_tokens"), their *_details objects hold cached_tokens and reasoning_tokens. Absent
 * fields leave out unchanged. Shared by both dialects. */
void model_usage_read(const cJSON *usage, const char *in_key, const char *out_key,
                      struct model_usage *out);
/* Fills r from the stream (pointers into s). */
void chat_stream_result(const struct chat_stream *s, struct model_call_result *r);

#endif
