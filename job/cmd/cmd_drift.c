/*
 * cmd_drift.c -- drift [--refresh] [--channel NAME]: each pool's live
 * versions against its baseline and its newest snapshot, with the verdict
 * of job/rules/drift.c.
 *
 * Reads the store; only --refresh talks to Azure (one GET per managed
 * cluster, and the answer is shown, not recorded: recording observations
 * is the run's job).  The rows are gathered first (store, then ARM), then
 * rendered as a table or one JSON document.  Exit 0 when every pool was
 * answered, 1 when a GET failed (that row says why), 2 when Azure could
 * not be trusted (a TLS certificate or an identity refused), and the
 * session's codes for the configuration and the store (session.h).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db/db.h"
#include "db/db_reads.h"
#include "job/azure/arm.h"
#include "job/base/json_stream.h"
#include "job/base/reorder.h"
#include "job/base/table.h"
#include "job/base/util.h"
#include "job/cmd/cli.h"
#include "job/cmd/lookup.h"
#include "job/cmd/output.h"
#include "job/cmd/session.h"
#include "job/rules/apply_checks.h"
#include "job/rules/drift.h"

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

/* ---- gathering: the store ---- */

/* ${r}'s baseline, newest snapshot and (unless refreshing) last
 * observation, of store id ${pool_id} (0: not in the store yet).  0, or
 * -1 on a store error. */
static int
row_from_store(struct db *db, int64_t pool_id, struct drift_row *r, int refresh)
{
	struct db_observation o;
	int got;

	r->pool_id = pool_id;
	if (r->pool_id == 0)
		return 0;
	r->have_base =
	    lookup_baseline(db, r->pc->key, r->pool_id, r->channel, &r->base);
	r->have_newest = db_snapshot_newest_active(db, r->pool_id, &r->newest);
	got = refresh ? 0 : db_observation_latest(db, r->pool_id, &o);
	if (r->have_base < 0 || r->have_newest < 0 || got < 0)
		return -1;
	if (got == 0)
		return 0;
	r->observed_at = o.last_seen; /* last sighting */
	util_strlcpy(r->provisioning_state, o.provisioning_state,
	    sizeof(r->provisioning_state));
	if (strcmp(o.provisioning_state, "missing") == 0) {
		r->missing = 1;
		return 0;
	}
	r->live = o.v;
	r->have_live = 1;
	util_strlcpy(
	    r->upgrade_channel, o.upgrade_channel, sizeof(r->upgrade_channel));
	util_strlcpy(
	    r->node_os_channel, o.node_os_channel, sizeof(r->node_os_channel));
	return 0;
}

/* ---- gathering: --refresh ---- */

static int
same_cluster(const struct pool_conf *a, const struct pool_conf *b)
{
	return strcasecmp(a->subscription, b->subscription) == 0 &&
	    strcasecmp(a->resource_group, b->resource_group) == 0 &&
	    strcasecmp(a->cluster, b->cluster) == 0;
}

static void
row_missing(struct drift_row *r)
{
	r->missing = 1;
	util_strlcpy(
	    r->provisioning_state, "missing", sizeof(r->provisioning_state));
}

/* ${r} as the GET of its cluster answered (${got} 0) or failed (${e}). */
static void
row_from_cluster(struct drift_row *r, int got, const struct arm_cluster *cl,
    const struct arm_error *e, int *some_failed)
{
	const struct arm_agent_pool *ap = NULL;

	r->observed_at = util_now();
	if (got != 0 && e->status == 404) {
		row_missing(r);
		return;
	}
	if (got != 0) {
		/* ARM's message may be longer than the row keeps: cut (the
		 * return looked at, or GCC's -Wformat-truncation, which a
		 * build with other flags turns on, fails the build) */
		if (snprintf(r->error, sizeof(r->error),
		        "GET cluster %s: %ld %s %s", r->pc->cluster, e->status,
		        e->code, e->message) >= (int)sizeof(r->error))
			r->error[sizeof(r->error) - 1] = '\0';
		*some_failed = 1;
		return;
	}
	for (size_t p = 0; p < cl->npools; p++)
		if (strcasecmp(cl->pools[p].name, r->pc->nodepool) == 0)
			ap = &cl->pools[p];
	if (ap == NULL) {
		row_missing(r);
		return;
	}
	arm_agent_pool_versions(ap, &r->live);
	util_strlcpy(r->provisioning_state, ap->provisioning_state,
	    sizeof(r->provisioning_state));
	util_strlcpy(r->upgrade_channel, cl->upgrade_channel,
	    sizeof(r->upgrade_channel));
	util_strlcpy(r->node_os_channel, cl->node_os_channel,
	    sizeof(r->node_os_channel));
	r->have_live = 1;
}

