/*
 * token.c -- bearer tokens for ARM from five sources behind one interface.
 *
 * A provider is built once from the inputs config/env.c resolved from the
 * configuration and the environment (this file calls no getenv).  Each
 * source is one function that performs one acquisition and returns a
 * malloc'd token with its absolute expiry:
 *
 *   client secret       POST the v2.0 token endpoint, client_secret=...
 *   client certificate  the same with an RS256 client assertion JWT that
 *                       we sign with libcrypto (token_build_assertion)
 *   workload identity   the same with the federated token file as the
 *                       assertion, read afresh every time (it rotates)
 *   managed identity    GET IMDS with "Metadata: true", IMDS's own retry
 *                       rules (404, 429, 5xx retried; other 4xx final)
 *   Azure CLI           `az account get-access-token ... -o json`, run
 *                       with posix_spawnp (no shell), stdout capped
 *
 * token_get caches the token for the run and refreshes it when under two
 * minutes remain.  `auto` picks the first source whose settings are present
 * (secret, certificate, workload identity), else probes IMDS with short
 * timeouts, else falls back to the CLI when `az` is on PATH.
 *
 * Secrets (the client secret, assertions, federated tokens, the access
 * token) are wiped before their memory is freed, are listed in every
 * request's redact[] so that -vv traces blank them, and never appear in a
 * log line: AAD and IMDS errors are reported by their `error` and the first
 * sentence of `error_description`.
 */
#include "job/azure/token.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "job/azure/http.h"
#include "job/base/exit.h"
#include "job/base/limits.h"
#include "job/base/log.h"
#include "job/base/util.h"

extern char **environ;

#define DEFAULT_AUTHORITY "https://login.microsoftonline.com"
#define DEFAULT_IMDS "http://169.254.169.254"
#define SECRET_MAX (64 * 1024)
#define PEM_MAX (1024 * 1024)
#define FEDERATED_MAX (64 * 1024)
#define CLI_OUT_MAX (64 * 1024)
#define CLI_ERR_MAX (4 * 1024)
#define CLI_TIMEOUT_MS 60000
#define ASSERTION_LIFETIME 600
#define DESC_MAX 200
#define LOG_CTX "token"

struct token_provider {
	enum auth_kind kind; /* AUTH_AUTO until auto has chosen */
	struct http_client *http; /* owned: AAD and IMDS only */
	char tenant[128];
	char client_id[128];
	char object_id[128];
	char msi_res_id[LIMIT_ARM_ID];
	char secret_file[PATH_MAX]; /* "": the secret below */
	char *secret; /* AZURE_CLIENT_SECRET's value, wiped when freed */
	char cert_file[PATH_MAX];
	char federated_file[PATH_MAX];
	char az[PATH_MAX]; /* the az on PATH, "" when none */
	char authority[256];
	char imds[256];
	char url[768]; /* the v2.0 token endpoint */
	char *token;
	time_t expires_on;
	int imds_attempts;
	int64_t imds_base_ms;
	int transient; /* the last failure may pass by itself */
	int garbage; /* the last failure was an answer we could not read */
};

/* ---------------------------------------------------------------------
 * Small helpers
 */

static void
wipe_free(char *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

static void
strip_trailing_slashes(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == '/')
		s[--n] = '\0';
}

/* Append ${s} form-urlencoded (RFC 3986 unreserved characters kept). */
static int
urlencode(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[3];

		if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' ||
		    *p == '~') {
			if (buf_append(b, p, 1))
				return -1;
			continue;
		}
		esc[0] = '%';
		esc[1] = hex[*p >> 4];
		esc[2] = hex[*p & 15];
		if (buf_append(b, esc, 3))
			return -1;
	}
	return 0;
}

static void
wipe_buf(struct buf *b)
{
	if (b->data != NULL)
		OPENSSL_cleanse(b->data, b->cap);
	buf_free(b);
}

