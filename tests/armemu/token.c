/*
 * token.c -- the emulated token endpoints and the bearer-token check.
 *
 * Entra ID v2.0 (POST /{tenant}/oauth2/v2.0/token, client credentials)
 * accepts the configured client secret; a client assertion that equals the
 * workload-identity token file; or a JWT client assertion signed RS256 by
 * the key of the configured certificate, checked as Entra does: header alg
 * and x5t (SHA-1 thumbprint, base64url), aud = the token URL, iss = sub =
 * client id, exp in the future, nbf not in the future.  IMDS (GET
 * /metadata/identity/oauth2/token) needs the "Metadata: true" header.  The
 * answers and errors have Entra's and IMDS's shapes (IMDS numbers arrive
 * as strings).  Secrets and assertions never reach a log or an error text.
 *
 * Issued tokens are random strings remembered with their expiry in REAL
 * time: the simulated clock moves resources, never tokens, so a test that
 * runs aksnap --as-of next week still authenticates.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "armemu.h"

#define JWT_BEARER "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

int
token_setup(char *err, size_t errlen)
{
	FILE *fp;
	X509 *cert;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (emu.cfg.client_cert == NULL)
		return 0;
	fp = fopen(emu.cfg.client_cert, "r");
	if (fp == NULL) {
		snprintf(err, errlen, "--client-cert %s: cannot open",
		    emu.cfg.client_cert);
		return -1;
	}
	cert = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	if (cert == NULL) {
		snprintf(err, errlen, "--client-cert %s: no PEM certificate",
		    emu.cfg.client_cert);
		return -1;
	}
	emu.cert_pkey = X509_get_pubkey(cert);
	X509_digest(cert, EVP_sha1(), md, &mdlen);
	emu_b64url_encode(md, mdlen, emu.cert_x5t, sizeof(emu.cert_x5t));
	X509_free(cert);
	if (emu.cert_pkey == NULL) {
		snprintf(err, errlen, "--client-cert: no public key");
		return -1;
	}
	return 0;
}

void
token_free(void)
{
	EVP_PKEY_free(emu.cert_pkey);
	emu.cert_pkey = NULL;
	free(emu.tokens);
	emu.tokens = NULL;
	emu.ntokens = 0;
}

void
token_expire_all(void)
{
	size_t i;
	double now = emu_real_now();

	for (i = 0; i < emu.ntokens; i++)
		emu.tokens[i].expires = (time_t)now - 1;
}

json_t *
token_list(void)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < emu.ntokens; i++)
		json_array_append_new(a, json_string(emu.tokens[i].value));
	return a;
}

/* Remember a new token; drop the long-expired ones first. */
static struct token *
token_issue(const char *identity, const char *type)
{
	time_t now = (time_t)emu_real_now();
	size_t i, k = 0;
	struct token *n, *t;

	for (i = 0; i < emu.ntokens; i++)
		if (emu.tokens[i].expires > now - 3600)
			emu.tokens[k++] = emu.tokens[i];
	emu.ntokens = k;
	n = realloc(emu.tokens, (emu.ntokens + 1) * sizeof(*emu.tokens));
	if (n == NULL)
		return NULL;
	emu.tokens = n;
	t = &emu.tokens[emu.ntokens++];
	memcpy(t->value, "armemu.", 7);
	emu_random_hex(t->value + 7, 24);
	t->expires = now + emu.cfg.token_ttl;
	snprintf(t->identity, sizeof(t->identity), "%s", identity);
	snprintf(t->identity_type, sizeof(t->identity_type), "%s", type);
	return t;
}

