/* libFuzzer driver for core/json_write.
 *
 * Every input is written as an object key and as a string value. The document must parse with
 * cJSON; decoding the string with our own decoder (which, unlike cJSON's C strings, keeps NULs)
 * must give back the input when it is valid UTF-8, and otherwise the input with each byte that
 * does not start a well-formed sequence replaced by U+FFFD, computed here independently from the
 * Unicode table of well-formed byte sequences. The output must never hold a raw control byte,
 * '<', or a raw U+2028/U+2029. Then the same writes run against small caps, which must fail with
 * ERR_TOO_BIG and leave the buffer as it was.
 *
 *   clang -fsanitize=fuzzer,address,undefined -Isrc src/core/[a-z]*.c \
 *       tests/fuzz/fuzz_json_write.c -luv -lcjson -lcrypto -lm -o fuzz_json_write
 *   ./fuzz_json_write -max_total_time=30 tests/fuzz/corpus/json_write
 */
#include "core/buf.h"
#include "core/err.h"
#include "core/json_write.h"
#include "fuzz_check.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Length of the well-formed UTF-8 sequence at p (Unicode 15, table 3-7), or 0. */
static size_t wellformed_len(const uint8_t *p, size_t avail)
{
    uint8_t b0 = p[0];
    uint8_t lo = 0x80, hi = 0xBF;
    size_t n;
    if (b0 <= 0x7F)
        return 1;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        n = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        n = 3;
        if (b0 == 0xE0)
            lo = 0xA0;
        else if (b0 == 0xED)
            hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        n = 4;
        if (b0 == 0xF0)
            lo = 0x90;
        else if (b0 == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (avail < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    }
    return n;
}

/* What the writer should make of the input: a copy with every byte that starts no well-formed
 * sequence replaced by U+FFFD, except the pair C0 80, which is json_read's carried NUL and is
 * written as \u0000 (decoded here to a 0 byte). Returns the length in out (3 * size bytes are
 * enough). */
static size_t expected_text(const uint8_t *in, size_t size, uint8_t *out, bool *valid)
{
    size_t o = 0;
    *valid = true;
    for (size_t i = 0; i < size;) {
        size_t n = wellformed_len(in + i, size - i);
        if (n == 0 && in[i] == 0xC0 && i + 1 < size && in[i + 1] == 0x80) {
            out[o++] = 0;
            i += 2;
            *valid = false; /* not plain UTF-8: the exact-equality check does not apply */
        } else if (n == 0) {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
            *valid = false;
        } else {
            memcpy(out + o, in + i, n);
            o += n;
            i += n;
        }
    }
    return o;
}

static int hex_val(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes the JSON string literal at s (n bytes, quotes included) into out; returns the decoded
 * length, or -1 when it is not exactly one well-formed literal. The writer never needs surrogate
 * pairs (it copies astral characters raw), so a \u escape of a surrogate counts as malformed. */
static long decode_literal(const uint8_t *s, size_t n, uint8_t *out)
{
    size_t i = 1, o = 0;
    if (n < 2 || s[0] != '"' || s[n - 1] != '"')
        return -1;
    while (i < n - 1) {
        uint8_t c = s[i++];
        if (c == '"' || c < 0x20)
            return -1;
        if (c != '\\') {
            out[o++] = c;
            continue;
        }
        if (i >= n - 1)
            return -1;
        c = s[i++];
        if (c == 'u') {
            unsigned cp = 0;
            if (i + 4 > n - 1)
                return -1;
            for (int k = 0; k < 4; k++) {
                int h = hex_val(s[i++]);
                if (h < 0)
                    return -1;
                cp = cp << 4 | (unsigned)h;
            }
            if (cp >= 0xD800 && cp <= 0xDFFF)
                return -1;
            if (cp < 0x80) {
                out[o++] = (uint8_t)cp;
            } else if (cp < 0x800) {
                out[o++] = (uint8_t)(0xC0 | cp >> 6);
                out[o++] = (uint8_t)(0x80 | (cp & 0x3F));
            } else {
                out[o++] = (uint8_t)(0xE0 | cp >> 12);
                out[o++] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
                out[o++] = (uint8_t)(0x80 | (cp & 0x3F));
            }
        } else {
            static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
            const char *at = c ? strchr(from, c) : NULL;
            if (!at)
                return -1;
            out[o++] = (uint8_t)to[at - from];
        }
    }
    return (long)o;
}

/* The whole output must be safe to embed: valid UTF-8, no raw control bytes, no '<', no raw
 * line or paragraph separator. */
static void check_output_safe(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t k = wellformed_len(s + i, n - i);
        CHECK(k > 0);
        CHECK(s[i] >= 0x20 && s[i] != '<');
        CHECK(!(k == 3 && s[i] == 0xE2 && s[i + 1] == 0x80 &&
                (s[i + 2] == 0xA8 || s[i + 2] == 0xA9)));
        i += k;
    }
}

/* Writes {"<in>":"<in>","a":[<in>,1]} with a cap of max bytes after a "pre" prefix. */
static int write_doc(struct buf *b, size_t max, const uint8_t *in, size_t size)
{
    struct jw w;
    buf_init(b, max + 3);
    CHECK(buf_append(b, "pre", 3) == 0);
    jw_init(&w, b);
    jw_obj_begin(&w);
    jw_key_len(&w, (const char *)in, size);
    jw_str_len(&w, (const char *)in, size);
    jw_key(&w, "a");
    jw_arr_begin(&w);
    jw_str_len(&w, (const char *)in, size);
    jw_int(&w, 1);
    jw_arr_end(&w);
    jw_obj_end(&w);
    CHECK(jw_done(&w) == jw_error(&w) || jw_error(&w) == 0);
    return jw_done(&w);
}

/* With cap bytes of room after "pre", the literal must not fit and must leave no trace. */
static void check_cap_fails(const uint8_t *data, size_t size, size_t cap)
{
    struct buf b;
    buf_init(&b, 3 + cap);
    CHECK(buf_append(&b, "pre", 3) == 0);
    CHECK(json_escape_append(&b, (const char *)data, size) == ERR_TOO_BIG);
    CHECK(b.len == 3 && memcmp(b.data, "pre", 4) == 0);
    buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *want = malloc(3 * size + 1);
    bool valid;
    size_t want_len = expected_text(data, size, want, &valid);

    /* The literal on its own, decoded exactly (decoding never makes text longer). */
    struct buf lit;
    buf_init(&lit, SIZE_MAX);
    CHECK(json_escape_append(&lit, (const char *)data, size) == 0);
    check_output_safe((const uint8_t *)lit.data, lit.len);
    uint8_t *got = malloc(lit.len);
    long got_len = decode_literal((const uint8_t *)lit.data, lit.len, got);
    CHECK(got_len >= 0);
    CHECK((size_t)got_len == want_len);
    CHECK(memcmp(got, want, want_len) == 0);
    if (valid)
        CHECK(want_len == size && memcmp(got, data, size) == 0);

    /* As key and values of a document, checked with cJSON. */
    struct buf doc;
    CHECK(write_doc(&doc, SIZE_MAX - 3, data, size) == 0);
    check_output_safe((const uint8_t *)doc.data + 3, doc.len - 3);
    cJSON *root = cJSON_ParseWithLength(doc.data + 3, doc.len - 3);
    CHECK(root != NULL);
    CHECK(cJSON_IsObject(root) && cJSON_GetArraySize(root) == 2);
    const cJSON *member = root->child;
    const cJSON *arr = member->next; /* not a lookup: the input itself may be the key "a" */
    CHECK(cJSON_IsString(member) && cJSON_IsArray(arr) && cJSON_GetArraySize(arr) == 2);
    CHECK(strcmp(arr->string, "a") == 0);
    if (!memchr(want, 0, want_len)) {
        /* cJSON's strings stop at NUL, so compare only NUL-free text through it. */
        CHECK(strlen(member->string) == want_len && memcmp(member->string, want, want_len) == 0);
        CHECK(strlen(member->valuestring) == want_len &&
              memcmp(member->valuestring, want, want_len) == 0);
        CHECK(strcmp(arr->child->valuestring, member->valuestring) == 0);
    }
    cJSON_Delete(root);

    /* Every cap short of the full literal fails cleanly and rolls back. Small inputs try them
     * all; larger ones a spread of caps, and always the one a single byte short. */
    size_t full = lit.len;
    size_t step = full > 64 ? full / 16 : 1;
    for (size_t cap = 0; cap < full; cap += step)
        check_cap_fails(data, size, cap);
    check_cap_fails(data, size, full - 1);
    struct buf exact;
    buf_init(&exact, 3 + full);
    CHECK(buf_append(&exact, "pre", 3) == 0);
    CHECK(json_escape_append(&exact, (const char *)data, size) == 0);
    CHECK(exact.len == 3 + full && memcmp(exact.data + 3, lit.data, full) == 0);
    buf_free(&exact);

    /* The whole document under a cap taken from the input: either it fits and matches, or it
     * fails with ERR_TOO_BIG and what was written is a prefix of the full document. */
    size_t cap = size ? (data[0] * 7u + size) % (doc.len - 2) : 0;
    struct buf small;
    int rc = write_doc(&small, cap, data, size);
    CHECK(rc == 0 || rc == ERR_TOO_BIG);
    CHECK(small.len <= cap + 3);
    CHECK(memcmp(small.data, doc.data, small.len) == 0);
    if (rc == 0)
        CHECK(small.len == doc.len);
    buf_free(&small);

    buf_free(&doc);
    buf_free(&lit);
    free(want);
    free(got);
    return 0;
}
