/*
 * test_list_stream.c -- `list` and `history` over a store of many rows
 * (issue 16: they stream rows instead of holding them).
 *
 * A run over ten pools of the emulator's generated fleet (--generate
 * 2:5), then the store is given 50,000 more snapshots (40,000 of them
 * live, names and channels of several widths, one name longer than any
 * other in the middle of the list) and 50,000 observations by SQL, and:
 *
 *   - `list` prints every live snapshot, one line each, its columns as
 *     wide as their widest cell (each column starts where the header
 *     says on every line: the widths measured before the first line are
 *     the ones it prints);
 *   - `history --since` prints every interval, aligned the same way, and
 *     `--json list`, `--json history --since` hold every row;
 *   - each stays within 8 MiB of peak RSS above `history POOL` (the same
 *     configuration and store, one pool read): SQLite's page cache (at
 *     most 4 MiB, db/db.c) and one row.  Before, `list` held every row's
 *     cells for the table (11 MiB above here), `history` too (18 MiB) and
 *     its --json the whole document.  Measured with wait4() on the child,
 *     every one before any output is read back (a child's peak counts its
 *     parent's pages at the fork); not under valgrind or ASan (skipped
 *     when $AKSNAP_WRAPPER is set or $AKSNAP_BIN lives under build-san/).
 *
 * No test asserts a duration.
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "tests/e2e/harness.h"

#define NPOOLS 10
#define NBULK 50000
#define NLIVE (NBULK - NBULK / 5) /* every fifth one deleted */
#define RSS_ABOVE_KB (8L * 1024) /* the page cache, a row, the noise */
#define LONG_NAME "bulk-a-name-longer-than-any-other-in-this-list-of-many"

static const char *const INI =
    "timezone = UTC\n\n[policy:default]\nschedule = @daily\n"
    "snapshot_when = always\n"
    "\n[pool:aks-1-pool0]\nresource_group = rg-1\ncluster = aks-1\n"
    "nodepool = pool0\n"
    "\n[pool:aks-1-pool1]\nresource_group = rg-1\ncluster = aks-1\n"
    "nodepool = pool1\n"
    "\n[pool:aks-1-pool2]\nresource_group = rg-1\ncluster = aks-1\n"
    "nodepool = pool2\n"
    "\n[pool:aks-1-pool3]\nresource_group = rg-1\ncluster = aks-1\n"
    "nodepool = pool3\n"
    "\n[pool:aks-1-pool4]\nresource_group = rg-1\ncluster = aks-1\n"
    "nodepool = pool4\n"
    "\n[pool:aks-2-pool0]\nresource_group = rg-1\ncluster = aks-2\n"
    "nodepool = pool0\n"
    "\n[pool:aks-2-pool1]\nresource_group = rg-1\ncluster = aks-2\n"
    "nodepool = pool1\n"
    "\n[pool:aks-2-pool2]\nresource_group = rg-1\ncluster = aks-2\n"
    "nodepool = pool2\n"
    "\n[pool:aks-2-pool3]\nresource_group = rg-1\ncluster = aks-2\n"
    "nodepool = pool3\n"
    "\n[pool:aks-2-pool4]\nresource_group = rg-1\ncluster = aks-2\n"
    "nodepool = pool4\n";

/* The pools numbered 0 to 9 (k). */
#define POOL_NO                                                                \
	"(SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM pools)"

/* The bulk rows: snapshots over the ten pools, newest in the middle the
 * longest name; observations a new image every hour, a pool in turn. */
static const char *const BULK =
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
    "WHERE i < 50000) "
    "INSERT INTO snapshots (pool_id, name, slot, created_at, "
    "node_image_version, kubernetes_version, os_type, state, pinned, "
    "channel, updated_at) "
    "SELECT p.id, "
    "CASE WHEN i = 25001 THEN '" LONG_NAME "' ELSE 'bulk-' || i END, "
    "NULL, 1700000000 + i * 60, "
    "CASE WHEN i % 7 = 0 THEN NULL "
    "ELSE 'AKSUbuntu-2204gen2containerd-2026' || (i % 1000) END, "
    "'1.3' || (i % 3) || '.1', 'Linux', "
    "CASE WHEN i % 5 = 0 THEN 'deleted' ELSE 'active' END, i % 2, "
    "CASE WHEN i % 11 = 0 THEN 'canary-of-a-long-name' END, "
    "1700000000 + i * 60 FROM n JOIN " POOL_NO " p ON p.k = i % 10;"
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
    "WHERE i < 50000) "
    "INSERT INTO observations (pool_id, observed_at, last_seen, "
    "node_image_version, kubernetes_version, os_type, os_sku, vm_size, "
    "enable_fips, provisioning_state) "
    "SELECT p.id, 1500000000 + i * 3600, 1500000000 + i * 3600 + 1800, "
    "'AKSUbuntu-2204gen2containerd-2025' || i, '1.31.' || (i % 100), "
    "'Linux', 'Ubuntu', 'Standard_D' || (i % 64) || 's_v5', 0, "
    "CASE WHEN i % 13 = 0 THEN 'missing' ELSE 'Succeeded' END "
    "FROM n JOIN " POOL_NO " p ON p.k = i % 10;";

/* The commands measured: list, --json list, history, --json history. */
static const char *const CMDS[4][4] = {
    {"list", NULL, NULL, NULL},
    {"--json", "list", NULL, NULL},
    {"history", "--since", "2000-01-01T00:00:00Z", NULL},
    {"--json", "history", "--since", "2000-01-01T00:00:00Z"},
};

struct fx {
	struct harness *h;
	long rss_ref; /* KiB: history POOL */
	long rss[4]; /* KiB: CMDS */
};

/* Run aksnap with up to four words (NULL ends them) to its end, exit 0;
 * its output in ${r}, its peak RSS (KiB) returned. */
