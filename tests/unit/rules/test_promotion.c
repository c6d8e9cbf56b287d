/*
 * test_promotion.c -- channel ladders (job/rules/promotion.c): which
 * snapshot enters which channel, demotion by hand and its fallback,
 * keep_promoted per channel, the aksnap-channel tag.  Pure: a pool is
 * simulated in memory (its active snapshots and channel history), the
 * way the store would keep it, run after run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "job/base/limits.h"
#include "job/rules/promotion.h"

#define DAY 86400
#define T0 1767225600 /* 2026-01-01T00:00:00Z */
#define MAXS 128
#define MAXH 512

/* One pool as the store would hold it. */
struct sim {
	struct ladder l;
	struct promotion_snap snaps[MAXS];
	time_t released[MAXS]; /* when the snapshot's image came out */
	size_t n;
	long long next_id;
	struct channel_hold holds[MAXH];
	size_t nh;
	time_t entered[MAXS][LADDER_MAX]; /* first entry of snaps[i] */
};

static void
ladder(
    struct ladder *l, const char *a, long long sa, const char *b, long long sb)
{
	memset(l, 0, sizeof(*l));
	snprintf(l->rung[0].channel, sizeof(l->rung[0].channel), "%s", a);
	l->rung[0].soak = sa;
	l->n = 1;
	if (b != NULL) {
		snprintf(
		    l->rung[1].channel, sizeof(l->rung[1].channel), "%s", b);
		l->rung[1].soak = sb;
		l->n = 2;
	}
}

static long long
take(struct sim *s, time_t at)
{
	assert_true(s->n < MAXS);
	s->snaps[s->n].id = ++s->next_id;
	s->snaps[s->n].created_at = at;
	s->released[s->n] = at;
	s->n++;
	return s->next_id;
}

static size_t
index_of(const struct sim *s, long long id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->snaps[i].id == id)
			return i;
	fail_msg("no snapshot %lld", id);
	return 0;
}

/* The store's db_ladder_enter. */
static void
enter(struct sim *s, long long id, const char *channel, time_t at)
{
	int rung = promotion_rung(&s->l, channel);

	for (size_t i = 0; i < s->nh; i++)
		if (s->holds[i].left_at == 0 &&
		    strcmp(s->holds[i].channel, channel) == 0) {
			if (s->holds[i].snapshot_id == id)
				return;
			s->holds[i].left_at = at;
		}
	assert_true(s->nh < MAXH);
	memset(&s->holds[s->nh], 0, sizeof(s->holds[0]));
	s->holds[s->nh].snapshot_id = id;
	snprintf(s->holds[s->nh].channel, sizeof(s->holds[0].channel), "%s",
	    channel);
	s->holds[s->nh].rung = rung;
	s->holds[s->nh].promoted_at = at;
	s->nh++;
	if (rung < LADDER_MAX && s->entered[index_of(s, id)][rung] == 0)
		s->entered[index_of(s, id)][rung] = at;
}

/* What `demote` does: out by hand, the channel falls back. */
static long long
demote(struct sim *s, long long id, const char *channel, time_t at)
{
	long long fb;

	for (size_t i = 0; i < s->nh; i++)
		if (s->holds[i].snapshot_id == id && s->holds[i].left_at == 0 &&
		    strcmp(s->holds[i].channel, channel) == 0) {
			s->holds[i].left_at = at;
			s->holds[i].demoted = 1;
		}
	fb = promotion_fallback(s->holds, s->nh, s->snaps, s->n, channel, id);
	if (fb != 0)
		enter(s, fb, channel, at);
	return fb;
}

static long long
holder_of(const struct sim *s, const char *channel)
{
	for (size_t i = 0; i < s->nh; i++)
		if (s->holds[i].left_at == 0 &&
		    strcmp(s->holds[i].channel, channel) == 0)
			return s->holds[i].snapshot_id;
	return 0;
}

/* One run: plan, then carry it out as prune.c does.  Steps made. */
static size_t
run(struct sim *s, time_t as_of)
{
	struct promotion_step st[LADDER_MAX];
	size_t n = 0;

	promotion_plan(&s->l, s->snaps, s->n, s->holds, s->nh, as_of, st, &n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(st[i].replaces,
		    holder_of(s, s->l.rung[st[i].rung].channel));
		enter(
		    s, st[i].snapshot_id, s->l.rung[st[i].rung].channel, as_of);
	}
	return n;
}

