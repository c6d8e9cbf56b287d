/*
 * db_reads.c -- a read transaction for the fleet-wide read commands.
 *
 * A statement stepped outside a transaction takes SQLite's shared lock
 * (an fcntl), checks the file's change counter and drops the lock when
 * it is reset: for 10,000 pools and four statements a pool, a sixth of
 * `drift`'s CPU.  Inside one BEGIN (deferred: it locks at its first
 * read) the lock is taken once, and every pool is read from one state
 * of the store, whatever a run writes meanwhile (WAL).
 *
 * What a command would otherwise ask once a pool, read once: every
 * pool's id (a walk of the keys' index, then a binary search a pool);
 * the snapshots left pending are db_list.c's (db_snapshot_pending_each).
 *
 * The order to read pools in (db_pool_ids_order): the store's, by id.
 * The page cache (4 MiB, db.c) holds what one pool's reads touch many
 * times over, but not what the configuration's order touches between
 * two pools that share a page: at 10,000 pools, ids 50 apart follow each
 * other in the configuration, and a page came back every ~1,500 page
 * reads, after 1,024 pages had pushed it out.
 */
#include "db/db_reads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_internal.h"
#include "job/base/log.h"
#include "job/base/util.h"

struct db_pool_id {
	char *key;
	int64_t id;
};

struct db_pool_ids {
	struct db_pool_id *v; /* by key, as the index orders it (BINARY) */
	size_t n;
	char *keys; /* every key, NUL-ended, one after the other */
};

