#include "core/log.h"

#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json_write.h"

#include <string.h>

static const char *level_names[] = {"debug", "info", "warn", "error"};

void log_init(struct logger *lg, FILE *out, enum log_level min_level, enum log_format format)
{
    lg->out = out;
    lg->min_level = min_level;
    lg->format = format;
}

bool log_enabled(const struct logger *lg, enum log_level level)
{
    return lg && lg->out && level >= lg->min_level;
}

#define LOG_LINE_MAX 8192

static void log_truncate(struct buf *b, size_t len)
{
    b->len = len;
    if (b->data)
        b->data[len] = '\0';
}

/* Text records must stay on one line whatever the message holds (a user-supplied name with a
 * newline must not forge a second record), so control bytes are written as \n, \r or \xHH. Stops
 * at limit bytes: an over-long message is cut, not dropped. */
static void log_append_text(struct buf *b, const char *text, size_t limit)
{
    static const char hex[] = "0123456789abcdef";
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        char tmp[4] = {'\\', 'x', hex[*p >> 4], hex[*p & 15]};
        const char *s = (const char *)p;
        size_t n = 1;
        if (*p == '\n' || *p == '\r') {
            tmp[1] = *p == '\n' ? 'n' : 'r';
            s = tmp;
            n = 2;
        } else if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
            s = tmp;
            n = 4;
        }
        if (b->len + n > limit || buf_append(b, s, n))
            return;
    }
}

/* Records are capped at LOG_LINE_MAX: a longer message is cut (text) or replaced (JSON, where a
 * cut could break the document) rather than allocated, since logging must never be the thing that
 * fails. Each piece is checked so that "}\n" always fits and the line always ends. */
void log_record(const struct logger *lg, enum log_level level, const char *text,
                const char *fields_json)
{
    if (!log_enabled(lg, level))
        return;
    char ts[CLOCK_ISO_MAX];
    clock_format_iso(clock_wall_us(), ts);
    struct buf b;
    buf_init(&b, LOG_LINE_MAX);
    if (lg->format == LOG_JSON) {
        buf_appendf(&b, "{\"ts\":\"%s\",\"level\":\"%s\"", ts, level_names[level]);
        if (text && *text) {
            size_t mark = b.len;
            if (buf_append_str(&b, ",\"msg\":") || json_escape_append(&b, text, strlen(text)) ||
                b.len > LOG_LINE_MAX - 2) {
                log_truncate(&b, mark);
                buf_append_str(&b, ",\"msg\":\"(message too long)\"");
            }
        }
        if (fields_json && *fields_json) {
            size_t mark = b.len;
            if (buf_append_char(&b, ',') || buf_append_str(&b, fields_json) ||
                b.len > LOG_LINE_MAX - 2)
                log_truncate(&b, mark);
        }
        buf_append_str(&b, "}\n");
    } else {
        buf_appendf(&b, "%s %-5s ", ts, level_names[level]);
        if (text)
            log_append_text(&b, text, LOG_LINE_MAX - 1);
        buf_append_char(&b, '\n');
    }
    fwrite(b.data, 1, b.len, lg->out);
    fflush(lg->out);
    buf_free(&b);
}

void log_vmsg(const struct logger *lg, enum log_level level, const char *fmt, va_list ap)
{
    if (!log_enabled(lg, level))
        return;
    char msg[4096];
    vsnprintf(msg, sizeof msg, fmt, ap);
    log_record(lg, level, msg, NULL);
}

void log_msg(const struct logger *lg, enum log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(lg, level, fmt, ap);
    va_end(ap);
}

int log_level_parse(const char *s, enum log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return ERR_INVALID;
}

int log_format_parse(const char *s, enum log_format *out)
{
    if (strcmp(s, "text") == 0)
        *out = LOG_TEXT;
    else if (strcmp(s, "json") == 0)
        *out = LOG_JSON;
    else
        return ERR_INVALID;
    return 0;
}
