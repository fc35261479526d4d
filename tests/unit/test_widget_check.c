/* test_widget_check.c - the widget catalogue: valid trees of every component pass, each kind of
 * mistake is reported with its JSON path, and every widget the task app builds passes. */
#include "core/err.h"
#include "core/json_read.h"
#include "core/json_write.h"
#include "tasks/widgets.h"
#include "workflow/widget_check.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

/* want NULL: the tree must pass; otherwise the error must contain want. */
static void check(const char *json, const char *want)
{
    cJSON *w = json_parse(json, strlen(json), 64, NULL);
    if (!w)
        fail_msg("bad JSON in test: %s", json);
    char err[512] = "";
    int rc = widget_check(w, err, sizeof err);
    cJSON_Delete(w);
    if (!want && rc != 0)
        fail_msg("%s\nrefused: %s", json, err);
    if (want && (rc == 0 || !strstr(err, want)))
        fail_msg("%s\nrc %d '%s', wanted '%s'", json, rc, err, want);
}

static void test_valid_trees(void **state)
{
    (void)state;
    /* The captured example of the protocol spec (§8.3). */
    check(
        "{\"type\":\"ListView\",\"children\":[{\"type\":\"ListViewItem\",\"key\":\"blue\",\"gap\":"
        "5,"
        "\"onClickAction\":{\"type\":\"line.select\",\"payload\":{\"id\":\"blue\"}},\"children\":"
        "[{\"type\":\"Box\",\"background\":\"blue-500\",\"radius\":\"full\",\"size\":25},{\"type\":"
        "\"Text\",\"value\":\"Blue line\",\"size\":\"sm\"}]}]}",
        NULL);
    check(
        "{\"type\":\"Card\",\"size\":\"lg\",\"asForm\":true,\"padding\":{\"x\":4,\"y\":\"8px\"},"
        "\"status\":{\"text\":\"Saved\",\"icon\":\"check\"},\"theme\":\"dark\",\"background\":"
        "{\"light\":\"#fff\",\"dark\":\"gray-900\"},\"border\":{\"size\":1,\"color\":\"default\"},"
        "\"confirm\":{\"label\":\"OK\",\"action\":{\"type\":\"ok\",\"handler\":\"client\","
        "\"loadingBehavior\":\"container\",\"streaming\":false}},\"cancel\":{\"label\":\"No\","
        "\"action\":{\"type\":\"no\"}},\"children\":["
        "{\"type\":\"Title\",\"value\":\"T\",\"size\":\"2xl\",\"weight\":\"bold\"},"
        "{\"type\":\"Caption\",\"value\":\"c\",\"color\":\"tertiary\"},"
        "{\"type\":\"Markdown\",\"id\":\"m\",\"value\":\"**x**\",\"streaming\":true},"
        "{\"type\":\"Text\",\"value\":\"t\",\"editable\":{\"name\":\"title\",\"required\":true}},"
        "{\"type\":\"Text\",\"value\":\"t\",\"editable\":false,\"color\":\"rgba(0,0,0,0.5)\"},"
        "{\"type\":\"Label\",\"value\":\"Due\",\"fieldName\":\"due\"},"
        "{\"type\":\"Divider\",\"spacing\":12,\"flush\":true},{\"type\":\"Spacer\",\"minSize\":8},"
        "{\"type\":\"Row\",\"gap\":2,\"justify\":\"between\",\"wrap\":\"wrap\",\"border\":{\"top\":"
        "{\"size\":1,\"style\":\"dashed\"},\"bottom\":2},\"children\":["
        "{\"type\":\"Badge\",\"label\":\"New\",\"color\":\"info\",\"variant\":\"soft\",\"pill\":"
        "true},"
        "{\"type\":\"Icon\",\"name\":\"lucide:rocket\",\"size\":\"xl\",\"color\":\"pink-400\"},"
        "{\"type\":\"Image\",\"src\":\"https://x/y.png\",\"fit\":\"cover\",\"position\":\"top "
        "left\","
        "\"radius\":\"md\",\"size\":64},"
        "{\"type\":\"Button\",\"label\":\"Go\",\"style\":\"primary\",\"iconStart\":\"sparkle\","
        "\"size\":\"3xs\",\"color\":\"caution\",\"onClickAction\":{\"type\":\"go\"}}]},"
        "{\"type\":\"Form\",\"direction\":\"col\",\"onSubmitAction\":{\"type\":\"save\"},"
        "\"children\":["
        "{\"type\":\"Input\",\"name\":\"a\",\"inputType\":\"email\",\"required\":true},"
        "{\"type\":\"Textarea\",\"name\":\"b\",\"rows\":3,\"autoResize\":true},"
        "{\"type\":\"Select\",\"name\":\"c\",\"options\":[{\"value\":\"1\",\"label\":\"One\"}],"
        "\"clearable\":true},"
        "{\"type\":\"DatePicker\",\"name\":\"d\",\"min\":\"2026-01-01T00:00:00Z\",\"side\":\"top\"}"
        ","
        "{\"type\":\"Checkbox\",\"name\":\"e\",\"defaultChecked\":true},"
        "{\"type\":\"RadioGroup\",\"name\":\"f\",\"options\":[{\"label\":\"A\",\"value\":\"a\"}],"
        "\"direction\":\"row\"}]},"
        "{\"type\":\"Transition\",\"children\":{\"type\":\"Col\",\"children\":[]}},"
        "{\"type\":\"Table\",\"children\":[{\"type\":\"Table.Row\",\"header\":true,\"children\":["
        "{\"type\":\"Table.Cell\",\"colSpan\":2,\"children\":[{\"type\":\"Text\",\"value\":\"h\"}]}"
        "]}]},"
        "{\"type\":\"Chart\",\"data\":[{\"m\":\"Jan\",\"v\":3}],\"series\":[{\"type\":\"bar\","
        "\"dataKey\":\"v\",\"color\":\"blue\"}],\"xAxis\":{\"dataKey\":\"m\",\"labels\":{\"Jan\":"
        "\"January\"}}},"
        "{\"type\":\"Text\",\"value\":\"null props count as absent\",\"size\":null}]}",
        NULL);
    check("{\"type\":\"Basic\",\"direction\":\"row\",\"children\":[{\"type\":\"Card\",\"children\":"
          "[]},"
          "{\"type\":\"Text\",\"value\":\"x\"}]}",
          NULL);
    check("{\"type\":\"ListView\",\"limit\":\"auto\",\"children\":[]}", NULL);
}

