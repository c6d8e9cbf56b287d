#ifndef AKSNAP_TEST_BASE_FIXTURE_H
#define AKSNAP_TEST_BASE_FIXTURE_H

/*
 * fixture.h -- what every unit test may share from the bottom floor
 * (tests/unit/base/): times written as RFC 3339 literals.  Linked into
 * each unit test by the Makefile's unit-test rule (with the test's own
 * floor's fixture, when it has one).  A helper fails the running test
 * (cmocka) rather than return an error.
 */

#include <time.h>

/* T(s): the time of the RFC 3339 literal ${s} ("2026-03-16T03:00:00Z"). */
time_t T(const char *s);

#endif
