/*
 * test_report_html.c -- `aksnap report` end to end: the demo fleet's
 * store after a simulated month (the emulator's node image releases and
 * daily `run --as-of`, as tests/demo.sh does, with one run that fails),
 * then the report read back through the real binary:
 *
 *   - the HTML page holds every pool and every promotion the store
 *     recorded, and no URL at all (no src, no href, no http(s)://);
 *   - --json carries the same pools and promotions, with soak times;
 *   - headless Chromium (Debian's `chromium`, when installed; CI installs
 *     it) renders the page without a console message, its DOM holds
 *     every pool and promotion, and it draws a PNG;
 *   - the Grafana dashboard deploy/grafana/aksnap.json queries only
 *     metric names that the month's runs wrote into their textfile.
 *
 * The month is built once for the group (about 30 runs).
 */
#include <jansson.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "job/base/util.h"
#include "tests/e2e/harness.h"

#define FLEET "tests/armemu/fleet-demo.json"
#define DASHBOARD "deploy/grafana/aksnap.json"
#define DAY 86400

static const char *const POOLS[] = {"staging-system", "staging-user",
    "prod-system", "prod-batch", "edge-system"};
#define NPOOLS (sizeof(POOLS) / sizeof(POOLS[0]))

static const char *const INI =
    "timezone = Europe/Berlin\n"
    "\n[policy:default]\nschedule = 0 2 * * *\nsnapshot_when = changed\n"
    "keep_last = 3\nkeep_daily = 7\npromote_after = 7d\n"
    "channel = stable\n"
    "\n[pool:staging-system]\nresource_group = rg-staging\n"
    "cluster = aks-staging\nnodepool = system\n"
    "\n[pool:staging-user]\nresource_group = rg-staging\n"
    "cluster = aks-staging\nnodepool = user\n"
    "\n[pool:prod-system]\nresource_group = rg-prod\n"
    "cluster = aks-prod\nnodepool = system\n"
    "\n[pool:prod-batch]\nresource_group = rg-prod\n"
    "cluster = aks-prod\nnodepool = batch\n"
    "\n[pool:edge-system]\nresource_group = rg-prod\n"
    "cluster = aks-edge\nnodepool = system\n";

struct fx {
	struct harness h;
	char html[4096];
	char *page; /* the report written after the month */
	char promoted[64][64]; /* snapshot names of every promotion */
	size_t npromoted;
	int failed_runs;
};

static void
release(struct fx *f, const char *body)
{
	json_t *j = emu_post(f->h.emu, "/_armemu/release", body);

	if (j == NULL)
		fail_msg("release %s refused", body);
	json_decref(j);
}

/* The names of the snapshots of every promote decision, from the store. */
static void
read_promotions(struct fx *f)
{
	char path[4096];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	snprintf(path, sizeof(path), "%s", f->h.store);
	assert_int_equal(
	    sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
	                     "SELECT s.name FROM decisions d JOIN snapshots s "
	                     "ON s.id = d.snapshot_id WHERE d.action = "
	                     "'promote' ORDER BY d.at, d.id",
	                     -1, &st, NULL),
	    SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW && f->npromoted < 64)
		util_strlcpy(f->promoted[f->npromoted++],
		    (const char *)sqlite3_column_text(st, 0), 64);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static int
