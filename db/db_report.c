/*
 * db_report.c -- the queries of `aksnap report` (db_report.h).
 *
 * The report reads its pools' summary and then their rows.  The summary
 * (db_report_sums) is a statement, and one a channel, over every pool at
 * once, the pools bound as one JSON array (json_each), not four
 * statements a pool (at 10,000 pools, 40,000 statements, each bound,
 * stepped and reset); its counts read no decision row (0021); and the
 * marks that nearly no pool has (open promotions and failures, failures)
 * are read in one scan each of their small indexes for the whole fleet,
 * not sought pool by pool (sums_marks).  The
 * rows (the events themselves) are read pool after pool, over every
 * configured pool, by one statement prepared once per report, in struct
 * db_report, and reset between pools.  struct db_report also holds a
 * read transaction from its open to its close, so that the summary and
 * the rows read later are of one state of the store.  The others run
 * once a report, on statements from the connection's cache (db_stmt).
 * Each per-pool question is a seek of an index: observations by
 * (pool_id, time); the marks and counts by the partial indexes of 0021
 * (decisions_marks_by_pool_time, decisions_promotions_by_pool_time,
 * decisions_failures_by_pool_time), whose WHEREs the queries repeat word
 * for word so that SQLite can use them; the one-action indexes are their
 * own counts, without reading a decision's row.  Observation rows are read
 * with db.c's own column list and reader, so fields that db.c learns
 * (the upgrade channels, who changed a version) reach the report without
 * a change here.
 */
#include "db/db_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_channels.h"
#include "db/db_internal.h"
#include "job/base/log.h"
#include "job/base/util.h"

/* The actions a timeline marks (db_report_event's). */
#define EVENT_ACTIONS                                                          \
	"action IN ('create', 'promote', 'demote', 'delete', 'pin', "          \
	"'unpin', 'fail', 'missing', 'adopt')"

/* Those of decisions_marks_by_pool_time's WHERE (0021): every one but
 * promotions and failures, which have an index each. */
#define MARK_ACTIONS                                                           \
	"action IN ('create', 'demote', 'delete', 'pin', 'unpin', "            \
	"'missing', 'adopt')"

/*
 * The journal entries a timeline marks, of one pool, since a time: the
 * rows of decision_rows, not of the view decisions.  The view's columns
 * the marks show are the row's own (at, action, snapshot, run), but
 * for the reasons, which it puts together a row at a time (decision_texts'
 * text, the pool's key read again for its char(1)s, replace()) and the
 * ends of the open ranges, which only choose the rows: here the text is
 * read once by its id (a report reads a few hundred texts for 263,000
 * marks at 10,000 pools) and the key put in by events_reasons, and the
 * run's mode once a run (it was a seek of runs a mark).  The rows come
 * from each partial index's seek and the pool's open ranges (0018) in
 * turn, UNION ALL, an open range left out when its row is a closed arm's
 * (what IN counted once before), unsorted: db_report_events sorts the
 * pool's few rows by time and id itself, where SQLite built an IN list
 * and a sorter a pool.  5.7 G -> 2.5 G instructions of report --json on
 * the year's store.
 */
#define EVENT_COLS                                                             \
	"SELECT d.id, d.snapshot_id, d.run_id, d.at, d.action, s.name, "       \
	"s.created_at, d.reasons, d.reasons_id, d.pool_id "
#define EVENT_SNAP "LEFT JOIN snapshots s ON s.id = d.snapshot_id "
#define EVENT_CLOSED(where)                                                    \
	EVENT_COLS "FROM decision_rows d " EVENT_SNAP "WHERE d.pool_id = ?1 "  \
	           "AND d.last_at >= ?2 AND d." where
/* The pool's open ranges of those actions reaching ?2 (0018), but those
 * whose rows an EVENT_CLOSED gives: a row comes once. */
