/*
 * db_list.c -- the snapshots `aksnap list` shows, streamed.
 *
 * A list of every pool's snapshots over years of runs is the one question
 * whose answer grows with the store's age, so it is stepped row by row
 * into a callback instead of collected: the command renders each row as
 * it comes.  The default answer (live snapshots) is read through indexes:
 * a pool's through snapshots_by_pool_time, every pool's through the
 * partial index snapshots_live (migration 0010), whose WHERE the query
 * below repeats word for word -- SQLite uses a partial index only when
 * the query's WHERE contains the index's.  `list --all` reads the table.
 * `check` reads the snapshots left pending (unconfirmed, deleting) of
 * every pool in one statement, a seek of snapshots_by_state.
 *
 * The statements come from the connection's cache (db_stmt): a list is
 * made once per command, and a callback may ask its own questions.
 */
#include "db/db_list.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_internal.h"
#include "db/db_reads.h"
#include "job/base/util.h"

/* Exactly the WHERE of the index snapshots_live (0010). */
#define LIVE "s.state NOT IN ('deleted', 'failed', 'missing')"
#define ORDER " ORDER BY s.created_at DESC, s.id DESC"

/* list_where(pool_id, all): one pool's rows or every pool's, live ones
 * unless ${all}. */
static const char *
list_where(int64_t pool_id, int all)
{
	if (pool_id != 0)
		return all ? "WHERE s.pool_id = ?1"
		           : "WHERE s.pool_id = ?1 AND " LIVE;
	return all ? "" : "WHERE " LIVE;
}

/* The query of db_snapshot_each, into ${sql}. */
static void
list_sql(int64_t pool_id, int all, char *sql, size_t len)
{
	const char *where = list_where(pool_id, all);

	snprintf(sql, len, "%s%s%s", db_snap_select(), where, ORDER);
}

/* A row to a caller's callback (each_row). */
struct each {
	int (*cb)(void *ctx, const struct db_snapshot *s);
	void *ctx;
};

static int
row_each(void *ctx, sqlite3_stmt *s)
{
	const struct each *e = ctx;
	struct db_snapshot snap;

	db_row_snapshot(&snap, s);
	return e->cb(e->ctx, &snap) != 0;
}

/* Step ${sql} (bound to ${pool_id} unless 0) into ${cb}, one row at a
 * time.  0/-1 (logged with ${what}). */
static int
each_row(struct db *db, const char *sql, int64_t pool_id, const char *what,
    int (*cb)(void *ctx, const struct db_snapshot *s), void *ctx)
{
	struct each e = {cb, ctx};

	if (db_each_row(db, sql, what,
	        pool_id != 0 ? DB_ARGS(DB_INT(pool_id)) : DB_NO_ARGS, row_each,
	        &e) < 0)
		return -1;
	return 0;
}

int
db_snapshot_each(struct db *db, int64_t pool_id, int all,
    int (*cb)(void *ctx, const struct db_snapshot *s), void *ctx)
{
	char sql[1024];

	list_sql(pool_id, all, sql, sizeof(sql));
	return each_row(db, sql, pool_id, "list snapshots", cb, ctx);
}

int
db_snapshot_each_plan(
    struct db *db, int64_t pool_id, int all, char *buf, size_t len)
{
	char sql[1024];

	list_sql(pool_id, all, sql, sizeof(sql));
	return db_explain(db, sql, buf, len);
}

/*
 * The query of db_snapshot_lines, into ${sql}: only what `list` shows,
 * which snapshots_live covers, with the pool's id for its key (key_of):
 * a join of pools cost a seek of its table a row (a fifth of the list's
 * instructions on the simulated year).
 */
static void
lines_sql(int64_t pool_id, int all, char *sql, size_t len)
{
	const char *where = list_where(pool_id, all);

	snprintf(sql, len,
	    "SELECT s.pool_id, s.name, s.created_at, s.state, "
	    "s.node_image_version, s.kubernetes_version, s.channel, s.pinned "
	    "FROM snapshots s %s%s",
	    where, ORDER);
}

/* A pool's key by its id: the pools a list may name, by id. */
struct pool_key {
	int64_t id;
	size_t len; /* strlen(key) */
	char key[64];
};

static int
row_pool_key(void *ctx, sqlite3_stmt *s)
{
	struct pool_key *k = ctx;

	k->id = sqlite3_column_int64(s, 0);
	db_col_text(s, 1, k->key, sizeof(k->key));
	k->len = strlen(k->key);
	return 0;
}

/*
 * The key of pool ${id} among the ${n} of ${keys} (by id), or NULL.  Ids
 * are nearly always 1 to n, the pools in the order they were added: then
 * the key is where the id says, one memory access (a binary search over
 * 10,000 keys missed the cache a row, a tenth of a list's CPU).
 */
