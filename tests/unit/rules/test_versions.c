/*
 * test_versions.c -- ordering Kubernetes and node image versions (the
 * rules `drift` and `check` stand on).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "job/base/util.h"
#include "job/rules/versions.h"
#include "tests/unit/rules/fixture.h"

#define UBUNTU(d) "AKSUbuntu-2204gen2containerd-" d
#define AZL(d) "AKSAzureLinux-V2gen2-" d

static void
test_versions_k8s_parses_two_and_three_parts(void **state)
{
	long v[3];

	(void)state;
	assert_int_equal(versions_k8s_parse("1.30.5", v), 0);
	assert_int_equal(v[0], 1);
	assert_int_equal(v[1], 30);
	assert_int_equal(v[2], 5);
	assert_int_equal(versions_k8s_parse("v1.29", v), 0);
	assert_int_equal(v[1], 29);
	assert_int_equal(v[2], 0);
	assert_int_equal(versions_k8s_parse("1", v), -1);
	assert_int_equal(versions_k8s_parse("", v), -1);
	assert_int_equal(versions_k8s_parse("1.30.5.1", v), -1);
	assert_int_equal(versions_k8s_parse("1.30.x", v), -1);
	assert_int_equal(versions_k8s_parse("1..5", v), -1);
	assert_int_equal(versions_k8s_parse("1.30.", v), -1);
	assert_int_equal(versions_k8s_parse(NULL, v), -1);
}

static void
test_versions_k8s_compares_numerically_not_as_text(void **state)
{
	int cmp = 99;

	(void)state;
	/* As text "1.9.0" > "1.10.0"; as versions it is older. */
	assert_int_equal(versions_k8s_compare("1.9.0", "1.10.0", &cmp), 0);
	assert_int_equal(cmp, -1);
	assert_int_equal(versions_k8s_compare("1.30.10", "1.30.9", &cmp), 0);
	assert_int_equal(cmp, 1);
	assert_int_equal(versions_k8s_compare("1.30.5", "v1.30.5", &cmp), 0);
	assert_int_equal(cmp, 0);
	assert_int_equal(versions_k8s_compare("1.30", "1.30.0", &cmp), 0);
	assert_int_equal(cmp, 0);
	assert_int_equal(versions_k8s_compare("2.0.0", "1.99.99", &cmp), 0);
	assert_int_equal(cmp, 1);
	assert_int_equal(versions_k8s_compare("1.30.5", "latest", &cmp), -1);
}

static void
test_versions_image_reads_both_suffix_forms(void **state)
{
	struct versions_image v;

	(void)state;
	assert_int_equal(versions_image_parse(UBUNTU("202611.01.0"), &v), 0);
	assert_int_equal(v.year, 2026);
	assert_int_equal(v.month, 11);
	assert_int_equal(v.day, 1);
	assert_int_equal(v.build, 0);
	assert_int_equal(versions_image_parse(AZL("202610.28.3"), &v), 0);
	assert_int_equal(v.month, 10);
	assert_int_equal(v.day, 28);
	assert_int_equal(v.build, 3);
	assert_int_equal(
	    versions_image_parse("AKSUbuntu-1804gen2containerd-2021.09.11", &v),
	    0);
	assert_int_equal(v.year, 2021);
	assert_int_equal(v.month, 9);
	assert_int_equal(v.day, 11);
	assert_int_equal(v.build, 0);
	/* No dash: the whole string is the suffix. */
	assert_int_equal(versions_image_parse("202611.08.0", &v), 0);
	assert_int_equal(v.day, 8);
}

static void
test_versions_image_refuses_what_is_not_a_date(void **state)
{
	struct versions_image v;

	(void)state;
	/* Windows images carry a build, not a date. */
	assert_int_equal(
	    versions_image_parse(
	        "AKSWindows-2019-containerd-17763.2114.210811", &v),
	    -1);
	assert_int_equal(versions_image_parse(UBUNTU("202613.01.0"), &v), -1);
	assert_int_equal(versions_image_parse(UBUNTU("202602.30.0"), &v), -1);
	assert_int_equal(versions_image_parse(UBUNTU("202611.01"), &v), -1);
	assert_int_equal(versions_image_parse(UBUNTU("202611.01.0b"), &v), -1);
	assert_int_equal(versions_image_parse(UBUNTU(""), &v), -1);
	assert_int_equal(versions_image_parse("", &v), -1);
	assert_int_equal(versions_image_parse(NULL, &v), -1);
	/* Leap days exist only in leap years. */
	assert_int_equal(versions_image_parse(UBUNTU("202802.29.0"), &v), 0);
	assert_int_equal(versions_image_parse(UBUNTU("202702.29.0"), &v), -1);
}

