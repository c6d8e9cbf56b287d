/*
 * retention.c -- decide which snapshots of one pool to keep.
 *
 * Pure: takes the pool's active snapshots, its policy, a time zone and the
 * time, and returns a decision (keep or delete, with reasons) for each.
 * Nothing here reads the clock, the store or the network, so every rule is
 * tested exactly.
 *
 * The bucket rules follow restic's `forget`: the candidates are sorted
 * newest first and walked once; each bucket kind (last, hourly, daily,
 * weekly, monthly, yearly) remembers the period of the last snapshot it
 * kept and how many it may still keep, so a snapshot is kept for a kind
 * when it opens a new period of that kind.  Period keys are plain integers
 * (2026031614 for an hour, 202612 for a month, 202653 for ISO week 53 of
 * 2026) computed from the local wall time in the pool's time zone.  The
 * walk is O(n) after an O(n log n) sort, so 10,000 snapshots are cheap.
 *
 * Safety rules come after the buckets: min_keep tops up with the newest
 * removed candidates, the newest snapshot is never deleted, and at most
 * max_delete_per_run are deleted (the oldest); the newer rest are marked
 * "deferred" and kept until a later run.  Nothing is decided at all when
 * the policy would keep nothing or when as_of lies before the newest
 * snapshot: a clock running behind would otherwise make recent snapshots
 * look old.
 *
 * Promotion (which snapshot should hold the channel, and which former
 * holders stay protected) is decided here too, because its result feeds the
 * retention walk: protected holders are set aside like pinned ones.
 */
#include "job/rules/retention.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job/base/tz.h"
#include "job/base/util.h"

/* The period bucket kinds, in reason order. */
enum { KIND_HOUR, KIND_DAY, KIND_WEEK, KIND_MONTH, KIND_YEAR, NKINDS };

static const unsigned kind_bits[NKINDS] = {
    RETAIN_HOURLY, RETAIN_DAILY, RETAIN_WEEKLY, RETAIN_MONTHLY, RETAIN_YEARLY};

static const char *const reason_names[] = {"last", "hourly", "daily", "weekly",
    "monthly", "yearly", "within", "min_keep", "newest", "pinned", "promoted",
    "deferred"};
#define NREASONS (sizeof(reason_names) / sizeof(reason_names[0]))

/* One item in walk order. */
struct walk {
	time_t created_at;
	long long id;
	size_t idx; /* into the caller's arrays */
};

/* Newest first: created_at, then id, descending. */
static int
walk_cmp(const void *a, const void *b)
{
	const struct walk *x = a, *y = b;

	if (x->created_at != y->created_at)
		return x->created_at > y->created_at ? -1 : 1;
	if (x->id != y->id)
		return x->id > y->id ? -1 : 1;
	return 0;
}

/* ISO 8601 weeks in year ${y}: 53 when it starts on a Thursday, or on a
 * Wednesday in a leap year. */
static int
iso_weeks_in_year(long long y)
{
	long long p = (y + y / 4 - y / 100 + y / 400) % 7;
	long long q =
	    ((y - 1) + (y - 1) / 4 - (y - 1) / 100 + (y - 1) / 400) % 7;

	return (p == 4 || q == 3) ? 53 : 52;
}

/* ISO year * 100 + ISO week of a broken-down local time. */
static long long
iso_week_key(const struct tm *tm)
{
	long long y = tm->tm_year + 1900LL;
	int wday = (tm->tm_wday + 6) % 7 + 1; /* Monday 1 .. Sunday 7 */
	int week = (tm->tm_yday + 1 - wday + 10) / 7;

	if (week < 1) {
		y--;
		week = iso_weeks_in_year(y);
	} else if (week > iso_weeks_in_year(y)) {
		y++;
		week = 1;
	}
	return y * 100 + week;
}

static void
period_keys(const struct tm *tm, long long keys[NKINDS])
{
	long long y = tm->tm_year + 1900LL;
	long long month = y * 100 + tm->tm_mon + 1;
	long long day = month * 100 + tm->tm_mday;

	keys[KIND_HOUR] = day * 100 + tm->tm_hour;
	keys[KIND_DAY] = day;
	keys[KIND_WEEK] = iso_week_key(tm);
	keys[KIND_MONTH] = month;
	keys[KIND_YEAR] = y;
}

static int
nonneg(int v)
{
	return v > 0 ? v : 0;
}

