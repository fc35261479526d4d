#include "config.h"

#include "core/buf.h"
#include "core/err.h"
#include "core/units.h"
#include "core/xalloc.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum opt_type {
    OPT_STR,     /* any non-empty text */
    OPT_URL,     /* http:// or https:// */
    OPT_LISTEN,  /* host:port */
    OPT_SIZE,    /* bytes with an optional unit, into size_t */
    OPT_MS,      /* duration into uint64_t milliseconds */
    OPT_SECONDS, /* duration into uint64_t seconds */
    OPT_INT,     /* int64_t within [min, max] */
    OPT_UINT,    /* unsigned within [min, max] */
    OPT_BOOL,    /* on/off, true/false, yes/no, 1/0 */
    OPT_LEVEL,   /* debug|info|warn|error */
    OPT_FORMAT,  /* text|json */
    OPT_TOKEN,   /* an HTTP header name */
    OPT_SECRET,  /* at least 16 characters */
    OPT_ID,      /* letters, digits, '_', '-', '.' (1..128) */
    OPT_MIMES,   /* comma-separated MIME types and patterns (subtype or both '*') */
};

struct opt {
    const char *name;    /* flag and config-file key */
    const char *env;     /* CHATKITD_* twin */
    const char *alt_env; /* the seed's name, or NULL */
    enum opt_type type;
    size_t off; /* field offset in struct config */
    int64_t min, max;
    const char *def; /* default, as text (NULL: unset) */
    const char *help;
};

#define F(field) offsetof(struct config, field)
#define L(field) (offsetof(struct config, limits) + offsetof(struct http_limits, field))

