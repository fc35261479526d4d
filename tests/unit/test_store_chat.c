/* test_store_chat.c - threads, items, attachments and feedback against a real SQLite file.
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
    return store_fixture_setup(state, "test_store_chat");
}

static int teardown(void **state)
{
    return store_fixture_teardown(state);
}

static int create_thread(struct store_fixture *fx, const char *user, const char *id,
                         int64_t created_us)
{
    struct store_job job;
    store_fixture_prep(&job, STORE_THREAD_CREATE, user);
    snprintf(job.thread.id, sizeof job.thread.id, "%s", id);
    job.thread.created_us = created_us;
    return store_fixture_run_clear(fx, &job);
}

static int upsert_item(struct store_fixture *fx, const char *user, const char *thread,
                       const char *id, bool hidden, const char *json)
{
    struct store_job job;
    store_fixture_prep(&job, STORE_ITEM_UPSERT, user);
    snprintf(job.item.thread_id, sizeof job.item.thread_id, "%s", thread);
    snprintf(job.item.id, sizeof job.item.id, "%s", id);
    snprintf(job.item.type, sizeof job.item.type, "%s", hidden ? "hidden_context_item" : "widget");
    job.item.hidden = hidden;
    job.item.created_us = 5000;
    job.item.json = store_fixture_heap(json ? json : "{}");
    return store_fixture_run_clear(fx, &job);
}

static int create_attachment(struct store_fixture *fx, const char *user, const char *id,
                             const char *thread, bool attached, int64_t created_us)
{
    struct store_job job;
    store_fixture_prep(&job, STORE_ATTACHMENT_CREATE, user);
    struct store_attachment *a = &job.attachment;
    snprintf(a->id, sizeof a->id, "%s", id);
    snprintf(a->thread_id, sizeof a->thread_id, "%s", thread ? thread : "");
    snprintf(a->name, sizeof a->name, "%s.png", id);
    snprintf(a->mime_type, sizeof a->mime_type, "image/png");
    a->size = 1234;
    a->image = true;
    a->state = STORE_ATTACHMENT_UPLOADED;
    a->attached = attached;
    a->created_us = created_us;
    return store_fixture_run_clear(fx, &job);
}

static int64_t thread_updated_us(struct store_fixture *fx, const char *user, const char *id)
{
    struct store_job job;
    store_fixture_prep(&job, STORE_THREAD_GET, user);
    snprintf(job.thread.id, sizeof job.thread.id, "%s", id);
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    int64_t v = job.thread.updated_us;
    store_job_clear(&job);
    return v;
}

/* ---- threads ---------------------------------------------------------------------------- */

static void test_thread_round_trip(void **state)
{
    struct store_fixture *fx = *state;
    struct store_job job;
    store_fixture_prep(&job, STORE_THREAD_CREATE, ALICE);
    snprintf(job.thread.id, sizeof job.thread.id, "thr_full");
    job.thread.created_us = 1000;
    job.thread.updated_us = 1500;
    job.thread.title = store_fixture_heap("Greeting \"é\"");
    job.thread.status_json = store_fixture_heap("{\"type\":\"locked\",\"reason\":\"x\"}");
    job.thread.allowed_image_domains_json = store_fixture_heap("[\"img.example\"]");
    job.thread.metadata_json = store_fixture_heap("{\"last_response_id\":\"resp_1\"}");
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_int_equal(job.affected, 1);
    store_job_clear(&job);
    assert_null(job.thread.title);

    store_fixture_prep(&job, STORE_THREAD_GET, ALICE);
    snprintf(job.thread.id, sizeof job.thread.id, "thr_full");
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_string_equal(job.thread.user_id, ALICE);
    assert_int_equal(job.thread.created_us, 1000);
    assert_int_equal(job.thread.updated_us, 1500);
    assert_string_equal(job.thread.title, "Greeting \"é\"");
    assert_string_equal(job.thread.status_json, "{\"type\":\"locked\",\"reason\":\"x\"}");
    assert_string_equal(job.thread.allowed_image_domains_json, "[\"img.example\"]");
    assert_string_equal(job.thread.metadata_json, "{\"last_response_id\":\"resp_1\"}");
    /* Reusing the job without clearing it: the loaded strings are replaced, not leaked. */
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_string_equal(job.thread.title, "Greeting \"é\"");
    store_job_clear(&job);

    /* Defaults for NULL inputs. */
    assert_int_equal(create_thread(fx, ALICE, "thr_plain", 2000), 0);
    store_fixture_prep(&job, STORE_THREAD_GET, ALICE);
    snprintf(job.thread.id, sizeof job.thread.id, "thr_plain");
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_null(job.thread.title);
    assert_string_equal(job.thread.status_json, "{\"type\":\"active\"}");
    assert_null(job.thread.allowed_image_domains_json);
    assert_string_equal(job.thread.metadata_json, "{}");
    assert_int_equal(job.thread.updated_us, 2000);
    store_job_clear(&job);

    assert_int_equal(create_thread(fx, ALICE, "thr_plain", 3000), ERR_EXISTS);
    assert_int_equal(create_thread(fx, BOB, "thr_plain", 3000), ERR_EXISTS);
    assert_int_equal(create_thread(fx, ALICE, "", 3000), ERR_INVALID);
    assert_int_equal(create_thread(fx, NULL, "thr_nouser", 3000), ERR_INVALID);

    store_fixture_prep(&job, STORE_THREAD_GET, ALICE);
    snprintf(job.thread.id, sizeof job.thread.id, "thr_none");
    assert_int_equal(store_fixture_run_clear(fx, &job), ERR_NOT_FOUND);
    store_fixture_prep(&job, STORE_THREAD_GET, BOB); /* another user's thread is not found */
    snprintf(job.thread.id, sizeof job.thread.id, "thr_plain");
    assert_int_equal(store_fixture_run_clear(fx, &job), ERR_NOT_FOUND);
    store_fixture_prep(&job, STORE_THREAD_GET, NULL);
    snprintf(job.thread.id, sizeof job.thread.id, "thr_plain");
    assert_int_equal(store_fixture_run_clear(fx, &job), ERR_INVALID);

    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(*) FROM users WHERE id = 'alice'"), 1);
    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(*) FROM threads"), 2);
}

