#include "net/http_client.h"

#include "core/buf.h"
#include "core/err.h"
#include "core/xalloc.h"
#include "net/curl_lazy.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One uv_poll per socket curl asks us to watch; freed in its close callback. */
struct sock_ctx {
    uv_poll_t poll;
    curl_socket_t fd;
    struct http_client *hc;
};

struct http_call {
    struct http_client *hc;
    CURL *easy;                 /* owned */
    struct curl_slist *headers; /* owned */
    struct http_call_events ev;
    void *data;
    char retry_after[64];
    char errbuf[CURL_ERROR_SIZE];
    curl_off_t body_len;           /* the request body's size */
    bool responded;                /* ev.response has run */
    bool cancelled;                /* no more callbacks; freed at the next safe point */
    bool pause_wanted;             /* the caller asked for a pause */
    bool unpause_wanted;           /* the caller asked to resume while curl was busy */
    bool finishing;                /* ev.done is running */
    struct http_call *next, *prev; /* the client's list of live calls */
};

struct http_client {
    uv_loop_t *loop;
    const struct logger *log;
    CURLM *multi;
    uv_timer_t timer; /* curl's single timeout */
    int in_curl;      /* depth of calls into libcurl: no handle removal while > 0 */
    int to_reap;      /* calls marked cancelled or to resume, not yet handled by reap() */
    bool closing;
    struct http_call *calls;
    struct http_client_stats stats;
};

static void call_unlink(struct http_call *c)
{
    struct http_client *hc = c->hc;
    if (c->prev)
        c->prev->next = c->next;
    else
        hc->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->next = c->prev = NULL;
}

static void call_free(struct http_call *c)
{
    struct http_client *hc = c->hc;
    call_unlink(c);
    curl_multi_remove_handle(hc->multi, c->easy);
    curl_easy_cleanup(c->easy);
    curl_slist_free_all(c->headers);
    free(c);
    hc->stats.active--;
}

static int map_curl_code(CURLcode rc, bool responded)
{
    switch (rc) {
    case CURLE_OK:
        return 0;
    case CURLE_OPERATION_TIMEDOUT:
        return ERR_TIMEOUT;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
        return ERR_UNAVAILABLE;
    default:
        return responded ? ERR_CLOSED : ERR_UNAVAILABLE;
    }
}

static void call_respond(struct http_call *c)
{
    if (c->responded || c->cancelled)
        return;
    c->responded = true;
    long status = 0;
    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
    if (c->ev.response)
        c->ev.response(c->data, (int)status, c->retry_after[0] ? c->retry_after : NULL);
}

/* Cancelled calls are removed only here, outside libcurl, where removing a handle is allowed;
 * resumes asked for while libcurl was running happen here too. */
static void reap(struct http_client *hc)
{
    if (hc->in_curl || hc->to_reap == 0)
        return; /* the walk below is O(calls): only when something is marked */
    struct http_call *c = hc->calls, *next;
    for (; c && hc->to_reap > 0; c = next) {
        next = c->next;
        if (c->cancelled) {
            hc->to_reap--;
            call_free(c);
        } else if (c->unpause_wanted) {
            hc->to_reap--;
            c->unpause_wanted = false;
            hc->in_curl++;
            curl_easy_pause(c->easy, CURLPAUSE_CONT);
            hc->in_curl--;
            next = hc->calls; /* the resume ran callbacks: start over, the list may differ */
        }
    }
}

static void check_done(struct http_client *hc)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(hc->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct http_call *c = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
        CURLcode rc = msg->data.result;
        if (c->cancelled)
            c->hc->to_reap--; /* freed here instead of in reap() */
        else if (c->unpause_wanted)
            c->hc->to_reap--;
        if (!c->cancelled) {
            int code = map_curl_code(rc, c->responded);
            if (code == 0 || c->responded)
                call_respond(c);
            if (code && code != ERR_CLOSED)
                hc->stats.failed_total++;
            c->finishing = true;
            c->ev.done(c->data, code,
                       code ? (c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc)) : "");
        }
        call_free(c);
    }
    reap(hc);
}

static void socket_action(struct http_client *hc, curl_socket_t fd, int flags)
{
    int running = 0;
    hc->in_curl++;
    curl_multi_socket_action(hc->multi, fd, flags, &running);
    hc->in_curl--;
    check_done(hc);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    struct sock_ctx *ctx = p->data;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    socket_action(ctx->hc, ctx->fd, flags);
}

