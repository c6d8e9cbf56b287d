/*
 * test_config.c -- aksnap.ini parsing, resolution and validation.
 *
 * Each test writes a small INI file into a private temporary directory and
 * loads it with config_load_errors(), so the file under test is right there
 * in the test.  Error tests check that the message names the file, the line,
 * the [section] and the key.
 */
/* cmocka.h needs these before it. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "config/config_internal.h"
#include "job/base/log.h"

#define SUB0 "00000000-0000-0000-0000-000000000000"
#define SUB1 "11111111-1111-1111-1111-111111111111"

static char tmpdir[256];
static char path[PATH_MAX];
static char errs[16384];

/* A pool section that is complete, for tests about something else. */
#define POOL_OK(name, np)                                                      \
	"[pool:" name "]\n"                                                    \
	"resource_group = rg\n"                                                \
	"cluster = aks\n"                                                      \
	"nodepool = " np "\n"

static int
group_setup(void **state)
{
	const char *base = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/aksnap-config-XXXXXX",
	    base != NULL ? base : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/aksnap.ini", tmpdir);
	unsetenv("CREDENTIALS_DIRECTORY");
	return 0;
}

static int
group_teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
write_file(const char *p, const char *text, mode_t mode)
{
	FILE *f;

	unlink(p);
	f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(p, mode), 0);
}

/* Write ${text} as the config file and load it. */
static int
load(const char *text, struct config **c)
{
	*c = NULL;
	errs[0] = '\0';
	write_file(path, text, 0644);
	return config_load_errors(path, c, errs, sizeof(errs));
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		if (*s == '\n')
			n++;
	return n;
}

/* The errors hold "path:line: where" (where = "[section] key:"). */
static void
assert_error(int line, const char *where)
{
	char want[PATH_MAX + 256];

	snprintf(want, sizeof(want), "%s:%d: %s", path, line, where);
	if (strstr(errs, want) == NULL)
		fail_msg("expected \"%s\" in:\n%s", want, errs);
}

/* Load ${text}, expect failure with exactly one error at line/where. */
static void
assert_one_error(const char *text, int line, const char *where)
{
	struct config *c = NULL;

	assert_int_equal(load(text, &c), -1);
	assert_null(c);
	assert_error(line, where);
	if (count_lines(errs) != 1)
		fail_msg("expected one error, got:\n%s", errs);
}

static void
assert_loads(const char *text, struct config **c)
{
	if (load(text, c) != 0)
		fail_msg("unexpected errors:\n%s", errs);
	assert_non_null(*c);
}

static const char full[] = "; a full configuration\n"
                           "[aksnap]\n"
                           "database = /tmp/aksnap-test.db\n"
                           "subscription = " SUB0 "\n"
                           "auth = workload-identity\n"
                           "tenant = contoso.onmicrosoft.com\n"
                           "client_id = 22222222-2222-2222-2222-222222222222\n"
                           "arm_endpoint = http://127.0.0.1:8443/\n"
                           "authority_host = http://localhost:8443\n"
                           "imds_endpoint = http://169.254.169.254\n"
                           "api_version = 2025-01-02-preview\n"
                           "max_parallel = 16\n"
                           "request_timeout = 2m\n"
                           "metrics_file = /tmp/aksnap.prom\n"
                           "name_prefix = snap\n"
                           "timezone = UTC\n"
                           "\n"
                           "[pool:web]\n" /* 18 */
                           "subscription = " SUB1 "\n"
                           "resource_group = rg-web\n"
                           "cluster = aks-prod\n"
                           "nodepool = web\n"
                           "policy = prod\n"
                           "keep_daily = 30\n"
                           "\n"
                           "[pool:sys]\n" /* 26 */
                           "resource_group = rg-web\n"
                           "cluster = aks-prod\n"
                           "nodepool = system\n"
                           "\n"
                           "[policy:prod]\n" /* 31: after the pools using it */
                           "schedule = @every 6h\n"
                           "snapshot_when = always\n"
                           "keep_daily = 14\n"
                           "keep_weekly = 8\n"
                           "keep_within = 1d12h\n"
                           "promote_after = never\n"
                           "channel = prod\n"
                           "\n"
                           "[policy:default]\n"
                           "keep_last = 5\n"
                           "warn_image_age = 60d\n";

static void
test_config_loads_full_file_and_resolves_policies(void **state)
{
	struct config *c = NULL;
	const struct pool_conf *web, *sys;

	(void)state;
	assert_loads(full, &c);
	assert_string_equal(c->path, path);
	assert_string_equal(c->database, "/tmp/aksnap-test.db");
	assert_int_equal(c->auth, AUTH_WORKLOAD_IDENTITY);
	assert_string_equal(c->tenant, "contoso.onmicrosoft.com");
	/* A trailing slash is dropped so callers can append paths. */
	assert_string_equal(c->arm_endpoint, "http://127.0.0.1:8443");
	assert_string_equal(c->api_version, "2025-01-02-preview");
	assert_int_equal(c->max_parallel, 16);
	assert_int_equal(c->request_timeout, 120);
	assert_string_equal(c->name_prefix, "snap");
	assert_int_equal(c->npolicies, 2);
	assert_int_equal(c->npools, 2);

	web = config_find_pool(c, "web");
	assert_non_null(web);
	assert_int_equal(web->line, 18);
	assert_string_equal(web->subscription, SUB1);
	assert_string_equal(web->resource_group, "rg-web");
	assert_string_equal(web->cluster, "aks-prod");
	assert_string_equal(web->nodepool, "web");
	assert_string_equal(web->policy_name, "prod");
	assert_string_equal(web->policy->name, "prod");
	/* defaults < [policy:prod] < the pool's own keys */
	assert_int_equal(web->policy->keep_daily, 30); /* pool */
	assert_int_equal(web->policy->keep_weekly, 8); /* policy */
	assert_int_equal(web->policy->keep_monthly, 6); /* built-in */
	assert_int_equal(
	    web->policy->keep_last, 3); /* built-in, not default's */
	assert_int_equal(web->policy->keep_within, 36 * 3600);
	assert_true(web->policy->promote_after == PROMOTE_NEVER);
	assert_int_equal(web->policy->snapshot_when, WHEN_ALWAYS);
	assert_string_equal(web->policy->schedule, "@every 6h");
	assert_string_equal(web->policy->channel, "prod");

	/* No "policy =": [policy:default], and the [aksnap] subscription. */
	sys = config_find_pool(c, "sys");
	assert_non_null(sys);
	assert_string_equal(sys->subscription, SUB0);
	assert_string_equal(sys->policy_name, "default");
	assert_int_equal(sys->policy->keep_last, 5);
	assert_int_equal(sys->policy->warn_image_age, 60 * 86400);
	assert_int_equal(sys->policy->keep_daily, 7);
	assert_string_equal(sys->policy->schedule, "0 2 * * *");
	assert_int_equal(sys->policy->snapshot_when, WHEN_CHANGED);

	assert_null(config_find_pool(c, "nope"));
	config_free(c);
}

