/* Unit tests for core/json_write: exact output, escaping, UTF-8 repair, sticky errors, and that
 * everything written parses back (with cJSON, an independent parser) to what went in. */
#include "core/buf.h"
#include "core/err.h"
#include "core/json_write.h"

#include <cjson/cJSON.h>
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define FFFD "\xEF\xBF\xBD"

/* Escapes len bytes of s as a standalone JSON string and returns the text (caller frees). The
 * input is copied to a heap block of exactly len bytes so AddressSanitizer sees any over-read,
 * e.g. of a truncated UTF-8 sequence at the end. */
static char *escape(const char *s, size_t len)
{
    struct buf b;
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, s, len);
    buf_init(&b, 1 << 20);
    assert_int_equal(json_escape_append(&b, copy, len), 0);
    free(copy);
    size_t n;
    char *out = buf_detach(&b, &n);
    assert_non_null(out);
    assert_int_equal(strlen(out), n); /* escaped output never contains a raw NUL */
    return out;
}

/* Asserts that json (NUL-terminated) is one JSON document according to cJSON. */
static cJSON *parse_ok(const char *json)
{
    cJSON *v = cJSON_ParseWithLength(json, strlen(json));
    if (!v)
        fail_msg("cJSON rejected: %s", json);
    return v;
}

/* Asserts that escaping in (in_len bytes) gives exactly want, and that want parses as a string
 * whose bytes are decoded (dec, dec_len; dec may not contain NUL since cJSON stops there). */
static void check_escape(const char *in, size_t in_len, const char *want, const char *dec)
{
    char *out = escape(in, in_len);
    assert_string_equal(out, want);
    cJSON *v = parse_ok(out);
    assert_true(cJSON_IsString(v));
    assert_string_equal(v->valuestring, dec);
    cJSON_Delete(v);
    free(out);
}

/* Runs a writer over a fresh buffer; the caller writes, then finish() checks and frees. */
struct doc {
    struct buf b;
    struct jw w;
};

static void doc_start(struct doc *d, size_t max)
{
    buf_init(&d->b, max);
    jw_init(&d->w, &d->b);
}

static void doc_expect(struct doc *d, const char *want)
{
    assert_int_equal(jw_error(&d->w), 0);
    assert_int_equal(jw_done(&d->w), 0);
    assert_non_null(d->b.data);
    assert_string_equal(d->b.data, want);
    assert_int_equal(d->b.len, strlen(want));
    cJSON_Delete(parse_ok(d->b.data));
    buf_free(&d->b);
}

static void test_nested_exact(void **state)
{
    (void)state;
    struct doc d;
    doc_start(&d, 4096);
    struct jw *w = &d.w;
    jw_obj_begin(w);
    jw_key(w, "a");
    jw_int(w, 1);
    jw_key(w, "b");
    jw_arr_begin(w);
    jw_bool(w, true);
    jw_bool(w, false);
    jw_null(w);
    jw_str(w, "x");
    jw_obj_begin(w);
    jw_key(w, "c");
    jw_arr_begin(w);
    jw_arr_end(w);
    jw_obj_end(w);
    jw_arr_end(w);
    jw_key(w, "d");
    jw_obj_begin(w);
    jw_obj_end(w);
    jw_kv_int(w, "e", -7);
    jw_kv_bool(w, "f", true);
    jw_kv_str(w, "g", "h");
    jw_obj_end(w);
    doc_expect(&d, "{\"a\":1,\"b\":[true,false,null,\"x\",{\"c\":[]}],\"d\":{},\"e\":-7,"
                   "\"f\":true,\"g\":\"h\"}");
}

static void test_array_commas(void **state)
{
    (void)state;
    struct doc d;
    doc_start(&d, 4096);
    struct jw *w = &d.w;
    jw_arr_begin(w);
    jw_int(w, 1);
    jw_uint(w, 2);
    jw_arr_begin(w);
    jw_int(w, 3);
    jw_arr_begin(w);
    jw_arr_end(w);
    jw_arr_end(w);
    jw_obj_begin(w);
    jw_obj_end(w);
    jw_arr_begin(w);
    jw_arr_begin(w);
    jw_arr_end(w);
    jw_arr_begin(w);
    jw_arr_end(w);
    jw_arr_end(w);
    jw_str(w, NULL);
    jw_arr_end(w);
    doc_expect(&d, "[1,2,[3,[]],{},[[],[]],null]");
}

