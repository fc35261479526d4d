#include "auth/hosted.h"

#include "core/buf.h"
#include "core/err.h"
#include "core/json_read.h"
#include "core/json_write.h"
#include "core/xalloc.h"
#include "http/response.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UPSTREAM_BODY_MAX (256 * 1024)

/* One browser request waiting for the upstream answer. */
struct mint {
    struct hosted *h;
    struct http_request *req;
    struct buf request; /* what we sent (libcurl reads it until the call ends) */
};

int hosted_check_config(const char *api_key, const char *workflow_id, char *err, size_t errlen)
{
    if (!api_key || !api_key[0]) {
        snprintf(err, errlen,
                 "--sessions-upstream openai needs OPENAI_API_KEY (or "
                 "--openai-api-key)");
        return ERR_INVALID;
    }
    if (!workflow_id || !workflow_id[0] || strcmp(workflow_id, "wf_tasks") == 0) {
        snprintf(err, errlen,
                 "--sessions-upstream openai needs CHATKIT_WORKFLOW_ID (or "
                 "--workflow-id): the id of your Agent Builder workflow");
        return ERR_INVALID;
    }
    return 0;
}

void hosted_init(struct hosted *h, const struct hosted_config *cfg)
{
    h->cfg = *cfg;
    struct buf b;
    buf_init(&b, 64 * 1024);
    buf_appendf(&b, "Authorization: Bearer %s", cfg->api_key);
    h->auth_header = buf_detach(&b, NULL);
}

void hosted_free(struct hosted *h)
{
    free(h->auth_header);
    h->auth_header = NULL;
}

static void answer_session(struct mint *m, const cJSON *doc)
{
    const char *secret = NULL, *id = NULL;
    int64_t expires = 0;
    if (json_get_str(doc, "client_secret", &secret) || json_get_str(doc, "id", &id)) {
        http_respond_error(m->req, 502, "upstream_invalid",
                           "the ChatKit sessions API answered without a client secret");
        return;
    }
    json_get_int(doc, "expires_at", 0, INT64_MAX, &expires);
    struct buf out;
    buf_init(&out, 64 * 1024);
    struct jw w;
    jw_init(&w, &out);
    jw_obj_begin(&w);
    jw_kv_str(&w, "client_secret", secret);
    jw_kv_str(&w, "session_id", id);
    if (expires)
        jw_kv_int(&w, "expires_at", expires);
    jw_obj_end(&w);
    http_respond_json(m->req, 200, &out);
    buf_free(&out);
}

static void on_done(void *data, int code, int status, const char *body, size_t len,
                    const char *message)
{
    struct mint *m = data;
    cJSON *doc = json_parse(body, len, 32, NULL);
    if (code && !status) {
        log_warn(m->h->cfg.log, "hosted sessions: the upstream is unreachable: %s", message);
        http_respond_error(m->req, 502, "upstream_unavailable",
                           "the ChatKit sessions API cannot be reached: %s", message);
    } else if (status >= 200 && status <= 299 && !code) {
        answer_session(m, doc);
    } else {
        const char *msg = NULL;
        if (json_get_str(json_get(doc, "error"), "message", &msg) != 0)
            msg = NULL;
        int out = status >= 400 && status <= 599 ? status : 502;
        log_warn(m->h->cfg.log, "hosted sessions: upstream answered HTTP %d", status);
        http_respond_error(m->req, out, out < 500 ? "upstream_rejected" : "upstream_error", "%s",
                           msg && msg[0] ? msg : "the ChatKit sessions API failed");
    }
    cJSON_Delete(doc);
    buf_free(&m->request);
    free(m);
}

static void route_mint(struct http_request *req, void *data)
{
    struct hosted *h = data;
    char user[256];
    if (auth_browser_user(h->cfg.auth, req, user, sizeof user))
        return;
    struct buf body, url;
    buf_init(&body, 64 * 1024);
    buf_init(&url, 8192);
    struct jw w;
    jw_init(&w, &body);
    jw_obj_begin(&w);
    jw_key(&w, "workflow");
    jw_obj_begin(&w);
    jw_kv_str(&w, "id", h->cfg.workflow_id);
    jw_obj_end(&w);
    jw_kv_str(&w, "user", user);
    jw_obj_end(&w);
    buf_appendf(&url, "%s/v1/chatkit/sessions", h->cfg.base_url);
    const char *headers[] = {h->auth_header, "OpenAI-Beta: chatkit_beta=v1",
                             "Content-Type: application/json", NULL};
    struct http_call_params p = {.method = "POST",
                                 .url = url.data,
                                 .headers = headers,
                                 .body = body.data,
                                 .body_len = body.len,
                                 .connect_timeout_ms = 10000,
                                 .total_timeout_ms = h->cfg.timeout_ms};
    struct mint *m = xcalloc(1, sizeof *m);
    m->h = h;
    m->req = req;
    m->request = body; /* the call reads it until it ends */
    if (http_fetch(h->cfg.http, &p, UPSTREAM_BODY_MAX, on_done, m)) {
        buf_free(&m->request);
        free(m);
        http_respond_error(req, 502, "upstream_unavailable", "cannot start the upstream call");
    }
    buf_free(&url);
}

int hosted_register_routes(struct hosted *h, struct http_router *r)
{
    return http_router_add(r, "POST", "/api/chatkit/sessions", route_mint, h);
}
