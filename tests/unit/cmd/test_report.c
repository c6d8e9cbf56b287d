/*
 * test_report.c -- `aksnap report` gathered from a real store built with
 * db/'s own API, and rendered: the page grows linearly with the fleet
 * (bytes per pool at 10 and 1,000 pools), everything that came from the
 * store is HTML-escaped, nothing points outside the page, and the JSON
 * carries the same pools, marks and soak times.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "db/db.h"
#include "db/db_channels.h"
#include "db/db_internal.h"
#include "job/base/json_write.h"
#include "job/base/util.h"
#include "job/cmd/report.h"

#define DAY 86400
#define T0 1793415600 /* 2026-10-31T03:00:00Z */

struct fx {
	char dir[64];
	char path[128];
	struct db *db;
	struct config cfg;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_report.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/aksnap.db", f->dir);
	if (db_open(f->path, &f->db))
		return -1;
	util_strlcpy(f->cfg.timezone, "Europe/Berlin", sizeof(f->cfg.timezone));
	f->cfg.tz = tz_load(f->cfg.timezone);
	if (f->cfg.tz == NULL)
		return -1;
	util_strlcpy(f->cfg.database, f->path, sizeof(f->cfg.database));
	util_strlcpy(
	    f->cfg.path, "/etc/aksnap/aksnap.ini", sizeof(f->cfg.path));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[160];

	db_close(f->db);
	tz_free(f->cfg.tz);
	free(f->cfg.pools);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void
versions(struct db_versions *v, const char *image, const char *k8s)
{
	memset(v, 0, sizeof(*v));
	util_strlcpy(
	    v->node_image_version, image, sizeof(v->node_image_version));
	util_strlcpy(v->kubernetes_version, k8s, sizeof(v->kubernetes_version));
	util_strlcpy(v->os_type, "Linux", sizeof(v->os_type));
	util_strlcpy(v->os_sku, "Ubuntu", sizeof(v->os_sku));
	util_strlcpy(v->vm_size, "Standard_D4s_v5", sizeof(v->vm_size));
}

/*
 * One pool's month: three images a week apart, a snapshot of each, the
 * first promoted after a 7-day soak, then replaced by the second.
 */
static void
add_pool(struct fx *f, int64_t run, size_t i, const char *cluster,
    const char *image_prefix, const char *reasons)
{
	static const struct policy no_policy; /* no channel, no warning age */
	struct pool_conf pc;
	struct db_versions v;
	struct db_decision d;
	int64_t pool, snap[3];
	char name[64], arm[256], img[128];

	memset(&pc, 0, sizeof(pc));
	pc.policy = &no_policy;
	snprintf(pc.key, sizeof(pc.key), "pool%04zu", i);
	util_strlcpy(pc.subscription, "00000000-0000-0000-0000-000000000001",
	    sizeof(pc.subscription));
	snprintf(
	    pc.resource_group, sizeof(pc.resource_group), "rg-%zu", i / 10);
	util_strlcpy(pc.cluster, cluster, sizeof(pc.cluster));
	snprintf(pc.nodepool, sizeof(pc.nodepool), "np%zu", i % 10);
	assert_int_equal(db_pool_sync(f->db, &pc, &pool), 0);
	/* configured: the report's pools are the configuration's */
	f->cfg.pools =
	    realloc(f->cfg.pools, (f->cfg.npools + 1) * sizeof(*f->cfg.pools));
	assert_non_null(f->cfg.pools);
	f->cfg.pools[f->cfg.npools++] = pc;
	for (int w = 0; w < 3; w++) {
		time_t at = T0 + (time_t)(w * 7 + 1) * DAY;

		snprintf(img, sizeof(img), "%s-202611.%02d.0", image_prefix,
		    1 + 7 * w);
		versions(&v, img, "1.30.5");
		assert_int_equal(
		    db_observation_add(f->db, run, pool, at, &v, "Succeeded"),
		    0);
		snprintf(name, sizeof(name), "aksnap-%s-%s-w%d", cluster,
		    pc.nodepool, w);
		snprintf(
		    arm, sizeof(arm), "/subscriptions/x/snapshots/%s", name);
		assert_int_equal(db_snapshot_intent(
		                     f->db, pool, name, arm, at, at, &snap[w]),
		    0);
		assert_int_equal(
		    db_snapshot_set_active(f->db, snap[w], at, &v), 0);
		memset(&d, 0, sizeof(d));
		d.run_id = run;
		d.pool_id = pool;
		d.snapshot_id = snap[w];
		d.at = at;
		util_strlcpy(d.action, "create", sizeof(d.action));
		util_strlcpy(d.reasons, "due", sizeof(d.reasons));
		assert_int_equal(db_decision_add(f->db, &d), 0);
	}
	for (int w = 0; w < 2; w++) {
		time_t at = T0 + (time_t)(w * 7 + 8) * DAY;

		assert_int_equal(
		    db_snapshot_set_channel(f->db, snap[w], "stable", at), 0);
		memset(&d, 0, sizeof(d));
		d.run_id = run;
		d.pool_id = pool;
		d.snapshot_id = snap[w];
		d.at = at;
		util_strlcpy(d.action, "promote", sizeof(d.action));
		snprintf(d.reasons, sizeof(d.reasons), "channel stable: %s",
		    reasons);
		assert_int_equal(db_decision_add(f->db, &d), 0);
	}
}

static void
build_fleet(struct fx *f, size_t n)
{
	int64_t run;
	char cluster[32];

	assert_int_equal(
	    db_run_start(f->db, T0 + 30 * DAY, T0 + 30 * DAY, "run", &run), 0);
	assert_int_equal(db_begin(f->db), 0);
	for (size_t i = 0; i < n; i++) {
		snprintf(cluster, sizeof(cluster), "aks-%zu", i / 10);
		add_pool(f, run, i, cluster, "AKSUbuntu-2204gen2containerd",
		    "newest snapshot soaked promote_after = 7d");
	}
	assert_int_equal(db_commit(f->db), 0);
}

static char *
render(struct fx *f, const struct report_options *opt, size_t *len,
    struct report **rout)
{
	struct report *r = NULL;
	char *buf = NULL;
	FILE *mem;