/* Entra ID's error body. */
static void aad_error(struct ctx *c, int status, const char *error, int code,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
aad_error(struct ctx *c, int status, const char *error, int code,
    const char *fmt, ...)
{
	char msg[768], desc[1024], trace[37], corr[37], when[40], uri[96];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emu_uuid(trace);
	emu_uuid(corr);
	emu_format_time(emu_real_now(), 7, when, sizeof(when));
	snprintf(desc, sizeof(desc),
	    "AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s", code,
	    msg, trace, corr, when);
	snprintf(uri, sizeof(uri),
	    "https://login.microsoftonline.com/error?code=%d", code);
	ctx_json(c, status,
	    json_pack("{s:s,s:s,s:[i],s:s,s:s,s:s,s:s}", "error", error,
	        "error_description", desc, "error_codes", code, "timestamp",
	        when, "trace_id", trace, "correlation_id", corr, "error_uri",
	        uri));
}

static json_t *
b64_json(const char *p, size_t n)
{
	unsigned char *raw = NULL;
	size_t rawlen = 0;
	json_t *j;

	if (emu_b64url_decode(p, n, &raw, &rawlen) != 0)
		return NULL;
	j = json_loadb((const char *)raw, rawlen, 0, NULL);
	free(raw);
	return j;
}

/*
 * Check a JWT client assertion.  Return 0, or the AADSTS code with a
 * reason in ${why}.
 */
static int
jwt_check(struct ctx *c, const char *jwt, char *why, size_t whylen)
{
	const char *dot1, *dot2;
	json_t *hdr = NULL, *pl = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	EVP_MD_CTX *md = NULL;
	char aud[600];
	const char *s;
	double now = emu_real_now();
	int rc = 700027;

	dot1 = strchr(jwt, '.');
	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	if (dot2 == NULL) {
		snprintf(why, whylen, "Client assertion is not a JWT.");
		return rc;
	}
	hdr = b64_json(jwt, (size_t)(dot1 - jwt));
	pl = b64_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	if (!json_is_object(hdr) || !json_is_object(pl)) {
		snprintf(why, whylen, "Client assertion is not a valid JWT.");
		goto out;
	}
	s = json_string_value(json_object_get(hdr, "alg"));
	if (s == NULL || strcmp(s, "RS256") != 0) {
		snprintf(why, whylen,
		    "Client assertion must use the RS256 algorithm.");
		goto out;
	}
	s = json_string_value(json_object_get(hdr, "x5t"));
	if (s == NULL || strcmp(s, emu.cert_x5t) != 0) {
		rc = 700027;
		snprintf(why, whylen,
		    "Client assertion failed signature validation. The "
		    "certificate thumbprint (x5t) is not registered.");
		goto out;
	}
	if (emu_b64url_decode(dot2 + 1, strlen(dot2 + 1), &sig, &siglen) != 0) {
		snprintf(
		    why, whylen, "Client assertion signature is malformed.");
		goto out;
	}
	md = EVP_MD_CTX_new();
	if (md == NULL ||
	    EVP_DigestVerifyInit(
	        md, NULL, EVP_sha256(), NULL, (EVP_PKEY *)emu.cert_pkey) != 1 ||
	    EVP_DigestVerify(md, sig, siglen, (const unsigned char *)jwt,
	        (size_t)(dot2 - jwt)) != 1) {
		snprintf(why, whylen,
		    "Client assertion failed signature validation.");
		goto out;
	}
	snprintf(aud, sizeof(aud), "%s%s", c->base, c->path);
	s = json_string_value(json_object_get(pl, "aud"));
	if (s == NULL || strcasecmp(s, aud) != 0) {
		rc = 700016;
		snprintf(why, whylen,
		    "Client assertion audience is not the token endpoint.");
		goto out;
	}
	s = json_string_value(json_object_get(pl, "iss"));
	if (s == NULL || strcasecmp(s, emu.cfg.client_id) != 0) {
		snprintf(why, whylen,
		    "Client assertion issuer is not the "
		    "client id.");
		goto out;
	}
	s = json_string_value(json_object_get(pl, "sub"));
	if (s == NULL || strcasecmp(s, emu.cfg.client_id) != 0) {
		snprintf(why, whylen,
		    "Client assertion subject is not the "
		    "client id.");
		goto out;
	}
	if (!json_is_number(json_object_get(pl, "exp")) ||
	    json_number_value(json_object_get(pl, "exp")) <= now ||
	    (json_object_get(pl, "nbf") != NULL &&
	        json_number_value(json_object_get(pl, "nbf")) > now + 5)) {
		rc = 700024;
		snprintf(why, whylen,
		    "Client assertion is not within its valid time range.");
		goto out;
	}
	rc = 0;
out:
	EVP_MD_CTX_free(md);
	free(sig);
	json_decref(hdr);
	json_decref(pl);
	return rc;
}

/* The federated token file's content equals ${assertion}? */
static int
federated_match(const char *assertion)
{
	FILE *fp;
	char *buf;
	size_t n;
	int ok = 0;

	if (emu.cfg.federated_token_file == NULL)
		return 0;
	fp = fopen(emu.cfg.federated_token_file, "r");
	if (fp == NULL)
		return 0;
	buf = malloc(65536);
	if (buf != NULL) {
		n = fread(buf, 1, 65535, fp);
		while (n > 0 &&
		    (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
		        buf[n - 1] == ' '))
			n--;
		buf[n] = '\0';
		ok = n > 0 && strcmp(buf, assertion) == 0;
	}
	free(buf);
	fclose(fp);
	return ok;
}

static void
token_answer_v2(struct ctx *c)
{
	struct token *t = token_issue(emu.cfg.client_id, "Application");

	if (t == NULL) {
		aad_error(c, 500, "server_error", 90033, "Out of memory.");
		return;
	}
	ctx_json(c, 200,
	    json_pack("{s:s,s:i,s:i,s:s}", "token_type", "Bearer", "expires_in",
	        emu.cfg.token_ttl - 1, "ext_expires_in", emu.cfg.token_ttl - 1,
	        "access_token", t->value));
}

void
token_v2(struct ctx *c, const char *tenant)
{
	char *grant = NULL, *cid = NULL, *scope = NULL, *secret = NULL;
	char *atype = NULL, *assertion = NULL, why[256];
	int code;

	if (strcmp(c->method, "POST") != 0) {
		aad_error(c, 405, "invalid_request", 900561,
		    "The endpoint only accepts POST requests.");
		return;
	}
	if (strcasecmp(tenant, emu.cfg.tenant) != 0) {
		aad_error(c, 400, "invalid_request", 90002,
		    "Tenant '%s' not found.", tenant);
		return;
	}
	grant = emu_form_value(c->body, "grant_type");
	cid = emu_form_value(c->body, "client_id");
	scope = emu_form_value(c->body, "scope");
	secret = emu_form_value(c->body, "client_secret");
	atype = emu_form_value(c->body, "client_assertion_type");
	assertion = emu_form_value(c->body, "client_assertion");
	if (grant == NULL) {
		aad_error(c, 400, "invalid_request", 900144,
		    "The request body must contain the following parameter: "
		    "'grant_type'.");
	} else if (strcmp(grant, "client_credentials") != 0) {
		aad_error(c, 400, "unsupported_grant_type", 70003,
		    "The app requested an unsupported grant type.");
	} else if (cid == NULL) {
		aad_error(c, 400, "invalid_request", 900144,
		    "The request body must contain the following parameter: "
		    "'client_id'.");
	} else if (strcasecmp(cid, emu.cfg.client_id) != 0) {
		aad_error(c, 400, "unauthorized_client", 700016,
		    "Application with identifier '%s' was not found in the "
		    "directory '%s'.",
		    cid, emu.cfg.tenant);
	} else if (scope == NULL || strcmp(scope, EMU_SCOPE) != 0) {
		aad_error(c, 400, "invalid_scope", 1002012,
		    "The provided value for scope is not valid. Client "
		    "credential flows must have a scope value with /.default "
		    "suffixed to the resource identifier "
		    "(https://management.azure.com/.default).");
	} else if (secret != NULL) {
		if (strcmp(secret, emu.cfg.client_secret) != 0)
			aad_error(c, 401, "invalid_client", 7000215,
			    "Invalid client secret provided. Ensure the secret "
			    "being sent in the request is the client secret "
			    "value, not the client secret ID, for a secret "
			    "added to app '%s'.",
			    emu.cfg.client_id);
		else
			token_answer_v2(c);
	} else if (assertion != NULL) {
		if (atype == NULL || strcmp(atype, JWT_BEARER) != 0) {
			aad_error(c, 400, "invalid_request", 900144,
			    "client_assertion_type must be '" JWT_BEARER "'.");
		} else if (federated_match(assertion)) {
			token_answer_v2(c);
		} else if (emu.cert_pkey != NULL) {
			code = jwt_check(c, assertion, why, sizeof(why));
			if (code == 0)
				token_answer_v2(c);
			else
				aad_error(
				    c, 401, "invalid_client", code, "%s", why);
		} else if (emu.cfg.federated_token_file != NULL) {
			aad_error(c, 400, "invalid_client", 70021,
			    "No matching federated identity record found for "
			    "presented assertion.");
		} else {
			aad_error(c, 401, "invalid_client", 700027,
			    "Client assertion failed signature validation: no "
			    "certificate is registered for the app.");
		}
	} else {
		aad_error(c, 401, "invalid_client", 7000216,
		    "'client_assertion', 'client_secret' or 'request' is "
		    "required for the 'client_credentials' grant type.");
	}
	free(grant);
	free(cid);
	free(scope);
	free(secret);
	free(atype);
	free(assertion);
}

void
token_imds(struct ctx *c)
{
	const char *md = ctx_request_header(c, "Metadata");
	const char *res = ctx_query(c, "resource");
	const char *cid = ctx_query(c, "client_id");
	struct token *t;
	char exp_in[16], exp_on[24], nbf[24];
	time_t now = (time_t)emu_real_now();

	if (strcmp(c->method, "GET") != 0) {
		ctx_json(c, 405,
		    json_pack("{s:s,s:s}", "error", "invalid_request",
		        "error_description", "Only GET is supported"));
		return;
	}
	if (md == NULL || strcasecmp(md, "true") != 0) {
		ctx_json(c, 400,
		    json_pack("{s:s,s:s}", "error", "invalid_request",
		        "error_description",
		        "Required metadata header not specified"));
		return;
	}
	if (c->api_version == NULL) {
		ctx_json(c, 400,
		    json_pack("{s:s,s:s}", "error", "invalid_request",
		        "error_description",
		        "Required query variable 'api-version' is missing"));
		return;
	}
	if (res == NULL ||
	    (strcmp(res, EMU_RESOURCE) != 0 &&
	        strcmp(res, "https://management.azure.com") != 0)) {
		ctx_json(c, 400,
		    json_pack("{s:s,s:s}", "error", "invalid_resource",
		        "error_description",
		        "AADSTS500011: The resource principal was not found in "
		        "the tenant."));
		return;
	}
	t = token_issue(cid ? cid : "managed-identity", "ManagedIdentity");
	if (t == NULL) {
		ctx_json(c, 500, json_pack("{s:s}", "error", "server_error"));
		return;
	}
	snprintf(exp_in, sizeof(exp_in), "%d", emu.cfg.token_ttl - 1);
	snprintf(
	    exp_on, sizeof(exp_on), "%lld", (long long)now + emu.cfg.token_ttl);
	snprintf(nbf, sizeof(nbf), "%lld", (long long)now - 300);
	ctx_json(c, 200,
	    json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "access_token",
	        t->value, "client_id", cid ? cid : EMU_DEFAULT_CLIENT_ID,
	        "refresh_token", "", "expires_in", exp_in, "expires_on", exp_on,
	        "not_before", nbf, "resource", EMU_RESOURCE, "token_type",
	        "Bearer"));
}

