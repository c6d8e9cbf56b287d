/*
 * test_client.c -- the HTTP transport and the token providers end to end,
 * against the emulator (tests/armemu) on 127.0.0.1.
 *
 * In process: each test builds a struct config by hand, makes an
 * http_client and a token_provider, and drives them against an emulator
 * started by the harness.  What the emulator saw (its counters, request
 * log and stats) is the evidence: how many token requests, how many
 * attempts, how long the client waited between them, how many requests
 * were in flight at once.  A log sink captures every line at -vv so that
 * the redaction test can search the whole output for the secrets.
 */
/* cmocka needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "job/azure/http.h"
#include "job/azure/token.h"
#include "job/base/exit.h"
#include "job/base/log.h"
#include "job/base/util.h"
#include "job/run/run.h"
#include "tests/e2e/harness.h"

#define API "?api-version=2026-08-01"
#define CLUSTERS_PATH                                                          \
	"/subscriptions/" HARNESS_SUBSCRIPTION                                 \
	"/providers/Microsoft.ContainerService/managedClusters"

struct fixture {
	struct harness h;
	struct config cfg;
	struct http_client *http;
	struct token_provider *tp;
	struct buf logs;
	char url[512];
};

static void
sink_line(void *ctx, const char *line)
{
	struct buf *b = ctx;

	buf_append(b, line, strlen(line));
	buf_append(b, "\n", 1);
}

static void
unset_azure_env(void)
{
	static const char *vars[] = {"AZURE_CLIENT_ID", "AZURE_TENANT_ID",
	    "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH",
	    "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST",
	    "AZURE_POD_IDENTITY_AUTHORITY_HOST", "CREDENTIALS_DIRECTORY"};

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
}

/* The test's fixture, freed by teardown even when an assertion fails. */
static struct fixture *current;
static char *extra_dir;

/*
 * Start an emulator with a small fleet and ${args}; a config for ${kind}
 * pointing at it.
 */
static struct fixture *
fixture_new(enum auth_kind kind, const char *const *args)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *argv[16];
	size_t n = 0;
	char path[512];

	assert_non_null(f);
	current = f;
	argv[n++] = "--generate";
	argv[n++] = "2:1";
	for (size_t i = 0; args != NULL && args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	unset_azure_env();
	buf_init(&f->logs, 64 << 20);
	log_init(2);
	log_set_sink(sink_line, &f->logs);
	/* The harness's aksnap.ini is not read: the config is built here. */
	assert_int_equal(harness_init(&f->h, argv, NULL), 0);
	f->cfg.auth = kind;
	util_strlcpy(f->cfg.tenant, HARNESS_TENANT, sizeof(f->cfg.tenant));
	util_strlcpy(
	    f->cfg.client_id, HARNESS_CLIENT_ID, sizeof(f->cfg.client_id));
	util_strlcpy(f->cfg.authority_host, emu_url(f->h.emu),
	    sizeof(f->cfg.authority_host));
	util_strlcpy(f->cfg.imds_endpoint, emu_url(f->h.emu),
	    sizeof(f->cfg.imds_endpoint));
	snprintf(path, sizeof(path), "%s/secret", f->h.dir);
	assert_int_equal(
	    harness_write_file(path, HARNESS_CLIENT_SECRET "\n", 0600), 0);
	if (kind == AUTH_CLIENT_SECRET)
		util_strlcpy(f->cfg.client_secret_file, path,
		    sizeof(f->cfg.client_secret_file));
	snprintf(
	    f->url, sizeof(f->url), "%s" CLUSTERS_PATH API, emu_url(f->h.emu));
	return f;
}

/* The client and provider, once the config is complete. */
static void
fixture_connect(struct fixture *f, const struct http_options *o)
{
	struct http_options def;

	memset(&def, 0, sizeof(def));
	def.base_delay_ms = 1;
	def.max_delay_ms = 20;
	def.timeout_s = 20;
	f->http = http_client_new(o != NULL ? o : &def);
	assert_non_null(f->http);
	f->tp = run_token_provider(&f->cfg);
	assert_non_null(f->tp);
	http_client_set_token_source(f->http, token_source_cb, f->tp);
	token_provider_set_imds_retry(f->tp, 3, 1);
}

static void
fixture_free(struct fixture *f)
{
	if (f == NULL)
		return;
	current = NULL;
	log_set_sink(NULL, NULL);
	log_init(0);
	token_provider_free(f->tp);
	http_client_free(f->http);
	harness_fini(&f->h);
	buf_free(&f->logs);
	free(f);
}

