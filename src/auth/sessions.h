/* sessions.h - ChatKit sessions: minting, cancelling, and resolving client secrets.
 *
 * Routes (shapes: spec/chatkit-client.md §6):
 *   POST /api/chatkit/sessions            browser-facing (the seed app's route); the user comes
 *                                         from the trusted proxy header or the chatkitd_uid cookie
 *   GET  /api/chatkit/session             the bearer's own session, public fields only
 *   POST /v1/chatkit/sessions             OpenAI's shape, admin API key (off when no key is set)
 *   POST /v1/chatkit/sessions/{id}/cancel OpenAI's shape, admin API key
 *
 * Other modules protect their routes with auth_with_session(): it resolves the Authorization
 * bearer to its session through the store and answers 401 (unknown, expired, cancelled) or 429
 * (over the session's per-minute budget) itself, calling back only for a usable session.
 */
#ifndef CHATKITD_AUTH_SESSIONS_H
#define CHATKITD_AUTH_SESSIONS_H

#include "auth/ratelimit.h"
#include "auth/session_cache.h"
#include "core/log.h"
#include "http/request.h"
#include "http/router.h"
#include "store/store.h"
#include "workflow/catalog.h"

#include <stdbool.h>
#include <stdint.h>

struct auth_config {
    struct store *store;                      /* not owned */
    const struct logger *log;                 /* not owned */
    const struct workflow_catalog *workflows; /* not owned */
    const char *default_workflow;             /* for sessions that name none */
    const char *trust_user_header;            /* NULL: cookie identity */
    bool secure_cookies;                      /* served over https (public URL) */
    const char *admin_key;                    /* NULL: the /v1 session routes are off */
    uint64_t browser_ttl_s;                   /* lifetime of browser-minted sessions */
    int browser_rate;                         /* their requests per minute */
    bool hosted_sessions; /* POST /api/chatkit/sessions is served by hosted.c instead */
    bool shared_rate;     /* several replicas: rate limits are counted in the database
                           * (STORE_RATE_TAKE) instead of in this process */
};

struct auth {
    struct auth_config cfg;
    struct ratelimit rl;
    struct session_cache cache; /* secret hash -> session, for a few seconds */
};

void auth_init(struct auth *a, const struct auth_config *cfg);
void auth_free(struct auth *a);
/* Registers the session routes listed above. */
int auth_register_routes(struct auth *a, struct http_router *r);

/* The browser's user id (trusted header, or the chatkitd_uid cookie, set on the response when
 * new); 0, or -1 after answering the request (401/400/503) itself. */
int auth_browser_user(struct auth *a, struct http_request *req, char *user, size_t userlen);

/* Checks the admin API key (Authorization: Bearer <CHATKITD_API_KEY>); 0 when it matches,
 * otherwise answers 401 itself and returns -1. Only for routes registered when a key is set. */
int auth_require_admin(struct auth *a, struct http_request *req);

/* Called on the loop with the bearer's session (valid during the call only). */
typedef void (*auth_session_cb)(struct http_request *req, const struct store_session *session,
                                void *data);
/* Resolves req's bearer secret; calls cb for an active session within its rate, otherwise
 * answers the request itself (401/429/503). */
void auth_with_session(struct auth *a, struct http_request *req, auth_session_cb cb, void *data);
/* The same for a secret the caller found elsewhere (GET /files/{id}?token=, for <img src>, which
 * cannot send headers); secret (len bytes) need only live during the call. */
void auth_with_secret(struct auth *a, struct http_request *req, const char *secret, size_t len,
                      auth_session_cb cb, void *data);

#endif
