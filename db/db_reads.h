#ifndef AKSNAP_DB_READS_H
#define AKSNAP_DB_READS_H

/*
 * db_reads.h -- what the fleet-wide read commands (drift, check,
 * baseline) share: one read transaction around their thousands of
 * per-pool statements.  Conventions as db.h.
 */

#include "db/db.h"

/*
 * db_read_begin(db):
 * Open a read transaction on ${db}: every statement until db_read_end
 * reads one state of the store, and none takes and drops SQLite's
 * shared lock (and re-reads the file's header) on its own, as a
 * statement outside a transaction does.  Nothing may write in it.  0/-1.
 */
int db_read_begin(struct db *db);

/* db_read_end(db): end that transaction; without one, a no-op. */
void db_read_end(struct db *db);

#endif
