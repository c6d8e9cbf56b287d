/*
 * cmd_history.c -- reading the record: `aksnap list [POOL]` and
 * `aksnap history [POOL] [--since TIME] [--changes]`.
 *
 * Read-only: the store is opened without migrating and without the run
 * lock (session.h), and nothing talks to Azure.  Output is an aligned
 * table, or with --json one document whose field names are the stable ones
 * of DESIGN.md section 3.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "db/db_list.h"
#include "job/base/log.h"
#include "job/base/table.h"
#include "job/base/util.h"
#include "job/cmd/cli.h"
#include "job/cmd/lookup.h"
#include "job/cmd/output.h"
#include "job/cmd/session.h"

/* Open the store (read-only use) and resolve an optional POOL argument to
 * its id: -1 for a pool configured but never run (an empty answer). */
static int
open_for_reading(const struct cli *cli, const char *cmd, const char *pool,
    struct session *s, int64_t *pool_id)
{
	struct db_pool p;
	int got, rc;

	*pool_id = 0;
	/* A fleet's pools are the ones the store knows. */
	rc = session_open(s, cli, SESSION_STORE | SESSION_FLEETS);
	if (rc != EXIT_DONE)
		return rc;
	if (pool != NULL && config_find_pool(s->cfg, pool) == NULL)
		return cli_usage_error(
		    cmd, "unknown pool '%s' (not in %s)", pool, s->cfg->path);
	if (pool == NULL)
		return EXIT_DONE;
	got = db_pool_get(s->db, pool, &p);
	if (got < 0)
		return EXIT_FAILED;
	/* Configured but never run: an empty answer, not an error. */
	*pool_id = got ? p.id : -1;
	return EXIT_DONE;
}

/*
 * list_ctx: how `list` renders a row as the store hands it over.  --json
 * prints each snapshot's object as it comes (the document is written
 * incrementally, in exactly output_print_json's layout); the table keeps
 * the rows, but only the columns' strings (table_add copies them), since
 * table.c sizes the columns to their content and so needs every row
 * before printing the first -- one pass over the query, not two.
 */
struct list_ctx {
	struct table *tab; /* NULL with --json */
	size_t rows;
};

/* Print ${o} as an element of the top-level "snapshots" array. */
static void
list_json_element(const json_t *o, int first)
{
	char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	const char *p;

	if (s == NULL)
		return;
	fputs(first ? "\n    " : ",\n    ", stdout);
	for (p = s; *p != '\0'; p++) {
		putchar(*p);
		if (*p == '\n')
			fputs("    ", stdout);
	}
	free(s);
}

static int
list_row(void *vctx, const struct db_snapshot *s)
{
	struct list_ctx *ctx = vctx;
	char created[32];

	if (ctx->tab == NULL) {
		json_t *o = output_snapshot_json(s);

		list_json_element(o, ctx->rows == 0);
		json_decref(o);
		ctx->rows++;
		return 0;
	}
	ctx->rows++;
	output_time(s->created_at, created, sizeof(created));
	/* NULL prints as "-". */
	return table_add(ctx->tab, s->pool_key, s->name, created, s->state,
	    s->v.node_image_version[0] ? s->v.node_image_version : NULL,
	    s->v.kubernetes_version[0] ? s->v.kubernetes_version : NULL,
	    s->channel[0] ? s->channel : NULL, s->pinned ? "yes" : "no");
}

