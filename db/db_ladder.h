#ifndef AKSNAP_DB_LADDER_H
#define AKSNAP_DB_LADDER_H

/*
 * db_ladder.h -- which snapshot holds which channel of its pool, and
 * who held it before (migration 0009, table snapshot_channels).  A
 * snapshot may hold several channels of a ladder at once; the column
 * snapshots.channel is kept here as their list in ladder order
 * ("canary,stable"), with promoted_at (latest entry) and demoted_at
 * (latest exit), so that readers of a snapshot row see it unchanged.
 */

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "db/db.h"
#include "job/rules/model.h"

/*
 * db_ladder_holds(db, pool_id, out, n):
 * Every entry of a snapshot of ${pool_id} into a channel, oldest first
 * (${*out} malloc'd, caller frees; NULL when none).  0/-1.
 */
int db_ladder_holds(
    struct db *db, int64_t pool_id, struct channel_hold **out, size_t *n);
/*
 * db_ladder_holds_live(db, pool_id, window, out, n):
 * The part of db_ladder_holds a run's rules read, whatever the store's
 * age: every entry of the pool's active snapshots and of the snapshots
 * holding a channel now, and for each channel ever held its newest
 * entries back to the ${window}-th distinct snapshot not demoted
 * (keep_promoted's generations; 1..LIMIT_KEEP_PROMOTED).  Oldest first,
 * as db_ladder_holds; promotion_plan, promotion_protected,
 * promotion_fallback and promotion_tag answer the same on it for those
 * snapshots.  It reads those entries and hardly more (index seeks, no
 * temporary b-tree): its cost is the pool's present, not its age.  0/-1.
 */
int db_ladder_holds_live(struct db *db, int64_t pool_id, int window,
    struct channel_hold **out, size_t *n);

/*
 * db_ladder_enter(db, snap_id, channel, rung, at):
 * ${snap_id} enters ${channel} of its pool at ${at}; the snapshot that
 * held it leaves it ("replaced").  Nothing changes when it holds it
 * already.  One savepoint: composes with a caller's transaction.  0/-1.
 */
int db_ladder_enter(
    struct db *db, int64_t snap_id, const char *channel, int rung, time_t at);

/*
 * db_ladder_leave(db, snap_id, channel, at, by_hand):
 * ${snap_id} leaves ${channel} (NULL: every channel it holds) at ${at},
 * "demoted" when ${by_hand} (never promoted again by a run), else
 * "replaced".  0/-1 (0 also when it held none of them).
 */
int db_ladder_leave(struct db *db, int64_t snap_id, const char *channel,
    time_t at, int by_hand);

/*
 * db_ladder_adopt(db, snap_id, list, at):
 * `sync` adopted ${snap_id} with the tag aksnap-channel = ${list}
 * ("canary,stable"): it enters each listed channel its pool has no
 * holder for (a held one stays with its holder).  0/-1.
 */
int db_ladder_adopt(
    struct db *db, int64_t snap_id, const char *list, time_t at);

/*
 * db_ladder_query_plan(db, name, buf, len):
 * EXPLAIN QUERY PLAN of db_ladder_holds_live's statement ${name}
 * ("walk", "walk_before": each channel's newest entries; "holder": a
 * channel's holder; "active": the active snapshots' entries;
 * "snapshot": a snapshot's entries), as db_query_plan, for the tests
 * that keep them on their indexes.  0/-1.
 */
int db_ladder_query_plan(
    struct db *db, const char *name, char *buf, size_t len);

#endif
