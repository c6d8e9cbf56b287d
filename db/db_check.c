/*
 * db_check.c -- is the store sound?  (DESIGN.md section 5, `db check`.)
 *
 * Two depths.  db_check_full is `aksnap db check`: SQLite's
 * integrity_check (every page, record and index entry), foreign_key_check,
 * the header fields, and aksnap's own invariants over every table.
 * db_check_quick is what db_open runs before any command writes: SQLite's
 * quick_check (pages and records, without cross-checking index contents:
 * O(N) reads, no sorting) and the invariants on the snapshots table, which
 * is small next to observations and decisions.  A store that fails either
 * is never written to: a row added to a malformed file can only make the
 * damage worse, and the snapshots it describes exist in Azure.
 *
 * The second depth costs a read of every page, so db_open does not pay it
 * at every write: a writer that closes cleanly leaves a stamp of the file
 * as it left it ("<store>.checked", below), and the next writer skips the
 * check while the file is exactly that and the check less than a day old
 * (db_check.h says why that keeps DESIGN.md's promise).
 *
 * Each invariant is one SELECT whose rows are the offences, worded by
 * SQLite's printf() so that this file holds no formatting per check.  An
 * error from SQLite that says the file is damaged (SQLITE_CORRUPT,
 * SQLITE_NOTADB) is itself a problem found, not a failure to check.
 * Nothing here writes.
 */
#include "db/db_check.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db/db.h"
#include "db/db_internal.h"
#include "job/base/log.h"
#include "job/base/util.h"

struct invariant {
	int quick; /* also part of the pre-write check */
	const char *sql; /* one text column per offence */
};

