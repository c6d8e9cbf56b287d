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
#include <unistd.h>

#include "db/db.h"
#include "db/db_list.h"
#include "job/base/json_stream.h"
#include "job/base/log.h"
#include "job/base/table.h"
#include "job/base/util.h"
#include "job/cmd/cli.h"
#include "job/cmd/lookup.h"
#include "job/cmd/output.h"
#include "job/cmd/session.h"

/*
 * text_out: a table printed after one read of its rows when it can.  The
 * columns are as wide as their widest cell (table.c), known only once
 * every row is read: the rows go to a spool file in $TMPDIR as they are
 * measured (table_spool_upto: a file of SPOOL_MAX bytes at most, whose
 * cells past its first 16 MiB are kept as what they add to the row
 * before's) and are printed from it, one read of the store.  A longer
 * table, or no spool file, is measured on a first read and printed on a
 * second (the passes of db_snapshot_lines and db_history_passes, one read
 * transaction): no row is held in memory, whatever their number.  Reading
 * the store twice was half of `list`'s and `history --since`'s CPU at
 * 10,000 pools (130,000 and 44,000 rows: 3,700 and 4,100 pages read each
 * time), and half of `history --changes`'s (555,000 rows, 78 MB of cells:
 * 28 MB in the spool); the spool file of `list` is 17 MB.  The bound is
 * where the cost of a row would double: 256 MiB is nine such years (a
 * third of what they print: `report` and `drift` spool as much as they
 * print), where 32 MiB held one year and a fifth.
 */
#define SPOOL_MAX ((size_t)256 * 1024 * 1024)

struct text_out {
	struct table *tab;
	int spooled; /* the rows go to the spool file */
	int passes; /* 1 once pass 0 held them all, else 2 */
	int headed; /* the header printed (pass 1) */
	int failed; /* a row could not be kept */
};

/* ${o} for the ${ncols} columns ${cols}.  0/-1 (logged). */
static int
text_out_begin(struct text_out *o, const struct table_col *cols, size_t ncols)
{
	o->tab = table_new(cols, ncols);
	if (o->tab == NULL)
		return -1;
	o->spooled = table_spool_upto(o->tab, SPOOL_MAX) == 0;
	o->passes = 2;
	o->headed = 0;
	o->failed = 0;
	return 0;
}

/* After pass 0's row: is one pass enough so far. */
static void
text_out_added(struct text_out *o)
{
	o->passes = o->spooled && table_spool_complete(o->tab) ? 1 : 2;
}

/* Before pass 1's row. */
static void
text_out_head(struct text_out *o)
{
	if (!o->headed) {
		table_print_head(o->tab, stdout);
		o->headed = 1;
	}
}

/* After the rows (or a failure): what is left to print, the header
 * at least. */
static void
text_out_end(struct text_out *o, int ok)
{
	if (ok && o->passes == 1)
		table_print(o->tab, stdout);
	else if (ok)
		text_out_head(o);
	table_free(o->tab);
	o->tab = NULL;
}

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
 * incrementally, in exactly output_print_json's layout).  The table
 * (text_out) reads the rows from the covering index snapshots_live
 * (db_snapshot_lines).
 */
struct list_ctx {
	struct text_out out; /* out.tab NULL with --json */
	size_t rows;
	time_t at; /* the time in ${created} (rows come by time) */
	char created[32];
	size_t created_len; /* strlen(created) */
};

static int
list_json_row(void *vctx, const struct db_snapshot *s)
{
	struct list_ctx *ctx = vctx;

	/* an element of the top-level array "snapshots" */
	json_stream_member(stdout, ctx->rows == 0 ? "\n" : ",\n", 2, NULL,
	    output_snapshot_json(s));
	ctx->rows++;
	return 0;
}

/* ${l} spooled (pass 0) with the lengths the store's row came with: no
 * strlen a cell.  0/-1. */
static int
list_add(struct list_ctx *ctx, const struct db_snapshot_line *l)
{
	/* "" prints as "-", as list_line's NULL */
	const char *cell[] = {l->pool_key, l->name, ctx->created, l->state,
	    l->node_image_version[0] ? l->node_image_version : "-",
	    l->kubernetes_version[0] ? l->kubernetes_version : "-",
	    l->channel[0] ? l->channel : "-", l->pinned ? "yes" : "no"};
	const size_t len[] = {l->pool_key_len, l->name_len, ctx->created_len,
	    l->state_len,
	    l->node_image_version[0] ? l->node_image_version_len : 1,
	    l->kubernetes_version[0] ? l->kubernetes_version_len : 1,
	    l->channel[0] ? l->channel_len : 1, l->pinned ? 3 : 2};

	return table_add_n(ctx->out.tab, cell, len);
}

