/*
 * test_apply.c -- `aksnap apply` end to end against the ARM emulator
 * (issue 6): each refusal reason, an upgrade through a long-running
 * operation of several polls, the node-image path, a failed operation,
 * --create and --dry-run.
 *
 * Each test starts its own emulator with a fleet written here: a staging
 * pool (D4s_v5, Kubernetes 1.30.5, image of 2026-11-01) whose snapshot is
 * taken by `aksnap run` and promoted to "stable" with `aksnap promote`,
 * and production pools that differ from it in exactly one way each.
 * What Azure holds is read back from the emulator's state and counters.
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
#include "job/azure/arm.h"
#include "job/azure/http.h"
#include "job/azure/token.h"
#include "job/run/run.h"
#include "tests/e2e/harness.h"

#define SUB HARNESS_SUBSCRIPTION
#define IMG(d) "AKSUbuntu-2204gen2containerd-" d
#define BASELINE "aksnap-aks-staging-system-20261110T0200Z"
#define AS_OF "2026-11-12T00:00:00Z"

static const char *const FLEET_JSON =
    "{\"subscriptions\": [{\"id\": \"" SUB "\", \"resourceGroups\": ["
    "{\"name\": \"rg-staging\", \"location\": \"westeurope\", "
    "\"clusters\": [{\"name\": \"aks-staging\", \"kubernetesVersion\": "
    "\"1.30.5\", \"agentPools\": ["
    "{\"name\": \"system\", \"vmSize\": \"Standard_D4s_v5\", "
    "\"orchestratorVersion\": \"1.30.5\", \"nodeImageVersion\": \"" IMG(
        "202611.01.0") "\"}]}]},"
                       "{\"name\": \"rg-prod\", \"location\": "
                       "\"westeurope\", "
                       "\"clusters\": [{\"name\": \"aks-prod\", "
                       "\"kubernetesVersion\": "
                       "\"1.30.5\", \"agentPools\": ["
                       /* older in both: the PUT path */
                       "{\"name\": \"system\", \"vmSize\": "
                       "\"Standard_D8s_v5\", "
                       "\"orchestratorVersion\": \"1.29.9\", "
                       "\"nodeImageVersion\": \"" IMG(
                           "202610.14.0") "\"},"
                                          /* another VM family */
                                          "{\"name\": \"mem\", \"vmSize\": "
                                          "\"Standard_E4s_v5\", "
                                          "\"orchestratorVersion\": "
                                          "\"1.29.9\", "
                                          "\"nodeImageVersion\": \"" IMG(
                                              "202610.14.0") "\"},"
                                                             /* same
                                                                Kubernetes,
                                                                older image:
                                                                the
                                                                node-image
                                                                path */
                                                             "{\"name\": "
                                                             "\"same\", "
                                                             "\"vmSize\": "
                                                             "\"Standard_"
                                                             "D4s_v5\", "
                                                             "\"orchestrato"
                                                             "rVersion\": "
                                                             "\"1.30.5\", "
                                                             "\"nodeImageVe"
                                                             "rsion\": "
                                                             "\"" IMG(
                                                                 "202610."
                                                                 "21.0") "\"},"
                                                                         /* already
                                                                            newer
                                                                            than
                                                                            the
                                                                            baseline
                                                                          */
                                                                         "{"
                                                                         "\"nam"
                                                                         "e\": "
                                                                         "\"ahe"
                                                                         "ad\","
                                                                         " \"vm"
                                                                         "Size"
                                                                         "\": "
                                                                         "\"Sta"
                                                                         "ndard"
                                                                         "_D4s_"
                                                                         "v5\","
                                                                         " "
                                                                         "\"orc"
                                                                         "hestr"
                                                                         "atorV"
                                                                         "ersio"
                                                                         "n\": "
                                                                         "\"1."
                                                                         "30."
                                                                         "5\", "
                                                                         "\"nod"
                                                                         "eImag"
                                                                         "eVers"
                                                                         "ion\""
                                                                         ": "
                                                                         "\"" IMG(
                                                                             "2"
                                                                             "0"
                                                                             "2"
                                                                             "6"
                                                                             "1"
                                                                             "1"
                                                                             "."
                                                                             "0"
                                                                             "8"
                                                                             "."
                                                                             "0") "\"}"
                                                                                  "]}]}]}]}";