int
token_url(
    const char *authority_host, const char *tenant, char *out, size_t outlen)
{
	char a[256];
	int n;

	util_strlcpy(a, authority_host, sizeof(a));
	strip_trailing_slashes(a);
	n = snprintf(out, outlen, "%s/%s/oauth2/v2.0/token", a, tenant);
	return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

int
token_check_secret_file(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if (st.st_mode & (S_IRGRP | S_IROTH)) {
		snprintf(err, errlen,
		    "%s: mode %04o lets group or other read the secret "
		    "(chmod 600 it)",
		    path, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

/* The first line of ${s}, at most ${max} characters, into ${out}. */
static void
first_line(const char *s, size_t max, char *out, size_t outlen)
{
	size_t n = strcspn(s, "\r\n");

	if (n > max)
		n = max;
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

/* ---------------------------------------------------------------------
 * Parsing
 */

/*
 * Seconds (expires_in) and instants (expires_on) beyond 9999-12-31 are
 * refused: a hostile or broken endpoint's 1e300 or INT64_MAX would
 * otherwise overflow "now + expires_in" and "expires_on - now" (found by
 * tests/fuzz/fuzz_token.c).
 */
#define EXPIRY_MAX 253402300799LL

/*
 * A JSON number or numeric string (IMDS sends numbers as strings) in
 * [0, EXPIRY_MAX].
 */
static int
json_as_int(json_t *v, long long *out)
{
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0 ||
		    json_integer_value(v) > EXPIRY_MAX)
			return -1;
		*out = json_integer_value(v);
		return 0;
	}
	if (json_is_real(v)) {
		double d = json_real_value(v);

		/* checked before the cast, which is undefined out of range */
		if (!(d >= 0 && d <= (double)EXPIRY_MAX))
			return -1;
		*out = (long long)d;
		return 0;
	}
	if (json_is_string(v))
		return util_parse_int(json_string_value(v), 0, EXPIRY_MAX, out);
	return -1;
}

/* The CLI's expiresOn: "2023-10-31 21:59:10.000000", local time. */
static int
parse_local_time(const char *s, time_t *out)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
	if (end == NULL)
		return -1;
	if (*end == '.') {
		end++;
		while (isdigit((unsigned char)*end))
			end++;
	}
	if (*end != '\0')
		return -1;
	tm.tm_isdst = -1;
	*out = mktime(&tm);
	return *out == (time_t)-1 ? -1 : 0;
}

static void
error_parts(
    json_t *root, char *code, size_t codelen, char *desc, size_t desclen)
{
	json_t *e = json_object_get(root, "error");
	json_t *d = json_object_get(root, "error_description");
	const char *ds;
	size_t n;

	code[0] = desc[0] = '\0';
	if (json_is_string(e))
		util_strlcpy(code, json_string_value(e), codelen);
	else if (json_is_object(e)) /* an ARM-shaped error, just in case */
		util_strlcpy(code,
		    json_is_string(json_object_get(e, "code"))
		        ? json_string_value(json_object_get(e, "code"))
		        : "error",
		    codelen);
	if (!json_is_string(d))
		return;
	ds = json_string_value(d);
	/* AAD appends trace and correlation ids after the first sentence. */
	n = strcspn(ds, "\r\n");
	for (const char *p = ds; p < ds + n; p++) {
		if (*p == '.' &&
		    (p[1] == ' ' || p[1] == '\r' || p[1] == '\n' ||
		        p[1] == '\0')) {
			n = (size_t)(p - ds) + 1;
			break;
		}
	}
	if (n > DESC_MAX)
		n = DESC_MAX;
	if (n >= desclen)
		n = desclen - 1;
	memcpy(desc, ds, n);
	desc[n] = '\0';
}

void
token_describe_error(const char *body, char *err, size_t errlen)
{
	json_t *root;
	char code[128], desc[DESC_MAX + 1];

	err[0] = '\0';
	if (body == NULL)
		return;
	root = json_loads(body, 0, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		return;
	}
	error_parts(root, code, sizeof(code), desc, sizeof(desc));
	json_decref(root);
	if (code[0] != '\0' && desc[0] != '\0')
		snprintf(err, errlen, "%s: %s", code, desc);
	else if (code[0] != '\0')
		snprintf(err, errlen, "%s", code);
}

int
token_parse_response(const char *body, time_t now, char **token,
    time_t *expires_on, char *err, size_t errlen)
{
	json_t *root, *tok, *v;
	long long n;
	time_t exp = 0;
	int have_exp = 0;
	int rc = -1;

	*token = NULL;
	root = json_loads(body != NULL ? body : "", 0, NULL);
	if (!json_is_object(root)) {
		snprintf(
		    err, errlen, "the token response is not a JSON object");
		goto done;
	}
	if (json_object_get(root, "error") != NULL) {
		char desc[DESC_MAX + 64];

		token_describe_error(body, desc, sizeof(desc));
		snprintf(err, errlen, "%s", desc[0] ? desc : "error");
		goto done;
	}
	tok = json_object_get(root, "access_token");
	if (tok == NULL)
		tok = json_object_get(root, "accessToken");
	if (!json_is_string(tok) || json_string_length(tok) == 0) {
		snprintf(err, errlen, "the token response has no access_token");
		goto done;
	}
	/* Relative expiry first: it does not depend on clocks agreeing. */
	v = json_object_get(root, "expires_in");
	if (v != NULL && json_as_int(v, &n) == 0) {
		exp = now + (time_t)n;
		have_exp = 1;
	}
	v = json_object_get(root, "expires_on");
	if (!have_exp && v != NULL) {
		if (json_as_int(v, &n) == 0) {
			exp = (time_t)n;
			have_exp = 1;
		} else if (json_is_string(v) &&
		    util_parse_time(json_string_value(v), &exp) == 0) {
			have_exp = 1;
		}
	}
	v = json_object_get(root, "expiresOn");
	if (!have_exp && json_is_string(v) &&
	    parse_local_time(json_string_value(v), &exp) == 0)
		have_exp = 1;
	if (!have_exp) {
		snprintf(err, errlen,
		    "the token response has no usable expires_in or "
		    "expires_on");
		goto done;
	}
	*token = strdup(json_string_value(tok));
	if (*token == NULL) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	*expires_on = exp;
	rc = 0;
done:
	/* The parsed tree holds a copy of the token: wipe it too. */
	if (json_is_object(root)) {
		tok = json_object_get(root, "access_token");
		if (tok == NULL)
			tok = json_object_get(root, "accessToken");
		if (json_is_string(tok))
			OPENSSL_cleanse((char *)json_string_value(tok),
			    json_string_length(tok));
	}
	json_decref(root);
	return rc;
}

/* ---------------------------------------------------------------------
 * Client assertion (RS256 JWT)
 */

/* base64url without padding, appended to ${b}. */
static int
b64url(struct buf *b, const unsigned char *p, size_t n)
{
	size_t cap = 4 * ((n + 2) / 3) + 1;
	unsigned char *tmp = malloc(cap);
	int len, rc;

	if (tmp == NULL)
		return -1;
	len = EVP_EncodeBlock(tmp, p, (int)n);
	while (len > 0 && tmp[len - 1] == '=')
		len--;
	for (int i = 0; i < len; i++) {
		if (tmp[i] == '+')
			tmp[i] = '-';
		else if (tmp[i] == '/')
			tmp[i] = '_';
	}
	rc = buf_append(b, tmp, (size_t)len);
	free(tmp);
	return rc;
}

static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

char *
token_build_assertion(const char *pem_path, const char *client_id,
    const char *aud, time_t now, char *err, size_t errlen)
{
	char *pem = NULL, *hj = NULL, *pj = NULL, *out = NULL;
	size_t pemlen = 0, siglen = 0;
	BIO *bio = NULL;
	X509 *cert = NULL;
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *md = NULL;
	unsigned char thumb[EVP_MAX_MD_SIZE], *sig = NULL;
	unsigned int thumblen = 0;
	char kid[2 * EVP_MAX_MD_SIZE + 1], jti[37];
	json_t *h = NULL, *p = NULL;
	struct buf jwt, x5t;

	buf_init(&jwt, 1024 * 1024);
	buf_init(&x5t, 256);
	if (util_read_file(pem_path, PEM_MAX, &pem, &pemlen, err, errlen))
		goto done;
	bio = BIO_new_mem_buf(pem, (int)pemlen);
	if (bio == NULL)
		goto nomem;
	cert = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	bio = NULL;
	if (cert == NULL) {
		snprintf(err, errlen, "%s: no PEM certificate found", pem_path);
		goto done;
	}
	bio = BIO_new_mem_buf(pem, (int)pemlen);
	if (bio == NULL)
		goto nomem;
	pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	if (pkey == NULL) {
		snprintf(err, errlen,
		    "%s: no unencrypted PEM private key found (the file must "
		    "hold the certificate and its key)",
		    pem_path);
		goto done;
	}
	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
		snprintf(
		    err, errlen, "%s: the private key is not RSA", pem_path);
		goto done;
	}
	if (X509_check_private_key(cert, pkey) != 1) {
		snprintf(err, errlen,
		    "%s: the private key does not match the certificate",
		    pem_path);
		goto done;
	}
	if (X509_digest(cert, EVP_sha1(), thumb, &thumblen) != 1)
		goto crypto;
	for (unsigned int i = 0; i < thumblen; i++)
		snprintf(kid + 2 * i, 3, "%02X", thumb[i]);
	if (b64url(&x5t, thumb, thumblen))
		goto nomem;
	util_uuid4(jti);

	h = json_pack("{s:s, s:s, s:s, s:s}", "alg", "RS256", "typ", "JWT",
	    "x5t", x5t.data, "kid", kid);
	p = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "aud", aud, "iss",
	    client_id, "sub", client_id, "jti", jti, "nbf", (json_int_t)now,
	    "exp", (json_int_t)(now + ASSERTION_LIFETIME));
	if (h == NULL || p == NULL)
		goto nomem;
	hj = json_dumps(h, JSON_COMPACT | JSON_PRESERVE_ORDER);
	pj = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (hj == NULL || pj == NULL)
		goto nomem;
	if (b64url(&jwt, (unsigned char *)hj, strlen(hj)) ||
	    buf_append(&jwt, ".", 1) ||
	    b64url(&jwt, (unsigned char *)pj, strlen(pj)))
		goto nomem;

	md = EVP_MD_CTX_new();
	if (md == NULL)
		goto nomem;
	/* RSA keys sign RSASSA-PKCS1-v1_5 by default: that is RS256. */
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pkey) != 1 ||
	    EVP_DigestSign(
	        md, NULL, &siglen, (unsigned char *)jwt.data, jwt.len) != 1)
		goto crypto;
	sig = malloc(siglen);
	if (sig == NULL)
		goto nomem;
	if (EVP_DigestSign(
	        md, sig, &siglen, (unsigned char *)jwt.data, jwt.len) != 1)
		goto crypto;
	if (buf_append(&jwt, ".", 1) || b64url(&jwt, sig, siglen))
		goto nomem;
	out = jwt.data;
	buf_init(&jwt, 0); /* ownership moves to the caller */
	goto done;

