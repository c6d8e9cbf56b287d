#ifndef AKSNAP_TEST_DB_FIXTURE_H
#define AKSNAP_TEST_DB_FIXTURE_H

/*
 * fixture.h -- what every unit test of the store's floor (tests/unit/db/)
 * starts from: a temporary directory holding the store's path, the log
 * captured, and raw access to the file for the fixtures the API cannot
 * build.  Linked into each of them by the Makefile's unit-test rule.
 * Every helper fails the running test (cmocka) rather than return an
 * error.
 */

#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

struct fx {
	char dir[64]; /* a fresh directory under /tmp */
	char path[128]; /* dir/aksnap.db, not created */
	char log[16384]; /* what was logged, line by line */
	size_t loglen;
	struct db *db; /* closed by teardown when set */
};

/* setup(state): a struct fx in ${*state}, its log captured (cmocka). */
int setup(void **state);

/* teardown(state): close the store, remove the directory (even one a test
 * made immutable), free the fixture. */
int teardown(void **state);

/* clear_log(f): forget what was logged so far. */
void clear_log(struct fx *f);

/* assert_logged(f, what): the log holds ${what}, or the test fails. */
void assert_logged(struct fx *f, const char *what);

/* raw_exec(path, sql): run ${sql} on the file at ${path}, outside db/. */
void raw_exec(const char *path, const char *sql);

/* raw_lock(path): another connection holding the store's write lock
 * (BEGIN IMMEDIATE), as a concurrent writer does; raw_unlock(c): roll it
 * back and close it. */
struct sqlite3;
struct sqlite3 *raw_lock(const char *path);
void raw_unlock(struct sqlite3 *c);

/* raw_int(path, sql): the first column of ${sql}'s first row; -999 when
 * there is none. */
long long raw_int(const char *path, const char *sql);

/* raw_text(path, sql, buf, len): the first column of ${sql}'s first row
 * as text; "" when there is none or it is NULL. */
void raw_text(const char *path, const char *sql, char *buf, size_t len);

/* ver(image, k8s, fips): a Linux Ubuntu Standard_D4s_v5 pool's versions. */
struct db_versions ver(const char *image, const char *k8s, int fips);

/* add_decision(db, run, pool, snap, at, slot, action, reasons,
 * fingerprint): a decision ${action} about snapshot ${snap} (0: none) of
 * ${pool} by run ${run} (0: none) at ${at} for ${slot} (0: none), through
 * db_decision_add; it must succeed. */
void add_decision(struct db *db, int64_t run, int64_t pool, int64_t snap,
    time_t at, time_t slot, const char *action, const char *reasons,
    const char *fingerprint);

#endif
