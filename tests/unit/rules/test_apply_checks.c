/*
 * test_apply_checks.c -- the refusals of `aksnap apply`: VM families,
 * Kubernetes and node image comparisons, the 90-day window, the state,
 * and which upgrade path an accepted apply takes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "job/base/util.h"
#include "job/rules/apply_checks.h"
#include "job/rules/versions.h"
#include "tests/unit/rules/fixture.h"

static void
assert_family(const char *size, const char *want)
{
	char fam[64];

	if (apply_vm_family(size, fam, sizeof(fam)) != 0)
		fail_msg("no family for %s", size);
	if (strcmp(fam, want) != 0)
		fail_msg("%s: family %s, want %s", size, fam, want);
}

static void
test_apply_vm_family_ignores_vcpu_count_only(void **state)
{
	char fam[64];

	(void)state;
	assert_family("Standard_D4s_v5", "ds_v5");
	assert_family("Standard_D8s_v5", "ds_v5");
	assert_family("Standard_D16s_v5", "ds_v5");
	assert_family("standard_d2S_V5", "ds_v5");
	assert_family("Standard_E4s_v5", "es_v5");
	assert_family("Standard_D4ds_v5", "dds_v5");
	assert_family("Standard_D4s_v4", "ds_v4");
	assert_family("Standard_DS2_v2", "ds_v2");
	assert_family("Standard_E4-2s_v5", "es_v5");
	assert_family("Standard_NC24ads_A100_v4", "ncads_a100_v4");
	assert_family("Basic_A1", "a");
	assert_int_equal(apply_vm_family("Standard_Dsv", fam, sizeof(fam)), -1);
	assert_int_equal(apply_vm_family("", fam, sizeof(fam)), -1);
	assert_int_equal(apply_vm_family("Standard_4", fam, sizeof(fam)), -1);
	assert_int_equal(apply_vm_family("Standard_D4s_v5", fam, 4), -1);
}

static void
test_apply_kube_cmp_is_numeric(void **state)
{
	int c;

	(void)state;
	assert_int_equal(versions_k8s_compare("1.30.5", "1.29.9", &c), 0);
	assert_true(c > 0);
	assert_int_equal(versions_k8s_compare("1.9.0", "1.10.0", &c), 0);
	assert_true(c < 0);
	assert_int_equal(versions_k8s_compare("1.30.10", "1.30.9", &c), 0);
	assert_true(c > 0);
	assert_int_equal(versions_k8s_compare("v1.30.5", "1.30.5", &c), 0);
	assert_int_equal(c, 0);
	assert_int_equal(versions_k8s_compare("1.30", "1.30.0", &c), 0);
	assert_int_equal(c, 0);
	assert_int_equal(versions_k8s_compare("1.30.5", "", &c), -1);
	assert_int_equal(versions_k8s_compare("1", "1.30.5", &c), -1);
	assert_int_equal(versions_k8s_compare("1.30.5-rc1", "1.30.5", &c), -1);
	assert_int_equal(versions_k8s_compare("1.2.3.4", "1.2.3", &c), -1);
}

static void
test_apply_image_date_reads_every_known_shape(void **state)
{
	time_t d;
	long rev;

	(void)state;
	assert_int_equal(
	    apply_image_date(
	        "AKSUbuntu-2204gen2containerd-202611.01.0", &d, &rev),
	    0);
	assert_int_equal(d, T("2026-11-01T00:00:00Z"));
	assert_int_equal(rev, 0);
	assert_int_equal(
	    apply_image_date("AKSAzureLinux-V2gen2-202610.28.3", &d, &rev), 0);
	assert_int_equal(d, T("2026-10-28T00:00:00Z"));
	assert_int_equal(rev, 3);
	assert_int_equal(
	    apply_image_date(
	        "AKSUbuntu-1804gen2containerd-2021.09.11", &d, &rev),
	    0);
	assert_int_equal(d, T("2021-09-11T00:00:00Z"));
	assert_int_equal(
	    apply_image_date(
	        "AKSWindows-2022-containerd-20348.2227.240104", &d, &rev),
	    0);
	assert_int_equal(d, T("2024-01-04T00:00:00Z"));
	/* Nothing that looks like a date, or an impossible one. */
	assert_int_equal(
	    apply_image_date("AKSUbuntu:1604:latest", &d, &rev), -1);
	assert_int_equal(apply_image_date("", &d, &rev), -1);
	assert_int_equal(apply_image_date("X-202613.01.0", &d, &rev), -1);
	assert_int_equal(apply_image_date("X-202602.30.0", &d, &rev), -1);
	assert_int_equal(apply_image_date("X-2026110.01.0", &d, &rev), -1);
	assert_int_equal(apply_image_date("X-202802.29.0", &d, &rev), 0);
}

