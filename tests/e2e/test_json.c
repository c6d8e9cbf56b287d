/*
 * test_json.c -- `--json` is honoured by every command (DESIGN.md section
 * 3): each prints exactly one JSON object on stdout, whether --json comes
 * before or after the command, and every `reasons` is an array of strings.
 *
 * One emulator (the demo fleet, frozen clock) and one store: a run takes a
 * snapshot of each pool, then every command is asked for JSON.
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
#define T0 "2026-11-10T03:00:00Z"
#define SNAP "aksnap-aks-staging-system-20261110T0200Z"

static const char *const POOLS_INI =
    "\n[policy:default]\nschedule = 0 2 * * *\npromote_after = never\n"
    "\n[pool:staging-system]\nresource_group = rg-staging\n"
    "cluster = aks-staging\nnodepool = system\n"
    "\n[pool:prod-system]\nresource_group = rg-prod\n"
    "cluster = aks-prod\nnodepool = system\n";

static int
setup(void **state)
{
	const char *args[] = {"--fleet", FLEET, "--retry-after", "0", NULL};
	struct harness *f = harness_new(args, POOLS_INI);
	struct run_result r;

	if (f == NULL)
		return -1;
	if (emu_set_clock(f->emu, T0) != 0) {
		harness_free(f);
		return -1;
	}
	harness_aksnap(f, &r, "run", "--as-of", T0, NULL);
	if (r.exit_code != 0) {
		fprintf(stderr, "setup run: exit %d\n%s", r.exit_code, r.err);
		run_result_free(&r);
		harness_free(f);
		return -1;
	}
	run_result_free(&r);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	harness_free(*state);
	return 0;
}

/* stdout must be exactly one JSON object; return it (caller decrefs). */
static json_t *
one_object(const struct run_result *r, const char *what)
{
	json_error_t e;
	json_t *doc = json_loads(r->out, 0, &e);

	if (doc == NULL || !json_is_object(doc))
		fail_msg(
		    "%s: stdout is not one JSON object (%s):\n%s\nstderr:\n%s",
		    what, doc == NULL ? e.text : "not an object", r->out,
		    r->err);
	return doc;
}

/* Every "reasons" anywhere in ${v} is an array of strings. */
static size_t
check_reasons(json_t *v, const char *what)
{
	size_t n = 0, i;
	const char *k;
	json_t *x;

	if (json_is_object(v)) {
		json_object_foreach(v, k, x)
		{
			if (strcmp(k, "reasons") == 0) {
				(void)harness_reasons(v); /* fails if not */
				n++;
			} else {
				n += check_reasons(x, what);
			}
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x) n += check_reasons(x, what);
	}
	return n;
}

/*
 * Run ${argv} (NULL-terminated, no --json) with --json first and last;
 * both must exit ${code} and print one object; return the reasons seen.
 */
static size_t
both_orders(struct harness *f, int code, const char *const *argv)
{
	const char *a[16];
	size_t n = 0, na = 0, seen = 0;
	char what[256] = "";

	while (argv[na] != NULL && na < 12) {
		strncat(what, argv[na], sizeof(what) - strlen(what) - 2);
		strncat(what, " ", sizeof(what) - strlen(what) - 1);
		na++;
	}
	for (int order = 0; order < 2; order++) {
		struct run_result r;
		json_t *doc;

		n = 0;
		if (order == 0)
			a[n++] = "--json";
		for (size_t i = 0; i < na; i++)
			a[n++] = argv[i];
		if (order == 1)
			a[n++] = "--json";
		a[n] = NULL;
		harness_aksnap_argv(f, &r, a);
		if (r.exit_code != code)
			fail_msg("%s(--json %s): exit %d, want %d\n%s%s", what,
			    order == 0 ? "first" : "last", r.exit_code, code,
			    r.out, r.err);
		doc = one_object(&r, what);
		seen += check_reasons(doc, what);
		json_decref(doc);
		run_result_free(&r);
	}
	return seen;
}

