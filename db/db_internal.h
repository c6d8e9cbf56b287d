#ifndef AKSNAP_DB_INTERNAL_H
#define AKSNAP_DB_INTERNAL_H

/*
 * db_internal.h -- what db.c lends the other files of db/ (db_<topic>.c),
 * so that a topic's queries live in their own file yet read rows the way
 * db.c does: when db.c's observation columns grow, every reader of them
 * grows too.  Nothing outside db/ includes this but db/'s unit tests.
 */

#include <sqlite3.h>
#include <stdint.h>

#include "db/db.h"

/* db_sqlite(db): the connection (owned by ${db}). */
sqlite3 *db_sqlite(struct db *db);

/*
 * db_stmt(db, sql, what), db_stmt_done(db, s) (db_stmt.c):
 * The statement for the SQL text ${sql}, prepared once per connection and
 * lent until db_stmt_done (which resets it and clears its bindings), or
 * NULL (logged by db_fail with ${what}).  When the cached statement is
 * already lent (a row callback asking the same question), a fresh one
 * that db_stmt_done finalizes.  Every db_stmt is paired with one
 * db_stmt_done, on every path; db_stmt_done(db, NULL) does nothing.
 * db_stmt_count(db): how many statements the cache holds (tests).
 * db_stmts_of(db): the cache's place in struct db; db_stmts_free(c):
 * finalize and free it (db_close, before closing the connection).
 */
struct db_stmts;
sqlite3_stmt *db_stmt(struct db *db, const char *sql, const char *what);
void db_stmt_done(struct db *db, sqlite3_stmt *s);
size_t db_stmt_count(struct db *db);
struct db_stmts **db_stmts_of(struct db *db);
void db_stmts_free(struct db_stmts *c);

/*
 * Values to bind, for the row helpers below: DB_ARGS(DB_INT(pool_id),
 * DB_TEXT(name)) binds ?1 and ?2, in that order.  DB_INT: an integer;
 * DB_TEXT: text, NULL as NULL; DB_OPT: optional text, NULL or "" as NULL;
 * DB_OPT_INT: an optional time or id, 0 as NULL; DB_BLOB(p, n): ${n}
 * bytes at ${p} (NULL as none) as a blob; DB_SKIP: that parameter
 * left unbound (NULL), where a shared statement does not use it.  Each is
 * an expression (a conditional may choose between two).  DB_NO_ARGS:
 * nothing to bind.  Text is copied by SQLite (SQLITE_TRANSIENT).
 */
enum db_arg_kind {
	DB_ARG_INT,
	DB_ARG_TEXT,
	DB_ARG_OPT,
	DB_ARG_OPT_INT,
	DB_ARG_BLOB,
	DB_ARG_SKIP
};
struct db_arg {
	enum db_arg_kind kind;
	int64_t i;
	const char *t;
};
struct db_args {
	const struct db_arg *v;
	int n;
};
#define DB_INT(x) ((struct db_arg){DB_ARG_INT, (int64_t)(x), NULL})
#define DB_TEXT(x) ((struct db_arg){DB_ARG_TEXT, 0, (x)})
#define DB_OPT(x) ((struct db_arg){DB_ARG_OPT, 0, (x)})
#define DB_OPT_INT(x) ((struct db_arg){DB_ARG_OPT_INT, (int64_t)(x), NULL})
#define DB_BLOB(p, n)                                                          \
	((struct db_arg){DB_ARG_BLOB, (int64_t)(n), (const char *)(p)})
#define DB_SKIP ((struct db_arg){DB_ARG_SKIP, 0, NULL})
#define DB_ARGS(...)                                                           \
	((struct db_args){(const struct db_arg[]){__VA_ARGS__},                \
	    (int)(sizeof((const struct db_arg[]){__VA_ARGS__}) /               \
	        sizeof(struct db_arg))})
#define DB_NO_ARGS ((struct db_args){NULL, 0})

/*
 * A row reader (db_row_fn): reads the current row of ${s} into ${ctx}.
 * Returns 0 to go on, 1 to stop reading (db_each_row), -1 when it failed
 * (it logged why).
 */
typedef int db_row_fn(void *ctx, sqlite3_stmt *s);

