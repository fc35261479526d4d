/* pg_chat.c - threads, items, attachments and feedback on PostgreSQL (spec §2.3-§2.5, §12).
 *
 * The same statements as the SQLite backend, in PostgreSQL's spelling: every WHERE clause names
 * the acting user, so another user's row is simply not found; lists use keyset paging on the
 * strict total order (created_us, seq) for threads and seq for items, compared as row values and
 * served from the same indexes, so a page holds exactly the rows SQLite would return. Pages are
 * read with LIMIT limit + 1, and the extra row only sets has_more.
 */
#include "store/backend.h"
#include "store/pg_internal.h"

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

static const char *const chat_sql[PG_FIXED_COUNT] = {
    /* The user row on first use and the thread in one statement, seq drawn by the INSERT itself
     * (the foreign key is checked at the end of the statement, when the user row exists). */
    [PG_THREAD_INSERT] = "WITH u AS (INSERT INTO users (id, created_us) VALUES ($2, $3) "
                         "ON CONFLICT DO NOTHING) "
                         "INSERT INTO threads (id, user_id, seq, created_us, updated_us, title, "
                         "status, allowed_image_domains, metadata) "
                         "VALUES ($1, $2, nextval('chatkitd_seq'), $3, $4, $5, $6, $7, $8)",
    [PG_THREAD_GET] = "SELECT " THREAD_COLUMNS " FROM threads WHERE id = $1 AND user_id = $2",
    [PG_THREAD_UPDATE] = "UPDATE threads SET title = $3, status = coalesce($4, status), "
                         "allowed_image_domains = $5, metadata = coalesce($6, metadata), "
                         "updated_us = CASE WHEN $7::bigint > 0 THEN $7::bigint "
                         "ELSE updated_us END WHERE id = $1 AND user_id = $2 "
                         "RETURNING " THREAD_COLUMNS,
    [PG_THREAD_TOUCH] = "UPDATE threads SET updated_us = $2 WHERE id = $1 AND updated_us < $2",
    [PG_THREAD_DELETE] = "DELETE FROM threads WHERE id = $1 AND user_id = $2",
    [PG_THREAD_KEY] = "SELECT created_us, seq FROM threads WHERE id = $1 AND user_id = $2",
    [PG_THREAD_LIST_ASC] = "SELECT " THREAD_COLUMNS " FROM threads "
                           "WHERE user_id = $1 AND (created_us, seq) > ($2::bigint, $3::bigint) "
                           "ORDER BY created_us, seq LIMIT $4",
    [PG_THREAD_LIST_DESC] = "SELECT " THREAD_COLUMNS " FROM threads "
                            "WHERE user_id = $1 AND (created_us, seq) < ($2::bigint, $3::bigint) "
                            "ORDER BY created_us DESC, seq DESC LIMIT $4",
    [PG_THREAD_ATTACHMENTS_DELETE] = "DELETE FROM attachments WHERE thread_id = $1 AND "
                                     "user_id = $2 RETURNING " ATTACHMENT_COLUMNS,
    [PG_THREAD_ITEMS_DELETE] = "DELETE FROM items WHERE thread_id = $1 AND user_id = $2",
    /* One statement for what SQLite does in three (ownership, upsert, thread touch): the insert
     * only happens when the thread is the user's, the touch only when a row was written, and the
     * two counts tell the caller which answer it is (not the user's thread, or an id taken by
     * another thread). The DO UPDATE only fires for the same thread and user; seq and
     * created_us are not in its SET list, so a replaced item keeps its place. */
    [PG_ITEM_UPSERT] =
        "WITH owner AS (SELECT id FROM threads WHERE id = $2 AND user_id = $3), "
        "up AS (INSERT INTO items (id, thread_id, user_id, seq, type, hidden, created_us, json) "
        "SELECT $1, owner.id, $3, nextval('chatkitd_seq'), $4, $5, $6, $7 FROM owner "
        "ON CONFLICT (id) DO UPDATE SET type = excluded.type, hidden = excluded.hidden, "
        "json = excluded.json WHERE items.thread_id = excluded.thread_id "
        "AND items.user_id = excluded.user_id RETURNING 1), "
        "touch AS (UPDATE threads SET updated_us = $8 WHERE id = $2 AND updated_us < $8 "
        "AND EXISTS (SELECT 1 FROM up)) "
        "SELECT (SELECT count(*) FROM owner), (SELECT count(*) FROM up)",
    [PG_ITEM_UPDATE] = "UPDATE items SET type = $4, hidden = $5, json = $6 "
                       "WHERE id = $1 AND thread_id = $2 AND user_id = $3",
    [PG_ITEM_DELETE] = "DELETE FROM items WHERE id = $1 AND thread_id = $2 AND user_id = $3",
    [PG_ITEM_GET] = "SELECT " ITEM_COLUMNS " FROM items "
                    "WHERE id = $1 AND thread_id = $2 AND user_id = $3",
    [PG_ITEM_SEQ] = "SELECT seq FROM items WHERE id = $1 AND thread_id = $2 AND user_id = $3",
    [PG_ITEM_LIST_ASC] = "SELECT " ITEM_COLUMNS " FROM items "
                         "WHERE thread_id = $1 AND user_id = $2 AND seq > $3::bigint "
                         "AND ($4::int <> 0 OR hidden = 0) ORDER BY seq LIMIT $5",
    [PG_ITEM_LIST_DESC] = "SELECT " ITEM_COLUMNS " FROM items "
                          "WHERE thread_id = $1 AND user_id = $2 AND seq < $3::bigint "
                          "AND ($4::int <> 0 OR hidden = 0) ORDER BY seq DESC LIMIT $5",
    [PG_ITEM_DELETE_AFTER] = "DELETE FROM items WHERE thread_id = $1 AND user_id = $2 "
                             "AND seq > $3",
    [PG_ATTACHMENT_INSERT] = "INSERT INTO attachments (" ATTACHMENT_COLUMNS ") "
                             "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    [PG_ATTACHMENT_GET] = "SELECT " ATTACHMENT_COLUMNS " FROM attachments "
                          "WHERE id = $1 AND user_id = $2",
    [PG_ATTACHMENT_UPDATE] = "UPDATE attachments SET state = $3, size = $4, thread_id = $5, "
                             "attached = $6 WHERE id = $1 AND user_id = $2 "
                             "RETURNING " ATTACHMENT_COLUMNS,
    [PG_ATTACHMENT_DELETE] = "DELETE FROM attachments WHERE id = $1 AND user_id = $2 "
                             "RETURNING " ATTACHMENT_COLUMNS,
    [PG_ATTACHMENT_STALE] = "SELECT " ATTACHMENT_COLUMNS " FROM attachments "
                            "WHERE attached = 0 AND created_us < $1 "
                            "ORDER BY created_us LIMIT $2",
    [PG_FEEDBACK_INSERT] = "INSERT INTO feedback (user_id, thread_id, item_id, kind, created_us) "
                           "VALUES ($1, $2, $3, $4, $5)",
    [PG_FEEDBACK_EXPORT] = "SELECT " FEEDBACK_COLUMNS " FROM feedback "
                           "WHERE created_us >= $1 AND seq > $2 ORDER BY seq LIMIT $3",
};

