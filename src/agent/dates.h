/* dates.h - calendar arithmetic and the date/time phrases of everyday task requests.
 *
 * Everything here is relative to a reference local date that the caller supplies ("today" in the
 * user's time zone), so no time zone database and no clock are involved and every answer is
 * reproducible. Dates are proleptic Gregorian; weekdays run 0 = Monday .. 6 = Sunday (ISO), and
 * a week is Monday..Sunday.
 *
 * Phrases recognised by dates_parse (case-insensitive; at most one date and one time are taken):
 *
 *   today, tonight (today, 20:00 unless a time is given; "at 9 tonight" is 21:00), tomorrow
 *   (also tmrw), the day after tomorrow, yesterday.
 *   friday, on friday     the next Friday strictly after today: said on a Friday it means a week
 *                         later (say "today" for today). Three-letter forms (fri, tue, tues, thu,
 *                         thurs) count only after on/by/due/until/till/this/next, so "buy sun
 *                         cream" stays a title.
 *   this friday           the next Friday on or after today (today counts).
 *   next friday           the Friday of next week (Monday-based), whatever today is: on Wednesday
 *                         2026-11-25 "next friday" is 2026-12-04, not 2026-11-27.
 *   weekend, this weekend Saturday of this week; on a Sunday, today. "next weekend" is the
 *                         Saturday of next week.
 *   next week             Monday of next week.   next month: the 1st of next month.
 *   end of (the) month    the last day of this month; end of (the) week: this week's Sunday.
 *   in 3 days, in a week, in 2 weeks, in a couple of days, in a fortnight, in 2 months,
 *   3 days from now       today plus the amount; months and years clamp to the month's end.
 *   2026-12-05            ISO only. Slash forms such as 12/5 are deliberately not dates: the
 *                         US and European readings differ and a wrong guess is worse than none.
 *   Dec 5, December 5th, 5 Dec, the 5th of December, Dec 5 2027, 5 December 2027
 *                         month names (full or three-letter, plus "sept") always next to a day
 *                         number, so "may" and "march" alone are ordinary words. Without a year a
 *                         date before today rolls to the next year in which it exists (Feb 29
 *                         goes to the next leap year).
 *   Prepositions in front of a date (on, by, due, for, until, till) belong to the phrase.
 *
 *   Times: 5pm, 5 pm, 5:30pm, 5.30 p.m., 17:30, at 9, 9 o'clock, noon, midday, midnight (00:00),
 *   morning 09:00, afternoon 15:00, evening 18:00, night 20:00. A one-digit hour from 1 to 6
 *   with no am/pm ("at 5", "5:30") means the afternoon (17:00, 17:30); write 05:30 or 5:30am for
 *   the morning; other bare hours are taken as written on a 24-hour clock ("at 9" is 09:00, "at
 *   20" is 20:00). A bare number is a time only after "at"/"around". Parts of the day count only
 *   in "in the morning", "this morning" (which also means today), "at night", or right after a
 *   date ("tomorrow morning", "friday evening"), so "morning run" stays a title.
 *
 * Words inside double quotes are never read as dates, so `add "Monday meeting" tomorrow` works.
 */
#ifndef CHATKITD_DATES_H
#define CHATKITD_DATES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct date {
    int y; /* 1..9999 */
    int m; /* 1..12 */
    int d; /* 1..days in month */
};

#define DATES_ISO_MAX 11 /* "YYYY-MM-DD" and its NUL */

/* True for a leap year of the Gregorian calendar. */
bool dates_is_leap(int y);
/* Days in month m (1..12) of year y; 0 for a month out of range. */
int dates_days_in_month(int y, int m);
/* True when d is a real date in years 1..9999. */
bool dates_valid(struct date d);
/* 0 = Monday .. 6 = Sunday. */
int dates_weekday(struct date d);
/* d plus n days (n may be negative). */
struct date dates_add_days(struct date d, int64_t n);
/* d plus n months, the day clamped to the target month's length (Jan 31 + 1 month = Feb 28). */
struct date dates_add_months(struct date d, int n);
/* Negative, 0 or positive as a is before, equal to or after b. */
int dates_cmp(struct date a, struct date b);
/* Days from a to b (positive when b is later). */
int64_t dates_diff(struct date a, struct date b);
/* Writes "YYYY-MM-DD" and a NUL; returns 10, or 0 (and "") for an invalid date. */
size_t dates_format(struct date d, char out[DATES_ISO_MAX]);
/* Parses exactly "YYYY-MM-DD" (a real date); 0 or ERR_INVALID. */
int dates_parse_iso(const char *s, size_t len, struct date *out);

/* --- Words ---------------------------------------------------------------------------------
 * The word splitter shared with the intent parser (nlu.c): words are runs of letters, digits
 * and any non-ASCII bytes (so "Café" and "买牛奶" are words); an apostrophe, '-', '.', '/', '&',
 * '@' or '+' between word characters and ':' between digits stay inside a word ("don't",
 * "2026-12-05", "17:30", "a.m"); '#' may start a word (a tag); a run of '!' is a word of its
 * own. low is the ASCII-lowercased form with apostrophes (' and U+2018/U+2019) removed, so
 * "What's" and "what’s" both match "whats"; non-ASCII bytes are copied unchanged. */

#define DATES_WORD_LOW_MAX 24 /* bytes of low, NUL included */
#define DATES_WORDS_MAX    256

