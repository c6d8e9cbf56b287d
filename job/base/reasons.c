/*
 * reasons.c -- split a stored reasons string into the array --json shows.
 *
 * See reasons.h for the two separators the store uses.  Pure.
 */
#include "job/base/reasons.h"

#include <string.h>

/* Append ${p}[0..n) trimmed, unless it is empty. */
static int
append(json_t *arr, const char *p, size_t n)
{
	while (n > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n == 0)
		return 0;
	return json_array_append_new(arr, json_stringn(p, n));
}

json_t *
reasons_json(const char *joined)
{
	json_t *arr = json_array();
	const char *p = joined;

	if (arr == NULL || p == NULL)
		return arr;
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

				if (append(arr, q, w)) {
					json_decref(arr);
					return NULL;
				}
				q += w + (c != NULL);
			}
		} else if (append(arr, p, n)) {
			json_decref(arr);
			return NULL;
		}
		p += n + (end != NULL ? 2 : 0);
	}
	return arr;
}
