#include "tasks/task.h"

#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TAGS_JSON_MAX   (TASK_TAGS_MAX * (TASK_TAG_MAX * 4 + 8) + 16)
#define TZ_CACHE_MAX    64
#define TZ_FILE_MAX     (512 * 1024)
#define TZ_NAME_MAX     63
#define SECONDS_PER_DAY 86400

static int fail(char *why, const char *msg)
{
    snprintf(why, TASK_WHY_MAX, "%s", msg);
    return ERR_INVALID;
}

/* ---- UTF-8 ---- */

/* Decodes the code point at s[*i] and advances *i past it; -1 for invalid UTF-8 (bad lead or
 * continuation bytes, truncation, overlong forms, surrogates, beyond U+10FFFF). */
static int32_t utf8_next(const unsigned char *s, size_t len, size_t *i)
{
    unsigned char c = s[*i];
    int32_t cp;
    size_t n;
    if (c < 0x80) {
        (*i)++;
        return c;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 1;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 2;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 3;
        cp = c & 0x07;
    } else {
        return -1;
    }
    if (len - *i <= n)
        return -1;
    for (size_t k = 1; k <= n; k++) {
        unsigned char cc = s[*i + k];
        if ((cc & 0xc0) != 0x80)
            return -1;
        cp = (cp << 6) | (cc & 0x3f);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return -1;
    *i += n + 1;
    return cp;
}

static size_t utf8_put(char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Unicode White_Space: what trimming removes. */
static bool is_space_cp(int32_t cp)
{
    return (cp >= 0x09 && cp <= 0x0d) || cp == 0x20 || cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f ||
           cp == 0x205f || cp == 0x3000;
}

/* C0, DEL and C1 controls. */
static bool is_control_cp(int32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/* Tags allow letters of any script but not the punctuation, symbol and emoji blocks, so "#🛒"
 * or "a/b" do not become tags. Without a Unicode database this is a block list: close enough for
 * labels, and it never refuses a letter of a living script. */
static bool is_tag_letter_cp(int32_t cp)
{
    if (cp < 0xc0 || cp == 0xd7 || cp == 0xf7)
        return false;
    if ((cp >= 0x2000 && cp <= 0x2bff) || (cp >= 0x3000 && cp <= 0x303f) ||
        (cp >= 0xd800 && cp <= 0xf8ff) || (cp >= 0xfe00 && cp <= 0xfe0f) ||
        (cp >= 0xfe30 && cp <= 0xfe6f) || (cp >= 0xff00 && cp <= 0xff0f) ||
        (cp >= 0xff1a && cp <= 0xff20) || (cp >= 0xff3b && cp <= 0xff40) ||
        (cp >= 0xff5b && cp <= 0xff65) || cp >= 0xfff0)
        return false;
    if (cp >= 0x1f000 && cp <= 0x1faff)
        return false;
    return !is_space_cp(cp);
}

/* Simple lowercase mapping for the scripts with case that tags are likely to use: Latin-1,
 * Latin Extended-A, Greek, Cyrillic, Armenian and fullwidth Latin. */
static uint32_t lower_cp(uint32_t cp)
{
    if (cp >= 'A' && cp <= 'Z')
        return cp + 32;
    if (cp < 0xc0)
        return cp;
    if (cp <= 0xde && cp != 0xd7)
        return cp + 0x20;
    if (cp >= 0x100 && cp <= 0x137)
        return cp | 1;
    if (cp >= 0x139 && cp <= 0x148)
        return (cp & 1) ? cp + 1 : cp;
    if (cp >= 0x14a && cp <= 0x177)
        return cp | 1;
    if (cp == 0x178)
        return 0xff;
    if (cp >= 0x179 && cp <= 0x17e)
        return (cp & 1) ? cp + 1 : cp;
    if (cp >= 0x391 && cp <= 0x3a9 && cp != 0x3a2)
        return cp + 0x20;
    if (cp >= 0x400 && cp <= 0x40f)
        return cp + 0x50;
    if (cp >= 0x410 && cp <= 0x42f)
        return cp + 0x20;
    if (cp >= 0x531 && cp <= 0x556)
        return cp + 0x30;
    if (cp >= 0xff21 && cp <= 0xff3a)
        return cp + 0x20;
    return cp;
}

/* ---- fields ---- */

int task_validate_title(const char *s, size_t len, size_t *start, size_t *tlen, char *why)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, first = len, end = 0, chars = 0;
    bool control = false;
    while (i < len) {
        size_t at = i;
        int32_t cp = utf8_next(u, len, &i);
        if (cp < 0)
            return fail(why, "title must be valid UTF-8");
        if (is_space_cp(cp))
            continue;
        if (first == len)
            first = at;
        end = i;
    }
    if (first == len)
        first = end = 0;
    for (i = first; i < end;) {
        int32_t cp = utf8_next(u, end, &i);
        control |= is_control_cp(cp);
        chars++;
    }
    if (chars == 0 || chars > TASK_TITLE_MAX)
        return fail(why, "title must be 1 to 500 characters");
    if (control)
        return fail(why, "title must not contain control characters");
    if (start)
        *start = first;
    if (tlen)
        *tlen = end - first;
    return 0;
}

int task_validate_notes(const char *s, size_t len, char *why)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, chars = 0;
    while (i < len) {
        int32_t cp = utf8_next(u, len, &i);
        if (cp < 0)
            return fail(why, "notes must be valid UTF-8");
        if (is_control_cp(cp) && cp != '\t' && cp != '\n' && cp != '\r')
            return fail(why, "notes must not contain control characters other than tabs and "
                             "line breaks");
        chars++;
    }
    if (chars > TASK_NOTES_MAX)
        return fail(why, "notes must be at most 10000 characters");
    return 0;
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static int num(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

int task_validate_date(const char *s, char *why)
{
    const char *msg = "dates must be real calendar dates written YYYY-MM-DD";
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' || !all_digits(s, 4) ||
        !all_digits(s + 5, 2) || !all_digits(s + 8, 2))
        return fail(why, msg);
    int y = num(s, 4), m = num(s + 5, 2), d = num(s + 8, 2);
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return fail(why, msg);
    return 0;
}

int task_validate_time(const char *s, char *why)
{
    const char *msg = "due_time must be HH:MM between 00:00 and 23:59";
    if (strlen(s) != 5 || s[2] != ':' || !all_digits(s, 2) || !all_digits(s + 3, 2))
        return fail(why, msg);
    if (num(s, 2) > 23 || num(s + 3, 2) > 59)
        return fail(why, msg);
    return 0;
}

/* The charset rule alone; it keeps ".." and absolute paths out of the file lookup. */
static bool tz_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > TZ_NAME_MAX || s[0] == '/' || s[n - 1] == '/')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '+' || c == '-' || c == '/';
        if (!ok || (c == '/' && s[i + 1] == '/'))
            return false;
    }
    return true;
}