static PGresult *query(struct pg_conn *c, struct store_job *job, enum pg_stmt id,
                       const struct pg_params *p)
{
    return pg__query(c, job, id, chat_sql[id], p);
}

static int exec(struct pg_conn *c, struct store_job *job, enum pg_stmt id,
                const struct pg_params *p, int64_t *changes)
{
    return pg__exec(c, job, id, chat_sql[id], p, changes);
}

/* Most statements start with an id (or two) and the acting user. */
static void params_id_user(struct pg_params *p, const struct store_job *job, const char *id)
{
    memset(p, 0, sizeof *p);
    pg__p_text(p, id);
    pg__p_text(p, job->user_id);
}

static void params_ids_user(struct pg_params *p, const struct store_job *job, const char *id,
                            const char *thread_id)
{
    memset(p, 0, sizeof *p);
    pg__p_text(p, id);
    pg__p_text(p, thread_id);
    pg__p_text(p, job->user_id);
}

/* ---- rows ------------------------------------------------------------------------------- */

static int load_thread(const PGresult *r, int row, void *elem)
{
    struct store_thread *t = elem;
    t->created_us = pg__int(r, row, 2);
    t->updated_us = pg__int(r, row, 3);
    t->title = pg__dup(r, row, 4, NULL);
    t->status_json = pg__dup(r, row, 5, "{\"type\":\"active\"}");
    t->allowed_image_domains_json = pg__dup(r, row, 6, NULL);
    t->metadata_json = pg__dup(r, row, 7, "{}");
    if (pg__copy(r, row, 0, t->id, sizeof t->id) ||
        pg__copy(r, row, 1, t->user_id, sizeof t->user_id))
        return ERR_IO;
    return 0;
}