static void test_thread_update(void **state)
{
    struct store_fixture *fx = *state;
    struct store_job job;
    store_fixture_prep(&job, STORE_THREAD_CREATE, ALICE);
    snprintf(job.thread.id, sizeof job.thread.id, "thr_u");
    job.thread.created_us = 1000;
    job.thread.status_json = store_fixture_heap("{\"type\":\"closed\"}");
    job.thread.metadata_json = store_fixture_heap("{\"k\":1}");
    job.thread.allowed_image_domains_json = store_fixture_heap("[\"a\"]");
    assert_int_equal(store_fixture_run_clear(fx, &job), 0);

    /* A title-only update: NULL status and metadata keep theirs, NULL domains clears them. */
    store_fixture_prep(&job, STORE_THREAD_UPDATE, ALICE);
    snprintf(job.thread.id, sizeof job.thread.id, "thr_u");
    job.thread.title = store_fixture_heap("Renamed");
    job.thread.created_us = 99; /* ignored */
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_int_equal(job.affected, 1);
    assert_string_equal(job.thread.title, "Renamed");
    assert_string_equal(job.thread.status_json, "{\"type\":\"closed\"}");
    assert_string_equal(job.thread.metadata_json, "{\"k\":1}");
    assert_null(job.thread.allowed_image_domains_json);
    assert_int_equal(job.thread.created_us, 1000);
    assert_int_equal(job.thread.updated_us, 1000); /* 0 in the input keeps it */

    /* The loaded job is the input of the next update: every field is replaced. */
    job.op = STORE_THREAD_UPDATE;
    free(job.thread.status_json);
    job.thread.status_json = store_fixture_heap("{\"type\":\"active\"}");
    free(job.thread.metadata_json);
    job.thread.metadata_json = store_fixture_heap("{}");
    job.thread.allowed_image_domains_json = store_fixture_heap("[\"b\"]");
    job.thread.updated_us = 7777;
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_string_equal(job.thread.status_json, "{\"type\":\"active\"}");
    assert_string_equal(job.thread.metadata_json, "{}");
    assert_string_equal(job.thread.allowed_image_domains_json, "[\"b\"]");
    assert_int_equal(job.thread.updated_us, 7777);
    store_job_clear(&job);

    store_fixture_prep(&job, STORE_THREAD_UPDATE, BOB);
    snprintf(job.thread.id, sizeof job.thread.id, "thr_u");
    job.thread.title = store_fixture_heap("Stolen");
    assert_int_equal(store_fixture_run_job(fx, &job), ERR_NOT_FOUND);
    assert_int_equal(job.affected, 0);
    store_job_clear(&job);
    store_fixture_prep(&job, STORE_THREAD_UPDATE, ALICE);
    snprintf(job.thread.id, sizeof job.thread.id, "thr_none");
    assert_int_equal(store_fixture_run_clear(fx, &job), ERR_NOT_FOUND);
    assert_int_equal(
        store_fixture_sql_int(fx, "SELECT count(*) FROM threads WHERE title = 'Renamed'"), 1);
}

/* Positions 0..n-1 sorted by (key, position), ascending or descending. */
static void expected_order(const int64_t *key, size_t n, bool desc, size_t *out)
{
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0) {
            size_t p = out[j - 1];
            bool after = key[p] > key[i] || (key[p] == key[i] && p > i);
            if (!after)
                break;
            out[j] = out[j - 1];
            j--;
        }
        out[j] = i;
    }
    if (desc) {
        for (size_t i = 0; i < n / 2; i++) {
            size_t t = out[i];
            out[i] = out[n - 1 - i];
            out[n - 1 - i] = t;
        }
    }
}

static const char *row_id(const struct store_job *job, size_t i)
{
    return job->op == STORE_THREAD_LIST ? job->list.threads[i].id : job->list.items[i].id;
}

/* Walks every page of a THREAD_LIST or ITEM_LIST (thread given) and writes the ids in order.
 * Each page must be full until the last, and has_more must be exact. */
static size_t walk(struct store_fixture *fx, enum store_op op, const char *user, const char *thread,
                   bool desc, bool hidden, int limit, size_t total, char (*ids)[ID_MAX])
{
    char after[ID_MAX] = "";
    size_t n = 0;
    for (;;) {
        struct store_job job;
        store_fixture_prep(&job, op, user);
        snprintf(job.item.thread_id, sizeof job.item.thread_id, "%s", thread ? thread : "");
        job.page.limit = limit;
        job.page.desc = desc;
        job.page.include_hidden = hidden;
        memcpy(job.page.after, after, sizeof after);
        assert_int_equal(store_fixture_run_job(fx, &job), 0);
        size_t want = total - n < (size_t)limit ? total - n : (size_t)limit;
        assert_int_equal(job.list.n, want);
        for (size_t i = 0; i < job.list.n; i++)
            snprintf(ids[n++], ID_MAX, "%s", row_id(&job, i));
        assert_int_equal(job.list.has_more, n < total);
        bool more = job.list.has_more;
        if (more)
            snprintf(after, sizeof after, "%s", row_id(&job, job.list.n - 1));
        store_job_clear(&job);
        assert_null(job.list.threads);
        assert_null(job.list.items);
        if (!more)
            return n;
    }
}

#define N_PAGED 45

static void test_thread_list_paging(void **state)
{
    struct store_fixture *fx = *state;
    int64_t created[N_PAGED];
    char names[N_PAGED][ID_MAX];
    for (size_t i = 0; i < N_PAGED; i++) {
        created[i] = 1000 + (int64_t)((i * 7) % 15); /* 3 threads per time, out of order */
        snprintf(names[i], ID_MAX, "thr_%04zu", i);
        assert_int_equal(create_thread(fx, ALICE, names[i], created[i]), 0);
        if (i % 9 == 0) { /* bob's threads interleave and never show */
            char other[ID_MAX];
            snprintf(other, sizeof other, "thr_bob_%zu", i);
            assert_int_equal(create_thread(fx, BOB, other, created[i]), 0);
        }
    }
    for (int desc = 0; desc <= 1; desc++) {
        size_t order[N_PAGED];
        expected_order(created, N_PAGED, desc, order);
        static const int limits[] = {20, 15, 1, 45, 1000};
        for (size_t l = 0; l < sizeof limits / sizeof limits[0]; l++) {
            char ids[N_PAGED][ID_MAX];
            size_t n =
                walk(fx, STORE_THREAD_LIST, ALICE, NULL, desc, false, limits[l], N_PAGED, ids);
            assert_int_equal(n, N_PAGED);
            for (size_t i = 0; i < N_PAGED; i++)
                assert_string_equal(ids[i], names[order[i]]);
        }
    }

    struct store_job job;
    store_fixture_prep(&job, STORE_THREAD_LIST, ALICE);
    job.page.limit = 0;
    assert_int_equal(store_fixture_run_clear(fx, &job), ERR_INVALID);
    store_fixture_prep(&job, STORE_THREAD_LIST, ALICE);
    job.page.limit = STORE_PAGE_MAX + 1;
    assert_int_equal(store_fixture_run_clear(fx, &job), ERR_INVALID);
    store_fixture_prep(&job, STORE_THREAD_LIST, ALICE);
    job.page.limit = 10;
    snprintf(job.page.after, sizeof job.page.after, "thr_unknown");
    assert_int_equal(store_fixture_run_clear(fx, &job), ERR_NOT_FOUND);
    store_fixture_prep(&job, STORE_THREAD_LIST, ALICE); /* bob's thread is no cursor for alice */
    job.page.limit = 10;
    snprintf(job.page.after, sizeof job.page.after, "thr_bob_0");
    assert_int_equal(store_fixture_run_clear(fx, &job), ERR_NOT_FOUND);
    store_fixture_prep(&job, STORE_THREAD_LIST, BOB);
    job.page.limit = 10;
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_int_equal(job.list.n, 5);
    assert_false(job.list.has_more);
    store_job_clear(&job);
    store_fixture_prep(&job, STORE_THREAD_LIST, "carol"); /* a user with nothing */
    job.page.limit = 10;
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_int_equal(job.list.n, 0);
    assert_false(job.list.has_more);
    store_job_clear(&job);
}

