/*
 * cmd_run.c -- the commands that carry out a run: run, plan, snapshot,
 * prune.
 *
 * Each parses its options into a struct run_options and opens its session
 * (session.h: configuration, the pools it names checked, run lock, store
 * for writing, ARM clients -- the exit codes of every command), then
 * hands the handles to run_execute (job/run/run.c); the exit code is the
 * run's.
 */
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "job/base/util.h"
#include "job/cmd/cli.h"
#include "job/cmd/session.h"
#include "job/run/run.h"

static int
parse_run_args(struct cli *cli, int argc, char **argv, struct run_options *o,
    int allow_dry, const char ***pools)
{
	static const struct option lopts[] = {
	    {"dry-run", no_argument, NULL, 'n'},
	    {"as-of", required_argument, NULL, 'a'},
	    {"pool", required_argument, NULL, 'p'},
	    {NULL, 0, NULL, 0},
	};
	const char *cmd = argv[0];
	size_t np = 0;
	int ch;

	*pools = calloc((size_t)argc + 1, sizeof(**pools));
	if (*pools == NULL)
		return -1;
	o->as_of = util_now();
	while ((ch = cli_getopt(cli, argc, argv, lopts)) != -1) {
		switch (ch) {
		case 'n':
			if (!allow_dry) {
				cli_usage_error(cmd,
				    "--dry-run: not an option "
				    "of %s",
				    cmd);
				return -1;
			}
			if (o->mode == RUN_PRUNE)
				o->dry_run = 1;
			else
				o->mode = RUN_DRY;
			break;
		case 'a':
			if (util_parse_time(optarg, &o->as_of)) {
				cli_usage_error(cmd,
				    "--as-of: expected an RFC "
				    "3339 time such as 2026-03-16T03:00:00Z, "
				    "got '%s'",
				    optarg);
				return -1;
			}
			break;
		case 'p':
			(*pools)[np++] = optarg;
			break;
		default:
			return -1;
		}
	}
	if (o->mode == RUN_SNAPSHOT || o->mode == RUN_PRUNE) {
		for (int i = optind; i < argc; i++)
			(*pools)[np++] = argv[i];
		if (np == 0 && o->mode == RUN_SNAPSHOT) {
			cli_usage_error(cmd, "name at least one POOL");
			return -1;
		}
	} else if (optind < argc) {
		cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
		return -1;
	}
	o->pools = np > 0 ? *pools : NULL;
	return 0;
}

static int
run_command(
    struct cli *cli, int argc, char **argv, enum run_mode mode, int allow_dry)
{
	struct run_options o;
	struct session ss;
	const char **pools = NULL;
	int rc;

	memset(&o, 0, sizeof(o));
	o.mode = mode;
	if (parse_run_args(cli, argc, argv, &o, allow_dry, &pools)) {
		free(pools);
		return EXIT_USAGE;
	}
	o.json = cli->json;
	/* The pools named are checked before the lock (2); the first token
	 * is the run's to ask, after its runs row (run_handles). */
	rc = session_open(&ss, cli, 0);
	if (rc == EXIT_DONE && ss.cfg->nfleets == 0 &&
	    run_pools_known(ss.cfg, o.pools))
		rc = EXIT_USAGE;
	if (rc == EXIT_DONE)
		rc = session_store(&ss, SESSION_WRITE);
	if (rc == EXIT_DONE)
		rc = session_clients(&ss);
	if (rc == EXIT_DONE) {
		struct run_handles h = {ss.db, ss.http, ss.tokens, ss.arm};

		rc = run_execute(ss.cfg, &o, &h);
	}
	session_close(&ss);
	free(pools);
	return rc;
}

int
cmd_run(struct cli *cli, int argc, char **argv)
{
	return run_command(cli, argc, argv, RUN_SCHEDULED, 1);
}

int
cmd_plan(struct cli *cli, int argc, char **argv)
{
	return run_command(cli, argc, argv, RUN_DRY, 0);
}

int
cmd_snapshot(struct cli *cli, int argc, char **argv)
{
	return run_command(cli, argc, argv, RUN_SNAPSHOT, 0);
}

int
cmd_prune(struct cli *cli, int argc, char **argv)
{
	return run_command(cli, argc, argv, RUN_PRUNE, 1);
}
