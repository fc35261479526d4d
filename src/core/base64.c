#include "core/base64.h"

#include "core/xalloc.h"

#include <nettle/base64.h>
#include <stdbool.h>
#include <stdlib.h>

void base64_std_encode(char *out, const unsigned char *in, size_t n)
{
    base64_encode_raw(out, n, in);
    out[BASE64_STD_ENCODED_LEN(n)] = '\0';
}

void base64_url_encode(char *out, const unsigned char *in, size_t n)
{
    struct base64_encode_ctx ctx;
    base64url_encode_init(&ctx);
    size_t len = base64_encode_update(&ctx, out, n, in);
    len += base64_encode_final(&ctx, out + len);
    while (len > 0 && out[len - 1] == '=')
        len--;
    out[len] = '\0';
}

static bool is_base64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

/* nettle's decoder skips whitespace and accepts unpadded input; the callers want neither. */
static bool is_strict_base64(const char *s, size_t n)
{
    if (n == 0 || n % 4 != 0 || n > (size_t)1 << 30)
        return false;
    for (size_t i = 0; i < n; i++) {
        bool pad = s[i] == '=' && i >= n - 2 && (i == n - 1 || s[n - 1] == '=');
        if (!pad && !is_base64_char(s[i]))
            return false;
    }
    return true;
}

long base64_std_decode(const char *s, size_t len, unsigned char **out)
{
    if (!is_strict_base64(s, len))
        return -1;
    struct base64_decode_ctx ctx;
    size_t cap = BASE64_DECODE_LENGTH(len);
    unsigned char *bytes = xmalloc(cap + 1);
    size_t n = cap;
    base64_decode_init(&ctx);
    if (!base64_decode_update(&ctx, &n, bytes, len, s) || !base64_decode_final(&ctx)) {
        free(bytes);
        return -1;
    }
    bytes[n] = '\0';
    *out = bytes;
    return (long)n;
}
