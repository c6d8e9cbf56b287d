/*
 * test_actions.c -- one pool's action list (job/rules/actions.c): the
 * promotions of its ladder with the demotions they cause, then a keep or
 * a delete for every active snapshot, with reasons, retention counting
 * the channel history as the promotions leave it.  Pure: the pool is
 * plain data, as prune.c loads it from the store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "job/rules/actions.h"

#define DAY 86400
#define T0 1767225600 /* 2026-01-01T00:00:00Z */

struct pool {
	struct policy pol;
	struct action_snap snaps[16];
	size_t n;
	struct channel_hold holds[16];
	size_t nh;
	time_t as_of;
	int promote;
	const struct action *slot; /* the list's first, or NULL */
	struct action_list out;
};

/* keep_last 1, nothing else; one rung `stable` soaking 3 days. */
static void
pool_init(struct pool *p)
{
	memset(p, 0, sizeof(*p));
	p->pol.keep_last = 1;
	p->pol.max_delete_per_run = -1;
	p->pol.keep_promoted = 1;
	p->pol.channels.n = 1;
	strcpy(p->pol.channels.rung[0].channel, "stable");
	p->pol.channels.rung[0].soak = 3 * DAY;
	p->as_of = T0 + 10 * DAY;
	p->promote = 1;
}

static struct action_snap *
snap(struct pool *p, long long id, time_t created_at)
{
	struct action_snap *s = &p->snaps[p->n++];

	s->id = id;
	snprintf(s->name, sizeof(s->name), "s%lld", id);
	s->created_at = created_at;
	s->active = 1;
	return s;
}

static void
holds(struct pool *p, long long id, const char *channel, time_t at)
{
	struct channel_hold *h = &p->holds[p->nh++];

	h->snapshot_id = id;
	snprintf(h->channel, sizeof(h->channel), "%s", channel);
	h->promoted_at = at;
}

/* The list, one "kind name [channel] reasons" a line. */
static const char *
decide(struct pool *p)
{
	static char buf[4096];
	struct actions_input in = {
	    .policy = &p->pol,
	    .tz = NULL, /* UTC */
	    .as_of = p->as_of,
	    .promote = p->promote,
	    .snaps = p->snaps,
	    .nsnaps = p->n,
	    .holds = p->holds,
	    .nholds = p->nh,
	    .slot = p->slot,
	};
	size_t used = 0;

	action_list_free(&p->out);
	assert_int_equal(actions_pool(&in, &p->out), 0);
	buf[0] = '\0';
	for (size_t i = 0; i < p->out.n; i++) {
		const struct action *a = &p->out.v[i];

		used += (size_t)snprintf(buf + used, sizeof(buf) - used,
		    "%s %s%s%s: %s\n", action_kind_name(a->kind), a->snapshot,
		    a->channel[0] ? " " : "", a->channel, a->reasons);
	}
	action_list_free(&p->out);
	return buf;
}

/* A small deterministic generator (the tests repeat exactly). */
static unsigned long long rng = 88172645463325252ULL;

static long long
rnd(long long n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n > 0 ? (long long)(rng % (unsigned long long)n) : 0;
}

/* A random pool: policy, ladder, snapshots, channel history, as_of. */
static void
random_pool(struct pool *p)
{
	static const char *const chans[] = {"canary", "stable", "prod"};
	int open[3] = {0, 0, 0};

	memset(p, 0, sizeof(*p));
	p->pol.keep_last = (int)rnd(4);
	p->pol.keep_hourly = (int)rnd(3);
	p->pol.keep_daily = (int)rnd(8);
	p->pol.keep_weekly = (int)rnd(5);
	p->pol.keep_monthly = (int)rnd(4);
	p->pol.keep_within = rnd(3) * DAY + rnd(2) * 3600;
	p->pol.min_keep = (int)rnd(4);
	p->pol.max_delete_per_run = rnd(3) == 0 ? -1 : (int)rnd(4);
	p->pol.keep_promoted = 1 + (int)rnd(3);
	p->pol.promote_after = rnd(2) ? -1 : rnd(8) * DAY;
	p->pol.channels.n = 1 + (int)rnd(3);
	for (int r = 0; r < p->pol.channels.n; r++) {
		strcpy(p->pol.channels.rung[r].channel, chans[r]);
		p->pol.channels.rung[r].soak =
		    rnd(5) == 0 ? PROMOTE_NEVER : rnd(8) * DAY + rnd(24) * 3600;
	}
	p->as_of = T0 + 60 * DAY + rnd(DAY);
	p->promote = 1;
	p->n = 1 + (size_t)rnd(12);
	for (size_t i = 0; i < p->n; i++) {
		/* mostly the last 60 days; now and then just after as_of */
		time_t c = rnd(40) == 0 ? p->as_of + rnd(1200)
		                        : p->as_of - rnd(60 * DAY);
		struct action_snap *s = snap(p, (long long)i + 1, c);

		s->pinned = rnd(8) == 0;
		s->active = rnd(10) != 0;
	}
	for (int k = (int)rnd(12); k > 0 && p->nh < 16; k--) {
		size_t i = (size_t)rnd((long long)p->n);
		int r = (int)rnd(p->pol.channels.n);
		struct channel_hold *h = &p->holds[p->nh];

		if (p->snaps[i].created_at > p->as_of)
			continue;
		holds(p, p->snaps[i].id, chans[r],
		    p->snaps[i].created_at +
		        rnd(p->as_of - p->snaps[i].created_at + 1));
		h->rung = r;
		if (open[r] || rnd(3) == 0) {
			h->left_at = h->promoted_at +
			    rnd(p->as_of - h->promoted_at + 1) + 1;
			if (h->left_at > p->as_of)
				h->left_at = p->as_of;
			h->demoted = rnd(4) == 0;
		} else {
			open[r] = 1;
		}
	}
}

