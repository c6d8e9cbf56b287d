/*
 * fuzz_schedule.c -- schedule expressions, and their slots in a time zone.
 *
 * An input is up to three lines:
 *
 *     <schedule expression>
 *     <IANA zone>            (optional; else UTC and Europe/Berlin)
 *     <time>                 (optional: RFC 3339 or epoch seconds; else two
 *                             instants around Berlin's 2026 DST changes)
 *
 * A parsed schedule's slots must agree with each other the way DESIGN.md
 * section 6 says: the current slot is <= the time and is its own current
 * slot; the next slot is > the time; nothing lies between the two; an
 * @every slot is a whole multiple of the period.  A violation aborts.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "job/base/tz.h"
#include "job/base/util.h"
#include "job/rules/schedule.h"
#include "tests/fuzz/fuzz.h"

/* Invariants are checked only this close to the epoch (about 31,000 years). */
#define CHECK_LIMIT 1000000000000LL

static void
fail_at(const char *what, const char *expr, const struct tz *tz, time_t t)
{
	fprintf(stderr, "fuzz_schedule: \"%s\" in %s at %lld\n", expr,
	    tz_name(tz), (long long)t);
	fuzz_fail("fuzz_schedule", what);
}

/* check_slots(s, tz, t): the slot functions agree around ${t}. */
static void
check_slots(const struct schedule *s, const struct tz *tz, time_t t)
{
	time_t cur = 0, next = 0, again = 0;
	int have_cur, have_next;

	have_cur = schedule_current_slot(s, tz, t, &cur) == 0;
	have_next = schedule_next_slot(s, tz, t, &next) == 0;
	(void)schedule_interval(s, tz, t);
	if (t < -CHECK_LIMIT || t > CHECK_LIMIT)
		return;
	if (have_cur) {
		if (cur > t)
			fail_at("current slot after the time", s->text, tz, t);
		if (schedule_current_slot(s, tz, cur, &again) != 0 ||
		    again != cur)
			fail_at("a slot is not its own current slot", s->text,
			    tz, t);
		if (schedule_next_slot(s, tz, cur - 1, &again) == 0 &&
		    again != cur)
			fail_at("next slot before a slot is not that slot",
			    s->text, tz, t);
		if (s->every && s->every_secs > 0 && cur % s->every_secs != 0)
			fail_at("@every slot not a multiple of the period",
			    s->text, tz, t);
	}
	if (have_next) {
		if (next <= t)
			fail_at("next slot not after the time", s->text, tz, t);
		if (have_cur &&
		    schedule_current_slot(s, tz, next - 1, &again) == 0 &&
		    again != cur)
			fail_at(
			    "a slot between current and next", s->text, tz, t);
	}
}

/* line(p, out): the line at ${p} as a new string; the next line or NULL. */
static const char *
line(const char *p, char **out)
{
	const char *nl = strchr(p, '\n');
	size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);

	*out = fuzz_strndup((const uint8_t *)p, n);
	return nl != NULL ? nl + 1 : NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *zones[] = {"UTC", "Europe/Berlin"};
	/* 2026-03-29T01:30:00Z and 2026-10-25T00:30:00Z: Berlin's changes */
	static const time_t times[] = {1774747800, 1792888200};
	struct schedule s;
	char *input, *expr = NULL, *tz = NULL, *when = NULL, err[256];
	const char *rest;
	time_t t = 0;
	long long secs;
	int have_t = 0;

	fuzz_quiet();
	input = fuzz_strndup(data, size);
	rest = line(input, &expr);
	if (rest != NULL)
		rest = line(rest, &tz);
	if (rest != NULL)
		(void)line(rest, &when);
	if (when != NULL) {
		if (util_parse_time(when, &t) == 0) {
			have_t = 1;
		} else if (util_parse_int(when, -CHECK_LIMIT * 10,
		               CHECK_LIMIT * 10, &secs) == 0) {
			t = (time_t)secs;
			have_t = 1;
		}
	}

	err[0] = '\0';
	if (schedule_parse(expr, &s, err, sizeof(err)) != 0) {
		if (err[0] == '\0')
			fuzz_fail("fuzz_schedule", "failure without a reason");
		goto done;
	}
	if (tz != NULL) {
		struct tz *z = tz_load(tz);

		if (z == NULL)
			goto done; /* config refuses it: no slots asked */
		if (have_t) {
			check_slots(&s, z, t);
		} else {
			for (size_t j = 0; j < sizeof(times) / sizeof(*times);
			     j++)
				check_slots(&s, z, times[j]);
		}
		tz_free(z);
		goto done;
	}
	for (size_t i = 0; i < sizeof(zones) / sizeof(*zones); i++) {
		struct tz *z = tz_load(zones[i]);

		if (z == NULL)
			fuzz_fail("fuzz_schedule", "cannot load a known zone");
		for (size_t j = 0; j < sizeof(times) / sizeof(*times); j++)
			check_slots(&s, z, times[j]);
		tz_free(z);
	}

done:
	free(when);
	free(tz);
	free(expr);
	free(input);
	return 0;
}
