/*
 * test_promote_batch.c -- a run's promotions tagged concurrently, across
 * pools (issue 16): twenty pools (4 clusters x 5, one subscription,
 * max_parallel = 4) climb a one-rung ladder together, and what aksnap
 * sent is read back from the emulator's counters and request log:
 *
 *   - twenty first promotions in one run are a GET and a PATCH each,
 *     exactly, and the PATCHes overlap (more than one in flight, never
 *     more than max_parallel), while `plan` listed the same promotions;
 *   - twenty promotions that replace the holder are four requests each
 *     (the new holder's tag, then the replaced one's), and a PATCH
 *     refused (403) for one pool and one answered 200 without the tag
 *     (TagNotApplied, after the GET that verifies it) for another fail
 *     those two pools only: the error names pool, URL, status and
 *     request id, their store and Azure stay as they were, and the other
 *     eighteen are promoted in both.
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "job/base/util.h"
#include "tests/e2e/harness.h"

#define CLUSTERS 4
#define PER_CLUSTER 5
#define POOLS (CLUSTERS * PER_CLUSTER)
#define PARALLEL 4
#define DAY0 "2026-03-02T02:00:00Z"
#define DAY1 "2026-03-03T02:00:00Z"
#define DAY2 "2026-03-04T02:00:00Z"
#define DAY3 "2026-03-05T02:00:00Z"

static char *
ini(void)
{
	size_t cap = POOLS * 160 + 1024, len = 0;
	char *s = malloc(cap);

	if (s == NULL)
		return NULL;
	len += (size_t)snprintf(s + len, cap - len,
	    "max_parallel = %d\ntimezone = UTC\n"
	    "\n[policy:default]\nschedule = 0 2 * * *\n"
	    "snapshot_when = changed\nkeep_last = 10\nkeep_daily = 0\n"
	    "keep_weekly = 0\nkeep_monthly = 0\nkeep_within = 0\n"
	    "min_keep = 1\nchannels = canary:1d\nkeep_promoted = 1\n"
	    "release_notes = off\n",
	    PARALLEL);
	for (int i = 1; i <= CLUSTERS; i++)
		for (int j = 0; j < PER_CLUSTER; j++)
			len += (size_t)snprintf(s + len, cap - len,
			    "\n[pool:aks-%d-pool%d]\nresource_group = rg-1\n"
			    "cluster = aks-%d\nnodepool = pool%d\n",
			    i, j, i, j);
	return s;
}

static int
setup(void **state)
{
	static char gen[32];
	const char *args[] = {"--generate", gen, NULL};
	struct harness *h;
	char *extra = ini();

	snprintf(gen, sizeof(gen), "%d:%d:1", CLUSTERS, PER_CLUSTER);
	h = extra != NULL ? harness_new(args, extra) : NULL;
	free(extra);
	*state = h;
	return h != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	harness_free(*state);
	return 0;
}

/*
 * `${verb} --as-of ${t} --json` at Azure's clock ${t}, frozen: a snapshot
 * this run creates has createdAt ${t} exactly, so it has soaked canary's
 * 1d at ${t} + 1d however long the run took (under valgrind, seconds: a
 * running clock gave createdAt ${t} + 3s, and nothing was promoted).
 * Exit ${code}.
 */
static void
at(struct harness *h, const char *verb, const char *t, int code,
    struct run_result *r)
{
	assert_int_equal(emu_freeze_clock(h->emu, t), 0);
	harness_aksnap(h, r, verb, "--as-of", t, "--json", NULL);
	harness_expect_exit(r, code);
}

static void
run_at(struct harness *h, const char *t, int code)
{
	struct run_result r;

	at(h, "run", t, code, &r);
	run_result_free(&r);
}