/* Whether ${list} holds an action whose reasons may name the time. */
static int
names_time(const char *list)
{
	return strstr(list, "fail ") != NULL ||
	    strstr(list, "promote ") != NULL || strstr(list, "demote ") != NULL;
}

static void
test_actions_horizon_holds_the_list(void **state)
{
	int held = 0, long_ones = 0, changed_at = 0, checked = 0;

	(void)state;
	for (int n = 0; n < 3000; n++) {
		struct pool p;
		char first[4096];
		time_t as_of, h, t[8];
		int nt = 0;
		struct actions_input in;

		random_pool(&p);
		as_of = p.as_of;
		memset(&in, 0, sizeof(in));
		in.policy = &p.pol;
		in.as_of = as_of;
		in.promote = 1;
		in.snaps = p.snaps;
		in.nsnaps = p.n;
		in.holds = p.holds;
		in.nholds = p.nh;
		h = actions_horizon(&in);
		assert_true(h > as_of);
		snprintf(first, sizeof(first), "%s", decide(&p));
		if (names_time(first))
			continue;
		checked++;
		if (h == TIME_HORIZON_NONE) {
			t[nt++] = as_of + 1;
			t[nt++] = as_of + 400 * DAY;
		} else {
			t[nt++] = h - 1;
			for (int k = 0; k < 5 && h - as_of > 1; k++)
				t[nt++] = as_of + 1 + rnd(h - as_of - 1);
			if (h - as_of >= 3600)
				long_ones++;
		}
		for (int k = 0; k < nt; k++) {
			p.as_of = t[k];
			if (strcmp(decide(&p), first) != 0)
				fail_msg("pool %d: as of %lld (horizon %lld, "
				         "from %lld) the list is\n%s\nnot\n%s",
				    n, (long long)t[k], (long long)h,
				    (long long)as_of, decide(&p), first);
		}
		held++;
		if (h != TIME_HORIZON_NONE) {
			p.as_of = h;
			changed_at += strcmp(decide(&p), first) != 0;
		}
	}
	/* not vacuous: most lists were checked, many horizons are an hour
	 * or more away (the random histories are denser than a real
	 * pool's), and the list does change right at some horizons (a
	 * later bound would have been caught there) */
	assert_true(checked > 1000);
	assert_int_equal(held, checked);
	assert_true(long_ones > checked / 10);
	assert_true(changed_at > 20);
}

static void
test_actions_paused_pool_has_none(void **state)
{
	struct pool p;

	(void)state;
	pool_init(&p);
	p.pol.paused = 1;
	snap(&p, 1, T0);
	snap(&p, 2, T0 + DAY);
	assert_string_equal(decide(&p), "");
}

static void
test_actions_promotion_comes_first_with_its_demotion(void **state)
{
	struct pool p;

	(void)state;
	pool_init(&p);
	p.pol.keep_promoted = 2;
	snap(&p, 3, T0 + 9 * DAY); /* too young */
	snap(&p, 2, T0 + 5 * DAY);
	snap(&p, 1, T0);
	holds(&p, 1, "stable", T0 + 3 * DAY);
	assert_string_equal(decide(&p),
	    "promote s2 stable: newest snapshot soaked promote_after = 3d\n"
	    "demote s1 stable: replaced by s2 in channel stable\n"
	    "keep s3: last\n"
	    "keep s2: promoted\n"
	    "keep s1: promoted\n");
}

