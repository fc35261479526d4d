/* sqlite_chat.c - threads, items, attachments and feedback on SQLite (spec §2.3-§2.5, §12).
 *
 * Every statement names the acting user in its WHERE clause, so another user's row is simply
 * not found: there is no separate ownership check to forget. Lists use keyset paging on a strict
 * total order - (created_us, seq) for threads, seq alone for items - compared as row values,
 * which SQLite and PostgreSQL both serve from an index: a cursor is the key of its row, and the
 * first page uses a key below (or above, newest first) every row. Pages are read with LIMIT
 * limit + 1, and the extra row only sets has_more.
 */
#include "store/backend.h"
#include "store/sqlite_internal.h"

#include "core/clock.h"
#include "core/err.h"
#include "core/json_read.h"
#include "core/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* The column orders load_thread(), load_item(), load_attachment() and load_feedback() read. */
#define THREAD_COLUMNS                                                                             \
    "id, user_id, created_us, updated_us, title, status, allowed_image_domains, metadata"
#define ITEM_COLUMNS "id, thread_id, type, created_us, hidden, json"
#define ATTACHMENT_COLUMNS                                                                         \
    "id, user_id, thread_id, name, mime_type, size, image, state, attached, created_us"
#define FEEDBACK_COLUMNS "seq, user_id, thread_id, item_id, kind, created_us"

