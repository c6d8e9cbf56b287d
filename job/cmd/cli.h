#ifndef AKSNAP_CLI_H
#define AKSNAP_CLI_H

/*
 * cli.h -- what every command handler shares: the global options, the exit
 * codes of DESIGN.md section 3, and the handlers themselves.
 *
 * A handler gets argv starting at its own name (argv[0] = "run"), parses
 * its own options with getopt_long, and returns the process exit code.
 */

#include <stdio.h>

#include "config/config.h"
#include "job/base/exit.h"

struct cli {
	const char *config_path; /* -c, $AKSNAP_CONFIG, or the default */
	int verbosity; /* -v count */
	int json; /* --json */
};

/*
 * cli_load_config(cli, out):
 * Load the configuration named by ${cli}; log its errors.  0 or -1.
 */
int cli_load_config(const struct cli *cli, struct config **out);

/*
 * cli_usage_error(cmd, fmt, ...):
 * Print "aksnap: <cmd>: <message>" and a hint to --help; return EXIT_USAGE.
 */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * cli_wants_help(argc, argv):
 * 1 when argv holds -h or --help before a "--".
 */
int cli_wants_help(int argc, char **argv);

typedef int cli_handler(const struct cli *cli, int argc, char **argv);

/* Handlers, one per command (job/cmd/cmd_*.c). */
cli_handler cmd_config;
cli_handler cmd_db;
cli_handler cmd_run;
cli_handler cmd_plan;
cli_handler cmd_snapshot;
cli_handler cmd_list;
cli_handler cmd_history;
cli_handler cmd_pin; /* job/cmd/cmd_report.c */
cli_handler cmd_unpin;
cli_handler cmd_explain;
cli_handler cmd_baseline;
cli_handler cmd_drift;
cli_handler cmd_check;
cli_handler cmd_apply; /* job/cmd/cmd_apply.c */
cli_handler cmd_sync; /* job/cmd/cmd_sync.c */
cli_handler cmd_prune;
cli_handler cmd_promote;

#endif
