/*
 * db_channels.c -- observations as intervals, with the cluster's
 * auto-upgrade channels and who changed the pool, and the record of
 * applies (db_channels.h).
 *
 * An observation row is an interval of equal observations of one pool
 * (migration 0012, DESIGN.md 5): a run that sees what the pool's last row
 * says moves that row's last_seen on (and counts it) instead of adding a
 * row, so the table grows with changes, not with runs x pools.  "Equal"
 * is every fact the row records -- the version fields, FIPS,
 * provisioningState and both channels, NULL and "" alike -- and an
 * observation that says who changed the pool (changed_by) always begins
 * a row, so that no such fact is ever folded away.  The rule is written
 * once, as SAME below, and once more in the migration that converted old
 * stores.
 *
 * Time order is the rows' order, not insertion order: a run --as-of in the
 * past records what it saw at that time.  The row in force then (the
 * newest that began at or before it) is extended when equal; else the
 * next row is, backwards, when equal and nothing else was seen between
 * (and, when the observation says who changed the pool, the row says the
 * same: the change into that state happened before the earlier sighting,
 * as the caller found comparing with the row in force, db_observation_at);
 * else a row is inserted, and when it lands inside an interval of another
 * state that interval is split in two around it: its first sighting
 * keeps the row, its last becomes a row of its own (the sightings between
 * are not kept one by one, so the split cannot say which side they were
 * on: the first part keeps their count).  Rows never overlap, so the
 * newest row by observed_at is the pool's state now.
 *
 * A run reads the interval in force once a pool (db_observation_in_force:
 * the whole row, for the run's own comparison, and whether it is equal)
 * and hands it back to db_observation_record_in_force, which writes
 * without reading it again: in the steady state one read and one UPDATE
 * a pool, on statements prepared once (db_stmt).
 */
#include "db/db_channels.h"

#include <stdio.h>
#include <string.h>

#include "db/db_internal.h"

/*
 * The parameters every observation statement below may use: ?1 pool, ?2
 * run (NULL: none), ?3 time, ?4-?9 versions, ?10 provisioning state, ?11
 * upgrade channel, ?12 node OS channel, ?13 changed_by, ?14 a row id.
 */
struct obs_args {
	int64_t run_id, pool_id, row;
	time_t at;
	const struct db_versions *v;
	const char *state;
	const struct db_observation *o;
};

/* A row equal to the observation ?4-?12 (same columns, NULL is ""). */
#define SAME                                                                   \
	"(coalesce(node_image_version, '') = coalesce(?4, '') AND "            \
	"coalesce(kubernetes_version, '') = coalesce(?5, '') AND "             \
	"coalesce(os_type, '') = coalesce(?6, '') AND "                        \
	"coalesce(os_sku, '') = coalesce(?7, '') AND "                         \
	"coalesce(vm_size, '') = coalesce(?8, '') AND "                        \
	"coalesce(enable_fips, -1) = coalesce(?9, -1) AND "                    \
	"provisioning_state = ?10 AND "                                        \
	"coalesce(upgrade_channel, '') = coalesce(?11, '') AND "               \
	"coalesce(node_os_channel, '') = coalesce(?12, ''))"

#define OBS_FIELDS                                                             \
	"pool_id, run_id, observed_at, node_image_version, "                   \
	"kubernetes_version, os_type, os_sku, vm_size, enable_fips, "          \
	"provisioning_state, upgrade_channel, node_os_channel, changed_by, "   \
	"last_seen, last_run_id, seen"

/*
 * The first interval after ?3, and whether it is equal and says the same
 * of who changed the pool (when ?13 says anything).
 */
static const char sql_next[] =
    "SELECT id, 0, " SAME " AND (?13 IS NULL OR changed_by = ?13) "
    "FROM observations WHERE pool_id = ?1 AND observed_at > ?3 "
    "ORDER BY observed_at, id LIMIT 1";
/* Seen again at ?3 (the newest sighting names its run). */
static const char sql_extend[] =
    "UPDATE observations SET seen = seen + 1, "
    "last_run_id = CASE WHEN ?3 >= last_seen THEN ?2 ELSE last_run_id END, "
    "last_seen = max(last_seen, ?3) WHERE id = ?14";
