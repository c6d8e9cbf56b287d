/*
 * promotion.c -- channel ladders, decided (DESIGN.md section 6).
 *
 * A ladder `canary:1d stable:7d` is walked rung by rung.  Rung 0 takes
 * the newest active snapshot that is at least its soak old; every later
 * rung takes the newest snapshot that entered the previous rung at least
 * its soak ago.  The soak is counted from the entry, not from holding:
 * with a new image every week, canary moves on every week and stable
 * still gets each one a week after it entered canary.  The one-rung
 * ladder `stable:7d` is the old `channel` + `promote_after` rule, word
 * for word.
 *
 * The history (struct channel_hold) is every entry of a snapshot into a
 * channel, with how it ended: replaced by the next holder, or demoted by
 * hand.  A snapshot demoted by hand is out for good as far as runs go;
 * only `promote` by hand can bring it back.
 *
 * Everything is linear in the history and the snapshots for each rung;
 * a pool has a few hundred of each at most.
 */
#include "job/rules/promotion.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "job/base/limits.h"
#include "job/base/util.h"

int
promotion_rung(const struct ladder *l, const char *channel)
{
	for (int i = 0; i < l->n; i++)
		if (strcmp(l->rung[i].channel, channel) == 0)
			return i;
	return LADDER_MAX;
}

int
promotion_demoted(const struct channel_hold *holds, size_t nh, long long id)
{
	for (size_t i = 0; i < nh; i++)
		if (holds[i].snapshot_id == id && holds[i].demoted)
			return 1;
	return 0;
}

static const struct promotion_snap *
find_snap(const struct promotion_snap *snaps, size_t n, long long id)
{
	for (size_t i = 0; i < n; i++)
		if (snaps[i].id == id)
			return &snaps[i];
	return NULL;
}

/* Newer: later created_at, then higher id (the store's order). */
static int
newer(const struct promotion_snap *a, const struct promotion_snap *b)
{
	return a->created_at > b->created_at ||
	    (a->created_at == b->created_at && a->id > b->id);
}

/* The holder of ${channel} now: its id, or 0. */
static long long
holder(const struct channel_hold *holds, size_t nh, const char *channel)
{
	for (size_t i = nh; i-- > 0;)
		if (holds[i].left_at == 0 &&
		    strcmp(holds[i].channel, channel) == 0)
			return holds[i].snapshot_id;
	return 0;
}

/*
 * When ${id} first entered ${channel}: 1 with ${*at}, or 0.  ${planned}
 * is this plan's promotion into that channel (0: none), an entry at
 * ${as_of}.
 */
static int
entered(const struct channel_hold *holds, size_t nh, const char *channel,
    long long id, long long planned, time_t as_of, time_t *at)
{
	int found = 0;

	for (size_t i = 0; i < nh; i++) {
		if (holds[i].snapshot_id != id ||
		    strcmp(holds[i].channel, channel) != 0)
			continue;
		if (!found || holds[i].promoted_at < *at)
			*at = holds[i].promoted_at;
		found = 1;
	}
	if (!found && planned == id) {
		*at = as_of;
		found = 1;
	}
	return found;
}

void
promotion_plan(const struct ladder *l, const struct promotion_snap *snaps,
    size_t n, const struct channel_hold *holds, size_t nh, time_t as_of,
    struct promotion_step *out, size_t *nout)
{
	long long planned = 0; /* this plan's promotion into the rung above */
	char soak[32], when[32];

	*nout = 0;
	for (int r = 0; r < l->n; r++) {
		const struct rung *rg = &l->rung[r];
		const struct promotion_snap *cand = NULL, *cur;
		long long cur_id, limit;
		time_t cand_entry = 0;

		if (rg->soak < 0 || (long long)as_of < LLONG_MIN + rg->soak) {
			planned = 0;
			continue;
		}
		limit = (long long)as_of - rg->soak;
		for (size_t i = 0; i < n; i++) {
			const struct promotion_snap *s = &snaps[i];
			time_t at = s->created_at;

			if (r > 0 &&
			    !entered(holds, nh, l->rung[r - 1].channel, s->id,
			        planned, as_of, &at))
				continue;
			if ((long long)at > limit)
				continue;
			if (promotion_demoted(holds, nh, s->id))
				continue;
			if (cand == NULL || newer(s, cand)) {
				cand = s;
				cand_entry = at;
			}
		}
		planned = 0;
		if (cand == NULL)
			continue;
		cur_id = holder(holds, nh, rg->channel);
		if (cand->id == cur_id)
			continue;
		cur = find_snap(snaps, n, cur_id);
		if (cur != NULL && newer(cur, cand))
			continue; /* never backwards (a newer one by hand) */

		out[*nout].rung = r;
		out[*nout].snapshot_id = cand->id;
		out[*nout].replaces = cur_id;
		util_format_duration(rg->soak, soak, sizeof(soak));
		if (l->n == 1)
			snprintf(out[*nout].reason, sizeof(out[*nout].reason),
			    "newest snapshot soaked promote_after = %s", soak);
		else if (r == 0)
			snprintf(out[*nout].reason, sizeof(out[*nout].reason),
			    "newest snapshot soaked %s:%s", rg->channel, soak);
		else {
			util_format_time(cand_entry, when, sizeof(when));
			snprintf(out[*nout].reason, sizeof(out[*nout].reason),
			    "newest snapshot in %s since %s soaked %s:%s",
			    l->rung[r - 1].channel, when, rg->channel, soak);
		}
		planned = cand->id;
		(*nout)++;
	}
}

