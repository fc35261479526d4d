/* digest.h - SHA-256 and constant-time comparison.
 *
 * A thin contract over nettle (a small, Debian-packaged library) so the server does not map
 * libcrypto, whose 3.4 MiB of resident pages were a third of the idle RSS for three functions.
 */
#ifndef CHATKITD_CORE_DIGEST_H
#define CHATKITD_CORE_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#define DIGEST_SHA256_LEN 32

/* SHA-256 of len bytes at data into out. */
void digest_sha256(const void *data, size_t len, unsigned char out[DIGEST_SHA256_LEN]);
/* True when a and b (n bytes each) are equal; the time taken does not depend on where they
 * differ. */
bool digest_equal(const void *a, const void *b, size_t n);

#endif