static const struct pool_key *
key_of(const struct pool_key *keys, size_t n, int64_t id)
{
	size_t lo = 0, hi = n;

	if (n > 0 && id >= keys[0].id && (uint64_t)(id - keys[0].id) < n &&
	    keys[id - keys[0].id].id == id)
		return &keys[id - keys[0].id];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (keys[mid].id == id)
			return &keys[mid];
		if (keys[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* A line to a caller's callback (db_snapshot_lines). */
struct lines {
	int (*cb)(void *ctx, int pass, const struct db_snapshot_line *l);
	void *ctx;
	int pass;
	const struct pool_key *keys;
	size_t nkeys;
	/* the fields cut to struct db_snapshot's sizes, when too long */
	char name[64], state[16], image[128], k8s[32], channel[64];
};

/*
 * Column ${i} of ${s} as db_col_text would copy it into ${size} bytes:
 * SQLite's own text when it fits (nearly always: no copy), else cut into
 * ${buf}; its length into *${len} when ${len} is not NULL.
 */
static const char *
col_text_len(sqlite3_stmt *s, int i, char *buf, size_t size, size_t *len)
{
	const char *t = (const char *)sqlite3_column_text(s, i);
	size_t n;

	if (t == NULL)
		t = "";
	n = strlen(t);
	if (n >= size) {
		util_strlcpy(buf, t, size);
		t = buf;
		n = size - 1;
	}
	if (len != NULL)
		*len = n;
	return t;
}

static const char *
col_text(sqlite3_stmt *s, int i, char *buf, size_t size)
{
	return col_text_len(s, i, buf, size, NULL);
}

static int
row_line(void *ctx, sqlite3_stmt *s)
{
	struct lines *e = ctx;
	struct db_snapshot_line l;
	const struct pool_key *k =
	    key_of(e->keys, e->nkeys, sqlite3_column_int64(s, 0));

	/* As the join it stands for: a row without its pool is not one. */
	if (k == NULL)
		return 0;
	l.pool_key = k->key;
	l.pool_key_len = k->len;
	l.name = col_text_len(s, 1, e->name, sizeof(e->name), &l.name_len);
	l.created_at = (time_t)sqlite3_column_int64(s, 2);
	l.state = col_text_len(s, 3, e->state, sizeof(e->state), &l.state_len);
	l.node_image_version = col_text_len(
	    s, 4, e->image, sizeof(e->image), &l.node_image_version_len);
	l.kubernetes_version = col_text_len(
	    s, 5, e->k8s, sizeof(e->k8s), &l.kubernetes_version_len);
	l.channel =
	    col_text_len(s, 6, e->channel, sizeof(e->channel), &l.channel_len);
	l.pinned = sqlite3_column_int(s, 7);
	return e->cb(e->ctx, e->pass, &l) != 0;
}

int
db_snapshot_lines(struct db *db, int64_t pool_id, int all, const int *passes,
    int (*cb)(void *ctx, int pass, const struct db_snapshot_line *l), void *ctx)
{
	struct db_rows keys = DB_ROWS(sizeof(struct pool_key));
	struct lines e;
	char sql[1024];
	int rc = 0;

	e.cb = cb;
	e.ctx = ctx;
	lines_sql(pool_id, all, sql, sizeof(sql));
	/* One read transaction: every pass reads the same rows. */
	if (db_read_begin(db))
		return -1;
	if (pool_id != 0)
		rc = db_get_all(db, "SELECT id, key FROM pools WHERE id = ?1",
		    "list snapshots: pools", DB_ARGS(DB_INT(pool_id)),
		    row_pool_key, &keys);
	else
		rc = db_get_all(db, "SELECT id, key FROM pools ORDER BY id",
		    "list snapshots: pools", DB_NO_ARGS, row_pool_key, &keys);
	e.keys = keys.v;
	e.nkeys = keys.n;
	for (e.pass = 0; e.pass < *passes && rc == 0; e.pass++)
		rc = db_each_row(db, sql, "list snapshots",
		    pool_id != 0 ? DB_ARGS(DB_INT(pool_id)) : DB_NO_ARGS,
		    row_line, &e);
	db_read_end(db);
	free(keys.v);
	return rc < 0 ? -1 : 0;
}

int
db_snapshot_lines_plan(
    struct db *db, int64_t pool_id, int all, char *buf, size_t len)
{
	char sql[1024];

	lines_sql(pool_id, all, sql, sizeof(sql));
	return db_explain(db, sql, buf, len);
}

/* An interval to a caller's callback (db_history_passes). */
struct history_pass {
	int (*cb)(void *ctx, int pass, const struct db_observation *o);
	void *ctx;
	int pass;
};

static int
history_one(void *ctx, const struct db_observation *o)
{
	struct history_pass *h = ctx;

	return h->cb(h->ctx, h->pass, o);
}

int
db_history_passes(struct db *db, int64_t pool_id, time_t since,
    int changes_only, const int *passes,
    int (*cb)(void *ctx, int pass, const struct db_observation *o), void *ctx)
{
	struct history_pass h = {cb, ctx, 0};
	int rc = 0;

	if (db_read_begin(db))
		return -1;
	for (h.pass = 0; h.pass < *passes && rc == 0; h.pass++)
		rc = db_history(
		    db, pool_id, since, changes_only, history_one, &h);
	db_read_end(db);
	return rc;
}

/*
 * The query of db_history_lines, into ${sql}: db_history's (db.c's
 * ST_HISTORY*), the same FROM, WHERE and ORDER BY, so the same plan
 * (every pool: a seek of the observations' index a pool, pools outside),
 * and only the columns `history` shows.
 */
#define HISTORY_LINE_COLS                                                      \
	"SELECT p.key, o.observed_at, o.last_seen, o.seen, "                   \
	"o.node_image_version, o.kubernetes_version, o.os_sku, o.vm_size, "    \
	"o.provisioning_state, o.changed_by "

static const char *
history_lines_sql(int64_t pool_id, int changes_only)
{
	if (pool_id != 0)
		return changes_only ? HISTORY_LINE_COLS
		    "FROM observations o JOIN pools p ON p.id = o.pool_id "
		    "WHERE o.pool_id = ?1 AND o.observed_at >= ?2 AND "
		    "o.changed = 1 ORDER BY o.observed_at, o.id"
		                    : HISTORY_LINE_COLS
		    "FROM observations o JOIN pools p ON p.id = o.pool_id "
		    "WHERE o.pool_id = ?1 AND " DB_HISTORY_SINCE(
		        "?1") "ORDER BY o.observed_at, o.id";
	return changes_only ? HISTORY_LINE_COLS
	    "FROM pools p CROSS JOIN observations o "
	    "ON o.pool_id = p.id "
	    "WHERE o.observed_at >= ?2 AND o.changed = 1 "
	    "ORDER BY p.id, o.observed_at, o.id"
	                    : HISTORY_LINE_COLS
	    "FROM pools p CROSS JOIN observations o "
	    "ON o.pool_id = p.id WHERE " DB_HISTORY_SINCE(
	        "p.id") "ORDER BY p.id, o.observed_at, o.id";
}

/* A history line to a caller's callback (db_history_lines). */
struct history_lines {
	int (*cb)(void *ctx, int pass, const struct db_history_line *l);
	void *ctx;
	int pass;
	/* the fields cut to struct db_observation's sizes, when too long */
	char key[64], image[128], k8s[32], sku[32], vm[64], state[32],
	    changed_by[16];
};

static int
row_history_line(void *ctx, sqlite3_stmt *s)
{
	struct history_lines *h = ctx;
	struct db_history_line l;

	l.pool_key = col_text(s, 0, h->key, sizeof(h->key));
	l.observed_at = (time_t)sqlite3_column_int64(s, 1);
	l.last_seen = (time_t)sqlite3_column_int64(s, 2);
	l.seen = sqlite3_column_int64(s, 3);
	l.node_image_version = col_text(s, 4, h->image, sizeof(h->image));
	l.kubernetes_version = col_text(s, 5, h->k8s, sizeof(h->k8s));
	l.os_sku = col_text(s, 6, h->sku, sizeof(h->sku));
	l.vm_size = col_text(s, 7, h->vm, sizeof(h->vm));
	l.provisioning_state = col_text(s, 8, h->state, sizeof(h->state));
	l.changed_by = col_text(s, 9, h->changed_by, sizeof(h->changed_by));
	return h->cb(h->ctx, h->pass, &l) != 0;
}

int
db_history_lines(struct db *db, int64_t pool_id, time_t since, int changes_only,
    const int *passes,
    int (*cb)(void *ctx, int pass, const struct db_history_line *l), void *ctx)
{
	struct history_lines h;
	const char *sql = history_lines_sql(pool_id, changes_only);
	int rc = 0;

	h.cb = cb;
	h.ctx = ctx;
	if (db_read_begin(db))
		return -1;
	for (h.pass = 0; h.pass < *passes && rc == 0; h.pass++)
		rc = db_each_row(db, sql, "history",
		    DB_ARGS(DB_INT(pool_id), DB_INT(since)), row_history_line,
		    &h);
	db_read_end(db);
	return rc < 0 ? -1 : 0;
}

int
db_history_lines_plan(
    struct db *db, int64_t pool_id, int changes_only, char *buf, size_t len)
{
	return db_explain(
	    db, history_lines_sql(pool_id, changes_only), buf, len);
}

/* The query of db_snapshot_pending_each, into ${sql}: the two states
 * check reports, a seek of snapshots_by_state each. */
static void
pending_sql(char *sql, size_t len)
{
	snprintf(sql, len,
	    "%sWHERE s.state IN ('unconfirmed', 'deleting') ORDER BY "
	    "s.pool_id, s.state = 'deleting', s.created_at DESC, s.id DESC",
	    db_snap_select());
}

int
db_snapshot_pending_each(
    struct db *db, int (*cb)(void *ctx, const struct db_snapshot *s), void *ctx)
{
	char sql[1024];

	pending_sql(sql, sizeof(sql));
	return each_row(db, sql, 0, "list pending snapshots", cb, ctx);
}

int
db_snapshot_pending_plan(struct db *db, char *buf, size_t len)
{
	char sql[1024];

	pending_sql(sql, sizeof(sql));
	return db_explain(db, sql, buf, len);
}