static void
test_config_defaults_apply_without_policy_sections(void **state)
{
	struct config *c = NULL;
	const struct policy *pol;

	(void)state;
	assert_loads(POOL_OK("a", "np") "subscription = " SUB0 "\n", &c);
	assert_string_equal(c->database, "/var/lib/aksnap/aksnap.db");
	assert_int_equal(c->auth, AUTH_AUTO);
	assert_string_equal(c->arm_endpoint, "https://management.azure.com");
	assert_string_equal(
	    c->authority_host, "https://login.microsoftonline.com");
	assert_string_equal(c->imds_endpoint, "http://169.254.169.254");
	assert_string_equal(c->api_version, "2026-08-01");
	assert_int_equal(c->max_parallel, 8);
	assert_int_equal(c->request_timeout, 60);
	assert_string_equal(c->name_prefix, "aksnap");
	assert_string_equal(c->timezone, "UTC");
	assert_non_null(c->tz);
	assert_string_equal(tz_name(c->tz), "UTC");
	assert_int_equal(c->npools, 1);
	assert_string_equal(c->pools[0].policy_name, "");
	pol = c->pools[0].policy;
	assert_string_equal(pol->name, "");
	assert_string_equal(pol->schedule, "0 2 * * *");
	assert_int_equal(pol->snapshot_when, WHEN_CHANGED);
	assert_int_equal(pol->keep_last, 3);
	assert_int_equal(pol->keep_hourly, 0);
	assert_int_equal(pol->keep_daily, 7);
	assert_int_equal(pol->keep_weekly, 4);
	assert_int_equal(pol->keep_monthly, 6);
	assert_int_equal(pol->keep_yearly, 0);
	assert_int_equal(pol->keep_within, 2 * 86400);
	assert_int_equal(pol->min_keep, 2);
	assert_int_equal(pol->max_delete_per_run, 10);
	assert_int_equal(pol->promote_after, 7 * 86400);
	assert_string_equal(pol->channel, "stable");
	assert_int_equal(pol->keep_promoted, 2);
	assert_int_equal(pol->warn_baseline_age, 30 * 86400);
	assert_int_equal(pol->warn_image_age, 75 * 86400);
	config_free(c);
}

static void
test_config_empty_value_means_default_and_comments_are_stripped(void **state)
{
	struct config *c = NULL;

	(void)state;
	assert_loads("\xEF\xBB\xBF[aksnap]\n"
	             "ca_file =\n"
	             "max_parallel = 4 ; four at a time\n"
	             "# a comment\n"
	             "   ; an indented comment\n"
	             "name_prefix =   ; empty, so the default\n"
	             "  subscription = " SUB0 "\n" /* indentation is ignored */
	             "  timezone = UTC\n"
	             "[pool:a]\n"
	             "resource_group=rg\n"
	             "cluster:aks\n"
	             "nodepool = np\n"
	             "keep_daily =\n",
	    &c);
	assert_string_equal(c->ca_file, "");
	assert_int_equal(c->max_parallel, 4);
	assert_string_equal(c->name_prefix, "aksnap");
	assert_string_equal(c->subscription, SUB0);
	assert_string_equal(c->pools[0].cluster, "aks");
	assert_int_equal(c->pools[0].policy->keep_daily, 7);
	config_free(c);
}

static void
test_config_reads_values_longer_than_inih_buffer(void **state)
{
	char text[2048];
	char id[600];
	struct config *c = NULL;

	(void)state;
	snprintf(id, sizeof(id),
	    "/subscriptions/" SUB0 "/resourceGroups/%0*d/providers/"
	    "Microsoft.ManagedIdentity/userAssignedIdentities/%0*d",
	    90, 0, 120, 0);
	snprintf(text, sizeof(text),
	    "[aksnap]\nauth = managed-identity\nmsi_res_id = %s ; long\n"
	    "subscription = " SUB0 "\n" POOL_OK("a", "np"),
	    id);
	assert_true(strlen(id) > 250);
	assert_loads(text, &c);
	assert_string_equal(c->msi_res_id, id);
	config_free(c);
}

static void
test_config_rejects_unknown_section(void **state)
{
	(void)state;
	assert_one_error("[aksnap]\nsubscription = " SUB0 "\n"
	                 "[pools:web]\nresource_group = rg\n",
	    3, "[pools:web]: unknown section");
}

static void
test_config_rejects_unknown_key(void **state)
{
	(void)state;
	assert_one_error("[aksnap]\nsubscription = " SUB0
	                 "\n" POOL_OK("web", "np") "keep_dialy = 7\n",
	    7, "[pool:web] keep_dialy: unknown key");
	/* A key of another section says where it belongs. */
	assert_one_error("[aksnap]\nkeep_daily = 7\n", 2,
	    "[aksnap] keep_daily: unknown key; it belongs in [policy:NAME]");
	assert_one_error("subscription = " SUB0 "\n", 1,
	    "subscription: set before any [section]");
}

static void
test_config_rejects_bad_duration(void **state)
{
	(void)state;
	assert_one_error("[policy:p]\nkeep_within = 2 days\n", 2,
	    "[policy:p] keep_within: expected a duration");
	assert_one_error("[policy:p]\npromote_after = later\n", 2,
	    "[policy:p] promote_after: expected a duration");
	assert_one_error("[aksnap]\nrequest_timeout = 0s\n", 2,
	    "[aksnap] request_timeout: expected a duration like 90s, 15m, "
	    "6h, 2d or 1w, from 1s to 1h, got \"0s\"");
}

static void
test_config_accepts_promote_after_never(void **state)
{
	struct config *c = NULL;

	(void)state;
	assert_loads("[policy:hand]\npromote_after = never\n", &c);
	assert_int_equal(c->npolicies, 1);
	assert_true(c->policies[0].promote_after == PROMOTE_NEVER);
	config_free(c);
}

static void
test_config_reads_channel_ladders_and_enabled(void **state)
{
	struct config *c = NULL;
	const struct policy *pol;

	(void)state;
	assert_loads(
	    "[aksnap]\nsubscription = " SUB0 "\n"
	    "[policy:l]\nchannels = canary:1d stable:7d\n" POOL_OK(
	        "a", "a") "policy = l\n" POOL_OK("b",
	        "b") "policy = l\nchannel = prod\nenabled = no\n" POOL_OK("c",
	        "c"),
	    &c);
	pol = config_find_pool(c, "a")->policy;
	assert_int_equal(pol->channels.n, 2);
	assert_string_equal(pol->channels.rung[0].channel, "canary");
	assert_int_equal(pol->channels.rung[0].soak, 86400);
	assert_string_equal(pol->channels.rung[1].channel, "stable");
	assert_int_equal(pol->channels.rung[1].soak, 7 * 86400);
	/* the default channel of baseline, drift, apply: the last rung */
	assert_string_equal(pol->channel, "stable");
	assert_int_equal(pol->paused, 0);
	/* the pool's one-rung form overrides its policy's ladder */
	pol = config_find_pool(c, "b")->policy;
	assert_int_equal(pol->channels.n, 1);
	assert_string_equal(pol->channels.rung[0].channel, "prod");
	assert_int_equal(pol->channels.rung[0].soak, 7 * 86400);
	assert_int_equal(pol->paused, 1);
	/* the built-in one-rung ladder stable:7d */
	pol = config_find_pool(c, "c")->policy;
	assert_int_equal(pol->channels.n, 1);
	assert_string_equal(pol->channels.rung[0].channel, "stable");
	assert_int_equal(pol->paused, 0);
	config_free(c);
}

static void
test_config_rejects_both_channel_forms_in_one_section(void **state)
{
	(void)state;
	assert_one_error("[policy:p]\nchannel = stable\n"
	                 "channels = canary:1d stable:7d\n",
	    3, "[policy:p] channels: set with channel (line 2) in one section");
	assert_one_error("[policy:p]\nchannels = canary:1d stable:7d\n"
	                 "promote_after = 2d\n",
	    3,
	    "[policy:p] channels: set with promote_after (line 3) in one "
	    "section");
	assert_one_error("[policy:p]\nchannels = canary stable:7d\n", 2,
	    "[policy:p] channels: expected rungs CHANNEL:SOAK");
	assert_one_error("[policy:p]\nchannels = canary:1d canary:7d\n", 2,
	    "[policy:p] channels: channel canary appears twice");
	assert_one_error("[policy:p]\nchannels = canary:soon\n", 2,
	    "[policy:p] channels: channel canary: expected a soak");
	assert_one_error("[policy:p]\nenabled = perhaps\n", 2,
	    "[policy:p] enabled: expected yes, no");
}

