/*
 * test_token.c -- token response parsing (AAD v2, IMDS, Azure CLI), AAD
 * error descriptions, the RS256 client assertion (decoded and verified
 * with the certificate's public key), the secret file's mode check, the
 * provider's local checks, and the Azure CLI source with a fake `az` on
 * PATH.  The network sources are tested against the emulator in
 * tests/e2e/test_client.c.
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
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "job/azure/http.h"
#include "job/azure/token.h"
#include "job/base/log.h"
#include "job/base/util.h"
#include "job/run/run.h"

#define NOW ((time_t)1790000000)

static char tmpdir[64];

static int
setup(void **state)
{
	static const char *vars[] = {"AZURE_CLIENT_ID", "AZURE_TENANT_ID",
	    "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH",
	    "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST",
	    "AZURE_POD_IDENTITY_AUTHORITY_HOST", "CREDENTIALS_DIRECTORY"};

	(void)state;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_token.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	log_init(0);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
write_file(const char *path, const char *content, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

/* ------------------------------------------------------------------ */

static void
test_token_parses_aad_v2_numeric_expires_in(void **state)
{
	char *tok = NULL, err[256];
	time_t exp = 0;

	(void)state;
	assert_int_equal(
	    token_parse_response("{\"token_type\":\"Bearer\",\"expires_in\":"
	                         "3599,\"ext_expires_in\":3599,"
	                         "\"access_token\":\"eyJ0eXAi.v2\"}",
	        NOW, &tok, &exp, err, sizeof(err)),
	    0);
	assert_string_equal(tok, "eyJ0eXAi.v2");
	assert_int_equal(exp, NOW + 3599);
	free(tok);
}

static void
test_token_parses_imds_numbers_as_strings(void **state)
{
	char *tok = NULL, err[256];
	time_t exp = 0;

	(void)state;
	/* The exact shape of NOTES.md section 5.1. */
	assert_int_equal(
	    token_parse_response(
	        "{\"access_token\":\"imds-tok\",\"refresh_token\":\"\","
	        "\"expires_in\":\"3599\",\"expires_on\":\"1506484173\","
	        "\"not_before\":\"1506480273\",\"resource\":"
	        "\"https://management.azure.com/\",\"token_type\":\"Bearer\"}",
	        NOW, &tok, &exp, err, sizeof(err)),
	    0);
	assert_string_equal(tok, "imds-tok");
	/* expires_in wins: it does not depend on the clocks agreeing. */
	assert_int_equal(exp, NOW + 3599);
	free(tok);
	assert_int_equal(
	    token_parse_response("{\"access_token\":\"t2\",\"expires_on\":"
	                         "\"1506484173\"}",
	        NOW, &tok, &exp, err, sizeof(err)),
	    0);
	assert_int_equal(exp, 1506484173);
	free(tok);
}

static void
test_token_parses_azure_cli_output(void **state)
{
	char *tok = NULL, err[256];
	time_t exp = 0;
	struct tm tm;

	(void)state;
	assert_int_equal(
	    token_parse_response(
	        "{\n  \"accessToken\": \"cli-tok\",\n  \"expiresOn\": "
	        "\"2023-10-31 21:59:10.000000\",\n  \"expires_on\": "
	        "1698789550,\n  \"subscription\": \"s\",\n  \"tenant\": "
	        "\"t\",\n  \"tokenType\": \"Bearer\"\n}\n",
	        NOW, &tok, &exp, err, sizeof(err)),
	    0);
	assert_string_equal(tok, "cli-tok");
	assert_int_equal(exp, 1698789550);
	free(tok);

	/* Older CLIs: only expiresOn, in local time. */
	setenv("TZ", "UTC", 1);
	tzset();
	assert_int_equal(
	    token_parse_response("{\"accessToken\":\"old\",\"expiresOn\":"
	                         "\"2023-10-31 21:59:10.000000\"}",
	        NOW, &tok, &exp, err, sizeof(err)),
	    0);
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = 123;
	tm.tm_mon = 9;
	tm.tm_mday = 31;
	tm.tm_hour = 21;
	tm.tm_min = 59;
	tm.tm_sec = 10;
	assert_int_equal(exp, timegm(&tm));
	free(tok);
}

