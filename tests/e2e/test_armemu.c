/*
 * test_armemu.c -- the emulator itself, driven over raw HTTP with libcurl.
 *
 * These tests hold the emulator to the contract the other end-to-end tests
 * rely on: every token grant, the ARM calls with their shapes, status codes
 * and headers, the long-running operations, each fault kind, releases, the
 * clock, counters and the request log, TLS with a test CA, scale (1,000
 * concurrent requests under injected latency overlap; a 10,000-pool fleet
 * is served), and fidelity: for every official example in
 * tests/fixtures/azure-api/examples (or $AZURE_API_DIR/examples) the emulator
 * answers the same request with the same status, the example's JSON fields with
 * the same types (and no field that no official example or swagger slice
 * knows), and the headers the example lists.
 *
 * Timing is never asserted against the test's own clock; the concurrency
 * property is read from the emulator's request log and its in-flight
 * statistics.
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <dirent.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "tests/e2e/certs.h"
#include "tests/e2e/harness.h"

#define SUB HARNESS_SUBSCRIPTION
#define API "api-version=2026-08-01"
#define MCS "/providers/Microsoft.ContainerService"
#define RG_STAGING "/subscriptions/" SUB "/resourceGroups/rg-staging"
#define STAGING RG_STAGING MCS "/managedClusters/aks-staging"
#define SYSTEM_POOL_ID STAGING "/agentPools/system"

/* ------------------------------------------------------------------ */
/* raw HTTP                                                           */

struct resp {
	long status;
	CURLcode rc;
	char *body;
	size_t len;
	char *headers;
	size_t hlen;
	json_t *json;
};

static size_t
body_cb(char *p, size_t size, size_t n, void *ud)
{
	struct resp *r = ud;
	char *d = realloc(r->body, r->len + size * n + 1);

	if (d == NULL)
		return 0;
	r->body = d;
	memcpy(r->body + r->len, p, size * n);
	r->len += size * n;
	r->body[r->len] = '\0';
	return size * n;
}

static size_t
header_cb(char *p, size_t size, size_t n, void *ud)
{
	struct resp *r = ud;
	char *d = realloc(r->headers, r->hlen + size * n + 1);

	if (d == NULL)
		return 0;
	r->headers = d;
	memcpy(r->headers + r->hlen, p, size * n);
	r->hlen += size * n;
	r->headers[r->hlen] = '\0';
	return size * n;
}

static void
resp_free(struct resp *r)
{
	free(r->body);
	free(r->headers);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

/* The value of header ${name} (case-insensitive) in a static buffer. */
static const char *
resp_header(const struct resp *r, const char *name)
{
	static char val[4096];
	const char *p = r->headers;
	size_t nl = strlen(name);

	while (p != NULL && *p != '\0') {
		const char *eol = strstr(p, "\r\n");
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;

			while (*v == ' ')
				v++;
			snprintf(val, sizeof(val), "%.*s",
			    (int)(len - (size_t)(v - p)), v);
			return val;
		}
		p = eol ? eol + 2 : NULL;
	}
	return NULL;
}

static void
setup_easy(CURL *c, struct resp *r, const char *method, const char *url,
    const char *body, struct curl_slist *h)
{
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	if (h != NULL)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (body != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
}

/*
 * One request.  ${token} adds "Authorization: Bearer"; ${hdrs} is a
 * NULL-terminated list of extra header lines.  The body is parsed as JSON
 * when it is JSON.
 */
static void
req(struct resp *r, const char *method, const char *url, const char *token,
    const char *body, const char *const *hdrs)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char line[4096];
	size_t i;

	memset(r, 0, sizeof(*r));
	assert_non_null(c);
	if (token != NULL) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
		h = curl_slist_append(h, line);
	}
	if (body != NULL &&
	    (hdrs == NULL || hdrs[0] == NULL ||
	        strncasecmp(hdrs[0], "Content-Type", 12) != 0))
		h = curl_slist_append(h, "Content-Type: application/json");
	for (i = 0; hdrs != NULL && hdrs[i] != NULL; i++)
		h = curl_slist_append(h, hdrs[i]);
	setup_easy(c, r, method, url, body, h);
	r->rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->body != NULL)
		r->json = json_loads(r->body, 0, NULL);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
}

static void
arm(struct resp *r, struct emu *e, const char *method, const char *path,
    const char *token, const char *body)
{
	char url[4096];

	snprintf(url, sizeof(url), "%s%s%s" API, emu_url(e), path,
	    strchr(path, '?') ? "&" : "?");
	req(r, method, url, token, body, NULL);
}

static const char *
jget(json_t *j, const char *dotted)
{
	char key[256], *save = NULL, *t;
	json_t *cur = j;

	snprintf(key, sizeof(key), "%s", dotted);
	for (t = strtok_r(key, ".", &save); t != NULL && cur != NULL;
	     t = strtok_r(NULL, ".", &save))
		cur = json_object_get(cur, t);
	return json_string_value(cur);
}

/* ------------------------------------------------------------------ */
/* emulator setup                                                     */

struct env {
	struct harness h; /* the e2e fixture: emulator and directory */
	char *dir; /* h.dir */
	struct emu *e; /* h.emu */
	char token[128];
};

static void
env_start(struct env *v, const char *const *args)
{
	char fleet[4096];
	const char *argv[40];
	int n = 0, i;
	const char *src = getenv("ARMEMU_FLEET_DEMO");

	memset(v, 0, sizeof(*v));
	/* The demo fleet sits next to the emulator's sources. */
	snprintf(fleet, sizeof(fleet), "%s",
	    src ? src : "tests/armemu/fleet-demo.json");
	argv[n++] = "--fleet";
	argv[n++] = fleet;
	for (i = 0; args != NULL && args[i] != NULL && n < 38; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	assert_int_equal(harness_init(&v->h, argv, NULL), 0);
	v->dir = v->h.dir;
	v->e = v->h.emu;
}

static void
get_token(struct env *v)
{
	struct resp r;
	char url[512];

	snprintf(url, sizeof(url), "%s/%s/oauth2/v2.0/token", emu_url(v->e),
	    HARNESS_TENANT);
	req(&r, "POST", url, NULL,
	    "grant_type=client_credentials&client_id=" HARNESS_CLIENT_ID
	    "&client_secret=" HARNESS_CLIENT_SECRET
	    "&scope=https%3A%2F%2Fmanagement.azure.com%2F.default",
	    (const char *const[]){
	        "Content-Type: application/x-www-form-urlencoded", NULL});
	assert_int_equal(r.status, 200);
	snprintf(
	    v->token, sizeof(v->token), "%s", jget(r.json, "access_token"));
	resp_free(&r);
}

static void
env_stop(struct env *v)
{
	harness_fini(&v->h);
	v->dir = NULL;
	v->e = NULL;
}

/* ------------------------------------------------------------------ */
/* crypto helpers for the certificate and TLS tests                   */

static void
b64url(const unsigned char *in, size_t n, char *out, size_t outlen)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t i, k = 0;
	unsigned int acc = 0;
	int bits = 0;

	for (i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6 && k + 1 < outlen) {
			bits -= 6;
			out[k++] = tab[(acc >> bits) & 0x3f];
		}
	}
	if (bits > 0 && k + 1 < outlen)
		out[k++] = tab[(acc << (6 - bits)) & 0x3f];
	out[k] = '\0';
}

/* An RS256 JWT client assertion; ${aud} the token URL. */
static char *
make_assertion(
    EVP_PKEY *key, X509 *cert, const char *aud, long exp_delta, int corrupt)
{
	unsigned char md[EVP_MAX_MD_SIZE], sig[1024];
	unsigned int mdlen = 0;
	size_t siglen = sizeof(sig);
	char x5t[64], h64[512], p64[2048], s64[1500], *hdr, *pl, *out;
	json_t *jh, *jp;
	EVP_MD_CTX *ctx;
	char signing[2600];
	long now = (long)time(NULL);

	X509_digest(cert, EVP_sha1(), md, &mdlen);
	b64url(md, mdlen, x5t, sizeof(x5t));
	jh = json_pack(
	    "{s:s,s:s,s:s}", "alg", "RS256", "typ", "JWT", "x5t", x5t);
	jp = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I}", "aud", aud, "iss",
	    HARNESS_CLIENT_ID, "sub", HARNESS_CLIENT_ID, "jti", "test-jti",
	    "nbf", (json_int_t)(now - 60), "exp",
	    (json_int_t)(now + exp_delta));
	hdr = json_dumps(jh, JSON_COMPACT);
	pl = json_dumps(jp, JSON_COMPACT);
	b64url((unsigned char *)hdr, strlen(hdr), h64, sizeof(h64));
	b64url((unsigned char *)pl, strlen(pl), p64, sizeof(p64));
	snprintf(signing, sizeof(signing), "%s.%s", h64, p64);
	ctx = EVP_MD_CTX_new();
	assert_int_equal(
	    EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key), 1);
	assert_int_equal(EVP_DigestSign(ctx, sig, &siglen,
	                     (unsigned char *)signing, strlen(signing)),
	    1);
	EVP_MD_CTX_free(ctx);
	if (corrupt)
		sig[10] ^= 0x55;
	b64url(sig, siglen, s64, sizeof(s64));
	out = malloc(strlen(signing) + strlen(s64) + 2);
	sprintf(out, "%s.%s", signing, s64);
	free(hdr);
	free(pl);
	json_decref(jh);
	json_decref(jp);
	return out;
}

static void
token_post(struct resp *r, struct emu *e, const char *form)
{
	char url[512];

	snprintf(url, sizeof(url), "%s/%s/oauth2/v2.0/token", emu_url(e),
	    HARNESS_TENANT);
	req(r, "POST", url, NULL, form,
	    (const char *const[]){
	        "Content-Type: application/x-www-form-urlencoded", NULL});
}

/* ------------------------------------------------------------------ */
/* tokens                                                             */

static void
test_token_secret_grant_issues_expiring_bearer(void **state)
{
	struct env v;
	struct resp r;

	(void)state;
	env_start(&v, (const char *const[]){"--token-ttl", "120", NULL});
	token_post(&r, v.e,
	    "grant_type=client_credentials&client_id=" HARNESS_CLIENT_ID
	    "&client_secret=" HARNESS_CLIENT_SECRET
	    "&scope=https%3A%2F%2Fmanagement.azure.com%2F.default");
	assert_int_equal(r.status, 200);
	assert_string_equal(jget(r.json, "token_type"), "Bearer");
	assert_true(json_is_integer(json_object_get(r.json, "expires_in")));
	assert_int_equal(
	    json_integer_value(json_object_get(r.json, "expires_in")), 119);
	assert_true(json_is_integer(json_object_get(r.json, "ext_expires_in")));
	assert_non_null(jget(r.json, "access_token"));
	resp_free(&r);

	token_post(&r, v.e,
	    "grant_type=client_credentials&client_id=" HARNESS_CLIENT_ID
	    "&client_secret=wrong"
	    "&scope=https%3A%2F%2Fmanagement.azure.com%2F.default");
	assert_int_equal(r.status, 401);
	assert_string_equal(jget(r.json, "error"), "invalid_client");
	assert_non_null(
	    strstr(jget(r.json, "error_description"), "AADSTS7000215"));
	assert_null(strstr(r.body, "wrong"));
	assert_int_equal(json_integer_value(json_array_get(
	                     json_object_get(r.json, "error_codes"), 0)),
	    7000215);
	assert_non_null(jget(r.json, "trace_id"));
	assert_non_null(jget(r.json, "correlation_id"));
	assert_non_null(jget(r.json, "timestamp"));
	resp_free(&r);

	token_post(&r, v.e,
	    "grant_type=client_credentials&client_id=" HARNESS_CLIENT_ID
	    "&client_secret=" HARNESS_CLIENT_SECRET
	    "&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default");
	assert_int_equal(r.status, 400);
	assert_string_equal(jget(r.json, "error"), "invalid_scope");
	resp_free(&r);
	env_stop(&v);
}

static void
test_token_certificate_assertion_is_verified(void **state)
{
	struct env v;
	struct resp r;
	EVP_PKEY *key = EVP_RSA_gen(2048), *other = EVP_RSA_gen(2048);
	X509 *cert;
	char *dir = harness_tmpdir(), pem[4096], url[512], form[8192], *a;

	(void)state;
	assert_non_null(key);
	cert = certs_make(key, "aksnap-test-client", NULL, NULL, 0);
	snprintf(pem, sizeof(pem), "%s/client.pem", dir);
	assert_int_equal(certs_write_pem(pem, cert, NULL), 0);
	env_start(&v, (const char *const[]){"--client-cert", pem, NULL});
	snprintf(url, sizeof(url), "%s/%s/oauth2/v2.0/token", emu_url(v.e),
	    HARNESS_TENANT);

	a = make_assertion(key, cert, url, 600, 0);
	snprintf(form, sizeof(form),
	    "grant_type=client_credentials&client_id=" HARNESS_CLIENT_ID
	    "&scope=https%%3A%%2F%%2Fmanagement.azure.com%%2F.default"
	    "&client_assertion_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Aclient-"
	    "assertion-type%%3Ajwt-bearer&client_assertion=%s",
	    a);
	token_post(&r, v.e, form);
	assert_int_equal(r.status, 200);
	assert_non_null(jget(r.json, "access_token"));
	resp_free(&r);
	free(a);

	/* A bad signature, an expired assertion, the wrong audience. */
	a = make_assertion(key, cert, url, 600, 1);
	snprintf(form, sizeof(form),
	    "grant_type=client_credentials&client_id=" HARNESS_CLIENT_ID
	    "&scope=https%%3A%%2F%%2Fmanagement.azure.com%%2F.default"
	    "&client_assertion_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Aclient-"
	    "assertion-type%%3Ajwt-bearer&client_assertion=%s",
	    a);
	token_post(&r, v.e, form);
	assert_int_equal(r.status, 401);
	assert_string_equal(jget(r.json, "error"), "invalid_client");
	resp_free(&r);
	free(a);

	a = make_assertion(key, cert, url, -10, 0);
	snprintf(form, sizeof(form),
	    "grant_type=client_credentials&client_id=" HARNESS_CLIENT_ID
	    "&scope=https%%3A%%2F%%2Fmanagement.azure.com%%2F.default"
	    "&client_assertion_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Aclient-"
	    "assertion-type%%3Ajwt-bearer&client_assertion=%s",
	    a);
	token_post(&r, v.e, form);
	assert_int_equal(r.status, 401);
	assert_non_null(
	    strstr(jget(r.json, "error_description"), "AADSTS700024"));
	resp_free(&r);
	free(a);

	a = make_assertion(key, cert, "https://login.example/other", 600, 0);
	snprintf(form, sizeof(form),
	    "grant_type=client_credentials&client_id=" HARNESS_CLIENT_ID
	    "&scope=https%%3A%%2F%%2Fmanagement.azure.com%%2F.default"
	    "&client_assertion_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Aclient-"
	    "assertion-type%%3Ajwt-bearer&client_assertion=%s",
	    a);
	token_post(&r, v.e, form);
	assert_int_equal(r.status, 401);
	resp_free(&r);
	free(a);

	/* Signed by another key under the same x5t. */
	a = make_assertion(other, cert, url, 600, 0);
	snprintf(form, sizeof(form),
	    "grant_type=client_credentials&client_id=" HARNESS_CLIENT_ID
	    "&scope=https%%3A%%2F%%2Fmanagement.azure.com%%2F.default"
	    "&client_assertion_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Aclient-"
	    "assertion-type%%3Ajwt-bearer&client_assertion=%s",
	    a);
	token_post(&r, v.e, form);
	assert_int_equal(r.status, 401);
	resp_free(&r);
	free(a);

	env_stop(&v);
	X509_free(cert);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
	harness_rmrf(dir);
	free(dir);
}