static void
test_config_rejects_bad_number(void **state)
{
	(void)state;
	assert_one_error("[aksnap]\nsubscription = " SUB0
	                 "\n" POOL_OK("web", "np") "keep_daily = seven\n",
	    7,
	    "[pool:web] keep_daily: expected a whole number 0-100000, got "
	    "\"seven\"");
	assert_one_error("[policy:p]\nkeep_last = 3.5\n", 2,
	    "[policy:p] keep_last: expected a whole number");
}

static void
test_config_rejects_out_of_range_values(void **state)
{
	struct config *c = NULL;

	(void)state;
	assert_one_error("[aksnap]\nmax_parallel = 0\n", 2,
	    "[aksnap] max_parallel: expected a whole number 1-256, got \"0\"");
	assert_one_error("[aksnap]\nmax_parallel = 257\n", 2,
	    "[aksnap] max_parallel: expected a whole number 1-256");
	assert_one_error("[policy:p]\nkeep_daily = -1\n", 2,
	    "[policy:p] keep_daily: expected a whole number 0-100000");
	assert_one_error("[policy:p]\nmin_keep = -2\n", 2,
	    "[policy:p] min_keep: expected a whole number 0-100000");
	assert_one_error("[policy:p]\nmax_delete_per_run = 100001\n", 2,
	    "[policy:p] max_delete_per_run: expected a whole number");
	/* keep_promoted is bounded by the promoted history retention reads
	 * (LIMIT_KEEP_PROMOTED): 100000 was accepted and only 64 honoured. */
	assert_one_error("[policy:p]\nkeep_promoted = 100000\n", 2,
	    "[policy:p] keep_promoted: expected a whole number 0-64");
	assert_loads("[policy:p]\nkeep_promoted = 64\n", &c);
	assert_int_equal(c->policies[0].keep_promoted, 64);
	config_free(c);
	assert_loads("[aksnap]\nmax_parallel = 256\n", &c);
	assert_int_equal(c->max_parallel, 256);
	config_free(c);
}

static void
test_config_rejects_bad_enums(void **state)
{
	(void)state;
	assert_one_error("[aksnap]\nauth = password\n", 2,
	    "[aksnap] auth: expected auto, managed-identity, client-secret, "
	    "client-certificate, workload-identity or azure-cli, got "
	    "\"password\"");
	assert_one_error("[policy:p]\nsnapshot_when = sometimes\n", 2,
	    "[policy:p] snapshot_when: expected always or changed");
}

static void
test_config_accepts_every_auth_name(void **state)
{
	static const char *names[] = {"auto", "managed-identity",
	    "client-secret", "client-certificate", "workload-identity",
	    "azure-cli"};
	char text[256];
	struct config *c = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(text, sizeof(text), "[aksnap]\nauth = %s\n", names[i]);
		assert_loads(text, &c);
		assert_string_equal(config_auth_name(c->auth), names[i]);
		config_free(c);
	}
}

static void
test_config_rejects_names_arm_refuses(void **state)
{
	(void)state;
	assert_one_error("[aksnap]\nsubscription = " SUB0 "\n"
	                 "[pool:a]\nresource_group = rg\ncluster = aks\n"
	                 "nodepool = User1\n",
	    6, "[pool:a] nodepool: expected an agent pool name");
	assert_one_error("[aksnap]\nsubscription = " SUB0 "\n"
	                 "[pool:a]\nresource_group = rg\ncluster = aks\n"
	                 "nodepool = abcdefghijklm\n",
	    6, "[pool:a] nodepool: expected an agent pool name");
	assert_one_error("[aksnap]\nsubscription = " SUB0 "\n"
	                 "[pool:a]\nresource_group = rg\ncluster = -aks\n"
	                 "nodepool = np\n",
	    5, "[pool:a] cluster: expected a cluster name");
	assert_one_error("[aksnap]\nsubscription = " SUB0 "\n"
	                 "[pool:a]\nresource_group = rg web\ncluster = aks\n"
	                 "nodepool = np\n",
	    4, "[pool:a] resource_group: expected a resource group name");
	assert_one_error("[aksnap]\nsubscription = " SUB0 "\n"
	                 "[pool:a]\nresource_group = rg.\ncluster = aks\n"
	                 "nodepool = np\n",
	    4, "[pool:a] resource_group: expected a resource group name");
	assert_one_error("[aksnap]\nsubscription = not-a-uuid\n", 2,
	    "[aksnap] subscription: expected a UUID");
	assert_one_error("[pool:has space]\n", 1,
	    "[pool:has space]: expected a pool name of 1-63 letters");
	assert_one_error(
	    "[policy:a/b]\n", 1, "[policy:a/b]: expected a policy name");
}

static void
test_config_accepts_names_arm_accepts(void **state)
{
	struct config *c = NULL;

	(void)state;
	assert_loads("[aksnap]\nsubscription = " SUB0 "\n"
	             "[pool:x.y_z-1]\n"
	             "resource_group = My_RG-(1).x\n"
	             "cluster = A\n"
	             "nodepool = a1234567890b\n",
	    &c);
	assert_string_equal(c->pools[0].key, "x.y_z-1");
	assert_string_equal(c->pools[0].resource_group, "My_RG-(1).x");
	config_free(c);
}

static void
test_config_rejects_bad_name_prefix(void **state)
{
	(void)state;
	assert_one_error("[aksnap]\nname_prefix = -snap\n", 2,
	    "[aksnap] name_prefix: expected 1-20 letters");
	assert_one_error("[aksnap]\nname_prefix = snap.shot\n", 2,
	    "[aksnap] name_prefix: expected 1-20 letters");
	assert_one_error("[aksnap]\nname_prefix = abcdefghijklmnopqrstu\n", 2,
	    "[aksnap] name_prefix: expected 1-20 letters");
}

static void
test_config_rejects_pool_without_required_keys(void **state)
{
	struct config *c = NULL;

	(void)state;
	assert_int_equal(load("[aksnap]\nsubscription = " SUB0 "\n"
	                      "[pool:a]\ncluster = aks\n",
	                     &c),
	    -1);
	assert_error(3, "[pool:a] resource_group: missing");
	assert_error(3, "[pool:a] nodepool: missing");
	assert_int_equal(count_lines(errs), 2);
}

static void
test_config_rejects_pool_without_subscription(void **state)
{
	(void)state;
	assert_one_error("[aksnap]\n" POOL_OK("a", "np"), 2,
	    "[pool:a] subscription: missing, and [aksnap] sets no default");
}

static void
test_config_rejects_pool_naming_unknown_policy(void **state)
{
	(void)state;
	assert_one_error("[aksnap]\nsubscription = " SUB0 "\n"
	                 "[policy:fast]\n" POOL_OK("a", "np") "policy = slow\n",
	    8, "[pool:a] policy: no [policy:slow] section");
}

static void
test_config_rejects_same_node_pool_twice(void **state)
{
	(void)state;
	/* ARM names are case-insensitive: these are one node pool. */
	assert_one_error("[aksnap]\nsubscription = " SUB0 "\n"
	                 "[pool:a]\nresource_group = RG\ncluster = AKS\n"
	                 "nodepool = np\n"
	                 "[pool:b]\nsubscription = " SUB0 "\n"
	                 "resource_group = rg\ncluster = aks\nnodepool = np\n",
	    11, "[pool:b] nodepool: the same node pool as [pool:a] (line 3)");
}

static void
test_config_rejects_duplicate_key(void **state)
{
	(void)state;
	assert_one_error("[aksnap]\ntimezone = UTC\nmax_parallel = 2\n"
	                 "timezone = UTC\n",
	    4, "[aksnap] timezone: set twice (first on line 2)");
}

static void
test_config_rejects_duplicate_section(void **state)
{
	(void)state;
	assert_one_error("[aksnap]\nsubscription = " SUB0
	                 "\n" POOL_OK("web", "np") POOL_OK("web", "other"),
	    7, "[pool:web]: section repeated (first on line 3)");
	assert_one_error("[aksnap]\n[policy:p]\n[aksnap]\n", 3,
	    "[aksnap]: section repeated (first on line 1)");
}

