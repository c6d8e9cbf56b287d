/*
 * db_report.c -- the queries of `aksnap report` (db_report.h).
 *
 * A report is written once, so its statements are prepared per call and
 * finalized, not cached in struct db.  Each query is driven by an index
 * of 0001_initial.sql: pools are few; observations and snapshots are read
 * per pool by (pool_id, time); decisions per pool by the pool prefix of
 * decisions_by_pool_slot.  Observation rows are read with db.c's own
 * column list and reader, so fields that db.c learns (the upgrade
 * channels, who changed a version) reach the report without a change
 * here.
 */
#include "db/db_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_channels.h"
#include "db/db_internal.h"
#include "job/base/log.h"
#include "job/base/util.h"

/* The journal entries a timeline marks, of one pool, since a time. */
static const char events_sql[] =
    "SELECT d.pool_id, d.snapshot_id, d.run_id, d.at, d.action, "
    "s.name, d.reasons, r.mode FROM decisions d "
    "LEFT JOIN snapshots s ON s.id = d.snapshot_id "
    "LEFT JOIN runs r ON r.id = d.run_id "
    "WHERE d.pool_id = ?1 AND d.last_at >= ?2 AND d.action IN "
    "('create', "
    "'promote', 'demote', 'delete', 'pin', 'unpin', 'fail', "
    "'missing', 'adopt') ORDER BY d.at, d.id";

/* The runs since a time. */
static const char runs_sql[] =
    "SELECT id, started_at, finished_at, as_of, mode, exit_code, "
    "observed, taken, skipped, deleted, promoted, failed FROM runs "
    "WHERE as_of >= ?1 ORDER BY as_of, id";

int
db_report_pools(struct db *db, struct db_pool **out, size_t *n)
{
	static const char sql[] =
	    "SELECT id, key, subscription, resource_group, cluster, nodepool, "
	    "arm_id, location FROM pools ORDER BY subscription, "
	    "resource_group COLLATE NOCASE, cluster COLLATE NOCASE, key";
	struct db_pool *list = NULL, *grown;
	size_t cap = 0, count = 0;
	sqlite3_stmt *s;
	int rc;

	*out = NULL;
	*n = 0;
	s = db_prepare(db, sql, "report: pools");
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct db_pool *p;

		if (count == cap) {
			cap = cap != 0 ? cap * 2 : 64;
			grown = realloc(list, cap * sizeof(*list));
			if (grown == NULL) {
				log_err(NULL, "report: out of memory");
				goto err;
			}
			list = grown;
		}
		p = &list[count++];
		db_col_pool(s, p);
	}
	if (rc != SQLITE_DONE) {
		db_fail(db, "report: pools");
		goto err;
	}
	sqlite3_finalize(s);
	*out = list;
	*n = count;
	return 0;
err:
	sqlite3_finalize(s);
	free(list);
	return -1;
}

int
db_report_as_of(struct db *db, time_t *out)
{
	static const char sql[] =
	    "SELECT coalesce((SELECT max(as_of) FROM runs WHERE mode = 'run'), "
	    "(SELECT max(as_of) FROM runs), 0)";
	sqlite3_stmt *s;
	int rc = -1;

	*out = 0;
	s = db_prepare(db, sql, "report: as of");
	if (s == NULL)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW) {
		*out = (time_t)sqlite3_column_int64(s, 0);
		rc = 0;
	} else {
		db_fail(db, "report: as of");
	}
	sqlite3_finalize(s);
	return rc;
}

int
db_report_observation_before(
    struct db *db, int64_t pool_id, time_t at, struct db_observation *out)
{
	/* times are whole seconds: strictly before ${at} is at or before
	 * the second before it */
	return db_observation_at(db, pool_id, at - 1, out);
}

int
db_report_events(struct db *db, int64_t pool_id, time_t since,
    int (*cb)(void *ctx, const struct db_report_event *e), void *ctx)
{
	struct db_report_event e;
	sqlite3_stmt *s;
	int rc, ret = -1;

	s = db_prepare(db, events_sql, "report: events");
	if (s == NULL)
		return -1;
	if (sqlite3_bind_int64(s, 1, pool_id) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, (sqlite3_int64)since) != SQLITE_OK) {
		db_fail(db, "report: events");
		goto done;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&e, 0, sizeof(e));
		e.pool_id = sqlite3_column_int64(s, 0);
		e.snapshot_id = sqlite3_column_int64(s, 1);
		e.run_id = sqlite3_column_int64(s, 2);
		e.at = (time_t)sqlite3_column_int64(s, 3);
		db_col_text(s, 4, e.action, sizeof(e.action));
		db_col_text(s, 5, e.snapshot, sizeof(e.snapshot));
		db_col_text(s, 6, e.reasons, sizeof(e.reasons));
		db_col_text(s, 7, e.run_mode, sizeof(e.run_mode));
		if (cb(ctx, &e) != 0) {
			ret = 0;
			goto done;
		}
	}
	if (rc != SQLITE_DONE) {
		db_fail(db, "report: events");
		goto done;
	}
	ret = 0;
done:
	sqlite3_finalize(s);
	return ret;
}

int
db_report_runs(struct db *db, time_t since,
    int (*cb)(void *ctx, const struct db_run *r), void *ctx)
{
	struct db_run r;
	sqlite3_stmt *s;
	int rc, ret = -1;

	s = db_prepare(db, runs_sql, "report: runs");
	if (s == NULL)
		return -1;
	if (sqlite3_bind_int64(s, 1, (sqlite3_int64)since) != SQLITE_OK) {
		db_fail(db, "report: runs");
		goto done;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		db_col_run(s, &r);
		if (cb(ctx, &r) != 0) {
			ret = 0;
			goto done;
		}
	}
	if (rc != SQLITE_DONE) {
		db_fail(db, "report: runs");
		goto done;
	}
	ret = 0;
done:
	sqlite3_finalize(s);
	return ret;
}

int
db_report_query_plan(struct db *db, const char *name, char *buf, size_t len)
{
	if (strcmp(name, "events") == 0)
		return db_explain(db, events_sql, buf, len);
	if (strcmp(name, "runs") == 0)
		return db_explain(db, runs_sql, buf, len);
	log_err(NULL, "no report query named %s", name);
	return -1;
}
