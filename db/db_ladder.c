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

/* The statement of ${sql} (db_stmt), ${n} values bound (int64, or text where
 * ${texts}[i]). */
static sqlite3_stmt *
prep(struct db *db, const char *what, const char *sql, int n,
    const int64_t *ints, const char *const *texts)
{
	sqlite3_stmt *s = db_stmt(db, sql, what);

	if (s == NULL)
		return NULL;
	for (int i = 0; i < n; i++) {
		int rc = texts != NULL && texts[i] != NULL
		    ? sqlite3_bind_text(s, i + 1, texts[i], -1, SQLITE_STATIC)
		    : sqlite3_bind_int64(s, i + 1, ints[i]);

		if (rc != SQLITE_OK) {
			db_fail(db, what);
			db_stmt_done(db, s);
			return NULL;
		}
	}
	return s;
}

/* Run a statement without rows.  0/-1. */
static int
exec(struct db *db, const char *what, const char *sql, int n,
    const int64_t *ints, const char *const *texts)
{
	sqlite3_stmt *s = prep(db, what, sql, n, ints, texts);
	int rc;

	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	db_stmt_done(db, s);
	if (rc != SQLITE_DONE)
		return db_fail(db, what);
	return 0;
}

/* The snapshot row's view of its channels, from snapshot_channels. */
static int
refresh(struct db *db, int64_t snap_id)
{
	const int64_t a[] = {snap_id, util_now()};

	return exec(db, "refresh a snapshot's channels",
	    "UPDATE snapshots SET "
	    "channel = (SELECT group_concat(channel, ',') FROM (SELECT "
	    "channel FROM snapshot_channels WHERE snapshot_id = ?1 AND "
	    "left_at IS NULL ORDER BY rung, promoted_at, id)), "
	    "promoted_at = (SELECT max(promoted_at) FROM snapshot_channels "
	    "WHERE snapshot_id = ?1), "
	    "demoted_at = (SELECT max(left_at) FROM snapshot_channels "
	    "WHERE snapshot_id = ?1), updated_at = ?2 WHERE id = ?1",
	    2, a, NULL);
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

int
db_ladder_holds(
    struct db *db, int64_t pool_id, struct channel_hold **out, size_t *n)
{
	const int64_t a[] = {pool_id};
	struct channel_hold *v = NULL;
	sqlite3_stmt *s;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	s = prep(db, "list a pool's channel history",
	    "SELECT snapshot_id, channel, rung, promoted_at, "
	    "coalesce(left_at, 0), left_how = 'demoted' FROM snapshot_channels "
	    "WHERE pool_id = ?1 ORDER BY promoted_at, id",
	    1, a, NULL);
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct channel_hold *h;

		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct channel_hold *nv =
			    realloc(v, ncap * sizeof(*nv));

			if (nv == NULL)
				goto oom;
			v = nv;
			cap = ncap;
		}
		h = &v[(*n)++];
		memset(h, 0, sizeof(*h));
		h->snapshot_id = sqlite3_column_int64(s, 0);
		db_col_text(s, 1, h->channel, sizeof(h->channel));
		h->rung = sqlite3_column_int(s, 2);
		h->promoted_at = (time_t)sqlite3_column_int64(s, 3);
		h->left_at = (time_t)sqlite3_column_int64(s, 4);
		h->demoted = sqlite3_column_int(s, 5);
	}
	db_stmt_done(db, s);
	if (rc != SQLITE_DONE) {
		free(v);
		*n = 0;
		return db_fail(db, "list a pool's channel history");
	}
	*out = v;
	return 0;
oom:
	db_stmt_done(db, s);
	free(v);
	*n = 0;
	return -1;
}

/* A row of snapshot_channels as the holds queries select it. */
struct hold_row {
	int64_t id;
	struct channel_hold h;
};

#define HOLD_COLS                                                              \
	"SELECT id, snapshot_id, channel, rung, promoted_at, "                 \
	"coalesce(left_at, 0), left_how = 'demoted' FROM snapshot_channels "

/* Append the rows of ${s} to ${*v}, at most ${stop} distinct snapshots
 * not demoted (0: every row).  0/-1. */
