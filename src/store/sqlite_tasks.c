/* sqlite_tasks.c - the tasks of the task-management app on SQLite.
 *
 * A task row keeps its tags as the JSON array the API returns; task_tags mirrors that array one
 * row per tag, rewritten on every create and update in the same transaction, so a tag filter is
 * an index lookup. Lists page by (created_us, seq) like threads. Their WHERE clause depends on
 * which filters are set; rather than one statement full of "?n IS NULL OR ..." terms, which no
 * planner can serve from an index, each combination of filters gets its own statement, built
 * once and cached per connection (SQLITE_TASK_LIST_VARIANTS slots).
 */
#include "store/backend.h"
#include "store/sqlite_internal.h"

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

static const char *const task_sql[ST_FIXED_COUNT] = {
    [ST_TASK_INSERT] = "INSERT INTO tasks (id, user_id, seq, title, notes, done, due_date, "
                       "due_time, tz, priority, tags, created_us, updated_us, completed_us) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    [ST_TASK_GET] = "SELECT " TASK_COLUMNS " FROM tasks WHERE id = ?1 AND user_id = ?2",
    [ST_TASK_UPDATE] = "UPDATE tasks SET title = ?3, notes = ?4, done = ?5, due_date = ?6, "
                       "due_time = ?7, tz = ?8, priority = ?9, tags = ?10, updated_us = ?11, "
                       "completed_us = ?12 WHERE id = ?1 AND user_id = ?2",
    [ST_TASK_DELETE] = "DELETE FROM tasks WHERE id = ?1 AND user_id = ?2 RETURNING " TASK_COLUMNS,
    [ST_TASK_KEY] = "SELECT created_us, seq FROM tasks WHERE id = ?1 AND user_id = ?2",
    [ST_TASK_TAGS_DELETE] = "DELETE FROM task_tags WHERE task_id = ?1",
    /* A tag listed twice in the array is one row. */
    [ST_TASK_TAG_INSERT] =
        "INSERT INTO task_tags (task_id, tag) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
};

static sqlite3_stmt *stmt(struct sqlite_conn *c, struct store_job *job, enum sqlite_stmt id)
{
    return sqlite__stmt(c, job, id, task_sql[id]);
}

static int load_task(sqlite3_stmt *st, void *elem)
{
    struct store_task *t = elem;
    t->title = sqlite__column_dup(st, 2, "");
    t->notes = sqlite__column_dup(st, 3, NULL);
    t->done = sqlite3_column_int(st, 4) != 0;
    t->priority = sqlite3_column_int(st, 8);
    t->tags_json = sqlite__column_dup(st, 9, "[]");
    t->created_us = sqlite3_column_int64(st, 10);
    t->updated_us = sqlite3_column_int64(st, 11);
    t->completed_us = sqlite3_column_int64(st, 12); /* NULL reads as 0, "open" */
    if (sqlite__column_copy(st, 0, t->id, sizeof t->id) ||
        sqlite__column_copy(st, 1, t->user_id, sizeof t->user_id) ||
        sqlite__column_copy(st, 5, t->due_date, sizeof t->due_date) ||
        sqlite__column_copy(st, 6, t->due_time, sizeof t->due_time) ||
        sqlite__column_copy(st, 7, t->tz, sizeof t->tz))
        return ERR_IO;
    return 0;
}

static void free_task(void *elem)
{
    store__task_clear(elem);
}

/* Steps st and takes its one row into job->task, replacing (and freeing) what the job held once
 * the row loaded whole; ERR_NOT_FOUND without a row. */
static int select_task(struct sqlite_conn *c, struct store_job *job, sqlite3_stmt *st)
{
    struct store_task t = {0};
    int r = sqlite__step(c, job, st);
    if (r == 1 && load_task(st, &t)) {
        store__task_clear(&t);
        sqlite__fail(job, ERR_IO, "malformed tasks row");
    } else if (r == 1) {
        store__task_clear(&job->task);
        job->task = t;
    } else if (r == 0) {
        sqlite__fail(job, ERR_NOT_FOUND, "no such task %.60s", job->task.id);
    }
    sqlite__stmt_done(st);
    return job->status;
}

/* ---- validation ------------------------------------------------------------------------- */

/* The digits-and-separators shape only: due dates are compared as text, which orders
 * "YYYY-MM-DD" correctly, so a differently shaped value would sort wrongly. The calendar is the
 * tasks module's to check. */
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

