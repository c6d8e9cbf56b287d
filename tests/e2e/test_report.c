/*
 * test_report.c -- the reporting commands end to end against the ARM
 * emulator (issue 6): pin/unpin, explain, baseline, drift and check.
 *
 * Each test starts its own emulator with the demo fleet (3 clusters, 5
 * pools), writes a config pointing at it, makes history with `aksnap run
 * --as-of` (the emulator's clock set to the same time), and reads it back
 * through the real binary.  Baselines are made with `aksnap promote`
 * (the policy says promote_after = never, so runs never promote on their
 * own and each test decides exactly what the channel holds).
 */
#include <fcntl.h>
#include <jansson.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/e2e/harness.h"

#define FLEET "tests/armemu/fleet-demo.json"
#define T0 "2026-11-10T03:00:00Z"
#define SNAP_SS "aksnap-aks-staging-system-20261110T0200Z"
#define SNAP_SU "aksnap-aks-staging-user-20261110T0200Z"
#define ARM_SS                                                                 \
	"/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/"  \
	"rg-staging/providers/Microsoft.ContainerService/snapshots/" SNAP_SS
#define IMAGE_0101 "AKSUbuntu-2204gen2containerd-202611.01.0"

#define POOLS                                                                  \
	"\n[pool:staging-system]\nresource_group = rg-staging\n"               \
	"cluster = aks-staging\nnodepool = system\n"                           \
	"\n[pool:staging-user]\nresource_group = rg-staging\n"                 \
	"cluster = aks-staging\nnodepool = user\n"                             \
	"\n[pool:prod-system]\nresource_group = rg-prod\n"                     \
	"cluster = aks-prod\nnodepool = system\n"                              \
	"\n[pool:prod-batch]\nresource_group = rg-prod\n"                      \
	"cluster = aks-prod\nnodepool = batch\n"                               \
	"\n[pool:edge-system]\nresource_group = rg-prod\n"                     \
	"cluster = aks-edge\nnodepool = system\n"

#define POLICY                                                                 \
	"\n[policy:default]\nschedule = 0 2 * * *\n"                           \
	"snapshot_when = changed\npromote_after = never\n"

static const char *const DEFAULT_INI = POLICY POOLS;

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
	return setup_with(state, DEFAULT_INI);
}

/* Baselines older than an hour, and images older than 5 days, warn. */
static int
setup_young_warnings(void **state)
{
	return setup_with(state, POLICY "warn_baseline_age = 1h\n" POOLS);
}

static int
setup_image_warning(void **state)
{
	return setup_with(
	    state, POLICY "warn_baseline_age = 0\nwarn_image_age = 5d\n" POOLS);
}

static int
teardown(void **state)
{
	harness_free(*state);
	return 0;
}

/*
 * Set the emulator's clock and run `aksnap run --as-of`; its exit code
 * (its stderr shown when it is not ${expect}).
 */
static int
run_expect(struct harness *f, const char *as_of, int expect)
{
	struct run_result r;
	char body[128];
	json_t *clock;
	int code;

	/* Frozen: a slow run (valgrind) must not see ARM's createdAt drift
	 * past --as-of. */
	snprintf(body, sizeof(body), "{\"now\":\"%s\",\"frozen\":true}", as_of);
	clock = emu_post(f->emu, "/_armemu/clock", body);
	assert_non_null(clock);
	json_decref(clock);
	harness_aksnap(f, &r, "run", "--as-of", as_of, NULL);
	code = r.exit_code;
	if (code != expect)
		fprintf(stderr, "aksnap run --as-of %s exited %d:\n%s", as_of,
		    code, r.err);
	run_result_free(&r);
	return code;
}

static int
run_at(struct harness *f, const char *as_of)
{
	return run_expect(f, as_of, 0);
}

/* Run a command that must succeed with --json; its parsed output. */
static json_t *
aksnap_json(
    struct harness *f, const char *cmd, const char *arg1, const char *arg2)
{
	struct run_result r;
	json_error_t e;
	json_t *doc;

	harness_aksnap(f, &r, "--json", cmd, arg1, arg2, NULL);
	if (r.exit_code != 0)
		fprintf(stderr, "aksnap --json %s exited %d:\n%s", cmd,
		    r.exit_code, r.err);
	assert_int_equal(r.exit_code, 0);
	doc = json_loads(r.out, 0, &e);
	if (doc == NULL)
		fprintf(stderr, "not JSON (%s):\n%s", e.text, r.out);
	assert_non_null(doc);
	run_result_free(&r);
	return doc;
}

