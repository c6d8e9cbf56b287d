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
#include "job/azure/token.h"
#include "job/base/exit.h"
#include "job/base/log.h"
#include "job/base/table.h"
#include "job/base/util.h"
#include "job/cmd/cli.h"
#include "job/rules/fleet.h"
#include "job/run/run.h"

#define DISCOVER_MAX_SUBS 64

enum format { FMT_TABLE, FMT_JSON, FMT_INI };

/* One pool to show. */
struct row {
	char sub[64], rg[91];
	const struct arm_cluster *c;
	const struct arm_agent_pool *p;
	char key[64];
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

static const char *
dash(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : "-";
}

static void
print_rows(const struct row *rows, size_t n, enum format fmt)
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
	struct table *t;

	if (fmt == FMT_INI) {
		for (size_t i = 0; i < n; i++)
			printf("%s[pool:%s]\nsubscription = %s\n"
			       "resource_group = %s\ncluster = %s\n"
			       "nodepool = %s\n",
			    i > 0 ? "\n" : "", rows[i].key, rows[i].sub,
			    rows[i].rg, rows[i].c->name, rows[i].p->name);
		return;
	}
	if (fmt == FMT_JSON) {
		json_t *arr = json_array();
		char *s;

		for (size_t i = 0; i < n; i++) {
			const struct row *r = &rows[i];

			json_array_append_new(arr,
			    json_pack(
			        "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o,"
			        "s:o}",
			        "key", r->key, "subscription", r->sub,
			        "resource_group", r->rg, "cluster", r->c->name,
			        "nodepool", r->p->name, "mode", r->p->mode,
			        "os_type", r->p->os_type, "kubernetes_version",
			        r->p->current_orchestrator_version[0]
			            ? r->p->current_orchestrator_version
			            : r->p->orchestrator_version,
			        "node_image_version", r->p->node_image_version,
			        "upgrade_channel",
			        r->c->upgrade_channel[0]
			            ? json_string(r->c->upgrade_channel)
			            : json_null(),
			        "node_os_upgrade_channel",
			        r->c->node_os_channel[0]
			            ? json_string(r->c->node_os_channel)
			            : json_null()));
		}
		s = json_dumps(arr, JSON_INDENT(2));
		if (s != NULL)
			printf("%s\n", s);
		free(s);
		json_decref(arr);
		return;
	}
	t = table_new(cols, sizeof(cols) / sizeof(cols[0]));
	if (t == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[i];

		table_add(t, r->sub, r->rg, r->c->name, r->p->name,
		    dash(r->p->mode), dash(r->p->os_type),
		    dash(r->p->current_orchestrator_version[0]
		            ? r->p->current_orchestrator_version
		            : r->p->orchestrator_version),
		    dash(r->p->node_image_version), dash(r->c->upgrade_channel),
		    dash(r->c->node_os_channel));
	}
	table_print(t, stdout);
	table_free(t);
}

