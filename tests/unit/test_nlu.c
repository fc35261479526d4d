/* Unit tests for agent/nlu: a table of everyday requests with the intent each must give, read
 * on Wednesday 2026-11-25; the input limits; titles cut on a UTF-8 boundary; NUL, control and
 * invalid bytes; the JSON form and its cap; and a robustness run over 10,000 pseudo-random
 * messages that must never crash and must always give valid, bounded strings. */
#include "agent/nlu.h"
#include "core/buf.h"
#include "core/err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const struct date wednesday = {2026, 11, 25};

/* The intent of text as JSON, into out (NUL-terminated). */
static void intent_json(const char *text, size_t len, struct date today, char *out, size_t cap)
{
    struct nlu_intent in;
    struct buf b;
    nlu_parse(text, len, today, &in);
    buf_init(&b, 1 << 16);
    assert_int_equal(nlu_intent_to_json(&in, &b), 0);
    snprintf(out, cap, "%s", b.data);
    buf_free(&b);
}

struct row {
    const char *text;
    const char *want; /* nlu_intent_to_json of the intent */
};

/* Grouped by the kind expected. Each row is checked; every mismatch is reported before failing. */
static const struct row rows[] = {
    /* add */
    {"add call mum tomorrow at 5pm, high priority",
     "{\"kind\":\"add\",\"title\":\"call "
     "mum\",\"due_date\":\"2026-11-26\",\"due_time\":\"17:00\",\"priority\":\"high\"}"},
    {"add buy milk today", "{\"kind\":\"add\",\"title\":\"buy milk\",\"due_date\":\"2026-11-25\"}"},
    {"add dentist next Monday",
     "{\"kind\":\"add\",\"title\":\"dentist\",\"due_date\":\"2026-11-30\"}"},
    {"add renew passport in 3 days",
     "{\"kind\":\"add\",\"title\":\"renew passport\",\"due_date\":\"2026-11-28\"}"},
    {"add pay rent Dec 5", "{\"kind\":\"add\",\"title\":\"pay rent\",\"due_date\":\"2026-12-05\"}"},
    {"add submit report 2026-12-05",
     "{\"kind\":\"add\",\"title\":\"submit report\",\"due_date\":\"2026-12-05\"}"},
    {"add water plants at 17:30", "{\"kind\":\"add\",\"title\":\"water "
                                  "plants\",\"due_date\":\"2026-11-25\",\"due_time\":\"17:30\"}"},
    {"remind me to call mum", "{\"kind\":\"add\",\"title\":\"call mum\"}"},
    {"dentist friday 3pm",
     "{\"kind\":\"add\",\"title\":\"dentist\",\"due_date\":\"2026-11-27\",\"due_time\":\"15:00\"}"},
    {"buy milk!!", "{\"kind\":\"add\",\"title\":\"buy milk\",\"priority\":\"high\"}"},
    {"call mum #family", "{\"kind\":\"add\",\"title\":\"call mum\",\"tags\":[\"family\"]}"},
    {"add \"Monday meeting\" tomorrow",
     "{\"kind\":\"add\",\"title\":\"Monday meeting\",\"due_date\":\"2026-11-26\"}"},
    {"add Café with Zoë on Friday",
     "{\"kind\":\"add\",\"title\":\"Café with Zoë\",\"due_date\":\"2026-11-27\"}"},
    {"买牛奶 tomorrow", "{\"kind\":\"add\",\"title\":\"买牛奶\",\"due_date\":\"2026-11-26\"}"},
    {"please add buy eggs", "{\"kind\":\"add\",\"title\":\"buy eggs\"}"},
    {"can you add pick up kids at 3pm",
     "{\"kind\":\"add\",\"title\":\"pick up "
     "kids\",\"due_date\":\"2026-11-25\",\"due_time\":\"15:00\"}"},
    {"todo: buy milk", "{\"kind\":\"add\",\"title\":\"buy milk\"}"},
    {"task: call mum", "{\"kind\":\"add\",\"title\":\"call mum\"}"},
    {"I need to call the bank", "{\"kind\":\"add\",\"title\":\"call the bank\"}"},
    {"add a task to call mum", "{\"kind\":\"add\",\"title\":\"call mum\"}"},
    {"add buy milk to my groceries list",
     "{\"kind\":\"add\",\"title\":\"buy milk\",\"tags\":[\"groceries\"]}"},
    {"add water the garden, low priority",
     "{\"kind\":\"add\",\"title\":\"water the garden\",\"priority\":\"low\"}"},
    {"add fix bug urgent", "{\"kind\":\"add\",\"title\":\"fix bug\",\"priority\":\"high\"}"},
    {"add file taxes p1", "{\"kind\":\"add\",\"title\":\"file taxes\",\"priority\":\"high\"}"},
    {"add clean garage someday",
     "{\"kind\":\"add\",\"title\":\"clean garage\",\"priority\":\"low\"}"},
    {"hi, add milk tomorrow", "{\"kind\":\"add\",\"title\":\"milk\",\"due_date\":\"2026-11-26\"}"},
    {"I'd like to add call bob on Monday",
     "{\"kind\":\"add\",\"title\":\"call bob\",\"due_date\":\"2026-11-30\"}"},
    {"finish the report by friday",
     "{\"kind\":\"add\",\"title\":\"finish the report\",\"due_date\":\"2026-11-27\"}"},
    {"cancel gym membership by friday",
     "{\"kind\":\"add\",\"title\":\"cancel gym membership\",\"due_date\":\"2026-11-27\"}"},
    {"drop off package tomorrow",
     "{\"kind\":\"add\",\"title\":\"drop off package\",\"due_date\":\"2026-11-26\"}"},
    {"move house on saturday",
     "{\"kind\":\"add\",\"title\":\"move house\",\"due_date\":\"2026-11-28\"}"},
    {"add \"Call mum!\" tomorrow",
     "{\"kind\":\"add\",\"title\":\"Call mum!\",\"due_date\":\"2026-11-26\"}"},
    {"add \"delete everything\" tomorrow",
     "{\"kind\":\"add\",\"title\":\"delete everything\",\"due_date\":\"2026-11-26\"}"},
    {"add buy milk, eggs and bread tomorrow",
     "{\"kind\":\"add\",\"title\":\"buy milk, eggs and bread\",\"due_date\":\"2026-11-26\"}"},
    {"add call mum tomorrow morning", "{\"kind\":\"add\",\"title\":\"call "
                                      "mum\",\"due_date\":\"2026-11-26\",\"due_time\":\"09:00\"}"},
    {"add gym tonight",
     "{\"kind\":\"add\",\"title\":\"gym\",\"due_date\":\"2026-11-25\",\"due_time\":\"20:00\"}"},
    {"add meeting at 9 tonight",
     "{\"kind\":\"add\",\"title\":\"meeting\",\"due_date\":\"2026-11-25\",\"due_time\":\"21:00\"}"},
    {"add standup this morning",
     "{\"kind\":\"add\",\"title\":\"standup\",\"due_date\":\"2026-11-25\",\"due_time\":\"09:00\"}"},
    {"add pay bills end of month",
     "{\"kind\":\"add\",\"title\":\"pay bills\",\"due_date\":\"2026-11-30\"}"},
    {"add plan trip next weekend",
     "{\"kind\":\"add\",\"title\":\"plan trip\",\"due_date\":\"2026-12-05\"}"},
    {"add book flights in 2 weeks",
     "{\"kind\":\"add\",\"title\":\"book flights\",\"due_date\":\"2026-12-09\"}"},
    {"add ship it 3 days from now",
     "{\"kind\":\"add\",\"title\":\"ship it\",\"due_date\":\"2026-11-28\"}"},
    {"add dinner Dec 5th at 7:30pm",
     "{\"kind\":\"add\",\"title\":\"dinner\",\"due_date\":\"2026-12-05\",\"due_time\":\"19:30\"}"},
    {"add call bob 5 December 2027",
     "{\"kind\":\"add\",\"title\":\"call bob\",\"due_date\":\"2027-12-05\"}"},
    {"add something on the 5th of December",
     "{\"kind\":\"add\",\"title\":\"something\",\"due_date\":\"2026-12-05\"}"},
    {"add lunch at noon",
     "{\"kind\":\"add\",\"title\":\"lunch\",\"due_date\":\"2026-11-25\",\"due_time\":\"12:00\"}"},
    {"add buy sun cream", "{\"kind\":\"add\",\"title\":\"buy sun cream\"}"},
    {"add morning run", "{\"kind\":\"add\",\"title\":\"morning run\"}"},
    {"add run on fri", "{\"kind\":\"add\",\"title\":\"run\",\"due_date\":\"2026-11-27\"}"},
    {"add   spaces    everywhere   tomorrow  ",
     "{\"kind\":\"add\",\"title\":\"spaces everywhere\",\"due_date\":\"2026-11-26\"}"},
    {"add call mum at 5", "{\"kind\":\"add\",\"title\":\"call "
                          "mum\",\"due_date\":\"2026-11-25\",\"due_time\":\"17:00\"}"},
    {"add important meeting with boss tomorrow",
     "{\"kind\":\"add\",\"title\":\"meeting with "
     "boss\",\"due_date\":\"2026-11-26\",\"priority\":\"high\"}"},
    {"add buy low fat milk", "{\"kind\":\"add\",\"title\":\"buy low fat milk\"}"},
    {"add buy milk, low", "{\"kind\":\"add\",\"title\":\"buy milk\",\"priority\":\"low\"}"},
    {"add buy milk ! ", "{\"kind\":\"add\",\"title\":\"buy milk\",\"priority\":\"high\"}"},
    {"add review PR #123 tomorrow",
     "{\"kind\":\"add\",\"title\":\"review PR #123\",\"due_date\":\"2026-11-26\"}"},
    {"add fix #bug and #Urgent stuff",
     "{\"kind\":\"add\",\"title\":\"fix and stuff\",\"tags\":[\"bug\",\"urgent\"]}"},
    {"add task with tag work: write report",
     "{\"kind\":\"add\",\"title\":\"write report\",\"tags\":[\"work\"]}"},
    {"add write report tagged work",
     "{\"kind\":\"add\",\"title\":\"write report\",\"tags\":[\"work\"]}"},
    {"add write report with tag work",
     "{\"kind\":\"add\",\"title\":\"write report\",\"tags\":[\"work\"]}"},
    {"new task: email Sarah", "{\"kind\":\"add\",\"title\":\"email Sarah\"}"},
    {"remind me about the dentist on friday",
     "{\"kind\":\"add\",\"title\":\"the dentist\",\"due_date\":\"2026-11-27\"}"},
    {"don't forget to buy bread", "{\"kind\":\"add\",\"title\":\"buy bread\"}"},
    {"dont forget the keys", "{\"kind\":\"add\",\"title\":\"the keys\"}"},
    {"I have to pay the rent on Dec 1",
     "{\"kind\":\"add\",\"title\":\"pay the rent\",\"due_date\":\"2026-12-01\"}"},
    {"i need milk", "{\"kind\":\"add\",\"title\":\"milk\"}"},
    {"Note to self: water plants", "{\"kind\":\"add\",\"title\":\"water plants\"}"},
    {"add", "{\"kind\":\"add\"}"},
    {"add a task", "{\"kind\":\"add\"}"},
    {"create a reminder to call mum at 6pm",
     "{\"kind\":\"add\",\"title\":\"call "
     "mum\",\"due_date\":\"2026-11-25\",\"due_time\":\"18:00\"}"},
    {"set a reminder to stretch at 3pm",
     "{\"kind\":\"add\",\"title\":\"stretch\",\"due_date\":\"2026-11-25\",\"due_time\":\"15:00\"}"},
    {"remind me to stretch every day", "{\"kind\":\"add\",\"title\":\"stretch every day\"}"},
    {"add “Monday meeting” tomorrow",
     "{\"kind\":\"add\",\"title\":\"Monday meeting\",\"due_date\":\"2026-11-26\"}"},
    {"add \"unterminated quote tomorrow",
     "{\"kind\":\"add\",\"title\":\"unterminated quote tomorrow\"}"},
    {"add Zoë's birthday party on Dec 12",
     "{\"kind\":\"add\",\"title\":\"Zoë's birthday party\",\"due_date\":\"2026-12-12\"}"},
    {"add 会议 明天 tomorrow 3pm", "{\"kind\":\"add\",\"title\":\"会议 "
                                   "明天\",\"due_date\":\"2026-11-26\",\"due_time\":\"15:00\"}"},
    {"add straße fegen tomorrow",
     "{\"kind\":\"add\",\"title\":\"straße fegen\",\"due_date\":\"2026-11-26\"}"},
    {"add  tomorrow", "{\"kind\":\"add\",\"due_date\":\"2026-11-26\"}"},
    {"tomorrow 5pm", "{\"kind\":\"add\",\"due_date\":\"2026-11-26\",\"due_time\":\"17:00\"}"},
    {"#groceries", "{\"kind\":\"add\",\"tags\":[\"groceries\"]}"},
    {"add coffee #Café", "{\"kind\":\"add\",\"title\":\"coffee\",\"tags\":[\"café\"]}"},
    {"would you mind adding call mum tomorrow",
     "{\"kind\":\"add\",\"title\":\"call mum\",\"due_date\":\"2026-11-26\"}"},
    {"add buy milk please thanks", "{\"kind\":\"add\",\"title\":\"buy milk\"}"},
    {"add pay taxes asap", "{\"kind\":\"add\",\"title\":\"pay taxes\",\"priority\":\"high\"}"},
    {"add fix server critical",
     "{\"kind\":\"add\",\"title\":\"fix server\",\"priority\":\"high\"}"},
    {"add plan offsite top priority",
     "{\"kind\":\"add\",\"title\":\"plan offsite\",\"priority\":\"high\"}"},
    {"add call plumber !", "{\"kind\":\"add\",\"title\":\"call plumber\",\"priority\":\"high\"}"},
    {"add water plants not urgent",
     "{\"kind\":\"add\",\"title\":\"water plants\",\"priority\":\"low\"}"},
    {"add sort photos no rush",
     "{\"kind\":\"add\",\"title\":\"sort photos\",\"priority\":\"low\"}"},
    {"add read book whenever", "{\"kind\":\"add\",\"title\":\"read book\",\"priority\":\"low\"}"},
    {"add learn piano eventually",
     "{\"kind\":\"add\",\"title\":\"learn piano\",\"priority\":\"low\"}"},
    {"add clean attic p3", "{\"kind\":\"add\",\"title\":\"clean attic\",\"priority\":\"low\"}"},
    {"add weekly review normal priority",
     "{\"kind\":\"add\",\"title\":\"weekly review\",\"priority\":\"normal\"}"},
    {"add team lunch medium priority",
     "{\"kind\":\"add\",\"title\":\"team lunch\",\"priority\":\"normal\"}"},
    {"add renew license p2",
     "{\"kind\":\"add\",\"title\":\"renew license\",\"priority\":\"normal\"}"},
    {"add renew license, high",
     "{\"kind\":\"add\",\"title\":\"renew license\",\"priority\":\"high\"}"},
    {"add file report high priority tomorrow at 9am",
     "{\"kind\":\"add\",\"title\":\"file "
     "report\",\"due_date\":\"2026-11-26\",\"due_time\":\"09:00\",\"priority\":\"high\"}"},
    {"add dentist the day after tomorrow",
     "{\"kind\":\"add\",\"title\":\"dentist\",\"due_date\":\"2026-11-27\"}"},
    {"add call grandma yesterday",
     "{\"kind\":\"add\",\"title\":\"call grandma\",\"due_date\":\"2026-11-24\"}"},
    {"add buy gifts in a week",
     "{\"kind\":\"add\",\"title\":\"buy gifts\",\"due_date\":\"2026-12-02\"}"},
    {"add taxes in a couple of days",
     "{\"kind\":\"add\",\"title\":\"taxes\",\"due_date\":\"2026-11-27\"}"},
    {"add party on saturday", "{\"kind\":\"add\",\"title\":\"party\",\"due_date\":\"2026-11-28\"}"},
    {"add party this friday", "{\"kind\":\"add\",\"title\":\"party\",\"due_date\":\"2026-11-27\"}"},
    {"add party next friday", "{\"kind\":\"add\",\"title\":\"party\",\"due_date\":\"2026-12-04\"}"},
    {"add hike this weekend", "{\"kind\":\"add\",\"title\":\"hike\",\"due_date\":\"2026-11-28\"}"},
    {"add budget next month",
     "{\"kind\":\"add\",\"title\":\"budget\",\"due_date\":\"2026-12-01\"}"},
    {"add birthday Feb 29",
     "{\"kind\":\"add\",\"title\":\"birthday\",\"due_date\":\"2028-02-29\"}"},
    {"add call at 5:30pm",
     "{\"kind\":\"add\",\"title\":\"call\",\"due_date\":\"2026-11-25\",\"due_time\":\"17:30\"}"},
    {"add alarm at 5.30 p.m.",
     "{\"kind\":\"add\",\"title\":\"alarm\",\"due_date\":\"2026-11-25\",\"due_time\":\"17:30\"}"},
    {"add wake up at 7am",
     "{\"kind\":\"add\",\"title\":\"wake up\",\"due_date\":\"2026-11-25\",\"due_time\":\"07:00\"}"},
    {"add meet Sam at 9 o'clock", "{\"kind\":\"add\",\"title\":\"meet "
                                  "Sam\",\"due_date\":\"2026-11-25\",\"due_time\":\"09:00\"}"},
    {"Add Call Mum Tomorrow",
     "{\"kind\":\"add\",\"title\":\"Call Mum\",\"due_date\":\"2026-11-26\"}"},
    {"ADD BUY MILK TOMORROW",
     "{\"kind\":\"add\",\"title\":\"BUY MILK\",\"due_date\":\"2026-11-26\"}"},
    {"add buy milk tomorrow.",
     "{\"kind\":\"add\",\"title\":\"buy milk\",\"due_date\":\"2026-11-26\"}"},
    {"add buy milk tomorrow!!!",
     "{\"kind\":\"add\",\"title\":\"buy milk\",\"due_date\":\"2026-11-26\",\"priority\":\"high\"}"},
    {"add \"Buy milk!\" tomorrow",
     "{\"kind\":\"add\",\"title\":\"Buy milk!\",\"due_date\":\"2026-11-26\"}"},
    {"can you please add \"Call mum, then dad\" at 6pm",
     "{\"kind\":\"add\",\"title\":\"Call mum, then "
     "dad\",\"due_date\":\"2026-11-25\",\"due_time\":\"18:00\"}"},
    {"add pick up dry-cleaning @ 5pm",
     "{\"kind\":\"add\",\"title\":\"pick up "
     "dry-cleaning\",\"due_date\":\"2026-11-25\",\"due_time\":\"17:00\"}"},
    {"add email R&D about Q4 on Dec 5",
     "{\"kind\":\"add\",\"title\":\"email R&D about Q4\",\"due_date\":\"2026-12-05\"}"},
    {"add call mum tmrw", "{\"kind\":\"add\",\"title\":\"call mum\",\"due_date\":\"2026-11-26\"}"},
    {"add pay rent by Dec 1",
     "{\"kind\":\"add\",\"title\":\"pay rent\",\"due_date\":\"2026-12-01\"}"},
    {"remind me to take out the bins tonight",
     "{\"kind\":\"add\",\"title\":\"take out the "
     "bins\",\"due_date\":\"2026-11-25\",\"due_time\":\"20:00\"}"},
    {"add dentist on the 3rd of December at 10:15am",
     "{\"kind\":\"add\",\"title\":\"dentist\",\"due_date\":\"2026-12-03\",\"due_time\":\"10:15\"}"},
    {"remind me to delete everything", "{\"kind\":\"add\",\"title\":\"delete everything\"}"},
    {"todo: show my tasks", "{\"kind\":\"add\",\"title\":\"show my tasks\"}"},
    {"I have to mark the report done", "{\"kind\":\"add\",\"title\":\"mark the report done\"}"},
    {"put the bins out tonight", "{\"kind\":\"add\",\"title\":\"put the bins "
                                 "out\",\"due_date\":\"2026-11-25\",\"due_time\":\"20:00\"}"},
    {"add buy milk #2 tomorrow",
     "{\"kind\":\"add\",\"title\":\"buy milk #2\",\"due_date\":\"2026-11-26\"}"},
    {"add high chair for baby", "{\"kind\":\"add\",\"title\":\"high chair for baby\"}"},
    {"add pay bills tomorrow #Home #home #HOME",
     "{\"kind\":\"add\",\"title\":\"pay bills\",\"due_date\":\"2026-11-26\",\"tags\":[\"home\"]}"},
    {"put milk on the groceries list",
     "{\"kind\":\"add\",\"title\":\"milk\",\"tags\":[\"groceries\"]}"},
    {"new year party tomorrow",
     "{\"kind\":\"add\",\"title\":\"new year party\",\"due_date\":\"2026-11-26\"}"},
    {"new task call mum", "{\"kind\":\"add\",\"title\":\"call mum\"}"},
    {"write report tomorrow",
     "{\"kind\":\"add\",\"title\":\"write report\",\"due_date\":\"2026-11-26\"}"},
    {"get the car serviced on friday",
     "{\"kind\":\"add\",\"title\":\"get the car serviced\",\"due_date\":\"2026-11-27\"}"},
    {"i've got to call mum", "{\"kind\":\"add\",\"title\":\"call mum\"}"},
    {"put out the bins tonight", "{\"kind\":\"add\",\"title\":\"put out the "
                                 "bins\",\"due_date\":\"2026-11-25\",\"due_time\":\"20:00\"}"},
    /* list */
    {"what's due this week?", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"range\":\"this_"
                              "week\",\"due_from\":\"2026-11-25\",\"due_to\":\"2026-11-29\"}}"},
    {"list", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\"}}"},
    {"show my tasks", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\"}}"},
    {"show all tasks", "{\"kind\":\"list\",\"filter\":{\"status\":\"any\"}}"},
    {"show everything", "{\"kind\":\"list\",\"filter\":{\"status\":\"any\"}}"},
    {"show done tasks", "{\"kind\":\"list\",\"filter\":{\"status\":\"done\"}}"},
    {"what did I complete", "{\"kind\":\"list\",\"filter\":{\"status\":\"done\"}}"},
    {"show completed", "{\"kind\":\"list\",\"filter\":{\"status\":\"done\"}}"},
    {"what's due today", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"range\":\"today\","
                         "\"due_from\":\"2026-11-25\",\"due_to\":\"2026-11-25\"}}"},
    {"what's overdue?", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"range\":\"overdue\","
                        "\"due_to\":\"2026-11-24\"}}"},
    {"show overdue tasks", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"range\":"
                           "\"overdue\",\"due_to\":\"2026-11-24\"}}"},
    {"show tasks tagged work",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"tag\":\"work\"}}"},
    {"show #work", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"tag\":\"work\"}}"},
    {"what's in groceries",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"tag\":\"groceries\"}}"},
    {"show my groceries list",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"tag\":\"groceries\"}}"},
    {"show high priority tasks",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"priority\":\"high\"}}"},
    {"list low priority tasks",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"priority\":\"low\"}}"},
    {"find milk", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"query\":\"milk\"}}"},
    {"search for dentist",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"query\":\"dentist\"}}"},
    {"what's due tomorrow", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"range\":"
                            "\"tomorrow\",\"due_from\":\"2026-11-26\",\"due_to\":\"2026-11-26\"}}"},
    {"anything due next week?",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"range\":\"next_week\",\"due_from\":"
     "\"2026-11-30\",\"due_to\":\"2026-12-06\"}}"},
    {"overdue?", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"range\":\"overdue\",\"due_"
                 "to\":\"2026-11-24\"}}"},
    {"today", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"range\":\"today\",\"due_from\":"
              "\"2026-11-25\",\"due_to\":\"2026-11-25\"}}"},
    {"could you please show my tasks for today",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"range\":\"today\",\"due_from\":\"2026-"
     "11-25\",\"due_to\":\"2026-11-25\"}}"},
    {"what's next", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\"}}"},
    {"how many tasks do I have", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\"}}"},
    {"do I have anything due tomorrow?",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"range\":\"tomorrow\",\"due_from\":"
     "\"2026-11-26\",\"due_to\":\"2026-11-26\"}}"},
    {"what do I need to do today",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"range\":\"today\",\"due_from\":\"2026-"
     "11-25\",\"due_to\":\"2026-11-25\"}}"},
    {"show me tasks about the dentist",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"query\":\"dentist\"}}"},
    {"list my work tasks", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"tag\":\"work\"}}"},
    {"what's urgent?",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"priority\":\"high\"}}"},
    {"show tasks in groceries",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"tag\":\"groceries\"}}"},
    {"show all open tasks", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\"}}"},
    {"show all tasks due today",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"range\":\"today\",\"due_from\":\"2026-"
     "11-25\",\"due_to\":\"2026-11-25\"}}"},
    {"show open and done tasks", "{\"kind\":\"list\",\"filter\":{\"status\":\"any\"}}"},
    {"what's on my plate this week",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"range\":\"this_week\",\"due_from\":"
     "\"2026-11-25\",\"due_to\":\"2026-11-29\"}}"},
    {"list tasks by priority", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\"}}"},
    {"show tasks due Dec 5", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"range\":\"day\","
                             "\"due_from\":\"2026-12-05\",\"due_to\":\"2026-12-05\"}}"},
    {"what's due on friday", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"range\":\"day\","
                             "\"due_from\":\"2026-11-27\",\"due_to\":\"2026-11-27\"}}"},
    {"show me this month's tasks",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"range\":\"this_month\",\"due_from\":"
     "\"2026-11-25\",\"due_to\":\"2026-11-30\"}}"},
    {"tasks for tomorrow", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"range\":"
                           "\"tomorrow\",\"due_from\":\"2026-11-26\",\"due_to\":\"2026-11-26\"}}"},
    {"my todo list", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\"}}"},
    {"show my todos", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\"}}"},
    {"what's on my todolist", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\"}}"},
    {"delete all todos tagged x",
     "{\"kind\":\"delete\",\"target\":{\"kind\":\"filter\",\"filter\":{\"status\":\"any\","
     "\"tag\":\"x\"},\"bulk\":true}}"},
    {"what’s due today?", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"range\":\"today\","
                          "\"due_from\":\"2026-11-25\",\"due_to\":\"2026-11-25\"}}"},
    {"find \"oat milk\"",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"query\":\"oat milk\"}}"},
    {"show tasks tagged Café",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"tag\":\"café\"}}"},
    {"please, could you show me what's overdue?",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"range\":\"overdue\",\"due_to\":\"2026-"
     "11-24\"}}"},
    {"ok so what's due this week",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"range\":\"this_week\",\"due_from\":"
     "\"2026-11-25\",\"due_to\":\"2026-11-29\"}}"},
    {"i want to see my tasks", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\"}}"},
    {"show my tasks for this weekend",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"range\":\"weekend\",\"due_from\":\"2026-"
     "11-28\",\"due_to\":\"2026-11-29\"}}"},
    {"what's due next month", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"range\":\"next_"
                              "month\",\"due_from\":\"2026-12-01\",\"due_to\":\"2026-12-31\"}}"},
    {"list everything", "{\"kind\":\"list\",\"filter\":{\"status\":\"any\"}}"},
    {"list all done tasks", "{\"kind\":\"list\",\"filter\":{\"status\":\"done\"}}"},
    {"what have I finished this week?",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"done\",\"range\":\"this_week\",\"due_from\":"
     "\"2026-11-25\",\"due_to\":\"2026-11-29\"}}"},
    {"show me what's left", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\"}}"},
    {"show pending tasks", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\"}}"},
    {"show open tasks due tomorrow tagged work",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"range\":\"tomorrow\",\"due_from\":"
     "\"2026-11-26\",\"due_to\":\"2026-11-26\",\"tag\":\"work\"}}"},
    {"show low priority tasks due this week",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"priority\":\"low\",\"range\":\"this_"
     "week\",\"due_from\":\"2026-11-25\",\"due_to\":\"2026-11-29\"}}"},
    {"show me tasks with tag home",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"tag\":\"home\"}}"},
    {"list tasks labelled home",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"tag\":\"home\"}}"},
    {"what's due today in work",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"range\":\"today\",\"due_from\":\"2026-"
     "11-25\",\"due_to\":\"2026-11-25\",\"tag\":\"work\"}}"},
    {"show me my done tasks", "{\"kind\":\"list\",\"filter\":{\"status\":\"done\"}}"},
    {"list completed tasks this week",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"done\",\"range\":\"this_week\",\"due_from\":"
     "\"2026-11-25\",\"due_to\":\"2026-11-29\"}}"},
    {"what's on for tomorrow",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"range\":\"tomorrow\",\"due_from\":"
     "\"2026-11-26\",\"due_to\":\"2026-11-26\"}}"},
    {"what's due on Dec 5", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"range\":\"day\","
                            "\"due_from\":\"2026-12-05\",\"due_to\":\"2026-12-05\"}}"},
    {"what's due 2026-12-05", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"range\":"
                              "\"day\",\"due_from\":\"2026-12-05\",\"due_to\":\"2026-12-05\"}}"},
    {"do I have anything overdue", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"range\":"
                                   "\"overdue\",\"due_to\":\"2026-11-24\"}}"},
    {"is there anything due this weekend",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"range\":\"weekend\",\"due_from\":\"2026-"
     "11-28\",\"due_to\":\"2026-11-29\"}}"},
    {"any urgent tasks?",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"priority\":\"high\"}}"},
    {"show me the work stuff",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"tag\":\"work\"}}"},
    {"find tasks about Zoë",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"query\":\"Zoë\"}}"},
    {"search \"oat milk\"",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"query\":\"oat milk\"}}"},
    {"view my agenda", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\"}}"},
    {"show tasks with high priority",
     "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"priority\":\"high\"}}"},
    {"get my tasks", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\"}}"},
    {"tell me what's due", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\"}}"},
    {"look for milk", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"query\":\"milk\"}}"},
    {"pull up my list", "{\"kind\":\"list\",\"filter\":{\"status\":\"open\"}}"},
    /* complete */
    {"mark the dentist one done",
     "{\"kind\":\"complete\",\"target\":{\"kind\":\"title\",\"words\":\"dentist\"}}"},
    {"complete the dentist one",
     "{\"kind\":\"complete\",\"target\":{\"kind\":\"title\",\"words\":\"dentist\"}}"},
    {"mark the second one done",
     "{\"kind\":\"complete\",\"target\":{\"kind\":\"position\",\"position\":2}}"},
    {"complete number 3",
     "{\"kind\":\"complete\",\"target\":{\"kind\":\"position\",\"position\":3}}"},
    {"mark it done", "{\"kind\":\"complete\",\"target\":{\"kind\":\"last\"}}"},
    {"mark all as done", "{\"kind\":\"complete\",\"target\":{\"kind\":\"filter\",\"filter\":{"
                         "\"status\":\"open\"},\"bulk\":true}}"},
    {"thanks, mark it done", "{\"kind\":\"complete\",\"target\":{\"kind\":\"last\"}}"},
    {"complete the tax return",
     "{\"kind\":\"complete\",\"target\":{\"kind\":\"title\",\"words\":\"tax return\"}}"},
    {"the dentist one is done",
     "{\"kind\":\"complete\",\"target\":{\"kind\":\"title\",\"words\":\"dentist\"}}"},
    {"milk done", "{\"kind\":\"complete\",\"target\":{\"kind\":\"title\",\"words\":\"milk\"}}"},
    {"it's done", "{\"kind\":\"complete\",\"target\":{\"kind\":\"last\"}}"},
    {"i finished the report",
     "{\"kind\":\"complete\",\"target\":{\"kind\":\"title\",\"words\":\"report\"}}"},
    {"i did the laundry",
     "{\"kind\":\"complete\",\"target\":{\"kind\":\"title\",\"words\":\"laundry\"}}"},
    {"done with the report",
     "{\"kind\":\"complete\",\"target\":{\"kind\":\"title\",\"words\":\"report\"}}"},
    {"tick off the milk one",
     "{\"kind\":\"complete\",\"target\":{\"kind\":\"title\",\"words\":\"milk\"}}"},
    {"tick the milk off",
     "{\"kind\":\"complete\",\"target\":{\"kind\":\"title\",\"words\":\"milk\"}}"},
    {"check off the dentist",
     "{\"kind\":\"complete\",\"target\":{\"kind\":\"title\",\"words\":\"dentist\"}}"},
    {"mark the first two done", "{\"kind\":\"complete\",\"target\":{\"kind\":\"position\","
                                "\"position\":1,\"count\":2,\"bulk\":true}}"},
    {"complete all of them", "{\"kind\":\"complete\",\"target\":{\"kind\":\"position\","
                             "\"position\":1,\"count\":1000,\"bulk\":true}}"},
    {"mark everything tagged work done",
     "{\"kind\":\"complete\",\"target\":{\"kind\":\"filter\",\"filter\":{\"status\":\"open\","
     "\"tag\":\"work\"},\"bulk\":true}}"},
    {"complete all high priority tasks",
     "{\"kind\":\"complete\",\"target\":{\"kind\":\"filter\",\"filter\":{\"status\":\"open\","
     "\"priority\":\"high\"},\"bulk\":true}}"},
    {"complete task 2",
     "{\"kind\":\"complete\",\"target\":{\"kind\":\"position\",\"position\":2}}"},
    {"complete 3", "{\"kind\":\"complete\",\"target\":{\"kind\":\"position\",\"position\":3}}"},
    {"mark number three done",
     "{\"kind\":\"complete\",\"target\":{\"kind\":\"position\",\"position\":3}}"},
    {"mark the 2nd one as done",
     "{\"kind\":\"complete\",\"target\":{\"kind\":\"position\",\"position\":2}}"},
    {"mark the last one done",
     "{\"kind\":\"complete\",\"target\":{\"kind\":\"position\",\"position\":-1}}"},
    {"mark this one done", "{\"kind\":\"complete\",\"target\":{\"kind\":\"last\"}}"},
    {"complete that", "{\"kind\":\"complete\",\"target\":{\"kind\":\"last\"}}"},
    {"mark \"call mum\" done",
     "{\"kind\":\"complete\",\"target\":{\"kind\":\"title\",\"words\":\"call mum\"}}"},
    {"can you mark the report done please",
     "{\"kind\":\"complete\",\"target\":{\"kind\":\"title\",\"words\":\"report\"}}"},
    {"mark the dentist appointment done thanks",
     "{\"kind\":\"complete\",\"target\":{\"kind\":\"title\",\"words\":\"dentist appointment\"}}"},
    {"done", "{\"kind\":\"complete\"}"},
    {"complete everything in work",
     "{\"kind\":\"complete\",\"target\":{\"kind\":\"filter\",\"filter\":{\"status\":\"open\","
     "\"tag\":\"work\"},\"bulk\":true}}"},
    {"complete all", "{\"kind\":\"complete\",\"target\":{\"kind\":\"filter\",\"filter\":{"
                     "\"status\":\"open\"},\"bulk\":true}}"},
    {"mark call mum as done",
     "{\"kind\":\"complete\",\"target\":{\"kind\":\"title\",\"words\":\"call mum\"}}"},
    {"complete \"buy milk\"",
     "{\"kind\":\"complete\",\"target\":{\"kind\":\"title\",\"words\":\"buy milk\"}}"},
    {"complete the first one",
     "{\"kind\":\"complete\",\"target\":{\"kind\":\"position\",\"position\":1}}"},
    {"finish it", "{\"kind\":\"complete\",\"target\":{\"kind\":\"last\"}}"},
    {"mark all done", "{\"kind\":\"complete\",\"target\":{\"kind\":\"filter\",\"filter\":{"
                      "\"status\":\"open\"},\"bulk\":true}}"},
    {"complete the Monday meeting",
     "{\"kind\":\"complete\",\"target\":{\"kind\":\"title\",\"words\":\"Monday meeting\"}}"},
    {"mark the gym at 5pm done",
     "{\"kind\":\"complete\",\"target\":{\"kind\":\"title\",\"words\":\"gym\"}}"},
    /* reopen */
    {"reopen the milk task",
     "{\"kind\":\"reopen\",\"target\":{\"kind\":\"title\",\"words\":\"milk\"}}"},
    {"reopen the last one",
     "{\"kind\":\"reopen\",\"target\":{\"kind\":\"position\",\"position\":-1}}"},
    {"mark the report as not done",
     "{\"kind\":\"reopen\",\"target\":{\"kind\":\"title\",\"words\":\"report\"}}"},
    {"mark the milk one as undone",
     "{\"kind\":\"reopen\",\"target\":{\"kind\":\"title\",\"words\":\"milk\"}}"},
    {"reopen all done tasks", "{\"kind\":\"reopen\",\"target\":{\"kind\":\"filter\",\"filter\":{"
                              "\"status\":\"done\"},\"bulk\":true}}"},
    {"undo", "{\"kind\":\"reopen\"}"},
    {"reopen it", "{\"kind\":\"reopen\",\"target\":{\"kind\":\"last\"}}"},
    {"reopen number 2", "{\"kind\":\"reopen\",\"target\":{\"kind\":\"position\",\"position\":2}}"},
    {"uncheck the milk one",
     "{\"kind\":\"reopen\",\"target\":{\"kind\":\"title\",\"words\":\"milk\"}}"},
    {"mark the report as open",
     "{\"kind\":\"reopen\",\"target\":{\"kind\":\"title\",\"words\":\"report\"}}"},
    {"the report isn't done",
     "{\"kind\":\"reopen\",\"target\":{\"kind\":\"title\",\"words\":\"report\"}}"},
    /* rename */
    {"rename the milk task to buy oat milk",
     "{\"kind\":\"rename\",\"title\":\"buy oat "
     "milk\",\"target\":{\"kind\":\"title\",\"words\":\"milk\"}}"},
    {"rename it to Call Zoë",
     "{\"kind\":\"rename\",\"title\":\"Call Zoë\",\"target\":{\"kind\":\"last\"}}"},
    {"change the report to quarterly report",
     "{\"kind\":\"rename\",\"title\":\"quarterly "
     "report\",\"target\":{\"kind\":\"title\",\"words\":\"report\"}}"},
    {"update the milk task to buy oat milk",
     "{\"kind\":\"rename\",\"title\":\"buy oat "
     "milk\",\"target\":{\"kind\":\"title\",\"words\":\"milk\"}}"},
    {"change the title of the milk task to oat milk",
     "{\"kind\":\"rename\",\"title\":\"oat "
     "milk\",\"target\":{\"kind\":\"title\",\"words\":\"milk\"}}"},
    {"rename the report",
     "{\"kind\":\"rename\",\"target\":{\"kind\":\"title\",\"words\":\"report\"}}"},
    {"rename \"go to market\" to \"go to the market\"",
     "{\"kind\":\"rename\",\"title\":\"go to the "
     "market\",\"target\":{\"kind\":\"title\",\"words\":\"go to market\"}}"},
    {"rename the milk task as Oat milk!",
     "{\"kind\":\"rename\",\"title\":\"Oat "
     "milk\",\"target\":{\"kind\":\"title\",\"words\":\"milk\"}}"},
    {"rename the report to \"Q4: final report.\"",
     "{\"kind\":\"rename\",\"title\":\"Q4: final "
     "report.\",\"target\":{\"kind\":\"title\",\"words\":\"report\"}}"},
    {"rename the call mum task to call mum and dad",
     "{\"kind\":\"rename\",\"title\":\"call mum and "
     "dad\",\"target\":{\"kind\":\"title\",\"words\":\"call mum\"}}"},
    {"set the report to Weekly report",
     "{\"kind\":\"rename\",\"title\":\"Weekly "
     "report\",\"target\":{\"kind\":\"title\",\"words\":\"report\"}}"},
    {"rename to Weekly report", "{\"kind\":\"rename\",\"title\":\"Weekly report\"}"},
    /* reschedule */
    {"reschedule the dentist to next Monday",
     "{\"kind\":\"reschedule\",\"due_date\":\"2026-11-30\",\"target\":{\"kind\":\"title\","
     "\"words\":\"dentist\"}}"},
    {"move the dentist to friday at 3pm",
     "{\"kind\":\"reschedule\",\"due_date\":\"2026-11-27\",\"due_time\":\"15:00\",\"target\":{"
     "\"kind\":\"title\",\"words\":\"dentist\"}}"},
    {"postpone the report by 2 days", "{\"kind\":\"reschedule\",\"shift_days\":2,\"target\":{"
                                      "\"kind\":\"title\",\"words\":\"report\"}}"},
    {"postpone the report", "{\"kind\":\"reschedule\",\"shift_days\":1,\"target\":{\"kind\":"
                            "\"title\",\"words\":\"report\"}}"},
    {"push the report back a week", "{\"kind\":\"reschedule\",\"shift_days\":7,\"target\":{"
                                    "\"kind\":\"title\",\"words\":\"report\"}}"},
    {"move it to tomorrow",
     "{\"kind\":\"reschedule\",\"due_date\":\"2026-11-26\",\"target\":{\"kind\":\"last\"}}"},
    {"bring the report forward by 2 days", "{\"kind\":\"reschedule\",\"shift_days\":-2,\"target\":{"
                                           "\"kind\":\"title\",\"words\":\"report\"}}"},
    {"delay the dentist until next week", "{\"kind\":\"reschedule\",\"due_date\":\"2026-11-30\","
                                          "\"target\":{\"kind\":\"title\",\"words\":\"dentist\"}}"},
    {"push back the meeting", "{\"kind\":\"reschedule\",\"shift_days\":1,\"target\":{\"kind\":"
                              "\"title\",\"words\":\"meeting\"}}"},
    {"put off the report", "{\"kind\":\"reschedule\",\"shift_days\":1,\"target\":{\"kind\":"
                           "\"title\",\"words\":\"report\"}}"},
    {"snooze it", "{\"kind\":\"reschedule\",\"shift_days\":1,\"target\":{\"kind\":\"last\"}}"},
    {"postpone the dentist to Dec 5", "{\"kind\":\"reschedule\",\"due_date\":\"2026-12-05\","
                                      "\"target\":{\"kind\":\"title\",\"words\":\"dentist\"}}"},
    {"change the dentist to friday", "{\"kind\":\"reschedule\",\"due_date\":\"2026-11-27\","
                                     "\"target\":{\"kind\":\"title\",\"words\":\"dentist\"}}"},
    {"change the dentist to 3pm", "{\"kind\":\"reschedule\",\"due_time\":\"15:00\",\"target\":{"
                                  "\"kind\":\"title\",\"words\":\"dentist\"}}"},
    {"change the due date of the report to next friday",
     "{\"kind\":\"reschedule\",\"due_date\":\"2026-12-04\",\"target\":{\"kind\":\"title\","
     "\"words\":\"report\"}}"},
    {"remove the due date from the report",
     "{\"kind\":\"reschedule\",\"clear_due\":true,\"target\":{\"kind\":\"title\",\"words\":"
     "\"report\"}}"},
    {"clear the deadline on the dentist", "{\"kind\":\"reschedule\",\"clear_due\":true,\"target\":{"
                                          "\"kind\":\"title\",\"words\":\"dentist\"}}"},
    {"change the deadline of the report to Dec 5",
     "{\"kind\":\"reschedule\",\"due_date\":\"2026-12-05\",\"target\":{\"kind\":\"title\","
     "\"words\":\"report\"}}"},
    {"move the tuesday meeting to friday",
     "{\"kind\":\"reschedule\",\"due_date\":\"2026-11-27\",\"target\":{\"kind\":\"title\","
     "\"words\":\"tuesday meeting\"}}"},
    {"move the dentist to next week", "{\"kind\":\"reschedule\",\"due_date\":\"2026-11-30\","
                                      "\"target\":{\"kind\":\"title\",\"words\":\"dentist\"}}"},
    {"push the dentist 2 days", "{\"kind\":\"reschedule\",\"shift_days\":2,\"target\":{\"kind\":"
                                "\"title\",\"words\":\"dentist\"}}"},
    {"reschedule everything due today to tomorrow",
     "{\"kind\":\"reschedule\",\"due_date\":\"2026-11-26\",\"target\":{\"kind\":\"filter\","
     "\"filter\":{\"status\":\"open\",\"range\":\"today\",\"due_from\":\"2026-11-25\",\"due_to\":"
     "\"2026-11-25\"},\"bulk\":true}}"},
    {"move the report to tomorrow 9am",
     "{\"kind\":\"reschedule\",\"due_date\":\"2026-11-26\",\"due_time\":\"09:00\",\"target\":{"
     "\"kind\":\"title\",\"words\":\"report\"}}"},
    {"reschedule it for next friday",
     "{\"kind\":\"reschedule\",\"due_date\":\"2026-12-04\",\"target\":{\"kind\":\"last\"}}"},
    {"move number 2 to friday", "{\"kind\":\"reschedule\",\"due_date\":\"2026-11-27\",\"target\":{"
                                "\"kind\":\"position\",\"position\":2}}"},
    {"postpone the second one by a week", "{\"kind\":\"reschedule\",\"shift_days\":7,\"target\":{"
                                          "\"kind\":\"position\",\"position\":2}}"},
    {"push the report back by 3 days", "{\"kind\":\"reschedule\",\"shift_days\":3,\"target\":{"
                                       "\"kind\":\"title\",\"words\":\"report\"}}"},
    {"postpone the report by a month", "{\"kind\":\"reschedule\",\"shift_months\":1,\"target\":{"
                                       "\"kind\":\"title\",\"words\":\"report\"}}"},
    {"delay it a day", "{\"kind\":\"reschedule\",\"shift_days\":1,\"target\":{\"kind\":\"last\"}}"},
    {"set the report due friday", "{\"kind\":\"reschedule\",\"due_date\":\"2026-11-27\",\"target\":"
                                  "{\"kind\":\"title\",\"words\":\"report\"}}"},
    {"make the report due next week", "{\"kind\":\"reschedule\",\"due_date\":\"2026-11-30\","
                                      "\"target\":{\"kind\":\"title\",\"words\":\"report\"}}"},
    {"change it to tomorrow at noon", "{\"kind\":\"reschedule\",\"due_date\":\"2026-11-26\",\"due_"
                                      "time\":\"12:00\",\"target\":{\"kind\":\"last\"}}"},
    {"defer the report", "{\"kind\":\"reschedule\",\"shift_days\":1,\"target\":{\"kind\":\"title\","
                         "\"words\":\"report\"}}"},
    {"put the report off", "{\"kind\":\"reschedule\",\"shift_days\":1,\"target\":{\"kind\":"
                           "\"title\",\"words\":\"report\"}}"},
    {"push the report back", "{\"kind\":\"reschedule\",\"shift_days\":1,\"target\":{\"kind\":"
                             "\"title\",\"words\":\"report\"}}"},
    {"update the report to 5pm", "{\"kind\":\"reschedule\",\"due_time\":\"17:00\",\"target\":{"
                                 "\"kind\":\"title\",\"words\":\"report\"}}"},
    {"move up the dentist by a day", "{\"kind\":\"reschedule\",\"shift_days\":-1,\"target\":{"
                                     "\"kind\":\"title\",\"words\":\"dentist\"}}"},
    {"bring the dentist forward", "{\"kind\":\"reschedule\",\"shift_days\":-1,\"target\":{\"kind\":"
                                  "\"title\",\"words\":\"dentist\"}}"},
    /* reprioritize */
    {"make the report urgent", "{\"kind\":\"reprioritize\",\"priority\":\"high\",\"target\":{"
                               "\"kind\":\"title\",\"words\":\"report\"}}"},
    {"set the milk task to low priority", "{\"kind\":\"reprioritize\",\"priority\":\"low\","
                                          "\"target\":{\"kind\":\"title\",\"words\":\"milk\"}}"},
    {"prioritize the report", "{\"kind\":\"reprioritize\",\"priority\":\"high\",\"target\":{"
                              "\"kind\":\"title\",\"words\":\"report\"}}"},
    {"change the report to urgent", "{\"kind\":\"reprioritize\",\"priority\":\"high\",\"target\":{"
                                    "\"kind\":\"title\",\"words\":\"report\"}}"},
    {"change the priority of the report to low",
     "{\"kind\":\"reprioritize\",\"priority\":\"low\",\"target\":{\"kind\":\"title\",\"words\":"
     "\"report\"}}"},
    {"remove the priority from the report",
     "{\"kind\":\"reprioritize\",\"priority\":\"normal\",\"target\":{\"kind\":\"title\",\"words\":"
     "\"report\"}}"},
    {"mark the report as important", "{\"kind\":\"reprioritize\",\"priority\":\"high\",\"target\":{"
                                     "\"kind\":\"title\",\"words\":\"report\"}}"},
    {"reprioritize the report to normal", "{\"kind\":\"reprioritize\",\"priority\":\"normal\","
                                          "\"target\":{\"kind\":\"title\",\"words\":\"report\"}}"},
    {"deprioritize the gym", "{\"kind\":\"reprioritize\",\"priority\":\"low\",\"target\":{\"kind\":"
                             "\"title\",\"words\":\"gym\"}}"},
    {"make it low priority",
     "{\"kind\":\"reprioritize\",\"priority\":\"low\",\"target\":{\"kind\":\"last\"}}"},
    {"set it to high",
     "{\"kind\":\"reprioritize\",\"priority\":\"high\",\"target\":{\"kind\":\"last\"}}"},
    {"make the second one urgent", "{\"kind\":\"reprioritize\",\"priority\":\"high\",\"target\":{"
                                   "\"kind\":\"position\",\"position\":2}}"},
    {"lower the priority of the report", "{\"kind\":\"reprioritize\",\"priority\":\"low\","
                                         "\"target\":{\"kind\":\"title\",\"words\":\"report\"}}"},
    {"raise the priority of the gym", "{\"kind\":\"reprioritize\",\"priority\":\"high\",\"target\":"
                                      "{\"kind\":\"title\",\"words\":\"gym\"}}"},
    {"make everything tagged work high priority",
     "{\"kind\":\"reprioritize\",\"priority\":\"high\",\"target\":{\"kind\":\"filter\",\"filter\":{"
     "\"status\":\"open\",\"tag\":\"work\"},\"bulk\":true}}"},
    {"make the dentist one normal priority",
     "{\"kind\":\"reprioritize\",\"priority\":\"normal\",\"target\":{\"kind\":\"title\",\"words\":"
     "\"dentist\"}}"},
    {"mark the report high priority", "{\"kind\":\"reprioritize\",\"priority\":\"high\",\"target\":"
                                      "{\"kind\":\"title\",\"words\":\"report\"}}"},
    {"mark the gym as low priority", "{\"kind\":\"reprioritize\",\"priority\":\"low\",\"target\":{"
                                     "\"kind\":\"title\",\"words\":\"gym\"}}"},
    {"set the second one to urgent", "{\"kind\":\"reprioritize\",\"priority\":\"high\",\"target\":{"
                                     "\"kind\":\"position\",\"position\":2}}"},
    {"bump up the priority of the gym", "{\"kind\":\"reprioritize\",\"priority\":\"high\","
                                        "\"target\":{\"kind\":\"title\",\"words\":\"gym\"}}"},
    /* delete */
    {"delete everything in groceries",
     "{\"kind\":\"delete\",\"target\":{\"kind\":\"filter\",\"filter\":{\"status\":\"any\",\"tag\":"
     "\"groceries\"},\"bulk\":true}}"},
    {"delete everything tagged groceries",
     "{\"kind\":\"delete\",\"target\":{\"kind\":\"filter\",\"filter\":{\"status\":\"any\",\"tag\":"
     "\"groceries\"},\"bulk\":true}}"},
    {"delete the milk task",
     "{\"kind\":\"delete\",\"target\":{\"kind\":\"title\",\"words\":\"milk\"}}"},
    {"delete it", "{\"kind\":\"delete\",\"target\":{\"kind\":\"last\"}}"},
    {"delete the second one",
     "{\"kind\":\"delete\",\"target\":{\"kind\":\"position\",\"position\":2}}"},
    {"delete #2", "{\"kind\":\"delete\",\"target\":{\"kind\":\"position\",\"position\":2}}"},
    {"delete number 3", "{\"kind\":\"delete\",\"target\":{\"kind\":\"position\",\"position\":3}}"},
    {"delete all done tasks", "{\"kind\":\"delete\",\"target\":{\"kind\":\"filter\",\"filter\":{"
                              "\"status\":\"done\"},\"bulk\":true}}"},
    {"let's delete the milk task",
     "{\"kind\":\"delete\",\"target\":{\"kind\":\"title\",\"words\":\"milk\"}}"},
    {"cancel the dentist",
     "{\"kind\":\"delete\",\"target\":{\"kind\":\"title\",\"words\":\"dentist\"}}"},
    {"delete them all", "{\"kind\":\"delete\",\"target\":{\"kind\":\"position\",\"position\":1,"
                        "\"count\":1000,\"bulk\":true}}"},
    {"delete both of them", "{\"kind\":\"delete\",\"target\":{\"kind\":\"position\",\"position\":1,"
                            "\"count\":2,\"bulk\":true}}"},
    {"delete the overdue ones",
     "{\"kind\":\"delete\",\"target\":{\"kind\":\"filter\",\"filter\":{\"status\":\"any\","
     "\"range\":\"overdue\",\"due_to\":\"2026-11-24\"},\"bulk\":true}}"},
    {"clear completed tasks", "{\"kind\":\"delete\",\"target\":{\"kind\":\"filter\",\"filter\":{"
                              "\"status\":\"done\"},\"bulk\":true}}"},
    {"delete everything", "{\"kind\":\"delete\",\"target\":{\"kind\":\"filter\",\"filter\":{"
                          "\"status\":\"any\"},\"bulk\":true}}"},
    {"delete all milk tasks", "{\"kind\":\"delete\",\"target\":{\"kind\":\"filter\",\"filter\":{"
                              "\"status\":\"any\",\"tag\":\"milk\"},\"bulk\":true}}"},
    {"delete #groceries", "{\"kind\":\"delete\",\"target\":{\"kind\":\"filter\",\"filter\":{"
                          "\"status\":\"any\",\"tag\":\"groceries\"},\"bulk\":true}}"},
    {"delete the one I just added", "{\"kind\":\"delete\",\"target\":{\"kind\":\"last\"}}"},
    {"delete the café one",
     "{\"kind\":\"delete\",\"target\":{\"kind\":\"title\",\"words\":\"café\"}}"},
    {"hey can you delete the dentist one",
     "{\"kind\":\"delete\",\"target\":{\"kind\":\"title\",\"words\":\"dentist\"}}"},
    {"delete the meeting tomorrow",
     "{\"kind\":\"delete\",\"target\":{\"kind\":\"title\",\"words\":\"meeting\"}}"},
    {"remove everything tagged work",
     "{\"kind\":\"delete\",\"target\":{\"kind\":\"filter\",\"filter\":{\"status\":\"any\",\"tag\":"
     "\"work\"},\"bulk\":true}}"},
    {"delete everything due today",
     "{\"kind\":\"delete\",\"target\":{\"kind\":\"filter\",\"filter\":{\"status\":\"any\","
     "\"range\":\"today\",\"due_from\":\"2026-11-25\",\"due_to\":\"2026-11-25\"},\"bulk\":true}}"},
    {"delete all overdue tasks",
     "{\"kind\":\"delete\",\"target\":{\"kind\":\"filter\",\"filter\":{\"status\":\"any\","
     "\"range\":\"overdue\",\"due_to\":\"2026-11-24\"},\"bulk\":true}}"},
    {"delete the dentist one",
     "{\"kind\":\"delete\",\"target\":{\"kind\":\"title\",\"words\":\"dentist\"}}"},
    {"remove the milk task from my list",
     "{\"kind\":\"delete\",\"target\":{\"kind\":\"title\",\"words\":\"milk\"}}"},
    {"get rid of the old report",
     "{\"kind\":\"delete\",\"target\":{\"kind\":\"title\",\"words\":\"old report\"}}"},
    {"trash it", "{\"kind\":\"delete\",\"target\":{\"kind\":\"last\"}}"},
    {"delete the first two", "{\"kind\":\"delete\",\"target\":{\"kind\":\"position\",\"position\":"
                             "1,\"count\":2,\"bulk\":true}}"},
    {"delete the last one",
     "{\"kind\":\"delete\",\"target\":{\"kind\":\"position\",\"position\":-1}}"},
    {"forget about the gym",
     "{\"kind\":\"delete\",\"target\":{\"kind\":\"title\",\"words\":\"gym\"}}"},
    {"erase number 4", "{\"kind\":\"delete\",\"target\":{\"kind\":\"position\",\"position\":4}}"},
    {"delete all groceries tasks",
     "{\"kind\":\"delete\",\"target\":{\"kind\":\"filter\",\"filter\":{\"status\":\"any\",\"tag\":"
     "\"groceries\"},\"bulk\":true}}"},
    {"delete all", "{\"kind\":\"delete\",\"target\":{\"kind\":\"filter\",\"filter\":{\"status\":"
                   "\"any\"},\"bulk\":true}}"},
    /* help */
    {"help", "{\"kind\":\"help\"}"},
    {"what can you do?", "{\"kind\":\"help\"}"},
    {"how do I delete a task?", "{\"kind\":\"help\"}"},
    {"how does this work", "{\"kind\":\"help\"}"},
    {"who are you", "{\"kind\":\"help\"}"},
    {"commands", "{\"kind\":\"help\"}"},
    {"what can I say", "{\"kind\":\"help\"}"},
    {"i need help", "{\"kind\":\"help\"}"},
    {"how do I add a task", "{\"kind\":\"help\"}"},
    /* greeting */
    {"hi", "{\"kind\":\"greeting\"}"},
    {"hello there", "{\"kind\":\"greeting\"}"},
    {"good morning", "{\"kind\":\"greeting\"}"},
    {"hey", "{\"kind\":\"greeting\"}"},
    {"hi! thanks!!", "{\"kind\":\"greeting\"}"},
    {"hiya", "{\"kind\":\"greeting\"}"},
    {"good evening", "{\"kind\":\"greeting\"}"},
    {"hey there!", "{\"kind\":\"greeting\"}"},
    /* thanks */
    {"thanks!", "{\"kind\":\"thanks\"}"},
    {"thank you so much", "{\"kind\":\"thanks\"}"},
    {"ok", "{\"kind\":\"thanks\"}"},
    {"got it", "{\"kind\":\"thanks\"}"},
    {"bye", "{\"kind\":\"thanks\"}"},
    {"all done", "{\"kind\":\"thanks\"}"},
    {"cheers", "{\"kind\":\"thanks\"}"},
    {"thx", "{\"kind\":\"thanks\"}"},
    {"thanks a lot", "{\"kind\":\"thanks\"}"},
    {"ok thanks", "{\"kind\":\"thanks\"}"},
    {"sounds good", "{\"kind\":\"thanks\"}"},
    {"it's all done", "{\"kind\":\"thanks\"}"},
    /* unknown */
    {"Buy milk!", "{\"kind\":\"unknown\"}"},
    {"blah blah", "{\"kind\":\"unknown\"}"},
    {"remove the work tag from the report", "{\"kind\":\"unknown\"}"},
    {"dentist", "{\"kind\":\"unknown\"}"},
    {"?!", "{\"kind\":\"unknown\"}"},
    {"urgent", "{\"kind\":\"unknown\"}"},
    {"   ", "{\"kind\":\"unknown\"}"},
    {"...", "{\"kind\":\"unknown\"}"},
    {"lorem ipsum dolor", "{\"kind\":\"unknown\"}"},
    {"the weather is nice", "{\"kind\":\"unknown\"}"},
    {"untag the report", "{\"kind\":\"unknown\"}"},
    {"please", "{\"kind\":\"unknown\"}"},
    {"Café with Zoë", "{\"kind\":\"unknown\"}"},
};

