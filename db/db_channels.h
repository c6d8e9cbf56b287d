#ifndef AKSNAP_DB_CHANNELS_H
#define AKSNAP_DB_CHANNELS_H

/*
 * db_channels.h -- the store's side of auto-upgrade channels and applies
 * (DESIGN.md section 6): observations that carry the cluster's channels
 * and who changed the pool, and the applies `explain` shows (migration
 * 0005).
 */

#include <stdint.h>
#include <time.h>

#include "db/db.h"

/*
 * db_observation_record(db, run_id, pool_id, at, v, state, o):
 * Record that ${run_id} (0: none) saw pool ${pool_id} at ${at} with versions
 * ${v} (NULL: missing), provisioning ${state} (NULL or "": "missing" without
 * ${v}, else "unknown") and ${o}'s upgrade_channel, node_os_channel and
 * changed_by ("" stored as NULL; ${o} NULL: all three NULL).  The pool's
 * interval in force at ${at} is extended (last_seen, last_run_id, seen)
 * when it records the same facts and ${o} names no changed_by; else a new
 * row begins, in time order even when ${at} is in the past (see the
 * essay of db_channels.c).  0/-1.
 */
int db_observation_record(struct db *db, int64_t run_id, int64_t pool_id,
    time_t at, const struct db_versions *v, const char *provisioning_state,
    const struct db_observation *o);

/*
 * struct db_obs_in_force, db_observation_in_force(db, pool_id, at, v, state,
 * o, out):
 * The pool's interval in force at ${at} (found 0: none), whole, and whether
 * it records the same facts as ${v}, ${state} and ${o}'s channels (same;
 * changed_by is not compared), in one read.  0/-1.
 * db_observation_record_in_force(db, run_id, pool_id, at, v, state, o, f):
 * db_observation_record, given what db_observation_in_force found for the
 * same pool, time and facts (nothing written to the pool's observations
 * between): the interval is not read again.  0/-1.
 */
struct db_obs_in_force {
	int found, same;
	struct db_observation row;
};
int db_observation_in_force(struct db *db, int64_t pool_id, time_t at,
    const struct db_versions *v, const char *provisioning_state,
    const struct db_observation *o, struct db_obs_in_force *out);
int db_observation_record_in_force(struct db *db, int64_t run_id,
    int64_t pool_id, time_t at, const struct db_versions *v,
    const char *provisioning_state, const struct db_observation *o,
    const struct db_obs_in_force *f);

/*
 * db_observation_at(db, pool_id, at, out):
 * The pool's interval in force at ${at}: the newest that began at or
 * before it (what a run --as-of ${at} compares its observation with; for
 * a run at or after the newest, db_observation_latest's row).  1/0/-1.
 */
int db_observation_at(
    struct db *db, int64_t pool_id, time_t at, struct db_observation *out);

/* One apply aksnap carried out (table applies). */
struct db_apply {
	int64_t id, run_id, snapshot_id, pool_id; /* 0: none */
	char target[512]; /* ARM id of the pool or cluster */
	char kind[24]; /* upgrade upgrade-node-image create create-cluster */
	time_t at;
	int rollback, cross_region;
	struct db_versions from, to; /* kubernetes and node image only */
};

/* db_apply_add(db, a): insert ${a} (id ignored).  0/-1. */
int db_apply_add(struct db *db, const struct db_apply *a);

/*
 * db_apply_list(db, snapshot_id, cb, ctx):
 * Every apply of ${snapshot_id}, oldest first; ${cb} returning non-zero
 * stops.  0/-1.
 */
int db_apply_list(struct db *db, int64_t snapshot_id,
    int (*cb)(void *ctx, const struct db_apply *a), void *ctx);

#endif
