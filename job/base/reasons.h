#ifndef AKSNAP_REASONS_H
#define AKSNAP_REASONS_H

/*
 * reasons.h -- a decision's reasons as the store keeps them (one string)
 * and as --json shows them (an array of strings, DESIGN.md section 3).
 *
 * The store joins a plan's or a run's reasons with "; " and retention's
 * reason words with "," ("last,daily,weekly"); a reason's own text may hold
 * ", " ("unchanged since X (image, Kubernetes 1.30.5)"), so commas split
 * only a part that is a list of words without spaces.
 */

#include <jansson.h>
#include <stddef.h>

/*
 * reasons_json(joined):
 * A new JSON array of the reasons in ${joined} (NULL or "" gives []), each
 * trimmed; the caller owns it.  NULL only when out of memory.
 */
json_t *reasons_json(const char *joined);

/*
 * reasons_each(joined, cb, ctx):
 * Call ${cb} with each reason of ${joined} (NULL or "" gives none), as
 * reasons_json's elements: ${n} bytes at ${p}, trimmed, not NUL-ended;
 * ${cb} returning non-zero stops.  0, or -1 when ${cb} stopped.
 */
int reasons_each(const char *joined,
    int (*cb)(void *ctx, const char *p, size_t n), void *ctx);

#endif
