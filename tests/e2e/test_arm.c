/*
 * test_arm.c -- every blocking ARM operation of job/arm.c against the
 * emulator, through the real transport (job/http.c) and token provider
 * (job/token.c, auth = client-secret).
 *
 * Each test starts its own emulator (--generate 1:2: cluster aks-1 in rg-1
 * with pool0 and pool1; list pages of 2; long-running operations that
 * answer InProgress 3 times with Retry-After 0; --lro-headers location or
 * none for the tests of the two other polling mechanisms) and talks to it only
 * through arm_*; the emulator's control API sets up faults and reads the
 * counters that show paging and polling really happened.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "job/azure/arm.h"
#include "job/azure/http.h"
#include "job/azure/token.h"
#include "job/base/log.h"
#include "job/base/util.h"
#include "job/run/run.h"
#include "tests/e2e/harness.h"

#define RG "rg-1"
#define CLUSTER "aks-1"

struct fx {
	struct harness h;
	struct config *cfg;
	struct http_client *http;
	struct token_provider *tp;
	struct arm *arm;
	char pool0[512];
	char pool1[512];
};

static const struct arm_lro_options fast_lro = {60, 1};

static int
setup_gen(void **state, const char *generate, const char *retry_after,
    const char *lro_headers)
{
	const char *args[] = {"--generate", generate, "--page-size", "2",
	    "--lro-polls", "3", "--retry-after", retry_after, "--lro-headers",
	    lro_headers, NULL};
	struct http_options opts;
	struct fx *fx;

	fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	assert_int_equal(harness_init(&fx->h, args,
	                     "[pool:p0]\nresource_group = " RG
	                     "\ncluster = " CLUSTER "\nnodepool = pool0\n"),
	    0);
	assert_int_equal(config_load(fx->h.config, &fx->cfg), 0);
	memset(&opts, 0, sizeof(opts));
	opts.base_delay_ms = 10;
	opts.max_delay_ms = 50;
	opts.max_total_wait_ms = 2000;
	opts.timeout_s = 20;
	fx->http = http_client_new(&opts);
	assert_non_null(fx->http);
	fx->tp = run_token_provider(fx->cfg);
	assert_non_null(fx->tp);
	http_client_set_token_source(fx->http, token_source_cb, fx->tp);
	fx->arm =
	    arm_new(fx->http, fx->cfg->arm_endpoint, fx->cfg->api_version);
	assert_non_null(fx->arm);
	arm_agent_pool_id(HARNESS_SUBSCRIPTION, RG, CLUSTER, "pool0", fx->pool0,
	    sizeof(fx->pool0));
	arm_agent_pool_id(HARNESS_SUBSCRIPTION, RG, CLUSTER, "pool1", fx->pool1,
	    sizeof(fx->pool1));
	*state = fx;
	return 0;
}

static int
setup_with(void **state, const char *retry_after, const char *lro_headers)
{
	return setup_gen(state, "1:2", retry_after, lro_headers);
}

static int
setup(void **state)
{
	return setup_with(state, "0", "both");
}

/* Five clusters (aks-1 to aks-5), so that a cluster list is 3 pages. */
static int
setup_five(void **state)
{
	return setup_gen(state, "5:2", "0", "both");
}

/* Operations that ask for 2 s between polls. */
static int
setup_slow(void **state)
{
	return setup_with(state, "2", "both");
}

/* Operations announced by a Location header only (no Azure-AsyncOperation). */
static int
setup_location(void **state)
{
	return setup_with(state, "0", "location");
}

/* Operations with no header at all: the pool's provisioningState tells. */
static int
setup_no_headers(void **state)
{
	return setup_with(state, "0", "none");
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	log_set_sink(NULL, NULL);
	arm_free(fx->arm);
	token_provider_free(fx->tp);
	http_client_free(fx->http);
	config_free(fx->cfg);
	harness_fini(&fx->h);
	free(fx);
	return 0;
}