static json_t *
find_by(json_t *arr, const char *key, const char *value)
{
	size_t i;
	json_t *o;

	json_array_foreach(arr, i, o)
	{
		const char *v = json_string_value(json_object_get(o, key));

		if (v != NULL && strcmp(v, value) == 0)
			return o;
	}
	return NULL;
}

static const char *
str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* `list --json`: is this snapshot pinned? */
static int
listed_pinned(struct harness *f, const char *name)
{
	json_t *doc = aksnap_json(f, "list", NULL, NULL);
	json_t *s =
	    find_by(json_object_get(doc, "snapshots"), "snapshot", name);
	int pinned;

	assert_non_null(s);
	pinned = json_is_true(json_object_get(s, "pinned"));
	json_decref(doc);
	return pinned;
}

/* How many decisions of ${action} `explain --json` shows for ${name}. */
static int
explained(struct harness *f, const char *name, const char *action,
    const char *reasons_part)
{
	json_t *doc = aksnap_json(f, "explain", name, NULL);
	json_t *arr = json_object_get(doc, "decisions"), *d;
	size_t i;
	int n = 0;

	assert_non_null(arr);
	json_array_foreach(arr, i, d)
	{
		if (strcmp(str(d, "action"), action) != 0)
			continue;
		if (reasons_part != NULL)
			assert_non_null(
			    strstr(harness_reasons(d), reasons_part));
		n++;
	}
	json_decref(doc);
	return n;
}

