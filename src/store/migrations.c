/* migrations.c - the schema of chatkitd, one versioned step at a time.
 *
 * The SQL is written for SQLite today but kept portable to PostgreSQL, the next backend: plain
 * CREATE TABLE / CREATE INDEX, TEXT for strings, BIGINT for every 64-bit number (timestamps in
 * µs would overflow PostgreSQL's 32-bit INTEGER; SQLite gives BIGINT the same 64-bit integer
 * affinity as INTEGER), no AUTOINCREMENT, no WITHOUT ROWID, no SQLite-only column types. The one
 * exception is BLOB for binary columns, which PostgreSQL spells BYTEA; the PostgreSQL backend
 * will translate that single word rather than keep a second copy of the schema.
 *
 * How later issues extend the schema (a comment only; none of these tables exist yet):
 *
 *   - Every row a user owns carries user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
 *     even where it could be derived through a parent (an item through its thread). Ownership
 *     checks are then one indexed WHERE user_id = ? on the row itself, never a join, and deleting
 *     a user removes everything they own in one statement.
 *   - threads(id, user_id, title, status, created_us, updated_us, metadata TEXT) with an index
 *     on (user_id, updated_us) for the paginated thread list.
 *   - items(id, thread_id REFERENCES threads ON DELETE CASCADE, user_id, seq BIGINT NOT NULL,
 *     type, content TEXT, created_us), UNIQUE (thread_id, seq). Items are listed in
 *     (thread_id, seq) order. seq comes from one per-database counter (a one-row sequence table
 *     in SQLite, a SEQUENCE in PostgreSQL) bumped in the inserting transaction, so all items of
 *     the database share a strict total order that never depends on clock resolution or ties in
 *     created_us, and "items after X" is a simple seq > ? cursor.
 *   - attachments(id, user_id, thread_id NULL until attached, mime_type, name, size, sha256,
 *     storage key, created_us, expires_at) for uploads that precede their message.
 *   - feedback(item_id, user_id, kind, created_us) with PRIMARY KEY (item_id, user_id).
 *   - tasks(id, user_id, thread_id, item_id, kind, state, payload TEXT, created_us, updated_us)
 *     for client tool calls and workflow tasks awaiting a result.
 *
 * Each arrives as a new entry at the end of the array below; released entries never change.
 */
#include "store/migrations.h"

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
     "CREATE INDEX sessions_expires_at ON sessions (expires_at);"},
};

const size_t migrations_count = sizeof migrations / sizeof migrations[0];

int migrations_latest(void)
{
    return migrations_count ? migrations[migrations_count - 1].version : 0;
}
