/*
 * json_stream.c -- a JSON document written a member at a time.
 *
 * jansson indents a value nested d deep by 2 d spaces on every line but
 * its first; dumping each member alone (indented from 0) and indenting
 * its every line after the first by 2 d gives the same bytes, for the
 * cost of one member's tree at a time.
 */
#include "job/base/json_stream.h"

#include <stdlib.h>
#include <string.h>

int
json_stream_member(
    FILE *out, const char *sep, int depth, const char *name, json_t *v)
{
	char *s = v != NULL
	    ? json_dumps(
	          v, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY)
	    : NULL;
	const char *p, *nl;

	json_decref(v);
	if (s == NULL)
		return -1;
	fprintf(out, "%s%*s", sep, depth * 2, "");
	if (name != NULL)
		fprintf(out, "\"%s\": ", name);
	/* a line at a time, each after the first indented */
	for (p = s; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		fwrite(p, 1, (size_t)(nl + 1 - p), out);
		fprintf(out, "%*s", depth * 2, "");
	}
	fputs(p, out);
	free(s);
	return 0;
}

void
json_stream_array_end(FILE *out, int depth, size_t n)
{
	if (n > 0)
		fprintf(out, "\n%*s]", depth * 2, "");
	else
		fputs("]", out);
}
