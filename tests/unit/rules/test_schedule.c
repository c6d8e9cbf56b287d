/*
 * test_schedule.c -- cron parsing, slots, time zones and DST.
 *
 * The DST cases pin the contract of job/schedule.h: a repeated wall time is
 * one slot at its first occurrence, a skipped one is one slot at the instant
 * the clocks jump, and slots never repeat.  The time zone code is also
 * checked slot by slot against a brute-force scan of local minutes
 * (tz_localtime; the zones themselves are tested in test_tz.c).
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

#include "job/base/tz.h"
#include "job/base/util.h"
#include "job/rules/schedule.h"
#include "tests/unit/rules/fixture.h"

static void
parse_ok(const char *expr, struct schedule *s)
{
	char err[256] = "";

	if (schedule_parse(expr, s, err, sizeof(err)))
		fail_msg("schedule_parse(\"%s\"): %s", expr, err);
}

static void
assert_time(time_t got, const char *want)
{
	char buf[32];

	util_format_time(got, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void
assert_current(
    const char *expr, const char *tz, const char *as_of, const char *want)
{
	struct schedule s;
	time_t slot = 0;

	parse_ok(expr, &s);
	assert_int_equal(schedule_current_slot(&s, Z(tz), T(as_of), &slot), 0);
	assert_time(slot, want);
}

static void
assert_parse_error(const char *expr, const char *want)
{
	struct schedule s;
	char err[256] = "";

	assert_int_equal(schedule_parse(expr, &s, err, sizeof(err)), -1);
	assert_string_equal(err, want);
}

static uint64_t
bits(const int *v, size_t n)
{
	uint64_t b = 0;

	for (size_t i = 0; i < n; i++)
		b |= (uint64_t)1 << v[i];
	return b;
}

static void
test_schedule_parses_star_list_range_and_step(void **state)
{
	struct schedule s;
	static const int min[] = {0, 15, 30, 45};
	static const int hr[] = {1, 13};
	static const int md[] = {1, 2, 3, 4, 5};

	(void)state;
	parse_ok("*/15 1,13 1-5 * *", &s);
	assert_int_equal(s.every, 0);
	assert_true(s.minutes == bits(min, 4));
	assert_true(s.hours == bits(hr, 2));
	assert_true(s.mdays == bits(md, 5));
	assert_true(s.months == 0x1ffe); /* 1-12 */
	assert_true(s.wdays == 0x7f);
	assert_int_equal(s.mday_restricted, 1);
	assert_int_equal(s.wday_restricted, 0);
	assert_string_equal(s.text, "*/15 1,13 1-5 * *");
}

static void
test_schedule_parses_range_with_step_and_value_with_step(void **state)
{
	struct schedule s;
	static const int min[] = {10, 20, 30, 40, 50};
	static const int hr[] = {5, 11, 17, 23};

	(void)state;
	parse_ok("10-50/10 5/6 * * *", &s);
	assert_true(s.minutes == bits(min, 5));
	assert_true(s.hours == bits(hr, 4)); /* "5/6" = 5-23/6 */
	parse_ok("0,59 0,23 31 12 *", &s);
	assert_true(s.minutes == (((uint64_t)1 << 59) | 1));
	assert_true(s.mdays == (1u << 31));
	assert_true(s.months == (1u << 12));
}

static void
test_schedule_parses_month_and_weekday_names_any_case(void **state)
{
	struct schedule s;
	static const int mon[] = {1, 2, 3, 12};
	static const int wd[] = {1, 5};

	(void)state;
	parse_ok("0 0 * jan-Mar,DEC mon,FRI", &s);
	assert_true(s.months == bits(mon, 4));
	assert_true(s.wdays == bits(wd, 2));
	assert_int_equal(s.wday_restricted, 1);
	assert_int_equal(s.mday_restricted, 0);
	/* 7 is Sunday too. */
	parse_ok("0 0 * * 7", &s);
	assert_true(s.wdays == 1);
	parse_ok("0 0 * * 5-7", &s);
	assert_true(s.wdays == ((1u << 5) | (1u << 6) | 1u));
	parse_ok("0 0 * * sun", &s);
	assert_true(s.wdays == 1);
}