static void free_thread(void *elem)
{
    store__thread_clear(elem);
}

static int load_item(const PGresult *r, int row, void *elem)
{
    struct store_item *it = elem;
    it->created_us = pg__int(r, row, 3);
    it->hidden = pg__int(r, row, 4) != 0;
    it->json = pg__dup(r, row, 5, "{}");
    if (pg__copy(r, row, 0, it->id, sizeof it->id) ||
        pg__copy(r, row, 1, it->thread_id, sizeof it->thread_id) ||
        pg__copy(r, row, 2, it->type, sizeof it->type))
        return ERR_IO;
    return 0;
}

static void free_item(void *elem)
{
    store__item_clear(elem);
}

static int load_attachment(const PGresult *r, int row, void *elem)
{
    struct store_attachment *a = elem;
    a->size = pg__int(r, row, 5);
    a->image = pg__int(r, row, 6) != 0;
    a->state = (int)pg__int(r, row, 7);
    a->attached = pg__int(r, row, 8) != 0;
    a->created_us = pg__int(r, row, 9);
    if (pg__copy(r, row, 0, a->id, sizeof a->id) ||
        pg__copy(r, row, 1, a->user_id, sizeof a->user_id) ||
        pg__copy(r, row, 2, a->thread_id, sizeof a->thread_id) ||
        pg__copy(r, row, 3, a->name, sizeof a->name) ||
        pg__copy(r, row, 4, a->mime_type, sizeof a->mime_type))
        return ERR_IO;
    return 0;
}

static int load_feedback(const PGresult *r, int row, void *elem)
{
    struct store_feedback *f = elem;
    f->seq = pg__int(r, row, 0);
    f->created_us = pg__int(r, row, 5);
    if (pg__copy(r, row, 1, f->user_id, sizeof f->user_id) ||
        pg__copy(r, row, 2, f->thread_id, sizeof f->thread_id) ||
        pg__copy(r, row, 3, f->item_id, sizeof f->item_id) ||
        pg__copy(r, row, 4, f->kind, sizeof f->kind))
        return ERR_IO;
    return 0;
}

/* Attachments and feedback own no strings. */
static void free_plain(void *elem)
{
    (void)elem;
}

/* Takes the one row of r (cleared here) into dst through load, replacing what dst held (freed
 * with free_row) only once the row loaded whole; ERR_NOT_FOUND without a row. */
static int take_one(struct store_job *job, PGresult *r, const char *what, void *dst, size_t size,
                    pg_row_fn load, void (*free_row)(void *elem))
{
    if (!r)
        return job->status;
    if (PQntuples(r) == 0) {
        pg__fail(job, ERR_NOT_FOUND, "no such %s", what);
    } else {
        union {
            struct store_thread thread;
            struct store_item item;
            struct store_attachment attachment;
        } tmp;
        memset(&tmp, 0, sizeof tmp);
        if (size > sizeof tmp || load(r, 0, &tmp)) {
            free_row(&tmp);
            pg__fail(job, ERR_IO, "malformed %s row", what);
        } else {
            free_row(dst);
            memcpy(dst, &tmp, size);
        }
    }
    PQclear(r);
    return job->status;
}

/* ---- shared steps ----------------------------------------------------------------------- */

/* The paging key of one of the user's threads; ERR_NOT_FOUND when there is none. Also the
 * ownership check of every item operation. */
