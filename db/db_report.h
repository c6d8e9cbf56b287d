#ifndef AKSNAP_DB_REPORT_H
#define AKSNAP_DB_REPORT_H

/*
 * db_report.h -- the queries behind `aksnap report`: every pool of the
 * store, what each ran at the start of the report's window, the journal
 * entries a timeline marks (taken, promoted, demoted, deleted, pinned,
 * failed) and the runs of the window.  Read-only.  Conventions as db.h.
 */

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "db/db.h"

/*
 * db_report_pools(db, out, n):
 * Every pool row of the store, ordered by subscription, resource group,
 * cluster and key (so a cluster's pools are adjacent).  ${*out} is
 * malloc'd (caller frees; NULL when ${*n} is 0).  0/-1.
 */
int db_report_pools(struct db *db, struct db_pool **out, size_t *n);

/*
 * db_report_as_of(db, out):
 * The time the store speaks for: the as_of of the newest scheduled run
 * (mode "run"), else of the newest run of any mode, else 0.  0/-1.
 */
int db_report_as_of(struct db *db, time_t *out);

/*
 * db_report_observation_before(db, pool_id, at, out):
 * The pool's newest observation strictly before ${at}: what it ran when
 * a window starting at ${at} opens.  Every column db_history gives.
 * 1/0/-1.
 */
int db_report_observation_before(
    struct db *db, int64_t pool_id, time_t at, struct db_observation *out);

/* A journal entry that a timeline shows as a mark. */
struct db_report_event {
	int64_t pool_id, snapshot_id, run_id; /* 0 when none */
	time_t at;
	char action[16]; /* create promote demote delete pin unpin fail
	                    missing adopt */
	char snapshot[64]; /* its name; "" when about no snapshot */
	char reasons[256];
	char run_mode[16]; /* "run", "promote", "pin"...; "" when unknown */
};

/*
 * db_report_events(db, pool_id, since, cb, ctx):
 * Call ${cb} for each decision about pool ${pool_id} at or after ${since}
 * whose action is one of those of struct db_report_event (the journal's
 * keep and skip entries are left out: they mark nothing), oldest first.
 * ${cb} returning non-zero stops.  0/-1.
 */
int db_report_events(struct db *db, int64_t pool_id, time_t since,
    int (*cb)(void *ctx, const struct db_report_event *e), void *ctx);

/*
 * db_report_runs(db, since, cb, ctx):
 * Call ${cb} for each run whose as_of is at or after ${since}, oldest
 * first (exit_code -1: still running or crashed).  0/-1.
 */
int db_report_runs(struct db *db, time_t since,
    int (*cb)(void *ctx, const struct db_run *r), void *ctx);

/*
 * db_report_query_plan(db, name, buf, len):
 * EXPLAIN QUERY PLAN of the report's query ${name} ("events": those of
 * db_report_events, "runs": db_report_runs), as db_query_plan, for the
 * tests that keep them on their indexes.  0/-1.
 */
int db_report_query_plan(
    struct db *db, const char *name, char *buf, size_t len);

#endif