static const struct opt opts[] = {
    {"listen", "CHATKITD_LISTEN", NULL, OPT_LISTEN, 0, 0, 0, "127.0.0.1:8000",
     "address to serve on; port 0 picks a free port"},
    {"data-dir", "CHATKITD_DATA_DIR", NULL, OPT_STR, F(data_dir), 0, 0, "./data",
     "directory for the database and uploaded files"},
    {"database", "CHATKITD_DATABASE", "DATABASE_URL", OPT_STR, F(database), 0, 0, NULL,
     "database URL: sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DB "
     "(default sqlite:<data-dir>/chatkitd.db)"},
    {"from", "CHATKITD_MIGRATE_FROM", NULL, OPT_STR, F(migrate_from), 0, 0, NULL,
     "migrate only: copy everything from this database (sqlite:PATH) ..."},
    {"to", "CHATKITD_MIGRATE_TO", NULL, OPT_STR, F(migrate_to), 0, 0, NULL,
     "migrate only: ... into this one (postgres://...); idempotent, verified per table"},
    {"config", "CHATKITD_CONFIG", NULL, OPT_STR, F(config_file), 0, 0, NULL,
     "config file of `key = value` lines (keys are these flag names)"},
    {"workflow-id", "CHATKITD_WORKFLOW_ID", "CHATKIT_WORKFLOW_ID", OPT_ID, F(workflow_id), 0, 0,
     "wf_tasks", "workflow for sessions that do not name one"},
    {"workflows", "CHATKITD_WORKFLOWS", NULL, OPT_STR, F(workflows_dir), 0, 0, NULL,
     "directory of workflow files (*.json); SIGHUP reloads it"},
    {"openai-api-key", "CHATKITD_OPENAI_API_KEY", "OPENAI_API_KEY", OPT_SECRET, F(openai_api_key),
     0, 0, NULL, "key for OpenAI models (never logged)"},
    {"openai-base-url", "CHATKITD_OPENAI_BASE_URL", "OPENAI_BASE_URL", OPT_URL, F(openai_base_url),
     0, 0, "https://api.openai.com", "base URL of the OpenAI API"},
    {"api-key", "CHATKITD_API_KEY", NULL, OPT_SECRET, F(api_key), 0, 0, NULL,
     "admin key for the /v1/chatkit routes (they are off when unset)"},
    {"trust-user-header", "CHATKITD_TRUST_USER_HEADER", NULL, OPT_TOKEN, F(trust_user_header), 0, 0,
     NULL, "take the user id from this header (set by your proxy) instead of a cookie"},
    {"public-url", "CHATKITD_PUBLIC_URL", NULL, OPT_URL, F(public_url), 0, 0, NULL,
     "URL users reach the server at (https makes cookies Secure)"},
    {"cors-origins", "CHATKITD_CORS_ORIGINS", NULL, OPT_STR, F(cors_origins), 0, 0, NULL,
     "origins (comma-separated, or *) allowed to call /chatkit from other sites"},
    {"session-ttl", "CHATKITD_SESSION_TTL", NULL, OPT_SECONDS, F(session_ttl_s), 1, 86400 * 30,
     "10m", "lifetime of sessions minted by POST /api/chatkit/sessions"},
    {"session-rate", "CHATKITD_SESSION_RATE", NULL, OPT_INT, F(session_rate), 1, 100000, "120",
     "requests per minute allowed per browser session"},
    {"max-running-turns", "CHATKITD_MAX_RUNNING_TURNS", NULL, OPT_INT, F(max_running_turns), 0,
     1000000, "64", "turns whose agent works at once; more wait their turn (0 = no limit)"},
    {"memory-trim", "CHATKITD_MEMORY_TRIM", NULL, OPT_MS, F(memory_trim_ms), 0, 3600000, "1s",
     "how often memory freed after a burst goes back to the OS while no turn runs (0 = never)"},
    {"max-turn-writes", "CHATKITD_MAX_TURN_WRITES", NULL, OPT_INT, F(max_turn_writes), 0, 1000000,
     "256", "turns' store writes in flight at once; more wait in order (0 = no limit)"},
    {"max-header-bytes", "CHATKITD_MAX_HEADER_BYTES", NULL, OPT_SIZE, L(max_header_bytes), 1024,
     1 << 20, "16KiB", "request line + headers limit (431 beyond)"},
    {"max-body-bytes", "CHATKITD_MAX_BODY_BYTES", NULL, OPT_SIZE, L(max_body_bytes), 1024,
     (int64_t)1 << 30, "1MiB", "request body limit (413 beyond)"},
    {"max-connections", "CHATKITD_MAX_CONNECTIONS", NULL, OPT_UINT, L(max_connections), 1, 1000000,
     "10000", "open connections limit (503 beyond)"},
    {"header-timeout", "CHATKITD_HEADER_TIMEOUT", NULL, OPT_MS, L(header_timeout_ms), 100, 3600000,
     "10s", "time allowed to send request headers (408 beyond)"},
    {"idle-timeout", "CHATKITD_IDLE_TIMEOUT", NULL, OPT_MS, L(idle_timeout_ms), 100, 86400000,
     "60s", "keep-alive idle time, and longest pause inside a request body"},
    {"sse-queue-bytes", "CHATKITD_SSE_QUEUE_BYTES", NULL, OPT_SIZE, L(sse_queue_bytes), 4096,
     (int64_t)1 << 30, "1MiB", "unsent output per event stream before a slow reader is dropped"},
    {"drain-timeout", "CHATKITD_DRAIN_TIMEOUT", NULL, OPT_MS, L(drain_timeout_ms), 0, 3600000,
     "10s", "how long in-flight responses may finish after SIGTERM"},
    {"store-readers", "CHATKITD_STORE_READERS", NULL, OPT_INT, F(store_readers), 1, 64, "2",
     "database reader threads"},
    {"store-cache", "CHATKITD_STORE_CACHE", NULL, OPT_SIZE, F(store_cache_bytes), 64 * 1024,
     (int64_t)1 << 30, "512KiB", "SQLite page cache per connection (writer and each reader)"},
    {"store-pool", "CHATKITD_STORE_POOL", NULL, OPT_INT, F(store_pool), 1, 64, "4",
     "PostgreSQL connections (one store thread each)"},
    {"statement-timeout", "CHATKITD_STATEMENT_TIMEOUT", NULL, OPT_MS, F(statement_timeout_ms), 100,
     3600000, "5s", "PostgreSQL: longest a statement may run before it is cancelled"},
    {"attachment-max-bytes", "CHATKITD_ATTACHMENT_MAX_BYTES", NULL, OPT_SIZE,
     F(attachment_max_bytes), 1, (int64_t)1 << 30, "10MiB",
     "largest file a user may upload (413 beyond)"},
    {"attachment-types", "CHATKITD_ATTACHMENT_TYPES", NULL, OPT_MIMES, F(attachment_types), 0, 0,
     "image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain,text/csv,"
     "application/json",
     "MIME types users may upload (comma-separated; image/* style patterns allowed)"},
    {"attachment-ttl", "CHATKITD_ATTACHMENT_TTL", NULL, OPT_SECONDS, F(attachment_ttl_s), 1,
     86400 * 365, "24h", "uploads never attached to a message are deleted after this long"},
    {"model", "CHATKITD_MODEL", NULL, OPT_STR, F(model), 0, 0, NULL,
     "model of the task assistant: builtin:tasks, openai:MODEL or compat:PROVIDER/MODEL "
     "(default openai:gpt-4.1 when an OpenAI key is set, else builtin:tasks)"},
    {"providers", "CHATKITD_PROVIDERS", NULL, OPT_STR, F(providers_file), 0, 0, NULL,
     "JSON file naming OpenAI-compatible model servers (docs/models.md)"},
    {"model-connect-timeout", "CHATKITD_MODEL_CONNECT_TIMEOUT", NULL, OPT_MS,
     F(model_limits.connect_ms), 100, 600000, "10s", "time allowed to connect to a model server"},
    {"model-first-token-timeout", "CHATKITD_MODEL_FIRST_TOKEN_TIMEOUT", NULL, OPT_MS,
     F(model_limits.first_token_ms), 100, 3600000, "60s",
     "time allowed from a model request to its first output"},
    {"model-idle-timeout", "CHATKITD_MODEL_IDLE_TIMEOUT", NULL, OPT_MS, F(model_limits.idle_ms),
     100, 3600000, "60s", "longest silence of a model stream once it has started"},
    {"model-retries", "CHATKITD_MODEL_RETRIES", NULL, OPT_INT, F(model_retries), 0, 10, "2",
     "further attempts after a 429, 5xx or unreachable server, before any output"},
    {"model-backoff", "CHATKITD_MODEL_BACKOFF", NULL, OPT_MS, F(model_limits.backoff_ms), 1, 600000,
     "500ms", "first wait before a retry (doubled each time; Retry-After wins)"},
    {"model-max-backoff", "CHATKITD_MODEL_MAX_BACKOFF", NULL, OPT_MS,
     F(model_limits.max_backoff_ms), 1, 3600000, "30s",
     "longest wait before a retry; a longer Retry-After fails the turn instead"},
    {"model-max-steps", "CHATKITD_MODEL_MAX_STEPS", NULL, OPT_INT, F(model_max_steps), 1, 100, "8",
     "model calls per turn (each round of tool calls is one more)"},
    {"model-chain-responses", "CHATKITD_MODEL_CHAIN_RESPONSES", NULL, OPT_BOOL,
     F(model_chain_responses), 0, 0, "off",
     "openai: models continue the thread's last stored response (previous_response_id) instead "
     "of resending the history"},
    {"transcribe-model", "CHATKITD_TRANSCRIBE_MODEL", NULL, OPT_STR, F(transcribe_model), 0, 0,
     NULL, "speech-to-text model for dictation (openai:whisper-1, compat:PROVIDER/MODEL)"},
    {"sessions-upstream", "CHATKITD_SESSIONS_UPSTREAM", NULL, OPT_STR, F(sessions_upstream), 0, 0,
     NULL, "openai: mint sessions with OpenAI's hosted ChatKit (needs the key and workflow id)"},
    {"chatkit-script-url", "CHATKITD_CHATKIT_SCRIPT_URL", NULL, OPT_URL, F(chatkit_script_url), 0,
     0, "https://cdn.platform.openai.com/deployments/chatkit/chatkit.js",
     "the official ChatKit script the chat page loads in hosted mode"},
    {"ui-dir", "CHATKITD_UI_DIR", NULL, OPT_STR, F(ui_dir), 0, 0, NULL,
     "serve the web UI from this directory (a UI build) instead of the embedded copy"},
    {"log-level", "CHATKITD_LOG_LEVEL", NULL, OPT_LEVEL, F(log_level), 0, 0, "info",
     "debug, info, warn or error"},
    {"log-format", "CHATKITD_LOG_FORMAT", NULL, OPT_FORMAT, F(log_format), 0, 0, "text",
     "text or json"},
    {"access-log", "CHATKITD_ACCESS_LOG", NULL, OPT_BOOL, F(access_log), 0, 0, "on",
     "one log line per request"},
};

