#include "agent/dates.h"

#include "core/clock.h"
#include "core/err.h"

#include <string.h>

/* --- Calendar ------------------------------------------------------------------------------ */

bool dates_is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int dates_days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12)
        return 0;
    return m == 2 && dates_is_leap(y) ? 29 : days[m - 1];
}

bool dates_valid(struct date d)
{
    return d.y >= 1 && d.y <= 9999 && d.m >= 1 && d.m <= 12 && d.d >= 1 &&
           d.d <= dates_days_in_month(d.y, d.m);
}

static int64_t to_days(struct date d)
{
    return clock_days_from_civil(d.y, (unsigned)d.m, (unsigned)d.d);
}

static struct date from_days(int64_t z)
{
    int64_t y;
    unsigned m, dd;
    clock_civil_from_days(z, &y, &m, &dd);
    struct date d = {.y = (int)y, .m = (int)m, .d = (int)dd};
    return d;
}

int dates_weekday(struct date d)
{
    /* 1970-01-01 was a Thursday (3 when Monday is 0). */
    int64_t z = to_days(d);
    int64_t wd = (z + 3) % 7;
    return (int)(wd < 0 ? wd + 7 : wd);
}

struct date dates_add_days(struct date d, int64_t n)
{
    return from_days(to_days(d) + n);
}

struct date dates_add_months(struct date d, int n)
{
    int64_t months = (int64_t)d.y * 12 + (d.m - 1) + n;
    struct date r;
    r.y = (int)(months / 12);
    r.m = (int)(months % 12) + 1;
    int last = dates_days_in_month(r.y, r.m);
    r.d = d.d > last ? last : d.d;
    return r;
}

int dates_cmp(struct date a, struct date b)
{
    if (a.y != b.y)
        return a.y < b.y ? -1 : 1;
    if (a.m != b.m)
        return a.m < b.m ? -1 : 1;
    if (a.d != b.d)
        return a.d < b.d ? -1 : 1;
    return 0;
}

int64_t dates_diff(struct date a, struct date b)
{
    return to_days(b) - to_days(a);
}

size_t dates_format(struct date d, char out[DATES_ISO_MAX])
{
    if (!dates_valid(d)) {
        out[0] = '\0';
        return 0;
    }
    /* By hand: snprintf's "%04d" makes gcc -O2 warn about truncation it cannot rule out. */
    int parts[3] = {d.y, d.m, d.d}, widths[3] = {4, 2, 2};
    size_t o = 0;
    for (int p = 0; p < 3; p++) {
        if (p)
            out[o++] = '-';
        for (int k = widths[p] - 1, v = parts[p]; k >= 0; k--, v /= 10)
            out[o + (size_t)k] = (char)('0' + v % 10);
        o += (size_t)widths[p];
    }
    out[o] = '\0';
    return 10;
}

/* Reads exactly n ASCII digits. */
static bool read_digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

int dates_parse_iso(const char *s, size_t len, struct date *out)
{
    struct date d;
    if (len != 10 || s[4] != '-' || s[7] != '-' || !read_digits(s, 4, &d.y) ||
        !read_digits(s + 5, 2, &d.m) || !read_digits(s + 8, 2, &d.d) || !dates_valid(d))
        return ERR_INVALID;
    *out = d;
    return 0;
}

/* --- Words --------------------------------------------------------------------------------- */

enum cls { C_SPACE, C_WORD, C_PUNCT, C_QUOTE, C_APOS, C_BANG, C_INNER };

/* Classifies the character at s[i] and says how many bytes it spans. The few non-ASCII
 * characters recognised are the ones phone keyboards and CJK input methods produce in ordinary
 * messages (curly quotes and apostrophes, no-break and ideographic spaces, full-width commas);
 * every other non-ASCII byte is part of a word, which keeps words in any script intact. */
