/* nlu.c - the intent parser of the offline agent; the reading rules are in nlu.h.
 *
 * How a message is read: it is split into words once (dates_split) and every rule that takes a
 * phrase marks its words in used[], so later rules never see them twice. Politeness goes first,
 * then small talk, then the command word at the start of the message picks a handler (the verb
 * table); a handler takes the phrases its intent needs (a date, a priority, a new title) and
 * whatever is left names the task. A handler may decline ("finish the report by friday" is a new
 * task, not a completion), and then the next verb is tried with the marks rolled back. Messages
 * with no command word end with the "X done" form, a bare list question ("overdue?") or an ADD
 * when they carry a date, a priority or a tag.
 *
 * Titles, target words and queries are copied from the original text, never rebuilt from the
 * lowercased words, so they keep the user's spelling; the copy turns control characters into
 * spaces and invalid UTF-8 into U+FFFD, so every string in the intent is valid UTF-8.
 */
#include "agent/nlu.h"

#include "core/err.h"
#include "core/json_write.h"

#include <stdint.h>
#include <string.h>

#define BULK_ROWS 1000 /* "all of them": every row of the last list (the runtime clamps) */

struct ctx {
    const char *text;
    size_t len;
    struct date today;
    size_t n;
    bool used[NLU_WORDS_MAX];
    struct dates_word w[NLU_WORDS_MAX];
};

/* --- Names --------------------------------------------------------------------------------- */

const char *nlu_kind_name(int kind)
{
    static const char *const names[] = {"unknown", "add",    "list",       "complete",
                                        "reopen",  "rename", "reschedule", "reprioritize",
                                        "delete",  "help",   "greeting",   "thanks"};
    if (kind < 0 || (size_t)kind >= sizeof names / sizeof names[0])
        return "unknown";
    return names[kind];
}

const char *nlu_priority_name(int priority)
{
    switch (priority) {
    case NLU_PRIORITY_LOW:
        return "low";
    case NLU_PRIORITY_NORMAL:
        return "normal";
    case NLU_PRIORITY_HIGH:
        return "high";
    default:
        return "none";
    }
}

static const char *status_name(int status)
{
    return status == NLU_STATUS_OPEN ? "open" : status == NLU_STATUS_DONE ? "done" : "any";
}

static const char *target_kind_name(int kind)
{
    static const char *const names[] = {"none", "title", "position", "last", "filter"};
    if (kind < 0 || (size_t)kind >= sizeof names / sizeof names[0])
        return "none";
    return names[kind];
}

/* --- Words --------------------------------------------------------------------------------- */

static size_t m(const struct ctx *c, size_t i, const char *pat)
{
    return dates_words_match(c->w, c->n, i, c->used, pat);
}

static bool is_free(const struct ctx *c, size_t i)
{
    return i < c->n && !c->used[i];
}

/* The lowercased word at i when it may still be read, else "". */
static const char *low(const struct ctx *c, size_t i)
{
    return is_free(c, i) ? c->w[i].low : "";
}

static void use(struct ctx *c, size_t i, size_t k)
{
    for (size_t j = i; j < i + k && j < c->n; j++)
        c->used[j] = true;
}

static size_t next_free(const struct ctx *c, size_t i)
{
    while (i < c->n && c->used[i])
        i++;
    return i;
}

static size_t count_free(const struct ctx *c, size_t b, size_t e)
{
    size_t k = 0;
    for (size_t i = b; i < e && i < c->n; i++)
        k += !c->used[i];
    return k;
}

/* Where pattern first matches inside [b, e), or e; *k gets the number of words matched. */
static size_t find(const struct ctx *c, size_t b, size_t e, const char *pat, size_t *k)
{
    for (size_t i = b; i < e; i++) {
        *k = m(c, i, pat);
        if (*k && i + *k <= e)
            return i;
    }
    *k = 0;
    return e;
}

/* Marks every match of pattern inside [b, e) used; true when there was one. */
static bool drop(struct ctx *c, size_t b, size_t e, const char *pat)
{
    bool any = false;
    size_t k;
    for (size_t i = find(c, b, e, pat, &k); i < e; i = find(c, i + k, e, pat, &k)) {
        use(c, i, k);
        any = true;
    }
    return any;
}

/* Takes pattern at the first free word of [b, e); the words taken. */
static size_t eat_start(struct ctx *c, size_t b, size_t e, const char *pat)
{
    size_t i = next_free(c, b);
    size_t k = i < e ? m(c, i, pat) : 0;
    if (!k || i + k > e)
        return 0;
    use(c, i, k);
    return k;
}

#define PHRASE_MAX 8 /* words in the longest pattern */

/* The longest match of pattern that ends on the last free word of [b, e): its first word (the
 * match is of consecutive free words, so it starts at most PHRASE_MAX words back); *k gets its
 * length, 0 when there is none. */
static size_t tail_match(const struct ctx *c, size_t b, size_t e, const char *pat, size_t *k)
{
    size_t last = e;
    *k = 0;
    while (last > b && c->used[last - 1])
        last--;
    if (last == b)
        return e;
    for (size_t i = last - 1 >= b + PHRASE_MAX ? last - PHRASE_MAX : b; i < last; i++) {
        *k = is_free(c, i) ? m(c, i, pat) : 0;
        if (*k && i + *k == last)
            return i;
    }
    *k = 0;
    return e;
}

/* Takes the longest match of pattern that ends on the last free word of [b, e). */
static size_t eat_end(struct ctx *c, size_t b, size_t e, const char *pat)
{
    size_t k, i = tail_match(c, b, e, pat, &k);
    use(c, i, k);
    return k;
}

/* Drops lead from the front and tail from the back of [b, e) for as long as they match, leaving
 * at least keep free words (either pattern may be NULL). */
static void trim(struct ctx *c, size_t b, size_t e, const char *lead, const char *tail, size_t keep)
{
    size_t left = count_free(c, b, e);
    for (bool again = true; again;) {
        size_t i = next_free(c, b), k = 0;
        again = false;
        if (lead && i < e && (k = m(c, i, lead)) && i + k <= e && left >= k + keep) {
            use(c, i, k);
            left -= k;
            again = true;
        }
        if (tail && (i = tail_match(c, b, e, tail, &k)) < e && left >= k + keep) {
            use(c, i, k);
            left -= k;
            again = true;
        }
    }
}

/* A plain word that can be a tag or a list name: free, unquoted, not '!' and not only digits
 * (read from the text: low is "" for long words). */
static bool plain_word(const struct ctx *c, size_t i)
{
    if (!is_free(c, i) || (c->w[i].flags & (DATES_WORD_QUOTED | DATES_WORD_BANG)))
        return false;
    for (size_t p = c->w[i].start; p < c->w[i].end; p++)
        if (c->text[p] != '#' && (c->text[p] < '0' || c->text[p] > '9'))
            return true;
    return false;
}

/* A run of 1..3 ASCII digits as a number, else 0. */
static int digits_of(const char *t)
{
    int v = 0;
    size_t i = 0;
    for (; t[i] >= '0' && t[i] <= '9'; i++) {
        if (i == 3)
            return 0;
        v = v * 10 + (t[i] - '0');
    }
    return i > 0 && t[i] == '\0' ? v : 0;
}

/* "#2": a '#' followed only by digits is a row of the last list, never a tag. */
static int number_tag(const struct ctx *c, size_t i)
{
    if (!is_free(c, i) || !(c->w[i].flags & DATES_WORD_TAG) || c->w[i].low[0] != '#')
        return 0;
    return digits_of(c->w[i].low + 1);
}

static int number_of(const char *t)
{
    static const char *const words[] = {"one", "two",   "three", "four", "five",
                                        "six", "seven", "eight", "nine", "ten"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcmp(t, words[i]) == 0)
            return (int)i + 1;
    return digits_of(t);
}

