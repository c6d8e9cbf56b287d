/*
 * test_db_reads.c -- what the fleet-wide read commands read once instead
 * of once a pool (db/db_reads.c): every pool's id, found by its key as
 * db_pool_get finds it; the snapshots left pending, in the order check
 * lists a pool's (unconfirmed before deleting, newest first), from an
 * index seek (never a scan of the table, which grows with the store's
 * age); the read transaction, which reads one state of the store; and
 * the store's order of the pools, in which a walk of every pool reads
 * each page once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "db/db.h"
#include "db/db_internal.h"
#include "db/db_list.h"
#include "db/db_reads.h"
#include "db/migrations.h"
#include "tests/unit/db/fixture.h"

/* Pools 1..3 (keys out of order) and their snapshots, written raw. */
static void
store(struct fx *f)
{
	assert_int_equal(db_open(f->path, &f->db), 0);
	raw_exec(f->path,
	    "INSERT INTO pools (id, key, subscription, resource_group, "
	    "cluster, nodepool, arm_id, created_at, updated_at) VALUES "
	    "(1, 'b-pool', 's', 'rg', 'c', 'b', 'x/b', 1, 1), "
	    "(2, 'a-pool', 's', 'rg', 'c', 'a', 'x/a', 1, 1), "
	    "(3, 'C-pool10', 's', 'rg', 'c', 'c', 'x/c', 1, 1);"
	    "INSERT INTO snapshots (pool_id, name, created_at, state, "
	    "updated_at) VALUES "
	    "(2, 'a-del', 100, 'deleting', 1), "
	    "(1, 'b-unc-old', 50, 'unconfirmed', 1), "
	    "(1, 'b-del', 200, 'deleting', 1), "
	    "(1, 'b-unc-new', 150, 'unconfirmed', 1), "
	    "(1, 'b-active', 300, 'active', 1), "
	    "(3, 'c-creating', 300, 'creating', 1), "
	    "(3, 'c-deleted', 300, 'deleted', 1);");
}

static void
test_pool_ids_find_every_stored_pool(void **state)
{
	struct fx *f = *state;
	struct db_pool_ids *ids = NULL;

	store(f);
	assert_int_equal(db_pool_ids_load(f->db, &ids), 0);
	assert_int_equal(db_pool_ids_find(ids, "b-pool"), 1);
	assert_int_equal(db_pool_ids_find(ids, "a-pool"), 2);
	assert_int_equal(db_pool_ids_find(ids, "C-pool10"), 3);
	/* a key is as db_pool_get compares it: byte for byte */
	assert_int_equal(db_pool_ids_find(ids, "c-pool10"), 0);
	assert_int_equal(db_pool_ids_find(ids, "d-pool"), 0);
	assert_int_equal(db_pool_ids_find(NULL, "a-pool"), 0);
	db_pool_ids_free(ids);
	db_pool_ids_free(NULL);
}

static int
pending_line(void *ctx, const struct db_snapshot *s)
{
	char *buf = ctx;
	size_t n = strlen(buf);

	snprintf(buf + n, 512 - n, "%lld %s %s\n", (long long)s->pool_id,
	    s->name, s->state);
	return 0;
}

static void
test_pending_each_in_check_order_from_an_index(void **state)
{
	struct fx *f = *state;
	char got[512] = "", plan[2048];

	store(f);
	assert_int_equal(db_snapshot_pending_each(f->db, pending_line, got), 0);
	assert_string_equal(got,
	    "1 b-unc-new unconfirmed\n"
	    "1 b-unc-old unconfirmed\n"
	    "1 b-del deleting\n"
	    "2 a-del deleting\n");
	assert_int_equal(
	    db_snapshot_pending_plan(f->db, plan, sizeof(plan)), 0);
	if (strstr(plan, "INDEX snapshots_by_state") == NULL ||
	    strstr(plan, "SCAN s") != NULL)
		fail_msg("pending: %s", plan);
}