/* Log lines are captured so failures can be checked and stay quiet. */
static char last_log[4096];
static int nlogs;

static void
capture(void *ctx, const char *line)
{
	(void)ctx;
	util_strlcpy(last_log, line, sizeof(last_log));
	nlogs++;
}

static void
capture_logs(void)
{
	last_log[0] = '\0';
	nlogs = 0;
	log_set_sink(capture, NULL);
}

static void
snap_id(const char *name, char *out, size_t len)
{
	arm_snapshot_id(HARNESS_SUBSCRIPTION, RG, name, out, len);
}

/* take(fx, name, pool_id, out): PUT a snapshot of ${pool_id}. */
static void
take(struct fx *fx, const char *name, const char *pool_id,
    struct arm_snapshot *out)
{
	struct arm_tag tag;
	struct arm_error err;
	struct arm_cluster c;
	char id[512];

	memset(&tag, 0, sizeof(tag));
	strcpy(tag.key, "aksnap-managed");
	strcpy(tag.value, "true");
	assert_int_equal(arm_cluster_get(fx->arm, "t", HARNESS_SUBSCRIPTION, RG,
	                     CLUSTER, &c, &err),
	    0);
	snap_id(name, id, sizeof(id));
	assert_int_equal(arm_snapshot_put(fx->arm, "t", id, c.location, pool_id,
	                     &tag, 1, out, &err),
	    0);
	arm_cluster_free(&c);
}

static void
test_e2e_arm_cluster_get_observes_every_pool(void **state)
{
	struct fx *fx = *state;
	struct arm_cluster c;
	struct arm_error err;
	size_t i;

	assert_int_equal(arm_cluster_get(fx->arm, "p0", HARNESS_SUBSCRIPTION,
	                     RG, CLUSTER, &c, &err),
	    0);
	assert_string_equal(c.name, CLUSTER);
	assert_true(c.location[0] != '\0');
	assert_true(c.kubernetes_version[0] != '\0');
	assert_int_equal(c.npools, 2);
	assert_string_equal(c.pools[0].name, "pool0");
	assert_string_equal(c.pools[1].name, "pool1");
	assert_string_equal(c.pools[0].id, fx->pool0);
	for (i = 0; i < c.npools; i++) {
		assert_true(c.pools[i].node_image_version[0] != '\0');
		assert_true(c.pools[i].orchestrator_version[0] != '\0');
		assert_true(c.pools[i].vm_size[0] != '\0');
		assert_true(c.pools[i].os_type[0] != '\0');
		assert_true(c.pools[i].count > 0);
		assert_string_equal(c.pools[i].provisioning_state, "Succeeded");
	}
	assert_string_equal(c.pools[0].mode, "System");
	assert_int_equal(
	    emu_counter(fx->h.emu, "GET managedClusters.get 200"), 1);
	arm_cluster_free(&c);
}

static void
test_e2e_arm_agent_pool_get_and_list(void **state)
{
	struct fx *fx = *state;
	struct arm_agent_pool p, *list = NULL;
	struct arm_error err;
	size_t n = 0;

	assert_int_equal(
	    arm_agent_pool_get(fx->arm, "p0", fx->pool1, &p, &err), 0);
	assert_string_equal(p.name, "pool1");
	assert_string_equal(p.id, fx->pool1);
	assert_true(p.node_image_version[0] != '\0');
	assert_int_equal(
	    arm_agent_pool_list(fx->arm, "p0", HARNESS_SUBSCRIPTION, RG,
	        CLUSTER, &list, &n, &err),
	    0);
	assert_int_equal(n, 2);
	assert_string_equal(list[1].name, "pool1");
	assert_string_equal(list[1].node_image_version, p.node_image_version);
	free(list);
}

