/*
 * cmd_admin.c -- the commands that look after aksnap itself:
 * `config check`, `db migrate`, `db status`, `db check`, `db backup FILE`.
 *
 * They touch no network.  `db check` and `db status` only read: they work
 * on a store in a read-only directory (db.c opens it immutable there).  `config
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

int
cmd_config(struct cli *cli, int argc, char **argv)
{
	struct config *c = NULL;

	if (cli_operands(cli, argc, argv))
		return EXIT_USAGE;
	argc -= optind - 1;
	argv += optind - 1;
	if (argc != 2 || strcmp(argv[1], "check") != 0)
		return cli_usage_error("config", "expected 'config check'");
	if (cli_load_config(cli, &c))
		return EXIT_USAGE;
	config_print(c, stdout, cli->json);
	/* Overlaps that names alone show; plan and run -v report others. */
	(void)config_fleet_overlaps(c, stderr);
	config_free(c);
	return EXIT_DONE;
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
	if (cli->json) {
		json_t *o = json_object(), *states = json_object();
		char *s;

		json_object_set_new(o, "database", json_string(path));
		json_object_set_new(
		    o, "schema_version", json_integer(db_schema_version(db)));
		json_object_set_new(
		    o, "latest_version", json_integer(db_latest_version()));
		json_object_set_new(o, "pools", json_integer(n.pools));
		json_object_set_new(
		    o, "observations", json_integer(n.observations));
		json_object_set_new(o, "snapshots", json_integer(n.snapshots));
		for (size_t i = 0; db_snapshot_states[i] != NULL; i++)
			json_object_set_new(states, db_snapshot_states[i],
			    json_integer(n.snapshots_by_state[i]));
		json_object_set_new(o, "snapshots_by_state", states);
		json_object_set_new(o, "runs", json_integer(n.runs));
		json_object_set_new(o, "decisions", json_integer(n.decisions));
		if (have_last) {
			char t[32];

			util_format_time(last.started_at, t, sizeof(t));
			json_object_set_new(
			    o, "last_run_started_at", json_string(t));
			json_object_set_new(o, "last_run_exit_code",
			    json_integer(last.exit_code));
		}
		s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (s != NULL)
			printf("%s\n", s);
		free(s);
		json_decref(o);
		return EXIT_DONE;
	}
	printf("database        %s\n", path);
	printf("schema version  %d (latest %d)\n", db_schema_version(db),
	    db_latest_version());
	printf("pools           %lld\n", n.pools);
	printf("observations    %lld\n", n.observations);
	printf("snapshots       %lld", n.snapshots);
	for (size_t i = 0; db_snapshot_states[i] != NULL; i++)
		if (n.snapshots_by_state[i] > 0)
			printf("%s %s %lld", i == 0 ? " (" : ",",
			    db_snapshot_states[i], n.snapshots_by_state[i]);
	printf("%s\n", n.snapshots > 0 ? ")" : "");
	printf("runs            %lld\n", n.runs);
	printf("decisions       %lld\n", n.decisions);
	if (have_last) {
		char t[32];

		util_format_time(last.started_at, t, sizeof(t));
		printf("last run        %s (%s, exit %d)\n", t, last.mode,
		    last.exit_code);
	}
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
		json_t *o = json_object(), *arr = json_array();
		char *s;

		json_object_set_new(o, "database", json_string(path));
		json_object_set_new(o, "ok", json_boolean(r.n == 0));
		for (size_t i = 0; i < r.n; i++)
			json_array_append_new(arr,
			    json_pack("{s:s,s:s}", "kind", r.items[i].kind,
			        "detail", r.items[i].detail));
		json_object_set_new(o, "problems", arr);
		json_object_set_new(o, "truncated", json_boolean(r.truncated));
		s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (s != NULL)
			printf("%s\n", s);
		free(s);
		json_decref(o);
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

int
cmd_db(struct cli *cli, int argc, char **argv)
{
	struct config *c = NULL;
	struct db *db = NULL;
	int rc = EXIT_USAGE;

	if (cli_operands(cli, argc, argv))
		return EXIT_USAGE;
	/* From here argv[1] is the subcommand, argv[2] its operand. */
	argc -= optind - 1;
	argv += optind - 1;
	if (argc < 2)
		return cli_usage_error("db",
		    "expected migrate, status, check or "
		    "backup FILE");
	if (strcmp(argv[1], "backup") == 0 && argc != 3)
		return cli_usage_error("db", "backup needs one FILE");
	if (strcmp(argv[1], "backup") != 0 && argc != 2)
		return cli_usage_error(
		    "db", "unexpected argument '%s'", argv[2]);
	if (strcmp(argv[1], "migrate") != 0 && strcmp(argv[1], "status") != 0 &&
	    strcmp(argv[1], "check") != 0 && strcmp(argv[1], "backup") != 0)
		return cli_usage_error(
		    "db", "unknown subcommand '%s'", argv[1]);
	if (cli_load_config(cli, &c))
		return EXIT_USAGE;

	if (strcmp(argv[1], "migrate") == 0) {
		if (db_open(c->database, &db)) {
			rc = db_failed_busy()      ? EXIT_TEMP
			    : db_failed_unusable() ? EXIT_USAGE
			                           : EXIT_FAILED;
			goto done;
		}
		log_info(NULL, "%s: schema version %d", c->database,
		    db_schema_version(db));
		if (cli->json)
			output_print_json(
			    json_pack("{s:s,s:i}", "database", c->database,
			        "schema_version", db_schema_version(db)));
		rc = EXIT_DONE;
	} else if (strcmp(argv[1], "status") == 0) {
		if (db_open_nomigrate(c->database, &db)) {
			rc = EXIT_FAILED;
			goto done;
		}
		rc = db_status(cli, db, c->database);
	} else if (strcmp(argv[1], "check") == 0) {
		/*
		 * A file too damaged to open (header, schema) is a finding
		 * too: exit 1 like any other problem.
		 */
		if (db_open_nomigrate(c->database, &db)) {
			rc = EXIT_FAILED;
			goto done;
		}
		rc = db_check(cli, db, c->database);
	} else {
		if (db_open_nomigrate(c->database, &db)) {
			rc = EXIT_FAILED;
			goto done;
		}
		rc = db_backup(db, argv[2]) ? EXIT_FAILED : EXIT_DONE;
		if (rc == EXIT_DONE && cli->json)
			output_print_json(json_pack("{s:s,s:s,s:i,s:b}",
			    "database", c->database, "backup", argv[2],
			    "schema_version", db_schema_version(db), "verified",
			    1));
	}
done:
	db_close(db);
	config_free(c);
	return rc;
}
