#ifndef AKSNAP_CLI_H
#define AKSNAP_CLI_H

/*
 * cli.h -- what every command handler shares: the global options, the exit
 * codes of DESIGN.md section 3, and the handlers themselves.
 *
 * A handler gets argv starting at its own name (argv[0] = "run"), parses
 * its own options with cli_getopt (job/cmd/cli.c) and its own option
 * table, and returns the process exit code.  Global options found after
 * the command name update the handler's struct cli on the way.
 */

#include <getopt.h>
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

/*
 * cli_getopt(cli, argc, argv, opts):
 * getopt_long over a command's ${argv} (${argv}[0] = its name) with the
 * command's long options ${opts} (NULL-terminated; may be NULL; no short
 * forms, vals below 256) and, beside them, the global options -c/--config
 * FILE, -v/--verbose and --json, which are applied to ${cli} and not
 * returned.  Options and operands may come in any order; "--" ends the
 * options.  Return the val of the next command option (its value, if any,
 * in optarg); -1 at the end, the operands then being ${argv}[optind] ..
 * ${argv}[argc - 1] in their order; or '?' after printing "aksnap: CMD:
 * unknown option '--foo'" (or "needs a value", "takes no value").  Call
 * with optind = 0 the first time (main.c does).  With -vv the end of the
 * parse is traced on stderr.
 */
int cli_getopt(
    struct cli *cli, int argc, char **argv, const struct option *opts);

/*
 * cli_operands(cli, argc, argv):
 * cli_getopt for a command without options of its own: apply the global
 * options, drop "--"; 0 with the operands at ${argv}[optind..argc-1], or
 * -1 after printing the usage error.
 */
int cli_operands(struct cli *cli, int argc, char **argv);

/*
 * cli_one_operand(cli, argc, argv, what, out):
 * cli_operands for a command of exactly one operand (pin, unpin, explain,
 * config): EXIT_DONE with it in ${*out}, or EXIT_USAGE after the usage
 * error ("expected ${what}" when there are none or more).
 */
int cli_one_operand(
    struct cli *cli, int argc, char **argv, const char *what, const char **out);

typedef int cli_handler(struct cli *cli, int argc, char **argv);

/* Handlers, one per command (job/cmd/cmd_*.c). */
cli_handler cmd_config;
cli_handler cmd_db;
cli_handler cmd_run;
cli_handler cmd_plan;
cli_handler cmd_snapshot;
cli_handler cmd_list;
cli_handler cmd_history;
cli_handler cmd_pin; /* job/cmd/cmd_pin.c (and unpin) */
cli_handler cmd_unpin;
cli_handler cmd_explain;
cli_handler cmd_baseline;
cli_handler cmd_drift;
cli_handler cmd_check;
cli_handler cmd_apply; /* job/cmd/cmd_apply.c */
cli_handler cmd_sync; /* job/cmd/cmd_sync.c */
cli_handler cmd_discover; /* job/cmd/cmd_discover.c */
cli_handler cmd_prune;
cli_handler cmd_promote;
cli_handler cmd_demote;
cli_handler cmd_report; /* job/cmd/cmd_report_html.c */
cli_handler cmd_changes; /* job/cmd/cmd_changes.c */

#endif