static void test_scalar_documents(void **state)
{
    (void)state;
    struct doc d;
    doc_start(&d, 64);
    jw_str(&d.w, "only");
    doc_expect(&d, "\"only\"");
    doc_start(&d, 64);
    jw_int(&d.w, 5);
    doc_expect(&d, "5");
    doc_start(&d, 64);
    jw_null(&d.w);
    doc_expect(&d, "null");
}

static void test_appends_after_existing(void **state)
{
    (void)state;
    struct doc d;
    doc_start(&d, 64);
    assert_int_equal(buf_append_str(&d.b, "data: "), 0);
    jw_init(&d.w, &d.b);
    jw_obj_begin(&d.w);
    jw_kv_int(&d.w, "n", 1);
    jw_obj_end(&d.w);
    assert_int_equal(jw_done(&d.w), 0);
    assert_string_equal(d.b.data, "data: {\"n\":1}");
    buf_free(&d.b);
}

static void test_kv_str_null_omits(void **state)
{
    (void)state;
    struct doc d;
    doc_start(&d, 256);
    jw_obj_begin(&d.w);
    jw_kv_str(&d.w, "skip1", NULL);
    jw_kv_str(&d.w, "a", "x");
    jw_kv_str(&d.w, "skip2", NULL);
    jw_kv_str(&d.w, "c", "");
    jw_kv_str(&d.w, "skip3", NULL);
    jw_obj_end(&d.w);
    doc_expect(&d, "{\"a\":\"x\",\"c\":\"\"}");

    doc_start(&d, 256);
    jw_obj_begin(&d.w);
    jw_kv_str(&d.w, "only", NULL);
    jw_obj_end(&d.w);
    doc_expect(&d, "{}");
}

static void test_raw(void **state)
{
    (void)state;
    static const char stored[] = "{\"x\":[1,2]}";
    struct doc d;
    doc_start(&d, 256);
    jw_obj_begin(&d.w);
    jw_key(&d.w, "doc");
    jw_raw(&d.w, stored, strlen(stored));
    jw_key(&d.w, "list");
    jw_arr_begin(&d.w);
    jw_raw(&d.w, "1", 1);
    jw_raw(&d.w, "\"s\"", 3);
    jw_arr_end(&d.w);
    jw_obj_end(&d.w);
    doc_expect(&d, "{\"doc\":{\"x\":[1,2]},\"list\":[1,\"s\"]}");
}

static void test_keys_escaped(void **state)
{
    (void)state;
    struct doc d;
    doc_start(&d, 256);
    jw_obj_begin(&d.w);
    jw_key(&d.w, "q\"b\\");
    jw_int(&d.w, 1);
    jw_key_len(&d.w, "n\0l", 3);
    jw_int(&d.w, 2);
    jw_key(&d.w, "");
    jw_int(&d.w, 3);
    jw_obj_end(&d.w);
    doc_expect(&d, "{\"q\\\"b\\\\\":1,\"n\\u0000l\":2,\"\":3}");
}

static void test_escape_quote_backslash(void **state)
{
    (void)state;
    check_escape("a\"b\\c", 5, "\"a\\\"b\\\\c\"", "a\"b\\c");
    check_escape("", 0, "\"\"", "");
    check_escape("\\\\\"\"", 4, "\"\\\\\\\\\\\"\\\"\"", "\\\\\"\"");
    /* Forward slash and DEL need no escaping and are copied as they are. */
    check_escape("/\x7f>", 3, "\"/\x7f>\"", "/\x7f>");
}