#define NOPTS (sizeof opts / sizeof opts[0])

/* Which options each command reads (the rest are shown only under serve). */
static bool opt_used_by(const struct opt *o, enum config_command cmd)
{
    if (cmd != CONFIG_CMD_MIGRATE && (strcmp(o->name, "from") == 0 || strcmp(o->name, "to") == 0))
        return false;
    if (cmd == CONFIG_CMD_MIGRATE)
        return strcmp(o->name, "data-dir") == 0 || strcmp(o->name, "database") == 0 ||
               strcmp(o->name, "from") == 0 || strcmp(o->name, "to") == 0 ||
               strcmp(o->name, "config") == 0 || strcmp(o->name, "log-level") == 0 ||
               strcmp(o->name, "log-format") == 0;
    return true;
}

int config_parse_listen(const char *s, char *host, size_t hostlen, int *port)
{
    const char *colon;
    const char *h = s;
    size_t hl;
    if (*s == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return ERR_INVALID;
        h = s + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return ERR_INVALID;
        hl = (size_t)(colon - s);
    }
    if (hl == 0 || hl >= hostlen)
        return ERR_INVALID;
    int64_t p;
    if (units_parse_int(colon + 1, 0, 65535, &p))
        return ERR_INVALID;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (int)p;
    return 0;
}