	assert_int_equal(report_gather(f->db, &f->cfg, opt, &r), 0);
	mem = open_memstream(&buf, len);
	assert_non_null(mem);
	assert_int_equal(report_html(mem, r), 0);
	fclose(mem);
	if (rout != NULL)
		*rout = r;
	else
		report_free(r);
	return buf;
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

static void
test_report_html_grows_linearly_with_the_fleet(void **state)
{
	struct fx *f = *state, *g;
	struct report_options opt;
	size_t len10, len1000;
	double per10, per1000;
	char *small, *big;

	memset(&opt, 0, sizeof(opt));
	opt.channel = "stable";
	build_fleet(f, 10);
	small = render(f, &opt, &len10, NULL);

	assert_int_equal(setup((void **)&g), 0);
	build_fleet(g, 1000);
	big = render(g, &opt, &len1000, NULL);

	per10 = (double)len10 / 10;
	per1000 = (double)len1000 / 1000;
	print_message("report: %zu bytes for 10 pools (%.0f a pool), %zu for "
	              "1000 (%.0f a pool)\n",
	    len10, per10, len1000, per1000);
	/* Every pool and its promotions are on both pages. */
	assert_int_equal(count(small, "<div class=\"pool\" data-pool="), 10);
	assert_int_equal(count(big, "<div class=\"pool\" data-pool="), 1000);
	assert_int_equal(count(big, "data-promotion=\""), 2000);
	/* Linear: a pool costs the same on a big page as on a small one
	 * (the small one also carries the page's fixed part). */
	assert_true(per1000 <= per10);
	assert_true(per1000 >= 0.6 * per10);
	/* 1,000 pools (all ahead of their baseline, too many to show
	 * open): every cluster starts folded, in the matrix and the
	 * timelines; 10: open. */
	assert_int_equal(count(big, "<details class=\"cluster\" open>"), 0);
	assert_int_equal(count(big, "<details class=\"cluster\">"), 200);
	assert_int_equal(count(small, "<details class=\"cluster\" open>"), 2);
	free(small);
	free(big);
	teardown((void **)&g);
}

static void
test_report_html_escapes_what_came_from_the_store(void **state)
{
	struct fx *f = *state;
	struct report_options opt;
	int64_t run;
	size_t len;
	char *page;

	memset(&opt, 0, sizeof(opt));
	opt.channel = "stable";
	assert_int_equal(
	    db_run_start(f->db, T0 + 30 * DAY, T0 + 30 * DAY, "run", &run), 0);
	add_pool(f, run, 1, "aks-<b>x</b>", "AKS\"><script>alert(1)</script>",
	    "<img src=x onerror=alert(2)> & 'quoted'");
	page = render(f, &opt, &len, NULL);
	assert_null(strstr(page, "<script"));
	assert_null(strstr(page, "<img"));
	assert_null(strstr(page, "<b>x</b>"));
	assert_non_null(strstr(page, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_non_null(strstr(page, "aks-&lt;b&gt;x&lt;/b&gt;"));
	assert_non_null(strstr(page,
	    "&lt;img src=x onerror=alert(2)&gt; "
	    "&amp; &#39;quoted&#39;"));
	assert_non_null(strstr(page, "AKS&quot;&gt;"));
	free(page);
}

static void
test_report_html_points_nowhere_outside(void **state)
{
	struct fx *f = *state;
	struct report_options opt;
	size_t len;
	char *page;

	memset(&opt, 0, sizeof(opt));
	build_fleet(f, 3);
	page = render(f, &opt, &len, NULL);
	assert_null(strstr(page, "http://"));
	assert_null(strstr(page, "https://"));
	assert_null(strstr(page, "src="));
	assert_null(strstr(page, "href="));
	assert_null(strstr(page, "<script"));
	assert_null(strstr(page, "@import"));
	assert_null(strstr(page, "url("));
	free(page);
}

static void
test_report_dates_local_with_utc_title(void **state)
{
	struct fx *f = *state;
	struct report_options opt;
	size_t len;
	char *page;

	memset(&opt, 0, sizeof(opt));
	build_fleet(f, 1);
	page = render(f, &opt, &len, NULL);
	/* The first promotion, 2026-11-08T03:00:00Z, is 04:00 in Berlin
	 * (CET, UTC+1). */
	assert_non_null(strstr(page,
	    "<time datetime=\"2026-11-08T03:00:00Z\" "
	    "title=\"2026-11-08T03:00:00Z\">2026-11-08 04:00</time>"));
	free(page);
}

/* The report's JSON, as report_json streams it, parsed. */
static json_t *
json_of(struct report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	json_t *doc;

	assert_non_null(mem);
	assert_int_equal(report_json(mem, r), 0);
	assert_int_equal(fclose(mem), 0);
	doc = json_loads(buf, 0, NULL);
	assert_non_null(doc);
	free(buf);
	return doc;
}

static void
test_report_json_marks_and_soak(void **state)
{
	struct fx *f = *state;
	struct report_options opt;
	struct report *r = NULL;
	json_t *doc, *pool, *marks, *m;
	size_t i, promoted = 0;

	memset(&opt, 0, sizeof(opt));
	opt.channel = "stable";
	build_fleet(f, 2);
	assert_int_equal(report_gather(f->db, &f->cfg, &opt, &r), 0);
	doc = json_of(r);
	assert_int_equal(json_integer_value(json_object_get(
	                     json_object_get(doc, "summary"), "pools")),
	    2);
	assert_int_equal(json_integer_value(json_object_get(
	                     json_object_get(doc, "summary"), "promotions")),
	    4);
	pool = json_array_get(json_object_get(doc, "pools"), 0);
	assert_string_equal(
	    json_string_value(json_object_get(pool, "pool")), "pool0000");
	assert_string_equal(
	    json_string_value(json_object_get(pool, "verdict")), "ahead");
	assert_int_equal(
	    json_array_size(json_object_get(pool, "observations")), 3);
	marks = json_object_get(pool, "marks");
	json_array_foreach(marks, i, m)
	{
		if (strcmp(json_string_value(json_object_get(m, "kind")),
		        "promoted") != 0)
			continue;
		promoted++;
		assert_string_equal(
		    json_string_value(json_object_get(m, "channel")), "stable");
		assert_int_equal(
		    json_integer_value(json_object_get(m, "soak_seconds")),
		    7 * DAY);
	}
	assert_int_equal(promoted, 2);
	json_decref(doc);
	report_free(r);
}

/*
 * The JSON is compact, a line a pool (aksnap(8)): the head and summary on
 * the first line, each pool on its own, failed_runs on the last; and
 * what came from the store is escaped as jansson escapes it (quotes,
 * backslashes, control characters), so it parses back the same.
 */
static void
test_report_json_is_a_line_a_pool(void **state)
{
	static const char odd[] = "say \"hi\" \\ there\001 and </b>";
	struct fx *f = *state;
	struct report_options opt;
	struct report *r = NULL;
	char *buf = NULL, *line, *save = NULL, want[256];
	size_t len = 0, n = 0, found = 0, i;
	FILE *mem;
	json_t *doc, *pool, *m;
	int64_t run;

	memset(&opt, 0, sizeof(opt));
	assert_int_equal(
	    db_run_start(f->db, T0 + 30 * DAY, T0 + 30 * DAY, "run", &run), 0);
	for (size_t k = 0; k < 3; k++)
		add_pool(
		    f, run, k, "aks-0", "AKSUbuntu-2204gen2containerd", odd);
	assert_int_equal(report_gather(f->db, &f->cfg, &opt, &r), 0);
	mem = open_memstream(&buf, &len);
	assert_non_null(mem);
	assert_int_equal(report_json(mem, r), 0);
	assert_int_equal(fclose(mem), 0);
	doc = json_loads(buf, 0, NULL);
	assert_non_null(doc);
	pool = json_array_get(json_object_get(doc, "pools"), 2);
	json_array_foreach(json_object_get(pool, "marks"), i, m)
	{
		if (strcmp(json_string_value(json_object_get(m, "kind")),
		        "promoted") != 0)
			continue;
		snprintf(want, sizeof(want), "channel stable: %s", odd);
		assert_string_equal(json_string_value(json_array_get(
		                        json_object_get(m, "reasons"), 0)),
		    want);
		found++;
	}
	assert_int_equal(found, 2);
	json_decref(doc);
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save), n++) {
		if (n == 0)
			assert_non_null(
			    strstr(line, "\"summary\":{\"pools\":3,"));
		else if (n <= 3)
			assert_int_equal(
			    strncmp(line, "{\"pool\":\"pool000", 16), 0);
		else
			assert_int_equal(
			    strncmp(line, "],\"failed_runs\":[", 16), 0);
	}
	assert_int_equal(n, 5);
	free(buf);
	report_free(r);
}

/*
 * report --json puts each pool's element together itself (not through
 * json_write_quoted's stream): its strings are escaped byte for byte as
 * json_write_quoted escapes them -- every control character, '"', '\\',
 * DEL and UTF-8 as they are.
 */
static void
test_report_json_strings_escaped_as_json_write(void **state)
{
	struct fx *f = *state;
	struct report_options opt;
	struct report *r = NULL;
	char odd[128], reason[160], *buf = NULL, *want = NULL;
	size_t len = 0, wlen = 0, k = 0;
	FILE *mem;
	int64_t run;

	k += (size_t)snprintf(odd, sizeof(odd), "esc ");
	for (int c = 1; c < 0x20; c++)
		odd[k++] = (char)c;
	snprintf(odd + k, sizeof(odd) - k, " \" \\ \x7f \xc3\xa9 </b> end");
	snprintf(reason, sizeof(reason), "channel stable: %s", odd);
	mem = open_memstream(&want, &wlen);
	assert_non_null(mem);
	json_write_quoted(mem, reason, strlen(reason));
	assert_int_equal(fclose(mem), 0);

	memset(&opt, 0, sizeof(opt));
	assert_int_equal(
	    db_run_start(f->db, T0 + 30 * DAY, T0 + 30 * DAY, "run", &run), 0);
	add_pool(f, run, 0, "aks-0", "AKSUbuntu-2204gen2containerd", odd);
	assert_int_equal(report_gather(f->db, &f->cfg, &opt, &r), 0);
	mem = open_memstream(&buf, &len);
	assert_non_null(mem);
	assert_int_equal(report_json(mem, r), 0);
	assert_int_equal(fclose(mem), 0);
	/* both promotions' reasons, as json_write_quoted wrote them */
	assert_int_equal(count(buf, want), 2);
	assert_non_null(strstr(buf, "\\u0001\\u0002"));
	assert_non_null(strstr(buf, "\\b\\t\\n\\u000B\\f\\r\\u000E"));
	free(want);
	free(buf);
	report_free(r);
}

/* report_tenths(v) is snprintf's "%.1f" of ${v}, or the test fails. */
static void
assert_tenths(double v)
{
	char got[512], want[512];
	size_t n = report_tenths(v, got, sizeof(got));

	snprintf(want, sizeof(want), "%.1f", v);
	if (strcmp(got, want) != 0 || n != strlen(want))
		fail_msg("%.17g: \"%s\" (%zu), printf \"%s\"", v, got, n, want);
}

/*
 * The page's coordinates are written without printf (report_tenths):
 * the same text as "%.1f" for every value -- exact binary ties (k/4,
 * rounded to even), decimal ties that are not binary ones (k/20), the
 * negative values of a segment that began before the window ("-0.0" for
 * those that round to 0), values a product off by one ulp, the x of
 * every hour (a multiple of 1.25), any magnitude, and what goes to
 * printf (large, infinite, not a number).
 */
static void
test_report_tenths_as_printf(void **state)
{
	static const double odd[] = {0.0, -0.0, 0.04, 0.05, 0.06, -0.04, -0.05,
	    -0.06, 0.25, 0.35, 0.45, 899.95, 900.0, -4.0, 1e6, 999999.95,
	    1e6 + 0.05, 1e7 + 0.25, 1e300, -1e300, 1e-300, -1e-300, 0.1, 0.7,
	    2.675, 1.005, 4.35, 4.45, 1.25, 2.25, -1.25, 1e13 + 0.25,
	    123456789.25, 99999999999999.95, 1e14, 4503599627370495.5};
	unsigned long long x = 88172645463325252ULL;

	(void)state;
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		assert_tenths(odd[i]);
		assert_tenths(nextafter(odd[i], 1e308));
		assert_tenths(nextafter(odd[i], -1e308));
	}
	assert_tenths(INFINITY);
	assert_tenths(-INFINITY);
	assert_tenths(NAN);
	for (int k = -40000; k <= 40000; k++) {
		assert_tenths(k / 4.0);
		assert_tenths(k / 20.0);
		assert_tenths(nextafter(k / 20.0, 1e308));
		assert_tenths(nextafter(k / 20.0, -1e308));
		assert_tenths(k * 0.1);
	}
	/* what timeline_x gives: an offset times 900 over a window */
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		assert_tenths(
		    (double)(long long)(x % 5000000) * 900.0 / 2592000.0 -
		    100.0);
		/* and any magnitude, in quarters and eighths too */
		assert_tenths((double)(x >> 11) / (double)(1ULL << (x % 60)));
		assert_tenths((double)(long long)(x % 400000) / 8.0 - 25000.0);
	}
}