int task_validate_tz(const char *s, char *why)
{
    if (strcmp(s, "UTC") == 0)
        return 0;
    if (!tz_name_ok(s))
        return fail(why, "tz must be an IANA time zone name such as Europe/Paris");
    char path[sizeof TASK_ZONEINFO + TZ_NAME_MAX + 2];
    snprintf(path, sizeof path, "%s/%s", TASK_ZONEINFO, s);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, TASK_WHY_MAX,
                 "tz: unknown time zone %s (use an IANA name such as "
                 "Europe/Paris)",
                 s);
        return ERR_INVALID;
    }
    return 0;
}

int task_parse_priority(const char *s)
{
    if (strcmp(s, "low") == 0)
        return STORE_PRIORITY_LOW;
    if (strcmp(s, "normal") == 0)
        return STORE_PRIORITY_NORMAL;
    if (strcmp(s, "high") == 0)
        return STORE_PRIORITY_HIGH;
    return ERR_INVALID;
}

const char *task_priority_name(int priority)
{
    switch (priority) {
    case STORE_PRIORITY_LOW:
        return "low";
    case STORE_PRIORITY_HIGH:
        return "high";
    default:
        return "normal";
    }
}

int task_normalize_tag(const char *s, char *out, size_t outlen, char *why)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t len = strlen(s), i = 0, o = 0, chars = 0;
    while (i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (i < len && s[i] == '#')
        i++;
    while (len > i && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    while (i < len) {
        int32_t cp = utf8_next(u, len, &i);
        if (cp < 0)
            return fail(why, "tags must be valid UTF-8");
        bool ok = (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
                  (cp >= '0' && cp <= '9') || cp == '_' || cp == '-' || is_tag_letter_cp(cp);
        if (!ok)
            return fail(why, "tags may only contain letters, digits, '-' and '_'");
        if (++chars > TASK_TAG_MAX || o + 5 > outlen)
            return fail(why, "each tag must be 1 to 64 characters");
        o += utf8_put(out + o, lower_cp((uint32_t)cp));
    }
    if (chars == 0)
        return fail(why, "each tag must be 1 to 64 characters");
    out[o] = '\0';
    return 0;
}

int task_tags_from_json(const cJSON *arr, char **out, char *why)
{
    char tags[TASK_TAGS_MAX][TASK_TAG_MAX * 4 + 1];
    int n = 0;
    *out = NULL;
    if (!cJSON_IsArray(arr))
        return fail(why, "tags must be an array of strings");
    for (const cJSON *v = arr->child; v; v = v->next) {
        char tag[TASK_TAG_MAX * 4 + 1];
        if (!cJSON_IsString(v) || !v->valuestring)
            return fail(why, "tags must be an array of strings");
        if (task_normalize_tag(v->valuestring, tag, sizeof tag, why))
            return ERR_INVALID;
        bool dup = false;
        for (int k = 0; k < n && !dup; k++)
            dup = strcmp(tags[k], tag) == 0;
        if (dup)
            continue;
        if (n == TASK_TAGS_MAX)
            return fail(why, "a task may have at most 20 tags");
        memcpy(tags[n++], tag, strlen(tag) + 1);
    }
    struct buf b;
    buf_init(&b, TAGS_JSON_MAX);
    struct jw w;
    jw_init(&w, &b);
    jw_arr_begin(&w);
    for (int k = 0; k < n; k++)
        jw_str(&w, tags[k]);
    jw_arr_end(&w);
    if (jw_done(&w) || !b.data) {
        buf_free(&b);
        return fail(why, "tags are too long");
    }
    *out = buf_detach(&b, NULL);
    return 0;
}

/* ---- JSON in ---- */

/* Validated changes, kept apart from the task until every field passed (all or nothing). */
struct staged {
    bool has_title, has_notes, has_status, has_date, has_time, has_tz, has_priority, has_tags;
    char *title; /* owned until committed */
    char *notes; /* owned; NULL = clear */
    bool done;
    char due_date[11];
    char due_time[6];
    char tz[64];
    int priority;
    char *tags_json; /* owned until committed */
};

static void staged_free(struct staged *st)
{
    free(st->title);
    free(st->notes);
    free(st->tags_json);
}

/* A member that may be null to clear it: 1 absent, 2 null, 0 string (*s set), -1 other. */
static int opt_text(const cJSON *body, const char *key, const char **s)
{
    const cJSON *v = json_get(body, key);
    if (!v)
        return 1;
    if (cJSON_IsNull(v))
        return 2;
    if (!cJSON_IsString(v) || !v->valuestring)
        return -1;
    *s = v->valuestring;
    return 0;
}

static int stage_title(const cJSON *body, bool patch, struct staged *st, char *why)
{
    const cJSON *v = json_get(body, "title");
    if (!v) {
        if (patch)
            return 0;
        return fail(why, "title is required");
    }
    if (!cJSON_IsString(v) || !v->valuestring)
        return fail(why, "title must be a string of 1 to 500 characters");
    size_t start, n;
    if (task_validate_title(v->valuestring, strlen(v->valuestring), &start, &n, why))
        return ERR_INVALID;
    st->title = xstrndup(v->valuestring + start, n);
    st->has_title = true;
    return 0;
}

static int stage_notes(const cJSON *body, struct staged *st, char *why)
{
    const char *s = NULL;
    int rc = opt_text(body, "notes", &s);
    if (rc < 0)
        return fail(why, "notes must be a string or null");
    if (rc == 1)
        return 0;
    st->has_notes = true;
    if (rc == 0) {
        if (task_validate_notes(s, strlen(s), why))
            return ERR_INVALID;
        if (s[0])
            st->notes = xstrdup(s);
    }
    return 0;
}

static int stage_status(const cJSON *body, struct staged *st, char *why)
{
    const cJSON *v = json_get(body, "status");
    if (!v)
        return 0;
    if (!cJSON_IsString(v) || !v->valuestring ||
        (strcmp(v->valuestring, "open") != 0 && strcmp(v->valuestring, "done") != 0))
        return fail(why, "status must be \"open\" or \"done\"");
    st->has_status = true;
    st->done = strcmp(v->valuestring, "done") == 0;
    return 0;
}

static int stage_due(const cJSON *body, struct staged *st, char *why)
{
    const char *s = NULL;
    int rc = opt_text(body, "due_date", &s);
    if (rc < 0)
        return fail(why, "due_date must be a date written YYYY-MM-DD, or null");
    if (rc != 1) {
        st->has_date = true;
        if (rc == 0 && s[0]) {
            if (task_validate_date(s, why))
                return fail(why, "due_date must be a real calendar date written YYYY-MM-DD");
            memcpy(st->due_date, s, 11);
        }
    }
    rc = opt_text(body, "due_time", &s);
    if (rc < 0)
        return fail(why, "due_time must be a time written HH:MM, or null");
    if (rc != 1) {
        st->has_time = true;
        if (rc == 0 && s[0]) {
            if (task_validate_time(s, why))
                return ERR_INVALID;
            memcpy(st->due_time, s, 6);
        }
    }
    rc = opt_text(body, "tz", &s);
    if (rc < 0)
        return fail(why, "tz must be an IANA time zone name such as Europe/Paris, or null");
    if (rc != 1) {
        st->has_tz = true;
        if (rc == 0 && s[0]) {
            if (task_validate_tz(s, why))
                return ERR_INVALID;
            snprintf(st->tz, sizeof st->tz, "%s", s);
        }
    }
    return 0;
}

static int stage_priority_tags(const cJSON *body, struct staged *st, char *why)
{
    const cJSON *v = json_get(body, "priority");
    if (v) {
        int p = cJSON_IsString(v) && v->valuestring ? task_parse_priority(v->valuestring) : -1;
        if (p < 0)
            return fail(why, "priority must be \"low\", \"normal\" or \"high\"");
        st->has_priority = true;
        st->priority = p;
    }
    v = json_get(body, "tags");
    if (v) {
        st->has_tags = true;
        if (cJSON_IsNull(v))
            st->tags_json = xstrdup("[]");
        else if (task_tags_from_json(v, &st->tags_json, why))
            return ERR_INVALID;
    }
    return 0;
}

static int stage_fields(const cJSON *body, bool patch, struct staged *st, char *why)
{
    memset(st, 0, sizeof *st);
    if (!cJSON_IsObject(body))
        return fail(why, "the task must be a JSON object");
    if (stage_title(body, patch, st, why) || stage_notes(body, st, why) ||
        stage_status(body, st, why) || stage_due(body, st, why) ||
        stage_priority_tags(body, st, why)) {
        staged_free(st);
        return ERR_INVALID;
    }
    return 0;
}

static void replace_str(char **dst, char *src)
{
    free(*dst);
    *dst = src;
}

bool task_set_done(struct store_task *t, bool done, int64_t now_us)
{
    if (t->done == done)
        return false;
    t->done = done;
    t->completed_us = done ? now_us : 0;
    return true;
}

int task_from_json(const cJSON *body, bool patch, struct store_task *inout, char *why)
{
    struct staged st;
    if (stage_fields(body, patch, &st, why))
        return ERR_INVALID;
    /* A time of day means nothing without its date: refused when the caller sets one, dropped
     * when the caller clears the date it belonged to. */
    const char *date = st.has_date || !patch ? st.due_date : inout->due_date;
    const char *time = st.has_time || !patch ? st.due_time : inout->due_time;
    bool drop_time = false;
    if (time[0] && !date[0]) {
        if (st.has_time) {
            staged_free(&st);
            return fail(why, "due_time needs a due_date");
        }
        drop_time = true;
    }
    if (!patch) {
        task_clear(inout);
        inout->done = false;
        inout->completed_us = 0;
        inout->due_date[0] = inout->due_time[0] = inout->tz[0] = '\0';
        inout->priority = STORE_PRIORITY_NORMAL;
        inout->tags_json = xstrdup("[]");
    }
    if (st.has_title)
        replace_str(&inout->title, st.title);
    if (st.has_notes)
        replace_str(&inout->notes, st.notes);
    if (st.has_tags)
        replace_str(&inout->tags_json, st.tags_json);
    if (st.has_status)
        task_set_done(inout, st.done, clock_wall_us());
    if (st.has_date)
        memcpy(inout->due_date, st.due_date, sizeof inout->due_date);
    if (st.has_time)
        memcpy(inout->due_time, st.due_time, sizeof inout->due_time);
    if (drop_time)
        inout->due_time[0] = '\0';
    if (st.has_tz)
        memcpy(inout->tz, st.tz, sizeof inout->tz);
    if (st.has_priority)
        inout->priority = st.priority;
    return 0;
}

int task_check_patch(const cJSON *body, char *why)
{
    struct staged st;
    if (stage_fields(body, true, &st, why))
        return ERR_INVALID;
    staged_free(&st);
    return 0;
}

/* ---- JSON out ---- */

static void kv_time(struct jw *w, const char *key, int64_t us)
{
    char iso[CLOCK_ISO_MAX];
    if (clock_format_iso(us, iso))
        jw_kv_str(w, key, iso);
}

void task_write_json(struct jw *w, const struct store_task *t)
{
    jw_obj_begin(w);
    jw_kv_str(w, "id", t->id);
    jw_kv_str(w, "title", t->title ? t->title : "");
    jw_kv_str(w, "notes", t->notes);
    jw_kv_str(w, "status", t->done ? "done" : "open");
    if (t->due_date[0])
        jw_kv_str(w, "due_date", t->due_date);
    if (t->due_date[0] && t->due_time[0])
        jw_kv_str(w, "due_time", t->due_time);
    if (t->tz[0])
        jw_kv_str(w, "tz", t->tz);
    jw_kv_str(w, "priority", task_priority_name(t->priority));
    jw_key(w, "tags");
    if (t->tags_json && t->tags_json[0] == '[')
        jw_raw(w, t->tags_json, strlen(t->tags_json));
    else
        jw_raw(w, "[]", 2);
    kv_time(w, "created_at", t->created_us);
    kv_time(w, "updated_at", t->updated_us);
    if (t->completed_us)
        kv_time(w, "completed_at", t->completed_us);
    jw_obj_end(w);
}

void task_copy(struct store_task *dst, const struct store_task *src)
{
    *dst = *src;
    dst->title = src->title ? xstrdup(src->title) : NULL;
    dst->notes = src->notes ? xstrdup(src->notes) : NULL;
    dst->tags_json = src->tags_json ? xstrdup(src->tags_json) : NULL;
}

void task_clear(struct store_task *t)
{
    free(t->title);
    free(t->notes);
    free(t->tags_json);
    t->title = t->notes = t->tags_json = NULL;
}

/* ---- time zones ----
 *
 * "Today" and "Overdue" are about the user's calendar, not UTC's, so the widgets need the
 * offset of the task's zone at a given instant. libc only offers the process-wide TZ, which we
 * must not flip under the other threads, so this reads the zone's TZif file (RFC 8536) itself:
 * the transition table, then the POSIX TZ rule in the footer for instants past the table. Zones
 * are parsed once and cached (bounded); a lookup is a binary search. */

struct tz_rule {
    char kind; /* 'J' (1..365, no Feb 29), 'N' (0..365), 'M' (month.week.day) */
    int n, m, w, d;
    int32_t secs; /* local time of day of the change */
};

struct tz_zone {
    char name[TZ_NAME_MAX + 1];
    uint32_t ntrans, ntypes;
    int64_t *trans;      /* owned; transition instants, ascending */
    uint8_t *trans_type; /* owned; type index of each transition */
    int32_t *type_off;   /* owned; UTC offset of each type */
    bool has_rule;       /* a footer TZ string was parsed */
    bool has_dst;
    int32_t std_off, dst_off;
    struct tz_rule start, end;
};

static struct tz_zone *tz_cache[TZ_CACHE_MAX]; /* owned by this module; lives for the process */
static int tz_ncache;

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static void tz_free(struct tz_zone *z)
{
    if (!z)
        return;
    free(z->trans);
    free(z->trans_type);
    free(z->type_off);
    free(z);
}

/* POSIX TZ pieces: a zone abbreviation ("EST" or "<+0330>"). */
static const char *tzs_name(const char *p)
{
    if (*p == '<') {
        const char *e = strchr(p, '>');
        return e ? e + 1 : NULL;
    }
    const char *s = p;
    while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
        p++;
    return p - s >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]] with hours up to 167 (RFC 8536 extension). */
static const char *tzs_hms(const char *p, int32_t *out)
{
    int sign = 1, part[3] = {0, 0, 0};
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    for (int k = 0; k < 3; k++) {
        if (*p < '0' || *p > '9')
            return k == 0 ? NULL : p;
        int v = 0, digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 3) {
            v = v * 10 + (*p++ - '0');
            digits++;
        }
        part[k] = v;
        if (k < 2 && *p == ':')
            p++;
        else
            break;
    }
    if (part[0] > 167 || part[1] > 59 || part[2] > 59)
        return NULL;
    *out = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
    return p;
}

