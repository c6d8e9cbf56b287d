/*
 * test_cli.c -- the command line as a script sees it: every command has
 * --help (exit 0), usage errors exit 2 with a message naming the command,
 * `config check` validates the shipped example, names file:line and key
 * for a typo and shows the environment a run will sign in with (never a
 * secret's value), and the store commands work without any network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "db/db.h"
#include "tests/e2e/harness.h"

static const char *const commands[] = {"run", "plan", "snapshot", "prune",
    "promote", "pin", "unpin", "list", "history", "drift", "explain", "check",
    "baseline", "apply", "sync", "config", "db", "version", NULL};

/* No emulator: nothing here may reach the network. */
static int
setup(void **state)
{
	static const char *const no_emu[] = {HARNESS_NO_EMU, NULL};

	*state = harness_new(no_emu, NULL);
	return *state != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	harness_free(*state);
	return 0;
}

static void
test_cli_every_command_has_help(void **state)
{
	struct harness *f = *state;

	for (size_t i = 0; commands[i] != NULL; i++) {
		struct run_result r;

		harness_aksnap(f, &r, commands[i], "--help", NULL);
		if (r.exit_code != 0 ||
		    strstr(r.out, "usage: aksnap") == NULL ||
		    strstr(r.out, commands[i]) == NULL)
			fail_msg("%s --help: exit %d, out: %s", commands[i],
			    r.exit_code, r.out);
		run_result_free(&r);
	}
	{
		struct run_result r;

		harness_aksnap(f, &r, "--help", NULL);
		assert_int_equal(r.exit_code, 0);
		for (size_t i = 0; commands[i] != NULL; i++)
			assert_non_null(strstr(r.out, commands[i]));
		run_result_free(&r);
	}
}

static void
test_cli_usage_errors_exit_2_with_a_message(void **state)
{
	struct harness *f = *state;
	static const char *const cases[][4] = {
	    {"frob", NULL, NULL, "unknown command 'frob'"},
	    {"run", "--bogus", NULL, "run: unknown option '--bogus'"},
	    {"run", "--as-of", "yesterday", "--as-of: expected an RFC 3339"},
	    {"run", "extra", NULL, "unexpected argument 'extra'"},
	    {"snapshot", NULL, NULL, "name at least one POOL"},
	    {"plan", "--dry-run", NULL, "--dry-run: not an option of plan"},
	    {"db", "frob", NULL, "unknown subcommand 'frob'"},
	    {"db", "vacuum", "now", "unexpected argument 'now'"},
	    {"db", "backup", NULL, "backup needs one FILE"},
	    {"config", "show", NULL, "expected 'config check'"},
	    {"history", "--since", "x", "--since: expected an RFC 3339"},
	    {"promote", NULL, NULL, "name one SNAPSHOT"},
	};
	struct run_result r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[6] = {"-c", "config/aksnap.ini.example", NULL};
		size_t n = 2;

		for (size_t j = 0; j < 3 && cases[i][j] != NULL; j++)
			argv[n++] = cases[i][j];
		argv[n] = NULL;
		memset(&r, 0, sizeof(r));
		harness_aksnap_argv(f, &r, argv);
		if (r.exit_code != 2 || strstr(r.err, cases[i][3]) == NULL)
			fail_msg("%s %s: exit %d, stderr: %s", cases[i][0],
			    cases[i][1] ? cases[i][1] : "", r.exit_code, r.err);
		run_result_free(&r);
	}
	harness_aksnap(f, &r, NULL);
	assert_int_equal(r.exit_code, 2);
	run_result_free(&r);
}

static void
test_cli_config_check_accepts_the_example(void **state)
{
	struct harness *f = *state;
	struct run_result r;

	harness_aksnap(
	    f, &r, "-c", "config/aksnap.ini.example", "config", "check", NULL);
	assert_int_equal(r.exit_code, 0);
	assert_non_null(strstr(r.out, "[pool:"));
	run_result_free(&r);
	harness_aksnap(f, &r, "-c", "config/aksnap.ini.example", "--json",
	    "config", "check", NULL);
	assert_int_equal(r.exit_code, 0);
	assert_non_null(strstr(r.out, "\"pools\""));
	run_result_free(&r);
}