/* Seen earlier than its first sighting, with nothing else between. */
static const char sql_extend_back[] =
    "UPDATE observations SET observed_at = ?3, run_id = ?2, "
    "seen = seen + 1 WHERE id = ?14";
/* A split: the interval's last sighting becomes a row of its own ... */
static const char sql_split_tail[] =
    "INSERT INTO observations (" OBS_FIELDS ") "
    "SELECT pool_id, last_run_id, last_seen, node_image_version, "
    "kubernetes_version, os_type, os_sku, vm_size, enable_fips, "
    "provisioning_state, upgrade_channel, node_os_channel, NULL, "
    "last_seen, last_run_id, 1 FROM observations WHERE id = ?14";
/* ... and the row keeps the rest, ending at its first sighting. */
static const char sql_split_head[] =
    "UPDATE observations SET last_seen = observed_at, "
    "last_run_id = run_id, seen = seen - 1 WHERE id = ?14";
static const char sql_insert[] =
    "INSERT INTO observations (" OBS_FIELDS ") "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
    "?3, ?2, 1)";

/* Bind what of ?1-?14 the statement ${s} has.  A sqlite3_bind_* code. */
static int
bind_obs(sqlite3_stmt *s, const struct obs_args *a)
{
	const struct db_versions *v = a->v;
	const struct db_observation *o = a->o;
	int n = sqlite3_bind_parameter_count(s), b = 0;

	b |= sqlite3_bind_int64(s, 1, a->pool_id);
	b |= a->run_id != 0 ? sqlite3_bind_int64(s, 2, a->run_id)
	                    : sqlite3_bind_null(s, 2);
	b |= sqlite3_bind_int64(s, 3, a->at);
	if (n < 4)
		return b;
	if (n >= 14)
		b |= sqlite3_bind_int64(s, 14, a->row);
	if (n < 12)
		return b;
	b |= db_bind_opt(s, 4, v ? v->node_image_version : NULL);
	b |= db_bind_opt(s, 5, v ? v->kubernetes_version : NULL);
	b |= db_bind_opt(s, 6, v ? v->os_type : NULL);
	b |= db_bind_opt(s, 7, v ? v->os_sku : NULL);
	b |= db_bind_opt(s, 8, v ? v->vm_size : NULL);
	b |= v != NULL ? sqlite3_bind_int(s, 9, v->enable_fips != 0)
	               : sqlite3_bind_null(s, 9);
	b |= sqlite3_bind_text(s, 10, a->state, -1, SQLITE_TRANSIENT);
	b |= db_bind_opt(s, 11, o ? o->upgrade_channel : NULL);
	b |= db_bind_opt(s, 12, o ? o->node_os_channel : NULL);
	if (n >= 13)
		b |= db_bind_opt(s, 13, o ? o->changed_by : NULL);
	return b;
}

/*
 * obs_ask(db, sql, what, a, row, ctx):
 * Ask ${sql} (db_stmt) with ${a} bound (bind_obs) for one row, as
 * db_get_one does; a write (${row} NULL) answers 0 when done.
 */
static int
obs_ask(struct db *db, const char *sql, const char *what,
    const struct obs_args *a, db_row_fn *row, void *ctx)
{
	sqlite3_stmt *s = db_stmt(db, sql, what);
	int rc;

	if (s == NULL)
		return -1;
	if (bind_obs(s, a) != SQLITE_OK)
		rc = db_fail(db, what);
	else
		rc = db_step_one(db, s, what, DB_NO_ARGS, row, ctx);
	db_stmt_done(db, s);
	return rc;
}

/* Run the write ${sql} with ${a}.  0/-1. */
static int
obs_exec(struct db *db, const char *sql, const struct obs_args *a)
{
	return obs_ask(db, sql, "record observation", a, NULL, NULL) < 0 ? -1
	                                                                 : 0;
}

/* sql_next's row: the interval's id and whether it is equal. */
struct next_row {
	int64_t id;
	int same;
};

static int
row_next(void *ctx, sqlite3_stmt *s)
{
	struct next_row *n = ctx;

	n->id = sqlite3_column_int64(s, 0);
	n->same = sqlite3_column_int(s, 2);
	return 0;
}