/* Inside db_read_begin, a write by another connection is not seen; after
 * db_read_end it is. */
static void
test_read_transaction_reads_one_state(void **state)
{
	struct fx *f = *state;
	struct db_pool_ids *ids = NULL;

	store(f);
	assert_int_equal(db_read_begin(f->db), 0);
	assert_int_equal(db_pool_ids_load(f->db, &ids), 0);
	db_pool_ids_free(ids);
	raw_exec(f->path,
	    "INSERT INTO pools (id, key, subscription, resource_group, "
	    "cluster, nodepool, arm_id, created_at, updated_at) VALUES "
	    "(4, 'd-pool', 's', 'rg', 'c', 'd', 'x/d', 1, 1)");
	assert_int_equal(db_pool_ids_load(f->db, &ids), 0);
	assert_int_equal(db_pool_ids_find(ids, "d-pool"), 0);
	db_pool_ids_free(ids);
	db_read_end(f->db);
	assert_int_equal(db_pool_ids_load(f->db, &ids), 0);
	assert_int_equal(db_pool_ids_find(ids, "d-pool"), 4);
	db_pool_ids_free(ids);
	db_read_end(f->db); /* none open: a no-op */
}

/* By id; the positions of pools not in the store last, in order. */
static void
test_pool_ids_order_is_the_stores(void **state)
{
	static const int64_t ids[] = {30, 0, 10, 20, 0, 5};
	static const size_t want[] = {5, 2, 3, 0, 1, 4};
	size_t order[6];

	(void)state;
	assert_int_equal(db_pool_ids_order(ids, 6, order), 0);
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(order[i], want[i]);
	assert_int_equal(db_pool_ids_order(ids, 0, order), 0);
}

#define WALK_POOLS 400
#define WALK_DAYS 8

/* Pages read (page cache misses) reading every pool's latest
 * observation, the pools taken in ${order} (ids 1..WALK_POOLS). */
static long long
walk_misses(struct db *db, const size_t *order)
{
	struct db_observation o;
	int cur = 0, hi = 0;

	assert_int_equal(db_read_begin(db), 0);
	assert_int_equal(sqlite3_db_status(db_sqlite(db),
	                     SQLITE_DBSTATUS_CACHE_MISS, &cur, &hi, 1),
	    SQLITE_OK);
	for (size_t k = 0; k < WALK_POOLS; k++)
		assert_int_equal(
		    db_observation_latest(db, (int64_t)order[k] + 1, &o), 1);
	assert_int_equal(sqlite3_db_status(db_sqlite(db),
	                     SQLITE_DBSTATUS_CACHE_MISS, &cur, &hi, 0),
	    SQLITE_OK);
	db_read_end(db);
	return cur;
}

/*
 * Rows written as a run writes them, pool after pool in id order, a day
 * after a day: a page holds the rows of pools of close ids.  Read in
 * db_pool_ids_order's order, with a page cache smaller than the walk
 * touches, each page is read about once; read in an order of its own
 * (pools 50 ids apart one after the other, as a configuration lists
 * them), pages come back after the cache dropped them.
 */