static void
test_cli_config_check_names_file_line_and_key(void **state)
{
	struct harness *f = *state;
	char path[4096];
	struct run_result r;

	snprintf(path, sizeof(path), "%s/typo.ini", f->dir);
	harness_write_file(path,
	    "[aksnap]\n"
	    "subscription = 00000000-0000-0000-0000-000000000000\n"
	    "\n[pool:web]\nresource_group = rg\ncluster = aks\n"
	    "nodepool = web\nkeep_dayly = 7\n",
	    0644);
	harness_aksnap(f, &r, "-c", path, "config", "check", NULL);
	assert_int_equal(r.exit_code, 2);
	assert_non_null(strstr(r.err, "typo.ini:8:"));
	assert_non_null(strstr(r.err, "keep_dayly"));
	run_result_free(&r);
	/* The same through AKSNAP_CONFIG, and for a command that would run. */
	{
		char env[4200];
		const char *argv[] = {"run", NULL};
		const char *extra[] = {env, NULL};

		snprintf(env, sizeof(env), "AKSNAP_CONFIG=%s", path);
		assert_int_equal(harness_setenv(f, extra[0]), 0);
		harness_aksnap_argv(f, &r, argv);
		assert_int_equal(r.exit_code, 2);
		assert_non_null(strstr(r.err, "keep_dayly"));
		run_result_free(&r);
	}
}

static void
test_cli_config_check_shows_the_environment_it_will_use(void **state)
{
	static const char secret[] = "Sup3r-S3cret-Value-from-env-42";
	struct harness *f = *state;
	struct harness h = *f; /* the environment below for these runs */
	char cfg[4096], fed[4200];
	char env_fed[4300], env_secret[128];
	const char *text[] = {"-c", cfg, "config", "check", NULL};
	const char *json[] = {"-c", cfg, "--json", "config", "check", NULL};
	const char *extra[] = {"AZURE_TENANT_ID=tenant-from-env",
	    "AZURE_CLIENT_ID=client-from-env", env_secret,
	    "AZURE_AUTHORITY_HOST=https://login.example.test/", env_fed,
	    "AZURE_POD_IDENTITY_AUTHORITY_HOST=http://127.0.0.1:9",
	    "AZURE_CLIENT_CERTIFICATE_PATH", "CREDENTIALS_DIRECTORY",
	    "PATH=/nonexistent", NULL};
	struct run_result r;

	snprintf(cfg, sizeof(cfg), "%s/aksnap.ini", f->dir);
	snprintf(fed, sizeof(fed), "%s/federated", f->dir);
	snprintf(
	    env_fed, sizeof(env_fed), "AZURE_FEDERATED_TOKEN_FILE=%s", fed);
	snprintf(
	    env_secret, sizeof(env_secret), "AZURE_CLIENT_SECRET=%s", secret);
	harness_write_file(cfg,
	    "[aksnap]\nsubscription = 00000000-0000-0000-0000-000000000000\n"
	    "client_id = 22222222-2222-2222-2222-222222222222\n",
	    0644);
	for (size_t i = 0; extra[i] != NULL; i++)
		assert_int_equal(harness_setenv(&h, extra[i]), 0);
	harness_aksnap_argv(&h, &r, text);
	harness_expect_exit(&r, 0);
	/* Each input, with its source; the file wins over the environment. */
	harness_expect_in(r.out, "auth = auto");
	harness_expect_in(r.out,
	    "tenant                   tenant-from-env "
	    "(from env AZURE_TENANT_ID)\n");
	harness_expect_in(r.out,
	    "client_id                22222222-2222-2222-2222-222222222222 "
	    "(from aksnap.ini)\n");
	harness_expect_in(r.out,
	    "client_secret            set (from env "
	    "AZURE_CLIENT_SECRET)\n");
	harness_expect_in(r.out,
	    "https://login.example.test (from env "
	    "AZURE_AUTHORITY_HOST)\n");
	harness_expect_in(r.out,
	    "http://127.0.0.1:9 (from env "
	    "AZURE_POD_IDENTITY_AUTHORITY_HOST)\n");
	harness_expect_in(r.out, "(from env AZURE_FEDERATED_TOKEN_FILE)\n");
	harness_expect_in(r.out, "client_certificate_file  -\n");
	harness_expect_in(r.out, "az                       -\n");
	/* The secret itself is never printed. */
	assert_null(strstr(r.out, secret));
	assert_null(strstr(r.err, secret));
	assert_null(strstr(r.out, "S3cret"));
	run_result_free(&r);

	harness_aksnap_argv(&h, &r, json);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "\"inputs\"");
	harness_expect_in(r.out, "\"source\": \"env AZURE_CLIENT_SECRET\"");
	harness_expect_in(r.out, "\"value\": \"tenant-from-env\"");
	assert_null(strstr(r.out, secret));
	assert_null(strstr(r.err, secret));
	run_result_free(&r);
}

