/*
 * test_plan_run.c -- what `plan` prints is exactly what `run` then does
 * (DESIGN.md sections 1 and 3): over the demo fleet and a simulated month
 * with a weekly node image release and a policy tight enough that
 * retention deletes and promotion promotes, each day's `plan --json` and
 * the `run --json` that follows it at the same --as-of list the same
 * action for every pool and the same keep / delete / promote for every
 * snapshot, with the same reasons.  And Azure agrees with the run: every
 * snapshot it said it deleted is gone from the emulator.  The same over
 * two weeks of the demo fleet selected by a [fleet:NAME] section with a
 * ladder, with `run --dry-run` in place of `plan` once; and
 * `prune --dry-run` against `prune`, which promotes nothing.
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

		/* prune lists no pool action (but "paused") */
		assert_true(
		    asprintf(&s, "%s %s %s [%s]", pool, act ? act : "-",
		        json_is_string(snap) ? json_string_value(snap) : "-",
		        act ? harness_reasons(p) : "") > 0);
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

/*
 * The create at the head of each pool's list flows into the rest of it:
 * the snapshot a pool's create names is one its promotion and retention
 * lines decide on (pending in `plan`, as the store holds it in `run`),
 * and, in a run (${e} not NULL) where it was taken, Azure holds it.
 * Returns how many creates were seen.
 */
static int
creates_flow(struct emu *e, const char *out, const char *what)
{
	json_t *doc = json_loads(out, 0, NULL), *p, *l;
	size_t i, j;
	int n = 0;

	assert_non_null(doc);
	json_array_foreach(json_object_get(doc, "pools"), i, p)
	{
		const char *act =
		    json_string_value(json_object_get(p, "action"));
		const char *snap =
		    json_string_value(json_object_get(p, "snapshot"));
		const char *state =
		    json_string_value(json_object_get(p, "state"));
		int listed = 0;

		if (act == NULL || strcmp(act, "create") != 0)
			continue;
		if (e != NULL &&
		    (state == NULL || strcmp(state, "active") != 0))
			continue; /* not taken (failed): no list follows */
		n++;
		assert_non_null(snap);
		json_array_foreach(json_object_get(p, "snapshots"), j, l)
		{
			const char *s =
			    json_string_value(json_object_get(l, "snapshot"));

			listed += s != NULL && strcmp(s, snap) == 0;
		}
		if (listed == 0)
			fail_msg("%s: %s creates %s, and its list decides "
			         "nothing about it:\n%s",
			    what, json_string_value(json_object_get(p, "pool")),
			    snap, out);
		if (e != NULL && !emu_has_snapshot(e, snap))
			fail_msg("%s: %s took %s, Azure does not hold it", what,
			    json_string_value(json_object_get(p, "pool")),
			    snap);
	}
	json_decref(doc);
	return n;
}

/* How many of each kind of decision a sequence of runs made. */
struct tally {
	int creates, promotes, deletes, keeps;
};

/*
 * At ${t}: `${dry} --as-of t --json`, then `${wet} --as-of t --json`
 * (each a NULL-ended argument list after the verb), both exit ${code},
 * and list the same decisions; every snapshot the second says it deleted
 * is gone from the emulator.  Adds what it saw to ${tl}.
 */
static void
dry_then_wet_exit(struct emu *e, const char *config, const char *t,
    const char *const *dry, const char *const *wet, int code, struct tally *tl)
{
	const char *argv[16];
	struct run_result plan, run;
	char what[64];
	char *want, *got;
	json_t *dels, *d;
	size_t i, k;

	for (int pass = 0; pass < 2; pass++) {
		const char *const *v = pass == 0 ? dry : wet;

		k = 0;
		argv[k++] = "-c";
		argv[k++] = config;
		for (i = 0; v[i] != NULL; i++)
			argv[k++] = v[i];
		argv[k++] = "--as-of";
		argv[k++] = t;
		argv[k++] = "--json";
		argv[k] = NULL;
		memset(pass == 0 ? &plan : &run, 0, sizeof(plan));
		harness_run_aksnap(pass == 0 ? &plan : &run, argv);
		harness_expect_exit(pass == 0 ? &plan : &run, code);
	}
	snprintf(what, sizeof(what), "%s %s %s", t, dry[0],
	    dry[1] != NULL ? dry[1] : "");
	want = decisions(plan.out, what);
	snprintf(what, sizeof(what), "%s %s", t, wet[0]);
	got = decisions(run.out, what);
	if (strcmp(want, got) != 0)
		fail_msg("%s: %s and %s differ\n%s:\n%s\n%s:\n%s", t, dry[0],
		    wet[0], "dry", want, "carried out", got);
	tl->deletes += strstr(got, "   delete ") != NULL;
	tl->promotes += strstr(got, "   promote ") != NULL;
	tl->keeps += strstr(got, "   keep ") != NULL;
	tl->creates += strstr(got, " create ") != NULL;
	if (strcmp(wet[0], "prune") != 0)
		assert_int_equal(creates_flow(NULL, plan.out, what),
		    creates_flow(e, run.out, what));
	dels = deleted_by(run.out);
	json_array_foreach(dels, i, d)
	{
		if (emu_has_snapshot(e, json_string_value(d)))
			fail_msg("%s: %s deleted %s, Azure holds it", t, wet[0],
			    json_string_value(d));
	}
	json_decref(dels);
	free(want);
	free(got);
	run_result_free(&plan);
	run_result_free(&run);
}

