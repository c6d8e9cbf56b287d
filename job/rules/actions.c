/*
 * actions.c -- what a run does to one pool's snapshots, as a list.
 *
 * A run decides in two stages (DESIGN.md section 2): first whether a
 * snapshot is due -- the list's first entry, create or why not
 * (actions_slot over plan_decide), which `plan` prints and `run` carries
 * out in its batch (job/run/run.c) -- then, once that snapshot exists,
 * what promotion and retention do.  The second stage, whole:
 * it walks the ladder (promotion_plan), applies each promotion to a copy
 * of the channel history, and hands retention the history as it will be
 * once those promotions are made, so that keep_promoted protects what the
 * run's promotions leave in place.  The pool's list is one: its slot
 * entry first, then what follows from it (actions_pool).  `plan` hands it
 * the entry with its create pending -- the snapshot it would take goes
 * into retention as the newest, never promoted; `run` hands it the entry
 * carried out, naming the snapshot as the store holds it after the PUT;
 * both then print the same list, and the one interpreter (job/run/interp.c)
 * carries out what `run`'s says, in order.  `demote` by hand is a list too
 * (actions_demote): each channel left, and the earlier holder it falls back to.
 *
 * Pure: no clock, no store, no network.  Linear in the snapshots and the
 * history, times the ladder's rungs; O(n log n) for retention.
 */
#include "job/rules/actions.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job/base/limits.h"
#include "job/base/util.h"
#include "job/rules/promotion.h"
#include "job/rules/retention.h"

/* Seconds after as_of a snapshot of this run may be created (by Azure's
 * clock) and still count as this run's: retention plans as of then. */
#define CLOCK_SLACK 900
#define MAX_HOLDERS (LIMIT_KEEP_PROMOTED * (LADDER_MAX + 8))

const char *
action_kind_name(enum action_kind k)
{
	switch (k) {
	case ACTION_PROMOTE:
		return "promote";
	case ACTION_DEMOTE:
		return "demote";
	case ACTION_KEEP:
		return "keep";
	case ACTION_DELETE:
		return "delete";
	case ACTION_FAIL:
		return "fail";
	case ACTION_CREATE:
		return "create";
	case ACTION_SKIP:
		return "skip";
	case ACTION_NONE:
		return "none";
	case ACTION_PAUSED:
		return "paused";
	}
	return "fail";
}

