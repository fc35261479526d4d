#include "auth/sessions.h"

#include "auth/secret.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json_read.h"
#include "core/json_write.h"
#include "core/xalloc.h"
#include "http/response.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USER_COOKIE         "chatkitd_uid"
#define USER_PREFIX         "usr_"
#define SESSION_PREFIX      "cksess_"
#define API_DEFAULT_TTL_S   600 /* OpenAI's default: 10 minutes */
#define API_DEFAULT_RATE    10  /* OpenAI's default requests per minute */
#define MAX_TTL_S           (30 * 86400)
#define MAX_STATE_VARIABLES 64
#define MAX_STATE_STRING    4096
#define BODY_MAX_DEPTH      16

/* What a mint request asked for, validated. Strings point into the parsed body. */
struct mint_params {
    const char *user;
    const char *workflow_id;
    const char *workflow_version;
    const cJSON *state_variables;
    bool tracing;
    int64_t ttl_s;
    int64_t rate;
    bool titling;
    bool upload_enabled;
    int64_t upload_max_mb;
    int64_t upload_max_files;
    bool history_enabled;
    int64_t history_recent; /* 0 = unlimited */
};

/* One mint in flight: the store job and what the answer needs. Owned by itself; freed after
 * the answer. */
struct mint {
    struct store_job job;
    struct auth *auth;
    struct http_request *req;
    char secret[SECRET_MAX];
    bool api;        /* /v1 shape */
    bool set_cookie; /* a new browser identity */
};

/* Sessions resolved in the last seconds skip the store; see session_cache.h for why this is
 * safe (expiry is checked on every use, local cancels drop the entry). */
#define SESSION_CACHE_TTL_US (5 * 1000000LL)
#define SESSION_CACHE_MAX    100000

void auth_init(struct auth *a, const struct auth_config *cfg)
{
    a->cfg = *cfg;
    ratelimit_init(&a->rl, 1000000);
    session_cache_init(&a->cache, SESSION_CACHE_MAX, SESSION_CACHE_TTL_US);
}

void auth_free(struct auth *a)
{
    ratelimit_free(&a->rl);
    session_cache_free(&a->cache);
}

static const char *session_status(const struct store_session *s, int64_t now_s)
{
    if (s->cancelled_us)
        return "cancelled";
    return s->expires_at <= now_s ? "expired" : "active";
}

/* ---- validation ---- */

static int bad_request(struct http_request *req, const char *fmt, const char *field)
{
    http_respond_error(req, 400, "invalid_request", fmt, field);
    return -1;
}

/* Reads an optional boolean member; answers 400 on a wrong type. */
static int opt_bool(struct http_request *req, const cJSON *o, const char *key, const char *path,
                    bool *out)
{
    if (json_get_bool(o, key, out) < 0)
        return bad_request(req, "%s must be a boolean", path);
    return 0;
}

static int opt_int(struct http_request *req, const cJSON *o, const char *key, const char *path,
                   int64_t min, int64_t max, int64_t *out)
{
    if (json_get_int(o, key, min, max, out) < 0) {
        http_respond_error(req, 400, "invalid_request",
                           "%s must be a whole number between %lld and %lld", path, (long long)min,
                           (long long)max);
        return -1;
    }
    return 0;
}

static int opt_obj(struct http_request *req, const cJSON *o, const char *key, const char *path,
                   const cJSON **out)
{
    *out = NULL;
    if (json_get_obj(o, key, out) < 0)
        return bad_request(req, "%s must be an object", path);
    return 0;
}

static int check_text(struct http_request *req, const char *s, size_t max, const char *path)
{
    size_t len = strlen(s);
    if (len == 0 || len > max) {
        http_respond_error(req, 400, "invalid_request", "%s must be 1 to %zu characters", path,
                           max);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return bad_request(req, "%s must not contain control characters", path);
    }
    return 0;
}