int
retention_policy_check(const struct policy *p, char *err, size_t errlen)
{
	if (p->keep_last > 0 || p->keep_hourly > 0 || p->keep_daily > 0 ||
	    p->keep_weekly > 0 || p->keep_monthly > 0 || p->keep_yearly > 0 ||
	    p->keep_within > 0 || p->min_keep > 0)
		return 0;
	snprintf(err, errlen,
	    "policy keeps nothing: set keep_last, keep_hourly, keep_daily, "
	    "keep_weekly, keep_monthly, keep_yearly, keep_within or min_keep");
	return -1;
}

int
retention_plan(const struct retention_item *items, size_t n,
    const struct policy *policy, const struct tz *tz, time_t as_of,
    struct retention_decision *out, char *err, size_t errlen)
{
	struct walk *order = NULL;
	struct retention_decision *dec = NULL;
	int counts[NKINDS], kept_of[NKINDS], has_last[NKINDS];
	long long last_key[NKINDS];
	int use_periods = 0, keep_last, min_keep;
	size_t kept, ndelete, defer;
	struct tm tm;

	if (retention_policy_check(policy, err, errlen))
		return -1;
	if (tz_localtime(tz, as_of, &tm)) {
		snprintf(
		    err, errlen, "time %lld is out of range", (long long)as_of);
		return -1;
	}
	if (n == 0)
		return 0;

	order = calloc(n, sizeof(*order));
	dec = calloc(n, sizeof(*dec));
	if (order == NULL || dec == NULL) {
		snprintf(err, errlen, "out of memory");
		goto err0;
	}
	for (size_t i = 0; i < n; i++) {
		order[i].created_at = items[i].created_at;
		order[i].id = items[i].id;
		order[i].idx = i;
	}
	qsort(order, n, sizeof(*order), walk_cmp);

	if (as_of < order[0].created_at) {
		char a[32], b[32];

		util_format_time(as_of, a, sizeof(a));
		util_format_time(order[0].created_at, b, sizeof(b));
		snprintf(err, errlen,
		    "as_of %s is before the newest snapshot (%s): refusing to "
		    "delete (clock error?)",
		    a, b);
		goto err0;
	}

	counts[KIND_HOUR] = nonneg(policy->keep_hourly);
	counts[KIND_DAY] = nonneg(policy->keep_daily);
	counts[KIND_WEEK] = nonneg(policy->keep_weekly);
	counts[KIND_MONTH] = nonneg(policy->keep_monthly);
	counts[KIND_YEAR] = nonneg(policy->keep_yearly);
	for (int k = 0; k < NKINDS; k++) {
		kept_of[k] = 0;
		has_last[k] = 0;
		last_key[k] = 0;
		if (counts[k] > 0)
			use_periods = 1;
	}
	keep_last = nonneg(policy->keep_last);
	min_keep = nonneg(policy->min_keep);

	/* The walk: set-aside items first, then buckets and keep_within. */
	kept = 0;
	for (size_t o = 0; o < n; o++) {
		const struct retention_item *it = &items[order[o].idx];
		struct retention_decision *d = &dec[order[o].idx];
		long long keys[NKINDS];

		if (it->pinned || it->promoted) {
			d->keep = 1;
			d->reasons = (it->pinned ? RETAIN_PINNED : 0) |
			    (it->promoted ? RETAIN_PROMOTED : 0);
			continue;
		}
		if (keep_last > 0) {
			d->reasons |= RETAIN_LAST;
			keep_last--;
		}
		if (use_periods) {
			if (tz_localtime(tz, it->created_at, &tm)) {
				snprintf(err, errlen,
				    "time zone \"%s\": cannot convert %lld",
				    tz_name(tz), (long long)it->created_at);
				goto err0;
			}
			period_keys(&tm, keys);
			for (int k = 0; k < NKINDS; k++) {
				if (kept_of[k] >= counts[k])
					continue;
				if (has_last[k] && last_key[k] == keys[k])
					continue;
				d->reasons |= kind_bits[k];
				kept_of[k]++;
				has_last[k] = 1;
				last_key[k] = keys[k];
			}
		}
		/* created_at > as_of - D; as_of >= created_at here. */
		if (policy->keep_within > 0 &&
		    (long long)as_of - (long long)it->created_at <
		        policy->keep_within)
			d->reasons |= RETAIN_WITHIN;
		if (d->reasons != 0) {
			d->keep = 1;
			kept++;
		}
	}

	/* min_keep: top up with the newest removed candidates. */
	for (size_t o = 0; o < n && kept < (size_t)min_keep; o++) {
		const struct retention_item *it = &items[order[o].idx];
		struct retention_decision *d = &dec[order[o].idx];

		if (it->pinned || it->promoted || d->keep)
			continue;
		d->keep = 1;
		d->reasons = RETAIN_MIN_KEEP;
		kept++;
	}

