#include "core/err.h"

#include <string.h>
#include <uv.h>

const char *err_str(int code)
{
    switch (code) {
    case ERR_OK:
        return "ok";
    case ERR_NOMEM:
        return "out of memory";
    case ERR_TOO_BIG:
        return "too large";
    case ERR_INVALID:
        return "invalid input";
    case ERR_NOT_FOUND:
        return "not found";
    case ERR_EXISTS:
        return "already exists";
    case ERR_IO:
        return "I/O error";
    case ERR_UNAVAILABLE:
        return "unavailable";
    case ERR_CLOSED:
        return "closed";
    case ERR_TIMEOUT:
        return "timed out";
    case ERR_DEPTH:
        return "nested too deeply";
    case ERR_BAD_STATE:
        return "not allowed in this state";
    default:
        break;
    }
    if (code < 0 && code > -4096) {
        /* uv_strerror() mallocs (and never frees) its answer for a code it does not know, so
         * ask it only about codes uv_err_name_r() recognises; that one formats unknown codes
         * into our buffer instead. */
        char name[64];
        uv_err_name_r(code, name, sizeof name);
        if (strncmp(name, "Unknown system error", 20) != 0)
            return uv_strerror(code);
    }
    return "unknown error";
}