static void
test_e2e_arm_snapshot_put_get_patch_delete(void **state)
{
	struct fx *fx = *state;
	struct arm_snapshot s, g;
	struct arm_agent_pool p;
	struct arm_error err;
	struct arm_tag tags[2];
	int existed = -1;

	assert_int_equal(
	    arm_agent_pool_get(fx->arm, "p0", fx->pool0, &p, &err), 0);
	take(fx, "snap-a", fx->pool0, &s);
	assert_string_equal(s.name, "snap-a");
	assert_string_equal(s.source_id, fx->pool0);
	assert_string_equal(s.node_image_version, p.node_image_version);
	assert_string_equal(s.vm_size, p.vm_size);
	assert_true(s.kubernetes_version[0] != '\0');
	assert_true(s.created_at > 0);
	assert_string_equal(arm_tag_get(&s, "aksnap-managed"), "true");

	assert_int_equal(arm_snapshot_get(fx->arm, "p0", s.id, &g, &err), 0);
	assert_string_equal(g.id, s.id);
	assert_string_equal(g.node_image_version, s.node_image_version);

	memset(tags, 0, sizeof(tags));
	strcpy(tags[0].key, "aksnap-managed");
	strcpy(tags[0].value, "true");
	strcpy(tags[1].key, "aksnap-channel");
	strcpy(tags[1].value, "stable");
	assert_int_equal(
	    arm_snapshot_patch_tags(fx->arm, "p0", s.id, tags, 2, &g, &err), 0);
	assert_string_equal(arm_tag_get(&g, "aksnap-channel"), "stable");
	assert_int_equal(
	    emu_counter(fx->h.emu, "PATCH snapshots.patch 200"), 1);

	/* set_tag keeps the other tags */
	assert_int_equal(arm_snapshot_set_tag(
	                     fx->arm, "p0", s.id, "owner", "team-a", &g, &err),
	    0);
	assert_int_equal(g.ntags, 3);
	assert_string_equal(arm_tag_get(&g, "owner"), "team-a");
	assert_int_equal(arm_snapshot_set_tag(fx->arm, "p0", s.id,
	                     "aksnap-channel", NULL, &g, &err),
	    0);
	assert_null(arm_tag_get(&g, "aksnap-channel"));
	assert_string_equal(arm_tag_get(&g, "owner"), "team-a");

	assert_int_equal(
	    arm_snapshot_delete(fx->arm, "p0", s.id, &existed, &err), 0);
	assert_int_equal(existed, 1);
	assert_int_equal(
	    arm_snapshot_delete(fx->arm, "p0", s.id, &existed, &err), 0);
	assert_int_equal(existed, 0);
	assert_int_equal(
	    emu_counter(fx->h.emu, "DELETE snapshots.delete 200"), 1);
	assert_int_equal(
	    emu_counter(fx->h.emu, "DELETE snapshots.delete 204"), 1);
}

static void
test_e2e_arm_snapshot_lists_follow_next_link(void **state)
{
	struct fx *fx = *state;
	struct arm_snapshot s, *list = NULL;
	struct arm_error err;
	char name[32];
	size_t n = 0, i;
	int seen[5] = {0};

	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "snap-%zu", i);
		take(fx, name, i % 2 ? fx->pool1 : fx->pool0, &s);
	}
	emu_reset_counters(fx->h.emu);
	assert_int_equal(arm_snapshot_list(fx->arm, "p0", HARNESS_SUBSCRIPTION,
	                     RG, &list, &n, &err),
	    0);
	assert_int_equal(n, 5);
	for (i = 0; i < n; i++) {
		unsigned k;

		assert_int_equal(sscanf(list[i].name, "snap-%u", &k), 1);
		assert_true(k < 5);
		seen[k]++;
	}
	for (i = 0; i < 5; i++)
		assert_int_equal(seen[i], 1);
	/* page size 2: three pages */
	assert_int_equal(emu_counter(fx->h.emu, "GET snapshots.list 200"), 3);
	free(list);

	emu_reset_counters(fx->h.emu);
	assert_int_equal(arm_snapshot_list(fx->arm, "p0", HARNESS_SUBSCRIPTION,
	                     NULL, &list, &n, &err),
	    0);
	assert_int_equal(n, 5);
	assert_int_equal(emu_counter(fx->h.emu, "GET snapshots.list 200"), 3);
	free(list);
}

