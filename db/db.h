#ifndef AKSNAP_DB_H
#define AKSNAP_DB_H

/*
 * db.h -- the store: one SQLite file holding pools, observations,
 * snapshots, runs and decisions (DESIGN.md section 5).  All SQL lives in
 * db/; every statement binds its parameters.
 *
 * Conventions: functions return 0 on success and -1 on error (logged with
 * sqlite3_errmsg); lookups return 1 (found), 0 (not found) or -1.  Times
 * are Unix seconds (UTC); 0 means unknown/unset.  Not thread-safe: one
 * connection, used by the run's main thread.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "job/base/limits.h"
#include "job/rules/model.h"

struct db;

/* Fixed application_id (PRAGMA application_id): "AKSN". */
#define DB_APPLICATION_ID 0x414b534e

/*
 * db_open(path, out):
 * Open (creating if needed) the store at ${path}: WAL, foreign_keys=ON,
 * busy_timeout 5 s, application_id checked (a foreign file is refused and
 * left untouched), then migrate to the latest schema (each migration in one
 * transaction with its user_version bump).  A database newer than this
 * binary is refused with a clear message.  Return 0 and the handle, or -1.
 */
int db_open(const char *path, struct db **out);

/*
 * db_open_nomigrate(path, out):
 * As db_open but never migrates: refuses a store whose schema is not the
 * latest (for read-only commands that must not change the file).
 */
int db_open_nomigrate(const char *path, struct db **out);

/*
 * db_failed_busy():
 * 1 when the last failure reported by this module was the store being
 * locked by another process past the busy timeout (a temporary failure).
 */
int db_failed_busy(void);

/*
 * db_failed_unusable():
 * 1 when the last db_open or db_open_nomigrate was refused for what the
 * store is -- its directory or file not writable (a writer), a store that
 * fails its integrity check, a damaged or foreign file, a schema newer (or,
 * without migrating, older) than this binary: it needs a person, and
 * nothing was done (exit 2).  0 for other failures (a full disk, I/O).
 */
int db_failed_unusable(void);

/* db_close(db): close; NULL is fine. */
void db_close(struct db *db);

/* db_schema_version(db): PRAGMA user_version, or -1. */
int db_schema_version(struct db *db);
/* db_latest_version(): the highest migration compiled in. */
int db_latest_version(void);

/* db_set_busy_timeout(db, ms): for tests and `run`. */
void db_set_busy_timeout(struct db *db, int ms);

/*
 * db_vacuum(db, before, after):
 * Give the store's free pages back to the file system (SQLite's VACUUM:
 * the store rewritten, packed, through the WAL, so it needs as much free
 * disk again for the while), then checkpoint the WAL into the file and
 * truncate it.  ${before}, ${after}: the store's size in bytes (pages
 * x page size).  0/-1 (logged).
 */
int db_vacuum(struct db *db, long long *before, long long *after);

/* db_backup(db, dest): online backup API into ${dest} (must not exist). 0/-1.
 */
int db_backup(struct db *db, const char *dest);

/* Transactions (BEGIN IMMEDIATE / COMMIT / ROLLBACK).  0/-1. */
int db_begin(struct db *db);
int db_commit(struct db *db);
int db_rollback(struct db *db);

/*
 * db_snapshot_states: every value of snapshots.state, then NULL:
 * "creating", "active", "deleting", "deleted", "failed", "missing",
 * "unconfirmed" (a PUT whose answer and GET did not show the snapshot:
 * settled by the next run, never counted as active), "conflict" (tagged
 * aksnap-managed but not provably ours: never touched).
 */
#define DB_SNAPSHOT_NSTATES 8
extern const char *const db_snapshot_states[DB_SNAPSHOT_NSTATES + 1];

struct db_counts {
	long long pools, observations, snapshots, runs, decisions;
	/* in db_snapshot_states order */
	long long snapshots_by_state[DB_SNAPSHOT_NSTATES];
};
int db_counts(struct db *db, struct db_counts *out);