int
cmd_discover(struct cli *cli, int argc, char **argv)
{
	static const struct option lopts[] = {
	    {"subscription", required_argument, NULL, 's'},
	    {"fleet", required_argument, NULL, 'f'},
	    {"format", required_argument, NULL, 'F'},
	    {NULL, 0, NULL, 0},
	};
	const char *subs[DISCOVER_MAX_SUBS];
	const char *fleet_name = NULL, *token;
	const struct fleet_conf *fleet = NULL;
	struct config *cfg = NULL;
	struct http_client *http = NULL;
	struct token_provider *tokens = NULL;
	struct arm *arm = NULL;
	struct arm_cluster **lists = NULL;
	size_t *nlists = NULL, nsubs = 0, nrows = 0, cap = 0;
	struct row *rows = NULL;
	enum format fmt = cli->json ? FMT_JSON : FMT_TABLE;
	int ch, rc = EXIT_FAILED, failed = 0, answered = 0;

	while ((ch = cli_getopt(cli, argc, argv, lopts)) != -1) {
		switch (ch) {
		case 's':
			if (nsubs == DISCOVER_MAX_SUBS)
				return cli_usage_error("discover",
				    "more than %d --subscription",
				    DISCOVER_MAX_SUBS);
			subs[nsubs++] = optarg;
			break;
		case 'f':
			fleet_name = optarg;
			break;
		case 'F':
			if (strcmp(optarg, "table") == 0)
				fmt = FMT_TABLE;
			else if (strcmp(optarg, "json") == 0)
				fmt = FMT_JSON;
			else if (strcmp(optarg, "ini") == 0)
				fmt = FMT_INI;
			else
				return cli_usage_error("discover",
				    "--format: expected table, json or ini, "
				    "got '%s'",
				    optarg);
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error(
		    "discover", "unexpected argument '%s'", argv[optind]);
	if (cli_load_config(cli, &cfg))
		return EXIT_USAGE;
	for (size_t i = 0; fleet_name != NULL && i < cfg->nfleets; i++)
		if (strcasecmp(cfg->fleets[i].name, fleet_name) == 0)
			fleet = &cfg->fleets[i];
	if (fleet_name != NULL && fleet == NULL) {
		config_free(cfg);
		return cli_usage_error("discover", "no [fleet:%s] in %s",
		    fleet_name, cli->config_path);
	}
	if (nsubs == 0 && fleet != NULL)
		for (size_t i = 0; i < fleet->nsubscriptions; i++)
			subs[nsubs++] = fleet->subscriptions[i];
	if (nsubs == 0 && cfg->subscription[0] != '\0')
		subs[nsubs++] = cfg->subscription;
	if (nsubs == 0) {
		config_free(cfg);
		return cli_usage_error("discover",
		    "no subscription: give --subscription, or set one in "
		    "[aksnap]");
	}
	if (run_connect(cfg, &http, &tokens, &arm)) {
		rc = http != NULL && tokens == NULL ? EXIT_USAGE : EXIT_FAILED;
		goto out;
	}
	if (token_get(tokens, 0, &token)) {
		rc = token_failure_exit(tokens);
		goto out;
	}
	lists = calloc(nsubs, sizeof(*lists));
	nlists = calloc(nsubs, sizeof(*nlists));
	if (lists == NULL || nlists == NULL)
		goto out;
	for (size_t i = 0; i < nsubs; i++) {
		struct arm_error e;
		char why[700];
		size_t pages = 0;

		if (arm_cluster_list(arm, NULL, subs[i], NULL, &lists[i],
		        &nlists[i], &pages, &e)) {
			arm_error_describe(&e, why, sizeof(why));
			log_err(NULL,
			    "cannot list the managed clusters of subscription "
			    "%s: %s",
			    subs[i], why);
			failed = 1;
			if (e.status != 0 && !http_retryable_status(e.status))
				answered = 1;
			continue;
		}
		answered = 1;
		for (size_t j = 0; j < nlists[i]; j++) {
			const struct arm_cluster *c = &lists[i][j];
			char rg[91];

			if (id_rg(c->id, rg, sizeof(rg)))
				continue;
			for (size_t k = 0; k < c->npools; k++) {
				if (fleet != NULL) {
					struct fleet_candidate cand;
					const char *tk[64], *tv[64];
					size_t nt = 0;

					for (size_t t = 0;
					     t < c->ntags && nt < 64; t++) {
						tk[nt] = c->tags[t].key;
						tv[nt++] = c->tags[t].value;
					}
					memset(&cand, 0, sizeof(cand));
					cand.subscription = subs[i];
					cand.resource_group = rg;
					cand.cluster = c->name;
					cand.nodepool = c->pools[k].name;
					cand.mode = c->pools[k].mode;
					cand.os_type = c->pools[k].os_type;
					cand.tag_keys = tk;
					cand.tag_values = tv;
					cand.ntags = nt;
					if (!fleet_match(fleet, &cand))
						continue;
				}
				if (nrows == cap) {
					size_t nc = cap ? cap * 2 : 64;
					struct row *g =
					    realloc(rows, nc * sizeof(*rows));

					if (g == NULL)
						goto out;
					rows = g;
					cap = nc;
				}
				memset(&rows[nrows], 0, sizeof(rows[0]));
				util_strlcpy(rows[nrows].sub, subs[i],
				    sizeof(rows[nrows].sub));
				util_strlcpy(
				    rows[nrows].rg, rg, sizeof(rows[nrows].rg));
				rows[nrows].c = c;
				rows[nrows].p = &c->pools[k];
				nrows++;
			}
		}
	}
	if (nrows > 0)
		qsort(rows, nrows, sizeof(*rows), row_cmp);
	/* Keys: CLUSTER-NODEPOOL, hashed where two rows would share one. */
	for (size_t i = 0; i < nrows; i++)
		fleet_key("", rows[i].sub, rows[i].rg, rows[i].c->name,
		    rows[i].p->name, 0, rows[i].key, sizeof(rows[i].key));
	for (size_t i = 0; i < nrows; i++) {
		int dup = 0;

		for (size_t j = 0; j < nrows && !dup; j++)
			if (j != i && strcasecmp(rows[i].key, rows[j].key) == 0)
				dup = 1;
		if (dup)
			fleet_key("", rows[i].sub, rows[i].rg, rows[i].c->name,
			    rows[i].p->name, 1, rows[i].key,
			    sizeof(rows[i].key));
	}
	print_rows(rows, nrows, fmt);
	/* ARM unreachable, or only temporary errors: try later (75). */
	rc = !failed ? EXIT_DONE : answered ? EXIT_FAILED : EXIT_TEMP;
out:
	for (size_t i = 0; lists != NULL && i < nsubs; i++) {
		for (size_t j = 0; j < nlists[i]; j++)
			arm_cluster_free(&lists[i][j]);
		free(lists[i]);
	}
	free(lists);
	free(nlists);
	free(rows);
	run_disconnect(http, tokens, arm);
	config_free(cfg);
	return rc;
}
