/* hosted.h - the seed app's hosted mode (--sessions-upstream openai): sessions come from
 * OpenAI's hosted ChatKit instead of this server, and the chat page runs the official ChatKit
 * script against them.
 *
 *   POST /api/chatkit/sessions  -> POST {OPENAI_BASE_URL}/v1/chatkit/sessions with
 *        OpenAI-Beta: chatkit_beta=v1, Authorization: Bearer $OPENAI_API_KEY and
 *        {"workflow":{"id":$CHATKIT_WORKFLOW_ID},"user":<the browser's user>}; answers
 *        {"client_secret","session_id","expires_at"}. An upstream error answer is passed on with
 *        its status (4xx stays 4xx, 5xx stays 5xx) and its message; no answer at all is 502.
 * The chat page itself is the web UI's (src/ui/static.h): in hosted mode it loads the official
 * ChatKit script (--chatkit-script-url) and hands it getClientSecret, which calls the route above.
 *
 * The user is the same as in self-hosted mode (trusted header or the chatkitd_uid cookie).
 */
#ifndef CHATKITD_AUTH_HOSTED_H
#define CHATKITD_AUTH_HOSTED_H

#include "auth/sessions.h"
#include "core/log.h"
#include "http/router.h"
#include "net/http_client.h"

#include <stddef.h>
#include <stdint.h>

struct hosted_config {
    struct auth *auth;        /* not owned; knows the browser's user */
    struct http_client *http; /* not owned */
    const struct logger *log; /* not owned */
    const char *base_url;     /* OPENAI_BASE_URL */
    const char *api_key;      /* OPENAI_API_KEY (never logged) */
    const char *workflow_id;  /* CHATKIT_WORKFLOW_ID */
    uint64_t timeout_ms;      /* whole upstream call */
};

struct hosted {
    struct hosted_config cfg;
    char *auth_header; /* owned; "Authorization: Bearer ..." */
};

/* 0 when hosted mode can run with these settings; otherwise ERR_INVALID and a sentence in err
 * naming what is missing. */
int hosted_check_config(const char *api_key, const char *workflow_id, char *err, size_t errlen);
void hosted_init(struct hosted *h, const struct hosted_config *cfg);
void hosted_free(struct hosted *h);
int hosted_register_routes(struct hosted *h, struct http_router *r);

#endif
