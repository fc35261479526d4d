#include "model/sse_parse.h"

#include "core/err.h"

#include <string.h>

void sse_parser_init(struct sse_parser *p, size_t max_event_bytes)
{
    memset(p, 0, sizeof *p);
    buf_init(&p->line, max_event_bytes);
    buf_init(&p->payload, max_event_bytes);
}

void sse_parser_free(struct sse_parser *p)
{
    buf_free(&p->line);
    buf_free(&p->payload);
}

static int dispatch(struct sse_parser *p, sse_event_fn fn, void *data)
{
    int rc = 0;
    if (p->has_data)
        rc = fn(data, p->name, p->payload.data ? p->payload.data : "", p->payload.len);
    buf_reset(&p->payload);
    p->name[0] = '\0';
    p->has_data = false;
    return rc;
}

/* One complete line (without its terminator). */
static int take_line(struct sse_parser *p, const char *s, size_t len, sse_event_fn fn, void *data)
{
    if (len == 0)
        return dispatch(p, fn, data);
    if (s[0] == ':')
        return 0;
    const char *colon = memchr(s, ':', len);
    size_t nlen = colon ? (size_t)(colon - s) : len;
    const char *v = colon ? colon + 1 : s + len;
    size_t vlen = (size_t)(s + len - v);
    if (vlen && v[0] == ' ') {
        v++;
        vlen--;
    }
    if (nlen == 4 && memcmp(s, "data", 4) == 0) {
        if (p->has_data && buf_append_char(&p->payload, '\n'))
            return ERR_TOO_BIG;
        if (buf_append(&p->payload, v, vlen))
            return ERR_TOO_BIG;
        p->has_data = true;
    } else if (nlen == 5 && memcmp(s, "event", 5) == 0) {
        if (vlen >= sizeof p->name)
            return ERR_TOO_BIG;
        memcpy(p->name, v, vlen);
        p->name[vlen] = '\0';
    }
    return 0; /* id, retry and unknown fields are ignored */
}

static int feed_bom(struct sse_parser *p, const char **bytes, size_t *n)
{
    static const char bom[] = "\xEF\xBB\xBF";
    if (p->bom_checked)
        return 0;
    /* Collect up to three bytes in the line buffer until we can tell. */
    while (*n && p->line.len < 3) {
        if (buf_append_char(&p->line, **bytes))
            return ERR_TOO_BIG;
        (*bytes)++;
        (*n)--;
        if (memcmp(p->line.data, bom, p->line.len) != 0)
            break;
    }
    if (p->line.len == 3 && memcmp(p->line.data, bom, 3) == 0) {
        buf_reset(&p->line);
        p->bom_checked = true;
    } else if (p->line.len && memcmp(p->line.data, bom, p->line.len) != 0) {
        p->bom_checked = true;
    }
    return 0;
}

/* Lines that sit in the line buffer (a BOM probe) may hold terminators: replay them. */
static int replay_probe(struct sse_parser *p, sse_event_fn fn, void *data)
{
    char probe[3];
    size_t n = p->line.len;
    memcpy(probe, p->line.data, n);
    buf_reset(&p->line);
    return sse_parser_feed(p, probe, n, fn, data);
}

int sse_parser_feed(struct sse_parser *p, const char *bytes, size_t n, sse_event_fn fn, void *data)
{
    if (!p->bom_checked) {
        int rc = feed_bom(p, &bytes, &n);
        if (rc)
            return rc;
        if (!p->bom_checked)
            return 0; /* still could be a BOM */
        if (p->line.len && (rc = replay_probe(p, fn, data)) != 0)
            return rc;
    }
    while (n) {
        if (p->skip_lf) {
            p->skip_lf = false;
            if (*bytes == '\n') {
                bytes++;
                n--;
                continue;
            }
        }
        /* Streams end lines with LF; a CR (rare) is looked for only before the first LF. */
        const char *lf = memchr(bytes, '\n', n);
        size_t i = lf ? (size_t)(lf - bytes) : n;
        const char *cr = memchr(bytes, '\r', i);
        if (cr)
            i = (size_t)(cr - bytes);
        if (i == n) {
            if (buf_append(&p->line, bytes, n))
                return ERR_TOO_BIG;
            return 0;
        }
        int rc;
        if (p->line.len) {
            if (buf_append(&p->line, bytes, i))
                return ERR_TOO_BIG;
            rc = take_line(p, p->line.data, p->line.len, fn, data);
            buf_reset(&p->line);
        } else {
            rc = take_line(p, bytes, i, fn, data);
        }
        p->skip_lf = bytes[i] == '\r';
        bytes += i + 1;
        n -= i + 1;
        if (rc)
            return rc;
    }
    return 0;
}
