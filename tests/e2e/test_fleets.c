/*
 * test_fleets.c -- [fleet:NAME]: pools selected by globs, tags, mode and
 * OS, observed by listing managed clusters (issue 17).  Everything runs
 * against the emulator; what aksnap sent is read from its counters:
 *
 *   - globs, a tag, mode and os_type select exactly the pools they name,
 *     and the listing is read one request a page (page size 1: one per
 *     cluster listed) plus the token, with no GET per cluster;
 *   - an explicit [pool:NAME] of a pool a fleet selects wins; config check
 *     says so on one line when names alone show it, run -v otherwise;
 *   - a cluster created later is covered by the next run; a deleted one
 *     is recorded missing, its snapshot kept, check says so;
 *   - a fleet's policy promotes as a pool's does: channel + promote_after
 *     make a one-rung ladder, and the fleet's snapshot is tagged once it
 *     has soaked;
 *   - a pattern that matches nothing is a warning; a listing answered 403
 *     names the subscription and status and the other fleets go on; a
 *     fleet over max_fleet_pools refuses with the count.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "tests/e2e/harness.h"

#define SUB1 "00000000-0000-0000-0000-000000000001"
#define SUB2 "00000000-0000-0000-0000-000000000002"
#define DAY1 "2026-03-10T03:00:00Z"
#define DAY2 "2026-03-11T03:00:00Z"

static const char fleet_json[] =
    "{\"subscriptions\": [{\"id\": \"" SUB1 "\", \"resourceGroups\": ["
    "{\"name\": \"rg-prod\", \"location\": \"westeurope\", \"clusters\": ["
    "{\"name\": \"aks-prod-1\", \"tags\": {\"env\": \"prod\", \"team\": "
    "\"a\"}, \"agentPools\": [{\"name\": \"system\"}, {\"name\": \"user\"}, "
    "{\"name\": \"win\", \"osType\": \"Windows\", \"osSku\": "
    "\"Windows2022\"}]},"
    "{\"name\": \"aks-prod-2\", \"tags\": {\"env\": \"prod\"}, "
    "\"agentPools\": [{\"name\": \"system\"}, {\"name\": \"user\"}]},"
    "{\"name\": \"aks-prod-3\", \"tags\": {\"env\": \"prod\"}, "
    "\"agentPools\": [{\"name\": \"system\"}]}]},"
    "{\"name\": \"rg-dev\", \"location\": \"westeurope\", \"clusters\": ["
    "{\"name\": \"aks-dev-1\", \"tags\": {\"env\": \"dev\"}, "
    "\"agentPools\": [{\"name\": \"system\"}, {\"name\": \"user\"}]}]}]},"
    "{\"id\": \"" SUB2 "\", \"resourceGroups\": [{\"name\": \"rg-other\", "
    "\"clusters\": [{\"name\": \"aks-other\", \"agentPools\": [{\"name\": "
    "\"system\"}]}]}]}]}";

static struct harness *
fx_new(const char *page_size, const char *ini)
{
	struct harness *f = calloc(1, sizeof(*f));
	char path[4096];
	const char *args[] = {"--fleet", path, "--page-size", page_size,
	    "--lro-polls", "0", "--retry-after", "0", NULL};

	assert_non_null(f);
	assert_int_equal(harness_open_dir(f), 0);
	snprintf(path, sizeof(path), "%s/fleet.json", f->dir);
	assert_int_equal(harness_write_file(path, fleet_json, 0644), 0);
	assert_int_equal(harness_start(f, args, ini), 0);
	return f;
}

static void
at(struct harness *f, const char *when)
{
	char body[128];

	snprintf(body, sizeof(body), "{\"now\":\"%s\",\"frozen\":true}", when);
	json_decref(emu_post(f->emu, "/_armemu/clock", body));
}

/* The pool keys of a `run --json` document, sorted, joined by ','. */
static char *
run_pools(const char *out)
{
	json_t *doc = json_loads(out, 0, NULL), *p;
	char *keys[64], buf[4096] = "";
	size_t i, n = 0;

	assert_non_null(doc);
	json_array_foreach(json_object_get(doc, "pools"), i, p)
	{
		if (n < 64)
			keys[n++] = strdup(
			    json_string_value(json_object_get(p, "pool")));
	}
	for (i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (strcmp(keys[j], keys[i]) < 0) {
				char *t = keys[i];

				keys[i] = keys[j];
				keys[j] = t;
			}
	for (i = 0; i < n; i++) {
		if (i > 0)
			strcat(buf, ",");
		strcat(buf, keys[i]);
		free(keys[i]);
	}
	json_decref(doc);
	return strdup(buf);
}

static void
test_fleet_globs_tags_mode_os_one_request_a_page(void **state)
{
	struct harness *f;
	struct run_result r;
	char *pools;

	(void)state;
	f = fx_new("1",
	    "\n[fleet:prod]\ncluster = aks-prod-*\ntag = env=prod\n"
	    "mode = User\nos_type = Linux\nschedule = @daily\n"
	    "\n[fleet:dev]\nresource_group = rg-dev\nmode = system\n");
	at(f, DAY1);
	harness_aksnap(f, &r, "run", "--json", "--as-of", DAY1, NULL);
	harness_expect_exit(&r, 0);
	pools = run_pools(r.out);
	/* User and Linux: aks-prod-1's win pool and every system pool out. */
	assert_string_equal(pools,
	    "dev-aks-dev-1-system,prod-aks-prod-1-user,prod-aks-prod-2-user");
	free(pools);
	run_result_free(&r);
	/* Page size 1: the subscription's 4 clusters are 4 pages; the exact
	 * resource group of [fleet:dev] is listed alone, 1 page.  No GET of
	 * any cluster, one token. */
	assert_int_equal(emu_counter(f->emu, "GET managedClusters.list"), 5);
	assert_int_equal(emu_counter(f->emu, "GET managedClusters.get"), 0);
	assert_int_equal(emu_counter(f->emu, "POST token.v2"), 1);
	assert_int_equal(emu_counter(f->emu, "PUT snapshots.put"), 3);
	harness_free(f);
}

/* A fleet's pools promote: its policy's ladder is resolved as a pool's
 * (it was left empty, and a fleet's snapshots were never promoted). */
static void
test_fleet_pools_promote_by_their_policy(void **state)
{
	struct harness *f;
	struct run_result r;
	char tag[128] = "";
	char *name;
	json_t *doc;

	(void)state;
	f = fx_new("10",
	    "\n[fleet:dev]\nresource_group = rg-dev\nmode = User\n"
	    "schedule = @daily\nchannel = stable\npromote_after = 1d\n");
	at(f, DAY1);
	harness_aksnap(f, &r, "run", "--as-of", DAY1, NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
	assert_int_equal(emu_counter(f->emu, "PUT snapshots.put"), 1);
	assert_int_equal(emu_counter(f->emu, "PATCH snapshots.patch"), 0);
	harness_aksnap(f, &r, "--json", "list", NULL);
	harness_expect_exit(&r, 0);
	doc = json_loads(r.out, 0, NULL);
	run_result_free(&r);
	assert_non_null(doc);
	assert_int_equal(json_array_size(json_object_get(doc, "snapshots")), 1);
	name = strdup(json_string_value(json_object_get(
	    json_array_get(json_object_get(doc, "snapshots"), 0), "snapshot")));
	json_decref(doc);

	at(f, "2026-03-12T03:00:00Z");
	harness_aksnap(f, &r, "run", "--as-of", "2026-03-12T03:00:00Z", NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
	assert_int_equal(emu_counter(f->emu, "PATCH snapshots.patch"), 1);
	assert_int_equal(
	    emu_snapshot_tag(f->emu, name, "aksnap-channel", tag, sizeof(tag)),
	    0);
	assert_string_equal(tag, "stable");
	free(name);
	harness_free(f);
}

static void
test_fleet_overlap_with_an_explicit_pool(void **state)
{
	struct harness *f;
	struct run_result r;
	char *pools;

	(void)state;
	f = fx_new("100",
	    "\n[pool:mine]\nresource_group = rg-prod\ncluster = aks-prod-2\n"
	    "nodepool = user\n"
	    "\n[fleet:all]\nresource_group = rg-prod\nnodepool = user\n"
	    "\n[fleet:tagged]\ntag = env=prod\ncluster = aks-prod-2\n");
	harness_aksnap(f, &r, "config", "check", NULL);
	harness_expect_exit(&r, 0);
	/* Names alone show [fleet:all]; [fleet:tagged] needs ARM. */
	harness_expect_in(r.err, "[fleet:all] also selects [pool:mine]");
	assert_null(strstr(r.err, "[fleet:tagged]"));
	run_result_free(&r);

	at(f, DAY1);
	harness_aksnap(f, &r, "-v", "run", "--json", "--as-of", DAY1, NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.err,
	    "[fleet:tagged] also selects rg-prod/aks-prod-2/user of "
	    "subscription " SUB1 "; [pool:mine] names it and wins");
	pools = run_pools(r.out);
	assert_string_equal(
	    pools, "all-aks-prod-1-user,mine,tagged-aks-prod-2-system");
	free(pools);
	run_result_free(&r);
	/* The explicit pool's cluster was in the listing: no GET either. */
	assert_int_equal(emu_counter(f->emu, "GET managedClusters.get"), 0);
	harness_free(f);
}

/* A bearer token the emulator issued (aksnap's, from an earlier run). */
static char *
some_token(struct harness *f)
{
	json_t *t = emu_get(f->emu, "/_armemu/tokens"), *a;
	char *tok;

	assert_non_null(t);
	a = json_array_get(json_object_get(t, "tokens"), 0);
	assert_non_null(a);
	tok = strdup(json_is_string(a)
	        ? json_string_value(a)
	        : json_string_value(json_object_get(a, "token")));
	json_decref(t);
	return tok;
}

static size_t
discard(void *p, size_t size, size_t n, void *u)
{
	(void)p;
	(void)u;
	return size * n;
}

/* PUT a new managed cluster through ARM, as a person would. */
static void
create_cluster(struct harness *f, const char *name, const char *tags)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[1024], auth[8192], body[1024];
	char *tok = some_token(f);
	long status = 0;

	assert_non_null(c);
	snprintf(url, sizeof(url),
	    "%s/subscriptions/" SUB1 "/resourceGroups/rg-prod/providers/"
	    "Microsoft.ContainerService/managedClusters/%s"
	    "?api-version=2026-08-01",
	    emu_url(f->emu), name);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
	snprintf(body, sizeof(body),
	    "{\"location\":\"westeurope\",\"tags\":%s,\"properties\":{"
	    "\"kubernetesVersion\":\"1.30.5\",\"dnsPrefix\":\"%s\","
	    "\"agentPoolProfiles\":[{\"name\":\"system\",\"mode\":\"System\","
	    "\"count\":1,\"vmSize\":\"Standard_D4s_v5\"}]}}",
	    tags, name);
	h = curl_slist_append(h, auth);
	h = curl_slist_append(h, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	assert_true(status == 200 || status == 201);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	free(tok);
}

static void
test_fleet_new_cluster_covered_deleted_cluster_missing(void **state)
{
	struct harness *f;
	struct run_result r;
	char *pools;

	(void)state;
	f = fx_new("2",
	    "\n[fleet:prod]\ncluster = aks-prod-*\ntag = env=prod\n"
	    "nodepool = system\nschedule = @daily\n");
	at(f, DAY1);
	harness_aksnap(f, &r, "run", "--json", "--as-of", DAY1, NULL);
	harness_expect_exit(&r, 0);
	pools = run_pools(r.out);
	assert_string_equal(pools,
	    "prod-aks-prod-1-system,prod-aks-prod-2-system,"
	    "prod-aks-prod-3-system");
	free(pools);
	run_result_free(&r);

	/* A cluster appears, another goes. */
	create_cluster(f, "aks-prod-9", "{\"env\":\"prod\"}");
	json_decref(emu_post(f->emu, "/_armemu/clusters/delete",
	    "{\"resourceGroup\":\"rg-prod\",\"cluster\":\"aks-prod-3\"}"));
	emu_reset_counters(f->emu);
	at(f, DAY2);
	harness_aksnap(f, &r, "run", "--json", "--as-of", DAY2, NULL);
	harness_expect_exit(&r, 0);
	pools = run_pools(r.out);
	assert_string_equal(pools,
	    "prod-aks-prod-1-system,prod-aks-prod-2-system,"
	    "prod-aks-prod-3-system,prod-aks-prod-9-system");
	free(pools);
	harness_expect_in(r.out, "aksnap-aks-prod-9-system-20260311");
	run_result_free(&r);
	/* 4 clusters at 2 a page; nothing else read, nothing deleted. */
	assert_int_equal(emu_counter(f->emu, "GET managedClusters.list"), 2);
	assert_int_equal(emu_counter(f->emu, "GET managedClusters.get"), 0);
	assert_int_equal(emu_counter(f->emu, "DELETE snapshots.delete"), 0);

	/* The new pool is shown like any other; the gone one is missing. */
	harness_aksnap(f, &r, "history", "prod-aks-prod-3-system", NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "missing");
	run_result_free(&r);
	harness_aksnap(f, &r, "list", NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "aksnap-aks-prod-3-system-20260310");
	harness_expect_in(r.out, "aksnap-aks-prod-9-system-20260311");
	run_result_free(&r);
	harness_aksnap(f, &r, "drift", NULL);
	harness_expect_in(r.out, "prod-aks-prod-9-system");
	run_result_free(&r);
	harness_aksnap(f, &r, "baseline", NULL);
	harness_expect_in(r.out, "prod-aks-prod-9-system");
	run_result_free(&r);
	harness_aksnap(f, &r, "check", "--as-of", DAY2, NULL);
	harness_expect_in(r.out,
	    "prod-aks-prod-3-system: missing since 2026-03-11T03:00:00Z: "
	    "[fleet:prod] no longer selects it");
	run_result_free(&r);
	harness_free(f);
}

static void
test_fleet_bad_input(void **state)
{
	struct harness *f;
	struct run_result r;
	char *pools;

	(void)state;
	/* Nothing matched: a warning naming the fleet, not an error. */
	f = fx_new("100",
	    "\n[fleet:none]\ncluster = nothing-*\n"
	    "\n[fleet:dev]\nresource_group = rg-dev\n"
	    "\n[fleet:other]\nsubscription = " SUB2 "\n");
	json_decref(emu_post(f->emu, "/_armemu/faults",
	    "{\"method\": \"GET\", \"path\": \"/subscriptions/" SUB2
	    "/providers/*\", \"action\": \"status\", \"status\": 403, "
	    "\"error_code\": \"AuthorizationFailed\"}"));
	at(f, DAY1);
	harness_aksnap(f, &r, "run", "--json", "--as-of", DAY1, NULL);
	/* The unreadable subscription fails the run; the others go on. */
	harness_expect_exit(&r, 1);
	harness_expect_in(r.err, "[fleet:none]");
	harness_expect_in(r.err, "selects no pool");
	harness_expect_in(r.err, "subscription " SUB2);
	harness_expect_in(r.err, "403");
	pools = run_pools(r.out);
	assert_string_equal(pools, "dev-aks-dev-1-system,dev-aks-dev-1-user");
	free(pools);
	run_result_free(&r);
	harness_free(f);

	/* Over max_fleet_pools: refused with the count. */
	f = fx_new("100",
	    "max_fleet_pools = 2\n\n[fleet:big]\n"
	    "resource_group = rg-prod\n");
	at(f, DAY1);
	harness_aksnap(f, &r, "run", "--as-of", DAY1, NULL);
	harness_expect_exit(&r, 1);
	harness_expect_in(r.err, "[fleet:big] (" /* path */);
	harness_expect_in(
	    r.err, "would select 6 pools, more than max_fleet_pools (2)");
	run_result_free(&r);
	assert_int_equal(emu_counter(f->emu, "PUT snapshots.put"), 0);
	harness_free(f);
}

static void
test_discover_table_json_and_ini_round_trip(void **state)
{
	struct harness *f;
	struct run_result r;
	char path[4096], *ini, *cfg2;
	json_t *doc;

	(void)state;
	f = fx_new("2",
	    "\n[fleet:prod]\ncluster = aks-prod-*\nmode = User\n"
	    "os_type = Linux\n");
	/* Everything the subscription holds: 4 clusters, 2 a page. */
	harness_aksnap(f, &r, "discover", NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "aks-dev-1");
	harness_expect_in(r.out, "Windows");
	run_result_free(&r);
	assert_int_equal(emu_counter(f->emu, "GET managedClusters.list"), 2);
	assert_int_equal(emu_counter(f->emu, "GET managedClusters.get"), 0);

	harness_aksnap(
	    f, &r, "--json", "discover", "--subscription", SUB2, NULL);
	harness_expect_exit(&r, 0);
	doc = json_loads(r.out, 0, NULL);
	assert_non_null(doc);
	assert_int_equal(json_array_size(doc), 1);
	assert_string_equal(json_string_value(json_object_get(
	                        json_array_get(doc, 0), "cluster")),
	    "aks-other");
	json_decref(doc);
	run_result_free(&r);

	/* What the fleet selects, as [pool:*] sections config check takes. */
	harness_aksnap(
	    f, &r, "discover", "--fleet", "prod", "--format", "ini", NULL);
	harness_expect_exit(&r, 0);
	assert_null(strstr(r.out, "[pool:aks-prod-1-win]"));
	assert_null(strstr(r.out, "system]"));
	harness_expect_in(r.out, "[pool:aks-prod-1-user]");
	harness_expect_in(r.out, "[pool:aks-prod-2-user]");
	ini = strdup(r.out);
	run_result_free(&r);
	snprintf(path, sizeof(path), "%s/rt", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	cfg2 = harness_config(path, f->emu, ini);
	assert_non_null(cfg2);
	harness_aksnapl(&r, cfg2, "--json", "config", "check", NULL);
	harness_expect_exit(&r, 0);
	doc = json_loads(r.out, 0, NULL);
	assert_non_null(doc);
	assert_int_equal(json_array_size(json_object_get(doc, "pools")), 2);
	json_decref(doc);
	run_result_free(&r);
	free(cfg2);
	free(ini);
	harness_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fleet_globs_tags_mode_os_one_request_a_page),
	    cmocka_unit_test(test_fleet_pools_promote_by_their_policy),
	    cmocka_unit_test(test_fleet_overlap_with_an_explicit_pool),
	    cmocka_unit_test(
	        test_fleet_new_cluster_covered_deleted_cluster_missing),
	    cmocka_unit_test(test_fleet_bad_input),
	    cmocka_unit_test(test_discover_table_json_and_ini_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
