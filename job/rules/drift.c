/*
 * drift.c -- the drift verdict (drift.h).
 *
 * What can be said is said in order of how much is known: nothing read,
 * a pool that is gone, a pool with nothing to compare against, and only
 * then the comparison of versions (versions_drift).
 */
#include "job/rules/drift.h"

#include "job/rules/versions.h"

const char *
drift_verdict(const struct drift_facts *f)
{
	if (f->unknown)
		return "unknown";
	if (f->missing)
		return "missing";
	if (!f->have_live)
		return "unknown";
	if (!f->have_base)
		return "no-baseline";
	if (f->channel_undoes)
		return "channel-will-drift";
	return versions_drift_name(versions_drift(
	    f->live_k8s, f->live_image, f->base_k8s, f->base_image));
}