static int check_url(const char *v)
{
    const char *rest = NULL;
    if (strncmp(v, "http://", 7) == 0)
        rest = v + 7;
    else if (strncmp(v, "https://", 8) == 0)
        rest = v + 8;
    if (!rest || !*rest || *rest == '/')
        return ERR_INVALID;
    for (const char *p = v; *p; p++) {
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return ERR_INVALID;
    }
    return 0;
}

static bool mime_token_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("!#$&^_.+-", ch));
}

/* Checks a comma-separated list of MIME types: each entry is type/subtype made of MIME token
 * characters, or a pattern with the subtype '*' (any image), or '*' for both (anything). */
static int check_mimes(const char *v)
{
    const char *p = v;
    for (;;) {
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *slash = memchr(p, '/', (size_t)(e - p));
        if (!slash || slash == p || slash + 1 == e)
            return ERR_INVALID;
        bool star_type = slash - p == 1 && *p == '*';
        bool star_sub = e - slash == 2 && slash[1] == '*';
        if (star_type && !star_sub)
            return ERR_INVALID;
        for (const char *q = p; q < e && !star_type; q++) {
            if (q != slash && !(q > slash && star_sub) && !mime_token_char(*q))
                return ERR_INVALID;
        }
        if (!*e)
            return 0;
        p = e + 1;
    }
}

