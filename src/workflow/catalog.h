/* catalog.h - which workflows (and versions) this server can run.
 *
 * Sessions name a workflow by id and optionally pin a version; minting a session for a workflow
 * the catalog does not hold fails with a 404 naming it. The catalog starts with the embedded task
 * assistant `wf_tasks`; workflow files add entries (the workflow runtime).
 */
#ifndef CHATKITD_WORKFLOW_CATALOG_H
#define CHATKITD_WORKFLOW_CATALOG_H

#include <stdbool.h>
#include <stddef.h>

#define WORKFLOW_CATALOG_MAX   256
#define WORKFLOW_BUILTIN_TASKS "wf_tasks"

struct workflow_entry {
    char id[129];
    char version[65]; /* the published version this entry is */
    bool latest;      /* the version sessions get when they pin none */
};

struct workflow_catalog {
    struct workflow_entry entries[WORKFLOW_CATALOG_MAX];
    int n;
};

/* Creates a catalog holding the embedded workflows. */
void workflow_catalog_init(struct workflow_catalog *c);
/* Adds a workflow version; the newest added version of an id becomes its latest.
 * ERR_EXISTS for a duplicate (id, version), ERR_TOO_BIG when full, ERR_INVALID for bad text. */
int workflow_catalog_add(struct workflow_catalog *c, const char *id, const char *version);
/* 0 when id exists (and version, unless NULL or ""); otherwise ERR_NOT_FOUND with a sentence for
 * the user in why ("unknown workflow 'wf_x'", "workflow 'wf_tasks' has no version '7'"). */
int workflow_catalog_check(const struct workflow_catalog *c, const char *id, const char *version,
                           char *why, size_t whylen);
/* The comma-separated ids, for startup messages. */
void workflow_catalog_ids(const struct workflow_catalog *c, char *out, size_t outlen);

#endif