static void
dry_then_wet(struct emu *e, const char *config, const char *t,
    const char *const *dry, const char *const *wet, struct tally *tl)
{
	dry_then_wet_exit(e, config, t, dry, wet, 0, tl);
}

static const char *const PLAN[] = {"plan", NULL};
static const char *const RUN[] = {"run", NULL};

/* Day after day at 03:00 from 2026-11-01 for ${days}, a node image
 * release every week: plan, then run. */
static void
month(struct emu *e, const char *config, int days, struct tally *tl)
{
	for (int day = 1; day <= days; day++) {
		char t[32];

		snprintf(t, sizeof(t), "2026-11-%02dT03:00:00Z", day);
		assert_int_equal(emu_set_clock(e, t), 0);
		if (day % 7 == 3) /* a node image release for every pool */
			json_decref(emu_post(e, "/_armemu/release", "{}"));
		dry_then_wet(e, config, t, PLAN, RUN, tl);
	}
}

static void
test_plan_then_run_do_the_same_over_a_month(void **state)
{
	const char *args[] = {"--fleet", FLEET, "--retry-after", "0", NULL};
	struct tally tl = {0, 0, 0, 0};
	struct emu *e;
	struct harness h;
	const char *config;

	(void)state;
	assert_int_equal(harness_init(&h, args, POOLS_INI), 0);
	e = h.emu;
	config = h.config;
	month(e, config, 30, &tl);
	/* the month exercised every kind of decision */
	assert_true(tl.creates >= 25);
	assert_true(tl.deletes >= 5);
	assert_true(tl.promotes >= 3);
	harness_fini(&h);
}

/*
 * The demo fleet as a fleet selects it (every pool of every cluster,
 * observed by listing the clusters, not by pool sections), over two
 * weeks: plan and run agree there too, and `run --dry-run` is `plan`.
 */
static void
test_plan_then_run_do_the_same_over_the_demo_fleet(void **state)
{
	static const char *const DRY[] = {"run", "--dry-run", NULL};
	const char *args[] = {"--fleet", FLEET, "--retry-after", "0", NULL};
	struct tally tl = {0, 0, 0, 0};
	struct emu *e;
	struct harness h;
	const char *config;

	(void)state;
	assert_int_equal(
	    harness_init(&h, args,
	        "\n[policy:default]\nschedule = 0 2 * * *\n"
	        "snapshot_when = always\nkeep_last = 2\nkeep_daily = 2\n"
	        "keep_weekly = 0\nkeep_monthly = 0\nkeep_within = 0\n"
	        "min_keep = 1\nmax_delete_per_run = 3\n"
	        "channels = canary:1d stable:2d\nkeep_promoted = 1\n"
	        "\n[fleet:demo]\ncluster = aks-*\n"),
	    0);
	e = h.emu;
	config = h.config;
	month(e, config, 14, &tl);
	/* Azure's clock at the run's time, as month() sets it: else the
	 * snapshot is created a day before as_of, where the dry run puts it
	 * at as_of, and retention's day buckets may differ. */
	assert_int_equal(emu_set_clock(e, "2026-11-15T03:00:00Z"), 0);
	dry_then_wet(e, config, "2026-11-15T03:00:00Z", DRY, RUN, &tl);
	/* five pools a day, and the ladder and retention at work */
	assert_true(tl.creates >= 14);
	assert_true(tl.deletes >= 5);
	assert_true(tl.promotes >= 5);
	harness_fini(&h);
}

/* One pool, keep_last 1, stable after 3 days, keep_promoted 1. */
static const char *const ONE_POOL_INI =
    "\n[policy:default]\nschedule = 0 2 * * *\n"
    "snapshot_when = always\nkeep_last = 1\nkeep_daily = 0\n"
    "keep_weekly = 0\nkeep_monthly = 0\nkeep_within = 0\n"
    "min_keep = 1\npromote_after = 3d\nchannel = stable\n"
    "keep_promoted = 1\n"
    "\n[pool:staging-system]\nresource_group = rg-staging\n"
    "cluster = aks-staging\nnodepool = system\n";