static void
test_token_parse_reports_errors_without_the_token(void **state)
{
	char *tok = NULL, err[256];
	time_t exp = 0;

	(void)state;
	assert_int_equal(
	    token_parse_response(
	        "{\"error\":\"invalid_client\",\"error_description\":"
	        "\"AADSTS7000215: Invalid client secret provided. Ensure the "
	        "secret being sent...\\r\\nTrace ID: abc\\r\\nCorrelation ID: "
	        "def\",\"error_codes\":[7000215]}",
	        NOW, &tok, &exp, err, sizeof(err)),
	    -1);
	assert_null(tok);
	assert_string_equal(err,
	    "invalid_client: AADSTS7000215: Invalid "
	    "client secret provided.");
	assert_int_equal(token_parse_response("<html>502 Bad Gateway</html>",
	                     NOW, &tok, &exp, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "not a JSON object"));
	assert_int_equal(token_parse_response("{\"access_token\":\"secret-x\"}",
	                     NOW, &tok, &exp, err, sizeof(err)),
	    -1);
	assert_null(strstr(err, "secret-x"));
	assert_int_equal(token_parse_response("{\"expires_in\":5}", NOW, &tok,
	                     &exp, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "access_token"));
}

static void
test_token_describes_imds_errors(void **state)
{
	char err[256];

	(void)state;
	token_describe_error("{\"error\":\"invalid_request\","
	                     "\"error_description\":\"Identity not found\"}",
	    err, sizeof(err));
	assert_string_equal(err, "invalid_request: Identity not found");
	token_describe_error("not json", err, sizeof(err));
	assert_string_equal(err, "");
}

static void
test_token_url_has_one_slash_at_the_joint(void **state)
{
	char url[256];

	(void)state;
	assert_int_equal(token_url("https://login.microsoftonline.com/", "t-1",
	                     url, sizeof(url)),
	    0);
	assert_string_equal(
	    url, "https://login.microsoftonline.com/t-1/oauth2/v2.0/token");
	assert_int_equal(
	    token_url("http://127.0.0.1:9", "t-1", url, sizeof(url)), 0);
	assert_string_equal(url, "http://127.0.0.1:9/t-1/oauth2/v2.0/token");
	assert_int_equal(token_url("http://x", "t", url, 10), -1);
}

static void
test_token_refuses_a_secret_file_others_can_read(void **state)
{
	char path[128], err[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/secret", tmpdir);
	write_file(path, "s3cret\n", 0640);
	assert_int_equal(token_check_secret_file(path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "0640"));
	assert_null(strstr(err, "s3cret"));
	assert_int_equal(chmod(path, 0604), 0);
	assert_int_equal(token_check_secret_file(path, err, sizeof(err)), -1);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(token_check_secret_file(path, err, sizeof(err)), 0);
	assert_int_equal(
	    token_check_secret_file("/nonexistent/x", err, sizeof(err)), -1);
}

/* ------------------------------------------------------------------
 * The client assertion
 */

/* Write a fresh RSA key and a self-signed certificate to ${path}. */
static X509 *
make_cert_pem(const char *path, int with_key)
{
	EVP_PKEY *pkey = EVP_RSA_gen(2048);
	X509 *x = X509_new();
	FILE *f;

	assert_non_null(pkey);
	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 42);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)"aksnap-test", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, pkey);
	assert_true(X509_sign(x, pkey, EVP_sha256()) > 0);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, x), 1);
	if (with_key)
		assert_int_equal(
		    PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL),
		    1);
	fclose(f);
	EVP_PKEY_free(pkey);
	return x;
}