static void
test_apply_pool_name_follows_arm_pattern(void **state)
{
	(void)state;
	assert_true(apply_pool_name_ok("a"));
	assert_true(apply_pool_name_ok("np2"));
	assert_true(apply_pool_name_ok("abcdefghijkl"));
	assert_false(apply_pool_name_ok(""));
	assert_false(apply_pool_name_ok("abcdefghijklm"));
	assert_false(apply_pool_name_ok("2pool"));
	assert_false(apply_pool_name_ok("Pool"));
	assert_false(apply_pool_name_ok("po-ol"));
}

/* The versions the target's location offers (kubernetesVersions). */
static const char *const offered[] = {
    "1.29.9", "1.29.12", "1.30.5", "1.30.9", "1.31.2"};

/* staging's baseline applied to an older production pool. */
static struct apply_check_input
base_input(void)
{
	struct apply_check_input in;

	memset(&in, 0, sizeof(in));
	in.snapshot.kubernetes_version = "1.30.5";
	in.snapshot.node_image_version =
	    "AKSUbuntu-2204gen2containerd-202611.01.0";
	in.snapshot.vm_size = "Standard_D4s_v5";
	in.snapshot.os_type = "Linux";
	in.target.kubernetes_version = "1.29.9";
	in.target.node_image_version =
	    "AKSUbuntu-2204gen2containerd-202610.14.0";
	in.target.vm_size = "Standard_D16s_v5";
	in.target.os_type = "Linux";
	in.state = "active";
	in.as_of = T("2026-11-20T00:00:00Z");
	in.snapshot_location = "westeurope";
	in.target_location = "westeurope";
	in.supported = offered;
	in.nsupported = sizeof(offered) / sizeof(offered[0]);
	in.supported_known = 1;
	in.control_plane_version = "1.30.5";
	return in;
}

static int
nrefused(const struct apply_verdict *v)
{
	int n = 0;

	for (int i = 0; i < APPLY_CHECK__COUNT; i++)
		n += v->checks[i].outcome == APPLY_REFUSE;
	return n;
}

static void
test_apply_accepts_newer_snapshot_of_same_family(void **state)
{
	struct apply_check_input in = base_input();
	struct apply_verdict v;

	(void)state;
	apply_checks_run(&in, &v);
	assert_false(v.refused);
	assert_int_equal(nrefused(&v), 0);
	assert_false(v.node_image_only);
	for (int i = 0; i < APPLY_CHECK__COUNT; i++)
		assert_int_equal(v.checks[i].outcome, APPLY_PASS);
	assert_non_null(
	    strstr(v.checks[APPLY_CHECK_NEWER].reason, "1.29.9 -> 1.30.5"));
}

