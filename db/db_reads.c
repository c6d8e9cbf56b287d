/*
 * db_reads.c -- a read transaction for the fleet-wide read commands.
 *
 * A statement stepped outside a transaction takes SQLite's shared lock
 * (an fcntl), checks the file's change counter and drops the lock when
 * it is reset: for 10,000 pools and four statements a pool, a sixth of
 * `drift`'s CPU.  Inside one BEGIN (deferred: it locks at its first
 * read) the lock is taken once, and every pool is read from one state
 * of the store, whatever a run writes meanwhile (WAL).
 */
#include "db/db_reads.h"

#include "db/db_internal.h"

int
db_read_begin(struct db *db)
{
	if (sqlite3_exec(db_sqlite(db), "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(db, "begin a read");
	return 0;
}

void
db_read_end(struct db *db)
{
	if (db != NULL && !sqlite3_get_autocommit(db_sqlite(db)))
		(void)sqlite3_exec(db_sqlite(db), "COMMIT", NULL, NULL, NULL);
}
