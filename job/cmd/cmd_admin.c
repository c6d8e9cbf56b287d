/*
 * cmd_admin.c -- the commands that look after aksnap itself:
 * `config check`, `db migrate`, `db status`, `db check`, `db backup FILE`,
 * `db vacuum`.
 *
 * They touch no network and open what they need through session.[ch].
 * `db check`, `db status` and `db backup` only read: they work on a store
 * in a read-only directory (db.c opens it immutable there).  `config
 * check` is acme-client's -n: validate, print what the job will use, change
 * nothing.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "db/db_check.h"
#include "job/base/log.h"
#include "job/base/util.h"
#include "job/cmd/cli.h"
#include "job/cmd/output.h"
#include "job/cmd/session.h"

int
cmd_config(struct cli *cli, int argc, char **argv)
{
	const char *sub = NULL;
	struct session ss;
	int rc;

	rc = cli_one_operand(cli, argc, argv, "'config check'", &sub);
	if (rc != EXIT_DONE)
		return rc;
	if (strcmp(sub, "check") != 0)
		return cli_usage_error("config", "expected 'config check'");
	rc = session_open(&ss, cli, 0);
	if (rc == EXIT_DONE) {
		config_print(ss.cfg, stdout, cli->json);
		/* Overlaps that names alone show; plan and run -v report
		 * others. */
		(void)config_fleet_overlaps(ss.cfg, stderr);
	}
	session_close(&ss);
	return rc;
}

/* `db status --json`: the counts, and the last run when there is one. */
static json_t *
db_status_json(struct db *db, const char *path, const struct db_counts *n,
    const struct db_run *last)
{
	json_t *states = json_object();
	json_t *o = json_pack("{s:s,s:i,s:i,s:I,s:I,s:I}", "database", path,
	    "schema_version", db_schema_version(db), "latest_version",
	    db_latest_version(), "pools", (json_int_t)n->pools, "observations",
	    (json_int_t)n->observations, "snapshots", (json_int_t)n->snapshots);

	for (size_t i = 0; db_snapshot_states[i] != NULL; i++)
		json_object_set_new(states, db_snapshot_states[i],
		    json_integer(n->snapshots_by_state[i]));
	json_object_set_new(o, "snapshots_by_state", states);
	json_object_set_new(o, "runs", json_integer(n->runs));
	json_object_set_new(o, "decisions", json_integer(n->decisions));
	if (last != NULL) {
		json_object_set_new(o, "last_run_started_at",
		    output_json_time(last->started_at));
		json_object_set_new(
		    o, "last_run_exit_code", json_integer(last->exit_code));
	}
	return o;
}

/* `db status`: the same, a line a count; the snapshots' states that
 * have any in parentheses: "snapshots 14 (active 12, deleted 2)". */
static void
db_status_print(struct db *db, const char *path, const struct db_counts *n,
    const struct db_run *last)
{
	const char *sep = " (";
	char t[32];

	printf("database        %s\n", path);
	printf("schema version  %d (latest %d)\n", db_schema_version(db),
	    db_latest_version());
	printf("pools           %lld\n", n->pools);
	printf("observations    %lld\n", n->observations);
	printf("snapshots       %lld", n->snapshots);
	for (size_t i = 0; db_snapshot_states[i] != NULL; i++)
		if (n->snapshots_by_state[i] > 0) {
			printf("%s%s %lld", sep, db_snapshot_states[i],
			    n->snapshots_by_state[i]);
			sep = ", ";
		}
	printf("%s\n", n->snapshots > 0 ? ")" : "");
	printf("runs            %lld\n", n->runs);
	printf("decisions       %lld\n", n->decisions);
	if (last != NULL) {
		util_format_time(last->started_at, t, sizeof(t));
		printf("last run        %s (%s, exit %d)\n", t, last->mode,
		    last->exit_code);
	}
}

static int
db_status(const struct cli *cli, struct db *db, const char *path)
{
	struct db_counts n;
	struct db_run last;
	int have_last;

	if (db_counts(db, &n))
		return EXIT_FAILED;
	have_last = db_run_last(db, NULL, &last);
	if (have_last < 0)
		return EXIT_FAILED;
	if (cli->json)
		output_print_json(
		    db_status_json(db, path, &n, have_last ? &last : NULL));
	else
		db_status_print(db, path, &n, have_last ? &last : NULL);
	return EXIT_DONE;
}

/*
 * `db check`: the full check (db/db_check.c).  Exit 0 sound, 1 with each
 * problem listed (kind and detail), as `check` does for pools.
 */
static int
db_check(const struct cli *cli, struct db *db, const char *path)
{
	struct db_check_report r;
	int rc;

	if (db_check_full(db, &r))
		return EXIT_FAILED;
	if (cli->json) {
		json_t *arr = json_array();

		for (size_t i = 0; i < r.n; i++)
			json_array_append_new(arr,
			    json_pack("{s:s,s:s}", "kind", r.items[i].kind,
			        "detail", r.items[i].detail));
		output_print_json(
		    json_pack("{s:s,s:b,s:o,s:b}", "database", path, "ok",
		        r.n == 0, "problems", arr, "truncated", r.truncated));
	} else if (r.n == 0) {
		printf("%s: ok (integrity_check, foreign_key_check, "
		       "invariants)\n",
		    path);
	} else {
		for (size_t i = 0; i < r.n; i++)
			printf("%s: %s: %s\n", path, r.items[i].kind,
			    r.items[i].detail);
		printf("%s: %zu problem%s%s\n", path, r.n, r.n == 1 ? "" : "s",
		    r.truncated ? " (more not shown)" : "");
	}
	rc = r.n == 0 ? EXIT_DONE : EXIT_FAILED;
	db_check_report_free(&r);
	return rc;
}