/* Parses tags_json (NULL = "[]"); ERR_INVALID unless it is an array of strings. */
static int parse_tags(struct store_job *job, cJSON **out)
{
    const char *text = job->task.tags_json ? job->task.tags_json : "[]";
    cJSON *tags = json_parse(text, strlen(text), 2, NULL);
    bool ok = cJSON_IsArray(tags);
    for (const cJSON *tag = ok ? tags->child : NULL; tag; tag = tag->next)
        ok = ok && cJSON_IsString(tag);
    if (!ok) {
        cJSON_Delete(tags);
        sqlite__fail(job, ERR_INVALID, "task tags must be a JSON array of strings");
        return job->status;
    }
    *out = tags;
    return 0;
}

static int check_task(struct store_job *job, cJSON **tags)
{
    const struct store_task *t = &job->task;
    if (sqlite__need_user(job))
        return job->status;
    if (!t->id[0] || !t->title || !t->title[0])
        sqlite__fail(job, ERR_INVALID, "a task needs an id and a title");
    else if (t->priority < STORE_PRIORITY_LOW || t->priority > STORE_PRIORITY_HIGH)
        sqlite__fail(job, ERR_INVALID, "task priority %d is out of range", t->priority);
    else if (!date_ok(t->due_date) || (t->due_time[0] && !has_shape(t->due_time, "99:99")))
        sqlite__fail(job, ERR_INVALID, "task due date or time is malformed");
    else
        parse_tags(job, tags);
    return job->status;
}

/* ---- writes ----------------------------------------------------------------------------- */

/* Binds the fields every write sets, from title on, at first, first + 1, ... first + 7. */
static void bind_task_fields(sqlite3_stmt *st, int first, const struct store_task *t)
{
    sqlite3_bind_text(st, first, t->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, first + 1, t->notes, -1, SQLITE_STATIC); /* NULL binds NULL */
    sqlite3_bind_int(st, first + 2, t->done ? 1 : 0);
    sqlite__bind_opt(st, first + 3, t->due_date, sizeof t->due_date);
    sqlite__bind_opt(st, first + 4, t->due_time, sizeof t->due_time);
    sqlite__bind_opt(st, first + 5, t->tz, sizeof t->tz);
    sqlite3_bind_int(st, first + 6, t->priority);
    sqlite3_bind_text(st, first + 7, t->tags_json ? t->tags_json : "[]", -1, SQLITE_STATIC);
}

static void bind_completed(sqlite3_stmt *st, int i, int64_t completed_us)
{
    if (completed_us)
        sqlite3_bind_int64(st, i, completed_us);
    else
        sqlite3_bind_null(st, i);
}

/* Rewrites the task_tags rows of the task from its parsed tags array. */
static int sync_tags(struct sqlite_conn *c, struct store_job *job, const cJSON *tags)
{
    const char *id = job->task.id;
    sqlite3_stmt *st = stmt(c, job, ST_TASK_TAGS_DELETE);
    if (!st)
        return job->status;
    sqlite__bind_text(st, 1, id, sizeof job->task.id);
    if (sqlite__exec(c, job, st, NULL))
        return job->status;
    const cJSON *tag;
    cJSON_ArrayForEach(tag, tags)
    {
        if ((st = stmt(c, job, ST_TASK_TAG_INSERT)) == NULL)
            break;
        sqlite__bind_text(st, 1, id, sizeof job->task.id);
        sqlite3_bind_text(st, 2, tag->valuestring, -1, SQLITE_STATIC);
        if (sqlite__exec(c, job, st, NULL))
            break;
    }
    return job->status;
}

static void task_insert(struct sqlite_conn *c, struct store_job *job, const cJSON *tags)
{
    const struct store_task *t = &job->task;
    int64_t seq;
    if (sqlite__user_insert(c, job, job->user_id, t->created_us) || sqlite__next_seq(c, job, &seq))
        return;
    sqlite3_stmt *st = stmt(c, job, ST_TASK_INSERT);
    if (!st)
        return;
    sqlite__bind_text(st, 1, t->id, sizeof t->id);
    sqlite__bind_text(st, 2, job->user_id, sizeof job->user_id);
    sqlite3_bind_int64(st, 3, seq);
    bind_task_fields(st, 4, t);
    sqlite3_bind_int64(st, 12, t->created_us);
    sqlite3_bind_int64(st, 13, t->updated_us ? t->updated_us : t->created_us);
    bind_completed(st, 14, t->completed_us);
    if (sqlite__exec(c, job, st, &job->affected) == 0)
        sync_tags(c, job, tags);
}

