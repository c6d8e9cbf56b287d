/*
 * cmd_discover.c -- `aksnap discover [--subscription S]... [--fleet NAME]
 * [--format table|json|ini]`: what subscriptions hold, or what a fleet
 * selects.
 *
 * One ManagedClusters_List per subscription (every nextLink page), nothing
 * written: no lock, no store.  Without --fleet every node pool is shown;
 * with it, only those the fleet's selectors match (its subscriptions unless
 * --subscription is given).  --format ini prints one [pool:KEY] section a
 * pool, ready to edit and paste: `config check` accepts them (KEY is
 * CLUSTER-NODEPOOL, hashed as fleet_key does when too long or repeated).
 *
 * The rows are gathered first (every subscription's clusters, the fleet's
 * selection, sorted, keyed), then rendered in one place per format.  Exit
 * 0 when every subscription answered, 1 when one failed, 75 when ARM did
 * not answer at all, 2 when it cannot be trusted (a TLS certificate or an
 * identity refused: nothing shown) or for a usage or configuration error.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"
#include "job/azure/arm.h"
#include "job/azure/http.h"
#include "job/base/exit.h"
#include "job/base/log.h"
#include "job/base/table.h"
#include "job/base/util.h"
#include "job/cmd/cli.h"
#include "job/cmd/lookup.h"
#include "job/cmd/output.h"
#include "job/cmd/session.h"
#include "job/rules/fleet.h"

#define DISCOVER_MAX_SUBS 64

enum format { FMT_TABLE, FMT_JSON, FMT_INI };

/* One pool to show. */
struct row {
	char sub[64], rg[91];
	const struct arm_cluster *c;
	const struct arm_agent_pool *p;
	char key[64];
};

/* What the command gathers: its arguments, the clusters, the rows. */
struct discover {
	const char *subs[DISCOVER_MAX_SUBS];
	size_t nsubs;
	const char *fleet_name;
	const struct fleet_conf *fleet;
	enum format fmt;
	struct arm_cluster **lists; /* one list per subscription */
	size_t *nlists;
	struct row *rows;
	size_t nrows, cap;
	int failed, answered;
};

static int
id_rg(const char *id, char *rg, size_t len)
{
	const char *g = strcasestr(id, "/resourceGroups/"), *e;

	if (g == NULL)
		return -1;
	g += strlen("/resourceGroups/");
	e = strchr(g, '/');
	if (e == NULL || (size_t)(e - g) >= len)
		return -1;
	memcpy(rg, g, (size_t)(e - g));
	rg[e - g] = '\0';
	return 0;
}

static int
row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c = strcasecmp(x->sub, y->sub);

	if (c == 0)
		c = strcasecmp(x->rg, y->rg);
	if (c == 0)
		c = strcasecmp(x->c->name, y->c->name);
	if (c == 0)
		c = strcasecmp(x->p->name, y->p->name);
	return c;
}

/* ---- rendering ---- */

static const char *
k8s(const struct arm_agent_pool *p)
{
	return p->current_orchestrator_version[0]
	    ? p->current_orchestrator_version
	    : p->orchestrator_version;
}

static void
print_ini(const struct row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%s[pool:%s]\nsubscription = %s\n"
		       "resource_group = %s\ncluster = %s\n"
		       "nodepool = %s\n",
		    i > 0 ? "\n" : "", rows[i].key, rows[i].sub, rows[i].rg,
		    rows[i].c->name, rows[i].p->name);
}

static void
print_json(const struct row *rows, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[i];

		json_array_append_new(arr,
		    json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o}",
		        "key", r->key, "subscription", r->sub, "resource_group",
		        r->rg, "cluster", r->c->name, "nodepool", r->p->name,
		        "mode", r->p->mode, "os_type", r->p->os_type,
		        "kubernetes_version", k8s(r->p), "node_image_version",
		        r->p->node_image_version, "upgrade_channel",
		        output_json_opt(r->c->upgrade_channel),
		        "node_os_upgrade_channel",
		        output_json_opt(r->c->node_os_channel)));
	}
	output_print_json(arr);
}

static void
print_table(const struct row *rows, size_t n)
{
	static const struct table_col cols[] = {
	    {"SUBSCRIPTION", 0, 0},
	    {"RESOURCE GROUP", 0, 0},
	    {"CLUSTER", 0, 0},
	    {"POOL", 0, 0},
	    {"MODE", 0, 0},
	    {"OS", 0, 0},
	    {"K8S", 0, 0},
	    {"NODE IMAGE", 0, 0},
	    {"UPGRADE CHANNEL", 0, 0},
	    {"NODE OS CHANNEL", 0, 0},
	};
	struct table *t = table_new(cols, sizeof(cols) / sizeof(cols[0]));

	if (t == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[i];

		table_add(t, r->sub, r->rg, r->c->name, r->p->name,
		    lookup_dash(r->p->mode), lookup_dash(r->p->os_type),
		    lookup_dash(k8s(r->p)),
		    lookup_dash(r->p->node_image_version),
		    lookup_dash(r->c->upgrade_channel),
		    lookup_dash(r->c->node_os_channel));
	}
	table_print(t, stdout);
	table_free(t);
}