/*
 * --refresh: one GET per managed cluster, its answer spread over the rows
 * of its pools.  Return EXIT_DONE, with ${*some_failed} set when a GET
 * failed (those rows say why; a 404 is an answer: the pools are missing),
 * or the exit code when Azure cannot be asked or trusted (nothing shown).
 */
static int
drift_refresh(
    struct session *s, struct drift_row *rows, size_t n, int *some_failed)
{
	int rc, answered = 0;

	*some_failed = 0;
	if (n == 0)
		return EXIT_DONE;
	rc = session_connect(s);
	if (rc != EXIT_DONE)
		return rc;
	for (size_t i = 0; i < n; i++) {
		struct arm_cluster cl;
		struct arm_error e;
		int got, asked = 0;

		/* A cluster already asked for an earlier pool. */
		for (size_t j = 0; j < i && !asked; j++)
			asked = same_cluster(rows[j].pc, rows[i].pc);
		if (asked)
			continue;
		memset(&cl, 0, sizeof(cl));
		memset(&e, 0, sizeof(e));
		got = arm_cluster_get(s->arm, rows[i].pc->key,
		    rows[i].pc->subscription, rows[i].pc->resource_group,
		    rows[i].pc->cluster, &cl, &e);
		if (got == 0 || e.status != 0)
			answered = 1;
		for (size_t k = i; k < n; k++)
			if (same_cluster(rows[i].pc, rows[k].pc))
				row_from_cluster(
				    &rows[k], got, &cl, &e, some_failed);
		arm_cluster_free(&cl);
	}
	/* ARM never answered because its certificate is not trusted: a
	 * configuration error (ca_file), the same tomorrow. */
	if (!answered && session_unanswered(s) == EXIT_USAGE)
		return EXIT_USAGE;
	return EXIT_DONE;
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

/* ---- rendering ---- */

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

/* What was seen of ${r} in Azure: null when nothing was. */
static json_t *
live_json(const struct drift_row *r)
{
	json_t *live;
	char why[256];
	int undoes;

	if (!r->have_live && !r->missing)
		return json_null();
	live = json_object();
	json_object_set_new(
	    live, "observed_at", output_json_time(r->observed_at));
	json_object_set_new(
	    live, "provisioning_state", output_json_opt(r->provisioning_state));
	json_object_set_new(live, "node_image_version",
	    r->have_live ? json_string(r->live.node_image_version)
	                 : json_null());
	json_object_set_new(live, "kubernetes_version",
	    r->have_live ? json_string(r->live.kubernetes_version)
	                 : json_null());
	if (!r->have_live)
		return live;
	undoes = apply_channels_undo_pin(
	    r->upgrade_channel, r->node_os_channel, why, sizeof(why));
	json_object_set_new(
	    live, "upgrade_channel", output_json_opt(r->upgrade_channel));
	json_object_set_new(
	    live, "node_os_channel", output_json_opt(r->node_os_channel));
	json_object_set_new(live, "channel_will_drift", json_boolean(undoes));
	if (undoes)
		json_object_set_new(live, "channel", json_string(why));
	return live;
}

/* ${r} as an element of the document's "pools". */
static json_t *
row_json(const struct drift_row *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "pool", json_string(r->pc->key));
	json_object_set_new(o, "channel", json_string(r->channel));
	json_object_set_new(o, "verdict", json_string(r->verdict));
	json_object_set_new(o, "live", live_json(r));
	json_object_set_new(o, "baseline",
	    r->have_base ? versions_json(&r->base, 1) : json_null());
	json_object_set_new(o, "newest",
	    r->have_newest ? versions_json(&r->newest, 0) : json_null());
	if (r->error[0] != '\0')
		json_object_set_new(o, "error", json_string(r->error));
	return o;
}

/*
 * Rows are rendered as they are read, each into struct reorder
 * (job/base/reorder.h): its JSON member as output_print_json would print
 * it, or its table cells, each NUL-ended.  The store is read in its own
 * order (db_pool_ids_order), the rows are printed in the
 * configuration's.
 */