static void on_sock_closed(uv_handle_t *h)
{
    free(h->data);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    struct http_client *hc = userp;
    struct sock_ctx *ctx = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (ctx) {
            curl_multi_assign(hc->multi, fd, NULL);
            uv_poll_stop(&ctx->poll);
            uv_close((uv_handle_t *)&ctx->poll, on_sock_closed);
        }
        return 0;
    }
    if (!ctx) {
        ctx = xcalloc(1, sizeof *ctx);
        if (uv_poll_init_socket(hc->loop, &ctx->poll, fd) != 0) {
            free(ctx);
            return -1;
        }
        ctx->fd = fd;
        ctx->hc = hc;
        ctx->poll.data = ctx;
        curl_multi_assign(hc->multi, fd, ctx);
    }
    int events = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        events |= UV_READABLE;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        events |= UV_WRITABLE;
    uv_poll_start(&ctx->poll, events, on_poll);
    return 0;
}

static void on_timeout(uv_timer_t *t)
{
    socket_action(t->data, CURL_SOCKET_TIMEOUT, 0);
}

static int on_timer_set(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct http_client *hc = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&hc->timer);
    else
        uv_timer_start(&hc->timer, on_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

int http_client_new(uv_loop_t *loop, const struct logger *log, struct http_client **out)
{
    struct http_client *hc = xcalloc(1, sizeof *hc);
    hc->loop = loop;
    hc->log = log;
    uv_timer_init(loop, &hc->timer);
    hc->timer.data = hc;
    *out = hc;
    return 0;
}

/* libcurl starts with the first call, not with the server: initialising it (and the TLS library
 * under it) touches megabytes of library pages, which a server that never calls out (the
 * default, offline setup) should not carry in its resident memory. */
static int client_start(struct http_client *hc)
{
    if (hc->multi)
        return 0;
    char err[300];
    if (curl_lazy_load(err, sizeof err)) {
        log_error(hc->log, "%s", err);
        return ERR_UNAVAILABLE;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_error(hc->log, "libcurl cannot start (curl_global_init failed)");
        return ERR_UNAVAILABLE;
    }
    hc->multi = curl_multi_init();
    if (!hc->multi) {
        curl_global_cleanup();
        log_error(hc->log, "libcurl cannot start (curl_multi_init failed)");
        return ERR_UNAVAILABLE;
    }
    curl_multi_setopt(hc->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(hc->multi, CURLMOPT_SOCKETDATA, hc);
    curl_multi_setopt(hc->multi, CURLMOPT_TIMERFUNCTION, on_timer_set);
    curl_multi_setopt(hc->multi, CURLMOPT_TIMERDATA, hc);
    return 0;
}

static void on_client_timer_closed(uv_handle_t *h)
{
    struct http_client *hc = h->data;
    bool started = hc->multi != NULL;
    free(hc);
    if (started)
        curl_global_cleanup();
}

void http_client_free(struct http_client *hc)
{
    if (!hc)
        return;
    hc->closing = true;
    while (hc->calls)
        call_free(hc->calls); /* removing a handle closes its sockets (CURL_POLL_REMOVE) */
    if (hc->multi)
        curl_multi_cleanup(hc->multi); /* the handle stays non-NULL: curl_global_cleanup follows */
    uv_timer_stop(&hc->timer);
    uv_close((uv_handle_t *)&hc->timer, on_client_timer_closed);
}

const struct http_client_stats *http_client_get_stats(const struct http_client *hc)
{
    return &hc->stats;
}

static size_t on_write(char *p, size_t size, size_t n, void *ud)
{
    struct http_call *c = ud;
    size_t len = size * n;
    if (c->cancelled)
        return 0; /* aborts the transfer; the call is freed when curl reports it done */
    if (c->pause_wanted)
        return CURL_WRITEFUNC_PAUSE; /* curl keeps these bytes and offers them again */
    call_respond(c);
    if (!c->cancelled && c->ev.body)
        c->ev.body(c->data, p, len);
    return c->cancelled ? 0 : len;
}

/* Keeps Retry-After; a new status line (after a 100 Continue) starts over. */
static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct http_call *c = ud;
    size_t len = size * n;
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0)
        c->retry_after[0] = '\0';
    static const char name[] = "retry-after:";
    if (len > sizeof name - 1 && strncasecmp(p, name, sizeof name - 1) == 0) {
        const char *v = p + sizeof name - 1, *end = p + len;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
            end--;
        size_t vlen = (size_t)(end - v);
        if (vlen >= sizeof c->retry_after)
            vlen = sizeof c->retry_after - 1;
        memcpy(c->retry_after, v, vlen);
        c->retry_after[vlen] = '\0';
    }
    return len;
}

