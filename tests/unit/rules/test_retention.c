/*
 * test_retention.c -- keep/delete decisions, reasons, promotion.
 *
 * The worked example of DESIGN.md (tests/fixtures/retention-vectors.csv) is
 * checked decision by decision, both from the file (when present) and from
 * a copy embedded here.  Thousands of random histories and policies are
 * compared with a deliberately naive reference implementation (O(n^2),
 * periods from glibc's localtime_r and strftime's %G%V ISO weeks) and
 * checked against the invariants of DESIGN.md section 6.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "config/config.h"
#include "job/base/tz.h"
#include "job/base/util.h"
#include "job/rules/retention.h"
#include "tests/unit/rules/fixture.h"

/* A policy that keeps nothing by itself and deletes without limit. */
static struct policy
empty_policy(void)
{
	struct policy p;

	memset(&p, 0, sizeof(p));
	p.max_delete_per_run = -1;
	p.keep_promoted = 2;
	return p;
}

static const char *
reasons(unsigned bits)
{
	static char buf[RETENTION_REASONS_MAX];

	return retention_reasons_format(bits, buf, sizeof(buf));
}

static void
plan_ok(const struct retention_item *items, size_t n, const struct policy *p,
    const char *tz, time_t as_of, struct retention_decision *out)
{
	char err[256] = "";

	if (retention_plan(items, n, p, Z(tz), as_of, out, err, sizeof(err)))
		fail_msg("retention_plan: %s", err);
}

/* Expect decision ${i}: keep/delete and its reason text. */
static void
assert_decision(
    const struct retention_decision *d, size_t i, int keep, const char *why)
{
	if (d[i].keep != keep || strcmp(reasons(d[i].reasons), why) != 0)
		fail_msg("item %zu: got %s \"%s\", want %s \"%s\"", i,
		    d[i].keep ? "keep" : "delete", reasons(d[i].reasons),
		    keep ? "keep" : "delete", why);
}

/* ------------------------------------------------------------------ */
/* The worked example                                                   */
/* ------------------------------------------------------------------ */

struct vector {
	const char *id;
	const char *created;
	int pinned;
	int keep;
	const char *reasons;
};

/* A copy of tests/fixtures/retention-vectors.csv, inline. */
static const struct vector example[] = {
    {"S21", "2026-03-16T02:00:00Z", 0, 1,
        "last,daily,weekly,monthly,yearly,within"},
    {"S20", "2026-03-15T14:00:00Z", 0, 1, "last,daily,weekly,within"},
    {"S19", "2026-03-15T02:00:00Z", 0, 1, "within"},
    {"S18", "2026-03-14T02:00:00Z", 0, 1, "daily,within"},
    {"S17", "2026-03-13T02:00:00Z", 0, 1, "daily"},
    {"S16", "2026-03-12T02:00:00Z", 0, 1, "daily"},
    {"S15", "2026-03-10T02:00:00Z", 0, 1, "daily"},
    {"S14", "2026-03-09T02:00:00Z", 0, 1, "daily"},
    {"S13", "2026-03-08T02:00:00Z", 0, 1, "weekly"},
    {"S12", "2026-03-02T02:00:00Z", 0, 0, ""},
    {"S11", "2026-03-01T02:00:00Z", 0, 1, "weekly"},
    {"S10", "2026-02-23T02:00:00Z", 0, 1, "monthly"},
    {"S09", "2026-02-22T02:00:00Z", 0, 0, ""},
    {"S08", "2026-02-16T02:00:00Z", 0, 0, ""},
    {"S07", "2026-02-02T02:00:00Z", 0, 0, ""},
    {"S06", "2026-01-30T02:00:00Z", 0, 1, "monthly"},
    {"S05", "2026-01-05T02:00:00Z", 0, 0, ""},
    {"S04", "2025-12-24T02:00:00Z", 1, 1, "pinned"},
    {"S03", "2025-12-01T02:00:00Z", 0, 0, ""},
    {"S02", "2025-11-28T02:00:00Z", 0, 0, ""},
    {"S01", "2025-11-03T02:00:00Z", 0, 0, ""},
};

static struct policy
example_policy(void)
{
	struct policy p = empty_policy();

	p.keep_last = 2;
	p.keep_daily = 7;
	p.keep_weekly = 4;
	p.keep_monthly = 3;
	p.keep_yearly = 1;
	p.keep_within = 3 * 86400;
	p.min_keep = 3;
	p.max_delete_per_run = 10;
	return p;
}

/*
 * Check ${nv} vectors: shuffled input order (retention sorts itself), then
 * every decision and its reason text.
 */
static void
check_vectors(const struct vector *v, size_t nv, const struct policy *p,
    const char *tz, time_t as_of)
{
	struct retention_item *items = calloc(nv, sizeof(*items));
	struct retention_decision *d = calloc(nv, sizeof(*d));
	size_t *pos = calloc(nv, sizeof(*pos));

	assert_non_null(items);
	assert_non_null(d);
	assert_non_null(pos);
	/* Reverse-interleave the order to prove the input order is free. */
	for (size_t i = 0; i < nv; i++)
		pos[i] = (i % 2 == 0) ? nv - 1 - i / 2 : i / 2;
	for (size_t i = 0; i < nv; i++) {
		struct retention_item *it = &items[pos[i]];

		it->id = atoll(v[i].id + 1);
		it->created_at = T(v[i].created);
		it->pinned = v[i].pinned;
	}
	plan_ok(items, nv, p, tz, as_of, d);
	for (size_t i = 0; i < nv; i++) {
		const struct retention_decision *x = &d[pos[i]];

		if (x->keep != v[i].keep ||
		    strcmp(reasons(x->reasons), v[i].reasons) != 0)
			fail_msg("%s: got %s \"%s\", want %s \"%s\"", v[i].id,
			    x->keep ? "keep" : "delete", reasons(x->reasons),
			    v[i].keep ? "keep" : "delete", v[i].reasons);
	}
	free(pos);
	free(d);
	free(items);
}

