/* config.h - chatkitd's settings: flags, environment, .env, config file, defaults.
 *
 * Every setting has a long flag (--max-body-bytes), an environment twin (CHATKITD_MAX_BODY_BYTES)
 * and a config-file key (max-body-bytes = 1MiB). Precedence: flags > environment > config file >
 * defaults. A `.env` file in the working directory fills environment variables that are not set
 * in the real environment. The seed app's variable names are honoured too: OPENAI_API_KEY,
 * OPENAI_BASE_URL and CHATKIT_WORKFLOW_ID (the CHATKITD_* twin wins when both are set).
 *
 * A bad value is reported as "<where>: <setting>: <reason>" (where = the flag, the variable or
 * file:line) and config_load returns CONFIG_EXIT_USAGE, which main turns into exit status 2.
 */
#ifndef CHATKITD_CONFIG_H
#define CHATKITD_CONFIG_H

#include "core/log.h"
#include "http/server.h"
#include "model/model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum config_command { CONFIG_CMD_NONE, CONFIG_CMD_SERVE, CONFIG_CMD_MIGRATE };

/* config_load results besides 0. */
#define CONFIG_EXIT_USAGE 2 /* bad flag or value: message written to err */
#define CONFIG_DONE       1 /* --help or --version was answered: text written to out */

struct config {
    enum config_command command;
    char listen_host[64];
    int listen_port;
    char *data_dir;          /* owned */
    char *database;          /* owned; "sqlite:<data-dir>/chatkitd.db" unless set */
    char *migrate_from;      /* owned; migrate --from URL, NULL = plain migrate */
    char *migrate_to;        /* owned; migrate --to URL */
    char *config_file;       /* owned; NULL when none */
    char *openai_api_key;    /* owned; NULL when unset (never logged) */
    char *openai_base_url;   /* owned */
    char *workflow_id;       /* owned; the default workflow for new sessions */
    char *workflows_dir;     /* owned; directory of workflow files, NULL = the embedded only */
    char *api_key;           /* owned; admin key for /v1 routes, NULL = routes off */
    char *trust_user_header; /* owned; NULL = cookie identity */
    char *public_url;        /* owned; NULL = not behind a proxy */
    char *cors_origins;      /* owned; comma-separated origins allowed by CORS, NULL = none */
    uint64_t session_ttl_s;  /* browser-facing sessions' lifetime */
    int64_t session_rate;    /* browser-facing sessions' requests per minute */
    int64_t store_readers;
    size_t store_cache_bytes;      /* SQLite page cache per connection */
    int64_t max_running_turns;     /* engine admission: running turns at most (0 = no limit) */
    uint64_t memory_trim_ms;       /* how often freed memory goes back while idle; 0 = never */
    int64_t max_turn_writes;       /* turns' store writes in flight at most (0 = no limit) */
    int64_t store_pool;            /* PostgreSQL connections */
    uint64_t statement_timeout_ms; /* PostgreSQL statement_timeout */
    size_t attachment_max_bytes;   /* largest uploaded file */
    char *attachment_types;        /* owned; comma-separated MIME types, subtype may be "*" */
    uint64_t attachment_ttl_s;     /* uploads never attached to a message are removed after it */
    char *ui_dir;                  /* owned; serve the UI from this directory, NULL = embedded */
    struct http_limits limits;
    char *model;              /* owned; NULL = decided by main (see --model) */
    char *providers_file;     /* owned; NULL = no compat providers */
    char *transcribe_model;   /* owned; NULL = dictation off */
    char *sessions_upstream;  /* owned; "openai" or NULL */
    char *chatkit_script_url; /* owned */
    struct model_limits model_limits;
    int64_t model_retries;
    int64_t model_max_steps;
    bool model_chain_responses;
    enum log_level log_level;
    enum log_format log_format;
    bool access_log;
};

/* Fills cfg from argv (argv[0] is the program), the environment (getenv), `.env` in the working
 * directory and the config file. Returns 0, CONFIG_DONE (help/version text in out), or
 * CONFIG_EXIT_USAGE (message in err). cfg must be released with config_free in every case. */
int config_load(struct config *cfg, int argc, char **argv, char *out, size_t outlen, char *err,
                size_t errlen);
void config_free(struct config *cfg);
/* Parses "HOST:PORT" or "[v6]:PORT"; 0 or ERR_INVALID. */
int config_parse_listen(const char *s, char *host, size_t hostlen, int *port);

#endif
