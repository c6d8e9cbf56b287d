#ifndef AKSNAP_DB_CHECK_H
#define AKSNAP_DB_CHECK_H

/*
 * db_check.h -- is the store sound?  SQLite's own checks (integrity_check,
 * quick_check, foreign_key_check) and aksnap's invariants (DESIGN.md
 * section 5: no command writes into a store that fails them).
 */

#include <stddef.h>

struct db;

/* One problem found: its kind and a line for a person. */
struct db_problem {
	char kind[16]; /* "integrity", "foreign_key", "invariant", "header" */
	char detail[320];
};

struct db_check_report {
	struct db_problem *items;
	size_t n, cap;
	int truncated; /* more problems than DB_CHECK_MAX were found */
};

#define DB_CHECK_MAX 100 /* problems kept per report */

/*
 * db_check_full(db, out):
 * PRAGMA integrity_check, PRAGMA foreign_key_check, the header
 * (application_id, user_version) and every invariant of the store: at
 * most one active snapshot per pool and slot, at most one holder per pool
 * and channel, no snapshot, observation or decision whose pool is missing,
 * no decision naming a missing snapshot or run, only known snapshot states,
 * decision actions and run modes.  Reads only.  Fill ${out} (zeroed first;
 * free with db_check_report_free) and return 0 -- out->n == 0 means sound
 * -- or -1 when the checks could not run at all (logged).
 */
int db_check_full(struct db *db, struct db_check_report *out);

/*
 * db_check_quick(db, out):
 * What every writing command runs before its first write: PRAGMA
 * quick_check (pages and records, not index contents) and the cheap
 * invariants (those on the snapshots table).  As db_check_full.  Both
 * check the invariants only on a store at the latest schema (a store about
 * to be migrated gets SQLite's checks alone).
 */
int db_check_quick(struct db *db, struct db_check_report *out);

/* db_check_report_free(r): release the problems; NULL is fine. */
void db_check_report_free(struct db_check_report *r);

#endif
