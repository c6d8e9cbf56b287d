/*
 * test_prune.c -- the interpreter of the action list (job/run/prune.c)
 * over a real store, without Azure: what it loads and hands to
 * actions_pool, that a dry run prints the list and writes nothing, and
 * that a run records the same list's keeps.  Promotions and deletions
 * need ARM: tests/e2e/test_plan_run.c and test_faults.c carry those out
 * against the emulator.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db.h"
#include "db/db_ladder.h"
#include "job/base/limits.h"
#include "job/base/log.h"
#include "job/base/util.h"
#include "job/rules/promotion.h"
#include "job/run/prune.h"

#define DAY 86400
#define T0 1767225600 /* 2026-01-01T00:00:00Z */

struct fx {
	char dir[64];
	char path[128];
	struct db *db;
	struct config cfg;
	struct pool_conf pc;
	struct policy pol; /* pc's */
	int64_t pool_id, snap[4];
	struct prune_ctx ctx;
	struct prune_pool pp;
};

static void
quiet(void *ctx, const char *line)
{
	(void)ctx;
	(void)line;
}

static int64_t
add_snapshot(struct fx *f, const char *name, time_t created)
{
	struct db_versions v;
	int64_t id = 0;

	memset(&v, 0, sizeof(v));
	util_strlcpy(v.node_image_version, "AKSUbuntu-2204gen2-202601.01.0",
	    sizeof(v.node_image_version));
	util_strlcpy(
	    v.kubernetes_version, "1.33.2", sizeof(v.kubernetes_version));
	assert_int_equal(db_snapshot_intent(f->db, f->pool_id, name, name,
	                     created, created, &id),
	    0);
	assert_int_equal(db_snapshot_set_active(f->db, id, created, &v), 0);
	return id;
}

/* A pool with three snapshots (days 0, 5, 9), s0 holding `stable`. */
static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct policy *pol;

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_prune.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/aksnap.db", f->dir);
	log_set_sink(quiet, NULL);
	if (db_open(f->path, &f->db))
		return -1;
	util_strlcpy(f->cfg.timezone, "UTC", sizeof(f->cfg.timezone));
	f->cfg.max_parallel = 1;
	util_strlcpy(f->pc.key, "p", sizeof(f->pc.key));
	util_strlcpy(f->pc.subscription, "00000000-0000-0000-0000-000000000001",
	    sizeof(f->pc.subscription));
	util_strlcpy(f->pc.resource_group, "rg", sizeof(f->pc.resource_group));
	util_strlcpy(f->pc.cluster, "aks", sizeof(f->pc.cluster));
	util_strlcpy(f->pc.nodepool, "system", sizeof(f->pc.nodepool));
	pol = &f->pol;
	f->pc.policy = pol;
	pol->keep_last = 1;
	pol->max_delete_per_run = -1;
	pol->keep_promoted = 1;
	pol->channels.n = 1;
	util_strlcpy(pol->channels.rung[0].channel, "stable",
	    sizeof(pol->channels.rung[0].channel));
	pol->channels.rung[0].soak = 3 * DAY;
	if (db_pool_sync(f->db, &f->pc, &f->pool_id))
		return -1;
	f->snap[0] = add_snapshot(f, "s0", T0);
	f->snap[1] = add_snapshot(f, "s5", T0 + 5 * DAY);
	f->snap[2] = add_snapshot(f, "s9", T0 + 9 * DAY);
	if (db_ladder_enter(f->db, f->snap[0], "stable", 0, T0 + 3 * DAY))
		return -1;
	f->ctx.cfg = &f->cfg;
	f->ctx.db = f->db;
	f->ctx.as_of = T0 + 10 * DAY;
	if (db_run_start(
	        f->db, f->ctx.as_of, f->ctx.as_of, "run", &f->ctx.run_id))
		return -1;
	f->pp.pc = &f->pc;
	f->pp.pool_id = f->pool_id;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char p[256];

	prune_pool_clear(&f->pp);
	db_close(f->db);
	log_set_sink(NULL, NULL);
	snprintf(p, sizeof(p), "%s/aksnap.db", f->dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/aksnap.db-wal", f->dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/aksnap.db-shm", f->dir);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* The pool's report lines, one "action snapshot: reasons" a line. */
static const char *
lines(const struct prune_pool *pp)
{
	static char buf[2048];
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < pp->nlines; i++)
		used += (size_t)snprintf(buf + used, sizeof(buf) - used,
		    "%s %s: %s\n", pp->lines[i].action, pp->lines[i].snapshot,
		    pp->lines[i].reasons);
	return buf;
}

static int
count(void *ctx, const struct db_decision *d)
{
	(void)d;
	(*(int *)ctx)++;
	return 0;
}

