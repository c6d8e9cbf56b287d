/*
 * db_retain_memo.c -- pool_retain_memo: a pool's last list of keeps, and
 * until when it holds.
 *
 * job/run/prune.c decides a pool's promotions and retention from its
 * active snapshots and channel history (job/rules/actions.c, pure).  When
 * the list was keeps only, it writes a memo (0023): a digest of the
 * inputs the store does not hold, the time, the list's horizon
 * (actions_horizon) and how many keeps.  The other inputs -- the pool's
 * snapshots, channel entries and open decisions -- are guarded by
 * triggers that delete the memo on any change, whoever makes it.  A run
 * that finds the memo holding extends every keep in one UPDATE of
 * decision_open, the same columns ST_DEC_SAME (db/db.c) sets for one,
 * and compares the rows changed with the memo's count: a mismatch (a
 * store edited by hand, a decision text no longer interned) deletes the
 * memo and lets the caller decide again, which writes the same ends over
 * what the UPDATE wrote.
 *
 * The memo is written only when the pool's open keeps (decision_open
 * rows of a snapshot, action keep) are exactly its active snapshots',
 * each just made or extended; the triggers keep it so, and the UPDATE
 * reads a range of decision_open's key alone: one page a pool, whatever
 * the store's age.
 */

#include "db/db_retain_memo.h"

#include "db/db_internal.h"
#include "job/base/log.h"

/* The memo's columns, for row_memo. */
struct memo {
	int found;
	int64_t digest, as_of, until, keeps;
};

static int
row_memo(void *ctx, sqlite3_stmt *s)
{
	struct memo *m = ctx;

	m->found = 1;
	m->digest = sqlite3_column_int64(s, 0);
	m->as_of = sqlite3_column_int64(s, 1);
	m->until = sqlite3_column_int64(s, 2);
	m->keeps = sqlite3_column_int64(s, 3);
	return 0;
}

/* The pool's open keeps (?1 pool), a range of decision_open's key. */
#define OPEN_KEEPS "pool_id = ?1 AND snapshot_id > 0 AND action = 'keep'"

/* The counts db_retain_memo_put checks. */
struct counts {
	int64_t active, open, now;
};

static int
row_counts(void *ctx, sqlite3_stmt *s)
{
	struct counts *c = ctx;

	c->active = sqlite3_column_int64(s, 0);
	c->open = sqlite3_column_int64(s, 1);
	c->now = sqlite3_column_int64(s, 2);
	return 0;
}

static int
memo_forget(struct db *db, int64_t pool_id)
{
	return db_exec(db, "DELETE FROM pool_retain_memo WHERE pool_id = ?1",
	    "forget a retention memo", DB_ARGS(DB_INT(pool_id)));
}

int
db_retain_memo_hit(struct db *db, int64_t pool_id, uint64_t digest,
    time_t as_of, int64_t run_id)
{
	struct memo m = {0, 0, 0, 0, 0};
	int rc;

	rc = db_get_one(db,
	    "SELECT digest, as_of, until, keeps FROM pool_retain_memo "
	    "WHERE pool_id = ?1",
	    "read a retention memo", DB_ARGS(DB_INT(pool_id)), row_memo, &m);
	if (rc < 0)
		return -1;
	if (!m.found || m.digest != (int64_t)digest ||
	    m.as_of > (int64_t)as_of || (int64_t)as_of >= m.until)
		return 0;
	/* ST_DEC_SAME's ends, for every keep at once */
	if (db_exec(db,
	        "UPDATE decision_open SET last_run_id = ?2, "
	        "last_at = max(last_at, ?3), last_slot = NULL "
	        "WHERE " OPEN_KEEPS,
	        "extend the keep decisions",
	        DB_ARGS(DB_INT(pool_id), DB_OPT_INT(run_id), DB_INT(as_of))))
		return -1;
	if (sqlite3_changes(db_sqlite(db)) == m.keeps)
		return 1;
	return memo_forget(db, pool_id) < 0 ? -1 : 0;
}

int
db_retain_memo_put(struct db *db, int64_t pool_id, uint64_t digest,
    time_t as_of, time_t until, int64_t run_id, size_t keeps)
{
	struct counts c = {-1, -1, -1};

	if (db_get_one(db,
	        "SELECT (SELECT count(*) FROM snapshots "
	        "WHERE pool_id = ?1 AND state = 'active'), "
	        "count(*), count(CASE WHEN last_run_id IS ?2 AND snapshot_id "
	        "IN (SELECT id FROM snapshots WHERE pool_id = ?1 AND "
	        "state = 'active') THEN 1 END) "
	        "FROM decision_open WHERE " OPEN_KEEPS,
	        "count a pool's open keeps",
	        DB_ARGS(DB_INT(pool_id), DB_OPT_INT(run_id)), row_counts,
	        &c) < 0)
		return -1;
	/* the open keeps are the active snapshots', each made by this run */
	if (c.active != (int64_t)keeps || c.open != c.active ||
	    c.now != c.active)
		return memo_forget(db, pool_id) < 0 ? -1 : 0;
	if (db_exec(db,
	        "INSERT OR REPLACE INTO pool_retain_memo "
	        "(pool_id, digest, as_of, until, keeps) "
	        "VALUES (?1, ?2, ?3, ?4, ?5)",
	        "remember a pool's keeps",
	        DB_ARGS(DB_INT(pool_id), DB_INT((int64_t)digest), DB_INT(as_of),
	            DB_INT(until), DB_INT((int64_t)keeps))))
		return -1;
	return 1;
}
