/* copy.h - `chatkitd migrate --from sqlite:PATH --to postgres://...`: moves a whole SQLite
 * database into PostgreSQL.
 *
 * Both databases are first migrated to this build's schema; then every table is copied in
 * dependency order (users, sessions, threads, items, attachments, feedback, tasks, task_tags),
 * each row inserted with ON CONFLICT DO NOTHING, all in one PostgreSQL transaction, so a copy
 * either lands whole or not at all and running it again changes nothing (idempotent). The
 * sequences behind seq columns are moved past the highest value copied. At the end the row count
 * of every table is compared between the two databases; any difference fails the copy.
 *
 * Workflow run state lives in the threads' metadata and attachment bytes stay on disk, so the
 * tables are everything. Runs on the calling thread (a CLI command), blocking.
 */
#ifndef CHATKITD_STORE_COPY_H
#define CHATKITD_STORE_COPY_H

#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

#define STORE_COPY_TABLES 8

struct store_copy_report {
    struct {
        const char *table; /* static name */
        int64_t source;    /* rows in the SQLite database */
        int64_t copied;    /* rows inserted now (0 for rows already there) */
        int64_t target;    /* rows in PostgreSQL after the copy */
    } tables[STORE_COPY_TABLES];
    size_t n;
};

/* Copies from->url (SQLite) into to->url (PostgreSQL), filling report. Returns 0, or ERR_INVALID
 * (wrong kinds of URL, counts differ after the copy) / ERR_IO / ERR_UNAVAILABLE with err filled;
 * err never contains a password. */
int store_copy(const struct store_config *from, const struct store_config *to,
               struct store_copy_report *report, char *err, size_t errlen);

#endif