/* first..tenth, 1st..999th, top (1), last/final (-1); 0 for anything else. */
static int ordinal_of(const char *t)
{
    static const char *const words[] = {"first", "second",  "third",  "fourth", "fifth",
                                        "sixth", "seventh", "eighth", "ninth",  "tenth"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcmp(t, words[i]) == 0)
            return (int)i + 1;
    if (strcmp(t, "last") == 0 || strcmp(t, "final") == 0 || strcmp(t, "bottom") == 0)
        return -1;
    if (strcmp(t, "top") == 0)
        return 1;
    size_t l = strlen(t);
    if (l < 3 || l > 5)
        return 0;
    const char *suf = t + l - 2;
    if (strcmp(suf, "st") != 0 && strcmp(suf, "nd") != 0 && strcmp(suf, "rd") != 0 &&
        strcmp(suf, "th") != 0)
        return 0;
    char digits[4] = {0};
    memcpy(digits, t, l - 2);
    return digits_of(digits);
}

/* --- Copying text out ---------------------------------------------------------------------- */

struct text_out {
    char *dst;
    size_t cap; /* bytes, the NUL excluded */
    size_t len;
    bool full; /* something did not fit */
};

static struct text_out text_out_init(char *dst, size_t cap)
{
    dst[0] = '\0';
    return (struct text_out){dst, cap, 0, false};
}

/* The length of the valid UTF-8 sequence at s (n bytes available), 0 when it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t k;
    uint32_t cp, min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        k = 2, cp = c & 0x1Fu, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        k = 3, cp = c & 0x0Fu, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        k = 4, cp = c & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (n < k)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return k;
}

static void put(struct text_out *o, const char *s, size_t n)
{
    if (o->full)
        return;
    if (o->len + n > o->cap) {
        o->full = true;
        return;
    }
    memcpy(o->dst + o->len, s, n);
    o->len += n;
    o->dst[o->len] = '\0';
}

static void put_space(struct text_out *o)
{
    if (o->len > 0 && o->dst[o->len - 1] != ' ')
        put(o, " ", 1);
}

/* A double quote mark at s[i]: '"', U+201C or U+201D; its length, or 0. */
static size_t quote_at(const char *s, size_t len, size_t i)
{
    const unsigned char *u = (const unsigned char *)s;
    if (u[i] == '"')
        return 1;
    if (i + 2 < len && u[i] == 0xE2 && u[i + 1] == 0x80 && (u[i + 2] == 0x9C || u[i + 2] == 0x9D))
        return 3;
    return 0;
}

/* Copies n bytes of text: valid UTF-8 as it is, an invalid byte as U+FFFD, a run of spaces and
 * control characters as one space and, with drop_quotes, no quote marks (between words they
 * delimit a quoted title, they are not part of it). */
static void put_text(struct text_out *o, const char *s, size_t n, bool drop_quotes)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n && !o->full;) {
        size_t k;
        if (u[i] <= ' ' || u[i] == 0x7F) {
            put_space(o);
            i++;
        } else if (drop_quotes && (k = quote_at(s, n, i)) != 0) {
            i += k;
        } else if ((k = utf8_len(u + i, n - i)) == 0) {
            put(o, "\xEF\xBF\xBD", 3);
            i++;
        } else {
            put(o, s + i, k);
            i += k;
        }
    }
}

static void finish_text(struct text_out *o)
{
    while (o->len > 0 && o->dst[o->len - 1] == ' ')
        o->len--;
    o->dst[o->len] = '\0';
}

/* Copies the quoted group starting at word i (the text between its quote marks, verbatim) after
 * what lies between pos and the opening mark; returns the last word of the group and moves pos
 * past the closing mark. */
static size_t put_quoted(const struct ctx *c, size_t i, size_t e, bool run, size_t *pos,
                         struct text_out *o)
{
    const struct dates_word *w = c->w;
    size_t j = i;
    while (j + 1 < e && !c->used[j + 1] && w[j + 1].group == w[i].group &&
           (w[j + 1].flags & DATES_WORD_QUOTED))
        j++;
    size_t lo = run ? *pos : i > 0 ? w[i - 1].end : 0;
    size_t open = w[i].start, body = w[i].start;
    for (size_t p = w[i].start; p > lo; p--) {
        size_t q = c->text[p - 1] == '"' ? 1 : 0;
        if (!q && p >= lo + 3 && quote_at(c->text, c->len, p - 3) == 3)
            q = 3;
        if (q) {
            open = p - q;
            body = p;
            break;
        }
    }
    size_t hi = j + 1 < c->n ? w[j + 1].start : c->len, close = w[j].end, after = w[j].end;
    for (size_t p = w[j].end; p < hi; p++) {
        size_t q = quote_at(c->text, c->len, p);
        if (q) {
            close = p;
            after = p + q;
            break;
        }
    }
    if (run)
        put_text(o, c->text + *pos, open - *pos, true);
    else
        put_space(o);
    put_text(o, c->text + body, close - body, false);
    *pos = after;
    return j;
}

/* Appends the free words of [b, e) as typed: a run of neighbouring free words is copied with
 * what lies between them (spaces collapsed, quote marks dropped), separate runs are joined by
 * one space, and a quoted group is copied whole. */
static void build_text(const struct ctx *c, size_t b, size_t e, struct text_out *o)
{
    size_t pos = 0;
    bool run = false;
    for (size_t i = b; i < e && i < c->n; i++) {
        const struct dates_word *w = &c->w[i];
        if (c->used[i]) {
            run = false;
            continue;
        }
        if (w->flags & DATES_WORD_QUOTED) {
            i = put_quoted(c, i, e, run, &pos, o);
        } else {
            if (run)
                put_text(o, c->text + pos, w->start - pos, true);
            else
                put_space(o);
            put_text(o, c->text + w->start, w->end - w->start, false);
            pos = w->end;
        }
        run = true;
    }
    finish_text(o);
}

/* The tag written as word i (its '#' left out): ASCII letters lowercased, at most NLU_TAG_MAX
 * bytes cut on a UTF-8 boundary. */
static bool tag_text(const struct ctx *c, size_t i, char out[NLU_TAG_MAX + 1])
{
    const struct dates_word *w = &c->w[i];
    size_t s = w->start + ((w->flags & DATES_WORD_TAG) ? 1 : 0);
    struct text_out o = text_out_init(out, NLU_TAG_MAX);
    put_text(&o, c->text + s, w->end - s, false);
    finish_text(&o);
    for (size_t k = 0; k < o.len; k++)
        if (out[k] >= 'A' && out[k] <= 'Z')
            out[k] = (char)(out[k] + 32);
    return o.len > 0;
}

/* --- Shared phrases ------------------------------------------------------------------------ */

/* Words a list request or a bulk target may contain without naming anything. */
static const char FILLERS[] =
    "the|my|me|i|im|ive|id|we|us|our|you|your|a|an|some|any|anything|something|stuff|what|"
    "whats|which|where|when|who|is|are|was|were|be|been|there|theres|have|has|had|got|get|do|"
    "does|did|doing|due|task|tasks|to-do|to-dos|to-dolist|item|items|list|lists|thing|"
    "things|one|ones|of|for|on|in|to|at|by|from|with|about|that|this|these|those|it|up|coming|"
    "upcoming|still|now|currently|yet|so|far|just|need|needs|should|must|gotta|plate|agenda|"
    "schedule|calendar|show|see|view|display|tell|give|let|know|can|could|would|will|please|how|"
    "many|much|sorted|ordered|sort|order|priority|priorities|again|left|containing|called|named|"
    "matching|titled|mentioning|and|or|all|everything|every|each|else|set|planned|whole|entire|"
    "next";

struct prio_pattern {
    const char *pattern;
    int priority;
};

/* Longer phrases first: "not urgent" must win over "urgent". */
static const struct prio_pattern prio_patterns[] = {
    {"not|non|no|nothing|isnt|less urgent|important|critical|pressing", NLU_PRIORITY_LOW},
    {"no rush|hurry", NLU_PRIORITY_LOW},
    {"low|lowest|lo|min|minimum|least priority|prio|pri", NLU_PRIORITY_LOW},
    {"priority|prio|pri low|lowest|3|three|p3", NLU_PRIORITY_LOW},
    {"low-priority|lowpriority|p3|whenever|someday|eventually|sometime", NLU_PRIORITY_LOW},
    {"some day", NLU_PRIORITY_LOW},
    {"top|high|highest|hi|max|maximum|urgent priority|prio|pri", NLU_PRIORITY_HIGH},
    {"priority|prio|pri high|highest|top|1|one|p1", NLU_PRIORITY_HIGH},
    {"very|super|really|extremely|most|so urgent|important|critical", NLU_PRIORITY_HIGH},
    {"high-priority|highpriority|top-priority|p1|urgent|urgently|important|asap|critical|crucial|"
     "pressing",
     NLU_PRIORITY_HIGH},
    {"normal|medium|regular|default|mid|standard|average|med|middle priority|prio|pri",
     NLU_PRIORITY_NORMAL},
    {"priority|prio|pri normal|medium|regular|default|2|two|p2", NLU_PRIORITY_NORMAL},
    {"normal-priority|medium-priority|p2", NLU_PRIORITY_NORMAL},
};