static void test_mistakes(void **state)
{
    (void)state;
    check("{\"type\":\"Text\",\"value\":\"x\"}", "$: the root must be Card, ListView or Basic");
    check("{\"type\":\"Card\"}", "$: Card needs 'children'");
    check("{\"type\":\"Card\",\"children\":[{\"type\":\"Text\"}]}",
          "$.children[0]: Text needs 'value'");
    check("{\"type\":\"Card\",\"size\":\"xl\",\"children\":[]}",
          "$.size: must be one of sm, md, lg, full");
    check("{\"type\":\"Card\",\"children\":[{\"type\":\"Text\",\"value\":\"x\"},{\"type\":\"Text\","
          "\"value\":\"y\"},{\"type\":\"Badge\",\"label\":\"b\",\"size\":\"huge\"}]}",
          "$.children[2].size: must be one of sm, md, lg");
    check(
        "{\"type\":\"Card\",\"children\":[{\"type\":\"Text\",\"value\":\"x\",\"colour\":\"red\"}]}",
        "$.children[0].colour: Text has no prop 'colour'");
    check("{\"type\":\"Card\",\"children\":[{\"type\":\"Txt\",\"value\":\"x\"}]}",
          "$.children[0]: unknown component type 'Txt'");
    check("{\"type\":\"Card\",\"children\":[{\"type\":\"Text\",\"value\":3}]}",
          "$.children[0].value: must be a string");
    check(
        "{\"type\":\"Card\",\"children\":[{\"type\":\"Text\",\"value\":\"x\",\"color\":\"bleu\"}]}",
        "$.children[0].color: unknown colour 'bleu'");
    check("{\"type\":\"Card\",\"background\":{\"light\":\"#fff\"},\"children\":[]}",
          "$.background: a theme colour is");
    check("{\"type\":\"Card\",\"children\":[{\"type\":\"Icon\",\"name\":\"rocket\"}]}",
          "$.children[0].name: unknown icon 'rocket'");
    check("{\"type\":\"Card\",\"children\":[{\"type\":\"Button\",\"onClickAction\":{\"payload\":1}}"
          "]}",
          "$.children[0].onClickAction: an action needs a non-empty string 'type'");
    check("{\"type\":\"Card\",\"children\":[{\"type\":\"Button\",\"onClickAction\":{\"type\":\"x\","
          "\"handler\":\"browser\"}}]}",
          "$.children[0].onClickAction.handler: must be one of server, client");
    check("{\"type\":\"Card\",\"children\":[{\"type\":\"Button\",\"onClickAction\":{\"type\":\"x\","
          "\"kind\":1}}]}",
          "$.children[0].onClickAction.kind: an action has only");
    check("{\"type\":\"Card\",\"confirm\":{\"label\":\"OK\"},\"children\":[]}",
          "$.confirm: a card action needs 'action'");
    check("{\"type\":\"Card\",\"children\":[{\"type\":\"ListViewItem\",\"children\":[]}]}",
          "$.children[0]: ListViewItem is allowed only directly inside ListView");
    check("{\"type\":\"ListView\",\"children\":[{\"type\":\"Text\",\"value\":\"x\"}]}",
          "$.children[0]: ListView takes only ListViewItem children, not Text");
    check("{\"type\":\"Card\",\"children\":[{\"type\":\"Card\",\"children\":[]}]}",
          "$.children[0]: Card is a root: allowed only at the top or inside Basic");
    check("{\"type\":\"Card\",\"children\":[{\"type\":\"Table\",\"children\":[{\"type\":\"Table."
          "Cell\"}]}]}",
          "$.children[0].children[0]: Table takes only Table.Row children");
    check("{\"type\":\"Card\",\"children\":[{\"type\":\"Select\",\"name\":\"s\",\"options\":[{"
          "\"value\":"
          "\"1\"}]}]}",
          "$.children[0].options[0]: an option needs 'label'");
    check("{\"type\":\"Card\",\"children\":[{\"type\":\"Transition\",\"children\":[]}]}",
          "$.children[0].children: a component must be an object");
    check("{\"type\":\"Card\",\"children\":[{\"type\":\"Row\",\"border\":{\"left\":{\"size\":1,"
          "\"style\":\"wavy\"}},\"children\":[]}]}",
          "$.children[0].border.left.style: must be one of solid");
    check("{\"type\":\"Card\",\"padding\":{\"top\":true},\"children\":[]}",
          "$.padding.top: a spacing");
    check("{\"type\":\"Card\",\"key\":5,\"children\":[]}", "$.key: must be a string");
    check("{\"type\":\"ListView\",\"limit\":\"some\",\"children\":[]}",
          "$.limit: must be a whole number or \"auto\"");
    check(
        "{\"type\":\"Card\",\"children\":[{\"type\":\"Chart\",\"data\":[{\"a\":[1]}],\"series\":[],"
        "\"xAxis\":\"a\"}]}",
        "$.children[0].data[0].a: chart values are numbers or strings");
    check("[]", "$: a component must be an object, not list");
}