#define S1 "aksnap-aks-staging-system-20261101T0200Z"

/* Runs on day 1 (s1) and day 5 (s5; s1 enters stable). */
static void
two_runs(struct emu *e, const char *config)
{
	static const char *const days[] = {
	    "2026-11-01T03:00:00Z", "2026-11-05T03:00:00Z"};
	struct run_result r;

	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(emu_set_clock(e, days[i]), 0);
		harness_aksnapl(
		    &r, config, "run", "--as-of", days[i], "--json", NULL);
		harness_expect_exit(&r, 0);
		run_result_free(&r);
	}
}

/*
 * `prune --dry-run` is what `prune` does: retention alone, with the
 * channels as they are (prune promotes nothing, so a promotion that is
 * due does not take the protection of keep_promoted from the holder).
 */
static void
test_prune_dry_run_then_prune_do_the_same(void **state)
{
	static const char *const DRY[] = {"prune", "--dry-run", NULL};
	static const char *const WET[] = {"prune", NULL};
	const char *args[] = {"--fleet", FLEET, "--retry-after", "0", NULL};
	struct tally tl = {0, 0, 0, 0};
	struct emu *e;
	struct harness h;
	const char *config;

	(void)state;
	assert_int_equal(harness_init(&h, args, ONE_POOL_INI), 0);
	e = h.emu;
	config = h.config;
	two_runs(e, config);
	/* Day 9: s5 is due for stable, but prune does not promote: s1
	 * stays the holder and keep_promoted keeps it. */
	assert_int_equal(emu_set_clock(e, "2026-11-09T03:00:00Z"), 0);
	dry_then_wet(e, config, "2026-11-09T03:00:00Z", DRY, WET, &tl);
	assert_int_equal(tl.keeps, 1);
	assert_int_equal(tl.promotes, 0);
	assert_int_equal(tl.deletes, 0);
	harness_fini(&h);
}

/*
 * The list of day 9 promotes s5 to stable, so that s1 -- no longer
 * protected by keep_promoted 1 -- is deleted.  When Azure refuses the
 * tag, the promotion fails and the run carries out nothing after it in
 * that pool: s1 is still stable's holder and is not deleted.
 */
static void
test_run_after_a_failed_promotion_deletes_nothing(void **state)
{
	const char *args[] = {"--fleet", FLEET, "--retry-after", "0", NULL};
	const char *t = "2026-11-09T03:00:00Z";
	struct run_result r;
	struct emu *e;
	struct harness h;
	const char *config;

	(void)state;
	assert_int_equal(harness_init(&h, args, ONE_POOL_INI), 0);
	e = h.emu;
	config = h.config;
	two_runs(e, config);
	assert_int_equal(emu_set_clock(e, t), 0);
	harness_aksnapl(&r, config, "plan", "--as-of", t, NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "delete");
	harness_expect_in(r.out, S1);
	run_result_free(&r);
	assert_true(emu_fault(e,
	                "{\"method\": \"PATCH\", \"path\": "
	                "\"*/snapshots/*\", \"action\": \"status\", "
	                "\"status\": 403, \"count\": -1}") > 0);
	harness_aksnapl(&r, config, "run", "--as-of", t, NULL);
	harness_expect_exit(&r, 1);
	run_result_free(&r);
	assert_int_equal(emu_counter(e, "DELETE snapshots.delete"), 0);
	assert_true(emu_has_snapshot(e, S1));
	harness_aksnapl(&r, config, "baseline", NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, S1);
	run_result_free(&r);
	harness_fini(&h);
}

/* The decisions the store holds (`db status --json`). */
static long long
decision_rows(const char *config)
{
	struct run_result r;
	json_t *doc;
	long long n;

	harness_aksnapl(&r, config, "db", "status", "--json", NULL);
	harness_expect_exit(&r, 0);
	doc = json_loads(r.out, 0, NULL);
	assert_non_null(doc);
	n = json_integer_value(json_object_get(doc, "decisions"));
	json_decref(doc);
	run_result_free(&r);
	return n;
}

/*
 * A create that cannot be sent is the plan's failure, not only the
 * run's: here the pool key was renamed, so the slot's name is the old
 * key's snapshot, which a PUT would take over.  `plan` lists the pool
 * failed with that reason, exit 1, as `run` then does, sending no PUT.
 * The fail entry is the interpreter's like any other: `plan` reports it
 * and records nothing, `run` records it.
 */