#define DRIFT_NCOLS 8

/* Render ${r}, the pool of configuration index ${i}, into ${ro}.  0/-1. */
static int
rendered_add(struct reorder *ro, size_t i, const struct drift_row *r, int json)
{
	const struct db_versions *b = &r->base.v, *nw = &r->newest.v;
	const char *cells[DRIFT_NCOLS];
	FILE *f = reorder_begin(ro, i);

	if (json) {
		if (json_stream_member(f, "", 2, NULL, row_json(r)))
			return -1;
		return reorder_end(ro, i);
	}
	cells[0] = r->pc->key;
	cells[1] = r->verdict;
	cells[2] = r->have_live ? r->live.node_image_version
	                        : (r->missing ? "(missing)" : "-");
	cells[3] = r->have_live ? r->live.kubernetes_version : "-";
	cells[4] = r->have_base ? lookup_dash(b->node_image_version) : "-";
	cells[5] = r->have_base ? lookup_dash(b->kubernetes_version) : "-";
	cells[6] = r->have_newest ? lookup_dash(nw->node_image_version) : "-";
	cells[7] = r->have_newest ? lookup_dash(nw->kubernetes_version) : "-";
	for (size_t c = 0; c < DRIFT_NCOLS; c++)
		fwrite(cells[c], 1, strlen(cells[c]) + 1, f);
	return reorder_end(ro, i);
}

/*
 * Print the ${n} rendered rows in the configuration's order: the table
 * (its columns as wide as their content), or the JSON document (the
 * bytes output_print_json would print of the whole document).  0/-1.
 */
static int
rendered_print(struct reorder *ro, size_t n, int json, int refreshed)
{
	/* At 80 columns: the verdict, the live image if it fits, then the
	 * others. */
	static const struct table_col cols[DRIFT_NCOLS] = {
	    {"POOL", 0, 0},
	    {"VERDICT", 0, 0},
	    {"LIVE IMAGE", 1, 0},
	    {"K8S", 4, 0},
	    {"BASELINE IMAGE", 2, 0},
	    {"K8S", 5, 0},
	    {"NEWEST SNAPSHOT IMAGE", 3, 0},
	    {"K8S", 6, 0},
	};
	const char *c[DRIFT_NCOLS];
	struct table *tab;

	if (json) {
		fputs("{", stdout);
		if (json_stream_member(
		        stdout, "\n", 1, "refreshed", json_boolean(refreshed)))
			return -1;
		fputs(",\n  \"pools\": [", stdout);
		for (size_t i = 0; i < n; i++) {
			fputs(i > 0 ? ",\n" : "\n", stdout);
			if (reorder_copy(ro, i, stdout))
				return -1;
		}
		json_stream_array_end(stdout, 1, n);
		fputs("\n}\n", stdout);
		return 0;
	}
	tab = table_new(cols, DRIFT_NCOLS);
	if (tab == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		c[0] = reorder_read(ro, i, NULL);
		if (c[0] == NULL) {
			table_free(tab);
			return -1;
		}
		for (size_t k = 1; k < DRIFT_NCOLS; k++)
			c[k] = c[k - 1] + strlen(c[k - 1]) + 1;
		if (table_add(
		        tab, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7])) {
			table_free(tab);
			return -1;
		}
	}
	table_print(tab, stdout);
	table_free(tab);
	return 0;
}

/* ---- the command ---- */