static int
teardown(void **state)
{
	(void)state;
	fixture_free(current);
	if (extra_dir != NULL)
		harness_rmrf(extra_dir);
	free(extra_dir);
	extra_dir = NULL;
	unsetenv("AZURE_FEDERATED_TOKEN_FILE");
	return 0;
}

/* POST to the control API; 1 when it answered with JSON. */
static int
post_ok(struct emu *e, const char *path, const char *body)
{
	json_t *j = emu_post(e, path, body);

	json_decref(j);
	return j != NULL;
}

static const char *
logs(const struct fixture *f)
{
	return f->logs.data != NULL ? f->logs.data : "";
}

/* GET the cluster list with a bearer token; return the status. */
static long
get_clusters(struct fixture *f, struct http_response *resp)
{
	struct http_request req;

	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = f->url;
	req.auth = 1;
	req.context = "test";
	http_response_init(resp);
	if (http_do(f->http, &req, resp) != 0)
		return -1;
	return resp->status;
}

/* ------------------------------------------------------------------
 * Tokens from each source
 */

static void
test_client_gets_a_token_with_a_client_secret(void **state)
{
	struct fixture *f = fixture_new(AUTH_CLIENT_SECRET, NULL);
	struct http_response resp;
	const char *tok = NULL;

	(void)state;
	fixture_connect(f, NULL);
	assert_int_equal(token_get(f->tp, 0, &tok), 0);
	assert_non_null(tok);
	assert_int_equal(get_clusters(f, &resp), 200);
	http_response_free(&resp);
	assert_int_equal(emu_counter(f->h.emu, "POST token.v2 200"), 1);
	assert_null(strstr(logs(f), HARNESS_CLIENT_SECRET));
	assert_null(strstr(logs(f), tok));
	fixture_free(f);
}

static void
test_client_reports_aad_refusing_a_wrong_secret(void **state)
{
	struct fixture *f = fixture_new(AUTH_CLIENT_SECRET, NULL);
	const char *tok = NULL;

	(void)state;
	assert_int_equal(harness_write_file(f->cfg.client_secret_file,
	                     "not-the-secret\n", 0600),
	    0);
	fixture_connect(f, NULL);
	assert_int_equal(token_get(f->tp, 0, &tok), -1);
	assert_int_equal(token_failure_transient(f->tp), 0);
	/* A refused identity is a configuration error: exit 2. */
	assert_int_equal(token_failure_exit(f->tp), EXIT_USAGE);
	assert_non_null(strstr(logs(f), "AAD refused the request (4"));
	assert_non_null(strstr(logs(f), "AADSTS7000215"));
	assert_null(strstr(logs(f), "not-the-secret"));
	fixture_free(f);
}

/* A fresh RSA key and self-signed certificate in one PEM file. */
static void
write_client_pem(const char *path)
{
	EVP_PKEY *pkey = EVP_RSA_gen(2048);
	X509 *x = X509_new();
	FILE *fp;

	assert_non_null(pkey);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)"aksnap-e2e", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, pkey);
	assert_true(X509_sign(x, pkey, EVP_sha256()) > 0);
	fp = fopen(path, "w");
	assert_non_null(fp);
	PEM_write_X509(fp, x);
	PEM_write_PrivateKey(fp, pkey, NULL, NULL, 0, NULL, NULL);
	fclose(fp);
	chmod(path, 0600);
	X509_free(x);
	EVP_PKEY_free(pkey);
}