static long
rss_of(struct harness *h, struct run_result *r, const char *w1, const char *w2,
    const char *w3, const char *w4)
{
	struct harness_bg bg;
	long rss = 0;

	assert_int_equal(harness_aksnap_start(h, &bg, w1, w2, w3, w4, NULL), 0);
	assert_int_equal(harness_aksnap_wait(&bg, r, &rss), 0);
	harness_expect_exit(r, 0);
	return rss;
}

static int
setup(void **state)
{
	static const char *const args[] = {"--generate", "2:5", NULL};
	struct harness *h;
	struct run_result r;
	struct fx *f;
	sqlite3 *db = NULL;
	char *err = NULL;

	h = harness_new(args, INI);
	if (h == NULL)
		return -1;
	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->h = h;
	assert_int_equal(emu_set_clock(h->emu, "2026-03-10T03:00:00Z"), 0);
	assert_int_equal(harness_aksnap(h, &r, "run", "--as-of",
	                     "2026-03-10T03:00:00Z", NULL),
	    0);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
	assert_int_equal(sqlite3_open(h->store, &db), SQLITE_OK);
	if (sqlite3_exec(db, BULK, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("bulk rows: %s", err);
	sqlite3_close(db);
	/*
	 * Every peak measured here, each output freed at once: a child's
	 * peak counts the pages its parent (this test) holds at the fork, and
	 * the outputs read back and parsed would count into the next one.
	 */
	f->rss_ref = rss_of(h, &r, "history", "aks-1-pool0", NULL, NULL);
	run_result_free(&r);
	for (size_t c = 0; c < 4; c++) {
		f->rss[c] = rss_of(
		    h, &r, CMDS[c][0], CMDS[c][1], CMDS[c][2], CMDS[c][3]);
		run_result_free(&r);
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	if (f != NULL) {
		harness_free(f->h);
		free(f);
	}
	return 0;
}

/*
 * Every line of the table ${text} has its columns where the header's
 * words start (two spaces before each, a cell's first character on it);
 * the number of lines returned.
 */
static size_t
assert_aligned(const char *text)
{
	size_t start[16], ncols = 0, lines = 0;
	const char *eol = strchr(text, '\n');

	assert_non_null(eol);
	for (const char *p = text + 1; p < eol; p++)
		if (p[-1] == ' ' && p[0] != ' ' && p - text >= 2 &&
		    p[-2] == ' ' && ncols < 16)
			start[ncols++] = (size_t)(p - text);
	assert_true(ncols >= 5);
	for (const char *line = text; *line != '\0'; line = eol + 1) {
		eol = strchr(line, '\n');
		assert_non_null(eol);
		for (size_t c = 0; c < ncols; c++)
			if ((size_t)(eol - line) <= start[c] ||
			    line[start[c] - 1] != ' ' ||
			    line[start[c] - 2] != ' ' || line[start[c]] == ' ')
				fail_msg("line %zu, column %zu: %.*s", lines,
				    c + 1, (int)(eol - line), line);
		lines++;
	}
	return lines;
}

static size_t
json_rows(const char *text, const char *key)
{
	json_t *doc = json_loads(text, 0, NULL);
	size_t n;

	assert_non_null(doc);
	assert_true(json_is_array(json_object_get(doc, key)));
	n = json_array_size(json_object_get(doc, key));
	json_decref(doc);
	return n;
}

/* Command ${c} of CMDS within RSS_ABOVE_KB of history POOL's peak. */
static void
assert_rss(const struct fx *f, size_t c)
{
	if (harness_rss_measurable() && f->rss[c] > f->rss_ref + RSS_ABOVE_KB)
		fail_msg("%s%s%s: peak RSS %ld KiB, history POOL %ld KiB",
		    CMDS[c][0], CMDS[c][1] != NULL ? " " : "",
		    CMDS[c][1] != NULL ? CMDS[c][1] : "", f->rss[c],
		    f->rss_ref);
}

/* Run command ${c} of CMDS (exit 0) into ${r}. */
static void
run_cmd(const struct fx *f, struct run_result *r, size_t c)
{
	assert_int_equal(harness_aksnap(f->h, r, CMDS[c][0], CMDS[c][1],
	                     CMDS[c][2], CMDS[c][3], NULL),
	    0);
	harness_expect_exit(r, 0);
}

/* `list`: every live snapshot, aligned on the widths of them all, the
 * memory of one row. */
static void
test_list_streams_every_live_snapshot(void **state)
{
	struct fx *f = *state;
	struct run_result r;

	run_cmd(f, &r, 0);
	assert_int_equal(assert_aligned(r.out), 1 + NLIVE + NPOOLS);
	harness_expect_in(r.out, LONG_NAME);
	harness_expect_in(r.out, "canary-of-a-long-name");
	run_result_free(&r);
	assert_rss(f, 0);
	run_cmd(f, &r, 1);
	assert_int_equal(json_rows(r.out, "snapshots"), NLIVE + NPOOLS);
	run_result_free(&r);
	assert_rss(f, 1);
}

/* `history --since`: every interval of every pool, the same way. */
static void
test_history_streams_every_interval(void **state)
{
	struct fx *f = *state;
	struct run_result r;

	run_cmd(f, &r, 2);
	assert_int_equal(assert_aligned(r.out), 1 + NBULK + NPOOLS);
	harness_expect_in(r.out, "(missing)");
	run_result_free(&r);
	assert_rss(f, 2);
	run_cmd(f, &r, 3);
	assert_int_equal(json_rows(r.out, "observations"), NBULK + NPOOLS);
	run_result_free(&r);
	assert_rss(f, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_list_streams_every_live_snapshot),
	    cmocka_unit_test(test_history_streams_every_interval),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