static void
test_token_workload_identity_matches_file(void **state)
{
	struct env v;
	struct resp r;
	char *dir = harness_tmpdir(), path[4096];

	(void)state;
	snprintf(path, sizeof(path), "%s/token", dir);
	assert_int_equal(
	    harness_write_file(path, "eyJfederated.token.x\n", 0600), 0);
	env_start(
	    &v, (const char *const[]){"--federated-token-file", path, NULL});
	token_post(&r, v.e,
	    "grant_type=client_credentials&client_id=" HARNESS_CLIENT_ID
	    "&scope=https%3A%2F%2Fmanagement.azure.com%2F.default"
	    "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-"
	    "assertion-type%3Ajwt-bearer&client_assertion=eyJfederated.token."
	    "x");
	assert_int_equal(r.status, 200);
	resp_free(&r);
	token_post(&r, v.e,
	    "grant_type=client_credentials&client_id=" HARNESS_CLIENT_ID
	    "&scope=https%3A%2F%2Fmanagement.azure.com%2F.default"
	    "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-"
	    "assertion-type%3Ajwt-bearer&client_assertion=eyJother.token.y");
	assert_int_equal(r.status, 400);
	assert_string_equal(jget(r.json, "error"), "invalid_client");
	resp_free(&r);
	env_stop(&v);
	harness_rmrf(dir);
	free(dir);
}

static void
test_imds_requires_metadata_header(void **state)
{
	struct env v;
	struct resp r;
	char url[512];

	(void)state;
	env_start(&v, NULL);
	snprintf(url, sizeof(url),
	    "%s/metadata/identity/oauth2/token?api-version=2018-02-01"
	    "&resource=https%%3A%%2F%%2Fmanagement.azure.com%%2F",
	    emu_url(v.e));
	req(&r, "GET", url, NULL, NULL, NULL);
	assert_int_equal(r.status, 400);
	assert_string_equal(jget(r.json, "error"), "invalid_request");
	assert_string_equal(jget(r.json, "error_description"),
	    "Required metadata header not specified");
	resp_free(&r);
	req(&r, "GET", url, NULL, NULL,
	    (const char *const[]){"Metadata: true", NULL});
	assert_int_equal(r.status, 200);
	assert_true(json_is_string(json_object_get(r.json, "expires_in")));
	assert_true(json_is_string(json_object_get(r.json, "expires_on")));
	assert_true(json_is_string(json_object_get(r.json, "not_before")));
	assert_string_equal(jget(r.json, "refresh_token"), "");
	assert_string_equal(
	    jget(r.json, "resource"), "https://management.azure.com/");
	assert_string_equal(jget(r.json, "token_type"), "Bearer");
	/* The IMDS token works on ARM. */
	{
		struct resp g;

		arm(&g, v.e, "GET", STAGING, jget(r.json, "access_token"),
		    NULL);
		assert_int_equal(g.status, 200);
		resp_free(&g);
	}
	resp_free(&r);
	env_stop(&v);
}

static void
test_arm_rejects_missing_invalid_and_expired_tokens(void **state)
{
	struct env v;
	struct resp r;

	(void)state;
	env_start(&v, NULL);
	arm(&r, v.e, "GET", STAGING, NULL, NULL);
	assert_int_equal(r.status, 401);
	assert_string_equal(jget(r.json, "error.code"), "AuthenticationFailed");
	assert_non_null(resp_header(&r, "WWW-Authenticate"));
	resp_free(&r);
	arm(&r, v.e, "GET", STAGING, "not-a-token", NULL);
	assert_int_equal(r.status, 401);
	assert_string_equal(
	    jget(r.json, "error.code"), "InvalidAuthenticationToken");
	resp_free(&r);
	get_token(&v);
	arm(&r, v.e, "GET", STAGING, v.token, NULL);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	json_decref(emu_post(v.e, "/_armemu/tokens/expire", NULL));
	arm(&r, v.e, "GET", STAGING, v.token, NULL);
	assert_int_equal(r.status, 401);
	assert_string_equal(
	    jget(r.json, "error.code"), "ExpiredAuthenticationToken");
	resp_free(&r);
	env_stop(&v);
}

static void
test_arm_requires_api_version(void **state)
{
	struct env v;
	struct resp r;
	char url[1024];

	(void)state;
	env_start(&v, NULL);
	get_token(&v);
	snprintf(url, sizeof(url), "%s%s", emu_url(v.e), STAGING);
	req(&r, "GET", url, v.token, NULL, NULL);
	assert_int_equal(r.status, 400);
	assert_string_equal(
	    jget(r.json, "error.code"), "MissingApiVersionParameter");
	resp_free(&r);
	snprintf(url, sizeof(url), "%s%s?api-version=2019-01-01", emu_url(v.e),
	    STAGING);
	req(&r, "GET", url, v.token, NULL, NULL);
	assert_int_equal(r.status, 400);
	assert_string_equal(
	    jget(r.json, "error.code"), "InvalidApiVersionParameter");
	resp_free(&r);
	env_stop(&v);
}

/* ------------------------------------------------------------------ */
/* clusters and snapshots                                             */

static void
test_cluster_get_shape_headers_and_404s(void **state)
{
	struct env v;
	struct resp r;
	json_t *profiles;
	char url[1024];

	(void)state;
	env_start(&v, NULL);
	get_token(&v);
	snprintf(url, sizeof(url), "%s%s?" API, emu_url(v.e), STAGING);
	req(&r, "GET", url, v.token, NULL,
	    (const char *const[]){
	        "x-ms-client-request-id: 1b4d2c3e-0000-4000-8000-00000000abcd",
	        "x-ms-correlation-request-id: "
	        "2b4d2c3e-0000-4000-8000-00000000abcd",
	        NULL});
	assert_int_equal(r.status, 200);
	assert_string_equal(jget(r.json, "location"), "westeurope");
	assert_string_equal(
	    jget(r.json, "properties.kubernetesVersion"), "1.30.5");
	profiles = json_object_get(
	    json_object_get(r.json, "properties"), "agentPoolProfiles");
	assert_int_equal(json_array_size(profiles), 2);
	assert_string_equal(
	    jget(json_array_get(profiles, 0), "name"), "system");
	assert_string_equal(
	    jget(json_array_get(profiles, 0), "nodeImageVersion"),
	    "AKSUbuntu-2204gen2containerd-202611.01.0");
	assert_non_null(resp_header(&r, "x-ms-request-id"));
	assert_string_equal(resp_header(&r, "x-ms-client-request-id"),
	    "1b4d2c3e-0000-4000-8000-00000000abcd");
	assert_string_equal(resp_header(&r, "x-ms-correlation-request-id"),
	    "2b4d2c3e-0000-4000-8000-00000000abcd");
	assert_non_null(
	    resp_header(&r, "x-ms-ratelimit-remaining-subscription-reads"));
	assert_non_null(
	    strstr(resp_header(&r, "Content-Type"), "application/json"));
	resp_free(&r);

	arm(&r, v.e, "GET", RG_STAGING MCS "/managedClusters/nope", v.token,
	    NULL);
	assert_int_equal(r.status, 404);
	assert_string_equal(jget(r.json, "error.code"), "ResourceNotFound");
	assert_string_equal(jget(r.json, "error.message"),
	    "The Resource 'Microsoft.ContainerService/managedClusters/nope' "
	    "under resource group 'rg-staging' was not found. For more "
	    "details please go to https://aka.ms/ARMResourceNotFoundFix");
	assert_non_null(resp_header(&r, "x-ms-correlation-request-id"));
	resp_free(&r);
	arm(&r, v.e, "GET",
	    "/subscriptions/" SUB "/resourceGroups/rg-nope" MCS
	    "/managedClusters/aks-staging",
	    v.token, NULL);
	assert_int_equal(r.status, 404);
	assert_string_equal(
	    jget(r.json, "error.code"), "ResourceGroupNotFound");
	resp_free(&r);

	/* A deleted cluster is gone. */
	json_decref(emu_post(v.e, "/_armemu/clusters/delete",
	    "{\"resourceGroup\":\"rg-staging\",\"cluster\":\"aks-staging\"}"));
	arm(&r, v.e, "GET", STAGING, v.token, NULL);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	env_stop(&v);
}

static char *
snap_body(const char *location, const char *pool_id, const char *tags)
{
	char *s = NULL;

	assert_true(asprintf(&s,
	                "{\"location\":\"%s\",\"tags\":%s,\"properties\":{"
	                "\"creationData\":{\"sourceResourceId\":\"%s\"}}}",
	                location, tags, pool_id) > 0);
	return s;
}

static void
test_snapshot_put_get_patch_list_delete(void **state)
{
	struct env v;
	struct resp r;
	char *body, path[1024], created_at[64], url[4096];
	int i, pages = 0, total = 0;

	(void)state;
	env_start(&v, (const char *const[]){"--page-size", "2", NULL});
	get_token(&v);
	json_decref(emu_post(v.e, "/_armemu/clock",
	    "{\"now\":\"2026-03-16T03:00:00Z\",\"frozen\":true}"));
	body = snap_body(
	    "WestEurope", SYSTEM_POOL_ID, "{\"aksnap-managed\":\"true\"}");
	snprintf(path, sizeof(path), "%s%s/snapshots/snap-a", RG_STAGING, MCS);
	arm(&r, v.e, "PUT", path, v.token, body);
	assert_int_equal(r.status, 201);
	assert_string_equal(jget(r.json, "name"), "snap-a");
	assert_string_equal(
	    jget(r.json, "type"), "Microsoft.ContainerService/snapshots");
	assert_string_equal(
	    jget(r.json, "properties.kubernetesVersion"), "1.30.5");
	assert_string_equal(jget(r.json, "properties.nodeImageVersion"),
	    "AKSUbuntu-2204gen2containerd-202611.01.0");
	assert_string_equal(jget(r.json, "properties.osSku"), "Ubuntu");
	assert_string_equal(
	    jget(r.json, "properties.vmSize"), "Standard_D4s_v5");
	assert_true(json_is_false(json_object_get(
	    json_object_get(r.json, "properties"), "enableFIPS")));
	assert_string_equal(jget(r.json, "tags.aksnap-managed"), "true");
	assert_non_null(strstr(
	    jget(r.json, "systemData.createdAt"), "2026-03-16T03:00:00"));
	snprintf(created_at, sizeof(created_at), "%s",
	    jget(r.json, "systemData.createdAt"));
	resp_free(&r);

	/* A release does not change the snapshot; a second PUT answers 200
	 * and keeps the versions and createdAt. */
	json_decref(emu_post(v.e, "/_armemu/release",
	    "{\"cluster\":\"aks-staging\",\"pool\":\"system\"}"));
	json_decref(emu_post(v.e, "/_armemu/clock", "{\"advance\":\"1d\"}"));
	arm(&r, v.e, "PUT", path, v.token, body);
	assert_int_equal(r.status, 200);
	assert_string_equal(jget(r.json, "properties.nodeImageVersion"),
	    "AKSUbuntu-2204gen2containerd-202611.01.0");
	assert_string_equal(jget(r.json, "systemData.createdAt"), created_at);
	resp_free(&r);
	free(body);

	arm(&r, v.e, "GET", path, v.token, NULL);
	assert_int_equal(r.status, 200);
	assert_string_equal(jget(r.json, "location"), "WestEurope");
	resp_free(&r);

	/* Case-insensitive names, as ARM. */
	arm(&r, v.e, "GET",
	    "/subscriptions/" SUB "/resourcegroups/RG-STAGING" MCS
	    "/snapshots/SNAP-A",
	    v.token, NULL);
	assert_int_equal(r.status, 200);
	resp_free(&r);

	arm(&r, v.e, "PATCH", path, v.token,
	    "{\"tags\":{\"aksnap-channel\":\"stable\"}}");
	assert_int_equal(r.status, 200);
	assert_string_equal(jget(r.json, "tags.aksnap-channel"), "stable");
	assert_null(jget(r.json, "tags.aksnap-managed"));
	resp_free(&r);

	/* Four more: five in the resource group, six in the subscription
	 * with the demo fleet's foreign one. */
	for (i = 0; i < 4; i++) {
		char p2[1024];

		body = snap_body("westeurope", SYSTEM_POOL_ID, "{}");
		snprintf(p2, sizeof(p2), "%s%s/snapshots/snap-%d", RG_STAGING,
		    MCS, i);
		arm(&r, v.e, "PUT", p2, v.token, body);
		assert_int_equal(r.status, 201);
		resp_free(&r);
		free(body);
	}
	snprintf(url, sizeof(url), "%s%s%s/snapshots?" API, emu_url(v.e),
	    RG_STAGING, MCS);
	while (url[0] != '\0') {
		const char *next;

		req(&r, "GET", url, v.token, NULL, NULL);
		assert_int_equal(r.status, 200);
		total += (int)json_array_size(json_object_get(r.json, "value"));
		pages++;
		next = jget(r.json, "nextLink");
		if (next != NULL)
			assert_non_null(strstr(next, emu_url(v.e)));
		snprintf(url, sizeof(url), "%s", next ? next : "");
		resp_free(&r);
		assert_true(pages < 10);
	}
	assert_int_equal(total, 5);
	assert_int_equal(pages, 3);
	arm(&r, v.e, "GET", "/subscriptions/" SUB MCS "/snapshots", v.token,
	    NULL);
	assert_int_equal(r.status, 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "value")), 2);
	assert_non_null(jget(r.json, "nextLink"));
	resp_free(&r);

	arm(&r, v.e, "DELETE", path, v.token, NULL);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	arm(&r, v.e, "DELETE", path, v.token, NULL);
	assert_int_equal(r.status, 204);
	resp_free(&r);
	arm(&r, v.e, "GET", path, v.token, NULL);
	assert_int_equal(r.status, 404);
	assert_string_equal(jget(r.json, "error.code"), "ResourceNotFound");
	assert_non_null(strstr(jget(r.json, "error.message"),
	    "Microsoft.ContainerService/snapshots/snap-a"));
	resp_free(&r);
	env_stop(&v);
}