static const struct invariant invariants[] = {
    {1,
        "SELECT printf('pool %s: %d active snapshots for slot %s: %s', "
        "coalesce(p.key, s.pool_id), count(*), "
        "strftime('%Y-%m-%dT%H:%M:%SZ', s.slot, 'unixepoch'), "
        "group_concat(s.name, ', ')) FROM snapshots s "
        "LEFT JOIN pools p ON p.id = s.pool_id "
        "WHERE s.state = 'active' AND s.slot IS NOT NULL "
        "GROUP BY s.pool_id, s.slot HAVING count(*) > 1"},
    {1,
        "SELECT printf('pool %s: %d snapshots hold channel %s: %s', "
        "coalesce(p.key, s.pool_id), count(*), s.channel, "
        "group_concat(s.name, ', ')) FROM snapshots s "
        "LEFT JOIN pools p ON p.id = s.pool_id "
        "WHERE s.channel IS NOT NULL "
        "GROUP BY s.pool_id, s.channel HAVING count(*) > 1"},
    {1,
        "SELECT printf('snapshot %s (id %d) belongs to pool id %d, which "
        "is missing', s.name, s.id, s.pool_id) FROM snapshots s "
        "WHERE NOT EXISTS (SELECT 1 FROM pools p WHERE p.id = s.pool_id)"},
    {0,
        "SELECT printf('%d observation(s) of missing pools (first id %d)', "
        "count(*), min(o.id)) FROM observations o WHERE NOT EXISTS "
        "(SELECT 1 FROM pools p WHERE p.id = o.pool_id) HAVING count(*) > 0"},
    {0,
        "SELECT printf('%d decision(s) of missing pools (first id %d)', "
        "count(*), min(d.id)) FROM decision_rows d WHERE NOT EXISTS "
        "(SELECT 1 FROM pools p WHERE p.id = d.pool_id) HAVING count(*) > 0"},
    {0,
        "SELECT printf('%d decision(s) naming a missing snapshot (first "
        "id %d)', count(*), min(d.id)) FROM decision_rows d "
        "WHERE d.snapshot_id IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM snapshots s WHERE s.id = d.snapshot_id) "
        "HAVING count(*) > 0"},
    {0,
        "SELECT printf('%d decision(s) naming a missing run (first id "
        "%d)', count(*), min(d.id)) FROM decision_rows d "
        "WHERE d.run_id IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM runs r WHERE r.id = d.run_id) HAVING count(*) > 0"},
    {0,
        "SELECT printf('%d decision(s) about a snapshot of another pool "
        "(first id %d)', count(*), min(d.id)) FROM decision_rows d "
        "JOIN snapshots s ON s.id = d.snapshot_id "
        "WHERE d.pool_id <> s.pool_id HAVING count(*) > 0"},
    {0,
        "SELECT printf('snapshot %s is both in the store and recorded as "
        "a conflict (not this store''s)', c.name) FROM conflicts c "
        /* CROSS: each conflict seeks its snapshot (0017), no scan */
        "CROSS JOIN snapshots s JOIN pools p ON p.id = s.pool_id "
        "WHERE " DB_SNAP_ARM_ID_IS("s", "p", "c.arm_id")},
    {0,
        "SELECT printf('%d observation(s) naming a missing run (first id "
        "%d)', count(*), min(o.id)) FROM observations o "
        "WHERE o.run_id IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM runs r WHERE r.id = o.run_id) HAVING count(*) > 0"},
    /* observations are intervals (0012): each ends after it begins, names
     * a run that exists, and ends before the pool's next one begins */
    {0,
        "SELECT printf('%d observation(s) last seen before first seen "
        "(first id %d)', count(*), min(o.id)) FROM observations o "
        "WHERE o.last_seen < o.observed_at HAVING count(*) > 0"},
    {0,
        "SELECT printf('%d observation(s) naming a missing last run (first "
        "id %d)', count(*), min(o.id)) FROM observations o "
        "WHERE o.last_run_id IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM runs r WHERE r.id = o.last_run_id) "
        "HAVING count(*) > 0"},
    {0,
        "SELECT printf('%d observation(s) overlapping the next one of "
        "their pool (first id %d)', count(*), min(id)) FROM (SELECT id, "
        "last_seen, LEAD(observed_at) OVER (PARTITION BY pool_id ORDER BY "
        "observed_at, id) AS next_at FROM observations) "
        "WHERE next_at < last_seen HAVING count(*) > 0"},
    /* an open range (0018) is the newest decision of its subject, and
     * says what that row says */
    {0,
        "SELECT printf('%d open decision range(s) not the newest decision "
        "of their subject (first pool id %d)', count(*), min(o.pool_id)) "
        "FROM decision_open o LEFT JOIN decision_rows d "
        "ON d.id = o.decision_id WHERE d.id IS NULL "
        "OR d.pool_id <> o.pool_id "
        "OR coalesce(d.snapshot_id, 0) <> o.snapshot_id "
        "OR d.action <> o.action OR d.reasons IS NOT NULL "
        "OR d.reasons_id IS NOT o.reasons_id "
        "OR d.fingerprint_id IS NOT o.fingerprint_id "
        "OR d.slot IS NOT o.slot "
        "OR o.last_at < d.last_at "
        /* a newer row, by decisions_pool_level or decisions_by_snapshot */
        "OR (o.snapshot_id = 0 AND EXISTS (SELECT 1 FROM decision_rows n "
        "WHERE n.pool_id = o.pool_id AND n.snapshot_id IS NULL AND "
        "n.at >= d.at AND (n.at > d.at OR n.id > d.id))) "
        "OR (o.snapshot_id <> 0 AND EXISTS (SELECT 1 FROM decision_rows n "
        "WHERE n.snapshot_id = o.snapshot_id AND n.at >= d.at AND "
        "(n.at > d.at OR n.id > d.id))) "
        "HAVING count(*) > 0"},
    /* the counts `db status` reads (0016's triggers keep them) */
    {0,
        "SELECT printf('row_counts: %s is %d, the table holds %d', c.name, "
        "c.n, coalesce(t.n, 0)) FROM row_counts c LEFT JOIN ("
        "SELECT 'observations' AS name, count(*) AS n FROM observations "
        "UNION ALL SELECT 'decisions', count(*) FROM decision_rows "
        "UNION ALL SELECT 'snapshots.' || state, count(*) FROM snapshots "
        "GROUP BY state) t ON t.name = c.name WHERE c.n <> coalesce(t.n, 0)"},
    /* the counts the metrics read (0019's triggers keep them) */
    {0,
        "SELECT printf('pool_snapshot_counts: %d pool and state count(s) "
        "differ from the snapshots (first pool id %d, %s: %d, the table "
        "holds %d)', count(*), min(pool_id), state, k, h) FROM ("
        "SELECT pool_id, state, sum(kept) AS k, sum(held) AS h FROM ("
        "SELECT pool_id, state, n AS kept, 0 AS held "
        "FROM pool_snapshot_counts UNION ALL "
        "SELECT pool_id, state, 0, count(*) FROM snapshots "
        "GROUP BY pool_id, state) GROUP BY pool_id, state "
        "HAVING k <> h) HAVING count(*) > 0"},
    /* the newest successes the metrics read (0025's triggers keep them) */
    {0,
        "SELECT printf('pool_success: %d pool(s) whose newest success "
        "differs from their snapshots and skips (first pool id %d: %d, "
        "the rows say %d)', count(*), min(id), kept, held) FROM ("
        "SELECT p.id, coalesce((SELECT at FROM pool_success s WHERE "
        "s.pool_id = p.id), 0) AS kept, " DB_POOL_SUCCESS_KEPT(
            "p.id") " AS held FROM pools p) WHERE kept <> held "
                    "HAVING count(*) > 0"},
    /* each pool's newest observation and active snapshot, which a run
     * and drift, check and report read (0024's triggers keep them) */
    {0,
        "SELECT printf('pool_present: %d pool(s) whose newest observation "
        "or active snapshot differs from the rows (first pool id %d)', "
        "count(*), min(id)) FROM (SELECT p.id, pp.obs_id AS ko, "
        "pp.newest_id AS ks, (SELECT q.id FROM observations q WHERE "
        "q.pool_id = p.id ORDER BY q.observed_at DESC, q.id DESC LIMIT 1) "
        "AS ho, (SELECT a.id FROM snapshots a WHERE a.pool_id = p.id AND "
        "a.state = 'active' ORDER BY a.created_at DESC, a.id DESC LIMIT 1) "
        "AS hs FROM pools p LEFT JOIN pool_present pp ON pp.pool_id = p.id) "
        "WHERE ko IS NOT ho OR ks IS NOT hs HAVING count(*) > 0"},
    /* each mode's last partial run the metrics read (0028's triggers) */
    {0,
        "SELECT printf('partial_run_last: %d mode(s) whose last partial "
        "run differs from the runs (first %s: run %d, the runs say %d)', "
        "count(*), min(mode), kept, held) FROM (SELECT m.mode, "
        "(SELECT run_id FROM partial_run_last l WHERE l.mode = m.mode) "
        "AS kept, (SELECT r.id FROM runs r INDEXED BY runs_by_mode WHERE "
        "r.mode = m.mode AND r.finished_at IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM full_runs f WHERE f.run_id = r.id) ORDER BY "
        "r.started_at DESC, r.id DESC LIMIT 1) AS held FROM (SELECT "
        "DISTINCT mode FROM runs) m) WHERE kept IS NOT held "
        "HAVING count(*) > 0"},
};