/* Applies one value to cfg. On failure writes the reason (without the "where") into why. */
static int opt_apply(struct config *cfg, const struct opt *o, const char *v, char *why,
                     size_t whylen)
{
    char *base = (char *)cfg;
    uint64_t u;
    int64_t i;
    switch (o->type) {
    case OPT_LISTEN:
        if (config_parse_listen(v, cfg->listen_host, sizeof cfg->listen_host, &cfg->listen_port)) {
            snprintf(why, whylen, "'%s' is not HOST:PORT (e.g. 127.0.0.1:8000)", v);
            return ERR_INVALID;
        }
        return 0;
    case OPT_URL:
        if (check_url(v)) {
            snprintf(why, whylen, "'%s' is not an http:// or https:// URL", v);
            return ERR_INVALID;
        }
        break;
    case OPT_TOKEN:
        for (const char *p = v; *p; p++) {
            if (!isalnum((unsigned char)*p) && !strchr("!#$%&'*+-.^_`|~", *p)) {
                snprintf(why, whylen, "'%s' is not a valid header name", v);
                return ERR_INVALID;
            }
        }
        break;
    case OPT_SECRET:
        if (strlen(v) < 16) {
            snprintf(why, whylen, "too short (at least 16 characters)");
            return ERR_INVALID;
        }
        break;
    case OPT_ID:
        if (strlen(v) > 128) {
            snprintf(why, whylen, "longer than 128 characters");
            return ERR_INVALID;
        }
        for (const char *p = v; *p; p++) {
            if (!isalnum((unsigned char)*p) && !strchr("_-.", *p)) {
                snprintf(why, whylen, "'%s' may only hold letters, digits, '_', '-' and '.'", v);
                return ERR_INVALID;
            }
        }
        break;
    case OPT_SIZE:
        if (units_parse_size(v, &u) || (int64_t)u < o->min || (int64_t)u > o->max) {
            snprintf(why, whylen, "'%s' is not a size between %lld and %lld bytes (e.g. 1MiB)", v,
                     (long long)o->min, (long long)o->max);
            return ERR_INVALID;
        }
        *(size_t *)(base + o->off) = (size_t)u;
        return 0;
    case OPT_MS:
    case OPT_SECONDS:
        if (units_parse_duration_ms(v, &u) ||
            (o->type == OPT_SECONDS
                 ? (u % 1000 != 0 || (int64_t)(u / 1000) < o->min || (int64_t)(u / 1000) > o->max)
                 : ((int64_t)u < o->min || (int64_t)u > o->max))) {
            snprintf(why, whylen, "'%s' is not a duration in range (e.g. 10s, 500ms, 2m)", v);
            return ERR_INVALID;
        }
        *(uint64_t *)(base + o->off) = o->type == OPT_SECONDS ? u / 1000 : u;
        return 0;
    case OPT_INT:
    case OPT_UINT:
        if (units_parse_int(v, o->min, o->max, &i)) {
            snprintf(why, whylen, "'%s' is not a whole number between %lld and %lld", v,
                     (long long)o->min, (long long)o->max);
            return ERR_INVALID;
        }
        if (o->type == OPT_INT)
            *(int64_t *)(base + o->off) = i;
        else
            *(unsigned *)(base + o->off) = (unsigned)i;
        return 0;
    case OPT_BOOL: {
        bool b;
        if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1"))
            b = true;
        else if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0"))
            b = false;
        else {
            snprintf(why, whylen, "'%s' is not on or off", v);
            return ERR_INVALID;
        }
        *(bool *)(base + o->off) = b;
        return 0;
    }
    case OPT_LEVEL:
        if (log_level_parse(v, (enum log_level *)(base + o->off))) {
            snprintf(why, whylen, "'%s' is not one of debug, info, warn, error", v);
            return ERR_INVALID;
        }
        return 0;
    case OPT_FORMAT:
        if (log_format_parse(v, (enum log_format *)(base + o->off))) {
            snprintf(why, whylen, "'%s' is not text or json", v);
            return ERR_INVALID;
        }
        return 0;
    case OPT_MIMES:
        if (check_mimes(v)) {
            snprintf(why, whylen,
                     "'%s' is not a comma-separated list of MIME types (e.g. image/*,text/plain)",
                     v);
            return ERR_INVALID;
        }
        break;
    case OPT_STR:
        break;
    }
    if (!*v) {
        snprintf(why, whylen, "must not be empty");
        return ERR_INVALID;
    }
    char **field = (char **)(base + o->off);
    free(*field);
    *field = xstrdup(v);
    return 0;
}

