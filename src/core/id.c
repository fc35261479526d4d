#include "core/id.h"

#include "core/base64.h"
#include "core/err.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

int id_random_bytes(void *out, size_t n)
{
    unsigned char *p = out;
    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return ERR_UNAVAILABLE;
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

void id_hex(const unsigned char *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int id_new(const char *prefix, char out[ID_MAX])
{
    size_t plen = strlen(prefix);
    unsigned char raw[16];
    if (plen > ID_PREFIX_MAX)
        return ERR_INVALID;
    int rc = id_random_bytes(raw, sizeof raw);
    if (rc)
        return rc;
    memcpy(out, prefix, plen);
    id_hex(raw, sizeof raw, out + plen);
    return 0;
}

int id_new_secret(const char *prefix, char out[SECRET_MAX])
{
    size_t plen = strlen(prefix);
    unsigned char raw[32];
    if (plen > ID_PREFIX_MAX)
        return ERR_INVALID;
    int rc = id_random_bytes(raw, sizeof raw);
    if (rc)
        return rc;
    memcpy(out, prefix, plen);
    base64_url_encode(out + plen, raw, sizeof raw); /* 43 characters */
    return 0;
}

int id_is_valid(const char *prefix, const char *s, size_t len)
{
    size_t plen = strlen(prefix);
    if (len != plen + 32 || memcmp(s, prefix, plen) != 0)
        return 0;
    for (size_t i = plen; i < len; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
    }
    return 1;
}