/*
 * Spans on the page (soak, baseline age) are written by hand: minutes,
 * hours, days, and days with hours, as "40m", "5h", "1d 3h" -- a
 * snapshot promoted through a ladder's rungs, each soak from the rung
 * before.
 */
static void
test_report_html_spans(void **state)
{
	struct fx *f = *state;
	struct report_options opt;
	struct db_snapshot *list = NULL;
	struct db_decision d;
	static const char *const rungs[] = {"a", "b", "c"};
	static const time_t after[] = {40 * 60, 5 * 3600, DAY + 3 * 3600};
	size_t n = 0, len = 0;
	time_t at;
	char *page;

	memset(&opt, 0, sizeof(opt));
	build_fleet(f, 1);
	assert_int_equal(db_snapshot_list(f->db, 0, "active", &list, &n), 0);
	assert_true(n > 0);
	at = list[0].created_at; /* the newest */
	for (size_t k = 0; k < 3; k++) {
		at += after[k];
		memset(&d, 0, sizeof(d));
		d.pool_id = list[0].pool_id;
		d.snapshot_id = list[0].id;
		d.at = at;
		util_strlcpy(d.action, "promote", sizeof(d.action));
		snprintf(
		    d.reasons, sizeof(d.reasons), "channel %s: rung", rungs[k]);
		assert_int_equal(db_decision_add(f->db, &d), 0);
	}
	free(list);
	page = render(f, &opt, &len, NULL);
	assert_non_null(strstr(page, "soaked 40m"));
	assert_non_null(strstr(page, "soaked 5h"));
	assert_non_null(strstr(page, "soaked 1d 3h"));
	assert_non_null(strstr(page, "<td>40m</td>"));
	assert_non_null(strstr(page, "soaked 7d"));
	free(page);
}

