/* curl_lazy.h - libcurl, loaded when the first outbound HTTP call starts (core/dynlib.h says
 * why). curl_lazy.c defines the libcurl functions chatkitd uses as trampolines into the library
 * loaded here, so http_client.c calls them as usual.
 *
 * Every curl_* call must come after a successful curl_lazy_load(); http_client.c calls it before
 * curl_global_init.
 *
 * The table of entry points is process-wide state, like the library itself: written once under
 * pthread_once, read-only afterwards.
 */
#ifndef CHATKITD_NET_CURL_LAZY_H
#define CHATKITD_NET_CURL_LAZY_H

#include <stddef.h>

/* Loads libcurl.so.4 once. 0, or ERR_UNAVAILABLE with the reason in err (every call repeats it). */
int curl_lazy_load(char *err, size_t errlen);

#endif
