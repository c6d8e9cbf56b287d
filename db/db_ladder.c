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

/* An entry db_ladder_holds_live read, its id (to drop the repeats), and
 * whether it is open (left_at NULL: its snapshot holds the channel). */
struct hold_row {
	int64_t id;
	struct channel_hold h;
	int open;
};

/* A channel the walk met, and whether it read the channel's holder. */
struct walk_channel {
	char name[sizeof(((struct channel_hold *)NULL)->channel)];
	int held;
};

/*
 * What db_ladder_holds_live gathers: the entries (${v}, ${n}; repeats
 * allowed until the end), the channels the walk met (${ch}), the
 * snapshots every entry of which it returns (${want}: the holders, then
 * the active ones; sorted once complete), and the walk's state in the
 * channel it is in (${seen}, ${nseen} of ${window}).
 */
struct live {
	struct hold_row *v;
	size_t n, cap;
	struct walk_channel *ch;
	size_t nch, capch;
	int64_t *want;
	size_t nwant, capwant;
	int64_t seen[LIMIT_KEEP_PROMOTED];
	int nseen, window;
};

/* Room for one more ${size}-byte element in ${*v} (${n} used of ${*cap}). */
static int
grow(void *v, size_t *cap, size_t n, size_t size)
{
	void **pv = v;
	size_t ncap;
	void *nv;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	nv = realloc(*pv, ncap * size);
	if (nv == NULL) {
		log_err(NULL, "out of memory");
		return -1;
	}
	*pv = nv;
	*cap = ncap;
	return 0;
}

