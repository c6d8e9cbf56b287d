/*
 * test_db_retain_memo.c -- pool_retain_memo (migration 0023,
 * db/db_retain_memo.c): a pool's memo is written only when its open keeps
 * are its active snapshots', each made by the run; it is used only with
 * the same digest, from its time up to its horizon, and then extends
 * every keep as deciding again would; and any change to what the rules
 * read -- a snapshot taken, deleted, pinned or changing state, a channel
 * entered or left, a decision opened or closed, the pool renamed --
 * deletes it, whoever makes the change.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "db/db.h"
#include "db/db_ladder.h"
#include "db/db_retain_memo.h"
#include "job/base/util.h"
#include "tests/unit/db/fixture.h"

#define DIGEST 0x1234567890abcdefULL

struct world {
	int64_t pool, other, s1, s2, run[4];
};

static int64_t
add_pool(struct db *db, const char *key, const char *nodepool)
{
	struct pool_conf pc;
	int64_t id = 0;

	memset(&pc, 0, sizeof(pc));
	util_strlcpy(pc.key, key, sizeof(pc.key));
	util_strlcpy(pc.subscription, "00000000-0000-0000-0000-000000000001",
	    sizeof(pc.subscription));
	util_strlcpy(pc.resource_group, "rg-test", sizeof(pc.resource_group));
	util_strlcpy(pc.cluster, "aks-test", sizeof(pc.cluster));
	util_strlcpy(pc.nodepool, nodepool, sizeof(pc.nodepool));
	assert_int_equal(db_pool_sync(db, &pc, &id), 0);
	return id;
}

static int64_t
add_snapshot(struct db *db, int64_t pool, const char *name, time_t created)
{
	struct db_versions v =
	    ver("AKSUbuntu-2204gen2-202601.01.0", "1.33.2", 0);
	char arm_id[256];
	int64_t id = 0;

	snprintf(arm_id, sizeof(arm_id),
	    "/subscriptions/s/resourceGroups/rg-test/providers/"
	    "Microsoft.ContainerService/snapshots/%s",
	    name);
	assert_int_equal(
	    db_snapshot_intent(db, pool, name, arm_id, created, created, &id),
	    0);
	assert_int_equal(db_snapshot_set_active(db, id, created, &v), 0);
	return id;
}

static void
keep(struct db *db, int64_t run, int64_t pool, int64_t snap, time_t at,
    const char *reasons)
{
	add_decision(
	    db, run, pool, snap, at, 0, "keep", reasons, "l3/within=2d");
}

/* A pool with two active snapshots kept by run 1 at 10,000, its memo
 * written (until 20,000), and another pool with one. */
static void
world(struct fx *f, struct world *w)
{
	assert_int_equal(db_open(f->path, &f->db), 0);
	w->pool = add_pool(f->db, "staging", "system");
	w->other = add_pool(f->db, "prod", "batch");
	w->s1 = add_snapshot(f->db, w->pool, "s1", 1000);
	w->s2 = add_snapshot(f->db, w->pool, "s2", 2000);
	(void)add_snapshot(f->db, w->other, "p1", 1000);
	for (int i = 0; i < 4; i++)
		assert_int_equal(db_run_start(f->db, 10000 + 3600 * i,
		                     10000 + 3600 * i, "run", &w->run[i]),
		    0);
	keep(f->db, w->run[0], w->pool, w->s1, 10000, "last");
	keep(f->db, w->run[0], w->pool, w->s2, 10000, "last,daily");
	assert_int_equal(db_retain_memo_put(f->db, w->pool, DIGEST, 10000,
	                     20000, w->run[0], 2),
	    1);
}

static long long
memos(struct fx *f)
{
	return raw_int(
	    f->path, "SELECT count(*) FROM pool_retain_memo WHERE until > 0");
}

