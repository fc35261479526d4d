/* test_task.c - the task model (validation, create and patch semantics, JSON shape, time zones)
 * and the server tools run against a real SQLite store. */
#include "core/err.h"
#include "core/json_read.h"
#include "core/json_write.h"
#include "store/store.h"
#include "tasks/task.h"
#include "tasks/tools.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/* ---- helpers ---- */

static cJSON *parse(const char *s)
{
    cJSON *v = json_parse(s, strlen(s), 32, NULL);
    if (!v)
        fail_msg("bad test JSON: %s", s);
    return v;
}

/* Applies body to t; returns the code and leaves the message in why. */
static int apply(struct store_task *t, const char *body, bool patch, char *why)
{
    cJSON *doc = parse(body);
    why[0] = '\0';
    int rc = task_from_json(doc, patch, t, why);
    cJSON_Delete(doc);
    return rc;
}

static char *task_json(const struct store_task *t)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    struct jw w;
    jw_init(&w, &b);
    task_write_json(&w, t);
    assert_int_equal(jw_done(&w), 0);
    return buf_detach(&b, NULL);
}

static char *repeat(const char *unit, int n)
{
    size_t ul = strlen(unit);
    char *s = malloc(ul * (size_t)n + 1);
    for (int i = 0; i < n; i++)
        memcpy(s + ul * (size_t)i, unit, ul);
    s[ul * (size_t)n] = '\0';
    return s;
}

/* ---- field validation ---- */

static void test_title_table(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int ok;
        const char *trimmed;
    } cases[] = {
        {"Buy milk", 1, "Buy milk"},
        {"  padded\t ", 1, "padded"},
        {"\xc2\xa0\xe3\x80\x80nbsp and ideographic space\xe3\x80\x80", 1,
         "nbsp and ideographic space"},
        {"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x82\xbf\xe3\x82\xb9\xe3\x82\xaf", 1,
         "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x82\xbf\xe3\x82\xb9\xe3\x82\xaf"},
        {"\xf0\x9f\x8e\x89 party", 1, "\xf0\x9f\x8e\x89 party"},
        {"Caf\xc3\xa9 \xe2\x80\xa8 line sep inside", 1, "Caf\xc3\xa9 \xe2\x80\xa8 line sep inside"},
        {"", 0, NULL},
        {"   ", 0, NULL},
        {"a\tb", 0, NULL},
        {"a\nb", 0, NULL},
        {"a\x01z", 0, NULL},
        {"a\x7fz", 0, NULL},
        {"a\xc2\x85z", 0, NULL},   /* C1 control NEL inside */
        {"\xc3\x28", 0, NULL},     /* invalid UTF-8 */
        {"\xed\xa0\x80", 0, NULL}, /* a surrogate */
        {"\xc0\xaf", 0, NULL},     /* overlong */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char why[TASK_WHY_MAX] = "";
        size_t start = 0, n = 0;
        int rc = task_validate_title(cases[i].in, strlen(cases[i].in), &start, &n, why);
        if (cases[i].ok) {
            if (rc)
                fail_msg("case %zu refused: %s", i, why);
            assert_int_equal(n, strlen(cases[i].trimmed));
            assert_memory_equal(cases[i].in + start, cases[i].trimmed, n);
        } else {
            if (rc != ERR_INVALID)
                fail_msg("case %zu accepted", i);
            assert_true(strstr(why, "title") != NULL);
        }
    }
}

static void test_title_length_counts_characters(void **state)
{
    (void)state;
    char why[TASK_WHY_MAX];
    char *s500 = repeat("a", 500), *s501 = repeat("a", 501);
    char *e500 = repeat("\xc3\xa9", 500), *e501 = repeat("\xc3\xa9", 501);
    char *k500 = repeat("\xf0\x9f\x98\x80", 500);
    assert_int_equal(task_validate_title(s500, strlen(s500), NULL, NULL, why), 0);
    assert_int_equal(task_validate_title(e500, strlen(e500), NULL, NULL, why), 0);
    assert_int_equal(task_validate_title(k500, strlen(k500), NULL, NULL, why), 0);
    assert_int_equal(task_validate_title(s501, strlen(s501), NULL, NULL, why), ERR_INVALID);
    assert_string_equal(why, "title must be 1 to 500 characters");
    assert_int_equal(task_validate_title(e501, strlen(e501), NULL, NULL, why), ERR_INVALID);
    assert_string_equal(why, "title must be 1 to 500 characters");
    free(s500), free(s501), free(e500), free(e501), free(k500);
}

static void test_notes(void **state)
{
    (void)state;
    char why[TASK_WHY_MAX];
    char *n10k = repeat("\xc3\xbc", 10000), *n10k1 = repeat("x", 10001);
    assert_int_equal(task_validate_notes(n10k, strlen(n10k), why), 0);
    assert_int_equal(task_validate_notes(n10k1, strlen(n10k1), why), ERR_INVALID);
    assert_string_equal(why, "notes must be at most 10000 characters");
    assert_int_equal(task_validate_notes("line 1\nline 2\r\n\tindented", 24, why), 0);
    assert_int_equal(task_validate_notes("bell\x07", 5, why), ERR_INVALID);
    assert_int_equal(task_validate_notes("\xff", 1, why), ERR_INVALID);
    free(n10k), free(n10k1);
}

