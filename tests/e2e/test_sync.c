/*
 * test_sync.c -- `aksnap sync` end to end against the ARM emulator
 * (issue 9): a lost store is rebuilt from the managed tags, a snapshot
 * deleted behind aksnap's back is marked missing (only once a GET
 * confirms it; one a stale listing omits is kept while a GET finds it),
 * a failed listing condemns nothing, and foreign or unconfigured
 * snapshots are left alone (the tagged ones reported as conflicts;
 * test_ownership.c has the rest of that story).
 *
 * Each test starts its own emulator with the demo fleet (five pools and
 * the foreign snapshot golden-2026q3), takes one snapshot of every pool
 * with `aksnap run`, and promotes staging-system's to "stable".
 */
#include <jansson.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "job/azure/arm.h"
#include "job/azure/http.h"
#include "job/azure/token.h"
#include "job/run/run.h"
#include "tests/e2e/harness.h"

#define FLEET "tests/armemu/fleet-demo.json"
#define SUB HARNESS_SUBSCRIPTION
#define AS_OF "2026-11-10T03:00:00Z"
#define SLOT "2026-11-10T02:00:00Z"
#define STAGING "aksnap-aks-staging-system-20261110T0200Z"
#define PROD "aksnap-aks-prod-system-20261110T0200Z"