static void
test_config_secret_file_must_not_be_group_or_world_readable(void **state)
{
	char secret[PATH_MAX], text[PATH_MAX + 128];
	struct config *c = NULL;

	(void)state;
	snprintf(secret, sizeof(secret), "%s/client-secret", tmpdir);
	write_file(secret, "s3cr3t-value\n", 0644);
	snprintf(text, sizeof(text),
	    "[aksnap]\nauth = client-secret\nclient_secret_file = %s\n",
	    secret);
	assert_int_equal(load(text, &c), -1);
	assert_error(3, "[aksnap] client_secret_file: ");
	assert_non_null(strstr(errs, secret));
	assert_non_null(strstr(errs, "mode 0644"));
	assert_null(strstr(errs, "s3cr3t"));
	assert_int_equal(count_lines(errs), 1);

	assert_int_equal(chmod(secret, 0600), 0);
	assert_loads(text, &c);
	assert_string_equal(c->client_secret_file, secret);
	config_free(c);

	assert_int_equal(chmod(secret, 0640), 0);
	snprintf(text, sizeof(text), "[aksnap]\nclient_certificate_file = %s\n",
	    secret);
	assert_one_error(text, 2, "[aksnap] client_certificate_file: ");
	unlink(secret);
}

static void
test_config_missing_secret_file_is_an_error(void **state)
{
	char text[PATH_MAX + 128];

	(void)state;
	snprintf(text, sizeof(text),
	    "[aksnap]\nclient_secret_file = %s/nonexistent\n", tmpdir);
	assert_one_error(text, 2, "[aksnap] client_secret_file: ");
	assert_non_null(strstr(errs, "No such file"));
}

static void
test_config_takes_secret_from_systemd_credentials(void **state)
{
	char dir[PATH_MAX], secret[PATH_MAX + 32];
	struct config *c = NULL;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/creds", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(secret, sizeof(secret), "%s/aksnap-client-secret", dir);
	write_file(secret, "s3cr3t\n", 0400);
	setenv("CREDENTIALS_DIRECTORY", dir, 1);
	assert_loads("[aksnap]\nauth = client-secret\n", &c);
	unsetenv("CREDENTIALS_DIRECTORY");
	assert_string_equal(c->client_secret_file, secret);
	assert_string_equal(c->client_certificate_file, "");
	config_free(c);
	unlink(secret);
	rmdir(dir);
}

static void
test_config_auth_inputs_name_their_sources(void **state)
{
	char dir[PATH_MAX], cred[PATH_MAX + 32];
	struct config *c = NULL;
	struct auth_inputs *in;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/creds-inputs", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(cred, sizeof(cred), "%s/aksnap-client-secret", dir);
	write_file(cred, "s3cr3t\n", 0400);
	assert_loads("[aksnap]\ntenant = tenant-file\n"
	             "imds_endpoint = http://127.0.0.1:7\n",
	    &c);

	/* Nothing in the environment: the file and the defaults. */
	in = config_auth_inputs(c);
	assert_non_null(in);
	assert_string_equal(in->tenant.value, "tenant-file");
	assert_string_equal(in->tenant.source, "aksnap.ini");
	assert_string_equal(in->client_id.value, "");
	assert_string_equal(in->client_id.source, "");
	assert_string_equal(
	    in->authority_host.value, "https://login.microsoftonline.com");
	assert_string_equal(in->authority_host.source, "default");
	assert_string_equal(in->imds_endpoint.value, "http://127.0.0.1:7");
	assert_string_equal(in->imds_endpoint.source, "aksnap.ini");
	assert_null(in->secret);
	config_auth_inputs_free(in);

	/* The environment fills the blanks; the credential beats the
	 * variable; AZURE_CLIENT_ID is ignored with object_id. */
	setenv("AZURE_TENANT_ID", "tenant-env", 1);
	setenv("AZURE_CLIENT_ID", "client-env", 1);
	setenv("AZURE_CLIENT_SECRET", "env-secret", 1);
	setenv("CREDENTIALS_DIRECTORY", dir, 1);
	in = config_auth_inputs(c);
	assert_non_null(in);
	assert_string_equal(in->tenant.source, "aksnap.ini");
	assert_string_equal(in->client_id.value, "client-env");
	assert_string_equal(in->client_id.source, "env AZURE_CLIENT_ID");
	assert_string_equal(in->client_secret_file.value, cred);
	assert_string_equal(
	    in->client_secret_file.source, "credential aksnap-client-secret");
	assert_null(in->secret);
	config_auth_inputs_free(in);
	unsetenv("CREDENTIALS_DIRECTORY");
	snprintf(c->object_id, sizeof(c->object_id), "%s",
	    "11111111-1111-1111-1111-111111111111");
	in = config_auth_inputs(c);
	assert_non_null(in);
	assert_string_equal(in->client_id.value, "");
	assert_string_equal(in->client_secret.value, "set");
	assert_string_equal(
	    in->client_secret.source, "env AZURE_CLIENT_SECRET");
	assert_string_equal(in->secret, "env-secret");
	config_auth_inputs_free(in);
	unsetenv("AZURE_TENANT_ID");
	unsetenv("AZURE_CLIENT_ID");
	unsetenv("AZURE_CLIENT_SECRET");
	config_free(c);
	config_auth_inputs_free(NULL);
	unlink(cred);
	rmdir(dir);
}

static void
test_config_refuses_plain_http_except_loopback(void **state)
{
	struct config *c = NULL;

	(void)state;
	assert_one_error(
	    "[aksnap]\narm_endpoint = http://management.azure.com\n", 2,
	    "[aksnap] arm_endpoint: expected an https:// URL");
	assert_one_error("[aksnap]\nauthority_host = http://10.0.0.1:8080\n", 2,
	    "[aksnap] authority_host: expected an https:// URL");
	assert_one_error("[aksnap]\narm_endpoint = http://127.0.0.1.evil.com\n",
	    2, "[aksnap] arm_endpoint: expected an https:// URL");
	assert_one_error("[aksnap]\narm_endpoint = management.azure.com\n", 2,
	    "[aksnap] arm_endpoint: expected an https:// URL with a host");
	assert_one_error("[aksnap]\nimds_endpoint = ftp://169.254.169.254\n", 2,
	    "[aksnap] imds_endpoint: expected an http:// or https:// URL");

	assert_loads("[aksnap]\n"
	             "arm_endpoint = http://127.0.0.2:9000\n"
	             "authority_host = http://[::1]:9001/\n"
	             "imds_endpoint = http://10.1.2.3\n",
	    &c);
	assert_string_equal(c->authority_host, "http://[::1]:9001");
	assert_string_equal(c->imds_endpoint, "http://10.1.2.3");
	config_free(c);
	assert_loads("[aksnap]\narm_endpoint = http://localhost:9000/\n", &c);
	config_free(c);
}

static void
test_config_rejects_unknown_timezone(void **state)
{
	struct config *c = NULL;
	struct tm tm;

	(void)state;
	assert_one_error("[aksnap]\ntimezone = Mars/Olympus_Mons\n", 2,
	    "[aksnap] timezone: expected an IANA time zone");
	assert_one_error("[aksnap]\nmax_parallel = 2\ntimezone = ../etc\n", 3,
	    "[aksnap] timezone: expected an IANA time zone");
	/* The zone is loaded with the file, and the config holds it. */
	assert_loads("[aksnap]\ntimezone = Europe/Berlin\n", &c);
	assert_string_equal(c->timezone, "Europe/Berlin");
	assert_non_null(c->tz);
	assert_string_equal(tz_name(c->tz), "Europe/Berlin");
	assert_int_equal(tz_localtime(c->tz, 1782907200, &tm), 0);
	assert_int_equal(tm.tm_gmtoff, 7200); /* 2026-07-01: CEST */
	config_free(c);
}

