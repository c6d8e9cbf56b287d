/*
 * main.c -- the command line: global options, then one command.
 *
 *   aksnap [-c FILE] [-v|-vv] [--json] COMMAND [ARGS]
 *
 * Only this file exits.  Each command lives in its own file and returns
 * its exit code (DESIGN.md section 3); this file only finds the command,
 * prints help, and turns an unknown command into exit 2.
 */
#include <getopt.h>
#include <jansson.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job/base/log.h"
#include "job/base/version.h"
#include "job/cmd/cli.h"
#include "job/cmd/output.h"

struct command {
	const char *name;
	cli_handler *handler;
	const char *synopsis;
	const char *help;
};

static int
print_version(const struct cli *cli)
{
	if (cli != NULL && cli->json)
		output_print_json(
		    json_pack("{s:s}", "version", AKSNAP_VERSION));
	else
		printf("aksnap %s\n", AKSNAP_VERSION);
	return EXIT_DONE;
}

static int
cmd_version(struct cli *cli, int argc, char **argv)
{
	if (cli_operands(cli, argc, argv))
		return EXIT_USAGE;
	if (optind < argc)
		return cli_usage_error("version", "takes no argument");
	return print_version(cli);
}

static const struct command commands[] = {
    {"run", cmd_run, "run [--dry-run] [--as-of TIME] [--pool NAME]...",
        "The scheduled job: reconcile, observe every pool, take the "
        "snapshots that are due,\nprune and promote by policy, record "
        "everything, report."},
    {"plan", cmd_plan, "plan [--as-of TIME] [--pool NAME]...",
        "Print every action a run would take, with its reason (= run "
        "--dry-run)."},
    {"snapshot", cmd_snapshot, "snapshot POOL...",
        "Take a snapshot of each POOL now, whatever the schedule."},
    {"prune", cmd_prune, "prune [--dry-run] [--as-of TIME] [POOL...]",
        "Apply retention only."},
    {"promote", cmd_promote, "promote SNAPSHOT [--channel NAME] [--as-of TIME]",
        "Promote a snapshot by hand."},
    {"demote", cmd_demote, "demote SNAPSHOT [--channel NAME] [--as-of TIME]",
        "Take a snapshot out of a channel (default: every channel it "
        "holds) by hand; the\nchannel falls back to its previous holder "
        "that is still active and was never\ndemoted. A run never "
        "promotes it again (promote by hand still may)."},
    {"changes", cmd_changes,
        "changes SNAPSHOT [SNAPSHOT] | changes --pool POOL [--live] "
        "[--channel NAME]",
        "What changed between two node images: the Kubernetes and node "
        "image versions,\nkernel, OS release, key components, then per "
        "section of the images' release\nnotes (components, pre-pulled "
        "images, packages, kernel, OS release) what was\nadded, removed "
        "and changed.  Two snapshots: old -> new; one: its pool's "
        "baseline\n-> it; --pool: the pool's baseline (in --channel) -> "
        "its newest snapshot;\n--live: the baseline -> the pool as Azure "
        "shows it now.  Release notes are\nfetched once per image version "
        "(release_notes) and kept in the store; without\nthem only the "
        "versions compare."},
    {"pin", cmd_pin, "pin SNAPSHOT", "Exclude a snapshot from retention."},
    {"unpin", cmd_unpin, "unpin SNAPSHOT",
        "Give a snapshot back to retention."},
    {"list", cmd_list, "list [POOL] [--all]",
        "Live snapshots: name, slot, created, state, versions, channel,\n"
        "pinned; --all also the deleted, failed and missing ones."},
    {"history", cmd_history, "history [POOL] [--since TIME] [--changes]",
        "The observed versions of each pool over time."},
    {"drift", cmd_drift, "drift [--refresh] [--channel NAME]",
        "Live pool vs its baseline vs its newest snapshot."},
    {"explain", cmd_explain, "explain SNAPSHOT",
        "Every decision taken about a snapshot, with reasons."},
    {"check", cmd_check, "check [--as-of TIME]",
        "Monitoring plugin: exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN."},
    {"baseline", cmd_baseline,
        "baseline [--channel NAME] [--format table|json|env|tfvars]",
        "The promoted snapshot id of each pool."},
    {"apply", cmd_apply,
        "apply --channel NAME --to POOL [--from POOL] [--create NEWPOOL "
        "[--count N]]\n      [--allow-older] [--cross-region] "
        "[--ignore-upgrade-channel]\n      [--dry-run] [--as-of TIME] "
        "[--timeout DURATION]\n"
        "    | apply --channel NAME --from POOL --new-cluster NAME "
        "[--resource-group RG]\n      [--node-os-channel CHANNEL] "
        "[--dry-run] [--as-of TIME] [--timeout DURATION]",
        "Upgrade pool --to to the snapshot that pool --from (default: "
        "--to) holds in\nthe channel, or with --create make a new pool "
        "NEWPOOL (N nodes, default 3) from it\nin --to's cluster, and "
        "wait for the long-running operation.  Refused, with\nthe "
        "reason and nothing sent: a snapshot not active in the store or "
        "gone from\nAzure, another OS type or VM family, a snapshot not "
        "newer than the pool\n(--allow-older: a rollback), a node image "
        "older than AKS's 90-day window,\nanother region (--cross-region), "
        "a Kubernetes version the location does not\noffer or the control "
        "plane does not allow, a cluster whose auto-upgrade\nchannels "
        "would undo the baseline (--ignore-upgrade-channel).  --dry-run "
        "prints\nthe checks and the request it would send.  With "
        "--new-cluster, create a cluster\nwhose system pool is the "
        "baseline, in the snapshot's region, nodeOSUpgradeChannel\nNone "
        "unless --node-os-channel says otherwise.  Exit 0 done, 1 "
        "refused or failed, 2 usage, 75 lock "
        "held."},
    {"report", cmd_report,
        "report [--html FILE] [--since TIME] [--pool NAME]... "
        "[--channel NAME]",
        "The fleet's record as one picture, from the store alone: per "
        "cluster and pool a\ntimeline of the observed node image and "
        "Kubernetes versions with every snapshot\ntaken, promoted "
        "(and its soak), demoted, pruned or pinned; the drift matrix;\n"
        "a summary.  --html writes one self-contained page (no network, "
        "no script; -\nis stdout), --json the same data.  --since TIME "
        "(RFC 3339, or a duration such as\n90d back from the newest run; "
        "default 30d) sets the window."},
    {"sync", cmd_sync, "sync [--dry-run]",
        "Reconcile the store with what ARM holds: list the snapshots of "
        "each subscription\nof the configured pools; adopt those tagged "
        "aksnap-managed=true that the store\nlacks (a restored "
        "database) and that prove to be its own (the deterministic\nname "
        "of a configured pool and slot, matching tags and source); report "
        "and\nrecord every other one as a conflict (check warns; never "
        "touched); mark missing\nthe active ones Azure lost (after a GET "
        "by id answers 404).  Snapshots without\nthe tag are never "
        "touched.  --dry-run prints what it would do and records "
        "nothing."},
    {"discover", cmd_discover,
        "discover [--subscription SUBSCRIPTION]... [--fleet NAME] "
        "[--format table|json|ini]",
        "Show what subscriptions hold (clusters, node pools, modes, OS, "
        "versions,\nauto-upgrade channels), or with --fleet what that "
        "[fleet:NAME] selects.  One\nlist request a page; nothing is "
        "written.  --format table (default), json, or\nini: [pool:*] "
        "sections ready to edit, which config check accepts."},
    {"config", cmd_config, "config check",
        "Validate the configuration and print it resolved (secrets "
        "masked)."},
    {"db", cmd_db,
        "db migrate | db status | db check | db vacuum | db backup FILE",
        "Migrate the store, show its schema version and counts, check it "
        "(integrity,\nforeign keys, invariants; exit 1 listing each "
        "problem), or copy it online\n(refused for a store that fails the "
        "check; the copy is checked)."},
    {"version", cmd_version, "version", "Print the version."},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: aksnap [-c FILE] [-v|-vv] [--json] COMMAND [ARGS]\n\n"
	    "Scheduled snapshots, retention and promotion of AKS node "
	    "pools.\n\n"
	    "Options:\n"
	    "  -c, --config FILE  configuration (default $AKSNAP_CONFIG or "
	    "%s)\n"
	    "  -v, --verbose      progress on stderr; twice (-vv) traces HTTP "
	    "(secrets redacted)\n"
	    "      --json         one JSON document on stdout\n"
	    "  -h, --help         this help; COMMAND --help for a command's\n"
	    "  -V, --version      print the version\n"
	    "Options and operands in any order; -c, -v and --json also after "
	    "COMMAND;\n-- ends the options.\n\n"
	    "Commands:\n",
	    CONFIG_DEFAULT_PATH);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %s\n", commands[i].synopsis);
	fprintf(out,
	    "\nExit: 0 done, 1 a pool failed, 2 usage or configuration error, "
	    "75 temporary failure.\nSee aksnap(8) and aksnap.ini(5).\n");
}