month(void **state)
{
	static const char *const args[] = {
	    "--fleet", FLEET, "--retry-after", "0", NULL};
	struct fx *f = calloc(1, sizeof(*f));
	struct run_result r;
	time_t start;
	size_t len;

	if (f == NULL || harness_init(&f->h, args, INI) != 0) {
		free(f);
		return -1;
	}
	*state = f;

	util_parse_time("2026-11-02T03:00:00Z", &start);
	for (int d = 0; d < 29; d++) {
		time_t t = start + (time_t)d * DAY;
		char as_of[32], clock[96];

		switch (d) {
		case 2:
		case 9:
		case 16:
		case 23:
			release(f,
			    "{\"resourceGroup\":\"rg-staging\","
			    "\"cluster\":\"aks-staging\"}");
			break;
		case 11:
			release(f,
			    "{\"resourceGroup\":\"rg-prod\","
			    "\"cluster\":\"aks-prod\"}");
			/* That day's snapshot of prod fails once (a policy
			 * refuses it): the run exits 1, the next one takes
			 * the slot. */
			if (emu_fault(f->h.emu,
			        "{\"method\":\"PUT\",\"path\":\"*/snapshots/"
			        "aksnap-aks-prod-batch-*\",\"action\":"
			        "\"status\","
			        "\"status\":400,\"count\":1}") < 0)
				return -1;
			break;
		case 14:
			/* prod goes on NodeImage: AKS re-images it weekly. */
			json_decref(emu_post(f->h.emu,
			    "/_armemu/clusters/auto-upgrade-profile",
			    "{\"cluster\":\"aks-prod\","
			    "\"nodeOSUpgradeChannel\":\"NodeImage\"}"));
			break;
		case 18:
			json_decref(emu_post(f->h.emu, "/_armemu/auto-upgrade",
			    "{\"cluster\":\"aks-prod\"}"));
			break;
		case 20:
			release(f,
			    "{\"resourceGroup\":\"rg-prod\","
			    "\"cluster\":\"aks-edge\","
			    "\"kubernetesVersion\":\"1.31.5\"}");
			break;
		}
		util_format_time(t, as_of, sizeof(as_of));
		snprintf(clock, sizeof(clock),
		    "{\"now\":\"%s\",\"frozen\":true}", as_of);
		json_decref(emu_post(f->h.emu, "/_armemu/clock", clock));
		harness_aksnap(&f->h, &r, "run", "--as-of", as_of, NULL);
		if (r.exit_code != 0) {
			f->failed_runs++;
			if (d != 11) {
				fprintf(stderr, "run %s exited %d:\n%s", as_of,
				    r.exit_code, r.err);
				run_result_free(&r);
				return -1;
			}
		}
		run_result_free(&r);
	}
	read_promotions(f);

	snprintf(f->html, sizeof(f->html), "%s/report.html", f->h.dir);
	harness_aksnap(&f->h, &r, "report", "--html", f->html, NULL);
	if (r.exit_code != 0) {
		fprintf(stderr, "report exited %d:\n%s", r.exit_code, r.err);
		run_result_free(&r);
		return -1;
	}
	run_result_free(&r);
	if (util_read_file(f->html, 64 << 20, &f->page, &len, NULL, 0))
		return -1;
	return 0;
}

static int
month_end(void **state)
{
	struct fx *f = *state;

	if (f == NULL)
		return 0;
	harness_fini(&f->h);
	free(f->page);
	free(f);
	return 0;
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p != NULL;
	     p = strstr(p + 1, needle))
		n++;
	return n;
}

/* Every pool and every promotion in ${doc} (a page or a DOM dump). */
static void
expect_pools_and_promotions(const struct fx *f, const char *doc)
{
	char needle[160];

	for (size_t i = 0; i < NPOOLS; i++) {
		snprintf(needle, sizeof(needle),
		    "<div class=\"pool\" "
		    "data-pool=\"%s\">",
		    POOLS[i]);
		harness_expect_in(doc, needle);
		snprintf(
		    needle, sizeof(needle), "<tr data-pool=\"%s\">", POOLS[i]);
		harness_expect_in(doc, needle);
	}
	for (size_t i = 0; i < f->npromoted; i++) {
		snprintf(needle, sizeof(needle), "data-promotion=\"%s\"",
		    f->promoted[i]);
		harness_expect_in(doc, needle);
	}
	assert_int_equal(count(doc, "data-promotion=\""), f->npromoted);
}

