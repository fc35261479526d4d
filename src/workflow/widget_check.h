/* widget_check.h - validates a widget tree against the component catalogue.
 *
 * The catalogue is spec/chatkit-protocol.md §8 (with the widget sections of
 * spec/chatkit-client.md §9): every node is an object with a known `type`; its props must be ones
 * that component accepts, with the right JSON type (and the right value for enumerations such as
 * sizes, variants, alignments, radius values and icon names); required props must be present;
 * children must be allowed where they stand (ListViewItem only directly inside ListView,
 * Table.Row only in Table, Table.Cell only in Table.Row, Card/ListView/Basic only at the root or
 * inside Basic, Transition takes a single component); colours must be palette tokens, ramps
 * ("blue-500", "alpha-70"), CSS colours or {light, dark} pairs; action configs must have a string
 * `type` and only the known keys with their allowed values. The root must be Card, ListView or
 * Basic. `key` and `id` (strings) are allowed on every node.
 *
 * The reference client would render unknown props too; chatkitd is stricter on purpose, so a
 * template typo ("colour", "sise") is reported where it is made instead of silently dropped.
 *
 * Errors name the place as a JSON path and say what is wrong, one sentence:
 *   "$.children[2].size: must be one of sm, md, lg"
 *   "$.children[0]: Text needs 'value'"
 *   "$.children[1].children[0]: ListViewItem is allowed only directly inside ListView"
 *
 * Bounds: trees deeper than WIDGET_CHECK_MAX_DEPTH nodes or with more than WIDGET_CHECK_MAX_NODES
 * nodes are refused (ERR_TOO_BIG / ERR_DEPTH).
 *
 * Threads: no state; safe from any thread.
 */
#ifndef CHATKITD_WORKFLOW_WIDGET_CHECK_H
#define CHATKITD_WORKFLOW_WIDGET_CHECK_H

#include <cjson/cJSON.h>
#include <stddef.h>

#define WIDGET_CHECK_MAX_DEPTH 64
#define WIDGET_CHECK_MAX_NODES 20000

/* 0 when root is a valid widget tree; otherwise ERR_INVALID (or ERR_DEPTH / ERR_TOO_BIG) with
 * "<json path>: <reason>" in err (always NUL-terminated when errlen > 0). */
int widget_check(const cJSON *root, char *err, size_t errlen);

#endif
