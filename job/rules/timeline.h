#ifndef AKSNAP_TIMELINE_H
#define AKSNAP_TIMELINE_H

/*
 * timeline.h -- the layout arithmetic of the report's timelines: where a
 * time falls on a horizontal axis, how marks that would overlap are
 * spread over lanes, and how far apart the axis ticks go.  Pure: numbers
 * in, numbers out; the report (job/cmd/report_html.c) draws with them.
 */

#include <stddef.h>
#include <time.h>

/* A time range drawn from x0 to x1 (pixels, x0 < x1). */
struct timeline_axis {
	time_t t0, t1;
	double x0, x1;
};

/*
 * timeline_x(a, t):
 * The x of time ${t}: linear from (t0, x0) to (t1, x1), clamped to
 * [x0, x1] so that what lies outside the range sits on its edge.  An
 * empty range (t1 <= t0) puts every time at x0.
 */
double timeline_x(const struct timeline_axis *a, time_t t);

/*
 * timeline_spread(lo, hi, n, gap, max_lanes, lane):
 * Give each of ${n} marks, spanning [${lo}[i], ${hi}[i]] (a point when
 * they are equal; ordered by ${lo} ascending), a lane (0, 1, ...) in
 * ${lane}[i] such that in one lane each mark starts at least ${gap}
 * after the one before it ends: the lowest lane where it fits; when
 * none of ${max_lanes} lanes has room, the lane whose last mark ends
 * furthest left (the least overlap).  A mark keeps its x: lanes move it
 * only up or down.  Return how many lanes are used (0 for no marks).
 */
int timeline_spread(const double *lo, const double *hi, size_t n, double gap,
    int max_lanes, int *lane);

/*
 * timeline_tick_step(span, px, min_px):
 * The tick interval in seconds for ${span} seconds drawn over ${px}
 * pixels: the smallest of 1h 3h 6h 12h 1d 2d 7d 14d 30d 91d 365d whose
 * ticks are at least ${min_px} apart (365d when none is).  An empty span
 * gives 1d.
 */
long long timeline_tick_step(long long span, double px, double min_px);

#endif
