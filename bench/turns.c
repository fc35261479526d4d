/* turns.c - the ChatKit load client of `make bench`: threads.create turns and task feeds.
 *
 * The same client drives chatkitd and the peer (bench/peer/server.js): POST PATH (default
 * /chatkit) with "Authorization: Bearer SECRET" and the body
 *
 *     {"type":"threads.create","params":{"input":{"content":[{"type":"input_text","text":TEXT}],
 *      "attachments":[],"inference_options":{}}}}
 *
 * then it reads the SSE answer to its end (chunked, Content-Length or close-delimited). Time to
 * first event (TTFE) runs from the send() of the request to the arrival of the first complete
 * event (the first "\n\n" of the body); turn time runs to the end of the body. Connections are
 * kept alive unless the server says "Connection: close".
 *
 * usage:
 *   turns HOST PORT -M N [-1]
 *       mints N browser sessions (POST /api/chatkit/sessions) and prints their client secrets,
 *       one per line; with -1 they all belong to the first session's user (its cookie).
 *   turns HOST PORT -s FILE [-m TEXT] [-c CONNS] [-d SECS] [-w SECS] [-p PATH] [-r BYTES]
 *       closed loop: CONNS connections run turns back to back, WARM-UP seconds unmeasured, then
 *       SECS measured (defaults 50, 5, 1).
 *   turns HOST PORT -s FILE -n N [-H] [-m TEXT] [-p PATH] [-r BYTES]
 *       burst: opens N connections first, then sends one turn on each, all at once, and reads
 *       every answer. With -H (hold) it reads nothing: it prints "holding ..." once every request
 *       is sent and keeps the connections until its stdin reaches EOF. -r sets SO_RCVBUF.
 *   turns HOST PORT -s FILE -F N [-k CHANGES]
 *       task feeds: opens N GET /api/events feeds (secret i mod count; at most FEED_WINDOW between
 *       connect and the answer's head, as browsers arriving over time would), prints "ready ...",
 *       waits for a line on stdin, then CHANGES times: POST /api/tasks with the first secret on a
 *       new connection, and times until every feed got the event ("change K reached=… all_ms=…
 *       p50_ms=… post_ms=…", then "changes=… all_ms_median=… all_ms_max=…"). Holds the feeds
 *       until stdin EOF, then prints "done held=… closed_by_server=…".
 *
 * -s FILE holds one secret per line; request k uses line k mod count. In TEXT every "%n" becomes
 * the turn number. Turns and burst print one line of figures:
 *
 *     turns=T secs=S tps=X ttfe_p50=… ttfe_p99=… ttfe_max=… turn_p50=… turn_p99=… (ms)
 *     events=E bytes=B errors=F non200=K
 *
 * (events and bytes per turn). Plain nonblocking sockets on epoll, one thread, so the client
 * costs little next to the server it loads; at most CONNECT_WINDOW handshakes run at once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CONNECT_WINDOW 256
#define HEAD_MAX       4096
#define MAX_RETRIES    20
#define READ_BUF       (256 * 1024)
#define STDIN_TAG      UINT32_MAX
#define POST_TAG       (UINT32_MAX - 1)
#define FEED_WINDOW    256 /* feeds opening at once (connect to the answer's head) */

enum cstate { C_IDLE, C_CONNECTING, C_READY, C_SENDING, C_READING, C_DONE, C_FAILED };
enum pstate { P_HEAD, P_CSIZE, P_CDATA, P_CCRLF, P_TRAILER, P_LEN, P_CLOSE };

struct conn {
    int fd;
    enum cstate st;
    int retries;
    /* the request being sent */
    char *req;
    size_t reqlen, reqoff, reqcap;
    /* the answer being read */
    enum pstate ps;
    char head[HEAD_MAX];
    size_t hlen;
    int status;
    bool close_after;
    uint64_t rem; /* bytes left in a chunk or a Content-Length body */
    char szbuf[24];
    int szlen;
    int linelen;
    bool last_nl, frame_start, frame_comment;
    long events;
    uint64_t bytes;
    double t_send, t_first;
};

static struct sockaddr_in addr;
static const char *host_arg, *port_arg;
static int ep;
static char **secrets;
static size_t nsecrets;
static const char *text = "hello";
static const char *path = "/chatkit";
static int rcvbuf;
static volatile sig_atomic_t stop_flag;
static char rbuf[READ_BUF];

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *msg)
{
    fprintf(stderr, "turns: %s\n", msg);
    exit(1);
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p)
        die("out of memory");
    return p;
}

/* ---- small growable string ---- */

struct str {
    char *d;
    size_t len, cap;
};

