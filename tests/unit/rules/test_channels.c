/*
 * test_channels.c -- who changed a pool (job/rules/channels.c) and the
 * drift verdict of a baseline its cluster's channels would undo
 * (job/rules/drift.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "job/rules/channels.h"
#include "job/rules/drift.h"

#define IMG1 "AKSUbuntu-2204gen2containerd-202611.01.0"
#define IMG2 "AKSUbuntu-2204gen2containerd-202611.08.0"

static void
test_changed_by_nothing_when_nothing_changed(void **state)
{
	struct channels_seen a = {"1.30.5", IMG1, "", "NodeImage"};
	struct channels_seen b = a;

	(void)state;
	assert_null(channels_changed_by(&a, &b));
	/* Unknown versions on either side: nothing to say. */
	b.node_image_version = IMG2;
	a.node_image_version = "";
	assert_null(channels_changed_by(&a, &b));
}

static void
test_changed_by_node_image_channels(void **state)
{
	struct channels_seen a = {"1.30.5", IMG1, NULL, NULL};
	struct channels_seen b = {"1.30.5", IMG2, NULL, NULL};

	(void)state;
	/* An old cluster without channels: someone else did it. */
	assert_string_equal(channels_changed_by(&a, &b), "outside");
	a.node_os_channel = b.node_os_channel = "None";
	assert_string_equal(channels_changed_by(&a, &b), "outside");
	a.node_os_channel = b.node_os_channel = "Unmanaged";
	assert_string_equal(channels_changed_by(&a, &b), "outside");
	a.node_os_channel = b.node_os_channel = "NodeImage";
	assert_string_equal(channels_changed_by(&a, &b), "auto-upgrade");
	a.node_os_channel = b.node_os_channel = "SecurityPatch";
	assert_string_equal(channels_changed_by(&a, &b), "auto-upgrade");
	/* Either end's channel explains it (a switch re-images too). */
	a.node_os_channel = "NodeImage";
	b.node_os_channel = "None";
	assert_string_equal(channels_changed_by(&a, &b), "auto-upgrade");
	a.node_os_channel = b.node_os_channel = "None";
	a.upgrade_channel = "node-image";
	assert_string_equal(channels_changed_by(&a, &b), "auto-upgrade");
	a.upgrade_channel = "none";
	assert_string_equal(channels_changed_by(&a, &b), "outside");
}

static void
test_changed_by_kubernetes_needs_a_version_channel(void **state)
{
	struct channels_seen a = {"1.30.5", IMG1, "", "NodeImage"};
	struct channels_seen b = {"1.30.9", IMG2, "", "NodeImage"};

	(void)state;
	/* NodeImage moves images, never Kubernetes. */
	assert_string_equal(channels_changed_by(&a, &b), "outside");
	a.upgrade_channel = b.upgrade_channel = "node-image";
	assert_string_equal(channels_changed_by(&a, &b), "outside");
	a.upgrade_channel = b.upgrade_channel = "patch";
	assert_string_equal(channels_changed_by(&a, &b), "auto-upgrade");
	a.upgrade_channel = b.upgrade_channel = "stable";
	assert_string_equal(channels_changed_by(&a, &b), "auto-upgrade");
	a.upgrade_channel = b.upgrade_channel = "rapid";
	assert_string_equal(channels_changed_by(&a, &b), "auto-upgrade");
}

static void
test_drift_verdict_channel_will_drift(void **state)
{
	struct drift_facts f = {0, 0, 1, 1, "1.30.5", IMG1, "1.30.5", IMG1, 0};

	(void)state;
	assert_string_equal(drift_verdict(&f), "in-baseline");
	f.channel_undoes = 1;
	assert_string_equal(drift_verdict(&f), "channel-will-drift");
	/* Only with a baseline, and only when the pool was read. */
	f.have_base = 0;
	assert_string_equal(drift_verdict(&f), "no-baseline");
	f.have_base = 1;
	f.missing = 1;
	assert_string_equal(drift_verdict(&f), "missing");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_changed_by_nothing_when_nothing_changed),
	    cmocka_unit_test(test_changed_by_node_image_channels),
	    cmocka_unit_test(
	        test_changed_by_kubernetes_needs_a_version_channel),
	    cmocka_unit_test(test_drift_verdict_channel_will_drift),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
