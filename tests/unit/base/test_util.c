/*
 * test_util.c -- the small parsers everything else leans on: durations,
 * booleans, integers, RFC 3339 times, bounded copies, capped buffers and
 * files, request ids.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "job/base/util.h"

static void
test_util_durations_take_s_m_h_d_w_and_combinations(void **state)
{
	long long v;

	(void)state;
	assert_int_equal(util_parse_duration("90", &v), 0);
	assert_int_equal(v, 90);
	assert_int_equal(util_parse_duration("90s", &v), 0);
	assert_int_equal(v, 90);
	assert_int_equal(util_parse_duration("15m", &v), 0);
	assert_int_equal(v, 900);
	assert_int_equal(util_parse_duration("6h", &v), 0);
	assert_int_equal(v, 21600);
	assert_int_equal(util_parse_duration("2d", &v), 0);
	assert_int_equal(v, 172800);
	assert_int_equal(util_parse_duration("1w", &v), 0);
	assert_int_equal(v, 604800);
	assert_int_equal(util_parse_duration("1d12h", &v), 0);
	assert_int_equal(v, 129600);
}

static void
test_util_durations_refuse_garbage_and_overflow(void **state)
{
	long long v = 7;

	(void)state;
	assert_int_equal(util_parse_duration("", &v), -1);
	assert_int_equal(util_parse_duration("d", &v), -1);
	assert_int_equal(util_parse_duration("5x", &v), -1);
	assert_int_equal(util_parse_duration("-5s", &v), -1);
	assert_int_equal(util_parse_duration("5 s", &v), -1);
	assert_int_equal(util_parse_duration("1d5", &v), -1);
	assert_int_equal(util_parse_duration("99999999999999999999w", &v), -1);
	assert_int_equal(util_parse_duration("9999999999999999w", &v), -1);
	assert_int_equal(v, 7); /* untouched on failure */
}

static void
test_util_format_duration_is_the_shortest_exact_form(void **state)
{
	char buf[32];

	(void)state;
	util_format_duration(604800, buf, sizeof(buf));
	assert_string_equal(buf, "1w");
	util_format_duration(172800, buf, sizeof(buf));
	assert_string_equal(buf, "2d");
	util_format_duration(129600, buf, sizeof(buf));
	assert_string_equal(buf, "36h");
	util_format_duration(90, buf, sizeof(buf));
	assert_string_equal(buf, "90s");
	util_format_duration(0, buf, sizeof(buf));
	assert_string_equal(buf, "0s");
}

static void
test_util_booleans_and_integers(void **state)
{
	static const char *const yes[] = {
	    "yes", "true", "on", "1", "YES", "True"};
	static const char *const no[] = {"no", "false", "off", "0", "Off"};
	long long n;
	int b;

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		assert_int_equal(util_parse_bool(yes[i], &b), 0);
		assert_int_equal(b, 1);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		assert_int_equal(util_parse_bool(no[i], &b), 0);
		assert_int_equal(b, 0);
	}
	assert_int_equal(util_parse_bool("y", &b), -1);
	assert_int_equal(util_parse_bool("", &b), -1);
	assert_int_equal(util_parse_int("42", 0, 100, &n), 0);
	assert_int_equal(n, 42);
	assert_int_equal(util_parse_int("101", 0, 100, &n), -1);
	assert_int_equal(util_parse_int("-1", 0, 100, &n), -1);
	assert_int_equal(util_parse_int(" 4", 0, 100, &n), -1);
	assert_int_equal(util_parse_int("4 ", 0, 100, &n), -1);
	assert_int_equal(util_parse_int("0x10", 0, 100, &n), -1);
}

static void
test_util_rfc3339_times_parse_with_offsets_and_fractions(void **state)
{
	time_t t;
	char buf[32];

	(void)state;
	assert_int_equal(util_parse_time("2026-03-16T03:00:00Z", &t), 0);
	assert_int_equal(t, 1773630000);
	/* Same instant, other spellings. */
	assert_int_equal(util_parse_time("2026-03-16T04:00:00+01:00", &t), 0);
	assert_int_equal(t, 1773630000);
	assert_int_equal(util_parse_time("2026-03-15T22:30:00-04:30", &t), 0);
	assert_int_equal(t, 1773630000);
	assert_int_equal(
	    util_parse_time("2026-03-16T03:00:00.298420761Z", &t), 0);
	assert_int_equal(t, 1773630000);
	assert_int_equal(util_parse_time("2026-03-16 03:00:00z", &t), 0);
	assert_int_equal(t, 1773630000);
	util_format_time(t, buf, sizeof(buf));
	assert_string_equal(buf, "2026-03-16T03:00:00Z");
}

