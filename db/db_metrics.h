#ifndef AKSNAP_DB_METRICS_H
#define AKSNAP_DB_METRICS_H

/*
 * db_metrics.h -- what the Prometheus textfile reads besides the pools'
 * snapshots and observations: each pool's latest outcome and the runs
 * that covered every configured pool (migration 0003).
 */

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "db/db.h"

/*
 * db_pool_outcome_set(db, pool_id, run_id, at, failed):
 * Record that ${pool_id} failed (1) or not (0) in run ${run_id} (as_of
 * ${at}), replacing its previous outcome.  0/-1 (logged).
 */
int db_pool_outcome_set(
    struct db *db, int64_t pool_id, int64_t run_id, time_t at, int failed);

/*
 * db_pool_outcome_failed(db, pool_id, failed):
 * Set ${failed} to 1 when the last run that acted on ${pool_id} failed
 * for it, else 0 (also when none has).  0/-1 (logged).
 */
int db_pool_outcome_failed(struct db *db, int64_t pool_id, int *failed);

/*
 * db_full_run_add(db, run_id, duration_ms):
 * Mark run ${run_id} as one that covered every configured pool, taking
 * ${duration_ms}.  0/-1 (logged).
 */
int db_full_run_add(struct db *db, int64_t run_id, int64_t duration_ms);

/*
 * db_full_run_last(db, as_of, duration_ms):
 * The newest finished run that covered every configured pool (by start,
 * then id; such a run is of mode run): its as_of and duration.  Reads the
 * runs newest first down to it, whatever the store's age.  1 found, 0
 * none, -1 (logged).
 */
int db_full_run_last(struct db *db, time_t *as_of, int64_t *duration_ms);

/*
 * db_partial_run_last(db, mode, as_of):
 * The as_of of the newest finished run of ${mode} ("run", "snapshot",
 * "prune") that did not cover every configured pool.  1 found, 0 none,
 * -1 (logged).
 */
int db_partial_run_last(struct db *db, const char *mode, time_t *as_of);

/* An active snapshot that holds channels of a pool, as the textfile
 * shows it (db_pool_holders). */
struct db_holder {
	time_t created_at;
	char node_image_version[128];
	char kubernetes_version[32];
};

/*
 * db_pool_holders(db, pool_id, cb, ctx):
 * The active snapshots of ${pool_id} that hold a channel, newest first:
 * ${cb}(ctx, channels, h) for each, ${channels} the channels it holds in
 * rung order, comma-separated (snapshots.channel, which db_ladder keeps
 * equal to its open entries of snapshot_channels; valid during the
 * call), ${h} its creation time and versions.  What db_snapshot_channel
 * answers channel by channel, for the holders that are active, from the
 * one covering index of the pool's active snapshots (the page a run has
 * read for its newest one): not from snapshot_channels, whose entries of
 * a pool grow with its age, nor from the rows of snapshots, scattered
 * over a year's store (issue 16).  ${cb} returning non-zero stops.  0/-1
 * (logged).
 */
int db_pool_holders(struct db *db, int64_t pool_id,
    int (*cb)(void *ctx, const char *channels, const struct db_holder *h),
    void *ctx);

/* db_pool_holders_plan(db, buf, len): its query plan (db_explain;
 * tests). */
int db_pool_holders_plan(struct db *db, char *buf, size_t len);

/* One pool of the store as the textfile counts it (db_metrics_pools). */
struct db_metrics_pool {
	const char *key; /* valid during the callback */
	int64_t pool_id;
	int failed; /* db_pool_outcome_failed */
	time_t last_success; /* db_pool_last_success */
};

/*
 * db_metrics_pools(db, cb, ctx):
 * Every pool of the store in key order (byte order), with its last
 * outcome and its newest success -- what db_pool_outcome_failed and
 * db_pool_last_success answer one pool at a time -- from one statement
 * (each pool's figures are index seeks inside it).  ${cb} returning
 * non-zero stops.  0/-1.
 */
int db_metrics_pools(struct db *db,
    int (*cb)(void *ctx, const struct db_metrics_pool *p), void *ctx);

/*
 * db_metrics_snapshot_counts(db, cb, ctx):
 * Every pool's snapshots per state, in pool id order: ${cb}(ctx,
 * pool_id, state, n) for each pool and state that has any, ${state} the
 * index of the state in db_snapshot_states (rows of another state are
 * not counted) -- what db_pool_snapshot_counts answers one pool at a
 * time, from one walk of the (pool_id, state) index.  ${cb} returning
 * non-zero stops.  0/-1.
 */
int db_metrics_snapshot_counts(struct db *db,
    int (*cb)(void *ctx, int64_t pool_id, int state, long long n), void *ctx);

#endif
