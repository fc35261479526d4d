/* test_store_tasks.c - the task operations against a real SQLite file.
 *
 * Every test gets a fresh mkdtemp() directory, a real uv loop and an open store; the teardown
 * closes the store, checks that the loop closes with no handle left open and removes the
 * directory. Owned strings in jobs are heap copies (strdup), as the contract requires.
 */
#include "store/store.h"
#include "store_fixture.h"

#include "core/err.h"

#include <dirent.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define ALICE "alice"
#define BOB   "bob"

static int setup(void **state)
{
    return store_fixture_setup(state, "test_store_tasks");
}

static int teardown(void **state)
{
    return store_fixture_teardown(state);
}

/* A task as a test describes it; strings are copied into the job. */
struct spec {
    const char *id;
    const char *title;
    const char *notes;
    bool done;
    const char *due_date;
    int priority;
    const char *tags;
    int64_t created_us;
};

static void fill_task(struct store_task *t, const struct spec *s)
{
    snprintf(t->id, sizeof t->id, "%s", s->id);
    t->title = store_fixture_heap(s->title);
    t->notes = store_fixture_heap(s->notes);
    t->done = s->done;
    snprintf(t->due_date, sizeof t->due_date, "%s", s->due_date ? s->due_date : "");
    t->priority = s->priority;
    t->tags_json = store_fixture_heap(s->tags);
    t->created_us = s->created_us;
    t->completed_us = s->done ? s->created_us + 1 : 0;
}

static int create_task(struct store_fixture *fx, const char *user, const struct spec *s)
{
    struct store_job job;
    store_fixture_prep(&job, STORE_TASK_CREATE, user);
    fill_task(&job.task, s);
    return store_fixture_run_clear(fx, &job);
}

/* ---- single tasks ----------------------------------------------------------------------- */

