#ifndef AKSNAP_HTTP_H
#define AKSNAP_HTTP_H

/*
 * http.h -- the HTTP transport: the only module that calls libcurl.
 *
 * One client per process run.  It owns the curl handles (connections are
 * kept alive and reused, HTTP/2 when offered), verifies TLS always, refuses
 * plain http:// unless the host is loopback (or the request says the URL is
 * IMDS), caps every response body, retries what DESIGN.md section 7 says to
 * retry, and attaches a bearer token from its token source.  It knows
 * nothing of ARM's JSON: callers interpret statuses and bodies.
 */

#include <stddef.h>
#include <stdint.h>

#include "job/base/util.h"

struct http_client;

struct http_options {
	long long timeout_s; /* whole request, per attempt; default 60 */
	long long connect_timeout_s; /* default 10 */
	const char *ca_file; /* extra CA bundle added to the system's; NULL */
	size_t max_body; /* response cap; default 4 MiB (ARM's own cap) */
	int max_attempts; /* default 5 (1 = no retry) */
	int64_t max_total_wait_ms; /* bound on all backoff waits of one request;
	                              default 120000 */
	int64_t base_delay_ms; /* first backoff; default 800 */
	int64_t max_delay_ms; /* one wait at most; default 60000 */
};

#define HTTP_MAX_HEADERS 8
#define HTTP_MAX_REDACT 4

struct http_request {
	const char *method; /* "GET", "PUT", "PATCH", "DELETE", "POST" */
	const char *url;
	const char *body; /* NULL: no body */
	const char *content_type; /* NULL: application/json when body is set */
	const char
	    *headers[HTTP_MAX_HEADERS]; /* extra "Name: value", NULL-ended */
	int auth; /* attach "Authorization: Bearer" from the token source */
	int allow_plain_http; /* IMDS only: http:// to a non-loopback host is
	                         allowed */
	int no_retry; /* the caller applies its own retry rules */
	int quiet; /* a probe: a connection failure (or a body over the cap)
	              is logged at -v only */
	size_t max_body; /* this response's cap; 0 = the client's max_body */
	const char *
	    context; /* pool key (or "token", ...) for log lines; may be NULL */
	const char *throttle_key; /* requests sharing a key slow down together
	                             on 429; NULL */
	const char *redact[HTTP_MAX_REDACT]; /* strings never to print (secrets,
	                                        assertions) */
	int held; /* http_batch: sent only once http_batch_release names it */
};

struct http_response {
	long status; /* 0: no HTTP response (see error) */
	struct buf body; /* capped at max_body; overflow is an error */
	char request_id[128]; /* x-ms-request-id */
	char correlation_id[128]; /* x-ms-correlation-request-id */
	char client_request_id[40]; /* the x-ms-client-request-id we sent (last
	                               attempt) */
	char *async_operation; /* Azure-AsyncOperation header, or NULL */
	char *location; /* Location header, or NULL */
	int64_t retry_after_ms; /* Retry-After / x-ms-retry-after-ms, -1 if
	                           absent */
	long
	    ratelimit_remaining; /* x-ms-ratelimit-remaining-subscription-{reads,writes},
	                            -1 */
	int attempts; /* how many attempts were made */
	char error[256]; /* transport failure, when status == 0 or body
	                    overflowed */
	int tls_unverified; /* status 0 because the peer's certificate did
	                       not verify (a configuration error, see
	                       http_client_tls_failure) */
};

/* http_response_init(r): empty response; http_response_free(r) releases; both
 * NULL-safe. */
void http_response_init(struct http_response *r);
void http_response_free(struct http_response *r);

/*
 * http_client_new(opts):
 * A client with ${opts} (NULL or zero fields = defaults).  Return NULL on
 * failure (logged).  Free with http_client_free (NULL-safe).
 */
struct http_client *http_client_new(const struct http_options *opts);
void http_client_free(struct http_client *c);

/*
 * http_client_set_token_source(c, get, ctx):
 * ${get}(ctx, force_refresh, &token) returns 0 with a bearer token that
 * stays owned by the source, or -1 (already logged).  A 401 on an auth
 * request calls it once with force_refresh = 1 and retries once.
 */
