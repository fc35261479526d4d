/* http_client.h - outbound HTTP(S) calls on the libuv loop: libcurl's multi-socket interface
 * driven by uv_poll (one per socket curl opens) and one uv_timer (DESIGN §2).
 *
 * Nothing here blocks the loop: connects, TLS and reads progress from poll and timer callbacks.
 * Name resolution goes through curl's threaded resolver, so DNS does not block either.
 *
 * Callbacks run on the loop thread, never from inside http_call_start(). A call ends with exactly
 * one `done` callback unless it is cancelled first; http_call_cancel() may be called from inside
 * the call's own callbacks (the transfer then stops at a safe point and `done` is not called).
 *
 * Ownership: the client is created by http_client_new and owned by main; each call is owned by
 * the client until `done` returns or it is cancelled, and is freed by the client.
 */
#ifndef CHATKITD_NET_HTTP_CLIENT_H
#define CHATKITD_NET_HTTP_CLIENT_H

#include "core/log.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct http_client;
struct http_call;

/* Counters for /metrics, read and written on the loop thread. */
struct http_client_stats {
    uint64_t calls_total;  /* calls started */
    uint64_t active;       /* calls not yet ended */
    uint64_t failed_total; /* calls that ended without an HTTP answer (connect, timeout, cut) */
};

struct http_call_params {
    const char *method;         /* "GET" or "POST" */
    const char *url;            /* http:// or https:// */
    const char *const *headers; /* "Name: value" strings, NULL-terminated; copied */
    const char *body;           /* request body, or NULL; NOT copied: it must stay valid
                                 * until the call ended (done ran or cancel returned), or
                                 * until http_call_body_sent() is true */
    size_t body_len;
    uint64_t connect_timeout_ms; /* 0: curl's default */
    uint64_t total_timeout_ms;   /* 0: none (streams use their own idle timers) */
};

struct http_call_events {
    /* The status line and headers are in; runs once, before the first body byte (or before done
     * when there is no body). retry_after is the Retry-After header's text, or NULL. */
    void (*response)(void *data, int status, const char *retry_after);
    /* Body bytes, in order. */
    void (*body)(void *data, const char *p, size_t n);
    /* The transfer ended: code 0 (the whole answer arrived; any status), ERR_UNAVAILABLE (no
     * connection), ERR_TIMEOUT, or ERR_CLOSED (the answer was cut). message is curl's reason. */
    void (*done)(void *data, int code, const char *message);
};

/* Creates the client on loop; always 0. libcurl itself starts with the first call, which fails
 * with ERR_UNAVAILABLE (logged) when it cannot. */
int http_client_new(uv_loop_t *loop, const struct logger *log, struct http_client **out);
/* Aborts every call (no callbacks), closes the handles and frees the client once they are
 * closed (run the loop afterwards). */
void http_client_free(struct http_client *hc);
const struct http_client_stats *http_client_get_stats(const struct http_client *hc);

/* Starts a call; 0 and *out, or ERR_INVALID (bad parameters) without calling anything. */
int http_call_start(struct http_client *hc, const struct http_call_params *p,
                    const struct http_call_events *ev, void *data, struct http_call **out);
/* Stops the call: the connection is closed, no callback runs afterwards, the call is freed. */
void http_call_cancel(struct http_call *c);
/* True once the whole request body went out and the answer has begun (a status line came):
 * the call never reads the body again, so its owner may free it. Until then curl may need it
 * to send, or to send again on a fresh connection when a reused one turned out dead. */
bool http_call_body_sent(const struct http_call *c);
/* Pauses or resumes receiving (back pressure). Resuming may deliver buffered body bytes before
 * it returns. */
void http_call_pause(struct http_call *c, bool paused);

/* A call whose answer is collected whole: cb runs once, later, with code (as `done` above), the
 * HTTP status (0 when no answer came) and the body (at most max_body bytes are kept, NUL-
 * terminated; valid during the call only). Returns 0, or an error without calling cb. */
typedef void (*http_fetch_cb)(void *data, int code, int status, const char *body, size_t len,
                              const char *message);
int http_fetch(struct http_client *hc, const struct http_call_params *p, size_t max_body,
               http_fetch_cb cb, void *data);

#endif