static void
test_schedule_keywords_equal_their_cron_forms(void **state)
{
	static const char *const pairs[][2] = {
	    {"@hourly", "0 * * * *"},
	    {"@daily", "0 0 * * *"},
	    {"@midnight", "0 0 * * *"},
	    {"@weekly", "0 0 * * 0"},
	    {"@monthly", "0 0 1 * *"},
	    {"@yearly", "0 0 1 1 *"},
	    {"@annually", "0 0 1 1 *"},
	    {"  @Daily  ", "0 0 * * *"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		struct schedule a, b;

		parse_ok(pairs[i][0], &a);
		parse_ok(pairs[i][1], &b);
		assert_true(a.minutes == b.minutes);
		assert_true(a.hours == b.hours);
		assert_true(a.mdays == b.mdays);
		assert_true(a.months == b.months);
		assert_true(a.wdays == b.wdays);
		assert_int_equal(a.mday_restricted, b.mday_restricted);
		assert_int_equal(a.wday_restricted, b.wday_restricted);
		assert_string_equal(a.text, pairs[i][0]);
	}
}

static void
test_schedule_every_slots_are_multiples_since_epoch(void **state)
{
	struct schedule s;
	time_t slot = 0;

	(void)state;
	parse_ok("@every 6h", &s);
	assert_int_equal(s.every, 1);
	assert_int_equal(s.every_secs, 6 * 3600);
	assert_int_equal(schedule_current_slot(&s, Z("Europe/Berlin"),
	                     T("2026-03-16T13:00:00Z"), &slot),
	    0);
	assert_time(slot, "2026-03-16T12:00:00Z");
	assert_int_equal(
	    schedule_current_slot(&s, NULL, T("2026-03-16T12:00:00Z"), &slot),
	    0);
	assert_time(slot, "2026-03-16T12:00:00Z");
	assert_int_equal(
	    schedule_next_slot(&s, Z("UTC"), T("2026-03-16T12:00:00Z"), &slot),
	    0);
	assert_time(slot, "2026-03-16T18:00:00Z");
	assert_int_equal(
	    schedule_interval(&s, Z("UTC"), T("2026-03-16T13:00:00Z")), 21600);
	/* Before the epoch the multiples still line up. */
	assert_int_equal(schedule_current_slot(&s, Z("UTC"), -1, &slot), 0);
	assert_int_equal((long long)slot, -21600);

	parse_ok("@every 1d12h", &s);
	assert_int_equal(s.every_secs, 36 * 3600);
	assert_parse_error(
	    "@every 30s", "@every: the period must be between 60s and 3650d");
	assert_parse_error("@every", "@every needs a duration");
	assert_parse_error(
	    "@every soon", "@every: \"soon\" is not a duration (e.g. 6h)");
	assert_parse_error("@every 1h 2h", "@every takes one duration");
}

static void
test_schedule_dom_and_dow_both_restricted_match_either(void **state)
{
	struct schedule s;
	time_t t;
	static const char *const want[] = {
	    "2026-03-01T00:00:00Z", /* the 1st, a Sunday */
	    "2026-03-02T00:00:00Z", /* Monday */
	    "2026-03-09T00:00:00Z",
	    "2026-03-16T00:00:00Z",
	    "2026-03-23T00:00:00Z",
	    "2026-03-30T00:00:00Z",
	    "2026-04-01T00:00:00Z", /* the 1st, a Wednesday */
	    "2026-04-06T00:00:00Z",
	};

	(void)state;
	parse_ok("0 0 1 * MON", &s);
	t = T("2026-02-28T12:00:00Z");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(schedule_next_slot(&s, Z("UTC"), t, &t), 0);
		assert_time(t, want[i]);
	}
	/* Only one restricted: it alone decides. */
	assert_current(
	    "0 0 1 * *", "UTC", "2026-03-20T00:00:00Z", "2026-03-01T00:00:00Z");
	assert_current("0 0 * * MON", "UTC", "2026-03-20T00:00:00Z",
	    "2026-03-16T00:00:00Z");
	/* A stepped field counts as restricted. */
	assert_current("0 0 */10 * FRI", "UTC", "2026-03-22T00:00:00Z",
	    "2026-03-21T00:00:00Z");
	assert_current("0 0 */10 * FRI", "UTC", "2026-03-20T23:00:00Z",
	    "2026-03-20T00:00:00Z");
}