static const char *const chat_sql[ST_FIXED_COUNT] = {
    [ST_THREAD_INSERT] = "INSERT INTO threads (id, user_id, seq, created_us, updated_us, title, "
                         "status, allowed_image_domains, metadata) "
                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [ST_THREAD_GET] = "SELECT " THREAD_COLUMNS " FROM threads WHERE id = ?1 AND user_id = ?2",
    /* NULL status or metadata keeps the stored value (coalesce); NULL title and domains are
     * meaningful (untitled, unset) and are written as given. */
    [ST_THREAD_UPDATE] = "UPDATE threads SET title = ?3, status = coalesce(?4, status), "
                         "allowed_image_domains = ?5, metadata = coalesce(?6, metadata), "
                         "updated_us = CASE WHEN ?7 > 0 THEN ?7 ELSE updated_us END "
                         "WHERE id = ?1 AND user_id = ?2",
    [ST_THREAD_TOUCH] = "UPDATE threads SET updated_us = ?2 WHERE id = ?1 AND updated_us < ?2",
    [ST_THREAD_DELETE] = "DELETE FROM threads WHERE id = ?1 AND user_id = ?2",
    [ST_THREAD_KEY] = "SELECT created_us, seq FROM threads WHERE id = ?1 AND user_id = ?2",
    [ST_THREAD_LIST_ASC] = "SELECT " THREAD_COLUMNS " FROM threads "
                           "WHERE user_id = ?1 AND (created_us, seq) > (?2, ?3) "
                           "ORDER BY created_us, seq LIMIT ?4",
    [ST_THREAD_LIST_DESC] = "SELECT " THREAD_COLUMNS " FROM threads "
                            "WHERE user_id = ?1 AND (created_us, seq) < (?2, ?3) "
                            "ORDER BY created_us DESC, seq DESC LIMIT ?4",
    [ST_THREAD_ATTACHMENTS_DELETE] = "DELETE FROM attachments WHERE thread_id = ?1 AND "
                                     "user_id = ?2 RETURNING " ATTACHMENT_COLUMNS,
    [ST_THREAD_ITEMS_DELETE] = "DELETE FROM items WHERE thread_id = ?1 AND user_id = ?2",
    /* The DO UPDATE only fires for the same thread and user; for an id taken elsewhere nothing
     * changes, which the caller turns into ERR_EXISTS. seq and created_us are not in the SET
     * list, so a replaced item keeps its place. */
    [ST_ITEM_UPSERT] = "INSERT INTO items (id, thread_id, user_id, seq, type, hidden, created_us, "
                       "json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
                       "ON CONFLICT (id) DO UPDATE SET type = excluded.type, "
                       "hidden = excluded.hidden, json = excluded.json "
                       "WHERE items.thread_id = excluded.thread_id "
                       "AND items.user_id = excluded.user_id",
    [ST_ITEM_UPDATE] = "UPDATE items SET type = ?4, hidden = ?5, json = ?6 "
                       "WHERE id = ?1 AND thread_id = ?2 AND user_id = ?3",
    [ST_ITEM_DELETE] = "DELETE FROM items WHERE id = ?1 AND thread_id = ?2 AND user_id = ?3",
    [ST_ITEM_GET] = "SELECT " ITEM_COLUMNS " FROM items "
                    "WHERE id = ?1 AND thread_id = ?2 AND user_id = ?3",
    [ST_ITEM_SEQ] = "SELECT seq FROM items WHERE id = ?1 AND thread_id = ?2 AND user_id = ?3",
    [ST_ITEM_LIST_ASC] = "SELECT " ITEM_COLUMNS " FROM items "
                         "WHERE thread_id = ?1 AND user_id = ?2 AND seq > ?3 "
                         "AND (?4 <> 0 OR hidden = 0) ORDER BY seq LIMIT ?5",
    [ST_ITEM_LIST_DESC] = "SELECT " ITEM_COLUMNS " FROM items "
                          "WHERE thread_id = ?1 AND user_id = ?2 AND seq < ?3 "
                          "AND (?4 <> 0 OR hidden = 0) ORDER BY seq DESC LIMIT ?5",
    [ST_ITEM_DELETE_AFTER] = "DELETE FROM items WHERE thread_id = ?1 AND user_id = ?2 "
                             "AND seq > ?3",
    [ST_ATTACHMENT_INSERT] = "INSERT INTO attachments (" ATTACHMENT_COLUMNS ") "
                             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [ST_ATTACHMENT_GET] = "SELECT " ATTACHMENT_COLUMNS " FROM attachments "
                          "WHERE id = ?1 AND user_id = ?2",
    [ST_ATTACHMENT_UPDATE] = "UPDATE attachments SET state = ?3, size = ?4, thread_id = ?5, "
                             "attached = ?6 WHERE id = ?1 AND user_id = ?2 "
                             "RETURNING " ATTACHMENT_COLUMNS,
    [ST_ATTACHMENT_DELETE] = "DELETE FROM attachments WHERE id = ?1 AND user_id = ?2 "
                             "RETURNING " ATTACHMENT_COLUMNS,
    [ST_ATTACHMENT_STALE] = "SELECT " ATTACHMENT_COLUMNS " FROM attachments "
                            "WHERE attached = 0 AND created_us < ?1 "
                            "ORDER BY created_us LIMIT ?2",
    [ST_FEEDBACK_INSERT] = "INSERT INTO feedback (user_id, thread_id, item_id, kind, created_us) "
                           "VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_FEEDBACK_EXPORT] = "SELECT " FEEDBACK_COLUMNS " FROM feedback "
                           "WHERE created_us >= ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
};

static sqlite3_stmt *stmt(struct sqlite_conn *c, struct store_job *job, enum sqlite_stmt id)
{
    return sqlite__stmt(c, job, id, chat_sql[id]);
}

static void bind_user(sqlite3_stmt *st, int i, const struct store_job *job)
{
    sqlite__bind_text(st, i, job->user_id, sizeof job->user_id);
}

static void bind_id(sqlite3_stmt *st, int i, const char id[ID_MAX])
{
    sqlite__bind_text(st, i, id, ID_MAX);
}

/* ---- rows ------------------------------------------------------------------------------- */

static int load_thread(sqlite3_stmt *st, void *elem)
{
    struct store_thread *t = elem;
    t->created_us = sqlite3_column_int64(st, 2);
    t->updated_us = sqlite3_column_int64(st, 3);
    t->title = sqlite__column_dup(st, 4, NULL);
    t->status_json = sqlite__column_dup(st, 5, "{\"type\":\"active\"}");
    t->allowed_image_domains_json = sqlite__column_dup(st, 6, NULL);
    t->metadata_json = sqlite__column_dup(st, 7, "{}");
    if (sqlite__column_copy(st, 0, t->id, sizeof t->id) ||
        sqlite__column_copy(st, 1, t->user_id, sizeof t->user_id))
        return ERR_IO;
    return 0;
}

