/*
 * db_ladder.c -- channel holders and their history (snapshot_channels).
 *
 * Each entry of a snapshot into a channel is one row; the holder of a
 * channel is the row still open (left_at NULL), one per pool and channel
 * by a partial unique index.  Rows are never deleted: a ladder's soak is
 * counted from the entry into the previous rung even after a newer
 * snapshot replaced it there, keep_promoted counts generations per
 * channel, and `demote` falls back to the previous holder.
 *
 * After every change the snapshot's own row is refreshed (channel list
 * in rung order, latest entry, latest exit), so that `list`, `explain`,
 * the JSON output and the views read what they always read.  The
 * statements come from the connection's cache (db_stmt): a run asks who
 * holds a pool's channels once per pool.
 */
#include "db/db_ladder.h"

#include <stdlib.h>
#include <string.h>

#include "db/db_internal.h"
#include "job/base/limits.h"
#include "job/base/log.h"
#include "job/base/util.h"

/* The snapshot row's view of its channels, from snapshot_channels. */
static int
refresh(struct db *db, int64_t snap_id)
{
	return db_exec(db,
	    "UPDATE snapshots SET "
	    "channel = (SELECT group_concat(channel, ',') FROM (SELECT "
	    "channel FROM snapshot_channels WHERE snapshot_id = ?1 AND "
	    "left_at IS NULL ORDER BY rung, promoted_at, id)), "
	    "promoted_at = (SELECT max(promoted_at) FROM snapshot_channels "
	    "WHERE snapshot_id = ?1), "
	    "demoted_at = (SELECT max(left_at) FROM snapshot_channels "
	    "WHERE snapshot_id = ?1), updated_at = ?2 WHERE id = ?1",
	    "refresh a snapshot's channels",
	    DB_ARGS(DB_INT(snap_id), DB_INT(util_now())));
}