static int parse_workflow(struct http_request *req, const cJSON *body, struct mint_params *p)
{
    const cJSON *wf;
    if (opt_obj(req, body, "workflow", "workflow", &wf))
        return -1;
    if (!wf)
        return 0;
    int rc = json_get_str(wf, "id", &p->workflow_id);
    if (rc < 0 || rc == 1)
        return bad_request(req, "%s is required and must be a string", "workflow.id");
    if (check_text(req, p->workflow_id, STORE_WORKFLOW_ID_MAX - 1, "workflow.id"))
        return -1;
    if (json_get_str(wf, "version", &p->workflow_version) < 0)
        return bad_request(req, "%s must be a string", "workflow.version");
    if (p->workflow_version &&
        check_text(req, p->workflow_version, STORE_VERSION_MAX - 1, "workflow.version"))
        return -1;
    const cJSON *tracing;
    if (opt_obj(req, wf, "tracing", "workflow.tracing", &tracing) ||
        opt_bool(req, tracing, "enabled", "workflow.tracing.enabled", &p->tracing))
        return -1;
    if (opt_obj(req, wf, "state_variables", "workflow.state_variables", &p->state_variables))
        return -1;
    int n = 0;
    for (const cJSON *v = p->state_variables ? p->state_variables->child : NULL; v; v = v->next) {
        if (++n > MAX_STATE_VARIABLES)
            return bad_request(req, "%s may hold at most 64 variables", "workflow.state_variables");
        if (strlen(v->string) == 0 || strlen(v->string) > 64)
            return bad_request(req, "%s keys must be 1 to 64 characters",
                               "workflow.state_variables");
        if (!cJSON_IsString(v) && !cJSON_IsNumber(v) && !cJSON_IsBool(v))
            return bad_request(req, "%s values must be strings, numbers or booleans",
                               "workflow.state_variables");
        if (cJSON_IsString(v) && strlen(v->valuestring) > MAX_STATE_STRING)
            return bad_request(req, "%s string values must be at most 4096 characters",
                               "workflow.state_variables");
    }
    return 0;
}

static int parse_configuration(struct http_request *req, const cJSON *body, struct mint_params *p)
{
    const cJSON *cc, *titling, *upload, *history;
    if (opt_obj(req, body, "chatkit_configuration", "chatkit_configuration", &cc))
        return -1;
    if (opt_obj(req, cc, "automatic_thread_titling",
                "chatkit_configuration.automatic_thread_titling", &titling) ||
        opt_bool(req, titling, "enabled", "chatkit_configuration.automatic_thread_titling.enabled",
                 &p->titling) ||
        opt_obj(req, cc, "file_upload", "chatkit_configuration.file_upload", &upload) ||
        opt_bool(req, upload, "enabled", "chatkit_configuration.file_upload.enabled",
                 &p->upload_enabled) ||
        opt_int(req, upload, "max_file_size", "chatkit_configuration.file_upload.max_file_size", 1,
                512, &p->upload_max_mb) ||
        opt_int(req, upload, "max_files", "chatkit_configuration.file_upload.max_files", 1, 1000,
                &p->upload_max_files) ||
        opt_obj(req, cc, "history", "chatkit_configuration.history", &history) ||
        opt_bool(req, history, "enabled", "chatkit_configuration.history.enabled",
                 &p->history_enabled) ||
        opt_int(req, history, "recent_threads", "chatkit_configuration.history.recent_threads", 1,
                1000000, &p->history_recent))
        return -1;
    return 0;
}

static int parse_expiry(struct http_request *req, const cJSON *body, struct mint_params *p)
{
    const cJSON *ea;
    if (opt_obj(req, body, "expires_after", "expires_after", &ea))
        return -1;
    if (!ea)
        return 0;
    const char *anchor = NULL;
    if (json_get_str(ea, "anchor", &anchor) < 0 || (anchor && strcmp(anchor, "created_at") != 0))
        return bad_request(req, "%s must be \"created_at\"", "expires_after.anchor");
    if (json_get_int(ea, "seconds", 1, MAX_TTL_S, &p->ttl_s) != 0) {
        http_respond_error(req, 400, "invalid_request",
                           "expires_after.seconds is required and must be a whole number between "
                           "1 and %d",
                           MAX_TTL_S);
        return -1;
    }
    return 0;
}