static void
test_snapshot_put_validates_location_source_and_name(void **state)
{
	struct env v;
	struct resp r;
	char *body;

	(void)state;
	env_start(&v, NULL);
	get_token(&v);
	body = snap_body("eastus", SYSTEM_POOL_ID, "{}");
	arm(&r, v.e, "PUT", RG_STAGING MCS "/snapshots/s1", v.token, body);
	assert_int_equal(r.status, 400);
	assert_string_equal(jget(r.json, "error.code"), "InvalidParameter");
	resp_free(&r);
	free(body);
	body = snap_body("westeurope", STAGING "/agentPools/nope", "{}");
	arm(&r, v.e, "PUT", RG_STAGING MCS "/snapshots/s1", v.token, body);
	assert_int_equal(r.status, 400);
	resp_free(&r);
	arm(&r, v.e, "PUT", RG_STAGING MCS "/snapshots/-bad-", v.token, body);
	assert_int_equal(r.status, 400);
	resp_free(&r);
	free(body);
	arm(&r, v.e, "PUT", RG_STAGING MCS "/snapshots/s1", v.token,
	    "{\"properties\":{\"creationData\":{\"sourceResourceId\":"
	    "\"" SYSTEM_POOL_ID "\"}}}");
	assert_int_equal(r.status, 400);
	assert_string_equal(jget(r.json, "error.code"), "LocationRequired");
	resp_free(&r);
	arm(&r, v.e, "PUT", RG_STAGING MCS "/snapshots/s1", v.token, "{nope");
	assert_int_equal(r.status, 400);
	resp_free(&r);
	env_stop(&v);
}

static void
test_busy_pool_answers_409_operation_not_allowed(void **state)
{
	struct env v;
	struct resp r;
	char *body;
	json_t *j;

	(void)state;
	env_start(&v, NULL);
	get_token(&v);
	j = emu_post(v.e, "/_armemu/pools/busy",
	    "{\"resourceGroup\":\"rg-staging\",\"cluster\":\"aks-staging\","
	    "\"pool\":\"system\",\"busy\":true}");
	assert_non_null(j);
	json_decref(j);
	body = snap_body("westeurope", SYSTEM_POOL_ID, "{}");
	arm(&r, v.e, "PUT", RG_STAGING MCS "/snapshots/s1", v.token, body);
	assert_int_equal(r.status, 409);
	assert_string_equal(jget(r.json, "error.code"), "OperationNotAllowed");
	assert_non_null(strstr(jget(r.json, "error.message"),
	    "Another operation (Updating) is in progress"));
	resp_free(&r);
	arm(&r, v.e, "PUT", SYSTEM_POOL_ID, v.token,
	    "{\"properties\":{\"orchestratorVersion\":\"1.30.5\"}}");
	assert_int_equal(r.status, 409);
	resp_free(&r);
	json_decref(emu_post(v.e, "/_armemu/pools/busy",
	    "{\"resourceGroup\":\"rg-staging\",\"cluster\":\"aks-staging\","
	    "\"pool\":\"system\",\"busy\":false}"));
	arm(&r, v.e, "PUT", RG_STAGING MCS "/snapshots/s1", v.token, body);
	assert_int_equal(r.status, 201);
	resp_free(&r);
	free(body);
	env_stop(&v);
}

/* Poll an Azure-AsyncOperation URL to the end; return polls answered
 * InProgress and put the terminal status in ${final}. */
static int
poll_async(struct env *v, const char *url, char *final, size_t len)
{
	struct resp r;
	int inprogress = 0, i;

	for (i = 0; i < 50; i++) {
		req(&r, "GET", url, v->token, NULL, NULL);
		assert_int_equal(r.status, 200);
		assert_non_null(jget(r.json, "status"));
		if (strcmp(jget(r.json, "status"), "InProgress") != 0) {
			snprintf(final, len, "%s", jget(r.json, "status"));
			if (strcmp(final, "Failed") == 0)
				assert_non_null(jget(r.json, "error.code"));
			assert_non_null(jget(r.json, "endTime"));
			resp_free(&r);
			return inprogress;
		}
		assert_non_null(resp_header(&r, "Retry-After"));
		inprogress++;
		resp_free(&r);
	}
	fail_msg("operation never ended");
	return -1;
}

static void
test_agent_pool_put_from_snapshot_runs_lro(void **state)
{
	struct env v;
	struct resp r;
	char *body, async[4096], final[32], put[2048];
	json_t *st;

	(void)state;
	env_start(&v, (const char *const[]){"--lro-polls", "3", NULL});
	get_token(&v);
	/* Snapshot of system (202611.01.0), then upgrade pool "user". */
	body = snap_body("westeurope", SYSTEM_POOL_ID, "{}");
	arm(&r, v.e, "PUT", RG_STAGING MCS "/snapshots/base", v.token, body);
	assert_int_equal(r.status, 201);
	resp_free(&r);
	free(body);
	snprintf(put, sizeof(put),
	    "{\"properties\":{\"orchestratorVersion\":\"1.30.5\","
	    "\"vmSize\":\"Standard_D8s_v5\",\"count\":5,\"creationData\":{"
	    "\"sourceResourceId\":\"%s%s/snapshots/base\"}}}",
	    RG_STAGING, MCS);
	arm(&r, v.e, "PUT", STAGING "/agentPools/user", v.token, put);
	assert_int_equal(r.status, 200);
	assert_string_equal(
	    jget(r.json, "properties.provisioningState"), "Upgrading");
	assert_non_null(resp_header(&r, "Azure-AsyncOperation"));
	assert_string_equal(resp_header(&r, "Retry-After"), "1");
	snprintf(async, sizeof(async), "%s",
	    resp_header(&r, "Azure-AsyncOperation"));
	assert_non_null(strstr(async, emu_url(v.e)));
	resp_free(&r);

	/* While it runs: 409 for another write. */
	arm(&r, v.e, "PUT", STAGING "/agentPools/user", v.token, put);
	assert_int_equal(r.status, 409);
	resp_free(&r);

	assert_int_equal(poll_async(&v, async, final, sizeof(final)), 3);
	assert_string_equal(final, "Succeeded");
	arm(&r, v.e, "GET", STAGING "/agentPools/user", v.token, NULL);
	assert_int_equal(r.status, 200);
	assert_string_equal(jget(r.json, "properties.nodeImageVersion"),
	    "AKSUbuntu-2204gen2containerd-202611.01.0");
	assert_string_equal(jget(r.json, "properties.osSKU"), "AzureLinux");
	assert_string_equal(
	    jget(r.json, "properties.currentOrchestratorVersion"), "1.30.5");
	assert_string_equal(
	    jget(r.json, "properties.provisioningState"), "Succeeded");
	assert_non_null(
	    strstr(jget(r.json, "properties.creationData.sourceResourceId"),
	        "/snapshots/base"));
	resp_free(&r);
	st = emu_get(v.e, "/_armemu/state");
	assert_non_null(st);
	json_decref(st);
	assert_int_equal(emu_counter(v.e, "GET operations.get 200"), 4);
	env_stop(&v);
}

static void
test_lro_fail_fault_ends_operation_failed(void **state)
{
	struct env v;
	struct resp r;
	char async[4096], final[32];

	(void)state;
	env_start(&v, (const char *const[]){"--lro-polls", "1", NULL});
	get_token(&v);
	assert_true(emu_fault(v.e,
	                "{\"method\":\"PUT\",\"path\":\"*/agentPools/*\","
	                "\"action\":\"lro_fail\",\"error_code\":"
	                "\"UpgradeFailed\"}") > 0);
	arm(&r, v.e, "PUT", SYSTEM_POOL_ID, v.token,
	    "{\"properties\":{\"orchestratorVersion\":\"1.30.9\"}}");
	assert_int_equal(r.status, 200);
	snprintf(async, sizeof(async), "%s",
	    resp_header(&r, "Azure-AsyncOperation"));
	resp_free(&r);
	poll_async(&v, async, final, sizeof(final));
	assert_string_equal(final, "Failed");
	arm(&r, v.e, "GET", SYSTEM_POOL_ID, v.token, NULL);
	assert_string_equal(
	    jget(r.json, "properties.provisioningState"), "Failed");
	assert_string_equal(
	    jget(r.json, "properties.currentOrchestratorVersion"), "1.30.5");
	resp_free(&r);
	env_stop(&v);
}

/* The number of snapshots the emulator holds (GET /_armemu/state). */
static size_t
emu_snapshot_count(struct emu *e)
{
	json_t *st = emu_get(e, "/_armemu/state");
	size_t n;

	assert_non_null(st);
	n = json_array_size(json_object_get(st, "snapshots"));
	json_decref(st);
	return n;
}

static void
test_fault_put_empty_and_put_other_create_nothing(void **state)
{
	struct env v;
	struct resp r;
	char *body;
	size_t before;

	(void)state;
	env_start(&v, NULL);
	get_token(&v);
	before = emu_snapshot_count(v.e);
	body = snap_body("westeurope", SYSTEM_POOL_ID, "{}");
	assert_true(emu_fault(v.e,
	                "{\"method\":\"PUT\",\"path\":\"*/snapshots/*\","
	                "\"action\":\"put_empty\"}") > 0);
	arm(&r, v.e, "PUT", RG_STAGING MCS "/snapshots/ghost", v.token, body);
	assert_int_equal(r.status, 201);
	assert_true(json_is_object(r.json));
	assert_int_equal(json_object_size(r.json), 0);
	resp_free(&r);
	arm(&r, v.e, "GET", RG_STAGING MCS "/snapshots/ghost", v.token, NULL);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	assert_int_equal(emu_snapshot_count(v.e), before);

	/* put_other: 201 naming "<asked>-other", nothing made either. */
	assert_true(emu_fault(v.e,
	                "{\"method\":\"PUT\",\"path\":\"*/snapshots/*\","
	                "\"action\":\"put_other\"}") > 0);
	arm(&r, v.e, "PUT", RG_STAGING MCS "/snapshots/ghost", v.token, body);
	assert_int_equal(r.status, 201);
	assert_string_equal(jget(r.json, "name"), "ghost-other");
	assert_non_null(strstr(jget(r.json, "id"), "/snapshots/ghost-other"));
	assert_string_equal(
	    jget(r.json, "properties.creationData.sourceResourceId"),
	    SYSTEM_POOL_ID);
	assert_string_equal(
	    jget(r.json, "properties.kubernetesVersion"), "1.30.5");
	resp_free(&r);
	arm(&r, v.e, "GET", RG_STAGING MCS "/snapshots/ghost", v.token, NULL);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	arm(&r, v.e, "GET", RG_STAGING MCS "/snapshots/ghost-other", v.token,
	    NULL);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	assert_int_equal(emu_snapshot_count(v.e), before);

	/* put_other with a name that exists: that snapshot's body. */
	arm(&r, v.e, "PUT", RG_STAGING MCS "/snapshots/real", v.token, body);
	assert_int_equal(r.status, 201);
	resp_free(&r);
	assert_true(emu_fault(v.e,
	                "{\"method\":\"PUT\",\"path\":\"*/snapshots/*\","
	                "\"action\":\"put_other\",\"name\":\"real\"}") > 0);
	arm(&r, v.e, "PUT", RG_STAGING MCS "/snapshots/ghost", v.token, body);
	assert_int_equal(r.status, 201);
	assert_string_equal(jget(r.json, "name"), "real");
	resp_free(&r);
	assert_int_equal(emu_snapshot_count(v.e), before + 1);

	/* The rules are spent: the next PUT creates the snapshot. */
	arm(&r, v.e, "PUT", RG_STAGING MCS "/snapshots/ghost", v.token, body);
	assert_int_equal(r.status, 201);
	assert_string_equal(jget(r.json, "name"), "ghost");
	resp_free(&r);
	assert_int_equal(emu_snapshot_count(v.e), before + 2);
	assert_int_equal(emu_counter(v.e, "PUT snapshots.put 201"), 5);
	free(body);
	env_stop(&v);
}

