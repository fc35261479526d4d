/* clock.h - wall and monotonic time, and the wire's timestamp format.
 *
 * Wall time is microseconds since the Unix epoch (UTC); it stamps stored records. Monotonic time
 * measures durations (latency, timeouts) and never jumps. On the wire every time is UTC ISO-8601
 * with milliseconds and a Z: "2026-11-25T21:15:41.123Z".
 */
#ifndef CHATKITD_CLOCK_H
#define CHATKITD_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#define CLOCK_ISO_MAX 32 /* bytes for any timestamp clock_format_iso writes, with its NUL */

/* Microseconds since the Unix epoch. */
int64_t clock_wall_us(void);
/* Microseconds on a monotonic clock with an arbitrary origin. */
int64_t clock_mono_us(void);
/* Writes "YYYY-MM-DDTHH:MM:SS.mmmZ" for wall_us into out; returns its length, or 0 when the
 * time is outside years 0000..9999. */
size_t clock_format_iso(int64_t wall_us, char out[CLOCK_ISO_MAX]);
/* Parses an ISO-8601 UTC time (date, "T", time, optional fraction, "Z" or an offset such as
 * +02:00) into microseconds since the epoch; 0 or ERR_INVALID. */
int clock_parse_iso(const char *s, size_t len, int64_t *wall_us);
/* Days since 1970-01-01 for a proleptic Gregorian date (no validation of day ranges). */
int64_t clock_days_from_civil(int64_t y, unsigned m, unsigned d);
/* The inverse: the date of day number days (days since 1970-01-01, may be negative). */
void clock_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

#endif