void sqlite__task_create(struct sqlite_conn *c, struct store_job *job)
{
    cJSON *tags = NULL;
    if (check_task(job, &tags))
        return;
    task_insert(c, job, tags);
    cJSON_Delete(tags);
}

void sqlite__task_get(struct sqlite_conn *c, struct store_job *job)
{
    if (sqlite__need_user(job))
        return;
    sqlite3_stmt *st = stmt(c, job, ST_TASK_GET);
    if (!st)
        return;
    sqlite__bind_text(st, 1, job->task.id, sizeof job->task.id);
    sqlite__bind_text(st, 2, job->user_id, sizeof job->user_id);
    select_task(c, job, st);
}

static void task_update(struct sqlite_conn *c, struct store_job *job, const cJSON *tags)
{
    const struct store_task *t = &job->task;
    sqlite3_stmt *st = stmt(c, job, ST_TASK_UPDATE);
    if (!st)
        return;
    sqlite__bind_text(st, 1, t->id, sizeof t->id);
    sqlite__bind_text(st, 2, job->user_id, sizeof job->user_id);
    bind_task_fields(st, 3, t);
    sqlite3_bind_int64(st, 11, t->updated_us);
    bind_completed(st, 12, t->completed_us);
    if (sqlite__exec(c, job, st, &job->affected))
        return;
    if (job->affected == 0)
        sqlite__fail(job, ERR_NOT_FOUND, "no such task %.60s", t->id);
    else if (sync_tags(c, job, tags) == 0)
        sqlite__task_get(c, job); /* the bindings above are cleared: the strings may go */
}

void sqlite__task_update(struct sqlite_conn *c, struct store_job *job)
{
    cJSON *tags = NULL;
    if (check_task(job, &tags))
        return;
    task_update(c, job, tags);
    cJSON_Delete(tags);
}

/* The task_tags rows go with the task through their foreign key's ON DELETE CASCADE. */
void sqlite__task_delete(struct sqlite_conn *c, struct store_job *job)
{
    if (sqlite__need_user(job))
        return;
    sqlite3_stmt *st = stmt(c, job, ST_TASK_DELETE);
    if (!st)
        return;
    sqlite__bind_text(st, 1, job->task.id, sizeof job->task.id);
    sqlite__bind_text(st, 2, job->user_id, sizeof job->user_id);
    if (select_task(c, job, st) == 0)
        job->affected = 1;
}

/* ---- list ------------------------------------------------------------------------------- */

_Static_assert(STORE_TL_VARIANTS == SQLITE_TASK_LIST_VARIANTS,
               "one cache slot per filter combination");

/* The statement text of one filter combination. Parameter numbers are fixed per filter (?1 user,
 * ?2 ?3 the key, ?4 the limit, ?5.. the filters), so binding does not depend on the mask's other
 * bits. The tag filter is a subquery on task_tags(tag); q matches title or notes with LIKE, which
 * SQLite folds for ASCII only (PostgreSQL would say ILIKE). */
static void build_list_sql(unsigned mask, char *sql, size_t cap)
{
    bool desc = mask & STORE_TL_DESC;
    int n = snprintf(sql, cap,
                     "SELECT " TASK_COLUMNS " FROM tasks WHERE user_id = ?1 "
                     "AND (created_us, seq) %s (?2, ?3)",
                     desc ? "<" : ">");
    static const struct {
        unsigned bit;
        const char *sql;
    } terms[] = {
        {STORE_TL_STATUS, " AND done = ?5"},
        {STORE_TL_PRIORITY, " AND priority = ?6"},
        {STORE_TL_TAG, " AND id IN (SELECT task_id FROM task_tags WHERE tag = ?7)"},
        {STORE_TL_DUE_BEFORE, " AND due_date <= ?8"},
        {STORE_TL_DUE_AFTER, " AND due_date >= ?9"},
        {STORE_TL_HAS_DUE, " AND due_date IS NOT NULL"},
        {STORE_TL_Q, " AND (title LIKE ?10 ESCAPE '\\' OR notes LIKE ?10 ESCAPE '\\')"},
    };
    for (size_t i = 0; i < sizeof terms / sizeof terms[0]; i++) {
        if (mask & terms[i].bit)
            n += snprintf(sql + n, cap - (size_t)n, "%s", terms[i].sql);
    }
    snprintf(sql + n, cap - (size_t)n, " ORDER BY created_us %s, seq %s LIMIT ?4",
             desc ? "DESC" : "ASC", desc ? "DESC" : "ASC");
}

