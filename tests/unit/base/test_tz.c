/*
 * test_tz.c -- job/base/tz: loading IANA zones, local time, wall time to
 * UTC across daylight saving changes.
 *
 * Local time is checked against glibc's localtime_r over many instants in
 * many zones (setenv("TZ") is fine here: the test is single-threaded).  A
 * zone is read once, by tz_load: the tests show that a loaded zone keeps
 * answering after its file is gone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "job/base/tz.h"
#include "job/base/util.h"
#include "tests/unit/base/fixture.h"

/* Does tz_load accept ${name}?  (The zone is freed again.) */
static int
loads(const char *name)
{
	struct tz *z = tz_load(name);

	tz_free(z);
	return z != NULL;
}

static void
test_tz_load_checks_names(void **state)
{
	(void)state;
	assert_int_equal(loads("UTC"), 1);
	assert_int_equal(loads("Europe/Berlin"), 1);
	assert_int_equal(loads("America/New_York"), 1);
	assert_int_equal(loads("Etc/GMT+5"), 1);
	assert_int_equal(loads("Nowhere/City"), 0);
	assert_int_equal(loads("Europe"), 0); /* a directory */
	assert_int_equal(loads("../../etc/passwd"), 0);
	assert_int_equal(loads("Europe/../Europe/Berlin"), 0);
	assert_int_equal(loads("/usr/share/zoneinfo/UTC"), 0);
	assert_int_equal(loads("Europe/Berlin "), 0);
	assert_int_equal(loads(""), 0);
	assert_int_equal(loads(NULL), 0);
	tz_free(NULL);
}

static void
test_tz_null_is_utc(void **state)
{
	struct tz *utc = tz_load("UTC");
	struct tm a, b;
	time_t t = T("2026-07-01T12:34:56Z");

	(void)state;
	assert_non_null(utc);
	assert_string_equal(tz_name(NULL), "UTC");
	assert_string_equal(tz_name(utc), "UTC");
	assert_int_equal(tz_localtime(NULL, t, &a), 0);
	assert_int_equal(tz_localtime(utc, t, &b), 0);
	assert_int_equal(a.tm_hour, 12);
	assert_int_equal(b.tm_hour, 12);
	assert_int_equal(a.tm_gmtoff, 0);
	assert_int_equal(tz_offset_span(NULL), 0);
	assert_int_equal(tz_offset_span(utc), 0);
	assert_true(tz_wall(NULL, 1000) == 1000);
	assert_true(tz_resolve(NULL, 1000) == 1000);
	tz_free(utc);
}

static void
test_tz_resolve_gap_and_repeated_hour(void **state)
{
	struct tz *z = tz_load("Europe/Berlin");

	(void)state;
	assert_non_null(z);
	assert_string_equal(tz_name(z), "Europe/Berlin");
	assert_true(tz_offset_span(z) >= 3600); /* and historic offsets */
	/* 02:30 on the spring-forward day does not exist: 03:00 CEST. */
	assert_true(tz_resolve(z, T("2026-03-29T02:30:00Z")) ==
	    T("2026-03-29T01:00:00Z"));
	/* 02:30 on the fall-back day happens twice: the first (CEST). */
	assert_true(tz_resolve(z, T("2026-10-25T02:30:00Z")) ==
	    T("2026-10-25T00:30:00Z"));
	assert_true(
	    tz_wall(z, T("2026-10-25T01:30:00Z")) == T("2026-10-25T02:30:00Z"));
	/* 2040: past the transitions listed in fat files; the footer. */
	assert_true(tz_resolve(z, T("2040-07-01T02:30:00Z")) ==
	    T("2040-07-01T00:30:00Z"));
	tz_free(z);
}

/* Copy ${from} to ${to}.  0 or -1. */
static int
copy_file(const char *from, const char *to)
{
	char *data = NULL, err[256];
	size_t len = 0;
	FILE *f;
	int rc = -1;

	if (util_read_file(from, 1 << 20, &data, &len, err, sizeof(err)))
		return -1;
	f = fopen(to, "wb");
	if (f != NULL) {
		rc = fwrite(data, 1, len, f) == len ? 0 : -1;
		if (fclose(f) != 0)
			rc = -1;
	}
	free(data);
	return rc;
}