static void test_bounds(void **state)
{
    (void)state;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "type", "Card");
    cJSON *kids = cJSON_AddArrayToObject(root, "children");
    for (int i = 0; i < WIDGET_CHECK_MAX_DEPTH + 2; i++) {
        cJSON *col = cJSON_CreateObject();
        cJSON_AddStringToObject(col, "type", "Col");
        cJSON_AddItemToArray(kids, col);
        kids = cJSON_AddArrayToObject(col, "children");
    }
    char err[256];
    assert_int_equal(widget_check(root, err, sizeof err), ERR_DEPTH);
    cJSON_Delete(root);
    root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "type", "Card");
    kids = cJSON_AddArrayToObject(root, "children");
    for (int i = 0; i < WIDGET_CHECK_MAX_NODES + 1; i++) {
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "type", "Spacer");
        cJSON_AddItemToArray(kids, t);
    }
    assert_int_equal(widget_check(root, err, sizeof err), ERR_TOO_BIG);
    cJSON_Delete(root);
}

/* ---- every widget the task app builds ---------------------------------------------------- */

static int64_t utc_us(int y, int m, int d, int h, int mi)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
    return (int64_t)timegm(&tm) * 1000000;
}

static struct store_task task(int n, const char *date, const char *time, int priority, bool done,
                              const char *notes, const char *tags)
{
    struct store_task t;
    memset(&t, 0, sizeof t);
    snprintf(t.id, sizeof t.id, "task_%032d", n);
    t.title = strdup(n % 2 ? "Call mum about \"the weekend\"" : "Buy milk");
    t.notes = notes ? strdup(notes) : NULL;
    snprintf(t.due_date, sizeof t.due_date, "%s", date ? date : "");
    snprintf(t.due_time, sizeof t.due_time, "%s", time ? time : "");
    snprintf(t.tz, sizeof t.tz, "%s", n % 3 ? "Europe/Paris" : "");
    t.priority = priority;
    t.done = done;
    t.tags_json = strdup(tags ? tags : "[]");
    return t;
}