static void
test_report_html_holds_every_pool_and_promotion(void **state)
{
	struct fx *f = *state;

	/* The month promoted each pool's images after their soak: at least
	 * one promotion per pool, more for staging's weekly images. */
	assert_true(f->npromoted >= 8);
	expect_pools_and_promotions(f, f->page);
	/* Grouped by cluster: one group per managed cluster, in the drift
	 * matrix and in the timelines. */
	assert_int_equal(count(f->page, "<details class=\"cluster\""), 6);
	/* The failed run is in the summary and the runs table. */
	assert_int_equal(f->failed_runs, 1);
	harness_expect_in(f->page, "<h2 id=\"runs\">Failed runs (1 of 29)");
	harness_expect_in(f->page, "<li>prod-batch (1 failure)</li>");
	/* Who changed the pools: AKS's weekly upgrade of prod, the
	 * releases by hand elsewhere. */
	harness_expect_in(f->page, ", changed by auto-upgrade</title>");
	harness_expect_in(f->page, ", changed by outside</title>");
	harness_expect_in(f->page, "<path class=\"by-auto-upgrade\"");
	/* and the legend says so: the page's summary read the windows'
	 * observations for it (no other form does) */
	harness_expect_in(
	    f->page, "changed by aksnap, auto-upgrade, outside</span>");
	/* prod's baselines will not hold on NodeImage: drift's verdict,
	 * and the summary names both pools with the fix on hover. */
	harness_expect_in(f->page,
	    "<tr data-pool=\"prod-batch\"><td>prod-batch"
	    "</td><td class=\"v-channel-will-drift\">");
	harness_expect_in(f->page,
	    "<li title=\"nodeOSUpgradeChannel NodeImage "
	    "re-images the nodes weekly: set it to None "
	    "or Unmanaged\">prod-system</li>");
	/* Times in Europe/Berlin, UTC in the title. */
	harness_expect_in(f->page,
	    "<time datetime=\"2026-11-30T03:00:00Z\" "
	    "title=\"2026-11-30T03:00:00Z\">2026-11-30 04:00</time>");
}

static void
test_report_html_has_no_external_url(void **state)
{
	struct fx *f = *state;

	assert_null(strstr(f->page, "http://"));
	assert_null(strstr(f->page, "https://"));
	assert_null(strstr(f->page, " src="));
	assert_null(strstr(f->page, " href="));
	assert_null(strstr(f->page, "url("));
	assert_null(strstr(f->page, "<script"));
	assert_null(strstr(f->page, "<link"));
}

static void
test_report_json_carries_the_same_data(void **state)
{
	struct fx *f = *state;
	struct run_result r;
	json_t *doc, *pools, *p, *m;
	size_t i, j, promoted = 0;

	harness_aksnap(&f->h, &r, "--json", "report", NULL);
	harness_expect_exit(&r, 0);
	doc = json_loads(r.out, 0, NULL);
	run_result_free(&r);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "as_of")),
	    "2026-11-30T03:00:00Z");
	assert_string_equal(json_string_value(json_object_get(doc, "timezone")),
	    "Europe/Berlin");
	pools = json_object_get(doc, "pools");
	assert_int_equal(json_array_size(pools), NPOOLS);
	json_array_foreach(pools, i, p)
	{
		json_array_foreach(json_object_get(p, "marks"), j, m)
		{
			const char *kind =
			    json_string_value(json_object_get(m, "kind"));

			if (strcmp(kind, "promoted") != 0)
				continue;
			promoted++;
			/* promote_after = 7d: none soaked less. */
			assert_true(json_integer_value(json_object_get(
			                m, "soak_seconds")) >= 7 * DAY);
			assert_string_equal(
			    json_string_value(json_object_get(m, "channel")),
			    "stable");
		}
	}
	assert_int_equal(promoted, f->npromoted);
	json_array_foreach(pools, i, p)
	{
		const char *key = json_string_value(json_object_get(p, "pool"));
		size_t auto_upgraded = 0;

		json_t *obs = json_object_get(p, "observations");
		const char *last = NULL;

		json_array_foreach(obs, j, m)
		{
			const char *by =
			    json_string_value(json_object_get(m, "changed_by"));
			const char *from = json_string_value(
			    json_object_get(m, "observed_at"));

			auto_upgraded +=
			    by != NULL && strcmp(by, "auto-upgrade") == 0;
			/* an interval: seen from observed_at to last_seen */
			last =
			    json_string_value(json_object_get(m, "last_seen"));
			assert_non_null(from);
			assert_non_null(last);
			assert_true(strcmp(from, last) <= 0);
			assert_true(json_integer_value(
			                json_object_get(m, "seen")) >= 1);
		}
		/* the last one lasts until the month's last run */
		assert_non_null(last);
		assert_string_equal(last, "2026-11-30T03:00:00Z");
		if (strncmp(key, "prod-", 5) == 0) {
			assert_int_equal(auto_upgraded, 1);
			assert_string_equal(
			    json_string_value(json_object_get(p, "verdict")),
			    "channel-will-drift");
		} else {
			assert_int_equal(auto_upgraded, 0);
		}
	}
	assert_int_equal(json_integer_value(json_object_get(
	                     json_object_get(doc, "summary"), "failed_runs")),
	    1);
	json_decref(doc);
}

