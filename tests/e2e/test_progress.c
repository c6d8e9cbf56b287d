/*
 * test_progress.c -- the one-line progress display of a run (issue 14):
 * on a terminal (a pseudo-terminal here, harness_aksnap_tty) `aksnap run`
 * over a generated fleet draws "clusters N/M observed, snapshots ...
 * taken, ... skipped, ... failed" in place, never wider than the
 * terminal, and erases it at the end; with standard error on a pipe,
 * under systemd (JOURNAL_STREAM) or with -v it writes none of it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/e2e/harness.h"

#define CLUSTERS 30
#define PER_CLUSTER 3

static int
setup(void **state)
{
	char gen[32], *ini;
	const char *args[] = {"--generate", gen, NULL};
	size_t cap = CLUSTERS * PER_CLUSTER * 160 + 256, len = 0;

	snprintf(gen, sizeof(gen), "%d:%d", CLUSTERS, PER_CLUSTER);
	ini = malloc(cap);
	if (ini == NULL)
		return -1;
	len += (size_t)snprintf(ini + len, cap - len,
	    "\n[policy:default]\nschedule = @daily\n"
	    "snapshot_when = changed\n");
	for (int i = 1; i <= CLUSTERS; i++)
		for (int j = 0; j < PER_CLUSTER; j++)
			len += (size_t)snprintf(ini + len, cap - len,
			    "\n[pool:aks-%d-pool%d]\nresource_group = rg-%d\n"
			    "cluster = aks-%d\nnodepool = pool%d\n",
			    i, j, (i - 1) / 10 + 1, i, j);
	*state = harness_new(args, ini);
	free(ini);
	return *state != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	harness_free(*state);
	return 0;
}

/*
 * Run aksnap ${words} (after -c CONFIG) with standard error on a
 * pseudo-terminal ${cols} wide (stdout to /dev/null), ${env} (NAME=VALUE,
 * or NULL) added; return everything written to the terminal (caller frees)
 * and the exit code in ${code}.  $AKSNAP_WRAPPER prefixes it, as in the
 * harness.
 */
static char *
run_on_pty(struct harness *f, int cols, const char *env, int *code,
    const char *const *words)
{
	struct harness h = *f; /* ${env} for this run only */
	struct run_result r;
	char *out;

	if (env != NULL)
		assert_int_equal(harness_setenv(&h, env), 0);
	assert_int_equal(harness_aksnap_tty(&h, &r, cols, words), 0);
	*code = r.exit_code;
	out = r.err;
	r.err = NULL;
	run_result_free(&r);
	return out;
}

/* Each drawn line ("\r" ... "\033[K") is at most ${max} characters. */
static size_t
check_lines(const char *out, size_t max)
{
	size_t lines = 0;

	for (const char *p = strchr(out, '\r'); p != NULL;
	     p = strchr(p + 1, '\r')) {
		const char *e = strstr(p, "\033[K");

		assert_non_null(e);
		if ((size_t)(e - p - 1) > max)
			fail_msg("a %zu-character line on a %zu-column "
			         "terminal: %.*s",
			    (size_t)(e - p - 1), max + 1, (int)(e - p - 1),
			    p + 1);
		lines++;
	}
	return lines;
}

static void
test_progress_on_a_terminal_in_place_and_erased(void **state)
{
	static const char *const words[] = {"run", NULL};
	struct harness *f = *state;
	char want[128];
	char *out;
	size_t len;
	int code;

	out = run_on_pty(f, 200, NULL, &code, words);
	assert_int_equal(code, 0);
	/* The last drawing before pruning has every count final. */
	snprintf(want, sizeof(want),
	    "\raksnap: clusters %d/%d observed, snapshots %d taken, 0 "
	    "skipped, 0 failed (pruning)\033[K",
	    CLUSTERS, CLUSTERS, CLUSTERS * PER_CLUSTER);
	if (strstr(out, want) == NULL)
		fail_msg("no final progress line; got: %s", out);
	harness_expect_in(out, "\raksnap: clusters 0/30 observed");
	assert_true(check_lines(out, 199) >= 3);
	/* Erased at the end: the terminal is left with an empty line. */
	len = strlen(out);
	assert_true(len >= 4);
	assert_string_equal(out + len - 4, "\r\033[K");
	/* Nothing else: the run itself is silent on success. */
	assert_null(strchr(out, '\n'));
	free(out);
}

static void
test_progress_fits_a_narrow_terminal(void **state)
{
	static const char *const words[] = {"plan", NULL};
	struct harness *f = *state;
	char *out;
	int code;

	out = run_on_pty(f, 40, NULL, &code, words);
	assert_int_equal(code, 0);
	assert_true(check_lines(out, 39) >= 2);
	harness_expect_in(out, "\raksnap: clusters 30/30 observed,");
	free(out);
}

static void
test_progress_absent_without_a_terminal(void **state)
{
	static const char *const verbose[] = {"-v", "run", NULL};
	static const char *const plain[] = {"run", NULL};
	struct harness *f = *state;
	struct run_result r;
	const char *argv[] = {"-c", f->config, "run", NULL};
	char *out;
	int code;

	/* A pipe (cron, a script, a CI log). */
	memset(&r, 0, sizeof(r));
	assert_int_equal(harness_run_aksnap(&r, argv), 0);
	harness_expect_exit(&r, 0);
	assert_null(strstr(r.err, "observed"));
	assert_null(strchr(r.err, '\r'));
	run_result_free(&r);

	/* The journal, even on a terminal. */
	out = run_on_pty(f, 200, "JOURNAL_STREAM=8:1234", &code, plain);
	assert_int_equal(code, 0);
	assert_null(strstr(out, "observed"));
	assert_null(strchr(out, '\r'));
	free(out);

	/* -v: log lines instead. */
	out = run_on_pty(f, 200, NULL, &code, verbose);
	assert_int_equal(code, 0);
	assert_null(strstr(out, "clusters 30/30 observed"));
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_progress_on_a_terminal_in_place_and_erased, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_progress_fits_a_narrow_terminal, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_progress_absent_without_a_terminal, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