static void
test_client_gets_a_token_with_a_certificate_and_never_logs_it(void **state)
{
	char *dir = extra_dir = harness_tmpdir(), pem[512], err[256];
	char token_url_s[600];
	const char *args[] = {"--client-cert", pem, NULL};
	struct fixture *f;
	struct http_response resp;
	const char *tok = NULL;
	char *sample, *dot;

	(void)state;
	assert_non_null(dir);
	snprintf(pem, sizeof(pem), "%s/client.pem", dir);
	write_client_pem(pem);
	f = fixture_new(AUTH_CLIENT_CERTIFICATE, args);
	util_strlcpy(f->cfg.client_certificate_file, pem,
	    sizeof(f->cfg.client_certificate_file));
	fixture_connect(f, NULL);
	assert_string_equal(token_provider_name(f->tp), "client-certificate");
	assert_int_equal(token_get(f->tp, 0, &tok), 0);
	assert_int_equal(get_clusters(f, &resp), 200);
	http_response_free(&resp);
	assert_int_equal(emu_counter(f->h.emu, "POST token.v2 200"), 1);

	/*
	 * Every assertion from this certificate starts with the same header
	 * segment: it must appear nowhere in the -vv output.
	 */
	assert_int_equal(token_url(emu_url(f->h.emu), HARNESS_TENANT,
	                     token_url_s, sizeof(token_url_s)),
	    0);
	sample = token_build_assertion(
	    pem, HARNESS_CLIENT_ID, token_url_s, util_now(), err, sizeof(err));
	assert_non_null(sample);
	dot = strchr(sample, '.');
	assert_non_null(dot);
	*dot = '\0';
	assert_non_null(strstr(logs(f), "client_assertion=[redacted]"));
	assert_null(strstr(logs(f), sample));
	assert_null(strstr(logs(f), tok));
	free(sample);
	fixture_free(f);
}

static void
test_client_gets_a_token_with_workload_identity(void **state)
{
	char *dir = extra_dir = harness_tmpdir(), fed[512];
	const char *args[] = {"--federated-token-file", fed, NULL};
	struct fixture *f;
	struct http_response resp;
	const char *tok = NULL;

	(void)state;
	assert_non_null(dir);
	snprintf(fed, sizeof(fed), "%s/federated", dir);
	assert_int_equal(
	    harness_write_file(fed, "eyJfederated.first.sig", 0600), 0);
	f = fixture_new(AUTH_WORKLOAD_IDENTITY, args);
	setenv("AZURE_FEDERATED_TOKEN_FILE", fed, 1);
	fixture_connect(f, NULL);
	assert_int_equal(token_get(f->tp, 0, &tok), 0);
	assert_int_equal(get_clusters(f, &resp), 200);
	http_response_free(&resp);
	/* The file is read afresh: a rotated token is what gets sent. */
	assert_int_equal(
	    harness_write_file(fed, "eyJfederated.second.sig", 0600), 0);
	assert_int_equal(token_get(f->tp, 1, &tok), 0);
	assert_int_equal(emu_counter(f->h.emu, "POST token.v2 200"), 2);
	assert_null(strstr(logs(f), "eyJfederated"));
	fixture_free(f);
}

static void
test_client_gets_a_token_from_imds(void **state)
{
	struct fixture *f = fixture_new(AUTH_MANAGED_IDENTITY, NULL);
	struct http_response resp;
	const char *tok = NULL;

	(void)state;
	fixture_connect(f, NULL);
	assert_int_equal(token_get(f->tp, 0, &tok), 0);
	assert_int_equal(get_clusters(f, &resp), 200);
	http_response_free(&resp);
	assert_int_equal(emu_counter(f->h.emu, "GET token.imds 200"), 1);
	assert_null(strstr(logs(f), tok));
	fixture_free(f);
}

static void
test_client_retries_imds_by_its_own_rules(void **state)
{
	struct fixture *f = fixture_new(AUTH_MANAGED_IDENTITY, NULL);
	const char *tok = NULL;

	(void)state;
	/* 503 is retried by IMDS's rules; a 400 is final. */
	assert_true(emu_fault(f->h.emu,
	                "{\"path\":\"/metadata/*\",\"action\":"
	                "\"status\",\"status\":503,\"count\":2}") > 0);
	fixture_connect(f, NULL);
	assert_int_equal(token_get(f->tp, 0, &tok), 0);
	assert_int_equal(emu_counter(f->h.emu, "GET token.imds"), 3);
	assert_true(emu_fault(f->h.emu,
	                "{\"path\":\"/metadata/*\",\"action\":"
	                "\"status\",\"status\":400,"
	                "\"error_code\":\"invalid_request\","
	                "\"message\":\"Identity not found\"}") > 0);
	assert_int_equal(token_get(f->tp, 1, &tok), -1);
	assert_int_equal(emu_counter(f->h.emu, "GET token.imds"), 4);
	assert_non_null(strstr(logs(f), "invalid_request: Identity not found"));
	fixture_free(f);
}

/* ------------------------------------------------------------------
 * Transport behaviour
 */