	/* Never delete the newest active snapshot. */
	if (!dec[order[0].idx].keep) {
		dec[order[0].idx].keep = 1;
		dec[order[0].idx].reasons = RETAIN_NEWEST;
	}

	/* max_delete_per_run: delete the oldest, defer the newer rest. */
	ndelete = 0;
	for (size_t i = 0; i < n; i++)
		ndelete += !dec[i].keep;
	if (policy->max_delete_per_run >= 0 &&
	    ndelete > (size_t)policy->max_delete_per_run) {
		defer = ndelete - (size_t)policy->max_delete_per_run;
		for (size_t o = 0; o < n && defer > 0; o++) {
			struct retention_decision *d = &dec[order[o].idx];

			if (d->keep)
				continue;
			d->keep = 1;
			d->reasons = RETAIN_DEFERRED;
			defer--;
		}
	}

	memcpy(out, dec, n * sizeof(*out));
	free(dec);
	free(order);
	return 0;

err0:
	free(dec);
	free(order);
	return -1;
}

char *
retention_reasons_format(unsigned reasons, char *buf, size_t len)
{
	size_t used = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < NREASONS; i++) {
		int w;

		if (!(reasons & (1u << i)))
			continue;
		w = snprintf(buf + used, len - used, "%s%s",
		    used > 0 ? "," : "", reason_names[i]);
		if (w < 0 || (size_t)w >= len - used) {
			buf[used] = '\0'; /* drop the partial name */
			break;
		}
		used += (size_t)w;
	}
	return buf;
}

int
retention_reasons_parse(const char *text, unsigned *out)
{
	const char *p = text;
	unsigned bits = 0;

	while (*p != '\0') {
		size_t w = strcspn(p, ",");
		size_t i;

		for (i = 0; i < NREASONS; i++) {
			if (strlen(reason_names[i]) == w &&
			    strncmp(p, reason_names[i], w) == 0)
				break;
		}
		if (i == NREASONS)
			return -1;
		bits |= 1u << i;
		p += w;
		if (*p == ',') {
			p++;
			if (*p == '\0')
				return -1;
		}
	}
	*out = bits;
	return 0;
}

void
retention_policy_fingerprint(const struct policy *p, char *buf, size_t len)
{
	char within[32];

	util_format_duration(p->keep_within, within, sizeof(within));
	snprintf(buf, len,
	    "l%dh%dd%dw%dm%dy%d/within=%s/min=%d/max=%d/promoted=%d",
	    p->keep_last, p->keep_hourly, p->keep_daily, p->keep_weekly,
	    p->keep_monthly, p->keep_yearly, within, p->min_keep,
	    p->max_delete_per_run, p->keep_promoted);
}

int
retention_promotion_pick(const struct retention_item *items, size_t n,
    long long promote_after, time_t as_of, long long current_id,
    long long *pick)
{
	const struct retention_item *cand = NULL, *cur = NULL;
	long long limit;

	if (promote_after < 0)
		return 0;
	if ((long long)as_of < LLONG_MIN + promote_after)
		return 0;
	limit = (long long)as_of - promote_after;
	for (size_t i = 0; i < n; i++) {
		const struct retention_item *it = &items[i];

		if (current_id != 0 && it->id == current_id)
			cur = it;
		if ((long long)it->created_at > limit)
			continue;
		if (cand == NULL || it->created_at > cand->created_at ||
		    (it->created_at == cand->created_at && it->id > cand->id))
			cand = it;
	}
	if (cand == NULL || cand->id == current_id)
		return 0;
	if (cur != NULL &&
	    (cur->created_at > cand->created_at ||
	        (cur->created_at == cand->created_at && cur->id > cand->id)))
		return 0;
	*pick = cand->id;
	return 1;
}

size_t
retention_mark_promoted(const long long *holders, size_t nholders,
    int keep_promoted, struct retention_item *items, size_t n)
{
	size_t gens = keep_promoted > 1 ? (size_t)keep_promoted : 1;
	size_t seen = 0, marked = 0;

	for (size_t h = 0; h < nholders && seen < gens; h++) {
		int dup = 0;

		for (size_t e = 0; e < h && !dup; e++)
			dup = holders[e] == holders[h];
		if (dup)
			continue;
		seen++;
		for (size_t i = 0; i < n; i++) {
			if (items[i].id == holders[h] && !items[i].promoted) {
				items[i].promoted = 1;
				marked++;
			}
		}
	}
	return marked;
}