#define EVENT_OPEN                                                             \
	EVENT_COLS                                                             \
	"FROM decision_open o "                                                \
	"JOIN decision_rows d ON d.id = o.decision_id " EVENT_SNAP             \
	"WHERE o.pool_id = ?1 AND o.last_at >= ?2 AND o." EVENT_ACTIONS        \
	" AND NOT (d.pool_id = ?1 AND d.last_at >= ?2 "                        \
	"AND d." EVENT_ACTIONS ")"
#define EVENT_PROMOTED EVENT_CLOSED("action = 'promote'")
#define EVENT_FAILED EVENT_CLOSED("action = 'fail'")
static const char events_sql[] =
    EVENT_CLOSED(MARK_ACTIONS) " UNION ALL " EVENT_PROMOTED
                               " UNION ALL " EVENT_FAILED
                               " UNION ALL " EVENT_OPEN;

/* A decision text by its id, and a run's mode (events' caches' misses). */
static const char text_sql[] = "SELECT text FROM decision_texts WHERE id = ?1";
static const char mode_sql[] = "SELECT mode FROM runs WHERE id = ?1";

/* A pool's active snapshots counted, and its pinned ones, from the
 * covering index snapshots_active_rows (0019): no row read. */
static const char snap_counts_sql[] =
    "SELECT count(*), coalesce(sum(pinned <> 0), 0) FROM snapshots "
    "WHERE pool_id = ?1 AND state = 'active'";

/*
 * The summary's statements (db_report_sums), over the pools of ?1: a
 * JSON array of ids, ascending.  The newest observation of each (as
 * pool_present names it: 0024), the rows in the table's order (the IN
 * list is sorted: each page read once, where the pools' order read a
 * page a pool).
 */
/*
 * The same of every pool the store holds, for a report of most of them:
 * pool_present (a row a pool) in its order, each observation sought by
 * its id, where the JSON's IN list was built into a temporary index
 * first (21 M of its 56 M instructions at 10,000 pools).  The newest
 * observations of the pools a run changed are written in pool order (a
 * run goes through its pools by id), so the pool order reads them as a
 * few runs' ascending streams, each page about once as the sorted list
 * did: 346 pages either way on the year's store.  Pools not asked for
 * are passed over (sums_step).
 */
static const char sum_live_all_sql[] =
    "SELECT p.pool_id, o.provisioning_state, o.node_image_version, "
    "o.kubernetes_version, o.upgrade_channel, o.node_os_channel "
    "FROM pool_present p CROSS JOIN observations o ON o.id = p.obs_id";
/* The highest pool id of the store (at least the number of its pools):
 * sum_live_all_sql is for reports of at least a quarter of it. */
static const char sum_live_max_sql[] =
    "SELECT coalesce(max(pool_id), 0) FROM pool_present";

static const char sum_live_sql[] =
    "SELECT o.pool_id, o.provisioning_state, o.node_image_version, "
    "o.kubernetes_version, o.upgrade_channel, o.node_os_channel "
    "FROM observations o WHERE o.id IN (SELECT present.obs_id "
    "FROM json_each(?1) j JOIN pool_present present "
    "ON present.pool_id = j.value)";

/*
 * A closed count: pool j's decisions of one action whose range reaches ?2
 * or later, on that action's partial index (0021), ${where} its WHERE:
 * the index is the count (SQLite never reads a row for it).
 */
#define SUM_CLOSED(where)                                                      \
	"(SELECT count(*) FROM decision_rows WHERE pool_id = j.value "         \
	"AND last_at >= ?2 AND " where ")"

/*
 * The marks the pools' rows do not count, read once for the whole fleet
 * (sums_marks), where a subquery a pool sought each pool's entries of an
 * index that holds none for nearly every pool (two seeks a pool: 53 M of
 * 389 M instructions at 10,000 pools):
 *
 * The open promotions and failures (0018) whose closed rows end before
 * ?1 (else SUM_CLOSED would count them): decision_open_marks (0029)
 * holds the open promotions and failures alone, at most one a pool's
 * subject, so its scan is bounded by what the store holds now, not by
 * its age.  A row: the pool, and 1 for a promotion, 0 for a failure.
 */