static void
test_fault_delete_noop_and_patch_noop_change_nothing(void **state)
{
	struct env v;
	struct resp r;
	char *body;

	(void)state;
	env_start(&v, NULL);
	get_token(&v);
	body = snap_body(
	    "westeurope", SYSTEM_POOL_ID, "{\"aksnap-managed\":\"true\"}");
	arm(&r, v.e, "PUT", RG_STAGING MCS "/snapshots/s1", v.token, body);
	assert_int_equal(r.status, 201);
	resp_free(&r);
	free(body);

	assert_true(emu_fault(v.e,
	                "{\"method\":\"PATCH\",\"path\":\"*/snapshots/*\","
	                "\"action\":\"patch_noop\"}") > 0);
	arm(&r, v.e, "PATCH", RG_STAGING MCS "/snapshots/s1", v.token,
	    "{\"tags\":{\"aksnap-managed\":\"true\","
	    "\"aksnap-channel\":\"stable\"}}");
	assert_int_equal(r.status, 200);
	assert_string_equal(jget(r.json, "name"), "s1");
	assert_null(jget(r.json, "tags.aksnap-channel"));
	resp_free(&r);
	arm(&r, v.e, "GET", RG_STAGING MCS "/snapshots/s1", v.token, NULL);
	assert_null(jget(r.json, "tags.aksnap-channel"));
	assert_string_equal(jget(r.json, "tags.aksnap-managed"), "true");
	resp_free(&r);

	assert_true(emu_fault(v.e,
	                "{\"method\":\"DELETE\",\"path\":\"*/snapshots/*\","
	                "\"action\":\"delete_noop\",\"count\":2}") > 0);
	arm(&r, v.e, "DELETE", RG_STAGING MCS "/snapshots/s1", v.token, NULL);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	arm(&r, v.e, "GET", RG_STAGING MCS "/snapshots/s1", v.token, NULL);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	/* Even a snapshot that does not exist is "deleted" with 200. */
	arm(&r, v.e, "DELETE", RG_STAGING MCS "/snapshots/none", v.token, NULL);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	/* Spent: the real thing. */
	arm(&r, v.e, "PATCH", RG_STAGING MCS "/snapshots/s1", v.token,
	    "{\"tags\":{\"aksnap-channel\":\"stable\"}}");
	assert_string_equal(jget(r.json, "tags.aksnap-channel"), "stable");
	resp_free(&r);
	arm(&r, v.e, "DELETE", RG_STAGING MCS "/snapshots/s1", v.token, NULL);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	arm(&r, v.e, "GET", RG_STAGING MCS "/snapshots/s1", v.token, NULL);
	assert_int_equal(r.status, 404);
	resp_free(&r);
	env_stop(&v);
}

/* PUT ${path} with ${body}, follow its operation; "Succeeded" etc. */
static void
lro_run(struct env *v, const char *method, const char *path, const char *body,
    const char *const *hdrs, int want_status, char *final, size_t len)
{
	struct resp r;
	char url[4096], async[4096];

	snprintf(url, sizeof(url), "%s%s?" API, emu_url(v->e), path);
	req(&r, method, url, v->token, body, hdrs);
	assert_int_equal(r.status, want_status);
	assert_non_null(resp_header(&r, "Azure-AsyncOperation"));
	snprintf(async, sizeof(async), "%s",
	    resp_header(&r, "Azure-AsyncOperation"));
	resp_free(&r);
	poll_async(v, async, final, len);
}

static void
test_fault_lro_noop_succeeds_and_changes_nothing(void **state)
{
	struct env v;
	struct resp r;
	char *body, final[32], put[2048];
	const char *const hdr[] = {
	    "AKSSnapshotId: " RG_STAGING MCS "/snapshots/base", NULL};

	(void)state;
	env_start(&v, (const char *const[]){"--lro-polls", "1", NULL});
	get_token(&v);
	/* Snapshot of system at 202611.01.0, then system moves on. */
	body = snap_body("westeurope", SYSTEM_POOL_ID, "{}");
	arm(&r, v.e, "PUT", RG_STAGING MCS "/snapshots/base", v.token, body);
	assert_int_equal(r.status, 201);
	resp_free(&r);
	free(body);
	json_decref(emu_post(v.e, "/_armemu/release",
	    "{\"cluster\":\"aks-staging\",\"pool\":\"system\"}"));
	snprintf(put, sizeof(put),
	    "{\"properties\":{\"orchestratorVersion\":\"1.30.5\","
	    "\"creationData\":{\"sourceResourceId\":\"%s%s/snapshots/base\"}}"
	    "}",
	    RG_STAGING, MCS);

	/* Upgrade to the snapshot: Succeeded, and still 202611.08.0. */
	assert_true(emu_fault(v.e,
	                "{\"method\":\"PUT\",\"path\":\"*/agentPools/*\","
	                "\"action\":\"lro_noop\"}") > 0);
	lro_run(
	    &v, "PUT", SYSTEM_POOL_ID, put, NULL, 200, final, sizeof(final));
	assert_string_equal(final, "Succeeded");
	arm(&r, v.e, "GET", SYSTEM_POOL_ID, v.token, NULL);
	assert_string_equal(jget(r.json, "properties.nodeImageVersion"),
	    "AKSUbuntu-2204gen2containerd-202611.08.0");
	assert_string_equal(
	    jget(r.json, "properties.provisioningState"), "Succeeded");
	assert_null(jget(r.json, "properties.creationData.sourceResourceId"));
	resp_free(&r);

	/* upgradeNodeImageVersion with the snapshot: the same lie. */
	assert_true(emu_fault(v.e,
	                "{\"method\":\"POST\",\"path\":\"*/agentPools/*\","
	                "\"action\":\"lro_noop\"}") > 0);
	lro_run(&v, "POST", SYSTEM_POOL_ID "/upgradeNodeImageVersion", "", hdr,
	    202, final, sizeof(final));
	assert_string_equal(final, "Succeeded");
	arm(&r, v.e, "GET", SYSTEM_POOL_ID, v.token, NULL);
	assert_string_equal(jget(r.json, "properties.nodeImageVersion"),
	    "AKSUbuntu-2204gen2containerd-202611.08.0");
	resp_free(&r);

	/* A pool created from the snapshot: made as if none was named. */
	assert_true(emu_fault(v.e,
	                "{\"method\":\"PUT\",\"path\":\"*/agentPools/*\","
	                "\"action\":\"lro_noop\"}") > 0);
	snprintf(put, sizeof(put),
	    "{\"properties\":{\"count\":1,\"vmSize\":\"Standard_D4s_v5\","
	    "\"orchestratorVersion\":\"1.30.5\",\"creationData\":{"
	    "\"sourceResourceId\":\"%s%s/snapshots/base\"}}}",
	    RG_STAGING, MCS);
	lro_run(&v, "PUT", STAGING "/agentPools/np2", put, NULL, 201, final,
	    sizeof(final));
	assert_string_equal(final, "Succeeded");
	arm(&r, v.e, "GET", STAGING "/agentPools/np2", v.token, NULL);
	assert_int_equal(r.status, 200);
	assert_string_equal(jget(r.json, "properties.nodeImageVersion"),
	    "AKSUbuntu-2204gen2containerd-202611.08.0");
	resp_free(&r);

	/* Spent: the same upgrade now lands on the snapshot's image. */
	snprintf(put, sizeof(put),
	    "{\"properties\":{\"orchestratorVersion\":\"1.30.5\","
	    "\"creationData\":{\"sourceResourceId\":\"%s%s/snapshots/base\"}}"
	    "}",
	    RG_STAGING, MCS);
	lro_run(
	    &v, "PUT", SYSTEM_POOL_ID, put, NULL, 200, final, sizeof(final));
	assert_string_equal(final, "Succeeded");
	arm(&r, v.e, "GET", SYSTEM_POOL_ID, v.token, NULL);
	assert_string_equal(jget(r.json, "properties.nodeImageVersion"),
	    "AKSUbuntu-2204gen2containerd-202611.01.0");
	resp_free(&r);
	env_stop(&v);
}

static void
test_snapshot_put_checks_snapshot_type(void **state)
{
	struct env v;
	struct resp r;
	char body[2048];

	(void)state;
	env_start(&v, NULL);
	get_token(&v);
	snprintf(body, sizeof(body),
	    "{\"location\":\"westeurope\",\"properties\":{\"snapshotType\":"
	    "\"%s\",\"creationData\":{\"sourceResourceId\":\"%s\"}}}",
	    "ManagedCluster", SYSTEM_POOL_ID);
	arm(&r, v.e, "PUT", RG_STAGING MCS "/snapshots/t1", v.token, body);
	assert_int_equal(r.status, 400);
	assert_string_equal(jget(r.json, "error.code"), "InvalidParameter");
	resp_free(&r);
	snprintf(body, sizeof(body),
	    "{\"location\":\"westeurope\",\"properties\":{\"snapshotType\":"
	    "\"%s\",\"creationData\":{\"sourceResourceId\":\"%s\"}}}",
	    "NodePool", SYSTEM_POOL_ID);
	arm(&r, v.e, "PUT", RG_STAGING MCS "/snapshots/t1", v.token, body);
	assert_int_equal(r.status, 201);
	assert_string_equal(
	    jget(r.json, "properties.snapshotType"), "NodePool");
	resp_free(&r);
	env_stop(&v);
}

static void
test_upgrade_node_image_honours_snapshot_header(void **state)
{
	struct env v;
	struct resp r;
	char async[4096], final[32], hdr[1024], url[2048];
	char *body;

	(void)state;
	env_start(&v, (const char *const[]){"--lro-polls", "0", NULL});
	get_token(&v);
	/* A snapshot of the older prod image, used on staging's system. */
	body = snap_body("northeurope",
	    "/subscriptions/" SUB "/resourceGroups/rg-prod" MCS
	    "/managedClusters/aks-prod/agentPools/system",
	    "{}");
	arm(&r, v.e, "PUT",
	    "/subscriptions/" SUB "/resourceGroups/rg-prod" MCS
	    "/snapshots/prodbase",
	    v.token, body);
	assert_int_equal(r.status, 201);
	resp_free(&r);
	free(body);
	snprintf(hdr, sizeof(hdr),
	    "AKSSnapshotId: /subscriptions/%s/resourceGroups/rg-prod%s"
	    "/snapshots/prodbase",
	    SUB, MCS);
	snprintf(url, sizeof(url), "%s%s/upgradeNodeImageVersion?" API,
	    emu_url(v.e), SYSTEM_POOL_ID);
	req(&r, "POST", url, v.token, "", (const char *const[]){hdr, NULL});
	assert_int_equal(r.status, 202);
	assert_string_equal(jget(r.json, "properties.provisioningState"),
	    "UpgradingNodeImageVersion");
	assert_non_null(resp_header(&r, "Location"));
	snprintf(async, sizeof(async), "%s",
	    resp_header(&r, "Azure-AsyncOperation"));
	resp_free(&r);
	assert_int_equal(poll_async(&v, async, final, sizeof(final)), 0);
	arm(&r, v.e, "GET", SYSTEM_POOL_ID, v.token, NULL);
	assert_string_equal(jget(r.json, "properties.nodeImageVersion"),
	    "AKSUbuntu-2204gen2containerd-202610.14.0");
	resp_free(&r);

	/* Without the header: the latest released image. */
	json_decref(emu_post(v.e, "/_armemu/release",
	    "{\"cluster\":\"aks-staging\",\"pool\":\"system\","
	    "\"nodeImageVersion\":\"AKSUbuntu-2204gen2containerd-202612.01.0\","
	    "\"apply\":false}"));
	req(&r, "POST", url, v.token, "", NULL);
	assert_int_equal(r.status, 202);
	resp_free(&r);
	arm(&r, v.e, "GET", SYSTEM_POOL_ID, v.token, NULL);
	assert_string_equal(jget(r.json, "properties.nodeImageVersion"),
	    "AKSUbuntu-2204gen2containerd-202612.01.0");
	resp_free(&r);
	/* Already latest: 200 without a body. */
	req(&r, "POST", url, v.token, "", NULL);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	env_stop(&v);
}

/* ------------------------------------------------------------------ */
/* faults, release, clock, counters                                   */

static void
test_fault_status_answers_with_retry_after_then_clears(void **state)
{
	struct env v;
	struct resp r;

	(void)state;
	env_start(&v, NULL);
	get_token(&v);
	assert_true(emu_fault(v.e,
	                "{\"method\":\"GET\",\"path\":\"*/managedClusters/*\","
	                "\"status\":429,\"retry_after\":2,\"count\":2}") > 0);
	arm(&r, v.e, "GET", STAGING, v.token, NULL);
	assert_int_equal(r.status, 429);
	assert_string_equal(resp_header(&r, "Retry-After"), "2");
	assert_string_equal(jget(r.json, "error.code"), "TooManyRequests");
	assert_non_null(resp_header(&r, "x-ms-request-id"));
	resp_free(&r);
	arm(&r, v.e, "GET", STAGING, v.token, NULL);
	assert_int_equal(r.status, 429);
	resp_free(&r);
	arm(&r, v.e, "GET", STAGING, v.token, NULL);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	/* A 503 on the token endpoint has the Entra shape. */
	assert_true(
	    emu_fault(
	        v.e, "{\"path\":\"*/oauth2/v2.0/token\",\"status\":503}") > 0);
	token_post(&r, v.e, "grant_type=client_credentials");
	assert_int_equal(r.status, 503);
	assert_non_null(jget(r.json, "error"));
	resp_free(&r);
	assert_int_equal(emu_counter(v.e, "GET managedClusters.get 429"), 2);
	assert_int_equal(emu_counter(v.e, "GET managedClusters.get 200"), 1);
	env_stop(&v);
}

static void
test_fault_latency_delays_the_answer(void **state)
{
	struct env v;
	struct resp r;
	json_t *log;
	json_t *last;

	(void)state;
	env_start(&v, NULL);
	get_token(&v);
	assert_true(emu_fault(v.e,
	                "{\"action\":\"latency\",\"latency_ms\":150,"
	                "\"path\":\"*/managedClusters/*\"}") > 0);
	arm(&r, v.e, "GET", STAGING, v.token, NULL);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	log = emu_get(v.e, "/_armemu/requests");
	last = json_array_get(log, json_array_size(log) - 1);
	assert_string_equal(jget(last, "route"), "managedClusters.get");
	/* The emulator's own measurement of the request. */
	assert_true(
	    json_integer_value(json_object_get(last, "duration_ms")) >= 150);
	json_decref(log);
	env_stop(&v);
}

static void
test_fault_drop_and_garbage(void **state)
{
	struct env v;
	struct resp r;

	(void)state;
	env_start(&v, NULL);
	get_token(&v);
	assert_true(emu_fault(v.e,
	                "{\"action\":\"drop\",\"path\":"
	                "\"*/managedClusters/*\"}") > 0);
	arm(&r, v.e, "GET", STAGING, v.token, NULL);
	assert_int_not_equal(r.rc, CURLE_OK);
	resp_free(&r);
	assert_true(emu_fault(v.e,
	                "{\"action\":\"garbage\",\"path\":"
	                "\"*/managedClusters/*\"}") > 0);
	arm(&r, v.e, "GET", STAGING, v.token, NULL);
	assert_int_equal(r.status, 200);
	assert_null(r.json);
	assert_non_null(strstr(r.body, "502 Bad Gateway"));
	assert_non_null(strstr(resp_header(&r, "Content-Type"), "text/html"));
	resp_free(&r);
	assert_true(emu_fault(v.e,
	                "{\"action\":\"truncated\",\"path\":"
	                "\"*/managedClusters/*\"}") > 0);
	arm(&r, v.e, "GET", STAGING, v.token, NULL);
	assert_int_equal(r.status, 200);
	assert_null(r.json);
	resp_free(&r);
	arm(&r, v.e, "GET", STAGING, v.token, NULL);
	assert_int_equal(r.status, 200);
	assert_non_null(r.json);
	resp_free(&r);
	assert_int_equal(emu_counter(v.e, "GET managedClusters.get 0"), 1);
	env_stop(&v);
}