/* The closed vocabularies: a value outside them is a damaged row. */
struct vocabulary {
	int quick;
	const char *sql; /* value, count, first id */
	const char *what;
};

static const struct vocabulary vocabularies[] = {
    {1, "SELECT state, count(*), min(id) FROM snapshots GROUP BY state",
        "snapshot state"},
    {0, "SELECT action, count(*), min(id) FROM decision_rows GROUP BY action",
        "decision action"},
    {0, "SELECT mode, count(*), min(id) FROM runs GROUP BY mode", "run mode"},
};

static int add(struct db_check_report *r, const char *kind, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

static int
add(struct db_check_report *r, const char *kind, const char *fmt, ...)
{
	struct db_problem *p;
	va_list ap;

	if (r->n >= DB_CHECK_MAX) {
		r->truncated = 1;
		return 0;
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 8;
		struct db_problem *grown =
		    realloc(r->items, cap * sizeof(*grown));

		if (grown == NULL)
			return -1;
		r->items = grown;
		r->cap = cap;
	}
	p = &r->items[r->n++];
	util_strlcpy(p->kind, kind, sizeof(p->kind));
	va_start(ap, fmt);
	vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
	va_end(ap);
	return 0;
}

/* SQLite says the file itself is damaged (a finding, not a failure). */
static int
damaged(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB;
}

/*
 * each_row(db, sql, r, fn, ctx):
 * Run ${sql}, calling ${fn}(ctx, stmt, r) for each row (it adds what it
 * finds to ${r}; non-zero stops, as out of memory).  An error that says
 * the file is damaged is recorded as a problem, not returned.  0, or -1
 * (logged).
 */
static int
each_row(struct db *db, const char *sql, struct db_check_report *r,
    int (*fn)(void *ctx, sqlite3_stmt *s, struct db_check_report *r), void *ctx)
{
	sqlite3 *conn = db_sqlite(db);
	sqlite3_stmt *s = NULL;
	int rc;

	rc = sqlite3_prepare_v2(conn, sql, -1, &s, NULL);
	while (rc == SQLITE_OK || rc == SQLITE_ROW) {
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		if (fn(ctx, s, r)) {
			sqlite3_finalize(s);
			log_err(
			    NULL, "%s: check: out of memory", db_path_of(db));
			return -1;
		}
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE || rc == SQLITE_OK)
		return 0;
	if (damaged(rc))
		return add(r, "integrity", "%s", sqlite3_errstr(rc));
	log_err(NULL, "%s: check: %s", db_path_of(db), sqlite3_errmsg(conn));
	return -1;
}

static const char *
text_or(sqlite3_stmt *s, int i, const char *dflt)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t != NULL ? (const char *)t : dflt;
}