static void
test_versions_image_date_is_midnight_utc(void **state)
{
	time_t t = 0;

	(void)state;
	assert_int_equal(versions_image_date(UBUNTU("202611.01.0"), &t), 0);
	assert_int_equal(t, T("2026-11-01T00:00:00Z"));
	assert_int_equal(
	    versions_image_date("AKSUbuntu-1804gen2containerd-2021.09.11", &t),
	    0);
	assert_int_equal(t, T("2021-09-11T00:00:00Z"));
	assert_int_equal(versions_image_date(UBUNTU("202802.29.7"), &t), 0);
	assert_int_equal(t, T("2028-02-29T00:00:00Z"));
	assert_int_equal(versions_image_date(AZL("197001.01.0"), &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(versions_image_date("garbage", &t), -1);
}

static void
test_versions_image_orders_by_date_then_build(void **state)
{
	int cmp = 99;

	(void)state;
	assert_int_equal(versions_image_compare(UBUNTU("202611.08.0"),
	                     UBUNTU("202611.01.0"), &cmp),
	    0);
	assert_int_equal(cmp, 1);
	assert_int_equal(versions_image_compare(UBUNTU("202610.28.0"),
	                     UBUNTU("202611.01.0"), &cmp),
	    0);
	assert_int_equal(cmp, -1);
	assert_int_equal(versions_image_compare(UBUNTU("202611.01.1"),
	                     UBUNTU("202611.01.0"), &cmp),
	    0);
	assert_int_equal(cmp, 1);
	/* The old form is older than the new one by date, not by digits. */
	assert_int_equal(
	    versions_image_compare("AKSUbuntu-1804gen2containerd-2021.09.11",
	        UBUNTU("202101.05.0"), &cmp),
	    0);
	assert_int_equal(cmp, 1);
	/* Same date and build, another OS: equal in order. */
	assert_int_equal(versions_image_compare(
	                     AZL("202611.01.0"), UBUNTU("202611.01.0"), &cmp),
	    0);
	assert_int_equal(cmp, 0);
	assert_int_equal(
	    versions_image_compare("x", UBUNTU("202611.01.0"), &cmp), -1);
}

static void
test_versions_drift_equal_is_in_baseline(void **state)
{
	(void)state;
	assert_int_equal(versions_drift("1.30.5", UBUNTU("202611.01.0"),
	                     "1.30.5", UBUNTU("202611.01.0")),
	    VERSIONS_IN_BASELINE);
	/* Equal strings need no parsing, even Windows images. */
	assert_int_equal(versions_drift("1.30.5", "AKSWindows-2022-x-1.2.3",
	                     "1.30.5", "AKSWindows-2022-x-1.2.3"),
	    VERSIONS_IN_BASELINE);
	assert_int_equal(versions_drift("v1.30.5", UBUNTU("202611.01.0"),
	                     "1.30.5", UBUNTU("202611.01.0")),
	    VERSIONS_IN_BASELINE);
}

static void
test_versions_drift_kubernetes_decides_before_image(void **state)
{
	(void)state;
	/* Newer Kubernetes on an older image is still ahead. */
	assert_int_equal(versions_drift("1.31.2", UBUNTU("202610.14.0"),
	                     "1.30.5", UBUNTU("202611.01.0")),
	    VERSIONS_AHEAD);
	assert_int_equal(versions_drift("1.29.9", UBUNTU("202611.08.0"),
	                     "1.30.5", UBUNTU("202611.01.0")),
	    VERSIONS_BEHIND);
}

static void
test_versions_drift_same_kubernetes_image_decides(void **state)
{
	(void)state;
	assert_int_equal(versions_drift("1.30.5", UBUNTU("202611.08.0"),
	                     "1.30.5", UBUNTU("202611.01.0")),
	    VERSIONS_AHEAD);
	assert_int_equal(versions_drift("1.30.5", UBUNTU("202610.28.0"),
	                     "1.30.5", UBUNTU("202611.01.0")),
	    VERSIONS_BEHIND);
	assert_int_equal(versions_drift("v1.30.5", UBUNTU("202611.08.0"),
	                     "1.30.5", UBUNTU("202611.01.0")),
	    VERSIONS_AHEAD);
}

static void
test_versions_drift_without_order_differs(void **state)
{
	(void)state;
	assert_int_equal(versions_drift("1.30.5", AZL("202611.01.0"), "1.30.5",
	                     UBUNTU("202611.01.0")),
	    VERSIONS_DIFFERS);
	assert_int_equal(versions_drift("1.30.5", "AKSWindows-2022-x-1.2.3",
	                     "1.30.5", UBUNTU("202611.01.0")),
	    VERSIONS_DIFFERS);
	assert_int_equal(versions_drift("latest", UBUNTU("202611.01.0"),
	                     "1.30.5", UBUNTU("202611.01.0")),
	    VERSIONS_DIFFERS);
	assert_string_equal(versions_drift_name(VERSIONS_DIFFERS), "differs");
	assert_string_equal(
	    versions_drift_name(VERSIONS_IN_BASELINE), "in-baseline");
	assert_string_equal(versions_drift_name(VERSIONS_AHEAD), "ahead");
	assert_string_equal(versions_drift_name(VERSIONS_BEHIND), "behind");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_versions_k8s_parses_two_and_three_parts),
	    cmocka_unit_test(
	        test_versions_k8s_compares_numerically_not_as_text),
	    cmocka_unit_test(test_versions_image_reads_both_suffix_forms),
	    cmocka_unit_test(test_versions_image_refuses_what_is_not_a_date),
	    cmocka_unit_test(test_versions_image_date_is_midnight_utc),
	    cmocka_unit_test(test_versions_image_orders_by_date_then_build),
	    cmocka_unit_test(test_versions_drift_equal_is_in_baseline),
	    cmocka_unit_test(
	        test_versions_drift_kubernetes_decides_before_image),
	    cmocka_unit_test(test_versions_drift_same_kubernetes_image_decides),
	    cmocka_unit_test(test_versions_drift_without_order_differs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