/* ---- runs ---- */

struct db_run {
	int64_t id;
	time_t started_at, finished_at, as_of;
	char mode[16]; /* run, dry-run, snapshot, prune, promote, demote, pin,
	                * unpin, apply, sync */
	int exit_code; /* -1 while running or if it crashed */
	int observed, taken, skipped, deleted, promoted, failed;
};

/* db_run_start(db, started_at, as_of, mode, run_id): insert a runs row. */
int db_run_start(struct db *db, time_t started_at, time_t as_of,
    const char *mode, int64_t *run_id);
/* db_run_finish(db, run): set finished_at, exit_code and counts of run->id. */
int db_run_finish(struct db *db, const struct db_run *run);
/* db_run_last(db, mode, out): newest finished run of ${mode} (NULL = any).
 * 1/0/-1. */
int db_run_last(struct db *db, const char *mode, struct db_run *out);

/* ---- pools ---- */

struct db_pool {
	int64_t id;
	char key[64];
	char subscription[64];
	char resource_group[91];
	char cluster[64];
	char nodepool[13];
	char arm_id[LIMIT_ARM_ID];
	char location[64];
};

/*
 * db_pool_sync(db, pc, pool_id):
 * Insert or update the pools row for the configured pool ${pc} (matched by
 * key), computing its ARM id.  Return 0 with its id.
 */
int db_pool_sync(struct db *db, const struct pool_conf *pc, int64_t *pool_id);

/*
 * db_pool_sync_many(db, pcs, n, ids):
 * db_pool_sync for each of ${pcs}[0..n), ${ids}[i] the id of ${pcs}[i]'s
 * row: the pools table read once in key order, merged with the pools
 * sorted by key, instead of one read a pool; only a pool new or changed
 * is written (by db_pool_sync).  The same pools as the last call (same
 * order), no pools row changed since: their ids from one row instead
 * (db_pool_memo.h), nothing read or written else.  0, or -1 (logged).
 */
int db_pool_sync_many(
    struct db *db, const struct pool_conf *const *pcs, size_t n, int64_t *ids);
int db_pool_set_location(struct db *db, int64_t pool_id, const char *location);
/* db_pool_get(db, key, out): 1/0/-1. */
int db_pool_get(struct db *db, const char *key, struct db_pool *out);

/* ---- observations ---- */

/*
 * One row of observations: an interval of equal observations of a pool
 * (migration 0012).  observed_at and run_id are its first sighting,
 * last_seen and last_run_id its last, seen how many observations it holds.
 */
struct db_observation {
	int64_t id, pool_id, run_id;
	char pool_key[64];
	time_t observed_at; /* first seen */
	time_t last_seen;
	int64_t last_run_id; /* 0: none (or its run was deleted) */
	long long seen;
	struct db_versions v;
	char provisioning_state[32]; /* "missing" when the cluster or pool was
	                                not found */
	/* the cluster's autoUpgradeProfile then; "" when it had none */
	char upgrade_channel[32];
	char node_os_channel[32];
	/* "aksnap", "auto-upgrade", "outside"; "" when nothing changed */
	char changed_by[16];
};

/*
 * db_observation_add(db, run_id, pool_id, at, v, state):
 * db_observation_record without channels or changed_by (db_channels.h):
 * extends the pool's interval in force at ${at} when equal, else a new
 * row.  ${v} NULL for missing.  0/-1.
 */
int db_observation_add(struct db *db, int64_t run_id, int64_t pool_id,
    time_t at, const struct db_versions *v, const char *provisioning_state);
/*
 * db_observation_latest(db, pool_id, out):
 * The pool's newest interval (what it runs now; last_seen is when it was
 * last observed).  1/0/-1.
 */
int db_observation_latest(
    struct db *db, int64_t pool_id, struct db_observation *out);