void
action_list_free(struct action_list *l)
{
	if (l == NULL)
		return;
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

/*
 * Room for ${more} actions more.  A run holds a list for each pool of a
 * slice at once (a thousand, most of them one or two actions long), so
 * lists are sized to what they will hold, not doubled.  0 or -1.
 */
static int
reserve(struct action_list *l, size_t more)
{
	struct action *nv;

	if (l->n + more <= l->cap)
		return 0;
	nv = realloc(l->v, (l->n + more) * sizeof(*nv));
	if (nv == NULL)
		return -1;
	l->v = nv;
	l->cap = l->n + more;
	return 0;
}

/* Append one action.  0 or -1 (out of memory). */
static int
add(struct action_list *l, enum action_kind kind, const struct action_snap *s,
    const char *channel, const char *reasons)
{
	struct action *a;

	if (l->n == l->cap && reserve(l, l->cap > 0 ? l->cap : 4))
		return -1;
	a = &l->v[l->n++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	if (s != NULL) {
		a->snapshot_id = s->id;
		util_strlcpy(a->snapshot, s->name, sizeof(a->snapshot));
	}
	if (channel != NULL)
		util_strlcpy(a->channel, channel, sizeof(a->channel));
	util_strlcpy(a->reasons, reasons, sizeof(a->reasons));
	return 0;
}

/* Is ${s} the snapshot this run takes (the slot entry's create)? */
static int
fresh(const struct actions_input *in, const struct action_snap *s)
{
	return s->fresh ||
	    (in->slot != NULL && in->slot->kind == ACTION_CREATE &&
	        in->slot->snapshot_id > 0 && in->slot->snapshot_id == s->id);
}

/*
 * The snapshot the slot entry's create would take, not taken yet (`plan`,
 * `run --dry-run`), into ${s}: 1, or 0 when there is none.
 */
static int
pending(const struct actions_input *in, struct action_snap *s)
{
	if (in->slot == NULL || in->slot->kind != ACTION_CREATE ||
	    in->slot->snapshot_id != ACTION_PENDING_ID)
		return 0;
	memset(s, 0, sizeof(*s));
	s->id = ACTION_PENDING_ID;
	util_strlcpy(s->name, in->slot->snapshot, sizeof(s->name));
	s->created_at = in->as_of;
	s->active = s->fresh = 1;
	return 1;
}

static const struct action_snap *
find_snap(const struct actions_input *in, long long id)
{
	for (size_t i = 0; i < in->nsnaps; i++)
		if (in->snaps[i].id == id)
			return &in->snaps[i];
	return NULL;
}

/*
 * The ladder's promotions, appended to ${out} and applied to ${holds}
 * (room for ${*nh} + the ladder's rungs).  0 or -1.
 */
static int
promote(const struct actions_input *in, struct channel_hold *holds, size_t *nh,
    struct action_list *out)
{
	const struct ladder *l = &in->policy->channels;
	struct promotion_step steps[LADDER_MAX];
	struct promotion_snap *cand;
	size_t nc = 0, nsteps = 0;
	char msg[256];

	cand = calloc(in->nsnaps + 1, sizeof(*cand));
	if (cand == NULL)
		return -1;
	for (size_t i = 0; i < in->nsnaps; i++) {
		if (!in->snaps[i].active || fresh(in, &in->snaps[i]))
			continue;
		cand[nc].id = in->snaps[i].id;
		cand[nc].created_at = in->snaps[i].created_at;
		nc++;
	}
	promotion_plan(l, cand, nc, holds, *nh, in->as_of, steps, &nsteps);
	free(cand);
	for (size_t k = 0; k < nsteps; k++) {
		const char *ch = l->rung[steps[k].rung].channel;
		const struct action_snap *s =
		    find_snap(in, steps[k].snapshot_id);
		const struct action_snap *old = NULL;
		struct channel_hold *h;

		for (size_t i = 0; i < *nh; i++)
			if (holds[i].left_at == 0 &&
			    strcmp(holds[i].channel, ch) == 0)
				old = find_snap(in, holds[i].snapshot_id);
		if (s == NULL || (old != NULL && old->id == s->id))
			continue;
		if (add(out, ACTION_PROMOTE, s, ch, steps[k].reason))
			return -1;
		if (old != NULL) {
			snprintf(msg, sizeof(msg),
			    "replaced by %s in channel %s", s->name, ch);
			if (add(out, ACTION_DEMOTE, old, ch, msg))
				return -1;
		}
		/* The history as the store will hold it (db_ladder_enter). */
		for (size_t i = 0; i < *nh; i++)
			if (holds[i].left_at == 0 &&
			    strcmp(holds[i].channel, ch) == 0)
				holds[i].left_at = in->as_of;
		h = &holds[(*nh)++];
		memset(h, 0, sizeof(*h));
		h->snapshot_id = s->id;
		util_strlcpy(h->channel, ch, sizeof(h->channel));
		h->rung = steps[k].rung;
		h->promoted_at = in->as_of;
	}
	return 0;
}

/* Retention over the active snapshots, appended to ${out}.  0 or -1. */
static int
retain(const struct actions_input *in, const struct channel_hold *holds,
    size_t nh, struct action_list *out)
{
	const struct action_snap **who = NULL;
	struct retention_item *items = NULL;
	struct retention_decision *dec = NULL;
	struct action_snap pend;
	long long holders[MAX_HOLDERS];
	time_t as_of = in->as_of;
	size_t n = 0, np, first;
	char err[256], reasons[RETENTION_REASONS_MAX];
	int rc = -1;

	who = calloc(in->nsnaps + 2, sizeof(*who));
	items = calloc(in->nsnaps + 2, sizeof(*items));
	dec = calloc(in->nsnaps + 2, sizeof(*dec));
	if (who == NULL || items == NULL || dec == NULL)
		goto done;
	/* The pending snapshot goes first, as the newest. */
	first = pending(in, &pend) ? 0 : 1;
	for (size_t i = first; i <= in->nsnaps; i++) {
		const struct action_snap *s =
		    i == 0 ? &pend : &in->snaps[i - 1];

		if (!s->active)
			continue;
		who[n] = s;
		/* the pending one is the newest: it sorts after every id */
		items[n].id = s->id == ACTION_PENDING_ID ? LLONG_MAX : s->id;
		items[n].created_at = s->created_at;
		items[n].pinned = s->pinned;
		/*
		 * as_of is when the run started; a snapshot this run just
		 * took carries Azure's creation time, a moment later.  That
		 * is not the clock error the guard is for (a clock hours or
		 * days behind), so plan as of that moment.
		 */
		if (s->created_at > as_of &&
		    s->created_at <= in->as_of + CLOCK_SLACK)
			as_of = s->created_at;
		n++;
	}
	rc = 0;
	if (n == 0)
		goto done;
	np = promotion_protected(
	    holds, nh, in->policy->keep_promoted, holders, MAX_HOLDERS);
	(void)retention_mark_promoted(holders, np, (int)np, items, n);
	if (retention_plan(
	        items, n, in->policy, in->tz, as_of, dec, err, sizeof(err))) {
		rc = add(out, ACTION_FAIL, NULL, NULL, err);
		goto done;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (dec[i].keep) {
			retention_reasons_format(
			    dec[i].reasons, reasons, sizeof(reasons));
			rc = add(out, ACTION_KEEP, who[i], NULL, reasons);
		} else {
			rc = add(out, ACTION_DELETE, who[i], NULL,
			    "no rule keeps it");
		}
	}
done:
	free(dec);
	free(items);
	free(who);
	return rc;
}

int
actions_pool(const struct actions_input *in, struct action_list *out)
{
	struct channel_hold *holds;
	size_t nh = in->nholds;
	int rc = -1;

	/* the slot's entry, a promote and a demote a rung, then one action a
	 * snapshot (and the pending one) */
	if (reserve(out,
	        (in->promote ? 2 * (size_t)in->policy->channels.n : 0) +
	            in->nsnaps + 3))
		return -1;
	if (in->slot != NULL)
		out->v[out->n++] = *in->slot;
	if (in->policy->paused)
		return 0; /* enabled = no: observed only */
	holds = calloc(in->nholds + LADDER_MAX + 1, sizeof(*holds));
	if (holds == NULL)
		return -1;
	if (in->nholds > 0)
		memcpy(holds, in->holds, in->nholds * sizeof(*holds));
	if (in->promote && in->policy->channels.n > 0 &&
	    promote(in, holds, &nh, out))
		goto done;
	rc = retain(in, holds, nh, out);
done:
	free(holds);
	return rc;
}

/* Lower ${*h} to ${t} + ${d} (or one second later) when that is after
 * ${as_of}. */
static void
horizon_at(time_t *h, time_t as_of, long long t, long long d)
{
	if (d > (long long)1 << 40)
		return;
	for (long long e = t + d; e <= t + d + 1; e++)
		if (e > (long long)as_of && e < (long long)*h)
			*h = (time_t)e;
}

time_t
actions_horizon(const struct actions_input *in)
{
	const struct policy *pol = in->policy;
	long long d[3 + LADDER_MAX + 1];
	size_t nd = 0;
	time_t h = TIME_HORIZON_NONE;

	d[nd++] = 0; /* as_of before the newest snapshot */
	d[nd++] = -CLOCK_SLACK; /* a snapshot Azure dates after as_of */
	if (pol->keep_within > 0)
		d[nd++] = pol->keep_within;
	if (pol->promote_after >= 0)
		d[nd++] = pol->promote_after;
	for (int r = 0; r < pol->channels.n && r < LADDER_MAX; r++)
		if (pol->channels.rung[r].soak >= 0)
			d[nd++] = pol->channels.rung[r].soak;
	for (size_t k = 0; k < nd; k++) {
		for (size_t i = 0; i < in->nsnaps; i++)
			horizon_at(
			    &h, in->as_of, in->snaps[i].created_at, d[k]);
		for (size_t i = 0; i < in->nholds; i++) {
			horizon_at(
			    &h, in->as_of, in->holds[i].promoted_at, d[k]);
			horizon_at(&h, in->as_of, in->holds[i].left_at, d[k]);
		}
	}
	return h;
}

int
actions_slot(
    const struct plan_input *in, const char *prefix, struct action_list *out)
{
	static const enum action_kind kinds[] = {
	    [PLAN_NONE] = ACTION_NONE,
	    [PLAN_CREATE] = ACTION_CREATE,
	    [PLAN_SKIP] = ACTION_SKIP,
	    [PLAN_FAIL] = ACTION_FAIL,
	    [PLAN_PAUSED] = ACTION_PAUSED,
	};
	struct plan_result r;
	struct action_snap s;
	struct action *a;

	plan_decide(in, prefix, &r);
	memset(&s, 0, sizeof(s));
	s.id = r.action == PLAN_CREATE ? ACTION_PENDING_ID : 0;
	util_strlcpy(s.name, r.name, sizeof(s.name));
	if (add(out, kinds[r.action], &s, NULL, r.reason))
		return -1;
	a = &out->v[out->n - 1];
	a->slot = r.slot;
	return 0;
}

/* Does ${id} hold ${channel} now, in ${holds}? */
static int
holds_now(const struct channel_hold *holds, size_t nh, long long id,
    const char *channel)
{
	for (size_t i = 0; i < nh; i++)
		if (holds[i].snapshot_id == id && holds[i].left_at == 0 &&
		    strcmp(holds[i].channel, channel) == 0)
			return 1;
	return 0;
}

int
actions_demote(const struct actions_input *in, long long id,
    const char *channel, struct action_list *out)
{
	const struct action_snap *s = find_snap(in, id), *fb;
	struct promotion_snap *act = NULL;
	struct channel_hold *holds = NULL;
	size_t nh = in->nholds, na = 0;
	char msg[256];
	int n = -1;

	holds = calloc(2 * in->nholds + 1, sizeof(*holds));
	act = calloc(in->nsnaps + 1, sizeof(*act));
	if (holds == NULL || act == NULL)
		goto done;
	n = 0;
	if (s == NULL)
		goto done; /* the caller names every holder: it holds none */
	if (in->nholds > 0)
		memcpy(holds, in->holds, in->nholds * sizeof(*holds));
	for (size_t i = 0; i < in->nsnaps; i++) {
		if (!in->snaps[i].active)
			continue;
		act[na].id = in->snaps[i].id;
		act[na].created_at = in->snaps[i].created_at;
		na++;
	}
	/* Each channel it holds once, in order of entry. */
	for (size_t i = 0; i < in->nholds; i++) {
		const char *ch = in->holds[i].channel;
		long long fb_id;

		if (channel != NULL && strcmp(ch, channel) != 0)
			continue;
		if (!holds_now(holds, nh, id, ch))
			continue; /* left it, or handled already */
		fb_id = promotion_fallback(holds, nh, act, na, ch, id);
		fb = fb_id != 0 ? find_snap(in, fb_id) : NULL;
		snprintf(
		    msg, sizeof(msg), "demoted by hand from channel %s", ch);
		if (add(out, ACTION_DEMOTE, s, ch, msg))
			goto fail;
		if (fb != NULL) {
			snprintf(msg, sizeof(msg),
			    "channel %s falls back to it (%s demoted by hand)",
			    ch, s->name);
			if (add(out, ACTION_PROMOTE, fb, ch, msg))
				goto fail;
		}
		/* The history as the store will hold it (db_ladder_leave). */
		for (size_t k = 0; k < nh; k++)
			if (holds[k].snapshot_id == id &&
			    holds[k].left_at == 0 &&
			    strcmp(holds[k].channel, ch) == 0) {
				holds[k].left_at = in->as_of;
				holds[k].demoted = 1;
			}
		if (fb != NULL) {
			struct channel_hold *h = &holds[nh++];

			memset(h, 0, sizeof(*h));
			h->snapshot_id = fb->id;
			util_strlcpy(h->channel, ch, sizeof(h->channel));
			h->rung = promotion_rung(&in->policy->channels, ch);
			h->promoted_at = in->as_of;
		}
		n++;
	}
	goto done;
fail:
	n = -1;
done:
	free(act);
	free(holds);
	return n;
}