static const char *const POOLS_INI =
    "\n[policy:default]\nschedule = 0 2 * * *\npromote_after = never\n"
    "\n[pool:staging-system]\nresource_group = rg-staging\n"
    "cluster = aks-staging\nnodepool = system\n"
    "\n[pool:prod-system]\nresource_group = rg-prod\n"
    "cluster = aks-prod\nnodepool = system\n"
    "\n[pool:prod-mem]\nresource_group = rg-prod\n"
    "cluster = aks-prod\nnodepool = mem\n"
    "\n[pool:prod-same]\nresource_group = rg-prod\n"
    "cluster = aks-prod\nnodepool = same\n"
    "\n[pool:prod-ahead]\nresource_group = rg-prod\n"
    "cluster = aks-prod\nnodepool = ahead\n";

struct fx {
	struct harness h;
	char fleet[512];
};

static int
setup(void **state)
{
	const char *args[] = {
	    "--fleet", NULL, "--lro-polls", "3", "--retry-after", "0", NULL};
	struct fx *f = calloc(1, sizeof(*f));
	struct run_result r;
	json_t *clock;

	if (f == NULL || harness_open_dir(&f->h) != 0) {
		free(f);
		return -1;
	}
	snprintf(f->fleet, sizeof(f->fleet), "%s/fleet.json", f->h.dir);
	args[1] = f->fleet;
	if (harness_write_file(f->fleet, FLEET_JSON, 0644) ||
	    harness_start(&f->h, args, POOLS_INI) != 0) {
		harness_fini(&f->h);
		free(f);
		return -1;
	}
	*state = f;

	/* The baseline: staging's snapshot, promoted by hand. */
	/* Frozen: a slow run (valgrind) must not see createdAt > as-of. */
	clock = emu_post(f->h.emu, "/_armemu/clock",
	    "{\"now\": \"2026-11-10T03:00:00Z\", \"frozen\": true}");
	if (clock == NULL)
		return -1;
	json_decref(clock);
	harness_aksnap(
	    &f->h, &r, "run", "--as-of", "2026-11-10T03:00:00Z", NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
	harness_aksnap(
	    &f->h, &r, "promote", "--channel", "stable", BASELINE, NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
	emu_reset_counters(f->h.emu);
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	if (f != NULL)
		harness_fini(&f->h);
	free(f);
	return 0;
}

/* The emulator's pool ${name} of aks-prod (a new reference), or NULL. */
static json_t *
emu_pool(struct fx *f, const char *cluster, const char *name)
{
	json_t *st = emu_get(f->h.emu, "/_armemu/state"), *p, *found = NULL;
	size_t i;

	assert_non_null(st);
	json_array_foreach(json_object_get(st, "pools"), i, p)
	{
		if (strcmp(json_string_value(json_object_get(p, "cluster")),
		        cluster) == 0 &&
		    strcmp(json_string_value(json_object_get(p, "name")),
		        name) == 0)
			found = json_incref(p);
	}
	json_decref(st);
	return found;
}

static const char *
str(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v != NULL ? v : "";
}

/* Nothing that changes a pool reached the emulator. */
static void
assert_no_pool_writes(struct fx *f)
{
	assert_int_equal(emu_counter(f->h.emu, "PUT agentPools.put"), 0);
	assert_int_equal(
	    emu_counter(f->h.emu, "POST agentPools.upgradeNodeImageVersion"),
	    0);
}

static void
set_state_sql(struct fx *f, const char *sql)
{
	char path[600];
	sqlite3 *db = NULL;
	char *err = NULL;

	snprintf(path, sizeof(path), "%s/aksnap.db", f->h.dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
	sqlite3_close(db);
}

/* ---- success ---- */

static void
test_apply_upgrades_pool_through_long_running_operation(void **state)
{
	struct fx *f = *state;
	struct run_result r;
	json_t *p;

	harness_aksnap(&f->h, &r, "-v", "apply", "--channel", "stable",
	    "--from", "staging-system", "--to", "prod-system", "--as-of", AS_OF,
	    NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "prod-system: upgraded to " BASELINE);
	harness_expect_in(r.out, "Kubernetes 1.30.5");
	harness_expect_in(r.out, IMG("202611.01.0"));
	run_result_free(&r);

	p = emu_pool(f, "aks-prod", "system");
	assert_non_null(p);
	assert_string_equal(str(p, "nodeImageVersion"), IMG("202611.01.0"));
	assert_string_equal(str(p, "currentOrchestratorVersion"), "1.30.5");
	assert_string_equal(str(p, "vmSize"), "Standard_D8s_v5");
	harness_expect_in(str(p, "sourceResourceId"), BASELINE);
	json_decref(p);
	assert_int_equal(emu_counter(f->h.emu, "PUT agentPools.put"), 1);
	/* Three polls answered InProgress, then the one that Succeeded. */
	assert_true(emu_counter(f->h.emu, "GET operations.get") >= 3);
	assert_int_equal(
	    emu_counter(f->h.emu, "POST agentPools.upgradeNodeImageVersion"),
	    0);
}

static void
test_apply_same_kubernetes_takes_node_image_path(void **state)
{
	struct fx *f = *state;
	struct run_result r;
	json_t *p;

	harness_aksnap(&f->h, &r, "apply", "--channel", "stable", "--from",
	    "staging-system", "--to", "prod-same", "--as-of", AS_OF, NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
	p = emu_pool(f, "aks-prod", "same");
	assert_non_null(p);
	assert_string_equal(str(p, "nodeImageVersion"), IMG("202611.01.0"));
	assert_string_equal(str(p, "currentOrchestratorVersion"), "1.30.5");
	json_decref(p);
	assert_int_equal(
	    emu_counter(f->h.emu, "POST agentPools.upgradeNodeImageVersion"),
	    1);
	assert_int_equal(emu_counter(f->h.emu, "PUT agentPools.put"), 0);
	assert_true(emu_counter(f->h.emu, "GET operations.get") >= 3);
}

static void
test_apply_creates_pool_from_baseline(void **state)
{
	struct fx *f = *state;
	struct run_result r;
	json_t *p, *doc;

	harness_aksnap(&f->h, &r, "--json", "apply", "--channel", "stable",
	    "--from", "staging-system", "--to", "prod-system", "--create",
	    "np2", "--count", "2", "--as-of", AS_OF, NULL);
	harness_expect_exit(&r, 0);
	doc = json_loads(r.out, 0, NULL);
	assert_non_null(doc);
	assert_string_equal(str(doc, "state"), "done");
	assert_string_equal(str(doc, "action"), "create");
	assert_string_equal(
	    str(json_object_get(doc, "result"), "node_image_version"),
	    IMG("202611.01.0"));
	json_decref(doc);
	run_result_free(&r);
	p = emu_pool(f, "aks-prod", "np2");
	assert_non_null(p);
	assert_string_equal(str(p, "nodeImageVersion"), IMG("202611.01.0"));
	assert_string_equal(str(p, "currentOrchestratorVersion"), "1.30.5");
	assert_string_equal(str(p, "vmSize"), "Standard_D4s_v5");
	assert_int_equal(json_integer_value(json_object_get(p, "count")), 2);
	json_decref(p);

	/* Twice: the pool exists now. */
	emu_reset_counters(f->h.emu);
	harness_aksnap(&f->h, &r, "apply", "--channel", "stable", "--from",
	    "staging-system", "--to", "prod-system", "--create", "np2",
	    "--as-of", AS_OF, NULL);
	harness_expect_exit(&r, 1);
	harness_expect_in(r.err, "already exists");
	run_result_free(&r);
	assert_no_pool_writes(f);
}

static void
test_apply_dry_run_prints_request_and_sends_nothing(void **state)
{
	struct fx *f = *state;
	struct run_result r;
	json_t *doc, *req, *props;

	harness_aksnap(&f->h, &r, "apply", "--dry-run", "--channel", "stable",
	    "--from", "staging-system", "--to", "prod-system", "--as-of", AS_OF,
	    NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "PUT http://127.0.0.1:");
	harness_expect_in(
	    r.out, "/managedClusters/aks-prod/agentPools/system?");
	harness_expect_in(r.out, "If-Match: ");
	harness_expect_in(r.out,
	    "\"sourceResourceId\": \"/subscriptions/" SUB
	    "/resourceGroups/rg-staging/providers/"
	    "Microsoft.ContainerService/snapshots/" BASELINE "\"");
	harness_expect_in(r.out, "vm-family       ok");
	run_result_free(&r);

	harness_aksnap(&f->h, &r, "--json", "apply", "--dry-run", "--channel",
	    "stable", "--from", "staging-system", "--to", "prod-system",
	    "--as-of", AS_OF, NULL);
	harness_expect_exit(&r, 0);
	doc = json_loads(r.out, 0, NULL);
	assert_non_null(doc);
	req = json_object_get(doc, "request");
	assert_string_equal(str(req, "method"), "PUT");
	props = json_object_get(json_object_get(req, "body"), "properties");
	assert_string_equal(str(props, "orchestratorVersion"), "1.30.5");
	/* Read-only properties are not sent back. */
	assert_null(json_object_get(props, "provisioningState"));
	assert_null(json_object_get(props, "nodeImageVersion"));
	assert_string_equal(str(doc, "state"), "would-send");
	json_decref(doc);
	run_result_free(&r);

	assert_no_pool_writes(f);
	assert_true(emu_counter(f->h.emu, "GET agentPools.get") >= 2);
}

/* ---- refusals ---- */

static void
test_apply_refuses_different_vm_family(void **state)
{
	struct fx *f = *state;
	struct run_result r;

	harness_aksnap(&f->h, &r, "apply", "--channel", "stable", "--from",
	    "staging-system", "--to", "prod-mem", "--as-of", AS_OF, NULL);
	harness_expect_exit(&r, 1);
	harness_expect_in(r.err, "different VM family");
	harness_expect_in(r.err, "Standard_E4s_v5");
	harness_expect_in(r.err, "nothing was sent");
	run_result_free(&r);
	assert_no_pool_writes(f);
}

static void
test_apply_refuses_snapshot_not_newer(void **state)
{
	struct fx *f = *state;
	struct run_result r;

	harness_aksnap(&f->h, &r, "apply", "--channel", "stable", "--from",
	    "staging-system", "--to", "prod-ahead", "--as-of", AS_OF, NULL);
	harness_expect_exit(&r, 1);
	harness_expect_in(r.err,
	    "node image " IMG("202611.01.0") " is older than the "
	                                     "pool's " IMG("202611.08.0"));
	run_result_free(&r);

	/* A pool onto its own baseline: already there, nothing to do. */
	harness_aksnap(&f->h, &r, "apply", "--channel", "stable", "--to",
	    "staging-system", "--as-of", AS_OF, NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "staging-system: already at " BASELINE);
	harness_expect_in(r.out, "nothing sent");
	run_result_free(&r);
	assert_no_pool_writes(f);
}

/*
 * An apply run again once the pool is at the baseline is a no-op
 * success, as az and terraform answer when nothing changes: exit 0, it
 * says so, nothing is sent, the runs row says exit 0 (with --json the
 * state is "unchanged" and the result what the pool runs; --dry-run
 * would send nothing).
 */
static void
test_apply_rerun_at_baseline_is_a_no_op(void **state)
{
	struct fx *f = *state;
	struct run_result r;
	json_t *doc;

	harness_aksnap(&f->h, &r, "apply", "--channel", "stable", "--from",
	    "staging-system", "--to", "prod-system", "--as-of", AS_OF, NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "prod-system: upgraded to " BASELINE);
	run_result_free(&r);

	emu_reset_counters(f->h.emu);
	harness_aksnap(&f->h, &r, "apply", "--channel", "stable", "--from",
	    "staging-system", "--to", "prod-system", "--as-of", AS_OF, NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "prod-system: already at " BASELINE);
	harness_expect_in(r.out, "node image " IMG("202611.01.0"));
	assert_null(strstr(r.err, "refused"));
	run_result_free(&r);
	assert_no_pool_writes(f);
	harness_aksnap(&f->h, &r, "db", "status", NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "(apply, exit 0)");
	run_result_free(&r);

	harness_aksnap(&f->h, &r, "--json", "apply", "--channel", "stable",
	    "--from", "staging-system", "--to", "prod-system", "--as-of", AS_OF,
	    NULL);
	harness_expect_exit(&r, 0);
	doc = json_loads(r.out, 0, NULL);
	assert_non_null(doc);
	assert_string_equal(str(doc, "state"), "unchanged");
	assert_string_equal(
	    str(json_object_get(doc, "result"), "node_image_version"),
	    IMG("202611.01.0"));
	assert_null(json_object_get(doc, "error"));
	json_decref(doc);
	run_result_free(&r);

	harness_aksnap(&f->h, &r, "apply", "--channel", "stable", "--from",
	    "staging-system", "--to", "prod-system", "--as-of", AS_OF,
	    "--dry-run", NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(
	    r.out, "already at this baseline: nothing would be sent");
	run_result_free(&r);
	assert_no_pool_writes(f);
}

static void
test_apply_refuses_image_outside_90_day_window(void **state)
{
	struct fx *f = *state;
	struct run_result r;

	harness_aksnap(&f->h, &r, "apply", "--channel", "stable", "--from",
	    "staging-system", "--to", "prod-system", "--as-of",
	    "2027-03-01T00:00:00Z", NULL);
	harness_expect_exit(&r, 1);
	harness_expect_in(r.err, "90-day");
	harness_expect_in(r.err, "2026-11-01");
	run_result_free(&r);
	assert_no_pool_writes(f);
}

static void
test_apply_refuses_snapshot_not_active(void **state)
{
	struct fx *f = *state;
	struct run_result r;

	set_state_sql(f,
	    "UPDATE snapshots SET state = 'missing' WHERE name "
	    "= '" BASELINE "'");
	harness_aksnap(&f->h, &r, "apply", "--channel", "stable", "--from",
	    "staging-system", "--to", "prod-system", "--as-of", AS_OF, NULL);
	harness_expect_exit(&r, 1);
	harness_expect_in(
	    r.err, "snapshot is missing in the store, not active");
	run_result_free(&r);
	assert_no_pool_writes(f);
}

static void
test_apply_refuses_snapshot_gone_from_azure(void **state)
{
	struct fx *f = *state;
	struct config *cfg = NULL;
	struct http_client *http;
	struct token_provider *tp;
	struct arm *arm;
	struct arm_error e;
	struct run_result r;
	char id[512];
	int existed = 0;

	/* Deleted behind aksnap's back, through ARM. */
	assert_int_equal(config_load(f->h.config, &cfg), 0);
	http = http_client_new(NULL);
	assert_non_null(http);
	tp = run_token_provider(cfg);
	assert_non_null(tp);
	http_client_set_token_source(http, token_source_cb, tp);
	arm = arm_new(http, cfg->arm_endpoint, cfg->api_version);
	assert_non_null(arm);
	arm_snapshot_id(SUB, "rg-staging", BASELINE, id, sizeof(id));
	assert_int_equal(arm_snapshot_delete(arm, "test", id, &existed, &e), 0);
	assert_true(existed);
	arm_free(arm);
	token_provider_free(tp);
	http_client_free(http);
	config_free(cfg);

	harness_aksnap(&f->h, &r, "apply", "--channel", "stable", "--from",
	    "staging-system", "--to", "prod-system", "--as-of", AS_OF, NULL);
	harness_expect_exit(&r, 1);
	harness_expect_in(r.err, "gone from Azure");
	harness_expect_in(r.err, "aksnap sync");
	run_result_free(&r);
	assert_no_pool_writes(f);
}

static void
test_apply_refuses_channel_without_baseline(void **state)
{
	struct fx *f = *state;
	struct run_result r;

	harness_aksnap(&f->h, &r, "apply", "--channel", "canary", "--from",
	    "staging-system", "--to", "prod-system", NULL);
	harness_expect_exit(&r, 1);
	harness_expect_in(r.err, "no snapshot in channel 'canary'");
	run_result_free(&r);
	assert_int_equal(emu_counter(f->h.emu, "GET agentPools.get"), 0);
}

/* ---- failures ---- */

static void
test_apply_reports_failed_operation_with_its_error(void **state)
{
	struct fx *f = *state;
	struct run_result r;
	json_t *p;

	assert_true(emu_fault(f->h.emu,
	                "{\"method\": \"PUT\", \"path\": "
	                "\"*/agentPools/system\", \"action\": \"lro_fail\", "
	                "\"error_code\": \"ReconcileAgentPoolError\"}") >= 0);
	harness_aksnap(&f->h, &r, "apply", "--channel", "stable", "--from",
	    "staging-system", "--to", "prod-system", "--as-of", AS_OF, NULL);
	harness_expect_exit(&r, 1);
	harness_expect_in(r.err, "ReconcileAgentPoolError");
	/* The operation's own message, as the emulator words it. */
	harness_expect_in(r.err, "The operation failed");
	harness_expect_in(r.err, "apply of " BASELINE " to prod-system failed");
	run_result_free(&r);
	assert_int_equal(emu_counter(f->h.emu, "PUT agentPools.put"), 1);
	p = emu_pool(f, "aks-prod", "system");
	assert_non_null(p);
	assert_string_equal(str(p, "nodeImageVersion"), IMG("202610.14.0"));
	json_decref(p);
}

static void
test_apply_rejects_bad_usage(void **state)
{
	struct fx *f = *state;
	struct run_result r;

	harness_aksnap(&f->h, &r, "apply", "--to", "prod-system", NULL);
	harness_expect_exit(&r, 2);
	harness_expect_in(r.err, "--channel");
	run_result_free(&r);
	harness_aksnap(&f->h, &r, "apply", "--channel", "stable", NULL);
	harness_expect_exit(&r, 2);
	run_result_free(&r);
	harness_aksnap(
	    &f->h, &r, "apply", "--channel", "stable", "--to", "nosuch", NULL);
	harness_expect_exit(&r, 2);
	harness_expect_in(r.err, "unknown pool 'nosuch'");
	run_result_free(&r);
	harness_aksnap(&f->h, &r, "apply", "--channel", "stable", "--to",
	    "prod-system", "--create", "Bad-Name", NULL);
	harness_expect_exit(&r, 2);
	run_result_free(&r);
	harness_aksnap(&f->h, &r, "apply", "--channel", "stable", "--to",
	    "prod-system", "--count", "2", NULL);
	harness_expect_exit(&r, 2);
	run_result_free(&r);
	assert_int_equal(emu_counter(f->h.emu, "GET agentPools.get"), 0);
}

/* ---- verification: an operation that says Succeeded ---- */

/*
 * The operation ends "Succeeded" and changed nothing: the GET after it
 * shows the old versions, so apply exits 1 naming what was expected and
 * what the pool runs -- for an upgrade and for a pool it creates.
 */
static void
test_apply_operation_that_changed_nothing_exits_1(void **state)
{
	struct fx *f = *state;
	struct run_result r;
	json_t *p, *doc;

	assert_true(emu_fault(f->h.emu,
	                "{\"method\":\"PUT\",\"path\":\"*/agentPools/*\","
	                "\"action\":\"lro_noop\"}") > 0);
	harness_aksnap(&f->h, &r, "apply", "--channel", "stable", "--from",
	    "staging-system", "--to", "prod-system", "--as-of", AS_OF, NULL);
	harness_expect_exit(&r, 1);
	harness_expect_in(r.err, "Succeeded");
	harness_expect_in(r.err,
	    "expected Kubernetes 1.30.5 and node image " IMG(
	        "202611.01.0") ", got Kubernetes 1.29.9 and node image " IMG("2"
	                                                                     "0"
	                                                                     "2"
	                                                                     "6"
	                                                                     "1"
	                                                                     "0"
	                                                                     "."
	                                                                     "1"
	                                                                     "4"
	                                                                     "."
	                                                                     "0"));
	assert_null(strstr(r.out, "upgraded to"));
	run_result_free(&r);
	assert_int_equal(emu_counter(f->h.emu, "PUT agentPools.put"), 1);
	p = emu_pool(f, "aks-prod", "system");
	assert_non_null(p);
	assert_string_equal(str(p, "nodeImageVersion"), IMG("202610.14.0"));
	json_decref(p);

	/* --create: the pool is made, but not from the snapshot. */
	assert_true(emu_fault(f->h.emu,
	                "{\"method\":\"PUT\",\"path\":\"*/agentPools/*\","
	                "\"action\":\"lro_noop\"}") > 0);
	harness_aksnap(&f->h, &r, "--json", "apply", "--channel", "stable",
	    "--from", "staging-system", "--to", "prod-system", "--create",
	    "np3", "--as-of", AS_OF, NULL);
	harness_expect_exit(&r, 1);
	doc = json_loads(r.out, 0, NULL);
	assert_non_null(doc);
	assert_string_equal(str(doc, "state"), "failed");
	harness_expect_in(str(doc, "error"), "does not run snapshot " BASELINE);
	harness_expect_in(
	    str(doc, "error"), "expected node image " IMG("202611.01.0"));
	json_decref(doc);
	run_result_free(&r);

	/* Without the lie the same apply is done (exit 0). */
	harness_aksnap(&f->h, &r, "apply", "--channel", "stable", "--from",
	    "staging-system", "--to", "prod-system", "--as-of", AS_OF, NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
}

/* The node-image path (upgradeNodeImageVersion) is verified the same. */
static void
test_apply_node_image_operation_that_changed_nothing_exits_1(void **state)
{
	struct fx *f = *state;
	struct run_result r;

	assert_true(emu_fault(f->h.emu,
	                "{\"method\":\"POST\",\"path\":\"*/agentPools/*\","
	                "\"action\":\"lro_noop\"}") > 0);
	harness_aksnap(&f->h, &r, "apply", "--channel", "stable", "--from",
	    "staging-system", "--to", "prod-same", "--as-of", AS_OF, NULL);
	harness_expect_exit(&r, 1);
	harness_expect_in(r.err, "expected node image " IMG("202611.01.0"));
	run_result_free(&r);
	assert_int_equal(
	    emu_counter(f->h.emu, "POST agentPools.upgradeNodeImageVersion"),
	    1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_apply_upgrades_pool_through_long_running_operation, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_apply_same_kubernetes_takes_node_image_path, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_apply_creates_pool_from_baseline, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_apply_dry_run_prints_request_and_sends_nothing, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_apply_refuses_different_vm_family, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_apply_refuses_snapshot_not_newer, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_apply_rerun_at_baseline_is_a_no_op, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_apply_refuses_image_outside_90_day_window, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_apply_refuses_snapshot_not_active, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_apply_refuses_snapshot_gone_from_azure, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_apply_refuses_channel_without_baseline, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_apply_reports_failed_operation_with_its_error, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_apply_rejects_bad_usage, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_apply_operation_that_changed_nothing_exits_1, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_apply_node_image_operation_that_changed_nothing_exits_1,
	        setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