static int
add_rows(struct db *db, sqlite3_stmt *s, int stop, struct hold_row **v,
    size_t *n, size_t *cap)
{
	int64_t seen[LIMIT_KEEP_PROMOTED];
	int nseen = 0, rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct hold_row *r;
		int dup = 0;

		if (*n == *cap) {
			size_t ncap = *cap ? *cap * 2 : 16;
			struct hold_row *nv = realloc(*v, ncap * sizeof(*nv));

			if (nv == NULL)
				return -1;
			*v = nv;
			*cap = ncap;
		}
		r = &(*v)[(*n)++];
		memset(r, 0, sizeof(*r));
		r->id = sqlite3_column_int64(s, 0);
		r->h.snapshot_id = sqlite3_column_int64(s, 1);
		db_col_text(s, 2, r->h.channel, sizeof(r->h.channel));
		r->h.rung = sqlite3_column_int(s, 3);
		r->h.promoted_at = (time_t)sqlite3_column_int64(s, 4);
		r->h.left_at = (time_t)sqlite3_column_int64(s, 5);
		r->h.demoted = sqlite3_column_int(s, 6);
		if (stop == 0 || r->h.demoted)
			continue;
		for (int k = 0; k < nseen && !dup; k++)
			dup = seen[k] == r->h.snapshot_id;
		if (!dup)
			seen[nseen++] = r->h.snapshot_id;
		if (nseen >= stop)
			return 0;
	}
	return rc == SQLITE_DONE ? 0 : db_fail(db, "list a pool's channels");
}

