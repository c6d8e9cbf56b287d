/*
 * test_trust.c -- what aksnap refuses to trust, end to end (issue 11):
 * a TLS certificate that does not verify and an identity Entra ID
 * refuses are configuration errors (exit 2, the host and ca_file or the
 * AADSTS code named), while ARM refusing one cluster stays that pool's
 * failure (exit 1); a damaged store is never written to (nothing reaches
 * Azure, the file keeps every byte), `db check` names the damage, `db
 * backup` refuses to copy it; a store in a directory aksnap cannot write
 * still answers the read-only commands, and `run` there exits 2 naming
 * the directory.
 *
 * Each test starts its own emulator (with the demo fleet, or in TLS mode
 * with a fresh test CA) and counts the requests that reached it.
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sqlite3.h>

#include "job/base/util.h"
#include "tests/e2e/certs.h"
#include "tests/e2e/harness.h"

#define FLEET "tests/armemu/fleet-demo.json"
#define AS_OF "2026-11-10T03:00:00Z"
#define SUB HARNESS_SUBSCRIPTION

static const char *const POOLS_INI =
    "\n[policy:default]\nschedule = 0 2 * * *\npromote_after = never\n"
    "\n[pool:staging-system]\nresource_group = rg-staging\n"
    "cluster = aks-staging\nnodepool = system\n"
    "\n[pool:prod-system]\nresource_group = rg-prod\n"
    "cluster = aks-prod\nnodepool = system\n";

/* Start the emulator with ${args} (fleet added) and write the config. */
static struct harness *
fx_start(const char *const *args, const char *ini)
{
	const char *argv[16];
	struct harness *f;
	json_t *clock;
	size_t n = 0;

	argv[n++] = "--fleet";
	argv[n++] = FLEET;
	argv[n++] = "--retry-after";
	argv[n++] = "0";
	for (size_t i = 0; args != NULL && args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	f = harness_new(argv, ini);
	assert_non_null(f);
	/* Frozen at the run's as-of: createdAt is never after it. */
	clock = emu_post(f->emu, "/_armemu/clock",
	    "{\"now\": \"" AS_OF "\", \"frozen\": true}");
	assert_non_null(clock);
	json_decref(clock);
	return f;
}

/* Requests of any kind the emulator counted (its TLS handshakes excluded). */
static long
requests(struct harness *f)
{
	json_t *c = emu_get(f->emu, "/_armemu/counters");
	const char *k;
	json_t *v;
	long n = 0;

	assert_non_null(c);
	json_object_foreach(c, k, v)
	{
		/* "METHOD op" totals only, not the "METHOD op STATUS" splits.
		 */
		if (strchr(k, ' ') == strrchr(k, ' '))
			n += (long)json_integer_value(v);
	}
	json_decref(c);
	return n;
}

/*
 * The emulator serving HTTPS with a certificate from a fresh test CA
 * (written to ${dir}; its path in ${ca}, 4096 bytes): trusted only with
 * ca_file = ${ca}.
 */
static struct harness *
fx_start_tls(const char *dir, char *ca, const char *ini)
{
	char cert[4096], key[4096];
	const char *args[5];
	struct harness *f;

	assert_int_equal(certs_tls_server(dir, ca, cert, key, 4096), 0);
	args[0] = "--tls-cert";
	args[1] = cert;
	args[2] = "--tls-key";
	args[3] = key;
	args[4] = NULL;
	f = fx_start(args, ini);
	assert_non_null(strstr(emu_url(f->emu), "https://127.0.0.1:"));
	return f;
}

/* An "az" in ${dir} that hands out a token without TLS (the emulator
 * does not know it: only what comes before ARM's answer is tested). */
static void
fake_az(const char *dir)
{
	char az[4200];

	snprintf(az, sizeof(az), "%s/az", dir);
	assert_int_equal(harness_write_file(az,
	                     "#!/bin/sh\necho '{\"accessToken\": \"t\", "
	                     "\"expires_on\": 4102444800, \"tokenType\": "
	                     "\"Bearer\"}'\n",
	                     0700),
	    0);
}

static void
test_untrusted_tls_certificate_is_a_configuration_error(void **state)
{
	char ca[4096], *dir = harness_tmpdir();
	char extra[4200];
	struct run_result r;
	struct harness *f;

	(void)state;
	f = fx_start_tls(dir, ca, POOLS_INI);

	harness_aksnap(f, &r, "run", "--as-of", AS_OF, NULL);
	/* Not 75: a retry tomorrow would fail the same way. */
	harness_expect_exit(&r, 2);
	harness_expect_in(r.err, "TLS certificate of 127.0.0.1 did not verify");
	harness_expect_in(r.err, "ca_file");
	run_result_free(&r);
	assert_int_equal(requests(f), 0);

	harness_aksnap(f, &r, "sync", NULL);
	harness_expect_exit(&r, 2);
	harness_expect_in(r.err, "ca_file");
	run_result_free(&r);

	/* The same store and emulator, with the CA given: it works. */
	free(f->config);
	snprintf(extra, sizeof(extra), "ca_file = %s\n%s", ca, POOLS_INI);
	f->config = harness_config(f->dir, f->emu, extra);
	harness_aksnap(f, &r, "run", "--as-of", AS_OF, NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
	assert_int_equal(emu_counter(f->emu, "PUT snapshots.put"), 2);
	harness_free(f);
	harness_rmrf(dir);
	free(dir);
}

static void
test_untrusted_arm_certificate_is_a_configuration_error(void **state)
{
	char ca[4096], *dir = harness_tmpdir();
	char ini[8192], env_path[8192];
	struct run_result r;
	struct harness *f;

	(void)state;
	f = fx_start_tls(dir, ca, POOLS_INI);
	/* The token comes from "az" (no TLS): only ARM's certificate fails. */
	fake_az(dir);
	snprintf(ini, sizeof(ini),
	    "[aksnap]\ndatabase = %s/aksnap.db\nsubscription = " SUB
	    "\nauth = azure-cli\narm_endpoint = %s\n%s",
	    f->dir, emu_url(f->emu), POOLS_INI);
	assert_int_equal(harness_write_file(f->config, ini, 0600), 0);
	snprintf(env_path, sizeof(env_path), "PATH=%s:%s", dir, getenv("PATH"));
	assert_int_equal(harness_setenv(f, env_path), 0);
	assert_int_equal(
	    harness_aksnap(f, &r, "run", "--as-of", AS_OF, NULL), 0);
	/* Not 75 ("ARM did not answer"): the same tomorrow. */
	harness_expect_exit(&r, 2);
	harness_expect_in(r.err, "TLS certificate of 127.0.0.1 did not verify");
	harness_expect_in(r.err, "ca_file");
	run_result_free(&r);
	assert_int_equal(harness_aksnap(f, &r, "sync", NULL), 0);
	harness_expect_exit(&r, 2);
	harness_expect_in(r.err, "ca_file");
	run_result_free(&r);
	assert_int_equal(requests(f), 0);
	harness_free(f);
	harness_rmrf(dir);
	free(dir);
}

static void
test_refused_client_secret_is_a_configuration_error(void **state)
{
	struct harness *f = fx_start(NULL, POOLS_INI);
	char path[4096];
	struct run_result r;

	(void)state;
	snprintf(path, sizeof(path), "%s/secret", f->dir);
	assert_int_equal(harness_write_file(path, "not-the-secret", 0600), 0);
	harness_aksnap(f, &r, "run", "--as-of", AS_OF, NULL);
	harness_expect_exit(&r, 2);
	harness_expect_in(r.err, "AADSTS7000215");
	harness_expect_in(r.err, "invalid_client");
	/* The secret itself is never repeated. */
	assert_null(strstr(r.err, "not-the-secret"));
	run_result_free(&r);
	assert_int_equal(emu_counter(f->emu, "POST token.v2 401"), 1);
	assert_int_equal(emu_counter(f->emu, "GET managedClusters.get"), 0);
	assert_int_equal(emu_counter(f->emu, "PUT snapshots.put"), 0);

	harness_aksnap(f, &r, "sync", NULL);
	harness_expect_exit(&r, 2);
	harness_expect_in(r.err, "AADSTS7000215");
	run_result_free(&r);
	harness_free(f);
}

static void
test_unknown_client_id_is_a_configuration_error(void **state)
{
	static const char *const args[] = {
	    "--client-id", "00000000-0000-0000-0000-0000000000cc", NULL};
	struct harness *f = fx_start(args, POOLS_INI);
	struct run_result r;

	(void)state;
	harness_aksnap(f, &r, "run", "--as-of", AS_OF, NULL);
	harness_expect_exit(&r, 2);
	harness_expect_in(r.err, "AADSTS700016");
	harness_expect_in(r.err, "unauthorized_client");
	run_result_free(&r);
	assert_int_equal(emu_counter(f->emu, "PUT snapshots.put"), 0);
	harness_free(f);
}

static void
test_unregistered_certificate_is_a_configuration_error(void **state)
{
	EVP_PKEY *registered = EVP_RSA_gen(2048), *ours = EVP_RSA_gen(2048);
	X509 *rc = certs_make(registered, "registered", NULL, NULL, 0);
	X509 *oc = certs_make(ours, "expired-or-replaced", NULL, NULL, 0);
	char *dir = harness_tmpdir(), reg[4096], pem[4096], ini[8192];
	const char *args[3];
	struct run_result r;
	struct harness *f;

	(void)state;
	snprintf(reg, sizeof(reg), "%s/registered.pem", dir);
	snprintf(pem, sizeof(pem), "%s/client.pem", dir);
	assert_int_equal(certs_write_pem(reg, rc, NULL), 0);
	assert_int_equal(certs_write_pem(pem, oc, ours), 0);
	assert_int_equal(chmod(pem, 0600), 0);
	args[0] = "--client-cert";
	args[1] = reg;
	args[2] = NULL;
	f = fx_start(args, NULL);
	/* harness_config wrote auth = client-secret: say certificate. */
	snprintf(ini, sizeof(ini),
	    "[aksnap]\ndatabase = %s/aksnap.db\nsubscription "
	    "= " HARNESS_SUBSCRIPTION
	    "\nauth = client-certificate\ntenant = " HARNESS_TENANT
	    "\nclient_id = " HARNESS_CLIENT_ID
	    "\nclient_certificate_file = %s\narm_endpoint = %s\n"
	    "authority_host = %s\n%s",
	    f->dir, pem, emu_url(f->emu), emu_url(f->emu), POOLS_INI);
	assert_int_equal(harness_write_file(f->config, ini, 0600), 0);
	harness_aksnap(f, &r, "run", "--as-of", AS_OF, NULL);
	harness_expect_exit(&r, 2);
	harness_expect_in(r.err, "AADSTS700027");
	run_result_free(&r);
	assert_int_equal(emu_counter(f->emu, "PUT snapshots.put"), 0);
	harness_free(f);
	X509_free(rc);
	X509_free(oc);
	EVP_PKEY_free(registered);
	EVP_PKEY_free(ours);
	harness_rmrf(dir);
	free(dir);
}

/* ---- the commands that read first and ask Azure on request ---- */

#define STAGING_SNAP "aksnap-aks-staging-system-20261110T0200Z"

/* No release notes fetched: these tests are about trust, not notes. */
static const char *const READERS_INI =
    "\n[policy:default]\nschedule = 0 2 * * *\npromote_after = never\n"
    "release_notes = off\n"
    "\n[pool:staging-system]\nresource_group = rg-staging\n"
    "cluster = aks-staging\nnodepool = system\n"
    "\n[pool:prod-system]\nresource_group = rg-prod\n"
    "cluster = aks-prod\nnodepool = system\n";

/* Run ${argv} (after "-c CONFIG") with ${env} added (may be NULL). */
static void
aksnap_env(struct harness *f, struct run_result *r, const char *const *env,
    const char *const *args)
{
	struct harness h = *f; /* ${env} for this run only */

	for (size_t i = 0; env != NULL && env[i] != NULL; i++)
		assert_int_equal(harness_setenv(&h, env[i]), 0);
	assert_int_equal(harness_aksnap_argv(&h, r, args), 0);
}

/*
 * drift --refresh, changes --live and discover, each refused the same way
 * as run and sync: exit 2 (not 1, not 75: tomorrow fails the same way),
 * ${needle} on stderr.  The store is read first, and still answers
 * without Azure.
 */
static void
expect_readers_refused(
    struct harness *f, const char *const *env, const char *needle)
{
	static const char *const drift[] = {"drift", "--refresh", NULL};
	static const char *const changes[] = {
	    "changes", "--pool", "staging-system", "--live", NULL};
	static const char *const discover[] = {"discover", NULL};
	static const char *const offline[] = {"drift", NULL};
	struct run_result r;

	aksnap_env(f, &r, env, drift);
	harness_expect_exit(&r, 2);
	harness_expect_in(r.err, needle);
	run_result_free(&r);
	aksnap_env(f, &r, env, changes);
	harness_expect_exit(&r, 2);
	harness_expect_in(r.err, needle);
	run_result_free(&r);
	aksnap_env(f, &r, env, discover);
	harness_expect_exit(&r, 2);
	harness_expect_in(r.err, needle);
	run_result_free(&r);
	aksnap_env(f, &r, env, offline);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "staging-system");
	run_result_free(&r);
}

/* A store with staging-system's snapshot promoted, made with ${extra}. */
static void
store_with_baseline(
    struct harness *f, const char *const *env, const char *extra_ini)
{
	static const char *const run[] = {"run", "--as-of", AS_OF, NULL};
	static const char *const promote[] = {"promote", STAGING_SNAP, NULL};
	struct run_result r;

	if (extra_ini != NULL) {
		free(f->config);
		f->config = harness_config(f->dir, f->emu, extra_ini);
		assert_non_null(f->config);
	}
	aksnap_env(f, &r, env, run);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
	aksnap_env(f, &r, env, promote);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
}

static void
test_untrusted_certificate_stops_drift_changes_and_discover(void **state)
{
	char ca[4096], *dir = harness_tmpdir();
	char extra[4200];
	struct harness *f;

	(void)state;
	f = fx_start_tls(dir, ca, READERS_INI);
	snprintf(extra, sizeof(extra), "ca_file = %s\n%s", ca, READERS_INI);
	store_with_baseline(f, NULL, extra);

	/* Without ca_file: Entra ID's certificate (and ARM's) fail. */
	free(f->config);
	f->config = harness_config(f->dir, f->emu, READERS_INI);
	emu_reset_counters(f->emu);
	expect_readers_refused(f, NULL, "ca_file");
	assert_int_equal(requests(f), 0);
	harness_free(f);
	harness_rmrf(dir);
	free(dir);
}

static void
test_untrusted_arm_certificate_stops_drift_changes_and_discover(void **state)
{
	char ca[4096], *dir = harness_tmpdir();
	char ini[8192], env_path[8192];
	const char *env[2];
	struct harness *f;

	(void)state;
	f = fx_start_tls(dir, ca, READERS_INI);
	/* The token comes from "az" (no TLS): only ARM's certificate fails. */
	fake_az(dir);
	snprintf(env_path, sizeof(env_path), "PATH=%s:%s", dir, getenv("PATH"));
	env[0] = env_path;
	env[1] = NULL;
	/* The store made with the emulator's own identity, and the CA. */
	snprintf(ini, sizeof(ini), "ca_file = %s\n%s", ca, READERS_INI);
	store_with_baseline(f, NULL, ini);

	snprintf(ini, sizeof(ini),
	    "[aksnap]\ndatabase = %s/aksnap.db\nsubscription = " SUB
	    "\nauth = azure-cli\narm_endpoint = %s\n%s",
	    f->dir, emu_url(f->emu), READERS_INI);
	assert_int_equal(harness_write_file(f->config, ini, 0600), 0);
	emu_reset_counters(f->emu);
	expect_readers_refused(f, env, "ca_file");
	assert_int_equal(requests(f), 0);
	harness_free(f);
	harness_rmrf(dir);
	free(dir);
}

static void
test_refused_identity_stops_drift_changes_and_discover(void **state)
{
	struct harness *f = fx_start(NULL, READERS_INI);
	char path[4096];

	(void)state;
	store_with_baseline(f, NULL, NULL);
	snprintf(path, sizeof(path), "%s/secret", f->dir);
	assert_int_equal(harness_write_file(path, "not-the-secret", 0600), 0);
	emu_reset_counters(f->emu);
	expect_readers_refused(f, NULL, "AADSTS7000215");
	/* One refused token request each, and nothing sent to ARM. */
	assert_int_equal(emu_counter(f->emu, "POST token.v2 401"), 3);
	assert_int_equal(requests(f), 3);
	harness_free(f);
}

static void
test_arm_refusing_one_cluster_fails_only_its_pool(void **state)
{
	struct harness *f = fx_start(NULL, POOLS_INI);
	struct run_result r;

	(void)state;
	assert_true(emu_fault(f->emu,
	                "{\"method\": \"GET\", \"path\": "
	                "\"*/managedClusters/aks-prod\", \"action\": "
	                "\"status\", \"status\": 403, \"error_code\": "
	                "\"AuthorizationFailed\", \"count\": 10}") >= 0);
	harness_aksnap(f, &r, "run", "--as-of", AS_OF, NULL);
	harness_expect_exit(&r, 1);
	harness_expect_in(r.err, "AuthorizationFailed");
	run_result_free(&r);
	/* The other cluster's pool was done. */
	assert_int_equal(emu_counter(f->emu, "PUT snapshots.put 201"), 1);
	harness_free(f);
}

/* ---- the store ---- */

/* An emulator, a config and a store after one successful run. */
static struct harness *
fx_with_store(void)
{
	struct harness *f = fx_start(NULL, POOLS_INI);
	struct run_result r;

	harness_aksnap(f, &r, "run", "--as-of", AS_OF, NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
	emu_reset_counters(f->emu);
	return f;
}

static char *
store_path(struct harness *f)
{
	char *p = NULL;

	assert_true(asprintf(&p, "%s/aksnap.db", f->dir) > 0);
	return p;
}

/* Overwrite the root page of index ${name} with junk (4096-byte pages). */
static void
smash_index(const char *db, const char *name)
{
	sqlite3 *c = NULL;
	sqlite3_stmt *s = NULL;
	char junk[4096];
	int page = -1, fd;

	assert_int_equal(sqlite3_open(db, &c), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(c,
	                     "SELECT rootpage FROM sqlite_master WHERE "
	                     "name = ?1",
	                     -1, &s, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		page = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(c);
	assert_true(page > 1);
	memset(junk, 0xa5, sizeof(junk));
	fd = open(db, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, junk, sizeof(junk),
	                     (off_t)(page - 1) * (off_t)sizeof(junk)),
	    (ssize_t)sizeof(junk));
	close(fd);
}

static char *
slurp(const char *path, size_t *len)
{
	char err[256], *data = NULL;

	assert_int_equal(
	    util_read_file(path, 1 << 24, &data, len, err, sizeof(err)), 0);
	return data;
}

static void
test_damaged_store_is_never_written_and_nothing_reaches_azure(void **state)
{
	struct harness *f = fx_with_store();
	char *db = store_path(f), *before, *after, backup[4200];
	size_t nb, na;
	struct run_result r;
	json_t *doc;

	(void)state;
	smash_index(db, "decisions_by_snapshot");
	before = slurp(db, &nb);

	/* Tomorrow's run would observe, decide and write: it refuses. */
	harness_aksnap(f, &r, "run", "--as-of", "2026-11-11T03:00:00Z", NULL);
	harness_expect_exit(&r, 2);
	harness_expect_in(r.err, "fails its integrity check");
	harness_expect_in(r.err, "refusing to write to it, nothing done");
	run_result_free(&r);
	assert_int_equal(requests(f), 0);
	harness_aksnap(f, &r, "sync", NULL);
	harness_expect_exit(&r, 2);
	run_result_free(&r);
	harness_aksnap(f, &r, "db", "migrate", NULL);
	harness_expect_exit(&r, 2);
	run_result_free(&r);
	assert_int_equal(requests(f), 0);
	after = slurp(db, &na);
	assert_int_equal(na, nb);
	assert_memory_equal(before, after, nb);

	/* db check names it (exit 1), in JSON too. */
	harness_aksnap(f, &r, "db", "check", NULL);
	harness_expect_exit(&r, 1);
	harness_expect_in(r.out, "integrity: ");
	run_result_free(&r);
	harness_aksnap(f, &r, "--json", "db", "check", NULL);
	harness_expect_exit(&r, 1);
	doc = json_loads(r.out, 0, NULL);
	assert_non_null(doc);
	assert_true(json_is_false(json_object_get(doc, "ok")));
	assert_true(json_array_size(json_object_get(doc, "problems")) > 0);
	json_decref(doc);
	run_result_free(&r);

	/* A backup of it is refused and leaves no file. */
	snprintf(backup, sizeof(backup), "%s/backup.db", f->dir);
	harness_aksnap(f, &r, "db", "backup", backup, NULL);
	assert_int_not_equal(r.exit_code, 0);
	harness_expect_in(r.err, "refusing to back it up");
	run_result_free(&r);
	assert_int_equal(access(backup, F_OK), -1);
	free(before);
	free(after);
	free(db);
	harness_free(f);
}

static void
test_sound_store_checks_ok_and_backs_up_verified(void **state)
{
	struct harness *f = fx_with_store();
	char backup[4200];
	struct run_result r;

	(void)state;
	harness_aksnap(f, &r, "db", "check", NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "ok");
	run_result_free(&r);
	snprintf(backup, sizeof(backup), "%s/backup.db", f->dir);
	harness_aksnap(f, &r, "db", "backup", backup, NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
	assert_int_equal(access(backup, F_OK), 0);
	harness_free(f);
}

static void
chattr(const char *flag, const char *dir)
{
	const char *argv[] = {"chattr", flag, dir, NULL};
	struct run_result r;

	assert_int_equal(harness_run(&r, argv, NULL), 0);
	if (r.exit_code != 0)
		fail_msg("chattr %s %s: %s(this test needs a file system with "
		         "the immutable attribute)",
		    flag, dir, r.err);
	run_result_free(&r);
}

static void
test_unwritable_store_directory_serves_reads_and_refuses_run(void **state)
{
	struct harness *f = fx_with_store();
	struct run_result r;
	char probe[4200];
	int fd;

	(void)state;
	chattr("+i", f->dir);
	/* Immutable even for root: nothing can be created in it. */
	snprintf(probe, sizeof(probe), "%s/probe", f->dir);
	fd = open(probe, O_WRONLY | O_CREAT, 0600);
	if (fd >= 0)
		close(fd);
	assert_true(fd < 0);

	harness_aksnap(f, &r, "list", NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "aksnap-aks-staging-system-20261110T0200Z");
	assert_null(strstr(r.err, "readonly database"));
	run_result_free(&r);
	harness_aksnap(f, &r, "db", "status", NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
	harness_aksnap(f, &r, "db", "check", NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
	harness_aksnap(f, &r, "history", NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);

	/* No pool failed: a configuration error, the directory named. */
	harness_aksnap(f, &r, "run", "--as-of", "2026-11-11T03:00:00Z", NULL);
	harness_expect_exit(&r, 2);
	harness_expect_in(r.err, f->dir);
	harness_expect_in(r.err, "not writable");
	run_result_free(&r);
	assert_int_equal(requests(f), 0);
	chattr("-i", f->dir);
	harness_free(f);
}

/*
 * A file that is no aksnap store needs a person: every command that opens
 * it exits 2, readers as writers (session.h's one table), and nothing
 * reaches Azure; only `db check` counts it as a finding (1).
 */
static void
test_foreign_store_exits_2_from_every_command(void **state)
{
	static const char *const cmds[][4] = {
	    {"db", "status", NULL},
	    {"db", "migrate", NULL},
	    {"db", "backup", "BACKUP", NULL},
	    {"db", "vacuum", NULL},
	    {"baseline", NULL},
	    {"report", NULL},
	    {"apply", "--channel", "stable", NULL},
	    {"run", NULL},
	};
	struct run_result r;
	struct harness *f = fx_start(NULL, POOLS_INI);
	char db[4200], backup[4200];
	const char *argv[12];

	(void)state;
	snprintf(db, sizeof(db), "%s/aksnap.db", f->dir);
	snprintf(backup, sizeof(backup), "%s/backup.db", f->dir);
	assert_int_equal(harness_write_file(db,
	                     "not an SQLite file, only text; long enough to "
	                     "look like a header and more",
	                     0600),
	    0);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		size_t n = 0;

		argv[n++] = "-c";
		argv[n++] = f->config;
		for (size_t k = 0; k < 4 && cmds[i][k] != NULL; k++)
			argv[n++] = strcmp(cmds[i][k], "BACKUP") == 0
			    ? backup
			    : cmds[i][k];
		if (strcmp(cmds[i][0], "apply") == 0) {
			argv[n++] = "--to";
			argv[n++] = "prod-system";
			argv[n++] = "--dry-run";
		}
		argv[n] = NULL;
		assert_int_equal(harness_run_aksnap(&r, argv), 0);
		if (r.exit_code != 2)
			fail_msg("%s %s: exit %d, want 2; stderr: %s",
			    cmds[i][0], cmds[i][1] ? cmds[i][1] : "",
			    r.exit_code, r.err);
		harness_expect_in(r.err, "not an aksnap database");
		run_result_free(&r);
	}
	harness_aksnap(f, &r, "db", "check", NULL);
	harness_expect_exit(&r, 1);
	harness_expect_in(r.err, "not an aksnap database");
	run_result_free(&r);
	assert_int_equal(requests(f), 0);
	assert_int_equal(access(backup, F_OK), -1);
	harness_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        test_untrusted_tls_certificate_is_a_configuration_error),
	    cmocka_unit_test(
	        test_untrusted_arm_certificate_is_a_configuration_error),
	    cmocka_unit_test(
	        test_refused_client_secret_is_a_configuration_error),
	    cmocka_unit_test(test_unknown_client_id_is_a_configuration_error),
	    cmocka_unit_test(
	        test_unregistered_certificate_is_a_configuration_error),
	    cmocka_unit_test(
	        test_untrusted_certificate_stops_drift_changes_and_discover),
	    cmocka_unit_test(
	        test_untrusted_arm_certificate_stops_drift_changes_and_discover),
	    cmocka_unit_test(
	        test_refused_identity_stops_drift_changes_and_discover),
	    cmocka_unit_test(test_arm_refusing_one_cluster_fails_only_its_pool),
	    cmocka_unit_test(
	        test_damaged_store_is_never_written_and_nothing_reaches_azure),
	    cmocka_unit_test(test_sound_store_checks_ok_and_backs_up_verified),
	    cmocka_unit_test(
	        test_unwritable_store_directory_serves_reads_and_refuses_run),
	    cmocka_unit_test(test_foreign_store_exits_2_from_every_command),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