static void free_thread(void *elem)
{
    store__thread_clear(elem);
}

static int load_item(sqlite3_stmt *st, void *elem)
{
    struct store_item *it = elem;
    it->created_us = sqlite3_column_int64(st, 3);
    it->hidden = sqlite3_column_int(st, 4) != 0;
    it->json = sqlite__column_dup(st, 5, "{}");
    if (sqlite__column_copy(st, 0, it->id, sizeof it->id) ||
        sqlite__column_copy(st, 1, it->thread_id, sizeof it->thread_id) ||
        sqlite__column_copy(st, 2, it->type, sizeof it->type))
        return ERR_IO;
    return 0;
}

static void free_item(void *elem)
{
    store__item_clear(elem);
}

static int load_attachment(sqlite3_stmt *st, void *elem)
{
    struct store_attachment *a = elem;
    a->size = sqlite3_column_int64(st, 5);
    a->image = sqlite3_column_int(st, 6) != 0;
    a->state = sqlite3_column_int(st, 7);
    a->attached = sqlite3_column_int(st, 8) != 0;
    a->created_us = sqlite3_column_int64(st, 9);
    if (sqlite__column_copy(st, 0, a->id, sizeof a->id) ||
        sqlite__column_copy(st, 1, a->user_id, sizeof a->user_id) ||
        sqlite__column_copy(st, 2, a->thread_id, sizeof a->thread_id) ||
        sqlite__column_copy(st, 3, a->name, sizeof a->name) ||
        sqlite__column_copy(st, 4, a->mime_type, sizeof a->mime_type))
        return ERR_IO;
    return 0;
}

static int load_feedback(sqlite3_stmt *st, void *elem)
{
    struct store_feedback *f = elem;
    f->seq = sqlite3_column_int64(st, 0);
    f->created_us = sqlite3_column_int64(st, 5);
    if (sqlite__column_copy(st, 1, f->user_id, sizeof f->user_id) ||
        sqlite__column_copy(st, 2, f->thread_id, sizeof f->thread_id) ||
        sqlite__column_copy(st, 3, f->item_id, sizeof f->item_id) ||
        sqlite__column_copy(st, 4, f->kind, sizeof f->kind))
        return ERR_IO;
    return 0;
}

/* Attachments and feedback own no strings. */
static void free_plain(void *elem)
{
    (void)elem;
}

/* The single-row outputs: the loaded row replaces (and frees) what the job held, but only once it
 * loaded whole, so a malformed row leaves the job's struct as it was. */
static int take_thread(sqlite3_stmt *st, struct store_job *job)
{
    struct store_thread t = {0};
    if (load_thread(st, &t)) {
        store__thread_clear(&t);
        return ERR_IO;
    }
    store__thread_clear(&job->thread);
    job->thread = t;
    return 0;
}

static int take_item(sqlite3_stmt *st, struct store_job *job)
{
    struct store_item it = {0};
    if (load_item(st, &it)) {
        store__item_clear(&it);
        return ERR_IO;
    }
    store__item_clear(&job->item);
    job->item = it;
    return 0;
}

static int take_attachment(sqlite3_stmt *st, struct store_job *job)
{
    struct store_attachment a = {0};
    if (load_attachment(st, &a))
        return ERR_IO;
    job->attachment = a;
    return 0;
}

/* Steps st, whose key is bound, and takes its one row into the job; ERR_NOT_FOUND without one.
 * Also serves UPDATE/DELETE ... RETURNING, whose changes happen at the first step. */
static int select_one(struct sqlite_conn *c, struct store_job *job, sqlite3_stmt *st,
                      const char *what, int (*take)(sqlite3_stmt *st, struct store_job *job))
{
    int r = sqlite__step(c, job, st);
    if (r == 1 && take(st, job))
        sqlite__fail(job, ERR_IO, "malformed %s row", what);
    else if (r == 0)
        sqlite__fail(job, ERR_NOT_FOUND, "no such %s", what);
    sqlite__stmt_done(st);
    return job->status;
}

/* ---- shared steps ----------------------------------------------------------------------- */

