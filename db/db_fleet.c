/*
 * db_fleet.c -- pools.fleet: the fleet a pool row came from, so that a
 * pool a fleet selected once is still known (and recorded missing) when
 * the fleet stops selecting it, and so that list, history, drift, baseline
 * and check show a fleet's pools without asking ARM.
 */

#include "db/db_fleet.h"

#include "db/db_internal.h"

int
db_pool_set_fleet(struct db *db, int64_t pool_id, const char *fleet)
{
	static const char sql[] =
	    "UPDATE pools SET fleet = ?2 WHERE id = ?1 AND "
	    "fleet IS NOT ?2";

	return db_exec(db, sql, "record the pool's fleet",
	    DB_ARGS(DB_INT(pool_id), DB_OPT(fleet)));
}

/* A pools row (key and place) into the struct db_fleet_pool ${ctx}. */
static int
row_fleet_pool(void *ctx, sqlite3_stmt *s)
{
	struct db_fleet_pool *p = ctx;

	db_col_text(s, 0, p->key, sizeof(p->key));
	db_col_text(s, 1, p->subscription, sizeof(p->subscription));
	db_col_text(s, 2, p->resource_group, sizeof(p->resource_group));
	db_col_text(s, 3, p->cluster, sizeof(p->cluster));
	db_col_text(s, 4, p->nodepool, sizeof(p->nodepool));
	return 0;
}

int
db_fleet_pools(
    struct db *db, const char *fleet, struct db_fleet_pool **out, size_t *n)
{
	static const char sql[] =
	    "SELECT key, subscription, resource_group, cluster, nodepool "
	    "FROM pools WHERE fleet = ?1 ORDER BY key";
	struct db_rows rows = DB_ROWS(sizeof(**out));
	int rc;

	rc = db_get_all(db, sql, "list a fleet's pools",
	    DB_ARGS(DB_TEXT(fleet)), row_fleet_pool, &rows);
	*out = rows.v;
	*n = rows.n;
	return rc;
}
