/*
 * test_db_ladder.c -- db_ladder_holds_live (db/db_ladder.c): the channel
 * entries a run's rules read of a pool, read from what they are rather
 * than chosen from the pool's whole history.
 *
 * The answer is checked against the straightforward reading it replaced,
 * kept here as the reference: every entry of the pool (db_ladder_holds),
 * the active snapshots (db_snapshot_list), and the choice made in C --
 * every entry of an active snapshot or of a holder, and each channel's
 * newest entries back to the window-th distinct snapshot not demoted.
 * Histories are random (a fixed seed): promotions at times before and
 * after the snapshots' creation (a run --as-of the past), replacements,
 * demotions by hand, holders deleted, several channels and pools, every
 * window from 1 to LIMIT_KEEP_PROMOTED.  What it costs is counted in the
 * SQLite virtual machine's steps (SQLITE_STMTSTATUS_VM_STEP over every
 * statement of the connection), which follow the rows read: a pool
 * with 200 old entries costs what a pool without them costs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "db/db_internal.h"
#include "db/db_ladder.h"
#include "job/base/limits.h"
#include "job/base/util.h"
#include "tests/unit/db/fixture.h"

#define DAY 86400
#define T0 1767225600 /* 2026-01-01 */

static int64_t
add_pool(struct db *db, const char *key)
{
	struct pool_conf pc;
	int64_t id = 0;

	memset(&pc, 0, sizeof(pc));
	util_strlcpy(pc.key, key, sizeof(pc.key));
	util_strlcpy(pc.subscription, "00000000-0000-0000-0000-000000000001",
	    sizeof(pc.subscription));
	util_strlcpy(pc.resource_group, "rg-ladder", sizeof(pc.resource_group));
	util_strlcpy(pc.cluster, key, sizeof(pc.cluster));
	util_strlcpy(pc.nodepool, "system", sizeof(pc.nodepool));
	assert_int_equal(db_pool_sync(db, &pc, &id), 0);
	return id;
}

/* An active snapshot of ${pool} named ${name}, created at ${at}. */
static int64_t
add_snap(struct db *db, int64_t pool, const char *name, time_t at)
{
	struct db_versions v =
	    ver("AKSUbuntu-2204gen2-202601.01.0", "1.33.2", 0);
	int64_t id = 0;

	assert_int_equal(
	    db_snapshot_intent(db, pool, name, NULL, at, at, &id), 0);
	assert_int_equal(db_snapshot_set_active(db, id, at, &v), 0);
	return id;
}

/* ---- the reference: the whole history, chosen in C ---- */

static int
has(const int64_t *v, size_t n, int64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == id)
			return 1;
	return 0;
}

/* What db_ladder_holds_live answered before it read less: ${*out}. */
static void
reference(struct db *db, int64_t pool, int window, struct channel_hold **out,
    size_t *n)
{
	struct channel_hold *all = NULL;
	struct db_snapshot *act = NULL;
	int64_t *keep_ids, *holders;
	size_t na = 0, nact = 0, nh = 0, k = 0;
	char *keep;

	if (window < 1)
		window = 1;
	if (window > LIMIT_KEEP_PROMOTED)
		window = LIMIT_KEEP_PROMOTED;
	/* oldest first: (promoted_at, id) */
	assert_int_equal(db_ladder_holds(db, pool, &all, &na), 0);
	assert_int_equal(db_snapshot_list(db, pool, "active", &act, &nact), 0);
	keep = calloc(na + 1, 1);
	keep_ids = calloc(nact + 1, sizeof(*keep_ids));
	holders = calloc(na + 1, sizeof(*holders));
	assert_non_null(keep);
	assert_non_null(keep_ids);
	assert_non_null(holders);
	for (size_t i = 0; i < nact; i++)
		keep_ids[i] = act[i].id;
	for (size_t i = 0; i < na; i++)
		if (all[i].left_at == 0)
			holders[nh++] = all[i].snapshot_id;
	for (size_t i = 0; i < na; i++) {
		int first = 1, nseen = 0;
		int64_t seen[LIMIT_KEEP_PROMOTED];

		if (has(keep_ids, nact, all[i].snapshot_id) ||
		    has(holders, nh, all[i].snapshot_id))
			keep[i] = 1;
		for (size_t j = 0; j < i && first; j++)
			first = strcmp(all[j].channel, all[i].channel) != 0;
		if (!first)
			continue;
		/* channel all[i].channel, newest first */
		for (size_t j = na; j-- > 0 && nseen < window;) {
			if (strcmp(all[j].channel, all[i].channel) != 0)
				continue;
			keep[j] = 1;
			if (all[j].demoted ||
			    has(seen, (size_t)nseen, all[j].snapshot_id))
				continue;
			seen[nseen++] = all[j].snapshot_id;
		}
	}
	for (size_t i = 0; i < na; i++)
		if (keep[i])
			all[k++] = all[i];
	*out = all;
	*n = k;
	free(keep);
	free(keep_ids);
	free(holders);
	free(act);
}