static void test_task_round_trip(void **state)
{
    struct store_fixture *fx = *state;
    struct store_job job;
    store_fixture_prep(&job, STORE_TASK_CREATE, ALICE);
    struct store_task *t = &job.task;
    snprintf(t->id, sizeof t->id, "task_1");
    t->title = store_fixture_heap("Buy milk é");
    t->notes = store_fixture_heap("2 litres");
    t->done = true;
    snprintf(t->due_date, sizeof t->due_date, "2026-05-19");
    snprintf(t->due_time, sizeof t->due_time, "09:30");
    snprintf(t->tz, sizeof t->tz, "Europe/Paris");
    t->priority = STORE_PRIORITY_HIGH;
    t->tags_json = store_fixture_heap("[\"home\",\"shop\",\"home\"]");
    t->created_us = 1000;
    t->updated_us = 1100;
    t->completed_us = 1200;
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_int_equal(job.affected, 1);
    store_job_clear(&job);

    store_fixture_prep(&job, STORE_TASK_GET, ALICE);
    snprintf(job.task.id, sizeof job.task.id, "task_1");
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_string_equal(t->user_id, ALICE);
    assert_string_equal(t->title, "Buy milk é");
    assert_string_equal(t->notes, "2 litres");
    assert_true(t->done);
    assert_string_equal(t->due_date, "2026-05-19");
    assert_string_equal(t->due_time, "09:30");
    assert_string_equal(t->tz, "Europe/Paris");
    assert_int_equal(t->priority, STORE_PRIORITY_HIGH);
    assert_string_equal(t->tags_json, "[\"home\",\"shop\",\"home\"]");
    assert_int_equal(t->created_us, 1000);
    assert_int_equal(t->updated_us, 1100);
    assert_int_equal(t->completed_us, 1200);
    assert_int_equal(store_fixture_run_job(fx, &job), 0); /* reuse: replaced, not leaked */
    store_job_clear(&job);
    assert_int_equal(
        store_fixture_sql_int(fx, "SELECT count(*) FROM task_tags WHERE task_id = 'task_1'"), 2);
    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(*) FROM users WHERE id = 'alice'"), 1);

    /* Defaults. */
    const struct spec plain = {.id = "task_2", .title = "Plain", .created_us = 2000};
    assert_int_equal(create_task(fx, ALICE, &plain), 0);
    store_fixture_prep(&job, STORE_TASK_GET, ALICE);
    snprintf(job.task.id, sizeof job.task.id, "task_2");
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_null(t->notes);
    assert_false(t->done);
    assert_string_equal(t->due_date, "");
    assert_string_equal(t->due_time, "");
    assert_string_equal(t->tz, "");
    assert_string_equal(t->tags_json, "[]");
    assert_int_equal(t->updated_us, 2000);
    assert_int_equal(t->completed_us, 0);
    store_job_clear(&job);
    assert_int_equal(
        store_fixture_sql_int(fx, "SELECT count(*) FROM tasks WHERE due_date IS NULL "
                                  "AND due_time IS NULL AND tz IS NULL AND completed_us IS NULL"),
        1);

    /* Errors. */
    assert_int_equal(create_task(fx, ALICE, &plain), ERR_EXISTS);
    assert_int_equal(create_task(fx, BOB, &plain), ERR_EXISTS);
    assert_int_equal(create_task(fx, NULL, &(struct spec){.id = "t3", .title = "x"}), ERR_INVALID);
    const struct spec bad[] = {
        {.id = "", .title = "x"},
        {.id = "t3"},
        {.id = "t3", .title = ""},
        {.id = "t3", .title = "x", .priority = 3},
        {.id = "t3", .title = "x", .priority = -1},
        {.id = "t3", .title = "x", .due_date = "2026-5-19"},
        {.id = "t3", .title = "x", .due_date = "tomorrow"},
        {.id = "t3", .title = "x", .tags = "{\"a\":1}"},
        {.id = "t3", .title = "x", .tags = "[\"a\",1]"},
        {.id = "t3", .title = "x", .tags = "[[\"a\"]]"},
        {.id = "t3", .title = "x", .tags = "not json"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = create_task(fx, ALICE, &bad[i]);
        if (rc != ERR_INVALID)
            fail_msg("case %zu: %s", i, err_str(rc));
    }
    store_fixture_prep(&job, STORE_TASK_CREATE, ALICE);
    fill_task(&job.task, &(struct spec){.id = "t3", .title = "x"});
    snprintf(job.task.due_time, sizeof job.task.due_time, "9h30");
    assert_int_equal(store_fixture_run_clear(fx, &job), ERR_INVALID);
    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(*) FROM tasks"), 2);

    const char *users[] = {ALICE, BOB, NULL};
    const char *ids[] = {"task_none", "task_1", "task_1"};
    const int want[] = {ERR_NOT_FOUND, ERR_NOT_FOUND, ERR_INVALID};
    for (int i = 0; i < 3; i++) {
        store_fixture_prep(&job, STORE_TASK_GET, users[i]);
        snprintf(job.task.id, sizeof job.task.id, "%s", ids[i]);
        assert_int_equal(store_fixture_run_job(fx, &job), want[i]);
        assert_null(job.task.title);
        store_job_clear(&job);
    }
}

static void test_task_update(void **state)
{
    struct store_fixture *fx = *state;
    const struct spec s = {.id = "task_1",
                           .title = "Old",
                           .notes = "n",
                           .priority = 1,
                           .tags = "[\"a\",\"b\"]",
                           .due_date = "2026-01-01",
                           .created_us = 1000};
    assert_int_equal(create_task(fx, ALICE, &s), 0);

    struct store_job job;
    store_fixture_prep(&job, STORE_TASK_UPDATE, ALICE);
    struct store_task *t = &job.task;
    snprintf(t->id, sizeof t->id, "task_1");
    t->title = store_fixture_heap("New");
    t->done = true;
    snprintf(t->due_time, sizeof t->due_time, "10:00");
    t->priority = STORE_PRIORITY_LOW;
    t->tags_json = store_fixture_heap("[\"b\",\"c\"]");
    t->created_us = 5; /* ignored: created_us is kept */
    t->updated_us = 3000;
    t->completed_us = 3000;
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_int_equal(job.affected, 1);
    assert_string_equal(t->title, "New");
    assert_null(t->notes); /* every field replaced: NULL notes clears them */
    assert_true(t->done);
    assert_string_equal(t->due_date, "");
    assert_string_equal(t->due_time, "10:00");
    assert_int_equal(t->priority, STORE_PRIORITY_LOW);
    assert_string_equal(t->tags_json, "[\"b\",\"c\"]");
    assert_int_equal(t->created_us, 1000);
    assert_int_equal(t->updated_us, 3000);
    assert_int_equal(t->completed_us, 3000);

    /* Reopen through the loaded job itself. */
    job.op = STORE_TASK_UPDATE;
    t->done = false;
    t->completed_us = 0;
    free(t->tags_json);
    t->tags_json = NULL; /* "[]" */
    t->updated_us = 4000;
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_false(t->done);
    assert_int_equal(t->completed_us, 0);
    assert_string_equal(t->tags_json, "[]");
    store_job_clear(&job);
    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(*) FROM task_tags"), 0);

    /* Errors leave the task alone. */
    const char *users[] = {BOB, ALICE, ALICE};
    const char *ids[] = {"task_1", "task_none", "task_1"};
    const char *tags[] = {"[]", "[]", "[1]"};
    const int want[] = {ERR_NOT_FOUND, ERR_NOT_FOUND, ERR_INVALID};
    for (int i = 0; i < 3; i++) {
        store_fixture_prep(&job, STORE_TASK_UPDATE, users[i]);
        snprintf(job.task.id, sizeof job.task.id, "%s", ids[i]);
        job.task.title = store_fixture_heap("Changed");
        job.task.tags_json = store_fixture_heap(tags[i]);
        assert_int_equal(store_fixture_run_job(fx, &job), want[i]);
        assert_int_equal(job.affected, 0);
        store_job_clear(&job);
    }
    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(*) FROM tasks WHERE title = 'New'"),
                     1);
}