/* A row's cells: measured (and spooled) on pass 0, printed on pass 1. */
static int
list_line(void *vctx, int pass, const struct db_snapshot_line *l)
{
	struct list_ctx *ctx = vctx;
	/* NULL prints as "-". */
	const char *image =
	    l->node_image_version[0] ? l->node_image_version : NULL;
	const char *k8s =
	    l->kubernetes_version[0] ? l->kubernetes_version : NULL;
	const char *channel = l->channel[0] ? l->channel : NULL;
	const char *pinned = l->pinned ? "yes" : "no";

	if (ctx->rows == 0 || l->created_at != ctx->at) {
		output_time(l->created_at, ctx->created, sizeof(ctx->created));
		ctx->created_len = strlen(ctx->created);
		ctx->at = l->created_at;
	}
	ctx->rows++;
	if (pass == 0) {
		if (!ctx->out.spooled)
			return table_measure(ctx->out.tab, l->pool_key, l->name,
			    ctx->created, l->state, image, k8s, channel,
			    pinned);
		if (list_add(ctx, l))
			ctx->out.failed = 1;
		text_out_added(&ctx->out);
		return ctx->out.failed;
	}
	text_out_head(&ctx->out);
	table_print_row(ctx->out.tab, stdout, l->pool_key, l->name,
	    ctx->created, l->state, image, k8s, channel, pinned);
	return 0;
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
	struct list_ctx ctx;
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
	memset(&ctx, 0, sizeof(ctx));
	output_buffered();
	rc = open_for_reading(
	    cli, "list", optind < argc ? argv[optind] : NULL, &s, &pool_id);
	if (rc != EXIT_DONE)
		goto out;
	if (!cli->json) {
		if (text_out_begin(&ctx.out, list_cols,
		        sizeof(list_cols) / sizeof(list_cols[0]))) {
			rc = EXIT_FAILED;
			goto out;
		}
	} else {
		fputs("{\n  \"snapshots\": [", stdout);
	}
	if (cli->json) {
		if (pool_id >= 0 &&
		    db_snapshot_each(s.db, pool_id, all, list_json_row, &ctx))
			rc = EXIT_FAILED;
		/* Close the document even after a failure: valid JSON. */
		json_stream_array_end(stdout, 1, ctx.rows);
		fputs("\n}\n", stdout);
	} else {
		if (pool_id >= 0 &&
		    (db_snapshot_lines(s.db, pool_id, all, &ctx.out.passes,
		         list_line, &ctx) ||
		        ctx.out.failed))
			rc = EXIT_FAILED;
		/* No row (or a failure before the first): the header alone. */
		text_out_end(&ctx.out, rc == EXIT_DONE);
	}
out:
	table_free(ctx.out.tab);
	session_close(&s);
	return rc;
}

/*
 * A time as output_time writes it, into ${buf} (32 bytes), the date of
 * its day kept in ${c} by the day's number: a fleet's runs observe every
 * pool at the same hours, so a history's times fall on the same few
 * hundred days pool after pool, and the date was most of a time's
 * formatting (a direct-mapped table: a year's days, each in its slot).
 */
#define DAYS_SEEN 1024

struct days_seen {
	long long day[DAYS_SEEN]; /* -1: none yet */
	char date[DAYS_SEEN][11]; /* "YYYY-MM-DDT" */
};

static void
days_seen_init(struct days_seen *c)
{
	for (size_t i = 0; i < DAYS_SEEN; i++)
		c->day[i] = -1;
}

static void
history_time(struct days_seen *c, time_t t, char *buf)
{
	/* up to 9999-12-31T23:59:59Z: util_format_time's own digits */
	const long long hi = 253402300799LL;
	long long day, secs;
	size_t slot;

	if (t <= 0 || (long long)t > hi) {
		output_time(t, buf, 32);
		return;
	}
	day = (long long)t / 86400;
	secs = (long long)t % 86400;
	slot = (size_t)day % DAYS_SEEN;
	if (c->day[slot] != day) {
		output_time(t, buf, 32);
		memcpy(c->date[slot], buf, sizeof(c->date[slot]));
		c->day[slot] = day;
		return;
	}
	memcpy(buf, c->date[slot], sizeof(c->date[slot]));
	buf[11] = (char)('0' + secs / 36000);
	buf[12] = (char)('0' + secs / 3600 % 10);
	buf[13] = ':';
	buf[14] = (char)('0' + secs / 600 % 6);
	buf[15] = (char)('0' + secs / 60 % 10);
	buf[16] = ':';
	buf[17] = (char)('0' + secs % 60 / 10);
	buf[18] = (char)('0' + secs % 10);
	buf[19] = 'Z';
	buf[20] = '\0';
}

/*
 * history_ctx: as list_ctx, for `history`: --json prints each interval's
 * object as it comes; the table is text_out's, no interval kept in
 * memory, each read as a struct db_history_line (db_history_lines).
 */
