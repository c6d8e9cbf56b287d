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
#include "job/base/json_write.h"
#include "job/base/log.h"
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
	/* the baseline and newest snapshot, zeroed when none: those of
	 * db_pools_read's row while it is rendered from it, else
	 * (--refresh) the walk's copies -- a copy of each and a row of both
	 * zeroed a pool were a fiftieth of drift --json's instructions */
	const struct db_snapshot *base, *newest;
	const char *verdict;
	/* the cluster's autoUpgradeProfile, as last seen ("": none) */
	char upgrade_channel[32], node_os_channel[32];
};

/* ---- gathering: the store ---- */

/* ${r}'s baseline, newest snapshot and (unless refreshing) last
 * observation, as db_pools_read read them (${pr}->pool_id 0: not in the
 * store yet, nothing read). */
static void
row_from_store(struct drift_row *r, const struct db_pool_read *pr, int refresh)
{
	const struct db_observation *o = &pr->obs;

	r->pool_id = pr->pool_id;
	r->base = &pr->base;
	r->newest = &pr->newest;
	if (r->pool_id == 0)
		return;
	r->have_base = lookup_baseline_usable(
	    r->pc->key, r->channel, pr->have_base, &pr->base);
	r->have_newest = pr->have_newest;
	if (refresh || !pr->have_obs)
		return;
	r->observed_at = o->last_seen; /* last sighting */
	util_strlcpy(r->provisioning_state, o->provisioning_state,
	    sizeof(r->provisioning_state));
	if (strcmp(o->provisioning_state, "missing") == 0) {
		r->missing = 1;
		return;
	}
	r->live = o->v;
	r->have_live = 1;
	util_strlcpy(
	    r->upgrade_channel, o->upgrade_channel, sizeof(r->upgrade_channel));
	util_strlcpy(
	    r->node_os_channel, o->node_os_channel, sizeof(r->node_os_channel));
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
	struct drift_facts f = {r->error[0] != '\0', r->missing, r->have_live,
	    r->have_base, r->live.kubernetes_version,
	    r->live.node_image_version, r->base->v.kubernetes_version,
	    r->base->v.node_image_version,
	    apply_channels_undo_pin(
	        r->upgrade_channel, r->node_os_channel, NULL, 0)};

	return drift_verdict(&f);
}

/* ---- rendering ---- */

/*
 * The JSON of a row, written straight to the stream as jansson would
 * dump it (job/base/json_write.h): a tree built and dumped a pool was
 * most of drift --json's instructions.
 */

/* "name": the snapshot ${s} (baseline: with its promotion). */
static void
write_versions(struct json_write *w, const char *name,
    const struct db_snapshot *s, int baseline)
{
	json_write_object(w, name);
	json_write_string(w, "snapshot", s->name);
	json_write_string(w, "arm_id", s->arm_id);
	output_write_versions(w, &s->v);
	output_write_time(w, "created_at", s->created_at);
	if (baseline)
		output_write_time(w, "promoted_at", s->promoted_at);
	json_write_end(w);
}

/* "live": what was seen of ${r} in Azure, null when nothing was. */
static void
write_live(struct json_write *w, const struct drift_row *r)
{
	char why[256];
	int undoes;

	if (!r->have_live && !r->missing) {
		json_write_null(w, "live");
		return;
	}
	json_write_object(w, "live");
	output_write_time(w, "observed_at", r->observed_at);
	json_write_opt(w, "provisioning_state", r->provisioning_state);
	json_write_string(w, "node_image_version",
	    r->have_live ? r->live.node_image_version : NULL);
	json_write_string(w, "kubernetes_version",
	    r->have_live ? r->live.kubernetes_version : NULL);
	if (r->have_live) {
		/* the reason only when there is one to show */
		undoes = apply_channels_undo_pin(
		             r->upgrade_channel, r->node_os_channel, NULL, 0) &&
		    apply_channels_undo_pin(r->upgrade_channel,
		        r->node_os_channel, why, sizeof(why));
		json_write_opt(w, "upgrade_channel", r->upgrade_channel);
		json_write_opt(w, "node_os_channel", r->node_os_channel);
		json_write_bool(w, "channel_will_drift", undoes);
		if (undoes)
			json_write_string(w, "channel", why);
	}
	json_write_end(w);
}

/* ${r} as an element of the document's "pools", nested ${depth} deep. */
static void
write_row(FILE *out, int depth, const struct drift_row *r)
{
	struct json_write w;

	json_write_begin(&w, out, depth);
	json_write_string(&w, "pool", r->pc->key);
	json_write_string(&w, "channel", r->channel);
	json_write_string(&w, "verdict", r->verdict);
	write_live(&w, r);
	if (r->have_base)
		write_versions(&w, "baseline", r->base, 1);
	else
		json_write_null(&w, "baseline");
	if (r->have_newest)
		write_versions(&w, "newest", r->newest, 0);
	else
		json_write_null(&w, "newest");
	if (r->error[0] != '\0')
		json_write_string(&w, "error", r->error);
	json_write_end(&w);
}