/*
 * The row helpers (db_stmt.c): the bind, step and error path of every
 * query in db/, written once.  ${what} names what was asked, as every
 * error logged names it (db_fail).
 *
 * A stepper (db_step_fn) binds ${args} to the statement ${s} (DB_NO_ARGS:
 * leaves it as bound) and steps it:
 * db_step_one: for one row: 1 when there is one (${row} has read it; NULL
 * reads nothing), 0 when there is none (a write: it is done), -1 on error
 * (logged) or when ${row} failed.
 * db_step_each: every row, in the statement's order, through ${row}: 0
 * when every row was read, 1 when ${row} stopped, -1 on error (logged) or
 * when ${row} failed.
 * db_step_all: every row into the array of the struct db_rows ${ctx}
 * (made by DB_ROWS(element size)), each element zeroed, then read by
 * ${row} (its ${ctx} the element): ->v (the caller frees it; NULL when
 * there is no row) and ->n.  0, or -1 on error (logged; out of memory
 * too) or when ${row} failed, with the array freed and empty.
 *
 * db_ask(db, sql, step, what, args, row, ctx): ${step} on the statement
 * for ${sql} (db_stmt, given back after).  db_get_one, db_each_row,
 * db_get_all: db_ask with db_step_one, db_step_each, db_step_all.
 * db_exec(db, sql, what, args): run the write ${sql} to its end.  0/-1.
 */
typedef int db_step_fn(struct db *db, sqlite3_stmt *s, const char *what,
    struct db_args args, db_row_fn *row, void *ctx);
db_step_fn db_step_one, db_step_each, db_step_all;
struct db_rows {
	void *v;
	size_t n, size, cap;
};
#define DB_ROWS(size) ((struct db_rows){NULL, 0, (size), 0})
int db_ask(struct db *db, const char *sql, db_step_fn *step, const char *what,
    struct db_args args, db_row_fn *row, void *ctx);
int db_get_one(struct db *db, const char *sql, const char *what,
    struct db_args args, db_row_fn *row, void *ctx);
int db_each_row(struct db *db, const char *sql, const char *what,
    struct db_args args, db_row_fn *row, void *ctx);
int db_get_all(struct db *db, const char *sql, const char *what,
    struct db_args args, db_row_fn *row, struct db_rows *rows);
int db_exec(
    struct db *db, const char *sql, const char *what, struct db_args args);

/*
 * Row readers for the helpers: db_row_int64 reads column 0 into the
 * int64_t at ${ctx}; db_row_text, column 0 as text into the struct
 * db_text at ${ctx} (NULL as "").
 */
struct db_text {
	char *buf;
	size_t len;
};
int db_row_int64(void *ctx, sqlite3_stmt *s);
int db_row_text(void *ctx, sqlite3_stmt *s);

/* db_path_of(db): the file name it was opened with. */
const char *db_path_of(const struct db *db);

/*
 * db_fail(db, what):
 * Log the connection's last error once, naming the file and ${what}
 * (SQLITE_BUSY as "locked by another process").  Return -1.
 */
int db_fail(struct db *db, const char *what);

/*
 * DB_HISTORY_SINCE(pool): an observation o of ${pool} shown from ?2 on:
 * from the interval in force at ?2, when it reaches it, else from ?2
 * (db_history, db_history_lines).
 */
#define DB_HISTORY_SINCE(pool)                                                 \
	"o.observed_at >= coalesce((SELECT CASE WHEN q.last_seen >= ?2 "       \
	"THEN q.observed_at END FROM observations q WHERE q.pool_id = " pool   \
	" AND q.observed_at < ?2 ORDER BY q.observed_at DESC, q.id DESC "      \
	"LIMIT 1), ?2) "

/*
 * db_obs_cols(), db_row_observation(o, s):
 * The column list of an observation row, to put after SELECT in a query
 * over "observations o JOIN pools p ON p.id = o.pool_id", and the row
 * reader that fills the struct db_observation ${o} from such a row of
 * ${s}; DB_OBS_NCOLS, how many columns the list has (the index of a
 * column put after it).
 */