static void
test_schedule_current_slot_is_inclusive_of_as_of(void **state)
{
	(void)state;
	assert_current(
	    "0 2 * * *", "UTC", "2026-03-16T02:00:00Z", "2026-03-16T02:00:00Z");
	assert_current(
	    "0 2 * * *", "UTC", "2026-03-16T01:59:59Z", "2026-03-15T02:00:00Z");
	assert_current("*/15 * * * *", "UTC", "2026-03-16T10:44:59Z",
	    "2026-03-16T10:30:00Z");
}

static void
test_schedule_catch_up_takes_only_current_slot(void **state)
{
	struct schedule s;
	time_t last = T("2026-03-13T02:00:00Z"), slot = 0, next = 0;

	(void)state;
	parse_ok("0 2 * * *", &s);
	/* Three days of downtime: the current slot is the latest one only. */
	assert_int_equal(schedule_current_slot(
	                     &s, Z("UTC"), T("2026-03-16T05:00:00Z"), &slot),
	    0);
	assert_time(slot, "2026-03-16T02:00:00Z");
	assert_true(slot > last);
	assert_int_equal(schedule_next_slot(&s, Z("UTC"), last, &next), 0);
	assert_time(next, "2026-03-14T02:00:00Z");
	assert_int_equal(
	    schedule_interval(&s, Z("UTC"), T("2026-03-16T05:00:00Z")), 86400);
}

static void
test_schedule_berlin_spring_forward_gap_slot_is_jump_instant(void **state)
{
	struct schedule s;
	time_t t;
	static const char *const want[] = {
	    "2026-03-28T01:30:00Z", /* 02:30 CET */
	    "2026-03-29T01:00:00Z", /* 02:30 does not exist: 03:00 CEST */
	    "2026-03-30T00:30:00Z", /* 02:30 CEST */
	};

	(void)state;
	assert_current("30 2 * * *", "Europe/Berlin", "2026-03-29T12:00:00Z",
	    "2026-03-29T01:00:00Z");
	assert_current("30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z",
	    "2026-03-28T01:30:00Z");
	assert_current("30 2 * * *", "Europe/Berlin", "2026-03-30T12:00:00Z",
	    "2026-03-30T00:30:00Z");
	assert_current("30 2 * * *", "Europe/Berlin", "2026-03-29T00:59:59Z",
	    "2026-03-28T01:30:00Z");
	parse_ok("30 2 * * *", &s);
	t = T("2026-03-27T12:00:00Z");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(
		    schedule_next_slot(&s, Z("Europe/Berlin"), t, &t), 0);
		assert_time(t, want[i]);
	}
	/* The day is an hour short. */
	assert_int_equal(schedule_interval(
	                     &s, Z("Europe/Berlin"), T("2026-03-30T12:00:00Z")),
	    23 * 3600 + 1800);
}

static void
test_schedule_berlin_fall_back_repeated_time_is_one_slot(void **state)
{
	struct schedule s;
	time_t t;
	static const char *const want[] = {
	    "2026-10-24T00:30:00Z", /* 02:30 CEST */
	    "2026-10-25T00:30:00Z", /* the first 02:30 (CEST) only */
	    "2026-10-26T01:30:00Z", /* 02:30 CET */
	};

	(void)state;
	parse_ok("30 2 * * *", &s);
	t = T("2026-10-23T12:00:00Z");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(
		    schedule_next_slot(&s, Z("Europe/Berlin"), t, &t), 0);
		assert_time(t, want[i]);
	}
	/* During the second 02:30 the current slot is still the first. */
	assert_current("30 2 * * *", "Europe/Berlin", "2026-10-25T01:30:00Z",
	    "2026-10-25T00:30:00Z");
	assert_current("30 2 * * *", "Europe/Berlin", "2026-10-25T00:29:59Z",
	    "2026-10-24T00:30:00Z");
}

/* Walk next_slot from ${from} while < ${to}; compare with ${want}. */
static void
assert_slot_walk(const char *expr, const char *tz, const char *from,
    const char *to, const char *const *want, size_t nwant)
{
	struct schedule s;
	time_t t = T(from), end = T(to), prev = 0;
	size_t n = 0;

	parse_ok(expr, &s);
	for (;;) {
		time_t cur = 0;

		assert_int_equal(schedule_next_slot(&s, Z(tz), t, &t), 0);
		if (t >= end)
			break;
		if (n > 0)
			assert_true(t > prev);
		assert_true(n < nwant);
		assert_time(t, want[n]);
		/* Each slot is its own current slot. */
		assert_int_equal(schedule_current_slot(&s, Z(tz), t, &cur), 0);
		assert_true(cur == t);
		prev = t;
		n++;
	}
	assert_int_equal(n, nwant);
}

