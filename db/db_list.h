#ifndef AKSNAP_DB_LIST_H
#define AKSNAP_DB_LIST_H

#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

/*
 * db_snapshot_each(db, pool_id, all, cb, ctx):
 * Call ${cb} for each snapshot of ${pool_id} (0 = every pool), newest
 * created first, one row at a time (nothing is kept between calls: the
 * struct passed to ${cb} is reused).  Without ${all}, only the live ones:
 * every state but deleted, failed and missing (creating, unconfirmed,
 * active, deleting and conflict still stand for something in Azure or
 * need an operator).  ${cb} returning non-zero stops.  0/-1.
 */
int db_snapshot_each(struct db *db, int64_t pool_id, int all,
    int (*cb)(void *ctx, const struct db_snapshot *s), void *ctx);

/*
 * db_snapshot_each_plan(db, pool_id, all, buf, len):
 * SQLite's query plan of that query, one line per step, into ${buf} (a
 * test seam, like db_query_plan).  0/-1.
 */
int db_snapshot_each_plan(
    struct db *db, int64_t pool_id, int all, char *buf, size_t len);

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