#define DB_OBS_NCOLS 18
const char *db_obs_cols(void);
/* db_obs_cols_bare(): the same list over "observations o" alone, without
 * the pools row: the pool's key NULL (read as "") */
const char *db_obs_cols_bare(void);
int db_row_observation(void *o, sqlite3_stmt *s);
/* db_col_observation(s, first, o): the same, the list's first column
 * being ${first} of the row (a statement that reads more before it). */
void db_col_observation(sqlite3_stmt *s, int first, struct db_observation *o);

/*
 * db_snap_select(), db_row_snapshot(o, s):
 * "SELECT <every snapshot column> FROM snapshots s JOIN pools p ON p.id =
 * s.pool_id " (add WHERE / ORDER BY after it), and the row reader that
 * fills the struct db_snapshot ${o} from such a row of ${s}.
 */
const char *db_snap_select(void);
int db_row_snapshot(void *o, sqlite3_stmt *s);
/* db_col_snapshot(s, first, o): the same, from column ${first} on. */
void db_col_snapshot(sqlite3_stmt *s, int first, struct db_snapshot *o);
/* db_snap_cols(): db_snap_select's column list alone (after SELECT; the
 * query names the snapshot s and its own pool p). */
const char *db_snap_cols(void);
/* db_snap_cols_bare(): the same list over "snapshots s" alone, without
 * the pools row: the pool's key NULL (read as ""), the ARM id as stored
 * (NULL when derived: DB_SNAP_ARM_ID, 0017); DB_SNAP_NCOLS columns. */
#define DB_SNAP_NCOLS 19
const char *db_snap_cols_bare(void);

/*
 * DB_SNAP_ARM_ID(s, p): SQL for the ARM id of snapshot row ${s} of pool
 * row ${p} (migration 0017): snapshots.arm_id when stored, else the id
 * aksnap gives a snapshot of that name in the pool's subscription and
 * resource group (job/azure/arm.c's arm_snapshot_id).
 * DB_SNAP_ARM_ID_IS(s, p, x): the snapshot's ARM id is ${x} (NOCASE, as
 * ARM ids compare): a seek of snapshots_by_arm_id for the stored ones,
 * of the unique (name, pool_id) index by the id's last segment for the
 * derived ones.
 */
#define DB_SNAP_ARM_ID_OF(name, sub, rg)                                       \
	"'/subscriptions/' || " sub " || '/resourceGroups/' || " rg            \
	" || '/providers/Microsoft.ContainerService/snapshots/' || " name
#define DB_SNAP_ARM_ID(s, p)                                                   \
	"coalesce(" s ".arm_id, " DB_SNAP_ARM_ID_OF(                           \
	    s ".name", p ".subscription", p ".resource_group") ")"
#define DB_SNAP_ARM_ID_IS(s, p, x)                                             \
	"(" s ".arm_id = " x " OR (" s ".arm_id IS NULL AND " s                \
	".name = substr(" x ", length(rtrim(" x ", replace(" x                 \
	", '/', ''))) + 1) AND " DB_SNAP_ARM_ID_OF(s ".name",                  \
	    p ".subscription", p ".resource_group") " = " x                    \
	                                            " COLLATE NOCASE))"

/*
 * Open decision ranges (migration 0018): a range still growing keeps its
 * end in decision_open, its row in decision_rows an older one.  A query
 * of decision_rows' ends (last_at, last_slot) through their indexes
 * leaves the pool-level open row of pool ${pool} out with DB_DEC_IS_OPEN
 * (${d}: the decision_rows row's alias) and reads it instead with
 * DB_DEC_OPEN_SKIP (column ${col} of the pool's open skip, NULL when it
 * has none).
 */
#define DB_DEC_IS_OPEN(d, pool)                                                \
	"EXISTS (SELECT 1 FROM decision_open o WHERE o.pool_id = " pool        \
	" AND o.snapshot_id = 0 AND o.decision_id = " d ".id)"
#define DB_DEC_OPEN_SKIP(col, pool)                                            \
	"(SELECT " col " FROM decision_open WHERE pool_id = " pool             \
	" AND snapshot_id = 0 AND action = 'skip')"