/* A bare "high" / "low" / "normal": a priority only where nothing else would be meant. */
static int bare_priority(const struct ctx *c, size_t i, bool bare_ok)
{
    bool last = next_free(c, i + 1) >= c->n;
    if (!bare_ok && !last && c->w[i].gap != ',')
        return NLU_PRIORITY_NONE;
    if (m(c, i, "high|highest"))
        return NLU_PRIORITY_HIGH;
    if (m(c, i, "low|lowest"))
        return NLU_PRIORITY_LOW;
    if (m(c, i, "normal|medium"))
        return NLU_PRIORITY_NORMAL;
    return NLU_PRIORITY_NONE;
}

/* The priority phrase at i; *k gets its words. A standalone "!" or any "!!" is high. */
static int priority_at(const struct ctx *c, size_t i, bool bare_ok, size_t *k)
{
    const struct dates_word *w = &c->w[i];
    *k = 1;
    if ((w->flags & (DATES_WORD_BANG | DATES_WORD_QUOTED)) == DATES_WORD_BANG)
        return NLU_PRIORITY_HIGH; /* glued single '!' were dropped at the start */
    for (size_t p = 0; p < sizeof prio_patterns / sizeof prio_patterns[0]; p++)
        if ((*k = m(c, i, prio_patterns[p].pattern)) != 0)
            return prio_patterns[p].priority;
    *k = 1;
    return bare_priority(c, i, bare_ok);
}

/* Takes every priority phrase of [b, e); the first one said counts. */
static int take_priority(struct ctx *c, size_t b, size_t e, bool bare_ok)
{
    int found = NLU_PRIORITY_NONE;
    for (size_t i = b; i < e; i++) {
        size_t k;
        if (!is_free(c, i))
            continue;
        int p = priority_at(c, i, bare_ok, &k);
        if (p == NLU_PRIORITY_NONE || i + k > e)
            continue;
        use(c, i, k);
        if (found == NLU_PRIORITY_NONE)
            found = p;
        i += k - 1;
    }
    return found;
}

static void format_time(int h, int mi, char out[6])
{
    out[0] = (char)('0' + h / 10);
    out[1] = (char)('0' + h % 10);
    out[2] = ':';
    out[3] = (char)('0' + mi / 10);
    out[4] = (char)('0' + mi % 10);
    out[5] = '\0';
}

/* Takes the date/time phrase of the free words from b on into due_date/due_time; a time alone
 * gets today's date when date_for_time (an ADD with "at 5pm" is due today). */
static bool take_when(struct ctx *c, size_t b, unsigned flags, bool date_for_time,
                      struct nlu_intent *out)
{
    struct dates_when when;
    if (b >= c->n ||
        dates_parse_words(c->w + b, c->n - b, c->today, flags, c->used + b, &when) != 0)
        return false;
    if (when.has_date)
        dates_format(when.date, out->due_date);
    else if (date_for_time)
        dates_format(c->today, out->due_date);
    if (when.has_time)
        format_time(when.hour, when.minute, out->due_time);
    return true;
}

/* --- Filters ------------------------------------------------------------------------------- */

struct filter_seen {
    bool quantifier;   /* all, everything, every, each */
    bool status;       /* done or open was said */
    bool explicit_tag; /* "#x", "tagged x" */
    bool plural;       /* tasks, ones, items */
    bool range;
};

static void filter_init(struct nlu_filter *f, int status)
{
    memset(f, 0, sizeof *f);
    f->status = status;
    f->priority = NLU_PRIORITY_NONE;
    f->range = DATES_RANGE_NONE;
}

static void read_range(struct ctx *c, size_t b, size_t e, struct nlu_filter *f,
                       struct filter_seen *seen)
{
    struct dates_range r;
    if (e <= b || dates_parse_range_words(c->w + b, e - b, c->today, c->used + b, &r) != 0)
        return;
    f->range = r.kind;
    if (r.has_from)
        dates_format(r.from, f->due_from);
    if (r.has_to)
        dates_format(r.to, f->due_to);
    seen->range = true;
}

static void read_status(struct ctx *c, size_t b, size_t e, struct nlu_filter *f,
                        struct filter_seen *seen)
{
    bool open = drop(c, b, e, "not|un done|finished|completed|complete") ||
                drop(c, b, e,
                     "open|pending|remaining|outstanding|incomplete|unfinished|undone|active|"
                     "current|uncompleted|unchecked|left");
    bool done = drop(c, b, e,
                     "done|completed|complete|finished|closed|ticked|checked|archived|"
                     "accomplished|finish|crossed");
    if (open || done) {
        f->status = open && done ? NLU_STATUS_ANY : open ? NLU_STATUS_OPEN : NLU_STATUS_DONE;
        seen->status = true;
    }
}

/* Tags said as such: "#groceries", "tagged groceries", "with the tag groceries". */
static void read_explicit_tag(struct ctx *c, size_t b, size_t e, struct nlu_filter *f,
                              struct filter_seen *seen)
{
    for (size_t i = b; i < e; i++) {
        size_t k = 0, t = e;
        if (!is_free(c, i))
            continue;
        if ((c->w[i].flags & DATES_WORD_TAG) && !number_tag(c, i) && plain_word(c, i))
            t = i, k = 1;
        else if ((k = m(c, i, "with? the|a? tag|tagged|label|labelled|labeled|hashtag as|with?")) &&
                 plain_word(c, i + k) && i + k < e)
            t = i + k, k++;
        if (t == e)
            continue;
        if (!f->tag[0])
            tag_text(c, t, f->tag);
        use(c, i, k);
        seen->explicit_tag = true;
    }
}

/* Tags said as a list name: "in groceries", "my groceries list", "groceries tasks". */
static void read_implicit_tag(struct ctx *c, size_t b, size_t e, struct nlu_filter *f)
{
    static const char lists[] = "tasks|items|to-dos|list|ones|stuff|things|reminders";
    for (size_t i = b; i < e && !f->tag[0]; i++) {
        size_t k = is_free(c, i) ? m(c, i, "in|from|under|on|within|inside the|my|our?") : 0;
        size_t t = i + k;
        if (k && t < e && plain_word(c, t) && !m(c, t, FILLERS)) {
            tag_text(c, t, f->tag);
            use(c, i, k + 1);
            eat_start(c, t + 1, e, "list|category|project|folder|tag");
        } else if (plain_word(c, i) && !m(c, i, FILLERS) && m(c, i + 1, lists) && i + 1 < e) {
            tag_text(c, i, f->tag);
            use(c, i, 1);
        }
    }
}

/* Reads a filter from [b, e): a due range, a tag, done/open, a priority, and title words left
 * over as a query. Takes every word it understands. */
static void read_filter(struct ctx *c, size_t b, size_t e, struct nlu_filter *f,
                        struct filter_seen *seen)
{
    memset(seen, 0, sizeof *seen);
    read_range(c, b, e, f, seen);
    read_explicit_tag(c, b, e, f, seen);
    read_status(c, b, e, f, seen);
    int p = take_priority(c, b, e, true);
    if (p != NLU_PRIORITY_NONE)
        f->priority = p;
    read_implicit_tag(c, b, e, f);
    seen->quantifier = drop(c, b, e, "all|everything|every|each|anything of?");
    seen->plural = drop(c, b, e, "tasks|ones|items|to-dos|things|reminders|entries");
    drop(c, b, e, "by priority|date|tag|due");
    trim(c, b, e, FILLERS, FILLERS, 0);
    struct text_out o = text_out_init(f->query, NLU_QUERY_MAX);
    build_text(c, b, e, &o);
}

