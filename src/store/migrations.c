/* migrations.c - the schema of chatkitd, one versioned step at a time.
 *
 * The SQL is written for SQLite today but kept portable to PostgreSQL, the next backend: plain
 * CREATE TABLE / CREATE INDEX, TEXT for strings, BIGINT for every 64-bit number (timestamps in
 * µs would overflow PostgreSQL's 32-bit INTEGER; SQLite gives BIGINT the same 64-bit integer
 * affinity as INTEGER), no AUTOINCREMENT, no WITHOUT ROWID, no SQLite-only column types. The one
 * exception is BLOB for binary columns, which PostgreSQL spells BYTEA; the PostgreSQL backend
 * will translate that single word rather than keep a second copy of the schema.
 *
 * Rules every migration follows:
 *
 *   - Every row a user owns carries user_id, even where it could be derived through a parent (an
 *     item through its thread). Ownership checks are then one indexed WHERE user_id = ? on the
 *     row itself, never a join. Top-level rows (threads, tasks) reference users(id) ON DELETE
 *     CASCADE, and their children cascade from them, so deleting a user removes what they own.
 *   - Threads, items and tasks carry seq BIGINT NOT NULL from one database-wide counter
 *     (the counters row 'seq' here, a SEQUENCE in PostgreSQL) bumped in the inserting
 *     transaction. Threads and tasks are ordered by (created_us, seq) and items by seq alone, so
 *     every list has a strict total order that never depends on clock resolution, and a cursor
 *     is a simple row comparison.
 *   - JSON is stored as TEXT exactly as the application produced it (jsonb would reorder keys).
 *
 * A migration arrives as a new entry at the end of the array below; released entries never
 * change.
 */
#include "store/migrations.h"

#include "core/err.h"

#include <stdio.h>

