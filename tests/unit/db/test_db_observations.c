/*
 * test_db_observations.c -- observations as intervals (migration 0012,
 * db_channels.c): a run that sees what the pool's last row says extends it,
 * anything else begins a row, in time order even for a run --as-of in the
 * past; every reader (history, history --changes, latest, the report's
 * observation before a window, the views, db check) reads intervals; and a
 * store written by the old code (one row per observation) migrates to
 * exactly what the new code writes, losing no fact.
 *
 * The old stores are built the way the old code wrote them: raw INSERTs of
 * one row per observation into a store opened with the migrations before
 * 0012 (found by name, so a renumbering does not break these tests).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db.h"
#include "db/db_channels.h"
#include "db/db_check.h"
#include "db/db_report.h"
#include "db/migrations.h"
#include "job/base/util.h"
#include "tests/unit/db/fixture.h"

/* ---- builders ---- */

/* Every row of ${sql}, its columns joined by '|', rows by '\n'. */
static void
raw_rows(const char *path, const char *sql, char *buf, size_t len)
{
	sqlite3_stmt *s = NULL;
	sqlite3 *c = NULL;
	size_t n = 0;

	buf[0] = '\0';
	assert_int_equal(sqlite3_open(path, &c), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(c, sql, -1, &s, NULL), SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW) {
		for (int i = 0; i < sqlite3_column_count(s); i++) {
			const unsigned char *t = sqlite3_column_text(s, i);

			n += (size_t)snprintf(buf + n, len - n, "%s%s",
			    i ? "|" : "", t ? (const char *)t : "NULL");
			assert_true(n < len);
		}
		n += (size_t)snprintf(buf + n, len - n, "\n");
		assert_true(n < len);
	}
	sqlite3_finalize(s);
	sqlite3_close(c);
}

static int64_t
add_pool(struct db *db, const char *key)
{
	struct pool_conf pc;
	int64_t id = 0;

	memset(&pc, 0, sizeof(pc));
	util_strlcpy(pc.key, key, sizeof(pc.key));
	util_strlcpy(pc.subscription, "00000000-0000-0000-0000-000000000001",
	    sizeof(pc.subscription));
	util_strlcpy(pc.resource_group, "rg-test", sizeof(pc.resource_group));
	util_strlcpy(pc.cluster, "aks-test", sizeof(pc.cluster));
	util_strlcpy(pc.nodepool, key, sizeof(pc.nodepool));
	assert_int_equal(db_pool_sync(db, &pc, &id), 0);
	return id;
}

/* One observation as a run makes it. */
struct obs {
	int pool; /* index into the pools array */
	time_t at;
	int missing; /* no versions */
	struct db_versions v;
	char state[16], up[16], nos[16], by[16];
	int run; /* index into the runs array, -1: none */
};

static struct db_observation
extra(const struct obs *o)
{
	struct db_observation x;

	memset(&x, 0, sizeof(x));
	util_strlcpy(x.upgrade_channel, o->up, sizeof(x.upgrade_channel));
	util_strlcpy(x.node_os_channel, o->nos, sizeof(x.node_os_channel));
	util_strlcpy(x.changed_by, o->by, sizeof(x.changed_by));
	return x;
}

/* Record ${o} with the new code. */
static void
record(struct db *db, const int64_t *pools, const int64_t *runs,
    const struct obs *o)
{
	struct db_observation x = extra(o);

	assert_int_equal(
	    db_observation_record(db, o->run >= 0 ? runs[o->run] : 0,
	        pools[o->pool], o->at, o->missing ? NULL : &o->v, o->state, &x),
	    0);
}

