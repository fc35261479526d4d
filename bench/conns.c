/* conns.c - holds N idle keep-alive connections open against a server, for `make bench`.
 *
 * Each connection sends one "GET PATH HTTP/1.1" and reads the whole answer (headers plus
 * Content-Length bytes); after that it stays open and silent. Once every connection has been
 * answered (or has failed) the program prints one line
 *
 *     ready N ok=OK failed=FAILED non200=K ms=ELAPSED
 *
 * and holds the connections until its stdin reaches EOF (or SIGTERM/SIGINT), watching for the
 * server closing any of them. On exit it prints
 *
 *     done held=H closed_by_server=C
 *
 * With stdin at /dev/null it therefore makes N requests and exits: `conns HOST PORT 1 </dev/null`
 * is a one-shot GET whose exit status is 0 only when every answer was 200.
 *
 * Plain nonblocking sockets on epoll, so the client costs little next to the server it loads.
 * At most CONNECT_WINDOW connections are in their handshake at once, which keeps the listen
 * backlog from overflowing.
 *
 * usage: conns HOST PORT N [PATH]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
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
#define RESP_MAX       2048
#define MAX_RETRIES    20

enum state { ST_IDLE, ST_CONNECTING, ST_READING, ST_DONE, ST_FAILED, ST_CLOSED };

struct conn {
    int fd;
    enum state st;
    int retries;
    unsigned got;
    char buf[RESP_MAX];
};

static volatile sig_atomic_t stop_flag;
static struct sockaddr_in addr;
static char request[512];
static size_t request_len;
static int ep;

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

static int conn_start(struct conn *c, int idx)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        perror("conns: socket");
        return -1;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->got = 0;
    int rc = connect(c->fd, (struct sockaddr *)&addr, sizeof addr);
    if (rc != 0 && errno != EINPROGRESS) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP, .data.u32 = (uint32_t)idx};
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    c->st = ST_CONNECTING;
    return 0;
}

static void conn_drop(struct conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
}

/* Returns 1 when the answer is complete, 0 when more is needed, -1 on a malformed answer. */
static int response_complete(struct conn *c, int *status)
{
    char *end = memmem(c->buf, c->got, "\r\n\r\n", 4);
    if (!end)
        return c->got >= RESP_MAX ? -1 : 0;
    size_t head = (size_t)(end - c->buf) + 4;
    if (c->got < 12 || memcmp(c->buf, "HTTP/1.", 7) != 0)
        return -1;
    *status = (int)strtol(c->buf + 9, NULL, 10);
    size_t clen = 0;
    for (char *p = c->buf; p < end; p++) {
        if ((*p == 'C' || *p == 'c') && (size_t)(end - p) > 15 &&
            strncasecmp(p, "Content-Length:", 15) == 0) {
            clen = strtoul(p + 15, NULL, 10);
            break;
        }
    }
    if (head + clen > RESP_MAX)
        return -1;
    return c->got >= head + clen ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: conns HOST PORT N [PATH]\n");
        return 2;
    }
    int n = (int)strtol(argv[3], NULL, 10);
    const char *path = argc > 4 ? argv[4] : "/health";
    if (n < 1) {
        fprintf(stderr, "conns: N must be >= 1\n");
        return 2;
    }
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)strtol(argv[2], NULL, 10));
    if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
        fprintf(stderr, "conns: bad IPv4 address %s\n", argv[1]);
        return 2;
    }
    request_len =
        (size_t)snprintf(request, sizeof request,
                         "GET %s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: chatkitd-bench\r\n\r\n",
                         path, argv[1], argv[2]);

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)n + 16 > rl.rlim_cur) {
        fprintf(stderr, "conns: open-file limit %llu is too low for %d connections\n",
                (unsigned long long)rl.rlim_cur, n);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);

    struct conn *cs = calloc((size_t)n, sizeof *cs);
    if (!cs) {
        fprintf(stderr, "conns: out of memory\n");
        return 1;
    }
    for (int i = 0; i < n; i++)
        cs[i].fd = -1;
    ep = epoll_create1(EPOLL_CLOEXEC);
    /* stdin EOF ends the hold; index n marks it. */
    struct epoll_event sev = {.events = EPOLLIN | EPOLLRDHUP, .data.u32 = (uint32_t)n};
    int stdin_watched = epoll_ctl(ep, EPOLL_CTL_ADD, 0, &sev) == 0;

    double t0 = now_ms();
    int next = 0, active = 0, ok = 0, failed = 0, non200 = 0, closed = 0;
    int ready_printed = 0, stdin_eof = 0;
    struct epoll_event evs[512];
    while (!stop_flag) {
        while (next < n && active < CONNECT_WINDOW) {
            if (conn_start(&cs[next], next) == 0) {
                active++;
            } else {
                cs[next].st = ST_FAILED;
                failed++;
            }
            next++;
        }
        if (!ready_printed && ok + failed == n) {
            printf("ready %d ok=%d failed=%d non200=%d ms=%.1f\n", n, ok, failed, non200,
                   now_ms() - t0);
            fflush(stdout);
            ready_printed = 1;
        }
        if (ready_printed && (stdin_eof || !stdin_watched))
            break;
        int k = epoll_wait(ep, evs, 512, 1000);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            perror("conns: epoll_wait");
            break;
        }
        for (int e = 0; e < k; e++) {
            uint32_t idx = evs[e].data.u32;
            if (idx == (uint32_t)n) {
                char tmp[256];
                ssize_t r = read(0, tmp, sizeof tmp);
                if (r <= 0) {
                    stdin_eof = 1;
                    epoll_ctl(ep, EPOLL_CTL_DEL, 0, NULL);
                }
                continue;
            }
            struct conn *c = &cs[idx];
            if (c->st == ST_CONNECTING) {
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err || (evs[e].events & (EPOLLERR | EPOLLHUP))) {
                    conn_drop(c);
                    /* A refused or reset handshake (backlog full) is retried a few times. */
                    if (++c->retries <= MAX_RETRIES && conn_start(c, (int)idx) == 0)
                        continue;
                    c->st = ST_FAILED;
                    failed++;
                    active--;
                    continue;
                }
                ssize_t w = send(c->fd, request, request_len, MSG_NOSIGNAL);
                if (w != (ssize_t)request_len) {
                    conn_drop(c);
                    c->st = ST_FAILED;
                    failed++;
                    active--;
                    continue;
                }
                struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u32 = idx};
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                c->st = ST_READING;
                continue;
            }
            if (c->st == ST_READING) {
                ssize_t r = recv(c->fd, c->buf + c->got, RESP_MAX - c->got, 0);
                if (r > 0) {
                    c->got += (unsigned)r;
                    int status = 0;
                    int done = response_complete(c, &status);
                    if (done == 0)
                        continue;
                    active--;
                    if (done < 0) {
                        conn_drop(c);
                        c->st = ST_FAILED;
                        failed++;
                        continue;
                    }
                    if (status != 200)
                        non200++;
                    ok++;
                    c->st = ST_DONE;
                    continue;
                }
                if (r < 0 && errno == EAGAIN)
                    continue;
                conn_drop(c);
                c->st = ST_FAILED;
                failed++;
                active--;
                continue;
            }
            if (c->st == ST_DONE) {
                /* Anything on an idle connection is the server closing it (or a protocol bug). */
                char tmp[512];
                ssize_t r = recv(c->fd, tmp, sizeof tmp, 0);
                if (r < 0 && errno == EAGAIN)
                    continue;
                conn_drop(c);
                c->st = ST_CLOSED;
                closed++;
            }
        }
    }
    if (!ready_printed) {
        printf("ready %d ok=%d failed=%d non200=%d ms=%.1f (interrupted)\n", n, ok, failed, non200,
               now_ms() - t0);
    }
    printf("done held=%d closed_by_server=%d\n", ok - closed, closed);
    fflush(stdout);
    for (int i = 0; i < n; i++)
        if (cs[i].fd >= 0)
            close(cs[i].fd);
    free(cs);
    return (failed || non200 || closed) ? 1 : 0;
}