/* A new row, splitting the interval ${prev} when it spans ${a->at}. */
static int
obs_insert(struct db *db, struct obs_args *a, int64_t prev, int split)
{
	if (!split)
		return obs_exec(db, sql_insert, a);
	if (sqlite3_exec(db_sqlite(db), "SAVEPOINT db_obs", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return db_fail(db, "record observation");
	a->row = prev;
	if (obs_exec(db, sql_split_tail, a) ||
	    obs_exec(db, sql_split_head, a) || obs_exec(db, sql_insert, a)) {
		(void)sqlite3_exec(
		    db_sqlite(db), "ROLLBACK TO db_obs", NULL, NULL, NULL);
		(void)sqlite3_exec(
		    db_sqlite(db), "RELEASE db_obs", NULL, NULL, NULL);
		return -1;
	}
	if (sqlite3_exec(db_sqlite(db), "RELEASE db_obs", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return db_fail(db, "record observation");
	return 0;
}

/* ${a}'s provisioning state as stored: NULL or "" is missing or unknown. */
static void
obs_state(struct obs_args *a)
{
	if (a->state == NULL || a->state[0] == '\0')
		a->state = a->v == NULL ? "missing" : "unknown";
}

/* The interval in force (in_force's row) into the db_obs_in_force ${ctx}. */
static int
row_in_force(void *ctx, sqlite3_stmt *s)
{
	struct db_obs_in_force *f = ctx;

	db_row_observation(&f->row, s);
	f->same = sqlite3_column_int(s, DB_OBS_NCOLS);
	f->found = 1;
	return 0;
}

/*
 * The interval in force at ${a->at}, whole, and whether it is equal: the
 * pool's newest row as pool_present names it (0024) when it began by
 * then -- a run of now, a seek of a small table's page -- else the
 * newest that began by then, from observations_by_pool_time (a run in
 * the past).  coalesce asks its second question only when the first
 * says nothing.  The index's leaf is a page a pool on a year's store
 * (issue 16: 403 of a run's 2,922 pages over 1,000 pools).
 */
static int
in_force(struct db *db, const struct obs_args *a, struct db_obs_in_force *f)
{
	char sql[1600];

	memset(f, 0, sizeof(*f));
	snprintf(sql, sizeof(sql),
	    "SELECT %s, " SAME " FROM observations o "
	    "JOIN pools p ON p.id = o.pool_id WHERE o.id = coalesce("
	    "(SELECT q.id FROM pool_present pp JOIN observations q "
	    "ON q.id = pp.obs_id WHERE pp.pool_id = ?1 AND "
	    "q.observed_at <= ?3), "
	    "(SELECT q.id FROM observations q WHERE q.pool_id = ?1 AND "
	    "q.observed_at <= ?3 ORDER BY q.observed_at DESC, q.id DESC "
	    "LIMIT 1))",
	    db_obs_cols());
	if (obs_ask(db, sql, "observation in force", a, row_in_force, f) < 0)
		return -1;
	return 0;
}

int
db_observation_in_force(struct db *db, int64_t pool_id, time_t at,
    const struct db_versions *v, const char *provisioning_state,
    const struct db_observation *o, struct db_obs_in_force *out)
{
	struct obs_args a = {0, pool_id, 0, at, v, provisioning_state, o};

	obs_state(&a);
	return in_force(db, &a, out);
}

/* Record ${a} given the interval in force ${f} (db_observation_record). */
static int
record(struct db *db, struct obs_args *a, const struct db_obs_in_force *f)
{
	struct next_row next = {0, 0};
	time_t prev_last = f->found ? f->row.last_seen : 0;
	/* who changed the pool is a fact of its own: always a new row */
	int may_extend = a->o == NULL || a->o->changed_by[0] == '\0';

	if (f->found && f->same && may_extend) {
		a->row = f->row.id;
		return obs_exec(db, sql_extend, a);
	}
	/* In the past: the next interval may begin with what we saw. */
	if (!f->found || prev_last < a->at) {
		int n = obs_ask(
		    db, sql_next, "record observation", a, row_next, &next);

		if (n < 0)
			return -1;
		if (n == 1 && next.same) {
			a->row = next.id;
			return obs_exec(db, sql_extend_back, a);
		}
	}
	return obs_insert(
	    db, a, f->found ? f->row.id : 0, f->found && prev_last > a->at);
}

int
db_observation_record_in_force(struct db *db, int64_t run_id, int64_t pool_id,
    time_t at, const struct db_versions *v, const char *provisioning_state,
    const struct db_observation *o, const struct db_obs_in_force *f)
{
	struct obs_args a = {run_id, pool_id, 0, at, v, provisioning_state, o};

	obs_state(&a);
	return record(db, &a, f);
}

int
db_observation_record(struct db *db, int64_t run_id, int64_t pool_id, time_t at,
    const struct db_versions *v, const char *provisioning_state,
    const struct db_observation *o)
{
	struct obs_args a = {run_id, pool_id, 0, at, v, provisioning_state, o};
	struct db_obs_in_force f;

	obs_state(&a);
	if (in_force(db, &a, &f))
		return -1;
	return record(db, &a, &f);
}

int
db_observation_at(
    struct db *db, int64_t pool_id, time_t at, struct db_observation *out)
{
	char sql[1024];

	snprintf(sql, sizeof(sql),
	    "SELECT %s FROM observations o JOIN pools p ON p.id = o.pool_id "
	    "WHERE o.pool_id = ?1 AND o.observed_at <= ?2 "
	    "ORDER BY o.observed_at DESC, o.id DESC LIMIT 1",
	    db_obs_cols());
	return db_get_one(db, sql, "observation in force",
	    DB_ARGS(DB_INT(pool_id), DB_INT(at)), db_row_observation, out);
}

int
db_apply_add(struct db *db, const struct db_apply *a)
{
	static const char sql[] =
	    "INSERT INTO applies (run_id, snapshot_id, pool_id, target, kind, "
	    "at, rollback, cross_region, from_kubernetes_version, "
	    "from_node_image_version, kubernetes_version, node_image_version) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";

	return db_exec(db, sql, "record apply",
	    DB_ARGS(DB_OPT_INT(a->run_id), DB_OPT_INT(a->snapshot_id),
	        DB_OPT_INT(a->pool_id), DB_TEXT(a->target), DB_TEXT(a->kind),
	        DB_INT(a->at), DB_INT(a->rollback != 0),
	        DB_INT(a->cross_region != 0),
	        DB_OPT(a->from.kubernetes_version),
	        DB_OPT(a->from.node_image_version),
	        DB_OPT(a->to.kubernetes_version),
	        DB_OPT(a->to.node_image_version)));
}

/* An applies row to db_apply_list's callback. */
struct apply_each {
	int (*cb)(void *ctx, const struct db_apply *a);
	void *ctx;
};

static int
row_apply(void *ctx, sqlite3_stmt *s)
{
	const struct apply_each *e = ctx;
	struct db_apply a;

	memset(&a, 0, sizeof(a));
	a.id = sqlite3_column_int64(s, 0);
	a.run_id = sqlite3_column_int64(s, 1);
	a.snapshot_id = sqlite3_column_int64(s, 2);
	a.pool_id = sqlite3_column_int64(s, 3);
	db_col_text(s, 4, a.target, sizeof(a.target));
	db_col_text(s, 5, a.kind, sizeof(a.kind));
	a.at = (time_t)sqlite3_column_int64(s, 6);
	a.rollback = sqlite3_column_int(s, 7);
	a.cross_region = sqlite3_column_int(s, 8);
	db_col_text(
	    s, 9, a.from.kubernetes_version, sizeof(a.from.kubernetes_version));
	db_col_text(s, 10, a.from.node_image_version,
	    sizeof(a.from.node_image_version));
	db_col_text(
	    s, 11, a.to.kubernetes_version, sizeof(a.to.kubernetes_version));
	db_col_text(
	    s, 12, a.to.node_image_version, sizeof(a.to.node_image_version));
	return e->cb(e->ctx, &a) != 0;
}

int
db_apply_list(struct db *db, int64_t snapshot_id,
    int (*cb)(void *ctx, const struct db_apply *a), void *ctx)
{
	static const char sql[] =
	    "SELECT id, run_id, snapshot_id, pool_id, target, kind, at, "
	    "rollback, cross_region, from_kubernetes_version, "
	    "from_node_image_version, kubernetes_version, node_image_version "
	    "FROM applies WHERE snapshot_id = ?1 ORDER BY at, id";
	struct apply_each e = {cb, ctx};

	if (db_each_row(db, sql, "list applies", DB_ARGS(DB_INT(snapshot_id)),
	        row_apply, &e) < 0)
		return -1;
	return 0;
}