static void
test_json_every_command_prints_one_object(void **state)
{
	struct harness *f = *state;
	char bak[4200], bak2[4200];
	const char *version[] = {"version", NULL};
	const char *list[] = {"list", NULL};
	const char *history[] = {"history", NULL};
	const char *plan[] = {"plan", "--as-of", T0, NULL};
	const char *explain[] = {"explain", SNAP, NULL};
	const char *pin[] = {"pin", SNAP, NULL};
	const char *unpin[] = {"unpin", SNAP, NULL};
	const char *promote[] = {"promote", SNAP, "--channel", "stable", NULL};
	const char *baseline[] = {"baseline", NULL};
	const char *drift[] = {"drift", NULL};
	const char *sync[] = {"sync", NULL};
	const char *cfg[] = {"config", "check", NULL};
	const char *migrate[] = {"db", "migrate", NULL};
	const char *status[] = {"db", "status", NULL};
	const char *dbcheck[] = {"db", "check", NULL};
	size_t reasons = 0;

	both_orders(f, 0, version);
	both_orders(f, 0, list);
	both_orders(f, 0, history);
	reasons += both_orders(f, 0, plan);
	reasons += both_orders(f, 0, explain);
	both_orders(f, 0, pin);
	both_orders(f, 0, unpin);
	both_orders(f, 0, promote);
	both_orders(f, 0, baseline);
	both_orders(f, 0, drift);
	both_orders(f, 0, sync);
	both_orders(f, 0, cfg);
	both_orders(f, 0, migrate);
	both_orders(f, 0, status);
	both_orders(f, 0, dbcheck);
	/* each order makes its own backup file: a second onto one is refused */
	snprintf(bak, sizeof(bak), "%s/b1.db", f->dir);
	snprintf(bak2, sizeof(bak2), "%s/b2.db", f->dir);
	{
		struct run_result r;
		json_t *doc;

		harness_aksnap(f, &r, "--json", "db", "backup", bak, NULL);
		harness_expect_exit(&r, 0);
		doc = one_object(&r, "db backup");
		assert_string_equal(
		    json_string_value(json_object_get(doc, "backup")), bak);
		assert_true(json_is_true(json_object_get(doc, "verified")));
		json_decref(doc);
		run_result_free(&r);
		harness_aksnap(f, &r, "db", "backup", bak2, "--json", NULL);
		harness_expect_exit(&r, 0);
		json_decref(one_object(&r, "db backup"));
		run_result_free(&r);
	}
	/* plan and explain both carry reasons, so arrays were really seen */
	assert_true(reasons >= 4);
}

static void
test_json_version_and_promote_fields(void **state)
{
	struct harness *f = *state;
	struct run_result r;
	json_t *doc;

	harness_aksnap(f, &r, "version", "--json", NULL);
	harness_expect_exit(&r, 0);
	doc = one_object(&r, "version");
	assert_non_null(json_string_value(json_object_get(doc, "version")));
	json_decref(doc);
	run_result_free(&r);

	harness_aksnap(f, &r, "promote", SNAP, "--json", NULL);
	harness_expect_exit(&r, 0);
	doc = one_object(&r, "promote");
	assert_string_equal(
	    json_string_value(json_object_get(doc, "pool")), "staging-system");
	assert_string_equal(
	    json_string_value(json_object_get(doc, "snapshot")), SNAP);
	assert_string_equal(
	    json_string_value(json_object_get(doc, "channel")), "stable");
	json_decref(doc);
	run_result_free(&r);

	/* demote: the snapshot and each change, reasons as arrays */
	harness_aksnap(f, &r, "demote", SNAP, "--json", NULL);
	harness_expect_exit(&r, 0);
	doc = one_object(&r, "demote");
	assert_string_equal(
	    json_string_value(json_object_get(doc, "snapshot")), SNAP);
	assert_true(json_is_null(json_object_get(doc, "channel")));
	{
		json_t *c = json_array_get(json_object_get(doc, "changes"), 0);

		assert_string_equal(
		    json_string_value(json_object_get(c, "action")), "demote");
		assert_true(json_is_array(json_object_get(c, "reasons")));
	}
	json_decref(doc);
	run_result_free(&r);
}

static void
test_json_plan_reasons_are_separate_strings(void **state)
{
	struct harness *f = *state;
	struct run_result r;
	json_t *doc, *pools, *p, *reasons;
	size_t i;
	int saw_keep_words = 0;

	/* The next day: a new slot is due and yesterday's snapshot is kept
	 * for several retention reasons at once. */
	assert_int_equal(emu_set_clock(f->emu, "2026-11-11T03:00:00Z"), 0);
	harness_aksnap(
	    f, &r, "plan", "--as-of", "2026-11-11T03:00:00Z", "--json", NULL);
	harness_expect_exit(&r, 0);
	doc = one_object(&r, "plan");
	pools = json_object_get(doc, "pools");
	assert_true(json_array_size(pools) == 2);
	json_array_foreach(pools, i, p)
	{
		json_t *lines = json_object_get(p, "snapshots");
		json_t *l;
		size_t j;

		reasons = json_object_get(p, "reasons");
		assert_true(json_is_array(reasons));
		assert_true(json_array_size(reasons) >= 1);
		json_array_foreach(lines, j, l)
		{
			json_t *rs = json_object_get(l, "reasons");

			assert_true(json_is_array(rs));
			/* "last,daily,..." became one string per rule */
			for (size_t k = 0; k < json_array_size(rs); k++) {
				const char *s =
				    json_string_value(json_array_get(rs, k));

				assert_non_null(s);
				assert_null(strchr(s, ','));
				if (strcmp(s, "daily") == 0)
					saw_keep_words = 1;
			}
		}
	}
	json_decref(doc);
	run_result_free(&r);
	assert_true(saw_keep_words);
}

/* The first of ${key} in `--json ${cmd}` has an os_type, and no os_sku. */
/* ${r}'s stdout is exactly what jansson dumps of the document it
 * holds (JSON_INDENT(2) | JSON_PRESERVE_ORDER, then a newline). */
