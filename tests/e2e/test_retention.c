/*
 * test_retention.c -- promotion and retention end to end against the ARM
 * emulator: months of daily runs (`--as-of` stepping a day at a time, a
 * node image release every week), then what is left in Azure is exactly
 * what the policy keeps, the channel moved only after the soak time,
 * foreign snapshots were never touched, a tightened policy deletes at most
 * max_delete_per_run a run, and a DELETE that fails is retried by the next
 * run without losing track of the snapshot.
 */
#include <jansson.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "job/base/util.h"
#include "job/rules/retention.h"
#include "tests/e2e/harness.h"

#define FLEET "tests/armemu/fleet-demo.json"
#define DAY 86400

static const char *const POLICY_INI =
    "\n[policy:soak]\n"
    "schedule = 0 2 * * *\n"
    "snapshot_when = always\n"
    "keep_last = 2\nkeep_daily = 7\nkeep_weekly = 4\nkeep_monthly = 3\n"
    "keep_yearly = 0\nkeep_within = 0\nmin_keep = 2\n"
    "max_delete_per_run = 10\n"
    "promote_after = 7d\nchannel = stable\nkeep_promoted = 2\n"
    "\n[pool:staging-system]\nresource_group = rg-staging\n"
    "cluster = aks-staging\nnodepool = system\npolicy = soak\n"
    "\n[pool:prod-batch]\nresource_group = rg-prod\n"
    "cluster = aks-prod\nnodepool = batch\npolicy = soak\n"
    "snapshot_when = changed\n";

/* The same policy, for the oracle. */
static void
soak_policy(struct policy *p)
{
	memset(p, 0, sizeof(*p));
	p->keep_last = 2;
	p->keep_daily = 7;
	p->keep_weekly = 4;
	p->keep_monthly = 3;
	p->min_keep = 2;
	p->max_delete_per_run = 10;
	p->promote_after = 7 * DAY;
	p->keep_promoted = 2;
	util_strlcpy(p->channel, "stable", sizeof(p->channel));
}

static int
setup(void **state)
{
	static const char *const args[] = {
	    "--fleet", FLEET, "--retry-after", "0", NULL};

	*state = harness_new(args, POLICY_INI);
	return *state != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	harness_free(*state);
	return 0;
}

/*
 * Set the emulator's clock and stop it there: Azure's createdAt is then
 * exactly as_of however slowly aksnap runs (valgrind), so "soaked 7 days"
 * and every retention period are exact too.
 */
static void
freeze_clock(struct harness *f, const char *as_of)
{
	char body[96];

	snprintf(body, sizeof(body), "{\"now\":\"%s\",\"frozen\":true}", as_of);
	json_decref(emu_post(f->emu, "/_armemu/clock", body));
}

static int
run_at(struct harness *f, time_t t)
{
	struct run_result r;
	char as_of[32];
	int code;

	util_format_time(t, as_of, sizeof(as_of));
	freeze_clock(f, as_of);
	harness_aksnap(f, &r, "run", "--as-of", as_of, NULL);
	code = r.exit_code;
	if (code != 0)
		fprintf(stderr, "run --as-of %s exited %d:\n%s", as_of, code,
		    r.err);
	run_result_free(&r);
	return code;
}

/* Names of the managed snapshots of ${pool} in the emulator. */
static json_t *
azure_names(struct harness *f, const char *pool, int *foreign_seen)
{
	json_t *st = emu_get(f->emu, "/_armemu/state"), *s;
	json_t *names = json_array();
	size_t i;

	assert_non_null(st);
	json_array_foreach(json_object_get(st, "snapshots"), i, s)
	{
		json_t *tags = json_object_get(s, "tags");
		const char *p =
		    json_string_value(json_object_get(tags, "aksnap-pool"));
		const char *name =
		    json_string_value(json_object_get(s, "name"));

		if (strcmp(name, "golden-2026q3") == 0 && foreign_seen)
			*foreign_seen = 1;
		if (p != NULL && strcmp(p, pool) == 0)
			json_array_append_new(names, json_string(name));
	}
	json_decref(st);
	return names;
}