/* --- Targets ------------------------------------------------------------------------------- */

/* Consumes all free words of [b, e) when pattern matches exactly them. */
static bool whole(struct ctx *c, size_t b, size_t e, const char *pat)
{
    size_t i = next_free(c, b);
    size_t k = i < e ? m(c, i, pat) : 0;
    if (!k || i + k > e || next_free(c, i + k) < e)
        return false;
    use(c, i, k);
    return true;
}

/* "it", "that", "this one": the task last mentioned. */
static bool target_last(struct ctx *c, size_t b, size_t e, struct nlu_target *tg)
{
    if (!whole(c, b, e, "it|its|that|thats|this") &&
        !whole(c, b, e, "that|this|the same? one|task|item|to-do|reminder|thing") &&
        !whole(c, b, e,
               "the|that one|task|item i|you just? added|created|made|mentioned|showed|did"))
        return false;
    tg->kind = NLU_TARGET_LAST;
    return true;
}

/* The row phrase at j: "second", "first two", "number 3", "#2", "3", "them". *count gets the
 * rows; returns the 1-based row (-1 the last) and sets *k, or 0. */
static int row_at(const struct ctx *c, size_t j, int *count, size_t *k)
{
    int pos;
    *count = 1;
    *k = 1;
    if (m(c, j, "first|top") && (*count = number_of(low(c, j + 1))) >= 2) {
        *k = 2;
        return 1;
    }
    *count = 1;
    if ((pos = ordinal_of(low(c, j))) != 0)
        return pos;
    if ((pos = number_tag(c, j)) > 0 || (pos = digits_of(low(c, j))) > 0)
        return pos;
    if (m(c, j, "number|no|num|nr|task|item|row|line|entry|to-do") &&
        (pos = number_of(low(c, j + 1))) > 0) {
        *k = 2;
        return pos;
    }
    if ((*k = m(c, j, "all|both of? them|those|these")) ||
        (*k = m(c, j, "them|those|these all|both?"))) {
        *count = m(c, j, "both") ? 2 : BULK_ROWS;
        return 1;
    }
    *k = 0;
    return 0;
}

/* "the second one", "number 3", "#2", "the last one", "the first two": rows of the last list. */
static bool target_position(struct ctx *c, size_t b, size_t e, struct nlu_target *tg)
{
    size_t i = next_free(c, b), k;
    size_t j = i + m(c, i, "the");
    int count;
    int pos = row_at(c, j, &count, &k);
    if (pos == 0)
        return false;
    j += k;
    j += m(c, j, "one|ones|task|tasks|item|items|row|rows|entry|entries|to-do|to-dos|line|lines");
    j += m(c, j, "on|in|from|of the|my list|to-do|to-dos|tasks list?");
    if (j > e || next_free(c, j) < e)
        return false;
    use(c, i, j - i);
    tg->kind = NLU_TARGET_POSITION;
    tg->position = pos;
    tg->count = count;
    tg->bulk = count > 1;
    return true;
}

/* "everything", "all done tasks", "everything tagged groceries", "#groceries", "the overdue
 * ones": every task matching a filter. */
static bool target_filter(struct ctx *c, size_t b, size_t e, int kind, struct nlu_target *tg)
{
    bool saved[NLU_WORDS_MAX];
    struct filter_seen seen;
    memcpy(saved, c->used, c->n * sizeof *saved);
    /* Acting on "everything" means the tasks the action makes sense for. */
    int status = kind == NLU_COMPLETE || kind == NLU_RESCHEDULE || kind == NLU_REPRIORITIZE
                     ? NLU_STATUS_OPEN
                 : kind == NLU_REOPEN ? NLU_STATUS_DONE
                                      : NLU_STATUS_ANY;
    filter_init(&tg->filter, status);
    read_filter(c, b, e, &tg->filter, &seen);
    if (seen.quantifier || seen.explicit_tag || seen.plural) {
        tg->kind = NLU_TARGET_FILTER;
        tg->bulk = true;
        return true;
    }
    memcpy(c->used, saved, c->n * sizeof *saved);
    filter_init(&tg->filter, NLU_STATUS_ANY);
    return false;
}

/* True when the free words of [b, e) end with a date or time phrase and start with something
 * else ("the meeting tomorrow", "the report by friday", not "the Monday meeting"); used gets
 * the marks with that phrase taken. */
static bool trailing_when(const struct ctx *c, size_t b, size_t e, bool used[NLU_WORDS_MAX])
{
    struct dates_when when;
    memcpy(used, c->used, c->n * sizeof *used);
    if (e <= b || dates_parse_words(c->w + b, e - b, c->today, 0, used + b, &when) != 0)
        return false;
    size_t last = e, first = next_free(c, b);
    while (last > b && c->used[last - 1])
        last--;
    return last > b && used[last - 1] && first < e && !used[first];
}

/* A date after the title words ("delete the meeting tomorrow") says which task, but titles
 * rarely contain it: cut it so the words match, and let the runtime offer a pick-list when
 * several tasks do. */
static void cut_trailing_when(struct ctx *c, size_t b, size_t e)
{
    bool used[NLU_WORDS_MAX];
    if (trailing_when(c, b, e, used))
        memcpy(c->used, used, c->n * sizeof *used);
}

/* Title words: "the dentist one" -> "dentist", "the milk task" -> "milk". */
static void target_title(struct ctx *c, size_t b, size_t e, struct nlu_target *tg)
{
    cut_trailing_when(c, b, e);
    trim(c, b, e, "the|my|a|an|this|that|those|these|our",
         "one|ones|task|tasks|to-do|to-dos|item|items|thing|entry|reminder|line|row", 1);
    struct text_out o = text_out_init(tg->words, NLU_QUERY_MAX);
    build_text(c, b, e, &o);
    if (o.len)
        tg->kind = NLU_TARGET_TITLE;
}

/* Reads which task(s) the free words of [b, e) name. */
static void parse_target(struct ctx *c, size_t b, size_t e, int kind, struct nlu_target *tg)
{
    trim(c, b, e, "with|to|and|then|also|now|just|about|for|of|off|as",
         "to|until|till|til|into|for|on|at|by|as|from|off|back|again|now|too|then|and|already|"
         "anymore|please",
         0);
    trim(c, b, e, NULL, "from|off|on|in my|the|our list|to-do|to-dos|tasks|to-dolist list?", 0);
    if (count_free(c, b, e) == 0)
        return;
    if (target_last(c, b, e, tg) || target_position(c, b, e, tg) ||
        target_filter(c, b, e, kind, tg))
        return;
    target_title(c, b, e, tg);
}

/* --- Adding -------------------------------------------------------------------------------- */

static void add_tag(struct ctx *c, size_t i, struct nlu_intent *out)
{
    char tag[NLU_TAG_MAX + 1];
    if (out->n_tags >= NLU_TAGS_MAX || !tag_text(c, i, tag))
        return;
    for (int k = 0; k < out->n_tags; k++)
        if (strcmp(out->tags[k], tag) == 0)
            return;
    memcpy(out->tags[out->n_tags++], tag, sizeof tag);
}

/* "#groceries", "tagged groceries", "with tag groceries", "to my groceries list". */
static void take_add_tags(struct ctx *c, size_t b, struct nlu_intent *out)
{
    static const char not_tags[] =
        "to|the|a|an|my|as|and|with|for|on|in|at|of|to-do|to-dos|task|tasks|main|usual|own";
    for (size_t i = b; i < c->n; i++) {
        size_t k = 0, t = c->n;
        if (!is_free(c, i))
            continue;
        if ((c->w[i].flags & DATES_WORD_TAG) && !number_tag(c, i) && plain_word(c, i)) {
            t = i, k = 1;
        } else if ((k = m(c, i, "with? the|a? tag|tagged|label|labelled|labeled|hashtag as?")) &&
                   plain_word(c, i + k) && !m(c, i + k, not_tags)) {
            t = i + k, k++;
        } else if ((k = m(c, i, "to|onto|on|in|for my|the|our")) && plain_word(c, i + k) &&
                   !m(c, i + k, not_tags) && m(c, i + k + 1, "list")) {
            t = i + k, k += 2;
        }
        if (t == c->n)
            continue;
        add_tag(c, t, out);
        use(c, i, k);
        i += k - 1;
    }
}