static long long
sql_count(struct harness *f, const char *query)
{
	char path[4096];
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	long long n;

	snprintf(path, sizeof(path), "%s/aksnap.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(db, query, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

static void
promote(struct harness *f, const char *name)
{
	struct run_result r;

	harness_aksnap(f, &r, "promote", name, NULL);
	if (r.exit_code != 0)
		fprintf(stderr, "aksnap promote %s exited %d:\n%s", name,
		    r.exit_code, r.err);
	assert_int_equal(r.exit_code, 0);
	run_result_free(&r);
}

/* ---- pin / unpin ---- */

static void
test_pin_unpin_round_trip_in_list_and_explain(void **state)
{
	struct harness *f = *state;
	struct run_result r;

	assert_int_equal(run_at(f, T0), 0);
	assert_false(listed_pinned(f, SNAP_SS));

	harness_aksnap(f, &r, "pin", SNAP_SS, NULL);
	assert_int_equal(r.exit_code, 0);
	assert_non_null(strstr(r.out, "pinned " SNAP_SS));
	run_result_free(&r);
	assert_true(listed_pinned(f, SNAP_SS));
	assert_false(listed_pinned(f, SNAP_SU));
	assert_int_equal(explained(f, SNAP_SS, "pin", "by hand"), 1);

	/* Pinning again changes nothing and records nothing (an option
	 * before the operand: the operand is still the snapshot). */
	harness_aksnap(f, &r, "pin", "-v", ARM_SS, NULL);
	assert_int_equal(r.exit_code, 0);
	run_result_free(&r);
	assert_int_equal(explained(f, SNAP_SS, "pin", NULL), 1);

	harness_aksnap(f, &r, "unpin", SNAP_SS, NULL);
	assert_int_equal(r.exit_code, 0);
	run_result_free(&r);
	assert_false(listed_pinned(f, SNAP_SS));
	assert_int_equal(explained(f, SNAP_SS, "unpin", "retention"), 1);

	/* Each change had a runs row of its own mode, finished with 0. */
	assert_int_equal(sql_count(f,
	                     "SELECT count(*) FROM runs WHERE mode "
	                     "IN ('pin', 'unpin') AND exit_code = 0"),
	    2);
	/* The decision carries the pool's policy fingerprint. */
	assert_int_equal(sql_count(f,
	                     "SELECT count(*) FROM decisions WHERE "
	                     "action = 'pin' AND fingerprint <> ''"),
	    1);
}

static void
test_pin_refuses_unknown_snapshot_and_bad_usage(void **state)
{
	struct harness *f = *state;
	struct run_result r;

	assert_int_equal(run_at(f, T0), 0);
	harness_aksnap(f, &r, "pin", "no-such-snapshot", NULL);
	assert_int_equal(r.exit_code, 2);
	assert_non_null(strstr(r.err, "no-such-snapshot"));
	run_result_free(&r);
	harness_aksnap(f, &r, "unpin", NULL);
	assert_int_equal(r.exit_code, 2);
	run_result_free(&r);
	harness_aksnap(f, &r, "explain", "no-such-snapshot", NULL);
	assert_int_equal(r.exit_code, 2);
	run_result_free(&r);
	assert_int_equal(sql_count(f,
	                     "SELECT count(*) FROM runs WHERE mode "
	                     "= 'pin'"),
	    0);
}

static void
test_pin_is_temporary_failure_while_run_lock_held(void **state)
{
	struct harness *f = *state;
	struct run_result r;
	char path[4096];
	int fd;

	assert_int_equal(run_at(f, T0), 0);
	/* This process holds the run lock, as a run in progress would. */
	snprintf(path, sizeof(path), "%s/aksnap.db.lock", f->dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	harness_aksnap(f, &r, "pin", SNAP_SS, NULL);
	assert_int_equal(r.exit_code, 75);
	run_result_free(&r);
	close(fd);
	assert_false(listed_pinned(f, SNAP_SS));
	harness_aksnap(f, &r, "pin", SNAP_SS, NULL);
	assert_int_equal(r.exit_code, 0);
	run_result_free(&r);
	assert_true(listed_pinned(f, SNAP_SS));
}

/* ---- explain ---- */

static void
test_explain_shows_create_and_skip_with_reasons(void **state)
{
	struct harness *f = *state;
	struct run_result r;
	json_t *doc, *snap, *rel;

	assert_int_equal(run_at(f, T0), 0);
	/* The next slot, nothing changed: a skip that belongs to it. */
	assert_int_equal(run_at(f, "2026-11-11T03:00:00Z"), 0);

	assert_int_equal(
	    explained(f, SNAP_SS, "create", "first snapshot of the pool"), 1);
	assert_int_equal(
	    explained(f, SNAP_SS, "skip", "unchanged since " SNAP_SS), 1);

	/* The header is the snapshot's current state. */
	doc = aksnap_json(f, "explain", SNAP_SS, NULL);
	snap = json_object_get(doc, "snapshot");
	assert_string_equal(str(snap, "snapshot"), SNAP_SS);
	assert_string_equal(str(snap, "pool"), "staging-system");
	assert_string_equal(str(snap, "state"), "active");
	assert_string_equal(str(snap, "node_image_version"), IMAGE_0101);
	assert_string_equal(str(snap, "kubernetes_version"), "1.30.5");
	assert_true(json_is_null(json_object_get(snap, "channel")));
	assert_false(json_is_true(json_object_get(snap, "pinned")));
	assert_string_equal(
	    str(json_array_get(json_object_get(doc, "decisions"), 0), "mode"),
	    "run");
	json_decref(doc);

	/* A release makes a new snapshot; later skips belong to that one. */
	rel = emu_post(f->emu, "/_armemu/release",
	    "{\"cluster\":\"aks-staging\",\"pool\":\"system\"}");
	assert_non_null(rel);
	json_decref(rel);
	assert_int_equal(run_at(f, "2026-11-12T03:00:00Z"), 0);
	assert_int_equal(run_at(f, "2026-11-13T03:00:00Z"), 0);
	assert_int_equal(explained(f, SNAP_SS, "skip", NULL), 1);
	assert_int_equal(
	    explained(
	        f, "aksnap-aks-staging-system-20261112T0200Z", "skip", NULL),
	    1);

	/* The text form: header and one line per decision. */
	harness_aksnap(f, &r, "explain", SNAP_SS, NULL);
	assert_int_equal(r.exit_code, 0);
	assert_non_null(strstr(r.out, "snapshot    " SNAP_SS));
	assert_non_null(strstr(r.out, "pinned      no"));
	assert_non_null(strstr(r.out, " create "));
	assert_non_null(strstr(r.out, " skip "));
	assert_non_null(strstr(r.out, "first snapshot of the pool"));
	run_result_free(&r);
}

/* ---- baseline ---- */

static void
test_baseline_in_every_format(void **state)
{
	struct harness *f = *state;
	struct run_result r;
	json_t *doc, *arr, *b;

	assert_int_equal(run_at(f, T0), 0);
	promote(f, SNAP_SS);

	doc = aksnap_json(f, "baseline", "--format", "json");
	assert_true(json_is_null(json_object_get(doc, "channel")));
	arr = json_object_get(doc, "baselines");
	assert_int_equal(json_array_size(arr), 5);
	b = find_by(arr, "pool", "staging-system");
	assert_non_null(b);
	assert_string_equal(str(b, "channel"), "stable");
	assert_string_equal(str(b, "snapshot"), SNAP_SS);
	assert_string_equal(str(b, "arm_id"), ARM_SS);
	assert_string_equal(str(b, "node_image_version"), IMAGE_0101);
	assert_string_equal(str(b, "kubernetes_version"), "1.30.5");
	assert_non_null(str(b, "promoted_at"));
	b = find_by(arr, "pool", "prod-batch");
	assert_non_null(b);
	assert_true(json_is_null(json_object_get(b, "arm_id")));
	assert_true(json_is_null(json_object_get(b, "snapshot")));
	json_decref(doc);

	/* --json is the same document. */
	doc = aksnap_json(f, "baseline", NULL, NULL);
	assert_int_equal(json_array_size(json_object_get(doc, "baselines")), 5);
	json_decref(doc);

	harness_aksnap(f, &r, "baseline", "--format", "env", NULL);
	assert_int_equal(r.exit_code, 0);
	assert_string_equal(
	    r.out, "AKSNAP_BASELINE_STAGING_SYSTEM=" ARM_SS "\n");
	run_result_free(&r);

	harness_aksnap(f, &r, "baseline", "--format", "tfvars", NULL);
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(strncmp(r.out, "aksnap_baselines = {\n", 21), 0);
	assert_non_null(strstr(r.out, "\"staging-system\" = \"" ARM_SS "\"\n"));
	assert_non_null(
	    strstr(r.out, "  # prod-batch: no baseline in channel stable\n"));
	assert_non_null(strstr(r.out, "\n}\n"));
	run_result_free(&r);

	harness_aksnap(f, &r, "baseline", NULL);
	assert_int_equal(r.exit_code, 0);
	assert_non_null(strstr(r.out, SNAP_SS));
	assert_non_null(strstr(r.out, "(none)"));
	run_result_free(&r);

	/* Another channel holds nothing: every pool null, still exit 0. */
	harness_aksnap(
	    f, &r, "--json", "baseline", "--channel", "canary", NULL);
	assert_int_equal(r.exit_code, 0);
	assert_null(strstr(r.out, ARM_SS));
	assert_non_null(strstr(r.out, "\"channel\": \"canary\""));
	run_result_free(&r);
	harness_aksnap(
	    f, &r, "baseline", "--channel", "canary", "--format", "env", NULL);
	assert_int_equal(r.exit_code, 0);
	assert_string_equal(r.out, "");
	run_result_free(&r);

	harness_aksnap(f, &r, "baseline", "--format", "yaml", NULL);
	assert_int_equal(r.exit_code, 2);
	run_result_free(&r);
}

/* ---- drift ---- */

static const char *
verdict(json_t *doc, const char *pool)
{
	json_t *p = find_by(json_object_get(doc, "pools"), "pool", pool);

	assert_non_null(p);
	return str(p, "verdict");
}

static void
test_drift_verdicts_follow_releases(void **state)
{
	struct harness *f = *state;
	json_t *doc, *rel, *p;

	assert_int_equal(run_at(f, T0), 0);
	promote(f, SNAP_SS);

	doc = aksnap_json(f, "drift", NULL, NULL);
	assert_false(json_is_true(json_object_get(doc, "refreshed")));
	assert_string_equal(verdict(doc, "staging-system"), "in-baseline");
	assert_string_equal(verdict(doc, "staging-user"), "no-baseline");
	assert_string_equal(verdict(doc, "edge-system"), "no-baseline");
	json_decref(doc);

	/* A node image release, then a run: live and newest move ahead. */
	rel = emu_post(f->emu, "/_armemu/release",
	    "{\"cluster\":\"aks-staging\",\"pool\":\"system\"}");
	assert_non_null(rel);
	json_decref(rel);
	/* Before a run the store still says in-baseline... */
	doc = aksnap_json(f, "drift", NULL, NULL);
	assert_string_equal(verdict(doc, "staging-system"), "in-baseline");
	json_decref(doc);
	/* ...a fresh look does not. */
	doc = aksnap_json(f, "drift", "--refresh", NULL);
	assert_true(json_is_true(json_object_get(doc, "refreshed")));
	assert_string_equal(verdict(doc, "staging-system"), "ahead");
	json_decref(doc);

	assert_int_equal(run_at(f, "2026-11-11T03:00:00Z"), 0);
	doc = aksnap_json(f, "drift", NULL, NULL);
	assert_string_equal(verdict(doc, "staging-system"), "ahead");
	p = find_by(json_object_get(doc, "pools"), "pool", "staging-system");
	assert_string_equal(
	    str(json_object_get(p, "live"), "node_image_version"),
	    "AKSUbuntu-2204gen2containerd-202611.08.0");
	assert_string_equal(
	    str(json_object_get(p, "baseline"), "node_image_version"),
	    IMAGE_0101);
	assert_string_equal(str(json_object_get(p, "newest"), "snapshot"),
	    "aksnap-aks-staging-system-20261111T0200Z");
	json_decref(doc);

	/* An older image on the pool (a rollback) is behind. */
	rel = emu_post(f->emu, "/_armemu/release",
	    "{\"cluster\":\"aks-staging\",\"pool\":\"system\","
	    "\"nodeImageVersion\":\"AKSUbuntu-2204gen2containerd-202610."
	    "21.0\"}");
	assert_non_null(rel);
	json_decref(rel);
	doc = aksnap_json(f, "drift", "--refresh", NULL);
	assert_string_equal(verdict(doc, "staging-system"), "behind");
	json_decref(doc);
}

static void
test_drift_refresh_gets_each_cluster_once_and_sees_missing(void **state)
{
	struct harness *f = *state;
	struct run_result r;
	json_t *doc, *del;

	assert_int_equal(run_at(f, T0), 0);
	emu_reset_counters(f->emu);
	/* Five pools in three clusters: three GETs, nothing else. */
	doc = aksnap_json(f, "drift", "--refresh", NULL);
	json_decref(doc);
	assert_int_equal(emu_counter(f->emu, "GET managedClusters.get"), 3);
	assert_int_equal(emu_counter(f->emu, "GET agentPools.get"), 0);
	assert_int_equal(emu_counter(f->emu, "PUT snapshots.put"), 0);

	/* Without --refresh, drift never calls Azure. */
	emu_reset_counters(f->emu);
	harness_aksnap(f, &r, "drift", NULL);
	assert_int_equal(r.exit_code, 0);
	assert_non_null(strstr(r.out, "no-baseline"));
	run_result_free(&r);
	assert_int_equal(emu_counter(f->emu, "GET managedClusters.get"), 0);
	assert_int_equal(emu_counter(f->emu, "POST token.v2"), 0);

	/* A GET that fails: that cluster's pools are unknown, exit 1. */
	assert_true(emu_fault(f->emu,
	                "{\"method\":\"GET\",\"path\":\"*/managedClusters/"
	                "aks-prod\",\"action\":\"status\",\"status\":403,"
	                "\"error_code\":\"AuthorizationFailed\"}") >= 0);
	harness_aksnap(f, &r, "--json", "drift", "--refresh", NULL);
	assert_int_equal(r.exit_code, 1);
	doc = json_loads(r.out, 0, NULL);
	assert_non_null(doc);
	assert_string_equal(verdict(doc, "prod-system"), "unknown");
	assert_string_equal(verdict(doc, "prod-batch"), "unknown");
	assert_non_null(strstr(
	    str(find_by(json_object_get(doc, "pools"), "pool", "prod-batch"),
	        "error"),
	    "AuthorizationFailed"));
	assert_string_equal(verdict(doc, "staging-system"), "no-baseline");
	json_decref(doc);
	run_result_free(&r);

	/* A deleted cluster: its pool is missing, the others unaffected. */
	del = emu_post(f->emu, "/_armemu/clusters/delete",
	    "{\"resourceGroup\":\"rg-prod\",\"cluster\":\"aks-edge\"}");
	assert_non_null(del);
	json_decref(del);
	doc = aksnap_json(f, "drift", "--refresh", NULL);
	assert_string_equal(verdict(doc, "edge-system"), "missing");
	assert_string_equal(verdict(doc, "prod-system"), "no-baseline");
	json_decref(doc);
	/* And after a run records it, so does the stored view. */
	/* (The run fails for that pool: exit 1.) */
	assert_int_equal(run_expect(f, "2026-11-11T03:00:00Z", 1), 1);
	doc = aksnap_json(f, "drift", NULL, NULL);
	assert_string_equal(verdict(doc, "edge-system"), "missing");
	json_decref(doc);
}

/* ---- check ---- */

static int
check_at(struct harness *f, const char *as_of, struct run_result *r)
{
	harness_aksnap(f, r, "check", "--as-of", as_of, NULL);
	return r->exit_code;
}

static void
test_check_unknown_without_store_run_or_config(void **state)
{
	struct harness *f = *state;
	struct run_result r;
	const char *argv[] = {"-c", "/nonexistent/aksnap.ini", "check", NULL};

	/* No store yet. */
	assert_int_equal(check_at(f, T0, &r), 3);
	assert_int_equal(strncmp(r.out, "AKSNAP UNKNOWN - ", 17), 0);
	run_result_free(&r);

	/* A store, but no run recorded in it. */
	harness_aksnap(f, &r, "db", "migrate", NULL);
	assert_int_equal(r.exit_code, 0);
	run_result_free(&r);
	assert_int_equal(check_at(f, T0, &r), 3);
	assert_non_null(strstr(r.out, "no run recorded yet"));
	run_result_free(&r);

	/* A configuration that cannot be read. */
	memset(&r, 0, sizeof(r));
	assert_int_equal(harness_run_aksnap(&r, argv), 0);
	assert_int_equal(r.exit_code, 3);
	assert_int_equal(strncmp(r.out, "AKSNAP UNKNOWN - ", 17), 0);
	run_result_free(&r);
}

static void
test_check_ok_after_fresh_run_then_critical_when_stale(void **state)
{
	struct harness *f = *state;
	struct run_result r;
	json_t *doc;

	assert_int_equal(run_at(f, T0), 0);
	assert_int_equal(check_at(f, "2026-11-10T06:00:00Z", &r), 0);
	assert_int_equal(strncmp(r.out,
	                     "AKSNAP OK - 5 pools, newest snapshot 3h ago | "
	                     "pools=5 critical=0 warning=0 "
	                     "oldest_success_age=10800s",
	                     strlen("AKSNAP OK - 5 pools, newest snapshot 3h "
	                            "ago | pools=5 critical=0 warning=0 "
	                            "oldest_success_age=10800s")),
	    0);
	run_result_free(&r);

	/* Daily schedule: two days and change without a success is fine
	 * up to 2 x 1d, CRITICAL past it. */
	assert_int_equal(check_at(f, "2026-11-12T02:59:00Z", &r), 0);
	run_result_free(&r);
	assert_int_equal(check_at(f, "2026-11-13T03:00:00Z", &r), 2);
	assert_int_equal(strncmp(r.out, "AKSNAP CRITICAL - ", 18), 0);
	assert_non_null(strstr(r.out, "critical=5"));
	assert_non_null(strstr(r.out,
	    "\nCRITICAL: edge-system: no successful "
	    "snapshot for 3d"));
	run_result_free(&r);

	/* A run that skips (nothing changed) is a success too. */
	assert_int_equal(run_at(f, "2026-11-13T03:00:00Z"), 0);
	assert_int_equal(check_at(f, "2026-11-13T04:00:00Z", &r), 0);
	run_result_free(&r);

	harness_aksnap(
	    f, &r, "--json", "check", "--as-of", "2026-11-13T04:00:00Z", NULL);
	assert_int_equal(r.exit_code, 0);
	doc = json_loads(r.out, 0, NULL);
	assert_non_null(doc);
	assert_string_equal(str(doc, "status"), "OK");
	assert_int_equal(json_integer_value(json_object_get(doc, "pools")), 5);
	assert_int_equal(json_array_size(json_object_get(doc, "problems")), 0);
	json_decref(doc);
	run_result_free(&r);
}

static void
test_check_critical_when_last_run_failed(void **state)
{
	struct harness *f = *state;
	struct run_result r;

	/* Every snapshot PUT is refused: the run fails for every pool. */
	assert_true(emu_fault(f->emu,
	                "{\"method\":\"PUT\",\"path\":"
	                "\"*/snapshots/*\",\"action\":\"status\","
	                "\"status\":400,\"error_code\":"
	                "\"InvalidParameter\",\"count\":-1}") >= 0);
	assert_int_equal(run_expect(f, T0, 1), 1);
	assert_int_equal(check_at(f, "2026-11-10T04:00:00Z", &r), 2);
	assert_non_null(strstr(r.out, "CRITICAL: the last run"));
	assert_non_null(strstr(r.out, "exited 1"));
	assert_non_null(strstr(r.out,
	    "staging-system: no successful snapshot "
	    "yet"));
	run_result_free(&r);
}

static void
test_check_warns_on_old_baseline_only_while_fresh(void **state)
{
	struct harness *f = *state;
	struct run_result r;

	assert_int_equal(run_at(f, T0), 0);
	/* No baseline yet: nothing to warn about. */
	assert_int_equal(check_at(f, "2026-11-10T05:00:00Z", &r), 0);
	run_result_free(&r);

	promote(f, SNAP_SS);
	/* Two hours old with warn_baseline_age = 1h, snapshots fresh. */
	assert_int_equal(check_at(f, "2026-11-10T05:00:00Z", &r), 1);
	assert_int_equal(
	    strncmp(r.out,
	        "AKSNAP WARNING - staging-system: "
	        "baseline " SNAP_SS,
	        strlen("AKSNAP WARNING - staging-system: baseline " SNAP_SS)),
	    0);
	assert_non_null(strstr(r.out, "warning=1"));
	assert_non_null(strstr(r.out, "warn_baseline_age 1h"));
	run_result_free(&r);

	/* Stale as well: CRITICAL wins, the warning is still listed. */
	assert_int_equal(check_at(f, "2026-11-13T05:00:00Z", &r), 2);
	assert_non_null(strstr(r.out, "\nWARNING: staging-system: baseline"));
	assert_non_null(strstr(r.out,
	    "\nCRITICAL: staging-system: no "
	    "successful snapshot"));
	run_result_free(&r);
}

static void
test_check_warns_on_old_baseline_image(void **state)
{
	struct harness *f = *state;
	struct run_result r;

	/* The fleet's image of staging-system is of 2026-11-01: 9 days old
	 * at T0, past warn_image_age = 5d; its baseline age is not
	 * checked (0). */
	assert_int_equal(run_at(f, T0), 0);
	promote(f, SNAP_SS);
	assert_int_equal(check_at(f, "2026-11-10T05:00:00Z", &r), 1);
	assert_non_null(strstr(r.out,
	    "baseline node image " IMAGE_0101 " is 9d old (warn_image_age 5d"));
	assert_null(strstr(r.out, "warn_baseline_age"));
	run_result_free(&r);
}

/* Each of ${keys} found in ${out} as ${fmt} names it, in that order. */
static void
expect_in_order(const char *out, const char *fmt, const char *const *keys)
{
	const char *prev = out, *at;
	char needle[128];

	for (size_t i = 0; keys[i] != NULL; i++) {
		snprintf(needle, sizeof(needle), fmt, keys[i]);
		at = strstr(out, needle);
		if (at == NULL || at < prev)
			fail_msg("'%s' missing or out of order in:\n%s", needle,
			    out);
		prev = at;
	}
}

/*
 * drift and check read the pools in the store's order (ids: the order
 * the first run met them) and print them in the configuration's, here
 * its reverse, a pool no run has seen yet first.
 */
static void
test_reads_print_in_the_configurations_order(void **state)
{
	static const char *const keys[] = {"new-system", "edge-system",
	    "prod-batch", "prod-system", "staging-user", "staging-system",
	    NULL};
	struct harness *f = *state;
	struct run_result r;
	char *cfg;

	assert_int_equal(run_at(f, T0), 0);
	/* the store's order is not the one printed below */
	harness_aksnap(f, &r, "drift", NULL);
	harness_expect_exit(&r, 0);
	expect_in_order(r.out, "\n%s ",
	    (const char *const[]){"staging-system", "staging-user",
	        "prod-system", "prod-batch", "edge-system", NULL});
	run_result_free(&r);
	cfg = harness_config(f->dir, f->emu,
	    POLICY "\n[pool:new-system]\nresource_group = rg-prod\n"
	           "cluster = aks-edge\nnodepool = other\n"
	           "\n[pool:edge-system]\nresource_group = rg-prod\n"
	           "cluster = aks-edge\nnodepool = system\n"
	           "\n[pool:prod-batch]\nresource_group = rg-prod\n"
	           "cluster = aks-prod\nnodepool = batch\n"
	           "\n[pool:prod-system]\nresource_group = rg-prod\n"
	           "cluster = aks-prod\nnodepool = system\n"
	           "\n[pool:staging-user]\nresource_group = rg-staging\n"
	           "cluster = aks-staging\nnodepool = user\n"
	           "\n[pool:staging-system]\nresource_group = rg-staging\n"
	           "cluster = aks-staging\nnodepool = system\n");
	assert_non_null(cfg);
	free(cfg);

	harness_aksnap(f, &r, "drift", NULL);
	harness_expect_exit(&r, 0);
	expect_in_order(r.out, "\n%s ", keys);
	run_result_free(&r);
	harness_aksnap(f, &r, "--json", "drift", NULL);
	harness_expect_exit(&r, 0);
	expect_in_order(r.out, "\"pool\": \"%s\"", keys);
	run_result_free(&r);
	/* stale: one CRITICAL a pool the store knows, after the WARNING of
	 * the one it does not (the configuration's order) */
	assert_int_equal(check_at(f, "2026-11-13T03:00:00Z", &r), 2);
	expect_in_order(r.out, "\n%s: ",
	    (const char *const[]){"WARNING: new-system",
	        "CRITICAL: edge-system", "CRITICAL: prod-batch",
	        "CRITICAL: prod-system", "CRITICAL: staging-user",
	        "CRITICAL: staging-system", NULL});
	run_result_free(&r);
}

/*
 * report reads the pools' summaries in the store's order (staging-system
 * is pool 1, edge-system pool 5) and counts them in its own (by resource
 * group, cluster, key): the pools it names, and the verdicts' order,
 * are in its order.
 */
static void
test_report_names_pools_in_its_order(void **state)
{
	static const char *const in_report_order[] = {"edge-system",
	    "prod-batch", "prod-system", "staging-system", "staging-user",
	    NULL};
	struct harness *f = *state;
	struct run_result r;
	json_t *doc, *old, *verdicts;

	assert_int_equal(run_at(f, T0), 0);
	promote(f, SNAP_SS);
	promote(f, "aksnap-aks-prod-batch-20261110T0200Z");
	promote(f, "aksnap-aks-edge-system-20261110T0200Z");
	/* a day later (warn_baseline_age = 1h): the three are old */
	assert_int_equal(run_at(f, "2026-11-11T03:00:00Z"), 0);
	doc = aksnap_json(f, "report", NULL, NULL);
	old = json_object_get(
	    json_object_get(doc, "summary"), "baselines_older_than_warning");
	assert_int_equal(json_array_size(old), 3);
	assert_string_equal(
	    json_string_value(json_array_get(old, 0)), "edge-system");
	assert_string_equal(
	    json_string_value(json_array_get(old, 1)), "prod-batch");
	assert_string_equal(
	    json_string_value(json_array_get(old, 2)), "staging-system");
	/* edge-system's verdict first, prod-system's no-baseline after */
	verdicts = json_object_get(json_object_get(doc, "summary"), "verdicts");
	assert_string_equal(
	    json_object_iter_key(json_object_iter(verdicts)), "in-baseline");
	json_decref(doc);

	/* the pools themselves, read in the store's order, in the report's */
	harness_aksnap(f, &r, "--json", "report", NULL);
	harness_expect_exit(&r, 0);
	expect_in_order(r.out, "\"pool\":\"%s\"", in_report_order);
	run_result_free(&r);
	harness_aksnap(f, &r, "report", "--html", "-", NULL);
	harness_expect_exit(&r, 0);
	/* the matrix (after the summary, which names pools too) */
	assert_non_null(strstr(r.out, "id=\"drift\""));
	expect_in_order(strstr(r.out, "id=\"drift\""), "%s", in_report_order);
	/* the timelines follow the matrix, in the same order */
	assert_non_null(strstr(r.out, "id=\"timelines\""));
	expect_in_order(
	    strstr(r.out, "id=\"timelines\""), "%s", in_report_order);
	run_result_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_pin_unpin_round_trip_in_list_and_explain, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pin_refuses_unknown_snapshot_and_bad_usage, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pin_is_temporary_failure_while_run_lock_held, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_explain_shows_create_and_skip_with_reasons, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_baseline_in_every_format, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_drift_verdicts_follow_releases, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_drift_refresh_gets_each_cluster_once_and_sees_missing,
	        setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_check_unknown_without_store_run_or_config, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_check_ok_after_fresh_run_then_critical_when_stale, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_check_critical_when_last_run_failed, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_check_warns_on_old_baseline_only_while_fresh,
	        setup_young_warnings, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_check_warns_on_old_baseline_image, setup_image_warning,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_reads_print_in_the_configurations_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_report_names_pools_in_its_order, setup_young_warnings,
	        teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