/* The paging key of one of the user's threads; ERR_NOT_FOUND when there is none. Also the
 * ownership check of every item operation. */
static int thread_key(struct sqlite_conn *c, struct store_job *job, const char *id,
                      int64_t *created_us, int64_t *seq)
{
    sqlite3_stmt *st = stmt(c, job, ST_THREAD_KEY);
    if (!st)
        return job->status;
    bind_id(st, 1, id);
    bind_user(st, 2, job);
    int r = sqlite__step(c, job, st);
    if (r == 1) {
        *created_us = sqlite3_column_int64(st, 0);
        *seq = sqlite3_column_int64(st, 1);
    } else if (r == 0) {
        sqlite__fail(job, ERR_NOT_FOUND, "no such thread %.60s", id);
    }
    sqlite__stmt_done(st);
    return job->status;
}

static int thread_owned(struct sqlite_conn *c, struct store_job *job, const char *id)
{
    int64_t created_us, seq;
    return thread_key(c, job, id, &created_us, &seq);
}

/* The seq of an item of the user's thread; ERR_NOT_FOUND when the item is not there. */
static int item_seq(struct sqlite_conn *c, struct store_job *job, const char *thread_id,
                    const char *id, int64_t *seq)
{
    sqlite3_stmt *st = stmt(c, job, ST_ITEM_SEQ);
    if (!st)
        return job->status;
    bind_id(st, 1, id);
    bind_id(st, 2, thread_id);
    bind_user(st, 3, job);
    int r = sqlite__step(c, job, st);
    if (r == 1)
        *seq = sqlite3_column_int64(st, 0);
    else if (r == 0)
        sqlite__fail(job, ERR_NOT_FOUND, "no such item %.60s", id);
    sqlite__stmt_done(st);
    return job->status;
}

/* Item changes are thread activity. The time is the store's own clock because no input carries
 * one (an item's created_us is its first insert), and it never moves backwards. */
static int thread_touch(struct sqlite_conn *c, struct store_job *job, const char *id)
{
    sqlite3_stmt *st = stmt(c, job, ST_THREAD_TOUCH);
    if (!st)
        return job->status;
    bind_id(st, 1, id);
    sqlite3_bind_int64(st, 2, clock_wall_us());
    return sqlite__exec(c, job, st, NULL);
}

static int need_ids(struct store_job *job, const char *a, const char *b)
{
    if (sqlite__need_user(job))
        return job->status;
    if (!a[0] || (b && !b[0]))
        sqlite__fail(job, ERR_INVALID, "%s needs an id", store_op_name(job->op));
    return job->status;
}

/* ---- threads ---------------------------------------------------------------------------- */

void sqlite__thread_create(struct sqlite_conn *c, struct store_job *job)
{
    const struct store_thread *t = &job->thread;
    int64_t seq;
    if (need_ids(job, t->id, NULL) || sqlite__user_insert(c, job, job->user_id, t->created_us) ||
        sqlite__next_seq(c, job, &seq))
        return;
    sqlite3_stmt *st = stmt(c, job, ST_THREAD_INSERT);
    if (!st)
        return;
    bind_id(st, 1, t->id);
    bind_user(st, 2, job);
    sqlite3_bind_int64(st, 3, seq);
    sqlite3_bind_int64(st, 4, t->created_us);
    sqlite3_bind_int64(st, 5, t->updated_us ? t->updated_us : t->created_us);
    sqlite3_bind_text(st, 6, t->title, -1, SQLITE_STATIC); /* NULL binds NULL */
    sqlite3_bind_text(st, 7, t->status_json ? t->status_json : "{\"type\":\"active\"}", -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 8, t->allowed_image_domains_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, t->metadata_json ? t->metadata_json : "{}", -1, SQLITE_STATIC);
    sqlite__exec(c, job, st, &job->affected);
}

void sqlite__thread_get(struct sqlite_conn *c, struct store_job *job)
{
    if (need_ids(job, job->thread.id, NULL))
        return;
    sqlite3_stmt *st = stmt(c, job, ST_THREAD_GET);
    if (!st)
        return;
    bind_id(st, 1, job->thread.id);
    bind_user(st, 2, job);
    select_one(c, job, st, "thread", take_thread);
}