static void
test_retention_worked_example_embedded(void **state)
{
	struct policy p = example_policy();

	(void)state;
	check_vectors(example, sizeof(example) / sizeof(example[0]), &p, "UTC",
	    T("2026-03-16T03:00:00Z"));
}

/* Split one CSV line into at most ${max} fields (double quotes honoured). */
static size_t
csv_split(char *line, char **fields, size_t max)
{
	size_t n = 0;
	char *p = line;

	while (n < max) {
		char *w;

		fields[n++] = p;
		w = p;
		if (*p == '"') {
			p++;
			while (*p != '\0' && *p != '"')
				*w++ = *p++;
			if (*p == '"')
				p++;
		} else {
			while (*p != '\0' && *p != ',')
				*w++ = *p++;
		}
		if (*p != ',') {
			*w = '\0';
			break;
		}
		*w = '\0';
		p++;
	}
	return n;
}

/* "keep_last=2 keep_daily=7 ... keep_within=3d" from the comment line. */
static void
csv_policy(const char *text, struct policy *p)
{
	char buf[512];
	char *save = NULL;

	util_strlcpy(buf, text, sizeof(buf));
	for (char *tok = strtok_r(buf, " ", &save); tok != NULL;
	     tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');
		long long v = 0;

		if (eq == NULL)
			continue;
		*eq++ = '\0';
		if (util_parse_duration(eq, &v))
			fail_msg("csv policy: bad value %s=%s", tok, eq);
		if (strcmp(tok, "keep_last") == 0)
			p->keep_last = (int)v;
		else if (strcmp(tok, "keep_hourly") == 0)
			p->keep_hourly = (int)v;
		else if (strcmp(tok, "keep_daily") == 0)
			p->keep_daily = (int)v;
		else if (strcmp(tok, "keep_weekly") == 0)
			p->keep_weekly = (int)v;
		else if (strcmp(tok, "keep_monthly") == 0)
			p->keep_monthly = (int)v;
		else if (strcmp(tok, "keep_yearly") == 0)
			p->keep_yearly = (int)v;
		else if (strcmp(tok, "keep_within") == 0)
			p->keep_within = v;
		else if (strcmp(tok, "min_keep") == 0)
			p->min_keep = (int)v;
		else if (strcmp(tok, "max_delete_per_run") == 0)
			p->max_delete_per_run = (int)v;
		else
			fail_msg("csv policy: unknown key %s", tok);
	}
}