static int
drift_args(
    struct cli *cli, int argc, char **argv, int *refresh, const char **channel)
{
	static const struct option lopts[] = {
	    {"refresh", no_argument, NULL, 'r'},
	    {"channel", required_argument, NULL, 'c'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	while ((ch = cli_getopt(cli, argc, argv, lopts)) != -1) {
		switch (ch) {
		case 'r':
			*refresh = 1;
			break;
		case 'c':
			if (optarg[0] == '\0')
				return cli_usage_error(
				    "drift", "--channel: expected a name");
			*channel = optarg;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error(
		    "drift", "unexpected argument '%s'", argv[optind]);
	return EXIT_DONE;
}

/*
 * Each pool from the store, in the store's order (db_pool_ids_order:
 * each page read once), in one read transaction, rendered as it is read
 * (into a temporary file: memory holds one row, whatever the number of
 * pools); then printed in the configuration's order.  0/-1.
 */
static int
drift_stored(struct session *s, const char *channel, int json)
{
	struct drift_row row;
	struct db_pool_ids *ids = NULL;
	size_t n = s->cfg->npools, *order = NULL;
	struct reorder *ro = reorder_new(n);
	int64_t *pool_ids = NULL;
	int rc = -1;

	pool_ids = calloc(n + 1, sizeof(*pool_ids));
	order = calloc(n + 1, sizeof(*order));
	if (ro == NULL || pool_ids == NULL || order == NULL ||
	    db_read_begin(s->db) || db_pool_ids_load(s->db, &ids))
		goto out;
	for (size_t i = 0; i < n; i++)
		pool_ids[i] = db_pool_ids_find(ids, s->cfg->pools[i].key);
	if (db_pool_ids_order(pool_ids, n, order))
		goto out;
	for (size_t k = 0; k < n; k++) {
		size_t i = order[k];

		memset(&row, 0, sizeof(row));
		row.pc = &s->cfg->pools[i];
		row.channel =
		    channel != NULL ? channel : row.pc->policy->channel;
		if (row_from_store(s->db, pool_ids[i], &row, 0))
			goto out;
		row.verdict = drift_verdict_of(&row);
		if (rendered_add(ro, i, &row, json))
			goto out;
	}
	db_read_end(s->db);
	rc = rendered_print(ro, n, json, 0);
out:
	db_read_end(s->db);
	db_pool_ids_free(ids);
	reorder_free(ro);
	free(pool_ids);
	free(order);
	return rc;
}

/*
 * --refresh: every pool's row from the store, then Azure's answers, then
 * the output (nothing printed when Azure cannot be asked).  EXIT_DONE
 * with ${*failed} set when a GET failed (those rows say why), or the
 * exit code.
 */
static int
drift_refreshed(struct session *s, const char *channel, int json, int *failed)
{
	struct drift_row *rows;
	struct db_pool_ids *ids = NULL;
	size_t n = s->cfg->npools;
	struct reorder *ro = reorder_new(n);
	int rc = EXIT_FAILED;

	rows = calloc(n + 1, sizeof(*rows));
	if (ro == NULL || rows == NULL || db_read_begin(s->db) ||
	    db_pool_ids_load(s->db, &ids))
		goto out;
	for (size_t i = 0; i < n; i++) {
		rows[i].pc = &s->cfg->pools[i];
		rows[i].channel =
		    channel != NULL ? channel : rows[i].pc->policy->channel;
		if (row_from_store(s->db,
		        db_pool_ids_find(ids, rows[i].pc->key), &rows[i], 1))
			goto out;
	}
	db_read_end(s->db);
	rc = drift_refresh(s, rows, n, failed);
	if (rc != EXIT_DONE)
		goto out;
	rc = EXIT_FAILED;
	for (size_t i = 0; i < n; i++) {
		rows[i].verdict = drift_verdict_of(&rows[i]);
		if (rendered_add(ro, i, &rows[i], json))
			goto out;
	}
	if (rendered_print(ro, n, json, 1))
		goto out;
	if (!json)
		for (size_t i = 0; i < n; i++)
			if (rows[i].error[0] != '\0')
				printf(
				    "%s: %s\n", rows[i].pc->key, rows[i].error);
	rc = EXIT_DONE;
out:
	db_read_end(s->db);
	db_pool_ids_free(ids);
	reorder_free(ro);
	free(rows);
	return rc;
}

int
cmd_drift(struct cli *cli, int argc, char **argv)
{
	struct session s;
	const char *channel = NULL;
	int refresh = 0, failed = 0, rc;

	rc = drift_args(cli, argc, argv, &refresh, &channel);
	if (rc != EXIT_DONE)
		return rc;
	rc = session_open(&s, cli, SESSION_STORE | SESSION_FLEETS);
	if (rc != EXIT_DONE)
		goto out;
	if (refresh)
		rc = drift_refreshed(&s, channel, cli->json, &failed);
	else
		rc = drift_stored(&s, channel, cli->json) ? EXIT_FAILED
		                                          : EXIT_DONE;
	if (rc == EXIT_DONE && failed)
		rc = EXIT_FAILED;
out:
	session_close(&s);
	return rc;
}
