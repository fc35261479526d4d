#include "workflow/catalog.h"

#include "core/err.h"

#include <stdio.h>
#include <string.h>

void workflow_catalog_init(struct workflow_catalog *c)
{
    memset(c, 0, sizeof *c);
    workflow_catalog_add(c, WORKFLOW_BUILTIN_TASKS, "1");
}

int workflow_catalog_add(struct workflow_catalog *c, const char *id, const char *version)
{
    size_t il = strlen(id), vl = strlen(version);
    if (il == 0 || il >= sizeof c->entries[0].id || vl == 0 || vl >= sizeof c->entries[0].version)
        return ERR_INVALID;
    for (int i = 0; i < c->n; i++) {
        if (strcmp(c->entries[i].id, id) == 0) {
            if (strcmp(c->entries[i].version, version) == 0)
                return ERR_EXISTS;
        }
    }
    if (c->n == WORKFLOW_CATALOG_MAX)
        return ERR_TOO_BIG;
    for (int i = 0; i < c->n; i++) {
        if (strcmp(c->entries[i].id, id) == 0)
            c->entries[i].latest = false;
    }
    struct workflow_entry *e = &c->entries[c->n++];
    memcpy(e->id, id, il + 1);
    memcpy(e->version, version, vl + 1);
    e->latest = true;
    return 0;
}

int workflow_catalog_check(const struct workflow_catalog *c, const char *id, const char *version,
                           char *why, size_t whylen)
{
    bool id_seen = false;
    for (int i = 0; i < c->n; i++) {
        if (strcmp(c->entries[i].id, id) != 0)
            continue;
        id_seen = true;
        if (!version || !*version || strcmp(c->entries[i].version, version) == 0)
            return 0;
    }
    if (id_seen)
        snprintf(why, whylen, "workflow '%s' has no version '%s'", id, version);
    else
        snprintf(why, whylen, "unknown workflow '%s'", id);
    return ERR_NOT_FOUND;
}

void workflow_catalog_ids(const struct workflow_catalog *c, char *out, size_t outlen)
{
    size_t used = 0;
    if (outlen)
        out[0] = '\0';
    for (int i = 0; i < c->n; i++) {
        if (!c->entries[i].latest)
            continue;
        int n = snprintf(out + used, outlen - used, "%s%s", used ? ", " : "", c->entries[i].id);
        if (n < 0 || (size_t)n >= outlen - used)
            break;
        used += (size_t)n;
    }
}