/* ---- items ------------------------------------------------------------------------------ */

static void test_item_upsert_get(void **state)
{
    struct store_fixture *fx = *state;
    assert_int_equal(create_thread(fx, ALICE, "thr_a", 1000), 0);
    assert_int_equal(create_thread(fx, ALICE, "thr_b", 1000), 0);
    assert_int_equal(create_thread(fx, BOB, "thr_bob", 1000), 0);
    assert_int_equal(upsert_item(fx, ALICE, "thr_a", "msg_1", false, "{\"v\":1}"), 0);
    assert_int_equal(upsert_item(fx, ALICE, "thr_a", "msg_2", false, "{\"v\":2}"), 0);
    assert_int_equal(upsert_item(fx, ALICE, "thr_a", "msg_3", false, "{\"v\":3}"), 0);
    assert_true(thread_updated_us(fx, ALICE, "thr_a") > 1000); /* bumped to the wall clock */

    /* The same id again replaces the JSON, type and hidden in place. */
    struct store_job job;
    store_fixture_prep(&job, STORE_ITEM_UPSERT, ALICE);
    snprintf(job.item.thread_id, sizeof job.item.thread_id, "thr_a");
    snprintf(job.item.id, sizeof job.item.id, "msg_1");
    snprintf(job.item.type, sizeof job.item.type, "workflow");
    job.item.created_us = 999999; /* ignored on replace */
    job.item.json = store_fixture_heap("{\"v\":\"again\"}");
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_int_equal(job.affected, 1);
    store_job_clear(&job);
    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(*) FROM items WHERE id = 'msg_1'"), 1);

    char ids[3][ID_MAX];
    assert_int_equal(walk(fx, STORE_ITEM_LIST, ALICE, "thr_a", false, true, 10, 3, ids), 3);
    assert_string_equal(ids[0], "msg_1"); /* position kept */
    assert_string_equal(ids[1], "msg_2");
    assert_string_equal(ids[2], "msg_3");

    store_fixture_prep(&job, STORE_ITEM_GET, ALICE);
    snprintf(job.item.thread_id, sizeof job.item.thread_id, "thr_a");
    snprintf(job.item.id, sizeof job.item.id, "msg_1");
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_string_equal(job.item.json, "{\"v\":\"again\"}");
    assert_string_equal(job.item.type, "workflow");
    assert_string_equal(job.item.thread_id, "thr_a");
    assert_int_equal(job.item.created_us, 5000);
    assert_false(job.item.hidden);
    assert_int_equal(store_fixture_run_job(fx, &job), 0); /* reuse: replaced, not leaked */
    store_job_clear(&job);

    /* An id of another thread, an unknown thread, another user's thread, no JSON. */
    assert_int_equal(upsert_item(fx, ALICE, "thr_b", "msg_1", false, "{}"), ERR_EXISTS);
    assert_int_equal(upsert_item(fx, BOB, "thr_bob", "msg_1", false, "{}"), ERR_EXISTS);
    assert_int_equal(upsert_item(fx, ALICE, "thr_none", "msg_9", false, "{}"), ERR_NOT_FOUND);
    assert_int_equal(upsert_item(fx, BOB, "thr_a", "msg_9", false, "{}"), ERR_NOT_FOUND);
    assert_int_equal(upsert_item(fx, ALICE, "thr_a", "", false, "{}"), ERR_INVALID);
    store_fixture_prep(&job, STORE_ITEM_UPSERT, ALICE);
    snprintf(job.item.thread_id, sizeof job.item.thread_id, "thr_a");
    snprintf(job.item.id, sizeof job.item.id, "msg_nojson");
    assert_int_equal(store_fixture_run_clear(fx, &job), ERR_INVALID);
    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(*) FROM items"), 3);

    store_fixture_prep(&job, STORE_ITEM_GET, BOB);
    snprintf(job.item.thread_id, sizeof job.item.thread_id, "thr_a");
    snprintf(job.item.id, sizeof job.item.id, "msg_1");
    assert_int_equal(store_fixture_run_clear(fx, &job), ERR_NOT_FOUND);
    store_fixture_prep(&job, STORE_ITEM_GET, ALICE); /* right id, wrong thread */
    snprintf(job.item.thread_id, sizeof job.item.thread_id, "thr_b");
    snprintf(job.item.id, sizeof job.item.id, "msg_1");
    assert_int_equal(store_fixture_run_clear(fx, &job), ERR_NOT_FOUND);
}

static void test_item_update_delete(void **state)
{
    struct store_fixture *fx = *state;
    assert_int_equal(create_thread(fx, ALICE, "thr_a", 1000), 0);
    assert_int_equal(upsert_item(fx, ALICE, "thr_a", "msg_1", false, "{\"v\":1}"), 0);
    assert_int_equal(upsert_item(fx, ALICE, "thr_a", "msg_2", false, "{\"v\":2}"), 0);

    struct store_job job;
    store_fixture_prep(&job, STORE_ITEM_UPDATE, ALICE);
    snprintf(job.item.thread_id, sizeof job.item.thread_id, "thr_a");
    snprintf(job.item.id, sizeof job.item.id, "msg_2");
    snprintf(job.item.type, sizeof job.item.type, "sdk_hidden_context");
    job.item.hidden = true;
    job.item.json = store_fixture_heap("{\"v\":\"updated\"}");
    assert_int_equal(store_fixture_run_clear(fx, &job), 0);
    assert_int_equal(store_fixture_sql_int(fx, "SELECT hidden FROM items WHERE id = 'msg_2'"), 1);
    assert_int_equal(store_fixture_sql_int(fx, "SELECT json = '{\"v\":\"updated\"}' FROM items "
                                               "WHERE id = 'msg_2'"),
                     1);

    const char *users[] = {ALICE, BOB};
    const char *items[] = {"msg_none", "msg_1"};
    for (int i = 0; i < 2; i++) { /* absent for alice, bob's view of alice's item */
        store_fixture_prep(&job, STORE_ITEM_UPDATE, users[i]);
        snprintf(job.item.thread_id, sizeof job.item.thread_id, "thr_a");
        snprintf(job.item.id, sizeof job.item.id, "%s", items[i]);
        job.item.json = store_fixture_heap("{}");
        assert_int_equal(store_fixture_run_clear(fx, &job), ERR_NOT_FOUND);
    }
    assert_int_equal(
        store_fixture_sql_int(fx, "SELECT json = '{\"v\":1}' FROM items WHERE id = 'msg_1'"), 1);

    store_fixture_prep(&job, STORE_ITEM_DELETE, BOB);
    snprintf(job.item.thread_id, sizeof job.item.thread_id, "thr_a");
    snprintf(job.item.id, sizeof job.item.id, "msg_1");
    assert_int_equal(store_fixture_run_clear(fx, &job), ERR_NOT_FOUND);
    store_fixture_prep(&job, STORE_ITEM_DELETE, ALICE);
    snprintf(job.item.thread_id, sizeof job.item.thread_id, "thr_a");
    snprintf(job.item.id, sizeof job.item.id, "msg_1");
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_int_equal(job.affected, 1);
    assert_int_equal(store_fixture_run_job(fx, &job), 0); /* absent: no error */
    assert_int_equal(job.affected, 0);
    snprintf(job.item.thread_id, sizeof job.item.thread_id, "thr_none");
    assert_int_equal(store_fixture_run_clear(fx, &job), ERR_NOT_FOUND);
    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(*) FROM items"), 1);
}