static void
test_promotion_one_rung_is_promote_after(void **state)
{
	struct sim s;
	struct promotion_step st[LADDER_MAX];
	long long a, b;
	size_t n;

	(void)state;
	memset(&s, 0, sizeof(s));
	ladder(&s.l, "stable", 7 * DAY, NULL, 0);
	a = take(&s, T0);
	b = take(&s, T0 + 2 * DAY);
	promotion_plan(
	    &s.l, s.snaps, s.n, s.holds, s.nh, T0 + 7 * DAY - 1, st, &n);
	assert_int_equal(n, 0);
	promotion_plan(&s.l, s.snaps, s.n, s.holds, s.nh, T0 + 7 * DAY, st, &n);
	assert_int_equal(n, 1);
	assert_int_equal(st[0].snapshot_id, a);
	assert_int_equal(st[0].replaces, 0);
	assert_string_equal(
	    st[0].reason, "newest snapshot soaked promote_after = 1w");
	enter(&s, a, "stable", T0 + 7 * DAY);
	assert_int_equal(run(&s, T0 + 9 * DAY), 1);
	assert_int_equal(holder_of(&s, "stable"), b);
	/* never: by hand only */
	s.l.rung[0].soak = PROMOTE_NEVER;
	take(&s, T0 + 10 * DAY);
	assert_int_equal(run(&s, T0 + 400 * DAY), 0);
}

static void
test_promotion_ladder_soaks_from_entering_previous_rung(void **state)
{
	struct sim s;
	long long a;

	(void)state;
	memset(&s, 0, sizeof(s));
	ladder(&s.l, "canary", DAY, "stable", 7 * DAY);
	a = take(&s, T0);
	assert_int_equal(run(&s, T0 + DAY - 1), 0);
	assert_int_equal(run(&s, T0 + DAY), 1);
	assert_int_equal(holder_of(&s, "canary"), a);
	assert_int_equal(holder_of(&s, "stable"), 0);
	/* 7d after entering canary, not 7d after being taken */
	assert_int_equal(run(&s, T0 + 8 * DAY - 1), 0);
	assert_int_equal(run(&s, T0 + 8 * DAY), 1);
	assert_int_equal(holder_of(&s, "stable"), a);
	assert_int_equal(holder_of(&s, "canary"), a);
}

static void
test_promotion_newer_canary_does_not_starve_stable(void **state)
{
	struct sim s;
	long long a, b;

	(void)state;
	memset(&s, 0, sizeof(s));
	ladder(&s.l, "canary", DAY, "stable", 7 * DAY);
	a = take(&s, T0);
	assert_int_equal(run(&s, T0 + DAY), 1);
	/* b replaces a in canary after 3 days: a still reaches stable */
	b = take(&s, T0 + 3 * DAY);
	assert_int_equal(run(&s, T0 + 4 * DAY), 1);
	assert_int_equal(holder_of(&s, "canary"), b);
	assert_int_equal(run(&s, T0 + 8 * DAY), 1);
	assert_int_equal(holder_of(&s, "stable"), a);
	assert_int_equal(run(&s, T0 + 11 * DAY), 1);
	assert_int_equal(holder_of(&s, "stable"), b);
}

static void
test_promotion_zero_soak_climbs_in_one_run(void **state)
{
	struct sim s;
	long long a;

	(void)state;
	memset(&s, 0, sizeof(s));
	ladder(&s.l, "canary", 0, "stable", 0);
	a = take(&s, T0);
	assert_int_equal(run(&s, T0), 2);
	assert_int_equal(holder_of(&s, "canary"), a);
	assert_int_equal(holder_of(&s, "stable"), a);
}

static void
test_promotion_never_replaces_a_newer_holder(void **state)
{
	struct sim s;
	long long a, b;

	(void)state;
	memset(&s, 0, sizeof(s));
	ladder(&s.l, "canary", DAY, "stable", 7 * DAY);
	a = take(&s, T0);
	b = take(&s, T0 + DAY);
	enter(&s, b, "canary", T0 + DAY); /* by hand, before its soak */
	assert_int_equal(run(&s, T0 + DAY + 3600), 0);
	assert_int_equal(holder_of(&s, "canary"), b);
	(void)a;
}

