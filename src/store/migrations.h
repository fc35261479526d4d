/* migrations.h - the ordered list of schema migrations (internal to src/store/).
 *
 * A migration is a version number, a short name and the SQL that moves the schema from the
 * previous version to this one. Versions start at 1, increase by one, and are never edited once
 * released: a fix is a new migration. Backends apply the pending ones in order, each in its own
 * transaction, and record them in schema_migrations (see migrations_table_sql).
 */
#ifndef CHATKITD_STORE_MIGRATIONS_H
#define CHATKITD_STORE_MIGRATIONS_H

#include "core/log.h"

#include <stdbool.h>
#include <stddef.h>

struct migration {
    int version;      /* 1, 2, 3, ... in array order */
    const char *name; /* snake_case, for logs and the schema_migrations row */
    const char *sql;  /* one or more statements separated by semicolons */
    /* PostgreSQL only, run after sql in the same transaction (NULL when none): what SQLite does
     * without a statement, such as the sequence that replaces the counters row. */
    const char *postgres_sql;
};

/* Creates the bookkeeping table when it is missing; safe to run on every start. */
extern const char migrations_table_sql[];

/* The known migrations, oldest first; migrations_count entries. */
extern const struct migration migrations[];
extern const size_t migrations_count;

/* Highest version this build knows (0 when there are no migrations). */
int migrations_latest(void);

/* Applies one migration on a backend connection in its own transaction; *done is false when
 * another process applied it first. 0 or an ERR_* code with err filled. */
typedef int (*migration_apply_fn)(void *conn, const struct migration *m, bool *done, char *err,
                                  size_t errlen);

/* The part every backend shares: refuses a schema newer than this build, then applies every
 * migration above current in order, logging each one and counting it in *applied (may be NULL). */
int migrations_apply(void *conn, int current, migration_apply_fn apply, const struct logger *log,
                     int *applied, char *err, size_t errlen);

#endif