/* db_ladder_holds_live's answer is the reference's, entry by entry. */
static void
assert_live_is_reference(
    struct db *db, int64_t pool, int window, unsigned seed, int step)
{
	struct channel_hold *got = NULL, *want = NULL;
	size_t ngot = 0, nwant = 0;

	reference(db, pool, window, &want, &nwant);
	assert_int_equal(
	    db_ladder_holds_live(db, pool, window, &got, &ngot), 0);
	if (ngot != nwant)
		fail_msg("seed %u step %d pool %lld window %d: %zu entries, "
		         "want %zu",
		    seed, step, (long long)pool, window, ngot, nwant);
	for (size_t i = 0; i < ngot; i++)
		if (got[i].snapshot_id != want[i].snapshot_id ||
		    strcmp(got[i].channel, want[i].channel) != 0 ||
		    got[i].rung != want[i].rung ||
		    got[i].promoted_at != want[i].promoted_at ||
		    got[i].left_at != want[i].left_at ||
		    got[i].demoted != want[i].demoted)
			fail_msg("seed %u step %d pool %lld window %d: entry "
			         "%zu: %lld %s %lld, want %lld %s %lld",
			    seed, step, (long long)pool, window, i,
			    got[i].snapshot_id, got[i].channel,
			    (long long)got[i].promoted_at, want[i].snapshot_id,
			    want[i].channel, (long long)want[i].promoted_at);
	free(got);
	free(want);
}

/* ---- random ladder histories ---- */

