/*
 * db_report.c -- the queries of `aksnap report` (db_report.h).
 *
 * The report reads a pool's summary (event counts) and then its rows
 * (the events themselves), pool after pool, over every configured pool:
 * those two statements are prepared once per report, in struct
 * db_report, and reset between pools.  struct db_report also holds a
 * read transaction from its open to its close, so that the summary and
 * the rows read later are of one state of the store.  The others run
 * once a report, on statements from the connection's cache (db_stmt).
 * Each per-pool query is a seek of an
 * index: observations by (pool_id, time); the marks by the partial index
 * decisions_events_by_pool_time (0013), whose WHERE the queries repeat
 * word for word so that SQLite can use it.  Observation rows are read
 * with db.c's own column list and reader, so fields that db.c learns
 * (the upgrade channels, who changed a version) reach the report without
 * a change here.
 */
#include "db/db_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_channels.h"
#include "db/db_internal.h"
#include "job/base/log.h"
#include "job/base/util.h"

/* The actions a timeline marks: decisions_events_by_pool_time's WHERE. */
#define EVENT_ACTIONS                                                          \
	"action IN ('create', 'promote', 'demote', 'delete', 'pin', "          \
	"'unpin', 'fail', 'missing', 'adopt')"

/*
 * The decisions of those actions of pool ?1 whose range reaches ?2 or
 * later: the closed ones by decisions_events_by_pool_time, the pool's
 * open ones (0018: their ends are in decision_open, an older one in
 * decision_rows, never a later one) from decision_open.  IN counts each
 * once.
 */
#define EVENT_IDS                                                              \
	"(SELECT id FROM decision_rows WHERE pool_id = ?1 AND last_at >= ?2 "  \
	"AND " EVENT_ACTIONS " UNION ALL SELECT decision_id FROM "             \
	"decision_open WHERE pool_id = ?1 AND last_at >= ?2 "                  \
	"AND " EVENT_ACTIONS ")"

/* The journal entries a timeline marks, of one pool, since a time. */
static const char events_sql[] =
    "SELECT d.pool_id, d.snapshot_id, d.run_id, d.at, d.action, "
    "s.name, s.created_at, d.reasons, r.mode FROM decisions d "
    "LEFT JOIN snapshots s ON s.id = d.snapshot_id "
    "LEFT JOIN runs r ON r.id = d.run_id "
    "WHERE d.id IN " EVENT_IDS " ORDER BY d.at, d.id";

/* How many of those are promotions, how many failures. */
static const char counts_sql[] =
    "SELECT coalesce(sum(action = 'promote'), 0), "
    "coalesce(sum(action = 'fail'), 0) FROM decision_rows "
    "WHERE id IN " EVENT_IDS;

/* The runs since a time. */
static const char runs_sql[] =
    "SELECT id, started_at, finished_at, as_of, mode, exit_code, "
    "observed, taken, skipped, deleted, promoted, failed FROM runs "
    "WHERE as_of >= ?1 ORDER BY as_of, id";

/* The time the store speaks for: the newest as_of first, down
 * runs_by_as_of to the first scheduled run (max(as_of) ... WHERE mode =
 * 'run' read every run of the year through runs_by_mode). */
static const char as_of_sql[] =
    "SELECT coalesce((SELECT as_of FROM runs WHERE +mode = 'run' "
    "ORDER BY as_of DESC LIMIT 1), (SELECT max(as_of) FROM runs), 0)";

int
db_report_as_of(struct db *db, time_t *out)
{
	int64_t v = 0;

	*out = 0;
	if (db_get_one(db, as_of_sql, "report: as of", DB_NO_ARGS, db_row_int64,
	        &v) != 1)
		return -1;
	*out = (time_t)v;
	return 0;
}

int
db_report_observation_before(
    struct db *db, int64_t pool_id, time_t at, struct db_observation *out)
{
	/* times are whole seconds: strictly before ${at} is at or before
	 * the second before it */
	return db_observation_at(db, pool_id, at - 1, out);
}

struct db_report {
	struct db *db;
	sqlite3_stmt *events, *counts;
};

