/*
 * test_db_stmt.c -- the row helpers of db/ (db_internal.h, db_stmt.c):
 * db_get_one, db_each_row, db_get_all and db_exec, the values DB_ARGS
 * binds, and the one error path that names what was asked.
 *
 * The questions are asked of a real store in a temporary directory; the
 * rows come from a recursive CTE counting down from a bound number, so
 * that the order and the number of rows are the test's own.
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

#include "config/config.h"
#include "db/db.h"
#include "db/db_internal.h"
#include "tests/unit/db/fixture.h"

/* ?1, ?1 - 1, ... 1: ?1 rows, counting down. */
#define COUNT_DOWN                                                             \
	"WITH RECURSIVE c(x) AS (SELECT ?1 WHERE ?1 > 0 UNION ALL "            \
	"SELECT x - 1 FROM c WHERE x > 1) SELECT x FROM c"

/* The rows a reader saw, and after how many it stops (0: never). */
struct seen {
	int64_t v[16];
	int n, stop_after, fail_at;
};

static int
row_seen(void *ctx, sqlite3_stmt *s)
{
	struct seen *r = ctx;

	if (r->fail_at != 0 && r->n + 1 == r->fail_at)
		return -1;
	r->v[r->n++] = sqlite3_column_int64(s, 0);
	return r->stop_after != 0 && r->n >= r->stop_after;
}

/* An int64 element of db_get_all that fails at the value 2. */
static int
row_fails_at_two(void *ctx, sqlite3_stmt *s)
{
	int64_t v = sqlite3_column_int64(s, 0);

	if (v == 2)
		return -1;
	*(int64_t *)ctx = v;
	return 0;
}

/* How many lines were logged. */
static int
lines(const struct fx *f)
{
	int n = 0;

	for (const char *p = f->log; *p != '\0'; p++)
		n += *p == '\n';
	return n;
}

static void
open_store(struct fx *f)
{
	assert_int_equal(db_open(f->path, &f->db), 0);
	clear_log(f);
}

/*
 * One row: 1 with the reader's copy; none: 0, the reader not called and
 * nothing logged; SQLite refusing the question (when it is prepared,
 * bound or stepped): -1, logged once with what was asked.
 */
static void
test_db_get_one_answers_a_row_none_or_an_error(void **state)
{
	struct fx *f = *state;
	char buf[32] = "untouched";
	struct db_text t = {buf, sizeof(buf)};
	int64_t v = 0;

	open_store(f);
	assert_int_equal(db_get_one(f->db, COUNT_DOWN, "count down",
	                     DB_ARGS(DB_INT(3)), db_row_int64, &v),
	    1);
	assert_int_equal(v, 3);

	/* no row: 0, the reader not called */
	assert_int_equal(
	    db_get_one(f->db, "SELECT 'x' WHERE ?1 = 1", "ask for nothing",
	        DB_ARGS(DB_INT(2)), db_row_text, &t),
	    0);
	assert_string_equal(buf, "untouched");
	assert_string_equal(f->log, "");

	/* prepared: no such table */
	assert_int_equal(
	    db_get_one(f->db, "SELECT nope FROM nowhere",
	        "ask the nowhere table", DB_NO_ARGS, db_row_text, &t),
	    -1);
	assert_logged(f, "aksnap.db: ask the nowhere table: no such table");
	assert_int_equal(lines(f), 1);
	/* bound: one value more than the statement takes */
	clear_log(f);
	assert_int_equal(db_get_one(f->db, "SELECT ?1", "bind two",
	                     DB_ARGS(DB_INT(1), DB_INT(2)), db_row_int64, &v),
	    -1);
	assert_logged(f, "aksnap.db: bind two: column index out of range");
	/* stepped: the value overflows */
	clear_log(f);
	assert_int_equal(db_get_one(f->db, "SELECT abs(?1)", "overflow",
	                     DB_ARGS(DB_INT(INT64_MIN)), db_row_int64, &v),
	    -1);
	assert_logged(f, "aksnap.db: overflow: integer overflow");
	/* the reader failing (it logs for itself) */
	clear_log(f);
	assert_int_equal(db_get_one(f->db, COUNT_DOWN, "count down",
	                     DB_ARGS(DB_INT(2)), row_fails_at_two, &v),
	    -1);
	assert_string_equal(f->log, "");
	/* NULL reads as "" */
	assert_int_equal(db_get_one(f->db, "SELECT NULL", "null", DB_NO_ARGS,
	                     db_row_text, &t),
	    1);
	assert_string_equal(buf, "");
}