/*
 * A row of an invariant (or of integrity_check) is a problem whose detail
 * is its first column, except integrity_check's all-clear "ok".
 */
static int
row_problem(void *kind, sqlite3_stmt *s, struct db_check_report *r)
{
	const char *v = text_or(s, 0, "?");

	if (strcmp(v, "ok") == 0)
		return 0;
	return add(r, kind, "%s", v);
}

static int
rows(
    struct db *db, const char *sql, struct db_check_report *r, const char *kind)
{
	return each_row(db, sql, r, row_problem, (void *)kind);
}

struct vocabulary_ctx {
	const struct vocabulary *voc;
	const char *const *known;
};

static int
vocabulary_row(void *vctx, sqlite3_stmt *s, struct db_check_report *r)
{
	const struct vocabulary_ctx *ctx = vctx;
	const char *v = text_or(s, 0, NULL);

	if (v != NULL) {
		for (size_t i = 0; ctx->known[i] != NULL; i++)
			if (strcmp(ctx->known[i], v) == 0)
				return 0;
	}
	return add(r, "invariant",
	    "%lld row(s) with unknown %s '%s' (first id "
	    "%lld)",
	    (long long)sqlite3_column_int64(s, 1), ctx->voc->what,
	    v != NULL ? v : "NULL", (long long)sqlite3_column_int64(s, 2));
}

static int
vocabulary(struct db *db, const struct vocabulary *voc,
    const char *const *known, struct db_check_report *r)
{
	struct vocabulary_ctx ctx = {voc, known};

	return each_row(db, voc->sql, r, vocabulary_row, &ctx);
}