static const char sum_open_sql[] =
    "SELECT x.pool_id, x.action = 'promote' FROM decision_open x "
    "JOIN decision_rows d ON d.id = x.decision_id "
    "WHERE x.action IN ('promote', 'fail') AND x.pool_id BETWEEN ?2 AND ?3 "
    "AND x.last_at >= ?1 AND d.last_at < ?1";

/*
 * The failures: every entry of decisions_failures_by_pool_time (0021)
 * in pool order, and whether its range reaches ?1, up to ?2 entries.  A
 * failure is rare (a pool's same failure again extends its row), so the
 * index is a few rows a pool at most; a store whose index holds more
 * than SUM_FAILED_SCAN_MAX(n) for n pools has them counted a pool at a
 * time again (SUM_FAILED in the pools' statement), where a seek a pool
 * costs less than the scan.
 */
static const char sum_failed_sql[] =
    "SELECT pool_id, last_at >= ?1 FROM decision_rows "
    "WHERE action = 'fail' AND pool_id BETWEEN ?3 AND ?4 LIMIT ?2";
#define SUM_FAILED_SCAN_MAX(n) (8 * (n) + 256)

/*
 * A row a pool of channel ?3: the snapshot holding it
 * (snapshot_channels_holder), and the pool's promotions since ?2
 * (db_report_events' entries, closed: the open ones are sum_open_sql's),
 * and its failures: closed ones when sum_failed_sql gave up, else 0.
 * Run once a channel, over that channel's pools.
 */
#define SUM_PROMOTED SUM_CLOSED("action = 'promote'")
#define SUM_FAILED SUM_CLOSED("action = 'fail'")
#define SUM_POOLS(failed)                                                      \
	"SELECT j.value, s.state, s.created_at, s.node_image_version, "        \
	"s.kubernetes_version, " SUM_PROMOTED ", " failed " "                  \
	"FROM json_each(?1) j LEFT JOIN snapshot_channels h "                  \
	"ON h.pool_id = j.value AND h.channel = ?3 "                           \
	"AND h.left_at IS NULL LEFT JOIN snapshots s ON s.id = h.snapshot_id"
static const char sum_pools_sql[] = SUM_POOLS("0");
static const char sum_pools_failed_sql[] = SUM_POOLS(SUM_FAILED);

/* The runs since a time. */
static const char runs_sql[] =
    "SELECT id, started_at, finished_at, as_of, mode, exit_code, "
    "observed, taken, skipped, deleted, promoted, failed FROM runs "
    "WHERE as_of >= ?1 ORDER BY as_of, id";

/* The time the store speaks for: the newest as_of first, down
 * runs_by_as_of to the first scheduled run (max(as_of) ... WHERE mode =
 * 'run' read every run of the year through runs_by_mode). */
static const char as_of_sql[] =
    "SELECT coalesce((SELECT as_of FROM runs WHERE +mode = 'run' "
    "ORDER BY as_of DESC LIMIT 1), (SELECT max(as_of) FROM runs), 0)";

int
db_report_as_of(struct db *db, time_t *out)
{
	int64_t v = 0;

	*out = 0;
	if (db_get_one(db, as_of_sql, "report: as of", DB_NO_ARGS, db_row_int64,
	        &v) != 1)
		return -1;
	*out = (time_t)v;
	return 0;
}

int
db_report_observation_before(
    struct db *db, int64_t pool_id, time_t at, struct db_observation *out)
{
	/* times are whole seconds: strictly before ${at} is at or before
	 * the second before it */
	return db_observation_at(db, pool_id, at - 1, out);
}

/*
 * The texts and runs' modes the events name, each read once a report,
 * in direct-mapped caches by id: bounded whatever the store's age (a
 * text that is not there, a run that is not, is "", as the view's
 * coalesce and LEFT JOIN read them).
 */
