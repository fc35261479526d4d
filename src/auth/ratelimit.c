#include "auth/ratelimit.h"

#include "core/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct ratelimit_entry {
    struct ratelimit_entry *next;
    char session_id[ID_MAX];
    double tokens;
    int64_t updated_us;
    int64_t expires_at_s;
};

void ratelimit_init(struct ratelimit *rl, size_t max_entries)
{
    memset(rl, 0, sizeof *rl);
    rl->nslots = 1024;
    rl->slots = xcalloc(rl->nslots, sizeof *rl->slots);
    rl->max_entries = max_entries;
}

void ratelimit_free(struct ratelimit *rl)
{
    for (size_t i = 0; i < rl->nslots; i++) {
        struct ratelimit_entry *e = rl->slots[i];
        while (e) {
            struct ratelimit_entry *next = e->next;
            free(e);
            e = next;
        }
    }
    free(rl->slots);
    memset(rl, 0, sizeof *rl);
}

/* FNV-1a: session ids are random already, so distribution is not the concern. */
static size_t slot_in(size_t nslots, const char *id)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return (size_t)(h & (nslots - 1));
}

static size_t slot_of(const struct ratelimit *rl, const char *id)
{
    return slot_in(rl->nslots, id);
}

static void ratelimit_grow(struct ratelimit *rl)
{
    size_t n = rl->nslots * 2;
    struct ratelimit_entry **slots = xcalloc(n, sizeof *slots);
    for (size_t i = 0; i < rl->nslots; i++) {
        struct ratelimit_entry *e = rl->slots[i];
        while (e) {
            struct ratelimit_entry *next = e->next;
            size_t s = slot_in(n, e->session_id);
            e->next = slots[s];
            slots[s] = e;
            e = next;
        }
    }
    free(rl->slots);
    rl->slots = slots;
    rl->nslots = n;
}

void ratelimit_sweep(struct ratelimit *rl, int64_t now_us)
{
    int64_t now_s = now_us / 1000000;
    for (size_t i = 0; i < rl->nslots; i++) {
        struct ratelimit_entry **pp = &rl->slots[i];
        while (*pp) {
            struct ratelimit_entry *e = *pp;
            if (e->expires_at_s < now_s) {
                *pp = e->next;
                free(e);
                rl->count--;
            } else {
                pp = &e->next;
            }
        }
    }
}

int64_t ratelimit_take(struct ratelimit *rl, const char *session_id, int rate_per_min,
                       int64_t expires_at_s, int64_t now_us)
{
    if (now_us >= rl->next_sweep_us) {
        ratelimit_sweep(rl, now_us);
        rl->next_sweep_us = now_us + 60 * 1000000LL;
    }
    size_t s = slot_of(rl, session_id);
    struct ratelimit_entry *e = rl->slots[s];
    while (e && strcmp(e->session_id, session_id) != 0)
        e = e->next;
    double rate = rate_per_min > 0 ? rate_per_min : 1;
    if (!e) {
        if (rl->count >= rl->max_entries)
            ratelimit_sweep(rl, now_us);
        if (rl->count >= rl->nslots)
            ratelimit_grow(rl);
        s = slot_of(rl, session_id);
        e = xcalloc(1, sizeof *e);
        size_t len = strlen(session_id);
        memcpy(e->session_id, session_id, len < ID_MAX ? len : ID_MAX - 1);
        e->tokens = rate;
        e->updated_us = now_us;
        e->next = rl->slots[s];
        rl->slots[s] = e;
        rl->count++;
    }
    e->expires_at_s = expires_at_s;
    double elapsed = (double)(now_us - e->updated_us) / 1e6;
    if (elapsed > 0) {
        e->tokens += elapsed * rate / 60.0;
        if (e->tokens > rate)
            e->tokens = rate;
    }
    e->updated_us = now_us;
    if (e->tokens >= 1.0) {
        e->tokens -= 1.0;
        return 0;
    }
    double wait = (1.0 - e->tokens) * 60.0 / rate;
    int64_t secs = (int64_t)wait;
    if ((double)secs < wait)
        secs++;
    return secs < 1 ? 1 : secs;
}
