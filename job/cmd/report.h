#ifndef AKSNAP_REPORT_H
#define AKSNAP_REPORT_H

/*
 * report.h -- `aksnap report`: the fleet's record over a window of time,
 * read from the store pool by pool (report.c) and written as it is read:
 * one self-contained HTML page (report_html.c), JSON (report.c) or a few
 * lines of text (cmd_report_html.c).  Nothing holds every pool: the
 * summary that heads each form is gathered first, in one pass over the
 * pools that keeps only counts and the few names a summary shows; then
 * each pool is read again when its part is written, and dropped.
 * Gathering reads only the store and the configuration, never the
 * network.
 */

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "config/config.h"
#include "db/db.h"

/* What a timeline marks about a snapshot (or a pool). */
struct report_mark {
	time_t at;
	const char *kind; /* taken promoted demoted pruned pinned unpinned
	                     failed missing adopted (static strings) */
	char snapshot[64]; /* "" when about no snapshot */
	char channel[64]; /* promoted, demoted: the channel; else "" */
	long long soak; /* promoted: seconds since it was taken (or since
	                   it entered the channel before); -1 otherwise */
	char reasons[256];
	char mode[16]; /* the run mode that decided it: run, promote, pin */
};

struct report_pool {
	struct db_pool p; /* p.id 0: configured but never seen by a run */
	int configured; /* in the configuration */
	char channel[64]; /* the baseline's channel; "" when none */
	long long warn_baseline_age; /* the policy's; 0 when unknown */

	/* Observations: the one in force when the window opens (if any),
	 * then each change inside it, oldest first. */
	struct db_observation *obs;
	size_t nobs;
	int have_live; /* live: the newest observation */
	struct db_observation live;
	int have_base, have_newest;
	struct db_snapshot base, newest;
	const char *verdict; /* drift_verdict() */
	long long baseline_age; /* as_of - base.created_at */
	int baseline_old; /* older than warn_baseline_age */
	char will_reimage[256]; /* a pool with a baseline: the cluster's
	                           auto-upgrade channel that will move it off
	                           the baseline, and the fix; "" when none */

	struct report_mark *marks; /* oldest first */
	size_t nmarks;
	size_t nsnapshots; /* active in the store now */
	size_t npinned; /* of those, pinned */
	size_t promotions; /* promoted marks in the window */
	size_t failures; /* failed marks in the window */
};

/* drift_verdict()'s verdicts, in the order the summary shows them. */
#define REPORT_NVERDICTS 8
extern const char *const report_verdicts[REPORT_NVERDICTS + 1];

/* A pool a summary card names: its key, and a title or a count. */
#define REPORT_NAMED 8 /* names a card shows; "and N more" after */
struct report_named {
	char key[64];
	char title[256]; /* will_reimage's channel and fix; else "" */
	size_t failures;
};

/* A cluster: its pools are items [first, first + n) of the report. */
struct report_cluster {
	size_t first, n;
	size_t drifting; /* pools not in their baseline */
	size_t promotions;
	size_t verdicts[REPORT_NVERDICTS]; /* pools by report_verdicts */
};

struct report_item; /* a pool of the report, in report order */
struct db_report;

struct report {
	time_t as_of; /* the newest scheduled run's as_of (or now) */
	time_t since; /* the window's start */
	const struct tz *tz; /* the configuration's; NULL is UTC */
	char timezone[64]; /* its name */
	char database[PATH_MAX];

	/* the summary: every pool's counts, none of its rows */
	size_t npools;
	size_t nseen; /* pools a run has seen (in the store) */
	size_t verdicts[REPORT_NVERDICTS]; /* by report_verdicts */
	unsigned char verdict_order[REPORT_NVERDICTS]; /* first seen first */
	size_t nverdict_order;
	size_t drifting; /* pools not in-baseline */
	size_t baselines_old, will_reimage, promotions, failing;
	struct report_named named[3][REPORT_NAMED]; /* old baselines,
	                       will re-image, failing: the first of each */
	json_t *old_keys, *reimage_keys; /* every such pool's key (--json) */
	int with_by; /* an observation of the window says who changed a
	                version: found by the page as it writes the pools */
	struct report_cluster *clusters;
	size_t nclusters;
	size_t nruns; /* runs in the window */
	struct db_run *failed_runs; /* those that exited non-zero */
	size_t nfailed_runs;