static void
test_report_pool_filter_and_usage_errors(void **state)
{
	struct fx *f = *state;
	struct run_result r;
	json_t *doc;

	harness_aksnap(&f->h, &r, "--json", "report", "--pool", "prod-batch",
	    "--since", "7d", NULL);
	harness_expect_exit(&r, 0);
	doc = json_loads(r.out, 0, NULL);
	assert_non_null(doc);
	assert_int_equal(json_array_size(json_object_get(doc, "pools")), 1);
	assert_string_equal(json_string_value(json_object_get(doc, "since")),
	    "2026-11-23T03:00:00Z");
	json_decref(doc);
	run_result_free(&r);

	harness_aksnap(&f->h, &r, "report", "--pool", "no-such-pool", NULL);
	harness_expect_exit(&r, 2);
	harness_expect_in(r.err, "unknown pool 'no-such-pool'");
	run_result_free(&r);

	harness_aksnap(&f->h, &r, "report", "--since", "last tuesday", NULL);
	harness_expect_exit(&r, 2);
	harness_expect_in(r.err, "--since");
	run_result_free(&r);

	/* A file that is no aksnap store needs a person: 2. */
	{
		struct harness other;

		assert_int_equal(harness_open_dir(&other), 0);
		other.emu = f->h.emu; /* the month's emulator, not stopped */
		other.config = harness_config(other.dir, other.emu, INI);
		assert_non_null(other.config);
		assert_int_equal(harness_write_file(other.store,
		                     "not an SQLite file, only text; long "
		                     "enough to look like a header and more",
		                     0600),
		    0);
		assert_int_equal(harness_aksnap(&other, &r, "report", NULL), 0);
		harness_expect_exit(&r, 2);
		harness_expect_in(r.err, "not an aksnap database");
		run_result_free(&r);
		other.emu = NULL;
		harness_fini(&other);
	}
}

/* Whether a program is on PATH. */
static int
have(const char *prog)
{
	struct run_result r;
	const char *const argv[] = {
	    "sh", "-c", "command -v \"$0\"", prog, NULL};
	int ok;

	if (harness_run(&r, argv, NULL) != 0)
		return 0;
	ok = r.exit_code == 0;
	run_result_free(&r);
	return ok;
}