/* The emulator's request log entries for the cluster list. */
static json_t *
cluster_requests(struct fixture *f)
{
	json_t *all = emu_get(f->h.emu, "/_armemu/requests"),
	       *out = json_array();
	size_t i;
	json_t *e;

	assert_non_null(all);
	json_array_foreach(all, i, e)
	{
		const char *route =
		    json_string_value(json_object_get(e, "route"));

		if (route != NULL && strcmp(route, "managedClusters.list") == 0)
			json_array_append(out, e);
	}
	json_decref(all);
	return out;
}

static void
test_client_honours_the_retry_after_the_emulator_asked_for(void **state)
{
	struct fixture *f = fixture_new(AUTH_CLIENT_SECRET, NULL);
	struct http_response resp;
	json_t *log;
	json_int_t t0, t1;

	(void)state;
	fixture_connect(f, NULL);
	assert_true(emu_fault(f->h.emu,
	                "{\"method\":\"GET\",\"path\":"
	                "\"/subscriptions/*\",\"action\":"
	                "\"status\",\"status\":429,"
	                "\"retry_after\":1,\"count\":1}") > 0);
	assert_int_equal(get_clusters(f, &resp), 200);
	assert_int_equal(resp.attempts, 2);
	http_response_free(&resp);
	log = cluster_requests(f);
	assert_int_equal(json_array_size(log), 2);
	assert_int_equal(json_integer_value(
	                     json_object_get(json_array_get(log, 0), "status")),
	    429);
	assert_int_equal(json_integer_value(
	                     json_object_get(json_array_get(log, 1), "status")),
	    200);
	t0 = json_integer_value(
	    json_object_get(json_array_get(log, 0), "time_ms"));
	t1 = json_integer_value(
	    json_object_get(json_array_get(log, 1), "time_ms"));
	/* The second attempt came no sooner than the asked 1 s. */
	assert_true(t1 - t0 >= 1000);
	/* Each attempt carried its own client request id. */
	assert_string_not_equal(
	    json_string_value(
	        json_object_get(json_array_get(log, 0), "client_request_id")),
	    json_string_value(
	        json_object_get(json_array_get(log, 1), "client_request_id")));
	json_decref(log);
	fixture_free(f);
}

static void
test_client_gives_up_on_a_500_storm_after_the_bound(void **state)
{
	struct fixture *f = fixture_new(AUTH_CLIENT_SECRET, NULL);
	struct http_options o;
	struct http_response resp;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.base_delay_ms = 1;
	o.max_delay_ms = 5;
	o.max_attempts = 4;
	fixture_connect(f, &o);
	assert_true(emu_fault(f->h.emu,
	                "{\"method\":\"GET\",\"path\":"
	                "\"/subscriptions/*\",\"action\":"
	                "\"status\",\"status\":500,\"count\":0}") > 0);
	assert_int_equal(get_clusters(f, &resp), 500);
	assert_int_equal(resp.attempts, 4);
	assert_true(resp.request_id[0] != '\0');
	http_response_free(&resp);
	assert_int_equal(
	    emu_counter(f->h.emu, "GET managedClusters.list 500"), 4);
	assert_non_null(strstr(logs(f), "giving up on GET"));
	assert_non_null(strstr(logs(f), "after 4 attempts"));
	assert_non_null(strstr(logs(f), "x-ms-request-id"));
	fixture_free(f);
}

static void
test_client_refreshes_an_expired_token_once(void **state)
{
	struct fixture *f = fixture_new(AUTH_CLIENT_SECRET, NULL);
	struct http_response resp;

	(void)state;
	fixture_connect(f, NULL);
	assert_int_equal(get_clusters(f, &resp), 200);
	http_response_free(&resp);
	assert_true(post_ok(f->h.emu, "/_armemu/tokens/expire", NULL));
	assert_int_equal(get_clusters(f, &resp), 200);
	http_response_free(&resp);
	assert_int_equal(emu_counter(f->h.emu, "POST token.v2 200"), 2);
	assert_int_equal(
	    emu_counter(f->h.emu, "GET managedClusters.list 401"), 1);
	assert_int_equal(
	    emu_counter(f->h.emu, "GET managedClusters.list 200"), 2);
	fixture_free(f);
}