static void test_item_list_paging(void **state)
{
    struct store_fixture *fx = *state;
    assert_int_equal(create_thread(fx, ALICE, "thr_a", 1000), 0);
    assert_int_equal(create_thread(fx, ALICE, "thr_b", 1000), 0);
    assert_int_equal(create_thread(fx, BOB, "thr_bob", 1000), 0);
    char names[N_PAGED][ID_MAX];
    size_t visible = 0;
    for (size_t i = 0; i < N_PAGED; i++) {
        snprintf(names[i], ID_MAX, "msg_%04zu", i);
        bool hidden = i % 5 == 2;
        visible += !hidden;
        /* Items are created with the same time: insertion order alone decides. */
        assert_int_equal(upsert_item(fx, ALICE, "thr_a", names[i], hidden, "{}"), 0);
        if (i % 10 == 0) { /* other threads' items interleave */
            char other[ID_MAX];
            snprintf(other, sizeof other, "msg_b_%zu", i);
            assert_int_equal(upsert_item(fx, ALICE, "thr_b", other, false, "{}"), 0);
        }
    }
    assert_int_equal(visible, 36);
    for (int desc = 0; desc <= 1; desc++) {
        char ids[N_PAGED][ID_MAX];
        assert_int_equal(walk(fx, STORE_ITEM_LIST, ALICE, "thr_a", desc, true, 20, N_PAGED, ids),
                         N_PAGED);
        for (size_t i = 0; i < N_PAGED; i++)
            assert_string_equal(ids[i], names[desc ? N_PAGED - 1 - i : i]);

        /* Hidden items skipped before the page is cut: pages of 20 and 16. */
        assert_int_equal(walk(fx, STORE_ITEM_LIST, ALICE, "thr_a", desc, false, 20, 36, ids), 36);
        size_t k = 0;
        for (size_t j = 0; j < N_PAGED; j++) {
            size_t i = desc ? N_PAGED - 1 - j : j;
            if (i % 5 != 2)
                assert_string_equal(ids[k++], names[i]);
        }
    }

    /* A hidden item is a valid cursor. */
    struct store_job job;
    store_fixture_prep(&job, STORE_ITEM_LIST, ALICE);
    snprintf(job.item.thread_id, sizeof job.item.thread_id, "thr_a");
    job.page.limit = 3;
    snprintf(job.page.after, sizeof job.page.after, "msg_0002");
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_int_equal(job.list.n, 3);
    assert_string_equal(job.list.items[0].id, "msg_0003");
    assert_string_equal(job.list.items[1].id, "msg_0004");
    assert_string_equal(job.list.items[2].id, "msg_0005");
    assert_true(job.list.has_more);
    /* Reusing a job that holds a list: the old list is freed and replaced. */
    snprintf(job.page.after, sizeof job.page.after, "msg_0043");
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_int_equal(job.list.n, 1);
    assert_false(job.list.has_more);
    store_job_clear(&job);

    /* Wrong cursors and threads. */
    const struct {
        const char *user, *thread, *after;
        int limit, status;
    } bad[] = {
        {ALICE, "thr_a", "msg_unknown", 5, ERR_NOT_FOUND},
        {ALICE, "thr_a", "msg_b_0", 5, ERR_NOT_FOUND}, /* an item of another thread */
        {BOB, "thr_a", "", 5, ERR_NOT_FOUND},
        {ALICE, "thr_bob", "", 5, ERR_NOT_FOUND},
        {ALICE, "thr_none", "", 5, ERR_NOT_FOUND},
        {ALICE, "thr_a", "", 0, ERR_INVALID},
        {ALICE, "", "", 5, ERR_INVALID},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        store_fixture_prep(&job, STORE_ITEM_LIST, bad[i].user);
        snprintf(job.item.thread_id, sizeof job.item.thread_id, "%s", bad[i].thread);
        snprintf(job.page.after, sizeof job.page.after, "%s", bad[i].after);
        job.page.limit = bad[i].limit;
        assert_int_equal(store_fixture_run_job(fx, &job), bad[i].status);
        assert_int_equal(job.list.n, 0);
        store_job_clear(&job);
    }
    /* An empty thread of the user is an empty page, not an error. */
    assert_int_equal(create_thread(fx, ALICE, "thr_empty", 1000), 0);
    store_fixture_prep(&job, STORE_ITEM_LIST, ALICE);
    snprintf(job.item.thread_id, sizeof job.item.thread_id, "thr_empty");
    job.page.limit = 5;
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_int_equal(job.list.n, 0);
    assert_false(job.list.has_more);
    store_job_clear(&job);
}

