/* strlist.h - walking comma-separated setting values ("a, b,c").
 *
 * Lists such as --cors-origins and --attachment-types are plain text; this is the one place that
 * splits them: items are separated by commas, surrounding spaces are not part of an item, and
 * empty items are skipped.
 */
#ifndef CHATKITD_STRLIST_H
#define CHATKITD_STRLIST_H

#include <stdbool.h>
#include <stddef.h>

/* Advances *cursor past the next item; true with the item in *item (*len bytes), false at the
 * end of the list. Start with *cursor = the list (NULL counts as empty). */
bool strlist_next(const char **cursor, const char **item, size_t *len);

#endif