/* What arm_cluster_list_each handed over, and when. */
struct pages_seen {
	struct fx *fx;
	size_t calls, clusters;
	long lists_then[8]; /* list pages answered at each hand-over */
	size_t stop_at; /* the call that answers -1 (0: none) */
};

static int
take_page(void *arg, struct arm_cluster *c, size_t n)
{
	struct pages_seen *ps = arg;

	if (ps->calls < 8)
		ps->lists_then[ps->calls] =
		    emu_counter(ps->fx->h.emu, "GET managedClusters.list 200");
	ps->calls++;
	ps->clusters += n;
	for (size_t i = 0; i < n; i++)
		arm_cluster_free(&c[i]);
	free(c);
	return ps->calls == ps->stop_at ? -1 : 0;
}

/*
 * A cluster listing handed over a page at a time (a fleet run holds one
 * page, not the whole listing): each page before the next is asked for;
 * a sink that cannot keep one stops the listing there.
 */
static void
test_e2e_arm_cluster_list_each_hands_over_each_page(void **state)
{
	struct fx *fx = *state;
	struct pages_seen ps;
	struct arm_error err;
	size_t n = 0, pages = 0;

	memset(&ps, 0, sizeof(ps));
	ps.fx = fx;
	emu_reset_counters(fx->h.emu);
	assert_int_equal(
	    arm_cluster_list_each(fx->arm, "p0", HARNESS_SUBSCRIPTION, NULL,
	        take_page, &ps, &n, &pages, &err),
	    0);
	assert_int_equal(n, 5);
	assert_int_equal(pages, 3);
	assert_int_equal(ps.clusters, 5);
	assert_int_equal(ps.calls, 3);
	for (size_t k = 0; k < 3; k++)
		assert_int_equal(ps.lists_then[k], (long)k + 1);

	memset(&ps, 0, sizeof(ps));
	ps.fx = fx;
	ps.stop_at = 2;
	emu_reset_counters(fx->h.emu);
	assert_int_equal(
	    arm_cluster_list_each(fx->arm, "p0", HARNESS_SUBSCRIPTION, NULL,
	        take_page, &ps, &n, &pages, &err),
	    -1);
	assert_int_equal(ps.calls, 2);
	assert_int_equal(
	    emu_counter(fx->h.emu, "GET managedClusters.list 200"), 2);
}

static void
test_e2e_arm_pool_upgrade_to_snapshot_polls_the_lro(void **state)
{
	struct fx *fx = *state;
	struct arm_snapshot s;
	struct arm_agent_pool base, out;
	struct arm_error err;

	take(fx, "snap-up", fx->pool0, &s);
	assert_int_equal(
	    arm_agent_pool_get(fx->arm, "p1", fx->pool1, &base, &err), 0);
	emu_reset_counters(fx->h.emu);
	assert_int_equal(arm_agent_pool_put_from_snapshot(fx->arm, "p1",
	                     fx->pool1, &base, &s, NULL, &fast_lro, &out, &err),
	    0);
	assert_string_equal(out.name, "pool1");
	assert_string_equal(out.provisioning_state, "Succeeded");
	assert_string_equal(out.creation_source_id, s.id);
	assert_string_equal(out.node_image_version, s.node_image_version);
	assert_string_equal(out.orchestrator_version, s.kubernetes_version);
	/* 3 polls InProgress, then the one that says Succeeded */
	assert_true(emu_counter(fx->h.emu, "GET operations.get 200") >= 4);
	assert_int_equal(emu_counter(fx->h.emu, "PUT agentPools.put"), 1);
}

