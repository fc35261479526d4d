#include "core/digest.h"

#include <nettle/memops.h>
#include <nettle/sha2.h>

void digest_sha256(const void *data, size_t len, unsigned char out[DIGEST_SHA256_LEN])
{
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, len, data);
    sha256_digest(&ctx, DIGEST_SHA256_LEN, out);
}

bool digest_equal(const void *a, const void *b, size_t n)
{
    return memeql_sec(a, b, n) != 0;
}