static void
test_report_renders_in_chromium(void **state)
{
	struct fx *f = *state;
	struct run_result r;
	char url[4200], shot[4200], arg[4300];
	const char *keep = getenv("AKSNAP_REPORT_PNG");
	unsigned char sig[8];
	struct stat sb;
	FILE *png;

	if (!have("chromium")) {
		/* In CI (.ci/run installs it) a missing browser is a failure,
		 * never a skip; on a workstation without it, a counted skip. */
		const char *ci = getenv("CI");

		if (ci != NULL && ci[0] != '\0')
			fail_msg("chromium is not installed, and CI must run "
			         "the browser test (.ci/run installs it)");
		print_message("chromium is not installed (apt-get install "
		              "chromium); .ci/run installs it\n");
		skip();
	}
	snprintf(url, sizeof(url), "file://%s", f->html);
	{
		const char *const argv[] = {"chromium", "--headless",
		    "--no-sandbox", "--disable-gpu", "--no-first-run",
		    "--enable-logging=stderr", "--v=0", "--dump-dom", url,
		    NULL};

		assert_int_equal(harness_run(&r, argv, NULL), 0);
	}
	harness_expect_exit(&r, 0);
	/* Chromium logs every console message as INFO:CONSOLE; the page
	 * has no script, so any is an error (a blocked fetch, a parse
	 * failure reported by the engine). */
	if (strstr(r.err, ":CONSOLE") != NULL)
		fail_msg("console messages while rendering:\n%s", r.err);
	expect_pools_and_promotions(f, r.out);
	harness_expect_in(r.out, "<svg");
	run_result_free(&r);

	snprintf(shot, sizeof(shot), "%s/report.png",
	    keep != NULL && keep[0] != '\0' ? f->h.dir : f->h.dir);
	snprintf(arg, sizeof(arg), "--screenshot=%s", shot);
	{
		const char *const argv[] = {"chromium", "--headless",
		    "--no-sandbox", "--disable-gpu", "--no-first-run",
		    "--hide-scrollbars", "--window-size=1280,1600", arg, url,
		    NULL};

		assert_int_equal(harness_run(&r, argv, NULL), 0);
	}
	harness_expect_exit(&r, 0);
	run_result_free(&r);
	assert_int_equal(stat(shot, &sb), 0);
	assert_true(sb.st_size > 20000);
	png = fopen(shot, "rb");
	assert_non_null(png);
	assert_int_equal(fread(sig, 1, 8, png), 8);
	fclose(png);
	assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", 8);
	if (keep != NULL && keep[0] != '\0') {
		char cmd[8600];

		snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", shot, keep);
		assert_int_equal(system(cmd), 0);
	}
}

/* ---- the Grafana dashboard ---- */

/* The metric names (lines that are not comments) of a textfile. */
static json_t *
metric_names(const char *text)
{
	json_t *names = json_object();
	const char *line = text;

	while (line != NULL && *line != '\0') {
		const char *end = strchr(line, '\n');
		size_t n = strcspn(line, "{ \n");

		if (line[0] != '#' && n > 0 && n < 200) {
			char name[200];

			memcpy(name, line, n);
			name[n] = '\0';
			json_object_set_new(names, name, json_true());
		}
		line = end != NULL ? end + 1 : NULL;
	}
	return names;
}

static int
metric_char(char c, int first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    c == ':' || (!first && c >= '0' && c <= '9');
}

/*
 * Check one query: every aksnap_* name in it is in ${have}, it names at
 * least one, and no other metric is selected (a name followed by '{').
 */
static void
check_query(const char *q, json_t *have, json_t *used)
{
	size_t found = 0;

	for (const char *p = q; *p != '\0';) {
		const char *start = p;
		char name[200];
		size_t n;

		if (!metric_char(*p, 1) ||
		    (p > q &&
		        (metric_char(p[-1], 0) || p[-1] == '$' ||
		            p[-1] == '"'))) {
			p++;
			continue;
		}
		while (metric_char(*p, 0))
			p++;
		n = (size_t)(p - start);
		if (n >= sizeof(name))
			continue;
		memcpy(name, start, n);
		name[n] = '\0';
		if (strncmp(name, "aksnap_", 7) == 0) {
			found++;
			json_object_set_new(used, name, json_true());
			if (json_object_get(have, name) == NULL)
				fail_msg("dashboard query '%s' uses %s, which "
				         "aksnap's metrics file does not have",
				    q, name);
		} else if (*p == '{') {
			fail_msg("dashboard query '%s' selects %s, not a "
			         "metric aksnap writes",
			    q, name);
		}
	}
	if (found == 0)
		fail_msg("dashboard query '%s' names no aksnap metric", q);
}