	/* what reads the pools again (report_pool_read) */
	struct db *db;
	struct db_report *q;
	const struct config *cfg;
	char channel[64]; /* --channel; "" for each policy's */
	struct report_item *items;
	struct db_pool *extra; /* pools named by --pool that only the
	                          store knows */
	size_t nextra;
	size_t *order; /* the pools' indexes in the store's order */
	int64_t *ids; /* each pool's store id (report order; 0: none) */
};

struct report_options {
	time_t since; /* the window's start; 0: see since_ago */
	long long since_ago; /* seconds before as_of; 0: 30 days */
	const char *const *pools; /* only these keys (NULL: every pool) */
	size_t npools;
	const char *channel; /* the baseline channel; NULL: each policy's */
	/* the page (--html) will be written: nothing to gather for it (its
	 * legend's with_by is found as the page reads the pools) */
	int html;
};

/*
 * report_gather(db, cfg, opt, out):
 * Read the report's summary from the store ${db}, with the policies, time
 * zone and pool list of ${cfg}: every configured pool (or only those of
 * ${opt}->pools, which may also name a pool the configuration no longer
 * has but the store does; a name in neither is an error, logged,
 * returning -2).  ${db} and ${cfg} must outlive the report, which reads
 * its pools again from them.  Return 0 with a new report in ${*out}
 * (free with report_free), -1 on a store error (logged), -2 on an
 * unknown pool.
 */
int report_gather(struct db *db, const struct config *cfg,
    const struct report_options *opt, struct report **out);

/* report_free(r): release; NULL is fine. */
void report_free(struct report *r);

/*
 * report_pool_read(r, i, marks, rp):
 * Read pool ${i} (report order, < r->npools) into ${rp}: what the
 * summary counted, its observations of the window, and with ${marks} its
 * marks.  Release with report_pool_clear (also after a failure).  0/-1.
 */
int report_pool_read(
    struct report *r, size_t i, int marks, struct report_pool *rp);

/* report_pool_clear(rp): release what report_pool_read allocated. */
void report_pool_clear(struct report_pool *rp);

/*
 * report_pools_spooled(r, nparts, render, before, ctx, outs):
 * Read every pool with its marks in the store's order (r->order: each
 * page of the store read about once, where the report's order reads the
 * pages of a pool's window again for every pool) and have ${render}
 * write pool i's text -- what the report's order wants at i, its
 * separators too -- into ${nparts} (at most REPORT_SPOOL_PARTS) unlinked
 * temporary files; then copy each part's texts, in the report's order,
 * to ${outs}[part], ${before} (when not NULL) called first with the part
 * and its stream: what goes between the parts, written once every pool
 * has been rendered.  Memory holds one pool; the temporary files as
 * much as the pools' text.  0, or -1 on a store, render or before
 * (non-zero) or file error (logged).
 */
#define REPORT_SPOOL_PARTS 2
int report_pools_spooled(struct report *r, size_t nparts,
    int (*render)(
        void *ctx, FILE *const *parts, size_t i, const struct report_pool *rp),
    int (*before)(void *ctx, size_t part, FILE *out), void *ctx,
    FILE *const *outs);

/*
 * report_json(out, r):
 * Write the report to ${out} as one compact JSON document with stable
 * field names (see aksnap(8)): as_of, since, timezone, summary on the
 * first line, pools (each with its observations and marks) a line each,
 * failed_runs on the last; pool by pool (report_pools_spooled), each
 * written as read, without jansson.
 * 0, or -1 on a store or write error.
 */
int report_json(FILE *out, struct report *r);

/*
 * report_html(out, r):
 * Write the report to ${out} as one HTML page that fetches nothing:
 * inline CSS and SVG, no script; pool by pool, as read.  0, or -1 on a
 * store or write error.
 */
int report_html(FILE *out, struct report *r);

/*
 * report_changed_by(o):
 * Who changed the versions observation ${o} shows: "aksnap", "auto-upgrade"
 * or "outside"; "" where the store does not say.
 */
const char *report_changed_by(const struct db_observation *o);

/*
 * report_format_local(t, tz, buf, len):
 * ${t} as "YYYY-MM-DD HH:MM" wall time in the loaded zone ${tz} (NULL is
 * UTC), or "-" for 0.
 */
void report_format_local(time_t t, const struct tz *tz, char *buf, size_t len);

/*
 * report_tenths(v, buf, len):
 * ${v} as printf's "%.1f" writes it, into ${buf} (${len} bytes, NUL-ended,
 * truncated as snprintf truncates), without printf for the page's
 * coordinates (report_html.c).  Return the length written.
 */
size_t report_tenths(double v, char *buf, size_t len);

#endif