/*
 * Every row in the statement's order; a reader that stops ends the loop
 * (1); a reader that fails ends it (-1); no row at all is 0.  The
 * statement is given back each time: the same question again reads from
 * the first row.
 */
static void
test_db_each_row_reads_rows_in_order_and_stops(void **state)
{
	struct fx *f = *state;
	struct seen r = {{0}, 0, 0, 0};

	open_store(f);
	assert_int_equal(db_each_row(f->db, COUNT_DOWN, "count down",
	                     DB_ARGS(DB_INT(5)), row_seen, &r),
	    0);
	assert_int_equal(r.n, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(r.v[i], 5 - i);

	memset(&r, 0, sizeof(r));
	r.stop_after = 2;
	assert_int_equal(db_each_row(f->db, COUNT_DOWN, "count down",
	                     DB_ARGS(DB_INT(5)), row_seen, &r),
	    1);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.v[1], 4);

	memset(&r, 0, sizeof(r));
	r.fail_at = 3;
	assert_int_equal(db_each_row(f->db, COUNT_DOWN, "count down",
	                     DB_ARGS(DB_INT(5)), row_seen, &r),
	    -1);
	assert_int_equal(r.n, 2);

	memset(&r, 0, sizeof(r));
	assert_int_equal(db_each_row(f->db, COUNT_DOWN, "count down",
	                     DB_ARGS(DB_INT(0)), row_seen, &r),
	    0);
	assert_int_equal(r.n, 0);

	/* an error on the third row: -1, named */
	memset(&r, 0, sizeof(r));
	assert_int_equal(
	    db_each_row(f->db,
	        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
	        "FROM c WHERE x < 5) SELECT CASE WHEN x < 3 THEN x ELSE "
	        "abs(?1) END FROM c",
	        "count up to trouble", DB_ARGS(DB_INT(INT64_MIN)), row_seen,
	        &r),
	    -1);
	assert_int_equal(r.n, 2);
	assert_logged(f, "count up to trouble: integer overflow");
	assert_int_equal(lines(f), 1);
}

/*
 * Every row into one array, in order; none: NULL and 0; an error or a
 * failing reader part way: -1 and the array freed (ASan and valgrind
 * would see it leak otherwise), the rows so far not handed out.
 */
static void
test_db_get_all_collects_rows_or_nothing(void **state)
{
	struct fx *f = *state;
	struct db_rows rows = DB_ROWS(sizeof(int64_t));
	int64_t *v;

	open_store(f);
	assert_int_equal(db_get_all(f->db, COUNT_DOWN, "count down",
	                     DB_ARGS(DB_INT(40)), db_row_int64, &rows),
	    0);
	assert_int_equal(rows.n, 40);
	v = rows.v;
	for (int i = 0; i < 40; i++)
		assert_int_equal(v[i], 40 - i);
	free(rows.v);

	rows = DB_ROWS(sizeof(int64_t));
	assert_int_equal(db_get_all(f->db, COUNT_DOWN, "count down",
	                     DB_ARGS(DB_INT(0)), db_row_int64, &rows),
	    0);
	assert_null(rows.v);
	assert_int_equal(rows.n, 0);

	rows = DB_ROWS(sizeof(int64_t));
	assert_int_equal(db_get_all(f->db, COUNT_DOWN, "count down",
	                     DB_ARGS(DB_INT(20)), row_fails_at_two, &rows),
	    -1);
	assert_null(rows.v);
	assert_int_equal(rows.n, 0);

	rows = DB_ROWS(sizeof(int64_t));
	clear_log(f);
	assert_int_equal(
	    db_get_all(f->db, "SELECT nope FROM nowhere",
	        "list the nowhere table", DB_NO_ARGS, db_row_int64, &rows),
	    -1);
	assert_null(rows.v);
	assert_logged(f, "list the nowhere table: no such table");
}