static void
test_apply_refuses_different_vm_family(void **state)
{
	struct apply_check_input in = base_input();
	struct apply_verdict v;

	(void)state;
	in.target.vm_size = "Standard_E4s_v5";
	apply_checks_run(&in, &v);
	assert_true(v.refused);
	assert_int_equal(nrefused(&v), 1);
	assert_int_equal(v.checks[APPLY_CHECK_FAMILY].outcome, APPLY_REFUSE);
	assert_non_null(
	    strstr(v.checks[APPLY_CHECK_FAMILY].reason, "different VM family"));
	assert_non_null(
	    strstr(v.checks[APPLY_CHECK_FAMILY].reason, "Standard_E4s_v5"));
	/* A different generation is a different family too. */
	in = base_input();
	in.target.vm_size = "Standard_D4s_v4";
	apply_checks_run(&in, &v);
	assert_int_equal(v.checks[APPLY_CHECK_FAMILY].outcome, APPLY_REFUSE);
}

static void
test_apply_refuses_other_os_type(void **state)
{
	struct apply_check_input in = base_input();
	struct apply_verdict v;

	(void)state;
	in.target.os_type = "Windows";
	apply_checks_run(&in, &v);
	assert_true(v.refused);
	assert_int_equal(v.checks[APPLY_CHECK_OS].outcome, APPLY_REFUSE);
}

static void
test_apply_refuses_fips_mismatch(void **state)
{
	struct apply_check_input in = base_input();
	struct apply_verdict v;

	(void)state;
	in.target.enable_fips = 1;
	apply_checks_run(&in, &v);
	assert_true(v.refused);
	assert_int_equal(nrefused(&v), 1);
	assert_int_equal(v.checks[APPLY_CHECK_FIPS].outcome, APPLY_REFUSE);
	in.snapshot.enable_fips = 1;
	apply_checks_run(&in, &v);
	assert_false(v.refused);
}

static void
test_apply_refuses_snapshot_not_newer(void **state)
{
	struct apply_check_input in = base_input();
	struct apply_verdict v;

	(void)state;
	/* Older Kubernetes: a downgrade. */
	in.target.kubernetes_version = "1.31.2";
	apply_checks_run(&in, &v);
	assert_int_equal(v.checks[APPLY_CHECK_NEWER].outcome, APPLY_REFUSE);
	assert_non_null(strstr(
	    v.checks[APPLY_CHECK_NEWER].reason, "Kubernetes 1.30.5 is older"));

	/* Newer Kubernetes but an older node image. */
	in = base_input();
	in.target.node_image_version =
	    "AKSUbuntu-2204gen2containerd-202611.08.0";
	apply_checks_run(&in, &v);
	assert_int_equal(v.checks[APPLY_CHECK_NEWER].outcome, APPLY_REFUSE);
	assert_non_null(
	    strstr(v.checks[APPLY_CHECK_NEWER].reason, "node image"));

	/* The same in both: already there, nothing to send, no refusal. */
	in = base_input();
	in.target.kubernetes_version = "1.30.5";
	in.target.node_image_version = in.snapshot.node_image_version;
	apply_checks_run(&in, &v);
	assert_int_equal(v.checks[APPLY_CHECK_NEWER].outcome, APPLY_PASS);
	assert_int_equal(v.at_baseline, 1);
	assert_non_null(strstr(
	    v.checks[APPLY_CHECK_NEWER].reason, "already at this baseline"));

	/* Same Kubernetes, same release day of another OS SKU. */
	in.target.node_image_version = "AKSAzureLinux-V2gen2-202611.01.0";
	apply_checks_run(&in, &v);
	assert_int_equal(v.checks[APPLY_CHECK_NEWER].outcome, APPLY_REFUSE);
	assert_non_null(
	    strstr(v.checks[APPLY_CHECK_NEWER].reason, "same release"));
	assert_int_equal(v.at_baseline, 0);

	/* A later revision of the same day is newer. */
	in.target.node_image_version =
	    "AKSUbuntu-2204gen2containerd-202610.31.0";
	in.snapshot.node_image_version =
	    "AKSUbuntu-2204gen2containerd-202610.31.1";
	apply_checks_run(&in, &v);
	assert_int_equal(v.checks[APPLY_CHECK_NEWER].outcome, APPLY_PASS);

	/* Unreadable versions are refused, not guessed. */
	in = base_input();
	in.target.node_image_version = "AKSUbuntu:1604:latest";
	apply_checks_run(&in, &v);
	assert_int_equal(v.checks[APPLY_CHECK_NEWER].outcome, APPLY_REFUSE);
	in = base_input();
	in.target.kubernetes_version = "";
	apply_checks_run(&in, &v);
	assert_int_equal(v.checks[APPLY_CHECK_NEWER].outcome, APPLY_REFUSE);
}

