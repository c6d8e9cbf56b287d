#ifndef AKSNAP_MODEL_H
#define AKSNAP_MODEL_H

/*
 * model.h -- the data types the rules decide over, shared by the layers
 * above them: a pool's resolved policy and identity (filled by config/),
 * the versions a pool runs or a snapshot pins (recorded by db/,
 * observed by job/azure/), and the identity kind the token provider
 * (job/azure/) is configured with.
 *
 * Only types live here, so that config/ and db/ can use them without
 * looking sideways at each other and the pure rules need neither.
 * struct db_versions keeps the name it had when the store defined it.
 */

#include <limits.h>
#include <stddef.h>
#include <time.h>

/* The configuration's `auth`: which identity the token provider uses. */
enum auth_kind {
	AUTH_AUTO = 0,
	AUTH_MANAGED_IDENTITY,
	AUTH_CLIENT_SECRET,
	AUTH_CLIENT_CERTIFICATE,
	AUTH_WORKLOAD_IDENTITY,
	AUTH_AZURE_CLI,
};

/*
 * One input of the token provider as config/env.c resolved it: its value
 * and where it came from -- "aksnap.ini", "default", "env AZURE_TENANT_ID",
 * "credential aksnap-client-secret", "PATH" -- both "" when unset.
 */
struct auth_input {
	char value[PATH_MAX];
	char source[64];
};

/*
 * What a token provider is built from: the configuration's auth values and
 * the environment (AZURE_*, CREDENTIALS_DIRECTORY, PATH), read in one place
 * (config_auth_inputs) so that `config check` shows what a run will use.
 * A configuration value wins and the environment fills the blanks.
 */
struct auth_inputs {
	enum auth_kind auth;
	struct auth_input tenant;
	struct auth_input client_id;
	struct auth_input object_id;
	struct auth_input msi_res_id;
	struct auth_input client_secret_file; /* aksnap.ini or the credential */
	struct auth_input client_secret; /* AZURE_CLIENT_SECRET: value "set" */
	struct auth_input client_certificate_file;
	struct auth_input federated_token_file;
	struct auth_input authority_host;
	struct auth_input imds_endpoint;
	struct auth_input az; /* the az on PATH (auth = azure-cli, auto) */
	char *secret; /* AZURE_CLIENT_SECRET's value when no file; wiped */
};

enum snapshot_when {
	WHEN_ALWAYS = 0,
	WHEN_CHANGED,
};

#define PROMOTE_NEVER (-1LL)

/* The most rungs a ladder (`channels = canary:1d stable:7d`) may have. */
#define LADDER_MAX 8

/*
 * A channel ladder (DESIGN.md section 6, Ladders): rung 0 is entered by
 * the newest active snapshot ${soak} old; rung i > 0 by the newest that
 * entered rung i-1 ${soak} ago.  `channel` + `promote_after` is the
 * one-rung ladder; config/ always fills it.  soak may be PROMOTE_NEVER
 * (that rung is promoted by hand only).
 */
struct ladder {
	int n;
	struct rung {
		char channel[64];
		long long soak; /* seconds, or PROMOTE_NEVER */
	} rung[LADDER_MAX];
};

struct policy {
	char name[64]; /* [policy:NAME]; "" for the built-in default */
	char schedule[128]; /* cron / @daily / @every 6h; default "0 2 * * *" */
	enum snapshot_when snapshot_when; /* default changed */
	int keep_last; /* default 3 */
	int keep_hourly; /* default 0 */
	int keep_daily; /* default 7 */
	int keep_weekly; /* default 4 */
	int keep_monthly; /* default 6 */
	int keep_yearly; /* default 0 */
	long long keep_within; /* seconds, default 2d */
	int min_keep; /* default 2 */
	int max_delete_per_run; /* default 10 */
	long long promote_after; /* seconds, default 7d; PROMOTE_NEVER */
	char channel[64]; /* default "stable" */
	int keep_promoted; /* default 2 */
	long long warn_baseline_age; /* check: WARNING when baseline older;
	                                default 30d */
	long long warn_image_age; /* check: WARNING when baseline image older;
	                             default 75d */
	char release_notes[512]; /* URL template with {path}, or "off" */
	struct ladder
	    channels; /* `channels`, or the one rung channel:promote_after
	                 (resolved by config/); n = 0 only before */
	int paused; /* `enabled = no`: observe only; 0 (enabled) by default,
	               so that a zeroed policy is a working one */
};

/*
 * One time a snapshot entered a channel of its pool, as the store keeps
 * it (snapshot_channels): the rules' view of a pool's ladder history.
 */
struct channel_hold {
	long long snapshot_id;
	char channel[64];
	int rung; /* its ladder position when it entered (ordering only) */
	time_t promoted_at; /* when it entered */
	time_t left_at; /* 0 while it holds the channel */
	int demoted; /* it left by `demote` (by hand), not replaced */
};

struct pool_conf {
	char key[64]; /* the NAME of [pool:NAME] */
	char subscription[64];
	char resource_group[91];
	char cluster[64];
	char nodepool[13];
	char
	    policy_name[64]; /* "" = built-in defaults ("default" if defined) */
	const struct policy *policy; /* resolved; one struct for every pool
	                                of a [policy:NAME] (or [fleet:NAME])
	                                that sets no policy key itself, owned
	                                by the struct config */
	int line; /* line of the [pool:NAME] header; 0 for a fleet's pool */
	char fleet[64]; /* the [fleet:NAME] that selected it; "" explicit */
	int fleet_missing; /* a fleet's pool no longer selected or gone */
	const char *fleet_error; /* a fleet's pool whose listing failed: why
	                            (owned by the run's fleet view), or NULL */
};

/* The versions a pool runs or a snapshot pins, as the store records them. */
struct db_versions {
	char node_image_version[128];
	char kubernetes_version[32];
	char os_type[16];
	char os_sku[32];
	char vm_size[64];
	int enable_fips;
};

#endif