/*
 * What each DB_* binds: DB_TEXT keeps "" and binds NULL as NULL; DB_OPT
 * binds "" as NULL; DB_OPT_INT binds 0 as NULL; DB_SKIP leaves its
 * parameter unbound (NULL) and binds the next in its place; DB_BLOB
 * binds bytes; each chosen by a conditional.
 */
static void
test_db_args_bind_each_kind(void **state)
{
	struct fx *f = *state;
	char buf[64];
	struct db_text t = {buf, sizeof(buf)};
	const char *none = NULL;
	int on = 1;

	open_store(f);
	assert_int_equal(
	    db_get_one(f->db,
	        "SELECT quote(?1) || quote(?2) || quote(?3) || "
	        "quote(?4) || quote(?5) || quote(?6) || "
	        "quote(?7) || quote(?8) || quote(?9)",
	        "quote",
	        DB_ARGS(DB_TEXT(""), DB_TEXT(none), DB_OPT(""), DB_OPT("x"),
	            DB_OPT_INT(0), DB_OPT_INT(7), DB_SKIP, DB_BLOB("ab", 2),
	            on ? DB_INT(-3) : DB_SKIP),
	        db_row_text, &t),
	    1);
	assert_string_equal(buf, "''NULLNULL'x'NULL7NULLX'6162'-3");
}

/*
 * A write: 0 when done, the row there; another process holding the
 * store's write lock: -1 after the busy timeout, logged with what was
 * asked as an operator can act on it (db_failed_busy for the exit code).
 */
static void
test_db_exec_on_a_locked_store_names_what_was_asked(void **state)
{
	struct fx *f = *state;
	struct pool_conf pc;
	sqlite3 *other;
	int64_t id = 0, n = 0;

	open_store(f);
	memset(&pc, 0, sizeof(pc));
	snprintf(pc.key, sizeof(pc.key), "staging-system");
	snprintf(pc.subscription, sizeof(pc.subscription), "sub");
	snprintf(pc.resource_group, sizeof(pc.resource_group), "rg");
	snprintf(pc.cluster, sizeof(pc.cluster), "aks-staging");
	snprintf(pc.nodepool, sizeof(pc.nodepool), "system");
	assert_int_equal(db_pool_sync(f->db, &pc, &id), 0);
	assert_int_equal(
	    db_exec(f->db, "UPDATE pools SET location = ?2 WHERE id = ?1",
	        "set a location", DB_ARGS(DB_INT(id), DB_TEXT("westeurope"))),
	    0);
	assert_int_equal(
	    db_get_one(f->db, "SELECT count(*) FROM pools WHERE location = ?1",
	        "count", DB_ARGS(DB_TEXT("westeurope")), db_row_int64, &n),
	    1);
	assert_int_equal(n, 1);

	other = raw_lock(f->path);
	db_set_busy_timeout(f->db, 50);
	clear_log(f);
	assert_int_equal(
	    db_exec(f->db, "UPDATE pools SET location = ?2 WHERE id = ?1",
	        "set a location", DB_ARGS(DB_INT(id), DB_TEXT("northeurope"))),
	    -1);
	assert_logged(f,
	    "aksnap.db: set a location: database is locked by "
	    "another process (waited 50 ms)");
	assert_true(db_failed_busy());
	raw_unlock(other);
}

