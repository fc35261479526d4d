/* err.h - the error codes every chatkitd module returns.
 *
 * Functions return int: 0 on success, a negative ERR_* code (or a negative errno passed through
 * from libuv) on failure. err_str() turns either kind into a short static English phrase.
 */
#ifndef CHATKITD_ERR_H
#define CHATKITD_ERR_H

enum {
    ERR_OK = 0,
    /* Our own codes live below libuv's range (libuv uses -1 .. -4095). */
    ERR_NOMEM = -10001,   /* allocation refused (only where a caller can recover) */
    ERR_TOO_BIG = -10002, /* a capped buffer or limit would be exceeded */
    ERR_INVALID = -10003, /* malformed input */
    ERR_NOT_FOUND = -10004,
    ERR_EXISTS = -10005,
    ERR_IO = -10006,          /* file or database I/O failed */
    ERR_UNAVAILABLE = -10007, /* a dependency (store, upstream) is down or shutting down */
    ERR_CLOSED = -10008,      /* the peer or object is gone */
    ERR_TIMEOUT = -10009,
    ERR_DEPTH = -10010,     /* nesting deeper than allowed */
    ERR_BAD_STATE = -10011, /* call not valid in the object's current state */
};

/* A short description of code: one of ours or a libuv/errno code; never NULL. */
const char *err_str(int code);

#endif