/* ${snap} (a JSON snapshot or null) is ${s} when ${have}, else null. */
static void
assert_same_snapshot(json_t *snap, int have, const struct db_snapshot *s)
{
	if (!have) {
		assert_true(json_is_null(snap));
		return;
	}
	assert_string_equal(
	    json_string_value(json_object_get(snap, "snapshot")), s->name);
	assert_string_equal(
	    json_string_value(json_object_get(snap, "arm_id")), s->arm_id);
}

/* Pool ${key}'s stable baseline deleted (its channel still names it). */
static void
delete_baseline(struct fx *f, const char *key)
{
	struct db_snapshot base;
	struct db_pool p;

	assert_int_equal(db_pool_get(f->db, key, &p), 1);
	assert_int_equal(db_snapshot_channel(f->db, p.id, "stable", &base), 1);
	assert_int_equal(
	    db_snapshot_set_state(f->db, base.id, "deleted", NULL), 0);
}

/* A pool configured, pool9999 of cluster aks-9, that the store never saw. */
static void
add_pool_never_seen(struct fx *f)
{
	struct pool_conf never = f->cfg.pools[0];

	util_strlcpy(never.key, "pool9999", sizeof(never.key));
	util_strlcpy(never.cluster, "aks-9", sizeof(never.cluster));
	f->cfg.pools =
	    realloc(f->cfg.pools, (f->cfg.npools + 1) * sizeof(*f->cfg.pools));
	assert_non_null(f->cfg.pools);
	f->cfg.pools[f->cfg.npools++] = never;
}