static void test_item_delete_after(void **state)
{
    struct store_fixture *fx = *state;
    assert_int_equal(create_thread(fx, ALICE, "thr_a", 1000), 0);
    assert_int_equal(create_thread(fx, ALICE, "thr_b", 1000), 0);
    for (int i = 0; i < 10; i++) {
        char id[ID_MAX];
        snprintf(id, sizeof id, "msg_%d", i);
        assert_int_equal(upsert_item(fx, ALICE, "thr_a", id, i == 7, "{}"), 0);
        snprintf(id, sizeof id, "msg_b%d", i);
        assert_int_equal(upsert_item(fx, ALICE, "thr_b", id, false, "{}"), 0);
    }
    struct store_job job;
    const struct {
        const char *user, *thread, *item;
        int status;
    } bad[] = {
        {BOB, "thr_a", "msg_3", ERR_NOT_FOUND},      {ALICE, "thr_a", "msg_b3", ERR_NOT_FOUND},
        {ALICE, "thr_a", "msg_none", ERR_NOT_FOUND}, {ALICE, "thr_none", "msg_3", ERR_NOT_FOUND},
        {ALICE, "thr_a", "", ERR_INVALID},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        store_fixture_prep(&job, STORE_ITEM_DELETE_AFTER, bad[i].user);
        snprintf(job.item.thread_id, sizeof job.item.thread_id, "%s", bad[i].thread);
        snprintf(job.item.id, sizeof job.item.id, "%s", bad[i].item);
        assert_int_equal(store_fixture_run_clear(fx, &job), bad[i].status);
    }
    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(*) FROM items"), 20);

    store_fixture_prep(&job, STORE_ITEM_DELETE_AFTER, ALICE);
    snprintf(job.item.thread_id, sizeof job.item.thread_id, "thr_a");
    snprintf(job.item.id, sizeof job.item.id, "msg_3");
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_int_equal(job.affected, 6); /* msg_4 .. msg_9, the hidden one included */
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_int_equal(job.affected, 0); /* msg_3 is now the last */
    store_job_clear(&job);
    assert_int_equal(
        store_fixture_sql_int(fx, "SELECT count(*) FROM items WHERE thread_id = 'thr_a'"), 4);
    assert_int_equal(
        store_fixture_sql_int(fx, "SELECT count(*) FROM items WHERE thread_id = 'thr_b'"), 10);

    /* New items still go to the end. */
    assert_int_equal(upsert_item(fx, ALICE, "thr_a", "msg_new", false, "{}"), 0);
    char ids[5][ID_MAX];
    assert_int_equal(walk(fx, STORE_ITEM_LIST, ALICE, "thr_a", true, true, 1, 5, ids), 5);
    assert_string_equal(ids[0], "msg_new");
    assert_string_equal(ids[1], "msg_3");
}

/* ---- thread deletion -------------------------------------------------------------------- */

static void test_thread_delete(void **state)
{
    struct store_fixture *fx = *state;
    assert_int_equal(create_thread(fx, ALICE, "thr_a", 1000), 0);
    assert_int_equal(create_thread(fx, ALICE, "thr_b", 1000), 0);
    for (int i = 0; i < 5; i++) {
        char id[ID_MAX];
        snprintf(id, sizeof id, "msg_a%d", i);
        assert_int_equal(upsert_item(fx, ALICE, "thr_a", id, false, "{}"), 0);
        snprintf(id, sizeof id, "msg_b%d", i);
        assert_int_equal(upsert_item(fx, ALICE, "thr_b", id, false, "{}"), 0);
    }
    assert_int_equal(create_attachment(fx, ALICE, "atc_1", "thr_a", true, 10), 0);
    assert_int_equal(create_attachment(fx, ALICE, "atc_2", "thr_a", true, 11), 0);
    assert_int_equal(create_attachment(fx, ALICE, "atc_3", "thr_b", true, 12), 0);
    assert_int_equal(create_attachment(fx, ALICE, "atc_4", NULL, false, 13), 0);

    struct store_job job;
    store_fixture_prep(&job, STORE_FEEDBACK_ADD, ALICE);
    snprintf(job.feedback.thread_id, sizeof job.feedback.thread_id, "thr_a");
    snprintf(job.feedback.kind, sizeof job.feedback.kind, "positive");
    job.item_ids_json = "[\"msg_a1\"]";
    assert_int_equal(store_fixture_run_clear(fx, &job), 0);

    store_fixture_prep(&job, STORE_THREAD_DELETE, BOB);
    snprintf(job.thread.id, sizeof job.thread.id, "thr_a");
    assert_int_equal(store_fixture_run_job(fx, &job), ERR_NOT_FOUND);
    assert_int_equal(job.list.n, 0);
    store_job_clear(&job);
    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(*) FROM items"), 10);

    store_fixture_prep(&job, STORE_THREAD_DELETE, ALICE);
    snprintf(job.thread.id, sizeof job.thread.id, "thr_a");
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_int_equal(job.affected, 1);
    assert_int_equal(job.list.n, 2);
    bool seen[2] = {false, false};
    for (size_t i = 0; i < job.list.n; i++) {
        const struct store_attachment *a = &job.list.attachments[i];
        assert_string_equal(a->user_id, ALICE);
        assert_string_equal(a->thread_id, "thr_a");
        assert_string_equal(a->mime_type, "image/png");
        if (strcmp(a->id, "atc_1") == 0)
            seen[0] = true;
        else if (strcmp(a->id, "atc_2") == 0)
            seen[1] = true;
    }
    assert_true(seen[0] && seen[1]);
    assert_int_equal(store_fixture_run_job(fx, &job),
                     ERR_NOT_FOUND); /* gone; the old list is freed */
    assert_int_equal(job.list.n, 0);
    store_job_clear(&job);

    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(*) FROM threads WHERE id = 'thr_a'"),
                     0);
    assert_int_equal(
        store_fixture_sql_int(fx, "SELECT count(*) FROM items WHERE thread_id = 'thr_a'"), 0);
    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(*) FROM items"), 5);
    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(*) FROM attachments"), 2);
    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(*) FROM feedback"),
                     1); /* kept for export */

    /* A thread without attachments or items. */
    assert_int_equal(create_thread(fx, ALICE, "thr_c", 1000), 0);
    store_fixture_prep(&job, STORE_THREAD_DELETE, ALICE);
    snprintf(job.thread.id, sizeof job.thread.id, "thr_c");
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_int_equal(job.list.n, 0);
    store_job_clear(&job);
}

/* ---- attachments ------------------------------------------------------------------------ */

