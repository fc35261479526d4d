/* items.h - ChatKit objects as JSON (spec §2-§4): threads, items, events.
 *
 * Serialization follows the protocol's rules (§1.5): null fields are omitted, default lists,
 * objects and booleans are always present, thread metadata is sent as {} whatever it holds, and
 * times are UTC ISO-8601 with a Z. Items are stored exactly as written here, so what a client
 * reads back from items.list is byte-for-byte what it received in thread.item.done.
 */
#ifndef CHATKITD_CHATKIT_ITEMS_H
#define CHATKITD_CHATKIT_ITEMS_H

#include "core/buf.h"
#include "core/json_write.h"
#include "store/store.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

/* The cancellation marker (spec §1.7), stored as an sdk_hidden_context item. */
#define CK_CANCEL_MARKER "The user cancelled the stream. Stop responding to the prior request."

/* Writes a Thread (spec §2.4) with an empty items page unless items_json (a Page) is given. */
void ck_write_thread(struct jw *w, const struct store_thread *t, const char *items_json);
/* Writes the base fields of an item: id, thread_id, created_at, type. The caller adds the rest
 * and closes the object. */
void ck_write_item_head(struct jw *w, const char *id, const char *thread_id, int64_t created_us,
                        const char *type);
/* A user_message item from a validated UserMessageInput; attachments_json is the JSON array of
 * full Attachment objects (or NULL for []). */
void ck_write_user_message(struct jw *w, const char *id, const char *thread_id, int64_t created_us,
                           const cJSON *input, const char *attachments_json);
/* An assistant_message with one output_text part. */
void ck_write_assistant_message(struct jw *w, const char *id, const char *thread_id,
                                int64_t created_us, const char *text, size_t text_len);
/* A widget item; widget_json is the rendered root, copy_text may be NULL. */
void ck_write_widget_item(struct jw *w, const char *id, const char *thread_id, int64_t created_us,
                          const char *widget_json, const char *copy_text);
/* hidden_context_item with JSON content, or sdk_hidden_context with string content. */
void ck_write_hidden_item(struct jw *w, const char *id, const char *thread_id, int64_t created_us,
                          bool sdk, const char *content_json);

/* The text of a user message's input: text parts joined, tags as "@text"; into out. */
int ck_input_text(const cJSON *input, struct buf *out);
/* A thread title from the first user message: the first words up to about 60 bytes, cut on a
 * word and UTF-8 boundary, with an ellipsis when cut; "" when the text is blank. */
void ck_title_from_text(const char *text, size_t len, char *out, size_t outlen);

#endif