static enum cls classify(const unsigned char *s, size_t len, size_t i, size_t *adv, char *punct)
{
    unsigned char c = s[i];
    *adv = 1;
    *punct = 0;
    if (c < 0x80) {
        if (c == ' ' || (c >= '\t' && c <= '\r'))
            return C_SPACE;
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
            return C_WORD;
        if (c == '"')
            return C_QUOTE;
        if (c == '\'')
            return C_APOS;
        if (c == '!')
            return C_BANG;
        *punct = (char)c;
        if (c != 0 && strchr("#-.:/&@+", c)) /* strchr finds the terminator for NUL */
            return C_INNER;
        return C_PUNCT;
    }
    if (c == 0xC2 && i + 1 < len && s[i + 1] == 0xA0) {
        *adv = 2;
        return C_SPACE;
    }
    if (i + 2 < len) {
        unsigned char c1 = s[i + 1], c2 = s[i + 2];
        if (c == 0xE2 && c1 == 0x80) {
            *adv = 3;
            if (c2 <= 0x8A || c2 == 0xAF)
                return C_SPACE;
            if (c2 == 0x98 || c2 == 0x99)
                return C_APOS;
            if (c2 == 0x9C || c2 == 0x9D)
                return C_QUOTE;
            if (c2 == 0x93 || c2 == 0x94) {
                *punct = '-';
                return C_PUNCT;
            }
            if (c2 == 0xA6) {
                *punct = '.';
                return C_PUNCT;
            }
            *adv = 1;
        } else if (c == 0xE3 && c1 == 0x80 && (c2 == 0x80 || c2 == 0x81 || c2 == 0x82)) {
            *adv = 3;
            if (c2 == 0x80)
                return C_SPACE;
            *punct = c2 == 0x81 ? ',' : '.';
            return C_PUNCT;
        } else if (c == 0xEF && c1 == 0xBC &&
                   (c2 == 0x8C || c2 == 0x81 || c2 == 0x9F || c2 == 0x9A)) {
            *adv = 3;
            *punct = c2 == 0x8C ? ',' : c2 == 0x81 ? '!' : c2 == 0x9F ? '?' : ':';
            return C_PUNCT;
        }
    }
    return C_WORD;
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Fills w->low: ASCII lowercased, apostrophes dropped; "" when it does not fit. */
static void make_low(const unsigned char *s, size_t len, struct dates_word *w)
{
    size_t o = 0;
    w->low[0] = '\0';
    if (w->flags & DATES_WORD_QUOTED)
        return;
    for (size_t i = w->start; i < w->end;) {
        size_t adv;
        char p;
        enum cls k = classify(s, len, i, &adv, &p);
        if (k == C_APOS) {
            i += adv;
            continue;
        }
        if (o + adv >= DATES_WORD_LOW_MAX) {
            w->low[0] = '\0';
            return;
        }
        for (size_t j = 0; j < adv; j++) {
            unsigned char c = s[i + j];
            w->low[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        i += adv;
    }
    w->low[o] = '\0';
}

/* Where the word starting at i ends: word characters, plus the joiners that sit between two
 * word characters (and ':' only between digits, so "task:call" splits but "17:30" does not). */
static size_t word_end(const unsigned char *s, size_t len, size_t i)
{
    size_t j = i;
    while (j < len) {
        size_t adv, adv2;
        char p, p2;
        enum cls k = classify(s, len, j, &adv, &p);
        if (k == C_WORD) {
            j += adv;
            continue;
        }
        if (j == i || (k != C_APOS && k != C_INNER))
            break;
        if (p == '#') { /* "c#" */
            j += adv;
            continue;
        }
        if (j + adv >= len || classify(s, len, j + adv, &adv2, &p2) != C_WORD)
            break;
        if (p == ':' && !(is_digit(s[j - 1]) && is_digit(s[j + 1])))
            break;
        j += adv;
    }
    return j;
}

int dates_split(const char *text, size_t len, struct dates_word *w, size_t max, size_t *n)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t count = 0;
    uint16_t group = 0;
    bool quoted = false, space_before = true;
    char gap = 0;
    *n = 0;
    if (len > UINT32_MAX)
        return ERR_INVALID;
    for (size_t i = 0; i < len;) {
        size_t adv, adv2;
        char p, p2;
        enum cls k = classify(s, len, i, &adv, &p);
        size_t start = i, end;
        uint8_t flags = 0;
        if (k == C_SPACE || k == C_QUOTE || k == C_PUNCT || k == C_APOS ||
            (k == C_INNER &&
             !(p == '#' && i + 1 < len && classify(s, len, i + 1, &adv2, &p2) == C_WORD))) {
            if (k == C_QUOTE) {
                quoted = !quoted;
                if (quoted && group < UINT16_MAX)
                    group++;
            } else if (k != C_SPACE && !gap) {
                gap = k == C_APOS ? '\'' : p;
            }
            space_before = true;
            i += adv;
            continue;
        }
        if (k == C_BANG) {
            end = i;
            while (end < len && s[end] == '!')
                end++;
            flags = DATES_WORD_BANG | (space_before ? 0 : DATES_WORD_GLUED);
        } else {
            if (k == C_INNER)
                flags = DATES_WORD_TAG;
            end = word_end(s, len, i + (k == C_INNER ? 1 : 0));
        }
        if (count == max) {
            *n = count;
            return ERR_TOO_BIG;
        }
        struct dates_word *x = &w[count++];
        x->start = (uint32_t)start;
        x->end = (uint32_t)end;
        x->group = quoted ? group : 0;
        x->flags = flags | (quoted ? DATES_WORD_QUOTED : 0);
        x->gap = gap;
        make_low(s, len, x);
        gap = 0;
        space_before = false;
        i = end;
    }
    *n = count;
    return 0;
}

size_t dates_words_match(const struct dates_word *w, size_t n, size_t i, const bool *used,
                         const char *pattern)
{
    size_t j = i;
    const char *p = pattern;
    for (;;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        const char *item = p;
        while (*p && *p != ' ')
            p++;
        size_t ilen = (size_t)(p - item);
        bool optional = item[ilen - 1] == '?';
        if (optional)
            ilen--;
        bool ok = false;
        if (j < n && !(used && used[j]) && w[j].low[0]) {
            size_t wl = strlen(w[j].low);
            const char *a = item, *end = item + ilen;
            while (!ok && a <= end) {
                const char *bar = memchr(a, '|', (size_t)(end - a));
                if (!bar)
                    bar = end;
                ok = (size_t)(bar - a) == wl && memcmp(a, w[j].low, wl) == 0;
                a = bar + 1;
            }
        }
        if (ok)
            j++;
        else if (!optional)
            return 0;
    }
    return j - i;
}

/* --- Phrases ------------------------------------------------------------------------------- */

struct scan {
    const struct dates_word *w;
    size_t n;
    const bool *used;
    struct date today;
    int wd; /* today's weekday */
};

static size_t m(const struct scan *s, size_t i, const char *pattern)
{
    return dates_words_match(s->w, s->n, i, s->used, pattern);
}

/* The low form of w[i] when it may be read, else "". */
static const char *low(const struct scan *s, size_t i)
{
    if (i >= s->n || (s->used && s->used[i]))
        return "";
    return s->w[i].low;
}

/* A whole word of 1..maxd digits. */
static bool number(const char *t, size_t maxd, int *out)
{
    size_t l = strlen(t);
    return l >= 1 && l <= maxd && read_digits(t, l, out);
}

/* Weekday of a name: full names always; three-letter forms only when abbrev_ok. */
static int weekday_of(const char *t, bool abbrev_ok)
{
    static const char *const full[7] = {"monday", "tuesday",  "wednesday", "thursday",
                                        "friday", "saturday", "sunday"};
    static const char *const abbr[] = {"mon",  "tue",   "tues", "wed", "weds", "thu",
                                       "thur", "thurs", "fri",  "sat", "sun"};
    static const int abbr_wd[] = {0, 1, 1, 2, 2, 3, 3, 3, 4, 5, 6};
    for (int i = 0; i < 7; i++)
        if (strcmp(t, full[i]) == 0)
            return i;
    if (abbrev_ok)
        for (size_t i = 0; i < sizeof abbr / sizeof abbr[0]; i++)
            if (strcmp(t, abbr[i]) == 0)
                return abbr_wd[i];
    return -1;
}

static int month_of(const char *t)
{
    static const char *const full[12] = {"january",   "february", "march",    "april",
                                         "may",       "june",     "july",     "august",
                                         "september", "october",  "november", "december"};
    for (int i = 0; i < 12; i++) {
        if (strcmp(t, full[i]) == 0 || (strlen(t) == 3 && strncmp(t, full[i], 3) == 0))
            return i + 1;
    }
    if (strcmp(t, "sept") == 0)
        return 9;
    return 0;
}

/* A day of the month: "5", "05", "5th", "1st", "22nd", "3rd". */
static bool day_number(const char *t, int *out)
{
    size_t l = strlen(t), digits = 0;
    while (digits < l && is_digit((unsigned char)t[digits]))
        digits++;
    if (digits < 1 || digits > 2)
        return false;
    const char *suf = t + digits;
    if (*suf && strcmp(suf, "st") != 0 && strcmp(suf, "nd") != 0 && strcmp(suf, "rd") != 0 &&
        strcmp(suf, "th") != 0)
        return false;
    return read_digits(t, digits, out) && *out >= 1 && *out <= 31;
}

static bool year_number(const char *t, int *out)
{
    return strlen(t) == 4 && read_digits(t, 4, out) && *out >= 1000;
}

/* A month and day with no year: this year's, or the first later year where it exists and is
 * not before today (a Feb 29 waits for the next leap year). */
static bool roll_forward(struct date today, int mo, int day, struct date *out)
{
    for (int y = today.y; y <= today.y + 8 && y <= 9999; y++) {
        struct date d = {y, mo, day};
        if (dates_valid(d) && dates_cmp(d, today) >= 0) {
            *out = d;
            return true;
        }
    }
    return false;
}

static struct date monday_of_week(const struct scan *s)
{
    return dates_add_days(s->today, -s->wd);
}

static const char *const number_words[] = {"one",   "two",   "three", "four", "five",   "six",
                                           "seven", "eight", "nine",  "ten",  "eleven", "twelve"};

size_t dates_match_amount(const struct dates_word *w, size_t n, size_t i, const bool *used,
                          struct dates_amount *out)
{
    struct scan s = {w, n, used, {2000, 1, 1}, 0};
    size_t j = i, k;
    int count = 0;
    if ((k = m(&s, j, "a? couple of?")) != 0) {
        count = 2;
    } else if ((k = m(&s, j, "a? few")) != 0) {
        count = 3;
    } else if ((k = m(&s, j, "a|an")) != 0) {
        count = 1;
    } else {
        const char *t = low(&s, j);
        for (int x = 0; x < 12; x++)
            if (strcmp(t, number_words[x]) == 0)
                count = x + 1;
        if (!count && !(number(t, 4, &count) && count > 0))
            return 0;
        k = 1;
    }
    j += k;
    int unit;
    if (m(&s, j, "day|days"))
        unit = DATES_UNIT_DAY;
    else if (m(&s, j, "week|weeks|wk|wks"))
        unit = DATES_UNIT_WEEK;
    else if (m(&s, j, "fortnight|fortnights")) {
        unit = DATES_UNIT_WEEK;
        count *= 2;
    } else if (m(&s, j, "month|months"))
        unit = DATES_UNIT_MONTH;
    else if (m(&s, j, "year|years|yr|yrs"))
        unit = DATES_UNIT_YEAR;
    else
        return 0;
    /* About ten years in any unit: further is not a task due date, and it keeps the arithmetic
     * far from overflow. */
    static const int limit[] = {3660, 522, 120, 10};
    if (count > limit[unit])
        return 0;
    out->n = count;
    out->unit = unit;
    return j + 1 - i;
}

struct date dates_add_amount(struct date d, struct dates_amount a)
{
    switch (a.unit) {
    case DATES_UNIT_WEEK:
        return dates_add_days(d, (int64_t)a.n * 7);
    case DATES_UNIT_MONTH:
        return dates_add_months(d, a.n);
    case DATES_UNIT_YEAR:
        return dates_add_months(d, a.n * 12);
    default:
        return dates_add_days(d, a.n);
    }
}

/* Month-name dates: "dec 5", "december 5th, 2027", "5 dec", "the 5th of december 2027". */
static size_t match_month_day(const struct scan *s, size_t i, struct date *out)
{
    int mo, day, year = 0;
    size_t j;
    if ((mo = month_of(low(s, i))) != 0 && day_number(low(s, i + 1), &day)) {
        j = i + 2;
    } else {
        size_t k = m(s, i, "the?");
        if (!day_number(low(s, i + k), &day))
            return 0;
        j = i + k + 1;
        j += m(s, j, "of");
        if ((mo = month_of(low(s, j))) == 0)
            return 0;
        j++;
    }
    /* A year only when it follows directly or after a comma: "dec 5, 2027". */
    if (j < s->n && (s->w[j].gap == 0 || s->w[j].gap == ',') && year_number(low(s, j), &year)) {
        struct date d = {year, mo, day};
        if (!dates_valid(d))
            return 0;
        *out = d;
        return j + 1 - i;
    }
    if (!roll_forward(s->today, mo, day, out))
        return 0;
    return j - i;
}

/* One date phrase at i (not its prepositions). *evening_hint is set for "tonight". */
static size_t match_date(const struct scan *s, size_t i, struct date *out, bool *tonight)
{
    size_t k;
    int wd;
    struct dates_amount a;
    const char *t = low(s, i);
    *tonight = false;
    if (!*t)
        return 0;
    if ((k = m(s, i, "the? day after tomorrow|tmrw"))) {
        *out = dates_add_days(s->today, 2);
        return k;
    }
    if ((k = m(s, i, "today|todays"))) {
        *out = s->today;
        return k;
    }
    if ((k = m(s, i, "tonight|tonights|tonite"))) {
        *out = s->today;
        *tonight = true;
        return k;
    }
    if ((k = m(s, i, "tomorrow|tomorrows|tmrw|tmr|tomorow|tommorow|tommorrow|2morrow"))) {
        *out = dates_add_days(s->today, 1);
        return k;
    }
    if ((k = m(s, i, "yesterday|yesterdays"))) {
        *out = dates_add_days(s->today, -1);
        return k;
    }
    if ((k = m(s, i, "next week|weeks"))) {
        *out = dates_add_days(monday_of_week(s), 7);
        return k;
    }
    if ((k = m(s, i, "next month"))) {
        struct date first = {s->today.y, s->today.m, 1};
        *out = dates_add_months(first, 1);
        return k;
    }
    if ((k = m(s, i, "next weekend"))) {
        *out = dates_add_days(monday_of_week(s), 12);
        return k;
    }
    if ((k = m(s, i, "over|at? the|this? weekend|weekends"))) {
        *out = s->wd == 6 ? s->today : dates_add_days(monday_of_week(s), 5);
        return k;
    }
    if ((k = m(s, i, "next")) && (wd = weekday_of(low(s, i + 1), true)) >= 0) {
        *out = dates_add_days(monday_of_week(s), 7 + wd);
        return 2;
    }
    if ((k = m(s, i, "this|coming coming?")) && (wd = weekday_of(low(s, i + k), true)) >= 0) {
        *out = dates_add_days(s->today, (wd - s->wd + 7) % 7);
        return k + 1;
    }
    bool abbrev_ok = i > 0 && dates_words_match(s->w, s->n, i - 1, NULL,
                                                "on|by|due|until|till|this|next|before") == 1;
    if ((wd = weekday_of(t, abbrev_ok)) >= 0) {
        int ahead = (wd - s->wd + 7) % 7;
        *out = dates_add_days(s->today, ahead ? ahead : 7);
        return 1;
    }
    if ((k = m(s, i, "the? end of the|this? month")) || (k = m(s, i, "month end|eom"))) {
        *out = (struct date){s->today.y, s->today.m, dates_days_in_month(s->today.y, s->today.m)};
        return k;
    }
    if ((k = m(s, i, "the? end of the|this? week")) || (k = m(s, i, "eow"))) {
        *out = dates_add_days(monday_of_week(s), 6);
        return k;
    }
    if (m(s, i, "in") && (k = dates_match_amount(s->w, s->n, i + 1, s->used, &a))) {
        *out = dates_add_amount(s->today, a);
        return k + 1;
    }
    if ((k = dates_match_amount(s->w, s->n, i, s->used, &a)) && m(s, i + k, "from now|today")) {
        *out = dates_add_amount(s->today, a);
        return k + 2;
    }
    if (strlen(t) == 10 && dates_parse_iso(t, 10, out) == 0)
        return 1;
    return match_month_day(s, i, out);
}

/* "5pm", "5:30pm", "5.30pm", "17:30", "5:30", "5.30": hour/minute and whether am/pm was
 * written; *dot is set for the "5.30" form, which is only a time with am/pm after it. */
static bool clock_word(const char *t, int *h, int *mi, int *ampm, bool *colon, bool *dot,
                       size_t *hdigits)
{
    size_t l = strlen(t), d = 0;
    while (d < l && is_digit((unsigned char)t[d]))
        d++;
    if (d < 1 || d > 2 || !read_digits(t, d, h))
        return false;
    *hdigits = d;
    *mi = 0;
    *colon = false;
    *dot = false;
    const char *r = t + d;
    if ((*r == ':' || *r == '.') && is_digit((unsigned char)r[1]) &&
        is_digit((unsigned char)r[2])) {
        *colon = *r == ':';
        *dot = *r == '.';
        read_digits(r + 1, 2, mi);
        r += 3;
    }
    *ampm = 0;
    if (strcmp(r, "am") == 0 || strcmp(r, "a.m") == 0)
        *ampm = 1;
    else if (strcmp(r, "pm") == 0 || strcmp(r, "p.m") == 0)
        *ampm = 2;
    else if (*r)
        return false;
    return *mi <= 59 && *h <= 23;
}

/* Applies am/pm to a 12-hour reading; false for an impossible one ("13pm", "0am"). */
static bool apply_ampm(int *h, int ampm)
{
    if (*h < 1 || *h > 12)
        return false;
    if (ampm == 1)
        *h = *h == 12 ? 0 : *h;
    else
        *h = *h == 12 ? 12 : *h + 12;
    return true;
}

struct time_found {
    int h, mi;
    bool ampm_known; /* am/pm, a 24-hour form or a part of the day fixed the half of the day */
    bool today;      /* "this morning" also means today */
};

/* A part of the day: morning 9, afternoon 15, evening 18, night 20; -1 if t is none. */
static int part_of_day(const char *t)
{
    if (strcmp(t, "morning") == 0)
        return 9;
    if (strcmp(t, "afternoon") == 0)
        return 15;
    if (strcmp(t, "evening") == 0)
        return 18;
    if (strcmp(t, "night") == 0)
        return 20;
    return -1;
}

/* "in the morning", "this evening", "at night"; plain "morning" only right after a date. */
static size_t match_part(const struct scan *s, size_t i, bool after_date, struct time_found *f)
{
    size_t k = 0;
    int h;
    f->today = false;
    f->mi = 0;
    f->ampm_known = true;
    if (m(s, i, "this") && (h = part_of_day(low(s, i + 1))) >= 0 && h != 20) {
        f->today = true;
        f->h = h;
        return 2;
    }
    if (m(s, i, "in the") && (h = part_of_day(low(s, i + 2))) >= 0 && h != 20) {
        f->h = h;
        return 3;
    }
    if ((k = m(s, i, "at|by night"))) {
        f->h = 20;
        return k;
    }
    if (after_date && (h = part_of_day(low(s, i))) >= 0) {
        f->h = h;
        return 1;
    }
    return 0;
}

/* One time phrase at i, its "at"/"around"/"by" included. */
static size_t match_time(const struct scan *s, size_t i, struct time_found *f)
{
    size_t j = i + m(s, i, "at|around|by|@");
    bool at = j > i;
    int h, mi, ampm;
    bool colon, dot;
    size_t hd, k;
    f->today = false;
    f->ampm_known = true;
    f->mi = 0;
    if (m(s, j, "noon|midday")) {
        f->h = 12;
        return j + 1 - i;
    }
    if (m(s, j, "midnight")) {
        f->h = 0;
        return j + 1 - i;
    }
    if (!clock_word(low(s, j), &h, &mi, &ampm, &colon, &dot, &hd))
        return 0;
    j++;
    if (!ampm && (k = m(s, j, "am|a.m"))) {
        ampm = 1;
        j += k;
    } else if (!ampm && (k = m(s, j, "pm|p.m"))) {
        ampm = 2;
        j += k;
    }
    if (dot && !ampm)
        return 0; /* "5.30" alone is a number, not a time */
    if (!ampm && !colon && (k = m(s, j, "oclock")))
        j += k;
    else if (!ampm && !colon && !at)
        return 0; /* a bare number is only a time after "at" */
    if (ampm) {
        if (!apply_ampm(&h, ampm))
            return 0;
    } else if ((k = m(s, j, "in the morning"))) {
        if (!apply_ampm(&h, 1))
            return 0;
        j += k;
    } else if ((k = m(s, j, "in the afternoon|evening")) || (k = m(s, j, "at night"))) {
        if (!apply_ampm(&h, 2))
            return 0;
        j += k;
    } else if (hd == 2 || h > 12 || h == 0) {
        /* "17:30", "at 09": written on a 24-hour clock. */
    } else {
        f->ampm_known = false;
        if (h >= 1 && h <= 6)
            h += 12;
    }
    f->h = h;
    f->mi = mi;
    return j - i;
}

struct found {
    size_t b, e; /* words [b, e) */
};

/* Widens a date phrase over the prepositions in front of it ("due on friday"), never into the
 * other phrase. */
static size_t take_preps(const struct scan *s, size_t b, const struct found *other)
{
    for (int n = 0; n < 2 && b > 0; n++) {
        size_t p = b - 1;
        if (other && p >= other->b && p < other->e)
            break;
        if (!m(s, p, "on|by|due|for|until|till"))
            break;
        b = p;
    }
    return b;
}

static void add_span(struct dates_when *out, const struct dates_word *w, struct found f)
{
    if (out->n_spans < DATES_MAX_SPANS && f.e > f.b) {
        out->spans[out->n_spans].start = w[f.b].start;
        out->spans[out->n_spans].end = w[f.e - 1].end;
        out->n_spans++;
    }
}

int dates_parse_words(const struct dates_word *w, size_t n, struct date today, unsigned flags,
                      bool *used, struct dates_when *out)
{
    memset(out, 0, sizeof *out);
    if (!dates_valid(today))
        return ERR_INVALID;
    struct scan s = {w, n, used, today, dates_weekday(today)};
    bool last = flags & DATES_PREFER_LAST;
    bool have_date = false, have_time = false, tonight = false;
    struct found fd = {0, 0}, ft = {0, 0};
    struct date date = today;
    struct time_found tf = {0, 0, true, false};
    for (size_t i = 0; i < n;) {
        struct date d;
        struct time_found t;
        bool night;
        size_t k;
        if (used && used[i]) {
            i++;
            continue;
        }
        if ((k = match_date(&s, i, &d, &night))) {
            if (!have_date || last) {
                have_date = true;
                date = d;
                tonight = night;
                fd = (struct found){i, i + k};
                size_t k2 = match_part(&s, i + k, true, &t);
                if (k2 && (!have_time || last)) {
                    have_time = true;
                    tf = t;
                    ft = (struct found){i + k, i + k + k2};
                    k += k2;
                }
            }
            i += k;
            continue;
        }
        if ((k = match_time(&s, i, &t)) || (k = match_part(&s, i, false, &t))) {
            if (!have_time || last) {
                have_time = true;
                tf = t;
                ft = (struct found){i, i + k};
            }
            i += k;
            continue;
        }
        i++;
    }
    if (!have_date && !have_time)
        return ERR_NOT_FOUND;
    if (have_date)
        fd.b = take_preps(&s, fd.b, have_time ? &ft : NULL);
    if (have_time && tonight && !tf.ampm_known && tf.h < 12)
        tf.h += 12; /* "at 9 tonight" */
    out->has_date = have_date || (have_time && tf.today);
    out->date = date;
    if (have_time || tonight) {
        out->has_time = true;
        out->hour = have_time ? tf.h : 20;
        out->minute = have_time ? tf.mi : 0;
    }
    if (have_date && have_time && ft.b < fd.b) {
        add_span(out, w, ft);
        add_span(out, w, fd);
    } else {
        if (have_date)
            add_span(out, w, fd);
        if (have_time)
            add_span(out, w, ft);
    }
    if (used) {
        for (size_t i = fd.b; have_date && i < fd.e; i++)
            used[i] = true;
        for (size_t i = ft.b; have_time && i < ft.e; i++)
            used[i] = true;
    }
    return 0;
}

int dates_parse(const char *text, size_t len, struct date today, struct dates_when *out)
{
    struct dates_word w[DATES_WORDS_MAX];
    size_t n;
    memset(out, 0, sizeof *out);
    int rc = dates_split(text, len, w, DATES_WORDS_MAX, &n);
    if (rc != 0 && rc != ERR_TOO_BIG)
        return rc;
    return dates_parse_words(w, n, today, 0, NULL, out);
}

/* --- Ranges -------------------------------------------------------------------------------- */

int dates_range_of(int kind, struct date today, struct dates_range *out)
{
    memset(out, 0, sizeof *out);
    if (!dates_valid(today))
        return ERR_INVALID;
    struct date monday = dates_add_days(today, -dates_weekday(today));
    struct date first = {today.y, today.m, 1};
    out->kind = kind;
    out->has_from = out->has_to = true;
    switch (kind) {
    case DATES_RANGE_TODAY:
        out->from = out->to = today;
        break;
    case DATES_RANGE_TOMORROW:
        out->from = out->to = dates_add_days(today, 1);
        break;
    case DATES_RANGE_YESTERDAY:
        out->from = out->to = dates_add_days(today, -1);
        break;
    case DATES_RANGE_THIS_WEEK:
        out->from = today;
        out->to = dates_add_days(monday, 6);
        break;
    case DATES_RANGE_NEXT_WEEK:
        out->from = dates_add_days(monday, 7);
        out->to = dates_add_days(monday, 13);
        break;
    case DATES_RANGE_WEEKEND:
        out->from = dates_weekday(today) == 6 ? today : dates_add_days(monday, 5);
        out->to = dates_add_days(monday, 6);
        break;
    case DATES_RANGE_THIS_MONTH:
        out->from = today;
        out->to = (struct date){today.y, today.m, dates_days_in_month(today.y, today.m)};
        break;
    case DATES_RANGE_NEXT_MONTH:
        out->from = dates_add_months(first, 1);
        out->to =
            (struct date){out->from.y, out->from.m, dates_days_in_month(out->from.y, out->from.m)};
        break;
    case DATES_RANGE_OVERDUE:
        out->has_from = false;
        out->to = dates_add_days(today, -1);
        break;
    default:
        memset(out, 0, sizeof *out);
        return ERR_INVALID;
    }
    return 0;
}

const char *dates_range_name(int kind)
{
    static const char *const names[] = {"none",       "day",        "today",     "tomorrow",
                                        "yesterday",  "this_week",  "next_week", "weekend",
                                        "this_month", "next_month", "overdue"};
    if (kind < 0 || (size_t)kind >= sizeof names / sizeof names[0])
        return "none";
    return names[kind];
}

int dates_parse_range_words(const struct dates_word *w, size_t n, struct date today, bool *used,
                            struct dates_range *out)
{
    static const struct {
        const char *pattern;
        int kind;
    } phrases[] = {
        {"the? day after tomorrow", DATES_RANGE_NONE}, /* a plain date, not "tomorrow" */
        {"today|todays|tonight|tonights", DATES_RANGE_TODAY},
        {"tomorrow|tomorrows|tmrw|tmr", DATES_RANGE_TOMORROW},
        {"yesterday|yesterdays", DATES_RANGE_YESTERDAY},
        {"this|the week|weeks", DATES_RANGE_THIS_WEEK},
        {"the? rest of the|this week", DATES_RANGE_THIS_WEEK},
        {"next week|weeks", DATES_RANGE_NEXT_WEEK},
        {"over|at? this|the? weekend|weekends", DATES_RANGE_WEEKEND},
        {"this|the month|months", DATES_RANGE_THIS_MONTH},
        {"next month|months", DATES_RANGE_NEXT_MONTH},
        {"overdue|late|pastdue|past-due", DATES_RANGE_OVERDUE},
        {"past due", DATES_RANGE_OVERDUE},
    };
    memset(out, 0, sizeof *out);
    if (!dates_valid(today))
        return ERR_INVALID;
    struct scan s = {w, n, used, today, dates_weekday(today)};
    for (size_t i = 0; i < n; i++) {
        if (used && used[i])
            continue;
        for (size_t p = 0; p < sizeof phrases / sizeof phrases[0]; p++) {
            size_t k = m(&s, i, phrases[p].pattern);
            if (!k)
                continue;
            if (phrases[p].kind == DATES_RANGE_NONE)
                break; /* dates_parse_words below reads it */
            size_t b = take_preps(&s, i, NULL);
            dates_range_of(phrases[p].kind, today, out);
            for (size_t j = b; used && j < i + k; j++)
                used[j] = true;
            return 0;
        }
        struct date d;
        bool night;
        if (match_date(&s, i, &d, &night))
            break;
    }
    struct dates_when when;
    if (dates_parse_words(w, n, today, 0, used, &when) == 0 && when.has_date) {
        out->kind = DATES_RANGE_DAY;
        out->has_from = out->has_to = true;
        out->from = out->to = when.date;
        return 0;
    }
    return ERR_NOT_FOUND;
}

int dates_parse_range(const char *text, size_t len, struct date today, struct dates_range *out)
{
    struct dates_word w[DATES_WORDS_MAX];
    size_t n;
    memset(out, 0, sizeof *out);
    int rc = dates_split(text, len, w, DATES_WORDS_MAX, &n);
    if (rc != 0 && rc != ERR_TOO_BIG)
        return rc;
    return dates_parse_range_words(w, n, today, NULL, out);
}