static void
test_actions_retention_counts_the_promotions_it_follows(void **state)
{
	struct pool p;

	(void)state;
	pool_init(&p); /* keep_promoted = 1: only the new holder */
	snap(&p, 3, T0 + 9 * DAY);
	snap(&p, 2, T0 + 5 * DAY);
	snap(&p, 1, T0);
	holds(&p, 1, "stable", T0 + 3 * DAY);
	assert_string_equal(decide(&p),
	    "promote s2 stable: newest snapshot soaked promote_after = 3d\n"
	    "demote s1 stable: replaced by s2 in channel stable\n"
	    "keep s3: last\n"
	    "keep s2: promoted\n"
	    "delete s1: no rule keeps it\n");
	/* `prune` promotes nothing: the holder stays protected. */
	p.promote = 0;
	assert_string_equal(decide(&p),
	    "keep s3: last\n"
	    "delete s2: no rule keeps it\n"
	    "keep s1: promoted\n");
}

static void
test_actions_fresh_snapshot_is_kept_never_promoted(void **state)
{
	struct pool p;
	struct action_snap *s;

	(void)state;
	pool_init(&p);
	p.pol.channels.rung[0].soak = 0; /* anything may enter at once */
	s = snap(&p, ACTION_PENDING_ID, p.as_of);
	snprintf(s->name, sizeof(s->name), "pending");
	s->fresh = 1;
	snap(&p, 1, T0);
	assert_string_equal(decide(&p),
	    "promote s1 stable: newest snapshot soaked promote_after = 0s\n"
	    "keep pending: last\n"
	    "keep s1: promoted\n");
}

/*
 * A pool's list is one: its slot entry first, then what follows from it.
 * A create not carried out (`plan`) brings its snapshot in as pending --
 * the newest, kept, never promoted -- and one carried out (`run`) makes
 * the snapshot it took fresh, so both list the same promotions and
 * retention.
 */
static void
test_actions_list_starts_with_the_slot_entry(void **state)
{
	struct pool p;
	struct action slot;

	(void)state;
	pool_init(&p);
	p.pol.channels.rung[0].soak = 0; /* anything may enter at once */
	memset(&slot, 0, sizeof(slot));
	slot.kind = ACTION_CREATE;
	slot.snapshot_id = ACTION_PENDING_ID;
	strcpy(slot.snapshot, "s5");
	strcpy(slot.reasons, "slot due");
	p.slot = &slot;
	snap(&p, 1, T0);
	/* `plan`: s5 is not taken yet */
	assert_string_equal(decide(&p),
	    "create s5: slot due\n"
	    "promote s1 stable: newest snapshot soaked promote_after = 0s\n"
	    "keep s5: last\n"
	    "keep s1: promoted\n");
	/* `run`: s5 taken (id 5), a minute after as_of by Azure's clock */
	p.n = 0;
	snap(&p, 5, p.as_of + 60);
	snap(&p, 1, T0);
	slot.snapshot_id = 5;
	assert_string_equal(decide(&p),
	    "create s5: slot due\n"
	    "promote s1 stable: newest snapshot soaked promote_after = 0s\n"
	    "keep s5: last\n"
	    "keep s1: promoted\n");
	/* a paused pool's list is its slot entry alone */
	slot.kind = ACTION_PAUSED;
	slot.snapshot_id = 0;
	slot.snapshot[0] = '\0';
	strcpy(slot.reasons, "paused");
	p.pol.paused = 1;
	assert_string_equal(decide(&p), "paused : paused\n");
}

static void
test_actions_clock_behind_newest_fails_once(void **state)
{
	struct pool p;

	(void)state;
	pool_init(&p);
	p.promote = 0;
	snap(&p, 2, p.as_of + 3600); /* an hour ahead: a clock error */
	snap(&p, 1, T0);
	assert_true(strncmp(decide(&p), "fail :", 6) == 0);
	/* Azure's creation a minute after as_of is this run's own. */
	p.snaps[0].created_at = p.as_of + 60;
	assert_string_equal(decide(&p),
	    "keep s2: last\n"
	    "delete s1: no rule keeps it\n");
}

static void
test_actions_demoted_holder_no_longer_active_is_named(void **state)
{
	struct pool p;
	struct action_snap *gone;

	(void)state;
	pool_init(&p);
	p.pol.keep_last = 2;
	snap(&p, 2, T0 + 5 * DAY);
	gone = snap(&p, 1, T0);
	gone->active = 0; /* deleted out of band, still the holder */
	holds(&p, 1, "stable", T0 + 3 * DAY);
	assert_string_equal(decide(&p),
	    "promote s2 stable: newest snapshot soaked promote_after = 3d\n"
	    "demote s1 stable: replaced by s2 in channel stable\n"
	    "keep s2: promoted\n");
}