/* Parses and validates a mint body; on failure the request has been answered. */
static int parse_mint_body(struct http_request *req, bool api, cJSON **doc, struct mint_params *p)
{
    *doc = NULL;
    size_t off = 0;
    if (req->body.len == 0) {
        if (api)
            return bad_request(req, "%s: a JSON body with user and workflow is required", "body");
        return 0;
    }
    *doc = json_parse(req->body.data, req->body.len, BODY_MAX_DEPTH, &off);
    if (!*doc) {
        http_respond_error(req, 400, "invalid_json", "the body is not valid JSON (at byte %zu)",
                           off);
        return -1;
    }
    if (!cJSON_IsObject(*doc))
        return bad_request(req, "%s must be a JSON object", "the body");
    if (parse_workflow(req, *doc, p) || parse_configuration(req, *doc, p) ||
        parse_expiry(req, *doc, p))
        return -1;
    if (api) {
        const cJSON *rl;
        int rc = json_get_str(*doc, "user", &p->user);
        if (rc != 0)
            return bad_request(req, "%s is required and must be a string", "user");
        if (check_text(req, p->user, STORE_USER_ID_MAX - 1, "user"))
            return -1;
        if (!p->workflow_id)
            return bad_request(req, "%s is required", "workflow.id");
        if (opt_obj(req, *doc, "rate_limits", "rate_limits", &rl) ||
            opt_int(req, rl, "max_requests_per_1_minute", "rate_limits.max_requests_per_1_minute",
                    1, 100000, &p->rate))
            return -1;
    }
    return 0;
}

/* ---- JSON answers ---- */

static char *configuration_json(const struct mint_params *p)
{
    struct buf b;
    buf_init(&b, 1024);
    struct jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    jw_key(&w, "automatic_thread_titling");
    jw_obj_begin(&w);
    jw_kv_bool(&w, "enabled", p->titling);
    jw_obj_end(&w);
    jw_key(&w, "file_upload");
    jw_obj_begin(&w);
    jw_kv_bool(&w, "enabled", p->upload_enabled);
    jw_kv_int(&w, "max_file_size", p->upload_max_mb);
    jw_kv_int(&w, "max_files", p->upload_max_files);
    jw_obj_end(&w);
    jw_key(&w, "history");
    jw_obj_begin(&w);
    jw_kv_bool(&w, "enabled", p->history_enabled);
    jw_key(&w, "recent_threads");
    if (p->history_recent)
        jw_int(&w, p->history_recent);
    else
        jw_null(&w);
    jw_obj_end(&w);
    jw_obj_end(&w);
    return buf_detach(&b, NULL);
}

/* The ChatSession object of OpenAI's API; secret is NULL when it is not known any more (only
 * the mint answer can show it: the server keeps its hash alone). */
static void write_chat_session(struct jw *w, const struct store_session *s, const char *secret)
{
    int64_t now_s = clock_wall_us() / 1000000;
    jw_obj_begin(w);
    jw_kv_str(w, "id", s->id);
    jw_kv_str(w, "object", "chatkit.session");
    jw_kv_int(w, "expires_at", s->expires_at);
    jw_key(w, "client_secret");
    jw_str(w, secret);
    jw_key(w, "workflow");
    jw_obj_begin(w);
    jw_kv_str(w, "id", s->workflow_id);
    jw_key(w, "version");
    jw_str(w, s->workflow_version[0] ? s->workflow_version : NULL);
    jw_key(w, "state_variables");
    if (s->state_variables_json && strcmp(s->state_variables_json, "{}") != 0)
        jw_raw(w, s->state_variables_json, strlen(s->state_variables_json));
    else
        jw_null(w);
    jw_key(w, "tracing");
    jw_obj_begin(w);
    jw_kv_bool(w, "enabled", s->tracing);
    jw_obj_end(w);
    jw_obj_end(w);
    jw_kv_str(w, "user", s->user_id);
    jw_key(w, "rate_limits");
    jw_obj_begin(w);
    jw_kv_int(w, "max_requests_per_1_minute", s->rate_per_min);
    jw_obj_end(w);
    jw_kv_int(w, "max_requests_per_1_minute", s->rate_per_min);
    jw_kv_str(w, "status", session_status(s, now_s));
    jw_key(w, "chatkit_configuration");
    if (s->config_json)
        jw_raw(w, s->config_json, strlen(s->config_json));
    else
        jw_null(w);
    jw_obj_end(w);
}

