/*
 * cmd_drift.c -- drift [--refresh] [--channel NAME]: each pool's live
 * versions against its baseline and its newest snapshot, with the verdict
 * of job/rules/drift.c.
 *
 * Reads the store; only --refresh talks to Azure (one GET per managed
 * cluster, and the answer is shown, not recorded: recording observations
 * is the run's job).
 */
#include "db/db.h"
#include "db/db_channels.h"
#include "db/db_conflict.h"
#include "job/azure/arm.h"
#include "job/azure/http.h"
#include "job/azure/token.h"
#include "job/base/log.h"
#include "job/base/reasons.h"
#include "job/base/table.h"
#include "job/base/util.h"
#include "job/cmd/cli.h"
#include "job/cmd/lookup.h"
#include "job/cmd/output.h"
#include "job/rules/apply_checks.h"
#include "job/rules/drift.h"
#include "job/rules/retention.h"
#include "job/rules/schedule.h"
#include "job/rules/versions.h"
#include "job/run/fleet.h"
#include "job/run/run.h"
#include <ctype.h>
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

struct drift_row {
	const struct pool_conf *pc;
	const char *channel;
	int64_t pool_id; /* 0: not in the store yet */
	int have_live;
	int missing; /* the cluster or the node pool is gone */
	time_t observed_at;
	struct db_versions live;
	char provisioning_state[32];
	char error[256]; /* --refresh failed for this pool */
	int have_base, have_newest;
	struct db_snapshot base, newest;
	const char *verdict;
	/* the cluster's autoUpgradeProfile, as last seen ("": none) */
	char upgrade_channel[32], node_os_channel[32];
};

static int
same_cluster(const struct pool_conf *a, const struct pool_conf *b)
{
	return strcasecmp(a->subscription, b->subscription) == 0 &&
	    strcasecmp(a->resource_group, b->resource_group) == 0 &&
	    strcasecmp(a->cluster, b->cluster) == 0;
}

/*
 * --refresh: one GET per managed cluster, its answer spread over the rows
 * of its pools.  Return 0, with ${*some_failed} set when a GET failed
 * (those rows say why; a 404 is an answer: the pools are missing), or -1
 * with the exit code in ${*code} when nothing could be asked (no client,
 * no token).
 */
static int
drift_refresh(const struct config *cfg, struct drift_row *rows, size_t n,
    int *some_failed, int *code)
{
	struct http_options ho;
	struct http_client *http = NULL;
	struct token_provider *tokens = NULL;
	struct arm *arm = NULL;
	const char *token;
	int rc = -1;

	*some_failed = 0;
	*code = EXIT_FAILED;
	memset(&ho, 0, sizeof(ho));
	ho.timeout_s = cfg->request_timeout;
	ho.ca_file = cfg->ca_file[0] != '\0' ? cfg->ca_file : NULL;
	http = http_client_new(&ho);
	if (http == NULL)
		goto out;
	tokens = run_token_provider(cfg);
	if (tokens == NULL) {
		*code = EXIT_USAGE;
		goto out;
	}
	http_client_set_token_source(http, token_source_cb, tokens);
	arm = arm_new(http, cfg->arm_endpoint, cfg->api_version);
	if (arm == NULL)
		goto out;
	if (n > 0 && token_get(tokens, 0, &token)) {
		*code = token_failure_exit(tokens);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct arm_cluster cl;
		struct arm_error e;
		int got;

		/* A cluster already asked for an earlier pool. */
		for (size_t j = 0; j < i; j++)
			if (same_cluster(rows[j].pc, rows[i].pc))
				goto next;
		memset(&cl, 0, sizeof(cl));
		memset(&e, 0, sizeof(e));
		got = arm_cluster_get(arm, rows[i].pc->key,
		    rows[i].pc->subscription, rows[i].pc->resource_group,
		    rows[i].pc->cluster, &cl, &e);
		for (size_t k = i; k < n; k++) {
			struct drift_row *r = &rows[k];
			const struct arm_agent_pool *ap = NULL;

			if (!same_cluster(rows[i].pc, r->pc))
				continue;
			r->observed_at = util_now();
			if (got != 0 && e.status == 404) {
				r->missing = 1;
				util_strlcpy(r->provisioning_state, "missing",
				    sizeof(r->provisioning_state));
				continue;
			}
			if (got != 0) {
				snprintf(r->error, sizeof(r->error),
				    "GET cluster %s: %ld %s %s", r->pc->cluster,
				    e.status, e.code, e.message);
				*some_failed = 1;
				continue;
			}
			for (size_t p = 0; p < cl.npools; p++)
				if (strcasecmp(
				        cl.pools[p].name, r->pc->nodepool) == 0)
					ap = &cl.pools[p];
			if (ap == NULL) {
				r->missing = 1;
				util_strlcpy(r->provisioning_state, "missing",
				    sizeof(r->provisioning_state));
				continue;
			}
			arm_agent_pool_versions(ap, &r->live);
			util_strlcpy(r->provisioning_state,
			    ap->provisioning_state,
			    sizeof(r->provisioning_state));
			util_strlcpy(r->upgrade_channel, cl.upgrade_channel,
			    sizeof(r->upgrade_channel));
			util_strlcpy(r->node_os_channel, cl.node_os_channel,
			    sizeof(r->node_os_channel));
			r->have_live = 1;
		}
		arm_cluster_free(&cl);
	next:;
	}
	rc = 0;
out:
	arm_free(arm);
	token_provider_free(tokens);
	http_client_free(http);
	return rc;
}

