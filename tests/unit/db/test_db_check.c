/*
 * test_db_check.c -- db/db_check.c and the guard db_open builds on it: a
 * sound store passes; duplicated actives, orphaned rows and damaged pages
 * are each found and named; no writer opens a store that fails, and the
 * file stays byte for byte as it was; db_backup refuses a damaged store
 * and verifies its copy; a store in a directory aksnap cannot write is
 * refused to writers (naming the directory) and read by readers.  The
 * pre-write check is bounded: a writer skips it while the stamp the last
 * clean writer left matches the file and is under a day old, and checks
 * (and refuses damage) otherwise -- counted, never timed.
 *
 * Raw sqlite3 calls build the damage the API would never write.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db/db.h"
#include "db/db_check.h"
#include "job/base/util.h"
#include "tests/unit/db/fixture.h"

static int
has_problem(
    const struct db_check_report *r, const char *kind, const char *needle)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->items[i].kind, kind) == 0 &&
		    strstr(r->items[i].detail, needle) != NULL)
			return 1;
	return 0;
}

/* A store with two pools, a run, snapshots, decisions: then closed. */
static void
make_store(struct fx *f)
{
	struct pool_conf pc;
	struct db_versions v;
	struct db_decision d;
	int64_t pool = 0, run = 0, snap = 0;
	char arm_id[256], name[64];

	assert_int_equal(db_open(f->path, &f->db), 0);
	memset(&pc, 0, sizeof(pc));
	util_strlcpy(pc.key, "staging", sizeof(pc.key));
	util_strlcpy(pc.subscription, "00000000-0000-0000-0000-000000000001",
	    sizeof(pc.subscription));
	util_strlcpy(pc.resource_group, "rg", sizeof(pc.resource_group));
	util_strlcpy(pc.cluster, "aks", sizeof(pc.cluster));
	util_strlcpy(pc.nodepool, "system", sizeof(pc.nodepool));
	assert_int_equal(db_pool_sync(f->db, &pc, &pool), 0);
	assert_int_equal(db_run_start(f->db, 1000, 1000, "run", &run), 0);
	memset(&v, 0, sizeof(v));
	util_strlcpy(v.node_image_version, "AKSUbuntu-2204gen2-202601.01.0",
	    sizeof(v.node_image_version));
	util_strlcpy(
	    v.kubernetes_version, "1.33.2", sizeof(v.kubernetes_version));
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "aksnap-aks-system-%02d", i);
		snprintf(arm_id, sizeof(arm_id),
		    "/subscriptions/s/resourceGroups/rg/providers/"
		    "Microsoft.ContainerService/snapshots/%s",
		    name);
		assert_int_equal(db_snapshot_intent(f->db, pool, name, arm_id,
		                     3600 * (i + 1), 3600 * (i + 1), &snap),
		    0);
		assert_int_equal(
		    db_snapshot_set_active(f->db, snap, 3600 * (i + 1), &v), 0);
		assert_int_equal(db_observation_add(f->db, run, pool,
		                     3600 * (i + 1), &v, "Succeeded"),
		    0);
		memset(&d, 0, sizeof(d));
		d.run_id = run;
		d.pool_id = pool;
		d.snapshot_id = snap;
		d.at = 3600 * (i + 1);
		util_strlcpy(d.action, "keep", sizeof(d.action));
		util_strlcpy(d.reasons,
		    "keep_last 40 (a longish reason to "
		    "fill the decision pages a little)",
		    sizeof(d.reasons));
		assert_int_equal(db_decision_add(f->db, &d), 0);
	}
	db_close(f->db);
	f->db = NULL;
}