static void
test_store_order_reads_each_page_once(void **state)
{
	struct fx *f = *state;
	int64_t ids[WALK_POOLS];
	size_t by_id[WALK_POOLS], by_conf[WALK_POOLS];
	char sql[512];
	long long in_order, scattered, pages;

	assert_int_equal(db_open(f->path, &f->db), 0);
	raw_exec(f->path,
	    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
	    "WHERE i < 400) INSERT INTO pools (id, key, subscription, "
	    "resource_group, cluster, nodepool, arm_id, created_at, "
	    "updated_at) SELECT i, printf('p%04d', i), 's', 'rg', 'c', "
	    "printf('n%d', i), printf('x/%d', i), 1, 1 FROM n");
	for (int d = 0; d < WALK_DAYS; d++) {
		snprintf(sql, sizeof(sql),
		    "INSERT INTO observations (pool_id, observed_at, "
		    "node_image_version, kubernetes_version, "
		    "provisioning_state, last_seen) SELECT id, %d, "
		    "printf('AKSUbuntu-2204gen2containerd-2026%02d.%%d.0', "
		    "id), '1.34.1', 'Succeeded', %d FROM pools ORDER BY id",
		    1000 * (d + 1), d + 1, 1000 * (d + 1));
		raw_exec(f->path, sql);
	}
	/* 16 pages: what the walk touches is more */
	assert_int_equal(sqlite3_exec(db_sqlite(f->db),
	                     "PRAGMA cache_size = 16", NULL, NULL, NULL),
	    SQLITE_OK);
	for (size_t i = 0; i < WALK_POOLS; i++) {
		/* configuration order: 8 clusters of 50 pools, ids 8 apart */
		by_conf[i] = (i % 50) * 8 + i / 50;
		ids[i] = (int64_t)by_conf[i] + 1;
	}
	assert_int_equal(db_pool_ids_order(ids, WALK_POOLS, by_id), 0);
	for (size_t i = 0; i < WALK_POOLS; i++)
		by_id[i] = by_conf[by_id[i]];
	in_order = walk_misses(f->db, by_id);
	scattered = walk_misses(f->db, by_conf);
	pages = raw_int(f->path, "PRAGMA page_count");
	if (in_order > pages || scattered < 3 * in_order)
		fail_msg("pages read: %lld in store order, %lld in the "
		         "configuration's, of %lld",
		    in_order, scattered, pages);
}

/*
 * db_pools_read: each fact of each pool, as the per-pool statement gives
 * it, whatever the pools' order; one statement a fact, whatever the
 * number of pools.
 */

/* store()'s pools, with observations, channel holders (one of them not
 * active, one of another pool's snapshot) and a skip. */
static void
facts_store(struct fx *f)
{
	store(f);
	raw_exec(f->path,
	    "INSERT INTO observations (pool_id, observed_at, "
	    "node_image_version, kubernetes_version, provisioning_state, "
	    "upgrade_channel, last_seen) VALUES "
	    "(1, 100, 'img-1a', '1.33.0', 'Succeeded', 'patch', 150), "
	    "(1, 200, 'img-1b', '1.34.0', 'Succeeded', 'none', 250), "
	    "(3, 300, NULL, NULL, 'missing', NULL, 300);"
	    "INSERT INTO snapshots (pool_id, name, created_at, state, "
	    "node_image_version, updated_at) VALUES "
	    "(1, 'b-active-old', 120, 'active', 'img-1a', 1), "
	    "(2, 'a-active', 90, 'active', 'img-2', 1);"
	    "INSERT INTO snapshot_channels (pool_id, snapshot_id, channel, "
	    "promoted_at) SELECT 1, id, 'stable', 400 FROM snapshots "
	    "WHERE name = 'b-active-old';"
	    "INSERT INTO snapshot_channels (pool_id, snapshot_id, channel, "
	    "promoted_at) SELECT 1, id, 'can\"ary', 410 FROM snapshots "
	    "WHERE name = 'b-del';"
	    "INSERT INTO snapshot_channels (pool_id, snapshot_id, channel, "
	    "promoted_at) SELECT 3, id, 'stable', 420 FROM snapshots "
	    "WHERE name = 'a-active';"
	    "INSERT INTO decision_rows (pool_id, at, action, last_at) VALUES "
	    "(2, 500, 'skip', 700);");
}

struct facts_seen {
	struct db *db;
	const int64_t *ids;
	const char *const *channels;
	size_t calls;
};

