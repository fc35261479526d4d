/* Unit tests for core/log: records written to an in-memory stream in both formats, one line per
 * record whatever the message holds, level filtering and the option parsers. */
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"

#include <cjson/cJSON.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define TS_LEN 24 /* "2026-11-25T21:15:41.123Z" */

struct capture {
    FILE *f;
    char *data;
    size_t size;
    struct logger lg;
};

static void cap_open(struct capture *c, enum log_level min, enum log_format fmt)
{
    c->data = NULL;
    c->size = 0;
    c->f = open_memstream(&c->data, &c->size);
    assert_non_null(c->f);
    log_init(&c->lg, c->f, min, fmt);
}

/* Closes the stream and returns everything written (caller frees). */
static char *cap_close(struct capture *c)
{
    assert_int_equal(fclose(c->f), 0);
    return c->data;
}

static size_t count_char(const char *s, char ch)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == ch;
    return n;
}

/* Asserts s starts with a current timestamp followed by a space or quote. */
static void check_ts(const char *s)
{
    int64_t us;
    assert_int_equal(clock_parse_iso(s, TS_LEN, &us), 0);
    int64_t now = clock_wall_us();
    assert_true(us <= now && us > now - 10 * INT64_C(1000000));
}

static void test_text_format(void **state)
{
    (void)state;
    struct capture c;
    cap_open(&c, LOG_DEBUG, LOG_TEXT);
    log_info(&c.lg, "hello %d %s", 42, "world");
    char *out = cap_close(&c);
    assert_int_equal(strlen(out), TS_LEN + strlen(" info  hello 42 world\n"));
    check_ts(out);
    assert_string_equal(out + TS_LEN, " info  hello 42 world\n");
    free(out);

    cap_open(&c, LOG_DEBUG, LOG_TEXT);
    log_debug(&c.lg, "d");
    log_warn(&c.lg, "w");
    log_error(&c.lg, "e");
    log_record(&c.lg, LOG_INFO, "plain", NULL);
    out = cap_close(&c);
    assert_int_equal(count_char(out, '\n'), 4);
    const char *line = out;
    static const char *const rest[] = {" debug d\n", " warn  w\n", " error e\n", " info  plain\n"};
    for (int i = 0; i < 4; i++) {
        check_ts(line);
        assert_memory_equal(line + TS_LEN, rest[i], strlen(rest[i]));
        line = strchr(line, '\n') + 1;
    }
    assert_string_equal(line, "");
    free(out);
}

static void test_text_one_line(void **state)
{
    (void)state;
    struct capture c;
    cap_open(&c, LOG_DEBUG, LOG_TEXT);
    /* A newline in a logged value must not start a second, forged record. */
    log_info(&c.lg, "user %s", "bob\n2026-11-25T21:15:41.123Z error forged\r\x01\x7f\tend");
    char *out = cap_close(&c);
    assert_int_equal(count_char(out, '\n'), 1);
    assert_null(strchr(out, '\r'));
    assert_string_equal(
        out + TS_LEN,
        " info  user bob\\n2026-11-25T21:15:41.123Z error forged\\r\\x01\\x7f\tend\n");
    free(out);
}

static void test_text_long_message_cut(void **state)
{
    (void)state;
    size_t n = 20000;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, 'x', n);
    big[n] = '\0';
    struct capture c;
    cap_open(&c, LOG_DEBUG, LOG_TEXT);
    log_record(&c.lg, LOG_WARN, big, NULL);
    char *out = cap_close(&c);
    size_t len = strlen(out);
    /* Cut, not dropped: the record keeps its prefix and still ends its line. */
    assert_true(len > 8000 && len <= 8192);
    check_ts(out);
    assert_memory_equal(out + TS_LEN, " warn  xxxx", 11);
    assert_int_equal(out[len - 1], '\n');
    assert_int_equal(count_char(out, '\n'), 1);
    free(out);

    /* log_msg formats into a bounded buffer first. */
    cap_open(&c, LOG_DEBUG, LOG_TEXT);
    log_info(&c.lg, "%s", big);
    out = cap_close(&c);
    assert_int_equal(out[strlen(out) - 1], '\n');
    assert_int_equal(count_char(out, '\n'), 1);
    assert_true(strlen(out) > TS_LEN + 7 + 4000);
    free(out);
    free(big);
}