static void
test_apply_same_kubernetes_takes_node_image_path(void **state)
{
	struct apply_check_input in = base_input();
	struct apply_verdict v;

	(void)state;
	in.target.kubernetes_version = "1.30.5";
	apply_checks_run(&in, &v);
	assert_false(v.refused);
	assert_true(v.node_image_only);
}

static void
test_apply_refuses_image_outside_90_day_window(void **state)
{
	struct apply_check_input in = base_input();
	struct apply_verdict v;

	(void)state;
	/* Released 2026-11-01: 90 days later is still fine ... */
	in.as_of = T("2027-01-30T23:59:59Z");
	apply_checks_run(&in, &v);
	assert_int_equal(v.checks[APPLY_CHECK_WINDOW].outcome, APPLY_PASS);
	/* ... 91 days later is not. */
	in.as_of = T("2027-01-31T00:00:01Z");
	apply_checks_run(&in, &v);
	assert_true(v.refused);
	assert_int_equal(v.checks[APPLY_CHECK_WINDOW].outcome, APPLY_REFUSE);
	assert_non_null(strstr(v.checks[APPLY_CHECK_WINDOW].reason, "90-day"));
	assert_non_null(
	    strstr(v.checks[APPLY_CHECK_WINDOW].reason, "2026-11-01"));
	/* No date to judge: refused. */
	in = base_input();
	in.snapshot.node_image_version = "custom-image";
	apply_checks_run(&in, &v);
	assert_int_equal(v.checks[APPLY_CHECK_WINDOW].outcome, APPLY_REFUSE);
}

static void
test_apply_refuses_snapshot_not_active(void **state)
{
	static const char *const bad[] = {
	    "creating", "deleting", "deleted", "failed", "missing", ""};
	struct apply_check_input in = base_input();
	struct apply_verdict v;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		in.state = bad[i];
		apply_checks_run(&in, &v);
		assert_true(v.refused);
		assert_int_equal(nrefused(&v), 1);
		assert_int_equal(
		    v.checks[APPLY_CHECK_STATE].outcome, APPLY_REFUSE);
	}
	in.state = NULL;
	apply_checks_run(&in, &v);
	assert_int_equal(v.checks[APPLY_CHECK_STATE].outcome, APPLY_REFUSE);
}

static void
test_apply_create_skips_pool_comparisons(void **state)
{
	struct apply_check_input in = base_input();
	struct apply_verdict v;

	(void)state;
	in.create = 1;
	in.target.vm_size = "Standard_E4s_v5";
	in.target.kubernetes_version = "1.31.2";
	in.target.os_type = "Windows";
	in.target.enable_fips = 1;
	apply_checks_run(&in, &v);
	assert_false(v.refused);
	assert_int_equal(
	    v.checks[APPLY_CHECK_FAMILY].outcome, APPLY_NOT_APPLICABLE);
	assert_int_equal(
	    v.checks[APPLY_CHECK_NEWER].outcome, APPLY_NOT_APPLICABLE);
	assert_int_equal(
	    v.checks[APPLY_CHECK_OS].outcome, APPLY_NOT_APPLICABLE);
	assert_int_equal(
	    v.checks[APPLY_CHECK_FIPS].outcome, APPLY_NOT_APPLICABLE);
	/* The window and the state still apply. */
	in.as_of = T("2027-06-01T00:00:00Z");
	apply_checks_run(&in, &v);
	assert_int_equal(v.checks[APPLY_CHECK_WINDOW].outcome, APPLY_REFUSE);
	assert_string_equal(apply_check_name(APPLY_CHECK_WINDOW), "image-age");
	assert_string_equal(apply_outcome_name(APPLY_NOT_APPLICABLE), "n/a");
}

