/*
 * db_pool_memo.c -- pool_sync_memo: the pools a run synced last, by a
 * digest of their configuration, and their ids.
 *
 * db_pool_sync_many reads every pools row and matches it with the
 * configured pools; on a steady fleet the answer is the same run after
 * run.  The memo keeps that answer in one row: a 128-bit digest of what
 * the match depends on (each configured pool's key, subscription,
 * resource group, cluster and node pool, in the caller's order, and
 * their number) and the ids.  Its other half, the pools rows, is guarded
 * by triggers (0022): any insert, delete or change of a compared column
 * deletes the memo.  The digest is two 64-bit hashes of different
 * construction (FNV-1a, and a multiply-rotate one), each finished by
 * splitmix64's mixer: not a defence against a forged configuration (who
 * writes the configuration runs the job), but a change made by hand
 * would have to collide in both.
 */

#include "db/db_pool_memo.h"

#include <stdlib.h>
#include <string.h>

#include "db/db_internal.h"
#include "job/base/log.h"

#define DIGEST_LEN 16

struct digest {
	uint64_t a, b;
};

static void
digest_bytes(struct digest *d, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint64_t c = (unsigned char)s[i];

		d->a = (d->a ^ c) * 0x100000001b3ULL;
		d->b = (d->b + c + 1) * 0x9e3779b97f4a7c15ULL;
		d->b ^= d->b >> 29;
	}
}

/* A string and its terminating NUL: "ab","c" differs from "a","bc". */
static void
digest_str(struct digest *d, const char *s)
{
	digest_bytes(d, s, strlen(s) + 1);
}

static uint64_t
mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static void
digest_of(
    const struct pool_conf *const *pcs, size_t n, unsigned char out[DIGEST_LEN])
{
	struct digest d = {0xcbf29ce484222325ULL, 0x243f6a8885a308d3ULL};
	char num[32];
	uint64_t a, b;

	snprintf(num, sizeof(num), "%zu", n);
	digest_str(&d, num);
	for (size_t i = 0; i < n; i++) {
		digest_str(&d, pcs[i]->key);
		digest_str(&d, pcs[i]->subscription);
		digest_str(&d, pcs[i]->resource_group);
		digest_str(&d, pcs[i]->cluster);
		digest_str(&d, pcs[i]->nodepool);
	}
	a = mix(d.a);
	b = mix(d.b ^ a);
	for (int k = 0; k < 8; k++) {
		out[k] = (unsigned char)(a >> (8 * k));
		out[8 + k] = (unsigned char)(b >> (8 * k));
	}
}

/* What db_pool_memo_get reads into. */
struct memo_read {
	const unsigned char *digest;
	int64_t *ids;
	size_t n;
	int hit;
};

static int
row_memo(void *ctx, sqlite3_stmt *s)
{
	struct memo_read *m = ctx;
	const unsigned char *d = sqlite3_column_blob(s, 0);
	const unsigned char *v;

	if (d == NULL || sqlite3_column_bytes(s, 0) != DIGEST_LEN ||
	    memcmp(d, m->digest, DIGEST_LEN) != 0)
		return 0;
	v = sqlite3_column_blob(s, 1);
	if ((size_t)sqlite3_column_bytes(s, 1) != m->n * 8 ||
	    (v == NULL && m->n > 0))
		return 0;
	for (size_t i = 0; i < m->n; i++) {
		uint64_t x = 0;

		for (int k = 7; k >= 0; k--)
			x = (x << 8) | v[i * 8 + (size_t)k];
		m->ids[i] = (int64_t)x;
	}
	m->hit = 1;
	return 0;
}

int
db_pool_memo_get(
    struct db *db, const struct pool_conf *const *pcs, size_t n, int64_t *ids)
{
	unsigned char digest[DIGEST_LEN];
	struct memo_read m;

	digest_of(pcs, n, digest);
	m.digest = digest;
	m.ids = ids;
	m.n = n;
	m.hit = 0;
	if (db_get_one(db, "SELECT digest, ids FROM pool_sync_memo",
	        "read the pools synced last", DB_NO_ARGS, row_memo, &m) < 0)
		return -1;
	return m.hit;
}

int
db_pool_memo_put(struct db *db, const struct pool_conf *const *pcs, size_t n,
    const int64_t *ids)
{
	unsigned char digest[DIGEST_LEN], *v;
	int rc;

	v = malloc(n > 0 ? n * 8 : 1);
	if (v == NULL) {
		log_err(NULL, "out of memory");
		return -1;
	}
	digest_of(pcs, n, digest);
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < 8; k++)
			v[i * 8 + (size_t)k] =
			    (unsigned char)((uint64_t)ids[i] >> (8 * k));
	rc = db_exec(db,
	    "INSERT OR REPLACE INTO pool_sync_memo (one, digest, ids) "
	    "VALUES (1, ?1, ?2)",
	    "remember the pools synced",
	    DB_ARGS(DB_BLOB(digest, DIGEST_LEN), DB_BLOB(v, n * 8)));
	free(v);
	return rc;
}
