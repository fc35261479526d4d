/* The variadic setters are defined here under their own names, so curl's type-checking macros
 * (which would rename them) stay off in this file. */
#define CURL_DISABLE_TYPECHECK 1

#include "net/curl_lazy.h"

#include "core/dynlib.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

/* The fixed-argument functions chatkitd calls: return type, name, parameters, arguments. */
#define CURL_FUNCTIONS(X)                                                                          \
    X(CURLcode, curl_global_init, (long flags), (flags))                                           \
    X(struct curl_slist *, curl_slist_append, (struct curl_slist * list, const char *data),        \
      (list, data))                                                                                \
    X(CURL *, curl_easy_init, (void), ())                                                          \
    X(const char *, curl_easy_strerror, (CURLcode code), (code))                                   \
    X(CURLcode, curl_easy_pause, (CURL * handle, int bitmask), (handle, bitmask))                  \
    X(CURLM *, curl_multi_init, (void), ())                                                        \
    X(CURLMcode, curl_multi_add_handle, (CURLM * multi, CURL * easy), (multi, easy))               \
    X(CURLMcode, curl_multi_remove_handle, (CURLM * multi, CURL * easy), (multi, easy))            \
    X(CURLMcode, curl_multi_cleanup, (CURLM * multi), (multi))                                     \
    X(CURLMsg *, curl_multi_info_read, (CURLM * multi, int *msgs_in_queue),                        \
      (multi, msgs_in_queue))                                                                      \
    X(CURLMcode, curl_multi_socket_action,                                                         \
      (CURLM * multi, curl_socket_t s, int ev_bitmask, int *running_handles),                      \
      (multi, s, ev_bitmask, running_handles))                                                     \
    X(CURLMcode, curl_multi_assign, (CURLM * multi, curl_socket_t sockfd, void *sockp),            \
      (multi, sockfd, sockp))

#define CURL_PROCEDURES(X)                                                                         \
    X(curl_global_cleanup, (void), ())                                                             \
    X(curl_slist_free_all, (struct curl_slist * list), (list))                                     \
    X(curl_easy_cleanup, (CURL * curl), (curl))

#define FUNCTION_SLOT(ret, name, params, args)   ret(*name) params;
#define PROCEDURE_SLOT(name, params, args)       void(*name) params;
#define FUNCTION_SYMBOL(ret, name, params, args) {#name, (void **)&api.name},
#define PROCEDURE_SYMBOL(name, params, args)     {#name, (void **)&api.name},
#define FUNCTION_TRAMPOLINE(ret, name, params, args)                                               \
    ret name params                                                                                \
    {                                                                                              \
        return api.name args;                                                                      \
    }
#define PROCEDURE_TRAMPOLINE(name, params, args)                                                   \
    void name params                                                                               \
    {                                                                                              \
        if (api.name) /* nothing was loaded, so nothing to free */                                 \
            api.name args;                                                                         \
    }

static struct {
    CURL_FUNCTIONS(FUNCTION_SLOT)
    CURL_PROCEDURES(PROCEDURE_SLOT)
    CURLcode (*curl_easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*curl_easy_getinfo)(CURL *, CURLINFO, ...);
    CURLMcode (*curl_multi_setopt)(CURLM *, CURLMoption, ...);
} api;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_status;
static char curl_error[256];

static void curl_load_once(void)
{
    static const char *const sonames[] = {"libcurl.so.4", "libcurl-gnutls.so.4", NULL};
    const struct dynlib_symbol syms[] = {
        CURL_FUNCTIONS(FUNCTION_SYMBOL)
            CURL_PROCEDURES(PROCEDURE_SYMBOL){"curl_easy_setopt", (void **)&api.curl_easy_setopt},
        {"curl_easy_getinfo", (void **)&api.curl_easy_getinfo},
        {"curl_multi_setopt", (void **)&api.curl_multi_setopt}};
    curl_status =
        dynlib_open(sonames, syms, sizeof syms / sizeof syms[0], curl_error, sizeof curl_error);
}

int curl_lazy_load(char *err, size_t errlen)
{
    pthread_once(&curl_once, curl_load_once);
    if (curl_status)
        snprintf(err, errlen, "HTTP client library: %s", curl_error);
    return curl_status;
}

CURL_FUNCTIONS(FUNCTION_TRAMPOLINE)
CURL_PROCEDURES(PROCEDURE_TRAMPOLINE)

/* The option number says the argument's type (curl.h's CURLOPTTYPE_* ranges), exactly as libcurl
 * itself reads it: long, a pointer (objects, strings, lists and callbacks alike), curl_off_t, or
 * a blob pointer. */
CURLcode curl_easy_setopt(CURL *curl, CURLoption option, ...)
{
    va_list ap;
    va_start(ap, option);
    CURLcode rc;
    if (option < CURLOPTTYPE_OBJECTPOINT)
        rc = api.curl_easy_setopt(curl, option, va_arg(ap, long));
    else if (option >= CURLOPTTYPE_OFF_T && option < CURLOPTTYPE_BLOB)
        rc = api.curl_easy_setopt(curl, option, va_arg(ap, curl_off_t));
    else
        rc = api.curl_easy_setopt(curl, option, va_arg(ap, void *));
    va_end(ap);
    return rc;
}

CURLMcode curl_multi_setopt(CURLM *multi, CURLMoption option, ...)
{
    va_list ap;
    va_start(ap, option);
    CURLMcode rc;
    if (option < CURLOPTTYPE_OBJECTPOINT)
        rc = api.curl_multi_setopt(multi, option, va_arg(ap, long));
    else if (option >= CURLOPTTYPE_OFF_T && option < CURLOPTTYPE_BLOB)
        rc = api.curl_multi_setopt(multi, option, va_arg(ap, curl_off_t));
    else
        rc = api.curl_multi_setopt(multi, option, va_arg(ap, void *));
    va_end(ap);
    return rc;
}

/* Every CURLINFO takes a pointer to where the answer goes. */
CURLcode curl_easy_getinfo(CURL *curl, CURLINFO info, ...)
{
    va_list ap;
    va_start(ap, info);
    CURLcode rc = api.curl_easy_getinfo(curl, info, va_arg(ap, void *));
    va_end(ap);
    return rc;
}
