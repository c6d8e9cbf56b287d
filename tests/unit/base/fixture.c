/*
 * fixture.c -- the base floor's unit-test fixture (fixture.h), shared by
 * every floor.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "job/base/util.h"
#include "tests/unit/base/fixture.h"

time_t
T(const char *s)
{
	time_t t = 0;

	if (util_parse_time(s, &t))
		fail_msg("bad time literal %s", s);
	return t;
}