const char migrations_table_sql[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                    " version INTEGER PRIMARY KEY,"
                                    " name TEXT NOT NULL,"
                                    " applied_us BIGINT NOT NULL)";

const struct migration migrations[] = {
    {1, "users_and_sessions",
     "CREATE TABLE users ("
     " id TEXT PRIMARY KEY,"
     " created_us BIGINT NOT NULL);"
     "CREATE TABLE sessions ("
     " id TEXT PRIMARY KEY,"
     " secret_hash BLOB NOT NULL UNIQUE,"
     " user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
     " workflow_id TEXT NOT NULL,"
     " workflow_version TEXT,"
     " state_variables TEXT NOT NULL,"
     " config TEXT NOT NULL,"
     " rate_per_min INTEGER NOT NULL,"
     " origin INTEGER NOT NULL,"
     " tracing INTEGER NOT NULL,"
     " created_us BIGINT NOT NULL,"
     " expires_at BIGINT NOT NULL,"
     " cancelled_us BIGINT);"
     "CREATE INDEX sessions_user_id ON sessions (user_id);"
     "CREATE INDEX sessions_expires_at ON sessions (expires_at);",
     NULL},

    /* Threads, items, attachments, feedback and tasks. Where PostgreSQL differs: the counters
     * row becomes a SEQUENCE; feedback.seq (INTEGER PRIMARY KEY is SQLite's rowid, assigned
     * max + 1, which only stays monotonic because feedback rows are never deleted) becomes
     * BIGSERIAL; nothing else changes. */
    {2, "chat_and_tasks",
     "CREATE TABLE counters ("
     " name TEXT PRIMARY KEY,"
     " value BIGINT NOT NULL);"
     "INSERT INTO counters (name, value) VALUES ('seq', 0);"
     "CREATE TABLE threads ("
     " id TEXT PRIMARY KEY,"
     " user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
     " seq BIGINT NOT NULL,"
     " created_us BIGINT NOT NULL,"
     " updated_us BIGINT NOT NULL,"
     " title TEXT,"
     " status TEXT NOT NULL,"
     " allowed_image_domains TEXT,"
     " metadata TEXT NOT NULL);"
     "CREATE INDEX threads_user_created ON threads (user_id, created_us, seq);"
     /* user_id has no foreign key: items go with their thread, and a key would need one more
      * index for the cascade. hidden is filtered in SQL so a page can skip hidden items. */
     "CREATE TABLE items ("
     " id TEXT PRIMARY KEY,"
     " thread_id TEXT NOT NULL REFERENCES threads(id) ON DELETE CASCADE,"
     " user_id TEXT NOT NULL,"
     " seq BIGINT NOT NULL,"
     " type TEXT NOT NULL,"
     " hidden INTEGER NOT NULL,"
     " created_us BIGINT NOT NULL,"
     " json TEXT NOT NULL,"
     " UNIQUE (thread_id, seq));"
     /* Uploads exist before the message (and the thread) that uses them, so thread_id is a
      * plain nullable column. The (attached, created_us) index serves the cleanup of uploads
      * never sent; the thread_id one serves thread deletion. */
     "CREATE TABLE attachments ("
     " id TEXT PRIMARY KEY,"
     " user_id TEXT NOT NULL,"
     " thread_id TEXT,"
     " name TEXT NOT NULL,"
     " mime_type TEXT NOT NULL,"
     " size BIGINT NOT NULL,"
     " image INTEGER NOT NULL,"
     " state INTEGER NOT NULL,"
     " attached INTEGER NOT NULL,"
     " created_us BIGINT NOT NULL);"
     "CREATE INDEX attachments_stale ON attachments (attached, created_us);"
     "CREATE INDEX attachments_thread ON attachments (thread_id);"
     /* Feedback is an append-only log read by the export cursor (seq), so it outlives the
      * items and threads it names and has no foreign keys. */
     "CREATE TABLE feedback ("
     " seq INTEGER PRIMARY KEY,"
     " user_id TEXT NOT NULL,"
     " thread_id TEXT NOT NULL,"
     " item_id TEXT NOT NULL,"
     " kind TEXT NOT NULL,"
     " created_us BIGINT NOT NULL);"
     "CREATE INDEX feedback_created ON feedback (created_us);"
     /* tags keeps the JSON array the API returns; task_tags mirrors it, one row per tag, so a
      * tag filter is an index lookup instead of a scan of every task's JSON. Empty due_date,
      * due_time and tz are stored as NULL. */
     "CREATE TABLE tasks ("
     " id TEXT PRIMARY KEY,"
     " user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
     " seq BIGINT NOT NULL,"
     " title TEXT NOT NULL,"
     " notes TEXT,"
     " done INTEGER NOT NULL,"
     " due_date TEXT,"
     " due_time TEXT,"
     " tz TEXT,"
     " priority INTEGER NOT NULL,"
     " tags TEXT NOT NULL,"
     " created_us BIGINT NOT NULL,"
     " updated_us BIGINT NOT NULL,"
     " completed_us BIGINT);"
     "CREATE INDEX tasks_user_created ON tasks (user_id, created_us, seq);"
     "CREATE INDEX tasks_user_due ON tasks (user_id, due_date);"
     "CREATE TABLE task_tags ("
     " task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,"
     " tag TEXT NOT NULL,"
     " PRIMARY KEY (task_id, tag));"
     "CREATE INDEX task_tags_tag ON task_tags (tag);",
     "CREATE SEQUENCE chatkitd_seq"},

    /* Per-session request budgets shared by replicas (STORE_RATE_TAKE): one token bucket per
     * session, refilled continuously; rows go with their session's expiry (SESSION_PURGE). */
    {3, "rate_buckets",
     "CREATE TABLE rate_buckets ("
     " session_id TEXT PRIMARY KEY,"
     " tokens DOUBLE PRECISION NOT NULL,"
     " updated_us BIGINT NOT NULL,"
     " expires_at BIGINT NOT NULL,"
     " allowed INTEGER NOT NULL);"
     "CREATE INDEX rate_buckets_expires_at ON rate_buckets (expires_at);",
     NULL},
};

const size_t migrations_count = sizeof migrations / sizeof migrations[0];

int migrations_latest(void)
{
    return migrations_count ? migrations[migrations_count - 1].version : 0;
}

int migrations_apply(void *conn, int current, migration_apply_fn apply, const struct logger *log,
                     int *applied, char *err, size_t errlen)
{
    int latest = migrations_latest();
    if (current > latest) {
        snprintf(err, errlen,
                 "database schema version %d is newer than this chatkitd (knows up to %d)", current,
                 latest);
        return ERR_INVALID;
    }
    for (size_t i = 0; i < migrations_count; i++) {
        const struct migration *m = &migrations[i];
        if (m->version <= current)
            continue;
        bool done;
        int rc = apply(conn, m, &done, err, errlen);
        if (rc)
            return rc;
        if (done) {
            log_info(log, "applied migration %d %s", m->version, m->name);
            if (applied)
                (*applied)++;
        }
    }
    return 0;
}