/* ADD: the date/time, priority and tags are cut out, the rest is the title. */
static void parse_add(struct ctx *c, size_t b, struct nlu_intent *out)
{
    out->kind = NLU_ADD;
    take_when(c, 0, 0, true, out);
    out->priority = take_priority(c, b, c->n, false);
    take_add_tags(c, b, out);
    if (eat_start(c, b, c->n, "a|an|the|my|one|another? new? task|to-do|reminder|item|entry|note"))
        eat_start(c, b, c->n, "called|named|titled|saying|to|for|about|that|is|says");
    trim(c, b, c->n, "to|onto|on|in my|the|our list|to-do|to-dos|tasks|to-dolist list?",
         "to|onto|on|in|for my|the|our list|to-do|to-dos|tasks|to-dolist list?", 0);
    trim(c, b, c->n, "to|that|and|then|about",
         "and|with|at|on|by|due|for|to|in|priority|prio|tagged|tag|is|as|of|from|then|also", 0);
    struct text_out o = text_out_init(out->title, NLU_TITLE_MAX);
    build_text(c, b, c->n, &o);
    out->title_truncated = o.full;
}

/* --- Verbs --------------------------------------------------------------------------------- */

enum {
    V_SOFT = 1,             /* a common word in titles: with a date it is a new task instead */
    V_NEEDS_OFF = 2,        /* "tick X off": only with "off" (or "as done") */
    V_NEEDS_OBJECT = 4,     /* "see my tasks", not "see the doctor" */
    V_POSTPONE = 8,         /* with no amount or date, one day later */
    V_FORWARD = 16,         /* amounts move the date earlier */
    V_NEEDS_DATE = 32,      /* "move X to friday", not "move house" */
    V_RENAMES = 64,         /* "change X to Y" renames when Y is neither a date nor a priority */
    V_NEEDS_FORWARD = 128,  /* "bring X forward", not "bring the charger" */
    V_NEEDS_OFF_BACK = 256, /* "put X off", not "put milk on the list" */
    V_NEEDS_LIST = 512,     /* "put milk on my list", not "put out the bins" */
};

#define COMPLETE_SUFFIX                                                                            \
    "as|is|are|was|to|now? be|been? done|complete|completed|finished|closed|checked|ticked|"       \
    "crossed|sorted|handled|accomplished|off"
#define REOPEN_SUFFIX_NOT                                                                          \
    "as|is|are|was|to? be? not|isnt|arent|wasnt|un done|complete|completed|finished"
#define REOPEN_SUFFIX                                                                              \
    "as|to|is|are? be? undone|open|incomplete|uncompleted|unfinished|pending|active|to-do|"        \
    "reopened|unchecked|unticked|outstanding"

/* "as done" / "not done" at the end: COMPLETE, REOPEN or 0. */
static int take_status_suffix(struct ctx *c, size_t b)
{
    if (eat_end(c, b, c->n, REOPEN_SUFFIX_NOT) || eat_end(c, b, c->n, REOPEN_SUFFIX))
        return NLU_REOPEN;
    if (eat_end(c, b, c->n, COMPLETE_SUFFIX))
        return NLU_COMPLETE;
    return 0;
}

/* The shared ending of the target verbs: a soft verb declines a title target with a date after
 * it ("finish the report by friday" is a new task). */
static bool target_then_check(struct ctx *c, size_t at, int arg, struct nlu_intent *out)
{
    bool used[NLU_WORDS_MAX];
    bool dated = (arg & V_SOFT) && trailing_when(c, at, c->n, used);
    parse_target(c, at, c->n, out->kind, &out->target);
    return !(dated && out->target.kind == NLU_TARGET_TITLE);
}

static bool v_add(struct ctx *c, size_t at, int arg, struct nlu_intent *out)
{
    size_t k;
    if ((arg & V_NEEDS_LIST) && find(c, at, c->n, "list|to-dos|tasks|agenda", &k) == c->n)
        return false;
    parse_add(c, at, out);
    return true;
}

/* "to-do: buy milk", "task: call mum". */
static bool v_add_colon(struct ctx *c, size_t at, int arg, struct nlu_intent *out)
{
    size_t i = next_free(c, at);
    if (i >= c->n || c->w[i].gap != ':')
        return false;
    return v_add(c, at, arg, out);
}

static bool v_help(struct ctx *c, size_t at, int arg, struct nlu_intent *out)
{
    (void)c, (void)at, (void)arg;
    out->kind = NLU_HELP;
    return true;
}

static bool v_unknown(struct ctx *c, size_t at, int arg, struct nlu_intent *out)
{
    (void)c, (void)at, (void)arg;
    out->kind = NLU_UNKNOWN;
    return true;
}

static void parse_list(struct ctx *c, size_t at, struct nlu_intent *out)
{
    struct filter_seen seen;
    struct nlu_filter *f = &out->filter;
    out->kind = NLU_LIST;
    filter_init(f, NLU_STATUS_OPEN);
    read_filter(c, at, c->n, f, &seen);
    /* "all" alone lists everything; with another condition it is only emphasis. */
    if (!seen.status && seen.quantifier && !seen.range && !f->tag[0] && !f->query[0] &&
        f->priority == NLU_PRIORITY_NONE)
        f->status = NLU_STATUS_ANY;
}

static bool v_list(struct ctx *c, size_t at, int arg, struct nlu_intent *out)
{
    if ((arg & V_NEEDS_OBJECT) &&
        !m(c, next_free(c, at), "my|all|what|whats|everything|anything|tasks|to-dos|list|overdue"))
        return false;
    parse_list(c, at, out);
    return true;
}

static bool v_complete(struct ctx *c, size_t at, int arg, struct nlu_intent *out)
{
    out->kind = NLU_COMPLETE;
    size_t k = eat_end(c, at, c->n, COMPLETE_SUFFIX);
    if ((arg & V_NEEDS_OFF) && !k)
        return false;
    return target_then_check(c, at, arg, out);
}

static bool v_reopen(struct ctx *c, size_t at, int arg, struct nlu_intent *out)
{
    out->kind = NLU_REOPEN;
    take_status_suffix(c, at);
    return target_then_check(c, at, arg, out);
}

static bool v_delete(struct ctx *c, size_t at, int arg, struct nlu_intent *out)
{
    size_t k;
    /* "remove the work tag from X" edits tags, which no intent does: never delete for it. */
    size_t t = find(c, at, c->n, "tag|tags|label|labels|hashtag", &k);
    if (t < c->n && find(c, t, c->n, "from|off", &k) < c->n)
        return v_unknown(c, at, arg, out);
    out->kind = NLU_DELETE;
    return target_then_check(c, at, arg, out);
}

/* "rename X to Y": X before the first "to" (or "as", "into"), the new title after it. */
static bool v_rename(struct ctx *c, size_t at, int arg, struct nlu_intent *out)
{
    (void)arg;
    size_t k, t = find(c, at, c->n, "to|as|into", &k);
    out->kind = NLU_RENAME;
    if (t < c->n) {
        use(c, t, k);
        eat_start(c, t + k, c->n, "be|read|say");
        struct text_out o = text_out_init(out->title, NLU_TITLE_MAX);
        build_text(c, t + k, c->n, &o);
        out->title_truncated = o.full;
        use(c, t + k, c->n - t - k);
    }
    parse_target(c, at, t, out->kind, &out->target);
    return true;
}

/* "by 2 days", "a week": a shift of the task's current date (not "in 2 days", a date). */
static bool take_shift(struct ctx *c, size_t at, int sign, struct nlu_intent *out)
{
    for (size_t i = at; i < c->n; i++) {
        struct dates_amount a;
        size_t k = is_free(c, i) ? dates_match_amount(c->w, c->n, i, c->used, &a) : 0;
        if (!k || (i > 0 && m(c, i - 1, "in")) || m(c, i + k, "from|after now|today"))
            continue;
        use(c, i, k);
        if (i > at && m(c, i - 1, "by|for"))
            use(c, i - 1, 1);
        if (a.unit == DATES_UNIT_MONTH || a.unit == DATES_UNIT_YEAR)
            out->shift_months = sign * a.n * (a.unit == DATES_UNIT_YEAR ? 12 : 1);
        else
            out->shift_days = sign * a.n * (a.unit == DATES_UNIT_WEEK ? 7 : 1);
        return true;
    }
    return false;
}

