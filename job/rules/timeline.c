/*
 * timeline.c -- the report's layout arithmetic (timeline.h).
 *
 * Marks are spread vertically, never moved sideways: on an audit page a
 * mark's x is its time, and a promotion drawn a day late would be a lie.
 * So marks that fall close together stack in lanes, greedily from the
 * left (the interval-partitioning rule, which uses the fewest lanes for
 * marks of equal width); beyond the lane limit they overlap the least
 * crowded lane.
 */
#include "job/rules/timeline.h"

#define TIMELINE_MAX_LANES 16

double
timeline_x(const struct timeline_axis *a, time_t t)
{
	double f;

	if (a->t1 <= a->t0)
		return a->x0;
	if (t <= a->t0)
		return a->x0;
	if (t >= a->t1)
		return a->x1;
	f = (double)(t - a->t0) / (double)(a->t1 - a->t0);
	return a->x0 + f * (a->x1 - a->x0);
}

int
timeline_spread(const double *lo, const double *hi, size_t n, double gap,
    int max_lanes, int *lane)
{
	double end[TIMELINE_MAX_LANES] = {0};
	int used = 0;

	if (max_lanes < 1)
		max_lanes = 1;
	if (max_lanes > TIMELINE_MAX_LANES)
		max_lanes = TIMELINE_MAX_LANES;
	for (size_t i = 0; i < n; i++) {
		int k, best = 0;

		for (k = 0; k < used; k++)
			if (lo[i] - end[k] >= gap)
				break;
		if (k == used && used < max_lanes) {
			used++;
		} else if (k == used) {
			for (k = 1; k < used; k++)
				if (end[k] < end[best])
					best = k;
			k = best;
		}
		end[k] = hi[i] > lo[i] ? hi[i] : lo[i];
		lane[i] = k;
	}
	return used;
}

long long
timeline_tick_step(long long span, double px, double min_px)
{
	static const long long steps[] = {3600, 3 * 3600, 6 * 3600, 12 * 3600,
	    86400, 2 * 86400, 7 * 86400, 14 * 86400, 30 * 86400, 91 * 86400,
	    365 * 86400};
	size_t n = sizeof(steps) / sizeof(steps[0]);

	if (span <= 0 || px <= 0)
		return 86400;
	for (size_t i = 0; i < n; i++)
		if ((double)steps[i] / (double)span * px >= min_px)
			return steps[i];
	return steps[n - 1];
}
