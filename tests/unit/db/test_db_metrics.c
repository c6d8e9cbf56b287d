/*
 * test_db_metrics.c -- what the textfile reads of each pool during a run
 * (db/db_metrics.c), from pages the run has read for the pool already
 * (issue 16): a pool's channel holders from the covering index of its
 * active snapshots alone, never the rows of snapshot_channels and
 * snapshots scattered over a year's file nor its channel entries, with
 * the answers db_snapshot_channel gives; a pool's newest success from its row
 * of pool_success (0025), which its triggers keep equal to what the
 * snapshots and skip ranges say through every change, and its open skip
 * range.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "db/db.h"
#include "db/db_check.h"
#include "db/db_internal.h"
#include "db/db_metrics.h"
#include "db/migrations.h"
#include "job/base/util.h"
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

/* The newest holder of ${channel} in db_pool_holders' walk. */
struct find_holder {
	const char *channel;
	struct db_holder h;
	int found;
};

static int
find_holder(void *ctx, const char *channels, const struct db_holder *h)
{
	struct find_holder *w = ctx;
	char list[256];

	snprintf(list, sizeof(list), ",%s,", channels);
	for (char *c = strtok(list, ","); c != NULL; c = strtok(NULL, ","))
		if (!w->found && strcmp(c, w->channel) == 0) {
			w->h = *h;
			w->found = 1;
		}
	return 0;
}

/* db_pool_holders and db_snapshot_channel agree on ${pool}'s ${channel}:
 * found (and active) or not, and when; the holder in ${out}. */
static int
holder_as_channel(
    struct db *db, int64_t pool, const char *channel, struct db_holder *out)
{
	struct db_snapshot s;
	struct find_holder w;
	int want = db_snapshot_channel(db, pool, channel, &s);

	memset(&w, 0, sizeof(w));
	w.channel = channel;
	assert_int_equal(db_pool_holders(db, pool, find_holder, &w), 0);
	assert_true(want >= 0);
	want = want == 1 && strcmp(s.state, "active") == 0;
	assert_int_equal(w.found, want);
	if (w.found) {
		assert_int_equal(w.h.created_at, s.created_at);
		assert_string_equal(
		    w.h.node_image_version, s.v.node_image_version);
		assert_string_equal(
		    w.h.kubernetes_version, s.v.kubernetes_version);
	}
	*out = w.h;
	return w.found;
}

static void
test_pool_holders_answer_as_channel_from_the_active_index(void **state)
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
	/* a-live holds stable and canary at once, then a-next takes
	 * stable */
	assert_int_equal(db_snapshot_set_channel(f->db, 1, "stable", 8000), 0);
	assert_int_equal(db_snapshot_set_channel(f->db, 1, "canary", 8000), 0);
	assert_int_equal(holder_as_channel(f->db, 1, "stable", &h), 1);
	assert_int_equal(h.created_at, 5000);
	assert_int_equal(holder_as_channel(f->db, 1, "canary", &h), 1);
	assert_int_equal(h.created_at, 5000);
	assert_int_equal(
	    db_snapshot_set_channel(f->db, 100, "stable", 9000), 0);
	assert_int_equal(holder_as_channel(f->db, 1, "stable", &h), 1);
	assert_int_equal(h.created_at, 7000);
	assert_string_equal(h.node_image_version, "img-next");
	assert_string_equal(h.kubernetes_version, "1.35");
	assert_int_equal(holder_as_channel(f->db, 1, "canary", &h), 1);
	assert_int_equal(h.created_at, 5000);
	/* none held, none ever, a name that is a part of another's, another
	 * pool's */
	assert_int_equal(holder_as_channel(f->db, 1, "nightly", &h), 0);
	assert_int_equal(holder_as_channel(f->db, 1, "stab", &h), 0);
	assert_int_equal(holder_as_channel(f->db, 2, "stable", &h), 0);
	/* a holder that is no longer active holds nothing the textfile
	 * shows; one that left the channel neither */
	assert_int_equal(
	    db_snapshot_set_state(f->db, 100, "deleting", NULL), 0);
	assert_int_equal(holder_as_channel(f->db, 1, "stable", &h), 0);
	assert_int_equal(db_snapshot_set_channel(f->db, 1, NULL, 9500), 0);
	assert_int_equal(holder_as_channel(f->db, 1, "canary", &h), 0);

	/* the pool's holders alone, from their covering index (0027): not
	 * the rows of snapshot_channels and snapshots a year's store has
	 * scattered over its file, nor the pool's channel entries, which
	 * grow with its age, nor every live snapshot of the pool */
	assert_int_equal(db_pool_holders_plan(f->db, plan, sizeof(plan)), 0);
	if (strstr(
	        plan, "COVERING INDEX snapshots_channel_holders (pool_id=?)") ==
	        NULL ||
	    strstr(plan, "snapshot_channels") != NULL ||
	    strstr(plan, "PRIMARY KEY") != NULL ||
	    strstr(plan, "TEMP B-TREE") != NULL)
		fail_msg("holders: plan:\n%s", plan);
}

/* Pool 1's row of pool_success (0: none) equals what its rows say
 * (DB_POOL_SUCCESS_KEPT), and db_pool_last_success answers ${want}. */
