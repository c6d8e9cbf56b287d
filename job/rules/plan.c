/*
 * plan.c -- is a snapshot due for this pool now, and under which name?
 *
 * The rule (DESIGN.md section 6): the current slot is the latest schedule
 * slot <= as_of; the pool is due when the store holds neither a snapshot
 * nor a recorded skip for it.  Downtime does not pile up work: only the
 * current slot is ever considered, so three missed days give one
 * snapshot.  With snapshot_when = changed a due slot whose versions equal
 * the newest active snapshot's is skipped, and the skip is recorded so
 * that the slot is not looked at again.
 *
 * Names are a function of the pool and the slot, so a rerun in the same
 * slot PUTs the same name: a crash between the PUT and its record can
 * never make two snapshots of one slot.
 */
#include "job/rules/plan.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "job/base/limits.h"
#include "job/base/util.h"

int
plan_slot(const struct schedule *sched, const struct tz *tz, time_t as_of,
    int force, time_t *slot, char *err, size_t errlen)
{
	if (force) {
		*slot = as_of - (as_of % 60);
		return 0;
	}
	if (schedule_current_slot(sched, tz, as_of, slot)) {
		snprintf(err, errlen, "schedule '%s' has no slot before %lld",
		    sched->text, (long long)as_of);
		return -1;
	}
	return 0;
}

int
plan_versions_equal(const struct db_versions *a, const struct db_versions *b)
{
	return strcmp(a->node_image_version, b->node_image_version) == 0 &&
	    strcmp(a->kubernetes_version, b->kubernetes_version) == 0 &&
	    strcasecmp(a->os_sku, b->os_sku) == 0 &&
	    strcasecmp(a->vm_size, b->vm_size) == 0 &&
	    a->enable_fips == b->enable_fips;
}

void
plan_snapshot_name(const char *prefix, const char *cluster,
    const char *nodepool, time_t slot, char out[64])
{
	char ts[20], base[160];
	struct tm tm;
	size_t keep;

	gmtime_r(&slot, &tm);
	strftime(ts, sizeof(ts), "%Y%m%dT%H%MZ", &tm);
	snprintf(base, sizeof(base), "%s-%s-%s", prefix, cluster, nodepool);
	if (strlen(base) + 1 + strlen(ts) <= LIMIT_ARM_NAME) {
		snprintf(out, 64, "%.48s-%.14s", base, ts);
		return;
	}
	/* "<cut>-<hash8>-<ts>": 63 - 1 - 8 - 1 - 14 = 39 characters of base. */
	keep = LIMIT_ARM_NAME - 1 - 8 - 1 - strlen(ts);
	while (keep > 1 && (base[keep - 1] == '-' || base[keep - 1] == '_'))
		keep--;
	snprintf(out, 64, "%.*s-%08x-%.14s", (int)keep, base,
	    util_fnv1a32(base), ts);
}

/* "slot ... due; changed: <what> <old> -> <new>", the first difference. */
static void
describe_change(const struct db_versions *was, const struct db_versions *now,
    const char *slot_text, char *out, size_t len)
{
	const char *what = "node image", *a = was->node_image_version,
	           *b = now->node_image_version;

	if (strcmp(a, b) == 0) {
		what = "Kubernetes";
		a = was->kubernetes_version;
		b = now->kubernetes_version;
	}
	if (strcmp(a, b) == 0) {
		what = "OS SKU";
		a = was->os_sku;
		b = now->os_sku;
	}
	if (strcasecmp(a, b) == 0) {
		what = "VM size";
		a = was->vm_size;
		b = now->vm_size;
	}
	if (strcasecmp(a, b) == 0) {
		what = "FIPS";
		a = was->enable_fips ? "on" : "off";
		b = now->enable_fips ? "on" : "off";
	}
	snprintf(out, len, "slot %s due; changed: %s %s -> %s", slot_text, what,
	    a, b);
}

void
plan_decide(
    const struct plan_input *in, const char *prefix, struct plan_result *out)
{
	char slot_text[32];

	memset(out, 0, sizeof(*out));
	out->slot = in->slot;
	util_format_time(in->slot, slot_text, sizeof(slot_text));

	if (!in->observed && in->pool->fleet_missing) {
		/* A fleet's pool gone from its listing is not a failure:
		 * retention goes on over its snapshots, and check says so. */
		out->action = PLAN_SKIP;
		util_strlcpy(out->reason,
		    in->observe_error != NULL ? in->observe_error : "missing",
		    sizeof(out->reason));
		return;
	}
	if (!in->observed) {
		out->action = PLAN_FAIL;
		snprintf(out->reason, sizeof(out->reason), "not observed: %s",
		    in->observe_error != NULL ? in->observe_error : "unknown");
		return;
	}
	if (in->pool->policy->paused && !in->force) {
		/* Observed (recorded), and nothing else: no snapshot, no
		 * skip; promotion and retention stop too (prune.c). */
		out->action = PLAN_PAUSED;
		snprintf(out->reason, sizeof(out->reason),
		    "paused: enabled = no (observed only; nothing is taken, "
		    "promoted or deleted)");
		return;
	}
	plan_snapshot_name(
	    prefix, in->pool->cluster, in->pool->nodepool, in->slot, out->name);
	if (in->slot_taken && in->force) {
		/*
		 * A snapshot by hand takes the minute's name: a second one in
		 * the same minute is the first one, already taken (a new name
		 * per second would let a retry loop fill the subscription).
		 */
		out->action = PLAN_NONE;
		snprintf(out->reason, sizeof(out->reason),
		    "%s was taken this minute already (one snapshot by hand a "
		    "minute; it stands for this request)",
		    out->name);
		return;
	}
	if (in->slot_taken) {
		out->action = PLAN_NONE;
		out->name[0] = '\0';
		snprintf(out->reason, sizeof(out->reason),
		    "slot %s already done", slot_text);
		return;
	}
	if (in->force) {
		out->action = PLAN_CREATE;
		snprintf(out->reason, sizeof(out->reason), "requested by hand");
		return;
	}
	if (in->pool->policy->snapshot_when == WHEN_CHANGED &&
	    in->have_newest && plan_versions_equal(&in->live, &in->newest)) {
		out->action = PLAN_SKIP;
		out->name[0] = '\0';
		snprintf(out->reason, sizeof(out->reason),
		    "unchanged since %s (%s, Kubernetes %s)",
		    in->newest_name != NULL ? in->newest_name : "the newest",
		    in->live.node_image_version, in->live.kubernetes_version);
		return;
	}
	out->action = PLAN_CREATE;
	if (!in->have_newest)
		snprintf(out->reason, sizeof(out->reason),
		    "slot %s due; first snapshot of the pool", slot_text);
	else if (in->pool->policy->snapshot_when == WHEN_ALWAYS)
		snprintf(out->reason, sizeof(out->reason),
		    "slot %s due (snapshot_when = always)", slot_text);
	else
		describe_change(&in->newest, &in->live, slot_text, out->reason,
		    sizeof(out->reason));
}

const char *
plan_action_name(enum plan_action a)
{
	switch (a) {
	case PLAN_NONE:
		return "none";
	case PLAN_CREATE:
		return "create";
	case PLAN_SKIP:
		return "skip";
	case PLAN_FAIL:
		return "fail";
	case PLAN_PAUSED:
		return "paused";
	}
	return "?";
}