crypto:
	snprintf(
	    err, errlen, "%s: signing the client assertion failed", pem_path);
	goto done;
nomem:
	snprintf(err, errlen, "out of memory");
done:
	free(sig);
	EVP_MD_CTX_free(md);
	free(hj);
	free(pj);
	json_decref(h);
	json_decref(p);
	buf_free(&x5t);
	wipe_buf(&jwt);
	EVP_PKEY_free(pkey);
	X509_free(cert);
	BIO_free(bio);
	if (pem != NULL) {
		OPENSSL_cleanse(pem, pemlen);
		free(pem);
	}
	return out;
}

/* ---------------------------------------------------------------------
 * Sources
 */

static const char *
kind_name(enum auth_kind k)
{
	switch (k) {
	case AUTH_AUTO:
		return "auto";
	case AUTH_MANAGED_IDENTITY:
		return "managed-identity";
	case AUTH_CLIENT_SECRET:
		return "client-secret";
	case AUTH_CLIENT_CERTIFICATE:
		return "client-certificate";
	case AUTH_WORKLOAD_IDENTITY:
		return "workload-identity";
	case AUTH_AZURE_CLI:
		return "azure-cli";
	}
	return "unknown";
}

/* Read the client secret (wiped and freed by the caller). */
static char *
read_secret(const struct token_provider *tp)
{
	char err[PATH_MAX + 128], *s = NULL;
	size_t n = 0;

	if (tp->secret_file[0] == '\0') {
		s = strdup(tp->secret != NULL ? tp->secret : "");
		if (s == NULL)
			log_err(LOG_CTX, "client-secret: out of memory");
		return s;
	}
	if (token_check_secret_file(tp->secret_file, err, sizeof(err)) ||
	    util_read_file(
	        tp->secret_file, SECRET_MAX, &s, &n, err, sizeof(err))) {
		log_err(LOG_CTX, "client-secret: %s", err);
		return NULL;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	if (n == 0) {
		log_err(LOG_CTX, "client-secret: %s is empty", tp->secret_file);
		free(s);
		return NULL;
	}
	return s;
}

/*
 * POST the v2.0 token endpoint with the client credentials grant plus
 * ${field}=${value} (the secret or the assertion, never logged).
 */
static int
acquire_aad(struct token_provider *tp, const char *field, const char *value,
    char **token, time_t *exp)
{
	const char *name = kind_name(tp->kind);
	struct http_request req;
	struct http_response resp;
	struct buf body, enc;
	char err[512];
	int rc = -1;

	buf_init(&body, 1024 * 1024);
	buf_init(&enc, 1024 * 1024);
	http_response_init(&resp);
	if (urlencode(&enc, value) || buf_append(&enc, "", 0) ||
	    buf_printf(&body, "grant_type=client_credentials&client_id=") ||
	    urlencode(&body, tp->client_id) || buf_printf(&body, "&scope=") ||
	    urlencode(&body, TOKEN_SCOPE) ||
	    buf_printf(&body, "&%s=%s", field, enc.data)) {
		log_err(LOG_CTX, "%s: out of memory", name);
		goto done;
	}
	if (strcmp(field, "client_assertion") == 0 &&
	    buf_printf(&body, "&client_assertion_type=%s",
	        "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-"
	        "bearer")) {
		log_err(LOG_CTX, "%s: out of memory", name);
		goto done;
	}
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = tp->url;
	req.body = body.data;
	req.content_type = "application/x-www-form-urlencoded";
	req.context = LOG_CTX;
	req.redact[0] = value;
	req.redact[1] = enc.data;
	if (http_do(tp->http, &req, &resp) != 0) {
		log_err(LOG_CTX, "%s: no answer from %s: %s", name, tp->url,
		    resp.error);
		/* An unverified certificate does not pass by itself. */
		tp->transient = resp.status == 0 && !resp.tls_unverified;
		goto done;
	}
	if (resp.status != 200) {
		tp->transient = http_retryable_status(resp.status);
		json_t *root =
		    json_loads(resp.body.data ? resp.body.data : "", 0, NULL);
		char code[128] = "", desc[DESC_MAX + 1] = "";

		if (json_is_object(root))
			error_parts(
			    root, code, sizeof(code), desc, sizeof(desc));
		json_decref(root);
		/*
		 * A refusal that does not pass by itself (invalid_client:
		 * AADSTS7000215 bad secret, unauthorized_client: AADSTS700016
		 * unknown client, AADSTS700027 certificate...) is a
		 * configuration error: the message keeps AAD's AADSTS code.
		 */
		log_err(LOG_CTX,
		    "%s: AAD refused the request (%ld%s%s): %s "
		    "(x-ms-request-id %s)%s",
		    name, resp.status, code[0] ? " " : "", code,
		    desc[0] ? desc : "no error description",
		    resp.request_id[0] ? resp.request_id : "-",
		    tp->transient ? ""
		                  : "; a configuration error: check tenant, "
		                    "client_id and the credential");
		goto done;
	}
	if (token_parse_response(
	        resp.body.data, util_now(), token, exp, err, sizeof(err))) {
		tp->garbage = 1;
		log_err(LOG_CTX, "%s: %s: %s", name, tp->url, err);
		goto done;
	}
	rc = 0;
done:
	if (resp.body.data != NULL)
		OPENSSL_cleanse(resp.body.data, resp.body.len);
	http_response_free(&resp);
	wipe_buf(&body);
	wipe_buf(&enc);
	return rc;
}

static int
acquire_secret(struct token_provider *tp, char **token, time_t *exp)
{
	char *secret = read_secret(tp);
	int rc;

	if (secret == NULL)
		return -1;
	rc = acquire_aad(tp, "client_secret", secret, token, exp);
	wipe_free(secret);
	return rc;
}

static int
acquire_certificate(struct token_provider *tp, char **token, time_t *exp)
{
	char err[PATH_MAX + 128];
	char *jwt;
	int rc;

	jwt = token_build_assertion(tp->cert_file, tp->client_id, tp->url,
	    util_now(), err, sizeof(err));
	if (jwt == NULL) {
		log_err(LOG_CTX, "client-certificate: %s", err);
		return -1;
	}
	rc = acquire_aad(tp, "client_assertion", jwt, token, exp);
	wipe_free(jwt);
	return rc;
}

static int
acquire_workload(struct token_provider *tp, char **token, time_t *exp)
{
	char err[PATH_MAX + 128];
	char *fed = NULL;
	size_t n = 0;
	int rc;

	/* Read afresh every time: the kubelet rotates the file. */
	if (util_read_file(tp->federated_file, FEDERATED_MAX, &fed, &n, err,
	        sizeof(err))) {
		log_err(LOG_CTX, "workload-identity: %s", err);
		return -1;
	}
	while (n > 0 && isspace((unsigned char)fed[n - 1]))
		fed[--n] = '\0';
	if (n == 0) {
		log_err(LOG_CTX, "workload-identity: %s is empty",
		    tp->federated_file);
		free(fed);
		return -1;
	}
	rc = acquire_aad(tp, "client_assertion", fed, token, exp);
	wipe_free(fed);
	return rc;
}

/*
 * One IMDS request loop on ${http}.  ${probe}: one try, and a missing IMDS
 * is not logged as an error (auto goes on to the next source).  Return 0,
 * -1 on an error (logged), or 1 when IMDS is unreachable and ${probe}.
 */
static int
acquire_imds_on(struct token_provider *tp, struct http_client *http, int probe,
    char **token, time_t *exp)
{
	struct http_request req;
	struct http_response resp;
	struct buf url;
	char err[512];
	int attempts = probe ? 1 : tp->imds_attempts, rc = -1;

	buf_init(&url, 4096);
	if (buf_printf(&url,
	        "%s/metadata/identity/oauth2/token?api-version=2018-02-01"
	        "&resource=",
	        tp->imds) ||
	    urlencode(&url, TOKEN_RESOURCE)) {
		log_err(LOG_CTX, "managed-identity: out of memory");
		return -1;
	}
	/* A user-assigned identity: exactly one selector. */
	if ((tp->client_id[0] &&
	        (buf_printf(&url, "&client_id=") ||
	            urlencode(&url, tp->client_id))) ||
	    (!tp->client_id[0] && tp->object_id[0] &&
	        (buf_printf(&url, "&object_id=") ||
	            urlencode(&url, tp->object_id))) ||
	    (!tp->client_id[0] && !tp->object_id[0] && tp->msi_res_id[0] &&
	        (buf_printf(&url, "&msi_res_id=") ||
	            urlencode(&url, tp->msi_res_id)))) {
		log_err(LOG_CTX, "managed-identity: out of memory");
		buf_free(&url);
		return -1;
	}
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url.data;
	req.headers[0] = "Metadata: true";
	req.allow_plain_http = 1; /* IMDS is plain HTTP by Azure's design */
	req.no_retry = 1; /* IMDS has its own rules, below */
	req.quiet = probe; /* auto: no IMDS here is an answer, not an error */
	req.context = LOG_CTX;
	http_response_init(&resp);

	for (int i = 1; i <= attempts; i++) {
		int64_t delay;
		int r;

		/* http_do starts from an empty response: free the last one. */
		if (resp.body.data != NULL)
			OPENSSL_cleanse(resp.body.data, resp.body.len);
		http_response_free(&resp);
		r = http_do(http, &req, &resp);

		if (r == 0 && resp.status == 200) {
			if (token_parse_response(resp.body.data, util_now(),
			        token, exp, err, sizeof(err))) {
				tp->garbage = 1;
				log_err(LOG_CTX, "managed-identity: %s", err);
				break;
			}
			rc = 0;
			break;
		}
		if (r != 0 && probe) {
			tp->transient = 1;
			log_info(LOG_CTX,
			    "managed-identity: IMDS at %s did not answer: %s",
			    tp->imds, resp.error);
			rc = 1;
			break;
		}
		if (r == 0 && resp.status != 404 && resp.status != 429 &&
		    resp.status < 500) {
			token_describe_error(resp.body.data, err, sizeof(err));
			log_err(LOG_CTX,
			    "managed-identity: IMDS refused the request "
			    "(%ld): %s",
			    resp.status, err[0] ? err : "no error description");
			break;
		}
		if (i == attempts) {
			tp->transient = 1;
			if (r == 0) {
				token_describe_error(
				    resp.body.data, err, sizeof(err));
				log_err(LOG_CTX,
				    "managed-identity: IMDS at %s failed %d "
				    "time%s, last HTTP %ld: %s",
				    tp->imds, attempts,
				    attempts == 1 ? "" : "s", resp.status,
				    err[0] ? err : "no error description");
			} else {
				log_err(LOG_CTX,
				    "managed-identity: IMDS at %s failed %d "
				    "time%s, last: %s",
				    tp->imds, attempts,
				    attempts == 1 ? "" : "s", resp.error);
			}
			break;
		}
		delay = resp.retry_after_ms >= 0
		    ? resp.retry_after_ms
		    : tp->imds_base_ms * ((int64_t)1 << (i - 1));
		log_info(LOG_CTX,
		    "managed-identity: retrying IMDS after %.1f s (%s, "
		    "attempt %d/%d)",
		    (double)delay / 1000, r == 0 ? "HTTP error" : resp.error,
		    i + 1, attempts);
		util_sleep_ms(delay);
	}
	if (resp.body.data != NULL)
		OPENSSL_cleanse(resp.body.data, resp.body.len);
	http_response_free(&resp);
	buf_free(&url);
	return rc;
}

static int
acquire_imds(struct token_provider *tp, char **token, time_t *exp)
{
	return acquire_imds_on(tp, tp->http, 0, token, exp) == 0 ? 0 : -1;
}

/* Read ${fd} into ${b}; past the cap, keep draining but drop. */
static int
drain(int fd, struct buf *b)
{
	char chunk[4096];
	ssize_t n = read(fd, chunk, sizeof(chunk));

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : 0;
	if (n > 0 && !b->overflow)
		buf_append(b, chunk, (size_t)n);
	return n > 0;
}

static int
acquire_cli(struct token_provider *tp, char **token, time_t *exp)
{
	char *argv[10];
	int argc = 0, out[2] = {-1, -1}, errp[2] = {-1, -1}, status = 0;
	int rc = -1, open_out = 1, open_err = 1;
	posix_spawn_file_actions_t fa;
	struct buf o, e;
	char err[512], line[256];
	pid_t pid;
	int64_t deadline;

	argv[argc++] = "az";
	argv[argc++] = "account";
	argv[argc++] = "get-access-token";
	argv[argc++] = "--resource";
	argv[argc++] = TOKEN_RESOURCE;
	argv[argc++] = "-o";
	argv[argc++] = "json";
	if (tp->tenant[0] != '\0') {
		argv[argc++] = "--tenant";
		argv[argc++] = tp->tenant;
	}
	argv[argc] = NULL;

	buf_init(&o, CLI_OUT_MAX);
	buf_init(&e, CLI_ERR_MAX);
	if (pipe2(out, O_CLOEXEC) || pipe2(errp, O_CLOEXEC)) {
		log_err(LOG_CTX, "azure-cli: pipe: %s", strerror(errno));
		goto done;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	status = posix_spawn(&pid, tp->az, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	close(errp[1]);
	out[1] = errp[1] = -1;
	if (status != 0) {
		log_err(
		    LOG_CTX, "azure-cli: cannot run az: %s", strerror(status));
		goto done;
	}
	deadline = util_monotonic_ms() + CLI_TIMEOUT_MS;
	while (open_out || open_err) {
		struct pollfd pf[2];
		int64_t left = deadline - util_monotonic_ms();
		nfds_t k = 0;

		if (left <= 0) {
			kill(pid, SIGKILL);
			log_err(LOG_CTX,
			    "azure-cli: az did not finish within "
			    "%d s; killed",
			    CLI_TIMEOUT_MS / 1000);
			waitpid(pid, &status, 0);
			goto done;
		}
		if (open_out)
			pf[k++] =
			    (struct pollfd){.fd = out[0], .events = POLLIN};
		if (open_err)
			pf[k++] =
			    (struct pollfd){.fd = errp[0], .events = POLLIN};
		if (poll(pf, k, (int)left) < 0 && errno != EINTR)
			break;
		for (nfds_t i = 0; i < k; i++) {
			if (pf[i].revents == 0)
				continue;
			if (pf[i].fd == out[0] && !drain(out[0], &o))
				open_out = 0;
			else if (pf[i].fd == errp[0] && !drain(errp[0], &e))
				open_err = 0;
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		first_line(
		    e.data != NULL ? e.data : "", 200, line, sizeof(line));
		log_err(LOG_CTX,
		    "azure-cli: az account get-access-token failed "
		    "(%s %d): %s",
		    WIFEXITED(status) ? "exit" : "signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
		    line[0] ? line : "no message");
		goto done;
	}
	if (o.overflow) {
		log_err(LOG_CTX, "azure-cli: az printed more than %d bytes",
		    CLI_OUT_MAX);
		goto done;
	}
	if (token_parse_response(
	        o.data, util_now(), token, exp, err, sizeof(err))) {
		log_err(
		    LOG_CTX, "azure-cli: az account get-access-token: %s", err);
		goto done;
	}
	rc = 0;
done:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	wipe_buf(&o);
	buf_free(&e);
	return rc;
}

/*
 * auto, past the sources that need settings: IMDS if it answers (probed
 * with short timeouts on a client of its own), else the CLI.
 */
static int
choose_auto(struct token_provider *tp, char **token, time_t *exp)
{
	struct http_options po;
	struct http_client *probe;
	int r;

	memset(&po, 0, sizeof(po));
	po.connect_timeout_s = 1;
	po.timeout_s = 10;
	po.max_attempts = 1;
	probe = http_client_new(&po);
	if (probe == NULL)
		return -1;
	r = acquire_imds_on(tp, probe, 1, token, exp);
	http_client_free(probe);
	if (r == 0) {
		tp->kind = AUTH_MANAGED_IDENTITY;
		log_info(LOG_CTX, "using managed identity (auth = auto)");
		return 0;
	}
	if (tp->az[0] != '\0') {
		tp->kind = AUTH_AZURE_CLI;
		log_info(LOG_CTX, "using the Azure CLI (auth = auto)");
		return acquire_cli(tp, token, exp);
	}
	tp->transient = 0;
	log_err(LOG_CTX,
	    "auth = auto found no credential: no client secret "
	    "(AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET or "
	    "client_secret_file), no certificate, no "
	    "AZURE_FEDERATED_TOKEN_FILE, no managed identity at %s, no az "
	    "on PATH",
	    tp->imds);
	return -1;
}

/* ---------------------------------------------------------------------
 * The provider
 */

static int
need(const struct token_provider *tp, enum auth_kind k)
{
	const char *name = kind_name(k);

	if (tp->tenant[0] == '\0') {
		log_err(LOG_CTX,
		    "%s: no tenant (set tenant or AZURE_TENANT_ID)", name);
		return -1;
	}
	if (tp->client_id[0] == '\0') {
		log_err(LOG_CTX,
		    "%s: no client id (set client_id or AZURE_CLIENT_ID)",
		    name);
		return -1;
	}
	return 0;
}

/* Copy ${src} (NULL counts as "") into ${dst}. */
static void
copy_setting(char *dst, size_t len, const char *src)
{
	util_strlcpy(dst, src != NULL ? src : "", len);
}

/*
 * Find the secret's source (the inputs' file, else their
 * AZURE_CLIENT_SECRET); 1 found, 0 none, -1 refused (logged).
 */
static int
find_secret(struct token_provider *tp, const struct auth_inputs *in)
{
	char err[PATH_MAX + 128];

	copy_setting(tp->secret_file, sizeof(tp->secret_file),
	    in->client_secret_file.value);
	if (tp->secret_file[0] != '\0') {
		if (token_check_secret_file(
		        tp->secret_file, err, sizeof(err))) {
			log_err(LOG_CTX, "client-secret: %s", err);
			return -1;
		}
		return 1;
	}
	if (in->secret != NULL && in->secret[0] != '\0') {
		tp->secret = strdup(in->secret);
		if (tp->secret == NULL) {
			log_err(LOG_CTX, "out of memory");
			return -1;
		}
		return 1;
	}
	return 0;
}

static int
check_certificate(struct token_provider *tp)
{
	char err[PATH_MAX + 128];
	char *jwt = token_build_assertion(tp->cert_file, tp->client_id, tp->url,
	    util_now(), err, sizeof(err));

	if (jwt == NULL) {
		log_err(LOG_CTX, "client-certificate: %s", err);
		return -1;
	}
	wipe_free(jwt);
	return 0;
}

struct token_provider *
token_provider_new(const struct auth_inputs *in, const struct http_options *ho)
{
	struct token_provider *tp;
	int secret;

	tp = calloc(1, sizeof(*tp));
	if (tp == NULL) {
		log_err(LOG_CTX, "out of memory");
		return NULL;
	}
	tp->http = http_client_new(ho);
	if (tp->http == NULL)
		goto err;
	tp->kind = in->auth;
	tp->imds_attempts = LIMIT_IMDS_ATTEMPTS;
	tp->imds_base_ms = LIMIT_IMDS_BASE_DELAY_MS;
	copy_setting(tp->tenant, sizeof(tp->tenant), in->tenant.value);
	copy_setting(tp->client_id, sizeof(tp->client_id), in->client_id.value);
	copy_setting(tp->object_id, sizeof(tp->object_id), in->object_id.value);
	copy_setting(
	    tp->msi_res_id, sizeof(tp->msi_res_id), in->msi_res_id.value);
	copy_setting(tp->cert_file, sizeof(tp->cert_file),
	    in->client_certificate_file.value);
	copy_setting(tp->federated_file, sizeof(tp->federated_file),
	    in->federated_token_file.value);
	copy_setting(tp->az, sizeof(tp->az), in->az.value);
	copy_setting(
	    tp->authority, sizeof(tp->authority), in->authority_host.value);
	if (tp->authority[0] == '\0')
		util_strlcpy(
		    tp->authority, DEFAULT_AUTHORITY, sizeof(tp->authority));
	strip_trailing_slashes(tp->authority);
	copy_setting(tp->imds, sizeof(tp->imds), in->imds_endpoint.value);
	if (tp->imds[0] == '\0')
		util_strlcpy(tp->imds, DEFAULT_IMDS, sizeof(tp->imds));
	strip_trailing_slashes(tp->imds);

	if (tp->tenant[0] != '\0' &&
	    token_url(tp->authority, tp->tenant, tp->url, sizeof(tp->url))) {
		log_err(
		    LOG_CTX, "the token URL for %s is too long", tp->authority);
		goto err;
	}

	switch (tp->kind) {
	case AUTH_CLIENT_SECRET:
		if (need(tp, tp->kind))
			goto err;
		secret = find_secret(tp, in);
		if (secret < 0)
			goto err;
		if (secret == 0) {
			log_err(LOG_CTX,
			    "client-secret: no secret (set "
			    "client_secret_file, "
			    "LoadCredential=aksnap-client-secret "
			    "or AZURE_CLIENT_SECRET)");
			goto err;
		}
		break;
	case AUTH_CLIENT_CERTIFICATE:
		if (need(tp, tp->kind))
			goto err;
		if (tp->cert_file[0] == '\0') {
			log_err(LOG_CTX,
			    "client-certificate: no certificate "
			    "(set client_certificate_file or "
			    "AZURE_CLIENT_CERTIFICATE_PATH)");
			goto err;
		}
		if (check_certificate(tp))
			goto err;
		break;
	case AUTH_WORKLOAD_IDENTITY:
		if (need(tp, tp->kind))
			goto err;
		if (tp->federated_file[0] == '\0') {
			log_err(LOG_CTX,
			    "workload-identity: "
			    "AZURE_FEDERATED_TOKEN_FILE is not set");
			goto err;
		}
		break;
	case AUTH_MANAGED_IDENTITY:
		break;
	case AUTH_AZURE_CLI:
		if (tp->az[0] == '\0') {
			log_err(LOG_CTX, "azure-cli: az is not on PATH");
			goto err;
		}
		break;
	case AUTH_AUTO:
		/* The documented order; IMDS and the CLI wait for token_get. */
		secret = (tp->tenant[0] && tp->client_id[0])
		    ? find_secret(tp, in)
		    : 0;
		if (secret < 0)
			goto err;
		if (secret > 0) {
			tp->kind = AUTH_CLIENT_SECRET;
		} else if (tp->tenant[0] && tp->client_id[0] &&
		    tp->cert_file[0]) {
			tp->kind = AUTH_CLIENT_CERTIFICATE;
			if (check_certificate(tp))
				goto err;
		} else if (tp->tenant[0] && tp->client_id[0] &&
		    tp->federated_file[0]) {
			tp->kind = AUTH_WORKLOAD_IDENTITY;
		}
		if (tp->kind != AUTH_AUTO)
			log_info(LOG_CTX, "using %s (auth = auto)",
			    kind_name(tp->kind));
		break;
	}
	return tp;
err:
	http_client_free(tp->http);
	wipe_free(tp->secret);
	free(tp);
	return NULL;
}

void
token_provider_free(struct token_provider *tp)
{
	if (tp == NULL)
		return;
	wipe_free(tp->token);
	wipe_free(tp->secret);
	http_client_free(tp->http);
	OPENSSL_cleanse(tp, sizeof(*tp));
	free(tp);
}

int
token_failure_transient(const struct token_provider *tp)
{
	return tp != NULL && tp->transient;
}

int
token_failure_exit(const struct token_provider *tp)
{
	if (tp == NULL)
		return EXIT_USAGE;
	if (tp->transient)
		return EXIT_TEMP;
	return tp->garbage ? EXIT_FAILED : EXIT_USAGE;
}

const char *
token_provider_name(const struct token_provider *tp)
{
	return kind_name(tp->kind);
}

void
token_provider_set_imds_retry(
    struct token_provider *tp, int attempts, int64_t base_delay_ms)
{
	tp->imds_attempts = attempts > 0 ? attempts : 1;
	tp->imds_base_ms = base_delay_ms >= 0 ? base_delay_ms : 0;
}

int
token_get(struct token_provider *tp, int force_refresh, const char **token)
{
	char *tok = NULL, when[32];
	time_t exp = 0, now = util_now();
	int rc = -1;

	if (!force_refresh && tp->token != NULL &&
	    tp->expires_on - now >= TOKEN_REFRESH_MARGIN) {
		*token = tp->token;
		return 0;
	}
	tp->transient = 0;
	tp->garbage = 0;
	switch (tp->kind) {
	case AUTH_AUTO:
		rc = choose_auto(tp, &tok, &exp);
		break;
	case AUTH_CLIENT_SECRET:
		rc = acquire_secret(tp, &tok, &exp);
		break;
	case AUTH_CLIENT_CERTIFICATE:
		rc = acquire_certificate(tp, &tok, &exp);
		break;
	case AUTH_WORKLOAD_IDENTITY:
		rc = acquire_workload(tp, &tok, &exp);
		break;
	case AUTH_MANAGED_IDENTITY:
		rc = acquire_imds(tp, &tok, &exp);
		break;
	case AUTH_AZURE_CLI:
		rc = acquire_cli(tp, &tok, &exp);
		break;
	}
	if (rc != 0)
		return -1;
	wipe_free(tp->token);
	tp->token = tok;
	tp->expires_on = exp;
	util_format_time(exp, when, sizeof(when));
	log_info(LOG_CTX, "%s token from %s, valid until %s",
	    force_refresh ? "refreshed the" : "got a", kind_name(tp->kind),
	    when);
	*token = tp->token;
	return 0;
}

int
token_source_cb(void *ctx, int force_refresh, const char **token)
{
	return token_get(ctx, force_refresh, token);
}
