/* units.h - parsing of sizes and durations in configuration values.
 *
 * Sizes: a whole number of bytes with an optional unit B, KB/KiB, MB/MiB, GB/GiB (K/M/G are
 * powers of 1024 either way, as in every limit a server admin sets: "16KiB", "1MiB", "1048576").
 * Durations: a number with an optional unit ms, s, m, h ("10s", "500ms", "2m"); no unit means
 * seconds. Units are case-sensitive and follow the number directly ("16 KiB" and "16kib" are
 * refused, loudly, rather than guessed at). Both reject negative values, fractions, overflow, junk
 * and empty strings.
 */
#ifndef CHATKITD_UNITS_H
#define CHATKITD_UNITS_H

#include <stdint.h>

/* 0 or ERR_INVALID. */
int units_parse_size(const char *s, uint64_t *bytes);
int units_parse_duration_ms(const char *s, uint64_t *ms);
/* Parses a whole decimal number (optional leading '-', no '+' or spaces) in [min, max]; 0 or
 * ERR_INVALID. */
int units_parse_int(const char *s, int64_t min, int64_t max, int64_t *out);

#endif