static void
test_apply_refuses_another_region_unless_cross_region(void **state)
{
	struct apply_check_input in = base_input();
	struct apply_verdict v;
	const char *r;

	(void)state;
	in.target_location = "northeurope";
	apply_checks_run(&in, &v);
	assert_true(v.refused);
	assert_int_equal(nrefused(&v), 1);
	r = v.checks[APPLY_CHECK_REGION].reason;
	assert_non_null(strstr(r, "westeurope"));
	assert_non_null(strstr(r, "northeurope"));
	assert_non_null(strstr(r, "--cross-region"));
	in.cross_region = 1;
	apply_checks_run(&in, &v);
	assert_false(v.refused);
	assert_non_null(strstr(v.checks[APPLY_CHECK_REGION].reason,
	    "snapshot in westeurope, target in northeurope"));
	/* Case does not matter; an unknown location refuses. */
	in.cross_region = 0;
	in.target_location = "WestEurope";
	apply_checks_run(&in, &v);
	assert_false(v.refused);
	in.target_location = "";
	apply_checks_run(&in, &v);
	assert_int_equal(v.checks[APPLY_CHECK_REGION].outcome, APPLY_REFUSE);
}

static void
test_apply_refuses_kubernetes_not_offered_in_location(void **state)
{
	struct apply_check_input in = base_input();
	struct apply_verdict v;
	static const char *const fewer[] = {"1.30.9", "1.31.2"};

	(void)state;
	in.supported = fewer;
	in.nsupported = 2;
	apply_checks_run(&in, &v);
	assert_true(v.refused);
	assert_int_equal(nrefused(&v), 1);
	assert_int_equal(v.checks[APPLY_CHECK_SUPPORTED].outcome, APPLY_REFUSE);
	assert_non_null(strstr(v.checks[APPLY_CHECK_SUPPORTED].reason,
	    "Kubernetes 1.30.5 is not offered in westeurope"));
	/* A minor x.y matches any of its patches, not another minor's. */
	in.snapshot.kubernetes_version = "1.30";
	apply_checks_run(&in, &v);
	assert_int_equal(v.checks[APPLY_CHECK_SUPPORTED].outcome, APPLY_PASS);
	in.snapshot.kubernetes_version = "1.3";
	apply_checks_run(&in, &v);
	assert_int_equal(v.checks[APPLY_CHECK_SUPPORTED].outcome, APPLY_REFUSE);
	/* Not read: refused, never assumed. */
	in.snapshot.kubernetes_version = "1.30.9";
	in.supported_known = 0;
	apply_checks_run(&in, &v);
	assert_int_equal(v.checks[APPLY_CHECK_SUPPORTED].outcome, APPLY_REFUSE);
}

static void
test_apply_refuses_kubernetes_outside_control_plane_skew(void **state)
{
	struct apply_check_input in = base_input();
	struct apply_verdict v;

	(void)state;
	/* Above the control plane. */
	in.control_plane_version = "1.29.9";
	apply_checks_run(&in, &v);
	assert_int_equal(v.checks[APPLY_CHECK_SKEW].outcome, APPLY_REFUSE);
	assert_non_null(strstr(v.checks[APPLY_CHECK_SKEW].reason,
	    "1.30.5 is newer than the control plane's 1.29.9"));
	/* Three minors behind from 1.28 on; two before. */
	in.control_plane_version = "1.33.1";
	apply_checks_run(&in, &v);
	assert_int_equal(v.checks[APPLY_CHECK_SKEW].outcome, APPLY_PASS);
	in.control_plane_version = "1.34.0";
	apply_checks_run(&in, &v);
	assert_int_equal(v.checks[APPLY_CHECK_SKEW].outcome, APPLY_REFUSE);
	assert_non_null(strstr(v.checks[APPLY_CHECK_SKEW].reason,
	    "more than 3 minors below the control plane's 1.34.0"));
	assert_int_equal(apply_skew_minors("1.27.9"), 2);
	assert_int_equal(apply_skew_minors("1.28.0"), 3);
	assert_int_equal(apply_skew_minors("2.0.0"), 3);
	/* A new cluster takes the snapshot's version. */
	in.new_cluster = 1;
	apply_checks_run(&in, &v);
	assert_int_equal(
	    v.checks[APPLY_CHECK_SKEW].outcome, APPLY_NOT_APPLICABLE);
}