static int thread_key(struct pg_conn *c, struct store_job *job, const char *id, int64_t *created_us,
                      int64_t *seq)
{
    struct pg_params p;
    params_id_user(&p, job, id);
    PGresult *r = query(c, job, PG_THREAD_KEY, &p);
    if (!r)
        return job->status;
    if (PQntuples(r) == 1) {
        *created_us = pg__int(r, 0, 0);
        *seq = pg__int(r, 0, 1);
    } else {
        pg__fail(job, ERR_NOT_FOUND, "no such thread %.60s", id);
    }
    PQclear(r);
    return job->status;
}

static int thread_owned(struct pg_conn *c, struct store_job *job, const char *id)
{
    int64_t created_us, seq;
    return thread_key(c, job, id, &created_us, &seq);
}

static int item_seq(struct pg_conn *c, struct store_job *job, const char *thread_id, const char *id,
                    int64_t *seq)
{
    struct pg_params p;
    params_ids_user(&p, job, id, thread_id);
    PGresult *r = query(c, job, PG_ITEM_SEQ, &p);
    if (!r)
        return job->status;
    if (PQntuples(r) == 1)
        *seq = pg__int(r, 0, 0);
    else
        pg__fail(job, ERR_NOT_FOUND, "no such item %.60s", id);
    PQclear(r);
    return job->status;
}

/* Item changes are thread activity, stamped with the store's clock, never backwards. */
static int thread_touch(struct pg_conn *c, struct store_job *job, const char *id)
{
    struct pg_params p = {0};
    pg__p_text(&p, id);
    pg__p_int(&p, clock_wall_us());
    return exec(c, job, PG_THREAD_TOUCH, &p, NULL);
}

static int need_ids(struct store_job *job, const char *a, const char *b)
{
    if (pg__need_user(job))
        return job->status;
    if (!a[0] || (b && !b[0]))
        pg__fail(job, ERR_INVALID, "%s needs an id", store_op_name(job->op));
    return job->status;
}

/* ---- threads ---------------------------------------------------------------------------- */

void pg__thread_create(struct pg_conn *c, struct store_job *job)
{
    const struct store_thread *t = &job->thread;
    if (need_ids(job, t->id, NULL))
        return;
    struct pg_params p;
    params_id_user(&p, job, t->id);
    pg__p_int(&p, t->created_us);
    pg__p_int(&p, t->updated_us ? t->updated_us : t->created_us);
    pg__p_text(&p, t->title);
    pg__p_text(&p, t->status_json ? t->status_json : "{\"type\":\"active\"}");
    pg__p_text(&p, t->allowed_image_domains_json);
    pg__p_text(&p, t->metadata_json ? t->metadata_json : "{}");
    exec(c, job, PG_THREAD_INSERT, &p, &job->affected);
}

void pg__thread_get(struct pg_conn *c, struct store_job *job)
{
    if (need_ids(job, job->thread.id, NULL))
        return;
    struct pg_params p;
    params_id_user(&p, job, job->thread.id);
    take_one(job, query(c, job, PG_THREAD_GET, &p), "thread", &job->thread, sizeof job->thread,
             load_thread, free_thread);
}

void pg__thread_update(struct pg_conn *c, struct store_job *job)
{
    const struct store_thread *t = &job->thread;
    if (need_ids(job, t->id, NULL))
        return;
    struct pg_params p;
    params_id_user(&p, job, t->id);
    pg__p_text(&p, t->title);
    pg__p_text(&p, t->status_json);
    pg__p_text(&p, t->allowed_image_domains_json);
    pg__p_text(&p, t->metadata_json);
    pg__p_int(&p, t->updated_us);
    /* RETURNING gives the row as stored; the parameters point into job->thread, which take_one
     * replaces only after the statement ran. */
    if (take_one(job, query(c, job, PG_THREAD_UPDATE, &p), "thread", &job->thread,
                 sizeof job->thread, load_thread, free_thread) == 0)
        job->affected = 1;
}

/* The attachment rows go in the same transaction as the thread and come back to the caller,
 * which removes their files. */