struct history_ctx {
	struct text_out out; /* out.tab NULL with --json */
	size_t rows;
	struct days_seen *days; /* history_time's */
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

static json_t *
history_json(const struct db_observation *o)
{
	json_t *j = json_object();

	json_object_set_new(j, "pool", json_string(o->pool_key));
	json_object_set_new(j, "observed_at", output_json_time(o->observed_at));
	json_object_set_new(j, "run", json_integer(o->run_id));
	json_object_set_new(j, "last_seen", output_json_time(o->last_seen));
	json_object_set_new(j, "last_run", json_integer(o->last_run_id));
	json_object_set_new(j, "seen", json_integer(o->seen));
	json_object_set_new(
	    j, "provisioning_state", json_string(o->provisioning_state));
	/* As every command writes versions: null when unknown. */
	if (strcmp(o->provisioning_state, "missing") != 0)
		output_versions_json(j, &o->v);
	/* The cluster's channels then, and who made this change. */
	json_object_set_new(
	    j, "upgrade_channel", output_json_opt(o->upgrade_channel));
	json_object_set_new(
	    j, "node_os_channel", output_json_opt(o->node_os_channel));
	json_object_set_new(j, "changed_by", output_json_opt(o->changed_by));
	return j;
}

static int
history_json_row(void *vctx, int pass, const struct db_observation *o)
{
	struct history_ctx *ctx = vctx;
	(void)pass;
	/* an element of the top-level array "observations" */
	json_stream_member(
	    stdout, ctx->rows == 0 ? "\n" : ",\n", 2, NULL, history_json(o));
	ctx->rows++;
	return 0;
}

/* An interval's cells: measured on pass 0, printed on pass 1. */
static int
history_row(void *vctx, int pass, const struct db_history_line *l)
{
	struct history_ctx *ctx = vctx;
	char at[32], last[32], seen[UTIL_LLD_MAX];
	const char *c[10];

	history_time(ctx->days, l->observed_at, at);
	history_time(ctx->days, l->last_seen, last);
	(void)util_format_lld(l->seen, seen);
	c[0] = l->pool_key;
	c[1] = at;
	c[2] = last;
	c[3] = seen;
	if (strcmp(l->provisioning_state, "missing") == 0) {
		c[4] = "(missing)";
		c[5] = c[6] = c[7] = c[9] = "-";
		c[8] = "missing";
	} else {
		/* An unknown value is "-", never a blank cell (awk counts
		 * fields). */
		c[4] = lookup_dash(l->node_image_version);
		c[5] = lookup_dash(l->kubernetes_version);
		c[6] = lookup_dash(l->os_sku);
		c[7] = lookup_dash(l->vm_size);
		c[8] = l->provisioning_state;
		c[9] = lookup_dash(l->changed_by);
	}
	if (pass == 0) {
		if (!ctx->out.spooled)
			return table_measure(ctx->out.tab, c[0], c[1], c[2],
			    c[3], c[4], c[5], c[6], c[7], c[8], c[9]);
		if (table_add(ctx->out.tab, c[0], c[1], c[2], c[3], c[4], c[5],
		        c[6], c[7], c[8], c[9]))
			ctx->out.failed = 1;
		text_out_added(&ctx->out);
		return ctx->out.failed;
	}
	text_out_head(&ctx->out);
	table_print_row(ctx->out.tab, stdout, c[0], c[1], c[2], c[3], c[4],
	    c[5], c[6], c[7], c[8], c[9]);
	return 0;
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
	struct history_ctx ctx;
	time_t since = 0;
	int changes = 0, once = 1, ch, rc;
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
	memset(&ctx, 0, sizeof(ctx));
	output_buffered();
	rc = open_for_reading(
	    cli, "history", optind < argc ? argv[optind] : NULL, &s, &pool_id);
	if (rc != EXIT_DONE)
		goto out;
	if (cli->json) {
		fputs("{\n  \"observations\": [", stdout);
		if (pool_id >= 0 &&
		    db_history_passes(s.db, pool_id, since, changes, &once,
		        history_json_row, &ctx))
			rc = EXIT_FAILED;
		/* Close the document even after a failure: valid JSON. */
		json_stream_array_end(stdout, 1, ctx.rows);
		fputs("\n}\n", stdout);
		goto out;
	}
	if (text_out_begin(&ctx.out, history_cols,
	        sizeof(history_cols) / sizeof(history_cols[0]))) {
		rc = EXIT_FAILED;
		goto out;
	}
	ctx.days = malloc(sizeof(*ctx.days));
	if (ctx.days == NULL) {
		log_err(NULL, "history: out of memory");
		rc = EXIT_FAILED;
		goto out;
	}
	days_seen_init(ctx.days);
	if (pool_id >= 0 &&
	    (db_history_lines(s.db, pool_id, since, changes, &ctx.out.passes,
	         history_row, &ctx) ||
	        ctx.out.failed))
		rc = EXIT_FAILED;
	/* No interval (or a failure before the first): the header alone. */
	text_out_end(&ctx.out, rc == EXIT_DONE);
out:
	table_free(ctx.out.tab);
	free(ctx.days);
	session_close(&s);
	return rc;
}
