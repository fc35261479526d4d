#include "http/request.h"

#include "core/err.h"

#include <string.h>
#include <strings.h>

const char *http_request_header(const struct http_request *req, const char *name, size_t *len)
{
    size_t nlen = strlen(name);
    for (int i = 0; i < req->nheaders; i++) {
        const struct http_header *h = &req->headers[i];
        if (h->name_len == nlen && strncasecmp(req->head.data + h->name_off, name, nlen) == 0) {
            if (len)
                *len = h->value_len;
            return req->head.data + h->value_off;
        }
    }
    return NULL;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int http_percent_decode(const char *in, size_t len, bool plus_is_space, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '%') {
            if (i + 2 >= len)
                return ERR_INVALID;
            int hi = hex_value(in[i + 1]);
            int lo = hex_value(in[i + 2]);
            if (hi < 0 || lo < 0)
                return ERR_INVALID;
            c = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        if (o + 1 >= outlen)
            return ERR_TOO_BIG;
        out[o++] = c;
    }
    if (outlen)
        out[o] = '\0';
    return (int)o;
}

int http_request_query(const struct http_request *req, const char *name, char *out, size_t outlen)
{
    if (req->path_len >= req->url_len)
        return 0;
    const char *q = req->head.data + req->path_len + 1;
    const char *end = req->head.data + req->url_len;
    size_t nlen = strlen(name);
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *pair_end = amp ? amp : end;
        const char *eq = memchr(q, '=', (size_t)(pair_end - q));
        const char *key_end = eq ? eq : pair_end;
        if ((size_t)(key_end - q) == nlen && memcmp(q, name, nlen) == 0) {
            const char *v = eq ? eq + 1 : pair_end;
            int rc = http_percent_decode(v, (size_t)(pair_end - v), true, out, outlen);
            return rc < 0 ? rc : 1;
        }
        q = amp ? amp + 1 : end;
    }
    return 0;
}

int http_request_cookie(const struct http_request *req, const char *name, const char **val,
                        size_t *len)
{
    size_t hlen, nlen = strlen(name);
    const char *h = http_request_header(req, "Cookie", &hlen);
    if (!h)
        return 0;
    const char *end = h + hlen;
    while (h < end) {
        while (h < end && (*h == ' ' || *h == ';'))
            h++;
        const char *semi = memchr(h, ';', (size_t)(end - h));
        const char *item_end = semi ? semi : end;
        const char *eq = memchr(h, '=', (size_t)(item_end - h));
        if (eq && (size_t)(eq - h) == nlen && memcmp(h, name, nlen) == 0) {
            const char *v = eq + 1, *ve = item_end;
            while (ve > v && ve[-1] == ' ')
                ve--;
            if (ve - v >= 2 && v[0] == '"' && ve[-1] == '"') {
                v++;
                ve--;
            }
            *val = v;
            *len = (size_t)(ve - v);
            return 1;
        }
        h = item_end;
    }
    return 0;
}

int http_request_param(const struct http_request *req, const char *name, char *out, size_t outlen)
{
    size_t nlen = strlen(name);
    const struct http_route_match *m = &req->match;
    for (int i = 0; i < m->nparams; i++) {
        if (m->param_name_len[i] == nlen && memcmp(m->param_name[i], name, nlen) == 0) {
            int rc = http_percent_decode(m->param[i], m->param_len[i], false, out, outlen);
            return rc < 0 ? rc : 1;
        }
    }
    return 0;
}

const char *http_request_bearer(const struct http_request *req, size_t *len)
{
    size_t hlen;
    const char *h = http_request_header(req, "Authorization", &hlen);
    if (!h || hlen < 7 || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    hlen -= 7;
    while (hlen && *h == ' ') {
        h++;
        hlen--;
    }
    while (hlen && (h[hlen - 1] == ' ' || h[hlen - 1] == '\t'))
        hlen--;
    if (hlen == 0)
        return NULL;
    *len = hlen;
    return h;
}