static void
test_client_retries_a_dropped_connection(void **state)
{
	struct fixture *f = fixture_new(AUTH_CLIENT_SECRET, NULL);
	struct http_response resp;
	json_t *log;
	size_t dropped = 0, i;
	json_t *e;

	(void)state;
	fixture_connect(f, NULL);
	/*
	 * Two drops: libcurl itself re-sends once when a reused keep-alive
	 * connection dies before any answer, so the second drop is the one
	 * our retry has to handle.
	 */
	assert_true(emu_fault(f->h.emu,
	                "{\"method\":\"GET\",\"path\":"
	                "\"/subscriptions/*\",\"action\":"
	                "\"drop\",\"count\":2}") > 0);
	assert_int_equal(get_clusters(f, &resp), 200);
	assert_true(resp.attempts >= 2);
	http_response_free(&resp);
	log = cluster_requests(f);
	json_array_foreach(log, i, e)
	{
		if (json_integer_value(json_object_get(e, "status")) == 0)
			dropped++;
	}
	assert_int_equal(dropped, 2);
	assert_int_equal(
	    json_integer_value(json_object_get(
	        json_array_get(log, json_array_size(log) - 1), "status")),
	    200);
	json_decref(log);
	fixture_free(f);
}

static void
test_client_returns_a_garbage_body_as_is(void **state)
{
	struct fixture *f = fixture_new(AUTH_CLIENT_SECRET, NULL);
	struct http_response resp;

	(void)state;
	fixture_connect(f, NULL);
	assert_true(emu_fault(f->h.emu,
	                "{\"method\":\"GET\",\"path\":"
	                "\"/subscriptions/*\",\"action\":"
	                "\"garbage\",\"count\":1}") > 0);
	assert_int_equal(get_clusters(f, &resp), 200);
	assert_non_null(strstr(resp.body.data, "<html>"));
	http_response_free(&resp);
	fixture_free(f);
}

static void
test_client_refuses_a_body_over_the_cap(void **state)
{
	const char *args[] = {"--generate", "20:3", NULL};
	struct fixture *f = fixture_new(AUTH_CLIENT_SECRET, args);
	struct http_options o;
	struct http_response resp;
	const char *tok = NULL;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.base_delay_ms = 1;
	o.max_body = 1024;
	fixture_connect(f, &o);
	assert_int_equal(token_get(f->tp, 0, &tok), 0);
	assert_int_equal(get_clusters(f, &resp), -1);
	assert_non_null(strstr(resp.error, "larger than 1024 bytes"));
	assert_int_equal(resp.attempts, 1);
	http_response_free(&resp);
	fixture_free(f);
}

struct batch_count {
	size_t ok;
	size_t failed;
};

static void
batch_done(void *ctx, size_t i, int rc)
{
	struct batch_count *b = ctx;

	(void)i;
	if (rc == 0)
		b->ok++;
	else
		b->failed++;
}

static void
test_client_batch_overlaps_requests_within_the_bound(void **state)
{
	enum { N = 200, INFLIGHT = 8 };
	struct fixture *f = fixture_new(AUTH_CLIENT_SECRET, NULL);
	struct http_request *reqs = calloc(N, sizeof(*reqs));
	struct http_response *resps = calloc(N, sizeof(*resps));
	struct batch_count bc = {0, 0};
	const char *tok = NULL;
	json_t *stats;

	(void)state;
	assert_non_null(reqs);
	assert_non_null(resps);
	fixture_connect(f, NULL);
	assert_int_equal(token_get(f->tp, 0, &tok), 0);
	/* Quiet for 200 requests: -vv would trace every one. */
	log_init(1);
	assert_true(emu_fault(f->h.emu,
	                "{\"path\":\"/subscriptions/*\","
	                "\"action\":\"latency\","
	                "\"latency_ms\":20,\"count\":0}") > 0);
	emu_reset_counters(f->h.emu);
	for (size_t i = 0; i < N; i++) {
		reqs[i].method = "GET";
		reqs[i].url = f->url;
		reqs[i].auth = 1;
		reqs[i].throttle_key = HARNESS_SUBSCRIPTION;
	}
	assert_int_equal(
	    http_batch(f->http, reqs, resps, N, INFLIGHT, batch_done, &bc), 0);
	assert_int_equal(bc.ok, N);
	assert_int_equal(bc.failed, 0);
	for (size_t i = 0; i < N; i++) {
		assert_int_equal(resps[i].status, 200);
		http_response_free(&resps[i]);
	}
	assert_int_equal(
	    emu_counter(f->h.emu, "GET managedClusters.list 200"), N);
	stats = emu_get(f->h.emu, "/_armemu/stats");
	assert_non_null(stats);
	assert_true(json_integer_value(
	                json_object_get(stats, "max_in_flight")) <= INFLIGHT);
	/* And it did overlap: more than one at a time. */
	assert_true(
	    json_integer_value(json_object_get(stats, "max_in_flight")) > 1);
	json_decref(stats);
	free(reqs);
	free(resps);
	fixture_free(f);
}