static const char *
drift_verdict_of(const struct drift_row *r)
{
	char why[256];
	struct drift_facts f = {r->error[0] != '\0', r->missing, r->have_live,
	    r->have_base, r->live.kubernetes_version,
	    r->live.node_image_version, r->base.v.kubernetes_version,
	    r->base.v.node_image_version,
	    apply_channels_undo_pin(
	        r->upgrade_channel, r->node_os_channel, why, sizeof(why))};

	return drift_verdict(&f);
}

static json_t *
versions_json(const struct db_snapshot *s, int baseline)
{
	json_t *o = json_object();

	json_object_set_new(o, "snapshot", json_string(s->name));
	json_object_set_new(o, "arm_id", json_string(s->arm_id));
	output_versions_json(o, &s->v);
	json_object_set_new(o, "created_at", output_json_time(s->created_at));
	if (baseline)
		json_object_set_new(
		    o, "promoted_at", output_json_time(s->promoted_at));
	return o;
}

static void
drift_print(const struct drift_row *rows, size_t n, int json, int refreshed)
{
	/* At 80 columns: the verdict, the live image if it fits, then the
	 * others. */
	static const struct table_col drift_cols[] = {
	    {"POOL", 0, 0},
	    {"VERDICT", 0, 0},
	    {"LIVE IMAGE", 1, 0},
	    {"K8S", 4, 0},
	    {"BASELINE IMAGE", 2, 0},
	    {"K8S", 5, 0},
	    {"NEWEST SNAPSHOT IMAGE", 3, 0},
	    {"K8S", 6, 0},
	};
	struct table *tab;
	if (json) {
		json_t *doc = json_object(), *arr = json_array();

		json_object_set_new(doc, "refreshed", json_boolean(refreshed));
		for (size_t i = 0; i < n; i++) {
			const struct drift_row *r = &rows[i];
			json_t *o = json_object(), *live = json_null();

			if (r->have_live || r->missing) {
				live = json_object();
				json_object_set_new(live, "observed_at",
				    output_json_time(r->observed_at));
				json_object_set_new(live, "provisioning_state",
				    output_json_opt(r->provisioning_state));
				json_object_set_new(live, "node_image_version",
				    r->have_live
				        ? json_string(
				              r->live.node_image_version)
				        : json_null());
				json_object_set_new(live, "kubernetes_version",
				    r->have_live
				        ? json_string(
				              r->live.kubernetes_version)
				        : json_null());
			}
			json_object_set_new(o, "pool", json_string(r->pc->key));
			json_object_set_new(
			    o, "channel", json_string(r->channel));
			json_object_set_new(
			    o, "verdict", json_string(r->verdict));
			if (r->have_live) {
				char why[256];
				int undoes =
				    apply_channels_undo_pin(r->upgrade_channel,
				        r->node_os_channel, why, sizeof(why));

				json_object_set_new(live, "upgrade_channel",
				    output_json_opt(r->upgrade_channel));
				json_object_set_new(live, "node_os_channel",
				    output_json_opt(r->node_os_channel));
				json_object_set_new(live, "channel_will_drift",
				    json_boolean(undoes));
				if (undoes)
					json_object_set_new(
					    live, "channel", json_string(why));
			}
			json_object_set_new(o, "live", live);
			json_object_set_new(o, "baseline",
			    r->have_base ? versions_json(&r->base, 1)
			                 : json_null());
			json_object_set_new(o, "newest",
			    r->have_newest ? versions_json(&r->newest, 0)
			                   : json_null());
			if (r->error[0] != '\0')
				json_object_set_new(
				    o, "error", json_string(r->error));
			json_array_append_new(arr, o);
		}
		json_object_set_new(doc, "pools", arr);
		output_print_json(doc);
		return;
	}
	tab = table_new(drift_cols, sizeof(drift_cols) / sizeof(drift_cols[0]));
	if (tab == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct drift_row *r = &rows[i];

		(void)table_add(tab, r->pc->key, r->verdict,
		    r->have_live ? r->live.node_image_version
		                 : (r->missing ? "(missing)" : "-"),
		    r->have_live ? r->live.kubernetes_version : "-",
		    r->have_base ? lookup_dash(r->base.v.node_image_version)
		                 : "-",
		    r->have_base ? lookup_dash(r->base.v.kubernetes_version)
		                 : "-",
		    r->have_newest ? lookup_dash(r->newest.v.node_image_version)
		                   : "-",
		    r->have_newest ? lookup_dash(r->newest.v.kubernetes_version)
		                   : "-");
	}
	table_print(tab, stdout);
	table_free(tab);
	for (size_t i = 0; i < n; i++)
		if (rows[i].error[0] != '\0')
			printf("%s: %s\n", rows[i].pc->key, rows[i].error);
}

