/*
 * db_list.c -- the snapshots `aksnap list` shows, streamed.
 *
 * A list of every pool's snapshots over years of runs is the one question
 * whose answer grows with the store's age, so it is stepped row by row
 * into a callback instead of collected: the command renders each row as
 * it comes.  The default answer (live snapshots) is read through indexes:
 * a pool's through snapshots_by_pool_time, every pool's through the
 * partial index snapshots_live (migration 0010), whose WHERE the query
 * below repeats word for word -- SQLite uses a partial index only when
 * the query's WHERE contains the index's.  `list --all` reads the table.
 * `check` reads the snapshots left pending (unconfirmed, deleting) of
 * every pool in one statement, a seek of snapshots_by_state.
 *
 * The statements come from the connection's cache (db_stmt): a list is
 * made once per command, and a callback may ask its own questions.
 */
#include "db/db_list.h"

#include <stdio.h>

#include "db/db_internal.h"

/* Exactly the WHERE of the index snapshots_live (0010). */
#define LIVE "s.state NOT IN ('deleted', 'failed', 'missing')"
#define ORDER " ORDER BY s.created_at DESC, s.id DESC"

/* The query of db_snapshot_each, into ${sql}. */
static void
list_sql(int64_t pool_id, int all, char *sql, size_t len)
{
	const char *where;

	if (pool_id != 0)
		where = all ? "WHERE s.pool_id = ?1"
		            : "WHERE s.pool_id = ?1 AND " LIVE;
	else
		where = all ? "" : "WHERE " LIVE;
	snprintf(sql, len, "%s%s%s", db_snap_select(), where, ORDER);
}

/* A row to a caller's callback (each_row). */
struct each {
	int (*cb)(void *ctx, const struct db_snapshot *s);
	void *ctx;
};

static int
row_each(void *ctx, sqlite3_stmt *s)
{
	const struct each *e = ctx;
	struct db_snapshot snap;

	db_row_snapshot(&snap, s);
	return e->cb(e->ctx, &snap) != 0;
}

/* Step ${sql} (bound to ${pool_id} unless 0) into ${cb}, one row at a
 * time.  0/-1 (logged with ${what}). */
static int
each_row(struct db *db, const char *sql, int64_t pool_id, const char *what,
    int (*cb)(void *ctx, const struct db_snapshot *s), void *ctx)
{
	struct each e = {cb, ctx};

	if (db_each_row(db, sql, what,
	        pool_id != 0 ? DB_ARGS(DB_INT(pool_id)) : DB_NO_ARGS, row_each,
	        &e) < 0)
		return -1;
	return 0;
}

int
db_snapshot_each(struct db *db, int64_t pool_id, int all,
    int (*cb)(void *ctx, const struct db_snapshot *s), void *ctx)
{
	char sql[1024];

	list_sql(pool_id, all, sql, sizeof(sql));
	return each_row(db, sql, pool_id, "list snapshots", cb, ctx);
}

int
db_snapshot_each_plan(
    struct db *db, int64_t pool_id, int all, char *buf, size_t len)
{
	char sql[1024];

	list_sql(pool_id, all, sql, sizeof(sql));
	return db_explain(db, sql, buf, len);
}

/* The query of db_snapshot_pending_each, into ${sql}: the two states
 * check reports, a seek of snapshots_by_state each. */
static void
pending_sql(char *sql, size_t len)
{
	snprintf(sql, len,
	    "%sWHERE s.state IN ('unconfirmed', 'deleting') ORDER BY "
	    "s.pool_id, s.state = 'deleting', s.created_at DESC, s.id DESC",
	    db_snap_select());
}

int
db_snapshot_pending_each(
    struct db *db, int (*cb)(void *ctx, const struct db_snapshot *s), void *ctx)
{
	char sql[1024];

	pending_sql(sql, sizeof(sql));
	return each_row(db, sql, 0, "list pending snapshots", cb, ctx);
}

int
db_snapshot_pending_plan(struct db *db, char *buf, size_t len)
{
	char sql[1024];

	pending_sql(sql, sizeof(sql));
	return db_explain(db, sql, buf, len);
}