static void test_task_delete(void **state)
{
    struct store_fixture *fx = *state;
    const struct spec s = {
        .id = "task_1", .title = "Gone", .tags = "[\"x\",\"y\"]", .created_us = 1000};
    assert_int_equal(create_task(fx, ALICE, &s), 0);
    assert_int_equal(
        create_task(fx, ALICE, &(struct spec){.id = "task_2", .title = "Stays", .tags = "[\"x\"]"}),
        0);
    struct store_job job;
    store_fixture_prep(&job, STORE_TASK_DELETE, BOB);
    snprintf(job.task.id, sizeof job.task.id, "task_1");
    assert_int_equal(store_fixture_run_job(fx, &job), ERR_NOT_FOUND);
    assert_int_equal(job.affected, 0);
    store_job_clear(&job);

    store_fixture_prep(&job, STORE_TASK_DELETE, ALICE);
    snprintf(job.task.id, sizeof job.task.id, "task_1");
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_int_equal(job.affected, 1);
    assert_string_equal(job.task.title, "Gone"); /* the deleted task */
    assert_string_equal(job.task.tags_json, "[\"x\",\"y\"]");
    assert_int_equal(job.task.created_us, 1000);
    assert_int_equal(store_fixture_run_job(fx, &job), ERR_NOT_FOUND);
    assert_string_equal(job.task.title, "Gone"); /* a failed op leaves the outputs */
    store_job_clear(&job);
    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(*) FROM tasks"), 1);
    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(*) FROM task_tags"), 1);
}

/* ---- lists ------------------------------------------------------------------------------ */

/* Walks every page of TASK_LIST with the job's filter and writes the ids in order; each page
 * must be full until the last and has_more exact. */
static size_t walk(struct store_fixture *fx, const char *user,
                   const struct store_task_filter *filter, bool desc, int limit, size_t total,
                   char (*ids)[ID_MAX])
{
    char after[ID_MAX] = "";
    size_t n = 0;
    for (;;) {
        struct store_job job;
        store_fixture_prep(&job, STORE_TASK_LIST, user);
        if (filter)
            job.task_filter = *filter;
        job.page.limit = limit;
        job.page.desc = desc;
        memcpy(job.page.after, after, sizeof after);
        assert_int_equal(store_fixture_run_job(fx, &job), 0);
        size_t want = total - n < (size_t)limit ? total - n : (size_t)limit;
        if (job.list.n != want)
            fail_msg("page of %zu tasks, expected %zu (after %zu)", job.list.n, want, n);
        for (size_t i = 0; i < job.list.n; i++)
            snprintf(ids[n++], ID_MAX, "%s", job.list.tasks[i].id);
        assert_int_equal(job.list.has_more, n < total);
        bool more = job.list.has_more;
        if (more)
            snprintf(after, sizeof after, "%s", job.list.tasks[job.list.n - 1].id);
        store_job_clear(&job);
        if (!more)
            return n;
    }
}

