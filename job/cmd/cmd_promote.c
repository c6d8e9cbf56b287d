/*
 * cmd_promote.c -- `aksnap promote SNAPSHOT [--channel NAME]` and
 * `aksnap demote SNAPSHOT [--channel NAME]`: a channel changed by hand,
 * with the same effects as a run's (the aksnap-channel tag set in Azure
 * and verified first, the decisions recorded).  Promotion by hand may
 * bring back even a snapshot demoted before; a demoted one falls back to
 * its channel's previous holder and is never promoted again by a run
 * (job/run/prune.c).  Both only act on a snapshot the store holds as its
 * own (never a conflict).  Both are recorded as runs of mode "promote"
 * (the runs table's CHECK predates demote).  `aksnap prune` is a run mode
 * and lives in run.c.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db.h"
#include "job/azure/token.h"
#include "job/base/log.h"
#include "job/base/reasons.h"
#include "job/base/util.h"
#include "job/cmd/cli.h"
#include "job/cmd/output.h"
#include "job/cmd/session.h"
#include "job/run/prune.h"
#include "job/run/run.h"

/* demote's --json: the snapshot and every change, reasons as arrays. */
static json_t *
demote_json(const char *pool, const struct db_snapshot *snap,
    const char *channel, const struct prune_pool *pp)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < pp->nlines; i++)
		json_array_append_new(arr,
		    json_pack("{s:s,s:s,s:o}", "snapshot",
		        pp->lines[i].snapshot, "action", pp->lines[i].action,
		        "reasons", reasons_json(pp->lines[i].reasons)));
	return json_pack("{s:s,s:s,s:s,s:o,s:o}", "pool", pool, "snapshot",
	    snap->name, "arm_id", snap->arm_id, "channel",
	    channel != NULL ? json_string(channel) : json_null(), "changes",
	    arr);
}

static int
by_hand(struct cli *cli, int argc, char **argv, int demote)
{
	const char *verb = demote ? "demote" : "promote";
	static const struct option lopts[] = {
	    {"channel", required_argument, NULL, 'c'},
	    {"as-of", required_argument, NULL, 'a'},
	    {NULL, 0, NULL, 0},
	};
	struct session ss;
	struct config *cfg;
	struct db *db;
	struct db_snapshot snap;
	struct db_run rec;
	struct prune_ctx ctx;
	struct prune_pool pp;
	const struct pool_conf *pc;
	const char *channel = NULL;
	time_t as_of = util_now();
	int ch, rc, got;

	while ((ch = cli_getopt(cli, argc, argv, lopts)) != -1) {
		switch (ch) {
		case 'c':
			channel = optarg;
			break;
		case 'a':
			if (util_parse_time(optarg, &as_of))
				return cli_usage_error(verb,
				    "--as-of: expected an RFC 3339 time, got "
				    "'%s'",
				    optarg);
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(verb, "name one SNAPSHOT");
	rc = session_open(&ss, cli, SESSION_WRITE);
	cfg = ss.cfg;
	db = ss.db;
	if (rc != EXIT_DONE)
		goto out;
	rc = EXIT_FAILED;
	got = db_snapshot_find(db, argv[optind], &snap);
	if (got <= 0) {
		if (got == 0)
			log_err(NULL, "%s: no snapshot '%s' in the store", verb,
			    argv[optind]);
		rc = got == 0 ? EXIT_USAGE : EXIT_FAILED;
		goto out;
	}
	/* Ownership: a conflict row is someone else's snapshot. */
	if ((!demote && strcmp(snap.state, "active") != 0) ||
	    strcmp(snap.state, "conflict") == 0) {
		log_err(snap.pool_key, "%s: %s is %s, not active%s", verb,
		    snap.name, snap.state,
		    snap.state[0] == 'c' ? " (not aksnap's own; never touched)"
		                         : "");
		goto out;
	}
	pc = config_find_pool(cfg, snap.pool_key);
	if (pc == NULL) {
		log_err(snap.pool_key, "%s: the pool of %s is no longer in %s",
		    verb, snap.name, cfg->path);
		goto out;
	}
	if (channel == NULL && !demote)
		channel = pc->policy.channel;
	rc = session_connect(&ss);
	if (rc != EXIT_DONE)
		goto out;
	rc = EXIT_FAILED;

	memset(&rec, 0, sizeof(rec));
	if (db_run_start(db, util_now(), as_of, "promote", &rec.id))
		goto out;
	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = cfg;
	ctx.db = db;
	ctx.arm = ss.arm;
	ctx.http = ss.http;
	ctx.run_id = rec.id;
	ctx.as_of = as_of;
	memset(&pp, 0, sizeof(pp));
	pp.pc = pc;
	pp.pool_id = snap.pool_id;
	if (demote) {
		got = prune_demote_snapshot(&ctx, &pp, &snap, channel);
		if (got == 1) {
			log_err(pc->key, "demote: %s holds %s%s", snap.name,
			    channel != NULL ? "no channel " : "no channel",
			    channel != NULL ? channel : "");
			rc = EXIT_USAGE;
		} else {
			rc = (got == 0 && !pp.failed) ? EXIT_DONE : EXIT_FAILED;
		}
	} else {
		got = prune_promote_snapshot(
		    &ctx, &pp, &snap, channel, "promoted by hand");
		rc = (got == 0 && !pp.failed) ? EXIT_DONE : EXIT_FAILED;
	}
	if (pp.failed)
		log_err(pc->key, "%s", pp.error);
	else if (got == 0 && cli->json && !demote)
		output_print_json(
		    json_pack("{s:s,s:s,s:s,s:s}", "pool", pc->key, "snapshot",
		        snap.name, "arm_id", snap.arm_id, "channel", channel));
	else if (got == 0 && cli->json)
		output_print_json(demote_json(pc->key, &snap, channel, &pp));
	else if (got == 0 && !demote)
		printf(
		    "%s: %s is the %s baseline\n", pc->key, snap.name, channel);
	for (size_t i = 0; got == 0 && demote && !cli->json && i < pp.nlines;
	     i++)
		printf("%s: %s %s: %s\n", pc->key, pp.lines[i].action,
		    pp.lines[i].snapshot, pp.lines[i].reasons);
	rec.exit_code = rc;
	rec.promoted = pp.promoted;
	rec.failed = pp.failed;
	rec.finished_at = util_now();
	util_strlcpy(rec.mode, "promote", sizeof(rec.mode));
	rec.as_of = as_of;
	(void)db_run_finish(db, &rec);
	prune_pool_clear(&pp);
out:
	session_close(&ss);
	return rc;
}

int
cmd_promote(struct cli *cli, int argc, char **argv)
{
	return by_hand(cli, argc, argv, 0);
}

int
cmd_demote(struct cli *cli, int argc, char **argv)
{
	return by_hand(cli, argc, argv, 1);
}
