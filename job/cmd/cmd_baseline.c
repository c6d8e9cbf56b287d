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
#include "db/db_reads.h"
#include "job/azure/arm.h"
#include "job/azure/http.h"
#include "job/azure/token.h"
#include "job/base/json_stream.h"
#include "job/base/json_write.h"
#include "job/base/log.h"
#include "job/base/reasons.h"
#include "job/base/table.h"
#include "job/base/util.h"
#include "job/cmd/cli.h"
#include "job/cmd/lookup.h"
#include "job/cmd/output.h"
#include "job/cmd/session.h"
#include "job/rules/apply_checks.h"
#include "job/rules/drift.h"
#include "job/rules/retention.h"
#include "job/rules/schedule.h"
#include "job/rules/versions.h"
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

/* What every format prints: one row per configured pool, each written as
 * it is read (the table prints at the end, as wide as its content). */
struct baselines {
	const struct config *cfg;
	const char *channel; /* --channel, or NULL: each pool's own */
	enum baseline_format fmt;
	size_t width; /* the longest pool key */
	struct table *tab; /* FMT_TABLE */
};

static const char *
channel_of(const struct baselines *b, size_t i)
{
	return b->channel != NULL ? b->channel
	                          : b->cfg->pools[i].policy->channel;
}

static int
parse_format(const char *arg, enum baseline_format *fmt)
{
	static const char *const names[] = {
	    [FMT_TABLE] = "table",
	    [FMT_JSON] = "json",
	    [FMT_ENV] = "env",
	    [FMT_TFVARS] = "tfvars",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(arg, names[i]) == 0) {
			*fmt = (enum baseline_format)i;
			return 0;
		}
	}
	return cli_usage_error("baseline",
	    "--format: expected table, json, env or tfvars, got '%s'", arg);
}

static int
parse_args(struct cli *cli, int argc, char **argv, const char **channel,
    enum baseline_format *fmt)
{
	static const struct option lopts[] = {
	    {"channel", required_argument, NULL, 'c'},
	    {"format", required_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0},
	};
	int ch, fmt_given = 0;

	*fmt = FMT_TABLE;
	while ((ch = cli_getopt(cli, argc, argv, lopts)) != -1) {
		if (ch == 'c' && optarg[0] == '\0')
			return cli_usage_error(
			    "baseline", "--channel: expected a name");
		if (ch == 'c')
			*channel = optarg;
		else if (ch == 'f' && parse_format(optarg, fmt) != 0)
			return EXIT_USAGE;
		else if (ch == 'f')
			fmt_given = 1;
		else
			return EXIT_USAGE;
	}
	if (!fmt_given && cli->json)
		*fmt = FMT_JSON;
	if (optind < argc)
		return cli_usage_error(
		    "baseline", "unexpected argument '%s'", argv[optind]);
	return EXIT_DONE;
}

/* Pool ${i} in JSON, an element of "baselines" (written as jansson
 * would dump it: json_write.h): ${s} its baseline, NULL for none. */
static void
row_json(const struct baselines *b, size_t i, const struct db_snapshot *s)
{
	struct json_write w;

	json_write_begin(&w, stdout, 2);
	json_write_string(&w, "pool", b->cfg->pools[i].key);
	json_write_string(&w, "channel", channel_of(b, i));
	json_write_string(&w, "snapshot", s ? s->name : NULL);
	json_write_string(&w, "arm_id", s ? s->arm_id : NULL);
	if (s != NULL) {
		json_write_opt(
		    &w, "node_image_version", s->v.node_image_version);
		json_write_opt(
		    &w, "kubernetes_version", s->v.kubernetes_version);
		output_write_time(&w, "promoted_at", s->promoted_at);
	} else {
		json_write_null(&w, "node_image_version");
		json_write_null(&w, "kubernetes_version");
		json_write_null(&w, "promoted_at");
	}
	json_write_end(&w);
}

/* Pools without a baseline get no line: an unset variable is what a
 * script tests for. */
static void
row_env(const struct baselines *b, size_t i, const struct db_snapshot *s)
{
	char name[96];

	if (s == NULL)
		return;
	env_name(b->cfg->pools[i].key, name, sizeof(name));
	printf("%s=", name);
	print_env_value(s->arm_id);
}

static void
row_tfvars(const struct baselines *b, size_t i, const struct db_snapshot *s)
{
	const char *key = b->cfg->pools[i].key;

	if (s == NULL) {
		printf("  # %s: no baseline in channel %s\n", key,
		    channel_of(b, i));
		return;
	}
	printf("  ");
	print_hcl_string(key);
	printf("%*s = ", (int)(b->width - strlen(key)), "");
	print_hcl_string(s->arm_id);
	putchar('\n');
}

static int
row_table(struct baselines *b, size_t i, const struct db_snapshot *s)
{
	const char *key = b->cfg->pools[i].key;
	char promoted[32];

	if (s == NULL)
		return table_add(b->tab, key, channel_of(b, i), "(none)", "-",
		    "-", "-", "-");
	output_time(s->promoted_at, promoted, sizeof(promoted));
	return table_add(b->tab, key, channel_of(b, i), s->name,
	    lookup_dash(s->v.node_image_version),
	    lookup_dash(s->v.kubernetes_version), promoted, s->arm_id);
}

