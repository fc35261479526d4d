#include "auth/secret.h"

#include "core/digest.h"

#include <string.h>

int secret_new(char out[SECRET_MAX], unsigned char hash[SECRET_HASH_LEN])
{
    int rc = id_new_secret(SECRET_PREFIX, out);
    if (rc)
        return rc;
    secret_hash(out, strlen(out), hash);
    return 0;
}

void secret_hash(const char *s, size_t len, unsigned char hash[SECRET_HASH_LEN])
{
    digest_sha256(s, len, hash);
}

bool secret_hash_equal(const unsigned char a[SECRET_HASH_LEN],
                       const unsigned char b[SECRET_HASH_LEN])
{
    return digest_equal(a, b, SECRET_HASH_LEN);
}

/* Hashing both sides first makes the comparison length-independent as well. */
bool secret_matches(const char *presented, size_t len, const char *expected)
{
    unsigned char a[SECRET_HASH_LEN], b[SECRET_HASH_LEN];
    secret_hash(presented, len, a);
    secret_hash(expected, strlen(expected), b);
    return secret_hash_equal(a, b);
}