/* Each pool's facts as the per-pool statements give them. */
static int
facts_check(void *ctx, size_t k, const struct db_pool_read *r)
{
	struct facts_seen *fs = ctx;
	struct db_observation o;
	struct db_snapshot s;
	time_t last = -1;
	int got;

	assert_int_equal(k, fs->calls);
	fs->calls++;
	assert_int_equal(r->pool_id, fs->ids[k]);
	got = db_observation_latest(fs->db, r->pool_id, &o);
	assert_int_equal(r->have_obs, got);
	if (got)
		assert_memory_equal(&r->obs, &o, sizeof(o));
	got = db_snapshot_newest_active(fs->db, r->pool_id, &s);
	assert_int_equal(r->have_newest, got);
	if (got)
		assert_memory_equal(&r->newest, &s, sizeof(s));
	got = db_snapshot_channel(fs->db, r->pool_id, fs->channels[k], &s);
	assert_int_equal(r->have_base, got);
	if (got)
		assert_memory_equal(&r->base, &s, sizeof(s));
	assert_int_equal(db_pool_last_success(fs->db, r->pool_id, &last), 0);
	assert_int_equal(r->last_success, last);
	return 0;
}

/* Statements begun (SQLITE_TRACE_STMT). */
static int
count_stmt(unsigned what, void *ctx, void *p, void *x)
{
	(void)what;
	(void)p;
	(void)x;
	(*(long *)ctx)++;
	return 0;
}

static long
facts_read(
    struct fx *f, const int64_t *ids, const char *const *channels, size_t n)
{
	struct facts_seen fs = {f->db, ids, channels, 0};
	struct db_pool_read none;
	long stmts = 0;

	memset(&none, 0, sizeof(none));
	assert_int_equal(sqlite3_trace_v2(db_sqlite(f->db), SQLITE_TRACE_STMT,
	                     count_stmt, &stmts),
	    SQLITE_OK);
	assert_int_equal(db_pools_read(f->db, ids, channels, n,
	                     DB_POOL_OBS | DB_POOL_NEWEST | DB_POOL_BASELINE |
	                         DB_POOL_SUCCESS,
	                     facts_check, &fs),
	    0);
	assert_int_equal(
	    sqlite3_trace_v2(db_sqlite(f->db), 0, NULL, NULL), SQLITE_OK);
	/* facts_check's own statements: four a pool */
	assert_int_equal(fs.calls, n);
	return stmts - 4 * (long)n;
}

/*
 * Statements: one for every fact but the baseline (the pools rows
 * too), one a channel for the baselines, and one for pool 3's
 * baseline, pool 2's snapshot (its key and ARM id from its own pool)
 * -- whatever the number of pools.
 */
static void
test_pools_read_as_the_per_pool_statements(void **state)
{
	static const int64_t ids[] = {3, 1, 2};
	static const char *const channels[] = {"stable", "can\"ary", "x"};
	static const char *const stable[] = {"stable", "stable", "stable"};
	struct fx *f = *state;
	long one, three, same;

	facts_store(f);
	/* a stored ARM id (not derived) is read as stored */
	raw_exec(f->path,
	    "UPDATE snapshots SET arm_id = '/x/b-active-old' "
	    "WHERE name = 'b-active-old'");
	one = facts_read(f, ids, channels, 1);
	three = facts_read(f, ids, channels, 3);
	same = facts_read(f, ids, stable, 3);
	if (one != 3 || three != 5 || same != 3)
		fail_msg("statements: %ld for one pool, %ld for three of three "
		         "channels, %ld of one",
		    one, three, same);
	assert_int_equal(
	    db_pools_read(f->db, ids, channels, 0, DB_POOL_OBS, NULL, NULL), 0);
}

/* Every pool's facts as read, kept (facts_keep). */
struct facts_kept {
	struct db_pool_read r[3];
	size_t n;
};

static int
facts_keep(void *ctx, size_t k, const struct db_pool_read *r)
{
	struct facts_kept *fk = ctx;

	assert_int_equal(k, fk->n);
	fk->r[fk->n++] = *r;
	return 0;
}

/* What DB_POOL_BRIEF keeps of the full row ${r} (db_reads.h's list);
 * DB_POOL_NEWEST_AT without DB_POOL_NEWEST: of the newest snapshot, its
 * id and created_at alone. */