static int
decisions(struct fx *f)
{
	int n = 0;

	for (size_t i = 0; i < 3; i++)
		assert_int_equal(
		    db_decision_list(f->db, f->snap[i], count, &n), 0);
	return n;
}

static void
test_prune_plan_loads_the_pool_with_its_pending_snapshot(void **state)
{
	struct fx *f = *state;
	struct action_list l = {NULL, 0, 0};

	/* the pool's slot entry: a create not carried out (a dry run) */
	f->pp.has_slot = 1;
	f->pp.slot.kind = ACTION_CREATE;
	f->pp.slot.snapshot_id = ACTION_PENDING_ID;
	util_strlcpy(f->pp.slot.snapshot, "s10", sizeof(f->pp.slot.snapshot));
	util_strlcpy(
	    f->pp.slot.reasons, "slot due", sizeof(f->pp.slot.reasons));
	assert_int_equal(prune_plan(&f->ctx, &f->pp, 1, &l), 0);
	assert_int_equal(l.n, 7);
	/* one list: the slot entry first */
	assert_int_equal(l.v[0].kind, ACTION_CREATE);
	assert_string_equal(l.v[0].snapshot, "s10");
	assert_int_equal(l.v[1].kind, ACTION_PROMOTE);
	assert_string_equal(l.v[1].snapshot, "s5");
	assert_int_equal(l.v[2].kind, ACTION_DEMOTE);
	assert_string_equal(l.v[2].snapshot, "s0");
	/* the pending one first (newest), never in the store */
	assert_int_equal(l.v[3].kind, ACTION_KEEP);
	assert_string_equal(l.v[3].snapshot, "s10");
	assert_true(l.v[3].snapshot_id == ACTION_PENDING_ID);
	assert_int_equal(l.v[4].kind, ACTION_DELETE);
	assert_string_equal(l.v[4].snapshot, "s9");
	action_list_free(&l);
}

/* `run`: the snapshot its slot entry took (its store id) is fresh in the
 * pool's list -- kept, never promoted by the same run; the next soaked one
 * is. */
static void
test_prune_plan_never_promotes_the_snapshot_the_run_took(void **state)
{
	struct fx *f = *state;
	struct action_list l = {NULL, 0, 0};

	f->ctx.as_of = T0 + 20 * DAY; /* s9 has soaked too */
	assert_int_equal(prune_plan(&f->ctx, &f->pp, 1, &l), 0);
	assert_int_equal(l.v[0].kind, ACTION_PROMOTE);
	assert_string_equal(l.v[0].snapshot, "s9");
	action_list_free(&l);

	f->pp.has_slot = 1;
	f->pp.slot.kind = ACTION_CREATE;
	f->pp.slot.snapshot_id = f->snap[2];
	util_strlcpy(f->pp.slot.snapshot, "s9", sizeof(f->pp.slot.snapshot));
	assert_int_equal(prune_plan(&f->ctx, &f->pp, 1, &l), 0);
	assert_int_equal(l.v[0].kind, ACTION_CREATE);
	assert_int_equal(l.v[1].kind, ACTION_PROMOTE);
	assert_string_equal(l.v[1].snapshot, "s5");
	for (size_t i = 2; i < l.n; i++)
		if (l.v[i].kind == ACTION_KEEP &&
		    strcmp(l.v[i].snapshot, "s9") == 0)
			break;
		else if (i + 1 == l.n)
			fail_msg("s9 not kept");
	action_list_free(&l);
}

static void
test_prune_dry_run_prints_the_list_and_writes_nothing(void **state)
{
	struct fx *f = *state;
	struct channel_hold *holds = NULL;
	struct db_snapshot s;
	size_t nh = 0;

	f->ctx.mode = INTERP_REPORT;
	assert_int_equal(prune_pools(&f->ctx, &f->pp, 1, 1), 0);
	assert_string_equal(lines(&f->pp),
	    "promote s5: newest snapshot soaked promote_after = 3d\n"
	    "demote s0: replaced by s5 in channel stable\n"
	    "keep s9: last\n"
	    "keep s5: promoted\n"
	    "delete s0: no rule keeps it\n");
	assert_int_equal(f->pp.failed, 0);
	assert_int_equal(decisions(f), 0);
	assert_int_equal(db_ladder_holds(f->db, f->pool_id, &holds, &nh), 0);
	assert_int_equal(nh, 1);
	free(holds);
	assert_int_equal(db_snapshot_get(f->db, f->snap[0], &s), 1);
	assert_string_equal(s.state, "active");
}

