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
};

/*
 * The rows db_ladder_holds_live gathers (${v}, ${n}), and while reading
 * one channel's newest entries, how many distinct snapshots not demoted
 * to read (${stop}; 0: every row) and those seen so far.
 */
struct holds {
	struct hold_row *v;
	size_t n, cap;
	int stop, nseen;
	int64_t seen[LIMIT_KEEP_PROMOTED];
};

/* Append a HOLD_COLS row to the struct holds ${ctx}; 1 when it has read
 * ${stop} snapshots. */
static int
add_row(void *ctx, sqlite3_stmt *s)
{
	struct holds *hs = ctx;
	struct hold_row *r;
	int dup = 0;

	if (hs->n == hs->cap) {
		size_t ncap = hs->cap ? hs->cap * 2 : 16;
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
	if (hs->stop == 0 || r->h.demoted)
		return 0;
	for (int k = 0; k < hs->nseen && !dup; k++)
		dup = hs->seen[k] == r->h.snapshot_id;
	if (!dup)
		hs->seen[hs->nseen++] = r->h.snapshot_id;
	return hs->nseen >= hs->stop;
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
 * db_ladder_holds_live's statements.  Each reads the pool's entries in
 * snapshot_channels_by_pool alone, which holds every column they read
 * (0019): a page or two of it however old the store.  By snapshot_id (as
 * live_sql did before 0019) they were rows written months apart, a page
 * each.  live_sql names the pool (an entry's pool is its snapshot's) and
 * the index: the planner would otherwise seek each snapshot's entries.
 */
static const char live_sql[] =
    HOLD_COLS "INDEXED BY snapshot_channels_by_pool WHERE pool_id = ?1 AND "
              "snapshot_id IN (SELECT id FROM snapshots WHERE pool_id = ?1 "
              "AND state = 'active' UNION SELECT snapshot_id FROM "
              "snapshot_channels INDEXED BY snapshot_channels_by_pool "
              "WHERE pool_id = ?1 AND left_at IS NULL)";
/* the pool's next channel by name after ?2 (NULL: none) */
static const char next_channel_sql[] =
    "SELECT min(channel) FROM snapshot_channels WHERE pool_id = ?1 AND "
    "channel > ?2";
/* a channel's entries, newest first */
static const char newest_sql[] =
    HOLD_COLS "WHERE pool_id = ?1 AND channel = ?2 "
              "ORDER BY promoted_at DESC, id DESC";

int
db_ladder_holds_live(struct db *db, int64_t pool_id, int window,
    struct channel_hold **out, size_t *n)
{
	static const char what[] = "list a pool's channels";
	struct holds hs = {NULL, 0, 0, 0, 0, {0}};
	char channel[64] = "";
	size_t k = 0;
	int rc = -1;

	*out = NULL;
	*n = 0;
	if (window < 1)
		window = 1;
	if (window > LIMIT_KEEP_PROMOTED)
		window = LIMIT_KEEP_PROMOTED;
	/* every entry of the active snapshots and of the holders */
	if (db_each_row(
	        db, live_sql, what, DB_ARGS(DB_INT(pool_id)), add_row, &hs) < 0)
		goto done;
	/* each channel ever held, its newest entries (keep_promoted) */
	for (;;) {
		/* the next channel by name ("" when there is none) */
		if (db_get_one(db, next_channel_sql, what,
		        DB_ARGS(DB_INT(pool_id), DB_TEXT(channel)), db_row_text,
		        &(struct db_text){channel, sizeof(channel)}) != 1)
			goto done;
		if (channel[0] == '\0')
			break;
		hs.stop = window;
		hs.nseen = 0;
		if (db_each_row(db, newest_sql, what,
		        DB_ARGS(DB_INT(pool_id), DB_TEXT(channel)), add_row,
		        &hs) < 0)
			goto done;
	}
	/* oldest first, each row once */
	if (hs.n > 1)
		qsort(hs.v, hs.n, sizeof(*hs.v), cmp_hold_row);
	*out = calloc(hs.n + 1, sizeof(**out));
	if (*out == NULL)
		goto done;
	for (size_t i = 0; i < hs.n; i++)
		if (i == 0 || hs.v[i].id != hs.v[i - 1].id)
			(*out)[k++] = hs.v[i].h;
	*n = k;
	rc = 0;
done:
	free(hs.v);
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
	} queries[] = {{"holds_live", live_sql},
	    {"next_channel", next_channel_sql}, {"newest", newest_sql}};

	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++)
		if (strcmp(name, queries[i].name) == 0)
			return db_explain(db, queries[i].sql, buf, len);
	log_err(NULL, "no ladder query named %s", name);
	return -1;
}