static const char *tzs_int(const char *p, int *out)
{
    if (*p < '0' || *p > '9')
        return NULL;
    int v = 0;
    while (*p >= '0' && *p <= '9' && v < 1000)
        v = v * 10 + (*p++ - '0');
    *out = v;
    return p;
}

static const char *tzs_rule(const char *p, struct tz_rule *r)
{
    r->secs = 7200; /* 02:00 unless given */
    if (*p == 'M') {
        r->kind = 'M';
        if (!(p = tzs_int(p + 1, &r->m)) || *p++ != '.' || !(p = tzs_int(p, &r->w)) ||
            *p++ != '.' || !(p = tzs_int(p, &r->d)))
            return NULL;
        if (r->m < 1 || r->m > 12 || r->w < 1 || r->w > 5 || r->d > 6)
            return NULL;
    } else if (*p == 'J') {
        r->kind = 'J';
        if (!(p = tzs_int(p + 1, &r->n)) || r->n < 1 || r->n > 365)
            return NULL;
    } else {
        r->kind = 'N';
        if (!(p = tzs_int(p, &r->n)) || r->n > 365)
            return NULL;
    }
    if (*p == '/')
        p = tzs_hms(p + 1, &r->secs);
    return p;
}

/* Parses a footer such as "CET-1CEST,M3.5.0,M10.5.0/3"; offsets become seconds east. */
static bool tz_parse_rule(struct tz_zone *z, const char *s)
{
    int32_t off;
    const char *p = tzs_name(s);
    if (!p || !(p = tzs_hms(p, &off)))
        return false;
    z->std_off = -off;
    z->has_rule = true;
    if (!*p)
        return true;
    if (!(p = tzs_name(p)))
        return false;
    z->has_dst = true;
    z->dst_off = z->std_off + 3600;
    if (*p && *p != ',') {
        if (!(p = tzs_hms(p, &off)))
            return false;
        z->dst_off = -off;
    }
    if (!*p) { /* POSIX's default rule (the US one) */
        z->start = (struct tz_rule){'M', 0, 3, 2, 0, 7200};
        z->end = (struct tz_rule){'M', 0, 11, 1, 0, 7200};
        return true;
    }
    if (*p++ != ',' || !(p = tzs_rule(p, &z->start)) || *p++ != ',' || !(p = tzs_rule(p, &z->end)))
        return false;
    return *p == '\0';
}

