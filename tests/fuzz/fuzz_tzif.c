/*
 * fuzz_tzif.c -- TZif files (RFC 8536) and their POSIX TZ footers, which
 * job/schedule.c parses itself instead of going through localtime_r.
 *
 * The zone database is trusted system data, but a truncated or foreign
 * file under $TZDIR must fail cleanly rather than crash a run.  Each input
 * is written to $TZDIR/z<N> in a private directory (a fresh name each time,
 * since loaded zones are cached by name) and used as a zone: validity,
 * local time at a few instants, and the slots of a daily 02:30 schedule --
 * the wall time that spring-forward gaps swallow -- which must satisfy
 * current <= t < next and be their own current slot.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "job/rules/schedule.h"
#include "tests/fuzz/fuzz.h"

static char tzdir[64];
static unsigned long counter;

static void
cleanup(void)
{
	rmdir(tzdir);
}

/* setup(): a private $TZDIR, removed at exit; once. */
static void
setup(void)
{
	if (tzdir[0] != '\0')
		return;
	snprintf(
	    tzdir, sizeof(tzdir), "/tmp/aksnap-fuzz-tzif-%ld", (long)getpid());
	if (mkdir(tzdir, 0700) != 0 && errno != EEXIST) {
		perror(tzdir);
		exit(1);
	}
	if (setenv("TZDIR", tzdir, 1) != 0) {
		perror("setenv");
		exit(1);
	}
	atexit(cleanup);
	fuzz_quiet();
}

static void
check_zone(const char *name, const struct schedule *s, time_t t)
{
	struct tm tm;
	time_t cur, next, again;

	(void)schedule_tz_localtime(name, t, &tm);
	if (schedule_current_slot(s, name, t, &cur) == 0) {
		if (cur > t)
			fuzz_fail("fuzz_tzif", "current slot after the time");
		if (schedule_current_slot(s, name, cur, &again) != 0 ||
		    again != cur)
			fuzz_fail(
			    "fuzz_tzif", "a slot is not its own current slot");
	}
	if (schedule_next_slot(s, name, t, &next) == 0 && next <= t)
		fuzz_fail("fuzz_tzif", "next slot not after the time");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* 1970, 2026 spring forward and fall back (Berlin), 2100 */
	static const time_t times[] = {0, 1774747800, 1792888200, 4102444800};
	struct schedule s;
	char name[32], path[128], err[256];
	FILE *f;

	setup();
	snprintf(name, sizeof(name), "z%lu", counter++);
	snprintf(path, sizeof(path), "%s/%s", tzdir, name);
	f = fopen(path, "wb");
	if (f == NULL || (size > 0 && fwrite(data, 1, size, f) != size) ||
	    fclose(f) != 0) {
		perror(path);
		exit(1);
	}
	if (schedule_parse("30 2 * * *", &s, err, sizeof(err)) != 0)
		fuzz_fail("fuzz_tzif", err);
	if (schedule_tz_valid(name))
		for (size_t i = 0; i < sizeof(times) / sizeof(*times); i++)
			check_zone(name, &s, times[i]);
	unlink(path);
	return 0;
}
