/*
 * db_reads.c -- a read transaction for the fleet-wide read commands.
 *
 * A statement stepped outside a transaction takes SQLite's shared lock
 * (an fcntl), checks the file's change counter and drops the lock when
 * it is reset: for 10,000 pools and four statements a pool, a sixth of
 * `drift`'s CPU.  Inside one BEGIN (deferred: it locks at its first
 * read) the lock is taken once, and every pool is read from one state
 * of the store, whatever a run writes meanwhile (WAL).
 *
 * What a command would otherwise ask once a pool, read once: every
 * pool's id (a walk of the keys' index, then a binary search a pool);
 * the snapshots left pending are db_list.c's (db_snapshot_pending_each).
 *
 * The order to read pools in (db_pool_ids_order): the store's, by id.
 * The page cache (4 MiB, db.c) holds what one pool's reads touch many
 * times over, but not what the configuration's order touches between
 * two pools that share a page: at 10,000 pools, ids 50 apart follow each
 * other in the configuration, and a page came back every ~1,500 page
 * reads, after 1,024 pages had pushed it out.
 */
#include "db/db_reads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_internal.h"
#include "job/base/log.h"
#include "job/base/util.h"

struct db_pool_id {
	char *key;
	int64_t id;
};

struct db_pool_ids {
	struct db_pool_id *v; /* by key, as the index orders it (BINARY) */
	size_t n;
	char *keys; /* every key, NUL-ended, one after the other */
};

