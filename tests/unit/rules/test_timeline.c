/*
 * test_timeline.c -- the report's layout arithmetic (job/rules/timeline.c)
 * and the drift verdict that `drift` and `report` share
 * (job/rules/drift.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "job/rules/drift.h"
#include "job/rules/timeline.h"

#define DAY 86400

static void
test_timeline_x_is_linear_between_the_ends(void **state)
{
	struct timeline_axis a = {1000, 1000 + 10 * DAY, 100.0, 1100.0};

	(void)state;
	assert_float_equal(timeline_x(&a, 1000), 100.0, 1e-9);
	assert_float_equal(timeline_x(&a, 1000 + 10 * DAY), 1100.0, 1e-9);
	assert_float_equal(timeline_x(&a, 1000 + 5 * DAY), 600.0, 1e-9);
	assert_float_equal(timeline_x(&a, 1000 + DAY), 200.0, 1e-9);
	/* one hour is a tenth of a day's 100 px, over 24 */
	assert_float_equal(
	    timeline_x(&a, 1000 + 3600), 100.0 + 100.0 / 24, 1e-9);
}

static void
test_timeline_x_clamps_outside_the_range(void **state)
{
	struct timeline_axis a = {1000, 2000, 10.0, 20.0};

	(void)state;
	assert_float_equal(timeline_x(&a, 0), 10.0, 1e-9);
	assert_float_equal(timeline_x(&a, 999), 10.0, 1e-9);
	assert_float_equal(timeline_x(&a, 2001), 20.0, 1e-9);
	assert_float_equal(timeline_x(&a, 1 << 30), 20.0, 1e-9);
}

static void
test_timeline_x_empty_range_is_the_left_edge(void **state)
{
	struct timeline_axis same = {5000, 5000, 40.0, 400.0};
	struct timeline_axis reversed = {6000, 5000, 40.0, 400.0};

	(void)state;
	assert_float_equal(timeline_x(&same, 5000), 40.0, 1e-9);
	assert_float_equal(timeline_x(&same, 9000), 40.0, 1e-9);
	assert_float_equal(timeline_x(&reversed, 5500), 40.0, 1e-9);
}

static void
test_timeline_spread_keeps_apart_marks_in_one_lane(void **state)
{
	double x[] = {0, 10, 20, 30.5};
	int lane[4] = {-1, -1, -1, -1};

	(void)state;
	assert_int_equal(timeline_spread(x, x, 4, 10.0, 4, lane), 1);
	for (int i = 0; i < 4; i++)
		assert_int_equal(lane[i], 0);
}

static void
test_timeline_spread_stacks_overlapping_marks(void **state)
{
	/* Three marks on one spot, then one clear of them, then one that
	 * overlaps only the last of the three. */
	double x[] = {100, 100, 100, 130, 134};
	int lane[5];

	(void)state;
	assert_int_equal(timeline_spread(x, x, 5, 8.0, 4, lane), 3);
	assert_int_equal(lane[0], 0);
	assert_int_equal(lane[1], 1);
	assert_int_equal(lane[2], 2);
	assert_int_equal(lane[3], 0); /* room again in the first lane */
	assert_int_equal(lane[4], 1); /* 4 px after lane 0's mark */
}

static void
test_timeline_spread_over_the_limit_overlaps_least(void **state)
{
	double x[] = {50, 51, 52, 53};
	int lane[4];

	(void)state;
	assert_int_equal(timeline_spread(x, x, 4, 10.0, 2, lane), 2);
	assert_int_equal(lane[0], 0);
	assert_int_equal(lane[1], 1);
	/* no lane has room: the one whose last mark is leftmost */
	assert_int_equal(lane[2], 0);
	assert_int_equal(lane[3], 1);
}

static void
test_timeline_spread_keeps_overlapping_spans_apart(void **state)
{
	/* Soak bars: 100-170 and 120-190 overlap; 175-250 starts after
	 * the first ends (gap 4); 180-181 fits neither lane 0 nor 1. */
	double lo[] = {100, 120, 175, 180};
	double hi[] = {170, 190, 250, 181};
	int lane[4];

	(void)state;
	assert_int_equal(timeline_spread(lo, hi, 4, 4.0, 4, lane), 3);
	assert_int_equal(lane[0], 0);
	assert_int_equal(lane[1], 1);
	assert_int_equal(lane[2], 0);
	assert_int_equal(lane[3], 2);
}

static void
test_timeline_spread_no_marks_no_lanes(void **state)
{
	int lane[1] = {-7};

	(void)state;
	assert_int_equal(timeline_spread(NULL, NULL, 0, 10.0, 3, lane), 0);
	assert_int_equal(lane[0], -7);
}

static void
test_timeline_tick_step_fits_the_width(void **state)
{
	(void)state;
	/* a month over 900 px: a day is 30 px, two days 60 */
	assert_int_equal(timeline_tick_step(30LL * DAY, 900, 25), DAY);
	assert_int_equal(timeline_tick_step(30LL * DAY, 900, 50), 2 * DAY);
	assert_int_equal(timeline_tick_step(30LL * DAY, 900, 100), 7 * DAY);
	/* a day over 960 px: an hour is 40 px */
	assert_int_equal(timeline_tick_step(DAY, 960, 40), 3600);
	/* ten years over 100 px: nothing fits, the widest step */
	assert_int_equal(
	    timeline_tick_step(3650LL * DAY, 100, 50), 365LL * DAY);
	/* empty */
	assert_int_equal(timeline_tick_step(0, 900, 50), DAY);
	assert_int_equal(timeline_tick_step(-5, 900, 50), DAY);
}

static void
test_drift_verdict_orders_what_is_known(void **state)
{
	struct drift_facts f;

	(void)state;
	memset(&f, 0, sizeof(f));
	assert_string_equal(drift_verdict(&f), "unknown");
	f.have_live = 1;
	f.live_k8s = "1.30.5";
	f.live_image = "AKSUbuntu-2204gen2containerd-202611.08.0";
	assert_string_equal(drift_verdict(&f), "no-baseline");
	f.have_base = 1;
	f.base_k8s = "1.30.5";
	f.base_image = "AKSUbuntu-2204gen2containerd-202611.01.0";
	assert_string_equal(drift_verdict(&f), "ahead");
	f.base_image = f.live_image;
	assert_string_equal(drift_verdict(&f), "in-baseline");
	f.base_k8s = "1.31.2";
	assert_string_equal(drift_verdict(&f), "behind");
	f.missing = 1;
	assert_string_equal(drift_verdict(&f), "missing");
	f.unknown = 1;
	assert_string_equal(drift_verdict(&f), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_timeline_x_is_linear_between_the_ends),
	    cmocka_unit_test(test_timeline_x_clamps_outside_the_range),
	    cmocka_unit_test(test_timeline_x_empty_range_is_the_left_edge),
	    cmocka_unit_test(
	        test_timeline_spread_keeps_apart_marks_in_one_lane),
	    cmocka_unit_test(test_timeline_spread_stacks_overlapping_marks),
	    cmocka_unit_test(
	        test_timeline_spread_over_the_limit_overlaps_least),
	    cmocka_unit_test(
	        test_timeline_spread_keeps_overlapping_spans_apart),
	    cmocka_unit_test(test_timeline_spread_no_marks_no_lanes),
	    cmocka_unit_test(test_timeline_tick_step_fits_the_width),
	    cmocka_unit_test(test_drift_verdict_orders_what_is_known),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
