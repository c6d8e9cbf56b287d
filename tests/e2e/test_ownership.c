/*
 * test_ownership.c -- aksnap acts only on snapshots it can prove are its
 * own (DESIGN.md section 6, Ownership; issue 11), end to end against the
 * emulator:
 *
 *   - a snapshot tagged aksnap-managed for a configured pool, taken from
 *     that pool, but under a name that is not the pool's deterministic one
 *     is a conflict: reported by sync (text and JSON), recorded, warned
 *     about by check, never adopted, and never deleted by retention over
 *     many runs;
 *   - a renamed pool key neither takes over the old key's snapshots (no
 *     PUT of their names, their tags unchanged) nor orphans them (still in
 *     the store under the old key, still in Azure);
 *   - two stores over one subscription (each its own name_prefix) never
 *     adopt, re-tag or delete each other's snapshots: each reports the
 *     other's as conflicts;
 *   - a snapshot of this store that Azure comes to tag for another pool
 *     key (re-tagged by another store) goes to state conflict and is
 *     never deleted or promoted again.
 *
 * The fleet is the demo's; the clock is frozen at each run's --as-of.
 */
#include <jansson.h>
#include <setjmp.h>
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
#define STAGING "aksnap-aks-staging-system-20261110T0200Z"
#define PROD "aksnap-aks-prod-system-20261110T0200Z"
#define POOL_ID(rg, cluster, pool)                                             \
	"/subscriptions/" SUB "/resourceGroups/" rg                            \
	"/providers/Microsoft.ContainerService/managedClusters/" cluster       \
	"/agentPools/" pool

/* Retention as tight as it gets: every run keeps only the newest. */
#define TIGHT_POLICY                                                           \
	"\n[policy:default]\nschedule = 0 2 * * *\npromote_after = never\n"    \
	"snapshot_when = always\nkeep_last = 1\nkeep_daily = 0\n"              \
	"keep_weekly = 0\nkeep_monthly = 0\nkeep_yearly = 0\n"                 \
	"keep_within = 0s\nmin_keep = 1\nkeep_promoted = 0\n"

static const char *const POOLS_INI =
    TIGHT_POLICY "\n[pool:staging-system]\nresource_group = rg-staging\n"
                 "cluster = aks-staging\nnodepool = system\n"
                 "\n[pool:prod-system]\nresource_group = rg-prod\n"
                 "cluster = aks-prod\nnodepool = system\n";

static void
set_clock(struct harness *f, const char *when)
{
	char body[128];
	json_t *j;

	snprintf(
	    body, sizeof(body), "{\"now\": \"%s\", \"frozen\": true}", when);
	j = emu_post(f->emu, "/_armemu/clock", body);
	assert_non_null(j);
	json_decref(j);
}

/* `run --as-of ${when}` with the emulator's clock there too. */
static void
run_at(struct harness *f, const char *config, const char *when, int want)
{
	struct run_result r;

	set_clock(f, when);
	harness_aksnapl(&r, config, "run", "--as-of", when, NULL);
	harness_expect_exit(&r, want);
	run_result_free(&r);
}