void sqlite__thread_update(struct sqlite_conn *c, struct store_job *job)
{
    const struct store_thread *t = &job->thread;
    if (need_ids(job, t->id, NULL))
        return;
    sqlite3_stmt *st = stmt(c, job, ST_THREAD_UPDATE);
    if (!st)
        return;
    bind_id(st, 1, t->id);
    bind_user(st, 2, job);
    sqlite3_bind_text(st, 3, t->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, t->status_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, t->allowed_image_domains_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, t->metadata_json, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, t->updated_us);
    if (sqlite__exec(c, job, st, &job->affected))
        return;
    if (job->affected == 0) {
        sqlite__fail(job, ERR_NOT_FOUND, "no such thread %.60s", t->id);
        return;
    }
    sqlite__thread_get(c, job); /* the bindings above are cleared: the strings may go */
}

/* The attachment rows go in the same transaction as the thread, and come back to the caller,
 * which removes their files: a row must never outlive its bytes' only reference, and bytes
 * without a row would never be cleaned up. */
void sqlite__thread_delete(struct sqlite_conn *c, struct store_job *job)
{
    const char *id = job->thread.id;
    store__list_clear(&job->list);
    if (need_ids(job, id, NULL) || thread_owned(c, job, id))
        return;
    sqlite3_stmt *st = stmt(c, job, ST_THREAD_ATTACHMENTS_DELETE);
    if (!st)
        return;
    bind_id(st, 1, id);
    bind_user(st, 2, job);
    void *rows = NULL;
    if (sqlite__fetch(c, job, st, -1, sizeof(struct store_attachment), &rows, &job->list.n,
                      &job->list.has_more, load_attachment, free_plain))
        return;
    job->list.attachments = rows;
    if ((st = stmt(c, job, ST_THREAD_ITEMS_DELETE)) == NULL)
        return;
    bind_id(st, 1, id);
    bind_user(st, 2, job);
    if (sqlite__exec(c, job, st, NULL) || (st = stmt(c, job, ST_THREAD_DELETE)) == NULL)
        return;
    bind_id(st, 1, id);
    bind_user(st, 2, job);
    sqlite__exec(c, job, st, &job->affected);
}

/* The key the first row of a page must follow: below every row (oldest first) or above it. */
static void page_start(const struct store_job *job, int64_t *a, int64_t *b)
{
    *a = *b = job->page.desc ? INT64_MAX : INT64_MIN;
}

void sqlite__thread_list(struct sqlite_conn *c, struct store_job *job)
{
    int64_t created_us, seq;
    store__list_clear(&job->list);
    if (sqlite__need_user(job) || sqlite__check_limit(job))
        return;
    page_start(job, &created_us, &seq);
    if (job->page.after[0] && thread_key(c, job, job->page.after, &created_us, &seq))
        return;
    sqlite3_stmt *st = stmt(c, job, job->page.desc ? ST_THREAD_LIST_DESC : ST_THREAD_LIST_ASC);
    if (!st)
        return;
    bind_user(st, 1, job);
    sqlite3_bind_int64(st, 2, created_us);
    sqlite3_bind_int64(st, 3, seq);
    sqlite3_bind_int(st, 4, job->page.limit + 1);
    void *rows = NULL;
    if (sqlite__fetch(c, job, st, job->page.limit, sizeof(struct store_thread), &rows, &job->list.n,
                      &job->list.has_more, load_thread, free_thread) == 0)
        job->list.threads = rows;
}

/* ---- items ------------------------------------------------------------------------------ */

static void bind_item_body(sqlite3_stmt *st, int type, const struct store_item *it)
{
    sqlite__bind_text(st, type, it->type, sizeof it->type);
    sqlite3_bind_int(st, type + 1, it->hidden ? 1 : 0);
    sqlite3_bind_text(st, type + 2, it->json, -1, SQLITE_STATIC);
}

static int need_item(struct store_job *job)
{
    if (need_ids(job, job->item.thread_id, job->item.id))
        return job->status;
    if (!job->item.json)
        sqlite__fail(job, ERR_INVALID, "%s needs the item's JSON", store_op_name(job->op));
    return job->status;
}