/* The root page of ${name} (a table or an index). */
static int
rootpage(struct fx *f, const char *name)
{
	sqlite3 *c = NULL;
	sqlite3_stmt *s = NULL;
	int page = -1;

	assert_int_equal(sqlite3_open(f->path, &c), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(c,
	                     "SELECT rootpage FROM sqlite_master "
	                     "WHERE name = ?1",
	                     -1, &s, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		page = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(c);
	assert_true(page > 1);
	return page;
}

/* Overwrite page ${page} (4096 bytes, counted from 1) with 0xA5 bytes. */
static void
smash_page(struct fx *f, int page)
{
	char junk[4096];
	int fd = open(f->path, O_WRONLY);

	assert_true(fd >= 0);
	memset(junk, 0xa5, sizeof(junk));
	assert_int_equal(pwrite(fd, junk, sizeof(junk),
	                     (off_t)(page - 1) * (off_t)sizeof(junk)),
	    (ssize_t)sizeof(junk));
	close(fd);
}

static char *
slurp(const char *path, size_t *len)
{
	char err[256], *data = NULL;

	assert_int_equal(
	    util_read_file(path, 1 << 24, &data, len, err, sizeof(err)), 0);
	return data;
}

static void
test_db_check_finds_nothing_in_a_sound_store(void **state)
{
	struct fx *f = *state;
	struct db_check_report r;

	make_store(f);
	assert_int_equal(db_open_nomigrate(f->path, &f->db), 0);
	assert_int_equal(db_check_full(f->db, &r), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(db_check_quick(f->db, &r), 0);
	assert_int_equal(r.n, 0);
	db_check_report_free(&r);
	db_check_report_free(NULL);
}

static void
test_db_check_names_two_active_snapshots_of_one_slot(void **state)
{
	struct fx *f = *state;
	struct db_check_report r;

	make_store(f);
	/* The slot of snapshot 02 given to 03 as well. */
	raw_exec(f->path,
	    "UPDATE snapshots SET slot = 7200 "
	    "WHERE name = 'aksnap-aks-system-02'");
	assert_int_equal(db_open_nomigrate(f->path, &f->db), 0);
	assert_int_equal(db_check_full(f->db, &r), 0);
	assert_int_equal(r.n, 1);
	assert_true(has_problem(&r, "invariant",
	    "pool staging: 2 active snapshots for slot "
	    "1970-01-01T02:00:00Z"));
	assert_true(has_problem(&r, "invariant", "aksnap-aks-system-01"));
	db_check_report_free(&r);
	/* The quick check (every writer's) sees it too. */
	assert_int_equal(db_check_quick(f->db, &r), 0);
	assert_int_equal(r.n, 1);
	db_check_report_free(&r);
	db_close(f->db);
	f->db = NULL;

	/* And no writer opens it. */
	assert_int_equal(db_open(f->path, &f->db), -1);
	assert_logged(f, "refusing to write to it, nothing done");
	assert_logged(f, "2 active snapshots for slot");
}

static void
test_db_check_names_orphans_and_dangling_references(void **state)
{
	struct fx *f = *state;
	struct db_check_report r;

	make_store(f);
	raw_exec(f->path,
	    "PRAGMA foreign_keys = OFF; "
	    "UPDATE snapshots SET pool_id = 99 "
	    "WHERE name = 'aksnap-aks-system-05'; "
	    /* a decision's run range names its run twice (run_id,
	     * last_run_id, 0008): one dangling reference each is enough to
	     * show, and keeps the report under DB_CHECK_MAX */
	    "UPDATE decision_rows SET last_run_id = NULL; "
	    "DELETE FROM runs;");
	assert_int_equal(db_open_nomigrate(f->path, &f->db), 0);
	assert_int_equal(db_check_full(f->db, &r), 0);
	assert_true(has_problem(&r, "foreign_key",
	    "snapshots row 6 references a missing pools row"));
	assert_true(has_problem(&r, "invariant",
	    "snapshot aksnap-aks-system-05 (id 6) belongs to pool id 99, "
	    "which is missing"));
	assert_true(has_problem(
	    &r, "invariant", "40 decision(s) naming a missing run"));
	assert_true(has_problem(
	    &r, "invariant", "1 decision(s) about a snapshot of another pool"));
	/* 40 equal observations: one interval (0012), first and last run */
	assert_true(has_problem(
	    &r, "invariant", "1 observation(s) naming a missing run"));
	assert_true(has_problem(
	    &r, "invariant", "1 observation(s) naming a missing last run"));
	db_check_report_free(&r);
}

/*
 * The rows the triggers keep that a run reads instead of the store's
 * past -- each pool's newest observation and active snapshot (0024),
 * each mode's last partial run (0028) -- are checked against the rows
 * they stand for: a run answers from them, so a wrong one would be a
 * wrong record, not a slow one.
 */
static void
test_db_check_names_kept_rows_that_differ(void **state)
{
	struct fx *f = *state;
	struct db_check_report r;
	struct db_run run;

	make_store(f);
	assert_int_equal(db_open(f->path, &f->db), 0);
	memset(&run, 0, sizeof(run));
	assert_int_equal(db_run_start(f->db, 5000, 5000, "prune", &run.id), 0);
	run.finished_at = 5001;
	assert_int_equal(db_run_finish(f->db, &run), 0);
	assert_int_equal(db_check_full(f->db, &r), 0);
	assert_int_equal(r.n, 0);
	db_check_report_free(&r);
	db_close(f->db);
	f->db = NULL;

	raw_exec(f->path,
	    "UPDATE pool_present SET obs_id = NULL; "
	    "UPDATE partial_run_last SET run_id = 1;");
	assert_int_equal(db_open_nomigrate(f->path, &f->db), 0);
	assert_int_equal(db_check_full(f->db, &r), 0);
	assert_int_equal(r.n, 2);
	assert_true(has_problem(&r, "invariant",
	    "pool_present: 1 pool(s) whose newest observation or active "
	    "snapshot differs from the rows (first pool id 1)"));
	assert_true(has_problem(&r, "invariant",
	    "partial_run_last: 1 mode(s) whose last partial run differs "
	    "from the runs (first prune: run 1, the runs say 2)"));
	db_check_report_free(&r);
}

static void
test_db_check_finds_a_damaged_page_and_writers_leave_it_alone(void **state)
{
	struct fx *f = *state;
	struct db_check_report r;
	char *before, *after, dest[192];
	size_t nb, na;

	make_store(f);
	smash_page(f, rootpage(f, "decisions_by_snapshot"));
	before = slurp(f->path, &nb);

	/* Readers still open it; the check names the damage. */
	assert_int_equal(db_open_nomigrate(f->path, &f->db), 0);
	assert_int_equal(db_check_full(f->db, &r), 0);
	assert_true(r.n > 0);
	assert_string_equal(r.items[0].kind, "integrity");
	db_check_report_free(&r);

	/* A backup of it is refused, and no file is left behind. */
	snprintf(dest, sizeof(dest), "%s/backup.db", f->dir);
	assert_int_equal(db_backup(f->db, dest), -1);
	assert_logged(f, "refusing to back it up");
	assert_int_equal(access(dest, F_OK), -1);
	db_close(f->db);
	f->db = NULL;

	/* A writer refuses it before writing anything. */
	assert_int_equal(db_open(f->path, &f->db), -1);
	assert_null(f->db);
	assert_true(db_failed_unusable());
	assert_logged(f, "fails its integrity check");
	assert_logged(f, "refusing to write to it, nothing done");
	after = slurp(f->path, &na);
	assert_int_equal(na, nb);
	assert_memory_equal(before, after, nb);
	free(before);
	free(after);
}

static void
test_db_backup_verifies_its_copy(void **state)
{
	struct fx *f = *state;
	struct db_check_report r;
	struct db *copy = NULL;
	char dest[192];

	make_store(f);
	assert_int_equal(db_open_nomigrate(f->path, &f->db), 0);
	snprintf(dest, sizeof(dest), "%s/backup.db", f->dir);
	assert_int_equal(db_backup(f->db, dest), 0);
	assert_int_equal(db_open_nomigrate(dest, &copy), 0);
	assert_int_equal(db_check_full(copy, &r), 0);
	assert_int_equal(r.n, 0);
	db_close(copy);
}

/* chattr +i: even root cannot create files in it (tests run as root). */
static void
freeze_dir(struct fx *f)
{
	char cmd[256], probe[192];
	int fd;

	snprintf(cmd, sizeof(cmd), "chattr +i %s", f->dir);
	if (system(cmd) != 0)
		fail_msg("chattr +i %s failed: this test needs a file system "
		         "with the immutable attribute",
		    f->dir);
	snprintf(probe, sizeof(probe), "%s/probe", f->dir);
	fd = open(probe, O_WRONLY | O_CREAT, 0600);
	if (fd >= 0) {
		close(fd);
		fail_msg("%s is still writable after chattr +i", f->dir);
	}
}

static void
test_db_unwritable_directory_refuses_writers_and_serves_readers(void **state)
{
	struct fx *f = *state;
	struct db_snapshot *rows = NULL;
	struct db_check_report r;
	size_t n = 0;
	char want[192];

	make_store(f);
	freeze_dir(f);

	assert_int_equal(db_open(f->path, &f->db), -1);
	snprintf(want, sizeof(want), "the store's directory %s is not writable",
	    f->dir);
	assert_logged(f, want);
	assert_false(db_failed_busy());
	assert_true(db_failed_unusable());

	/* Read-only: opened immutable, every read works. */
	assert_int_equal(db_open_nomigrate(f->path, &f->db), 0);
	assert_int_equal(db_snapshot_list(f->db, 0, NULL, &rows, &n), 0);
	assert_int_equal(n, 40);
	free(rows);
	assert_int_equal(db_check_full(f->db, &r), 0);
	assert_int_equal(r.n, 0);
	assert_null(strstr(f->log, "readonly database"));
}

/* Open a writer and close it again: the pre-write check decides. */
static int
open_writer(struct fx *f)
{
	int rc = db_open(f->path, &f->db);

	db_close(f->db);
	f->db = NULL;
	return rc;
}

static void
assert_counts(long long checked, long long skipped)
{
	struct db_check_counts c;

	db_check_get_counts(&c);
	assert_int_equal(c.checked, checked);
	assert_int_equal(c.skipped, skipped);
}

static void
test_db_check_skipped_while_the_stamp_matches_the_file(void **state)
{
	struct fx *f = *state;
	struct db_check_counts c0;
	struct db_snapshot *rows = NULL;
	char stamp[192];
	size_t n = 0;
	int64_t run = 0;
	time_t at = 0;

	make_store(f);
	db_check_get_counts(&c0);
	snprintf(stamp, sizeof(stamp), "%s.checked", f->path);
	assert_int_equal(access(stamp, F_OK), 0);
	assert_int_equal(db_check_stamp_read(f->path, &at), 1);

	/* The file as the last writer left it: no check. */
	assert_int_equal(open_writer(f), 0);
	assert_counts(c0.checked, c0.skipped + 1);

	/* Readers in between change nothing. */
	assert_int_equal(db_open_nomigrate(f->path, &f->db), 0);
	assert_int_equal(db_snapshot_list(f->db, 0, NULL, &rows, &n), 0);
	assert_int_equal(n, 40);
	free(rows);
	db_close(f->db);
	f->db = NULL;

	/* A writer that writes leaves a stamp of what it wrote. */
	assert_int_equal(db_open(f->path, &f->db), 0);
	assert_counts(c0.checked, c0.skipped + 2);
	assert_int_equal(db_run_start(f->db, 5000, 5000, "run", &run), 0);
	db_close(f->db);
	f->db = NULL;
	assert_int_equal(open_writer(f), 0);
	assert_counts(c0.checked, c0.skipped + 3);

	/* A check more than a day old is made again, and stamped anew. */
	assert_int_equal(
	    db_check_stamp_write(f->path, at - DB_CHECK_MAX_AGE - 1), 0);
	assert_int_equal(open_writer(f), 0);
	assert_counts(c0.checked + 1, c0.skipped + 3);
	assert_int_equal(open_writer(f), 0);
	assert_counts(c0.checked + 1, c0.skipped + 4);

	/* So is one from the future (a clock set back), or a garbled one. */
	assert_int_equal(
	    db_check_stamp_write(f->path, at + 10 * DB_CHECK_MAX_AGE), 0);
	assert_int_equal(open_writer(f), 0);
	assert_counts(c0.checked + 2, c0.skipped + 4);
	assert_int_equal(truncate(stamp, 20), 0);
	assert_int_equal(open_writer(f), 0);
	assert_counts(c0.checked + 3, c0.skipped + 4);
}

static void
test_db_check_damage_after_a_clean_writer_is_still_refused(void **state)
{
	struct fx *f = *state;
	struct db_check_counts c0;
	char stamp[192];

	make_store(f);
	db_check_get_counts(&c0);
	snprintf(stamp, sizeof(stamp), "%s.checked", f->path);

	/* Damage after a clean writer: the file is not what it stamped. */
	smash_page(f, rootpage(f, "decisions_by_snapshot"));
	assert_int_equal(open_writer(f), -1);
	assert_counts(c0.checked + 1, c0.skipped);
	assert_logged(f, "refusing to write to it, nothing done");
	/* And no stamp is left to vouch for it: refused again. */
	assert_int_equal(access(stamp, F_OK), -1);
	assert_int_equal(open_writer(f), -1);
	assert_counts(c0.checked + 2, c0.skipped);
}

static void
test_db_check_damage_met_by_a_writer_unstamps_the_store(void **state)
{
	struct fx *f = *state;
	struct db_check_counts c0;
	struct db_snapshot snap;
	char stamp[192];

	make_store(f);
	db_check_get_counts(&c0);
	snprintf(stamp, sizeof(stamp), "%s.checked", f->path);

	/* A fresh stamp: the writer skips the check ... */
	assert_int_equal(db_open(f->path, &f->db), 0);
	assert_counts(c0.checked, c0.skipped + 1);
	assert_int_equal(db_snapshot_get(f->db, 3, &snap), 1);
	/* ... the file is damaged under it; SQLite meets the damage ... */
	smash_page(f, rootpage(f, "decisions_by_snapshot"));
	assert_int_equal(db_decision_list(f->db, 3, NULL, NULL), -1);
	assert_true(db_failed_unusable());
	db_close(f->db);
	f->db = NULL;
	/* ... and the next writer checks everything and refuses. */
	assert_int_equal(access(stamp, F_OK), -1);
	assert_int_equal(open_writer(f), -1);
	assert_counts(c0.checked + 1, c0.skipped + 1);
	assert_logged(f, "refusing to write to it, nothing done");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_db_check_finds_nothing_in_a_sound_store),
	    T(test_db_check_names_kept_rows_that_differ),
	    T(test_db_check_names_two_active_snapshots_of_one_slot),
	    T(test_db_check_names_orphans_and_dangling_references),
	    T(test_db_check_finds_a_damaged_page_and_writers_leave_it_alone),
	    T(test_db_backup_verifies_its_copy),
	    T(test_db_unwritable_directory_refuses_writers_and_serves_readers),
	    T(test_db_check_skipped_while_the_stamp_matches_the_file),
	    T(test_db_check_damage_after_a_clean_writer_is_still_refused),
	    T(test_db_check_damage_met_by_a_writer_unstamps_the_store),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