static void test_attachments(void **state)
{
    struct store_fixture *fx = *state;
    assert_int_equal(create_attachment(fx, ALICE, "atc_1", NULL, false, 100), 0);
    assert_int_equal(create_attachment(fx, ALICE, "atc_1", NULL, false, 100), ERR_EXISTS);
    assert_int_equal(create_attachment(fx, BOB, "atc_1", NULL, false, 100), ERR_EXISTS);
    assert_int_equal(create_attachment(fx, ALICE, "", NULL, false, 100), ERR_INVALID);
    assert_int_equal(create_attachment(fx, NULL, "atc_x", NULL, false, 100), ERR_INVALID);

    struct store_job job;
    store_fixture_prep(&job, STORE_ATTACHMENT_GET, ALICE);
    snprintf(job.attachment.id, sizeof job.attachment.id, "atc_1");
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_string_equal(job.attachment.user_id, ALICE);
    assert_string_equal(job.attachment.thread_id, "");
    assert_string_equal(job.attachment.name, "atc_1.png");
    assert_string_equal(job.attachment.mime_type, "image/png");
    assert_int_equal(job.attachment.size, 1234);
    assert_true(job.attachment.image);
    assert_int_equal(job.attachment.state, STORE_ATTACHMENT_UPLOADED);
    assert_false(job.attachment.attached);
    assert_int_equal(job.attachment.created_us, 100);

    job.op = STORE_ATTACHMENT_UPDATE;
    snprintf(job.attachment.thread_id, sizeof job.attachment.thread_id, "thr_x");
    snprintf(job.attachment.name, sizeof job.attachment.name, "not-updated");
    job.attachment.size = 4321;
    job.attachment.state = STORE_ATTACHMENT_PENDING;
    job.attachment.attached = true;
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_int_equal(job.affected, 1);
    assert_string_equal(job.attachment.thread_id, "thr_x");
    assert_string_equal(job.attachment.name, "atc_1.png");
    assert_int_equal(job.attachment.size, 4321);
    assert_int_equal(job.attachment.state, STORE_ATTACHMENT_PENDING);
    assert_true(job.attachment.attached);

    /* Bob sees none of it. */
    static const enum store_op ops[] = {STORE_ATTACHMENT_GET, STORE_ATTACHMENT_UPDATE,
                                        STORE_ATTACHMENT_DELETE};
    for (size_t i = 0; i < 3; i++) {
        struct store_job other;
        store_fixture_prep(&other, ops[i], BOB);
        other.attachment = job.attachment;
        assert_int_equal(store_fixture_run_job(fx, &other), ERR_NOT_FOUND);
        assert_int_equal(other.affected, 0);
    }
    assert_int_equal(store_fixture_sql_int(fx, "SELECT size FROM attachments WHERE id = 'atc_1'"),
                     4321);

    store_fixture_prep(&job, STORE_ATTACHMENT_DELETE, ALICE);
    snprintf(job.attachment.id, sizeof job.attachment.id, "atc_1");
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_int_equal(job.affected, 1);
    assert_string_equal(job.attachment.thread_id, "thr_x"); /* the deleted row */
    assert_int_equal(job.attachment.size, 4321);
    assert_int_equal(store_fixture_run_job(fx, &job), ERR_NOT_FOUND);
    job.op = STORE_ATTACHMENT_GET;
    assert_int_equal(store_fixture_run_job(fx, &job), ERR_NOT_FOUND);
    job.op = STORE_ATTACHMENT_UPDATE;
    assert_int_equal(store_fixture_run_job(fx, &job), ERR_NOT_FOUND);
    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(*) FROM attachments"), 0);
}

static void test_attachment_stale(void **state)
{
    struct store_fixture *fx = *state;
    /* Unattached ones at 10, 20, ..., 70 from two users; attached ones never count. */
    for (int i = 1; i <= 7; i++) {
        char id[ID_MAX];
        snprintf(id, sizeof id, "atc_%d", i);
        assert_int_equal(create_attachment(fx, i % 2 ? ALICE : BOB, id, NULL, false, i * 10), 0);
        snprintf(id, sizeof id, "atc_used_%d", i);
        assert_int_equal(create_attachment(fx, ALICE, id, "thr_x", true, i * 10 - 5), 0);
    }
    struct store_job job;
    store_fixture_prep(&job, STORE_ATTACHMENT_STALE, NULL); /* any user */
    job.before_us = 50;                                     /* 10, 20, 30, 40 */
    job.page.limit = 3;
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_int_equal(job.list.n, 3);
    assert_true(job.list.has_more);
    assert_string_equal(job.list.attachments[0].id, "atc_1");
    assert_string_equal(job.list.attachments[1].id, "atc_2");
    assert_string_equal(job.list.attachments[2].id, "atc_3");
    assert_string_equal(job.list.attachments[1].user_id, BOB);
    job.page.limit = 4;
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_int_equal(job.list.n, 4);
    assert_false(job.list.has_more);
    job.before_us = 10; /* strictly before */
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_int_equal(job.list.n, 0);
    assert_false(job.list.has_more);
    job.page.limit = 0;
    assert_int_equal(store_fixture_run_job(fx, &job), ERR_INVALID);
    store_job_clear(&job);
}

/* ---- feedback --------------------------------------------------------------------------- */

static int add_feedback(struct store_fixture *fx, const char *user, const char *thread,
                        const char *kind, const char *ids, int64_t created_us, int64_t *affected)
{
    struct store_job job;
    store_fixture_prep(&job, STORE_FEEDBACK_ADD, user);
    snprintf(job.feedback.thread_id, sizeof job.feedback.thread_id, "%s", thread);
    snprintf(job.feedback.kind, sizeof job.feedback.kind, "%s", kind);
    job.feedback.created_us = created_us;
    job.item_ids_json = ids;
    int rc = store_fixture_run_clear(fx, &job);
    if (affected)
        *affected = job.affected;
    return rc;
}