/*
 * upgrade_both(fx, s): move pool1 to ${s} (a snapshot of pool0) and run
 * pool0's node image upgrade to ${s}, checking each lands on its versions.
 * Counters are reset before each call; ${counts}[0] and [1] get the value
 * of ${key} after each.
 */
static void
upgrade_both(struct fx *fx, const struct arm_snapshot *s, const char *key,
    long counts[2])
{
	struct arm_agent_pool base, out;
	struct arm_error err;

	assert_int_equal(
	    arm_agent_pool_get(fx->arm, "p1", fx->pool1, &base, &err), 0);
	emu_reset_counters(fx->h.emu);
	assert_int_equal(arm_agent_pool_put_from_snapshot(fx->arm, "p1",
	                     fx->pool1, &base, s, NULL, &fast_lro, &out, &err),
	    0);
	assert_string_equal(out.provisioning_state, "Succeeded");
	assert_string_equal(out.creation_source_id, s->id);
	assert_string_equal(out.node_image_version, s->node_image_version);
	assert_string_equal(out.orchestrator_version, s->kubernetes_version);
	assert_int_equal(emu_counter(fx->h.emu, "GET operations.get"), 0);
	counts[0] = emu_counter(fx->h.emu, key);

	emu_reset_counters(fx->h.emu);
	assert_int_equal(arm_agent_pool_upgrade_node_image(fx->arm, "p0",
	                     fx->pool0, s->id, &fast_lro, &out, &err),
	    0);
	assert_string_equal(out.provisioning_state, "Succeeded");
	assert_string_equal(out.node_image_version, s->node_image_version);
	assert_int_equal(emu_counter(fx->h.emu, "GET operations.get"), 0);
	counts[1] = emu_counter(fx->h.emu, key);
}

static void
test_e2e_arm_lro_polls_location_without_async_operation(void **state)
{
	struct fx *fx = *state;
	struct arm_snapshot s;
	long polls[2];

	take(fx, "snap-loc", fx->pool0, &s);
	upgrade_both(fx, &s, "GET operationresults.get", polls);
	/* 3 answers 202, then the one that says done */
	assert_true(polls[0] >= 4);
	assert_true(polls[1] >= 4);
	assert_int_equal(
	    emu_counter(fx->h.emu, "GET operationresults.get 202"), 3);
}

static void
test_e2e_arm_lro_polls_provisioning_state_without_headers(void **state)
{
	struct fx *fx = *state;
	struct arm_snapshot s;
	long polls[2];

	take(fx, "snap-none", fx->pool0, &s);
	upgrade_both(fx, &s, "GET agentPools.get", polls);
	/* 3 GETs still upgrading, one Succeeded, and the final read */
	assert_true(polls[0] >= 4);
	assert_true(polls[1] >= 4);
	assert_int_equal(emu_counter(fx->h.emu, "GET operationresults.get"), 0);
}

static void
test_e2e_arm_pool_create_from_snapshot(void **state)
{
	struct fx *fx = *state;
	struct arm_snapshot s;
	struct arm_agent_pool out;
	struct arm_error err;
	char id[512];

	take(fx, "snap-new", fx->pool1, &s);
	arm_agent_pool_id(
	    HARNESS_SUBSCRIPTION, RG, CLUSTER, "pool9", id, sizeof(id));
	assert_int_equal(arm_agent_pool_create_from_snapshot(fx->arm, "p9", id,
	                     &s, NULL, 2, &fast_lro, &out, &err),
	    0);
	assert_string_equal(out.name, "pool9");
	assert_int_equal(out.count, 2);
	assert_string_equal(out.vm_size, s.vm_size);
	assert_string_equal(out.node_image_version, s.node_image_version);
	assert_string_equal(out.creation_source_id, s.id);
	assert_string_equal(out.provisioning_state, "Succeeded");
}