long long
promotion_fallback(const struct channel_hold *holds, size_t nh,
    const struct promotion_snap *snaps, size_t n, const char *channel,
    long long demoted)
{
	for (size_t i = nh; i-- > 0;) {
		const struct channel_hold *h = &holds[i];

		if (h->snapshot_id == demoted ||
		    strcmp(h->channel, channel) != 0)
			continue;
		if (find_snap(snaps, n, h->snapshot_id) == NULL ||
		    promotion_demoted(holds, nh, h->snapshot_id))
			continue;
		return h->snapshot_id;
	}
	return 0;
}

static int
in_ids(const long long *ids, size_t n, long long id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return 1;
	return 0;
}

size_t
promotion_protected(const struct channel_hold *holds, size_t nh,
    int keep_promoted, long long *ids, size_t max)
{
	/* config accepts keep_promoted up to LIMIT_KEEP_PROMOTED; more is
	 * never honoured (the history kept per channel is that long). */
	size_t gens = keep_promoted > LIMIT_KEEP_PROMOTED ? LIMIT_KEEP_PROMOTED
	    : keep_promoted > 1 ? (size_t)keep_promoted
	                        : 1;
	size_t nids = 0;

	/* Each channel once: at the newest entry of it. */
	for (size_t c = nh; c-- > 0;) {
		long long seen[LIMIT_KEEP_PROMOTED];
		size_t nseen = 0;
		int first = 1;

		for (size_t k = c + 1; k < nh && first; k++)
			first = strcmp(holds[k].channel, holds[c].channel) != 0;
		if (!first)
			continue;
		for (size_t i = c + 1; i-- > 0 && nseen < gens;) {
			const struct channel_hold *h = &holds[i];

			if (strcmp(h->channel, holds[c].channel) != 0 ||
			    h->demoted || in_ids(seen, nseen, h->snapshot_id))
				continue;
			if (nseen < LIMIT_KEEP_PROMOTED)
				seen[nseen++] = h->snapshot_id;
			if (nids < max && !in_ids(ids, nids, h->snapshot_id))
				ids[nids++] = h->snapshot_id;
		}
	}
	return nids;
}

void
promotion_tag(const struct ladder *l, const struct channel_hold *holds,
    size_t nh, long long id, const char *add, const char *drop, char *out,
    size_t len)
{
	const char *list[LADDER_MAX + 16];
	size_t nl = 0, used = 0;

	if (len == 0)
		return;
	out[0] = '\0';
	for (size_t i = 0; i < nh && nl < LADDER_MAX + 15; i++) {
		int dup = 0;

		if (holds[i].snapshot_id != id || holds[i].left_at != 0)
			continue;
		if (drop != NULL && strcmp(holds[i].channel, drop) == 0)
			continue;
		for (size_t k = 0; k < nl && !dup; k++)
			dup = strcmp(list[k], holds[i].channel) == 0;
		if (!dup)
			list[nl++] = holds[i].channel;
	}
	if (add != NULL && (drop == NULL || strcmp(add, drop) != 0)) {
		int dup = 0;

		for (size_t k = 0; k < nl && !dup; k++)
			dup = strcmp(list[k], add) == 0;
		if (!dup)
			list[nl++] = add;
	}
	/* Stable insertion sort by rung: outside the ladder keeps entry
	 * order, after it. */
	for (size_t i = 1; i < nl; i++) {
		const char *x = list[i];
		size_t j = i;

		while (j > 0 &&
		    promotion_rung(l, list[j - 1]) > promotion_rung(l, x)) {
			list[j] = list[j - 1];
			j--;
		}
		list[j] = x;
	}
	for (size_t i = 0; i < nl && used < len; i++)
		used += (size_t)snprintf(
		    out + used, len - used, "%s%s", i > 0 ? "," : "", list[i]);
}
