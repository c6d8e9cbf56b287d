#ifndef AKSNAP_TOKEN_H
#define AKSNAP_TOKEN_H

/*
 * token.h -- bearer tokens for ARM (audience https://management.azure.com/).
 *
 * One provider per run, chosen by the configuration's `auth` (DESIGN.md
 * section 4): client secret, client certificate (an RS256 client assertion),
 * workload identity (a federated token file), managed identity (IMDS) or the
 * Azure CLI.  `auto` tries them in that order and logs (-v) which one it
 * used.  The token lives only in memory, is reused for the whole run and is
 * refreshed when under 2 minutes remain; it, the client secret and the
 * assertion never reach a log line or an error message.
 *
 * Settings come resolved (struct auth_inputs, job/rules/model.h): the
 * configuration and the environment (AZURE_*, CREDENTIALS_DIRECTORY, the az
 * on PATH) are merged in one place, config/env.c, and this module reads no
 * environment variable.  A client secret comes from the inputs' secret file
 * (refused when group or other may read it), else their AZURE_CLIENT_SECRET.
 */

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "job/rules/model.h"

struct http_client;
struct http_options;
struct token_provider;

#define TOKEN_RESOURCE "https://management.azure.com/"
#define TOKEN_SCOPE "https://management.azure.com/.default"
#define TOKEN_REFRESH_MARGIN 120 /* seconds left that trigger a refresh */

/*
 * token_provider_new(inputs, http_options):
 * A provider for ${inputs}' auth (copied, the secret too; ${inputs} need
 * not outlive the call).  Unset authority_host and imds_endpoint mean the
 * public cloud's.  It talks to AAD and IMDS through an HTTP client of its own,
 * made from ${http_options} (NULL for the defaults: the same CA file and
 * timeouts as ARM's client should be passed), so that a token fetched in
 * the middle of another client's request or batch never re-enters that
 * client.  Only local checks happen here (missing tenant or client id,
 * unreadable or group-readable secret file, no certificate); `auto` decides
 * on its first token_get.  Return NULL on failure (logged).  Wire it to
 * ARM's client with http_client_set_token_source(http, token_source_cb,
 * provider).
 */
struct token_provider *token_provider_new(
    const struct auth_inputs *inputs, const struct http_options *http_options);

/*
 * token_provider_free(tp): wipe the token from memory and release; NULL is
 * fine.
 */
void token_provider_free(struct token_provider *tp);

/*
 * token_get(tp, force_refresh, token):
 * Point ${*token} at a valid bearer token, owned by ${tp} and valid until
 * the next token_get or token_provider_free.  A cached token is returned
 * unless it has under TOKEN_REFRESH_MARGIN seconds left or ${force_refresh}.
 * Return 0, or -1 (logged, with AAD's or IMDS's error and
 * error_description).
 */
int token_get(struct token_provider *tp, int force_refresh, const char **token);

/* token_source_cb(ctx, force, token): token_get for
 * http_client_set_token_source. */
int token_source_cb(void *ctx, int force_refresh, const char **token);

/*
 * token_failure_transient(tp):
 * 1 when the last failed token_get failed for a reason that may pass by
 * itself (AAD or IMDS unreachable, timing out, or answering 408, 429 or
 * 5xx), 0 when it needs a person (refused credentials, a bad file, no
 * source).  For the exit code: 75 versus 1.
 */
int token_failure_transient(const struct token_provider *tp);

/*
 * token_failure_exit(tp):
 * The exit code (job/base/exit.h) the last failed token_get means before
 * anything started: EXIT_TEMP when it may pass by itself; EXIT_FAILED when
 * AAD or IMDS answered 200 with something we could not read; EXIT_USAGE
 * otherwise -- a configuration error: an identity Entra ID refuses
 * (invalid_client, unauthorized_client, AADSTS7000215, AADSTS700016,
 * AADSTS700027...), a TLS certificate that did not verify (ca_file), a
 * missing or unreadable credential, no source for auth = auto.
 */
int token_failure_exit(const struct token_provider *tp);

/*
 * token_provider_name(tp): "client-secret", "client-certificate",
 * "workload-identity", "managed-identity", "azure-cli", or "auto" while an
 * auto provider has not chosen yet.
 */
const char *token_provider_name(const struct token_provider *tp);

/*
 * token_provider_set_imds_retry(tp, attempts, base_delay_ms):
 * IMDS's own retry rules (404, 429, 5xx and connection errors retried,
 * other 4xx not): ${attempts} tries (default 5) with waits base, 2*base,
 * 4*base... (default base 2000 ms) unless IMDS sends Retry-After.  Tests
 * use small values.
 */
void token_provider_set_imds_retry(
    struct token_provider *tp, int attempts, int64_t base_delay_ms);

/*
 * Pure helpers, exported for tests.
 *
 * token_parse_response(body, now, token, expires_on, err, errlen):
 * Parse a token response: AAD v2 ({"access_token", "expires_in": 3599}),
 * IMDS (the same with numbers as strings, and "expires_on") or the Azure
 * CLI ({"accessToken", "expires_on": 1700000000} or only "expiresOn":
 * "2023-10-31 21:59:10.000000" in local time).  Set ${*token} (malloc'd,
 * caller wipes and frees) and ${*expires_on} (absolute).  An error body
 * ({"error", "error_description"}) or anything unparseable returns -1 with
 * the reason (never the token) in ${err}.
 */
int token_parse_response(const char *body, time_t now, char **token,
    time_t *expires_on, char *err, size_t errlen);

/*
 * token_describe_error(body, err, errlen):
 * "invalid_client: AADSTS7000215: Invalid client secret provided." from an
 * AAD or IMDS error body (the description cut at its first sentence or 200
 * characters), or "" when the body is not such an error.
 */
void token_describe_error(const char *body, char *err, size_t errlen);

/*
 * token_build_assertion(pem_path, client_id, aud, now, err, errlen):
 * An RS256 client assertion JWT signed with the RSA key in ${pem_path} (a
 * PEM file holding the certificate and its private key): header
 * {"alg":"RS256","typ":"JWT","x5t":<base64url SHA-1 of the DER
 * certificate>,"kid":<hex thumbprint>}, claims {"aud":${aud},
 * "iss":${client_id},"sub":${client_id},"jti":<uuid>,"nbf":${now},
 * "exp":${now}+600}.  Return the malloc'd JWT (caller wipes and frees) or
 * NULL with the reason in ${err}.
 */
char *token_build_assertion(const char *pem_path, const char *client_id,
    const char *aud, time_t now, char *err, size_t errlen);

/*
 * token_check_secret_file(path, err, errlen):
 * 0 when ${path} is a regular file that neither group nor other may read;
 * -1 with the path and mode (or the stat error) in ${err}.
 */
int token_check_secret_file(const char *path, char *err, size_t errlen);

/*
 * token_url(authority_host, tenant, out, outlen):
 * "{authority_host}/{tenant}/oauth2/v2.0/token" with exactly one slash at
 * the joint.  0, or -1 if it does not fit.
 */
int token_url(
    const char *authority_host, const char *tenant, char *out, size_t outlen);

#endif