static void str_put(struct str *s, const char *p, size_t n)
{
    if (s->len + n + 1 > s->cap) {
        s->cap = (s->len + n + 1) * 2;
        s->d = xrealloc(s->d, s->cap);
    }
    memcpy(s->d + s->len, p, n);
    s->len += n;
    s->d[s->len] = '\0';
}

static void str_puts(struct str *s, const char *p)
{
    str_put(s, p, strlen(p));
}

/* TEXT as a JSON string body (without quotes), "%n" replaced by turn. */
static void put_json_text(struct str *s, const char *t, long turn)
{
    for (const char *p = t; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        char tmp[24];
        if (ch == '%' && p[1] == 'n') {
            int k = snprintf(tmp, sizeof tmp, "%ld", turn);
            str_put(s, tmp, (size_t)k);
            p++;
        } else if (ch == '"' || ch == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)ch;
            str_put(s, tmp, 2);
        } else if (ch < 0x20) {
            int k = snprintf(tmp, sizeof tmp, "\\u%04x", ch);
            str_put(s, tmp, (size_t)k);
        } else {
            str_put(s, p, 1);
        }
    }
}

static void build_request(struct str *s, const char *method, const char *rpath, const char *secret,
                          const char *body, size_t bodylen)
{
    char hd[512];
    int k = snprintf(hd, sizeof hd,
                     "%s %s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: chatkitd-bench\r\n"
                     "Authorization: Bearer %s\r\n",
                     method, rpath, host_arg, port_arg, secret);
    if (k < 0 || (size_t)k >= sizeof hd)
        die("request head too long");
    s->len = 0;
    str_put(s, hd, (size_t)k);
    if (body) {
        k = snprintf(hd, sizeof hd, "Content-Type: application/json\r\nContent-Length: %zu\r\n",
                     bodylen);
        if (k < 0 || (size_t)k >= sizeof hd)
            die("request head too long");
        str_put(s, hd, (size_t)k);
    }
    str_puts(s, "\r\n");
    if (body)
        str_put(s, body, bodylen);
}

/* The threads.create request of turn number turn, into c->req. */
static void make_turn(struct conn *c, long turn)
{
    struct str body = {0}, req = {.d = c->req, .len = 0, .cap = c->reqcap};
    str_puts(&body, "{\"type\":\"threads.create\",\"params\":{\"input\":{\"content\":[{\"type\":"
                    "\"input_text\",\"text\":\"");
    put_json_text(&body, text, turn);
    str_puts(&body, "\"}],\"attachments\":[],\"inference_options\":{}}}}");
    build_request(&req, "POST", path, secrets[(size_t)turn % nsecrets], body.d, body.len);
    free(body.d);
    c->req = req.d;
    c->reqcap = req.cap;
    c->reqlen = req.len;
    c->reqoff = 0;
}

/* ---- connections ---- */

static int conn_open(struct conn *c, uint32_t tag)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        perror("turns: socket");
        return -1;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (rcvbuf > 0)
        setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    int rc = connect(c->fd, (struct sockaddr *)&addr, sizeof addr);
    if (rc != 0 && errno != EINPROGRESS) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP, .data.u32 = tag};
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    c->st = C_CONNECTING;
    return 0;
}

static void conn_close(struct conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
}

static void watch(struct conn *c, uint32_t tag, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.u32 = tag};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Connect finished? 1 yes, 0 not yet, -1 failed. */
static int connect_result(struct conn *c, uint32_t events)
{
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err || (events & (EPOLLERR | EPOLLHUP)))
        return -1;
    return (events & EPOLLOUT) ? 1 : 0;
}

static void answer_reset(struct conn *c)
{
    c->ps = P_HEAD;
    c->hlen = 0;
    c->status = 0;
    c->close_after = false;
    c->rem = 0;
    c->szlen = 0;
    c->linelen = 0;
    c->last_nl = false;
    c->frame_start = true;
    c->frame_comment = false;
    c->events = 0;
    c->bytes = 0;
    c->t_first = 0;
}

/* Sends what is left of c->req. 1 all sent, 0 would block, -1 failed. */
static int send_some(struct conn *c)
{
    while (c->reqoff < c->reqlen) {
        ssize_t w = send(c->fd, c->req + c->reqoff, c->reqlen - c->reqoff, MSG_NOSIGNAL);
        if (w > 0) {
            c->reqoff += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EAGAIN)
            return 0;
        return -1;
    }
    return 1;
}

/* ---- the answer: HTTP/1.1 head, then chunked / Content-Length / close-delimited body ---- */