/* The old code's INSERT (db_observation_record before 0012), raw. */
static void
record_old(sqlite3_stmt *s, const int64_t *pools, const int64_t *runs,
    const struct obs *o)
{
	const char *t[] = {o->v.node_image_version, o->v.kubernetes_version,
	    o->v.os_type, o->v.os_sku, o->v.vm_size};
	const char *c[] = {o->up, o->nos, o->by};
	int i;

	sqlite3_bind_int64(s, 1, pools[o->pool]);
	if (o->run >= 0)
		sqlite3_bind_int64(s, 2, runs[o->run]);
	else
		sqlite3_bind_null(s, 2);
	sqlite3_bind_int64(s, 3, o->at);
	for (i = 0; i < 5; i++)
		if (o->missing || t[i][0] == '\0')
			sqlite3_bind_null(s, 4 + i);
		else
			sqlite3_bind_text(s, 4 + i, t[i], -1, SQLITE_STATIC);
	if (o->missing)
		sqlite3_bind_null(s, 9);
	else
		sqlite3_bind_int(s, 9, o->v.enable_fips != 0);
	sqlite3_bind_text(s, 10,
	    o->state[0] ? o->state : (o->missing ? "missing" : "unknown"), -1,
	    SQLITE_STATIC);
	for (i = 0; i < 3; i++)
		if (c[i][0] == '\0')
			sqlite3_bind_null(s, 11 + i);
		else
			sqlite3_bind_text(s, 11 + i, c[i], -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(s), SQLITE_DONE);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/* The migrations before 0012. */
static size_t
migrations_before_intervals(void)
{
	size_t n;

	for (n = 0; n < migrations_count; n++)
		if (strstr(migrations[n].name, "_observation_intervals") !=
		    NULL)
			break;
	assert_true(n < migrations_count);
	return n;
}

/*
 * An old-shape store at ${path} holding ${nobs} observations ${obs} (in
 * that order: ids follow it) of ${npools} pools and ${nruns} runs, the
 * pools' and runs' ids in ${pools} and ${runs}; closed again.
 */
static void
build_old_store(const char *path, const struct obs *obs, size_t nobs,
    int npools, int nruns, int64_t *pools, int64_t *runs)
{
	static const char *const keys[] = {"p0", "p1", "p2", "p3"};
	struct db *db = NULL;
	sqlite3 *c = NULL;
	sqlite3_stmt *s = NULL;
	size_t i;

	assert_int_equal(db_open_with_migrations(path, migrations,
	                     migrations_before_intervals(), &db),
	    0);
	for (i = 0; i < (size_t)npools; i++)
		pools[i] = add_pool(db, keys[i]);
	for (i = 0; i < (size_t)nruns; i++)
		assert_int_equal(db_run_start(db, (time_t)(1000 + i),
		                     (time_t)(1000 + i), "run", &runs[i]),
		    0);
	db_close(db);
	assert_int_equal(sqlite3_open(path, &c), SQLITE_OK);
	assert_int_equal(sqlite3_exec(c, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(c,
	        "INSERT INTO observations (pool_id, run_id, observed_at, "
	        "node_image_version, kubernetes_version, os_type, os_sku, "
	        "vm_size, enable_fips, provisioning_state, upgrade_channel, "
	        "node_os_channel, changed_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
	        "?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	        -1, &s, NULL),
	    SQLITE_OK);
	for (i = 0; i < nobs; i++)
		record_old(s, pools, runs, &obs[i]);
	sqlite3_finalize(s);
	assert_int_equal(
	    sqlite3_exec(c, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(c);
}

/* The same, written by the new code into a new store. */
static void
build_new_store(struct db **db, const char *path, const struct obs *obs,
    size_t nobs, int npools, int nruns, int64_t *pools, int64_t *runs)
{
	static const char *const keys[] = {"p0", "p1", "p2", "p3"};
	size_t i;

	assert_int_equal(db_open(path, db), 0);
	for (i = 0; i < (size_t)npools; i++)
		pools[i] = add_pool(*db, keys[i]);
	for (i = 0; i < (size_t)nruns; i++)
		assert_int_equal(db_run_start(*db, (time_t)(1000 + i),
		                     (time_t)(1000 + i), "run", &runs[i]),
		    0);
	for (i = 0; i < nobs; i++)
		record(*db, pools, runs, &obs[i]);
}

/* ---- reading back ---- */

#define MANY 600

struct rows {
	struct db_observation o[MANY];
	int n;
};

static int
collect(void *ctx, const struct db_observation *o)
{
	struct rows *r = ctx;

	assert_true(r->n < MANY);
	r->o[r->n++] = *o;
	return 0;
}

static struct rows *
history(struct db *db, int64_t pool, time_t since, int changes)
{
	struct rows *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	assert_int_equal(db_history(db, pool, since, changes, collect, r), 0);
	return r;
}

/* Two rows say the same (every column a reader shows; ids aside). */
static void
assert_same_row(const struct db_observation *a, const struct db_observation *b)
{
	assert_int_equal(a->pool_id, b->pool_id);
	assert_string_equal(a->pool_key, b->pool_key);
	assert_int_equal(a->observed_at, b->observed_at);
	assert_int_equal(a->last_seen, b->last_seen);
	assert_int_equal(a->run_id, b->run_id);
	assert_int_equal(a->last_run_id, b->last_run_id);
	assert_int_equal(a->seen, b->seen);
	assert_string_equal(a->v.node_image_version, b->v.node_image_version);
	assert_string_equal(a->v.kubernetes_version, b->v.kubernetes_version);
	assert_string_equal(a->v.os_type, b->v.os_type);
	assert_string_equal(a->v.os_sku, b->v.os_sku);
	assert_string_equal(a->v.vm_size, b->v.vm_size);
	assert_int_equal(a->v.enable_fips, b->v.enable_fips);
	assert_string_equal(a->provisioning_state, b->provisioning_state);
	assert_string_equal(a->upgrade_channel, b->upgrade_channel);
	assert_string_equal(a->node_os_channel, b->node_os_channel);
	assert_string_equal(a->changed_by, b->changed_by);
}

static void
assert_sound(struct db *db)
{
	struct db_check_report r;

	assert_int_equal(db_check_full(db, &r), 0);
	for (size_t i = 0; i < r.n; i++)
		print_error("%s: %s\n", r.items[i].kind, r.items[i].detail);
	assert_int_equal(r.n, 0);
	db_check_report_free(&r);
}

/* ---- the writer ---- */

static struct obs
seen_ok(int pool, time_t at, const char *image, int run)
{
	struct obs o;

	memset(&o, 0, sizeof(o));
	o.pool = pool;
	o.at = at;
	o.v = ver(image, "1.33.2", 0);
	util_strlcpy(o.state, "Succeeded", sizeof(o.state));
	util_strlcpy(o.up, "patch", sizeof(o.up));
	util_strlcpy(o.nos, "None", sizeof(o.nos));
	o.run = run;
	return o;
}

/* Ten runs that see the same: one row, first and last sighting, ten. */
static void
test_obs_unchanged_runs_extend_one_row(void **state)
{
	struct fx *f = *state;
	int64_t pools[1], runs[10];
	struct db_observation o;
	struct obs ob;
	struct rows *r;
	int i;

	assert_int_equal(db_open(f->path, &f->db), 0);
	pools[0] = add_pool(f->db, "p0");
	for (i = 0; i < 10; i++) {
		assert_int_equal(
		    db_run_start(f->db, 3600 * i, 3600 * i, "run", &runs[i]),
		    0);
		ob = seen_ok(0, 3600 * (i + 1), "img-1", i);
		record(f->db, pools, runs, &ob);
	}
	assert_int_equal(
	    raw_int(f->path, "SELECT count(*) FROM observations"), 1);
	assert_int_equal(db_observation_latest(f->db, pools[0], &o), 1);
	assert_int_equal(o.observed_at, 3600);
	assert_int_equal(o.last_seen, 36000);
	assert_int_equal(o.run_id, runs[0]);
	assert_int_equal(o.last_run_id, runs[9]);
	assert_int_equal(o.seen, 10);
	assert_string_equal(o.upgrade_channel, "patch");
	/* db_observation_add (no channels) is the same writer */
	assert_int_equal(
	    db_observation_add(f->db, 0, pools[0], 40000, NULL, "missing"), 0);
	assert_int_equal(
	    db_observation_add(f->db, 0, pools[0], 41000, NULL, NULL), 0);
	assert_int_equal(
	    raw_int(f->path, "SELECT count(*) FROM observations"), 2);
	r = history(f->db, pools[0], 0, 0);
	assert_int_equal(r->n, 2);
	assert_string_equal(r->o[1].provisioning_state, "missing");
	assert_int_equal(r->o[1].seen, 2);
	assert_int_equal(r->o[1].last_seen, 41000);
	assert_int_equal(r->o[1].last_run_id, 0);
	free(r);
	assert_sound(f->db);
}

/* Every fact a row records begins a row of its own when it changes. */
static void
test_obs_every_fact_begins_a_row(void **state)
{
	struct fx *f = *state;
	int64_t pools[1], runs[1] = {0};
	struct obs ob;
	struct rows *r;
	time_t at = 100;
	int step, rows = 0;

	assert_int_equal(db_open(f->path, &f->db), 0);
	pools[0] = add_pool(f->db, "p0");
	assert_int_equal(db_run_start(f->db, 1, 1, "run", &runs[0]), 0);
	for (step = 0; step <= 12; step++) {
		ob = seen_ok(0, at, "img-1", 0);
		/* each step: the first state with one fact changed */
		if (step == 1)
			util_strlcpy(ob.v.node_image_version, "img-2", 8);
		if (step == 2)
			util_strlcpy(ob.v.kubernetes_version, "1.34.0", 8);
		if (step == 3)
			util_strlcpy(ob.v.os_type, "Windows", 8);
		if (step == 4)
			util_strlcpy(ob.v.os_sku, "Mariner", 8);
		if (step == 5)
			util_strlcpy(ob.v.vm_size, "Std_D8", 8);
		if (step == 6)
			ob.v.enable_fips = 1;
		if (step == 7)
			util_strlcpy(ob.state, "Upgrading", sizeof(ob.state));
		if (step == 8)
			util_strlcpy(ob.up, "rapid", sizeof(ob.up));
		if (step == 9 || step == 10)
			util_strlcpy(ob.nos, "NodeImage", sizeof(ob.nos));
		/* who changed it: a fact of its own, even in the same state */
		if (step == 10)
			util_strlcpy(ob.by, "aksnap", sizeof(ob.by));
		/* 11: back to the first state, a row again; 12: the same */
		record(f->db, pools, runs, &ob);
		/* and seen once more: no new row */
		ob.at = at + 10;
		ob.by[0] = '\0';
		record(f->db, pools, runs, &ob);
		rows += step != 12;
		assert_int_equal(
		    raw_int(f->path, "SELECT count(*) FROM observations"),
		    rows);
		at += 100;
	}
	r = history(f->db, pools[0], 0, 0);
	assert_int_equal(r->n, 12);
	assert_string_equal(r->o[10].changed_by, "aksnap");
	assert_int_equal(r->o[10].seen, 2);
	assert_string_equal(r->o[10].node_os_channel, "NodeImage");
	assert_string_equal(r->o[9].node_os_channel, "NodeImage");
	assert_int_equal(r->o[11].seen, 4);
	free(r);
	/*
	 * --changes: steps 0-7 each differ from the one before in a version
	 * field or FIPS; 8-11 only in state, channels or changed_by.
	 */
	r = history(f->db, pools[0], 0, 1);
	assert_int_equal(r->n, 8);
	assert_int_equal(r->o[7].observed_at, 800);
	free(r);
}

/*
 * A run --as-of in the past: the interval in force then is extended, or
 * the next one backwards, or a row is inserted in time order (splitting
 * an interval of another state around it); the newest row stays what
 * the pool runs now, and later runs extend it, not the past one.
 */
static void
test_obs_past_as_of(void **state)
{
	struct fx *f = *state;
	int64_t pools[1], runs[1] = {0};
	struct db_observation o;
	struct obs ob;
	struct rows *r;

	assert_int_equal(db_open(f->path, &f->db), 0);
	pools[0] = add_pool(f->db, "p0");
	assert_int_equal(db_run_start(f->db, 1, 1, "run", &runs[0]), 0);
	/* img-1 at 100 and 500; img-2 at 1000 and 1500 */
	ob = seen_ok(0, 100, "img-1", -1);
	record(f->db, pools, runs, &ob);
	ob.at = 500;
	record(f->db, pools, runs, &ob);
	ob = seen_ok(0, 1000, "img-2", -1);
	record(f->db, pools, runs, &ob);
	ob.at = 1500;
	record(f->db, pools, runs, &ob);

	/* img-1 at 300: inside its interval, counted, nothing else moves */
	ob = seen_ok(0, 300, "img-1", 0);
	record(f->db, pools, runs, &ob);
	r = history(f->db, pools[0], 0, 0);
	assert_int_equal(r->n, 2);
	assert_int_equal(r->o[0].seen, 3);
	assert_int_equal(r->o[0].last_seen, 500);
	assert_int_equal(r->o[0].last_run_id, 0); /* not the newest sighting */
	free(r);

	/* img-1 at 700: in the gap, extends img-1 forwards */
	ob.at = 700;
	record(f->db, pools, runs, &ob);
	/* img-2 at 800: in the gap, extends img-2 backwards */
	ob = seen_ok(0, 800, "img-2", 0);
	record(f->db, pools, runs, &ob);
	r = history(f->db, pools[0], 0, 0);
	assert_int_equal(r->n, 2);
	assert_int_equal(r->o[0].last_seen, 700);
	assert_int_equal(r->o[0].last_run_id, runs[0]);
	assert_int_equal(r->o[1].observed_at, 800);
	assert_int_equal(r->o[1].run_id, runs[0]);
	assert_int_equal(r->o[1].seen, 3);
	free(r);

	/* img-3 at 1200, inside img-2 (800-1500): img-2 is split around it */
	ob = seen_ok(0, 1200, "img-3", -1);
	record(f->db, pools, runs, &ob);
	r = history(f->db, pools[0], 0, 0);
	assert_int_equal(r->n, 4);
	assert_int_equal(r->o[1].observed_at, 800);
	assert_int_equal(r->o[1].last_seen, 800);
	assert_int_equal(r->o[1].seen, 2);
	assert_string_equal(r->o[2].v.node_image_version, "img-3");
	assert_int_equal(r->o[2].observed_at, 1200);
	assert_string_equal(r->o[3].v.node_image_version, "img-2");
	assert_int_equal(r->o[3].observed_at, 1500);
	assert_int_equal(r->o[3].seen, 1);
	assert_string_equal(r->o[3].changed_by, "");
	free(r);
	/* --changes sees img-2 come back */
	r = history(f->db, pools[0], 0, 1);
	assert_int_equal(r->n, 4);
	assert_int_equal(r->o[3].observed_at, 1500);
	free(r);
	/* img-4 at 50, before everything: a first row */
	ob = seen_ok(0, 50, "img-4", -1);
	record(f->db, pools, runs, &ob);

	/* what the pool runs now is still the newest sighting ... */
	assert_int_equal(db_observation_latest(f->db, pools[0], &o), 1);
	assert_string_equal(o.v.node_image_version, "img-2");
	assert_int_equal(o.last_seen, 1500);
	/* ... and the next run extends it */
	ob = seen_ok(0, 2000, "img-2", -1);
	record(f->db, pools, runs, &ob);
	assert_int_equal(db_observation_latest(f->db, pools[0], &o), 1);
	assert_int_equal(o.observed_at, 1500);
	assert_int_equal(o.last_seen, 2000);
	assert_int_equal(
	    raw_int(f->path, "SELECT count(*) FROM observations"), 5);
	/* the report's "in force when the window opens" */
	assert_int_equal(
	    db_report_observation_before(f->db, pools[0], 1300, &o), 1);
	assert_string_equal(o.v.node_image_version, "img-3");
	assert_int_equal(
	    db_report_observation_before(f->db, pools[0], 100, &o), 1);
	assert_string_equal(o.v.node_image_version, "img-4");
	assert_sound(f->db);
}

/*
 * A past run that sees the newer state says who changed it, compared with
 * the row in force then (db_observation_at): when the newer row already
 * says the same, that row begins earlier; when it says otherwise, the
 * sighting is a row of its own.
 */
static void
test_obs_past_as_of_keeps_who_changed_it(void **state)
{
	struct fx *f = *state;
	int64_t pools[1], runs[1] = {0};
	struct db_observation o;
	struct obs ob;
	struct rows *r;

	assert_int_equal(db_open(f->path, &f->db), 0);
	pools[0] = add_pool(f->db, "p0");
	ob = seen_ok(0, 100, "img-1", -1);
	record(f->db, pools, runs, &ob);
	ob = seen_ok(0, 500, "img-2", -1);
	util_strlcpy(ob.by, "outside", sizeof(ob.by));
	record(f->db, pools, runs, &ob);
	ob = seen_ok(0, 600, "img-2", -1);
	record(f->db, pools, runs, &ob);

	/* in force at 300: img-1; at 500 and after: img-2 */
	assert_int_equal(db_observation_at(f->db, pools[0], 50, &o), 0);
	assert_int_equal(db_observation_at(f->db, pools[0], 300, &o), 1);
	assert_string_equal(o.v.node_image_version, "img-1");
	assert_int_equal(db_observation_at(f->db, pools[0], 550, &o), 1);
	assert_string_equal(o.v.node_image_version, "img-2");

	/* img-2 at 300, changed "outside" since img-1: img-2 began at 300 */
	ob = seen_ok(0, 300, "img-2", -1);
	util_strlcpy(ob.by, "outside", sizeof(ob.by));
	record(f->db, pools, runs, &ob);
	r = history(f->db, pools[0], 0, 0);
	assert_int_equal(r->n, 2);
	assert_int_equal(r->o[1].observed_at, 300);
	assert_int_equal(r->o[1].seen, 3);
	assert_string_equal(r->o[1].changed_by, "outside");
	free(r);
	/* img-2 at 200 "by aksnap": not what the row says, a row of its own */
	ob = seen_ok(0, 200, "img-2", -1);
	util_strlcpy(ob.by, "aksnap", sizeof(ob.by));
	record(f->db, pools, runs, &ob);
	r = history(f->db, pools[0], 0, 0);
	assert_int_equal(r->n, 3);
	assert_string_equal(r->o[1].changed_by, "aksnap");
	assert_int_equal(r->o[1].observed_at, 200);
	free(r);
	assert_sound(f->db);
}

/* history --since: each interval last seen since then, whole. */
static void
test_obs_history_since_reads_intervals(void **state)
{
	struct fx *f = *state;
	int64_t pools[1], runs[1] = {0};
	struct obs ob;
	struct rows *r;

	assert_int_equal(db_open(f->path, &f->db), 0);
	pools[0] = add_pool(f->db, "p0");
	for (int i = 0; i < 5; i++) {
		ob = seen_ok(0, 100 + 10 * i, "img-1", -1);
		record(f->db, pools, runs, &ob);
	}
	for (int i = 0; i < 5; i++) {
		ob = seen_ok(0, 200 + 10 * i, "img-2", -1);
		record(f->db, pools, runs, &ob);
	}
	r = history(f->db, pools[0], 120, 0);
	assert_int_equal(r->n, 2);
	assert_int_equal(r->o[0].observed_at, 100);
	assert_int_equal(r->o[0].last_seen, 140);
	free(r);
	r = history(f->db, pools[0], 141, 0);
	assert_int_equal(r->n, 1);
	assert_int_equal(r->o[0].observed_at, 200);
	free(r);
	/* --changes: only changes that happened since */
	r = history(f->db, pools[0], 120, 1);
	assert_int_equal(r->n, 1);
	assert_int_equal(r->o[0].observed_at, 200);
	free(r);
	r = history(f->db, pools[0], 241, 0);
	assert_int_equal(r->n, 0);
	free(r);
}

/* db check: intervals end after they begin and do not overlap. */
static void
test_obs_check_finds_broken_intervals(void **state)
{
	struct fx *f = *state;
	struct db_check_report rep;
	int64_t pools[1], runs[1] = {0};
	struct obs ob;

	assert_int_equal(db_open(f->path, &f->db), 0);
	pools[0] = add_pool(f->db, "p0");
	ob = seen_ok(0, 100, "img-1", -1);
	record(f->db, pools, runs, &ob);
	ob.at = 200;
	record(f->db, pools, runs, &ob);
	ob = seen_ok(0, 300, "img-2", -1);
	record(f->db, pools, runs, &ob);
	assert_sound(f->db);
	raw_exec(f->path,
	    "UPDATE observations SET last_seen = 350 "
	    "WHERE node_image_version = 'img-1'");
	raw_exec(f->path,
	    "UPDATE observations SET last_seen = 250 "
	    "WHERE node_image_version = 'img-2'");
	assert_int_equal(db_check_full(f->db, &rep), 0);
	assert_int_equal(rep.n, 2);
	assert_non_null(strstr(rep.items[0].detail,
	    "1 observation(s) last "
	    "seen before first seen"));
	assert_non_null(strstr(rep.items[1].detail,
	    "1 observation(s) "
	    "overlapping the next"));
	db_check_report_free(&rep);
}

/* ---- old stores ---- */

/*
 * ${n} observations over 3 pools, mostly repeating; with ${past}, one in
 * eight goes back in time (only a migration can keep those exactly: the
 * old rows know every sighting's time); missing, FIPS, Upgrading, channels
 * and changed_by now and then.
 */
static void
generate(struct obs *obs, int n, int past)
{
	static const char *const images[] = {"img-1", "img-2", "img-3"};
	static const char *const states[] = {"Succeeded", "Upgrading"};
	static const char *const bys[] = {"aksnap", "auto-upgrade", "outside"};
	unsigned int x = 12345;

	for (int i = 0; i < n; i++) {
		struct obs *o = &obs[i];

		memset(o, 0, sizeof(*o));
		x = x * 1103515245u + 12345u;
		o->pool = (int)((x >> 8) % 3);
		o->at = past && (x >> 12) % 8 == 0
		    ? (time_t)((x >> 4) % (unsigned)(i * 10 + 1))
		    : (time_t)(i * 10 - (x >> 20) % 2 * 5);
		o->run = (int)((x >> 3) % 4) - 1;
		x = x * 1103515245u + 12345u;
		o->v = ver(images[(x >> 16) % 7 == 0 ? (x >> 8) % 3 : 0],
		    (x >> 10) % 11 == 0 ? "1.34.1" : "1.33.2",
		    (x >> 12) % 13 == 0);
		util_strlcpy(
		    o->state, states[(x >> 18) % 9 == 0], sizeof(o->state));
		if ((x >> 14) % 17 == 0) {
			o->missing = 1;
			util_strlcpy(o->state, (x >> 5) % 2 ? "missing" : "",
			    sizeof(o->state));
		}
		util_strlcpy(o->up, (x >> 22) % 19 == 0 ? "rapid" : "patch",
		    sizeof(o->up));
		if ((x >> 24) % 23 == 0)
			util_strlcpy(o->by, bys[(x >> 6) % 3], sizeof(o->by));
	}
}

/* Old rows in history's order: by pool, time, then id (= index). */
static const struct obs *sort_base;

static int
by_pool_time(const void *pa, const void *pb)
{
	int a = *(const int *)pa, b = *(const int *)pb;
	const struct obs *x = &sort_base[a], *y = &sort_base[b];

	if (x->pool != y->pool)
		return x->pool - y->pool;
	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return a - b;
}

/* What history --changes showed before 0012: the old rule, row by row. */
static int
old_changed(const struct obs *a, const struct obs *b)
{
	return strcmp(a->missing ? "" : a->v.node_image_version,
	           b->missing ? "" : b->v.node_image_version) != 0 ||
	    strcmp(a->missing ? "" : a->v.kubernetes_version,
	        b->missing ? "" : b->v.kubernetes_version) != 0 ||
	    strcmp(a->missing ? "" : a->v.os_sku,
	        b->missing ? "" : b->v.os_sku) != 0 ||
	    (!a->missing && a->v.enable_fips) !=
	    (!b->missing && b->v.enable_fips) ||
	    a->missing != b->missing;
}

/*
 * A store the old code wrote (500 observations, some in the past)
 * migrates without losing a fact: history --changes returns exactly the
 * rows (ids included) it returned before; every old row lies in one
 * interval of its pool that records the same facts; the intervals hold
 * 500 sightings; and the store is sound.
 */
static void
test_obs_migration_keeps_every_fact(void **state)
{
	struct fx *f = *state;
	static const time_t sinces[] = {0, 1, 777, 2500, 4999, 10000};
	struct obs *obs = calloc(500, sizeof(*obs));
	int order[500], i, k;
	int64_t pools[3], runs[3];
	long long total = 0;
	struct rows *r;

	assert_non_null(obs);
	generate(obs, 500, 1);
	build_old_store(f->path, obs, 500, 3, 3, pools, runs);
	assert_int_equal(
	    raw_int(f->path, "SELECT count(*) FROM observations"), 500);
	assert_int_equal(db_open(f->path, &f->db), 0);
	assert_true(
	    raw_int(f->path, "SELECT count(*) FROM observations") < 400);

	for (i = 0; i < 500; i++)
		order[i] = i;
	sort_base = obs;
	qsort(order, 500, sizeof(order[0]), by_pool_time);
	for (size_t si = 0; si < sizeof(sinces) / sizeof(sinces[0]); si++) {
		int n = 0;

		r = history(f->db, 0, sinces[si], 1);
		for (i = 0; i < 500; i++) {
			const struct obs *o = &obs[order[i]];
			int changed = i == 0 ||
			    o->pool != obs[order[i - 1]].pool ||
			    old_changed(&obs[order[i - 1]], o);

			if (!changed || o->at < sinces[si])
				continue;
			assert_true(n < r->n);
			/* the old row's id is its index + 1 */
			assert_int_equal(r->o[n].id, order[i] + 1);
			n++;
		}
		assert_int_equal(r->n, n);
		if (si == 0)
			assert_true(n > 30 && n < 400);
		free(r);
	}

	r = history(f->db, 0, 0, 0);
	for (k = 0; k < r->n; k++)
		total += r->o[k].seen;
	assert_int_equal(total, 500);
	for (i = 0; i < 500; i++) {
		const struct obs *o = &obs[i];
		struct db_observation x = extra(o);
		int hits = 0;

		for (k = 0; k < r->n; k++) {
			const struct db_observation *iv = &r->o[k];

			if (iv->pool_id != pools[o->pool] ||
			    iv->observed_at > o->at || iv->last_seen < o->at)
				continue;
			if (strcmp(iv->v.node_image_version,
			        o->missing ? "" : o->v.node_image_version) ||
			    iv->v.enable_fips !=
			        (!o->missing && o->v.enable_fips) ||
			    strcmp(iv->provisioning_state,
			        o->state[0] ? o->state : "missing") ||
			    strcmp(iv->upgrade_channel, x.upgrade_channel))
				continue;
			/* who changed it: on the row it began */
			if (o->by[0] != '\0' &&
			    (iv->observed_at != o->at ||
			        strcmp(iv->changed_by, o->by) != 0))
				continue;
			hits++;
		}
		if (hits == 0)
			fail_msg("observation %d (pool %d at %lld) lost", i,
			    o->pool, (long long)o->at);
	}
	free(r);
	assert_sound(f->db);
	free(obs);
}

/*
 * The same observations, in time order, written by the old code and
 * migrated, or written by the new code: every reader answers the same --
 * history and history --changes for several --since, each pool's latest,
 * the report's observation before a window, the views, the counts.
 */
static void
test_obs_migrated_same_as_fresh(void **state)
{
	struct fx *f = *state;
	static const time_t sinces[] = {0, 1, 777, 2500, 4999};
	struct obs *obs = calloc(500, sizeof(*obs));
	char fresh_path[160], *va = malloc(65536), *vb = malloc(65536);
	int64_t pa[3], pb[3], ra[3], rb[3];
	struct db *fresh = NULL;
	struct db_counts ca, cb;
	int k, changes;

	assert_non_null(obs);
	assert_non_null(va);
	assert_non_null(vb);
	generate(obs, 500, 0);
	build_old_store(f->path, obs, 500, 3, 3, pa, ra);
	assert_int_equal(db_open(f->path, &f->db), 0);
	snprintf(fresh_path, sizeof(fresh_path), "%s/fresh.db", f->dir);
	build_new_store(&fresh, fresh_path, obs, 500, 3, 3, pb, rb);

	for (k = 0; k < 3; k++)
		assert_int_equal(pa[k], pb[k]);
	for (changes = 0; changes < 2; changes++)
		for (size_t si = 0; si < sizeof(sinces) / sizeof(sinces[0]);
		     si++) {
			struct rows *a = history(f->db, 0, sinces[si], changes);
			struct rows *b = history(fresh, 0, sinces[si], changes);

			assert_int_equal(a->n, b->n);
			for (k = 0; k < a->n; k++)
				assert_same_row(&a->o[k], &b->o[k]);
			free(a);
			free(b);
		}
	for (k = 0; k < 3; k++) {
		struct db_observation a, b;

		assert_int_equal(db_observation_latest(f->db, pa[k], &a), 1);
		assert_int_equal(db_observation_latest(fresh, pb[k], &b), 1);
		assert_same_row(&a, &b);
		for (size_t si = 1; si < sizeof(sinces) / sizeof(sinces[0]);
		     si++) {
			int ga = db_report_observation_before(
			    f->db, pa[k], sinces[si], &a);

			assert_int_equal(ga,
			    db_report_observation_before(
			        fresh, pb[k], sinces[si], &b));
			if (ga == 1)
				assert_same_row(&a, &b);
		}
	}
	raw_rows(f->path, "SELECT * FROM version_changes", va, 65536);
	raw_rows(fresh_path, "SELECT * FROM version_changes", vb, 65536);
	assert_true(strlen(va) > 100);
	assert_string_equal(va, vb);
	raw_rows(f->path, "SELECT * FROM current_observations", va, 65536);
	raw_rows(fresh_path, "SELECT * FROM current_observations", vb, 65536);
	assert_string_equal(va, vb);
	assert_int_equal(db_counts(f->db, &ca), 0);
	assert_int_equal(db_counts(fresh, &cb), 0);
	assert_int_equal(ca.observations, cb.observations);
	assert_true(ca.observations < 400);
	assert_sound(f->db);
	assert_sound(fresh);
	db_close(fresh);
	free(va);
	free(vb);
	free(obs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	    T(test_obs_unchanged_runs_extend_one_row),
	    T(test_obs_every_fact_begins_a_row),
	    T(test_obs_past_as_of),
	    T(test_obs_past_as_of_keeps_who_changed_it),
	    T(test_obs_history_since_reads_intervals),
	    T(test_obs_check_finds_broken_intervals),
	    T(test_obs_migration_keeps_every_fact),
	    T(test_obs_migrated_same_as_fresh),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