static void
test_prune_run_records_the_keeps_it_listed(void **state)
{
	struct fx *f = *state;
	struct db_decision d;
	char dry[2048];

	/* No ladder, keep_last 3: keeps only, nothing for ARM to do. */
	f->pol.channels.n = 0;
	f->pol.keep_last = 3;
	f->ctx.mode = INTERP_REPORT;
	assert_int_equal(prune_pools(&f->ctx, &f->pp, 1, 1), 0);
	util_strlcpy(dry, lines(&f->pp), sizeof(dry));
	prune_pool_clear(&f->pp);
	f->ctx.mode = INTERP_CARRY;
	assert_int_equal(prune_pools(&f->ctx, &f->pp, 1, 1), 0);
	assert_string_equal(lines(&f->pp), dry);
	assert_string_equal(dry,
	    "keep s9: last\n"
	    "keep s5: last\n"
	    "keep s0: promoted\n");
	assert_int_equal(decisions(f), 3);
	assert_int_equal(db_decision_last(f->db, f->snap[0], &d), 1);
	assert_string_equal(d.action, "keep");
	assert_string_equal(d.reasons, "promoted");
}

static void
test_prune_retention_refusal_fails_the_pool_in_both(void **state)
{
	struct fx *f = *state;

	f->pol.channels.n = 0;
	f->ctx.as_of = T0 + 8 * DAY; /* before s9: a clock error */
	for (int dry = 1; dry >= 0; dry--) {
		prune_pool_clear(&f->pp);
		f->pp.failed = 0;
		f->pp.error[0] = '\0';
		f->ctx.mode = dry ? INTERP_REPORT : INTERP_CARRY;
		assert_int_equal(prune_pools(&f->ctx, &f->pp, 1, 1), 0);
		assert_int_equal(f->pp.failed, 1);
		assert_non_null(strstr(f->pp.error, "clock error"));
		assert_string_equal(lines(&f->pp), "");
	}
	assert_int_equal(decisions(f), 0);
}

/* Each action of ${a} and ${b} alike: kind, snapshot, channel, reasons. */
static void
expect_same_lists(const struct action_list *a, const struct action_list *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		assert_int_equal(a->v[i].kind, b->v[i].kind);
		assert_true(a->v[i].snapshot_id == b->v[i].snapshot_id);
		assert_string_equal(a->v[i].channel, b->v[i].channel);
		assert_string_equal(a->v[i].reasons, b->v[i].reasons);
	}
}

/*
 * Sixty weeks of a canary:1d stable:7d ladder (keep_promoted 2), a
 * snapshot a week, all but the last year's and two old ones deleted,
 * one demoted by hand, an old rung (beta) no longer in the ladder:
 * prune_plan reads a handful of channel entries (db_ladder_holds_live),
 * not the pool's 120, and decides exactly what the whole history
 * decides.
 */
