/*
 * cmd_baseline.c -- baseline [--channel NAME] [--format table|json|env|tfvars]:
 * the promoted snapshot of each pool, in the form a script or Terraform
 * reads.
 *
 * A baseline is the snapshot that holds a pool's channel (its policy's
 * `channel`, or --channel).  One whose row is no longer active (deleted,
 * missing in Azure) is not a usable baseline: it is reported as none, with
 * a warning, so no script builds a pool from a snapshot that is gone.
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

enum baseline_format { FMT_TABLE, FMT_JSON, FMT_ENV, FMT_TFVARS };

/* AKSNAP_BASELINE_<KEY>: the pool key upper-cased, non-alnum as '_'. */
static void
env_name(const char *key, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "AKSNAP_BASELINE_");

	for (const char *p = key; *p != '\0' && n + 1 < len; p++)
		buf[n++] = isalnum((unsigned char)*p)
		    ? (char)toupper((unsigned char)*p)
		    : '_';
	buf[n < len ? n : len - 1] = '\0';
}

/* A value safe for sh, systemd EnvironmentFile= and docker --env-file:
 * bare when it holds only [A-Za-z0-9/._:-], else single-quoted for sh.
 * (A resource group may hold parentheses.) */
static void
print_env_value(const char *v)
{
	if (v[strspn(v,
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	        "0123456789/._:-")] == '\0') {
		printf("%s\n", v);
		return;
	}
	putchar('\'');
	for (const char *p = v; *p != '\0'; p++) {
		if (*p == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*p);
	}
	puts("'");
}

/* An HCL string literal: quotes, backslashes and "${" / "%{" escaped. */
static void
print_hcl_string(const char *v)
{
	putchar('"');
	for (const char *p = v; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			putchar('\\');
		putchar(*p);
		if ((*p == '$' || *p == '%') && p[1] == '{')
			putchar(*p); /* $${ and %%{ are literal */
	}
	putchar('"');
}