static const char *const POOLS_INI =
    "\n[policy:default]\nschedule = 0 2 * * *\npromote_after = never\n"
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
setup(void **state)
{
	static const char *const args[] = {
	    "--fleet", FLEET, "--retry-after", "0", NULL};
	struct harness *f = harness_new(args, POOLS_INI);
	struct run_result r;
	json_t *clock;

	if (f == NULL)
		return -1;
	*state = f;
	/* Frozen: a slow run (valgrind) must not see createdAt > as-of. */
	clock = emu_post(f->emu, "/_armemu/clock",
	    "{\"now\": \"2026-11-10T03:00:00Z\", \"frozen\": true}");
	if (clock == NULL)
		return -1;
	json_decref(clock);
	harness_aksnap(f, &r, "run", "--as-of", AS_OF, NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
	harness_aksnap(f, &r, "promote", "--channel", "stable", STAGING, NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
	emu_reset_counters(f->emu);
	return 0;
}

static int
teardown(void **state)
{
	harness_free(*state);
	return 0;
}

static const char *
str(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v != NULL ? v : "";
}

/* `aksnap --json sync` (or with more words), parsed. */
static json_t *
sync_json(struct harness *f, int want, const char *extra)
{
	struct run_result r;
	json_t *doc;

	harness_aksnap(f, &r, "--json", "sync", extra, NULL);
	harness_expect_exit(&r, want);
	doc = json_loads(r.out, 0, NULL);
	if (doc == NULL)
		fail_msg("not JSON:\n%s\nstderr:\n%s", r.out, r.err);
	run_result_free(&r);
	return doc;
}

static long
num(json_t *o, const char *key)
{
	return (long)json_integer_value(json_object_get(o, key));
}

/* The store's snapshots, through `aksnap --json list`. */
static json_t *
store_list(struct harness *f)
{
	struct run_result r;
	json_t *doc, *arr;

	harness_aksnap(f, &r, "--json", "list", "--all", NULL);
	harness_expect_exit(&r, 0);
	doc = json_loads(r.out, 0, NULL);
	assert_non_null(doc);
	run_result_free(&r);
	arr = json_is_array(doc) ? doc : json_object_get(doc, "snapshots");
	assert_non_null(arr);
	json_incref(arr);
	json_decref(doc);
	return arr;
}

static json_t *
find_named(json_t *arr, const char *key, const char *name)
{
	size_t i;
	json_t *s;

	json_array_foreach(arr, i, s)
	{
		if (strcmp(str(s, key), name) == 0)
			return s;
	}
	return NULL;
}

static long
sql_count(struct harness *f, const char *sql)
{
	char path[600];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long n = -1;

	snprintf(path, sizeof(path), "%s/aksnap.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static void
sql_exec(struct harness *f, const char *sql)
{
	char path[600];
	sqlite3 *db = NULL;
	char *err = NULL;

	snprintf(path, sizeof(path), "%s/aksnap.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
	sqlite3_close(db);
}

/* Delete snapshot ${name} of ${rg} through ARM, behind aksnap's back. */
static void
delete_out_of_band(struct harness *f, const char *rg, const char *name)
{
	struct config *cfg = NULL;
	struct http_client *http;
	struct token_provider *tp;
	struct arm *arm;
	struct arm_error e;
	char id[512];
	int existed = 0;

	assert_int_equal(config_load(f->config, &cfg), 0);
	http = http_client_new(NULL);
	assert_non_null(http);
	tp = run_token_provider(cfg);
	assert_non_null(tp);
	http_client_set_token_source(http, token_source_cb, tp);
	arm = arm_new(http, cfg->arm_endpoint, cfg->api_version);
	assert_non_null(arm);
	arm_snapshot_id(SUB, rg, name, id, sizeof(id));
	assert_int_equal(arm_snapshot_delete(arm, "test", id, &existed, &e), 0);
	assert_true(existed);
	arm_free(arm);
	token_provider_free(tp);
	http_client_free(http);
	config_free(cfg);
}

static void
lose_store(struct harness *f)
{
	static const char *const suffix[] = {"", "-wal", "-shm"};
	char path[600];

	for (size_t i = 0; i < 3; i++) {
		snprintf(
		    path, sizeof(path), "%s/aksnap.db%s", f->dir, suffix[i]);
		(void)unlink(path);
	}
}

/* ---- tests ---- */

static void
test_sync_changes_nothing_when_store_matches_azure(void **state)
{
	struct harness *f = *state;
	json_t *doc = sync_json(f, 0, NULL);

	assert_int_equal(num(doc, "adopted"), 0);
	assert_int_equal(num(doc, "missing"), 0);
	assert_int_equal(num(doc, "unchanged"), 5);
	assert_int_equal(num(doc, "foreign"), 1);
	assert_int_equal(json_array_size(json_object_get(doc, "snapshots")), 0);
	json_decref(doc);
	/* One listing of the one subscription, no GET needed. */
	assert_int_equal(emu_counter(f->emu, "GET snapshots.list"), 1);
	assert_int_equal(emu_counter(f->emu, "GET snapshots.get"), 0);
}

static void
test_sync_adopts_managed_snapshots_into_a_lost_store(void **state)
{
	struct harness *f = *state;
	struct run_result r;
	json_t *doc, *list, *emust, *s, *st;
	size_t i;

	lose_store(f);
	doc = sync_json(f, 0, NULL);
	assert_int_equal(num(doc, "adopted"), 5);
	assert_int_equal(num(doc, "missing"), 0);
	assert_int_equal(num(doc, "foreign"), 1);
	json_decref(doc);

	list = store_list(f);
	assert_int_equal(json_array_size(list), 5);
	/* The foreign snapshot is never adopted. */
	assert_null(find_named(list, "snapshot", "golden-2026q3"));
	/* Versions, slot and creation time as Azure holds them. */
	emust = emu_get(f->emu, "/_armemu/state");
	assert_non_null(emust);
	json_array_foreach(list, i, s)
	{
		json_t *a = find_named(json_object_get(emust, "snapshots"),
		    "name", str(s, "snapshot"));
		json_t *props = json_object_get(a, "properties");

		assert_non_null(a);
		assert_string_equal(str(s, "state"), "active");
		assert_string_equal(str(s, "slot"), SLOT);
		assert_string_equal(str(s, "node_image_version"),
		    str(props, "nodeImageVersion"));
		assert_string_equal(str(s, "kubernetes_version"),
		    str(props, "kubernetesVersion"));
		assert_string_equal(str(s, "vm_size"), str(props, "vmSize"));
		assert_string_equal(str(s, "pool"),
		    str(json_object_get(a, "tags"), "aksnap-pool"));
	}
	json_decref(emust);
	/* The channel comes back from the aksnap-channel tag. */
	st = find_named(list, "snapshot", STAGING);
	assert_non_null(st);
	assert_string_equal(str(st, "channel"), "stable");
	st = find_named(list, "snapshot", PROD);
	assert_non_null(st);
	assert_true(json_is_null(json_object_get(st, "channel")));
	json_decref(list);
	assert_int_equal(sql_count(f,
	                     "SELECT count(*) FROM decisions WHERE "
	                     "action = 'adopt'"),
	    5);
	assert_int_equal(sql_count(f,
	                     "SELECT count(*) FROM runs WHERE mode "
	                     "= 'sync' AND exit_code = 0"),
	    1);

	/* The slots are taken again: a rerun in the same slot PUTs nothing. */
	emu_reset_counters(f->emu);
	harness_aksnap(f, &r, "run", "--as-of", AS_OF, NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
	assert_int_equal(emu_counter(f->emu, "PUT snapshots.put"), 0);

	/* And a second sync finds nothing to do. */
	doc = sync_json(f, 0, NULL);
	assert_int_equal(num(doc, "adopted"), 0);
	assert_int_equal(num(doc, "unchanged"), 5);
	json_decref(doc);
}

static void
test_sync_marks_missing_what_azure_lost(void **state)
{
	struct harness *f = *state;
	json_t *doc, *item, *list;

	delete_out_of_band(f, "rg-prod", PROD);
	emu_reset_counters(f->emu);
	doc = sync_json(f, 0, NULL);
	assert_int_equal(num(doc, "missing"), 1);
	assert_int_equal(num(doc, "unchanged"), 4);
	item = find_named(json_object_get(doc, "snapshots"), "snapshot", PROD);
	assert_non_null(item);
	assert_string_equal(str(item, "action"), "missing");
	harness_expect_in(harness_reasons(item), "404");
	json_decref(doc);
	/* Confirmed by a GET of that one snapshot. */
	assert_int_equal(emu_counter(f->emu, "GET snapshots.get 404"), 1);

	list = store_list(f);
	assert_string_equal(
	    str(find_named(list, "snapshot", PROD), "state"), "missing");
	assert_string_equal(
	    str(find_named(list, "snapshot", STAGING), "state"), "active");
	json_decref(list);
	assert_int_equal(sql_count(f,
	                     "SELECT count(*) FROM decisions WHERE "
	                     "action = 'missing'"),
	    1);

	/* Said once: the next sync has nothing new. */
	doc = sync_json(f, 0, NULL);
	assert_int_equal(num(doc, "missing"), 0);
	json_decref(doc);
}

static void
test_sync_keeps_snapshot_when_get_cannot_confirm_loss(void **state)
{
	struct harness *f = *state;
	json_t *doc, *item, *list;

	delete_out_of_band(f, "rg-prod", PROD);
	assert_true(emu_fault(f->emu,
	                "{\"method\": \"GET\", \"path\": \"*/snapshots/" PROD
	                "\", \"action\": \"status\", \"status\": 403, "
	                "\"error_code\": \"AuthorizationFailed\", \"count\": "
	                "-1}") >= 0);
	doc = sync_json(f, 1, NULL);
	assert_int_equal(num(doc, "missing"), 0);
	item = find_named(json_object_get(doc, "snapshots"), "snapshot", PROD);
	assert_non_null(item);
	assert_string_equal(str(item, "action"), "unconfirmed");
	json_decref(doc);
	list = store_list(f);
	assert_string_equal(
	    str(find_named(list, "snapshot", PROD), "state"), "active");
	json_decref(list);
}

static void
test_sync_keeps_snapshot_a_stale_listing_omits(void **state)
{
	struct harness *f = *state;
	json_t *doc, *item, *list, *rules;

	/* An eventually consistent listing that has not caught up: PROD
	 * is left out of every list answer, but GET by id still finds it. */
	assert_true(emu_fault(f->emu,
	                "{\"method\": \"GET\", \"path\": "
	                "\"*/providers/Microsoft.ContainerService/snapshots\", "
	                "\"action\": \"omit\", \"name\": \"" PROD
	                "\", \"count\": -1}") >= 0);
	doc = sync_json(f, 0, NULL);
	assert_int_equal(num(doc, "missing"), 0);
	assert_int_equal(num(doc, "unchanged"), 5);
	assert_null(
	    find_named(json_object_get(doc, "snapshots"), "snapshot", PROD));
	json_decref(doc);
	rules = emu_get(f->emu, "/_armemu/faults");
	assert_non_null(rules);
	assert_true(num(json_array_get(rules, 0), "hits") >= 1);
	json_decref(rules);
	/* The listing lacked it; one GET of it found it. */
	assert_int_equal(emu_counter(f->emu, "GET snapshots.get"), 1);
	assert_int_equal(emu_counter(f->emu, "GET snapshots.get 200"), 1);
	list = store_list(f);
	assert_string_equal(
	    str(find_named(list, "snapshot", PROD), "state"), "active");
	json_decref(list);
	assert_int_equal(sql_count(f,
	                     "SELECT count(*) FROM decisions WHERE "
	                     "action = 'missing'"),
	    0);

	/* Really gone now: the GET says 404 and sync marks it missing. */
	delete_out_of_band(f, "rg-prod", PROD);
	emu_reset_counters(f->emu);
	doc = sync_json(f, 0, NULL);
	assert_int_equal(num(doc, "missing"), 1);
	item = find_named(json_object_get(doc, "snapshots"), "snapshot", PROD);
	assert_non_null(item);
	assert_string_equal(str(item, "action"), "missing");
	json_decref(doc);
	assert_int_equal(emu_counter(f->emu, "GET snapshots.get 404"), 1);
	list = store_list(f);
	assert_string_equal(
	    str(find_named(list, "snapshot", PROD), "state"), "missing");
	json_decref(list);
}

static void
test_sync_failed_listing_marks_nothing_missing(void **state)
{
	struct harness *f = *state;
	struct run_result r;
	json_t *list;

	delete_out_of_band(f, "rg-prod", PROD);
	assert_true(emu_fault(f->emu,
	                "{\"method\": \"GET\", \"path\": "
	                "\"/subscriptions/*/providers/"
	                "Microsoft.ContainerService/snapshots\", \"action\": "
	                "\"status\", \"status\": 403, \"error_code\": "
	                "\"AuthorizationFailed\", \"count\": -1}") >= 0);
	harness_aksnap(f, &r, "sync", NULL);
	harness_expect_exit(&r, 1);
	harness_expect_in(r.err, "AuthorizationFailed");
	run_result_free(&r);
	list = store_list(f);
	assert_string_equal(
	    str(find_named(list, "snapshot", PROD), "state"), "active");
	json_decref(list);
	assert_int_equal(emu_counter(f->emu, "GET snapshots.get"), 0);
}

static void
test_sync_reports_snapshots_of_unconfigured_pools_as_conflicts(void **state)
{
	struct harness *f = *state;
	json_t *doc, *item, *list;
	json_t *added;

	/* Tagged as aksnap's, for a pool this configuration lacks. */
	added = emu_post(f->emu, "/_armemu/snapshots",
	    "{\"name\": \"aksnap-other-pool\", \"subscription\": \"" SUB "\", "
	    "\"resourceGroup\": \"rg-prod\", \"location\": \"northeurope\", "
	    "\"tags\": {\"aksnap-managed\": \"true\", \"aksnap-pool\": "
	    "\"other-pool\"}, \"properties\": {\"creationData\": "
	    "{\"sourceResourceId\": \"/subscriptions/" SUB "/resourceGroups/"
	    "rg-prod/providers/Microsoft.ContainerService/managedClusters/"
	    "aks-prod/agentPools/system\"}, \"kubernetesVersion\": \"1.29.9\", "
	    "\"nodeImageVersion\": "
	    "\"AKSUbuntu-2204gen2containerd-202610.14.0\","
	    " \"osType\": \"Linux\", \"osSku\": \"Ubuntu\", \"vmSize\": "
	    "\"Standard_D4s_v5\", \"enableFIPS\": true}}");
	assert_non_null(added);
	json_decref(added);
	lose_store(f);
	doc = sync_json(f, 0, NULL);
	assert_int_equal(num(doc, "adopted"), 5);
	assert_int_equal(num(doc, "conflicts"), 1);
	assert_int_equal(num(doc, "foreign"), 1);
	item = find_named(
	    json_object_get(doc, "snapshots"), "snapshot", "aksnap-other-pool");
	assert_non_null(item);
	assert_string_equal(str(item, "action"), "conflict");
	assert_non_null(strstr(harness_reasons(item),
	    "tagged for pool 'other-pool', which this configuration lacks"));
	json_decref(doc);
	list = store_list(f);
	assert_int_equal(json_array_size(list), 5);
	assert_null(find_named(list, "snapshot", "aksnap-other-pool"));
	json_decref(list);
}

static void
test_sync_revives_snapshot_azure_lists_again(void **state)
{
	struct harness *f = *state;
	json_t *doc, *list;

	sql_exec(f,
	    "UPDATE snapshots SET state = 'missing' WHERE name = '" PROD "'");
	doc = sync_json(f, 0, NULL);
	assert_int_equal(num(doc, "adopted"), 1);
	json_decref(doc);
	list = store_list(f);
	assert_string_equal(
	    str(find_named(list, "snapshot", PROD), "state"), "active");
	json_decref(list);
}

static void
test_sync_dry_run_records_nothing(void **state)
{
	struct harness *f = *state;
	struct run_result r;
	json_t *list;

	delete_out_of_band(f, "rg-prod", PROD);
	harness_aksnap(f, &r, "sync", "--dry-run", NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "missing");
	harness_expect_in(r.out, PROD);
	harness_expect_in(r.out, "dry run");
	run_result_free(&r);
	list = store_list(f);
	assert_string_equal(
	    str(find_named(list, "snapshot", PROD), "state"), "active");
	json_decref(list);
	assert_int_equal(sql_count(f,
	                     "SELECT count(*) FROM runs WHERE mode "
	                     "= 'sync'"),
	    0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_sync_changes_nothing_when_store_matches_azure, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_sync_adopts_managed_snapshots_into_a_lost_store, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_sync_marks_missing_what_azure_lost, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_sync_keeps_snapshot_when_get_cannot_confirm_loss, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_sync_keeps_snapshot_a_stale_listing_omits, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_sync_failed_listing_marks_nothing_missing, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_sync_reports_snapshots_of_unconfigured_pools_as_conflicts,
	        setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_sync_revives_snapshot_azure_lists_again, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_sync_dry_run_records_nothing, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