int
cmd_drift(struct cli *cli, int argc, char **argv)
{
	static const struct option lopts[] = {
	    {"refresh", no_argument, NULL, 'r'},
	    {"channel", required_argument, NULL, 'c'},
	    {NULL, 0, NULL, 0},
	};
	struct config *cfg = NULL;
	struct db *db = NULL;
	struct drift_row *rows = NULL;
	const char *channel = NULL;
	int refresh = 0, failed = 0, ch, rc;

	while ((ch = cli_getopt(cli, argc, argv, lopts)) != -1) {
		switch (ch) {
		case 'r':
			refresh = 1;
			break;
		case 'c':
			if (optarg[0] == '\0')
				return cli_usage_error(
				    "drift", "--channel: expected a name");
			channel = optarg;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error(
		    "drift", "unexpected argument '%s'", argv[optind]);
	if (cli_load_config(cli, &cfg))
		return EXIT_USAGE;
	rc = EXIT_FAILED;
	if (db_open_nomigrate(cfg->database, &db) ||
	    fleet_adopt_stored(&cfg, db))
		goto out;
	rows = calloc(cfg->npools + 1, sizeof(*rows));
	if (rows == NULL)
		goto out;
	for (size_t i = 0; i < cfg->npools; i++) {
		struct drift_row *r = &rows[i];
		struct db_observation o;
		int got;

		r->pc = &cfg->pools[i];
		r->channel = channel != NULL ? channel : r->pc->policy.channel;
		if (lookup_pool_id(db, r->pc->key, &r->pool_id))
			goto out;
		if (r->pool_id == 0)
			continue;
		r->have_base = lookup_baseline(
		    db, r->pc->key, r->pool_id, r->channel, &r->base);
		r->have_newest =
		    db_snapshot_newest_active(db, r->pool_id, &r->newest);
		got = refresh ? 0 : db_observation_latest(db, r->pool_id, &o);
		if (r->have_base < 0 || r->have_newest < 0 || got < 0)
			goto out;
		if (got == 0)
			continue;
		r->observed_at = o.last_seen; /* last sighting */
		util_strlcpy(r->provisioning_state, o.provisioning_state,
		    sizeof(r->provisioning_state));
		if (strcmp(o.provisioning_state, "missing") == 0) {
			r->missing = 1;
		} else {
			r->live = o.v;
			r->have_live = 1;
			util_strlcpy(r->upgrade_channel, o.upgrade_channel,
			    sizeof(r->upgrade_channel));
			util_strlcpy(r->node_os_channel, o.node_os_channel,
			    sizeof(r->node_os_channel));
		}
	}
	rc = EXIT_DONE;
	if (refresh) {
		if (drift_refresh(cfg, rows, cfg->npools, &failed, &rc))
			goto out;
		rc = failed ? EXIT_FAILED : EXIT_DONE;
	}
	for (size_t i = 0; i < cfg->npools; i++)
		rows[i].verdict = drift_verdict_of(&rows[i]);
	drift_print(rows, cfg->npools, cli->json, refresh);
out:
	free(rows);
	db_close(db);
	config_free(cfg);
	return rc;
}
