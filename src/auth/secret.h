/* secret.h - client secrets: minted random, stored hashed, compared in constant time.
 *
 * A client secret is "ek_" + 256 random bits (base64url). The database only ever sees its
 * SHA-256, so a leaked database cannot be replayed against the server; lookups go by hash and the
 * final comparison is constant-time (digest_equal), so timing reveals nothing about near matches.
 */
#ifndef CHATKITD_AUTH_SECRET_H
#define CHATKITD_AUTH_SECRET_H

#include "core/id.h"

#include <stdbool.h>
#include <stddef.h>

#define SECRET_PREFIX   "ek_"
#define SECRET_HASH_LEN 32

/* Mints a new secret into out and its hash into hash. 0 or ERR_UNAVAILABLE (no randomness). */
int secret_new(char out[SECRET_MAX], unsigned char hash[SECRET_HASH_LEN]);
/* SHA-256 of s (len bytes). */
void secret_hash(const char *s, size_t len, unsigned char hash[SECRET_HASH_LEN]);
/* Constant-time equality of two hashes. */
bool secret_hash_equal(const unsigned char a[SECRET_HASH_LEN],
                       const unsigned char b[SECRET_HASH_LEN]);
/* Constant-time check that presented (len bytes) equals expected, e.g. the admin API key. */
bool secret_matches(const char *presented, size_t len, const char *expected);

#endif
