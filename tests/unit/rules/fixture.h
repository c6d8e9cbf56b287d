#ifndef AKSNAP_TEST_RULES_FIXTURE_H
#define AKSNAP_TEST_RULES_FIXTURE_H

/*
 * fixture.h -- what the unit tests of the rules' floor (tests/unit/rules/)
 * share: the time zones the tests name, loaded once by the group setup
 * and passed to the pure code as a run passes them; and, from the base
 * floor's fixture, times written as RFC 3339 literals (T).  Linked into
 * each of them by the Makefile's unit-test rule.  Every helper fails the
 * running test (cmocka) rather than return an error.
 */

#include "tests/unit/base/fixture.h"

struct tz;

/*
 * zones_load(state), zones_free(state):
 * cmocka group setup and teardown: load (free) the zones Z names: UTC,
 * Europe/Berlin, America/New_York, Australia/Sydney, Australia/Lord_Howe,
 * Asia/Kolkata.
 */
int zones_load(void **state);
int zones_free(void **state);

/* Z(name): the loaded zone ${name}; NULL stays NULL (UTC). */
const struct tz *Z(const char *name);

#endif
