/*
 * fuzz_config.c -- aksnap.ini as an attacker (or a typo) writes it.
 *
 * config_load_errors reads a path, so each input is written to one fixed
 * file, /tmp/aksnap-fuzz-config-<pid>.ini, and loaded from there.  A load
 * that succeeds must hold what validation promises (every pool's schedule
 * parses, the time zone is known) and must print (text and JSON) without
 * fault; one that fails must have said why.  Everything is freed, so
 * LeakSanitizer judges the error paths too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "job/rules/schedule.h"
#include "tests/fuzz/fuzz.h"

static char ini_path[64];
static FILE *devnull;

/* setup(): the temp path, /dev/null for config_print, quiet logs; once. */
static void
setup(void)
{
	if (ini_path[0] != '\0')
		return;
	snprintf(ini_path, sizeof(ini_path), "/tmp/aksnap-fuzz-config-%ld.ini",
	    (long)getpid());
	devnull = fopen("/dev/null", "w");
	if (devnull == NULL) {
		perror("fuzz_config: /dev/null");
		exit(1);
	}
	fuzz_quiet();
}

static void
write_input(const uint8_t *data, size_t size)
{
	FILE *f = fopen(ini_path, "wb");

	if (f == NULL) {
		perror(ini_path);
		exit(1);
	}
	if ((size > 0 && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
		perror(ini_path);
		exit(1);
	}
}

static void
check_config(const struct config *c)
{
	struct schedule s;
	char err[256];

	if (c->tz == NULL || strcmp(tz_name(c->tz), c->timezone) != 0)
		fuzz_fail("fuzz_config", "loaded config without its zone");
	for (size_t i = 0; i < c->npools; i++) {
		const struct pool_conf *p = &c->pools[i];

		if (schedule_parse(p->policy->schedule, &s, err, sizeof(err)))
			fuzz_fail("fuzz_config",
			    "accepted a schedule that does not parse");
		if (config_find_pool(c, p->key) == NULL)
			fuzz_fail(
			    "fuzz_config", "config_find_pool lost a pool");
	}
	config_print(c, devnull, 0);
	config_print(c, devnull, 1);
	fflush(devnull);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c = NULL;
	char errs[4096];

	setup();
	write_input(data, size);
	errs[0] = '\0';
	if (config_load_errors(ini_path, &c, errs, sizeof(errs)) == 0) {
		if (c == NULL)
			fuzz_fail("fuzz_config", "success without a config");
		check_config(c);
	} else {
		if (c != NULL)
			fuzz_fail("fuzz_config", "failure left a config");
		if (errs[0] == '\0')
			fuzz_fail("fuzz_config", "failure without a reason");
	}
	config_free(c);
	unlink(ini_path);
	return 0;
}
