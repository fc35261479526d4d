/* test_task_widgets.c - widget trees for tasks (spec §8): exact JSON for fixtures, structure of
 * every root, each due and priority badge rule, actions, and copy text. */
#include "core/err.h"
#include "core/json_read.h"
#include "core/json_write.h"
#include "tasks/task.h"
#include "tasks/widgets.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#define ID1 "task_00000000000000000000000000000001"
#define ID2 "task_00000000000000000000000000000002"

static int64_t utc_us(int y, int m, int d, int h, int mi)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
    return (int64_t)timegm(&tm) * 1000000;
}

/* "now" for most tests: Saturday 2026-12-05 15:00 UTC. */
#define NOW utc_us(2026, 12, 5, 15, 0)

/* A task from literal fields (title, due date, due time, tz, priority, done, tags JSON). */
static struct store_task mk(const char *id, const char *title, const char *date, const char *time,
                            const char *tz, int priority, bool done, const char *tags)
{
    struct store_task t;
    memset(&t, 0, sizeof t);
    snprintf(t.id, sizeof t.id, "%s", id);
    t.title = strdup(title);
    snprintf(t.due_date, sizeof t.due_date, "%s", date ? date : "");
    snprintf(t.due_time, sizeof t.due_time, "%s", time ? time : "");
    snprintf(t.tz, sizeof t.tz, "%s", tz ? tz : "");
    t.priority = priority;
    t.done = done;
    t.tags_json = strdup(tags ? tags : "[]");
    return t;
}

enum which { CARD, LIST, EDIT, DELETE };

static char *render(enum which k, const struct store_task *ts, size_t n,
                    const struct tasks_list_opts *o, int64_t now)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    struct jw w;
    jw_init(&w, &b);
    if (k == CARD)
        tasks_widget_card(&w, ts, now);
    else if (k == LIST)
        tasks_widget_list(&w, ts, n, o, now);
    else if (k == EDIT)
        tasks_widget_edit_form(&w, ts);
    else
        tasks_widget_delete_confirm(&w, ts, n);
    assert_int_equal(jw_done(&w), 0);
    /* Stable output: a second render is byte for byte the same. */
    struct buf b2;
    buf_init(&b2, 1 << 20);
    jw_init(&w, &b2);
    if (k == CARD)
        tasks_widget_card(&w, ts, now);
    else if (k == LIST)
        tasks_widget_list(&w, ts, n, o, now);
    else if (k == EDIT)
        tasks_widget_edit_form(&w, ts);
    else
        tasks_widget_delete_confirm(&w, ts, n);
    assert_int_equal(b.len, b2.len);
    assert_memory_equal(b.data, b2.data, b.len);
    buf_free(&b2);
    return buf_detach(&b, NULL);
}