static struct db_pool_read
facts_brief(const struct db_pool_read *r, int newest_at)
{
	struct db_pool_read b;
	const struct db_snapshot *from[2] = {&r->newest, &r->base};
	struct db_snapshot *to[2] = {&b.newest, &b.base};

	memset(&b, 0, sizeof(b));
	b.pool_id = r->pool_id;
	b.have_obs = r->have_obs;
	b.have_newest = r->have_newest;
	b.have_base = r->have_base;
	b.last_success = r->last_success;
	b.obs.id = r->obs.id;
	memcpy(b.obs.pool_key, r->obs.pool_key, sizeof(b.obs.pool_key));
	b.obs.observed_at = r->obs.observed_at;
	b.obs.last_seen = r->obs.last_seen;
	memcpy(b.obs.v.node_image_version, r->obs.v.node_image_version,
	    sizeof(b.obs.v.node_image_version));
	memcpy(b.obs.v.kubernetes_version, r->obs.v.kubernetes_version,
	    sizeof(b.obs.v.kubernetes_version));
	memcpy(b.obs.provisioning_state, r->obs.provisioning_state,
	    sizeof(b.obs.provisioning_state));
	memcpy(b.obs.upgrade_channel, r->obs.upgrade_channel,
	    sizeof(b.obs.upgrade_channel));
	memcpy(b.obs.node_os_channel, r->obs.node_os_channel,
	    sizeof(b.obs.node_os_channel));
	for (int i = 0; i < 2; i++) {
		to[i]->id = from[i]->id;
		to[i]->created_at = from[i]->created_at;
		if (i == 0 && newest_at)
			continue;
		to[i]->pool_id = from[i]->pool_id;
		memcpy(to[i]->pool_key, from[i]->pool_key,
		    sizeof(to[i]->pool_key));
		memcpy(to[i]->name, from[i]->name, sizeof(to[i]->name));
		memcpy(to[i]->arm_id, from[i]->arm_id, sizeof(to[i]->arm_id));
		to[i]->v = from[i]->v;
		memcpy(to[i]->state, from[i]->state, sizeof(to[i]->state));
		to[i]->promoted_at = from[i]->promoted_at;
	}
	return b;
}

/*
 * DB_POOL_BRIEF (drift, check): the full rows' fields it names, every
 * other one 0 or "" -- what it leaves out is set in the store -- and
 * DB_POOL_NEWEST_AT the newest snapshot's creation alone; the same
 * statements, as many.
 */
