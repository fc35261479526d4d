/* libFuzzer target: the expression language (expr.h) on arbitrary source text.
 *
 * Each input is compiled; when it compiles, it is evaluated against a fixed scope with state,
 * input and last (the if_else variables). Invariants: no crash, hang or leak; failures come
 * with a message naming a column; a successful evaluation yields a value that prints as JSON;
 * evaluating twice gives equal values, and wf_expr_eval_bool agrees with the value's truthiness.
 *
 *   ./fuzz_expr -max_total_time=30 tests/fuzz/corpus/expr
 */
#include "core/err.h"
#include "fuzz_check.h"
#include "workflow/expr.h"
#include "workflow/filters.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char scope_json[] =
    "{\"state\":{\"count\":3,\"name\":\"Ada\",\"tags\":[\"home\",\"work\"],\"done\":false,"
    "\"n\":null,\"o\":{\"a\":1,\"b\":[1,2]}},\"input\":\"add milk tomorrow\","
    "\"last\":{\"tasks\":[{\"title\":\"Call mum\",\"priority\":\"high\",\"done\":true},"
    "{\"title\":\"Milk\",\"priority\":\"low\"}],\"kind\":\"list\",\"score\":0.75}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cJSON *scope; /* parsed once per process */
    if (!scope)
        scope = cJSON_Parse(scope_json);
    CHECK(scope != NULL);
    struct wf_expr *e = NULL;
    char err[512];
    err[0] = '\0';
    int rc = wf_expr_compile((const char *)data, size, &e, err, sizeof err);
    if (rc != 0) {
        CHECK(e == NULL);
        CHECK(rc == ERR_INVALID || rc == ERR_TOO_BIG || rc == ERR_DEPTH);
        CHECK(strncmp(err, "column ", 7) == 0);
        return 0;
    }
    cJSON *a = NULL, *b = NULL;
    int rc_a = wf_expr_eval(e, scope, &a, err, sizeof err);
    int rc_b = wf_expr_eval(e, scope, &b, err, sizeof err);
    CHECK(rc_a == rc_b);
    if (rc_a == 0) {
        CHECK(a != NULL && b != NULL);
        CHECK(wf_value_equal(a, b) || (cJSON_IsNumber(a) && a->valuedouble != a->valuedouble));
        char *printed = cJSON_PrintUnformatted(a);
        CHECK(printed != NULL);
        free(printed);
        bool truth;
        CHECK(wf_expr_eval_bool(e, scope, &truth, err, sizeof err) == 0);
        CHECK(truth == wf_expr_truthy(a));
    } else {
        CHECK(a == NULL);
        CHECK(rc_a == ERR_INVALID || rc_a == ERR_TOO_BIG);
        CHECK(strncmp(err, "column ", 7) == 0);
    }
    cJSON_Delete(a);
    cJSON_Delete(b);
    wf_expr_free(e);
    return 0;
}
