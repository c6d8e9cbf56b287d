/*
 * test_db_metrics.c -- what the textfile reads of each pool during a run
 * (db/db_metrics.c), from pages the run has read for the pool already
 * (issue 16): a channel's holder from the covering indexes of the pool's
 * channel entries and active snapshots, never the rows of
 * snapshot_channels and snapshots scattered over a year's file, with the
 * answers db_snapshot_channel gives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "db/db.h"
#include "db/db_metrics.h"
#include "tests/unit/db/fixture.h"

/* Pools 1 and 2: each an active snapshot at 5000 and deleted ones. */
static void
store(struct fx *f)
{
	assert_int_equal(db_open(f->path, &f->db), 0);
	raw_exec(f->path,
	    "INSERT INTO pools (id, key, subscription, resource_group, "
	    "cluster, nodepool, arm_id, created_at, updated_at) VALUES "
	    "(1, 'short', 's', 'rg', 'c', 'a', 'x/a', 1, 1), "
	    "(2, 'long', 's', 'rg', 'c', 'b', 'x/b', 1, 1);"
	    "INSERT INTO snapshots (pool_id, name, created_at, state, "
	    "updated_at) VALUES (1, 'a-live', 5000, 'active', 1), "
	    "(1, 'a-old-1', 100, 'deleted', 1), "
	    "(1, 'a-old-2', 6000, 'deleted', 1), "
	    "(2, 'b-live', 5000, 'active', 1), "
	    "(2, 'b-newest-deleted', 6000, 'deleted', 1);");
}

/* db_pool_holder and db_snapshot_channel agree on ${pool}'s ${channel}:
 * found (and active) or not, and when. */
static int
holder_as_channel(struct db *db, int64_t pool, const char *channel)
{
	struct db_snapshot s;
	struct db_holder h;
	int got = db_pool_holder(db, pool, channel, &h);
	int want = db_snapshot_channel(db, pool, channel, &s);

	assert_true(got >= 0 && want >= 0);
	want = want == 1 && strcmp(s.state, "active") == 0;
	assert_int_equal(got, want);
	if (got == 1) {
		assert_int_equal(h.created_at, s.created_at);
		assert_string_equal(
		    h.node_image_version, s.v.node_image_version);
		assert_string_equal(
		    h.kubernetes_version, s.v.kubernetes_version);
	}
	return got;
}

static void
test_pool_holder_answers_as_channel_from_covering_indexes(void **state)
{
	struct fx *f = *state;
	struct db_holder h;
	char plan[2048];

	store(f);
	raw_exec(f->path,
	    "UPDATE snapshots SET node_image_version = 'img-' || name, "
	    "kubernetes_version = '1.' || id WHERE pool_id = 1;"
	    "INSERT INTO snapshots (id, pool_id, name, created_at, state, "
	    "updated_at, node_image_version, kubernetes_version) VALUES "
	    "(100, 1, 'a-next', 7000, 'active', 1, 'img-next', '1.35')");
	/* stable: a-live, then a-next (a-live leaves); canary: a-live */
	assert_int_equal(db_snapshot_set_channel(f->db, 1, "stable", 8000), 0);
	assert_int_equal(db_snapshot_set_channel(f->db, 1, "canary", 8000), 0);
	assert_int_equal(
	    db_snapshot_set_channel(f->db, 100, "stable", 9000), 0);
	assert_int_equal(holder_as_channel(f->db, 1, "stable"), 1);
	assert_int_equal(db_pool_holder(f->db, 1, "stable", &h), 1);
	assert_int_equal(h.created_at, 7000);
	assert_string_equal(h.node_image_version, "img-next");
	assert_string_equal(h.kubernetes_version, "1.35");
	assert_int_equal(holder_as_channel(f->db, 1, "canary"), 1);
	assert_int_equal(db_pool_holder(f->db, 1, "canary", &h), 1);
	assert_int_equal(h.created_at, 5000);
	/* none held, none ever, another pool's */
	assert_int_equal(holder_as_channel(f->db, 1, "nightly"), 0);
	assert_int_equal(holder_as_channel(f->db, 2, "stable"), 0);
	/* a holder that is no longer active holds nothing the textfile
	 * shows; one that left the channel neither */
	assert_int_equal(
	    db_snapshot_set_state(f->db, 100, "deleting", NULL), 0);
	assert_int_equal(holder_as_channel(f->db, 1, "stable"), 0);
	assert_int_equal(db_snapshot_set_channel(f->db, 1, NULL, 9500), 0);
	assert_int_equal(holder_as_channel(f->db, 1, "canary"), 0);
	assert_int_equal(db_pool_holder(f->db, 1, "canary", &h), 0);
	assert_int_equal(h.created_at, 0);

	/* index pages only: the two rows it once read by id (a holder's
	 * snapshot_channels row, its snapshots row) are the ones a year's
	 * store has scattered over its file */
	assert_int_equal(db_pool_holder_plan(f->db, plan, sizeof(plan)), 0);
	if (strstr(plan,
	        "COVERING INDEX snapshot_channels_by_pool "
	        "(pool_id=? AND channel=?)") == NULL ||
	    strstr(plan, "COVERING INDEX snapshots_active_rows (pool_id=?)") ==
	        NULL ||
	    strstr(plan, "PRIMARY KEY") != NULL ||
	    strstr(plan, "TEMP B-TREE") != NULL)
		fail_msg("holder: plan:\n%s", plan);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_pool_holder_answers_as_channel_from_covering_indexes,
	        setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
