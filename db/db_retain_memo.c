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
 * triggers that invalidate the memo on any change, whoever makes it
 * (its horizon set to 0).  A run that finds the memo holding writes one
 * row: the memo's extension (0026: ext_run_id, ext_at), the run and
 * time every open keep of the pool has now reached, which the view
 * decisions, the trigger that closes a range and ST_DEC_SAME (db/db.c)
 * read as the keeps' end when it is of a later run than theirs.  Before
 * a memo is replaced its extension is written into the keeps
 * themselves (memo_flush).
 *
 * The memo is written only when the pool's open keeps (decision_open
 * rows of a snapshot, action keep) are exactly its active snapshots',
 * each just made or extended by the run; the triggers keep it so.  A
 * hit reads and writes the memo's row alone, whatever the store's age
 * and however many snapshots the pool keeps.
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
	/* every open keep's end, in the memo's one row (0026) */
	if (db_exec(db,
	        "UPDATE pool_retain_memo SET ext_run_id = ?2, "
	        "ext_at = max(coalesce(ext_at, ?3), ?3) WHERE pool_id = ?1",
	        "extend the keep decisions",
	        DB_ARGS(DB_INT(pool_id), DB_INT(run_id), DB_INT(as_of))))
		return -1;
	return 1;
}

/*
 * Write pool ${pool_id}'s memo extension into its open keeps of an
 * earlier run, and clear it (0026): what the view decisions showed
 * them ending at, they now hold themselves.
 */
static int
memo_flush(struct db *db, int64_t pool_id)
{
	return db_exec(db,
	           "UPDATE decision_open SET last_run_id = m.ext_run_id, "
	           "last_at = max(decision_open.last_at, m.ext_at) "
	           "FROM pool_retain_memo m WHERE m.pool_id = ?1 AND "
	           "decision_open.pool_id = ?1 AND "
	           "decision_open.snapshot_id > 0 AND "
	           "decision_open.action = 'keep' AND m.ext_run_id > "
	           "coalesce(decision_open.last_run_id, 0)",
	           "write a memo's keeps back", DB_ARGS(DB_INT(pool_id))) ||
	    db_exec(db,
	        "UPDATE pool_retain_memo SET ext_run_id = NULL, "
	        "ext_at = NULL WHERE pool_id = ?1",
	        "write a memo's keeps back", DB_ARGS(DB_INT(pool_id)));
}

int
db_retain_memo_put(struct db *db, int64_t pool_id, uint64_t digest,
    time_t as_of, time_t until, int64_t run_id, size_t keeps)
{
	struct counts c = {-1, -1, -1};

	/* the memo replaced keeps no extension of its own */
	if (memo_flush(db, pool_id))
		return -1;
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
		return db_exec(db,
		           "UPDATE pool_retain_memo SET until = 0 "
		           "WHERE pool_id = ?1",
		           "forget a retention memo",
		           DB_ARGS(DB_INT(pool_id))) < 0
		    ? -1
		    : 0;
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