static void
test_e2e_arm_upgrade_node_image_honours_snapshot_id(void **state)
{
	struct fx *fx = *state;
	struct arm_snapshot s;
	struct arm_agent_pool out;
	struct arm_error err;
	json_t *r;

	take(fx, "snap-img", fx->pool0, &s);
	/* a newer image exists: upgrading without a snapshot takes it */
	r = emu_post(fx->h.emu, "/_armemu/release", "{\"apply\":false}");
	assert_non_null(r);
	json_decref(r);
	assert_int_equal(arm_agent_pool_upgrade_node_image(fx->arm, "p0",
	                     fx->pool0, NULL, &fast_lro, &out, &err),
	    0);
	assert_string_not_equal(out.node_image_version, s.node_image_version);
	assert_string_equal(out.provisioning_state, "Succeeded");
	/* with AKSSnapshotId: the snapshot's image */
	assert_int_equal(arm_agent_pool_upgrade_node_image(fx->arm, "p0",
	                     fx->pool0, s.id, &fast_lro, &out, &err),
	    0);
	assert_string_equal(out.node_image_version, s.node_image_version);
	assert_int_equal(
	    emu_counter(fx->h.emu, "POST agentPools.upgradeNodeImageVersion"),
	    2);
}

static void
test_e2e_arm_failed_lro_reports_the_operation_error(void **state)
{
	struct fx *fx = *state;
	struct arm_snapshot s;
	struct arm_agent_pool base, out;
	struct arm_error err;

	take(fx, "snap-fail", fx->pool0, &s);
	assert_int_equal(
	    arm_agent_pool_get(fx->arm, "p1", fx->pool1, &base, &err), 0);
	assert_true(emu_fault(fx->h.emu,
	                "{\"method\":\"PUT\",\"path\":\"*/agentPools/pool1\","
	                "\"action\":\"lro_fail\",\"error_code\":"
	                "\"ReconcileVMSSAgentPoolFailed\"}") > 0);
	capture_logs();
	assert_int_equal(arm_agent_pool_put_from_snapshot(fx->arm, "p1",
	                     fx->pool1, &base, &s, NULL, &fast_lro, &out, &err),
	    -1);
	log_set_sink(NULL, NULL);
	assert_string_equal(err.code, "ReconcileVMSSAgentPoolFailed");
	assert_true(err.message[0] != '\0');
	assert_int_equal(nlogs, 1);
	assert_non_null(strstr(last_log, "p1"));
	assert_non_null(strstr(last_log, "PUT "));
	assert_non_null(strstr(last_log, "ReconcileVMSSAgentPoolFailed"));
}

static void
test_e2e_arm_lro_past_its_deadline_fails(void **state)
{
	struct fx *fx = *state;
	const struct arm_lro_options short_lro = {1, 1};
	struct arm_agent_pool out;
	struct arm_error err;
	json_t *r;

	/* a newer image, so that the upgrade has work to do */
	r = emu_post(fx->h.emu, "/_armemu/release", "{\"apply\":false}");
	assert_non_null(r);
	json_decref(r);
	capture_logs();
	assert_int_equal(arm_agent_pool_upgrade_node_image(fx->arm, "p0",
	                     fx->pool0, NULL, &short_lro, &out, &err),
	    -1);
	log_set_sink(NULL, NULL);
	assert_non_null(strstr(err.message, "still running after 1 s"));
	assert_int_equal(nlogs, 1);
	assert_non_null(strstr(last_log, "upgradeNodeImageVersion"));
	/* Retry-After (2 s) was cut to the deadline: one poll at most */
	assert_true(emu_counter(fx->h.emu, "GET operations.get") <= 1);
}