static void
test_apply_older_image_is_a_rollback_only_with_allow_older(void **state)
{
	struct apply_check_input in = base_input();
	struct apply_verdict v;

	(void)state;
	in.target.kubernetes_version = "1.30.5";
	in.target.node_image_version =
	    "AKSUbuntu-2204gen2containerd-202611.08.0";
	apply_checks_run(&in, &v);
	assert_true(v.refused);
	assert_false(v.rollback);
	assert_non_null(
	    strstr(v.checks[APPLY_CHECK_NEWER].reason, "--allow-older"));
	in.allow_older = 1;
	apply_checks_run(&in, &v);
	assert_false(v.refused);
	assert_true(v.rollback);
	assert_true(v.node_image_only);
	assert_non_null(strstr(v.checks[APPLY_CHECK_NEWER].reason, "rollback"));
	/* Every other guard still holds. */
	in.target_location = "northeurope";
	apply_checks_run(&in, &v);
	assert_true(v.refused);
	/* An older Kubernetes is never a rollback AKS does. */
	in.target_location = "westeurope";
	in.target.kubernetes_version = "1.30.9";
	apply_checks_run(&in, &v);
	assert_true(v.refused);
	assert_false(v.rollback);
	assert_non_null(
	    strstr(v.checks[APPLY_CHECK_NEWER].reason, "never downgrades"));
}

static void
test_apply_channels_that_undo_the_pin(void **state)
{
	struct apply_check_input in = base_input();
	struct apply_verdict v;
	char why[256];

	(void)state;
	assert_false(apply_channels_undo_pin(NULL, NULL, why, sizeof(why)));
	assert_false(apply_channels_undo_pin("", "", why, sizeof(why)));
	assert_false(apply_channels_undo_pin("none", "None", why, sizeof(why)));
	assert_false(
	    apply_channels_undo_pin("none", "Unmanaged", why, sizeof(why)));
	assert_true(apply_channels_undo_pin("", "NodeImage", why, sizeof(why)));
	assert_non_null(strstr(why, "nodeOSUpgradeChannel NodeImage"));
	assert_non_null(strstr(why, "None or Unmanaged"));
	assert_true(
	    apply_channels_undo_pin(NULL, "SecurityPatch", why, sizeof(why)));
	assert_true(apply_channels_undo_pin("patch", "None", why, sizeof(why)));
	assert_non_null(strstr(why, "upgradeChannel patch"));
	assert_non_null(strstr(why, "to none"));
	assert_true(
	    apply_channels_undo_pin("node-image", NULL, why, sizeof(why)));
	/* without a reason asked, the same answers */
	assert_false(apply_channels_undo_pin("none", "Unmanaged", NULL, 0));
	assert_false(apply_channels_undo_pin(NULL, NULL, NULL, 0));
	assert_true(apply_channels_undo_pin("", "NodeImage", NULL, 0));
	assert_true(apply_channels_undo_pin("patch", "None", NULL, 0));

	in.node_os_channel = "NodeImage";
	apply_checks_run(&in, &v);
	assert_true(v.refused);
	assert_int_equal(nrefused(&v), 1);
	assert_non_null(strstr(
	    v.checks[APPLY_CHECK_CHANNEL].reason, "--ignore-upgrade-channel"));
	in.ignore_upgrade_channel = 1;
	apply_checks_run(&in, &v);
	assert_false(v.refused);
	assert_non_null(strstr(
	    v.checks[APPLY_CHECK_CHANNEL].reason, "--ignore-upgrade-channel"));
	assert_string_equal(
	    apply_check_name(APPLY_CHECK_CHANNEL), "upgrade-channel");
	assert_string_equal(apply_check_name(APPLY_CHECK_REGION), "region");
	assert_string_equal(
	    apply_check_name(APPLY_CHECK_SUPPORTED), "k8s-supported");
	assert_string_equal(apply_check_name(APPLY_CHECK_SKEW), "k8s-skew");
}