/* Parses a TZif file image; NULL when it is not one. */
static struct tz_zone *tz_parse(const unsigned char *d, size_t len)
{
    if (len < 44 || memcmp(d, "TZif", 4) != 0)
        return NULL;
    bool v2 = d[4] >= '2';
    size_t off = 0;
    int tsize = 4;
    uint32_t isut, isstd, leap, timecnt, typecnt, charcnt;
    for (int pass = 0; pass < 2; pass++) {
        if (len - off < 44)
            return NULL;
        const unsigned char *h = d + off + 20;
        isut = be32(h), isstd = be32(h + 4), leap = be32(h + 8);
        timecnt = be32(h + 12), typecnt = be32(h + 16), charcnt = be32(h + 20);
        if (typecnt == 0 || typecnt > 256 || timecnt > 100000 || leap > 10000 || charcnt > 10000 ||
            isut > 256 || isstd > 256)
            return NULL;
        size_t body = (size_t)timecnt * (size_t)(tsize + 1) + typecnt * 6 + charcnt +
                      (size_t)leap * (size_t)(tsize + 4) + isstd + isut;
        if (len - off - 44 < body)
            return NULL;
        if (pass == 0 && v2) {
            off += 44 + body; /* skip the 32-bit data: the 64-bit block follows */
            tsize = 8;
            continue;
        }
        break;
    }
    const unsigned char *p = d + off + 44;
    struct tz_zone *z = xcalloc(1, sizeof *z);
    z->ntrans = timecnt;
    z->ntypes = typecnt;
    z->trans = xcalloc(timecnt ? timecnt : 1, sizeof *z->trans);
    z->trans_type = xcalloc(timecnt ? timecnt : 1, 1);
    z->type_off = xcalloc(typecnt, sizeof *z->type_off);
    for (uint32_t i = 0; i < timecnt; i++, p += tsize)
        z->trans[i] = tsize == 8 ? be64(p) : (int32_t)be32(p);
    for (uint32_t i = 0; i < timecnt; i++) {
        z->trans_type[i] = *p++;
        if (z->trans_type[i] >= typecnt) {
            tz_free(z);
            return NULL;
        }
    }
    for (uint32_t i = 0; i < typecnt; i++, p += 6)
        z->type_off[i] = (int32_t)be32(p);
    p += charcnt + (size_t)leap * (size_t)(tsize + 4) + isstd + isut;
    /* The footer: "\n" TZ-string "\n" (v2+). */
    const unsigned char *end = d + len;
    if (v2 && p < end && *p == '\n') {
        const unsigned char *nl = memchr(p + 1, '\n', (size_t)(end - p - 1));
        if (nl && nl - p - 1 > 0 && nl - p - 1 < 128) {
            char rule[128];
            memcpy(rule, p + 1, (size_t)(nl - p - 1));
            rule[nl - p - 1] = '\0';
            if (!tz_parse_rule(z, rule))
                z->has_rule = z->has_dst = false;
        }
    }
    return z;
}

