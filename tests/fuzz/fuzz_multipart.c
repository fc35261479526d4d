/* libFuzzer target: the multipart/form-data parser of uploads.
 *
 * The first input line is the Content-Type header value, the rest the body. Invariants: no crash
 * or leak; a found part's views lie inside the body or the content type; a decoded filename
 * fits its buffer. */
#include "chatkit/attachments.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(const char *p, size_t n, const char *base, size_t len)
{
    return p >= base && n <= len && (size_t)(p - base) <= len - n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    const char *nl = memchr(s, '\n', size);
    size_t ct_len = nl ? (size_t)(nl - s) : size;
    const char *body = nl ? nl + 1 : s + size;
    size_t len = nl ? size - ct_len - 1 : 0;
    struct attachments_part part;
    if (attachments_multipart_file(s, ct_len, body, len, &part) != 0)
        return 0;
    if (!inside(part.data, part.len, body, len))
        abort();
    if (part.filename && !inside(part.filename, part.filename_len, body, len))
        abort();
    if (part.content_type && !inside(part.content_type, part.content_type_len, body, len))
        abort();
    char name[256];
    int n = part.filename
                ? attachments_decode_filename(part.filename, part.filename_len, name, sizeof name)
                : 0;
    if (n >= (int)sizeof name)
        abort();
    return 0;
}
