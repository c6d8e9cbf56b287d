/*
 * test_run.c -- `aksnap run` end to end against the ARM emulator
 * (issue: the scheduled run).  Each test starts its own emulator with the
 * demo fleet (3 clusters, 5 pools), writes a config pointing at it and
 * runs the real binary; what Azure holds is read back from the emulator's
 * state and counters, what the store holds through `aksnap list/history
 * --json`.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <setjmp.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/e2e/harness.h"

#define FLEET "tests/armemu/fleet-demo.json"

static const char *const POOLS_INI =
    "\n[policy:default]\n"
    "schedule = 0 2 * * *\n"
    "snapshot_when = changed\n"
    "\n[pool:staging-system]\nresource_group = rg-staging\n"
    "cluster = aks-staging\nnodepool = system\n"
    "\n[pool:staging-user]\nresource_group = rg-staging\n"
    "cluster = aks-staging\nnodepool = user\n"
    "\n[pool:prod-system]\nresource_group = rg-prod\n"
    "cluster = aks-prod\nnodepool = system\n"
    "\n[pool:prod-batch]\nresource_group = rg-prod\n"
    "cluster = aks-prod\nnodepool = batch\n"
    "\n[pool:edge-system]\nresource_group = rg-prod\n"
    "cluster = aks-edge\nnodepool = system\n";

static int
setup_with(void **state, const char *extra_ini)
{
	static const char *const args[] = {
	    "--fleet", FLEET, "--retry-after", "0", NULL};

	*state = harness_new(args, extra_ini);
	return *state != NULL ? 0 : -1;
}

static int
setup(void **state)
{
	return setup_with(state, POOLS_INI);
}

static int
teardown(void **state)
{
	harness_free(*state);
	return 0;
}

/* Set the emulator's clock and run `aksnap run --as-of`. */
static int
run_at(struct harness *f, const char *as_of)
{
	struct run_result r;
	int code;

	assert_int_equal(emu_set_clock(f->emu, as_of), 0);
	assert_int_equal(
	    harness_aksnap(f, &r, "run", "--as-of", as_of, NULL), 0);
	code = r.exit_code;
	if (code != 0)
		fprintf(stderr, "aksnap run --as-of %s exited %d:\n%s", as_of,
		    code, r.err);
	/* A cron job is silent on success. */
	if (code == 0 && (r.out[0] != '\0' || r.err[0] != '\0'))
		fail_msg("run --as-of %s succeeded but printed: %s%s", as_of,
		    r.out, r.err);
	run_result_free(&r);
	return code;
}

/* The snapshots aksnap made (tagged managed) that the emulator holds;
 * the demo fleet also has a foreign one, which aksnap must leave alone. */
static json_t *
emu_snapshots(struct harness *f)
{
	json_t *st = emu_get(f->emu, "/_armemu/state");
	json_t *all, *s, *mine = json_array();
	size_t i;

	assert_non_null(st);
	all = json_object_get(st, "snapshots");
	assert_non_null(all);
	json_array_foreach(all, i, s)
	{
		const char *m = json_string_value(json_object_get(
		    json_object_get(s, "tags"), "aksnap-managed"));

		if (m != NULL && strcmp(m, "true") == 0)
			json_array_append(mine, s);
		else
			assert_string_equal(
			    json_string_value(json_object_get(s, "name")),
			    "golden-2026q3");
	}
	json_decref(st);
	return mine;
}

static json_t *
find_snapshot(json_t *snaps, const char *name)
{
	size_t i;
	json_t *s;

	json_array_foreach(snaps, i, s)
	{
		const char *n = json_string_value(json_object_get(s, "name"));

		if (n != NULL && strcmp(n, name) == 0)
			return s;
	}
	return NULL;
}

static const char *
tag(json_t *snap, const char *key)
{
	return json_string_value(
	    json_object_get(json_object_get(snap, "tags"), key));
}

/* Requests the emulator saw, token endpoints excluded. */
static long
arm_requests(struct harness *f)
{
	json_t *log = emu_get(f->emu, "/_armemu/requests");
	json_t *e, *arr;
	size_t i;
	long n = 0;

	assert_non_null(log);
	arr = json_is_array(log) ? log : json_object_get(log, "requests");
	json_array_foreach(arr, i, e)
	{
		const char *route =
		    json_string_value(json_object_get(e, "route"));

		if (route == NULL || strncmp(route, "token.", 6) != 0)
			n++;
	}
	json_decref(log);
	return n;
}

static json_t *
list_json(struct harness *f, const char *pool)
{
	struct run_result r;
	json_t *doc;

	if (pool != NULL)
		harness_aksnap(f, &r, "--json", "list", "--all", pool, NULL);
	else
		harness_aksnap(f, &r, "--json", "list", "--all", NULL);
	assert_int_equal(r.exit_code, 0);
	doc = json_loads(r.out, 0, NULL);
	run_result_free(&r);
	assert_non_null(doc);
	return doc;
}

static size_t
count_state(json_t *list, const char *state)
{
	json_t *s;
	size_t i, n = 0;

	json_array_foreach(json_object_get(list, "snapshots"), i,
	    s) if (strcmp(json_string_value(json_object_get(s, "state")),
	               state) == 0) n++;
	return n;
}

static void
test_run_first_snapshots_every_due_pool(void **state)
{
	struct harness *f = *state;
	json_t *snaps, *s, *props;

	emu_reset_counters(f->emu);
	assert_int_equal(run_at(f, "2026-03-10T03:00:00Z"), 0);

	/* Exactly one GET per cluster and one PUT per pool, nothing else. */
	assert_int_equal(emu_counter(f->emu, "GET managedClusters.get"), 3);
	assert_int_equal(emu_counter(f->emu, "PUT snapshots.put"), 5);
	assert_int_equal(emu_counter(f->emu, "PUT snapshots.put 201"), 5);
	assert_int_equal(arm_requests(f), 8);

	snaps = emu_snapshots(f);
	assert_int_equal(json_array_size(snaps), 5);
	s = find_snapshot(snaps, "aksnap-aks-prod-batch-20260310T0200Z");
	assert_non_null(s);
	assert_string_equal(tag(s, "aksnap-managed"), "true");
	assert_string_equal(tag(s, "aksnap-pool"), "prod-batch");
	assert_string_equal(tag(s, "aksnap-slot"), "2026-03-10T02:00:00Z");
	props = json_object_get(s, "properties");
	assert_string_equal(
	    json_string_value(json_object_get(props, "nodeImageVersion")),
	    "AKSUbuntu-2204gen2containerd-202610.14.0");
	assert_string_equal(
	    json_string_value(json_object_get(props, "kubernetesVersion")),
	    "1.29.9");
	assert_true(json_is_true(json_object_get(props, "enableFIPS")));
	assert_string_equal(
	    json_string_value(json_object_get(s, "location")), "northeurope");
	json_decref(snaps);

	/* The store agrees: five active snapshots with their versions. */
	{
		json_t *l = list_json(f, "prod-batch"), *e;

		assert_int_equal(count_state(l, "active"), 1);
		e = json_array_get(json_object_get(l, "snapshots"), 0);
		assert_string_equal(
		    json_string_value(json_object_get(e, "node_image_version")),
		    "AKSUbuntu-2204gen2containerd-202610.14.0");
		json_decref(l);
		l = list_json(f, NULL);
		assert_int_equal(count_state(l, "active"), 5);
		json_decref(l);
	}
}

