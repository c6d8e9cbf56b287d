/*
 * test_pin.c -- the pin holds (issue 12), end to end against the ARM
 * emulator: a snapshot by hand twice in one minute, the apply guards
 * (another region, a Kubernetes version the location does not offer or
 * the control plane does not allow, an older snapshot as a rollback, a
 * cluster whose auto-upgrade channels would undo the pin), a cluster
 * created from a baseline, and the channels observed with who changed
 * each image.
 *
 * Each test starts its own emulator on the demo fleet (frozen clock) and
 * its own store.  What Azure holds is read back from the emulator's state
 * and counters, never from aksnap's own word.
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

#define SUB HARNESS_SUBSCRIPTION
#define T0 "2026-11-10T02:00:00Z"
#define IMG(d) "AKSUbuntu-2204gen2containerd-" d
#define BASELINE "aksnap-aks-we-system-20261110T0200Z"
#define POOL(name, k8s, img)                                                   \
	"{\"name\": \"" name "\", \"vmSize\": \"Standard_D4s_v5\", "           \
	"\"orchestratorVersion\": \"" k8s                                      \
	"\", \"nodeImageVersion\": \"" IMG(img) "\"}"
#define CLUSTER(name, k8s, extra, pools)                                       \
	"{\"name\": \"" name "\", \"kubernetesVersion\": \"" k8s "\", " extra  \
	"\"agentPools\": [" pools "]}"

/*
 * westeurope: aks-we (the baseline's pool, a pool on an older image, one
 * on a newer image), aks-old (control plane 1.29.9), aks-auto (node OS
 * channel NodeImage); northeurope: aks-ne.
 */
static const char *const FLEET_JSON =
    "{\"subscriptions\": [{\"id\": \"" SUB "\", \"resourceGroups\": ["
    "{\"name\": \"rg-we\", \"location\": \"westeurope\", \"clusters\": "
    "[" CLUSTER("aks-we", "1.30.5", "",
        POOL("system", "1.30.5", "202611.01.0") "," POOL(
            "older", "1.30.5", "202610.14.0") "," POOL("newer", "1.30.5",
            "202611.08.0")) "," CLUSTER("aks-old", "1.29.9", "",
        POOL("system", "1.29.9", "202610.14.0")) "," CLUSTER("aks-auto",
        "1.30.5",
        "\"autoUpgradeProfile\": {\"nodeOSUpgradeChannel\": \"NodeImage\"}, ",
        POOL("system", "1.30.5",
            "202610.14.0")) "]},"
                            "{\"name\": \"rg-ne\", \"location\": "
                            "\"northeurope\", \"clusters\": [" CLUSTER("aks-ne",
                                "1.30.5", "",
                                POOL("system", "1.30.5",
                                    "202610.14.0")) "]}]}]}";

#define POOL_INI(key, rg, cluster, pool)                                       \
	"\n[pool:" key "]\nresource_group = " rg "\ncluster = " cluster        \
	"\nnodepool = " pool "\n"

static const char *const POOLS_INI =
    "\n[policy:default]\n"
    "schedule = 0 2 * * *\n"
    "promote_after = never\n" POOL_INI("we-system", "rg-we", "aks-we", "system")
        POOL_INI("we-older", "rg-we", "aks-we", "older")
            POOL_INI("we-newer", "rg-we", "aks-we", "newer")
                POOL_INI("old-system", "rg-we", "aks-old", "system")
                    POOL_INI("auto-system", "rg-we", "aks-auto", "system")
                        POOL_INI("ne-system", "rg-ne", "aks-ne", "system");

static int
setup(void **state)
{
	const char *args[] = {
	    "--fleet", NULL, "--retry-after", "0", "--lro-polls", "1", NULL};
	struct harness *f = calloc(1, sizeof(*f));
	char fleet[4096];

	if (f == NULL || harness_open_dir(f) != 0)
		goto fail;
	snprintf(fleet, sizeof(fleet), "%s/fleet.json", f->dir);
	if (harness_write_file(fleet, FLEET_JSON, 0600) != 0)
		goto fail;
	args[1] = fleet;
	if (harness_start(f, args, POOLS_INI) != 0 ||
	    emu_set_clock(f->emu, T0) != 0)
		goto fail;
	*state = f;
	return 0;
fail:
	harness_free(f);
	return -1;
}