static void
test_actions_ladder_promotes_rung_by_rung(void **state)
{
	struct pool p;

	(void)state;
	pool_init(&p);
	p.pol.keep_last = 3;
	p.pol.channels.n = 2;
	strcpy(p.pol.channels.rung[0].channel, "canary");
	p.pol.channels.rung[0].soak = DAY;
	strcpy(p.pol.channels.rung[1].channel, "stable");
	p.pol.channels.rung[1].soak = 2 * DAY;
	snap(&p, 2, T0 + 8 * DAY);
	snap(&p, 1, T0);
	holds(&p, 1, "canary", T0 + DAY);
	assert_string_equal(decide(&p),
	    "promote s2 canary: newest snapshot soaked canary:1d\n"
	    "demote s1 canary: replaced by s2 in channel canary\n"
	    "promote s1 stable: newest snapshot in canary since "
	    "2026-01-02T00:00:00Z soaked stable:2d\n"
	    "keep s2: promoted\n"
	    "keep s1: promoted\n");
}

/* actions_demote's list for ${id} out of ${channel}, as decide() prints. */
static const char *
demote(struct pool *p, long long id, const char *channel, int want)
{
	static char buf[4096];
	struct actions_input in = {
	    .policy = &p->pol,
	    .as_of = p->as_of,
	    .snaps = p->snaps,
	    .nsnaps = p->n,
	    .holds = p->holds,
	    .nholds = p->nh,
	    .slot = p->slot,
	};
	size_t used = 0;

	action_list_free(&p->out);
	assert_int_equal(actions_demote(&in, id, channel, &p->out), want);
	buf[0] = '\0';
	for (size_t i = 0; i < p->out.n; i++) {
		const struct action *a = &p->out.v[i];

		used += (size_t)snprintf(buf + used, sizeof(buf) - used,
		    "%s %s %s: %s\n", action_kind_name(a->kind), a->snapshot,
		    a->channel, a->reasons);
	}
	action_list_free(&p->out);
	return buf;
}

static void
test_actions_demote_falls_back_to_the_previous_holder(void **state)
{
	struct pool p;

	(void)state;
	pool_init(&p);
	snap(&p, 3, T0 + 8 * DAY);
	snap(&p, 2, T0 + 4 * DAY);
	snap(&p, 1, T0);
	holds(&p, 1, "stable", T0 + 3 * DAY);
	p.holds[0].left_at = T0 + 7 * DAY;
	holds(&p, 2, "stable", T0 + 7 * DAY);
	assert_string_equal(demote(&p, 2, "stable", 1),
	    "demote s2 stable: demoted by hand from channel stable\n"
	    "promote s1 stable: channel stable falls back to it (s2 demoted "
	    "by hand)\n");
	/* s1 once demoted by hand never takes a channel back */
	p.holds[0].demoted = 1;
	assert_string_equal(demote(&p, 2, "stable", 1),
	    "demote s2 stable: demoted by hand from channel stable\n");
	/* s3 holds nothing; s2 holds no canary */
	assert_string_equal(demote(&p, 3, NULL, 0), "");
	assert_string_equal(demote(&p, 2, "canary", 0), "");
}

static void
test_actions_demote_every_channel_it_holds(void **state)
{
	struct pool p;

	(void)state;
	pool_init(&p);
	snap(&p, 2, T0 + 4 * DAY);
	snap(&p, 1, T0);
	holds(&p, 1, "canary", T0 + DAY);
	p.holds[0].left_at = T0 + 5 * DAY;
	holds(&p, 2, "canary", T0 + 5 * DAY);
	holds(&p, 2, "stable", T0 + 6 * DAY);
	assert_string_equal(demote(&p, 2, NULL, 2),
	    "demote s2 canary: demoted by hand from channel canary\n"
	    "promote s1 canary: channel canary falls back to it (s2 demoted "
	    "by hand)\n"
	    "demote s2 stable: demoted by hand from channel stable\n");
}

static void
test_actions_kind_names(void **state)
{
	(void)state;
	assert_string_equal(action_kind_name(ACTION_PROMOTE), "promote");
	assert_string_equal(action_kind_name(ACTION_DEMOTE), "demote");
	assert_string_equal(action_kind_name(ACTION_KEEP), "keep");
	assert_string_equal(action_kind_name(ACTION_DELETE), "delete");
	assert_string_equal(action_kind_name(ACTION_FAIL), "fail");
	assert_string_equal(action_kind_name(ACTION_CREATE), "create");
	assert_string_equal(action_kind_name(ACTION_SKIP), "skip");
	assert_string_equal(action_kind_name(ACTION_NONE), "none");
	assert_string_equal(action_kind_name(ACTION_PAUSED), "paused");
	action_list_free(NULL);
}