/*
 * util_format_time writes its digits by hand between the years 1000 and
 * 9999 (list and history format two times a row): the same text as
 * gmtime_r and strftime, checked over every day of 1600-2400 at odd
 * seconds, the edges of the fast range and either side of them.
 */
static void
test_util_format_time_is_strftimes(void **state)
{
	static const long long edges[] = {-30610224001LL, -30610224000LL,
	    -30610223999LL, -1, 0, 1, 951782400LL, 951868799LL, 4107542400LL,
	    253402300799LL, 253402300800LL, 253402300801LL};
	char got[32], want[32];
	struct tm tm;
	long long t;
	time_t tt;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(edges) / sizeof(edges[0]) + 292500; i++) {
		if (i < sizeof(edges) / sizeof(edges[0]))
			t = edges[i];
		else /* from 1600-01-01, a day and 7 seconds at a time */
			t = -11676096000LL + (long long)(i - 12) * 86407;
		tt = (time_t)t;
		util_format_time(tt, got, sizeof(got));
		gmtime_r(&tt, &tm);
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (strcmp(got, want) != 0)
			fail_msg("%lld: %s, strftime %s", t, got, want);
	}
}

/* util_format_lld is printf's "%lld": the extremes, every power of ten
 * and its neighbours of either sign, and a spread between. */
static void
test_util_format_lld_is_printfs(void **state)
{
	char got[UTIL_LLD_MAX], want[32];
	long long v[4], p = 1;

	(void)state;
	for (int k = 0; k < 19; k++) {
		if (k > 0)
			p *= 10; /* 10^18 at most: no overflow */
		v[0] = p;
		v[1] = p - 1;
		v[2] = p + 1;
		v[3] = p * 7 + 3;
		for (int j = 0; j < 4; j++)
			for (int sign = 0; sign < 2; sign++) {
				long long x = sign ? -v[j] : v[j];
				size_t n = util_format_lld(x, got);

				snprintf(want, sizeof(want), "%lld", x);
				if (strcmp(got, want) != 0 || n != strlen(want))
					fail_msg("%s: %s (%zu)", want, got, n);
			}
	}
	v[0] = LLONG_MIN;
	v[1] = LLONG_MAX;
	for (int j = 0; j < 2; j++) {
		size_t n = util_format_lld(v[j], got);

		snprintf(want, sizeof(want), "%lld", v[j]);
		if (strcmp(got, want) != 0 || n != strlen(want))
			fail_msg("%s: %s", want, got);
	}
}

static void
test_util_rfc3339_refuses_what_is_not_a_time(void **state)
{
	static const char *const bad[] = {"", "2026-03-16", "2026-03-16T03:00Z",
	    "2026-03-16T03:00:00", "2026-02-30T00:00:00Z",
	    "2026-13-01T00:00:00Z", "2026-03-16T24:00:00Z",
	    "2026-03-16T03:00:00+0100", "2026-03-16T03:00:00Z trailing",
	    "yesterday"};
	time_t t = 5;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (util_parse_time(bad[i], &t) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
	assert_int_equal(t, 5);
}

static void
test_util_strlcpy_truncates_and_reports_the_length(void **state)
{
	char small[4];

	(void)state;
	assert_int_equal(util_strlcpy(small, "abcdef", sizeof(small)), 6);
	assert_string_equal(small, "abc");
	assert_int_equal(util_strlcpy(small, "ab", sizeof(small)), 2);
	assert_string_equal(small, "ab");
}

static void
test_util_buf_refuses_to_grow_past_its_cap(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 10);
	assert_int_equal(buf_append(&b, "12345", 5), 0);
	assert_int_equal(buf_printf(&b, "%d", 678), 0);
	assert_string_equal(b.data, "12345678");
	/* One byte too many: refused whole, never truncated. */
	assert_int_equal(buf_append(&b, "abc", 3), -1);
	assert_true(b.overflow);
	assert_string_equal(b.data, "12345678");
	buf_free(&b);
	assert_null(b.data);
}