static unsigned char *
b64url_decode(const char *in, size_t n, size_t *outlen)
{
	char *s = malloc(n + 4);
	unsigned char *out = malloc(n + 4);
	size_t m = n;
	int len;

	assert_non_null(s);
	assert_non_null(out);
	for (size_t i = 0; i < n; i++)
		s[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
	while (m % 4 != 0)
		s[m++] = '=';
	s[m] = '\0';
	len = EVP_DecodeBlock(out, (unsigned char *)s, (int)m);
	assert_true(len >= 0);
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	while (m > 0 && s[m - 1] == '=') {
		len--;
		m--;
	}
	free(s);
	*outlen = (size_t)len;
	out[len] = '\0';
	return out;
}

static void
b64url_encode(const unsigned char *p, size_t n, char *out, size_t outlen)
{
	unsigned char tmp[128];
	int len = EVP_EncodeBlock(tmp, p, (int)n);

	while (len > 0 && tmp[len - 1] == '=')
		len--;
	for (int i = 0; i < len; i++)
		tmp[i] = tmp[i] == '+' ? '-' : tmp[i] == '/' ? '_' : tmp[i];
	snprintf(out, outlen, "%.*s", len, tmp);
}

static void
test_token_assertion_is_a_verifiable_rs256_jwt(void **state)
{
	const char *aud = "http://127.0.0.1:1/t-1/oauth2/v2.0/token";
	char path[128], err[256], x5t[64];
	unsigned char *hdr, *pay, *sig, sha1[20];
	unsigned int sha1len = 0;
	size_t hl, pl, sl;
	char *jwt, *dot1, *dot2;
	json_t *h, *p;
	X509 *cert;
	EVP_MD_CTX *md;

	(void)state;
	snprintf(path, sizeof(path), "%s/client.pem", tmpdir);
	cert = make_cert_pem(path, 1);
	jwt =
	    token_build_assertion(path, "client-1", aud, NOW, err, sizeof(err));
	assert_non_null(jwt);
	dot1 = strchr(jwt, '.');
	assert_non_null(dot1);
	dot2 = strchr(dot1 + 1, '.');
	assert_non_null(dot2);
	assert_null(strchr(dot2 + 1, '.'));
	assert_null(strchr(jwt, '='));

	hdr = b64url_decode(jwt, (size_t)(dot1 - jwt), &hl);
	pay = b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &pl);
	sig = b64url_decode(dot2 + 1, strlen(dot2 + 1), &sl);
	h = json_loads((char *)hdr, 0, NULL);
	p = json_loads((char *)pay, 0, NULL);
	assert_non_null(h);
	assert_non_null(p);

	assert_string_equal(
	    json_string_value(json_object_get(h, "alg")), "RS256");
	assert_string_equal(
	    json_string_value(json_object_get(h, "typ")), "JWT");
	assert_int_equal(X509_digest(cert, EVP_sha1(), sha1, &sha1len), 1);
	b64url_encode(sha1, sha1len, x5t, sizeof(x5t));
	assert_string_equal(json_string_value(json_object_get(h, "x5t")), x5t);
	assert_int_equal(
	    strlen(json_string_value(json_object_get(h, "kid"))), 40);

	assert_string_equal(json_string_value(json_object_get(p, "aud")), aud);
	assert_string_equal(
	    json_string_value(json_object_get(p, "iss")), "client-1");
	assert_string_equal(
	    json_string_value(json_object_get(p, "sub")), "client-1");
	assert_int_equal(
	    strlen(json_string_value(json_object_get(p, "jti"))), 36);
	assert_int_equal(json_integer_value(json_object_get(p, "nbf")), NOW);
	assert_int_equal(
	    json_integer_value(json_object_get(p, "exp")), NOW + 600);

	/* The signature verifies with the certificate's public key... */
	md = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL,
	                     X509_get0_pubkey(cert)),
	    1);
	assert_int_equal(EVP_DigestVerify(md, sig, sl, (unsigned char *)jwt,
	                     (size_t)(dot2 - jwt)),
	    1);
	EVP_MD_CTX_free(md);
	/* ...and not over a changed payload. */
	dot1[3] = dot1[3] == 'A' ? 'B' : 'A';
	md = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL,
	                     X509_get0_pubkey(cert)),
	    1);
	assert_int_not_equal(EVP_DigestVerify(md, sig, sl, (unsigned char *)jwt,
	                         (size_t)(dot2 - jwt)),
	    1);
	EVP_MD_CTX_free(md);

	json_decref(h);
	json_decref(p);
	free(hdr);
	free(pay);
	free(sig);
	free(jwt);
	X509_free(cert);
}

static void
test_token_assertion_needs_the_private_key(void **state)
{
	char path[128], err[256];
	X509 *cert;

	(void)state;
	snprintf(path, sizeof(path), "%s/certonly.pem", tmpdir);
	cert = make_cert_pem(path, 0);
	assert_null(
	    token_build_assertion(path, "c", "aud", NOW, err, sizeof(err)));
	assert_non_null(strstr(err, "private key"));
	X509_free(cert);
	assert_null(token_build_assertion(
	    "/nonexistent.pem", "c", "aud", NOW, err, sizeof(err)));
}