int
db_read_begin(struct db *db)
{
	if (sqlite3_exec(db_sqlite(db), "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(db, "begin a read");
	return 0;
}

void
db_read_end(struct db *db)
{
	if (db != NULL && !sqlite3_get_autocommit(db_sqlite(db)))
		(void)sqlite3_exec(db_sqlite(db), "COMMIT", NULL, NULL, NULL);
}

void
db_pool_ids_free(struct db_pool_ids *ids)
{
	if (ids == NULL)
		return;
	free(ids->v);
	free(ids->keys);
	free(ids);
}

/* Append ${key} and ${id} to ${ids}, growing it.  0/-1. */
static int
ids_add(struct db_pool_ids *ids, size_t *cap, size_t *used, size_t *kcap,
    const char *key, int64_t id)
{
	size_t len = strlen(key) + 1;
	void *p;

	if (ids->n == *cap) {
		*cap = *cap != 0 ? *cap * 2 : 256;
		p = realloc(ids->v, *cap * sizeof(*ids->v));
		if (p == NULL)
			return -1;
		ids->v = p;
	}
	if (*used + len > *kcap) {
		*kcap = *kcap != 0 ? *kcap * 2 : 8192;
		while (*used + len > *kcap)
			*kcap *= 2;
		p = realloc(ids->keys, *kcap);
		if (p == NULL)
			return -1;
		ids->keys = p;
	}
	memcpy(ids->keys + *used, key, len);
	/* an offset until every key is in (ids->keys may move) */
	ids->v[ids->n].key = (char *)(uintptr_t)*used;
	ids->v[ids->n++].id = id;
	*used += len;
	return 0;
}

int
db_pool_ids_load(struct db *db, struct db_pool_ids **out)
{
	struct db_pool_ids *ids;
	sqlite3_stmt *s = NULL;
	size_t cap = 0, used = 0, kcap = 0;
	int rc = SQLITE_ERROR, ret = -1;

	*out = NULL;
	ids = calloc(1, sizeof(*ids));
	if (ids == NULL)
		goto done;
	if (sqlite3_prepare_v2(db_sqlite(db),
	        "SELECT key, id FROM pools ORDER BY key", -1, &s,
	        NULL) != SQLITE_OK) {
		db_fail(db, "read the pools' ids");
		goto done;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(s, 0);

		if (ids_add(ids, &cap, &used, &kcap, key != NULL ? key : "",
		        sqlite3_column_int64(s, 1))) {
			log_err(NULL, "store: out of memory");
			goto done;
		}
	}
	if (rc != SQLITE_DONE) {
		db_fail(db, "read the pools' ids");
		goto done;
	}
	for (size_t i = 0; i < ids->n; i++)
		ids->v[i].key = ids->keys + (uintptr_t)ids->v[i].key;
	*out = ids;
	ids = NULL;
	ret = 0;
done:
	sqlite3_finalize(s);
	db_pool_ids_free(ids);
	return ret;
}

static int
id_order(const void *vkey, const void *vid)
{
	const struct db_pool_id *id = vid;

	return strcmp((const char *)vkey, id->key);
}

int64_t
db_pool_ids_find(const struct db_pool_ids *ids, const char *key)
{
	const struct db_pool_id *hit;

	if (ids == NULL || ids->n == 0)
		return 0;
	hit = bsearch(key, ids->v, ids->n, sizeof(*ids->v), id_order);
	return hit != NULL ? hit->id : 0;
}

/* A position and its pool's id, sorted by id (0: not stored) last. */
struct id_at {
	int64_t id;
	size_t at;
};

static int
id_at_order(const void *va, const void *vb)
{
	const struct id_at *a = va, *b = vb;

	if ((a->id == 0) != (b->id == 0))
		return a->id == 0 ? 1 : -1;
	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	return a->at < b->at ? -1 : a->at > b->at;
}

int
db_pool_ids_order(const int64_t *pool_ids, size_t n, size_t *order)
{
	struct id_at *v;

	if (n == 0)
		return 0;
	v = calloc(n, sizeof(*v));
	if (v == NULL) {
		log_err(NULL, "store: out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		v[i].id = pool_ids[i];
		v[i].at = i;
	}
	qsort(v, n, sizeof(*v), id_at_order);
	for (size_t i = 0; i < n; i++)
		order[i] = v[i].at;
	free(v);
	return 0;
}

/*
 * db_pools_read: every fact of every pool asked for by one statement
 * (the baseline: one a channel), stepped pool after pool: the pools are
 * a JSON array of ids bound once (json_each, in the array's order),
 * each fact LEFT JOINs of that element (a row for every pool, NULL when
 * it has none) -- without the per-pool statements' bind, step and reset
 * 30,000 times at 10,000 pools, and without a statement a fact, each
 * walking the array and stepped once a pool (drift --json at 10,000
 * pools: 451 M -> 435 M instructions).  The newest observation and the
 * newest active snapshot are the ones the pool's row of pool_present
 * names (0024: kept by triggers), a seek of a table of 10,000 short
 * rows, where a seek of observations_by_pool_time and
 * snapshots_by_pool_state (a row a pool a day) read a leaf page for
 * every few pools: 5,400 of drift's 7,500 page reads on a year's
 * store.  The holder and the last success seek their indexes as the
 * per-pool statements do.
 *
 * The baseline's statement binds the channel (?2) and reads the pools of
 * that channel only: one statement a channel the pools name, each
 * stepped in turn as its next pool comes, where a JSON [id, "channel"]
 * pair was rendered and parsed again at each of its references.
 *
 * The pools row (key, subscription, resource group) is read once a
 * pool, the first columns of that statement, not joined again to each
 * fact: the rows carry the key, and a snapshot's ARM id when the store
 * derives it (0017: NULL stored) is put together here, byte for byte as
 * DB_SNAP_ARM_ID's SQL does, where SQLite's concatenation of four texts
 * was a tenth of a fact's instructions.  A baseline of another pool's
 * snapshot (a holder row naming it) reads that pool's row by its id.
 */
enum { FACT_OBS, FACT_NEWEST, FACT_BASE, FACT_SUCCESS, FACT_POOL, NFACTS };

/*
 * The brief rows (DB_POOL_BRIEF): the columns drift and check print or
 * judge by, each read into its field of a row zeroed for the pool, where
 * the full rows' 18 and 19 columns, each decoded by SQLite and copied
 * into a struct zeroed again, were half of drift's reading (an
 * observation's 18 columns cost its statement two thirds of its
 * instructions).  DB_POOL_NEWEST_AT: the newest snapshot's creation
 * alone.  The first column is the row's id: NULL, no row.
 */
#define OBS_BRIEF                                                              \
	"o.id, o.observed_at, o.node_image_version, o.kubernetes_version, "    \
	"o.provisioning_state, o.upgrade_channel, o.node_os_channel, "         \
	"o.last_seen "
#define OBS_BRIEF_NCOLS 8
#define SNAP_BRIEF                                                             \
	"s.id, s.pool_id, s.name, s.arm_id, s.created_at, "                    \
	"s.node_image_version, s.kubernetes_version, s.os_type, s.os_sku, "    \
	"s.vm_size, s.enable_fips, s.state, s.promoted_at "
#define SNAP_BRIEF_NCOLS 13
#define NEWEST_AT "s.id, s.created_at "

/*
 * The pools' statement: every fact but the baseline, each a part of
 * one row a pool -- its columns, then its joins after "FROM
 * json_each(?1) j" -- in the order of the enum: where a statement a
 * fact walked the JSON array and stepped its own statement once a pool
 * each (and pool_present was sought twice).  The baseline's are the
 * channels' (base_groups_open).
 */
static const char *const fact_join[NFACTS] = {
    /* the newest observation and active snapshot as pool_present
     * names them (0024), the row of pool_present joined once */
    [FACT_OBS] = "LEFT JOIN observations o ON o.id = present.obs_id ",
    [FACT_NEWEST] = "LEFT JOIN snapshots s ON s.id = present.newest_id ",
    /* the holder's row through snapshot_channels_holder (left_at IS
     * NULL: unique per pool and channel), channel ?2 */
    [FACT_BASE] = "LEFT JOIN snapshot_channels h "
                  "ON h.pool_id = j.value AND h.channel = ?2 "
                  "AND h.left_at IS NULL "
                  "LEFT JOIN snapshots s ON s.id = h.snapshot_id ",
    /* DB_POOL_LAST_SUCCESS's two seeks as LEFT JOINs (the open skip
     * range: decision_open's key is the pool and snapshot 0, one row):
     * its scalar subqueries opened and closed their cursors at every
     * pool, a third of the fact's instructions */
    [FACT_SUCCESS] = "LEFT JOIN pool_success ps ON ps.pool_id = j.value "
                     "LEFT JOIN decision_open d ON d.pool_id = j.value "
                     "AND d.snapshot_id = 0 AND d.action = 'skip' ",
    [FACT_POOL] = "LEFT JOIN pools p ON p.id = j.value ",
};

static const char *const fact_what[NFACTS] = {
    "read the pools' latest observations",
    "read the pools' newest active snapshots",
    "read the pools' baselines",
    "read the pools' last successes",
    "read the pools",
};

/* A pool's row once stepped to: its key, subscription and resource
 * group (the statement's, valid until its next step), NULL when there
 * is none. */
struct pool_names {
	const char *key, *sub, *rg;
};

/* A pools row by its id, for a baseline of another pool's snapshot: its
 * statement (lent for the walk) and the id it was last stepped to. */
struct pool_by_id {
	sqlite3_stmt *s;
	int64_t id;
	struct pool_names names;
};

/* Whether fact ${f} is read for ${want} as the newest snapshot's
 * creation alone (DB_POOL_NEWEST_AT). */
static int
newest_at_only(int f, unsigned want)
{
	return f == FACT_NEWEST && (want & DB_POOL_NEWEST) == 0;
}

/* Fact ${f}'s column list for ${want}, and how many columns it has. */
static const char *
fact_cols(int f, unsigned want, int *ncols)
{
	int brief = (want & DB_POOL_BRIEF) != 0;

	switch (f) {
	case FACT_OBS:
		*ncols = brief ? OBS_BRIEF_NCOLS : DB_OBS_NCOLS;
		return brief ? OBS_BRIEF : db_obs_cols_bare();
	case FACT_NEWEST:
		if (newest_at_only(f, want)) {
			*ncols = 2;
			return NEWEST_AT;
		}
		/* FALLTHROUGH */
	case FACT_BASE:
		/* then whether the ARM id is derived */
		*ncols = (brief ? SNAP_BRIEF_NCOLS : DB_SNAP_NCOLS) + 1;
		return brief ? SNAP_BRIEF : db_snap_cols_bare();
	case FACT_SUCCESS:
		*ncols = 1;
		return "max(coalesce(ps.at, 0), coalesce(d.last_at, 0)) ";
	default:
		*ncols = 3;
		return "p.key, p.subscription, p.resource_group ";
	}
}

/* Whether db_pools_read's pools' statement reads fact ${f} for ${want}:
 * the pools row for the facts that carry its key.  The baselines have a
 * statement a channel (base_groups_open).  (The last success is one row
 * of pool_success and the open skip range, migration 0025: nothing of it
 * is left to take from the newest active snapshot.) */
static int
fact_wanted(int f, unsigned want)
{
	switch (f) {
	case FACT_POOL:
		return (want &
		           (DB_POOL_OBS | DB_POOL_NEWEST | DB_POOL_BASELINE)) !=
		    0;
	case FACT_OBS:
		return (want & DB_POOL_OBS) != 0;
	case FACT_NEWEST:
		return (want & (DB_POOL_NEWEST | DB_POOL_NEWEST_AT)) != 0;
	case FACT_SUCCESS:
		return (want & DB_POOL_SUCCESS) != 0;
	default:
		return 0;
	}
}

/* The pools' statement's facts in their column order: the pools row
 * first (the others read it). */
static const int pools_order[] = {
    FACT_POOL, FACT_OBS, FACT_NEWEST, FACT_SUCCESS};
#define NPOOLS_ORDER (sizeof(pools_order) / sizeof(pools_order[0]))

/*
 * The SQL for ${want} into ${sql}: with ${base}, the baseline's (one
 * channel's, ?2), else the pools' statement's; ${first}[f], when not
 * NULL, the first column of each fact it reads (-1: not read).  0, 1
 * when it reads nothing, or -1 when out of memory (logged).
 */
static int
facts_sql(unsigned want, int base, struct buf *sql, int *first)
{
	const char *sep = "SELECT ";
	int col = 0, n, present = 0, any = 0;

	buf_free(sql); /* empty, as buf_init left it */
	for (int f = 0; f < NFACTS && first != NULL; f++)
		first[f] = -1;
	for (size_t i = 0; i < (base ? 1 : NPOOLS_ORDER); i++) {
		int f = base ? FACT_BASE : pools_order[i], derived;
		const char *cols;

		if (!base && !fact_wanted(f, want))
			continue;
		cols = fact_cols(f, want, &n);
		derived = f == FACT_BASE ||
		    (f == FACT_NEWEST && !newest_at_only(f, want));
		if (buf_printf(sql, "%s%s%s", sep, cols,
		        derived ? ", s.arm_id IS NULL " : ""))
			goto oom;
		if (first != NULL)
			first[f] = col;
		col += n;
		sep = ", ";
		any = 1;
	}
	if (!any)
		return 1;
	if (buf_printf(sql, "FROM json_each(?1) j "))
		goto oom;
	for (size_t i = 0; i < (base ? 1 : NPOOLS_ORDER); i++) {
		int f = base ? FACT_BASE : pools_order[i];

		if (!base && !fact_wanted(f, want))
			continue;
		if ((f == FACT_OBS || f == FACT_NEWEST) && !present) {
			present = 1;
			if (buf_printf(sql,
			        "LEFT JOIN pool_present present "
			        "ON present.pool_id = j.value "))
				goto oom;
		}
		if (buf_printf(sql, "%s", fact_join[f]))
			goto oom;
	}
	return 0;
oom:
	log_err(NULL, "store: out of memory");
	return -1;
}

/* What a failure of the statement of ${first} is said to be: the first
 * fact it reads. */
static const char *
facts_what(const int *first)
{
	for (size_t i = 0; i < NPOOLS_ORDER; i++)
		if (first[pools_order[i]] >= 0)
			return fact_what[pools_order[i]];
	return fact_what[FACT_BASE];
}

/* The statement for ${want} (${base}: a baseline's, ?2 bound to
 * ${channel}) over the pools of ${json} (kept by the caller); ${first}
 * as facts_sql's.  NULL on error (logged), or with ${*none} set when it
 * would read nothing. */
static sqlite3_stmt *
facts_stmt(struct db *db, unsigned want, int base, const char *json,
    const char *channel, struct buf *sql, int *first, int *none)
{
	sqlite3_stmt *s;
	const char *what;
	int rc;

	*none = 0;
	rc = facts_sql(want, base, sql, first);
	if (rc != 0) {
		*none = rc == 1;
		return NULL;
	}
	what = base ? fact_what[FACT_BASE] : facts_what(first);
	s = db_stmt(db, sql->data, what);
	if (s == NULL)
		return NULL;
	if (sqlite3_bind_text(s, 1, json, -1, SQLITE_STATIC) != SQLITE_OK ||
	    (channel != NULL &&
	        sqlite3_bind_text(s, 2, channel, -1, SQLITE_STATIC) !=
	            SQLITE_OK)) {
		db_fail(db, what);
		db_stmt_done(db, s);
		return NULL;
	}
	return s;
}

/* ${s}'s column ${i} as text, NULL when NULL. */
static const char *
col_or_null(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

/* ${dst} (${size} bytes) is the ARM id DB_SNAP_ARM_ID derives for
 * snapshot ${name} of the pool ${p}: "" without the pool's row, as the
 * SQL's NULL; truncated as db_col_text truncates. */
static void
arm_id_derive(
    char *dst, size_t size, const struct pool_names *p, const char *name)
{
	const char *part[] = {"/subscriptions/", p->sub, "/resourceGroups/",
	    p->rg, "/providers/Microsoft.ContainerService/snapshots/", name};
	size_t len = 0;

	dst[0] = '\0';
	if (p->key == NULL || p->sub == NULL || p->rg == NULL)
		return;
	for (size_t i = 0; i < sizeof(part) / sizeof(part[0]); i++) {
		size_t n = strlen(part[i]);

		if (len + n >= size)
			n = size - 1 - len;
		memcpy(dst + len, part[i], n);
		len += n;
	}
	dst[len] = '\0';
}

/* The pools row of ${id} into ${b}->names (read again only for another
 * id).  0/-1. */
static int
pool_by_id(struct db *db, struct pool_by_id *b, int64_t id)
{
	int rc;

	if (b->s != NULL && b->id == id)
		return 0;
	if (b->s == NULL) {
		b->s = db_stmt(db,
		    "SELECT key, subscription, resource_group FROM pools "
		    "WHERE id = ?1",
		    fact_what[FACT_POOL]);
		if (b->s == NULL)
			return -1;
	}
	sqlite3_reset(b->s);
	b->id = id;
	memset(&b->names, 0, sizeof(b->names));
	if (sqlite3_bind_int64(b->s, 1, id) != SQLITE_OK)
		return db_fail(db, fact_what[FACT_POOL]);
	rc = sqlite3_step(b->s);
	if (rc == SQLITE_ROW) {
		b->names.key = col_or_null(b->s, 0);
		b->names.sub = col_or_null(b->s, 1);
		b->names.rg = col_or_null(b->s, 2);
	} else if (rc != SQLITE_DONE) {
		return db_fail(db, fact_what[FACT_POOL]);
	}
	return 0;
}

/* A SNAP_BRIEF row of ${s} from column ${f} on into ${out}, zeroed. */
static void
snap_brief(sqlite3_stmt *s, int f, struct db_snapshot *out)
{
	out->id = sqlite3_column_int64(s, f);
	out->pool_id = sqlite3_column_int64(s, f + 1);
	db_col_text(s, f + 2, out->name, sizeof(out->name));
	db_col_text(s, f + 3, out->arm_id, sizeof(out->arm_id));
	out->created_at = (time_t)sqlite3_column_int64(s, f + 4);
	db_col_versions(s, f + 5, &out->v);
	db_col_text(s, f + 11, out->state, sizeof(out->state));
	out->promoted_at = (time_t)sqlite3_column_int64(s, f + 12);
}

/* A snapshot row of ${s} from column ${f} on into ${out} (${brief}: a
 * SNAP_BRIEF row into ${out} zeroed), its pool's key and (derived) ARM
 * id from the pool's row: ${own}, the pool walked, or its own by id.
 * 0/-1. */
static int
snap_row(struct db *db, sqlite3_stmt *s, int f, int brief,
    struct db_snapshot *out, int64_t pool_id, const struct pool_names *own,
    struct pool_by_id *other)
{
	const struct pool_names *p = own;

	if (brief)
		snap_brief(s, f, out);
	else
		db_col_snapshot(s, f, out);
	if (out->pool_id != pool_id) {
		if (pool_by_id(db, other, out->pool_id))
			return -1;
		p = &other->names;
	}
	util_strlcpy(
	    out->pool_key, p->key != NULL ? p->key : "", sizeof(out->pool_key));
	if (sqlite3_column_int(
	        s, f + (brief ? SNAP_BRIEF_NCOLS : DB_SNAP_NCOLS)))
		arm_id_derive(out->arm_id, sizeof(out->arm_id), p, out->name);
	return 0;
}

/* An OBS_BRIEF row of ${s} from column ${f} on into ${o}, zeroed. */
static void
obs_brief(sqlite3_stmt *s, int f, struct db_observation *o)
{
	o->id = sqlite3_column_int64(s, f);
	o->observed_at = (time_t)sqlite3_column_int64(s, f + 1);
	db_col_text(
	    s, f + 2, o->v.node_image_version, sizeof(o->v.node_image_version));
	db_col_text(
	    s, f + 3, o->v.kubernetes_version, sizeof(o->v.kubernetes_version));
	db_col_text(
	    s, f + 4, o->provisioning_state, sizeof(o->provisioning_state));
	db_col_text(s, f + 5, o->upgrade_channel, sizeof(o->upgrade_channel));
	db_col_text(s, f + 6, o->node_os_channel, sizeof(o->node_os_channel));
	o->last_seen = (time_t)sqlite3_column_int64(s, f + 7);
}

/* Whether the row of ${s} has a fact from column ${f} on (its first
 * column, the row's id, not NULL). */
static int
found_at(sqlite3_stmt *s, int f)
{
	return sqlite3_column_type(s, f) != SQLITE_NULL;
}

/*
 * Step the pools' statement ${s} (${first}: facts_sql's, for ${want})
 * to the next pool's row and read it into ${r}, zeroed for the pool,
 * and the pools row into ${own}.  0/-1.
 */
static int
pools_step(struct db *db, sqlite3_stmt *s, const int *first, unsigned want,
    struct db_pool_read *r, struct pool_names *own, struct pool_by_id *other)
{
	int f, brief = (want & DB_POOL_BRIEF) != 0;

	if (sqlite3_step(s) != SQLITE_ROW)
		return db_fail(db, facts_what(first));
	f = first[FACT_POOL];
	if (f >= 0) {
		own->key = col_or_null(s, f);
		own->sub = col_or_null(s, f + 1);
		own->rg = col_or_null(s, f + 2);
	}
	f = first[FACT_OBS];
	if (f >= 0 && (r->have_obs = found_at(s, f))) {
		if (brief)
			obs_brief(s, f, &r->obs);
		else
			db_col_observation(s, f, &r->obs);
		util_strlcpy(r->obs.pool_key, own->key != NULL ? own->key : "",
		    sizeof(r->obs.pool_key));
	}
	f = first[FACT_NEWEST];
	if (f >= 0 && (r->have_newest = found_at(s, f))) {
		if (newest_at_only(FACT_NEWEST, want)) {
			r->newest.id = sqlite3_column_int64(s, f);
			r->newest.created_at =
			    (time_t)sqlite3_column_int64(s, f + 1);
		} else if (snap_row(db, s, f, brief, &r->newest, r->pool_id,
		               own, other)) {
			return -1;
		}
	}
	f = first[FACT_SUCCESS];
	if (f >= 0)
		r->last_success = (time_t)sqlite3_column_int64(s, f);
	return 0;
}

/* Step a baseline's statement ${s} to the next pool's row and read it
 * into ${r} (the pool's own row ${own}).  0/-1. */
static int
base_step(struct db *db, sqlite3_stmt *s, unsigned want, struct db_pool_read *r,
    const struct pool_names *own, struct pool_by_id *other)
{
	if (sqlite3_step(s) != SQLITE_ROW)
		return db_fail(db, fact_what[FACT_BASE]);
	r->have_base = found_at(s, 0);
	if (r->have_base &&
	    snap_row(db, s, 0, (want & DB_POOL_BRIEF) != 0, &r->base,
	        r->pool_id, own, other))
		return -1;
	return 0;
}

int
db_pools_read_plan(struct db *db, unsigned fact, char *buf, size_t len)
{
	static const unsigned one_fact[] = {DB_POOL_OBS, DB_POOL_NEWEST,
	    DB_POOL_NEWEST_AT, DB_POOL_BASELINE, DB_POOL_SUCCESS};
	unsigned one = fact & ~(unsigned)DB_POOL_BRIEF;
	struct buf sql;
	int rc = -1;

	buf_init(&sql, (size_t)-1 / 2);
	for (size_t i = 0; i < sizeof(one_fact) / sizeof(one_fact[0]); i++)
		if (one == one_fact[i] &&
		    facts_sql(fact, one == DB_POOL_BASELINE, &sql, NULL) == 0)
			rc = db_explain(db, sql.data, buf, len);
	buf_free(&sql);
	return rc;
}

/*
 * The baselines' statements: one a channel of ${channels}[0..n), each
 * over the ids of its pools (${json}[g], kept until the statements are
 * done); ${group}[k] pool k's.  0/-1 (logged).
 */
struct base_groups {
	size_t n; /* channels */
	sqlite3_stmt **s;
	char **json;
	size_t *group; /* pool k's channel: s[group[k]] */
};

static void
base_groups_free(struct db *db, struct base_groups *g)
{
	for (size_t i = 0; i < g->n; i++) {
		db_stmt_done(db, g->s[i]);
		free(g->json[i]);
	}
	free(g->s);
	free(g->json);
	free(g->group);
}

static int
base_groups_open(struct db *db, const int64_t *pool_ids,
    const char *const *channels, size_t n, unsigned want, struct buf *sql,
    struct base_groups *g)
{
	size_t *first = NULL; /* each channel's first pool */
	int ret = -1, none;

	memset(g, 0, sizeof(*g));
	g->group = calloc(n, sizeof(*g->group));
	first = calloc(n, sizeof(*first));
	if (g->group == NULL || first == NULL)
		goto oom;
	for (size_t k = 0; k < n; k++) {
		size_t i = 0;

		while (i < g->n && strcmp(channels[first[i]], channels[k]) != 0)
			i++;
		if (i == g->n)
			first[g->n++] = k;
		g->group[k] = i;
	}
	g->s = calloc(g->n, sizeof(*g->s));
	g->json = calloc(g->n, sizeof(*g->json));
	if (g->s == NULL || g->json == NULL) {
		g->n = 0;
		goto oom;
	}
	for (size_t i = 0; i < g->n; i++) {
		const char *ch = channels[first[i]];

		if (db_pools_json(pool_ids, channels, n, ch, &g->json[i]))
			goto done;
		g->s[i] =
		    facts_stmt(db, want, 1, g->json[i], ch, sql, NULL, &none);
		if (g->s[i] == NULL)
			goto done;
	}
	ret = 0;
	goto done;
oom:
	log_err(NULL, "store: out of memory");
done:
	free(first);
	return ret;
}

int
db_pools_read(struct db *db, const int64_t *pool_ids,
    const char *const *channels, size_t n, unsigned want, db_pool_read_fn *cb,
    void *ctx)
{
	struct db_pool_read *r = NULL;
	struct pool_names own;
	struct pool_by_id other;
	struct base_groups base;
	char *ids = NULL;
	struct buf sql;
	sqlite3_stmt *s = NULL;
	int first[NFACTS], none = 0, ret = -1;

	if (n == 0)
		return 0;
	memset(&other, 0, sizeof(other));
	memset(&base, 0, sizeof(base));
	buf_init(&sql, (size_t)-1 / 2);
	r = malloc(sizeof(*r));
	if (r == NULL) {
		log_err(NULL, "store: out of memory");
		goto done;
	}
	if (db_pools_json(pool_ids, NULL, n, NULL, &ids))
		goto done;
	s = facts_stmt(db, want, 0, ids, NULL, &sql, first, &none);
	if (s == NULL && !none)
		goto done;
	if ((want & DB_POOL_BASELINE) &&
	    base_groups_open(db, pool_ids, channels, n, want, &sql, &base))
		goto done;
	for (size_t k = 0; k < n; k++) {
		memset(r, 0, sizeof(*r));
		memset(&own, 0, sizeof(own));
		r->pool_id = pool_ids[k];
		if (s != NULL &&
		    pools_step(db, s, first, want, r, &own, &other))
			goto done;
		if (base.n > 0 &&
		    base_step(db, base.s[base.group[k]], want, r, &own, &other))
			goto done;
		ret = cb(ctx, k, r);
		if (ret != 0)
			goto done;
	}
	ret = 0;
done:
	db_stmt_done(db, s);
	base_groups_free(db, &base);
	db_stmt_done(db, other.s);
	free(r);
	free(ids);
	buf_free(&sql);
	return ret;
}