static int
savepoint(struct db *db, const char *verb)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "%s db_ladder", verb);
	if (sqlite3_exec(db_sqlite(db), sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(db, "channel savepoint");
	return 0;
}

static int
undo(struct db *db)
{
	(void)sqlite3_exec(
	    db_sqlite(db), "ROLLBACK TO db_ladder", NULL, NULL, NULL);
	(void)sqlite3_exec(
	    db_sqlite(db), "RELEASE db_ladder", NULL, NULL, NULL);
	return -1;
}

/* The columns of a hold (HOLD_COLS from snapshot_id on) into ${h}. */
static void
col_hold(sqlite3_stmt *s, int first, struct channel_hold *h)
{
	h->snapshot_id = sqlite3_column_int64(s, first);
	db_col_text(s, first + 1, h->channel, sizeof(h->channel));
	h->rung = sqlite3_column_int(s, first + 2);
	h->promoted_at = (time_t)sqlite3_column_int64(s, first + 3);
	h->left_at = (time_t)sqlite3_column_int64(s, first + 4);
	h->demoted = sqlite3_column_int(s, first + 5);
}

#define HOLD_COLS                                                              \
	"SELECT id, snapshot_id, channel, rung, promoted_at, "                 \
	"coalesce(left_at, 0), left_how = 'demoted' FROM snapshot_channels "

/* A HOLD_COLS row into the struct channel_hold ${ctx}. */
static int
row_hold(void *ctx, sqlite3_stmt *s)
{
	col_hold(s, 1, ctx);
	return 0;
}

int
db_ladder_holds(
    struct db *db, int64_t pool_id, struct channel_hold **out, size_t *n)
{
	struct db_rows rows = DB_ROWS(sizeof(**out));
	int rc;

	rc = db_get_all(db,
	    HOLD_COLS "WHERE pool_id = ?1 ORDER BY promoted_at, id",
	    "list a pool's channel history", DB_ARGS(DB_INT(pool_id)), row_hold,
	    &rows);
	*out = rows.v;
	*n = rows.n;
	return rc;
}

/* A row of snapshot_channels as the holds queries select it. */
struct hold_row {
	int64_t id;
	struct channel_hold h;
	int open; /* left_at IS NULL: its snapshot holds the channel */
	int keep; /* db_ladder_holds_live returns it */
};

/* The rows db_ladder_holds_live reads (${v}, ${n}). */
struct holds {
	struct hold_row *v;
	size_t n, cap;
};

/* Append an entries_sql row to the struct holds ${ctx}. */
static int
add_row(void *ctx, sqlite3_stmt *s)
{
	struct holds *hs = ctx;
	struct hold_row *r;

	if (hs->n == hs->cap) {
		size_t ncap = hs->cap ? hs->cap * 2 : 32;
		struct hold_row *nv = realloc(hs->v, ncap * sizeof(*nv));

		if (nv == NULL)
			return -1;
		hs->v = nv;
		hs->cap = ncap;
	}
	r = &hs->v[hs->n++];
	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(s, 0);
	col_hold(s, 1, &r->h);
	r->open = sqlite3_column_int(s, 7);
	return 0;
}

/* Append ${id} to ${ids} (int64_t).  0/-1. */
static int
push_id(struct db_rows *ids, int64_t id)
{
	int64_t *v;

	if (ids->n == ids->cap) {
		size_t ncap = ids->cap ? ids->cap * 2 : 8;

		v = realloc(ids->v, ncap * sizeof(*v));
		if (v == NULL)
			return -1;
		ids->v = v;
		ids->cap = ncap;
	}
	v = ids->v;
	v[ids->n++] = id;
	return 0;
}

static int
cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int
cmp_hold_row(const void *a, const void *b)
{
	const struct hold_row *x = a, *y = b;

	if (x->h.promoted_at != y->h.promoted_at)
		return x->h.promoted_at < y->h.promoted_at ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * db_ladder_holds_live's statements, neither building a temporary b-tree.
 * entries_sql reads the pool's entries from snapshot_channels_by_pool
 * alone, which holds every column (0019): a page or two of it however old
 * the store, in (channel, promoted_at, id) order, each channel's newest
 * last.  It used to pick the active snapshots' and holders' entries
 * itself (IN (... UNION ...)), and then to ask for each channel and its
 * newest entries (a statement a channel): the two temporary b-trees
 * SQLite built and freed for the IN and the UNION on every call cost far
 * more than the rows (251 M of a 1,000-pool run's 1,102 M instructions on
 * the yearrun bench's present store, callgrind), so the choosing is
 * done here.  active_sql: the pool's active snapshots, from
 * snapshots_by_pool_state.
 */
static const char entries_sql[] =
    "SELECT id, snapshot_id, channel, rung, promoted_at, "
    "coalesce(left_at, 0), left_how = 'demoted', left_at IS NULL FROM "
    "snapshot_channels INDEXED BY snapshot_channels_by_pool "
    "WHERE pool_id = ?1";
static const char active_sql[] =
    "SELECT id FROM snapshots WHERE pool_id = ?1 AND state = 'active'";

/*
 * Mark the entries of channel ${v}[${from}..${to}) (oldest first) that
 * keep_promoted reads: newest first, back to the ${window}-th distinct
 * snapshot not demoted.
 */
static void
keep_newest(struct hold_row *v, size_t from, size_t to, int window)
{
	int64_t seen[LIMIT_KEEP_PROMOTED];
	int nseen = 0;

	for (size_t i = to; i-- > from && nseen < window;) {
		int dup = 0;

		v[i].keep = 1;
		if (v[i].h.demoted)
			continue;
		for (int k = 0; k < nseen && !dup; k++)
			dup = seen[k] == v[i].h.snapshot_id;
		if (!dup)
			seen[nseen++] = v[i].h.snapshot_id;
	}
}

/* Whether ${id} is in the sorted ${ids} (${n}). */
static int
has_id(const int64_t *ids, size_t n, int64_t id)
{
	return n > 0 && bsearch(&id, ids, n, sizeof(id), cmp_id) != NULL;
}

int
db_ladder_holds_live(struct db *db, int64_t pool_id, int window,
    struct channel_hold **out, size_t *n)
{
	static const char what[] = "list a pool's channels";
	struct holds hs = {NULL, 0, 0};
	struct db_rows active = DB_ROWS(sizeof(int64_t));
	struct db_rows holders = DB_ROWS(sizeof(int64_t));
	size_t k = 0, from = 0;
	int rc = -1;

	*out = NULL;
	*n = 0;
	if (window < 1)
		window = 1;
	if (window > LIMIT_KEEP_PROMOTED)
		window = LIMIT_KEEP_PROMOTED;
	if (db_get_all(db, active_sql, what, DB_ARGS(DB_INT(pool_id)),
	        db_row_int64, &active) < 0 ||
	    db_each_row(db, entries_sql, what, DB_ARGS(DB_INT(pool_id)),
	        add_row, &hs) < 0)
		goto done;
	/* the holders now: the entries not left */
	for (size_t i = 0; i < hs.n; i++)
		if (hs.v[i].open &&
		    push_id(&holders, hs.v[i].h.snapshot_id) < 0)
			goto done;
	if (active.n > 1)
		qsort(active.v, active.n, sizeof(int64_t), cmp_id);
	if (holders.n > 1)
		qsort(holders.v, holders.n, sizeof(int64_t), cmp_id);
	for (size_t i = 0; i <= hs.n; i++) {
		/* each channel ever held, its newest entries (keep_promoted) */
		if (i == hs.n ||
		    (i > from &&
		        strcmp(hs.v[i].h.channel, hs.v[from].h.channel) != 0)) {
			keep_newest(hs.v, from, i, window);
			from = i;
		}
		if (i == hs.n)
			break;
		/* every entry of the active snapshots and of the holders */
		if (has_id(active.v, active.n, hs.v[i].h.snapshot_id) ||
		    has_id(holders.v, holders.n, hs.v[i].h.snapshot_id))
			hs.v[i].keep = 1;
	}
	/* oldest first */
	for (size_t i = 0; i < hs.n; i++)
		if (hs.v[i].keep)
			hs.v[k++] = hs.v[i];
	if (k > 1)
		qsort(hs.v, k, sizeof(*hs.v), cmp_hold_row);
	*out = calloc(k + 1, sizeof(**out));
	if (*out == NULL)
		goto done;
	for (size_t i = 0; i < k; i++)
		(*out)[i] = hs.v[i].h;
	*n = k;
	rc = 0;
done:
	free(hs.v);
	free(active.v);
	free(holders.v);
	return rc;
}

int
db_ladder_enter(
    struct db *db, int64_t snap_id, const char *channel, int rung, time_t at)
{
	int64_t old = 0;
	int rc;

	if (savepoint(db, "SAVEPOINT"))
		return -1;
	/* The pool's holder now (maybe ${snap_id} itself; NULL reads 0). */
	rc = db_get_one(db,
	    "SELECT h.snapshot_id, x.pool_id FROM snapshots x "
	    "LEFT JOIN snapshot_channels h ON h.pool_id = x.pool_id AND "
	    "h.channel = ?2 AND h.left_at IS NULL WHERE x.id = ?1",
	    "find a channel's holder",
	    DB_ARGS(DB_INT(snap_id), DB_TEXT(channel)), db_row_int64, &old);
	if (rc != 1) {
		if (rc == 0)
			log_err(NULL, "no snapshot %lld to promote",
			    (long long)snap_id);
		return undo(db);
	}
	if (old == snap_id)
		return savepoint(db, "RELEASE");
	if (old != 0 &&
	    (db_exec(db,
	         "UPDATE snapshot_channels SET left_at = ?3, left_how = "
	         "'replaced' WHERE snapshot_id = ?1 AND channel = ?2 AND "
	         "left_at IS NULL",
	         "replace a channel's holder",
	         DB_ARGS(DB_INT(old), DB_TEXT(channel), DB_INT(at))) ||
	        refresh(db, old)))
		return undo(db);
	if (db_exec(db,
	        "INSERT INTO snapshot_channels (pool_id, snapshot_id, channel, "
	        "rung, promoted_at) SELECT pool_id, ?1, ?2, ?4, ?3 FROM "
	        "snapshots WHERE id = ?1",
	        "record a promotion",
	        DB_ARGS(DB_INT(snap_id), DB_TEXT(channel), DB_INT(at),
	            DB_INT(rung))) ||
	    refresh(db, snap_id))
		return undo(db);
	return savepoint(db, "RELEASE");
}

int
db_ladder_leave(
    struct db *db, int64_t snap_id, const char *channel, time_t at, int by_hand)
{
	const char *how = by_hand ? "demoted" : "replaced";
	char sql[256];

	snprintf(sql, sizeof(sql),
	    "UPDATE snapshot_channels SET left_at = ?2, left_how = '%s' "
	    "WHERE snapshot_id = ?1 AND left_at IS NULL%s",
	    how, channel != NULL ? " AND channel = ?3" : "");
	if (savepoint(db, "SAVEPOINT"))
		return -1;
	if (db_exec(db, sql, "record a demotion",
	        DB_ARGS(DB_INT(snap_id), DB_INT(at),
	            channel != NULL ? DB_TEXT(channel) : DB_SKIP)) ||
	    refresh(db, snap_id))
		return undo(db);
	return savepoint(db, "RELEASE");
}

int
db_ladder_adopt(struct db *db, int64_t snap_id, const char *list, time_t at)
{
	char ch[64];
	const char *q = list;
	int rung = 0;

	if (savepoint(db, "SAVEPOINT"))
		return -1;
	while (q != NULL && *q != '\0') {
		size_t len = strcspn(q, ",");

		if (len > 0 && len < sizeof(ch)) {
			memcpy(ch, q, len);
			ch[len] = '\0';
			if (db_exec(db,
			        "INSERT OR IGNORE INTO snapshot_channels "
			        "(pool_id, snapshot_id, channel, rung, "
			        "promoted_at) SELECT pool_id, ?1, ?2, ?4, ?3 "
			        "FROM snapshots WHERE id = ?1",
			        "adopt a channel",
			        DB_ARGS(DB_INT(snap_id), DB_TEXT(ch),
			            DB_INT(at), DB_INT(rung))))
				return undo(db);
		}
		rung++;
		q += len;
		if (*q == ',')
			q++;
	}
	if (refresh(db, snap_id))
		return undo(db);
	return savepoint(db, "RELEASE");
}

int
db_ladder_query_plan(struct db *db, const char *name, char *buf, size_t len)
{
	static const struct {
		const char *name, *sql;
	} queries[] = {{"entries", entries_sql}, {"active", active_sql}};

	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++)
		if (strcmp(name, queries[i].name) == 0)
			return db_explain(db, queries[i].sql, buf, len);
	log_err(NULL, "no ladder query named %s", name);
	return -1;
}