/*
 * db_history(db, pool_id, since, changes_only, cb, ctx):
 * Call ${cb} for each interval of ${pool_id} (0 = every pool) last seen at
 * or after ${since}, oldest first per pool; with ${changes_only}, only
 * intervals that began at or after ${since} and whose versions differ
 * from that pool's previous interval (the first one counts as a change;
 * a provisioningState or channel of its own does not).  Every pool's come
 * from one statement, pool by pool in id order (a seek of the
 * observations' index a pool).  ${cb} returning non-zero stops.  0/-1.
 */
int db_history(struct db *db, int64_t pool_id, time_t since, int changes_only,
    int (*cb)(void *ctx, const struct db_observation *o), void *ctx);

/* ---- snapshots ---- */

struct db_snapshot {
	int64_t id, pool_id;
	char pool_key[64];
	char name[64];
	char arm_id[LIMIT_ARM_ID];
	time_t slot; /* schedule slot it was taken for (0: by hand / adopted) */
	time_t created_at; /* ARM systemData.createdAt, else when recorded */
	struct db_versions v;
	char state[16]; /* one of db_snapshot_states */
	int pinned;
	char channel[64]; /* "" when not promoted */
	time_t promoted_at, demoted_at;
	char error[256]; /* last failure (code and message), "" if none */
};

/*
 * db_snapshot_intent(db, pool_id, name, arm_id, slot, now, snap_id):
 * Record the intent to create ${name} (state creating), before the PUT.
 * If a row of that pool and name exists in state failed (or creating, or
 * unconfirmed: a PUT of the same name is the same snapshot), it is reused
 * and set to creating.  0 with its id, or -1.
 */
int db_snapshot_intent(struct db *db, int64_t pool_id, const char *name,
    const char *arm_id, time_t slot, time_t now, int64_t *snap_id);
/* db_snapshot_set_active(db, id, created_at, v): the PUT (or a GET) succeeded.
 */
int db_snapshot_set_active(
    struct db *db, int64_t id, time_t created_at, const struct db_versions *v);
/* db_snapshot_set_state(db, id, state, error): error may be NULL. */
int db_snapshot_set_state(
    struct db *db, int64_t id, const char *state, const char *error);
int db_snapshot_set_pinned(struct db *db, int64_t id, int pinned);
/*
 * db_snapshot_set_channel(db, id, channel, at):
 * ${channel} non-NULL: promote (channel, promoted_at = at, demoted_at = 0);
 * NULL: demote (channel kept in history via decisions; column cleared,
 * demoted_at = at).
 */
int db_snapshot_set_channel(
    struct db *db, int64_t id, const char *channel, time_t at);
/* db_snapshot_get(db, id, out): 1/0/-1. */
int db_snapshot_get(struct db *db, int64_t id, struct db_snapshot *out);
/* db_snapshot_find(db, ref, out): by name, ARM id (case-insensitive) or numeric
 * id. 1/0/-1. */
int db_snapshot_find(struct db *db, const char *ref, struct db_snapshot *out);
/*
 * db_snapshot_list(db, pool_id, state, out, n):
 * Snapshots of ${pool_id} (0 = all pools) in ${state} (NULL = any), newest
 * created first.  ${*out} is malloc'd (caller frees; NULL when n == 0).
 */
int db_snapshot_list(struct db *db, int64_t pool_id, const char *state,
    struct db_snapshot **out, size_t *n);
/* db_snapshot_newest_active(db, pool_id, out): 1/0/-1. */
int db_snapshot_newest_active(
    struct db *db, int64_t pool_id, struct db_snapshot *out);
/* db_snapshot_channel(db, pool_id, channel, out): the pool's snapshot in
 * ${channel}. 1/0/-1. */
int db_snapshot_channel(struct db *db, int64_t pool_id, const char *channel,
    struct db_snapshot *out);
/*
 * db_snapshot_adopt(db, pool_id, s, snap_id):
 * Insert a snapshot found in Azure but missing from the store (sync), as
 * given in ${s} (name, arm_id, slot, created_at, v, state, channel).
 */
