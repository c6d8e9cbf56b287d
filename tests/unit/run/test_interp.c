/*
 * test_interp.c -- the one interpreter of the pools' action lists
 * (job/run/interp.c): the same list, interpreted to report (`plan`,
 * `run --dry-run`) and to carry out (`run`), prints the same lines, and
 * only carrying out hands actions to the sink that writes the store and
 * calls ARM.  The list is the pure rules' (actions_pool, a slot entry
 * first); the sinks are fakes that keep what they were handed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "job/rules/actions.h"
#include "job/run/interp.h"

#define DAY 86400
#define T0 1767225600 /* 2026-01-01T00:00:00Z */

/* What the fake sinks were handed. */
struct fake {
	char lines[2048]; /* "kind name: reasons" a line (the report) */
	char carried[2048]; /* "kind name" a line (the writes and calls) */
	int ncarried;
	int fail_at; /* the carry that fails (1-based), 0: none */
};

static void
fake_line(void *arg, void *pool, const struct action *a)
{
	struct fake *f = arg;
	size_t used = strlen(f->lines);

	assert_string_equal((const char *)pool, "prod-system");
	snprintf(f->lines + used, sizeof(f->lines) - used, "%s %s: %s\n",
	    action_kind_name(a->kind), a->snapshot, a->reasons);
}

static int
fake_carry(void *arg, void *pool, const struct action *a)
{
	struct fake *f = arg;
	size_t used = strlen(f->carried);

	(void)pool;
	if (++f->ncarried == f->fail_at)
		return -1;
	snprintf(f->carried + used, sizeof(f->carried) - used, "%s %s\n",
	    action_kind_name(a->kind), a->snapshot);
	return 0;
}

static const struct interp_sinks fake_sinks = {fake_line, fake_carry};

/*
 * A pool's list as `plan` and `run` build it: a create pending, then a
 * promotion with its demotion, then retention (keep_last 1 and the
 * channel's holder kept; the rest deleted).
 */
static void
pool_list(struct action_list *l)
{
	static struct policy pol;
	static struct action_snap snaps[3];
	static struct channel_hold hold;
	struct action slot;
	struct actions_input in;

	memset(&pol, 0, sizeof(pol));
	pol.keep_last = 1;
	pol.max_delete_per_run = -1;
	pol.keep_promoted = 1;
	pol.channels.n = 1;
	strcpy(pol.channels.rung[0].channel, "stable");
	pol.channels.rung[0].soak = 3 * DAY;
	memset(snaps, 0, sizeof(snaps));
	for (int i = 0; i < 3; i++) {
		snaps[i].id = 3 - i;
		snprintf(snaps[i].name, sizeof(snaps[i].name), "s%d", 3 - i);
		snaps[i].active = 1;
	}
	snaps[0].created_at = T0 + 5 * DAY;
	snaps[1].created_at = T0 + 2 * DAY;
	snaps[2].created_at = T0;
	memset(&hold, 0, sizeof(hold));
	hold.snapshot_id = 1;
	strcpy(hold.channel, "stable");
	hold.promoted_at = T0 + DAY;
	memset(&slot, 0, sizeof(slot));
	slot.kind = ACTION_CREATE;
	slot.snapshot_id = ACTION_PENDING_ID;
	strcpy(slot.snapshot, "s4");
	strcpy(slot.reasons, "slot due");
	memset(&in, 0, sizeof(in));
	in.policy = &pol;
	in.as_of = T0 + 10 * DAY;
	in.promote = 1;
	in.snaps = snaps;
	in.nsnaps = 3;
	in.holds = &hold;
	in.nholds = 1;
	in.slot = &slot;
	memset(l, 0, sizeof(*l));
	assert_int_equal(actions_pool(&in, l), 0);
}

static void
interpret(enum interp_mode mode, const struct action_list *l, struct fake *f)
{
	struct interp it = {mode, &fake_sinks, f};
	char pool[] = "prod-system";

	assert_int_equal(interp_list(&it, pool, l->v, l->n), 0);
}

static void
test_interp_report_and_carry_print_the_same_lines(void **state)
{
	struct action_list l;
	struct fake dry, real;

	(void)state;
	pool_list(&l);
	memset(&dry, 0, sizeof(dry));
	memset(&real, 0, sizeof(real));
	interpret(INTERP_REPORT, &l, &dry);
	interpret(INTERP_CARRY, &l, &real);
	assert_string_equal(dry.lines,
	    "create s4: slot due\n"
	    "promote s3: newest snapshot soaked promote_after = 3d\n"
	    "demote s1: replaced by s3 in channel stable\n"
	    "keep s4: last\n"
	    "keep s3: promoted\n"
	    "delete s2: no rule keeps it\n"
	    "delete s1: no rule keeps it\n");
	assert_string_equal(real.lines, dry.lines);
	/* only carrying out writes and calls, every action, in order */
	assert_int_equal(dry.ncarried, 0);
	assert_string_equal(dry.carried, "");
	assert_int_equal(real.ncarried, (int)l.n);
	assert_string_equal(real.carried,
	    "create s4\npromote s3\ndemote s1\nkeep s4\nkeep s3\n"
	    "delete s2\ndelete s1\n");
	action_list_free(&l);
}

/* A carry that fails (the store) stops the list there: nothing after it
 * is reported as done or carried out. */
static void
test_interp_stops_at_a_failed_carry(void **state)
{
	struct action_list l;
	struct fake f;
	struct interp it = {INTERP_CARRY, &fake_sinks, &f};
	char pool[] = "prod-system";

	(void)state;
	pool_list(&l);
	memset(&f, 0, sizeof(f));
	f.fail_at = 2;
	assert_int_equal(interp_list(&it, pool, l.v, l.n), -1);
	assert_int_equal(f.ncarried, 2);
	assert_string_equal(f.carried, "create s4\n");
	assert_string_equal(f.lines,
	    "create s4: slot due\n"
	    "promote s3: newest snapshot soaked promote_after = 3d\n");
	action_list_free(&l);
}

static void
test_interp_writes_only_when_carrying_out(void **state)
{
	(void)state;
	assert_true(interp_writes(INTERP_CARRY));
	assert_false(interp_writes(INTERP_REPORT));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_interp_report_and_carry_print_the_same_lines),
	    cmocka_unit_test(test_interp_stops_at_a_failed_carry),
	    cmocka_unit_test(test_interp_writes_only_when_carrying_out),
	};

	return cmocka_run_group_tests_name("interp", tests, NULL, NULL);
}