static void
test_fault_probability_hits_some(void **state)
{
	struct env v;
	struct resp r;
	int i, failed = 0;

	(void)state;
	env_start(&v, NULL);
	get_token(&v);
	assert_true(emu_fault(v.e,
	                "{\"status\":500,\"probability\":0.5,"
	                "\"path\":\"*/managedClusters/*\"}") > 0);
	for (i = 0; i < 200; i++) {
		arm(&r, v.e, "GET", STAGING, v.token, NULL);
		assert_true(r.status == 200 || r.status == 500);
		failed += r.status == 500;
		resp_free(&r);
	}
	/* 0.5 over 200 tries: [40, 160] fails with probability < 1e-17. */
	assert_in_range(failed, 40, 160);
	assert_int_equal(emu_clear_faults(v.e), 0);
	arm(&r, v.e, "GET", STAGING, v.token, NULL);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	env_stop(&v);
}

static void
test_release_and_clock_change_what_arm_returns(void **state)
{
	struct env v;
	struct resp r;
	json_t *j;
	char *body;

	(void)state;
	env_start(&v, NULL);
	get_token(&v);
	j = emu_post(v.e, "/_armemu/release",
	    "{\"cluster\":\"aks-staging\","
	    "\"pool\":\"system\"}");
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "pools")), 1);
	json_decref(j);
	arm(&r, v.e, "GET", SYSTEM_POOL_ID, v.token, NULL);
	assert_string_equal(jget(r.json, "properties.nodeImageVersion"),
	    "AKSUbuntu-2204gen2containerd-202611.08.0");
	resp_free(&r);
	j = emu_post(v.e, "/_armemu/release",
	    "{\"cluster\":\"aks-prod\",\"kubernetesVersion\":\"1.30.5\","
	    "\"nodeImageVersion\":\"AKSUbuntu-2204gen2containerd-202612.01."
	    "0\"}");
	assert_int_equal(json_integer_value(json_object_get(j, "pools")), 2);
	json_decref(j);
	arm(&r, v.e, "GET",
	    "/subscriptions/" SUB "/resourceGroups/rg-prod" MCS
	    "/managedClusters/aks-prod/agentPools/batch",
	    v.token, NULL);
	assert_string_equal(
	    jget(r.json, "properties.orchestratorVersion"), "1.30.5");
	assert_string_equal(jget(r.json, "properties.nodeImageVersion"),
	    "AKSUbuntu-2204gen2containerd-202612.01.0");
	resp_free(&r);

	assert_int_equal(emu_set_clock(v.e, "2027-01-04T02:00:00Z"), 0);
	body = snap_body("westeurope", SYSTEM_POOL_ID, "{}");
	arm(&r, v.e, "PUT", RG_STAGING MCS "/snapshots/later", v.token, body);
	assert_int_equal(r.status, 201);
	assert_non_null(
	    strstr(jget(r.json, "systemData.createdAt"), "2027-01-04T02:00:0"));
	resp_free(&r);
	free(body);
	/* Tokens keep real time: still valid. */
	arm(&r, v.e, "GET", STAGING, v.token, NULL);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	env_stop(&v);
}

static void
test_counters_and_request_log_and_reset(void **state)
{
	struct env v;
	struct resp r;
	json_t *log, *e0;
	char url[2048];

	(void)state;
	env_start(&v, NULL);
	get_token(&v);
	emu_reset_counters(v.e);
	snprintf(url, sizeof(url), "%s%s?" API, emu_url(v.e), STAGING);
	req(&r, "GET", url, v.token, NULL,
	    (const char *const[]){
	        "x-ms-client-request-id: my-request-1", NULL});
	resp_free(&r);
	arm(&r, v.e, "GET", RG_STAGING MCS "/managedClusters/nope", v.token,
	    NULL);
	resp_free(&r);
	assert_int_equal(emu_counter(v.e, "GET managedClusters.get"), 2);
	assert_int_equal(emu_counter(v.e, "GET managedClusters.get 200"), 1);
	assert_int_equal(emu_counter(v.e, "GET managedClusters.get 404"), 1);
	assert_int_equal(emu_counter(v.e, "POST token.v2"), 0);
	log = emu_get(v.e, "/_armemu/requests");
	assert_int_equal(json_array_size(log), 2);
	e0 = json_array_get(log, 0);
	assert_string_equal(jget(e0, "method"), "GET");
	assert_string_equal(jget(e0, "path"), STAGING);
	assert_string_equal(jget(e0, "query"), API);
	assert_string_equal(jget(e0, "client_request_id"), "my-request-1");
	assert_string_equal(jget(e0, "route"), "managedClusters.get");
	assert_int_equal(
	    json_integer_value(json_object_get(e0, "status")), 200);
	assert_non_null(jget(e0, "time"));
	assert_non_null(jget(e0, "request_id"));
	assert_true(json_is_integer(json_object_get(e0, "time_ms")));
	json_decref(log);
	emu_reset_counters(v.e);
	assert_int_equal(emu_counter(v.e, "GET managedClusters.get"), 0);
	log = emu_get(v.e, "/_armemu/requests");
	assert_int_equal(json_array_size(log), 0);
	json_decref(log);
	env_stop(&v);
}

/* ------------------------------------------------------------------ */
/* TLS and scale                                                      */

static void
test_tls_is_verified_against_the_test_ca(void **state)
{
	EVP_PKEY *cakey, *key;
	X509 *ca, *cert;
	char *dir, capath[4096], certpath[4096], keypath[4096], url[256];
	const char *args[8];
	struct emu *e;
	struct resp r;
	CURL *c;

	(void)state;
	if (!(curl_version_info(CURLVERSION_NOW)->features &
	        CURL_VERSION_SSL)) {
		print_message("skip: libcurl without TLS\n");
		return;
	}
	dir = harness_tmpdir();
	cakey = EVP_RSA_gen(2048);
	key = EVP_RSA_gen(2048);
	ca = certs_make(cakey, "aksnap test CA", NULL, NULL, 1);
	cert = certs_make(key, "127.0.0.1", ca, cakey, 0);
	snprintf(capath, sizeof(capath), "%s/ca.pem", dir);
	snprintf(certpath, sizeof(certpath), "%s/server.pem", dir);
	snprintf(keypath, sizeof(keypath), "%s/server.key", dir);
	assert_int_equal(certs_write_pem(capath, ca, NULL), 0);
	assert_int_equal(certs_write_pem(certpath, cert, NULL), 0);
	assert_int_equal(certs_write_pem(keypath, NULL, key), 0);
	args[0] = "--tls-cert";
	args[1] = certpath;
	args[2] = "--tls-key";
	args[3] = keypath;
	args[4] = NULL;
	e = emu_start(args);
	if (e == NULL) {
		print_message("skip: emulator could not start with TLS "
		              "(libmicrohttpd without TLS?)\n");
		goto out;
	}
	assert_non_null(strstr(emu_url(e), "https://"));
	snprintf(url, sizeof(url), "%s/_armemu/health", emu_url(e));

	memset(&r, 0, sizeof(r));
	c = curl_easy_init();
	setup_easy(c, &r, "GET", url, NULL, NULL);
	curl_easy_setopt(c, CURLOPT_CAINFO, capath);
	r.rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
	curl_easy_cleanup(c);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 200);
	resp_free(&r);

	c = curl_easy_init();
	setup_easy(c, &r, "GET", url, NULL, NULL);
	r.rc = curl_easy_perform(c);
	curl_easy_cleanup(c);
	assert_int_equal(r.rc, CURLE_PEER_FAILED_VERIFICATION);
	resp_free(&r);
	emu_stop(e);
out:
	X509_free(ca);
	X509_free(cert);
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(key);
	harness_rmrf(dir);
	free(dir);
}

#define NCONC 1000
/*
 * Each request held this long by the emulator: long enough that the
 * client, however slowly it sends (under valgrind, check-valgrind wraps
 * this program too: 54 at once with 50 ms), has 100 of them there at
 * once if the emulator serves them concurrently.
 */
#define CONC_LATENCY_MS 1000

static void
test_concurrent_requests_overlap_under_latency(void **state)
{
	struct env v;
	struct rlimit rl;
	CURLM *m;
	CURL **easy;
	struct resp *rs;
	struct curl_slist *h = NULL;
	char url[1024], auth[256];
	int running = 1, i, ok = 0;
	json_t *log, *stats, *ent;
	size_t k;
	int64_t first_start = INT64_MAX, last_end = 0;
	long n = 0;

	(void)state;
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 2 * NCONC + 200) {
		print_message("skip: RLIMIT_NOFILE hard limit %lu too low\n",
		    (unsigned long)rl.rlim_max);
		return;
	}
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? 65536 : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	env_start(&v, NULL);
	get_token(&v);
	snprintf(url, sizeof(url),
	    "{\"action\":\"latency\",\"latency_ms\":%d,"
	    "\"path\":\"*/managedClusters/*\",\"count\":-1}",
	    CONC_LATENCY_MS);
	assert_true(emu_fault(v.e, url) > 0);
	emu_reset_counters(v.e);
	snprintf(url, sizeof(url), "%s%s?" API, emu_url(v.e), STAGING);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", v.token);
	h = curl_slist_append(h, auth);
	m = curl_multi_init();
	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, 0L);
	curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)NCONC);
	easy = calloc(NCONC, sizeof(*easy));
	rs = calloc(NCONC, sizeof(*rs));
	for (i = 0; i < NCONC; i++) {
		easy[i] = curl_easy_init();
		setup_easy(easy[i], &rs[i], "GET", url, NULL, h);
		curl_easy_setopt(easy[i], CURLOPT_TIMEOUT, 120L);
		curl_multi_add_handle(m, easy[i]);
	}
	while (running) {
		curl_multi_perform(m, &running);
		if (running)
			curl_multi_poll(m, NULL, 0, 1000, NULL);
	}
	for (i = 0; i < NCONC; i++) {
		long st = 0;

		curl_easy_getinfo(easy[i], CURLINFO_RESPONSE_CODE, &st);
		ok += st == 200;
		curl_multi_remove_handle(m, easy[i]);
		curl_easy_cleanup(easy[i]);
		resp_free(&rs[i]);
	}
	curl_multi_cleanup(m);
	curl_slist_free_all(h);
	free(easy);
	free(rs);
	assert_int_equal(ok, NCONC);

	/* The emulator's view: all were served, and they overlapped. */
	assert_int_equal(
	    emu_counter(v.e, "GET managedClusters.get 200"), NCONC);
	stats = emu_get(v.e, "/_armemu/stats");
	print_message("max_in_flight %lld\n",
	    (long long)json_integer_value(
	        json_object_get(stats, "max_in_flight")));
	assert_true(
	    json_integer_value(json_object_get(stats, "max_in_flight")) >= 100);
	json_decref(stats);
	log = emu_get(v.e, "/_armemu/requests");
	json_array_foreach(log, k, ent)
	{
		int64_t end =
		    json_integer_value(json_object_get(ent, "time_ms"));
		int64_t dur =
		    json_integer_value(json_object_get(ent, "duration_ms"));

		if (strcmp(jget(ent, "route"), "managedClusters.get") != 0)
			continue;
		n++;
		assert_true(dur >= CONC_LATENCY_MS);
		if (end - dur < first_start)
			first_start = end - dur;
		if (end > last_end)
			last_end = end;
	}
	json_decref(log);
	assert_int_equal(n, NCONC);
	print_message("emulator span for %d requests with %d ms latency: "
	              "%lld ms (serial would be >= %d ms)\n",
	    NCONC, CONC_LATENCY_MS, (long long)(last_end - first_start),
	    NCONC * CONC_LATENCY_MS);
	assert_true(last_end - first_start < NCONC * CONC_LATENCY_MS / 4);
	env_stop(&v);
}

static void
test_generated_fleet_serves_ten_thousand_pools(void **state)
{
	struct emu *e;
	struct env v;
	struct resp r;
	char url[4096];
	long clusters = 0, pools = 0;
	int pages = 0;
	json_t *stats, *cl;
	size_t i;

	(void)state;
	e = emu_start((const char *const[]){"--generate", "1000:10", NULL});
	assert_non_null(e);
	memset(&v, 0, sizeof(v));
	v.e = e;
	get_token(&v);
	snprintf(url, sizeof(url),
	    "%s/subscriptions/00000000-0000-0000-0000-000000000001" MCS
	    "/managedClusters?" API,
	    emu_url(e));
	while (url[0] != '\0') {
		const char *next;

		req(&r, "GET", url, v.token, NULL, NULL);
		assert_int_equal(r.status, 200);
		json_array_foreach(json_object_get(r.json, "value"), i, cl)
		{
			clusters++;
			pools += (long)json_array_size(
			    json_object_get(json_object_get(cl, "properties"),
			        "agentPoolProfiles"));
		}
		pages++;
		next = jget(r.json, "nextLink");
		snprintf(url, sizeof(url), "%s", next ? next : "");
		resp_free(&r);
		assert_true(pages <= 20);
	}
	assert_int_equal(clusters, 1000);
	assert_int_equal(pools, 10000);
	assert_int_equal(pages, 10);
	/* One generated name, as documented. */
	arm(&r, e, "GET",
	    "/subscriptions/00000000-0000-0000-0000-000000000001/"
	    "resourceGroups/"
	    "rg-100" MCS "/managedClusters/aks-999/agentPools/pool9",
	    v.token, NULL);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	stats = emu_get(e, "/_armemu/stats");
	assert_int_equal(
	    json_integer_value(json_object_get(stats, "pools_total")), 10000);
	print_message("generated 1000:10 fleet: emulator RSS %lld kB\n",
	    (long long)json_integer_value(json_object_get(stats, "rss_kb")));
	json_decref(stats);
	emu_stop(e);
}