/* SSE body bytes: counts events (frames ended by "\n\n"; comment frames, ": …", not counted). */
static void body_bytes(struct conn *c, const char *p, size_t n, double now)
{
    c->bytes += n;
    size_t k = 0;
    while (k < n) {
        if (c->frame_start) {
            c->frame_comment = p[k] == ':';
            c->frame_start = false;
        }
        const char *nl = memchr(p + k, '\n', n - k);
        if (!nl) {
            c->last_nl = false;
            break;
        }
        size_t pos = (size_t)(nl - p);
        if (pos == k && c->last_nl) {
            c->last_nl = false;
            if (!c->frame_comment) {
                c->events++;
                if (c->t_first == 0)
                    c->t_first = now;
            }
            c->frame_start = true;
        } else {
            c->last_nl = true;
        }
        k = pos + 1;
    }
}

static void parse_head(struct conn *c, size_t headlen)
{
    c->status = (int)strtol(c->head + 9, NULL, 10);
    bool chunked = false;
    long long clen = -1;
    char *p = c->head;
    char *end = c->head + headlen;
    while (p < end) {
        char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            break;
        size_t ll = (size_t)(eol - p);
        if (ll > 18 && strncasecmp(p, "Transfer-Encoding:", 18) == 0)
            chunked = memmem(p, ll, "chunked", 7) != NULL;
        else if (ll > 15 && strncasecmp(p, "Content-Length:", 15) == 0)
            clen = strtoll(p + 15, NULL, 10);
        else if (ll > 11 && strncasecmp(p, "Connection:", 11) == 0)
            c->close_after = memmem(p, ll, "close", 5) != NULL;
        p = eol + 1;
    }
    if (chunked) {
        c->ps = P_CSIZE;
    } else if (clen >= 0) {
        c->ps = P_LEN;
        c->rem = (uint64_t)clen;
    } else {
        c->ps = P_CLOSE;
        c->close_after = true;
    }
}

/* Feeds received bytes. 1 the answer is complete, 0 more is needed, -1 malformed. */
static int answer_feed(struct conn *c, const char *p, size_t n, double now)
{
    size_t i = 0;
    while (i < n) {
        switch (c->ps) {
        case P_HEAD: {
            size_t room = HEAD_MAX - c->hlen;
            size_t take = n - i < room ? n - i : room;
            size_t old = c->hlen;
            memcpy(c->head + old, p + i, take);
            c->hlen += take;
            size_t from = old > 3 ? old - 3 : 0;
            char *e = memmem(c->head + from, c->hlen - from, "\r\n\r\n", 4);
            if (!e) {
                if (c->hlen == HEAD_MAX)
                    return -1;
                i += take;
                break;
            }
            size_t headlen = (size_t)(e - c->head) + 4;
            i += headlen - old;
            if (headlen < 12 || memcmp(c->head, "HTTP/1.", 7) != 0)
                return -1;
            parse_head(c, headlen);
            if (c->ps == P_LEN && c->rem == 0)
                return 1;
            break;
        }
        case P_CSIZE: {
            char ch = p[i++];
            if (ch == '\n') {
                c->szbuf[c->szlen] = '\0';
                c->rem = strtoull(c->szbuf, NULL, 16);
                c->szlen = 0;
                c->ps = c->rem ? P_CDATA : P_TRAILER;
                c->linelen = 0;
            } else if (c->szlen < (int)sizeof c->szbuf - 1) {
                c->szbuf[c->szlen++] = ch;
            }
            break;
        }
        case P_CDATA: {
            size_t take = n - i < c->rem ? n - i : (size_t)c->rem;
            body_bytes(c, p + i, take, now);
            i += take;
            c->rem -= take;
            if (c->rem == 0)
                c->ps = P_CCRLF;
            break;
        }
        case P_CCRLF:
            if (p[i++] == '\n')
                c->ps = P_CSIZE;
            break;
        case P_TRAILER: {
            char ch = p[i++];
            if (ch == '\n') {
                if (c->linelen == 0)
                    return 1;
                c->linelen = 0;
            } else if (ch != '\r') {
                c->linelen++;
            }
            break;
        }
        case P_LEN: {
            size_t take = n - i < c->rem ? n - i : (size_t)c->rem;
            body_bytes(c, p + i, take, now);
            i += take;
            c->rem -= take;
            if (c->rem == 0)
                return 1;
            break;
        }
        case P_CLOSE:
            body_bytes(c, p + i, n - i, now);
            i = n;
            break;
        }
    }
    return 0;
}

/* Reads what is there. 1 the answer completed, 0 more to come, -1 failed or closed early. */
static int read_answer(struct conn *c, double *now)
{
    for (;;) {
        ssize_t r = recv(c->fd, rbuf, sizeof rbuf, 0);
        *now = now_ms();
        if (r > 0) {
            int done = answer_feed(c, rbuf, (size_t)r, *now);
            if (done)
                return done;
            continue;
        }
        if (r < 0 && errno == EAGAIN)
            return 0;
        if (r == 0 && c->ps == P_CLOSE)
            return 1;
        return -1;
    }
}

/* ---- figures ---- */