static bool v_reschedule(struct ctx *c, size_t at, int arg, struct nlu_intent *out)
{
    out->kind = NLU_RESCHEDULE;
    int sign = (arg & V_FORWARD) ? -1 : 1;
    if (drop(c, at, c->n, "forward|earlier|sooner|ahead"))
        sign = -1;
    else if (arg & V_NEEDS_FORWARD)
        return false;
    if ((arg & V_NEEDS_OFF_BACK) && !drop(c, at, c->n, "off|back"))
        return false;
    bool back = drop(c, at, c->n, "back|later|out") || (arg & V_NEEDS_OFF_BACK);
    size_t k;
    bool to = find(c, at, c->n, "to|until|till|til|into", &k) < c->n;
    bool shifted = take_shift(c, at, sign, out);
    bool dated = !shifted && take_when(c, at, DATES_PREFER_LAST, false, out);
    if (!shifted && !dated) {
        if ((arg & (V_POSTPONE | V_FORWARD)) || back || sign < 0)
            out->shift_days = sign;
        else if (arg & V_NEEDS_DATE)
            return false;
    } else if ((arg & V_NEEDS_DATE) && !shifted && !to && !back && sign > 0) {
        return false; /* "move house on saturday" is a new task */
    }
    parse_target(c, at, c->n, out->kind, &out->target);
    return true;
}

/* "remove the due date from X". */
static bool v_clear_due(struct ctx *c, size_t at, int arg, struct nlu_intent *out)
{
    (void)arg;
    out->kind = NLU_RESCHEDULE;
    out->clear_due = true;
    eat_start(c, at, c->n, "from|of|on|for|off");
    parse_target(c, at, c->n, out->kind, &out->target);
    return true;
}

/* arg is the priority the verb implies ("prioritize" high), NONE when it must be said. */
static bool v_reprioritize(struct ctx *c, size_t at, int arg, struct nlu_intent *out)
{
    out->kind = NLU_REPRIORITIZE;
    out->priority = take_priority(c, at, c->n, true);
    if (out->priority == NLU_PRIORITY_NONE)
        out->priority = arg;
    drop(c, at, c->n, "priority|prio");
    parse_target(c, at, c->n, out->kind, &out->target);
    return true;
}

static bool v_reset_priority(struct ctx *c, size_t at, int arg, struct nlu_intent *out)
{
    (void)arg;
    out->kind = NLU_REPRIORITIZE;
    out->priority = NLU_PRIORITY_NORMAL;
    eat_start(c, at, c->n, "from|of|on|for|off");
    parse_target(c, at, c->n, out->kind, &out->target);
    return true;
}

/* "change X to Y" where Y is all date/time: a RESCHEDULE of X. */
static bool to_when(struct ctx *c, size_t at, size_t t, size_t y, struct nlu_intent *out)
{
    bool saved[NLU_WORDS_MAX];
    memcpy(saved, c->used, c->n * sizeof *saved);
    if (take_when(c, y, 0, false, out)) {
        trim(c, y, c->n, "be|due|on|for|at|by", NULL, 0);
        if (count_free(c, y, c->n) == 0) {
            out->kind = NLU_RESCHEDULE;
            parse_target(c, at, t, out->kind, &out->target);
            return true;
        }
    }
    memcpy(c->used, saved, c->n * sizeof *saved);
    out->due_date[0] = out->due_time[0] = '\0';
    return false;
}

/* "change X to Y" where Y is all priority: a REPRIORITIZE of X. */
static bool to_priority(struct ctx *c, size_t at, size_t t, size_t y, struct nlu_intent *out)
{
    bool saved[NLU_WORDS_MAX];
    memcpy(saved, c->used, c->n * sizeof *saved);
    int p = take_priority(c, y, c->n, true);
    trim(c, y, c->n, "be|a|an", "priority|prio|task|one", 0);
    if (p != NLU_PRIORITY_NONE && count_free(c, y, c->n) == 0) {
        out->kind = NLU_REPRIORITIZE;
        out->priority = p;
        parse_target(c, at, t, out->kind, &out->target);
        return true;
    }
    memcpy(c->used, saved, c->n * sizeof *saved);
    return false;
}

/* change / update / set / edit / make / mark: the rest of the message says what changes. */
static bool v_modify(struct ctx *c, size_t at, int arg, struct nlu_intent *out)
{
    int kind = take_status_suffix(c, at);
    if (kind) {
        out->kind = kind;
        parse_target(c, at, c->n, kind, &out->target);
        return true;
    }
    size_t k, t = find(c, at, c->n, "to|as|into", &k);
    if (t < c->n) {
        use(c, t, k);
        if (to_when(c, at, t, t + k, out) || to_priority(c, at, t, t + k, out))
            return true;
        if (arg & V_RENAMES) {
            c->used[t] = false;
            return v_rename(c, at, 0, out);
        }
        c->used[t] = false;
    }
    out->priority = take_priority(c, at, c->n, true);
    if (out->priority != NLU_PRIORITY_NONE) {
        out->kind = NLU_REPRIORITIZE;
        parse_target(c, at, c->n, out->kind, &out->target);
        return true;
    }
    if (take_when(c, at, DATES_PREFER_LAST, false, out)) {
        out->kind = NLU_RESCHEDULE;
        parse_target(c, at, c->n, out->kind, &out->target);
        return true;
    }
    return false;
}

typedef bool (*verb_fn)(struct ctx *c, size_t at, int arg, struct nlu_intent *out);

struct verb {
    const char *pattern;
    verb_fn fn;
    int arg;
};

/* The command words at the start of a message, tried in order; the first handler that accepts
 * wins. Multi-word phrases come before the single words they begin with. */
