/*
 * db_channels.c -- observations with the cluster's auto-upgrade channels
 * and who changed the pool, and the record of applies (db_channels.h).
 *
 * An observation is written once per pool per run, an apply once per
 * `aksnap apply`: both statements are prepared per call rather than kept
 * in db.c's cache.
 */
#include "db/db_channels.h"

#include <stdio.h>
#include <string.h>

#include "db/db_internal.h"
#include "job/base/util.h"

/* "" is NULL in these columns. */
static int
bind_text_or_null(sqlite3_stmt *s, int i, const char *v)
{
	return v == NULL || v[0] == '\0'
	    ? sqlite3_bind_null(s, i)
	    : sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

int
db_observation_record(struct db *db, int64_t run_id, int64_t pool_id, time_t at,
    const struct db_versions *v, const char *provisioning_state,
    const struct db_observation *o)
{
	static const char sql[] =
	    "INSERT INTO observations (pool_id, run_id, observed_at, "
	    "node_image_version, kubernetes_version, os_type, os_sku, "
	    "vm_size, enable_fips, provisioning_state, upgrade_channel, "
	    "node_os_channel, changed_by) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
	sqlite3_stmt *s = NULL;
	int b = 0, rc = -1;

	if (provisioning_state == NULL || provisioning_state[0] == '\0')
		provisioning_state = v == NULL ? "missing" : "unknown";
	if (sqlite3_prepare_v2(db_sqlite(db), sql, -1, &s, NULL) != SQLITE_OK)
		return db_fail(db, "record observation");
	b |= sqlite3_bind_int64(s, 1, pool_id);
	b |= run_id != 0 ? sqlite3_bind_int64(s, 2, run_id)
	                 : sqlite3_bind_null(s, 2);
	b |= sqlite3_bind_int64(s, 3, at);
	b |= bind_text_or_null(s, 4, v ? v->node_image_version : NULL);
	b |= bind_text_or_null(s, 5, v ? v->kubernetes_version : NULL);
	b |= bind_text_or_null(s, 6, v ? v->os_type : NULL);
	b |= bind_text_or_null(s, 7, v ? v->os_sku : NULL);
	b |= bind_text_or_null(s, 8, v ? v->vm_size : NULL);
	b |= v != NULL ? sqlite3_bind_int(s, 9, v->enable_fips != 0)
	               : sqlite3_bind_null(s, 9);
	b |= sqlite3_bind_text(s, 10, provisioning_state, -1, SQLITE_TRANSIENT);
	b |= bind_text_or_null(s, 11, o ? o->upgrade_channel : NULL);
	b |= bind_text_or_null(s, 12, o ? o->node_os_channel : NULL);
	b |= bind_text_or_null(s, 13, o ? o->changed_by : NULL);
	if (b != SQLITE_OK || sqlite3_step(s) != SQLITE_DONE)
		db_fail(db, "record observation");
	else
		rc = 0;
	sqlite3_finalize(s);
	return rc;
}

int
db_apply_add(struct db *db, const struct db_apply *a)
{
	static const char sql[] =
	    "INSERT INTO applies (run_id, snapshot_id, pool_id, target, kind, "
	    "at, rollback, cross_region, from_kubernetes_version, "
	    "from_node_image_version, kubernetes_version, node_image_version) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
	sqlite3_stmt *s = NULL;
	int b = 0, rc = -1;

	if (sqlite3_prepare_v2(db_sqlite(db), sql, -1, &s, NULL) != SQLITE_OK)
		return db_fail(db, "record apply");
	b |= a->run_id ? sqlite3_bind_int64(s, 1, a->run_id)
	               : sqlite3_bind_null(s, 1);
	b |= a->snapshot_id ? sqlite3_bind_int64(s, 2, a->snapshot_id)
	                    : sqlite3_bind_null(s, 2);
	b |= a->pool_id ? sqlite3_bind_int64(s, 3, a->pool_id)
	                : sqlite3_bind_null(s, 3);
	b |= sqlite3_bind_text(s, 4, a->target, -1, SQLITE_TRANSIENT);
	b |= sqlite3_bind_text(s, 5, a->kind, -1, SQLITE_TRANSIENT);
	b |= sqlite3_bind_int64(s, 6, a->at);
	b |= sqlite3_bind_int(s, 7, a->rollback != 0);
	b |= sqlite3_bind_int(s, 8, a->cross_region != 0);
	b |= bind_text_or_null(s, 9, a->from.kubernetes_version);
	b |= bind_text_or_null(s, 10, a->from.node_image_version);
	b |= bind_text_or_null(s, 11, a->to.kubernetes_version);
	b |= bind_text_or_null(s, 12, a->to.node_image_version);
	if (b != SQLITE_OK || sqlite3_step(s) != SQLITE_DONE)
		db_fail(db, "record apply");
	else
		rc = 0;
	sqlite3_finalize(s);
	return rc;
}

static void
text_of(sqlite3_stmt *s, int i, char *dst, size_t size)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	util_strlcpy(dst, t != NULL ? (const char *)t : "", size);
}

int
db_apply_list(struct db *db, int64_t snapshot_id,
    int (*cb)(void *ctx, const struct db_apply *a), void *ctx)
{
	static const char sql[] =
	    "SELECT id, run_id, snapshot_id, pool_id, target, kind, at, "
	    "rollback, cross_region, from_kubernetes_version, "
	    "from_node_image_version, kubernetes_version, node_image_version "
	    "FROM applies WHERE snapshot_id = ?1 ORDER BY at, id";
	sqlite3_stmt *s = NULL;
	struct db_apply a;
	int rc;

	if (sqlite3_prepare_v2(db_sqlite(db), sql, -1, &s, NULL) != SQLITE_OK)
		return db_fail(db, "list applies");
	if (sqlite3_bind_int64(s, 1, snapshot_id) != SQLITE_OK) {
		sqlite3_finalize(s);
		return db_fail(db, "list applies");
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&a, 0, sizeof(a));
		a.id = sqlite3_column_int64(s, 0);
		a.run_id = sqlite3_column_int64(s, 1);
		a.snapshot_id = sqlite3_column_int64(s, 2);
		a.pool_id = sqlite3_column_int64(s, 3);
		text_of(s, 4, a.target, sizeof(a.target));
		text_of(s, 5, a.kind, sizeof(a.kind));
		a.at = (time_t)sqlite3_column_int64(s, 6);
		a.rollback = sqlite3_column_int(s, 7);
		a.cross_region = sqlite3_column_int(s, 8);
		text_of(s, 9, a.from.kubernetes_version,
		    sizeof(a.from.kubernetes_version));
		text_of(s, 10, a.from.node_image_version,
		    sizeof(a.from.node_image_version));
		text_of(s, 11, a.to.kubernetes_version,
		    sizeof(a.to.kubernetes_version));
		text_of(s, 12, a.to.node_image_version,
		    sizeof(a.to.node_image_version));
		if (cb(ctx, &a) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return db_fail(db, "list applies");
	return 0;
}
