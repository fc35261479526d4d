/* task.h - the task model: validation, JSON in and out, and local dates in the task's zone.
 *
 * A task (struct store_task, store.h) is created from a JSON body or tool arguments with
 * task_from_json(), changed by the same call in patch mode, and written with task_write_json().
 * Every rule lives here so the REST routes, the tools and the agent agree:
 *
 *   title     1..500 characters after trimming white space; no control characters
 *   notes     at most 10,000 characters (tabs and line breaks allowed); "" or null = none
 *   status    "open" | "done"; done sets completed_us, reopening clears it
 *   due_date  "YYYY-MM-DD", a real calendar date
 *   due_time  "HH:MM" from 00:00 to 23:59, only with a due_date
 *   tz        an IANA zone name (charset [A-Za-z0-9_+-/], 1..63) present under
 *             /usr/share/zoneinfo; "UTC" always; "" = UTC
 *   priority  "low" | "normal" | "high"
 *   tags      at most 20, each 1..64 characters of [a-z0-9_-] or non-ASCII letters; lowercased,
 *             a leading '#' dropped, duplicates removed (first one kept)
 *
 * Lengths count Unicode code points; text must be valid UTF-8. Validation messages are
 * sentences a person or a model can act on ("title must be 1 to 500 characters").
 *
 * Ownership: a struct store_task owns its title, notes and tags_json (heap strings); these
 * functions free what they replace, and task_clear() releases them.
 *
 * Threads: everything here runs on the loop thread (the zone cache is not locked).
 */
#ifndef CHATKITD_TASKS_TASK_H
#define CHATKITD_TASKS_TASK_H

#include "core/json_read.h"
#include "core/json_write.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TASK_ID_PREFIX "task_"
#define TASK_TITLE_MAX 500   /* characters */
#define TASK_NOTES_MAX 10000 /* characters */
#define TASK_TAGS_MAX  20
#define TASK_TAG_MAX   64  /* characters */
#define TASK_QUERY_MAX 256 /* bytes of a search string (store_task_filter.q) */
#define TASK_WHY_MAX   160 /* room for a validation message, with its NUL */
#define TASK_ZONEINFO  "/usr/share/zoneinfo"

/* Checks one field; 0, or ERR_INVALID with a message in why (TASK_WHY_MAX bytes). The title
 * check trims first: *start and *tlen (when not NULL) get the trimmed span of s. */
int task_validate_title(const char *s, size_t len, size_t *start, size_t *tlen, char *why);
int task_validate_notes(const char *s, size_t len, char *why);
/* "YYYY-MM-DD", a real date (years 0001..9999). */
int task_validate_date(const char *s, char *why);
/* "HH:MM", 00:00..23:59. */
int task_validate_time(const char *s, char *why);
/* An IANA zone name that exists under TASK_ZONEINFO (stat), or "UTC". */
int task_validate_tz(const char *s, char *why);
/* "low"/"normal"/"high" to enum store_task_priority; ERR_INVALID for anything else. */
int task_parse_priority(const char *s);
const char *task_priority_name(int priority);
/* Normalizes one tag (drops a leading '#', trims, lowercases) into out (TASK_TAG_MAX * 4 + 1
 * bytes) and checks it; 0 or ERR_INVALID with why. Used for tag filters too. */
int task_normalize_tag(const char *s, char *out, size_t outlen, char *why);
/* Validates a JSON array of tags and writes the normalized array as JSON text into a new heap
 * string (*out, caller frees); 0 or ERR_INVALID with why. */
int task_tags_from_json(const cJSON *arr, char **out, char *why);

/* Applies body (a JSON object) to *inout. Create mode (patch false): *inout is reset to a new
 * open task with normal priority, no tags, and title is required; ids and times are the
 * caller's. Patch mode: only the members present change; null clears notes, due_date, due_time,
 * tz and tags (clearing due_date clears due_time too); a title or status of null is refused.
 * Unknown members are ignored. Setting status done stamps completed_us with the wall clock
 * (unless already done); reopening zeroes it. All or nothing: on ERR_INVALID (why says which
 * field and rule) *inout is unchanged. */
int task_from_json(const cJSON *body, bool patch, struct store_task *inout, char *why);
/* Checks a patch body alone, before the task it applies to is loaded (every per-field rule;
 * a due_time needing a due_date is only known once the task is). */
int task_check_patch(const cJSON *body, char *why);
/* Marks t done or open (completed_us as in task_from_json); returns true when it changed. */
bool task_set_done(struct store_task *t, bool done, int64_t now_us);

/* Writes the task object of the API:
 * {"id","title","notes"?,"status","due_date"?,"due_time"?,"tz"?,"priority","tags":[...],
 *  "created_at","updated_at","completed_at"?} with ISO-8601 UTC times; absent = none. */
void task_write_json(struct jw *w, const struct store_task *t);

/* Deep copy of src into dst (dst's previous strings are not freed: pass a cleared task). */
void task_copy(struct store_task *dst, const struct store_task *src);
/* Frees t's strings and leaves them NULL. */
void task_clear(struct store_task *t);

/* Offset of zone tz ("" and "UTC" are UTC) from UTC, in seconds east, at utc_s. Reads and caches
 * the zone's TZif file on first use. 0, or ERR_NOT_FOUND (unknown or unreadable zone: *off_s is
 * then 0, i.e. UTC). */
int task_tz_offset(const char *tz, int64_t utc_s, int32_t *off_s);

/* A local wall-clock moment. */
struct task_local {
    int year, month, day; /* calendar date */
    int minute;           /* minutes since local midnight */
};
/* The local date and time in zone tz at wall_us (unknown zones count as UTC). */
void task_local_time(const char *tz, int64_t wall_us, struct task_local *out);
/* Days since 1970-01-01 to a civil date (clock_civil_from_days with int fields). */
void task_civil_from_days(int64_t days, int *year, int *month, int *day);

#endif
