/*
 * test_report_fleet.c -- `aksnap report` over 2,000 pools (issue 16: the
 * report streamed).  The emulator generates the fleet (--generate
 * 200:10, tests/armemu/README.md), three daily runs take a snapshot of
 * every pool each (snapshot_when = always), and then:
 *
 *   - `--json report` is one JSON document of the 2,000 configured pools
 *     in 200 clusters, each with its three "taken" marks and three
 *     active snapshots, and the summary counts them;
 *   - `report --html FILE` draws every pool's row and timeline;
 *   - with a configuration that no longer names one pool, the report
 *     leaves it out, and `--pool` still shows its record (not
 *     configured, seen, its marks);
 *   - `db status` (text and --json) gives the counts count(*) gives, read
 *     from the counts the store keeps (migration 0016).
 *   - `--json config check`, `--json drift` and `baseline --format json`
 *     print every one of the 2,000 pools, within 3 MiB of peak RSS above
 *     `history POOL`: each streams its document a pool at a time (before,
 *     each built the whole tree: config check 7.0 MiB above, 10.0 MiB
 *     below with it streamed);
 *   - the reports stay within 8 MiB of peak RSS above `history POOL` (which
 *     loads the same configuration and opens the same store, and reads
 *     one pool): SQLite's page cache (at most 4 MiB, db/db.c) fills as
 *     the report reads the store, and the report holds one pool at a
 *     time, not the fleet (before it was streamed, the report here held
 *     every pool, --json the whole document: 64 and 24 MiB above
 *     `history POOL`; streamed, 1 to 5 MiB).  Measured with wait4() on the
 * child, right after the runs, while this test process is still small (a
 * child's peak counts its parent's pages at the fork); not under valgrind or
 * ASan, whose RSS is theirs: skipped when $AKSNAP_WRAPPER is set or $AKSNAP_BIN
 * lives under build-san/.
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

#include "job/base/util.h"
#include "tests/e2e/harness.h"

#define CLUSTERS 200
#define PER_CLUSTER 10
#define NPOOLS (CLUSTERS * PER_CLUSTER)
#define RSS_ABOVE_KB (8L * 1024) /* the page cache, and one pool */
#define RSS_STREAM_KB (3L * 1024) /* a streamed document: one pool */

static const char *const DAYS[] = {
    "2026-03-10T03:00:00Z", "2026-03-11T03:00:00Z", "2026-03-12T03:00:00Z"};
#define NDAYS (sizeof(DAYS) / sizeof(DAYS[0]))

/* The configuration of the generated fleet: one [pool:] section a pool. */
static char *
fleet_ini(void)
{
	size_t cap = (size_t)NPOOLS * 120 + 512, len = 0;
	char *ini = malloc(cap);

	assert_non_null(ini);
	len += (size_t)snprintf(ini + len, cap - len,
	    "timezone = UTC\n\n[policy:default]\nschedule = @daily\n"
	    "snapshot_when = always\n");
	for (int i = 1; i <= CLUSTERS; i++)
		for (int j = 0; j < PER_CLUSTER; j++)
			len += (size_t)snprintf(ini + len, cap - len,
			    "\n[pool:aks-%d-pool%d]\nresource_group = rg-%d\n"
			    "cluster = aks-%d\nnodepool = pool%d\n",
			    i, j, (i - 1) / 10 + 1, i, j);
	assert_true(len < cap);
	return ini;
}

struct fx {
	struct harness *h;
	char html[4200];
	char *json; /* --json report's output */
	long rss_ref, rss_json, rss_html; /* KiB */
	/* the streamed documents: --json config check, --json drift,
	 * baseline --format json; their outputs and peak RSS (KiB) */
	char *doc[3];
	long rss_doc[3];
};

static const char *const DOC_ARGS[3][3] = {{"--json", "config", "check"},
    {"--json", "drift", NULL}, {"baseline", "--format", "json"}};
static const char *const DOC_ARRAY[3] = {"pools", "pools", "baselines"};

static long rss_of(struct harness *h, struct run_result *r, const char *w1,
    const char *w2, const char *w3);

/*
 * The fleet after three runs, then the three commands measured: history
 * POOL (the reference), report --html, --json report (whose output this
 * process reads last, after every fork).
 */
