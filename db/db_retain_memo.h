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
 * ${as_of} and holds past it (as_of before its horizon), extend the open
 * keep decision of each of the pool's active snapshots to run ${run_id}
 * at ${as_of}, exactly as db_decision_add extends the same decision
 * again, and return 1 when that extended as many as the memo made.
 * Otherwise 0, with the store as it was (a memo that did not hold is
 * deleted, and what the UPDATE did is what deciding again does anyway);
 * -1 on error (logged).  Call it inside the caller's transaction.
 */
int db_retain_memo_hit(struct db *db, int64_t pool_id, uint64_t digest,
    time_t as_of, int64_t run_id);

/*
 * db_retain_memo_put(db, pool_id, digest, as_of, until, run_id, keeps):
 * Remember that pool ${pool_id}'s list at ${as_of} under ${digest} was
 * ${keeps} keeps, one for each of its active snapshots, and holds until
 * ${until}: written only when each active snapshot's open decision is a
 * keep that run ${run_id} made or extended (decision_open), else the
 * pool's memo is deleted.  Call it after the keeps are recorded, in the
 * same transaction.  1 written, 0 not, -1 on error (logged).
 */
int db_retain_memo_put(struct db *db, int64_t pool_id, uint64_t digest,
    time_t as_of, time_t until, int64_t run_id, size_t keeps);

#endif