static void test_dates_times(void **state)
{
    (void)state;
    char why[TASK_WHY_MAX];
    const char *good_dates[] = {"2024-02-29", "2000-02-29", "9999-12-31", "0001-01-01",
                                "2026-12-05"};
    const char *bad_dates[] = {"2023-02-29",           "1900-02-29", "2024-13-01", "2024-00-10",
                               "2024-04-31",           "2024-1-01",  "2024/01/01", "0000-01-01",
                               "2024-01-01T00:00:00Z", "",           "tomorrow"};
    for (size_t i = 0; i < sizeof good_dates / sizeof *good_dates; i++)
        assert_int_equal(task_validate_date(good_dates[i], why), 0);
    for (size_t i = 0; i < sizeof bad_dates / sizeof *bad_dates; i++)
        if (task_validate_date(bad_dates[i], why) != ERR_INVALID)
            fail_msg("date %s accepted", bad_dates[i]);
    const char *good_times[] = {"00:00", "23:59", "09:05", "12:00"};
    const char *bad_times[] = {"24:00", "9:00", "12:60", "12-00", "12:00:00", "", "ab:cd"};
    for (size_t i = 0; i < sizeof good_times / sizeof *good_times; i++)
        assert_int_equal(task_validate_time(good_times[i], why), 0);
    for (size_t i = 0; i < sizeof bad_times / sizeof *bad_times; i++)
        if (task_validate_time(bad_times[i], why) != ERR_INVALID)
            fail_msg("time %s accepted", bad_times[i]);
}

