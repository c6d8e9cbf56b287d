#ifndef AKSNAP_DB_INTERNAL_H
#define AKSNAP_DB_INTERNAL_H

/*
 * db_internal.h -- what db.c lends the other files of db/ (db_<topic>.c),
 * so that a topic's queries live in their own file.  Nothing outside db/
 * includes this.
 */

#include <sqlite3.h>

#include "db/db.h"

/* db_sqlite(db): the connection (owned by ${db}). */
sqlite3 *db_sqlite(struct db *db);

/*
 * db_fail(db, what):
 * Log the connection's last error once, naming the file and ${what}
 * (SQLITE_BUSY as "locked by another process").  Return -1.
 */
int db_fail(struct db *db, const char *what);

#endif