static int
setup(void **state)
{
	static const char *const args[] = {
	    "--fleet", FLEET, "--retry-after", "0", NULL};
	struct harness *f = harness_new(args, POOLS_INI);

	if (f == NULL)
		return -1;
	*state = f;
	run_at(f, f->config, AS_OF, 0);
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

static long
num(json_t *o, const char *key)
{
	return (long)json_integer_value(json_object_get(o, key));
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

/* `aksnap --json sync` with ${config}, parsed. */
static json_t *
sync_json(const char *config, int want)
{
	struct run_result r;
	json_t *doc;

	harness_aksnapl(&r, config, "--json", "sync", NULL);
	harness_expect_exit(&r, want);
	doc = json_loads(r.out, 0, NULL);
	if (doc == NULL)
		fail_msg("not JSON:\n%s\nstderr:\n%s", r.out, r.err);
	run_result_free(&r);
	return doc;
}

/* The store's snapshots (`aksnap --json list`). */
static json_t *
store_list(const char *config)
{
	struct run_result r;
	json_t *doc, *arr;

	harness_aksnapl(&r, config, "--json", "list", NULL);
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

/* The emulator's snapshot ${name} (a new reference), or NULL. */
static json_t *
azure_snapshot(struct harness *f, const char *name)
{
	json_t *st = emu_get(f->emu, "/_armemu/state"), *s;

	assert_non_null(st);
	s = find_named(json_object_get(st, "snapshots"), "name", name);
	if (s != NULL)
		json_incref(s);
	json_decref(st);
	return s;
}

static const char *
tag(json_t *snap, const char *key)
{
	return str(json_object_get(snap, "tags"), key);
}

/* Add snapshot ${name} in rg-prod, tagged as aksnap's, out of band. */
static void
add_tagged(struct harness *f, const char *name, const char *pool_tag,
    const char *slot_tag, const char *source)
{
	char *body = NULL;
	json_t *j;

	assert_true(asprintf(&body,
	                "{\"name\": \"%s\", \"subscription\": \"" SUB "\", "
	                "\"resourceGroup\": \"rg-prod\", \"location\": "
	                "\"northeurope\", \"tags\": {\"aksnap-managed\": "
	                "\"true\", \"aksnap-pool\": \"%s\", \"aksnap-slot\": "
	                "\"%s\"}, \"properties\": {\"creationData\": "
	                "{\"sourceResourceId\": \"%s\"}, "
	                "\"kubernetesVersion\": \"1.29.9\", "
	                "\"nodeImageVersion\": "
	                "\"AKSUbuntu-2204gen2containerd-202610.14.0\", "
	                "\"osType\": \"Linux\", \"osSku\": \"Ubuntu\", "
	                "\"vmSize\": \"Standard_D4s_v5\", \"enableFIPS\": "
	                "true}}",
	                name, pool_tag, slot_tag, source) > 0);
	j = emu_post(f->emu, "/_armemu/snapshots", body);
	assert_non_null(j);
	json_decref(j);
	free(body);
}

static void
test_foreign_named_snapshot_is_a_conflict_never_adopted_or_deleted(void **state)
{
	static const char *const days[] = {"2026-11-11T03:00:00Z",
	    "2026-11-12T03:00:00Z", "2026-11-13T03:00:00Z",
	    "2026-11-14T03:00:00Z", "2026-11-15T03:00:00Z"};
	struct harness *f = *state;
	struct run_result r;
	json_t *doc, *item, *list, *a;

	/* Everything right but the name: made by hand, or by another tool. */
	add_tagged(f, "golden-by-hand", "prod-system", "2026-11-09T02:00:00Z",
	    POOL_ID("rg-prod", "aks-prod", "system"));

	harness_aksnap(f, &r, "sync", NULL);
	harness_expect_exit(&r, 0);
	/* One line naming the snapshot and why. */
	harness_expect_in(r.out, "conflict");
	harness_expect_in(r.out, "golden-by-hand");
	harness_expect_in(r.out,
	    "named golden-by-hand, not "
	    "aksnap-aks-prod-system-20261109T0200Z");
	run_result_free(&r);
	doc = sync_json(f->config, 0);
	assert_int_equal(num(doc, "adopted"), 0);
	assert_int_equal(num(doc, "conflicts"), 1);
	item = find_named(
	    json_object_get(doc, "snapshots"), "snapshot", "golden-by-hand");
	assert_non_null(item);
	assert_string_equal(str(item, "action"), "conflict");
	assert_string_equal(str(item, "pool"), "prod-system");
	json_decref(doc);

	/* check warns, from the store alone. */
	emu_reset_counters(f->emu);
	harness_aksnap(f, &r, "check", "--as-of", AS_OF, NULL);
	harness_expect_exit(&r, 1);
	harness_expect_in(r.out, "WARNING");
	harness_expect_in(r.out, "conflict: snapshot golden-by-hand");
	run_result_free(&r);
	assert_int_equal(emu_counter(f->emu, "GET snapshots.list"), 0);

	/* Five days of keep_last = 1: it is never touched. */
	for (size_t i = 0; i < sizeof(days) / sizeof(*days); i++)
		run_at(f, f->config, days[i], 0);
	list = store_list(f->config);
	assert_null(find_named(list, "snapshot", "golden-by-hand"));
	json_decref(list);
	a = azure_snapshot(f, "golden-by-hand");
	assert_non_null(a);
	assert_string_equal(tag(a, "aksnap-pool"), "prod-system");
	json_decref(a);
	/* Retention did run: our own older snapshots went. */
	assert_null(azure_snapshot(f, PROD));

	/* Listed no more: the next sync forgets the conflict. */
	assert_true(emu_fault(f->emu,
	                "{\"method\": \"GET\", \"path\": \"*/snapshots\", "
	                "\"action\": \"omit\", \"name\": \"golden-*\"}") >= 0);
	doc = sync_json(f->config, 0);
	assert_int_equal(num(doc, "conflicts"), 0);
	json_decref(doc);
	harness_aksnap(f, &r, "check", "--as-of", days[4], NULL);
	assert_null(strstr(r.out, "golden-by-hand"));
	run_result_free(&r);
}

static void
test_renamed_pool_key_takes_over_nothing_and_orphans_nothing(void **state)
{
	static const char *const renamed =
	    TIGHT_POLICY "\n[pool:staging-sys]\nresource_group = rg-staging\n"
	                 "cluster = aks-staging\nnodepool = system\n"
	                 "\n[pool:prod-system]\nresource_group = rg-prod\n"
	                 "cluster = aks-prod\nnodepool = system\n";
	struct harness *f = *state;
	struct run_result r;
	json_t *doc, *list, *a, *s;
	char *config;

	/* [pool:staging-system] becomes [pool:staging-sys], same pool. */
	config = harness_config(f->dir, f->emu, renamed);
	assert_non_null(config);

	/* sync: the old key's snapshot is this store's, left as it is. */
	doc = sync_json(config, 0);
	assert_int_equal(num(doc, "adopted"), 0);
	assert_int_equal(num(doc, "conflicts"), 0);
	json_decref(doc);

	/* The same slot again: its name is the old key's snapshot's. */
	emu_reset_counters(f->emu);
	set_clock(f, AS_OF);
	harness_aksnapl(
	    &r, config, "run", "--as-of", AS_OF, "--pool", "staging-sys", NULL);
	harness_expect_exit(&r, 1);
	harness_expect_in(r.err, STAGING);
	harness_expect_in(r.err, "pool staging-system of this store");
	harness_expect_in(r.err, "not taken over");
	run_result_free(&r);
	assert_int_equal(emu_counter(f->emu, "PUT snapshots.put"), 0);
	assert_int_equal(emu_counter(f->emu, "PATCH snapshots.patch"), 0);
	a = azure_snapshot(f, STAGING);
	assert_non_null(a);
	assert_string_equal(tag(a, "aksnap-pool"), "staging-system");
	json_decref(a);

	/* Later slots: the new key takes its own; retention (keep_last 1)
	 * never reaches the old key's. */
	run_at(f, config, "2026-11-11T03:00:00Z", 0);
	run_at(f, config, "2026-11-12T03:00:00Z", 0);
	run_at(f, config, "2026-11-13T03:00:00Z", 0);
	a = azure_snapshot(f, STAGING);
	assert_non_null(a);
	assert_string_equal(tag(a, "aksnap-pool"), "staging-system");
	json_decref(a);
	a = azure_snapshot(f, "aksnap-aks-staging-system-20261113T0200Z");
	assert_non_null(a);
	assert_string_equal(tag(a, "aksnap-pool"), "staging-sys");
	json_decref(a);
	/* Not orphaned: still in the store, active, under the old key. */
	list = store_list(config);
	s = find_named(list, "snapshot", STAGING);
	assert_non_null(s);
	assert_string_equal(str(s, "pool"), "staging-system");
	assert_string_equal(str(s, "state"), "active");
	json_decref(list);

	/* A store lost with the rename: the old key's tag is a conflict. */
	{
		char path[600];

		snprintf(path, sizeof(path), "%s/aksnap.db", f->dir);
		assert_int_equal(unlink(path), 0);
	}
	doc = sync_json(config, 0);
	assert_non_null(
	    find_named(json_object_get(doc, "snapshots"), "snapshot", STAGING));
	assert_string_equal(str(find_named(json_object_get(doc, "snapshots"),
	                            "snapshot", STAGING),
	                        "action"),
	    "conflict");
	json_decref(doc);
	a = azure_snapshot(f, STAGING);
	assert_string_equal(tag(a, "aksnap-pool"), "staging-system");
	json_decref(a);
	free(config);
}

static void
test_two_stores_over_one_subscription_never_touch_each_other(void **state)
{
	/* Store B: its own prefix; its key staging-system names another
	 * pool (user), its prod-system the same pool as store A's. */
	static const char *const b_ini =
	    "name_prefix = shardb\n" TIGHT_POLICY
	    "\n[pool:staging-system]\nresource_group = rg-staging\n"
	    "cluster = aks-staging\nnodepool = user\n"
	    "\n[pool:prod-system]\nresource_group = rg-prod\n"
	    "cluster = aks-prod\nnodepool = system\n";
	struct harness *f = *state;
	char *bdir = harness_tmpdir(), *b;
	struct run_result r;
	json_t *doc, *item, *a;

	b = harness_config(bdir, f->emu, b_ini);
	assert_non_null(b);

	/* B first syncs: A's two snapshots are conflicts, not B's. */
	doc = sync_json(b, 0);
	assert_int_equal(num(doc, "adopted"), 0);
	assert_int_equal(num(doc, "conflicts"), 2);
	item = find_named(json_object_get(doc, "snapshots"), "snapshot", PROD);
	assert_non_null(item);
	assert_non_null(strstr(harness_reasons(item),
	    "not shardb-aks-prod-system-20261110T0200Z"));
	item =
	    find_named(json_object_get(doc, "snapshots"), "snapshot", STAGING);
	assert_non_null(item);
	assert_non_null(strstr(harness_reasons(item), "not from that pool"));
	json_decref(doc);

	/* Both run for days with keep_last = 1, each syncing between. */
	run_at(f, b, AS_OF, 0);
	harness_aksnapl(&r, b, "check", "--as-of", AS_OF, NULL);
	harness_expect_exit(&r, 1);
	harness_expect_in(r.out, "conflict: snapshot " PROD);
	harness_expect_in(r.out, "conflict: snapshot " STAGING);
	run_result_free(&r);
	run_at(f, b, "2026-11-11T03:00:00Z", 0);
	doc = sync_json(f->config, 0);
	assert_int_equal(num(doc, "adopted"), 0);
	assert_int_equal(num(doc, "conflicts"), 2);
	json_decref(doc);
	run_at(f, f->config, "2026-11-11T03:00:00Z", 0);
	run_at(f, f->config, "2026-11-12T03:00:00Z", 0);
	run_at(f, b, "2026-11-12T03:00:00Z", 0);

	/* Each store's newest is there with its own tags; A's deletions
	 * were A's snapshots, B's were B's. */
	a = azure_snapshot(f, "shardb-aks-prod-system-20261112T0200Z");
	assert_non_null(a);
	json_decref(a);
	a = azure_snapshot(f, "aksnap-aks-prod-system-20261112T0200Z");
	assert_non_null(a);
	assert_string_equal(tag(a, "aksnap-pool"), "prod-system");
	json_decref(a);
	a = azure_snapshot(f, "shardb-aks-staging-user-20261112T0200Z");
	assert_non_null(a);
	assert_string_equal(tag(a, "aksnap-pool"), "staging-system");
	json_decref(a);
	a = azure_snapshot(f, "aksnap-aks-staging-system-20261112T0200Z");
	assert_non_null(a);
	assert_string_equal(tag(a, "aksnap-pool"), "staging-system");
	json_decref(a);
	/* Neither store holds a row of the other's. */
	{
		json_t *la = store_list(f->config), *lb = store_list(b);
		size_t i;
		json_t *s;

		json_array_foreach(la, i, s) assert_int_equal(
		    strncmp(str(s, "snapshot"), "aksnap-", 7), 0);
		json_array_foreach(lb, i, s) assert_int_equal(
		    strncmp(str(s, "snapshot"), "shardb-", 7), 0);
		json_decref(la);
		json_decref(lb);
	}
	harness_rmrf(bdir);
	free(bdir);
	free(b);
}

/* Set tag ${key} of snapshot ${name} (rg-prod) through ARM, out of band. */
static void
retag_out_of_band(
    struct harness *f, const char *name, const char *key, const char *value)
{
	struct config *cfg = NULL;
	struct http_client *http;
	struct token_provider *tp;
	struct arm *arm;
	struct arm_error e;
	char id[512];

	assert_int_equal(config_load(f->config, &cfg), 0);
	http = http_client_new(NULL);
	assert_non_null(http);
	tp = run_token_provider(cfg);
	assert_non_null(tp);
	http_client_set_token_source(http, token_source_cb, tp);
	arm = arm_new(http, cfg->arm_endpoint, cfg->api_version);
	assert_non_null(arm);
	arm_snapshot_id(SUB, "rg-prod", name, id, sizeof(id));
	assert_int_equal(
	    arm_snapshot_set_tag(arm, "test", id, key, value, NULL, &e), 0);
	arm_free(arm);
	token_provider_free(tp);
	http_client_free(http);
	config_free(cfg);
}

static void
test_own_snapshot_retagged_by_another_becomes_a_conflict(void **state)
{
	struct harness *f = *state;
	struct run_result r;
	json_t *doc, *item, *list, *a;

	retag_out_of_band(f, PROD, "aksnap-pool", "shard-b-prod");
	doc = sync_json(f->config, 0);
	assert_int_equal(num(doc, "conflicts"), 1);
	item = find_named(json_object_get(doc, "snapshots"), "snapshot", PROD);
	assert_non_null(item);
	assert_string_equal(str(item, "action"), "conflict");
	assert_non_null(strstr(harness_reasons(item),
	    "Azure tags it for pool 'shard-b-prod' now"));
	json_decref(doc);
	list = store_list(f->config);
	assert_string_equal(
	    str(find_named(list, "snapshot", PROD), "state"), "conflict");
	json_decref(list);
	/* The pool's only snapshot is no longer its own: CRITICAL too. */
	harness_aksnap(f, &r, "check", "--as-of", AS_OF, NULL);
	harness_expect_exit(&r, 2);
	harness_expect_in(
	    r.out, "WARNING: prod-system: conflict: snapshot " PROD);
	run_result_free(&r);

	/* keep_last = 1 for days: never deleted, never re-tagged. */
	run_at(f, f->config, "2026-11-11T03:00:00Z", 0);
	run_at(f, f->config, "2026-11-12T03:00:00Z", 0);
	a = azure_snapshot(f, PROD);
	assert_non_null(a);
	assert_string_equal(tag(a, "aksnap-pool"), "shard-b-prod");
	json_decref(a);
	/* The pool goes on with its own snapshots meanwhile. */
	assert_null(azure_snapshot(f, "aksnap-aks-prod-system-20261111T0200Z"));
	a = azure_snapshot(f, "aksnap-aks-prod-system-20261112T0200Z");
	assert_non_null(a);
	json_decref(a);

	/* Another sync while the tag still names the other: still conflict. */
	doc = sync_json(f->config, 0);
	assert_int_equal(num(doc, "adopted"), 0);
	json_decref(doc);
	list = store_list(f->config);
	assert_string_equal(
	    str(find_named(list, "snapshot", PROD), "state"), "conflict");
	json_decref(list);

	/* The tag put back: the row is this pool's again. */
	retag_out_of_band(f, PROD, "aksnap-pool", "prod-system");
	doc = sync_json(f->config, 0);
	assert_int_equal(num(doc, "adopted"), 1);
	assert_int_equal(num(doc, "conflicts"), 0);
	json_decref(doc);
	list = store_list(f->config);
	assert_string_equal(
	    str(find_named(list, "snapshot", PROD), "state"), "active");
	json_decref(list);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_foreign_named_snapshot_is_a_conflict_never_adopted_or_deleted,
	        setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_renamed_pool_key_takes_over_nothing_and_orphans_nothing,
	        setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_two_stores_over_one_subscription_never_touch_each_other,
	        setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_own_snapshot_retagged_by_another_becomes_a_conflict, setup,
	        teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