/*
 * The forms read each pool's newest observation, newest active snapshot
 * and baseline for every pool at once (db_pools_read), report_pool_read
 * by a pool's own statements: the same pools either way -- a baseline
 * active, one deleted (no baseline, though its channel names it), a
 * pool the store never saw.
 */
static void
test_report_facts_read_at_once_as_a_pools_own(void **state)
{
	struct fx *f = *state;
	struct report_options opt;
	struct report *r = NULL;
	struct report_pool rp;
	json_t *doc, *pool;
	size_t seen = 0;

	memset(&opt, 0, sizeof(opt));
	opt.channel = "stable";
	build_fleet(f, 3);
	delete_baseline(f, "pool0001");
	add_pool_never_seen(f);

	assert_int_equal(report_gather(f->db, &f->cfg, &opt, &r), 0);
	doc = json_of(r);
	assert_int_equal(r->npools, 4);
	for (size_t i = 0; i < r->npools; i++) {
		pool = json_array_get(json_object_get(doc, "pools"), i);
		assert_int_equal(report_pool_read(r, i, 1, &rp), 0);
		assert_string_equal(
		    json_string_value(json_object_get(pool, "pool")), rp.p.key);
		assert_string_equal(
		    json_string_value(json_object_get(pool, "verdict")),
		    rp.verdict);
		assert_same_snapshot(
		    json_object_get(pool, "baseline"), rp.have_base, &rp.base);
		assert_same_snapshot(json_object_get(pool, "newest"),
		    rp.have_newest, &rp.newest);
		if (rp.have_live)
			assert_int_equal(
			    json_integer_value(json_object_get(
			        json_object_get(pool, "live"), "seen")),
			    rp.live.seen);
		else
			assert_true(
			    json_is_null(json_object_get(pool, "live")));
		assert_int_equal(json_integer_value(
		                     json_object_get(pool, "active_snapshots")),
		    rp.nsnapshots);
		seen += rp.have_base;
		if (strcmp(rp.p.key, "pool0001") == 0 ||
		    strcmp(rp.p.key, "pool9999") == 0)
			assert_false(rp.have_base);
		report_pool_clear(&rp);
	}
	assert_int_equal(seen, 2);
	json_decref(doc);
	report_free(r);
}

static void
test_report_window_keeps_what_ran_when_it_opens(void **state)
{
	struct fx *f = *state;
	struct report_options opt;
	struct report *r = NULL;
	struct report_pool rp;

	memset(&opt, 0, sizeof(opt));
	build_fleet(f, 1);
	/* From the 10th: the image of the 8th was in force, then one
	 * change (the 15th); the promotion of the 8th is out, that of the
	 * 15th in. */
	opt.since = T0 + 10 * DAY;
	assert_int_equal(report_gather(f->db, &f->cfg, &opt, &r), 0);
	assert_int_equal(r->npools, 1);
	assert_int_equal(r->promotions, 1);
	assert_int_equal(report_pool_read(r, 0, 1, &rp), 0);
	assert_int_equal(rp.nobs, 2);
	assert_int_equal(rp.obs[0].observed_at, T0 + 8 * DAY);
	assert_int_equal(rp.obs[1].observed_at, T0 + 15 * DAY);
	assert_int_equal(rp.promotions, 1);
	report_pool_clear(&rp);
	report_free(r);
}

static void
test_report_pin_is_marked_and_counted(void **state)
{
	struct fx *f = *state;
	struct report_options opt;
	struct db_snapshot *list = NULL;
	struct db_decision d;
	struct report *r = NULL;
	struct report_pool rp;
	size_t n = 0, len, pinned = 0;
	char *page;

	memset(&opt, 0, sizeof(opt));
	build_fleet(f, 1);
	assert_int_equal(db_snapshot_list(f->db, 0, "active", &list, &n), 0);
	assert_true(n > 0);
	assert_int_equal(db_snapshot_set_pinned(f->db, list[0].id, 1), 0);
	memset(&d, 0, sizeof(d));
	d.pool_id = list[0].pool_id;
	d.snapshot_id = list[0].id;
	d.at = T0 + 25 * DAY;
	util_strlcpy(d.action, "pin", sizeof(d.action));
	util_strlcpy(d.reasons, "pinned by hand", sizeof(d.reasons));
	assert_int_equal(db_decision_add(f->db, &d), 0);
	page = render(f, &opt, &len, &r);
	assert_int_equal(report_pool_read(r, 0, 1, &rp), 0);
	assert_int_equal(rp.npinned, 1);
	for (size_t i = 0; i < rp.nmarks; i++)
		if (strcmp(rp.marks[i].kind, "pinned") == 0) {
			pinned++;
			assert_string_equal(rp.marks[i].snapshot, list[0].name);
		}
	report_pool_clear(&rp);
	assert_int_equal(pinned, 1);
	assert_non_null(strstr(page, "3 snapshots, 1 pinned"));
	assert_non_null(strstr(page, "<rect class=\"m-pinned\""));
	assert_non_null(strstr(page, "<tr class=\"pinned\">"));
	free(page);
	free(list);
	report_free(r);
}

/*
 * The summary and the rows written after it are of one state of the
 * store: a promotion another connection records meanwhile (a run) is in
 * neither.
 */
