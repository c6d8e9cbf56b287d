#ifndef AKSNAP_DB_RETAIN_MEMO_H
#define AKSNAP_DB_RETAIN_MEMO_H

/*
 * db_retain_memo.h -- a pool's last promotion and retention list, when it
 * was keeps only, remembered until something it depends on changes
 * (migrations/0023_retain_memo.sql), so that a run that finds the pool
 * as the last one left it extends those keep decisions in one statement.
 * Used by job/run/prune.c's prune_pool_now.
 */

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct db;

/*
 * db_retain_memo_hit(db, pool_id, digest, as_of, run_id):
 * When pool ${pool_id}'s memo has ${digest}, was decided at or before
 * ${as_of} and holds past it (as_of before its horizon), extend every
 * open keep decision of the pool to run ${run_id} at ${as_of}, as
 * db_decision_add extends the same decision again, by writing the memo's
 * extension (one row), and return 1.  Otherwise 0, nothing written; -1
 * on error (logged).  Call it inside the caller's transaction.
 */
int db_retain_memo_hit(struct db *db, int64_t pool_id, uint64_t digest,
    time_t as_of, int64_t run_id);

/*
 * db_retain_memo_put(db, pool_id, digest, as_of, until, run_id, keeps):
 * Remember that pool ${pool_id}'s list at ${as_of} under ${digest} was
 * ${keeps} keeps, one for each of its active snapshots, and holds until
 * ${until}: written only when each active snapshot's open decision is a
 * keep that run ${run_id} made or extended and the pool has no other
 * open keep, else the pool's memo no longer holds.  The last memo's
 * extension is written into the keeps first.  Call it after the keeps
 * are recorded, in the same transaction.  1 written, 0 not, -1 on error
 * (logged).
 */
int db_retain_memo_put(struct db *db, int64_t pool_id, uint64_t digest,
    time_t as_of, time_t until, int64_t run_id, size_t keeps);

#endif
