/* base64.h - standard base64 (RFC 4648 section 4, with padding), for data: URLs and audio.
 *
 * Encoding and decoding are nettle's; this module adds the strict input check the callers
 * want (no whitespace, no missing padding) and sizes the output.
 */
#ifndef CHATKITD_CORE_BASE64_H
#define CHATKITD_CORE_BASE64_H

#include <stddef.h>

/* Characters base64_std_encode writes for n bytes (no NUL). */
#define BASE64_STD_ENCODED_LEN(n) (4 * (((n) + 2) / 3))

/* Writes BASE64_STD_ENCODED_LEN(n) characters for in (n bytes) plus a NUL into out. */
void base64_std_encode(char *out, const unsigned char *in, size_t n);
/* Characters base64_url_encode writes for n bytes (no padding, no NUL). */
#define BASE64_URL_ENCODED_LEN(n) ((4 * (n) + 2) / 3)

/* Writes in (n bytes) as base64url (RFC 4648 section 5: '-' and '_', no padding) plus a NUL:
 * BASE64_URL_ENCODED_LEN(n) + 1 bytes. For tokens that go into URLs and headers. */
void base64_url_encode(char *out, const unsigned char *in, size_t n);
/* Decodes s (len characters, padded to a multiple of 4, no whitespace) into a new buffer
 * *out (owned by the caller; NUL-terminated for convenience). Returns the number of bytes, or
 * -1 for input that is not strict base64 or longer than 1 GiB (nothing allocated). */
long base64_std_decode(const char *s, size_t len, unsigned char **out);

#endif
