/*
 * test_db.c -- the store: opening and refusing files, migrations, backup,
 * and every query of db/db.h against a real SQLite file in a temporary
 * directory.
 *
 * Raw sqlite3 calls appear here only to build fixtures the API cannot make
 * (foreign files, old or newer versions, a concurrent writer) and to look
 * at the file from outside.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ctype.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db/db.h"
#include "db/db_channels.h"
#include "db/db_check.h"
#include "db/db_conflict.h"
#include "db/db_internal.h"
#include "db/db_ladder.h"
#include "db/db_list.h"
#include "db/db_metrics.h"
#include "db/db_report.h"
#include "db/migrations.h"
#include "job/base/util.h"
#include "tests/unit/db/fixture.h"

/* ---- raw access to the file, for fixtures ---- */

static int
exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* What a refused file must keep: size, mtime and every byte. */
struct fileprint {
	struct stat st;
	char *data;
	size_t len;
};

static void
fileprint_take(const char *path, struct fileprint *fp)
{
	char err[256];

	assert_int_equal(stat(path, &fp->st), 0);
	assert_int_equal(util_read_file(path, 1 << 24, &fp->data, &fp->len, err,
	                     sizeof(err)),
	    0);
}

static void
fileprint_assert_same(const char *path, struct fileprint *fp)
{
	struct fileprint now;
	char wal[256];

	fileprint_take(path, &now);
	assert_int_equal(now.st.st_size, fp->st.st_size);
	assert_int_equal(now.st.st_mtim.tv_sec, fp->st.st_mtim.tv_sec);
	assert_int_equal(now.st.st_mtim.tv_nsec, fp->st.st_mtim.tv_nsec);
	assert_int_equal(now.len, fp->len);
	assert_memory_equal(now.data, fp->data, fp->len);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	assert_false(exists(wal));
	free(now.data);
	free(fp->data);
	fp->data = NULL;
}

/* ---- builders ---- */

static void
pool_conf_make(struct pool_conf *pc, const char *key, const char *cluster,
    const char *nodepool)
{
	memset(pc, 0, sizeof(*pc));
	util_strlcpy(pc->key, key, sizeof(pc->key));
	util_strlcpy(pc->subscription, "00000000-0000-0000-0000-000000000001",
	    sizeof(pc->subscription));
	util_strlcpy(pc->resource_group, "rg-test", sizeof(pc->resource_group));
	util_strlcpy(pc->cluster, cluster, sizeof(pc->cluster));
	util_strlcpy(pc->nodepool, nodepool, sizeof(pc->nodepool));
}

static int64_t
add_pool(struct db *db, const char *key)
{
	struct pool_conf pc;
	int64_t id = 0;

	pool_conf_make(&pc, key, "aks-test", "system");
	assert_int_equal(db_pool_sync(db, &pc, &id), 0);
	assert_true(id > 0);
	return id;
}

static int64_t
add_snapshot(struct db *db, int64_t pool_id, const char *name, time_t slot,
    time_t created)
{
	struct db_versions v =
	    ver("AKSUbuntu-2204gen2-202601.01.0", "1.33.2", 0);
	char arm_id[256];
	int64_t id = 0;

	snprintf(arm_id, sizeof(arm_id),
	    "/subscriptions/s/resourceGroups/rg-test/providers/"
	    "Microsoft.ContainerService/snapshots/%s",
	    name);
	assert_int_equal(
	    db_snapshot_intent(db, pool_id, name, arm_id, slot, created, &id),
	    0);
	assert_int_equal(db_snapshot_set_active(db, id, created, &v), 0);
	return id;
}

/* ---- opening, refusing, migrating ---- */

static void
test_db_fresh_store_gets_latest_schema(void **state)
{
	static const char *const objects[] = {"pools", "runs", "observations",
	    "snapshots", "decisions", "current_baselines", "version_changes",
	    "observations_by_pool_time", "snapshots_by_pool_time",
	    "snapshots_by_pool_slot", NULL};
	struct fx *f = *state;
	char sql[256], mode[16];
	int i;

	assert_int_equal(db_open(f->path, &f->db), 0);
	assert_true(db_latest_version() >= 1);
	assert_int_equal(db_schema_version(f->db), db_latest_version());
	assert_int_equal(
	    raw_int(f->path, "PRAGMA application_id"), DB_APPLICATION_ID);
	assert_int_equal(
	    raw_int(f->path, "PRAGMA user_version"), db_latest_version());
	raw_text(f->path, "PRAGMA journal_mode", mode, sizeof(mode));
	assert_string_equal(mode, "wal");
	for (i = 0; objects[i] != NULL; i++) {
		snprintf(sql, sizeof(sql),
		    "SELECT count(*) FROM sqlite_master WHERE name = '%s'",
		    objects[i]);
		if (raw_int(f->path, sql) != 1)
			fail_msg("schema lacks %s", objects[i]);
	}
	/* and the same store opens again without change */
	db_close(f->db);
	f->db = NULL;
	assert_int_equal(db_open_nomigrate(f->path, &f->db), 0);
	assert_int_equal(db_schema_version(f->db), db_latest_version());
}

static void
test_db_foreign_keys_are_enforced(void **state)
{
	struct fx *f = *state;
	struct db_versions v = ver("img", "1.33.2", 0);
	struct db_decision d;
	int64_t pool;

	assert_int_equal(db_open(f->path, &f->db), 0);
	pool = add_pool(f->db, "staging");
	clear_log(f);
	assert_int_equal(
	    db_observation_add(f->db, 0, pool + 100, 1000, &v, "Succeeded"),
	    -1);
	assert_logged(f, "FOREIGN KEY constraint failed");
	memset(&d, 0, sizeof(d));
	d.pool_id = pool;
	d.snapshot_id = 12345;
	d.at = 1000;
	util_strlcpy(d.action, "keep", sizeof(d.action));
	assert_int_equal(db_decision_add(f->db, &d), -1);
	assert_int_equal(
	    db_observation_add(f->db, 0, pool, 1000, &v, "Succeeded"), 0);
}

static void
test_db_migrates_from_every_older_version_keeping_rows(void **state)
{
	struct fx *f = *state;
	struct db_pool p;
	char path[192];
	size_t n;
	int v;

	for (v = 0; v < db_latest_version(); v++) {
		snprintf(path, sizeof(path), "%s/old-%d.db", f->dir, v);
		for (n = 0; n < migrations_count; n++)
			if (migrations[n].version > v)
				break;
		assert_int_equal(
		    db_open_with_migrations(path, migrations, n, &f->db), 0);
		assert_int_equal(db_schema_version(f->db), v);
		if (v >= 1)
			add_pool(f->db, "kept");
		db_close(f->db);
		f->db = NULL;

		assert_int_equal(db_open(path, &f->db), 0);
		assert_int_equal(db_schema_version(f->db), db_latest_version());
		assert_int_equal(
		    raw_int(path, "PRAGMA application_id"), DB_APPLICATION_ID);
		assert_int_equal(db_pool_get(f->db, "kept", &p), v >= 1);
		db_close(f->db);
		f->db = NULL;
	}
}

#define SYNTH_1                                                                \
	{                                                                      \
		1, "0001_a", "CREATE TABLE a (x INTEGER NOT NULL);\n"          \
	}
#define SYNTH_2                                                                \
	{                                                                      \
		2, "0002_b",                                                   \
		    "ALTER TABLE a ADD COLUMN y INTEGER NOT NULL DEFAULT 7;\n" \
		    "CREATE TABLE b (v TEXT NOT NULL);\n"                      \
	}
#define SYNTH_3                                                                \
	{                                                                      \
		3, "0003_c",                                                   \
		    "INSERT INTO b (v) SELECT 'from a ' || x FROM a;\n"        \
		    "CREATE INDEX a_x ON a (x);\n"                             \
	}

static const struct migration synth[] = {SYNTH_1, SYNTH_2, SYNTH_3};

static void
test_db_migrates_synthetic_steps_from_every_version(void **state)
{
	struct fx *f = *state;
	char path[192];
	int k;

	for (k = 0; k < 3; k++) {
		snprintf(path, sizeof(path), "%s/synth-%d.db", f->dir, k);
		assert_int_equal(
		    db_open_with_migrations(path, synth, (size_t)k, &f->db), 0);
		db_close(f->db);
		f->db = NULL;
		if (k >= 1)
			raw_exec(
			    path, "INSERT INTO a (x) VALUES (1), (2), (3)");
		if (k >= 2)
			raw_exec(path, "INSERT INTO b (v) VALUES ('kept')");

		assert_int_equal(
		    db_open_with_migrations(path, synth, 3, &f->db), 0);
		assert_int_equal(db_schema_version(f->db), 3);
		db_close(f->db);
		f->db = NULL;
		assert_int_equal(
		    raw_int(path, "SELECT count(*) FROM a"), k >= 1 ? 3 : 0);
		assert_int_equal(
		    raw_int(path, "SELECT count(*) FROM a WHERE y = 7"),
		    k >= 1 ? 3 : 0);
		assert_int_equal(raw_int(path, "SELECT count(*) FROM b"),
		    (k >= 1 ? 3 : 0) + (k >= 2 ? 1 : 0));
		assert_int_equal(
		    raw_int(path, "PRAGMA application_id"), DB_APPLICATION_ID);
	}
}

static void
test_db_failed_migration_leaves_previous_version_intact(void **state)
{
	static const struct migration broken[] = {SYNTH_1, SYNTH_2,
	    {3, "0003_breaks",
	        "CREATE TABLE c (x);\n"
	        "INSERT INTO a (x) VALUES (99);\n"
	        "INSERT INTO no_such_table VALUES (1);\n"}};
	struct fx *f = *state;

	assert_int_equal(
	    db_open_with_migrations(f->path, broken, 2, &f->db), 0);
	db_close(f->db);
	f->db = NULL;
	raw_exec(f->path, "INSERT INTO a (x) VALUES (1), (2)");

	clear_log(f);
	assert_int_equal(
	    db_open_with_migrations(f->path, broken, 3, &f->db), -1);
	assert_null(f->db);
	assert_logged(f, "migration 0003_breaks failed");
	assert_logged(f, "no_such_table");
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 2);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM a"), 2);
	assert_int_equal(raw_int(f->path,
	                     "SELECT count(*) FROM sqlite_master "
	                     "WHERE name = 'c'"),
	    0);
	/* and the good steps still open it */
	assert_int_equal(
	    db_open_with_migrations(f->path, broken, 2, &f->db), 0);
	assert_int_equal(db_schema_version(f->db), 2);
}

static void
test_db_refuses_newer_store_and_leaves_it_unchanged(void **state)
{
	struct fx *f = *state;
	struct fileprint fp;
	char sql[64], want[128];
	int newer = db_latest_version() + 5;

	assert_int_equal(db_open(f->path, &f->db), 0);
	add_pool(f->db, "staging");
	db_close(f->db);
	f->db = NULL;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", newer);
	raw_exec(f->path, sql);
	fileprint_take(f->path, &fp);

	clear_log(f);
	assert_int_equal(db_open(f->path, &f->db), -1);
	assert_null(f->db);
	snprintf(want, sizeof(want),
	    "schema version %d is newer than this aksnap (knows up to %d); "
	    "upgrade aksnap",
	    newer, db_latest_version());
	assert_logged(f, want);
	assert_int_equal(db_open_nomigrate(f->path, &f->db), -1);
	fileprint_assert_same(f->path, &fp);
}

static void
test_db_refuses_foreign_application_id_and_leaves_it_unchanged(void **state)
{
	struct fx *f = *state;
	struct fileprint fp;

	raw_exec(f->path,
	    "PRAGMA application_id = 305419896;" /* 0x12345678 */
	    "CREATE TABLE t (x); INSERT INTO t VALUES (1);");
	fileprint_take(f->path, &fp);
	clear_log(f);
	assert_int_equal(db_open(f->path, &f->db), -1);
	assert_logged(f, "not an aksnap database (application_id 0x12345678)");
	fileprint_assert_same(f->path, &fp);
}

static void
test_db_refuses_foreign_tables_without_application_id(void **state)
{
	struct fx *f = *state;
	struct fileprint fp;

	raw_exec(f->path, "CREATE TABLE moz_places (x);");
	fileprint_take(f->path, &fp);
	clear_log(f);
	assert_int_equal(db_open(f->path, &f->db), -1);
	assert_logged(f, "not an aksnap database");
	fileprint_assert_same(f->path, &fp);
}

static void
test_db_refuses_non_sqlite_file(void **state)
{
	struct fx *f = *state;
	struct fileprint fp;
	char junk[4096];
	FILE *fh;

	memset(junk, 'x', sizeof(junk));
	memcpy(junk, "not a database at all\n", 22);
	assert_non_null(fh = fopen(f->path, "w"));
	assert_int_equal(fwrite(junk, 1, sizeof(junk), fh), sizeof(junk));
	fclose(fh);
	fileprint_take(f->path, &fp);
	clear_log(f);
	assert_int_equal(db_open(f->path, &f->db), -1);
	assert_logged(f, "not an aksnap database (not an SQLite file)");
	fileprint_assert_same(f->path, &fp);
}

static void
test_db_open_nomigrate_refuses_missing_and_old_stores(void **state)
{
	struct fx *f = *state;
	char path[192];

	assert_int_equal(db_open_nomigrate(f->path, &f->db), -1);
	assert_false(exists(f->path));

	snprintf(path, sizeof(path), "%s/v0.db", f->dir);
	assert_int_equal(
	    db_open_with_migrations(path, migrations, 0, &f->db), 0);
	db_close(f->db);
	f->db = NULL;
	clear_log(f);
	assert_int_equal(db_open_nomigrate(path, &f->db), -1);
	assert_logged(f, "run `aksnap db migrate`");
	assert_int_equal(raw_int(path, "PRAGMA user_version"), 0);
}