static void test_feedback(void **state)
{
    struct store_fixture *fx = *state;
    assert_int_equal(create_thread(fx, ALICE, "thr_a", 1000), 0);
    assert_int_equal(create_thread(fx, ALICE, "thr_b", 1000), 0);
    assert_int_equal(create_thread(fx, BOB, "thr_bob", 1000), 0);
    assert_int_equal(upsert_item(fx, ALICE, "thr_a", "msg_1", false, "{}"), 0);
    assert_int_equal(upsert_item(fx, ALICE, "thr_a", "msg_2", false, "{}"), 0);
    assert_int_equal(upsert_item(fx, ALICE, "thr_b", "msg_b", false, "{}"), 0);
    assert_int_equal(upsert_item(fx, BOB, "thr_bob", "msg_bob", false, "{}"), 0);

    int64_t n = -1;
    assert_int_equal(add_feedback(fx, ALICE, "thr_a", "positive", "[\"msg_1\",\"msg_2\"]", 100, &n),
                     0);
    assert_int_equal(n, 2);
    assert_int_equal(add_feedback(fx, ALICE, "thr_a", "negative", "[]", 100, &n), 0);
    assert_int_equal(n, 0);

    /* All or nothing: one bad id stores none of the others. */
    const struct {
        const char *user, *thread, *kind, *ids;
        int status;
    } bad[] = {
        {ALICE, "thr_a", "positive", "[\"msg_1\",\"msg_none\"]", ERR_NOT_FOUND},
        {ALICE, "thr_a", "positive", "[\"msg_1\",\"msg_b\"]", ERR_NOT_FOUND},
        {BOB, "thr_a", "positive", "[\"msg_1\"]", ERR_NOT_FOUND},
        {BOB, "thr_bob", "positive", "[\"msg_1\"]", ERR_NOT_FOUND},
        {ALICE, "thr_none", "positive", "[\"msg_1\"]", ERR_NOT_FOUND},
        {ALICE, "thr_a", "positive",
         "[\"msg_1\",\"msg_1xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"]",
         ERR_NOT_FOUND},
        {ALICE, "thr_a", "meh", "[\"msg_1\"]", ERR_INVALID},
        {ALICE, "thr_a", "positive", "[\"msg_1\", 2]", ERR_INVALID},
        {ALICE, "thr_a", "positive", "{\"id\":\"msg_1\"}", ERR_INVALID},
        {ALICE, "thr_a", "positive", "[\"msg_1\"", ERR_INVALID},
        {ALICE, "thr_a", "positive", NULL, ERR_INVALID},
        {ALICE, "", "positive", "[\"msg_1\"]", ERR_INVALID},
        {NULL, "thr_a", "positive", "[\"msg_1\"]", ERR_INVALID},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = -1;
        int rc = add_feedback(fx, bad[i].user, bad[i].thread, bad[i].kind, bad[i].ids, 100, &n);
        if (rc != bad[i].status)
            fail_msg("case %zu: %s instead of %s", i, err_str(rc), err_str(bad[i].status));
    }
    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(*) FROM feedback"), 2);

    assert_int_equal(add_feedback(fx, ALICE, "thr_b", "negative", "[\"msg_b\"]", 200, NULL), 0);
    assert_int_equal(add_feedback(fx, BOB, "thr_bob", "positive", "[\"msg_bob\"]", 300, NULL), 0);
    assert_int_equal(add_feedback(fx, ALICE, "thr_a", "negative", "[\"msg_2\"]", 400, NULL), 0);

    /* Walk the export two at a time: every row once, ascending seq, exact has_more. */
    struct store_job job;
    store_fixture_prep(&job, STORE_FEEDBACK_EXPORT, NULL);
    job.page.limit = 2;
    int64_t last = 0;
    int seen = 0;
    const char *kinds[] = {"positive", "positive", "negative", "positive", "negative"};
    for (;;) {
        job.after_seq = last;
        assert_int_equal(store_fixture_run_job(fx, &job), 0);
        for (size_t i = 0; i < job.list.n; i++) {
            const struct store_feedback *f = &job.list.feedback[i];
            assert_true(f->seq > last);
            last = f->seq;
            assert_string_equal(f->kind, kinds[seen]);
            seen++;
        }
        assert_int_equal(job.list.has_more, seen < 5);
        if (!job.list.has_more)
            break;
    }
    assert_int_equal(seen, 5);
    store_job_clear(&job);

    store_fixture_prep(&job, STORE_FEEDBACK_EXPORT, NULL);
    job.page.limit = 10;
    job.before_us = 200; /* since */
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_int_equal(job.list.n, 3);
    assert_string_equal(job.list.feedback[0].item_id, "msg_b");
    assert_string_equal(job.list.feedback[0].thread_id, "thr_b");
    assert_string_equal(job.list.feedback[0].user_id, ALICE);
    assert_int_equal(job.list.feedback[0].created_us, 200);
    assert_string_equal(job.list.feedback[1].user_id, BOB);
    job.after_seq = job.list.feedback[2].seq;
    assert_int_equal(store_fixture_run_job(fx, &job), 0);
    assert_int_equal(job.list.n, 0);
    assert_false(job.list.has_more);
    job.page.limit = STORE_PAGE_MAX + 1;
    assert_int_equal(store_fixture_run_job(fx, &job), ERR_INVALID);
    store_job_clear(&job);
}

/* ---- isolation, ownership, concurrency ---------------------------------------------------- */

/* Points op's member (a job fills only that one, store.h) at alice's rows, for bob to try. */
static void aim_at_alice(struct store_job *job, enum store_op op)
{
    switch (op) {
    case STORE_THREAD_GET:
    case STORE_THREAD_UPDATE:
    case STORE_THREAD_DELETE:
        snprintf(job->thread.id, sizeof job->thread.id, "thr_a");
        break;
    case STORE_THREAD_LIST: /* alice's thread as bob's cursor */
        snprintf(job->page.after, sizeof job->page.after, "thr_a");
        break;
    case STORE_ATTACHMENT_GET:
    case STORE_ATTACHMENT_UPDATE:
    case STORE_ATTACHMENT_DELETE:
        snprintf(job->attachment.id, sizeof job->attachment.id, "atc_1");
        break;
    case STORE_FEEDBACK_ADD:
        snprintf(job->feedback.thread_id, sizeof job->feedback.thread_id, "thr_a");
        snprintf(job->feedback.kind, sizeof job->feedback.kind, "positive");
        job->item_ids_json = "[\"msg_1\"]";
        break;
    default: /* the item ops */
        snprintf(job->item.thread_id, sizeof job->item.thread_id, "thr_a");
        snprintf(job->item.id, sizeof job->item.id, "msg_1");
        job->item.json = store_fixture_heap("{\"v\":\"bob\"}");
        break;
    }
}

/* Every user-scoped op, acted by bob on alice's rows, answers ERR_NOT_FOUND and changes nothing. */
static void test_other_user(void **state)
{
    struct store_fixture *fx = *state;
    assert_int_equal(create_thread(fx, ALICE, "thr_a", 1000), 0);
    assert_int_equal(upsert_item(fx, ALICE, "thr_a", "msg_1", false, "{\"v\":1}"), 0);
    assert_int_equal(upsert_item(fx, ALICE, "thr_a", "msg_2", false, "{\"v\":2}"), 0);
    assert_int_equal(create_attachment(fx, ALICE, "atc_1", "thr_a", true, 10), 0);
    assert_int_equal(create_thread(fx, BOB, "thr_bob", 1000), 0);

    static const enum store_op ops[] = {
        STORE_THREAD_GET,        STORE_THREAD_UPDATE,  STORE_THREAD_DELETE,
        STORE_THREAD_LIST,       STORE_ITEM_UPSERT,    STORE_ITEM_UPDATE,
        STORE_ITEM_DELETE,       STORE_ITEM_GET,       STORE_ITEM_LIST,
        STORE_ITEM_DELETE_AFTER, STORE_ATTACHMENT_GET, STORE_ATTACHMENT_UPDATE,
        STORE_ATTACHMENT_DELETE, STORE_FEEDBACK_ADD,
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        struct store_job job;
        store_fixture_prep(&job, ops[i], BOB);
        aim_at_alice(&job, ops[i]);
        job.page.limit = 10;
        int rc = store_fixture_run_clear(fx, &job);
        if (rc != ERR_NOT_FOUND)
            fail_msg("%s by another user: %s", store_op_name(ops[i]), err_str(rc));
    }
    assert_int_equal(store_fixture_sql_int(fx,
                                           "SELECT count(*) FROM items WHERE thread_id = 'thr_a' "
                                           "AND json LIKE '%bob%'"),
                     0);
    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(*) FROM items"), 2);
    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(*) FROM attachments"), 1);
    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(*) FROM threads"), 2);
    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(*) FROM feedback"), 0);
}