struct samples {
    double *v;
    size_t n, cap;
};

static void sample_add(struct samples *s, double x)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4096;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = x;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(struct samples *s, double q)
{
    if (!s->n)
        return 0;
    double want = q * (double)s->n;
    size_t k = (size_t)want;
    if ((double)k < want)
        k++; /* the ceiling: the smallest sample with at least q of them at or below it */
    if (k < 1)
        k = 1;
    if (k > s->n)
        k = s->n;
    return s->v[k - 1];
}

struct totals {
    struct samples ttfe, turn;
    long turns, errors, non200, events;
    uint64_t bytes;
};

static void record(struct totals *t, struct conn *c, double now)
{
    t->turns++;
    if (c->status != 200) {
        t->non200++;
        return;
    }
    t->events += c->events;
    t->bytes += c->bytes;
    sample_add(&t->ttfe, (c->t_first ? c->t_first : now) - c->t_send);
    sample_add(&t->turn, now - c->t_send);
}

static void print_totals(struct totals *t, double secs)
{
    qsort(t->ttfe.v, t->ttfe.n, sizeof(double), cmp_double);
    qsort(t->turn.v, t->turn.n, sizeof(double), cmp_double);
    long ok = t->turns - t->non200;
    printf("turns=%ld secs=%.3f tps=%.1f ttfe_p50=%.3f ttfe_p99=%.3f ttfe_max=%.3f "
           "turn_p50=%.3f turn_p99=%.3f turn_max=%.3f events=%.2f bytes=%.0f errors=%ld "
           "non200=%ld\n",
           t->turns, secs, secs > 0 ? (double)ok / secs : 0, pct(&t->ttfe, 0.5),
           pct(&t->ttfe, 0.99), pct(&t->ttfe, 1.0), pct(&t->turn, 0.5), pct(&t->turn, 0.99),
           pct(&t->turn, 1.0), ok ? (double)t->events / (double)ok : 0,
           ok ? (double)t->bytes / (double)ok : 0, t->errors, t->non200);
    fflush(stdout);
}

/* ---- closed loop ---- */

static int run_loop(int nconns, double warm_s, double dur_s)
{
    struct conn *cs = calloc((size_t)nconns, sizeof *cs);
    if (!cs)
        die("out of memory");
    struct totals tot = {0};
    long next_turn = 0;
    int connecting = 0, pending = 0;
    for (int i = 0; i < nconns; i++) {
        cs[i].fd = -1;
        cs[i].st = C_IDLE;
    }
    double t0 = now_ms();
    double t_warm = t0 + warm_s * 1e3, t_end = t_warm + dur_s * 1e3;
    struct epoll_event evs[512];
    int next_open = 0;
    while (!stop_flag) {
        double now = now_ms();
        if (now >= t_end)
            break;
        /* (Re)open idle connections, at most CONNECT_WINDOW handshakes at once. */
        while (connecting < CONNECT_WINDOW && pending < nconns) {
            int found = -1;
            for (int k = 0; k < nconns; k++) {
                int i = (next_open + k) % nconns;
                if (cs[i].st == C_IDLE) {
                    found = i;
                    break;
                }
            }
            if (found < 0)
                break;
            next_open = found + 1;
            if (conn_open(&cs[found], (uint32_t)found) != 0) {
                tot.errors++;
                break;
            }
            connecting++;
            pending++;
        }
        int k = epoll_wait(ep, evs, 512, 100);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            perror("turns: epoll_wait");
            break;
        }
        for (int e = 0; e < k; e++) {
            struct conn *c = &cs[evs[e].data.u32];
            uint32_t tag = evs[e].data.u32;
            if (c->st == C_CONNECTING) {
                int r = connect_result(c, evs[e].events);
                if (r == 0)
                    continue;
                connecting--;
                if (r < 0) {
                    conn_close(c);
                    c->st = C_IDLE;
                    pending--;
                    if (++c->retries > MAX_RETRIES) {
                        tot.errors++;
                        c->retries = 0;
                    }
                    continue;
                }
                c->retries = 0;
                c->st = C_READY;
            }
            if (c->st == C_READY) {
                make_turn(c, next_turn++);
                answer_reset(c);
                c->st = C_SENDING;
                c->t_send = now_ms();
            }
            if (c->st == C_SENDING) {
                int r = send_some(c);
                if (r < 0) {
                    tot.errors++;
                    conn_close(c);
                    c->st = C_IDLE;
                    pending--;
                    continue;
                }
                if (r == 0) {
                    watch(c, tag, EPOLLOUT | EPOLLIN | EPOLLRDHUP);
                    continue;
                }
                c->st = C_READING;
                watch(c, tag, EPOLLIN | EPOLLRDHUP);
                continue; /* the answer comes with a later event */
            }
            if (c->st == C_READING) {
                double t;
                int r = read_answer(c, &t);
                if (r == 0)
                    continue;
                if (r < 0) {
                    if (t >= t_warm && t <= t_end)
                        tot.errors++;
                    conn_close(c);
                    c->st = C_IDLE;
                    pending--;
                    continue;
                }
                if (t >= t_warm && t <= t_end && c->t_send >= t_warm)
                    record(&tot, c, t);
                if (c->close_after) {
                    conn_close(c);
                    c->st = C_IDLE;
                    pending--;
                    continue;
                }
                /* Keep-alive: the next turn at once. */
                make_turn(c, next_turn++);
                answer_reset(c);
                c->t_send = now_ms();
                c->st = C_SENDING;
                int s = send_some(c);
                if (s < 0) {
                    tot.errors++;
                    conn_close(c);
                    c->st = C_IDLE;
                    pending--;
                } else if (s == 0) {
                    watch(c, tag, EPOLLOUT | EPOLLIN | EPOLLRDHUP);
                } else {
                    c->st = C_READING;
                    watch(c, tag, EPOLLIN | EPOLLRDHUP);
                }
            }
        }
    }
    double secs = dur_s;
    if (stop_flag)
        secs = (now_ms() - t_warm) / 1e3;
    print_totals(&tot, secs);
    for (int i = 0; i < nconns; i++) {
        conn_close(&cs[i]);
        free(cs[i].req);
    }
    free(cs);
    return tot.turns > 0 ? 0 : 1;
}

