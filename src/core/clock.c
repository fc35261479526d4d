#include "core/clock.h"

#include "core/err.h"

#include <stdio.h>
#include <time.h>

int64_t clock_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Howard Hinnant's civil-calendar algorithms: exact for every Gregorian date, no libc time zone
 * state involved (gmtime_r is locale-free too, but this also gives us the inverse cheaply). */
int64_t clock_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void clock_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

size_t clock_format_iso(int64_t wall_us, char out[CLOCK_ISO_MAX])
{
    /* Floor division written so that it cannot overflow near INT64_MIN. */
    int64_t secs = wall_us / 1000000;
    int64_t frac_us = wall_us % 1000000;
    if (frac_us < 0) {
        frac_us += 1000000;
        secs--;
    }
    int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    int64_t sod = secs - days * 86400;
    int64_t y;
    unsigned m, d;
    clock_civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) {
        out[0] = '\0';
        return 0;
    }
    int n =
        snprintf(out, CLOCK_ISO_MAX, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", (int)y, m, d,
                 (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60), (int)(frac_us / 1000));
    return n > 0 ? (size_t)n : 0;
}

static int parse_digits(const char *s, size_t len, size_t *pos, size_t n, int *out)
{
    int v = 0;
    if (*pos + n > len)
        return ERR_INVALID;
    for (size_t i = 0; i < n; i++) {
        char c = s[*pos + i];
        if (c < '0' || c > '9')
            return ERR_INVALID;
        v = v * 10 + (c - '0');
    }
    *pos += n;
    *out = v;
    return 0;
}

static int expect_char(const char *s, size_t len, size_t *pos, char c)
{
    if (*pos >= len || s[*pos] != c)
        return ERR_INVALID;
    (*pos)++;
    return 0;
}

int clock_parse_iso(const char *s, size_t len, int64_t *wall_us)
{
    static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    size_t pos = 0;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, frac_us = 0, off_min = 0;
    if (parse_digits(s, len, &pos, 4, &y) || expect_char(s, len, &pos, '-') ||
        parse_digits(s, len, &pos, 2, &mo) || expect_char(s, len, &pos, '-') ||
        parse_digits(s, len, &pos, 2, &d))
        return ERR_INVALID;
    if (pos >= len || (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' '))
        return ERR_INVALID;
    pos++;
    if (parse_digits(s, len, &pos, 2, &h) || expect_char(s, len, &pos, ':') ||
        parse_digits(s, len, &pos, 2, &mi) || expect_char(s, len, &pos, ':') ||
        parse_digits(s, len, &pos, 2, &sec))
        return ERR_INVALID;
    if (pos < len && s[pos] == '.') {
        pos++;
        int scale = 100000, digits = 0;
        while (pos < len && s[pos] >= '0' && s[pos] <= '9') {
            frac_us += (s[pos] - '0') * scale;
            scale /= 10;
            pos++;
            digits++;
        }
        if (digits == 0)
            return ERR_INVALID;
    }
    if (pos < len && (s[pos] == 'Z' || s[pos] == 'z')) {
        pos++;
    } else if (pos < len && (s[pos] == '+' || s[pos] == '-')) {
        int sign = s[pos] == '-' ? -1 : 1, oh, om;
        pos++;
        if (parse_digits(s, len, &pos, 2, &oh) || expect_char(s, len, &pos, ':') ||
            parse_digits(s, len, &pos, 2, &om) || oh > 23 || om > 59)
            return ERR_INVALID;
        off_min = sign * (oh * 60 + om);
    } else {
        return ERR_INVALID;
    }
    if (pos != len || mo < 1 || mo > 12 || d < 1 || (unsigned)d > mdays[mo - 1] || h > 23 ||
        mi > 59 || sec > 60)
        return ERR_INVALID;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return ERR_INVALID;
    int64_t days = clock_days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - (int64_t)off_min * 60;
    *wall_us = secs * 1000000 + frac_us;
    return 0;
}
