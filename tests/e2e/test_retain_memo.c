/*
 * test_retain_memo.c -- a run that finds a pool as the last one left it
 * extends the pool's keep decisions from its retention memo (migration
 * 0023, job/run/prune.c) and records exactly what deciding again would
 * have: two stores live the same ten days of runs every four hours
 * (releases, snapshots taken, promotions through a two-rung ladder,
 * keep_within expiring, deletions; a snapshot pinned and unpinned and
 * the policy changed between runs), one keeping its memos, the other
 * with every memo deleted before each run; at the end both hold the
 * same decisions, ranges, snapshots and channel entries, row for row,
 * and Azure saw the same requests.
 */
#include <jansson.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "job/base/util.h"
#include "tests/e2e/harness.h"

#define FLEET "tests/armemu/fleet-demo.json"
#define HOUR 3600
#define DAY 86400

/* one request at a time: both stores number their rows alike */
static const char *const MEMO_INI =
    "max_parallel = 1\n"
    "\n[policy:soak]\n"
    "schedule = 0 2 * * *\n"
    "snapshot_when = changed\n"
    "keep_last = 2\nkeep_daily = 3\nkeep_weekly = 1\nkeep_monthly = 0\n"
    "keep_within = 1d\nmin_keep = 1\n"
    "channels = canary:1d stable:3d\n"
    "keep_promoted = 1\n"
    /* a promotion's reasons would say how long curl took to fail */
    "release_notes = off\n"
    "\n[pool:staging-system]\nresource_group = rg-staging\n"
    "cluster = aks-staging\nnodepool = system\npolicy = soak\n"
    "\n[pool:staging-user]\nresource_group = rg-staging\n"
    "cluster = aks-staging\nnodepool = user\npolicy = soak\n"
    "snapshot_when = always\n"
    "\n[pool:prod-batch]\nresource_group = rg-prod\n"
    "cluster = aks-prod\nnodepool = batch\npolicy = soak\n";

struct fx {
	struct harness memo; /* keeps its memos */
	struct harness again; /* decides again every run */
	time_t t0;
};

static int
setup(void **state)
{
	static const char *const args[] = {
	    "--fleet", FLEET, "--retry-after", "0", NULL};
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL || harness_init(&f->memo, args, MEMO_INI) != 0) {
		free(f);
		return -1;
	}
	if (harness_init(&f->again, args, MEMO_INI) != 0) {
		harness_fini(&f->memo);
		free(f);
		return -1;
	}
	util_parse_time("2026-11-09T00:00:00Z", &f->t0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	if (f != NULL) {
		harness_fini(&f->memo);
		harness_fini(&f->again);
	}
	free(f);
	return 0;
}

/* Run ${sql} on ${h}'s store; the first column of its first row as an
 * integer (0 when none). */