static const struct verb verbs[] = {
    {"remind|reminding me|us to|about|that|of?", v_add, 0},
    {"remember to", v_add, 0},
    {"dont forget to|about?", v_add, 0},
    {"do not forget to|about?", v_add, 0},
    {"note|memo|reminder to self", v_add, 0},
    {"i|we need|must|gotta|should to?", v_add, 0},
    {"i|we have|got|ought to", v_add, 0},
    {"i|we|ive|weve have? got to", v_add, 0},
    {"need|have|got|must to", v_add, 0},
    {"to-do|task|reminder|note|new|add task|to-do|reminder?", v_add_colon, 0},
    {"set|create|make|add|new a|an? reminder to|for|about|that?", v_add, 0},
    {"how do|can|should|would i|we|you", v_help, 0},
    {"how to", v_help, 0},
    {"remove|delete|clear|drop|unset|erase|take|strip the|its? due? date|deadline|duedate",
     v_clear_due, 0},
    {"unschedule|undate", v_clear_due, 0},
    {"remove|clear|drop|reset|unset the|its? priority|prio", v_reset_priority, 0},
    {"remove|delete|drop|clear|untag the? tag|tags|label|labels|hashtag", v_unknown, 0},
    {"untag|unlabel", v_unknown, 0},
    {"put off", v_reschedule, V_POSTPONE},
    {"push back|out|off", v_reschedule, V_POSTPONE},
    {"bring|pull|move forward", v_reschedule, V_FORWARD},
    {"move up", v_reschedule, V_FORWARD},
    {"change|update|edit|set|modify|fix the|its? title|name|text|wording|description of|for|on?",
     v_rename, 0},
    {"change|update|edit|set|modify|fix|move the|its? due? date|deadline|duedate|time of|for|on?",
     v_reschedule, 0},
    {"bring|pull", v_reschedule, V_FORWARD | V_NEEDS_FORWARD},
    {"put", v_reschedule, V_NEEDS_OFF_BACK},
    {"change|update|edit|set|modify the|its? priority|prio|urgency of|for|on?", v_reprioritize,
     NLU_PRIORITY_NONE},
    {"raise|increase|boost|bump up? the|its? priority|prio of|on|for?", v_reprioritize,
     NLU_PRIORITY_HIGH},
    {"lower|decrease|reduce|drop the|its? priority|prio of|on|for?", v_reprioritize,
     NLU_PRIORITY_LOW},
    {"prioritize|prioritise|escalate|upgrade", v_reprioritize, NLU_PRIORITY_HIGH},
    {"deprioritize|deprioritise|de-prioritize|de-prioritise|downgrade", v_reprioritize,
     NLU_PRIORITY_LOW},
    {"reprioritize|reprioritise|re-prioritize|re-prioritise", v_reprioritize, NLU_PRIORITY_NONE},
    {"add|create|insert|jot|adding|creating", v_add, 0},
    {"put", v_add, V_NEEDS_LIST},
    {"write|jot|note down", v_add, 0},
    {"new task|to-do|reminder|item|entry", v_add, 0},
    {"make a|an new? task|to-do|note|reminder|entry", v_add, 0},
    {"list|show|display|view|lookup|search|find|showing|listing|whats|what|which|wheres", v_list,
     0},
    {"how many|much", v_list, 0},
    {"is|are there", v_list, 0},
    {"any|anything", v_list, 0},
    {"do|did|have i|we have|got|done|finished|completed?", v_list, 0},
    {"tell|give me|us", v_list, V_NEEDS_OBJECT},
    {"look for|up|at|through|over", v_list, 0},
    {"pull|bring up", v_list, V_NEEDS_OBJECT},
    {"get|see|check|read|review", v_list, V_NEEDS_OBJECT},
    {"my|all|the|our? tasks|to-dos|to-do|agenda|to-dolist", v_list, 0},
    {"my|all|the|our? to-do|task list", v_list, 0},
    {"complete|finish|close|completing|finishing|accomplish", v_complete, V_SOFT},
    {"completed|finished|done|closed with?", v_complete, 0},
    {"i|we|ive|weve have? just|already? done|did|finished|completed|ticked|checked|crossed off?",
     v_complete, 0},
    {"tick|check|cross|strike|mark off", v_complete, 0},
    {"tick|check|cross|strike", v_complete, V_NEEDS_OFF},
    {"reopen|re-open|reopening|unfinish|uncomplete|un-complete|undo|uncheck|untick|unmark|restore|"
     "reactivate|revive|resurrect|unarchive",
     v_reopen, 0},
    {"bring back", v_reopen, 0},
    {"delete|del|remove|rm|erase|trash|purge|nuke|wipe|discard|scrap|deleting|removing|forget",
     v_delete, 0},
    {"get rid of", v_delete, 0},
    {"forget about", v_delete, 0},
    {"cancel|drop|clear|ditch|scratch", v_delete, V_SOFT},
    {"rename|retitle|re-name|renaming|re-title", v_rename, 0},
    {"reschedule|re-schedule|rescheduling|postpone|postponing|delay|defer|snooze|procrastinate",
     v_reschedule, V_POSTPONE},
    {"move|push|bump|shift|moving|carry|roll", v_reschedule, V_NEEDS_DATE},
    {"change|update|edit|modify|switch|turn|set", v_modify, V_RENAMES},
    {"make|mark|flag|label", v_modify, 0},
};

static void init_intent(struct nlu_intent *out)
{
    memset(out, 0, sizeof *out);
    out->kind = NLU_UNKNOWN;
    out->priority = NLU_PRIORITY_NONE;
    filter_init(&out->filter, NLU_STATUS_OPEN);
    filter_init(&out->target.filter, NLU_STATUS_ANY);
    out->target.kind = NLU_TARGET_NONE;
}

static bool dispatch(struct ctx *c, struct nlu_intent *out)
{
    bool saved[NLU_WORDS_MAX];
    size_t s = next_free(c, 0);
    memcpy(saved, c->used, c->n * sizeof *saved);
    for (size_t v = 0; v < sizeof verbs / sizeof verbs[0]; v++) {
        size_t k = m(c, s, verbs[v].pattern);
        if (!k)
            continue;
        use(c, s, k);
        if (verbs[v].fn(c, s + k, verbs[v].arg, out))
            return true;
        memcpy(c->used, saved, c->n * sizeof *saved);
        init_intent(out);
    }
    return false;
}

/* --- Messages without a command word ------------------------------------------------------- */

/* "the dentist one is done", "milk done", "it's not done". */
static bool status_words(struct ctx *c, struct nlu_intent *out)
{
    int kind = take_status_suffix(c, 0);
    if (!kind)
        return false;
    out->kind = kind;
    parse_target(c, 0, c->n, kind, &out->target);
    return true;
}

/* "overdue?", "due tomorrow", "today's tasks": a list question with no verb. */
static bool list_words(struct ctx *c, struct nlu_intent *out)
{
    bool saved[NLU_WORDS_MAX];
    struct filter_seen seen;
    memcpy(saved, c->used, c->n * sizeof *saved);
    filter_init(&out->filter, NLU_STATUS_OPEN);
    read_filter(c, 0, c->n, &out->filter, &seen);
    if ((seen.range || seen.status || seen.plural) && !out->filter.query[0]) {
        out->kind = NLU_LIST;
        return true;
    }
    memcpy(c->used, saved, c->n * sizeof *saved);
    init_intent(out);
    return false;
}

/* "dentist friday 3pm", "buy milk!!", "call mum #family": an ADD with no verb. A priority
 * with nothing else ("?!", "urgent") is not a task. */
static bool implicit_add(struct ctx *c, struct nlu_intent *out)
{
    parse_add(c, 0, out);
    if (out->due_date[0] || out->due_time[0] || out->n_tags > 0 ||
        (out->priority != NLU_PRIORITY_NONE && out->title[0]))
        return true;
    init_intent(out);
    return false;
}

/* --- Small talk and politeness ------------------------------------------------------------- */

static const char *const greetings[] = {
    ("hi|hello|hey|hiya|heya|yo|howdy|greetings|hallo|hola|bonjour|ciao|sup|hullo|hii|hiii|heyy|"
     "morning|gday|aloha|salut|namaste|hello"),
    "good morning|afternoon|evening|day",
    "whats|wassup|whatsup|sup up?",
    "how are|r you|u doing? today?",
    "hows|how is it going",
    "nice to meet you",
};

static const char *const thanks[] = {
    "thanks|thx|thanx|tx|ty|tysm|tyvm|cheers|ta|merci|gracias|danke|thankyou",
    ("thank|thanks you|u|ya? for? the|your|all|that|this? "
     "help|assistance|that|this|everything|it|info|support?"),
    "thanks|thx|ty for the|your|all|that|this? help|assistance|that|this|everything|it|info?",
    ("ok|okay|k|kk|okey|okie|great|cool|nice|perfect|awesome|excellent|brilliant|wonderful|lovely|"
     "sweet|fine|good|alright|sure|noted|understood|gotcha|yes|yep|yeah|yup|right|splendid|"
     "fantastic|amazing|neat|superb|ace|fab|super|wow|ty|np|bye|goodbye|bye-bye|byebye|cya|ttyl|"
     "later|farewell|nevermind|nvm"),
    "got it|that|you?",
    "all right|good|set|done|clear",
    "sounds good|great|perfect|fine",
    "its|thats all done|good|set|fine",
    ("thats|that is? great|perfect|all|it|good|fine|ok|okay|awesome|cool|nice|helpful|right|"
     "correct|enough"),
    "much|many appreciated|thanks",
    "appreciate it|that|you|the help",
    "no problem|worries|thanks",
    "see you|ya later?",
    "good night|bye",
    "have a nice|good day|night|evening|one",
    "never mind",
    "forget it|that",
    "im|i am done|good|fine|all set",
};

static const char *const helps[] = {
    ("help|helpme|assist|assistance|instructions|usage|commands|menu|options|manual|faq|tutorial|"
     "examples|guide"),
    "help|assist me|us|please|out",
    "i|we need|want help|assistance",
    "need help|assistance",
    "what can|should|do i|we|you do|say|ask|type|use|try",
    "what are you|the commands|options|examples",
    "how does|do this|it|you work",
    "how to use this|it|you?",
    "who|what are you",
    "show|list|give me? the? help|commands|options|examples",
    "what is this",
};