#define N_PAGED 45

static void test_task_paging(void **state)
{
    struct store_fixture *fx = *state;
    /* created_us ties in threes, inserted out of time order; expected order by hand: time,
     * then insertion. */
    char names[N_PAGED][ID_MAX];
    size_t order[N_PAGED], k = 0;
    for (size_t i = 0; i < N_PAGED; i++) {
        snprintf(names[i], ID_MAX, "task_%04zu", i);
        struct spec s = {.id = names[i], .title = "t", .created_us = 1000 + (int64_t)(i * 7 % 15)};
        assert_int_equal(create_task(fx, ALICE, &s), 0);
        if (i % 10 == 0) {
            char other[ID_MAX];
            snprintf(other, sizeof other, "task_bob_%zu", i);
            s.id = other;
            assert_int_equal(create_task(fx, BOB, &s), 0);
        }
    }
    for (int64_t t = 0; t < 15; t++) {
        for (size_t i = 0; i < N_PAGED; i++) {
            if ((int64_t)(i * 7 % 15) == t)
                order[k++] = i;
        }
    }
    for (int desc = 0; desc <= 1; desc++) {
        static const int limits[] = {20, 15, 1, 1000};
        for (size_t l = 0; l < sizeof limits / sizeof limits[0]; l++) {
            char ids[N_PAGED][ID_MAX];
            assert_int_equal(walk(fx, ALICE, NULL, desc, limits[l], N_PAGED, ids), N_PAGED);
            for (size_t i = 0; i < N_PAGED; i++)
                assert_string_equal(ids[i], names[order[desc ? N_PAGED - 1 - i : i]]);
        }
    }
    struct store_job job;
    const struct {
        const char *user, *after;
        int limit, status;
    } bad[] = {
        {ALICE, "task_bob_0", 10, ERR_NOT_FOUND},     {ALICE, "task_unknown", 10, ERR_NOT_FOUND},
        {BOB, "task_0001", 10, ERR_NOT_FOUND},        {ALICE, "", 0, ERR_INVALID},
        {ALICE, "", STORE_PAGE_MAX + 1, ERR_INVALID}, {NULL, "", 10, ERR_INVALID},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        store_fixture_prep(&job, STORE_TASK_LIST, bad[i].user);
        snprintf(job.page.after, sizeof job.page.after, "%s", bad[i].after);
        job.page.limit = bad[i].limit;
        assert_int_equal(store_fixture_run_job(fx, &job), bad[i].status);
        assert_int_equal(job.list.n, 0);
        store_job_clear(&job);
    }
    store_fixture_prep(&job, STORE_TASK_LIST, BOB);
    job.page.limit = 100;
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_int_equal(job.list.n, 5);
    store_job_clear(&job);
}

/* The filter fixture: ids say what each task is. */
static const struct spec filter_tasks[] = {
    {"t_open_hi_work", "Ship release", "notes on 100% coverage", false, "2026-03-01", 2,
     "[\"work\",\"urgent\"]", 10},
    {"t_done_lo_home", "Water plants", NULL, true, NULL, 0, "[\"home\"]", 20},
    {"t_open_no_home", "Call MOM", "about the_party", false, "2026-03-05", 1, "[\"home\"]", 30},
    {"t_open_lo_none", "Read 50%_ of book", NULL, false, "2026-02-28", 0, "[]", 40},
    {"t_done_hi_work", "Fix bug", "x_y", true, "2026-03-10", 2, "[\"work\"]", 50},
    {"t_open_no_back", "Back\\slash task", NULL, false, NULL, 1, "[\"work\",\"home\"]", 60},
};
#define N_FILTER (sizeof filter_tasks / sizeof filter_tasks[0])