static void
test_config_rejects_bad_schedule_with_reason(void **state)
{
	const char *why;

	(void)state;
	assert_one_error("[policy:p]\nschedule = 0 25 * * *\n", 2,
	    "[policy:p] schedule: expected a 5-field cron expression");
	/* schedule_parse()'s own reason follows, in parentheses. */
	why = strstr(errs, "@every DURATION (");
	assert_non_null(why);
	assert_true(why[strlen("@every DURATION (")] != ')');
	assert_non_null(strstr(errs, "\"0 25 * * *\""));
}

static void
test_config_rejects_policy_that_keeps_nothing(void **state)
{
	static const char nothing[] = "keep_last = 0\nkeep_daily = 0\n"
	                              "keep_weekly = 0\nkeep_monthly = 0\n"
	                              "keep_within = 0\nmin_keep = 0\n";

	(void)state;
	assert_one_error("[aksnap]\n[policy:none]\n"
	                 "keep_last = 0\n"
	                 "keep_daily = 0\nkeep_weekly = 0\nkeep_monthly = 0\n"
	                 "keep_within = 0s\nmin_keep = 0\n",
	    2, "[policy:none] keep_*: this policy keeps nothing");
	/* The same, set in a pool over a policy that keeps something. */
	{
		char text[1024];

		snprintf(text, sizeof(text),
		    "[aksnap]\nsubscription = " SUB0
		    "\n" POOL_OK("a", "np") "%s",
		    nothing);
		assert_one_error(text, 3,
		    "[pool:a] keep_*: this pool's policy keeps nothing");
	}
}

static void
test_config_reports_every_error_not_just_the_first(void **state)
{
	struct config *c = NULL;

	(void)state;
	assert_int_equal(load("[aksnap]\n"
	                      "max_parallel = many\n"
	                      "colour = blue\n"
	                      "[policy:p]\n"
	                      "keep_daily = 1x\n",
	                     &c),
	    -1);
	assert_null(c);
	assert_int_equal(count_lines(errs), 3);
	assert_error(2, "[aksnap] max_parallel:");
	assert_error(3, "[aksnap] colour: unknown key");
	assert_error(5, "[policy:p] keep_daily:");
	/* In file order. */
	assert_true(strstr(errs, ":2:") < strstr(errs, ":3:"));
	assert_true(strstr(errs, ":3:") < strstr(errs, ":5:"));
}

static void
test_config_rejects_malformed_lines(void **state)
{
	struct config *c = NULL;

	(void)state;
	assert_int_equal(load("[aksnap\n"
	                      "max_parallel = 2\n"
	                      "[policy:p]\n"
	                      "keep_daily 7\n",
	                     &c),
	    -1);
	assert_error(1, "expected ']' closing the section header");
	assert_error(4, "expected KEY = VALUE");
	assert_int_equal(count_lines(errs), 2);
}

static void
test_config_missing_file_fails(void **state)
{
	struct config *c = NULL;
	char missing[PATH_MAX + 16];

	(void)state;
	snprintf(missing, sizeof(missing), "%s/nope.ini", tmpdir);
	assert_int_equal(
	    config_load_errors(missing, &c, errs, sizeof(errs)), -1);
	assert_null(c);
	assert_non_null(strstr(errs, "cannot open"));
}

static void
test_config_example_file_loads(void **state)
{
	const char *srcdir = getenv("SRCDIR");
	char example[PATH_MAX];
	struct config *c = NULL;

	(void)state;
	snprintf(example, sizeof(example), "%s/config/aksnap.ini.example",
	    srcdir != NULL ? srcdir : ".");
	if (config_load_errors(example, &c, errs, sizeof(errs)) != 0)
		fail_msg("%s does not load:\n%s", example, errs);
	assert_string_equal(c->database, "/var/lib/aksnap/aksnap.db");
	assert_true(c->npools >= 2);
	assert_true(c->npolicies >= 2);
	config_free(c);
}

struct sink {
	int lines;
	char last[1024];
};

static void
sink_fn(void *ctx, const char *line)
{
	struct sink *s = ctx;

	s->lines++;
	snprintf(s->last, sizeof(s->last), "%s", line);
}

static void
test_config_load_logs_each_error(void **state)
{
	struct sink s = {0, ""};
	struct config *c = NULL;

	(void)state;
	write_file(path, "[aksnap]\nauth = nope\nfoo = 1\n", 0644);
	log_set_sink(sink_fn, &s);
	assert_int_equal(config_load(path, &c), -1);
	log_set_sink(NULL, NULL);
	assert_null(c);
	assert_int_equal(s.lines, 2);
	assert_non_null(strstr(s.last, ":3: [aksnap] foo: unknown key"));
}

static void
test_config_print_masks_secrets(void **state)
{
	char secret[PATH_MAX], text[PATH_MAX + 256];
	char *out = NULL;
	size_t outlen = 0;
	struct config *c = NULL;
	json_error_t jerr;
	json_t *root, *pools;
	FILE *f;

	(void)state;
	snprintf(secret, sizeof(secret), "%s/secret", tmpdir);
	write_file(secret, "s3cr3t-value\n", 0600);
	snprintf(text, sizeof(text),
	    "[aksnap]\nauth = client-secret\nclient_secret_file = %s\n"
	    "subscription = " SUB0
	    "\n" POOL_OK("web", "np") "promote_after = never\n",
	    secret);
	assert_loads(text, &c);

	f = open_memstream(&out, &outlen);
	assert_non_null(f);
	config_print(c, f, 0);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(out, secret));
	assert_null(strstr(out, "s3cr3t"));
	assert_non_null(strstr(out, "[pool:web]\n"));
	assert_non_null(strstr(out, "promote_after = never\n"));
	assert_non_null(strstr(out, "keep_within = 2d\n"));
	free(out);

	out = NULL;
	f = open_memstream(&out, &outlen);
	assert_non_null(f);
	config_print(c, f, 1);
	assert_int_equal(fclose(f), 0);
	assert_null(strstr(out, "s3cr3t"));
	root = json_loads(out, 0, &jerr);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(root, "aksnap"), "auth")),
	    "client-secret");
	pools = json_object_get(root, "pools");
	assert_int_equal(json_array_size(pools), 1);
	assert_string_equal(json_string_value(json_object_get(
	                        json_array_get(pools, 0), "pool")),
	    "web");
	assert_int_equal(json_integer_value(json_object_get(
	                     json_array_get(pools, 0), "keep_daily")),
	    7);
	assert_string_equal(json_string_value(json_object_get(
	                        json_array_get(pools, 0), "promote_after")),
	    "never");
	json_decref(root);
	free(out);
	config_free(c);
	unlink(secret);
}

/* Text of ${n} pools p0..p(n-1); pool ${over} sets keep_last = 9 and
 * ${bad} (if >= 0) an unknown key.  Every fifth names no policy. */
static char *
many_pools(size_t n, size_t over, long bad)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	fprintf(f,
	    "[aksnap]\nsubscription = " SUB0 "\n\n"
	    "[policy:p]\nkeep_daily = 3\nchannels = a:1d b:2d\n\n");
	for (size_t i = 0; i < n; i++) {
		fprintf(f,
		    "[pool:p%zu]\nresource_group = rg\ncluster = c%zu\n"
		    "nodepool = np\n",
		    i, i);
		if (i % 5 != 0)
			fprintf(f, "policy = p\n");
		if (i == over)
			fprintf(f, "keep_last = 9\n");
		if ((long)i == bad)
			fprintf(f, "kep_last = 9\n");
	}
	assert_int_equal(fclose(f), 0);
	return text;
}