static int
setup(void **state)
{
	static const char *const args[] = {"--generate", "200:10", NULL};
	struct harness *h;
	struct run_result r;
	struct fx *f;
	char *ini = fleet_ini();

	h = harness_new(args, ini);
	free(ini);
	if (h == NULL)
		return -1;
	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->h = h;
	for (size_t d = 0; d < NDAYS; d++) {
		assert_int_equal(emu_set_clock(h->emu, DAYS[d]), 0);
		assert_int_equal(
		    harness_aksnap(h, &r, "run", "--as-of", DAYS[d], NULL), 0);
		harness_expect_exit(&r, 0);
		run_result_free(&r);
	}
	assert_int_equal(emu_counter(h->emu, "PUT snapshots.put 201"),
	    (long)(NPOOLS * NDAYS));
	f->rss_ref = rss_of(h, &r, "history", "aks-1-pool0", NULL);
	run_result_free(&r);
	snprintf(f->html, sizeof(f->html), "%s/report.html", h->dir);
	f->rss_html = rss_of(h, &r, "report", "--html", f->html);
	harness_expect_in(r.out, "pools         2000 in 200 clusters");
	run_result_free(&r);
	for (size_t d = 0; d < 3; d++) {
		f->rss_doc[d] = rss_of(
		    h, &r, DOC_ARGS[d][0], DOC_ARGS[d][1], DOC_ARGS[d][2]);
		f->doc[d] = r.out;
		r.out = NULL;
		run_result_free(&r);
	}
	f->rss_json = rss_of(h, &r, "--json", "report", NULL);
	f->json = r.out;
	r.out = NULL;
	run_result_free(&r);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	if (f != NULL) {
		harness_free(f->h);
		free(f->json);
		for (size_t d = 0; d < 3; d++)
			free(f->doc[d]);
		free(f);
	}
	return 0;
}

/* Run aksnap with up to three words (NULL ends them) to its end, exit 0;
 * its output in ${r}, its peak RSS (KiB) returned. */
static long
rss_of(struct harness *h, struct run_result *r, const char *w1, const char *w2,
    const char *w3)
{
	struct harness_bg bg;
	long rss = 0;

	assert_int_equal(harness_aksnap_start(h, &bg, w1, w2, w3, NULL), 0);
	assert_int_equal(harness_aksnap_wait(&bg, r, &rss), 0);
	harness_expect_exit(r, 0);
	return rss;
}

static void
test_report_json_of_2000_pools(void **state)
{
	struct fx *f = *state;
	json_t *doc, *pools, *sum;
	size_t i;

	doc = json_loads(f->json, 0, NULL);
	assert_non_null(doc);
	pools = json_object_get(doc, "pools");
	sum = json_object_get(doc, "summary");
	assert_int_equal(json_array_size(pools), NPOOLS);
	assert_int_equal(
	    json_integer_value(json_object_get(sum, "pools")), NPOOLS);
	assert_int_equal(
	    json_integer_value(json_object_get(sum, "clusters")), CLUSTERS);
	assert_int_equal(json_integer_value(json_object_get(sum, "runs")), 3);
	for (i = 0; i < NPOOLS; i++) {
		json_t *p = json_array_get(pools, i), *m;
		size_t taken = 0, k;

		json_array_foreach(json_object_get(p, "marks"), k, m) taken +=
		    strcmp(json_string_value(json_object_get(m, "kind")),
		        "taken") == 0;
		if (taken != NDAYS ||
		    json_integer_value(json_object_get(
		        p, "active_snapshots")) != (json_int_t)NDAYS)
			fail_msg("%s: %zu taken",
			    json_string_value(json_object_get(p, "pool")),
			    taken);
	}
	/* report order: by cluster, aks-2 before aks-10 */
	assert_string_equal(json_string_value(json_object_get(
	                        json_array_get(pools, 0), "pool")),
	    "aks-1-pool0");
	assert_string_equal(json_string_value(json_object_get(
	                        json_array_get(pools, PER_CLUSTER), "pool")),
	    "aks-2-pool0");
	json_decref(doc);
	if (!harness_rss_measurable())
		skip();
	fprintf(stderr,
	    "# --json report over %d pools: peak RSS %ld KiB (history POOL: "
	    "%ld KiB)\n",
	    NPOOLS, f->rss_json, f->rss_ref);
	assert_true(f->rss_ref > 0);
	assert_true(f->rss_json < f->rss_ref + RSS_ABOVE_KB);
}

static void
test_report_html_of_2000_pools(void **state)
{
	struct fx *f = *state;
	char needle[96];
	char *page = NULL;
	size_t len;

	assert_int_equal(
	    util_read_file(f->html, 256 << 20, &page, &len, NULL, 0), 0);
	for (int i = 1; i <= CLUSTERS; i += 37) {
		snprintf(needle, sizeof(needle),
		    "<div class=\"pool\" data-pool=\"aks-%d-pool9\">", i);
		harness_expect_in(page, needle);
		snprintf(needle, sizeof(needle),
		    "<tr data-pool=\"aks-%d-pool9\">", i);
		harness_expect_in(page, needle);
	}
	free(page);
	if (!harness_rss_measurable())
		skip();
	fprintf(stderr,
	    "# report --html over %d pools: peak RSS %ld KiB (history POOL: "
	    "%ld KiB)\n",
	    NPOOLS, f->rss_html, f->rss_ref);
	assert_true(f->rss_html < f->rss_ref + RSS_ABOVE_KB);
}

/* config check, drift and baseline print their one JSON document for
 * 2,000 pools a pool at a time. */
