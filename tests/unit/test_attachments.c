/* Unit tests of the attachment module's pure parts: file name and MIME type validation, the
 * allow-list patterns, and the multipart/form-data parser (well-formed bodies, binary content,
 * and every malformed shape refused). */
#include "chatkit/attachments.h"
#include "core/err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static int name_rc(const char *s)
{
    return attachments_check_name(s, strlen(s));
}

static void test_names(void **state)
{
    (void)state;
    assert_int_equal(name_rc("cat.png"), 0);
    assert_int_equal(name_rc("Übersicht 2026 (final).pdf"), 0);
    assert_int_equal(name_rc("\xf0\x9f\x98\x80.txt"), 0);
    assert_int_equal(name_rc("C:\\Users\\a.txt"), 0); /* a backslash is a file name byte */
    assert_int_equal(name_rc(""), ERR_INVALID);
    assert_int_equal(name_rc("a/b.txt"), ERR_INVALID);
    assert_int_equal(name_rc("a\tb"), ERR_INVALID);
    assert_int_equal(name_rc("a\nb"), ERR_INVALID);
    assert_int_equal(name_rc("a\x7f"), ERR_INVALID);
    assert_int_equal(name_rc("a\xc2\x85"), ERR_INVALID); /* U+0085, a C1 control */
    assert_int_equal(name_rc("a\xc2\xa0"), 0);           /* U+00A0 is printable */
    assert_int_equal(name_rc("\xff.txt"), ERR_INVALID);
    assert_int_equal(name_rc("\xc0\x80"), ERR_INVALID);     /* overlong NUL */
    assert_int_equal(name_rc("\xed\xa0\x80"), ERR_INVALID); /* a surrogate */
    assert_int_equal(name_rc("\xe2\x82"), ERR_INVALID);     /* truncated */
    assert_int_equal(attachments_check_name("a\0b", 3), ERR_INVALID);
    char longest[ATTACHMENTS_NAME_MAX + 2];
    memset(longest, 'x', sizeof longest);
    assert_int_equal(attachments_check_name(longest, ATTACHMENTS_NAME_MAX), 0);
    assert_int_equal(attachments_check_name(longest, ATTACHMENTS_NAME_MAX + 1), ERR_INVALID);
}