static void
test_config_pools_share_their_policy(void **state)
{
	const struct policy *p, *builtin;
	const struct pool_conf *over;
	struct config *c = NULL;
	char *text = many_pools(2000, 1001, -1);

	(void)state;
	assert_loads(text, &c);
	free(text);
	assert_int_equal(c->npools, 2000);
	assert_int_equal(c->npolicies, 1);
	p = &c->policies[0];
	builtin = config_find_pool(c, "p0")->policy;
	assert_ptr_not_equal(builtin, p);
	assert_string_equal(builtin->name, "");
	assert_int_equal(builtin->keep_daily, 7);
	assert_int_equal(builtin->channels.n, 1);
	for (size_t i = 0; i < c->npools; i++) {
		const struct pool_conf *pc = &c->pools[i];

		if (i == 1001)
			continue;
		/* One struct policy for the 1,599 pools of [policy:p], one
		 * for the 400 that name none. */
		assert_ptr_equal(pc->policy, i % 5 == 0 ? builtin : p);
	}
	/* A pool that sets a policy key has its own, resolved in full. */
	over = config_find_pool(c, "p1001");
	assert_ptr_not_equal(over->policy, p);
	assert_int_equal(over->policy->keep_last, 9);
	assert_int_equal(over->policy->keep_daily, 3);
	assert_string_equal(over->policy->name, "p");
	assert_int_equal(over->policy->channels.n, 2);
	assert_string_equal(over->policy->channel, "b");
	assert_int_equal(p->keep_last, 3);
	config_free(c);

	/* With [policy:default], pools naming none share it. */
	assert_loads("[aksnap]\nsubscription = " SUB0 "\n" POOL_OK("a", "a")
	                 POOL_OK("b", "b") "[policy:default]\nkeep_last = 4\n",
	    &c);
	assert_ptr_equal(c->pools[0].policy, &c->policies[0]);
	assert_ptr_equal(c->pools[1].policy, &c->policies[0]);
	assert_string_equal(c->pools[0].policy_name, "default");
	config_free(c);
}

static void
test_config_finds_every_pool_by_key(void **state)
{
	struct config *c = NULL;
	char *text = many_pools(3000, 3000, -1);
	char key[64];

	(void)state;
	assert_loads(text, &c);
	free(text);
	for (size_t i = 0; i < 3000; i++) {
		snprintf(key, sizeof(key), "p%zu", i);
		assert_ptr_equal(config_find_pool(c, key), &c->pools[i]);
	}
	assert_null(config_find_pool(c, "P1")); /* keys are exact */
	assert_null(config_find_pool(c, "p3000"));
	assert_null(config_find_pool(c, ""));
	config_free(c);

	/* Keys alike in their first eight bytes and more (resolve.c sorts
	 * by those first), some of eight exactly, out of order in the file:
	 * pool_order is in strcmp() order, each found. */
	{
		static const char *const odd[] = {"abcdefgh1", "abcdefgh",
		    "abcdefg", "abcdefg-", "abcdefgh0", "abcdefgh10"};
		const size_t nodd = sizeof(odd) / sizeof(odd[0]);
		char *t = NULL;
		size_t tlen = 0;
		FILE *f = open_memstream(&t, &tlen);

		assert_non_null(f);
		fprintf(f, "[aksnap]\nsubscription = " SUB0 "\n");
		for (size_t i = 0; i < 500; i++)
			fprintf(f,
			    "[pool:cluster-%03zu-pool%zu]\nresource_group = "
			    "rg\ncluster = c%zu\nnodepool = np\n",
			    (i * 7) % 50, i, i);
		for (size_t i = 0; i < nodd; i++)
			fprintf(f,
			    "[pool:%s]\nresource_group = rg\ncluster = "
			    "x%zu\nnodepool = np\n",
			    odd[i], i);
		assert_int_equal(fclose(f), 0);
		assert_loads(t, &c);
		free(t);
		assert_int_equal(c->npools, 500 + nodd);
		assert_int_equal(c->nordered, c->npools);
		for (size_t i = 1; i < c->nordered; i++)
			assert_true(strcmp(c->pools[c->pool_order[i - 1]].key,
			                c->pools[c->pool_order[i]].key) < 0);
		for (size_t i = 0; i < c->npools; i++)
			assert_ptr_equal(
			    config_find_pool(c, c->pools[i].key), &c->pools[i]);
		assert_null(config_find_pool(c, "abcdefgh2"));
		assert_null(config_find_pool(c, "cluster-000-pool"));
		config_free(c);
	}
}

/*
 * The key table's hash (read.c looks every key line up through it): each
 * row is found in its own scope, every other scope answers as a walk of
 * the table does, and names that are no key -- or a key in the wrong
 * case -- are not found.
 */
static void
test_config_key_hash_finds_every_key(void **state)
{
	static const char *const unknown[] = {
	    "", "keep_dialy", "KEEP_LAST", "keep_last ", "pool", "x"};
	static const enum scope scopes[] = {
	    SCOPE_GLOBAL, SCOPE_POLICY, SCOPE_POOL};
	struct key_hash kh;
	size_t idx, want;

	(void)state;
	config_key_hash_init(&kh);
	for (size_t i = 0; i < config_nkeys; i++) {
		const struct key *k = &config_keys[i];

		idx = 999;
		assert_ptr_equal(
		    config_key_hash_find(&kh, k->name, k->scope, &idx), k);
		assert_int_equal(idx, i);
		for (size_t j = 0; j < 3; j++) {
			const struct key *w =
			    config_key_find(k->name, scopes[j], &want);

			idx = 999;
			assert_ptr_equal(
			    config_key_hash_find(&kh, k->name, scopes[j], &idx),
			    w);
			if (w != NULL)
				assert_int_equal(idx, want);
		}
	}
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		for (size_t j = 0; j < 3; j++)
			assert_null(config_key_hash_find(
			    &kh, unknown[i], scopes[j], &idx));

	/* And through a load: each kind of section, file:line named. */
	assert_one_error("[policy:p]\nkeep_last = 2\nresource_group = rg\n", 3,
	    "[policy:p] resource_group: unknown key; it belongs in "
	    "[pool:NAME]");
	assert_one_error("[aksnap]\nsubscription = " SUB0
	                 "\n" POOL_OK("a", "np") "database = /x\n",
	    7, "[pool:a] database: unknown key; it belongs in [aksnap]");
	assert_one_error("[aksnap]\nsubscription = " SUB0 "\n[fleet:f]\n"
	                 "cluster = aks-*\nkeep_last = 4\ndatabase = /x\n",
	    6, "[fleet:f] database: unknown key; it belongs in [aksnap]");
}

/* The same rows for a struct row_set: names alike but for case. */
static int
same_lower(const void *ctx, size_t a, size_t b)
{
	const char *const *names = ctx;

	return strcasecmp(names[a], names[b]) == 0;
}

/* is_db(ctx, row): row ${row} of the names ${ctx} is "db". */
static int
is_db(const void *ctx, size_t row)
{
	const char *const *names = ctx;

	return strcmp(names[row], "db") == 0;
}

/*
 * config_rows_*: a row whose key is there already is found (its first row
 * returned, nothing added) whatever the case; rows whose hashes collide
 * but are not the same are both kept; a set reserved for n rows takes
 * them without growing, and grows past them.
 */