/* ---- burst (and hold) ---- */

/* Opens n connections (CONNECT_WINDOW handshakes at once). Returns how many connected. */
static int open_all(struct conn *cs, int n)
{
    int next = 0, connecting = 0, ok = 0, failed = 0;
    struct epoll_event evs[512];
    double give_up = now_ms() + 30000;
    while (ok + failed < n && !stop_flag && now_ms() < give_up) {
        while (next < n && connecting < CONNECT_WINDOW) {
            if (conn_open(&cs[next], (uint32_t)next) == 0) {
                connecting++;
            } else {
                cs[next].st = C_FAILED;
                failed++;
            }
            next++;
        }
        int k = epoll_wait(ep, evs, 512, 100);
        for (int e = 0; e < k; e++) {
            uint32_t idx = evs[e].data.u32;
            struct conn *c = &cs[idx];
            if (c->st != C_CONNECTING)
                continue;
            int r = connect_result(c, evs[e].events);
            if (r == 0)
                continue;
            if (r < 0) {
                conn_close(c);
                if (++c->retries <= MAX_RETRIES && conn_open(c, idx) == 0)
                    continue;
                c->st = C_FAILED;
                failed++;
                connecting--;
                continue;
            }
            connecting--;
            c->st = C_READY;
            watch(c, idx, EPOLLIN | EPOLLRDHUP); /* no EPOLLOUT while it waits */
            ok++;
        }
    }
    return ok;
}

static void wait_stdin_eof(void)
{
    char tmp[256];
    while (!stop_flag) {
        ssize_t r = read(0, tmp, sizeof tmp);
        if (r == 0 || (r < 0 && errno != EINTR))
            break;
    }
}

