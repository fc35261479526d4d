/* libFuzzer target: the ChatKit request decoder (bytes of a POST /chatkit body).
 *
 * Invariants: no crash or leak for any input; a decoded request has a known type and the
 * fields its type requires; a rejected one leaves nothing allocated and a message. */
#include "chatkit/request.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ck_request r;
    char err[300];
    err[0] = '\0';
    if (ck_request_decode((const char *)data, size, &r, err, sizeof err) != 0) {
        if (r.doc || !err[0])
            abort();
        return 0;
    }
    if (r.type >= CK_TYPE_COUNT || !r.doc || !r.params)
        abort();
    if ((r.type == CK_THREADS_CREATE || r.type == CK_THREADS_ADD_USER_MESSAGE) && !r.input)
        abort();
    if (r.type != CK_THREADS_CREATE && r.type != CK_THREADS_LIST &&
        r.type != CK_ATTACHMENTS_CREATE && r.type != CK_ATTACHMENTS_DELETE &&
        r.type != CK_INPUT_TRANSCRIBE && !r.thread_id)
        abort();
    ck_request_free(&r);
    return 0;
}