static void
unauthorized(struct ctx *c, const char *code, const char *msg)
{
	ctx_arm_error(c, 401, code, "%s", msg);
	ctx_header(c, "WWW-Authenticate",
	    "Bearer authorization_uri=\"https://login.microsoftonline.com/"
	    "common\", error=\"invalid_token\", error_description=\"The "
	    "authentication failed because of missing 'Authorization' "
	    "header.\"");
}

int
token_check(
    struct ctx *c, char *who, size_t wholen, char *who_type, size_t typelen)
{
	const char *h = ctx_request_header(c, "Authorization");
	time_t now = (time_t)emu_real_now();
	size_t i;

	if (h == NULL) {
		unauthorized(c, "AuthenticationFailed",
		    "Authentication failed. The 'Authorization' header is "
		    "missing.");
		return -1;
	}
	if (strncasecmp(h, "Bearer ", 7) != 0) {
		unauthorized(c, "AuthenticationFailed",
		    "Authentication failed. The 'Authorization' header is "
		    "provided in an invalid format.");
		return -1;
	}
	h += 7;
	for (i = 0; i < emu.ntokens; i++) {
		if (strcmp(emu.tokens[i].value, h) != 0)
			continue;
		if (emu.tokens[i].expires <= now) {
			char when[40], msg[200];

			emu_format_time((double)emu.tokens[i].expires, 0, when,
			    sizeof(when));
			snprintf(msg, sizeof(msg),
			    "The access token expiry UTC time '%s' is earlier "
			    "than current UTC time.",
			    when);
			unauthorized(c, "ExpiredAuthenticationToken", msg);
			return -1;
		}
		snprintf(who, wholen, "%s", emu.tokens[i].identity);
		snprintf(who_type, typelen, "%s", emu.tokens[i].identity_type);
		return 0;
	}
	unauthorized(
	    c, "InvalidAuthenticationToken", "The access token is invalid.");
	return -1;
}