/* Lists with filter (asc, one page) and checks the ids, given as a mask over filter_tasks. */
static void expect(struct store_fixture *fx, const struct store_task_filter *f, unsigned mask)
{
    char ids[N_FILTER][ID_MAX];
    size_t want = 0;
    for (size_t i = 0; i < N_FILTER; i++)
        want += (mask >> i) & 1;
    /* Pages of 2 so the filtered walk crosses pages too. */
    assert_int_equal(walk(fx, ALICE, f, false, 2, want, ids), want);
    size_t k = 0;
    for (size_t i = 0; i < N_FILTER; i++) {
        if ((mask >> i) & 1)
            assert_string_equal(ids[k++], filter_tasks[i].id);
    }
}

static struct store_task_filter any(void)
{
    struct store_task_filter f = {.status = -1, .priority = -1};
    return f;
}

static void test_task_filters(void **state)
{
    struct store_fixture *fx = *state;
    for (size_t i = 0; i < N_FILTER; i++)
        assert_int_equal(create_task(fx, ALICE, &filter_tasks[i]), 0);
    /* Bob has a task matching every filter; it never shows. */
    const struct spec bobs = {"t_bob",
                              "Ship Call Fix 100%",
                              "the_party",
                              false,
                              "2026-03-01",
                              2,
                              "[\"work\",\"home\",\"urgent\"]",
                              15};
    assert_int_equal(create_task(fx, BOB, &bobs), 0);

    struct store_task_filter f = any();
    expect(fx, &f, 0x3f);
    struct store_job job;
    store_fixture_prep(&job, STORE_TASK_LIST, ALICE); /* store_job_init's filter is "any" */
    job.page.limit = 100;
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_int_equal(job.list.n, N_FILTER);
    store_job_clear(&job);

    f = any(), f.status = 0;
    expect(fx, &f, 0x2d); /* 0, 2, 3, 5 */
    f = any(), f.status = 1;
    expect(fx, &f, 0x12); /* 1, 4 */
    f = any(), f.priority = STORE_PRIORITY_HIGH;
    expect(fx, &f, 0x11);
    f = any(), f.priority = STORE_PRIORITY_LOW;
    expect(fx, &f, 0x0a);
    f = any(), snprintf(f.tag, sizeof f.tag, "home");
    expect(fx, &f, 0x26);
    f = any(), snprintf(f.tag, sizeof f.tag, "work");
    expect(fx, &f, 0x31);
    f = any(), snprintf(f.tag, sizeof f.tag, "hom"); /* exact tags only */
    expect(fx, &f, 0);
    f = any(), f.has_due = true;
    expect(fx, &f, 0x1d);
    f = any(), snprintf(f.due_before, sizeof f.due_before, "2026-03-05"); /* inclusive */
    expect(fx, &f, 0x0d);
    f = any(), snprintf(f.due_after, sizeof f.due_after, "2026-03-05");
    expect(fx, &f, 0x14);
    f = any(), snprintf(f.due_after, sizeof f.due_after, "2026-03-01");
    snprintf(f.due_before, sizeof f.due_before, "2026-03-05");
    expect(fx, &f, 0x05);

    /* q: case-insensitive substring of title or notes; %, _ and \ are literal. */
    f = any(), snprintf(f.q, sizeof f.q, "mom");
    expect(fx, &f, 0x04);
    f = any(), snprintf(f.q, sizeof f.q, "CALL m");
    expect(fx, &f, 0x04);
    f = any(), snprintf(f.q, sizeof f.q, "%%");
    expect(fx, &f, 0x09); /* "100%" in notes, "50%_" in a title */
    f = any(), snprintf(f.q, sizeof f.q, "_");
    expect(fx, &f, 0x1c); /* the_party, 50%_, x_y */
    f = any(), snprintf(f.q, sizeof f.q, "0%%_");
    expect(fx, &f, 0x08);
    f = any(), snprintf(f.q, sizeof f.q, "k\\s");
    expect(fx, &f, 0x20);
    f = any(), snprintf(f.q, sizeof f.q, "x%%y"); /* would match "x_y" if % were a wildcard */
    expect(fx, &f, 0);
    f = any(), snprintf(f.q, sizeof f.q, "notes on"); /* notes count */
    expect(fx, &f, 0x01);

    /* Combined. */
    f = any(), f.status = 0, snprintf(f.tag, sizeof f.tag, "home");
    expect(fx, &f, 0x24);
    f = any(), f.status = 1, f.priority = 2, snprintf(f.tag, sizeof f.tag, "work");
    expect(fx, &f, 0x10);
    f = any(), f.has_due = true, f.status = 0, snprintf(f.q, sizeof f.q, "a");
    expect(fx, &f, 0x0d);
    f = any(), snprintf(f.tag, sizeof f.tag, "work"), snprintf(f.q, sizeof f.q, "_");
    expect(fx, &f, 0x10);
    f = any(), f.priority = 1, snprintf(f.due_before, sizeof f.due_before, "2026-12-31");
    expect(fx, &f, 0x04);

    /* Newest first with a filter, cursor included. */
    char ids[N_FILTER][ID_MAX];
    f = any(), snprintf(f.tag, sizeof f.tag, "home");
    assert_int_equal(walk(fx, ALICE, &f, true, 1, 3, ids), 3);
    assert_string_equal(ids[0], "t_open_no_back");
    assert_string_equal(ids[2], "t_done_lo_home");

    /* A cursor need not match the filter. */
    store_fixture_prep(&job, STORE_TASK_LIST, ALICE);
    job.task_filter = any();
    snprintf(job.task_filter.tag, sizeof job.task_filter.tag, "work");
    snprintf(job.page.after, sizeof job.page.after, "t_done_lo_home");
    job.page.limit = 10;
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_int_equal(job.list.n, 2);
    assert_string_equal(job.list.tasks[0].id, "t_done_hi_work");
    store_job_clear(&job);

    /* Bad filters. */
    struct store_task_filter bad[6];
    for (int i = 0; i < 6; i++)
        bad[i] = any();
    bad[0].status = 2;
    bad[1].status = -2;
    bad[2].priority = 3;
    snprintf(bad[3].due_before, sizeof bad[3].due_before, "2026-3-1");
    snprintf(bad[4].due_after, sizeof bad[4].due_after, "soon");
    bad[5].priority = -7;
    for (int i = 0; i < 6; i++) {
        store_fixture_prep(&job, STORE_TASK_LIST, ALICE);
        job.task_filter = bad[i];
        job.page.limit = 10;
        assert_int_equal(store_fixture_run_clear(fx, &job), ERR_INVALID);
    }
}