/* The promotions a plan or run listed: "pool snapshot" lines, sorted. */
static char *
promotions(const char *out)
{
	json_t *doc = json_loads(out, 0, NULL), *p, *l;
	char *lines[POOLS * 2], *buf = calloc(1, 8192);
	size_t i, j, n = 0, used = 0;

	assert_non_null(doc);
	assert_non_null(buf);
	json_array_foreach(json_object_get(doc, "pools"), i, p)
	{
		json_array_foreach(json_object_get(p, "snapshots"), j, l)
		{
			if (strcmp(
			        json_string_value(json_object_get(l, "action")),
			        "promote") != 0)
				continue;
			assert_true(n < POOLS * 2);
			assert_true(
			    asprintf(&lines[n++], "%s %s\n",
			        json_string_value(json_object_get(p, "pool")),
			        json_string_value(
			            json_object_get(l, "snapshot"))) > 0);
		}
	}
	for (size_t a = 1; a < n; a++)
		for (size_t b = a; b > 0 && strcmp(lines[b - 1], lines[b]) > 0;
		     b--) {
			char *t = lines[b];

			lines[b] = lines[b - 1];
			lines[b - 1] = t;
		}
	for (size_t k = 0; k < n; k++) {
		used +=
		    (size_t)snprintf(buf + used, 8192 - used, "%s", lines[k]);
		free(lines[k]);
	}
	json_decref(doc);
	return buf;
}

/* How many of the PATCHes in the request log were in flight at once. */
static long
patches_at_once(struct harness *h)
{
	json_t *log = emu_get(h->emu, "/_armemu/requests"), *a, *b, *reqs;
	size_t i, j;
	long most = 0;

	assert_non_null(log);
	reqs = json_is_array(log) ? log : json_object_get(log, "requests");
	json_array_foreach(reqs, i, a)
	{
		long n = 0;
		json_int_t end, start;

		if (strcmp(json_string_value(json_object_get(a, "method")),
		        "PATCH") != 0)
			continue;
		end = json_integer_value(json_object_get(a, "time_ms"));
		start =
		    end - json_integer_value(json_object_get(a, "duration_ms"));
		/* the PATCHes running when this one started */
		json_array_foreach(reqs, j, b)
		{
			json_int_t e2, s2;

			if (strcmp(
			        json_string_value(json_object_get(b, "method")),
			        "PATCH") != 0)
				continue;
			e2 = json_integer_value(json_object_get(b, "time_ms"));
			s2 = e2 -
			    json_integer_value(
			        json_object_get(b, "duration_ms"));
			n += s2 <= start && start < e2;
		}
		if (n > most)
			most = n;
	}
	json_decref(log);
	return most;
}

/* Store and Azure both say snapshot ${day} of pool (i, j) holds ${want}. */
static void
expect_channel(
    struct harness *h, int i, int j, const char *day, const char *want)
{
	char pool[32], name[96], got[64];

	snprintf(pool, sizeof(pool), "aks-%d-pool%d", i, j);
	snprintf(
	    name, sizeof(name), "aksnap-aks-%d-pool%d-%sT0200Z", i, j, day);
	harness_store_channel(h, pool, name, got, sizeof(got));
	if (strcmp(got, want) != 0)
		fail_msg(
		    "store: %s holds \"%s\", want \"%s\"", name, got, want);
	if (emu_snapshot_tag(h->emu, name, "aksnap-channel", got, sizeof(got)))
		fail_msg("%s is not in Azure", name);
	if (strcmp(got, want) != 0)
		fail_msg(
		    "Azure: %s is tagged \"%s\", want \"%s\"", name, got, want);
}

/*
 * Twenty pools' first promotions in one run: a GET and a PATCH each and
 * nothing else written; the PATCHes (each held 150 ms by the emulator)
 * overlap, at most max_parallel at a time; `plan` listed them all.
 */
static void
test_first_promotions_are_tagged_concurrently(void **state)
{
	struct harness *h = *state;
	struct run_result plan, run;
	char *want, *got;
	json_t *stats;
	long most;

	run_at(h, DAY0, 0);
	assert_true(emu_fault(h->emu,
	                "{\"method\":\"PATCH\",\"action\":\"latency\","
	                "\"latency_ms\":150,\"count\":-1}") > 0);
	at(h, "plan", DAY1, 0, &plan);
	emu_reset_counters(h->emu);
	at(h, "run", DAY1, 0, &run);
	want = promotions(plan.out);
	got = promotions(run.out);
	assert_int_equal(strlen(got), strlen(want));
	assert_string_equal(got, want);
	assert_non_null(strstr(got, "aks-4-pool4 aksnap-aks-4-pool4-"));
	free(want);
	free(got);
	run_result_free(&plan);
	run_result_free(&run);

	assert_int_equal(emu_counter(h->emu, "GET snapshots.get 200"), POOLS);
	assert_int_equal(
	    emu_counter(h->emu, "PATCH snapshots.patch 200"), POOLS);
	assert_int_equal(emu_counter(h->emu, "PATCH snapshots.patch"), POOLS);
	assert_int_equal(emu_counter(h->emu, "PUT snapshots.put"), 0);
	assert_int_equal(emu_counter(h->emu, "DELETE snapshots.delete"), 0);
	most = patches_at_once(h);
	if (most < 2 || most > PARALLEL)
		fail_msg("%ld PATCHes in flight at once, want 2..%d", most,
		    PARALLEL);
	stats = emu_get(h->emu, "/_armemu/stats");
	assert_true(json_integer_value(
	                json_object_get(stats, "max_in_flight")) <= PARALLEL);
	json_decref(stats);
	for (int i = 1; i <= CLUSTERS; i++)
		for (int j = 0; j < PER_CLUSTER; j++)
			expect_channel(h, i, j, "20260302", "canary");
}