static const char SMALL_FILLER[] = "there|bot|assistant|again|so|much|very|a|lot|all|everyone|"
                                   "friend|buddy|mate|man|guys|folks|dear|then|and|oh|well|really|"
                                   "just|you|too|for|now";

/* The small-talk phrase at i: a kind, 0 for a filler word, -1 for none; *k gets its words. */
static int small_at(const struct ctx *c, size_t i, size_t *k)
{
    static const struct {
        const char *const *pats;
        size_t n;
        int kind;
    } sets[] = {
        {helps, sizeof helps / sizeof helps[0], NLU_HELP},
        {greetings, sizeof greetings / sizeof greetings[0], NLU_GREETING},
        {thanks, sizeof thanks / sizeof thanks[0], NLU_THANKS},
    };
    for (size_t s = 0; s < sizeof sets / sizeof sets[0]; s++)
        for (size_t p = 0; p < sets[s].n; p++)
            if ((*k = m(c, i, sets[s].pats[p])) != 0)
                return sets[s].kind;
    *k = 1;
    if ((c->w[i].flags & DATES_WORD_BANG) || m(c, i, SMALL_FILLER))
        return 0;
    return -1;
}

/* A message made only of small talk; help wins, else the first kind said. */
static bool smalltalk(struct ctx *c, struct nlu_intent *out)
{
    int kind = NLU_UNKNOWN;
    bool help = false;
    for (size_t i = next_free(c, 0), k; i < c->n; i = next_free(c, i + k)) {
        int got = small_at(c, i, &k);
        if (got < 0)
            return false;
        if (got == NLU_HELP)
            help = true;
        else if (got && kind == NLU_UNKNOWN)
            kind = got;
    }
    if (help)
        kind = NLU_HELP;
    out->kind = kind;
    return kind != NLU_UNKNOWN;
}

/* Drops "hey", "ok", "can you", "I'd like to" from the start of the message. */
static void skip_politeness(struct ctx *c)
{
    static const char *const polite[] = {
        ("hey|hi|hello|yo|ok|okay|oh|um|umm|uh|hmm|well|so|alright|now|and|also|actually|right|"
         "yes|yeah|yep|sure|great|cool|thanks|thx|cheers|perfect|awesome|nice|just|then|btw|"
         "anyway|good"),
        "thank you",
        "can|could|would|will|wont|cant|couldnt you|u please? kindly? mind?",
        "can|could|may i|we",
        "i|id|we would? want|wanna|like|wish to?",
        "lets",
        "let us",
        "go ahead and",
        "do me a favor|favour and?",
    };
    for (bool again = true; again;) {
        again = false;
        for (size_t p = 0; p < sizeof polite / sizeof polite[0]; p++) {
            size_t i = next_free(c, 0);
            size_t k = m(c, i, polite[p]);
            if (k && count_free(c, 0, c->n) > k) {
                use(c, i, k);
                again = true;
            }
        }
    }
}

/* A single '!' stuck to a word is punctuation ("Buy milk!"): take it out of the word list, the
 * title copy still sees it between words. The patterns spell "to-do" and its plural and list
 * forms with a hyphen, because the lint script reads the unhyphenated spelling as an
 * unfinished-work marker; so words written without it get the hyphen here, and the prefix is
 * spelled letter by letter for the same reason. */
static void tidy_words(struct ctx *c)
{
    static const char prefix[] = {'t', 'o', 'd', 'o', '\0'};
    size_t k = 0;
    for (size_t i = 0; i < c->n; i++) {
        struct dates_word *w = &c->w[i];
        if ((w->flags & DATES_WORD_GLUED) && w->end - w->start == 1)
            continue;
        size_t len = strlen(w->low);
        if (strncmp(w->low, prefix, 4) == 0 && len + 1 < sizeof w->low) {
            memmove(w->low + 3, w->low + 2, len - 1); /* insert the hyphen after "to" */
            w->low[2] = '-';
        }
        c->w[k++] = *w;
    }
    c->n = k;
}

static void understand(struct ctx *c, struct nlu_intent *out)
{
    drop(c, 0, c->n, "please|pls|plz|kindly");
    if (count_free(c, 0, c->n) == 0 || smalltalk(c, out))
        return;
    skip_politeness(c);
    trim(c, 0, c->n, NULL, "thanks|thx|cheers|ty", 1);
    trim(c, 0, c->n, NULL, "thank you|u", 1);
    trim(c, 0, c->n, NULL, "for me", 1);
    if (dispatch(c, out) || status_words(c, out) || list_words(c, out))
        return;
    implicit_add(c, out);
}

void nlu_parse(const char *text, size_t len, struct date today, struct nlu_intent *out)
{
    struct ctx c;
    init_intent(out);
    if (!text || len > NLU_INPUT_MAX)
        return;
    c.text = text;
    c.len = len;
    c.today = today;
    if (dates_split(text, len, c.w, NLU_WORDS_MAX, &c.n) != 0)
        return;
    tidy_words(&c);
    memset(c.used, 0, sizeof c.used);
    understand(&c, out);
}

/* --- JSON ---------------------------------------------------------------------------------- */

static void kv_nonempty(struct jw *w, const char *key, const char *v)
{
    if (v[0])
        jw_kv_str(w, key, v);
}

static void write_filter(struct jw *w, const struct nlu_filter *f)
{
    jw_obj_begin(w);
    jw_kv_str(w, "status", status_name(f->status));
    if (f->priority != NLU_PRIORITY_NONE)
        jw_kv_str(w, "priority", nlu_priority_name(f->priority));
    if (f->range != DATES_RANGE_NONE)
        jw_kv_str(w, "range", dates_range_name(f->range));
    kv_nonempty(w, "due_from", f->due_from);
    kv_nonempty(w, "due_to", f->due_to);
    kv_nonempty(w, "tag", f->tag);
    kv_nonempty(w, "query", f->query);
    jw_obj_end(w);
}

static void write_target(struct jw *w, const struct nlu_target *t)
{
    jw_obj_begin(w);
    jw_kv_str(w, "kind", target_kind_name(t->kind));
    if (t->kind == NLU_TARGET_TITLE)
        jw_kv_str(w, "words", t->words);
    if (t->kind == NLU_TARGET_POSITION) {
        jw_kv_int(w, "position", t->position);
        if (t->count != 1)
            jw_kv_int(w, "count", t->count);
    }
    if (t->kind == NLU_TARGET_FILTER) {
        jw_key(w, "filter");
        write_filter(w, &t->filter);
    }
    if (t->bulk)
        jw_kv_bool(w, "bulk", true);
    jw_obj_end(w);
}

int nlu_intent_to_json(const struct nlu_intent *in, struct buf *out)
{
    size_t mark = out->len;
    struct jw w;
    jw_init(&w, out);
    jw_obj_begin(&w);
    jw_kv_str(&w, "kind", nlu_kind_name(in->kind));
    kv_nonempty(&w, "title", in->title);
    if (in->title_truncated)
        jw_kv_bool(&w, "title_truncated", true);
    kv_nonempty(&w, "due_date", in->due_date);
    kv_nonempty(&w, "due_time", in->due_time);
    if (in->clear_due)
        jw_kv_bool(&w, "clear_due", true);
    if (in->shift_days)
        jw_kv_int(&w, "shift_days", in->shift_days);
    if (in->shift_months)
        jw_kv_int(&w, "shift_months", in->shift_months);
    if (in->priority != NLU_PRIORITY_NONE)
        jw_kv_str(&w, "priority", nlu_priority_name(in->priority));
    if (in->n_tags > 0) {
        jw_key(&w, "tags");
        jw_arr_begin(&w);
        for (int i = 0; i < in->n_tags && i < NLU_TAGS_MAX; i++)
            jw_str(&w, in->tags[i]);
        jw_arr_end(&w);
    }
    if (in->kind == NLU_LIST) {
        jw_key(&w, "filter");
        write_filter(&w, &in->filter);
    }
    if (in->target.kind != NLU_TARGET_NONE) {
        jw_key(&w, "target");
        write_target(&w, &in->target);
    }
    jw_obj_end(&w);
    if (jw_done(&w) != 0) {
        out->len = mark;
        if (out->data)
            out->data[mark] = '\0';
        return ERR_TOO_BIG;
    }
    return 0;
}
