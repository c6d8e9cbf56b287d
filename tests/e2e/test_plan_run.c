/*
 * test_plan_run.c -- what `plan` prints is exactly what `run` then does
 * (DESIGN.md sections 1 and 3): over the demo fleet and a simulated month
 * with a weekly node image release and a policy tight enough that
 * retention deletes and promotion promotes, each day's `plan --json` and
 * the `run --json` that follows it at the same --as-of list the same
 * action for every pool and the same keep / delete / promote for every
 * snapshot, with the same reasons.  And Azure agrees with the run: every
 * snapshot it said it deleted is gone from the emulator.
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/e2e/harness.h"

#define FLEET "tests/armemu/fleet-demo.json"

static const char *const POOLS_INI =
    "\n[policy:default]\nschedule = 0 2 * * *\nsnapshot_when = always\n"
    "keep_last = 2\nkeep_daily = 3\nkeep_weekly = 1\nkeep_monthly = 0\n"
    "keep_within = 0\nmin_keep = 1\nmax_delete_per_run = 2\n"
    "promote_after = 3d\nchannel = stable\nkeep_promoted = 1\n"
    "\n[pool:staging-system]\nresource_group = rg-staging\n"
    "cluster = aks-staging\nnodepool = system\n"
    "\n[pool:staging-user]\nresource_group = rg-staging\n"
    "cluster = aks-staging\nnodepool = user\n"
    "\n[pool:prod-system]\nresource_group = rg-prod\n"
    "cluster = aks-prod\nnodepool = system\n"
    "\n[pool:prod-batch]\nresource_group = rg-prod\n"
    "cluster = aks-prod\nnodepool = batch\n"
    "\n[pool:edge-system]\nresource_group = rg-prod\n"
    "cluster = aks-edge\nnodepool = system\n"
    "channels = canary:1d stable:2d\n"; /* a ladder, planned as run */

/* One line per decision, sorted: "pool action snapshot [reasons]". */
static char *
decisions(const char *out, const char *what)
{
	json_error_t e;
	json_t *doc = json_loads(out, 0, &e), *pools, *p, *l;
	size_t i, j, cap = 1 << 16, used = 0;
	char *buf = calloc(1, cap);
	char **lines = NULL;
	size_t nl = 0;

	if (doc == NULL)
		fail_msg("%s: not JSON (%s):\n%s", what, e.text, out);
	assert_non_null(buf);
	pools = json_object_get(doc, "pools");
	lines = calloc(1024, sizeof(*lines));
	assert_non_null(lines);
	json_array_foreach(pools, i, p)
	{
		const char *pool =
		    json_string_value(json_object_get(p, "pool"));
		const char *act =
		    json_string_value(json_object_get(p, "action"));
		json_t *snap = json_object_get(p, "snapshot");
		char *s = NULL;

		assert_true(
		    asprintf(&s, "%s %s %s [%s]", pool, act,
		        json_is_string(snap) ? json_string_value(snap) : "-",
		        harness_reasons(p)) > 0);
		lines[nl++] = s;
		json_array_foreach(json_object_get(p, "snapshots"), j, l)
		{
			assert_true(nl < 1024);
			assert_true(
			    asprintf(&s, "%s   %s %s [%s]", pool,
			        json_string_value(json_object_get(l, "action")),
			        json_string_value(
			            json_object_get(l, "snapshot")),
			        harness_reasons(l)) > 0);
			lines[nl++] = s;
		}
	}
	/* sorted, so that the order pools answered in does not matter */
	for (size_t a = 1; a < nl; a++)
		for (size_t b = a; b > 0 && strcmp(lines[b - 1], lines[b]) > 0;
		     b--) {
			char *t = lines[b];

			lines[b] = lines[b - 1];
			lines[b - 1] = t;
		}
	for (size_t k = 0; k < nl; k++) {
		used +=
		    (size_t)snprintf(buf + used, cap - used, "%s\n", lines[k]);
		free(lines[k]);
	}
	free(lines);
	json_decref(doc);
	return buf;
}

/* The snapshots a run's JSON says it deleted, as a JSON array. */
static json_t *
deleted_by(const char *out)
{
	json_t *doc = json_loads(out, 0, NULL), *arr = json_array(), *p, *l;
	size_t i, j;

	json_array_foreach(json_object_get(doc, "pools"), i, p)
	{
		json_array_foreach(json_object_get(p, "snapshots"), j, l)
		{
			if (strcmp(
			        json_string_value(json_object_get(l, "action")),
			        "delete") == 0)
				json_array_append(
				    arr, json_object_get(l, "snapshot"));
		}
	}
	json_decref(doc);
	return arr;
}

static int
emu_has_snapshot(struct emu *e, const char *name)
{
	json_t *st = emu_get(e, "/_armemu/state");
	char *dump = json_dumps(st, JSON_COMPACT);
	char needle[128];
	int has;

	snprintf(needle, sizeof(needle), "\"%s\"", name);
	has = dump != NULL && strstr(dump, needle) != NULL;
	free(dump);
	json_decref(st);
	return has;
}

static void
test_plan_then_run_do_the_same_over_a_month(void **state)
{
	const char *args[] = {"--fleet", FLEET, "--retry-after", "0", NULL};
	struct emu *e;
	char *dir = harness_tmpdir(), *config;
	int deletes = 0, promotes = 0, creates = 0;

	(void)state;
	e = emu_start(args);
	assert_non_null(e);
	config = harness_config(dir, e, POOLS_INI);
	assert_non_null(config);
	for (int day = 1; day <= 30; day++) {
		struct run_result plan, run;
		char t[32], what[64];
		char *want, *got;
		json_t *dels;
		size_t i;
		json_t *d;

		snprintf(t, sizeof(t), "2026-11-%02dT03:00:00Z", day);
		assert_int_equal(emu_set_clock(e, t), 0);
		if (day % 7 == 3) /* a node image release for every pool */
			json_decref(emu_post(e, "/_armemu/release", "{}"));
		harness_aksnapl(
		    &plan, config, "plan", "--as-of", t, "--json", NULL);
		harness_expect_exit(&plan, 0);
		harness_aksnapl(
		    &run, config, "run", "--as-of", t, "--json", NULL);
		harness_expect_exit(&run, 0);
		snprintf(what, sizeof(what), "day %d plan", day);
		want = decisions(plan.out, what);
		snprintf(what, sizeof(what), "day %d run", day);
		got = decisions(run.out, what);
		if (strcmp(want, got) != 0)
			fail_msg(
			    "day %d: plan and run differ\nplan:\n%s\nrun:\n%s",
			    day, want, got);
		deletes += strstr(got, "   delete ") != NULL;
		promotes += strstr(got, "   promote ") != NULL;
		creates += strstr(got, " create ") != NULL;
		dels = deleted_by(run.out);
		json_array_foreach(dels, i, d)
		{
			if (emu_has_snapshot(e, json_string_value(d)))
				fail_msg(
				    "day %d: run deleted %s, Azure holds it",
				    day, json_string_value(d));
		}
		json_decref(dels);
		free(want);
		free(got);
		run_result_free(&plan);
		run_result_free(&run);
	}
	/* the month exercised every kind of decision */
	assert_true(creates >= 25);
	assert_true(deletes >= 5);
	assert_true(promotes >= 3);
	emu_stop(e);
	harness_rmrf(dir);
	free(dir);
	free(config);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plan_then_run_do_the_same_over_a_month),
	};

	return cmocka_run_group_tests_name("plan_run", tests, NULL, NULL);
}