static void
assert_success(struct fx *f, time_t want)
{
	time_t at = 0;

	assert_int_equal(
	    raw_int(f->path,
	        "SELECT coalesce((SELECT at FROM pool_success "
	        "WHERE pool_id = 1), 0) = " DB_POOL_SUCCESS_KEPT("1")),
	    1);
	assert_int_equal(db_pool_last_success(f->db, 1, &at), 0);
	assert_int_equal(at, want);
}

static void
skip_at(struct db *db, time_t at, const char *action)
{
	struct db_decision d;

	memset(&d, 0, sizeof(d));
	d.pool_id = 1;
	d.at = d.slot = at;
	util_strlcpy(d.action, action, sizeof(d.action));
	util_strlcpy(d.reasons, "unchanged", sizeof(d.reasons));
	assert_int_equal(db_decision_add(db, &d), 0);
}

/* pool_success follows every change to a pool's snapshots and skips:
 * raised when a success enters or grows, recomputed when one leaves or
 * shrinks; the open skip range is read beside it. */
static void
test_pool_success_kept_by_triggers(void **state)
{
	struct fx *f = *state;
	struct db_versions v = ver("img-1", "1.30", 0);
	struct db_check_report r;
	char plan[2048];
	time_t at = 0;
	int64_t s1 = 0, s2 = 0;

	assert_int_equal(db_open(f->path, &f->db), 0);
	raw_exec(f->path,
	    "INSERT INTO pools (id, key, subscription, resource_group, "
	    "cluster, nodepool, arm_id, created_at, updated_at) VALUES "
	    "(1, 'a', 's', 'rg', 'c', 'a', 'x/a', 1, 1)");
	assert_success(f, 0);
	/* taken: creating is no success, active is */
	assert_int_equal(
	    db_snapshot_intent(f->db, 1, "s-1", "/arm/s-1", 1000, 1000, &s1),
	    0);
	assert_success(f, 0);
	assert_int_equal(db_snapshot_set_active(f->db, s1, 5000, &v), 0);
	assert_success(f, 5000);
	/* a skip: its open range, then grown, then closed */
	skip_at(f->db, 7000, "skip");
	assert_success(f, 7000);
	skip_at(f->db, 8000, "skip");
	assert_success(f, 8000);
	skip_at(f->db, 9000, "fail");
	assert_success(f, 8000);
	assert_int_equal(raw_int(f->path, "SELECT at FROM pool_success"), 8000);
	/* going, gone: still taken */
	assert_int_equal(db_snapshot_set_state(f->db, s1, "deleting", NULL), 0);
	assert_int_equal(db_snapshot_set_state(f->db, s1, "deleted", NULL), 0);
	assert_success(f, 8000);
	/* a newer one, then not taken after all */
	assert_int_equal(
	    db_snapshot_intent(f->db, 1, "s-2", "/arm/s-2", 9500, 9500, &s2),
	    0);
	assert_int_equal(db_snapshot_set_active(f->db, s2, 9500, &v), 0);
	assert_success(f, 9500);
	assert_int_equal(db_snapshot_set_state(f->db, s2, "missing", NULL), 0);
	assert_success(f, 8000);
	/* rows changed or removed by hand: recomputed */
	raw_exec(f->path,
	    "UPDATE snapshots SET created_at = 8500 WHERE "
	    "id = 1");
	assert_success(f, 8500);
	raw_exec(f->path, "UPDATE snapshots SET created_at = 100 WHERE id = 1");
	assert_success(f, 8000);
	raw_exec(f->path, "DELETE FROM decision_rows WHERE action = 'skip'");
	assert_success(f, 100);
	raw_exec(f->path, "UPDATE snapshots SET state = 'failed' WHERE id = 1");
	assert_success(f, 0);
	/* a row that is not true is read as it is, and db check says so */
	memset(&r, 0, sizeof(r));
	assert_int_equal(db_check_full(f->db, &r), 0);
	assert_int_equal(r.n, 0);
	db_check_report_free(&r);
	raw_exec(f->path, "UPDATE pool_success SET at = 42");
	assert_int_equal(db_pool_last_success(f->db, 1, &at), 0);
	assert_int_equal(at, 42);
	assert_int_equal(db_check_full(f->db, &r), 0);
	assert_int_equal(r.n, 1);
	assert_non_null(strstr(r.items[0].detail,
	    "pool_success: 1 pool(s) whose newest success differs from their "
	    "snapshots and skips (first pool id 1: 42, the rows say 0)"));
	db_check_report_free(&r);

	/* one row by its key and the open range, nothing of the past */
	assert_int_equal(
	    db_query_plan(f->db, "last_success", plan, sizeof(plan)), 0);
	if (strstr(plan, "pool_success USING INTEGER PRIMARY KEY") == NULL ||
	    strstr(plan, "decision_open USING PRIMARY KEY") == NULL ||
	    strstr(plan, "snapshots") != NULL ||
	    strstr(plan, "decision_rows") != NULL)
		fail_msg("last success: plan:\n%s", plan);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_pool_holders_answer_as_channel_from_the_active_index,
	        setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pool_success_kept_by_triggers, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