static void
test_report_reads_one_state_of_the_store(void **state)
{
	struct fx *f = *state;
	struct report_options opt;
	struct report *r = NULL;
	struct report_pool rp;
	struct db_snapshot *list = NULL;
	struct db_decision d;
	struct db *writer = NULL;
	size_t n = 0;

	memset(&opt, 0, sizeof(opt));
	build_fleet(f, 1);
	assert_int_equal(report_gather(f->db, &f->cfg, &opt, &r), 0);
	assert_int_equal(r->promotions, 2);

	assert_int_equal(db_open(f->path, &writer), 0);
	assert_int_equal(db_snapshot_list(writer, 0, "active", &list, &n), 0);
	assert_true(n > 0);
	memset(&d, 0, sizeof(d));
	d.pool_id = list[0].pool_id;
	d.snapshot_id = list[0].id;
	d.at = T0 + 29 * DAY;
	util_strlcpy(d.action, "promote", sizeof(d.action));
	util_strlcpy(d.reasons, "channel canary: by hand", sizeof(d.reasons));
	assert_int_equal(db_decision_add(writer, &d), 0);
	db_close(writer);
	free(list);

	assert_int_equal(report_pool_read(r, 0, 1, &rp), 0);
	assert_int_equal(rp.promotions, 2);
	assert_int_equal(rp.nmarks, 5); /* 3 taken, 2 promoted */
	report_pool_clear(&rp);
	report_free(r);

	/* a report gathered now sees it */
	assert_int_equal(report_gather(f->db, &f->cfg, &opt, &r), 0);
	assert_int_equal(r->promotions, 3);
	report_free(r);
}

/* Count the statements SQLite starts (SQLITE_TRACE_STMT). */
static int
stmt_counted(unsigned type, void *ctx, void *p, void *x)
{
	(void)type;
	(void)p;
	(void)x;
	(*(size_t *)ctx)++;
	return 0;
}

/* How many statements report_gather runs with ${opt}, its summary in
 * ${*rout}. */
static size_t
gather_statements(
    struct fx *f, const struct report_options *opt, struct report **rout)
{
	size_t n = 0;

	assert_int_equal(sqlite3_trace_v2(db_sqlite(f->db), SQLITE_TRACE_STMT,
	                     stmt_counted, &n),
	    SQLITE_OK);
	assert_int_equal(report_gather(f->db, &f->cfg, opt, rout), 0);
	assert_int_equal(
	    sqlite3_trace_v2(db_sqlite(f->db), 0, NULL, NULL), SQLITE_OK);
	return n;
}

/* A pool-level decision ${action} about pool ${key} at ${at}. */
static void
pool_decision(struct fx *f, const char *key, time_t at, const char *action)
{
	struct db_pool p;
	struct db_decision d;

	assert_int_equal(db_pool_get(f->db, key, &p), 1);
	memset(&d, 0, sizeof(d));
	d.pool_id = p.id;
	d.at = at;
	util_strlcpy(d.action, action, sizeof(d.action));
	util_strlcpy(d.reasons, action, sizeof(d.reasons));
	assert_int_equal(db_decision_add(f->db, &d), 0);
}

/*
 * The summary is read in a fixed number of statements, whatever the
 * number of pools or the window's length (issue 16: 40,000 statements at
 * 10,000 pools before), and counts what the pools' marks count: open and
 * closed promotions in the window, a failure in it, not one before it.
 */
static void
test_report_summary_statements_independent_of_pools(void **state)
{
	struct fx *f = *state;
	struct report_options opt;
	struct report *r = NULL;
	struct report_pool rp;
	struct db_snapshot *list = NULL;
	struct db_decision d;
	size_t small, big, week, n = 0, promotions = 0, failures = 0;
	int64_t run;
	char cluster[32];

	memset(&opt, 0, sizeof(opt));
	build_fleet(f, 2);
	small = gather_statements(f, &opt, &r);
	assert_int_equal(r->promotions, 4);
	report_free(r);

	assert_int_equal(
	    db_run_start(f->db, T0 + 30 * DAY, T0 + 30 * DAY, "run", &run), 0);
	for (size_t i = 2; i < 40; i++) {
		snprintf(cluster, sizeof(cluster), "aks-%zu", i / 10);
		add_pool(f, run, i, cluster, "AKSUbuntu-2204gen2containerd",
		    "newest snapshot soaked promote_after = 7d");
	}
	/* pool0000's promotions closed by a later decision (a closed row of
	 * decisions_promotions_by_pool_time), pool0001 failing in the
	 * window, pool0002 before it (its range closed there) */
	assert_int_equal(db_snapshot_list(f->db, 0, "active", &list, &n), 0);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i].pool_key, "pool0000") != 0)
			continue;
		memset(&d, 0, sizeof(d));
		d.pool_id = list[i].pool_id;
		d.snapshot_id = list[i].id;
		d.at = T0 + 28 * DAY;
		util_strlcpy(d.action, "keep", sizeof(d.action));
		util_strlcpy(d.reasons, "keep_last", sizeof(d.reasons));
		assert_int_equal(db_decision_add(f->db, &d), 0);
	}
	free(list);
	pool_decision(f, "pool0001", T0 + 29 * DAY, "fail");
	pool_decision(f, "pool0002", T0 - 5 * DAY, "fail");
	pool_decision(f, "pool0002", T0 + 2 * DAY, "skip");

	big = gather_statements(f, &opt, &r);
	assert_int_equal(big, small);
	assert_int_equal(r->npools, 40);
	assert_int_equal(r->promotions, 80);
	assert_int_equal(r->failing, 1);
	assert_string_equal(r->named[2][0].key, "pool0001");
	assert_int_equal(r->named[2][0].failures, 1);
	/* what the marks count, pool by pool */
	for (size_t i = 0; i < r->npools; i++) {
		assert_int_equal(report_pool_read(r, i, 1, &rp), 0);
		promotions += rp.promotions;
		failures += rp.failures;
		report_pool_clear(&rp);
	}
	assert_int_equal(promotions, r->promotions);
	assert_int_equal(failures, 1);
	report_free(r);

	opt.since_ago = 7 * DAY;
	week = gather_statements(f, &opt, &r);
	assert_int_equal(week, small);
	report_free(r);
}