static void respond_chat_session(struct http_request *req, const struct store_session *s,
                                 const char *secret)
{
    struct buf b;
    buf_init(&b, 64 * 1024);
    struct jw w;
    jw_init(&w, &b);
    write_chat_session(&w, s, secret);
    if (jw_done(&w))
        http_respond_error(req, 500, "internal_error", "could not encode the session");
    else
        http_respond_json(req, 200, &b);
    buf_free(&b);
}

/* ---- minting ---- */

static void mint_done(struct store_job *job)
{
    struct mint *m = job->data;
    struct http_request *req = m->req;
    struct store_session *s = &job->session;
    if (job->status) {
        log_error(m->auth->cfg.log, "req=%s session not stored: %s", req->id, job->error);
        http_respond_error(req, 503, "store_unavailable",
                           "the session could not be stored; try again shortly");
    } else {
        log_info(m->auth->cfg.log, "Created ChatKit session %s for user %s (workflow %s)", s->id,
                 s->user_id, s->workflow_id);
        if (m->api) {
            respond_chat_session(req, s, m->secret);
        } else {
            struct buf b;
            buf_init(&b, 4096);
            struct jw w;
            jw_init(&w, &b);
            jw_obj_begin(&w);
            jw_kv_str(&w, "client_secret", m->secret);
            jw_kv_str(&w, "session_id", s->id);
            jw_kv_int(&w, "expires_at", s->expires_at);
            jw_key(&w, "expires_after");
            jw_obj_begin(&w);
            jw_kv_str(&w, "anchor", "created_at");
            jw_kv_int(&w, "seconds", s->expires_at - s->created_us / 1000000);
            jw_obj_end(&w);
            jw_obj_end(&w);
            http_response_header(req, "Cache-Control", "no-store");
            http_respond_json(req, 200, &b);
            buf_free(&b);
        }
    }
    explicit_bzero(m->secret, sizeof m->secret);
    store_job_clear(job);
    free(m);
}

/* Fills the job's session from validated params and submits it. */
static void mint_submit(struct auth *a, struct http_request *req, const struct mint_params *p,
                        bool api, bool set_cookie)
{
    struct mint *m = xcalloc(1, sizeof *m);
    m->auth = a;
    m->req = req;
    m->api = api;
    m->set_cookie = set_cookie;
    store_job_init(&m->job, STORE_SESSION_CREATE, mint_done, m);
    struct store_session *s = &m->job.session;
    if (id_new(SESSION_PREFIX, s->id) || secret_new(m->secret, s->secret_hash)) {
        free(m);
        http_respond_error(req, 503, "unavailable", "no randomness available");
        return;
    }
    snprintf(s->user_id, sizeof s->user_id, "%s", p->user);
    snprintf(s->workflow_id, sizeof s->workflow_id, "%s", p->workflow_id);
    snprintf(s->workflow_version, sizeof s->workflow_version, "%s",
             p->workflow_version ? p->workflow_version : "");
    s->state_variables_json = p->state_variables ? json_print(p->state_variables) : xstrdup("{}");
    s->config_json = configuration_json(p);
    s->rate_per_min = (int)p->rate;
    s->origin = api ? STORE_ORIGIN_API : STORE_ORIGIN_BROWSER;
    s->tracing = p->tracing;
    s->created_us = clock_wall_us();
    s->expires_at = s->created_us / 1000000 + p->ttl_s;
    int rc = store_submit(a->cfg.store, &m->job);
    if (rc) {
        store_job_clear(&m->job);
        free(m);
        http_respond_error(req, 503, "store_unavailable", "the store is not accepting work");
    }
}

static void mint_defaults(const struct auth *a, struct mint_params *p, bool api)
{
    memset(p, 0, sizeof *p);
    p->workflow_id = a->cfg.default_workflow;
    p->tracing = true;
    p->ttl_s = api ? API_DEFAULT_TTL_S : (int64_t)a->cfg.browser_ttl_s;
    p->rate = api ? API_DEFAULT_RATE : a->cfg.browser_rate;
    p->titling = true;
    p->upload_max_mb = 512;
    p->upload_max_files = 10;
    p->history_enabled = true;
}

