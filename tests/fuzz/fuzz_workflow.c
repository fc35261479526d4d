/* libFuzzer target: the workflow file parser (bytes of a workflow JSON file).
 *
 * Invariants: no crash, leak or hang for any input; a rejected file returns ERR_INVALID with at
 * least one "file: $...: reason" line and no workflow; an accepted one has a start node whose
 * edges stay inside the graph, and no error text. */
#include "core/buf.h"
#include "core/err.h"
#include "workflow/workflow.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf errors;
    buf_init(&errors, WF_ERRORS_MAX);
    struct workflow *w = NULL;
    int rc = workflow_parse("fuzz.json", (const char *)data, size, &w, &errors);
    if (rc) {
        if (rc != ERR_INVALID || w || errors.len == 0 ||
            strncmp(errors.data, "fuzz.json: $", 12) != 0)
            abort();
    } else {
        if (!w || errors.len || w->start < 0 || (size_t)w->start >= w->nnodes)
            abort();
        for (size_t i = 0; i < w->nnodes; i++) {
            if (w->nodes[i].next >= (int)w->nnodes || w->nodes[i].alt >= (int)w->nnodes)
                abort();
        }
        workflow_unref(w);
    }
    buf_free(&errors);
    return 0;
}
