/* floor_uv.c - the floor of `make bench`'s turn and feed figures: a libuv server that does
 * nothing but send the bytes.
 *
 * It answers the requests bench/turns makes with the bytes chatkitd sends, prepared once at
 * start: POST /api/chatkit/sessions gets a client secret (and the user cookie), POST /chatkit a
 * "hello" turn's whole event stream (the 14 events chatkitd sends, same sizes) in one write,
 * GET /api/events an SSE head (the connection is kept as a feed), and POST /api/tasks writes one
 * task.created event to every feed, then answers 201. No parsing beyond finding each request's
 * end, no storage, no JSON, no ids. Whatever it measures, no server can beat on this machine
 * with the same client, so chatkitd's targets are judged against it as well as against the peer.
 *
 * usage: floor_uv PORT
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

#define HEAD_MAX 2048

/* One SSE event of chatkitd's "hello" answer: a chunk of "data: JSON\n\n". The JSON strings are
 * chatkitd's, with fixed ids and times. */
#define THR  "\"thr_44b0c3865d2f90bb5dd2cfe5beb17572\""
#define MSGU "\"msg_a63f3e5074d8b7eecb9b093d36ce49f2\""
#define MSGA "\"msg_a99977e083a04bd5dd7fe3413cf20f54\""
#define AT   "\"2026-11-26T02:17:39.387Z\""
#define THREAD_OBJ(extra)                                                                          \
    "{\"id\":" THR extra ",\"created_at\":" AT ",\"status\":{\"type\":\"active\"},"                \
    "\"metadata\":{},\"items\":{\"data\":[],\"has_more\":false}}"
#define DELTA(t)                                                                                   \
    "{\"type\":\"thread.item.updated\",\"item_id\":" MSGA ",\"update\":{\"type\":"                 \
    "\"assistant_message.content_part.text_delta\",\"content_index\":0,\"delta\":\"" t "\"}}"

static const char *const hello_events[] = {
    "{\"type\":\"thread.created\",\"thread\":" THREAD_OBJ("") "}",
    "{\"type\":\"thread.item.done\",\"item\":{\"id\":" MSGU ",\"thread_id\":" THR
    ",\"created_at\":" AT ",\"type\":\"user_message\",\"content\":[{\"type\":\"input_text\","
    "\"text\":\"hello\"}],\"attachments\":[],\"inference_options\":{}}}",
    "{\"type\":\"stream_options\",\"stream_options\":{\"allow_cancel\":true}}",
    "{\"type\":\"thread.item.added\",\"item\":{\"id\":" MSGA ",\"thread_id\":" THR
    ",\"created_at\":" AT ",\"type\":\"assistant_message\",\"content\":[]}}",
    "{\"type\":\"thread.updated\",\"thread\":" THREAD_OBJ(",\"title\":\"hello\"") "}",
    "{\"type\":\"thread.item.updated\",\"item_id\":" MSGA ",\"update\":{\"type\":"
    "\"assistant_message.content_part.added\",\"content_index\":0,\"content\":{\"annotations\":[],"
    "\"text\":\"\",\"type\":\"output_text\"}}}",
    DELTA("Hi! "),
    DELTA("I keep "),
    DELTA("your tasks. "),
    DELTA("Try \\\"add buy milk "),
    DELTA("tomorrow\\\" or "),
    DELTA("\\\"what's due today\\\"."),
    "{\"type\":\"thread.item.updated\",\"item_id\":" MSGA ",\"update\":{\"type\":"
    "\"assistant_message.content_part.done\",\"content_index\":0,\"content\":{\"annotations\":[],"
    "\"text\":\"Hi! I keep your tasks. Try \\\"add buy milk tomorrow\\\" or \\\"what's due "
    "today\\\".\",\"type\":\"output_text\"}}}",
    "{\"type\":\"thread.item.done\",\"item\":{\"id\":" MSGA ",\"thread_id\":" THR
    ",\"created_at\":" AT ",\"type\":\"assistant_message\",\"content\":[{\"annotations\":[],"
    "\"text\":\"Hi! I keep your tasks. Try \\\"add buy milk tomorrow\\\" or \\\"what's due "
    "today\\\".\",\"type\":\"output_text\"}]}}",
};

#define TASK_OBJ                                                                                   \
    "{\"id\":\"task_7f539aa709e81671f0069f0842a12af4\",\"title\":\"bench change 1\",\"status\":"   \
    "\"open\",\"priority\":\"normal\",\"tags\":[],\"created_at\":\"2026-11-26T02:17:46.085Z\","    \
    "\"updated_at\":\"2026-11-26T02:17:46.085Z\"}"
