#ifndef AKSNAP_DRIFT_H
#define AKSNAP_DRIFT_H

/*
 * drift.h -- the verdict on where a live pool stands against its
 * baseline, as `drift` prints it and `report` colours it (DESIGN.md
 * section 3).  One function, so the two can never disagree.  Pure.
 */

/* What is known about one pool. */
struct drift_facts {
	int unknown; /* its live state could not be read (a refresh failed) */
	int missing; /* the cluster or the node pool is gone */
	int have_live; /* live_k8s and live_image hold what it runs */
	int have_base; /* base_k8s and base_image hold its baseline's */
	const char *live_k8s, *live_image;
	const char *base_k8s, *base_image;
	/* the cluster's auto-upgrade channels would undo the baseline
	 * (apply_channels_undo_pin) */
	int channel_undoes;
};

/*
 * drift_verdict(f):
 * "unknown" (not read, or never observed), "missing", "no-baseline",
 * "channel-will-drift" (a baseline on a cluster whose auto-upgrade
 * channels would undo it, whatever the versions say now), or
 * versions_drift's "in-baseline", "ahead", "behind", "differs".  A static
 * string.
 */
const char *drift_verdict(const struct drift_facts *f);

#endif