/* ------------------------------------------------------------------ */
/* versions, auto-upgrade channels, clusters from snapshots           */

#define RG_PROD "/subscriptions/" SUB "/resourceGroups/rg-prod"
#define GOLDEN_ID RG_PROD MCS "/snapshots/golden-2026q3"

static json_t *
minor_entry(json_t *body, const char *minor)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(body, "values"), i, e)
	{
		if (strcmp(json_string_value(json_object_get(e, "version")),
		        minor) == 0)
			return e;
	}
	return NULL;
}

static void
test_kubernetes_versions_per_location_with_upgrade_paths(void **state)
{
	struct env v;
	struct resp r;
	json_t *e, *want;

	(void)state;
	env_start(&v, NULL);
	get_token(&v);
	/* The default list holds the fleet's versions; 1.30 is the default
	 * (newest minor but one), 1.32 a preview. */
	arm(&r, v.e, "GET",
	    "/subscriptions/" SUB MCS
	    "/locations/westeurope/kubernetesVersions",
	    v.token, NULL);
	assert_int_equal(r.status, 200);
	e = minor_entry(r.json, "1.30");
	assert_non_null(e);
	assert_true(json_is_true(json_object_get(e, "isDefault")));
	assert_non_null(
	    json_object_get(json_object_get(e, "patchVersions"), "1.30.5"));
	assert_true(json_is_true(
	    json_object_get(minor_entry(r.json, "1.32"), "isPreview")));
	assert_null(json_object_get(minor_entry(r.json, "1.29"), "isDefault"));
	resp_free(&r);

	/* One location's list replaced: the upgrade paths follow AKS's
	 * rule (later patches of the minor, then the next minor's). */
	json_decref(emu_post(v.e, "/_armemu/kubernetes-versions",
	    "{\"location\":\"northeurope\",\"versions\":[\"1.24.9\","
	    "\"1.23.12\",\"1.23.15\",\"1.24.6\",\"1.25.4\",\"1.25.5\","
	    "\"1.26.0\"],\"preview\":[\"1.26\"]}"));
	arm(&r, v.e, "GET",
	    "/subscriptions/" SUB MCS
	    "/locations/NorthEurope/kubernetesVersions",
	    v.token, NULL);
	assert_int_equal(r.status, 200);
	want = json_loads(
	    "{\"values\":["
	    "{\"capabilities\":{\"supportPlan\":[\"KubernetesOfficial\"]},"
	    "\"patchVersions\":{\"1.23.12\":{\"upgrades\":[\"1.23.15\","
	    "\"1.24.6\",\"1.24.9\"]},\"1.23.15\":{\"upgrades\":[\"1.24.6\","
	    "\"1.24.9\"]}},\"version\":\"1.23\"},"
	    "{\"capabilities\":{\"supportPlan\":[\"KubernetesOfficial\"]},"
	    "\"isDefault\":true,\"patchVersions\":{\"1.24.6\":{\"upgrades\":"
	    "[\"1.24.9\",\"1.25.4\",\"1.25.5\"]},\"1.24.9\":{\"upgrades\":"
	    "[\"1.25.4\",\"1.25.5\"]}},\"version\":\"1.24\"},"
	    "{\"capabilities\":{\"supportPlan\":[\"KubernetesOfficial\"]},"
	    "\"patchVersions\":{\"1.25.4\":{\"upgrades\":[\"1.25.5\","
	    "\"1.26.0\"]},\"1.25.5\":{\"upgrades\":[\"1.26.0\"]}},"
	    "\"version\":\"1.25\"},"
	    "{\"capabilities\":{\"supportPlan\":[\"KubernetesOfficial\"]},"
	    "\"isPreview\":true,\"patchVersions\":{\"1.26.0\":{\"upgrades\":"
	    "[]}},\"version\":\"1.26\"}]}",
	    0, NULL);
	assert_non_null(want);
	assert_true(json_equal(want, r.json));
	json_decref(want);
	resp_free(&r);
	/* westeurope keeps the default list. */
	arm(&r, v.e, "GET",
	    "/subscriptions/" SUB MCS
	    "/locations/westeurope/kubernetesVersions",
	    v.token, NULL);
	assert_non_null(minor_entry(r.json, "1.30"));
	resp_free(&r);
	assert_int_equal(
	    emu_counter(v.e, "GET kubernetesVersions.list 200"), 3);
	env_stop(&v);
}

static void
test_agent_pool_put_refuses_unsupported_version_and_skew(void **state)
{
	struct env v;
	struct resp r;

	(void)state;
	env_start(&v, (const char *const[]){"--lro-polls", "0", NULL});
	get_token(&v);
	/* Above the control plane (1.30.5). */
	arm(&r, v.e, "PUT", SYSTEM_POOL_ID, v.token,
	    "{\"properties\":{\"orchestratorVersion\":\"1.31.2\"}}");
	assert_int_equal(r.status, 400);
	assert_string_equal(
	    jget(r.json, "error.code"), "NodePoolMcVersionIncompatible");
	resp_free(&r);
	/* Not offered in westeurope any more. */
	json_decref(emu_post(v.e, "/_armemu/kubernetes-versions",
	    "{\"location\":\"westeurope\",\"versions\":[\"1.30.5\","
	    "\"1.30.9\"]}"));
	arm(&r, v.e, "PUT", SYSTEM_POOL_ID, v.token,
	    "{\"properties\":{\"orchestratorVersion\":\"1.29.12\"}}");
	assert_int_equal(r.status, 400);
	assert_string_equal(
	    jget(r.json, "error.code"), "AgentPoolK8sVersionNotSupported");
	assert_non_null(strstr(jget(r.json, "error.message"), "1.29.12"));
	resp_free(&r);
	arm(&r, v.e, "PUT", SYSTEM_POOL_ID, v.token,
	    "{\"properties\":{\"orchestratorVersion\":\"1.30.9\"}}");
	assert_int_equal(r.status, 200);
	resp_free(&r);
	assert_int_equal(emu_counter(v.e, "PUT agentPools.put 400"), 2);
	env_stop(&v);
}

static void
test_snapshot_of_another_vm_family_is_refused(void **state)
{
	struct env v;
	struct resp r;
	char hdr[1024], url[2048];

	(void)state;
	env_start(&v, (const char *const[]){"--lro-polls", "0", NULL});
	get_token(&v);
	json_decref(emu_post(v.e, "/_armemu/snapshots",
	    "{\"name\":\"esnap\",\"subscription\":\"" SUB "\","
	    "\"resourceGroup\":\"rg-staging\",\"location\":\"westeurope\","
	    "\"properties\":{\"kubernetesVersion\":\"1.30.5\","
	    "\"nodeImageVersion\":\"AKSUbuntu-2204gen2containerd-202612.01.0\","
	    "\"vmSize\":\"Standard_E4s_v5\"}}"));
	/* upgradeNodeImageVersion with AKSSnapshotId */
	snprintf(hdr, sizeof(hdr), "AKSSnapshotId: %s%s/snapshots/esnap",
	    RG_STAGING, MCS);
	snprintf(url, sizeof(url), "%s%s/upgradeNodeImageVersion?" API,
	    emu_url(v.e), SYSTEM_POOL_ID);
	req(&r, "POST", url, v.token, "", (const char *const[]){hdr, NULL});
	assert_int_equal(r.status, 400);
	assert_non_null(
	    strstr(jget(r.json, "error.message"), "Standard_E4s_v5"));
	resp_free(&r);
	/* agent pool upgrade (PUT with creationData) */
	arm(&r, v.e, "PUT", SYSTEM_POOL_ID, v.token,
	    "{\"properties\":{\"creationData\":{\"sourceResourceId\":"
	    "\"" RG_STAGING MCS "/snapshots/esnap\"}}}");
	assert_int_equal(r.status, 400);
	resp_free(&r);
	/* cluster create */
	arm(&r, v.e, "PUT", RG_STAGING MCS "/managedClusters/fromesnap",
	    v.token,
	    "{\"location\":\"westeurope\",\"properties\":{\"dnsPrefix\":\"x\","
	    "\"agentPoolProfiles\":[{\"name\":\"system\",\"mode\":\"System\","
	    "\"count\":1,\"vmSize\":\"Standard_D4s_v5\",\"creationData\":{"
	    "\"sourceResourceId\":\"" RG_STAGING MCS "/snapshots/esnap\"}}]}}");
	assert_int_equal(r.status, 400);
	resp_free(&r);
	arm(&r, v.e, "GET", SYSTEM_POOL_ID, v.token, NULL);
	assert_string_equal(jget(r.json, "properties.nodeImageVersion"),
	    "AKSUbuntu-2204gen2containerd-202611.01.0");
	resp_free(&r);
	env_stop(&v);
}

static void
test_cluster_from_snapshot_defaults_node_os_channel_to_node_image(void **state)
{
	struct env v;
	struct resp r;

	(void)state;
	env_start(&v, (const char *const[]){"--lro-polls", "0", NULL});
	get_token(&v);
	/* Old clusters of the fleet file have no autoUpgradeProfile. */
	arm(&r, v.e, "GET", STAGING, v.token, NULL);
	assert_null(json_object_get(
	    json_object_get(r.json, "properties"), "autoUpgradeProfile"));
	resp_free(&r);
	/* A new cluster from the golden snapshot, channels not given. */
	arm(&r, v.e, "PUT", RG_PROD MCS "/managedClusters/aks-new", v.token,
	    "{\"location\":\"northeurope\",\"properties\":{"
	    "\"kubernetesVersion\":"
	    "\"1.29.9\",\"dnsPrefix\":\"aks-new\",\"agentPoolProfiles\":[{"
	    "\"name\":\"system\",\"mode\":\"System\",\"count\":2,\"vmSize\":"
	    "\"Standard_D4s_v5\",\"creationData\":{\"sourceResourceId\":"
	    "\"" GOLDEN_ID "\"}}]}}");
	assert_int_equal(r.status, 201);
	resp_free(&r);
	arm(&r, v.e, "GET", RG_PROD MCS "/managedClusters/aks-new", v.token,
	    NULL);
	assert_int_equal(r.status, 200);
	assert_string_equal(
	    jget(r.json, "properties.autoUpgradeProfile.nodeOSUpgradeChannel"),
	    "NodeImage");
	assert_null(
	    jget(r.json, "properties.autoUpgradeProfile.upgradeChannel"));
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_array_get(
	            json_object_get(json_object_get(r.json, "properties"),
	                "agentPoolProfiles"),
	            0),
	        "nodeImageVersion")),
	    "AKSUbuntu-2204gen2containerd-202609.30.0");
	resp_free(&r);
	/* Pinned: the channel given in the body is kept. */
	arm(&r, v.e, "PUT", RG_PROD MCS "/managedClusters/aks-pinned", v.token,
	    "{\"location\":\"northeurope\",\"properties\":{"
	    "\"kubernetesVersion\":"
	    "\"1.29.9\",\"dnsPrefix\":\"aks-pinned\",\"autoUpgradeProfile\":{"
	    "\"nodeOSUpgradeChannel\":\"None\"},\"agentPoolProfiles\":[{"
	    "\"name\":\"system\",\"mode\":\"System\",\"count\":2,\"vmSize\":"
	    "\"Standard_D4s_v5\",\"creationData\":{\"sourceResourceId\":"
	    "\"" GOLDEN_ID "\"}}]}}");
	assert_int_equal(r.status, 201);
	assert_string_equal(
	    jget(r.json, "properties.autoUpgradeProfile.nodeOSUpgradeChannel"),
	    "None");
	resp_free(&r);
	/* A version northeurope does not offer; a bad channel. */
	arm(&r, v.e, "PUT", RG_PROD MCS "/managedClusters/aks-old", v.token,
	    "{\"location\":\"northeurope\",\"properties\":{"
	    "\"kubernetesVersion\":"
	    "\"1.27.3\",\"dnsPrefix\":\"aks-old\",\"agentPoolProfiles\":[{"
	    "\"name\":\"system\",\"mode\":\"System\",\"count\":1}]}}");
	assert_int_equal(r.status, 400);
	assert_string_equal(
	    jget(r.json, "error.code"), "K8sVersionNotSupported");
	resp_free(&r);
	arm(&r, v.e, "PUT", RG_PROD MCS "/managedClusters/aks-bad", v.token,
	    "{\"location\":\"northeurope\",\"properties\":{\"dnsPrefix\":\"b\","
	    "\"autoUpgradeProfile\":{\"nodeOSUpgradeChannel\":\"Weekly\"},"
	    "\"agentPoolProfiles\":[{\"name\":\"system\",\"count\":1}]}}");
	assert_int_equal(r.status, 400);
	resp_free(&r);
	assert_int_equal(emu_counter(v.e, "PUT managedClusters.put 201"), 2);
	env_stop(&v);
}