/* ------------------------------------------------------------------
 * Providers: local checks and the Azure CLI
 */

static struct config *
base_config(enum auth_kind kind)
{
	struct config *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->auth = kind;
	snprintf(
	    c->authority_host, sizeof(c->authority_host), "http://127.0.0.1:1");
	snprintf(
	    c->imds_endpoint, sizeof(c->imds_endpoint), "http://127.0.0.1:1");
	return c;
}

static void
test_token_provider_refuses_missing_or_exposed_secret(void **state)
{
	struct config *c = base_config(AUTH_CLIENT_SECRET);
	struct http_client *http = http_client_new(NULL);

	(void)state;
	/* No tenant. */
	snprintf(c->client_id, sizeof(c->client_id), "client-1");
	assert_null(run_token_provider(c));
	/* No secret anywhere. */
	snprintf(c->tenant, sizeof(c->tenant), "tenant-1");
	assert_null(run_token_provider(c));
	/* A group-readable secret file. */
	snprintf(c->client_secret_file, sizeof(c->client_secret_file),
	    "%s/exposed", tmpdir);
	write_file(c->client_secret_file, "s\n", 0644);
	assert_null(run_token_provider(c));
	/* The environment fills the tenant; a 0600 file is fine. */
	chmod(c->client_secret_file, 0600);
	c->tenant[0] = '\0';
	setenv("AZURE_TENANT_ID", "tenant-env", 1);
	{
		struct token_provider *tp = run_token_provider(c);

		assert_non_null(tp);
		assert_string_equal(token_provider_name(tp), "client-secret");
		token_provider_free(tp);
	}
	unsetenv("AZURE_TENANT_ID");
	http_client_free(http);
	free(c);
}

static void
test_token_auto_prefers_the_client_secret_from_the_environment(void **state)
{
	struct config *c = base_config(AUTH_AUTO);
	struct http_client *http = http_client_new(NULL);
	struct token_provider *tp;
	char fed[128];

	(void)state;
	snprintf(fed, sizeof(fed), "%s/fed", tmpdir);
	write_file(fed, "eyJfed\n", 0600);
	setenv("AZURE_FEDERATED_TOKEN_FILE", fed, 1);
	setenv("AZURE_CLIENT_ID", "client-env", 1);
	setenv("AZURE_TENANT_ID", "tenant-env", 1);
	tp = run_token_provider(c);
	assert_non_null(tp);
	assert_string_equal(token_provider_name(tp), "workload-identity");
	token_provider_free(tp);
	setenv("AZURE_CLIENT_SECRET", "from-env", 1);
	tp = run_token_provider(c);
	assert_non_null(tp);
	assert_string_equal(token_provider_name(tp), "client-secret");
	token_provider_free(tp);
	unsetenv("AZURE_CLIENT_SECRET");
	unsetenv("AZURE_FEDERATED_TOKEN_FILE");
	unsetenv("AZURE_CLIENT_ID");
	unsetenv("AZURE_TENANT_ID");
	http_client_free(http);
	free(c);
}

struct sink {
	struct buf all;
};

static void
sink_line(void *ctx, const char *line)
{
	struct sink *s = ctx;

	buf_append(&s->all, line, strlen(line));
	buf_append(&s->all, "\n", 1);
}

/* Put a fake `az` first on PATH; it logs its arguments to ${dir}/args. */
static char *
fake_az(const char *script_body)
{
	char path[256], script[2048];
	const char *old = getenv("PATH");
	char *saved = strdup(old != NULL ? old : "/usr/bin:/bin");
	char newpath[4096];

	snprintf(path, sizeof(path), "%s/az", tmpdir);
	snprintf(script, sizeof(script),
	    "#!/bin/sh\necho \"$@\" > '%s/args'\n%s\n", tmpdir, script_body);
	write_file(path, script, 0700);
	snprintf(newpath, sizeof(newpath), "%s:%s", tmpdir, saved);
	setenv("PATH", newpath, 1);
	return saved;
}