static void test_time_zones(void **state)
{
    (void)state;
    char why[TASK_WHY_MAX];
    const char *good[] = {"UTC",
                          "Europe/Paris",
                          "America/New_York",
                          "Asia/Kolkata",
                          "America/Argentina/Buenos_Aires",
                          "Etc/GMT+5"};
    const char *bad[] = {"../etc/passwd",
                         "/etc/passwd",
                         "Nowhere/City",
                         "Europe//Paris",
                         "Europe/",
                         "Europe",
                         "Europe/Paris ",
                         "",
                         "Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        if (task_validate_tz(good[i], why))
            fail_msg("zone %s refused: %s", good[i], why);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (task_validate_tz(bad[i], why) != ERR_INVALID)
            fail_msg("zone '%s' accepted", bad[i]);
}

static void test_priority(void **state)
{
    (void)state;
    assert_int_equal(task_parse_priority("low"), STORE_PRIORITY_LOW);
    assert_int_equal(task_parse_priority("normal"), STORE_PRIORITY_NORMAL);
    assert_int_equal(task_parse_priority("high"), STORE_PRIORITY_HIGH);
    assert_int_equal(task_parse_priority("High"), ERR_INVALID);
    assert_int_equal(task_parse_priority("urgent"), ERR_INVALID);
    assert_string_equal(task_priority_name(STORE_PRIORITY_HIGH), "high");
    assert_string_equal(task_priority_name(STORE_PRIORITY_LOW), "low");
    assert_string_equal(task_priority_name(STORE_PRIORITY_NORMAL), "normal");
}

static void check_tags(const char *in, const char *want)
{
    char why[TASK_WHY_MAX] = "";
    char *out = NULL;
    cJSON *arr = parse(in);
    int rc = task_tags_from_json(arr, &out, why);
    cJSON_Delete(arr);
    if (!want) {
        if (rc != ERR_INVALID)
            fail_msg("tags %s accepted as %s", in, out);
        assert_null(out);
        return;
    }
    if (rc)
        fail_msg("tags %s refused: %s", in, why);
    assert_string_equal(out, want);
    free(out);
}

static void test_tags(void **state)
{
    (void)state;
    check_tags("[]", "[]");
    check_tags("[\"Groceries\",\"#home\",\"groceries\",\" Work \",\"to-do_2\"]",
               "[\"groceries\",\"home\",\"work\",\"to-do_2\"]");
    check_tags("[\"\xc3\x9cN\xc3\x8f\"]", "[\"\xc3\xbcn\xc3\xaf\"]"); /* ÜNÏ -> ünï */
    check_tags("[\"\xd0\x9f\xd0\xa0\xd0\x98\"]", "[\"\xd0\xbf\xd1\x80\xd0\xb8\"]"); /* ПРИ */
    check_tags("[\"\xe8\xb2\xb7\xe3\x81\x84\xe7\x89\xa9\"]",
               "[\"\xe8\xb2\xb7\xe3\x81\x84\xe7\x89\xa9\"]");
    check_tags("[\"a b\"]", NULL);
    check_tags("[\"a/b\"]", NULL);
    check_tags("[\"\xf0\x9f\x9b\x92\"]", NULL); /* an emoji is not a letter */
    check_tags("[\"\"]", NULL);
    check_tags("[\"#\"]", NULL);
    check_tags("[1]", NULL);
    check_tags("{\"a\":1}", NULL);
    char *t64 = repeat("a", 64), *t65 = repeat("b", 65);
    char in[256];
    snprintf(in, sizeof in, "[\"%s\"]", t64);
    char want[256];
    snprintf(want, sizeof want, "[\"%s\"]", t64);
    check_tags(in, want);
    snprintf(in, sizeof in, "[\"%s\"]", t65);
    check_tags(in, NULL);
    free(t64), free(t65);
    /* 20 distinct tags (plus duplicates) are fine; 21 are not. */
    struct buf b;
    buf_init(&b, 4096);
    buf_append_str(&b, "[");
    for (int i = 0; i < 20; i++)
        buf_appendf(&b, "%s\"t%d\",\"T%d\"", i ? "," : "", i, i);
    buf_append_str(&b, "]");
    char *out = NULL, why[TASK_WHY_MAX];
    cJSON *arr = parse(b.data);
    assert_int_equal(task_tags_from_json(arr, &out, why), 0);
    cJSON *back = parse(out);
    assert_int_equal(cJSON_GetArraySize(back), 20);
    cJSON_Delete(back);
    cJSON_Delete(arr);
    free(out);
    b.len -= 1;
    buf_append_str(&b, ",\"t20\"]");
    arr = parse(b.data);
    assert_int_equal(task_tags_from_json(arr, &out, why), ERR_INVALID);
    assert_string_equal(why, "a task may have at most 20 tags");
    cJSON_Delete(arr);
    buf_free(&b);
}

/* ---- create and patch ---- */

static void test_create_defaults(void **state)
{
    (void)state;
    struct store_task t;
    memset(&t, 0, sizeof t);
    char why[TASK_WHY_MAX];
    assert_int_equal(apply(&t, "{\"title\":\"  Buy milk  \",\"extra\":1}", false, why), 0);
    assert_string_equal(t.title, "Buy milk");
    assert_null(t.notes);
    assert_false(t.done);
    assert_string_equal(t.due_date, "");
    assert_string_equal(t.due_time, "");
    assert_string_equal(t.tz, "");
    assert_int_equal(t.priority, STORE_PRIORITY_NORMAL);
    assert_string_equal(t.tags_json, "[]");
    assert_int_equal(t.completed_us, 0);
    task_clear(&t);
}

static void test_create_full_and_done(void **state)
{
    (void)state;
    struct store_task t;
    memset(&t, 0, sizeof t);
    char why[TASK_WHY_MAX];
    assert_int_equal(apply(&t,
                           "{\"title\":\"Call mum\",\"notes\":\"about Sunday\",\"status\":\"done\","
                           "\"due_date\":\"2026-12-05\",\"due_time\":\"17:00\","
                           "\"tz\":\"Europe/Paris\",\"priority\":\"high\",\"tags\":[\"Family\"]}",
                           false, why),
                     0);
    assert_string_equal(t.notes, "about Sunday");
    assert_true(t.done);
    assert_true(t.completed_us > 0);
    assert_string_equal(t.due_date, "2026-12-05");
    assert_string_equal(t.due_time, "17:00");
    assert_string_equal(t.tz, "Europe/Paris");
    assert_int_equal(t.priority, STORE_PRIORITY_HIGH);
    assert_string_equal(t.tags_json, "[\"family\"]");
    task_clear(&t);
}

static void test_create_errors(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        const char *why;
    } cases[] = {
        {"{}", "title is required"},
        {"{\"title\":null}", "title must be a string of 1 to 500 characters"},
        {"{\"title\":5}", "title must be a string of 1 to 500 characters"},
        {"{\"title\":\"   \"}", "title must be 1 to 500 characters"},
        {"{\"title\":\"x\",\"status\":\"closed\"}", "status must be \"open\" or \"done\""},
        {"{\"title\":\"x\",\"due_time\":\"10:00\"}", "due_time needs a due_date"},
        {"{\"title\":\"x\",\"due_date\":\"2026-02-30\"}",
         "due_date must be a real calendar date written YYYY-MM-DD"},
        {"{\"title\":\"x\",\"due_date\":\"2026-02-01\",\"due_time\":\"25:00\"}",
         "due_time must be HH:MM between 00:00 and 23:59"},
        {"{\"title\":\"x\",\"priority\":\"urgent\"}",
         "priority must be \"low\", \"normal\" or \"high\""},
        {"{\"title\":\"x\",\"tags\":\"a,b\"}", "tags must be an array of strings"},
        {"{\"title\":\"x\",\"notes\":7}", "notes must be a string or null"},
        {"[1]", "the task must be a JSON object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct store_task t;
        memset(&t, 0, sizeof t);
        char why[TASK_WHY_MAX];
        assert_int_equal(apply(&t, cases[i].body, false, why), ERR_INVALID);
        if (strcmp(why, cases[i].why) != 0)
            fail_msg("%s: got '%s', want '%s'", cases[i].body, why, cases[i].why);
        assert_null(t.title);
        assert_null(t.tags_json);
    }
}

static void make_task(struct store_task *t)
{
    char why[TASK_WHY_MAX];
    memset(t, 0, sizeof *t);
    snprintf(t->id, sizeof t->id, "task_0123456789abcdef0123456789abcdef");
    assert_int_equal(
        apply(t,
              "{\"title\":\"Report\",\"notes\":\"draft\",\"due_date\":\"2026-12-05\","
              "\"due_time\":\"09:30\",\"tz\":\"America/New_York\",\"priority\":\"low\","
              "\"tags\":[\"work\"]}",
              false, why),
        0);
    t->created_us = t->updated_us = 1796400000000000LL;
}

static void test_patch_changes_only_given_fields(void **state)
{
    (void)state;
    struct store_task t;
    char why[TASK_WHY_MAX];
    make_task(&t);
    assert_int_equal(apply(&t, "{\"title\":\"Final report\"}", true, why), 0);
    assert_string_equal(t.title, "Final report");
    assert_string_equal(t.notes, "draft");
    assert_string_equal(t.due_date, "2026-12-05");
    assert_string_equal(t.due_time, "09:30");
    assert_string_equal(t.tz, "America/New_York");
    assert_int_equal(t.priority, STORE_PRIORITY_LOW);
    assert_string_equal(t.tags_json, "[\"work\"]");
    assert_string_equal(t.id, "task_0123456789abcdef0123456789abcdef");
    /* an empty patch changes nothing */
    assert_int_equal(apply(&t, "{}", true, why), 0);
    assert_string_equal(t.title, "Final report");
    task_clear(&t);
}

static void test_patch_null_clears(void **state)
{
    (void)state;
    struct store_task t;
    char why[TASK_WHY_MAX];
    make_task(&t);
    assert_int_equal(apply(&t, "{\"notes\":null,\"tz\":null,\"tags\":null}", true, why), 0);
    assert_null(t.notes);
    assert_string_equal(t.tz, "");
    assert_string_equal(t.tags_json, "[]");
    assert_string_equal(t.due_time, "09:30");
    /* clearing the date drops the time that belonged to it */
    assert_int_equal(apply(&t, "{\"due_date\":null}", true, why), 0);
    assert_string_equal(t.due_date, "");
    assert_string_equal(t.due_time, "");
    /* a time without a date is refused; with one it is fine */
    assert_int_equal(apply(&t, "{\"due_time\":\"08:00\"}", true, why), ERR_INVALID);
    assert_string_equal(why, "due_time needs a due_date");
    assert_int_equal(apply(&t, "{\"due_date\":\"2027-01-01\",\"due_time\":\"08:00\"}", true, why),
                     0);
    assert_int_equal(apply(&t, "{\"due_time\":null}", true, why), 0);
    assert_string_equal(t.due_date, "2027-01-01");
    assert_string_equal(t.due_time, "");
    /* an empty notes string is no notes */
    assert_int_equal(apply(&t, "{\"notes\":\"\"}", true, why), 0);
    assert_null(t.notes);
    /* title and status cannot be cleared */
    assert_int_equal(apply(&t, "{\"title\":null}", true, why), ERR_INVALID);
    assert_int_equal(apply(&t, "{\"status\":null}", true, why), ERR_INVALID);
    assert_int_equal(apply(&t, "{\"priority\":null}", true, why), ERR_INVALID);
    task_clear(&t);
}

static void test_patch_status(void **state)
{
    (void)state;
    struct store_task t;
    char why[TASK_WHY_MAX];
    make_task(&t);
    assert_int_equal(apply(&t, "{\"status\":\"done\"}", true, why), 0);
    assert_true(t.done);
    int64_t done_at = t.completed_us;
    assert_true(done_at > 0);
    /* done again keeps the first completion time */
    assert_int_equal(apply(&t, "{\"status\":\"done\"}", true, why), 0);
    assert_true(t.completed_us == done_at);
    assert_int_equal(apply(&t, "{\"status\":\"open\"}", true, why), 0);
    assert_false(t.done);
    assert_int_equal(t.completed_us, 0);
    assert_false(task_set_done(&t, false, 5));
    assert_true(task_set_done(&t, true, 5));
    assert_int_equal(t.completed_us, 5);
    task_clear(&t);
}

static void test_patch_is_all_or_nothing(void **state)
{
    (void)state;
    struct store_task t;
    char why[TASK_WHY_MAX];
    make_task(&t);
    assert_int_equal(
        apply(&t, "{\"title\":\"New\",\"notes\":\"x\",\"priority\":\"urgent\"}", true, why),
        ERR_INVALID);
    assert_string_equal(why, "priority must be \"low\", \"normal\" or \"high\"");
    assert_string_equal(t.title, "Report");
    assert_string_equal(t.notes, "draft");
    assert_int_equal(t.priority, STORE_PRIORITY_LOW);
    cJSON *p = parse("{\"title\":\"ok\",\"tags\":[\"a b\"]}");
    assert_int_equal(task_check_patch(p, why), ERR_INVALID);
    cJSON_Delete(p);
    p = parse("{\"due_time\":\"10:00\"}"); /* needs the task to know */
    assert_int_equal(task_check_patch(p, why), 0);
    cJSON_Delete(p);
    task_clear(&t);
}

/* ---- JSON out ---- */

static void test_json_shape(void **state)
{
    (void)state;
    struct store_task t;
    make_task(&t);
    char *s = task_json(&t);
    assert_string_equal(s,
                        "{\"id\":\"task_0123456789abcdef0123456789abcdef\",\"title\":\"Report\","
                        "\"notes\":\"draft\",\"status\":\"open\",\"due_date\":\"2026-12-05\","
                        "\"due_time\":\"09:30\",\"tz\":\"America/New_York\",\"priority\":\"low\","
                        "\"tags\":[\"work\"],\"created_at\":\"2026-12-04T16:00:00.000Z\","
                        "\"updated_at\":\"2026-12-04T16:00:00.000Z\"}");
    free(s);
    /* nulls are omitted; completed_at appears once done */
    char why[TASK_WHY_MAX];
    assert_int_equal(
        apply(&t, "{\"notes\":null,\"due_date\":null,\"tz\":null,\"status\":\"done\"}", true, why),
        0);
    t.completed_us = 1796400001500000LL;
    s = task_json(&t);
    cJSON *o = parse(s);
    assert_null(json_get(o, "notes"));
    assert_null(json_get(o, "due_date"));
    assert_null(json_get(o, "due_time"));
    assert_null(json_get(o, "tz"));
    assert_string_equal(json_get(o, "status")->valuestring, "done");
    assert_string_equal(json_get(o, "completed_at")->valuestring, "2026-12-04T16:00:01.500Z");
    assert_true(cJSON_IsArray(json_get(o, "tags")));
    cJSON_Delete(o);
    free(s);
    /* unicode survives as raw UTF-8 */
    assert_int_equal(apply(&t, "{\"title\":\"\\u65e5\\u672c \\ud83c\\udf89\"}", true, why), 0);
    s = task_json(&t);
    assert_non_null(strstr(s, "\"title\":\"\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x8e\x89\""));
    free(s);
    struct store_task c;
    task_copy(&c, &t);
    assert_ptr_not_equal(c.title, t.title);
    assert_string_equal(c.title, t.title);
    task_clear(&c);
    task_clear(&t);
}

/* ---- time zones ---- */

static int64_t utc(int y, int m, int d, int h, int mi)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
    return (int64_t)timegm(&tm);
}