static void call_setopts(struct http_call *c, const struct http_call_params *p)
{
    CURL *e = c->easy;
    curl_easy_setopt(e, CURLOPT_URL, p->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, c);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    /* 8 KiB receive buffer: model streams arrive in small events, and it is per call in flight. */
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 8192L);
    if (p->connect_timeout_ms)
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)p->connect_timeout_ms);
    if (p->total_timeout_ms)
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)p->total_timeout_ms);
    if (strcmp(p->method, "POST") == 0) {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        c->body_len = (curl_off_t)p->body_len;
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, c->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, p->body ? p->body : "");
    }
    for (const char *const *h = p->headers; h && *h; h++)
        c->headers = curl_slist_append(c->headers, *h);
    /* curl would otherwise send "Expect: 100-continue" for large bodies and wait for it. */
    c->headers = curl_slist_append(c->headers, "Expect:");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers);
}

int http_call_start(struct http_client *hc, const struct http_call_params *p,
                    const struct http_call_events *ev, void *data, struct http_call **out)
{
    *out = NULL;
    if (hc->closing)
        return ERR_UNAVAILABLE;
    if (!p->url || (strncmp(p->url, "http://", 7) && strncmp(p->url, "https://", 8)) ||
        !p->method || (strcmp(p->method, "GET") && strcmp(p->method, "POST")) || !ev->done)
        return ERR_INVALID;
    if (client_start(hc))
        return ERR_UNAVAILABLE;
    struct http_call *c = xcalloc(1, sizeof *c);
    c->hc = hc;
    c->ev = *ev;
    c->data = data;
    c->easy = curl_easy_init();
    if (!c->easy) {
        free(c);
        return ERR_UNAVAILABLE;
    }
    call_setopts(c, p);
    c->next = hc->calls;
    if (hc->calls)
        hc->calls->prev = c;
    hc->calls = c;
    hc->stats.calls_total++;
    hc->stats.active++;
    if (curl_multi_add_handle(hc->multi, c->easy) != CURLM_OK) {
        call_free(c);
        return ERR_UNAVAILABLE;
    }
    *out = c;
    return 0;
}

void http_call_cancel(struct http_call *c)
{
    if (!c || c->cancelled || c->finishing)
        return;
    if (c->unpause_wanted)
        c->hc->to_reap--; /* counted once, as a cancel */
    c->unpause_wanted = false;
    c->cancelled = true;
    c->hc->to_reap++;
    reap(c->hc);
}

bool http_call_body_sent(const struct http_call *c)
{
    curl_off_t sent = 0;
    long status = 0;
    if (!c || c->cancelled)
        return false;
    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(c->easy, CURLINFO_SIZE_UPLOAD_T, &sent);
    return status > 0 && sent >= c->body_len;
}

void http_call_pause(struct http_call *c, bool paused)
{
    if (!c || c->cancelled || c->finishing || c->pause_wanted == paused)
        return;
    c->pause_wanted = paused;
    if (paused) {
        if (c->unpause_wanted)
            c->hc->to_reap--;
        c->unpause_wanted = false;
        return; /* the next delivery is refused with CURL_WRITEFUNC_PAUSE */
    }
    if (!c->unpause_wanted)
        c->hc->to_reap++;
    c->unpause_wanted = true;
    reap(c->hc);
}

/* ---- http_fetch: the answer collected whole ---- */

struct fetch {
    struct buf body;
    int status;
    http_fetch_cb cb;
    void *data;
};

static void fetch_response(void *data, int status, const char *retry_after)
{
    (void)retry_after;
    struct fetch *f = data;
    f->status = status;
}

static void fetch_body(void *data, const char *p, size_t n)
{
    struct fetch *f = data;
    size_t room = f->body.max - f->body.len;
    buf_append(&f->body, p, n < room ? n : room);
}

static void fetch_done(void *data, int code, const char *message)
{
    struct fetch *f = data;
    f->cb(f->data, code, f->status, f->body.data ? f->body.data : "", f->body.len, message);
    buf_free(&f->body);
    free(f);
}

int http_fetch(struct http_client *hc, const struct http_call_params *p, size_t max_body,
               http_fetch_cb cb, void *data)
{
    struct fetch *f = xcalloc(1, sizeof *f);
    buf_init(&f->body, max_body);
    f->cb = cb;
    f->data = data;
    struct http_call_events ev = {
        .response = fetch_response, .body = fetch_body, .done = fetch_done};
    struct http_call *call;
    int rc = http_call_start(hc, p, &ev, f, &call);
    if (rc) {
        buf_free(&f->body);
        free(f);
    }
    return rc;
}