void http_client_set_token_source(struct http_client *c,
    int (*get)(void *ctx, int force_refresh, const char **token), void *ctx);

/*
 * http_do(c, req, resp):
 * Perform ${req}, retrying 408, 429, 500, 502, 503, 504 and connection
 * errors with exponential backoff and jitter (honouring Retry-After and
 * x-ms-retry-after-ms) up to the client's bounds.  Return 0 when an HTTP
 * response was received (any status: the caller judges it) with ${resp}
 * filled (caller frees with http_response_free), or -1 when none was
 * (refused URL, connection errors to the end, body over the cap), with the
 * reason in resp->error (also logged with method and URL).
 */
int http_do(struct http_client *c, const struct http_request *req,
    struct http_response *resp);

/*
 * http_client_tls_failure(c):
 * The host whose TLS certificate failed verification in a request of ${c}
 * (the first one), or NULL when none did.  Such a failure is never retried
 * and is a configuration error (DESIGN.md section 7: exit 2, set ca_file),
 * not a temporary one; it was logged naming the host and ca_file.
 */
const char *http_client_tls_failure(const struct http_client *c);

/*
 * http_batch(c, reqs, resps, n, max_inflight, done, ctx):
 * Perform ${n} requests concurrently (curl multi), at most ${max_inflight}
 * at a time per throttle_key (the subscription; requests without a key
 * share one bound) and at most 256 in all, each with http_do's retry
 * rules.  A key answered 429 (or running low on
 * x-ms-ratelimit-remaining-*) slows down alone.  ${done}(ctx, i, rc) is
 * called in the calling thread as request i finishes (rc as http_do's);
 * it may consume and free resps[i].  Return 0 (individual failures are
 * reported through done), or -1 if the batch could not run at all.
 */
int http_batch(struct http_client *c, const struct http_request *reqs,
    struct http_response *resps, size_t n, int max_inflight,
    void (*done)(void *ctx, size_t i, int rc), void *ctx);

/*
 * http_batch_release(c, i):
 * From a done callback of the running http_batch: send request ${i} now,
 * as reqs[i] says at this moment -- one made with held = 1, or one that
 * has finished (its done callback returned, resps[i] freed), which is
 * sent again: a slot reused for the next request of the same throttle
 * key.  It goes ahead of first attempts not yet started.  A request still
 * held when nothing is in flight or waiting any more is dropped (never
 * sent, no callback): only a callback could have released it.  0, or -1
 * when there is no batch or ${i} is in flight or waiting already, or has
 * finished but its done callback has not run yet (a caller's bug: logged,
 * nothing changed; a debug build, make SAN=1, stops at an assertion).
 */
int http_batch_release(struct http_client *c, size_t i);

/*
 * Pure helpers, exported for tests.
 *
 * http_retryable_status(status): 1 for 408, 429, 500, 502, 503, 504.
 * http_parse_retry_after(value, now, out_ms): "120" or an HTTP-date; 0 or -1.
 * http_backoff_ms(opts, attempt, retry_after_ms, rnd): the wait before
 *   attempt ${attempt}+1 (attempt counts from 1); Retry-After wins when
 *   given; else base * 2^(attempt-1) with jitter from ${rnd} in [0,1),
 *   capped at max_delay_ms.
 * http_url_allowed(url, allow_plain, err, errlen): 0 when https, or http to
 *   a loopback host (or allow_plain); -1 with the reason.
 */
int http_retryable_status(long status);
int http_parse_retry_after(const char *value, time_t now, int64_t *out_ms);
int64_t http_backoff_ms(const struct http_options *opts, int attempt,
    int64_t retry_after_ms, double rnd);
int http_url_allowed(
    const char *url, int allow_plain, char *err, size_t errlen);

/*
 * http_redact(text, len, secrets, nsecrets):
 * A malloc'd, NUL-terminated copy of ${text} (${len} bytes) in which
 * "Authorization:" header values, "Bearer <token>", the values of JSON
 * and form fields that hold secrets, and every occurrence of the non-empty
 * strings in ${secrets} are replaced by "[redacted]".  NULL on ENOMEM.
 * Every -vv trace goes through it.
 */
char *http_redact(
    const char *text, size_t len, const char *const *secrets, size_t nsecrets);

#endif