static void test_tz_offsets(void **state)
{
    (void)state;
    static const struct {
        const char *tz;
        int y, m, d, h;
        int32_t off;
    } cases[] = {
        {"America/New_York", 2024, 7, 1, 12, -4 * 3600},
        {"America/New_York", 2024, 1, 15, 12, -5 * 3600},
        {"America/New_York", 2100, 7, 1, 12, -4 * 3600}, /* past the table: footer rule */
        {"America/New_York", 2100, 1, 15, 12, -5 * 3600},
        {"Europe/Paris", 2026, 7, 14, 0, 2 * 3600},
        {"Europe/Paris", 2026, 12, 25, 0, 1 * 3600},
        {"Europe/Dublin", 2026, 1, 10, 0, 0},
        {"Europe/Dublin", 2026, 7, 10, 0, 3600},
        {"Europe/Dublin", 2150, 7, 10, 0, 3600}, /* negative DST in the footer */
        {"Asia/Kolkata", 2026, 3, 1, 0, 19800},
        {"Australia/Sydney", 2026, 1, 15, 0, 11 * 3600},
        {"Australia/Sydney", 2026, 7, 15, 0, 10 * 3600},
        {"Australia/Sydney", 2100, 1, 15, 0, 11 * 3600}, /* southern footer rule */
        {"Australia/Sydney", 2100, 7, 15, 0, 10 * 3600},
        {"UTC", 2026, 7, 1, 0, 0},
        {"", 2026, 7, 1, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int32_t off = 12345;
        assert_int_equal(task_tz_offset(cases[i].tz,
                                        utc(cases[i].y, cases[i].m, cases[i].d, cases[i].h, 0),
                                        &off),
                         0);
        if (off != cases[i].off)
            fail_msg("%s %d-%d-%d: %d, want %d", cases[i].tz, cases[i].y, cases[i].m, cases[i].d,
                     off, cases[i].off);
    }
    int32_t off = 7;
    assert_int_equal(task_tz_offset("Nowhere/City", 0, &off), ERR_NOT_FOUND);
    assert_int_equal(off, 0);
    assert_int_equal(task_tz_offset("../../etc/passwd", 0, &off), ERR_NOT_FOUND);
}

/* Cross-checks the TZif reader against glibc over a century of instants (this test process is
 * single-threaded, so flipping TZ is safe here, unlike in the server). */
static void test_tz_matches_libc(void **state)
{
    (void)state;
    static const char *zones[] = {
        "America/New_York", "America/Los_Angeles", "America/Sao_Paulo",  "America/St_Johns",
        "Europe/London",    "Europe/Berlin",       "Europe/Moscow",      "Africa/Casablanca",
        "Asia/Tehran",      "Asia/Kathmandu",      "Australia/Adelaide", "Australia/Lord_Howe",
        "Pacific/Auckland", "Pacific/Chatham",     "America/Godthab",    "Asia/Gaza"};
    char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
    uint64_t x = 88172645463325252ULL;
    int checked = 0;
    for (size_t z = 0; z < sizeof zones / sizeof *zones; z++) {
        setenv("TZ", zones[z], 1);
        tzset();
        for (int i = 0; i < 400; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            int64_t t = 0 + (int64_t)(x % (130ULL * 365 * 86400)); /* 1970 .. 2100 */
            time_t tt = (time_t)t;
            struct tm tm;
            localtime_r(&tt, &tm);
            int32_t off;
            assert_int_equal(task_tz_offset(zones[z], t, &off), 0);
            if (off != tm.tm_gmtoff)
                fail_msg("%s at %lld: %d, libc %ld", zones[z], (long long)t, off, tm.tm_gmtoff);
            checked++;
        }
    }
    if (old) {
        setenv("TZ", old, 1);
        free(old);
    } else {
        unsetenv("TZ");
    }
    tzset();
    assert_int_equal(checked, 16 * 400);
}

static void test_local_time(void **state)
{
    (void)state;
    struct task_local l;
    int64_t t = utc(2026, 12, 6, 2, 0) * 1000000;
    task_local_time("America/Los_Angeles", t, &l);
    assert_int_equal(l.year, 2026);
    assert_int_equal(l.month, 12);
    assert_int_equal(l.day, 5);
    assert_int_equal(l.minute, 18 * 60);
    task_local_time("", t, &l);
    assert_int_equal(l.day, 6);
    assert_int_equal(l.minute, 120);
    task_local_time("Asia/Tokyo", utc(1969, 12, 31, 20, 30) * 1000000, &l);
    assert_int_equal(l.year, 1970);
    assert_int_equal(l.month, 1);
    assert_int_equal(l.day, 1);
    assert_int_equal(l.minute, 5 * 60 + 30);
    int y, m, d;
    task_civil_from_days(-1, &y, &m, &d);
    assert_int_equal(y, 1969);
    assert_int_equal(m, 12);
    assert_int_equal(d, 31);
}

/* ---- tools against a real store ---- */

struct tfx {
    char dir[64];
    char url[160];
    uv_loop_t loop;
    struct logger log;
    struct store *store;
    struct tasks_app app;
    /* the last result */
    int calls;
    int status;
    bool changed;
    char *json;
    char task_id[ID_MAX];
};

static int tools_setup(void **state)
{
    struct tfx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/test_task.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->url, sizeof f->url, "sqlite:%s/chatkitd.db", f->dir);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    log_init(&f->log, fopen("/dev/null", "w"), LOG_INFO, LOG_TEXT);
    struct store_config sc = {.url = f->url, .readers = 1, .busy_timeout_ms = 5000, .log = &f->log};
    char err[256];
    if (store_open(&f->loop, &sc, &f->store, err, sizeof err))
        fail_msg("store_open: %s", err);
    struct tasks_config tc = {.loop = &f->loop, .store = f->store, .log = &f->log};
    tasks_app_init(&f->app, &tc);
    *state = f;
    return 0;
}

