/*
 * db_metrics.c -- the store's answers for the Prometheus textfile that
 * db.c does not give: each pool's latest outcome (pool_outcomes) and the
 * runs that covered every configured pool (full_runs).
 *
 * The textfile is rendered from the store after every command that writes
 * it, so a command that touched one pool still describes them all; these
 * two tables are what a single process would otherwise only have known
 * about the pools it touched itself.  They run once per pool per
 * command, on statements from the connection's cache (db_stmt).
 */
#include "db/db_metrics.h"

#include "db/db_internal.h"
#include "job/base/util.h"

#include <string.h>

/* The statement of ${sql} (db_stmt), bind ${n} int64 values, step: 1 row, 0
 * none, -1. */
static int
one_row(struct db *db, const char *what, const char *sql, sqlite3_stmt **out,
    int n, const int64_t *args)
{
	sqlite3_stmt *s;
	int rc;

	*out = NULL;
	s = db_stmt(db, sql, what);
	if (s == NULL)
		return -1;
	for (int i = 0; i < n; i++)
		if (sqlite3_bind_int64(s, i + 1, args[i]) != SQLITE_OK)
			goto err;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*out = s;
		return 1;
	}
	if (rc == SQLITE_DONE) {
		db_stmt_done(db, s);
		return 0;
	}
err:
	db_fail(db, what);
	db_stmt_done(db, s);
	return -1;
}

/* A statement that writes: one_row, its statement done with.  0 or -1. */
static int
write_row(struct db *db, const char *what, const char *sql, int n,
    const int64_t *args)
{
	sqlite3_stmt *s;

	if (one_row(db, what, sql, &s, n, args) < 0)
		return -1;
	db_stmt_done(db, s);
	return 0;
}

int
db_pool_outcome_set(
    struct db *db, int64_t pool_id, int64_t run_id, time_t at, int failed)
{
	const int64_t args[] = {pool_id, run_id, (int64_t)at, failed ? 1 : 0};

	return write_row(db, "record the pool's outcome",
	    "INSERT INTO pool_outcomes (pool_id, run_id, at, failed) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (pool_id) DO UPDATE SET "
	    "run_id = ?2, at = ?3, failed = ?4",
	    4, args);
}

int
db_pool_outcome_failed(struct db *db, int64_t pool_id, int *failed)
{
	sqlite3_stmt *s;
	int got;

	*failed = 0;
	got = one_row(db, "read the pool's outcome",
	    "SELECT failed FROM pool_outcomes WHERE pool_id = ?1", &s, 1,
	    &pool_id);
	if (got < 0)
		return -1;
	if (got == 1)
		*failed = sqlite3_column_int(s, 0);
	db_stmt_done(db, s);
	return 0;
}

int
db_full_run_add(struct db *db, int64_t run_id, int64_t duration_ms)
{
	const int64_t args[] = {run_id, duration_ms};

	return write_row(db, "record a full run",
	    "INSERT OR REPLACE INTO full_runs (run_id, duration_ms) "
	    "VALUES (?1, ?2)",
	    2, args);
}

int
db_full_run_last(struct db *db, time_t *as_of, int64_t *duration_ms)
{
	sqlite3_stmt *s;
	int got;

	*as_of = 0;
	*duration_ms = 0;
	got = one_row(db, "read the last full run",
	    "SELECT r.as_of, f.duration_ms FROM runs r INDEXED BY "
	    "runs_by_mode JOIN full_runs f ON f.run_id = r.id WHERE "
	    "r.mode = 'run' AND r.finished_at IS NOT NULL "
	    "ORDER BY r.started_at DESC, r.id DESC LIMIT 1",
	    &s, 0, NULL);
	if (got == 1) {
		*as_of = (time_t)sqlite3_column_int64(s, 0);
		*duration_ms = sqlite3_column_int64(s, 1);
		db_stmt_done(db, s);
	}
	return got;
}

int
db_partial_run_last(struct db *db, const char *mode, time_t *as_of)
{
	sqlite3_stmt *s = NULL;
	int rc, got = -1;

	*as_of = 0;
	/*
	 * The newest finished run of ${mode} that is not full (a snapshot
	 * or prune never is), as partial_run_last keeps it (0028): one
	 * seek.  Before, a walk back through runs_by_mode over every full
	 * run since the last partial one (15 M instructions on a year of
	 * hourly runs with none).
	 */
	s = db_stmt(db,
	    "SELECT r.as_of FROM partial_run_last l JOIN runs r "
	    "ON r.id = l.run_id WHERE l.mode = ?1",
	    "read the last run of one pool");
	if (s == NULL)
		return -1;
	if (sqlite3_bind_text(s, 1, mode, -1, SQLITE_STATIC) != SQLITE_OK) {
		db_fail(db, "read the last run of one pool");
		goto out;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*as_of = (time_t)sqlite3_column_int64(s, 0);
		got = 1;
	} else if (rc == SQLITE_DONE) {
		got = 0;
	} else {
		db_fail(db, "read the last run of one pool");
	}
out:
	db_stmt_done(db, s);
	return got;
}

