/* Unit tests for agent/dates: calendar arithmetic, the word splitter shared with the intent
 * parser, every date and time phrase dates.h lists (relative to Wednesday 2026-11-25 unless a row
 * says otherwise), the spans callers cut out of titles, amounts and listing ranges. */
#include "agent/dates.h"
#include "core/err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const struct date wed = {2026, 11, 25};

static struct date day(int y, int m, int d)
{
    return (struct date){y, m, d};
}

static void assert_date(struct date got, int y, int m, int d)
{
    char a[DATES_ISO_MAX], b[DATES_ISO_MAX];
    dates_format(got, a);
    dates_format(day(y, m, d), b);
    assert_string_equal(a, b);
}

/* --- Calendar ------------------------------------------------------------------------------ */

static void test_calendar(void **state)
{
    (void)state;
    assert_true(dates_is_leap(2024));
    assert_true(dates_is_leap(2000));
    assert_false(dates_is_leap(1900));
    assert_false(dates_is_leap(2026));
    assert_int_equal(dates_days_in_month(2024, 2), 29);
    assert_int_equal(dates_days_in_month(2026, 2), 28);
    assert_int_equal(dates_days_in_month(2026, 4), 30);
    assert_int_equal(dates_days_in_month(2026, 12), 31);
    assert_int_equal(dates_days_in_month(2026, 0), 0);
    assert_int_equal(dates_days_in_month(2026, 13), 0);
    assert_true(dates_valid(day(2024, 2, 29)));
    assert_false(dates_valid(day(2026, 2, 29)));
    assert_false(dates_valid(day(0, 1, 1)));
    assert_false(dates_valid(day(10000, 1, 1)));
    assert_false(dates_valid(day(2026, 11, 31)));
    assert_false(dates_valid(day(2026, 11, 0)));
    assert_true(dates_valid(day(9999, 12, 31)));
    assert_true(dates_valid(day(1, 1, 1)));

    assert_int_equal(dates_weekday(wed), 2);
    assert_int_equal(dates_weekday(day(1970, 1, 1)), 3);
    assert_int_equal(dates_weekday(day(2000, 2, 29)), 1);
    assert_int_equal(dates_weekday(day(1969, 12, 28)), 6);
    assert_int_equal(dates_weekday(day(1, 1, 1)), 0);

    assert_date(dates_add_days(wed, 7), 2026, 12, 2);
    assert_date(dates_add_days(wed, 37), 2027, 1, 1);
    assert_date(dates_add_days(wed, -25), 2026, 10, 31);
    assert_date(dates_add_days(day(2024, 2, 28), 1), 2024, 2, 29);
    assert_date(dates_add_days(day(1970, 1, 1), -1), 1969, 12, 31);
    assert_date(dates_add_months(day(2026, 1, 31), 1), 2026, 2, 28);
    assert_date(dates_add_months(day(2024, 1, 31), 1), 2024, 2, 29);
    assert_date(dates_add_months(wed, 2), 2027, 1, 25);
    assert_date(dates_add_months(wed, -11), 2025, 12, 25);
    assert_date(dates_add_months(day(2026, 3, 31), -1), 2026, 2, 28);

    assert_true(dates_cmp(wed, day(2026, 11, 26)) < 0);
    assert_true(dates_cmp(wed, day(2026, 10, 30)) > 0);
    assert_true(dates_cmp(wed, day(2025, 12, 31)) > 0);
    assert_int_equal(dates_cmp(wed, day(2026, 11, 25)), 0);
    assert_int_equal(dates_diff(wed, day(2026, 12, 25)), 30);
    assert_int_equal(dates_diff(day(2026, 12, 25), wed), -30);
    assert_int_equal(dates_diff(day(2024, 1, 1), day(2025, 1, 1)), 366);
}