static void
test_schedule_hourly_slots_across_berlin_fall_back_are_distinct(void **state)
{
	static const char *const want[] = {
	    "2026-10-24T21:00:00Z", /* 23:00 CEST */
	    "2026-10-24T22:00:00Z", /* 00:00 CEST */
	    "2026-10-24T23:00:00Z", /* 01:00 CEST */
	    "2026-10-25T00:00:00Z", /* 02:00 CEST; 02:00 CET is no slot */
	    "2026-10-25T02:00:00Z", /* 03:00 CET */
	    "2026-10-25T03:00:00Z",
	};

	(void)state;
	assert_slot_walk("0 * * * *", "Europe/Berlin", "2026-10-24T20:00:00Z",
	    "2026-10-25T03:30:00Z", want, sizeof(want) / sizeof(want[0]));
}

static void
test_schedule_hourly_slots_across_berlin_spring_forward_are_distinct(
    void **state)
{
	static const char *const want[] = {
	    "2026-03-28T23:00:00Z", /* 00:00 CET */
	    "2026-03-29T00:00:00Z", /* 01:00 CET */
	    "2026-03-29T01:00:00Z", /* 02:00 (gap) and 03:00 CEST: one slot */
	    "2026-03-29T02:00:00Z", /* 04:00 CEST */
	};

	(void)state;
	assert_slot_walk("0 * * * *", "Europe/Berlin", "2026-03-28T22:00:00Z",
	    "2026-03-29T02:30:00Z", want, sizeof(want) / sizeof(want[0]));
}

static void
test_schedule_new_york_dst_changes(void **state)
{
	static const char *const spring[] = {
	    "2026-03-07T07:30:00Z", /* 02:30 EST */
	    "2026-03-08T07:00:00Z", /* 02:30 skipped: 03:00 EDT */
	    "2026-03-09T06:30:00Z", /* 02:30 EDT */
	};
	static const char *const fall[] = {
	    "2026-10-31T05:30:00Z", /* 01:30 EDT */
	    "2026-11-01T05:30:00Z", /* the first 01:30 (EDT) only */
	    "2026-11-02T06:30:00Z", /* 01:30 EST */
	};
	static const char *const hourly[] = {
	    "2026-11-01T04:00:00Z", /* 00:00 EDT */
	    "2026-11-01T05:00:00Z", /* 01:00 EDT */
	    "2026-11-01T07:00:00Z", /* 02:00 EST */
	    "2026-11-01T08:00:00Z", /* 03:00 EST */
	};

	(void)state;
	assert_slot_walk("30 2 * * *", "America/New_York",
	    "2026-03-06T12:00:00Z", "2026-03-09T12:00:00Z", spring, 3);
	assert_slot_walk("30 1 * * *", "America/New_York",
	    "2026-10-30T12:00:00Z", "2026-11-02T12:00:00Z", fall, 3);
	assert_slot_walk("0 * * * *", "America/New_York",
	    "2026-11-01T03:30:00Z", "2026-11-01T08:30:00Z", hourly, 4);
}

static void
test_schedule_uses_tz_rule_beyond_listed_transitions(void **state)
{
	(void)state;
	/* 2040: past the last transition listed in fat files (2037). */
	assert_current("30 2 * * *", "Europe/Berlin", "2040-03-25T12:00:00Z",
	    "2040-03-25T01:00:00Z");
	assert_current("30 2 * * *", "Europe/Berlin", "2040-07-01T12:00:00Z",
	    "2040-07-01T00:30:00Z");
	assert_current("30 2 * * *", "Europe/Berlin", "2040-10-28T12:00:00Z",
	    "2040-10-28T00:30:00Z");
	assert_current("30 2 * * *", "Europe/Berlin", "2040-10-29T12:00:00Z",
	    "2040-10-29T01:30:00Z");
	/* Southern hemisphere: DST over the new year. */
	assert_current("0 12 * * *", "Australia/Sydney", "2041-01-15T12:00:00Z",
	    "2041-01-15T01:00:00Z");
	assert_current("0 12 * * *", "Australia/Sydney", "2041-07-15T12:00:00Z",
	    "2041-07-15T02:00:00Z");
}