static void
print_rows(const struct row *rows, size_t n, enum format fmt)
{
	if (fmt == FMT_INI)
		print_ini(rows, n);
	else if (fmt == FMT_JSON)
		print_json(rows, n);
	else
		print_table(rows, n);
}

/* ---- gathering ---- */

/* Does ${d}'s fleet (if any) select pool ${k} of ${c}? */
static int
selected(const struct discover *d, const char *sub, const char *rg,
    const struct arm_cluster *c, size_t k)
{
	struct fleet_candidate cand;
	const char *tk[64], *tv[64];
	size_t nt = 0;

	if (d->fleet == NULL)
		return 1;
	for (size_t t = 0; t < c->ntags && nt < 64; t++) {
		tk[nt] = c->tags[t].key;
		tv[nt++] = c->tags[t].value;
	}
	memset(&cand, 0, sizeof(cand));
	cand.subscription = sub;
	cand.resource_group = rg;
	cand.cluster = c->name;
	cand.nodepool = c->pools[k].name;
	cand.mode = c->pools[k].mode;
	cand.os_type = c->pools[k].os_type;
	cand.tag_keys = tk;
	cand.tag_values = tv;
	cand.ntags = nt;
	return fleet_match(d->fleet, &cand);
}

/* Add pool ${k} of ${c} as a row.  0, or -1 out of memory. */
static int
add_row(struct discover *d, const char *sub, const char *rg,
    const struct arm_cluster *c, size_t k)
{
	struct row *r;

	if (d->nrows == d->cap) {
		size_t nc = d->cap ? d->cap * 2 : 64;
		struct row *g = realloc(d->rows, nc * sizeof(*d->rows));

		if (g == NULL)
			return -1;
		d->rows = g;
		d->cap = nc;
	}
	r = &d->rows[d->nrows++];
	memset(r, 0, sizeof(*r));
	util_strlcpy(r->sub, sub, sizeof(r->sub));
	util_strlcpy(r->rg, rg, sizeof(r->rg));
	r->c = c;
	r->p = &c->pools[k];
	return 0;
}

/* List subscription ${i}'s clusters and add their selected pools.  0, or
 * -1 out of memory; a failed list is logged and counted. */
static int
gather_subscription(struct discover *d, struct arm *arm, size_t i)
{
	struct arm_error e;
	char why[700], rg[91];
	size_t pages = 0;

	if (arm_cluster_list(arm, NULL, d->subs[i], NULL, &d->lists[i],
	        &d->nlists[i], &pages, &e)) {
		arm_error_describe(&e, why, sizeof(why));
		log_err(NULL,
		    "cannot list the managed clusters of subscription %s: %s",
		    d->subs[i], why);
		d->failed = 1;
		if (e.status != 0 && !http_retryable_status(e.status))
			d->answered = 1;
		return 0;
	}
	d->answered = 1;
	for (size_t j = 0; j < d->nlists[i]; j++) {
		const struct arm_cluster *c = &d->lists[i][j];

		if (id_rg(c->id, rg, sizeof(rg)))
			continue;
		for (size_t k = 0; k < c->npools; k++)
			if (selected(d, d->subs[i], rg, c, k) &&
			    add_row(d, d->subs[i], rg, c, k))
				return -1;
	}
	return 0;
}

/* Keys: CLUSTER-NODEPOOL, hashed where two rows would share one. */
static void
assign_keys(struct row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fleet_key("", rows[i].sub, rows[i].rg, rows[i].c->name,
		    rows[i].p->name, 0, rows[i].key, sizeof(rows[i].key));
	for (size_t i = 0; i < n; i++) {
		int dup = 0;

		for (size_t j = 0; j < n && !dup; j++)
			if (j != i && strcasecmp(rows[i].key, rows[j].key) == 0)
				dup = 1;
		if (dup)
			fleet_key("", rows[i].sub, rows[i].rg, rows[i].c->name,
			    rows[i].p->name, 1, rows[i].key,
			    sizeof(rows[i].key));
	}
}

/* Every subscription's pools, sorted and keyed: EXIT_DONE, or 1 when out
 * of memory (the failures of ARM are in d->failed, d->answered). */
