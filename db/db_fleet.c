/*
 * db_fleet.c -- pools.fleet: the fleet a pool row came from, so that a
 * pool a fleet selected once is still known (and recorded missing) when
 * the fleet stops selecting it, and so that list, history, drift, baseline
 * and check show a fleet's pools without asking ARM.
 */

#include "db/db_fleet.h"

#include <stdlib.h>
#include <string.h>

#include "db/db_internal.h"
#include "job/base/util.h"

int
db_pool_set_fleet(struct db *db, int64_t pool_id, const char *fleet)
{
	static const char sql[] =
	    "UPDATE pools SET fleet = ?2 WHERE id = ?1 AND "
	    "fleet IS NOT ?2";
	sqlite3_stmt *s = NULL;
	int b = 0, rc = -1;

	s = db_stmt(db, sql, "record the pool's fleet");
	if (s == NULL)
		return -1;
	b |= sqlite3_bind_int64(s, 1, pool_id);
	b |= fleet != NULL && fleet[0] != '\0'
	    ? sqlite3_bind_text(s, 2, fleet, -1, SQLITE_TRANSIENT)
	    : sqlite3_bind_null(s, 2);
	if (b != SQLITE_OK || sqlite3_step(s) != SQLITE_DONE)
		db_fail(db, "record the pool's fleet");
	else
		rc = 0;
	db_stmt_done(db, s);
	return rc;
}

int
db_fleet_pools(
    struct db *db, const char *fleet, struct db_fleet_pool **out, size_t *n)
{
	static const char sql[] =
	    "SELECT key, subscription, resource_group, cluster, nodepool "
	    "FROM pools WHERE fleet = ?1 ORDER BY key";
	sqlite3_stmt *s = NULL;
	struct db_fleet_pool *v = NULL;
	size_t cap = 0, cnt = 0;
	int step;

	*out = NULL;
	*n = 0;
	s = db_stmt(db, sql, "list a fleet's pools");
	if (s == NULL)
		return -1;
	if (sqlite3_bind_text(s, 1, fleet, -1, SQLITE_TRANSIENT) != SQLITE_OK)
		goto fail;
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		if (cnt == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct db_fleet_pool *g = realloc(v, nc * sizeof(*v));

			if (g == NULL)
				goto fail;
			v = g;
			cap = nc;
		}
		memset(&v[cnt], 0, sizeof(v[cnt]));
		db_col_text(s, 0, v[cnt].key, sizeof(v[cnt].key));
		db_col_text(
		    s, 1, v[cnt].subscription, sizeof(v[cnt].subscription));
		db_col_text(
		    s, 2, v[cnt].resource_group, sizeof(v[cnt].resource_group));
		db_col_text(s, 3, v[cnt].cluster, sizeof(v[cnt].cluster));
		db_col_text(s, 4, v[cnt].nodepool, sizeof(v[cnt].nodepool));
		cnt++;
	}
	if (step != SQLITE_DONE)
		goto fail;
	db_stmt_done(db, s);
	*out = v;
	*n = cnt;
	return 0;
fail:
	db_fail(db, "list a fleet's pools");
	db_stmt_done(db, s);
	free(v);
	return -1;
}
