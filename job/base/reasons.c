/*
 * reasons.c -- split a stored reasons string into the array --json shows.
 *
 * See reasons.h for the two separators the store uses.  Pure.
 */
#include "job/base/reasons.h"

#include <string.h>

/* Give ${cb} ${p}[0..n) trimmed, unless it is empty. */
static int
part(const char *p, size_t n, int (*cb)(void *ctx, const char *p, size_t n),
    void *ctx)
{
	while (n > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n == 0)
		return 0;
	return cb(ctx, p, n);
}

int
reasons_each(const char *joined, int (*cb)(void *ctx, const char *p, size_t n),
    void *ctx)
{
	const char *p = joined;

	if (p == NULL)
		return 0;
	while (*p != '\0') {
		const char *end = strstr(p, "; ");
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
		int words = memchr(p, ' ', n) == NULL;

		if (words && memchr(p, ',', n) != NULL) {
			const char *q = p;

			while (q < p + n) {
				const char *c =
				    memchr(q, ',', (size_t)(p + n - q));
				size_t w = c != NULL ? (size_t)(c - q)
				                     : (size_t)(p + n - q);

				if (part(q, w, cb, ctx))
					return -1;
				q += w + (c != NULL);
			}
		} else if (part(p, n, cb, ctx)) {
			return -1;
		}
		p += n + (end != NULL ? 2 : 0);
	}
	return 0;
}

/* Append a reason to the array ${ctx}.  0/-1. */
static int
append(void *ctx, const char *p, size_t n)
{
	return json_array_append_new(ctx, json_stringn(p, n));
}

json_t *
reasons_json(const char *joined)
{
	json_t *arr = json_array();

	if (arr != NULL && reasons_each(joined, append, arr)) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}
