#ifndef AKSNAP_DB_INTERNAL_H
#define AKSNAP_DB_INTERNAL_H

/*
 * db_internal.h -- what db.c lends the other files of db/ (db_<topic>.c),
 * so that a topic's queries live in their own file yet read rows the way
 * db.c does: when db.c's observation columns grow, every reader of them
 * grows too.  Nothing outside db/ includes this.
 */

#include <sqlite3.h>

#include "db/db.h"

/* db_sqlite(db): the connection (owned by ${db}). */
sqlite3 *db_sqlite(struct db *db);

/* db_path_of(db): the file name it was opened with. */
const char *db_path_of(const struct db *db);

/*
 * db_fail(db, what):
 * Log the connection's last error once, naming the file and ${what}
 * (SQLITE_BUSY as "locked by another process").  Return -1.
 */
int db_fail(struct db *db, const char *what);

/*
 * db_obs_cols(), db_col_observation(s, o):
 * The column list of an observation row, to put after SELECT in a query
 * over "observations o JOIN pools p ON p.id = o.pool_id", and the reader
 * that fills ${o} from such a row of ${s}.
 */
const char *db_obs_cols(void);
void db_col_observation(sqlite3_stmt *s, struct db_observation *o);

/*
 * db_snap_select(), db_col_snapshot(s, o):
 * "SELECT <every snapshot column> FROM snapshots s JOIN pools p ON p.id =
 * s.pool_id " (add WHERE / ORDER BY after it), and the reader that fills
 * ${o} from such a row of ${s}.
 */
const char *db_snap_select(void);
void db_col_snapshot(sqlite3_stmt *s, struct db_snapshot *o);

/*
 * db_decision_action_names(), db_run_mode_names(): the NULL-terminated
 * vocabularies the schema's CHECK constraints allow.
 */
const char *const *db_decision_action_names(void);
const char *const *db_run_mode_names(void);

#endif