static void
test_apply_result_matches_names_expected_and_actual(void **state)
{
	char why[512];

	(void)state;
	assert_int_equal(
	    apply_result_matches("1.30.5",
	        "AKSUbuntu-2204gen2containerd-202611.01.0", "1.30.5",
	        "AKSUbuntu-2204gen2containerd-202611.01.0", why, sizeof(why)),
	    1);
	/* numeric, as AKS may spell it */
	assert_int_equal(apply_result_matches("1.30.5", "img-1", "v1.30.5",
	                     "img-1", why, sizeof(why)),
	    1);
	assert_int_equal(apply_result_matches("1.30.5", "img-1", "1.30.5",
	                     "img-2", why, sizeof(why)),
	    0);
	assert_string_equal(why, "expected node image img-1, got img-2");
	assert_int_equal(apply_result_matches("1.30.5", "img-1", "1.29.9",
	                     "img-1", why, sizeof(why)),
	    0);
	assert_string_equal(why, "expected Kubernetes 1.30.5, got 1.29.9");
	assert_int_equal(apply_result_matches("1.30.5", "img-1", "1.29.9",
	                     "img-2", why, sizeof(why)),
	    0);
	assert_string_equal(why,
	    "expected Kubernetes 1.30.5 and node image img-1, got Kubernetes "
	    "1.29.9 and node image img-2");
	/* an answer without versions proves nothing */
	assert_int_equal(
	    apply_result_matches("1.30.5", "img-1", "", "", why, sizeof(why)),
	    0);
	assert_non_null(strstr(why, "(none)"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_apply_vm_family_ignores_vcpu_count_only),
	    cmocka_unit_test(test_apply_kube_cmp_is_numeric),
	    cmocka_unit_test(test_apply_image_date_reads_every_known_shape),
	    cmocka_unit_test(test_apply_pool_name_follows_arm_pattern),
	    cmocka_unit_test(test_apply_accepts_newer_snapshot_of_same_family),
	    cmocka_unit_test(test_apply_refuses_different_vm_family),
	    cmocka_unit_test(test_apply_refuses_other_os_type),
	    cmocka_unit_test(test_apply_refuses_fips_mismatch),
	    cmocka_unit_test(test_apply_refuses_snapshot_not_newer),
	    cmocka_unit_test(test_apply_same_kubernetes_takes_node_image_path),
	    cmocka_unit_test(test_apply_refuses_image_outside_90_day_window),
	    cmocka_unit_test(test_apply_refuses_snapshot_not_active),
	    cmocka_unit_test(test_apply_create_skips_pool_comparisons),
	    cmocka_unit_test(
	        test_apply_refuses_another_region_unless_cross_region),
	    cmocka_unit_test(
	        test_apply_refuses_kubernetes_not_offered_in_location),
	    cmocka_unit_test(
	        test_apply_refuses_kubernetes_outside_control_plane_skew),
	    cmocka_unit_test(
	        test_apply_older_image_is_a_rollback_only_with_allow_older),
	    cmocka_unit_test(test_apply_channels_that_undo_the_pin),
	    cmocka_unit_test(
	        test_apply_result_matches_names_expected_and_actual),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