static void test_task_tag_sync(void **state)
{
    struct store_fixture *fx = *state;
    assert_int_equal(
        create_task(fx, ALICE,
                    &(struct spec){.id = "task_1", .title = "t", .tags = "[\"old\",\"keep\"]"}),
        0);
    struct store_task_filter f = any();
    snprintf(f.tag, sizeof f.tag, "old");
    char ids[1][ID_MAX];
    assert_int_equal(walk(fx, ALICE, &f, false, 5, 1, ids), 1);

    struct store_job job;
    store_fixture_prep(&job, STORE_TASK_UPDATE, ALICE);
    fill_task(&job.task,
              &(struct spec){.id = "task_1", .title = "t", .tags = "[\"keep\",\"new\"]"});
    job.task.updated_us = 10;
    assert_int_equal(store_fixture_run_clear(fx, &job), 0);
    assert_int_equal(walk(fx, ALICE, &f, false, 5, 0, ids), 0);
    snprintf(f.tag, sizeof f.tag, "new");
    assert_int_equal(walk(fx, ALICE, &f, false, 5, 1, ids), 1);
    snprintf(f.tag, sizeof f.tag, "keep");
    assert_int_equal(walk(fx, ALICE, &f, false, 5, 1, ids), 1);
    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(*) FROM task_tags"), 2);

    /* A failed update (not found) leaves the tags as they were. */
    store_fixture_prep(&job, STORE_TASK_UPDATE, BOB);
    fill_task(&job.task, &(struct spec){.id = "task_1", .title = "t", .tags = "[\"bob\"]"});
    assert_int_equal(store_fixture_run_clear(fx, &job), ERR_NOT_FOUND);
    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(*) FROM task_tags WHERE tag = 'bob'"),
                     0);
}