static int tools_teardown(void **state)
{
    struct tfx *f = *state;
    tasks_app_close(&f->app);
    store_close(f->store, NULL, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    tasks_app_free(&f->app);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    fclose(f->log.out);
    char p[256];
    snprintf(p, sizeof p, "%s/chatkitd.db", f->dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/chatkitd.db-wal", f->dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/chatkitd.db-shm", f->dir);
    unlink(p);
    rmdir(f->dir);
    free(f->json);
    free(f);
    return 0;
}

static void tool_cb(const struct tasks_result *res, void *data)
{
    struct tfx *f = data;
    f->calls++;
    f->status = res->status;
    f->changed = res->changed;
    free(f->json);
    f->json = strndup(res->json, res->json_len);
    if (!res->status && res->task)
        snprintf(f->task_id, sizeof f->task_id, "%s", res->task->id);
}

/* Runs one tool to completion; returns the parsed result (caller deletes). */
static cJSON *run_tool(struct tfx *f, const char *user, const char *name, const char *args)
{
    cJSON *a = args ? parse(args) : NULL;
    int before = f->calls;
    assert_int_equal(tasks_tool_run(&f->app, user, name, a, tool_cb, f), 0);
    cJSON_Delete(a);
    assert_int_equal(f->calls, before); /* never from inside the call */
    while (f->calls == before)
        uv_run(&f->loop, UV_RUN_ONCE);
    assert_int_equal(f->calls, before + 1);
    cJSON *r = parse(f->json);
    assert_true(cJSON_IsObject(r));
    return r;
}

static const char *err_of(cJSON *r)
{
    const cJSON *e = json_get(r, "error");
    return cJSON_IsString(e) ? e->valuestring : NULL;
}

static void test_tools_schema(void **state)
{
    (void)state;
    const char *s = tasks_tools_schema_json();
    assert_ptr_equal(s, tasks_tools_schema_json());
    cJSON *a = parse(s);
    assert_true(cJSON_IsArray(a));
    const char *names[] = {"create_task",   "list_tasks",  "update_task",
                           "complete_task", "reopen_task", "delete_task"};
    assert_int_equal(cJSON_GetArraySize(a), 6);
    int i = 0;
    for (const cJSON *t = a->child; t; t = t->next, i++) {
        assert_string_equal(json_get(t, "type")->valuestring, "function");
        assert_string_equal(json_get(t, "name")->valuestring, names[i]);
        assert_true(tasks_tool_exists(names[i]));
        assert_true(cJSON_IsString(json_get(t, "description")));
        const cJSON *p = json_get(t, "parameters");
        assert_string_equal(json_get(p, "type")->valuestring, "object");
        assert_true(cJSON_IsObject(json_get(p, "properties")));
    }
    assert_false(tasks_tool_exists("drop_tables"));
    cJSON_Delete(a);
}

static void test_tools_lifecycle(void **state)
{
    struct tfx *f = *state;
    cJSON *r = run_tool(f, "alice", "create_task",
                        "{\"title\":\"Buy milk\",\"due_date\":\"2026-12-05\",\"tags\":[\"Shop\"]}");
    assert_int_equal(f->status, 0);
    assert_true(f->changed);
    const cJSON *t = json_get(r, "task");
    assert_string_equal(json_get(t, "title")->valuestring, "Buy milk");
    assert_string_equal(json_get(t, "status")->valuestring, "open");
    assert_string_equal(json_get(t, "tags")->child->valuestring, "shop");
    char id[ID_MAX];
    snprintf(id, sizeof id, "%s", json_get(t, "id")->valuestring);
    assert_true(id_is_valid("task_", id, strlen(id)));
    cJSON_Delete(r);

    char args[256];
    snprintf(args, sizeof args, "{\"task_id\":\"%s\"}", id);
    r = run_tool(f, "alice", "complete_task", args);
    assert_string_equal(json_get(json_get(r, "task"), "status")->valuestring, "done");
    assert_non_null(json_get(json_get(r, "task"), "completed_at"));
    assert_true(f->changed);
    cJSON_Delete(r);
    r = run_tool(f, "alice", "complete_task", args); /* already done: no write */
    assert_false(f->changed);
    assert_int_equal(f->status, 0);
    cJSON_Delete(r);
    r = run_tool(f, "alice", "reopen_task", args);
    assert_string_equal(json_get(json_get(r, "task"), "status")->valuestring, "open");
    assert_null(json_get(json_get(r, "task"), "completed_at"));
    cJSON_Delete(r);

    snprintf(args, sizeof args,
             "{\"task_id\":\"%s\",\"title\":\"Buy oat milk\",\"priority\":\"high\","
             "\"due_date\":null}",
             id);
    r = run_tool(f, "alice", "update_task", args);
    t = json_get(r, "task");
    assert_string_equal(json_get(t, "title")->valuestring, "Buy oat milk");
    assert_string_equal(json_get(t, "priority")->valuestring, "high");
    assert_null(json_get(t, "due_date"));
    assert_string_equal(json_get(t, "tags")->child->valuestring, "shop");
    cJSON_Delete(r);

    r = run_tool(f, "alice", "list_tasks", NULL);
    assert_int_equal(cJSON_GetArraySize(json_get(r, "tasks")), 1);
    assert_true(cJSON_IsFalse(json_get(r, "has_more")));
    cJSON_Delete(r);
    r = run_tool(f, "alice", "list_tasks", "{\"status\":\"done\"}");
    assert_int_equal(cJSON_GetArraySize(json_get(r, "tasks")), 0);
    cJSON_Delete(r);
    r = run_tool(f, "bob", "list_tasks", "{\"status\":\"all\"}");
    assert_int_equal(cJSON_GetArraySize(json_get(r, "tasks")), 0);
    cJSON_Delete(r);

    /* bob cannot touch alice's task: it does not exist for him */
    snprintf(args, sizeof args, "{\"task_id\":\"%s\"}", id);
    r = run_tool(f, "bob", "delete_task", args);
    assert_int_equal(f->status, ERR_NOT_FOUND);
    assert_non_null(strstr(err_of(r), "no task"));
    cJSON_Delete(r);

    r = run_tool(f, "alice", "delete_task", args);
    assert_string_equal(json_get(r, "deleted")->valuestring, id);
    assert_string_equal(json_get(r, "title")->valuestring, "Buy oat milk");
    cJSON_Delete(r);
    r = run_tool(f, "alice", "delete_task", args);
    assert_int_equal(f->status, ERR_NOT_FOUND);
    cJSON_Delete(r);
}

static void test_tools_list_filters(void **state)
{
    struct tfx *f = *state;
    const char *bodies[] = {
        "{\"title\":\"Milk\",\"tags\":[\"groceries\"],\"due_date\":\"2026-12-01\"}",
        "{\"title\":\"Eggs\",\"tags\":[\"groceries\"],\"priority\":\"high\"}",
        "{\"title\":\"Report\",\"notes\":\"quarterly NUMBERS\",\"due_date\":\"2026-12-10\"}",
        "{\"title\":\"Done thing\",\"status\":\"done\"}",
    };
    for (size_t i = 0; i < 4; i++)
        cJSON_Delete(run_tool(f, "carol", "create_task", bodies[i]));
    static const struct {
        const char *args;
        int n;
    } cases[] = {
        {"{}", 3},
        {"{\"status\":\"all\"}", 4},
        {"{\"status\":\"done\"}", 1},
        {"{\"tag\":\"#Groceries\"}", 2},
        {"{\"priority\":\"high\"}", 1},
        {"{\"due_before\":\"2026-12-05\"}", 1},
        {"{\"due_after\":\"2026-12-05\"}", 1},
        {"{\"q\":\"numbers\"}", 1},
        {"{\"limit\":2}", 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cJSON *r = run_tool(f, "carol", "list_tasks", cases[i].args);
        if (cJSON_GetArraySize(json_get(r, "tasks")) != cases[i].n)
            fail_msg("%s: %s", cases[i].args, f->json);
        if (i == sizeof cases / sizeof *cases - 1)
            assert_true(cJSON_IsTrue(json_get(r, "has_more")));
        cJSON_Delete(r);
    }
}

static void test_tools_errors(void **state)
{
    struct tfx *f = *state;
    static const struct {
        const char *name;
        const char *args;
        const char *want;
    } cases[] = {
        {"drop_tables", "{}", "unknown tool drop_tables"},
        {NULL, "{}", "unknown tool (none)"},
        {"create_task", "[1,2]", "must be a JSON object"},
        {"create_task", "{}", "title is required"},
        {"create_task", "{\"title\":\"x\",\"due_date\":\"tomorrow\"}", "due_date must be"},
        {"update_task", "{\"title\":\"x\"}", "task_id is required"},
        {"update_task", "{\"task_id\":\"task_1\"}", "task_id must be a task id"},
        {"update_task", "{\"task_id\":\"task_0123456789abcdef0123456789abcdef\",\"priority\":9}",
         "priority must be"},
        {"complete_task", "{\"task_id\":42}", "task_id is required"},
        {"complete_task", "{\"task_id\":\"task_0123456789abcdef0123456789abcdef\"}",
         "no task task_0123456789abcdef0123456789abcdef (it may have been deleted)"},
        {"list_tasks", "{\"status\":\"closed\"}", "status must be"},
        {"list_tasks", "{\"limit\":0}", "limit must be"},
        {"list_tasks", "{\"limit\":101}", "limit must be"},
        {"list_tasks", "{\"due_before\":\"12/05\"}", "due_before must be"},
        {"list_tasks", "{\"tag\":\"a b\"}", "tags may only contain"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cJSON *r = run_tool(f, "dave", cases[i].name, cases[i].args);
        const char *e = err_of(r);
        if (!e || !strstr(e, cases[i].want))
            fail_msg("%s %s: %s", cases[i].name ? cases[i].name : "NULL", cases[i].args, f->json);
        assert_int_not_equal(f->status, 0);
        assert_int_equal(cJSON_GetArraySize(r), 1);
        cJSON_Delete(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_title_table),
        cmocka_unit_test(test_title_length_counts_characters),
        cmocka_unit_test(test_notes),
        cmocka_unit_test(test_dates_times),
        cmocka_unit_test(test_time_zones),
        cmocka_unit_test(test_priority),
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_create_defaults),
        cmocka_unit_test(test_create_full_and_done),
        cmocka_unit_test(test_create_errors),
        cmocka_unit_test(test_patch_changes_only_given_fields),
        cmocka_unit_test(test_patch_null_clears),
        cmocka_unit_test(test_patch_status),
        cmocka_unit_test(test_patch_is_all_or_nothing),
        cmocka_unit_test(test_json_shape),
        cmocka_unit_test(test_tz_offsets),
        cmocka_unit_test(test_tz_matches_libc),
        cmocka_unit_test(test_local_time),
        cmocka_unit_test(test_tools_schema),
        cmocka_unit_test_setup_teardown(test_tools_lifecycle, tools_setup, tools_teardown),
        cmocka_unit_test_setup_teardown(test_tools_list_filters, tools_setup, tools_teardown),
        cmocka_unit_test_setup_teardown(test_tools_errors, tools_setup, tools_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