static void
test_schedule_impossible_date_has_no_slot(void **state)
{
	struct schedule s;
	time_t slot = 0;

	(void)state;
	parse_ok("0 0 30 2 *", &s);
	assert_int_equal(schedule_current_slot(
	                     &s, Z("UTC"), T("2026-03-16T00:00:00Z"), &slot),
	    -1);
	assert_int_equal(
	    schedule_next_slot(&s, Z("UTC"), T("2026-03-16T00:00:00Z"), &slot),
	    -1);
	assert_int_equal(
	    schedule_interval(&s, Z("UTC"), T("2026-03-16T00:00:00Z")), -1);
	/* Feb 29 is rare but found. */
	assert_current("0 0 29 2 *", "Europe/Berlin", "2027-06-01T00:00:00Z",
	    "2024-02-28T23:00:00Z");
}

static void
test_schedule_errors_name_field_and_position(void **state)
{
	(void)state;
	assert_parse_error("0 2 * *", "expected 5 fields, got 4");
	assert_parse_error("0 2 * * * *", "expected 5 fields, got 6");
	assert_parse_error("", "expected 5 fields, got 0");
	assert_parse_error("0 25 * * *",
	    "field 2 (hour), position 3: 25 is out of range 0-23");
	assert_parse_error("10 25 * * *",
	    "field 2 (hour), position 4: 25 is out of range 0-23");
	assert_parse_error("60 * * * *",
	    "field 1 (minute), position 1: 60 is out of range 0-59");
	assert_parse_error("0 0 0 * *",
	    "field 3 (day-of-month), position 5: 0 is out of range 1-31");
	assert_parse_error("0 0 * 13 *",
	    "field 4 (month), position 7: 13 is out of range 1-12");
	assert_parse_error("0 0 * * 8",
	    "field 5 (day-of-week), position 9: 8 is out of range 0-7");
	assert_parse_error("0 0 * * MOO",
	    "field 5 (day-of-week), position 9: unknown name \"MOO\"");
	assert_parse_error("0 0 MON * *",
	    "field 3 (day-of-month), position 5: unknown name \"MON\"");
	assert_parse_error(
	    "0 5-1 * * *", "field 2 (hour), position 3: range 5-1 is reversed");
	assert_parse_error("*/0 * * * *",
	    "field 1 (minute), position 3: step 0 is out of range 1-59");
	assert_parse_error(
	    "1,,2 * * * *", "field 1 (minute), position 3: empty list element");
	assert_parse_error(
	    "1, * * * *", "field 1 (minute), position 3: empty list element");
	assert_parse_error(
	    "1- * * * *", "field 1 (minute), position 3: expected a number");
	assert_parse_error(
	    "*x * * * *", "field 1 (minute), position 2: unexpected 'x'");
	assert_parse_error(
	    "0 */ * * *", "field 2 (hour), position 5: expected a step");
	assert_parse_error("@fortnightly", "unknown keyword \"@fortnightly\"");
	assert_parse_error("@daily 3", "@daily takes no argument");
}

/* A tiny deterministic PRNG (xorshift64*). */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* Does local wall time ${tm} match ${s} (brute-force reference)? */
static int
wall_matches(const struct schedule *s, const struct tm *tm)
{
	int md = (s->mdays >> tm->tm_mday) & 1;
	int wd = (s->wdays >> tm->tm_wday) & 1;
	int day;

	if (s->mday_restricted && s->wday_restricted)
		day = md || wd;
	else
		day = md && wd;
	return day && ((s->minutes >> tm->tm_min) & 1) &&
	    ((s->hours >> tm->tm_hour) & 1) &&
	    ((s->months >> (tm->tm_mon + 1)) & 1);
}