static json_t *
store_list(struct harness *f, const char *pool)
{
	struct run_result r;
	json_t *doc;

	harness_aksnap(f, &r, "--json", "list", "--all", pool, NULL);
	assert_int_equal(r.exit_code, 0);
	doc = json_loads(r.out, 0, NULL);
	run_result_free(&r);
	assert_non_null(doc);
	return doc;
}

static int
has_name(json_t *arr, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(
	    arr, i, v) if (strcmp(json_string_value(v), name) == 0) return 1;
	return 0;
}

/* The channel holder of ${pool} in the store, or NULL. */
static const char *
store_channel(json_t *list, time_t *created)
{
	size_t i;
	json_t *s;

	json_array_foreach(json_object_get(list, "snapshots"), i, s)
	{
		const char *c =
		    json_string_value(json_object_get(s, "channel"));

		if (c != NULL && strcmp(c, "stable") == 0) {
			util_parse_time(
			    json_string_value(json_object_get(s, "created_at")),
			    created);
			return json_string_value(
			    json_object_get(s, "snapshot"));
		}
	}
	return NULL;
}

/*
 * The names of ${pool}'s snapshots that ever held the channel, newest
 * promotion first, read from the store itself.
 */
static size_t
promoted_names(
    struct harness *f, const char *pool, char names[][64], size_t max)
{
	char path[4096];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/aksnap.db", f->dir);
	assert_int_equal(
	    sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
	                     "SELECT s.name FROM snapshots s JOIN pools p ON "
	                     "p.id = s.pool_id WHERE p.key = ?1 AND "
	                     "s.promoted_at IS NOT NULL ORDER BY s.promoted_at "
	                     "DESC, s.id DESC",
	                     -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(st, 1, pool, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW && n < max)
		util_strlcpy(
		    names[n++], (const char *)sqlite3_column_text(st, 0), 64);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static void
check_pool_consistent(struct harness *f, const char *pool, time_t as_of)
{
	char pnames[64][64], inames[256][64];
	long long holders[64];
	size_t np, nh = 0;
	json_t *az = azure_names(f, pool, NULL), *list = store_list(f, pool);
	struct retention_item items[256];
	struct retention_decision out[256];
	struct policy pol;
	size_t n = 0, i;
	json_t *s;
	char err[256];

	/* Azure holds exactly the store's active snapshots. */
	json_array_foreach(json_object_get(list, "snapshots"), i, s)
	{
		const char *state =
		    json_string_value(json_object_get(s, "state"));
		const char *name =
		    json_string_value(json_object_get(s, "snapshot"));

		if (strcmp(state, "active") != 0) {
			if (has_name(az, name))
				fail_msg("%s is %s in the store but still in "
				         "Azure",
				    name, state);
			continue;
		}
		if (!has_name(az, name))
			fail_msg(
			    "%s is active in the store, gone from Azure", name);
		assert_true(n < 256);
		items[n].id = (long long)n + 1;
		util_parse_time(
		    json_string_value(json_object_get(s, "created_at")),
		    &items[n].created_at);
		items[n].pinned = 0;
		items[n].promoted = 0;
		util_strlcpy(inames[n], name, sizeof(inames[n]));
		n++;
	}
	assert_int_equal(json_array_size(az), n);

	/* And that set is a fixed point of the policy: planned again at the
	 * same time, it keeps every one of them. */
	soak_policy(&pol);
	np = promoted_names(f, pool, pnames, 64);
	for (size_t k = 0; k < np; k++) {
		holders[nh] = -1; /* a holder no longer active */
		for (i = 0; i < n; i++)
			if (strcmp(inames[i], pnames[k]) == 0)
				holders[nh] = items[i].id;
		nh++;
	}
	retention_mark_promoted(holders, nh, pol.keep_promoted, items, n);
	assert_int_equal(
	    retention_plan(items, n, &pol, NULL, as_of, out, err, sizeof(err)),
	    0);
	for (i = 0; i < n; i++)
		if (!out[i].keep)
			fail_msg("%s: snapshot %zu should have been pruned",
			    pool, i);
	/* keep_daily = 7 over daily snapshots: the last 7 days are there,
	 * and far fewer than 120 snapshots are. */
	assert_true(n >= 7);
	assert_true(n <= 2 + 7 + 4 + 3 + 2);
	json_decref(list);
	json_decref(az);
}

static void
test_retention_120_days_keeps_exactly_the_policy(void **state)
{
	struct harness *f = *state;
	time_t start, t = 0, created = 0;
	int foreign = 0;
	json_t *az, *list;
	const char *holder;

	util_parse_time("2026-01-05T03:00:00Z", &start);
	for (int d = 0; d < 120; d++) {
		t = start + (time_t)d * DAY;
		if (d > 0 && d % 7 == 0)
			json_decref(emu_post(f->emu, "/_armemu/release", "{}"));
		assert_int_equal(run_at(f, t), 0);
		list = store_list(f, "staging-system");
		holder = store_channel(list, &created);
		if (d < 7) {
			/* Nothing has soaked 7 days yet. */
			if (holder != NULL)
				fail_msg(
				    "day %d: promoted %s too early", d, holder);
		} else {
			assert_non_null(holder);
			assert_true(created <= t - 7 * DAY);
			/* ... and it is the newest that has soaked. */
			assert_true(created > t - 8 * DAY);
		}
		json_decref(list);
	}
	check_pool_consistent(f, "staging-system", t);
	check_pool_consistent(f, "prod-batch", t);

	/* The channel tag in Azure sits on the store's holder only. */
	{
		json_t *st = emu_get(f->emu, "/_armemu/state"), *s;
		size_t i, tagged = 0;

		list = store_list(f, "staging-system");
		holder = store_channel(list, &created);
		json_array_foreach(json_object_get(st, "snapshots"), i, s)
		{
			json_t *tags = json_object_get(s, "tags");
			const char *c = json_string_value(
			    json_object_get(tags, "aksnap-channel"));
			const char *p = json_string_value(
			    json_object_get(tags, "aksnap-pool"));

			if (c == NULL || p == NULL ||
			    strcmp(p, "staging-system") != 0)
				continue;
			tagged++;
			assert_string_equal(
			    json_string_value(json_object_get(s, "name")),
			    holder);
		}
		assert_int_equal(tagged, 1);
		json_decref(list);
		json_decref(st);
	}

	/* The foreign snapshot in rg-prod was never touched. */
	az = azure_names(f, "prod-batch", &foreign);
	assert_true(foreign);
	json_decref(az);
	assert_int_equal(emu_counter(f->emu, "DELETE snapshots.delete 204"), 0);
}

static void
test_retention_tightened_policy_deletes_at_most_max_per_run(void **state)
{
	struct harness *f = *state;
	time_t start, t = 0;
	char *cfg;
	json_t *az;
	size_t before, after;

	util_parse_time("2026-01-05T03:00:00Z", &start);
	for (int d = 0; d < 40; d++) {
		t = start + (time_t)d * DAY;
		assert_int_equal(run_at(f, t), 0);
	}
	az = azure_names(f, "staging-system", NULL);
	before = json_array_size(az);
	json_decref(az);
	assert_true(before > 8);

	/* Tighten: keep 1, at most 3 deletions a run. */
	cfg = harness_config(f->dir, f->emu,
	    "\n[policy:soak]\nschedule = 0 2 * * *\nsnapshot_when = always\n"
	    "keep_last = 1\nkeep_daily = 0\nkeep_weekly = 0\n"
	    "keep_monthly = 0\nkeep_within = 0\nmin_keep = 1\n"
	    "max_delete_per_run = 3\npromote_after = never\n"
	    "keep_promoted = 1\n"
	    "\n[pool:staging-system]\nresource_group = rg-staging\n"
	    "cluster = aks-staging\nnodepool = system\npolicy = soak\n");
	assert_non_null(cfg);
	free(cfg);
	emu_reset_counters(f->emu);
	assert_int_equal(run_at(f, t + 3600), 0);
	assert_int_equal(emu_counter(f->emu, "DELETE snapshots.delete"), 3);
	az = azure_names(f, "staging-system", NULL);
	after = json_array_size(az);
	json_decref(az);
	assert_int_equal(after, before - 3);

	/* The rest wait for the next runs, three at a time. */
	for (int i = 2; i < 40; i++) {
		size_t now;

		assert_int_equal(run_at(f, t + 3600 * i), 0);
		az = azure_names(f, "staging-system", NULL);
		now = json_array_size(az);
		json_decref(az);
		assert_true(now + 3 >= after);
		if (now == after)
			break;
		after = now;
	}
	/* What stays: the newest, plus the two promoted generations the
	 * earlier policy had protected (keep_promoted now 1: the holder). */
	assert_true(after <= 2);
}

static void
test_retention_failed_delete_is_retried_next_run(void **state)
{
	struct harness *f = *state;
	time_t start, t = 0;
	struct run_result r;
	json_t *list, *s;
	size_t i, deleting = 0;
	char as_of[32];

	util_parse_time("2026-01-05T03:00:00Z", &start);
	for (int d = 0; d < 12; d++) {
		t = start + (time_t)d * DAY;
		assert_int_equal(run_at(f, t), 0);
	}
	/* Day 12 would prune; every DELETE answers 500 until retries run
	 * out. */
	assert_true(
	    emu_fault(f->emu,
	        "{\"method\":\"DELETE\",\"path\":"
	        "\"*/snapshots/*\",\"action\":\"status\",\"status\":500,"
	        "\"retry_after\":0,\"count\":-1}") >= 0);
	t += 20 * DAY;
	util_format_time(t, as_of, sizeof(as_of));
	freeze_clock(f, as_of);
	harness_aksnap(f, &r, "run", "--as-of", as_of, NULL);
	assert_int_equal(r.exit_code, 1);
	assert_non_null(strstr(r.err, "DELETE"));
	run_result_free(&r);
	list = store_list(f, "staging-system");
	json_array_foreach(json_object_get(list, "snapshots"), i,
	    s) if (strcmp(json_string_value(json_object_get(s, "state")),
	               "deleting") == 0) deleting++;
	json_decref(list);
	assert_true(deleting > 0);

	/* The fault clears: the next run settles and deletes them. */
	emu_clear_faults(f->emu);
	assert_int_equal(run_at(f, t + 3600), 0);
	list = store_list(f, "staging-system");
	json_array_foreach(json_object_get(list, "snapshots"), i, s)
	    assert_string_not_equal(
	        json_string_value(json_object_get(s, "state")), "deleting");
	json_decref(list);
	check_pool_consistent(f, "staging-system", t + 3600);
}

static void
test_prune_dry_run_changes_nothing(void **state)
{
	struct harness *f = *state;
	time_t start, t = 0;
	struct run_result r;
	char as_of[32];

	util_parse_time("2026-01-05T03:00:00Z", &start);
	for (int d = 0; d < 10; d++) {
		t = start + (time_t)d * DAY;
		assert_int_equal(run_at(f, t), 0);
	}
	/* A tighter policy: now some are due for deletion. */
	free(harness_config(f->dir, f->emu,
	    "\n[policy:soak]\nschedule = 0 2 * * *\n"
	    "keep_last = 2\nkeep_daily = 0\nkeep_weekly = 0\n"
	    "keep_monthly = 0\nkeep_within = 0\nmin_keep = 1\n"
	    "promote_after = never\n"
	    "\n[pool:staging-system]\nresource_group = rg-staging\n"
	    "cluster = aks-staging\nnodepool = system\npolicy = soak\n"));
	emu_reset_counters(f->emu);
	util_format_time(t + 3600, as_of, sizeof(as_of));
	harness_aksnap(f, &r, "prune", "--dry-run", "--as-of", as_of, NULL);
	assert_int_equal(r.exit_code, 0);
	/* It says what it would delete, and why it keeps the rest. */
	assert_non_null(strstr(r.out, "delete"));
	assert_non_null(strstr(r.out, "keep"));
	run_result_free(&r);
	assert_int_equal(emu_counter(f->emu, "DELETE snapshots.delete"), 0);
	assert_int_equal(emu_counter(f->emu, "PATCH snapshots.patch"), 0);

	/* The real prune deletes. */
	harness_aksnap(
	    f, &r, "prune", "--as-of", as_of, "staging-system", NULL);
	assert_int_equal(r.exit_code, 0);
	run_result_free(&r);
	assert_true(emu_counter(f->emu, "DELETE snapshots.delete") > 0);
}

static void
test_promote_by_hand_moves_the_channel_tag(void **state)
{
	struct harness *f = *state;
	time_t start, t = 0, created;
	struct run_result r;
	json_t *list;
	const char *holder;

	util_parse_time("2026-01-05T03:00:00Z", &start);
	for (int d = 0; d < 3; d++) {
		t = start + (time_t)d * DAY;
		assert_int_equal(run_at(f, t), 0);
	}
	emu_reset_counters(f->emu);
	harness_aksnap(
	    f, &r, "promote", "aksnap-aks-staging-system-20260106T0200Z", NULL);
	assert_int_equal(r.exit_code, 0);
	run_result_free(&r);
	list = store_list(f, "staging-system");
	holder = store_channel(list, &created);
	assert_non_null(holder);
	assert_string_equal(holder, "aksnap-aks-staging-system-20260106T0200Z");
	json_decref(list);
	assert_int_equal(emu_counter(f->emu, "PATCH snapshots.patch"), 1);

	/* A second hand promotion replaces it: two PATCHes (tag on, tag
	 * off). */
	emu_reset_counters(f->emu);
	harness_aksnap(
	    f, &r, "promote", "aksnap-aks-staging-system-20260107T0200Z", NULL);
	assert_int_equal(r.exit_code, 0);
	run_result_free(&r);
	assert_int_equal(emu_counter(f->emu, "PATCH snapshots.patch"), 2);

	/* Not in the store: exit 2. */
	harness_aksnap(f, &r, "promote", "no-such-snapshot", NULL);
	assert_int_equal(r.exit_code, 2);
	run_result_free(&r);
}

/* ---- verification: DELETE and PATCH that ARM says worked ---- */

/* One pool; a policy given here (promote_after, keep_last). */
static void
use_one_pool(struct harness *f, const char *promote_after, int keep_last)
{
	char ini[1024];

	snprintf(ini, sizeof(ini),
	    "\n[policy:one]\n"
	    "schedule = 0 2 * * *\n"
	    "snapshot_when = always\n"
	    "keep_last = %d\nkeep_hourly = 0\nkeep_daily = 0\n"
	    "keep_weekly = 0\nkeep_monthly = 0\nkeep_yearly = 0\n"
	    "keep_within = 0\nmin_keep = 1\n"
	    "promote_after = %s\nchannel = stable\nkeep_promoted = 1\n"
	    "\n[pool:staging-system]\nresource_group = rg-staging\n"
	    "cluster = aks-staging\nnodepool = system\npolicy = one\n",
	    keep_last, promote_after);
	free(f->config);
	f->config = harness_config(f->dir, f->emu, ini);
	assert_non_null(f->config);
}

#define DAY1 "aksnap-aks-staging-system-20260105T0200Z"
#define DAY2 "aksnap-aks-staging-system-20260106T0200Z"

/* The state of ${name} in the store's list of ${pool}, or "". */
static const char *
state_of(json_t *list, const char *name)
{
	json_t *s;
	size_t i;

	json_array_foreach(json_object_get(list, "snapshots"), i, s)
	{
		if (strcmp(json_string_value(json_object_get(s, "snapshot")),
		        name) == 0)
			return json_string_value(json_object_get(s, "state"));
	}
	return "";
}

/*
 * A DELETE answered 200 that deleted nothing: the row stays deleting
 * (the GET still finds the snapshot) and the pool fails; the next run's
 * reconcile deletes it again, and only its GET's 404 records it deleted.
 */
static void
test_retention_200_delete_that_deleted_nothing_is_deleted_again(void **state)
{
	struct harness *f = *state;
	struct run_result r;
	time_t t;
	json_t *names, *list;
	char as_of[32];

	use_one_pool(f, "never", 1);
	util_parse_time("2026-01-05T03:00:00Z", &t);
	assert_int_equal(run_at(f, t), 0);

	assert_true(emu_fault(f->emu,
	                "{\"method\":\"DELETE\",\"path\":\"*/snapshots/*\","
	                "\"action\":\"delete_noop\"}") > 0);
	emu_reset_counters(f->emu);
	t += DAY;
	util_format_time(t, as_of, sizeof(as_of));
	freeze_clock(f, as_of);
	harness_aksnap(f, &r, "run", "--as-of", as_of, NULL);
	harness_expect_exit(&r, 1);
	harness_expect_in(r.err, "DELETE ");
	harness_expect_in(r.err, "/snapshots/" DAY1 "?api-version=");
	harness_expect_in(r.err, "still finds it");
	harness_expect_in(r.err, "stays deleting");
	run_result_free(&r);
	assert_int_equal(emu_counter(f->emu, "DELETE snapshots.delete 200"), 1);
	assert_int_equal(emu_counter(f->emu, "GET snapshots.get 200"), 1);
	names = azure_names(f, "staging-system", NULL);
	assert_int_equal(json_array_size(names), 2);
	json_decref(names);
	list = store_list(f, "staging-system");
	assert_string_equal(state_of(list, DAY1), "deleting");
	assert_string_equal(state_of(list, DAY2), "active");
	json_decref(list);
	harness_aksnap(f, &r, "check", NULL);
	assert_true(r.exit_code >= 1);
	harness_expect_in(r.out, "snapshot " DAY1 " is deleting");
	run_result_free(&r);

	/* The next run deletes it again; Azure ends without it. */
	emu_reset_counters(f->emu);
	assert_int_equal(run_at(f, t + 3600), 0);
	assert_int_equal(emu_counter(f->emu, "DELETE snapshots.delete 200"), 1);
	assert_int_equal(emu_counter(f->emu, "GET snapshots.get 404"), 1);
	assert_int_equal(emu_counter(f->emu, "PUT snapshots.put"), 0);
	names = azure_names(f, "staging-system", NULL);
	assert_int_equal(json_array_size(names), 1);
	assert_true(has_name(names, DAY2));
	json_decref(names);
	list = store_list(f, "staging-system");
	assert_string_equal(state_of(list, DAY1), "deleted");
	assert_string_equal(state_of(list, DAY2), "active");
	json_decref(list);
}

/*
 * `list` shows the live snapshots; a deleted one only with `list --all`
 * (table and --json, one pool and every pool).
 */
static void
test_list_hides_deleted_unless_all(void **state)
{
	struct harness *f = *state;
	struct run_result r;
	json_t *doc, *arr;
	time_t t;

	use_one_pool(f, "never", 1);
	util_parse_time("2026-01-05T03:00:00Z", &t);
	assert_int_equal(run_at(f, t), 0);
	emu_reset_counters(f->emu);
	assert_int_equal(run_at(f, t + DAY), 0);
	assert_int_equal(emu_counter(f->emu, "DELETE snapshots.delete 200"), 1);

	harness_aksnap(f, &r, "list", "staging-system", NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, DAY2);
	assert_null(strstr(r.out, DAY1));
	run_result_free(&r);
	harness_aksnap(f, &r, "list", "--all", "staging-system", NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, DAY2);
	harness_expect_in(r.out, DAY1);
	harness_expect_in(r.out, "deleted");
	run_result_free(&r);

	harness_aksnap(f, &r, "--json", "list", NULL);
	harness_expect_exit(&r, 0);
	doc = json_loads(r.out, 0, NULL);
	assert_non_null(doc);
	arr = json_object_get(doc, "snapshots");
	assert_int_equal(json_array_size(arr), 1);
	assert_string_equal(state_of(doc, DAY2), "active");
	assert_string_equal(state_of(doc, DAY1), "");
	json_decref(doc);
	run_result_free(&r);
	doc = store_list(f, NULL); /* --all */
	assert_int_equal(json_array_size(json_object_get(doc, "snapshots")), 2);
	assert_string_equal(state_of(doc, DAY1), "deleted");
	json_decref(doc);
}

/* The aksnap-channel tag of ${name} in Azure, or NULL. */
static char *
azure_channel(struct harness *f, const char *name)
{
	json_t *st = emu_get(f->emu, "/_armemu/state"), *s;
	char *out = NULL;
	size_t i;

	assert_non_null(st);
	json_array_foreach(json_object_get(st, "snapshots"), i, s)
	{
		const char *c;

		if (strcmp(json_string_value(json_object_get(s, "name")),
		        name) != 0)
			continue;
		c = json_string_value(json_object_get(
		    json_object_get(s, "tags"), "aksnap-channel"));
		if (c != NULL)
			out = strdup(c);
	}
	json_decref(st);
	return out;
}

/*
 * A tag PATCH answered 200 whose tag is not there (neither in the answer
 * nor in a GET): the promotion is not recorded and the pool fails naming
 * the URL, the status and the request id; without the fault the next run
 * promotes.  The same for the tag's removal from a demoted snapshot.
 */
static void
test_promotion_patch_that_drops_the_tag_is_not_recorded(void **state)
{
	struct harness *f = *state;
	struct run_result r;
	time_t t, created;
	json_t *list;
	char as_of[32], *c;

	use_one_pool(f, "1d", 5);
	util_parse_time("2026-01-05T03:00:00Z", &t);
	assert_int_equal(run_at(f, t), 0);

	assert_true(emu_fault(f->emu,
	                "{\"method\":\"PATCH\",\"path\":\"*/snapshots/*\","
	                "\"action\":\"patch_noop\",\"count\":-1}") > 0);
	emu_reset_counters(f->emu);
	t += DAY;
	util_format_time(t, as_of, sizeof(as_of));
	freeze_clock(f, as_of);
	harness_aksnap(f, &r, "run", "--as-of", as_of, NULL);
	harness_expect_exit(&r, 1);
	harness_expect_in(r.err, "PATCH ");
	harness_expect_in(r.err, "/snapshots/" DAY1 "?api-version=");
	harness_expect_in(r.err, "answered 200");
	harness_expect_in(r.err, "aksnap-channel=stable");
	harness_expect_in(r.err, "x-ms-request-id");
	run_result_free(&r);
	assert_int_equal(emu_counter(f->emu, "PATCH snapshots.patch 200"), 1);
	list = store_list(f, "staging-system");
	assert_null(store_channel(list, &created));
	json_decref(list);
	c = azure_channel(f, DAY1);
	assert_null(c);

	/* Without the fault: promoted, in Azure and in the store. */
	emu_clear_faults(f->emu);
	assert_int_equal(run_at(f, t + 3600), 0);
	list = store_list(f, "staging-system");
	assert_non_null(store_channel(list, &created));
	assert_string_equal(store_channel(list, &created), DAY1);
	json_decref(list);
	c = azure_channel(f, DAY1);
	assert_non_null(c);
	assert_string_equal(c, "stable");
	free(c);

	/* By hand, DAY2 replaces it; the PATCH that should take the tag off
	 * DAY1 answers 200 and keeps it: said, exit 1. */
	assert_true(emu_fault(f->emu,
	                "{\"method\":\"PATCH\",\"path\":\"*/snapshots/" DAY1
	                "\",\"action\":\"patch_noop\"}") > 0);
	harness_aksnap(f, &r, "promote", DAY2, NULL);
	harness_expect_exit(&r, 1);
	harness_expect_in(r.err, "still carry tag aksnap-channel");
	run_result_free(&r);
	c = azure_channel(f, DAY1);
	assert_non_null(c);
	free(c);
	c = azure_channel(f, DAY2);
	assert_non_null(c);
	assert_string_equal(c, "stable");
	free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_retention_120_days_keeps_exactly_the_policy, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_retention_tightened_policy_deletes_at_most_max_per_run,
	        setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_retention_failed_delete_is_retried_next_run, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_prune_dry_run_changes_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_promote_by_hand_moves_the_channel_tag, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_retention_200_delete_that_deleted_nothing_is_deleted_again,
	        setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_promotion_patch_that_drops_the_tag_is_not_recorded, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_list_hides_deleted_unless_all, setup, teardown),
	};

	return cmocka_run_group_tests_name("retention", tests, NULL, NULL);
}