static void
test_prune_plan_reads_the_live_history_only(void **state)
{
	struct fx *f = *state;
	struct policy *pol = &f->pol;
	struct channel_hold *full = NULL, *live = NULL;
	struct db_snapshot *act = NULL;
	struct action_snap *snaps;
	struct action_list got = {NULL, 0, 0}, want = {NULL, 0, 0};
	struct actions_input in;
	size_t nfull = 0, nlive = 0, nact = 0;
	const time_t week = 7 * DAY;
	int64_t w[60];
	char name[16];

	pol->channels.n = 2;
	util_strlcpy(pol->channels.rung[0].channel, "canary",
	    sizeof(pol->channels.rung[0].channel));
	pol->channels.rung[0].soak = DAY;
	util_strlcpy(pol->channels.rung[1].channel, "stable",
	    sizeof(pol->channels.rung[1].channel));
	pol->channels.rung[1].soak = 7 * DAY;
	pol->keep_promoted = 2;
	pol->keep_last = 3;
	f->ctx.as_of = T0 + 59 * week + 3 * DAY;
	for (int k = 0; k < 60; k++) {
		time_t t = T0 + k * week;

		snprintf(name, sizeof(name), "w%02d", k);
		w[k] = add_snapshot(f, name, t);
		if (k == 3 || k == 4) /* a rung since removed */
			assert_int_equal(
			    db_ladder_enter(f->db, w[k], "beta", 0, t + DAY),
			    0);
		if (k == 59) /* soaked, not yet promoted: the plan does it */
			continue;
		assert_int_equal(
		    db_ladder_enter(f->db, w[k], "canary", 0, t + DAY), 0);
		assert_int_equal(
		    db_ladder_enter(f->db, w[k], "stable", 1, t + 8 * DAY), 0);
	}
	/* one demoted by hand, never to return */
	assert_int_equal(
	    db_ladder_leave(f->db, w[58], "stable", T0 + 59 * week, 1), 0);
	for (int k = 0; k < 48; k++)
		if (k != 4 && k != 20)
			assert_int_equal(
			    db_snapshot_set_state(f->db, w[k], "deleted", NULL),
			    0);

	assert_int_equal(db_ladder_holds(f->db, f->pool_id, &full, &nfull), 0);
	assert_true(nfull > 120);
	assert_int_equal(
	    db_ladder_holds_live(f->db, f->pool_id, 2, &live, &nlive), 0);
	/* the 14 active snapshots' entries and each channel's newest */
	if (nlive > 30)
		fail_msg("%zu channel entries read, of %zu", nlive, nfull);

	/* what prune_plan decides (the live part) ... */
	assert_int_equal(prune_plan(&f->ctx, &f->pp, 1, &got), 0);
	/* ... is what the whole history decides */
	assert_int_equal(
	    db_snapshot_list(f->db, f->pool_id, "active", &act, &nact), 0);
	snaps = calloc(nact + 1, sizeof(*snaps));
	assert_non_null(snaps);
	for (size_t i = 0; i < nact; i++) {
		snaps[i].id = act[i].id;
		util_strlcpy(snaps[i].name, act[i].name, sizeof(snaps[i].name));
		snaps[i].created_at = act[i].created_at;
		snaps[i].active = 1;
	}
	memset(&in, 0, sizeof(in));
	in.policy = pol;
	in.as_of = f->ctx.as_of;
	in.promote = 1;
	in.snaps = snaps;
	in.nsnaps = nact;
	in.holds = full;
	in.nholds = nfull;
	assert_int_equal(actions_pool(&in, &want), 0);
	assert_true(want.n > nact); /* promotions too */
	assert_int_equal(want.v[0].kind, ACTION_PROMOTE);
	expect_same_lists(&got, &want);
	/* and the rules' questions answer the same on either */
	{
		long long pf[LIMIT_KEEP_PROMOTED], pl[LIMIT_KEEP_PROMOTED];
		size_t npf = promotion_protected(
		    full, nfull, 2, pf, LIMIT_KEEP_PROMOTED);
		size_t npl = promotion_protected(
		    live, nlive, 2, pl, LIMIT_KEEP_PROMOTED);

		assert_int_equal(npf, npl);
		for (size_t i = 0; i < npf; i++)
			assert_true(pf[i] == pl[i]);
	}
	action_list_free(&got);
	action_list_free(&want);
	free(snaps);
	free(act);
	free(live);
	free(full);
}

/*
 * prune_pool_now carries a pool's list out only when it sends nothing:
 * the fixture's ladder list promotes and deletes (left for prune_pools:
 * nothing written, not settled), and a dry run is never carried out; a
 * list of keeps is recorded at once, the pool settled, and prune_pools
 * then skips it (no line, no decision more).
 */
static void
test_prune_now_carries_out_keeps_only(void **state)
{
	struct fx *f = *state;

	assert_int_equal(prune_pool_now(&f->ctx, &f->pp, 1), 0);
	assert_int_equal(f->pp.settled, 0);
	assert_string_equal(lines(&f->pp), "");
	assert_int_equal(decisions(f), 0);

	f->pol.channels.n = 0;
	f->pol.keep_last = 3;
	f->ctx.mode = INTERP_REPORT;
	assert_int_equal(prune_pool_now(&f->ctx, &f->pp, 1), 0);
	assert_int_equal(f->pp.settled, 0);
	f->ctx.mode = INTERP_CARRY;
	assert_int_equal(prune_pool_now(&f->ctx, &f->pp, 1), 1);
	assert_int_equal(f->pp.settled, 1);
	assert_string_equal(lines(&f->pp),
	    "keep s9: last\n"
	    "keep s5: last\n"
	    "keep s0: promoted\n");
	assert_int_equal(decisions(f), 3);

	prune_pool_clear(&f->pp);
	assert_int_equal(prune_pools(&f->ctx, &f->pp, 1, 1), 0);
	assert_string_equal(lines(&f->pp), "");
	assert_int_equal(decisions(f), 3);
	assert_int_equal(f->pp.failed, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_prune_plan_loads_the_pool_with_its_pending_snapshot, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_prune_plan_never_promotes_the_snapshot_the_run_took, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_prune_dry_run_prints_the_list_and_writes_nothing, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_prune_run_records_the_keeps_it_listed, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_prune_retention_refusal_fails_the_pool_in_both, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_prune_plan_reads_the_live_history_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_prune_now_carries_out_keeps_only, setup, teardown),
	};

	return cmocka_run_group_tests_name("prune", tests, NULL, NULL);
}