static void
test_plan_shows_the_create_run_refuses(void **state)
{
	const char *args[] = {"--fleet", FLEET, "--retry-after", "0", NULL};
	const char *t = "2026-11-01T03:00:00Z";
	struct tally tl = {0, 0, 0, 0};
	struct run_result r;
	struct harness h;
	struct emu *e;
	const char *config;
	char *renamed, *ini, *at;
	long long rows;

	(void)state;
	assert_int_equal(harness_init(&h, args, ONE_POOL_INI), 0);
	e = h.emu;
	config = h.config;
	assert_int_equal(emu_set_clock(e, t), 0);
	harness_aksnapl(&r, config, "run", "--as-of", t, NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
	/* [pool:staging-system] becomes [pool:staging-sys], same pool. */
	ini = strdup(ONE_POOL_INI);
	assert_non_null(ini);
	at = strstr(ini, "[pool:staging-system]");
	assert_non_null(at);
	memmove(at + strlen("[pool:staging-sys"),
	    at + strlen("[pool:staging-system"),
	    strlen(at + strlen("[pool:staging-system")) + 1);
	renamed = harness_config(h.dir, e, ini);
	assert_non_null(renamed);
	emu_reset_counters(e);
	rows = decision_rows(renamed);
	harness_aksnapl(&r, renamed, "plan", "--as-of", t, NULL);
	harness_expect_exit(&r, 1);
	run_result_free(&r);
	assert_int_equal(decision_rows(renamed), rows);
	dry_then_wet_exit(e, renamed, t, PLAN, RUN, 1, &tl);
	assert_true(decision_rows(renamed) > rows);
	assert_int_equal(emu_counter(e, "PUT snapshots.put"), 0);
	harness_aksnapl(&r, renamed, "plan", "--as-of", t, NULL);
	harness_expect_exit(&r, 1);
	harness_expect_in(r.out, "fail");
	harness_expect_in(r.out, "not taken over");
	run_result_free(&r);
	free(ini);
	free(renamed);
	harness_fini(&h);
}

/*
 * `plan` changes nothing it plans (DESIGN.md 3: plan = run --dry-run,
 * which changes nothing in Azure nor in the snapshot states): with a
 * create, a promotion, a demotion and a delete due, it sends no PUT,
 * PATCH or DELETE, and the store's snapshots and their journals read the
 * same after it.  (It records its run and what it observed: those are
 * facts, DESIGN.md 2.)
 */
static void
test_plan_sends_and_records_no_change(void **state)
{
	const char *args[] = {"--fleet", FLEET, "--retry-after", "0", NULL};
	const char *t = "2026-11-09T03:00:00Z";
	struct run_result before, after, list, r;
	struct emu *e;
	struct harness h;
	const char *config;

	(void)state;
	assert_int_equal(harness_init(&h, args, ONE_POOL_INI), 0);
	e = h.emu;
	config = h.config;
	two_runs(e, config);
	assert_int_equal(emu_set_clock(e, t), 0);
	harness_aksnapl(&list, config, "list", "--all", "--json", NULL);
	harness_expect_exit(&list, 0);
	harness_aksnapl(&before, config, "explain", S1, "--json", NULL);
	harness_expect_exit(&before, 0);
	emu_reset_counters(e);
	harness_aksnapl(&r, config, "plan", "--as-of", t, NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "create");
	harness_expect_in(r.out, "promote");
	harness_expect_in(r.out, "demote");
	harness_expect_in(r.out, "delete");
	run_result_free(&r);
	assert_int_equal(emu_counter(e, "PUT snapshots.put"), 0);
	assert_int_equal(emu_counter(e, "PATCH snapshots.patch"), 0);
	assert_int_equal(emu_counter(e, "DELETE snapshots.delete"), 0);
	harness_aksnapl(&r, config, "list", "--all", "--json", NULL);
	assert_string_equal(r.out, list.out);
	run_result_free(&r);
	harness_aksnapl(&after, config, "explain", S1, "--json", NULL);
	assert_string_equal(after.out, before.out);
	run_result_free(&after);
	run_result_free(&before);
	run_result_free(&list);
	harness_fini(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plan_then_run_do_the_same_over_a_month),
	    cmocka_unit_test(
	        test_plan_then_run_do_the_same_over_the_demo_fleet),
	    cmocka_unit_test(test_prune_dry_run_then_prune_do_the_same),
	    cmocka_unit_test(test_run_after_a_failed_promotion_deletes_nothing),
	    cmocka_unit_test(test_plan_shows_the_create_run_refuses),
	    cmocka_unit_test(test_plan_sends_and_records_no_change),
	};

	return cmocka_run_group_tests_name("plan_run", tests, NULL, NULL);
}
