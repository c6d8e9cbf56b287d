#ifndef AKSNAP_REPORT_H
#define AKSNAP_REPORT_H

/*
 * report.h -- `aksnap report`: the fleet's record over a window of time,
 * gathered once from the store (report.c) and then rendered as one
 * self-contained HTML page (report_html.c), as JSON (report.c) or as a
 * few lines of text (cmd_report_html.c).  Gathering reads only the store
 * and the configuration, never the network.
 */

#include <jansson.h>
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

struct report {
	time_t as_of; /* the newest scheduled run's as_of (or now) */
	time_t since; /* the window's start */
	const struct tz *tz; /* the configuration's; NULL is UTC */
	char timezone[64]; /* its name */
	char database[PATH_MAX];
	struct report_pool *pools; /* by subscription, group, cluster, key */
	size_t npools;
	size_t nclusters;
	size_t nruns; /* runs in the window */
	struct db_run *failed_runs; /* those that exited non-zero */
	size_t nfailed_runs;
	size_t baselines_old, will_reimage, promotions;
};

struct report_options {
	time_t since; /* the window's start; 0: see since_ago */
	long long since_ago; /* seconds before as_of; 0: 30 days */
	const char *const *pools; /* only these keys (NULL: every pool) */
	size_t npools;
	const char *channel; /* the baseline channel; NULL: each policy's */
};

/*
 * report_gather(db, cfg, opt, out):
 * Read the report from the store ${db}, with the policies, time zone and
 * pool list of ${cfg}: every pool of the store and of the configuration
 * (or only those of ${opt}->pools; a name in neither is an error, logged,
 * returning -2).  Return 0 with a new report in ${*out} (free with
 * report_free), -1 on a store error (logged), -2 on an unknown pool.
 */
int report_gather(struct db *db, const struct config *cfg,
    const struct report_options *opt, struct report **out);

/* report_free(r): release; NULL is fine. */
void report_free(struct report *r);

/* report_cluster_same(a, b): 1 when two pools are in one managed cluster. */
int report_cluster_same(
    const struct report_pool *a, const struct report_pool *b);

/*
 * report_json(r):
 * The report as one JSON object with stable field names (see aksnap(8)):
 * as_of, since, timezone, summary, pools (each with its observations and
 * marks), failed_runs.  Caller json_decref's it.
 */
json_t *report_json(const struct report *r);

/*
 * report_html(out, r):
 * Write the report to ${out} as one HTML page that fetches nothing:
 * inline CSS and SVG, no script.  0, or -1 on a write error.
 */
int report_html(FILE *out, const struct report *r);

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

#endif
