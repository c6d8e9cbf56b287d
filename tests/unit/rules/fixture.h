#ifndef AKSNAP_TEST_RULES_FIXTURE_H
#define AKSNAP_TEST_RULES_FIXTURE_H

/*
 * fixture.h -- what the unit tests of the rules' floor (tests/unit/rules/)
 * share: times written as RFC 3339 literals, and the time zones the tests
 * name, loaded once by the group setup and passed to the pure code as a
 * run passes them.  Linked into each of them by the Makefile's unit-test
 * rule.  Every helper fails the running test (cmocka) rather than return
 * an error.
 */

#include <time.h>

struct tz;

/* T(s): the time of the RFC 3339 literal ${s} ("2026-03-16T03:00:00Z"). */
time_t T(const char *s);

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