/* Rejects workflows this server cannot run before anything is stored. */
static int check_workflow(struct auth *a, struct http_request *req, const struct mint_params *p)
{
    char why[300];
    if (workflow_catalog_check(a->cfg.workflows, p->workflow_id, p->workflow_version, why,
                               sizeof why) == 0)
        return 0;
    http_respond_error(req, 404, "workflow_not_found", "%s", why);
    return -1;
}

/* The browser's user: the trusted proxy header when configured, else our cookie (a new random
 * id when absent or malformed). */
static int browser_user(struct auth *a, struct http_request *req, char *user, size_t userlen,
                        bool *set_cookie)
{
    size_t len;
    *set_cookie = false;
    if (a->cfg.trust_user_header) {
        const char *v = http_request_header(req, a->cfg.trust_user_header, &len);
        if (!v || len == 0) {
            http_respond_error(req, 401, "missing_user",
                               "the %s header is required (your proxy sets it)",
                               a->cfg.trust_user_header);
            return -1;
        }
        if (len >= userlen) {
            http_respond_error(req, 400, "invalid_user", "the %s header is longer than %zu bytes",
                               a->cfg.trust_user_header, userlen - 1);
            return -1;
        }
        for (size_t i = 0; i < len; i++) {
            if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
                http_respond_error(req, 400, "invalid_user",
                                   "the %s header holds control characters",
                                   a->cfg.trust_user_header);
                return -1;
            }
        }
        memcpy(user, v, len);
        user[len] = '\0';
        return 0;
    }
    const char *c;
    if (http_request_cookie(req, USER_COOKIE, &c, &len) && id_is_valid(USER_PREFIX, c, len)) {
        memcpy(user, c, len);
        user[len] = '\0';
        return 0;
    }
    char id[ID_MAX];
    if (id_new(USER_PREFIX, id)) {
        http_respond_error(req, 503, "unavailable", "no randomness available");
        return -1;
    }
    snprintf(user, userlen, "%s", id);
    *set_cookie = true;
    return 0;
}

/* The new browser's id, kept for a year. */
static void set_user_cookie(struct auth *a, struct http_request *req, const char *user)
{
    char cookie[STORE_USER_ID_MAX + 128];
    snprintf(cookie, sizeof cookie,
             USER_COOKIE "=%s; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax%s", user,
             a->cfg.secure_cookies ? "; Secure" : "");
    http_response_header(req, "Set-Cookie", cookie);
}

static void route_browser_mint(struct http_request *req, void *data)
{
    struct auth *a = data;
    struct mint_params p;
    cJSON *doc = NULL;
    char user[STORE_USER_ID_MAX];
    bool set_cookie;
    mint_defaults(a, &p, false);
    if (browser_user(a, req, user, sizeof user, &set_cookie))
        return;
    if (parse_mint_body(req, false, &doc, &p)) {
        cJSON_Delete(doc);
        return;
    }
    p.user = user;
    if (check_workflow(a, req, &p) == 0) {
        if (set_cookie)
            set_user_cookie(a, req, user);
        mint_submit(a, req, &p, false, set_cookie);
    }
    cJSON_Delete(doc);
}

int auth_browser_user(struct auth *a, struct http_request *req, char *user, size_t userlen)
{
    bool set_cookie;
    if (browser_user(a, req, user, userlen, &set_cookie))
        return -1;
    if (set_cookie)
        set_user_cookie(a, req, user);
    return 0;
}

/* The admin key guards server-to-server routes; a wrong key and a missing one look the same. */
int auth_require_admin(struct auth *a, struct http_request *req)
{
    size_t len;
    const char *key = http_request_bearer(req, &len);
    if (key && secret_matches(key, len, a->cfg.admin_key))
        return 0;
    http_response_header(req, "WWW-Authenticate", "Bearer");
    http_respond_error(req, 401, "invalid_api_key",
                       "this route needs Authorization: Bearer <CHATKITD_API_KEY>");
    return -1;
}

static void route_api_mint(struct http_request *req, void *data)
{
    struct auth *a = data;
    struct mint_params p;
    cJSON *doc = NULL;
    if (auth_require_admin(a, req))
        return;
    mint_defaults(a, &p, true);
    p.workflow_id = NULL;
    if (parse_mint_body(req, true, &doc, &p) == 0 && check_workflow(a, req, &p) == 0)
        mint_submit(a, req, &p, true, false);
    cJSON_Delete(doc);
}