static void
test_db_backup_round_trip(void **state)
{
	struct fx *f = *state;
	struct db_versions v = ver("img-1", "1.33.2", 0);
	struct db_counts a, b;
	struct db_snapshot s;
	struct db *copy = NULL;
	char dest[192];
	int64_t pool, snap;

	assert_int_equal(db_open(f->path, &f->db), 0);
	pool = add_pool(f->db, "staging");
	assert_int_equal(
	    db_observation_add(f->db, 0, pool, 1000, &v, "Succeeded"), 0);
	snap = add_snapshot(f->db, pool, "snap-1", 1000, 1000);
	assert_int_equal(db_counts(f->db, &a), 0);

	snprintf(dest, sizeof(dest), "%s/backup.db", f->dir);
	assert_int_equal(db_backup(f->db, dest), 0);
	clear_log(f);
	assert_int_equal(db_backup(f->db, dest), -1); /* exists */
	assert_logged(f, "File exists");

	assert_int_equal(db_open(dest, &copy), 0);
	assert_int_equal(db_schema_version(copy), db_latest_version());
	assert_int_equal(db_counts(copy, &b), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(db_snapshot_get(copy, snap, &s), 1);
	assert_string_equal(s.name, "snap-1");
	assert_string_equal(s.pool_key, "staging");
	assert_string_equal(
	    s.v.node_image_version, "AKSUbuntu-2204gen2-202601.01.0");
	db_close(copy);
}

static void
test_db_busy_store_fails_with_clear_message(void **state)
{
	struct fx *f = *state;
	struct db_versions v = ver("img", "1.33.2", 0);
	sqlite3 *other;
	int64_t pool;

	assert_int_equal(db_open(f->path, &f->db), 0);
	pool = add_pool(f->db, "staging");
	other = raw_lock(f->path);

	db_set_busy_timeout(f->db, 100);
	clear_log(f);
	assert_int_equal(
	    db_observation_add(f->db, 0, pool, 1000, &v, "Succeeded"), -1);
	assert_logged(
	    f, "database is locked by another process (waited 100 ms)");
	clear_log(f);
	assert_int_equal(db_begin(f->db), -1);
	assert_logged(f, "database is locked by another process");

	raw_unlock(other);
	assert_int_equal(
	    db_observation_add(f->db, 0, pool, 1000, &v, "Succeeded"), 0);
}

static void
test_db_transactions_commit_and_roll_back(void **state)
{
	struct fx *f = *state;
	struct db_pool p;

	assert_int_equal(db_open(f->path, &f->db), 0);
	assert_int_equal(db_rollback(f->db), 0); /* none open: no-op */
	assert_int_equal(db_begin(f->db), 0);
	add_pool(f->db, "gone");
	assert_int_equal(db_rollback(f->db), 0);
	assert_int_equal(db_pool_get(f->db, "gone", &p), 0);
	assert_int_equal(db_begin(f->db), 0);
	add_pool(f->db, "kept");
	assert_int_equal(db_commit(f->db), 0);
	assert_int_equal(db_pool_get(f->db, "kept", &p), 1);
}

/* ---- runs and pools ---- */

static void
test_db_runs_start_finish_and_last(void **state)
{
	struct fx *f = *state;
	struct db_run r, last;
	int64_t id1 = 0, id2 = 0, id3 = 0;

	assert_int_equal(db_open(f->path, &f->db), 0);
	assert_int_equal(db_run_last(f->db, NULL, &last), 0);
	assert_int_equal(db_run_start(f->db, 1000, 900, "run", &id1), 0);
	assert_int_equal(db_run_start(f->db, 2000, 2000, "dry-run", &id2), 0);
	assert_int_equal(db_run_start(f->db, 3000, 3000, "run", &id3), 0);
	assert_int_equal(db_run_start(f->db, 3000, 3000, "bogus", &id3), -1);

	/* nothing finished yet */
	assert_int_equal(db_run_last(f->db, "run", &last), 0);

	memset(&r, 0, sizeof(r));
	r.id = id1;
	r.finished_at = 1100;
	r.exit_code = 1;
	r.observed = 4;
	r.taken = 2;
	r.skipped = 1;
	r.deleted = 3;
	r.promoted = 1;
	r.failed = 1;
	assert_int_equal(db_run_finish(f->db, &r), 0);
	r.id = id2;
	r.finished_at = 2100;
	r.exit_code = 0;
	assert_int_equal(db_run_finish(f->db, &r), 0);
	r.id = 9999;
	assert_int_equal(db_run_finish(f->db, &r), -1);

	assert_int_equal(db_run_last(f->db, "run", &last), 1);
	assert_int_equal(last.id, id1);
	assert_int_equal(last.started_at, 1000);
	assert_int_equal(last.finished_at, 1100);
	assert_int_equal(last.as_of, 900);
	assert_string_equal(last.mode, "run");
	assert_int_equal(last.exit_code, 1);
	assert_int_equal(last.observed, 4);
	assert_int_equal(last.taken, 2);
	assert_int_equal(last.skipped, 1);
	assert_int_equal(last.deleted, 3);
	assert_int_equal(last.promoted, 1);
	assert_int_equal(last.failed, 1);
	assert_int_equal(db_run_last(f->db, NULL, &last), 1);
	assert_int_equal(last.id, id2);
	assert_int_equal(db_run_last(f->db, "sync", &last), 0);
}

static void
test_db_pool_sync_upserts_by_key(void **state)
{
	struct fx *f = *state;
	struct pool_conf pc;
	struct db_pool p;
	int64_t id1 = 0, id2 = 0, other = 0;

	assert_int_equal(db_open(f->path, &f->db), 0);
	pool_conf_make(&pc, "staging-system", "aks-staging", "system");
	assert_int_equal(db_pool_sync(f->db, &pc, &id1), 0);
	assert_int_equal(db_pool_get(f->db, "staging-system", &p), 1);
	assert_int_equal(p.id, id1);
	assert_string_equal(p.cluster, "aks-staging");
	assert_string_equal(p.arm_id,
	    "/subscriptions/00000000-0000-0000-0000-000000000001/"
	    "resourceGroups/rg-test/providers/Microsoft.ContainerService/"
	    "managedClusters/aks-staging/agentPools/system");
	assert_string_equal(p.location, "");

	assert_int_equal(db_pool_set_location(f->db, id1, "westeurope"), 0);
	util_strlcpy(pc.nodepool, "user1", sizeof(pc.nodepool));
	assert_int_equal(db_pool_sync(f->db, &pc, &id2), 0);
	assert_int_equal(id2, id1);
	assert_int_equal(db_pool_get(f->db, "staging-system", &p), 1);
	assert_string_equal(p.nodepool, "user1");
	assert_string_equal(p.location, "westeurope"); /* kept by sync */
	assert_non_null(strstr(p.arm_id, "/agentPools/user1"));

	pool_conf_make(&pc, "prod-system", "aks-prod", "system");
	assert_int_equal(db_pool_sync(f->db, &pc, &other), 0);
	assert_true(other != id1);
	assert_int_equal(db_pool_get(f->db, "nope", &p), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pools"), 2);
}

/*
 * A run syncs every pool and records every pool's location: a pool whose
 * row already says what the configuration and Azure say is read, not
 * rewritten (updated_at stays), so a steady fleet's run writes no pool
 * row; a change is still written.
 */
static void
test_db_pool_sync_rewrites_only_a_changed_row(void **state)
{
	struct fx *f = *state;
	struct pool_conf pc;
	int64_t id = 0, again = 0;

	assert_int_equal(db_open(f->path, &f->db), 0);
	pool_conf_make(&pc, "staging-system", "aks-staging", "system");
	assert_int_equal(db_pool_sync(f->db, &pc, &id), 0);
	assert_int_equal(db_pool_set_location(f->db, id, "westeurope"), 0);
	raw_exec(f->path, "UPDATE pools SET updated_at = 0");

	assert_int_equal(db_pool_sync(f->db, &pc, &again), 0);
	assert_int_equal(again, id);
	assert_int_equal(db_pool_set_location(f->db, id, "westeurope"), 0);
	assert_int_equal(raw_int(f->path, "SELECT updated_at FROM pools"), 0);

	assert_int_equal(db_pool_set_location(f->db, id, "northeurope"), 0);
	assert_true(raw_int(f->path, "SELECT updated_at FROM pools") > 0);
	raw_exec(f->path, "UPDATE pools SET updated_at = 0");
	util_strlcpy(pc.nodepool, "user1", sizeof(pc.nodepool));
	assert_int_equal(db_pool_sync(f->db, &pc, &again), 0);
	assert_int_equal(again, id);
	assert_true(raw_int(f->path, "SELECT updated_at FROM pools") > 0);
	assert_int_equal(raw_int(f->path,
	                     "SELECT count(*) FROM pools WHERE nodepool = "
	                     "'user1' AND location = 'northeurope'"),
	    1);
}

/*
 * db_pool_sync_many: the ids db_pool_sync gives, from one read of the
 * pools table; an unchanged row is not rewritten (updated_at stays, also
 * when its ARM id differs only in case, as ST_POOL_SAME's NOCASE
 * compares), a changed one is, a new one is added; the caller's order is
 * kept whatever the keys' order.
 */
static void
test_db_pool_sync_many_writes_only_new_and_changed(void **state)
{
	struct fx *f = *state;
	struct pool_conf pc[4];
	const struct pool_conf *pcs[4];
	int64_t one[4], ids[4];

	assert_int_equal(db_open(f->path, &f->db), 0);
	pool_conf_make(&pc[0], "zed-system", "aks-zed", "system");
	pool_conf_make(&pc[1], "alpha-system", "aks-alpha", "system");
	pool_conf_make(&pc[2], "mid-system", "aks-mid", "system");
	pool_conf_make(&pc[3], "new-system", "aks-new", "system");
	for (int i = 0; i < 3; i++)
		assert_int_equal(db_pool_sync(f->db, &pc[i], &one[i]), 0);
	raw_exec(f->path, "UPDATE pools SET updated_at = 0");
	raw_exec(f->path,
	    "UPDATE pools SET arm_id = upper(arm_id) WHERE key = 'zed-system'");
	util_strlcpy(pc[2].nodepool, "user1", sizeof(pc[2].nodepool));
	for (int i = 0; i < 4; i++)
		pcs[i] = &pc[i];

	assert_int_equal(db_pool_sync_many(f->db, pcs, 4, ids), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ids[i], one[i]);
	assert_true(ids[3] > 0 && ids[3] != one[0] && ids[3] != one[1] &&
	    ids[3] != one[2]);
	assert_int_equal(raw_int(f->path,
	                     "SELECT count(*) FROM pools WHERE updated_at = 0 "
	                     "AND key IN ('zed-system', 'alpha-system')"),
	    2);
	assert_true(raw_int(f->path,
	                "SELECT updated_at FROM pools WHERE key "
	                "= 'mid-system' AND nodepool = 'user1'") > 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pools"), 4);
	/* Again: nothing new, nothing changed, the same ids. */
	assert_int_equal(db_pool_sync_many(f->db, pcs, 4, one), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(one[i], ids[i]);
	assert_int_equal(db_pool_sync_many(f->db, pcs, 0, one), 0);
	/* An ARM id longer than its pieces, or with one piece changed, is
	 * not the same (compared piece by piece): rewritten, same id. */
	raw_exec(f->path, "UPDATE pools SET updated_at = 0");
	raw_exec(f->path,
	    "UPDATE pools SET arm_id = arm_id || 'x' WHERE key = "
	    "'alpha-system'");
	raw_exec(f->path,
	    "UPDATE pools SET arm_id = replace(lower(arm_id), 'aks-zed', "
	    "'aks-zee') "
	    "WHERE key = 'zed-system'");
	assert_int_equal(db_pool_sync_many(f->db, pcs, 4, one), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(one[i], ids[i]);
	assert_int_equal(
	    raw_int(f->path, "SELECT count(*) FROM pools WHERE updated_at = 0"),
	    2);
	assert_int_equal(raw_int(f->path,
	                     "SELECT count(*) FROM pools WHERE arm_id LIKE "
	                     "'%/managedClusters/aks-zed/agentPools/system'"),
	    1);
}

/* How many memo rows (0022) the store holds. */
static long long
memo_rows(const struct fx *f)
{
	return raw_int(f->path, "SELECT count(*) FROM pool_sync_memo");
}

/*
 * The pools synced last are remembered (one row): the same pools again
 * read their ids from it, nothing else.  Pools added, removed, renamed,
 * moved or reordered in the configuration are synced as before; a pools
 * row changed by anyone in a compared column deletes the memo (triggers),
 * and the next sync puts the row back as configured.
 */
static void
test_db_pool_sync_many_reads_its_memo(void **state)
{
	struct fx *f = *state;
	struct pool_conf pc[4];
	const struct pool_conf *pcs[4];
	int64_t ids[4], got[4];

	assert_int_equal(db_open(f->path, &f->db), 0);
	pool_conf_make(&pc[0], "a-system", "aks-a", "system");
	pool_conf_make(&pc[1], "b-system", "aks-b", "system");
	pool_conf_make(&pc[2], "c-system", "aks-c", "system");
	pool_conf_make(&pc[3], "d-system", "aks-d", "system");
	for (int i = 0; i < 4; i++)
		pcs[i] = &pc[i];
	assert_int_equal(memo_rows(f), 0);
	assert_int_equal(db_pool_sync_many(f->db, pcs, 3, ids), 0);
	assert_int_equal(memo_rows(f), 1);

	/* The same pools: the memo's ids (here made wrong on purpose: the
	 * pools table is not read). */
	raw_exec(f->path, "UPDATE pool_sync_memo SET ids = zeroblob(24)");
	assert_int_equal(db_pool_sync_many(f->db, pcs, 3, got), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(got[i], 0);
	raw_exec(f->path, "DELETE FROM pool_sync_memo");
	assert_int_equal(db_pool_sync_many(f->db, pcs, 3, got), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(got[i], ids[i]);
	assert_int_equal(db_pool_sync_many(f->db, pcs, 3, got), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(got[i], ids[i]);

	/* Reordered: each pool its own id. */
	pcs[0] = &pc[2];
	pcs[2] = &pc[0];
	assert_int_equal(db_pool_sync_many(f->db, pcs, 3, got), 0);
	assert_int_equal(got[0], ids[2]);
	assert_int_equal(got[1], ids[1]);
	assert_int_equal(got[2], ids[0]);
	pcs[0] = &pc[0];
	pcs[2] = &pc[2];

	/* Added: a new row, in the memo. */
	assert_int_equal(db_pool_sync_many(f->db, pcs, 4, got), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pools"), 4);
	ids[3] = got[3];
	assert_true(ids[3] > 0);
	assert_int_equal(db_pool_sync_many(f->db, pcs, 4, got), 0);
	assert_int_equal(got[3], ids[3]);

	/* Removed: the others' ids (the row stays, as before). */
	assert_int_equal(db_pool_sync_many(f->db, pcs + 1, 3, got), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(got[i], ids[i + 1]);

	/* Renamed: a row of its own. */
	util_strlcpy(pc[0].key, "a2-system", sizeof(pc[0].key));
	assert_int_equal(db_pool_sync_many(f->db, pcs, 4, got), 0);
	assert_true(got[0] > ids[3]);
	assert_int_equal(
	    raw_int(f->path,
	        "SELECT count(*) FROM pools WHERE key = 'a2-system' "
	        "AND cluster = 'aks-a'"),
	    1);
	ids[0] = got[0];

	/* Moved to another cluster: its row rewritten, the same id. */
	util_strlcpy(pc[1].cluster, "aks-b2", sizeof(pc[1].cluster));
	assert_int_equal(db_pool_sync_many(f->db, pcs, 4, got), 0);
	assert_int_equal(got[1], ids[1]);
	assert_int_equal(
	    raw_int(f->path,
	        "SELECT count(*) FROM pools WHERE key = 'b-system' "
	        "AND cluster = 'aks-b2' AND arm_id LIKE "
	        "'%/managedClusters/aks-b2/agentPools/system'"),
	    1);

	/* A column the sync does not compare: the memo holds. */
	raw_exec(f->path, "UPDATE pools SET location = 'westeurope'");
	assert_int_equal(memo_rows(f), 1);
	/* A compared column changed by someone else: no memo, and the row
	 * is put back as configured. */
	raw_exec(f->path,
	    "UPDATE pools SET cluster = 'aks-x' WHERE key = 'c-system'");
	assert_int_equal(memo_rows(f), 0);
	assert_int_equal(db_pool_sync_many(f->db, pcs, 4, got), 0);
	assert_int_equal(got[2], ids[2]);
	assert_int_equal(
	    raw_int(f->path,
	        "SELECT count(*) FROM pools WHERE key = 'c-system' "
	        "AND cluster = 'aks-c'"),
	    1);
	assert_int_equal(memo_rows(f), 1);
	raw_exec(f->path, "DELETE FROM pools WHERE key = 'd-system'");
	assert_int_equal(memo_rows(f), 0);
	assert_int_equal(db_pool_sync_many(f->db, pcs, 4, got), 0);
	assert_true(got[3] > ids[3]);
}

/* db_metrics_pools' rows, as the per-pool questions answer them. */
struct figures {
	struct db *db;
	int n;
	char keys[4][32];
};

static int
same_figures(void *ctx, const struct db_metrics_pool *m)
{
	struct figures *g = ctx;
	time_t at = 0;
	int failed = -1;

	assert_true(g->n < 4);
	util_strlcpy(g->keys[g->n++], m->key, sizeof(g->keys[0]));
	assert_int_equal(db_pool_last_success(g->db, m->pool_id, &at), 0);
	assert_int_equal(m->last_success, at);
	assert_int_equal(db_pool_outcome_failed(g->db, m->pool_id, &failed), 0);
	assert_int_equal(m->failed, failed);
	return 0;
}

/* db_metrics_snapshot_counts' rows, gathered for two pools. */
struct counted {
	int64_t ids[2];
	long long counts[2][DB_SNAPSHOT_NSTATES];
	int64_t last_id;
	int rows;
};

static int
count_row(void *ctx, int64_t pool_id, int state, long long n)
{
	struct counted *c = ctx;

	assert_true(pool_id >= c->last_id); /* pool id order */
	c->last_id = pool_id;
	assert_true(state >= 0 && state < DB_SNAPSHOT_NSTATES);
	assert_true(n > 0);
	c->rows++;
	for (int i = 0; i < 2; i++)
		if (c->ids[i] == pool_id)
			c->counts[i][state] += n;
	return 0;
}

/*
 * The textfile's figures for every pool in one statement, in key order:
 * the same last success, outcome and counts per state that the per-pool
 * questions give, for a pool with snapshots in three states, a failed
 * outcome and a skip, and for one with nothing.
 */
static void
test_db_metrics_pools_answer_every_pool_at_once(void **state)
{
	struct fx *f = *state;
	struct pool_conf pc;
	struct db_decision d;
	struct figures g;
	struct counted c;
	long long counts[DB_SNAPSHOT_NSTATES], total = 0;
	int64_t zed = 0, alpha = 0, run = 0, s1, s2;

	memset(&g, 0, sizeof(g));
	assert_int_equal(db_open(f->path, &f->db), 0);
	g.db = f->db;
	pool_conf_make(&pc, "zed-system", "aks-zed", "system");
	assert_int_equal(db_pool_sync(f->db, &pc, &zed), 0);
	pool_conf_make(&pc, "alpha-system", "aks-alpha", "system");
	assert_int_equal(db_pool_sync(f->db, &pc, &alpha), 0);
	assert_int_equal(db_run_start(f->db, 5000, 5000, "run", &run), 0);
	s1 = add_snapshot(f->db, zed, "zed-1", 1000, 1000);
	s2 = add_snapshot(f->db, zed, "zed-2", 2000, 2000);
	(void)add_snapshot(f->db, zed, "zed-3", 3000, 3000);
	assert_int_equal(db_snapshot_set_state(f->db, s1, "deleted", NULL), 0);
	assert_int_equal(db_snapshot_set_state(f->db, s2, "failed", "x"), 0);
	assert_int_equal(db_pool_outcome_set(f->db, zed, run, 5000, 1), 0);
	memset(&d, 0, sizeof(d));
	d.run_id = run;
	d.pool_id = zed;
	d.at = 4000;
	util_strlcpy(d.action, "skip", sizeof(d.action));
	util_strlcpy(d.reasons, "unchanged", sizeof(d.reasons));
	assert_int_equal(db_decision_add(f->db, &d), 0);

	assert_int_equal(db_metrics_pools(f->db, same_figures, &g), 0);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.keys[0], "alpha-system");
	assert_string_equal(g.keys[1], "zed-system");

	/* The counts per state, for both, from one walk of the index. */
	memset(&c, 0, sizeof(c));
	c.ids[0] = zed;
	c.ids[1] = alpha;
	assert_int_equal(db_metrics_snapshot_counts(f->db, count_row, &c), 0);
	assert_int_equal(c.rows, 3); /* zed: active, deleted, failed */
	for (int p = 0; p < 2; p++) {
		assert_int_equal(
		    db_pool_snapshot_counts(f->db, c.ids[p], counts), 0);
		for (int i = 0; i < DB_SNAPSHOT_NSTATES; i++)
			assert_int_equal(c.counts[p][i], counts[i]);
	}
	for (int i = 0; i < DB_SNAPSHOT_NSTATES; i++)
		total += c.counts[0][i] + c.counts[1][i];
	assert_int_equal(total, 3);
}

/* ---- report's marks (db_report.c) ---- */

/* What the report read before it read decision_rows itself: the view's
 * rows, reasons and run modes. */
static const char view_events_sql[] =
    "SELECT d.at, d.action, s.name, d.reasons, r.mode FROM decisions d "
    "LEFT JOIN snapshots s ON s.id = d.snapshot_id "
    "LEFT JOIN runs r ON r.id = d.run_id "
    "WHERE d.pool_id = ?1 AND d.last_at >= ?2 AND d.action IN ('create', "
    "'promote', 'demote', 'delete', 'pin', 'unpin', 'fail', 'missing', "
    "'adopt') ORDER BY d.at, d.id";

struct events_seen {
	struct db_report_event e[16];
	size_t n;
};

static int
event_seen(void *ctx, const struct db_report_event *e)
{
	struct events_seen *es = ctx;

	assert_true(es->n < 16);
	es->e[es->n++] = *e;
	return 0;
}

/*
 * db_report_events reads decision_rows and puts each mark's reasons
 * together itself (the text read once by its id, the pool's key for each
 * char(1)) and its run's mode (once a run): row for row what the view
 * decisions gives -- the key interned at the text's start, in its middle
 * and across the 255 bytes a mark keeps, a text stored whole (it holds a
 * char(1) of its own), a decision of no run, another pool's key left as
 * it is -- and db_report_snapshot_counts counts what db_snapshot_list
 * lists.
 */
static void
test_db_report_events_read_as_the_view(void **state)
{
	struct fx *f = *state;
	struct db_report *q = NULL;
	struct events_seen es;
	struct db_snapshot *list = NULL;
	sqlite3_stmt *s;
	char long_reasons[400], want[256];
	int64_t pool, other, run, promote, s1, s2, s3;
	size_t n = 0, nlist = 0, pinned = 0, npinned = 0, k = 0;

	assert_int_equal(db_open(f->path, &f->db), 0);
	pool = add_pool(f->db, "pool-k");
	other = add_pool(f->db, "other-k");
	assert_int_equal(db_run_start(f->db, 900, 900, "run", &run), 0);
	assert_int_equal(db_run_start(f->db, 950, 950, "promote", &promote), 0);
	s1 = add_snapshot(f->db, pool, "pool-k-1", 1000, 1000);
	s2 = add_snapshot(f->db, pool, "pool-k-2", 1100, 1100);
	s3 = add_snapshot(f->db, pool, "pool-k-3", 1200, 1200);
	(void)add_snapshot(f->db, other, "other-k-1", 1000, 1000);
	assert_int_equal(db_snapshot_set_pinned(f->db, s2, 1), 0);
	assert_int_equal(db_snapshot_set_state(f->db, s3, "deleted", NULL), 0);
	/* the key ends across byte 255 of the reasons a mark keeps */
	memset(long_reasons, 'x', sizeof(long_reasons));
	memcpy(long_reasons, "channel stable: ", 16);
	memcpy(long_reasons + 251, "pool-k", 6);
	long_reasons[sizeof(long_reasons) - 1] = '\0';
	add_decision(
	    f->db, run, pool, s1, 1000, 0, "create", "pool-k taken", "");
	add_decision(
	    f->db, promote, pool, s1, 1050, 0, "promote", long_reasons, "");
	add_decision(f->db, 0, pool, s3, 1250, 0, "delete",
	    "unchanged since pool-k-2; other-k's pool-k", "");
	add_decision(
	    f->db, run, pool, 0, 1300, 0, "fail", "raw \001 pool-k", "");
	add_decision(f->db, run, pool, s2, 1400, 0, "pin", "by hand", "");
	add_decision(f->db, run, pool, s2, 1500, 0, "keep", "pool-k last", "");
	add_decision(
	    f->db, run, other, 0, 1300, 0, "fail", "other-k failed", "");

	/* the failure again: its open range reaches 1600, its row 1300 */
	add_decision(
	    f->db, run, pool, 0, 1600, 0, "fail", "raw \001 pool-k", "");

	assert_int_equal(db_report_open(f->db, &q), 0);
	s = db_prepare(f->db, view_events_sql, "test");
	assert_non_null(s);
	for (int pass = 0; pass < 2; pass++) {
		time_t since = pass == 0 ? 1550 : 0;

		memset(&es, 0, sizeof(es));
		assert_int_equal(
		    db_report_events(q, pool, "pool-k", since, event_seen, &es),
		    0);
		assert_int_equal(es.n, pass == 0 ? 1 : 5);
		sqlite3_reset(s);
		assert_int_equal(sqlite3_bind_int64(s, 1, pool), SQLITE_OK);
		assert_int_equal(sqlite3_bind_int64(s, 2, since), SQLITE_OK);
		for (k = 0; sqlite3_step(s) == SQLITE_ROW; k++) {
			const struct db_report_event *e = &es.e[k];

			assert_true(k < es.n);
			assert_int_equal(e->at, sqlite3_column_int64(s, 0));
			db_col_text(s, 1, want, sizeof(want));
			assert_string_equal(e->action, want);
			db_col_text(s, 2, want, sizeof(want));
			assert_string_equal(e->snapshot, want);
			db_col_text(s, 3, want, sizeof(want));
			assert_string_equal(e->reasons, want);
			db_col_text(s, 4, want, sizeof(want));
			assert_string_equal(e->run_mode, want);
		}
		assert_int_equal(k, es.n);
	}
	sqlite3_finalize(s);
	/* what the view gave, spelled out */
	assert_string_equal(es.e[0].reasons, "pool-k taken");
	assert_string_equal(es.e[0].run_mode, "run");
	assert_string_equal(es.e[1].run_mode, "promote");
	assert_int_equal(strlen(es.e[1].reasons), 255);
	assert_string_equal(es.e[1].reasons + 251, "pool");
	assert_string_equal(
	    es.e[2].reasons, "unchanged since pool-k-2; other-k's pool-k");
	assert_string_equal(es.e[2].run_mode, "");
	assert_string_equal(es.e[3].reasons, "raw \001 pool-k");

	assert_int_equal(db_report_snapshot_counts(q, pool, &n, &pinned), 0);
	assert_int_equal(
	    db_snapshot_list(f->db, pool, "active", &list, &nlist), 0);
	for (size_t i = 0; i < nlist; i++)
		npinned += list[i].pinned != 0;
	free(list);
	assert_int_equal(n, 2);
	assert_int_equal(n, nlist);
	assert_int_equal(pinned, 1);
	assert_int_equal(pinned, npinned);
	db_report_close(q);
}

/* ---- the topic files' statement cache (db_stmt.c) ---- */

/*
 * A topic file's statement is prepared once per connection: asking the
 * same question again (from another buffer holding the same text) reuses
 * it; a statement still lent (a row callback asking the same question)
 * gets a fresh copy that db_stmt_done finalizes, and the cache does not
 * grow; db_close finalizes the cache, so SQLite closes the connection
 * without complaint (and valgrind sees nothing left).
 */
static void
test_db_stmt_cache_prepares_each_text_once(void **state)
{
	struct fx *f = *state;
	struct pool_conf pc;
	struct db_observation o;
	sqlite3_stmt *a, *b, *c;
	char copy[64];
	int64_t id = 0;
	size_t n;

	assert_int_equal(db_open(f->path, &f->db), 0);
	pool_conf_make(&pc, "staging-system", "aks-staging", "system");
	assert_int_equal(db_pool_sync(f->db, &pc, &id), 0);
	n = db_stmt_count(f->db);

	/* the same question a second time: no statement more */
	assert_int_equal(db_observation_at(f->db, id, 1000, &o), 0);
	assert_int_equal(db_stmt_count(f->db), n + 1);
	assert_int_equal(db_observation_at(f->db, id, 2000, &o), 0);
	assert_int_equal(db_stmt_count(f->db), n + 1);

	/* keyed by the text, not by where it lives */
	a = db_stmt(f->db, "SELECT count(*) FROM pools", "count");
	assert_non_null(a);
	assert_int_equal(sqlite3_step(a), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(a, 0), 1);
	/* lent and stepping: the same text gets a statement of its own */
	snprintf(copy, sizeof(copy), "%s", "SELECT count(*) FROM pools");
	b = db_stmt(f->db, copy, "count");
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	assert_int_equal(sqlite3_step(b), SQLITE_ROW);
	db_stmt_done(f->db, b);
	db_stmt_done(f->db, a);
	assert_int_equal(db_stmt_count(f->db), n + 2);
	/* given back: the cached one again, reset, its bindings cleared */
	c = db_stmt(f->db, copy, "count");
	assert_ptr_equal(c, a);
	assert_int_equal(sqlite3_step(c), SQLITE_ROW);
	db_stmt_done(f->db, c);
	db_stmt_done(f->db, NULL);

	/* a statement SQLite refuses: NULL, logged with what was asked */
	clear_log(f);
	assert_null(db_stmt(f->db, "SELECT nope FROM nowhere", "ask nowhere"));
	assert_logged(f, "ask nowhere");
	assert_int_equal(db_stmt_count(f->db), n + 2);

	/* closed with its cache: sqlite3_close succeeds, nothing logged */
	clear_log(f);
	db_close(f->db);
	f->db = NULL;
	assert_string_equal(f->log, "");
}

/*
 * db_observation_in_force reads the row in force and whether it is equal
 * in one statement; db_observation_record_in_force writes from it what
 * db_observation_record writes: the same row extended, or a new one.
 */
static void
test_db_observation_in_force_then_record(void **state)
{
	struct fx *f = *state;
	struct pool_conf pc;
	struct db_versions v, w;
	struct db_obs_in_force fi;
	int64_t id = 0;

	memset(&v, 0, sizeof(v));
	util_strlcpy(
	    v.node_image_version, "img-1", sizeof(v.node_image_version));
	util_strlcpy(
	    v.kubernetes_version, "1.30.1", sizeof(v.kubernetes_version));
	w = v;
	util_strlcpy(
	    w.node_image_version, "img-2", sizeof(w.node_image_version));
	assert_int_equal(db_open(f->path, &f->db), 0);
	pool_conf_make(&pc, "staging-system", "aks-staging", "system");
	assert_int_equal(db_pool_sync(f->db, &pc, &id), 0);

	assert_int_equal(db_observation_in_force(
	                     f->db, id, 1000, &v, "Succeeded", NULL, &fi),
	    0);
	assert_int_equal(fi.found, 0);
	assert_int_equal(db_observation_record_in_force(
	                     f->db, 0, id, 1000, &v, "Succeeded", NULL, &fi),
	    0);
	/* the same again: found, equal, extended (no row more) */
	assert_int_equal(db_observation_in_force(
	                     f->db, id, 2000, &v, "Succeeded", NULL, &fi),
	    0);
	assert_int_equal(fi.found, 1);
	assert_int_equal(fi.same, 1);
	assert_string_equal(fi.row.v.node_image_version, "img-1");
	assert_int_equal(fi.row.last_seen, 1000);
	assert_int_equal(db_observation_record_in_force(
	                     f->db, 0, id, 2000, &v, "Succeeded", NULL, &fi),
	    0);
	assert_int_equal(
	    raw_int(f->path, "SELECT count(*) FROM observations"), 1);
	assert_int_equal(
	    raw_int(f->path, "SELECT last_seen FROM observations"), 2000);
	/* another image: found, not equal, a new row */
	assert_int_equal(db_observation_in_force(
	                     f->db, id, 3000, &w, "Succeeded", NULL, &fi),
	    0);
	assert_int_equal(fi.found, 1);
	assert_int_equal(fi.same, 0);
	assert_int_equal(db_observation_record_in_force(
	                     f->db, 0, id, 3000, &w, "Succeeded", NULL, &fi),
	    0);
	assert_int_equal(
	    raw_int(f->path, "SELECT count(*) FROM observations"), 2);
	/* another provisioning state is another fact too */
	assert_int_equal(db_observation_in_force(
	                     f->db, id, 4000, &w, "Upgrading", NULL, &fi),
	    0);
	assert_int_equal(fi.same, 0);
}

/* ---- observations and history ---- */

struct seen {
	time_t at[32];
	int64_t pool[32];
	char state[32][16];
	int n, stop_after;
};

static int
collect(void *ctx, const struct db_observation *o)
{
	struct seen *s = ctx;

	if (s->n < 32) {
		s->at[s->n] = o->observed_at;
		s->pool[s->n] = o->pool_id;
		util_strlcpy(
		    s->state[s->n], o->provisioning_state, sizeof(s->state[0]));
		s->n++;
	}
	return s->stop_after != 0 && s->n >= s->stop_after;
}

/*
 * Pool A: 100 v1, 200 v1, 300 v2, 400 v2, 500 missing, 600 missing,
 * 700 v2, 800 v2+fips.  Changes: 100 300 500 700 800.  Pool B, interleaved:
 * 150 v1, 250 v1.  Changes: 150.  Intervals (0012): A 100-200, 300
 * (Upgrading), 400, 500-600, 700, 800; B 150-250.
 */
static void
history_fixture(struct db *db, int64_t *a, int64_t *b)
{
	struct db_versions v1 = ver("img-1", "1.33.2", 0);
	struct db_versions v2 = ver("img-2", "1.33.2", 0);
	struct db_versions v2f = ver("img-2", "1.33.2", 1);
	int64_t run = 0;

	*a = add_pool(db, "a");
	*b = add_pool(db, "b");
	assert_int_equal(db_run_start(db, 100, 100, "run", &run), 0);
	assert_int_equal(
	    db_observation_add(db, run, *a, 100, &v1, "Succeeded"), 0);
	assert_int_equal(
	    db_observation_add(db, run, *b, 150, &v1, "Succeeded"), 0);
	assert_int_equal(
	    db_observation_add(db, run, *a, 200, &v1, "Succeeded"), 0);
	assert_int_equal(
	    db_observation_add(db, run, *b, 250, &v1, "Succeeded"), 0);
	/* inserted out of order: history orders by time, not by id */
	assert_int_equal(
	    db_observation_add(db, run, *a, 400, &v2, "Succeeded"), 0);
	assert_int_equal(
	    db_observation_add(db, run, *a, 300, &v2, "Upgrading"), 0);
	assert_int_equal(
	    db_observation_add(db, 0, *a, 500, NULL, "missing"), 0);
	assert_int_equal(db_observation_add(db, 0, *a, 600, NULL, NULL), 0);
	assert_int_equal(
	    db_observation_add(db, 0, *a, 700, &v2, "Succeeded"), 0);
	assert_int_equal(
	    db_observation_add(db, 0, *a, 800, &v2f, "Succeeded"), 0);
}

static void
test_db_observation_latest_is_newest(void **state)
{
	struct fx *f = *state;
	struct db_observation o;
	int64_t a, b, c;

	assert_int_equal(db_open(f->path, &f->db), 0);
	history_fixture(f->db, &a, &b);
	c = add_pool(f->db, "c");
	assert_int_equal(db_observation_latest(f->db, c, &o), 0);
	assert_int_equal(db_observation_latest(f->db, a, &o), 1);
	assert_int_equal(o.observed_at, 800);
	assert_int_equal(o.pool_id, a);
	assert_string_equal(o.pool_key, "a");
	assert_string_equal(o.v.node_image_version, "img-2");
	assert_string_equal(o.v.os_sku, "Ubuntu");
	assert_int_equal(o.v.enable_fips, 1);
	assert_int_equal(o.run_id, 0);
	assert_int_equal(db_observation_latest(f->db, b, &o), 1);
	/* one interval: first seen 150, last seen 250, twice */
	assert_int_equal(o.observed_at, 150);
	assert_int_equal(o.last_seen, 250);
	assert_int_equal(o.seen, 2);
	assert_true(o.run_id > 0);
	assert_int_equal(o.last_run_id, o.run_id);
}

static void
test_db_history_lists_every_observation_in_time_order(void **state)
{
	static const time_t want[] = {100, 300, 400, 500, 700, 800};
	struct fx *f = *state;
	struct seen s;
	int64_t a, b;
	int i;

	assert_int_equal(db_open(f->path, &f->db), 0);
	history_fixture(f->db, &a, &b);
	memset(&s, 0, sizeof(s));
	assert_int_equal(db_history(f->db, a, 0, 0, collect, &s), 0);
	assert_int_equal(s.n, 6);
	for (i = 0; i < 6; i++)
		assert_int_equal(s.at[i], want[i]);
	/* 500 missing and 600 with a NULL state, no versions: one interval */
	assert_string_equal(s.state[3], "missing");

	memset(&s, 0, sizeof(s));
	assert_int_equal(db_history(f->db, a, 350, 0, collect, &s), 0);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.at[0], 400);
	/* since inside an interval: the interval, from its first sighting */
	memset(&s, 0, sizeof(s));
	assert_int_equal(db_history(f->db, a, 550, 0, collect, &s), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.at[0], 500);

	/* every pool: each pool's rows together, oldest first */
	memset(&s, 0, sizeof(s));
	assert_int_equal(db_history(f->db, 0, 0, 0, collect, &s), 0);
	assert_int_equal(s.n, 7);
	for (i = 0; i < 6; i++)
		assert_int_equal(s.pool[i], a);
	assert_int_equal(s.pool[6], b);
	assert_int_equal(s.at[6], 150);

	/* the callback stops it */
	memset(&s, 0, sizeof(s));
	s.stop_after = 3;
	assert_int_equal(db_history(f->db, 0, 0, 0, collect, &s), 0);
	assert_int_equal(s.n, 3);
}

static void
test_db_history_changes_only_keeps_version_changes(void **state)
{
	struct fx *f = *state;
	struct seen s;
	int64_t a, b;

	assert_int_equal(db_open(f->path, &f->db), 0);
	history_fixture(f->db, &a, &b);

	memset(&s, 0, sizeof(s));
	assert_int_equal(db_history(f->db, a, 0, 1, collect, &s), 0);
	assert_int_equal(s.n, 5);
	assert_int_equal(s.at[0], 100); /* the first counts */
	assert_int_equal(
	    s.at[1], 300); /* image; state Upgrading is no change */
	assert_int_equal(s.at[2], 500); /* went missing */
	assert_int_equal(s.at[3], 700); /* came back */
	assert_int_equal(s.at[4], 800); /* FIPS */

	/* since: compared with the observation before it, not "first" */
	memset(&s, 0, sizeof(s));
	assert_int_equal(db_history(f->db, a, 350, 1, collect, &s), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.at[0], 500);
	memset(&s, 0, sizeof(s));
	assert_int_equal(db_history(f->db, a, 300, 1, collect, &s), 0);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.at[0], 300);

	memset(&s, 0, sizeof(s));
	assert_int_equal(db_history(f->db, 0, 0, 1, collect, &s), 0);
	assert_int_equal(s.n, 6);
	assert_int_equal(s.pool[5], b);
	assert_int_equal(s.at[5], 150);

	memset(&s, 0, sizeof(s));
	assert_int_equal(db_history(f->db, b, 200, 1, collect, &s), 0);
	assert_int_equal(s.n, 0);
}

/* Every interval, as one text a row, the way db_history or
 * db_history_lines hands it over (the columns `history` shows). */
struct lines_seen {
	char text[64][512];
	int n, pass1;
};

static void
lines_seen_add(struct lines_seen *s, const char *key, time_t at, time_t last,
    long long seen, const char *image, const char *k8s, const char *sku,
    const char *vm, const char *state, const char *by)
{
	if (s->n < 64)
		snprintf(s->text[s->n++], sizeof(s->text[0]),
		    "%s|%lld|%lld|%lld|%s|%s|%s|%s|%s|%s", key, (long long)at,
		    (long long)last, seen, image, k8s, sku, vm, state, by);
}

static int
seen_observation(void *ctx, const struct db_observation *o)
{
	lines_seen_add(ctx, o->pool_key, o->observed_at, o->last_seen, o->seen,
	    o->v.node_image_version, o->v.kubernetes_version, o->v.os_sku,
	    o->v.vm_size, o->provisioning_state, o->changed_by);
	return 0;
}

static int
seen_line(void *ctx, int pass, const struct db_history_line *l)
{
	struct lines_seen *s = ctx;

	if (pass == 1) {
		s->pass1++;
		return 0;
	}
	lines_seen_add(s, l->pool_key, l->observed_at, l->last_seen, l->seen,
	    l->node_image_version, l->kubernetes_version, l->os_sku, l->vm_size,
	    l->provisioning_state, l->changed_by);
	return 0;
}

/*
 * db_history_lines (`history`'s table) hands over the rows db_history
 * does, in its order, each column as struct db_observation holds it (a
 * text too long for its field cut the same), for one pool and every
 * pool, every interval and the changes only, at every since; its every
 * pool's statements seek the index a pool, as db_history's.
 */
static void
test_db_history_lines_are_db_history_s(void **state)
{
	static const time_t since[] = {0, 250, 300, 350, 550, 900};
	struct fx *f = *state;
	struct lines_seen *a = calloc(1, sizeof(*a)),
	                  *b = calloc(1, sizeof(*b));
	char plan[2048], sql[512], big[301];
	int64_t pool[3] = {0}, run = 0;
	int passes = 2, n = 0;

	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(db_open(f->path, &f->db), 0);
	history_fixture(f->db, &pool[1], &pool[2]);
	/* an image and a VM size longer than their fields, a change's
	 * author, an interval seen twice */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(sql, sizeof(sql),
	    "UPDATE observations SET node_image_version = '%s', "
	    "vm_size = '%.100s', changed_by = 'outside' WHERE observed_at = "
	    "700",
	    big, big);
	assert_int_equal(
	    sqlite3_exec(db_sqlite(f->db), sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(db_run_start(f->db, 900, 900, "run", &run), 0);
	{
		struct db_versions v1 = ver("img-1", "1.33.2", 0);

		assert_int_equal(db_observation_add(f->db, run, pool[2], 900,
		                     &v1, "Succeeded"),
		    0);
	}
	for (size_t p = 0; p < 3; p++)
		for (int changes = 0; changes < 2; changes++)
			for (size_t i = 0; i < sizeof(since) / sizeof(since[0]);
			     i++) {
				memset(a, 0, sizeof(*a));
				memset(b, 0, sizeof(*b));
				assert_int_equal(
				    db_history(f->db, pool[p], since[i],
				        changes, seen_observation, a),
				    0);
				assert_int_equal(
				    db_history_lines(f->db, pool[p], since[i],
				        changes, &passes, seen_line, b),
				    0);
				assert_int_equal(a->n, b->n);
				assert_int_equal(b->pass1, b->n);
				for (int r = 0; r < a->n; r++)
					assert_string_equal(
					    a->text[r], b->text[r]);
				n += a->n;
			}
	/* the fixture's rows, not an empty comparison */
	assert_true(n > 60);
	assert_int_equal(
	    db_history_lines_plan(f->db, 0, 1, plan, sizeof(plan)), 0);
	assert_non_null(strstr(
	    plan, "INDEX observations_changes (pool_id=? AND observed_at>?)"));
	assert_null(strstr(plan, "TEMP B-TREE"));
	assert_int_equal(
	    db_history_lines_plan(f->db, 0, 0, plan, sizeof(plan)), 0);
	assert_non_null(strstr(plan,
	    "INDEX observations_by_pool_time (pool_id=? AND observed_at>?)"));
	assert_null(strstr(plan, "TEMP B-TREE"));
	free(a);
	free(b);
}

static void
test_db_history_changes_only_counts_going_missing(void **state)
{
	struct fx *f = *state;
	struct db_versions v = ver("img-1", "1.33.2", 0);
	struct seen s;
	int64_t c;

	/* same versions throughout: only the missing flag changes */
	assert_int_equal(db_open(f->path, &f->db), 0);
	c = add_pool(f->db, "c");
	assert_int_equal(
	    db_observation_add(f->db, 0, c, 100, &v, "Succeeded"), 0);
	assert_int_equal(
	    db_observation_add(f->db, 0, c, 200, &v, "missing"), 0);
	assert_int_equal(
	    db_observation_add(f->db, 0, c, 300, &v, "missing"), 0);
	assert_int_equal(db_observation_add(f->db, 0, c, 400, &v, "Failed"), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(db_history(f->db, c, 0, 1, collect, &s), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.at[0], 100);
	assert_int_equal(s.at[1], 200);
	assert_int_equal(s.at[2], 400);
	assert_int_equal(
	    raw_int(f->path, "SELECT count(*) FROM version_changes"), 3);
}

struct nested {
	struct db *db;
	int outer, inner;
};

static int
count_inner(void *ctx, const struct db_observation *o)
{
	struct nested *n = ctx;

	(void)o;
	n->inner++;
	return 0;
}

static int
nest(void *ctx, const struct db_observation *o)
{
	struct nested *n = ctx;

	n->outer++;
	/* the same query again from inside its own callback */
	return db_history(n->db, o->pool_id, 0, 0, count_inner, n);
}

static void
test_db_history_callback_may_query_history_again(void **state)
{
	struct fx *f = *state;
	struct nested n;
	int64_t a, b;

	assert_int_equal(db_open(f->path, &f->db), 0);
	history_fixture(f->db, &a, &b);
	memset(&n, 0, sizeof(n));
	n.db = f->db;
	assert_int_equal(db_history(f->db, a, 0, 0, nest, &n), 0);
	assert_int_equal(n.outer, 6);
	assert_int_equal(n.inner, 36);
}

/* ---- snapshots ---- */

static void
test_db_snapshot_intent_then_active_fills_fields(void **state)
{
	struct fx *f = *state;
	struct db_versions v = ver("img-9", "1.34.0", 1);
	struct db_snapshot s;
	int64_t pool, id = 0;

	assert_int_equal(db_open(f->path, &f->db), 0);
	pool = add_pool(f->db, "staging");
	assert_int_equal(db_snapshot_intent(f->db, pool, "snap-a",
	                     "/arm/snap-a", 5000, 5010, &id),
	    0);
	assert_int_equal(db_snapshot_get(f->db, id, &s), 1);
	assert_string_equal(s.state, "creating");
	assert_int_equal(s.slot, 5000);
	assert_int_equal(s.created_at, 5010);
	assert_string_equal(s.v.node_image_version, "");

	assert_int_equal(db_snapshot_set_active(f->db, id, 5020, &v), 0);
	assert_int_equal(db_snapshot_get(f->db, id, &s), 1);
	assert_string_equal(s.state, "active");
	assert_int_equal(s.created_at, 5020);
	assert_string_equal(s.name, "snap-a");
	assert_string_equal(s.arm_id, "/arm/snap-a");
	assert_string_equal(s.pool_key, "staging");
	assert_int_equal(s.pool_id, pool);
	assert_string_equal(s.v.node_image_version, "img-9");
	assert_string_equal(s.v.kubernetes_version, "1.34.0");
	assert_string_equal(s.v.os_type, "Linux");
	assert_string_equal(s.v.vm_size, "Standard_D4s_v5");
	assert_int_equal(s.v.enable_fips, 1);
	assert_int_equal(s.pinned, 0);
	assert_string_equal(s.channel, "");
	assert_string_equal(s.error, "");

	/* created_at 0 keeps the recorded one */
	assert_int_equal(db_snapshot_set_active(f->db, id, 0, &v), 0);
	assert_int_equal(db_snapshot_get(f->db, id, &s), 1);
	assert_int_equal(s.created_at, 5020);
	assert_int_equal(db_snapshot_get(f->db, id + 100, &s), 0);
	assert_int_equal(db_snapshot_set_active(f->db, id + 100, 1, &v), -1);
}

static void
test_db_snapshot_intent_reuses_failed_row_only(void **state)
{
	struct fx *f = *state;
	struct db_versions v = ver("img", "1.33.2", 0);
	struct db_snapshot s;
	int64_t pool, id = 0, again = 0;

	assert_int_equal(db_open(f->path, &f->db), 0);
	pool = add_pool(f->db, "staging");
	assert_int_equal(db_snapshot_intent(f->db, pool, "snap-a",
	                     "/arm/snap-a", 5000, 5010, &id),
	    0);
	assert_int_equal(db_snapshot_set_state(f->db, id, "failed",
	                     "OperationNotAllowed: cluster busy"),
	    0);
	assert_int_equal(db_snapshot_get(f->db, id, &s), 1);
	assert_string_equal(s.state, "failed");
	assert_string_equal(s.error, "OperationNotAllowed: cluster busy");

	/* same name, other case: ARM names are case-insensitive */
	assert_int_equal(db_snapshot_intent(f->db, pool, "SNAP-A",
	                     "/arm/snap-a", 5000, 6000, &again),
	    0);
	assert_int_equal(again, id);
	assert_int_equal(db_snapshot_get(f->db, id, &s), 1);
	assert_string_equal(s.state, "creating");
	assert_string_equal(s.error, "");
	assert_int_equal(s.created_at, 6000);

	assert_int_equal(db_snapshot_set_active(f->db, id, 6001, &v), 0);
	clear_log(f);
	assert_int_equal(db_snapshot_intent(f->db, pool, "snap-a",
	                     "/arm/snap-a", 5000, 7000, &again),
	    -1);
	assert_logged(f, "snapshot snap-a exists already (state active)");
	assert_int_equal(db_snapshot_get(f->db, id, &s), 1);
	assert_string_equal(s.state, "active");
	assert_int_equal(db_snapshot_set_state(f->db, id, "gone", NULL), -1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM snapshots"), 1);
}

static void
test_db_snapshot_pin_and_channel_track_promotion(void **state)
{
	struct fx *f = *state;
	struct db_snapshot s;
	int64_t pool, other, s1, s2, s3;

	assert_int_equal(db_open(f->path, &f->db), 0);
	pool = add_pool(f->db, "staging");
	other = add_pool(f->db, "prod");
	s1 = add_snapshot(f->db, pool, "s1", 1000, 1000);
	s2 = add_snapshot(f->db, pool, "s2", 2000, 2000);
	s3 = add_snapshot(f->db, other, "s3", 2000, 2000);

	assert_int_equal(db_snapshot_set_pinned(f->db, s1, 1), 0);
	assert_int_equal(db_snapshot_get(f->db, s1, &s), 1);
	assert_int_equal(s.pinned, 1);
	assert_int_equal(db_snapshot_set_pinned(f->db, s1, 0), 0);
	assert_int_equal(db_snapshot_get(f->db, s1, &s), 1);
	assert_int_equal(s.pinned, 0);

	assert_int_equal(db_snapshot_channel(f->db, pool, "stable", &s), 0);
	assert_int_equal(db_snapshot_set_channel(f->db, s1, "stable", 3000), 0);
	assert_int_equal(db_snapshot_set_channel(f->db, s3, "stable", 3000), 0);
	assert_int_equal(db_snapshot_get(f->db, s1, &s), 1);
	assert_string_equal(s.channel, "stable");
	assert_int_equal(s.promoted_at, 3000);
	assert_int_equal(s.demoted_at, 0);

	/* promoting s2 moves the channel: s1 is demoted at the same time */
	assert_int_equal(db_snapshot_set_channel(f->db, s2, "stable", 4000), 0);
	assert_int_equal(db_snapshot_channel(f->db, pool, "stable", &s), 1);
	assert_int_equal(s.id, s2);
	assert_int_equal(s.promoted_at, 4000);
	assert_int_equal(db_snapshot_get(f->db, s1, &s), 1);
	assert_string_equal(s.channel, "");
	assert_int_equal(s.promoted_at, 3000);
	assert_int_equal(s.demoted_at, 4000);
	/* the other pool's holder is untouched */
	assert_int_equal(db_snapshot_channel(f->db, other, "stable", &s), 1);
	assert_int_equal(s.id, s3);

	assert_int_equal(db_snapshot_set_channel(f->db, s2, NULL, 5000), 0);
	assert_int_equal(db_snapshot_get(f->db, s2, &s), 1);
	assert_string_equal(s.channel, "");
	assert_int_equal(s.demoted_at, 5000);
	assert_int_equal(db_snapshot_channel(f->db, pool, "stable", &s), 0);
	assert_int_equal(db_snapshot_set_channel(f->db, 999, "stable", 1), -1);
	assert_int_equal(db_snapshot_channel(f->db, pool, "stable", &s), 0);
}

static void
test_db_snapshot_find_by_id_name_and_arm_id(void **state)
{
	struct fx *f = *state;
	struct db_snapshot s;
	char ref[32];
	int64_t a, b, s1, s2, s3;

	assert_int_equal(db_open(f->path, &f->db), 0);
	a = add_pool(f->db, "a");
	b = add_pool(f->db, "b");
	s1 = add_snapshot(f->db, a, "base", 1000, 1000);
	s2 = add_snapshot(f->db, b, "base", 2000, 2000);
	s3 = add_snapshot(f->db, a, "only-a", 3000, 3000);

	snprintf(ref, sizeof(ref), "%lld", (long long)s1);
	assert_int_equal(db_snapshot_find(f->db, ref, &s), 1);
	assert_int_equal(s.id, s1);
	assert_int_equal(db_snapshot_find(f->db, "ONLY-A", &s), 1);
	assert_int_equal(s.id, s3);
	assert_int_equal(
	    db_snapshot_find(f->db,
	        "/SUBSCRIPTIONS/s/resourcegroups/RG-TEST/providers/"
	        "microsoft.containerservice/snapshots/only-a",
	        &s),
	    1);
	assert_int_equal(s.id, s3);
	/* a name in two pools: the newest, with a warning */
	clear_log(f);
	assert_int_equal(db_snapshot_find(f->db, "base", &s), 1);
	assert_int_equal(s.id, s2);
	assert_logged(f, "used in several pools");
	assert_int_equal(db_snapshot_find(f->db, "nope", &s), 0);
	assert_int_equal(db_snapshot_find(f->db, "424242", &s), 0);
}

static void
test_db_snapshot_list_newest_first_by_pool_and_state(void **state)
{
	struct fx *f = *state;
	struct db_snapshot *v = NULL, s;
	size_t n = 99;
	int64_t a, b, s1, s2, s3, s4;

	assert_int_equal(db_open(f->path, &f->db), 0);
	a = add_pool(f->db, "a");
	b = add_pool(f->db, "b");
	assert_int_equal(db_snapshot_list(f->db, a, NULL, &v, &n), 0);
	assert_null(v);
	assert_int_equal(n, 0);
	assert_int_equal(db_snapshot_newest_active(f->db, a, &s), 0);

	s2 = add_snapshot(f->db, a, "s2", 2000, 2000);
	s1 = add_snapshot(f->db, a, "s1", 1000, 1000);
	s3 = add_snapshot(f->db, a, "s3", 3000, 3000);
	s4 = add_snapshot(f->db, b, "s4", 4000, 4000);
	assert_int_equal(db_snapshot_set_state(f->db, s3, "deleted", NULL), 0);

	assert_int_equal(db_snapshot_list(f->db, a, NULL, &v, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(v[0].id, s3);
	assert_int_equal(v[1].id, s2);
	assert_int_equal(v[2].id, s1);
	free(v);

	assert_int_equal(db_snapshot_list(f->db, a, "active", &v, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].id, s2);
	assert_int_equal(v[1].id, s1);
	free(v);

	assert_int_equal(db_snapshot_list(f->db, 0, NULL, &v, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(v[0].id, s4);
	assert_string_equal(v[0].pool_key, "b");
	free(v);

	assert_int_equal(db_snapshot_list(f->db, 0, "deleted", &v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].id, s3);
	free(v);

	assert_int_equal(db_snapshot_newest_active(f->db, a, &s), 1);
	assert_int_equal(s.id, s2);
}

/* db_snapshot_lines' rows: the cells of struct db_snapshot_line (cut
 * to struct db_snapshot's fields) with their lengths, newest first. */
struct seen_lines {
	size_t n;
	char names[4][96];
};

static int
snapshot_line_seen(void *ctx, int pass, const struct db_snapshot_line *l)
{
	struct seen_lines *s = ctx;

	assert_int_equal(pass, 0);
	assert_int_equal(l->pool_key_len, strlen(l->pool_key));
	assert_int_equal(l->name_len, strlen(l->name));
	assert_int_equal(l->state_len, strlen(l->state));
	assert_int_equal(
	    l->node_image_version_len, strlen(l->node_image_version));
	assert_int_equal(
	    l->kubernetes_version_len, strlen(l->kubernetes_version));
	assert_int_equal(l->channel_len, strlen(l->channel));
	assert_true(s->n < 4);
	snprintf(s->names[s->n++], sizeof(s->names[0]), "%s/%s", l->pool_key,
	    l->name);
	return 0;
}

static void
test_db_snapshot_lines_come_with_their_lengths(void **state)
{
	struct fx *f = *state;
	struct seen_lines seen = {0};
	const int passes = 1;
	char name[100];
	int64_t a, b;

	assert_int_equal(db_open(f->path, &f->db), 0);
	a = add_pool(f->db, "a");
	b = add_pool(f->db, "pool-b");
	memset(name, 'x', 80);
	name[80] = '\0';
	add_snapshot(f->db, a, "s1", 1000, 1000);
	add_snapshot(f->db, b, name, 2000, 2000);
	add_snapshot(f->db, a, "s3", 3000, 3000);
	assert_int_equal(
	    db_snapshot_lines(f->db, 0, 0, &passes, snapshot_line_seen, &seen),
	    0);
	assert_int_equal(seen.n, 3);
	assert_string_equal(seen.names[0], "a/s3");
	/* cut to 63 bytes, its length too */
	assert_int_equal(strlen(seen.names[1]), strlen("pool-b/") + 63);
	assert_string_equal(seen.names[2], "a/s1");
}

static void
test_db_snapshot_adopt_records_what_azure_holds(void **state)
{
	struct fx *f = *state;
	struct db_snapshot in, s;
	int64_t pool, id = 0;

	assert_int_equal(db_open(f->path, &f->db), 0);
	pool = add_pool(f->db, "staging");
	memset(&in, 0, sizeof(in));
	util_strlcpy(in.name, "found", sizeof(in.name));
	util_strlcpy(in.arm_id, "/arm/found", sizeof(in.arm_id));
	in.slot = 7200;
	in.created_at = 7300;
	in.v = ver("img-7", "1.32.0", 0);
	util_strlcpy(in.channel, "stable", sizeof(in.channel));
	assert_int_equal(db_snapshot_adopt(f->db, pool, &in, &id), 0);

	assert_int_equal(db_snapshot_get(f->db, id, &s), 1);
	assert_string_equal(s.state, "active"); /* "" means active */
	assert_string_equal(s.name, "found");
	assert_int_equal(s.slot, 7200);
	assert_int_equal(s.created_at, 7300);
	assert_string_equal(s.v.node_image_version, "img-7");
	assert_string_equal(s.channel, "stable");
	assert_true(s.promoted_at > 0);
	assert_int_equal(db_slot_taken(f->db, pool, 7200), 1);

	/* the same name again is a conflict, not a second row */
	assert_int_equal(db_snapshot_adopt(f->db, pool, &in, &id), -1);
}

static void
test_db_slot_taken_follows_due_rule(void **state)
{
	struct fx *f = *state;
	struct db_decision d;
	int64_t a, b, id = 0;

	assert_int_equal(db_open(f->path, &f->db), 0);
	a = add_pool(f->db, "a");
	b = add_pool(f->db, "b");
	assert_int_equal(db_slot_taken(f->db, a, 1000), 0);

	assert_int_equal(db_snapshot_intent(f->db, a, "s-1000", "/arm/s-1000",
	                     1000, 1000, &id),
	    0);
	assert_int_equal(db_slot_taken(f->db, a, 1000), 1); /* creating */
	assert_int_equal(db_slot_taken(f->db, b, 1000), 0); /* per pool */
	assert_int_equal(db_snapshot_set_state(f->db, id, "failed", "boom"), 0);
	assert_int_equal(db_slot_taken(f->db, a, 1000), 0); /* failed: due */
	assert_int_equal(db_snapshot_set_state(f->db, id, "deleted", NULL), 0);
	assert_int_equal(db_slot_taken(f->db, a, 1000), 1);

	memset(&d, 0, sizeof(d));
	d.pool_id = b;
	d.at = 2000;
	d.slot = 2000;
	util_strlcpy(d.action, "keep", sizeof(d.action));
	assert_int_equal(db_decision_add(f->db, &d), 0);
	assert_int_equal(db_slot_taken(f->db, b, 2000), 0); /* not a skip */
	util_strlcpy(d.action, "skip", sizeof(d.action));
	util_strlcpy(d.reasons, "unchanged since s-1000", sizeof(d.reasons));
	assert_int_equal(db_decision_add(f->db, &d), 0);
	assert_int_equal(db_slot_taken(f->db, b, 2000), 1);
	assert_int_equal(db_slot_taken(f->db, a, 2000), 0);
}

/* The pages db_slot_taken(pool, slot) reads, which must answer ${want},
 * from an empty page cache: on a store this small, one page a b-tree it
 * asks (the tables and indexes of its questions). */
static int
slot_taken_reads(struct db *db, int64_t pool, time_t slot, int want)
{
	int n = 0, hi = 0;

	assert_int_equal(db_slot_taken(db, pool, slot), want); /* prepared */
	assert_int_equal(sqlite3_db_release_memory(db_sqlite(db)), SQLITE_OK);
	assert_int_equal(sqlite3_db_status(db_sqlite(db),
	                     SQLITE_DBSTATUS_CACHE_MISS, &n, &hi, 1),
	    SQLITE_OK);
	assert_int_equal(db_slot_taken(db, pool, slot), want);
	assert_int_equal(sqlite3_db_status(db_sqlite(db),
	                     SQLITE_DBSTATUS_CACHE_MISS, &n, &hi, 1),
	    SQLITE_OK);
	return n;
}

/* A slot taken is answered without the questions after the one that
 * says so: the open skip range's pool reads only decision_open, a
 * snapshot of the slot no decisions' index, each fewer pages than a slot
 * nothing takes (every question asked), which a closed skip range, the
 * rare answer, is asked last like.  As one OR of three EXISTS, every one
 * ran. */
static void
test_db_slot_taken_stops_at_its_first_answer(void **state)
{
	struct fx *f = *state;
	struct db_decision d;
	int64_t a, b, c, id = 0;
	int open, closed, taken, none;

	assert_int_equal(db_open(f->path, &f->db), 0);
	a = add_pool(f->db, "a");
	b = add_pool(f->db, "b");
	c = add_pool(f->db, "c");
	memset(&d, 0, sizeof(d));
	util_strlcpy(d.action, "skip", sizeof(d.action));
	util_strlcpy(d.reasons, "unchanged", sizeof(d.reasons));
	d.pool_id = a;
	d.at = d.slot = 2000;
	assert_int_equal(db_decision_add(f->db, &d), 0); /* open */
	d.pool_id = b;
	assert_int_equal(db_decision_add(f->db, &d), 0);
	util_strlcpy(d.action, "keep", sizeof(d.action));
	d.at = d.slot = 3000;
	assert_int_equal(db_decision_add(f->db, &d), 0); /* b's closed */
	assert_int_equal(db_snapshot_intent(f->db, c, "s-2000", "/arm/s-2000",
	                     2000, 2000, &id),
	    0);
	open = slot_taken_reads(f->db, a, 2000, 1);
	closed = slot_taken_reads(f->db, b, 2000, 1);
	taken = slot_taken_reads(f->db, c, 2000, 1);
	none = slot_taken_reads(f->db, c, 4000, 0);
	if (!(open < taken && taken < none && closed == none))
		fail_msg("slot taken: %d pages read by the open skip, %d by a "
		         "closed one, %d by a snapshot, %d by none",
		    open, closed, taken, none);
}

struct buf_s {
	char text[4096];
};

struct decs {
	struct db_decision d[8];
	int n;
};

static int
collect_decision(void *ctx, const struct db_decision *d)
{
	struct decs *c = ctx;

	if (c->n < 8)
		c->d[c->n++] = *d;
	return 0;
}

static void
test_db_decisions_are_listed_per_snapshot_oldest_first(void **state)
{
	struct fx *f = *state;
	struct db_decision d;
	struct decs c;
	int64_t pool, run = 0, s1, s2;

	assert_int_equal(db_open(f->path, &f->db), 0);
	pool = add_pool(f->db, "staging");
	s1 = add_snapshot(f->db, pool, "s1", 1000, 1000);
	s2 = add_snapshot(f->db, pool, "s2", 2000, 2000);
	assert_int_equal(db_run_start(f->db, 3000, 3000, "run", &run), 0);

	memset(&d, 0, sizeof(d));
	d.run_id = run;
	d.pool_id = pool;
	d.snapshot_id = s1;
	d.at = 5000;
	util_strlcpy(d.action, "delete", sizeof(d.action));
	util_strlcpy(d.reasons, "beyond keep_daily 7", sizeof(d.reasons));
	util_strlcpy(d.fingerprint, "fp-1", sizeof(d.fingerprint));
	assert_int_equal(db_decision_add(f->db, &d), 0);
	d.at = 4000;
	d.slot = 1000;
	util_strlcpy(d.action, "keep", sizeof(d.action));
	util_strlcpy(d.reasons, "keep_last 3", sizeof(d.reasons));
	assert_int_equal(db_decision_add(f->db, &d), 0);
	d.snapshot_id = s2;
	assert_int_equal(db_decision_add(f->db, &d), 0);
	d.snapshot_id = 0;
	assert_int_equal(db_decision_add(f->db, &d), 0);
	util_strlcpy(d.action, "explode", sizeof(d.action));
	assert_int_equal(db_decision_add(f->db, &d), -1);

	memset(&c, 0, sizeof(c));
	assert_int_equal(db_decision_list(f->db, s1, collect_decision, &c), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.d[0].at, 4000);
	assert_string_equal(c.d[0].action, "keep");
	assert_string_equal(c.d[0].reasons, "keep_last 3");
	assert_int_equal(c.d[0].slot, 1000);
	assert_string_equal(c.d[0].snapshot_name, "s1");
	assert_string_equal(c.d[0].pool_key, "staging");
	assert_int_equal(c.d[0].run_id, run);
	assert_int_equal(c.d[1].at, 5000);
	assert_string_equal(c.d[1].action, "delete");
	assert_string_equal(c.d[1].fingerprint, "fp-1");
	assert_int_equal(c.d[1].slot, 0);

	memset(&c, 0, sizeof(c));
	assert_int_equal(db_decision_list(f->db, s2, collect_decision, &c), 0);
	assert_int_equal(c.n, 1);
}

/* Counts the statements run that read decision_texts (a trace). */
static int
count_text_reads(unsigned type, void *ctx, void *p, void *x)
{
	const char *sql = sqlite3_sql(p);

	(void)type;
	(void)x;
	if (sql != NULL && strstr(sql, "decision_texts") != NULL)
		(*(int *)ctx)++;
	return 0;
}

/* One run's decisions: ${n} snapshots of ${pool} kept for ${why}. */
static void
decide_keep(struct db *db, int64_t run, int64_t pool, const int64_t *snap,
    int n, const char *why, time_t at)
{
	struct db_decision d;

	memset(&d, 0, sizeof(d));
	d.run_id = run;
	d.pool_id = pool;
	d.at = at;
	util_strlcpy(d.action, "keep", sizeof(d.action));
	util_strlcpy(d.reasons, why, sizeof(d.reasons));
	util_strlcpy(d.fingerprint, "l3d7", sizeof(d.fingerprint));
	for (int i = 0; i < n; i++) {
		d.snapshot_id = snap[i];
		assert_int_equal(db_decision_add(db, &d), 0);
	}
}

/*
 * A run deciding the same as the last one about a pool's live snapshots
 * extends their open ranges, looking each of the fleet's shared texts up
 * once, not once a snapshot; a pool whose key is in its reasons (stored
 * with char(1) for it) is asked about each time; a rolled back text is
 * not taken for another one.
 */
static void
test_db_decision_texts_looked_up_once(void **state)
{
	struct fx *f = *state;
	struct db_counts n0, n1;
	int64_t a, b, sa[10], sb[2], run = 0, left = -1;
	int reads = 0;
	char name[16];

	assert_int_equal(db_open(f->path, &f->db), 0);
	a = add_pool(f->db, "aks-a");
	b = add_pool(f->db, "daily");
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "a%d", i);
		sa[i] = add_snapshot(f->db, a, name, 1000 + i, 1000 + i);
	}
	sb[0] = add_snapshot(f->db, b, "b0", 1000, 1000);
	sb[1] = add_snapshot(f->db, b, "b1", 1001, 1001);
	assert_int_equal(db_run_start(f->db, 3000, 3000, "run", &run), 0);
	decide_keep(f->db, run, a, sa, 10, "daily", 3000);
	decide_keep(f->db, run, b, sb, 2, "daily", 3000);
	assert_int_equal(db_counts(f->db, &n0), 0);
	assert_int_equal(n0.decisions, 12);

	/* the next run: the same decisions, every range extended */
	assert_int_equal(db_run_start(f->db, 4000, 4000, "run", &run), 0);
	sqlite3_trace_v2(
	    db_sqlite(f->db), SQLITE_TRACE_PROFILE, count_text_reads, &reads);
	decide_keep(f->db, run, a, sa, 10, "daily", 4000);
	/* "daily" and the fingerprint, once each for ten snapshots */
	assert_int_equal(reads, 2);
	decide_keep(f->db, run, b, sb, 2, "daily", 4000);
	/* pool "daily"'s reasons are its key: asked for each snapshot */
	assert_int_equal(reads, 4);
	sqlite3_trace_v2(db_sqlite(f->db), 0, NULL, NULL);
	assert_int_equal(db_counts(f->db, &n1), 0);
	assert_int_equal(n1.decisions, 12);
	/* every open range ends at this run */
	assert_int_equal(db_get_one(f->db,
	                     "SELECT count(*) FROM decision_open WHERE "
	                     "last_run_id IS NOT ?1",
	                     "test", DB_ARGS(DB_INT(run)), db_row_int64, &left),
	    1);
	assert_int_equal(left, 0);

	/* a text added in a transaction rolled back, then another one
	 * taking its id: a snapshot kept for the first is a new decision */
	assert_int_equal(db_begin(f->db), 0);
	decide_keep(f->db, run, a, sa, 2, "weekly", 5000);
	assert_int_equal(db_rollback(f->db), 0);
	decide_keep(f->db, run, a, sa + 1, 1, "monthly", 5000);
	decide_keep(f->db, run, a, sa + 1, 1, "weekly", 6000);
	assert_int_equal(db_counts(f->db, &n1), 0);
	assert_int_equal(n1.decisions, 14);
}

/*
 * SQLite keeps no memory statistics in aksnap (SQLITE_CONFIG_MEMSTATUS
 * off at the first db_open): a process whose first use of SQLite is
 * db_open reads sqlite3_memory_used() 0 with a store open.
 */
static void
test_db_sqlite_keeps_no_memory_statistics(void **state)
{
	struct fx *f = *state;
	pid_t pid;
	int status = 0;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct db *db = NULL;

		/* a fresh image would be exec; sqlite3_shutdown undoes the
		 * parent's initialization, as if SQLite was not used yet */
		(void)sqlite3_shutdown();
		if (db_open(f->path, &db) != 0)
			_exit(2);
		_exit(sqlite3_memory_used() == 0 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
test_db_counts_rows_and_snapshot_states(void **state)
{
	struct fx *f = *state;
	struct db_counts n;
	int64_t a, b, s;

	assert_int_equal(db_open(f->path, &f->db), 0);
	assert_int_equal(db_counts(f->db, &n), 0);
	assert_int_equal(
	    n.pools + n.observations + n.snapshots + n.runs + n.decisions, 0);
	history_fixture(f->db, &a, &b);
	add_snapshot(f->db, a, "s1", 1000, 1000);
	s = add_snapshot(f->db, a, "s2", 2000, 2000);
	assert_int_equal(db_snapshot_set_state(f->db, s, "missing", NULL), 0);
	add_snapshot(f->db, b, "s3", 2000, 2000);
	assert_int_equal(db_counts(f->db, &n), 0);
	assert_int_equal(n.pools, 2);
	assert_int_equal(n.observations, 7); /* intervals */
	assert_int_equal(n.snapshots, 3);
	assert_int_equal(n.runs, 1);
	assert_int_equal(n.decisions, 0);
	assert_string_equal(db_snapshot_states[1], "active");
	assert_int_equal(n.snapshots_by_state[1], 2);
	assert_string_equal(db_snapshot_states[5], "missing");
	assert_int_equal(n.snapshots_by_state[5], 1);
	assert_int_equal(n.snapshots_by_state[0], 0);
	assert_string_equal(db_snapshot_states[6], "unconfirmed");
	assert_string_equal(db_snapshot_states[7], "conflict");
	assert_null(db_snapshot_states[DB_SNAPSHOT_NSTATES]);
}

/* The index of the migration named *${slug}* (found by name, so that a
 * renumbering at landing time does not break the tests). */
static size_t
migration_index(const char *slug)
{
	size_t n;

	for (n = 0; n < migrations_count; n++)
		if (strstr(migrations[n].name, slug) != NULL)
			break;
	assert_true(n < migrations_count);
	return n;
}

/* The migration that made decisions run ranges. */
static size_t
migrations_before_ranges(void)
{
	return migration_index("_decision_ranges");
}

/* ${f}'s store opened with the migrations before the one named *${slug}*. */
static void
open_before(struct fx *f, const char *slug)
{
	assert_int_equal(db_open_with_migrations(f->path, migrations,
	                     migration_index(slug), &f->db),
	    0);
}

/*
 * old_decision_add(path, ...): a decision as db_decision_add wrote it
 * between migrations 0008 and 0015 (into the table decisions, texts
 * inline), for the tests that build a store at an older schema.
 */
static void
old_decision_add(const char *path, int64_t run, int64_t pool, int64_t snap,
    time_t at, time_t slot, const char *action, const char *reasons,
    const char *fp)
{
	char *sql = sqlite3_mprintf(
	    "INSERT INTO decisions (run_id, pool_id, snapshot_id, at, slot, "
	    "action, reasons, fingerprint, last_run_id, last_at, last_slot) "
	    "VALUES (nullif(%lld, 0), %lld, nullif(%lld, 0), %lld, "
	    "nullif(%lld, 0), %Q, %Q, %Q, nullif(%lld, 0), %lld, "
	    "nullif(%lld, 0))",
	    (long long)run, (long long)pool, (long long)snap, (long long)at,
	    (long long)slot, action, reasons, fp, (long long)run, (long long)at,
	    (long long)slot);

	assert_non_null(sql);
	raw_exec(path, sql);
	sqlite3_free(sql);
}

/*
 * DESIGN.md 5's growth rule: the same decision about the same snapshot (or
 * the pool's same skip) again extends the last row's run range; any
 * difference in action, reasons or fingerprint, or another snapshot, adds
 * a row.  A skip range keeps every slot it covers done.
 */
static void
test_db_same_decision_extends_its_run_range(void **state)
{
	struct fx *f = *state;
	struct decs c;
	int64_t pool, r[6], s1, s2;
	int i;

	assert_int_equal(db_open(f->path, &f->db), 0);
	pool = add_pool(f->db, "staging");
	s1 = add_snapshot(f->db, pool, "s1", 1000, 1000);
	s2 = add_snapshot(f->db, pool, "s2", 1000, 1000);
	for (i = 0; i < 6; i++)
		assert_int_equal(db_run_start(f->db, 3600 * (i + 1),
		                     3600 * (i + 1), "run", &r[i]),
		    0);

	for (i = 0; i < 4; i++)
		add_decision(f->db, r[i], pool, s1, 3600 * (i + 1), 0, "keep",
		    "keep_last 3", "fp-1");
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM decisions"), 1);
	memset(&c, 0, sizeof(c));
	assert_int_equal(db_decision_list(f->db, s1, collect_decision, &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.d[0].run_id, r[0]);
	assert_int_equal(c.d[0].at, 3600);
	assert_int_equal(c.d[0].last_run_id, r[3]);
	assert_int_equal(c.d[0].last_at, 4 * 3600);

	/* another snapshot, a new fingerprint, other reasons: new rows */
	add_decision(
	    f->db, r[3], pool, s2, 4 * 3600, 0, "keep", "keep_last 3", "fp-1");
	add_decision(
	    f->db, r[4], pool, s1, 5 * 3600, 0, "keep", "keep_last 3", "fp-2");
	add_decision(
	    f->db, r[5], pool, s1, 6 * 3600, 0, "keep", "keep_daily 7", "fp-2");
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM decisions"), 4);
	/* back to an older decision: a row of its own, the history stays */
	add_decision(
	    f->db, r[5], pool, s1, 6 * 3600, 0, "keep", "keep_last 3", "fp-1");
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM decisions"), 5);

	/* the pool's skips, one a day (slot): one row, every slot done */
	for (i = 0; i < 3; i++)
		add_decision(f->db, r[i], pool, 0, 86400 * (i + 1),
		    86400 * (i + 1), "skip", "unchanged since s2", "");
	assert_int_equal(raw_int(f->path,
	                     "SELECT count(*) FROM decisions "
	                     "WHERE snapshot_id IS NULL"),
	    1);
	assert_int_equal(raw_int(f->path,
	                     "SELECT last_slot FROM decisions "
	                     "WHERE snapshot_id IS NULL"),
	    3 * 86400);
	assert_int_equal(db_slot_taken(f->db, pool, 86400), 1);
	assert_int_equal(db_slot_taken(f->db, pool, 2 * 86400), 1);
	assert_int_equal(db_slot_taken(f->db, pool, 3 * 86400), 1);
	assert_int_equal(db_slot_taken(f->db, pool, 4 * 86400), 0);
	/* a failure in between: the next skip starts a new range */
	add_decision(f->db, r[3], pool, 0, 4 * 86400, 4 * 86400, "fail",
	    "not observed: HTTP 500", "");
	add_decision(f->db, r[4], pool, 0, 5 * 86400, 5 * 86400, "fail",
	    "not observed: HTTP 500", "");
	add_decision(f->db, r[5], pool, 0, 6 * 86400, 6 * 86400, "skip",
	    "unchanged since s2", "");
	assert_int_equal(raw_int(f->path,
	                     "SELECT count(*) FROM decisions "
	                     "WHERE snapshot_id IS NULL"),
	    3);
	assert_int_equal(db_slot_taken(f->db, pool, 4 * 86400), 0);
	assert_int_equal(db_slot_taken(f->db, pool, 6 * 86400), 1);
}

/* Every decision_rows row's range end, as one text. */
#define ROW_ENDS                                                               \
	"SELECT group_concat(id || ':' || coalesce(last_run_id, '-') || ':' "  \
	"|| last_at || ':' || coalesce(last_slot, '-'), ' ') FROM "            \
	"(SELECT * FROM decision_rows ORDER BY id)"
/* Every decision as the view shows it, as one text. */
#define VIEW_ROWS                                                              \
	"SELECT group_concat(id || ':' || coalesce(run_id, '-') || ':' || "    \
	"pool_id || ':' || coalesce(snapshot_id, '-') || ':' || at || ':' || " \
	"coalesce(slot, '-') || ':' || action || ':' || reasons || ':' || "    \
	"fingerprint || ':' || coalesce(last_run_id, '-') || ':' || last_at "  \
	"|| ':' || coalesce(last_slot, '-'), ' ') FROM "                       \
	"(SELECT * FROM decisions ORDER BY id)"

static void
assert_check_clean(struct db *db)
{
	struct db_check_report r;

	memset(&r, 0, sizeof(r));
	assert_int_equal(db_check_full(db, &r), 0);
	if (r.n != 0)
		fail_msg("db check: %s", r.items[0].detail);
	db_check_report_free(&r);
}

/*
 * Issue 16 (0018): the same decision as last run writes no row of
 * decision_rows -- its range grows in decision_open -- and every reader
 * sees what it saw when each run extended the row: the view, the slot and
 * last-success questions, and the same store with every range closed
 * (as the code before 0018 held it).  A store of the old layout opens its
 * subjects as they are decided, without writing their rows; a range
 * closes with exactly the last run that decided it (gaps included); a
 * deleted snapshot's range closes, and deciding it again grows its row as
 * before.
 */
static void
test_db_same_decision_writes_no_row(void **state)
{
	struct fx *f = *state;
	char before[4096], after[4096], open[8192], closed[8192];
	struct db_check_report r;
	int64_t pool, run[8], s1, s2;
	time_t at;
	int i;

	/* a store of the old layout: a keep and a skip, each a run long */
	open_before(f, "_open_decisions");
	pool = add_pool(f->db, "staging");
	s1 = add_snapshot(f->db, pool, "s1", 1000, 1000);
	s2 = add_snapshot(f->db, pool, "s2", 2000, 2000);
	for (i = 0; i < 8; i++)
		assert_int_equal(db_run_start(f->db, 3600 * (i + 1),
		                     3600 * (i + 1), "run", &run[i]),
		    0);
	db_close(f->db);
	f->db = NULL;
	raw_exec(f->path,
	    "INSERT INTO decision_texts (text) VALUES ('keep_last 3'), "
	    "('fp-1'), ('unchanged since s1');"
	    "INSERT INTO decision_rows (run_id, pool_id, snapshot_id, at, "
	    "slot, action, reasons_id, fingerprint_id, last_run_id, last_at, "
	    "last_slot) SELECT 1, 1, 1, 3600, NULL, 'keep', 1, 2, 1, 3600, "
	    "NULL UNION ALL SELECT 1, 1, NULL, 3600, 3600, 'skip', 3, NULL, "
	    "1, 3600, 3600");
	assert_int_equal(db_open(f->path, &f->db), 0);
	assert_int_equal(
	    raw_int(f->path, "SELECT count(*) FROM decision_open"), 0);
	raw_text(f->path, ROW_ENDS, before, sizeof(before));

	/* runs 2, 3 and 5 decide the same (4 does not decide): no row
	 * written, not even the old ones, yet the view shows the ranges */
	for (i = 1; i < 5; i++) {
		if (i == 3)
			continue;
		add_decision(f->db, run[i], pool, s1, 3600 * (i + 1), 0, "keep",
		    "keep_last 3", "fp-1");
		add_decision(f->db, run[i], pool, 0, 3600 * (i + 1),
		    3600 * (i + 1), "skip", "unchanged since s1", "");
	}
	raw_text(f->path, ROW_ENDS, after, sizeof(after));
	assert_string_equal(before, after);
	assert_int_equal(
	    raw_int(f->path, "SELECT count(*) FROM decision_rows"), 2);
	assert_int_equal(
	    raw_int(f->path, "SELECT count(*) FROM decision_open"), 2);
	assert_int_equal(raw_int(f->path,
	                     "SELECT last_run_id FROM decisions WHERE "
	                     "snapshot_id = 1"),
	    run[4]);
	assert_int_equal(raw_int(f->path,
	                     "SELECT last_slot FROM decisions WHERE "
	                     "snapshot_id IS NULL"),
	    5 * 3600);
	assert_int_equal(db_slot_taken(f->db, pool, 3600), 1);
	assert_int_equal(db_slot_taken(f->db, pool, 4 * 3600), 1);
	assert_int_equal(db_slot_taken(f->db, pool, 5 * 3600), 1);
	assert_int_equal(db_slot_taken(f->db, pool, 6 * 3600), 0);
	assert_int_equal(db_pool_last_success(f->db, pool, &at), 0);
	assert_int_equal(at, 5 * 3600);
	assert_check_clean(f->db);

	/* the same store with every range closed reads the same */
	raw_text(f->path, VIEW_ROWS, open, sizeof(open));
	raw_exec(f->path, "SAVEPOINT s; DELETE FROM decision_open;");
	raw_text(f->path, VIEW_ROWS, closed, sizeof(closed));
	assert_string_equal(open, closed);

	/* a new decision closes the range at the last run that decided it
	 * (run 5, not 6), and opens its own */
	add_decision(f->db, run[6], pool, s1, 7 * 3600, 0, "delete",
	    "keep_last 3", "fp-1");
	assert_int_equal(raw_int(f->path,
	                     "SELECT last_run_id FROM decision_rows WHERE "
	                     "snapshot_id = 1 AND action = 'keep'"),
	    run[4]);
	assert_int_equal(raw_int(f->path,
	                     "SELECT last_at FROM decision_rows WHERE "
	                     "snapshot_id = 1 AND action = 'keep'"),
	    5 * 3600);
	assert_int_equal(raw_int(f->path,
	                     "SELECT count(*) FROM decision_open o JOIN "
	                     "decision_rows d ON d.id = o.decision_id "
	                     "WHERE d.action = 'delete'"),
	    1);
	/* deleted: its range closes; deciding it again grows its row */
	assert_int_equal(db_snapshot_set_state(f->db, s1, "deleted", NULL), 0);
	assert_int_equal(raw_int(f->path,
	                     "SELECT count(*) FROM decision_open "
	                     "WHERE snapshot_id = 1"),
	    0);
	add_decision(f->db, run[7], pool, s1, 8 * 3600, 0, "delete",
	    "keep_last 3", "fp-1");
	assert_int_equal(raw_int(f->path,
	                     "SELECT count(*) FROM decisions WHERE "
	                     "snapshot_id = 1"),
	    2);
	assert_int_equal(raw_int(f->path,
	                     "SELECT last_run_id FROM decisions WHERE "
	                     "snapshot_id = 1 AND action = 'delete'"),
	    run[7]);

	/* reasons inline (char(1) in the text): never open, grows as
	 * before */
	add_decision(
	    f->db, run[5], pool, s2, 6 * 3600, 0, "keep", "odd \1", "");
	add_decision(
	    f->db, run[6], pool, s2, 7 * 3600, 0, "keep", "odd \1", "");
	assert_int_equal(raw_int(f->path,
	                     "SELECT count(*) FROM decision_open "
	                     "WHERE snapshot_id = 2"),
	    0);
	assert_int_equal(raw_int(f->path,
	                     "SELECT last_run_id FROM decision_rows WHERE "
	                     "snapshot_id = 2"),
	    run[6]);
	/* a decision older than the newest (run --as-of in the past): a
	 * row, and the newest stays the one compared with */
	add_decision(f->db, run[7], pool, s2, 8 * 3600, 0, "keep", "k", "");
	add_decision(f->db, run[2], pool, s2, 3 * 3600, 0, "keep", "old", "");
	add_decision(f->db, run[7], pool, s2, 9 * 3600, 0, "keep", "k", "");
	assert_int_equal(raw_int(f->path,
	                     "SELECT count(*) FROM decisions WHERE "
	                     "snapshot_id = 2"),
	    3);
	assert_int_equal(raw_int(f->path,
	                     "SELECT last_at FROM decisions WHERE "
	                     "snapshot_id = 2 AND reasons = 'k'"),
	    9 * 3600);
	assert_check_clean(f->db);

	/* a snapshot's row goes: so does its open range, closed */
	assert_int_equal(raw_int(f->path,
	                     "SELECT count(*) FROM decision_open "
	                     "WHERE snapshot_id = 2"),
	    1);
	raw_exec(f->path,
	    "PRAGMA foreign_keys = ON; DELETE FROM snapshots WHERE id = 2");
	assert_int_equal(raw_int(f->path,
	                     "SELECT count(*) FROM decision_open "
	                     "WHERE snapshot_id = 2"),
	    0);
	assert_int_equal(raw_int(f->path,
	                     "SELECT max(last_at) FROM decision_rows WHERE "
	                     "pool_id = 1 AND action = 'keep'"),
	    9 * 3600);
	assert_check_clean(f->db);

	/* db check: an open range that says something else than its row */
	raw_exec(f->path, "UPDATE decision_open SET action = 'fail'");
	memset(&r, 0, sizeof(r));
	assert_int_equal(db_check_full(f->db, &r), 0);
	assert_int_equal(r.n, 1);
	assert_non_null(strstr(r.items[0].detail, "open decision range"));
	db_check_report_free(&r);
}

/* One explain row as the command shows it (every field it prints). */
static void
explain_line(struct buf_s *out, time_t at, long long run, const char *mode,
    time_t slot, const char *action, const char *fp, const char *reasons)
{
	size_t n = strlen(out->text);

	snprintf(out->text + n, sizeof(out->text) - n,
	    "%lld|%lld|%s|%lld|%s|%s|%s\n", (long long)at, run, mode,
	    (long long)slot, action, fp, reasons);
}

static int
explain_new(void *ctx, const struct db_decision *d, const char *mode)
{
	/* a decision taken once reads as before: no range to show */
	assert_int_equal(d->last_run_id, d->run_id);
	assert_int_equal(d->last_at, d->at);
	explain_line(ctx, d->at, (long long)d->run_id, mode, d->slot, d->action,
	    d->fingerprint, d->reasons);
	return 0;
}

/* explain's query before 0008, as the old binary ran it. */
static const char old_explain_sql[] =
    "SELECT d.at, d.run_id, r.mode, d.slot, d.action, d.fingerprint, "
    "d.reasons FROM decisions d JOIN pools p ON p.id = d.pool_id "
    "LEFT JOIN snapshots s ON s.id = d.snapshot_id "
    "LEFT JOIN runs r ON r.id = d.run_id "
    "WHERE d.snapshot_id = ?1 OR (d.snapshot_id IS NULL AND "
    "d.pool_id = ?2 AND d.action = 'skip' AND d.at >= ?3 AND NOT "
    "EXISTS (SELECT 1 FROM snapshots n WHERE n.pool_id = ?2 AND "
    "n.id <> ?1 AND n.state NOT IN ('failed', 'unconfirmed', "
    "'conflict') AND n.created_at > ?3 AND "
    "n.created_at <= d.at)) ORDER BY d.at, d.id";

static void
explain_old(const char *path, const struct db_snapshot *snap, struct buf_s *out)
{
	sqlite3_stmt *s = NULL;
	sqlite3 *c = NULL;

	out->text[0] = '\0';
	assert_int_equal(sqlite3_open(path, &c), SQLITE_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(c, old_explain_sql, -1, &s, NULL), SQLITE_OK);
	sqlite3_bind_int64(s, 1, snap->id);
	sqlite3_bind_int64(s, 2, snap->pool_id);
	sqlite3_bind_int64(s, 3, snap->created_at);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *mode = (const char *)sqlite3_column_text(s, 2);

		explain_line(out, (time_t)sqlite3_column_int64(s, 0),
		    sqlite3_column_int64(s, 1), mode != NULL ? mode : "",
		    (time_t)sqlite3_column_int64(s, 3),
		    (const char *)sqlite3_column_text(s, 4),
		    (const char *)sqlite3_column_text(s, 5),
		    (const char *)sqlite3_column_text(s, 6));
	}
	sqlite3_finalize(s);
	sqlite3_close(c);
}

/*
 * A store the old code built -- every run wrote its decisions again, the
 * same keep each run, the pool's same skip each day -- migrated to run
 * ranges: every snapshot's explain shows the same rows, field for field,
 * as the old query did; and from then on the same decision adds no row.
 */
static void
test_db_migration_to_decision_ranges_keeps_explain(void **state)
{
	struct fx *f = *state;
	static const char *const names[] = {"s1", "s2", "s3"};
	struct buf_s before[3], after;
	struct db_snapshot snap;
	int64_t pool, other, run, snaps[3];
	char sql[512];
	int i, k;

	assert_int_equal(db_open_with_migrations(f->path, migrations,
	                     migrations_before_ranges(), &f->db),
	    0);
	pool = add_pool(f->db, "staging");
	other = add_pool(f->db, "prod");
	snaps[0] = add_snapshot(f->db, pool, "s1", 86400, 86400);
	snaps[1] = add_snapshot(f->db, pool, "s2", 5 * 86400, 5 * 86400);
	snaps[2] = add_snapshot(f->db, other, "s3", 86400, 86400);
	for (i = 1; i <= 8; i++) {
		assert_int_equal(db_run_start(f->db, i * 86400, i * 86400,
		                     i == 7 ? "pin" : "run", &run),
		    0);
		/* the old INSERT, as db_decision_add ran it before 0008 */
#define OLD_DEC                                                                \
	"INSERT INTO decisions (run_id, pool_id, snapshot_id, at, slot, "      \
	"action, reasons, fingerprint) VALUES (%lld, %lld, %s, %d, %d, "       \
	"'%s', '%s', '%s')"
		snprintf(sql, sizeof(sql), OLD_DEC, (long long)run,
		    (long long)pool, "NULL", i * 86400, i * 86400,
		    i == 1 || i == 5 ? "create" : "skip",
		    i < 5 ? "unchanged since s1" : "unchanged since s2", "");
		if (i != 1 && i != 5)
			raw_exec(f->path, sql);
		snprintf(sql, sizeof(sql), OLD_DEC, (long long)run,
		    (long long)pool, "1", i * 86400, 0, "keep", "keep_last 3",
		    i < 6 ? "fp-1" : "fp-2");
		raw_exec(f->path, sql);
		snprintf(sql, sizeof(sql), OLD_DEC, (long long)run,
		    (long long)other, "3", i * 86400, 0,
		    i == 7 ? "pin" : "keep",
		    i == 7 ? "pinned by hand" : "keep_last 3", "fp-1");
		raw_exec(f->path, sql);
	}
	snprintf(sql, sizeof(sql), OLD_DEC, (long long)run, (long long)pool,
	    "2", 5 * 86400, 5 * 86400, "create", "slot due", "fp-1");
	raw_exec(f->path, sql);
#undef OLD_DEC
	for (k = 0; k < 3; k++) {
		assert_int_equal(db_snapshot_find(f->db, names[k], &snap), 1);
		assert_int_equal(snap.id, snaps[k]);
		explain_old(f->path, &snap, &before[k]);
		assert_true(strlen(before[k].text) > 0);
	}
	assert_non_null(strstr(before[0].text, "unchanged since s1"));
	assert_null(strstr(before[1].text, "unchanged since s1"));
	db_close(f->db);
	f->db = NULL;

	assert_int_equal(db_open(f->path, &f->db), 0);
	for (k = 0; k < 3; k++) {
		assert_int_equal(db_snapshot_find(f->db, names[k], &snap), 1);
		after.text[0] = '\0';
		assert_int_equal(
		    db_decision_explain(f->db, &snap, explain_new, &after), 0);
		assert_string_equal(after.text, before[k].text);
	}
	/* from now on, the same keep again adds no row */
	k = (int)raw_int(f->path, "SELECT count(*) FROM decisions");
	assert_int_equal(
	    db_run_start(f->db, 9 * 86400, 9 * 86400, "run", &run), 0);
	add_decision(f->db, run, pool, snaps[0], 9 * 86400, 0, "keep",
	    "keep_last 3", "fp-2");
	add_decision(f->db, run, pool, 0, 9 * 86400, 9 * 86400, "skip",
	    "unchanged since s2", "");
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM decisions"), k);
}

/* db_counts' figures against count(*) of each table and state. */
static void
assert_counts_true(struct fx *f)
{
	struct db_counts n;
	char sql[128];

	assert_int_equal(db_counts(f->db, &n), 0);
	assert_int_equal(n.observations,
	    raw_int(f->path, "SELECT count(*) FROM observations"));
	assert_int_equal(
	    n.decisions, raw_int(f->path, "SELECT count(*) FROM decisions"));
	assert_int_equal(
	    n.snapshots, raw_int(f->path, "SELECT count(*) FROM snapshots"));
	for (size_t i = 0; db_snapshot_states[i] != NULL; i++) {
		snprintf(sql, sizeof(sql),
		    "SELECT count(*) FROM snapshots WHERE state = '%s'",
		    db_snapshot_states[i]);
		assert_int_equal(
		    n.snapshots_by_state[i], raw_int(f->path, sql));
	}
}

/*
 * Migration 0016: `db status` reads the counts of the growing tables
 * (observations, decisions, snapshots by state) from row_counts, which
 * the migration fills from the rows already there and triggers keep true
 * through inserts, state changes and deletes (cascades included); `db
 * check` reports a count that is not.
 */
static void
test_db_row_counts_kept_by_triggers(void **state)
{
	struct fx *f = *state;
	struct db_check_report r;
	struct db_counts n;
	int64_t a, b, s1, s2, run;
	size_t k;

	for (k = 0; k < migrations_count; k++)
		if (strstr(migrations[k].name, "_row_counts") != NULL)
			break;
	assert_true(k < migrations_count);
	assert_int_equal(
	    db_open_with_migrations(f->path, migrations, k, &f->db), 0);
	a = add_pool(f->db, "a");
	b = add_pool(f->db, "b");
	s1 = add_snapshot(f->db, a, "s1", 1000, 1000);
	s2 = add_snapshot(f->db, a, "s2", 2000, 2000);
	assert_int_equal(db_snapshot_set_state(f->db, s2, "deleted", NULL), 0);
	assert_int_equal(db_run_start(f->db, 3000, 3000, "run", &run), 0);
	db_close(f->db);
	f->db = NULL;
	/* observations as that code wrote them (today's read the tables
	 * of later migrations, pool_present) ... */
	raw_exec(f->path,
	    "INSERT INTO observations (pool_id, run_id, observed_at, "
	    "node_image_version, kubernetes_version, provisioning_state, "
	    "last_seen, last_run_id, seen) VALUES "
	    "(1, 1, 100, 'img-1', '1.33.2', 'Succeeded', 200, 1, 2), "
	    "(2, 1, 150, 'img-1', '1.33.2', 'Succeeded', 250, 1, 2), "
	    "(1, 1, 300, 'img-2', '1.33.2', 'Succeeded', 300, 1, 1)");
	/* ... and two decisions as the code of 0015-0017 wrote them (no
	 * decision_open before 0018) */
	raw_exec(f->path,
	    "INSERT INTO decision_rows (run_id, pool_id, snapshot_id, at, "
	    "action, last_run_id, last_at) SELECT 1, pool_id, id, 3000, "
	    "CASE name WHEN 's1' THEN 'keep' ELSE 'delete' END, 1, 3000 "
	    "FROM snapshots ORDER BY id");

	/* the migration counts what is there */
	assert_int_equal(db_open(f->path, &f->db), 0);
	assert_int_equal(db_schema_version(f->db), db_latest_version());
	assert_counts_true(f);
	assert_int_equal(db_counts(f->db, &n), 0);
	assert_int_equal(n.decisions, 2);
	assert_int_equal(n.snapshots, 2);

	/* inserts, a state change, deletes and a cascade keep them true */
	add_snapshot(f->db, b, "s3", 2000, 2000);
	assert_int_equal(db_snapshot_set_state(f->db, s1, "missing", NULL), 0);
	add_decision(f->db, run, b, 0, 3000, 3000, "skip", "unchanged", "");
	assert_counts_true(f);
	raw_exec(f->path, "DELETE FROM decision_rows WHERE action = 'keep'");
	raw_exec(f->path, "DELETE FROM snapshots WHERE name = 's3'");
	raw_exec(f->path,
	    "PRAGMA foreign_keys = ON; "
	    "DELETE FROM pools WHERE key = 'b'");
	assert_counts_true(f);
	assert_int_equal(db_counts(f->db, &n), 0);
	assert_int_equal(n.decisions, 1);
	assert_int_equal(n.pools, 1);

	/* a count that is not true is read as it is, and db check says so */
	memset(&r, 0, sizeof(r));
	assert_int_equal(db_check_full(f->db, &r), 0);
	assert_int_equal(r.n, 0);
	db_check_report_free(&r);
	raw_exec(
	    f->path, "UPDATE row_counts SET n = 99 WHERE name = 'decisions'");
	assert_int_equal(db_counts(f->db, &n), 0);
	assert_int_equal(n.decisions, 99);
	assert_int_equal(db_check_full(f->db, &r), 0);
	assert_int_equal(r.n, 1);
	assert_non_null(
	    strstr(r.items[0].detail, "row_counts: decisions is 99"));
	db_check_report_free(&r);
}

/*
 * Issue 16 (0019): what a run reads of a pool's present -- its active
 * snapshots, its channel entries, whether a slot is taken, every pool's
 * snapshot counts -- answers the same from the covering indexes and the
 * counts the triggers keep as it did from the rows before the migration.
 */

/* What db_snapshot_list, db_ladder_holds_live and db_slot_taken say of
 * pool ${pool}, as text. */
static void
run_reads(struct db *db, int64_t pool, char *buf, size_t len)
{
	struct db_snapshot *list = NULL;
	struct channel_hold *h = NULL;
	size_t n = 0, k = 0, used = 0;

	buf[0] = '\0';
	assert_int_equal(db_snapshot_list(db, pool, "active", &list, &n), 0);
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(buf + used, len - used,
		    "%lld %s %s %lld %s;", (long long)list[i].id, list[i].name,
		    list[i].state, (long long)list[i].slot, list[i].channel);
	free(list);
	assert_int_equal(db_ladder_holds_live(db, pool, 2, &h, &k), 0);
	for (size_t i = 0; i < k; i++)
		used += (size_t)snprintf(buf + used, len - used,
		    "|%lld %s %d %lld %lld %d", h[i].snapshot_id, h[i].channel,
		    h[i].rung, (long long)h[i].promoted_at,
		    (long long)h[i].left_at, h[i].demoted);
	free(h);
	for (time_t slot = 1000; slot <= 5000; slot += 1000)
		used += (size_t)snprintf(buf + used, len - used, " %d",
		    db_slot_taken(db, pool, slot));
	assert_true(used < len);
}

static int
count_text_row(void *ctx, int64_t pool_id, int state, long long n)
{
	char *buf = ctx;
	size_t used = strlen(buf);

	snprintf(buf + used, 512 - used, "%s%lld/%s/%lld", used ? "," : "",
	    (long long)pool_id, db_snapshot_states[state], n);
	return 0;
}

/* db_metrics_snapshot_counts agrees with count(*) over the rows. */
static void
assert_pool_counts_true(struct fx *f)
{
	char got[512] = "", want[512];

	assert_int_equal(
	    db_metrics_snapshot_counts(f->db, count_text_row, got), 0);
	raw_text(f->path,
	    "SELECT group_concat(x, ',') FROM (SELECT pool_id || '/' || "
	    "state || '/' || count(*) AS x FROM snapshots "
	    "GROUP BY pool_id, state ORDER BY pool_id, state)",
	    want, sizeof(want));
	assert_string_equal(got, want);
	/* and one pool's, as the run reads them */
	for (int64_t pool = 1; pool <= 2; pool++) {
		long long counts[DB_SNAPSHOT_NSTATES];
		char sql[160];

		assert_int_equal(
		    db_pool_snapshot_counts(f->db, pool, counts), 0);
		for (int i = 0; i < DB_SNAPSHOT_NSTATES; i++) {
			snprintf(sql, sizeof(sql),
			    "SELECT count(*) FROM snapshots WHERE pool_id = "
			    "%lld "
			    "AND state = '%s'",
			    (long long)pool, db_snapshot_states[i]);
			assert_int_equal(counts[i], raw_int(f->path, sql));
		}
	}
}

static void
test_db_migration_covers_a_runs_reads(void **state)
{
	struct fx *f = *state;
	struct db_check_report r;
	char before[2][2048], after[2048], plan[2048];
	int64_t pool[2], s1, s2, s3, run;

	open_before(f, "_run_covering");
	pool[0] = add_pool(f->db, "a");
	pool[1] = add_pool(f->db, "b");
	s1 = add_snapshot(f->db, pool[0], "s1", 1000, 1000);
	s2 = add_snapshot(f->db, pool[0], "s2", 2000, 2000);
	s3 = add_snapshot(f->db, pool[0], "s3", 3000, 3000);
	add_snapshot(f->db, pool[0], "s4", 4000, 4000);
	add_snapshot(f->db, pool[1], "t1", 1000, 1000);
	assert_int_equal(db_snapshot_set_state(f->db, s3, "deleted", NULL), 0);
	assert_int_equal(
	    db_snapshot_set_state(f->db, s2, "failed", "quota"), 0);
	assert_int_equal(db_ladder_enter(f->db, s1, "canary", 0, 1500), 0);
	assert_int_equal(db_ladder_enter(f->db, s3, "canary", 0, 2500), 0);
	assert_int_equal(db_ladder_enter(f->db, s1, "stable", 1, 2600), 0);
	assert_int_equal(db_run_start(f->db, 5000, 5000, "run", &run), 0);
	add_decision(
	    f->db, run, pool[1], 0, 5000, 5000, "skip", "unchanged", "");
	for (int i = 0; i < 2; i++)
		run_reads(f->db, pool[i], before[i], sizeof(before[i]));
	db_close(f->db);
	f->db = NULL;

	/* the migration: the same answers, from index pages alone */
	assert_int_equal(db_open(f->path, &f->db), 0);
	assert_int_equal(db_schema_version(f->db), db_latest_version());
	for (int i = 0; i < 2; i++) {
		run_reads(f->db, pool[i], after, sizeof(after));
		assert_string_equal(after, before[i]);
	}
	/* s1 left canary for s3 and holds stable; slots 1000-5000: s2's
	 * failed, s3's deleted (taken), b's skip at 5000 */
	assert_non_null(strstr(before[0], "1 s1 active 1000 stable;"));
	assert_non_null(strstr(before[0], "|1 canary 0 1500 2500 0|3 canary"));
	assert_non_null(strstr(before[0], " 1 0 1 1 0"));
	assert_non_null(strstr(before[1], " 1 0 0 0 1"));
	assert_int_equal(
	    db_ladder_query_plan(f->db, "member", plan, sizeof(plan)), 0);
	assert_non_null(strstr(plan,
	    "COVERING INDEX snapshot_channels_by_pool "
	    "(pool_id=?)"));
	assert_null(strstr(plan, "TEMP B-TREE"));
	assert_null(strstr(plan, "SCAN"));
	assert_int_equal(
	    db_ladder_query_plan(f->db, "active", plan, sizeof(plan)), 0);
	assert_non_null(strstr(plan, "COVERING INDEX"));
	assert_non_null(strstr(plan, "(pool_id=?"));
	assert_null(strstr(plan, "TEMP B-TREE"));
	assert_null(strstr(plan, "SCAN"));
	assert_pool_counts_true(f);

	/* inserts, state changes and deletes keep the counts true */
	add_snapshot(f->db, pool[1], "t2", 2000, 2000);
	assert_int_equal(db_snapshot_set_state(f->db, s1, "deleting", NULL), 0);
	assert_int_equal(db_snapshot_set_state(f->db, s1, "deleted", NULL), 0);
	assert_pool_counts_true(f);
	raw_exec(f->path, "DELETE FROM snapshots WHERE name = 't2'");
	assert_pool_counts_true(f);
	memset(&r, 0, sizeof(r));
	assert_int_equal(db_check_full(f->db, &r), 0);
	assert_int_equal(r.n, 0);
	db_check_report_free(&r);

	/* a count that is not true: db check names it */
	raw_exec(f->path,
	    "UPDATE pool_snapshot_counts SET n = 7 WHERE state = 'deleted'");
	assert_int_equal(db_check_full(f->db, &r), 0);
	assert_int_equal(r.n, 1);
	assert_non_null(strstr(r.items[0].detail,
	    "pool_snapshot_counts: 1 pool and state count(s) differ"));
	db_check_report_free(&r);
}

/*
 * Migration 0014 rebuilds runs so that a demote by hand is recorded as
 * one: the store before it refuses the mode; after it every run keeps its
 * id and fields, the rows that name a run (decisions, full_runs) still
 * name it, its indexes are back, and a demote is recorded as a demote.
 */
static void
test_db_migration_records_demote_runs(void **state)
{
	struct fx *f = *state;
	struct db_run last, run;
	int64_t pool, snap, r1, r2;
	char sql[160];

	open_before(f, "_run_mode_demote");
	pool = add_pool(f->db, "a");
	snap = add_snapshot(f->db, pool, "s1", 1000, 1000);
	assert_int_equal(db_run_start(f->db, 2000, 1900, "promote", &r1), 0);
	memset(&run, 0, sizeof(run));
	run.id = r1;
	run.finished_at = 2010;
	run.exit_code = 0;
	run.promoted = 1;
	assert_int_equal(db_run_finish(f->db, &run), 0);
	old_decision_add(f->path, r1, pool, snap, 2000, 0, "demote",
	    "demoted by hand from channel stable", "");
	snprintf(sql, sizeof(sql),
	    "INSERT INTO full_runs (run_id, duration_ms) VALUES (%lld, 5)",
	    (long long)r1);
	raw_exec(f->path, sql);
	/* The old CHECK has no such mode. */
	clear_log(f);
	assert_int_equal(db_run_start(f->db, 3000, 3000, "demote", &r2), -1);
	assert_logged(f, "CHECK constraint failed");
	db_close(f->db);
	f->db = NULL;

	assert_int_equal(db_open(f->path, &f->db), 0);
	assert_int_equal(db_schema_version(f->db), db_latest_version());
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM runs"), 1);
	assert_int_equal(db_run_last(f->db, "promote", &last), 1);
	assert_int_equal(last.id, r1);
	assert_int_equal(last.started_at, 2000);
	assert_int_equal(last.as_of, 1900);
	assert_int_equal(last.finished_at, 2010);
	assert_int_equal(last.promoted, 1);
	snprintf(sql, sizeof(sql),
	    "SELECT count(*) FROM decisions WHERE run_id = %lld",
	    (long long)r1);
	assert_int_equal(raw_int(f->path, sql), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM full_runs"), 1);
	assert_int_equal(
	    raw_int(f->path, "SELECT count(*) FROM pragma_foreign_key_check"),
	    0);
	assert_int_equal(
	    raw_int(f->path,
	        "SELECT count(*) FROM sqlite_master WHERE "
	        "type = 'index' AND tbl_name = 'runs' AND name IN "
	        "('runs_by_mode', 'runs_failed', 'runs_by_as_of')"),
	    3);

	assert_int_equal(db_run_start(f->db, 3000, 3000, "demote", &r2), 0);
	assert_true(r2 > r1);
	run.id = r2;
	run.finished_at = 3010;
	assert_int_equal(db_run_finish(f->db, &run), 0);
	assert_int_equal(db_run_last(f->db, NULL, &last), 1);
	assert_string_equal(last.mode, "demote");
	assert_int_equal(db_run_start(f->db, 4000, 4000, "bogus", &r2), -1);
}

/* Every column of every decision, as the view (or the old table) reads. */
static void
decisions_dump(const char *path, char *buf, size_t len)
{
	raw_text(path,
	    "SELECT group_concat(quote(id) || ',' || quote(run_id) || ',' || "
	    "quote(pool_id) || ',' || quote(snapshot_id) || ',' || quote(at) "
	    "|| ',' || quote(slot) || ',' || quote(action) || ',' || "
	    "quote(reasons) || ',' || quote(fingerprint) || ',' || "
	    "quote(last_run_id) || ',' || quote(last_at) || ',' || "
	    "quote(last_slot), char(10)) FROM (SELECT * FROM decisions "
	    "ORDER BY id)",
	    buf, len);
}

static int
explain_all(void *ctx, const struct db_decision *d, const char *mode)
{
	struct buf_s *out = ctx;
	size_t n = strlen(out->text);

	snprintf(out->text + n, sizeof(out->text) - n,
	    "%lld %lld %s %lld %s [%s] [%s] %lld %lld %lld\n", (long long)d->at,
	    (long long)d->run_id, mode, (long long)d->slot, d->action,
	    d->fingerprint, d->reasons, (long long)d->last_run_id,
	    (long long)d->last_at, (long long)d->last_slot);
	return 0;
}

/*
 * Migration 0015 keeps each decision text once (decision_texts; a
 * reasons text with its pool's key as char(1)) and decisions becomes a
 * view over decision_rows: a store written before it reads the same,
 * column for column and explain line for line, with as many rows; two
 * pools' texts that differ by the pool's key alone are one text; a text
 * holding char(1) itself stays inline.  From then on db_decision_add
 * writes the same shape and the growth rule still holds.
 */
static void
test_db_migration_interns_decision_texts(void **state)
{
	static const char *const keys[] = {"aks-1-pool0", "aks-2-pool0"};
	struct fx *f = *state;
	char before[4096], after[4096], text[512], name[2][2][64];
	struct buf_s ex_before[4], ex_after[4];
	struct db_snapshot snap;
	int64_t pool[2], snaps[4], run;
	int i, k;

	open_before(f, "_compact_decisions");
	assert_int_equal(db_run_start(f->db, 86400, 86400, "run", &run), 0);
	for (i = 0; i < 2; i++) {
		pool[i] = add_pool(f->db, keys[i]);
		for (k = 0; k < 2; k++) {
			snprintf(name[i][k], sizeof(name[i][k]),
			    "aksnap-%s-202601%02dT0200Z", keys[i], 1 + 7 * k);
			snaps[2 * i + k] =
			    add_snapshot(f->db, pool[i], name[i][k],
			        86400 * (1 + 7 * k), 86400 * (1 + 7 * k));
		}
		old_decision_add(f->path, run, pool[i], snaps[2 * i], 86400,
		    86400, "create", "slot 2026-01-01T02:00:00Z due", "");
		old_decision_add(f->path, run, pool[i], snaps[2 * i], 86400, 0,
		    "keep", "last,daily", "l3h0d7/within=2d");
		snprintf(text, sizeof(text),
		    "unchanged since %s (img-1, Kubernetes 1.31.7)",
		    name[i][0]);
		old_decision_add(f->path, run, pool[i], 0, 2 * 86400, 2 * 86400,
		    "skip", text, "");
		old_decision_add(f->path, run, pool[i], snaps[2 * i], 2 * 86400,
		    0, "promote",
		    "channel canary: brings img-1 over nothing: 3 CVE fixes",
		    "");
		old_decision_add(f->path, run, pool[i], snaps[2 * i + 1],
		    8 * 86400, 8 * 86400, "create",
		    "slot 2026-01-08T02:00:00Z due", "");
		snprintf(text, sizeof(text), "channel canary: replaced by %s",
		    name[i][1]);
		old_decision_add(f->path, run, pool[i], snaps[2 * i], 9 * 86400,
		    0, "demote", text, "");
	}
	/* a range (0008), a text holding char(1), a row without reasons */
	raw_exec(f->path,
	    "UPDATE decisions SET last_at = 5 * 86400, "
	    "last_slot = 5 * 86400 WHERE action = 'skip'");
	old_decision_add(f->path, run, pool[0], snaps[1], 9 * 86400, 0, "fail",
	    "PUT snapshot: 500 (quoted \001 byte)", "");
	old_decision_add(
	    f->path, run, pool[0], snaps[0], 9 * 86400, 0, "pin", "", "fp-2");
	decisions_dump(f->path, before, sizeof(before));
	assert_non_null(strstr(before, "unchanged since aksnap-aks-2-pool0-"));
	for (k = 0; k < 4; k++) {
		assert_int_equal(db_snapshot_get(f->db, snaps[k], &snap), 1);
		ex_before[k].text[0] = '\0';
		assert_int_equal(db_decision_explain(
		                     f->db, &snap, explain_all, &ex_before[k]),
		    0);
	}
	db_close(f->db);
	f->db = NULL;

	assert_int_equal(db_open(f->path, &f->db), 0);
	assert_int_equal(db_schema_version(f->db), db_latest_version());
	decisions_dump(f->path, after, sizeof(after));
	assert_string_equal(after, before);
	for (k = 0; k < 4; k++) {
		assert_int_equal(db_snapshot_get(f->db, snaps[k], &snap), 1);
		ex_after[k].text[0] = '\0';
		assert_int_equal(db_decision_explain(
		                     f->db, &snap, explain_all, &ex_after[k]),
		    0);
		assert_string_equal(ex_after[k].text, ex_before[k].text);
	}
	assert_int_equal(
	    raw_int(f->path, "SELECT count(*) FROM decision_rows"), 14);
	/* 2 fingerprints; 2 slots, keep, skip, promote, demote (the fail
	 * holding char(1) is inline) */
	assert_int_equal(
	    raw_int(f->path, "SELECT count(*) FROM decision_texts"), 8);
	assert_int_equal(raw_int(f->path,
	                     "SELECT count(*) FROM decision_texts WHERE text = "
	                     "'channel canary: replaced by aksnap-' || char(1) "
	                     "|| '-20260108T0200Z'"),
	    1);
	assert_int_equal(raw_int(f->path,
	                     "SELECT count(*) FROM decision_rows "
	                     "WHERE reasons IS NOT NULL"),
	    1);
	assert_int_equal(raw_int(f->path,
	                     "SELECT count(*) FROM decision_rows WHERE "
	                     "reasons_id IS NULL AND fingerprint_id IS NULL"),
	    1);
	assert_int_equal(
	    raw_int(f->path, "SELECT count(*) FROM pragma_foreign_key_check"),
	    0);

	/* written anew: the same shape, one text for both pools' skips */
	assert_int_equal(
	    db_run_start(f->db, 10 * 86400, 10 * 86400, "run", &run), 0);
	for (i = 0; i < 2; i++) {
		snprintf(text, sizeof(text),
		    "unchanged since %s (img-2, Kubernetes 1.31.7)",
		    name[i][1]);
		add_decision(f->db, run, pool[i], 0, 10 * 86400, 10 * 86400,
		    "skip", text, "");
		add_decision(f->db, run, pool[i], snaps[2 * i + 1], 10 * 86400,
		    0, "keep", "last,daily", "l3h0d7/within=2d");
	}
	add_decision(f->db, run, pool[1], snaps[2], 10 * 86400, 0, "fail",
	    "quoted \001 again", "");
	assert_int_equal(
	    raw_int(f->path, "SELECT count(*) FROM decision_rows"), 19);
	assert_int_equal(
	    raw_int(f->path, "SELECT count(*) FROM decision_texts"), 9);
	assert_int_equal(raw_int(f->path,
	                     "SELECT count(*) FROM decision_rows "
	                     "WHERE reasons IS NOT NULL"),
	    2);
	raw_text(f->path,
	    "SELECT reasons || '|' || fingerprint FROM decisions "
	    "WHERE action = 'skip' ORDER BY id DESC LIMIT 1",
	    text, sizeof(text));
	assert_string_equal(text,
	    "unchanged since "
	    "aksnap-aks-2-pool0-20260108T0200Z (img-2, "
	    "Kubernetes 1.31.7)|");
	raw_text(f->path,
	    "SELECT reasons FROM decisions WHERE action = 'fail' "
	    "ORDER BY id DESC LIMIT 1",
	    text, sizeof(text));
	assert_string_equal(text, "quoted \001 again");
	/* the same again: ranges grow, no row and no text is added */
	assert_int_equal(
	    db_run_start(f->db, 11 * 86400, 11 * 86400, "run", &run), 0);
	for (i = 0; i < 2; i++) {
		snprintf(text, sizeof(text),
		    "unchanged since %s (img-2, Kubernetes 1.31.7)",
		    name[i][1]);
		add_decision(f->db, run, pool[i], 0, 11 * 86400, 11 * 86400,
		    "skip", text, "");
		add_decision(f->db, run, pool[i], snaps[2 * i + 1], 11 * 86400,
		    0, "keep", "last,daily", "l3h0d7/within=2d");
	}
	assert_int_equal(
	    raw_int(f->path, "SELECT count(*) FROM decision_rows"), 19);
	assert_int_equal(
	    raw_int(f->path, "SELECT count(*) FROM decision_texts"), 9);
	assert_int_equal(raw_int(f->path,
	                     "SELECT count(*) FROM decisions WHERE "
	                     "last_at = 11 * 86400"),
	    4);
}

#define ARM_PREFIX                                                             \
	"/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/"

/* Every column of every snapshot, ARM id as db_snapshot_get reads it. */
static void
snapshots_dump(struct db *db, const int64_t *ids, int n, char *buf, size_t len)
{
	struct db_snapshot s;
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		assert_int_equal(db_snapshot_get(db, ids[i], &s), 1);
		used += (size_t)snprintf(buf + used, len - used,
		    "%lld %lld %s %s %s %lld %lld %s %s %s %d\n",
		    (long long)s.id, (long long)s.pool_id, s.pool_key, s.name,
		    s.arm_id, (long long)s.slot, (long long)s.created_at,
		    s.state, s.v.node_image_version, s.channel, s.pinned);
		assert_true(used < len);
	}
}

/*
 * Migration 0017 stores a snapshot's ARM id only when it is not the one
 * its pool's subscription and resource group and its name give: every
 * row reads the same id as before (db_snapshot_get, find by ARM id in
 * any case, current_baselines, sync's owner question); an id that
 * differs, even in case alone, stays stored; a pool that moves to
 * another resource group keeps its old snapshots' ids; and a snapshot
 * taken afterwards is stored without its derived id.
 */
static void
test_db_migration_derives_snapshot_arm_ids(void **state)
{
	struct fx *f = *state;
	static const char *const arm[] = {
	    ARM_PREFIX "rg-test/providers/Microsoft.ContainerService/"
	               "snapshots/aksnap-a-1",
	    ARM_PREFIX "rg-test/providers/Microsoft.ContainerService/"
	               "snapshots/aksnap-a-2",
	    ARM_PREFIX "RG-TEST/providers/Microsoft.ContainerService/"
	               "snapshots/aksnap-a-3",
	    ARM_PREFIX "rg-other/providers/Microsoft.ContainerService/"
	               "snapshots/adopted-4",
	};
	static const char *const names[] = {
	    "aksnap-a-1", "aksnap-a-2", "aksnap-a-3", "adopted-4"};
	char before[4096], after[4096], text[512], sql[1024], upper[256];
	struct db_snapshot got;
	struct pool_conf pc;
	int64_t pool, other, ids[5], id;
	size_t i;

	open_before(f, "_compact_snapshots");
	pool = add_pool(f->db, "a");
	other = add_pool(f->db, "b");
	for (i = 0; i < 4; i++) {
		/* as db_snapshot_intent / set_active wrote them before */
		snprintf(sql, sizeof(sql),
		    "INSERT INTO snapshots (pool_id, name, arm_id, slot, "
		    "created_at, node_image_version, state, updated_at) "
		    "VALUES (%lld, '%s', '%s', %zu, %zu, 'img-1', 'active', 1)",
		    (long long)pool, names[i], arm[i], 1000 * (i + 1),
		    1000 * (i + 1));
		raw_exec(f->path, sql);
		ids[i] = raw_int(f->path, "SELECT max(id) FROM snapshots");
	}
	snprintf(sql, sizeof(sql),
	    "INSERT INTO snapshot_channels (pool_id, snapshot_id, channel, "
	    "promoted_at) VALUES (%lld, %lld, 'stable', 1500)",
	    (long long)pool, (long long)ids[0]);
	raw_exec(f->path, sql);
	snapshots_dump(f->db, ids, 4, before, sizeof(before));
	assert_non_null(strstr(before, arm[2]));
	db_close(f->db);
	f->db = NULL;

	assert_int_equal(db_open(f->path, &f->db), 0);
	assert_int_equal(db_schema_version(f->db), db_latest_version());
	snapshots_dump(f->db, ids, 4, after, sizeof(after));
	assert_string_equal(after, before);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM snapshots"), 4);
	/* 0016's counts by state still kept (its triggers made again) */
	assert_int_equal(raw_int(f->path,
	                     "SELECT n FROM row_counts WHERE "
	                     "name = 'snapshots.active'"),
	    4);
	/* the two derivable ones, byte for byte: not RG-TEST, not rg-other */
	assert_int_equal(raw_int(f->path,
	                     "SELECT count(*) FROM snapshots WHERE arm_id IS "
	                     "NULL AND name IN ('aksnap-a-1', 'aksnap-a-2')"),
	    2);
	assert_int_equal(raw_int(f->path,
	                     "SELECT count(*) FROM snapshots "
	                     "WHERE arm_id IS NULL"),
	    2);
	raw_text(f->path,
	    "SELECT arm_id FROM current_baselines WHERE pool = 'a'", text,
	    sizeof(text));
	assert_string_equal(text, arm[0]);
	for (i = 0; i < 4; i++) {
		/* ARM ids compare without case, derived or stored */
		util_strlcpy(upper, arm[i], sizeof(upper));
		for (char *c = upper; *c != '\0'; c++)
			*c = (char)toupper((unsigned char)*c);
		assert_int_equal(db_snapshot_find(f->db, upper, &got), 1);
		assert_int_equal(got.id, ids[i]);
		assert_string_equal(got.arm_id, arm[i]);
	}
	assert_int_equal(
	    db_snapshot_owner(f->db, arm[1], other, text, sizeof(text)), 1);
	assert_non_null(strstr(text, "pool a of this store"));
	assert_int_equal(
	    db_snapshot_owner(f->db, arm[1], pool, text, sizeof(text)), 0);
	assert_int_equal(
	    raw_int(f->path, "SELECT count(*) FROM pragma_foreign_key_check"),
	    0);

	/* taken now: the derived id is not stored, and reads back */
	snprintf(text, sizeof(text),
	    ARM_PREFIX "rg-test/providers/Microsoft.ContainerService/"
	               "snapshots/aksnap-a-5");
	assert_int_equal(db_snapshot_intent(f->db, pool, "aksnap-a-5", text,
	                     5000, 5000, &ids[4]),
	    0);
	assert_int_equal(raw_int(f->path,
	                     "SELECT count(*) FROM snapshots "
	                     "WHERE arm_id IS NULL"),
	    3);
	assert_int_equal(db_snapshot_get(f->db, ids[4], &got), 1);
	assert_string_equal(got.arm_id, text);
	assert_int_equal(raw_int(f->path,
	                     "SELECT n FROM row_counts WHERE "
	                     "name = 'snapshots.creating'"),
	    1);

	/* the pool moves: its snapshots keep the ids they were taken with */
	snapshots_dump(f->db, ids, 5, before, sizeof(before));
	pool_conf_make(&pc, "a", "aks-test", "system");
	util_strlcpy(pc.resource_group, "rg-moved", sizeof(pc.resource_group));
	assert_int_equal(db_pool_sync(f->db, &pc, &id), 0);
	assert_int_equal(id, pool);
	assert_int_equal(raw_int(f->path,
	                     "SELECT count(*) FROM snapshots "
	                     "WHERE arm_id IS NULL"),
	    0);
	snapshots_dump(f->db, ids, 5, after, sizeof(after));
	assert_string_equal(after, before);
	/* a pool synced unchanged writes nothing out */
	assert_int_equal(db_snapshot_intent(f->db, pool, "aksnap-a-6",
	                     ARM_PREFIX "rg-moved/providers/"
	                                "Microsoft.ContainerService/"
	                                "snapshots/aksnap-a-6",
	                     6000, 6000, &id),
	    0);
	assert_int_equal(db_pool_sync(f->db, &pc, &id), 0);
	assert_int_equal(raw_int(f->path,
	                     "SELECT count(*) FROM snapshots "
	                     "WHERE arm_id IS NULL"),
	    1);
}

/*
 * A migration that rebuilds decisions (0015) leaves the old table's pages
 * free in the file: the open says so and names `aksnap db vacuum`, and
 * db_vacuum gives them back -- the file shrinks, no free page is left,
 * every row is still there.
 */
static void
test_db_vacuum_gives_free_pages_back(void **state)
{
	struct fx *f = *state;
	long long before, after;
	int64_t pool, snap, run;

	open_before(f, "_compact_decisions");
	pool = add_pool(f->db, "a");
	snap = add_snapshot(f->db, pool, "s1", 1000, 1000);
	assert_int_equal(db_run_start(f->db, 1000, 1000, "run", &run), 0);
	db_close(f->db);
	f->db = NULL;
	assert_int_equal(pool, 1);
	assert_int_equal(snap, 1);
	assert_int_equal(run, 1);
	/* 20,000 keeps with one long text, as the code before 0015 wrote */
	raw_exec(f->path,
	    "WITH RECURSIVE k(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM k "
	    "WHERE x < 20000) INSERT INTO decisions (run_id, pool_id, "
	    "snapshot_id, at, action, reasons, fingerprint, last_run_id, "
	    "last_at) SELECT 1, 1, 1, 1000 + x, 'keep', 'last,daily,weekly,"
	    "monthly: ' || hex(zeroblob(50)), 'l3h0d7w4m6y0/within=2d', 1, "
	    "1000 + x FROM k");
	clear_log(f);
	assert_int_equal(db_open(f->path, &f->db), 0);
	assert_logged(f, "free pages; `aksnap db vacuum` gives them back");
	assert_true(raw_int(f->path, "PRAGMA freelist_count") > 0);

	assert_int_equal(db_vacuum(f->db, &before, &after), 0);
	assert_true(after < before / 2);
	assert_int_equal(raw_int(f->path, "PRAGMA freelist_count"), 0);
	assert_int_equal(raw_int(f->path, "PRAGMA page_count") *
	        raw_int(f->path, "PRAGMA page_size"),
	    after);
	assert_int_equal(
	    raw_int(f->path, "SELECT count(*) FROM decisions"), 20000);
	/* opened again: nothing to say */
	db_close(f->db);
	f->db = NULL;
	clear_log(f);
	assert_int_equal(db_open(f->path, &f->db), 0);
	assert_null(strstr(f->log, "free pages"));
}

/*
 * Migration 2 rebuilds snapshots for the states unconfirmed and conflict:
 * a version-1 store refuses them, the migrated one keeps every row (and
 * the decisions that point at them) and takes them.
 */
static void
test_db_migration_adds_unconfirmed_and_conflict_states(void **state)
{
	struct fx *f = *state;
	struct db_snapshot got;
	int64_t a, s1, s2, s3, id = 0;
	struct db_decision d;
	char text[64], sql[160];
	size_t n1;

	for (n1 = 0; n1 < migrations_count; n1++)
		if (migrations[n1].version > 1)
			break;
	assert_int_equal(
	    db_open_with_migrations(f->path, migrations, n1, &f->db), 0);
	assert_int_equal(db_schema_version(f->db), 1);
	a = add_pool(f->db, "a");
	s1 = add_snapshot(f->db, a, "s1", 1000, 1000);
	s2 = add_snapshot(f->db, a, "s2", 2000, 2000);
	/* version 1 keeps the channel in the snapshot row */
	snprintf(sql, sizeof(sql),
	    "UPDATE snapshots SET channel = 'stable', promoted_at = 3000 "
	    "WHERE id = %lld",
	    (long long)s1);
	raw_exec(f->path, sql);
	memset(&d, 0, sizeof(d));
	d.pool_id = a;
	d.snapshot_id = s2;
	d.at = 2000;
	util_strlcpy(d.action, "keep", sizeof(d.action));
	/* as version 1's code wrote it (db_decision_add knows 0008's range) */
	snprintf(sql, sizeof(sql),
	    "INSERT INTO decisions (pool_id, snapshot_id, at, action) "
	    "VALUES (%lld, %lld, 2000, 'keep')",
	    (long long)a, (long long)s2);
	raw_exec(f->path, sql);
	/* Version 1's CHECK has no such state. */
	clear_log(f);
	assert_int_equal(
	    db_snapshot_set_state(f->db, s2, "unconfirmed", NULL), -1);
	assert_logged(f, "CHECK constraint failed");
	db_close(f->db);
	f->db = NULL;

	assert_int_equal(db_open(f->path, &f->db), 0);
	assert_true(db_schema_version(f->db) >= 2);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM snapshots"), 2);
	assert_int_equal(db_snapshot_get(f->db, s1, &got), 1);
	assert_string_equal(got.channel, "stable");
	assert_int_equal(got.promoted_at, 3000);
	assert_string_equal(got.v.kubernetes_version, "1.33.2");
	snprintf(sql, sizeof(sql),
	    "SELECT count(*) FROM decisions WHERE snapshot_id = %lld "
	    "AND action = 'keep'",
	    (long long)s2);
	assert_int_equal(raw_int(f->path, sql), 1);
	raw_text(f->path, "SELECT snapshot FROM current_baselines", text,
	    sizeof(text));
	assert_string_equal(text, "s1");

	assert_int_equal(
	    db_snapshot_set_state(f->db, s2, "unconfirmed", NULL), 0);
	assert_int_equal(db_snapshot_set_state(f->db, s1, "conflict", NULL), 0);
	assert_int_equal(db_snapshot_set_state(f->db, s2, "bogus", NULL), -1);
	/* unconfirmed is never the newest active snapshot */
	assert_int_equal(db_snapshot_newest_active(f->db, a, &got), 0);
	/* ... but it holds its slot until the next run settles it */
	assert_int_equal(db_slot_taken(f->db, a, 2000), 1);
	/* ... and a new PUT of the same name reuses its row */
	assert_int_equal(
	    db_snapshot_intent(f->db, a, "s2", "x", 2000, 4000, &id), 0);
	assert_int_equal(id, s2);
	assert_int_equal(db_snapshot_get(f->db, s2, &got), 1);
	assert_string_equal(got.state, "creating");
	/* a conflict row is not reused by an intent of its name */
	clear_log(f);
	assert_int_equal(
	    db_snapshot_intent(f->db, a, "s1", "x", 1000, 4000, &id), -1);
	assert_logged(f, "state conflict");
	s3 = add_snapshot(f->db, a, "s3", 3000, 3000);
	assert_int_equal(
	    db_snapshot_set_state(f->db, s3, "unconfirmed", NULL), 0);
	assert_int_equal(raw_int(f->path,
	                     "SELECT count(*) FROM snapshots INDEXED BY "
	                     "snapshots_pending WHERE state = 'unconfirmed'"),
	    1);
	assert_int_equal(raw_int(f->path, "PRAGMA foreign_key_check"), -999);
}

/*
 * Migration 9 moves channels into snapshot_channels: today's holder holds
 * on, a replaced holder keeps its entry (its channel from its promotion's
 * journal line), and a snapshot may then hold two channels, listed in
 * rung order in its row.
 */
static void
test_db_migration_moves_channels_to_their_table(void **state)
{
	struct fx *f = *state;
	struct db_snapshot got;
	struct channel_hold *h = NULL;
	int64_t a, s1, s2, s3;
	char sql[256];
	size_t n3, n = 0;

	for (n3 = 0; n3 < migrations_count; n3++)
		if (migrations[n3].version > 8)
			break;
	assert_int_equal(
	    db_open_with_migrations(f->path, migrations, n3, &f->db), 0);
	assert_int_equal(db_schema_version(f->db), 8);
	a = add_pool(f->db, "a");
	s1 = add_snapshot(f->db, a, "s1", 1000, 1000);
	s2 = add_snapshot(f->db, a, "s2", 2000, 2000);
	s3 = add_snapshot(f->db, a, "s3", 3000, 3000);
	snprintf(sql, sizeof(sql),
	    "UPDATE snapshots SET promoted_at = 1500, demoted_at = 2500 "
	    "WHERE id = %lld; UPDATE snapshots SET channel = 'prod', "
	    "promoted_at = 2500 WHERE id = %lld",
	    (long long)s1, (long long)s2);
	raw_exec(f->path, sql);
	old_decision_add(f->path, 0, a, s1, 1500, 0, "promote",
	    "channel prod: newest snapshot soaked", "");
	db_close(f->db);
	f->db = NULL;

	assert_int_equal(db_open(f->path, &f->db), 0);
	assert_true(db_schema_version(f->db) >= 9);
	assert_int_equal(db_snapshot_channel(f->db, a, "prod", &got), 1);
	assert_int_equal(got.id, s2);
	assert_int_equal(db_ladder_holds(f->db, a, &h, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(h[0].snapshot_id, s1);
	assert_string_equal(h[0].channel, "prod");
	assert_int_equal(h[0].promoted_at, 1500);
	assert_int_equal(h[0].left_at, 2500);
	assert_int_equal(h[0].demoted, 0);
	assert_int_equal(h[1].snapshot_id, s2);
	assert_int_equal(h[1].left_at, 0);
	free(h);

	/* two channels at once, listed in rung order whatever the order of
	 * entry; a hand demotion is remembered as such */
	assert_int_equal(db_ladder_enter(f->db, s3, "stable", 1, 4000), 0);
	assert_int_equal(db_ladder_enter(f->db, s3, "canary", 0, 4100), 0);
	assert_int_equal(db_snapshot_get(f->db, s3, &got), 1);
	assert_string_equal(got.channel, "canary,stable");
	assert_int_equal(got.promoted_at, 4100);
	assert_int_equal(raw_int(f->path,
	                     "SELECT count(*) FROM current_baselines WHERE "
	                     "snapshot = 's3'"),
	    2);
	assert_int_equal(db_ladder_leave(f->db, s3, "canary", 5000, 1), 0);
	assert_int_equal(db_snapshot_get(f->db, s3, &got), 1);
	assert_string_equal(got.channel, "stable");
	assert_int_equal(got.demoted_at, 5000);
	assert_int_equal(db_snapshot_channel(f->db, a, "canary", &got), 0);
	assert_int_equal(db_ladder_holds(f->db, a, &h, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(h[3].snapshot_id, s3);
	assert_string_equal(h[3].channel, "canary");
	assert_int_equal(h[3].demoted, 1);
	free(h);
	assert_int_equal(raw_int(f->path, "PRAGMA foreign_key_check"), -999);
}

static void
test_db_views_show_baselines_and_version_changes(void **state)
{
	struct fx *f = *state;
	char text[128];
	int64_t a, b, s1;

	assert_int_equal(db_open(f->path, &f->db), 0);
	history_fixture(f->db, &a, &b);
	s1 = add_snapshot(f->db, a, "s1", 1000, 1000);
	add_snapshot(f->db, b, "s2", 2000, 2000);
	assert_int_equal(
	    db_snapshot_set_channel(f->db, s1, "stable", 86400), 0);

	assert_int_equal(
	    raw_int(f->path, "SELECT count(*) FROM current_baselines"), 1);
	raw_text(f->path,
	    "SELECT pool || ' ' || channel || ' ' || snapshot || ' ' || "
	    "promoted FROM current_baselines",
	    text, sizeof(text));
	assert_string_equal(text, "a stable s1 1970-01-02 00:00:00");

	assert_int_equal(raw_int(f->path,
	                     "SELECT count(*) FROM version_changes "
	                     "WHERE pool = 'a'"),
	    5);
	assert_int_equal(raw_int(f->path,
	                     "SELECT count(*) FROM version_changes "
	                     "WHERE pool = 'b'"),
	    1);
	raw_text(f->path,
	    "SELECT previous_node_image_version || ' -> ' || "
	    "node_image_version || ' at ' || observed FROM version_changes "
	    "WHERE pool = 'a' AND observed_at = 300",
	    text, sizeof(text));
	assert_string_equal(text, "img-1 -> img-2 at 1970-01-01 00:05:00");
}

static void
assert_plan(
    struct db *db, const char *query, const char *must, const char *must_not)
{
	char plan[2048];

	assert_int_equal(db_query_plan(db, query, plan, sizeof(plan)), 0);
	if (strstr(plan, must) == NULL)
		fail_msg("%s: plan lacks \"%s\":\n%s", query, must, plan);
	if (must_not != NULL && strstr(plan, must_not) != NULL)
		fail_msg("%s: plan has \"%s\":\n%s", query, must_not, plan);
}

static void
test_db_hot_queries_use_their_indexes(void **state)
{
	struct fx *f = *state;

	assert_int_equal(db_open(f->path, &f->db), 0);
	assert_plan(f->db, "history",
	    "INDEX observations_by_pool_time (pool_id=? AND observed_at>?)",
	    "TEMP B-TREE");
	assert_plan(
	    f->db, "latest", "INDEX observations_by_pool_time", "TEMP B-TREE");
	/* changes_only: only the changed rows, by their partial index */
	assert_plan(f->db, "history_changes",
	    "INDEX observations_changes (pool_id=? AND observed_at>?)",
	    "TEMP B-TREE");
	/* every pool's: one statement, a seek of the same index a pool */
	assert_plan(f->db, "history_all",
	    "INDEX observations_by_pool_time (pool_id=? AND observed_at>?)",
	    "TEMP B-TREE");
	assert_plan(f->db, "history_all", "SCAN p", NULL);
	assert_plan(f->db, "history_changes_all",
	    "INDEX observations_changes (pool_id=? AND observed_at>?)",
	    "TEMP B-TREE");
	assert_plan(f->db, "history_changes_all", "SCAN p", NULL);
	assert_plan(f->db, "list", "INDEX snapshots_by_pool_time (pool_id=?)",
	    "TEMP B-TREE");
	/* a pool's snapshots in one state: those rows alone (0013) */
	assert_plan(f->db, "list_state",
	    "INDEX snapshots_by_pool_state (pool_id=? AND state=?)",
	    "TEMP B-TREE");
	/* a run's reads of a pool's present: index pages, never the rows
	 * (0019) */
	assert_plan(f->db, "newest_active",
	    "COVERING INDEX snapshots_active_rows (pool_id=?)", "TEMP B-TREE");
	assert_plan(f->db, "list_active",
	    "COVERING INDEX snapshots_active_rows (pool_id=?)", "TEMP B-TREE");
	assert_plan(f->db, "slot_taken",
	    "COVERING INDEX snapshots_by_pool_slot (pool_id=? AND slot=?)",
	    "SCAN snapshots");
	/* a skip's run range: the pool's ranges ending at or after the slot */
	assert_plan(f->db, "slot_taken",
	    "COVERING INDEX decisions_by_pool_last_slot (pool_id=? AND "
	    "last_slot>?)",
	    "SCAN decisions");
	/* ... and the pool's open skip range (0018), by its key */
	assert_plan(f->db, "slot_taken",
	    "decision_open USING PRIMARY KEY (pool_id=? AND snapshot_id=?)",
	    "SCAN decision_open");
	/* db_decision_add's "the same as the last one?" */
	assert_plan(f->db, "last_decision", "INDEX decisions_by_snapshot",
	    "TEMP B-TREE");
	assert_plan(f->db, "last_decision_pool",
	    "INDEX decisions_pool_level (pool_id=?)", "TEMP B-TREE");
	/* by name over every pool: the unique (name, pool_id) index (0017) */
	assert_plan(f->db, "find_name",
	    "INDEX sqlite_autoindex_snapshots_1 (name=?)", "SCAN s");
	/* by ARM id: the stored ones, and the derived ones by their name */
	assert_plan(f->db, "find_arm_id",
	    "INDEX snapshots_by_arm_id (arm_id=?)", "SCAN s");
	assert_plan(f->db, "find_arm_id",
	    "INDEX sqlite_autoindex_snapshots_1 (name=?)", "SCAN s");
	assert_plan(f->db, "channel", "snapshot_channels_holder", "SCAN s");
	assert_plan(
	    f->db, "decisions", "INDEX decisions_by_snapshot", "SCAN d");
}

/*
 * What `check`, the metrics, `report` and the run ask of every pool
 * (migration 0013): index seeks, never a scan of a table that grows with
 * the store's age (issue 16).
 */
/* The plan of the report's query ${name} holds ${must} and scans nothing
 * but the JSON of the pools asked for (json_each's virtual table). */
static void
assert_report_plan(struct db *db, const char *name, const char *must)
{
	char plan[4096];
	const char *line;

	assert_int_equal(db_report_query_plan(db, name, plan, sizeof(plan)), 0);
	if (strstr(plan, must) == NULL)
		fail_msg("%s: plan lacks \"%s\":\n%s", name, must, plan);
	for (line = plan; line != NULL && *line != '\0';) {
		const char *end = strchr(line, '\n');
		size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
		char one[256];

		snprintf(one, sizeof(one), "%.*s", (int)len, line);
		if (strstr(one, "SCAN") != NULL &&
		    strstr(one, "VIRTUAL TABLE") == NULL)
			fail_msg("%s: plan scans:\n%s", name, plan);
		line = end != NULL ? end + 1 : NULL;
	}
}

/* The plan of the report's query ${name} is ${scan}, then ${then} when
 * not NULL, and nothing else. */
static void
assert_report_scan(
    struct db *db, const char *name, const char *scan, const char *then)
{
	char plan[4096], want[512];

	assert_int_equal(db_report_query_plan(db, name, plan, sizeof(plan)), 0);
	snprintf(want, sizeof(want), "%s\n%s%s", scan, then != NULL ? then : "",
	    then != NULL ? "\n" : "");
	if (strcmp(plan, want) != 0)
		fail_msg("%s: plan is not\n%s:\n%s", name, want, plan);
}

static void
test_db_per_pool_questions_never_scan(void **state)
{
	struct fx *f = *state;

	assert_int_equal(db_open(f->path, &f->db), 0);
	assert_plan(f->db, "snapshots_in_state",
	    "INDEX snapshots_by_state (state=?)", "SCAN s");
	assert_plan(f->db, "pool_counts",
	    "SEARCH pool_snapshot_counts USING PRIMARY KEY (pool_id=?)",
	    "SCAN");
	/* a pool's newest success: its row of pool_success (0025) */
	assert_plan(f->db, "last_success",
	    "SEARCH pool_success USING INTEGER PRIMARY KEY (rowid=?)",
	    "SCAN pool_success");
	assert_plan(
	    f->db, "runs_failed", "COVERING INDEX runs_failed", "SCAN runs");
	assert_plan(f->db, "last_success",
	    "decision_open USING PRIMARY KEY (pool_id=? AND snapshot_id=?)",
	    "SCAN decision_open");
	/* `report`'s questions (db/db_report.c), as it asks them */
	assert_report_plan(f->db, "events",
	    "INDEX decisions_marks_by_pool_time (pool_id=? AND last_at>?)");
	assert_report_plan(f->db, "events",
	    "INDEX decisions_promotions_by_pool_time (pool_id=? AND "
	    "last_at>?)");
	assert_report_plan(f->db, "events",
	    "INDEX decisions_failures_by_pool_time (pool_id=? AND last_at>?)");
	/* the summary's, every pool at once (0021): the counts on the
	 * one-action indexes */
	assert_report_plan(f->db, "sum-live",
	    "SEARCH present USING INTEGER PRIMARY KEY (rowid=?)");
	assert_report_plan(f->db, "sum-pools",
	    "INDEX snapshot_channels_holder (pool_id=? AND channel=?)");
	assert_report_plan(f->db, "sum-pools",
	    "INDEX decisions_promotions_by_pool_time (pool_id=? AND "
	    "last_at>?)");
	assert_report_plan(f->db, "sum-pools-failed",
	    "INDEX decisions_failures_by_pool_time (pool_id=? AND last_at>?)");
	/* ... and the pool's open ranges (0018) */
	assert_report_plan(
	    f->db, "events", "SEARCH o USING PRIMARY KEY (pool_id=?)");
	/* what no pool's row counts, read once for the fleet, its pools'
	 * range of the index: the open promotions and failures (bounded by
	 * the store's present) and the failures (few, and counted a pool
	 * at a time past a bound) */
	assert_report_scan(f->db, "sum-open",
	    "SEARCH x USING INDEX decision_open_marks (pool_id>? AND "
	    "pool_id<?)",
	    "SEARCH d USING INTEGER PRIMARY KEY (rowid=?)");
	assert_report_scan(f->db, "sum-failed",
	    "SEARCH decision_rows USING INDEX decisions_failures_by_pool_time "
	    "(pool_id>? AND pool_id<?)",
	    NULL);
	/* a report of most of the store's pools: their present row each
	 * (a table of a row a pool), its observation by id */
	assert_report_scan(f->db, "sum-live-all", "SCAN p",
	    "SEARCH o USING INTEGER PRIMARY KEY (rowid=?)");
	assert_report_plan(f->db, "runs", "INDEX runs_by_as_of (as_of>?)");
	assert_report_plan(f->db, "snapshot-counts",
	    "COVERING INDEX snapshots_active_rows (pool_id=?)");
}

/* `list`'s queries (db_list.c): live snapshots through indexes; only
 * --all over every pool reads the table. */
static void
test_db_list_live_uses_indexes(void **state)
{
	struct fx *f = *state;
	char plan[2048];

	assert_int_equal(db_open(f->path, &f->db), 0);
	assert_int_equal(
	    db_snapshot_each_plan(f->db, 0, 0, plan, sizeof(plan)), 0);
	if (strstr(plan, "INDEX snapshots_live") == NULL ||
	    strstr(plan, "TEMP B-TREE") != NULL)
		fail_msg("list: %s", plan);
	assert_int_equal(
	    db_snapshot_each_plan(f->db, 7, 0, plan, sizeof(plan)), 0);
	if (strstr(plan, "INDEX snapshots_by_pool_time (pool_id=?)") == NULL ||
	    strstr(plan, "TEMP B-TREE") != NULL)
		fail_msg("list POOL: %s", plan);
	assert_int_equal(
	    db_snapshot_each_plan(f->db, 7, 1, plan, sizeof(plan)), 0);
	if (strstr(plan, "INDEX snapshots_by_pool_time (pool_id=?)") == NULL)
		fail_msg("list --all POOL: %s", plan);
	/* the table's two passes: every pool's live ones from the covering
	 * index alone (0020), newest first without a sort */
	assert_int_equal(
	    db_snapshot_lines_plan(f->db, 0, 0, plan, sizeof(plan)), 0);
	if (strstr(plan, "COVERING INDEX snapshots_live") == NULL ||
	    strstr(plan, "TEMP B-TREE") != NULL)
		fail_msg("list lines: %s", plan);
	assert_int_equal(
	    db_snapshot_lines_plan(f->db, 7, 0, plan, sizeof(plan)), 0);
	if (strstr(plan, "(pool_id=?") == NULL ||
	    strstr(plan, "TEMP B-TREE") != NULL)
		fail_msg("list lines POOL: %s", plan);
}

/* The page cache and mmap are sized on purpose (db.c's essay), for every
 * connection, a reader's too. */
static void
test_db_open_sizes_page_cache_and_mmap(void **state)
{
	struct fx *f = *state;
	long long v = -1;

	assert_int_equal(db_open(f->path, &f->db), 0);
	assert_int_equal(db_pragma_int(f->db, "cache_size", &v), 0);
	assert_int_equal(v, -4096);
	assert_int_equal(db_pragma_int(f->db, "mmap_size", &v), 0);
	assert_int_equal(v, 0);
	db_close(f->db);
	f->db = NULL;
	assert_int_equal(db_open_nomigrate(f->path, &f->db), 0);
	assert_int_equal(db_pragma_int(f->db, "cache_size", &v), 0);
	assert_int_equal(v, -4096);
	assert_int_equal(db_pragma_int(f->db, "user_version", &v), -1);
}

/* The directory SQLite makes its temporary files in (SQLITE_TMPDIR, set
 * by main before SQLite reads it) and a watch on the files made there. */
static char sqlite_tmpdir[64];

/* How many files SQLite created in sqlite_tmpdir since the watch ${fd}
 * was set (each read once). */
static int
tmp_files_made(int fd)
{
	char buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	int n = 0;
	ssize_t len;

	while ((len = read(fd, buf, sizeof(buf))) > 0)
		for (char *p = buf; p < buf + len;) {
			const struct inotify_event *ev = (const void *)p;

			n += (ev->mask & IN_CREATE) != 0;
			p += sizeof(*ev) + ev->len;
		}
	return n;
}

/*
 * A statement that can fail half-way inside a transaction (an UPDATE whose
 * triggers keep other tables, as marking a snapshot active does) journals
 * each page it changes: up to 120 KiB in memory, not in a temporary file
 * as from SQLite's 64 KiB on (a file, once made, took two pwrite calls a
 * page for every later statement of a run's grouped commit).  A larger
 * statement still spills: what one statement holds in memory is bounded.
 */
static void
test_db_statement_journal_stays_in_memory(void **state)
{
	struct fx *f = *state;
	int fd;

	assert_int_equal(db_open(f->path, &f->db), 0);
	/* 2,000 rows of about 110 bytes: 55 pages. */
	raw_exec(f->path,
	    "CREATE TABLE jt (id INTEGER PRIMARY KEY, v TEXT NOT NULL "
	    "CHECK (length(v) > 0)); "
	    "CREATE TABLE jt_seen (n INTEGER); "
	    "CREATE TRIGGER jt_u AFTER UPDATE ON jt BEGIN "
	    "UPDATE jt_seen SET n = n + 1; END; "
	    "INSERT INTO jt_seen VALUES (0); "
	    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
	    "WHERE x < 2000) INSERT INTO jt SELECT x, printf('%0100d', x) "
	    "FROM c");
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	assert_true(fd >= 0);
	assert_true(inotify_add_watch(fd, sqlite_tmpdir, IN_CREATE) >= 0);

	/* About 20 pages (82 KB of journal): in memory. */
	assert_int_equal(db_begin(f->db), 0);
	assert_int_equal(db_exec(f->db,
	                     "UPDATE jt SET v = v || 'x' "
	                     "WHERE id <= 720",
	                     "touch 20 pages", DB_NO_ARGS),
	    0);
	assert_int_equal(db_exec(f->db,
	                     "UPDATE jt SET v = v || 'y' "
	                     "WHERE id <= 720",
	                     "touch them again", DB_NO_ARGS),
	    0);
	assert_int_equal(db_commit(f->db), 0);
	assert_int_equal(tmp_files_made(fd), 0);

	/* Every page (225 KB): spilled to a file. */
	assert_int_equal(db_begin(f->db), 0);
	assert_int_equal(db_exec(f->db, "UPDATE jt SET v = v || 'z'",
	                     "touch every page", DB_NO_ARGS),
	    0);
	assert_int_equal(db_commit(f->db), 0);
	assert_true(tmp_files_made(fd) >= 1);
	assert_int_equal(raw_int(f->path, "SELECT n FROM jt_seen"), 3440);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	    T(test_db_fresh_store_gets_latest_schema),
	    T(test_db_foreign_keys_are_enforced),
	    T(test_db_migrates_from_every_older_version_keeping_rows),
	    T(test_db_migrates_synthetic_steps_from_every_version),
	    T(test_db_failed_migration_leaves_previous_version_intact),
	    T(test_db_refuses_newer_store_and_leaves_it_unchanged),
	    T(test_db_refuses_foreign_application_id_and_leaves_it_unchanged),
	    T(test_db_refuses_foreign_tables_without_application_id),
	    T(test_db_refuses_non_sqlite_file),
	    T(test_db_open_nomigrate_refuses_missing_and_old_stores),
	    T(test_db_backup_round_trip),
	    T(test_db_busy_store_fails_with_clear_message),
	    T(test_db_transactions_commit_and_roll_back),
	    T(test_db_runs_start_finish_and_last),
	    T(test_db_pool_sync_upserts_by_key),
	    T(test_db_stmt_cache_prepares_each_text_once),
	    T(test_db_pool_sync_rewrites_only_a_changed_row),
	    T(test_db_pool_sync_many_writes_only_new_and_changed),
	    T(test_db_pool_sync_many_reads_its_memo),
	    T(test_db_metrics_pools_answer_every_pool_at_once),
	    T(test_db_report_events_read_as_the_view),
	    T(test_db_observation_in_force_then_record),
	    T(test_db_observation_latest_is_newest),
	    T(test_db_history_lists_every_observation_in_time_order),
	    T(test_db_history_changes_only_keeps_version_changes),
	    T(test_db_history_changes_only_counts_going_missing),
	    T(test_db_history_lines_are_db_history_s),
	    T(test_db_history_callback_may_query_history_again),
	    T(test_db_snapshot_intent_then_active_fills_fields),
	    T(test_db_snapshot_intent_reuses_failed_row_only),
	    T(test_db_snapshot_pin_and_channel_track_promotion),
	    T(test_db_snapshot_find_by_id_name_and_arm_id),
	    T(test_db_snapshot_list_newest_first_by_pool_and_state),
	    T(test_db_snapshot_lines_come_with_their_lengths),
	    T(test_db_snapshot_adopt_records_what_azure_holds),
	    T(test_db_slot_taken_follows_due_rule),
	    T(test_db_slot_taken_stops_at_its_first_answer),
	    T(test_db_decisions_are_listed_per_snapshot_oldest_first),
	    T(test_db_decision_texts_looked_up_once),
	    T(test_db_sqlite_keeps_no_memory_statistics),
	    T(test_db_counts_rows_and_snapshot_states),
	    T(test_db_row_counts_kept_by_triggers),
	    T(test_db_migration_covers_a_runs_reads),
	    T(test_db_migration_adds_unconfirmed_and_conflict_states),
	    T(test_db_migration_records_demote_runs),
	    T(test_db_migration_interns_decision_texts),
	    T(test_db_migration_derives_snapshot_arm_ids),
	    T(test_db_vacuum_gives_free_pages_back),
	    T(test_db_same_decision_extends_its_run_range),
	    T(test_db_open_sizes_page_cache_and_mmap),
	    T(test_db_migration_to_decision_ranges_keeps_explain),
	    T(test_db_migration_moves_channels_to_their_table),
	    T(test_db_views_show_baselines_and_version_changes),
	    T(test_db_same_decision_writes_no_row),
	    T(test_db_hot_queries_use_their_indexes),
	    T(test_db_per_pool_questions_never_scan),
	    T(test_db_list_live_uses_indexes),
	    T(test_db_statement_journal_stays_in_memory),
#undef T
	};
	int rc;

	/* Read once, when SQLite initialises (the first open). */
	snprintf(
	    sqlite_tmpdir, sizeof(sqlite_tmpdir), "/tmp/aksnap-sqltmp-XXXXXX");
	if (mkdtemp(sqlite_tmpdir) == NULL ||
	    setenv("SQLITE_TMPDIR", sqlite_tmpdir, 1) != 0)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	(void)rmdir(sqlite_tmpdir);
	return rc;
}