/*
 * The slot's entry: one action, the first of the pool's list -- the
 * create naming the snapshot (pending, not yet stored) or the skip, the
 * none, the paused or the fail saying why not -- each with the slot and
 * the reasons plan_decide gives.
 */
static void
test_actions_slot_is_one_entry_create_or_why_not(void **state)
{
	struct pool_conf pc;
	struct policy pol;
	struct plan_input in;
	struct action_list l;
	struct plan_result want;

	(void)state;
	memset(&pc, 0, sizeof(pc));
	memset(&pol, 0, sizeof(pol));
	pc.policy = &pol;
	strcpy(pc.key, "prod-system");
	strcpy(pc.cluster, "aks-prod");
	strcpy(pc.nodepool, "system");
	pol.snapshot_when = WHEN_CHANGED;
	memset(&in, 0, sizeof(in));
	in.pool = &pc;
	in.slot = T0 + 2 * 3600;
	in.observed = 1;
	strcpy(in.live.node_image_version, "img-2");
	strcpy(in.live.kubernetes_version, "1.33.2");
	in.have_newest = 1;
	strcpy(in.newest.node_image_version, "img-1");
	strcpy(in.newest.kubernetes_version, "1.33.2");
	in.newest_name = "s1";

	/* changed: the create, named as plan_decide names it */
	memset(&l, 0, sizeof(l));
	assert_int_equal(actions_slot(&in, "aksnap", &l), 0);
	plan_decide(&in, "aksnap", &want);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].kind, ACTION_CREATE);
	assert_true(l.v[0].snapshot_id == ACTION_PENDING_ID);
	assert_string_equal(l.v[0].snapshot, want.name);
	assert_string_equal(
	    l.v[0].snapshot, "aksnap-aks-prod-system-20260101T0200Z");
	assert_string_equal(l.v[0].reasons, want.reason);
	assert_int_equal(l.v[0].slot, in.slot);

	/* unchanged: a skip, appended after what the list held */
	in.newest = in.live;
	assert_int_equal(actions_slot(&in, "aksnap", &l), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[1].kind, ACTION_SKIP);
	assert_true(l.v[1].snapshot_id == 0);
	assert_int_equal(l.v[1].slot, in.slot);
	assert_non_null(strstr(l.v[1].reasons, "s1"));

	/* taken already: none */
	in.slot_taken = 1;
	assert_int_equal(actions_slot(&in, "aksnap", &l), 0);
	assert_int_equal(l.v[2].kind, ACTION_NONE);

	/* paused: observed only */
	pol.paused = 1;
	assert_int_equal(actions_slot(&in, "aksnap", &l), 0);
	assert_int_equal(l.v[3].kind, ACTION_PAUSED);

	/* not observed: the pool fails, saying why */
	in.observed = 0;
	in.observe_error = "GET cluster: 403";
	assert_int_equal(actions_slot(&in, "aksnap", &l), 0);
	assert_int_equal(l.n, 5);
	assert_int_equal(l.v[4].kind, ACTION_FAIL);
	assert_string_equal(l.v[4].reasons, "not observed: GET cluster: 403");
	action_list_free(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_actions_paused_pool_has_none),
	    cmocka_unit_test(
	        test_actions_promotion_comes_first_with_its_demotion),
	    cmocka_unit_test(
	        test_actions_retention_counts_the_promotions_it_follows),
	    cmocka_unit_test(
	        test_actions_fresh_snapshot_is_kept_never_promoted),
	    cmocka_unit_test(test_actions_list_starts_with_the_slot_entry),
	    cmocka_unit_test(test_actions_clock_behind_newest_fails_once),
	    cmocka_unit_test(
	        test_actions_demoted_holder_no_longer_active_is_named),
	    cmocka_unit_test(test_actions_ladder_promotes_rung_by_rung),
	    cmocka_unit_test(
	        test_actions_demote_falls_back_to_the_previous_holder),
	    cmocka_unit_test(test_actions_demote_every_channel_it_holds),
	    cmocka_unit_test(test_actions_kind_names),
	    cmocka_unit_test(test_actions_horizon_holds_the_list),
	    cmocka_unit_test(test_actions_slot_is_one_entry_create_or_why_not),
	};

	return cmocka_run_group_tests_name("actions", tests, NULL, NULL);
}