void pg__thread_delete(struct pg_conn *c, struct store_job *job)
{
    const char *id = job->thread.id;
    store__list_clear(&job->list);
    if (need_ids(job, id, NULL) || thread_owned(c, job, id))
        return;
    struct pg_params p;
    params_id_user(&p, job, id);
    PGresult *r = query(c, job, PG_THREAD_ATTACHMENTS_DELETE, &p);
    void *rows = NULL;
    if (!r || pg__fetch(job, r, -1, sizeof(struct store_attachment), &rows, &job->list.n,
                        &job->list.has_more, load_attachment, free_plain))
        return;
    job->list.attachments = rows;
    if (exec(c, job, PG_THREAD_ITEMS_DELETE, &p, NULL) == 0)
        exec(c, job, PG_THREAD_DELETE, &p, &job->affected);
}

static void page_start(const struct store_job *job, int64_t *a, int64_t *b)
{
    *a = *b = job->page.desc ? INT64_MAX : INT64_MIN;
}

void pg__thread_list(struct pg_conn *c, struct store_job *job)
{
    int64_t created_us, seq;
    store__list_clear(&job->list);
    if (pg__need_user(job) || pg__check_limit(job))
        return;
    page_start(job, &created_us, &seq);
    if (job->page.after[0] && thread_key(c, job, job->page.after, &created_us, &seq))
        return;
    struct pg_params p = {0};
    pg__p_text(&p, job->user_id);
    pg__p_int(&p, created_us);
    pg__p_int(&p, seq);
    pg__p_int(&p, job->page.limit + 1);
    PGresult *r = query(c, job, job->page.desc ? PG_THREAD_LIST_DESC : PG_THREAD_LIST_ASC, &p);
    void *rows = NULL;
    if (r && pg__fetch(job, r, job->page.limit, sizeof(struct store_thread), &rows, &job->list.n,
                       &job->list.has_more, load_thread, free_thread) == 0)
        job->list.threads = rows;
}

/* ---- items ------------------------------------------------------------------------------ */

static void params_item_body(struct pg_params *p, const struct store_item *it)
{
    pg__p_text(p, it->type);
    pg__p_int(p, it->hidden ? 1 : 0);
    pg__p_text(p, it->json);
}

static int need_item(struct store_job *job)
{
    if (need_ids(job, job->item.thread_id, job->item.id))
        return job->status;
    if (!job->item.json)
        pg__fail(job, ERR_INVALID, "%s needs the item's JSON", store_op_name(job->op));
    return job->status;
}

void pg__item_upsert(struct pg_conn *c, struct store_job *job)
{
    const struct store_item *it = &job->item;
    if (need_item(job))
        return;
    struct pg_params p = {0};
    pg__p_text(&p, it->id);
    pg__p_text(&p, it->thread_id);
    pg__p_text(&p, job->user_id);
    pg__p_text(&p, it->type);
    pg__p_int(&p, it->hidden ? 1 : 0);
    pg__p_int(&p, it->created_us);
    pg__p_text(&p, it->json);
    pg__p_int(&p, clock_wall_us());
    PGresult *r = query(c, job, PG_ITEM_UPSERT, &p);
    if (!r)
        return;
    if (PQntuples(r) != 1)
        pg__fail(job, ERR_IO, "item_upsert: no answer row");
    else if (pg__int(r, 0, 0) == 0)
        pg__fail(job, ERR_NOT_FOUND, "no such thread %.60s", it->thread_id);
    else if ((job->affected = pg__int(r, 0, 1)) == 0)
        pg__fail(job, ERR_EXISTS, "item %.60s belongs to another thread", it->id);
    PQclear(r);
}

void pg__item_update(struct pg_conn *c, struct store_job *job)
{
    const struct store_item *it = &job->item;
    if (need_item(job))
        return;
    struct pg_params p;
    params_ids_user(&p, job, it->id, it->thread_id);
    params_item_body(&p, it);
    if (exec(c, job, PG_ITEM_UPDATE, &p, &job->affected))
        return;
    if (job->affected == 0) {
        pg__fail(job, ERR_NOT_FOUND, "no such item %.60s", it->id);
        return;
    }
    thread_touch(c, job, it->thread_id);
}