static const char task_event[] = "{\"type\":\"task.created\",\"task\":" TASK_OBJ "}";

static const char sse_head[] = "HTTP/1.1 200 OK\r\nDate: Thu, 26 Nov 2026 02:17:39 GMT\r\n"
                               "X-Request-Id: aedc3ecf00000003\r\nContent-Type: text/event-stream"
                               "\r\nCache-Control: no-cache\r\nX-Accel-Buffering: no\r\n"
                               "Transfer-Encoding: chunked\r\n\r\n";

/* Built at start: every answer is one buffer sent as is. Owned by main for the process. */
struct answers {
    char *turn, *task_frame, *session, *created, *not_found;
    size_t turn_len, task_frame_len, session_len, created_len, not_found_len;
};
static struct answers ans;

/* Appends "LEN-hex\r\ndata: JSON\n\n\r\n" (one chunk) to *out. */
static void chunk_append(char **out, size_t *len, const char *json)
{
    size_t n = strlen(json) + 8; /* "data: " + "\n\n" */
    char size[16];
    int sl = snprintf(size, sizeof size, "%zx\r\n", n);
    size_t room = (size_t)sl + n + 3;
    *out = realloc(*out, *len + room);
    int w = snprintf(*out + *len, room, "%sdata: %s\n\n\r\n", size, json);
    *len += (size_t)w;
}

static char *answer_json(int status, const char *reason, const char *extra, const char *body,
                         size_t *len)
{
    size_t cap = strlen(extra) + strlen(body) + 256;
    char *s = malloc(cap);
    *len = (size_t)snprintf(s, cap,
                            "HTTP/1.1 %d %s\r\nDate: Thu, 26 Nov 2026 02:17:39 GMT\r\n%s"
                            "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                            status, reason, extra, strlen(body), body);
    return s;
}

static void answers_build(void)
{
    ans.turn = strdup(sse_head);
    ans.turn_len = strlen(sse_head);
    for (size_t i = 0; i < sizeof hello_events / sizeof *hello_events; i++)
        chunk_append(&ans.turn, &ans.turn_len, hello_events[i]);
    ans.turn = realloc(ans.turn, ans.turn_len + 5);
    memcpy(ans.turn + ans.turn_len, "0\r\n\r\n", 5);
    ans.turn_len += 5;
    chunk_append(&ans.task_frame, &ans.task_frame_len, task_event);
    ans.session = answer_json(200, "OK",
                              "Set-Cookie: chatkitd_uid=usr_3653e7ba290c7dcd4e29f240e12e59d2; "
                              "Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax\r\n",
                              "{\"client_secret\":\"ek_RRqpxwEHIu6FDRNLYiBQxIaw9jMN5A8QuiI16xDJtiw"
                              "\",\"session_id\":\"cksess_2a10197be47142b2a0dbf2dbbc6b5009\","
                              "\"expires_at\":1795660059,\"expires_after\":{\"anchor\":"
                              "\"created_at\",\"seconds\":600}}",
                              &ans.session_len);
    ans.created = answer_json(201, "Created", "", TASK_OBJ, &ans.created_len);
    ans.not_found =
        answer_json(404, "Not Found", "", "{\"error\":\"not_found\"}", &ans.not_found_len);
}

struct client {
    uv_tcp_t tcp;
    struct client *prev, *next; /* in the feed list, when it is a feed */
    bool feed;
    size_t hlen;         /* bytes of the current request's head so far */
    size_t body_left;    /* body bytes still to skip */
    char head[HEAD_MAX]; /* the current request's head */
};

static struct client feeds; /* list head of open feeds */
static size_t nfeeds;

static char read_buf[65536];

static void on_alloc(uv_handle_t *h, size_t n, uv_buf_t *b)
{
    (void)h;
    (void)n;
    b->base = read_buf;
    b->len = sizeof read_buf;
}

static void on_closed(uv_handle_t *h)
{
    struct client *c = (struct client *)h;
    if (c->feed) {
        c->prev->next = c->next;
        c->next->prev = c->prev;
        nfeeds--;
    }
    free(c);
}

static void on_written(uv_write_t *w, int status)
{
    (void)status;
    free(w);
}

/* Sends a prepared buffer; what the socket does not take now is queued (the buffer is static). */
static void send_static(struct client *c, const char *p, size_t n)
{
    uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);
    int done = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (done == (int)n)
        return;
    if (done > 0) {
        b.base += done;
        b.len -= (size_t)done;
    }
    uv_write_t *w = malloc(sizeof *w);
    if (uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0)
        free(w);
}

