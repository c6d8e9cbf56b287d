#ifndef AKSNAP_RUN_FLEET_H
#define AKSNAP_RUN_FLEET_H

/*
 * fleet.h -- a run's fleets: the pools each [fleet:NAME] selects, from
 * ARM's listing of managed clusters (or, without ARM, from the store).
 */

#include <stddef.h>

#include "config/config.h"

struct arm;
struct arm_cluster;
struct db;

struct fleet_listed; /* one listed cluster, with its subscription and group */

struct fleet_view {
	struct config *cfg; /* the configuration with the fleets' pools
	                       appended (a copy; its pools are its own) */
	struct fleet_listed *listed; /* every listing's clusters, packed;
	                                sorted (subscription, group, name)
	                                once selected */
	size_t nlisted;
	size_t *nlists; /* clusters of each scope's listing */
	size_t nscopes;
	struct arm_cluster *scratch; /* one cluster unpacked (fleet_cluster) */
	char **errors; /* per failed listing, what pools of it say */
	size_t pages; /* list pages read */
	int failed; /* a fleet failed (listing refused, over the limit) */
};

/*
 * fleet_expand(cfg, arm, db, report, out):
 * List the managed clusters each fleet of ${cfg} looks at (one request a
 * page, per subscription, or per resource group when the fleet names an
 * exact one), select the pools, and fill ${out}: ${out}->cfg is ${cfg}
 * with one pool per selected pool (key: fleet_key) and one per pool the
 * store knows of the fleet that is no longer selected (fleet_missing) or
 * whose listing failed (fleet_error).  An explicit [pool:NAME] of the same
 * ARM pool wins; with ${report} each such overlap is a warning line.  A
 * fleet selecting nothing is a warning; one selecting more than
 * max_fleet_pools is refused (an error naming the count; out->failed).
 * 0, or -1 when out of memory or the store failed (logged).
 */
int fleet_expand(const struct config *cfg, struct arm *arm, struct db *db,
    int report, struct fleet_view *out);

/*
 * fleet_from_store(cfg, db, out):
 * As fleet_expand, without ARM: the fleets' pools are those the store
 * knows (for list, history, drift, baseline, check).  0, or -1 (logged).
 */
int fleet_from_store(
    const struct config *cfg, struct db *db, struct fleet_view *out);

/*
 * fleet_adopt_stored(cfg, db):
 * Replace ${*cfg} by a configuration that also holds every pool the store
 * knows of its fleets (fleet_from_store), owning all it points to.  For
 * commands that read the store only.  0 (nothing to do without fleets),
 * or -1 (logged; ${*cfg} unchanged).
 */
int fleet_adopt_stored(struct config **cfg, struct db *db);

/*
 * fleet_cluster(v, sub, rg, cluster):
 * The cluster as the listing showed it (but its agent pools' ids and
 * etags, ""), valid until the next call on ${v}; NULL when no listing
 * showed it (or out of memory).
 */
const struct arm_cluster *fleet_cluster(const struct fleet_view *v,
    const char *sub, const char *rg, const char *cluster);

/* fleet_view_free(v): release what ${v} holds (not ${v}); zeroed is fine. */
void fleet_view_free(struct fleet_view *v);

#endif