static void test_mime_base(void **state)
{
    (void)state;
    char out[ATTACHMENTS_MIME_MAX + 1];
    const char *m = "Text/Plain; charset=UTF-8";
    assert_int_equal(attachments_mime_base(m, strlen(m), out), 0);
    assert_string_equal(out, "text/plain");
    m = "  image/svg+xml  ";
    assert_int_equal(attachments_mime_base(m, strlen(m), out), 0);
    assert_string_equal(out, "image/svg+xml");
    m = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    assert_int_equal(attachments_mime_base(m, strlen(m), out), 0);
    static const char *const bad[] = {
        "",     "image",       "image/",       "/png", "a/b/c", "image/p ng", "image/png\r\nX: y",
        ";a/b", "im\"age/png", "image/pn\x80g"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(attachments_mime_base(bad[i], strlen(bad[i]), out), ERR_INVALID);
    char big[ATTACHMENTS_MIME_MAX + 8];
    memset(big, 'a', sizeof big);
    big[1] = '/';
    assert_int_equal(attachments_mime_base(big, ATTACHMENTS_MIME_MAX, out), 0);
    assert_int_equal(attachments_mime_base(big, ATTACHMENTS_MIME_MAX + 1, out), ERR_INVALID);
}

static void test_type_allowed(void **state)
{
    (void)state;
    const char *list = "image/png,Image/JPEG, application/pdf,text/*";
    assert_true(attachments_type_allowed(list, "image/png"));
    assert_true(attachments_type_allowed(list, "image/jpeg"));
    assert_true(attachments_type_allowed(list, "application/pdf"));
    assert_true(attachments_type_allowed(list, "text/csv"));
    assert_true(attachments_type_allowed(list, "text/plain"));
    assert_false(attachments_type_allowed(list, "image/gif"));
    assert_false(attachments_type_allowed(list, "image/pngx"));
    assert_false(attachments_type_allowed(list, "image/pn"));
    assert_false(attachments_type_allowed(list, "application/pdfx"));
    assert_false(attachments_type_allowed(list, "textual/plain"));
    assert_false(attachments_type_allowed(list, "tex/plain"));
    assert_true(attachments_type_allowed("*/*", "video/mp4"));
    assert_false(attachments_type_allowed("", "image/png"));
    assert_false(attachments_type_allowed(NULL, "image/png"));
}

/* Parses body with the given Content-Type. */
static int parse(const char *ct, const char *body, size_t len, struct attachments_part *p)
{
    return attachments_multipart_file(ct, strlen(ct), body, len, p);
}

#define CT "multipart/form-data; boundary=----WebKitFormBoundaryx7Y"
#define B  "------WebKitFormBoundaryx7Y"

static void test_multipart_browser_shape(void **state)
{
    (void)state;
    static const char body[] = B "\r\n"
                                 "Content-Disposition: form-data; name=\"purpose\"\r\n\r\n"
                                 "chat\r\n" B "\r\n"
                                 "Content-Disposition: form-data; name=\"file\"; "
                                 "filename=\"cat %22one%22.png\"\r\n"
                                 "Content-Type: image/png\r\n\r\n"
                                 "\x89PNG\r\n\x1a\n\0\0\r\n--" /* binary, with a near-delimiter */
                                 "\r\n" B "--\r\n";
    struct attachments_part p;
    assert_int_equal(parse(CT, body, sizeof body - 1, &p), 0);
    assert_int_equal(p.len, 14);
    assert_memory_equal(p.data, "\x89PNG\r\n\x1a\n\0\0\r\n--", 14);
    assert_non_null(p.filename);
    assert_int_equal(p.filename_len, strlen("cat %22one%22.png"));
    assert_non_null(p.content_type);
    assert_int_equal(p.content_type_len, 9);
    assert_memory_equal(p.content_type, "image/png", 9);
    char name[64];
    assert_int_equal(attachments_decode_filename(p.filename, p.filename_len, name, sizeof name),
                     13);
    assert_string_equal(name, "cat \"one\".png");
    assert_int_equal(attachments_decode_filename(p.filename, p.filename_len, name, 13),
                     ERR_TOO_BIG);
}

static void test_multipart_variants(void **state)
{
    (void)state;
    struct attachments_part p;
    /* Quoted boundary, a preamble, lower-case header names, transport padding after a delimiter,
     * no filename and no Content-Type, an empty epilogue-less close. */
    static const char b1[] = "preamble text\r\n--xyz  \r\n"
                             "content-disposition: form-data; name=file\r\n\r\n"
                             "hello\r\n--xyz--";
    assert_int_equal(
        parse("Multipart/Form-Data; charset=utf-8; boundary=\"xyz\"", b1, sizeof b1 - 1, &p), 0);
    assert_int_equal(p.len, 5);
    assert_memory_equal(p.data, "hello", 5);
    assert_null(p.filename);
    assert_null(p.content_type);
    /* An empty file is a part like any other. */
    static const char b2[] = "--xyz\r\nContent-Disposition: form-data; name=\"file\"; "
                             "filename=\"e.txt\"\r\n\r\n\r\n--xyz--\r\n";
    assert_int_equal(parse("multipart/form-data; boundary=xyz", b2, sizeof b2 - 1, &p), 0);
    assert_int_equal(p.len, 0);
    /* The name parameter must match exactly: "files" and filename="file" are other fields. */
    static const char b3[] = "--xyz\r\nContent-Disposition: form-data; name=\"files\"; "
                             "filename=\"file\"\r\n\r\nx\r\n--xyz--\r\n";
    assert_int_equal(parse("multipart/form-data; boundary=xyz", b3, sizeof b3 - 1, &p),
                     ERR_NOT_FOUND);
}

static void test_multipart_rejections(void **state)
{
    (void)state;
    struct attachments_part p;
    const char *ok_ct = "multipart/form-data; boundary=xyz";
    static const char good[] = "--xyz\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n"
                               "x\r\n--xyz--\r\n";
    assert_int_equal(parse(ok_ct, good, sizeof good - 1, &p), 0);
    /* Content types that are not multipart/form-data with a usable boundary. */
    static const char *const bad_ct[] = {
        "application/octet-stream",
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=\"xyz",
        "multipart/mixed; boundary=xyz",
        "multipart/form-datax; boundary=xyz",
        ("multipart/form-data; boundary=0123456789012345678901234567890123456789012345678901234567"
         "890123456789012"),
    };
    for (size_t i = 0; i < sizeof bad_ct / sizeof bad_ct[0]; i++)
        assert_int_equal(parse(bad_ct[i], good, sizeof good - 1, &p), ERR_INVALID);
    assert_int_equal(attachments_multipart_file(NULL, 0, good, sizeof good - 1, &p), ERR_INVALID);
    /* Malformed bodies. */
    static const char *const bad[] = {
        "",
        "no delimiter at all",
        "--xyz", /* ends right after the first delimiter */
        "--xyz\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nx",        /* no closing */
        "--xyz\r\nContent-Disposition: form-data; name=\"file\"\r\nx\r\n--xyz--", /* no blank */
        "--xyzJUNK\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nx\r\n--xyz--",
        "--xyz\r\nNo colon here\r\n\r\nx\r\n--xyz--",
        "--xyz\r\nContent-Disposition: attachment; name=\"file\"\r\n\r\nx\r\n--xyz--",
        "--xyz\r\nContent-Disposition: form-data; name=\"file\r\n\r\nx\r\n--xyz--",
        "--xyz\r\nContent-Disposition: form-data; name\r\n\r\nx\r\n--xyz--",
        "--xyz\r\nContent-Disposition: form-data; name=\"file\"x\r\n\r\nx\r\n--xyz--",
        /* two file parts: which one would be meant? */
        ("--xyz\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\na\r\n"
         "--xyz\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nb\r\n--xyz--"),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = parse(ok_ct, bad[i], strlen(bad[i]), &p);
        if (rc != ERR_INVALID)
            fail_msg("body %zu: %d", i, rc);
    }
    /* No file part at all. */
    static const char none[] = "--xyz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
                               "x\r\n--xyz--\r\n";
    assert_int_equal(parse(ok_ct, none, sizeof none - 1, &p), ERR_NOT_FOUND);
    static const char empty[] = "--xyz--\r\n";
    assert_int_equal(parse(ok_ct, empty, sizeof empty - 1, &p), ERR_NOT_FOUND);
}

/* A header block without end, or longer than the cap, is refused rather than scanned forever. */
static void test_multipart_header_cap(void **state)
{
    (void)state;
    size_t n = 64 * 1024;
    char *body = malloc(n);
    assert_non_null(body);
    size_t off = (size_t)snprintf(body, n, "--xyz\r\n");
    while (off + 15 + 12 <= n) {
        memcpy(body + off, "X-Pad: aaaaaa\r\n", 15);
        off += 15;
    }
    memcpy(body + off, "\r\nx\r\n--xyz--", 12);
    off += 12;
    struct attachments_part p;
    assert_int_equal(
        attachments_multipart_file("multipart/form-data; boundary=xyz", 33, body, off, &p),
        ERR_INVALID);
    free(body);
}

/* Every prefix of a valid body is refused or parsed, never read past its end (ASan checks). */
static void test_multipart_prefixes(void **state)
{
    (void)state;
    static const char body[] = "--xyz\r\nContent-Disposition: form-data; name=\"file\"; "
                               "filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\n"
                               "hello\r\n--xyz--\r\n";
    for (size_t len = 0; len < sizeof body - 1; len++) {
        char *copy = malloc(len ? len : 1);
        assert_non_null(copy);
        memcpy(copy, body, len);
        struct attachments_part p;
        int rc = attachments_multipart_file("multipart/form-data; boundary=xyz", 33, copy, len, &p);
        assert_true(rc == ERR_INVALID || rc == ERR_NOT_FOUND || rc == 0);
        if (rc == 0)
            assert_int_equal(p.len, 5);
        free(copy);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_mime_base),
        cmocka_unit_test(test_type_allowed),
        cmocka_unit_test(test_multipart_browser_shape),
        cmocka_unit_test(test_multipart_variants),
        cmocka_unit_test(test_multipart_rejections),
        cmocka_unit_test(test_multipart_header_cap),
        cmocka_unit_test(test_multipart_prefixes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