/* Every "expr", "query" and "definition" string anywhere in ${j}. */
static void
walk_queries(json_t *j, json_t *have, json_t *used, size_t *nq)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_array(j)) {
		json_array_foreach(j, i, v) walk_queries(v, have, used, nq);
		return;
	}
	if (!json_is_object(j))
		return;
	json_object_foreach(j, key, v)
	{
		int is_query = strcmp(key, "expr") == 0 ||
		    strcmp(key, "query") == 0 || strcmp(key, "definition") == 0;

		/* The datasource variable's query is its type. */
		if (is_query && json_is_string(v) &&
		    strcmp(json_string_value(v), "prometheus") != 0) {
			check_query(json_string_value(v), have, used);
			(*nq)++;
		} else {
			walk_queries(v, have, used, nq);
		}
	}
}

static void
test_grafana_dashboard_queries_only_metrics_aksnap_writes(void **state)
{
	struct fx *f = *state;
	char path[4200], *text = NULL;
	json_t *dash, *have, *used, *panel;
	size_t len, nq = 0, i, targets = 0;

	snprintf(path, sizeof(path), "%s/aksnap.prom", f->h.dir);
	assert_int_equal(
	    util_read_file(path, 1 << 24, &text, &len, NULL, 0), 0);
	have = metric_names(text);
	/* The run wrote what the dashboard is about. */
	assert_non_null(json_object_get(have, "aksnap_run_duration_seconds"));
	assert_non_null(
	    json_object_get(have, "aksnap_baseline_timestamp_seconds"));
	assert_non_null(json_object_get(have, "aksnap_pool_drift"));
	/* The metric's verdict is drift's, channels included. */
	harness_expect_in(text,
	    "aksnap_pool_drift{pool=\"prod-system\","
	    "verdict=\"channel-will-drift\"} 1\n");

	dash = json_load_file(DASHBOARD, 0, NULL);
	assert_non_null(dash);
	used = json_object();
	walk_queries(dash, have, used, &nq);
	json_array_foreach(json_object_get(dash, "panels"), i, panel)
	{
		if (strcmp(json_string_value(json_object_get(panel, "type")),
		        "row") == 0)
			continue;
		if (json_array_size(json_object_get(panel, "targets")) == 0)
			fail_msg("panel '%s' has no query",
			    json_string_value(json_object_get(panel, "title")));
		targets += json_array_size(json_object_get(panel, "targets"));
	}
	assert_true(nq >= targets);
	/* Run success and duration, snapshots by state, baseline age,
	 * pools failing, drift: each has its metric on the dashboard. */
	assert_non_null(json_object_get(used, "aksnap_run_failures_total"));
	assert_non_null(json_object_get(used, "aksnap_run_duration_seconds"));
	assert_non_null(json_object_get(used, "aksnap_snapshots"));
	assert_non_null(
	    json_object_get(used, "aksnap_baseline_timestamp_seconds"));
	assert_non_null(json_object_get(used, "aksnap_pool_failed"));
	assert_non_null(json_object_get(used, "aksnap_pool_drift"));
	print_message("dashboard: %zu queries over %zu metric names\n", nq,
	    json_object_size(used));
	free(text);
	json_decref(used);
	json_decref(have);
	json_decref(dash);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_report_html_holds_every_pool_and_promotion),
	    cmocka_unit_test(test_report_html_has_no_external_url),
	    cmocka_unit_test(test_report_json_carries_the_same_data),
	    cmocka_unit_test(test_report_pool_filter_and_usage_errors),
	    cmocka_unit_test(test_report_renders_in_chromium),
	    cmocka_unit_test(
	        test_grafana_dashboard_queries_only_metrics_aksnap_writes),
	};

	return cmocka_run_group_tests(tests, month, month_end);
}