enum {
    DATES_WORD_QUOTED = 1, /* inside "..." or “...”: low is "" so it never matches a keyword */
    DATES_WORD_BANG = 2,   /* a run of '!' */
    DATES_WORD_GLUED = 4,  /* no space before it (a '!' run stuck to a word) */
    DATES_WORD_TAG = 8,    /* starts with '#' */
};

struct dates_word {
    uint32_t start, end; /* the word's bytes [start, end) in the text */
    uint16_t group;      /* quote group (1, 2, ...) for quoted words, 0 otherwise */
    uint8_t flags;       /* DATES_WORD_* */
    char gap;            /* first ASCII punctuation between the previous word and this, or 0 */
    char low[DATES_WORD_LOW_MAX]; /* "" when quoted or longer than DATES_WORD_LOW_MAX - 1 */
};

/* Splits text into at most max words; *n gets the count. ERR_TOO_BIG when there are more words
 * (the first max are still filled in), ERR_INVALID for a text longer than 4 GiB. */
int dates_split(const char *text, size_t len, struct dates_word *w, size_t max, size_t *n);

/* Matches a word pattern at w[i]: space-separated items, each a '|'-separated list of lowercase
 * alternatives, an item ending in '?' optional (taken greedily, no backtracking). Returns the
 * number of words matched, 0 for no match. Words with used[j] set never match (used may be
 * NULL). Example: dates_words_match(w, n, i, NULL, "the? day after tomorrow|tmrw"). */
size_t dates_words_match(const struct dates_word *w, size_t n, size_t i, const bool *used,
                         const char *pattern);

/* --- Phrases ------------------------------------------------------------------------------- */

#define DATES_MAX_SPANS 4

struct dates_span {
    size_t start, end; /* bytes [start, end) of the text */
};

/* What dates_parse found. The spans cover every consumed word (prepositions included) in text
 * order, so a caller can cut them out of a task title; gaps between words are not included. */
struct dates_when {
    bool has_date;
    struct date date;
    bool has_time;
    int hour, minute; /* local time, 0..23 and 0..59 */
    size_t n_spans;
    struct dates_span spans[DATES_MAX_SPANS];
};

enum {
    DATES_PREFER_LAST = 1, /* take the last date/time phrase instead of the first: "move the
                              tuesday meeting to friday" means Friday */
};

/* Finds the first date phrase and the first time phrase of text (its first DATES_WORDS_MAX
 * words) relative to today. 0 when either was found, ERR_NOT_FOUND when neither, ERR_INVALID
 * when today is not a valid date. */
int dates_parse(const char *text, size_t len, struct date today, struct dates_when *out);

/* The same over words already split (w[0..n) of one text); flags are DATES_*. used (may be NULL)
 * marks words to ignore on entry and gets every consumed word marked on return. */
int dates_parse_words(const struct dates_word *w, size_t n, struct date today, unsigned flags,
                      bool *used, struct dates_when *out);

enum dates_unit { DATES_UNIT_DAY, DATES_UNIT_WEEK, DATES_UNIT_MONTH, DATES_UNIT_YEAR };

struct dates_amount {
    int n;    /* 1..3660 */
    int unit; /* enum dates_unit */
};

/* Matches an amount of time at w[i] ("3 days", "a week", "two weeks", "a couple of days", "a
 * few days" (3), "a fortnight"); returns the words matched, 0 for none. */
size_t dates_match_amount(const struct dates_word *w, size_t n, size_t i, const bool *used,
                          struct dates_amount *out);
/* d plus the amount (months and years clamp to the month's end). */
struct date dates_add_amount(struct date d, struct dates_amount a);

/* --- Ranges for listing --------------------------------------------------------------------- */

enum dates_range_kind {
    DATES_RANGE_NONE,       /* no due-date condition */
    DATES_RANGE_DAY,        /* one named date (from == to) */
    DATES_RANGE_TODAY,      /* today */
    DATES_RANGE_TOMORROW,   /* tomorrow */
    DATES_RANGE_YESTERDAY,  /* yesterday */
    DATES_RANGE_THIS_WEEK,  /* today .. this Sunday */
    DATES_RANGE_NEXT_WEEK,  /* next Monday .. next Sunday */
    DATES_RANGE_WEEKEND,    /* this weekend's Saturday (today on a Sunday) .. Sunday */
    DATES_RANGE_THIS_MONTH, /* today .. the month's last day */
    DATES_RANGE_NEXT_MONTH, /* next month, 1st .. last day */
    DATES_RANGE_OVERDUE,    /* before today (no lower bound) */
};

/* An inclusive due-date range; an unset bound is open. */
struct dates_range {
    int kind; /* enum dates_range_kind */
    bool has_from, has_to;
    struct date from, to;
};

/* The range of kind relative to today; ERR_INVALID for DAY/NONE or an invalid today. */
int dates_range_of(int kind, struct date today, struct dates_range *out);
/* A stable lowercase name ("this_week", "overdue", ...; "day" for DAY, "none"). */
const char *dates_range_name(int kind);

/* Finds a range phrase in text: today, tonight, tomorrow, yesterday, this week, next week,
 * (this) weekend, this month, next month, overdue / past due / late, or else any single date
 * dates_parse knows (a DAY range). 0, or ERR_NOT_FOUND (out->kind is NONE). */
int dates_parse_range(const char *text, size_t len, struct date today, struct dates_range *out);
/* The same over split words; used as in dates_parse_words. */
int dates_parse_range_words(const struct dates_word *w, size_t n, struct date today, bool *used,
                            struct dates_range *out);

#endif