static void
test_report_unknown_pool_is_refused(void **state)
{
	struct fx *f = *state;
	struct report_options opt;
	struct report *r = NULL;
	const char *pools[] = {"pool0000", "nosuchpool"};

	memset(&opt, 0, sizeof(opt));
	build_fleet(f, 2);
	opt.pools = pools;
	opt.npools = 1;
	assert_int_equal(report_gather(f->db, &f->cfg, &opt, &r), 0);
	assert_int_equal(r->npools, 1);
	report_free(r);
	r = NULL;
	opt.npools = 2;
	assert_int_equal(report_gather(f->db, &f->cfg, &opt, &r), -2);
	assert_null(r);
}

/*
 * A promotion and a failure whose ranges began before the window and
 * are still open in it (0018: the range's row ends before the window,
 * its open end in it): the summary counts each once, as the marks do.
 */
static void
test_report_counts_ranges_open_since_before_the_window(void **state)
{
	struct fx *f = *state;
	struct report_options opt;
	struct report *r = NULL;
	struct report_pool rp;
	struct db_snapshot *list = NULL;
	struct db_decision d;
	size_t n = 0, promotions = 0, failures = 0, before;

	memset(&opt, 0, sizeof(opt));
	build_fleet(f, 2);
	assert_int_equal(report_gather(f->db, &f->cfg, &opt, &r), 0);
	before = r->promotions;
	report_free(r);
	assert_int_equal(db_snapshot_list(f->db, 0, "active", &list, &n), 0);
	assert_true(n > 0);
	for (int i = 0; i < 2; i++) {
		memset(&d, 0, sizeof(d));
		d.pool_id = list[0].pool_id;
		d.snapshot_id = list[0].id;
		d.at = i == 0 ? T0 - 5 * DAY : T0 + 29 * DAY;
		util_strlcpy(d.action, "promote", sizeof(d.action));
		util_strlcpy(
		    d.reasons, "channel beta: by hand", sizeof(d.reasons));
		assert_int_equal(db_decision_add(f->db, &d), 0);
	}
	free(list);
	pool_decision(f, "pool0001", T0 - 5 * DAY, "fail");
	pool_decision(f, "pool0001", T0 + 29 * DAY, "fail");

	assert_int_equal(report_gather(f->db, &f->cfg, &opt, &r), 0);
	assert_int_equal(r->promotions, before + 1);
	assert_int_equal(r->failing, 1);
	assert_string_equal(r->named[2][0].key, "pool0001");
	assert_int_equal(r->named[2][0].failures, 1);
	for (size_t i = 0; i < r->npools; i++) {
		assert_int_equal(report_pool_read(r, i, 1, &rp), 0);
		promotions += rp.promotions;
		failures += rp.failures;
		report_pool_clear(&rp);
	}
	assert_int_equal(promotions, r->promotions);
	assert_int_equal(failures, 1);
	report_free(r);
}

/*
 * The summary judges each pool from its few facts (sum_judge), not from
 * the pool read again: its counts are what report_pool_read gives pool
 * by pool -- a baseline older than its policy warns of, a cluster whose
 * upgrade channel will re-image the pool, one whose channels will not,
 * a pool gone missing, a baseline deleted, a pool never seen -- and the
 * pools come in the report's order though configured in reverse.
 */
static void
test_report_summary_judges_as_the_pools_read(void **state)
{
	struct fx *f = *state;
	struct report_options opt;
	struct report *r = NULL;
	struct report_pool rp;
	struct policy warn;
	struct pool_conf tmp;
	struct db_observation o;
	struct db_versions v;
	struct db_pool p;
	size_t verdicts[REPORT_NVERDICTS] = {0}, old = 0, reimage = 0;
	char prev[64] = "";
	const char *few[] = {"pool0002", "pool0003"};

	memset(&opt, 0, sizeof(opt));
	opt.channel = "stable";
	build_fleet(f, 6);
	memset(&warn, 0, sizeof(warn));
	warn.warn_baseline_age = DAY;
	f->cfg.pools[1].policy = &warn;
	/* pool0002's cluster upgrades itself; pool0005's says none */
	memset(&o, 0, sizeof(o));
	versions(&v, "AKSUbuntu-2204gen2containerd-202611.15.0", "1.30.5");
	util_strlcpy(o.upgrade_channel, "patch", sizeof(o.upgrade_channel));
	assert_int_equal(db_pool_get(f->db, "pool0002", &p), 1);
	assert_int_equal(db_observation_record(f->db, 0, p.id, T0 + 29 * DAY,
	                     &v, "Succeeded", &o),
	    0);
	util_strlcpy(o.upgrade_channel, "none", sizeof(o.upgrade_channel));
	util_strlcpy(o.node_os_channel, "None", sizeof(o.node_os_channel));
	assert_int_equal(db_pool_get(f->db, "pool0005", &p), 1);
	assert_int_equal(db_observation_record(f->db, 0, p.id, T0 + 29 * DAY,
	                     &v, "Succeeded", &o),
	    0);
	assert_int_equal(db_pool_get(f->db, "pool0003", &p), 1);
	assert_int_equal(db_observation_record(f->db, 0, p.id, T0 + 29 * DAY,
	                     NULL, "missing", NULL),
	    0);
	delete_baseline(f, "pool0004");
	add_pool_never_seen(f);
	for (size_t i = 0; i < f->cfg.npools / 2; i++) {
		tmp = f->cfg.pools[i];
		f->cfg.pools[i] = f->cfg.pools[f->cfg.npools - 1 - i];
		f->cfg.pools[f->cfg.npools - 1 - i] = tmp;
	}

	assert_int_equal(report_gather(f->db, &f->cfg, &opt, &r), 0);
	assert_int_equal(r->npools, 7);
	for (size_t i = 0; i < r->npools; i++) {
		size_t k;

		assert_int_equal(report_pool_read(r, i, 0, &rp), 0);
		assert_true(strcmp(prev, rp.p.key) < 0);
		util_strlcpy(prev, rp.p.key, sizeof(prev));
		for (k = 0; k < REPORT_NVERDICTS; k++)
			if (strcmp(rp.verdict, report_verdicts[k]) == 0)
				break;
		assert_true(k < REPORT_NVERDICTS);
		verdicts[k]++;
		old += rp.baseline_old != 0;
		reimage += rp.will_reimage[0] != '\0';
		report_pool_clear(&rp);
	}
	for (size_t k = 0; k < REPORT_NVERDICTS; k++)
		assert_int_equal(r->verdicts[k], verdicts[k]);
	/* each case is one pool's */
	for (size_t k = 4; k < REPORT_NVERDICTS; k++) /* no-baseline on */
		assert_int_equal(r->verdicts[k], 1);
	assert_int_equal(r->baselines_old, old);
	assert_int_equal(old, 1);
	assert_string_equal(r->named[0][0].key, "pool0001");
	assert_int_equal(r->will_reimage, reimage);
	assert_int_equal(reimage, 1);
	assert_string_equal(r->named[1][0].key, "pool0002");
	assert_non_null(strstr(r->named[1][0].title, "upgradeChannel patch"));
	report_free(r);
	r = NULL;

	/* a few of the store's pools (their observations sought by the
	 * JSON of their ids), and half of them (every pool's read, the
	 * others passed over) */
	opt.pools = few;
	opt.npools = 1;
	assert_int_equal(report_gather(f->db, &f->cfg, &opt, &r), 0);
	assert_int_equal(r->npools, 1);
	assert_int_equal(r->verdicts[7], 1); /* channel-will-drift */
	assert_int_equal(r->will_reimage, 1);
	report_free(r);
	r = NULL;
	opt.npools = 2;
	assert_int_equal(report_gather(f->db, &f->cfg, &opt, &r), 0);
	assert_int_equal(r->npools, 2);
	assert_int_equal(r->verdicts[5], 1); /* missing */
	assert_int_equal(r->verdicts[7], 1);
	assert_int_equal(r->will_reimage, 1);
	report_free(r);
}