static void
test_promotion_demoted_one_falls_back_and_never_returns(void **state)
{
	struct sim s;
	long long a, b, c;

	(void)state;
	memset(&s, 0, sizeof(s));
	ladder(&s.l, "canary", DAY, "stable", 7 * DAY);
	a = take(&s, T0);
	assert_int_equal(run(&s, T0 + DAY), 1);
	b = take(&s, T0 + 2 * DAY);
	assert_int_equal(run(&s, T0 + 3 * DAY), 1);
	assert_int_equal(holder_of(&s, "canary"), b);
	/* b is bad: canary falls back to a */
	assert_int_equal(demote(&s, b, "canary", T0 + 4 * DAY), a);
	assert_int_equal(holder_of(&s, "canary"), a);
	assert_true(promotion_demoted(s.holds, s.nh, b));
	/* b never comes back, to either channel, in any later run */
	for (time_t t = T0 + 4 * DAY; t < T0 + 30 * DAY; t += 3600) {
		run(&s, t);
		assert_int_not_equal(holder_of(&s, "canary"), b);
		assert_int_not_equal(holder_of(&s, "stable"), b);
	}
	assert_int_equal(holder_of(&s, "stable"), a);
	/* demoting the fallback too, with nothing left: the channel empties */
	assert_int_equal(demote(&s, a, "canary", T0 + 31 * DAY), 0);
	assert_int_equal(holder_of(&s, "canary"), 0);
	/* until the next snapshot soaks */
	c = take(&s, T0 + 32 * DAY);
	assert_int_equal(run(&s, T0 + 33 * DAY), 1);
	assert_int_equal(holder_of(&s, "canary"), c);
}

static void
test_promotion_fallback_skips_gone_and_demoted_holders(void **state)
{
	struct sim s;
	long long a, b, c;

	(void)state;
	memset(&s, 0, sizeof(s));
	ladder(&s.l, "stable", DAY, NULL, 0);
	a = take(&s, T0);
	b = take(&s, T0 + 1);
	c = take(&s, T0 + 2);
	enter(&s, a, "stable", T0 + 10);
	enter(&s, b, "stable", T0 + 20);
	enter(&s, c, "stable", T0 + 30);
	/* b was deleted since: not active any more */
	s.snaps[index_of(&s, b)] = s.snaps[--s.n];
	assert_int_equal(demote(&s, c, "stable", T0 + 40), a);
	assert_int_equal(holder_of(&s, "stable"), a);
}

static void
test_promotion_keep_promoted_counts_per_channel(void **state)
{
	struct sim s;
	long long ids[16], k[6];
	size_t n;

	(void)state;
	memset(&s, 0, sizeof(s));
	ladder(&s.l, "canary", DAY, "stable", 7 * DAY);
	for (int i = 0; i < 6; i++)
		k[i] = take(&s, T0 + i * 7 * DAY);
	for (time_t t = T0; t <= T0 + 37 * DAY; t += DAY)
		run(&s, t);
	/* canary: k5 (since day 36), k4; stable: k4 (day 36), k3 */
	assert_int_equal(holder_of(&s, "canary"), k[5]);
	assert_int_equal(holder_of(&s, "stable"), k[4]);
	n = promotion_protected(s.holds, s.nh, 2, ids, 16);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++)
		assert_true(ids[i] == k[5] || ids[i] == k[4] || ids[i] == k[3]);
	n = promotion_protected(s.holds, s.nh, 1, ids, 16);
	assert_int_equal(n, 2);
	n = promotion_protected(s.holds, s.nh, 3, ids, 16);
	assert_int_equal(n, 4); /* k5 k4 k3 in canary, k4 k3 k2 in stable */
	/* a hand demotion is not a generation */
	demote(&s, k[5], "canary", T0 + 38 * DAY);
	n = promotion_protected(s.holds, s.nh, 1, ids, 16);
	assert_int_equal(n, 1); /* k4 holds both */
	assert_int_equal(ids[0], k[4]);
}

/*
 * keep_promoted's accepted maximum (config: 0-LIMIT_KEEP_PROMOTED) is
 * what is protected, and no more even if asked: the two cannot disagree.
 */
static void
test_promotion_keep_promoted_maximum_is_the_history_cap(void **state)
{
	enum { GENS = LIMIT_KEEP_PROMOTED + 6 };
	static struct channel_hold holds[GENS];
	long long ids[GENS];
	size_t n;

	(void)state;
	for (int i = 0; i < GENS; i++) {
		holds[i].snapshot_id = i + 1;
		snprintf(holds[i].channel, sizeof(holds[i].channel), "stable");
		holds[i].promoted_at = T0 + i * DAY;
		holds[i].left_at = i + 1 < GENS ? T0 + (i + 1) * DAY : 0;
	}
	n = promotion_protected(holds, GENS, LIMIT_KEEP_PROMOTED, ids, GENS);
	assert_int_equal(n, LIMIT_KEEP_PROMOTED);
	for (size_t i = 0; i < n; i++) /* the newest generations */
		assert_true(ids[i] > GENS - LIMIT_KEEP_PROMOTED);
	n = promotion_protected(holds, GENS, 100000, ids, GENS);
	assert_int_equal(n, LIMIT_KEEP_PROMOTED);
	n = promotion_protected(
	    holds, GENS, LIMIT_KEEP_PROMOTED - 1, ids, GENS);
	assert_int_equal(n, LIMIT_KEEP_PROMOTED - 1);
}