#define TEXT_SLOTS 256
#define MODE_SLOTS 1024

struct text_slot {
	int64_t id;
	char *text; /* NULL: empty slot */
};

struct mode_slot {
	int64_t id;
	int set;
	char mode[16];
};

/* An events row, kept until the pool's rows are sorted. */
struct event_row {
	int64_t id;
	struct db_report_event e;
};

struct db_report {
	struct db *db;
	sqlite3_stmt *events, *text, *mode, *snap_counts;
	struct event_row *rows; /* a pool's, reused from pool to pool */
	size_t cap;
	struct text_slot *texts; /* TEXT_SLOTS, MODE_SLOTS: allocated */
	struct mode_slot *modes; /* when first used, as the statements */
};

int
db_report_open(struct db *db, struct db_report **out)
{
	struct db_report *q;

	*out = NULL;
	q = calloc(1, sizeof(*q));
	if (q == NULL) {
		log_err(NULL, "report: out of memory");
		return -1;
	}
	q->db = db;
	/* one read transaction: every pass over the pools sees the same
	 * store, whatever a run writes meanwhile (WAL) */
	if (sqlite3_exec(db_sqlite(db), "BEGIN", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		db_fail(db, "report: begin");
		free(q);
		return -1;
	}
	*out = q;
	return 0;
}

void
db_report_close(struct db_report *q)
{
	if (q == NULL)
		return;
	sqlite3_finalize(q->events);
	sqlite3_finalize(q->text);
	sqlite3_finalize(q->mode);
	sqlite3_finalize(q->snap_counts);
	for (size_t i = 0; q->texts != NULL && i < TEXT_SLOTS; i++)
		free(q->texts[i].text);
	free(q->texts);
	free(q->modes);
	free(q->rows);
	if (!sqlite3_get_autocommit(db_sqlite(q->db)))
		(void)sqlite3_exec(
		    db_sqlite(q->db), "COMMIT", NULL, NULL, NULL);
	free(q);
}

/* Bind a pool and a time to ${s}, reset.  0, or -1 (logged). */
static int
bind_pool_since(struct db_report *q, sqlite3_stmt *s, int64_t pool_id,
    time_t since, const char *what)
{
	sqlite3_reset(s);
	if (sqlite3_bind_int64(s, 1, pool_id) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, (sqlite3_int64)since) != SQLITE_OK)
		return db_fail(q->db, what);
	return 0;
}

/* Statement ${*s} of ${sql}, prepared when first asked for (a report
 * that writes only its summary prepares none).  NULL on error (logged). */
static sqlite3_stmt *
lazy(struct db_report *q, sqlite3_stmt **s, const char *sql, const char *what)
{
	if (*s == NULL)
		*s = db_prepare(q->db, sql, what);
	return *s;
}

/* A cache's ${n} slots of ${size} bytes, allocated when first asked
 * for.  NULL when out of memory (logged). */
static void *
slots(void **p, size_t n, size_t size)
{
	if (*p == NULL) {
		*p = calloc(n, size);
		if (*p == NULL)
			log_err(NULL, "report: out of memory");
	}
	return *p;
}

/* Step ${s}, bound to ${id}, to its one text column into ${*out} (a
 * copy; "" when no row or NULL).  0/-1. */
static int
lookup_text(struct db_report *q, sqlite3_stmt *s, int64_t id, char **out)
{
	const unsigned char *t = NULL;
	int rc;

	*out = NULL;
	sqlite3_reset(s);
	if (sqlite3_bind_int64(s, 1, id) != SQLITE_OK)
		return db_fail(q->db, "report: events");
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		t = sqlite3_column_text(s, 0);
	else if (rc != SQLITE_DONE)
		return db_fail(q->db, "report: events");
	*out = strdup(t != NULL ? (const char *)t : "");
	sqlite3_reset(s);
	if (*out == NULL) {
		log_err(NULL, "report: out of memory");
		return -1;
	}
	return 0;
}