static void
test_pools_read_brief_is_the_full_rows_named_fields(void **state)
{
	static const int64_t ids[] = {3, 1, 2};
	static const char *const channels[] = {"stable", "can\"ary", "x"};
	static const unsigned all =
	    DB_POOL_OBS | DB_POOL_NEWEST | DB_POOL_BASELINE | DB_POOL_SUCCESS;
	struct fx *f = *state;
	struct facts_kept full, brief, at;
	struct db_pool_read want;

	facts_store(f);
	raw_exec(f->path,
	    "UPDATE observations SET run_id = 1, os_type = 'Linux', "
	    "os_sku = 'Ubuntu', vm_size = 'D2', enable_fips = 1, "
	    "node_os_channel = 'NodeImage', changed_by = 'outside', seen = 3;"
	    "UPDATE snapshots SET slot = 60, kubernetes_version = '1.33.1', "
	    "os_type = 'Linux', os_sku = 'Ubuntu', vm_size = 'D2', "
	    "enable_fips = 1, pinned = 1, channel = 'stable', "
	    "promoted_at = 70, demoted_at = 80, error = 'e';"
	    "UPDATE snapshots SET arm_id = '/x/b-del' WHERE name = 'b-del';");
	memset(&full, 0, sizeof(full));
	memset(&brief, 0, sizeof(brief));
	memset(&at, 0, sizeof(at));
	assert_int_equal(
	    db_pools_read(f->db, ids, channels, 3, all, facts_keep, &full), 0);
	assert_int_equal(db_pools_read(f->db, ids, channels, 3,
	                     all | DB_POOL_BRIEF, facts_keep, &brief),
	    0);
	assert_int_equal(db_pools_read(f->db, ids, channels, 3,
	                     (all & ~(unsigned)DB_POOL_NEWEST) |
	                         DB_POOL_NEWEST_AT | DB_POOL_BRIEF,
	                     facts_keep, &at),
	    0);
	assert_int_equal(full.n, 3);
	assert_int_equal(brief.n, 3);
	assert_int_equal(at.n, 3);
	for (size_t k = 0; k < 3; k++) {
		want = facts_brief(&full.r[k], 0);
		assert_memory_equal(&brief.r[k], &want, sizeof(want));
		want = facts_brief(&full.r[k], 1);
		assert_memory_equal(&at.r[k], &want, sizeof(want));
	}
	/* pool 1: each kind of row found, and something left out of each */
	assert_true(
	    full.r[1].have_obs && full.r[1].have_newest && full.r[1].have_base);
	assert_string_equal(full.r[1].obs.changed_by, "outside");
	assert_string_equal(brief.r[1].obs.changed_by, "");
	assert_string_equal(brief.r[1].obs.v.vm_size, "");
	assert_string_equal(brief.r[1].base.error, "");
	assert_string_equal(brief.r[1].base.v.vm_size, "D2");
	assert_string_equal(brief.r[1].base.arm_id, "/x/b-del");
	assert_string_equal(at.r[1].newest.name, "");
	assert_true(at.r[1].newest.created_at > 0);
}

static int
facts_stop(void *ctx, size_t k, const struct db_pool_read *r)
{
	(void)r;
	*(size_t *)ctx = k;
	return k == 1 ? 7 : 0;
}

static void
test_pools_read_stops_when_told(void **state)
{
	static const int64_t ids[] = {1, 2, 3};
	struct fx *f = *state;
	size_t last = 99;

	facts_store(f);
	assert_int_equal(db_pools_read(f->db, ids, NULL, 3, DB_POOL_NEWEST,
	                     facts_stop, &last),
	    7);
	assert_int_equal(last, 1);
}

/* Each fact's statement walks the bound pools and seeks each table
 * through its index: never a scan, never a temporary b-tree. */
static void
test_pools_read_plans_seek(void **state)
{
	static const struct {
		unsigned fact;
		const char *index;
	} want[] = {
	    /* by the pool's row of pool_present (0024), then the row */
	    {DB_POOL_OBS, "SEARCH present USING INTEGER PRIMARY KEY"},
	    {DB_POOL_NEWEST, "SEARCH present USING INTEGER PRIMARY KEY"},
	    {DB_POOL_BASELINE, "snapshot_channels_holder"},
	    /* pool_success's row and the open skip range's */
	    {DB_POOL_SUCCESS, "SEARCH ps USING INTEGER PRIMARY KEY"},
	    {DB_POOL_OBS | DB_POOL_BRIEF,
	        "SEARCH present USING INTEGER PRIMARY KEY"},
	    {DB_POOL_NEWEST | DB_POOL_BRIEF,
	        "SEARCH present USING INTEGER PRIMARY KEY"},
	    {DB_POOL_NEWEST_AT, "SEARCH present USING INTEGER PRIMARY KEY"},
	    {DB_POOL_BASELINE | DB_POOL_BRIEF, "snapshot_channels_holder"},
	    {DB_POOL_SUCCESS,
	        "SEARCH d USING PRIMARY KEY (pool_id=? AND snapshot_id=?)"},
	};
	struct fx *f = *state;
	char plan[4096];

	assert_int_equal(db_open(f->path, &f->db), 0);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const char *scan;

		assert_int_equal(
		    db_pools_read_plan(f->db, want[i].fact, plan, sizeof(plan)),
		    0);
		scan = strstr(plan, "SCAN ");
		if (strncmp(plan, "SCAN j VIRTUAL TABLE", 20) != 0 ||
		    strstr(scan + 1, "SCAN ") != NULL ||
		    strstr(plan, "TEMP B-TREE") != NULL ||
		    strstr(plan, want[i].index) == NULL)
			fail_msg("fact %u: %s", want[i].fact, plan);
	}
	assert_int_equal(db_pools_read_plan(f->db, 0, plan, sizeof(plan)), -1);
	assert_int_equal(db_pools_read_plan(f->db, DB_POOL_OBS | DB_POOL_NEWEST,
	                     plan, sizeof(plan)),
	    -1);
}

