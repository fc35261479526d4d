#include "auth/session_cache.h"

#include "core/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct session_cache_entry {
    struct session_cache_entry *next;
    int64_t cached_us;
    struct store_session s; /* strings owned */
};

void session_cache_init(struct session_cache *c, size_t max_entries, int64_t ttl_us)
{
    memset(c, 0, sizeof *c);
    c->nslots = 1024;
    c->slots = xcalloc(c->nslots, sizeof *c->slots);
    c->max_entries = max_entries;
    c->ttl_us = ttl_us;
}

static void entry_free(struct session_cache_entry *e)
{
    free(e->s.state_variables_json);
    free(e->s.config_json);
    free(e);
}

void session_cache_free(struct session_cache *c)
{
    for (size_t i = 0; i < c->nslots; i++) {
        while (c->slots[i]) {
            struct session_cache_entry *e = c->slots[i];
            c->slots[i] = e->next;
            entry_free(e);
        }
    }
    free(c->slots);
    memset(c, 0, sizeof *c);
}

/* Secret hashes are SHA-256 outputs: their first bytes are already uniformly distributed. */
static size_t slot_of(const struct session_cache *c, const unsigned char *hash)
{
    uint64_t h;
    memcpy(&h, hash, sizeof h);
    return (size_t)(h & (c->nslots - 1));
}

static struct session_cache_entry **find(struct session_cache *c, const unsigned char *hash)
{
    struct session_cache_entry **pp = &c->slots[slot_of(c, hash)];
    while (*pp && memcmp((*pp)->s.secret_hash, hash, STORE_HASH_LEN) != 0)
        pp = &(*pp)->next;
    return pp;
}

/* Drops stale entries; when the cache is still full, everything (it refills on demand). */
static void sweep(struct session_cache *c, int64_t now_us)
{
    for (int pass = 0; pass < 2 && c->count >= c->max_entries; pass++) {
        for (size_t i = 0; i < c->nslots; i++) {
            struct session_cache_entry **pp = &c->slots[i];
            while (*pp) {
                struct session_cache_entry *e = *pp;
                if (pass == 1 || now_us - e->cached_us > c->ttl_us) {
                    *pp = e->next;
                    entry_free(e);
                    c->count--;
                } else {
                    pp = &e->next;
                }
            }
        }
    }
}

const struct store_session *
session_cache_get(struct session_cache *c, const unsigned char hash[STORE_HASH_LEN], int64_t now_us)
{
    struct session_cache_entry **pp = find(c, hash);
    struct session_cache_entry *e = *pp;
    if (!e)
        return NULL;
    if (now_us - e->cached_us > c->ttl_us) {
        *pp = e->next;
        entry_free(e);
        c->count--;
        return NULL;
    }
    return &e->s;
}

void session_cache_put(struct session_cache *c, const struct store_session *s, int64_t now_us)
{
    struct session_cache_entry **pp = find(c, s->secret_hash);
    if (*pp) {
        struct session_cache_entry *old = *pp;
        *pp = old->next;
        entry_free(old);
        c->count--;
    }
    if (c->count >= c->max_entries)
        sweep(c, now_us);
    struct session_cache_entry *e = xcalloc(1, sizeof *e);
    e->s = *s;
    e->s.state_variables_json = s->state_variables_json ? xstrdup(s->state_variables_json) : NULL;
    e->s.config_json = s->config_json ? xstrdup(s->config_json) : NULL;
    e->cached_us = now_us;
    size_t slot = slot_of(c, s->secret_hash);
    e->next = c->slots[slot];
    c->slots[slot] = e;
    c->count++;
}

void session_cache_drop_id(struct session_cache *c, const char *session_id)
{
    for (size_t i = 0; i < c->nslots; i++) {
        for (struct session_cache_entry **pp = &c->slots[i]; *pp;) {
            struct session_cache_entry *e = *pp;
            if (strcmp(e->s.id, session_id) == 0) {
                *pp = e->next;
                entry_free(e);
                c->count--;
            } else {
                pp = &e->next;
            }
        }
    }
}
