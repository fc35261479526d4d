/* log.h - one-line log records on a stream, as text or JSON.
 *
 * Text:  2026-11-25T21:15:41.123Z info Created ChatKit session cksess_… for user usr_…
 * JSON:  {"ts":"2026-11-25T21:15:41.123Z","level":"info","msg":"Created ChatKit session …"}
 * Each record is formatted into a stack buffer and written with one fwrite + fflush, so lines
 * from different places never interleave. The logger is created by main and passed down; there
 * is no global logger.
 */
#ifndef CHATKITD_LOG_H
#define CHATKITD_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_TEXT, LOG_JSON };

struct logger {
    FILE *out; /* not owned */
    enum log_level min_level;
    enum log_format format;
};

void log_init(struct logger *lg, FILE *out, enum log_level min_level, enum log_format format);
void log_msg(const struct logger *lg, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vmsg(const struct logger *lg, enum log_level level, const char *fmt, va_list ap);
/* Writes an already-formatted record body: for JSON, fields_json is the inside of an object
 * (`"k":"v",…`) appended after ts and level; for text, text is appended after ts and level. */
void log_record(const struct logger *lg, enum log_level level, const char *text,
                const char *fields_json);
bool log_enabled(const struct logger *lg, enum log_level level);
/* Parses "debug|info|warn|error" / "text|json"; 0 or ERR_INVALID. */
int log_level_parse(const char *s, enum log_level *out);
int log_format_parse(const char *s, enum log_format *out);

#define log_debug(lg, ...) log_msg((lg), LOG_DEBUG, __VA_ARGS__)
#define log_info(lg, ...)  log_msg((lg), LOG_INFO, __VA_ARGS__)
#define log_warn(lg, ...)  log_msg((lg), LOG_WARN, __VA_ARGS__)
#define log_error(lg, ...) log_msg((lg), LOG_ERROR, __VA_ARGS__)

#endif
