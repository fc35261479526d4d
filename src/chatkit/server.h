/* server.h - POST /chatkit: the ChatKit protocol over HTTP.
 *
 * Every request is authenticated with the session's client secret (auth_with_session), decoded
 * and validated in full (request.h) and only then answered: the six streaming types through the
 * turn engine as a text/event-stream, the ten others as JSON. Objects of another user are "not
 * found". OPTIONS is answered for CORS with the configured origins (default: same origin only,
 * i.e. no CORS headers at all).
 */
#ifndef CHATKITD_CHATKIT_SERVER_H
#define CHATKITD_CHATKIT_SERVER_H

#include "auth/sessions.h"
#include "chatkit/attachments.h"
#include "chatkit/engine.h"
#include "http/router.h"
#include "store/store.h"

/* Handles custom actions (threads.custom_action through the engine, sync ones directly). */
struct ck_actions;

struct chatkit_config {
    struct store *store;             /* not owned */
    const struct logger *log;        /* not owned */
    struct auth *auth;               /* not owned */
    struct ck_engine *engine;        /* not owned */
    struct attachments *attachments; /* not owned; NULL = attachments.* answer 400 */
    const char *cors_origins;        /* comma-separated allowed origins; NULL = same origin only */
    /* threads.sync_custom_action: answers with an updated item JSON (or NULL) via cb. */
    void (*sync_action)(void *data, const char *user_id, const struct ck_request *req,
                        const struct store_item *sender,
                        void (*cb)(void *cb_data, int status, const char *item_json),
                        void *cb_data);
    void *sync_action_data;
    /* input.transcribe: answers req itself ({"text": ...} or an error); NULL = answered 400
     * transcription_unavailable. creq is valid during the call only. */
    void (*transcribe)(void *data, struct http_request *req, const char *user_id,
                       const struct ck_request *creq);
    void *transcribe_data;
};

struct chatkit {
    struct chatkit_config cfg;
};

void chatkit_init(struct chatkit *ck, const struct chatkit_config *cfg);
/* Registers POST and OPTIONS /chatkit. */
int chatkit_register_routes(struct chatkit *ck, struct http_router *r);

#endif