static int run_burst(int n, bool hold)
{
    struct conn *cs = calloc((size_t)n, sizeof *cs);
    if (!cs)
        die("out of memory");
    for (int i = 0; i < n; i++)
        cs[i].fd = -1;
    double t_open = now_ms();
    int ok = open_all(cs, n);
    double open_ms = now_ms() - t_open;
    /* Build every request first, then send them back to back. */
    for (int i = 0; i < n; i++)
        if (cs[i].st == C_READY)
            make_turn(&cs[i], i);
    struct totals tot = {0};
    tot.errors = n - ok;
    double t0 = now_ms();
    int active = 0, blocked = 0;
    for (int i = 0; i < n; i++) {
        struct conn *c = &cs[i];
        if (c->st != C_READY)
            continue;
        answer_reset(c);
        c->t_send = now_ms();
        int r = send_some(c);
        if (r < 0) {
            tot.errors++;
            conn_close(c);
            c->st = C_FAILED;
            continue;
        }
        if (r == 0) {
            blocked++;
            c->st = C_SENDING;
            watch(c, (uint32_t)i, EPOLLOUT | EPOLLIN | EPOLLRDHUP);
        } else {
            c->st = C_READING;
        }
        active++;
    }
    double sent_ms = now_ms() - t0;
    if (hold) {
        /* Read nothing: the answers pile up in the socket buffers and in the server. */
        for (int i = 0; i < n; i++)
            if (cs[i].fd >= 0)
                epoll_ctl(ep, EPOLL_CTL_DEL, cs[i].fd, NULL);
        printf("holding %d connected=%d sent=%d blocked=%d open_ms=%.1f send_ms=%.1f\n", n, ok,
               active, blocked, open_ms, sent_ms);
        fflush(stdout);
        wait_stdin_eof();
        int open = 0;
        for (int i = 0; i < n; i++) {
            if (cs[i].fd >= 0) {
                open++;
                close(cs[i].fd);
            }
            free(cs[i].req);
        }
        free(cs);
        printf("done open=%d\n", open);
        return ok == n ? 0 : 1;
    }
    struct epoll_event evs[512];
    double t_last = t0, give_up = t0 + 60000;
    while (active > 0 && !stop_flag && now_ms() < give_up) {
        int k = epoll_wait(ep, evs, 512, 100);
        for (int e = 0; e < k; e++) {
            uint32_t idx = evs[e].data.u32;
            struct conn *c = &cs[idx];
            if (c->st == C_SENDING) {
                int r = send_some(c);
                if (r == 0)
                    continue;
                if (r < 0) {
                    tot.errors++;
                    conn_close(c);
                    c->st = C_FAILED;
                    active--;
                    continue;
                }
                c->st = C_READING;
                watch(c, idx, EPOLLIN | EPOLLRDHUP);
                continue;
            }
            if (c->st != C_READING)
                continue;
            double t;
            int r = read_answer(c, &t);
            if (r == 0)
                continue;
            active--;
            if (r < 0) {
                tot.errors++;
                conn_close(c);
                c->st = C_FAILED;
                continue;
            }
            record(&tot, c, t);
            t_last = t;
            c->st = C_DONE;
        }
    }
    tot.errors += active;
    print_totals(&tot, (t_last - t0) / 1e3);
    for (int i = 0; i < n; i++) {
        conn_close(&cs[i]);
        free(cs[i].req);
    }
    free(cs);
    return tot.errors || tot.non200 ? 1 : 0;
}

/* ---- task feeds ---- */

