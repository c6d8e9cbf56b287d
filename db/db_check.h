#ifndef AKSNAP_DB_CHECK_H
#define AKSNAP_DB_CHECK_H

/*
 * db_check.h -- is the store sound?  SQLite's own checks (integrity_check,
 * quick_check, foreign_key_check) and aksnap's invariants (DESIGN.md
 * section 5: no command writes into a store that fails them).
 */

#include <stddef.h>
#include <time.h>

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

/*
 * The pre-write check, bounded (DESIGN.md section 5; issue 16).
 *
 * db_check_quick reads every page: ~10 s of CPU on a 1 GB store, before
 * every run.  So a writer that closes cleanly leaves a stamp next to the
 * store, "<store>.checked": the file's device, inode, size, mtime and
 * ctime (nanoseconds) as it left them, and when the store was last proved
 * sound by db_check_quick.  The next writer skips the check when the stamp
 * is fresh: the file is exactly as an aksnap writer left it (nothing else
 * wrote it since, no WAL left over by a crash), and the last check is less
 * than DB_CHECK_MAX_AGE old.  Otherwise -- no stamp, any other writer, a
 * crash, a copy or restore, a day gone by -- it runs db_check_quick and
 * refuses a store that fails.  Between two checks SQLite itself detects
 * damage on every page it reads (cell_size_check is on): a writer that
 * meets it removes the stamp, so the next writer checks everything.
 */
/* Seconds a pre-write check vouches for the store. */
#define DB_CHECK_MAX_AGE (24 * 3600)

/*
 * db_check_stamp_fresh(path, now, checked_at):
 * 1 when the stamp of the store at ${path} matches the file as it is and
 * its check is at most DB_CHECK_MAX_AGE before ${now} (and not after it),
 * with that check's time in ${checked_at}; 0 otherwise (no stamp, a stamp
 * that does not parse or match, a non-empty WAL, a stale check).  Never
 * fails: when in doubt the answer is 0, and the caller checks.
 */
int db_check_stamp_fresh(const char *path, time_t now, time_t *checked_at);

/*
 * db_check_stamp_write(path, checked_at):
 * Record the store at ${path} as it is now (its writer just closed) as
 * proved sound at ${checked_at}.  Written to a temporary file and renamed,
 * mode 0600.  0, or -1 (logged as a warning: the next writer then checks).
 */
int db_check_stamp_write(const char *path, time_t checked_at);

/* db_check_stamp_remove(path): forget the stamp (damage was met). */
void db_check_stamp_remove(const char *path);

/*
 * db_check_stamp_read(path, checked_at):
 * The time of the last pre-write check recorded next to the store, fresh
 * or not (for `check` and the metrics).  1 with it, 0 when there is none.
 */
int db_check_stamp_read(const char *path, time_t *checked_at);

/*
 * How many pre-write checks this process ran (db_check_quick through
 * db_open) and how many it skipped on a fresh stamp: what the tests count.
 */
struct db_check_counts {
	long long checked, skipped;
};
void db_check_get_counts(struct db_check_counts *out);
/* db_check_count(skipped): db.c's open path counts one decision. */
void db_check_count(int skipped);

#endif