static void
command_help(const struct command *c)
{
	printf("usage: aksnap [-c FILE] [-v|-vv] [--json] %s\n\n%s\n",
	    c->synopsis, c->help);
}

/*
 * Keep the heap's top.  glibc hands the top of the heap back to the kernel
 * (brk) whenever a free leaves more than 128 KiB there, and takes it back
 * at the next allocation: one page fault a page, and a TLB flush a shrink.
 * SQLite frees a statement's temporary b-tree pages when the statement
 * ends, so a run over 1,000 pools with a dozen live snapshots each shrank
 * and regrew the heap about 3,000 times, half its CPU on a virtual
 * machine.  Keeping up to 8 MiB of free top costs no peak: memory is only
 * kept after it was in use.
 */
static void
heap_keep(void)
{
#ifdef M_TRIM_THRESHOLD
	(void)mallopt(M_TRIM_THRESHOLD, 8 << 20);
#endif
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct cli cli = {NULL, 0, 0};
	const char *env;
	int ch;

	heap_keep();
	/* "+": stop at the command name; its options are its own.  ":" and
	 * opterr = 0: the messages are ours, in the form the commands use. */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:c:vhV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			cli.config_path = optarg;
			break;
		case 'v':
			cli.verbosity++;
			break;
		case 'j':
			cli.json = 1;
			break;
		case 'h':
			usage(stdout);
			return EXIT_DONE;
		case 'V':
			return print_version(&cli);
		case ':':
			fprintf(stderr,
			    "aksnap: option '%s' needs a value\n"
			    "Try 'aksnap --help'.\n",
			    argv[optind - 1]);
			return EXIT_USAGE;
		default:
			fprintf(stderr,
			    "aksnap: unknown option '%s'\n"
			    "Try 'aksnap --help'.\n",
			    argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	log_init(cli.verbosity);
	if (cli.config_path == NULL) {
		env = getenv("AKSNAP_CONFIG");
		cli.config_path =
		    (env != NULL && env[0] != '\0') ? env : CONFIG_DEFAULT_PATH;
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}

	for (size_t i = 0; i < NCOMMANDS; i++) {
		const struct command *c = &commands[i];
		int cargc = argc - optind;
		char **cargv = argv + optind;

		if (strcmp(cargv[0], c->name) != 0)
			continue;
		if (cli_wants_help(cargc, cargv)) {
			command_help(c);
			return EXIT_DONE;
		}
		/* cli_getopt in the handler starts afresh. */
		optind = 0;
		return c->handler(&cli, cargc, cargv);
	}
	return cli_usage_error(NULL, "unknown command '%s'", argv[optind]);
}
