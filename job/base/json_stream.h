#ifndef AKSNAP_JSON_STREAM_H
#define AKSNAP_JSON_STREAM_H

/*
 * json_stream.h -- a large JSON document written a member (or an
 * array's element) at a time, byte for byte the document jansson's
 * json_dumps(JSON_INDENT(2)) prints of the whole, without holding the
 * whole: what the fleet-wide read commands print for 10,000 pools.
 *
 * A streamed document:
 *
 *   fputs("{", out);
 *   json_stream_member(out, "\n", 1, "a", json_integer(1));
 *   fputs(",\n  \"list\": [", out);
 *   for each element i:
 *           json_stream_member(out, i > 0 ? ",\n" : "\n", 2, NULL, v);
 *   json_stream_array_end(out, 1, n);
 *   fputs("\n}\n", out);
 */

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/*
 * json_stream_member(out, sep, depth, name, v):
 * Write ${sep}, then "${name}": ${v} (or ${v} alone, an array's element,
 * when ${name} is NULL) as a member of an object nested ${depth} deep in
 * a document indented by two; ${name} is written as it is (a literal,
 * nothing to escape).  Takes ${v}.  0, or -1 when jansson cannot encode
 * it (or ${v} is NULL).
 */
int json_stream_member(
    FILE *out, const char *sep, int depth, const char *name, json_t *v);

/*
 * json_stream_array_end(out, depth, n):
 * Close an array of ${n} elements that is a member nested ${depth} deep
 * (its elements written by json_stream_member at ${depth} + 1).
 */
void json_stream_array_end(FILE *out, int depth, size_t n);

#endif