/* Every task op by bob on alice's task is not found and changes nothing. */
static void test_other_user(void **state)
{
    struct store_fixture *fx = *state;
    assert_int_equal(
        create_task(fx, ALICE, &(struct spec){.id = "task_a", .title = "mine", .tags = "[\"a\"]"}),
        0);
    static const enum store_op ops[] = {STORE_TASK_GET, STORE_TASK_UPDATE, STORE_TASK_DELETE,
                                        STORE_TASK_LIST};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        struct store_job job;
        store_fixture_prep(&job, ops[i], BOB);
        if (ops[i] != STORE_TASK_LIST) /* the list's member is its filter (store.h) */
            fill_task(&job.task, &(struct spec){.id = "task_a", .title = "bob's"});
        snprintf(job.page.after, sizeof job.page.after, "task_a");
        job.page.limit = 10;
        int rc = store_fixture_run_clear(fx, &job);
        if (rc != ERR_NOT_FOUND)
            fail_msg("%s by another user: %s", store_op_name(ops[i]), err_str(rc));
    }
    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(*) FROM tasks WHERE title = 'mine'"),
                     1);
    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(*) FROM task_tags"), 1);
}

#define N_CONCURRENT 200

static void test_concurrent(void **state)
{
    struct store_fixture *fx = *state;
    assert_int_equal(
        create_task(fx, ALICE,
                    &(struct spec){.id = "task_main", .title = "main", .tags = "[\"x\"]"}),
        0);
    struct store_job *jobs = calloc(N_CONCURRENT, sizeof *jobs);
    assert_non_null(jobs);
    int done = 0, creates = 0;
    for (int i = 0; i < N_CONCURRENT; i++) {
        static const enum store_op mix[] = {STORE_TASK_CREATE, STORE_TASK_LIST, STORE_TASK_GET,
                                            STORE_TASK_UPDATE, STORE_TASK_LIST};
        struct store_job *job = &jobs[i];
        enum store_op op = mix[i % 5];
        store_job_init(job, op, store_fixture_on_job_count, &done);
        snprintf(job->user_id, sizeof job->user_id, "%s", ALICE);
        job->page.limit = 20;
        job->page.desc = i % 2;
        char id[ID_MAX];
        snprintf(id, sizeof id, "task_c%d", i);
        if (op == STORE_TASK_LIST) { /* a job fills only its op's member (store.h) */
            if (i % 3 == 0)
                snprintf(job->task_filter.tag, sizeof job->task_filter.tag, "x");
        } else {
            fill_task(&job->task, &(struct spec){.id = op == STORE_TASK_CREATE ? id : "task_main",
                                                 .title = "c",
                                                 .tags = "[\"x\",\"y\"]",
                                                 .created_us = i});
        }
        creates += op == STORE_TASK_CREATE;
        assert_int_equal(store_submit(fx->store, job), 0);
    }
    while (done < N_CONCURRENT)
        uv_run(&fx->loop, UV_RUN_ONCE);
    for (int i = 0; i < N_CONCURRENT; i++) {
        if (jobs[i].status)
            fail_msg("job %d (%s): %s", i, store_op_name(jobs[i].op), jobs[i].error);
        if (jobs[i].op == STORE_TASK_LIST)
            assert_true(jobs[i].list.n >= 1);
        store_job_clear(&jobs[i]);
    }
    free(jobs);
    const struct store_stats *st = store_get_stats(fx->store);
    assert_int_equal(st->in_flight, 0);
    assert_int_equal(st->errors_total, 0);
    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(*) FROM tasks"), creates + 1);
    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(*) FROM task_tags"),
                     2 * (creates + 1));
    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(DISTINCT seq) FROM tasks"),
                     creates + 1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_task_round_trip), T(test_task_update),   T(test_task_delete), T(test_task_paging),
        T(test_task_filters),    T(test_task_tag_sync), T(test_other_user),  T(test_concurrent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