/*
 * Promotions that replace the holder: four requests each; a 403 on one
 * pool's PATCH and a PATCH that does not take on another fail those two
 * pools alone, which keep their old holder in the store and in Azure.
 */
static void
test_replacing_promotions_and_a_fault_in_one_pool(void **state)
{
	struct harness *h = *state;
	struct run_result r;
	char day3[96];

	run_at(h, DAY0, 0);
	run_at(h, DAY1, 0); /* day 0's snapshots enter canary */
	json_decref(emu_post(h->emu, "/_armemu/release", "{}"));
	run_at(h, DAY2, 0); /* a new snapshot of every pool */
	assert_true(emu_fault(h->emu,
	                "{\"method\":\"PATCH\",\"path\":\"*/snapshots/"
	                "aksnap-aks-3-pool2-20260304T0200Z\","
	                "\"action\":\"status\",\"status\":403,"
	                "\"error_code\":\"AuthorizationFailed\","
	                "\"count\":-1}") > 0);
	assert_true(emu_fault(h->emu,
	                "{\"method\":\"PATCH\",\"path\":\"*/snapshots/"
	                "aksnap-aks-1-pool4-20260304T0200Z\","
	                "\"action\":\"patch_noop\",\"count\":-1}") > 0);
	emu_reset_counters(h->emu);
	at(h, "run", DAY3, 1, &r);

	/* 18 pools: GET + PATCH of the new holder, then of the old one; the
	 * refused one: GET + PATCH; the one not taken: GET + PATCH + GET */
	assert_int_equal(
	    emu_counter(h->emu, "GET snapshots.get"), 18 * 2 + 1 + 2);
	assert_int_equal(
	    emu_counter(h->emu, "PATCH snapshots.patch"), 18 * 2 + 1 + 1);
	assert_int_equal(emu_counter(h->emu, "PATCH snapshots.patch 403"), 1);
	assert_int_equal(emu_counter(h->emu, "PUT snapshots.put"), 0);
	assert_int_equal(emu_counter(h->emu, "DELETE snapshots.delete"), 0);

	/* each failure names its pool, the URL, the status, the request id */
	harness_expect_in(r.err, "aks-3-pool2");
	harness_expect_in(
	    r.err, "/snapshots/aksnap-aks-3-pool2-20260304T0200Z?api-version=");
	harness_expect_in(r.err, "403");
	harness_expect_in(r.err, "AuthorizationFailed");
	harness_expect_in(r.err, "aks-1-pool4");
	harness_expect_in(r.err, "TagNotApplied");
	harness_expect_in(r.err, "x-ms-request-id");
	harness_expect_in(r.out, "aks-3-pool2");
	run_result_free(&r);

	for (int i = 1; i <= CLUSTERS; i++)
		for (int j = 0; j < PER_CLUSTER; j++) {
			int bad = (i == 3 && j == 2) || (i == 1 && j == 4);

			expect_channel(
			    h, i, j, "20260302", bad ? "canary" : "");
			expect_channel(
			    h, i, j, "20260304", bad ? "" : "canary");
		}

	/* the next run, the faults gone, promotes the two that failed */
	assert_int_equal(emu_clear_faults(h->emu), 0);
	emu_reset_counters(h->emu);
	snprintf(day3, sizeof(day3), "%s", "2026-03-05T03:00:00Z");
	run_at(h, day3, 0);
	assert_int_equal(emu_counter(h->emu, "PATCH snapshots.patch"), 4);
	expect_channel(h, 3, 2, "20260304", "canary");
	expect_channel(h, 1, 4, "20260302", "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_first_promotions_are_tagged_concurrently, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_replacing_promotions_and_a_fault_in_one_pool, setup,
	        teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