/* Decision text ${id} (cached).  NULL on error (logged). */
static const char *
events_text(struct db_report *q, int64_t id)
{
	struct text_slot *t;
	char *text;

	if (slots((void **)&q->texts, TEXT_SLOTS, sizeof(*t)) == NULL ||
	    lazy(q, &q->text, text_sql, "report: events") == NULL)
		return NULL;
	t = &q->texts[(uint64_t)id % TEXT_SLOTS];
	if (t->text != NULL && t->id == id)
		return t->text;
	if (lookup_text(q, q->text, id, &text))
		return NULL;
	free(t->text);
	t->id = id;
	t->text = text;
	return text;
}

/* Run ${id}'s mode into ${dst} (cached).  0/-1. */
static int
events_mode(struct db_report *q, int64_t id, char *dst, size_t size)
{
	struct mode_slot *m;
	char *mode;

	if (slots((void **)&q->modes, MODE_SLOTS, sizeof(*m)) == NULL ||
	    lazy(q, &q->mode, mode_sql, "report: events") == NULL)
		return -1;
	m = &q->modes[(uint64_t)id % MODE_SLOTS];
	if (!m->set || m->id != id) {
		if (lookup_text(q, q->mode, id, &mode))
			return -1;
		util_strlcpy(m->mode, mode, sizeof(m->mode));
		free(mode);
		m->id = id;
		m->set = 1;
	}
	util_strlcpy(dst, m->mode, size);
	return 0;
}

/*
 * The reasons of an events row of ${s} into ${dst} (${size} bytes,
 * truncated as db_col_text truncates), as the view decisions gives them
 * (0015): the row's own text when it has one, else its text's with each
 * char(1) the key ${key} of its pool, else "".  0/-1.
 */
static int
events_reasons(struct db_report *q, sqlite3_stmt *s, const char *key, char *dst,
    size_t size)
{
	const char *text;
	size_t len = 0, klen = strlen(key);

	if (sqlite3_column_type(s, 7) != SQLITE_NULL) {
		db_col_text(s, 7, dst, size);
		return 0;
	}
	dst[0] = '\0';
	if (sqlite3_column_type(s, 8) == SQLITE_NULL)
		return 0;
	text = events_text(q, sqlite3_column_int64(s, 8));
	if (text == NULL)
		return -1;
	/* the runs between the key's places copied whole */
	while (*text != '\0' && len + 1 < size) {
		size_t n = strcspn(text, "\1");
		const char *put = text;

		if (n == 0) { /* a char(1): the key */
			put = key;
			n = klen;
		}
		if (n > size - 1 - len)
			n = size - 1 - len;
		memcpy(dst + len, put, n);
		len += n;
		text += put == key ? 1 : n;
	}
	dst[len] = '\0';
	return 0;
}