static void
test_schedule_slots_match_brute_force_minute_scan(void **state)
{
	static const char *const exprs[] = {"*/7 * * * *", "0 */5 * * *",
	    "15 3,9 * * 1-5", "0 0 1,15 * SUN", "*/20 22-23 * * *", "5 4 * * 0",
	    "0 12 */3 jan,feb *", "59 23 31 * *"};
	static const char *const zones[] = {
	    "UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"};

	(void)state;
	for (size_t e = 0; e < sizeof(exprs) / sizeof(exprs[0]); e++) {
		for (size_t zi = 0; zi < sizeof(zones) / sizeof(zones[0]);
		     zi++) {
			struct schedule s;
			/* Jan-Feb: no DST change in these zones. */
			time_t t = T("2026-01-02T00:00:00Z");
			time_t end = T("2026-02-20T00:00:00Z"), next = 0;

			parse_ok(exprs[e], &s);
			assert_int_equal(
			    schedule_next_slot(&s, Z(zones[zi]), t - 1, &next),
			    0);
			for (; t < end; t += 60) {
				struct tm tm;

				assert_int_equal(
				    tz_localtime(Z(zones[zi]), t, &tm), 0);
				if (!wall_matches(&s, &tm))
					continue;
				if (next != t)
					fail_msg(
					    "%s in %s: expected slot %lld, "
					    "next_slot gave %lld",
					    exprs[e], zones[zi], (long long)t,
					    (long long)next);
				assert_int_equal(schedule_next_slot(&s,
				                     Z(zones[zi]), t, &next),
				    0);
			}
		}
	}
}

static void
test_schedule_current_and_next_agree_on_random_times(void **state)
{
	static const char *const exprs[] = {"*/15 * * * *", "30 2 * * *",
	    "0 * * * *", "0 1-3 * * 0", "45 2 25-31 3,10 *", "@every 90m",
	    "0 0 1 * MON", "30 1 * * *"};
	static const char *const zones[] = {
	    "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC"};
	uint64_t seed = 42;

	(void)state;
	for (int i = 0; i < 4000; i++) {
		struct schedule s;
		const char *tz = zones[rnd(&seed) % 4];
		time_t t = T("2025-01-01T00:00:00Z") +
		    (time_t)(rnd(&seed) % (3ULL * 365 * 86400));
		time_t cur = 0, next = 0, cur2 = 0, before = 0;

		parse_ok(exprs[rnd(&seed) % 8], &s);
		assert_int_equal(schedule_current_slot(&s, Z(tz), t, &cur), 0);
		assert_int_equal(schedule_next_slot(&s, Z(tz), t, &next), 0);
		assert_true(cur <= t);
		assert_true(next > t);
		/* No slot between them: next after cur is next. */
		assert_int_equal(schedule_next_slot(&s, Z(tz), cur, &cur2), 0);
		assert_true(cur2 == next);
		assert_int_equal(
		    schedule_current_slot(&s, Z(tz), next - 1, &before), 0);
		assert_true(before == cur);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_schedule_parses_star_list_range_and_step),
	    cmocka_unit_test(
	        test_schedule_parses_range_with_step_and_value_with_step),
	    cmocka_unit_test(
	        test_schedule_parses_month_and_weekday_names_any_case),
	    cmocka_unit_test(test_schedule_keywords_equal_their_cron_forms),
	    cmocka_unit_test(
	        test_schedule_every_slots_are_multiples_since_epoch),
	    cmocka_unit_test(
	        test_schedule_dom_and_dow_both_restricted_match_either),
	    cmocka_unit_test(test_schedule_current_slot_is_inclusive_of_as_of),
	    cmocka_unit_test(test_schedule_catch_up_takes_only_current_slot),
	    cmocka_unit_test(
	        test_schedule_berlin_spring_forward_gap_slot_is_jump_instant),
	    cmocka_unit_test(
	        test_schedule_berlin_fall_back_repeated_time_is_one_slot),
	    cmocka_unit_test(
	        test_schedule_hourly_slots_across_berlin_fall_back_are_distinct),
	    cmocka_unit_test(
	        test_schedule_hourly_slots_across_berlin_spring_forward_are_distinct),
	    cmocka_unit_test(test_schedule_new_york_dst_changes),
	    cmocka_unit_test(
	        test_schedule_uses_tz_rule_beyond_listed_transitions),
	    cmocka_unit_test(test_schedule_impossible_date_has_no_slot),
	    cmocka_unit_test(test_schedule_errors_name_field_and_position),
	    cmocka_unit_test(test_schedule_slots_match_brute_force_minute_scan),
	    cmocka_unit_test(
	        test_schedule_current_and_next_agree_on_random_times),
	};

	return cmocka_run_group_tests(tests, zones_load, zones_free);
}