static int
cmp_hold_row(const void *a, const void *b)
{
	const struct hold_row *x = a, *y = b;

	if (x->h.promoted_at != y->h.promoted_at)
		return x->h.promoted_at < y->h.promoted_at ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

int
db_ladder_holds_live(struct db *db, int64_t pool_id, int window,
    struct channel_hold **out, size_t *n)
{
	const int64_t a[] = {pool_id};
	struct hold_row *v = NULL;
	sqlite3_stmt *rows = NULL, *next = NULL, *last = NULL;
	size_t nv = 0, cap = 0, k = 0;
	char channel[64] = "";
	int rc = -1;

	*out = NULL;
	*n = 0;
	if (window < 1)
		window = 1;
	if (window > LIMIT_KEEP_PROMOTED)
		window = LIMIT_KEEP_PROMOTED;
	/* every entry of the active snapshots and of the holders */
	rows = prep(db, "list a pool's channels",
	    HOLD_COLS "WHERE snapshot_id IN (SELECT id FROM snapshots WHERE "
	              "pool_id = ?1 AND state = 'active' UNION SELECT "
	              "snapshot_id FROM snapshot_channels INDEXED BY "
	              "snapshot_channels_holder WHERE pool_id = ?1 AND left_at "
	              "IS NULL)",
	    1, a, NULL);
	next = prep(db, "list a pool's channels",
	    "SELECT min(channel) FROM snapshot_channels WHERE pool_id = ?1 "
	    "AND channel > ?2",
	    0, NULL, NULL);
	last = prep(db, "list a pool's channels",
	    HOLD_COLS "WHERE pool_id = ?1 AND channel = ?2 "
	              "ORDER BY promoted_at DESC, id DESC",
	    0, NULL, NULL);
	if (rows == NULL || next == NULL || last == NULL)
		goto done;
	if (add_rows(db, rows, 0, &v, &nv, &cap))
		goto done;
	/* each channel ever held, its newest entries (keep_promoted) */
	for (;;) {
		const unsigned char *c;

		sqlite3_reset(next);
		if (sqlite3_bind_int64(next, 1, pool_id) != SQLITE_OK ||
		    sqlite3_bind_text(next, 2, channel, -1, SQLITE_TRANSIENT) !=
		        SQLITE_OK ||
		    sqlite3_step(next) != SQLITE_ROW) {
			db_fail(db, "list a pool's channels");
			goto done;
		}
		c = sqlite3_column_text(next, 0);
		if (c == NULL)
			break;
		util_strlcpy(channel, (const char *)c, sizeof(channel));
		sqlite3_reset(last);
		if (sqlite3_bind_int64(last, 1, pool_id) != SQLITE_OK ||
		    sqlite3_bind_text(last, 2, channel, -1, SQLITE_STATIC) !=
		        SQLITE_OK) {
			db_fail(db, "list a pool's channels");
			goto done;
		}
		if (add_rows(db, last, window, &v, &nv, &cap))
			goto done;
	}
	/* oldest first, each row once */
	if (nv > 1)
		qsort(v, nv, sizeof(*v), cmp_hold_row);
	*out = calloc(nv + 1, sizeof(**out));
	if (*out == NULL)
		goto done;
	for (size_t i = 0; i < nv; i++)
		if (i == 0 || v[i].id != v[i - 1].id)
			(*out)[k++] = v[i].h;
	*n = k;
	rc = 0;
done:
	db_stmt_done(db, rows);
	db_stmt_done(db, next);
	db_stmt_done(db, last);
	free(v);
	if (rc != 0 && *out != NULL) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

int
db_ladder_enter(
    struct db *db, int64_t snap_id, const char *channel, int rung, time_t at)
{
	const int64_t a[] = {snap_id, 0, at, rung};
	const char *const t[] = {NULL, channel, NULL, NULL};
	sqlite3_stmt *s;
	int64_t old = 0;
	int rc;

	if (savepoint(db, "SAVEPOINT"))
		return -1;
	/* The pool's holder now (maybe ${snap_id} itself). */
	s = prep(db, "find a channel's holder",
	    "SELECT h.snapshot_id, x.pool_id FROM snapshots x "
	    "LEFT JOIN snapshot_channels h ON h.pool_id = x.pool_id AND "
	    "h.channel = ?2 AND h.left_at IS NULL WHERE x.id = ?1",
	    2, a, t);
	if (s == NULL)
		return undo(db);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		old = sqlite3_column_int64(s, 0);
	db_stmt_done(db, s);
	if (rc != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			log_err(NULL, "no snapshot %lld to promote",
			    (long long)snap_id);
		else
			db_fail(db, "find a channel's holder");
		return undo(db);
	}
	if (old == snap_id)
		return savepoint(db, "RELEASE");
	if (old != 0 &&
	    (exec(db, "replace a channel's holder",
	         "UPDATE snapshot_channels SET left_at = ?3, left_how = "
	         "'replaced' WHERE snapshot_id = ?1 AND channel = ?2 AND "
	         "left_at IS NULL",
	         3, (const int64_t[]){old, 0, at}, t) ||
	        refresh(db, old)))
		return undo(db);
	if (exec(db, "record a promotion",
	        "INSERT INTO snapshot_channels (pool_id, snapshot_id, channel, "
	        "rung, promoted_at) SELECT pool_id, ?1, ?2, ?4, ?3 FROM "
	        "snapshots WHERE id = ?1",
	        4, a, t) ||
	    refresh(db, snap_id))
		return undo(db);
	return savepoint(db, "RELEASE");
}

int
db_ladder_leave(
    struct db *db, int64_t snap_id, const char *channel, time_t at, int by_hand)
{
	const int64_t a[] = {snap_id, at, 0};
	const char *const t[] = {NULL, NULL, channel};
	const char *how = by_hand ? "demoted" : "replaced";
	char sql[256];

	snprintf(sql, sizeof(sql),
	    "UPDATE snapshot_channels SET left_at = ?2, left_how = '%s' "
	    "WHERE snapshot_id = ?1 AND left_at IS NULL%s",
	    how, channel != NULL ? " AND channel = ?3" : "");
	if (savepoint(db, "SAVEPOINT"))
		return -1;
	if (exec(db, "record a demotion", sql, channel != NULL ? 3 : 2, a, t) ||
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
		const int64_t a[] = {snap_id, 0, at, rung};
		const char *const t[] = {NULL, ch, NULL, NULL};

		if (len > 0 && len < sizeof(ch)) {
			memcpy(ch, q, len);
			ch[len] = '\0';
			if (exec(db, "adopt a channel",
			        "INSERT OR IGNORE INTO snapshot_channels "
			        "(pool_id, "
			        "snapshot_id, channel, rung, promoted_at) "
			        "SELECT "
			        "pool_id, ?1, ?2, ?4, ?3 FROM snapshots WHERE "
			        "id "
			        "= ?1",
			        4, a, t))
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