static cJSON *tree(const char *s)
{
    cJSON *v = json_parse(s, strlen(s), 64, NULL);
    if (!v)
        fail_msg("widget is not JSON: %s", s);
    return v;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = json_get(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const cJSON *child(const cJSON *node, int i)
{
    return cJSON_GetArrayItem(json_get(node, "children"), i);
}

/* Every node has a type; every action is a server action with a type. */
static void check_tree(const cJSON *n, int *actions)
{
    if (cJSON_IsArray(n)) {
        for (const cJSON *c = n->child; c; c = c->next)
            check_tree(c, actions);
        return;
    }
    if (!cJSON_IsObject(n))
        return;
    for (const cJSON *c = n->child; c; c = c->next) {
        if (strcmp(c->string, "onClickAction") == 0 || strcmp(c->string, "action") == 0) {
            assert_non_null(str(c, "type"));
            assert_string_equal(str(c, "handler"), "server");
            assert_true(cJSON_IsObject(json_get(c, "payload")));
            (*actions)++;
        } else if (strcmp(c->string, "children") == 0) {
            for (const cJSON *k = c->child; k; k = k->next)
                assert_non_null(str(k, "type"));
        }
        check_tree(c, actions);
    }
}

static void free_tasks(struct store_task *ts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        task_clear(&ts[i]);
}

/* ---- due badge rules ---- */

static void check_due(const char *date, const char *time, const char *tz, bool done, int64_t now,
                      enum tasks_due_kind kind, const char *label, const char *color)
{
    struct store_task t = mk(ID1, "x", date, time, tz, STORE_PRIORITY_NORMAL, done, NULL);
    struct tasks_due d;
    tasks_due_describe(&t, now, &d);
    if (d.kind != kind || strcmp(d.label, label) != 0 ||
        (color ? !d.color || strcmp(d.color, color) != 0 : d.color != NULL))
        fail_msg("%s %s %s done=%d: kind %d label '%s' color %s", date ? date : "-",
                 time ? time : "-", tz ? tz : "-", done, d.kind, d.label,
                 d.color ? d.color : "NULL");
    task_clear(&t);
}

static void test_due_badges(void **state)
{
    (void)state;
    check_due(NULL, NULL, NULL, false, NOW, TASKS_DUE_NONE, "", NULL);
    check_due("2026-12-05", NULL, NULL, false, NOW, TASKS_DUE_TODAY, "Today", "warning");
    check_due("2026-12-05", "17:00", NULL, false, NOW, TASKS_DUE_TODAY, "Today, 5:00 PM",
              "warning");
    check_due("2026-12-05", "15:00", NULL, false, NOW, TASKS_DUE_TODAY, "Today, 3:00 PM",
              "warning"); /* due this very minute: not yet overdue */
    check_due("2026-12-05", "09:00", NULL, false, NOW, TASKS_DUE_OVERDUE, "Overdue", "danger");
    check_due("2026-12-04", NULL, NULL, false, NOW, TASKS_DUE_OVERDUE, "Overdue", "danger");
    check_due("2025-12-31", "23:59", NULL, false, NOW, TASKS_DUE_OVERDUE, "Overdue", "danger");
    check_due("2026-12-06", NULL, NULL, false, NOW, TASKS_DUE_LATER, "Due Dec 6", "secondary");
    check_due("2026-12-06", "17:00", NULL, false, NOW, TASKS_DUE_LATER, "Due Dec 6, 5:00 PM",
              "secondary");
    check_due("2026-12-06", "00:05", NULL, false, NOW, TASKS_DUE_LATER, "Due Dec 6, 12:05 AM",
              "secondary");
    check_due("2026-12-07", "12:30", NULL, false, NOW, TASKS_DUE_LATER, "Due Dec 7, 12:30 PM",
              "secondary");
    check_due("2027-01-02", NULL, NULL, false, NOW, TASKS_DUE_LATER, "Due Jan 2, 2027",
              "secondary");
    check_due("2027-01-02", "08:15", NULL, false, NOW, TASKS_DUE_LATER, "Due Jan 2, 2027, 8:15 AM",
              "secondary");
    /* done tasks are never overdue */
    check_due("2026-12-04", NULL, NULL, true, NOW, TASKS_DUE_LATER, "Due Dec 4", "secondary");
    check_due("2026-12-05", "09:00", NULL, true, NOW, TASKS_DUE_LATER, "Due Dec 5, 9:00 AM",
              "secondary");
    /* "today" is the task's own calendar day: at 02:00 UTC on Dec 6 it is 18:00 on Dec 5 in
     * Los Angeles */
    int64_t late = utc_us(2026, 12, 6, 2, 0);
    check_due("2026-12-05", NULL, "America/Los_Angeles", false, late, TASKS_DUE_TODAY, "Today",
              "warning");
    check_due("2026-12-05", NULL, "UTC", false, late, TASKS_DUE_OVERDUE, "Overdue", "danger");
    check_due("2026-12-05", "17:00", "America/Los_Angeles", false, late, TASKS_DUE_OVERDUE,
              "Overdue", "danger");
    check_due("2026-12-05", "19:00", "America/Los_Angeles", false, late, TASKS_DUE_TODAY,
              "Today, 7:00 PM", "warning");
    check_due("2026-12-06", NULL, "Asia/Tokyo", false, utc_us(2026, 12, 5, 15, 30), TASKS_DUE_TODAY,
              "Today", "warning");
}

static void test_priority_badges(void **state)
{
    (void)state;
    static const struct {
        int priority;
        const char *label;
        const char *color;
    } cases[] = {
        {STORE_PRIORITY_HIGH, "High priority", "danger"},
        {STORE_PRIORITY_LOW, "Low priority", "secondary"},
        {STORE_PRIORITY_NORMAL, NULL, NULL},
    };
    for (size_t i = 0; i < 3; i++) {
        struct store_task t = mk(ID1, "x", NULL, NULL, NULL, cases[i].priority, false, NULL);
        char *s = render(CARD, &t, 1, NULL, NOW);
        cJSON *c = tree(s);
        /* children: header row, [badge row], button row */
        int n = cJSON_GetArraySize(json_get(c, "children"));
        if (!cases[i].label) {
            assert_int_equal(n, 2);
        } else {
            assert_int_equal(n, 3);
            const cJSON *b = child(child(c, 1), 0);
            assert_string_equal(str(b, "type"), "Badge");
            assert_string_equal(str(b, "label"), cases[i].label);
            assert_string_equal(str(b, "color"), cases[i].color);
        }
        cJSON_Delete(c);
        free(s);
        task_clear(&t);
    }
}

/* ---- the card ---- */

static void test_card_exact(void **state)
{
    (void)state;
    struct store_task t = mk(ID1, "Buy milk", "2026-12-06", "17:00", NULL, STORE_PRIORITY_HIGH,
                             false, "[\"groceries\"]");
    char *s = render(CARD, &t, 1, NULL, NOW);
    assert_string_equal(
        s,
        "{\"type\":\"Card\",\"key\":\"" ID1 "\",\"children\":["
        "{\"type\":\"Row\",\"gap\":2,\"align\":\"center\",\"children\":["
        "{\"type\":\"Icon\",\"name\":\"empty-circle\",\"color\":\"secondary\",\"size\":\"lg\"},"
        "{\"type\":\"Text\",\"value\":\"Buy milk\",\"size\":\"md\",\"weight\":\"semibold\"}]},"
        "{\"type\":\"Row\",\"gap\":1,\"wrap\":\"wrap\",\"children\":["
        "{\"type\":\"Badge\",\"label\":\"Due Dec 6, 5:00 PM\",\"color\":\"secondary\"},"
        "{\"type\":\"Badge\",\"label\":\"High priority\",\"color\":\"danger\"},"
        "{\"type\":\"Badge\",\"label\":\"#groceries\",\"color\":\"info\"}]},"
        "{\"type\":\"Row\",\"gap\":2,\"children\":["
        "{\"type\":\"Button\",\"label\":\"Complete\",\"iconStart\":\"check\",\"style\":\"primary\","
        "\"size\":\"sm\",\"onClickAction\":{\"type\":\"task.complete\",\"payload\":{\"task_id\":"
        "\"" ID1 "\"},\"handler\":\"server\"}},"
        "{\"type\":\"Button\",\"label\":\"Edit\",\"iconStart\":\"write\",\"variant\":\"outline\","
        "\"size\":\"sm\",\"onClickAction\":{\"type\":\"task.edit\",\"payload\":{\"task_id\":\"" ID1
        "\"},\"handler\":\"server\"}},"
        "{\"type\":\"Button\",\"label\":\"Delete\",\"color\":\"danger\",\"variant\":\"outline\","
        "\"size\":\"sm\",\"onClickAction\":{\"type\":\"task.delete\",\"payload\":{\"task_id\":"
        "\"" ID1 "\"},\"handler\":\"server\"}}]}]}");
    free(s);
    task_clear(&t);
}

static void test_card_done_and_notes(void **state)
{
    (void)state;
    struct store_task t = mk(ID2, "Call \"mum\" <today>", "2026-12-01", NULL, NULL,
                             STORE_PRIORITY_NORMAL, true, "[\"family\",\"phone\"]");
    t.notes = strdup("about Sunday\nand the cake");
    char *s = render(CARD, &t, 1, NULL, NOW);
    cJSON *c = tree(s);
    int actions = 0;
    check_tree(c, &actions);
    assert_int_equal(actions, 3);
    assert_string_equal(str(c, "type"), "Card");
    assert_string_equal(str(c, "key"), ID2);
    const cJSON *head = child(c, 0);
    assert_string_equal(str(child(head, 0), "name"), "check-circle-filled");
    const cJSON *title = child(head, 1);
    assert_string_equal(str(title, "value"), "Call \"mum\" <today>");
    assert_true(cJSON_IsTrue(json_get(title, "lineThrough")));
    const cJSON *notes = child(c, 1);
    assert_string_equal(str(notes, "type"), "Text");
    assert_string_equal(str(notes, "value"), "about Sunday\nand the cake");
    const cJSON *badges = child(c, 2);
    assert_int_equal(cJSON_GetArraySize(json_get(badges, "children")), 3);
    assert_string_equal(str(child(badges, 0), "label"), "Due Dec 1");
    assert_string_equal(str(child(badges, 2), "label"), "#phone");
    const cJSON *reopen = child(child(c, 3), 0);
    assert_string_equal(str(reopen, "label"), "Reopen");
    assert_string_equal(str(json_get(reopen, "onClickAction"), "type"), "task.reopen");
    assert_string_equal(str(json_get(json_get(reopen, "onClickAction"), "payload"), "task_id"),
                        ID2);
    /* '<' is escaped so the tree is safe inside a <script> */
    assert_null(strchr(s, '<'));
    cJSON_Delete(c);
    free(s);
    task_clear(&t);
}

/* ---- the list ---- */

static void test_list(void **state)
{
    (void)state;
    struct store_task ts[3] = {
        mk(ID1, "Milk", "2026-12-04", NULL, NULL, STORE_PRIORITY_HIGH, false, NULL),
        mk(ID2, "Eggs", NULL, NULL, NULL, STORE_PRIORITY_NORMAL, true, NULL),
        mk("task_00000000000000000000000000000003", "Bread", "2026-12-05", "18:30", NULL,
           STORE_PRIORITY_LOW, false, NULL),
    };
    struct tasks_list_opts o = {.title = "Open tasks", .limit = 2};
    char *s = render(LIST, ts, 3, &o, NOW);
    cJSON *l = tree(s);
    int actions = 0;
    check_tree(l, &actions);
    assert_int_equal(actions, 6); /* row click + row button, per row */
    assert_string_equal(str(l, "type"), "ListView");
    assert_int_equal(json_get(l, "limit")->valueint, 2);
    assert_string_equal(str(json_get(l, "status"), "text"), "Open tasks");
    assert_int_equal(cJSON_GetArraySize(json_get(l, "children")), 3);
    for (int i = 0; i < 3; i++) {
        const cJSON *row = child(l, i);
        assert_string_equal(str(row, "type"), "ListViewItem");
        assert_string_equal(str(row, "key"), ts[i].id);
        const cJSON *click = json_get(row, "onClickAction");
        assert_string_equal(str(click, "type"), "task.open");
        assert_string_equal(str(json_get(click, "payload"), "task_id"), ts[i].id);
        assert_string_equal(str(child(row, 0), "type"), "Icon");
        const cJSON *col = child(row, 1);
        assert_string_equal(str(child(col, 0), "value"), ts[i].title);
        int last = cJSON_GetArraySize(json_get(row, "children")) - 1;
        const cJSON *btn = child(row, last);
        assert_string_equal(str(btn, "type"), "Button");
        assert_string_equal(str(json_get(btn, "onClickAction"), "type"),
                            ts[i].done ? "task.reopen" : "task.complete");
    }
    /* row 0: overdue caption in danger, a High badge */
    const cJSON *cap = child(child(child(l, 0), 1), 1);
    assert_string_equal(str(cap, "type"), "Caption");
    assert_string_equal(str(cap, "value"), "Overdue");
    assert_string_equal(str(cap, "color"), "danger");
    assert_string_equal(str(child(child(l, 0), 2), "label"), "High");
    /* row 1: no due date, no caption */
    assert_int_equal(cJSON_GetArraySize(json_get(child(child(l, 1), 1), "children")), 1);
    /* row 2: today with a time */
    assert_string_equal(str(child(child(child(l, 2), 1), 1), "value"), "Today, 6:30 PM");
    cJSON_Delete(l);
    free(s);
    /* no limit when everything fits, no status without a title */
    s = render(LIST, ts, 3, &(struct tasks_list_opts){.limit = 5}, NOW);
    l = tree(s);
    assert_null(json_get(l, "limit"));
    assert_null(json_get(l, "status"));
    cJSON_Delete(l);
    free(s);
    free_tasks(ts, 3);
}

static void test_list_empty(void **state)
{
    (void)state;
    char *s = render(LIST, NULL, 0, NULL, NOW);
    assert_string_equal(
        s, "{\"type\":\"Card\",\"key\":\"tasks-empty\",\"children\":["
           "{\"type\":\"Row\",\"gap\":2,\"align\":\"center\",\"children\":["
           "{\"type\":\"Icon\",\"name\":\"check-circle\",\"color\":\"secondary\",\"size\":\"lg\"},"
           "{\"type\":\"Text\",\"value\":\"No tasks here yet.\",\"weight\":\"semibold\"}]},"
           "{\"type\":\"Caption\",\"value\":\"Try \\\"add buy milk tomorrow\\\".\","
           "\"color\":\"secondary\"}]}");
    free(s);
    s = render(LIST, NULL, 0, &(struct tasks_list_opts){.empty = "Nothing due today."}, NOW);
    cJSON *c = tree(s);
    assert_string_equal(str(child(child(c, 0), 1), "value"), "Nothing due today.");
    cJSON_Delete(c);
    free(s);
}

/* ---- the edit form ---- */

static void test_edit_form(void **state)
{
    (void)state;
    struct store_task t =
        mk(ID1, "Report", "2026-12-10", "09:00", NULL, STORE_PRIORITY_HIGH, false, NULL);
    t.notes = strdup("Q4 numbers");
    char *s = render(EDIT, &t, 1, NULL, NOW);
    cJSON *c = tree(s);
    int actions = 0;
    check_tree(c, &actions);
    assert_int_equal(actions, 2);
    assert_string_equal(str(c, "type"), "Card");
    assert_true(cJSON_IsTrue(json_get(c, "asForm")));
    assert_string_equal(str(c, "key"), ID1);
    const cJSON *title = child(child(c, 1), 1);
    assert_string_equal(str(title, "type"), "Text");
    assert_string_equal(str(title, "value"), "Report");
    assert_string_equal(str(json_get(title, "editable"), "name"), "title");
    assert_true(cJSON_IsTrue(json_get(json_get(title, "editable"), "required")));
    const cJSON *date = child(child(child(c, 2), 0), 1);
    assert_string_equal(str(date, "type"), "DatePicker");
    assert_string_equal(str(date, "name"), "due_date");
    assert_string_equal(str(date, "defaultValue"), "2026-12-10");
    const cJSON *sel = child(child(child(c, 2), 1), 1);
    assert_string_equal(str(sel, "type"), "Select");
    assert_string_equal(str(sel, "name"), "priority");
    assert_string_equal(str(sel, "defaultValue"), "high");
    const cJSON *opts = json_get(sel, "options");
    assert_int_equal(cJSON_GetArraySize(opts), 3);
    assert_string_equal(str(cJSON_GetArrayItem(opts, 0), "value"), "low");
    assert_string_equal(str(cJSON_GetArrayItem(opts, 2), "label"), "High");
    const cJSON *notes = child(child(c, 3), 1);
    assert_string_equal(str(notes, "type"), "Textarea");
    assert_string_equal(str(notes, "name"), "notes");
    assert_string_equal(str(notes, "defaultValue"), "Q4 numbers");
    const cJSON *confirm = json_get(c, "confirm");
    assert_string_equal(str(confirm, "label"), "Save");
    assert_string_equal(str(json_get(confirm, "action"), "type"), "task.save");
    assert_string_equal(str(json_get(json_get(confirm, "action"), "payload"), "task_id"), ID1);
    const cJSON *cancel = json_get(c, "cancel");
    assert_string_equal(str(cancel, "label"), "Cancel");
    assert_string_equal(str(json_get(cancel, "action"), "type"), "task.cancel_edit");
    /* form field names must not collide with payload keys (the client would drop them) */
    assert_null(json_get(json_get(json_get(confirm, "action"), "payload"), "title"));
    cJSON_Delete(c);
    free(s);
    /* no due date: no defaultValue; no notes: none either */
    task_clear(&t);
    t = mk(ID1, "Plain", NULL, NULL, NULL, STORE_PRIORITY_NORMAL, false, NULL);
    s = render(EDIT, &t, 1, NULL, NOW);
    c = tree(s);
    assert_null(json_get(child(child(child(c, 2), 0), 1), "defaultValue"));
    assert_null(json_get(child(child(c, 3), 1), "defaultValue"));
    assert_string_equal(str(child(child(child(c, 2), 1), 1), "defaultValue"), "normal");
    cJSON_Delete(c);
    free(s);
    task_clear(&t);
}

/* ---- the delete confirmation ---- */

static void test_delete_confirm(void **state)
{
    (void)state;
    struct store_task one =
        mk(ID1, "Old file", NULL, NULL, NULL, STORE_PRIORITY_NORMAL, false, NULL);
    char *s = render(DELETE, &one, 1, NULL, NOW);
    cJSON *c = tree(s);
    assert_string_equal(str(c, "type"), "Card");
    assert_string_equal(str(child(c, 0), "value"), "Delete this task?");
    assert_string_equal(str(json_get(c, "confirm"), "label"), "Delete task");
    const cJSON *act = json_get(json_get(c, "confirm"), "action");
    assert_string_equal(str(act, "type"), "task.delete_confirmed");
    const cJSON *ids = json_get(json_get(act, "payload"), "task_ids");
    assert_int_equal(cJSON_GetArraySize(ids), 1);
    assert_string_equal(cJSON_GetArrayItem(ids, 0)->valuestring, ID1);
    assert_string_equal(str(json_get(json_get(c, "cancel"), "action"), "type"),
                        "task.cancel_delete");
    cJSON_Delete(c);
    free(s);
    task_clear(&one);

    struct store_task many[12];
    for (int i = 0; i < 12; i++) {
        char id[ID_MAX], title[32];
        snprintf(id, sizeof id, "task_%032x", i + 1);
        snprintf(title, sizeof title, "Groceries %d", i + 1);
        many[i] = mk(id, title, NULL, NULL, NULL, STORE_PRIORITY_NORMAL, i == 3, NULL);
    }
    s = render(DELETE, many, 12, NULL, NOW);
    c = tree(s);
    int actions = 0;
    check_tree(c, &actions);
    assert_int_equal(actions, 2);
    assert_string_equal(str(child(c, 0), "value"), "Delete 12 tasks?");
    assert_string_equal(str(json_get(c, "confirm"), "label"), "Delete 12 tasks");
    ids = json_get(json_get(json_get(json_get(c, "confirm"), "action"), "payload"), "task_ids");
    assert_int_equal(cJSON_GetArraySize(ids), 12);
    assert_string_equal(cJSON_GetArrayItem(ids, 11)->valuestring, many[11].id);
    const cJSON *rows = child(c, 2);
    assert_int_equal(cJSON_GetArraySize(json_get(rows, "children")), 11); /* 10 + "and 2 more" */
    assert_string_equal(str(child(rows, 0), "key"), many[0].id);
    assert_string_equal(str(child(child(rows, 9), 1), "value"), "Groceries 10");
    assert_string_equal(str(child(rows, 10), "value"), "and 2 more");
    cJSON_Delete(c);
    free(s);

    struct buf b;
    buf_init(&b, 4096);
    assert_int_equal(tasks_copy_text_delete_confirm(&b, many, 2), 0);
    assert_string_equal(b.data, "Delete 2 tasks?\n- Groceries 1\n- Groceries 2");
    buf_free(&b);
    free_tasks(many, 12);
}

/* ---- copy text ---- */

static void test_copy_text(void **state)
{
    (void)state;
    struct store_task ts[2] = {
        mk(ID1, "Buy milk", "2026-12-06", "17:00", NULL, STORE_PRIORITY_HIGH, false,
           "[\"groceries\",\"home\"]"),
        mk(ID2, "Eggs", NULL, NULL, NULL, STORE_PRIORITY_NORMAL, true, NULL),
    };
    ts[0].notes = strdup("2 litres");
    struct buf b;
    buf_init(&b, 4096);
    assert_int_equal(tasks_copy_text_card(&b, &ts[0], NOW), 0);
    assert_string_equal(b.data,
                        "[ ] Buy milk (Due Dec 6, 5:00 PM; high priority; #groceries #home)\n"
                        "2 litres");
    buf_reset(&b);
    assert_int_equal(tasks_copy_text_list(&b, ts, 2, NOW), 0);
    assert_string_equal(b.data, "[ ] Buy milk (Due Dec 6, 5:00 PM; high priority; #groceries "
                                "#home)\n[x] Eggs");
    buf_reset(&b);
    assert_int_equal(tasks_copy_text_list(&b, NULL, 0, NOW), 0);
    assert_string_equal(b.data, "No tasks here yet.");
    buf_reset(&b);
    assert_int_equal(tasks_copy_text_edit_form(&b, &ts[1]), 0);
    assert_string_equal(b.data, "Edit task: Eggs");
    buf_free(&b);
    /* a capped buffer reports ERR_TOO_BIG rather than truncating silently */
    buf_init(&b, 8);
    assert_int_equal(tasks_copy_text_card(&b, &ts[0], NOW), ERR_TOO_BIG);
    buf_free(&b);
    free_tasks(ts, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_due_badges), cmocka_unit_test(test_priority_badges),
        cmocka_unit_test(test_card_exact), cmocka_unit_test(test_card_done_and_notes),
        cmocka_unit_test(test_list),       cmocka_unit_test(test_list_empty),
        cmocka_unit_test(test_edit_form),  cmocka_unit_test(test_delete_confirm),
        cmocka_unit_test(test_copy_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