/*
 * pool_present (0024): each pool's newest observation and newest active
 * snapshot, as the per-pool queries find them, whoever wrote what.
 */

/* Pools whose pool_present row is not what the queries give (a pool
 * with neither may have no row). */
static long long
present_wrong(const char *path)
{
	return raw_int(path,
	    "SELECT count(*) FROM (SELECT p.id, "
	    "(SELECT q.id FROM observations q WHERE q.pool_id = p.id "
	    "ORDER BY q.observed_at DESC, q.id DESC LIMIT 1) AS o, "
	    "(SELECT a.id FROM snapshots a WHERE a.pool_id = p.id "
	    "AND a.state = 'active' ORDER BY a.created_at DESC, a.id DESC "
	    "LIMIT 1) AS n FROM pools p) w LEFT JOIN pool_present x "
	    "ON x.pool_id = w.id WHERE x.obs_id IS NOT w.o "
	    "OR x.newest_id IS NOT w.n");
}

/* The index of the migration named *${slug}*. */
static size_t
migration_at(const char *slug)
{
	size_t n = 0;

	while (n < migrations_count && strstr(migrations[n].name, slug) == NULL)
		n++;
	assert_true(n < migrations_count);
	return n;
}

static void
test_pool_present_filled_by_its_migration(void **state)
{
	struct fx *f = *state;

	assert_int_equal(db_open_with_migrations(f->path, migrations,
	                     migration_at("_pool_present"), &f->db),
	    0);
	db_close(f->db);
	f->db = NULL;
	raw_exec(f->path,
	    "INSERT INTO pools (id, key, subscription, resource_group, "
	    "cluster, nodepool, arm_id, created_at, updated_at) VALUES "
	    "(1, 'a', 's', 'rg', 'c', 'a', 'x/a', 1, 1), "
	    "(2, 'b', 's', 'rg', 'c', 'b', 'x/b', 1, 1), "
	    "(3, 'c', 's', 'rg', 'c', 'c', 'x/c', 1, 1);"
	    "INSERT INTO observations (pool_id, observed_at, "
	    "provisioning_state, last_seen) VALUES "
	    "(1, 300, 'Succeeded', 300), (1, 100, 'Succeeded', 200), "
	    "(2, 50, 'missing', 50), (2, 50, 'Succeeded', 60);"
	    "INSERT INTO snapshots (pool_id, name, created_at, state, "
	    "updated_at) VALUES "
	    "(1, 'a1', 100, 'active', 1), (1, 'a2', 300, 'deleted', 1), "
	    "(1, 'a3', 200, 'active', 1), (3, 'c1', 10, 'deleting', 1);");
	assert_int_equal(db_open(f->path, &f->db), 0);
	assert_int_equal(present_wrong(f->path), 0);
	/* pools 1 and 2, not 3 (neither) */
	assert_int_equal(
	    raw_int(f->path, "SELECT count(*) FROM pool_present"), 2);
	assert_int_equal(raw_int(f->path,
	                     "SELECT newest_id FROM pool_present WHERE "
	                     "pool_id = 1"),
	    raw_int(f->path, "SELECT id FROM snapshots WHERE name = 'a3'"));
}