static void test_table(void **state)
{
    (void)state;
    size_t n = sizeof rows / sizeof rows[0], bad = 0;
    char got[4096];
    assert_true(n >= 160);
    for (size_t i = 0; i < n; i++) {
        intent_json(rows[i].text, strlen(rows[i].text), wednesday, got, sizeof got);
        if (strcmp(got, rows[i].want) != 0) {
            bad++;
            print_error("utterance: %s\n     want: %s\n      got: %s\n", rows[i].text, rows[i].want,
                        got);
        }
    }
    if (bad)
        fail_msg("%zu of %zu utterances misread", bad, n);
}

/* Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF) and no control bytes. */
static bool clean_utf8(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        unsigned char c = u[i];
        size_t k;
        uint32_t cp;
        if (c < 0x20 || c == 0x7F)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            k = 2, cp = c & 0x1Fu;
        else if ((c & 0xF0) == 0xE0)
            k = 3, cp = c & 0x0Fu;
        else if (c >= 0xF0 && c <= 0xF4)
            k = 4, cp = c & 0x07u;
        else
            return false;
        if (i + k > len)
            return false;
        for (size_t j = 1; j < k; j++) {
            if ((u[i + j] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (u[i + j] & 0x3Fu);
        }
        if ((k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += k;
    }
    return true;
}

/* A NUL-terminated field of at most max bytes, clean UTF-8, with no space at either end. */
static bool field_ok(const char *s, size_t size, size_t max)
{
    const char *nul = memchr(s, '\0', size);
    if (!nul)
        return false;
    size_t len = (size_t)(nul - s);
    return len <= max && clean_utf8(s, len) && (len == 0 || (s[0] != ' ' && s[len - 1] != ' '));
}

static bool filter_ok(const struct nlu_filter *f)
{
    return f->status >= NLU_STATUS_ANY && f->status <= NLU_STATUS_DONE &&
           f->priority >= NLU_PRIORITY_NONE && f->priority <= NLU_PRIORITY_HIGH &&
           f->range >= DATES_RANGE_NONE && f->range <= DATES_RANGE_OVERDUE &&
           field_ok(f->tag, sizeof f->tag, NLU_TAG_MAX) &&
           field_ok(f->query, sizeof f->query, NLU_QUERY_MAX) &&
           field_ok(f->due_from, sizeof f->due_from, 10) &&
           field_ok(f->due_to, sizeof f->due_to, 10);
}

/* Every invariant an intent must keep, whatever the input. */
static void check_intent(const struct nlu_intent *in, const char *text, size_t len)
{
    struct date d;
    bool ok = in->kind >= NLU_UNKNOWN && in->kind <= NLU_THANKS &&
              field_ok(in->title, sizeof in->title, NLU_TITLE_MAX) &&
              (!in->due_date[0] || dates_parse_iso(in->due_date, strlen(in->due_date), &d) == 0) &&
              field_ok(in->due_time, sizeof in->due_time, 5) && in->priority >= NLU_PRIORITY_NONE &&
              in->priority <= NLU_PRIORITY_HIGH && in->n_tags >= 0 && in->n_tags <= NLU_TAGS_MAX &&
              filter_ok(&in->filter) && in->target.kind >= NLU_TARGET_NONE &&
              in->target.kind <= NLU_TARGET_FILTER &&
              field_ok(in->target.words, sizeof in->target.words, NLU_QUERY_MAX) &&
              filter_ok(&in->target.filter);
    for (int i = 0; ok && i < in->n_tags; i++)
        ok = field_ok(in->tags[i], sizeof in->tags[i], NLU_TAG_MAX) && in->tags[i][0];
    if (ok && in->due_time[0])
        ok = strlen(in->due_time) == 5 && in->due_time[2] == ':' &&
             (in->due_time[0] - '0') * 10 + (in->due_time[1] - '0') <= 23 &&
             (in->due_time[3] - '0') * 10 + (in->due_time[4] - '0') <= 59;
    if (!ok) {
        print_error("bad intent for %zu bytes:", len);
        for (size_t i = 0; i < len; i++)
            print_error(" %02x", (unsigned char)text[i]);
        print_error("\n");
    }
    assert_true(ok);
}

static void test_required_utterances(void **state)
{
    (void)state;
    static const char *const required[] = {
        "add call mum tomorrow at 5pm, high priority",
        "what's due this week?",
        "mark the dentist one done",
        "delete everything in groceries",
        "delete everything tagged groceries",
    };
    size_t found = 0;
    for (size_t r = 0; r < sizeof required / sizeof required[0]; r++)
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
            found += strcmp(rows[i].text, required[r]) == 0;
    assert_int_equal(found, sizeof required / sizeof required[0]);
    /* The example in nlu.h, exactly. */
    char got[1024];
    intent_json(required[0], strlen(required[0]), wednesday, got, sizeof got);
    assert_string_equal(got, "{\"kind\":\"add\",\"title\":\"call mum\",\"due_date\":\"2026-11-26\","
                             "\"due_time\":\"17:00\",\"priority\":\"high\"}");
}

static void test_input_limits(void **state)
{
    (void)state;
    static char text[NLU_INPUT_MAX + 2];
    struct nlu_intent in;
    /* Exactly NLU_INPUT_MAX bytes is read; one more is UNKNOWN. */
    memset(text, 'a', sizeof text);
    memcpy(text, "add ", 4);
    nlu_parse(text, NLU_INPUT_MAX, wednesday, &in);
    assert_int_equal(in.kind, NLU_ADD);
    assert_true(in.title_truncated);
    assert_int_equal(strlen(in.title), NLU_TITLE_MAX);
    nlu_parse(text, NLU_INPUT_MAX + 1, wednesday, &in);
    assert_int_equal(in.kind, NLU_UNKNOWN);
    assert_string_equal(in.title, "");
    /* NLU_WORDS_MAX words are read; one more is UNKNOWN. */
    size_t len = 0;
    len += (size_t)snprintf(text, sizeof text, "add");
    for (int i = 1; i < NLU_WORDS_MAX; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, " x");
    nlu_parse(text, len, wednesday, &in);
    assert_int_equal(in.kind, NLU_ADD);
    len += (size_t)snprintf(text + len, sizeof text - len, " y");
    nlu_parse(text, len, wednesday, &in);
    assert_int_equal(in.kind, NLU_UNKNOWN);
    /* Empty and NULL. */
    nlu_parse("", 0, wednesday, &in);
    assert_int_equal(in.kind, NLU_UNKNOWN);
    nlu_parse(NULL, 0, wednesday, &in);
    assert_int_equal(in.kind, NLU_UNKNOWN);
}

static void test_title_cut_on_utf8_boundary(void **state)
{
    (void)state;
    char text[1024];
    struct nlu_intent in;
    for (size_t lead = 0; lead < 3; lead++) {
        size_t len = (size_t)snprintf(text, sizeof text, "add %.*s", (int)lead, "xx");
        for (int i = 0; i < 300; i++) {
            memcpy(text + len, "\xC3\xA9", 2); /* é */
            len += 2;
        }
        len += (size_t)snprintf(text + len, sizeof text - len, " tomorrow");
        nlu_parse(text, len, wednesday, &in);
        assert_int_equal(in.kind, NLU_ADD);
        assert_true(in.title_truncated);
        assert_true(strlen(in.title) <= NLU_TITLE_MAX);
        assert_true(strlen(in.title) >= NLU_TITLE_MAX - 1);
        assert_true(clean_utf8(in.title, strlen(in.title)));
        assert_string_equal(in.due_date, "2026-11-26");
    }
    /* Target words and tags are capped too. */
    size_t len = (size_t)snprintf(text, sizeof text, "delete ");
    memset(text + len, 'w', 300);
    len += 300;
    nlu_parse(text, len, wednesday, &in);
    assert_int_equal(in.target.kind, NLU_TARGET_TITLE);
    assert_int_equal(strlen(in.target.words), NLU_QUERY_MAX);
    len = (size_t)snprintf(text, sizeof text, "add milk #");
    memset(text + len, 'T', 100);
    len += 100;
    nlu_parse(text, len, wednesday, &in);
    assert_int_equal(in.n_tags, 1);
    assert_int_equal(strlen(in.tags[0]), NLU_TAG_MAX);
    assert_int_equal(in.tags[0][0], 't');
}

static void test_odd_bytes(void **state)
{
    (void)state;
    char got[1024];
    /* NUL and control characters separate words and never reach a title. */
    static const char nul[] = "add buy\0milk\ttomorrow";
    intent_json(nul, sizeof nul - 1, wednesday, got, sizeof got);
    assert_string_equal(got,
                        "{\"kind\":\"add\",\"title\":\"buy milk\",\"due_date\":\"2026-11-26\"}");
    static const char ctl[] = "add call\x01\x02mum\r\nat 5pm";
    intent_json(ctl, sizeof ctl - 1, wednesday, got, sizeof got);
    assert_string_equal(got, "{\"kind\":\"add\",\"title\":\"call mum\",\"due_date\":\"2026-11-25\","
                             "\"due_time\":\"17:00\"}");
    /* Invalid UTF-8 becomes U+FFFD. */
    static const char bad[] = "add caf\xC3 \xFF\xFEx tomorrow";
    intent_json(bad, sizeof bad - 1, wednesday, got, sizeof got);
    assert_string_equal(got, "{\"kind\":\"add\",\"title\":\"caf\xEF\xBF\xBD "
                             "\xEF\xBF\xBD\xEF\xBF\xBDx\",\"due_date\":\"2026-11-26\"}");
    /* Quoted text is kept verbatim, even a command, a date and "!!". */
    static const char quoted[] = "add \"Delete everything tomorrow!!\" on friday";
    intent_json(quoted, sizeof quoted - 1, wednesday, got, sizeof got);
    assert_string_equal(got, "{\"kind\":\"add\",\"title\":\"Delete everything tomorrow!!\","
                             "\"due_date\":\"2026-11-27\"}");
}

static void test_relative_to_today(void **state)
{
    (void)state;
    char got[1024];
    struct date eve = {2026, 12, 31}, friday = {2026, 11, 27}, bad = {2026, 2, 30};
    intent_json("add party tomorrow", 18, eve, got, sizeof got);
    assert_string_equal(got, "{\"kind\":\"add\",\"title\":\"party\",\"due_date\":\"2027-01-01\"}");
    intent_json("add party friday", 16, friday, got, sizeof got);
    assert_string_equal(got, "{\"kind\":\"add\",\"title\":\"party\",\"due_date\":\"2026-12-04\"}");
    /* An invalid today loses the dates, nothing else. */
    intent_json("add party tomorrow", 18, bad, got, sizeof got);
    assert_string_equal(got, "{\"kind\":\"add\",\"title\":\"party tomorrow\"}");
    intent_json("what's due this week", 20, bad, got, sizeof got);
    assert_string_equal(got,
                        "{\"kind\":\"list\",\"filter\":{\"status\":\"open\",\"query\":\"week\"}}");
}

static void test_fills_everything(void **state)
{
    (void)state;
    struct nlu_intent in;
    memset(&in, 0xA5, sizeof in);
    nlu_parse("hello", 5, wednesday, &in);
    assert_int_equal(in.kind, NLU_GREETING);
    check_intent(&in, "hello", 5);
    assert_int_equal(in.n_tags, 0);
    assert_int_equal(in.priority, NLU_PRIORITY_NONE);
    assert_int_equal(in.target.kind, NLU_TARGET_NONE);
    assert_false(in.clear_due);
    assert_int_equal(in.shift_days, 0);
    assert_int_equal(in.shift_months, 0);
}

static void test_json_cap_and_names(void **state)
{
    (void)state;
    struct nlu_intent in;
    struct buf b;
    nlu_parse("add call mum tomorrow", 21, wednesday, &in);
    buf_init(&b, 30);
    assert_int_equal(buf_append_str(&b, "xy"), 0);
    assert_int_equal(nlu_intent_to_json(&in, &b), ERR_TOO_BIG);
    assert_int_equal(b.len, 2);
    assert_string_equal(b.data, "xy");
    buf_free(&b);
    static const char *const kinds[] = {"unknown", "add",    "list",       "complete",
                                        "reopen",  "rename", "reschedule", "reprioritize",
                                        "delete",  "help",   "greeting",   "thanks"};
    for (int k = NLU_UNKNOWN; k <= NLU_THANKS; k++)
        assert_string_equal(nlu_kind_name(k), kinds[k]);
    assert_string_equal(nlu_kind_name(-1), "unknown");
    assert_string_equal(nlu_kind_name(99), "unknown");
    assert_string_equal(nlu_priority_name(NLU_PRIORITY_LOW), "low");
    assert_string_equal(nlu_priority_name(NLU_PRIORITY_NORMAL), "normal");
    assert_string_equal(nlu_priority_name(NLU_PRIORITY_HIGH), "high");
    assert_string_equal(nlu_priority_name(NLU_PRIORITY_NONE), "none");
    assert_string_equal(nlu_priority_name(7), "none");
}

static uint64_t next_random(uint64_t *s)
{
    /* xorshift64*: fixed seed, so a failure replays. */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

/* Pieces that reach deep into the parser: commands, dates, tags, quotes, '!' runs, other
 * scripts, curly quotes, invalid and truncated UTF-8. */
static const char *const pieces[] = {
    "add",
    "delete",
    "mark",
    "done",
    "rename",
    " to ",
    "move",
    "postpone",
    "by 2 days",
    "tomorrow",
    "next friday",
    "dec 5",
    "2026-12-05",
    "at 5pm",
    "17:30",
    "tonight",
    "#",
    "#groceries",
    "#2",
    "tagged",
    "everything",
    "all",
    "the second one",
    "number 3",
    "it",
    "\"",
    "\xE2\x80\x9C",
    "\xE2\x80\x9D",
    "!",
    "!!",
    "'",
    "\xE2\x80\x99",
    "caf\xC3\xA9",
    "\xE4\xB9\xB0",
    "\xC3",
    "\xFF",
    "\xE2\x80",
    "\0",
    "\n",
    ",",
    ":",
    "high priority",
    "not urgent",
    "please",
    "what's due",
    "this week",
    "overdue",
    "in groceries",
    "the first two",
    "remove the due date from",
    "p1",
    "-",
    ".",
    "@",
    "in a couple of days",
    "the 5th of december",
    "5.30 p.m.",
    " ",
    "  ",
};

static size_t random_message(uint64_t *seed, size_t i, char *text, size_t max)
{
    size_t len = (size_t)(next_random(seed) % (max + 1)), n = 0;
    if (i % 2 == 0) {
        for (; n < len; n++)
            text[n] = (char)(next_random(seed) & 0xFF);
        return n;
    }
    while (n < len) {
        const char *p = pieces[next_random(seed) % (sizeof pieces / sizeof pieces[0])];
        size_t pl = p[0] ? strlen(p) : 1; /* "\0" is one NUL byte */
        if (n + pl > len)
            break;
        memcpy(text + n, p, pl);
        n += pl;
        if (n < len && next_random(seed) % 3)
            text[n++] = ' ';
    }
    return n;
}

static void test_robustness(void **state)
{
    (void)state;
    uint64_t seed = 0x5eed2026112500ULL;
    char text[301];
    struct nlu_intent in;
    struct buf a, b;
    buf_init(&a, 1 << 16);
    buf_init(&b, 1 << 16);
    for (size_t i = 0; i < 10000; i++) {
        size_t len = random_message(&seed, i, text, 300);
        nlu_parse(text, len, wednesday, &in);
        check_intent(&in, text, len);
        buf_reset(&a);
        assert_int_equal(nlu_intent_to_json(&in, &a), 0);
        /* Deterministic: the same message reads the same. */
        nlu_parse(text, len, wednesday, &in);
        buf_reset(&b);
        assert_int_equal(nlu_intent_to_json(&in, &b), 0);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.data, b.data, a.len);
    }
    buf_free(&a);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_required_utterances),
        cmocka_unit_test(test_input_limits),
        cmocka_unit_test(test_title_cut_on_utf8_boundary),
        cmocka_unit_test(test_odd_bytes),
        cmocka_unit_test(test_relative_to_today),
        cmocka_unit_test(test_fills_everything),
        cmocka_unit_test(test_json_cap_and_names),
        cmocka_unit_test(test_robustness),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