static struct tz_zone *tz_load(const char *name)
{
    char path[sizeof TASK_ZONEINFO + TZ_NAME_MAX + 2];
    snprintf(path, sizeof path, "%s/%s", TASK_ZONEINFO, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *data = xmalloc(TZ_FILE_MAX);
    size_t n = fread(data, 1, TZ_FILE_MAX, f);
    fclose(f);
    struct tz_zone *z = n < TZ_FILE_MAX ? tz_parse(data, n) : NULL;
    free(data);
    if (z)
        snprintf(z->name, sizeof z->name, "%s", name);
    return z;
}

/* Seconds since the epoch of a rule's local change moment in year. */
static int64_t tz_rule_local(const struct tz_rule *r, int year)
{
    int64_t jan1 = clock_days_from_civil(year, 1, 1), day;
    if (r->kind == 'J')
        day = jan1 + r->n - 1 + (is_leap(year) && r->n >= 60);
    else if (r->kind == 'N')
        day = jan1 + r->n;
    else {
        int64_t first = clock_days_from_civil(year, (unsigned)r->m, 1);
        int wday = (int)(((first + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
        int dom = (r->d - wday + 7) % 7 + (r->w - 1) * 7;
        while (dom >= days_in_month(year, r->m))
            dom -= 7;
        day = first + dom;
    }
    return day * SECONDS_PER_DAY + r->secs;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int32_t tz_rule_offset(const struct tz_zone *z, int64_t t)
{
    if (!z->has_dst)
        return z->std_off;
    int y, m, d;
    task_civil_from_days(floor_div(t + z->std_off, SECONDS_PER_DAY), &y, &m, &d);
    int64_t start = tz_rule_local(&z->start, y) - z->std_off;
    int64_t end = tz_rule_local(&z->end, y) - z->dst_off;
    bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
    return dst ? z->dst_off : z->std_off;
}

static int32_t tz_zone_offset(const struct tz_zone *z, int64_t t)
{
    if (z->ntrans == 0 || t >= z->trans[z->ntrans - 1]) {
        if (z->has_rule)
            return tz_rule_offset(z, t);
        return z->ntrans ? z->type_off[z->trans_type[z->ntrans - 1]] : z->type_off[0];
    }
    if (t < z->trans[0])
        return z->type_off[0];
    uint32_t lo = 0, hi = z->ntrans - 1; /* trans[lo] <= t < trans[hi] */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (z->trans[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return z->type_off[z->trans_type[lo]];
}

int task_tz_offset(const char *tz, int64_t utc_s, int32_t *off_s)
{
    *off_s = 0;
    if (!tz || !tz[0] || strcmp(tz, "UTC") == 0)
        return 0;
    if (!tz_name_ok(tz))
        return ERR_NOT_FOUND;
    for (int i = 0; i < tz_ncache; i++) {
        if (strcmp(tz_cache[i]->name, tz) == 0) {
            *off_s = tz_zone_offset(tz_cache[i], utc_s);
            return 0;
        }
    }
    struct tz_zone *z = tz_load(tz);
    if (!z)
        return ERR_NOT_FOUND;
    *off_s = tz_zone_offset(z, utc_s);
    if (tz_ncache < TZ_CACHE_MAX)
        tz_cache[tz_ncache++] = z;
    else
        tz_free(z);
    return 0;
}

void task_civil_from_days(int64_t z, int *year, int *month, int *day)
{
    int64_t y;
    unsigned m, d;
    clock_civil_from_days(z, &y, &m, &d);
    *year = (int)y;
    *month = (int)m;
    *day = (int)d;
}

void task_local_time(const char *tz, int64_t wall_us, struct task_local *out)
{
    int64_t t = floor_div(wall_us, 1000000);
    int32_t off;
    task_tz_offset(tz, t, &off);
    int64_t local = t + off;
    int64_t days = floor_div(local, SECONDS_PER_DAY);
    task_civil_from_days(days, &out->year, &out->month, &out->day);
    out->minute = (int)((local - days * SECONDS_PER_DAY) / 60);
}