static void test_escape_every_control_char(void **state)
{
    (void)state;
    for (int c = 0; c < 0x20; c++) {
        char in[3] = {'a', (char)c, 'b'};
        char want[16];
        /* Pairs of a control character and the letter of its short escape. */
        const char *short_form = strchr("\bb\tt\nn\ff\rr", c);
        if (c != 0 && short_form)
            snprintf(want, sizeof want, "\"a\\%cb\"", short_form[1]);
        else
            snprintf(want, sizeof want, "\"a\\u%04xb\"", (unsigned)c);
        char *out = escape(in, 3);
        assert_string_equal(out, want);
        cJSON *v = parse_ok(out);
        assert_true(cJSON_IsString(v));
        if (c == 0) {
            /* cJSON decodes \u0000 to a NUL and its C string stops there. */
            assert_memory_equal(v->valuestring, "a\0", 2);
        } else {
            assert_memory_equal(v->valuestring, in, 3);
            assert_int_equal(v->valuestring[3], '\0');
        }
        cJSON_Delete(v);
        free(out);
    }
    /* NUL specifically: escaped, never shortened or dropped. */
    check_escape("\0", 1, "\"\\u0000\"", "");
}

static void test_escape_script_safe(void **state)
{
    (void)state;
    static const char in[] = "</script><script>alert(1)</script><!--";
    char *out = escape(in, strlen(in));
    assert_null(strstr(out, "</"));
    assert_null(strstr(out, "<!--"));
    assert_null(strchr(out, '<'));
    cJSON *v = parse_ok(out);
    assert_string_equal(v->valuestring, in);
    cJSON_Delete(v);
    free(out);
    check_escape("a<b", 3, "\"a\\u003cb\"", "a<b");
}

static void test_escape_line_separators(void **state)
{
    (void)state;
    check_escape("\xE2\x80\xA8", 3, "\"\\u2028\"", "\xE2\x80\xA8");
    check_escape("\xE2\x80\xA9", 3, "\"\\u2029\"", "\xE2\x80\xA9");
    check_escape("x\xE2\x80\xA8y\xE2\x80\xA9z", 9, "\"x\\u2028y\\u2029z\"",
                 "x\xE2\x80\xA8y\xE2\x80\xA9z");
    /* Their neighbours U+2027 and U+202A are ordinary characters. */
    check_escape("\xE2\x80\xA7\xE2\x80\xAA", 6, "\"\xE2\x80\xA7\xE2\x80\xAA\"",
                 "\xE2\x80\xA7\xE2\x80\xAA");
}

static void test_escape_valid_utf8_raw(void **state)
{
    (void)state;
    static const char *const valid[] = {
        "\xC2\x80",         /* U+0080, smallest 2-byte */
        "\xC3\xA9",         /* é */
        "\xDF\xBF",         /* U+07FF, largest 2-byte */
        "\xE0\xA0\x80",     /* U+0800, smallest 3-byte */
        "\xE2\x82\xAC",     /* € */
        "\xED\x9F\xBF",     /* U+D7FF, just below the surrogates */
        "\xEE\x80\x80",     /* U+E000, just above them */
        "\xEF\xBF\xBD",     /* U+FFFD itself */
        "\xEF\xBF\xBF",     /* U+FFFF */
        "\xF0\x90\x80\x80", /* U+10000, smallest 4-byte */
        "\xF0\x9D\x84\x9E", /* musical G clef */
        "\xF0\x9F\x98\x80", /* grinning face emoji */
        "\xF4\x8F\xBF\xBF", /* U+10FFFF, the last code point */
        "h\xC3\xA9llo w\xC3\xB6rld \xF0\x9F\x91\x8B\xF0\x9F\x8F\xBD \xE4\xB8\xAD\xE6\x96\x87",
    };
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
        char want[128];
        snprintf(want, sizeof want, "\"%s\"", valid[i]);
        check_escape(valid[i], strlen(valid[i]), want, valid[i]);
    }
}

/* C0 80 is how json_read carries a NUL decoded from \u0000 (json_read.h): it goes back out as
 * \u0000, so text with NUL round-trips. */
static void test_escape_modified_utf8_nul(void **state)
{
    (void)state;
    char *out = escape("a\xC0\x80"
                       "b",
                       4);
    assert_string_equal(out, "\"a\\u0000b\"");
    free(out);
}