/* The seq is drawn before knowing whether the id exists, so a replace leaves a gap in the
 * sequence; gaps are harmless, only the order matters. */
void sqlite__item_upsert(struct sqlite_conn *c, struct store_job *job)
{
    const struct store_item *it = &job->item;
    int64_t seq;
    if (need_item(job) || thread_owned(c, job, it->thread_id) || sqlite__next_seq(c, job, &seq))
        return;
    sqlite3_stmt *st = stmt(c, job, ST_ITEM_UPSERT);
    if (!st)
        return;
    bind_id(st, 1, it->id);
    bind_id(st, 2, it->thread_id);
    bind_user(st, 3, job);
    sqlite3_bind_int64(st, 4, seq);
    bind_item_body(st, 5, it);
    sqlite3_bind_int64(st, 7, it->created_us);
    sqlite3_bind_text(st, 8, it->json, -1, SQLITE_STATIC);
    if (sqlite__exec(c, job, st, &job->affected))
        return;
    if (job->affected == 0) {
        sqlite__fail(job, ERR_EXISTS, "item %.60s belongs to another thread", it->id);
        return;
    }
    thread_touch(c, job, it->thread_id);
}

void sqlite__item_update(struct sqlite_conn *c, struct store_job *job)
{
    const struct store_item *it = &job->item;
    if (need_item(job))
        return;
    sqlite3_stmt *st = stmt(c, job, ST_ITEM_UPDATE);
    if (!st)
        return;
    bind_id(st, 1, it->id);
    bind_id(st, 2, it->thread_id);
    bind_user(st, 3, job);
    bind_item_body(st, 4, it);
    if (sqlite__exec(c, job, st, &job->affected))
        return;
    if (job->affected == 0) {
        sqlite__fail(job, ERR_NOT_FOUND, "no such item %.60s", it->id);
        return;
    }
    thread_touch(c, job, it->thread_id);
}

/* Deleting an absent item is not an error (spec §12), but the thread must be the user's: an
 * unknown thread is a wrong request, not an item already gone. */
void sqlite__item_delete(struct sqlite_conn *c, struct store_job *job)
{
    const struct store_item *it = &job->item;
    if (need_ids(job, it->thread_id, it->id) || thread_owned(c, job, it->thread_id))
        return;
    sqlite3_stmt *st = stmt(c, job, ST_ITEM_DELETE);
    if (!st)
        return;
    bind_id(st, 1, it->id);
    bind_id(st, 2, it->thread_id);
    bind_user(st, 3, job);
    if (sqlite__exec(c, job, st, &job->affected) == 0 && job->affected > 0)
        thread_touch(c, job, it->thread_id);
}

void sqlite__item_get(struct sqlite_conn *c, struct store_job *job)
{
    if (need_ids(job, job->item.thread_id, job->item.id))
        return;
    sqlite3_stmt *st = stmt(c, job, ST_ITEM_GET);
    if (!st)
        return;
    bind_id(st, 1, job->item.id);
    bind_id(st, 2, job->item.thread_id);
    bind_user(st, 3, job);
    select_one(c, job, st, "item", take_item);
}

/* Hidden items are skipped in SQL, before LIMIT, when include_hidden is false: every page is
 * full and has_more is exact, instead of the reference's pages that shrink (even to nothing)
 * after hidden items are dropped (spec §2.5 allows either). A cursor may still name a hidden
 * item: its seq is a position like any other. */
void sqlite__item_list(struct sqlite_conn *c, struct store_job *job)
{
    const char *thread_id = job->item.thread_id;
    int64_t seq, unused;
    store__list_clear(&job->list);
    if (need_ids(job, thread_id, NULL) || sqlite__check_limit(job) ||
        thread_owned(c, job, thread_id))
        return;
    page_start(job, &seq, &unused);
    if (job->page.after[0] && item_seq(c, job, thread_id, job->page.after, &seq))
        return;
    sqlite3_stmt *st = stmt(c, job, job->page.desc ? ST_ITEM_LIST_DESC : ST_ITEM_LIST_ASC);
    if (!st)
        return;
    bind_id(st, 1, thread_id);
    bind_user(st, 2, job);
    sqlite3_bind_int64(st, 3, seq);
    sqlite3_bind_int(st, 4, job->page.include_hidden ? 1 : 0);
    sqlite3_bind_int(st, 5, job->page.limit + 1);
    void *rows = NULL;
    if (sqlite__fetch(c, job, st, job->page.limit, sizeof(struct store_item), &rows, &job->list.n,
                      &job->list.has_more, load_item, free_item) == 0)
        job->list.items = rows;
}

