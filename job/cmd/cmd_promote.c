/*
 * cmd_promote.c -- `aksnap promote SNAPSHOT [--channel NAME]` and
 * `aksnap demote SNAPSHOT [--channel NAME]`: a channel changed by hand,
 * with the same effects as a run's (the aksnap-channel tag set in Azure
 * and verified first, the decisions recorded).  Promotion by hand may
 * bring back even a snapshot demoted before; a demoted one falls back to
 * its channel's previous holder and is never promoted again by a run
 * (job/run/prune.c).  Both only act on a snapshot the store holds as its
 * own (never a conflict).  Each is recorded as a run of its own mode,
 * "promote" or "demote" (migration 0014).  `aksnap prune` is a run mode
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
	return json_pack("{s:s,s:s,s:s,s:o,s:o}", "pool", pool, "snapshot",
	    snap->name, "arm_id", snap->arm_id, "channel",
	    channel != NULL ? json_string(channel) : json_null(), "changes",
	    prune_lines_json(pp));
}

/* What promote and demote were asked for. */
struct by_hand {
	const char *verb; /* "promote" or "demote": also the runs row's mode */
	int demote;
	const char *ref; /* SNAPSHOT as given */
	const char *channel; /* NULL: the pool's (promote), every (demote) */
	time_t as_of;
};

static int
parse_hand_args(struct cli *cli, int argc, char **argv, struct by_hand *h)
{
	static const struct option lopts[] = {
	    {"channel", required_argument, NULL, 'c'},
	    {"as-of", required_argument, NULL, 'a'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	h->as_of = util_now();
	while ((ch = cli_getopt(cli, argc, argv, lopts)) != -1) {
		switch (ch) {
		case 'c':
			h->channel = optarg;
			break;
		case 'a':
			if (util_parse_time(optarg, &h->as_of))
				return cli_usage_error(h->verb,
				    "--as-of: expected an RFC 3339 time, got "
				    "'%s'",
				    optarg);
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(h->verb, "name one SNAPSHOT");
	h->ref = argv[optind];
	return EXIT_DONE;
}

/*
 * The snapshot named, the store's own and (promote) active, and its
 * configured pool into ${*pc}.  EXIT_DONE or the exit code (logged).
 */
static int
find_own(struct session *ss, const struct by_hand *h, struct db_snapshot *snap,
    const struct pool_conf **pc)
{
	int got = db_snapshot_find(ss->db, h->ref, snap);

	if (got <= 0) {
		if (got == 0)
			log_err(NULL, "%s: no snapshot '%s' in the store",
			    h->verb, h->ref);
		return got == 0 ? EXIT_USAGE : EXIT_FAILED;
	}
	/* Ownership: a conflict row is someone else's snapshot. */
	if ((!h->demote && strcmp(snap->state, "active") != 0) ||
	    strcmp(snap->state, "conflict") == 0) {
		log_err(snap->pool_key, "%s: %s is %s, not active%s", h->verb,
		    snap->name, snap->state,
		    snap->state[0] == 'c' ? " (not aksnap's own; never touched)"
		                          : "");
		return EXIT_FAILED;
	}
	*pc = config_find_pool(ss->cfg, snap->pool_key);
	if (*pc == NULL) {
		log_err(snap->pool_key, "%s: the pool of %s is no longer in %s",
		    h->verb, snap->name, ss->cfg->path);
		return EXIT_FAILED;
	}
	return EXIT_DONE;
}

/*
 * Promote or demote ${snap} under the runs row ${run_id}, into ${pp}; the
 * exit code.  ${*got} is the prune call's answer (1: demote found no such
 * channel).
 */
static int
change_channel(struct session *ss, const struct by_hand *h, int64_t run_id,
    const struct db_snapshot *snap, struct prune_pool *pp, int *got)
{
	struct prune_ctx ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = ss->cfg;
	ctx.db = ss->db;
	ctx.arm = ss->arm;
	ctx.http = ss->http;
	ctx.run_id = run_id;
	ctx.as_of = h->as_of;
	if (!h->demote) {
		*got = prune_promote_snapshot(
		    &ctx, pp, snap, h->channel, "promoted by hand");
		return (*got == 0 && !pp->failed) ? EXIT_DONE : EXIT_FAILED;
	}
	*got = prune_demote_snapshot(&ctx, pp, snap, h->channel);
	if (*got == 1) {
		log_err(pp->pc->key, "demote: %s holds %s%s", snap->name,
		    h->channel != NULL ? "no channel " : "no channel",
		    h->channel != NULL ? h->channel : "");
		return EXIT_USAGE;
	}
	return (*got == 0 && !pp->failed) ? EXIT_DONE : EXIT_FAILED;
}

/*
 * What was done: one JSON document, or a line a change.  A demote whose
 * fallback failed still lists what it did (the failure is logged).
 */
static void
print_hand(const struct cli *cli, const struct by_hand *h,
    const struct db_snapshot *snap, const struct prune_pool *pp)
{
	const char *key = pp->pc->key;

	if (h->demote && !cli->json) {
		for (size_t i = 0; i < pp->nlines; i++)
			printf("%s: %s %s: %s\n", key, pp->lines[i].action,
			    pp->lines[i].snapshot, pp->lines[i].reasons);
		return;
	}
	if (pp->failed)
		return;
	if (cli->json && !h->demote)
		output_print_json(json_pack("{s:s,s:s,s:s,s:s}", "pool", key,
		    "snapshot", snap->name, "arm_id", snap->arm_id, "channel",
		    h->channel));
	else if (cli->json)
		output_print_json(demote_json(key, snap, h->channel, pp));
	else
		printf(
		    "%s: %s is the %s baseline\n", key, snap->name, h->channel);
}

static int
by_hand(struct cli *cli, int argc, char **argv, int demote)
{
	struct by_hand h = {
	    demote ? "demote" : "promote", demote, NULL, NULL, 0};
	struct session ss;
	struct db_snapshot snap;
	struct db_run rec;
	struct prune_pool pp;
	const struct pool_conf *pc = NULL;
	int rc, got = -1;

	rc = parse_hand_args(cli, argc, argv, &h);
	if (rc != EXIT_DONE)
		return rc;
	rc = session_open(&ss, cli, SESSION_WRITE);
	if (rc == EXIT_DONE)
		rc = find_own(&ss, &h, &snap, &pc);
	if (rc != EXIT_DONE)
		goto out;
	if (h.channel == NULL && !demote)
		h.channel = pc->policy->channel;
	rc = session_connect(&ss);
	if (rc != EXIT_DONE)
		goto out;
	rc = EXIT_FAILED;
	memset(&rec, 0, sizeof(rec));
	if (db_run_start(ss.db, util_now(), h.as_of, h.verb, &rec.id))
		goto out;
	memset(&pp, 0, sizeof(pp));
	pp.pc = pc;
	pp.pool_id = snap.pool_id;
	rc = change_channel(&ss, &h, rec.id, &snap, &pp, &got);
	if (pp.failed)
		log_err(pc->key, "%s", pp.error);
	if (got == 0)
		print_hand(cli, &h, &snap, &pp);
	rec.exit_code = rc;
	rec.promoted = pp.promoted;
	rec.failed = pp.failed;
	rec.finished_at = util_now();
	util_strlcpy(rec.mode, h.verb, sizeof(rec.mode));
	rec.as_of = h.as_of;
	(void)db_run_finish(ss.db, &rec);
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