/* Events rows by time, then id (the order the view's ORDER BY gave). */
static int
event_order(const void *va, const void *vb)
{
	const struct event_row *a = va, *b = vb;

	if (a->e.at != b->e.at)
		return a->e.at < b->e.at ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

/* Room for ${n} rows in q->rows.  0/-1 (logged). */
static int
events_room(struct db_report *q, size_t n)
{
	struct event_row *p;
	size_t cap = q->cap != 0 ? q->cap : 64;

	if (n <= q->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	p = realloc(q->rows, cap * sizeof(*p));
	if (p == NULL) {
		log_err(NULL, "report: out of memory");
		return -1;
	}
	q->rows = p;
	q->cap = cap;
	return 0;
}

int
db_report_events(struct db_report *q, int64_t pool_id, const char *key,
    time_t since, int (*cb)(void *ctx, const struct db_report_event *e),
    void *ctx)
{
	struct db_report_event *e;
	sqlite3_stmt *s = lazy(q, &q->events, events_sql, "report: events");
	size_t n = 0;
	int rc, ret = -1;

	if (s == NULL ||
	    bind_pool_since(q, s, pool_id, since, "report: events"))
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (events_room(q, n + 1))
			goto done;
		q->rows[n].id = sqlite3_column_int64(s, 0);
		e = &q->rows[n++].e;
		e->pool_id = sqlite3_column_int64(s, 9);
		e->snapshot_id = sqlite3_column_int64(s, 1);
		e->run_id = sqlite3_column_int64(s, 2);
		e->at = (time_t)sqlite3_column_int64(s, 3);
		db_col_text(s, 4, e->action, sizeof(e->action));
		db_col_text(s, 5, e->snapshot, sizeof(e->snapshot));
		e->snapshot_created = (time_t)sqlite3_column_int64(s, 6);
		if (events_reasons(q, s, key, e->reasons, sizeof(e->reasons)))
			goto done;
		e->run_mode[0] = '\0';
		if (sqlite3_column_type(s, 2) != SQLITE_NULL &&
		    events_mode(q, e->run_id, e->run_mode, sizeof(e->run_mode)))
			goto done;
	}
	if (rc != SQLITE_DONE) {
		db_fail(q->db, "report: events");
		goto done;
	}
	sqlite3_reset(s);
	qsort(q->rows, n, sizeof(*q->rows), event_order);
	for (size_t i = 0; i < n; i++)
		if (cb(ctx, &q->rows[i].e) != 0)
			break;
	ret = 0;
done:
	sqlite3_reset(s);
	return ret;
}

int
db_report_snapshot_counts(
    struct db_report *q, int64_t pool_id, size_t *n, size_t *pinned)
{
	sqlite3_stmt *s =
	    lazy(q, &q->snap_counts, snap_counts_sql, "report: snapshots");
	int rc;

	*n = *pinned = 0;
	if (s == NULL)
		return -1;
	sqlite3_reset(s);
	if (sqlite3_bind_int64(s, 1, pool_id) != SQLITE_OK)
		return db_fail(q->db, "report: snapshots");
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*n = (size_t)sqlite3_column_int64(s, 0);
		*pinned = (size_t)sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(q->db, "report: snapshots");
	return 0;
}

/* The index in ${ids} (ascending) of ${id}, or n. */
static size_t
sums_find(const int64_t *ids, size_t n, int64_t id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && ids[lo] == id ? lo : n;
}

/* Fill ${e} from a row of statement ${which}'s (after the pool id). */
static void
sums_row(int which, sqlite3_stmt *s, struct db_report_sum *e)
{
	if (which == DB_REPORT_SUM_LIVE) {
		db_col_text(s, 1, e->live.provisioning_state,
		    sizeof(e->live.provisioning_state));
		db_col_text(s, 2, e->live.v.node_image_version,
		    sizeof(e->live.v.node_image_version));
		db_col_text(s, 3, e->live.v.kubernetes_version,
		    sizeof(e->live.v.kubernetes_version));
		db_col_text(s, 4, e->live.upgrade_channel,
		    sizeof(e->live.upgrade_channel));
		db_col_text(s, 5, e->live.node_os_channel,
		    sizeof(e->live.node_os_channel));
		return;
	}
	e->have_base = sqlite3_column_type(s, 1) != SQLITE_NULL;
	db_col_text(s, 1, e->base.state, sizeof(e->base.state));
	e->base.created_at = (time_t)sqlite3_column_int64(s, 2);
	db_col_text(s, 3, e->base.v.node_image_version,
	    sizeof(e->base.v.node_image_version));
	db_col_text(s, 4, e->base.v.kubernetes_version,
	    sizeof(e->base.v.kubernetes_version));
	e->promotions = (size_t)sqlite3_column_int64(s, 5);
	e->failures = (size_t)sqlite3_column_int64(s, 6);
}

/* What sums_marks counts of a pool: its open promotions and failures,
 * and its closed failures (when scanned). */
struct sum_marks {
	size_t promotions, failures, closed_failures;
};

/*
 * The open marks and the failures since ${since} of the ${n} pools
 * ${ids} into ${m} (zeroed, n of them; other pools' rows are passed
 * over); ${*failures} 1 when the failures are counted there, 0 when the
 * index held too many to scan (the pools' statement counts them).
 * 0/-1 (logged).
 */
static int
sums_marks(struct db_report *q, time_t since, const int64_t *ids, size_t n,
    struct sum_marks *m, int *failures)
{
	sqlite3_stmt *s;
	size_t k, rows = 0, max = SUM_FAILED_SCAN_MAX(n);
	int rc;

	*failures = 0;
	s = db_prepare(q->db, sum_open_sql, "report: summary");
	if (s == NULL ||
	    sqlite3_bind_int64(s, 1, (sqlite3_int64)since) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, ids[0]) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, ids[n - 1]) != SQLITE_OK)
		goto fail;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		k = sums_find(ids, n, sqlite3_column_int64(s, 0));
		if (k == n)
			continue;
		if (sqlite3_column_int(s, 1))
			m[k].promotions++;
		else
			m[k].failures++;
	}
	if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(s);
	s = db_prepare(q->db, sum_failed_sql, "report: summary");
	if (s == NULL ||
	    sqlite3_bind_int64(s, 1, (sqlite3_int64)since) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, (sqlite3_int64)max) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, ids[0]) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 4, ids[n - 1]) != SQLITE_OK)
		goto fail;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		rows++;
		if (!sqlite3_column_int(s, 1))
			continue;
		k = sums_find(ids, n, sqlite3_column_int64(s, 0));
		if (k < n)
			m[k].closed_failures++;
	}
	if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(s);
	/* too many to scan: the closed ones are the pools' statement's */
	*failures = rows < max;
	for (k = 0; k < n && !*failures; k++)
		m[k].closed_failures = 0;
	return 0;