void sqlite__item_delete_after(struct sqlite_conn *c, struct store_job *job)
{
    const struct store_item *it = &job->item;
    int64_t seq;
    if (need_ids(job, it->thread_id, it->id) || item_seq(c, job, it->thread_id, it->id, &seq))
        return;
    sqlite3_stmt *st = stmt(c, job, ST_ITEM_DELETE_AFTER);
    if (!st)
        return;
    bind_id(st, 1, it->thread_id);
    bind_user(st, 2, job);
    sqlite3_bind_int64(st, 3, seq);
    if (sqlite__exec(c, job, st, &job->affected) == 0 && job->affected > 0)
        thread_touch(c, job, it->thread_id);
}

/* ---- attachments ------------------------------------------------------------------------ */

void sqlite__attachment_create(struct sqlite_conn *c, struct store_job *job)
{
    const struct store_attachment *a = &job->attachment;
    if (need_ids(job, a->id, NULL))
        return;
    sqlite3_stmt *st = stmt(c, job, ST_ATTACHMENT_INSERT);
    if (!st)
        return;
    bind_id(st, 1, a->id);
    bind_user(st, 2, job);
    sqlite__bind_opt(st, 3, a->thread_id, sizeof a->thread_id);
    sqlite__bind_text(st, 4, a->name, sizeof a->name);
    sqlite__bind_text(st, 5, a->mime_type, sizeof a->mime_type);
    sqlite3_bind_int64(st, 6, a->size);
    sqlite3_bind_int(st, 7, a->image ? 1 : 0);
    sqlite3_bind_int(st, 8, a->state);
    sqlite3_bind_int(st, 9, a->attached ? 1 : 0);
    sqlite3_bind_int64(st, 10, a->created_us);
    sqlite__exec(c, job, st, &job->affected);
}

/* GET, UPDATE and DELETE share their shape: the id and the user, then the row (RETURNING for
 * the changes, whose effect happens at the first step). */
static void attachment_one(struct sqlite_conn *c, struct store_job *job, enum sqlite_stmt id)
{
    const struct store_attachment *a = &job->attachment;
    if (need_ids(job, a->id, NULL))
        return;
    sqlite3_stmt *st = stmt(c, job, id);
    if (!st)
        return;
    bind_id(st, 1, a->id);
    bind_user(st, 2, job);
    if (id == ST_ATTACHMENT_UPDATE) {
        sqlite3_bind_int(st, 3, a->state);
        sqlite3_bind_int64(st, 4, a->size);
        sqlite__bind_opt(st, 5, a->thread_id, sizeof a->thread_id);
        sqlite3_bind_int(st, 6, a->attached ? 1 : 0);
    }
    if (select_one(c, job, st, "attachment", take_attachment) == 0 && id != ST_ATTACHMENT_GET)
        job->affected = 1;
}

void sqlite__attachment_get(struct sqlite_conn *c, struct store_job *job)
{
    attachment_one(c, job, ST_ATTACHMENT_GET);
}

void sqlite__attachment_update(struct sqlite_conn *c, struct store_job *job)
{
    attachment_one(c, job, ST_ATTACHMENT_UPDATE);
}

void sqlite__attachment_delete(struct sqlite_conn *c, struct store_job *job)
{
    attachment_one(c, job, ST_ATTACHMENT_DELETE);
}