/* db_pool_holders' walk: each holder row to the caller's callback. */
struct holders_walk {
	int (*cb)(void *ctx, const char *channels, const struct db_holder *h);
	void *ctx;
};

static int
row_holders(void *ctx, sqlite3_stmt *s)
{
	struct holders_walk *w = ctx;
	const char *channels = (const char *)sqlite3_column_text(s, 0);
	struct db_holder h;

	memset(&h, 0, sizeof(h));
	h.created_at = (time_t)sqlite3_column_int64(s, 1);
	db_col_text(s, 2, h.node_image_version, sizeof(h.node_image_version));
	db_col_text(s, 3, h.kubernetes_version, sizeof(h.kubernetes_version));
	return w->cb(w->ctx, channels != NULL ? channels : "", &h) != 0 ? 1 : 0;
}

/* The pool's active snapshots that hold a channel, newest first, from
 * the covering index of its holders alone (0027). */
static const char sql_holders[] =
    "SELECT s.channel, s.created_at, s.node_image_version, "
    "s.kubernetes_version FROM snapshots s "
    "INDEXED BY snapshots_channel_holders "
    "WHERE s.pool_id = ?1 AND s.state = 'active' AND s.channel <> '' "
    "ORDER BY s.created_at DESC, s.id DESC";

int
db_pool_holders(struct db *db, int64_t pool_id,
    int (*cb)(void *ctx, const char *channels, const struct db_holder *h),
    void *ctx)
{
	struct holders_walk w = {cb, ctx};

	return db_each_row(db, sql_holders, "read a pool's channel holders",
	           DB_ARGS(DB_INT(pool_id)), row_holders, &w) < 0
	    ? -1
	    : 0;
}

int
db_pool_holders_plan(struct db *db, char *buf, size_t len)
{
	return db_explain(db, sql_holders, buf, len);
}

int
db_metrics_pools(struct db *db,
    int (*cb)(void *ctx, const struct db_metrics_pool *p), void *ctx)
{
	struct db_metrics_pool m;
	sqlite3_stmt *s;
	int rc;

	/* Each pool's newest success as db_pool_last_success reads it, by
	 * index seeks inside the walk of the pools. */
	s = db_stmt(db,
	    "SELECT p.key, p.id, coalesce(o.failed, 0), " DB_POOL_LAST_SUCCESS(
	        "p.id") " FROM pools p LEFT JOIN pool_outcomes o ON "
	                "o.pool_id = p.id ORDER BY p.key",
	    "read every pool's figures");
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&m, 0, sizeof(m));
		m.key = (const char *)sqlite3_column_text(s, 0);
		m.pool_id = sqlite3_column_int64(s, 1);
		m.failed = sqlite3_column_int(s, 2);
		m.last_success = (time_t)sqlite3_column_int64(s, 3);
		if (m.key != NULL && cb(ctx, &m) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE)
		db_fail(db, "read every pool's figures");
	db_stmt_done(db, s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
db_metrics_snapshot_counts(struct db *db,
    int (*cb)(void *ctx, int64_t pool_id, int state, long long n), void *ctx)
{
	sqlite3_stmt *s;
	int rc;

	/* The counts the triggers of 0019 keep, by their key: a few rows a
	 * pool, not every snapshot row the store ever held. */
	s = db_stmt(db,
	    "SELECT pool_id, state, n FROM pool_snapshot_counts "
	    "WHERE n > 0 ORDER BY pool_id, state",
	    "count every pool's snapshots");
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *state = (const char *)sqlite3_column_text(s, 1);
		int i = 0;

		while (i < DB_SNAPSHOT_NSTATES && state != NULL &&
		    strcmp(db_snapshot_states[i], state) != 0)
			i++;
		if (i == DB_SNAPSHOT_NSTATES)
			continue; /* a state no metric names */
		if (cb(ctx, sqlite3_column_int64(s, 0), i,
		        sqlite3_column_int64(s, 2)) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE)
		db_fail(db, "count every pool's snapshots");
	db_stmt_done(db, s);
	return rc == SQLITE_DONE ? 0 : -1;
}