int
db_read_begin(struct db *db)
{
	if (sqlite3_exec(db_sqlite(db), "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(db, "begin a read");
	return 0;
}

void
db_read_end(struct db *db)
{
	if (db != NULL && !sqlite3_get_autocommit(db_sqlite(db)))
		(void)sqlite3_exec(db_sqlite(db), "COMMIT", NULL, NULL, NULL);
}

void
db_pool_ids_free(struct db_pool_ids *ids)
{
	if (ids == NULL)
		return;
	free(ids->v);
	free(ids->keys);
	free(ids);
}

/* Append ${key} and ${id} to ${ids}, growing it.  0/-1. */
static int
ids_add(struct db_pool_ids *ids, size_t *cap, size_t *used, size_t *kcap,
    const char *key, int64_t id)
{
	size_t len = strlen(key) + 1;
	void *p;

	if (ids->n == *cap) {
		*cap = *cap != 0 ? *cap * 2 : 256;
		p = realloc(ids->v, *cap * sizeof(*ids->v));
		if (p == NULL)
			return -1;
		ids->v = p;
	}
	if (*used + len > *kcap) {
		*kcap = *kcap != 0 ? *kcap * 2 : 8192;
		while (*used + len > *kcap)
			*kcap *= 2;
		p = realloc(ids->keys, *kcap);
		if (p == NULL)
			return -1;
		ids->keys = p;
	}
	memcpy(ids->keys + *used, key, len);
	/* an offset until every key is in (ids->keys may move) */
	ids->v[ids->n].key = (char *)(uintptr_t)*used;
	ids->v[ids->n++].id = id;
	*used += len;
	return 0;
}

int
db_pool_ids_load(struct db *db, struct db_pool_ids **out)
{
	struct db_pool_ids *ids;
	sqlite3_stmt *s = NULL;
	size_t cap = 0, used = 0, kcap = 0;
	int rc = SQLITE_ERROR, ret = -1;

	*out = NULL;
	ids = calloc(1, sizeof(*ids));
	if (ids == NULL)
		goto done;
	if (sqlite3_prepare_v2(db_sqlite(db),
	        "SELECT key, id FROM pools ORDER BY key", -1, &s,
	        NULL) != SQLITE_OK) {
		db_fail(db, "read the pools' ids");
		goto done;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(s, 0);

		if (ids_add(ids, &cap, &used, &kcap, key != NULL ? key : "",
		        sqlite3_column_int64(s, 1))) {
			log_err(NULL, "store: out of memory");
			goto done;
		}
	}
	if (rc != SQLITE_DONE) {
		db_fail(db, "read the pools' ids");
		goto done;
	}
	for (size_t i = 0; i < ids->n; i++)
		ids->v[i].key = ids->keys + (uintptr_t)ids->v[i].key;
	*out = ids;
	ids = NULL;
	ret = 0;
done:
	sqlite3_finalize(s);
	db_pool_ids_free(ids);
	return ret;
}

static int
id_order(const void *vkey, const void *vid)
{
	const struct db_pool_id *id = vid;

	return strcmp((const char *)vkey, id->key);
}

int64_t
db_pool_ids_find(const struct db_pool_ids *ids, const char *key)
{
	const struct db_pool_id *hit;

	if (ids == NULL || ids->n == 0)
		return 0;
	hit = bsearch(key, ids->v, ids->n, sizeof(*ids->v), id_order);
	return hit != NULL ? hit->id : 0;
}

/* A position and its pool's id, sorted by id (0: not stored) last. */
struct id_at {
	int64_t id;
	size_t at;
};

static int
id_at_order(const void *va, const void *vb)
{
	const struct id_at *a = va, *b = vb;

	if ((a->id == 0) != (b->id == 0))
		return a->id == 0 ? 1 : -1;
	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	return a->at < b->at ? -1 : a->at > b->at;
}

int
db_pool_ids_order(const int64_t *pool_ids, size_t n, size_t *order)
{
	struct id_at *v;

	if (n == 0)
		return 0;
	v = calloc(n, sizeof(*v));
	if (v == NULL) {
		log_err(NULL, "store: out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		v[i].id = pool_ids[i];
		v[i].at = i;
	}
	qsort(v, n, sizeof(*v), id_at_order);
	for (size_t i = 0; i < n; i++)
		order[i] = v[i].at;
	free(v);
	return 0;
}

/*
 * db_pools_read: each fact of every pool asked for by one statement,
 * stepped pool after pool: the pools are a JSON array bound once
 * (json_each, in the array's order), each fact a LEFT JOIN (a row for
 * every pool, NULL when it has none) or a scalar subquery of that
 * element -- the same index seeks as the per-pool statements, without
 * their bind, step and reset 30,000 times at 10,000 pools.
 */
enum { FACT_OBS, FACT_NEWEST, FACT_BASE, FACT_SUCCESS, NFACTS };

/* The SQL of fact ${f} after the column list (or the column list's
 * place, for FACT_SUCCESS: the whole text after SELECT). */
static const char *const fact_from[NFACTS] = {
    [FACT_OBS] = "FROM json_each(?1) j LEFT JOIN observations o "
                 "ON o.id = (SELECT q.id FROM observations q "
                 "WHERE q.pool_id = j.value "
                 "ORDER BY q.observed_at DESC, q.id DESC LIMIT 1) "
                 "LEFT JOIN pools p ON p.id = o.pool_id",
    [FACT_NEWEST] = "FROM json_each(?1) j LEFT JOIN snapshots s "
                    "ON s.id = (SELECT a.id FROM snapshots a "
                    "WHERE a.pool_id = j.value AND a.state = 'active' "
                    "ORDER BY a.created_at DESC, a.id DESC LIMIT 1) "
                    "LEFT JOIN pools p ON p.id = s.pool_id",
    /* the holder's row through snapshot_channels_holder (left_at IS
     * NULL: unique per pool and channel); ?1 here holds [id, channel]
     * pairs */
    [FACT_BASE] = "FROM json_each(?1) j LEFT JOIN snapshot_channels h "
                  "ON h.pool_id = json_extract(j.value, '$[0]') "
                  "AND h.channel = json_extract(j.value, '$[1]') "
                  "AND h.left_at IS NULL "
                  "LEFT JOIN snapshots s ON s.id = h.snapshot_id "
                  "LEFT JOIN pools p ON p.id = s.pool_id",
    [FACT_SUCCESS] = DB_POOL_LAST_SUCCESS("j.value") " FROM json_each(?1) j",
};

static const char *const fact_what[NFACTS] = {
    "read the pools' latest observations",
    "read the pools' newest active snapshots",
    "read the pools' baselines",
    "read the pools' last successes",
};

/* Fact ${f}'s SQL into ${sql}.  0, or -1 when out of memory (logged). */
static int
fact_sql(int f, struct buf *sql)
{
	buf_free(sql); /* empty, as buf_init left it */
	if (buf_printf(sql, "SELECT %s%s",
	        f == FACT_OBS                            ? db_obs_cols()
	            : f == FACT_NEWEST || f == FACT_BASE ? db_snap_cols()
	                                                 : "",
	        fact_from[f])) {
		log_err(NULL, "store: out of memory");
		return -1;
	}
	return 0;
}

/* Fact ${f}'s statement, ?1 bound to ${json} (kept by the caller).  NULL
 * on error (logged). */
static sqlite3_stmt *
fact_stmt(struct db *db, int f, const char *json, struct buf *sql)
{
	sqlite3_stmt *s;

	if (fact_sql(f, sql))
		return NULL;
	s = db_stmt(db, sql->data, fact_what[f]);
	if (s == NULL)
		return NULL;
	if (sqlite3_bind_text(s, 1, json, -1, SQLITE_STATIC) != SQLITE_OK) {
		db_fail(db, fact_what[f]);
		db_stmt_done(db, s);
		return NULL;
	}
	return s;
}

/* Step fact ${f}'s statement to the next pool's row, read it into ${r}.
 * 0/-1. */
static int
fact_step(struct db *db, int f, sqlite3_stmt *s, struct db_pool_read *r)
{
	int found;

	if (sqlite3_step(s) != SQLITE_ROW)
		return db_fail(db, fact_what[f]);
	found = sqlite3_column_type(s, 0) != SQLITE_NULL;
	switch (f) {
	case FACT_OBS:
		r->have_obs = found;
		if (found)
			(void)db_row_observation(&r->obs, s);
		break;
	case FACT_NEWEST:
		r->have_newest = found;
		if (found)
			(void)db_row_snapshot(&r->newest, s);
		break;
	case FACT_BASE:
		r->have_base = found;
		if (found)
			(void)db_row_snapshot(&r->base, s);
		break;
	default:
		r->last_success = (time_t)sqlite3_column_int64(s, 0);
		break;
	}
	return 0;
}

static const unsigned fact_bit[NFACTS] = {
    DB_POOL_OBS, DB_POOL_NEWEST, DB_POOL_BASELINE, DB_POOL_SUCCESS};

int
db_pools_read_plan(struct db *db, unsigned fact, char *buf, size_t len)
{
	struct buf sql;
	int rc = -1;

	buf_init(&sql, (size_t)-1 / 2);
	for (int f = 0; f < NFACTS; f++)
		if (fact == fact_bit[f] && fact_sql(f, &sql) == 0)
			rc = db_explain(db, sql.data, buf, len);
	buf_free(&sql);
	return rc;
}

int
db_pools_read(struct db *db, const int64_t *pool_ids,
    const char *const *channels, size_t n, unsigned want, db_pool_read_fn *cb,
    void *ctx)
{
	struct db_pool_read *r = NULL;
	char *ids = NULL, *pairs = NULL;
	struct buf sql;
	sqlite3_stmt *s[NFACTS] = {0};
	int ret = -1;

	if (n == 0)
		return 0;
	buf_init(&sql, (size_t)-1 / 2);
	r = malloc(sizeof(*r));
	if (r == NULL) {
		log_err(NULL, "store: out of memory");
		goto done;
	}
	if (db_pools_json(pool_ids, NULL, n, &ids) ||
	    ((want & DB_POOL_BASELINE) &&
	        db_pools_json(pool_ids, channels, n, &pairs)))
		goto done;
	for (int f = 0; f < NFACTS; f++) {
		if (!(want & fact_bit[f]))
			continue;
		s[f] = fact_stmt(db, f, f == FACT_BASE ? pairs : ids, &sql);
		if (s[f] == NULL)
			goto done;
	}
	for (size_t k = 0; k < n; k++) {
		memset(r, 0, sizeof(*r));
		r->pool_id = pool_ids[k];
		for (int f = 0; f < NFACTS; f++)
			if (s[f] != NULL && fact_step(db, f, s[f], r))
				goto done;
		ret = cb(ctx, k, r);
		if (ret != 0)
			goto done;
	}
	ret = 0;
done:
	for (int f = 0; f < NFACTS; f++)
		db_stmt_done(db, s[f]);
	free(r);
	free(ids);
	free(pairs);
	buf_free(&sql);
	return ret;
}
