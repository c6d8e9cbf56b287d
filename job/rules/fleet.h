#ifndef AKSNAP_FLEET_H
#define AKSNAP_FLEET_H

/*
 * fleet.h -- which node pools a [fleet:NAME] selects, and the key each
 * selected pool gets (pure: no clock, store or network).
 */

#include <stddef.h>

#include "job/rules/model.h"

#define FLEET_MAX_TAGS 16
#define FLEET_MAX_SUBSCRIPTIONS 64

/* One [fleet:NAME] section, resolved. */
struct fleet_conf {
	char name[64];
	/* exact subscription ids; none set: the [aksnap] one */
	char subscriptions[FLEET_MAX_SUBSCRIPTIONS][64];
	size_t nsubscriptions;
	/* shell globs (fnmatch, case-insensitive); "" matches everything */
	char resource_group[128];
	char cluster[128];
	char nodepool[64];
	/* tag = KEY=VALUE: every one must be on the cluster (VALUE a glob) */
	char tag_keys[FLEET_MAX_TAGS][128];
	char tag_values[FLEET_MAX_TAGS][256];
	size_t ntags;
	char mode[16]; /* "", System or User */
	char os_type[16]; /* "", Linux or Windows */
	char policy_name[64];
	struct policy policy; /* resolved like a pool's */
	int line; /* line of the [fleet:NAME] header */
	unsigned selectors_seen; /* config: selector keys already set */
};

/* One pool a listing showed, with its cluster's facts. */
struct fleet_candidate {
	const char *subscription;
	const char *resource_group;
	const char *cluster;
	const char *nodepool;
	const char *mode;
	const char *os_type;
	const char *const *tag_keys; /* the cluster's tags */
	const char *const *tag_values;
	size_t ntags;
};

/* fleet_has_glob(s): does ${s} hold a glob character (*, ?, [)? */
int fleet_has_glob(const char *s);

/*
 * fleet_match(f, c):
 * 1 when fleet ${f} selects candidate ${c} (every set selector matches;
 * names compare without case, as ARM's do), else 0.  The subscription is
 * not looked at: the caller lists only the fleet's subscriptions.
 */
int fleet_match(const struct fleet_conf *f, const struct fleet_candidate *c);

/*
 * fleet_key(fleet, sub, rg, cluster, nodepool, out, len):
 * The pool key of a selected pool: "FLEET-CLUSTER-NODEPOOL" lower-cased
 * ("CLUSTER-NODEPOOL" when ${fleet} is "": discover's suggestions),
 * each character outside [a-z0-9-_] turned into '-'.  When that is longer
 * than an ARM name (63) or ${hashed} is set (two selected pools would
 * share it), the key is cut and ends in "-" and 8 hex digits of a hash
 * (FNV-1a) of "fleet/sub/rg/cluster/nodepool" (lower-cased): stable for the
 * same pool, different for different pools.  ${len} must be at least 64.
 */
void fleet_key(const char *fleet, const char *sub, const char *rg,
    const char *cluster, const char *nodepool, int hashed, char *out,
    size_t len);

#endif