static void
test_tz_load_reads_tzdir_once(void **state)
{
	char dir[] = "/tmp/aksnap-test-tz-XXXXXX", sub[128], path[160];
	char *saved = getenv("TZDIR") ? strdup(getenv("TZDIR")) : NULL;
	struct tz *z;
	struct tm tm;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/Test", dir);
	snprintf(path, sizeof(path), "%s/Zone", sub);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(
	    copy_file("/usr/share/zoneinfo/Europe/Berlin", path), 0);
	setenv("TZDIR", dir, 1);
	z = tz_load("Test/Zone");
	assert_null(tz_load("Europe/Berlin")); /* not under this TZDIR */
	if (saved != NULL)
		setenv("TZDIR", saved, 1);
	else
		unsetenv("TZDIR");
	free(saved);
	assert_non_null(z);
	/* The file is gone; the loaded zone still answers. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(sub), 0);
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(tz_localtime(z, T("2026-07-01T12:00:00Z"), &tm), 0);
	assert_int_equal(tm.tm_hour, 14);
	assert_int_equal(tm.tm_isdst, 1);
	assert_string_equal(tz_name(z), "Test/Zone");
	tz_free(z);
}

static void
test_tz_parse_refuses_what_is_not_tzif(void **state)
{
	char *data = NULL, err[256];
	size_t len = 0;
	struct tz *z;
	struct tm tm;

	(void)state;
	assert_null(tz_parse("x", "", 0));
	assert_null(
	    tz_parse("x", "TZif2 not really a zone file at all, no", 40));
	assert_int_equal(util_read_file("/usr/share/zoneinfo/America/New_York",
	                     1 << 20, &data, &len, err, sizeof(err)),
	    0);
	/* Truncated anywhere in its header or data: refused, no crash. */
	for (size_t n = 0; n < len && n < 2000; n += 7)
		tz_free(tz_parse("x", data, n));
	assert_null(tz_parse("x", data, 44));
	z = tz_parse("America/New_York", data, len);
	assert_non_null(z);
	assert_int_equal(tz_localtime(z, T("2026-01-15T17:00:00Z"), &tm), 0);
	assert_int_equal(tm.tm_hour, 12);
	assert_int_equal(tm.tm_gmtoff, -5 * 3600);
	tz_free(z);
	free(data);
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

static void
test_tz_localtime_matches_glibc_in_many_zones(void **state)
{
	static const char *const zones[] = {"Europe/Berlin", "America/New_York",
	    "Australia/Sydney", "Asia/Kolkata", "America/Sao_Paulo",
	    "Pacific/Chatham", "Europe/Dublin", "Africa/Casablanca",
	    "Asia/Tehran", "America/St_Johns", "Australia/Lord_Howe",
	    "Pacific/Apia", "UTC", "Etc/GMT-14"};
	uint64_t seed = 0x5eed1234abcdULL;
	char *saved = getenv("TZ") ? strdup(getenv("TZ")) : NULL;

	(void)state;
	for (size_t zi = 0; zi < sizeof(zones) / sizeof(zones[0]); zi++) {
		struct tz *z = tz_load(zones[zi]);

		assert_non_null(z);
		setenv("TZ", zones[zi], 1);
		tzset();
		for (int i = 0; i < 3000; i++) {
			/* 1900 .. 2100 */
			time_t t = (time_t)((long long)(rnd(&seed) %
			                        (200ULL * 365 * 86400)) -
			    2208988800LL);
			struct tm a, b;

			if (i < 400) /* near the 2026 transitions */
				t = T("2026-01-01T00:00:00Z") +
				    (time_t)(rnd(&seed) % (365ULL * 86400));
			assert_non_null(localtime_r(&t, &a));
			assert_int_equal(tz_localtime(z, t, &b), 0);
			if (a.tm_year != b.tm_year || a.tm_mon != b.tm_mon ||
			    a.tm_mday != b.tm_mday || a.tm_hour != b.tm_hour ||
			    a.tm_min != b.tm_min || a.tm_sec != b.tm_sec ||
			    a.tm_wday != b.tm_wday || a.tm_yday != b.tm_yday ||
			    a.tm_gmtoff != b.tm_gmtoff)
				fail_msg("%s at %lld: glibc %d-%d-%d %d:%d:%d "
				         "%+ld, ours %d-%d-%d %d:%d:%d %+ld",
				    zones[zi], (long long)t, a.tm_year + 1900,
				    a.tm_mon + 1, a.tm_mday, a.tm_hour,
				    a.tm_min, a.tm_sec, a.tm_gmtoff,
				    b.tm_year + 1900, b.tm_mon + 1, b.tm_mday,
				    b.tm_hour, b.tm_min, b.tm_sec, b.tm_gmtoff);
		}
		tz_free(z);
	}
	if (saved != NULL)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tz_load_checks_names),
	    cmocka_unit_test(test_tz_null_is_utc),
	    cmocka_unit_test(test_tz_resolve_gap_and_repeated_hour),
	    cmocka_unit_test(test_tz_load_reads_tzdir_once),
	    cmocka_unit_test(test_tz_parse_refuses_what_is_not_tzif),
	    cmocka_unit_test(test_tz_localtime_matches_glibc_in_many_zones),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