/* Parses a JSON log line (with its newline) and checks the common fields. */
static cJSON *parse_line(const char *line, size_t len, const char *level)
{
    assert_int_equal(line[len - 1], '\n');
    cJSON *v = cJSON_ParseWithLength(line, len - 1);
    if (!v)
        fail_msg("not JSON: %.*s", (int)len, line);
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(v, "ts");
    assert_true(cJSON_IsString(ts));
    assert_int_equal(strlen(ts->valuestring), TS_LEN);
    check_ts(ts->valuestring);
    const cJSON *lv = cJSON_GetObjectItemCaseSensitive(v, "level");
    assert_true(cJSON_IsString(lv));
    assert_string_equal(lv->valuestring, level);
    return v;
}

static void test_json_format(void **state)
{
    (void)state;
    static const char msg[] =
        "quote \" backslash \\ newline \n tab \t ctrl \x01 </script> \xC3\xA9";
    struct capture c;
    cap_open(&c, LOG_DEBUG, LOG_JSON);
    log_warn(&c.lg, "%s", msg);
    char *out = cap_close(&c);
    assert_int_equal(count_char(out, '\n'), 1);
    assert_memory_equal(out, "{\"ts\":\"", 7);
    cJSON *v = parse_line(out, strlen(out), "warn");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(v, "msg");
    assert_true(cJSON_IsString(m));
    assert_string_equal(m->valuestring, msg);
    cJSON_Delete(v);
    free(out);
}

static void test_json_fields(void **state)
{
    (void)state;
    struct capture c;
    cap_open(&c, LOG_DEBUG, LOG_JSON);
    log_record(&c.lg, LOG_INFO, "created", "\"user\":\"usr_1\",\"n\":3");
    log_record(&c.lg, LOG_ERROR, NULL, "\"only\":true");
    log_record(&c.lg, LOG_DEBUG, "", NULL);
    char *out = cap_close(&c);
    assert_int_equal(count_char(out, '\n'), 3);

    char *l1 = out, *l2 = strchr(l1, '\n') + 1, *l3 = strchr(l2, '\n') + 1;
    cJSON *v = parse_line(l1, (size_t)(l2 - l1), "info");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(v, "msg")->valuestring, "created");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(v, "user")->valuestring, "usr_1");
    assert_true(cJSON_GetObjectItemCaseSensitive(v, "n")->valuedouble == 3);
    cJSON_Delete(v);

    v = parse_line(l2, (size_t)(l3 - l2), "error");
    assert_null(cJSON_GetObjectItemCaseSensitive(v, "msg"));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "only")));
    cJSON_Delete(v);

    v = parse_line(l3, strlen(l3), "debug");
    assert_null(cJSON_GetObjectItemCaseSensitive(v, "msg"));
    assert_int_equal(cJSON_GetArraySize(v), 2);
    cJSON_Delete(v);
    free(out);
}

static void test_json_too_long_stays_valid(void **state)
{
    (void)state;
    size_t n = 9000;
    char *big = malloc(n + 16);
    assert_non_null(big);
    memset(big, 'y', n);
    big[n] = '\0';
    struct capture c;
    cap_open(&c, LOG_DEBUG, LOG_JSON);
    log_record(&c.lg, LOG_INFO, big, NULL);
    /* Control characters grow 6x when escaped: 2000 of them pass the cap too. */
    memset(big, '\x01', 2000);
    big[2000] = '\0';
    log_record(&c.lg, LOG_INFO, big, "\"k\":1");
    /* A fields string too long for the record is dropped, not cut. */
    memset(big, 'z', n);
    memcpy(big, "\"f\":\"", 5);
    memcpy(big + n, "\"", 2);
    log_record(&c.lg, LOG_INFO, "short", big);
    char *out = cap_close(&c);
    assert_int_equal(count_char(out, '\n'), 3);

    char *l1 = out, *l2 = strchr(l1, '\n') + 1, *l3 = strchr(l2, '\n') + 1;
    cJSON *v = parse_line(l1, (size_t)(l2 - l1), "info");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(v, "msg")->valuestring,
                        "(message too long)");
    cJSON_Delete(v);
    v = parse_line(l2, (size_t)(l3 - l2), "info");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(v, "msg")->valuestring,
                        "(message too long)");
    assert_non_null(cJSON_GetObjectItemCaseSensitive(v, "k"));
    cJSON_Delete(v);
    v = parse_line(l3, strlen(l3), "info");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(v, "msg")->valuestring, "short");
    assert_null(cJSON_GetObjectItemCaseSensitive(v, "f"));
    cJSON_Delete(v);
    free(out);
    free(big);
}