static void free_task(struct store_task *t)
{
    free(t->title);
    free(t->notes);
    free(t->tags_json);
}

/* Checks what the writer w holds (it wrote into b) and starts both afresh. */
static void check_written(struct jw *w, struct buf *b)
{
    assert_int_equal(jw_done(w), 0);
    check(b->data, NULL);
    buf_reset(b);
    jw_init(w, b);
}

static void test_task_app_widgets(void **state)
{
    (void)state;
    int64_t now = utc_us(2026, 12, 5, 15, 0);
    struct store_task ts[12];
    ts[0] = task(1, "2026-12-05", "17:00", STORE_PRIORITY_HIGH, false, "Notes\nwith lines",
                 "[\"family\",\"phone\"]");
    ts[1] = task(2, "2026-12-01", NULL, STORE_PRIORITY_LOW, false, NULL, NULL);
    ts[2] = task(3, "2027-01-10", "09:30", STORE_PRIORITY_NORMAL, true, "", "[\"work\"]");
    ts[3] = task(4, NULL, NULL, STORE_PRIORITY_NORMAL, false, NULL, NULL);
    ts[4] = task(5, "2026-12-05", NULL, STORE_PRIORITY_NORMAL, true, NULL, NULL);
    for (int i = 5; i < 12; i++)
        ts[i] = task(6 + i, i % 2 ? "2026-12-24" : NULL, NULL, i % 3, i % 2, NULL, "[\"x\"]");
    struct buf b;
    buf_init(&b, 1 << 20);
    struct jw w;
    jw_init(&w, &b);
    struct tasks_list_opts plain = {0};
    struct tasks_list_opts titled = {.title = "Open tasks", .limit = 5, .empty = "Nothing due."};
    for (size_t i = 0; i < 12; i++) {
        tasks_widget_card(&w, &ts[i], now);
        check_written(&w, &b);
        tasks_widget_edit_form(&w, &ts[i]);
        check_written(&w, &b);
        tasks_widget_delete_confirm(&w, &ts[i], 1);
        check_written(&w, &b);
    }
    for (size_t n = 0; n <= 12; n += 12) {
        tasks_widget_list(&w, ts, n, &plain, now);
        check_written(&w, &b);
        tasks_widget_list(&w, ts, n, &titled, now);
        check_written(&w, &b);
    }
    tasks_widget_delete_confirm(&w, ts, 12);
    check_written(&w, &b);
    buf_free(&b);
    for (size_t i = 0; i < 12; i++)
        free_task(&ts[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_trees),
        cmocka_unit_test(test_mistakes),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_task_app_widgets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