static void
test_weekly_auto_upgrade_reimages_only_channel_clusters(void **state)
{
	struct env v;
	struct resp r;
	json_t *j;

	(void)state;
	env_start(&v, NULL);
	get_token(&v);
	json_decref(emu_post(v.e, "/_armemu/clusters/auto-upgrade-profile",
	    "{\"cluster\":\"aks-prod\",\"nodeOSUpgradeChannel\":"
	    "\"NodeImage\"}"));
	json_decref(emu_post(v.e, "/_armemu/clusters/auto-upgrade-profile",
	    "{\"cluster\":\"aks-edge\",\"upgradeChannel\":\"patch\","
	    "\"nodeOSUpgradeChannel\":\"None\"}"));
	json_decref(emu_post(v.e, "/_armemu/clusters/auto-upgrade-profile",
	    "{\"cluster\":\"aks-staging\",\"nodeOSUpgradeChannel\":"
	    "\"Unmanaged\"}"));
	arm(&r, v.e, "GET",
	    "/subscriptions/" SUB "/resourceGroups/rg-prod" MCS
	    "/managedClusters/aks-edge",
	    v.token, NULL);
	assert_string_equal(
	    jget(r.json, "properties.autoUpgradeProfile.upgradeChannel"),
	    "patch");
	resp_free(&r);
	j = emu_post(v.e, "/_armemu/auto-upgrade", "{}");
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "released")), 5);
	assert_int_equal(json_integer_value(json_object_get(j, "reimaged")), 3);
	json_decref(j);
	/* NodeImage: the newest image. */
	arm(&r, v.e, "GET",
	    "/subscriptions/" SUB "/resourceGroups/rg-prod" MCS
	    "/managedClusters/aks-prod/agentPools/batch",
	    v.token, NULL);
	assert_string_equal(jget(r.json, "properties.nodeImageVersion"),
	    "AKSUbuntu-2204gen2containerd-202610.21.0");
	resp_free(&r);
	/* upgradeChannel patch: newest patch of the minor, and the image. */
	arm(&r, v.e, "GET",
	    "/subscriptions/" SUB "/resourceGroups/rg-prod" MCS
	    "/managedClusters/aks-edge/agentPools/system",
	    v.token, NULL);
	assert_string_equal(
	    jget(r.json, "properties.currentOrchestratorVersion"), "1.31.5");
	assert_string_equal(jget(r.json, "properties.nodeImageVersion"),
	    "AKSUbuntu-2204gen2containerd-202611.11.0");
	resp_free(&r);
	/* Unmanaged: the image stays; the new one is only released. */
	arm(&r, v.e, "GET", SYSTEM_POOL_ID, v.token, NULL);
	assert_string_equal(jget(r.json, "properties.nodeImageVersion"),
	    "AKSUbuntu-2204gen2containerd-202611.01.0");
	resp_free(&r);
	j = emu_get(v.e, "/_armemu/state");
	{
		json_t *p;
		size_t i;
		int seen = 0;

		json_array_foreach(json_object_get(j, "pools"), i, p)
		{
			if (strcmp(json_string_value(json_object_get(p, "id")),
			        SYSTEM_POOL_ID) == 0) {
				assert_string_equal(
				    json_string_value(json_object_get(
				        p, "latestNodeImageVersion")),
				    "AKSUbuntu-2204gen2containerd-202611.08.0");
				seen = 1;
			}
		}
		assert_true(seen);
	}
	json_decref(j);
	env_stop(&v);
}

/* ------------------------------------------------------------------ */
/* fidelity against the official examples                             */

static json_t *known_names;

static void
collect_names(json_t *j)
{
	const char *k;
	json_t *x;
	size_t i;

	if (json_is_object(j)) {
		json_object_foreach(j, k, x)
		{
			json_object_set_new(known_names, k, json_true());
			collect_names(x);
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, x) collect_names(x);
	}
}

static void
collect_backticked(const char *path)
{
	FILE *fp = fopen(path, "r");
	char line[4096], *p, *q;

	if (fp == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), fp) != NULL) {
		for (p = strchr(line, '`'); p != NULL; p = strchr(q + 1, '`')) {
			q = strchr(p + 1, '`');
			if (q == NULL)
				break;
			*q = '\0';
			if (strspn(p + 1,
			        "abcdefghijklmnopqrstuvwxyz"
			        "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == strlen(p + 1))
				json_object_set_new(
				    known_names, p + 1, json_true());
			*q = '`';
		}
	}
	fclose(fp);
}

static int
type_class(json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_TRUE:
	case JSON_FALSE:
		return JSON_TRUE;
	default:
		return (int)json_typeof(j);
	}
}

/*
 * Every field of ${want} is in ${got} with the same JSON type, and ${got}
 * has no field no official document knows.  Count the differences.
 */
static int
shape_diff(json_t *want, json_t *got, const char *where, const char *file)
{
	const char *k;
	json_t *x;
	int bad = 0;
	char sub[1024];
	size_t i;

	if (type_class(want) != type_class(got)) {
		print_message("%s: %s: type differs\n", file, where);
		return 1;
	}
	if (json_is_object(want) && strstr(where, "patchVersions") != NULL &&
	    strstr(where, "patchVersions.") == NULL) {
		/* A map keyed by data (x.y.z): not empty, and every value
		 * has the shape of the example's first one. */
		json_t *w0 = NULL;
		const char *k0;

		json_object_foreach(want, k0, w0) break;
		if (json_object_size(got) == 0 && w0 != NULL) {
			print_message("%s: %s: empty map\n", file, where);
			return 1;
		}
		json_object_foreach(got, k, x)
		{
			snprintf(sub, sizeof(sub), "%s.%s", where, k);
			if (w0 != NULL)
				bad += shape_diff(w0, x, sub, file);
		}
		return bad;
	}
	if (json_is_object(want)) {
		json_object_foreach(want, k, x)
		{
			snprintf(sub, sizeof(sub), "%s.%s", where, k);
			if (json_object_get(got, k) == NULL) {
				print_message("%s: %s missing\n", file, sub);
				bad++;
				continue;
			}
			bad +=
			    shape_diff(x, json_object_get(got, k), sub, file);
		}
		if (strstr(where, "tags") != NULL ||
		    strstr(where, "nodeLabels") != NULL)
			return bad;
		json_object_foreach(got, k, x)
		{
			if (json_object_get(known_names, k) == NULL) {
				print_message("%s: %s.%s is not an official "
				              "field\n",
				    file, where, k);
				bad++;
			}
		}
	} else if (json_is_array(want) && json_array_size(want) > 0) {
		if (json_array_size(got) == 0) {
			print_message("%s: %s: empty array\n", file, where);
			return 1;
		}
		json_array_foreach(want, i, x)
		{
			size_t gi = i < json_array_size(got)
			    ? i
			    : json_array_size(got) - 1;

			snprintf(sub, sizeof(sub), "%s[%zu]", where, i);
			bad +=
			    shape_diff(x, json_array_get(got, gi), sub, file);
		}
	}
	return bad;
}

static const char *
p_str(json_t *params, const char *k)
{
	return json_string_value(json_object_get(params, k));
}

/* The fleet each example needs, from the example's own parameters. */
static char *
example_fleet(json_t *ex, const char *op)
{
	json_t *params = json_object_get(ex, "parameters");
	json_t *resp200 = json_object_get(
	    json_object_get(json_object_get(ex, "responses"), "200"), "body");
	const char *sub = p_str(params, "subscriptionId");
	const char *rg = p_str(params, "resourceGroupName");
	const char *rn = p_str(params, "resourceName");
	const char *ap = p_str(params, "agentPoolName");
	json_t *fleet, *clusters = json_array(), *snaps = json_array(), *pools;
	char *out;

	if (rg == NULL)
		rg = "rg1";
	if (strncmp(op, "Snapshots_", 10) == 0) {
		/* The source pool of the example's snapshot. */
		json_t *body = json_object_get(
		    json_object_get(params, "parameters"), "properties");
		const char *loc = json_string_value(json_object_get(
		    json_object_get(params, "parameters"), "location"));

		(void)body;
		json_array_append_new(clusters,
		    json_pack("{s:s,s:s,s:s,s:[{s:s,s:s,s:s,s:s}]}", "name",
		        "cluster1", "location", loc ? loc : "westus",
		        "kubernetesVersion", "1.20.5", "agentPools", "name",
		        "pool0", "vmSize", "Standard_D2s_v3",
		        "nodeImageVersion",
		        "AKSUbuntu-1804gen2containerd-2021.09.11", "osSku",
		        "Ubuntu"));
		if (strcmp(op, "Snapshots_CreateOrUpdate") != 0) {
			json_t *s = NULL;

			if (strcmp(op, "Snapshots_Delete") == 0) {
				s = json_pack("{s:s,s:s}", "name", rn,
				    "location", "westus");
			} else if (strncmp(op, "Snapshots_List", 14) == 0) {
				s = json_deep_copy(json_array_get(
				    json_object_get(
				        json_object_get(
				            json_object_get(json_object_get(ex,
				                                "responses"),
				                "200"),
				            "body"),
				        "value"),
				    0));
			} else {
				s = json_deep_copy(resp200);
			}
			json_object_set_new(
			    s, "subscription", json_string(sub));
			json_object_set_new(
			    s, "resourceGroup", json_string(rg));
			json_array_append_new(snaps, s);
		}
	} else {
		const char *loc = "location1";

		pools = json_array();
		if (ap != NULL && strcmp(op, "AgentPools_CreateOrUpdate") != 0)
			json_array_append_new(pools,
			    json_pack("{s:s,s:s,s:s,s:s}", "name", ap, "vmSize",
			        "Standard_DS2_v2", "nodeImageVersion",
			        "AKSUbuntu-1604-2020.03.11",
			        "latestNodeImageVersion",
			        "AKSUbuntu-1604-2020.04.01"));
		else
			json_array_append_new(pools,
			    json_pack("{s:s,s:s}", "name", "nodepool1",
			        "vmSize", "Standard_DS2_v2"));
		if (strcmp(op, "ManagedClusters_CreateOrUpdate") != 0)
			json_array_append_new(clusters,
			    json_pack("{s:s,s:s,s:s,s:o,s:{s:s,s:s}}", "name",
			        rn ? rn : "clustername1", "location", loc,
			        "kubernetesVersion", "1.9.6", "agentPools",
			        pools, "tags", "archv2", "", "tier",
			        "production"));
		else
			json_decref(pools);
		/* The snapshot the "from snapshot" examples name. */
		json_array_append_new(snaps,
		    json_pack("{s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s,s:b}}", "name",
		        "snapshot1", "subscription", sub, "resourceGroup",
		        "rg1", "location", loc, "properties",
		        "kubernetesVersion", "1.9.6", "nodeImageVersion",
		        "AKSUbuntu-1604-2020.03.11", "vmSize",
		        "Standard_DS2_v2", "enableFIPS", 1));
	}
	fleet = json_pack("{s:[{s:s,s:[{s:s,s:s,s:o}]}],s:o}", "subscriptions",
	    "id", sub, "resourceGroups", "name", rg, "location", "westus",
	    "clusters", clusters, "snapshots", snaps);
	if (strcmp(op, "ManagedClusters_ListKubernetesVersions") == 0) {
		/* The location offers the versions the example lists. */
		json_t *vers = json_array(), *prev = json_array(), *e;
		const char *pk;
		json_t *pv;
		size_t i;

		json_array_foreach(json_object_get(resp200, "values"), i, e)
		{
			json_object_foreach(
			    json_object_get(e, "patchVersions"), pk, pv)
			    json_array_append_new(vers, json_string(pk));
			if (json_is_true(json_object_get(e, "isPreview")))
				json_array_append(
				    prev, json_object_get(e, "version"));
		}
		json_object_set_new(fleet, "kubernetesVersions",
		    json_pack("{s:{s:o,s:o}}", p_str(params, "location"),
		        "versions", vers, "preview", prev));
	}
	out = json_dumps(fleet, JSON_INDENT(1));
	json_decref(fleet);
	return out;
}

static int
status_rank(const char *code)
{
	static const char *order[] = {"201", "202", "200", "204"};
	int i;

	for (i = 0; i < 4; i++)
		if (strcmp(order[i], code) == 0)
			return i;
	return 9;
}

/* Bring the operation a response started to its end. */
static void
settle(struct env *v, struct resp *r)
{
	const char *a = resp_header(r, "Azure-AsyncOperation");
	char url[4096], final[32];

	if (a == NULL)
		return;
	snprintf(url, sizeof(url), "%s", a);
	poll_async(v, url, final, sizeof(final));
	assert_string_equal(final, "Succeeded");
}

