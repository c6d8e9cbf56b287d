/*
 * test_db_reads.c -- what the fleet-wide read commands read once instead
 * of once a pool (db/db_reads.c): every pool's id, found by its key as
 * db_pool_get finds it; the snapshots left pending, in the order check
 * lists a pool's (unconfirmed before deleting, newest first), from an
 * index seek (never a scan of the table, which grows with the store's
 * age); and the read transaction, which reads one state of the store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "db/db.h"
#include "db/db_list.h"
#include "db/db_reads.h"
#include "tests/unit/db/fixture.h"

/* Pools 1..3 (keys out of order) and their snapshots, written raw. */
static void
store(struct fx *f)
{
	assert_int_equal(db_open(f->path, &f->db), 0);
	raw_exec(f->path,
	    "INSERT INTO pools (id, key, subscription, resource_group, "
	    "cluster, nodepool, arm_id, created_at, updated_at) VALUES "
	    "(1, 'b-pool', 's', 'rg', 'c', 'b', 'x/b', 1, 1), "
	    "(2, 'a-pool', 's', 'rg', 'c', 'a', 'x/a', 1, 1), "
	    "(3, 'C-pool10', 's', 'rg', 'c', 'c', 'x/c', 1, 1);"
	    "INSERT INTO snapshots (pool_id, name, created_at, state, "
	    "updated_at) VALUES "
	    "(2, 'a-del', 100, 'deleting', 1), "
	    "(1, 'b-unc-old', 50, 'unconfirmed', 1), "
	    "(1, 'b-del', 200, 'deleting', 1), "
	    "(1, 'b-unc-new', 150, 'unconfirmed', 1), "
	    "(1, 'b-active', 300, 'active', 1), "
	    "(3, 'c-creating', 300, 'creating', 1), "
	    "(3, 'c-deleted', 300, 'deleted', 1);");
}

static void
test_pool_ids_find_every_stored_pool(void **state)
{
	struct fx *f = *state;
	struct db_pool_ids *ids = NULL;

	store(f);
	assert_int_equal(db_pool_ids_load(f->db, &ids), 0);
	assert_int_equal(db_pool_ids_find(ids, "b-pool"), 1);
	assert_int_equal(db_pool_ids_find(ids, "a-pool"), 2);
	assert_int_equal(db_pool_ids_find(ids, "C-pool10"), 3);
	/* a key is as db_pool_get compares it: byte for byte */
	assert_int_equal(db_pool_ids_find(ids, "c-pool10"), 0);
	assert_int_equal(db_pool_ids_find(ids, "d-pool"), 0);
	assert_int_equal(db_pool_ids_find(NULL, "a-pool"), 0);
	db_pool_ids_free(ids);
	db_pool_ids_free(NULL);
}

static int
pending_line(void *ctx, const struct db_snapshot *s)
{
	char *buf = ctx;
	size_t n = strlen(buf);

	snprintf(buf + n, 512 - n, "%lld %s %s\n", (long long)s->pool_id,
	    s->name, s->state);
	return 0;
}

static void
test_pending_each_in_check_order_from_an_index(void **state)
{
	struct fx *f = *state;
	char got[512] = "", plan[2048];

	store(f);
	assert_int_equal(db_snapshot_pending_each(f->db, pending_line, got), 0);
	assert_string_equal(got,
	    "1 b-unc-new unconfirmed\n"
	    "1 b-unc-old unconfirmed\n"
	    "1 b-del deleting\n"
	    "2 a-del deleting\n");
	assert_int_equal(
	    db_snapshot_pending_plan(f->db, plan, sizeof(plan)), 0);
	if (strstr(plan, "INDEX snapshots_by_state") == NULL ||
	    strstr(plan, "SCAN s") != NULL)
		fail_msg("pending: %s", plan);
}

/* Inside db_read_begin, a write by another connection is not seen; after
 * db_read_end it is. */
static void
test_read_transaction_reads_one_state(void **state)
{
	struct fx *f = *state;
	struct db_pool_ids *ids = NULL;

	store(f);
	assert_int_equal(db_read_begin(f->db), 0);
	assert_int_equal(db_pool_ids_load(f->db, &ids), 0);
	db_pool_ids_free(ids);
	raw_exec(f->path,
	    "INSERT INTO pools (id, key, subscription, resource_group, "
	    "cluster, nodepool, arm_id, created_at, updated_at) VALUES "
	    "(4, 'd-pool', 's', 'rg', 'c', 'd', 'x/d', 1, 1)");
	assert_int_equal(db_pool_ids_load(f->db, &ids), 0);
	assert_int_equal(db_pool_ids_find(ids, "d-pool"), 0);
	db_pool_ids_free(ids);
	db_read_end(f->db);
	assert_int_equal(db_pool_ids_load(f->db, &ids), 0);
	assert_int_equal(db_pool_ids_find(ids, "d-pool"), 4);
	db_pool_ids_free(ids);
	db_read_end(f->db); /* none open: a no-op */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_pool_ids_find_every_stored_pool, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pending_each_in_check_order_from_an_index, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_read_transaction_reads_one_state, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