void pg__item_delete(struct pg_conn *c, struct store_job *job)
{
    const struct store_item *it = &job->item;
    if (need_ids(job, it->thread_id, it->id) || thread_owned(c, job, it->thread_id))
        return;
    struct pg_params p;
    params_ids_user(&p, job, it->id, it->thread_id);
    if (exec(c, job, PG_ITEM_DELETE, &p, &job->affected) == 0 && job->affected > 0)
        thread_touch(c, job, it->thread_id);
}

void pg__item_get(struct pg_conn *c, struct store_job *job)
{
    if (need_ids(job, job->item.thread_id, job->item.id))
        return;
    struct pg_params p;
    params_ids_user(&p, job, job->item.id, job->item.thread_id);
    take_one(job, query(c, job, PG_ITEM_GET, &p), "item", &job->item, sizeof job->item, load_item,
             free_item);
}

/* Hidden items are skipped in SQL, before LIMIT, exactly as on SQLite (see sqlite_chat.c). */
void pg__item_list(struct pg_conn *c, struct store_job *job)
{
    const char *thread_id = job->item.thread_id;
    int64_t seq, unused;
    store__list_clear(&job->list);
    if (need_ids(job, thread_id, NULL) || pg__check_limit(job) || thread_owned(c, job, thread_id))
        return;
    page_start(job, &seq, &unused);
    if (job->page.after[0] && item_seq(c, job, thread_id, job->page.after, &seq))
        return;
    struct pg_params p;
    params_id_user(&p, job, thread_id);
    pg__p_int(&p, seq);
    pg__p_int(&p, job->page.include_hidden ? 1 : 0);
    pg__p_int(&p, job->page.limit + 1);
    PGresult *r = query(c, job, job->page.desc ? PG_ITEM_LIST_DESC : PG_ITEM_LIST_ASC, &p);
    void *rows = NULL;
    if (r && pg__fetch(job, r, job->page.limit, sizeof(struct store_item), &rows, &job->list.n,
                       &job->list.has_more, load_item, free_item) == 0)
        job->list.items = rows;
}

void pg__item_delete_after(struct pg_conn *c, struct store_job *job)
{
    const struct store_item *it = &job->item;
    int64_t seq;
    if (need_ids(job, it->thread_id, it->id) || item_seq(c, job, it->thread_id, it->id, &seq))
        return;
    struct pg_params p;
    params_id_user(&p, job, it->thread_id);
    pg__p_int(&p, seq);
    if (exec(c, job, PG_ITEM_DELETE_AFTER, &p, &job->affected) == 0 && job->affected > 0)
        thread_touch(c, job, it->thread_id);
}

/* ---- attachments ------------------------------------------------------------------------ */

void pg__attachment_create(struct pg_conn *c, struct store_job *job)
{
    const struct store_attachment *a = &job->attachment;
    if (need_ids(job, a->id, NULL))
        return;
    struct pg_params p;
    params_id_user(&p, job, a->id);
    pg__p_opt(&p, a->thread_id);
    pg__p_text(&p, a->name);
    pg__p_text(&p, a->mime_type);
    pg__p_int(&p, a->size);
    pg__p_int(&p, a->image ? 1 : 0);
    pg__p_int(&p, a->state);
    pg__p_int(&p, a->attached ? 1 : 0);
    pg__p_int(&p, a->created_us);
    exec(c, job, PG_ATTACHMENT_INSERT, &p, &job->affected);
}

static void attachment_one(struct pg_conn *c, struct store_job *job, enum pg_stmt id)
{
    const struct store_attachment *a = &job->attachment;
    if (need_ids(job, a->id, NULL))
        return;
    struct pg_params p;
    params_id_user(&p, job, a->id);
    if (id == PG_ATTACHMENT_UPDATE) {
        pg__p_int(&p, a->state);
        pg__p_int(&p, a->size);
        pg__p_opt(&p, a->thread_id);
        pg__p_int(&p, a->attached ? 1 : 0);
    }
    if (take_one(job, query(c, job, id, &p), "attachment", &job->attachment, sizeof job->attachment,
                 load_attachment, free_plain) == 0 &&
        id != PG_ATTACHMENT_GET)
        job->affected = 1;
}

