#include "core/units.h"

#include "core/err.h"

#include <stddef.h>
#include <string.h>

struct unit {
    const char *name;
    uint64_t factor;
};

/* Reads the leading run of decimal digits of s into *v; returns how many digits there were, or 0
 * when there were none or the number does not fit in 64 bits. */
static size_t parse_digits(const char *s, uint64_t *v)
{
    uint64_t n = 0;
    size_t i = 0;
    while (s[i] >= '0' && s[i] <= '9') {
        unsigned d = (unsigned)(s[i] - '0');
        if (n > (UINT64_MAX - d) / 10)
            return 0;
        n = n * 10 + d;
        i++;
    }
    *v = n;
    return i;
}

/* Number, then either nothing (def is the factor) or exactly one unit from the table. Units are
 * case-sensitive as written in units.h: "m" is minutes and "M" would otherwise be a guess. */
static int parse_with_unit(const char *s, const struct unit *units, size_t n_units, uint64_t def,
                           uint64_t *out)
{
    uint64_t v, factor = def;
    size_t i;
    if (!s)
        return ERR_INVALID;
    i = parse_digits(s, &v);
    if (i == 0)
        return ERR_INVALID;
    if (s[i] != '\0') {
        size_t k;
        for (k = 0; k < n_units; k++) {
            if (strcmp(s + i, units[k].name) == 0)
                break;
        }
        if (k == n_units)
            return ERR_INVALID;
        factor = units[k].factor;
    }
    if (v > UINT64_MAX / factor)
        return ERR_INVALID;
    *out = v * factor;
    return 0;
}

int units_parse_size(const char *s, uint64_t *bytes)
{
    static const struct unit units[] = {
        {"B", 1},
        {"KB", 1024},
        {"KiB", 1024},
        {"MB", 1024 * 1024},
        {"MiB", 1024 * 1024},
        {"GB", 1024 * 1024 * 1024},
        {"GiB", 1024 * 1024 * 1024},
    };
    return parse_with_unit(s, units, sizeof units / sizeof units[0], 1, bytes);
}

int units_parse_duration_ms(const char *s, uint64_t *ms)
{
    static const struct unit units[] = {
        {"ms", 1},
        {"s", 1000},
        {"m", 60 * 1000},
        {"h", 60 * 60 * 1000},
    };
    return parse_with_unit(s, units, sizeof units / sizeof units[0], 1000, ms);
}

int units_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    uint64_t mag;
    int64_t v;
    size_t neg, i;
    if (!s)
        return ERR_INVALID;
    neg = s[0] == '-' ? 1 : 0;
    i = parse_digits(s + neg, &mag);
    if (i == 0 || s[neg + i] != '\0')
        return ERR_INVALID;
    /* The magnitude of INT64_MIN is one more than INT64_MAX; negate in unsigned arithmetic. */
    if (neg) {
        if (mag > (uint64_t)INT64_MAX + 1)
            return ERR_INVALID;
        v = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
    } else {
        if (mag > (uint64_t)INT64_MAX)
            return ERR_INVALID;
        v = (int64_t)mag;
    }
    if (v < min || v > max)
        return ERR_INVALID;
    *out = v;
    return 0;
}