static const struct opt *opt_find(const char *name, size_t len)
{
    for (size_t i = 0; i < NOPTS; i++) {
        if (strlen(opts[i].name) == len && memcmp(opts[i].name, name, len) == 0)
            return &opts[i];
    }
    return NULL;
}

/* ---- .env and config files ---- */

struct kv {
    char *key, *value; /* owned */
};

struct kv_list {
    struct kv *items; /* owned */
    size_t n;
};

static void kv_free(struct kv_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].key);
        free(l->items[i].value);
    }
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        *--e = '\0';
    return s;
}

/* Reads KEY<sep>VALUE lines (sep '=' for both formats); '#' starts a comment line; values may be
 * wrapped in single or double quotes. Returns 0, 1 when the file does not exist, or
 * CONFIG_EXIT_USAGE with err set. */
static int kv_read(const char *path, struct kv_list *out, bool dotenv, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 1;
    char line[8192];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t ll = strlen(line);
        if (ll == sizeof line - 1 && line[ll - 1] != '\n') {
            snprintf(err, errlen, "%s:%d: line longer than %zu bytes", path, lineno,
                     sizeof line - 2);
            rc = CONFIG_EXIT_USAGE;
            break;
        }
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        if (dotenv && strncmp(s, "export ", 7) == 0)
            s = trim(s + 7);
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected %s", path, lineno,
                     dotenv ? "NAME=value" : "key = value");
            rc = CONFIG_EXIT_USAGE;
            break;
        }
        *eq = '\0';
        char *k = trim(s), *v = trim(eq + 1);
        size_t vl = strlen(v);
        if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
            v[vl - 1] = '\0';
            v++;
        }
        out->items = xrealloc(out->items, (out->n + 1) * sizeof *out->items);
        out->items[out->n].key = xstrdup(k);
        /* Keep the line number with the value for error messages: "key\0" + lineno in key. */
        char tagged[32];
        snprintf(tagged, sizeof tagged, "%d", lineno);
        struct buf b;
        buf_init(&b, (size_t)-1 / 2);
        buf_append_str(&b, tagged);
        buf_append_char(&b, '\0');
        buf_append_str(&b, v);
        out->items[out->n].value = buf_detach(&b, NULL);
        out->n++;
    }
    fclose(f);
    return rc;
}

static const char *kv_value(const struct kv *kv)
{
    return kv->value + strlen(kv->value) + 1;
}

static const char *env_lookup(const struct kv_list *dotenv, const char *name)
{
    const char *v = getenv(name);
    if (v)
        return v;
    for (size_t i = dotenv->n; i-- > 0;) {
        if (strcmp(dotenv->items[i].key, name) == 0)
            return kv_value(&dotenv->items[i]);
    }
    return NULL;
}

/* ---- help ---- */

static void usage(enum config_command cmd, char *out, size_t outlen)
{
    struct buf b;
    buf_init(&b, outlen ? outlen - 1 : 0);
    if (cmd == CONFIG_CMD_NONE) {
        buf_append_str(&b, "chatkitd - a self-hosted ChatKit server and agent-workflow runtime\n\n"
                           "usage: chatkitd serve [flags]     run the server\n"
                           "       chatkitd migrate [flags]   apply database migrations and exit\n"
                           "       chatkitd workflows check DIR   validate workflow files\n"
                           "       chatkitd --version\n"
                           "       chatkitd COMMAND --help    flags of a command\n");
    } else {
        buf_appendf(&b, "usage: chatkitd %s [flags]\n\n",
                    cmd == CONFIG_CMD_SERVE ? "serve" : "migrate");
        buf_append_str(&b, cmd == CONFIG_CMD_SERVE
                               ? "Runs the HTTP server (migrating the database first).\n\n"
                               : "Applies pending database migrations and exits.\n\n");
        buf_append_str(&b, "Each flag --NAME VALUE (or --NAME=VALUE) has an environment twin and "
                           "a config-file key NAME.\nPrecedence: flags > environment (and ./.env) "
                           "> config file > defaults.\n\n");
        for (size_t i = 0; i < NOPTS; i++) {
            const struct opt *o = &opts[i];
            if (!opt_used_by(o, cmd))
                continue;
            buf_appendf(&b, "  --%-20s %s\n  %-22s env %s%s%s%s%s%s\n", o->name, o->help, "",
                        o->env, o->alt_env ? " or " : "", o->alt_env ? o->alt_env : "",
                        o->def ? "; default " : "", o->def ? o->def : "", "");
        }
    }
    snprintf(out, outlen, "%s", b.data ? b.data : "");
    buf_free(&b);
}