static void test_format_and_iso(void **state)
{
    (void)state;
    char out[DATES_ISO_MAX];
    struct date d;
    assert_int_equal(dates_format(wed, out), 10);
    assert_string_equal(out, "2026-11-25");
    assert_int_equal(dates_format(day(7, 1, 2), out), 10);
    assert_string_equal(out, "0007-01-02");
    assert_int_equal(dates_format(day(2026, 2, 30), out), 0);
    assert_string_equal(out, "");

    assert_int_equal(dates_parse_iso("2026-12-05", 10, &d), 0);
    assert_date(d, 2026, 12, 5);
    assert_int_equal(dates_parse_iso("2024-02-29", 10, &d), 0);
    static const char *const bad[] = {"2026-02-29", "2026-13-01", "2026-00-10",
                                      "2026-1-05",  "2026/12/05", "20261205xx",
                                      "2026-12-5x", "0000-01-01", "2026-12-05 "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(dates_parse_iso(bad[i], strlen(bad[i]), &d), ERR_INVALID);
    assert_int_equal(dates_parse_iso("2026-12-05", 9, &d), ERR_INVALID);
}

/* --- Words --------------------------------------------------------------------------------- */

static size_t split(const char *text, size_t len, struct dates_word *w)
{
    size_t n;
    assert_int_equal(dates_split(text, len, w, DATES_WORDS_MAX, &n), 0);
    return n;
}

static void assert_word(const char *text, const struct dates_word *w, const char *bytes,
                        const char *low)
{
    assert_int_equal(w->end - w->start, strlen(bytes));
    assert_memory_equal(text + w->start, bytes, strlen(bytes));
    assert_string_equal(w->low, low);
}

static void test_split_words(void **state)
{
    (void)state;
    struct dates_word w[DATES_WORDS_MAX];
    static const char t1[] = "Don't call at 17:30 on 2026-12-05, a.m. task:call R&D c# x@y.z";
    size_t n = split(t1, sizeof t1 - 1, w);
    assert_int_equal(n, 12);
    assert_word(t1, &w[0], "Don't", "dont");
    assert_word(t1, &w[3], "17:30", "17:30");
    assert_word(t1, &w[5], "2026-12-05", "2026-12-05");
    assert_word(t1, &w[6], "a.m", "a.m");
    assert_int_equal(w[6].gap, ',');
    assert_word(t1, &w[7], "task", "task");
    assert_word(t1, &w[8], "call", "call");
    assert_int_equal(w[8].gap, ':');
    assert_word(t1, &w[9], "R&D", "r&d");
    assert_word(t1, &w[10], "c#", "c#");
    assert_word(t1, &w[11], "x@y.z", "x@y.z");

    /* Curly apostrophes vanish from low; other scripts are words; spaces of several kinds. */
    static const char t2[] =
        "What\xE2\x80\x99s Caf\xC3\xA9\xC2\xA0\xE4\xB9\xB0\xE3\x80\x80Zo\xC3\xAB";
    n = split(t2, sizeof t2 - 1, w);
    assert_int_equal(n, 4);
    assert_string_equal(w[0].low, "whats");
    assert_word(t2, &w[1], "Caf\xC3\xA9", "caf\xC3\xA9");
    assert_word(t2, &w[2], "\xE4\xB9\xB0", "\xE4\xB9\xB0");
    assert_word(t2, &w[3], "Zo\xC3\xAB", "zo\xC3\xAB");
}

static void test_split_marks(void **state)
{
    (void)state;
    struct dates_word w[DATES_WORDS_MAX];
    static const char t[] = "add \"Monday meeting\" #Work #2 now! ! !!! \xE2\x80\x9Cx\xE2\x80\x9D";
    size_t n = split(t, sizeof t - 1, w);
    assert_int_equal(n, 10);
    assert_int_equal(w[1].flags, DATES_WORD_QUOTED);
    assert_int_equal(w[1].group, 1);
    assert_string_equal(w[1].low, "");
    assert_int_equal(w[2].group, 1);
    assert_int_equal(w[3].flags, DATES_WORD_TAG);
    assert_word(t, &w[3], "#Work", "#work");
    assert_int_equal(w[3].group, 0);
    assert_word(t, &w[4], "#2", "#2");
    assert_int_equal(w[6].flags, DATES_WORD_BANG | DATES_WORD_GLUED);
    assert_int_equal(w[7].flags, DATES_WORD_BANG);
    assert_word(t, &w[8], "!!!", "!!!");
    assert_int_equal(w[9].flags, DATES_WORD_QUOTED);
    assert_int_equal(w[9].group, 2);

    /* NUL and control bytes separate words, they never join them. */
    static const char nul[] = "a\0b\x01"
                              "c";
    n = split(nul, sizeof nul - 1, w);
    assert_int_equal(n, 3);
    assert_word(nul, &w[1], "b", "b");

    /* Long words keep their bytes but have no low form. */
    char longw[64];
    memset(longw, 'x', sizeof longw);
    n = split(longw, sizeof longw, w);
    assert_int_equal(n, 1);
    assert_string_equal(w[0].low, "");
}

static void test_split_limits(void **state)
{
    (void)state;
    struct dates_word w[4];
    size_t n;
    assert_int_equal(dates_split("a b c d", 7, w, 4, &n), 0);
    assert_int_equal(n, 4);
    assert_int_equal(dates_split("a b c d e", 9, w, 4, &n), ERR_TOO_BIG);
    assert_int_equal(n, 4);
    assert_int_equal(dates_split("", 0, w, 4, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(dates_split(" ,;!? ", 6, w, 4, &n), 0);
    assert_int_equal(n, 1); /* the '!' */
}

static void test_words_match(void **state)
{
    (void)state;
    struct dates_word w[DATES_WORDS_MAX];
    static const char t[] = "the day after tomorrow at noon";
    size_t n = split(t, sizeof t - 1, w);
    bool used[DATES_WORDS_MAX] = {false};
    assert_int_equal(dates_words_match(w, n, 0, NULL, "the? day after tomorrow|tmrw"), 4);
    assert_int_equal(dates_words_match(w, n, 1, NULL, "the? day after tomorrow|tmrw"), 3);
    assert_int_equal(dates_words_match(w, n, 3, NULL, "tmrw|tomorrow"), 1);
    assert_int_equal(dates_words_match(w, n, 0, NULL, "day"), 0);
    assert_int_equal(dates_words_match(w, n, 4, NULL, "at|by noon|midday"), 2);
    assert_int_equal(dates_words_match(w, n, 5, NULL, "noon extra?"), 1);
    assert_int_equal(dates_words_match(w, n, 6, NULL, "noon?"), 0);
    used[1] = true;
    assert_int_equal(dates_words_match(w, n, 0, used, "the? day after"), 0);
    assert_int_equal(dates_words_match(w, n, 0, used, "the"), 1);
}

/* --- Phrases ------------------------------------------------------------------------------- */

struct when_row {
    const char *text;
    struct date today;
    const char *date; /* "" no date, NULL nothing found */
    const char *time; /* "" no time */
};

#define FRI                                                                                        \
    {                                                                                              \
        2026, 11, 27                                                                               \
    }
#define SUN                                                                                        \
    {                                                                                              \
        2026, 11, 29                                                                               \
    }

static const struct when_row when_rows[] = {
    {"today", {2026, 11, 25}, "2026-11-25", ""},
    {"tonight", {2026, 11, 25}, "2026-11-25", "20:00"},
    {"at 9 tonight", {2026, 11, 25}, "2026-11-25", "21:00"},
    {"tomorrow", {2026, 11, 25}, "2026-11-26", ""},
    {"tmrw", {2026, 11, 25}, "2026-11-26", ""},
    {"the day after tomorrow", {2026, 11, 25}, "2026-11-27", ""},
    {"yesterday", {2026, 11, 25}, "2026-11-24", ""},
    {"friday", {2026, 11, 25}, "2026-11-27", ""},
    {"on friday", {2026, 11, 25}, "2026-11-27", ""},
    {"friday", FRI, "2026-12-04", ""},
    {"this friday", FRI, "2026-11-27", ""},
    {"this friday", {2026, 11, 25}, "2026-11-27", ""},
    {"next friday", {2026, 11, 25}, "2026-12-04", ""},
    {"next friday", FRI, "2026-12-04", ""},
    {"fri", {2026, 11, 25}, NULL, ""},
    {"on fri", {2026, 11, 25}, "2026-11-27", ""},
    {"by tues", {2026, 11, 25}, "2026-12-01", ""},
    {"buy sun cream", {2026, 11, 25}, NULL, ""},
    {"weekend", {2026, 11, 25}, "2026-11-28", ""},
    {"this weekend", SUN, "2026-11-29", ""},
    {"next weekend", {2026, 11, 25}, "2026-12-05", ""},
    {"next week", {2026, 11, 25}, "2026-11-30", ""},
    {"next month", {2026, 12, 15}, "2027-01-01", ""},
    {"end of month", {2026, 11, 25}, "2026-11-30", ""},
    {"end of the month", {2026, 2, 3}, "2026-02-28", ""},
    {"end of week", {2026, 11, 25}, "2026-11-29", ""},
    {"in 3 days", {2026, 11, 25}, "2026-11-28", ""},
    {"in a week", {2026, 11, 25}, "2026-12-02", ""},
    {"in 2 weeks", {2026, 11, 25}, "2026-12-09", ""},
    {"in a couple of days", {2026, 11, 25}, "2026-11-27", ""},
    {"in a fortnight", {2026, 11, 25}, "2026-12-09", ""},
    {"in 2 months", {2026, 11, 25}, "2027-01-25", ""},
    {"in a month", {2026, 1, 31}, "2026-02-28", ""},
    {"in a year", {2024, 2, 29}, "2025-02-28", ""},
    {"3 days from now", {2026, 11, 25}, "2026-11-28", ""},
    {"in 11 years", {2026, 11, 25}, NULL, ""},
    {"2026-12-05", {2026, 11, 25}, "2026-12-05", ""},
    {"2026-02-30", {2026, 11, 25}, NULL, ""},
    {"12/5", {2026, 11, 25}, NULL, ""},
    {"Dec 5", {2026, 11, 25}, "2026-12-05", ""},
    {"December 5th", {2026, 11, 25}, "2026-12-05", ""},
    {"5 Dec", {2026, 11, 25}, "2026-12-05", ""},
    {"the 5th of December", {2026, 11, 25}, "2026-12-05", ""},
    {"Dec 5 2027", {2026, 11, 25}, "2027-12-05", ""},
    {"Dec 5, 2027", {2026, 11, 25}, "2027-12-05", ""},
    {"5 December 2027", {2026, 11, 25}, "2027-12-05", ""},
    {"Sept 3", {2026, 11, 25}, "2027-09-03", ""},
    {"Jan 3", {2026, 11, 25}, "2027-01-03", ""},
    {"Nov 25", {2026, 11, 25}, "2026-11-25", ""},
    {"Feb 29", {2026, 11, 25}, "2028-02-29", ""},
    {"Feb 30", {2026, 11, 25}, NULL, ""},
    {"may", {2026, 11, 25}, NULL, ""},
    {"march on", {2026, 11, 25}, NULL, ""},
    {"5pm", {2026, 11, 25}, "", "17:00"},
    {"5 pm", {2026, 11, 25}, "", "17:00"},
    {"5:30pm", {2026, 11, 25}, "", "17:30"},
    {"5.30 p.m.", {2026, 11, 25}, "", "17:30"},
    {"5.30pm", {2026, 11, 25}, "", "17:30"},
    {"5.30", {2026, 11, 25}, NULL, ""},
    {"17:30", {2026, 11, 25}, "", "17:30"},
    {"at 9", {2026, 11, 25}, "", "09:00"},
    {"9 o'clock", {2026, 11, 25}, "", "09:00"},
    {"noon", {2026, 11, 25}, "", "12:00"},
    {"midday", {2026, 11, 25}, "", "12:00"},
    {"midnight", {2026, 11, 25}, "", "00:00"},
    {"at 5", {2026, 11, 25}, "", "17:00"},
    {"5:30", {2026, 11, 25}, "", "17:30"},
    {"05:30", {2026, 11, 25}, "", "05:30"},
    {"5:30am", {2026, 11, 25}, "", "05:30"},
    {"at 20", {2026, 11, 25}, "", "20:00"},
    {"12am", {2026, 11, 25}, "", "00:00"},
    {"12pm", {2026, 11, 25}, "", "12:00"},
    {"13pm", {2026, 11, 25}, NULL, ""},
    {"at 24", {2026, 11, 25}, NULL, ""},
    {"5", {2026, 11, 25}, NULL, ""},
    {"at 5 in the morning", {2026, 11, 25}, "", "05:00"},
    {"tomorrow morning", {2026, 11, 25}, "2026-11-26", "09:00"},
    {"friday evening", {2026, 11, 25}, "2026-11-27", "18:00"},
    {"this morning", {2026, 11, 25}, "2026-11-25", "09:00"},
    {"in the afternoon", {2026, 11, 25}, "", "15:00"},
    {"at night", {2026, 11, 25}, "", "20:00"},
    {"morning run", {2026, 11, 25}, NULL, ""},
    {"by tomorrow at 5pm", {2026, 11, 25}, "2026-11-26", "17:00"},
    {"at 5pm tomorrow", {2026, 11, 25}, "2026-11-26", "17:00"},
    {"add \"Monday meeting\" tomorrow", {2026, 11, 25}, "2026-11-26", ""},
    {"add \"Monday meeting\"", {2026, 11, 25}, NULL, ""},
    {"tomorrow", {9999, 12, 31}, "", ""}, /* past year 9999: no valid date */
};

static void test_phrases(void **state)
{
    (void)state;
    size_t bad = 0;
    for (size_t i = 0; i < sizeof when_rows / sizeof when_rows[0]; i++) {
        const struct when_row *r = &when_rows[i];
        struct dates_when w;
        char date[DATES_ISO_MAX] = "", time[8] = "";
        int rc = dates_parse(r->text, strlen(r->text), r->today, &w);
        if (w.has_date)
            dates_format(w.date, date);
        if (w.has_time)
            snprintf(time, sizeof time, "%02d:%02d", w.hour % 100, w.minute % 100);
        bool ok = r->date ? rc == 0 && strcmp(date, r->date) == 0 && strcmp(time, r->time) == 0
                          : rc == ERR_NOT_FOUND && !w.has_date && !w.has_time;
        if (!ok) {
            bad++;
            print_error("%s: want %s %s, got rc %d %s %s\n", r->text, r->date ? r->date : "(none)",
                        r->time, rc, date, time);
        }
    }
    if (bad)
        fail_msg("%zu phrases misread", bad);
}

static void test_spans(void **state)
{
    (void)state;
    static const char t[] = "add call mum due on friday at 5pm, high priority";
    struct dates_when w;
    assert_int_equal(dates_parse(t, sizeof t - 1, wed, &w), 0);
    assert_int_equal(w.n_spans, 2);
    assert_memory_equal(t + w.spans[0].start, "due on friday", 13);
    assert_int_equal(w.spans[0].end - w.spans[0].start, 13);
    assert_memory_equal(t + w.spans[1].start, "at 5pm", 6);
    assert_int_equal(w.spans[1].end - w.spans[1].start, 6);

    /* Spans come in text order even when the time is said first. */
    static const char t2[] = "at 9 tomorrow";
    assert_int_equal(dates_parse(t2, sizeof t2 - 1, wed, &w), 0);
    assert_int_equal(w.n_spans, 2);
    assert_int_equal(w.spans[0].start, 0);
    assert_int_equal(w.spans[1].start, 5);

    assert_int_equal(dates_parse("nothing here", 12, wed, &w), ERR_NOT_FOUND);
    assert_int_equal(w.n_spans, 0);
    assert_int_equal(dates_parse("tomorrow", 8, day(2026, 2, 30), &w), ERR_INVALID);
}

static void test_parse_words(void **state)
{
    (void)state;
    struct dates_word w[DATES_WORDS_MAX];
    bool used[DATES_WORDS_MAX] = {false};
    struct dates_when when;
    static const char t[] = "move the tuesday meeting to friday at 3pm";
    size_t n = split(t, sizeof t - 1, w);
    assert_int_equal(dates_parse_words(w, n, wed, 0, NULL, &when), 0);
    assert_date(when.date, 2026, 12, 1);
    assert_int_equal(dates_parse_words(w, n, wed, DATES_PREFER_LAST, used, &when), 0);
    assert_date(when.date, 2026, 11, 27);
    assert_int_equal(when.hour, 15);
    /* The consumed words are marked; the others are not. */
    for (size_t i = 0; i < n; i++)
        assert_int_equal(used[i], i == 5 || i == 6 || i == 7);
    /* Marked words are ignored on the next call. */
    assert_int_equal(dates_parse_words(w, n, wed, DATES_PREFER_LAST, used, &when), 0);
    assert_date(when.date, 2026, 12, 1);
    assert_false(when.has_time);
    assert_int_equal(dates_parse_words(w, n, wed, 0, used, &when), ERR_NOT_FOUND);
}

static void test_amounts(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t words;
        int n, unit;
    } rows[] = {
        {"3 days", 2, 3, DATES_UNIT_DAY},
        {"a week", 2, 1, DATES_UNIT_WEEK},
        {"two weeks", 2, 2, DATES_UNIT_WEEK},
        {"a couple of days", 4, 2, DATES_UNIT_DAY},
        {"a few days", 3, 3, DATES_UNIT_DAY},
        {"a fortnight", 2, 2, DATES_UNIT_WEEK},
        {"2 months", 2, 2, DATES_UNIT_MONTH},
        {"an hour", 0, 0, 0},
        {"a year", 2, 1, DATES_UNIT_YEAR},
        {"0 days", 0, 0, 0},
        {"3661 days", 0, 0, 0},
        {"days", 0, 0, 0},
    };
    struct dates_word w[DATES_WORDS_MAX];
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct dates_amount a = {0, 0};
        size_t n = split(rows[i].text, strlen(rows[i].text), w);
        size_t k = dates_match_amount(w, n, 0, NULL, &a);
        assert_int_equal(k, rows[i].words);
        if (k) {
            assert_int_equal(a.n, rows[i].n);
            assert_int_equal(a.unit, rows[i].unit);
        }
    }
    assert_date(dates_add_amount(wed, (struct dates_amount){3, DATES_UNIT_DAY}), 2026, 11, 28);
    assert_date(dates_add_amount(wed, (struct dates_amount){2, DATES_UNIT_WEEK}), 2026, 12, 9);
    assert_date(dates_add_amount(day(2026, 1, 31), (struct dates_amount){1, DATES_UNIT_MONTH}),
                2026, 2, 28);
    assert_date(dates_add_amount(day(2024, 2, 29), (struct dates_amount){1, DATES_UNIT_YEAR}), 2025,
                2, 28);
}

/* --- Ranges -------------------------------------------------------------------------------- */

static void test_range_of(void **state)
{
    (void)state;
    static const struct {
        int kind;
        const char *name, *from, *to;
    } rows[] = {
        {DATES_RANGE_TODAY, "today", "2026-11-25", "2026-11-25"},
        {DATES_RANGE_TOMORROW, "tomorrow", "2026-11-26", "2026-11-26"},
        {DATES_RANGE_YESTERDAY, "yesterday", "2026-11-24", "2026-11-24"},
        {DATES_RANGE_THIS_WEEK, "this_week", "2026-11-25", "2026-11-29"},
        {DATES_RANGE_NEXT_WEEK, "next_week", "2026-11-30", "2026-12-06"},
        {DATES_RANGE_WEEKEND, "weekend", "2026-11-28", "2026-11-29"},
        {DATES_RANGE_THIS_MONTH, "this_month", "2026-11-25", "2026-11-30"},
        {DATES_RANGE_NEXT_MONTH, "next_month", "2026-12-01", "2026-12-31"},
        {DATES_RANGE_OVERDUE, "overdue", "", "2026-11-24"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct dates_range r;
        char from[DATES_ISO_MAX] = "", to[DATES_ISO_MAX] = "";
        assert_int_equal(dates_range_of(rows[i].kind, wed, &r), 0);
        assert_int_equal(r.kind, rows[i].kind);
        if (r.has_from)
            dates_format(r.from, from);
        if (r.has_to)
            dates_format(r.to, to);
        assert_string_equal(from, rows[i].from);
        assert_string_equal(to, rows[i].to);
        assert_string_equal(dates_range_name(rows[i].kind), rows[i].name);
    }
    struct dates_range r;
    assert_int_equal(dates_range_of(DATES_RANGE_WEEKEND, day(2026, 11, 29), &r), 0);
    assert_date(r.from, 2026, 11, 29);
    assert_int_equal(dates_range_of(DATES_RANGE_NEXT_MONTH, day(2026, 12, 31), &r), 0);
    assert_date(r.from, 2027, 1, 1);
    assert_date(r.to, 2027, 1, 31);
    assert_int_equal(dates_range_of(DATES_RANGE_DAY, wed, &r), ERR_INVALID);
    assert_int_equal(dates_range_of(DATES_RANGE_NONE, wed, &r), ERR_INVALID);
    assert_int_equal(dates_range_of(DATES_RANGE_TODAY, day(2026, 2, 30), &r), ERR_INVALID);
    assert_string_equal(dates_range_name(DATES_RANGE_DAY), "day");
    assert_string_equal(dates_range_name(DATES_RANGE_NONE), "none");
    assert_string_equal(dates_range_name(-1), "none");
    assert_string_equal(dates_range_name(99), "none");
}

static void test_parse_range(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int kind;
        const char *from, *to;
    } rows[] = {
        {"what's due today", DATES_RANGE_TODAY, "2026-11-25", "2026-11-25"},
        {"tonight", DATES_RANGE_TODAY, "2026-11-25", "2026-11-25"},
        {"due tomorrow", DATES_RANGE_TOMORROW, "2026-11-26", "2026-11-26"},
        {"yesterday", DATES_RANGE_YESTERDAY, "2026-11-24", "2026-11-24"},
        {"what's due this week?", DATES_RANGE_THIS_WEEK, "2026-11-25", "2026-11-29"},
        {"next week", DATES_RANGE_NEXT_WEEK, "2026-11-30", "2026-12-06"},
        {"this weekend", DATES_RANGE_WEEKEND, "2026-11-28", "2026-11-29"},
        {"this month", DATES_RANGE_THIS_MONTH, "2026-11-25", "2026-11-30"},
        {"next month", DATES_RANGE_NEXT_MONTH, "2026-12-01", "2026-12-31"},
        {"overdue", DATES_RANGE_OVERDUE, "", "2026-11-24"},
        {"past due", DATES_RANGE_OVERDUE, "", "2026-11-24"},
        {"late ones", DATES_RANGE_OVERDUE, "", "2026-11-24"},
        {"due friday", DATES_RANGE_DAY, "2026-11-27", "2026-11-27"},
        {"on Dec 5", DATES_RANGE_DAY, "2026-12-05", "2026-12-05"},
        {"2026-12-05", DATES_RANGE_DAY, "2026-12-05", "2026-12-05"},
        {"the day after tomorrow", DATES_RANGE_DAY, "2026-11-27", "2026-11-27"},
        {"show my tasks", DATES_RANGE_NONE, "", ""},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct dates_range r;
        char from[DATES_ISO_MAX] = "", to[DATES_ISO_MAX] = "";
        int rc = dates_parse_range(rows[i].text, strlen(rows[i].text), wed, &r);
        assert_int_equal(rc, rows[i].kind == DATES_RANGE_NONE ? ERR_NOT_FOUND : 0);
        assert_int_equal(r.kind, rows[i].kind);
        if (r.has_from)
            dates_format(r.from, from);
        if (r.has_to)
            dates_format(r.to, to);
        assert_string_equal(from, rows[i].from);
        assert_string_equal(to, rows[i].to);
    }
    /* Words: the phrase and its preposition are marked used. */
    struct dates_word w[DATES_WORDS_MAX];
    bool used[DATES_WORDS_MAX] = {false};
    struct dates_range r;
    static const char t[] = "show tasks due this week";
    size_t n = split(t, sizeof t - 1, w);
    assert_int_equal(dates_parse_range_words(w, n, wed, used, &r), 0);
    assert_int_equal(r.kind, DATES_RANGE_THIS_WEEK);
    assert_false(used[0]);
    assert_false(used[1]);
    assert_true(used[2] && used[3] && used[4]);
    assert_int_equal(dates_parse_range_words(w, n, day(0, 0, 0), NULL, &r), ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calendar),     cmocka_unit_test(test_format_and_iso),
        cmocka_unit_test(test_split_words),  cmocka_unit_test(test_split_marks),
        cmocka_unit_test(test_split_limits), cmocka_unit_test(test_words_match),
        cmocka_unit_test(test_phrases),      cmocka_unit_test(test_spans),
        cmocka_unit_test(test_parse_words),  cmocka_unit_test(test_amounts),
        cmocka_unit_test(test_range_of),     cmocka_unit_test(test_parse_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
