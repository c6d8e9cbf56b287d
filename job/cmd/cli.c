/*
 * cli.c -- what every command's argument parsing shares.
 *
 * DESIGN.md section 3: options and operands come in any order, the global
 * options (-c FILE, -v, --json) are accepted before or after the command
 * name, and "--" ends the options, as with GNU tools.  main.c parses the
 * globals that come before the command name; each command then walks its
 * own argv (argv[0] = its name) with cli_getopt and its own option table,
 * and cli_getopt adds the globals to that table so that they are accepted
 * anywhere after the command too.
 *
 * getopt_long runs in RETURN_IN_ORDER mode ("-" at the head of the option
 * string): each operand comes back as character 1 and is moved, here, in
 * front of the options already seen.  At the end the operands are moved
 * behind the options, so the caller finds them, in their order, at
 * argv[optind..argc-1].  That is GNU permutation done by us, so it does not
 * change with $POSIXLY_CORRECT, which turns glibc's own permutation off.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job/base/log.h"
#include "job/cmd/cli.h"

/* Values of the global options in the combined table: beyond any char. */
enum {
	OPT_CONFIG = 0x1000,
	OPT_VERBOSE,
	OPT_JSON,
};

static const struct option global_options[] = {
    {"config", required_argument, NULL, OPT_CONFIG},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"json", no_argument, NULL, OPT_JSON},
    {NULL, 0, NULL, 0},
};

/* The longest option table a command may have (apply's is the longest). */
#define MAX_OPTIONS 48

/* Operands met so far in this parse; they sit at argv[1..noperands]. */
static int noperands;

/* The command options of this parse, in order, for the -vv trace. */
static char seen[1024];
static size_t seen_len;

int
cli_usage_error(const char *cmd, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cmd != NULL)
		fprintf(stderr, "aksnap: %s: %s\n", cmd, msg);
	else
		fprintf(stderr, "aksnap: %s\n", msg);
	if (cmd != NULL)
		fprintf(stderr, "aksnap: try 'aksnap %s --help'\n", cmd);
	else
		fprintf(stderr, "aksnap: try 'aksnap --help'\n");
	return EXIT_USAGE;
}

int
cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0)
			return 1;
	}
	return 0;
}

int
cli_load_config(const struct cli *cli, struct config **out)
{
	return config_load(cli->config_path, out);
}

/* Move argv[from] to argv[to] (to <= from), shifting the rest right. */
static void
rotate_right(char **argv, int to, int from)
{
	char *moved = argv[from];

	memmove(&argv[to + 1], &argv[to], (size_t)(from - to) * sizeof(*argv));
	argv[to] = moved;
}

/* The option a failed getopt_long call was about, for the message. */
static void
bad_option(const char *cmd, char **argv, int kind)
{
	const char *tok = argv[optind - 1];
	char name[128];
	size_t len;

	if (strncmp(tok, "--", 2) == 0) {
		len = strcspn(tok, "=");
		if (len >= sizeof(name))
			len = sizeof(name) - 1;
		memcpy(name, tok, len);
		name[len] = '\0';
	} else {
		snprintf(name, sizeof(name), "-%c", optopt);
	}
	if (kind == ':')
		cli_usage_error(cmd, "option '%s' needs a value", name);
	else if (optopt != 0 && tok[len = strcspn(tok, "=")] == '=' &&
	    strncmp(tok, "--", 2) == 0)
		cli_usage_error(cmd, "option '%s' takes no value", name);
	else
		cli_usage_error(cmd, "unknown option '%s'", name);
}

/* At the end: operands from argv[1..noperands] to just before optind. */
static void
settle_operands(char **argv)
{
	for (int i = 1 + noperands; i < optind; i++)
		rotate_right(argv, 1, optind - 1);
	optind -= noperands;
	noperands = 0;
}

/* With -vv: what the parse came to, so that tests can compare orders. */
static void
trace_parse(const struct cli *cli, int argc, char **argv)
{
	char line[1024];
	size_t len;

	if (log_verbosity() < 2)
		return;
	len = (size_t)snprintf(line, sizeof(line),
	    "config='%s' json=%d verbosity=%d options:%s operands:",
	    cli->config_path != NULL ? cli->config_path : "", cli->json,
	    cli->verbosity, seen);
	for (int i = optind; i < argc && len < sizeof(line); i++)
		len += (size_t)snprintf(
		    line + len, sizeof(line) - len, " '%s'", argv[i]);
	log_debug(argv[0], "arguments: %s", line);
}

/* Remember a command option for the trace. */
static void
note_option(const struct option *o, const char *value)
{
	int n;

	if (seen_len >= sizeof(seen))
		return;
	n = snprintf(seen + seen_len, sizeof(seen) - seen_len, " --%s%s%s%s",
	    o->name, value != NULL ? "='" : "", value != NULL ? value : "",
	    value != NULL ? "'" : "");
	if (n > 0)
		seen_len += (size_t)n;
}

int
cli_getopt(struct cli *cli, int argc, char **argv, const struct option *opts)
{
	struct option all[MAX_OPTIONS + 4];
	size_t n = 0;
	int ch, longindex;

	if (optind == 0) {
		noperands = 0;
		seen[0] = '\0';
		seen_len = 0;
	}
	for (; opts != NULL && opts[n].name != NULL && n < MAX_OPTIONS; n++)
		all[n] = opts[n];
	memcpy(&all[n], global_options, sizeof(global_options));
	opterr = 0;
	for (;;) {
		longindex = -1;
		ch = getopt_long(argc, argv, "-:c:v", all, &longindex);
		switch (ch) {
		case -1:
			settle_operands(argv);
			trace_parse(cli, argc, argv);
			return -1;
		case 1:
			rotate_right(argv, 1 + noperands, optind - 1);
			noperands++;
			continue;
		case 'c':
		case OPT_CONFIG:
			/* Only the globals have a short form. */
			if (ch == 'c' && longindex >= 0)
				break;
			cli->config_path = optarg;
			continue;
		case 'v':
		case OPT_VERBOSE:
			if (ch == 'v' && longindex >= 0)
				break;
			cli->verbosity++;
			log_init(cli->verbosity);
			continue;
		case OPT_JSON:
			cli->json = 1;
			continue;
		case '?':
		case ':':
			bad_option(argv[0], argv, ch);
			noperands = 0;
			return '?';
		default:
			break;
		}
		if (longindex >= 0)
			note_option(&all[longindex], optarg);
		return ch;
	}
}

int
cli_operands(struct cli *cli, int argc, char **argv)
{
	optind = 0;
	return cli_getopt(cli, argc, argv, NULL) == -1 ? 0 : -1;
}

int
cli_one_operand(
    struct cli *cli, int argc, char **argv, const char *what, const char **out)
{
	if (cli_operands(cli, argc, argv))
		return EXIT_USAGE;
	if (argc - optind != 1)
		return cli_usage_error(argv[0], "expected %s", what);
	*out = argv[optind];
	return EXIT_DONE;
}
