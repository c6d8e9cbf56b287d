#ifndef AKSNAP_DB_READS_H
#define AKSNAP_DB_READS_H

/*
 * db_reads.h -- what the fleet-wide read commands (drift, check,
 * baseline) share: one read transaction around their thousands of
 * per-pool statements, and what one statement over every pool reads
 * instead of one a pool: the pools' ids, the snapshots left pending.
 * Conventions as db.h.
 */

#include <stddef.h>
#include <stdint.h>

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

/* db_pool_ids_free(ids): NULL is fine. */
void db_pool_ids_free(struct db_pool_ids *ids);

/*
 * db_snapshot_pending_each(db, cb, ctx):
 * Call ${cb} for every snapshot left unconfirmed or deleting, by pool
 * id, a pool's unconfirmed ones before its deleting ones, each newest
 * created first (the order db_snapshot_list gives a pool and a state):
 * a seek of snapshots_by_state a state, whatever the number of pools.  ${cb}
 * returning non-zero stops.  0/-1.
 */
int db_snapshot_pending_each(struct db *db,
    int (*cb)(void *ctx, const struct db_snapshot *s), void *ctx);

/* db_snapshot_pending_plan(db, buf, len): its query plan (db_explain). */
int db_snapshot_pending_plan(struct db *db, char *buf, size_t len);

#endif