static void
test_retain_memo_extends_every_keep_until_its_horizon(void **state)
{
	struct fx *f = *state;
	struct world w;
	char via_memo[4096], again[4096];

	world(f, &w);
	/* another digest, a time before it or at its horizon: not used */
	assert_int_equal(
	    db_retain_memo_hit(f->db, w.pool, DIGEST + 1, 13600, w.run[1]), 0);
	assert_int_equal(
	    db_retain_memo_hit(f->db, w.pool, DIGEST, 9999, w.run[1]), 0);
	assert_int_equal(
	    db_retain_memo_hit(f->db, w.pool, DIGEST, 20000, w.run[1]), 0);
	assert_int_equal(
	    db_retain_memo_hit(f->db, w.other, DIGEST, 13600, w.run[1]), 0);
	/* used: both keeps reach run 2, no row written */
	assert_int_equal(
	    db_retain_memo_hit(f->db, w.pool, DIGEST, 13600, w.run[1]), 1);
	assert_int_equal(
	    raw_int(f->path, "SELECT count(*) FROM decision_rows"), 2);
	raw_text(f->path,
	    "SELECT group_concat(snapshot_id || ':' || last_run_id || ':' || "
	    "last_at || ':' || coalesce(last_slot, '-'), ' ') FROM "
	    "(SELECT * FROM decisions ORDER BY id)",
	    via_memo, sizeof(via_memo));
	/* what deciding the same keeps again at run 2 leaves */
	keep(f->db, w.run[1], w.pool, w.s1, 13600, "last");
	keep(f->db, w.run[1], w.pool, w.s2, 13600, "last,daily");
	raw_text(f->path,
	    "SELECT group_concat(snapshot_id || ':' || last_run_id || ':' || "
	    "last_at || ':' || coalesce(last_slot, '-'), ' ') FROM "
	    "(SELECT * FROM decisions ORDER BY id)",
	    again, sizeof(again));
	assert_string_equal(via_memo, again);
	assert_int_equal(raw_int(f->path,
	                     "SELECT count(*) FROM decisions WHERE "
	                     "last_run_id = 2 AND last_at = 13600"),
	    2);
	assert_int_equal(memos(f), 1); /* the same keeps: it still holds */
}

static void
test_retain_memo_written_only_for_the_runs_keeps(void **state)
{
	struct fx *f = *state;
	struct world w;

	world(f, &w);
	/* not as many keeps as active snapshots */
	assert_int_equal(db_retain_memo_put(
	                     f->db, w.pool, DIGEST, 10000, 20000, w.run[0], 1),
	    0);
	assert_int_equal(memos(f), 0);
	/* keeps not made by this run */
	assert_int_equal(db_retain_memo_put(
	                     f->db, w.pool, DIGEST, 13600, 20000, w.run[1], 2),
	    0);
	assert_int_equal(memos(f), 0);
	assert_int_equal(db_retain_memo_put(
	                     f->db, w.pool, DIGEST, 10000, 20000, w.run[0], 2),
	    1);
	assert_int_equal(memos(f), 1);
}

/* Each change the rules would see deletes the memo. */
static void
test_retain_memo_forgotten_on_any_change(void **state)
{
	struct fx *f = *state;
	struct world w;
	int64_t s3;

	/* a snapshot taken */
	world(f, &w);
	s3 = add_snapshot(f->db, w.pool, "s3", 3000);
	assert_true(s3 > 0);
	assert_int_equal(memos(f), 0);
	assert_int_equal(
	    db_retain_memo_hit(f->db, w.pool, DIGEST, 13600, w.run[1]), 0);
	/* pinned */
	keep(f->db, w.run[0], w.pool, s3, 10000, "last");
	assert_int_equal(db_retain_memo_put(
	                     f->db, w.pool, DIGEST, 10000, 20000, w.run[0], 3),
	    1);
	assert_int_equal(db_snapshot_set_pinned(f->db, w.s1, 1), 0);
	assert_int_equal(memos(f), 0);
	/* pinned again (no change): kept */
	assert_int_equal(db_retain_memo_put(
	                     f->db, w.pool, DIGEST, 10000, 20000, w.run[0], 3),
	    1);
	assert_int_equal(db_snapshot_set_pinned(f->db, w.s1, 1), 0);
	assert_int_equal(memos(f), 1);
	/* a channel entered */
	assert_int_equal(db_ladder_enter(f->db, w.s2, "canary", 0, 11000), 0);
	assert_int_equal(memos(f), 0);
	/* a decision opened otherwise (another command decided) */
	assert_int_equal(db_retain_memo_put(
	                     f->db, w.pool, DIGEST, 10000, 20000, w.run[0], 3),
	    1);
	keep(f->db, w.run[1], w.pool, w.s2, 13600, "pinned");
	assert_int_equal(memos(f), 0);
	/* the pool renamed */
	keep(f->db, w.run[1], w.pool, w.s1, 13600, "last");
	keep(f->db, w.run[1], w.pool, s3, 13600, "last");
	assert_int_equal(db_retain_memo_put(
	                     f->db, w.pool, DIGEST, 13600, 20000, w.run[1], 3),
	    1);
	raw_exec(f->path, "UPDATE pools SET key = 'staging2' WHERE id = 1");
	assert_int_equal(memos(f), 0);
	/* a snapshot deleting, by hand in the file too */
	keep(f->db, w.run[2], w.pool, w.s1, 17200, "last");
	assert_int_equal(memos(f), 0);
	raw_exec(f->path,
	    "INSERT OR REPLACE INTO pool_retain_memo (pool_id, digest, as_of, "
	    "until, keeps) VALUES "
	    "(1, 5, 10000, 20000, 3)");
	assert_int_equal(
	    db_snapshot_set_state(f->db, w.s2, "deleting", NULL), 0);
	assert_int_equal(memos(f), 0);
	/* the other pool's memo is its own */
	raw_exec(f->path,
	    "INSERT OR REPLACE INTO pool_retain_memo (pool_id, digest, as_of, "
	    "until, keeps) VALUES "
	    "(2, 5, 10000, 20000, 0)");
	(void)add_snapshot(f->db, w.pool, "s4", 4000);
	assert_int_equal(memos(f), 1);
}

