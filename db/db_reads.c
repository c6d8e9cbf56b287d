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