static void
test_pool_present_kept_by_every_write(void **state)
{
	static const char *const writes[] = {
	    /* first observations, one in the past, one later */
	    "INSERT INTO observations (pool_id, observed_at, "
	    "provisioning_state, last_seen) VALUES (1, 100, 'Succeeded', 150)",
	    "INSERT INTO observations (pool_id, observed_at, "
	    "provisioning_state, last_seen) VALUES (1, 50, 'Succeeded', 60)",
	    "INSERT INTO observations (pool_id, observed_at, "
	    "provisioning_state, last_seen) VALUES (1, 200, 'missing', 200)",
	    /* a tie on observed_at: the higher id */
	    "INSERT INTO observations (pool_id, observed_at, "
	    "provisioning_state, last_seen) VALUES (2, 70, 'Succeeded', 70), "
	    "(2, 70, 'missing', 70)",
	    /* an interval extended: nothing to do */
	    "UPDATE observations SET last_seen = 400, seen = seen + 1 "
	    "WHERE pool_id = 1 AND observed_at = 200",
	    /* seen earlier (observed_at moves), then the newest deleted */
	    "UPDATE observations SET observed_at = 20 WHERE pool_id = 1 "
	    "AND observed_at = 200",
	    "DELETE FROM observations WHERE pool_id = 1 AND observed_at = 100",
	    "UPDATE observations SET pool_id = 3 WHERE pool_id = 2 "
	    "AND provisioning_state = 'missing'",
	    /* snapshots: taken (creating, then active), adopted active */
	    "INSERT INTO snapshots (pool_id, name, created_at, state, "
	    "updated_at) VALUES (1, 's1', 100, 'creating', 1)",
	    "UPDATE snapshots SET state = 'active', created_at = 110 "
	    "WHERE name = 's1'",
	    "INSERT INTO snapshots (pool_id, name, created_at, state, "
	    "updated_at) VALUES (1, 's2', 90, 'active', 1), "
	    "(1, 's3', 110, 'active', 1), (2, 't1', 5, 'active', 1)",
	    /* created_at corrected, deleting, deleted, failed, moved */
	    "UPDATE snapshots SET created_at = 500 WHERE name = 's2'",
	    "UPDATE snapshots SET state = 'deleting' WHERE name = 's2'",
	    "UPDATE snapshots SET state = 'deleted' WHERE name = 's2'",
	    "UPDATE snapshots SET state = 'active' WHERE name = 's2'",
	    "UPDATE snapshots SET pool_id = 2 WHERE name = 's3'",
	    "DELETE FROM snapshots WHERE name = 's2'",
	    "UPDATE snapshots SET state = 'active' WHERE name = 's1'",
	    "DELETE FROM snapshots WHERE pool_id = 2",
	};
	struct fx *f = *state;

	assert_int_equal(db_open(f->path, &f->db), 0);
	raw_exec(f->path,
	    "INSERT INTO pools (id, key, subscription, resource_group, "
	    "cluster, nodepool, arm_id, created_at, updated_at) VALUES "
	    "(1, 'a', 's', 'rg', 'c', 'a', 'x/a', 1, 1), "
	    "(2, 'b', 's', 'rg', 'c', 'b', 'x/b', 1, 1), "
	    "(3, 'c', 's', 'rg', 'c', 'c', 'x/c', 1, 1)");
	for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
		raw_exec(f->path, writes[i]);
		if (present_wrong(f->path) != 0)
			fail_msg("pool_present wrong after %s", writes[i]);
	}
	assert_true(raw_int(f->path,
	                "SELECT count(*) FROM pool_present "
	                "WHERE newest_id IS NOT NULL") > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_pool_ids_find_every_stored_pool, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pool_present_filled_by_its_migration, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pool_present_kept_by_every_write, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pending_each_in_check_order_from_an_index, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_read_transaction_reads_one_state, setup, teardown),
	    cmocka_unit_test(test_pool_ids_order_is_the_stores),
	    cmocka_unit_test_setup_teardown(
	        test_store_order_reads_each_page_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pools_read_as_the_per_pool_statements, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pools_read_brief_is_the_full_rows_named_fields, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pools_read_stops_when_told, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pools_read_plans_seek, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