static int run_feeds(int n, int changes)
{
    struct conn *cs = calloc((size_t)n + 1, sizeof *cs);
    if (!cs)
        die("out of memory");
    for (int i = 0; i <= n; i++)
        cs[i].fd = -1;
    struct epoll_event sev = {.events = EPOLLIN | EPOLLRDHUP, .data.u32 = STDIN_TAG};
    int stdin_watched = epoll_ctl(ep, EPOLL_CTL_ADD, 0, &sev) == 0;
    double t0 = now_ms();
    int next = 0, open_failed = 0;
    int opened = 0, non200 = 0, closed = 0;
    bool ready = false, go = false, stdin_eof = false;
    int change = 0; /* changes published so far */
    double t_change = 0, t_post_done = 0;
    int reached = 0;
    struct samples arrive = {0}, all_ms = {0};
    struct conn *post = &cs[n];
    struct epoll_event evs[512];
    while (!stop_flag) {
        /* At most FEED_WINDOW feeds between connect and their answer's head. */
        while (next < n && next - (opened + non200 + open_failed) < FEED_WINDOW) {
            if (conn_open(&cs[next], (uint32_t)next) != 0) {
                cs[next].st = C_FAILED;
                open_failed++;
            }
            next++;
        }
        if (!ready && opened + non200 + open_failed >= n) {
            printf("ready %d ok=%d failed=%d non200=%d ms=%.1f\n", n, opened, open_failed, non200,
                   now_ms() - t0);
            fflush(stdout);
            ready = true;
        }
        if (ready && go && change < changes && t_change == 0) {
            /* Next change: POST /api/tasks on a fresh connection. */
            char body[128];
            int bl = snprintf(body, sizeof body, "{\"title\":\"feed bench %d\"}", change + 1);
            struct str r = {.d = post->req, .cap = post->reqcap};
            build_request(&r, "POST", "/api/tasks", secrets[0], body, (size_t)bl);
            post->req = r.d;
            post->reqcap = r.cap;
            post->reqlen = r.len;
            post->reqoff = 0;
            answer_reset(post);
            if (conn_open(post, POST_TAG) != 0)
                die("cannot connect for POST /api/tasks");
            t_change = now_ms();
            t_post_done = 0;
            reached = 0;
            arrive.n = 0;
        }
        if (ready && (stdin_eof || !stdin_watched) && (!go || change >= changes))
            break;
        int k = epoll_wait(ep, evs, 512, 1000);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            perror("turns: epoll_wait");
            break;
        }
        for (int e = 0; e < k; e++) {
            uint32_t idx = evs[e].data.u32;
            if (idx == STDIN_TAG) {
                char tmp[256];
                ssize_t r = read(0, tmp, sizeof tmp);
                if (r <= 0) {
                    stdin_eof = true;
                    epoll_ctl(ep, EPOLL_CTL_DEL, 0, NULL);
                } else {
                    go = true;
                }
                continue;
            }
            if (idx == POST_TAG) {
                if (post->st == C_CONNECTING) {
                    int r = connect_result(post, evs[e].events);
                    if (r == 0)
                        continue;
                    if (r < 0)
                        die("POST /api/tasks: connect failed");
                    post->t_send = now_ms();
                    if (send_some(post) != 1)
                        die("POST /api/tasks: send failed");
                    post->st = C_READING;
                    watch(post, POST_TAG, EPOLLIN | EPOLLRDHUP);
                    continue;
                }
                double t;
                int r = read_answer(post, &t);
                if (r == 0)
                    continue;
                if (r < 0 || post->status != 201) {
                    fprintf(stderr, "turns: POST /api/tasks answered %d\n", post->status);
                    exit(1);
                }
                t_post_done = t;
                conn_close(post);
                post->st = C_DONE;
                continue;
            }
            struct conn *c = &cs[idx];
            if (c->st == C_CONNECTING) {
                int r = connect_result(c, evs[e].events);
                if (r == 0)
                    continue;
                if (r < 0) {
                    conn_close(c);
                    if (++c->retries <= MAX_RETRIES && conn_open(c, idx) == 0)
                        continue;
                    c->st = C_FAILED;
                    open_failed++;
                    continue;
                }
                struct str rq = {.d = c->req, .cap = c->reqcap};
                build_request(&rq, "GET", "/api/events", secrets[idx % nsecrets], NULL, 0);
                c->req = rq.d;
                c->reqcap = rq.cap;
                c->reqlen = rq.len;
                c->reqoff = 0;
                answer_reset(c);
                if (send_some(c) != 1) {
                    conn_close(c);
                    c->st = C_FAILED;
                    open_failed++;
                    continue;
                }
                c->st = C_READING;
                watch(c, idx, EPOLLIN | EPOLLRDHUP);
                continue;
            }
            if (c->st != C_READING)
                continue;
            double t;
            bool was_open = c->ps != P_HEAD;
            long before = c->events;
            int r = read_answer(c, &t);
            if (!was_open && c->ps != P_HEAD) {
                if (c->status == 200) {
                    opened++;
                } else {
                    non200++;
                    conn_close(c);
                    c->st = C_FAILED;
                    continue;
                }
            }
            if (r != 0) { /* a feed never ends on its own: the server closed it */
                if (ready)
                    fprintf(stderr, "turns: feed %u closed by the server\n", idx);
                if (c->ps == P_HEAD)
                    open_failed++; /* closed before answering */
                else
                    closed++;
                conn_close(c);
                c->st = C_FAILED;
                continue;
            }
            if (t_change > 0 && before < change + 1 && c->events >= change + 1) {
                reached++;
                sample_add(&arrive, t - t_change);
            }
        }
        if (t_change > 0 && reached >= opened - closed && t_post_done > 0) {
            qsort(arrive.v, arrive.n, sizeof(double), cmp_double);
            double all = pct(&arrive, 1.0);
            sample_add(&all_ms, all);
            printf("change %d reached=%d/%d all_ms=%.3f p50_ms=%.3f post_ms=%.3f\n", change + 1,
                   reached, opened, all, pct(&arrive, 0.5), t_post_done - post->t_send);
            fflush(stdout);
            change++;
            t_change = 0;
            if (change == changes) {
                qsort(all_ms.v, all_ms.n, sizeof(double), cmp_double);
                printf("changes=%zu all_ms_median=%.3f all_ms_max=%.3f\n", all_ms.n,
                       pct(&all_ms, 0.5), pct(&all_ms, 1.0));
                fflush(stdout);
            }
            struct timespec ts = {.tv_sec = 0, .tv_nsec = 200 * 1000000L};
            nanosleep(&ts, NULL); /* let the server settle between changes */
        }
    }
    printf("done held=%d closed_by_server=%d\n", opened - closed, closed);
    fflush(stdout);
    for (int i = 0; i <= n; i++) {
        conn_close(&cs[i]);
        free(cs[i].req);
    }
    free(cs);
    free(arrive.v);
    free(all_ms.v);
    return (open_failed || non200 || closed || (int)all_ms.n < changes) ? 1 : 0;
}

/* ---- minting sessions (blocking, one at a time) ---- */

