/*
 * db_conflict.c -- ownership in the store: the foreign snapshots `sync`
 * records (table conflicts) and the question a run asks before each PUT,
 * "is this name someone else's?".
 *
 * The owner question runs once per create; every statement here comes
 * from the connection's cache (db_stmt).
 */
#include "db/db_conflict.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "db/db_internal.h"
#include "job/base/log.h"
#include "job/base/util.h"

static int
fail(struct db *db, const char *what)
{
	log_err(NULL, "%s: %s: %s", db_path_of(db), what,
	    sqlite3_errmsg(db_sqlite(db)));
	return -1;
}

int
db_conflict_seen(
    struct db *db, int64_t run_id, const struct db_conflict *c, time_t now)
{
	static const char sql[] =
	    "INSERT INTO conflicts (arm_id, name, subscription, pool_tag, "
	    "source_id, reason, first_seen, last_seen, run_id) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8) "
	    "ON CONFLICT (arm_id) DO UPDATE SET name = excluded.name, "
	    "subscription = excluded.subscription, "
	    "pool_tag = excluded.pool_tag, source_id = excluded.source_id, "
	    "reason = excluded.reason, last_seen = excluded.last_seen, "
	    "run_id = excluded.run_id";
	sqlite3_stmt *s = NULL;
	int b = 0, rc = -1;

	s = db_stmt(db, sql, "record conflict");
	if (s == NULL)
		return -1;
	b |= sqlite3_bind_text(s, 1, c->arm_id, -1, SQLITE_TRANSIENT);
	b |= sqlite3_bind_text(s, 2, c->name, -1, SQLITE_TRANSIENT);
	b |= sqlite3_bind_text(s, 3, c->subscription, -1, SQLITE_TRANSIENT);
	b |= db_bind_opt(s, 4, c->pool_tag);
	b |= db_bind_opt(s, 5, c->source_id);
	b |= sqlite3_bind_text(s, 6, c->reason, -1, SQLITE_TRANSIENT);
	b |= sqlite3_bind_int64(s, 7, now);
	b |= run_id != 0 ? sqlite3_bind_int64(s, 8, run_id)
	                 : sqlite3_bind_null(s, 8);
	if (b != SQLITE_OK || sqlite3_step(s) != SQLITE_DONE)
		fail(db, "record conflict");
	else
		rc = 0;
	db_stmt_done(db, s);
	return rc;
}

int
db_conflict_forget_unseen(
    struct db *db, const char *subscription, int64_t run_id)
{
	static const char sql[] = "DELETE FROM conflicts WHERE subscription = "
	                          "?1 AND run_id IS NOT ?2";
	sqlite3_stmt *s = NULL;
	int b = 0, rc = -1;

	s = db_stmt(db, sql, "forget conflicts");
	if (s == NULL)
		return -1;
	b |= sqlite3_bind_text(s, 1, subscription, -1, SQLITE_TRANSIENT);
	b |= sqlite3_bind_int64(s, 2, run_id);
	if (b != SQLITE_OK || sqlite3_step(s) != SQLITE_DONE)
		fail(db, "forget conflicts");
	else
		rc = 0;
	db_stmt_done(db, s);
	return rc;
}

int
db_conflict_list(struct db *db, struct db_conflict **out, size_t *n)
{
	static const char sql[] =
	    "SELECT id, arm_id, name, subscription, pool_tag, source_id, "
	    "reason, first_seen, last_seen FROM conflicts ORDER BY name, id";
	struct db_conflict *v = NULL, *grown;
	sqlite3_stmt *s = NULL;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	s = db_stmt(db, sql, "list conflicts");
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct db_conflict *c;

		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			grown = realloc(v, cap * sizeof(*v));
			if (grown == NULL) {
				log_err(NULL, "list conflicts: out of memory");
				goto err;
			}
			v = grown;
		}
		c = &v[(*n)++];
		memset(c, 0, sizeof(*c));
		c->id = sqlite3_column_int64(s, 0);
		db_col_text(s, 1, c->arm_id, sizeof(c->arm_id));
		db_col_text(s, 2, c->name, sizeof(c->name));
		db_col_text(s, 3, c->subscription, sizeof(c->subscription));
		db_col_text(s, 4, c->pool_tag, sizeof(c->pool_tag));
		db_col_text(s, 5, c->source_id, sizeof(c->source_id));
		db_col_text(s, 6, c->reason, sizeof(c->reason));
		c->first_seen = (time_t)sqlite3_column_int64(s, 7);
		c->last_seen = (time_t)sqlite3_column_int64(s, 8);
	}
	if (rc != SQLITE_DONE) {
		fail(db, "list conflicts");
		goto err;
	}
	db_stmt_done(db, s);
	*out = v;
	return 0;
err:
	db_stmt_done(db, s);
	free(v);
	*n = 0;
	return -1;
}

int
db_snapshot_owner(
    struct db *db, const char *arm_id, int64_t pool_id, char *why, size_t len)
{
	static const char sql[] =
	    "SELECT 'pool ' || p.key || ' of this store (a pool key renamed?)' "
	    "FROM snapshots s JOIN pools p ON p.id = s.pool_id "
	    "WHERE " DB_SNAP_ARM_ID_IS("s", "p",
	        "?1") " AND s.pool_id <> ?2 "
	              "UNION ALL SELECT 'a snapshot this store does not own "
	              "(sync "
	              "recorded a conflict: ' || reason || ')' FROM conflicts "
	              "WHERE arm_id = ?1 LIMIT 1";
	sqlite3_stmt *s = NULL;
	int b = 0, rc;

	s = db_stmt(db, sql, "look up the owner of a snapshot");
	if (s == NULL)
		return -1;
	b |= sqlite3_bind_text(s, 1, arm_id, -1, SQLITE_TRANSIENT);
	b |= sqlite3_bind_int64(s, 2, pool_id);
	rc = b == SQLITE_OK ? sqlite3_step(s) : SQLITE_ERROR;
	if (rc == SQLITE_ROW) {
		db_col_text(s, 0, why, len);
		db_stmt_done(db, s);
		return 1;
	}
	if (rc != SQLITE_DONE) {
		fail(db, "look up the owner of a snapshot");
		db_stmt_done(db, s);
		return -1;
	}
	db_stmt_done(db, s);
	return 0;
}
