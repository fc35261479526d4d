/* floor_sqlite.c - the floor of storing a turn: SQLite's own cost for the rows of a "hello" turn.
 *
 * A ChatKit turn must be stored before (the thread, the user message) and as (the answer, the
 * title) it is streamed (spec §6). This program stores N such turns the cheapest way SQLite
 * allows on one thread: prepared statements, WAL with synchronous=NORMAL (chatkitd's settings),
 * BATCH turns per transaction, and tables with fewer columns and indexes than chatkitd's. Per
 * turn: insert a thread, insert the user message (its 300-byte JSON), insert the assistant
 * message (600 bytes), set the thread's title. The CPU time per turn it prints is a lower bound
 * for any server that keeps ChatKit threads in SQLite on this machine.
 *
 * usage: floor_sqlite DB-PATH [N] [BATCH]      (defaults 50000, 256; DB-PATH is replaced)
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char schema[] =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    "CREATE TABLE threads (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, created_us INTEGER NOT "
    "NULL, title TEXT) WITHOUT ROWID;"
    "CREATE TABLE items (id TEXT PRIMARY KEY, thread_id TEXT NOT NULL, seq INTEGER NOT NULL, "
    "json TEXT NOT NULL);"
    "CREATE INDEX items_by_thread ON items (thread_id, seq);";

static double seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check(int rc, sqlite3 *db, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "floor_sqlite: %s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
}

static void run(sqlite3_stmt *st, sqlite3 *db)
{
    check(sqlite3_step(st), db, sqlite3_sql(st));
    sqlite3_reset(st);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: floor_sqlite DB-PATH [N] [BATCH]\n");
        return 2;
    }
    long n = argc > 2 ? strtol(argv[2], NULL, 10) : 50000;
    long batch = argc > 3 ? strtol(argv[3], NULL, 10) : 256;
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s%s", argv[1], suffixes[i]);
        unlink(path);
    }
    sqlite3 *db;
    check(sqlite3_open(argv[1], &db), db, "open");
    check(sqlite3_exec(db, schema, NULL, NULL, NULL), db, "schema");
    sqlite3_stmt *thread_ins, *item_ins, *title_set, *begin, *commit;
    check(sqlite3_prepare_v2(db, "INSERT INTO threads VALUES (?1, ?2, ?3, NULL)", -1, &thread_ins,
                             NULL),
          db, "prepare");
    check(sqlite3_prepare_v2(db, "INSERT INTO items VALUES (?1, ?2, ?3, ?4)", -1, &item_ins, NULL),
          db, "prepare");
    check(
        sqlite3_prepare_v2(db, "UPDATE threads SET title = ?2 WHERE id = ?1", -1, &title_set, NULL),
        db, "prepare");
    check(sqlite3_prepare_v2(db, "BEGIN", -1, &begin, NULL), db, "prepare");
    check(sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL), db, "prepare");
    char user_json[301], answer_json[601];
    memset(user_json, 'u', sizeof user_json - 1);
    user_json[300] = '\0';
    memset(answer_json, 'a', sizeof answer_json - 1);
    answer_json[600] = '\0';

    double cpu0 = seconds(CLOCK_PROCESS_CPUTIME_ID), wall0 = seconds(CLOCK_MONOTONIC);
    for (long t = 0; t < n; t++) {
        char thread_id[40], user_item[40], answer_item[40];
        /* Random-looking ids, as chatkitd's are: keys land all over the b-tree. */
        unsigned long h = (unsigned long)t * 0x9E3779B97F4A7C15ul;
        snprintf(thread_id, sizeof thread_id, "thr_%016lx%016lx", h, ~h);
        snprintf(user_item, sizeof user_item, "msg_%016lx%016lx", h ^ 1, h);
        snprintf(answer_item, sizeof answer_item, "msg_%016lx%016lx", h ^ 2, h);
        if (t % batch == 0)
            run(begin, db);
        sqlite3_bind_text(thread_ins, 1, thread_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(thread_ins, 2, "usr_3653e7ba290c7dcd4e29f240e12e59d2", -1, SQLITE_STATIC);
        sqlite3_bind_int64(thread_ins, 3, t);
        run(thread_ins, db);
        const char *ids[2] = {user_item, answer_item}, *json[2] = {user_json, answer_json};
        for (int i = 0; i < 2; i++) {
            sqlite3_bind_text(item_ins, 1, ids[i], -1, SQLITE_STATIC);
            sqlite3_bind_text(item_ins, 2, thread_id, -1, SQLITE_STATIC);
            sqlite3_bind_int64(item_ins, 3, i);
            sqlite3_bind_text(item_ins, 4, json[i], -1, SQLITE_STATIC);
            run(item_ins, db);
        }
        sqlite3_bind_text(title_set, 1, thread_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(title_set, 2, "hello", -1, SQLITE_STATIC);
        run(title_set, db);
        if (t % batch == batch - 1 || t == n - 1)
            run(commit, db);
    }
    double cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu0, wall = seconds(CLOCK_MONOTONIC) - wall0;
    printf("turns=%ld batch=%ld cpu_us_per_turn=%.2f wall_us_per_turn=%.2f\n", n, batch,
           cpu * 1e6 / (double)n, wall * 1e6 / (double)n);
    sqlite3_finalize(thread_ins);
    sqlite3_finalize(item_ins);
    sqlite3_finalize(title_set);
    sqlite3_finalize(begin);
    sqlite3_finalize(commit);
    sqlite3_close(db);
    return 0;
}