static void test_escape_invalid_utf8(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *want; /* the decoded string */
    } cases[] = {
        {"\x80", FFFD},                            /* lone continuation */
        {"a\xBF\x62", "a" FFFD "b"},               /* lone continuation mid-text */
        {"\xC0\xAF", FFFD FFFD},                   /* overlong '/' */
        {"\xC1\xBF", FFFD FFFD},                   /* overlong 0x7F */
        {"\xE0\x80\x80", FFFD FFFD FFFD},          /* overlong 3-byte */
        {"\xE0\x9F\xBF", FFFD FFFD FFFD},          /* overlong U+07FF */
        {"\xF0\x8F\xBF\xBF", FFFD FFFD FFFD FFFD}, /* overlong 4-byte */
        {"\xED\xA0\x80", FFFD FFFD FFFD},          /* U+D800 surrogate */
        {"\xED\xBF\xBF", FFFD FFFD FFFD},          /* U+DFFF surrogate */
        {"\xF4\x90\x80\x80", FFFD FFFD FFFD FFFD}, /* U+110000 */
        {"\xF5\x80\x80\x80", FFFD FFFD FFFD FFFD}, /* F5 lead */
        {"\xF8\x88\x80\x80\x80", FFFD FFFD FFFD FFFD FFFD},
        {"\xFE\xFF", FFFD FFFD},
        {"a\xE2\x82", "a" FFFD FFFD},      /* truncated at the end */
        {"\xF0\x9F\x98", FFFD FFFD FFFD},  /* truncated emoji */
        {"\xC3", FFFD},                    /* truncated 2-byte */
        {"\xE2\x82z", FFFD FFFD "z"},      /* interrupted by ASCII */
        {"\xC3\xC3\xA9", FFFD "\xC3\xA9"}, /* bad lead then a good char */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char want[64];
        snprintf(want, sizeof want, "\"%s\"", cases[i].want);
        check_escape(cases[i].in, strlen(cases[i].in), want, cases[i].want);
    }
}

static void test_escape_embedded_nul(void **state)
{
    (void)state;
    char *out = escape("a\0b\0", 4);
    assert_string_equal(out, "\"a\\u0000b\\u0000\"");
    cJSON_Delete(parse_ok(out));
    free(out);
}