/* The test's own generator (xorshift32): the same histories everywhere. */
static unsigned
next(unsigned *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static const char *const channels[] = {"canary", "stable", "beta", "z"};
#define NCHANNELS (sizeof(channels) / sizeof(channels[0]))
#define NPOOLS 3
#define MAXSNAPS 40

/* One pool's history so far: its snapshots and the time. */
struct hist {
	int64_t pool;
	int64_t snap[MAXSNAPS];
	int n;
	time_t t;
};

/* One random change to ${h}'s pool. */
static void
change(struct db *db, struct hist *h, unsigned *x)
{
	unsigned op = next(x) % 100;
	int64_t s = h->n > 0 ? h->snap[next(x) % (unsigned)h->n] : 0;
	int c = (int)(next(x) % NCHANNELS);
	/* promoted before or after the snapshot's creation, ties too */
	time_t at = h->t - (time_t)(next(x) % 6) * DAY + (time_t)(next(x) % 3);
	static const char *const states[] = {
	    "deleted", "failed", "deleting", "active"};
	char name[32];

	h->t += (time_t)(next(x) % 2) * DAY;
	if (h->n == 0 || (op < 15 && h->n < MAXSNAPS)) {
		snprintf(
		    name, sizeof(name), "p%lld-s%d", (long long)h->pool, h->n);
		h->snap[h->n++] = add_snap(db, h->pool, name, h->t);
	} else if (op < 55) {
		assert_int_equal(db_ladder_enter(db, s, channels[c], c, at), 0);
	} else if (op < 65) {
		assert_int_equal(
		    db_ladder_leave(db, s, next(x) % 2 ? channels[c] : NULL,
		        h->t, (int)(next(x) % 2)),
		    0);
	} else if (op < 85) {
		/* a holder, or any snapshot, deleted (or failed, ...) */
		assert_int_equal(
		    db_snapshot_set_state(db, s, states[next(x) % 4], NULL), 0);
	} else if (op < 90 && h->n < MAXSNAPS) {
		/* `sync` adopting one found holding channels */
		struct db_snapshot a;

		memset(&a, 0, sizeof(a));
		snprintf(a.name, sizeof(a.name), "p%lld-s%d",
		    (long long)h->pool, h->n);
		a.created_at = h->t;
		a.v = ver("AKSUbuntu-2204gen2-202601.01.0", "1.33.2", 0);
		util_strlcpy(a.channel, next(x) % 2 ? "canary,stable" : "z",
		    sizeof(a.channel));
		a.promoted_at = at;
		assert_int_equal(
		    db_snapshot_adopt(db, h->pool, &a, &h->snap[h->n]), 0);
		h->n++;
	} else {
		assert_int_equal(
		    db_ladder_enter(db, s, channels[c], c, h->t), 0);
	}
}

/*
 * Three pools, 400 random changes each, and after every tenth: the
 * answer for each pool and windows 1, 2, 3, 5, LIMIT_KEEP_PROMOTED and
 * one at random is the reference's.
 */
static void
test_db_ladder_holds_live_is_the_full_reading(void **state)
{
	struct fx *f = *state;
	static const unsigned seeds[] = {1, 0x5eed, 20261206};
	int checked = 0;

	for (size_t si = 0; si < sizeof(seeds) / sizeof(seeds[0]); si++) {
		struct hist h[NPOOLS];
		unsigned x = seeds[si];
		char key[16];

		if (f->db != NULL)
			db_close(f->db);
		f->db = NULL;
		(void)remove(f->path);
		assert_int_equal(db_open(f->path, &f->db), 0);
		memset(h, 0, sizeof(h));
		for (int p = 0; p < NPOOLS; p++) {
			snprintf(key, sizeof(key), "pool%d", p);
			h[p].pool = add_pool(f->db, key);
			h[p].t = T0;
		}
		assert_int_equal(db_begin(f->db), 0);
		for (int step = 1; step <= 400; step++) {
			for (int p = 0; p < NPOOLS; p++)
				change(f->db, &h[p], &x);
			if (step % 10 != 0)
				continue;
			for (int p = 0; p < NPOOLS; p++) {
				static const int windows[] = {
				    1, 2, 3, 5, LIMIT_KEEP_PROMOTED, 0};

				for (size_t w = 0;
				     w < sizeof(windows) / sizeof(windows[0]);
				     w++)
					assert_live_is_reference(f->db,
					    h[p].pool,
					    windows[w] != 0 ? windows[w]
					                    : 1 +
					            (int)(next(&x) %
					                LIMIT_KEEP_PROMOTED),
					    seeds[si], step);
				checked++;
			}
		}
		assert_int_equal(db_commit(f->db), 0);
	}
	assert_int_equal(checked, 3 * 40 * NPOOLS);
}

/* ---- what it costs ---- */

/* The VM steps of every statement of the connection since the last call. */
static long long
vm_steps(struct db *db)
{
	long long n = 0;

	for (sqlite3_stmt *s = sqlite3_next_stmt(db_sqlite(db), NULL);
	     s != NULL; s = sqlite3_next_stmt(db_sqlite(db), s))
		n += sqlite3_stmt_status(s, SQLITE_STMTSTATUS_VM_STEP, 1);
	return n;
}

/* The VM steps of db_ladder_holds_live(${pool}, 2); its ${*n} entries. */
static long long
live_steps(struct db *db, int64_t pool, size_t *n)
{
	struct channel_hold *h = NULL;

	/* once to prepare the statements, then counted */
	assert_int_equal(db_ladder_holds_live(db, pool, 2, &h, n), 0);
	free(h);
	(void)vm_steps(db);
	assert_int_equal(db_ladder_holds_live(db, pool, 2, &h, n), 0);
	free(h);
	return vm_steps(db);
}

/* The present of a canary:1d stable:7d pool from ${t}: six snapshots a
 * day apart, each promoted to canary, the four oldest to stable. */
static void
add_present(struct db *db, int64_t pool, const char *prefix, time_t t)
{
	char name[32];

	for (int k = 0; k < 6; k++) {
		int64_t s;

		snprintf(name, sizeof(name), "%s-%d", prefix, k);
		s = add_snap(db, pool, name, t + k * DAY);
		assert_int_equal(
		    db_ladder_enter(db, s, "canary", 0, t + k * DAY + 60), 0);
		if (k < 4)
			assert_int_equal(db_ladder_enter(db, s, "stable", 1,
			                     t + (k + 1) * DAY),
			    0);
	}
}

/*
 * Two pools with the same present; the old one also has a hundred
 * snapshots promoted to canary and stable and deleted since: 200 entries
 * more of snapshot_channels_by_pool, none of which the answer holds.
 * The old pool's answer costs the young one's and less than 8 VM steps
 * for each old entry, which member_sql's index scan steps over without
 * returning it; returning them, as the reading before did, costs over
 * 10 each (3,823 steps against 224 here), as db_ladder_holds shows.  The
 * statements stay on their indexes, without a temporary b-tree.
 */
static void
test_db_ladder_holds_live_reads_the_present_only(void **state)
{
	struct fx *f = *state;
	struct channel_hold *h = NULL;
	int64_t young, old;
	size_t nyoung = 0, nold = 0, n = 0;
	long long syoung, sold, sfull;
	char name[32], plan[2048];
	static const struct {
		const char *name, *index;
	} plans[] = {
	    {"walk", "COVERING INDEX snapshot_channels_by_pool (pool_id=?)"},
	    {"walk_before",
	        "COVERING INDEX snapshot_channels_by_pool "
	        "(pool_id=? AND channel<?)"},
	    {"holder",
	        "INDEX snapshot_channels_holder (pool_id=? AND channel=?)"},
	    {"active",
	        "COVERING INDEX snapshots_by_pool_state (pool_id=? AND "
	        "state=?)"},
	    {"member", "COVERING INDEX snapshot_channels_by_pool (pool_id=?)"},
	};

	assert_int_equal(db_open(f->path, &f->db), 0);
	young = add_pool(f->db, "young");
	old = add_pool(f->db, "old");
	assert_int_equal(db_begin(f->db), 0);
	for (int k = 0; k < 100; k++) {
		time_t t = T0 + k * DAY;
		int64_t s;

		snprintf(name, sizeof(name), "old-%d", k);
		s = add_snap(f->db, old, name, t);
		assert_int_equal(
		    db_ladder_enter(f->db, s, "canary", 0, t + 60), 0);
		assert_int_equal(
		    db_ladder_enter(f->db, s, "stable", 1, t + DAY), 0);
		assert_int_equal(
		    db_snapshot_set_state(f->db, s, "deleted", NULL), 0);
	}
	add_present(f->db, young, "young", T0 + 200 * DAY);
	add_present(f->db, old, "old-now", T0 + 200 * DAY);
	assert_int_equal(db_commit(f->db), 0);
	assert_int_equal(db_ladder_holds(f->db, old, &h, &n), 0);
	free(h);
	assert_int_equal(n, 210);

	syoung = live_steps(f->db, young, &nyoung);
	sold = live_steps(f->db, old, &nold);
	/* the same present: the six snapshots' ten entries */
	assert_int_equal(nyoung, 10);
	assert_int_equal(nold, 10);
	assert_live_is_reference(f->db, old, 2, 0, 0);
	assert_live_is_reference(f->db, young, 2, 0, 0);
	if (sold - syoung >= 200 * 8)
		fail_msg("the old pool's entries cost %lld VM steps, the "
		         "young one's %lld",
		    sold, syoung);
	/* returning every entry costs more a row: the test can tell */
	assert_int_equal(db_ladder_holds(f->db, old, &h, &n), 0);
	free(h);
	(void)vm_steps(f->db);
	assert_int_equal(db_ladder_holds(f->db, old, &h, &n), 0);
	free(h);
	sfull = vm_steps(f->db);
	if (sfull < 210 * 10)
		fail_msg(
		    "returning 210 entries cost only %lld VM steps", sfull);

	for (size_t i = 0; i < sizeof(plans) / sizeof(plans[0]); i++) {
		assert_int_equal(db_ladder_query_plan(
		                     f->db, plans[i].name, plan, sizeof(plan)),
		    0);
		if (strstr(plan, plans[i].index) == NULL)
			fail_msg("%s: %s", plans[i].name, plan);
		assert_null(strstr(plan, "TEMP B-TREE"));
		assert_null(strstr(plan, "SCAN"));
	}
	assert_int_equal(db_ladder_query_plan(f->db, "nope", plan, 8), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_db_ladder_holds_live_is_the_full_reading, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_db_ladder_holds_live_reads_the_present_only, setup,
	        teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
