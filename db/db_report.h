#ifndef AKSNAP_DB_REPORT_H
#define AKSNAP_DB_REPORT_H

/*
 * db_report.h -- the queries behind `aksnap report`: the time the store
 * speaks for, the journal entries a timeline marks (taken, promoted,
 * demoted, deleted, pinned, failed) and their counts, and the runs of the
 * report's window.  The summary reads every pool's counts at once
 * (db_report_sums: one statement, and one a channel, whatever the number
 * of pools); the
 * rows are read pool by pool later, by a statement prepared once in a
 * struct db_report and reset between pools.  Read-only.  Conventions as
 * db.h.
 */

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "db/db.h"

struct db_report;

/*
 * db_report_open(db, out):
 * Open a read transaction on ${db} (every query of the report, until
 * db_report_close, reads one state of the store) in a new ${*out} that
 * holds the report's per-pool statements, prepared when first used
 * (free with db_report_close, which ends the transaction; ${db} must
 * outlive it).  0/-1.
 */
int db_report_open(struct db *db, struct db_report **out);

/* db_report_close(q): finalize, end the transaction; NULL is fine. */
void db_report_close(struct db_report *q);

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
	time_t snapshot_created; /* its created_at; 0 when none */
	char reasons[256];
	char run_mode[16]; /* "run", "promote", "pin"...; "" when unknown */
};

/*
 * db_report_events(q, pool_id, key, since, cb, ctx):
 * Call ${cb} for each decision about pool ${pool_id} (whose key the
 * store holds as ${key}: its reasons name it) whose run range
 * reaches ${since} or later and whose action is one of those of struct
 * db_report_event (the journal's keep and skip entries are left out: they
 * mark nothing), oldest first: a seek of each of the partial indexes
 * decisions_marks_by_pool_time, decisions_promotions_by_pool_time and
 * decisions_failures_by_pool_time (0021).  ${cb} returning non-zero
 * stops.  0/-1.
 */
int db_report_events(struct db_report *q, int64_t pool_id, const char *key,
    time_t since, int (*cb)(void *ctx, const struct db_report_event *e),
    void *ctx);

/*
 * db_report_snapshot_counts(q, pool_id, n, pinned):
 * How many of pool ${pool_id}'s snapshots are active, into ${*n}, and
 * how many of those pinned, into ${*pinned}: counted on the covering
 * index snapshots_active_rows (0019), no row read.  0/-1.
 */
int db_report_snapshot_counts(
    struct db_report *q, int64_t pool_id, size_t *n, size_t *pinned);

/*
 * What db_report_sums gives of one pool (${k}: its index in the caller's
 * ids): its newest observation (kind DB_REPORT_SUM_LIVE: live's state,
 * versions -- node image, Kubernetes -- and channels), or (kind
 * DB_REPORT_SUM_POOL) the snapshot holding its channel now (have_base;
 * base's state, created_at and versions as live's) and how many of the
 * entries db_report_events gives since the window opened are
 * promotions, how many failures.
 */
enum db_report_sum_kind { DB_REPORT_SUM_LIVE, DB_REPORT_SUM_POOL };

struct db_report_sum {
	enum db_report_sum_kind kind;
	size_t k;
	struct db_observation live;
	int have_base;
	struct db_snapshot base;
	size_t promotions, failures;
};

/*
 * db_report_sums(q, since, ids, channels, n, cb, ctx):
 * What `report`'s summary counts of the ${n} stored pools ${ids}
 * (ascending, distinct, none 0) whose baselines are in ${channels}[k]
 * ("" for none), read in a statement for all of them and one for each
 * channel's pools, rather than four a pool: their newest observations
 * (for a report of at least a quarter of the store's pools, every
 * pool's in pool order; else the pools asked for in the table's order,
 * each page read once), then a row a
 * pool with the snapshot
 * holding its channel and its promotions and failures since ${since}
 * (the closed promotions counted on the partial index
 * decisions_promotions_by_pool_time, 0021, without reading a decision's
 * row; the open promotions and failures, decision_open_marks, 0029, and
 * the failures, decisions_failures_by_pool_time, each in one scan of
 * the index for the whole fleet, the failures a pool at a time when
 * the index holds more than 8 a pool).  ${cb} is called for each newest
 * observation (none for a pool never observed), then once for each
 * pool; it returning non-zero stops, returning -1.  0/-1.
 */
int db_report_sums(struct db_report *q, time_t since, const int64_t *ids,
    const char *const *channels, size_t n,
    int (*cb)(void *ctx, const struct db_report_sum *s), void *ctx);

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
 * db_report_events, "runs": db_report_runs, "sum-live", "sum-pools",
 * "sum-pools-failed", "sum-open", "sum-failed": db_report_sums'), as
 * db_query_plan, for the tests that keep them on their indexes.  0/-1.
 */
int db_report_query_plan(
    struct db *db, const char *name, char *buf, size_t len);

#endif