fail:
	db_fail(q->db, "report: summary");
	sqlite3_finalize(s);
	return -1;
}

/* Step ${s} (statement ${which}, bound) through its rows into ${e},
 * each to ${cb}, the pool rows with ${m}'s counts added.  0/-1. */
static int
sums_step(struct db_report *q, int which, sqlite3_stmt *s, const int64_t *ids,
    size_t n, const struct sum_marks *m, struct db_report_sum *e,
    int (*cb)(void *ctx, const struct db_report_sum *s), void *ctx)
{
	int rc;

	/* cleared once: sums_row writes the same fields on every row of a
	 * statement (a clear a row of the 1.9 KB was 9 M instructions at
	 * 10,000 pools) */
	memset(e, 0, sizeof(*e));
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		e->kind = (enum db_report_sum_kind)which;
		e->k = sums_find(ids, n, sqlite3_column_int64(s, 0));
		if (e->k == n)
			continue;
		sums_row(which, s, e);
		if (which == DB_REPORT_SUM_POOL) {
			e->promotions += m[e->k].promotions;
			e->failures +=
			    m[e->k].failures + m[e->k].closed_failures;
		}
		if (cb(ctx, e) != 0)
			return -1;
	}
	if (rc != SQLITE_DONE)
		return db_fail(q->db, "report: summary");
	return 0;
}

