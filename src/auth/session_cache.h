/* session_cache.h - recently resolved client secrets, so a request needs no store round trip.
 *
 * Every protocol request carries the session's client secret; resolving it through the store
 * costs a reader-thread round trip per request (bench/README.md). The cache keeps the session of
 * each secret hash for a short time (ttl). Nothing it holds can outlive the truth for long:
 * expiry is checked by the caller on every use against the session's own expires_at, a cancel
 * through this process drops the entry at once, and other processes' cancels are seen within
 * ttl (the only staleness, and only with several replicas).
 *
 * Ownership: entries own copies of the session's strings; the cache owns its entries. An entry
 * keeps the session's short strings right-sized (there is one per user: a struct store_session
 * is mostly empty fixed-size arrays), and session_cache_get rebuilds the full struct in view.
 */
#ifndef CHATKITD_AUTH_SESSION_CACHE_H
#define CHATKITD_AUTH_SESSION_CACHE_H

#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

struct session_cache_entry;

struct session_cache {
    struct session_cache_entry **slots; /* owned; chained hash table */
    size_t nslots;
    size_t count;
    size_t max_entries;
    int64_t ttl_us;
    struct store_session view; /* the session session_cache_get returned last */
};

void session_cache_init(struct session_cache *c, size_t max_entries, int64_t ttl_us);
void session_cache_free(struct session_cache *c);
/* The cached session for hash at now_us, or NULL when absent or older than ttl. The pointer (into
 * c->view; its JSON strings are the entry's) is valid until the next call on the cache. */
const struct store_session *session_cache_get(struct session_cache *c,
                                              const unsigned char hash[STORE_HASH_LEN],
                                              int64_t now_us);
/* Stores a copy of s (keyed by its secret_hash), replacing an older entry. */
void session_cache_put(struct session_cache *c, const struct store_session *s, int64_t now_us);
/* Drops the entry of session id (after a cancel). */
void session_cache_drop_id(struct session_cache *c, const char *session_id);

#endif
