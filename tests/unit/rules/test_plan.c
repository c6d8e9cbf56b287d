/*
 * test_plan.c -- is a snapshot due, and under which name
 * (job/rules/plan.c).  Pure: no store, no network.
 */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "job/base/util.h"
#include "job/rules/plan.h"

#define SLOT 1773626400 /* 2026-03-16T02:00:00Z */

static int
arm_name_ok(const char *name)
{
	regex_t re;
	int ok;

	assert_int_equal(regcomp(&re,
	                     "^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}"
	                     "[a-zA-Z0-9]$",
	                     REG_EXTENDED | REG_NOSUB),
	    0);
	ok = regexec(&re, name, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

static void
test_plan_name_is_prefix_cluster_pool_and_slot(void **state)
{
	char name[64];

	(void)state;
	plan_snapshot_name("aksnap", "aks-prod", "system", SLOT, name);
	assert_string_equal(name, "aksnap-aks-prod-system-20260316T0200Z");
	assert_true(arm_name_ok(name));
}

static void
test_plan_long_names_are_cut_to_63_with_a_hash(void **state)
{
	char a[64], b[64];
	const char *c1 = "a-very-long-cluster-name-that-goes-on-and-on-0001";
	const char *c2 = "a-very-long-cluster-name-that-goes-on-and-on-0002";

	(void)state;
	plan_snapshot_name("aksnap", c1, "userpool1", SLOT, a);
	plan_snapshot_name("aksnap", c2, "userpool1", SLOT, b);
	assert_true(strlen(a) <= 63);
	assert_true(arm_name_ok(a));
	assert_true(arm_name_ok(b));
	/* Same cut prefix, but the hash keeps them apart. */
	assert_string_not_equal(a, b);
	/* And the slot is still readable at the end. */
	assert_non_null(strstr(a, "-20260316T0200Z"));
	/* Deterministic: the same pool and slot, the same name. */
	plan_snapshot_name("aksnap", c1, "userpool1", SLOT, b);
	assert_string_equal(a, b);
}

static struct pool_conf pool;
static struct policy policy;

static void
base_input(struct plan_input *in)
{
	memset(&pool, 0, sizeof(pool));
	memset(&policy, 0, sizeof(policy));
	pool.policy = &policy;
	util_strlcpy(pool.key, "web", sizeof(pool.key));
	util_strlcpy(pool.cluster, "aks", sizeof(pool.cluster));
	util_strlcpy(pool.nodepool, "web", sizeof(pool.nodepool));
	policy.snapshot_when = WHEN_CHANGED;
	memset(in, 0, sizeof(*in));
	in->pool = &pool;
	in->slot = SLOT;
	in->observed = 1;
	util_strlcpy(in->live.node_image_version, "AKSUbuntu-2204-202611.01.0",
	    sizeof(in->live.node_image_version));
	util_strlcpy(in->live.kubernetes_version, "1.30.5",
	    sizeof(in->live.kubernetes_version));
	util_strlcpy(
	    in->live.vm_size, "Standard_D4s_v5", sizeof(in->live.vm_size));
}

static void
test_plan_first_snapshot_is_due(void **state)
{
	struct plan_input in;
	struct plan_result out;

	(void)state;
	base_input(&in);
	plan_decide(&in, "aksnap", &out);
	assert_int_equal(out.action, PLAN_CREATE);
	assert_string_equal(out.name, "aksnap-aks-web-20260316T0200Z");
	assert_non_null(strstr(out.reason, "first snapshot"));
}

static void
test_plan_taken_slot_is_not_due(void **state)
{
	struct plan_input in;
	struct plan_result out;

	(void)state;
	base_input(&in);
	in.slot_taken = 1;
	plan_decide(&in, "aksnap", &out);
	assert_int_equal(out.action, PLAN_NONE);
	assert_string_equal(out.name, "");
}

static void
test_plan_by_hand_twice_in_a_minute_names_the_first(void **state)
{
	struct plan_input in;
	struct plan_result out;

	(void)state;
	base_input(&in);
	/* `aksnap snapshot`: due whatever the schedule says ... */
	in.force = 1;
	plan_decide(&in, "aksnap", &out);
	assert_int_equal(out.action, PLAN_CREATE);
	/* ... but the minute's name taken means that snapshot is this
	 * request's: nothing to send, not an error. */
	in.slot_taken = 1;
	plan_decide(&in, "aksnap", &out);
	assert_int_equal(out.action, PLAN_NONE);
	assert_string_equal(out.name, "aksnap-aks-web-20260316T0200Z");
	assert_non_null(strstr(out.reason, "taken this minute already"));
}

static void
test_plan_unchanged_pool_is_skipped_when_changed_only(void **state)
{
	struct plan_input in;
	struct plan_result out;

	(void)state;
	base_input(&in);
	in.have_newest = 1;
	in.newest = in.live;
	in.newest_name = "aksnap-aks-web-20260315T0200Z";
	plan_decide(&in, "aksnap", &out);
	assert_int_equal(out.action, PLAN_SKIP);
	assert_non_null(strstr(out.reason,
	    "unchanged since "
	    "aksnap-aks-web-20260315T0200Z"));
	/* Any of image, Kubernetes, SKU, size or FIPS counts as a change. */
	in.newest.enable_fips = 1;
	plan_decide(&in, "aksnap", &out);
	assert_int_equal(out.action, PLAN_CREATE);
	assert_non_null(strstr(out.reason, "changed: FIPS on -> off"));
	in.newest = in.live;
	util_strlcpy(in.newest.kubernetes_version, "1.30.4",
	    sizeof(in.newest.kubernetes_version));
	plan_decide(&in, "aksnap", &out);
	assert_int_equal(out.action, PLAN_CREATE);
	assert_non_null(strstr(out.reason,
	    "changed: Kubernetes 1.30.4 -> "
	    "1.30.5"));
	/* snapshot_when = always takes it anyway. */
	in.newest = in.live;
	policy.snapshot_when = WHEN_ALWAYS;
	plan_decide(&in, "aksnap", &out);
	assert_int_equal(out.action, PLAN_CREATE);
}

static void
test_plan_unobserved_pool_fails_with_the_reason(void **state)
{
	struct plan_input in;
	struct plan_result out;

	(void)state;
	base_input(&in);
	in.observed = 0;
	in.observe_error = "cluster aks not found";
	plan_decide(&in, "aksnap", &out);
	assert_int_equal(out.action, PLAN_FAIL);
	assert_non_null(strstr(out.reason, "cluster aks not found"));
}

/* A fleet's pool gone from its listing is skipped, not failed: retention
 * goes on over its snapshots. */
static void
test_plan_fleet_pool_gone_is_skipped(void **state)
{
	struct plan_input in;
	struct plan_result out;

	(void)state;
	base_input(&in);
	in.observed = 0;
	pool.fleet_missing = 1;
	in.observe_error = "missing: [fleet:all] no longer selects it";
	plan_decide(&in, "aksnap", &out);
	assert_int_equal(out.action, PLAN_SKIP);
	assert_int_equal(out.slot, SLOT);
	assert_string_equal(out.name, "");
	assert_string_equal(out.reason, in.observe_error);
	in.observe_error = NULL;
	plan_decide(&in, "aksnap", &out);
	assert_string_equal(out.reason, "missing");
}

static void
test_plan_force_slot_is_the_minute(void **state)
{
	time_t slot;
	char err[128];

	(void)state;
	assert_int_equal(
	    plan_slot(NULL, NULL, SLOT + 125, 1, &slot, err, sizeof(err)), 0);
	assert_int_equal(slot, SLOT + 120);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plan_name_is_prefix_cluster_pool_and_slot),
	    cmocka_unit_test(test_plan_long_names_are_cut_to_63_with_a_hash),
	    cmocka_unit_test(test_plan_first_snapshot_is_due),
	    cmocka_unit_test(test_plan_taken_slot_is_not_due),
	    cmocka_unit_test(
	        test_plan_unchanged_pool_is_skipped_when_changed_only),
	    cmocka_unit_test(test_plan_unobserved_pool_fails_with_the_reason),
	    cmocka_unit_test(test_plan_fleet_pool_gone_is_skipped),
	    cmocka_unit_test(test_plan_force_slot_is_the_minute),
	    cmocka_unit_test(
	        test_plan_by_hand_twice_in_a_minute_names_the_first),
	};

	return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
