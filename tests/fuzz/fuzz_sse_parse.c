/* libFuzzer target: the upstream SSE parser and both stream dialects behind it.
 *
 * The first byte picks a split size, so events arrive cut at every possible point; each event is
 * fed to the Chat Completions assembler and the Responses reader. Invariants: no crash, no leak,
 * no read past a payload; the same bytes give the same events whatever the split; once a feed
 * fails (an event past the cap) it fails the same way. */
#include "core/buf.h"
#include "core/err.h"
#include "model/chat_compat.h"
#include "model/responses.h"
#include "model/sse_parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sink {
    struct buf events; /* "name\0payload\0" per event */
    struct chat_stream chat;
    struct responses_stream resp;
};

static void on_text(void *d, const char *id, const char *t, size_t n)
{
    (void)d;
    if (!id || (n && !t))
        abort();
}
static void on_reason(void *d, int i, const char *t, size_t n)
{
    (void)d;
    if (i < 0 || (n && !t))
        abort();
}
static void on_annot(void *d, const char *id, const char *json)
{
    (void)d;
    if (!id || !json)
        abort();
}
static void on_tool(void *d, const char *id, const char *name, const char *args)
{
    (void)d;
    if (!id || !name || !args)
        abort();
}
static const struct model_call_events ev = {.text_delta = on_text,
                                            .reasoning_delta = on_reason,
                                            .annotation = on_annot,
                                            .tool_call = on_tool};

static int on_event(void *d, const char *name, const char *payload, size_t len)
{
    struct sink *s = d;
    if (payload[len] != '\0')
        abort();
    buf_append(&s->events, name, strlen(name) + 1);
    buf_append(&s->events, payload, len + 1);
    chat_stream_feed(&s->chat, payload, len, &ev, NULL);
    responses_stream_feed(&s->resp, name, payload, len, &ev, NULL);
    return 0;
}

static int run(const char *p, size_t n, size_t step, struct sink *s)
{
    struct sse_parser parser;
    sse_parser_init(&parser, 4096);
    buf_init(&s->events, 1 << 20);
    chat_stream_init(&s->chat, 2048);
    responses_stream_init(&s->resp);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i += step)
        rc = sse_parser_feed(&parser, p + i, n - i < step ? n - i : step, on_event, s);
    sse_parser_free(&parser);
    chat_stream_free(&s->chat);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = (size_t)data[0] % 17 + 1;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    struct sink whole, split;
    int rc1 = run(p, n, n ? n : 1, &whole);
    int rc2 = run(p, n, step, &split);
    if (rc1 == 0 && rc2 == 0 &&
        (whole.events.len != split.events.len ||
         (whole.events.len && memcmp(whole.events.data, split.events.data, whole.events.len))))
        abort();
    if ((rc1 == ERR_TOO_BIG) != (rc2 == ERR_TOO_BIG))
        abort();
    buf_free(&whole.events);
    buf_free(&split.events);
    return 0;
}
