/* coldstart.c - time from spawning a server to its first 200 answer, for `make bench`.
 *
 *     coldstart --free-port
 *         prints a TCP port on 127.0.0.1 that was free a moment ago.
 *
 *     coldstart PORT PATH -- COMMAND [ARGS...]
 *         spawns COMMAND (which must listen on 127.0.0.1:PORT; its stderr goes to /dev/null),
 *         then every millisecond tries to connect to the port and, once connected, sends
 *         "GET PATH HTTP/1.1" and reads the answer, until an answer is 200. Then it sends
 *         SIGTERM and waits for the process to exit. It prints one line:
 *
 *             first200_ms=T listening_ms=L attempts=A stop_ms=S exit=E
 *
 *         first200_ms: spawn to a complete 200 answer; listening_ms: spawn to the first line
 *         the server wrote to stdout (chatkitd's "listening on" line; -1 when none came);
 *         attempts: connection attempts made; stop_ms: SIGTERM to process exit; exit: its
 *         exit status (or 128+signal).
 *
 * Exits 1 when no 200 came within 10 s or the process died first.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define GIVE_UP_MS 10000.0

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(double ms)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)(ms * 1e6)};
    nanosleep(&ts, NULL);
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        perror("coldstart: free port");
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

/* One attempt: connect, GET, read the answer. Returns the status, 0 when the connection was
 * refused or broke, -1 on a timeout. */
static int try_get(int port, const char *req, size_t req_len)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0)
        return 0;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return 0;
    }
    if (send(fd, req, req_len, MSG_NOSIGNAL) != (ssize_t)req_len) {
        close(fd);
        return 0;
    }
    char buf[4096];
    size_t got = 0;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 2000) <= 0) {
            close(fd);
            return -1;
        }
        ssize_t r = recv(fd, buf + got, sizeof buf - 1 - got, 0);
        if (r <= 0)
            break;
        got += (size_t)r;
        buf[got] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (!end)
            continue;
        size_t clen = 0;
        char *cl = strcasestr(buf, "\r\nContent-Length:");
        if (cl && cl < end)
            clen = strtoul(cl + 17, NULL, 10);
        if (got >= (size_t)(end + 4 - buf) + clen || got == sizeof buf - 1)
            break;
    }
    close(fd);
    if (got < 12 || strncmp(buf, "HTTP/1.", 7) != 0)
        return 0;
    return (int)strtol(buf + 9, NULL, 10);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--free-port") == 0) {
        int p = free_port();
        if (p < 0)
            return 1;
        printf("%d\n", p);
        return 0;
    }
    if (argc < 5 || strcmp(argv[3], "--") != 0) {
        fprintf(stderr, "usage: coldstart --free-port\n"
                        "       coldstart PORT PATH -- COMMAND [ARGS...]\n");
        return 2;
    }
    int port = (int)strtol(argv[1], NULL, 10);
    char req[512];
    size_t req_len = (size_t)snprintf(req, sizeof req,
                                      "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                                      "Connection: close\r\n\r\n",
                                      argv[2], port);
    signal(SIGPIPE, SIG_IGN);

    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) {
        perror("coldstart: pipe");
        return 1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);

    double t0 = now_ms();
    pid_t pid;
    int rc = posix_spawn(&pid, argv[4], &fa, NULL, argv + 4, environ);
    if (rc) {
        fprintf(stderr, "coldstart: spawn %s: %s\n", argv[4], strerror(rc));
        return 1;
    }
    close(out[1]);
    fcntl(out[0], F_SETFL, O_NONBLOCK);

    double listening = -1, first200 = -1;
    int attempts = 0, exited = 0, wstatus = 0;
    while (now_ms() - t0 < GIVE_UP_MS) {
        if (listening < 0) {
            char tmp[512];
            ssize_t r = read(out[0], tmp, sizeof tmp);
            if (r > 0 && memchr(tmp, '\n', (size_t)r))
                listening = now_ms() - t0;
        }
        attempts++;
        int st = try_get(port, req, req_len);
        if (st == 200) {
            first200 = now_ms() - t0;
            break;
        }
        if (waitpid(pid, &wstatus, WNOHANG) == pid) {
            exited = 1;
            break;
        }
        sleep_ms(1.0);
    }
    if (listening < 0) {
        char tmp[512];
        ssize_t r = read(out[0], tmp, sizeof tmp);
        if (r > 0 && memchr(tmp, '\n', (size_t)r))
            listening = now_ms() - t0; /* late: the line was read after the answer */
    }
    double stop = -1;
    if (!exited) {
        double ts = now_ms();
        kill(pid, SIGTERM);
        /* Drain stdout so a chatty server cannot block on a full pipe while stopping. */
        for (;;) {
            char tmp[512];
            if (waitpid(pid, &wstatus, WNOHANG) == pid)
                break;
            while (read(out[0], tmp, sizeof tmp) > 0) {
            }
            if (now_ms() - ts > GIVE_UP_MS) {
                kill(pid, SIGKILL);
                waitpid(pid, &wstatus, 0);
                break;
            }
            sleep_ms(0.2);
        }
        stop = now_ms() - ts;
    }
    int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    printf("first200_ms=%.2f listening_ms=%.2f attempts=%d stop_ms=%.2f exit=%d\n", first200,
           listening, attempts, stop, code);
    return first200 < 0 ? 1 : 0;
}
