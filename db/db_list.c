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
 * The statements are prepared per call: a list is made once per command.
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

/* Step ${sql} (bound to ${pool_id} unless 0) into ${cb}, one row at a
 * time.  0/-1 (logged with ${what}). */
static int
each_row(struct db *db, const char *sql, int64_t pool_id, const char *what,
    int (*cb)(void *ctx, const struct db_snapshot *s), void *ctx)
{
	struct db_snapshot snap;
	sqlite3_stmt *s = NULL;
	int rc = SQLITE_ERROR, ret = -1;

	if (sqlite3_prepare_v2(db_sqlite(db), sql, -1, &s, NULL) != SQLITE_OK) {
		db_fail(db, what);
		goto done;
	}
	if (pool_id != 0 && sqlite3_bind_int64(s, 1, pool_id) != SQLITE_OK) {
		db_fail(db, what);
		goto done;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		db_col_snapshot(s, &snap);
		if (cb(ctx, &snap) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		db_fail(db, what);
		goto done;
	}
	ret = 0;
done:
	sqlite3_finalize(s);
	return ret;
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
