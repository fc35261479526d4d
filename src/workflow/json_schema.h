/* json_schema.h - a small JSON Schema checker: the subset model tool schemas and Widget Builder
 * `jsonSchema` fields use.
 *
 * Supported keywords:
 *   type                  "object" "array" "string" "number" "integer" "boolean" "null", or a
 *                         list of them ("integer" = a number with no fractional part)
 *   properties, required, additionalProperties (false, true or a schema)
 *   items (a schema), minItems, maxItems, uniqueItems
 *   enum, const (deep equality)
 *   minimum, maximum, exclusiveMinimum, exclusiveMaximum (numbers, 2020-12 style), multipleOf
 *   minLength, maxLength (counted in Unicode code points)
 *   pattern (POSIX extended regular expression, unanchored as in JSON Schema)
 *   anyOf, oneOf, allOf, not
 *   $ref to a local definition: "#", "#/$defs/Name" or "#/definitions/Name" (JSON pointer
 *   escapes ~0 ~1 understood)
 *   nullable: true (OpenAPI's spelling of "or null", which some tool schemas carry)
 * Annotations that do not constrain values are accepted and ignored: $schema $id $comment title
 * description default examples format deprecated readOnly writeOnly $defs definitions
 * contentMediaType contentEncoding. Any other keyword is refused by json_schema_validate_schema,
 * so a schema never silently checks less than its author meant.
 *
 * Errors are "<json path of the value>: <reason>", e.g. "$.tasks[2].priority: must be one of
 * \"low\", \"normal\", \"high\"", "$: missing required property 'title'", "$.due: expected
 * string, got number". For anyOf/oneOf the reason lists why the first alternative failed.
 *
 * Bounds: schemas and values nested deeper than JSON_SCHEMA_MAX_DEPTH are refused (ERR_DEPTH);
 * $ref chains are followed at most JSON_SCHEMA_MAX_REFS times per check (ERR_DEPTH), so a
 * self-referencing schema cannot loop.
 *
 * Threads: no state; safe from any thread (regular expressions are compiled per check).
 */
#ifndef CHATKITD_WORKFLOW_JSON_SCHEMA_H
#define CHATKITD_WORKFLOW_JSON_SCHEMA_H

#include <cjson/cJSON.h>
#include <stddef.h>

#define JSON_SCHEMA_MAX_DEPTH 64
#define JSON_SCHEMA_MAX_REFS  1000

/* 0 when value satisfies schema; ERR_INVALID (ERR_DEPTH for the bounds above) with "<path>:
 * <reason>" in err otherwise. The schema should have passed json_schema_validate_schema; a
 * malformed keyword met here is reported as an error, never ignored. */
int json_schema_check(const cJSON *schema, const cJSON *value, char *err, size_t errlen);

/* 0 when schema is a well-formed schema of the supported subset: every keyword known and of the
 * right type, every $ref resolvable, every pattern a valid regular expression. ERR_INVALID
 * otherwise, with "<path in the schema>: <reason>" ("$.properties.due.type: unknown type
 * 'date'", "$.items: unsupported keyword 'prefixItems'"). */
int json_schema_validate_schema(const cJSON *schema, char *err, size_t errlen);

#endif
