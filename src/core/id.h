/* id.h - random identifiers and secrets.
 *
 * Ids are a prefix plus 128 random bits as 32 lowercase hex digits ("thr_" + 32 hex): unguessable,
 * so an id leaks nothing, and collision-free in practice. Secrets carry 256 random bits in
 * base64url. Randomness comes from the kernel's CSPRNG (getrandom(2)), which blocks only until
 * it is seeded at boot.
 */
#ifndef CHATKITD_ID_H
#define CHATKITD_ID_H

#include <stddef.h>
#include <stdint.h>

/* Longest prefix accepted, and room for the largest id with its NUL. */
#define ID_PREFIX_MAX 16
#define ID_MAX        (ID_PREFIX_MAX + 32 + 1)
/* A secret: prefix + 43 base64url characters (256 bits) + NUL. */
#define SECRET_MAX (ID_PREFIX_MAX + 43 + 1)

/* Fills n random bytes; 0 or ERR_UNAVAILABLE when the CSPRNG fails. */
int id_random_bytes(void *out, size_t n);
/* Writes prefix + 32 hex digits into out (ID_MAX bytes); ERR_INVALID if prefix is too long. */
int id_new(const char *prefix, char out[ID_MAX]);
/* Writes prefix + base64url(32 random bytes) into out (SECRET_MAX bytes). */
int id_new_secret(const char *prefix, char out[SECRET_MAX]);
/* True when s (len bytes) is prefix followed by exactly 32 lowercase hex digits. */
int id_is_valid(const char *prefix, const char *s, size_t len);
/* Writes n bytes as 2n lowercase hex digits plus NUL into out. */
void id_hex(const unsigned char *in, size_t n, char *out);

#endif
