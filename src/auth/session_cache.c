#include "auth/session_cache.h"

#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A struct store_session without its fixed-size string arrays: the id and hash are kept as they
 * are, user_id, workflow_id and workflow_version back to back (NUL-terminated) in text. */
struct session_cache_entry {
    struct session_cache_entry *next;
    int64_t cached_us;
    char id[ID_MAX];
    unsigned char secret_hash[STORE_HASH_LEN];
    char *state_variables_json; /* owned */
    char *config_json;          /* owned */
    int rate_per_min;
    int origin;
    bool tracing;
    int64_t created_us;
    int64_t expires_at;
    int64_t cancelled_us;
    size_t workflow_id_off, workflow_version_off; /* where those start in text */
    char text[];
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
    free(e->state_variables_json);
    free(e->config_json);
    free(e);
}

static struct session_cache_entry *entry_new(const struct store_session *s, int64_t now_us)
{
    size_t user = strlen(s->user_id) + 1, wf = strlen(s->workflow_id) + 1;
    size_t version = strlen(s->workflow_version) + 1;
    struct session_cache_entry *e = xcalloc(1, sizeof *e + user + wf + version);
    e->cached_us = now_us;
    memcpy(e->id, s->id, sizeof e->id);
    memcpy(e->secret_hash, s->secret_hash, sizeof e->secret_hash);
    e->state_variables_json = s->state_variables_json ? xstrdup(s->state_variables_json) : NULL;
    e->config_json = s->config_json ? xstrdup(s->config_json) : NULL;
    e->rate_per_min = s->rate_per_min;
    e->origin = s->origin;
    e->tracing = s->tracing;
    e->created_us = s->created_us;
    e->expires_at = s->expires_at;
    e->cancelled_us = s->cancelled_us;
    e->workflow_id_off = user;
    e->workflow_version_off = user + wf;
    memcpy(e->text, s->user_id, user);
    memcpy(e->text + e->workflow_id_off, s->workflow_id, wf);
    memcpy(e->text + e->workflow_version_off, s->workflow_version, version);
    return e;
}

/* The full session of e in view; its JSON strings stay e's. */
static const struct store_session *entry_view(const struct session_cache_entry *e,
                                              struct store_session *view)
{
    memset(view, 0, sizeof *view);
    memcpy(view->id, e->id, sizeof view->id);
    memcpy(view->secret_hash, e->secret_hash, sizeof view->secret_hash);
    snprintf(view->user_id, sizeof view->user_id, "%s", e->text);
    snprintf(view->workflow_id, sizeof view->workflow_id, "%s", e->text + e->workflow_id_off);
    snprintf(view->workflow_version, sizeof view->workflow_version, "%s",
             e->text + e->workflow_version_off);
    view->state_variables_json = e->state_variables_json;
    view->config_json = e->config_json;
    view->rate_per_min = e->rate_per_min;
    view->origin = e->origin;
    view->tracing = e->tracing;
    view->created_us = e->created_us;
    view->expires_at = e->expires_at;
    view->cancelled_us = e->cancelled_us;
    return view;
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
    while (*pp && memcmp((*pp)->secret_hash, hash, STORE_HASH_LEN) != 0)
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
    return entry_view(e, &c->view);
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
    struct session_cache_entry *e = entry_new(s, now_us);
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
            if (strcmp(e->id, session_id) == 0) {
                *pp = e->next;
                entry_free(e);
                c->count--;
            } else {
                pp = &e->next;
            }
        }
    }
}