/* ---- loading ---- */

static void config_defaults(struct config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    http_limits_default(&cfg->limits);
    char why[256];
    for (size_t i = 0; i < NOPTS; i++) {
        if (opts[i].def)
            opt_apply(cfg, &opts[i], opts[i].def, why, sizeof why);
    }
}

void config_free(struct config *cfg)
{
    char **fields[] = {&cfg->data_dir,
                       &cfg->database,
                       &cfg->config_file,
                       &cfg->openai_api_key,
                       &cfg->openai_base_url,
                       &cfg->workflow_id,
                       &cfg->api_key,
                       &cfg->trust_user_header,
                       &cfg->public_url,
                       &cfg->cors_origins,
                       &cfg->attachment_types,
                       &cfg->model,
                       &cfg->providers_file,
                       &cfg->transcribe_model,
                       &cfg->sessions_upstream,
                       &cfg->chatkit_script_url,
                       &cfg->migrate_from,
                       &cfg->migrate_to,
                       &cfg->ui_dir};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        free(*fields[i]);
        *fields[i] = NULL;
    }
    free(cfg->workflows_dir);
    cfg->workflows_dir = NULL;
}

struct flag_value {
    const struct opt *opt;
    const char *value;
    const char *spelled; /* as typed, for messages */
};

/* Splits argv into the command and flag values; answers --help/--version. */
static int parse_argv(struct config *cfg, int argc, char **argv, struct flag_value *flags,
                      int *nflags, char *out, size_t outlen, char *err, size_t errlen)
{
    bool help = false;
    *nflags = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            help = true;
            continue;
        }
        if (strcmp(a, "--version") == 0) {
            snprintf(out, outlen, "chatkitd %s\n", CHATKITD_VERSION);
            return CONFIG_DONE;
        }
        if (strncmp(a, "--", 2) != 0) {
            if (cfg->command != CONFIG_CMD_NONE) {
                snprintf(err, errlen, "unexpected argument '%s'", a);
                return CONFIG_EXIT_USAGE;
            }
            if (strcmp(a, "serve") == 0)
                cfg->command = CONFIG_CMD_SERVE;
            else if (strcmp(a, "migrate") == 0)
                cfg->command = CONFIG_CMD_MIGRATE;
            else {
                snprintf(err, errlen, "unknown command '%s' (commands: serve, migrate)", a);
                return CONFIG_EXIT_USAGE;
            }
            continue;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const struct opt *o = opt_find(name, nlen);
        if (!o) {
            snprintf(err, errlen, "unknown flag '--%.*s' (see chatkitd serve --help)", (int)nlen,
                     name);
            return CONFIG_EXIT_USAGE;
        }
        const char *v = eq ? eq + 1 : NULL;
        if (!v) {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "--%s: missing value", o->name);
                return CONFIG_EXIT_USAGE;
            }
            v = argv[++i];
        }
        flags[*nflags].opt = o;
        flags[*nflags].value = v;
        flags[*nflags].spelled = a;
        (*nflags)++;
    }
    if (help) {
        usage(cfg->command, out, outlen);
        return CONFIG_DONE;
    }
    if (cfg->command == CONFIG_CMD_NONE) {
        usage(CONFIG_CMD_NONE, out, outlen);
        snprintf(err, errlen, "missing command (serve or migrate)");
        return CONFIG_EXIT_USAGE;
    }
    return 0;
}