/* foreign_key_check's rows: table, rowid, parent, fkid. */
static int
fk_row(void *ctx, sqlite3_stmt *s, struct db_check_report *r)
{
	(void)ctx;
	return add(r, "foreign_key", "%s row %lld references a missing %s row",
	    text_or(s, 0, "?"), (long long)sqlite3_column_int64(s, 1),
	    text_or(s, 2, "?"));
}

static int
foreign_keys(struct db *db, struct db_check_report *r)
{
	return each_row(db, "PRAGMA foreign_key_check", r, fk_row, NULL);
}

static int
header(struct db *db, struct db_check_report *r)
{
	sqlite3 *conn = db_sqlite(db);
	sqlite3_stmt *s = NULL;
	long long appid = -1, uv = -1;

	if (sqlite3_prepare_v2(conn,
	        "SELECT * FROM pragma_application_id, "
	        "pragma_user_version",
	        -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW) {
		appid = sqlite3_column_int64(s, 0);
		uv = sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	if (appid != DB_APPLICATION_ID &&
	    add(r, "header", "application_id is 0x%08llx, not aksnap's 0x%08x",
	        (unsigned long long)(uint32_t)appid, DB_APPLICATION_ID))
		return -1;
	if ((uv < 1 || uv > db_latest_version()) &&
	    add(r, "header",
	        "user_version %lld is not a schema this aksnap "
	        "knows (1..%d)",
	        uv, db_latest_version()))
		return -1;
	return 0;
}

static int
check(struct db *db, int quick, struct db_check_report *out)
{
	const char *const *known[] = {db_snapshot_states,
	    db_decision_action_names(), db_run_mode_names()};

	memset(out, 0, sizeof(*out));
	if (rows(db,
	        quick ? "PRAGMA quick_check(100)"
	              : "PRAGMA integrity_check(100)",
	        out, "integrity"))
		goto fail;
	/* A damaged file: the queries below would only repeat it. */
	if (out->n > 0)
		return 0;
	if (!quick && (header(db, out) || foreign_keys(db, out)))
		goto fail;
	/*
	 * The invariants speak of the latest schema: a store about to be
	 * migrated (or a new, empty file) has only SQLite's checks.
	 */
	if (db_schema_version(db) != db_latest_version())
		return 0;
	for (size_t i = 0; i < sizeof(invariants) / sizeof(*invariants); i++)
		if ((!quick || invariants[i].quick) &&
		    rows(db, invariants[i].sql, out, "invariant"))
			goto fail;
	for (size_t i = 0; i < sizeof(vocabularies) / sizeof(*vocabularies);
	     i++)
		if ((!quick || vocabularies[i].quick) &&
		    vocabulary(db, &vocabularies[i], known[i], out))
			goto fail;
	return 0;
fail:
	db_check_report_free(out);
	return -1;
}

int
db_check_full(struct db *db, struct db_check_report *out)
{
	return check(db, 0, out);
}

int
db_check_quick(struct db *db, struct db_check_report *out)
{
	return check(db, 1, out);
}

void
db_check_report_free(struct db_check_report *r)
{
	if (r == NULL)
		return;
	free(r->items);
	memset(r, 0, sizeof(*r));
}

/* ---- the stamp a clean writer leaves ---- */

#define STAMP_MAGIC "aksnap-checked 1"

static struct db_check_counts counts;

void
db_check_get_counts(struct db_check_counts *out)
{
	*out = counts;
}

void
db_check_count(int skipped)
{
	if (skipped)
		counts.skipped++;
	else
		counts.checked++;
}

/* The file's identity and last change, as the stamp spells it. */
struct file_id {
	long long dev, ino, size, mtime_s, mtime_ns, ctime_s, ctime_ns;
};

static int
file_id_of(const char *path, struct file_id *out)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return -1;
	out->dev = (long long)st.st_dev;
	out->ino = (long long)st.st_ino;
	out->size = (long long)st.st_size;
	out->mtime_s = (long long)st.st_mtim.tv_sec;
	out->mtime_ns = (long long)st.st_mtim.tv_nsec;
	out->ctime_s = (long long)st.st_ctim.tv_sec;
	out->ctime_ns = (long long)st.st_ctim.tv_nsec;
	return 0;
}

static int
suffixed(const char *path, const char *suffix, char *out, size_t len)
{
	int n = snprintf(out, len, "%s%s", path, suffix);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Read the stamp of ${path}: 1 with its fields, 0 when none or garbled. */
static int
stamp_read(const char *path, struct file_id *id, time_t *checked_at)
{
	char name[PATH_MAX], line[256];
	long long at = 0;
	FILE *f;
	int ok;

	if (suffixed(path, ".checked", name, sizeof(name)))
		return 0;
	f = fopen(name, "r");
	if (f == NULL)
		return 0;
	ok = fgets(line, sizeof(line), f) != NULL &&
	    strncmp(line, STAMP_MAGIC " ", sizeof(STAMP_MAGIC)) == 0 &&
	    sscanf(line + sizeof(STAMP_MAGIC),
	        "%lld %lld %lld %lld %lld %lld %lld %lld", &id->dev, &id->ino,
	        &id->size, &id->mtime_s, &id->mtime_ns, &id->ctime_s,
	        &id->ctime_ns, &at) == 8;
	fclose(f);
	if (!ok)
		return 0;
	*checked_at = (time_t)at;
	return 1;
}

int
db_check_stamp_read(const char *path, time_t *checked_at)
{
	struct file_id id;

	return stamp_read(path, &id, checked_at);
}

int
db_check_stamp_fresh(const char *path, time_t now, time_t *checked_at)
{
	struct file_id was, is;
	struct stat wal;
	char name[PATH_MAX];
	time_t at = 0;

	if (stamp_read(path, &was, &at) != 1 || file_id_of(path, &is) != 0)
		return 0;
	if (memcmp(&was, &is, sizeof(was)) != 0)
		return 0;
	/* A WAL with frames: a writer did not close (or someone wrote). */
	if (suffixed(path, "-wal", name, sizeof(name)) ||
	    (stat(name, &wal) == 0 && wal.st_size > 0))
		return 0;
	if (at > now || now - at >= DB_CHECK_MAX_AGE)
		return 0;
	*checked_at = at;
	return 1;
}

int
db_check_stamp_write(const char *path, time_t checked_at)
{
	char name[PATH_MAX], tmp[PATH_MAX];
	struct file_id id;
	FILE *f = NULL;
	int fd = -1;

	if (suffixed(path, ".checked", name, sizeof(name)) ||
	    suffixed(path, ".checked.tmp", tmp, sizeof(tmp)))
		goto fail;
	if (file_id_of(path, &id) != 0)
		goto fail;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1)
		goto fail;
	f = fdopen(fd, "w");
	if (f == NULL)
		goto fail;
	fd = -1;
	fprintf(f, STAMP_MAGIC " %lld %lld %lld %lld %lld %lld %lld %lld\n",
	    id.dev, id.ino, id.size, id.mtime_s, id.mtime_ns, id.ctime_s,
	    id.ctime_ns, (long long)checked_at);
	if (fclose(f) != 0) {
		f = NULL;
		goto fail;
	}
	f = NULL;
	if (rename(tmp, name) != 0)
		goto fail;
	return 0;

fail:
	log_warn(NULL,
	    "%s: cannot record its check in %s.checked (%s): the next writer "
	    "checks the whole store",
	    path, path, strerror(errno));
	if (f != NULL)
		fclose(f);
	if (fd != -1)
		close(fd);
	(void)unlink(tmp);
	return -1;
}

void
db_check_stamp_remove(const char *path)
{
	char name[PATH_MAX];

	if (suffixed(path, ".checked", name, sizeof(name)) == 0)
		(void)unlink(name);
}