static void test_level_filter(void **state)
{
    (void)state;
    struct capture c;
    cap_open(&c, LOG_WARN, LOG_TEXT);
    assert_false(log_enabled(&c.lg, LOG_DEBUG));
    assert_false(log_enabled(&c.lg, LOG_INFO));
    assert_true(log_enabled(&c.lg, LOG_WARN));
    assert_true(log_enabled(&c.lg, LOG_ERROR));
    log_debug(&c.lg, "no-debug");
    log_info(&c.lg, "no-info");
    log_record(&c.lg, LOG_INFO, "no-record", NULL);
    log_warn(&c.lg, "yes-warn");
    log_error(&c.lg, "yes-error");
    char *out = cap_close(&c);
    assert_int_equal(count_char(out, '\n'), 2);
    assert_null(strstr(out, "no-"));
    assert_non_null(strstr(out, " warn  yes-warn\n"));
    assert_non_null(strstr(out, " error yes-error\n"));
    free(out);

    cap_open(&c, LOG_ERROR, LOG_JSON);
    log_warn(&c.lg, "dropped");
    out = cap_close(&c);
    assert_int_equal(strlen(out), 0);
    free(out);

    /* No logger or no stream: nothing enabled, nothing crashes. */
    struct logger none;
    log_init(&none, NULL, LOG_DEBUG, LOG_TEXT);
    assert_false(log_enabled(&none, LOG_ERROR));
    assert_false(log_enabled(NULL, LOG_ERROR));
    log_error(&none, "nowhere");
    log_error(NULL, "nowhere");
}

static void test_parse_level(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        enum log_level want;
    } ok[] = {{"debug", LOG_DEBUG}, {"info", LOG_INFO}, {"warn", LOG_WARN}, {"error", LOG_ERROR}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        enum log_level lv = (enum log_level)99;
        assert_int_equal(log_level_parse(ok[i].s, &lv), 0);
        assert_int_equal(lv, ok[i].want);
    }
    static const char *const bad[] = {"",        "INFO",  "Info", "info ", " info",
                                      "warning", "fatal", "err",  "debug2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        enum log_level lv = LOG_ERROR;
        assert_int_equal(log_level_parse(bad[i], &lv), ERR_INVALID);
        assert_int_equal(lv, LOG_ERROR);
    }
}

static void test_parse_format(void **state)
{
    (void)state;
    enum log_format f = LOG_JSON;
    assert_int_equal(log_format_parse("text", &f), 0);
    assert_int_equal(f, LOG_TEXT);
    assert_int_equal(log_format_parse("json", &f), 0);
    assert_int_equal(f, LOG_JSON);
    static const char *const bad[] = {"", "JSON", "Text", "xml", "json ", "jsonl"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        f = LOG_JSON;
        assert_int_equal(log_format_parse(bad[i], &f), ERR_INVALID);
        assert_int_equal(f, LOG_JSON);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_format),
        cmocka_unit_test(test_text_one_line),
        cmocka_unit_test(test_text_long_message_cut),
        cmocka_unit_test(test_json_format),
        cmocka_unit_test(test_json_fields),
        cmocka_unit_test(test_json_too_long_stays_valid),
        cmocka_unit_test(test_level_filter),
        cmocka_unit_test(test_parse_level),
        cmocka_unit_test(test_parse_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