int
db_report_open(struct db *db, struct db_report **out)
{
	struct db_report *q;

	*out = NULL;
	q = calloc(1, sizeof(*q));
	if (q == NULL) {
		log_err(NULL, "report: out of memory");
		return -1;
	}
	q->db = db;
	/* one read transaction: every pass over the pools sees the same
	 * store, whatever a run writes meanwhile (WAL) */
	if (sqlite3_exec(db_sqlite(db), "BEGIN", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		db_fail(db, "report: begin");
		free(q);
		return -1;
	}
	q->events = db_prepare(db, events_sql, "report: events");
	q->counts = db_prepare(db, counts_sql, "report: event counts");
	if (q->events == NULL || q->counts == NULL) {
		db_report_close(q);
		return -1;
	}
	*out = q;
	return 0;
}

void
db_report_close(struct db_report *q)
{
	if (q == NULL)
		return;
	sqlite3_finalize(q->events);
	sqlite3_finalize(q->counts);
	if (!sqlite3_get_autocommit(db_sqlite(q->db)))
		(void)sqlite3_exec(
		    db_sqlite(q->db), "COMMIT", NULL, NULL, NULL);
	free(q);
}

/* Bind a pool and a time to ${s}, reset.  0, or -1 (logged). */
static int
bind_pool_since(struct db_report *q, sqlite3_stmt *s, int64_t pool_id,
    time_t since, const char *what)
{
	sqlite3_reset(s);
	if (sqlite3_bind_int64(s, 1, pool_id) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, (sqlite3_int64)since) != SQLITE_OK)
		return db_fail(q->db, what);
	return 0;
}

int
db_report_events(struct db_report *q, int64_t pool_id, time_t since,
    int (*cb)(void *ctx, const struct db_report_event *e), void *ctx)
{
	struct db_report_event e;
	sqlite3_stmt *s = q->events;
	int rc, ret = -1;

	if (bind_pool_since(q, s, pool_id, since, "report: events"))
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&e, 0, sizeof(e));
		e.pool_id = sqlite3_column_int64(s, 0);
		e.snapshot_id = sqlite3_column_int64(s, 1);
		e.run_id = sqlite3_column_int64(s, 2);
		e.at = (time_t)sqlite3_column_int64(s, 3);
		db_col_text(s, 4, e.action, sizeof(e.action));
		db_col_text(s, 5, e.snapshot, sizeof(e.snapshot));
		e.snapshot_created = (time_t)sqlite3_column_int64(s, 6);
		db_col_text(s, 7, e.reasons, sizeof(e.reasons));
		db_col_text(s, 8, e.run_mode, sizeof(e.run_mode));
		if (cb(ctx, &e) != 0) {
			ret = 0;
			goto done;
		}
	}
	if (rc != SQLITE_DONE) {
		db_fail(q->db, "report: events");
		goto done;
	}
	ret = 0;
done:
	sqlite3_reset(s);
	return ret;
}

int
db_report_event_counts(struct db_report *q, int64_t pool_id, time_t since,
    size_t *promotions, size_t *failures)
{
	sqlite3_stmt *s = q->counts;
	int ret = -1;

	*promotions = *failures = 0;
	if (bind_pool_since(q, s, pool_id, since, "report: event counts"))
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW) {
		*promotions = (size_t)sqlite3_column_int64(s, 0);
		*failures = (size_t)sqlite3_column_int64(s, 1);
		ret = 0;
	} else {
		db_fail(q->db, "report: event counts");
	}
	sqlite3_reset(s);
	return ret;
}

/* A runs row to db_report_runs' callback. */
struct runs_each {
	int (*cb)(void *ctx, const struct db_run *r);
	void *ctx;
};

static int
row_run_each(void *ctx, sqlite3_stmt *s)
{
	const struct runs_each *e = ctx;
	struct db_run r;

	db_row_run(&r, s);
	return e->cb(e->ctx, &r) != 0;
}

int
db_report_runs(struct db *db, time_t since,
    int (*cb)(void *ctx, const struct db_run *r), void *ctx)
{
	struct runs_each e = {cb, ctx};

	if (db_each_row(db, runs_sql, "report: runs", DB_ARGS(DB_INT(since)),
	        row_run_each, &e) < 0)
		return -1;
	return 0;
}

int
db_report_query_plan(struct db *db, const char *name, char *buf, size_t len)
{
	static const struct {
		const char *name, *sql;
	} queries[] = {
	    {"events", events_sql}, {"counts", counts_sql}, {"runs", runs_sql}};

	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++)
		if (strcmp(name, queries[i].name) == 0)
			return db_explain(db, queries[i].sql, buf, len);
	log_err(NULL, "no report query named %s", name);
	return -1;
}
