/*
 * fuzz_notes.c -- release notes: parsing any bytes, diffing them against
 * themselves, and mapping the first line as a node image version.
 *
 * Invariants (a violation aborts): a section is OK only with a reason
 * left empty, and not OK only with one; an unreadable or absent section
 * holds no items; items are sorted; the notes diffed against themselves
 * change nothing; a mapped path has no "..", and the template round trip
 * keeps it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job/rules/notes.h"
#include "tests/fuzz/fuzz.h"

static void
check_notes(const struct notes *n)
{
	for (int s = 0; s < NOTES_NSECTIONS; s++) {
		const struct notes_part *pt = &n->part[s];

		if ((pt->state == NOTES_OK) != (pt->why[0] == '\0'))
			fuzz_fail("fuzz_notes", "state and reason disagree");
		if (pt->state != NOTES_OK && pt->n != 0)
			fuzz_fail("fuzz_notes", "unread section has items");
		for (size_t i = 1; i < pt->n; i++) {
			int c =
			    strcmp(pt->items[i - 1].name, pt->items[i].name);

			if (c > 0 ||
			    (c == 0 &&
			        strcmp(pt->items[i - 1].version,
			            pt->items[i].version) >= 0))
				fuzz_fail("fuzz_notes", "items not sorted");
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct notes n;
	struct notes_diff d;
	char path[256], why[256], url[512], *s, *nl;

	fuzz_quiet();
	if (notes_parse((const char *)data, size, &n) != 0)
		return 0;
	check_notes(&n);
	if (notes_diff(&n, &n, &d) == 0) {
		for (int i = 0; i < NOTES_NSECTIONS; i++)
			if (d.sec[i].n != 0)
				fuzz_fail("fuzz_notes", "self-diff not empty");
		notes_diff_clear(&d);
	}
	notes_clear(&n);

	s = fuzz_strndup(data, size > 200 ? 200 : size);
	nl = strchr(s, '\n');
	if (nl != NULL)
		*nl = '\0';
	if (notes_path(s, path, sizeof(path), why, sizeof(why)) == 0) {
		if (strstr(path, "..") != NULL || path[0] == '/')
			fuzz_fail("fuzz_notes", "path escapes the tree");
		if (notes_url("https://x/{path}.txt", path, url, sizeof(url)) ==
		        0 &&
		    strncmp(url + 10, path, strlen(path)) != 0)
			fuzz_fail("fuzz_notes", "template lost the path");
	} else if (why[0] == '\0') {
		fuzz_fail("fuzz_notes", "refused without a reason");
	}
	free(s);
	return 0;
}