int
cmd_list(struct cli *cli, int argc, char **argv)
{
	static const struct option lopts[] = {
	    {"all", no_argument, NULL, 'a'},
	    {NULL, 0, NULL, 0},
	};
	/* At 80 columns: the snapshot and its state, then what fits. */
	static const struct table_col list_cols[] = {
	    {"POOL", 5, 0},
	    {"SNAPSHOT", 0, 0},
	    {"CREATED", 6, 0},
	    {"STATE", 0, 0},
	    {"NODE IMAGE", 3, 0},
	    {"K8S", 4, 0},
	    {"CHANNEL", 1, 0},
	    {"PINNED", 2, 0},
	};
	struct list_ctx ctx = {NULL, 0};
	struct session s;
	int64_t pool_id;
	int all = 0, ch, rc;

	while ((ch = cli_getopt(cli, argc, argv, lopts)) != -1) {
		switch (ch) {
		case 'a':
			all = 1;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (argc - optind > 1)
		return cli_usage_error("list", "expected at most one POOL");
	rc = open_for_reading(
	    cli, "list", optind < argc ? argv[optind] : NULL, &s, &pool_id);
	if (rc != EXIT_DONE)
		goto out;
	if (!cli->json) {
		ctx.tab = table_new(
		    list_cols, sizeof(list_cols) / sizeof(list_cols[0]));
		if (ctx.tab == NULL) {
			rc = EXIT_FAILED;
			goto out;
		}
	} else {
		fputs("{\n  \"snapshots\": [", stdout);
	}
	if (pool_id >= 0 &&
	    db_snapshot_each(s.db, pool_id, all, list_row, &ctx) != 0)
		rc = EXIT_FAILED;
	if (cli->json) {
		/* Close the document even after a failure: valid JSON. */
		fputs(ctx.rows > 0 ? "\n  ]\n}\n" : "]\n}\n", stdout);
	} else if (rc == EXIT_DONE) {
		table_print(ctx.tab, stdout);
	}
out:
	table_free(ctx.tab);
	session_close(&s);
	return rc;
}

struct history_ctx {
	json_t *arr; /* --json */
	struct table *tab; /* else */
	size_t rows;
};

/*
 * One row per interval of equal observations (migration 0012): first and
 * last seen, and how many observations it holds.  At 80 columns: pool,
 * first seen and node image, then what fits.
 */
static const struct table_col history_cols[] = {
    {"POOL", 0, 0},
    {"FIRST SEEN", 1, 0},
    {"LAST SEEN", 2, 0},
    {"SEEN", 8, 0},
    {"NODE IMAGE", 0, 0},
    {"K8S", 3, 0},
    {"OS SKU", 5, 0},
    {"VM SIZE", 4, 0},
    {"STATE", 6, 0},
    {"CHANGED BY", 7, 0},
};

static int
history_row(void *vctx, const struct db_observation *o)
{
	struct history_ctx *ctx = vctx;
	char at[32], last[32], seen[24];
	int missing = strcmp(o->provisioning_state, "missing") == 0;

	ctx->rows++;
	if (ctx->arr != NULL) {
		json_t *j = json_object();

		json_object_set_new(j, "pool", json_string(o->pool_key));
		json_object_set_new(
		    j, "observed_at", output_json_time(o->observed_at));
		json_object_set_new(j, "run", json_integer(o->run_id));
		json_object_set_new(
		    j, "last_seen", output_json_time(o->last_seen));
		json_object_set_new(
		    j, "last_run", json_integer(o->last_run_id));
		json_object_set_new(j, "seen", json_integer(o->seen));
		json_object_set_new(j, "provisioning_state",
		    json_string(o->provisioning_state));
		/* As every command writes versions: null when unknown. */
		if (!missing)
			output_versions_json(j, &o->v);
		/* The cluster's channels then, and who made this change. */
		json_object_set_new(
		    j, "upgrade_channel", output_json_opt(o->upgrade_channel));
		json_object_set_new(
		    j, "node_os_channel", output_json_opt(o->node_os_channel));
		json_object_set_new(
		    j, "changed_by", output_json_opt(o->changed_by));
		json_array_append_new(ctx->arr, j);
		return 0;
	}
	output_time(o->observed_at, at, sizeof(at));
	output_time(o->last_seen, last, sizeof(last));
	snprintf(seen, sizeof(seen), "%lld", o->seen);
	if (missing)
		return table_add(ctx->tab, o->pool_key, at, last, seen,
		    "(missing)", "-", "-", "-", "missing", "-");
	/* An unknown value is "-", never a blank cell (awk counts fields). */
	return table_add(ctx->tab, o->pool_key, at, last, seen,
	    lookup_dash(o->v.node_image_version),
	    lookup_dash(o->v.kubernetes_version), lookup_dash(o->v.os_sku),
	    lookup_dash(o->v.vm_size), o->provisioning_state,
	    lookup_dash(o->changed_by));
}

int
cmd_history(struct cli *cli, int argc, char **argv)
{
	static const struct option lopts[] = {
	    {"since", required_argument, NULL, 's'},
	    {"changes", no_argument, NULL, 'c'},
	    {NULL, 0, NULL, 0},
	};
	struct session s;
	struct history_ctx ctx = {NULL, NULL, 0};
	time_t since = 0;
	int changes = 0, ch, rc;
	int64_t pool_id;

	while ((ch = cli_getopt(cli, argc, argv, lopts)) != -1) {
		switch (ch) {
		case 's':
			if (util_parse_time(optarg, &since))
				return cli_usage_error("history",
				    "--since: expected an RFC 3339 time, got "
				    "'%s'",
				    optarg);
			break;
		case 'c':
			changes = 1;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (argc - optind > 1)
		return cli_usage_error("history", "expected at most one POOL");
	rc = open_for_reading(
	    cli, "history", optind < argc ? argv[optind] : NULL, &s, &pool_id);
	if (rc != EXIT_DONE)
		goto out;
	if (cli->json)
		ctx.arr = json_array();
	else
		ctx.tab = table_new(history_cols,
		    sizeof(history_cols) / sizeof(history_cols[0]));
	if (ctx.arr == NULL && ctx.tab == NULL) {
		rc = EXIT_FAILED;
		goto out;
	}
	if (pool_id >= 0 &&
	    db_history(s.db, pool_id, since, changes, history_row, &ctx)) {
		rc = EXIT_FAILED;
		json_decref(ctx.arr);
		goto out;
	}
	if (ctx.tab != NULL)
		table_print(ctx.tab, stdout);
	if (cli->json) {
		json_t *doc = json_object();

		json_object_set_new(doc, "observations", ctx.arr);
		output_print_json(doc);
	}
out:
	table_free(ctx.tab);
	session_close(&s);
	return rc;
}
