/* ratelimit.h - per-session request budgets (token buckets), in memory.
 *
 * Each session may make `rate` requests per minute: a bucket of `rate` tokens refilled
 * continuously at rate/60 per second, so a burst of `rate` is allowed after a quiet minute and
 * the long-run average never exceeds the limit. Buckets live in a hash table keyed by session id
 * and are dropped once their session expired, so memory follows the number of live sessions.
 *
 * The table belongs to one process; with several replicas each one enforces the limit on its own
 * share of traffic (a shared limiter comes with the multi-replica store).
 */
#ifndef CHATKITD_AUTH_RATELIMIT_H
#define CHATKITD_AUTH_RATELIMIT_H

#include "core/id.h"

#include <stddef.h>
#include <stdint.h>

struct ratelimit_entry;

struct ratelimit {
    struct ratelimit_entry **slots; /* owned; chained hash table */
    size_t nslots;
    size_t count;
    size_t max_entries; /* beyond this, the oldest-expiring entries are swept */
    int64_t next_sweep_us;
};

void ratelimit_init(struct ratelimit *rl, size_t max_entries);
void ratelimit_free(struct ratelimit *rl);
/* Takes one token from session_id's bucket at time now_us. Returns 0 when allowed, or the
 * number of whole seconds (>= 1) until a token is available. expires_at_s lets the entry be
 * dropped when the session ends. */
int64_t ratelimit_take(struct ratelimit *rl, const char *session_id, int rate_per_min,
                       int64_t expires_at_s, int64_t now_us);
/* Drops entries whose session expired before now_us. */
void ratelimit_sweep(struct ratelimit *rl, int64_t now_us);

#endif
