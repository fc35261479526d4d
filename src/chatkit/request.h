/* request.h - decoding and validating ChatKit protocol requests (spec §1.2, §5).
 *
 * POST /chatkit carries {type, params, metadata?}. Everything a handler needs is checked here,
 * before any stream starts or anything is stored: malformed JSON, a non-object body, a missing
 * `params`, an unknown `type`, wrong field types and a missing `input` are all rejected with a
 * sentence naming the field (the caller answers 400). Unknown extra fields are ignored.
 *
 * Views (strings, JSON nodes) point into `doc`, which the request owns.
 */
#ifndef CHATKITD_CHATKIT_REQUEST_H
#define CHATKITD_CHATKIT_REQUEST_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ck_type {
    CK_THREADS_CREATE,
    CK_THREADS_ADD_USER_MESSAGE,
    CK_THREADS_ADD_CLIENT_TOOL_OUTPUT,
    CK_THREADS_ADD_STRUCTURED_INPUT,
    CK_THREADS_RETRY_AFTER_ITEM,
    CK_THREADS_CUSTOM_ACTION,
    CK_THREADS_GET_BY_ID,
    CK_THREADS_LIST,
    CK_THREADS_UPDATE,
    CK_THREADS_DELETE,
    CK_THREADS_SYNC_CUSTOM_ACTION,
    CK_ITEMS_LIST,
    CK_ITEMS_FEEDBACK,
    CK_ATTACHMENTS_CREATE,
    CK_ATTACHMENTS_DELETE,
    CK_INPUT_TRANSCRIBE,
    CK_TYPE_COUNT
};

#define CK_PAGE_DEFAULT 20
#define CK_PAGE_MAX     100
#define CK_MAX_DEPTH    64 /* JSON nesting accepted in a request */

struct ck_request {
    enum ck_type type;
    bool streaming; /* answered with an event stream */
    cJSON *doc;     /* owned: the parsed body */
    const cJSON *params;
    const char *thread_id; /* every request that names a thread */
    const char *item_id;   /* retry, structured input, custom actions (may be NULL) */
    const cJSON *input;    /* user message input (create, add_user_message) */
    const cJSON *result;   /* client tool output: any JSON, null included */
    const cJSON *action;   /* custom actions: the action object */
    const char *action_type;
    const cJSON *payload;       /* action payload; NULL when absent or null */
    const char *input_status;   /* structured input: "answered" | "skipped" */
    const cJSON *input_answers; /* structured input: id -> {values, skipped}; may be NULL */
    const char *title;          /* threads.update */
    const cJSON *item_ids;      /* items.feedback: non-empty array of strings */
    const char *kind;           /* items.feedback: positive | negative */
    const char *name;           /* attachments.create */
    const char *mime_type;      /* attachments.create, input.transcribe */
    int64_t size;               /* attachments.create */
    const char *attachment_id;  /* attachments.delete */
    const char *audio_base64;   /* input.transcribe */
    int limit;                  /* lists: 1..CK_PAGE_MAX */
    bool desc;                  /* lists: order */
    const char *after;          /* lists: cursor, NULL = start */
};

/* Parses and validates body. 0 on success (free with ck_request_free), else ERR_INVALID with a
 * message in err naming the problem ("params.thread_id must be a string"). */
int ck_request_decode(const char *body, size_t len, struct ck_request *out, char *err,
                      size_t errlen);
void ck_request_free(struct ck_request *r);
/* The protocol name of a type ("threads.create"). */
const char *ck_type_name(enum ck_type t);
/* True for the six streaming request types. */
bool ck_type_streams(enum ck_type t);

#endif