/* Start the format's output.  0/-1. */
static int
rows_open(struct baselines *b)
{
	/* At 80 columns: pool, channel and snapshot; the ARM id goes first. */
	static const struct table_col cols[] = {
	    {"POOL", 0, 0},
	    {"CHANNEL", 3, 0},
	    {"SNAPSHOT", 0, 0},
	    {"NODE IMAGE", 1, 0},
	    {"K8S", 2, 0},
	    {"PROMOTED", 4, 0},
	    {"ARM ID", 5, 0},
	};

	for (size_t i = 0; i < b->cfg->npools; i++)
		if (strlen(b->cfg->pools[i].key) > b->width)
			b->width = strlen(b->cfg->pools[i].key);
	switch (b->fmt) {
	case FMT_JSON:
		fputs("{", stdout);
		return json_stream_member(
		    stdout, "\n", 1, "channel", output_json_opt(b->channel));
	case FMT_TFVARS:
		printf("aksnap_baselines = {\n");
		return 0;
	case FMT_TABLE:
		b->tab = table_new(cols, sizeof(cols) / sizeof(cols[0]));
		return b->tab != NULL ? 0 : -1;
	default:
		return 0;
	}
}

/* Write pool ${i}'s row: ${s} its baseline, NULL for none.  0/-1. */
static int
row(struct baselines *b, size_t i, const struct db_snapshot *s)
{
	switch (b->fmt) {
	case FMT_JSON:
		if (i == 0)
			fputs(",\n  \"baselines\": [", stdout);
		fputs(i > 0 ? ",\n    " : "\n    ", stdout);
		row_json(b, i, s);
		return 0;
	case FMT_ENV:
		row_env(b, i, s);
		return 0;
	case FMT_TFVARS:
		row_tfvars(b, i, s);
		return 0;
	default:
		return row_table(b, i, s);
	}
}

/* Finish the format's output. */
static void
rows_close(struct baselines *b)
{
	switch (b->fmt) {
	case FMT_JSON:
		if (b->cfg->npools == 0)
			fputs(",\n  \"baselines\": [", stdout);
		json_stream_array_end(stdout, 1, b->cfg->npools);
		fputs("\n}\n", stdout);
		break;
	case FMT_TFVARS:
		printf("}\n");
		break;
	case FMT_TABLE:
		table_print(b->tab, stdout);
		break;
	default:
		break;
	}
}

/* Pool ${k}'s row from its facts ${r} (db_pools_read). */
static int
baseline_one(void *ctx, size_t k, const struct db_pool_read *r)
{
	struct baselines *b = ctx;
	int have = lookup_baseline_usable(
	    b->cfg->pools[k].key, channel_of(b, k), r->have_base, &r->base);

	return row(b, k, have ? &r->base : NULL) != 0 ? -1 : 0;
}

/*
 * Each pool's usable baseline, read in one read transaction by one
 * statement for the whole fleet (db_pools_read), in the configuration's
 * order -- what it reads (the channels' holders, the snapshots they
 * hold) fits the page cache -- and written as it is read.  0 or -1
 * (store error, logged).
 */
static int
baselines_print(struct db *db, struct baselines *b)
{
	struct db_pool_ids *ids = NULL;
	size_t n = b->cfg->npools;
	int64_t *pool_ids = calloc(n + 1, sizeof(*pool_ids));
	const char **channels = calloc(n + 1, sizeof(*channels));
	int rc = -1;

	if (pool_ids == NULL || channels == NULL || rows_open(b) ||
	    db_read_begin(db) || db_pool_ids_load(db, &ids))
		goto out;
	for (size_t i = 0; i < n; i++) {
		pool_ids[i] = db_pool_ids_find(ids, b->cfg->pools[i].key);
		channels[i] = channel_of(b, i);
	}
	if (db_pools_read(
	        db, pool_ids, channels, n, DB_POOL_BASELINE, baseline_one, b))
		goto out;
	rows_close(b);
	rc = 0;
out:
	db_read_end(db);
	db_pool_ids_free(ids);
	free(pool_ids);
	free(channels);
	return rc;
}

int
cmd_baseline(struct cli *cli, int argc, char **argv)
{
	struct baselines b;
	struct session ss;
	enum baseline_format fmt;
	const char *channel = NULL;
	int rc;

	rc = parse_args(cli, argc, argv, &channel, &fmt);
	if (rc != EXIT_DONE)
		return rc;
	memset(&b, 0, sizeof(b));
	rc = session_open(&ss, cli, SESSION_STORE | SESSION_FLEETS);
	b.cfg = ss.cfg;
	b.channel = channel;
	b.fmt = fmt;
	if (rc == EXIT_DONE && baselines_print(ss.db, &b))
		rc = EXIT_FAILED;
	table_free(b.tab);
	session_close(&ss);
	return rc;
}