/* `db SUB [FILE]`: which subcommand, checked.  EXIT_DONE or 2. */
static int
db_args(
    struct cli *cli, int argc, char **argv, const char **sub, const char **file)
{
	if (cli_operands(cli, argc, argv))
		return EXIT_USAGE;
	/* From here argv[1] is the subcommand, argv[2] its operand. */
	argc -= optind - 1;
	argv += optind - 1;
	if (argc < 2)
		return cli_usage_error("db",
		    "expected migrate, status, check, vacuum or "
		    "backup FILE");
	if (strcmp(argv[1], "backup") == 0 && argc != 3)
		return cli_usage_error("db", "backup needs one FILE");
	if (strcmp(argv[1], "backup") != 0 && argc != 2)
		return cli_usage_error(
		    "db", "unexpected argument '%s'", argv[2]);
	if (strcmp(argv[1], "migrate") != 0 && strcmp(argv[1], "status") != 0 &&
	    strcmp(argv[1], "check") != 0 && strcmp(argv[1], "backup") != 0 &&
	    strcmp(argv[1], "vacuum") != 0)
		return cli_usage_error(
		    "db", "unknown subcommand '%s'", argv[1]);
	*sub = argv[1];
	*file = argc == 3 ? argv[2] : NULL;
	return EXIT_DONE;
}

/* `db migrate`: the store opened for writing is migrated. */
static int
db_migrate(const struct cli *cli, struct db *db, const char *path)
{
	log_info(NULL, "%s: schema version %d", path, db_schema_version(db));
	if (cli->json)
		output_print_json(json_pack("{s:s,s:i}", "database", path,
		    "schema_version", db_schema_version(db)));
	return EXIT_DONE;
}

/* `db vacuum`: the free pages given back; the size before and after. */
static int
db_vacuum_store(const struct cli *cli, struct db *db, const char *path)
{
	long long before, after;

	if (db_vacuum(db, &before, &after))
		return EXIT_FAILED;
	if (cli->json)
		output_print_json(
		    json_pack("{s:s,s:I,s:I}", "database", path, "bytes_before",
		        (json_int_t)before, "bytes_after", (json_int_t)after));
	else
		printf("%s: %.1f MiB before vacuum, %.1f MiB after\n", path,
		    (double)before / 1048576.0, (double)after / 1048576.0);
	return EXIT_DONE;
}

/* `db backup FILE`: a verified copy. */
static int
db_backup_to(
    const struct cli *cli, struct db *db, const char *path, const char *file)
{
	if (db_backup(db, file))
		return EXIT_FAILED;
	if (cli->json)
		output_print_json(json_pack("{s:s,s:s,s:i,s:b}", "database",
		    path, "backup", file, "schema_version",
		    db_schema_version(db), "verified", 1));
	return EXIT_DONE;
}

/*
 * Only `db migrate` and `db vacuum` write: migrate with no run lock
 * (SESSION_CACHE: each migration is one transaction), vacuum under it
 * (SESSION_WRITE: it rewrites the whole file, no run meanwhile); the
 * others read the store as it is, so they work on a read-only one.  Exit codes
 * as every command's (session.h), but that `db check` counts a file too damaged
 * to open as a finding: 1.
 */
int
cmd_db(struct cli *cli, int argc, char **argv)
{
	struct session ss;
	const char *sub = NULL, *file = NULL;
	int migrate, vacuum, rc;

	rc = db_args(cli, argc, argv, &sub, &file);
	if (rc != EXIT_DONE)
		return rc;
	migrate = strcmp(sub, "migrate") == 0;
	vacuum = strcmp(sub, "vacuum") == 0;
	rc = session_open(&ss, cli,
	    migrate      ? SESSION_CACHE
	        : vacuum ? SESSION_WRITE
	                 : SESSION_STORE);
	if (rc != EXIT_DONE) {
		if (rc == EXIT_USAGE && ss.cfg != NULL &&
		    strcmp(sub, "check") == 0)
			rc = EXIT_FAILED;
	} else if (migrate) {
		rc = db_migrate(cli, ss.db, ss.cfg->database);
	} else if (vacuum) {
		rc = db_vacuum_store(cli, ss.db, ss.cfg->database);
	} else if (strcmp(sub, "status") == 0) {
		rc = db_status(cli, ss.db, ss.cfg->database);
	} else if (strcmp(sub, "check") == 0) {
		rc = db_check(cli, ss.db, ss.cfg->database);
	} else {
		rc = db_backup_to(cli, ss.db, ss.cfg->database, file);
	}
	session_close(&ss);
	return rc;
}