/*
 * DB_POOL_LAST_SUCCESS(pool): the time of pool ${pool}'s last success (a
 * snapshot taken, or a slot skipped because nothing changed), 0 when it
 * has none: db_pool_last_success's (the fleet-wide reader, db_reads.c,
 * has the same two seeks as LEFT JOINs).  Two
 * seeks: the pool's row of pool_success (0025's triggers keep in it
 * DB_POOL_SUCCESS_KEPT, what its snapshots and closed skip ranges say)
 * and its open skip range, which a run extends every slot.  Before 0025
 * it was five seeks in indexes of the store's whole past: on a year's
 * store, 57,000 instructions and 1.3 page reads a pool (issue 16).
 */
#define DB_POOL_LAST_SUCCESS(pool)                                             \
	"max(coalesce((SELECT at FROM pool_success WHERE pool_id = " pool      \
	"), 0), coalesce(" DB_DEC_OPEN_SKIP("last_at", pool) ", 0))"
/* DB_POOL_SUCCESS_KEPT(pool): what pool_success holds for ${pool} (0:
 * no row), from the rows themselves (db check compares the two). */
#define DB_POOL_SUCCESS_KEPT(pool)                                             \
	"max(coalesce((SELECT max(created_at) FROM snapshots WHERE pool_id "   \
	"= " pool " AND state IN ('active', 'deleting', 'deleted')), 0), "     \
	"coalesce((SELECT max(last_at) FROM decision_rows WHERE pool_id "      \
	"= " pool " AND action = 'skip'), 0))"

/*
 * db_decision_action_names(), db_run_mode_names(): the NULL-terminated
 * vocabularies the schema's CHECK constraints allow.
 */
const char *const *db_decision_action_names(void);
const char *const *db_run_mode_names(void);

/*
 * The row readers and binders every db/ file shares:
 * db_col_text(s, i, dst, size): column ${i} as text into ${dst} (NULL
 * reads as ""); db_col_versions(s, first, v): the six columns of a
 * struct db_versions from column ${first} on (node image, Kubernetes, OS
 * type, OS SKU, VM size, FIPS), as the observation and snapshot rows
 * hold them; db_bind_opt(s, i, v): ${v} as text, NULL or "" as NULL
 * (the sqlite3_bind_* code); db_row_run / db_row_pool: row readers
 * (db_row_fn) of a runs row (id, started_at, finished_at, as_of, mode,
 * exit_code, observed, taken, skipped, deleted, promoted, failed) into a
 * struct db_run and of a pools row (id, key, subscription,
 * resource_group, cluster, nodepool, arm_id, location) into a struct
 * db_pool, in that column order; db_prepare(db, sql, what): a statement,
 * or NULL (logged by db_fail with ${what}).
 */
void db_col_text(sqlite3_stmt *s, int i, char *dst, size_t size);
void db_col_versions(sqlite3_stmt *s, int first, struct db_versions *v);
int db_bind_opt(sqlite3_stmt *s, int i, const char *v);
int db_row_run(void *out, sqlite3_stmt *s);
int db_row_pool(void *out, sqlite3_stmt *s);
sqlite3_stmt *db_prepare(struct db *db, const char *sql, const char *what);

/*
 * db_explain(db, sql, buf, len):
 * EXPLAIN QUERY PLAN of ${sql} as it would run on ${db}: one detail line
 * a step, into ${buf} (truncated to ${len}).  The seam behind the tests
 * that keep a query on its index (db_query_plan and its like).  0/-1.
 */
int db_explain(struct db *db, const char *sql, char *buf, size_t len);

/*
 * db_pools_json(ids, channels, n, channel, out):
 * The pools a fleet-wide statement reads through json_each(?1), in a new
 * NUL-terminated ${*out} (free()): [id, ...] of the ${n} pools ${ids},
 * every one when ${channel} is NULL, else those whose ${channels}[k] is
 * ${channel}, in their order.  Ids only: a statement that needs a pool's
 * channel binds it (?2), once a channel, where an [id, "channel"] pair
 * was parsed again at each reference to it (j.value ->> 0), most of
 * report's summary.  0/-1 (logged).
 */
int db_pools_json(const int64_t *ids, const char *const *channels, size_t n,
    const char *channel, char **out);

#endif