/* Add ${id} to the snapshots ${lv} returns every entry of.  0/-1. */
static int
want_id(struct live *lv, int64_t id)
{
	if (grow(&lv->want, &lv->capwant, lv->nwant, sizeof(*lv->want)))
		return -1;
	lv->want[lv->nwant++] = id;
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
 * Append a LIVE_COLS row to ${lv}'s entries.  The columns are the index's
 * own, read as they are: an expression a row (coalesce, IS NULL, =) costs
 * SQLite more than the test here.  0/-1.
 */
static int
add_row(struct live *lv, sqlite3_stmt *s)
{
	struct hold_row *r;
	const unsigned char *how;

	if (grow(&lv->v, &lv->cap, lv->n, sizeof(*lv->v)))
		return -1;
	r = &lv->v[lv->n++];
	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(s, 0);
	r->h.snapshot_id = sqlite3_column_int64(s, 1);
	db_col_text(s, 2, r->h.channel, sizeof(r->h.channel));
	r->h.rung = sqlite3_column_int(s, 3);
	r->h.promoted_at = (time_t)sqlite3_column_int64(s, 4);
	r->open = sqlite3_column_type(s, 5) == SQLITE_NULL;
	r->h.left_at = (time_t)sqlite3_column_int64(s, 5);
	how = sqlite3_column_text(s, 6);
	r->h.demoted = how != NULL && strcmp((const char *)how, "demoted") == 0;
	return 0;
}

/*
 * An entry of the walk or a channel's holder (db_each_row): kept; when
 * it is open (left_at NULL) its snapshot holds the channel, and every
 * entry of it is wanted.  0/-1.
 */
static int
row_holder(void *ctx, sqlite3_stmt *s)
{
	struct live *lv = ctx;

	if (add_row(lv, s))
		return -1;
	if (lv->v[lv->n - 1].open)
		return want_id(lv, lv->v[lv->n - 1].h.snapshot_id);
	return 0;
}

/* An active snapshot's id (db_each_row): its entries wanted. */
static int
row_active(void *ctx, sqlite3_stmt *s)
{
	return want_id(ctx, sqlite3_column_int64(s, 0));
}

/* An entry member_sql let through (db_each_row): kept if it is wanted
 * (${lv}->want sorted by then). */
static int
row_member(void *ctx, sqlite3_stmt *s)
{
	struct live *lv = ctx;
	int64_t snap = sqlite3_column_int64(s, 1);

	if (bsearch(&snap, lv->want, lv->nwant, sizeof(snap), cmp_id) == NULL)
		return 0;
	return add_row(lv, s);
}

/*
 * An entry of the walk (db_each_row), newest first, channel by channel:
 * kept; 1 (stop) once it is the ${window}-th distinct snapshot not
 * demoted of its channel, keep_promoted's generations, so that the walk
 * goes on from the channel before.
 */
static int
row_walk(void *ctx, sqlite3_stmt *s)
{
	struct live *lv = ctx;
	struct walk_channel *c;
	const struct channel_hold *h;
	int dup = 0;

	if (lv->nch == 0 ||
	    strcmp((const char *)sqlite3_column_text(s, 2),
	        lv->ch[lv->nch - 1].name) != 0) {
		if (grow(&lv->ch, &lv->capch, lv->nch, sizeof(*lv->ch)))
			return -1;
		c = &lv->ch[lv->nch++];
		db_col_text(s, 2, c->name, sizeof(c->name));
		c->held = 0;
		lv->nseen = 0;
	}
	c = &lv->ch[lv->nch - 1];
	if (row_holder(lv, s))
		return -1;
	h = &lv->v[lv->n - 1].h;
	if (lv->v[lv->n - 1].open)
		c->held = 1;
	if (h->demoted)
		return 0;
	for (int k = 0; k < lv->nseen && !dup; k++)
		dup = lv->seen[k] == h->snapshot_id;
	if (!dup)
		lv->seen[lv->nseen++] = h->snapshot_id;
	return lv->nseen >= lv->window;
}

/* Bits of member_sql's filter: an id's bit is (id - least) % 61. */
#define MEMBER_BITS 61
#define STR(x) #x
#define XSTR(x) STR(x)

/*
 * db_ladder_holds_live's statements, none building a temporary b-tree
 * (test_db_ladder.c keeps their plans).  It used to return every entry
 * of the pool from snapshot_channels_by_pool, about 110 a pool after a
 * year and two more a promotion forever, and choose here: 357 M of a
 * 1,000-pool run's 1,278 M instructions on the yearrun bench's year
 * store (callgrind), about 2,700 a row returned.  Now:
 *
 *   walk_sql, walk_before_sql  each channel's entries newest first, from
 *             the end of the pool's range of snapshot_channels_by_pool
 *             backwards; row_walk stops once the channel's window is read
 *             and the walk seeks again to the channel before it.
 *   holder_sql  a channel's holder (snapshot_channels_holder) when the
 *             walk did not read it: a holder older than the window.
 *   active_sql  the pool's active snapshots' ids (snapshots_by_pool_state).
 *   member_sql  the entries of the active snapshots and the holders, from
 *             the same index page or two: those of snapshots from the
 *             least of them on (ids grow with creation: the entries of
 *             the snapshots retention deleted before the oldest kept are
 *             stepped over, not returned), and of those only the ones
 *             whose bit ((snapshot_id - least) % 61) is set in ?3, the
 *             wanted snapshots' bits: a filter of one hash, which lets
 *             through every wanted entry and a few others that
 *             row_member drops.  Year store: 26 rows returned a pool of
 *             110, not 46 (the bound alone) nor 110.
 *
 * Same run: 211 M; 132 M on the present store, where the old reading
 * cost 104 M (the walk's seeks).  The active snapshots' entries are not
 * found by snapshot (snapshot_channels_by_snapshot): a seek and a table
 * row each, on pages a year apart, cost more than this index's page of
 * every entry (a version that did spent 329 M in that statement alone,
 * page-cache misses mostly).  Nor bounded by the snapshots' creation,
 * which a run --as-of a past time may precede with its promotion.  The
 * filter needs no assumption: every wanted id is at least the least of
 * them, and its bit is set; the difference is exact while the ids are
 * SQLite's rowids (1 and up).
 */
#define LIVE_COLS                                                              \
	"SELECT c.id, c.snapshot_id, c.channel, c.rung, c.promoted_at, "       \
	"c.left_at, c.left_how FROM snapshot_channels c "
#define BY_POOL LIVE_COLS "INDEXED BY snapshot_channels_by_pool "
#define WALK_ORDER " ORDER BY c.channel DESC, c.promoted_at DESC, c.id DESC"
static const char walk_sql[] = BY_POOL "WHERE c.pool_id = ?1" WALK_ORDER;
static const char walk_before_sql[] =
    BY_POOL "WHERE c.pool_id = ?1 AND c.channel < ?2" WALK_ORDER;
static const char holder_sql[] =
    LIVE_COLS "INDEXED BY snapshot_channels_holder WHERE c.pool_id = ?1 "
              "AND c.channel = ?2 AND c.left_at IS NULL";
static const char active_sql[] =
    "SELECT id FROM snapshots WHERE pool_id = ?1 AND state = 'active'";
static const char member_sql[] =
    BY_POOL "WHERE c.pool_id = ?1 AND c.snapshot_id >= ?2 AND "
            "(?3 >> ((c.snapshot_id - ?2) % " XSTR(MEMBER_BITS) ")) & 1";

/*
 * Read into ${lv} each channel's newest entries (row_walk), the holder of
 * each channel the walk did not read it of, and every entry of the
 * holders and the active snapshots (member_sql).  0/-1.
 */
static int
gather(struct db *db, int64_t pool_id, struct live *lv)
{
	static const char what[] = "list a pool's channels";
	uint64_t bits = 0;
	size_t k = 0;
	int rc;

	rc = db_each_row(
	    db, walk_sql, what, DB_ARGS(DB_INT(pool_id)), row_walk, lv);
	while (rc == 1)
		rc = db_each_row(db, walk_before_sql, what,
		    DB_ARGS(DB_INT(pool_id), DB_TEXT(lv->ch[lv->nch - 1].name)),
		    row_walk, lv);
	/* no entry at all: no snapshot of the pool has any */
	if (rc < 0 || lv->n == 0)
		return rc;
	for (size_t i = 0; i < lv->nch; i++)
		if (!lv->ch[i].held &&
		    db_each_row(db, holder_sql, what,
		        DB_ARGS(DB_INT(pool_id), DB_TEXT(lv->ch[i].name)),
		        row_holder, lv) < 0)
			return -1;
	if (db_each_row(db, active_sql, what, DB_ARGS(DB_INT(pool_id)),
	        row_active, lv) < 0)
		return -1;
	if (lv->nwant == 0)
		return 0;
	qsort(lv->want, lv->nwant, sizeof(*lv->want), cmp_id);
	for (size_t i = 0; i < lv->nwant; i++)
		if (i == 0 || lv->want[i] != lv->want[k - 1])
			lv->want[k++] = lv->want[i];
	lv->nwant = k;
	for (size_t i = 0; i < lv->nwant; i++)
		bits |= UINT64_C(1)
		    << ((uint64_t)lv->want[i] - (uint64_t)lv->want[0]) %
		        MEMBER_BITS;
	return db_each_row(db, member_sql, what,
	    DB_ARGS(DB_INT(pool_id), DB_INT(lv->want[0]), DB_INT(bits)),
	    row_member, lv);
}

int
db_ladder_holds_live(struct db *db, int64_t pool_id, int window,
    struct channel_hold **out, size_t *n)
{
	struct live lv;
	size_t k = 0;
	int rc = -1;

	*out = NULL;
	*n = 0;
	memset(&lv, 0, sizeof(lv));
	lv.window = window < 1             ? 1
	    : window > LIMIT_KEEP_PROMOTED ? LIMIT_KEEP_PROMOTED
	                                   : window;
	if (gather(db, pool_id, &lv))
		goto done;
	/* oldest first, each entry once */
	if (lv.n > 1)
		qsort(lv.v, lv.n, sizeof(*lv.v), cmp_hold_row);
	*out = calloc(lv.n + 1, sizeof(**out));
	if (*out == NULL)
		goto done;
	for (size_t i = 0; i < lv.n; i++)
		if (i == 0 || lv.v[i].id != lv.v[i - 1].id)
			(*out)[k++] = lv.v[i].h;
	*n = k;
	rc = 0;
done:
	free(lv.v);
	free(lv.ch);
	free(lv.want);
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
	} queries[] = {{"walk", walk_sql}, {"walk_before", walk_before_sql},
	    {"holder", holder_sql}, {"active", active_sql},
	    {"member", member_sql}};

	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++)
		if (strcmp(name, queries[i].name) == 0)
			return db_explain(db, queries[i].sql, buf, len);
	log_err(NULL, "no ladder query named %s", name);
	return -1;
}
