/*
 * cmd_report_html.c -- `aksnap report`: the fleet's record as a picture.
 *
 *   report [--html FILE] [--json] [--since TIME] [--pool P]...
 *          [--channel C]
 *
 * Read-only, from the store alone (no network): gathered and read pool
 * by pool by report.c, drawn by report_html.c, each form written as its
 * pools are read.  --html writes one self-contained page (to a
 * temporary file beside FILE, renamed over it, so a browser or a web
 * server never sees half a page; "-" is stdout); --json prints the same
 * data; with neither, a few lines of summary.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db/db.h"
#include "job/base/log.h"
#include "job/base/util.h"
#include "job/cmd/cli.h"
#include "job/cmd/output.h"
#include "job/cmd/report.h"
#include "job/cmd/session.h"

/* Write the page to ${path} atomically ("-": stdout).  0 or -1 (logged). */
static int
write_html(const char *path, struct report *r)
{
	char tmp[PATH_MAX + 16];
	FILE *f;
	int fd;

	if (strcmp(path, "-") == 0)
		return report_html(stdout, r) || fflush(stdout) != 0 ? -1 : 0;
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		log_err(NULL, "report: %s: %s", tmp, strerror(errno));
		return -1;
	}
	f = fdopen(fd, "w");
	if (f == NULL) {
		log_err(NULL, "report: %s: %s", tmp, strerror(errno));
		close(fd);
		goto err;
	}
	if (report_html(f, r) || fflush(f) != 0) {
		log_err(NULL, "report: writing %s: %s", tmp, strerror(errno));
		fclose(f);
		goto err;
	}
	(void)fchmod(fileno(f), 0644);
	if (fclose(f) != 0) {
		log_err(NULL, "report: %s: %s", tmp, strerror(errno));
		goto err;
	}
	if (rename(tmp, path) != 0) {
		log_err(
		    NULL, "report: rename to %s: %s", path, strerror(errno));
		goto err;
	}
	return 0;
err:
	unlink(tmp);
	return -1;
}

static void
print_summary(const struct report *r, const char *html)
{
	char a[32], b[32];
	size_t in = r->verdicts[0]; /* in-baseline */

	report_format_local(r->since, r->tz, a, sizeof(a));
	report_format_local(r->as_of, r->tz, b, sizeof(b));
	printf("report %s .. %s (%s)\n", a, b, r->timezone);
	printf("pools         %zu in %zu clusters, %zu in baseline\n",
	    r->npools, r->nclusters, in);
	printf("old baselines %zu (older than warn_baseline_age)\n",
	    r->baselines_old);
	printf("will re-image %zu (AKS upgrade channels)\n", r->will_reimage);
	printf("promotions    %zu\n", r->promotions);
	printf("runs          %zu, %zu failed\n", r->nruns, r->nfailed_runs);
	if (html != NULL && strcmp(html, "-") != 0)
		printf("written       %s\n", html);
}

/* report's options into ${opt} and ${*html}.  EXIT_DONE or 2 (said why). */
static int
report_args(struct cli *cli, int argc, char **argv, struct report_options *opt,
    const char **pools, const char **html)
{
	static const struct option lopts[] = {
	    {"html", required_argument, NULL, 'h'},
	    {"since", required_argument, NULL, 's'},
	    {"pool", required_argument, NULL, 'p'},
	    {"channel", required_argument, NULL, 'c'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	while ((ch = cli_getopt(cli, argc, argv, lopts)) != -1) {
		switch (ch) {
		case 'h':
			if (optarg[0] == '\0')
				return cli_usage_error("report",
				    "--html: expected a file name (or -)");
			*html = optarg;
			break;
		case 's':
			if (util_parse_time(optarg, &opt->since) == 0)
				break;
			opt->since = 0;
			if (util_parse_duration(optarg, &opt->since_ago) == 0 &&
			    opt->since_ago > 0)
				break;
			return cli_usage_error("report",
			    "--since: expected an RFC 3339 time or a duration "
			    "back from the newest run (e.g. 90d), got '%s'",
			    optarg);
		case 'p':
			pools[opt->npools++] = optarg;
			break;
		case 'c':
			if (optarg[0] == '\0')
				return cli_usage_error(
				    "report", "--channel: expected a name");
			opt->channel = optarg;
			break;
		default:
			return EXIT_USAGE; /* cli_getopt said why */
		}
	}
	if (optind < argc)
		return cli_usage_error(
		    "report", "unexpected argument '%s'", argv[optind]);
	if (*html != NULL && cli->json && strcmp(*html, "-") == 0)
		return cli_usage_error(
		    "report", "--html - and --json would both write to stdout");
	opt->pools = pools;
	opt->html = *html != NULL;
	return EXIT_DONE;
}

/*
 * Read-only: the store as it is (never migrated, no run lock), through
 * the session, so a store that cannot be opened exits as for every
 * command.  Gathered once, then written as asked: the page, the JSON
 * document, or the summary.
 */
int
cmd_report(struct cli *cli, int argc, char **argv)
{
	struct report_options opt;
	struct session ss;
	struct report *r = NULL;
	const char **pools;
	const char *html = NULL;
	int rc, got;

	memset(&opt, 0, sizeof(opt));
	pools = calloc((size_t)argc + 1, sizeof(*pools));
	if (pools == NULL)
		return EXIT_FAILED;
	rc = report_args(cli, argc, argv, &opt, pools, &html);
	if (rc != EXIT_DONE) {
		free(pools);
		return rc;
	}
	rc = session_open(&ss, cli, SESSION_STORE);
	if (rc != EXIT_DONE)
		goto out;
	rc = EXIT_FAILED;
	got = report_gather(ss.db, ss.cfg, &opt, &r);
	if (got == -2)
		rc = EXIT_USAGE;
	if (got != 0)
		goto out;
	if (html != NULL && write_html(html, r))
		goto out;
	if (cli->json) {
		if (report_json(stdout, r) || fflush(stdout) != 0)
			goto out;
	} else if (html == NULL || strcmp(html, "-") != 0) {
		print_summary(r, html);
	}
	rc = EXIT_DONE;
out:
	report_free(r);
	session_close(&ss);
	free(pools);
	return rc;
}
