/* provider.h - one streamed model call, whatever the upstream: the contract between the model
 * providers (OpenAI Responses, OpenAI-compatible Chat Completions) and the workflow runtime.
 *
 * The runtime speaks one neutral format, the Responses API's: input items in, text deltas /
 * reasoning / citations / function calls out. The Responses provider sends that format almost
 * as is; the Chat Completions provider translates it to `messages` and `tools` and its chunks
 * back. Everything runs on the loop thread (libcurl multi-socket on the loop, DESIGN §2); no
 * callback ever runs from inside model_call_start().
 *
 * Input items (params.input_json, a JSON array; see spec §16.2 for how thread items map to them):
 *   {"type":"message","role":"user"|"assistant"|"developer","content":[PART...]}
 *     PART = {"type":"input_text","text":S} | {"type":"output_text","text":S}
 *          | {"type":"input_image","image_url":URL-or-data-URL}
 *   {"type":"function_call","call_id":S,"name":S,"arguments":JSON-TEXT}
 *   {"type":"function_call_output","call_id":S,"output":TEXT}
 * Tools (params.tools_json, a JSON array or NULL):
 *   {"type":"function","name":S,"description":S,"parameters":JSON-SCHEMA}
 */
#ifndef CHATKITD_MODEL_PROVIDER_H
#define CHATKITD_MODEL_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct model_usage {
    int64_t input_tokens;
    int64_t output_tokens;
    int64_t reasoning_tokens; /* 0 when the upstream does not say */
    int64_t cached_tokens;    /* 0 when the upstream does not say */
};

struct model_call_params {
    const char *model;                /* the upstream's model name ("gpt-4.1", "llama3.1:8b") */
    const char *instructions;         /* system/developer text, or NULL */
    const char *input_json;           /* JSON array of input items (above) */
    const char *tools_json;           /* JSON array of tools (above), or NULL */
    const char *tool_choice;          /* NULL or "auto", "none", "required", or a tool's name */
    const char *output_schema_json;   /* JSON schema the answer must follow, or NULL for text */
    const char *output_schema_name;   /* its name (structured outputs need one), or NULL */
    const char *previous_response_id; /* Responses only: continue that response, or NULL */
    bool store;                       /* Responses `store` (needed for previous_response_id) */
    double temperature;               /* < 0: not sent */
    int max_output_tokens;            /* 0: not sent */
};

struct model_call_result {
    const char *response_id;   /* the upstream's id ("resp_…", "chatcmpl-…"), or "" */
    const char *finish_reason; /* "stop", "tool_calls", "length", "content_filter", or "" */
    struct model_usage usage;
};

struct model_call_error {
    int code;            /* ERR_UNAVAILABLE (connect, 5xx, 429), ERR_TIMEOUT, ERR_INVALID
                          * (malformed stream, 4xx), ERR_CLOSED (stream cut) */
    int http_status;     /* 0 when no HTTP answer arrived */
    const char *message; /* for the user: the upstream's own message when it sent one */
    bool allow_retry;    /* a new attempt can help (timeouts, 429, 5xx, cut streams) */
    bool started;        /* output was already delivered before the failure */
};

/* What a call reports, in stream order. Every pointer is valid only during the callback. */
struct model_call_events {
    /* Assistant text; item_id is the upstream message id ("msg_…") or a generated one. The
     * tokens of one upstream read arrive joined in one call. */
    void (*text_delta)(void *data, const char *item_id, const char *text, size_t len);
    /* Reasoning summary text (Responses): summary_index says which part it belongs to. */
    void (*reasoning_delta)(void *data, int summary_index, const char *text, size_t len);
    /* A citation in the Responses shape ({"type":"url_citation",...}) for the text so far. */
    void (*annotation)(void *data, const char *item_id, const char *annotation_json);
    /* A complete function call (arguments reassembled from their fragments). */
    void (*tool_call)(void *data, const char *call_id, const char *name,
                      const char *arguments_json);
    /* An image the model generates (Responses image_generation_call; optional, NULL ignores
     * them): it started; a partial image (base64, partial_index counting from 0); the final
     * image (base64) and its format ("png", "jpeg", "webp"; "png" when the upstream does not
     * say). image_id is the upstream's image call id. */
    void (*image_started)(void *data, const char *image_id);
    void (*image_partial)(void *data, const char *image_id, int partial_index, const char *b64);
    void (*image_done)(void *data, const char *image_id, const char *b64, const char *format);
    /* Exactly one of done / failed ends every started call, once. */
    void (*done)(void *data, const struct model_call_result *r);
    void (*failed)(void *data, const struct model_call_error *e);
};

struct model_registry; /* the configured providers (model.h) */
struct model_call;

/* Starts a call on the provider that model_ref names ("openai:gpt-4.1",
 * "compat:local/llama3.1:8b"). Returns 0 and *out, or ERR_NOT_FOUND (unknown provider or
 * model) or ERR_INVALID (input_json / tools_json not JSON arrays), why saying which, without
 * calling anything. Implemented in model/call.c; the registry is model/model.h. */
int model_call_start(struct model_registry *reg, const char *model_ref,
                     const struct model_call_params *params, const struct model_call_events *ev,
                     void *data, struct model_call **out, char *why, size_t whylen);
/* Stops the call (the upstream transfer is aborted); no callback runs after this returns and the
 * call is freed. It may be called from inside the call's own callbacks. Not valid after
 * done/failed returned (the call is already freed then). */
void model_call_cancel(struct model_call *c);
/* Back pressure: while paused, the upstream transfer is paused too (the client reads slowly),
 * and the idle timeout does not run. Resuming may deliver buffered events before it returns. */
void model_call_pause(struct model_call *c, bool paused);

#endif