static void
test_retention_worked_example_from_fixture_csv(void **state)
{
	const char *dir = getenv("FIXTURES_DIR");
	char path[4096], err[256];
	char *data = NULL, *save = NULL;
	struct vector v[256];
	struct policy p = empty_policy();
	time_t as_of = 0;
	size_t nv = 0;
	int have_policy = 0;

	(void)state;
	if (dir == NULL || *dir == '\0')
		dir = "tests/fixtures";
	snprintf(path, sizeof(path), "%s/retention-vectors.csv", dir);
	if (util_read_file(path, 1 << 20, &data, NULL, err, sizeof(err)))
		fail_msg("%s (run from the repository root, or set "
		         "FIXTURES_DIR)",
		    err);
	for (char *line = strtok_r(data, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[5];

		if (strncmp(line, "# as_of = ", 10) == 0) {
			as_of = T(line + 10);
			continue;
		}
		if (strncmp(line, "# policy: ", 10) == 0) {
			csv_policy(line + 10, &p);
			have_policy = 1;
			continue;
		}
		if (line[0] == '#' || strncmp(line, "id,", 3) == 0)
			continue;
		assert_true(nv < sizeof(v) / sizeof(v[0]));
		assert_int_equal(csv_split(line, f, 5), 5);
		v[nv].id = f[0];
		v[nv].created = f[1];
		v[nv].pinned = strcmp(f[2], "yes") == 0;
		v[nv].keep = strcmp(f[3], "keep") == 0;
		v[nv].reasons = f[4];
		nv++;
	}
	assert_true(as_of != 0);
	assert_true(have_policy);
	assert_true(nv > 0);
	check_vectors(v, nv, &p, "UTC", as_of);
	free(data);
}

/* ------------------------------------------------------------------ */
/* Single rules                                                         */
/* ------------------------------------------------------------------ */

/* Items with ids n..1 at the given times (newest first by convention). */
static void
make_items(struct retention_item *it, const char *const *times, size_t n)
{
	memset(it, 0, n * sizeof(*it));
	for (size_t i = 0; i < n; i++) {
		it[i].id = (long long)(n - i);
		it[i].created_at = T(times[i]);
	}
}

static void
test_retention_keeps_newest_per_week_monday_first(void **state)
{
	static const char *const times[] = {
	    "2026-03-16T02:00:00Z", /* Monday: week 12 */
	    "2026-03-15T02:00:00Z", /* Sunday: week 11 */
	    "2026-03-14T02:00:00Z", /* Saturday: week 11 */
	    "2026-03-09T02:00:00Z", /* Monday: week 11 */
	    "2026-03-08T02:00:00Z", /* Sunday: week 10 */
	};
	struct retention_item it[5];
	struct retention_decision d[5];
	struct policy p = empty_policy();

	(void)state;
	make_items(it, times, 5);
	p.keep_weekly = 3;
	plan_ok(it, 5, &p, "UTC", T("2026-03-17T00:00:00Z"), d);
	assert_decision(d, 0, 1, "weekly");
	assert_decision(d, 1, 1, "weekly");
	assert_decision(d, 2, 0, "");
	assert_decision(d, 3, 0, "");
	assert_decision(d, 4, 1, "weekly");
}

static void
test_retention_iso_weeks_across_year_boundaries(void **state)
{
	/* 2026 has 53 ISO weeks; 2027-01-03 (Sunday) is still 2026-W53. */
	static const char *const t1[] = {
	    "2027-01-04T02:00:00Z", /* Monday: 2027-W01 */
	    "2027-01-03T02:00:00Z", /* Sunday: 2026-W53 */
	    "2027-01-01T02:00:00Z", /* Friday: 2026-W53 */
	    "2026-12-28T02:00:00Z", /* Monday: 2026-W53 */
	    "2026-12-27T02:00:00Z", /* Sunday: 2026-W52 */
	};
	/* 2024-12-30 (Monday) is already 2025-W01. */
	static const char *const t2[] = {
	    "2025-01-05T02:00:00Z", /* Sunday: 2025-W01 */
	    "2024-12-30T02:00:00Z", /* Monday: 2025-W01 */
	    "2024-12-29T02:00:00Z", /* Sunday: 2024-W52 */
	};
	struct retention_item it[5];
	struct retention_decision d[5];
	struct policy p = empty_policy();

	(void)state;
	p.keep_weekly = 3;
	make_items(it, t1, 5);
	plan_ok(it, 5, &p, "UTC", T("2027-01-05T00:00:00Z"), d);
	assert_decision(d, 0, 1, "weekly");
	assert_decision(d, 1, 1, "weekly");
	assert_decision(d, 2, 0, "");
	assert_decision(d, 3, 0, "");
	assert_decision(d, 4, 1, "weekly");

	make_items(it, t2, 3);
	plan_ok(it, 3, &p, "UTC", T("2025-01-06T00:00:00Z"), d);
	assert_decision(d, 0, 1, "weekly");
	assert_decision(d, 1, 0, "");
	assert_decision(d, 2, 1, "weekly");
}

static void
test_retention_periods_follow_the_time_zone(void **state)
{
	static const char *const times[] = {
	    "2026-12-31T23:30:00Z", /* 2027-01-01 00:30 in Berlin */
	    "2026-12-31T22:00:00Z", /* 2026-12-31 23:00 in Berlin */
	};
	struct retention_item it[2];
	struct retention_decision d[2];
	struct policy p = empty_policy();

	(void)state;
	make_items(it, times, 2);
	p.keep_yearly = 2;
	plan_ok(it, 2, &p, "UTC", T("2027-01-02T00:00:00Z"), d);
	assert_decision(d, 0, 1, "yearly");
	assert_decision(d, 1, 0, "");
	plan_ok(it, 2, &p, "Europe/Berlin", T("2027-01-02T00:00:00Z"), d);
	assert_decision(d, 0, 1, "yearly");
	assert_decision(d, 1, 1, "yearly");
	/* Same for days, in New York the other way round. */
	p = empty_policy();
	p.keep_daily = 2;
	plan_ok(it, 2, &p, "America/New_York", T("2027-01-02T00:00:00Z"), d);
	assert_decision(d, 0, 1, "daily");
	assert_decision(d, 1, 0, ""); /* both 2026-12-31 evening */
}

static void
test_retention_hourly_bucket_counts_repeated_hour_once(void **state)
{
	/* Berlin 2026-10-25: 02:xx CEST then 02:xx CET -- one local hour. */
	static const char *const times[] = {
	    "2026-10-25T02:10:00Z", /* 03:10 CET */
	    "2026-10-25T01:10:00Z", /* 02:10 CET */
	    "2026-10-25T00:10:00Z", /* 02:10 CEST */
	    "2026-10-24T23:10:00Z", /* 01:10 CEST */
	};
	struct retention_item it[4];
	struct retention_decision d[4];
	struct policy p = empty_policy();

	(void)state;
	make_items(it, times, 4);
	p.keep_hourly = 3;
	plan_ok(it, 4, &p, "Europe/Berlin", T("2026-10-26T00:00:00Z"), d);
	assert_decision(d, 0, 1, "hourly");
	assert_decision(d, 1, 1, "hourly");
	assert_decision(d, 2, 0, "");
	assert_decision(d, 3, 1, "hourly");
}

static void
test_retention_keep_within_is_strict(void **state)
{
	static const char *const times[] = {
	    "2026-03-15T03:00:01Z",
	    "2026-03-15T03:00:00Z", /* exactly as_of - 1d: not within */
	};
	struct retention_item it[2];
	struct retention_decision d[2];
	struct policy p = empty_policy();

	(void)state;
	make_items(it, times, 2);
	p.keep_within = 86400;
	plan_ok(it, 2, &p, "UTC", T("2026-03-16T03:00:00Z"), d);
	assert_decision(d, 0, 1, "within");
	assert_decision(d, 1, 0, "");
}

static void
test_retention_min_keep_tops_up_and_ignores_set_aside(void **state)
{
	static const char *const times[] = {
	    "2026-03-10T00:00:00Z", /* pinned */
	    "2026-03-09T00:00:00Z",
	    "2026-03-08T00:00:00Z",
	    "2026-03-07T00:00:00Z",
	    "2026-03-06T00:00:00Z",
	};
	struct retention_item it[5];
	struct retention_decision d[5];
	struct policy p = empty_policy();

	(void)state;
	make_items(it, times, 5);
	it[0].pinned = 1;
	p.keep_within = 86400; /* keeps none of them */
	p.min_keep = 2;
	plan_ok(it, 5, &p, "UTC", T("2026-03-16T00:00:00Z"), d);
	assert_decision(d, 0, 1, "pinned");
	assert_decision(d, 1, 1, "min_keep");
	assert_decision(d, 2, 1, "min_keep");
	assert_decision(d, 3, 0, "");
	assert_decision(d, 4, 0, "");
	/* Kept ones count: only the shortfall is topped up. */
	p.keep_last = 1;
	plan_ok(it, 5, &p, "UTC", T("2026-03-16T00:00:00Z"), d);
	assert_decision(d, 1, 1, "last");
	assert_decision(d, 2, 1, "min_keep");
	assert_decision(d, 3, 0, "");
}

static void
test_retention_never_deletes_newest(void **state)
{
	static const char *const times[] = {
	    "2026-03-01T00:00:00Z", "2026-02-01T00:00:00Z"};
	struct retention_item it[2];
	struct retention_decision d[2];
	struct policy p = empty_policy();

	(void)state;
	make_items(it, times, 2);
	p.keep_within = 86400;
	plan_ok(it, 2, &p, "UTC", T("2026-03-16T00:00:00Z"), d);
	assert_decision(d, 0, 1, "newest");
	assert_decision(d, 1, 0, "");
	/* A set-aside newest covers the rule. */
	it[0].promoted = 1;
	plan_ok(it, 2, &p, "UTC", T("2026-03-16T00:00:00Z"), d);
	assert_decision(d, 0, 1, "promoted");
	assert_decision(d, 1, 0, "");
}

static void
test_retention_set_aside_consume_no_bucket(void **state)
{
	static const char *const times[] = {
	    "2026-03-16T01:00:00Z", /* pinned and promoted */
	    "2026-03-16T00:30:00Z", /* promoted */
	    "2026-03-16T00:10:00Z", /* same day */
	    "2026-03-15T00:10:00Z",
	};
	struct retention_item it[4];
	struct retention_decision d[4];
	struct policy p = empty_policy();

	(void)state;
	make_items(it, times, 4);
	it[0].pinned = 1;
	it[0].promoted = 1;
	it[1].promoted = 1;
	p.keep_last = 1;
	p.keep_daily = 1;
	plan_ok(it, 4, &p, "UTC", T("2026-03-16T02:00:00Z"), d);
	assert_decision(d, 0, 1, "pinned,promoted");
	assert_decision(d, 1, 1, "promoted");
	assert_decision(d, 2, 1, "last,daily");
	assert_decision(d, 3, 0, "");
}

static void
test_retention_max_delete_deletes_oldest_and_defers_rest(void **state)
{
	static const char *const times[] = {"2026-03-10T00:00:00Z",
	    "2026-03-09T00:00:00Z", "2026-03-08T00:00:00Z",
	    "2026-03-07T00:00:00Z", "2026-03-06T00:00:00Z"};
	struct retention_item it[5];
	struct retention_decision d[5];
	struct policy p = empty_policy();

	(void)state;
	make_items(it, times, 5);
	p.keep_last = 1;
	p.max_delete_per_run = 2;
	plan_ok(it, 5, &p, "UTC", T("2026-03-16T00:00:00Z"), d);
	assert_decision(d, 0, 1, "last");
	assert_decision(d, 1, 1, "deferred");
	assert_decision(d, 2, 1, "deferred");
	assert_decision(d, 3, 0, "");
	assert_decision(d, 4, 0, "");
	p.max_delete_per_run = 0;
	plan_ok(it, 5, &p, "UTC", T("2026-03-16T00:00:00Z"), d);
	for (size_t i = 1; i < 5; i++)
		assert_decision(d, i, 1, "deferred");
}

static void
test_retention_refuses_policy_that_keeps_nothing(void **state)
{
	struct retention_item it[1] = {{1, 1000, 0, 0}};
	struct retention_decision d[1] = {{7, 7}};
	struct policy p = empty_policy();
	char err[256] = "";

	(void)state;
	p.max_delete_per_run = 10;
	assert_int_equal(
	    retention_plan(it, 1, &p, Z("UTC"), 2000, d, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "policy keeps nothing: set keep_last, keep_hourly, keep_daily, "
	    "keep_weekly, keep_monthly, keep_yearly, keep_within or min_keep");
	assert_int_equal(d[0].keep, 7); /* untouched */
	assert_int_equal(retention_policy_check(&p, err, sizeof(err)), -1);
	p.min_keep = 1;
	assert_int_equal(retention_policy_check(&p, err, sizeof(err)), 0);
}

static void
test_retention_refuses_when_clock_is_behind_newest(void **state)
{
	static const char *const times[] = {
	    "2026-03-16T02:00:00Z", "2026-01-01T00:00:00Z"};
	struct retention_item it[2];
	struct retention_decision d[2] = {{7, 7}, {7, 7}};
	struct policy p = empty_policy();
	char err[256] = "";

	(void)state;
	make_items(it, times, 2);
	it[0].pinned = 1; /* the newest counts even when set aside */
	p.keep_last = 1;
	assert_int_equal(retention_plan(it, 2, &p, Z("UTC"),
	                     T("2026-03-16T01:59:59Z"), d, err, sizeof(err)),
	    -1);
	assert_string_equal(err,
	    "as_of 2026-03-16T01:59:59Z is before the newest snapshot "
	    "(2026-03-16T02:00:00Z): refusing to delete (clock error?)");
	assert_int_equal(d[1].keep, 7);
	/* as_of equal to the newest is fine. */
	plan_ok(it, 2, &p, "UTC", T("2026-03-16T02:00:00Z"), d);
}

static void
test_retention_null_zone_is_utc(void **state)
{
	static const char *const times[] = {
	    "2026-03-15T23:30:00Z", "2026-03-15T22:30:00Z"};
	struct retention_item it[2];
	struct retention_decision d[2], u[2];
	struct policy p = empty_policy();

	(void)state;
	make_items(it, times, 2);
	p.keep_daily = 2;
	/* One UTC day; in Berlin 00:30 and 23:30, two days. */
	plan_ok(it, 2, &p, NULL, T("2026-03-16T00:00:00Z"), d);
	plan_ok(it, 2, &p, "UTC", T("2026-03-16T00:00:00Z"), u);
	assert_int_equal(d[1].keep, 0);
	assert_int_equal(u[1].keep, 0);
	plan_ok(it, 2, &p, "Europe/Berlin", T("2026-03-16T00:00:00Z"), d);
	assert_int_equal(d[1].keep, 1);
	/* No items is fine. */
	plan_ok(NULL, 0, &p, NULL, 2000, d);
}

static void
test_retention_reasons_text_has_fixed_order(void **state)
{
	char small[10];
	unsigned bits = 0;

	(void)state;
	assert_string_equal(reasons(0), "");
	assert_string_equal(
	    reasons(RETAIN_WITHIN | RETAIN_LAST | RETAIN_WEEKLY | RETAIN_DAILY),
	    "last,daily,weekly,within");
	assert_string_equal(reasons(RETAIN_ALL),
	    "last,hourly,daily,weekly,monthly,yearly,within,min_keep,newest,"
	    "pinned,promoted,deferred");
	assert_true(strlen(reasons(RETAIN_ALL)) < RETENTION_REASONS_MAX);
	/* Truncation drops whole names. */
	retention_reasons_format(
	    RETAIN_LAST | RETAIN_MONTHLY, small, sizeof(small));
	assert_string_equal(small, "last");
	assert_int_equal(
	    retention_reasons_parse("daily,last,deferred", &bits), 0);
	assert_true(bits == (RETAIN_LAST | RETAIN_DAILY | RETAIN_DEFERRED));
	assert_int_equal(retention_reasons_parse("", &bits), 0);
	assert_true(bits == 0);
	assert_int_equal(retention_reasons_parse("last,", &bits), -1);
	assert_int_equal(retention_reasons_parse("lastly", &bits), -1);
	for (unsigned b = 0; b <= RETAIN_ALL; b += 37) {
		assert_int_equal(retention_reasons_parse(reasons(b), &bits), 0);
		assert_true(bits == b);
	}
}

static void
test_retention_policy_fingerprint_is_stable(void **state)
{
	struct policy p = empty_policy();
	char buf[96];

	(void)state;
	p.keep_last = 3;
	p.keep_daily = 7;
	p.keep_weekly = 4;
	p.keep_monthly = 6;
	p.keep_within = 2 * 86400;
	p.min_keep = 2;
	p.max_delete_per_run = 10;
	retention_policy_fingerprint(&p, buf, sizeof(buf));
	assert_string_equal(
	    buf, "l3h0d7w4m6y0/within=2d/min=2/max=10/promoted=2");
	p.keep_within = 0;
	p.keep_hourly = 24;
	retention_policy_fingerprint(&p, buf, sizeof(buf));
	assert_string_equal(
	    buf, "l3h24d7w4m6y0/within=0s/min=2/max=10/promoted=2");
}

/* ------------------------------------------------------------------ */
/* Promotion                                                            */
/* ------------------------------------------------------------------ */

static void
test_retention_promotion_picks_newest_soaked_snapshot(void **state)
{
	static const char *const times[] = {
	    "2026-03-15T02:00:00Z", /* id 4: 1 day old */
	    "2026-03-09T02:00:00Z", /* id 3: exactly 7 days old */
	    "2026-03-08T02:00:00Z", /* id 2 */
	    "2026-03-01T02:00:00Z", /* id 1 */
	};
	struct retention_item it[4];
	time_t as_of = T("2026-03-16T02:00:00Z");
	long long pick = 0;

	(void)state;
	make_items(it, times, 4);
	assert_int_equal(
	    retention_promotion_pick(it, 4, 7 * 86400, as_of, 0, &pick), 1);
	assert_int_equal(pick, 3);
	/* Replaces an older holder. */
	pick = 0;
	assert_int_equal(
	    retention_promotion_pick(it, 4, 7 * 86400, as_of, 1, &pick), 1);
	assert_int_equal(pick, 3);
	/* Already the holder. */
	assert_int_equal(
	    retention_promotion_pick(it, 4, 7 * 86400, as_of, 3, &pick), 0);
	/* A newer hand-promoted holder is not rolled back. */
	assert_int_equal(
	    retention_promotion_pick(it, 4, 7 * 86400, as_of, 4, &pick), 0);
	/* One second short of the soak time: the next older one. */
	pick = 0;
	assert_int_equal(
	    retention_promotion_pick(it, 4, 7 * 86400 + 1, as_of, 0, &pick), 1);
	assert_int_equal(pick, 2);
	/* Nothing old enough; never. */
	assert_int_equal(
	    retention_promotion_pick(it, 4, 30 * 86400, as_of, 0, &pick), 0);
	assert_int_equal(
	    retention_promotion_pick(it, 4, PROMOTE_NEVER, as_of, 0, &pick), 0);
	assert_int_equal(
	    retention_promotion_pick(NULL, 0, 0, as_of, 0, &pick), 0);
	/* promote_after = 0: the newest. */
	assert_int_equal(
	    retention_promotion_pick(it, 4, 0, as_of, 3, &pick), 1);
	assert_int_equal(pick, 4);
}

static void
test_retention_mark_promoted_protects_keep_promoted_generations(void **state)
{
	struct retention_item it[5];
	const long long holders[] = {5, 3, 5, 2, 1}; /* 5 promoted twice */

	(void)state;
	memset(it, 0, sizeof(it));
	for (int i = 0; i < 5; i++)
		it[i].id = i + 1;
	/* keep_promoted = 2: the current holder and the one it replaced. */
	assert_int_equal(retention_mark_promoted(holders, 5, 2, it, 5), 2);
	assert_int_equal(it[4].promoted, 1);
	assert_int_equal(it[2].promoted, 1);
	assert_int_equal(it[1].promoted, 0);
	assert_int_equal(it[0].promoted, 0);
	/* Duplicates count once: three generations are 5, 3, 2. */
	memset(it, 0, sizeof(it));
	for (int i = 0; i < 5; i++)
		it[i].id = i + 1;
	assert_int_equal(retention_mark_promoted(holders, 5, 3, it, 5), 3);
	assert_int_equal(it[1].promoted, 1);
	assert_int_equal(it[0].promoted, 0);
	/* keep_promoted 0 or 1: the current holder only. */
	memset(it, 0, sizeof(it));
	for (int i = 0; i < 5; i++)
		it[i].id = i + 1;
	assert_int_equal(retention_mark_promoted(holders, 5, 0, it, 5), 1);
	assert_int_equal(it[4].promoted, 1);
	assert_int_equal(it[2].promoted, 0);
	/* A holder no longer active is still a generation. */
	memset(it, 0, sizeof(it));
	for (int i = 0; i < 4; i++)
		it[i].id = i + 1; /* 5 is gone */
	assert_int_equal(retention_mark_promoted(holders, 5, 2, it, 4), 1);
	assert_int_equal(it[2].promoted, 1);
	assert_int_equal(it[1].promoted, 0);
}

/* ------------------------------------------------------------------ */
/* Properties                                                           */
/* ------------------------------------------------------------------ */

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

struct ref {
	time_t created_at;
	long long id;
	size_t idx;
};

static int
ref_cmp(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;

	if (x->created_at != y->created_at)
		return x->created_at > y->created_at ? -1 : 1;
	return x->id > y->id ? -1 : (x->id < y->id);
}

/*
 * The reference: DESIGN.md section 6 read literally.  "The newest snapshot
 * of each of the last N periods that hold a snapshot", periods from glibc
 * (TZ must already be set to the zone), ISO weeks from strftime("%G%V").
 */
static void
reference_plan(const struct retention_item *items, size_t n,
    const struct policy *p, time_t as_of, struct retention_decision *out)
{
	static const char *const fmt[5] = {
	    "%Y%m%d%H", "%Y%m%d", "%G%V", "%Y%m", "%Y"};
	static const unsigned bit[5] = {RETAIN_HOURLY, RETAIN_DAILY,
	    RETAIN_WEEKLY, RETAIN_MONTHLY, RETAIN_YEARLY};
	const int cnt[5] = {p->keep_hourly, p->keep_daily, p->keep_weekly,
	    p->keep_monthly, p->keep_yearly};
	struct ref *c = calloc(n + 1, sizeof(*c));
	long long *keys = calloc(n + 1, sizeof(*keys));
	size_t nc = 0, kept = 0, ndel = 0, newest = 0;

	assert_non_null(c);
	assert_non_null(keys);
	memset(out, 0, n * sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		if (items[i].created_at > items[newest].created_at ||
		    (items[i].created_at == items[newest].created_at &&
		        items[i].id > items[newest].id))
			newest = i;
		if (items[i].pinned || items[i].promoted) {
			out[i].keep = 1;
			out[i].reasons = (items[i].pinned ? RETAIN_PINNED : 0) |
			    (items[i].promoted ? RETAIN_PROMOTED : 0);
			continue;
		}
		c[nc].created_at = items[i].created_at;
		c[nc].id = items[i].id;
		c[nc].idx = i;
		nc++;
	}
	qsort(c, nc, sizeof(*c), ref_cmp);
	for (size_t j = 0; j < nc && (int)j < p->keep_last; j++)
		out[c[j].idx].reasons |= RETAIN_LAST;
	for (int k = 0; k < 5; k++) {
		for (size_t j = 0; j < nc; j++) {
			struct tm tm;
			char b[32];

			localtime_r(&c[j].created_at, &tm);
			strftime(b, sizeof(b), fmt[k], &tm);
			keys[j] = atoll(b);
		}
		/* Walk distinct periods from the latest down. */
		for (int taken = 0; taken < cnt[k]; taken++) {
			long long best = -1;
			size_t at = 0;

			for (size_t j = 0; j < nc; j++) {
				if (out[c[j].idx].reasons & bit[k])
					continue;
				if (best >= 0 && keys[j] <= best)
					continue;
				/* skip periods already represented */
				int done = 0;
				for (size_t q = 0; q < nc && !done; q++)
					done = keys[q] == keys[j] &&
					    (out[c[q].idx].reasons & bit[k]);
				if (done)
					continue;
				best = keys[j];
				at = j; /* first in walk order = newest */
			}
			if (best < 0)
				break;
			out[c[at].idx].reasons |= bit[k];
		}
	}
	for (size_t j = 0; j < nc; j++) {
		struct retention_decision *d = &out[c[j].idx];

		if (p->keep_within > 0 &&
		    c[j].created_at > as_of - (time_t)p->keep_within)
			d->reasons |= RETAIN_WITHIN;
		if (d->reasons) {
			d->keep = 1;
			kept++;
		}
	}
	for (size_t j = 0; j < nc && (int)kept < p->min_keep; j++) {
		if (!out[c[j].idx].keep) {
			out[c[j].idx].keep = 1;
			out[c[j].idx].reasons = RETAIN_MIN_KEEP;
			kept++;
		}
	}
	if (n > 0 && !out[newest].keep) {
		out[newest].keep = 1;
		out[newest].reasons = RETAIN_NEWEST;
	}
	for (size_t j = 0; j < nc; j++)
		ndel += !out[c[j].idx].keep;
	/* Defer the newest of the deletions beyond the cap. */
	for (size_t j = 0; j < nc && p->max_delete_per_run >= 0 &&
	     ndel > (size_t)p->max_delete_per_run;
	     j++) {
		if (!out[c[j].idx].keep) {
			out[c[j].idx].keep = 1;
			out[c[j].idx].reasons = RETAIN_DEFERRED;
			ndel--;
		}
	}
	free(keys);
	free(c);
}

static struct policy
random_policy(uint64_t *seed)
{
	struct policy p = empty_policy();

	p.keep_last = rnd(seed) % 2 ? (int)(rnd(seed) % 5) : 0;
	p.keep_hourly = rnd(seed) % 4 == 0 ? (int)(rnd(seed) % 6) : 0;
	p.keep_daily = rnd(seed) % 2 ? (int)(rnd(seed) % 8) : 0;
	p.keep_weekly = rnd(seed) % 2 ? (int)(rnd(seed) % 5) : 0;
	p.keep_monthly = rnd(seed) % 2 ? (int)(rnd(seed) % 7) : 0;
	p.keep_yearly = rnd(seed) % 3 == 0 ? (int)(rnd(seed) % 3) : 0;
	p.keep_within =
	    rnd(seed) % 3 == 0 ? (long long)(rnd(seed) % (20 * 86400)) : 0;
	p.min_keep = rnd(seed) % 2 ? (int)(rnd(seed) % 6) : 0;
	p.max_delete_per_run = rnd(seed) % 3 == 0 ? -1 : (int)(rnd(seed) % 8);
	return p;
}

static size_t
random_history(
    uint64_t *seed, time_t as_of, struct retention_item *it, size_t max)
{
	static const long long spans[] = {
	    2 * 86400, 40 * 86400, 400 * 86400, 1200 * 86400};
	size_t n = (size_t)(rnd(seed) % (max + 1));
	long long span = spans[rnd(seed) % 4];

	for (size_t i = 0; i < n; i++) {
		it[i].id = (long long)i + 1;
		if (i > 0 && rnd(seed) % 10 == 0) /* a tie */
			it[i].created_at = it[rnd(seed) % i].created_at;
		else
			it[i].created_at =
			    as_of - (time_t)(rnd(seed) % (uint64_t)span);
		it[i].pinned = rnd(seed) % 20 == 0;
		it[i].promoted = rnd(seed) % 20 == 0;
	}
	/* Shuffle ids so the id order differs from the time order. */
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(rnd(seed) % i);
		long long t = it[i - 1].id;

		it[i - 1].id = it[j].id;
		it[j].id = t;
	}
	return n;
}

static void
set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

static void
test_retention_random_histories_match_reference_and_invariants(void **state)
{
	static const char *const zones[] = {
	    "UTC", "Europe/Berlin", "America/New_York"};
	enum { MAXN = 80 };
	struct retention_item it[MAXN], again[MAXN];
	struct retention_decision d[MAXN], ref[MAXN], d2[MAXN];
	uint64_t seed = 0xc0ffee;
	int refused = 0, deferred_runs = 0;

	(void)state;
	for (int round = 0; round < 4000; round++) {
		const char *tz = zones[rnd(&seed) % 3];
		time_t as_of = T("2026-10-20T12:00:00Z") +
		    (time_t)(rnd(&seed) % (30 * 86400));
		struct policy p = random_policy(&seed);
		size_t n = random_history(&seed, as_of, it, MAXN);
		size_t ncand = 0, kept_cand = 0, ndel = 0, nk = 0;
		int any_deferred = 0;
		char err[256];
		size_t newest = 0;

		if (retention_policy_check(&p, err, sizeof(err))) {
			assert_int_equal(retention_plan(it, n, &p, Z(tz), as_of,
			                     d, err, sizeof(err)),
			    -1);
			refused++;
			continue;
		}
		plan_ok(it, n, &p, tz, as_of, d);
		set_tz(tz);
		reference_plan(it, n, &p, as_of, ref);
		for (size_t i = 0; i < n; i++) {
			if (d[i].keep != ref[i].keep ||
			    d[i].reasons != ref[i].reasons) {
				char a[RETENTION_REASONS_MAX];

				retention_reasons_format(
				    d[i].reasons, a, sizeof(a));
				fail_msg("round %d item %zu (%s): got %d %s, "
				         "reference %d %s",
				    round, i, tz, d[i].keep, a, ref[i].keep,
				    reasons(ref[i].reasons));
			}
		}
		/* Invariants. */
		for (size_t i = 0; i < n; i++) {
			int aside = it[i].pinned || it[i].promoted;

			if (it[i].created_at > it[newest].created_at ||
			    (it[i].created_at == it[newest].created_at &&
			        it[i].id > it[newest].id))
				newest = i;
			assert_int_equal(d[i].keep, d[i].reasons != 0);
			if (aside) {
				assert_int_equal(d[i].keep, 1);
				assert_true(d[i].reasons &
				    (RETAIN_PINNED | RETAIN_PROMOTED));
				continue;
			}
			ncand++;
			if (d[i].reasons == RETAIN_DEFERRED)
				any_deferred = 1;
			else if (d[i].keep)
				kept_cand++;
			else
				ndel++;
		}
		if (n > 0)
			assert_int_equal(d[newest].keep, 1);
		assert_true(kept_cand >=
		    ((size_t)p.min_keep < ncand ? (size_t)p.min_keep : ncand));
		if (p.max_delete_per_run >= 0)
			assert_true(ndel <= (size_t)p.max_delete_per_run);
		/* Every deferred one is newer than every deleted one. */
		for (size_t i = 0; i < n; i++) {
			for (size_t j = 0;
			     j < n && d[i].reasons == RETAIN_DEFERRED; j++) {
				if (!d[j].keep)
					assert_true(
					    ref_cmp(
					        &(struct ref){it[i].created_at,
					            it[i].id, 0},
					        &(struct ref){it[j].created_at,
					            it[j].id, 0}) < 0);
			}
		}

		/*
		 * Re-planning over the kept set with the same as_of: every
		 * item keeps its reasons, except deferred ones, which are
		 * now deleted or deferred again.  Nothing deferred: nothing
		 * deleted.
		 */
		for (size_t i = 0; i < n; i++) {
			if (d[i].keep)
				again[nk++] = it[i];
		}
		plan_ok(again, nk, &p, tz, as_of, d2);
		for (size_t i = 0, k = 0; i < n; i++) {
			if (!d[i].keep)
				continue;
			if (d[i].reasons == RETAIN_DEFERRED) {
				assert_true(d2[k].keep == 0 ||
				    d2[k].reasons == RETAIN_DEFERRED);
			} else {
				assert_int_equal(d2[k].keep, 1);
				if (d2[k].reasons != d[i].reasons)
					fail_msg("round %d: re-plan changed "
					         "reasons %u -> %u",
					    round, d[i].reasons, d2[k].reasons);
			}
			k++;
		}
		deferred_runs += any_deferred;
	}
	unsetenv("TZ");
	tzset();
	/* The generator really exercises refusal and deferral. */
	assert_true(refused > 0);
	assert_true(deferred_runs > 100);
}

static void
test_retention_decides_ten_thousand_snapshots(void **state)
{
	enum { N = 10000 };
	struct retention_item *it = calloc(N, sizeof(*it));
	struct retention_decision *d = calloc(N, sizeof(*d));
	struct policy p = empty_policy();
	time_t as_of = T("2026-03-16T03:00:00Z");
	size_t kept = 0;

	(void)state;
	assert_non_null(it);
	assert_non_null(d);
	for (size_t i = 0; i < N; i++) {
		it[i].id = (long long)i + 1;
		it[i].created_at = as_of - (time_t)(i * 3600); /* hourly */
	}
	p.keep_hourly = 24;
	p.keep_daily = 7;
	p.keep_weekly = 4;
	p.keep_monthly = 6;
	p.keep_yearly = 2;
	plan_ok(it, N, &p, "Europe/Berlin", as_of, d);
	for (size_t i = 0; i < N; i++)
		kept += d[i].keep;
	/* 24 hours cover today's daily; the rest follows from it. */
	assert_true(kept >= 24 && kept <= 24 + 7 + 4 + 6 + 2);
	assert_int_equal(d[0].keep, 1);
	assert_int_equal(d[N - 1].keep, 0);
	free(d);
	free(it);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_retention_worked_example_embedded),
	    cmocka_unit_test(test_retention_worked_example_from_fixture_csv),
	    cmocka_unit_test(test_retention_keeps_newest_per_week_monday_first),
	    cmocka_unit_test(test_retention_iso_weeks_across_year_boundaries),
	    cmocka_unit_test(test_retention_periods_follow_the_time_zone),
	    cmocka_unit_test(
	        test_retention_hourly_bucket_counts_repeated_hour_once),
	    cmocka_unit_test(test_retention_keep_within_is_strict),
	    cmocka_unit_test(
	        test_retention_min_keep_tops_up_and_ignores_set_aside),
	    cmocka_unit_test(test_retention_never_deletes_newest),
	    cmocka_unit_test(test_retention_set_aside_consume_no_bucket),
	    cmocka_unit_test(
	        test_retention_max_delete_deletes_oldest_and_defers_rest),
	    cmocka_unit_test(test_retention_refuses_policy_that_keeps_nothing),
	    cmocka_unit_test(
	        test_retention_refuses_when_clock_is_behind_newest),
	    cmocka_unit_test(test_retention_null_zone_is_utc),
	    cmocka_unit_test(test_retention_reasons_text_has_fixed_order),
	    cmocka_unit_test(test_retention_policy_fingerprint_is_stable),
	    cmocka_unit_test(
	        test_retention_promotion_picks_newest_soaked_snapshot),
	    cmocka_unit_test(
	        test_retention_mark_promoted_protects_keep_promoted_generations),
	    cmocka_unit_test(
	        test_retention_random_histories_match_reference_and_invariants),
	    cmocka_unit_test(test_retention_decides_ten_thousand_snapshots),
	};

	return cmocka_run_group_tests(tests, zones_load, zones_free);
}