/* ${n} failures of pool ${key}, each its own (reasons differ), from ${at}
 * a minute apart. */
static void
add_failures(struct fx *f, const char *key, size_t n, time_t at)
{
	struct db_pool p;
	struct db_decision d;

	assert_int_equal(db_pool_get(f->db, key, &p), 1);
	for (size_t i = 0; i < n; i++) {
		memset(&d, 0, sizeof(d));
		d.pool_id = p.id;
		d.at = at + (time_t)i * 60;
		util_strlcpy(d.action, "fail", sizeof(d.action));
		snprintf(
		    d.reasons, sizeof(d.reasons), "PUT snapshot: 429 (%zu)", i);
		assert_int_equal(db_decision_add(f->db, &d), 0);
	}
}

/* Pool ${key}'s failures in the summary of ${f}'s fleet, checked against
 * what its marks count. */
static size_t
summary_failures(struct fx *f, const char *key)
{
	struct report_options opt;
	struct report *r = NULL;
	struct report_pool rp;
	size_t got = 0, marks = 0;

	memset(&opt, 0, sizeof(opt));
	assert_int_equal(report_gather(f->db, &f->cfg, &opt, &r), 0);
	for (size_t k = 0; k < r->failing && k < REPORT_NAMED; k++)
		if (strcmp(r->named[2][k].key, key) == 0)
			got = r->named[2][k].failures;
	for (size_t i = 0; i < r->npools; i++) {
		assert_int_equal(report_pool_read(r, i, 1, &rp), 0);
		if (strcmp(rp.p.key, key) == 0)
			marks = rp.failures;
		report_pool_clear(&rp);
	}
	assert_int_equal(got, marks);
	report_free(r);
	return got;
}

/*
 * The summary counts the failures in one scan of their index while it
 * holds a few a pool, and a pool at a time past that (a store whose
 * pools fail run after run): the same count either way, the failures
 * before the window left out.
 */
static void
test_report_counts_failures_past_the_scan_bound(void **state)
{
	struct fx *f = *state;

	build_fleet(f, 2);
	/* 100 entries for 2 pools: scanned */
	add_failures(f, "pool0001", 50, T0 - 10 * DAY);
	add_failures(f, "pool0001", 50, T0 + DAY);
	assert_int_equal(summary_failures(f, "pool0001"), 50);
	/* 400: past 8 a pool and 256, counted a pool at a time */
	add_failures(f, "pool0001", 300, T0 + 2 * DAY);
	assert_int_equal(summary_failures(f, "pool0001"), 350);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_report_html_grows_linearly_with_the_fleet, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_report_html_escapes_what_came_from_the_store, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_report_html_points_nowhere_outside, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_report_reads_one_state_of_the_store, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_report_dates_local_with_utc_title, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_report_json_marks_and_soak, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_report_json_is_a_line_a_pool, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_report_json_strings_escaped_as_json_write, setup,
	        teardown),
	    cmocka_unit_test(test_report_tenths_as_printf),
	    cmocka_unit_test_setup_teardown(
	        test_report_facts_read_at_once_as_a_pools_own, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_report_html_spans, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_report_window_keeps_what_ran_when_it_opens, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_report_pin_is_marked_and_counted, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_report_unknown_pool_is_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_report_summary_statements_independent_of_pools, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_report_counts_ranges_open_since_before_the_window, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_report_summary_judges_as_the_pools_read, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_report_counts_failures_past_the_scan_bound, setup,
	        teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