static void
test_client_batch_retries_a_throttled_request(void **state)
{
	enum { N = 6 };
	struct fixture *f = fixture_new(AUTH_CLIENT_SECRET, NULL);
	struct http_request reqs[N];
	struct http_response resps[N];
	struct batch_count bc = {0, 0};

	(void)state;
	fixture_connect(f, NULL);
	assert_true(emu_fault(f->h.emu,
	                "{\"method\":\"GET\",\"path\":"
	                "\"/subscriptions/*\",\"action\":"
	                "\"status\",\"status\":429,"
	                "\"retry_after\":0,\"count\":2}") > 0);
	memset(reqs, 0, sizeof(reqs));
	for (size_t i = 0; i < N; i++) {
		reqs[i].method = "GET";
		reqs[i].url = f->url;
		reqs[i].auth = 1;
		reqs[i].throttle_key = HARNESS_SUBSCRIPTION;
	}
	assert_int_equal(
	    http_batch(f->http, reqs, resps, N, 3, batch_done, &bc), 0);
	assert_int_equal(bc.ok, N);
	for (size_t i = 0; i < N; i++) {
		assert_int_equal(resps[i].status, 200);
		http_response_free(&resps[i]);
	}
	assert_int_equal(
	    emu_counter(f->h.emu, "GET managedClusters.list 429"), 2);
	assert_non_null(strstr(logs(f), "throttled, slowing down"));
	fixture_free(f);
}

static void
test_client_batch_slows_down_when_quota_runs_low(void **state)
{
	enum { N = 12 };
	struct fixture *f = fixture_new(AUTH_CLIENT_SECRET, NULL);
	struct http_request reqs[N];
	struct http_response resps[N];
	struct batch_count bc = {0, 0};

	(void)state;
	fixture_connect(f, NULL);
	assert_true(post_ok(f->h.emu, "/_armemu/ratelimit",
	    "{\"subscription\":\"" HARNESS_SUBSCRIPTION "\","
	    "\"remaining\":5}"));
	memset(reqs, 0, sizeof(reqs));
	for (size_t i = 0; i < N; i++) {
		reqs[i].method = "GET";
		reqs[i].url = f->url;
		reqs[i].auth = 1;
		reqs[i].throttle_key = HARNESS_SUBSCRIPTION;
	}
	assert_int_equal(
	    http_batch(f->http, reqs, resps, N, 8, batch_done, &bc), 0);
	assert_int_equal(bc.ok, N);
	for (size_t i = 0; i < N; i++)
		http_response_free(&resps[i]);
	assert_non_null(strstr(logs(f), "requests of quota left"));
	fixture_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(
	        test_client_gets_a_token_with_a_client_secret, teardown),
	    cmocka_unit_test_teardown(
	        test_client_reports_aad_refusing_a_wrong_secret, teardown),
	    cmocka_unit_test_teardown(
	        test_client_gets_a_token_with_a_certificate_and_never_logs_it,
	        teardown),
	    cmocka_unit_test_teardown(
	        test_client_gets_a_token_with_workload_identity, teardown),
	    cmocka_unit_test_teardown(
	        test_client_gets_a_token_from_imds, teardown),
	    cmocka_unit_test_teardown(
	        test_client_retries_imds_by_its_own_rules, teardown),
	    cmocka_unit_test_teardown(
	        test_client_honours_the_retry_after_the_emulator_asked_for,
	        teardown),
	    cmocka_unit_test_teardown(
	        test_client_gives_up_on_a_500_storm_after_the_bound, teardown),
	    cmocka_unit_test_teardown(
	        test_client_refreshes_an_expired_token_once, teardown),
	    cmocka_unit_test_teardown(
	        test_client_retries_a_dropped_connection, teardown),
	    cmocka_unit_test_teardown(
	        test_client_returns_a_garbage_body_as_is, teardown),
	    cmocka_unit_test_teardown(
	        test_client_refuses_a_body_over_the_cap, teardown),
	    cmocka_unit_test_teardown(
	        test_client_batch_overlaps_requests_within_the_bound, teardown),
	    cmocka_unit_test_teardown(
	        test_client_batch_retries_a_throttled_request, teardown),
	    cmocka_unit_test_teardown(
	        test_client_batch_slows_down_when_quota_runs_low, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
