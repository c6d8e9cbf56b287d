/*
 * fuzz_tzif.c -- TZif files (RFC 8536) and their POSIX TZ footers, which
 * job/base/tz.c parses itself instead of going through localtime_r.
 *
 * The zone database is trusted system data, but a truncated or foreign
 * file under $TZDIR must fail cleanly rather than crash a run.  Each input
 * is parsed as a zone (tz_parse, what tz_load does with a file's bytes)
 * and, when accepted, used: local time at a few instants, and the slots of
 * a daily 02:30 schedule -- the wall time that spring-forward gaps swallow
 * -- which must satisfy current <= t < next and be their own current slot.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "job/base/tz.h"
#include "job/rules/schedule.h"
#include "tests/fuzz/fuzz.h"

static void
check_zone(const struct tz *z, const struct schedule *s, time_t t)
{
	struct tm tm;
	time_t cur, next, again;

	(void)tz_localtime(z, t, &tm);
	if (schedule_current_slot(s, z, t, &cur) == 0) {
		if (cur > t)
			fuzz_fail("fuzz_tzif", "current slot after the time");
		if (schedule_current_slot(s, z, cur, &again) != 0 ||
		    again != cur)
			fuzz_fail(
			    "fuzz_tzif", "a slot is not its own current slot");
	}
	if (schedule_next_slot(s, z, t, &next) == 0 && next <= t)
		fuzz_fail("fuzz_tzif", "next slot not after the time");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* 1970, 2026 spring forward and fall back (Berlin), 2100 */
	static const time_t times[] = {0, 1774747800, 1792888200, 4102444800};
	struct schedule s;
	struct tz *z;
	char err[256];

	fuzz_quiet();
	if (schedule_parse("30 2 * * *", &s, err, sizeof(err)) != 0)
		fuzz_fail("fuzz_tzif", err);
	z = tz_parse("fuzz", data, size);
	if (z != NULL)
		for (size_t i = 0; i < sizeof(times) / sizeof(*times); i++)
			check_zone(z, &s, times[i]);
	tz_free(z);
	return 0;
}