/* store_job_clear frees the owned pointers of the member its op uses, and the list, and leaves
 * the job reusable (LSan checks the rest). */
static void test_job_clear(void **state)
{
    (void)state;
    struct store_job job;
    store_job_init(&job, STORE_THREAD_UPDATE, NULL, NULL);
    job.thread.title = store_fixture_heap("t");
    job.thread.status_json = store_fixture_heap("{}");
    job.thread.allowed_image_domains_json = store_fixture_heap("[]");
    job.thread.metadata_json = store_fixture_heap("{}");
    job.list.threads = calloc(2, sizeof *job.list.threads);
    assert_non_null(job.list.threads);
    job.list.threads[1].title = store_fixture_heap("second");
    job.list.n = 2;
    job.list.has_more = true;
    store_job_clear(&job);
    assert_null(job.thread.title);
    assert_null(job.thread.metadata_json);
    assert_null(job.list.threads);
    assert_int_equal(job.list.n, 0);
    assert_false(job.list.has_more);
    store_job_clear(&job); /* twice is harmless */

    store_job_init(&job, STORE_ITEM_UPSERT, NULL, NULL);
    job.item.json = store_fixture_heap("{}");
    store_job_clear(&job);
    assert_null(job.item.json);

    store_job_init(&job, STORE_TASK_UPDATE, NULL, NULL);
    job.task.title = store_fixture_heap("x");
    job.task.notes = store_fixture_heap("y");
    job.task.tags_json = store_fixture_heap("[]");
    store_job_clear(&job);
    assert_null(job.task.tags_json);

    store_job_init(&job, STORE_RATE_TAKE, NULL, NULL);
    job.session.state_variables_json = store_fixture_heap("{}");
    job.session.config_json = store_fixture_heap("{}");
    store_job_clear(&job);
    assert_null(job.session.config_json);

    /* The filter's "any" is set for the op that has it; other members start all zero. */
    store_job_init(&job, STORE_TASK_LIST, NULL, NULL);
    assert_int_equal(job.task_filter.status, -1);
    assert_int_equal(job.task_filter.priority, -1);
    store_job_init(&job, STORE_SESSION_GET, NULL, NULL);
    assert_string_equal(job.session.id, "");
    store_job_clear(&job);

    store_job_init(&job, STORE_FEEDBACK_EXPORT, NULL, NULL);
    job.list.feedback = calloc(3, sizeof *job.list.feedback);
    job.list.attachments = calloc(3, sizeof *job.list.attachments);
    job.list.n = 3;
    store_job_clear(&job);
    assert_null(job.list.feedback);
    assert_null(job.list.attachments);
}

#define N_CONCURRENT 200

static void test_concurrent(void **state)
{
    struct store_fixture *fx = *state;
    assert_int_equal(create_thread(fx, ALICE, "thr_main", 1000), 0);
    assert_int_equal(upsert_item(fx, ALICE, "thr_main", "msg_first", false, "{}"), 0);
    struct store_job *jobs = calloc(N_CONCURRENT, sizeof *jobs);
    assert_non_null(jobs);
    int done = 0;
    int writes[3] = {0};
    for (int i = 0; i < N_CONCURRENT; i++) {
        static const enum store_op mix[] = {
            STORE_ITEM_UPSERT,       STORE_ITEM_LIST,   STORE_THREAD_GET, STORE_THREAD_CREATE,
            STORE_ATTACHMENT_CREATE, STORE_THREAD_LIST, STORE_ITEM_GET};
        struct store_job *job = &jobs[i];
        enum store_op op = mix[i % 7];
        store_job_init(job, op, store_fixture_on_job_count, &done);
        snprintf(job->user_id, sizeof job->user_id, "%s", ALICE);
        if (op == STORE_THREAD_GET || op == STORE_THREAD_CREATE) {
            snprintf(job->thread.id, sizeof job->thread.id, "thr_main");
        } else if (op != STORE_ATTACHMENT_CREATE && op != STORE_THREAD_LIST) { /* item ops */
            snprintf(job->item.thread_id, sizeof job->item.thread_id, "thr_main");
            snprintf(job->item.id, sizeof job->item.id, "msg_first");
        }
        job->page.limit = 50;
        if (op == STORE_ITEM_UPSERT) {
            snprintf(job->item.id, sizeof job->item.id, "msg_c%d", i);
            job->item.json = store_fixture_heap("{\"c\":1}");
            writes[0]++;
        } else if (op == STORE_THREAD_CREATE) {
            snprintf(job->thread.id, sizeof job->thread.id, "thr_c%d", i);
            snprintf(job->user_id, sizeof job->user_id, "%s", i % 2 ? ALICE : BOB);
            job->thread.created_us = i;
            writes[1]++;
        } else if (op == STORE_ATTACHMENT_CREATE) {
            snprintf(job->attachment.id, sizeof job->attachment.id, "atc_c%d", i);
            writes[2]++;
        }
        assert_int_equal(store_submit(fx->store, job), 0);
    }
    while (done < N_CONCURRENT)
        uv_run(&fx->loop, UV_RUN_ONCE);
    for (int i = 0; i < N_CONCURRENT; i++) {
        if (jobs[i].status)
            fail_msg("job %d (%s): %s", i, store_op_name(jobs[i].op), jobs[i].error);
        if (jobs[i].op == STORE_ITEM_LIST)
            assert_true(jobs[i].list.n >= 1);
        store_job_clear(&jobs[i]);
    }
    free(jobs);
    const struct store_stats *st = store_get_stats(fx->store);
    assert_int_equal(st->in_flight, 0);
    assert_int_equal(st->errors_total, 0);
    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(*) FROM items"), writes[0] + 1);
    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(*) FROM threads"), writes[1] + 1);
    assert_int_equal(store_fixture_sql_int(fx, "SELECT count(*) FROM attachments"), writes[2]);
    /* seq values are unique across the whole database. */
    assert_int_equal(
        store_fixture_sql_int(fx, "SELECT count(*) FROM (SELECT seq FROM items UNION ALL "
                                  "SELECT seq FROM threads) AS s"),
        store_fixture_sql_int(fx, "SELECT count(DISTINCT seq) FROM (SELECT seq FROM items "
                                  "UNION ALL SELECT seq FROM threads) AS s"));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_thread_round_trip),  T(test_thread_update),
        T(test_thread_list_paging), T(test_item_upsert_get),
        T(test_item_update_delete), T(test_item_list_paging),
        T(test_item_delete_after),  T(test_thread_delete),
        T(test_attachments),        T(test_attachment_stale),
        T(test_feedback),           T(test_other_user),
        T(test_concurrent),         cmocka_unit_test(test_job_clear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
