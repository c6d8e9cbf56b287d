#ifndef AKSNAP_PLAN_H
#define AKSNAP_PLAN_H

/*
 * plan.h -- decide, for one pool at one time, whether a snapshot is due
 * (DESIGN.md section 6, Schedule).  Pure: the caller brings the observed
 * versions and what the store knows; nothing here reads the clock, the
 * store or the network.
 */

#include <time.h>

#include "job/rules/model.h"
#include "job/rules/schedule.h"

enum plan_action {
	PLAN_NONE = 0, /* not due: the current slot is already taken */
	PLAN_CREATE, /* take a snapshot for the slot */
	PLAN_SKIP, /* snapshot_when = changed and nothing changed */
	PLAN_FAIL, /* cannot decide: the pool was not observed */
	PLAN_PAUSED, /* enabled = no: observed only, nothing else */
};

struct plan_input {
	const struct pool_conf *pool;
	time_t slot; /* from plan_slot() */
	int slot_taken; /* db_slot_taken() for that slot */
	int force; /* `aksnap snapshot`: take one whatever */
	int observed; /* 1: live holds the pool's versions */
	const char *observe_error; /* why not, when observed == 0 */
	struct db_versions live;
	int have_newest; /* the pool has an active snapshot */
	struct db_versions newest; /* its versions */
	const char *newest_name;
};

struct plan_result {
	enum plan_action action;
	time_t slot;
	char name[64]; /* the snapshot name, for CREATE */
	char reason[256];
};

/*
 * plan_slot(sched, tz, as_of, force, slot, err, errlen):
 * The slot a run at ${as_of} works on: the schedule's current slot, or,
 * with ${force} (`aksnap snapshot`), ${as_of} cut to the minute.  0 or -1
 * (no slot: the reason in ${err}).
 */
int plan_slot(const struct schedule *sched, const struct tz *tz, time_t as_of,
    int force, time_t *slot, char *err, size_t errlen);

/*
 * plan_decide(in, prefix, out):
 * Decide for one pool.  Always fills ${out} (with the reason).
 */
void plan_decide(
    const struct plan_input *in, const char *prefix, struct plan_result *out);

/*
 * plan_snapshot_name(prefix, cluster, nodepool, slot, out):
 * "<prefix>-<cluster>-<nodepool>-<YYYYmmddTHHMMZ>" (UTC).  When that is
 * longer than ARM's 63 characters the cluster part is cut and an 8-hex
 * hash of the full "<prefix>-<cluster>-<nodepool>" keeps names distinct.
 */
void plan_snapshot_name(const char *prefix, const char *cluster,
    const char *nodepool, time_t slot, char out[64]);

/* plan_versions_equal(a, b): node image, Kubernetes, OS SKU, VM size, FIPS. */
int plan_versions_equal(
    const struct db_versions *a, const struct db_versions *b);

/* plan_action_name(a): "none", "create", "skip", "fail", "paused". */
const char *plan_action_name(enum plan_action a);

#endif