/* The config file path is itself a setting: flag, then environment. */
static const char *config_path(const struct flag_value *flags, int nflags,
                               const struct kv_list *dotenv)
{
    const char *path = NULL;
    for (int i = 0; i < nflags; i++) {
        if (strcmp(flags[i].opt->name, "config") == 0)
            path = flags[i].value;
    }
    return path ? path : env_lookup(dotenv, "CHATKITD_CONFIG");
}

static int apply_file(struct config *cfg, const char *path, char *err, size_t errlen)
{
    struct kv_list file = {0};
    int rc = kv_read(path, &file, false, err, errlen);
    if (rc == 1) {
        snprintf(err, errlen, "--config: cannot read '%s'", path);
        return CONFIG_EXIT_USAGE;
    }
    char why[300];
    for (size_t i = 0; !rc && i < file.n; i++) {
        const char *k = file.items[i].key;
        const char *line = file.items[i].value;
        const struct opt *o = opt_find(k, strlen(k));
        if (!o || strcmp(o->name, "config") == 0) {
            snprintf(err, errlen, "%s:%s: unknown setting '%s'", path, line, k);
            rc = CONFIG_EXIT_USAGE;
        } else if (opt_apply(cfg, o, kv_value(&file.items[i]), why, sizeof why)) {
            snprintf(err, errlen, "%s:%s: %s: %s", path, line, k, why);
            rc = CONFIG_EXIT_USAGE;
        }
    }
    kv_free(&file);
    return rc;
}

static int apply_env(struct config *cfg, const struct kv_list *dotenv, char *err, size_t errlen)
{
    char why[300];
    for (size_t i = 0; i < NOPTS; i++) {
        const struct opt *o = &opts[i];
        const char *name = o->env;
        const char *v = env_lookup(dotenv, o->env);
        if (!v && o->alt_env) {
            v = env_lookup(dotenv, o->alt_env);
            name = o->alt_env;
        }
        if (!v || strcmp(o->name, "config") == 0)
            continue;
        /* An empty seed variable (OPENAI_API_KEY= in a template .env) means unset. */
        if (!*v && (o->type == OPT_SECRET || o->alt_env))
            continue;
        if (opt_apply(cfg, o, v, why, sizeof why)) {
            snprintf(err, errlen, "%s: %s", name, why);
            return CONFIG_EXIT_USAGE;
        }
    }
    return 0;
}

int config_load(struct config *cfg, int argc, char **argv, char *out, size_t outlen, char *err,
                size_t errlen)
{
    config_defaults(cfg);
    if (outlen)
        out[0] = '\0';
    struct flag_value *flags = xcalloc((size_t)argc + 1, sizeof *flags);
    struct kv_list dotenv = {0};
    int nflags, rc = parse_argv(cfg, argc, argv, flags, &nflags, out, outlen, err, errlen);
    if (!rc) {
        rc = kv_read(".env", &dotenv, true, err, errlen);
        if (rc == 1)
            rc = 0;
    }
    const char *path = rc ? NULL : config_path(flags, nflags, &dotenv);
    if (!rc && path) {
        free(cfg->config_file);
        cfg->config_file = xstrdup(path);
        rc = apply_file(cfg, path, err, errlen);
    }
    if (!rc)
        rc = apply_env(cfg, &dotenv, err, errlen);
    char why[300];
    for (int i = 0; !rc && i < nflags; i++) {
        if (opt_apply(cfg, flags[i].opt, flags[i].value, why, sizeof why)) {
            snprintf(err, errlen, "--%s: %s", flags[i].opt->name, why);
            rc = CONFIG_EXIT_USAGE;
        }
    }
    if (!rc && !cfg->database) {
        struct buf b;
        buf_init(&b, 8192);
        buf_appendf(&b, "sqlite:%s/chatkitd.db", cfg->data_dir);
        cfg->database = buf_detach(&b, NULL);
    }
    free(flags);
    kv_free(&dotenv);
    return rc;
}