/* "%" + q with \, % and _ escaped + "%": a substring match of the literal text. */
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

static int check_filter(struct store_job *job)
{
    const struct store_task_filter *f = &job->task_filter;
    if (sqlite__need_user(job) || sqlite__check_limit(job))
        return job->status;
    if (f->status < -1 || f->status > 1 || f->priority < -1 || f->priority > STORE_PRIORITY_HIGH)
        sqlite__fail(job, ERR_INVALID, "task filter status or priority is out of range");
    else if (!date_ok(f->due_before) || !date_ok(f->due_after))
        sqlite__fail(job, ERR_INVALID, "task filter dates must be YYYY-MM-DD");
    return job->status;
}

static int task_key(struct sqlite_conn *c, struct store_job *job, int64_t *created_us, int64_t *seq)
{
    sqlite3_stmt *st = stmt(c, job, ST_TASK_KEY);
    if (!st)
        return job->status;
    sqlite__bind_text(st, 1, job->page.after, sizeof job->page.after);
    sqlite__bind_text(st, 2, job->user_id, sizeof job->user_id);
    int r = sqlite__step(c, job, st);
    if (r == 1) {
        *created_us = sqlite3_column_int64(st, 0);
        *seq = sqlite3_column_int64(st, 1);
    } else if (r == 0) {
        sqlite__fail(job, ERR_NOT_FOUND, "no such task %.60s", job->page.after);
    }
    sqlite__stmt_done(st);
    return job->status;
}

static void bind_filter(sqlite3_stmt *st, unsigned mask, const struct store_task_filter *f,
                        const char *pattern)
{
    if (mask & STORE_TL_STATUS)
        sqlite3_bind_int(st, 5, f->status);
    if (mask & STORE_TL_PRIORITY)
        sqlite3_bind_int(st, 6, f->priority);
    if (mask & STORE_TL_TAG)
        sqlite__bind_text(st, 7, f->tag, sizeof f->tag);
    if (mask & STORE_TL_DUE_BEFORE)
        sqlite__bind_text(st, 8, f->due_before, sizeof f->due_before);
    if (mask & STORE_TL_DUE_AFTER)
        sqlite__bind_text(st, 9, f->due_after, sizeof f->due_after);
    if (mask & STORE_TL_Q)
        sqlite3_bind_text(st, 10, pattern, -1, SQLITE_STATIC);
}

void sqlite__task_list(struct sqlite_conn *c, struct store_job *job)
{
    const struct store_task_filter *f = &job->task_filter;
    store__list_clear(&job->list);
    if (check_filter(job))
        return;
    int64_t created_us = job->page.desc ? INT64_MAX : INT64_MIN, seq = created_us;
    if (job->page.after[0] && task_key(c, job, &created_us, &seq))
        return;
    unsigned mask = store__task_list_mask(job);
    enum sqlite_stmt id = (enum sqlite_stmt)(ST_TASK_LIST_FIRST + mask);
    char sql[768] = "";
    if (!c->stmts[id]) /* only the first use of a combination needs its text */
        build_list_sql(mask, sql, sizeof sql);
    sqlite3_stmt *st = sqlite__stmt(c, job, id, sql);
    if (!st)
        return;
    char pattern[2 * sizeof f->q + 3];
    like_pattern(f->q, pattern, sizeof pattern);
    sqlite__bind_text(st, 1, job->user_id, sizeof job->user_id);
    sqlite3_bind_int64(st, 2, created_us);
    sqlite3_bind_int64(st, 3, seq);
    sqlite3_bind_int(st, 4, job->page.limit + 1);
    bind_filter(st, mask, f, pattern);
    void *rows = NULL;
    if (sqlite__fetch(c, job, st, job->page.limit, sizeof(struct store_task), &rows, &job->list.n,
                      &job->list.has_more, load_task, free_task) == 0)
        job->list.tasks = rows;
}