static void
test_fleet_documents_are_streamed(void **state)
{
	struct fx *f = *state;
	json_t *doc, *arr;

	for (size_t d = 0; d < 3; d++) {
		doc = json_loads(f->doc[d], 0, NULL);
		assert_non_null(doc);
		arr = json_object_get(doc, DOC_ARRAY[d]);
		assert_int_equal(json_array_size(arr), NPOOLS);
		assert_string_equal(
		    json_string_value(json_object_get(
		        json_array_get(arr, NPOOLS - 1), "pool")),
		    "aks-200-pool9");
		json_decref(doc);
	}
	if (!harness_rss_measurable())
		skip();
	for (size_t d = 0; d < 3; d++) {
		fprintf(stderr,
		    "# %s %s %s over %d pools: peak RSS %ld KiB (history "
		    "POOL: %ld KiB)\n",
		    DOC_ARGS[d][0], DOC_ARGS[d][1],
		    DOC_ARGS[d][2] != NULL ? DOC_ARGS[d][2] : "", NPOOLS,
		    f->rss_doc[d], f->rss_ref);
		assert_true(f->rss_doc[d] < f->rss_ref + RSS_STREAM_KB);
	}
}

static void
test_report_leaves_out_a_pool_no_longer_configured(void **state)
{
	struct fx *f = *state;
	struct run_result r;
	char path[4200], *text = NULL, *cut;
	json_t *doc, *pools, *p;
	size_t len;

	/* the configuration less its last section, aks-200-pool9 */
	assert_int_equal(
	    util_read_file(f->h->config, 1 << 24, &text, &len, NULL, 0), 0);
	cut = strstr(text, "\n[pool:aks-200-pool9]");
	assert_non_null(cut);
	cut[1] = '\0';
	snprintf(path, sizeof(path), "%s/less.ini", f->h->dir);
	assert_int_equal(harness_write_file(path, text, 0600), 0);
	free(text);

	harness_aksnapl(&r, path, "--json", "report", NULL);
	harness_expect_exit(&r, 0);
	doc = json_loads(r.out, 0, NULL);
	run_result_free(&r);
	assert_non_null(doc);
	pools = json_object_get(doc, "pools");
	assert_int_equal(json_array_size(pools), NPOOLS - 1);
	assert_string_equal(json_string_value(json_object_get(
	                        json_array_get(pools, NPOOLS - 2), "pool")),
	    "aks-200-pool8");
	json_decref(doc);

	harness_aksnapl(&r, path, "--json", "report", "--pool", "aks-200-pool9",
	    "--pool", "aks-200-pool8", NULL);
	harness_expect_exit(&r, 0);
	doc = json_loads(r.out, 0, NULL);
	run_result_free(&r);
	assert_non_null(doc);
	pools = json_object_get(doc, "pools");
	assert_int_equal(json_array_size(pools), 2);
	p = json_array_get(pools, 1);
	assert_string_equal(
	    json_string_value(json_object_get(p, "pool")), "aks-200-pool9");
	assert_true(json_is_false(json_object_get(p, "configured")));
	assert_true(json_is_true(json_object_get(p, "seen")));
	assert_int_equal(json_array_size(json_object_get(p, "marks")), NDAYS);
	assert_true(json_is_true(
	    json_object_get(json_array_get(pools, 0), "configured")));
	json_decref(doc);
}

/* count(*) of ${sql}'s table, read from the store itself. */
static long long
store_count(const char *store, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long long n;

	assert_int_equal(
	    sqlite3_open_v2(store, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static void
test_db_status_counts_are_the_stores(void **state)
{
	static const char *const tables[] = {
	    "pools", "observations", "snapshots", "runs", "decisions"};
	struct fx *f = *state;
	struct run_result r;
	char sql[96], line[96];
	json_t *doc;

	harness_aksnap(f->h, &r, "--json", "db", "status", NULL);
	harness_expect_exit(&r, 0);
	doc = json_loads(r.out, 0, NULL);
	run_result_free(&r);
	assert_non_null(doc);
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		snprintf(
		    sql, sizeof(sql), "SELECT count(*) FROM %s", tables[i]);
		assert_int_equal(
		    json_integer_value(json_object_get(doc, tables[i])),
		    store_count(f->h->store, sql));
	}
	assert_int_equal(json_integer_value(json_object_get(doc, "snapshots")),
	    NPOOLS * NDAYS);
	assert_int_equal(
	    json_integer_value(json_object_get(
	        json_object_get(doc, "snapshots_by_state"), "active")),
	    NPOOLS * NDAYS);
	json_decref(doc);

	harness_aksnap(f->h, &r, "db", "status", NULL);
	harness_expect_exit(&r, 0);
	snprintf(line, sizeof(line), "\nsnapshots       %d (active %d)\n",
	    NPOOLS * (int)NDAYS, NPOOLS * (int)NDAYS);
	harness_expect_in(r.out, line);
	snprintf(line, sizeof(line), "\ndecisions       %lld\n",
	    store_count(f->h->store, "SELECT count(*) FROM decisions"));
	harness_expect_in(r.out, line);
	run_result_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_report_json_of_2000_pools),
	    cmocka_unit_test(test_report_html_of_2000_pools),
	    cmocka_unit_test(test_fleet_documents_are_streamed),
	    cmocka_unit_test(
	        test_report_leaves_out_a_pool_no_longer_configured),
	    cmocka_unit_test(test_db_status_counts_are_the_stores),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