/* Any user's: the cleanup sweeps uploads that no message ever used, oldest first. */
void sqlite__attachment_stale(struct sqlite_conn *c, struct store_job *job)
{
    store__list_clear(&job->list);
    if (sqlite__check_limit(job))
        return;
    sqlite3_stmt *st = stmt(c, job, ST_ATTACHMENT_STALE);
    if (!st)
        return;
    sqlite3_bind_int64(st, 1, job->before_us);
    sqlite3_bind_int(st, 2, job->page.limit + 1);
    void *rows = NULL;
    if (sqlite__fetch(c, job, st, job->page.limit, sizeof(struct store_attachment), &rows,
                      &job->list.n, &job->list.has_more, load_attachment, free_plain) == 0)
        job->list.attachments = rows;
}

/* ---- feedback --------------------------------------------------------------------------- */

static int feedback_insert(struct sqlite_conn *c, struct store_job *job, const char *item_id)
{
    const struct store_feedback *f = &job->feedback;
    int64_t seq;
    /* A longer text cannot be an item id; binding it cut to ID_MAX could match one. */
    if (strlen(item_id) >= ID_MAX) {
        sqlite__fail(job, ERR_NOT_FOUND, "no such item %.60s", item_id);
        return job->status;
    }
    if (item_seq(c, job, f->thread_id, item_id, &seq))
        return job->status;
    sqlite3_stmt *st = stmt(c, job, ST_FEEDBACK_INSERT);
    if (!st)
        return job->status;
    bind_user(st, 1, job);
    bind_id(st, 2, f->thread_id);
    sqlite3_bind_text(st, 3, item_id, -1, SQLITE_STATIC);
    sqlite__bind_text(st, 4, f->kind, sizeof f->kind);
    sqlite3_bind_int64(st, 5, f->created_us);
    int64_t n = 0;
    if (sqlite__exec(c, job, st, &n) == 0)
        job->affected += n;
    return job->status;
}

/* Parsing on the store thread is safe: cJSON's parser keeps no shared state we read. Every id is
 * checked as it is inserted; one unknown id fails the job, and the rollback then removes the rows
 * already inserted, so the request stores all or nothing. */
void sqlite__feedback_add(struct sqlite_conn *c, struct store_job *job)
{
    struct store_feedback *f = &job->feedback;
    if (need_ids(job, f->thread_id, NULL))
        return;
    if (strcmp(f->kind, "positive") != 0 && strcmp(f->kind, "negative") != 0) {
        sqlite__fail(job, ERR_INVALID, "feedback kind must be positive or negative");
        return;
    }
    const char *text = job->item_ids_json ? job->item_ids_json : "";
    cJSON *ids = json_parse(text, strlen(text), 2, NULL);
    if (!cJSON_IsArray(ids) || cJSON_GetArraySize(ids) > STORE_PAGE_MAX) {
        sqlite__fail(job, ERR_INVALID, "item_ids must be an array of at most %d ids",
                     STORE_PAGE_MAX);
        cJSON_Delete(ids);
        return;
    }
    if (thread_owned(c, job, f->thread_id) == 0) {
        const cJSON *id;
        cJSON_ArrayForEach(id, ids)
        {
            if (!cJSON_IsString(id)) {
                sqlite__fail(job, ERR_INVALID, "item_ids must hold strings");
                break;
            }
            if (feedback_insert(c, job, id->valuestring))
                break;
        }
    }
    cJSON_Delete(ids);
    memcpy(f->user_id, job->user_id, sizeof f->user_id);
}

/* Any user's, for the server-to-server export: ascending by seq, which is the cursor. */
void sqlite__feedback_export(struct sqlite_conn *c, struct store_job *job)
{
    store__list_clear(&job->list);
    if (sqlite__check_limit(job))
        return;
    sqlite3_stmt *st = stmt(c, job, ST_FEEDBACK_EXPORT);
    if (!st)
        return;
    sqlite3_bind_int64(st, 1, job->before_us);
    sqlite3_bind_int64(st, 2, job->after_seq);
    sqlite3_bind_int(st, 3, job->page.limit + 1);
    void *rows = NULL;
    if (sqlite__fetch(c, job, st, job->page.limit, sizeof(struct store_feedback), &rows,
                      &job->list.n, &job->list.has_more, load_feedback, free_plain) == 0)
        job->list.feedback = rows;
}