static void publish_task(void)
{
    for (struct client *f = feeds.next; f != &feeds; f = f->next)
        send_static(f, ans.task_frame, ans.task_frame_len);
}

static void on_shut(uv_shutdown_t *req, int status)
{
    (void)status;
    uv_close((uv_handle_t *)req->handle, on_closed);
    free(req);
}

/* "Connection: close" (the session mints ask for it): close once the answer is out. */
static void close_if_asked(struct client *c)
{
    for (const char *p = c->head; (p = strchr(p, '\n')) != NULL;) {
        p++;
        if (strncasecmp(p, "connection:", 11) == 0 && strcasestr(p, "close") != NULL) {
            uv_shutdown_t *req = malloc(sizeof *req);
            uv_read_stop((uv_stream_t *)&c->tcp);
            if (uv_shutdown(req, (uv_stream_t *)&c->tcp, on_shut) != 0) {
                free(req);
                uv_close((uv_handle_t *)&c->tcp, on_closed);
            }
            return;
        }
    }
}

static void dispatch(struct client *c)
{
    const char *h = c->head;
    if (strncmp(h, "POST /chatkit ", 14) == 0) {
        send_static(c, ans.turn, ans.turn_len);
    } else if (strncmp(h, "POST /api/chatkit/sessions ", 27) == 0) {
        send_static(c, ans.session, ans.session_len);
    } else if (strncmp(h, "GET /api/events ", 16) == 0 && !c->feed) {
        send_static(c, sse_head, sizeof sse_head - 1);
        c->feed = true;
        c->next = &feeds;
        c->prev = feeds.prev;
        feeds.prev->next = c;
        feeds.prev = c;
        nfeeds++;
    } else if (strncmp(h, "POST /api/tasks ", 16) == 0) {
        publish_task();
        send_static(c, ans.created, ans.created_len);
    } else {
        send_static(c, ans.not_found, ans.not_found_len);
    }
    close_if_asked(c);
}

static size_t content_length(const char *head)
{
    const char *p = head;
    while ((p = strchr(p, '\n')) != NULL) {
        p++;
        if (strncasecmp(p, "content-length:", 15) == 0)
            return (size_t)strtoul(p + 15, NULL, 10);
    }
    return 0;
}

/* Consumes n bytes: head bytes until the blank line, then the body, then the next request. */
static int consume(struct client *c, const char *p, size_t n)
{
    while (n > 0) {
        if (c->body_left > 0) {
            size_t k = n < c->body_left ? n : c->body_left;
            c->body_left -= k;
            p += k;
            n -= k;
            if (c->body_left == 0)
                dispatch(c);
            continue;
        }
        if (c->hlen == HEAD_MAX - 1)
            return -1;
        c->head[c->hlen++] = *p++;
        n--;
        if (c->hlen >= 4 && memcmp(c->head + c->hlen - 4, "\r\n\r\n", 4) == 0) {
            c->head[c->hlen] = '\0';
            c->hlen = 0;
            c->body_left = content_length(c->head);
            if (c->body_left == 0)
                dispatch(c);
        }
    }
    return 0;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct client *c = (struct client *)s;
    if (n < 0 || (n > 0 && consume(c, b->base, (size_t)n) != 0))
        uv_close((uv_handle_t *)s, on_closed);
}

static void on_connection(uv_stream_t *server, int status)
{
    if (status < 0)
        return;
    struct client *c = calloc(1, sizeof *c);
    uv_tcp_init(server->loop, &c->tcp);
    if (uv_accept(server, (uv_stream_t *)&c->tcp) == 0) {
        uv_tcp_nodelay(&c->tcp, 1);
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    } else {
        uv_close((uv_handle_t *)&c->tcp, on_closed);
    }
}

int main(int argc, char **argv)
{
    uv_loop_t *loop = uv_default_loop();
    uv_tcp_t server;
    struct sockaddr_in addr;
    int port = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 8002;
    feeds.next = feeds.prev = &feeds;
    answers_build();
    uv_tcp_init(loop, &server);
    uv_ip4_addr("127.0.0.1", port, &addr);
    if (uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0) ||
        uv_listen((uv_stream_t *)&server, 4096, on_connection)) {
        fprintf(stderr, "floor_uv: cannot listen on %d\n", port);
        return 1;
    }
    printf("floor_uv: a turn is %zu bytes, a task event %zu\n", ans.turn_len, ans.task_frame_len);
    printf("floor_uv listening on http://127.0.0.1:%d\n", port);
    fflush(stdout);
    return uv_run(loop, UV_RUN_DEFAULT);
}
