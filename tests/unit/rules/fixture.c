/*
 * fixture.c -- the rules floor's unit-test fixture (fixture.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "job/base/tz.h"
#include "tests/unit/rules/fixture.h"

static const char *const zone_names[] = {"UTC", "Europe/Berlin",
    "America/New_York", "Australia/Sydney", "Australia/Lord_Howe",
    "Asia/Kolkata"};
#define NZONES (sizeof(zone_names) / sizeof(zone_names[0]))
static struct tz *zones_loaded[NZONES];

int
zones_load(void **state)
{
	(void)state;
	for (size_t i = 0; i < NZONES; i++) {
		zones_loaded[i] = tz_load(zone_names[i]);
		if (zones_loaded[i] == NULL) {
			fprintf(stderr, "cannot load zone %s\n", zone_names[i]);
			return -1;
		}
	}
	return 0;
}

int
zones_free(void **state)
{
	(void)state;
	for (size_t i = 0; i < NZONES; i++) {
		tz_free(zones_loaded[i]);
		zones_loaded[i] = NULL;
	}
	return 0;
}

const struct tz *
Z(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < NZONES; i++)
		if (strcmp(zone_names[i], name) == 0)
			return zones_loaded[i];
	fail_msg("zone %s is not in zone_names", name);
	return NULL;
}