static int
check_example(const char *dir, const char *file)
{
	char path[4096], fleetpath[4096], url[4096], opath[2048];
	json_t *ex, *params, *responses, *body, *x;
	const char *op, *sub, *rg, *rn, *ap, *method = "GET", *api, *code;
	const char *codes[4];
	int ncodes = 0, i, j, bad = 0;
	struct env v;
	char *fleet, *reqbody = NULL;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	ex = json_load_file(path, 0, NULL);
	assert_non_null(ex);
	collect_names(ex);
	op = json_string_value(json_object_get(ex, "operationId"));
	params = json_object_get(ex, "parameters");
	responses = json_object_get(ex, "responses");
	sub = p_str(params, "subscriptionId");
	rg = p_str(params, "resourceGroupName");
	rn = p_str(params, "resourceName");
	ap = p_str(params, "agentPoolName");
	api = p_str(params, "api-version");
	body = json_object_get(params, "parameters");
	if (body != NULL)
		reqbody = json_dumps(body, JSON_COMPACT);

	if (strcmp(op, "Snapshots_List") == 0) {
		snprintf(opath, sizeof(opath), "/subscriptions/%s%s/snapshots",
		    sub, MCS);
	} else if (strcmp(op, "Snapshots_ListByResourceGroup") == 0) {
		snprintf(opath, sizeof(opath),
		    "/subscriptions/%s/resourceGroups/%s%s/snapshots", sub, rg,
		    MCS);
	} else if (strncmp(op, "Snapshots_", 10) == 0) {
		snprintf(opath, sizeof(opath),
		    "/subscriptions/%s/resourceGroups/%s%s/snapshots/%s", sub,
		    rg, MCS, rn);
		if (strcmp(op, "Snapshots_CreateOrUpdate") == 0)
			method = "PUT";
		else if (strcmp(op, "Snapshots_UpdateTags") == 0)
			method = "PATCH";
		else if (strcmp(op, "Snapshots_Delete") == 0)
			method = "DELETE";
	} else if (strcmp(op, "ManagedClusters_ListKubernetesVersions") == 0) {
		snprintf(opath, sizeof(opath),
		    "/subscriptions/%s%s/locations/%s/kubernetesVersions", sub,
		    MCS, p_str(params, "location"));
	} else if (strcmp(op, "ManagedClusters_List") == 0) {
		snprintf(opath, sizeof(opath),
		    "/subscriptions/%s%s/managedClusters", sub, MCS);
	} else if (strncmp(op, "ManagedClusters_", 16) == 0) {
		snprintf(opath, sizeof(opath),
		    "/subscriptions/%s/resourceGroups/%s%s/managedClusters/%s",
		    sub, rg, MCS, rn);
		if (strcmp(op, "ManagedClusters_CreateOrUpdate") == 0)
			method = "PUT";
	} else if (strcmp(op, "AgentPools_List") == 0) {
		snprintf(opath, sizeof(opath),
		    "/subscriptions/%s/resourceGroups/%s%s/managedClusters/%s/"
		    "agentPools",
		    sub, rg, MCS, rn);
	} else if (strncmp(op, "AgentPools_", 11) == 0) {
		snprintf(opath, sizeof(opath),
		    "/subscriptions/%s/resourceGroups/%s%s/managedClusters/%s/"
		    "agentPools/%s%s",
		    sub, rg, MCS, rn, ap,
		    strcmp(op, "AgentPools_UpgradeNodeImageVersion") == 0
		        ? "/upgradeNodeImageVersion"
		        : "");
		if (strcmp(op, "AgentPools_CreateOrUpdate") == 0)
			method = "PUT";
		else if (strcmp(op, "AgentPools_Delete") == 0)
			method = "DELETE";
		else if (strcmp(op, "AgentPools_UpgradeNodeImageVersion") == 0)
			method = "POST";
	} else if (strcmp(op, "OperationStatusResult_Get") == 0) {
		snprintf(opath, sizeof(opath),
		    "/subscriptions/%s/resourceGroups/%s%s/managedClusters/%s/"
		    "operations/%s",
		    sub, rg, MCS, rn, p_str(params, "operationId"));
	} else {
		print_message(
		    "%s: operation %s has no request mapping\n", file, op);
		json_decref(ex);
		free(reqbody);
		return 1;
	}

	fleet = example_fleet(ex, op);
	snprintf(fleetpath, sizeof(fleetpath), "/tmp/armemu-fidelity-%d.json",
	    (int)getpid());
	assert_int_equal(harness_write_file(fleetpath, fleet, 0600), 0);
	free(fleet);
	memset(&v, 0, sizeof(v));
	v.e = emu_start((const char *const[]){
	    "--fleet", fleetpath, "--lro-polls", "1", NULL});
	assert_non_null(v.e);
	get_token(&v);
	if (strcmp(op, "OperationStatusResult_Get") == 0) {
		char busy[512];

		snprintf(busy, sizeof(busy),
		    "{\"resourceGroup\":\"%s\",\"cluster\":\"%s\",\"pool\":"
		    "\"nodepool1\",\"busy\":true,\"operationId\":\"%s\"}",
		    rg, rn, p_str(params, "operationId"));
		json_decref(emu_post(v.e, "/_armemu/pools/busy", busy));
	}

	/* The expected answers, in the order a fresh state gives them. */
	json_object_foreach(responses, code, x)
	{
		(void)x;
		if (ncodes < 4)
			codes[ncodes++] = code;
	}
	for (i = 0; i < ncodes; i++)
		for (j = i + 1; j < ncodes; j++)
			if (status_rank(codes[j]) < status_rank(codes[i])) {
				const char *t = codes[i];

				codes[i] = codes[j];
				codes[j] = t;
			}
	for (i = 0; i < ncodes; i++) {
		json_t *want = json_object_get(responses, codes[i]);
		json_t *hdrs = json_object_get(want, "headers");
		const char *hk;
		json_t *hv;
		struct resp r;

		snprintf(url, sizeof(url), "%s%s?api-version=%s", emu_url(v.e),
		    opath, api);
		req(&r, method, url, v.token, reqbody, NULL);
		if (r.status != atol(codes[i])) {
			print_message("%s: expected %s, got %ld: %s\n", file,
			    codes[i], r.status, r.body ? r.body : "");
			bad++;
		}
		if (json_object_get(want, "body") != NULL) {
			if (r.json == NULL) {
				print_message(
				    "%s: %s: no JSON body\n", file, codes[i]);
				bad++;
			} else {
				bad += shape_diff(json_object_get(want, "body"),
				    r.json, "body", file);
			}
		}
		json_object_foreach(hdrs, hk, hv)
		{
			(void)hv;
			if (resp_header(&r, hk) == NULL) {
				print_message(
				    "%s: header %s missing\n", file, hk);
				bad++;
			}
		}
		if (resp_header(&r, "x-ms-request-id") == NULL ||
		    resp_header(&r, "x-ms-correlation-request-id") == NULL)
			bad++;
		settle(&v, &r);
		if (strcmp(op, "AgentPools_Delete") == 0) {
			/* Location polling: 202 while running, then 204. */
			const char *loc = resp_header(&r, "Location");
			char lurl[4096];
			int k;

			if (loc != NULL) {
				snprintf(lurl, sizeof(lurl), "%s", loc);
				for (k = 0; k < 10; k++) {
					struct resp p;
					long st;

					req(&p, "GET", lurl, v.token, NULL,
					    NULL);
					st = p.status;
					resp_free(&p);
					if (st != 202)
						break;
				}
			}
		}
		resp_free(&r);
	}
	print_message(
	    "fidelity %-40s %s: %s\n", file, op, bad ? "DIFFERS" : "same");
	emu_stop(v.e);
	unlink(fleetpath);
	free(reqbody);
	json_decref(ex);
	return bad;
}

static void
test_fidelity_official_examples(void **state)
{
	const char *base = getenv("AZURE_API_DIR");
	char dir[2048], sw[4096];
	const char *files[64];
	char *names[64];
	int nfiles = 0, i, bad = 0;
	DIR *d;
	struct dirent *de;
	json_t *slice;

	(void)state;
	if (base == NULL || *base == '\0')
		base = "tests/fixtures/azure-api";
	snprintf(dir, sizeof(dir), "%s/examples", base);
	d = opendir(dir);
	if (d == NULL)
		fail_msg("%s: %s (run from the repository root, or set "
		         "AZURE_API_DIR)",
		    dir, strerror(errno));
	known_names = json_object();
	/* Field names the swagger slices know are official too. */
	snprintf(
	    sw, sizeof(sw), "%s/swagger/snapshots-slice-2026-08-01.json", base);
	slice = json_load_file(sw, 0, NULL);
	if (slice == NULL)
		fail_msg("%s: missing or not JSON", sw);
	collect_names(slice);
	json_decref(slice);
	snprintf(sw, sizeof(sw), "%s/swagger/common-types-v6-slice.json", base);
	slice = json_load_file(sw, 0, NULL);
	if (slice == NULL)
		fail_msg("%s: missing or not JSON", sw);
	collect_names(slice);
	json_decref(slice);
	/* And the field names NOTES.md documents (`osSKU` on pools). */
	snprintf(sw, sizeof(sw), "%s/NOTES.md", base);
	collect_backticked(sw);
	/* First pass: collect every example's names, then check each. */
	while ((de = readdir(d)) != NULL && nfiles < 60) {
		size_t n = strlen(de->d_name);

		if (n > 5 && strcmp(de->d_name + n - 5, ".json") == 0)
			names[nfiles] = strdup(de->d_name);
		else if (de->d_name[0] != '.' &&
		    strchr(de->d_name, '.') == NULL) {
			/* a version folder, e.g. 2026-07-02-preview */
			DIR *d2;
			struct dirent *de2;
			char sub[2400];

			snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
			d2 = opendir(sub);
			while (d2 != NULL && (de2 = readdir(d2)) != NULL &&
			    nfiles < 60) {
				size_t n2 = strlen(de2->d_name);

				if (n2 > 5 &&
				    strcmp(de2->d_name + n2 - 5, ".json") ==
				        0) {
					char *p = NULL;

					assert_true(
					    asprintf(&p, "%s/%s", de->d_name,
					        de2->d_name) > 0);
					names[nfiles] = p;
					files[nfiles] = p;
					nfiles++;
				}
			}
			if (d2 != NULL)
				closedir(d2);
			continue;
		} else
			continue;
		files[nfiles] = names[nfiles];
		nfiles++;
	}
	closedir(d);
	for (i = 0; i < nfiles; i++) {
		char p[8192];
		json_t *ex;

		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		ex = json_load_file(p, 0, NULL);
		collect_names(ex);
		json_decref(ex);
	}
	assert_true(nfiles >= 15);
	for (i = 0; i < nfiles; i++)
		bad += check_example(dir, files[i]);
	for (i = 0; i < nfiles; i++)
		free(names[i]);
	json_decref(known_names);
	known_names = NULL;
	assert_int_equal(bad, 0);
}

/* ------------------------------------------------------------------ */
/* the harness itself                                                 */

static void
test_harness_run_captures_large_output_and_exit_code(void **state)
{
	struct run_result r;
	const char *argv[] = {"sh", "-c",
	    "head -c 300000 /dev/zero | tr '\\0' o; "
	    "head -c 300000 /dev/zero | tr '\\0' e >&2; "
	    "printf \"$HARNESS_X\"; exit 3",
	    NULL};
	const char *env[] = {"HARNESS_X=set", NULL};

	(void)state;
	assert_int_equal(harness_run(&r, argv, env), 0);
	assert_int_equal(r.exit_code, 3);
	assert_int_equal(strlen(r.out), 300003);
	assert_int_equal(strlen(r.err), 300000);
	assert_string_equal(r.out + 300000, "set");
	run_result_free(&r);
}

/*
 * The fixture every e2e test uses: harness_new makes the directory, the
 * emulator and the configuration; harness_aksnap runs aksnap with it and
 * the fixture's environment, in the foreground or the background; and
 * harness_free leaves nothing behind.
 */
static void
test_harness_fixture_runs_aksnap_and_cleans_up(void **state)
{
	static const char *const args[] = {
	    "--fleet", "tests/armemu/fleet-demo.json", NULL};
	struct harness *h = harness_new(args, NULL);
	struct harness_bg bg;
	struct run_result r;
	char *dir, want[4200];
	struct stat st;
	long rss = 0;

	(void)state;
	assert_non_null(h);
	assert_non_null(h->emu);
	snprintf(want, sizeof(want), "%s/aksnap.ini", h->dir);
	assert_string_equal(h->config, want);
	snprintf(want, sizeof(want), "%s/aksnap.db", h->dir);
	assert_string_equal(h->store, want);
	assert_int_equal(stat(h->config, &st), 0);

	/* The fixture's environment reaches aksnap; the last value wins. */
	assert_int_equal(harness_setenv(h, "AKSNAP_CONFIG=/nonexistent"), 0);
	assert_int_equal(harness_setenv(h, "AKSNAP_CONFIG=/nonexistent2"), 0);
	{
		char *config = h->config; /* no -c: AKSNAP_CONFIG decides */

		h->config = NULL;
		assert_int_equal(
		    harness_aksnap(h, &r, "config", "check", NULL), 0);
		h->config = config;
	}
	harness_expect_exit(&r, 2);
	harness_expect_in(r.err, "/nonexistent2");
	run_result_free(&r);

	/* In the background: exit code, stdout and the peak RSS. */
	assert_int_equal(harness_aksnap_start(h, &bg, "version", NULL), 0);
	assert_true(bg.pid > 0);
	assert_int_equal(harness_aksnap_wait(&bg, &r, &rss), 0);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "aksnap ");
	assert_true(rss > 0);
	assert_int_equal(stat(bg.out, &st), -1); /* its files are gone */
	run_result_free(&r);

	dir = strdup(h->dir);
	assert_non_null(dir);
	harness_free(h);
	assert_int_equal(stat(dir, &st), -1);
	free(dir);
}

static void
test_harness_config_points_at_the_emulator(void **state)
{
	struct env v;
	char *ini, *text = NULL, secret[4096];
	struct stat st;
	FILE *fp;
	long n;

	(void)state;
	env_start(&v, NULL);
	ini = harness_config(
	    v.dir, v.e, "[pool:p1]\nresource_group = rg-staging\n");
	assert_non_null(ini);
	fp = fopen(ini, "r");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	text = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(text, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	assert_non_null(strstr(text, emu_url(v.e)));
	assert_non_null(strstr(text, "client_id = " HARNESS_CLIENT_ID));
	assert_non_null(strstr(text, "[pool:p1]"));
	snprintf(secret, sizeof(secret), "%s/secret", v.dir);
	assert_int_equal(stat(secret, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	free(text);
	free(ini);
	env_stop(&v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_token_secret_grant_issues_expiring_bearer),
	    cmocka_unit_test(test_token_certificate_assertion_is_verified),
	    cmocka_unit_test(test_token_workload_identity_matches_file),
	    cmocka_unit_test(test_imds_requires_metadata_header),
	    cmocka_unit_test(
	        test_arm_rejects_missing_invalid_and_expired_tokens),
	    cmocka_unit_test(test_arm_requires_api_version),
	    cmocka_unit_test(test_cluster_get_shape_headers_and_404s),
	    cmocka_unit_test(test_snapshot_put_get_patch_list_delete),
	    cmocka_unit_test(
	        test_snapshot_put_validates_location_source_and_name),
	    cmocka_unit_test(test_busy_pool_answers_409_operation_not_allowed),
	    cmocka_unit_test(test_agent_pool_put_from_snapshot_runs_lro),
	    cmocka_unit_test(test_lro_fail_fault_ends_operation_failed),
	    cmocka_unit_test(test_fault_put_empty_and_put_other_create_nothing),
	    cmocka_unit_test(
	        test_fault_delete_noop_and_patch_noop_change_nothing),
	    cmocka_unit_test(test_fault_lro_noop_succeeds_and_changes_nothing),
	    cmocka_unit_test(test_snapshot_put_checks_snapshot_type),
	    cmocka_unit_test(test_upgrade_node_image_honours_snapshot_header),
	    cmocka_unit_test(
	        test_fault_status_answers_with_retry_after_then_clears),
	    cmocka_unit_test(test_fault_latency_delays_the_answer),
	    cmocka_unit_test(test_fault_drop_and_garbage),
	    cmocka_unit_test(test_fault_probability_hits_some),
	    cmocka_unit_test(test_release_and_clock_change_what_arm_returns),
	    cmocka_unit_test(test_counters_and_request_log_and_reset),
	    cmocka_unit_test(test_tls_is_verified_against_the_test_ca),
	    cmocka_unit_test(test_concurrent_requests_overlap_under_latency),
	    cmocka_unit_test(test_generated_fleet_serves_ten_thousand_pools),
	    cmocka_unit_test(
	        test_kubernetes_versions_per_location_with_upgrade_paths),
	    cmocka_unit_test(
	        test_agent_pool_put_refuses_unsupported_version_and_skew),
	    cmocka_unit_test(test_snapshot_of_another_vm_family_is_refused),
	    cmocka_unit_test(
	        test_cluster_from_snapshot_defaults_node_os_channel_to_node_image),
	    cmocka_unit_test(
	        test_weekly_auto_upgrade_reimages_only_channel_clusters),
	    cmocka_unit_test(test_fidelity_official_examples),
	    cmocka_unit_test(
	        test_harness_run_captures_large_output_and_exit_code),
	    cmocka_unit_test(test_harness_config_points_at_the_emulator),
	    cmocka_unit_test(test_harness_fixture_runs_aksnap_and_cleans_up),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