static void
test_run_rerun_in_same_slot_writes_nothing(void **state)
{
	struct harness *f = *state;

	assert_int_equal(run_at(f, "2026-03-10T03:00:00Z"), 0);
	emu_reset_counters(f->emu);
	assert_int_equal(run_at(f, "2026-03-10T09:30:00Z"), 0);
	assert_int_equal(emu_counter(f->emu, "PUT snapshots.put"), 0);
	assert_int_equal(emu_counter(f->emu, "GET managedClusters.get"), 3);
	assert_int_equal(arm_requests(f), 3);
	{
		json_t *snaps = emu_snapshots(f);

		assert_int_equal(json_array_size(snaps), 5);
		json_decref(snaps);
	}
}

static long long
store_count(struct harness *f, const char *query)
{
	char path[4096];
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	long long n = -1;

	snprintf(path, sizeof(path), "%s/aksnap.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(db, query, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

/*
 * A run configured as the last one reads its pools' ids from the memo
 * (0022) and writes no pools row; a renamed pool is synced (a row of its
 * own) and remembered in turn.
 */
static void
test_run_same_config_writes_no_pools_row(void **state)
{
	struct harness *f = *state;
	char *ini, *path;
	size_t len = strlen(POOLS_INI) + 64;

	assert_int_equal(run_at(f, "2026-03-10T03:00:00Z"), 0);
	assert_int_equal(store_count(f, "SELECT count(*) FROM pools"), 5);
	assert_int_equal(
	    store_count(f, "SELECT count(*) FROM pool_sync_memo"), 1);
	(void)store_count(f, "UPDATE pools SET updated_at = 0");
	assert_int_equal(
	    store_count(f, "SELECT count(*) FROM pool_sync_memo"), 1);
	assert_int_equal(run_at(f, "2026-03-11T03:00:00Z"), 0);
	assert_int_equal(
	    store_count(f, "SELECT count(*) FROM pools WHERE updated_at = 0"),
	    5);
	assert_int_equal(
	    store_count(f, "SELECT count(*) FROM pool_sync_memo"), 1);

	/* edge-system renamed edge-sys: the same place, a new key. */
	ini = malloc(len);
	assert_non_null(ini);
	snprintf(ini, len,
	    "%.*s[pool:edge-sys]\nresource_group = rg-prod\n"
	    "cluster = aks-edge\nnodepool = system\n",
	    (int)(strstr(POOLS_INI, "[pool:edge-system]") - POOLS_INI),
	    POOLS_INI);
	path = harness_config(f->dir, f->emu, ini);
	assert_non_null(path);
	free(path);
	free(ini);
	assert_int_equal(run_at(f, "2026-03-12T03:00:00Z"), 0);
	assert_int_equal(store_count(f, "SELECT count(*) FROM pools"), 6);
	assert_int_equal(store_count(f,
	                     "SELECT count(*) FROM pools WHERE updated_at = 0 "
	                     "AND key <> 'edge-system'"),
	    4);
	assert_true(store_count(f,
	                "SELECT count(*) FROM observations o JOIN pools p "
	                "ON p.id = o.pool_id WHERE p.key = 'edge-sys'") > 0);
	assert_int_equal(
	    store_count(f, "SELECT count(*) FROM pool_sync_memo"), 1);
}

/*
 * DESIGN.md 5's growth rule for decisions: ten more hourly runs over an
 * unchanged fleet decide the same skips and keeps again, and add no
 * decision row (each run extends the ranges); explain shows the range.
 */
static void
test_run_unchanged_runs_add_no_decision_rows(void **state)
{
	struct harness *f = *state;
	struct run_result r;
	char as_of[32];
	long long n;
	json_t *doc, *decs;
	size_t i;
	int hour, ranges = 0;

	assert_int_equal(run_at(f, "2026-03-10T03:00:00Z"), 0);
	assert_int_equal(run_at(f, "2026-03-10T04:00:00Z"), 0);
	n = store_count(f, "SELECT count(*) FROM decisions");
	assert_int_equal(store_count(f,
	                     "SELECT count(*) FROM decisions "
	                     "WHERE action = 'skip'"),
	    5);
	for (hour = 5; hour < 15; hour++) {
		snprintf(as_of, sizeof(as_of), "2026-03-10T%02d:00:00Z", hour);
		assert_int_equal(run_at(f, as_of), 0);
	}
	assert_int_equal(store_count(f, "SELECT count(*) FROM runs"), 12);
	assert_int_equal(store_count(f, "SELECT count(*) FROM decisions"), n);
	/* the skips' ranges run from the second run to the last one */
	assert_int_equal(store_count(f,
	                     "SELECT count(*) FROM decisions "
	                     "WHERE action = 'skip' AND "
	                     "run_id = 2 AND last_run_id = 12"),
	    5);

	harness_aksnap(f, &r, "--json", "explain",
	    "aksnap-aks-edge-system-20260310T0300Z", NULL);
	assert_int_equal(r.exit_code, 0);
	doc = json_loads(r.out, 0, NULL);
	run_result_free(&r);
	assert_non_null(doc);
	decs = json_object_get(doc, "decisions");
	for (i = 0; i < json_array_size(decs); i++) {
		json_t *d = json_array_get(decs, i);

		if (json_object_get(d, "last_run") == NULL)
			continue;
		assert_int_equal(
		    json_integer_value(json_object_get(d, "last_run")), 12);
		ranges++;
	}
	assert_true(ranges >= 1);
	json_decref(doc);
}

/* What `explain`, `history` and `report --json` print (exit 0), for
 * comparing: four texts into ${out}. */
static void
outputs_of(struct harness *f, const char *snap, char *out[4])
{
	const char *const argv[4][3] = {{"explain", snap, NULL},
	    {"--json", "explain", snap}, {"--json", "history", "edge-system"},
	    {"--json", "report", NULL}};
	struct run_result r;

	for (int i = 0; i < 4; i++) {
		harness_aksnap(f, &r, argv[i][0], argv[i][1], argv[i][2], NULL);
		assert_int_equal(r.exit_code, 0);
		out[i] = strdup(r.out);
		assert_non_null(out[i]);
		run_result_free(&r);
	}
}

/*
 * Issue 16 (migration 0018): ten unchanged runs write no decision_rows
 * row -- the ranges grow in decision_open -- and `explain`, `history` and
 * `report --json` print byte for byte what they print once every range is
 * closed into decision_rows (the layout the code before 0018 kept, which
 * extended each row every run).  The keeps of a pool found unchanged are
 * extended in its retention memo's row (0026): an open range's end as
 * read is the later of the two.  A run after that reopens the ranges it
 * decides the same, again without a new row.
 */
static void
test_run_unchanged_runs_write_no_decision_row(void **state)
{
	static const char *const snap = "aksnap-aks-edge-system-20260310T0300Z";
	struct harness *f = *state;
	char as_of[32];
	char *open[4], *closed[4];
	long long n;
	int hour, i;

	assert_int_equal(run_at(f, "2026-03-10T03:00:00Z"), 0);
	assert_int_equal(run_at(f, "2026-03-10T04:00:00Z"), 0);
	n = store_count(f, "SELECT count(*) FROM decision_rows");
	for (hour = 5; hour < 15; hour++) {
		snprintf(as_of, sizeof(as_of), "2026-03-10T%02d:00:00Z", hour);
		assert_int_equal(run_at(f, as_of), 0);
	}
	assert_int_equal(
	    store_count(f, "SELECT count(*) FROM decision_rows"), n);
	/* no row of decision_rows was written after run 2 ... */
	assert_int_equal(store_count(f,
	                     "SELECT count(*) FROM decision_rows "
	                     "WHERE last_run_id > 2"),
	    0);
	/* ... yet every pool's skip and every keep reaches run 12 */
	assert_int_equal(store_count(f,
	                     "SELECT count(*) FROM decisions WHERE "
	                     "action IN ('skip', 'keep') AND last_run_id = 12"),
	    store_count(f,
	        "SELECT count(*) FROM decision_open o LEFT JOIN "
	        "pool_retain_memo m ON m.pool_id = o.pool_id WHERE CASE WHEN "
	        "o.action = 'keep' AND o.snapshot_id > 0 AND m.ext_run_id > "
	        "coalesce(o.last_run_id, 0) THEN m.ext_run_id ELSE "
	        "o.last_run_id END = 12"));
	assert_int_equal(store_count(f,
	                     "SELECT count(*) FROM decision_open "
	                     "WHERE action = 'skip' AND last_run_id = 12"),
	    5);

	outputs_of(f, snap, open);
	(void)store_count(f, "DELETE FROM decision_open");
	assert_int_equal(store_count(f,
	                     "SELECT count(*) FROM decision_rows "
	                     "WHERE action = 'skip' AND last_run_id = 12"),
	    5);
	outputs_of(f, snap, closed);
	for (i = 0; i < 4; i++) {
		assert_string_equal(open[i], closed[i]);
		free(open[i]);
		free(closed[i]);
	}

	/* the next unchanged run opens them again, still no row */
	assert_int_equal(run_at(f, "2026-03-10T15:00:00Z"), 0);
	assert_int_equal(
	    store_count(f, "SELECT count(*) FROM decision_rows"), n);
	assert_int_equal(store_count(f,
	                     "SELECT count(*) FROM decision_open "
	                     "WHERE action = 'skip' AND last_run_id = 13"),
	    5);
	assert_int_equal(store_count(f,
	                     "SELECT count(*) FROM decision_rows "
	                     "WHERE last_run_id = 13"),
	    0);
}

/*
 * DESIGN.md 5's growth rule for observations (intervals, migration 0012):
 * ten more runs over the unchanged demo fleet add no observation row (each
 * moves its pool's last_seen on); a node image release on one pool adds
 * exactly one row; history shows each interval with its first and last
 * sighting and how many runs saw it.
 */
static void
test_run_unchanged_runs_add_no_observation_rows(void **state)
{
	struct harness *f = *state;
	struct run_result r;
	char as_of[32];
	json_t *doc, *obs, *o;
	int hour;

	assert_int_equal(run_at(f, "2026-03-10T03:00:00Z"), 0);
	assert_int_equal(run_at(f, "2026-03-10T04:00:00Z"), 0);
	assert_int_equal(
	    store_count(f, "SELECT count(*) FROM observations"), 5);
	for (hour = 5; hour < 15; hour++) {
		snprintf(as_of, sizeof(as_of), "2026-03-10T%02d:00:00Z", hour);
		assert_int_equal(run_at(f, as_of), 0);
	}
	assert_int_equal(store_count(f, "SELECT count(*) FROM runs"), 12);
	assert_int_equal(
	    store_count(f, "SELECT count(*) FROM observations"), 5);
	assert_int_equal(store_count(f,
	                     "SELECT count(*) FROM observations WHERE "
	                     "seen = 12 AND run_id = 1 AND last_run_id = 12"),
	    5);

	json_decref(emu_post(f->emu, "/_armemu/release",
	    "{\"resourceGroup\":\"rg-prod\",\"cluster\":\"aks-edge\","
	    "\"pool\":\"system\",\"nodeImageVersion\":"
	    "\"AKSUbuntu-2204gen2containerd-202611.11.0\"}"));
	assert_int_equal(run_at(f, "2026-03-10T15:00:00Z"), 0);
	assert_int_equal(
	    store_count(f, "SELECT count(*) FROM observations"), 6);

	harness_aksnap(f, &r, "--json", "history", "edge-system", NULL);
	assert_int_equal(r.exit_code, 0);
	doc = json_loads(r.out, 0, NULL);
	run_result_free(&r);
	assert_non_null(doc);
	obs = json_object_get(doc, "observations");
	assert_int_equal(json_array_size(obs), 2);
	o = json_array_get(obs, 0);
	assert_string_equal(
	    json_string_value(json_object_get(o, "observed_at")),
	    "2026-03-10T03:00:00Z");
	assert_string_equal(json_string_value(json_object_get(o, "last_seen")),
	    "2026-03-10T14:00:00Z");
	assert_int_equal(json_integer_value(json_object_get(o, "seen")), 12);
	assert_int_equal(
	    json_integer_value(json_object_get(o, "last_run")), 12);
	o = json_array_get(obs, 1);
	assert_int_equal(json_integer_value(json_object_get(o, "seen")), 1);
	assert_int_equal(json_integer_value(json_object_get(o, "run")), 13);
	json_decref(doc);

	/* the table: one line an interval, first and last seen */
	harness_aksnap(f, &r, "history", "edge-system", NULL);
	assert_int_equal(r.exit_code, 0);
	assert_non_null(strstr(r.out, "FIRST SEEN"));
	assert_non_null(strstr(r.out, "LAST SEEN"));
	assert_non_null(strstr(r.out, "2026-03-10T14:00:00Z"));
	run_result_free(&r);
}

/*
 * A run --as-of in the past records what it sees in time order, compared
 * with the state in force then: aks-edge's pool runs image A at 03:00,
 * B at 05:00, A again now; a run --as-of 04:00 sees A, which is what was
 * in force at 04:00 -- it extends that interval (no row, no "outside"
 * change), and the newest row stays what the pool runs now.
 */
static void
test_run_past_as_of_extends_the_state_then(void **state)
{
	static const char *const img_a =
	    "AKSUbuntu-2204gen2containerd-202611.04.0";
	static const char *const img_b =
	    "AKSUbuntu-2204gen2containerd-202611.11.0";
	struct harness *f = *state;
	char body[256];

	assert_int_equal(run_at(f, "2026-03-10T03:00:00Z"), 0);
	snprintf(body, sizeof(body),
	    "{\"resourceGroup\":\"rg-prod\",\"cluster\":\"aks-edge\","
	    "\"pool\":\"system\",\"nodeImageVersion\":\"%s\"}",
	    img_b);
	json_decref(emu_post(f->emu, "/_armemu/release", body));
	assert_int_equal(run_at(f, "2026-03-10T05:00:00Z"), 0);
	snprintf(body, sizeof(body),
	    "{\"resourceGroup\":\"rg-prod\",\"cluster\":\"aks-edge\","
	    "\"pool\":\"system\",\"nodeImageVersion\":\"%s\"}",
	    img_a);
	json_decref(emu_post(f->emu, "/_armemu/release", body));
	assert_int_equal(
	    store_count(f, "SELECT count(*) FROM observations"), 6);

	assert_int_equal(run_at(f, "2026-03-10T04:00:00Z"), 0);
	assert_int_equal(
	    store_count(f, "SELECT count(*) FROM observations"), 6);
	assert_int_equal(store_count(f,
	                     "SELECT count(*) FROM observations WHERE "
	                     "changed_by IS NOT NULL"),
	    1);
	/* image A, first seen 03:00, last seen 04:00 (run 3), twice */
	assert_int_equal(store_count(f,
	                     "SELECT count(*) FROM observations o JOIN pools p "
	                     "ON p.id = o.pool_id WHERE p.key = 'edge-system' "
	                     "AND o.seen = 2 AND o.last_run_id = 3 AND "
	                     "o.last_seen = strftime('%s', "
	                     "'2026-03-10T04:00:00')"),
	    1);
	/* the other pools: 03:00 to 05:00, seen three times */
	assert_int_equal(store_count(f,
	                     "SELECT count(*) FROM observations WHERE seen = 3 "
	                     "AND last_run_id = 2"),
	    4);

	/* now: image A again, after B -- a change, by someone else */
	assert_int_equal(run_at(f, "2026-03-10T06:00:00Z"), 0);
	assert_int_equal(
	    store_count(f, "SELECT count(*) FROM observations"), 7);
	assert_int_equal(store_count(f,
	                     "SELECT count(*) FROM observations WHERE "
	                     "changed_by = 'outside'"),
	    2);
}

static int
setup_hourly(void **state)
{
	return setup_with(state,
	    "\n[policy:default]\n"
	    "schedule = 0 * * * *\n"
	    "snapshot_when = changed\n"
	    "\n[pool:staging-system]\nresource_group = rg-staging\n"
	    "cluster = aks-staging\nnodepool = system\n"
	    "\n[pool:staging-user]\nresource_group = rg-staging\n"
	    "cluster = aks-staging\nnodepool = user\n"
	    "\n[pool:prod-system]\nresource_group = rg-prod\n"
	    "cluster = aks-prod\nnodepool = system\n"
	    "\n[pool:prod-batch]\nresource_group = rg-prod\n"
	    "cluster = aks-prod\nnodepool = batch\n"
	    "\n[pool:edge-system]\nresource_group = rg-prod\n"
	    "cluster = aks-edge\nnodepool = system\n");
}

static void
test_run_skips_unchanged_and_snapshots_released_pool(void **state)
{
	struct harness *f = *state;
	json_t *rel, *snaps;

	assert_int_equal(run_at(f, "2026-03-10T03:00:00Z"), 0);
	emu_reset_counters(f->emu);
	/* Next slot, nothing changed: five skips, no PUT. */
	assert_int_equal(run_at(f, "2026-03-11T03:00:00Z"), 0);
	assert_int_equal(emu_counter(f->emu, "PUT snapshots.put"), 0);

	/* A node image release on one pool: only that pool is taken. */
	rel = emu_post(f->emu, "/_armemu/release",
	    "{\"resourceGroup\":\"rg-prod\",\"cluster\":\"aks-edge\","
	    "\"pool\":\"system\",\"nodeImageVersion\":"
	    "\"AKSUbuntu-2204gen2containerd-202611.11.0\"}");
	assert_non_null(rel);
	json_decref(rel);
	emu_reset_counters(f->emu);
	assert_int_equal(run_at(f, "2026-03-12T03:00:00Z"), 0);
	assert_int_equal(emu_counter(f->emu, "PUT snapshots.put"), 1);
	snaps = emu_snapshots(f);
	assert_int_equal(json_array_size(snaps), 6);
	assert_non_null(
	    find_snapshot(snaps, "aksnap-aks-edge-system-20260312T0200Z"));
	assert_null(
	    find_snapshot(snaps, "aksnap-aks-prod-system-20260312T0200Z"));
	json_decref(snaps);

	/* The history shows the change, and only it, for that pool. */
	{
		struct run_result r;
		json_t *doc, *obs;

		harness_aksnap(f, &r, "--json", "history", "--changes",
		    "edge-system", NULL);
		assert_int_equal(r.exit_code, 0);
		doc = json_loads(r.out, 0, NULL);
		run_result_free(&r);
		assert_non_null(doc);
		obs = json_object_get(doc, "observations");
		assert_int_equal(json_array_size(obs), 2);
		assert_string_equal(
		    json_string_value(json_object_get(
		        json_array_get(obs, 1), "node_image_version")),
		    "AKSUbuntu-2204gen2containerd-202611.11.0");
		json_decref(doc);
	}
}

static void
test_run_catch_up_takes_only_current_slot(void **state)
{
	struct harness *f = *state;
	json_t *snaps;

	assert_int_equal(run_at(f, "2026-03-10T03:00:00Z"), 0);
	/* Three daily slots pass while the host is down; images change. */
	json_decref(emu_post(f->emu, "/_armemu/release", "{}"));
	emu_reset_counters(f->emu);
	assert_int_equal(run_at(f, "2026-03-13T10:00:00Z"), 0);
	assert_int_equal(emu_counter(f->emu, "PUT snapshots.put"), 5);
	snaps = emu_snapshots(f);
	assert_int_equal(json_array_size(snaps), 10);
	assert_non_null(
	    find_snapshot(snaps, "aksnap-aks-prod-batch-20260313T0200Z"));
	assert_null(
	    find_snapshot(snaps, "aksnap-aks-prod-batch-20260311T0200Z"));
	assert_null(
	    find_snapshot(snaps, "aksnap-aks-prod-batch-20260312T0200Z"));
	json_decref(snaps);
}

/* Start `aksnap run --pool prod-batch` in the background. */
static void
spawn_run(struct harness *f, struct harness_bg *bg, const char *as_of)
{
	assert_int_equal(harness_aksnap_start(f, bg, "run", "--pool",
	                     "prod-batch", "--as-of", as_of, NULL),
	    0);
}

/* SIGKILL it and wait for it. */
static void
kill_run(struct harness_bg *bg)
{
	struct run_result r;

	kill(bg->pid, SIGKILL);
	assert_int_equal(harness_aksnap_wait(bg, &r, NULL), 0);
	run_result_free(&r);
}

/* Wait until the emulator has received ${n} requests of ${key}. */
static void
wait_counter(struct harness *f, const char *key, long n)
{
	for (int i = 0; i < 200; i++) {
		if (emu_counter(f->emu, key) >= n)
			return;
		usleep(50 * 1000);
	}
	fail_msg("emulator never saw %ld x %s", n, key);
}

/* Wait until the emulator holds ${n} requests in flight (or, with n == 0,
 * none): a request held by a latency fault is in flight. */
static void
wait_in_flight(struct harness *f, long n)
{
	for (int i = 0; i < 400; i++) {
		json_t *st = emu_get(f->emu, "/_armemu/stats");
		long now =
		    (long)json_integer_value(json_object_get(st, "in_flight"));

		json_decref(st);
		if ((n > 0 && now >= n) || (n == 0 && now == 0))
			return;
		usleep(25 * 1000);
	}
	fail_msg("the emulator never had %ld request(s) in flight", n);
}

static void
test_run_resumes_snapshot_left_creating_after_kill(void **state)
{
	struct harness *f = *state;
	json_t *snaps, *l;
	struct harness_bg bg;

	assert_int_equal(emu_set_clock(f->emu, "2026-03-10T03:00:00Z"), 0);
	/* The PUT is held 1.5 s by the emulator: kill aksnap in between. */
	assert_true(
	    emu_fault(f->emu,
	        "{\"method\":\"PUT\",\"path\":"
	        "\"*/snapshots/*\",\"action\":\"latency\",\"latency_ms\":1500,"
	        "\"count\":1}") >= 0);
	emu_reset_counters(f->emu);
	spawn_run(f, &bg, "2026-03-10T03:00:00Z");
	/* Once the cluster GET is answered, the held PUT is the one
	 * request in flight: kill aksnap then, before it hears back. */
	wait_counter(f, "GET managedClusters.get", 1);
	wait_in_flight(f, 1);
	kill_run(&bg);
	wait_in_flight(f, 0); /* the emulator completes the PUT */

	snaps = emu_snapshots(f);
	assert_int_equal(json_array_size(snaps), 1);
	json_decref(snaps);
	l = list_json(f, "prod-batch");
	assert_int_equal(count_state(l, "creating"), 1);
	json_decref(l);

	/* The next run settles the row from Azure, with no second PUT. */
	emu_reset_counters(f->emu);
	{
		struct run_result r;

		harness_aksnap(f, &r, "run", "--pool", "prod-batch", "--as-of",
		    "2026-03-10T03:30:00Z", NULL);
		assert_int_equal(r.exit_code, 0);
		run_result_free(&r);
	}
	assert_int_equal(emu_counter(f->emu, "PUT snapshots.put"), 0);
	assert_int_equal(emu_counter(f->emu, "GET snapshots.get"), 1);
	l = list_json(f, "prod-batch");
	assert_int_equal(count_state(l, "active"), 1);
	assert_int_equal(count_state(l, "creating"), 0);
	json_decref(l);
}

static void
test_run_crash_during_reconcile_is_settled_next_time(void **state)
{
	struct harness *f = *state;
	json_t *l;
	struct harness_bg bg;

	/* Leave a row "creating": killed while its PUT was in flight. */
	assert_int_equal(emu_set_clock(f->emu, "2026-03-10T03:00:00Z"), 0);
	assert_true(
	    emu_fault(f->emu,
	        "{\"method\":\"PUT\",\"path\":"
	        "\"*/snapshots/*\",\"action\":\"latency\",\"latency_ms\":3000,"
	        "\"count\":1}") >= 0);
	spawn_run(f, &bg, "2026-03-10T03:00:00Z");
	wait_counter(f, "GET managedClusters.get", 1);
	wait_in_flight(f, 1);
	kill_run(&bg);
	wait_in_flight(f, 0);

	/* Crash again, this time while reconcile's GET is in flight. */
	emu_clear_faults(f->emu);
	assert_true(
	    emu_fault(f->emu,
	        "{\"method\":\"GET\",\"path\":"
	        "\"*/snapshots/*\",\"action\":\"latency\",\"latency_ms\":1500,"
	        "\"count\":1}") >= 0);
	emu_reset_counters(f->emu);
	spawn_run(f, &bg, "2026-03-10T03:10:00Z");
	wait_in_flight(f, 1); /* reconcile's GET, held */
	kill_run(&bg);
	l = list_json(f, "prod-batch");
	assert_int_equal(count_state(l, "creating"), 1);
	json_decref(l);

	/* Third run (all pools): settles it and takes no second snapshot
	 * of prod-batch; the four other pools get theirs. */
	emu_clear_faults(f->emu);
	emu_reset_counters(f->emu);
	assert_int_equal(run_at(f, "2026-03-10T03:20:00Z"), 0);
	assert_int_equal(emu_counter(f->emu, "PUT snapshots.put"), 4);
	{
		json_t *snaps = emu_snapshots(f);

		assert_int_equal(json_array_size(snaps), 5);
		json_decref(snaps);
	}
	l = list_json(f, NULL);
	assert_int_equal(count_state(l, "active"), 5);
	assert_int_equal(count_state(l, "creating"), 0);
	json_decref(l);
}

static void
test_run_isolates_failing_pools(void **state)
{
	struct harness *f = *state;
	struct run_result r;
	json_t *snaps, *l;

	/* aks-staging is gone (404); prod-system is busy (409); edge's PUT
	 * answers 500 until the retries run out. */
	json_decref(emu_post(f->emu, "/_armemu/clusters/delete",
	    "{\"resourceGroup\":\"rg-staging\",\"cluster\":\"aks-staging\"}"));
	json_decref(emu_post(f->emu, "/_armemu/pools/busy",
	    "{\"resourceGroup\":\"rg-prod\",\"cluster\":\"aks-prod\","
	    "\"pool\":\"system\",\"busy\":true}"));
	assert_true(
	    emu_fault(f->emu,
	        "{\"method\":\"PUT\",\"path\":"
	        "\"*/snapshots/aksnap-aks-edge-*\",\"action\":\"status\","
	        "\"status\":500,\"retry_after\":0,\"count\":-1}") >= 0);
	assert_int_equal(emu_set_clock(f->emu, "2026-03-10T03:00:00Z"), 0);
	emu_reset_counters(f->emu);
	harness_aksnap(f, &r, "run", "--as-of", "2026-03-10T03:00:00Z", NULL);
	if (r.exit_code != 1 ||
	    strstr(r.err, "aksnap: staging-system: ") == NULL)
		fprintf(stderr, "stderr was:\n%s\n", r.err);
	assert_int_equal(r.exit_code, 1);
	/* Each failure names the pool, the ARM code and the request id. */
	assert_non_null(strstr(r.err, "aksnap: staging-system: "));
	assert_non_null(strstr(r.err, "ResourceNotFound"));
	assert_non_null(strstr(r.err, "aksnap: prod-system: "));
	assert_non_null(strstr(r.err, "OperationNotAllowed"));
	assert_non_null(strstr(r.err, "aksnap: edge-system: "));
	assert_non_null(strstr(r.err, "x-ms-request-id"));
	run_result_free(&r);
	assert_true(emu_counter(f->emu, "PUT snapshots.put 500") > 1);

	/* prod-batch, the only healthy pool, was snapshotted. */
	snaps = emu_snapshots(f);
	assert_int_equal(json_array_size(snaps), 1);
	assert_non_null(
	    find_snapshot(snaps, "aksnap-aks-prod-batch-20260310T0200Z"));
	json_decref(snaps);
	l = list_json(f, "prod-system");
	assert_int_equal(count_state(l, "failed"), 1);
	json_decref(l);

	/* Busy is retried on the next run, once the pool is free. */
	json_decref(emu_post(f->emu, "/_armemu/pools/busy",
	    "{\"resourceGroup\":\"rg-prod\",\"cluster\":\"aks-prod\","
	    "\"pool\":\"system\",\"busy\":false}"));
	emu_clear_faults(f->emu);
	harness_aksnap(f, &r, "run", "--as-of", "2026-03-10T04:00:00Z",
	    "--pool", "prod-system", "--pool", "edge-system", NULL);
	assert_int_equal(r.exit_code, 0);
	run_result_free(&r);
	l = list_json(f, "prod-system");
	assert_int_equal(count_state(l, "active"), 1);
	json_decref(l);
}

static void
test_run_exits_75_when_lock_held(void **state)
{
	struct harness *f = *state;
	struct run_result r;
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/aksnap.db.lock", f->dir);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	emu_reset_counters(f->emu);
	harness_aksnap(f, &r, "run", "--as-of", "2026-03-10T03:00:00Z", NULL);
	assert_int_equal(r.exit_code, 75);
	assert_non_null(strstr(r.err, "lock"));
	run_result_free(&r);
	assert_int_equal(arm_requests(f), 0);
	close(fd);
}

static void
test_run_waits_for_locked_store_then_fails_clearly(void **state)
{
	struct harness *f = *state;
	struct run_result r;
	char path[4096];
	sqlite3 *db = NULL;

	/* Create the store, then hold its write lock from here. */
	harness_aksnap(f, &r, "db", "migrate", NULL);
	assert_int_equal(r.exit_code, 0);
	run_result_free(&r);
	snprintf(path, sizeof(path), "%s/aksnap.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
	harness_aksnap(f, &r, "run", "--as-of", "2026-03-10T03:00:00Z", NULL);
	assert_int_equal(r.exit_code, 75);
	assert_non_null(strstr(r.err, "locked"));
	run_result_free(&r);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
}

static void
test_run_dst_slots_in_berlin(void **state)
{
	struct harness *f = *state;
	static const char *const runs[][2] = {
	    /* as_of, the snapshot name that run must take */
	    {"2026-03-28T05:00:00Z", "aksnap-aks-edge-system-20260328T0130Z"},
	    /* spring forward: 02:30 does not exist; the slot is 03:00 CEST */
	    {"2026-03-29T05:00:00Z", "aksnap-aks-edge-system-20260329T0100Z"},
	    {"2026-03-30T05:00:00Z", "aksnap-aks-edge-system-20260330T0030Z"},
	    /* fall back: 02:30 happens twice; one slot, the first */
	    {"2026-10-25T05:00:00Z", "aksnap-aks-edge-system-20261025T0030Z"},
	    {"2026-10-26T05:00:00Z", "aksnap-aks-edge-system-20261026T0130Z"},
	};
	json_t *snaps;

	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		struct run_result r;

		assert_int_equal(emu_set_clock(f->emu, runs[i][0]), 0);
		harness_aksnap(f, &r, "run", "--pool", "edge-system", "--as-of",
		    runs[i][0], NULL);
		assert_int_equal(r.exit_code, 0);
		run_result_free(&r);
	}
	snaps = emu_snapshots(f);
	assert_int_equal(json_array_size(snaps), 5);
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++)
		if (find_snapshot(snaps, runs[i][1]) == NULL)
			fail_msg("missing %s", runs[i][1]);
	json_decref(snaps);
}

static int
setup_berlin(void **state)
{
	static const char *const ini =
	    "timezone = Europe/Berlin\n"
	    "\n[policy:default]\nschedule = 30 2 * * *\n"
	    "snapshot_when = always\n"
	    "\n[pool:edge-system]\nresource_group = rg-prod\n"
	    "cluster = aks-edge\nnodepool = system\n";

	return setup_with(state, ini);
}

static int
valid_sample(const char *line)
{
	const char *sp = strrchr(line, ' ');
	char *end;

	if (sp == NULL || sp == line)
		return 0;
	if (!((line[0] >= 'a' && line[0] <= 'z') || line[0] == '_'))
		return 0;
	strtod(sp + 1, &end);
	return *end == '\0';
}

static void
test_run_writes_prometheus_textfile_atomically(void **state)
{
	struct harness *f = *state;
	char path[4096], *text, *line, *save = NULL;
	struct stat st1, st2;
	int samples = 0, types = 0;
	FILE *fp;
	long len;

	snprintf(path, sizeof(path), "%s/aksnap.prom", f->dir);
	assert_int_equal(run_at(f, "2026-03-10T03:00:00Z"), 0);
	assert_int_equal(stat(path, &st1), 0);
	assert_int_equal(run_at(f, "2026-03-11T03:00:00Z"), 0);
	assert_int_equal(stat(path, &st2), 0);
	/* Replaced by rename: a new inode, never rewritten in place. */
	assert_int_not_equal(st1.st_ino, st2.st_ino);

	fp = fopen(path, "r");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	text = calloc(1, (size_t)len + 1);
	assert_int_equal(fread(text, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# TYPE ", 7) == 0) {
			types++;
			continue;
		}
		if (line[0] == '#')
			continue;
		if (!valid_sample(line))
			fail_msg("not a sample: %s", line);
		/* The run's time is the --as-of of the last run. */
		if (strncmp(line, "aksnap_last_run_timestamp_seconds ", 34) ==
		    0)
			assert_string_equal(line + 34, "1773198000");
		samples++;
	}
	assert_true(types >= 6);
	assert_true(samples > 5 * 6);
	free(text);
	/* No temporary file left beside it. */
	{
		struct run_result r;
		const char *ls[] = {
		    "sh", "-c", "ls \"$0\" | grep -c prom", f->dir, NULL};

		harness_run(&r, ls, NULL);
		assert_int_equal(atoi(r.out), 1);
		run_result_free(&r);
	}
}

/* Read a whole file (the store) into memory; caller frees. */
static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

static void
test_run_vv_trace_and_store_hold_no_secret(void **state)
{
	struct harness *f = *state;
	struct run_result r;
	char path[4096];
	char *db;
	size_t len;

	assert_int_equal(emu_set_clock(f->emu, "2026-03-10T03:00:00Z"), 0);
	harness_aksnap(
	    f, &r, "-vv", "run", "--as-of", "2026-03-10T03:00:00Z", NULL);
	assert_int_equal(r.exit_code, 0);
	/* The trace is there, with the secret and the token redacted. */
	assert_non_null(strstr(r.err, "oauth2/v2.0/token"));
	assert_non_null(strstr(r.err, "client_secret=[redacted]"));
	assert_non_null(strstr(r.err, "\"access_token\":\"[redacted]\""));
	assert_null(strstr(r.err, HARNESS_CLIENT_SECRET));
	assert_null(strstr(r.out, HARNESS_CLIENT_SECRET));
	run_result_free(&r);
	/* Nor is it anywhere in the store (or its WAL). */
	snprintf(path, sizeof(path), "%s/aksnap.db", f->dir);
	db = slurp(path, &len);
	assert_null(memmem(
	    db, len, HARNESS_CLIENT_SECRET, strlen(HARNESS_CLIENT_SECRET)));
	free(db);
	snprintf(path, sizeof(path), "%s/aksnap.db-wal", f->dir);
	if (access(path, R_OK) == 0) {
		db = slurp(path, &len);
		assert_null(memmem(db, len, HARNESS_CLIENT_SECRET,
		    strlen(HARNESS_CLIENT_SECRET)));
		free(db);
	}
}

/*
 * auth = auto on a bastion without managed identity, logged in with `az`:
 * the IMDS probe finds nobody (a closed loopback port here), the CLI
 * answers, and the run is as silent as any successful run.
 */
static void
test_run_auto_falls_back_to_azure_cli_quietly(void **state)
{
	struct harness *f = *state;
	struct run_result r;
	char path[4096], script[8192], env_path[8192];
	const char *curl_argv[] = {"curl", "-fsS", "-d", NULL, NULL, NULL};
	char form[512], url[256];
	json_t *tok;
	const char *token;

	/* A token the emulator will accept, as `az` would hand it out. */
	snprintf(form, sizeof(form),
	    "grant_type=client_credentials&client_id=%s&client_secret=%s&"
	    "scope=https%%3A%%2F%%2Fmanagement.azure.com%%2F.default",
	    HARNESS_CLIENT_ID, HARNESS_CLIENT_SECRET);
	snprintf(url, sizeof(url), "%s/%s/oauth2/v2.0/token", emu_url(f->emu),
	    HARNESS_TENANT);
	curl_argv[3] = form;
	curl_argv[4] = url;
	assert_int_equal(harness_run(&r, curl_argv, NULL), 0);
	assert_int_equal(r.exit_code, 0);
	tok = json_loads(r.out, 0, NULL);
	run_result_free(&r);
	assert_non_null(tok);
	token = json_string_value(json_object_get(tok, "access_token"));
	assert_non_null(token);

	snprintf(path, sizeof(path), "%s/bin", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/bin/az", f->dir);
	snprintf(script, sizeof(script),
	    "#!/bin/sh\n"
	    "echo '{\"accessToken\": \"%s\", \"expires_on\": %lld, "
	    "\"tokenType\": \"Bearer\"}'\n",
	    token, (long long)time(NULL) + 3600);
	assert_int_equal(harness_write_file(path, script, 0700), 0);
	json_decref(tok);

	/* The harness config, with auth = auto and no IMDS to be found. */
	{
		const char *sed[] = {"sed", "-i",
		    "s/^auth *=.*/auth = auto/; /^client_secret_file/d; "
		    "/^client_id/d; /^tenant/d; "
		    "s|^imds_endpoint *=.*|imds_endpoint = http://127.0.0.1:1|",
		    f->config, NULL};

		assert_int_equal(harness_run(&r, sed, NULL), 0);
		run_result_free(&r);
	}
	snprintf(env_path, sizeof(env_path), "PATH=%s/bin:%s", f->dir,
	    getenv("PATH"));
	assert_int_equal(emu_set_clock(f->emu, "2026-03-10T03:00:00Z"), 0);
	{
		const char *env[] = {env_path, "AZURE_CLIENT_ID",
		    "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET",
		    "AZURE_FEDERATED_TOKEN_FILE", NULL};

		for (size_t i = 0; env[i] != NULL; i++)
			assert_int_equal(harness_setenv(f, env[i]), 0);
		harness_aksnap(
		    f, &r, "run", "--as-of", "2026-03-10T03:00:00Z", NULL);
	}
	if (r.exit_code != 0 || r.err[0] != '\0')
		fail_msg("exit %d, stderr: %s", r.exit_code, r.err);
	run_result_free(&r);
	assert_int_equal(emu_counter(f->emu, "PUT snapshots.put"), 5);
}

/* ---- verification: a PUT that ARM says worked and did not ---- */

/* One pool, retention that keeps only the newest: a ghost recorded as
 * active would make the same run delete the only real snapshot. */
static const char *const KEEP1_INI =
    "\n[policy:keep1]\n"
    "schedule = 0 2 * * *\n"
    "snapshot_when = always\n"
    "keep_last = 1\nkeep_hourly = 0\nkeep_daily = 0\nkeep_weekly = 0\n"
    "keep_monthly = 0\nkeep_yearly = 0\nkeep_within = 0\nmin_keep = 1\n"
    "promote_after = never\n"
    "\n[pool:staging-system]\nresource_group = rg-staging\n"
    "cluster = aks-staging\nnodepool = system\npolicy = keep1\n";

static int
setup_keep1(void **state)
{
	return setup_with(state, KEEP1_INI);
}

#define SLOT1 "aksnap-aks-staging-system-20260316T0200Z"
#define SLOT2 "aksnap-aks-staging-system-20260317T0200Z"

/* `aksnap run --as-of` with the emulator's clock frozen there; exit. */
static int
run_frozen(struct harness *f, const char *as_of, struct run_result *r)
{
	char body[96];

	snprintf(body, sizeof(body), "{\"now\":\"%s\",\"frozen\":true}", as_of);
	json_decref(emu_post(f->emu, "/_armemu/clock", body));
	assert_int_equal(
	    harness_aksnap(f, r, "run", "--as-of", as_of, NULL), 0);
	return r->exit_code;
}

/* The store's state of ${name}, or "" when it has no such row. */
static const char *
store_state(json_t *list, const char *name)
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
 * The PUT of the second day's slot is answered 201 by ${fault} and
 * nothing is created.  That run records the snapshot unconfirmed, fails
 * the pool (naming the PUT's URL and status), and its retention keeps
 * the only real snapshot; the next run finds the snapshot absent, settles
 * the row as failed and takes the slot again: in the end Azure holds
 * exactly one snapshot of the pool, the store agrees.
 */
static void
lying_put_is_unconfirmed_then_retaken(struct harness *f, const char *fault)
{
	struct run_result r;
	json_t *snaps, *l;

	assert_int_equal(run_frozen(f, "2026-03-16T03:00:00Z", &r), 0);
	run_result_free(&r);
	snaps = emu_snapshots(f);
	assert_int_equal(json_array_size(snaps), 1);
	assert_non_null(find_snapshot(snaps, SLOT1));
	json_decref(snaps);

	assert_true(emu_fault(f->emu, fault) > 0);
	emu_reset_counters(f->emu);
	assert_int_equal(run_frozen(f, "2026-03-17T03:00:00Z", &r), 1);
	harness_expect_in(r.err, "unconfirmed");
	harness_expect_in(r.err, "/snapshots/" SLOT2 "?api-version=");
	harness_expect_in(r.err, "answered 201");
	harness_expect_in(r.err, "x-ms-request-id");
	run_result_free(&r);
	/* One PUT, one GET that decided, no DELETE of the real one. */
	assert_int_equal(emu_counter(f->emu, "PUT snapshots.put 201"), 1);
	assert_int_equal(emu_counter(f->emu, "GET snapshots.get 404"), 1);
	assert_int_equal(emu_counter(f->emu, "DELETE snapshots.delete"), 0);
	snaps = emu_snapshots(f);
	assert_int_equal(json_array_size(snaps), 1);
	assert_non_null(find_snapshot(snaps, SLOT1));
	json_decref(snaps);
	l = list_json(f, "staging-system");
	assert_string_equal(store_state(l, SLOT1), "active");
	assert_string_equal(store_state(l, SLOT2), "unconfirmed");
	json_decref(l);
	/* Until the next run settles it, check says the store cannot prove
	 * what Azure holds (WARNING at least: the failed run is CRITICAL). */
	harness_aksnap(f, &r, "check", NULL);
	assert_true(r.exit_code >= 1);
	harness_expect_in(r.out, "snapshot " SLOT2 " is unconfirmed");
	run_result_free(&r);

	/* The next run, same slot: settled by a GET, the slot taken again,
	 * and only now retention replaces the older snapshot. */
	emu_reset_counters(f->emu);
	assert_int_equal(run_frozen(f, "2026-03-17T04:00:00Z", &r), 0);
	run_result_free(&r);
	assert_int_equal(emu_counter(f->emu, "PUT snapshots.put 201"), 1);
	assert_int_equal(emu_counter(f->emu, "DELETE snapshots.delete 200"), 1);
	snaps = emu_snapshots(f);
	assert_int_equal(json_array_size(snaps), 1);
	assert_non_null(find_snapshot(snaps, SLOT2));
	assert_string_equal(
	    tag(find_snapshot(snaps, SLOT2), "aksnap-pool"), "staging-system");
	json_decref(snaps);
	l = list_json(f, "staging-system");
	assert_string_equal(store_state(l, SLOT2), "active");
	assert_string_equal(store_state(l, SLOT1), "deleted");
	assert_int_equal(count_state(l, "unconfirmed"), 0);
	assert_int_equal(json_array_size(json_object_get(l, "snapshots")), 2);
	json_decref(l);

	/* Settled: a third run in the slot sends no write. */
	emu_reset_counters(f->emu);
	assert_int_equal(run_frozen(f, "2026-03-17T05:00:00Z", &r), 0);
	run_result_free(&r);
	assert_int_equal(emu_counter(f->emu, "PUT snapshots.put"), 0);
	assert_int_equal(emu_counter(f->emu, "DELETE snapshots.delete"), 0);
}

static void
test_run_ghost_201_is_unconfirmed_and_slot_retaken(void **state)
{
	lying_put_is_unconfirmed_then_retaken(*state,
	    "{\"method\":\"PUT\",\"path\":\"*/snapshots/*\","
	    "\"action\":\"put_empty\"}");
}

/* The 201 is the real snapshot of yesterday's slot, complete with its
 * versions and source: only its name tells it is not the one asked for. */
static void
test_run_201_naming_another_snapshot_is_unconfirmed(void **state)
{
	lying_put_is_unconfirmed_then_retaken(*state,
	    "{\"method\":\"PUT\",\"path\":\"*/snapshots/*\","
	    "\"action\":\"put_other\",\"name\":\"" SLOT1 "\"}");
}

/*
 * The answer at hand is {} but ARM holds the snapshot (an earlier PUT of
 * the same name went through, its answer was lost): the GET shows it,
 * so it is taken, and the run succeeds.
 */
/* Make ${name} exist in Azure as the PUT of staging-system would have. */
static void
emu_add_staging_snapshot(
    struct harness *f, const char *name, const char *created)
{
	char body[1536];

	snprintf(body, sizeof(body),
	    "{\"name\":\"%s\",\"subscription\":\"%s\","
	    "\"resourceGroup\":\"rg-staging\",\"location\":"
	    "\"westeurope\",\"tags\":{\"aksnap-managed\":\"true\","
	    "\"aksnap-pool\":\"staging-system\"},\"properties\":{"
	    "\"creationData\":{\"sourceResourceId\":\"/subscriptions/"
	    "%s/resourceGroups/rg-staging/providers/"
	    "Microsoft.ContainerService/managedClusters/aks-staging/"
	    "agentPools/system\"},\"kubernetesVersion\":\"1.30.5\","
	    "\"nodeImageVersion\":\"AKSUbuntu-2204gen2containerd-"
	    "202611.01.0\",\"osType\":\"Linux\",\"osSku\":\"Ubuntu\","
	    "\"vmSize\":\"Standard_D4s_v5\",\"enableFIPS\":false},"
	    "\"systemData\":{\"createdAt\":\"%s\"}}",
	    name, HARNESS_SUBSCRIPTION, HARNESS_SUBSCRIPTION, created);
	json_decref(emu_post(f->emu, "/_armemu/snapshots", body));
}

static void
test_run_empty_201_of_existing_snapshot_is_confirmed_by_get(void **state)
{
	struct harness *f = *state;
	struct run_result r;
	json_t *l;

	assert_int_equal(run_frozen(f, "2026-03-16T03:00:00Z", &r), 0);
	run_result_free(&r);
	emu_reset_counters(f->emu);
	assert_true(emu_fault(f->emu,
	                "{\"method\":\"PUT\",\"path\":\"*/snapshots/*\","
	                "\"action\":\"put_empty\"}") > 0);
	emu_add_staging_snapshot(f, SLOT2, "2026-03-17T03:00:00Z");
	assert_int_equal(run_frozen(f, "2026-03-17T03:00:00Z", &r), 0);
	run_result_free(&r);
	assert_int_equal(emu_counter(f->emu, "GET snapshots.get 200"), 1);
	l = list_json(f, "staging-system");
	assert_string_equal(store_state(l, SLOT2), "active");
	assert_string_equal(store_state(l, SLOT1), "deleted");
	json_decref(l);
}

/*
 * Unconfirmed, and the snapshot shows up after all (a listing or a
 * replica that was late): the next run's GET settles the row active and
 * takes nothing again.
 */
static void
test_run_unconfirmed_snapshot_that_appears_is_settled_active(void **state)
{
	struct harness *f = *state;
	struct run_result r;
	json_t *l, *snaps;

	assert_int_equal(run_frozen(f, "2026-03-16T03:00:00Z", &r), 0);
	run_result_free(&r);
	assert_true(emu_fault(f->emu,
	                "{\"method\":\"PUT\",\"path\":\"*/snapshots/*\","
	                "\"action\":\"put_empty\"}") > 0);
	assert_int_equal(run_frozen(f, "2026-03-17T03:00:00Z", &r), 1);
	run_result_free(&r);
	emu_add_staging_snapshot(f, SLOT2, "2026-03-17T03:00:00Z");

	emu_reset_counters(f->emu);
	assert_int_equal(run_frozen(f, "2026-03-17T04:00:00Z", &r), 0);
	run_result_free(&r);
	assert_int_equal(emu_counter(f->emu, "PUT snapshots.put"), 0);
	l = list_json(f, "staging-system");
	assert_string_equal(store_state(l, SLOT2), "active");
	assert_string_equal(store_state(l, SLOT1), "deleted");
	json_decref(l);
	snaps = emu_snapshots(f);
	assert_int_equal(json_array_size(snaps), 1);
	assert_non_null(find_snapshot(snaps, SLOT2));
	json_decref(snaps);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_run_first_snapshots_every_due_pool, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_run_rerun_in_same_slot_writes_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_run_same_config_writes_no_pools_row, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_run_unchanged_runs_add_no_decision_rows, setup_hourly,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_run_unchanged_runs_write_no_decision_row, setup_hourly,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_run_unchanged_runs_add_no_observation_rows, setup_hourly,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_run_past_as_of_extends_the_state_then, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_run_skips_unchanged_and_snapshots_released_pool, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_run_catch_up_takes_only_current_slot, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_run_resumes_snapshot_left_creating_after_kill, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_run_crash_during_reconcile_is_settled_next_time, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_run_isolates_failing_pools, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_run_exits_75_when_lock_held, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_run_waits_for_locked_store_then_fails_clearly, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_run_dst_slots_in_berlin, setup_berlin, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_run_writes_prometheus_textfile_atomically, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_run_vv_trace_and_store_hold_no_secret, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_run_auto_falls_back_to_azure_cli_quietly, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_run_ghost_201_is_unconfirmed_and_slot_retaken, setup_keep1,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_run_201_naming_another_snapshot_is_unconfirmed,
	        setup_keep1, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_run_empty_201_of_existing_snapshot_is_confirmed_by_get,
	        setup_keep1, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_run_unconfirmed_snapshot_that_appears_is_settled_active,
	        setup_keep1, teardown),
	};

	return cmocka_run_group_tests_name("run", tests, NULL, NULL);
}