static void
expect_jansson_layout(const struct run_result *r)
{
	json_t *doc = json_loads(r->out, 0, NULL);
	char *again;

	assert_non_null(doc);
	again = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	assert_non_null(again);
	assert_int_equal(strlen(r->out), strlen(again) + 1);
	assert_memory_equal(r->out, again, strlen(again));
	assert_int_equal(r->out[strlen(again)], '\n');
	free(again);
	json_decref(doc);
}

/*
 * check --json is written as it goes (cmd_check.c), not dumped from a
 * tree: byte for byte the layout jansson gives the same document, with
 * problems (two pools' CRITICAL, past twice their schedule) and with
 * none (the empty array).
 */
static void
test_json_check_is_jansson_layout(void **state)
{
	struct harness *f = *state;
	struct run_result r;
	json_t *doc;

	harness_aksnap(
	    f, &r, "--json", "check", "--as-of", "2026-11-20T03:00:00Z", NULL);
	harness_expect_exit(&r, 2);
	expect_jansson_layout(&r);
	doc = json_loads(r.out, 0, NULL);
	assert_int_equal(json_array_size(json_object_get(doc, "problems")), 2);
	json_decref(doc);
	run_result_free(&r);
	harness_aksnap(f, &r, "check", "--json", "--as-of", T0, NULL);
	harness_expect_exit(&r, 0);
	expect_jansson_layout(&r);
	assert_non_null(strstr(r.out, "\"problems\": []\n}"));
	run_result_free(&r);
}

static void
expect_unknown_sku(const char *config, const char *cmd, const char *key)
{
	struct run_result r;
	json_t *doc, *o;

	harness_aksnapl(&r, config, "--json", cmd, NULL);
	harness_expect_exit(&r, 0);
	doc = json_loads(r.out, 0, NULL);
	assert_non_null(doc);
	o = json_array_get(json_object_get(doc, key), 0);
	assert_non_null(o);
	assert_true(json_is_null(json_object_get(o, "os_sku")));
	assert_string_equal(
	    json_string_value(json_object_get(o, "os_type")), "Linux");
	json_decref(doc);
	run_result_free(&r);
}

/*
 * A version ARM does not show (a pool without osSKU, as in ARM's own
 * ManagedClustersGet example) is null in every command's JSON: the
 * observation in history as the snapshot in list.
 */
static void
test_json_unknown_version_is_null_everywhere(void **state)
{
	static const char *const FLEET_NO_SKU =
	    "{\"subscriptions\": [{\"id\": \"" HARNESS_SUBSCRIPTION "\", "
	    "\"resourceGroups\": [{\"name\": \"rg-staging\", \"location\": "
	    "\"westeurope\", \"clusters\": [{\"name\": \"aks-staging\", "
	    "\"location\": \"westeurope\", \"kubernetesVersion\": \"1.30.5\", "
	    "\"agentPools\": [{\"name\": \"system\", \"osSku\": null}]}]}]}]}";
	static const char *const INI =
	    "\n[policy:default]\nschedule = 0 2 * * *\n"
	    "promote_after = never\n"
	    "\n[pool:staging-system]\nresource_group = rg-staging\n"
	    "cluster = aks-staging\nnodepool = system\n";
	char fleet[4200];
	const char *args[] = {"--fleet", fleet, "--retry-after", "0", NULL};
	struct run_result r;
	struct harness h;

	(void)state;
	assert_int_equal(harness_open_dir(&h), 0);
	snprintf(fleet, sizeof(fleet), "%s/fleet.json", h.dir);
	assert_int_equal(harness_write_file(fleet, FLEET_NO_SKU, 0600), 0);
	assert_int_equal(harness_start(&h, args, INI), 0);
	assert_int_equal(emu_set_clock(h.emu, T0), 0);
	harness_aksnap(&h, &r, "run", "--as-of", T0, NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);

	expect_unknown_sku(h.config, "list", "snapshots");
	expect_unknown_sku(h.config, "history", "observations");
	/* The table says "-" for it: every row has the header's 10 fields
	 * (FIRST SEEN, LAST SEEN, NODE IMAGE, OS SKU, VM SIZE, CHANGED BY
	 * are two words each in the header, one in a row). */
	harness_aksnap(&h, &r, "history", NULL);
	harness_expect_exit(&r, 0);
	{
		const char *row = strchr(r.out, '\n');
		char *fields[16];
		char *copy, *save = NULL;
		size_t n = 0;

		assert_non_null(row);
		copy = strdup(row + 1);
		assert_non_null(copy);
		for (char *w = strtok_r(copy, " \t\n", &save);
		     w != NULL && n < 16; w = strtok_r(NULL, " \t\n", &save))
			fields[n++] = w;
		assert_int_equal(n, 10);
		assert_string_equal(fields[6], "-");
		free(copy);
	}
	run_result_free(&r);
	harness_fini(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_json_every_command_prints_one_object, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_json_version_and_promote_fields, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_json_plan_reasons_are_separate_strings, setup, teardown),
	    cmocka_unit_test(test_json_unknown_version_is_null_everywhere),
	    cmocka_unit_test_setup_teardown(
	        test_json_check_is_jansson_layout, setup, teardown),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