/*
 * Rows are rendered as they are read, in the store's order
 * (db_pool_ids_order), and printed in the configuration's: with --json
 * each row's member of "pools", as output_print_json would print it,
 * into struct reorder (job/base/reorder.h: a temporary file, whatever
 * the number of pools); for the table, each row's cells, NUL-ended, one
 * row after the other in memory (a few dozen bytes a pool, where a
 * reorder's read back cost a system call a row), the table's columns
 * measured as they come (table_measure), then printed with
 * table_print_row.
 */
#define DRIFT_NCOLS 8

struct rendered {
	int json;
	struct reorder *ro; /* --json */
	struct table *tab; /* else */
	char *cells; /* every row's cells */
	size_t len, cap;
	size_t *at; /* row i's first cell: cells + at[i] */
};

static void
rendered_free(struct rendered *rd)
{
	reorder_free(rd->ro);
	table_free(rd->tab);
	free(rd->cells);
	free(rd->at);
}

/* Room for the rows of ${n} pools.  0/-1 (logged). */
static int
rendered_init(struct rendered *rd, size_t n, int json)
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

	memset(rd, 0, sizeof(*rd));
	rd->json = json;
	if (json) {
		rd->ro = reorder_new(n);
		return rd->ro != NULL ? 0 : -1;
	}
	rd->tab = table_new(cols, DRIFT_NCOLS);
	rd->at = calloc(n + 1, sizeof(*rd->at));
	if (rd->tab == NULL || rd->at == NULL) {
		log_err(NULL, "drift: out of memory");
		return -1;
	}
	return 0;
}

/* Keep the ${DRIFT_NCOLS} ${cells} of row ${i}.  0/-1 (logged). */
static int
cells_keep(struct rendered *rd, size_t i, const char *const *cells)
{
	size_t len[DRIFT_NCOLS], need = 0;
	char *p;

	for (size_t c = 0; c < DRIFT_NCOLS; c++)
		need += (len[c] = strlen(cells[c])) + 1;
	if (rd->len + need > rd->cap) {
		size_t cap = rd->cap != 0 ? rd->cap : 65536;

		while (rd->len + need > cap)
			cap *= 2;
		p = realloc(rd->cells, cap);
		if (p == NULL) {
			log_err(NULL, "drift: out of memory");
			return -1;
		}
		rd->cells = p;
		rd->cap = cap;
	}
	rd->at[i] = rd->len;
	for (size_t c = 0; c < DRIFT_NCOLS; c++) {
		memcpy(rd->cells + rd->len, cells[c], len[c] + 1);
		rd->len += len[c] + 1;
	}
	return 0;
}