int
db_report_sums(struct db_report *q, time_t since, const int64_t *ids,
    const char *const *channels, size_t n,
    int (*cb)(void *ctx, const struct db_report_sum *s), void *ctx)
{
	struct db_report_sum *e = NULL;
	struct sum_marks *m = NULL;
	sqlite3_stmt *s = NULL;
	char *json = NULL;
	int64_t max = 0;
	int ret = -1, failures;

	if (n == 0)
		return 0;
	e = malloc(sizeof(*e));
	m = calloc(n, sizeof(*m));
	if (e == NULL || m == NULL) {
		log_err(NULL, "report: out of memory");
		goto out;
	}
	if (db_get_one(q->db, sum_live_max_sql, "report: summary", DB_NO_ARGS,
	        db_row_int64, &max) != 1)
		goto out;
	if ((int64_t)n * 4 >= max) {
		s = db_prepare(q->db, sum_live_all_sql, "report: summary");
		if (s == NULL)
			goto out;
	} else {
		if (db_pools_json(ids, NULL, n, NULL, &json))
			goto out;
		s = db_prepare(q->db, sum_live_sql, "report: summary");
		if (s == NULL ||
		    sqlite3_bind_text(s, 1, json, -1, SQLITE_STATIC) !=
		        SQLITE_OK) {
			db_fail(q->db, "report: summary");
			goto out;
		}
	}
	if (sums_step(q, DB_REPORT_SUM_LIVE, s, ids, n, m, e, cb, ctx))
		goto out;
	sqlite3_finalize(s);
	s = NULL;
	if (sums_marks(q, since, ids, n, m, &failures))
		goto out;
	/* then the pools, a statement a channel (the first pool naming it
	 * runs it, over every pool that does) */
	for (size_t k = 0; k < n; k++) {
		size_t first = 0;

		while (strcmp(channels[first], channels[k]) != 0)
			first++;
		if (first < k)
			continue;
		free(json);
		json = NULL;
		if (db_pools_json(ids, channels, n, channels[k], &json))
			goto out;
		s = db_prepare(q->db,
		    failures ? sum_pools_sql : sum_pools_failed_sql,
		    "report: summary");
		if (s == NULL ||
		    sqlite3_bind_text(s, 1, json, -1, SQLITE_STATIC) !=
		        SQLITE_OK ||
		    sqlite3_bind_int64(s, 2, (sqlite3_int64)since) !=
		        SQLITE_OK ||
		    sqlite3_bind_text(s, 3, channels[k], -1, SQLITE_STATIC) !=
		        SQLITE_OK) {
			db_fail(q->db, "report: summary");
			goto out;
		}
		if (sums_step(q, DB_REPORT_SUM_POOL, s, ids, n, m, e, cb, ctx))
			goto out;
		sqlite3_finalize(s);
		s = NULL;
	}
	ret = 0;
out:
	sqlite3_finalize(s);
	free(json);
	free(m);
	free(e);
	return ret;
}

/* A runs row to db_report_runs' callback. */
struct runs_each {
	int (*cb)(void *ctx, const struct db_run *r);
	void *ctx;
};

static int
row_run_each(void *ctx, sqlite3_stmt *s)
{
	const struct runs_each *e = ctx;
	struct db_run r;

	db_row_run(&r, s);
	return e->cb(e->ctx, &r) != 0;
}

int
db_report_runs(struct db *db, time_t since,
    int (*cb)(void *ctx, const struct db_run *r), void *ctx)
{
	struct runs_each e = {cb, ctx};

	if (db_each_row(db, runs_sql, "report: runs", DB_ARGS(DB_INT(since)),
	        row_run_each, &e) < 0)
		return -1;
	return 0;
}

int
db_report_query_plan(struct db *db, const char *name, char *buf, size_t len)
{
	static const struct {
		const char *name, *sql;
	} queries[] = {{"events", events_sql}, {"runs", runs_sql},
	    {"snapshot-counts", snap_counts_sql}, {"sum-live", sum_live_sql},
	    {"sum-live-all", sum_live_all_sql}, {"sum-pools", sum_pools_sql},
	    {"sum-pools-failed", sum_pools_failed_sql},
	    {"sum-open", sum_open_sql}, {"sum-failed", sum_failed_sql}};

	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++)
		if (strcmp(name, queries[i].name) == 0)
			return db_explain(db, queries[i].sql, buf, len);
	log_err(NULL, "no report query named %s", name);
	return -1;
}
