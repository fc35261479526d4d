/* input.h - stored thread items -> model input items (spec §16.2), in the neutral
 * Responses-style format of provider.h.
 *
 *   user_message       -> a user message: the text (tags as "@text"), one input_image part per
 *                         image attachment the caller can resolve (other attachments are named
 *                         in a text part); when it is the newest item and quotes text, an extra
 *                         user message about the quoted passage; with tags, an extra user
 *                         message listing the tagged entities.
 *   assistant_message  -> an assistant message with its output_text parts (no annotations).
 *   client_tool_call   -> completed: function_call + function_call_output; pending: nothing.
 *   widget             -> a user message saying the widget was shown, with its JSON.
 *   workflow / task    -> custom tasks with a title or content as "<Task>title: content</Task>".
 *   structured_input   -> a user message with the answers in <StructuredInput>.
 *   hidden_context_item, sdk_hidden_context -> a user message wrapping <HiddenContext>.
 *   generated_image    -> a user message with the image as input_image (nothing without one).
 *   end_of_turn, other -> nothing.
 * Items that are not JSON objects are skipped.
 */
#ifndef CHATKITD_MODEL_INPUT_H
#define CHATKITD_MODEL_INPUT_H

#include "core/buf.h"

#include <stddef.h>

/* Resolves an image attachment to a URL the model can fetch (usually a data: URL), or NULL to
 * describe it in words instead. The returned string stays valid until the conversion ends. */
typedef const char *(*model_image_url_fn)(void *data, const char *attachment_id,
                                          const char *mime_type);

/* Writes the JSON array of input items for items[0..n) (item JSON strings, oldest first) into
 * out. image_url may be NULL. Returns 0 or ERR_TOO_BIG (out's cap). */
int model_input_from_items(const char *const *items, size_t n, model_image_url_fn image_url,
                           void *data, struct buf *out);

/* For models that do not accept images: a copy of input_json (an array of input items) in which
 * every input_image part is an input_text part saying an image was attached but cannot be shown.
 * Returns a heap string the caller frees, or NULL when input_json has no image part or is not a
 * JSON array (the caller then sends it as it is). */
char *model_input_without_images(const char *input_json);

#endif
