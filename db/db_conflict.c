/*
 * db_conflict.c -- ownership in the store: the foreign snapshots `sync`
 * records (table conflicts) and the question a run asks before each PUT,
 * "is this name someone else's?".
 *
 * The owner question runs once per create; every statement here comes
 * from the connection's cache (db_stmt).
 */
#include "db/db_conflict.h"

#include "db/db.h"
#include "db/db_internal.h"

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

	return db_exec(db, sql, "record conflict",
	    DB_ARGS(DB_TEXT(c->arm_id), DB_TEXT(c->name),
	        DB_TEXT(c->subscription), DB_OPT(c->pool_tag),
	        DB_OPT(c->source_id), DB_TEXT(c->reason), DB_INT(now),
	        DB_OPT_INT(run_id)));
}

int
db_conflict_forget_unseen(
    struct db *db, const char *subscription, int64_t run_id)
{
	static const char sql[] = "DELETE FROM conflicts WHERE subscription = "
	                          "?1 AND run_id IS NOT ?2";

	return db_exec(db, sql, "forget conflicts",
	    DB_ARGS(DB_TEXT(subscription), DB_INT(run_id)));
}

/* A conflicts row into the struct db_conflict ${ctx}. */
static int
row_conflict(void *ctx, sqlite3_stmt *s)
{
	struct db_conflict *c = ctx;

	c->id = sqlite3_column_int64(s, 0);
	db_col_text(s, 1, c->arm_id, sizeof(c->arm_id));
	db_col_text(s, 2, c->name, sizeof(c->name));
	db_col_text(s, 3, c->subscription, sizeof(c->subscription));
	db_col_text(s, 4, c->pool_tag, sizeof(c->pool_tag));
	db_col_text(s, 5, c->source_id, sizeof(c->source_id));
	db_col_text(s, 6, c->reason, sizeof(c->reason));
	c->first_seen = (time_t)sqlite3_column_int64(s, 7);
	c->last_seen = (time_t)sqlite3_column_int64(s, 8);
	return 0;
}

int
db_conflict_list(struct db *db, struct db_conflict **out, size_t *n)
{
	static const char sql[] =
	    "SELECT id, arm_id, name, subscription, pool_tag, source_id, "
	    "reason, first_seen, last_seen FROM conflicts ORDER BY name, id";
	struct db_rows rows = DB_ROWS(sizeof(**out));
	int rc;

	rc = db_get_all(
	    db, sql, "list conflicts", DB_NO_ARGS, row_conflict, &rows);
	*out = rows.v;
	*n = rows.n;
	return rc;
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

	return db_get_one(db, sql, "look up the owner of a snapshot",
	    DB_ARGS(DB_TEXT(arm_id), DB_INT(pool_id)), db_row_text,
	    &(struct db_text){why, len});
}