static void
test_promotion_tag_lists_channels_in_ladder_order(void **state)
{
	struct sim s;
	char tag[128];
	long long a, b;

	(void)state;
	memset(&s, 0, sizeof(s));
	ladder(&s.l, "canary", DAY, "stable", 7 * DAY);
	a = take(&s, T0);
	b = take(&s, T0 + 1);
	promotion_tag(&s.l, s.holds, s.nh, a, "canary", NULL, tag, sizeof(tag));
	assert_string_equal(tag, "canary");
	enter(&s, a, "stable", T0 + 5);
	promotion_tag(&s.l, s.holds, s.nh, a, "canary", NULL, tag, sizeof(tag));
	assert_string_equal(tag, "canary,stable");
	enter(&s, a, "canary", T0 + 6);
	enter(&s, a, "hotfix", T0 + 7); /* by hand, outside the ladder */
	promotion_tag(&s.l, s.holds, s.nh, a, NULL, NULL, tag, sizeof(tag));
	assert_string_equal(tag, "canary,stable,hotfix");
	promotion_tag(&s.l, s.holds, s.nh, a, NULL, "canary", tag, sizeof(tag));
	assert_string_equal(tag, "stable,hotfix");
	promotion_tag(&s.l, s.holds, s.nh, b, NULL, "canary", tag, sizeof(tag));
	assert_string_equal(tag, "");
}

/*
 * A year: a new node image every week, a snapshot of it taken when it
 * reaches the pool, a run every hour, canary:1d stable:7d, keep_promoted
 * 2, and one image found bad and demoted by hand in week 20.  Stable
 * always gets each good snapshot within 8 days of its image's release,
 * the demoted one never holds a channel again, and both channels always
 * have their keep_promoted generations protected.
 */
static void
test_promotion_simulated_year_weekly_images(void **state)
{
	struct sim s;
	long long bad = 0, ids[16];
	int weeks = 52;
	size_t n;

	(void)state;
	memset(&s, 0, sizeof(s));
	ladder(&s.l, "canary", DAY, "stable", 7 * DAY);
	for (time_t t = T0; t < T0 + (time_t)weeks * 7 * DAY + 9 * DAY;
	     t += 3600) {
		if ((t - T0) % (7 * DAY) == 0 && t < T0 + weeks * 7 * DAY)
			take(&s, t);
		if (t == T0 + 20 * 7 * DAY + 2 * DAY) {
			bad = holder_of(&s, "canary");
			assert_int_equal(bad, s.snaps[20].id);
			assert_int_equal(
			    demote(&s, bad, "canary", t), s.snaps[19].id);
		}
		run(&s, t);
		assert_true(bad == 0 ||
		    (holder_of(&s, "canary") != bad &&
		        holder_of(&s, "stable") != bad));
		if (s.nh > 0) {
			n = promotion_protected(s.holds, s.nh, 2, ids, 16);
			assert_true(n >= 1 && n <= 4);
		}
	}
	for (size_t i = 0; i < s.n; i++) {
		if (s.snaps[i].id == bad) {
			assert_int_equal(s.entered[i][1], 0);
			continue;
		}
		assert_int_equal(s.entered[i][0], s.released[i] + DAY);
		assert_int_not_equal(s.entered[i][1], 0);
		assert_true(s.entered[i][1] - s.released[i] <= 8 * DAY);
	}
	assert_int_equal(holder_of(&s, "stable"), s.snaps[weeks - 1].id);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_promotion_one_rung_is_promote_after),
	    cmocka_unit_test(
	        test_promotion_ladder_soaks_from_entering_previous_rung),
	    cmocka_unit_test(
	        test_promotion_newer_canary_does_not_starve_stable),
	    cmocka_unit_test(test_promotion_zero_soak_climbs_in_one_run),
	    cmocka_unit_test(test_promotion_never_replaces_a_newer_holder),
	    cmocka_unit_test(
	        test_promotion_demoted_one_falls_back_and_never_returns),
	    cmocka_unit_test(
	        test_promotion_fallback_skips_gone_and_demoted_holders),
	    cmocka_unit_test(test_promotion_keep_promoted_counts_per_channel),
	    cmocka_unit_test(
	        test_promotion_keep_promoted_maximum_is_the_history_cap),
	    cmocka_unit_test(test_promotion_tag_lists_channels_in_ladder_order),
	    cmocka_unit_test(test_promotion_simulated_year_weekly_images),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
