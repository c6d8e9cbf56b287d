#ifndef AKSNAP_REORDER_H
#define AKSNAP_REORDER_H

/*
 * reorder.h -- texts written in one order, read back in another, without
 * holding them in memory: what a fleet-wide read command uses to read
 * the store in its own order (db_pool_ids_order: each page once) and
 * print in the configuration's or the report's.
 *
 *   struct reorder *ro = reorder_new(n);
 *   for each k: i = order[k];
 *           FILE *f = reorder_begin(ro, i);  write item i's text to f;
 *           reorder_end(ro, i);
 *   for each i: reorder_copy(ro, i, stdout);  (or reorder_read)
 *   reorder_free(ro);
 *
 * The texts go to one unlinked temporary file (tmpfile: $TMPDIR), as
 * large as they are; memory holds two offsets an item.
 */

#include <stddef.h>
#include <stdio.h>

struct reorder;

/*
 * reorder_new(n):
 * Room for the texts of items 0..n-1, none written yet.  NULL when out
 * of memory or no temporary file can be made (logged).
 */
struct reorder *reorder_new(size_t n);

/*
 * reorder_begin(ro, i):
 * Where to write item ${i}'s text (< n, each item once), until
 * reorder_end.  The stream belongs to ${ro}.
 */
FILE *reorder_begin(struct reorder *ro, size_t i);

/* reorder_end(ro, i): item ${i}'s text is written.  0, or -1 on a file
 * error (logged). */
int reorder_end(struct reorder *ro, size_t i);

/*
 * reorder_copy(ro, i, out):
 * Write item ${i}'s text (nothing for an item never written) to ${out}.
 * 0, or -1 on a file error (logged).
 */
int reorder_copy(struct reorder *ro, size_t i, FILE *out);

/*
 * reorder_read(ro, i, len):
 * Item ${i}'s text, NUL-ended, its length in ${*len} (may be NULL): valid
 * until the next reorder_read or reorder_free.  NULL on a file error or
 * when out of memory (logged).
 */
const char *reorder_read(struct reorder *ro, size_t i, size_t *len);

/* reorder_free(ro): close the file, free ${ro}; NULL is fine. */
void reorder_free(struct reorder *ro);

#endif
