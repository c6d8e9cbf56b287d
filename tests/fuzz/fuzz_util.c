/*
 * fuzz_util.c -- the small parsers every module leans on: RFC 3339 times,
 * durations, integers, booleans.
 *
 * Beyond "no memory error": what is parsed must print back to something
 * that parses to the same value (util_format_duration and util_format_time
 * are how aksnap writes what it read), and a parsed integer must respect
 * the bounds it was given.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "job/base/util.h"
#include "tests/fuzz/fuzz.h"

static void
check_time(const char *s)
{
	time_t t, back;
	char buf[64];

	if (util_parse_time(s, &t) != 0)
		return;
	util_format_time(t, buf, sizeof(buf));
	/* years outside 0000-9999 print in a form RFC 3339 does not have */
	if (util_parse_time(buf, &back) == 0 && back != t)
		fuzz_fail("fuzz_util",
		    "util_format_time/util_parse_time "
		    "round trip changed the time");
}

static void
check_duration(const char *s)
{
	long long d, back;
	char buf[64];

	if (util_parse_duration(s, &d) != 0)
		return;
	if (d < 0)
		fuzz_fail("fuzz_util", "negative duration");
	util_format_duration(d, buf, sizeof(buf));
	if (util_parse_duration(buf, &back) != 0 || back != d)
		fuzz_fail("fuzz_util",
		    "util_format_duration/"
		    "util_parse_duration round trip failed");
}

static void
check_int(const char *s)
{
	long long v;
	int b;

	if (util_parse_int(s, -1000, 1000, &v) == 0 && (v < -1000 || v > 1000))
		fuzz_fail("fuzz_util", "util_parse_int out of its bounds");
	(void)util_parse_int(s, LLONG_MIN, LLONG_MAX, &v);
	if (util_parse_bool(s, &b) == 0 && b != 0 && b != 1)
		fuzz_fail("fuzz_util", "util_parse_bool neither 0 nor 1");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	fuzz_quiet();
	s = fuzz_strndup(data, size);
	check_time(s);
	check_duration(s);
	check_int(s);
	free(s);
	return 0;
}