static int
gather(struct discover *d, struct arm *arm)
{
	d->lists = calloc(d->nsubs, sizeof(*d->lists));
	d->nlists = calloc(d->nsubs, sizeof(*d->nlists));
	if (d->lists == NULL || d->nlists == NULL)
		return EXIT_FAILED;
	for (size_t i = 0; i < d->nsubs; i++)
		if (gather_subscription(d, arm, i))
			return EXIT_FAILED;
	if (d->nrows > 0)
		qsort(d->rows, d->nrows, sizeof(*d->rows), row_cmp);
	assign_keys(d->rows, d->nrows);
	return EXIT_DONE;
}

static void
discover_clear(struct discover *d)
{
	for (size_t i = 0; d->lists != NULL && i < d->nsubs; i++) {
		for (size_t j = 0; j < d->nlists[i]; j++)
			arm_cluster_free(&d->lists[i][j]);
		free(d->lists[i]);
	}
	free(d->lists);
	free(d->nlists);
	free(d->rows);
}

/* ---- the command ---- */

static int
discover_args(struct cli *cli, int argc, char **argv, struct discover *d)
{
	static const struct option lopts[] = {
	    {"subscription", required_argument, NULL, 's'},
	    {"fleet", required_argument, NULL, 'f'},
	    {"format", required_argument, NULL, 'F'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	while ((ch = cli_getopt(cli, argc, argv, lopts)) != -1) {
		if (ch == 's' && d->nsubs == DISCOVER_MAX_SUBS)
			return cli_usage_error("discover",
			    "more than %d --subscription", DISCOVER_MAX_SUBS);
		if (ch == 's')
			d->subs[d->nsubs++] = optarg;
		else if (ch == 'f')
			d->fleet_name = optarg;
		else if (ch == 'F' && strcmp(optarg, "table") == 0)
			d->fmt = FMT_TABLE;
		else if (ch == 'F' && strcmp(optarg, "json") == 0)
			d->fmt = FMT_JSON;
		else if (ch == 'F' && strcmp(optarg, "ini") == 0)
			d->fmt = FMT_INI;
		else if (ch == 'F')
			return cli_usage_error("discover",
			    "--format: expected table, json or ini, got '%s'",
			    optarg);
		else
			return EXIT_USAGE;
	}
	if (optind < argc)
		return cli_usage_error(
		    "discover", "unexpected argument '%s'", argv[optind]);
	return EXIT_DONE;
}

/* The fleet named, and the subscriptions to list: --subscription, else
 * the fleet's, else [aksnap]'s.  EXIT_DONE or a usage error. */
static int
discover_scope(
    struct discover *d, const struct config *cfg, const struct cli *cli)
{
	for (size_t i = 0; d->fleet_name != NULL && i < cfg->nfleets; i++)
		if (strcasecmp(cfg->fleets[i].name, d->fleet_name) == 0)
			d->fleet = &cfg->fleets[i];
	if (d->fleet_name != NULL && d->fleet == NULL)
		return cli_usage_error("discover", "no [fleet:%s] in %s",
		    d->fleet_name, cli->config_path);
	if (d->nsubs == 0 && d->fleet != NULL)
		for (size_t i = 0; i < d->fleet->nsubscriptions; i++)
			d->subs[d->nsubs++] = d->fleet->subscriptions[i];
	if (d->nsubs == 0 && cfg->subscription[0] != '\0')
		d->subs[d->nsubs++] = cfg->subscription;
	if (d->nsubs == 0)
		return cli_usage_error("discover",
		    "no subscription: give --subscription, or set one in "
		    "[aksnap]");
	return EXIT_DONE;
}

int
cmd_discover(struct cli *cli, int argc, char **argv)
{
	struct discover d;
	struct session s;
	int rc;

	memset(&d, 0, sizeof(d));
	d.fmt = cli->json ? FMT_JSON : FMT_TABLE;
	rc = discover_args(cli, argc, argv, &d);
	if (rc != EXIT_DONE)
		return rc;
	/* Nothing written: no lock, no store. */
	rc = session_open(&s, cli, 0);
	if (rc == EXIT_DONE)
		rc = discover_scope(&d, s.cfg, cli);
	if (rc == EXIT_DONE)
		rc = session_connect(&s);
	if (rc == EXIT_DONE)
		rc = gather(&d, s.arm);
	if (rc != EXIT_DONE)
		goto out;
	/* ARM unreachable, or only temporary errors: try later (75); its
	 * certificate untrusted: the configuration's error (2). */
	rc = !d.failed   ? EXIT_DONE
	    : d.answered ? EXIT_FAILED
	                 : session_unanswered(&s);
	if (rc != EXIT_USAGE)
		print_rows(d.rows, d.nrows, d.fmt);
out:
	discover_clear(&d);
	session_close(&s);
	return rc;
}