void pg__attachment_get(struct pg_conn *c, struct store_job *job)
{
    attachment_one(c, job, PG_ATTACHMENT_GET);
}

void pg__attachment_update(struct pg_conn *c, struct store_job *job)
{
    attachment_one(c, job, PG_ATTACHMENT_UPDATE);
}

void pg__attachment_delete(struct pg_conn *c, struct store_job *job)
{
    attachment_one(c, job, PG_ATTACHMENT_DELETE);
}

void pg__attachment_stale(struct pg_conn *c, struct store_job *job)
{
    store__list_clear(&job->list);
    if (pg__check_limit(job))
        return;
    struct pg_params p = {0};
    pg__p_int(&p, job->before_us);
    pg__p_int(&p, job->page.limit + 1);
    PGresult *r = query(c, job, PG_ATTACHMENT_STALE, &p);
    void *rows = NULL;
    if (r && pg__fetch(job, r, job->page.limit, sizeof(struct store_attachment), &rows,
                       &job->list.n, &job->list.has_more, load_attachment, free_plain) == 0)
        job->list.attachments = rows;
}

/* ---- feedback --------------------------------------------------------------------------- */

static int feedback_insert(struct pg_conn *c, struct store_job *job, const char *item_id)
{
    const struct store_feedback *f = &job->feedback;
    int64_t seq;
    if (strlen(item_id) >= ID_MAX) {
        pg__fail(job, ERR_NOT_FOUND, "no such item %.60s", item_id);
        return job->status;
    }
    if (item_seq(c, job, f->thread_id, item_id, &seq))
        return job->status;
    struct pg_params p = {0};
    pg__p_text(&p, job->user_id);
    pg__p_text(&p, f->thread_id);
    pg__p_text(&p, item_id);
    pg__p_text(&p, f->kind);
    pg__p_int(&p, f->created_us);
    int64_t n = 0;
    if (exec(c, job, PG_FEEDBACK_INSERT, &p, &n) == 0)
        job->affected += n;
    return job->status;
}

/* All or nothing: one unknown id fails the job and the rollback removes the rows inserted. */
void pg__feedback_add(struct pg_conn *c, struct store_job *job)
{
    struct store_feedback *f = &job->feedback;
    if (need_ids(job, f->thread_id, NULL))
        return;
    if (strcmp(f->kind, "positive") != 0 && strcmp(f->kind, "negative") != 0) {
        pg__fail(job, ERR_INVALID, "feedback kind must be positive or negative");
        return;
    }
    const char *text = job->item_ids_json ? job->item_ids_json : "";
    cJSON *ids = json_parse(text, strlen(text), 2, NULL);
    if (!cJSON_IsArray(ids) || cJSON_GetArraySize(ids) > STORE_PAGE_MAX) {
        pg__fail(job, ERR_INVALID, "item_ids must be an array of at most %d ids", STORE_PAGE_MAX);
        cJSON_Delete(ids);
        return;
    }
    if (thread_owned(c, job, f->thread_id) == 0) {
        const cJSON *id;
        cJSON_ArrayForEach(id, ids)
        {
            if (!cJSON_IsString(id)) {
                pg__fail(job, ERR_INVALID, "item_ids must hold strings");
                break;
            }
            if (feedback_insert(c, job, id->valuestring))
                break;
        }
    }
    cJSON_Delete(ids);
    memcpy(f->user_id, job->user_id, sizeof f->user_id);
}

void pg__feedback_export(struct pg_conn *c, struct store_job *job)
{
    store__list_clear(&job->list);
    if (pg__check_limit(job))
        return;
    struct pg_params p = {0};
    pg__p_int(&p, job->before_us);
    pg__p_int(&p, job->after_seq);
    pg__p_int(&p, job->page.limit + 1);
    PGresult *r = query(c, job, PG_FEEDBACK_EXPORT, &p);
    void *rows = NULL;
    if (r && pg__fetch(job, r, job->page.limit, sizeof(struct store_feedback), &rows, &job->list.n,
                       &job->list.has_more, load_feedback, free_plain) == 0)
        job->list.feedback = rows;
}