/* ---- cancel ---- */

/* A cancel in flight: the session's cache entry is dropped before the write and again after
 * it, so a lookup that raced the write cannot keep the old state cached. Owned by itself. */
struct cancel_call {
    struct store_job job;
    struct auth *auth;
    struct http_request *req;
};

static void cancel_done(struct store_job *job)
{
    struct cancel_call *cc = job->data;
    struct http_request *req = cc->req;
    session_cache_drop_id(&cc->auth->cache, job->session.id);
    if (job->status == ERR_NOT_FOUND)
        http_respond_error(req, 404, "session_not_found", "no session '%s'", job->session.id);
    else if (job->status)
        http_respond_error(req, 503, "store_unavailable", "the store failed: try again shortly");
    else
        respond_chat_session(req, &job->session, NULL);
    store_job_clear(job);
    free(cc);
}

static void route_api_cancel(struct http_request *req, void *data)
{
    struct auth *a = data;
    char id[ID_MAX];
    if (auth_require_admin(a, req))
        return;
    int rc = http_request_param(req, "id", id, sizeof id);
    if (rc != 1 || !id_is_valid(SESSION_PREFIX, id, strlen(id))) {
        http_respond_error(req, 404, "session_not_found", "no such session");
        return;
    }
    session_cache_drop_id(&a->cache, id);
    struct cancel_call *cc = xcalloc(1, sizeof *cc);
    cc->auth = a;
    cc->req = req;
    store_job_init(&cc->job, STORE_SESSION_CANCEL, cancel_done, cc);
    memcpy(cc->job.session.id, id, strlen(id) + 1);
    cc->job.session.cancelled_us = clock_wall_us();
    if (store_submit(a->cfg.store, &cc->job)) {
        free(cc);
        http_respond_error(req, 503, "store_unavailable", "the store is not accepting work");
    }
}

/* ---- resolving a client secret ---- */

struct lookup {
    struct store_job job;
    struct auth *auth;
    struct http_request *req;
    auth_session_cb cb;
    void *data;
};

static void respond_rate_limited(struct http_request *req, const struct store_session *s,
                                 int64_t wait)
{
    char ra[24];
    snprintf(ra, sizeof ra, "%lld", (long long)wait);
    http_response_header(req, "Retry-After", ra);
    http_respond_error(req, 429, "rate_limited",
                       "over %d requests per minute for this session; retry in %llds",
                       s->rate_per_min, (long long)wait);
}

/* A rate check in the database (replicas share the bucket); owns a copy of the session. */
struct rate_check {
    struct store_job job; /* job.session: the session, with owned strings */
    struct auth *auth;
    struct http_request *req;
    auth_session_cb cb;
    void *data;
};

static void rate_checked(struct store_job *job)
{
    struct rate_check *rc = job->data;
    if (job->status) {
        log_error(rc->auth->cfg.log, "req=%s rate check failed: %s", rc->req->id, job->error);
        http_respond_error(rc->req, 503, "store_unavailable",
                           "the store failed: try again shortly");
    } else if (job->affected > 0) {
        respond_rate_limited(rc->req, &job->session, job->affected);
    } else {
        rc->cb(rc->req, &job->session, rc->data);
    }
    store_job_clear(job);
    free(rc);
}

static void rate_check_submit(struct auth *a, struct http_request *req,
                              const struct store_session *s, int64_t now_us, auth_session_cb cb,
                              void *data)
{
    struct rate_check *rc = xcalloc(1, sizeof *rc);
    store_job_init(&rc->job, STORE_RATE_TAKE, rate_checked, rc);
    rc->job.session = *s;
    rc->job.session.state_variables_json =
        s->state_variables_json ? xstrdup(s->state_variables_json) : NULL;
    rc->job.session.config_json = s->config_json ? xstrdup(s->config_json) : NULL;
    rc->job.before_us = now_us;
    rc->auth = a;
    rc->req = req;
    rc->cb = cb;
    rc->data = data;
    if (store_submit(a->cfg.store, &rc->job)) {
        store_job_clear(&rc->job);
        free(rc);
        http_respond_error(req, 503, "store_unavailable", "the store is not accepting work");
    }
}