int
cmd_baseline(struct cli *cli, int argc, char **argv)
{
	/* At 80 columns: pool, channel and snapshot; the ARM id goes first. */
	static const struct table_col baseline_cols[] = {
	    {"POOL", 0, 0},
	    {"CHANNEL", 3, 0},
	    {"SNAPSHOT", 0, 0},
	    {"NODE IMAGE", 1, 0},
	    {"K8S", 2, 0},
	    {"PROMOTED", 4, 0},
	    {"ARM ID", 5, 0},
	};
	struct table *tab = NULL;
	static const struct option lopts[] = {
	    {"channel", required_argument, NULL, 'c'},
	    {"format", required_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0},
	};
	enum baseline_format fmt = FMT_TABLE;
	int fmt_given = 0;
	const char *channel = NULL;
	struct config *cfg = NULL;
	struct db *db = NULL;
	struct db_snapshot *base = NULL;
	int *have = NULL;
	json_t *arr = NULL;
	size_t width = 0;
	int ch, rc;

	while ((ch = cli_getopt(cli, argc, argv, lopts)) != -1) {
		switch (ch) {
		case 'c':
			if (optarg[0] == '\0')
				return cli_usage_error(
				    "baseline", "--channel: expected a name");
			channel = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "json") == 0)
				fmt = FMT_JSON;
			else if (strcmp(optarg, "env") == 0)
				fmt = FMT_ENV;
			else if (strcmp(optarg, "tfvars") == 0)
				fmt = FMT_TFVARS;
			else if (strcmp(optarg, "table") == 0)
				fmt = FMT_TABLE;
			else
				return cli_usage_error("baseline",
				    "--format: expected table, json, env or "
				    "tfvars, got '%s'",
				    optarg);
			fmt_given = 1;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (!fmt_given && cli->json)
		fmt = FMT_JSON;
	if (optind < argc)
		return cli_usage_error(
		    "baseline", "unexpected argument '%s'", argv[optind]);
	if (cli_load_config(cli, &cfg))
		return EXIT_USAGE;
	rc = EXIT_FAILED;
	if (db_open_nomigrate(cfg->database, &db) ||
	    fleet_adopt_stored(&cfg, db))
		goto out;
	base = calloc(cfg->npools + 1, sizeof(*base));
	have = calloc(cfg->npools + 1, sizeof(*have));
	if (base == NULL || have == NULL)
		goto out;
	for (size_t i = 0; i < cfg->npools; i++) {
		const struct pool_conf *pc = &cfg->pools[i];
		int64_t pool_id;

		if (lookup_pool_id(db, pc->key, &pool_id))
			goto out;
		have[i] = lookup_baseline(db, pc->key, pool_id,
		    channel != NULL ? channel : pc->policy.channel, &base[i]);
		if (have[i] < 0)
			goto out;
		if (strlen(pc->key) > width)
			width = strlen(pc->key);
	}
	rc = EXIT_DONE;

	switch (fmt) {
	case FMT_JSON: {
		json_t *doc = json_object();

		arr = json_array();
		json_object_set_new(doc, "channel", output_json_opt(channel));
		for (size_t i = 0; i < cfg->npools; i++) {
			const struct pool_conf *pc = &cfg->pools[i];
			const struct db_snapshot *b = have[i] ? &base[i] : NULL;
			json_t *o = json_object();

			json_object_set_new(o, "pool", json_string(pc->key));
			json_object_set_new(o, "channel",
			    json_string(channel != NULL ? channel
			                                : pc->policy.channel));
			json_object_set_new(o, "snapshot",
			    b ? json_string(b->name) : json_null());
			json_object_set_new(o, "arm_id",
			    b ? json_string(b->arm_id) : json_null());
			json_object_set_new(o, "node_image_version",
			    b ? output_json_opt(b->v.node_image_version)
			      : json_null());
			json_object_set_new(o, "kubernetes_version",
			    b ? output_json_opt(b->v.kubernetes_version)
			      : json_null());
			json_object_set_new(o, "promoted_at",
			    b ? output_json_time(b->promoted_at) : json_null());
			json_array_append_new(arr, o);
		}
		json_object_set_new(doc, "baselines", arr);
		output_print_json(doc);
		break;
	}
	case FMT_ENV:
		/* Pools without a baseline get no line: an unset variable
		 * is what a script tests for. */
		for (size_t i = 0; i < cfg->npools; i++) {
			char name[96];

			if (!have[i])
				continue;
			env_name(cfg->pools[i].key, name, sizeof(name));
			printf("%s=", name);
			print_env_value(base[i].arm_id);
		}
		break;
	case FMT_TFVARS:
		printf("aksnap_baselines = {\n");
		for (size_t i = 0; i < cfg->npools; i++) {
			const struct pool_conf *pc = &cfg->pools[i];

			if (!have[i]) {
				printf("  # %s: no baseline in channel %s\n",
				    pc->key,
				    channel != NULL ? channel
				                    : pc->policy.channel);
				continue;
			}
			printf("  ");
			print_hcl_string(pc->key);
			printf("%*s = ", (int)(width - strlen(pc->key)), "");
			print_hcl_string(base[i].arm_id);
			putchar('\n');
		}
		printf("}\n");
		break;
	case FMT_TABLE:
		tab = table_new(baseline_cols,
		    sizeof(baseline_cols) / sizeof(baseline_cols[0]));
		if (tab == NULL) {
			rc = EXIT_FAILED;
			break;
		}
		for (size_t i = 0; i < cfg->npools; i++) {
			const struct pool_conf *pc = &cfg->pools[i];
			const char *chan =
			    channel != NULL ? channel : pc->policy.channel;
			char promoted[32];

			if (!have[i]) {
				(void)table_add(tab, pc->key, chan, "(none)",
				    "-", "-", "-", "-");
				continue;
			}
			output_time(
			    base[i].promoted_at, promoted, sizeof(promoted));
			(void)table_add(tab, pc->key, chan, base[i].name,
			    lookup_dash(base[i].v.node_image_version),
			    lookup_dash(base[i].v.kubernetes_version), promoted,
			    base[i].arm_id);
		}
		table_print(tab, stdout);
		table_free(tab);
		break;
	}
out:
	free(base);
	free(have);
	db_close(db);
	config_free(cfg);
	return rc;
}