static void
test_util_read_file_caps_and_reports(void **state)
{
	char path[] = "/tmp/aksnap-test-util-XXXXXX", err[256];
	char *data = NULL;
	size_t len = 0;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hello", 5), 5);
	close(fd);
	assert_int_equal(
	    util_read_file(path, 100, &data, &len, err, sizeof(err)), 0);
	assert_int_equal(len, 5);
	assert_string_equal(data, "hello");
	free(data);
	data = NULL;
	assert_int_equal(
	    util_read_file(path, 4, &data, &len, err, sizeof(err)), -1);
	assert_null(data);
	assert_non_null(strstr(err, "larger than 4 bytes"));
	unlink(path);
	assert_int_equal(
	    util_read_file(path, 4, &data, &len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
}

static void
test_util_uuid4_is_well_formed_and_fresh(void **state)
{
	char a[37], b[37];

	(void)state;
	util_uuid4(a);
	util_uuid4(b);
	assert_int_equal(strlen(a), 36);
	assert_int_equal(a[8], '-');
	assert_int_equal(a[14], '4'); /* version 4 */
	assert_true(strchr("89ab", a[19]) != NULL); /* RFC 4122 variant */
	assert_string_not_equal(a, b);
}

/* FNV-1a as published (the snapshot names and the config key set use it:
 * a change would rename every snapshot a slot takes). */
static void
test_util_fnv1a_matches_the_published_vectors(void **state)
{
	(void)state;
	assert_int_equal(util_fnv1a32(""), 0x811c9dc5u);
	assert_int_equal(util_fnv1a32("a"), 0xe40c292cu);
	assert_int_equal(util_fnv1a32("foobar"), 0xbf9cf968u);
	assert_true(util_fnv1a64("") == 0xcbf29ce484222325ULL);
	assert_true(util_fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
	assert_true(util_fnv1a64("foobar") == 0x85944171f73967e8ULL);
}

/* util_tmpfile() creates its file in $TMPDIR (glibc's tmpfile() would
 * use /tmp whatever TMPDIR says), unlinked at once. */
static void
test_util_tmpfile_honours_tmpdir(void **state)
{
	char dir[] = "/tmp/aksnap-test-tmpdir-XXXXXX";
	char missing[sizeof(dir) + 16];
	char buf[8] = {0};
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(missing, sizeof(missing), "%s/missing", dir);
	assert_int_equal(setenv("TMPDIR", missing, 1), 0);
	f = util_tmpfile();
	assert_null(f);
	assert_int_equal(errno, ENOENT);

	assert_int_equal(setenv("TMPDIR", dir, 1), 0);
	f = util_tmpfile();
	assert_non_null(f);
	assert_int_equal(fputs("spool", f) >= 0, 1);
	rewind(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	assert_string_equal(buf, "spool");
	fclose(f);
	/* unlinked: the directory is empty again */
	assert_int_equal(rmdir(dir), 0);
	unsetenv("TMPDIR");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        test_util_durations_take_s_m_h_d_w_and_combinations),
	    cmocka_unit_test(test_util_durations_refuse_garbage_and_overflow),
	    cmocka_unit_test(
	        test_util_format_duration_is_the_shortest_exact_form),
	    cmocka_unit_test(test_util_booleans_and_integers),
	    cmocka_unit_test(test_util_fnv1a_matches_the_published_vectors),
	    cmocka_unit_test(
	        test_util_rfc3339_times_parse_with_offsets_and_fractions),
	    cmocka_unit_test(test_util_rfc3339_refuses_what_is_not_a_time),
	    cmocka_unit_test(test_util_format_time_is_strftimes),
	    cmocka_unit_test(test_util_format_lld_is_printfs),
	    cmocka_unit_test(
	        test_util_strlcpy_truncates_and_reports_the_length),
	    cmocka_unit_test(test_util_buf_refuses_to_grow_past_its_cap),
	    cmocka_unit_test(test_util_read_file_caps_and_reports),
	    cmocka_unit_test(test_util_uuid4_is_well_formed_and_fresh),
	    cmocka_unit_test(test_util_tmpfile_honours_tmpdir),
	};

	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