/*
 * What runs extended through the memo stays theirs when the memo stops
 * holding (0026): a keep closed later ends where the memo took it, a
 * keep extended later by a run as of an earlier time keeps the later
 * time, and the next memo writes the extension into the keeps.
 */
static void
test_retain_memo_extension_outlives_the_memo(void **state)
{
	struct fx *f = *state;
	struct world w;
	int64_t s3;

	world(f, &w);
	assert_int_equal(
	    db_retain_memo_hit(f->db, w.pool, DIGEST, 13600, w.run[1]), 1);
	assert_int_equal(
	    db_retain_memo_hit(f->db, w.pool, DIGEST, 17200, w.run[2]), 1);
	/* the keeps' own rows are as run 1 left them; the view is not */
	assert_int_equal(
	    raw_int(f->path, "SELECT max(last_run_id) FROM decision_open"),
	    w.run[0]);
	assert_int_equal(raw_int(f->path,
	                     "SELECT count(*) FROM decisions WHERE "
	                     "last_run_id = 3 AND last_at = 17200"),
	    2);
	/* a snapshot taken: the memo no longer holds */
	s3 = add_snapshot(f->db, w.pool, "s3", 3000);
	assert_int_equal(memos(f), 0);
	assert_int_equal(
	    db_retain_memo_hit(f->db, w.pool, DIGEST, 18000, w.run[3]), 0);
	/* run 4, as of a time before run 3's: s1 otherwise (its keep
	 * closes at run 3), s2 the same (its keep reaches run 4, at run
	 * 3's time, the later) */
	keep(f->db, w.run[3], w.pool, w.s1, 15000, "last,weekly");
	keep(f->db, w.run[3], w.pool, w.s2, 15000, "last,daily");
	assert_int_equal(raw_int(f->path,
	                     "SELECT last_run_id * 100000 + last_at FROM "
	                     "decision_rows WHERE snapshot_id = 1 AND "
	                     "reasons_id = (SELECT id FROM decision_texts "
	                     "WHERE text = 'last')"),
	    3 * 100000 + 17200);
	assert_int_equal(raw_int(f->path,
	                     "SELECT last_run_id * 100000 + last_at FROM "
	                     "decisions WHERE snapshot_id = 2"),
	    4 * 100000 + 17200);
	/* the next memo: nothing left in it, everything in the rows */
	keep(f->db, w.run[3], w.pool, s3, 15000, "last");
	assert_int_equal(db_retain_memo_put(
	                     f->db, w.pool, DIGEST, 15000, 20000, w.run[3], 3),
	    1);
	assert_int_equal(raw_int(f->path,
	                     "SELECT count(*) FROM pool_retain_memo WHERE "
	                     "ext_run_id IS NOT NULL"),
	    0);
	assert_int_equal(raw_int(f->path,
	                     "SELECT last_run_id * 100000 + last_at FROM "
	                     "decision_open WHERE snapshot_id = 2"),
	    4 * 100000 + 17200);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	    T(test_retain_memo_extends_every_keep_until_its_horizon),
	    T(test_retain_memo_written_only_for_the_runs_keeps),
	    T(test_retain_memo_forgotten_on_any_change),
	    T(test_retain_memo_extension_outlives_the_memo),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
