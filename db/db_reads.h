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

#endif