static void
test_token_azure_cli_runs_az_and_keeps_the_token_quiet(void **state)
{
	struct config *c = base_config(AUTH_AZURE_CLI);
	struct http_client *http = http_client_new(NULL);
	struct token_provider *tp;
	struct sink sink;
	const char *tok = NULL;
	char *saved, *args = NULL, argspath[128], err[256];
	char body[512];

	(void)state;
	snprintf(body, sizeof(body),
	    "cat <<EOF\n{\"accessToken\": \"cli-secret-token\", "
	    "\"expires_on\": %lld, \"tokenType\": \"Bearer\"}\nEOF",
	    (long long)util_now() + 3600);
	saved = fake_az(body);
	snprintf(c->tenant, sizeof(c->tenant), "tenant-9");
	buf_init(&sink.all, 1 << 20);
	log_init(2);
	log_set_sink(sink_line, &sink);

	tp = run_token_provider(c);
	assert_non_null(tp);
	assert_int_equal(token_get(tp, 0, &tok), 0);
	assert_string_equal(tok, "cli-secret-token");
	/* Cached: az is not run again (its args file is not rewritten). */
	snprintf(argspath, sizeof(argspath), "%s/args", tmpdir);
	assert_int_equal(
	    util_read_file(argspath, 4096, &args, NULL, err, sizeof(err)), 0);
	assert_string_equal(args,
	    "account get-access-token --resource "
	    "https://management.azure.com/ -o json "
	    "--tenant tenant-9\n");
	free(args);
	unlink(argspath);
	assert_int_equal(token_get(tp, 0, &tok), 0);
	assert_int_not_equal(access(argspath, F_OK), 0);
	/* Forced: run again. */
	assert_int_equal(token_get(tp, 1, &tok), 0);
	assert_int_equal(access(argspath, F_OK), 0);
	token_provider_free(tp);

	log_set_sink(NULL, NULL);
	log_init(0);
	assert_non_null(sink.all.data);
	assert_null(strstr(sink.all.data, "cli-secret-token"));
	assert_non_null(strstr(sink.all.data, "azure-cli"));
	buf_free(&sink.all);
	setenv("PATH", saved, 1);
	free(saved);
	http_client_free(http);
	free(c);
}

static void
test_token_azure_cli_failure_reports_its_first_line(void **state)
{
	struct config *c = base_config(AUTH_AZURE_CLI);
	struct http_client *http = http_client_new(NULL);
	struct token_provider *tp;
	struct sink sink;
	const char *tok = NULL;
	char *saved;

	(void)state;
	saved = fake_az("echo \"ERROR: Please run 'az login' to setup "
	                "account.\" >&2\necho second line >&2\nexit 1");
	buf_init(&sink.all, 1 << 20);
	log_set_sink(sink_line, &sink);
	tp = run_token_provider(c);
	assert_non_null(tp);
	assert_int_equal(token_get(tp, 0, &tok), -1);
	assert_int_equal(token_failure_transient(tp), 0);
	log_set_sink(NULL, NULL);
	assert_non_null(strstr(sink.all.data, "Please run 'az login'"));
	assert_null(strstr(sink.all.data, "second line"));
	buf_free(&sink.all);
	token_provider_free(tp);
	setenv("PATH", saved, 1);
	free(saved);
	http_client_free(http);
	free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_token_parses_aad_v2_numeric_expires_in),
	    cmocka_unit_test(test_token_parses_imds_numbers_as_strings),
	    cmocka_unit_test(test_token_parses_azure_cli_output),
	    cmocka_unit_test(test_token_parse_reports_errors_without_the_token),
	    cmocka_unit_test(test_token_describes_imds_errors),
	    cmocka_unit_test(test_token_url_has_one_slash_at_the_joint),
	    cmocka_unit_test(test_token_refuses_a_secret_file_others_can_read),
	    cmocka_unit_test(test_token_assertion_is_a_verifiable_rs256_jwt),
	    cmocka_unit_test(test_token_assertion_needs_the_private_key),
	    cmocka_unit_test(
	        test_token_provider_refuses_missing_or_exposed_secret),
	    cmocka_unit_test(
	        test_token_auto_prefers_the_client_secret_from_the_environment),
	    cmocka_unit_test(
	        test_token_azure_cli_runs_az_and_keeps_the_token_quiet),
	    cmocka_unit_test(
	        test_token_azure_cli_failure_reports_its_first_line),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