static long long
store_int(struct harness *h, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long long v = 0;

	assert_int_equal(sqlite3_open(h->store, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* The first column of ${sql}'s first row on ${h}'s store, as text. */
static void
store_text(struct harness *h, const char *sql, char *buf, size_t len)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	buf[0] = '\0';
	assert_int_equal(
	    sqlite3_open_v2(h->store, &db, SQLITE_OPEN_READONLY, NULL),
	    SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(buf, len, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_true(buf[0] != '\0');
}

/* Every row of ${sql} on ${h}'s store, one "a|b|c" line each (malloc'd). */
static char *
store_dump(struct harness *h, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	size_t len = 0, cap = 4096;
	char *out = malloc(cap);

	assert_non_null(out);
	out[0] = '\0';
	assert_int_equal(
	    sqlite3_open_v2(h->store, &db, SQLITE_OPEN_READONLY, NULL),
	    SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (int i = 0; i < sqlite3_column_count(st); i++) {
			const char *v =
			    (const char *)sqlite3_column_text(st, i);
			size_t need = strlen(v ? v : "NULL") + 2;

			if (len + need + 1 > cap) {
				cap = (len + need + 1) * 2;
				out = realloc(out, cap);
				assert_non_null(out);
			}
			len += (size_t)snprintf(out + len, cap - len, "%s%s",
			    v ? v : "NULL",
			    i + 1 < sqlite3_column_count(st) ? "|" : "\n");
		}
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return out;
}

/* Both stores answer ${sql} alike. */
static void
expect_same(struct fx *f, const char *sql)
{
	char *a = store_dump(&f->memo, sql), *b = store_dump(&f->again, sql);

	if (strcmp(a, b) != 0) {
		/* the first line that differs, whole */
		size_t i = 0, line = 1, from = 0;

		for (; a[i] != '\0' && a[i] == b[i]; i++)
			if (a[i] == '\n') {
				line++;
				from = i + 1;
			}
		fail_msg(
		    "%s\nline %zu with memos:\n%.*s\ndeciding again:\n%.*s",
		    sql, line, (int)strcspn(a + from, "\n"), a + from,
		    (int)strcspn(b + from, "\n"), b + from);
	}
	assert_true(strlen(a) > 0);
	free(a);
	free(b);
}

/* `run --as-of` ${t} on ${h}, its emulator's clock frozen there; a new
 * image for the staging system pool first when ${release}. */
static void
run_at(struct harness *h, time_t t, int release)
{
	struct run_result r;
	char as_of[32], body[96];

	util_format_time(t, as_of, sizeof(as_of));
	snprintf(body, sizeof(body), "{\"now\":\"%s\",\"frozen\":true}", as_of);
	json_decref(emu_post(h->emu, "/_armemu/clock", body));
	if (release)
		json_decref(emu_post(h->emu, "/_armemu/release",
		    "{\"cluster\":\"aks-staging\",\"pool\":\"system\"}"));
	harness_aksnap(h, &r, "run", "--as-of", as_of, NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
}

/* The same hand-made change in both stores: ${cmd} "pin" pins the newest
 * snapshot of the staging user pool at ${t}, "unpin" gives it back, and
 * NULL keeps two daily snapshots instead of three (a new policy
 * fingerprint). */
static void
between_runs(struct fx *f, const char *cmd, time_t t)
{
	struct harness *h[2] = {&f->memo, &f->again};
	static const char *const times[] = {
	    "UPDATE decision_rows SET at = %lld, last_at = %lld WHERE "
	    "action IN ('pin', 'unpin')",
	    "UPDATE decision_open SET last_at = %lld + 0 * %lld WHERE "
	    "action IN ('pin', 'unpin')",
	    "UPDATE runs SET started_at = %lld, finished_at = %lld, as_of = "
	    "%lld WHERE mode IN ('pin', 'unpin')",
	};
	char name[128], sql[256];
	char *ini, *fewer;
	struct run_result r;

	for (int i = 0; i < 2; i++) {
		if (cmd == NULL) {
			/* the policy changes: every memo's digest with it */
			fewer = strdup(MEMO_INI);
			assert_non_null(fewer);
			memcpy(strstr(fewer, "keep_daily = 3"),
			    "keep_daily = 2", 14);
			ini = harness_config(h[i]->dir, h[i]->emu, fewer);
			assert_non_null(ini);
			free(ini);
			free(fewer);
			continue;
		}
		/* pin the newest, unpin the pinned one */
		store_text(h[i],
		    strcmp(cmd, "pin") == 0
		        ? "SELECT s.name FROM snapshots s JOIN pools p ON p.id "
		          "= s.pool_id WHERE p.key = 'staging-user' AND "
		          "s.state = 'active' ORDER BY s.created_at DESC LIMIT "
		          "1"
		        : "SELECT name FROM snapshots WHERE pinned = 1",
		    name, sizeof(name));
		harness_aksnap(h[i], &r, cmd, name, NULL);
		harness_expect_exit(&r, 0);
		run_result_free(&r);
		/* pin and unpin are dated by the clock: both at ${t} */
		for (size_t k = 0; k < sizeof(times) / sizeof(times[0]); k++) {
			snprintf(sql, sizeof(sql), times[k], (long long)t,
			    (long long)t, (long long)t);
			(void)store_int(h[i], sql);
		}
	}
}

static void
test_retain_memo_records_what_deciding_again_does(void **state)
{
	struct fx *f = *state;
	int hits = 0, runs = 0;
	char q[256];
	json_t *a, *b;

	for (time_t t = f->t0; t < f->t0 + 10 * DAY; t += 4 * HOUR) {
		long long d = (t - f->t0) / DAY;
		int release = (t - f->t0) % DAY == 4 * HOUR &&
		    (d == 0 || d == 2 || d == 5 || d == 6 || d == 8);

		if (runs == 0)
			goto run; /* no store yet */
		/* the memos that hold for this run (they will be used) */
		snprintf(q, sizeof(q),
		    "SELECT count(*) FROM pool_retain_memo "
		    "WHERE as_of <= %lld AND until > %lld",
		    (long long)t, (long long)t);
		hits += (int)store_int(&f->memo, q);
		assert_int_equal(store_int(&f->again,
		                     "DELETE FROM pool_retain_memo "
		                     "RETURNING 0"),
		    0);
		if ((t - f->t0) % DAY == 8 * HOUR &&
		    (d == 3 || d == 5 || d == 7))
			between_runs(f,
			    d == 3       ? "pin"
			        : d == 5 ? "unpin"
			                 : NULL,
			    t);
	run:
		run_at(&f->memo, t, release);
		run_at(&f->again, t, release);
		runs++;
	}
	/* the memo was used, often, and not always: the list changed */
	assert_true(hits > runs);
	assert_true(hits < 3 * runs);
	assert_true(store_int(&f->memo,
	                "SELECT count(*) FROM snapshots WHERE state = "
	                "'deleted'") > 0);
	assert_true(
	    store_int(&f->memo, "SELECT count(*) FROM snapshot_channels") > 2);
	assert_int_equal(store_int(&f->memo,
	                     "SELECT count(*) FROM decision_rows WHERE "
	                     "action IN ('pin', 'unpin')"),
	    2);
	assert_int_equal(store_int(&f->memo,
	                     "SELECT count(DISTINCT fingerprint_id) FROM "
	                     "decision_rows WHERE action = 'keep'"),
	    2);
	expect_same(f,
	    "SELECT id, run_id, pool_id, snapshot_id, at, slot, "
	    "action, reasons, reasons_id, fingerprint_id, "
	    "last_run_id, last_at, last_slot FROM decision_rows "
	    "ORDER BY id");
	/* the open ranges' ends as read: with the memo's extension (0026) */
	expect_same(f,
	    "SELECT o.pool_id, o.snapshot_id, o.decision_id, o.action, "
	    "o.reasons_id, o.fingerprint_id, o.slot, CASE WHEN o.action = "
	    "'keep' AND o.snapshot_id > 0 AND m.ext_run_id > "
	    "coalesce(o.last_run_id, 0) THEN m.ext_run_id ELSE o.last_run_id "
	    "END, CASE WHEN o.action = 'keep' AND o.snapshot_id > 0 AND "
	    "m.ext_run_id > coalesce(o.last_run_id, 0) THEN max(o.last_at, "
	    "m.ext_at) ELSE o.last_at END, o.last_slot FROM decision_open o "
	    "LEFT JOIN pool_retain_memo m ON m.pool_id = o.pool_id "
	    "ORDER BY o.pool_id, o.snapshot_id");
	expect_same(f,
	    "SELECT id, pool_id, name, created_at, state, pinned "
	    "FROM snapshots ORDER BY id");
	expect_same(f, "SELECT * FROM snapshot_channels ORDER BY id");
	expect_same(f,
	    "SELECT id, as_of, mode, exit_code, observed, taken, "
	    "skipped, deleted, promoted, failed FROM runs "
	    "ORDER BY id");
	expect_same(f, "SELECT * FROM decisions ORDER BY id");
	/* Azure saw the same requests, deletions and promotions among them */
	a = emu_get(f->memo.emu, "/_armemu/counters");
	b = emu_get(f->again.emu, "/_armemu/counters");
	assert_non_null(a);
	assert_non_null(b);
	if (!json_equal(a, b)) {
		char *x = json_dumps(a, JSON_SORT_KEYS);
		char *y = json_dumps(b, JSON_SORT_KEYS);

		fail_msg("requests with memos %s, deciding again %s", x, y);
	}
	json_decref(a);
	json_decref(b);
	assert_true(emu_counter(f->memo.emu, "DELETE snapshots.delete") > 0);
	assert_true(emu_counter(f->memo.emu, "PATCH snapshots.patch") > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_retain_memo_records_what_deciding_again_does, setup,
	        teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