static void
test_config_rows_find_repeats_without_case(void **state)
{
	static const char *const names[] = {"web", "sys", "WEB", "Sys", "db"};
	struct row_set rs;
	size_t prev = 0, cap;

	(void)state;
	memset(&rs, 0, sizeof(rs));
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(
		    config_rows_add(&rs, config_hash_lower(0, names[i]), i,
		        same_lower, names, &prev),
		    0);
	assert_int_equal(config_rows_add(&rs, config_hash_lower(0, names[2]), 2,
	                     same_lower, names, &prev),
	    1);
	assert_int_equal(prev, 0);
	assert_int_equal(config_rows_add(&rs, config_hash_lower(0, names[3]), 3,
	                     same_lower, names, &prev),
	    1);
	assert_int_equal(prev, 1);
	/* One hash for "db" and "web": two rows, told apart by same(). */
	assert_int_equal(config_rows_add(&rs, config_hash_lower(0, names[0]), 4,
	                     same_lower, names, &prev),
	    0);
	assert_int_equal(rs.n, 3);
	/* Found under the hash it was added with, and only there. */
	assert_int_equal(config_rows_find(&rs, config_hash_lower(0, "web"),
	                     is_db, names, &prev),
	    1);
	assert_int_equal(prev, 4);
	assert_int_equal(config_rows_find(&rs, config_hash_lower(0, "db"),
	                     is_db, names, &prev),
	    0);
	/* The separator: ("ab", "c") and ("a", "bc") hash apart. */
	assert_true(config_hash_lower(config_hash_lower(0, "ab"), "c") !=
	    config_hash_lower(config_hash_lower(0, "a"), "bc"));
	assert_true(config_hash_lower(0, "AbC") == config_hash_lower(0, "aBc"));
	config_rows_free(&rs);
	assert_int_equal(rs.n, 0);

	assert_int_equal(config_rows_reserve(&rs, 1000), 0);
	cap = rs.cap;
	assert_true(cap >= 2002);
	for (size_t i = 0; i < 1000; i++)
		assert_int_equal(config_rows_add(&rs, (uint64_t)i * 2654435761u,
		                     i, same_lower, names, &prev),
		    0);
	assert_int_equal(rs.cap, cap); /* never grown */
	for (size_t i = 1000; i < 3000; i++)
		assert_int_equal(config_rows_add(&rs, (uint64_t)i * 2654435761u,
		                     i, same_lower, names, &prev),
		    0);
	assert_true(rs.cap > cap);
	assert_int_equal(rs.n, 3000);
	config_rows_free(&rs);
	config_rows_free(NULL);
}

/* The node pools of 10,000 [pool:] sections as resolve.c keys them:
 * every one is added, and the set stays sparse -- a few probes per row,
 * not a walk (a count, never a time). */
static int
same_nodepool_text(const void *ctx, size_t a, size_t b)
{
	(void)ctx;
	return a == b;
}

static void
test_config_rows_stay_sparse_at_10000_pools(void **state)
{
	struct row_set rs;
	char rg[32], cluster[32], np[16];
	size_t prev = 0;

	(void)state;
	memset(&rs, 0, sizeof(rs));
	assert_int_equal(config_rows_reserve(&rs, 10000), 0);
	for (size_t i = 0; i < 10000; i++) {
		uint64_t h = config_hash_lower(0, SUB0);

		snprintf(rg, sizeof(rg), "rg-%zu", i / 10);
		snprintf(cluster, sizeof(cluster), "aks-%zu", i / 10);
		snprintf(np, sizeof(np), "pool%zu", i % 10);
		h = config_hash_lower(h, rg);
		h = config_hash_lower(h, cluster);
		h = config_hash_lower(h, np);
		assert_int_equal(
		    config_rows_add(&rs, h, i, same_nodepool_text, NULL, &prev),
		    0);
	}
	assert_int_equal(rs.n, 10000);
	/* Linear probing at a load of at most 1/2 passes over ~0.5 slots
	 * per insert on average; 2 per row is a generous bound. */
	if (rs.probes > 2 * 10000)
		fail_msg("%zu probes for 10,000 rows", rs.probes);
	config_rows_free(&rs);
}

/*
 * The reader splits key lines itself, with inih's rules, and keeps the one
 * inih rule a split would not: a byte order mark at the start of line 1,
 * after our own strip of one, was stripped by inih too, and what followed
 * read as a line of its own.
 */
static void
test_config_reads_key_lines_as_inih_did(void **state)
{
	struct config *c = NULL;

	(void)state;
	assert_loads("[aksnap]\n"
	             "database=/tmp/a;b.db ; a comment\n"
	             "metrics_file : /tmp/m=1.prom\n"
	             "name_prefix\t=\tsnap\t;\tcomment\n"
	             "subscription = " SUB0 "\n" POOL_OK("a", "np"),
	    &c);
	assert_string_equal(c->database, "/tmp/a;b.db");
	assert_string_equal(c->metrics_file, "/tmp/m=1.prom");
	assert_string_equal(c->name_prefix, "snap");
	config_free(c);

	/* Two marks: the second was inih's to strip. */
	assert_loads("\xEF\xBB\xBF\xEF\xBB\xBF;x = 1\n[aksnap]\n", &c);
	config_free(c);
	assert_one_error(
	    "\xEF\xBB\xBF\xEF\xBB\xBF[a=b\n[aksnap]\n", 1, "syntax error");
	assert_one_error("\xEF\xBB\xBF\xEF\xBB\xBF database = /x\n", 1,
	    "database: set before any [section]");
	/* Not on line 2, and not past inih's buffer: the mark is text. */
	assert_one_error("[aksnap]\n\xEF\xBB\xBF\xEF\xBB\xBF;x = 1\n", 2,
	    "[aksnap] \xEF\xBB\xBF\xEF\xBB\xBF;x: unknown key");
}

/* Write the ${len} bytes of ${text} (NULs too) as the config file and
 * load it. */
static int
load_bytes(const char *text, size_t len, struct config **c)
{
	FILE *f;

	*c = NULL;
	errs[0] = '\0';
	unlink(path);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return config_load_errors(path, c, errs, sizeof(errs));
}

/*
 * The reader reads the file 64 KiB at a time (read.c, CONFIG_CHUNK):
 * lines that span two chunks are read whole and counted once; a line
 * longer than a chunk, in the middle or last and without its newline,
 * is one error at its line, its text never read as keys; a NUL ends a
 * line's text, as getline()'s C string did.
 */
static void
test_config_reads_lines_across_chunks(void **state)
{
	struct config *c = NULL;
	char *text = malloc(300000);
	size_t len = 0;
	int line = 0;

	(void)state;
	assert_non_null(text);
	len += (size_t)sprintf(text + len, "[aksnap]\n"); /* 1 */
	line = 1;
	/* Comments to past the first chunk, each line a length of its own so
	 * that some line spans its end. */
	while (len < 65536 + 100) {
		size_t n = 1 + (size_t)line % 97;

		text[len++] = ';';
		memset(text + len, 'c', n);
		len += n;
		text[len++] = '\n';
		line++;
	}
	len += (size_t)sprintf(text + len, "kep_last = 1\n"); /* line + 1 */
	/* A key line of 66,000 bytes, more than a chunk (its last 464 after
	 * one): not read. */
	memset(text + len, 'v', 66000);
	memcpy(text + len, "kep_y = ", 8);
	len += 66000;
	text[len++] = '\n'; /* line + 2 */
	len += (size_t)sprintf(text + len, "max_parallel = 0\n"); /* + 3 */
	/* Last, without a newline: longer than a chunk too. */
	memset(text + len, 'y', 66000);
	len += 66000; /* line + 4 */
	assert_int_equal(load_bytes(text, len, &c), -1);
	assert_null(c);
	assert_error(line + 1, "[aksnap] kep_last: unknown key");
	assert_error(line + 2, "line longer than 4096 characters");
	assert_error(line + 3, "[aksnap] max_parallel: expected a whole");
	assert_error(line + 4, "line longer than 4096 characters");
	assert_int_equal(count_lines(errs), 4);

	/* A NUL: the rest of its line is not read. */
	{
		static const char nul[] =
		    "[aksnap]\n"
		    "database = /x\0 ; yy\n"
		    "metrics_file = /m\0\n"
		    "subscription = " SUB0 "\n"
		    "\0max_parallel = 0\n" POOL_OK("a", "np");

		assert_int_equal(load_bytes(nul, sizeof(nul) - 1, &c), 0);
		assert_string_equal(c->database, "/x");
		assert_string_equal(c->metrics_file, "/m");
		assert_int_equal(c->max_parallel, 8);
		config_free(c);
	}
	free(text);
}

/* The text of many_pools(${n}, ${n}, ${bad}) fails to load with one error,
 * on ${line}: [pool:p${bad}] kep_last: unknown key. */
