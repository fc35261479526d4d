/* pg_tasks.c - the tasks of the task-management app on PostgreSQL.
 *
 * The same model as sqlite_tasks.c: a task row keeps its tags as the JSON array the API returns,
 * task_tags mirrors it one row per tag in the same transaction, and lists page by (created_us,
 * seq) with one prepared statement per combination of filters. The substring filter is ILIKE,
 * which folds case like SQLite's LIKE does for ASCII (and beyond ASCII, too).
 */
#include "store/backend.h"
#include "store/pg_internal.h"

#include "core/err.h"
#include "core/json_read.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The column order load_task() reads. */
#define TASK_COLUMNS                                                                               \
    "id, user_id, title, notes, done, due_date, due_time, tz, priority, tags, created_us, "        \
    "updated_us, completed_us"

static const char *const task_sql[PG_FIXED_COUNT] = {
    /* With the user row on first use, in one statement (see PG_THREAD_INSERT in pg_chat.c). */
    [PG_TASK_INSERT] =
        "WITH u AS (INSERT INTO users (id, created_us) VALUES ($2, $11) ON CONFLICT DO NOTHING) "
        "INSERT INTO tasks (id, user_id, seq, title, notes, done, due_date, "
        "due_time, tz, priority, tags, created_us, updated_us, completed_us) "
        "VALUES ($1, $2, nextval('chatkitd_seq'), $3, $4, $5, $6, $7, $8, $9, $10, $11, "
        "$12, $13)",
    [PG_TASK_GET] = "SELECT " TASK_COLUMNS " FROM tasks WHERE id = $1 AND user_id = $2",
    [PG_TASK_UPDATE] = "UPDATE tasks SET title = $3, notes = $4, done = $5, due_date = $6, "
                       "due_time = $7, tz = $8, priority = $9, tags = $10, updated_us = $11, "
                       "completed_us = $12 WHERE id = $1 AND user_id = $2",
    [PG_TASK_DELETE] = "DELETE FROM tasks WHERE id = $1 AND user_id = $2 RETURNING " TASK_COLUMNS,
    [PG_TASK_KEY] = "SELECT created_us, seq FROM tasks WHERE id = $1 AND user_id = $2",
    [PG_TASK_TAGS_DELETE] = "DELETE FROM task_tags WHERE task_id = $1",
    [PG_TASK_TAG_INSERT] =
        "INSERT INTO task_tags (task_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING",
};

static PGresult *query(struct pg_conn *c, struct store_job *job, enum pg_stmt id,
                       const struct pg_params *p)
{
    return pg__query(c, job, id, task_sql[id], p);
}

static int load_task(const PGresult *r, int row, void *elem)
{
    struct store_task *t = elem;
    t->title = pg__dup(r, row, 2, "");
    t->notes = pg__dup(r, row, 3, NULL);
    t->done = pg__int(r, row, 4) != 0;
    t->priority = (int)pg__int(r, row, 8);
    t->tags_json = pg__dup(r, row, 9, "[]");
    t->created_us = pg__int(r, row, 10);
    t->updated_us = pg__int(r, row, 11);
    t->completed_us = pg__int(r, row, 12);
    if (pg__copy(r, row, 0, t->id, sizeof t->id) ||
        pg__copy(r, row, 1, t->user_id, sizeof t->user_id) ||
        pg__copy(r, row, 5, t->due_date, sizeof t->due_date) ||
        pg__copy(r, row, 6, t->due_time, sizeof t->due_time) ||
        pg__copy(r, row, 7, t->tz, sizeof t->tz))
        return ERR_IO;
    return 0;
}

static void free_task(void *elem)
{
    store__task_clear(elem);
}

/* Takes the one row of r (cleared here) into job->task once it loaded whole. */
static int select_task(struct store_job *job, PGresult *r)
{
    if (!r)
        return job->status;
    struct store_task t = {0};
    if (PQntuples(r) == 0) {
        pg__fail(job, ERR_NOT_FOUND, "no such task %.60s", job->task.id);
    } else if (load_task(r, 0, &t)) {
        store__task_clear(&t);
        pg__fail(job, ERR_IO, "malformed tasks row");
    } else {
        store__task_clear(&job->task);
        job->task = t;
    }
    PQclear(r);
    return job->status;
}

static void params_id_user(struct pg_params *p, const struct store_job *job, const char *id)
{
    memset(p, 0, sizeof *p);
    pg__p_text(p, id);
    pg__p_text(p, job->user_id);
}

/* ---- validation (the same rules as sqlite_tasks.c) ---------------------------------------- */

