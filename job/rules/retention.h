#ifndef AKSNAP_RETENTION_H
#define AKSNAP_RETENTION_H

/*
 * retention.h -- which snapshots of one pool to keep, and which one to
 * promote (DESIGN.md section 6, "Retention" and "Promotion").
 *
 * Pure: the caller hands over one pool's active snapshots, its policy, the
 * time zone for period boundaries and the time (as_of); every function
 * answers from those alone.  Nothing here reads the clock, the store or the
 * network.
 */

#include <stddef.h>
#include <time.h>

#include "job/rules/model.h"

struct tz;

/* One active snapshot of the pool, as retention sees it. */
struct retention_item {
	long long id; /* the store's snapshot id; > 0 */
	time_t created_at; /* UTC */
	int pinned; /* excluded from retention by `aksnap pin` */
	int promoted; /* protected channel holder (retention_mark_promoted) */
};

/* Why a snapshot is kept.  A deleted snapshot has no reason bits. */
#define RETAIN_LAST (1u << 0)
#define RETAIN_HOURLY (1u << 1)
#define RETAIN_DAILY (1u << 2)
#define RETAIN_WEEKLY (1u << 3)
#define RETAIN_MONTHLY (1u << 4)
#define RETAIN_YEARLY (1u << 5)
#define RETAIN_WITHIN (1u << 6)
#define RETAIN_MIN_KEEP (1u << 7)
#define RETAIN_NEWEST (1u << 8)
#define RETAIN_PINNED (1u << 9)
#define RETAIN_PROMOTED (1u << 10)
/* Due for deletion but over max_delete_per_run: kept this run, waits. */
#define RETAIN_DEFERRED (1u << 11)
#define RETAIN_ALL ((1u << 12) - 1)

/* Room for every reason name joined by commas, with the NUL. */
#define RETENTION_REASONS_MAX 96

struct retention_decision {
	int keep; /* 1 keep, 0 delete */
	unsigned reasons; /* RETAIN_* bits; 0 exactly when deleted */
};

/*
 * retention_plan(items, n, policy, tz, as_of, out, err, errlen):
 * Decide for each of the ${n} snapshots in ${items} (one pool's active
 * snapshots, any order) and fill ${out}[i] for ${items}[i].  Periods
 * (hour, day, ISO week, month, year) are taken in the loaded time zone
 * ${tz} (job/base/tz.h; NULL is UTC).  The caller owns both arrays.
 *
 * The rules, in order:
 * - pinned and promoted items are set aside: kept (reasons "pinned",
 *   "promoted"); they neither count toward any rule nor consume a bucket;
 * - the others (the candidates) are walked newest first (created_at, then
 *   id, descending), as restic's `forget` does: keep_last keeps the N
 *   newest; for each of hourly, daily, weekly (ISO, Monday first),
 *   monthly and yearly with count N, a candidate is kept when its period
 *   differs from the last period kept for that kind and fewer than N have
 *   been kept for it -- the newest candidate of each of the last N periods
 *   that hold one; one candidate may be kept for several kinds;
 * - keep_within D keeps every candidate with created_at > as_of - D;
 * - min_keep: while fewer than min_keep candidates are kept, the newest
 *   removed candidate is kept ("min_keep"); set-aside items do not count;
 * - the newest item of all is never deleted ("newest", only when no other
 *   rule keeps it);
 * - when more than max_delete_per_run would be deleted, the oldest
 *   max_delete_per_run are deleted and the newer rest are kept with the
 *   single reason "deferred".  max_delete_per_run < 0 means no limit;
 *   0 means nothing is deleted this run.
 *
 * Return 0, or -1 with the reason in ${err} when nothing is decided (and
 * ${out} is untouched): the policy keeps nothing (retention_policy_check),
 * ${as_of} is earlier than the newest item's created_at (a clock error:
 * never delete then), or a time is beyond tz_localtime's range.  ${n} == 0 is
 * fine.
 *
 * Re-planning over the kept items with the same as_of and policy gives each
 * of them the same reasons, except that deferred ones are now deleted (up
 * to max_delete_per_run) or deferred again; so with nothing deferred it
 * deletes nothing.  O(n log n).
 */
int retention_plan(const struct retention_item *items, size_t n,
    const struct policy *policy, const struct tz *tz, time_t as_of,
    struct retention_decision *out, char *err, size_t errlen);

/*
 * retention_policy_check(policy, err, errlen):
 * Return 0 if ${policy} keeps something, or -1 with the reason in ${err}
 * when every keep_* count, keep_within and min_keep are zero.  For config
 * validation; retention_plan applies it too.
 */
int retention_policy_check(
    const struct policy *policy, char *err, size_t errlen);

/*
 * retention_reasons_format(reasons, buf, len):
 * Write the names of the RETAIN_* bits in ${reasons}, comma-separated, in
 * the fixed order last,hourly,daily,weekly,monthly,yearly,within,min_keep,
 * newest,pinned,promoted,deferred ("" for none) into ${buf} (at least
 * RETENTION_REASONS_MAX bytes to never truncate).  Return ${buf}.
 */
char *retention_reasons_format(unsigned reasons, char *buf, size_t len);

/*
 * retention_reasons_parse(text, out):
 * The inverse of retention_reasons_format ("" is 0).  Return 0, or -1 on
 * an unknown name.
 */
int retention_reasons_parse(const char *text, unsigned *out);

/*
 * retention_policy_fingerprint(policy, buf, len):
 * A short stable description of the keys that decide retention, recorded
 * with every decision, e.g. "l3h0d7w4m6y0/within=2d/min=2/max=10/promoted=2".
 * 96 bytes always suffice.
 */
void retention_policy_fingerprint(
    const struct policy *policy, char *buf, size_t len);

/*
 * retention_promotion_pick(items, n, promote_after, as_of, current_id, pick):
 * The promotion rule: the newest of the ${n} active ${items} (created_at,
 * then id) with created_at <= ${as_of} - ${promote_after} should hold the
 * channel.  Return 1 and store its id in ${*pick} when that differs from
 * ${current_id} (the current holder's id; 0 when none); return 0 when there
 * is nothing to do: ${promote_after} is PROMOTE_NEVER (any negative value),
 * no item is old enough, the candidate already holds the channel, or the
 * current holder is among ${items} and is newer than the candidate (a hand
 * promotion of a not yet soaked snapshot is never rolled back by a run).
 */
int retention_promotion_pick(const struct retention_item *items, size_t n,
    long long promote_after, time_t as_of, long long current_id,
    long long *pick);

/*
 * retention_mark_promoted(holders, nholders, keep_promoted, items, n):
 * ${holders} lists the channel's holders in promotion order, newest first:
 * holders[0] is the current holder, holders[1] the one it replaced, and so
 * on (an id promoted twice counts once, at its newest place).  A
 * generation is one distinct holder; the current holder is generation 1.
 * Set ${items}[i].promoted for every item among the first
 * max(keep_promoted, 1) generations -- so keep_promoted = 2 keeps the
 * current baseline and the one before it, and the current holder is
 * always protected.  Never clears a flag.  Return how many items were
 * marked.
 */
size_t retention_mark_promoted(const long long *holders, size_t nholders,
    int keep_promoted, struct retention_item *items, size_t n);

#endif