int db_snapshot_adopt(struct db *db, int64_t pool_id,
    const struct db_snapshot *s, int64_t *snap_id);

/*
 * db_slot_taken(db, pool_id, slot):
 * 1 if the pool has a snapshot for ${slot} in any state but failed, or a
 * recorded skip decision for it; 0 if the slot is still due; -1 on error.
 */
int db_slot_taken(struct db *db, int64_t pool_id, time_t slot);

/* ---- decisions ---- */

/*
 * A decision holds over a run range (DESIGN.md 5): run_id, at and slot are
 * the first run's that decided so, last_run_id, last_at and last_slot the
 * latest one's (equal to the first ones for a decision taken once).
 */
struct db_decision {
	int64_t id, run_id, pool_id, snapshot_id; /* snapshot_id 0: none */
	int64_t last_run_id;
	char pool_key[64];
	char snapshot_name[64];
	time_t at, slot;
	time_t last_at, last_slot;
	char action[16]; /* create skip keep delete promote demote pin unpin
	                    fail */
	char reasons[1024]; /* a promotion carries its changelog summary */
	char fingerprint[128];
};

/*
 * db_decision_add(db, d):
 * Record ${d} (id and last_* ignored; snapshot_id 0 = NULL).  When the
 * last decision about the same snapshot (or, for snapshot_id 0, the pool's
 * last decision naming no snapshot) has the same action, reasons and
 * fingerprint, its run range is extended to ${d}'s run, time and slot
 * instead of adding a row: the store grows with changed decisions, not
 * with runs.  0/-1.
 */
int db_decision_add(struct db *db, const struct db_decision *d);
/*
 * db_decision_last(db, snapshot_id, out):
 * The newest decision about ${snapshot_id} (action, reasons, fingerprint
 * filled).  1/0/-1.
 */
int db_decision_last(
    struct db *db, int64_t snapshot_id, struct db_decision *out);
/*
 * db_decision_list(db, snapshot_id, cb, ctx):
 * Every decision about ${snapshot_id}, oldest first.
 */
int db_decision_list(struct db *db, int64_t snapshot_id,
    int (*cb)(void *ctx, const struct db_decision *d), void *ctx);

/* ---- reporting (metrics, check) ---- */

/* db_runs_failed(db, n): how many finished runs exited non-zero (1). */
int db_runs_failed(struct db *db, long long *n);
/*
 * db_pool_last_success(db, pool_id, at):
 * The newest of: created_at of the pool's snapshots that were taken
 * (active, deleting, deleted) and the time of its recorded skips; 0 when
 * none.  0/-1.
 */
int db_pool_last_success(struct db *db, int64_t pool_id, time_t *at);
/* db_pool_snapshot_counts(db, pool_id, counts): counts[i] for
 * db_snapshot_states[i]. */
int db_pool_snapshot_counts(
    struct db *db, int64_t pool_id, long long counts[DB_SNAPSHOT_NSTATES]);

/*
 * db_promoted_history(db, pool_id, ids, max, n):
 * The pool's snapshots that were ever promoted (the current holder and
 * the ones it replaced), newest promotion first, at most ${max}.  0/-1.
 */
int db_promoted_history(
    struct db *db, int64_t pool_id, int64_t *ids, size_t max, size_t *n);

/* ---- report commands ---- */

/*
 * db_decision_explain(db, snap, cb, ctx):
 * Every decision about ${snap} (a row read by db_snapshot_get/find),
 * oldest first, as db_decision_list, plus the pool's skip decisions taken
 * while ${snap} was its newest snapshot (a skip names no snapshot, but it
 * was taken because the pool still matched that one).  ${cb} also gets
 * the mode of the decision's run ("run", "pin", ...; "" when the run row
 * is gone); returning non-zero stops.  0/-1.
 */
int db_decision_explain(struct db *db, const struct db_snapshot *snap,
    int (*cb)(void *ctx, const struct db_decision *d, const char *run_mode),
    void *ctx);

#endif