static bool has_shape(const char *s, const char *shape)
{
    size_t i = 0;
    for (; shape[i]; i++) {
        if (shape[i] == '9' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
            return false;
    }
    return s[i] == '\0';
}

static bool date_ok(const char *s)
{
    return !s[0] || has_shape(s, "9999-99-99");
}

static int check_task(struct store_job *job, cJSON **tags)
{
    const struct store_task *t = &job->task;
    if (pg__need_user(job))
        return job->status;
    if (!t->id[0] || !t->title || !t->title[0]) {
        pg__fail(job, ERR_INVALID, "a task needs an id and a title");
    } else if (t->priority < STORE_PRIORITY_LOW || t->priority > STORE_PRIORITY_HIGH) {
        pg__fail(job, ERR_INVALID, "task priority %d is out of range", t->priority);
    } else if (!date_ok(t->due_date) || (t->due_time[0] && !has_shape(t->due_time, "99:99"))) {
        pg__fail(job, ERR_INVALID, "task due date or time is malformed");
    } else {
        const char *text = t->tags_json ? t->tags_json : "[]";
        cJSON *parsed = json_parse(text, strlen(text), 2, NULL);
        bool ok = cJSON_IsArray(parsed);
        for (const cJSON *tag = ok ? parsed->child : NULL; tag; tag = tag->next)
            ok = ok && cJSON_IsString(tag);
        if (!ok) {
            cJSON_Delete(parsed);
            pg__fail(job, ERR_INVALID, "task tags must be a JSON array of strings");
        } else {
            *tags = parsed;
        }
    }
    return job->status;
}

/* ---- writes ----------------------------------------------------------------------------- */

static void params_task_fields(struct pg_params *p, const struct store_task *t)
{
    pg__p_text(p, t->title);
    pg__p_text(p, t->notes);
    pg__p_int(p, t->done ? 1 : 0);
    pg__p_opt(p, t->due_date);
    pg__p_opt(p, t->due_time);
    pg__p_opt(p, t->tz);
    pg__p_int(p, t->priority);
    pg__p_text(p, t->tags_json ? t->tags_json : "[]");
}

static void params_completed(struct pg_params *p, int64_t completed_us)
{
    if (completed_us)
        pg__p_int(p, completed_us);
    else
        pg__p_text(p, NULL);
}

/* Writes the task_tags rows of the task; the old ones are deleted first unless the task is new. */
static int sync_tags(struct pg_conn *c, struct store_job *job, const cJSON *tags, bool fresh)
{
    struct pg_params p = {0};
    pg__p_text(&p, job->task.id);
    if (!fresh && pg__exec(c, job, PG_TASK_TAGS_DELETE, task_sql[PG_TASK_TAGS_DELETE], &p, NULL))
        return job->status;
    const cJSON *tag;
    cJSON_ArrayForEach(tag, tags)
    {
        struct pg_params q = {0};
        pg__p_text(&q, job->task.id);
        pg__p_text(&q, tag->valuestring);
        if (pg__exec(c, job, PG_TASK_TAG_INSERT, task_sql[PG_TASK_TAG_INSERT], &q, NULL))
            break;
    }
    return job->status;
}

void pg__task_create(struct pg_conn *c, struct store_job *job)
{
    cJSON *tags = NULL;
    if (check_task(job, &tags))
        return;
    const struct store_task *t = &job->task;
    struct pg_params p;
    params_id_user(&p, job, t->id);
    params_task_fields(&p, t);
    pg__p_int(&p, t->created_us);
    pg__p_int(&p, t->updated_us ? t->updated_us : t->created_us);
    params_completed(&p, t->completed_us);
    if (pg__exec(c, job, PG_TASK_INSERT, task_sql[PG_TASK_INSERT], &p, &job->affected) == 0)
        sync_tags(c, job, tags, true);
    cJSON_Delete(tags);
}

void pg__task_get(struct pg_conn *c, struct store_job *job)
{
    if (pg__need_user(job))
        return;
    struct pg_params p;
    params_id_user(&p, job, job->task.id);
    select_task(job, query(c, job, PG_TASK_GET, &p));
}

void pg__task_update(struct pg_conn *c, struct store_job *job)
{
    cJSON *tags = NULL;
    if (check_task(job, &tags))
        return;
    const struct store_task *t = &job->task;
    struct pg_params p;
    params_id_user(&p, job, t->id);
    params_task_fields(&p, t);
    pg__p_int(&p, t->updated_us);
    params_completed(&p, t->completed_us);
    if (pg__exec(c, job, PG_TASK_UPDATE, task_sql[PG_TASK_UPDATE], &p, &job->affected) == 0) {
        if (job->affected == 0)
            pg__fail(job, ERR_NOT_FOUND, "no such task %.60s", t->id);
        else if (sync_tags(c, job, tags, false) == 0)
            pg__task_get(c, job);
    }
    cJSON_Delete(tags);
}

void pg__task_delete(struct pg_conn *c, struct store_job *job)
{
    if (pg__need_user(job))
        return;
    struct pg_params p;
    params_id_user(&p, job, job->task.id);
    if (select_task(job, query(c, job, PG_TASK_DELETE, &p)) == 0)
        job->affected = 1;
}

/* ---- list ------------------------------------------------------------------------------- */

_Static_assert(STORE_TL_VARIANTS == PG_TASK_LIST_VARIANTS, "one statement per filter combination");

/* PostgreSQL numbers parameters densely and a statement may not skip one, so the filters in use
 * take $5, $6, ... in a fixed order, and bind_filter() appends them in that same order. */
static void build_list_sql(unsigned mask, char *sql, size_t cap)
{
    bool desc = mask & STORE_TL_DESC;
    int n = snprintf(sql, cap,
                     "SELECT " TASK_COLUMNS " FROM tasks WHERE user_id = $1 "
                     "AND (created_us, seq) %s ($2::bigint, $3::bigint)",
                     desc ? "<" : ">");
    static const struct {
        unsigned bit;
        const char *fmt;
    } terms[] = {
        {STORE_TL_STATUS, " AND done = $%d::int"},
        {STORE_TL_PRIORITY, " AND priority = $%d::int"},
        {STORE_TL_TAG, " AND id IN (SELECT task_id FROM task_tags WHERE tag = $%d)"},
        {STORE_TL_DUE_BEFORE, " AND due_date <= $%d"},
        {STORE_TL_DUE_AFTER, " AND due_date >= $%d"},
        {STORE_TL_HAS_DUE, " AND due_date IS NOT NULL"},
        {STORE_TL_Q, " AND (title ILIKE $%1$d ESCAPE '\\' OR notes ILIKE $%1$d ESCAPE '\\')"},
    };
    int param = 5;
    for (size_t i = 0; i < sizeof terms / sizeof terms[0]; i++) {
        if (!(mask & terms[i].bit))
            continue;
        if (terms[i].bit == STORE_TL_HAS_DUE)
            n += snprintf(sql + n, cap - (size_t)n, "%s", terms[i].fmt);
        else
            n += snprintf(sql + n, cap - (size_t)n, terms[i].fmt, param++);
    }
    snprintf(sql + n, cap - (size_t)n, " ORDER BY created_us %s, seq %s LIMIT $4",
             desc ? "DESC" : "ASC", desc ? "DESC" : "ASC");
}

static void like_pattern(const char *q, char *out, size_t cap)
{
    size_t n = 0;
    out[n++] = '%';
    for (; *q && n + 3 < cap; q++) {
        if (*q == '\\' || *q == '%' || *q == '_')
            out[n++] = '\\';
        out[n++] = *q;
    }
    out[n++] = '%';
    out[n] = '\0';
}

static void bind_filter(struct pg_params *p, unsigned mask, const struct store_task_filter *f,
                        const char *pattern)
{
    if (mask & STORE_TL_STATUS)
        pg__p_int(p, f->status);
    if (mask & STORE_TL_PRIORITY)
        pg__p_int(p, f->priority);
    if (mask & STORE_TL_TAG)
        pg__p_text(p, f->tag);
    if (mask & STORE_TL_DUE_BEFORE)
        pg__p_text(p, f->due_before);
    if (mask & STORE_TL_DUE_AFTER)
        pg__p_text(p, f->due_after);
    if (mask & STORE_TL_Q)
        pg__p_text(p, pattern);
}

static int check_filter(struct store_job *job)
{
    const struct store_task_filter *f = &job->task_filter;
    if (pg__need_user(job) || pg__check_limit(job))
        return job->status;
    if (f->status < -1 || f->status > 1 || f->priority < -1 || f->priority > STORE_PRIORITY_HIGH)
        pg__fail(job, ERR_INVALID, "task filter status or priority is out of range");
    else if (!date_ok(f->due_before) || !date_ok(f->due_after))
        pg__fail(job, ERR_INVALID, "task filter dates must be YYYY-MM-DD");
    return job->status;
}

static int task_key(struct pg_conn *c, struct store_job *job, int64_t *created_us, int64_t *seq)
{
    struct pg_params p;
    params_id_user(&p, job, job->page.after);
    PGresult *r = query(c, job, PG_TASK_KEY, &p);
    if (!r)
        return job->status;
    if (PQntuples(r) == 1) {
        *created_us = pg__int(r, 0, 0);
        *seq = pg__int(r, 0, 1);
    } else {
        pg__fail(job, ERR_NOT_FOUND, "no such task %.60s", job->page.after);
    }
    PQclear(r);
    return job->status;
}

void pg__task_list(struct pg_conn *c, struct store_job *job)
{
    const struct store_task_filter *f = &job->task_filter;
    store__list_clear(&job->list);
    if (check_filter(job))
        return;
    int64_t created_us = job->page.desc ? INT64_MAX : INT64_MIN, seq = created_us;
    if (job->page.after[0] && task_key(c, job, &created_us, &seq))
        return;
    unsigned mask = store__task_list_mask(job);
    char sql[768];
    build_list_sql(mask, sql, sizeof sql);
    char pattern[2 * sizeof f->q + 3];
    like_pattern(f->q, pattern, sizeof pattern);
    struct pg_params p = {0};
    pg__p_text(&p, job->user_id);
    pg__p_int(&p, created_us);
    pg__p_int(&p, seq);
    pg__p_int(&p, job->page.limit + 1);
    bind_filter(&p, mask, f, pattern);
    PGresult *r = pg__query(c, job, (enum pg_stmt)(PG_TASK_LIST_FIRST + mask), sql, &p);
    void *rows = NULL;
    if (r && pg__fetch(job, r, job->page.limit, sizeof(struct store_task), &rows, &job->list.n,
                       &job->list.has_more, load_task, free_task) == 0)
        job->list.tasks = rows;
}
