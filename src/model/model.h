/* model.h - the model registry: the configured providers, the model calls' shared machinery
 * (retries, timeouts, the upstream SSE parser, the HTTP client), and usage counters.
 *
 * Providers:
 *  - `openai`: the Responses API at {base}/v1/responses, from OPENAI_API_KEY / OPENAI_BASE_URL.
 *  - any number of `compat` providers (Chat Completions at {base}/v1/chat/completions), named in
 *    a providers file (JSON, docs/models.md):
 *      {"providers": {"local": {"base_url": "http://127.0.0.1:11434",
 *                               "api_key_env": "LOCAL_KEY", "models": ["llama3.1:8b"],
 *                               "headers": {"X-Org": "$ORG_ID"}}}}
 *    Header values starting with '$' are read from that environment variable; key and header
 *    values are never logged.
 * Model references: "openai:gpt-4.1", "compat:local/llama3.1:8b", "compat:local" (its first
 * listed model).
 *
 * A call (provider.h) is tried again with exponential backoff (Retry-After honoured) when the
 * upstream answers 429 or 5xx or cannot be reached, as long as nothing was delivered yet. It
 * fails with ERR_TIMEOUT when no output arrives within first_token_ms of an attempt's start, or
 * when the stream is silent for idle_ms afterwards.
 *
 * Ownership: main owns the registry; it must outlive every call. Loop thread only.
 */
#ifndef CHATKITD_MODEL_MODEL_H
#define CHATKITD_MODEL_MODEL_H

#include "core/buf.h"
#include "core/log.h"
#include "model/provider.h"
#include "net/http_client.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define MODEL_PROVIDERS_MAX 32

enum model_api { MODEL_API_RESPONSES, MODEL_API_CHAT };

struct model_limits {
    uint64_t connect_ms;     /* TCP + TLS connect */
    uint64_t first_token_ms; /* from an attempt's start to its first output */
    uint64_t idle_ms;        /* longest silence after the first output */
    int max_retries;         /* further attempts after the first (429, 5xx, unreachable) */
    uint64_t backoff_ms;     /* first backoff; doubled per attempt */
    uint64_t max_backoff_ms; /* a longer Retry-After fails the call instead of waiting */
    size_t max_event_bytes;  /* one upstream SSE event */
};

struct model_registry_config {
    uv_loop_t *loop;          /* not owned */
    const struct logger *log; /* not owned */
    struct http_client *http; /* not owned */
    struct model_limits limits;
};

/* Per provider counters for /metrics. */
struct model_stats {
    uint64_t calls_total, failed_total, retries_total;
    uint64_t input_tokens, output_tokens, reasoning_tokens, cached_tokens;
};

struct model_registry;

struct model_registry *model_registry_new(const struct model_registry_config *cfg);
void model_registry_free(struct model_registry *reg);
/* Adds (or replaces) a provider. headers: "Name: value" strings, NULL-terminated, copied; models
 * NULL-terminated, copied (none = any model). 0, ERR_TOO_BIG or ERR_INVALID (bad name or URL). */
int model_registry_add(struct model_registry *reg, const char *name, enum model_api api,
                       const char *base_url, const char *api_key, const char *const *headers,
                       const char *const *models);
/* Reads a providers file (format above); 0, or an error with a sentence in err naming the file
 * and the problem. getenv_fn reads environment variables (getenv in production). */
int model_registry_load_file(struct model_registry *reg, const char *path,
                             const char *(*getenv_fn)(const char *), char *err, size_t errlen);
/* 0 when ref names a configured provider (and an allowed model); ERR_NOT_FOUND with why. */
int model_ref_check(const struct model_registry *reg, const char *ref, char *why, size_t whylen);

/* Speech to text through {base}/v1/audio/transcriptions of the provider ref names, with ref's
 * model ("openai:whisper-1"). cb runs once, later, with 0 and the text, or an error code and a
 * message; returns ERR_NOT_FOUND (ref names no provider) or ERR_INVALID (no audio, bad MIME
 * type) without calling cb. */
typedef void (*model_transcribe_cb)(void *data, int code, const char *text_or_message);
int model_transcribe(struct model_registry *reg, const char *ref, const void *audio, size_t len,
                     const char *mime_type, model_transcribe_cb cb, void *data);

/* Appends the Prometheus lines (calls, failures, retries, tokens per provider) to out. */
void model_registry_write_metrics(const struct model_registry *reg, struct buf *out);

#endif
