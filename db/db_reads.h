#ifndef AKSNAP_DB_READS_H
#define AKSNAP_DB_READS_H

/*
 * db_reads.h -- what the fleet-wide read commands (drift, check,
 * baseline, report) share: one read transaction around their thousands
 * of per-pool statements, every pool's id read in one statement instead
 * of one a pool (the snapshots left pending: db_list.h), and the order
 * in which to read the pools so that each page is read once.
 * Conventions as db.h.
 */

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "db/db.h"

/*
 * db_read_begin(db):
 * Open a read transaction on ${db}: every statement until db_read_end
 * reads one state of the store, and none takes and drops SQLite's
 * shared lock (and re-reads the file's header) on its own, as a
 * statement outside a transaction does.  Nothing may write in it.  0/-1.
 */
int db_read_begin(struct db *db);

/* db_read_end(db): end that transaction; without one, a no-op. */
void db_read_end(struct db *db);

/*
 * db_pool_ids_load(db, out):
 * Every stored pool's key and id, read in one statement (the keys'
 * index, in order), into a new ${*out} (free with db_pool_ids_free):
 * for a command that looks up thousands of configured pools.  0/-1.
 */
struct db_pool_ids;
int db_pool_ids_load(struct db *db, struct db_pool_ids **out);

/* db_pool_ids_find(ids, key): the id of pool ${key}, 0 when not stored. */
int64_t db_pool_ids_find(const struct db_pool_ids *ids, const char *key);

/*
 * db_pool_ids_order(pool_ids, n, order):
 * The store's order of ${n} pools whose ids are ${pool_ids} (0: not in
 * the store): ${order}[0..n-1] the positions 0..n-1, by id ascending,
 * those not in the store last in their own order.  A run writes its rows
 * pool after pool in id order, so each table's rows (a pool's last
 * observation, its newest snapshot, its baseline) of pools with close
 * ids share pages: a command that reads every pool reads each page once
 * in this order, where the configuration's order (its own, not the
 * store's) would come back to a page after the page cache dropped it
 * (drift at 10,000 pools: 73,496 page reads of 7,475 pages).  The
 * caller owns both arrays.  0, or -1 when out of memory (logged).
 */
int db_pool_ids_order(const int64_t *pool_ids, size_t n, size_t *order);

/* db_pool_ids_free(ids): NULL is fine. */
void db_pool_ids_free(struct db_pool_ids *ids);

/*
 * db_pools_read(db, pool_ids, channels, n, want, cb, ctx):
 * What the fleet-wide commands ask of each of ${n} pools (store ids
 * ${pool_ids}, each once; 0, a pool not in the store, has no facts),
 * read pool after pool in that order,
 * by one statement for the facts ${want}s, whatever ${n} (the baseline:
 * one for each channel ${channels} names; the pools rows, for the key
 * and ARM id the rows carry, read by the first): DB_POOL_OBS
 * its latest observation (db_observation_latest), DB_POOL_NEWEST its
 * newest active snapshot (db_snapshot_newest_active), DB_POOL_BASELINE
 * the snapshot channel ${channels}[k] holds for pool k, whatever its
 * state (db_snapshot_channel), DB_POOL_SUCCESS its last success
 * (db_pool_last_success).  ${cb}(ctx, k, row) is called for k = 0..n-1
 * in order, with the facts of pool k in ${row} (valid during the call;
 * the first two as the pool's row of pool_present names them, 0024);
 * a nonzero return stops the walk and is returned.  0, or -1 on a store
 * error (logged) or when out of memory.  Each statement steps through
 * the pools as given: pass them in the store's order (db_pool_ids_order)
 * for each page to be read once.
 *
 * With DB_POOL_BRIEF the rows carry only what drift and check read, the
 * other fields 0 or "": an observation's observed_at, last_seen, node
 * image and Kubernetes versions, provisioning state and upgrade
 * channels (and its pool's key); a snapshot's id, pool, key, name, ARM
 * id, created_at, versions, state and promoted_at.  DB_POOL_NEWEST_AT
 * (without DB_POOL_NEWEST): the newest active snapshot's id and
 * created_at alone.
 */
enum {
	DB_POOL_OBS = 1,
	DB_POOL_NEWEST = 2,
	DB_POOL_BASELINE = 4,
	DB_POOL_SUCCESS = 8,
	DB_POOL_BRIEF = 16,
	DB_POOL_NEWEST_AT = 32,
};

struct db_pool_read {
	int64_t pool_id;
	int have_obs, have_newest, have_base; /* 1: found, 0: none */
	struct db_observation obs;
	struct db_snapshot newest, base;
	time_t last_success; /* 0: none */
};

typedef int db_pool_read_fn(void *ctx, size_t k, const struct db_pool_read *r);
int db_pools_read(struct db *db, const int64_t *pool_ids,
    const char *const *channels, size_t n, unsigned want, db_pool_read_fn *cb,
    void *ctx);

/* db_pools_read_plan(db, fact, buf, len): the query plan of the statement
 * of ${fact} (one DB_POOL_*), as db_explain gives it (tests).  0/-1. */
int db_pools_read_plan(struct db *db, unsigned fact, char *buf, size_t len);

#endif