static int mint(int n, bool same_user)
{
    char cookie[160] = "";
    for (int i = 0; i < n; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0)
            die("mint: cannot connect");
        char req[512];
        int len = snprintf(req, sizeof req,
                           "POST /api/chatkit/sessions HTTP/1.1\r\nHost: %s:%s\r\n"
                           "Content-Length: 0\r\nConnection: close\r\n%s%s%s\r\n",
                           host_arg, port_arg, cookie[0] ? "Cookie: chatkitd_uid=" : "", cookie,
                           cookie[0] ? "\r\n" : "");
        if (send(fd, req, (size_t)len, MSG_NOSIGNAL) != len)
            die("mint: send failed");
        struct str ans = {0};
        char tmp[4096];
        ssize_t r;
        while ((r = recv(fd, tmp, sizeof tmp, 0)) > 0)
            str_put(&ans, tmp, (size_t)r);
        close(fd);
        if (!ans.d || strncmp(ans.d, "HTTP/1.1 200", 12) != 0)
            die("mint: POST /api/chatkit/sessions did not answer 200");
        char *s = strstr(ans.d, "\"client_secret\":\"");
        if (!s)
            die("mint: no client_secret in the answer");
        s += 17;
        char *q = strchr(s, '"');
        if (!q)
            die("mint: bad client_secret");
        printf("%.*s\n", (int)(q - s), s);
        if (same_user && !cookie[0]) {
            char *ck = strstr(ans.d, "chatkitd_uid=");
            if (!ck)
                die("mint: no chatkitd_uid cookie");
            ck += 13;
            size_t cl = strcspn(ck, ";\r\n");
            if (cl >= sizeof cookie)
                die("mint: cookie too long");
            memcpy(cookie, ck, cl);
            cookie[cl] = '\0';
        }
        free(ans.d);
    }
    fflush(stdout);
    return 0;
}

static void load_secrets(const char *file)
{
    FILE *f = fopen(file, "r");
    if (!f)
        die("cannot open the secrets file");
    char line[1024];
    size_t cap = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0])
            continue;
        if (nsecrets == cap) {
            cap = cap ? cap * 2 : 64;
            secrets = xrealloc(secrets, cap * sizeof *secrets);
        }
        secrets[nsecrets++] = strdup(line);
    }
    fclose(f);
    if (!nsecrets)
        die("the secrets file is empty");
}

static void usage(void)
{
    fprintf(stderr, "usage: turns HOST PORT -M N [-1]\n"
                    "       turns HOST PORT -s FILE [-m TEXT] [-c CONNS] [-d SECS] [-w SECS]\n"
                    "       turns HOST PORT -s FILE -n N [-H] [-m TEXT] [-r BYTES]\n"
                    "       turns HOST PORT -s FILE -F N [-k CHANGES]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        usage();
    host_arg = argv[1];
    port_arg = argv[2];
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)strtol(port_arg, NULL, 10));
    if (inet_pton(AF_INET, host_arg, &addr.sin_addr) != 1)
        die("bad IPv4 address");
    const char *secrets_file = NULL;
    int conns = 50, burst = 0, feeds = 0, changes = 5, mint_n = 0;
    double dur = 5, warm = 1;
    bool hold = false, same_user = false;
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-H") == 0) {
            hold = true;
            continue;
        }
        if (strcmp(a, "-1") == 0) {
            same_user = true;
            continue;
        }
        if (!v)
            usage();
        i++;
        if (strcmp(a, "-s") == 0)
            secrets_file = v;
        else if (strcmp(a, "-m") == 0)
            text = v;
        else if (strcmp(a, "-c") == 0)
            conns = (int)strtol(v, NULL, 10);
        else if (strcmp(a, "-d") == 0)
            dur = strtod(v, NULL);
        else if (strcmp(a, "-w") == 0)
            warm = strtod(v, NULL);
        else if (strcmp(a, "-n") == 0)
            burst = (int)strtol(v, NULL, 10);
        else if (strcmp(a, "-F") == 0)
            feeds = (int)strtol(v, NULL, 10);
        else if (strcmp(a, "-k") == 0)
            changes = (int)strtol(v, NULL, 10);
        else if (strcmp(a, "-r") == 0)
            rcvbuf = (int)strtol(v, NULL, 10);
        else if (strcmp(a, "-p") == 0)
            path = v;
        else if (strcmp(a, "-M") == 0)
            mint_n = (int)strtol(v, NULL, 10);
        else
            usage();
    }
    signal(SIGPIPE, SIG_IGN);
    if (mint_n > 0)
        return mint(mint_n, same_user);
    if (!secrets_file)
        usage();
    load_secrets(secrets_file);

    int want = burst > 0 ? burst : feeds > 0 ? feeds : conns;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)want + 16 > rl.rlim_cur)
        die("the open-file limit is too low for that many connections");
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    ep = epoll_create1(EPOLL_CLOEXEC);
    int rc;
    if (feeds > 0)
        rc = run_feeds(feeds, changes);
    else if (burst > 0)
        rc = run_burst(burst, hold);
    else
        rc = run_loop(conns, warm, dur);
    for (size_t i = 0; i < nsecrets; i++)
        free(secrets[i]);
    free(secrets);
    close(ep);
    return rc;
}