static int
teardown(void **state)
{
	harness_free(*state);
	return 0;
}

/* ---- snapshot by hand ---- */

static void
test_snapshot_twice_in_one_minute_takes_one(void **state)
{
	struct harness *f = *state;
	struct run_result r;

	harness_aksnap(f, &r, "snapshot", "--as-of", "2026-11-10T09:15:05Z",
	    "we-system", NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
	/* Same minute: not an error, and nothing is sent. */
	harness_aksnap(f, &r, "-v", "snapshot", "--as-of",
	    "2026-11-10T09:15:55Z", "we-system", NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "aksnap-aks-we-system-20261110T0915Z");
	harness_expect_in(r.out, "taken this minute already");
	run_result_free(&r);
	assert_int_equal(emu_counter(f->emu, "PUT snapshots.put"), 1);
	/* The next minute takes its own. */
	harness_aksnap(f, &r, "snapshot", "--as-of", "2026-11-10T09:16:01Z",
	    "we-system", NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
	assert_int_equal(emu_counter(f->emu, "PUT snapshots.put"), 2);
	harness_aksnap(f, &r, "--json", "list", "we-system", NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "aksnap-aks-we-system-20261110T0915Z");
	harness_expect_in(r.out, "aksnap-aks-we-system-20261110T0916Z");
	run_result_free(&r);
}

/* ---- apply guards ---- */

/* Take we-system's snapshot at T0 and promote it to stable by hand. */
static void
baseline(struct harness *f)
{
	struct run_result r;

	harness_aksnap(
	    f, &r, "run", "--as-of", T0, "--pool", "we-system", NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
	harness_aksnap(f, &r, "promote", "--channel", "stable", BASELINE, NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
	emu_reset_counters(f->emu);
}

/* The pool's node image as the emulator holds it (static buffer). */
static const char *
pool_image(struct harness *f, const char *cluster, const char *pool)
{
	static char img[128];
	json_t *st = emu_get(f->emu, "/_armemu/state"), *p;
	size_t i;

	img[0] = '\0';
	assert_non_null(st);
	json_array_foreach(json_object_get(st, "pools"), i, p)
	{
		if (strcmp(json_string_value(json_object_get(p, "cluster")),
		        cluster) == 0 &&
		    strcmp(json_string_value(json_object_get(p, "name")),
		        pool) == 0)
			snprintf(img, sizeof(img), "%s",
			    json_string_value(
			        json_object_get(p, "nodeImageVersion")));
	}
	json_decref(st);
	return img;
}

/* Nothing was written to ARM since the counters were reset. */
static void
expect_nothing_sent(struct harness *f)
{
	assert_int_equal(emu_counter(f->emu, "PUT agentPools.put"), 0);
	assert_int_equal(
	    emu_counter(f->emu, "POST agentPools.upgradeNodeImageVersion"), 0);
	assert_int_equal(emu_counter(f->emu, "PUT managedClusters.put"), 0);
}

static void
test_apply_to_another_region_needs_cross_region(void **state)
{
	struct harness *f = *state;
	struct run_result r;

	baseline(f);
	harness_aksnap(f, &r, "apply", "--channel", "stable", "--from",
	    "we-system", "--to", "ne-system", "--as-of", T0, NULL);
	harness_expect_exit(&r, 1);
	harness_expect_in(r.err,
	    "snapshot in westeurope, target in "
	    "northeurope");
	harness_expect_in(r.err, "--cross-region");
	harness_expect_in(r.err, "nothing was sent");
	run_result_free(&r);
	expect_nothing_sent(f);
	/* The plan shows both locations. */
	harness_aksnap(f, &r, "apply", "--channel", "stable", "--from",
	    "we-system", "--to", "ne-system", "--as-of", T0, "--cross-region",
	    "--dry-run", NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(
	    r.out, "locations: snapshot westeurope, target northeurope");
	run_result_free(&r);
	expect_nothing_sent(f);
	harness_aksnap(f, &r, "apply", "--channel", "stable", "--from",
	    "we-system", "--to", "ne-system", "--as-of", T0, "--cross-region",
	    NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
	assert_string_equal(
	    pool_image(f, "aks-ne", "system"), IMG("202611.01.0"));
}

static void
test_apply_refuses_unsupported_or_skewed_kubernetes(void **state)
{
	struct harness *f = *state;
	struct run_result r;

	baseline(f);
	/* westeurope stops offering 1.30.5. */
	json_decref(emu_post(f->emu, "/_armemu/kubernetes-versions",
	    "{\"location\":\"westeurope\",\"versions\":[\"1.29.9\","
	    "\"1.30.9\",\"1.31.2\"]}"));
	harness_aksnap(f, &r, "apply", "--channel", "stable", "--from",
	    "we-system", "--to", "we-older", "--as-of", T0, NULL);
	harness_expect_exit(&r, 1);
	harness_expect_in(
	    r.err, "Kubernetes 1.30.5 is not offered in westeurope");
	harness_expect_in(r.err, "nothing was sent");
	run_result_free(&r);
	expect_nothing_sent(f);
	assert_int_equal(
	    emu_counter(f->emu, "GET kubernetesVersions.list 200"), 1);
	/* A control plane at 1.29.9 cannot run a 1.30.5 pool. */
	json_decref(emu_post(f->emu, "/_armemu/kubernetes-versions",
	    "{\"location\":\"westeurope\",\"versions\":[\"1.29.9\","
	    "\"1.30.5\"]}"));
	harness_aksnap(f, &r, "apply", "--channel", "stable", "--from",
	    "we-system", "--to", "old-system", "--as-of", T0, NULL);
	harness_expect_exit(&r, 1);
	harness_expect_in(r.err,
	    "1.30.5 is newer than the control plane's "
	    "1.29.9");
	harness_expect_in(r.err, "nothing was sent");
	run_result_free(&r);
	expect_nothing_sent(f);
	assert_string_equal(
	    pool_image(f, "aks-old", "system"), IMG("202610.14.0"));
}

static void
test_apply_older_baseline_is_a_rollback_with_allow_older(void **state)
{
	struct harness *f = *state;
	struct run_result r;

	baseline(f);
	harness_aksnap(f, &r, "apply", "--channel", "stable", "--from",
	    "we-system", "--to", "we-newer", "--as-of", T0, NULL);
	harness_expect_exit(&r, 1);
	harness_expect_in(r.err, IMG("202611.01.0"));
	harness_expect_in(r.err, IMG("202611.08.0"));
	harness_expect_in(r.err, "--allow-older");
	run_result_free(&r);
	expect_nothing_sent(f);
	harness_aksnap(f, &r, "apply", "--channel", "stable", "--from",
	    "we-system", "--to", "we-newer", "--as-of", T0, "--allow-older",
	    NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
	/* Same Kubernetes: AKS's node-image path, with the snapshot. */
	assert_int_equal(
	    emu_counter(f->emu, "POST agentPools.upgradeNodeImageVersion"), 1);
	assert_string_equal(
	    pool_image(f, "aks-we", "newer"), IMG("202611.01.0"));
	/* Recorded as a rollback, with both images. */
	harness_aksnap(f, &r, "explain", BASELINE, NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "rollback, upgrade-node-image");
	harness_expect_in(
	    r.out, "node image " IMG("202611.08.0") " -> " IMG("202611.01.0"));
	run_result_free(&r);
	harness_aksnap(f, &r, "explain", "-v", BASELINE, "--json", NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "\"rollback\": true");
	run_result_free(&r);
}

static void
test_apply_refuses_cluster_whose_channel_undoes_the_pin(void **state)
{
	struct harness *f = *state;
	struct run_result r;

	baseline(f);
	harness_aksnap(f, &r, "apply", "--channel", "stable", "--from",
	    "we-system", "--to", "auto-system", "--as-of", T0, NULL);
	harness_expect_exit(&r, 1);
	harness_expect_in(r.err, "nodeOSUpgradeChannel NodeImage");
	harness_expect_in(r.err, "None or Unmanaged");
	harness_expect_in(r.err, "--ignore-upgrade-channel");
	harness_expect_in(r.err, "nothing was sent");
	run_result_free(&r);
	expect_nothing_sent(f);
	harness_aksnap(f, &r, "apply", "--channel", "stable", "--from",
	    "we-system", "--to", "auto-system", "--as-of", T0,
	    "--ignore-upgrade-channel", NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
	assert_string_equal(
	    pool_image(f, "aks-auto", "system"), IMG("202611.01.0"));
}

/* ---- a cluster from a baseline ---- */

/* The emulator's cluster ${name}, or NULL (a new reference). */
static json_t *
emu_cluster(struct harness *f, const char *name)
{
	json_t *st = emu_get(f->emu, "/_armemu/state"), *c, *found = NULL;
	size_t i;

	assert_non_null(st);
	json_array_foreach(json_object_get(st, "clusters"), i, c)
	{
		if (strcmp(json_string_value(json_object_get(c, "name")),
		        name) == 0)
			found = json_incref(c);
	}
	json_decref(st);
	return found;
}

static void
test_apply_new_cluster_from_baseline(void **state)
{
	struct harness *f = *state;
	struct run_result r;
	json_t *c;

	baseline(f);
	/* --dry-run prints the body and sends nothing. */
	harness_aksnap(f, &r, "apply", "--channel", "stable", "--from",
	    "we-system", "--new-cluster", "aks-copy", "--as-of", T0,
	    "--dry-run", NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "PUT ");
	harness_expect_in(r.out,
	    "/resourceGroups/rg-we/providers/"
	    "Microsoft.ContainerService/managedClusters/"
	    "aks-copy?api-version=");
	harness_expect_in(r.out, "\"nodeOSUpgradeChannel\": \"None\"");
	harness_expect_in(r.out, "\"dnsPrefix\": \"aks-copy\"");
	harness_expect_in(r.out, "\"kubernetesVersion\": \"1.30.5\"");
	harness_expect_in(r.out, "/snapshots/" BASELINE "\"");
	run_result_free(&r);
	expect_nothing_sent(f);
	assert_null(emu_cluster(f, "aks-copy"));

	harness_aksnap(f, &r, "apply", "--channel", "stable", "--from",
	    "we-system", "--new-cluster", "aks-copy", "--resource-group",
	    "rg-ne", "--as-of", T0, NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
	assert_int_equal(emu_counter(f->emu, "PUT managedClusters.put 201"), 1);
	c = emu_cluster(f, "aks-copy");
	assert_non_null(c);
	/* In the snapshot's location, pinned, whatever the group's. */
	assert_string_equal(
	    json_string_value(json_object_get(c, "location")), "westeurope");
	assert_string_equal(
	    json_string_value(json_object_get(c, "resourceGroup")), "rg-ne");
	assert_string_equal(
	    json_string_value(json_object_get(c, "nodeOSUpgradeChannel")),
	    "None");
	assert_string_equal(
	    json_string_value(json_object_get(c, "kubernetesVersion")),
	    "1.30.5");
	json_decref(c);
	assert_string_equal(
	    pool_image(f, "aks-copy", "system"), IMG("202611.01.0"));

	/* Told otherwise; and a name that exists is refused. */
	harness_aksnap(f, &r, "apply", "--channel", "stable", "--from",
	    "we-system", "--new-cluster", "aks-copy2", "--node-os-channel",
	    "Unmanaged", "--as-of", T0, NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
	c = emu_cluster(f, "aks-copy2");
	assert_string_equal(
	    json_string_value(json_object_get(c, "nodeOSUpgradeChannel")),
	    "Unmanaged");
	json_decref(c);
	emu_reset_counters(f->emu);
	harness_aksnap(f, &r, "apply", "--channel", "stable", "--from",
	    "we-system", "--new-cluster", "aks-copy2", "--as-of", T0, NULL);
	harness_expect_exit(&r, 1);
	harness_expect_in(r.err, "already exists");
	harness_expect_in(r.err, "nothing was sent");
	run_result_free(&r);
	expect_nothing_sent(f);
	/* Usage: --to does not go with --new-cluster; channels are enums. */
	harness_aksnap(f, &r, "apply", "--channel", "stable", "--from",
	    "we-system", "--new-cluster", "x", "--node-os-channel", "Weekly",
	    NULL);
	harness_expect_exit(&r, 2);
	run_result_free(&r);
	harness_aksnap(f, &r, "apply", "--channel", "stable", "--from",
	    "we-system", "--to", "ne-system", "--new-cluster", "x", NULL);
	harness_expect_exit(&r, 2);
	run_result_free(&r);
}

static void
test_apply_new_cluster_not_on_the_snapshot_exits_1(void **state)
{
	struct harness *f = *state;
	struct run_result r;

	/* A baseline on an image newer than the location's latest, and an
	 * ARM that makes the cluster as if no snapshot had been named. */
	json_decref(emu_post(f->emu, "/_armemu/release",
	    "{\"cluster\":\"aks-we\",\"pool\":\"system\","
	    "\"nodeImageVersion\":\"" IMG("202611.08.0") "\"}"));
	baseline(f);
	assert_true(emu_fault(f->emu,
	                "{\"method\":\"PUT\",\"path\":\"*/managedClusters/*\","
	                "\"action\":\"lro_noop\"}") > 0);
	harness_aksnap(f, &r, "apply", "--channel", "stable", "--from",
	    "we-system", "--new-cluster", "aks-lie", "--as-of", T0, NULL);
	harness_expect_exit(&r, 1);
	harness_expect_in(r.err, IMG("202611.08.0"));
	harness_expect_in(r.err, IMG("202611.01.0"));
	harness_expect_in(r.err, "aks-lie");
	run_result_free(&r);
}

/* ---- auto-upgrade channels ---- */

/* The observations `history --json POOL` prints (a new reference). */
static json_t *
history(struct harness *f, const char *pool)
{
	struct run_result r;
	json_t *doc, *obs;

	harness_aksnap(f, &r, "--json", "history", pool, NULL);
	harness_expect_exit(&r, 0);
	doc = json_loads(r.out, 0, NULL);
	run_result_free(&r);
	assert_non_null(doc);
	obs = json_incref(json_object_get(doc, "observations"));
	json_decref(doc);
	assert_non_null(obs);
	return obs;
}

static const char *
field(json_t *arr, size_t i, const char *key)
{
	return json_string_value(json_object_get(json_array_get(arr, i), key));
}

static void
run_at(struct harness *f, const char *as_of)
{
	struct run_result r;

	assert_int_equal(emu_set_clock(f->emu, as_of), 0);
	harness_aksnap(f, &r, "run", "--as-of", as_of, NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
}

static void
test_history_records_channels_and_who_changed_the_image(void **state)
{
	struct harness *f = *state;
	struct run_result r;
	json_t *h;

	run_at(f, T0);
	h = history(f, "auto-system");
	assert_int_equal(json_array_size(h), 1);
	assert_string_equal(field(h, 0, "node_os_channel"), "NodeImage");
	assert_null(field(h, 0, "upgrade_channel"));
	assert_null(field(h, 0, "changed_by"));
	json_decref(h);
	h = history(f, "we-older");
	assert_null(field(h, 0, "node_os_channel"));
	json_decref(h);

	/* The weekly upgrade re-images aks-auto (its channel); someone
	 * upgrades aks-we's older pool by hand. */
	json_decref(emu_post(f->emu, "/_armemu/auto-upgrade", "{}"));
	json_decref(emu_post(f->emu, "/_armemu/release",
	    "{\"cluster\":\"aks-we\",\"pool\":\"older\"}"));
	run_at(f, "2026-11-11T02:00:00Z");
	h = history(f, "auto-system");
	assert_int_equal(json_array_size(h), 2);
	assert_string_equal(
	    field(h, 1, "node_image_version"), IMG("202610.21.0"));
	assert_string_equal(field(h, 1, "changed_by"), "auto-upgrade");
	json_decref(h);
	h = history(f, "we-older");
	assert_string_equal(field(h, 1, "changed_by"), "outside");
	json_decref(h);
	/* Pools the weekly upgrade left alone changed nothing: one
	 * interval, seen by both runs (0012). */
	h = history(f, "we-system");
	assert_int_equal(json_array_size(h), 1);
	assert_int_equal(
	    json_integer_value(json_object_get(json_array_get(h, 0), "seen")),
	    2);
	json_decref(h);

	/* aksnap's own apply says so; the next run sees no new change. */
	harness_aksnap(f, &r, "promote", "--channel", "stable", BASELINE, NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
	harness_aksnap(f, &r, "apply", "--channel", "stable", "--from",
	    "we-system", "--to", "we-older", "--as-of", "2026-11-11T03:00:00Z",
	    NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
	run_at(f, "2026-11-12T02:00:00Z");
	h = history(f, "we-older");
	/* the run after the apply sees the same state: it extends the
	 * apply's interval, which keeps saying who made it (0012) */
	assert_int_equal(json_array_size(h), 3);
	assert_string_equal(field(h, 2, "changed_by"), "aksnap");
	assert_string_equal(
	    field(h, 2, "node_image_version"), IMG("202611.01.0"));
	assert_int_equal(
	    json_integer_value(json_object_get(json_array_get(h, 2), "seen")),
	    2);
	json_decref(h);
	harness_aksnap(f, &r, "history", "--changes", NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "CHANGED BY");
	harness_expect_in(r.out, "auto-upgrade");
	harness_expect_in(r.out, "outside");
	harness_expect_in(r.out, "aksnap");
	run_result_free(&r);
}

static void
test_drift_and_check_flag_a_channel_that_undoes_the_baseline(void **state)
{
	struct harness *f = *state;
	struct run_result r;
	json_t *doc, *p;
	size_t i;

	run_at(f, T0);
	harness_aksnap(f, &r, "promote", "--channel", "stable",
	    "aksnap-aks-auto-system-20261110T0200Z", NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
	harness_aksnap(f, &r, "drift", NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "channel-will-drift");
	run_result_free(&r);
	harness_aksnap(f, &r, "--json", "drift", NULL);
	harness_expect_exit(&r, 0);
	doc = json_loads(r.out, 0, NULL);
	run_result_free(&r);
	json_array_foreach(json_object_get(doc, "pools"), i, p)
	{
		const char *pool =
		    json_string_value(json_object_get(p, "pool"));
		const char *v =
		    json_string_value(json_object_get(p, "verdict"));

		/* Only the pool with a baseline on such a cluster. */
		if (strcmp(pool, "auto-system") == 0)
			assert_string_equal(v, "channel-will-drift");
		else
			assert_string_not_equal(v, "channel-will-drift");
	}
	json_decref(doc);
	harness_aksnap(f, &r, "check", "--as-of", T0, NULL);
	harness_expect_exit(&r, 1);
	harness_expect_in(r.out, "WARNING");
	harness_expect_in(r.out, "cluster aks-auto");
	harness_expect_in(r.out, "nodeOSUpgradeChannel NodeImage");
	harness_expect_in(r.out, "None or Unmanaged");
	run_result_free(&r);

	/* The fix: the channel set to None; the next run sees it. */
	json_decref(emu_post(f->emu, "/_armemu/clusters/auto-upgrade-profile",
	    "{\"cluster\":\"aks-auto\",\"nodeOSUpgradeChannel\":\"None\"}"));
	run_at(f, "2026-11-10T03:00:00Z");
	harness_aksnap(f, &r, "drift", NULL);
	harness_expect_exit(&r, 0);
	assert_null(strstr(r.out, "channel-will-drift"));
	run_result_free(&r);
	harness_aksnap(f, &r, "check", "--as-of", "2026-11-10T03:00:00Z", NULL);
	assert_null(strstr(r.out, "aks-auto"));
	run_result_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_snapshot_twice_in_one_minute_takes_one, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_apply_to_another_region_needs_cross_region, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_apply_refuses_unsupported_or_skewed_kubernetes, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_apply_older_baseline_is_a_rollback_with_allow_older, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_apply_refuses_cluster_whose_channel_undoes_the_pin, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_apply_new_cluster_from_baseline, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_history_records_channels_and_who_changed_the_image, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_drift_and_check_flag_a_channel_that_undoes_the_baseline,
	        setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_apply_new_cluster_not_on_the_snapshot_exits_1, setup,
	        teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