/*
 * The cache finds a text's statement by the text, whatever the memo of
 * hashes by address says: a buffer that held one question and then holds
 * another gets the other's statement (and the first's again when it holds
 * it again), never the statement the buffer's address last led to, and
 * each text is kept under its own hash (the same text from another
 * address finds it).
 */
static void
test_db_stmt_a_buffer_used_again_asks_its_new_text(void **state)
{
	struct fx *f = *state;
	sqlite3_stmt *one, *two, *s;
	char buf[64];
	size_t n;

	open_store(f);
	n = db_stmt_count(f->db);
	snprintf(buf, sizeof(buf), "SELECT 1");
	one = db_stmt(f->db, buf, "one");
	assert_int_equal(sqlite3_step(one), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(one, 0), 1);
	db_stmt_done(f->db, one);
	snprintf(buf, sizeof(buf), "SELECT 2");
	two = db_stmt(f->db, buf, "two");
	assert_ptr_not_equal(two, one);
	assert_int_equal(sqlite3_step(two), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(two, 0), 2);
	db_stmt_done(f->db, two);
	snprintf(buf, sizeof(buf), "SELECT 1");
	s = db_stmt(f->db, buf, "one");
	assert_ptr_equal(s, one);
	db_stmt_done(f->db, s);
	snprintf(buf, sizeof(buf), "SELECT 2");
	s = db_stmt(f->db, buf, "two");
	assert_ptr_equal(s, two);
	db_stmt_done(f->db, s);
	/* the same texts from elsewhere: the same statements */
	s = db_stmt(f->db, "SELECT 2", "two");
	assert_ptr_equal(s, two);
	db_stmt_done(f->db, s);
	s = db_stmt(f->db, "SELECT 1", "one");
	assert_ptr_equal(s, one);
	db_stmt_done(f->db, s);
	assert_int_equal(db_stmt_count(f->db), n + 2);
}

/*
 * Many statements lent at once (more than the cache remembers lent) and
 * given back in any order: each is found again, reset and lent again as
 * the cached one, none finalized while cached (a double finalize or a
 * use after free would show under ASan and valgrind).
 */
static void
test_db_stmt_many_lent_at_once_come_back(void **state)
{
	struct fx *f = *state;
	enum { N = 40 };
	char sql[N][32];
	sqlite3_stmt *s[N], *again;
	size_t n;

	open_store(f);
	n = db_stmt_count(f->db);
	for (int i = 0; i < N; i++) {
		snprintf(sql[i], sizeof(sql[i]), "SELECT %d", i);
		s[i] = db_stmt(f->db, sql[i], "lend");
		assert_non_null(s[i]);
		assert_int_equal(sqlite3_step(s[i]), SQLITE_ROW);
	}
	/* odd ones first, then the even ones newest first */
	for (int i = 1; i < N; i += 2)
		db_stmt_done(f->db, s[i]);
	for (int i = N - 2; i >= 0; i -= 2)
		db_stmt_done(f->db, s[i]);
	assert_int_equal(db_stmt_count(f->db), n + N);
	for (int i = 0; i < N; i++) {
		again = db_stmt(f->db, sql[i], "lend");
		assert_ptr_equal(again, s[i]);
		assert_int_equal(sqlite3_step(again), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(again, 0), i);
		db_stmt_done(f->db, again);
	}
	assert_int_equal(db_stmt_count(f->db), n + N);
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_db_get_one_answers_a_row_none_or_an_error),
	    T(test_db_each_row_reads_rows_in_order_and_stops),
	    T(test_db_get_all_collects_rows_or_nothing),
	    T(test_db_args_bind_each_kind),
	    T(test_db_exec_on_a_locked_store_names_what_was_asked),
	    T(test_db_stmt_a_buffer_used_again_asks_its_new_text),
	    T(test_db_stmt_many_lent_at_once_come_back),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