static void
test_e2e_arm_404_and_409_carry_code_and_request_ids(void **state)
{
	struct fx *fx = *state;
	struct arm_snapshot s;
	struct arm_agent_pool out;
	struct arm_error err;
	char id[512];
	json_t *r;

	snap_id("no-such-snapshot", id, sizeof(id));
	capture_logs();
	assert_int_equal(arm_snapshot_get(fx->arm, "p0", id, &s, &err), -1);
	assert_int_equal(err.status, 404);
	assert_true(err.code[0] != '\0');
	assert_true(err.message[0] != '\0');
	assert_true(err.request_id[0] != '\0');
	assert_true(err.correlation_id[0] != '\0');
	assert_int_equal(nlogs, 1);
	assert_non_null(strstr(last_log, "404"));
	assert_non_null(strstr(last_log, err.request_id));

	r = emu_post(fx->h.emu, "/_armemu/pools/busy",
	    "{\"resourceGroup\":\"" RG "\",\"cluster\":\"" CLUSTER
	    "\",\"pool\":\"pool0\",\"busy\":true}");
	assert_non_null(r);
	json_decref(r);
	capture_logs();
	assert_int_equal(arm_agent_pool_upgrade_node_image(fx->arm, "p0",
	                     fx->pool0, NULL, &fast_lro, &out, &err),
	    -1);
	log_set_sink(NULL, NULL);
	assert_int_equal(err.status, 409);
	assert_true(err.code[0] != '\0');
	assert_true(err.request_id[0] != '\0');
	assert_int_equal(nlogs, 1);
}

static void
test_e2e_arm_html_or_truncated_body_is_a_clear_error(void **state)
{
	struct fx *fx = *state;
	struct arm_snapshot s, g, *list = NULL;
	struct arm_error err;
	size_t n = 0;

	take(fx, "snap-html", fx->pool0, &s);
	assert_true(
	    emu_fault(fx->h.emu,
	        "{\"method\":\"GET\",\"path\":\"*/snapshots/snap-html\","
	        "\"action\":\"garbage\",\"status\":400}") > 0);
	capture_logs();
	assert_int_equal(arm_snapshot_get(fx->arm, "p0", s.id, &g, &err), -1);
	assert_int_equal(err.status, 400);
	assert_non_null(strstr(err.message, "non-JSON response"));
	assert_non_null(strstr(err.message, "502 Bad Gateway"));
	assert_int_equal(nlogs, 1);

	/* a 200 whose body is HTML: unreadable, never a crash */
	assert_true(
	    emu_fault(fx->h.emu,
	        "{\"method\":\"GET\",\"path\":\"*/snapshots/snap-html\","
	        "\"action\":\"garbage\",\"status\":200}") > 0);
	assert_int_equal(arm_snapshot_get(fx->arm, "p0", s.id, &g, &err), -1);
	assert_int_equal(err.status, 200);
	assert_non_null(strstr(err.message, "unreadable response"));

	assert_true(emu_fault(fx->h.emu,
	                "{\"method\":\"GET\",\"path\":\"*/snapshots\","
	                "\"action\":\"truncated\"}") > 0);
	assert_int_equal(arm_snapshot_list(fx->arm, "p0", HARNESS_SUBSCRIPTION,
	                     RG, &list, &n, &err),
	    -1);
	log_set_sink(NULL, NULL);
	assert_null(list);
	assert_int_equal(n, 0);
	assert_non_null(strstr(err.message, "not JSON"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_e2e_arm_cluster_get_observes_every_pool, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_e2e_arm_agent_pool_get_and_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_e2e_arm_snapshot_put_get_patch_delete, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_e2e_arm_snapshot_lists_follow_next_link, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_e2e_arm_cluster_list_each_hands_over_each_page, setup_five,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_e2e_arm_pool_upgrade_to_snapshot_polls_the_lro, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_e2e_arm_lro_polls_location_without_async_operation,
	        setup_location, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_e2e_arm_lro_polls_provisioning_state_without_headers,
	        setup_no_headers, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_e2e_arm_pool_create_from_snapshot, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_e2e_arm_upgrade_node_image_honours_snapshot_id, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_e2e_arm_failed_lro_reports_the_operation_error, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_e2e_arm_lro_past_its_deadline_fails, setup_slow, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_e2e_arm_404_and_409_carry_code_and_request_ids, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_e2e_arm_html_or_truncated_body_is_a_clear_error, setup,
	        teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