/* Appends one random valid code point (no surrogates) as UTF-8; returns its length. */
static size_t put_random_cp(unsigned char *p, unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    unsigned r = *seed >> 8;
    uint32_t cp;
    switch (r % 4) {
    case 0:
        cp = r % 0x80;
        break;
    case 1:
        cp = 0x80 + r % (0x800 - 0x80);
        break;
    case 2:
        cp = 0x800 + r % (0x10000 - 0x800);
        break;
    default:
        cp = 0x10000 + r % (0x110000 - 0x10000);
        break;
    }
    if (cp >= 0xD800 && cp <= 0xDFFF)
        cp = 'S';
    if (cp == 0)
        cp = 'Z'; /* cJSON's valuestring cannot show it */
    if (cp < 0x80) {
        p[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        p[0] = (unsigned char)(0xC0 | cp >> 6);
        p[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        p[0] = (unsigned char)(0xE0 | cp >> 12);
        p[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        p[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    p[0] = (unsigned char)(0xF0 | cp >> 18);
    p[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    p[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    p[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

static void test_random_valid_utf8_round_trips(void **state)
{
    (void)state;
    unsigned seed = 12345;
    for (int round = 0; round < 2000; round++) {
        unsigned char in[256];
        size_t len = 0;
        int n = round % 40;
        for (int k = 0; k < n; k++)
            len += put_random_cp(in + len, &seed);
        in[len] = '\0';
        char *out = escape((const char *)in, len);
        cJSON *v = parse_ok(out);
        assert_true(cJSON_IsString(v));
        assert_int_equal(strlen(v->valuestring), len);
        assert_memory_equal(v->valuestring, in, len);
        cJSON_Delete(v);
        free(out);
    }
}

static void test_escape_cap_rolls_back(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 9);
    assert_int_equal(buf_append_str(&b, "abc"), 0);
    /* "\"\\n\\n\"" is 6 bytes: exactly fits 3 + 6 = 9. */
    assert_int_equal(json_escape_append(&b, "\n\n", 2), 0);
    assert_string_equal(b.data, "abc\"\\n\\n\"");
    buf_reset(&b);
    assert_int_equal(buf_append_str(&b, "abc"), 0);
    /* Three newlines need 8 bytes: fails, and nothing of it stays behind. */
    assert_int_equal(json_escape_append(&b, "\n\n\n", 3), ERR_TOO_BIG);
    assert_int_equal(b.len, 3);
    assert_string_equal(b.data, "abc");
    /* Failing on the closing quote also rolls back. */
    assert_int_equal(json_escape_append(&b, "12345", 5), ERR_TOO_BIG);
    assert_string_equal(b.data, "abc");
    assert_int_equal(json_escape_append(&b, "1234", 4), 0);
    assert_string_equal(b.data, "abc\"1234\"");
    buf_free(&b);

    /* A buffer with no room at all, never allocated. */
    buf_init(&b, 0);
    assert_int_equal(json_escape_append(&b, "", 0), ERR_TOO_BIG);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

static void test_sticky_too_big(void **state)
{
    (void)state;
    struct doc d;
    doc_start(&d, 16);
    struct jw *w = &d.w;
    jw_obj_begin(w);
    jw_key(w, "k");
    size_t before = d.b.len;
    jw_str(w, "this string does not fit");
    assert_int_equal(jw_error(w), ERR_TOO_BIG);
    assert_int_equal(d.b.len, before); /* the string was rolled back */
    assert_string_equal(d.b.data, "{\"k\":");
    /* Everything after is a no-op, even calls that would fit. */
    jw_str(w, "x");
    jw_key(w, "y");
    jw_int(w, 1);
    jw_obj_end(w);
    assert_int_equal(d.b.len, before);
    assert_int_equal(jw_error(w), ERR_TOO_BIG);
    assert_int_equal(jw_done(w), ERR_TOO_BIG);
    buf_free(&d.b);
}

static void test_too_big_on_every_call_kind(void **state)
{
    (void)state;
    /* Run the same document against every cap below its size: each must fail with
     * ERR_TOO_BIG, never write past the cap, and leave a prefix of the full output. */
    static const char full[] = "{\"a\":[1,-2,3.5,true,null,\"s\"],\"b\":{}}";
    for (size_t max = 0; max < sizeof full - 1; max++) {
        struct doc d;
        doc_start(&d, max);
        struct jw *w = &d.w;
        jw_obj_begin(w);
        jw_key(w, "a");
        jw_arr_begin(w);
        jw_int(w, 1);
        jw_int(w, -2);
        jw_double(w, 3.5);
        jw_bool(w, true);
        jw_null(w);
        jw_str(w, "s");
        jw_arr_end(w);
        jw_key(w, "b");
        jw_obj_begin(w);
        jw_obj_end(w);
        jw_obj_end(w);
        assert_int_equal(jw_error(w), ERR_TOO_BIG);
        assert_int_not_equal(jw_done(w), 0);
        assert_true(d.b.len <= max);
        if (d.b.len)
            assert_memory_equal(d.b.data, full, d.b.len);
        buf_free(&d.b);
    }
}

static void test_sticky_state_errors(void **state)
{
    (void)state;
    struct doc d;

    /* A value where a key belongs. */
    doc_start(&d, 256);
    jw_obj_begin(&d.w);
    jw_int(&d.w, 1);
    assert_int_equal(jw_error(&d.w), ERR_BAD_STATE);
    size_t len = d.b.len;
    jw_key(&d.w, "k");
    jw_int(&d.w, 2);
    jw_obj_end(&d.w);
    assert_int_equal(d.b.len, len);
    assert_int_equal(jw_error(&d.w), ERR_BAD_STATE);
    assert_int_equal(jw_done(&d.w), ERR_BAD_STATE);
    buf_free(&d.b);

    /* A key inside an array, and at the top level. */
    doc_start(&d, 256);
    jw_arr_begin(&d.w);
    jw_key(&d.w, "k");
    assert_int_equal(jw_error(&d.w), ERR_BAD_STATE);
    buf_free(&d.b);
    doc_start(&d, 256);
    jw_key(&d.w, "k");
    assert_int_equal(jw_error(&d.w), ERR_BAD_STATE);
    assert_int_equal(d.b.len, 0);
    buf_free(&d.b);

    /* Two keys in a row, a key left without its value, mismatched and extra closes. */
    doc_start(&d, 256);
    jw_obj_begin(&d.w);
    jw_key(&d.w, "a");
    jw_key(&d.w, "b");
    assert_int_equal(jw_error(&d.w), ERR_BAD_STATE);
    buf_free(&d.b);
    doc_start(&d, 256);
    jw_obj_begin(&d.w);
    jw_key(&d.w, "a");
    jw_obj_end(&d.w);
    assert_int_equal(jw_error(&d.w), ERR_BAD_STATE);
    buf_free(&d.b);
    doc_start(&d, 256);
    jw_obj_begin(&d.w);
    jw_arr_end(&d.w);
    assert_int_equal(jw_error(&d.w), ERR_BAD_STATE);
    buf_free(&d.b);
    doc_start(&d, 256);
    jw_arr_begin(&d.w);
    jw_arr_end(&d.w);
    jw_arr_end(&d.w);
    assert_int_equal(jw_error(&d.w), ERR_BAD_STATE);
    buf_free(&d.b);

    /* A second top-level value would make "1,2", which is not a document. */
    doc_start(&d, 256);
    jw_int(&d.w, 1);
    jw_int(&d.w, 2);
    assert_int_equal(jw_error(&d.w), ERR_BAD_STATE);
    assert_string_equal(d.b.data, "1");
    buf_free(&d.b);
    doc_start(&d, 256);
    jw_obj_begin(&d.w);
    jw_obj_end(&d.w);
    jw_arr_begin(&d.w);
    assert_int_equal(jw_error(&d.w), ERR_BAD_STATE);
    assert_string_equal(d.b.data, "{}");
    buf_free(&d.b);

    /* The first error is the one reported, even when a different one follows. */
    doc_start(&d, 8);
    jw_obj_begin(&d.w);
    jw_null(&d.w);
    jw_obj_end(&d.w);
    jw_str(&d.w, "longer than the cap allows");
    assert_int_equal(jw_error(&d.w), ERR_BAD_STATE);
    buf_free(&d.b);
}

static void test_depth_limit(void **state)
{
    (void)state;
    struct doc d;
    doc_start(&d, 4096);
    for (int i = 0; i < JW_MAX_DEPTH; i++)
        jw_arr_begin(&d.w);
    assert_int_equal(jw_error(&d.w), 0);
    size_t len = d.b.len;
    assert_int_equal(len, JW_MAX_DEPTH);
    jw_arr_begin(&d.w);
    assert_int_equal(jw_error(&d.w), ERR_DEPTH);
    assert_int_equal(d.b.len, len);
    for (int i = 0; i < JW_MAX_DEPTH + 1; i++)
        jw_arr_end(&d.w);
    assert_int_equal(d.b.len, len);
    assert_int_equal(jw_error(&d.w), ERR_DEPTH);
    assert_int_equal(jw_done(&d.w), ERR_DEPTH);
    buf_free(&d.b);

    /* Exactly JW_MAX_DEPTH levels, mixing objects and arrays, is a valid document. */
    doc_start(&d, 4096);
    for (int i = 0; i < JW_MAX_DEPTH; i++) {
        if (i % 2) {
            jw_arr_begin(&d.w);
        } else {
            jw_obj_begin(&d.w);
            jw_key(&d.w, "k");
        }
    }
    jw_int(&d.w, 0);
    for (int i = JW_MAX_DEPTH - 1; i >= 0; i--) {
        if (i % 2)
            jw_arr_end(&d.w);
        else
            jw_obj_end(&d.w);
    }
    assert_int_equal(jw_done(&d.w), 0);
    cJSON_Delete(parse_ok(d.b.data));
    buf_free(&d.b);
}

static void test_done_requires_closed(void **state)
{
    (void)state;
    struct doc d;
    doc_start(&d, 256);
    jw_obj_begin(&d.w);
    assert_int_equal(jw_error(&d.w), 0);
    assert_int_not_equal(jw_done(&d.w), 0);
    jw_key(&d.w, "a");
    jw_arr_begin(&d.w);
    assert_int_not_equal(jw_done(&d.w), 0);
    jw_arr_end(&d.w);
    assert_int_not_equal(jw_done(&d.w), 0);
    jw_obj_end(&d.w);
    assert_int_equal(jw_done(&d.w), 0);
    assert_string_equal(d.b.data, "{\"a\":[]}");
    buf_free(&d.b);
}

static void test_int64_extremes(void **state)
{
    (void)state;
    struct doc d;
    doc_start(&d, 256);
    jw_arr_begin(&d.w);
    jw_int(&d.w, INT64_MIN);
    jw_int(&d.w, INT64_MAX);
    jw_int(&d.w, 0);
    jw_int(&d.w, -1);
    jw_uint(&d.w, UINT64_MAX);
    jw_uint(&d.w, 0);
    jw_arr_end(&d.w);
    doc_expect(&d, "[-9223372036854775808,9223372036854775807,0,-1,18446744073709551615,0]");
}

/* Writes v alone and returns the text (caller frees). */
static char *write_double(double v)
{
    struct doc d;
    doc_start(&d, 64);
    jw_double(&d.w, v);
    assert_int_equal(jw_done(&d.w), 0);
    return buf_detach(&d.b, NULL);
}

static void test_double(void **state)
{
    (void)state;
    static const double values[] = {
        0.0,
        1.0,
        -1.0,
        0.5,
        0.1,
        0.2 + 0.1,
        1.0 / 3.0,
        2.0 / 3.0,
        123456789.125,
        1e300,
        -1e-300,
        5e-324,
        DBL_MIN,
        DBL_MAX,
        -DBL_MAX,
        9007199254740993.0,
        1e21,
        1e-7,
        3.141592653589793,
    };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char *out = write_double(values[i]);
        /* Exact round trip through text, both with strtod and with a JSON parser. */
        assert_true(strtod(out, NULL) == values[i]);
        cJSON *v = parse_ok(out);
        assert_true(cJSON_IsNumber(v));
        assert_true(v->valuedouble == values[i]);
        cJSON_Delete(v);
        free(out);
    }
    /* Short forms where they are exact. */
    static const struct {
        double v;
        const char *want;
    } exact[] = {{0.5, "0.5"},
                 {1.0, "1"},
                 {0.1, "0.1"},
                 {100.0, "100"},
                 {-2.25, "-2.25"},
                 {1e300, "1e+300"},
                 {0.1 + 0.2, "0.30000000000000004"}};
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++) {
        char *out = write_double(exact[i].v);
        assert_string_equal(out, exact[i].want);
        free(out);
    }
    char *out = write_double(-0.0);
    assert_true(strtod(out, NULL) == 0.0);
    cJSON_Delete(parse_ok(out));
    free(out);
}

static void test_double_non_finite(void **state)
{
    (void)state;
    struct doc d;
    doc_start(&d, 256);
    jw_arr_begin(&d.w);
    jw_double(&d.w, INFINITY);
    jw_double(&d.w, -INFINITY);
    jw_double(&d.w, NAN);
    jw_double(&d.w, 1.5);
    jw_arr_end(&d.w);
    doc_expect(&d, "[null,null,null,1.5]");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nested_exact),
        cmocka_unit_test(test_array_commas),
        cmocka_unit_test(test_scalar_documents),
        cmocka_unit_test(test_appends_after_existing),
        cmocka_unit_test(test_kv_str_null_omits),
        cmocka_unit_test(test_raw),
        cmocka_unit_test(test_keys_escaped),
        cmocka_unit_test(test_escape_quote_backslash),
        cmocka_unit_test(test_escape_every_control_char),
        cmocka_unit_test(test_escape_script_safe),
        cmocka_unit_test(test_escape_line_separators),
        cmocka_unit_test(test_escape_valid_utf8_raw),
        cmocka_unit_test(test_escape_invalid_utf8),
        cmocka_unit_test(test_escape_modified_utf8_nul),
        cmocka_unit_test(test_escape_embedded_nul),
        cmocka_unit_test(test_random_valid_utf8_round_trips),
        cmocka_unit_test(test_escape_cap_rolls_back),
        cmocka_unit_test(test_sticky_too_big),
        cmocka_unit_test(test_too_big_on_every_call_kind),
        cmocka_unit_test(test_sticky_state_errors),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_done_requires_closed),
        cmocka_unit_test(test_int64_extremes),
        cmocka_unit_test(test_double),
        cmocka_unit_test(test_double_non_finite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
