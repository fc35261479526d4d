/* libFuzzer target: the template engine (template.h) on arbitrary template text.
 *
 * Each input is compiled; when it compiles, it is rendered against a small fixed data object
 * (strings, numbers, lists, nested objects, null) into a small capped buffer. Invariants: no
 * crash, hang or leak for any input; a failure always comes with a message that names a line
 * ("line N, column M: …"); a render never writes past the buffer's cap; a render of the same
 * template and data twice gives the same bytes (rendering has no hidden state).
 *
 *   ./fuzz_template -max_total_time=30 tests/fuzz/corpus/template
 */
#include "core/buf.h"
#include "core/err.h"
#include "fuzz_check.h"
#include "workflow/template.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char data_json[] =
    "{\"title\":\"Call \\\"mum\\\" <now>\",\"n\":3,\"f\":-2.5,\"ok\":true,\"none\":null,"
    "\"tags\":[\"home\",\"work\",\"\"],\"nums\":[3,1,2],"
    "\"tasks\":[{\"id\":\"t1\",\"title\":\"Milk\",\"done\":false,\"tags\":[\"a\"]},"
    "{\"id\":\"t2\",\"title\":\"Eggs\",\"done\":true,\"priority\":\"high\"}],"
    "\"user\":{\"name\":\"Ada\",\"age\":36,\"address\":{\"city\":\"Paris\"}}}";

static void render_once(const struct wf_template *t, const cJSON *d, struct buf *out, int *rc,
                        char *err, size_t errlen)
{
    buf_init(out, 64 * 1024);
    err[0] = '\0';
    *rc = wf_template_render(t, d, out, err, errlen);
    CHECK(out->len <= out->max);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cJSON *d; /* the fixed data, parsed once per process */
    if (!d)
        d = cJSON_Parse(data_json);
    CHECK(d != NULL);
    struct wf_template *t = NULL;
    char err[512];
    err[0] = '\0';
    int rc = wf_template_compile((const char *)data, size, &t, err, sizeof err);
    if (rc != 0) {
        CHECK(t == NULL);
        CHECK(rc == ERR_INVALID || rc == ERR_TOO_BIG || rc == ERR_DEPTH);
        CHECK(strncmp(err, "line ", 5) == 0);
        return 0;
    }
    struct buf a, b;
    char err2[512];
    int rc_a, rc_b;
    render_once(t, d, &a, &rc_a, err, sizeof err);
    render_once(t, d, &b, &rc_b, err2, sizeof err2);
    CHECK(rc_a == rc_b);
    if (rc_a != 0) {
        CHECK(rc_a == ERR_INVALID || rc_a == ERR_TOO_BIG);
        CHECK(strncmp(err, "line ", 5) == 0);
        CHECK(strcmp(err, err2) == 0);
    } else {
        CHECK(a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0));
    }
    buf_free(&a);
    buf_free(&b);
    wf_template_free(t);
    return 0;
}