/* The checks every use of a session passes, cached or not: cancelled, expired, rate. */
static void session_checked(struct auth *a, struct http_request *req, const struct store_session *s,
                            int64_t now_us, auth_session_cb cb, void *data)
{
    if (s->cancelled_us) {
        http_respond_error(req, 401, "session_cancelled", "the session %s was cancelled", s->id);
        return;
    }
    if (s->expires_at <= now_us / 1000000) {
        http_respond_error(req, 401, "session_expired",
                           "the session %s expired; get a new client secret", s->id);
        return;
    }
    if (a->cfg.shared_rate) {
        rate_check_submit(a, req, s, now_us, cb, data);
        return;
    }
    int64_t wait = ratelimit_take(&a->rl, s->id, s->rate_per_min, s->expires_at, now_us);
    if (wait) {
        respond_rate_limited(req, s, wait);
        return;
    }
    cb(req, s, data);
}

static void lookup_done(struct store_job *job)
{
    struct lookup *l = job->data;
    struct http_request *req = l->req;
    int64_t now_us = clock_wall_us();
    if (job->status == ERR_NOT_FOUND) {
        http_response_header(req, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
        http_respond_error(req, 401, "invalid_client_secret", "the client secret is not valid");
    } else if (job->status) {
        log_error(l->auth->cfg.log, "req=%s session lookup failed: %s", req->id, job->error);
        http_respond_error(req, 503, "store_unavailable", "the store failed: try again shortly");
    } else {
        session_cache_put(&l->auth->cache, &job->session, now_us);
        session_checked(l->auth, req, &job->session, now_us, l->cb, l->data);
    }
    store_job_clear(job);
    free(l);
}

void auth_with_session(struct auth *a, struct http_request *req, auth_session_cb cb, void *data)
{
    size_t len;
    const char *secret = http_request_bearer(req, &len);
    if (!secret) {
        http_response_header(req, "WWW-Authenticate", "Bearer");
        http_respond_error(req, 401, "missing_client_secret",
                           "send Authorization: Bearer <client_secret> from POST "
                           "/api/chatkit/sessions");
        return;
    }
    auth_with_secret(a, req, secret, len, cb, data);
}

void auth_with_secret(struct auth *a, struct http_request *req, const char *secret, size_t len,
                      auth_session_cb cb, void *data)
{
    unsigned char hash[SECRET_HASH_LEN];
    int64_t now_us = clock_wall_us();
    secret_hash(secret, len, hash);
    const struct store_session *cached = session_cache_get(&a->cache, hash, now_us);
    if (cached && secret_hash_equal(cached->secret_hash, hash)) {
        session_checked(a, req, cached, now_us, cb, data);
        return;
    }
    struct lookup *l = xcalloc(1, sizeof *l);
    l->auth = a;
    l->req = req;
    l->cb = cb;
    l->data = data;
    store_job_init(&l->job, STORE_SESSION_BY_SECRET, lookup_done, l);
    memcpy(l->job.session.secret_hash, hash, sizeof hash);
    if (store_submit(a->cfg.store, &l->job)) {
        free(l);
        http_respond_error(req, 503, "store_unavailable", "the store is not accepting work");
    }
}

static void own_session(struct http_request *req, const struct store_session *s, void *data)
{
    (void)data;
    respond_chat_session(req, s, NULL);
}

static void route_own_session(struct http_request *req, void *data)
{
    auth_with_session(data, req, own_session, NULL);
}

int auth_register_routes(struct auth *a, struct http_router *r)
{
    int rc = a->cfg.hosted_sessions
                 ? 0
                 : http_router_add(r, "POST", "/api/chatkit/sessions", route_browser_mint, a);
    if (!rc)
        rc = http_router_add(r, "GET", "/api/chatkit/session", route_own_session, a);
    if (!rc && a->cfg.admin_key) {
        rc = http_router_add(r, "POST", "/v1/chatkit/sessions", route_api_mint, a);
        if (!rc)
            rc =
                http_router_add(r, "POST", "/v1/chatkit/sessions/{id}/cancel", route_api_cancel, a);
    }
    return rc;
}