/* Render ${r}, the pool of configuration index ${i}.  0/-1. */
static int
rendered_add(struct rendered *rd, size_t i, const struct drift_row *r)
{
	const struct db_versions *b = &r->base->v, *nw = &r->newest->v;
	const char *cells[DRIFT_NCOLS];
	FILE *f;

	if (rd->json) {
		f = reorder_begin(rd->ro, i);
		fputs("    ", f);
		write_row(f, 2, r);
		return reorder_end(rd->ro, i);
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
	(void)table_measure(rd->tab, cells[0], cells[1], cells[2], cells[3],
	    cells[4], cells[5], cells[6], cells[7]);
	return cells_keep(rd, i, cells);
}

/*
 * Print the ${n} rendered rows in the configuration's order: the table
 * (its columns as wide as their content), or the JSON document (the
 * bytes output_print_json would print of the whole document).  0/-1.
 */
static int
rendered_print(struct rendered *rd, size_t n, int refreshed)
{
	const char *c[DRIFT_NCOLS];

	if (rd->json) {
		fputs("{", stdout);
		if (json_stream_member(
		        stdout, "\n", 1, "refreshed", json_boolean(refreshed)))
			return -1;
		fputs(",\n  \"pools\": [", stdout);
		for (size_t i = 0; i < n; i++) {
			fputs(i > 0 ? ",\n" : "\n", stdout);
			if (reorder_copy(rd->ro, i, stdout))
				return -1;
		}
		json_stream_array_end(stdout, 1, n);
		fputs("\n}\n", stdout);
		return 0;
	}
	table_print_head(rd->tab, stdout);
	for (size_t i = 0; i < n; i++) {
		c[0] = rd->cells + rd->at[i];
		for (size_t k = 1; k < DRIFT_NCOLS; k++)
			c[k] = c[k - 1] + strlen(c[k - 1]) + 1;
		table_print_row(rd->tab, stdout, c[0], c[1], c[2], c[3], c[4],
		    c[5], c[6], c[7]);
	}
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
 * Reading the store: every configured pool, in the store's order
 * (db_pool_ids_order: each page read once), by db_pools_read's few
 * statements, in one read transaction.  Without --refresh each row is
 * rendered as it is read (into a temporary file: memory holds one row,
 * whatever the number of pools), then printed in the configuration's
 * order; with it, every row is kept for Azure's answers.
 */
struct drift_walk {
	struct session *s;
	const char *channel; /* --channel, or NULL */
	const size_t *order; /* store's position -> configuration's */
	int refresh, json;
	struct drift_row *rows; /* --refresh: every row, else NULL */
	struct db_snapshot *snaps; /* and their baselines and newest */
	struct rendered rd; /* else: the rendered rows */
};

/* The row of the store's ${k}th pool, read as ${pr}.  0/-1. */
static int
drift_one(void *ctx, size_t k, const struct db_pool_read *pr)
{
	struct drift_walk *w = ctx;
	size_t i = w->order[k];
	struct drift_row row;
	struct drift_row *r = &row;

	if (w->rows != NULL)
		r = &w->rows[i];
	memset(r, 0, sizeof(*r));
	r->pc = &w->s->cfg->pools[i];
	r->channel = w->channel != NULL ? w->channel : r->pc->policy->channel;
	row_from_store(r, pr, w->refresh);
	if (w->rows != NULL) {
		/* kept after the walk, for Azure's answers */
		w->snaps[2 * i] = pr->base;
		w->snaps[2 * i + 1] = pr->newest;
		r->base = &w->snaps[2 * i];
		r->newest = &w->snaps[2 * i + 1];
		return 0;
	}
	r->verdict = drift_verdict_of(r);
	return rendered_add(&w->rd, i, r);
}

/* Every configured pool's row through drift_one, the store's pools
 * first (those a run has not seen yet after them, with nothing).  0/-1. */
static int
drift_gather(struct drift_walk *w)
{
	struct db_pool_read none;
	struct db_pool_ids *ids = NULL;
	const struct config *cfg = w->s->cfg;
	size_t n = cfg->npools, m = 0, *order = NULL;
	int64_t *pool_ids = NULL, *stored = NULL;
	const char **channels = NULL;
	int rc = -1;

	pool_ids = calloc(n + 1, sizeof(*pool_ids));
	stored = calloc(n + 1, sizeof(*stored));
	order = calloc(n + 1, sizeof(*order));
	channels = calloc(n + 1, sizeof(*channels));
	if (pool_ids == NULL || stored == NULL || order == NULL ||
	    channels == NULL || db_read_begin(w->s->db) ||
	    db_pool_ids_load(w->s->db, &ids))
		goto out;
	for (size_t i = 0; i < n; i++)
		pool_ids[i] = db_pool_ids_find(ids, cfg->pools[i].key);
	if (db_pool_ids_order(pool_ids, n, order))
		goto out;
	for (; m < n && pool_ids[order[m]] != 0; m++) {
		const struct pool_conf *pc = &cfg->pools[order[m]];

		stored[m] = pool_ids[order[m]];
		channels[m] =
		    w->channel != NULL ? w->channel : pc->policy->channel;
	}
	w->order = order;
	if (db_pools_read(w->s->db, stored, channels, m,
	        DB_POOL_NEWEST | DB_POOL_BASELINE | DB_POOL_BRIEF |
	            (w->refresh ? 0 : DB_POOL_OBS),
	        drift_one, w))
		goto out;
	memset(&none, 0, sizeof(none));
	for (size_t k = m; k < n; k++)
		if (drift_one(w, k, &none))
			goto out;
	rc = 0;
out:
	db_read_end(w->s->db);
	db_pool_ids_free(ids);
	free(pool_ids);
	free(stored);
	free(order);
	free(channels);
	w->order = NULL;
	return rc;
}

/* Without --refresh: gathered, then printed.  0/-1. */
static int
drift_stored(struct session *s, const char *channel, int json)
{
	struct drift_walk w;
	int rc = -1;

	memset(&w, 0, sizeof(w));
	w.s = s;
	w.channel = channel;
	w.json = json;
	if (rendered_init(&w.rd, s->cfg->npools, json) == 0 &&
	    drift_gather(&w) == 0)
		rc = rendered_print(&w.rd, s->cfg->npools, 0);
	rendered_free(&w.rd);
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
	struct drift_walk w;
	size_t n = s->cfg->npools;
	int rc = EXIT_FAILED;

	memset(&w, 0, sizeof(w));
	w.s = s;
	w.channel = channel;
	w.refresh = 1;
	w.json = json;
	w.rows = calloc(n + 1, sizeof(*w.rows));
	w.snaps = calloc(2 * n + 2, sizeof(*w.snaps));
	if (rendered_init(&w.rd, n, json) || w.rows == NULL ||
	    w.snaps == NULL || drift_gather(&w))
		goto out;
	rc = drift_refresh(s, w.rows, n, failed);
	if (rc != EXIT_DONE)
		goto out;
	rc = EXIT_FAILED;
	for (size_t i = 0; i < n; i++) {
		w.rows[i].verdict = drift_verdict_of(&w.rows[i]);
		if (rendered_add(&w.rd, i, &w.rows[i]))
			goto out;
	}
	if (rendered_print(&w.rd, n, 1))
		goto out;
	if (!json)
		for (size_t i = 0; i < n; i++)
			if (w.rows[i].error[0] != '\0')
				printf("%s: %s\n", w.rows[i].pc->key,
				    w.rows[i].error);
	rc = EXIT_DONE;
out:
	rendered_free(&w.rd);
	free(w.rows);
	free(w.snaps);
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
	output_buffered();
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