static void
assert_error_in_many_pools(size_t n, long bad, int line)
{
	struct config *c = NULL;
	char *text = many_pools(n, n, bad);
	char where[64];

	assert_int_equal(load(text, &c), -1);
	free(text);
	assert_null(c);
	snprintf(
	    where, sizeof(where), "[pool:p%ld] kep_last: unknown key", bad);
	assert_error(line, where);
	assert_int_equal(count_lines(errs), 1);
}

static void
test_config_error_in_a_large_file_names_its_line(void **state)
{
	(void)state;
	/* 7 lines before the pools, 5 per pool, 4 for the fifths. */
	assert_error_in_many_pools(3000, 2500, 7 + 2500 * 5 - 500 + 5);
}

/*
 * Section titles live in blocks of 64 KiB (read.c, keep_title): 10,000
 * pools span two, and an error at the last names its section right; a
 * title longer than 79 bytes is cut there, its last three "...".
 */
static void
test_config_titles_of_10000_sections(void **state)
{
	char title[200], want[300];

	(void)state;
	/* As above; p9999 names its policy, then kep_last. */
	assert_error_in_many_pools(10000, 9999, 7 + 9999 * 5 - 2000 + 6);

	memset(title, 'x', 90);
	title[90] = '\0';
	snprintf(
	    want, sizeof(want), "[pool:%.71s...]: expected a pool name", title);
	{
		char ini[300];

		snprintf(ini, sizeof(ini), "[pool:%s]\n", title);
		assert_one_error(ini, 1, want);
	}
}

/* The resolved example as `config check` printed it before pools shared
 * their policies (tests/unit/config/example_check.*): byte for byte, up
 * to the path line and the environment's sign-in inputs -- and for one
 * fix: [fleet:teams] now resolves its policy's ladder as a pool does
 * (channel = stable, promote_after = 1w: channels = stable:1w; it was
 * empty, so a fleet's pools never promoted). */
static void
test_config_check_output_unchanged_on_example(void **state)
{
	const char *srcdir = getenv("SRCDIR");
	char example[PATH_MAX], golden[PATH_MAX];
	char *out = NULL, *want = NULL, *end;
	size_t outlen = 0, wantlen = 0;
	struct config *c = NULL;
	json_error_t jerr;
	json_t *got, *exp;
	FILE *f;

	(void)state;
	if (srcdir == NULL)
		srcdir = ".";
	snprintf(
	    example, sizeof(example), "%s/config/aksnap.ini.example", srcdir);
	if (config_load_errors(example, &c, errs, sizeof(errs)) != 0)
		fail_msg("%s does not load:\n%s", example, errs);

	f = open_memstream(&out, &outlen);
	assert_non_null(f);
	config_print(c, f, 0);
	assert_int_equal(fclose(f), 0);
	snprintf(golden, sizeof(golden),
	    "%s/tests/unit/config/example_check.txt", srcdir);
	f = fopen(golden, "r");
	assert_non_null(f);
	want = calloc(1, 1 << 16);
	assert_non_null(want);
	wantlen = fread(want, 1, (1 << 16) - 1, f);
	fclose(f);
	assert_true(wantlen > 0);
	end = strstr(out, "\n; what a run will use");
	assert_non_null(end);
	end[1] = '\0';
	assert_string_equal(strchr(out, '\n') + 1, want);
	free(want);
	free(out);

	out = NULL;
	f = open_memstream(&out, &outlen);
	assert_non_null(f);
	config_print(c, f, 1);
	assert_int_equal(fclose(f), 0);
	got = json_loads(out, 0, &jerr);
	assert_non_null(got);
	json_object_del(got, "path");
	json_object_del(got, "inputs");
	snprintf(golden, sizeof(golden),
	    "%s/tests/unit/config/example_check.json", srcdir);
	exp = json_load_file(golden, 0, &jerr);
	assert_non_null(exp);
	if (!json_equal(got, exp)) {
		char *s = json_dumps(got, JSON_INDENT(2));

		fail_msg("config check --json differs from %s:\n%s", golden,
		    s != NULL ? s : "");
	}
	json_decref(got);
	json_decref(exp);
	free(out);
	config_free(c);
}

static void
test_config_free_accepts_null(void **state)
{
	(void)state;
	config_free(NULL);
	assert_null(config_find_pool(NULL, "x"));
	assert_string_equal(config_auth_name(AUTH_AZURE_CLI), "azure-cli");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config_loads_full_file_and_resolves_policies),
	    cmocka_unit_test(
	        test_config_defaults_apply_without_policy_sections),
	    cmocka_unit_test(
	        test_config_empty_value_means_default_and_comments_are_stripped),
	    cmocka_unit_test(test_config_reads_values_longer_than_inih_buffer),
	    cmocka_unit_test(test_config_rejects_unknown_section),
	    cmocka_unit_test(test_config_rejects_unknown_key),
	    cmocka_unit_test(test_config_rejects_bad_duration),
	    cmocka_unit_test(test_config_accepts_promote_after_never),
	    cmocka_unit_test(test_config_reads_channel_ladders_and_enabled),
	    cmocka_unit_test(
	        test_config_rejects_both_channel_forms_in_one_section),
	    cmocka_unit_test(test_config_rejects_bad_number),
	    cmocka_unit_test(test_config_rejects_out_of_range_values),
	    cmocka_unit_test(test_config_rejects_bad_enums),
	    cmocka_unit_test(test_config_accepts_every_auth_name),
	    cmocka_unit_test(test_config_rejects_names_arm_refuses),
	    cmocka_unit_test(test_config_accepts_names_arm_accepts),
	    cmocka_unit_test(test_config_rejects_bad_name_prefix),
	    cmocka_unit_test(test_config_rejects_pool_without_required_keys),
	    cmocka_unit_test(test_config_rejects_pool_without_subscription),
	    cmocka_unit_test(test_config_rejects_pool_naming_unknown_policy),
	    cmocka_unit_test(test_config_rejects_same_node_pool_twice),
	    cmocka_unit_test(test_config_rejects_duplicate_key),
	    cmocka_unit_test(test_config_rejects_duplicate_section),
	    cmocka_unit_test(
	        test_config_secret_file_must_not_be_group_or_world_readable),
	    cmocka_unit_test(test_config_missing_secret_file_is_an_error),
	    cmocka_unit_test(test_config_takes_secret_from_systemd_credentials),
	    cmocka_unit_test(test_config_auth_inputs_name_their_sources),
	    cmocka_unit_test(test_config_refuses_plain_http_except_loopback),
	    cmocka_unit_test(test_config_rejects_unknown_timezone),
	    cmocka_unit_test(test_config_rejects_bad_schedule_with_reason),
	    cmocka_unit_test(test_config_rejects_policy_that_keeps_nothing),
	    cmocka_unit_test(
	        test_config_reports_every_error_not_just_the_first),
	    cmocka_unit_test(test_config_rejects_malformed_lines),
	    cmocka_unit_test(test_config_missing_file_fails),
	    cmocka_unit_test(test_config_example_file_loads),
	    cmocka_unit_test(test_config_load_logs_each_error),
	    cmocka_unit_test(test_config_print_masks_secrets),
	    cmocka_unit_test(test_config_pools_share_their_policy),
	    cmocka_unit_test(test_config_finds_every_pool_by_key),
	    cmocka_unit_test(test_config_error_in_a_large_file_names_its_line),
	    cmocka_unit_test(test_config_titles_of_10000_sections),
	    cmocka_unit_test(test_config_key_hash_finds_every_key),
	    cmocka_unit_test(test_config_rows_find_repeats_without_case),
	    cmocka_unit_test(test_config_rows_stay_sparse_at_10000_pools),
	    cmocka_unit_test(test_config_reads_key_lines_as_inih_did),
	    cmocka_unit_test(test_config_reads_lines_across_chunks),
	    cmocka_unit_test(test_config_check_output_unchanged_on_example),
	    cmocka_unit_test(test_config_free_accepts_null),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