static void
test_cli_db_migrate_status_backup(void **state)
{
	struct harness *f = *state;
	char cfg[4096], ini[8192], bak[4200];
	char want[64];
	struct run_result r;
	struct stat st;

	snprintf(cfg, sizeof(cfg), "%s/aksnap.ini", f->dir);
	snprintf(ini, sizeof(ini),
	    "[aksnap]\ndatabase = %s/aksnap.db\n"
	    "subscription = 00000000-0000-0000-0000-000000000000\n"
	    "auth = managed-identity\n",
	    f->dir);
	harness_write_file(cfg, ini, 0644);
	/* status before the store exists: a clear failure, no file made */
	harness_aksnap(f, &r, "-c", cfg, "db", "status", NULL);
	assert_int_not_equal(r.exit_code, 0);
	run_result_free(&r);
	harness_aksnap(f, &r, "-c", cfg, "db", "migrate", NULL);
	assert_int_equal(r.exit_code, 0);
	assert_string_equal(r.out, "");
	run_result_free(&r);
	harness_aksnap(f, &r, "-c", cfg, "--json", "db", "status", NULL);
	assert_int_equal(r.exit_code, 0);
	snprintf(
	    want, sizeof(want), "\"schema_version\": %d", db_latest_version());
	assert_non_null(strstr(r.out, want));
	run_result_free(&r);
	snprintf(bak, sizeof(bak), "%s/backup.db", f->dir);
	harness_aksnap(f, &r, "-c", cfg, "db", "backup", bak, NULL);
	assert_int_equal(r.exit_code, 0);
	run_result_free(&r);
	assert_int_equal(stat(bak, &st), 0);
	/* A second backup onto the same file is refused. */
	harness_aksnap(f, &r, "-c", cfg, "db", "backup", bak, NULL);
	assert_int_not_equal(r.exit_code, 0);
	run_result_free(&r);
	/* vacuum: the size before and after (a new store has nothing free) */
	harness_aksnap(f, &r, "-c", cfg, "db", "vacuum", NULL);
	assert_int_equal(r.exit_code, 0);
	assert_non_null(strstr(r.out, "aksnap.db: "));
	assert_non_null(strstr(r.out, " MiB before vacuum, "));
	run_result_free(&r);
	harness_aksnap(f, &r, "-c", cfg, "--json", "db", "vacuum", NULL);
	assert_int_equal(r.exit_code, 0);
	assert_non_null(strstr(r.out, "\"bytes_before\": "));
	assert_non_null(strstr(r.out, "\"bytes_after\": "));
	run_result_free(&r);
}

static void
test_cli_version(void **state)
{
	struct harness *f = *state;
	struct run_result r;

	harness_aksnap(f, &r, "version", NULL);
	assert_int_equal(r.exit_code, 0);
	assert_non_null(strstr(r.out, "aksnap "));
	run_result_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_cli_every_command_has_help, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_cli_usage_errors_exit_2_with_a_message, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_cli_config_check_accepts_the_example, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_cli_config_check_names_file_line_and_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_cli_config_check_shows_the_environment_it_will_use, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_cli_db_migrate_status_backup, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cli_version, setup, teardown),
	};

	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
